//! The service's main loop end to end over HTTP: scans through the queue, findings, a risk
//! acceptance requested and approved by two people, a settings change that regresses controls
//! (drift, changed settings, score), a signed webhook for it while a dead receiver waits its
//! retry, expiry reopening the accepted findings, and the scheduler queueing each cron slot once.

use crate::common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use common::*;
use mamori_connect::collection::Collected;
use mamori_connect::HttpSettings;
use mamori_store::{App, Scope};
use mamori_work::{Collector, ConnectorCollector};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The real connector against the imitation, with the tenant's conditional access policies
/// and privileged role assignments deleted once `break_ca` is set (an admin "cleaning up"
/// between two scans: MS.AAD.7.1v1, two to eight global admins, regresses).
struct Scripted {
    break_ca: Arc<AtomicBool>,
}

impl Collector for Scripted {
    fn collect<'a>(
        &'a self,
        app: App,
        credentials: &'a [u8],
        settings: HttpSettings,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<Collected>> + Send + 'a>>
    {
        Box::pin(async move {
            let mut c = ConnectorCollector
                .collect(app, credentials, settings)
                .await?;
            if self.break_ca.load(Ordering::SeqCst) {
                c.collection
                    .data
                    .insert("conditional_access_policies".into(), json!([]));
                c.collection
                    .data
                    .insert("privileged_users".into(), json!({}));
            }
            Ok(c)
        })
    }
}

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn webhook_receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

