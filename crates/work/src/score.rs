//! The posture score. Documented in docs/operate.md ("Posture score"); the short form:
//!
//! * Each control that was judged (`pass`, `fail`, `warning`) weighs
//!   `severity weight × criticality factor`: critical 10, high 5, medium 3, low 1, info 0.5;
//!   `shall` 1.0, `should` 0.5.
//! * A control earns its weight when it passes, or when it fails but every one of its open
//!   findings is covered by an approved risk acceptance (counted as `accepted`).
//! * Score = 100 × earned ÷ total weight, one decimal. Controls in `error`, `manual`,
//!   `not_applicable` or `omitted` are left out of both sums; `error` ones are counted apart
//!   (`errors`) so a tenant whose data could not be read does not look healthy; when nothing
//!   at all could be judged and some controls are in `error`, the score is 0.
//! * Per framework: the same over the controls the framework maps. Per app: the tenant's
//!   overall score under key = app.

use std::collections::{BTreeMap, HashSet};

use mamori_core::{Criticality, Evaluation, Severity, Status};
use mamori_store::ScoreInput;

use crate::catalog::Catalog;

pub fn weight(severity: Severity, criticality: Criticality) -> f64 {
    let s = match severity {
        Severity::Critical => 10.0,
        Severity::High => 5.0,
        Severity::Medium => 3.0,
        Severity::Low => 1.0,
        Severity::Info => 0.5,
    };
    let c = match criticality {
        Criticality::Shall => 1.0,
        Criticality::Should => 0.5,
    };
    s * c
}

#[derive(Default, Clone, Copy)]
struct Tally {
    earned: f64,
    total: f64,
    passed: i64,
    failed: i64,
    accepted: i64,
    errors: i64,
}

impl Tally {
    fn add(&mut self, status: Status, w: f64, accepted: bool) {
        match status {
            Status::Pass => {
                self.earned += w;
                self.total += w;
                self.passed += 1;
            }
            Status::Fail | Status::Warning if accepted => {
                self.earned += w;
                self.total += w;
                self.accepted += 1;
            }
            Status::Fail | Status::Warning => {
                self.total += w;
                self.failed += 1;
            }
            Status::Error => self.errors += 1,
            _ => {}
        }
    }

    fn input(self, kind: &str, key: &str) -> ScoreInput {
        let score = if self.total > 0.0 {
            (1000.0 * self.earned / self.total).round() / 10.0
        } else if self.errors > 0 {
            0.0 // nothing could be judged: unknown is not healthy
        } else {
            100.0
        };
        ScoreInput {
            kind: kind.to_string(),
            key: key.to_string(),
            score,
            passed: self.passed,
            failed: self.failed,
            accepted: self.accepted,
            errors: self.errors,
        }
    }
}

/// Scores of one scan. `accepted_controls`: failing controls whose every active finding is
/// covered by an approved exception.
pub fn scores(
    evaluation: &Evaluation,
    app: &str,
    catalog: &Catalog,
    accepted_controls: &HashSet<String>,
) -> Vec<ScoreInput> {
    let mut overall = Tally::default();
    let mut frameworks: BTreeMap<String, Tally> = BTreeMap::new();
    for r in &evaluation.results {
        let w = weight(r.severity, r.criticality);
        let accepted = accepted_controls.contains(&r.id);
        overall.add(r.status, w, accepted);
        if let Some(meta) = catalog.get(&r.id) {
            for framework in meta.frameworks.keys() {
                frameworks
                    .entry(framework.clone())
                    .or_default()
                    .add(r.status, w, accepted);
            }
        }
    }
    let mut out = vec![overall.input("overall", ""), overall.input("app", app)];
    out.extend(
        frameworks
            .into_iter()
            .map(|(k, t)| t.input("framework", &k)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::{ControlResult, Localized};

    fn result(id: &str, status: Status, severity: Severity) -> ControlResult {
        ControlResult {
            id: id.into(),
            pack: "p".into(),
            product: "x".into(),
            product_name: Localized::new("X", "X"),
            title: Localized::new("t", "t"),
            status,
            requirement_met: status == Status::Pass,
            criticality: Criticality::Shall,
            severity,
            details: Localized::new("", ""),
            resources: vec![],
            remediation: Localized::new("", ""),
            references: vec![],
        }
    }

    #[test]
    fn weighted_by_severity_with_errors_apart() {
        let e = Evaluation {
            source: "s".into(),
            results: vec![
                result("A", Status::Pass, Severity::Critical), // 10
                result("B", Status::Fail, Severity::Low),      // 1
                result("C", Status::Error, Severity::High),    // left out
                result("D", Status::Manual, Severity::High),   // left out
            ],
            frameworks: vec![],
        };
        let s = scores(&e, "m365", &Catalog::default(), &HashSet::new());
        assert_eq!(s[0].kind, "overall");
        assert_eq!(s[0].score, 90.9);
        assert_eq!((s[0].passed, s[0].failed, s[0].errors), (1, 1, 1));
        assert_eq!(s[1].key, "m365");
        let accepted: HashSet<String> = ["B".to_string()].into();
        let s = scores(&e, "m365", &Catalog::default(), &accepted);
        assert_eq!((s[0].score, s[0].accepted, s[0].failed), (100.0, 1, 0));
    }

    #[test]
    fn nothing_judged_scores_full() {
        let e = Evaluation {
            source: "s".into(),
            results: vec![],
            frameworks: vec![],
        };
        assert_eq!(
            scores(&e, "gws", &Catalog::default(), &HashSet::new())[0].score,
            100.0
        );
    }
}
