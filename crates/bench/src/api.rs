//! `mamori-bench --api`: the REST API's finding listings under load. Seeds a fresh database
//! (1,000 customers × 5 tenants × 200 findings by default), starts the real server
//! (`mamori_server::run`, API role) in-process on loopback and drives it with concurrent
//! keep-alive HTTP clients; prints requests/s and latency percentiles, overall and per kind of
//! query, and the seeding time.

use mamori_mock_saas::names::Rng;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use mamori_core::snapshot::SourceKind;
use mamori_server::{AppState, Role as ProcessRole, ServerConfig};
use mamori_store::bench_seed::BenchSeed;
use mamori_store::{MasterKey, NewUser, Role, Store};

/// Options of `mamori-bench --api` and `mamori-bench --schedule`.
#[derive(Args, Clone, Debug)]
pub struct ServerBenchArgs {
    /// Instead: the REST API's finding listings under concurrent load, on a seeded database
    /// (in-process server on loopback).
    #[arg(long)]
    pub api: bool,
    /// Instead: two schedulers and two worker pools racing over a simulated day of cron
    /// schedules; checks that no slot is missed or run twice.
    #[arg(long)]
    pub schedule: bool,
    /// Instead: the log path on one database — pushed batches spooled and consumed by log
    /// workers (detect + commit) — with the workers of --ingest-workers; `--events` sets the
    /// corpus.
    #[arg(long)]
    pub ingest: bool,
    /// With --ingest: tenants the corpus is shared among.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub ingest_tenants: usize,
    /// With --ingest: events per pushed batch.
    #[arg(long, default_value_t = 2_000, value_name = "N")]
    pub ingest_batch: usize,
    /// With --ingest: log workers of each round, e.g. `1,2,4`.
    #[arg(long, default_value = "1,2", value_name = "LIST")]
    pub ingest_workers: String,
    /// With --api/--schedule: postgres://USER@HOST:PORT/DB (a database to connect to for
    /// creating and dropping a fresh mamori_bench_* database), or sqlite:///new/file.db;
    /// default: a SQLite file in a temporary directory.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// With --api/--schedule: keep the benchmark database afterwards (prints its URL).
    #[arg(long)]
    pub keep_database: bool,
    /// With --api: customers to seed.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub customers: usize,
    /// With --api: tenants per customer.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub tenants_per_customer: usize,
    /// With --api: findings per tenant.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub findings_per_tenant: usize,
    /// With --api: concurrent HTTP clients.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub clients: usize,
    /// With --api: timed requests.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub requests: usize,
    /// With --api: untimed requests first (every kind's answer is checked).
    #[arg(long, default_value_t = 2_000, value_name = "N")]
    pub warmup: usize,
    /// With --api: offered load in requests per second, sent on schedule whether or not
    /// earlier answers came back (open loop; latency counts from the scheduled time); 0 =
    /// closed loop (every client sends its next request as soon as it has the answer).
    #[arg(long, default_value_t = 0.0, value_name = "PER_SECOND")]
    pub rate: f64,
    /// With --api: only these kinds of request (comma-separated, weights kept): op-all,
    /// op-tenant, op-customer, op-high-active, op-offset, cust-all, cust-tenant,
    /// cust-high-active, cust-offset.
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// With --api: SQL to run after seeding (what-if experiments, e.g. a candidate index).
    #[arg(long, value_name = "SQL")]
    pub after_seed_sql: Option<String>,
    /// With --api: run ANALYZE on SQLite after seeding (PostgreSQL is always analysed, as
    /// autovacuum would; nothing in Mamori analyses SQLite).
    #[arg(long)]
    pub sqlite_analyze: bool,
    /// With --schedule: tenants with a daily schedule.
    #[arg(long, default_value_t = 5_000, value_name = "N")]
    pub tenants: usize,
    /// With --schedule: simulated hours.
    #[arg(long, default_value_t = 24, value_name = "H")]
    pub hours: u64,
    /// With --schedule: simulated seconds between scheduler ticks.
    #[arg(long, default_value_t = 60, value_name = "S")]
    pub step_secs: u64,
    /// With --schedule: scan workers in each of the two worker processes.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub workers: usize,
    /// With --schedule: milliseconds each imitation collection takes.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub scan_ms: u64,
    /// With --schedule: evaluate each snapshot with the built-in packs (default: an empty
    /// engine, so the figures are the queue's and the scheduler's).
    #[arg(long)]
    pub evaluate: bool,
}