const SECRET: &str = "a-webhook-secret-of-some-length";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_accept_regress_notify_expire() {
    let break_ca = Arc::new(AtomicBool::new(false));
    let w = World::start_with(Options {
        collector: Arc::new(Scripted {
            break_ca: break_ca.clone(),
        }),
        tick: Duration::from_secs(3600),
        ..Options::default()
    })
    .await;
    let (oa, an, ca) = (w.actor("OA"), w.actor("AN"), w.actor("CA"));

    // Channels: a live signed webhook and a dead one (nothing listens on port 9).
    let (url, received) = webhook_receiver().await;
    for (name, url) in [("live", url.as_str()), ("dead", "http://127.0.0.1:9/hook")] {
        let (status, body) = w
            .call(
                oa,
                "POST",
                "/api/v1/notification-channels",
                Some(json!({
                "name": name, "customer_id": w.customer_a, "min_severity": "low", "lang": "ja",
                "config": {"kind": "webhook", "url": url, "secret": SECRET}})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    // The first scan's findings; the analyst asks to accept one control, the customer approves.
    let (_, findings) = w
        .call(
            ca,
            "GET",
            &format!(
                "/api/v1/findings?tenant_id={}&status=active&limit=500",
                w.tenant_a
            ),
            None,
        )
        .await;
    let before_total = findings["total"].as_i64().unwrap();
    assert!(before_total > 0);
    // A control the settings change below does not touch.
    let target = items(&findings)
        .into_iter()
        .find(|f| {
            !f["finding"]["control_id"]
                .as_str()
                .unwrap()
                .starts_with("MS.AAD")
        })
        .expect("a finding outside Entra ID");
    let control = target["finding"]["control_id"]
        .as_str()
        .unwrap()
        .to_string();
    let finding_id = target["finding"]["id"].as_i64().unwrap();
    let (status, requested) = w
        .call(an, "POST", "/api/v1/exceptions", Some(json!({
            "tenant_id": w.tenant_a, "control_id": control, "reason": "代替統制あり / compensating control",
            "expires_at": in_days(30)})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{requested}");
    let exception_id = requested["id"].as_i64().unwrap();
    let (status, _) = w
        .call(
            an,
            "POST",
            &format!("/api/v1/exceptions/{exception_id}/approve"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the requester cannot approve");
    let (status, approved) = w
        .call(
            ca,
            "POST",
            &format!("/api/v1/exceptions/{exception_id}/approve"),
            Some(json!({"note": "OK"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    let (status, _) = w
        .call(
            oa,
            "POST",
            &format!("/api/v1/exceptions/{exception_id}/approve"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "decided once");
    let (_, f) = w
        .call(ca, "GET", &format!("/api/v1/findings/{finding_id}"), None)
        .await;
    assert_eq!(f["finding"]["accepted_exception_id"], exception_id, "{f}");
    assert!(
        f["control"]["remediation"]["ja"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "remediation in Japanese"
    );
    let (_, accepted) = w
        .call(ca, "GET", "/api/v1/findings?accepted=true&limit=500", None)
        .await;
    assert!(items(&accepted)
        .iter()
        .any(|x| x["finding"]["id"] == finding_id));

    // An admin deletes the conditional access policies; the next scan sees it.
    break_ca.store(true, Ordering::SeqCst);
    let second = w.scan(w.tenant_a).await;
    let (_, scan) = w
        .call(oa, "GET", &format!("/api/v1/scans/{second}"), None)
        .await;
    assert_eq!(scan["status"], "succeeded", "{scan}");
    let (_, drift) = w
        .call(ca, "GET", &format!("/api/v1/scans/{second}/drift"), None)
        .await;
    assert_eq!(drift["previous_scan_id"], w.scan_a);
    let regressions: Vec<String> = drift["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["control_id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !regressions.is_empty(),
        "deleting CA policies regresses controls: {drift}"
    );
    assert!(
        drift["changed_settings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["section"] == "conditional_access_policies"),
        "{drift}"
    );
    let (_, f) = w
        .call(ca, "GET", &format!("/api/v1/findings/{finding_id}"), None)
        .await;
    assert_eq!(
        f["finding"]["accepted_exception_id"], exception_id,
        "still accepted after a rescan"
    );

    // Scores over time: two points; the second counts the accepted control as earned (and the
    // regression of MS.AAD.7.1v1 against the fix of MS.AAD.7.3v1 the same change brings).
    let (_, scores) = w
        .call(
            ca,
            "GET",
            &format!("/api/v1/tenants/{}/scores", w.tenant_a),
            None,
        )
        .await;
    let points = items(&scores);
    assert_eq!(points.len(), 2, "{scores}");
    assert_eq!(points[0]["accepted"], 0, "{scores}");
    assert_eq!(points[1]["accepted"], 1, "{scores}");
    assert_ne!(points[1]["score"], points[0]["score"], "{scores}");

    // The live webhook gets the regressions, signed; the dead one waits for its retry.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while received.lock().unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no webhook delivery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (headers, body) = received.lock().unwrap()[0].clone();
    let ts = headers["x-mamori-timestamp"].to_str().unwrap();
    let sig = headers["x-mamori-signature"].to_str().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!(
        mamori_notify::verify(SECRET.as_bytes(), ts, sig, &body, now, 300),
        "valid HMAC"
    );
    let n: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(n["event"], "scan_findings");
    assert_eq!(n["scan_id"], second);
    assert_eq!(n["link"], format!("https://mamori.example/scans/{second}"));
    let notified: Vec<&str> = n["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["change"] == "regression")
        .map(|f| f["control_id"].as_str().unwrap())
        .collect();
    assert!(
        regressions.iter().any(|r| notified.contains(&r.as_str())),
        "{n}"
    );
    let outbox = w.store.list_outbox(Scope::All, 50).await.unwrap();
    let dead: Vec<_> = outbox.iter().filter(|o| o.status != "sent").collect();
    assert!(
        !dead.is_empty()
            && dead
                .iter()
                .all(|o| o.attempts >= 1 && o.last_error.is_some()),
        "{outbox:?}"
    );

    // A year later the acceptance has expired: the findings are open again, flagged for review.
    let later = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * 31))
        .unwrap();
    let tick = mamori_work::scheduler::tick(&w.state, later, &mut HashMap::new())
        .await
        .unwrap();
    assert_eq!(tick.expired_exceptions, 1);
    let (_, e) = w
        .call(
            ca,
            "GET",
            &format!("/api/v1/exceptions/{exception_id}"),
            None,
        )
        .await;
    assert_eq!(
        (e["status"].as_str(), e["needs_review"].as_bool()),
        (Some("expired"), Some(true)),
        "{e}"
    );
    let (_, f) = w
        .call(ca, "GET", &format!("/api/v1/findings/{finding_id}"), None)
        .await;
    assert_eq!(f["finding"]["finding"]["status"], "reopened", "{f}");
    assert!(f["finding"]["accepted_exception_id"].is_null());
    let history: Vec<String> = f["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["note"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(history.iter().any(|h| h.contains("expired")), "{history:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cron_slot_is_queued_once_across_schedulers() {
    let w = World::start_with(Options {
        tick: Duration::from_secs(3600),
        ..Options::default()
    })
    .await;
    let oa = w.actor("OA");
    let (status, body) = w
        .call(
            oa,
            "PUT",
            &format!("/api/v1/tenants/{}/schedule", w.tenant_a),
            Some(json!({"cron": "*/5 * * * *", "time_zone": "Asia/Tokyo"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = w
        .call(
            oa,
            "PUT",
            &format!("/api/v1/tenants/{}/schedule", w.tenant_a),
            Some(json!({"cron": "61 * * * *"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an impossible schedule is refused: {body}"
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("minute"));

    let jobs = |w: &World| {
        let store = w.store.clone();
        let tenant = w.tenant_a;
        async move {
            store
                .list_jobs(Scope::All, None, 10_000)
                .await
                .unwrap()
                .into_iter()
                .filter(|j| j.tenant_id == tenant && j.scheduled_for.is_some())
                .count()
        }
    };
    let t0 = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_mins(10))
        .unwrap();
    // Two schedulers (separate caches, as in two processes) tick at the same moment.
    let (mut cache_a, mut cache_b) = (HashMap::new(), HashMap::new());
    let (a, b) = tokio::join!(
        mamori_work::scheduler::tick(&w.state, t0, &mut cache_a),
        mamori_work::scheduler::tick(&w.state, t0, &mut cache_b),
    );
    assert_eq!(
        a.unwrap().enqueued + b.unwrap().enqueued,
        1,
        "one job for the due slot"
    );
    assert_eq!(jobs(&w).await, 1);
    mamori_work::scheduler::tick(&w.state, t0, &mut HashMap::new())
        .await
        .unwrap();
    assert_eq!(
        jobs(&w).await,
        1,
        "ticking again at the same time adds nothing"
    );
    let t1 = t0.checked_add(jiff::SignedDuration::from_mins(5)).unwrap();
    mamori_work::scheduler::tick(&w.state, t1, &mut HashMap::new())
        .await
        .unwrap();
    assert_eq!(jobs(&w).await, 2, "the next slot");
    // A day of downtime: the missed slots collapse into one scan, not 288.
    let t2 = t1
        .checked_add(jiff::SignedDuration::from_hours(24))
        .unwrap();
    mamori_work::scheduler::tick(&w.state, t2, &mut HashMap::new())
        .await
        .unwrap();
    assert_eq!(jobs(&w).await, 3);
}
