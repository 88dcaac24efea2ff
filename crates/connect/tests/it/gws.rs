//! The Google Workspace connector against the imitation Google APIs: a whole collection, the
//! verdicts it gives, paging, throttling, credential and permission failures, broken
//! responses and secrecy of the key and tokens.

use crate::common;
use mamori_connect::collection::Collected;

use common::{fast, gws_config as config};
use mamori_connect::gws::collect;
use mamori_connect::HttpSettings;
use mamori_core::snapshot::SourceKind;
use mamori_core::Status;
use mamori_mock_saas::gws::{self, GwsTenantSpec};
use mamori_mock_saas::{Behaviour, Fault};
use std::collections::BTreeMap;
use std::time::Duration;

fn statuses(collected: Collected) -> BTreeMap<String, Status> {
    let snapshot = collected.into_snapshot();
    evaluate(&snapshot.data::<serde_json::Value>().expect("snapshot data"))
}

fn evaluate(data: &serde_json::Value) -> BTreeMap<String, Status> {
    let engine = mamori_policy::Engine::with_builtin_packs().expect("packs");
    let input = mamori_policy::Value::from_json_str(&data.to_string()).expect("json");
    let eval = engine.evaluate(
        "test",
        SourceKind::Scubagoggles,
        input,
        &mamori_policy::EvalOptions::default(),
    );
    eval.results.into_iter().map(|r| (r.id, r.status)).collect()
}

