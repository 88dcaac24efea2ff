//! Mamori's background work: the scheduler that turns per-tenant cron schedules into jobs, the
//! scan workers that run them (collect → evaluate → record → score), the notification outbox
//! (queueing after a scan, delivery with backoff) and the posture score. Every process shares
//! one database, so several can run side by side on PostgreSQL.
//!
//! The web layer (`mamori-server`) depends on this crate, not the other way round: its
//! `AppState` carries a [`WorkState`], and its `run` calls [`spawn`] unless it serves the API
//! only.
//!
//! ```no_run
//! # async fn demo(state: mamori_work::WorkState) {
//! let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
//! let tasks = mamori_work::spawn(&state, stop_rx);
//! // … later:
//! let _ = stop_tx.send(true);
//! for task in tasks {
//!     let _ = task.await;
//! }
//! # }
//! ```

pub mod catalog;
pub mod logs;
pub mod metrics;
pub mod notify;
pub mod scan;
pub mod scheduler;
pub mod score;

use std::sync::Arc;
use std::time::Duration;

use mamori_core::Lang;
use mamori_store::{MasterKey, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use catalog::Catalog;
pub use scan::{Collector, ConnectorCollector};

/// Settings of the background work of a process; every field has a sensible default.
#[derive(Debug, Clone)]
pub struct WorkConfig {
    /// The address people reach the dashboard at (links in notifications); `None` = unknown.
    pub public_url: Option<String>,
    /// This process's name in job leases (host:pid by default).
    pub worker_id: String,
    /// How long a claimed job stays ours without a heartbeat.
    pub lease: Duration,
    /// How long a scan that failed because the database was unreachable or full waits before
    /// its next attempt, times the attempts so far (30 s, 60 s, … up to 10×).
    pub retry: Duration,
    /// How often the scheduler looks for due schedules, expired exceptions and lost leases.
    pub tick: Duration,
    /// Snapshots kept per tenant.
    pub snapshot_retention: usize,
    /// Scans one worker process runs at once.
    pub worker_concurrency: usize,
    /// Connector HTTP settings for scans.
    pub http: mamori_connect::HttpSettings,
    /// Let notification channels reach loopback, private and link-local addresses (an internal
    /// relay). Off: a channel's address is typed in by users, possibly a customer's.
    pub notify_private_targets: bool,
    /// Audit-log collection, threat detection and the flood guard.
    pub logs: logs::LogsConfig,
}

impl Default for WorkConfig {
    fn default() -> Self {
        WorkConfig {
            public_url: None,
            worker_id: format!(
                "{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "mamori".into()),
                std::process::id()
            ),
            lease: Duration::from_secs(60),
            retry: Duration::from_secs(30),
            tick: Duration::from_secs(15),
            snapshot_retention: 30,
            worker_concurrency: 2,
            http: mamori_connect::HttpSettings::default(),
            notify_private_targets: false,
            logs: logs::LogsConfig::default(),
        }
    }
}

/// Everything the scheduler, the workers and the delivery loop need; cheap to clone.
#[derive(Clone)]
pub struct WorkState(Arc<WorkInner>);

pub struct WorkInner {
    pub store: Store,
    pub key: MasterKey,
    pub engine: mamori_policy::Engine,
    pub catalog: Catalog,
    pub config: WorkConfig,
    pub metrics: metrics::Metrics,
    pub collector: Arc<dyn Collector>,
    pub notifier: mamori_notify::Notifier,
    /// Detection rules and warm detectors (see [`logs`]).
    pub detection: logs::Detection,
}

impl std::ops::Deref for WorkState {
    type Target = WorkInner;
    fn deref(&self) -> &WorkInner {
        &self.0
    }
}

impl WorkState {
    pub fn new(
        store: Store,
        key: MasterKey,
        engine: mamori_policy::Engine,
        collector: Arc<dyn Collector>,
        config: WorkConfig,
    ) -> WorkState {
        let catalog = Catalog::from_engine(&engine);
        WorkState(Arc::new(WorkInner {
            store,
            key,
            engine,
            catalog,
            metrics: metrics::Metrics::default(),
            collector,
            notifier: mamori_notify::Notifier::new()
                .allow_private_targets(config.notify_private_targets),
            detection: logs::Detection::default(),
            config,
        }))
    }
}

/// Starts the scheduler, `config.worker_concurrency` scan workers (at least one) and the
/// notification delivery loop; each runs until `stop` turns true. Await the handles to wait
/// for them to finish their current item.
pub fn spawn(state: &WorkState, stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(scheduler::run(state.clone(), stop.clone())));
    for n in 0..state.config.worker_concurrency.max(1) {
        tasks.push(tokio::spawn(scan::run_worker(
            state.clone(),
            format!("{}#{n}", state.config.worker_id),
            stop.clone(),
        )));
    }
    for n in 0..state.config.logs.workers {
        tasks.push(tokio::spawn(logs::run_worker(
            state.clone(),
            format!("{}#logs{n}", state.config.worker_id),
            stop.clone(),
        )));
    }
    tasks.push(tokio::spawn(notify::run_delivery(state.clone(), stop)));
    tasks
}

/// A customer's name as shown in `lang`: the Japanese name in Japanese when there is one.
pub fn customer_name<'a>(lang: Lang, name: &'a str, name_ja: Option<&'a str>) -> &'a str {
    match (lang, name_ja) {
        (Lang::Ja, Some(ja)) => ja,
        _ => name,
    }
}
