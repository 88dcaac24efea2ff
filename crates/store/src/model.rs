//! Tables and repository functions. Every function is one query or one transaction.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};

use jiff::Timestamp;
use mamori_core::Status;
use serde::{Deserialize, Serialize};

use crate::{now_us, ts, with_pool, Backend, Credentials, Error, MasterKey, Result, Store};

/// Time zone given to customers and schedules when none is set.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";

// ---------------------------------------------------------------------------------------------
// Customers

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub name_ja: Option<String>,
    pub time_zone: String,
    pub created_at: Timestamp,
}

/// Fields of a customer to create or update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub name: String,
    pub name_ja: Option<String>,
    /// IANA time zone name; `None` means Asia/Tokyo.
    pub time_zone: Option<String>,
}

impl NewCustomer {
    pub fn new(name: impl Into<String>) -> Self {
        NewCustomer {
            name: name.into(),
            name_ja: None,
            time_zone: None,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CustomerRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) name_ja: Option<String>,
    pub(crate) time_zone: String,
    pub(crate) created_at: i64,
}

impl From<CustomerRow> for Customer {
    fn from(r: CustomerRow) -> Self {
        Customer {
            id: r.id,
            name: r.name,
            name_ja: r.name_ja,
            time_zone: r.time_zone,
            created_at: ts(r.created_at),
        }
    }
}

pub(crate) const CUSTOMER_COLS: &str = "id, name, name_ja, time_zone, created_at";

pub(crate) fn check_name(field: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::Invalid {
            field,
            value: value.to_string(),
        });
    }
    Ok(())
}

fn check_time_zone(value: &str) -> Result<()> {
    // IANA names: letters, digits, '/', '_', '-', '+'. Resolution against the tz database is
    // left to the scheduler, which needs the database anyway.
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
    if !ok {
        return Err(Error::Invalid {
            field: "time zone",
            value: value.to_string(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Tenants

/// The SaaS a tenant is: Microsoft 365 or Google Workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum App {
    M365,
    Gws,
}

impl App {
    pub fn as_str(self) -> &'static str {
        match self {
            App::M365 => "m365",
            App::Gws => "gws",
        }
    }

    pub fn parse(s: &str) -> Result<App> {
        match s {
            "m365" => Ok(App::M365),
            "gws" => Ok(App::Gws),
            _ => Err(Error::Invalid {
                field: "app",
                value: s.to_string(),
            }),
        }
    }
}

/// A tenant as listed: the credentials stay encrypted; see [`Store::tenant_credentials`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: i64,
    pub customer_id: i64,
    pub app: App,
    pub display_name: String,
    pub has_credentials: bool,
    /// Fingerprint of the master key the credentials are encrypted with.
    pub credentials_key_id: Option<String>,
    pub schedule_cron: Option<String>,
    pub schedule_time_zone: String,
    pub created_at: Timestamp,
}

#[derive(Clone)]
pub struct NewTenant {
    pub customer_id: i64,
    pub app: App,
    pub display_name: String,
    /// Plaintext credentials (the connector's credentials file); encrypted before storing.
    pub credentials: Vec<u8>,
    pub schedule_cron: Option<String>,
    /// `None` means Asia/Tokyo.
    pub schedule_time_zone: Option<String>,
}

impl std::fmt::Debug for NewTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewTenant")
            .field("customer_id", &self.customer_id)
            .field("app", &self.app)
            .field("display_name", &self.display_name)
            .field("credentials", &"<redacted>")
            .field("schedule_cron", &self.schedule_cron)
            .field("schedule_time_zone", &self.schedule_time_zone)
            .finish()
    }
}

