//! A detector's state saved and restored: a worker that is killed between batches and started
//! again from the saved state raises exactly the alerts one uninterrupted detector raises, and
//! hands each changed alert to the store once per change under a key that does not move.

use mamori_detect::{
    normalise, read, Alert, DetectError, Detector, DetectorOptions, DetectorState, Event, RuleSet,
    Source,
};
use mamori_mock_saas::logs;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

fn demo_events() -> Vec<Event> {
    let generated = logs::generate(&crate::demo_week());
    let mut events = Vec::new();
    for e in generated.events {
        let list = normalise(
            crate::source_of(e.source),
            e.record,
            Some(&std::sync::Arc::from("sakura")),
        )
        .unwrap_or_else(|r| panic!("generated record refused: {}", r.why));
        events.extend(list);
    }
    events.sort_by_key(|e| e.epoch());
    events
}

fn rule_case(rule_id: &str) -> Vec<Event> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/tests");
    let records = read::read_file(&dir.join(rule_id).join("positive.jsonl"), 1 << 30).unwrap();
    let mut events: Vec<Event> = records
        .records
        .into_iter()
        .flat_map(|(_, r)| {
            normalise(
                Source::EntraSignin,
                r,
                Some(&std::sync::Arc::from("test-tenant")),
            )
            .unwrap()
        })
        .collect();
    events.sort_by_key(|e| e.epoch());
    events
}

fn detector() -> Detector {
    Detector::new(&RuleSet::builtin().unwrap(), DetectorOptions::default()).unwrap()
}

/// What a fresh worker does with the bytes the last one stored.
fn restart(old: &Detector) -> Detector {
    let bytes = old.export_state().to_bytes().unwrap();
    let state = DetectorState::from_bytes(&bytes).unwrap();
    let mut new = detector();
    new.import_state(state).unwrap();
    new
}

/// Rules whose state must span a restart for the comparison to mean something.
fn spans_state(rule_id: &str) -> bool {
    ["password_spray", "brute_force", "impossible_travel"]
        .iter()
        .any(|r| rule_id.ends_with(r))
}

#[test]
fn restarting_from_saved_state_changes_no_alert() {
    let events = demo_events();
    let mut whole = detector();
    for e in &events {
        whole.process(e);
    }
    let want = whole.finish();

    // Restart every 1,000 events, and right after the first event of every correlation and
    // impossible-travel alert, so their state is carried across a restart.
    let position: HashMap<String, usize> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id().into_owned(), i))
        .collect();
    let mut cuts: BTreeSet<usize> = (1..events.len()).step_by(1_000).collect();
    let mut spanning = BTreeSet::new();
    for a in want.iter().filter(|a| spans_state(&a.rule_id)) {
        let at: Vec<usize> = a
            .event_ids
            .iter()
            .filter_map(|id| position.get(id.as_str()).copied())
            .collect();
        let (Some(first), Some(last)) = (at.iter().min(), at.iter().max()) else {
            continue;
        };
        if first < last {
            cuts.insert(first + 1);
            spanning.insert(a.rule_id.rsplit('.').next().unwrap_or_default().to_string());
        }
    }
    assert!(
        spanning.contains("impossible_travel")
            && (spanning.contains("password_spray") || spanning.contains("brute_force")),
        "no correlation and impossible travel across a restart: {spanning:?}"
    );

    let mut restarted = detector();
    for (i, e) in events.iter().enumerate() {
        if cuts.contains(&i) {
            restarted = restart(&restarted);
        }
        restarted.process(e);
    }
    let got = restarted.finish();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "alert {} changed across restarts", w.rule_id);
    }
}

#[test]
fn a_worker_storing_changes_per_batch_ends_with_every_alert() {
    let events = demo_events();
    let mut whole = detector();
    for e in &events {
        whole.process(e);
    }
    let want: BTreeMap<String, Alert> = whole.finish().into_iter().map(|a| (a.key(), a)).collect();

    // The store: alerts upserted by key, and the state saved with them after every batch.
    let mut stored: BTreeMap<String, Alert> = BTreeMap::new();
    let mut saved = detector().export_state().to_bytes().unwrap();
    for batch in events.chunks(2_500) {
        let mut worker = detector();
        worker
            .import_state(DetectorState::from_bytes(&saved).unwrap())
            .unwrap();
        for e in batch {
            worker.process(e);
        }
        let now = batch.last().map_or(0, |e| e.epoch());
        for a in worker.take_changed(now) {
            stored.insert(a.key(), a);
        }
        saved = worker.export_state().to_bytes().unwrap();
    }
    let mut last = detector();
    last.import_state(DetectorState::from_bytes(&saved).unwrap())
        .unwrap();
    for a in last.take_changed(i64::MAX) {
        stored.insert(a.key(), a);
    }
    let missing: Vec<&str> = want
        .iter()
        .filter(|(k, _)| !stored.contains_key(*k))
        .map(|(_, a)| a.rule_id.as_str())
        .collect();
    let extra: Vec<&str> = stored
        .iter()
        .filter(|(k, _)| !want.contains_key(*k))
        .map(|(_, a)| a.rule_id.as_str())
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "not stored: {missing:?}; stored but not raised: {extra:?}"
    );
    for (key, w) in &want {
        assert_eq!(&stored[key], w, "alert {} stored unlike raised", w.rule_id);
    }
}

