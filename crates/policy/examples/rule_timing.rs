//! Times each named rule of a product package on one input, to find slow Rego.
//! `cargo run --release -p mamori-policy --example rule_timing -- EXPORT PACKAGE RULE...`

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (export, package, rules) = (&args[0], &args[1], &args[2..]);
    let engine = mamori_policy::Engine::with_builtin_packs().expect("packs");
    let input: regorus::Value =
        mamori_core::snapshot::load(std::path::Path::new(export), 1 << 30).expect("input");
    let mut rego = regorus::Engine::new();
    rego.set_strict_builtin_errors(false);
    for pack in engine.packs() {
        for (path, src) in &pack.modules {
            rego.add_policy(path.clone(), src.clone()).unwrap();
        }
    }
    rego.set_input(input);
    let _ = rego.eval_rule(format!("data.{package}.results"));
    for rule in rules {
        let mut r = rego.clone();
        let t = Instant::now();
        let ok = r.eval_rule(format!("data.{package}.{rule}")).is_ok();
        println!(
            "{:>9.2} ms  {rule}{}",
            t.elapsed().as_secs_f64() * 1e3,
            if ok { "" } else { " (error)" }
        );
    }
}
