//! A collection in progress: the provider-schema sections gathered so far and, for every
//! section, whether it was collected and if not why. A failed section is recorded as failed —
//! never as an empty list — and left out of the data, so every control that reads it reports
//! `error` with the reason.

use crate::http::ApiError;
use mamori_core::snapshot::{Snapshot, SourceKind};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Why a section could not be collected.
#[derive(Debug, thiserror::Error)]
pub enum SectionError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Dns(#[from] crate::dns::DnsError),
    #[error("{0}")]
    Other(String),
}

impl SectionError {
    pub fn http_status(&self) -> Option<u16> {
        match self {
            SectionError::Api(e) => e.http_status(),
            _ => None,
        }
    }
}

/// What happened to one section: the snapshot's own record type.
pub use mamori_core::snapshot::SectionRecord as SectionOutcome;

/// Sections and outcomes of one tenant's collection.
#[derive(Debug, Default)]
pub struct Collection {
    pub data: Map<String, Value>,
    pub outcomes: BTreeMap<String, SectionOutcome>,
}

impl Collection {
    /// Records one section. On failure the section is absent from the data.
    pub fn record(
        &mut self,
        section: &str,
        permission: &str,
        result: Result<Value, SectionError>,
    ) -> bool {
        match result {
            Ok(value) => {
                self.data.insert(section.to_string(), value);
                self.outcomes
                    .insert(section.to_string(), SectionOutcome::ok(permission));
                true
            }
            Err(e) => {
                let http_status = e.http_status();
                let mut reason = crate::redact::scrub(&e.to_string());
                if matches!(http_status, Some(401 | 403)) {
                    reason.push_str(&format!(" — the app needs {permission}"));
                }
                tracing::warn!(section, reason = %reason, "section not collected");
                self.outcomes.insert(
                    section.to_string(),
                    SectionOutcome::failed(permission, reason, http_status),
                );
                false
            }
        }
    }

    pub fn failed(&self) -> impl Iterator<Item = (&String, &SectionOutcome)> {
        self.outcomes
            .iter()
            .filter(|(_, o)| o.status != mamori_core::snapshot::SectionStatus::Ok)
    }
}

/// The result of collecting one tenant.
#[derive(Debug)]
pub struct Collected {
    /// The provider schema of `collection.data`.
    pub schema: SourceKind,
    /// Tenant name for people (primary domain).
    pub tenant: String,
    pub collection: Collection,
    /// Requests, retries and throttling per section.
    pub stats: BTreeMap<String, crate::stats::SectionStats>,
    pub elapsed: std::time::Duration,
    pub collected_at: String,
}

impl Collected {
    pub fn total_requests(&self) -> u64 {
        self.stats.values().map(|s| s.requests).sum()
    }

    /// The snapshot: the data, the record of every section and the request statistics.
    pub fn into_snapshot(self) -> Snapshot {
        let requests = serde_json::to_value(&self.stats).unwrap_or(Value::Null);
        Snapshot::collected(
            self.schema,
            &self.tenant,
            &self.collected_at,
            self.collection.data,
            self.collection.outcomes,
            requests,
        )
    }
}

/// Now, RFC 3339 UTC to the second.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
