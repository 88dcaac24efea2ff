//! The tenant-facing aggregates, one module each, with their repository functions. Every
//! function is one query or one transaction.
//!
//! * [`customers`], the operator's clients;
//! * [`tenants`], the tenants of an [`App`] with their encrypted credentials, and master key
//!   rotation;
//! * [`scans`], scans and their [`ScanStatus`];
//! * [`snapshots`], the collected data of a scan, compressed;
//! * [`results`], a scan's control results, whose recording maintains the findings;
//! * [`findings`], a failing control on one resource, followed across scans;
//! * [`drift`], a scan's results compared with the previous succeeded scan.
//!
//! Statuses and severities are `mamori_core`'s [`Status`](mamori_core::Status) and
//! [`Severity`](mamori_core::Severity), stored as their text.

mod customers;
mod drift;
mod findings;
mod results;
mod scans;
mod snapshots;
mod tenants;

pub use customers::*;
pub use drift::*;
pub use findings::*;
pub use results::*;
pub use scans::*;
pub use snapshots::*;
pub use tenants::*;

pub(crate) use customers::{CustomerRow, CUSTOMER_COLS};
pub(crate) use findings::{FindingRow, FINDING_COLS};
pub(crate) use scans::{ScanRow, SCAN_COLS};
pub(crate) use tenants::{TenantRow, TENANT_COLS};

use crate::{Error, Result};

/// Time zone given to customers and schedules when none is set.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";

pub(crate) fn check_name(field: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::Invalid {
            field,
            value: value.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn check_time_zone(value: &str) -> Result<()> {
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
