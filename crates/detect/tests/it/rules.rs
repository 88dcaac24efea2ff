//! Data-driven rule tests: `rules/tests/<rule id>/positive.*` must raise an alert of that rule,
//! `negative.*` must not. Adding a rule test needs no Rust: a folder and two event files.
//! The event files are NDJSON, a JSON array or an API page, as `mamori detect` reads them;
//! the source is the rule id's second part (`mamori.entra-signin.…`).

use mamori_detect::{detect_files, normalise_line, Detector, DetectorOptions, RuleSet, Source};
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
    let filter = rules.field_filter();
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
                Some(&std::sync::Arc::from("test-tenant")),
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
            // The service's spool path parses only the members rules read: the same alerts.
            let pruned = pruned_alerts(&rules, &filter, source, &file);
            let whole: BTreeSet<String> = run.alerts.iter().map(|a| a.rule_id.clone()).collect();
            if pruned != whole {
                failures.push(format!(
                    "{rule_id}/{stem}: with the field filter {pruned:?}, whole records {whole:?}"
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

/// The rule ids a case file raises when each record is parsed as NDJSON text with the rules'
/// field filter (the spool path).
fn pruned_alerts(
    rules: &RuleSet,
    filter: &mamori_detect::FieldFilter,
    source: Source,
    file: &Path,
) -> BTreeSet<String> {
    let records = mamori_detect::read::read_file(file, 1 << 30).unwrap();
    let mut events = Vec::new();
    let mut seen = BTreeSet::new();
    for (_, record) in records.records {
        let line = serde_json::to_vec(&record).unwrap();
        if let Ok(Ok(list)) = normalise_line(
            source,
            &line,
            Some(&std::sync::Arc::from("test-tenant")),
            filter,
        ) {
            events.extend(
                list.into_iter()
                    .filter(|e| seen.insert(e.id().into_owned())),
            );
        }
    }
    events.sort_by_key(|e| e.epoch());
    let mut detector = Detector::new(rules, DetectorOptions::default()).unwrap();
    for e in &events {
        detector.process(e);
    }
    detector.finish().into_iter().map(|a| a.rule_id).collect()
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
