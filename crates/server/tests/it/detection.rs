//! Threat detection inside the running service: pushed batches go through the spool to the log
//! workers, raise alerts once (a batch pushed twice adds nothing), malformed lines are
//! quarantined and counted; the flood guard throttles and suspends a flooding tenant, whose
//! backlog never delays another tenant's detection beyond the stated bound.

use std::io::Write;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use mamori_core::LogSource;
use mamori_store::{AlertFilter, GuardState, Scope, Store};
use mamori_work::logs::{GuardConfig, LogsConfig};

use crate::common::{Options, World};

/// The detection latency another tenant keeps while one tenant floods the spool: its batch is
/// processed after at most one batch of each queue served before it (fair order), so on these
/// 2-core machines a few seconds; the bound leaves room for a loaded CI machine.
const LATENCY_BOUND: Duration = Duration::from_secs(30);

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn spray_lines() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../rules/tests/mamori.entra-signin.password_spray/positive.jsonl");
    std::fs::read_to_string(dir).unwrap()
}

async fn spool(store: &Store, tenant: i64, text: &str) -> i64 {
    let events = text.lines().filter(|l| !l.trim().is_empty()).count() as i64;
    store
        .spool_log_batch(
            tenant,
            LogSource::EntraSignin,
            &gzip(text),
            events,
            text.len() as i64,
        )
        .await
        .unwrap()
}

