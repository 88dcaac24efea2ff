//! The service-account key and access tokens reach no log line, error or snapshot. In its own
//! test binary so the log capture can be the global subscriber (spawned tasks log from worker
//! threads) without affecting other tests.

use crate::common;

use common::{fast, gws_config as config};
use mamori_connect::gws::collect;
use mamori_mock_saas::gws::{self, GwsTenantSpec};
use mamori_mock_saas::{Behaviour, Fault};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_and_tokens_appear_in_no_log_or_error() {
    let logs = common::capture_logs();

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
    let mut texts = logs.text();
    texts.push_str(&format!("{:?}", collected.collection.outcomes));
    texts.push_str(&String::from_utf8(collected.into_snapshot().to_json()).unwrap());
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
