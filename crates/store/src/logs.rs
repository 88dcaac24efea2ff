//! Threat detection's persistence: per tenant and log source the pull checkpoint and the
//! detector's state, event ids already processed, alerts with their status history, the spool
//! of pushed batches, per-minute metering and the flood guard's decisions.
//!
//! One batch is committed in one transaction ([`Store::commit_log_batch`]): its event ids, the
//! alerts it raised or updated, the detector's state after it and the checkpoint it reached (or
//! the spooled batch it consumed). A worker killed before the commit leaves nothing behind and
//! the batch is read again; a worker killed after it never reads the batch again. Two writers of
//! one stream are told apart by the stream's version: the one that read an older version gets
//! [`Error::Conflict`] and its transaction is rolled back.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use jiff::Timestamp;
use mamori_core::{Localized, LogSource, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    clamp_limit, duration_us, filter, is_foreign_key_violation, now_us, ts, with_pool, Error,
    Result, Scope, Store,
};

mamori_core::text_enum! {
    /// Where an alert is in its triage.
    pub enum AlertStatus("alert status") {
        Open = "open",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
        FalsePositive = "false_positive",
    }
}

impl AlertStatus {
    /// Still needs someone's attention (counted on dashboards and in the posture context).
    pub fn is_active(self) -> bool {
        matches!(self, AlertStatus::Open | AlertStatus::Acknowledged)
    }
}

mamori_core::text_enum! {
    /// The flood guard's decision about a tenant's log processing.
    pub enum GuardState("log guard state") {
        Normal = "normal",
        Throttled = "throttled",
        Suspended = "suspended",
    }
}

/// 64 bits of the SHA-256 of an event's id: what [`Store::commit_log_batch`] remembers to tell a
/// record delivered twice.
pub fn event_id_hash(id: &str) -> i64 {
    let digest = Sha256::digest(id.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(bytes)
}

/// A tenant's log source as last committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogStream {
    pub tenant_id: i64,
    pub source: LogSource,
    /// The connector's checkpoint after the last committed pull.
    pub checkpoint: Option<serde_json::Value>,
    /// The detector's state (opaque bytes of `mamori-detect`).
    #[serde(skip)]
    pub state: Option<Vec<u8>>,
    pub version: i64,
    pub events: i64,
    pub duplicates: i64,
    pub quarantined: i64,
    pub last_event_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct StreamRow {
    tenant_id: i64,
    source: String,
    checkpoint: Option<String>,
    state: Option<Vec<u8>>,
    version: i64,
    events: i64,
    duplicates: i64,
    quarantined: i64,
    last_event_at: Option<i64>,
    last_error: Option<String>,
    updated_at: i64,
}

impl TryFrom<StreamRow> for LogStream {
    type Error = Error;
    fn try_from(r: StreamRow) -> Result<Self> {
        Ok(LogStream {
            tenant_id: r.tenant_id,
            source: r.source.parse()?,
            checkpoint: r
                .checkpoint
                .map(|c| serde_json::from_str(&c))
                .transpose()
                .map_err(|e| Error::Invalid {
                    field: "stored log checkpoint",
                    value: e.to_string(),
                })?,
            state: r.state,
            version: r.version,
            events: r.events,
            duplicates: r.duplicates,
            quarantined: r.quarantined,
            last_event_at: r.last_event_at.map(ts),
            last_error: r.last_error,
            updated_at: ts(r.updated_at),
        })
    }
}

const STREAM_COLS: &str = "tenant_id, source, checkpoint, state, version, events, duplicates, \
    quarantined, last_event_at, last_error, updated_at";
const STREAM_COLS_NO_STATE: &str =
    "tenant_id, source, checkpoint, NULL AS state, version, events, \
    duplicates, quarantined, last_event_at, last_error, updated_at";

/// An alert as the detector hands it over: inserted, or merged into the stored alert with the
/// same key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAlert {
    pub alert_key: String,
    pub rule_id: String,
    pub source: LogSource,
    /// `detection` or `correlation`.
    pub kind: String,
    pub severity: Severity,
    pub title: Localized,
    pub response: Localized,
    pub attack: Vec<String>,
    pub entities: BTreeMap<String, String>,
    pub event_ids: Vec<String>,
    pub count: i64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    pub tenant_id: i64,
    pub customer_id: i64,
    pub tenant_name: String,
    pub rule_id: String,
    pub source: LogSource,
    pub kind: String,
    pub severity: Severity,
    pub title: Localized,
    pub response: Localized,
    pub attack: Vec<String>,
    pub entities: BTreeMap<String, String>,
    pub event_ids: Vec<String>,
    pub count: i64,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub status: AlertStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    tenant_id: i64,
    customer_id: i64,
    tenant_name: String,
    rule_id: String,
    source: String,
    kind: String,
    severity: String,
    title_en: String,
    title_ja: String,
    response_en: String,
    response_ja: String,
    attack: String,
    entities: String,
    event_ids: String,
    count: i64,
    first_seen: i64,
    last_seen: i64,
    status: String,
    created_at: i64,
    updated_at: i64,
}