async fn wait_spool_empty(store: &Store, what: &str) {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(60);
    let mut report = started;
    loop {
        let depth = store.spool_depth(None).await.unwrap().0;
        if depth == 0 {
            break;
        }
        if report.elapsed() > Duration::from_secs(5) {
            eprintln!("{what}: {depth} batches left after {:?}", started.elapsed());
            report = Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the spool was not consumed in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn logs_config(guard: GuardConfig) -> LogsConfig {
    LogsConfig {
        guard,
        ..LogsConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_logs_raise_alerts_once_and_quarantine_bad_lines() {
    let w = World::start().await;
    let s = &w.store;
    // Two gzip members (a pusher that compresses per chunk), with two lines that are not
    // JSON objects among the records.
    let lines = spray_lines();
    let half = lines.len() / 2;
    let cut = half + lines[half..].find('\n').unwrap() + 1;
    let second = format!("{}this is not json\n[1, 2]\n", &lines[cut..]);
    let body = [gzip(&lines[..cut]), gzip(&second)].concat();
    s.spool_log_batch(
        w.tenant_a,
        LogSource::EntraSignin,
        &body,
        14,
        (cut + second.len()) as i64,
    )
    .await
    .unwrap();
    wait_spool_empty(s, "first push").await;
    let filter = AlertFilter {
        tenant_id: Some(w.tenant_a),
        ..AlertFilter::default()
    };
    let alerts = s.list_alerts(Scope::All, &filter, 100, 0).await.unwrap();
    let spray: Vec<_> = alerts
        .iter()
        .filter(|a| a.rule_id == "mamori.entra-signin.password_spray")
        .collect();
    assert_eq!(spray.len(), 1, "{alerts:#?}");
    assert_eq!(spray[0].entities["ipAddress"], "203.0.113.50");
    assert!(spray[0].count >= 10, "{:?}", spray[0]);
    let history = s.alert_history(Scope::All, spray[0].id).await.unwrap();
    assert_eq!(history[0].to_status, "open");
    let stream = s
        .log_stream(w.tenant_a, LogSource::EntraSignin)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.events, 12);
    assert_eq!(stream.duplicates, 0);
    // The two lines that are not JSON objects: quarantined and counted, never dropped silently.
    assert_eq!(stream.quarantined, 2);
    let kept = s
        .list_log_quarantine(Scope::All, w.tenant_a, 10)
        .await
        .unwrap();
    let raws: Vec<&str> = kept.iter().map(|q| q.raw.as_str()).collect();
    assert_eq!(raws, ["[1, 2]", "this is not json"], "{kept:?}");
    assert!(kept[1].reason.contains("not JSON"), "{}", kept[1].reason);
    // Tenant B saw nothing.
    let b = AlertFilter {
        tenant_id: Some(w.tenant_b),
        ..AlertFilter::default()
    };
    assert!(s
        .list_alerts(Scope::All, &b, 100, 0)
        .await
        .unwrap()
        .is_empty());

    // The same batch pushed again: every event is a duplicate; no alert is added or grown.
    spool(s, w.tenant_a, &spray_lines()).await;
    wait_spool_empty(s, "second push").await;
    let stream = s
        .log_stream(w.tenant_a, LogSource::EntraSignin)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stream.events, stream.duplicates), (12, 12));
    let again = s.list_alerts(Scope::All, &filter, 100, 0).await.unwrap();
    assert_eq!(again.len(), alerts.len());
    let grown = again.iter().find(|a| a.id == spray[0].id).unwrap();
    assert_eq!(grown.count, spray[0].count);
}

/// Sign-ins of one tenant, all distinct, none suspicious on its own.
fn flood_batch(batch: usize, size: usize) -> String {
    let start = Timestamp::from_second(1_795_000_000).unwrap();
    let mut out = String::with_capacity(size * 300);
    for i in 0..size {
        let n = batch * size + i;
        let at = start + SignedDuration::from_secs(n as i64);
        out.push_str(&format!(
            "{{\"id\": \"flood-{n}\", \"createdDateTime\": \"{at}\", \"userPrincipalName\": \"user{}@flood.example\", \
             \"ipAddress\": \"198.51.100.{}\", \"appDisplayName\": \"Office 365 Exchange Online\", \
             \"status\": {{\"errorCode\": 0}}, \"location\": {{\"city\": \"Tokyo\", \"countryOrRegion\": \"JP\"}}}}\n",
            n % 200,
            n % 250
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_tenant_is_throttled_then_suspended_without_delaying_the_others() {
    let guard = GuardConfig {
        window_minutes: 3,
        throttle_events_per_minute: 10_000,
        suspend_events_per_minute: 50_000,
        ..GuardConfig::default()
    };
    let w = World::start_with(Options {
        logs: logs_config(guard),
        ..Options::default()
    })
    .await;
    let s = &w.store;
    let (flooder, quiet) = (w.tenant_a, w.tenant_b);

    // A backlog of 40 batches × 2,000 events from the flooder, then one batch from the other
    // tenant: it is detected within the bound, long before the backlog is through.
    for batch in 0..40 {
        spool(s, flooder, &flood_batch(batch, 2_000)).await;
    }
    let pushed = Instant::now();
    spool(s, quiet, &spray_lines()).await;
    let filter = AlertFilter {
        tenant_id: Some(quiet),
        ..AlertFilter::default()
    };
    let latency = loop {
        if !s
            .list_alerts(Scope::All, &filter, 10, 0)
            .await
            .unwrap()
            .is_empty()
        {
            break pushed.elapsed();
        }
        assert!(
            pushed.elapsed() < LATENCY_BOUND,
            "the quiet tenant's alert took over {LATENCY_BOUND:?} behind a flood"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let left = s.spool_depth(Some(flooder)).await.unwrap().0;
    eprintln!("detection latency of the quiet tenant behind a 40-batch flood: {latency:?} ({left} flood batches still queued)");
    assert!(
        left > 0,
        "the flood's backlog was not ahead of the quiet tenant's batch"
    );

    // Metering shows the flood; the guard throttles at 10,000/min and suspends at 50,000/min
    // sustained over 3 complete minutes. Tenant B is never touched.
    let now = Timestamp::now();
    for m in 1..=3 {
        s.meter_logs(
            flooder,
            now - SignedDuration::from_mins(m),
            20_000,
            8_000_000,
        )
        .await
        .unwrap();
    }
    let tick = mamori_work::logs::run_guard(&w.state.work, now)
        .await
        .unwrap();
    assert_eq!(tick.throttled, vec![flooder]);
    let g = s.log_guard(flooder).await.unwrap().unwrap();
    assert_eq!(g.effective(now), GuardState::Throttled);
    assert!(g.reason.contains("20000 events per minute"), "{}", g.reason);
    for m in 1..=3 {
        s.meter_logs(
            flooder,
            now - SignedDuration::from_mins(m),
            40_000,
            16_000_000,
        )
        .await
        .unwrap();
    }
    let tick = mamori_work::logs::run_guard(&w.state.work, now)
        .await
        .unwrap();
    assert_eq!(tick.suspended, vec![flooder]);
    assert!(s.log_guard(quiet).await.unwrap().is_none());
    let audit = s.list_audit(Scope::All, 50).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "logs.suspended"));
    // A second pass changes nothing; a suspended tenant's batches wait in the spool.
    let tick = mamori_work::logs::run_guard(&w.state.work, now)
        .await
        .unwrap();
    assert!(tick.suspended.is_empty() && tick.throttled.is_empty());
    let waiting = s.spool_depth(Some(flooder)).await.unwrap().0;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = s.spool_depth(Some(flooder)).await.unwrap().0;
    assert!(
        still >= waiting.saturating_sub(1),
        "a suspended tenant's batches are not processed ({waiting} → {still})"
    );
    // Posture scans are not suspended by a log flood.
    let scan = w.scan(flooder).await;
    assert!(scan > 0);
    // An operator resumes it; the backlog drains, and the minutes metered before the resume
    // do not suspend it again.
    s.set_log_guard(flooder, GuardState::Normal, "resumed", None, None)
        .await
        .unwrap();
    wait_spool_empty(s, "after resuming").await;
    let tick = mamori_work::logs::run_guard(&w.state.work, Timestamp::now())
        .await
        .unwrap();
    assert!(tick.suspended.is_empty(), "{tick:?}");
    let stream = s
        .log_stream(flooder, LogSource::EntraSignin)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.events, 80_000);
}
