//! Scan workers: claim a job from the shared queue, keep its lease alive, collect the tenant
//! through its connector, evaluate, and record snapshot, results, findings and scores — then
//! queue notifications. A worker that loses its lease (it was too slow, or the database said
//! another worker owns the job now) records nothing.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use mamori_connect::collection::Collected;
use mamori_connect::HttpSettings;
use mamori_store::{App, FindingQuery, Job, JobStatus, ResultInput, ScanStatus, Scope};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::WorkState;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Reads one tenant into a snapshot. The real one calls the SaaS APIs; tests may substitute.
pub trait Collector: Send + Sync {
    fn collect<'a>(
        &'a self,
        app: App,
        credentials: &'a [u8],
        settings: HttpSettings,
    ) -> BoxFuture<'a, anyhow::Result<Collected>>;
}

/// The connectors of `mamori-connect`; the tenant's stored credentials are the same JSON as a
/// `mamori collect --credentials` file.
pub struct ConnectorCollector;

impl Collector for ConnectorCollector {
    fn collect<'a>(
        &'a self,
        app: App,
        credentials: &'a [u8],
        settings: HttpSettings,
    ) -> BoxFuture<'a, anyhow::Result<Collected>> {
        // The connectors' futures are not `Send` (they borrow across awaits in ways the
        // compiler cannot prove thread-safe), so each collection runs on its own
        // single-threaded runtime on a blocking thread; the worker only awaits the handle.
        let credentials = credentials.to_vec();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let text = std::str::from_utf8(&credentials)
                    .context("stored credentials are not UTF-8")?;
                let config = mamori_connect::AppConfig::from_document(app, text)
                    .context("stored credentials")?;
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("starting a collection runtime")?;
                Ok(rt.block_on(mamori_connect::collect(&config, settings, None))?)
            })
            .await
            .context("collection task")?
        })
    }
}

/// Claims and runs jobs until `stop` turns true. A database outage only pauses it.
pub async fn run_worker(state: WorkState, worker: String, mut stop: watch::Receiver<bool>) {
    tracing::info!(%worker, "scan worker started");
    let mut idle = Duration::from_millis(200);
    loop {
        if *stop.borrow() {
            break;
        }
        match state.store.claim_job(&worker, state.config.lease).await {
            Ok(Some(job)) => {
                idle = Duration::from_millis(200);
                run_job(&state, &worker, job).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(%worker, error = %e, "cannot claim a job; retrying");
                idle = Duration::from_secs(2);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(idle) => {}
            _ = stop.changed() => {}
        }
        idle = (idle * 2).min(Duration::from_secs(2));
    }
    tracing::info!(%worker, "scan worker stopped");
}

/// What one scan changed; queued as notifications and returned to tests.
#[derive(Debug, Clone, Serialize)]
pub struct ScanOutcome {
    pub scan_id: i64,
    pub requests: u64,
    pub results: usize,
    pub opened: usize,
    pub resolved: usize,
    pub reopened: usize,
}

async fn run_job(state: &WorkState, worker: &str, job: Job) {
    let Some(scan_id) = job.scan_id else {
        let _ = state
            .store
            .finish_job(job.id, worker, Err("job has no scan".into()))
            .await;
        return;
    };
    tracing::info!(job = job.id, scan = scan_id, tenant = job.tenant_id, %worker, "scan started");
    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let state = state.clone();
        let worker = worker.to_string();
        let lost = lost.clone();
        tokio::spawn(async move {
            let every = state.config.lease / 3;
            loop {
                tokio::time::sleep(every).await;
                match state
                    .store
                    .heartbeat(job.id, &worker, state.config.lease)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::SeqCst);
                        break;
                    }
                    // A short database outage: keep trying until the lease runs out.
                    Err(e) => tracing::warn!(job = job.id, error = %e, "heartbeat failed"),
                }
            }
        })
    };
    let result = execute(state, &job, scan_id, &lost).await;
    heartbeat.abort();
    match result {
        Ok(outcome) => {
            match record("the job's success", || {
                state.store.finish_job(job.id, worker, Ok(()))
            })
            .await
            {
                Some(true) => Metrics::inc(&state.metrics.scans_succeeded),
                _ => Metrics::inc(&state.metrics.scans_lease_lost),
            }
            tracing::info!(
                job = job.id,
                scan = scan_id,
                requests = outcome.requests,
                opened = outcome.opened,
                resolved = outcome.resolved,
                "scan succeeded"
            );
        }
        Err(e) if lost.load(Ordering::SeqCst) => {
            Metrics::inc(&state.metrics.scans_lease_lost);
            tracing::warn!(job = job.id, scan = scan_id, error = %format!("{e:#}"), "lease lost; scan abandoned");
        }
        Err(e) if is_transient(&e) => {
            // The database was unreachable or full: this scan failed, the job is tried again
            // later (a new scan), and only its last attempt's failure is notified.
            let message = format!("{e:#}");
            Metrics::inc(&state.metrics.scans_failed);
            let delay = retry_delay(state.config.retry, job.attempts);
            let status = record("the scan's failure", || {
                state.store.retry_job(job.id, worker, &message, delay)
            })
            .await
            .flatten();
            tracing::warn!(job = job.id, scan = scan_id, error = %message, ?status, retry_in = ?delay, "scan failed; the database may recover");
            if status == Some(JobStatus::Failed) {
                crate::notify::scan_failed(state, job.tenant_id, scan_id, &message).await;
            }
        }
        Err(e) => {
            let message = format!("{e:#}");
            Metrics::inc(&state.metrics.scans_failed);
            tracing::warn!(job = job.id, scan = scan_id, error = %message, "scan failed");
            if let Some(true) = record("the scan's failure", || {
                state.store.finish_job(job.id, worker, Err(message.clone()))
            })
            .await
            {
                crate::notify::scan_failed(state, job.tenant_id, scan_id, &message).await;
            }
        }
    }
}

