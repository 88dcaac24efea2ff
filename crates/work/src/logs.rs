//! Threat detection in the service: tenants' audit logs pulled on a schedule (log-pull jobs in
//! the job queue) or pushed to the API (the spool), run through the tenant's detector, and
//! committed batch by batch — event ids, alerts, the detector's state and the checkpoint in one
//! transaction ([`mamori_store::Store::commit_log_batch`]) — so a killed worker resumes with no
//! gap and no duplicate. The flood guard meters every tenant and throttles, then suspends, one
//! that floods the service with logs, without slowing the others or any posture scan.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, Context};
use jiff::{SignedDuration, Timestamp};
use mamori_core::LogSource;
use mamori_detect::{
    normalise, normalise_line, Detector, DetectorOptions, DetectorState, FieldFilter, RuleSet,
};
use mamori_notify::{EventKind, NotifiedFinding};

use crate::notify::{enqueue_with, Message};
use mamori_store::{event_id_hash, Committed, GuardState, Job, LogCommit, NewAlert, Store, Tenant};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use crate::metrics::Metrics;
use crate::WorkState;

/// Settings of log collection and detection; every field has a default.
#[derive(Debug, Clone)]
pub struct LogsConfig {
    /// Operator Sigma rule folders loaded beside Mamori's own rules.
    pub rules_dirs: Vec<PathBuf>,
    /// Leave Mamori's own rules out (only `rules_dirs`).
    pub no_builtin_rules: bool,
    /// How often each tenant's logs are pulled; `None`: no scheduled pulls (push only).
    pub pull_interval: Option<Duration>,
    /// Where a tenant's first pull starts, before now.
    pub first_pull_lookback: Duration,
    /// A fixed start for first pulls instead (a backfill from a known time).
    pub first_pull_start: Option<Timestamp>,
    /// Log workers per process (each takes pushed batches and pull jobs in turn).
    pub workers: usize,
    /// How long a leased spooled batch stays ours.
    pub spool_lease: Duration,
    /// Event ids are remembered this long (the sources deliver nothing older: the Management
    /// Activity API keeps 7 days).
    pub seen_retention: Duration,
    pub guard: GuardConfig,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            rules_dirs: Vec::new(),
            no_builtin_rules: false,
            // Off unless configured: the server turns it on (`--log-pull-secs`); a library user or a
            // test that only pushes gets no pulls behind its back.
            pull_interval: None,
            first_pull_lookback: Duration::from_secs(24 * 3600),
            first_pull_start: None,
            // One worker waits on the database about half the time (mamori-bench --ingest).
            workers: 2,
            spool_lease: Duration::from_secs(120),
            seen_retention: Duration::from_secs(8 * 24 * 3600),
            guard: GuardConfig::default(),
        }
    }
}

/// The flood guard: a tenant whose logs stay above a rate for a whole window is throttled, and
/// one that stays above a higher rate is suspended. Rates are events (or bytes) per minute,
/// from the per-minute metering of pulls and pushes.
#[derive(Debug, Clone)]
pub struct GuardConfig {
    /// Complete minutes every one of which must be over a threshold.
    pub window_minutes: i64,
    pub throttle_events_per_minute: i64,
    pub throttle_bytes_per_minute: i64,
    pub suspend_events_per_minute: i64,
    pub suspend_bytes_per_minute: i64,
    /// How long a throttle lasts (pushers get 429 with `Retry-After`, pulls run less often).
    pub throttle_for: Duration,
    /// How long a suspension lasts before processing resumes by itself; `None`: until an
    /// operator resumes it.
    pub suspend_for: Option<Duration>,
    /// Pulls of a throttled tenant run this many times less often.
    pub throttled_pull_factor: u32,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            window_minutes: 5,
            throttle_events_per_minute: 60_000,
            throttle_bytes_per_minute: 120 * 1024 * 1024,
            suspend_events_per_minute: 240_000,
            suspend_bytes_per_minute: 480 * 1024 * 1024,
            throttle_for: Duration::from_secs(15 * 60),
            suspend_for: Some(Duration::from_secs(6 * 3600)),
            throttled_pull_factor: 4,
        }
    }
}

