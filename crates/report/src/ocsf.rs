//! Posture results as OCSF Compliance Findings (class 2003, schema 1.3.0), one per control,
//! for SIEMs and data lakes that speak OCSF. Threat alerts are Detection Findings
//! (`mamori_detect::ocsf`).

use mamori_core::{ControlResult, Evaluation, Lang, Status};
use serde_json::{json, Value};

pub const OCSF_VERSION: &str = "1.3.0";
pub const COMPLIANCE_FINDING: u32 = 2003;
const ACTIVITY_CREATE: u32 = 1;

/// OCSF `compliance.status_id`: 1 Pass, 2 Warning, 3 Fail, 0 Unknown, 99 Other.
fn compliance_status(status: Status) -> (u32, &'static str) {
    match status {
        Status::Pass => (1, "Pass"),
        Status::Warning => (2, "Warning"),
        Status::Fail => (3, "Fail"),
        // Mamori could not see the data: not a pass, said as unknown with the reason.
        Status::Error => (0, "Unknown"),
        Status::Manual => (99, "Manual check"),
        Status::Omitted => (99, "Omitted"),
        Status::NotApplicable => (99, "Not applicable"),
    }
}

/// One control result as a Compliance Finding.
pub fn compliance_finding(
    evaluation: &Evaluation,
    result: &ControlResult,
    lang: Lang,
    time_ms: i64,
    product_version: &str,
) -> Value {
    let (status_id, status) = compliance_status(result.status);
    let resources: Vec<Value> = result
        .resources
        .iter()
        .take(50)
        .map(|r| json!({"name": r, "type": result.product}))
        .collect();
    json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": COMPLIANCE_FINDING,
        "class_name": "Compliance Finding",
        "type_uid": COMPLIANCE_FINDING * 100 + ACTIVITY_CREATE,
        "severity_id": result.severity.ocsf().0,
        "severity": result.severity.ocsf().1,
        "time": time_ms,
        "message": result.details.get(lang),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "Mamori", "vendor_name": "Mamori", "version": product_version,
                        "lang": lang.code()},
            "log_name": evaluation.source,
        },
        "finding_info": {
            "uid": format!("{}:{}", evaluation.source, result.id),
            "title": result.title.get(lang),
            "desc": result.details.get(lang),
            "types": [result.pack],
        },
        "compliance": {
            "control": result.id,
            "standards": [result.pack],
            "status_id": status_id,
            "status": status,
            "status_detail": result.details.get(lang),
        },
        "resources": resources,
        "remediation": {"desc": result.remediation.get(lang), "references": result.references},
    })
}

/// Every result of every evaluation, one finding per line.
pub fn render_ocsf(evaluations: &[Evaluation], lang: Lang, time_ms: i64) -> String {
    let mut out = String::new();
    for e in evaluations {
        for r in &e.results {
            let finding = compliance_finding(e, r, lang, time_ms, env!("CARGO_PKG_VERSION"));
            out.push_str(&finding.to_string());
            out.push('\n');
        }
    }
    out
}
