//! Work for the scheduler and the workers: the scan job queue (leases, at most one running job
//! per tenant, one job per schedule slot), schedule bookkeeping, notification channels
//! (configuration encrypted at rest) and the notification outbox.
//!
//! Queues are claimed with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL, so many workers on
//! one database never take the same row; on SQLite (one writer) claiming runs in a transaction
//! that takes the write lock first (`BEGIN IMMEDIATE`).

use std::time::Duration;

use jiff::Timestamp;
use mamori_core::Severity;
use serde::{Deserialize, Serialize};

use crate::crypto::channel_aad;
use crate::{
    clamp_limit, duration_us, filter, is_foreign_key_violation, is_unique_violation, now_us, ts,
    with_pool, Error, MasterKey, Result, Scope, Store,
};

/// What a job's scan is marked with when its worker's lease ran out.
pub const LEASE_LOST_ERROR: &str = "worker lost (lease expired)";
/// Attempts a job gets before it fails for good.
pub const JOB_MAX_ATTEMPTS: i64 = 3;

/// Marks a scan that has not finished as failed ($1 error, $2 time, $3 scan).
const FAIL_SCAN: &str = "UPDATE scans SET status = 'failed', error = $1, finished_at = $2 \
     WHERE id = $3 AND status IN ('queued', 'running')";
/// A failed scan keeps no snapshot: nothing was evaluated from it, and drift compares
/// succeeded scans only.
const DROP_SNAPSHOTS: &str = "DELETE FROM snapshots WHERE scan_id = $1";

// ---------------------------------------------------------------------------------------------
// Jobs

mamori_core::text_enum! {
    /// Where a job is: queued (again, after a failed attempt that may be retried), running
    /// under a worker's lease, then succeeded or failed for good.
    pub enum JobStatus("job status") {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

mamori_core::text_enum! {
    /// What a job does: a posture scan, or one pull of the tenant's audit logs for threat
    /// detection. A tenant runs at most one job of each kind at a time.
    pub enum JobKind("job kind") {
        Scan = "scan",
        Logs = "logs",
    }
}

/// A scan (or a log pull, by `kind`) to run for a tenant: queued by the scheduler (for a schedule slot) or by hand, and
/// claimed by a worker under a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub tenant_id: i64,
    pub kind: JobKind,
    pub status: JobStatus,
    /// The schedule slot it runs for; `None` for a manual scan.
    pub scheduled_for: Option<Timestamp>,
    /// Not claimed before this.
    pub run_after: Timestamp,
    pub attempts: i64,
    pub max_attempts: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Timestamp>,
    /// The scan of the current (or last) attempt.
    pub scan_id: Option<i64>,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    tenant_id: i64,
    kind: String,
    status: String,
    scheduled_for: Option<i64>,
    run_after: i64,
    attempts: i64,
    max_attempts: i64,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
    scan_id: Option<i64>,
    error: Option<String>,
    created_at: i64,
    finished_at: Option<i64>,
}

impl TryFrom<JobRow> for Job {
    type Error = Error;
    fn try_from(r: JobRow) -> Result<Self> {
        Ok(Job {
            id: r.id,
            tenant_id: r.tenant_id,
            kind: r.kind.parse()?,
            status: r.status.parse()?,
            scheduled_for: r.scheduled_for.map(ts),
            run_after: ts(r.run_after),
            attempts: r.attempts,
            max_attempts: r.max_attempts,
            lease_owner: r.lease_owner,
            lease_expires_at: r.lease_expires_at.map(ts),
            scan_id: r.scan_id,
            error: r.error,
            created_at: ts(r.created_at),
            finished_at: r.finished_at.map(ts),
        })
    }
}

const JOB_COLS: &str =
    "id, tenant_id, kind, status, scheduled_for, run_after, attempts, max_attempts, \
    lease_owner, lease_expires_at, scan_id, error, created_at, finished_at";

/// A tenant with a schedule, for the scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTenant {
    pub tenant_id: i64,
    pub cron: String,
    pub time_zone: String,
    /// The last slot the scheduler queued (see [`Store::advance_schedule`]).
    pub last_scheduled_for: Option<Timestamp>,
    pub created_at: Timestamp,
}

fn check_worker(worker: &str) -> Result<()> {
    crate::model::check_name("worker name", worker)
}

// ---------------------------------------------------------------------------------------------
// Notification channels and outbox