#[test]
fn changes_are_handed_out_once_under_one_key() {
    let brute = rule_case("mamori.entra-signin.brute_force");
    let fraud = rule_case("mamori.entra-signin.mfa_fraud_reported");
    assert!(brute.len() >= 22);
    let mut d = detector();
    for e in &brute[..20] {
        d.process(e);
    }
    let now = brute[19].epoch();
    let first = d.take_changed(now);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].rule_id, "mamori.entra-signin.brute_force");
    let key = first[0].key();
    // Pinned: a store upserts by this key across releases, so its recipe must not drift.
    assert_eq!(key, "5a54e9a0db42bde3477bff3a0641f987");
    assert!(d.take_changed(now).is_empty(), "nothing changed");

    // Saved untouched, restored untouched.
    let mut d = restart(&d);
    assert!(d.take_changed(now).is_empty(), "a restart is no change");

    d.process(&brute[20]);
    let grown = d.take_changed(brute[20].epoch());
    assert_eq!(grown.len(), 1);
    assert_eq!(grown[0].key(), key);
    assert!(grown[0].count > first[0].count);
    assert_eq!(grown[0].first_epoch, first[0].first_epoch);

    // Changed, then saved before being taken: the restored detector still owes it.
    d.process(&brute[21]);
    let mut d = restart(&d);
    let owed = d.take_changed(brute[21].epoch());
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].key(), key);
    assert!(owed[0].count > grown[0].count);

    // Another alert: only it is handed out, the brute force is untouched.
    d.process(&fraud[0]);
    let other = d.take_changed(brute[21].epoch());
    assert_eq!(other.len(), 1, "{other:?}");
    assert_ne!(other[0].key(), key);
    assert!(d.take_changed(brute[21].epoch()).is_empty());

    // Both close when their window has passed: handed out once more, then never.
    let closed = d.take_changed(brute[21].epoch() + 86_400);
    assert_eq!(closed.len(), 2);
    assert!(closed
        .iter()
        .any(|a| a.key() == key && a.count == owed[0].count));
    assert!(d.take_changed(i64::MAX).is_empty());
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn refused(bytes: &[u8]) -> String {
    match DetectorState::from_bytes(bytes) {
        Err(e @ DetectError::State { .. }) => e.to_string(),
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("accepted {} bytes of garbage", bytes.len()),
    }
}

#[test]
fn garbage_is_refused_not_panicked_on() {
    let good = detector().export_state().to_bytes().unwrap();
    assert!(refused(b"").contains("gzip"));
    assert!(refused(b"{\"version\": 1}").contains("gzip"));
    refused(&good[..good.len() / 2]);
    refused(&good[..2]);
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    refused(&flipped);
    let mut noise = 0x2545_f491_4f6c_dd1d_u64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            noise ^= noise << 13;
            noise ^= noise >> 7;
            noise ^= noise << 17;
            noise as u8
        })
        .collect();
    refused(&random);
    assert!(refused(&gzip(b"not json")).contains("not a detector state"));
    assert!(refused(&gzip(b"[]")).contains("not a detector state"));
    assert!(refused(&gzip(br#"{"version": 99, "shape": "new"}"#)).contains("version 99"));
}

#[test]
fn incompatible_state_is_refused_by_name() {
    let mut d = detector();
    for e in rule_case("mamori.entra-signin.brute_force") {
        d.process(&e);
    }
    let mut state = d.export_state();
    state.version = 2;
    let e = detector().import_state(state).unwrap_err().to_string();
    assert!(e.contains("version 2"), "{e}");

    let mut json = serde_json::to_value(d.export_state()).unwrap();
    json["correlations"]["entra-signin"]["version"] = 99.into();
    let state: DetectorState = serde_json::from_value(json).unwrap();
    let mut fresh = detector();
    let e = fresh.import_state(state).unwrap_err().to_string();
    assert!(e.contains("entra-signin") && e.contains("99"), "{e}");
    assert_eq!(fresh.state_entries(), 0, "a refused state changes nothing");
}
