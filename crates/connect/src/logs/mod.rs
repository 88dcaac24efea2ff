//! Audit-log pull: read-only connectors that bring a tenant's audit records to threat
//! detection, with durable checkpoints.
//!
//! Four sources, named as `mamori-detect` names them (this crate does not depend on it):
//!
//! | source | API | streams |
//! |---|---|---|
//! | `m365` | Office 365 Management Activity API ([`management`]) | the content types `Audit.AzureActiveDirectory`, `Audit.Exchange`, `Audit.SharePoint`, `Audit.General` |
//! | `entra-signin` | Microsoft Graph `auditLogs/signIns` (beta shape) ([`graph`]) | `signIns` |
//! | `entra-audit` | Microsoft Graph `auditLogs/directoryAudits` ([`graph`]) | `directoryAudits` |
//! | `gws` | Admin SDK Reports API `activities.list` ([`reports`]) | the applications `login`, `admin`, `token`, `drive`, `saml` |
//!
//! One call, [`pull`], reads one source of one tenant from a [`LogCheckpoint`] up to a time and
//! hands the records to a [`LogSink`] in batches, each with the checkpoint that is true once the
//! batch is stored: the caller stores both in one transaction, so a crash between two batches
//! loses nothing and repeats nothing. The checkpoint returned at the end is at least as far as
//! the last batch's (it also covers stretches without records) and is stored the same way.
//!
//! Each stream has its own cursor ([`StreamCursor`]): the time before which everything has been
//! delivered, the ids of what was delivered at or after it (records at the boundary second, or
//! the Management API's content blobs of the open window), and for the newest-first APIs a
//! window in progress. A stream that fails (a missing permission: the vendor's reason and the
//! permission to grant) is recorded in the [`PullOutcome`] and keeps its cursor; the other
//! streams go on. A source that is denied entirely is a failed outcome, never an `Err`: `Err` is
//! for what the caller must act on — credentials the token endpoint refuses, a checkpoint of
//! another source, or the sink's own failure.
//!
//! Everything that leaves this module (errors, outcomes, log lines) passes through
//! [`crate::redact::scrub`]; tokens and secrets are [`crate::Secret`]s as in the posture
//! collectors.

pub mod graph;
pub mod management;
pub mod reports;

use crate::auth::AuthError;
use crate::http::{ApiError, HttpSettings};
use crate::redact::scrub;
use crate::registry::AppConfig;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::time::Duration;

/// The audit-log sources: Mamori's one vocabulary.
pub use mamori_core::LogSource;

/// What reading a source takes: its streams and the permission it needs.
pub trait LogSourceExt {
    /// The streams of the source, each with its own cursor.
    fn streams(self) -> &'static [&'static str];
    /// The permission or scope the source needs (beyond what signs the app in).
    fn permission(self) -> &'static str;
}

impl LogSourceExt for LogSource {
    fn streams(self) -> &'static [&'static str] {
        match self {
            LogSource::M365 => &management::CONTENT_TYPES,
            LogSource::EntraSignin => &["signIns"],
            LogSource::EntraAudit => &["directoryAudits"],
            LogSource::Gws => &reports::APPLICATIONS,
        }
    }

    fn permission(self) -> &'static str {
        match self {
            LogSource::M365 => "ActivityFeed.Read (Office 365 Management APIs, application)",
            LogSource::EntraSignin | LogSource::EntraAudit => {
                "AuditLog.Read.All (Microsoft Graph, application)"
            }
            LogSource::Gws => "https://www.googleapis.com/auth/admin.reports.audit.readonly",
        }
    }
}

/// How far one tenant's source has been read: one cursor per stream. Serialise it (JSON) and
/// store it with the records of the batch it came with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogCheckpoint {
    /// The caller's key of the tenant (kept so checkpoints are never mixed up; not sent).
    pub tenant: String,
    pub source: LogSource,
    /// Where a stream without a cursor starts reading.
    pub start: Timestamp,
    /// Cursors by stream name (content type, `signIns`, `directoryAudits`, application).
    #[serde(default)]
    pub streams: BTreeMap<String, StreamCursor>,
}

/// One stream's position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamCursor {
    /// Everything before this time has been delivered (for the Management API: every content
    /// blob created before it).
    pub time: Timestamp,
    /// Ids delivered at or after `time`: records at exactly `time` (to the API's precision), or
    /// for the Management API the content ids already fetched in the open window.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub seen: BTreeSet<String>,
    /// A newest-first window read in part (Graph, Reports API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingWindow>,
}

