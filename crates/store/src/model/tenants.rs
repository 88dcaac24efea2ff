//! Tenants: one SaaS [`App`] instance of a customer, with its credentials encrypted under the
//! master key, its schedule, and the rotation of that key.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{check_name, check_time_zone, DEFAULT_TIME_ZONE};
use crate::{now_us, ts, with_pool, Backend, Credentials, Error, MasterKey, Result, Store};

/// The SaaS a tenant is: `mamori_core`'s application, stored as its text (`m365`, `gws`).
pub use mamori_core::App;

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
            app: r.app.parse()?,
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

impl Store {
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
}

fn decrypt_checked(
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
