//! The Microsoft 365 admin-API half of live collection against the imitation tenant: Exchange,
//! the security suite, SPF/DKIM/DMARC over DNS, SharePoint, Teams, Power Platform and Power BI.
//! The sections are built through a hand-made context, so these tests do not depend on Graph.

use mamori_connect::collection::SectionError;
use mamori_connect::m365::{admin, M365Config, M365Context, SectionResult};
use mamori_connect::{Api, HttpSettings};
use mamori_mock_saas::m365::{start, start_with, M365Mock, M365TenantSpec};
use mamori_mock_saas::{Behaviour, Fault};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

fn settings() -> HttpSettings {
    HttpSettings {
        max_attempts: 3,
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        timeout: Duration::from_secs(20),
        ..HttpSettings::default()
    }
}

fn context(mock: &M365Mock, certificate: bool) -> M365Context {
    let mut config: M365Config = serde_json::from_value(mock.config(certificate)).expect("config");
    config.validate().expect("valid config");
    let base = Api::new(settings(), None);
    let service_plans = mock.state.export["service_plans"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["ServicePlanName"].as_str().map(str::to_string))
        .collect();
    M365Context {
        config,
        graph: base.clone(),
        base,
        tenant_id: mock.state.tenant_id.clone(),
        initial_domain: mock.state.initial_domain.clone(),
        domains: Vec::new(),
        service_plans,
    }
}

struct Outcome {
    product: &'static str,
    commands: &'static [&'static str],
    result: Result<Value, SectionError>,
}

async fn collect_admin(ctx: &M365Context) -> BTreeMap<String, Outcome> {
    let (exo, sec, spo, teams, pp, pbi) = tokio::join!(
        admin::collect_exchange(ctx),
        admin::collect_security_suite(ctx),
        admin::collect_sharepoint(ctx),
        admin::collect_teams(ctx),
        admin::collect_power_platform(ctx),
        admin::collect_power_bi(ctx),
    );
    let mut out = BTreeMap::new();
    for r in exo
        .into_iter()
        .chain(sec)
        .chain(spo)
        .chain(teams)
        .chain(pp)
        .chain(pbi)
    {
        let SectionResult {
            section,
            product,
            commands,
            result,
            ..
        } = r;
        // Sections read by two providers (accepted_domains, conn_filter) must agree.
        if let (Some(prev), Ok(v)) = (out.get(&section), &result) {
            let prev: &Outcome = prev;
            if let Ok(p) = &prev.result {
                assert_eq!(p, v, "{section} read twice with different results");
            }
        }
        out.insert(
            section,
            Outcome {
                product,
                commands,
                result,
            },
        );
    }
    out
}

fn ok<'a>(out: &'a BTreeMap<String, Outcome>, section: &str) -> &'a Value {
    match &out
        .get(section)
        .unwrap_or_else(|| panic!("{section} not produced"))
        .result
    {
        Ok(v) => v,
        Err(e) => panic!("{section} failed: {e}"),
    }
}

/// Every key of `truth` is in `got` with an equal value (objects recursively, arrays item by item).
fn contains(got: &Value, truth: &Value) -> bool {
    match (got, truth) {
        (Value::Object(g), Value::Object(t)) => t
            .iter()
            .all(|(k, tv)| g.get(k).is_some_and(|gv| contains(gv, tv))),
        (Value::Array(g), Value::Array(t)) => {
            g.len() == t.len() && g.iter().zip(t).all(|(a, b)| contains(a, b))
        }
        _ => got == truth,
    }
}

fn truth_list(mock: &M365Mock, section: &str) -> Value {
    match mock.state.export.get(section) {
        Some(Value::Array(a)) => Value::Array(a.clone()),
        None | Some(Value::Null) => json!([]),
        Some(v) => json!([v]),
    }
}

