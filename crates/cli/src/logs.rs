//! Pulling a tenant's audit logs through the connectors and running the detector over them
//! (used by `mamori demo`; the service will store records and checkpoints instead).

use anyhow::{Context, Result};
use mamori_connect::logs::{pull, sink_fn, Batch, LogCheckpoint, LogSource, SinkError};
use mamori_connect::AppConfig;
use mamori_detect::{normalise, Alert, Detector, DetectorOptions, RuleSet};

/// What one application's logs gave.
pub struct Detected {
    pub alerts: Vec<Alert>,
    pub events: usize,
    /// Per source: records pulled, or why the pull failed.
    pub sources: Vec<(LogSource, std::result::Result<usize, String>)>,
}

/// Pulls every log source of `config`'s application from `since` to `until` and detects on
/// them as one tenant.
pub async fn pull_and_detect(
    config: &AppConfig,
    tenant: &str,
    since: jiff::Timestamp,
    until: jiff::Timestamp,
    rules: &RuleSet,
) -> Result<Detected> {
    let mut events = Vec::new();
    let mut sources = Vec::new();
    let tenant_name: std::sync::Arc<str> = tenant.into();
    for source in LogSource::of_app(config.app()) {
        let mut records: Vec<serde_json::Value> = Vec::new();
        let mut sink = sink_fn(|batch: Batch| -> std::result::Result<(), SinkError> {
            records.extend(batch.records);
            Ok(())
        });
        let checkpoint = LogCheckpoint::new(tenant, source, since);
        let pulled = pull(config, source, &checkpoint, until, &mut sink).await;
        match pulled {
            Ok((_, outcome)) => {
                let errors: Vec<String> = outcome
                    .errors()
                    .map(|(stream, e)| format!("{stream}: {}", e.message))
                    .collect();
                if errors.is_empty() {
                    sources.push((source, Ok(records.len())));
                } else {
                    sources.push((source, Err(errors.join("; "))));
                }
            }
            Err(e) => sources.push((source, Err(format!("{e:#}")))),
        }
        for record in records {
            if let Ok(list) = normalise(source, record, Some(&tenant_name)) {
                events.extend(list);
            }
        }
    }
    events.sort_by_key(|e| e.epoch());
    let mut detector =
        Detector::new(rules, DetectorOptions::default()).context("compiling the rules")?;
    for e in &events {
        detector.process(e);
    }
    Ok(Detected {
        alerts: detector.finish(),
        events: events.len(),
        sources,
    })
}
