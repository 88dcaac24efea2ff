//! No credential reaches a log line, an error message or a snapshot. In its own test binary so
//! the log capture can be the global subscriber (every thread) without affecting other tests.

use crate::common;

use mamori_connect::m365::{collect, M365Config};
use mamori_connect::HttpSettings;
use mamori_mock_saas::m365::{start, M365TenantSpec};
use mamori_mock_saas::{Behaviour, Fault};
use std::time::Duration;

fn config(mock: &mamori_mock_saas::m365::M365Mock, certificate: bool) -> M365Config {
    serde_json::from_value(mock.config(certificate)).expect("mock config is a valid M365Config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_errors_or_snapshot() {
    let logs = common::capture_logs();
    let behaviour = Behaviour {
        throttle_every: 9,
        retry_after_secs: 0,
        faults: vec![("/graph/beta/domains".into(), Fault::Status(500))],
        ..Behaviour::default()
    };
    let mock = start(&M365TenantSpec::demo(), behaviour).await.unwrap();
    let settings = HttpSettings {
        max_attempts: 2,
        base_backoff: Duration::from_millis(5),
        ..HttpSettings::default()
    };
    let mut texts = Vec::new();
    // Certificate (all sections), secret (SharePoint refuses it), and a wrong secret.
    for certificate in [true, false] {
        let collected = collect(&config(&mock, certificate), settings.clone(), None)
            .await
            .unwrap();
        for (_, o) in collected.collection.outcomes.iter() {
            texts.push(format!("{o:?}"));
        }
        texts.push(String::from_utf8(collected.into_snapshot().to_json()).unwrap());
    }
    let mut wrong = config(&mock, false);
    wrong.client_secret = Some(mamori_connect::Secret::new("Wrong~Secret~Value~987"));
    texts.push(format!(
        "{:?} {}",
        wrong,
        collect(&wrong, settings.clone(), None).await.unwrap_err()
    ));
    let logs = logs.text();
    assert!(logs.contains("request"), "debug logging was captured");
    texts.push(logs);
    let all = texts.join("\n");
    let app = &mock.state.app;
    let mut secrets = vec![
        app.client_secret.clone(),
        "Wrong~Secret~Value~987".to_string(),
    ];
    secrets.extend(
        app.certificate_private_pem
            .lines()
            .filter(|l| l.len() > 16 && !l.starts_with("-----"))
            .map(str::to_string),
    );
    for secret in &secrets {
        assert!(!all.contains(secret.as_str()), "a secret leaked: {secret}");
    }
    assert!(
        !all.contains("eyJ0eXAiOiJKV1Qi.mock."),
        "an access token leaked"
    );
}
