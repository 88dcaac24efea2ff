//! The API's OCSF answers (schema 1.3.0): stored alerts as Detection Findings (class 2004, the
//! shape of `mamori_detect::ocsf`, which renders the detector's own alerts) and a scan's stored
//! results as Compliance Findings (class 2003, rendered by `mamori_report::ocsf` once each
//! stored result is joined with its control's metadata from the loaded packs).

use std::collections::HashMap;

use mamori_core::{ControlResult, Evaluation, Lang, Localized, Severity};
use mamori_store::{Alert, AlertStatus, Scan, StoredResult};
use serde_json::{json, Value};

pub const OCSF_VERSION: &str = "1.3.0";
pub const DETECTION_FINDING: u32 = 2004;

/// OCSF `severity_id` and its caption: 1 Informational … 5 Critical.
fn severity(s: Severity) -> (u32, &'static str) {
    match s {
        Severity::Info => (1, "Informational"),
        Severity::Low => (2, "Low"),
        Severity::Medium => (3, "Medium"),
        Severity::High => (4, "High"),
        Severity::Critical => (5, "Critical"),
    }
}

/// The finding's `status_id` from the triage: 1 New, 2 In Progress, 3 Suppressed, 4 Resolved.
fn status(s: AlertStatus) -> (u32, &'static str) {
    match s {
        AlertStatus::Open => (1, "New"),
        AlertStatus::Acknowledged => (2, "In Progress"),
        AlertStatus::FalsePositive => (3, "Suppressed"),
        AlertStatus::Resolved => (4, "Resolved"),
    }
}

/// The activity the finding reports: 1 Create (untouched), 2 Update (being worked on),
/// 3 Close (resolved or a false positive).
fn activity(s: AlertStatus) -> (u32, &'static str) {
    match s {
        AlertStatus::Open => (1, "Create"),
        AlertStatus::Acknowledged => (2, "Update"),
        AlertStatus::Resolved | AlertStatus::FalsePositive => (3, "Close"),
    }
}

fn millis(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

/// One stored alert as a Detection Finding, in `lang`.
pub fn detection_finding(alert: &Alert, lang: Lang, product_version: &str) -> Value {
    let (activity_id, activity_name) = activity(alert.status);
    let (severity_id, severity_name) = severity(alert.severity);
    let (status_id, status_name) = status(alert.status);
    let observables: Vec<Value> = alert
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
        alert.tenant_name,
        alert.rule_id,
        alert.first_seen.as_second(),
        alert
            .entities
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .join(",")
    );
    let title = alert.title.get(lang);
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
        "time": millis(alert.last_seen),
        "start_time": millis(alert.first_seen),
        "end_time": millis(alert.last_seen),
        "count": alert.count,
        "status_id": status_id,
        "status": status_name,
        "message": title,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": alert.id.to_string(),
            "product": {"name": "Mamori", "vendor_name": "Mamori", "version": product_version,
                        "lang": lang.code()},
            "tenant_uid": alert.tenant_name,
            "log_name": alert.source.as_str(),
            "modified_time": millis(alert.updated_at),
        },
        "finding_info": {
            "uid": uid,
            "title": title,
            "created_time": millis(alert.created_at),
            "modified_time": millis(alert.updated_at),
            "first_seen_time": millis(alert.first_seen),
            "last_seen_time": millis(alert.last_seen),
            "analytic": {"uid": alert.rule_id, "name": title, "type_id": 1, "type": "Rule"},
            "attacks": attacks,
            "related_events": alert.event_ids.iter().map(|id| json!({"uid": id})).collect::<Vec<_>>(),
            "data_sources": [alert.source.as_str()],
            "types": [alert.kind],
        },
        "observables": observables,
        "remediation": {"desc": alert.response.get(lang)},
    })
}

/// A scan's stored results as Compliance Findings, one per control. The stored row keeps the
/// verdict (status, severity, details, resources); the control's pack, product, title,
/// remediation and references come from the loaded packs, as when the scan ran. A control no
/// longer loaded is named by its id.
pub fn compliance_findings(
    engine: &mamori_policy::Engine,
    source: &str,
    scan: &Scan,
    results: &[StoredResult],
    lang: Lang,
) -> Vec<Value> {
    let mut controls = HashMap::new();
    for pack in engine.packs() {
        for (product, control) in pack.controls() {
            controls.insert(control.id.as_str(), (pack, product, control));
        }
    }
    let evaluation = Evaluation {
        source: source.to_string(),
        results: Vec::new(),
        frameworks: Vec::new(),
    };
    let time_ms = millis(scan.finished_at.unwrap_or(scan.created_at));
    results
        .iter()
        .map(|r| {
            let known = controls.get(r.control_id.as_str());
            let result = ControlResult {
                id: r.control_id.clone(),
                pack: known.map(|k| k.0.id.clone()).unwrap_or_default(),
                product: known.map(|k| k.1.id.clone()).unwrap_or_default(),
                product_name: known.map(|k| k.1.name.clone()).unwrap_or_default(),
                title: known
                    .map(|k| k.2.title.clone())
                    .unwrap_or_else(|| Localized::new(&r.control_id, &r.control_id)),
                status: r.status,
                requirement_met: !r.status.is_failing(),
                criticality: known
                    .map(|k| k.2.criticality)
                    .unwrap_or(mamori_core::Criticality::Shall),
                severity: r.severity,
                details: Localized::new(&r.details_en, &r.details_ja),
                resources: r.resources.clone(),
                remediation: known.map(|k| k.2.remediation.clone()).unwrap_or_default(),
                references: known.map(|k| k.2.references.clone()).unwrap_or_default(),
            };
            mamori_report::ocsf::compliance_finding(
                &evaluation,
                &result,
                lang,
                time_ms,
                env!("CARGO_PKG_VERSION"),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn alert(status: AlertStatus) -> Alert {
        let at = jiff::Timestamp::from_second(1_780_000_000).unwrap();
        Alert {
            id: 7,
            tenant_id: 1,
            customer_id: 1,
            tenant_name: "contoso.onmicrosoft.com".into(),
            rule_id: "mamori.entra_signin.password_spray".into(),
            source: mamori_core::LogSource::EntraSignin,
            kind: "correlation".into(),
            severity: Severity::High,
            title: Localized::new("Password spray", "パスワードスプレー"),
            response: Localized::new("Block the address.", "アドレスを遮断する。"),
            attack: vec!["T1110.003".into()],
            entities: BTreeMap::from([("ip".to_string(), "203.0.113.7".to_string())]),
            event_ids: vec!["e1".into()],
            count: 12,
            first_seen: at,
            last_seen: at,
            status,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn triage_sets_status_and_activity() {
        for (s, status_id, activity_id) in [
            (AlertStatus::Open, 1, 1),
            (AlertStatus::Acknowledged, 2, 2),
            (AlertStatus::FalsePositive, 3, 3),
            (AlertStatus::Resolved, 4, 3),
        ] {
            let f = detection_finding(&alert(s), Lang::Ja, "0");
            assert_eq!(f["class_uid"], 2004);
            assert_eq!(f["status_id"], status_id);
            assert_eq!(f["activity_id"], activity_id);
            assert_eq!(f["type_uid"], 200400 + activity_id);
            assert_eq!(f["severity_id"], 4);
            assert_eq!(f["message"], "パスワードスプレー");
            assert_eq!(f["observables"][0]["type_id"], 2);
            assert_eq!(
                f["finding_info"]["attacks"][0]["sub_technique"]["uid"],
                "T1110.003"
            );
        }
    }
}