/// The rules and the detectors kept warm between batches.
#[derive(Default)]
pub struct Detection {
    rules: OnceLock<Result<LoadedRules, String>>,
    /// Per (tenant, source): the stream version the detector is at, and the detector. A batch
    /// whose stream moved elsewhere (another worker) rebuilds it from the stored state.
    warm: Mutex<HashMap<(i64, LogSource), (i64, Detector)>>,
}

/// The rule set and what it derives once: the record members its rules read (pushed lines
/// keep only those).
#[derive(Clone)]
pub struct LoadedRules {
    pub rules: Arc<RuleSet>,
    pub filter: Arc<FieldFilter>,
}

/// Warm detectors kept per process (beyond, the oldest are rebuilt from the store).
const MAX_WARM: usize = 2_000;
/// Records per batch handed to the detector from one spooled push.
const SPOOL_CHUNK: usize = 5_000;
/// Decompressed size cap of a spooled batch (the API's own limit is lower).
const MAX_SPOOLED_BYTES: u64 = 512 * 1024 * 1024;

impl Detection {
    /// The rule set (built once per process; a bad rule folder is an error naming it).
    pub fn rules(&self, config: &LogsConfig) -> anyhow::Result<LoadedRules> {
        let built = self.rules.get_or_init(|| {
            let mut rules = if config.no_builtin_rules {
                RuleSet::default()
            } else {
                RuleSet::builtin().map_err(|e| format!("{e:#}"))?
            };
            for dir in &config.rules_dirs {
                rules
                    .add_dir(dir)
                    .map_err(|e| format!("rules in {}: {e:#}", dir.display()))?;
            }
            Ok(LoadedRules {
                filter: Arc::new(rules.field_filter()),
                rules: Arc::new(rules),
            })
        });
        built.clone().map_err(|e| anyhow!(e))
    }

    fn take(&self, key: (i64, LogSource), version: i64) -> Option<Detector> {
        let mut warm = self.warm.lock().unwrap_or_else(|p| p.into_inner());
        match warm.remove(&key) {
            Some((v, d)) if v == version => Some(d),
            _ => None,
        }
    }

    fn put(&self, key: (i64, LogSource), version: i64, detector: Detector) {
        let mut warm = self.warm.lock().unwrap_or_else(|p| p.into_inner());
        if warm.len() >= MAX_WARM {
            // Rare: drop an arbitrary tenth; they are rebuilt from the store when needed.
            let drop: Vec<_> = warm.keys().take(MAX_WARM / 10).copied().collect();
            for k in drop {
                warm.remove(&k);
            }
        }
        warm.insert(key, (version, detector));
    }

    fn forget(&self, key: (i64, LogSource)) {
        self.warm
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
    }
}

/// The log sources of a tenant's application.
pub fn sources_of(app: mamori_core::App) -> Vec<LogSource> {
    LogSource::of_app(app)
}

fn new_alert(a: &mamori_detect::Alert) -> NewAlert {
    NewAlert {
        alert_key: a.key(),
        rule_id: a.rule_id.clone(),
        source: a.source.as_str().parse().unwrap_or(LogSource::M365),
        kind: a.kind.as_str().to_string(),
        severity: mamori_detect::severity_of_level(&a.severity),
        title: a.title.clone(),
        response: a.response.clone(),
        attack: a.attack.clone(),
        entities: a.entities.clone(),
        event_ids: a.event_ids.clone(),
        count: a.count as i64,
        first_seen: Timestamp::from_second(a.first_epoch).unwrap_or(Timestamp::UNIX_EPOCH),
        last_seen: Timestamp::from_second(a.last_epoch).unwrap_or(Timestamp::UNIX_EPOCH),
    }
}

/// Records of one batch and where they came from.
pub struct BatchInput {
    pub tenant: Tenant,
    pub source: LogSource,
    pub records: Records,
    /// The pull's checkpoint once these records are stored (pulls only).
    pub checkpoint: Option<Value>,
    /// The spooled batch these records are (pushes only), with the worker's lease.
    pub spool: Option<(i64, String)>,
    /// Bytes to meter (pulls; pushes are metered when received).
    pub metered_bytes: Option<i64>,
}

