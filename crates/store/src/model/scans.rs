//! Scans: one collection and evaluation of a tenant, queued, running, then succeeded or failed.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::{now_us, ts, with_pool, Error, Result, Store};

mamori_core::text_enum! {
    /// Where a scan is: queued, running, then succeeded or failed.
    pub enum ScanStatus("scan status") {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

/// A scan of a tenant; its results are read with [`Store::control_results`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    pub id: i64,
    pub tenant_id: i64,
    pub status: ScanStatus,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub request_count: i64,
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ScanRow {
    pub(crate) id: i64,
    pub(crate) tenant_id: i64,
    pub(crate) status: String,
    pub(crate) created_at: i64,
    pub(crate) started_at: Option<i64>,
    pub(crate) finished_at: Option<i64>,
    pub(crate) request_count: i64,
    pub(crate) error: Option<String>,
}

impl TryFrom<ScanRow> for Scan {
    type Error = Error;
    fn try_from(r: ScanRow) -> Result<Self> {
        Ok(Scan {
            id: r.id,
            tenant_id: r.tenant_id,
            status: r.status.parse()?,
            created_at: ts(r.created_at),
            started_at: r.started_at.map(ts),
            finished_at: r.finished_at.map(ts),
            request_count: r.request_count,
            error: r.error,
        })
    }
}

pub(crate) const SCAN_COLS: &str =
    "id, tenant_id, status, created_at, started_at, finished_at, request_count, error";

impl Store {
    /// Queues a scan of the tenant.
    pub async fn create_scan(&self, tenant_id: i64) -> Result<Scan> {
        let sql = format!("INSERT INTO scans (tenant_id, status, created_at) VALUES ($1, 'queued', $2) RETURNING {SCAN_COLS}");
        let row: ScanRow = with_pool!(self, pool => sqlx::query_as(&sql).bind(tenant_id).bind(now_us()).fetch_one(pool).await?);
        row.try_into()
    }

    /// Marks a scan running and records its start time.
    pub async fn start_scan(&self, id: i64) -> Result<Scan> {
        let sql = format!("UPDATE scans SET status = 'running', started_at = $1 WHERE id = $2 RETURNING {SCAN_COLS}");
        let row: Option<ScanRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(now_us()).bind(id).fetch_optional(pool).await?);
        row.ok_or(Error::NotFound { entity: "scan", id })?
            .try_into()
    }

    /// Ends a scan with `succeeded` or `failed`, its request count and error text.
    pub async fn finish_scan(
        &self,
        id: i64,
        status: ScanStatus,
        request_count: i64,
        error: Option<&str>,
    ) -> Result<Scan> {
        if !matches!(status, ScanStatus::Succeeded | ScanStatus::Failed) {
            return Err(Error::Invalid {
                field: "final scan status",
                value: status.as_str().to_string(),
            });
        }
        let sql = format!(
            "UPDATE scans SET status = $1, finished_at = $2, request_count = $3, error = $4, \
             started_at = COALESCE(started_at, $2) WHERE id = $5 RETURNING {SCAN_COLS}"
        );
        let row: Option<ScanRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(status.as_str()).bind(now_us()).bind(request_count).bind(error).bind(id).fetch_optional(pool).await?
        });
        row.ok_or(Error::NotFound { entity: "scan", id })?
            .try_into()
    }

    /// Sets a scan's request count (the worker's progress, before it finishes the scan).
    pub async fn set_scan_request_count(&self, id: i64, request_count: i64) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query("UPDATE scans SET request_count = $1 WHERE id = $2")
                .bind(request_count)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound { entity: "scan", id });
        }
        Ok(())
    }

    pub async fn get_scan(&self, id: i64) -> Result<Option<Scan>> {
        let sql = format!("SELECT {SCAN_COLS} FROM scans WHERE id = $1");
        let row: Option<ScanRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        row.map(TryInto::try_into).transpose()
    }

    /// The tenant's scans, newest first.
    pub async fn list_scans(&self, tenant_id: i64) -> Result<Vec<Scan>> {
        let sql = format!("SELECT {SCAN_COLS} FROM scans WHERE tenant_id = $1 ORDER BY id DESC");
        let rows: Vec<ScanRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(tenant_id).fetch_all(pool).await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The tenant's last succeeded scan before `scan_id`.
    pub async fn previous_succeeded_scan(&self, scan_id: i64) -> Result<Option<Scan>> {
        let scan = self.get_scan(scan_id).await?.ok_or(Error::NotFound {
            entity: "scan",
            id: scan_id,
        })?;
        let sql = format!(
            "SELECT {SCAN_COLS} FROM scans WHERE tenant_id = $1 AND id < $2 AND status = 'succeeded' ORDER BY id DESC LIMIT 1"
        );
        let row: Option<ScanRow> = with_pool!(self, pool => sqlx::query_as(&sql).bind(scan.tenant_id).bind(scan_id).fetch_optional(pool).await?);
        row.map(TryInto::try_into).transpose()
    }
}
