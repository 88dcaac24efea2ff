//! One integration-test binary for the crate (each binary links the whole dependency tree).

mod rules;
mod state;
mod streams;

use mamori_detect::Source;
use mamori_mock_saas::logs::{self, LogSpec};

/// The imitation's demo week (the one `mamori demo` serves), ending 2026-12-07.
fn demo_week() -> LogSpec {
    let now = "2026-12-07T00:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond();
    LogSpec::demo(now)
}

/// The generator's source as Mamori's (same names; mock-saas depends on nothing of Mamori's).
fn source_of(s: logs::Source) -> Source {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .and_then(|s| s.parse().ok())
        .expect("the generator's sources are Mamori's")
}
