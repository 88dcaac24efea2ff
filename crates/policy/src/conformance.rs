//! The SCuBA conformance corpus: each case is a provider-schema input with the reference
//! implementation's verdicts. See `../shared/conformance/README.md` for the format.

use crate::{Engine, EvalOptions};
use mamori_core::snapshot::{self, SourceKind};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Debug, Deserialize)]
struct Case {
    suite: String,
    product: String,
    case: String,
    source: String,
    input: serde_json::Value,
    target: Option<Target>,
    #[serde(default)]
    results: Vec<ReferenceResult>,
}

#[derive(Debug, Deserialize)]
struct Target {
    policy_id: String,
    requirement_met: bool,
}

#[derive(Debug, Deserialize)]
struct ReferenceResult {
    policy_id: String,
    criticality: String,
    requirement_met: bool,
}

/// One disagreement with the reference.
#[derive(Debug, Clone)]
pub struct Mismatch {
    pub product: String,
    pub source: String,
    pub case: String,
    pub policy_id: String,
    pub expected: bool,
    /// `None` when Mamori has no such control.
    pub actual: Option<bool>,
    pub details: String,
}

#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub agree: usize,
    pub total: usize,
}

#[derive(Debug, Default)]
pub struct Report {
    /// Required check: each case's `target`, per product.
    pub targets: BTreeMap<String, Tally>,
    pub target_mismatches: Vec<Mismatch>,
    /// Stricter check: every implemented (`Shall`/`Should`) reference result, per product.
    pub results: BTreeMap<String, Tally>,
    pub result_mismatches: Vec<Mismatch>,
    pub cases: usize,
    pub cases_without_target: usize,
}

impl Report {
    pub fn target_totals(&self) -> Tally {
        sum(&self.targets)
    }
    pub fn result_totals(&self) -> Tally {
        sum(&self.results)
    }
}

fn sum(map: &BTreeMap<String, Tally>) -> Tally {
    map.values().fold(Tally::default(), |acc, t| Tally {
        agree: acc.agree + t.agree,
        total: acc.total + t.total,
    })
}

/// GWS unit-test ids end in `vM` where the sample uses `v1`; compare without the suffix there.
fn comparable_id(suite_kind: SourceKind, id: &str) -> String {
    match suite_kind {
        SourceKind::Scubagoggles => match id.rfind('v') {
            Some(i) if i > 0 => id[..i].to_string(),
            _ => id.to_string(),
        },
        _ => id.to_string(),
    }
}

/// Mamori's verdict and English details per comparable control id.
fn verdicts_by_id(
    kind: SourceKind,
    evaluation: &mamori_core::Evaluation,
) -> HashMap<String, (bool, String)> {
    evaluation
        .results
        .iter()
        .map(|r| {
            (
                comparable_id(kind, &r.id),
                (r.requirement_met, r.details.en.clone()),
            )
        })
        .collect()
}

/// Runs the corpus at `path` (JSON Lines, plain or gzip); `product` limits it to one product.
pub fn run(engine: &Engine, path: &Path, product: Option<&str>) -> Result<Report, String> {
    let reader =
        snapshot::open(path, snapshot::DEFAULT_MAX_INPUT_BYTES).map_err(|e| e.to_string())?;
    let stream = serde_json::Deserializer::from_reader(reader).into_iter::<Case>();
    let mut report = Report::default();
    for (line, case) in stream.enumerate() {
        let case = case.map_err(|e| format!("{}: case {}: {e}", path.display(), line + 1))?;
        if let Some(p) = product {
            if !case.product.eq_ignore_ascii_case(p) {
                continue;
            }
        }
        report.cases += 1;
        let kind = if case.suite.starts_with("scubagoggles") {
            SourceKind::Scubagoggles
        } else {
            SourceKind::Scubagear
        };
        let options = EvalOptions {
            products: vec![case.product.to_ascii_lowercase()],
            ..EvalOptions::default()
        };
        let evaluation =
            engine.evaluate(&case.case, kind, regorus::Value::from(case.input), &options);
        let ours = verdicts_by_id(kind, &evaluation);
        let check = |tallies: &mut BTreeMap<String, Tally>,
                     mismatches: &mut Vec<Mismatch>,
                     policy_id: &str,
                     expected: bool| {
            let tally = tallies.entry(case.product.clone()).or_default();
            tally.total += 1;
            let actual = ours.get(&comparable_id(kind, policy_id));
            if actual.map(|a| a.0) == Some(expected) {
                tally.agree += 1;
            } else {
                mismatches.push(Mismatch {
                    product: case.product.clone(),
                    source: case.source.clone(),
                    case: case.case.clone(),
                    policy_id: policy_id.to_string(),
                    expected,
                    actual: actual.map(|a| a.0),
                    details: actual.map(|a| a.1.clone()).unwrap_or_default(),
                });
            }
        };
        match &case.target {
            Some(t) => check(
                &mut report.targets,
                &mut report.target_mismatches,
                &t.policy_id,
                t.requirement_met,
            ),
            None => report.cases_without_target += 1,
        }
        for r in &case.results {
            if r.criticality == "Shall" || r.criticality == "Should" {
                check(
                    &mut report.results,
                    &mut report.result_mismatches,
                    &r.policy_id,
                    r.requirement_met,
                );
            }
        }
    }
    Ok(report)
}

/// Compares the evaluation of a full sample export with its reference verdicts file (an array
/// of `{policy_id, criticality, requirement_met}`). Products are named by the id's second part.
pub fn run_sample(
    engine: &Engine,
    kind: SourceKind,
    export: &Path,
    verdicts: &Path,
) -> Result<Report, String> {
    let input: regorus::Value =
        snapshot::load(export, snapshot::DEFAULT_MAX_INPUT_BYTES).map_err(|e| e.to_string())?;
    let reference: Vec<ReferenceResult> =
        snapshot::load(verdicts, snapshot::DEFAULT_MAX_INPUT_BYTES).map_err(|e| e.to_string())?;
    let evaluation = engine.evaluate(
        &export.display().to_string(),
        kind,
        input,
        &EvalOptions::default(),
    );
    let ours = verdicts_by_id(kind, &evaluation);
    let mut report = Report {
        cases: 1,
        ..Report::default()
    };
    for r in reference {
        if r.criticality != "Shall" && r.criticality != "Should" {
            continue;
        }
        let product = r.policy_id.split('.').nth(1).unwrap_or("?").to_string();
        let tally = report.results.entry(product.clone()).or_default();
        tally.total += 1;
        let actual = ours.get(&comparable_id(kind, &r.policy_id));
        if actual.map(|a| a.0) == Some(r.requirement_met) {
            tally.agree += 1;
        } else {
            report.result_mismatches.push(Mismatch {
                product,
                source: export.display().to_string(),
                case: "sample".into(),
                policy_id: r.policy_id.clone(),
                expected: r.requirement_met,
                actual: actual.map(|a| a.0),
                details: actual.map(|a| a.1.clone()).unwrap_or_default(),
            });
        }
    }
    report.targets = report.results.clone();
    report.target_mismatches = report.result_mismatches.clone();
    Ok(report)
}
