//! The Microsoft 365 connector against the imitation tenant, end to end: collect through the
//! real HTTP plumbing, then evaluate the snapshot with the m365 pack.

use mamori_connect::m365::{collect, M365Config};
use mamori_connect::HttpSettings;
use mamori_core::snapshot::SourceKind;
use mamori_core::Status;
use mamori_mock_saas::m365::{start, M365TenantSpec};
use mamori_mock_saas::Behaviour;
use serde_json::Value;

fn config(mock: &mamori_mock_saas::m365::M365Mock, certificate: bool) -> M365Config {
    serde_json::from_value(mock.config(certificate)).expect("mock config is a valid M365Config")
}

fn evaluate(data: &Value) -> mamori_core::Evaluation {
    let engine = mamori_policy::Engine::with_builtin_packs().expect("builtin packs load");
    engine.evaluate("collected", SourceKind::Scubagear, data.clone().into(), &mamori_policy::EvalOptions::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tenant_collects_and_evaluates() {
    let mock = start(&M365TenantSpec::demo(), Behaviour::default()).await.unwrap();
    let collected = collect(&config(&mock, true), HttpSettings::default(), None).await.expect("collection");
    let failed: Vec<_> = collected.collection.failed().map(|(k, o)| format!("{k}: {:?}", o.reason)).collect();
    for (section, stats) in &collected.stats {
        eprintln!("{section}: {} requests", stats.requests);
    }
    eprintln!("total {} requests; failed sections: {failed:#?}", collected.total_requests());
    let data = Value::Object(collected.collection.data.clone());
    let evaluation = evaluate(&data);
    let errors: Vec<_> = evaluation
        .results
        .iter()
        .filter(|r| r.status == Status::Error)
        .map(|r| format!("{} {}", r.id, r.details.en))
        .collect();
    eprintln!("errors: {errors:#?}");
    let aad_errors: Vec<_> = errors.iter().filter(|e| e.starts_with("MS.AAD") || e.starts_with("MAMORI.M365")).collect();
    assert!(aad_errors.is_empty(), "Entra ID controls in error: {aad_errors:#?}");
    // The demo tenant seeds failures (SMS allowed, a stale admin, risky third-party apps).
    assert!(evaluation.count(Status::Fail) > 0);
    assert!(evaluation.count(Status::Pass) > 10);
}
