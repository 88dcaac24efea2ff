//! A collection in progress: the provider-schema sections gathered so far and, for every
//! section, whether it was collected and if not why. A failed section is recorded as failed —
//! never as an empty list — and left out of the data, so every control that reads it reports
//! `error` with the reason.

use crate::http::ApiError;
use serde::Serialize;
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

#[derive(Debug, Clone, Serialize)]
pub struct SectionOutcome {
    /// `ok` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// The permission (Graph application permission, OAuth scope, admin role) the section needs.
    pub permission: String,
}

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
                self.outcomes.insert(
                    section.to_string(),
                    SectionOutcome {
                        status: "ok",
                        reason: None,
                        http_status: None,
                        permission: permission.to_string(),
                    },
                );
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
                    SectionOutcome {
                        status: "failed",
                        reason: Some(reason),
                        http_status,
                        permission: permission.to_string(),
                    },
                );
                false
            }
        }
    }

    pub fn failed(&self) -> impl Iterator<Item = (&String, &SectionOutcome)> {
        self.outcomes.iter().filter(|(_, o)| o.status != "ok")
    }

    /// The outcome table as the `mamori_collection` extension section, which the engine reads
    /// to explain an `error`.
    pub fn outcomes_value(&self) -> Value {
        serde_json::to_value(&self.outcomes).unwrap_or(Value::Null)
    }
}

/// The Mamori snapshot envelope (docs/schemas/mamori-snapshot.md).
pub fn envelope(
    schema: &str,
    tenant: &str,
    collected_at: &str,
    data: Map<String, Value>,
    requests: Value,
) -> Value {
    serde_json::json!({
        "mamori_snapshot": 1,
        "schema": schema,
        "tenant": tenant,
        "collected_at": collected_at,
        "collector": concat!("mamori ", env!("CARGO_PKG_VERSION")),
        "requests": requests,
        "data": Value::Object(data),
    })
}

/// The result of collecting one tenant.
#[derive(Debug)]
pub struct Collected {
    /// `scubagear` or `scubagoggles`: the provider schema of `collection.data`.
    pub schema: &'static str,
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

    /// The snapshot envelope, with `mamori_collection` (per-section outcome) in the data.
    pub fn into_snapshot(mut self) -> Value {
        let outcomes = self.collection.outcomes_value();
        self.collection
            .data
            .insert("mamori_collection".to_string(), outcomes);
        let requests = serde_json::to_value(&self.stats).unwrap_or(Value::Null);
        envelope(
            self.schema,
            &self.tenant,
            &self.collected_at,
            std::mem::take(&mut self.collection.data),
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
