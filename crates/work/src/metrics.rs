//! The process's counters and the HTTP latency histogram, rendered in the Prometheus text
//! format. The background work counts scans, jobs, notifications and expiries here; the web
//! layer (`mamori-server`) records HTTP requests and serves the result at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    pub scans_succeeded: AtomicU64,
    pub scans_failed: AtomicU64,
    pub scans_lease_lost: AtomicU64,
    pub jobs_enqueued: AtomicU64,
    pub notifications_sent: AtomicU64,
    pub notifications_failed: AtomicU64,
    pub notifications_dead: AtomicU64,
    pub exceptions_expired: AtomicU64,
    pub log_events: AtomicU64,
    pub alerts_raised: AtomicU64,
    pub log_suspensions: AtomicU64,
}

impl Metrics {
    pub fn observe_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut m) = self.http.lock() {
            *m.entry((method.to_string(), route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry(route.to_string()).or_default();
            let secs = elapsed.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition, with `jobs` (queue counts by status) as a gauge.
    pub fn render(&self, jobs: &[(String, i64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP mamori_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE mamori_http_requests_total counter");
        if let Ok(m) = self.http.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "mamori_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mamori_http_request_duration_seconds Time to answer, by route."
        );
        let _ = writeln!(out, "# TYPE mamori_http_request_duration_seconds histogram");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                let route = escape(route);
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "mamori_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "mamori_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "mamori_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "mamori_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        let counters = [
            (
                "mamori_scans_total",
                "Scans finished by this process.",
                vec![
                    ("result=\"succeeded\"", &self.scans_succeeded),
                    ("result=\"failed\"", &self.scans_failed),
                    ("result=\"lease_lost\"", &self.scans_lease_lost),
                ],
            ),
            (
                "mamori_jobs_enqueued_total",
                "Scan jobs this process's scheduler queued.",
                vec![("", &self.jobs_enqueued)],
            ),
            (
                "mamori_notifications_total",
                "Notification delivery attempts by result.",
                vec![
                    ("result=\"sent\"", &self.notifications_sent),
                    ("result=\"retry\"", &self.notifications_failed),
                    ("result=\"dead\"", &self.notifications_dead),
                ],
            ),
            (
                "mamori_exceptions_expired_total",
                "Risk acceptances this process expired.",
                vec![("", &self.exceptions_expired)],
            ),
            (
                "mamori_log_events_total",
                "Audit-log events this process ran through detection (after deduplication).",
                vec![("", &self.log_events)],
            ),
            (
                "mamori_alerts_raised_total",
                "Threat alerts this process raised.",
                vec![("", &self.alerts_raised)],
            ),
            (
                "mamori_log_suspensions_total",
                "Tenants whose log processing the flood guard suspended.",
                vec![("", &self.log_suspensions)],
            ),
        ];
        for (name, help, series) in counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            for (labels, v) in series {
                let v = v.load(Ordering::Relaxed);
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {v}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP mamori_jobs Scan jobs in the shared queue by status."
        );
        let _ = writeln!(out, "# TYPE mamori_jobs gauge");
        for (status, n) in jobs {
            let _ = writeln!(out, "mamori_jobs{{status=\"{}\"}} {n}", escape(status));
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