impl NewTenant {
    pub fn new(
        customer_id: i64,
        app: App,
        display_name: impl Into<String>,
        credentials: &[u8],
    ) -> Self {
        NewTenant {
            customer_id,
            app,
            display_name: display_name.into(),
            credentials: credentials.to_vec(),
            schedule_cron: None,
            schedule_time_zone: None,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    pub(crate) id: i64,
    pub(crate) customer_id: i64,
    pub(crate) app: String,
    pub(crate) display_name: String,
    pub(crate) has_credentials: i64,
    pub(crate) credentials_key_id: Option<String>,
    pub(crate) schedule_cron: Option<String>,
    pub(crate) schedule_time_zone: String,
    pub(crate) created_at: i64,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = Error;
    fn try_from(r: TenantRow) -> Result<Self> {
        Ok(Tenant {
            id: r.id,
            customer_id: r.customer_id,
            app: App::parse(&r.app)?,
            display_name: r.display_name,
            has_credentials: r.has_credentials != 0,
            credentials_key_id: r.credentials_key_id,
            schedule_cron: r.schedule_cron,
            schedule_time_zone: r.schedule_time_zone,
            created_at: ts(r.created_at),
        })
    }
}

pub(crate) const TENANT_COLS: &str = "id, customer_id, app, display_name, \
    CAST(CASE WHEN credentials_ciphertext IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_credentials, \
    credentials_key_id, schedule_cron, schedule_time_zone, created_at";

// ---------------------------------------------------------------------------------------------
// Scans

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl ScanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ScanStatus::Queued => "queued",
            ScanStatus::Running => "running",
            ScanStatus::Succeeded => "succeeded",
            ScanStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<ScanStatus> {
        match s {
            "queued" => Ok(ScanStatus::Queued),
            "running" => Ok(ScanStatus::Running),
            "succeeded" => Ok(ScanStatus::Succeeded),
            "failed" => Ok(ScanStatus::Failed),
            _ => Err(Error::Invalid {
                field: "scan status",
                value: s.to_string(),
            }),
        }
    }
}

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
            status: ScanStatus::parse(&r.status)?,
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

// ---------------------------------------------------------------------------------------------
// Snapshots

/// A stored snapshot's metadata; the data is read with [`Store::load_snapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub id: i64,
    pub scan_id: i64,
    /// Size of the JSON before compression.
    pub size_bytes: i64,
    /// Size stored (gzip).
    pub compressed_bytes: i64,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct SnapshotRow {
    id: i64,
    scan_id: i64,
    size_bytes: i64,
    compressed_bytes: i64,
    created_at: i64,
}

impl From<SnapshotRow> for Snapshot {
    fn from(r: SnapshotRow) -> Self {
        Snapshot {
            id: r.id,
            scan_id: r.scan_id,
            size_bytes: r.size_bytes,
            compressed_bytes: r.compressed_bytes,
            created_at: ts(r.created_at),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Control results and findings

/// One control's result as the store records it: the store's own small type, so the store does
/// not depend on the policy engine. `status` is one of mamori-core's status strings (`pass`,
/// `fail`, `warning`, `manual`, `not_applicable`, `error`, `omitted`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultInput {
    pub control_id: String,
    pub status: String,
    pub severity: String,
    pub details_en: String,
    pub details_ja: String,
    /// Offending resources; a failing result without any is one finding on the tenant itself.
    pub resources: Vec<String>,
}

impl ResultInput {
    pub fn new(
        control_id: impl Into<String>,
        status: impl Into<String>,
        severity: impl Into<String>,
    ) -> Self {
        ResultInput {
            control_id: control_id.into(),
            status: status.into(),
            severity: severity.into(),
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
            status: r.status.as_str().to_string(),
            severity: r.severity.as_str().to_string(),
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
    pub status: String,
    pub severity: String,
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

impl From<ResultRow> for StoredResult {
    fn from(r: ResultRow) -> Self {
        StoredResult {
            scan_id: r.scan_id,
            control_id: r.control_id,
            status: r.status,
            severity: r.severity,
            details_en: r.details_en,
            details_ja: r.details_ja,
            resources: serde_json::from_str(&r.resources).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    Open,
    Resolved,
    Reopened,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::Resolved => "resolved",
            FindingStatus::Reopened => "reopened",
        }
    }

    pub fn parse(s: &str) -> Result<FindingStatus> {
        match s {
            "open" => Ok(FindingStatus::Open),
            "resolved" => Ok(FindingStatus::Resolved),
            "reopened" => Ok(FindingStatus::Reopened),
            _ => Err(Error::Invalid {
                field: "finding status",
                value: s.to_string(),
            }),
        }
    }

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
    pub severity: String,
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
            status: FindingStatus::parse(&r.status)?,
            severity: r.severity,
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

/// Sort rank of a severity: critical 0, high 1, medium 2, low 3, info 4, anything else 5 (stored
/// as `findings.severity_rank` so listings order by index).
pub fn severity_rank(severity: &str) -> i64 {
    match severity {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        "info" => 4,
        _ => 5,
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

/// One control in a [`Drift`] list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftItem {
    pub control_id: String,
    pub severity: String,
    /// Status in the previous succeeded scan (`None`: not judged there).
    pub previous_status: Option<String>,
    pub status: String,
}

/// A scan compared with the tenant's previous succeeded scan, per control. The three lists are
/// disjoint: `regressions` passed before and fail now; `new_failures` fail now and neither
/// failed nor passed before (new control, or previously error/manual/not applicable/omitted, or
/// no previous scan); `resolved` failed before and pass now. "Fail" includes `warning`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub scan_id: i64,
    pub previous_scan_id: Option<i64>,
    pub new_failures: Vec<DriftItem>,
    pub resolved: Vec<DriftItem>,
    pub regressions: Vec<DriftItem>,
}

pub(crate) fn is_failing(status: &str) -> bool {
    status == "fail" || status == "warning"
}

fn check_status(status: &str) -> Result<()> {
    if Status::ALL.iter().any(|s| s.as_str() == status) {
        Ok(())
    } else {
        Err(Error::Invalid {
            field: "control status",
            value: status.to_string(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Repository functions

impl Store {
    // ---- customers ----

    pub async fn create_customer(&self, new: &NewCustomer) -> Result<Customer> {
        check_name("customer name", &new.name)?;
        let tz = new.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE);
        check_time_zone(tz)?;
        let sql = format!(
            "INSERT INTO customers (name, name_ja, time_zone, created_at) VALUES ($1, $2, $3, $4) RETURNING {CUSTOMER_COLS}"
        );
        let row: CustomerRow = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(&new.name).bind(&new.name_ja).bind(tz).bind(now_us()).fetch_one(pool).await?
        });
        Ok(row.into())
    }

    pub async fn get_customer(&self, id: i64) -> Result<Option<Customer>> {
        let sql = format!("SELECT {CUSTOMER_COLS} FROM customers WHERE id = $1");
        let row: Option<CustomerRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(Into::into))
    }

    pub async fn list_customers(&self) -> Result<Vec<Customer>> {
        let sql = format!("SELECT {CUSTOMER_COLS} FROM customers ORDER BY name, id");
        let rows: Vec<CustomerRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).fetch_all(pool).await?);
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn update_customer(&self, id: i64, new: &NewCustomer) -> Result<Customer> {
        check_name("customer name", &new.name)?;
        let tz = new.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE);
        check_time_zone(tz)?;
        let sql = format!(
            "UPDATE customers SET name = $1, name_ja = $2, time_zone = $3 WHERE id = $4 RETURNING {CUSTOMER_COLS}"
        );
        let row: Option<CustomerRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(&new.name).bind(&new.name_ja).bind(tz).bind(id).fetch_optional(pool).await?
        });
        row.map(Into::into).ok_or(Error::NotFound {
            entity: "customer",
            id,
        })
    }

    /// Deletes the customer with its tenants, scans, snapshots, results and findings.
    pub async fn delete_customer(&self, id: i64) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM customers WHERE id = $1").bind(id).execute(pool).await?.rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "customer",
                id,
            });
        }
        Ok(())
    }

