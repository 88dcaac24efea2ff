//! The authorization matrix: every endpoint of the OpenAPI document × every role, with the
//! expected answer written out here (not derived from the server's own table), plus the
//! customer boundary: a customer's users get 404 for another customer's objects and never see
//! them in a list. Runs the real server on port 0 over HTTP, with two customers scanned through
//! the imitation Microsoft 365 API.

use crate::common;

use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Role columns: OA operator_admin, AN analyst, IN investigator, BI billing,
/// CA customer_admin (customer A), CV customer_viewer (customer A).
const ROLES: [&str; 6] = ["OA", "AN", "IN", "BI", "CA", "CV"];

/// (method, path template, roles allowed). `ALL` = every signed-in role.
const MATRIX: &[(&str, &str, &str)] = &[
    ("GET", "/api/v1/me", "ALL"),
    ("GET", "/api/v1/customers", "ALL"),
    ("POST", "/api/v1/customers", "OA"),
    ("GET", "/api/v1/customers/{id}", "ALL"),
    ("GET", "/api/v1/tenants", "OA AN IN CA CV"),
    ("POST", "/api/v1/tenants", "OA"),
    ("GET", "/api/v1/tenants/{id}", "OA AN IN CA CV"),
    ("PUT", "/api/v1/tenants/{id}/schedule", "OA"),
    ("GET", "/api/v1/tenants/{id}/scores", "OA AN IN CA CV"),
    ("POST", "/api/v1/tenants/{id}/scans", "OA AN CA"),
    ("GET", "/api/v1/tenants/{id}/logs", "OA AN IN CA CV"),
    ("POST", "/api/v1/tenants/{id}/logs/{source}", "OA AN CA"),
    // After the pushes: suspended, then resumed.
    ("POST", "/api/v1/tenants/{id}/logs/suspend", "OA"),
    ("POST", "/api/v1/tenants/{id}/logs/resume", "OA"),
    ("GET", "/api/v1/scans", "OA AN IN CA CV"),
    ("GET", "/api/v1/scans/{id}", "OA AN IN CA CV"),
    ("GET", "/api/v1/scans/{id}/results", "OA AN IN CA CV"),
    ("GET", "/api/v1/scans/{id}/drift", "OA AN IN CA CV"),
    ("GET", "/api/v1/findings", "OA AN IN CA CV"),
    ("GET", "/api/v1/findings/{id}", "OA AN IN CA CV"),
    ("GET", "/api/v1/alerts", "OA AN IN CA CV"),
    ("GET", "/api/v1/alerts/{id}", "OA AN IN CA CV"),
    ("POST", "/api/v1/alerts/{id}/status", "OA AN CA"),
    ("GET", "/api/v1/exceptions", "OA AN IN CA CV"),
    ("POST", "/api/v1/exceptions", "OA AN CA"),
    ("GET", "/api/v1/exceptions/{id}", "OA AN IN CA CV"),
    ("POST", "/api/v1/exceptions/{id}/approve", "OA AN CA"),
    ("POST", "/api/v1/exceptions/{id}/reject", "OA AN CA"),
    ("POST", "/api/v1/exceptions/{id}/revoke", "OA AN CA"),
    ("GET", "/api/v1/users", "OA CA"),
    ("POST", "/api/v1/users", "OA CA"),
    ("POST", "/api/v1/users/{id}/disable", "OA CA"),
    ("POST", "/api/v1/users/{id}/enable", "OA CA"),
    ("POST", "/api/v1/users/{id}/password", "OA CA"),
    ("POST", "/api/v1/users/{id}/revoke", "OA CA"),
    ("POST", "/api/v1/me/password", "ALL"),
    ("GET", "/api/v1/tokens", "ALL"),
    ("POST", "/api/v1/tokens", "ALL"),
    ("DELETE", "/api/v1/tokens/{id}", "ALL"),
    ("GET", "/api/v1/jobs", "OA"),
    ("GET", "/api/v1/audit", "OA"),
    ("GET", "/api/v1/notification-channels", "OA CA"),
    ("POST", "/api/v1/notification-channels", "OA CA"),
    ("DELETE", "/api/v1/notification-channels/{id}", "OA CA"),
];

fn allowed(spec: &str, role: &str) -> bool {
    spec == "ALL" || spec.split_whitespace().any(|r| r == role)
}

#[test]
fn matrix_covers_every_documented_operation() {
    let documented = mamori_server::openapi::described();
    for (method, path) in &documented {
        if path == "/api/v1/openapi.json" {
            continue;
        }
        assert!(
            MATRIX.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} is in the OpenAPI document but not in the authorization matrix"
        );
    }
    for (m, p, _) in MATRIX {
        assert!(
            documented.iter().any(|(dm, dp)| dm == m && dp == p),
            "{m} {p} is in the matrix but not documented"
        );
    }
}

