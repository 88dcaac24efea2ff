//! Slack and Microsoft Teams payloads, checked by local receivers.

use crate::common;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use common::*;
use mamori_notify::{ChannelConfig, Notifier};
use serde_json::Value;

/// A receiver that records JSON bodies and answers like the real service.
fn receiver(rec: Recorder, status: StatusCode, reply: &'static str) -> Router {
    Router::new().route(
        "/{*path}",
        post(move |headers: HeaderMap, body: Bytes| {
            let rec = rec.clone();
            async move {
                rec.push(headers, body);
                (status, reply)
            }
        }),
    )
}

fn all_text(v: &Value) -> String {
    v.to_string()
}

fn check_slack_shape(p: &Value) {
    assert!(!p["text"].as_str().expect("text fallback").is_empty());
    let blocks = p["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    for b in blocks {
        match b["type"].as_str().expect("block type") {
            "header" => {
                assert_eq!(b["text"]["type"], "plain_text");
                assert!(b["text"]["text"].as_str().unwrap().chars().count() <= 150);
            }
            "section" => {
                if let Some(t) = b.get("text") {
                    assert_eq!(t["type"], "mrkdwn");
                    assert!(t["text"].as_str().unwrap().chars().count() <= 3000);
                } else {
                    let fields = b["fields"].as_array().expect("section text or fields");
                    assert!(fields.len() <= 10);
                    for f in fields {
                        assert_eq!(f["type"], "mrkdwn");
                        assert!(f["text"].as_str().unwrap().chars().count() <= 2000);
                    }
                }
            }
            "context" => assert!(b["elements"].as_array().is_some()),
            other => panic!("unexpected block type {other}"),
        }
    }
}

#[tokio::test]
async fn slack_japanese_findings() {
    let rec = Recorder::default();
    let addr = serve(receiver(rec.clone(), StatusCode::OK, "ok")).await;
    let url = format!("http://{addr}/services/T0AAA/B0BBB/slacktoken");
    Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Slack { url },
            &findings_notification("ja", 3),
        )
        .await
        .expect("delivered");
    let all = rec.all();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0["content-type"], "application/json");
    let p = rec.json(0);
    check_slack_shape(&p);
    let text = all_text(&p);
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .contains("新しい重大な検出事項 3 件"),
        "{p}"
    );
    assert!(text.contains("株式会社さくら商事"));
    assert!(text.contains("[重大]") && text.contains("[高]"), "{text}");
    assert!(text.contains("新規"));
    assert!(text.contains("Microsoft 365"));
    assert!(text.contains("Mamori で開く"));
    assert!(text.contains("<https://mamori.example.jp/customers/7/scans/4242|"));
    // mrkdwn specials in user data are escaped.
    assert!(text.contains("&lt;0&gt; &amp; more"), "{text}");
    assert!(!text.contains("<0>"), "{text}");
}

#[tokio::test]
async fn slack_caps_the_list_in_english() {
    let rec = Recorder::default();
    let addr = serve(receiver(rec.clone(), StatusCode::OK, "ok")).await;
    Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Slack {
                url: format!("http://{addr}/services/x"),
            },
            &findings_notification("en", 45),
        )
        .await
        .unwrap();
    let p = rec.json(0);
    check_slack_shape(&p);
    let text = all_text(&p);
    assert!(text.contains("45 new high/critical findings"));
    assert!(text.contains("…and 25 more"), "{text}");
    assert_eq!(text.matches("M365-EXO-").count(), 20);
    assert!(text.contains("[Critical]"));
}

#[tokio::test]
async fn slack_error_reply_is_permanent() {
    let rec = Recorder::default();
    let addr = serve(receiver(
        rec.clone(),
        StatusCode::NOT_FOUND,
        "channel_not_found",
    ))
    .await;
    let err = Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Slack {
                url: format!("http://{addr}/services/T0AAA/B0BBB/slacktoken"),
            },
            &failed_notification("en"),
        )
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(err.message.contains("channel_not_found"), "{err}");
    assert!(!err.message.contains("slacktoken"), "{err}");
    assert!(
        err.message
            .starts_with("slack delivery to http://127.0.0.1:"),
        "{err}"
    );
}

fn check_teams_shape(p: &Value) -> &Value {
    assert_eq!(p["type"], "message");
    let atts = p["attachments"].as_array().expect("attachments");
    assert_eq!(atts.len(), 1);
    assert_eq!(
        atts[0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &atts[0]["content"];
    assert_eq!(card["type"], "AdaptiveCard");
    assert!(card["version"].as_str().is_some());
    assert!(card["$schema"]
        .as_str()
        .unwrap()
        .contains("adaptive-card.json"));
    let body = card["body"].as_array().expect("card body");
    assert!(!body.is_empty());
    for el in body {
        let t = el["type"].as_str().expect("element type");
        assert!(["TextBlock", "FactSet"].contains(&t), "{t}");
        if t == "FactSet" {
            for f in el["facts"].as_array().unwrap() {
                assert!(f["title"].is_string() && f["value"].is_string());
            }
        }
    }
    card
}

#[tokio::test]
async fn teams_japanese_scan_failed() {
    let rec = Recorder::default();
    // Workflows webhooks answer 202 Accepted.
    let addr = serve(receiver(rec.clone(), StatusCode::ACCEPTED, "")).await;
    Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Teams {
                url: format!("http://{addr}/workflows/abc/triggers/manual/paths/invoke"),
            },
            &failed_notification("ja"),
        )
        .await
        .expect("delivered");
    let p = rec.json(0);
    let card = check_teams_shape(&p);
    let text = all_text(card);
    assert!(text.contains("スキャン失敗"), "{text}");
    assert!(text.contains("エラー"));
    assert!(text.contains("Authorization_RequestDenied"));
    assert!(text.contains("顧客") && text.contains("株式会社さくら商事"));
    assert!(card.get("actions").is_none(), "no link, no action");
}

#[tokio::test]
async fn teams_findings_with_link() {
    let rec = Recorder::default();
    let addr = serve(receiver(rec.clone(), StatusCode::OK, "")).await;
    let mut n = findings_notification("ja", 22);
    n.findings[21].change = "regression".into();
    Notifier::new()
        .allow_private_targets(true)
        .deliver(
            &ChannelConfig::Teams {
                url: format!("http://{addr}/webhookb2/x"),
            },
            &n,
        )
        .await
        .unwrap();
    let p = rec.json(0);
    let card = check_teams_shape(&p);
    let text = all_text(card);
    assert!(
        text.contains("新しい重大な検出事項 21 件、悪化した項目 1 件"),
        "{text}"
    );
    assert!(text.contains("ほか 2 件"), "{text}");
    // Plain text in Adaptive Cards: no HTML escaping.
    assert!(text.contains("<0> & more"), "{text}");
    let action = &card["actions"][0];
    assert_eq!(action["type"], "Action.OpenUrl");
    assert_eq!(
        action["url"],
        "https://mamori.example.jp/customers/7/scans/4242"
    );
    assert_eq!(action["title"], "Mamori で開く");
}
