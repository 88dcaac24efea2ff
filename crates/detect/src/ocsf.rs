//! Alerts as OCSF Detection Findings (class 2004, schema 1.3.0), for SIEMs that speak OCSF.

use crate::detector::Alert;
use mamori_core::Lang;
use serde_json::{json, Value};

pub const OCSF_VERSION: &str = "1.3.0";
pub const DETECTION_FINDING: u32 = 2004;
/// Activity "Create": a finding reported for the first time.
pub const ACTIVITY_CREATE: u32 = 1;

/// OCSF `severity_id` of a Sigma level.
pub fn severity_id(level: &str) -> u32 {
    match level {
        "informational" => 1,
        "low" => 2,
        "medium" => 3,
        "high" => 4,
        "critical" => 5,
        _ => 0,
    }
}

/// One alert as a Detection Finding.
pub fn detection_finding(alert: &Alert, lang: Lang, product_version: &str) -> Value {
    let activity = ACTIVITY_CREATE;
    let mut observables = Vec::new();
    for (name, value) in &alert.entities {
        // OCSF observable types: 2 IP Address, 4 User Name, 99 Other.
        let type_id = match name.as_str() {
            "ip" | "ipAddress" | "ClientIP" => 2,
            "user" | "userPrincipalName" | "UserId" => 4,
            _ => 99,
        };
        observables.push(json!({"name": name, "type_id": type_id, "value": value}));
    }
    let attacks: Vec<Value> = alert
        .attack
        .iter()
        .map(|t| match t.split_once('.') {
            Some((parent, _)) => json!({"technique": {"uid": parent}, "sub_technique": {"uid": t}}),
            None => json!({"technique": {"uid": t}}),
        })
        .collect();
    let uid = format!(
        "{}:{}:{}:{}",
        alert.tenant,
        alert.rule_id,
        alert.first_epoch,
        alert
            .entities
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    );
    json!({
        "activity_id": activity,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": DETECTION_FINDING,
        "class_name": "Detection Finding",
        "type_uid": DETECTION_FINDING * 100 + activity,
        "severity_id": severity_id(&alert.severity),
        "severity": alert.severity,
        "time": alert.last_epoch * 1000,
        "start_time": alert.first_epoch * 1000,
        "end_time": alert.last_epoch * 1000,
        "count": alert.count,
        "status_id": 1,
        "status": "New",
        "message": alert.title.get(lang),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "Mamori", "vendor_name": "Mamori", "version": product_version,
                        "lang": lang.code()},
            "tenant_uid": alert.tenant,
            "log_name": alert.source.as_str(),
        },
        "finding_info": {
            "uid": uid,
            "title": alert.title.get(lang),
            "first_seen_time": alert.first_epoch * 1000,
            "last_seen_time": alert.last_epoch * 1000,
            "analytic": {"uid": alert.rule_id, "name": alert.title.get(lang), "type_id": 1, "type": "Rule"},
            "attacks": attacks,
            "related_events": alert.event_ids.iter().map(|id| json!({"uid": id})).collect::<Vec<_>>(),
            "data_sources": [alert.source.as_str()],
            "types": [alert.kind],
        },
        "observables": observables,
        "remediation": {"desc": alert.response.get(lang)},
    })
}
