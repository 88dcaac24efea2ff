//! Arbitrary bytes through the snapshot readers — the provider-export path (plain or gzip) and
//! the Mamori envelope — and, when they parse, through the packs: nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_core::snapshot::{self, Snapshot, SourceKind};
use mamori_policy::{Engine, EvalOptions, Value};
use std::path::Path;

thread_local! {
    static ENGINE: Engine = Engine::with_builtin_packs().expect("built-in packs load");
}

fuzz_target!(|data: &[u8]| {
    let name = Path::new("fuzz.json");
    let parsed: Result<Value, _> = snapshot::load_bytes(name, data.to_vec(), 1 << 20);
    if let Ok(Value::Object(_)) = parsed {
        if let Ok(snap) = Snapshot::from_slice(name, data, SourceKind::Scubagear) {
            evaluate(&snap);
        }
    }
    if let Ok(snap) = Snapshot::from_slice(name, data, SourceKind::Mamori) {
        evaluate(&snap);
        // What was read writes back and reads again the same.
        let again = Snapshot::from_slice(name, &snap.to_json(), SourceKind::Mamori)
            .expect("a snapshot that was read reads again after writing");
        assert_eq!(again.sections, snap.sections);
        assert_eq!(again.data_json(), snap.data_json());
    }
});

fn evaluate(snap: &Snapshot) {
    ENGINE.with(|engine| {
        let evaluation = engine
            .evaluate_snapshot(snap, &EvalOptions::default())
            .expect("data that was read parses");
        for r in &evaluation.results {
            // A control may fail or error on garbage, but it always says why.
            assert!(!r.details.en.is_empty());
        }
    });
}