/// A database made for one benchmark run, removed by [`BenchDb::cleanup`].
pub struct BenchDb {
    pub url: String,
    /// (admin URL, database name) of a PostgreSQL database we created.
    pg: Option<(String, String)>,
    temp_dir: Option<PathBuf>,
    keep: bool,
}

impl BenchDb {
    pub async fn create(given: Option<&str>, tag: &str, keep: bool) -> Result<BenchDb> {
        match given {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let name = format!("mamori_bench_{tag}_{}", std::process::id());
                let _ = Store::drop_bench_database(url, &name).await;
                let db_url = Store::create_bench_database(url, &name)
                    .await
                    .with_context(|| format!("creating database {name} through the given URL"))?;
                Ok(BenchDb {
                    url: db_url,
                    pg: Some((url.to_string(), name)),
                    temp_dir: None,
                    keep,
                })
            }
            Some(url) if url.starts_with("sqlite:") => Ok(BenchDb {
                url: url.to_string(),
                pg: None,
                temp_dir: None,
                keep: true,
            }),
            Some(url) => bail!("--database-url must be postgres://… or sqlite://…, not {url}"),
            None => {
                let dir =
                    std::env::temp_dir().join(format!("mamori-bench-{tag}-{}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                Ok(BenchDb {
                    url: format!("sqlite://{}", dir.join("bench.db").display()),
                    pg: None,
                    temp_dir: Some(dir),
                    keep,
                })
            }
        }
    }

    pub fn backend_name(&self) -> &'static str {
        if self.pg.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    pub async fn cleanup(self) {
        if self.keep {
            println!("database kept: {}", self.url);
            return;
        }
        if let Some((admin, name)) = &self.pg {
            if let Err(e) = Store::drop_bench_database(admin, name).await {
                eprintln!("could not drop database {name}: {e}");
            }
        }
        if let Some(dir) = &self.temp_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// (control id, severity) of one application's controls.
type ControlList = Vec<(String, String)>;

/// The built-in packs' controls per application: (Microsoft 365, Google Workspace).
fn controls(engine: &mamori_policy::Engine) -> (ControlList, ControlList) {
    let (mut m365, mut gws) = (Vec::new(), Vec::new());
    for pack in engine.packs() {
        let list = match pack.input {
            SourceKind::Scubagear => &mut m365,
            SourceKind::Scubagoggles => &mut gws,
            _ => continue,
        };
        for (_, control) in pack.controls() {
            list.push((control.id.clone(), control.severity.as_str().to_string()));
        }
    }
    (m365, gws)
}

/// The kinds of request, with their share of the mix (percent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    OpAll,
    OpTenant,
    OpCustomer,
    OpHighActive,
    OpOffset,
    CustAll,
    CustTenant,
    CustHighActive,
    CustOffset,
}

const MIX: [(Kind, u64); 9] = [
    (Kind::OpAll, 10),
    (Kind::OpTenant, 15),
    (Kind::OpCustomer, 15),
    (Kind::OpHighActive, 10),
    (Kind::OpOffset, 10),
    (Kind::CustAll, 10),
    (Kind::CustTenant, 10),
    (Kind::CustHighActive, 10),
    (Kind::CustOffset, 10),
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::OpAll => "op-all",
            Kind::OpTenant => "op-tenant",
            Kind::OpCustomer => "op-customer",
            Kind::OpHighActive => "op-high-active",
            Kind::OpOffset => "op-offset",
            Kind::CustAll => "cust-all",
            Kind::CustTenant => "cust-tenant",
            Kind::CustHighActive => "cust-high-active",
            Kind::CustOffset => "cust-offset",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::OpAll => "operator: all, page 1",
            Kind::OpTenant => "operator: tenant_id=",
            Kind::OpCustomer => "operator: customer_id=",
            Kind::OpHighActive => "operator: severity=high&status=active",
            Kind::OpOffset => "operator: all, offset 50..1000",
            Kind::CustAll => "customer: all, page 1",
            Kind::CustTenant => "customer: tenant_id= (own)",
            Kind::CustHighActive => "customer: severity=high&status=active",
            Kind::CustOffset => "customer: all, offset 50..950",
        }
    }

    fn is_customer(self) -> bool {
        matches!(
            self,
            Kind::CustAll | Kind::CustTenant | Kind::CustHighActive | Kind::CustOffset
        )
    }
}

