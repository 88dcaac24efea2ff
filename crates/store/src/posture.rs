//! What the dashboard and API read, scoped to what the caller may see: customers, tenants and
//! scans; findings (views, paging, history); risk acceptance (exceptions); posture scores; the
//! tenant overview.
//!
//! Every function taking a [`Scope`] filters in SQL (`t.customer_id = $n`, or `($n IS NULL OR
//! t.customer_id = $n)` where one row is looked up by id), so an id outside the scope is
//! indistinguishable from a missing one. Listings of big tables include only the conditions
//! given (see `crate::filter`), so each shape is planned with its indexes.

use std::collections::BTreeMap;

use jiff::Timestamp;
use mamori_core::Severity;
use serde::{Deserialize, Serialize};

use crate::model::{
    CustomerRow, FindingRow, ScanRow, TenantRow, CUSTOMER_COLS, SCAN_COLS, TENANT_COLS,
};
use crate::{
    clamp_limit, filter, is_foreign_key_violation, is_unique_violation, now_us, ts, with_pool, App,
    Customer, Error, Finding, FindingStatus, Result, Scan, Scope, Store, Tenant,
};

/// The longest an exception may run: 366 days.
pub const MAX_EXCEPTION_DAYS: i64 = 366;

/// Columns of `tenants` prefixed with `t.` (for joins); the same as `TENANT_COLS`.
const TENANT_COLS_T: &str = "t.id, t.customer_id, t.app, t.display_name, \
    CAST(CASE WHEN t.credentials_ciphertext IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_credentials, \
    t.credentials_key_id, t.schedule_cron, t.schedule_time_zone, t.created_at";

// ---------------------------------------------------------------------------------------------
// Findings

/// A finding with what a listing shows next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingView {
    pub finding: Finding,
    pub customer_id: i64,
    pub customer_name: String,
    pub tenant_name: String,
    pub app: App,
    /// The approved exception that accepts this finding's risk, while it does.
    pub accepted_exception_id: Option<i64>,
}

/// Filters and paging of [`Store::list_findings`]. `Default`: everything in [`Scope::All`],
/// 50 per page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingQuery {
    pub scope: Scope,
    pub customer_id: Option<i64>,
    pub tenant_id: Option<i64>,
    pub status: Option<FindingStatus>,
    /// Only open or reopened findings.
    pub active_only: bool,
    pub severity: Option<Severity>,
    /// Prefix of the control id ("MS.AAD." matches every Entra ID control).
    pub control: Option<String>,
    /// `Some(true)`: only findings accepted by an exception; `Some(false)`: only the others.
    pub accepted: Option<bool>,
    /// Page size, clamped to 1..=500.
    pub limit: i64,
    pub offset: i64,
}

impl Default for FindingQuery {
    fn default() -> Self {
        FindingQuery {
            scope: Scope::All,
            customer_id: None,
            tenant_id: None,
            status: None,
            active_only: false,
            severity: None,
            control: None,
            accepted: None,
            limit: 50,
            offset: 0,
        }
    }
}

/// One page of a listing: `total` counts every match, `items` holds at most `limit` of them
/// from `offset` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many rows match, counted up to [`COUNT_CAP`]; see `total_exact`.
    pub total: i64,
    /// False when more than [`COUNT_CAP`] rows match: `total` is then `COUNT_CAP` and is shown
    /// as "10,000+".
    pub total_exact: bool,
    pub limit: i64,
    pub offset: i64,
}

/// Listings count their matches up to this many. An exact count is linear in the matches — a
/// million rows for an operator's unfiltered page, 120–250 ms on PostgreSQL per request — and
/// nobody pages through more than ten thousand findings; they filter.
pub const COUNT_CAP: i64 = 10_000;

impl<T> Page<T> {
    /// Whether a page follows this one.
    pub fn has_more(&self) -> bool {
        let end = self.offset + self.items.len() as i64;
        end < self.total || (!self.total_exact && self.items.len() as i64 == self.limit)
    }
}

/// One change in a finding's life: opened, resolved, reopened, accepted by an exception, no
/// longer accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingEvent {
    pub at: Timestamp,
    /// The scan that caused it (`None` for exception decisions and expiry).
    pub scan_id: Option<i64>,
    pub from_status: Option<FindingStatus>,
    pub to_status: FindingStatus,
    pub note: String,
}

#[derive(sqlx::FromRow)]
struct FindingViewRow {
    #[sqlx(flatten)]
    finding: FindingRow,
    customer_id: i64,
    customer_name: String,
    tenant_name: String,
    app: String,
}

impl TryFrom<FindingViewRow> for FindingView {
    type Error = Error;
    fn try_from(r: FindingViewRow) -> Result<Self> {
        let accepted_exception_id = r.finding.accepted_exception_id;
        Ok(FindingView {
            finding: r.finding.try_into()?,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            tenant_name: r.tenant_name,
            app: r.app.parse()?,
            accepted_exception_id,
        })
    }
}

