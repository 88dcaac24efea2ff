//! Threat detection from SaaS audit logs.
//!
//! Records are read ([`read`]), normalised per source into the vendor's record plus a common
//! envelope ([`source`]), matched by Sigma detection and correlation rules through rsigma
//! ([`rules`], [`detector`]), and raised as deduplicated alerts.
//!
//! ```no_run
//! use mamori_detect::{detect_files, RuleSet, Source, DetectorOptions};
//! let rules = RuleSet::builtin()?;
//! let run = detect_files(&rules, Source::EntraSignin, &["signins.json".into()], None,
//!                        DetectorOptions::default(), mamori_detect::read::DEFAULT_MAX_INPUT_BYTES)?;
//! for alert in &run.alerts { println!("{} {}", alert.rule_id, alert.count); }
//! # Ok::<(), mamori_detect::DetectError>(())
//! ```

pub mod detector;
mod error;
pub mod fields;
pub mod ocsf;
pub mod read;
pub mod record;
pub mod rules;
pub mod source;
pub mod stateful;

pub use detector::{Alert, AlertKind, Detector, DetectorOptions, DetectorState};
pub use error::DetectError;
pub use fields::{normalise_line, parse_record, FieldFilter};
pub use read::Quarantined;
pub use record::Record;
pub use rules::{severity_of_level, RuleMeta, RuleSet};
pub use source::{normalise, Event, Source};

use std::collections::HashSet;
use std::path::PathBuf;

/// What a run over files found.
#[derive(Debug, Default)]
pub struct Run {
    pub alerts: Vec<Alert>,
    /// Records read (before Google Workspace activities are split into their events).
    pub records: u64,
    /// Events the rules saw.
    pub events: u64,
    /// Events seen twice (same id) and evaluated once.
    pub duplicates: u64,
    pub quarantined: Vec<Quarantined>,
}

/// Reads every file, normalises its records, drops repeated event ids, puts the events in time
/// order and runs one tenant's detector over them. A file that cannot be read stops the run
/// with an error naming it; bad records inside good files are quarantined.
pub fn detect_files(
    rules: &RuleSet,
    source: Source,
    files: &[PathBuf],
    tenant: Option<&str>,
    options: DetectorOptions,
    max_bytes: u64,
) -> Result<Run, DetectError> {
    let mut run = Run::default();
    let mut events = Vec::new();
    let mut seen = HashSet::new();
    let tenant: Option<std::sync::Arc<str>> = tenant.map(Into::into);
    for file in files {
        let records = read::read_file(file, max_bytes)?;
        run.quarantined.extend(records.quarantined);
        let name = file.display().to_string();
        for (position, record) in records.records {
            run.records += 1;
            match normalise(source, record, tenant.as_ref()) {
                Ok(list) => {
                    for event in list {
                        if seen.insert(event.id().into_owned()) {
                            events.push(event);
                        } else {
                            run.duplicates += 1;
                        }
                    }
                }
                Err(rejected) => run.quarantined.push(Quarantined {
                    file: name.clone(),
                    position,
                    reason: rejected.why.0,
                    raw: read::keep(&rejected.record.to_string()),
                }),
            }
        }
    }
    // Quarantined records in file order, whether the reader or the normaliser refused them.
    run.quarantined.sort_by_key(|q| {
        let n: u64 = q
            .position
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        (
            files.iter().position(|f| f.display().to_string() == q.file),
            n,
        )
    });
    // Graph returns the newest first; correlation windows need event time order.
    events.sort_by_key(|e| e.epoch());
    let mut detector = Detector::new(rules, options)?;
    for event in &events {
        detector.process(event);
    }
    run.events = events.len() as u64;
    run.alerts = detector.finish();
    Ok(run)
}

/// Hash maps of Mamori's detection state (open alerts, stateful tables). Their keys come from
/// audit logs an attacker can write into, so the hasher is seeded at random per map (foldhash;
/// a fraction of SipHash's cost, which was a tenth of the detector's time).
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
