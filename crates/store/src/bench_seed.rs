//! Bulk data for `mamori bench`: a million findings in a minute or so, with multi-row INSERTs in
//! large transactions (the per-scan path, [`Store::record_results`], writes one row and one
//! event at a time and would take far longer), a fresh PostgreSQL database per run, and raw
//! reads of the job queue for the scheduling benchmark's checks. Not for production data: the
//! seeded findings have no history events and the exceptions were never requested through the
//! four-eyes flow.

use std::collections::HashMap;
use std::str::FromStr;

use jiff::Timestamp;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::model::{ScanRow, SCAN_COLS};
use crate::{now_us, ts, with_pool, Backend, Error, Result, Scan, Store};

/// What [`Store::seed_bench`] creates: `customers` × `tenants_per_customer` tenants (even ones
/// Microsoft 365, odd ones Google Workspace) with `findings_per_tenant` findings each.
#[derive(Debug, Clone)]
pub struct BenchSeed {
    pub customers: usize,
    pub tenants_per_customer: usize,
    pub findings_per_tenant: usize,
    /// Controls the Microsoft 365 tenants' findings are drawn from: (control id, severity).
    pub m365_controls: Vec<(String, String)>,
    /// The same for Google Workspace tenants.
    pub gws_controls: Vec<(String, String)>,
    /// The user recorded as requester and approver of the seeded exceptions.
    pub exception_user: i64,
    /// Seed of the generator (the same seed gives the same data).
    pub seed: u64,
}

/// What [`Store::seed_bench`] created.
#[derive(Debug, Clone, Default)]
pub struct BenchSeeded {
    pub customers: Vec<i64>,
    /// (customer id, tenant id), by customer then tenant.
    pub tenants: Vec<(i64, i64)>,
    pub findings: u64,
    /// Open or reopened.
    pub active: u64,
    /// Active and accepted by an approved exception.
    pub accepted: u64,
    pub exceptions: u64,
}

/// A job as the scheduling benchmark checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchJob {
    pub id: i64,
    pub tenant_id: i64,
    pub status: String,
    pub scheduled_for: Option<Timestamp>,
    pub attempts: i64,
    pub lease_owner: Option<String>,
    pub scan_id: Option<i64>,
    pub created_at: Timestamp,
}

/// Rows per multi-row INSERT: 1,000 × 13 columns stays under SQLite's 32,766 variables and
/// PostgreSQL's 65,535 parameters.
const ROWS_PER_INSERT: usize = 1000;
/// Findings per transaction.
const ROWS_PER_TX: usize = 100_000;

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// A value bound to a generated statement.
enum V {
    I(i64),
    N(Option<i64>),
    S(String),
}

/// `INSERT INTO table (cols) VALUES (...), (...)` for `rows` rows, with `suffix` appended.
/// Placeholders are `$n` on PostgreSQL and `?` on SQLite: binding numbered parameters costs
/// SQLite a linear search per parameter (sqlite3_bind_parameter_name), quadratic in a
/// statement of thousands of them.
fn insert_sql(backend: Backend, table: &str, cols: &[&str], rows: usize, suffix: &str) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols.len() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match backend {
                Backend::Postgres => sql.push_str(&format!("${n}")),
                Backend::Sqlite => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql.push_str(suffix);
    sql
}

const FINDING_INSERT_COLS: [&str; 13] = [
    "tenant_id",
    "control_id",
    "resource_key",
    "status",
    "severity",
    "severity_rank",
    "first_seen",
    "last_seen",
    "resolved_at",
    "first_scan_id",
    "last_scan_id",
    "reopen_count",
    "accepted_exception_id",
];

/// One tenant's plan: which controls fail tenant-wide, which name resources, and which carry
/// an approved exception.
struct TenantPlan {
    wide: Vec<usize>,
    per_resource: Vec<usize>,
    excepted: Vec<usize>,
}

fn plan_tenant(rng: &mut Rng, controls: usize, findings: usize) -> TenantPlan {
    let mut order: Vec<usize> = (0..controls).collect();
    // Partial Fisher-Yates: the first picks are a random sample.
    let picks = controls.min(80);
    for i in 0..picks {
        let j = i + rng.below((controls - i) as u64) as usize;
        order.swap(i, j);
    }
    let wide_n = (25 + rng.below(35) as usize)
        .min(picks.saturating_sub(8))
        .min(findings);
    let wide = order[..wide_n].to_vec();
    let per_resource: Vec<usize> = order[wide_n..picks.min(wide_n + 6)].to_vec();
    let mut excepted = Vec::new();
    if !wide.is_empty() {
        excepted.push(wide[rng.below(wide.len() as u64) as usize]);
    }
    if !per_resource.is_empty() && rng.below(4) == 0 {
        excepted.push(per_resource[rng.below(per_resource.len() as u64) as usize]);
    }
    TenantPlan {
        wide,
        per_resource,
        excepted,
    }
}

