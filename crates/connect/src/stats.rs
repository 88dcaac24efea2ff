//! Request accounting and progress events.
//!
//! Every request a connector makes is counted against the snapshot section it serves, so a
//! scan can say where its requests and its throttling waits went.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// What happened, for progress displays. Observers must be cheap: they run on the request path.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    SectionStarted { section: &'a str },
    SectionFinished { section: &'a str, ok: bool },
    Request { section: &'a str },
    Throttled { section: &'a str, wait: Duration },
    Retrying { section: &'a str, reason: &'a str },
}

pub trait Observer: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// An observer that ignores everything (the default).
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &Event<'_>) {}
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SectionStats {
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub throttle_wait_ms: u64,
}

#[derive(Default)]
pub struct Stats {
    sections: Mutex<BTreeMap<String, SectionStats>>,
}

impl Stats {
    fn with(&self, section: &str, f: impl FnOnce(&mut SectionStats)) {
        let mut map = self.sections.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(section) {
            Some(s) => f(s),
            None => f(map.entry(section.to_string()).or_default()),
        }
    }

    pub fn request(&self, section: &str) {
        self.with(section, |s| s.requests += 1);
    }

    pub fn retry(&self, section: &str) {
        self.with(section, |s| s.retries += 1);
    }

    pub fn throttled(&self, section: &str, wait: Duration) {
        self.with(section, |s| {
            s.throttled += 1;
            s.throttle_wait_ms += wait.as_millis() as u64;
        });
    }

    pub fn snapshot(&self) -> BTreeMap<String, SectionStats> {
        self.sections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn total_requests(&self) -> u64 {
        self.snapshot().values().map(|s| s.requests).sum()
    }
}
