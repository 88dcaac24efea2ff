//! Mamori's rules against the imitation tenants' audit-log streams: every attack the generator
//! placed among a week of ordinary activity raises an alert whose events include the attack's,
//! and ordinary activity raises few.

use mamori_detect::{normalise, normalise_line, Alert, Detector, DetectorOptions, RuleSet};
use mamori_mock_saas::logs::{self, LogSpec};
use std::collections::{BTreeMap, BTreeSet};

fn detect_stream(spec: &LogSpec) -> (Vec<Alert>, logs::Manifest) {
    detect_stream_parsed(spec, false)
}

/// With `pruned`, each record goes through NDJSON text and [`normalise_line`] with the rules'
/// field filter, as the service's spool path reads it.
fn detect_stream_parsed(spec: &LogSpec, pruned: bool) -> (Vec<Alert>, logs::Manifest) {
    let generated = logs::generate(spec);
    let rules = RuleSet::builtin().unwrap();
    let filter = rules.field_filter();
    assert!(!filter.keeps_everything());
    let mut detector = Detector::new(&rules, DetectorOptions::default()).unwrap();
    let mut events = Vec::new();
    for e in generated.events {
        let source = crate::source_of(e.source);
        let list = if pruned {
            let line = serde_json::to_vec(&e.record).unwrap();
            normalise_line(
                source,
                &line,
                Some(&std::sync::Arc::from("sakura")),
                &filter,
            )
            .unwrap()
        } else {
            normalise(source, e.record, Some(&std::sync::Arc::from("sakura")))
        }
        .unwrap_or_else(|r| panic!("generated record refused: {}", r.why));
        events.extend(list);
    }
    events.sort_by_key(|e| e.epoch());
    for e in &events {
        detector.process(e);
    }
    (detector.finish(), generated.manifest)
}

/// The spool path's pruned parse sees what the rules need: the demo week raises exactly the
/// alerts (same rules, entities, counts, event ids and times) it raises on whole records.
#[test]
fn pruned_records_raise_the_same_alerts_as_whole_ones() {
    let spec = crate::demo_week();
    let json = |alerts: Vec<Alert>| -> Vec<serde_json::Value> {
        alerts
            .iter()
            .map(|a| a.to_json(mamori_core::Lang::En))
            .collect()
    };
    let (whole, _) = detect_stream_parsed(&spec, false);
    let (pruned, _) = detect_stream_parsed(&spec, true);
    assert!(whole.len() > 50, "{}", whole.len());
    assert_eq!(json(whole), json(pruned));
}

#[test]
fn every_placed_attack_raises_an_alert() {
    let (alerts, manifest) = detect_stream(&crate::demo_week());
    let mut missed = Vec::new();
    let mut caught: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for attack in &manifest.attacks {
        let ids: BTreeSet<&str> = attack.events.iter().map(|e| e.id.as_str()).collect();
        let hits: BTreeSet<String> = alerts
            .iter()
            .filter(|a| {
                a.event_ids
                    .iter()
                    .any(|id| ids.contains(id.split('#').next().unwrap_or(id)))
            })
            .map(|a| a.rule_id.clone())
            .collect();
        let name = format!("{:?} ({})", attack.kind, attack.product);
        if hits.is_empty() {
            missed.push(name.clone());
        }
        caught.entry(name).or_default().extend(hits);
    }
    eprintln!("{caught:#?}");
    assert!(missed.is_empty(), "attacks without an alert: {missed:?}");
    for must in [
        "PasswordSpray",
        "MfaFatigue",
        "OAuthConsent",
        "ImpossibleTravel",
    ] {
        assert!(
            caught.keys().any(|k| k.starts_with(must)),
            "the demo stream has no {must}"
        );
    }
    // Ordinary activity: medium and higher alerts not tied to any placed attack stay few (low
    // ones, such as an Anyone link created, are expected in a working tenant).
    let attack_ids: BTreeSet<&str> = manifest
        .attacks
        .iter()
        .flat_map(|a| a.events.iter().map(|e| e.id.as_str()))
        .collect();
    let noise: Vec<&Alert> = alerts
        .iter()
        .filter(|a| !matches!(a.severity.as_str(), "low" | "informational"))
        .filter(|a| {
            !a.event_ids
                .iter()
                .any(|id| attack_ids.contains(id.split('#').next().unwrap_or(id)))
        })
        .collect();
    let noisy: BTreeMap<&str, usize> = noise.iter().fold(BTreeMap::new(), |mut m, a| {
        *m.entry(a.rule_id.as_str()).or_default() += 1;
        m
    });
    eprintln!("alerts on ordinary activity: {noisy:?}");
    assert!(
        noise.len() <= 10,
        "{} of {} alerts are on ordinary activity: {noisy:?}",
        noise.len(),
        alerts.len()
    );
}