fn outcome_reason(c: &Collected, section: &str) -> String {
    c.collection
        .outcomes
        .get(section)
        .and_then(|o| o.reason.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_tenant_collects_and_evaluates_like_the_demo_export() {
    let mock = gws::start(&GwsTenantSpec::demo(), Behaviour::default())
        .await
        .unwrap();
    let collected = collect(&config(&mock), fast(), None)
        .await
        .expect("collection");
    let failed: Vec<_> = collected
        .collection
        .failed()
        .map(|(k, o)| format!("{k}: {:?}", o.reason))
        .collect();
    assert!(failed.is_empty(), "failed sections: {failed:#?}");
    let total = collected.total_requests();
    let per_section: BTreeMap<_, _> = collected
        .stats
        .iter()
        .map(|(k, s)| (k.clone(), s.requests))
        .collect();
    let bound = mock.lower_bound();
    println!(
        "demo: {total} API requests (+{} token requests), per section {per_section:?}",
        bound["token"]
    );
    println!("demo lower bound: {bound:?}");
    for (section, n) in &per_section {
        assert_eq!(
            Some(n),
            bound.get(section),
            "{section}: requests vs lower bound"
        );
    }
    let data = &collected.collection.data;
    assert_eq!(data["tenant_info"]["topLevelOU"], "さくら商事");
    assert_eq!(data["tenant_info"]["ID"], mock.customer_id.as_str());
    assert_eq!(data["mamori_users"].as_array().map(Vec::len), Some(60));
    assert!(data["policies"]
        .as_object()
        .unwrap()
        .contains_key("大阪営業所 (in 営業部)"));
    assert!(data["policies"]
        .as_object()
        .unwrap()
        .contains_key("営業部 (group sales-partners@sakura-trading.co.jp)"));
    // The removed delegation is not current; the three granted ones are.
    assert_eq!(
        data["mamori_domain_wide_delegation"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    let got = statuses(collected);
    let want = evaluate(&mamori_mock_saas::synth::gws_demo());
    let mut differences = Vec::new();
    for (id, status) in &want {
        if got.get(id) != Some(status) {
            differences.push(format!(
                "{id}: demo export {status:?}, collected {:?}",
                got.get(id)
            ));
        }
    }
    println!("differences: {differences:#?}");
    let errors: Vec<_> = got
        .iter()
        .filter(|(_, s)| **s == Status::Error)
        .map(|(id, _)| id.clone())
        .collect();
    assert!(errors.is_empty(), "controls in error: {errors:?}");
    assert!(differences.is_empty(), "{differences:#?}");
    let failing: Vec<_> = got
        .iter()
        .filter(|(_, s)| **s == Status::Fail)
        .map(|(id, _)| id.as_str())
        .collect();
    println!("failing: {failing:?}");
    // Settings the demo tenant seeds as bad: super-admin phishing-resistant MFA, DMARC on the
    // alias domain, Drive external sharing, admins without security keys.
    for id in [
        "GWS.COMMONCONTROLS.1.1v1",
        "GWS.GMAIL.4.2v1",
        "GWS.DRIVEDOCS.1.1v1",
        "MAMORI.GWS.IDENTITY.1",
    ] {
        assert!(failing.contains(&id), "{id} should fail");
    }
    let fails = got.values().filter(|s| **s == Status::Fail).count();
    let passes = got.values().filter(|s| **s == Status::Pass).count();
    assert!(fails >= 5 && passes >= 20, "{fails} fail, {passes} pass");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_uses_the_maximum_page_sizes() {
    let spec = GwsTenantSpec {
        users: 1_234,
        groups: 450,
        org_units: 30,
        extra_audit_events: 2_500,
        ..GwsTenantSpec::demo()
    };
    let mock = gws::start(&spec, Behaviour::default()).await.unwrap();
    let collected = collect(&config(&mock), fast(), None)
        .await
        .expect("collection");
    assert_eq!(collected.collection.failed().count(), 0);
    let bound = mock.lower_bound();
    assert_eq!(bound["users"], 3);
    assert_eq!(bound["group_settings"], 3 + 450);
    for (section, stats) in &collected.stats {
        assert_eq!(Some(&stats.requests), bound.get(section), "{section}");
    }
    assert_eq!(
        collected.collection.data["mamori_users"]
            .as_array()
            .map(Vec::len),
        Some(1_234)
    );
    assert_eq!(
        collected.collection.data["group_settings"]
            .as_array()
            .map(Vec::len),
        Some(450)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_waited_out() {
    let behaviour = Behaviour {
        throttle_every: 5,
        retry_after_secs: 1,
        ..Behaviour::default()
    };
    let mock = gws::start(&GwsTenantSpec::demo(), behaviour).await.unwrap();
    let collected = collect(&config(&mock), fast(), None)
        .await
        .expect("collection");
    assert_eq!(
        collected.collection.failed().count(),
        0,
        "{:?}",
        collected.collection.outcomes
    );
    let throttled: u64 = collected.stats.values().map(|s| s.throttled).sum();
    assert!(throttled > 0);
    assert!(mock.server.counters.throttled() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_key_is_refused_before_any_section() {
    let mock = gws::start(&GwsTenantSpec::demo(), Behaviour::default())
        .await
        .unwrap();
    let mut key = mock.key.clone();
    key["private_key"] = serde_json::json!(mamori_mock_saas::keys::generate().private_pem);
    let mut cfg = config(&mock);
    cfg.service_account_key_json = Some(mamori_connect::Secret::new(key.to_string()));
    let err = collect(&cfg, fast(), None).await.expect_err("must fail");
    let text = err.to_string();
    assert!(
        text.contains("invalid_grant") && text.contains("Invalid JWT Signature."),
        "{text}"
    );
    assert!(text.contains("/token"), "{text}");
    assert!(!text.contains("PRIVATE KEY"), "{text}");
    assert_eq!(
        mock.server.counters.requests(),
        mock.server
            .counters
            .by_path
            .lock()
            .unwrap()
            .get("/token")
            .copied()
            .unwrap_or(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undelegated_scope_fails_only_its_sections() {
    let spec = GwsTenantSpec {
        delegated_scopes: Some(
            mamori_connect::gws::SCOPES
                .iter()
                .filter(|s| !s.ends_with("admin.reports.audit.readonly"))
                .map(|s| s.to_string())
                .collect(),
        ),
        ..GwsTenantSpec::demo()
    };
    let mock = gws::start(&spec, Behaviour::default()).await.unwrap();
    let collected = collect(&config(&mock), fast(), None)
        .await
        .expect("collection");
    let reason = outcome_reason(&collected, "gmail_logs");
    assert!(reason.contains("unauthorized_client"), "{reason}");
    assert!(
        reason
            .contains("the app needs https://www.googleapis.com/auth/admin.reports.audit.readonly"),
        "{reason}"
    );
    assert!(!collected.collection.data.contains_key("gmail_logs"));
    assert!(collected.collection.data.contains_key("policies"));
    assert_eq!(
        collected.collection.outcomes["policies"].status.as_str(),
        "ok"
    );
    let got = statuses(collected);
    let errors = got.values().filter(|s| **s == Status::Error).count();
    let judged = got
        .values()
        .filter(|s| matches!(s, Status::Pass | Status::Fail))
        .count();
    assert!(errors > 0, "controls reading the logs report error");
    assert!(judged > 20, "the rest is still judged ({judged})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_fails_one_section() {
    let behaviour = Behaviour {
        faults: vec![("/v1/inboundSsoAssignments".into(), Fault::Malformed)],
        ..Behaviour::default()
    };
    let mock = gws::start(&GwsTenantSpec::demo(), behaviour).await.unwrap();
    let collected = collect(&config(&mock), fast(), None)
        .await
        .expect("collection");
    let failed: Vec<_> = collected
        .collection
        .failed()
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(failed, vec!["inbound_sso_assignments".to_string()]);
    assert!(outcome_reason(&collected, "inbound_sso_assignments").contains("not valid JSON"));
    assert!(collected.collection.data["inbound_sso_assignments_error"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_response_fails_its_section() {
    let behaviour = Behaviour {
        faults: vec![("/customer/my_customer/roles".into(), Fault::Huge(100 << 20))],
        ..Behaviour::default()
    };
    let mock = gws::start(&GwsTenantSpec::demo(), behaviour).await.unwrap();
    let collected = collect(&config(&mock), fast(), None)
        .await
        .expect("collection");
    let reason = outcome_reason(&collected, "privileged_users");
    assert!(reason.contains("larger than"), "{reason}");
    assert!(collected.collection.data["privileged_users_error"].is_string());
    assert_eq!(
        collected.collection.outcomes["policies"].status.as_str(),
        "ok"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_api_times_out() {
    let behaviour = Behaviour {
        faults: vec![("/v1/policies".into(), Fault::Hang(Duration::from_secs(30)))],
        ..Behaviour::default()
    };
    let mock = gws::start(&GwsTenantSpec::demo(), behaviour).await.unwrap();
    let settings = HttpSettings {
        timeout: Duration::from_millis(500),
        max_attempts: 2,
        ..fast()
    };
    let collected = collect(&config(&mock), settings, None)
        .await
        .expect("collection");
    let reason = outcome_reason(&collected, "policies");
    assert!(reason.contains("no answer within"), "{reason}");
    assert_eq!(
        collected.collection.outcomes["group_settings"]
            .status
            .as_str(),
        "ok"
    );
}
