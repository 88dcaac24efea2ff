//! Shared fixtures for the integration tests: sample notifications and a
//! recording HTTP receiver on 127.0.0.1.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::Router;
use mamori_notify::{EventKind, Notification, NotifiedFinding};

pub fn finding(i: usize, severity: &str, change: &str) -> NotifiedFinding {
    NotifiedFinding {
        control_id: format!("M365-EXO-{i}"),
        title: format!("外部転送が許可されています <{i}> & more"),
        severity: severity.into(),
        change: change.into(),
        resource: format!("mailbox{i}@sakura.onmicrosoft.com"),
    }
}

pub fn findings_notification(lang: &str, count: usize) -> Notification {
    Notification {
        event: EventKind::ScanFindings,
        customer: "株式会社さくら商事".into(),
        tenant: "sakura.onmicrosoft.com".into(),
        app: "m365".into(),
        scan_id: 4242,
        at: "2025-04-01T09:00:00+09:00".into(),
        lang: lang.into(),
        findings: (0..count)
            .map(|i| finding(i, if i % 2 == 0 { "critical" } else { "high" }, "new"))
            .collect(),
        error: None,
        link: Some("https://mamori.example.jp/customers/7/scans/4242".into()),
    }
}

pub fn failed_notification(lang: &str) -> Notification {
    Notification {
        event: EventKind::ScanFailed,
        customer: "株式会社さくら商事".into(),
        tenant: "sakura.onmicrosoft.com".into(),
        app: "m365".into(),
        scan_id: 4243,
        at: "2025-04-02T09:00:00+09:00".into(),
        lang: lang.into(),
        findings: vec![],
        error: Some("Graph API returned 403: Authorization_RequestDenied".into()),
        link: None,
    }
}

/// Requests a receiver has seen.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

impl Recorder {
    pub fn push(&self, headers: HeaderMap, body: Bytes) {
        self.0.lock().unwrap().push((headers, body));
    }

    pub fn all(&self) -> Vec<(HeaderMap, Bytes)> {
        self.0.lock().unwrap().clone()
    }

    pub fn json(&self, i: usize) -> serde_json::Value {
        serde_json::from_slice(&self.all()[i].1).expect("receiver got JSON")
    }
}

/// Serves `router` on 127.0.0.1 on a free port.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

/// A loopback port with nothing listening on it (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}
