//! Times each named rule of a package on one input, to find slow Rego.
//!
//! `rule_timing EXPORT PACKAGE RULE...` — with `MAMORI_PACK_DIR=DIR` the pack in DIR replaces
//! the built-in pack of the same id, so rules can be timed while they are being edited.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: rule_timing EXPORT PACKAGE RULE... (env MAMORI_PACK_DIR=DIR to load a pack from disk)");
        std::process::exit(2);
    }
    let (export, package, rules) = (&args[0], &args[1], &args[2..]);
    let mut engine = mamori_policy::Engine::with_builtin_packs().expect("packs");
    if let Ok(dir) = std::env::var("MAMORI_PACK_DIR") {
        let files =
            mamori_policy::PackFiles::from_dir(std::path::Path::new(&dir)).expect("pack dir");
        engine
            .add_pack(mamori_policy::Pack::from_files(files).expect("valid pack"))
            .expect("pack compiles");
    }
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
    // Prepare once, so each timing below measures the rule, not regorus' analysis.
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