fn json_column<T: serde::de::DeserializeOwned>(field: &'static str, text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::Invalid {
        field,
        value: e.to_string(),
    })
}

impl TryFrom<AlertRow> for Alert {
    type Error = Error;
    fn try_from(r: AlertRow) -> Result<Self> {
        Ok(Alert {
            id: r.id,
            tenant_id: r.tenant_id,
            customer_id: r.customer_id,
            tenant_name: r.tenant_name,
            rule_id: r.rule_id,
            source: r.source.parse()?,
            kind: r.kind,
            severity: r.severity.parse()?,
            title: Localized {
                en: r.title_en,
                ja: r.title_ja,
            },
            response: Localized {
                en: r.response_en,
                ja: r.response_ja,
            },
            attack: json_column("stored alert techniques", &r.attack)?,
            entities: json_column("stored alert entities", &r.entities)?,
            event_ids: json_column("stored alert event ids", &r.event_ids)?,
            count: r.count,
            first_seen: ts(r.first_seen),
            last_seen: ts(r.last_seen),
            status: r.status.parse()?,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        })
    }
}

const ALERT_SELECT: &str =
    "SELECT a.id, a.tenant_id, t.customer_id, t.display_name AS tenant_name, \
    a.rule_id, a.source, a.kind, a.severity, a.title_en, a.title_ja, a.response_en, a.response_ja, \
    a.attack, a.entities, a.event_ids, a.count, a.first_seen, a.last_seen, a.status, a.created_at, \
    a.updated_at FROM alerts a JOIN tenants t ON t.id = a.tenant_id";

/// One change of an alert's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AlertEvent {
    pub id: i64,
    pub alert_id: i64,
    #[serde(with = "crate::logs::micros")]
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: String,
}

/// Stored microseconds shown as RFC 3339.
mod micros {
    pub fn serialize<S: serde::Serializer>(us: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::ts(*us).to_string())
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text: String = serde::Deserialize::deserialize(d)?;
        text.parse::<jiff::Timestamp>()
            .map(|t| t.as_microsecond())
            .map_err(serde::de::Error::custom)
    }
}

/// Which alerts a listing returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    pub tenant_id: Option<i64>,
    pub status: Option<AlertStatus>,
    /// Only alerts that still need attention (open or acknowledged); ignored with `status`.
    pub active: bool,
    pub severity: Option<Severity>,
    pub source: Option<LogSource>,
    pub rule_id: Option<String>,
    /// Alerts whose last event is at or after this.
    pub since: Option<Timestamp>,
}

/// What one batch commits (see the module documentation).
#[derive(Debug, Clone)]
pub struct LogCommit<'a> {
    pub tenant_id: i64,
    pub source: LogSource,
    /// The stream's version when its state was read (0 when it had no row).
    pub expected_version: i64,
    /// The pull's checkpoint after the batch; `None` keeps the stored one (pushed batches).
    pub checkpoint: Option<&'a serde_json::Value>,
    pub state: &'a [u8],
    /// [`event_id_hash`] of each new event of the batch.
    pub seen: &'a [i64],
    pub alerts: &'a [NewAlert],
    /// New events processed, records skipped as already seen, records quarantined.
    pub events: i64,
    pub duplicates: i64,
    pub quarantined: i64,
    pub last_event_at: Option<Timestamp>,
    /// Metering of pulled records (pushed ones are metered when received).
    pub metered_bytes: Option<i64>,
    /// The spooled batch consumed, with the worker holding its lease.
    pub spool: Option<(i64, &'a str)>,
    /// Records quarantined, as (reason, raw text): the first [`MAX_QUARANTINED_PER_BATCH`]
    /// are kept, each cut to [`MAX_QUARANTINED_BYTES`].
    pub quarantine: &'a [(String, String)],
}

/// Quarantined records kept per batch (all are counted).
pub const MAX_QUARANTINED_PER_BATCH: usize = 100;
/// Bytes of a quarantined record kept.
pub const MAX_QUARANTINED_BYTES: usize = 64 * 1024;

/// A record that could not become an event, as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct QuarantinedRecord {
    pub id: i64,
    pub tenant_id: i64,
    pub source: String,
    #[serde(with = "crate::logs::micros")]
    pub at: i64,
    pub reason: String,
    pub raw: String,
}

/// `text` cut to at most `max` bytes on a character boundary.
pub fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Alerts a commit created and changed, by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    pub created: Vec<i64>,
    pub updated: Vec<i64>,
}

