//! Mamori server: the REST API (`/api/v1`), the dashboard pages, the scheduler that turns
//! per-tenant cron schedules into jobs, and the workers that run scans and deliver
//! notifications. One process runs all of it, or `--role api|worker` splits it; every process
//! shares one database, so several can run side by side on PostgreSQL.
//!
//! ```no_run
//! # async fn demo(state: mamori_server::AppState) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, mamori_server::app(state)).await
//! # }
//! ```

pub mod api;
pub mod auth;
pub mod authz;
pub mod catalog;
pub mod cron;
pub mod error;
pub mod i18n;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod pages;
pub mod scan;
pub mod scheduler;
pub mod score;
mod security;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use mamori_store::{MasterKey, Store};

pub use catalog::Catalog;
pub use scan::{Collector, ConnectorCollector};

/// Settings of a server process; every field has a sensible default.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address people reach the dashboard at (links in notifications); `None` = unknown.
    pub public_url: Option<String>,
    /// Mark cookies `Secure` (on whenever the public URL is https).
    pub secure_cookies: bool,
    /// How long a login lasts without activity.
    pub session_ttl: Duration,
    /// This process's name in job leases (host:pid by default).
    pub worker_id: String,
    /// How long a claimed job stays ours without a heartbeat.
    pub lease: Duration,
    /// How often the scheduler looks for due schedules, expired exceptions and lost leases.
    pub tick: Duration,
    /// Snapshots kept per tenant.
    pub snapshot_retention: usize,
    /// Scans one worker process runs at once.
    pub worker_concurrency: usize,
    /// Connector HTTP settings for scans.
    pub http: mamori_connect::HttpSettings,
    /// Failed logins allowed per client address and per user name in `login_window`.
    pub login_attempts: usize,
    pub login_window: Duration,
    /// Let notification channels reach loopback, private and link-local addresses (an internal
    /// relay). Off: a channel's address is typed in by users, possibly a customer's.
    pub notify_private_targets: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            public_url: None,
            secure_cookies: false,
            session_ttl: Duration::from_secs(8 * 3600),
            worker_id: format!(
                "{}:{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "mamori".into()),
                std::process::id()
            ),
            lease: Duration::from_secs(60),
            tick: Duration::from_secs(15),
            snapshot_retention: 30,
            worker_concurrency: 2,
            http: mamori_connect::HttpSettings::default(),
            notify_private_targets: false,
            login_attempts: 5,
            login_window: Duration::from_secs(300),
        }
    }
}

/// Everything a request handler or background task needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub key: MasterKey,
    pub engine: mamori_policy::Engine,
    pub catalog: Catalog,
    pub config: ServerConfig,
    pub metrics: metrics::Metrics,
    pub login_limiter: security::LoginLimiter,
    pub collector: Arc<dyn Collector>,
    pub notifier: mamori_notify::Notifier,
    ready: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        store: Store,
        key: MasterKey,
        engine: mamori_policy::Engine,
        collector: Arc<dyn Collector>,
        config: ServerConfig,
    ) -> AppState {
        let catalog = Catalog::from_engine(&engine);
        let limiter = security::LoginLimiter::new(config.login_attempts, config.login_window);
        AppState(Arc::new(Inner {
            store,
            key,
            engine,
            catalog,
            metrics: metrics::Metrics::default(),
            login_limiter: limiter,
            collector,
            notifier: mamori_notify::Notifier::new()
                .allow_private_targets(config.notify_private_targets),
            config,
            ready: AtomicBool::new(true),
        }))
    }

    /// Marks the process ready or not (`/readyz`); draining sets it false.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// The whole HTTP surface: API, pages, health and metrics, with the security headers.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(pages::routes())
        .merge(metrics::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers_and_metrics,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(1024 * 1024))
        .with_state(state)
}

/// What a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// API, pages, scheduler and worker.
    All,
    /// API and pages only.
    Api,
    /// Scheduler and worker only (plus /healthz, /readyz and /metrics).
    Worker,
}

/// Runs the process until `shutdown` resolves: the HTTP listener (always; a worker serves only
/// health and metrics) and, unless `Role::Api`, the scheduler, scan workers and notification
/// delivery.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    role: Role,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut background = Vec::new();
    if role != Role::Api {
        background.push(tokio::spawn(scheduler::run(state.clone(), stop_rx.clone())));
        for n in 0..state.config.worker_concurrency.max(1) {
            background.push(tokio::spawn(scan::run_worker(
                state.clone(),
                format!("{}#{n}", state.config.worker_id),
                stop_rx.clone(),
            )));
        }
        background.push(tokio::spawn(notify::run_delivery(
            state.clone(),
            stop_rx.clone(),
        )));
    }
    let router = if role == Role::Worker {
        metrics::routes().with_state(state.clone())
    } else {
        app(state.clone())
    };
    let drain_state = state.clone();
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        drain_state.set_ready(false);
        let _ = stop_tx.send(true);
    })
    .await;
    for task in background {
        let _ = task.await;
    }
    served
}