const FINDING_VIEW_SELECT: &str = "SELECT f.id, f.tenant_id, f.control_id, f.resource_key, f.status, \
    f.severity, f.first_seen, f.last_seen, f.resolved_at, f.first_scan_id, f.last_scan_id, f.reopen_count, \
    f.accepted_exception_id, t.customer_id, c.name AS customer_name, t.display_name AS tenant_name, t.app \
    FROM findings f JOIN tenants t ON t.id = f.tenant_id JOIN customers c ON c.id = t.customer_id";

#[derive(sqlx::FromRow)]
struct FindingEventRow {
    at: i64,
    scan_id: Option<i64>,
    from_status: Option<String>,
    to_status: String,
    note: String,
}

/// A value bound to a dynamically built `WHERE`.
enum Arg {
    Int(i64),
    Text(String),
}

// ---------------------------------------------------------------------------------------------
// Exceptions

mamori_core::text_enum! {
    /// Where an exception is in its life.
    pub enum ExceptionStatus("exception status") {
        Requested = "requested",
        Approved = "approved",
        Rejected = "rejected",
        Expired = "expired",
        Revoked = "revoked",
    }
}

/// A risk acceptance: while approved and unexpired, the tenant's active findings of the control
/// (on the resource, or on any resource when `resource_key` is `None`) count as accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    pub control_id: String,
    /// `None`: every resource of the control.
    pub resource_key: Option<String>,
    pub reason: String,
    pub requested_by: i64,
    pub requested_at: Timestamp,
    pub decided_by: Option<i64>,
    pub decided_at: Option<Timestamp>,
    pub decision_note: String,
    pub status: ExceptionStatus,
    pub expires_at: Timestamp,
    /// Set when it expired: someone should look at the findings it accepted.
    pub needs_review: bool,
    pub revoked_by: Option<i64>,
    pub revoked_at: Option<Timestamp>,
}

/// An exception to request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewException {
    pub tenant_id: i64,
    pub control_id: String,
    pub resource_key: Option<String>,
    pub reason: String,
    pub expires_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct ExceptionRow {
    id: i64,
    tenant_id: i64,
    customer_id: i64,
    control_id: String,
    resource_key: Option<String>,
    reason: String,
    requested_by: i64,
    requested_at: i64,
    decided_by: Option<i64>,
    decided_at: Option<i64>,
    decision_note: String,
    status: String,
    expires_at: i64,
    needs_review: bool,
    revoked_by: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<ExceptionRow> for Exception {
    type Error = Error;
    fn try_from(r: ExceptionRow) -> Result<Self> {
        Ok(Exception {
            id: r.id,
            tenant_id: r.tenant_id,
            customer_id: r.customer_id,
            control_id: r.control_id,
            resource_key: r.resource_key,
            reason: r.reason,
            requested_by: r.requested_by,
            requested_at: ts(r.requested_at),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(ts),
            decision_note: r.decision_note,
            status: r.status.parse()?,
            expires_at: ts(r.expires_at),
            needs_review: r.needs_review,
            revoked_by: r.revoked_by,
            revoked_at: r.revoked_at.map(ts),
        })
    }
}

const EXCEPTION_SELECT: &str = "SELECT e.id, e.tenant_id, t.customer_id, e.control_id, e.resource_key, \
    e.reason, e.requested_by, e.requested_at, e.decided_by, e.decided_at, e.decision_note, e.status, \
    e.expires_at, e.needs_review, e.revoked_by, e.revoked_at \
    FROM exceptions e JOIN tenants t ON t.id = e.tenant_id";

/// One event per finding accepted by exception `$1`: at `$2`, to status `$3` (`NULL`: unchanged),
/// note `$4`.
const EVENT_INSERT_FOR_EXCEPTION: &str =
    "INSERT INTO finding_events (finding_id, scan_id, at, from_status, to_status, note) \
     SELECT id, NULL, $2, status, COALESCE($3, status), $4 FROM findings WHERE accepted_exception_id = $1";

// ---------------------------------------------------------------------------------------------
// Scores

/// A score to record for a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreInput {
    /// "overall", "app" or "framework".
    pub kind: String,
    /// "" for overall; the app ("m365") or the framework ("cis-m365-v5").
    pub key: String,
    /// 0 to 100.
    pub score: f64,
    pub passed: i64,
    pub failed: i64,
    pub accepted: i64,
    pub errors: i64,
}

/// A recorded score of a tenant's scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScorePoint {
    pub tenant_id: i64,
    pub scan_id: i64,
    /// When the scan ran (its start).
    pub at: Timestamp,
    pub kind: String,
    pub key: String,
    pub score: f64,
    pub passed: i64,
    pub failed: i64,
    pub accepted: i64,
    pub errors: i64,
}