impl Store {
    /// Fills an empty database with benchmark data (see [`BenchSeed`]): customers, tenants
    /// (no credentials, no schedule), one succeeded scan per tenant, approved exceptions on one
    /// or two failing controls of each tenant, and the findings — about a quarter of them
    /// tenant-wide (resource ""), the rest on users of a few controls; ~68% open, ~20%
    /// resolved, ~12% reopened, seen over the last 30 days. PostgreSQL is `ANALYZE`d
    /// afterwards (as autovacuum would soon do); SQLite only when `analyze_sqlite`.
    pub async fn seed_bench(&self, spec: &BenchSeed, analyze_sqlite: bool) -> Result<BenchSeeded> {
        if spec.m365_controls.is_empty() || spec.gws_controls.is_empty() {
            return Err(Error::Invalid {
                field: "benchmark controls",
                value: "none given".into(),
            });
        }
        let now = now_us();
        let day: i64 = 86_400_000_000;
        let mut out = BenchSeeded::default();
        let begin = self.begin_write();

        // Customers and tenants, mapped back by their unique names.
        let customer_names: Vec<String> = (0..spec.customers)
            .map(|i| format!("Bench Customer {:05}", i + 1))
            .collect();
        let mut customer_ids: HashMap<String, i64> = HashMap::new();
        for chunk in customer_names.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                self.backend(),
                "customers",
                &["name", "name_ja", "time_zone", "created_at"],
                chunk.len(),
                " RETURNING id, name",
            );
            let rows: Vec<(i64, String)> = with_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for name in chunk {
                    q = q
                        .bind(name.as_str())
                        .bind(format!("ベンチ顧客 {}", &name[15..]))
                        .bind("Asia/Tokyo")
                        .bind(now - 400 * day);
                }
                q.fetch_all(pool).await?
            });
            customer_ids.extend(rows.into_iter().map(|(id, name)| (name, id)));
        }
        out.customers = customer_names.iter().map(|n| customer_ids[n]).collect();

        let mut tenant_specs: Vec<(i64, &'static str, String)> = Vec::new();
        for (ci, &cid) in out.customers.iter().enumerate() {
            for ti in 0..spec.tenants_per_customer {
                let (app, domain) = if ti % 2 == 0 {
                    ("m365", format!("c{:05}t{ti}.onmicrosoft.com", ci + 1))
                } else {
                    ("gws", format!("c{:05}t{ti}.example.jp", ci + 1))
                };
                tenant_specs.push((cid, app, domain));
            }
        }
        let mut tenant_ids: HashMap<String, i64> = HashMap::new();
        for chunk in tenant_specs.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                self.backend(),
                "tenants",
                &[
                    "customer_id",
                    "app",
                    "display_name",
                    "schedule_time_zone",
                    "created_at",
                ],
                chunk.len(),
                " RETURNING id, display_name",
            );
            let rows: Vec<(i64, String)> = with_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for (cid, app, name) in chunk {
                    q = q.bind(*cid).bind(*app).bind(name.as_str()).bind("Asia/Tokyo").bind(now - 365 * day);
                }
                q.fetch_all(pool).await?
            });
            tenant_ids.extend(rows.into_iter().map(|(id, name)| (name, id)));
        }
        let tenants: Vec<(i64, i64, &'static str)> = tenant_specs
            .iter()
            .map(|(cid, app, name)| (*cid, tenant_ids[name], *app))
            .collect();
        out.tenants = tenants.iter().map(|(c, t, _)| (*c, *t)).collect();

        // One succeeded scan per tenant (the findings' first and last scan).
        let mut scan_of: HashMap<i64, i64> = HashMap::new();
        for chunk in tenants.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                self.backend(),
                "scans",
                &[
                    "tenant_id",
                    "status",
                    "created_at",
                    "started_at",
                    "finished_at",
                    "request_count",
                ],
                chunk.len(),
                " RETURNING id, tenant_id",
            );
            let rows: Vec<(i64, i64)> = with_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for (_, tid, _) in chunk {
                    q = q.bind(*tid).bind("succeeded").bind(now - day).bind(now - day).bind(now - day + 60_000_000).bind(250i64);
                }
                q.fetch_all(pool).await?
            });
            scan_of.extend(rows.into_iter().map(|(id, tid)| (tid, id)));
        }

        // Plans, then the exceptions they call for.
        let mut rng = Rng(spec.seed ^ 0x6D61_6D6F_7269);
        let plans: Vec<TenantPlan> = tenants
            .iter()
            .map(|(_, _, app)| {
                let n = if *app == "m365" {
                    spec.m365_controls.len()
                } else {
                    spec.gws_controls.len()
                };
                plan_tenant(&mut rng, n, spec.findings_per_tenant)
            })
            .collect();
        let controls_of = |app: &str| {
            if app == "m365" {
                &spec.m365_controls
            } else {
                &spec.gws_controls
            }
        };
        let mut wanted: Vec<(i64, String)> = Vec::new();
        for ((_, tid, app), plan) in tenants.iter().zip(&plans) {
            for &c in &plan.excepted {
                wanted.push((*tid, controls_of(app)[c].0.clone()));
            }
        }
        let mut exception_ids: HashMap<(i64, String), i64> = HashMap::new();
        for chunk in wanted.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(
                self.backend(),
                "exceptions",
                &[
                    "tenant_id",
                    "control_id",
                    "reason",
                    "requested_by",
                    "requested_at",
                    "decided_by",
                    "decided_at",
                    "decision_note",
                    "status",
                    "expires_at",
                ],
                chunk.len(),
                " RETURNING id, tenant_id, control_id",
            );
            let rows: Vec<(i64, i64, String)> = with_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for (tid, control) in chunk {
                    q = q
                        .bind(*tid)
                        .bind(control.as_str())
                        .bind("Compensating control in place (benchmark data)")
                        .bind(spec.exception_user)
                        .bind(now - 20 * day)
                        .bind(spec.exception_user)
                        .bind(now - 19 * day)
                        .bind("approved for the benchmark")
                        .bind("approved")
                        .bind(now + 180 * day);
                }
                q.fetch_all(pool).await?
            });
            for (id, tid, control) in rows {
                exception_ids.insert((tid, control), id);
            }
        }
        out.exceptions = exception_ids.len() as u64;

        // The findings, generated tenant by tenant and written in large transactions.
        let mut batch: Vec<[V; 13]> = Vec::with_capacity(ROWS_PER_TX);
        for ((_, tid, app), plan) in tenants.iter().zip(&plans) {
            let controls = controls_of(app);
            let scan = scan_of[tid];
            for i in 0..spec.findings_per_tenant {
                let (control, resource) = if i < plan.wide.len() {
                    (plan.wide[i], String::new())
                } else if plan.per_resource.is_empty() {
                    (
                        plan.wide[i % plan.wide.len().max(1)],
                        format!("resource-{i:04}"),
                    )
                } else {
                    // Skewed: the first resource control (MFA, say) names most users.
                    let k = plan.per_resource.len() as u64;
                    let pick = (rng.below(k * k) as f64).sqrt() as usize;
                    let c = plan.per_resource[(plan.per_resource.len() - 1).saturating_sub(pick)];
                    (c, format!("user{i:04}@t{tid}.example.jp"))
                };
                let (control_id, severity) = &controls[control];
                let roll = rng.below(100);
                let (status, reopen_count) = if roll < 68 {
                    ("open", 0)
                } else if roll < 88 {
                    ("resolved", 0)
                } else {
                    ("reopened", 1 + rng.below(3) as i64)
                };
                let last_seen = now - rng.below(30 * day as u64) as i64;
                let first_seen = last_seen - rng.below(180 * day as u64) as i64;
                let resolved_at = (status == "resolved").then(|| last_seen + 3_600_000_000);
                let accepted = if status != "resolved" && plan.excepted.contains(&control) {
                    exception_ids.get(&(*tid, control_id.clone())).copied()
                } else {
                    None
                };
                out.findings += 1;
                if status != "resolved" {
                    out.active += 1;
                    if accepted.is_some() {
                        out.accepted += 1;
                    }
                }
                batch.push([
                    V::I(*tid),
                    V::S(control_id.clone()),
                    V::S(resource),
                    V::S(status.into()),
                    V::S(severity.clone()),
                    V::I(severity.parse().map_or(5, mamori_core::Severity::rank)),
                    V::I(first_seen),
                    V::I(last_seen),
                    V::N(resolved_at),
                    V::I(scan),
                    V::I(scan),
                    V::I(reopen_count),
                    V::N(accepted),
                ]);
            }
            if batch.len() >= ROWS_PER_TX {
                self.insert_findings(begin, &batch).await?;
                batch.clear();
            }
        }
        if !batch.is_empty() {
            self.insert_findings(begin, &batch).await?;
        }
        if self.backend() == Backend::Postgres || analyze_sqlite {
            with_pool!(self, pool => {
                sqlx::query("ANALYZE").execute(pool).await?;
            });
        }
        Ok(out)
    }

    async fn insert_findings(&self, begin: &'static str, rows: &[[V; 13]]) -> Result<()> {
        let full = insert_sql(
            self.backend(),
            "findings",
            &FINDING_INSERT_COLS,
            ROWS_PER_INSERT,
            "",
        );
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let partial;
                let sql = if chunk.len() == ROWS_PER_INSERT {
                    &full
                } else {
                    partial = insert_sql(self.backend(), "findings", &FINDING_INSERT_COLS, chunk.len(), "");
                    &partial
                };
                let mut q = sqlx::query(sql);
                for row in chunk {
                    for v in row {
                        q = match v {
                            V::I(x) => q.bind(*x),
                            V::N(x) => q.bind(*x),
                            V::S(x) => q.bind(x.as_str()),
                        };
                    }
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Runs `sql` (one or more statements) as is: what-if experiments on a benchmark
    /// database, such as a candidate index (`mamori bench --api --after-seed-sql`).
    pub async fn bench_execute(&self, sql: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::raw_sql(sql).execute(pool).await?;
        });
        Ok(())
    }

    /// Every job, by id (for the scheduling benchmark's checks).
    pub async fn bench_jobs(&self) -> Result<Vec<BenchJob>> {
        type Row = (
            i64,
            i64,
            String,
            Option<i64>,
            i64,
            Option<String>,
            Option<i64>,
            i64,
        );
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, tenant_id, status, scheduled_for, attempts, lease_owner, scan_id, created_at FROM jobs ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    tenant_id,
                    status,
                    scheduled_for,
                    attempts,
                    lease_owner,
                    scan_id,
                    created_at,
                )| BenchJob {
                    id,
                    tenant_id,
                    status,
                    scheduled_for: scheduled_for.map(ts),
                    attempts,
                    lease_owner,
                    scan_id,
                    created_at: ts(created_at),
                },
            )
            .collect())
    }

    /// Every scan, by id (for the scheduling benchmark's checks).
    pub async fn bench_scans(&self) -> Result<Vec<Scan>> {
        let sql = format!("SELECT {SCAN_COLS} FROM scans ORDER BY id");
        let rows: Vec<ScanRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Creates the PostgreSQL database `name` (letters, digits and `_`) through `admin_url` (a
    /// database the user may connect to, with the right to create databases) and returns the
    /// URL of the new database.
    pub async fn create_bench_database(admin_url: &str, name: &str) -> Result<String> {
        check_db_name(name)?;
        let mut conn = PgConnectOptions::from_str(admin_url)?.connect().await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(replace_database(admin_url, name))
    }

    /// Drops the database `name` made by [`Store::create_bench_database`], disconnecting
    /// whoever is still connected.
    pub async fn drop_bench_database(admin_url: &str, name: &str) -> Result<()> {
        check_db_name(name)?;
        let mut conn = PgConnectOptions::from_str(admin_url)?.connect().await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }
}

fn check_db_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() < 60
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: "benchmark database name",
            value: name.to_string(),
        })
    }
}

/// `postgres://user@host:port/old?x=y` with the database replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_in_url_is_replaced() {
        assert_eq!(
            replace_database("postgres://u@h:5/postgres?sslmode=disable", "b_1"),
            "postgres://u@h:5/b_1?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://u@h", "b"), "postgres://u@h/b");
        assert!(check_db_name("mamori_bench_12").is_ok());
        assert!(check_db_name("x; DROP").is_err());
    }

    #[test]
    fn plans_are_distinct_controls() {
        let mut rng = Rng(1);
        for _ in 0..100 {
            let p = plan_tenant(&mut rng, 130, 200);
            let mut all: Vec<usize> = p.wide.iter().chain(&p.per_resource).copied().collect();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), p.wide.len() + p.per_resource.len());
            assert!(!p.per_resource.is_empty());
        }
    }
}