/// A pushed batch leased to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolItem {
    pub id: i64,
    pub tenant_id: i64,
    pub source: LogSource,
    /// The batch as received, gzip-compressed.
    pub body: Vec<u8>,
    pub events: i64,
    pub bytes: i64,
    pub received_at: Timestamp,
    pub attempts: i64,
}

/// The flood guard's decision about one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogGuard {
    pub tenant_id: i64,
    pub state: GuardState,
    pub reason: String,
    pub since: Timestamp,
    pub until: Option<Timestamp>,
    /// The operator who set it; `None`: the guard did.
    pub set_by: Option<i64>,
    pub updated_at: Timestamp,
}

impl LogGuard {
    /// The state in force at `now` (a throttle or suspension past its `until` is over).
    pub fn effective(&self, now: Timestamp) -> GuardState {
        match self.until {
            Some(until) if until <= now => GuardState::Normal,
            _ => self.state,
        }
    }
}

type GuardRow = (i64, String, String, i64, Option<i64>, Option<i64>, i64);

fn guard_from_row(r: GuardRow) -> Result<LogGuard> {
    Ok(LogGuard {
        tenant_id: r.0,
        state: r.1.parse()?,
        reason: r.2,
        since: ts(r.3),
        until: r.4.map(ts),
        set_by: r.5,
        updated_at: ts(r.6),
    })
}

/// Events and bytes of one tenant in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterRow {
    pub tenant_id: i64,
    /// Unix minutes.
    pub minute: i64,
    pub events: i64,
    pub bytes: i64,
}

/// Alert ids and event ids kept per alert.
const MAX_EVENT_IDS: usize = 100;
/// Rows of one multi-row INSERT.
const CHUNK: usize = 200;

fn unix_minute(us: i64) -> i64 {
    us.div_euclid(60_000_000)
}

impl Store {
    // ---- streams ----

