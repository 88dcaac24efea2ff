//! The Microsoft 365 connector against the imitation tenant, end to end: collect through the
//! real HTTP plumbing, then evaluate the snapshot with the m365 pack.

use mamori_connect::m365::{collect, M365Config};
use mamori_connect::HttpSettings;
use mamori_core::snapshot::SourceKind;
use mamori_core::Status;
use mamori_mock_saas::m365::{start, start_with, M365TenantSpec};
use mamori_mock_saas::{Behaviour, Fault};
use serde_json::Value;
use std::time::Duration;

fn config(mock: &mamori_mock_saas::m365::M365Mock, certificate: bool) -> M365Config {
    serde_json::from_value(mock.config(certificate)).expect("mock config is a valid M365Config")
}

fn evaluate(data: &Value) -> mamori_core::Evaluation {
    let engine = mamori_policy::Engine::with_builtin_packs().expect("builtin packs load");
    engine.evaluate(
        "collected",
        SourceKind::Scubagear,
        data.clone().into(),
        &mamori_policy::EvalOptions::default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tenant_collects_and_evaluates() {
    let mock = start(&M365TenantSpec::demo(), Behaviour::default())
        .await
        .unwrap();
    let collected = collect(&config(&mock, true), HttpSettings::default(), None)
        .await
        .expect("collection");
    let failed: Vec<_> = collected
        .collection
        .failed()
        .map(|(k, o)| format!("{k}: {:?}", o.reason))
        .collect();
    for (section, stats) in &collected.stats {
        eprintln!("{section}: {} requests", stats.requests);
    }
    eprintln!(
        "total {} requests; failed sections: {failed:#?}",
        collected.total_requests()
    );
    let data = Value::Object(collected.collection.data.clone());
    let evaluation = evaluate(&data);
    let errors: Vec<_> = evaluation
        .results
        .iter()
        .filter(|r| r.status == Status::Error)
        .map(|r| format!("{} {}", r.id, r.details.en))
        .collect();
    eprintln!("errors: {errors:#?}");
    let aad_errors: Vec<_> = errors
        .iter()
        .filter(|e| e.starts_with("MS.AAD") || e.starts_with("MAMORI.M365"))
        .collect();
    assert!(
        aad_errors.is_empty(),
        "Entra ID controls in error: {aad_errors:#?}"
    );
    // The demo tenant seeds failures (SMS allowed, a stale admin, risky third-party apps).
    assert!(evaluation.count(Status::Fail) > 0);
    assert!(evaluation.count(Status::Pass) > 10);
}

fn spec(privileged: usize, service_principals: usize) -> M365TenantSpec {
    let mut spec = M365TenantSpec::demo();
    spec.size = mamori_mock_saas::synth::TenantSize {
        users: 5_000,
        privileged_users: privileged,
        ca_policies: 14,
        service_principals,
    };
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_and_batching_cost_exactly_the_lower_bound() {
    // 2,500 service principals: 3 pages at $top=999; 40 admins: 1 getByIds, 1 $batch of
    // filters, 2 $batch of method lookups.
    let mock = start(&spec(40, 2_500), Behaviour::default()).await.unwrap();
    let collected = collect(&config(&mock, true), HttpSettings::default(), None)
        .await
        .unwrap();
    assert_eq!(collected.collection.failed().count(), 0);
    let bound = mock.lower_bound();
    for (section, expected) in &bound {
        let got = collected
            .stats
            .get(section)
            .map(|s| s.requests)
            .unwrap_or(0);
        assert_eq!(got, *expected, "requests for {section}");
    }
    assert_eq!(
        collected.collection.data["privileged_users"]
            .as_object()
            .unwrap()
            .len(),
        40
    );
    let sps = collected.collection.data["mamori_service_principals"]
        .as_array()
        .unwrap()
        .len();
    assert!(sps > 2_500, "all service principals across pages: {sps}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_requests_wait_and_complete() {
    let behaviour = Behaviour {
        throttle_every: 7,
        retry_after_secs: 1,
        ..Behaviour::default()
    };
    let mock = start(&M365TenantSpec::demo(), behaviour).await.unwrap();
    let collected = collect(&config(&mock, true), HttpSettings::default(), None)
        .await
        .unwrap();
    assert_eq!(
        collected.collection.failed().count(),
        0,
        "{:?}",
        collected.collection.failed().collect::<Vec<_>>()
    );
    let throttled: u64 = collected.stats.values().map(|s| s.throttled).sum();
    assert!(throttled > 0 && throttled == mock.server.counters.throttled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_is_refused_before_any_section() {
    let mock = start(&M365TenantSpec::demo(), Behaviour::default())
        .await
        .unwrap();
    let mut c = config(&mock, false);
    c.client_secret = Some(mamori_connect::Secret::new("Not~The~Right~Secret~42"));
    let err = collect(&c, HttpSettings::default(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("invalid_client") && err.contains("AADSTS7000215"),
        "{err}"
    );
    assert!(!err.contains("Not~The~Right~Secret~42"));
    assert_eq!(
        mock.server.counters.requests(),
        1,
        "only the token endpoint was called"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permission_fails_only_its_sections() {
    let mock = start_with(&M365TenantSpec::demo(), Behaviour::default(), |app| {
        for perms in app.permissions.values_mut() {
            perms.remove("Application.Read.All");
            perms.remove("Directory.Read.All");
        }
    })
    .await
    .unwrap();
    let collected = collect(&config(&mock, true), HttpSettings::default(), None)
        .await
        .unwrap();
    let outcome = &collected.collection.outcomes["risky_third_party_service_principals"];
    assert_eq!(outcome.status.as_str(), "failed");
    assert_eq!(outcome.http_status, Some(403));
    assert!(
        outcome
            .reason
            .as_deref()
            .unwrap()
            .contains("Application.Read.All"),
        "{outcome:?}"
    );
    assert!(
        !collected
            .collection
            .data
            .contains_key("risky_third_party_service_principals"),
        "a failure is never an empty list"
    );
    assert_eq!(
        collected.collection.outcomes["conditional_access_policies"]
            .status
            .as_str(),
        "ok"
    );
    let data: Value = collected.into_snapshot().data().expect("snapshot data");
    let evaluation = evaluate(&data);
    let status = |id: &str| {
        evaluation
            .results
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.status)
            .unwrap()
    };
    assert_eq!(
        status("MS.AAD.1.1v1"),
        Status::Fail,
        "other controls are still judged"
    );
    assert_eq!(status("MS.AAD.3.1v1"), Status::Fail);
    let third_party = evaluation
        .results
        .iter()
        .find(|r| r.id == "MAMORI.M365.IDENTITY.4")
        .unwrap();
    assert_eq!(
        third_party.status,
        Status::Error,
        "controls reading the missing section report error"
    );
    assert!(
        third_party.details.en.contains("HTTP 403")
            && third_party.details.en.contains("Application.Read.All"),
        "the error says why: {}",
        third_party.details.en
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_answers_fail_their_section_and_nothing_else() {
    let behaviour = Behaviour {
        faults: vec![
            ("/graph/beta/domains".into(), Fault::Malformed),
            (
                "/graph/beta/settings".into(),
                Fault::Huge(100 * 1024 * 1024),
            ),
            (
                "conditionalAccess".into(),
                Fault::Hang(Duration::from_secs(5)),
            ),
        ],
        ..Behaviour::default()
    };
    let mock = start(&M365TenantSpec::demo(), behaviour).await.unwrap();
    let settings = HttpSettings {
        timeout: Duration::from_millis(400),
        max_attempts: 2,
        ..HttpSettings::default()
    };
    let collected = collect(&config(&mock, true), settings, None).await.unwrap();
    let reason = |s: &str| {
        collected.collection.outcomes[s]
            .reason
            .clone()
            .unwrap_or_default()
    };
    assert!(
        reason("domain_settings").contains("not valid JSON"),
        "{}",
        reason("domain_settings")
    );
    assert!(
        reason("directory_settings").contains("larger than"),
        "{}",
        reason("directory_settings")
    );
    assert!(
        reason("conditional_access_policies").contains("no answer within"),
        "{}",
        reason("conditional_access_policies")
    );
    assert_eq!(collected.collection.failed().count(), 3);
    assert_eq!(
        collected.collection.outcomes["authorization_policies"]
            .status
            .as_str(),
        "ok"
    );
}