/// What the clients need to build requests.
struct Plan {
    /// The kinds of request and their weights.
    mix: Vec<(Kind, u64)>,
    base: String,
    operator_token: String,
    customer_token: String,
    customer_id: i64,
    customer_tenants: Vec<i64>,
    customers: Vec<i64>,
    tenants: Vec<i64>,
}

impl Plan {
    fn request(&self, rng: &mut Rng) -> (Kind, String, &str) {
        let mut roll = rng.below(self.mix.iter().map(|(_, w)| w).sum::<u64>() as usize) as u64;
        let mut kind = self.mix[0].0;
        for &(k, share) in &self.mix {
            if roll < share {
                kind = k;
                break;
            }
            roll -= share;
        }
        let query = match kind {
            Kind::OpAll | Kind::CustAll => String::new(),
            Kind::OpTenant => format!("?tenant_id={}", rng.pick(&self.tenants)),
            Kind::OpCustomer => format!("?customer_id={}", rng.pick(&self.customers)),
            Kind::OpHighActive | Kind::CustHighActive => "?severity=high&status=active".into(),
            Kind::OpOffset => format!("?offset={}", 50 * (1 + rng.below(20))),
            Kind::CustTenant => format!("?tenant_id={}", rng.pick(&self.customer_tenants)),
            Kind::CustOffset => format!("?offset={}", 50 * (1 + rng.below(19))),
        };
        let token = if kind.is_customer() {
            self.customer_token.as_str()
        } else {
            self.operator_token.as_str()
        };
        (kind, format!("{}/api/v1/findings{query}", self.base), token)
    }
}

pub fn run(args: &ServerBenchArgs) -> Result<u8> {
    let engine = crate::load_engine()?;
    let rt = crate::runtime()?;
    rt.block_on(async {
        let db = BenchDb::create(args.database_url.as_deref(), "api", args.keep_database).await?;
        let result = run_on(args, engine, &db).await;
        db.cleanup().await;
        result
    })
}