/// A window `[cursor.time, upper]` of a newest-first API read down to `lower`: every record
/// in `(lower, upper]` has been delivered, and of those at `lower` the ones in `lower_seen`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingWindow {
    pub upper: Timestamp,
    /// Records at exactly `upper` delivered (they become the cursor's `seen` when the window
    /// is complete).
    #[serde(default)]
    pub upper_seen: BTreeSet<String>,
    pub lower: Timestamp,
    #[serde(default)]
    pub lower_seen: BTreeSet<String>,
}

impl LogCheckpoint {
    /// A checkpoint that has read nothing: every stream starts at `start`.
    pub fn new(tenant: impl Into<String>, source: LogSource, start: Timestamp) -> Self {
        LogCheckpoint {
            tenant: tenant.into(),
            source,
            start,
            streams: BTreeMap::new(),
        }
    }

    /// The cursor of a stream (a fresh one at `start` when it has none).
    pub fn cursor(&self, stream: &str) -> StreamCursor {
        self.streams
            .get(stream)
            .cloned()
            .unwrap_or_else(|| StreamCursor {
                time: self.start,
                seen: BTreeSet::new(),
                pending: None,
            })
    }

    /// The time before which every stream of the source has been read.
    pub fn complete_up_to(&self) -> Timestamp {
        self.source
            .streams()
            .iter()
            .map(|s| self.cursor(s).time)
            .min()
            .unwrap_or(self.start)
    }
}

/// Records handed to the sink: one page or one content blob of one stream, and the checkpoint
/// that holds once they are stored.
#[derive(Debug, Clone)]
pub struct Batch {
    pub source: LogSource,
    pub stream: String,
    /// Exactly as the API served them.
    pub records: Vec<Value>,
    pub checkpoint: LogCheckpoint,
}

/// Why the sink did not take a batch (the caller's error, passed back unchanged).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Where the records go: store the batch's records and its checkpoint in one transaction.
/// An error stops the pull; the last checkpoint stored is where the next pull resumes.
pub trait LogSink: Send {
    fn accept(&mut self, batch: Batch) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// A synchronous closure as a sink ([`sink_fn`]).
pub struct FnSink<F>(pub F);

impl<F> LogSink for FnSink<F>
where
    F: FnMut(Batch) -> Result<(), SinkError> + Send,
{
    async fn accept(&mut self, batch: Batch) -> Result<(), SinkError> {
        (self.0)(batch)
    }
}

/// `pull(…, &mut sink_fn(|batch| { store(batch); Ok(()) }))`.
pub fn sink_fn<F>(f: F) -> FnSink<F>
where
    F: FnMut(Batch) -> Result<(), SinkError> + Send,
{
    FnSink(f)
}

/// Limits and page sizes of a pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    pub http: HttpSettings,
    /// Graph `$top` and Reports API `maxResults` (1–1,000; both APIs' maximum is 1,000).
    pub page_size: usize,
    /// Management API: content created this long before `until` is listed again on the next
    /// pull (content can be listed late); blobs already fetched are skipped by id.
    pub m365_lookback: Duration,
    /// Management API: the oldest start asked for is `until` − 7 days + this (the API refuses
    /// a start more than 7 days in the past by its own clock).
    pub retention_margin: Duration,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            http: HttpSettings::default(),
            page_size: 1000,
            m365_lookback: Duration::from_secs(3600),
            retention_margin: Duration::from_secs(600),
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullOutcome {
    pub source: LogSource,
    /// Records handed to the sink.
    pub records: u64,
    pub batches: u64,
    /// HTTP requests sent (tokens excluded).
    pub requests: u64,
    pub streams: BTreeMap<String, StreamOutcome>,
    /// Time ranges that could not be read and never will be (older than the API keeps).
    pub gaps: Vec<Gap>,
    /// Remarks worth a log line (records out of the documented order, records without an id).
    pub notes: Vec<String>,
}

/// One stream's part of a pull.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamOutcome {
    pub records: u64,
    /// The cursor time before and after the pull.
    pub from: Timestamp,
    pub to: Timestamp,
    /// Why the stream stopped early (its cursor stays where it was delivered to).
    pub error: Option<PullFailure>,
}

/// A stream that could not be read, in the vendor's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PullFailure {
    pub message: String,
    pub http_status: Option<u16>,
    /// Set when the vendor denied access: the permission or scope to grant.
    pub permission: Option<String>,
}

/// Records that were not read and cannot be any more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    pub stream: String,
    pub from: Timestamp,
    pub to: Timestamp,
    pub reason: String,
}