/// A batch's records as they came.
pub enum Records {
    /// Pulled: parsed by the connector.
    Parsed(Vec<Value>),
    /// Pushed: NDJSON text, parsed here keeping only the members the rules read.
    Lines(Lines),
}

impl Default for Records {
    fn default() -> Self {
        Records::Parsed(Vec::new())
    }
}

/// Lines of a decompressed push: (line number, start, end) into the shared text.
#[derive(Clone)]
pub struct Lines {
    pub text: Arc<Vec<u8>>,
    pub lines: Vec<(u32, usize, usize)>,
}

/// What one committed batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub events: i64,
    pub duplicates: i64,
    pub quarantined: i64,
    pub committed: Committed,
}

/// Attempts of a batch that loses the race for its stream to another worker.
const COMMIT_ATTEMPTS: usize = 5;

/// Normalises, deduplicates and detects one batch, and commits it (see the module docs).
pub async fn process_batch(state: &WorkState, input: BatchInput) -> anyhow::Result<BatchOutcome> {
    let LoadedRules { rules, filter } = state.detection.rules(&state.config.logs)?;
    let source = input.source;
    let tenant_key: std::sync::Arc<str> = input.tenant.display_name.as_str().into();
    let records = input.records;
    // Normalising is CPU work: off the async threads.
    let (mut events, quarantine) = tokio::task::spawn_blocking(move || {
        let mut quarantine: Vec<(String, String)> = Vec::new();
        // Every refused record is counted; the store keeps the text of the first ones.
        let mut quarantine_raw = |why: String, raw: &str| {
            let kept = if quarantine.len() < mamori_store::MAX_QUARANTINED_PER_BATCH {
                mamori_store::truncate_utf8(raw, mamori_store::MAX_QUARANTINED_BYTES).to_string()
            } else {
                String::new()
            };
            quarantine.push((why, kept));
        };
        let mut events = Vec::new();
        match records {
            Records::Parsed(records) => {
                events.reserve(records.len());
                for record in records {
                    match normalise(source, record, Some(&tenant_key)) {
                        Ok(list) => events.extend(list),
                        Err(rejected) => quarantine_raw(
                            rejected.why.to_string(),
                            &serde_json::to_string(&rejected.record).unwrap_or_default(),
                        ),
                    }
                }
            }
            Records::Lines(Lines { text, lines }) => {
                events.reserve(lines.len());
                for (number, start, end) in lines {
                    let line = &text[start..end];
                    let why = match normalise_line(source, line, Some(&tenant_key), &filter) {
                        Ok(Ok(list)) => {
                            events.extend(list);
                            continue;
                        }
                        Ok(Err(rejected)) if !rejected.record.is_object() => {
                            format!("line {number}: not a JSON object")
                        }
                        Ok(Err(rejected)) => rejected.why.to_string(),
                        Err(e) => format!("line {number}: not JSON ({e})"),
                    };
                    quarantine_raw(why, &String::from_utf8_lossy(line));
                }
            }
        }
        events.sort_by_key(|e| e.epoch());
        (events, quarantine)
    })
    .await
    .context("normalising a batch")?;

    // Duplicates inside the batch, then against what the stream already processed.
    let mut hashes: Vec<i64> = Vec::with_capacity(events.len());
    let mut in_batch = std::collections::HashSet::with_capacity(events.len());
    let before = events.len();
    events.retain(|e| {
        let h = event_id_hash(&e.id());
        if in_batch.insert(h) {
            hashes.push(h);
            true
        } else {
            false
        }
    });
    let mut duplicates = (before - events.len()) as i64;
    let seen = state
        .store
        .seen_event_ids(input.tenant.id, input.source, &hashes)
        .await?;
    if !seen.is_empty() {
        let before = events.len();
        // `hashes` holds each kept event's id hash, in order: no id is hashed twice.
        let mut fresh = hashes.iter().map(|h| !seen.contains(h));
        events.retain(|_| fresh.next().unwrap_or(true));
        hashes.retain(|h| !seen.contains(h));
        duplicates += (before - events.len()) as i64;
    }
    let events = Arc::new(events);
    let hashes = Arc::new(hashes);
    let key = (input.tenant.id, input.source);
    for attempt in 0..COMMIT_ATTEMPTS {
        // A warm detector needs only the version; the saved state is read when it is not.
        let version = state
            .store
            .log_stream_version(input.tenant.id, input.source)
            .await?
            .unwrap_or(0);
        let detector = match state.detection.take(key, version) {
            Some(d) => d,
            None => {
                let stream = state
                    .store
                    .log_stream(input.tenant.id, input.source)
                    .await?;
                let version_read = stream.as_ref().map_or(0, |s| s.version);
                if version_read != version {
                    // Moved between the two reads: start the attempt again.
                    continue;
                }
                let mut d = Detector::new(&rules, DetectorOptions::default())
                    .context("compiling the detection rules")?;
                if let Some(bytes) = stream.as_ref().and_then(|s| s.state.as_deref()) {
                    let restored =
                        DetectorState::from_bytes(bytes).and_then(|st| d.import_state(st));
                    if let Err(e) = restored {
                        // A state this version cannot read (an upgrade): detection starts over
                        // rather than stopping the tenant's logs for good.
                        tracing::warn!(tenant = key.0, source = %key.1, error = %e, "stored detector state unreadable; starting afresh");
                        d = Detector::new(&rules, DetectorOptions::default())?;
                    }
                }
                d
            }
        };
        let batch_events = events.clone();
        let (detector, changed, state_bytes, last_epoch) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let mut detector = detector;
                for e in batch_events.iter() {
                    detector.process(e);
                }
                let last = batch_events.last().map(|e| e.epoch());
                let changed = detector.take_changed(last.unwrap_or(0));
                let bytes = detector.export_state().to_bytes()?;
                Ok((detector, changed, bytes, last))
            })
            .await
            .context("detecting")??;
        let alerts: Vec<NewAlert> = changed.iter().map(new_alert).collect();
        let commit = LogCommit {
            tenant_id: input.tenant.id,
            source: input.source,
            expected_version: version,
            checkpoint: input.checkpoint.as_ref(),
            state: &state_bytes,
            seen: &hashes,
            alerts: &alerts,
            events: events.len() as i64,
            duplicates,
            quarantined: quarantine.len() as i64,
            last_event_at: last_epoch.and_then(|s| Timestamp::from_second(s).ok()),
            metered_bytes: input.metered_bytes,
            spool: input.spool.as_ref().map(|(id, w)| (*id, w.as_str())),
            quarantine: &quarantine,
        };
        match state.store.commit_log_batch(&commit).await {
            Ok(committed) => {
                state.detection.put(key, version + 1, detector);
                Metrics::add(&state.metrics.log_events, events.len() as u64);
                Metrics::add(&state.metrics.alerts_raised, committed.created.len() as u64);
                if !committed.created.is_empty() {
                    notify_alerts(state, &input.tenant, &committed.created).await;
                }
                return Ok(BatchOutcome {
                    events: events.len() as i64,
                    duplicates,
                    quarantined: quarantine.len() as i64,
                    committed,
                });
            }
            Err(mamori_store::Error::Conflict(m))
                if input.spool.is_none() || !m.contains("spooled") =>
            {
                // Another worker committed this stream meanwhile: rebuild from its state.
                state.detection.forget(key);
                tracing::info!(tenant = key.0, source = %key.1, attempt, "log stream moved on; retrying the batch");
                continue;
            }
            Err(e) => {
                state.detection.forget(key);
                return Err(e.into());
            }
        }
    }
    Err(anyhow!(
        "log stream {} of tenant {} kept moving under this worker",
        input.source,
        input.tenant.id
    ))
}

