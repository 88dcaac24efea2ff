//! Data-driven rule tests: `rules/tests/<rule id>/positive.*` must raise an alert of that rule,
//! `negative.*` must not. Adding a rule test needs no Rust: a folder and two event files.
//! The event files are NDJSON, a JSON array or an API page, as `mamori detect` reads them;
//! the source is the rule id's second part (`mamori.entra-signin.…`).

use mamori_detect::{detect_files, DetectorOptions, RuleSet, Source};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/tests")
}

fn case_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    ["jsonl", "json", "ndjson"]
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .find(|p| p.exists())
}

#[test]
fn every_rule_case_raises_exactly_where_it_should() {
    let rules = RuleSet::builtin().expect("built-in rules load");
    let mut failures = Vec::new();
    let mut cases = 0;
    let mut entries: Vec<_> = std::fs::read_dir(tests_dir())
        .expect("rules/tests exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    for dir in entries {
        let rule_id = dir.file_name().unwrap().to_string_lossy().to_string();
        let source: Source = match rule_id.split('.').nth(1).map(str::parse) {
            Some(Ok(s)) => s,
            _ => {
                failures.push(format!("{rule_id}: the folder name names no source"));
                continue;
            }
        };
        for (stem, want) in [("positive", true), ("negative", false)] {
            let Some(file) = case_file(&dir, stem) else {
                failures.push(format!("{rule_id}: no {stem} event file"));
                continue;
            };
            cases += 1;
            let run = match detect_files(
                &rules,
                source,
                std::slice::from_ref(&file),
                Some("test-tenant"),
                DetectorOptions::default(),
                1 << 30,
            ) {
                Ok(run) => run,
                Err(e) => {
                    failures.push(format!("{rule_id}/{stem}: {e}"));
                    continue;
                }
            };
            if !run.quarantined.is_empty() {
                failures.push(format!(
                    "{rule_id}/{stem}: {} events quarantined: {}",
                    run.quarantined.len(),
                    run.quarantined[0].reason
                ));
            }
            let raised = run.alerts.iter().any(|a| a.rule_id == rule_id);
            if raised != want {
                let got: Vec<_> = run.alerts.iter().map(|a| a.rule_id.as_str()).collect();
                failures.push(format!(
                    "{rule_id}/{stem}: expected {}, got alerts {got:?}",
                    if want { "an alert" } else { "no alert" }
                ));
            }
        }
    }
    assert!(cases > 0, "no rule cases found");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every rule that can raise an alert has its two cases; rules used only inside correlations
/// are exercised through them.
#[test]
fn every_alerting_rule_has_cases() {
    let rules = RuleSet::builtin().unwrap();
    let with_cases: BTreeSet<String> = std::fs::read_dir(tests_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let missing: Vec<String> = rules
        .rules()
        .into_iter()
        .filter(|r| r.alerts_alone || r.correlation)
        .map(|r| r.rule_id)
        .filter(|id| !with_cases.contains(id))
        .collect();
    assert!(missing.is_empty(), "rules without test cases: {missing:?}");
    let ids: BTreeSet<String> = rules.rules().into_iter().map(|r| r.rule_id).collect();
    let orphans: Vec<&String> = with_cases.iter().filter(|c| !ids.contains(*c)).collect();
    assert!(orphans.is_empty(), "test folders for no rule: {orphans:?}");
}