impl PullOutcome {
    fn new(source: LogSource) -> Self {
        PullOutcome {
            source,
            records: 0,
            batches: 0,
            requests: 0,
            streams: BTreeMap::new(),
            gaps: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Every stream read up to `until`, no gap.
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty() && self.streams.values().all(|s| s.error.is_none())
    }

    /// The failed streams.
    pub fn errors(&self) -> impl Iterator<Item = (&String, &PullFailure)> {
        self.streams
            .iter()
            .filter_map(|(k, s)| s.error.as_ref().map(|e| (k, e)))
    }
}

/// Why a pull stopped without an outcome.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("the checkpoint is for source {checkpoint}, not {asked}")]
    WrongCheckpoint {
        checkpoint: LogSource,
        asked: LogSource,
    },
    #[error("log source {log} is read with a {needs} configuration, not {given}")]
    WrongConfig {
        log: LogSource,
        needs: &'static str,
        given: &'static str,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot sign in to the tenant: {0}")]
    Auth(#[from] AuthError),
    #[error("storing a batch of {log}/{stream} failed: {error}")]
    Sink {
        log: LogSource,
        stream: String,
        #[source]
        error: SinkError,
    },
}

/// Reads `source` of the tenant of `config` from `checkpoint` up to `until` (exclusive for the
/// Management API's content creation time, inclusive to the API's precision for the others),
/// handing the records to `sink` in batches. Returns the new checkpoint and what happened.
pub async fn pull<S: LogSink>(
    config: &AppConfig,
    source: LogSource,
    checkpoint: &LogCheckpoint,
    until: Timestamp,
    sink: &mut S,
) -> Result<(LogCheckpoint, PullOutcome), PullError> {
    pull_with(
        config,
        source,
        checkpoint,
        until,
        &PullOptions::default(),
        sink,
    )
    .await
}

/// [`pull`] with explicit limits and page sizes.
pub async fn pull_with<S: LogSink>(
    config: &AppConfig,
    source: LogSource,
    checkpoint: &LogCheckpoint,
    until: Timestamp,
    options: &PullOptions,
    sink: &mut S,
) -> Result<(LogCheckpoint, PullOutcome), PullError> {
    if checkpoint.source != source {
        return Err(PullError::WrongCheckpoint {
            checkpoint: checkpoint.source,
            asked: source,
        });
    }
    let mut run = Run {
        source,
        checkpoint: checkpoint.clone(),
        outcome: PullOutcome::new(source),
        sink,
    };
    for stream in source.streams() {
        let t = run.checkpoint.cursor(stream).time;
        run.outcome.streams.insert(
            stream.to_string(),
            StreamOutcome {
                records: 0,
                from: t,
                to: t,
                error: None,
            },
        );
    }
    let requests = match (config, source) {
        (AppConfig::M365(c), LogSource::M365) => {
            management::pull(c, &mut run, until, options).await?
        }
        (AppConfig::M365(c), LogSource::EntraSignin | LogSource::EntraAudit) => {
            graph::pull(c, &mut run, until, options).await?
        }
        (AppConfig::Gws(c), LogSource::Gws) => reports::pull(c, &mut run, until, options).await?,
        (other, _) => {
            return Err(PullError::WrongConfig {
                log: source,
                needs: source.app().label(),
                given: other.app().label(),
            })
        }
    };
    run.outcome.requests = requests;
    for (stream, o) in run.outcome.streams.iter_mut() {
        o.to = run.checkpoint.cursor(stream).time;
    }
    for (stream, failure) in run.outcome.errors() {
        tracing::warn!(source = %source, stream = %stream, reason = %failure.message, "audit-log stream not read");
    }
    Ok((run.checkpoint, run.outcome))
}

/// A pull in progress: the checkpoint as delivered so far, the outcome, the sink.
pub(crate) struct Run<'a, S> {
    pub(crate) source: LogSource,
    pub(crate) checkpoint: LogCheckpoint,
    pub(crate) outcome: PullOutcome,
    sink: &'a mut S,
}

/// Why one stream stopped: the API (recorded, the others go on) or the pull as a whole.
pub(crate) enum StreamStop {
    Api(ApiError),
    Pull(PullError),
}

impl From<ApiError> for StreamStop {
    fn from(e: ApiError) -> Self {
        StreamStop::Api(e)
    }
}

impl From<PullError> for StreamStop {
    fn from(e: PullError) -> Self {
        StreamStop::Pull(e)
    }
}

impl<S: LogSink> Run<'_, S> {
    pub(crate) fn cursor(&self, stream: &str) -> StreamCursor {
        self.checkpoint.cursor(stream)
    }