const EQUAL_SECTIONS: &[&str] = &[
    "remote_domains",
    "accepted_domains",
    "dkim_config",
    "transport_config",
    "sharing_policy",
    "transport_rule",
    "org_config",
    "conn_filter",
    "inbound_connectors",
    "outbound_connectors",
    "intra_org_connectors",
    "org_relationships",
    "admin_audit_log_config",
    "protection_policy_rules",
    "anti_phish_policies",
    "anti_phish_rules",
    "hosted_content_filter_policies",
    "hosted_content_filter_rules",
    "anti_malware_policies",
    "anti_malware_rules",
    "atp_policy_for_o365",
    "atp_policy_rules",
    "built_in_protection_rules",
    "safe_attachment_policies",
    "safe_attachment_rules",
    "safe_links_policies",
    "safe_links_rules",
    "dlp_compliance_policies",
    "dlp_compliance_rules",
    "protection_alerts",
    "unified_audit_log_retention_policies",
    "meeting_policies",
    "federation_configuration",
    "client_configuration",
    "app_policies",
    "broadcast_policies",
    "tenant_app_settings",
    "environment_creation",
    "dlp_policies",
    "powerbi_tenant_settings",
    "powerbi_license_found",
    "defender_license",
    "defender_dlp_license",
    "OneDrive_PnP_Flag",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_sections_reproduce_the_truth() {
    let mock = start(&M365TenantSpec::demo(), Behaviour::default())
        .await
        .expect("mock");
    let ctx = context(&mock, true);
    let out = collect_admin(&ctx).await;

    for section in EQUAL_SECTIONS {
        let truth = match mock.state.export.get(*section) {
            Some(Value::Bool(b)) => json!(b),
            _ => truth_list(&mock, section),
        };
        assert_eq!(ok(&out, section), &truth, "{section}");
    }
    // Superset shapes: the API carries more than the synthetic truth.
    for section in [
        "SPO_tenant",
        "teams_tenant_info",
        "environment_list",
        "tenant_isolation",
    ] {
        let got = ok(&out, section);
        assert!(
            contains(got, &truth_list(&mock, section)),
            "{section}: {got}"
        );
    }
    assert!(ok(&out, "SPO_tenant")[0]["__metadata"]["type"]
        .as_str()
        .is_some());

    // DNS: the same records as the truth, and the SPF verdict fields.
    for section in ["spf_records", "dkim_records", "dmarc_records"] {
        let got = ok(&out, section).as_array().expect("list").clone();
        let truth = truth_list(&mock, section);
        let truth = truth.as_array().unwrap();
        assert_eq!(got.len(), truth.len(), "{section}");
        for t in truth {
            let g = got
                .iter()
                .find(|g| g["domain"] == t["domain"])
                .unwrap_or_else(|| panic!("{section}: {}", t["domain"]));
            assert_eq!(g["rdata"], t["rdata"], "{section} {}", t["domain"]);
            assert!(!g["log"].as_array().unwrap().is_empty());
            if section == "spf_records" {
                assert_eq!(g["compliant"], json!(true));
                assert_eq!(g["message"], json!("SPF record found."));
            }
        }
    }

    // Products and commands the packs expect.
    assert_eq!(out["SPO_tenant"].product, "SharePoint");
    assert_eq!(out["SPO_tenant"].commands, &["Get-SPOTenantRest"]);
    assert_eq!(
        out["environment_creation"].commands,
        &["Get-PowerPlatformTenantSettingsRest"]
    );
    assert_eq!(out["spf_records"].commands, &["Get-ScubaSpfRecord"]);

    // Requests per section equal the imitation's yardstick (no retries on a quiet run).
    let stats = ctx.base.stats().snapshot();
    let bound = mamori_mock_saas::m365::admin::lower_bound(&mock.state);
    for (section, expected) in &bound {
        let got = stats.get(section).map(|s| s.requests).unwrap_or(0);
        assert_eq!(got, *expected, "requests for {section}");
    }
    for (section, s) in &stats {
        assert!(
            bound.contains_key(section),
            "unexpected requests for {section}: {}",
            s.requests
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_cannot_read_sharepoint_but_the_rest_succeeds() {
    let mock = start(&M365TenantSpec::demo(), Behaviour::default())
        .await
        .expect("mock");
    let ctx = context(&mock, false);
    let out = collect_admin(&ctx).await;
    match &out["SPO_tenant"].result {
        Err(e) => {
            assert_eq!(e.http_status(), Some(401), "{e}");
            assert!(e.to_string().contains("Unsupported app only token."), "{e}");
        }
        Ok(v) => panic!("SPO_tenant read with a secret: {v}"),
    }
    for (section, o) in &out {
        if section != "SPO_tenant" {
            assert!(
                o.result.is_ok(),
                "{section}: {:?}",
                o.result.as_ref().err().map(|e| e.to_string())
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_power_platform_fails_only_its_sections() {
    let behaviour = Behaviour {
        faults: vec![("/bap/".into(), Fault::Status(403))],
        ..Behaviour::default()
    };
    let mock = start(&M365TenantSpec::demo(), behaviour)
        .await
        .expect("mock");
    let ctx = context(&mock, true);
    let out = collect_admin(&ctx).await;
    for section in [
        "environment_creation",
        "environment_list",
        "dlp_policies",
        "tenant_isolation",
    ] {
        let e = out[section]
            .result
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("{section} should fail"));
        assert_eq!(e.http_status(), Some(403), "{section}: {e}");
    }
    for (section, o) in &out {
        if o.product != "powerplatform" {
            assert!(
                o.result.is_ok(),
                "{section}: {:?}",
                o.result.as_ref().err().map(|e| e.to_string())
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_exchange_permission_exchange_and_security_suite_fail_with_a_status() {
    let mock = start_with(&M365TenantSpec::demo(), Behaviour::default(), |app| {
        for perms in app.permissions.values_mut() {
            perms.remove("Exchange.ManageAsApp");
        }
    })
    .await
    .expect("mock");
    let ctx = context(&mock, true);
    let out = collect_admin(&ctx).await;
    for section in [
        "remote_domains",
        "accepted_domains",
        "anti_phish_policies",
        "dlp_compliance_policies",
    ] {
        let e = out[section]
            .result
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("{section} should fail"));
        assert_eq!(e.http_status(), Some(401), "{section}: {e}");
    }
    // The DNS records need the accepted domains, so they fail with them (never an empty list).
    assert!(out["spf_records"].result.is_err());
    assert!(ok(&out, "SPO_tenant").is_array());
    assert!(ok(&out, "meeting_policies").is_array());
}

/// End to end through `collect`: the admin products' controls give the same verdicts on the
/// collected snapshot as on the synthetic truth, and every admin command succeeded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collected_admin_products_give_the_truths_verdicts() {
    use mamori_core::snapshot::SourceKind;
    let mock = start(&M365TenantSpec::demo(), Behaviour::default())
        .await
        .expect("mock");
    let config: M365Config = serde_json::from_value(mock.config(true)).expect("config");
    let collected = mamori_connect::m365::collect(&config, settings(), None)
        .await
        .expect("collection");
    let mut data = Value::Object(collected.collection.data.clone());
    // The operator's ScubaGear configuration (approved forwarding domains, sensitive users…) is
    // not collected; the truth's is used for both.
    data["scuba_config"] = mock.state.export["scuba_config"].clone();
    for product in [
        "exo",
        "securitysuite",
        "SharePoint",
        "teams",
        "powerplatform",
        "powerbi",
    ] {
        assert_eq!(
            data[format!("{product}_unsuccessful_commands")],
            json!([]),
            "{product}"
        );
        let got: Vec<&str> = data[format!("{product}_successful_commands")]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        for cmd in mock.state.export[format!("{product}_successful_commands")]
            .as_array()
            .unwrap()
        {
            let cmd = cmd.as_str().unwrap();
            if cmd.starts_with("Get-Mg") {
                continue;
            }
            assert!(got.contains(&cmd), "{product}: {cmd} missing from {got:?}");
        }
    }
    let engine = mamori_policy::Engine::with_builtin_packs().expect("packs");
    let verdicts = |v: &Value| -> BTreeMap<String, String> {
        engine
            .evaluate(
                "t",
                SourceKind::Scubagear,
                v.clone().into(),
                &mamori_policy::EvalOptions::default(),
            )
            .results
            .iter()
            .filter(|r| !r.id.starts_with("MS.AAD") && !r.id.starts_with("MAMORI"))
            .map(|r| (r.id.clone(), format!("{:?}", r.status)))
            .collect()
    };
    let got = verdicts(&data);
    let truth = verdicts(&mock.state.export);
    assert!(truth.len() > 50, "{}", truth.len());
    let differ: Vec<_> = truth
        .iter()
        .filter(|(id, s)| got.get(*id) != Some(s))
        .map(|(id, s)| format!("{id}: truth {s}, collected {:?}", got.get(id)))
        .collect();
    assert!(differ.is_empty(), "{differ:#?}");
}
