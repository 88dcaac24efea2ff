//! Signed webhooks and the HTTP failure modes, against local receivers.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use common::*;
use mamori_notify::{sign, verify, ChannelConfig, Notification, Notifier};

const SECRET: &str = "whsec_9f8e7d6c5b4a39281706f5e4";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn webhook(url: String) -> ChannelConfig {
    ChannelConfig::Webhook {
        url,
        secret: SECRET.into(),
    }
}

/// A receiver that checks the signature the way a customer would and
/// records what it accepted.
fn verifying_receiver(secret: &'static str, rec: Recorder) -> Router {
    Router::new().route(
        "/hooks/mamori",
        post(move |headers: HeaderMap, body: Bytes| {
            let rec = rec.clone();
            async move {
                let h = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned()
                };
                let ok = verify(
                    secret.as_bytes(),
                    &h("x-mamori-timestamp"),
                    &h("x-mamori-signature"),
                    &body,
                    now(),
                    300,
                );
                if !ok {
                    return (StatusCode::UNAUTHORIZED, "bad signature");
                }
                rec.push(headers, body);
                (StatusCode::NO_CONTENT, "")
            }
        }),
    )
}

#[tokio::test]
async fn signed_webhook_is_verified_and_recorded() {
    let rec = Recorder::default();
    let addr = serve(verifying_receiver(SECRET, rec.clone())).await;
    let n = findings_notification("ja", 3);
    Notifier::new()
        .allow_private_targets(true)
        .deliver(&webhook(format!("http://{addr}/hooks/mamori")), &n)
        .await
        .expect("delivered");

    let all = rec.all();
    assert_eq!(all.len(), 1);
    let (headers, body) = &all[0];
    let got: Notification = serde_json::from_slice(body).unwrap();
    assert_eq!(got, n);
    let raw: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(raw["event"], "scan_findings");
    assert_eq!(raw["findings"][0]["change"], "new");
    assert_eq!(headers["x-mamori-event"], "scan_findings");
    assert_eq!(headers["content-type"], "application/json");
    let ua = headers["user-agent"].to_str().unwrap();
    assert!(ua.starts_with("mamori/"), "{ua}");
    let ts: i64 = headers["x-mamori-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((now() - ts).abs() < 60);
    assert_eq!(
        headers["x-mamori-signature"].to_str().unwrap(),
        sign(SECRET.as_bytes(), ts, body)
    );
}

#[tokio::test]
async fn wrong_secret_is_a_permanent_failure_without_secrets() {
    let rec = Recorder::default();
    let addr = serve(verifying_receiver("another-secret-0123456789", rec.clone())).await;
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &webhook(format!("http://{addr}/hooks/mamori")),
            &failed_notification("en"),
        )
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(err.message.contains("401"), "{err}");
    assert!(err.message.contains("bad signature"), "{err}");
    assert!(!err.message.contains(SECRET), "{err}");
    assert!(!err.message.contains("/hooks/mamori"), "{err}");
    assert!(rec.all().is_empty());
}

#[test]
fn sign_verify_round_trip() {
    let body = br#"{"event":"scan_failed","scan_id":1}"#;
    let t = now();
    let sig = sign(SECRET.as_bytes(), t, body);
    assert!(verify(
        SECRET.as_bytes(),
        &t.to_string(),
        &sig,
        body,
        t,
        300
    ));
    // Tampered body.
    assert!(!verify(
        SECRET.as_bytes(),
        &t.to_string(),
        &sig,
        br#"{"event":"scan_failed","scan_id":2}"#,
        t,
        300
    ));
    // Wrong secret.
    assert!(!verify(b"other", &t.to_string(), &sig, body, t, 300));
    // Old timestamp (replay) fails even with a valid signature for it.
    let old = t - 3600;
    let old_sig = sign(SECRET.as_bytes(), old, body);
    assert!(!verify(
        SECRET.as_bytes(),
        &old.to_string(),
        &old_sig,
        body,
        t,
        300
    ));
    // Timestamp header swapped for a fresh one: signature no longer matches.
    assert!(!verify(
        SECRET.as_bytes(),
        &t.to_string(),
        &old_sig,
        body,
        t,
        300
    ));
}

#[tokio::test]
async fn server_error_then_success() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let router = Router::new().route(
        "/hook",
        post(move || {
            let c = c.clone();
            async move {
                if c.fetch_add(1, Ordering::SeqCst) == 0 {
                    (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response()
                } else {
                    StatusCode::OK.into_response()
                }
            }
        }),
    );
    let addr = serve(router).await;
    let ch = webhook(format!("http://{addr}/hook"));
    let n = findings_notification("en", 1);
    let notifier = Notifier::new().allow_private_targets(true);
    let err = notifier.deliver(&ch, &n).await.unwrap_err();
    assert!(err.retryable, "{err}");
    assert!(err.message.contains("500"), "{err}");
    notifier.deliver(&ch, &n).await.expect("second attempt");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn status_classification() {
    let router = Router::new()
        .route(
            "/400",
            post(|| async { (StatusCode::BAD_REQUEST, "invalid_payload") }),
        )
        .route("/404", post(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/429",
            post(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "120")],
                    "slow down",
                )
            }),
        )
        .route("/503", post(|| async { StatusCode::SERVICE_UNAVAILABLE }))
        .route(
            "/302",
            post(|| async { (StatusCode::FOUND, [("location", "/400")], "") }),
        );
    let addr = serve(router).await;
    let notifier = Notifier::new().allow_private_targets(true);
    let n = findings_notification("en", 1);
    for (path, retryable) in [
        ("400", false),
        ("404", false),
        ("429", true),
        ("503", true),
        ("302", false),
    ] {
        let err = notifier
            .deliver(&webhook(format!("http://{addr}/{path}")), &n)
            .await
            .unwrap_err();
        assert_eq!(err.retryable, retryable, "{path}: {err}");
        assert!(err.message.contains(path), "{path}: {err}");
        assert!(
            err.message
                .starts_with("webhook delivery to http://127.0.0.1:"),
            "{err}"
        );
    }
    let err = notifier
        .deliver(&webhook(format!("http://{addr}/429")), &n)
        .await
        .unwrap_err();
    assert!(err.message.contains("Retry-After: 120"), "{err}");
    let err = notifier
        .deliver(&webhook(format!("http://{addr}/400")), &n)
        .await
        .unwrap_err();
    assert!(err.message.contains("invalid_payload"), "{err}");
}