    // ---- tenants ----

    /// Creates a tenant; its credentials are encrypted with `key` before they reach the database.
    pub async fn create_tenant(&self, key: &MasterKey, new: &NewTenant) -> Result<Tenant> {
        check_name("tenant display name", &new.display_name)?;
        let tz = new
            .schedule_time_zone
            .as_deref()
            .unwrap_or(DEFAULT_TIME_ZONE);
        check_time_zone(tz)?;
        let key_id = key.key_id();
        let sql = format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1");
        let row: TenantRow = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO tenants (customer_id, app, display_name, schedule_cron, schedule_time_zone, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(new.customer_id)
            .bind(new.app.as_str())
            .bind(&new.display_name)
            .bind(&new.schedule_cron)
            .bind(tz)
            .bind(now_us())
            .fetch_one(&mut *tx)
            .await?;
            let ciphertext = key.encrypt(id, &new.credentials);
            sqlx::query("UPDATE tenants SET credentials_ciphertext = $1, credentials_key_id = $2 WHERE id = $3")
                .bind(ciphertext)
                .bind(&key_id)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            row
        });
        row.try_into()
    }

    pub async fn get_tenant(&self, id: i64) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {TENANT_COLS} FROM tenants WHERE id = $1");
        let row: Option<TenantRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Tenants of one customer, or of all customers when `customer_id` is `None`.
    pub async fn list_tenants(&self, customer_id: Option<i64>) -> Result<Vec<Tenant>> {
        let sql = format!(
            "SELECT {TENANT_COLS} FROM tenants WHERE ($1 IS NULL OR customer_id = $1) ORDER BY customer_id, id"
        );
        let rows: Vec<TenantRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(customer_id).fetch_all(pool).await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }

    pub async fn rename_tenant(&self, id: i64, display_name: &str) -> Result<Tenant> {
        check_name("tenant display name", display_name)?;
        let sql =
            format!("UPDATE tenants SET display_name = $1 WHERE id = $2 RETURNING {TENANT_COLS}");
        let row: Option<TenantRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(display_name).bind(id).fetch_optional(pool).await?
        });
        row.ok_or(Error::NotFound {
            entity: "tenant",
            id,
        })?
        .try_into()
    }

    /// Sets (or clears, with `None`) the tenant's cron schedule and its time zone.
    pub async fn set_tenant_schedule(
        &self,
        id: i64,
        cron: Option<&str>,
        time_zone: Option<&str>,
    ) -> Result<Tenant> {
        let tz = time_zone.unwrap_or(DEFAULT_TIME_ZONE);
        check_time_zone(tz)?;
        let sql = format!(
            "UPDATE tenants SET schedule_cron = $1, schedule_time_zone = $2 WHERE id = $3 RETURNING {TENANT_COLS}"
        );
        let row: Option<TenantRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(cron).bind(tz).bind(id).fetch_optional(pool).await?
        });
        row.ok_or(Error::NotFound {
            entity: "tenant",
            id,
        })?
        .try_into()
    }

    /// Replaces the tenant's credentials, encrypted with `key`.
    pub async fn set_tenant_credentials(
        &self,
        key: &MasterKey,
        id: i64,
        credentials: &[u8],
    ) -> Result<()> {
        let ciphertext = key.encrypt(id, credentials);
        let n = with_pool!(self, pool => {
            sqlx::query("UPDATE tenants SET credentials_ciphertext = $1, credentials_key_id = $2 WHERE id = $3")
                .bind(ciphertext)
                .bind(key.key_id())
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "tenant",
                id,
            });
        }
        Ok(())
    }

    /// Decrypts the tenant's credentials. A key other than the one they were stored with gives
    /// [`Error::WrongMasterKey`]; a damaged ciphertext gives [`Error::CorruptCredentials`].
    pub async fn tenant_credentials(&self, key: &MasterKey, id: i64) -> Result<Credentials> {
        let row: Option<(Option<Vec<u8>>, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT credentials_ciphertext, credentials_key_id FROM tenants WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        let (ciphertext, key_id) = row.ok_or(Error::NotFound {
            entity: "tenant",
            id,
        })?;
        let ciphertext = ciphertext.ok_or(Error::NoCredentials { tenant_id: id })?;
        decrypt_checked(key, id, &ciphertext, key_id.as_deref()).map(Credentials)
    }

    pub async fn delete_tenant(&self, id: i64) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM tenants WHERE id = $1").bind(id).execute(pool).await?.rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "tenant",
                id,
            });
        }
        Ok(())
    }

    /// Re-encrypts every tenant's credentials and every notification channel's configuration
    /// from `old` to `new` in one transaction: either all are rotated or none. Secrets already
    /// under `new` are left as they are (so running it again is harmless); credentials under a
    /// third key abort the rotation with [`Error::WrongMasterKey`]. Returns how many tenants and
    /// channels were re-encrypted.
    pub async fn rotate_master_key(&self, old: &MasterKey, new: &MasterKey) -> Result<usize> {
        let (old_id, new_id) = (old.key_id(), new.key_id());
        let is_pg = self.backend() == Backend::Postgres;
        let n = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if is_pg {
                // Keeps tenants and channels from being written with the old key while we rotate.
                sqlx::query("LOCK TABLE tenants, notification_channels IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
            } else {
                // Takes SQLite's write lock now rather than upgrading a read transaction later.
                sqlx::query("UPDATE tenants SET id = id WHERE 1 = 0").execute(&mut *tx).await?;
            }
            let rows: Vec<(i64, Vec<u8>, Option<String>)> = sqlx::query_as(
                "SELECT id, credentials_ciphertext, credentials_key_id FROM tenants \
                 WHERE credentials_ciphertext IS NOT NULL ORDER BY id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut n = 0usize;
            for (id, ciphertext, key_id) in rows {
                if key_id.as_deref() == Some(new_id.as_str()) && new_id != old_id {
                    continue;
                }
                let plain = decrypt_checked(old, id, &ciphertext, key_id.as_deref())?;
                sqlx::query("UPDATE tenants SET credentials_ciphertext = $1, credentials_key_id = $2 WHERE id = $3")
                    .bind(new.encrypt(id, &plain))
                    .bind(&new_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                n += 1;
            }
            // Notification channel configurations, under their own associated data.
            let rows: Vec<(i64, Vec<u8>, String)> = sqlx::query_as(
                "SELECT id, config_ciphertext, config_key_id FROM notification_channels ORDER BY id",
            )
            .fetch_all(&mut *tx)
            .await?;
            for (id, ciphertext, key_id) in rows {
                if key_id == new_id && new_id != old_id {
                    continue;
                }
                let plain = crate::jobs::open_channel_config(old, id, &ciphertext, &key_id)?;
                sqlx::query("UPDATE notification_channels SET config_ciphertext = $1, config_key_id = $2 WHERE id = $3")
                    .bind(new.seal(&crate::crypto::channel_aad(id), &plain))
                    .bind(&new_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                n += 1;
            }
            tx.commit().await?;
            n
        });
        Ok(n)
    }

    // ---- scans ----

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

    // ---- snapshots ----

    /// Stores a scan's snapshot (JSON text), gzip-compressed.
    pub async fn save_snapshot(&self, scan_id: i64, json: &[u8]) -> Result<Snapshot> {
        serde_json::from_slice::<serde::de::IgnoredAny>(json)
            .map_err(|e| Error::Snapshot(format!("not JSON: {e}")))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(json)
            .map_err(|e| Error::Snapshot(e.to_string()))?;
        let data = gz.finish().map_err(|e| Error::Snapshot(e.to_string()))?;
        let (size, compressed) = (json.len() as i64, data.len() as i64);
        let row: SnapshotRow = with_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO snapshots (scan_id, data_gzip, size_bytes, compressed_bytes, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id, scan_id, size_bytes, compressed_bytes, created_at",
            )
            .bind(scan_id)
            .bind(data)
            .bind(size)
            .bind(compressed)
            .bind(now_us())
            .fetch_one(pool)
            .await?
        });
        Ok(row.into())
    }

    /// Serialises and stores a snapshot given as a JSON value.
    pub async fn save_snapshot_json(
        &self,
        scan_id: i64,
        value: &serde_json::Value,
    ) -> Result<Snapshot> {
        let json = serde_json::to_vec(value).map_err(|e| Error::Snapshot(e.to_string()))?;
        self.save_snapshot(scan_id, &json).await
    }

    /// Snapshots of one tenant, newest first.
    pub async fn list_snapshots(&self, tenant_id: i64) -> Result<Vec<Snapshot>> {
        let rows: Vec<SnapshotRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT s.id, s.scan_id, s.size_bytes, s.compressed_bytes, s.created_at FROM snapshots s \
                 JOIN scans c ON c.id = s.scan_id WHERE c.tenant_id = $1 ORDER BY s.created_at DESC, s.id DESC",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The snapshot's JSON text, decompressed.
    pub async fn load_snapshot(&self, id: i64) -> Result<Vec<u8>> {
        let data: Option<Vec<u8>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT data_gzip FROM snapshots WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        let data = data.ok_or(Error::NotFound {
            entity: "snapshot",
            id,
        })?;
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&data[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::Snapshot(format!("snapshot {id} does not decompress: {e}")))?;
        Ok(out)
    }

    pub async fn load_snapshot_json(&self, id: i64) -> Result<serde_json::Value> {
        let bytes = self.load_snapshot(id).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Snapshot(format!("snapshot {id}: {e}")))
    }

    /// Retention: keeps the newest `keep_per_tenant` snapshots of each tenant and deletes the
    /// rest. Returns how many were deleted.
    pub async fn prune_snapshots(&self, keep_per_tenant: usize) -> Result<u64> {
        let keep = i64::try_from(keep_per_tenant).unwrap_or(i64::MAX);
        let n = with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM snapshots WHERE id IN (SELECT id FROM (\
                   SELECT s.id AS id, ROW_NUMBER() OVER (PARTITION BY c.tenant_id ORDER BY s.created_at DESC, s.id DESC) AS rn \
                   FROM snapshots s JOIN scans c ON c.id = s.scan_id) ranked WHERE rn > $1)",
            )
            .bind(keep)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }

    /// Retention for one tenant (what a worker runs after each scan): keeps its newest
    /// `keep` snapshots. Costs what one tenant has, where [`Store::prune_snapshots`] ranks every
    /// tenant's (11.7 ms per scan with 5,000 tenants in `mamori bench --schedule`).
    pub async fn prune_tenant_snapshots(&self, tenant_id: i64, keep: usize) -> Result<u64> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let n = with_pool!(self, pool => {
            sqlx::query(
                "DELETE FROM snapshots WHERE id IN (SELECT id FROM (\
                   SELECT s.id AS id, ROW_NUMBER() OVER (ORDER BY s.created_at DESC, s.id DESC) AS rn \
                   FROM snapshots s JOIN scans c ON c.id = s.scan_id WHERE c.tenant_id = $1) ranked \
                 WHERE rn > $2)",
            )
            .bind(tenant_id)
            .bind(keep)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }

    // ---- control results, findings, drift ----

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
    /// Every open, resolve and reopen adds a [`FindingEvent`] (see [`Store::finding_history`]).
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
            check_status(&r.status)?;
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
                .bind(&r.status)
                .bind(&r.severity)
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
                let failing = is_failing(&r.status);
                if !failing && r.status != "pass" {
                    continue;
                }
                let keys: BTreeSet<&str> = if failing {
                    if r.resources.is_empty() { [""].into() } else { r.resources.iter().map(String::as_str).collect() }
                } else {
                    BTreeSet::new()
                };
                // Resolve active findings of this control not failing any more.
                for f in by_ctl.get(r.control_id.as_str()).map(Vec::as_slice).unwrap_or_default() {
                    if f.status != "resolved" && f.last_scan_id <= scan_id && !keys.contains(f.resource_key.as_str()) {
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
                            .bind(&f.status)
                            .bind("resolved")
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
                            .bind(&r.severity)
                            .bind(severity_rank(&r.severity))
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
                                    .bind(None::<String>)
                                    .bind("open")
                                    .bind("opened")
                                    .execute(&mut *tx)
                                    .await?;
                                if let Some(e) = accepted {
                                    sqlx::query(EVENT_SQL)
                                        .bind(id)
                                        .bind(scan_id)
                                        .bind(t)
                                        .bind("open")
                                        .bind("open")
                                        .bind(format!("accepted by exception {e}"))
                                        .execute(&mut *tx)
                                        .await?;
                                }
                                summary.opened += 1;
                            }
                        }
                        Some(f) if f.last_scan_id > scan_id => {} // a later scan already judged it
                        Some(f) => {
                            let reopen = f.status == "resolved";
                            let status = if reopen { "reopened" } else { f.status.as_str() };
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
                            .bind(status)
                            .bind(&r.severity)
                            .bind(severity_rank(&r.severity))
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
                                    .bind("resolved")
                                    .bind("reopened")
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
                                    .bind(status)
                                    .bind(status)
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
        Ok(rows.into_iter().map(Into::into).collect())
    }

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

    /// Compares a scan's results with the tenant's previous succeeded scan; see [`Drift`].
    pub async fn drift(&self, scan_id: i64) -> Result<Drift> {
        let previous = self.previous_succeeded_scan(scan_id).await?;
        let current = self.control_results(scan_id).await?;
        let before: HashMap<String, StoredResult> = match &previous {
            Some(p) => self
                .control_results(p.id)
                .await?
                .into_iter()
                .map(|r| (r.control_id.clone(), r))
                .collect(),
            None => HashMap::new(),
        };
        let mut drift = Drift {
            scan_id,
            previous_scan_id: previous.map(|p| p.id),
            new_failures: vec![],
            resolved: vec![],
            regressions: vec![],
        };
        for r in current {
            let prev = before.get(&r.control_id).map(|p| p.status.clone());
            let item = || DriftItem {
                control_id: r.control_id.clone(),
                severity: r.severity.clone(),
                previous_status: prev.clone(),
                status: r.status.clone(),
            };
            let was_failing = prev.as_deref().is_some_and(is_failing);
            let was_passing = prev.as_deref() == Some("pass");
            if is_failing(&r.status) {
                if was_passing {
                    drift.regressions.push(item());
                } else if !was_failing {
                    drift.new_failures.push(item());
                }
            } else if r.status == "pass" && was_failing {
                drift.resolved.push(item());
            }
        }
        Ok(drift)
    }
}

pub(crate) fn decrypt_checked(
    key: &MasterKey,
    tenant_id: i64,
    ciphertext: &[u8],
    stored_key_id: Option<&str>,
) -> Result<Vec<u8>> {
    let current = key.key_id();
    if let Some(stored) = stored_key_id {
        if stored != current {
            return Err(Error::WrongMasterKey {
                tenant_id,
                stored_key_id: stored.to_string(),
                current_key_id: current,
            });
        }
    }
    key.decrypt(tenant_id, ciphertext)
        .ok_or(Error::CorruptCredentials { tenant_id })
}