    /// The stream's last committed checkpoint and detector state; `None` before its first batch.
    pub async fn log_stream(&self, tenant_id: i64, source: LogSource) -> Result<Option<LogStream>> {
        let sql =
            format!("SELECT {STREAM_COLS} FROM log_streams WHERE tenant_id = $1 AND source = $2");
        let row: Option<StreamRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(tenant_id).bind(source.as_str()).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// The stream's version alone (`None`: no batch committed yet): what a worker holding the
    /// detector warm needs before a batch, without reading the saved state.
    pub async fn log_stream_version(
        &self,
        tenant_id: i64,
        source: LogSource,
    ) -> Result<Option<i64>> {
        let version: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT version FROM log_streams WHERE tenant_id = $1 AND source = $2")
                .bind(tenant_id)
                .bind(source.as_str())
                .fetch_optional(pool)
                .await?
        });
        Ok(version)
    }

    /// Every stream visible in the scope (without detector state), by tenant and source.
    pub async fn list_log_streams(
        &self,
        scope: Scope,
        tenant_id: Option<i64>,
    ) -> Result<Vec<LogStream>> {
        let sql = format!(
            "SELECT {STREAM_COLS_NO_STATE} FROM log_streams WHERE {} AND {} ORDER BY tenant_id, source",
            filter(
                scope.customer().is_some(),
                "$1",
                "tenant_id IN (SELECT id FROM tenants WHERE customer_id = $1)"
            ),
            filter(tenant_id.is_some(), "$2", "tenant_id = $2"),
        );
        let rows: Vec<StreamRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).bind(tenant_id).fetch_all(pool).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Records why the stream's last pull or batch failed (`None` clears it), without touching
    /// its checkpoint or state.
    pub async fn set_log_stream_error(
        &self,
        tenant_id: i64,
        source: LogSource,
        error: Option<&str>,
    ) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO log_streams (tenant_id, source, last_error, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, source) DO UPDATE SET last_error = $3, updated_at = $4",
            )
            .bind(tenant_id)
            .bind(source.as_str())
            .bind(error)
            .bind(now_us())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Which of `hashes` ([`event_id_hash`]) the stream has already processed.
    pub async fn seen_event_ids(
        &self,
        tenant_id: i64,
        source: LogSource,
        hashes: &[i64],
    ) -> Result<HashSet<i64>> {
        let mut seen = HashSet::new();
        for chunk in hashes.chunks(CHUNK * 2) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "SELECT id_hash FROM log_seen WHERE tenant_id = $1 AND source = $2 AND id_hash IN ({})",
                placeholders.join(", ")
            );
            let found: Vec<i64> = with_pool!(self, pool => {
                let mut q = sqlx::query_scalar(&sql).bind(tenant_id).bind(source.as_str());
                for h in chunk {
                    q = q.bind(*h);
                }
                q.fetch_all(pool).await?
            });
            seen.extend(found);
        }
        Ok(seen)
    }

    /// Forgets event ids processed, and records quarantined, before `before` (the sources never
    /// deliver a record later than their availability window: 7 days for the Management
    /// Activity API). Returns the event ids forgotten.
    pub async fn prune_log_seen(&self, before: Timestamp) -> Result<u64> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM log_quarantine WHERE at < $1")
                .bind(before.as_microsecond())
                .execute(pool)
                .await?;
            sqlx::query("DELETE FROM log_seen WHERE at < $1")
                .bind(before.as_microsecond())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }

    /// The newest `limit` (1 to 1000) quarantined records of a tenant visible in the scope.
    pub async fn list_log_quarantine(
        &self,
        scope: Scope,
        tenant_id: i64,
        limit: i64,
    ) -> Result<Vec<QuarantinedRecord>> {
        let sql = format!(
            "SELECT q.id, q.tenant_id, q.source, q.at, q.reason, q.raw FROM log_quarantine q \
             JOIN tenants t ON t.id = q.tenant_id WHERE q.tenant_id = $1 AND {} ORDER BY q.id DESC LIMIT $3",
            filter(scope.customer().is_some(), "$2", "t.customer_id = $2")
        );
        let rows: Vec<QuarantinedRecord> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(scope.customer())
                .bind(clamp_limit(limit, 1000))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }

    /// Commits one batch (see the module documentation). [`Error::Conflict`] when the stream
    /// moved on since `expected_version` or the spooled batch's lease was lost: nothing is
    /// written and the caller reads the stream again.
    pub async fn commit_log_batch(&self, c: &LogCommit<'_>) -> Result<Committed> {
        let now = now_us();
        let begin = self.begin_write();
        let checkpoint = c
            .checkpoint
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Invalid {
                field: "log checkpoint",
                value: e.to_string(),
            })?;
        let outcome: std::result::Result<std::result::Result<Committed, Error>, sqlx::Error> = with_pool!(self, pool => {
            async {
                let mut tx = pool.begin_with(begin).await?;
                // The stream's row, created at version 0 on first use, then moved from the
                // version the caller read to the next: a concurrent writer matches nothing.
                sqlx::query(
                    "INSERT INTO log_streams (tenant_id, source, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, source) DO NOTHING",
                )
                .bind(c.tenant_id)
                .bind(c.source.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let moved = sqlx::query(
                    "UPDATE log_streams SET version = version + 1, state = $1, \
                       checkpoint = COALESCE($2, checkpoint), events = events + $3, \
                       duplicates = duplicates + $4, quarantined = quarantined + $5, \
                       last_event_at = COALESCE($6, last_event_at), last_error = NULL, updated_at = $7 \
                     WHERE tenant_id = $8 AND source = $9 AND version = $10",
                )
                .bind(c.state)
                .bind(checkpoint.as_deref())
                .bind(c.events)
                .bind(c.duplicates)
                .bind(c.quarantined)
                .bind(c.last_event_at.map(|t| t.as_microsecond()))
                .bind(now)
                .bind(c.tenant_id)
                .bind(c.source.as_str())
                .bind(c.expected_version)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if moved == 0 {
                    return Ok(Err(Error::Conflict(format!(
                        "log stream {} of tenant {} was committed by another worker",
                        c.source, c.tenant_id
                    ))));
                }
                if let Some((spool_id, worker)) = c.spool {
                    let gone = sqlx::query("DELETE FROM log_spool WHERE id = $1 AND lease_owner = $2")
                        .bind(spool_id)
                        .bind(worker)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if gone == 0 {
                        return Ok(Err(Error::Conflict(format!(
                            "spooled batch {spool_id} is no longer leased by this worker"
                        ))));
                    }
                }
                for chunk in c.seen.chunks(CHUNK) {
                    let values: Vec<String> = (0..chunk.len())
                        .map(|i| format!("($1, $2, $3, ${})", i + 4))
                        .collect();
                    let sql = format!(
                        "INSERT INTO log_seen (tenant_id, source, at, id_hash) VALUES {} ON CONFLICT DO NOTHING",
                        values.join(", ")
                    );
                    let mut q = sqlx::query(&sql).bind(c.tenant_id).bind(c.source.as_str()).bind(now);
                    for h in chunk {
                        q = q.bind(*h);
                    }
                    q.execute(&mut *tx).await?;
                }
                for (reason, raw) in c.quarantine.iter().take(MAX_QUARANTINED_PER_BATCH) {
                    sqlx::query(
                        "INSERT INTO log_quarantine (tenant_id, source, at, reason, raw) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(c.tenant_id)
                    .bind(c.source.as_str())
                    .bind(now)
                    .bind(truncate_utf8(reason, 1000))
                    .bind(truncate_utf8(raw, MAX_QUARANTINED_BYTES))
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(bytes) = c.metered_bytes {
                    sqlx::query(
                        "INSERT INTO log_meter (tenant_id, minute, events, bytes) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (tenant_id, minute) DO UPDATE SET events = log_meter.events + $3, \
                         bytes = log_meter.bytes + $4",
                    )
                    .bind(c.tenant_id)
                    .bind(unix_minute(now))
                    .bind(c.events + c.duplicates + c.quarantined)
                    .bind(bytes)
                    .execute(&mut *tx)
                    .await?;
                }
                let mut committed = Committed::default();
                for alert in c.alerts {
                    let existing: Option<(i64, String, i64)> = sqlx::query_as(
                        "SELECT id, event_ids, count FROM alerts WHERE tenant_id = $1 AND alert_key = $2",
                    )
                    .bind(c.tenant_id)
                    .bind(&alert.alert_key)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let ids = serde_json::to_string(&alert.event_ids.iter().take(MAX_EVENT_IDS).collect::<Vec<_>>())
                        .unwrap_or_else(|_| "[]".into());
                    match existing {
                        Some((id, _, count)) => {
                            // The detector's alert is the whole truth about its key (it carries
                            // the state across batches): take its figures, never lower them.
                            sqlx::query(
                                "UPDATE alerts SET count = $1, event_ids = $2, last_seen = $3, updated_at = $4 WHERE id = $5",
                            )
                            .bind(alert.count.max(count))
                            .bind(&ids)
                            .bind(alert.last_seen.as_microsecond())
                            .bind(now)
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                            committed.updated.push(id);
                        }
                        None => {
                            let id: i64 = sqlx::query_scalar(
                                "INSERT INTO alerts (tenant_id, alert_key, rule_id, source, kind, severity, severity_rank, \
                                   title_en, title_ja, response_en, response_ja, attack, entities, event_ids, count, \
                                   first_seen, last_seen, status, created_at, updated_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'open', $18, $18) \
                                 RETURNING id",
                            )
                            .bind(c.tenant_id)
                            .bind(&alert.alert_key)
                            .bind(&alert.rule_id)
                            .bind(alert.source.as_str())
                            .bind(&alert.kind)
                            .bind(alert.severity.as_str())
                            .bind(alert.severity.rank())
                            .bind(&alert.title.en)
                            .bind(&alert.title.ja)
                            .bind(&alert.response.en)
                            .bind(&alert.response.ja)
                            .bind(serde_json::to_string(&alert.attack).unwrap_or_else(|_| "[]".into()))
                            .bind(serde_json::to_string(&alert.entities).unwrap_or_else(|_| "{}".into()))
                            .bind(&ids)
                            .bind(alert.count)
                            .bind(alert.first_seen.as_microsecond())
                            .bind(alert.last_seen.as_microsecond())
                            .bind(now)
                            .fetch_one(&mut *tx)
                            .await?;
                            sqlx::query(
                                "INSERT INTO alert_events (alert_id, at, from_status, to_status, note) VALUES ($1, $2, NULL, 'open', $3)",
                            )
                            .bind(id)
                            .bind(now)
                            .bind("raised by the detector")
                            .execute(&mut *tx)
                            .await?;
                            committed.created.push(id);
                        }
                    }
                }
                tx.commit().await?;
                Ok(Ok(committed))
            }
            .await
        });
        match outcome {
            Ok(result) => result,
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "tenant",
                id: c.tenant_id,
            }),
            Err(e) => Err(e.into()),
        }
    }

    // ---- alerts ----

    /// Alerts visible in the scope matching the filter, the most recent activity first.
    pub async fn list_alerts(
        &self,
        scope: Scope,
        f: &AlertFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Alert>> {
        let status_cond = if f.status.is_some() {
            "a.status = $3".to_string()
        } else if f.active {
            "a.status IN ('open', 'acknowledged') AND $3 IS NULL".to_string()
        } else {
            "$3 IS NULL".to_string()
        };
        let sql = format!(
            "{ALERT_SELECT} WHERE {} AND {} AND {status_cond} AND {} AND {} AND {} AND {} \
             ORDER BY a.last_seen DESC, a.id DESC LIMIT $8 OFFSET $9",
            filter(scope.customer().is_some(), "$1", "t.customer_id = $1"),
            filter(f.tenant_id.is_some(), "$2", "a.tenant_id = $2"),
            filter(f.severity.is_some(), "$4", "a.severity = $4"),
            filter(f.source.is_some(), "$5", "a.source = $5"),
            filter(f.rule_id.is_some(), "$6", "a.rule_id = $6"),
            filter(f.since.is_some(), "$7", "a.last_seen >= $7"),
        );
        let rows: Vec<AlertRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(scope.customer())
                .bind(f.tenant_id)
                .bind(f.status.map(AlertStatus::as_str))
                .bind(f.severity.map(Severity::as_str))
                .bind(f.source.map(LogSource::as_str))
                .bind(f.rule_id.as_deref())
                .bind(f.since.map(|t| t.as_microsecond()))
                .bind(clamp_limit(limit, 1000))
                .bind(offset.max(0))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn get_alert(&self, scope: Scope, id: i64) -> Result<Option<Alert>> {
        let sql = format!(
            "{ALERT_SELECT} WHERE a.id = $1 AND {}",
            filter(scope.customer().is_some(), "$2", "t.customer_id = $2")
        );
        let row: Option<AlertRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// Moves an alert to `status` with a note, recorded in its history. Setting the status it
    /// already has is a conflict (nothing to record).
    pub async fn set_alert_status(
        &self,
        scope: Scope,
        id: i64,
        status: AlertStatus,
        actor_user_id: Option<i64>,
        note: &str,
    ) -> Result<Alert> {
        let Some(alert) = self.get_alert(scope, id).await? else {
            return Err(Error::NotFound {
                entity: "alert",
                id,
            });
        };
        if alert.status == status {
            return Err(Error::Conflict(format!("alert {id} is already {status}")));
        }
        let now = now_us();
        let begin = self.begin_write();
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let n = sqlx::query("UPDATE alerts SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
                .bind(status.as_str())
                .bind(now)
                .bind(id)
                .bind(alert.status.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(Error::Conflict(format!("alert {id} changed meanwhile; reload it")));
            }
            sqlx::query(
                "INSERT INTO alert_events (alert_id, at, actor_user_id, from_status, to_status, note) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(now)
            .bind(actor_user_id)
            .bind(alert.status.as_str())
            .bind(status.as_str())
            .bind(note)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        self.get_alert(scope, id).await?.ok_or(Error::NotFound {
            entity: "alert",
            id,
        })
    }

    /// An alert's status changes, oldest first (empty when it is not visible in the scope).
    pub async fn alert_history(&self, scope: Scope, id: i64) -> Result<Vec<AlertEvent>> {
        let sql = format!(
            "SELECT e.id, e.alert_id, e.at, e.actor_user_id, e.from_status, e.to_status, e.note \
             FROM alert_events e JOIN alerts a ON a.id = e.alert_id JOIN tenants t ON t.id = a.tenant_id \
             WHERE e.alert_id = $1 AND {} ORDER BY e.at, e.id",
            filter(scope.customer().is_some(), "$2", "t.customer_id = $2")
        );
        let rows: Vec<AlertEvent> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_all(pool).await?
        });
        Ok(rows)
    }

    /// Active (open or acknowledged) alerts per severity, in the scope or one tenant.
    pub async fn active_alert_counts(
        &self,
        scope: Scope,
        tenant_id: Option<i64>,
    ) -> Result<BTreeMap<Severity, i64>> {
        let sql = format!(
            "SELECT a.severity, COUNT(*) FROM alerts a JOIN tenants t ON t.id = a.tenant_id \
             WHERE a.status IN ('open', 'acknowledged') AND {} AND {} GROUP BY a.severity",
            filter(scope.customer().is_some(), "$1", "t.customer_id = $1"),
            filter(tenant_id.is_some(), "$2", "a.tenant_id = $2"),
        );
        let rows: Vec<(String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).bind(tenant_id).fetch_all(pool).await?
        });
        rows.into_iter().map(|(s, n)| Ok((s.parse()?, n))).collect()
    }

    /// Active (open or acknowledged) alerts per customer and severity, in the scope: the
    /// overview's context beside each customer's posture score, in one query.
    pub async fn active_alert_counts_by_customer(
        &self,
        scope: Scope,
    ) -> Result<BTreeMap<i64, BTreeMap<Severity, i64>>> {
        let sql = format!(
            "SELECT t.customer_id, a.severity, COUNT(*) FROM alerts a JOIN tenants t ON t.id = a.tenant_id \
             WHERE a.status IN ('open', 'acknowledged') AND {} GROUP BY t.customer_id, a.severity",
            filter(scope.customer().is_some(), "$1", "t.customer_id = $1"),
        );
        let rows: Vec<(i64, String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).fetch_all(pool).await?
        });
        let mut out: BTreeMap<i64, BTreeMap<Severity, i64>> = BTreeMap::new();
        for (customer, severity, n) in rows {
            out.entry(customer)
                .or_default()
                .insert(severity.parse()?, n);
        }
        Ok(out)
    }

    // ---- spool ----

    /// Spools a pushed batch (already gzip-compressed) and meters it. Returns its id.
    pub async fn spool_log_batch(
        &self,
        tenant_id: i64,
        source: LogSource,
        body_gzip: &[u8],
        events: i64,
        bytes: i64,
    ) -> Result<i64> {
        let now = now_us();
        let begin = self.begin_write();
        let result: std::result::Result<i64, sqlx::Error> = with_pool!(self, pool => {
            async {
                let mut tx = pool.begin_with(begin).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO log_spool (tenant_id, source, body, events, bytes, received_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(tenant_id)
                .bind(source.as_str())
                .bind(body_gzip)
                .bind(events)
                .bind(bytes)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO log_meter (tenant_id, minute, events, bytes) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant_id, minute) DO UPDATE SET events = log_meter.events + $3, \
                     bytes = log_meter.bytes + $4",
                )
                .bind(tenant_id)
                .bind(unix_minute(now))
                .bind(events)
                .bind(bytes)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(id)
            }
            .await
        });
        match result {
            Ok(id) => Ok(id),
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "tenant",
                id: tenant_id,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Leases the head (oldest batch) of one (tenant, source) queue whose head is free, to
    /// `worker` until `lease` from now. Only a queue's head is ever leased, so batches of one
    /// tenant and source are processed in the order they arrived; workers skip each other's
    /// rows (`SKIP LOCKED` on PostgreSQL). Among queues, the one whose stream was committed
    /// longest ago goes first: a tenant that pushes a backlog of thousands of batches is served
    /// in turn with the others, never before them. `exclude` names tenants not to take now (suspended
    /// by the flood guard).
    pub async fn claim_spooled(
        &self,
        worker: &str,
        lease: Duration,
        exclude: &[i64],
    ) -> Result<Option<SpoolItem>> {
        crate::model::check_name("worker name", worker)?;
        let now = now_us();
        let begin = self.begin_write();
        let excluded = if exclude.is_empty() {
            String::new()
        } else {
            format!(
                " AND s.tenant_id NOT IN ({})",
                exclude
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let sql = format!(
            "SELECT s.id FROM log_spool s WHERE (s.lease_expires_at IS NULL OR s.lease_expires_at < $1){excluded} \
             AND NOT EXISTS (SELECT 1 FROM log_spool o WHERE o.tenant_id = s.tenant_id AND o.source = s.source AND o.id < s.id) \
             ORDER BY COALESCE((SELECT ls.updated_at FROM log_streams ls WHERE ls.tenant_id = s.tenant_id AND ls.source = s.source), 0), s.id \
             LIMIT 1{}",
            self.skip_locked()
        );
        type Row = (i64, i64, String, Vec<u8>, i64, i64, i64, i64);
        let row: Option<Row> = with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let id: Option<i64> = sqlx::query_scalar(&sql).bind(now).fetch_optional(&mut *tx).await?;
            let row = match id {
                None => None,
                Some(id) => Some(
                    sqlx::query_as(
                        "UPDATE log_spool SET lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1 \
                         WHERE id = $3 RETURNING id, tenant_id, source, body, events, bytes, received_at, attempts",
                    )
                    .bind(worker)
                    .bind(now.saturating_add(duration_us(lease)))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?,
                ),
            };
            tx.commit().await?;
            row
        });
        row.map(|r| {
            Ok(SpoolItem {
                id: r.0,
                tenant_id: r.1,
                source: r.2.parse()?,
                body: r.3,
                events: r.4,
                bytes: r.5,
                received_at: ts(r.6),
                attempts: r.7,
            })
        })
        .transpose()
    }

    /// Gives a leased batch back after a failure that may pass: due again after `delay`.
    pub async fn release_spooled(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        delay: Duration,
    ) -> Result<bool> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE log_spool SET lease_owner = NULL, lease_expires_at = $1, last_error = $2 \
                 WHERE id = $3 AND lease_owner = $4",
            )
            .bind(now_us().saturating_add(duration_us(delay)))
            .bind(error)
            .bind(id)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Spooled batches and their bytes waiting, per tenant (all tenants with `None`).
    pub async fn spool_depth(&self, tenant_id: Option<i64>) -> Result<(i64, i64)> {
        let sql = format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM log_spool WHERE {}",
            filter(tenant_id.is_some(), "$1", "tenant_id = $1")
        );
        let row: (i64, i64) = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(tenant_id).fetch_one(pool).await?
        });
        Ok(row)
    }

    // ---- metering and the flood guard ----

    /// Per-minute metering from `since` on, per tenant (all tenants with `None`), oldest first.
    pub async fn log_meter(
        &self,
        scope: Scope,
        tenant_id: Option<i64>,
        since: Timestamp,
    ) -> Result<Vec<MeterRow>> {
        let sql = format!(
            "SELECT tenant_id, minute, events, bytes FROM log_meter WHERE minute >= $1 AND {} AND {} \
             ORDER BY tenant_id, minute",
            filter(
                scope.customer().is_some(),
                "$2",
                "tenant_id IN (SELECT id FROM tenants WHERE customer_id = $2)"
            ),
            filter(tenant_id.is_some(), "$3", "tenant_id = $3"),
        );
        let rows: Vec<(i64, i64, i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(unix_minute(since.as_microsecond()))
                .bind(scope.customer())
                .bind(tenant_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(tenant_id, minute, events, bytes)| MeterRow {
                tenant_id,
                minute,
                events,
                bytes,
            })
            .collect())
    }

    /// Adds events and bytes to a tenant's metering in the minute of `at` (pulls and pushes
    /// meter themselves; this is for imports and tests).
    pub async fn meter_logs(
        &self,
        tenant_id: i64,
        at: Timestamp,
        events: i64,
        bytes: i64,
    ) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO log_meter (tenant_id, minute, events, bytes) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, minute) DO UPDATE SET events = log_meter.events + $3, \
                 bytes = log_meter.bytes + $4",
            )
            .bind(tenant_id)
            .bind(unix_minute(at.as_microsecond()))
            .bind(events)
            .bind(bytes)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The guard's decision about a tenant; `None` when it was never throttled or suspended.
    pub async fn log_guard(&self, tenant_id: i64) -> Result<Option<LogGuard>> {
        let row: Option<GuardRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT tenant_id, state, reason, since, until, set_by, updated_at FROM log_guard WHERE tenant_id = $1",
            )
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?
        });
        row.map(guard_from_row).transpose()
    }

    /// Every tenant's guard decision visible in the scope that is not `normal`.
    pub async fn log_guards(&self, scope: Scope) -> Result<Vec<LogGuard>> {
        let sql = format!(
            "SELECT tenant_id, state, reason, since, until, set_by, updated_at FROM log_guard \
             WHERE state <> 'normal' AND {} ORDER BY tenant_id",
            filter(
                scope.customer().is_some(),
                "$1",
                "tenant_id IN (SELECT id FROM tenants WHERE customer_id = $1)"
            )
        );
        let rows: Vec<GuardRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).fetch_all(pool).await?
        });
        rows.into_iter().map(guard_from_row).collect()
    }

    /// Sets the guard's decision about a tenant (`set_by`: the operator, `None` for the guard).
    /// `since` stays when the state does not change.
    pub async fn set_log_guard(
        &self,
        tenant_id: i64,
        state: GuardState,
        reason: &str,
        until: Option<Timestamp>,
        set_by: Option<i64>,
    ) -> Result<LogGuard> {
        let now = now_us();
        let result: std::result::Result<(), sqlx::Error> = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO log_guard (tenant_id, state, reason, since, until, set_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $4) \
                 ON CONFLICT (tenant_id) DO UPDATE SET \
                   since = CASE WHEN log_guard.state = $2 THEN log_guard.since ELSE $4 END, \
                   state = $2, reason = $3, until = $5, set_by = $6, updated_at = $4",
            )
            .bind(tenant_id)
            .bind(state.as_str())
            .bind(reason)
            .bind(now)
            .bind(until.map(|t| t.as_microsecond()))
            .bind(set_by)
            .execute(pool)
            .await
            .map(|_| ())
        });
        match result {
            Ok(()) => {}
            Err(e) if is_foreign_key_violation(&e) => {
                return Err(Error::NotFound {
                    entity: "tenant",
                    id: tenant_id,
                })
            }
            Err(e) => return Err(e.into()),
        }
        self.log_guard(tenant_id).await?.ok_or(Error::NotFound {
            entity: "tenant",
            id: tenant_id,
        })
    }

    // ---- log pull jobs ----

    /// Queues a pull of the tenant's audit logs for a slot (unique per tenant and slot; `None`:
    /// now, by hand). Three attempts.
    pub async fn enqueue_log_pull(
        &self,
        tenant_id: i64,
        scheduled_for: Option<Timestamp>,
    ) -> Result<Option<crate::Job>> {
        self.enqueue_job(crate::JobKind::Logs, tenant_id, scheduled_for)
            .await
    }

    /// Claims the oldest due log pull whose tenant has no pull running, under `worker`'s lease
    /// (like [`Store::claim_job`] for scans, without a scan). `exclude`: tenants whose log
    /// processing is suspended (their pulls stay queued).
    pub async fn claim_log_pull(
        &self,
        worker: &str,
        lease: Duration,
        exclude: &[i64],
    ) -> Result<Option<crate::Job>> {
        self.claim_kind(crate::JobKind::Logs, worker, lease, exclude)
            .await
    }
}