/// Builds the request for one endpoint, preparing fresh objects for writes. `foreign` targets
/// customer B's object instead of customer A's.
async fn prepare(
    w: &World,
    actor: &Actor,
    method: &str,
    path: &str,
    foreign: bool,
) -> (String, Option<Value>) {
    let (customer, tenant) = if foreign {
        (w.customer_b, w.tenant_b)
    } else {
        (w.customer_a, w.tenant_a)
    };
    let scan = if foreign { w.scan_b } else { w.scan_a };
    let finding = if foreign { w.finding_b } else { w.finding_a };
    let unique = unique();
    let id: i64 = match path {
        p if p.starts_with("/api/v1/customers/") => customer,
        p if p.starts_with("/api/v1/tenants/") => tenant,
        p if p.starts_with("/api/v1/scans/") => scan,
        p if p.starts_with("/api/v1/findings/") => finding,
        p if p.starts_with("/api/v1/alerts/") => w.alert(tenant).await,
        "/api/v1/exceptions/{id}" => w.exception(tenant, None).await,
        "/api/v1/exceptions/{id}/approve" | "/api/v1/exceptions/{id}/reject" => {
            w.exception(tenant, None).await
        }
        "/api/v1/exceptions/{id}/revoke" => w.exception(tenant, Some(true)).await,
        "/api/v1/tokens/{id}" => w.token_of(actor.user_id).await,
        p if p.starts_with("/api/v1/users/") => w.fresh_user(customer).await,
        "/api/v1/notification-channels/{id}" => w.channel(customer).await,
        _ => 0,
    };
    let body = match (method, path) {
        ("POST", "/api/v1/customers") => Some(json!({"name": format!("Customer {unique}")})),
        ("POST", "/api/v1/tenants") => Some(json!({
            "customer_id": customer, "app": "m365", "display_name": format!("t{unique}.onmicrosoft.com"),
            "credentials": w.m365_credentials, "schedule_cron": "0 3 * * *"})),
        ("PUT", _) => Some(json!({"cron": "30 4 * * *", "time_zone": "Asia/Tokyo"})),
        ("POST", "/api/v1/exceptions") => Some(json!({
            "tenant_id": tenant, "control_id": w.control_a, "resource_key": format!("r{unique}"),
            "reason": "compensating control", "expires_at": in_days(30)})),
        ("POST", p) if p.starts_with("/api/v1/exceptions/") => Some(json!({"note": "ok"})),
        ("POST", "/api/v1/alerts/{id}/status") => {
            Some(json!({"status": "acknowledged", "note": "looking into it"}))
        }
        // One NDJSON line (the JSON body is one object on one line).
        ("POST", "/api/v1/tenants/{id}/logs/{source}") => {
            Some(json!({"id": format!("event-{unique}"), "userPrincipalName": "a@example.com"}))
        }
        ("POST", "/api/v1/tenants/{id}/logs/suspend") => Some(json!({"reason": "flooding"})),
        ("POST", "/api/v1/tenants/{id}/logs/resume") => Some(json!({"note": "calm again"})),
        ("POST", "/api/v1/users") => Some(json!({
            "username": format!("user{unique}"), "role": "customer_viewer",
            "customer_id": customer, "password": "long-enough-password"})),
        ("POST", "/api/v1/tokens") => Some(json!({"name": "automation"})),
        ("POST", "/api/v1/users/{id}/password") => {
            Some(json!({"password": "a brand-new password"}))
        }
        // The same password again: every role may change its own, and the matrix's token
        // (the one making the change) stays.
        ("POST", "/api/v1/me/password") => {
            Some(json!({"current_password": PASSWORD, "new_password": PASSWORD}))
        }
        ("POST", "/api/v1/notification-channels") => Some(json!({
            "name": "soc", "customer_id": customer, "min_severity": "high",
            "config": {"kind": "webhook", "url": "http://127.0.0.1:9/hook", "secret": "s3cret-value-0123456789"}})),
        _ => None,
    };
    (
        path.replace("{id}", &id.to_string())
            .replace("{source}", "entra-signin"),
        body,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_every_role() {
    let w = World::start().await;
    let mut failures = Vec::new();
    for (method, template, spec) in MATRIX {
        for role in ROLES {
            let actor = w.actor(role);
            let customer_user = role == "CA" || role == "CV";
            let scoped = template.contains("{id}") && !template.starts_with("/api/v1/tokens/");
            // Own (customer A's) objects.
            let (path, body) = prepare(&w, actor, method, template, false).await;
            let status = w.call(actor, method, &path, body).await.0;
            let ok = status.is_success();
            if allowed(spec, role) != ok || (!ok && status != StatusCode::FORBIDDEN) {
                failures.push(format!(
                    "{role} {method} {path}: {status} (allowed: {})",
                    allowed(spec, role)
                ));
            }
            // Customer B's objects: 404 for customer users, like a missing id.
            if scoped && allowed(spec, role) {
                let (path, body) = prepare(&w, actor, method, template, true).await;
                let status = w.call(actor, method, &path, body).await.0;
                let expected_ok = !customer_user;
                if expected_ok != status.is_success()
                    || (!expected_ok && status != StatusCode::NOT_FOUND)
                {
                    failures.push(format!("{role} {method} {path} (other customer): {status}"));
                }
            }
        }
        // Nobody signed in.
        let (path, body) = prepare(&w, w.actor("OA"), method, template, false).await;
        let status = w.call_anonymous(method, &path, body).await;
        if status != StatusCode::UNAUTHORIZED {
            failures.push(format!("anonymous {method} {path}: {status}"));
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix violations:\n{}",
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_users_never_see_another_customer_in_lists() {
    let w = World::start().await;
    let a_tenants: Vec<i64> = vec![w.tenant_a];
    // Make sure customer B has objects of every kind a list could leak.
    w.exception(w.tenant_b, None).await;
    w.channel(w.customer_b).await;
    for role in ["CA", "CV"] {
        let actor = w.actor(role);
        let (_, customers) = w.call(actor, "GET", "/api/v1/customers", None).await;
        let ids: Vec<i64> = items(&customers)
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![w.customer_a], "{role} customers");
        let (_, tenants) = w.call(actor, "GET", "/api/v1/tenants", None).await;
        assert!(
            items(&tenants)
                .iter()
                .all(|t| t["customer_id"] == w.customer_a),
            "{role} tenants"
        );
        let (_, findings) = w
            .call(actor, "GET", "/api/v1/findings?limit=500", None)
            .await;
        assert!(!items(&findings).is_empty(), "{role} sees its own findings");
        assert!(
            items(&findings)
                .iter()
                .all(|f| f["customer_id"] == w.customer_a),
            "{role} findings"
        );
        let (_, f) = w
            .call(
                actor,
                "GET",
                &format!("/api/v1/findings?customer_id={}", w.customer_b),
                None,
            )
            .await;
        assert_eq!(f["total"], 0, "{role} filtering on customer B gets nothing");
        let (_, scans) = w.call(actor, "GET", "/api/v1/scans", None).await;
        assert!(
            items(&scans)
                .iter()
                .all(|s| a_tenants.contains(&s["tenant_id"].as_i64().unwrap())),
            "{role} scans"
        );
        let (_, ex) = w.call(actor, "GET", "/api/v1/exceptions", None).await;
        assert!(
            items(&ex).iter().all(|e| e["customer_id"] == w.customer_a),
            "{role} exceptions"
        );
    }
    let ca = w.actor("CA");
    let (_, users) = w.call(ca, "GET", "/api/v1/users", None).await;
    assert!(
        items(&users)
            .iter()
            .all(|u| u["customer_id"] == w.customer_a),
        "customer admin users"
    );
    let (_, channels) = w
        .call(ca, "GET", "/api/v1/notification-channels", None)
        .await;
    assert!(
        items(&channels)
            .iter()
            .all(|c| c["customer_id"] == w.customer_a),
        "customer admin channels"
    );
    // A customer admin cannot mint operator staff or users of another customer.
    let (status, _) = w
        .call(ca, "POST", "/api/v1/users", Some(json!({"username": "evil", "role": "operator_admin", "password": "long-enough-password"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = w
        .call(ca, "POST", "/api/v1/users", Some(json!({"username": "evil2", "role": "customer_admin", "customer_id": w.customer_b, "password": "long-enough-password"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_writes_need_the_csrf_token_and_bad_tokens_are_refused() {
    let w = World::start().await;
    let client = w.session("operator-a").await;
    let body = json!({"name": "from the browser"});
    let r = client
        .http
        .post(format!("{}/api/v1/tokens", w.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no CSRF header");
    let r = client
        .http
        .post(format!("{}/api/v1/tokens", w.base))
        .header("x-csrf-token", "forged")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "wrong CSRF header");
    let r = client
        .http
        .post(format!("{}/api/v1/tokens", w.base))
        .header("x-csrf-token", &client.csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // A page form without the token is refused too.
    let r = client
        .http
        .post(format!("{}/tenants/{}/scan", w.base, w.tenant_a))
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A wrong or revoked bearer token never falls back to anything.
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/api/v1/me", w.base))
        .bearer_auth("mmr_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let oa = w.actor("OA");
    let (_, created) = w
        .call(
            oa,
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "short-lived"})),
        )
        .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    let id = created["token"]["id"].as_i64().unwrap();
    let r = http
        .get(format!("{}/api/v1/me", w.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, _) = w
        .call(oa, "DELETE", &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let r = http
        .get(format!("{}/api/v1/me", w.base))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_is_rate_limited_and_pages_carry_security_headers() {
    let w = World::start().await;
    // Signed in before the failures below block this address.
    let session = w.session("analyst-a").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..5 {
        let r = http
            .post(format!("{}/login", w.base))
            .form(&[("username", "operator-a"), ("password", "wrong password!")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = http
        .post(format!("{}/login", w.base))
        .form(&[("username", "operator-a"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(r.headers().contains_key("retry-after"));
    let r = http.get(format!("{}/login", w.base)).send().await.unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let r = session
        .http
        .get(format!("{}/", w.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(text.contains("id=\"customers\""), "overview renders");
    assert!(!text.contains("<script"), "no script on pages");
}
