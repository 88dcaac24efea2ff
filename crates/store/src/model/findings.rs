//! Findings: one failing control on one resource of one tenant, followed across scans. They are
//! opened, resolved and reopened by [`Store::record_results`]; listings for the dashboard are in
//! `posture`.

use jiff::Timestamp;
use mamori_core::Severity;
use serde::{Deserialize, Serialize};

use crate::{ts, with_pool, Error, Result, Store};

mamori_core::text_enum! {
    /// Where a finding is: open, resolved (the control passes, or no longer names the resource)
    /// or reopened (failing again after it was resolved).
    pub enum FindingStatus("finding status") {
        Open = "open",
        Resolved = "resolved",
        Reopened = "reopened",
    }
}

impl FindingStatus {
    /// Open or reopened.
    pub fn is_active(self) -> bool {
        self != FindingStatus::Resolved
    }
}

/// One failing control on one resource of one tenant, followed across scans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: i64,
    pub tenant_id: i64,
    pub control_id: String,
    /// The offending resource, or "" for a tenant-wide setting.
    pub resource_key: String,
    pub status: FindingStatus,
    pub severity: Severity,
    pub first_seen: Timestamp,
    pub last_seen: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub first_scan_id: i64,
    pub last_scan_id: i64,
    pub reopen_count: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct FindingRow {
    pub(crate) id: i64,
    pub(crate) tenant_id: i64,
    pub(crate) control_id: String,
    pub(crate) resource_key: String,
    pub(crate) status: String,
    pub(crate) severity: String,
    pub(crate) first_seen: i64,
    pub(crate) last_seen: i64,
    pub(crate) resolved_at: Option<i64>,
    pub(crate) first_scan_id: i64,
    pub(crate) last_scan_id: i64,
    pub(crate) reopen_count: i64,
    pub(crate) accepted_exception_id: Option<i64>,
}

impl TryFrom<FindingRow> for Finding {
    type Error = Error;
    fn try_from(r: FindingRow) -> Result<Self> {
        Ok(Finding {
            id: r.id,
            tenant_id: r.tenant_id,
            control_id: r.control_id,
            resource_key: r.resource_key,
            status: r.status.parse()?,
            severity: r.severity.parse()?,
            first_seen: ts(r.first_seen),
            last_seen: ts(r.last_seen),
            resolved_at: r.resolved_at.map(ts),
            first_scan_id: r.first_scan_id,
            last_scan_id: r.last_scan_id,
            reopen_count: r.reopen_count,
        })
    }
}

pub(crate) const FINDING_COLS: &str =
    "id, tenant_id, control_id, resource_key, status, severity, first_seen, \
    last_seen, resolved_at, first_scan_id, last_scan_id, reopen_count, accepted_exception_id";

impl Store {
    /// The tenant's findings (optionally only those in one status), by control and resource.
    pub async fn findings(
        &self,
        tenant_id: i64,
        status: Option<FindingStatus>,
    ) -> Result<Vec<Finding>> {
        let sql = format!(
            "SELECT {FINDING_COLS} FROM findings WHERE tenant_id = $1 AND ($2 IS NULL OR status = $2) \
             ORDER BY control_id, resource_key"
        );
        let rows: Vec<FindingRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(tenant_id).bind(status.map(FindingStatus::as_str)).fetch_all(pool).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