#[derive(sqlx::FromRow)]
struct ScoreRow {
    tenant_id: i64,
    scan_id: i64,
    at: i64,
    kind: String,
    key: String,
    score: f64,
    passed: i64,
    failed: i64,
    accepted: i64,
    errors: i64,
}

impl From<ScoreRow> for ScorePoint {
    fn from(r: ScoreRow) -> Self {
        ScorePoint {
            tenant_id: r.tenant_id,
            scan_id: r.scan_id,
            at: ts(r.at),
            kind: r.kind,
            key: r.key,
            score: r.score,
            passed: r.passed,
            failed: r.failed,
            accepted: r.accepted,
            errors: r.errors,
        }
    }
}

const SCORE_COLS_S: &str = "s.tenant_id, s.scan_id, s.at, s.kind, s.key, s.score, s.passed, \
    s.failed, s.accepted, s.errors";

/// The kinds of score.
pub const SCORE_KINDS: [&str; 3] = ["overall", "app", "framework"];

// ---------------------------------------------------------------------------------------------
// Overview

/// One tenant on the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantOverview {
    pub tenant: Tenant,
    pub customer_name: String,
    /// The customer's Japanese name, when it has one.
    pub customer_name_ja: Option<String>,
    /// The tenant's newest scan, whatever its status.
    pub last_scan: Option<Scan>,
    /// The newest overall score.
    pub score: Option<f64>,
    /// Active (open or reopened), unaccepted findings per severity.
    pub active_by_severity: BTreeMap<Severity, i64>,
}

#[derive(sqlx::FromRow)]
struct OverviewRow {
    #[sqlx(flatten)]
    tenant: TenantRow,
    customer_name: String,
    customer_name_ja: Option<String>,
    scan_id: Option<i64>,
    scan_status: Option<String>,
    scan_created_at: Option<i64>,
    scan_started_at: Option<i64>,
    scan_finished_at: Option<i64>,
    scan_request_count: Option<i64>,
    scan_error: Option<String>,
    score: Option<f64>,
}

// ---------------------------------------------------------------------------------------------

impl Store {
    // ---- scoped reads of customers, tenants, scans ----

