//! Data-driven pack tests: one YAML or JSON file per case, holding an input fragment and the
//! expected results, so a new control test needs no Rust.
//!
//! ```yaml
//! description: MFA policy excludes nobody
//! input: { conditional_access_policies: [...] }
//! config: { OmitPolicy: {...} }      # optional, as --config
//! today: 2026-11-26                  # optional, for omission expiry
//! expect:
//!   - id: MS.AAD.3.1v1
//!     requirement_met: true
//!     status: pass                   # optional
//!     details_contains: phishing     # optional, matched against en and ja
//! ```

use crate::{Engine, EvalConfig, EvalOptions};
use mamori_core::snapshot::SourceKind;
use mamori_core::Status;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    description: String,
    #[serde(default)]
    source: Option<SourceKind>,
    input: serde_json::Value,
    #[serde(default)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    today: Option<jiff::civil::Date>,
    expect: Vec<Expectation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    id: String,
    #[serde(default)]
    requirement_met: Option<bool>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    details_contains: Option<String>,
}

/// The outcome of one case file.
#[derive(Debug)]
pub struct CaseOutcome {
    pub file: PathBuf,
    pub description: String,
    /// Empty when the case passed.
    pub failures: Vec<String>,
}

impl CaseOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Every case file (`*.yaml`, `*.yml`, `*.json`) under `dir`, sorted.
pub fn case_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs one case file. A file that cannot be read or parsed is a failed case, not a panic.
pub fn run_case(engine: &Engine, default_source: SourceKind, file: &Path) -> CaseOutcome {
    let mut outcome = CaseOutcome {
        file: file.to_path_buf(),
        description: String::new(),
        failures: Vec::new(),
    };
    let case: CaseFile = match std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_norway::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(e) => {
            outcome.failures.push(format!("cannot read case: {e}"));
            return outcome;
        }
    };
    outcome.description = case.description.clone();
    let mut options = EvalOptions::default();
    if let Some(config) = &case.config {
        match serde_norway::to_string(config)
            .map_err(|e| e.to_string())
            .and_then(|t| EvalConfig::from_yaml_str(&t))
        {
            Ok(c) => options.config = c,
            Err(e) => {
                outcome.failures.push(format!("bad config: {e}"));
                return outcome;
            }
        }
    }
    if let Some(today) = case.today {
        options.today = today;
    }
    // Without `source:`, the pack that defines the first expected control says what the input is.
    let source = case.source.unwrap_or_else(|| {
        case.expect
            .first()
            .and_then(|e| {
                engine
                    .packs()
                    .iter()
                    .find(|p| p.find_control(&e.id).is_some())
            })
            .map(|p| p.input)
            .unwrap_or(default_source)
    });
    let evaluation = engine.evaluate(
        &file.display().to_string(),
        source,
        regorus::Value::from(case.input),
        &options,
    );
    if case.expect.is_empty() {
        outcome.failures.push("the case expects nothing".into());
    }
    for exp in &case.expect {
        let Some(result) = evaluation.results.iter().find(|r| r.id == exp.id) else {
            outcome
                .failures
                .push(format!("{}: no such control in the loaded packs", exp.id));
            continue;
        };
        if let Some(want) = exp.requirement_met {
            if result.requirement_met != want {
                outcome.failures.push(format!(
                    "{}: requirement_met is {}, expected {want} ({})",
                    exp.id, result.requirement_met, result.details.en
                ));
            }
        }
        if let Some(want) = exp.status {
            if result.status != want {
                outcome.failures.push(format!(
                    "{}: status is {}, expected {want} ({})",
                    exp.id, result.status, result.details.en
                ));
            }
        }
        if let Some(needle) = &exp.details_contains {
            if !result.details.en.contains(needle.as_str())
                && !result.details.ja.contains(needle.as_str())
            {
                outcome.failures.push(format!(
                    "{}: details do not contain {needle:?}: {:?}",
                    exp.id, result.details.en
                ));
            }
        }
        if exp.requirement_met.is_none() && exp.status.is_none() && exp.details_contains.is_none() {
            outcome
                .failures
                .push(format!("{}: the expectation asserts nothing", exp.id));
        }
    }
    outcome
}

/// Runs every case under `dir`.
pub fn run_dir(
    engine: &Engine,
    default_source: SourceKind,
    dir: &Path,
) -> std::io::Result<Vec<CaseOutcome>> {
    Ok(case_files(dir)?
        .iter()
        .map(|f| run_case(engine, default_source, f))
        .collect())
}
