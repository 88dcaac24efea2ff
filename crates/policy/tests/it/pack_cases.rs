//! Runs every data-driven test case under packs/<pack>/tests against the built-in packs.

use mamori_policy::{testcase, Engine};
use std::path::Path;

#[test]
fn every_pack_test_case_passes() {
    let engine = Engine::with_builtin_packs().expect("built-in packs load");
    let packs_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packs");
    let mut total = 0;
    let mut failures = Vec::new();
    for pack in engine.packs() {
        // Cases live in tests/<product>/; only the products the pack lists are built.
        for product in &pack.products {
            let tests = packs_dir.join(&pack.id).join("tests").join(&product.id);
            assert!(
                tests.is_dir(),
                "product {} of pack {} has no test cases in {}",
                product.id,
                pack.id,
                tests.display()
            );
            let outcomes = testcase::run_dir(&engine, pack.input, &tests).unwrap();
            assert!(
                outcomes.len() >= 2,
                "product {} needs at least a passing and a failing case",
                product.id
            );
            for outcome in outcomes {
                total += 1;
                if !outcome.passed() {
                    failures.push(format!(
                        "{}:\n  {}",
                        outcome.file.display(),
                        outcome.failures.join("\n  ")
                    ));
                }
            }
        }
    }
    println!("{total} pack test cases");
    assert!(
        total > 0,
        "no pack test cases found under {}",
        packs_dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} failing case(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_listed_automated_control_has_a_verdict_on_an_empty_tenant() {
    // Not a judgement on {} (that is the corpus' job), only that no control silently lacks a rule.
    let engine = Engine::with_builtin_packs().unwrap();
    for pack in engine.packs() {
        let products: Vec<String> = pack.products.iter().map(|p| p.id.clone()).collect();
        let options = mamori_policy::EvalOptions {
            products,
            ..Default::default()
        };
        let evaluation = engine.evaluate(
            "empty",
            pack.input,
            mamori_policy::Value::new_object(),
            &options,
        );
        for r in &evaluation.results {
            assert!(
                !r.details.en.contains("no verdict"),
                "{}: the rule emits no verdict on an empty input",
                r.id
            );
        }
    }
}