    /// Customers visible in the scope, by name.
    pub async fn list_customers_scoped(&self, scope: Scope) -> Result<Vec<Customer>> {
        let sql = format!(
            "SELECT {CUSTOMER_COLS} FROM customers WHERE ($1 IS NULL OR id = $1) ORDER BY name, id"
        );
        let rows: Vec<CustomerRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn get_customer_scoped(&self, scope: Scope, id: i64) -> Result<Option<Customer>> {
        let sql = format!(
            "SELECT {CUSTOMER_COLS} FROM customers WHERE id = $1 AND ($2 IS NULL OR id = $2)"
        );
        let row: Option<CustomerRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_optional(pool).await?
        });
        Ok(row.map(Into::into))
    }

    /// Tenants visible in the scope, of one customer or all.
    pub async fn list_tenants_scoped(
        &self,
        scope: Scope,
        customer_id: Option<i64>,
    ) -> Result<Vec<Tenant>> {
        let sql = format!(
            "SELECT {TENANT_COLS} FROM tenants WHERE ($1 IS NULL OR customer_id = $1) \
             AND ($2 IS NULL OR customer_id = $2) ORDER BY customer_id, id"
        );
        let rows: Vec<TenantRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).bind(customer_id).fetch_all(pool).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn get_tenant_scoped(&self, scope: Scope, id: i64) -> Result<Option<Tenant>> {
        let sql = format!(
            "SELECT {TENANT_COLS} FROM tenants WHERE id = $1 AND ($2 IS NULL OR customer_id = $2)"
        );
        let row: Option<TenantRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// The newest `limit` (1 to 1000) scans visible in the scope, of one tenant or all; newest
    /// first.
    pub async fn list_scans_scoped(
        &self,
        scope: Scope,
        tenant_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Scan>> {
        let sql = format!(
            "SELECT {SCAN_COLS} FROM scans WHERE {} AND {} ORDER BY id DESC LIMIT $3",
            filter(tenant_id.is_some(), "$1", "tenant_id = $1"),
            filter(
                scope.customer().is_some(),
                "$2",
                "tenant_id IN (SELECT id FROM tenants WHERE customer_id = $2)"
            )
        );
        let rows: Vec<ScanRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(scope.customer())
                .bind(clamp_limit(limit, 1000))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn get_scan_scoped(&self, scope: Scope, id: i64) -> Result<Option<Scan>> {
        let sql = format!(
            "SELECT {SCAN_COLS} FROM scans WHERE id = $1 \
             AND ($2 IS NULL OR tenant_id IN (SELECT id FROM tenants WHERE customer_id = $2))"
        );
        let row: Option<ScanRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// The customer of a tenant, if the tenant is visible in the scope.
    async fn tenant_customer(&self, scope: Scope, tenant_id: i64) -> Result<Option<i64>> {
        let c: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT customer_id FROM tenants WHERE id = $1 AND ($2 IS NULL OR customer_id = $2)")
                .bind(tenant_id)
                .bind(scope.customer())
                .fetch_optional(pool)
                .await?
        });
        Ok(c)
    }

    // ---- findings ----

    /// One page of findings matching the query, ordered by severity (critical, high, medium,
    /// low, info, other), then last seen (newest first), then id. `total` counts every match.
    ///
    /// Built for large installs (a million findings): the order is an index
    /// (`findings_order`, on the stored severity rank), a customer's or tenant's findings are
    /// reached through `tenants_customer` and the findings' tenant indexes, and only the
    /// filters given appear in the SQL (so PostgreSQL plans each shape for what it is).
    pub async fn list_findings(&self, q: &FindingQuery) -> Result<Page<FindingView>> {
        let limit = clamp_limit(q.limit, 500);
        let offset = q.offset.max(0);
        let mut conds: Vec<String> = Vec::new();
        let mut args: Vec<Arg> = Vec::new();
        let mut push = |cond: &str, arg: Option<Arg>| {
            match arg {
                Some(a) => {
                    args.push(a);
                    conds.push(cond.replace("$?", &format!("${}", args.len())));
                }
                None => conds.push(cond.to_string()),
            };
        };
        let mut needs_tenant = false;
        if let Some(c) = q.scope.customer() {
            push("t.customer_id = $?", Some(Arg::Int(c)));
            needs_tenant = true;
        }
        if let Some(c) = q.customer_id {
            push("t.customer_id = $?", Some(Arg::Int(c)));
            needs_tenant = true;
        }
        if let Some(t) = q.tenant_id {
            push("f.tenant_id = $?", Some(Arg::Int(t)));
        }
        if let Some(s) = q.status {
            push("f.status = $?", Some(Arg::Text(s.as_str().into())));
        }
        if q.active_only {
            push("f.status IN ('open', 'reopened')", None);
        }
        if let Some(s) = q.severity {
            push("f.severity = $?", Some(Arg::Text(s.as_str().into())));
        }
        if let Some(c) = q.control.as_deref().filter(|c| !c.is_empty()) {
            // substr/length rather than LIKE: LIKE ignores case on SQLite only, and needs escapes.
            let n = args.len() + 1;
            args.push(Arg::Text(c.to_string()));
            conds.push(format!("substr(f.control_id, 1, length(${n})) = ${n}"));
        }
        match q.accepted {
            Some(true) => conds.push("f.accepted_exception_id IS NOT NULL".into()),
            Some(false) => conds.push("f.accepted_exception_id IS NULL".into()),
            None => {}
        }
        let where_sql = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        let join = if needs_tenant {
            " JOIN tenants t ON t.id = f.tenant_id"
        } else {
            ""
        };
        let count_sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM findings f{join}{where_sql} LIMIT {}) capped",
            COUNT_CAP + 1
        );
        let n = args.len();
        let page_sql = format!(
            "{FINDING_VIEW_SELECT}{where_sql} ORDER BY f.severity_rank, f.last_seen DESC, f.id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let (total, rows): (i64, Vec<FindingViewRow>) = with_pool!(self, pool => {
            let mut count = sqlx::query_scalar(&count_sql);
            let mut page = sqlx::query_as(&page_sql);
            for a in &args {
                match a {
                    Arg::Int(v) => {
                        count = count.bind(*v);
                        page = page.bind(*v);
                    }
                    Arg::Text(v) => {
                        count = count.bind(v.as_str());
                        page = page.bind(v.as_str());
                    }
                }
            }
            let total: i64 = count.fetch_one(pool).await?;
            let rows = page.bind(limit).bind(offset).fetch_all(pool).await?;
            (total, rows)
        });
        Ok(Page {
            items: rows
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_>>()?,
            total: total.min(COUNT_CAP),
            total_exact: total <= COUNT_CAP,
            limit,
            offset,
        })
    }

    pub async fn get_finding(&self, scope: Scope, id: i64) -> Result<Option<FindingView>> {
        let sql =
            format!("{FINDING_VIEW_SELECT} WHERE f.id = $1 AND ($2 IS NULL OR t.customer_id = $2)");
        let row: Option<FindingViewRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// The finding's events, oldest first (empty when it is missing or out of scope).
    pub async fn finding_history(&self, scope: Scope, id: i64) -> Result<Vec<FindingEvent>> {
        let rows: Vec<FindingEventRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT e.at, e.scan_id, e.from_status, e.to_status, e.note FROM finding_events e \
                 JOIN findings f ON f.id = e.finding_id JOIN tenants t ON t.id = f.tenant_id \
                 WHERE e.finding_id = $1 AND ($2 IS NULL OR t.customer_id = $2) ORDER BY e.at, e.id",
            )
            .bind(id)
            .bind(scope.customer())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(FindingEvent {
                    at: ts(r.at),
                    scan_id: r.scan_id,
                    from_status: r.from_status.map(|s| s.parse()).transpose()?,
                    to_status: r.to_status.parse()?,
                    note: r.note,
                })
            })
            .collect()
    }

    /// Active (open or reopened), unaccepted findings per tenant and severity, in the scope
    /// (of one tenant or all): `(tenant_id, severity, count)` by tenant and severity rank.
    pub async fn severity_counts(
        &self,
        scope: Scope,
        tenant_id: Option<i64>,
    ) -> Result<Vec<(i64, Severity, i64)>> {
        self.severity_counts_of(scope, None, tenant_id).await
    }

    async fn severity_counts_of(
        &self,
        scope: Scope,
        customer_id: Option<i64>,
        tenant_id: Option<i64>,
    ) -> Result<Vec<(i64, Severity, i64)>> {
        // The WHERE on status and acceptance is the partial index findings_active's, word for
        // word, so SQLite uses it too.
        let sql = format!(
            "SELECT f.tenant_id, f.severity, COUNT(*) FROM findings f \
             WHERE f.status IN ('open', 'reopened') AND f.accepted_exception_id IS NULL \
             AND {} AND {} AND {} GROUP BY f.tenant_id, f.severity",
            filter(tenant_id.is_some(), "$1", "f.tenant_id = $1"),
            filter(
                scope.customer().is_some(),
                "$2",
                "f.tenant_id IN (SELECT id FROM tenants WHERE customer_id = $2)"
            ),
            filter(
                customer_id.is_some(),
                "$3",
                "f.tenant_id IN (SELECT id FROM tenants WHERE customer_id = $3)"
            ),
        );
        let rows: Vec<(i64, String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
            .bind(tenant_id)
            .bind(scope.customer())
            .bind(customer_id)
            .fetch_all(pool)
            .await?
        });
        let mut rows = rows
            .into_iter()
            .map(|(tenant, severity, n)| Ok((tenant, severity.parse()?, n)))
            .collect::<Result<Vec<(i64, Severity, i64)>>>()?;
        rows.sort_unstable_by_key(|&(tenant, severity, _)| (tenant, severity.rank()));
        Ok(rows)
    }

    // ---- exceptions ----

    /// Requests an exception for a tenant in the scope ([`Error::NotFound`] otherwise). The
    /// reason must not be empty; `expires_at` must be in the future and at most 366 days ahead.
    pub async fn request_exception(
        &self,
        scope: Scope,
        requested_by: i64,
        new: &NewException,
    ) -> Result<Exception> {
        crate::model::check_name("control id", &new.control_id)?;
        crate::model::check_name("reason", &new.reason)?;
        let now = now_us();
        let expires = new.expires_at.as_microsecond();
        let max = now.saturating_add(MAX_EXCEPTION_DAYS * 86_400_000_000);
        if expires <= now || expires > max {
            return Err(Error::Invalid {
                field: "exception expiry (in the future, at most 366 days ahead)",
                value: new.expires_at.to_string(),
            });
        }
        if self.tenant_customer(scope, new.tenant_id).await?.is_none() {
            return Err(Error::NotFound {
                entity: "tenant",
                id: new.tenant_id,
            });
        }
        let result: std::result::Result<i64, sqlx::Error> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO exceptions (tenant_id, control_id, resource_key, reason, requested_by, requested_at, \
                 status, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'requested', $7) RETURNING id",
            )
            .bind(new.tenant_id)
            .bind(new.control_id.trim())
            .bind(&new.resource_key)
            .bind(new.reason.trim())
            .bind(requested_by)
            .bind(now)
            .bind(expires)
            .fetch_one(pool)
            .await
        });
        let id = match result {
            Ok(id) => id,
            Err(e) if is_foreign_key_violation(&e) => {
                return Err(Error::NotFound {
                    entity: "user",
                    id: requested_by,
                })
            }
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Conflict(format!(
                    "an exception for {} on this tenant{} is already requested or approved",
                    new.control_id.trim(),
                    new.resource_key
                        .as_deref()
                        .map(|r| format!(" (resource {r})"))
                        .unwrap_or_default()
                )))
            }
            Err(e) => return Err(e.into()),
        };
        self.exception_in(scope, id).await
    }

    async fn exception_in(&self, scope: Scope, id: i64) -> Result<Exception> {
        self.get_exception(scope, id).await?.ok_or(Error::NotFound {
            entity: "exception",
            id,
        })
    }

    /// Approves or rejects a requested exception. Only a requested one can be decided
    /// ([`Error::Conflict`] "exception N is already approved", …), and not by the user who
    /// requested it (four eyes: [`Error::Conflict`]). Race-safe: of two concurrent decisions
    /// exactly one succeeds. Approval marks the tenant's active findings of the control (on
    /// the resource, or on all when the exception names none) as accepted by it, each with an
    /// event "accepted by exception N".
    pub async fn decide_exception(
        &self,
        scope: Scope,
        id: i64,
        decided_by: i64,
        approve: bool,
        note: &str,
    ) -> Result<Exception> {
        let current = self.exception_in(scope, id).await?;
        if current.status != ExceptionStatus::Requested {
            return Err(Error::Conflict(format!(
                "exception {id} is already {}",
                current.status.as_str()
            )));
        }
        if current.requested_by == decided_by {
            return Err(Error::Conflict(format!(
                "exception {id}: the user who requested it cannot decide it (four-eyes rule)"
            )));
        }
        let now = now_us();
        if approve && current.expires_at.as_microsecond() <= now {
            return Err(Error::Conflict(format!(
                "exception {id} expired before it was decided"
            )));
        }
        let status = if approve {
            ExceptionStatus::Approved
        } else {
            ExceptionStatus::Rejected
        };
        let begin = self.begin_write();
        let lock_tenant = format!("SELECT id FROM tenants WHERE id = $1{}", self.for_update());
        let result: std::result::Result<u64, sqlx::Error> = with_pool!(self, pool => {
            async {
                let mut tx = pool.begin_with(begin).await?;
                // The conditional UPDATE is the decision: a concurrent one finds the status
                // changed (PostgreSQL re-checks the row after waiting for its lock; SQLite has
                // one writer) and changes nothing.
                let n = sqlx::query(
                    "UPDATE exceptions SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4 \
                     WHERE id = $5 AND status = 'requested' AND requested_by <> $2",
                )
                .bind(status.as_str())
                .bind(decided_by)
                .bind(now)
                .bind(note)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Ok(0);
                }
                if approve {
                    // The tenant's row lock, as record_results takes it first: findings of the
                    // tenant are changed by one of them at a time (no lock-order deadlock).
                    sqlx::query(&lock_tenant).bind(current.tenant_id).fetch_optional(&mut *tx).await?;
                    sqlx::query(
                        "UPDATE findings SET accepted_exception_id = $1 WHERE tenant_id = $2 AND control_id = $3 \
                         AND ($4 IS NULL OR resource_key = $4) AND status IN ('open', 'reopened') \
                         AND accepted_exception_id IS NULL",
                    )
                    .bind(id)
                    .bind(current.tenant_id)
                    .bind(&current.control_id)
                    .bind(&current.resource_key)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO finding_events (finding_id, scan_id, at, from_status, to_status, note) \
                         SELECT id, NULL, $2, status, status, $3 FROM findings WHERE accepted_exception_id = $1",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(format!("accepted by exception {id}"))
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(n)
            }
            .await
        });
        match result {
            Ok(0) => {
                let now_status = self.exception_in(scope, id).await?.status;
                Err(Error::Conflict(format!(
                    "exception {id} is already {}",
                    now_status.as_str()
                )))
            }
            Ok(_) => self.exception_in(scope, id).await,
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "user",
                id: decided_by,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Withdraws a requested or approved exception (status revoked). Findings it accepted are
    /// no longer accepted (an event each).
    pub async fn revoke_exception(&self, scope: Scope, id: i64, by: i64) -> Result<Exception> {
        let current = self.exception_in(scope, id).await?;
        if !matches!(
            current.status,
            ExceptionStatus::Requested | ExceptionStatus::Approved
        ) {
            return Err(Error::Conflict(format!(
                "exception {id} is already {}",
                current.status.as_str()
            )));
        }
        let now = now_us();
        let begin = self.begin_write();
        let lock_tenant = format!("SELECT id FROM tenants WHERE id = $1{}", self.for_update());
        let result: std::result::Result<u64, sqlx::Error> = with_pool!(self, pool => {
            async {
                let mut tx = pool.begin_with(begin).await?;
                let n = sqlx::query(
                    "UPDATE exceptions SET status = 'revoked', revoked_by = $1, revoked_at = $2 \
                     WHERE id = $3 AND status IN ('requested', 'approved')",
                )
                .bind(by)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Ok(0);
                }
                sqlx::query(&lock_tenant).bind(current.tenant_id).fetch_optional(&mut *tx).await?;
                sqlx::query(EVENT_INSERT_FOR_EXCEPTION)
                    .bind(id)
                    .bind(now)
                    .bind(None::<String>)
                    .bind(format!("no longer accepted: exception {id} revoked"))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE findings SET accepted_exception_id = NULL WHERE accepted_exception_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(n)
            }
            .await
        });
        match result {
            Ok(0) => {
                let now_status = self.exception_in(scope, id).await?.status;
                Err(Error::Conflict(format!(
                    "exception {id} is already {}",
                    now_status.as_str()
                )))
            }
            Ok(_) => self.exception_in(scope, id).await,
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "user",
                id: by,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Expires every approved exception with `expires_at <= now` (status expired, needs
    /// review). The active findings each accepted are no longer accepted and are reopened
    /// (reopen count + 1, an event "exception N expired"). Returns the exceptions expired.
    /// Safe to run from several schedulers at once: each exception expires once.
    pub async fn expire_exceptions(&self, now: Timestamp) -> Result<Vec<Exception>> {
        let now = now.as_microsecond();
        let at = now_us();
        let begin = self.begin_write();
        // By tenant: tenants' row locks are taken in ascending order (no deadlock between two
        // expiry runs, nor with record_results, which locks one tenant).
        let candidates = format!(
            "SELECT id, tenant_id FROM exceptions WHERE status = 'approved' AND expires_at <= $1 \
             ORDER BY tenant_id, id{}",
            self.skip_locked()
        );
        let lock_tenant = format!("SELECT id FROM tenants WHERE id = $1{}", self.for_update());
        let mut expired: Vec<i64> = with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let ids: Vec<(i64, i64)> = sqlx::query_as(&candidates).bind(now).fetch_all(&mut *tx).await?;
            let mut expired = Vec::new();
            for (id, tenant_id) in ids {
                sqlx::query(&lock_tenant).bind(tenant_id).fetch_optional(&mut *tx).await?;
                let n = sqlx::query(
                    "UPDATE exceptions SET status = 'expired', needs_review = TRUE WHERE id = $1 AND status = 'approved'",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    continue;
                }
                sqlx::query(EVENT_INSERT_FOR_EXCEPTION)
                    .bind(id)
                    .bind(at)
                    .bind(FindingStatus::Reopened.as_str())
                    .bind(format!("exception {id} expired"))
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE findings SET accepted_exception_id = NULL, status = 'reopened', resolved_at = NULL, \
                     reopen_count = reopen_count + 1 WHERE accepted_exception_id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                expired.push(id);
            }
            tx.commit().await?;
            expired
        });
        expired.sort_unstable();
        let mut out = Vec::with_capacity(expired.len());
        for id in expired {
            out.push(self.exception_in(Scope::All, id).await?);
        }
        Ok(out)
    }

    /// Clears an exception's `needs_review` flag.
    pub async fn mark_exception_reviewed(&self, scope: Scope, id: i64) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE exceptions SET needs_review = FALSE WHERE id = $1 \
                 AND ($2 IS NULL OR tenant_id IN (SELECT id FROM tenants WHERE customer_id = $2))",
            )
            .bind(id)
            .bind(scope.customer())
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "exception",
                id,
            });
        }
        Ok(())
    }

    /// Exceptions visible in the scope, of one tenant or all, in one status or all; newest
    /// first.
    pub async fn list_exceptions(
        &self,
        scope: Scope,
        tenant_id: Option<i64>,
        status: Option<ExceptionStatus>,
    ) -> Result<Vec<Exception>> {
        let sql = format!(
            "{EXCEPTION_SELECT} WHERE {} AND {} AND {} ORDER BY e.id DESC",
            filter(scope.customer().is_some(), "$1", "t.customer_id = $1"),
            filter(tenant_id.is_some(), "$2", "e.tenant_id = $2"),
            filter(status.is_some(), "$3", "e.status = $3"),
        );
        let rows: Vec<ExceptionRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(scope.customer())
                .bind(tenant_id)
                .bind(status.map(ExceptionStatus::as_str))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn get_exception(&self, scope: Scope, id: i64) -> Result<Option<Exception>> {
        let sql =
            format!("{EXCEPTION_SELECT} WHERE e.id = $1 AND ($2 IS NULL OR t.customer_id = $2)");
        let row: Option<ExceptionRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    // ---- scores ----

    /// Records a scan's scores, replacing any recorded before for it (so recording again is
    /// harmless). Kinds are "overall", "app" and "framework"; scores are within 0..=100.
    pub async fn record_scores(&self, scan_id: i64, scores: &[ScoreInput]) -> Result<()> {
        for s in scores {
            if !SCORE_KINDS.contains(&s.kind.as_str()) {
                return Err(Error::Invalid {
                    field: "score kind",
                    value: s.kind.clone(),
                });
            }
            if !(0.0..=100.0).contains(&s.score) {
                return Err(Error::Invalid {
                    field: "score (0 to 100)",
                    value: s.score.to_string(),
                });
            }
        }
        let scan = self.get_scan(scan_id).await?.ok_or(Error::NotFound {
            entity: "scan",
            id: scan_id,
        })?;
        let at = scan.started_at.unwrap_or(scan.created_at).as_microsecond();
        let begin = self.begin_write();
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            sqlx::query("DELETE FROM scores WHERE scan_id = $1").bind(scan_id).execute(&mut *tx).await?;
            for s in scores {
                sqlx::query(
                    "INSERT INTO scores (scan_id, tenant_id, at, kind, key, score, passed, failed, accepted, errors) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (scan_id, kind, key) DO UPDATE SET score = excluded.score, passed = excluded.passed, \
                     failed = excluded.failed, accepted = excluded.accepted, errors = excluded.errors",
                )
                .bind(scan_id)
                .bind(scan.tenant_id)
                .bind(at)
                .bind(&s.kind)
                .bind(&s.key)
                .bind(s.score)
                .bind(s.passed)
                .bind(s.failed)
                .bind(s.accepted)
                .bind(s.errors)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The tenant's last `limit` (1 to 1000) scores of one kind and key, oldest first (empty
    /// when the tenant is out of scope).
    pub async fn score_history(
        &self,
        scope: Scope,
        tenant_id: i64,
        kind: &str,
        key: &str,
        limit: i64,
    ) -> Result<Vec<ScorePoint>> {
        let sql = format!(
            "SELECT {SCORE_COLS_S} FROM scores s WHERE s.kind = $1 AND s.tenant_id = $2 AND s.key = $3 \
             AND {} ORDER BY s.scan_id DESC LIMIT $5",
            filter(
                scope.customer().is_some(),
                "$4",
                "s.tenant_id IN (SELECT id FROM tenants WHERE customer_id = $4)"
            )
        );
        let rows: Vec<ScoreRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(kind)
                .bind(tenant_id)
                .bind(key)
                .bind(scope.customer())
                .bind(clamp_limit(limit, 1000))
                .fetch_all(pool)
                .await?
        });
        let mut points: Vec<ScorePoint> = rows.into_iter().map(Into::into).collect();
        points.reverse();
        Ok(points)
    }

    /// The newest score of one kind per tenant and key, in the scope, by tenant and key.
    pub async fn latest_scores(&self, scope: Scope, kind: &str) -> Result<Vec<ScorePoint>> {
        let sql = format!(
            "SELECT {SCORE_COLS_S} FROM scores s JOIN (\
               SELECT tenant_id, key, MAX(scan_id) AS scan_id FROM scores WHERE kind = $1 AND {} \
               GROUP BY tenant_id, key) latest \
             ON latest.tenant_id = s.tenant_id AND latest.key = s.key AND latest.scan_id = s.scan_id \
             WHERE s.kind = $1 ORDER BY s.tenant_id, s.key",
            filter(
                scope.customer().is_some(),
                "$2",
                "tenant_id IN (SELECT id FROM tenants WHERE customer_id = $2)"
            )
        );
        let rows: Vec<ScoreRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(kind).bind(scope.customer()).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    // ---- overview ----

    /// Every tenant in the scope (of one customer or all) with its customer's name, newest
    /// scan, newest overall score and active unaccepted findings per severity. Two queries,
    /// whatever the number of tenants.
    pub async fn tenant_overview(
        &self,
        scope: Scope,
        customer_id: Option<i64>,
    ) -> Result<Vec<TenantOverview>> {
        let sql = format!(
            "SELECT {TENANT_COLS_T}, c.name AS customer_name, c.name_ja AS customer_name_ja, \
             s.id AS scan_id, s.status AS scan_status, s.created_at AS scan_created_at, \
             s.started_at AS scan_started_at, s.finished_at AS scan_finished_at, \
             s.request_count AS scan_request_count, s.error AS scan_error, \
             (SELECT sc.score FROM scores sc WHERE sc.kind = 'overall' AND sc.tenant_id = t.id AND sc.key = '' \
              ORDER BY sc.scan_id DESC LIMIT 1) AS score \
             FROM tenants t JOIN customers c ON c.id = t.customer_id \
             LEFT JOIN scans s ON s.id = (SELECT MAX(s2.id) FROM scans s2 WHERE s2.tenant_id = t.id) \
             WHERE {} AND {} ORDER BY c.name, t.customer_id, t.id",
            filter(scope.customer().is_some(), "$1", "t.customer_id = $1"),
            filter(customer_id.is_some(), "$2", "t.customer_id = $2"),
        );
        let rows: Vec<OverviewRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).bind(customer_id).fetch_all(pool).await?
        });
        let mut counts: BTreeMap<i64, BTreeMap<Severity, i64>> = BTreeMap::new();
        for (tenant, severity, n) in self.severity_counts_of(scope, customer_id, None).await? {
            counts.entry(tenant).or_default().insert(severity, n);
        }
        rows.into_iter()
            .map(|r| {
                let last_scan = match (r.scan_id, r.scan_status, r.scan_created_at) {
                    (Some(id), Some(status), Some(created_at)) => Some(Scan {
                        id,
                        tenant_id: r.tenant.id,
                        status: status.parse()?,
                        created_at: ts(created_at),
                        started_at: r.scan_started_at.map(ts),
                        finished_at: r.scan_finished_at.map(ts),
                        request_count: r.scan_request_count.unwrap_or_default(),
                        error: r.scan_error,
                    }),
                    _ => None,
                };
                let tenant: Tenant = r.tenant.try_into()?;
                Ok(TenantOverview {
                    active_by_severity: counts.remove(&tenant.id).unwrap_or_default(),
                    tenant,
                    customer_name: r.customer_name,
                    customer_name_ja: r.customer_name_ja,
                    last_scan,
                    score: r.score,
                })
            })
            .collect()
    }
}
