//! Control results: what each control gave on a scan. Recording them maintains the tenant's
//! findings ([`Store::record_results`]), under the one rule of [`Status::is_failing`].

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mamori_core::{Severity, Status};
use serde::{Deserialize, Serialize};

use super::{check_name, FindingRow, FindingStatus, FINDING_COLS};
use crate::{now_us, with_pool, Error, Result, Store};

/// One control's result as the store records it: the store's own small type, so the store does
/// not depend on the policy engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultInput {
    pub control_id: String,
    pub status: Status,
    pub severity: Severity,
    pub details_en: String,
    pub details_ja: String,
    /// Offending resources; a failing result without any is one finding on the tenant itself.
    pub resources: Vec<String>,
}

impl ResultInput {
    pub fn new(control_id: impl Into<String>, status: Status, severity: Severity) -> Self {
        ResultInput {
            control_id: control_id.into(),
            status,
            severity,
            details_en: String::new(),
            details_ja: String::new(),
            resources: Vec::new(),
        }
    }

    pub fn with_resources<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        resources: I,
    ) -> Self {
        self.resources = resources.into_iter().map(Into::into).collect();
        self
    }
}

impl From<&mamori_core::ControlResult> for ResultInput {
    fn from(r: &mamori_core::ControlResult) -> Self {
        ResultInput {
            control_id: r.id.clone(),
            status: r.status,
            severity: r.severity,
            details_en: r.details.en.clone(),
            details_ja: r.details.ja.clone(),
            resources: r.resources.clone(),
        }
    }
}

/// A control result as stored for a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResult {
    pub scan_id: i64,
    pub control_id: String,
    pub status: Status,
    pub severity: Severity,
    pub details_en: String,
    pub details_ja: String,
    pub resources: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct ResultRow {
    scan_id: i64,
    control_id: String,
    status: String,
    severity: String,
    details_en: String,
    details_ja: String,
    resources: String,
}

impl TryFrom<ResultRow> for StoredResult {
    type Error = Error;
    fn try_from(r: ResultRow) -> Result<Self> {
        Ok(StoredResult {
            scan_id: r.scan_id,
            control_id: r.control_id,
            status: r.status.parse()?,
            severity: r.severity.parse()?,
            details_en: r.details_en,
            details_ja: r.details_ja,
            resources: serde_json::from_str(&r.resources).unwrap_or_default(),
        })
    }
}

/// What [`Store::record_results`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSummary {
    pub results: usize,
    pub opened: usize,
    pub reopened: usize,
    pub resolved: usize,
}

