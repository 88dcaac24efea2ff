//! Alerts: after a scan, new high/critical failures and regressions (and failed scans) are
//! written to the outbox, one item per channel; a delivery loop sends them with backoff. The
//! scan never waits on a receiver: a dead one only fills its own retry schedule.

use std::time::Duration;

use mamori_core::{Lang, Severity};
use mamori_notify::{ChannelConfig, EventKind, Notification, NotifiedFinding};
use mamori_store::Tenant;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::WorkState;

/// What is stored (encrypted) per channel: where to send and in which language.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredChannel {
    #[serde(default = "default_lang")]
    pub lang: String,
    pub config: ChannelConfig,
}

fn default_lang() -> String {
    "ja".into()
}

/// Queues the alerts of a finished scan (its drift against the previous one).
pub async fn scan_findings(state: &WorkState, tenant: &Tenant, scan_id: i64) {
    let drift = match state.store.drift(scan_id).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(scan = scan_id, error = %e, "drift for notifications");
            return;
        }
    };
    let mut changes: Vec<(String, Severity, &'static str)> = Vec::new();
    for item in &drift.new_failures {
        if item.severity.rank() <= Severity::High.rank() {
            changes.push((item.control_id.clone(), item.severity, "new"));
        }
    }
    for item in &drift.regressions {
        changes.push((item.control_id.clone(), item.severity, "regression"));
    }
    if changes.is_empty() {
        return;
    }
    enqueue(
        state,
        tenant,
        scan_id,
        EventKind::ScanFindings,
        &changes,
        None,
    )
    .await;
}

/// Queues the alert of a failed scan.
pub async fn scan_failed(state: &WorkState, tenant_id: i64, scan_id: i64, error: &str) {
    if let Ok(Some(tenant)) = state.store.get_tenant(tenant_id).await {
        enqueue(
            state,
            &tenant,
            scan_id,
            EventKind::ScanFailed,
            &[],
            Some(error),
        )
        .await;
    }
}

async fn enqueue(
    state: &WorkState,
    tenant: &Tenant,
    scan_id: i64,
    event: EventKind,
    changes: &[(String, Severity, &'static str)],
    error: Option<&str>,
) {
    let message = Message {
        event,
        scan_id,
        path: format!("/scans/{scan_id}"),
        error,
        operators_only: false,
    };
    enqueue_with(state, tenant, message, |lang, min| {
        changes
            .iter()
            .filter(|(_, severity, _)| severity.rank() <= min.rank())
            .map(|(control, severity, change)| NotifiedFinding {
                control_id: control.clone(),
                title: state.catalog.title(control, lang),
                severity: severity.as_str().to_string(),
                change: change.to_string(),
                resource: String::new(),
            })
            .collect()
    })
    .await;
}

/// What a notification is about, apart from the items each channel gets.
pub(crate) struct Message<'a> {
    pub event: EventKind,
    /// 0 when it concerns no scan.
    pub scan_id: i64,
    /// The dashboard page it links to (`/scans/7`).
    pub path: String,
    pub error: Option<&'a str>,
    /// Only operator-wide channels get it.
    pub operators_only: bool,
}

/// Queues `message` for every enabled channel of the tenant's customer (and operator-wide
/// ones), each with the items `items(lang, lowest severity)` gives for it; a channel with no
/// item and no error gets nothing.
pub(crate) async fn enqueue_with(
    state: &WorkState,
    tenant: &Tenant,
    message: Message<'_>,
    items: impl Fn(Lang, Severity) -> Vec<NotifiedFinding>,
) {
    let channels = match state.store.channels_for_customer(tenant.customer_id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "notification channels");
            return;
        }
    };
    let customer = state
        .store
        .get_customer(tenant.customer_id)
        .await
        .ok()
        .flatten();
    for channel in channels {
        if message.operators_only && channel.customer_id.is_some() {
            continue;
        }
        let Ok(stored) = load_channel(state, channel.id).await else {
            tracing::warn!(
                channel = channel.id,
                "notification channel configuration unreadable"
            );
            continue;
        };
        let lang = if stored.lang == "en" {
            Lang::En
        } else {
            Lang::Ja
        };
        let findings = items(lang, channel.min_severity);
        if findings.is_empty() && message.error.is_none() {
            continue;
        }
        let customer_name = customer
            .as_ref()
            .map(|c| crate::customer_name(lang, &c.name, c.name_ja.as_deref()).to_string())
            .unwrap_or_default();
        let notification = Notification {
            event: message.event,
            customer: customer_name,
            tenant: tenant.display_name.clone(),
            app: tenant.app.as_str().to_string(),
            scan_id: message.scan_id,
            at: jiff::Timestamp::now().to_string(),
            lang: lang.code().to_string(),
            findings,
            error: message.error.map(str::to_string),
            link: state
                .config
                .public_url
                .as_ref()
                .map(|u| format!("{}{}", u.trim_end_matches('/'), message.path)),
        };
        let payload = match serde_json::to_value(&notification) {
            Ok(v) => v,
            Err(_) => continue,
        };
        if let Err(e) = state.store.enqueue_notification(channel.id, &payload).await {
            tracing::warn!(channel = channel.id, error = %e, "queueing a notification");
        }
    }
}

pub(crate) async fn load_channel(
    state: &WorkState,
    channel_id: i64,
) -> anyhow::Result<StoredChannel> {
    let bytes = state.store.channel_config(&state.key, channel_id).await?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// Delivers due outbox items until `stop`; each failure is rescheduled by
/// [`mamori_notify::retry_delay`], and an item out of retries is marked dead.
pub async fn run_delivery(state: WorkState, mut stop: watch::Receiver<bool>) {
    let worker = format!("{}-notify", state.config.worker_id);
    loop {
        if *stop.borrow() {
            break;
        }
        let items = state
            .store
            .claim_notifications(&worker, 20, Duration::from_secs(120))
            .await
            .unwrap_or_default();
        let busy = !items.is_empty();
        for item in items {
            let outcome = match load_channel(&state, item.channel_id).await {
                Ok(channel) => match serde_json::from_value::<Notification>(item.payload.clone()) {
                    Ok(n) => state
                        .notifier
                        .deliver(&channel.config, &n)
                        .await
                        .map_err(|e| (e.retryable, e.message)),
                    Err(e) => Err((false, format!("unreadable notification: {e}"))),
                },
                Err(e) => Err((false, format!("channel unavailable: {e:#}"))),
            };
            let result = match outcome {
                Ok(()) => {
                    Metrics::inc(&state.metrics.notifications_sent);
                    state.store.mark_notification_sent(item.id).await
                }
                Err((retryable, message)) => {
                    let delay = if retryable {
                        mamori_notify::retry_delay(item.attempts as u32)
                    } else {
                        None
                    };
                    let retry_at = delay.and_then(|d| {
                        jiff::Timestamp::now()
                            .checked_add(jiff::SignedDuration::try_from(d).ok()?)
                            .ok()
                    });
                    if retry_at.is_some() {
                        Metrics::inc(&state.metrics.notifications_failed);
                    } else {
                        Metrics::inc(&state.metrics.notifications_dead);
                    }
                    tracing::warn!(item = item.id, channel = item.channel_id, retryable, error = %message,
                        "notification not delivered");
                    state
                        .store
                        .mark_notification_failed(item.id, &message, retry_at)
                        .await
                }
            };
            if let Err(e) = result {
                tracing::warn!(item = item.id, error = %e, "recording a delivery");
            }
        }
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