/// Queues notifications of new alerts (each channel gets those at or above its severity).
async fn notify_alerts(state: &WorkState, tenant: &Tenant, ids: &[i64]) {
    let mut alerts = Vec::new();
    for id in ids {
        if let Ok(Some(a)) = state.store.get_alert(mamori_store::Scope::All, *id).await {
            alerts.push(a);
        }
    }
    let message = Message {
        event: EventKind::ThreatAlerts,
        scan_id: 0,
        path: format!("/alerts?tenant_id={}", tenant.id),
        error: None,
        operators_only: false,
    };
    enqueue_with(state, tenant, message, |lang, min| {
        alerts
            .iter()
            .filter(|a| a.severity.rank() <= min.rank())
            .map(|a| NotifiedFinding {
                control_id: a.rule_id.clone(),
                title: a.title.get(lang).to_string(),
                severity: a.severity.as_str().to_string(),
                change: "alert".into(),
                resource: a
                    .entities
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect()
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Workers

/// Tenants whose log processing is suspended now.
async fn suspended(store: &Store) -> Vec<i64> {
    let now = Timestamp::now();
    match store.log_guards(mamori_store::Scope::All).await {
        Ok(guards) => guards
            .into_iter()
            .filter(|g| g.effective(now) == GuardState::Suspended)
            .map(|g| g.tenant_id)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Takes pushed batches and log-pull jobs in turn until `stop` turns true.
pub async fn run_worker(state: WorkState, worker: String, mut stop: watch::Receiver<bool>) {
    tracing::info!(%worker, "log worker started");
    let mut idle = Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            break;
        }
        let exclude = suspended(&state.store).await;
        let mut worked = false;
        match state
            .store
            .claim_spooled(&worker, state.config.logs.spool_lease, &exclude)
            .await
        {
            Ok(Some(item)) => {
                worked = true;
                run_spooled(&state, &worker, item).await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(%worker, error = %e, "cannot claim a spooled batch"),
        }
        match state
            .store
            .claim_log_pull(&worker, state.config.lease, &exclude)
            .await
        {
            Ok(Some(job)) => {
                worked = true;
                run_pull(&state, &worker, job).await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(%worker, error = %e, "cannot claim a log pull"),
        }
        if worked {
            idle = Duration::from_millis(100);
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(idle) => {}
            _ = stop.changed() => {}
        }
        idle = (idle * 2).min(Duration::from_secs(1));
    }
    tracing::info!(%worker, "log worker stopped");
}

/// Decompresses a spooled push into its non-empty lines (parsed later, per chunk).
fn spooled_lines(body: &[u8]) -> anyhow::Result<Lines> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(body)
        .take(MAX_SPOOLED_BYTES + 1)
        .read_to_end(&mut text)
        .context("the spooled batch is not valid gzip")?;
    if text.len() as u64 > MAX_SPOOLED_BYTES {
        return Err(anyhow!(
            "the spooled batch is over {MAX_SPOOLED_BYTES} bytes decompressed"
        ));
    }
    let mut lines = Vec::new();
    let mut start = 0usize;
    for (n, piece) in text.split(|b| *b == b'\n').enumerate() {
        let end = start + piece.len();
        let lead = piece.len() - piece.trim_ascii_start().len();
        let trail = piece.len() - piece.trim_ascii_end().len();
        if lead < piece.len() {
            lines.push(((n + 1) as u32, start + lead, end - trail));
        }
        start = end + 1;
    }
    Ok(Lines {
        text: Arc::new(text),
        lines,
    })
}

async fn run_spooled(state: &WorkState, worker: &str, item: mamori_store::SpoolItem) {
    let tenant = match state.store.get_tenant(item.tenant_id).await {
        Ok(Some(t)) => t,
        _ => return,
    };
    let parsed = {
        let body = item.body.clone();
        tokio::task::spawn_blocking(move || spooled_lines(&body)).await
    };
    let records = match parsed {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            // Unreadable as a whole (the API checked it, so this is damage): recorded on the
            // stream and dropped from the queue, so the tenant's later batches still flow.
            let message = format!("{e:#}");
            let _ = state
                .store
                .set_log_stream_error(tenant.id, item.source, Some(&message))
                .await;
            let empty = BatchInput {
                tenant,
                source: item.source,
                records: Records::default(),
                checkpoint: None,
                spool: Some((item.id, worker.to_string())),
                metered_bytes: None,
            };
            let _ = process_batch(state, empty).await;
            return;
        }
        Err(e) => {
            let _ = state
                .store
                .release_spooled(item.id, worker, &e.to_string(), Duration::from_secs(5))
                .await;
            return;
        }
    };
    // A big push is detected in chunks, but committed once: the spooled row is consumed by
    // the last chunk, so a crash mid-way re-reads it and the seen ids skip what was committed.
    let total = records.lines.len();
    let chunks: Vec<Lines> = records
        .lines
        .chunks(SPOOL_CHUNK)
        .map(|c| Lines {
            text: records.text.clone(),
            lines: c.to_vec(),
        })
        .collect();
    let chunks = if chunks.is_empty() {
        vec![records]
    } else {
        chunks
    };
    let n = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let last = i + 1 == n;
        let input = BatchInput {
            tenant: tenant.clone(),
            source: item.source,
            records: Records::Lines(chunk),
            checkpoint: None,
            spool: last.then(|| (item.id, worker.to_string())),
            metered_bytes: None,
        };
        match process_batch(state, input).await {
            Ok(outcome) => {
                if outcome.quarantined > 0 {
                    tracing::info!(tenant = tenant.id, source = %item.source, bad = outcome.quarantined, "malformed pushed lines quarantined");
                }
            }
            Err(e) => {
                let message = format!("{e:#}");
                tracing::warn!(tenant = tenant.id, source = %item.source, error = %message, "pushed batch failed; retrying");
                let _ = state
                    .store
                    .release_spooled(item.id, worker, &message, Duration::from_secs(5))
                    .await;
                return;
            }
        }
    }
    tracing::debug!(tenant = tenant.id, source = %item.source, records = total, "pushed batch processed");
}

/// Pulls every log source of the job's tenant from its checkpoint to now.
async fn run_pull(state: &WorkState, worker: &str, job: Job) {
    // The lease is kept while the pull runs (a week of logs takes minutes); a worker that
    // loses it stops at its next batch, and the stream's version keeps two from committing
    // the same records meanwhile.
    let heartbeat = {
        let state = state.clone();
        let worker = worker.to_string();
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
                    Ok(false) => break,
                    Err(e) => tracing::warn!(job = job.id, error = %e, "heartbeat failed"),
                }
            }
        })
    };
    let result = pull_tenant(state, job.tenant_id).await;
    heartbeat.abort();
    let outcome = result.map_err(|e| format!("{e:#}"));
    if let Err(e) = &outcome {
        tracing::warn!(job = job.id, tenant = job.tenant_id, error = %e, "log pull failed");
    }
    let _ = state.store.finish_job(job.id, worker, outcome).await;
}