/// Whether an error came from the database in a way that may pass (see
/// [`mamori_store::Error::is_transient`]).
fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<mamori_store::Error>()
            .is_some_and(mamori_store::Error::is_transient)
    })
}

/// How long a job waits before its next attempt: `base` after the first, twice that after the
/// second, up to ten times.
fn retry_delay(base: Duration, attempts: i64) -> Duration {
    base * attempts.clamp(1, 10) as u32
}

/// Writes a job's end, trying again for about 15 s while the database is unreachable: a short
/// outage must not leave the job to wait for its lease to expire. `None` when it could not be
/// written; the lease then expires and the scheduler hands the job back to the queue.
async fn record<T, F, Fut>(what: &str, mut write: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = mamori_store::Result<T>>,
{
    let mut wait = Duration::from_millis(500);
    for attempt in 1..=6 {
        match write().await {
            Ok(v) => return Some(v),
            Err(e) if attempt < 6 && e.is_transient() => {
                tracing::warn!(error = %e, attempt, "cannot record {what} yet; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot record {what}; the job's lease will expire and the job will be queued again");
                return None;
            }
        }
    }
    None
}

async fn execute(
    state: &WorkState,
    job: &Job,
    scan_id: i64,
    lost: &AtomicBool,
) -> anyhow::Result<ScanOutcome> {
    let store = &state.store;
    let tenant = store
        .get_tenant(job.tenant_id)
        .await?
        .ok_or_else(|| anyhow!("tenant {} no longer exists", job.tenant_id))?;
    let credentials = store.tenant_credentials(&state.key, tenant.id).await?;
    let collected = state
        .collector
        .collect(
            tenant.app,
            credentials.as_bytes(),
            state.config.http.clone(),
        )
        .await?;
    let requests = collected.total_requests();
    let snapshot = collected.into_snapshot();
    let engine = state.engine.clone();
    // The snapshot moves to the blocking pool and back: evaluated and saved, never copied.
    let (snapshot, evaluation) = tokio::task::spawn_blocking(move || {
        let evaluation =
            engine.evaluate_snapshot(&snapshot, &mamori_policy::EvalOptions::default());
        (snapshot, evaluation)
    })
    .await
    .context("evaluation task")?;
    let evaluation = evaluation?;
    if lost.load(Ordering::SeqCst) {
        anyhow::bail!("lease lost before recording");
    }
    store
        .save_snapshot(scan_id, &snapshot)
        .await
        .context("saving the snapshot")?;
    let inputs: Vec<ResultInput> = evaluation.results.iter().map(ResultInput::from).collect();
    let summary = store.record_results(scan_id, &inputs).await?;
    let accepted = accepted_controls(state, tenant.id).await?;
    let scores = crate::score::scores(&evaluation, tenant.app.as_str(), &state.catalog, &accepted);
    store.record_scores(scan_id, &scores).await?;
    store
        .finish_scan(scan_id, ScanStatus::Succeeded, requests as i64, None)
        .await?;
    if let Err(e) = store
        .prune_tenant_snapshots(tenant.id, state.config.snapshot_retention.max(1))
        .await
    {
        tracing::warn!(error = %e, "snapshot retention");
    }
    crate::notify::scan_findings(state, &tenant, scan_id).await;
    Ok(ScanOutcome {
        scan_id,
        requests,
        results: summary.results,
        opened: summary.opened,
        resolved: summary.resolved,
        reopened: summary.reopened,
    })
}

/// Failing controls whose every active finding is covered by an approved exception.
async fn accepted_controls(state: &WorkState, tenant_id: i64) -> anyhow::Result<HashSet<String>> {
    let mut by_control: BTreeMap<String, bool> = BTreeMap::new();
    let mut q = FindingQuery {
        scope: Scope::All,
        tenant_id: Some(tenant_id),
        active_only: true,
        limit: 500,
        ..FindingQuery::default()
    };
    loop {
        let page = state.store.list_findings(&q).await?;
        for f in &page.items {
            let all = by_control
                .entry(f.finding.control_id.clone())
                .or_insert(true);
            *all &= f.accepted_exception_id.is_some();
        }
        q.offset += page.items.len() as i64;
        if page.items.is_empty() || !page.has_more() {
            break;
        }
    }
    Ok(by_control
        .into_iter()
        .filter(|(_, all)| *all)
        .map(|(c, _)| c)
        .collect())
}

/// One changed top-level section of the provider export between two snapshots.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SectionChange {
    pub section: String,
    /// `added`, `removed` or `changed`.
    pub change: &'static str,
    /// JSON pointers of the values that differ (at most 20).
    pub paths: Vec<String>,
}