impl Store {
    /// Records a scan's control results and maintains the tenant's findings, in one
    /// transaction:
    ///
    /// * a `fail`/`warning` result opens a finding per offending resource (one with resource
    ///   key "" when it names none), or updates `last_seen` of the open one, or reopens a
    ///   resolved one;
    /// * a `pass` resolves the control's open findings; a failing result resolves the control's
    ///   open findings on resources it no longer names;
    /// * other statuses (error, manual, not applicable, omitted) leave findings as they are.
    ///
    /// Every open, resolve and reopen adds a [`FindingEvent`](crate::FindingEvent) (see [`Store::finding_history`]).
    /// An active finding that an approved, unexpired exception matches (same control; the
    /// exception's resource key, or any resource when it has none) is marked accepted by it
    /// (an event "accepted by exception N"); a resolved finding is no longer accepted.
    ///
    /// Recording the same scan again replaces its results and changes no finding; a finding
    /// already moved by a later scan is not moved back by an earlier one. Findings are unique
    /// per (tenant, control, resource) by constraint. Recording is serialised per tenant.
    pub async fn record_results(
        &self,
        scan_id: i64,
        results: &[ResultInput],
    ) -> Result<RecordSummary> {
        for r in results {
            check_name("control id", &r.control_id)?;
        }
        let scan = self.get_scan(scan_id).await?.ok_or(Error::NotFound {
            entity: "scan",
            id: scan_id,
        })?;
        let t = scan.started_at.unwrap_or(scan.created_at).as_microsecond();
        let tenant_id = scan.tenant_id;

        // Per control: the last result given for it wins.
        let mut by_control: BTreeMap<&str, &ResultInput> = BTreeMap::new();
        for r in results {
            by_control.insert(r.control_id.as_str(), r);
        }

        let mut summary = RecordSummary {
            results: by_control.len(),
            ..Default::default()
        };
        let finding_sql = format!("SELECT {FINDING_COLS} FROM findings WHERE tenant_id = $1");
        const EVENT_SQL: &str =
            "INSERT INTO finding_events (finding_id, scan_id, at, from_status, to_status, note) \
                                 VALUES ($1, $2, $3, $4, $5, $6)";
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // First statement writes: serialises recording per tenant (row lock on PostgreSQL,
            // the database write lock on SQLite).
            sqlx::query("UPDATE tenants SET last_results_at = $1 WHERE id = $2")
                .bind(now_us())
                .bind(tenant_id)
                .execute(&mut *tx)
                .await?;

            sqlx::query("DELETE FROM control_results WHERE scan_id = $1").bind(scan_id).execute(&mut *tx).await?;
            for r in by_control.values() {
                let resources = serde_json::to_string(&r.resources).unwrap_or_else(|_| "[]".into());
                sqlx::query(
                    "INSERT INTO control_results (scan_id, control_id, status, severity, details_en, details_ja, resources) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(scan_id)
                .bind(&r.control_id)
                .bind(r.status.as_str())
                .bind(r.severity.as_str())
                .bind(&r.details_en)
                .bind(&r.details_ja)
                .bind(resources)
                .execute(&mut *tx)
                .await?;
            }

            // Approved exceptions in force, oldest first: the first that matches accepts.
            let exceptions: Vec<(i64, String, Option<String>)> = sqlx::query_as(
                "SELECT id, control_id, resource_key FROM exceptions \
                 WHERE tenant_id = $1 AND status = 'approved' AND expires_at > $2 ORDER BY id",
            )
            .bind(tenant_id)
            .bind(now_us())
            .fetch_all(&mut *tx)
            .await?;
            let accepting = |control: &str, key: &str| {
                exceptions
                    .iter()
                    .find(|(_, c, k)| c == control && k.as_deref().is_none_or(|k| k == key))
                    .map(|(id, _, _)| *id)
            };

            let rows: Vec<FindingRow> = sqlx::query_as(&finding_sql).bind(tenant_id).fetch_all(&mut *tx).await?;
            let mut existing: HashMap<(String, String), FindingRow> = HashMap::new();
            for row in rows {
                existing.insert((row.control_id.clone(), row.resource_key.clone()), row);
            }
            let mut by_ctl: HashMap<&str, Vec<&FindingRow>> = HashMap::new();
            for f in existing.values() {
                by_ctl.entry(f.control_id.as_str()).or_default().push(f);
            }

            for r in by_control.values() {
                let failing = r.status.is_failing();
                if !failing && r.status != Status::Pass {
                    continue;
                }
                let keys: BTreeSet<&str> = if failing {
                    if r.resources.is_empty() { [""].into() } else { r.resources.iter().map(String::as_str).collect() }
                } else {
                    BTreeSet::new()
                };
                // Resolve active findings of this control not failing any more.
                for f in by_ctl.get(r.control_id.as_str()).map(Vec::as_slice).unwrap_or_default() {
                    let from: FindingStatus = f.status.parse()?;
                    if from.is_active() && f.last_scan_id <= scan_id && !keys.contains(f.resource_key.as_str()) {
                        sqlx::query(
                            "UPDATE findings SET status = 'resolved', resolved_at = $1, last_scan_id = $2, \
                             accepted_exception_id = NULL WHERE id = $3",
                        )
                        .bind(t)
                        .bind(scan_id)
                        .bind(f.id)
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(EVENT_SQL)
                            .bind(f.id)
                            .bind(scan_id)
                            .bind(t)
                            .bind(from.as_str())
                            .bind(FindingStatus::Resolved.as_str())
                            .bind("resolved")
                            .execute(&mut *tx)
                            .await?;
                        summary.resolved += 1;
                    }
                }
                for key in keys {
                    match existing.get(&(r.control_id.clone(), key.to_string())) {
                        None => {
                            let accepted = accepting(&r.control_id, key);
                            let id: Option<i64> = sqlx::query_scalar(
                                "INSERT INTO findings (tenant_id, control_id, resource_key, status, severity, severity_rank, \
                                 first_seen, last_seen, first_scan_id, last_scan_id, accepted_exception_id) \
                                 VALUES ($1, $2, $3, 'open', $4, $5, $6, $6, $7, $7, $8) \
                                 ON CONFLICT (tenant_id, control_id, resource_key) DO NOTHING RETURNING id",
                            )
                            .bind(tenant_id)
                            .bind(&r.control_id)
                            .bind(key)
                            .bind(r.severity.as_str())
                            .bind(r.severity.rank())
                            .bind(t)
                            .bind(scan_id)
                            .bind(accepted)
                            .fetch_optional(&mut *tx)
                            .await?;
                            if let Some(id) = id {
                                sqlx::query(EVENT_SQL)
                                    .bind(id)
                                    .bind(scan_id)
                                    .bind(t)
                                    .bind(None::<&str>)
                                    .bind(FindingStatus::Open.as_str())
                                    .bind("opened")
                                    .execute(&mut *tx)
                                    .await?;
                                if let Some(e) = accepted {
                                    sqlx::query(EVENT_SQL)
                                        .bind(id)
                                        .bind(scan_id)
                                        .bind(t)
                                        .bind(FindingStatus::Open.as_str())
                                        .bind(FindingStatus::Open.as_str())
                                        .bind(format!("accepted by exception {e}"))
                                        .execute(&mut *tx)
                                        .await?;
                                }
                                summary.opened += 1;
                            }
                        }
                        Some(f) if f.last_scan_id > scan_id => {} // a later scan already judged it
                        Some(f) => {
                            let current: FindingStatus = f.status.parse()?;
                            let reopen = current == FindingStatus::Resolved;
                            let status = if reopen { FindingStatus::Reopened } else { current };
                            let newly_accepted = match f.accepted_exception_id {
                                Some(_) if !reopen => None,
                                _ => accepting(&r.control_id, key),
                            };
                            sqlx::query(
                                "UPDATE findings SET status = $1, resolved_at = NULL, severity = $2, severity_rank = $3, \
                                 last_seen = CASE WHEN last_seen > $4 THEN last_seen ELSE $4 END, \
                                 last_scan_id = $5, reopen_count = reopen_count + $6, \
                                 accepted_exception_id = COALESCE($7, accepted_exception_id) WHERE id = $8",
                            )
                            .bind(status.as_str())
                            .bind(r.severity.as_str())
                            .bind(r.severity.rank())
                            .bind(t)
                            .bind(scan_id)
                            .bind(i64::from(reopen))
                            .bind(newly_accepted)
                            .bind(f.id)
                            .execute(&mut *tx)
                            .await?;
                            if reopen {
                                sqlx::query(EVENT_SQL)
                                    .bind(f.id)
                                    .bind(scan_id)
                                    .bind(t)
                                    .bind(FindingStatus::Resolved.as_str())
                                    .bind(FindingStatus::Reopened.as_str())
                                    .bind("reopened")
                                    .execute(&mut *tx)
                                    .await?;
                                summary.reopened += 1;
                            }
                            if let Some(e) = newly_accepted {
                                sqlx::query(EVENT_SQL)
                                    .bind(f.id)
                                    .bind(scan_id)
                                    .bind(t)
                                    .bind(status.as_str())
                                    .bind(status.as_str())
                                    .bind(format!("accepted by exception {e}"))
                                    .execute(&mut *tx)
                                    .await?;
                            }
                        }
                    }
                }
            }
            tx.commit().await?;
        });
        Ok(summary)
    }

    /// The control results recorded for a scan, by control id.
    pub async fn control_results(&self, scan_id: i64) -> Result<Vec<StoredResult>> {
        let rows: Vec<ResultRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT scan_id, control_id, status, severity, details_en, details_ja, resources \
                 FROM control_results WHERE scan_id = $1 ORDER BY control_id",
            )
            .bind(scan_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