/// Pulls and processes the tenant's log sources; a source that fails is recorded on its
/// stream and the others still run. Returns an error naming the failed sources.
pub async fn pull_tenant(state: &WorkState, tenant_id: i64) -> anyhow::Result<()> {
    let tenant = state
        .store
        .get_tenant(tenant_id)
        .await?
        .ok_or_else(|| anyhow!("tenant {tenant_id} not found"))?;
    let credentials = state
        .store
        .tenant_credentials(&state.key, tenant.id)
        .await
        .context("tenant credentials")?;
    let text = String::from_utf8(credentials.as_bytes().to_vec())
        .context("stored credentials are not UTF-8")?;
    let config = Arc::new(
        mamori_connect::AppConfig::from_document(tenant.app, &text)
            .context("stored credentials")?,
    );
    let mut failed = Vec::new();
    for source in sources_of(tenant.app) {
        if let Err(e) = pull_source(state, &tenant, config.clone(), source).await {
            let message = format!("{e:#}");
            let _ = state
                .store
                .set_log_stream_error(tenant.id, source, Some(&message))
                .await;
            failed.push(format!("{source}: {message}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(anyhow!("{}", failed.join("; ")))
    }
}

type Handoff = (
    mamori_connect::logs::Batch,
    oneshot::Sender<Result<(), String>>,
);

async fn pull_source(
    state: &WorkState,
    tenant: &Tenant,
    config: Arc<mamori_connect::AppConfig>,
    source: LogSource,
) -> anyhow::Result<()> {
    use mamori_connect::logs::{pull_with, LogCheckpoint, PullOptions};
    let stream = state.store.log_stream(tenant.id, source).await?;
    let tenant_key = format!("tenant-{}", tenant.id);
    let checkpoint = match stream.as_ref().and_then(|s| s.checkpoint.clone()) {
        Some(v) => serde_json::from_value::<LogCheckpoint>(v).context("stored checkpoint")?,
        None => LogCheckpoint::new(
            tenant_key,
            source,
            state.config.logs.first_pull_start.unwrap_or_else(|| {
                Timestamp::now()
                    - SignedDuration::try_from(state.config.logs.first_pull_lookback)
                        .unwrap_or(SignedDuration::from_hours(24))
            }),
        ),
    };
    let options = PullOptions {
        http: state.config.http.clone(),
        ..PullOptions::default()
    };
    let (tx, mut rx) = mpsc::channel::<Handoff>(1);
    // The connectors' futures are not `Send`: the pull runs on its own single-threaded runtime
    // on a blocking thread and hands each batch here, waiting until it is committed.
    let pulling = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting a log pull runtime")?;
        rt.block_on(async move {
            let mut sink = HandoffSink(tx);
            let until = Timestamp::now();
            pull_with(&config, source, &checkpoint, until, &options, &mut sink)
                .await
                .map_err(anyhow::Error::from)
        })
    });
    while let Some((batch, done)) = rx.recv().await {
        let bytes: i64 = batch.records.iter().map(json_len).sum();
        let checkpoint = serde_json::to_value(&batch.checkpoint).ok();
        let input = BatchInput {
            tenant: tenant.clone(),
            source,
            records: Records::Parsed(batch.records),
            checkpoint,
            spool: None,
            metered_bytes: Some(bytes),
        };
        let result = process_batch(state, input)
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:#}"));
        let _ = done.send(result);
    }
    let (_, outcome) = pulling.await.context("log pull task")??;
    let errors: Vec<String> = outcome
        .errors()
        .map(|(stream, e)| format!("{stream}: {}", e.message))
        .collect();
    for gap in &outcome.gaps {
        tracing::warn!(tenant = tenant.id, %source, stream = %gap.stream, from = %gap.from, to = %gap.to, reason = %gap.reason, "log gap: records no longer available");
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(anyhow!("{}", errors.join("; ")))
    }
}

/// A record's size as one NDJSON line (metering), counted without building the text.
fn json_len(record: &Value) -> i64 {
    struct Count(i64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as i64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(1);
    let _ = serde_json::to_writer(&mut count, record);
    count.0
}

struct HandoffSink(mpsc::Sender<Handoff>);

impl mamori_connect::logs::LogSink for HandoffSink {
    async fn accept(
        &mut self,
        batch: mamori_connect::logs::Batch,
    ) -> Result<(), mamori_connect::logs::SinkError> {
        let (done, committed) = oneshot::channel();
        self.0
            .send((batch, done))
            .await
            .map_err(|_| "the log worker stopped")?;
        match committed.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err("the log worker stopped".into()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Scheduling and the flood guard

/// One pass of log scheduling at `now`: queue due pulls, run the flood guard, prune old ids.
pub async fn tick(state: &WorkState, now: Timestamp) -> anyhow::Result<GuardTick> {
    let guard = run_guard(state, now).await?;
    if let Some(interval) = state.config.logs.pull_interval {
        let interval_s = interval.as_secs().max(1) as i64;
        let guards: HashMap<i64, GuardState> = state
            .store
            .log_guards(mamori_store::Scope::All)
            .await?
            .into_iter()
            .map(|g| (g.tenant_id, g.effective(now)))
            .collect();
        for tenant in state.store.list_tenants(None).await? {
            if sources_of(tenant.app).is_empty() || !tenant.has_credentials {
                continue;
            }
            let every = match guards.get(&tenant.id) {
                Some(GuardState::Suspended) => continue,
                Some(GuardState::Throttled) => {
                    interval_s * i64::from(state.config.logs.guard.throttled_pull_factor.max(1))
                }
                _ => interval_s,
            };
            let slot = now.as_second().div_euclid(every) * every;
            let slot = Timestamp::from_second(slot).unwrap_or(now);
            state.store.enqueue_log_pull(tenant.id, Some(slot)).await?;
        }
    }
    Ok(guard)
}

/// What the guard changed in one pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GuardTick {
    pub throttled: Vec<i64>,
    pub suspended: Vec<i64>,
}

/// Reads the metering of the last window and throttles or suspends tenants over the limits.
pub async fn run_guard(state: &WorkState, now: Timestamp) -> anyhow::Result<GuardTick> {
    let g = &state.config.logs.guard;
    let window = g.window_minutes.max(1);
    let current_minute = now.as_second().div_euclid(60);
    // Complete minutes only: the one in progress is still filling.
    let first = current_minute - window;
    let since = Timestamp::from_second(first * 60).unwrap_or(now);
    let rows = state
        .store
        .log_meter(mamori_store::Scope::All, None, since)
        .await?;
    let mut per_tenant: HashMap<i64, Vec<&mamori_store::MeterRow>> = HashMap::new();
    for r in &rows {
        if r.minute < current_minute {
            per_tenant.entry(r.tenant_id).or_default().push(r);
        }
    }
    let mut done = GuardTick::default();
    for (tenant_id, mut minutes) in per_tenant {
        let current = state.store.log_guard(tenant_id).await?;
        // After an operator resumes a tenant (or set it normal), the minutes before count no
        // more: it gets at least a whole window before the guard acts again.
        if let Some(resumed) = current.as_ref().filter(|c| c.state == GuardState::Normal) {
            let floor = resumed.since.as_second().div_euclid(60) + 1;
            minutes.retain(|m| m.minute >= floor);
        }
        let over = |events: i64, bytes: i64| {
            minutes.len() as i64 >= window
                && minutes
                    .iter()
                    .all(|m| m.events >= events || m.bytes >= bytes)
        };
        let peak = minutes.iter().map(|m| m.events).min().unwrap_or(0);
        let effective = current
            .as_ref()
            .map_or(GuardState::Normal, |c| c.effective(now));
        if over(g.suspend_events_per_minute, g.suspend_bytes_per_minute) {
            if effective == GuardState::Suspended {
                continue;
            }
            let reason = format!(
                "log flood: at least {peak} events per minute for {window} minutes (limit {} per minute)",
                g.suspend_events_per_minute
            );
            let until = g
                .suspend_for
                .and_then(|d| SignedDuration::try_from(d).ok())
                .map(|d| now + d);
            state
                .store
                .set_log_guard(tenant_id, GuardState::Suspended, &reason, until, None)
                .await?;
            done.suspended.push(tenant_id);
            Metrics::inc(&state.metrics.log_suspensions);
            let tenant = state.store.get_tenant(tenant_id).await?;
            if let Some(tenant) = tenant {
                let _ = state
                    .store
                    .audit(
                        None,
                        Some(tenant.customer_id),
                        "logs.suspended",
                        &format!("tenant/{tenant_id}"),
                        &reason,
                    )
                    .await;
                notify_suspended(state, &tenant, &reason).await;
            }
        } else if over(g.throttle_events_per_minute, g.throttle_bytes_per_minute)
            && effective == GuardState::Normal
        {
            let reason = format!(
                "log flood: at least {peak} events per minute for {window} minutes (limit {} per minute)",
                g.throttle_events_per_minute
            );
            let until = SignedDuration::try_from(g.throttle_for)
                .ok()
                .map(|d| now + d);
            state
                .store
                .set_log_guard(tenant_id, GuardState::Throttled, &reason, until, None)
                .await?;
            done.throttled.push(tenant_id);
            if let Ok(Some(tenant)) = state.store.get_tenant(tenant_id).await {
                let _ = state
                    .store
                    .audit(
                        None,
                        Some(tenant.customer_id),
                        "logs.throttled",
                        &format!("tenant/{tenant_id}"),
                        &reason,
                    )
                    .await;
            }
        }
    }
    Ok(done)
}

/// Tells the operators (operator-wide channels) that a tenant's logs were suspended; the
/// customer sees it on its dashboard.
async fn notify_suspended(state: &WorkState, tenant: &Tenant, reason: &str) {
    let message = Message {
        event: EventKind::LogsSuspended,
        scan_id: 0,
        path: format!("/tenants/{}", tenant.id),
        error: Some(reason),
        operators_only: true,
    };
    enqueue_with(state, tenant, message, |_, _| Vec::new()).await;
}

/// Forgets event ids older than the retention (run hourly).
pub async fn prune(state: &WorkState, now: Timestamp) -> anyhow::Result<u64> {
    let keep = SignedDuration::try_from(state.config.logs.seen_retention)
        .unwrap_or(SignedDuration::from_hours(192));
    Ok(state.store.prune_log_seen(now - keep).await?)
}