/// Which settings changed: the sections of `after` that differ from `before` (the snapshots'
/// `data`), ignoring Mamori's own bookkeeping sections.
pub fn section_diff(before: &Value, after: &Value) -> Vec<SectionChange> {
    let empty = serde_json::Map::new();
    let b = before["data"].as_object().unwrap_or(&empty);
    let a = after["data"].as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key in keys {
        // Bookkeeping that changes every run, not a setting.
        if key == "mamori_collection"
            || key == "mamori_collected_at"
            || key == "timestamp_zulu"
            || key == "report_uuid"
            || key.ends_with("_successful_commands")
            || key.ends_with("_unsuccessful_commands")
        {
            continue;
        }
        match (b.get(key), a.get(key)) {
            (None, Some(_)) => out.push(SectionChange {
                section: key.clone(),
                change: "added",
                paths: vec![],
            }),
            (Some(_), None) => out.push(SectionChange {
                section: key.clone(),
                change: "removed",
                paths: vec![],
            }),
            (Some(x), Some(y)) if x != y => {
                let mut paths = Vec::new();
                diff_paths(x, y, &mut format!("/{key}"), &mut paths);
                out.push(SectionChange {
                    section: key.clone(),
                    change: "changed",
                    paths,
                });
            }
            _ => {}
        }
    }
    out
}

fn diff_paths(a: &Value, b: &Value, path: &mut String, out: &mut Vec<String>) {
    if out.len() >= 20 || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => diff_paths(p, q, path, out),
                    _ => out.push(path.clone()),
                }
                path.truncate(len);
                if out.len() >= 20 {
                    return;
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                diff_paths(p, q, path, out);
                path.truncate(len);
            }
        }
        _ => out.push(path.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_diff_names_changed_settings() {
        let before = serde_json::json!({"data": {"a": {"x": 1, "y": [1, 2]}, "gone": 1, "same": true, "mamori_collection": 1}});
        let after = serde_json::json!({"data": {"a": {"x": 2, "y": [1, 3]}, "new": 1, "same": true, "mamori_collection": 2}});
        let d = section_diff(&before, &after);
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].section, "a");
        assert_eq!(d[0].paths, vec!["/a/x", "/a/y/1"]);
        assert_eq!((d[1].section.as_str(), d[1].change), ("gone", "removed"));
        assert_eq!((d[2].section.as_str(), d[2].change), ("new", "added"));
    }
}
