//! No verdict without its data: the sections each control declares cover what its rules read
//! (derived from the Rego by `mamori_policy::deps`), and deleting any of them from real exports
//! never leaves the control `pass`.

use crate::conformance::shared;
use mamori_core::snapshot::{SourceKind, DEFAULT_MAX_INPUT_BYTES};
use mamori_core::Status;
use mamori_policy::deps::control_reads;
use mamori_policy::{builtin_packs, Engine, EvalOptions, Pack, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Sections a pack's rules may read without them being the control's data: the key naming the
/// provider commands that ran, and the pack's declared optional sections.
fn exempt(pack: &Pack) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = pack.optional_sections.keys().cloned().collect();
    for p in &pack.products {
        out.extend(p.commands_key.iter().cloned());
        out.extend(p.unsuccessful_commands_key.iter().cloned());
    }
    out
}

#[test]
fn declared_sections_cover_what_the_rules_read() {
    let packs = builtin_packs().unwrap();
    let mut problems = Vec::new();
    for pack in &packs {
        let reads = control_reads(pack, &packs).unwrap();
        let exempt = exempt(pack);
        for (_, control) in pack.controls().filter(|(_, c)| c.automated) {
            let Some(r) = reads.get(&control.id) else {
                problems.push(format!(
                    "{}: no `results` rule names this control",
                    control.id
                ));
                continue;
            };
            if r.whole_input {
                problems.push(format!(
                    "{}: its rules read `input` as a whole (iterate it or index it by a variable)",
                    control.id
                ));
            }
            let declared: BTreeSet<&String> = control
                .sections
                .iter()
                .chain(&control.optional_sections)
                .collect();
            let missing: Vec<&String> = r
                .sections
                .iter()
                .filter(|s| !declared.contains(s) && !exempt.contains(*s))
                .collect();
            if !missing.is_empty() {
                problems.push(format!("{}: reads undeclared {missing:?}", control.id));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} controls read sections they do not declare (add them to the control's `sections`, or to the pack's `optional_sections` with the reason absence is handled):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The sections whose absence must stop each control from passing: what its rules read plus
/// what it declares, minus the pack's optional sections.
fn needs(pack: &Pack, packs: &[Pack]) -> BTreeMap<String, BTreeSet<String>> {
    let reads = control_reads(pack, packs).unwrap();
    let exempt = exempt(pack);
    let mut by_section: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, control) in pack.controls().filter(|(_, c)| c.automated) {
        let derived = reads.get(&control.id).map(|r| &r.sections);
        for section in control.sections.iter().chain(derived.into_iter().flatten()) {
            if !exempt.contains(section) && !control.optional_sections.contains(section) {
                by_section
                    .entry(section.clone())
                    .or_default()
                    .insert(control.id.clone());
            }
        }
    }
    by_section
}

#[test]
fn deleting_a_section_a_control_reads_never_leaves_it_passing() {
    let engine = Engine::with_builtin_packs().unwrap();
    let packs = engine.packs().to_vec();
    let mut inputs: Vec<(SourceKind, String, serde_json::Value)> = vec![
        (
            SourceKind::Scubagear,
            "demo Microsoft 365 tenant".into(),
            mamori_mock_saas::synth::m365_tenant(
                mamori_mock_saas::synth::TenantSize::DEMO,
                20_261_126,
                "sakura-trading",
            ),
        ),
        (
            SourceKind::Scubagoggles,
            "demo Google Workspace tenant".into(),
            mamori_mock_saas::synth::gws_demo(),
        ),
    ];
    for (kind, rel) in [
        (
            SourceKind::Scubagear,
            "samples/scubagear-ProviderSettingsExport.json.gz",
        ),
        (
            SourceKind::Scubagoggles,
            "samples/scubagoggles-provider-sample.json.gz",
        ),
    ] {
        if let Some(path) = shared(rel) {
            let doc = mamori_core::snapshot::load(&path, DEFAULT_MAX_INPUT_BYTES).unwrap();
            inputs.push((kind, rel.to_string(), doc));
        }
    }
    let options = EvalOptions::default();
    let mut problems = Vec::new();
    let mut checked = 0usize;
    for (kind, name, doc) in &inputs {
        let pack = packs.iter().find(|p| p.input == *kind).unwrap();
        let needs = needs(pack, &packs);
        let serde_json::Value::Object(sections) = doc else {
            panic!("{name} is not an object")
        };
        for (section, controls) in &needs {
            if !sections.contains_key(section) {
                continue;
            }
            let mut without = sections.clone();
            without.remove(section);
            let input = Value::from_json_str(&serde_json::to_string(&without).unwrap()).unwrap();
            let evaluation = engine.evaluate(name, *kind, input, &options);
            for result in &evaluation.results {
                if controls.contains(&result.id) {
                    checked += 1;
                    if result.status == Status::Pass {
                        problems.push(format!(
                            "{name}: without `{section}`, {} is pass",
                            result.id
                        ));
                    }
                }
            }
        }
    }
    assert!(
        checked > 500,
        "only {checked} (control, section) pairs were checked"
    );
    assert!(
        problems.is_empty(),
        "{} controls pass without data they read:\n{}",
        problems.len(),
        problems.join("\n")
    );
    eprintln!("{checked} (control, deleted section) pairs checked; none passed");
}
