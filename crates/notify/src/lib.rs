//! Mamori notification delivery.
//!
//! Turns one [`Notification`] about a scan (new high/critical findings,
//! pass→fail regressions, a failed scan) into a message on one customer or
//! operator channel ([`ChannelConfig`]): a signed JSON webhook, a Slack or
//! Microsoft Teams incoming webhook, or an e-mail over SMTP.
//!
//! This crate delivers **one item, once**. It keeps no state: the server's
//! outbox persists notifications, schedules retries with [`retry_delay`] and
//! marks items dead when it returns `None`. [`DeliveryError::retryable`] tells
//! the outbox whether another attempt can help.
//!
//! Secrets (webhook signing secrets, SMTP passwords, the paths of Slack and
//! Teams webhook URLs, which are bearer credentials) never appear in `Debug`
//! output, error messages or logs.

mod config;
mod deliver;
mod render;
mod signature;
pub mod target;

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use config::{ChannelConfig, EmailTls, NotifyError};
pub use deliver::Notifier;
pub use signature::{sign, verify};

/// What happened to the scan.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The scan finished and found new high/critical findings or regressions.
    ScanFindings,
    /// The scan could not run or did not finish.
    ScanFailed,
    /// Threat detection raised new alerts from the tenant's audit logs (`findings` lists them:
    /// `control_id` is the rule, `resource` the entities).
    ThreatAlerts,
    /// The flood guard suspended the tenant's log processing (`error` says why).
    LogsSuspended,
}

impl EventKind {
    /// The wire name (`scan_findings`, `scan_failed`), as sent in the
    /// `X-Mamori-Event` header and in the JSON body.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ScanFindings => "scan_findings",
            EventKind::ScanFailed => "scan_failed",
            EventKind::ThreatAlerts => "threat_alerts",
            EventKind::LogsSuspended => "logs_suspended",
        }
    }
}

/// One alert about one scan. Serialized as-is as the body of a signed webhook.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Notification {
    pub event: EventKind,
    /// Customer display name.
    pub customer: String,
    /// Tenant / domain, e.g. `sakura.onmicrosoft.com`.
    pub tenant: String,
    /// `"m365"` or `"gws"`.
    pub app: String,
    pub scan_id: i64,
    /// RFC 3339 time of the scan.
    pub at: String,
    /// Language of the human text (`"ja"` or `"en"`; anything not starting
    /// with `ja` is rendered in English).
    pub lang: String,
    /// New high/critical findings and regressions.
    #[serde(default)]
    pub findings: Vec<NotifiedFinding>,
    /// Why the scan failed (for [`EventKind::ScanFailed`]).
    #[serde(default)]
    pub error: Option<String>,
    /// Dashboard URL for this scan.
    #[serde(default)]
    pub link: Option<String>,
}

/// One finding in a [`Notification`].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NotifiedFinding {
    pub control_id: String,
    pub title: String,
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub severity: String,
    /// `"new"` or `"regression"` (pass → fail).
    pub change: String,
    pub resource: String,
}

/// Why one delivery attempt failed.
///
/// `message` is safe to store and show: it names the channel kind and the
/// receiving host, never a secret or a full webhook URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryError {
    /// `true` when a later attempt may succeed (timeouts, connection errors,
    /// HTTP 408/429/5xx, SMTP 4xx); `false` for configuration problems and
    /// permanent rejections (other HTTP 4xx, SMTP 5xx, invalid channel).
    pub retryable: bool,
    pub message: String,
}

impl DeliveryError {
    pub(crate) fn retryable(message: impl Into<String>) -> Self {
        DeliveryError {
            retryable: true,
            message: message.into(),
        }
    }

    pub(crate) fn permanent(message: impl Into<String>) -> Self {
        DeliveryError {
            retryable: false,
            message: message.into(),
        }
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeliveryError {}

/// Base delays of the retry schedule, in seconds: 30 s, 2 min, 10 min,
/// 30 min, 2 h, 6 h.
const RETRY_SCHEDULE_S: [u64; 6] = [30, 120, 600, 1_800, 7_200, 21_600];

/// How long to wait before the next attempt, or `None` to give up (the
/// outbox item is dead).
///
/// `attempt` is the number of earlier attempts, i.e. the 0-based index of the
/// attempt that just failed (an outbox `attempts` counter read before it is
/// incremented): `0` (the first delivery failed) gives ~30 s, then `1` ~2 min,
/// `2` ~10 min, `3` ~30 min, `4` ~2 h, `5` ~6 h, and `6` or more `None`, so
/// an item gets 7 attempts over about 9 hours. Each delay is jittered by
/// ±20 % so that items that failed together do not retry in lockstep.
pub fn retry_delay(attempt: u32) -> Option<Duration> {
    let base_ms = RETRY_SCHEDULE_S.get(attempt as usize)? * 1000;
    let factor = 0.8 + fastrand::f64() * 0.4;
    Some(Duration::from_millis((base_ms as f64 * factor) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedule_and_jitter() {
        let expected = [30u64, 120, 600, 1_800, 7_200, 21_600];
        for (i, base) in expected.iter().enumerate() {
            for _ in 0..50 {
                let d = retry_delay(i as u32).unwrap().as_secs_f64();
                let base = *base as f64;
                assert!(
                    d >= base * 0.8 - 0.001 && d <= base * 1.2 + 0.001,
                    "{d} vs {base}"
                );
            }
        }
        assert!(retry_delay(0).unwrap() <= Duration::from_secs(36));
        assert_eq!(retry_delay(6), None);
        assert_eq!(retry_delay(u32::MAX), None);
        // Jitter actually varies.
        let samples: std::collections::HashSet<_> = (0..20).map(|_| retry_delay(3)).collect();
        assert!(samples.len() > 1);
    }

    #[test]
    fn event_kind_wire_names() {
        assert_eq!(
            serde_json::to_string(&EventKind::ScanFindings).unwrap(),
            "\"scan_findings\""
        );
        assert_eq!(EventKind::ScanFailed.as_str(), "scan_failed");
    }
}
