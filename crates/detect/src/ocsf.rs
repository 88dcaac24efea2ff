//! Alerts as OCSF Detection Findings (class 2004, schema 1.3.0), for SIEMs that speak OCSF.
//! One builder for both kinds of alert: the detector's own (`mamori detect --format ocsf`) and
//! those the service stored and people triage (`GET /api/v1/alerts?format=ocsf`).

use crate::detector::Alert;
use crate::rules::severity_of_level;
use mamori_core::{Lang, Localized, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const OCSF_VERSION: &str = "1.3.0";
pub const DETECTION_FINDING: u32 = 2004;

/// Where an alert stands in triage, as OCSF status and activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// Not looked at yet (every alert of `mamori detect`).
    New,
    /// Acknowledged: being worked on.
    InProgress,
    /// A false positive.
    Suppressed,
    Resolved,
}

impl Triage {
    /// `status_id`: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved.
    fn status(self) -> (u32, &'static str) {
        match self {
            Triage::New => (1, "New"),
            Triage::InProgress => (2, "In Progress"),
            Triage::Suppressed => (3, "Suppressed"),
            Triage::Resolved => (4, "Resolved"),
        }
    }

    /// The activity reported: 1 Create (untouched), 2 Update (being worked on), 3 Close.
    fn activity(self) -> (u32, &'static str) {
        match self {
            Triage::New => (1, "Create"),
            Triage::InProgress => (2, "Update"),
            Triage::Suppressed | Triage::Resolved => (3, "Close"),
        }
    }
}

/// A stored alert's own record: its id, when it was created and last changed (ms).
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    pub id: i64,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// What a Detection Finding says, whichever alert it comes from.
#[derive(Debug, Clone)]
pub struct Finding<'a> {
    pub tenant: &'a str,
    pub rule_id: &'a str,
    pub title: &'a Localized,
    pub response: &'a Localized,
    pub severity: Severity,
    /// `sigma`, `correlation` or `stateful`.
    pub kind: &'a str,
    /// The log source (`m365`, `entra-signin`, …).
    pub source: &'a str,
    pub attack: &'a [String],
    pub entities: &'a BTreeMap<String, String>,
    pub event_ids: &'a [String],
    pub count: i64,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub triage: Triage,
    pub stored: Option<Stored>,
}

/// The detector's alert as a Detection Finding.
pub fn detection_finding(alert: &Alert, lang: Lang, product_version: &str) -> Value {
    finding(
        &Finding {
            tenant: &alert.tenant,
            rule_id: &alert.rule_id,
            title: &alert.title,
            response: &alert.response,
            severity: severity_of_level(&alert.severity),
            kind: alert.kind.as_str(),
            source: alert.source.as_str(),
            attack: &alert.attack,
            entities: &alert.entities,
            event_ids: &alert.event_ids,
            count: alert.count as i64,
            first_seen_ms: alert.first_epoch * 1000,
            last_seen_ms: alert.last_epoch * 1000,
            triage: Triage::New,
            stored: None,
        },
        lang,
        product_version,
    )
}

/// One Detection Finding, in `lang`.
pub fn finding(f: &Finding, lang: Lang, product_version: &str) -> Value {
    let (activity_id, activity_name) = f.triage.activity();
    let (status_id, status_name) = f.triage.status();
    let (severity_id, severity_name) = f.severity.ocsf();
    let observables: Vec<Value> = f
        .entities
        .iter()
        .map(|(name, value)| {
            // OCSF observable types: 2 IP Address, 4 User Name, 99 Other.
            let type_id = match name.as_str() {
                "ip" | "ipAddress" | "ClientIP" => 2,
                "user" | "userPrincipalName" | "UserId" => 4,
                _ => 99,
            };
            json!({"name": name, "type_id": type_id, "value": value})
        })
        .collect();
    let attacks: Vec<Value> = f
        .attack
        .iter()
        .map(|t| match t.split_once('.') {
            Some((parent, _)) => json!({"technique": {"uid": parent}, "sub_technique": {"uid": t}}),
            None => json!({"technique": {"uid": t}}),
        })
        .collect();
    // Stable across exports and triage: tenant, rule, first event and entity.
    let uid = format!(
        "{}:{}:{}:{}",
        f.tenant,
        f.rule_id,
        f.first_seen_ms.div_euclid(1000),
        f.entities.values().cloned().collect::<Vec<_>>().join(",")
    );
    let title = f.title.get(lang);
    let mut metadata = json!({
        "version": OCSF_VERSION,
        "product": {"name": "Mamori", "vendor_name": "Mamori", "version": product_version,
                    "lang": lang.code()},
        "tenant_uid": f.tenant,
        "log_name": f.source,
    });
    let mut info = json!({
        "uid": uid,
        "title": title,
        "first_seen_time": f.first_seen_ms,
        "last_seen_time": f.last_seen_ms,
        "analytic": {"uid": f.rule_id, "name": title, "type_id": 1, "type": "Rule"},
        "attacks": attacks,
        "related_events": f.event_ids.iter().map(|id| json!({"uid": id})).collect::<Vec<_>>(),
        "data_sources": [f.source],
        "types": [f.kind],
    });
    if let Some(stored) = f.stored {
        metadata["uid"] = json!(stored.id.to_string());
        metadata["modified_time"] = json!(stored.modified_ms);
        info["created_time"] = json!(stored.created_ms);
        info["modified_time"] = json!(stored.modified_ms);
    }
    json!({
        "activity_id": activity_id,
        "activity_name": activity_name,
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "type_uid": DETECTION_FINDING * 100 + activity_id,
        "severity_id": severity_id,
        "severity": severity_name,
        "time": f.last_seen_ms,
        "start_time": f.first_seen_ms,
        "end_time": f.last_seen_ms,
        "count": f.count,
        "status_id": status_id,
        "status": status_name,
        "message": title,
        "metadata": metadata,
        "finding_info": info,
        "observables": observables,
        "remediation": {"desc": f.response.get(lang)},
    })
}