/// A place notifications go to. Its configuration (URL, secrets) is encrypted at rest and read
/// with [`Store::channel_config`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationChannel {
    pub id: i64,
    /// `None`: operator-wide (gets every customer's notifications).
    pub customer_id: Option<i64>,
    pub name: String,
    /// webhook, slack, teams or email.
    pub kind: String,
    /// Lowest severity notified.
    pub min_severity: Severity,
    pub enabled: bool,
    pub created_at: Timestamp,
}

/// The kinds of notification channel.
pub const CHANNEL_KINDS: [&str; 4] = ["webhook", "slack", "teams", "email"];

#[derive(sqlx::FromRow)]
struct ChannelRow {
    id: i64,
    customer_id: Option<i64>,
    name: String,
    kind: String,
    min_severity: String,
    enabled: bool,
    created_at: i64,
}

impl TryFrom<ChannelRow> for NotificationChannel {
    type Error = Error;
    fn try_from(r: ChannelRow) -> Result<Self> {
        Ok(NotificationChannel {
            id: r.id,
            customer_id: r.customer_id,
            name: r.name,
            kind: r.kind,
            min_severity: r.min_severity.parse()?,
            enabled: r.enabled,
            created_at: ts(r.created_at),
        })
    }
}

const CHANNEL_COLS: &str = "id, customer_id, name, kind, min_severity, enabled, created_at";

/// A notification waiting for (or done with) delivery to a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub id: i64,
    pub channel_id: i64,
    pub payload: serde_json::Value,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    /// pending, sent or dead.
    pub status: String,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    channel_id: i64,
    payload: String,
    attempts: i64,
    next_attempt_at: i64,
    status: String,
    last_error: Option<String>,
    created_at: i64,
}

impl TryFrom<OutboxRow> for OutboxItem {
    type Error = Error;
    fn try_from(r: OutboxRow) -> Result<Self> {
        Ok(OutboxItem {
            id: r.id,
            channel_id: r.channel_id,
            payload: serde_json::from_str(&r.payload).map_err(|e| Error::Invalid {
                field: "stored notification payload",
                value: e.to_string(),
            })?,
            attempts: r.attempts,
            next_attempt_at: ts(r.next_attempt_at),
            status: r.status,
            last_error: r.last_error,
            created_at: ts(r.created_at),
        })
    }
}

const OUTBOX_COLS: &str =
    "id, channel_id, payload, attempts, next_attempt_at, status, last_error, created_at";

/// Decrypts a channel's configuration, telling a wrong master key from a damaged ciphertext.
pub(crate) fn open_channel_config(
    key: &MasterKey,
    id: i64,
    ciphertext: &[u8],
    stored_key_id: &str,
) -> Result<Vec<u8>> {
    let current = key.key_id();
    if stored_key_id != current {
        return Err(Error::MasterKey(format!(
            "the configuration of notification channel {id} was encrypted with master key {stored_key_id}, \
             but the key in use is {current}: set MAMORI_MASTER_KEY (or the key file) to the key it was stored with"
        )));
    }
    key.open(&channel_aad(id), ciphertext).ok_or_else(|| {
        Error::MasterKey(format!(
            "the configuration of notification channel {id} could not be decrypted: \
             the stored ciphertext is corrupted or was tampered with"
        ))
    })
}

// ---------------------------------------------------------------------------------------------

impl Store {
    // ---- jobs ----

    /// Queues a scan of the tenant. With `scheduled_for` (a schedule slot) the job is unique
    /// per tenant and slot: queuing the same slot again returns `Ok(None)`; it becomes due at
    /// the slot. A manual job (`None`) is always queued, due now. Three attempts.
    pub async fn enqueue_scan(
        &self,
        tenant_id: i64,
        scheduled_for: Option<Timestamp>,
    ) -> Result<Option<Job>> {
        self.enqueue_job(JobKind::Scan, tenant_id, scheduled_for)
            .await
    }

