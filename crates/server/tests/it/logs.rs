//! Pushed audit logs over HTTP: plain and gzip batches spooled (gzip at rest, events counted,
//! malformed lines counted but kept), the size limits (413), empty and unusable bodies (400),
//! unknown sources, who may push, the flood guard (throttled: 429 with Retry-After; suspended:
//! 403 with the reason), and the operator's suspend and resume with their audit rows.

use crate::common;

use std::io::{Read, Write};
use std::time::Duration;

use common::*;
use mamori_store::GuardState;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

const BATCH: &str = "{\"id\":\"1\",\"userPrincipalName\":\"a@example.com\"}\n\
{\"id\":\"2\",\"userPrincipalName\":\"b@example.com\"}\n\
\n\
not json at all\n\
{\"id\":\"3\",\"userPrincipalName\":\"c@example.com\"}\n";

async fn json_of(r: reqwest::Response) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    (
        status,
        headers,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Small limits so that the 413s need no large bodies: 64 KiB as sent, 256 KiB decompressed.
fn small_limits(c: &mut mamori_server::ServerConfig) {
    c.log_push_max_body = 64 << 10;
    c.log_push_max_decompressed = 256 << 10;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_logs_are_spooled_or_refused_with_the_reason() {
    let w = World::start_with(Options {
        configure: small_limits,
        // No log worker: the test reads the spool itself.
        logs: mamori_work::logs::LogsConfig {
            workers: 0,
            ..mamori_work::logs::LogsConfig::default()
        },
        ..Options::default()
    })
    .await;
    let (oa, an, ca, cv, inv) = (
        w.actor("OA"),
        w.actor("AN"),
        w.actor("CA"),
        w.actor("CV"),
        w.actor("IN"),
    );

    // Plain NDJSON: four events (non-empty lines), one of them malformed but accepted.
    let (status, _, body) = json_of(
        w.push(
            ca,
            w.tenant_a,
            "entra-signin",
            BATCH.as_bytes().to_vec(),
            false,
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["events"], 4);
    assert_eq!(body["malformed_lines"], 1);
    assert_eq!(body["bytes"], BATCH.len());
    let plain_id = body["batch_id"].as_i64().unwrap();
    // Gzip, declared and recognised by its magic bytes.
    let compressed = gzip(BATCH.as_bytes());
    let (status, _, body) = json_of(
        w.push(an, w.tenant_a, "m365", compressed.clone(), true)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["events"], 4);
    let (status, _, body) = json_of(
        w.push(oa, w.tenant_b, "gws", compressed.clone(), false)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // Spooled in arrival order, always gzip, with the events counted.
    let lease = Duration::from_secs(60);
    let first = w
        .store
        .claim_spooled("test-worker", lease, &[w.tenant_b])
        .await
        .unwrap()
        .expect("a spooled batch");
    assert_eq!(first.id, plain_id);
    assert_eq!(first.tenant_id, w.tenant_a);
    assert_eq!(first.source, mamori_core::LogSource::EntraSignin);
    assert_eq!(first.events, 4);
    assert_eq!(first.bytes, BATCH.len() as i64);
    assert_eq!(gunzip(&first.body), BATCH.as_bytes(), "compressed here");
    let second = w
        .store
        .claim_spooled("test-worker", lease, &[w.tenant_b])
        .await
        .unwrap()
        .expect("the gzip batch");
    assert_eq!(second.source, mamori_core::LogSource::M365);
    assert_eq!(second.body, compressed, "kept as received");

    // The tenant's log status: metering and the spool.
    let (status, logs) = w
        .call(
            cv,
            "GET",
            &format!("/api/v1/tenants/{}/logs", w.tenant_a),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    assert_eq!(logs["guard_state"], "normal");
    assert_eq!(logs["spool"]["batches"], 2);
    let metered: i64 = logs["meter"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["events"].as_i64().unwrap())
        .sum();
    assert_eq!(metered, 8);
    let (status, _) = w
        .call(
            cv,
            "GET",
            &format!("/api/v1/tenants/{}/logs", w.tenant_b),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Too large as sent, and once decompressed.
    let line = "{\"id\":\"x\",\"padding\":\"................................................\"}\n";
    let big = line.repeat((70 << 10) / line.len());
    let (status, _, body) = json_of(
        w.push(ca, w.tenant_a, "m365", big.as_bytes().to_vec(), false)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 KiB"),
        "{body}"
    );
    let bomb = gzip(line.repeat((300 << 10) / line.len()).as_bytes());
    assert!(bomb.len() < 64 << 10);
    let (status, _, body) = json_of(w.push(ca, w.tenant_a, "m365", bomb, true).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("decompresses"));

    // Empty, no JSON object at all, a broken gzip, an unknown encoding, an unknown source.
    let (status, _, body) = json_of(w.push(ca, w.tenant_a, "m365", vec![], false).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("empty"));
    let (status, _, body) = json_of(
        w.push(ca, w.tenant_a, "m365", b"\nhello\n[1, 2]\n".to_vec(), false)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "names the first bad line: {body}"
    );
    let (status, _, _) = json_of(
        w.push(ca, w.tenant_a, "m365", b"{\"a\":1}\n".to_vec(), true)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "gzip declared, plain sent");
    let r = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/tenants/{}/logs/m365",
            w.base, w.tenant_a
        ))
        .bearer_auth(&ca.token)
        .header("content-encoding", "br")
        .body("{\"a\":1}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, _, body) = json_of(
        w.push(ca, w.tenant_a, "syslog", BATCH.as_bytes().to_vec(), false)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["error"]["message"].as_str().unwrap();
    for source in ["m365", "entra-signin", "entra-audit", "gws"] {
        assert!(message.contains(source), "{message}");
    }

    // Who may push: not a viewer or an investigator; another customer's tenant is missing.
    for (actor, tenant, expected) in [
        (cv, w.tenant_a, StatusCode::FORBIDDEN),
        (inv, w.tenant_a, StatusCode::FORBIDDEN),
        (ca, w.tenant_b, StatusCode::NOT_FOUND),
        (ca, 999_999, StatusCode::NOT_FOUND),
    ] {
        let (status, _, body) = json_of(
            w.push(actor, tenant, "m365", BATCH.as_bytes().to_vec(), false)
                .await,
        )
        .await;
        assert_eq!(status, expected, "{body}");
    }

    // The flood guard throttles: 429 with the seconds left, or 60 without an end.
    let until = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
    w.store
        .set_log_guard(
            w.tenant_a,
            GuardState::Throttled,
            "40,000 events a minute",
            Some(until),
            None,
        )
        .await
        .unwrap();
    let (status, headers, body) = json_of(
        w.push(ca, w.tenant_a, "m365", BATCH.as_bytes().to_vec(), false)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((100..=120).contains(&retry), "Retry-After {retry}");
    assert_eq!(body["error"]["code"], "log_processing_throttled");
    assert_eq!(body["error"]["reason"], "40,000 events a minute");
    assert!(body["error"]["since"].is_string());
    w.store
        .set_log_guard(w.tenant_a, GuardState::Throttled, "flood", None, None)
        .await
        .unwrap();
    let (status, headers, _) = json_of(
        w.push(ca, w.tenant_a, "m365", BATCH.as_bytes().to_vec(), false)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "60");
    // A throttle past its end no longer holds.
    w.store
        .set_log_guard(
            w.tenant_a,
            GuardState::Throttled,
            "over",
            Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1)),
            None,
        )
        .await
        .unwrap();
    let r = w
        .push(ca, w.tenant_a, "m365", BATCH.as_bytes().to_vec(), false)
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);

    // The operator suspends (the analyst may not), pushes are refused with the reason, the
    // status says so; resumed, they are taken again. Both are audited.
    let suspend = format!("/api/v1/tenants/{}/logs/suspend", w.tenant_a);
    let resume = format!("/api/v1/tenants/{}/logs/resume", w.tenant_a);
    let (status, _) = w
        .call(an, "POST", &suspend, Some(json!({"reason": "no"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = w
        .call(oa, "POST", &suspend, Some(json!({"reason": " "})))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a reason is needed: {body}"
    );
    let (status, guard) = w
        .call(
            oa,
            "POST",
            &suspend,
            Some(json!({"reason": "runaway connector at the customer"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{guard}");
    assert_eq!(guard["state"], "suspended");
    assert_eq!(guard["set_by"], json!(oa.user_id));
    let (status, _, body) = json_of(
        w.push(ca, w.tenant_a, "m365", BATCH.as_bytes().to_vec(), false)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "log_processing_suspended");
    assert_eq!(body["error"]["reason"], "runaway connector at the customer");
    assert_eq!(body["error"]["since"], guard["since"]);
    let (_, logs) = w
        .call(
            ca,
            "GET",
            &format!("/api/v1/tenants/{}/logs", w.tenant_a),
            None,
        )
        .await;
    assert_eq!(logs["guard_state"], "suspended");
    assert_eq!(logs["guard"]["reason"], "runaway connector at the customer");
    let (status, _) = w
        .call(
            oa,
            "POST",
            &format!("/api/v1/tenants/{}/logs/suspend", 999_999),
            Some(json!({"reason": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, guard) = w
        .call(
            oa,
            "POST",
            &resume,
            Some(json!({"note": "fixed at the source"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{guard}");
    assert_eq!(guard["state"], "normal");
    let r = w
        .push(ca, w.tenant_a, "m365", BATCH.as_bytes().to_vec(), false)
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let (_, audit) = w.call(oa, "GET", "/api/v1/audit?limit=1000", None).await;
    let actions: Vec<(Value, Value)> = items(&audit)
        .iter()
        .filter(|r| r["action"].as_str().is_some_and(|a| a.starts_with("logs.")))
        .map(|r| (r["action"].clone(), r["detail"].clone()))
        .collect();
    assert_eq!(
        actions,
        vec![
            (json!("logs.resume"), json!("fixed at the source")),
            (
                json!("logs.suspend"),
                json!("runaway connector at the customer")
            ),
        ],
        "newest first"
    );
}
