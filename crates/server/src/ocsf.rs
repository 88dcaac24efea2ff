//! The API's OCSF answers (schema 1.3.0): stored alerts as Detection Findings (class 2004, built
//! by `mamori_detect::ocsf`, which also renders the detector's own alerts) and a scan's stored
//! results as Compliance Findings (class 2003, rendered by `mamori_report::ocsf` once each
//! stored result is joined with its control's metadata from the loaded packs).

use std::collections::HashMap;

use mamori_core::{ControlResult, Evaluation, Lang, Localized};
use mamori_detect::ocsf::{self, Finding, Stored, Triage};
use mamori_store::{Alert, AlertStatus, Scan, StoredResult};
use serde_json::Value;

/// The finding's triage: New, In Progress (acknowledged), Suppressed (a false positive),
/// Resolved.
fn triage(s: AlertStatus) -> Triage {
    match s {
        AlertStatus::Open => Triage::New,
        AlertStatus::Acknowledged => Triage::InProgress,
        AlertStatus::FalsePositive => Triage::Suppressed,
        AlertStatus::Resolved => Triage::Resolved,
    }
}

fn millis(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

/// One stored alert as a Detection Finding, in `lang`: the detector's shape
/// (`mamori_detect::ocsf`) with the triage as status and activity, and the stored alert's id
/// and times.
pub fn detection_finding(alert: &Alert, lang: Lang, product_version: &str) -> Value {
    ocsf::finding(
        &Finding {
            tenant: &alert.tenant_name,
            rule_id: &alert.rule_id,
            title: &alert.title,
            response: &alert.response,
            severity: alert.severity,
            kind: &alert.kind,
            source: alert.source.as_str(),
            attack: &alert.attack,
            entities: &alert.entities,
            event_ids: &alert.event_ids,
            count: alert.count,
            first_seen_ms: millis(alert.first_seen),
            last_seen_ms: millis(alert.last_seen),
            triage: triage(alert.status),
            stored: Some(Stored {
                id: alert.id,
                created_ms: millis(alert.created_at),
                modified_ms: millis(alert.updated_at),
            }),
        },
        lang,
        product_version,
    )
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
    use mamori_core::Severity;
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