#[tokio::test]
async fn connection_refused_is_retryable_and_fast() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}/services/T0AAA/B0BBB/refusedtokenXYZ");
    let started = Instant::now();
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Slack { url },
            &findings_notification("ja", 1),
        )
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(err.retryable, "{err}");
    assert!(err.message.contains("connection failed"), "{err}");
    assert!(!err.message.contains("refusedtokenXYZ"), "{err}");
    assert!(!err.message.contains("/services/"), "{err}");
}

#[tokio::test]
async fn hanging_receiver_times_out() {
    let router = Router::new().route(
        "/slow",
        post(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK
        }),
    );
    let addr = serve(router).await;
    let started = Instant::now();
    let err = Notifier::with_timeout(Duration::from_millis(500))
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Teams {
                url: format!("http://{addr}/slow"),
            },
            &failed_notification("en"),
        )
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert!(err.retryable, "{err}");
    assert!(err.message.contains("timed out after 500ms"), "{err}");
}

#[tokio::test]
async fn invalid_channel_is_rejected_before_sending() {
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Webhook {
                url: "http://hooks.example.com/x".into(),
                secret: SECRET.into(),
            },
            &failed_notification("en"),
        )
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(err.message.contains("https"), "{err}");
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Webhook {
                url: "https://hooks.example.com/x".into(),
                secret: "short".into(),
            },
            &failed_notification("en"),
        )
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(!err.message.contains("short"), "{err}");
}

#[test]
fn debug_redacts_secrets_and_url_paths() {
    let channels = [
        ChannelConfig::Webhook {
            url: "https://customer.example.com/hooks/mamori?token=querysecret".into(),
            secret: SECRET.into(),
        },
        ChannelConfig::Slack {
            url: "https://hooks.slack.com/services/T0AAA/B0BBB/slacksecret123".into(),
        },
        ChannelConfig::Teams {
            url: "https://prod-12.japaneast.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=teamssecret".into(),
        },
        ChannelConfig::Email {
            host: "smtp.example.jp".into(),
            port: 587,
            tls: mamori_notify::EmailTls::Starttls,
            username: Some("mailer".into()),
            password: Some("smtp-password-secret".into()),
            from: "Mamori <alerts@example.jp>".into(),
            to: vec!["secops@example.jp".into()],
        },
    ];
    for c in &channels {
        let d = format!("{c:?}");
        for leaked in [
            SECRET,
            "querysecret",
            "/hooks/mamori",
            "slacksecret123",
            "/services/",
            "teamssecret",
            "/workflows/",
            "smtp-password-secret",
        ] {
            assert!(!d.contains(leaked), "{d} leaks {leaked}");
        }
        // Still useful: kind and host are visible.
        assert!(d.contains(".com") || d.contains("smtp.example.jp"), "{d}");
        // And Serialize still round-trips the real values for storage.
        let back: ChannelConfig = serde_json::from_value(serde_json::to_value(c).unwrap()).unwrap();
        assert!(back == *c);
    }
    assert_eq!(
        format!("{:?}", channels[1]),
        r#"Slack { url: "https://hooks.slack.com/…" }"#
    );
}

#[tokio::test]
async fn by_default_internal_addresses_are_refused_before_sending() {
    let rec = Recorder::default();
    let addr = serve(verifying_receiver(SECRET, rec.clone())).await;
    let port = addr.port();
    for url in [
        format!("http://{addr}/hooks/mamori"),
        format!("http://localhost:{port}/hooks/mamori"),
        "https://169.254.169.254/latest/meta-data/".to_string(),
        "https://[::1]/hooks".to_string(),
        "https://10.0.0.7/hooks".to_string(),
    ] {
        let channel = webhook(url.clone());
        let notifier = Notifier::new();
        assert!(notifier.refused_target(&channel).is_some(), "{url}");
        let err = notifier
            .deliver(&channel, &failed_notification("en"))
            .await
            .unwrap_err();
        assert!(!err.retryable, "{url}: {err}");
        assert!(
            err.message.contains("public addresses only"),
            "{url}: {err}"
        );
    }
    assert!(rec.all().is_empty(), "nothing reached the receiver");
    // Allowed explicitly (an internal relay), the same receiver gets it.
    Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &webhook(format!("http://{addr}/hooks/mamori")),
            &failed_notification("en"),
        )
        .await
        .unwrap();
    assert_eq!(rec.all().len(), 1);
}
