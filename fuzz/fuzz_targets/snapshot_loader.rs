//! Arbitrary bytes (plain or gzip) through the snapshot loader and, when they parse as an
//! object, through the whole m365 pack: neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_core::snapshot::{self, SourceKind};
use mamori_policy::{Engine, EvalOptions, Value};
use std::path::Path;

thread_local! {
    static ENGINE: Engine = Engine::with_builtin_packs().expect("built-in packs load");
}

fuzz_target!(|data: &[u8]| {
    let parsed: Result<Value, _> = snapshot::load_bytes(Path::new("fuzz.json"), data.to_vec(), 1 << 20);
    if let Ok(value @ Value::Object(_)) = parsed {
        ENGINE.with(|engine| {
            let evaluation = engine.evaluate("fuzz", SourceKind::Scubagear, value, &EvalOptions::default());
            for r in &evaluation.results {
                // A control may fail or error on garbage, but never pass on a missing section.
                assert!(!r.details.en.is_empty());
            }
        });
    }
});
