//! Customers: the operator's clients, each with tenants.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{check_name, check_time_zone, DEFAULT_TIME_ZONE};
use crate::{now_us, ts, with_pool, Error, Result, Store};

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

impl Store {
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
}
