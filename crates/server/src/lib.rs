//! Mamori server: the REST API (`/api/v1`), the dashboard pages, sign-in and roles, and
//! `/metrics`, `/healthz`, `/readyz`. The scheduler, the scan workers and notification delivery
//! are `mamori-work`; [`run`] starts them too unless the process serves the API only. One
//! process runs all of it, or `--role api|worker` splits it; every process shares one database,
//! so several can run side by side on PostgreSQL.
//!
//! ```no_run
//! # async fn demo(state: mamori_server::AppState) -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let limits = mamori_server::HttpLimits::default();
//! mamori_server::serve(listener, mamori_server::app(state), limits, std::future::pending()).await
//! # }
//! ```

pub mod api;
pub mod auth;
pub mod authz;
pub mod error;
pub mod i18n;
pub mod ingest;
pub mod metrics;
pub mod ocsf;
pub mod openapi;
pub mod pages;
pub mod security;
mod serve;
pub use serve::{serve, HttpLimits};
pub mod service;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use mamori_store::{MasterKey, Store};
use mamori_work::{Collector, WorkConfig, WorkState};

/// Settings of a server process; every field has a sensible default.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Mark cookies `Secure` (on whenever the public URL is https).
    pub secure_cookies: bool,
    /// How long a login lasts without activity.
    pub session_ttl: Duration,
    /// Failed logins allowed per client address and per user name in `login_window`.
    pub login_attempts: usize,
    pub login_window: Duration,
    /// Password hashes (Argon2, 19 MiB each) computed for sign-ins at once; more wait up to
    /// 5 s, then get 503.
    pub login_concurrent_hashes: usize,
    /// Reverse proxies whose `X-Forwarded-For` names the client (CIDR); from any other peer
    /// the header is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Pushed audit logs (`POST /api/v1/tenants/{id}/logs/{source}`): the most bytes a request
    /// body may carry as sent, gzip or not (16 MiB) …
    pub log_push_max_body: u64,
    /// … and after decompression (128 MiB). Over either: 413.
    pub log_push_max_decompressed: u64,
    /// The HTTP listener's timeouts and connection cap.
    pub http: HttpLimits,
    /// The background work's settings (public URL, worker id, lease, tick, retention,
    /// concurrency, connector HTTP, notification targets).
    pub work: WorkConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            secure_cookies: false,
            session_ttl: Duration::from_secs(8 * 3600),
            login_attempts: 5,
            login_window: Duration::from_secs(300),
            login_concurrent_hashes: 4,
            trusted_proxies: Vec::new(),
            log_push_max_body: 16 << 20,
            log_push_max_decompressed: 128 << 20,
            http: HttpLimits::default(),
            work: WorkConfig::default(),
        }
    }
}

/// Everything a request handler needs; cheap to clone. Derefs (through [`Inner`]) to the
/// [`WorkState`], so `state.store`, `state.catalog`, `state.metrics` … read the same values the
/// background work uses.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub work: WorkState,
    /// The web settings; `config.work` is the same as `work.config`.
    pub config: ServerConfig,
    pub login_limiter: security::LoginLimiter,
    /// Permits for sign-in password hashing (see [`ServerConfig::login_concurrent_hashes`]).
    pub login_hashes: tokio::sync::Semaphore,
    ready: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl std::ops::Deref for Inner {
    type Target = WorkState;
    fn deref(&self) -> &WorkState {
        &self.work
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
        let work = WorkState::new(store, key, engine, collector, config.work.clone());
        let limiter = security::LoginLimiter::new(config.login_attempts, config.login_window);
        AppState(Arc::new(Inner {
            work,
            login_hashes: tokio::sync::Semaphore::new(config.login_concurrent_hashes.max(1)),
            config,
            login_limiter: limiter,
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
        .layer(axum::middleware::from_fn_with_state(
            state.config.http.request_timeout,
            serve::request_deadline,
        ))
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
    let background = if role != Role::Api {
        mamori_work::spawn(&state.work, stop_rx.clone())
    } else {
        Vec::new()
    };
    let router = if role == Role::Worker {
        metrics::routes().with_state(state.clone())
    } else {
        app(state.clone())
    };
    let drain_state = state.clone();
    let served = serve::serve(listener, router, state.config.http.clone(), async move {
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