    pub(crate) fn set_cursor(&mut self, stream: &str, cursor: StreamCursor) {
        self.checkpoint.streams.insert(stream.to_string(), cursor);
    }

    /// Hands records with the current checkpoint to the sink.
    pub(crate) async fn deliver(
        &mut self,
        stream: &str,
        records: Vec<Value>,
    ) -> Result<(), PullError> {
        if records.is_empty() {
            return Ok(());
        }
        let n = records.len() as u64;
        let batch = Batch {
            source: self.source,
            stream: stream.to_string(),
            records,
            checkpoint: self.checkpoint.clone(),
        };
        self.sink
            .accept(batch)
            .await
            .map_err(|error| PullError::Sink {
                log: self.source,
                stream: stream.to_string(),
                error,
            })?;
        self.outcome.records += n;
        self.outcome.batches += 1;
        if let Some(o) = self.outcome.streams.get_mut(stream) {
            o.records += n;
        }
        Ok(())
    }

    /// Records a stream's failure (scrubbed; with the permission when access was denied).
    pub(crate) fn fail(&mut self, stream: &str, error: &ApiError, permission: &str) {
        let status = error.http_status();
        let denied = matches!(status, Some(401 | 403))
            || matches!(error, ApiError::Auth(AuthError::Rejected { error, .. }) if error == "unauthorized_client");
        let mut message = scrub(&error.to_string());
        if denied {
            message.push_str(&format!(" — the app needs {permission}"));
        }
        let failure = PullFailure {
            message,
            http_status: status,
            permission: denied.then(|| permission.to_string()),
        };
        if let Some(o) = self.outcome.streams.get_mut(stream) {
            o.error = Some(failure);
        }
    }

    /// Ends a stream: an API error is recorded, a pull error stops everything.
    pub(crate) fn finish(
        &mut self,
        stream: &str,
        result: Result<(), StreamStop>,
        permission: &str,
    ) -> Result<(), PullError> {
        match result {
            Ok(()) => Ok(()),
            Err(StreamStop::Api(e)) => {
                self.fail(stream, &e, permission);
                Ok(())
            }
            Err(StreamStop::Pull(e)) => Err(e),
        }
    }

    pub(crate) fn note(&mut self, note: String) {
        if !self.outcome.notes.contains(&note) {
            self.outcome.notes.push(note);
        }
    }
}

/// A time-filtered list served newest first (Graph audit logs, Reports API activities).
pub(crate) trait NewestFirst {
    /// The API's time precision in milliseconds (Graph filters to the second, Google to the
    /// millisecond).
    const PRECISION_MS: i64;
    /// One page of the records with `from <= time <= to`; `next` is the previous page's link
    /// or token. Answers the records and the next link or token.
    fn page(
        &self,
        from: Timestamp,
        to: Timestamp,
        next: Option<String>,
    ) -> impl Future<Output = Result<(Vec<Value>, Option<String>), ApiError>> + Send;
    /// The record's time (ms) and id.
    fn key(&self, record: &Value) -> Option<(i64, String)>;
}