async fn run_on(args: &ServerBenchArgs, engine: mamori_policy::Engine, db: &BenchDb) -> Result<u8> {
    let total = args.customers * args.tenants_per_customer * args.findings_per_tenant;
    println!(
        "API benchmark on {} ({} customers × {} tenants × {} findings = {} findings), {} clients, {} requests after {} warm-up",
        db.backend_name(),
        args.customers,
        args.tenants_per_customer,
        args.findings_per_tenant,
        total,
        args.clients,
        args.requests,
        args.warmup
    );
    let store = Store::open(&db.url)
        .await
        .context("opening the benchmark database")?;
    let operator = store
        .create_user(&NewUser {
            username: "bench-operator".into(),
            display_name: "Bench operator".into(),
            role: Role::Analyst,
            customer_id: None,
            lang: "en".into(),
            password: "bench-password-0001".into(),
        })
        .await?;
    let (m365, gws) = controls(&engine);
    let t = Instant::now();
    let seeded = store
        .seed_bench(
            &BenchSeed {
                customers: args.customers,
                tenants_per_customer: args.tenants_per_customer,
                findings_per_tenant: args.findings_per_tenant,
                m365_controls: m365,
                gws_controls: gws,
                exception_user: operator.id,
                seed: 1,
            },
            args.sqlite_analyze,
        )
        .await
        .context("seeding")?;
    let seed_secs = t.elapsed().as_secs_f64();
    println!(
        "seeded in {seed_secs:.1} s ({:.0} findings/s): {} findings, {} active, {} accepted by {} exceptions{}",
        seeded.findings as f64 / seed_secs,
        seeded.findings,
        seeded.active,
        seeded.accepted,
        seeded.exceptions,
        if db.pg.is_some() || args.sqlite_analyze { ", then ANALYZE" } else { "" }
    );
    // What the scheduler's hourly chore does (on SQLite: `PRAGMA optimize`, an ANALYZE of
    // what was never analysed or grew a lot); without it the bench would measure a planner
    // with no statistics, which a running service has for at most an hour.
    let t = Instant::now();
    store
        .optimize()
        .await
        .context("refreshing planner statistics")?;
    println!(
        "planner statistics refreshed (Store::optimize) in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    if let Some(sql) = &args.after_seed_sql {
        let t = Instant::now();
        store.bench_execute(sql).await.context("--after-seed-sql")?;
        println!(
            "after seeding, ran in {:.1} s: {sql}",
            t.elapsed().as_secs_f64()
        );
    }
    if seeded.customers.is_empty() {
        bail!("nothing seeded");
    }
    // The server then starts on the seeded database, as a service does: SQLite connections
    // read the planner's statistics when they open, and the seeding pool's opened before
    // there were any (a running service's pooled connections are replaced every 30 minutes).
    store.close().await;
    let store = Store::open(&db.url)
        .await
        .context("reopening the benchmark database")?;
    let customer_id = seeded.customers[seeded.customers.len() / 2];
    let viewer = store
        .create_user(&NewUser {
            username: "bench-viewer".into(),
            display_name: "Bench customer viewer".into(),
            role: Role::CustomerViewer,
            customer_id: Some(customer_id),
            lang: "ja".into(),
            password: "bench-password-0002".into(),
        })
        .await?;
    let (operator_token, _) = store.create_api_token(operator.id, "bench", None).await?;
    let (customer_token, _) = store.create_api_token(viewer.id, "bench", None).await?;

    let state = AppState::new(
        store.clone(),
        MasterKey::generate(),
        engine,
        Arc::new(NoCollector),
        ServerConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(mamori_server::run(
        listener,
        state,
        ProcessRole::Api,
        async {
            let _ = stop_rx.await;
        },
    ));

    let mix: Vec<(Kind, u64)> = MIX
        .into_iter()
        .filter(|(k, _)| args.kinds.is_empty() || args.kinds.iter().any(|n| n == k.name()))
        .collect();
    if let Some(unknown) = args
        .kinds
        .iter()
        .find(|n| !MIX.iter().any(|(k, _)| k.name() == n.as_str()))
    {
        bail!("--kinds: unknown kind {unknown:?}");
    }
    if mix.is_empty() {
        bail!("--kinds selects no kind of request");
    }
    if !args.kinds.is_empty() {
        println!(
            "request kinds: {}",
            mix.iter()
                .map(|(k, _)| k.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let plan = Arc::new(Plan {
        mix,
        base: format!("http://{addr}"),
        operator_token,
        customer_token,
        customer_id,
        customer_tenants: seeded
            .tenants
            .iter()
            .filter(|(c, _)| *c == customer_id)
            .map(|(_, t)| *t)
            .collect(),
        customers: seeded.customers.clone(),
        tenants: seeded.tenants.iter().map(|(_, t)| *t).collect(),
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients.max(1))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(120))
        .build()?;

    check_answers(&client, &plan, seeded.findings as i64).await?;
    let t = Instant::now();
    let warm = drive(&client, &plan, args.clients, args.warmup, 1, 0.0).await;
    println!(
        "warm-up: {} requests in {:.1} s",
        warm.latencies.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let run = drive(&client, &plan, args.clients, args.requests, 2, args.rate).await;
    let wall = t.elapsed().as_secs_f64();
    if args.rate > 0.0 {
        println!(
            "open loop: {:.0} requests/s offered; latency counts from each request's scheduled time",
            args.rate
        );
    }
    let _ = stop_tx.send(());
    let _ = server.await;

    let mut all: Vec<u64> = run.latencies.iter().map(|(_, us)| *us).collect();
    println!(
        "\n{} requests in {wall:.2} s: {:.0} requests/s; {} errors",
        all.len(),
        all.len() as f64 / wall,
        run.errors.len()
    );
    for e in run.errors.iter().take(5) {
        println!("  error: {e}");
    }
    println!(
        "\n{:<40} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "latency (ms)", "count", "p50", "p90", "p99", "max"
    );
    print_row("all", &mut all);
    let mut by_kind: BTreeMap<Kind, Vec<u64>> = BTreeMap::new();
    for (k, us) in &run.latencies {
        by_kind.entry(*k).or_default().push(*us);
    }
    for (k, mut v) in by_kind {
        print_row(k.label(), &mut v);
    }
    let p99 = percentile(&all, 99.0) as f64 / 1000.0;
    println!(
        "\ngoal p99 < 50 ms: {}",
        if p99 < 50.0 {
            format!("met ({p99:.1} ms)")
        } else {
            format!("NOT met ({p99:.1} ms)")
        }
    );
    if let Some(peak) = crate::peak_rss_mib() {
        println!("peak memory of the process (server + clients; VmHWM): {peak:.0} MiB");
    }
    store.close().await;
    Ok(if run.errors.is_empty() { 0 } else { 1 })
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn print_row(label: &str, v: &mut [u64]) {
    v.sort_unstable();
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "{label:<40} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        v.len(),
        ms(percentile(v, 50.0)),
        ms(percentile(v, 90.0)),
        ms(percentile(v, 99.0)),
        ms(v.last().copied().unwrap_or(0))
    );
}

/// Every kind of request once, checked: 200, a non-empty page, the right total for the
/// unfiltered operator listing, and only the viewer's own customer in the customer's answers.
async fn check_answers(client: &reqwest::Client, plan: &Plan, findings: i64) -> Result<()> {
    let mut rng = Rng::new(7);
    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < plan.mix.len() {
        let (kind, url, token) = plan.request(&mut rng);
        if !seen.insert(kind) {
            continue;
        }
        let resp = client.get(&url).bearer_auth(token).send().await?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.with_context(|| format!("GET {url}"))?;
        if !status.is_success() {
            bail!("GET {url}: {status} {body}");
        }
        let items = body["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if items.is_empty() {
            bail!("GET {url}: no findings in the answer");
        }
        // Listings count up to mamori_store::COUNT_CAP matches.
        let expected = findings.min(mamori_store::COUNT_CAP);
        let exact = findings <= mamori_store::COUNT_CAP;
        if kind == Kind::OpAll
            && (body["total"].as_i64() != Some(expected)
                || body["total_exact"].as_bool() != Some(exact))
        {
            bail!(
                "GET {url}: total {} (exact: {}) instead of {expected} (exact: {exact})",
                body["total"],
                body["total_exact"]
            );
        }
        if kind.is_customer()
            && items
                .iter()
                .any(|i| i["customer_id"].as_i64() != Some(plan.customer_id))
        {
            bail!("GET {url}: another customer's finding in the viewer's answer");
        }
    }
    Ok(())
}

#[derive(Default)]
struct Outcome {
    latencies: Vec<(Kind, u64)>,
    errors: Vec<String>,
}

/// `count` requests from `clients` concurrent clients; each request's latency is from sending
/// (with `rate` > 0: from its scheduled time, request i at i / rate seconds) to having read
/// the whole body.
async fn drive(
    client: &reqwest::Client,
    plan: &Arc<Plan>,
    clients: usize,
    count: usize,
    seed: u64,
    rate: f64,
) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients.max(1) {
        let (client, plan, next) = (client.clone(), plan.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng::new(seed * 1_000_003 + c as u64);
            let mut out = Outcome::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let (kind, url, token) = plan.request(&mut rng);
                let t = if rate > 0.0 {
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    tokio::time::sleep_until(due).await;
                    due.into_std()
                } else {
                    Instant::now()
                };
                let result = async {
                    let resp = client.get(&url).bearer_auth(token).send().await?;
                    let status = resp.status();
                    let body = resp.bytes().await?;
                    anyhow::Ok((status, body.len()))
                }
                .await;
                let us = t.elapsed().as_micros() as u64;
                match result {
                    Ok((status, _)) if status.is_success() => out.latencies.push((kind, us)),
                    Ok((status, _)) => out.errors.push(format!("{url}: {status}")),
                    Err(e) => out.errors.push(format!("{url}: {e:#}")),
                }
            }
            out
        }));
    }
    let mut all = Outcome::default();
    for t in tasks {
        if let Ok(o) = t.await {
            all.latencies.extend(o.latencies);
            all.errors.extend(o.errors);
        }
    }
    all
}

/// The API role runs no scans.
struct NoCollector;

impl mamori_work::Collector for NoCollector {
    fn collect<'a>(
        &'a self,
        _app: mamori_store::App,
        _credentials: &'a [u8],
        _settings: mamori_connect::HttpSettings,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<Output = anyhow::Result<mamori_connect::collection::Collected>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async { anyhow::bail!("the API benchmark runs no scans") })
    }
}
