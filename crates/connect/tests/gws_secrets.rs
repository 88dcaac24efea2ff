//! The service-account key and access tokens reach no log line, error or snapshot. In its own
//! test binary so the log capture can be the global subscriber (spawned tasks log from worker
//! threads) without affecting other tests.

use mamori_connect::gws::{collect, GwsConfig, GwsEndpoints};
use mamori_connect::HttpSettings;
use mamori_mock_saas::gws::{self, GwsMock, GwsTenantSpec};
use mamori_mock_saas::{Behaviour, Fault};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn config(mock: &GwsMock) -> GwsConfig {
    GwsConfig {
        service_account_key_file: None,
        service_account_key_json: Some(mamori_connect::Secret::new(mock.key.to_string())),
        subject: mock.subject.clone(),
        customer_id: "my_customer".into(),
        endpoints: GwsEndpoints::all_at(&mock.base_url()),
        dns_server: mock.dns.addr,
        break_glass_accounts: vec!["breakglass-admin@sakura-trading.co.jp".into()],
        // The demo customer's exclusions (as its ScubaGoggles config has them).
        imap_exclusions: demo_list("imap_exclusions"),
        sites_exclusions: demo_list("sites_exclusions"),
        domain_wide_delegation: None,
    }
}

fn demo_list(key: &str) -> Vec<serde_json::Value> {
    mamori_mock_saas::synth::gws_demo()[key]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn fast() -> HttpSettings {
    HttpSettings {
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        ..HttpSettings::default()
    }
}

/// A writer into a shared buffer for the log capture.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_and_tokens_appear_in_no_log_or_error() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    // Global: in this one-test binary it captures every thread, spawned tasks included.
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let spec = GwsTenantSpec {
        delegated_scopes: Some(
            mamori_connect::gws::SCOPES
                .iter()
                .filter(|s| !s.ends_with("apps.licensing"))
                .map(|s| s.to_string())
                .collect(),
        ),
        ..GwsTenantSpec::demo()
    };
    let behaviour = Behaviour {
        throttle_every: 7,
        retry_after_secs: 0,
        faults: vec![("/v1/inboundSsoAssignments".into(), Fault::Status(500))],
        ..Behaviour::default()
    };
    let mock = gws::start(&spec, behaviour).await.unwrap();
    let collected = collect(&config(&mock), fast(), None)
        .await
        .expect("collection");
    let mut texts = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
    texts.push_str(&format!("{:?}", collected.collection.outcomes));
    texts.push_str(&collected.into_snapshot().to_string());
    // And a refused key.
    let mut cfg = config(&mock);
    let mut key = mock.key.clone();
    key["client_email"] = serde_json::json!("someone-else@example.iam.gserviceaccount.com");
    cfg.service_account_key_json = Some(mamori_connect::Secret::new(key.to_string()));
    texts.push_str(
        &collect(&cfg, fast(), None)
            .await
            .expect_err("refused")
            .to_string(),
    );
    texts.push_str(&format!("{cfg:?}"));

    let pem = mock.key["private_key"].as_str().unwrap();
    assert!(!texts.contains(pem));
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!texts.contains(line), "a line of the private key leaked");
    }
    assert!(!texts.contains("ya29."), "an access token leaked");
    assert!(texts.contains("section not collected"), "the capture works");
}