fn floor_to(ms: i64, precision: i64) -> i64 {
    ms - ms.rem_euclid(precision)
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Reads one stream of a newest-first API from its cursor up to `until`, one batch per page.
///
/// A window `[cursor.time, upper]` is read newest first; after each page the checkpoint says how
/// far down it got (`lower`, and the ids at `lower`), so an interrupted window resumes with
/// `[cursor.time, lower]` and repeats nothing. When the window is done the cursor moves to
/// `upper` with the ids of the records at `upper`: the next window starts there with `ge`, and
/// those ids are skipped.
pub(crate) async fn read_newest_first<S: LogSink, L: NewestFirst + Sync>(
    run: &mut Run<'_, S>,
    stream: &str,
    lister: &L,
    until: Timestamp,
) -> Result<(), StreamStop> {
    let precision = L::PRECISION_MS;
    let top = floor_to(until.as_millisecond(), precision);
    let mut cursor = run.cursor(stream);
    let mut out_of_order = 0u64;
    let mut unkeyed = 0u64;
    loop {
        let mut window = match cursor.pending.take() {
            Some(p) => p,
            None => {
                if cursor.time.as_millisecond() >= top {
                    break;
                }
                PendingWindow {
                    upper: ts(top),
                    upper_seen: BTreeSet::new(),
                    lower: ts(top),
                    lower_seen: BTreeSet::new(),
                }
            }
        };
        let from = cursor.time.as_millisecond();
        let upper = window.upper.as_millisecond();
        // One listing: the same bounds for every page (a page token belongs to its query).
        let list_to = window.lower;
        let mut next: Option<String> = None;
        loop {
            let (records, token) = lister.page(cursor.time, list_to, next.take()).await?;
            let mut batch = Vec::with_capacity(records.len());
            for record in records {
                let Some((t, id)) = lister.key(&record) else {
                    unkeyed += 1;
                    batch.push(record);
                    continue;
                };
                let t = floor_to(t, precision);
                let lower = window.lower.as_millisecond();
                if t < from || t > upper {
                    continue;
                }
                if t == from && cursor.seen.contains(&id) {
                    continue;
                }
                if t > lower {
                    // Not where the documented order puts it; still new (pages do not repeat).
                    out_of_order += 1;
                } else if t == lower {
                    if !window.lower_seen.insert(id.clone()) {
                        continue;
                    }
                } else {
                    window.lower = ts(t);
                    window.lower_seen = BTreeSet::from([id.clone()]);
                }
                if t == upper {
                    window.upper_seen.insert(id);
                }
                batch.push(record);
            }
            let done = token.is_none();
            if done {
                let mut seen = std::mem::take(&mut window.upper_seen);
                if from == upper {
                    seen.extend(std::mem::take(&mut cursor.seen));
                }
                cursor = StreamCursor {
                    time: window.upper,
                    seen,
                    pending: None,
                };
            } else {
                cursor.pending = Some(window.clone());
            }
            run.set_cursor(stream, cursor.clone());
            run.deliver(stream, batch).await?;
            if done {
                break;
            }
            next = token;
            cursor.pending = None;
        }
    }
    if out_of_order > 0 {
        run.note(format!(
            "{stream}: {out_of_order} records came later than the newest-first order puts them"
        ));
    }
    if unkeyed > 0 {
        run.note(format!(
            "{stream}: {unkeyed} records without a time or id were delivered as they came"
        ));
    }
    Ok(())
}

/// `2026-11-26T03:00:00Z`.
pub(crate) fn iso_seconds(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2026-11-26T03:00:00.000Z`.
pub(crate) fn iso_millis(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string()
}

/// A vendor's date-time: RFC 3339, or UTC without a zone (the unified audit log's form).
pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Some(t);
    }
    let dt = s.parse::<jiff::civil::DateTime>().ok()?;
    jiff::tz::TimeZone::UTC.to_timestamp(dt).ok()
}

pub(crate) fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The scheme, host and port of a URL (a link from a response must stay on the API's host:
/// the token goes with it).
pub(crate) fn origin(u: &str) -> Option<String> {
    let u = url::Url::parse(u).ok()?;
    Some(u.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pull can run on a spawned task (the worker's scheduler does that).
    #[allow(dead_code)]
    fn pull_is_send(config: &AppConfig, checkpoint: &LogCheckpoint) {
        fn send<T: Send>(_: &T) {}
        let mut sink = sink_fn(|_b: Batch| Ok(()));
        let future = pull(
            config,
            LogSource::Gws,
            checkpoint,
            Timestamp::UNIX_EPOCH,
            &mut sink,
        );
        send(&future);
    }

    #[test]
    fn checkpoint_serialises_compactly() {
        let start: Timestamp = "2026-11-19T03:00:00Z".parse().unwrap();
        let mut c = LogCheckpoint::new("t1", LogSource::EntraSignin, start);
        assert_eq!(c.cursor("signIns").time, start);
        c.streams.insert(
            "signIns".into(),
            StreamCursor {
                time: start,
                seen: BTreeSet::from(["a".to_string()]),
                pending: None,
            },
        );
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(
            text,
            r#"{"tenant":"t1","source":"entra-signin","start":"2026-11-19T03:00:00Z","streams":{"signIns":{"time":"2026-11-19T03:00:00Z","seen":["a"]}}}"#
        );
        assert_eq!(serde_json::from_str::<LogCheckpoint>(&text).unwrap(), c);
    }

    #[test]
    fn times() {
        let t = parse_time("2026-11-26T09:15:02").unwrap();
        assert_eq!(iso_seconds(t), "2026-11-26T09:15:02Z");
        assert_eq!(
            iso_millis(parse_time("2026-11-26T09:15:02.123Z").unwrap()),
            "2026-11-26T09:15:02.123Z"
        );
        assert_eq!(
            origin("https://manage.office.com/api/v1.0/x?y=1").as_deref(),
            Some("https://manage.office.com")
        );
    }
}