    pub(crate) async fn enqueue_job(
        &self,
        kind: JobKind,
        tenant_id: i64,
        scheduled_for: Option<Timestamp>,
    ) -> Result<Option<Job>> {
        let now = now_us();
        let slot = scheduled_for.map(|t| t.as_microsecond());
        let sql = format!(
            "INSERT INTO jobs (tenant_id, status, scheduled_for, run_after, attempts, max_attempts, created_at, kind) \
             VALUES ($1, 'queued', $2, $3, 0, $4, $5, $6) \
             ON CONFLICT (tenant_id, kind, scheduled_for) DO NOTHING RETURNING {JOB_COLS}"
        );
        let result: std::result::Result<Option<JobRow>, sqlx::Error> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(slot)
                .bind(slot.unwrap_or(now))
                .bind(JOB_MAX_ATTEMPTS)
                .bind(now)
                .bind(kind.as_str())
                .fetch_optional(pool)
                .await
        });
        match result {
            Ok(row) => row.map(TryInto::try_into).transpose(),
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "tenant",
                id: tenant_id,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Claims the oldest due queued job whose tenant has no running job: marks it running
    /// under `worker`'s lease (expiring after `lease`; see [`Store::heartbeat`]), counts the
    /// attempt and creates its scan (running, started now), whose id is in `scan_id`. `None`
    /// when nothing is due.
    ///
    /// Concurrent claimers never take the same job (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
    /// the write lock on SQLite), and a tenant never has two running jobs (a partial UNIQUE
    /// index; a claim that collides with another tries the next candidate).
    pub async fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        check_worker(worker)?;
        let begin = self.begin_write();
        let candidate_sql = format!(
            "SELECT j.id, j.tenant_id FROM jobs j WHERE j.kind = 'scan' AND j.status = 'queued' AND j.run_after <= $1 \
             AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.tenant_id = j.tenant_id AND r.kind = 'scan' AND r.status = 'running') \
             ORDER BY j.run_after, j.id LIMIT 1{}",
            self.skip_locked()
        );
        let job_sql = format!("UPDATE jobs SET scan_id = $1 WHERE id = $2 RETURNING {JOB_COLS}");
        for _ in 0..16 {
            let now = now_us();
            let outcome: std::result::Result<Option<JobRow>, sqlx::Error> = with_pool!(self, pool => {
                async {
                    let mut tx = pool.begin_with(begin).await?;
                    let candidate: Option<(i64, i64)> =
                        sqlx::query_as(&candidate_sql).bind(now).fetch_optional(&mut *tx).await?;
                    let Some((job_id, tenant_id)) = candidate else {
                        return Ok(None);
                    };
                    // A second running job of the tenant violates jobs_one_running here.
                    let n = sqlx::query(
                        "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
                         attempts = attempts + 1, error = NULL WHERE id = $3 AND status = 'queued'",
                    )
                    .bind(worker)
                    .bind(now.saturating_add(duration_us(lease)))
                    .bind(job_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        return Ok(None);
                    }
                    let scan_id: i64 = sqlx::query_scalar(
                        "INSERT INTO scans (tenant_id, status, created_at, started_at) VALUES ($1, 'running', $2, $2) RETURNING id",
                    )
                    .bind(tenant_id)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    let row: JobRow = sqlx::query_as(&job_sql).bind(scan_id).bind(job_id).fetch_one(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(Some(row))
                }
                .await
            });
            match outcome {
                Ok(row) => return row.map(TryInto::try_into).transpose(),
                // Another worker started a job of the same tenant meanwhile: look again (its
                // job is running now, so the tenant is skipped).
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// Claims the oldest due queued job of `kind` whose tenant runs no job of that kind and is
    /// not in `exclude`; no scan is created (that is [`Store::claim_job`]'s).
    pub(crate) async fn claim_kind(
        &self,
        kind: JobKind,
        worker: &str,
        lease: Duration,
        exclude: &[i64],
    ) -> Result<Option<Job>> {
        check_worker(worker)?;
        let begin = self.begin_write();
        let excluded = if exclude.is_empty() {
            String::new()
        } else {
            format!(
                " AND j.tenant_id NOT IN ({})",
                exclude
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let candidate_sql = format!(
            "SELECT j.id FROM jobs j WHERE j.kind = $2 AND j.status = 'queued' AND j.run_after <= $1{excluded} \
             AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.tenant_id = j.tenant_id AND r.kind = $2 AND r.status = 'running') \
             ORDER BY j.run_after, j.id LIMIT 1{}",
            self.skip_locked()
        );
        let claim_sql = format!(
            "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, \
             attempts = attempts + 1, error = NULL WHERE id = $3 AND status = 'queued' RETURNING {JOB_COLS}"
        );
        for _ in 0..16 {
            let now = now_us();
            let outcome: std::result::Result<Option<JobRow>, sqlx::Error> = with_pool!(self, pool => {
                async {
                    let mut tx = pool.begin_with(begin).await?;
                    let candidate: Option<i64> = sqlx::query_scalar(&candidate_sql)
                        .bind(now)
                        .bind(kind.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(job_id) = candidate else {
                        return Ok(None);
                    };
                    let row: Option<JobRow> = sqlx::query_as(&claim_sql)
                        .bind(worker)
                        .bind(now.saturating_add(duration_us(lease)))
                        .bind(job_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(row)
                }
                .await
            });
            match outcome {
                Ok(row) => return row.map(TryInto::try_into).transpose(),
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// Extends the lease of a running job `worker` holds to `lease` from now. `false` when the
    /// lease was lost (the job was requeued or finished): the worker must stop.
    pub async fn heartbeat(&self, job_id: i64, worker: &str, lease: Duration) -> Result<bool> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND lease_owner = $3 AND status = 'running'",
            )
            .bind(now_us().saturating_add(duration_us(lease)))
            .bind(job_id)
            .bind(worker)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Ends a running job `worker` still holds: succeeded, or failed with the error (its scan,
    /// if still running, is marked failed with the same error; a succeeded scan is finished by
    /// the worker with [`Store::finish_scan`]). `false` when the lease was lost: the job is no
    /// longer this worker's and the caller must not record results.
    pub async fn finish_job(
        &self,
        job_id: i64,
        worker: &str,
        outcome: std::result::Result<(), String>,
    ) -> Result<bool> {
        let (status, error) = match &outcome {
            Ok(()) => (JobStatus::Succeeded, None),
            Err(e) => (JobStatus::Failed, Some(e.as_str())),
        };
        let now = now_us();
        let begin = self.begin_write();
        let finished = with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let scan: Option<Option<i64>> = sqlx::query_scalar(
                "UPDATE jobs SET status = $1, finished_at = $2, error = $3, lease_expires_at = NULL \
                 WHERE id = $4 AND lease_owner = $5 AND status = 'running' RETURNING scan_id",
            )
            .bind(status.as_str())
            .bind(now)
            .bind(error)
            .bind(job_id)
            .bind(worker)
            .fetch_optional(&mut *tx)
            .await?;
            if let (Some(Some(scan_id)), Some(error)) = (scan, error) {
                sqlx::query(FAIL_SCAN).bind(error).bind(now).bind(scan_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            scan
        });
        if let (Some(Some(scan_id)), true) = (finished, outcome.is_err()) {
            self.drop_failed_snapshot(scan_id).await;
        }
        Ok(finished.is_some())
    }

    /// A failed scan keeps no snapshot. Apart from the failure's own transaction and best
    /// effort: on a full disk the failure must be recorded even when freeing the snapshot's
    /// pages cannot be (retention removes it later).
    async fn drop_failed_snapshot(&self, scan_id: i64) {
        let result = with_pool!(self, pool => {
            sqlx::query(DROP_SNAPSHOTS).bind(scan_id).execute(pool).await.map(|_| ())
        });
        if let Err(e) = result {
            tracing::warn!(scan = scan_id, error = %e, "could not delete the failed scan's snapshot");
        }
    }

    /// Ends a running job's attempt that failed for a reason that may pass (the database was
    /// unreachable or full): its scan is marked failed with `error` and loses any snapshot, and
    /// the job goes back to the queue, due after `delay` — or fails for good when it has used
    /// all its attempts. `None` when the worker no longer holds the job's lease.
    pub async fn retry_job(
        &self,
        job_id: i64,
        worker: &str,
        error: &str,
        delay: std::time::Duration,
    ) -> Result<Option<JobStatus>> {
        let now = now_us();
        let run_after = now + delay.as_micros().min(i64::MAX as u128) as i64;
        let begin = self.begin_write();
        let status = with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            // Which scan this attempt ran: the update below detaches it from a requeued job.
            let scan_id: Option<Option<i64>> = sqlx::query_scalar(
                "SELECT scan_id FROM jobs WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
            )
            .bind(job_id)
            .bind(worker)
            .fetch_optional(&mut *tx)
            .await?;
            let row: Option<(String, Option<i64>)> = match scan_id {
                None => None,
                Some(scan_id) => sqlx::query_scalar(
                    "UPDATE jobs SET \
                       status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                       finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END, \
                       run_after = $2, error = $3, lease_owner = NULL, lease_expires_at = NULL, \
                       scan_id = CASE WHEN attempts >= max_attempts THEN scan_id ELSE NULL END \
                     WHERE id = $4 AND lease_owner = $5 AND status = 'running' RETURNING status",
                )
                .bind(now)
                .bind(run_after)
                .bind(error)
                .bind(job_id)
                .bind(worker)
                .fetch_optional(&mut *tx)
                .await?
                .map(|status: String| (status, scan_id)),
            };
            if let Some((_, Some(scan_id))) = &row {
                sqlx::query(FAIL_SCAN).bind(error).bind(now).bind(*scan_id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            row
        });
        let Some((status, scan_id)) = status else {
            return Ok(None);
        };
        if let Some(scan_id) = scan_id {
            self.drop_failed_snapshot(scan_id).await;
        }
        Ok(Some(status.parse()?))
    }

    /// Takes back running jobs whose lease expired (their worker died or hung): the scan is
    /// marked failed ("worker lost (lease expired)") and the job queued again, due now, without
    /// a scan, or failed when it has used all its attempts. Returns how many jobs.
    pub async fn requeue_expired(&self) -> Result<u64> {
        let now = now_us();
        let begin = self.begin_write();
        let candidates = format!(
            "SELECT id, scan_id FROM jobs WHERE status = 'running' AND lease_expires_at < $1 ORDER BY id{}",
            self.skip_locked()
        );
        let mut failed_scans = Vec::new();
        let n = with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let expired: Vec<(i64, Option<i64>)> =
                sqlx::query_as(&candidates).bind(now).fetch_all(&mut *tx).await?;
            let mut n = 0u64;
            for (job_id, scan_id) in expired {
                let changed = sqlx::query(
                    "UPDATE jobs SET \
                       status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END, \
                       scan_id = CASE WHEN attempts >= max_attempts THEN scan_id ELSE NULL END, \
                       finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END, \
                       run_after = $1, error = $2, lease_owner = NULL, lease_expires_at = NULL \
                     WHERE id = $3 AND status = 'running' AND lease_expires_at < $1",
                )
                .bind(now)
                .bind(LEASE_LOST_ERROR)
                .bind(job_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    continue;
                }
                if let Some(scan_id) = scan_id {
                    sqlx::query(FAIL_SCAN).bind(LEASE_LOST_ERROR).bind(now).bind(scan_id).execute(&mut *tx).await?;
                    failed_scans.push(scan_id);
                }
                n += 1;
            }
            tx.commit().await?;
            n
        });
        for scan_id in failed_scans {
            self.drop_failed_snapshot(scan_id).await;
        }
        Ok(n)
    }

    /// The newest `limit` (1 to 1000) jobs visible in the scope, in one status or all; newest
    /// first.
    pub async fn list_jobs(
        &self,
        scope: Scope,
        status: Option<JobStatus>,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLS} FROM jobs WHERE {} AND {} ORDER BY id DESC LIMIT $3",
            filter(status.is_some(), "$1", "status = $1"),
            filter(
                scope.customer().is_some(),
                "$2",
                "tenant_id IN (SELECT id FROM tenants WHERE customer_id = $2)"
            )
        );
        let rows: Vec<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(status.map(JobStatus::as_str))
                .bind(scope.customer())
                .bind(clamp_limit(limit, 1000))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn get_job(&self, scope: Scope, id: i64) -> Result<Option<Job>> {
        let sql = format!(
            "SELECT {JOB_COLS} FROM jobs WHERE id = $1 \
             AND ($2 IS NULL OR tenant_id IN (SELECT id FROM tenants WHERE customer_id = $2))"
        );
        let row: Option<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// How many jobs are in each status (statuses without jobs are left out), by status.
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status").fetch_all(pool).await?
        });
        Ok(rows)
    }

    // ---- schedules ----

    /// Tenants with a schedule (cron set), by id.
    pub async fn scheduled_tenants(&self) -> Result<Vec<ScheduledTenant>> {
        let rows: Vec<(i64, String, String, Option<i64>, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, schedule_cron, schedule_time_zone, last_scheduled_for, created_at FROM tenants \
                 WHERE schedule_cron IS NOT NULL ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(tenant_id, cron, time_zone, last, created_at)| ScheduledTenant {
                    tenant_id,
                    cron,
                    time_zone,
                    last_scheduled_for: last.map(ts),
                    created_at: ts(created_at),
                },
            )
            .collect())
    }

    /// Compare-and-set of the tenant's last scheduled slot from `previous` to `next`: `false`
    /// when it is not `previous` any more (another scheduler moved it) or the tenant is gone.
    pub async fn advance_schedule(
        &self,
        tenant_id: i64,
        previous: Option<Timestamp>,
        next: Timestamp,
    ) -> Result<bool> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE tenants SET last_scheduled_for = $1 WHERE id = $2 \
                 AND ((last_scheduled_for IS NULL AND $3 IS NULL) OR last_scheduled_for = $3)",
            )
            .bind(next.as_microsecond())
            .bind(tenant_id)
            .bind(previous.map(|t| t.as_microsecond()))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    // ---- notification channels ----

    /// Creates a notification channel for a customer (or operator-wide with `None`). Its
    /// configuration (JSON: URL, secrets) is encrypted with `key`, bound to the channel id
    /// under its own domain so no other ciphertext (a tenant's, another channel's) can be
    /// swapped in.
    pub async fn create_channel(
        &self,
        key: &MasterKey,
        customer_id: Option<i64>,
        name: &str,
        kind: &str,
        min_severity: Severity,
        config_json: &[u8],
    ) -> Result<NotificationChannel> {
        crate::model::check_name("channel name", name)?;
        if !CHANNEL_KINDS.contains(&kind) {
            return Err(Error::Invalid {
                field: "channel kind (webhook, slack, teams or email)",
                value: kind.to_string(),
            });
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(config_json).is_err() {
            return Err(Error::Invalid {
                field: "channel configuration (JSON)",
                value: "<not JSON>".into(),
            });
        }
        let key_id = key.key_id();
        let sql = format!("SELECT {CHANNEL_COLS} FROM notification_channels WHERE id = $1");
        let begin = self.begin_write();
        let result: std::result::Result<ChannelRow, sqlx::Error> = with_pool!(self, pool => {
            async {
                let mut tx = pool.begin_with(begin).await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO notification_channels (customer_id, name, kind, min_severity, enabled, \
                     config_ciphertext, config_key_id, created_at) VALUES ($1, $2, $3, $4, TRUE, $5, $6, $7) RETURNING id",
                )
                .bind(customer_id)
                .bind(name.trim())
                .bind(kind)
                .bind(min_severity.as_str())
                .bind(Vec::<u8>::new())
                .bind(&key_id)
                .bind(now_us())
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("UPDATE notification_channels SET config_ciphertext = $1 WHERE id = $2")
                    .bind(key.seal(&channel_aad(id), config_json))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(row)
            }
            .await
        });
        match result {
            Ok(row) => row.try_into(),
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "customer",
                id: customer_id.unwrap_or_default(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Channels visible in the scope: all of them, or a customer's own (not operator-wide ones).
    pub async fn list_channels(&self, scope: Scope) -> Result<Vec<NotificationChannel>> {
        let sql = format!(
            "SELECT {CHANNEL_COLS} FROM notification_channels WHERE ($1 IS NULL OR customer_id = $1) ORDER BY id"
        );
        let rows: Vec<ChannelRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).fetch_all(pool).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn get_channel(&self, scope: Scope, id: i64) -> Result<Option<NotificationChannel>> {
        let sql = format!(
            "SELECT {CHANNEL_COLS} FROM notification_channels WHERE id = $1 AND ($2 IS NULL OR customer_id = $2)"
        );
        let row: Option<ChannelRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).bind(scope.customer()).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// The channel's configuration, decrypted (for the notifier; not scoped).
    pub async fn channel_config(&self, key: &MasterKey, id: i64) -> Result<Vec<u8>> {
        let row: Option<(Vec<u8>, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT config_ciphertext, config_key_id FROM notification_channels WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let (ciphertext, key_id) = row.ok_or(Error::NotFound {
            entity: "notification channel",
            id,
        })?;
        open_channel_config(key, id, &ciphertext, &key_id)
    }

    /// Enables or disables a channel in the scope.
    pub async fn set_channel_enabled(&self, scope: Scope, id: i64, enabled: bool) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query("UPDATE notification_channels SET enabled = $1 WHERE id = $2 AND ($3 IS NULL OR customer_id = $3)")
                .bind(enabled)
                .bind(id)
                .bind(scope.customer())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "notification channel",
                id,
            });
        }
        Ok(())
    }

    /// Deletes a channel in the scope, with its outbox.
    pub async fn delete_channel(&self, scope: Scope, id: i64) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM notification_channels WHERE id = $1 AND ($2 IS NULL OR customer_id = $2)")
                .bind(id)
                .bind(scope.customer())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "notification channel",
                id,
            });
        }
        Ok(())
    }

    /// The enabled channels a customer's notifications go to: the customer's own and the
    /// operator-wide ones.
    pub async fn channels_for_customer(
        &self,
        customer_id: i64,
    ) -> Result<Vec<NotificationChannel>> {
        let sql = format!(
            "SELECT {CHANNEL_COLS} FROM notification_channels WHERE enabled = TRUE \
             AND (customer_id IS NULL OR customer_id = $1) ORDER BY id"
        );
        let rows: Vec<ChannelRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(customer_id).fetch_all(pool).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    // ---- notification outbox ----

    /// Queues a notification for a channel, due now. Returns its id.
    pub async fn enqueue_notification(
        &self,
        channel_id: i64,
        payload: &serde_json::Value,
    ) -> Result<i64> {
        let now = now_us();
        let result: std::result::Result<i64, sqlx::Error> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO notification_outbox (channel_id, payload, attempts, next_attempt_at, status, created_at) \
                 VALUES ($1, $2, 0, $3, 'pending', $3) RETURNING id",
            )
            .bind(channel_id)
            .bind(payload.to_string())
            .bind(now)
            .fetch_one(pool)
            .await
        });
        match result {
            Ok(id) => Ok(id),
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "notification channel",
                id: channel_id,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Claims up to `limit` (1 to 1000) pending, due notifications for `worker`, oldest first:
    /// their next attempt moves `lease` ahead, so no other process takes them meanwhile (and
    /// they come back if the worker dies before marking them). Concurrent claimers get
    /// disjoint sets.
    pub async fn claim_notifications(
        &self,
        worker: &str,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>> {
        check_worker(worker)?;
        let now = now_us();
        let sql = format!(
            "UPDATE notification_outbox SET next_attempt_at = $1, claimed_by = $2 WHERE id IN (\
               SELECT id FROM notification_outbox WHERE status = 'pending' AND next_attempt_at <= $3 \
               ORDER BY next_attempt_at, id LIMIT $4{}) RETURNING {OUTBOX_COLS}",
            self.skip_locked()
        );
        let rows: Vec<OutboxRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(now.saturating_add(duration_us(lease)))
                .bind(worker)
                .bind(now)
                .bind(clamp_limit(limit, 1000))
                .fetch_all(pool)
                .await?
        });
        let mut items: Vec<OutboxItem> = rows
            .into_iter()
            .map(TryInto::try_into)
            .collect::<Result<_>>()?;
        items.sort_by_key(|i| i.id);
        Ok(items)
    }

    /// Marks a notification delivered.
    pub async fn mark_notification_sent(&self, id: i64) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE notification_outbox SET status = 'sent', attempts = attempts + 1, sent_at = $1, \
                 last_error = NULL WHERE id = $2",
            )
            .bind(now_us())
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "notification",
                id,
            });
        }
        Ok(())
    }

    /// Records a failed delivery: tried again at `retry_at`, or given up (dead) with `None`.
    pub async fn mark_notification_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE notification_outbox SET attempts = attempts + 1, last_error = $1, \
                 status = CASE WHEN $2 IS NULL THEN 'dead' ELSE 'pending' END, \
                 next_attempt_at = COALESCE($2, next_attempt_at) WHERE id = $3",
            )
            .bind(error)
            .bind(retry_at.map(|t| t.as_microsecond()))
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "notification",
                id,
            });
        }
        Ok(())
    }

    /// The newest `limit` (1 to 1000) notifications visible in the scope (a customer's scope:
    /// those of the customer's own channels), newest first.
    pub async fn list_outbox(&self, scope: Scope, limit: i64) -> Result<Vec<OutboxItem>> {
        let sql = format!(
            "SELECT {OUTBOX_COLS} FROM notification_outbox WHERE {} ORDER BY id DESC LIMIT $2",
            filter(
                scope.customer().is_some(),
                "$1",
                "channel_id IN (SELECT id FROM notification_channels WHERE customer_id = $1)"
            )
        );
        let rows: Vec<OutboxRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).bind(clamp_limit(limit, 1000)).fetch_all(pool).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
