use mamori_mock_saas::gws::{self, GwsTenantSpec};
use mamori_mock_saas::logs::{iso_plain, iso_z, parse_time, AttackKind, Source, DAY, HOUR};
use mamori_mock_saas::m365::{self, audience, M365Mock, M365TenantSpec};
use mamori_mock_saas::Behaviour;
use serde_json::{json, Value};
use std::collections::HashSet;

fn clock() -> jiff::Timestamp {
    "2026-11-26T03:00:00Z".parse().unwrap()
}

fn now_ms() -> i64 {
    clock().as_millisecond()
}

fn m365_spec() -> M365TenantSpec {
    M365TenantSpec {
        log_clock: Some(clock()),
        ..M365TenantSpec::demo()
    }
}

async fn m365_token(mock: &M365Mock, resource: &str) -> String {
    let app = &mock.state.app;
    let r: Value = reqwest::Client::new()
        .post(format!(
            "{}/login/{}/oauth2/v2.0/token",
            mock.base_url(),
            mock.state.tenant_id
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("scope", &format!("{resource}/.default")),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().expect("token").to_string()
}

struct Api {
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn get(&self, url: &str) -> reqwest::Response {
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, url: &str) -> reqwest::Response {
        self.http
            .post(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }
}

async fn error_code(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_activity_api_lists_pages_and_serves_content() {
    let mock = m365::start(&m365_spec(), Behaviour::default())
        .await
        .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        token: m365_token(&mock, audience::MANAGEMENT).await,
    };
    let root = format!(
        "{}/api/v1.0/{}/activity/feed",
        mock.management_url(),
        mock.state.tenant_id
    );
    let sp = "Audit.SharePoint";

    // No content before the subscription is started.
    let r = api
        .get(&format!("{root}/subscriptions/content?contentType={sp}"))
        .await;
    assert_eq!(error_code(r).await, (400, "AF20022".into()));
    let r = api
        .post(&format!("{root}/subscriptions/start?contentType={sp}"))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"contentType": sp, "status": "enabled", "webhook": null})
    );
    // Started again without a change: AF20024, the subscription stays enabled.
    let r = api
        .post(&format!("{root}/subscriptions/start?contentType={sp}"))
        .await;
    assert_eq!(error_code(r).await, (400, "AF20024".into()));
    let r = api
        .post(&format!(
            "{root}/subscriptions/start?contentType=Audit.Nothing"
        ))
        .await;
    assert_eq!(error_code(r).await, (400, "AF20020".into()));
    let list: Value = api
        .get(&format!("{root}/subscriptions/list"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["contentType"], sp);
    assert_eq!(list[0]["status"], "enabled");

    // The window of the mass download, paged by NextPageUri.
    let store = mock.state.logs();
    let attack = store
        .manifest
        .of_kind(AttackKind::MassDownload)
        .next()
        .unwrap()
        .clone();
    let start = attack.start_ms - 2 * HOUR;
    let mut url = format!(
        "{root}/subscriptions/content?contentType={sp}&startTime={}&endTime={}",
        iso_plain(start),
        iso_plain(start + 24 * HOUR)
    );
    let mut blobs = Vec::new();
    let mut pages = 0;
    loop {
        let r = api.get(&url).await;
        assert_eq!(r.status(), 200);
        let next = r
            .headers()
            .get("NextPageUri")
            .map(|v| v.to_str().unwrap().to_string());
        let page: Vec<Value> = r.json().await.unwrap();
        blobs.extend(page);
        pages += 1;
        match next {
            Some(n) => {
                assert!(n.contains("nextPage="), "{n}");
                url = n;
            }
            None => break,
        }
    }
    assert!(pages >= 2, "{pages} pages");
    let mut ids: HashSet<String> = HashSet::new();
    let mut records = 0;
    for b in &blobs {
        let created = parse_time(b["contentCreated"].as_str().unwrap()).unwrap();
        assert!(created >= start && created < start + 24 * HOUR);
        assert_eq!(b["contentType"], sp);
        let content: Vec<Value> = api
            .get(b["contentUri"].as_str().unwrap())
            .await
            .json()
            .await
            .unwrap();
        for rec in content {
            assert_eq!(rec["Workload"], "SharePoint");
            assert!(rec["CreationTime"].as_str().unwrap().len() == 19, "no zone");
            ids.insert(rec["Id"].as_str().unwrap().to_string());
            records += 1;
        }
    }
    assert!(records > 1_000, "{records}");
    for r in attack.events_in(Source::M365) {
        assert!(ids.contains(&r.id), "attack event {} listed", r.id);
    }

    // The documented limits.
    for query in [
        format!("startTime={}", iso_plain(start)),
        format!(
            "startTime={}&endTime={}",
            iso_plain(start),
            iso_plain(start + 25 * HOUR)
        ),
        format!(
            "startTime={}&endTime={}",
            iso_plain(now_ms() - 8 * DAY),
            iso_plain(now_ms() - 7 * DAY - HOUR)
        ),
        format!(
            "startTime={}&endTime={}",
            iso_plain(start + HOUR),
            iso_plain(start)
        ),
    ] {
        let r = api
            .get(&format!(
                "{root}/subscriptions/content?contentType={sp}&{query}"
            ))
            .await;
        let (status, code) = error_code(r).await;
        assert_eq!((status, code.as_str()), (400, "AF20055"), "{query}");
    }
    let r = api
        .get(&format!(
            "{root}/subscriptions/content?contentType={sp}&nextPage=garbage"
        ))
        .await;
    assert_eq!(error_code(r).await, (400, "AF20031".into()));
    let r = api
        .get(&format!(
            "{root}/audit/202611260000$202611260000$nothing$00"
        ))
        .await;
    assert_eq!(error_code(r).await, (404, "AF20050".into()));
    let r = api
        .get(&format!(
            "{}/api/v1.0/{}/activity/feed/subscriptions/list",
            mock.management_url(),
            "00000000-0000-0000-0000-000000000000"
        ))
        .await;
    assert_eq!(error_code(r).await, (400, "AF20010".into()));

    // Stopped: no more content.
    let r = api
        .post(&format!("{root}/subscriptions/stop?contentType={sp}"))
        .await;
    assert_eq!(r.status(), 200);
    let r = api.get(blobs[0]["contentUri"].as_str().unwrap()).await;
    assert_eq!(error_code(r).await, (400, "AF20022".into()));

    // A Graph token is no Management API token.
    let graph = Api {
        http: reqwest::Client::new(),
        token: m365_token(&mock, audience::GRAPH).await,
    };
    assert_eq!(
        graph
            .get(&format!("{root}/subscriptions/list"))
            .await
            .status(),
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_activity_api_needs_activity_feed_read() {
    let mock = m365::start_with(&m365_spec(), Behaviour::default(), |app| {
        app.permissions
            .insert(audience::MANAGEMENT.to_string(), HashSet::new());
    })
    .await
    .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        token: m365_token(&mock, audience::MANAGEMENT).await,
    };
    let r = api
        .get(&format!(
            "{}/api/v1.0/{}/activity/feed/subscriptions/list",
            mock.management_url(),
            mock.state.tenant_id
        ))
        .await;
    assert_eq!(error_code(r).await, (403, "AF10001".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_audit_logs_filter_page_newest_first() {
    let mock = m365::start(&m365_spec(), Behaviour::default())
        .await
        .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        token: m365_token(&mock, audience::GRAPH).await,
    };
    let store = mock.state.logs();
    let attack = store
        .manifest
        .of_kind(AttackKind::MfaFatigue)
        .next()
        .unwrap()
        .clone();
    let (from, to) = (attack.start_ms - HOUR, attack.end_ms + HOUR);
    // The filter is to the second.
    let (from, to) = (from - from % 1000, to - to % 1000);
    let filter = format!(
        "createdDateTime ge {} and createdDateTime le {}",
        iso_z(from),
        iso_z(to)
    );
    let mut url = format!(
        "{}/graph/beta/auditLogs/signIns?$filter={}&$top=10",
        mock.base_url(),
        urlencode(&filter)
    );
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let body: Value = api.get(&url).await.json().await.unwrap();
        pages += 1;
        for s in body["value"].as_array().unwrap() {
            seen.push(s.clone());
        }
        match body["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    assert!(pages >= 2, "{pages} pages");
    let times: Vec<i64> = seen
        .iter()
        .map(|s| parse_time(s["createdDateTime"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert!(times.iter().all(|t| *t >= from && *t < to + 1000));
    let want = store.stream("signIns").range(from, to + 1000).len();
    assert_eq!(seen.len(), want);
    let ids: HashSet<&str> = seen.iter().map(|s| s["id"].as_str().unwrap()).collect();
    for r in attack.events_in(Source::EntraSignin) {
        assert!(ids.contains(r.id.as_str()));
    }
    assert!(seen.iter().any(|s| s["authenticationDetails"].is_array()));

    // v1.0 has no beta-only properties; the default page is 1,000.
    let v1: Value = api
        .get(&format!("{}/graph/v1.0/auditLogs/signIns", mock.base_url()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v1["value"].as_array().unwrap().len(), 1000);
    assert!(v1["value"][0].get("authenticationDetails").is_none());
    assert!(v1["@odata.nextLink"].is_string());

    // Directory audits carry the role grant.
    let grant = store
        .manifest
        .of_kind(AttackKind::AdminRoleGranted)
        .next()
        .unwrap()
        .clone();
    let filter = format!(
        "activityDateTime ge {} and activityDateTime lt {}",
        iso_z(grant.start_ms),
        iso_z(grant.start_ms + 1000)
    );
    let body: Value = api
        .get(&format!(
            "{}/graph/v1.0/auditLogs/directoryAudits?$filter={}",
            mock.base_url(),
            urlencode(&filter)
        ))
        .await
        .json()
        .await
        .unwrap();
    let found: Vec<&Value> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["activityDisplayName"] == "Add member to role")
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0]["initiatedBy"]["user"]["userPrincipalName"],
        grant.actor.as_str()
    );

    // A filter the API does not take.
    for f in [
        "createdDateTime ge '2026-11-20'",
        "userDisplayName eq 'x'",
        "createdDateTime ge",
    ] {
        let r = api
            .get(&format!(
                "{}/graph/v1.0/auditLogs/signIns?$filter={}",
                mock.base_url(),
                urlencode(f)
            ))
            .await;
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            (
                status,
                body["error"]["code"].as_str(),
                body["error"]["message"].as_str()
            ),
            (400, Some("BadRequest"), Some("Invalid filter clause")),
            "{f}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_audit_logs_need_audit_log_read_all() {
    let mock = m365::start_with(&m365_spec(), Behaviour::default(), |app| {
        if let Some(p) = app.permissions.get_mut(audience::GRAPH) {
            p.remove("AuditLog.Read.All");
        }
    })
    .await
    .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        token: m365_token(&mock, audience::GRAPH).await,
    };
    for path in ["signIns", "directoryAudits"] {
        let r = api
            .get(&format!("{}/graph/v1.0/auditLogs/{path}", mock.base_url()))
            .await;
        assert_eq!(
            error_code(r).await,
            (403, "Authorization_RequestDenied".into())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_endpoints_throttle_with_retry_after() {
    let behaviour = Behaviour {
        throttle_every: 2,
        retry_after_secs: 3,
        ..Behaviour::default()
    };
    let mock = m365::start(&m365_spec(), behaviour).await.unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        token: m365_token(&mock, audience::GRAPH).await,
    };
    let url = format!("{}/graph/v1.0/auditLogs/signIns?$top=5", mock.base_url());
    let mut throttled = 0;
    for _ in 0..4 {
        let r = api.get(&url).await;
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "3");
            throttled += 1;
        } else {
            assert_eq!(r.status(), 200);
        }
    }
    assert!(throttled >= 1);
    assert!(mock.server.counters.throttled() >= 1);
}

fn urlencode(s: &str) -> String {
    url_escape(s)
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------- Google Workspace

async fn gws_token(mock: &gws::GwsMock, scope: &str) -> reqwest::Response {
    let now = jiff::Timestamp::now().as_second();
    let claims = json!({"iss": mock.key["client_email"], "sub": mock.subject, "scope": scope, "aud": mock.token_uri(), "iat": now, "exp": now + 3600});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(
        mock.key["private_key"].as_str().unwrap().as_bytes(),
    )
    .unwrap();
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap();
    reqwest::Client::new()
        .post(mock.token_uri())
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_api_serves_the_activity_streams() {
    let spec = GwsTenantSpec {
        log_clock: Some(clock()),
        ..GwsTenantSpec::demo()
    };
    let mock = gws::start(&spec, Behaviour::default()).await.unwrap();
    let token: Value = gws_token(
        &mock,
        "https://www.googleapis.com/auth/admin.reports.audit.readonly",
    )
    .await
    .json()
    .await
    .unwrap();
    let api = Api {
        http: reqwest::Client::new(),
        token: token["access_token"].as_str().unwrap().to_string(),
    };
    let store = mock.logs();
    let base = format!(
        "{}/admin/reports/v1/activity/users/all/applications",
        mock.base_url()
    );

    // The password spray, by address.
    let spray = store
        .manifest
        .attacks
        .iter()
        .find(|a| a.kind == AttackKind::PasswordSpray && a.product == "gws")
        .unwrap()
        .clone();
    let body: Value = api
        .get(&format!("{base}/login?actorIpAddress={}", spray.ip))
        .await
        .json()
        .await
        .unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), spray.events.len());
    assert!(items
        .iter()
        .all(|i| i["ipAddress"] == spray.ip.as_str() && i["kind"] == "admin#reports#activity"));

    // Paging over a day of logins, newest first, within the window.
    let (from, to) = (now_ms() - 2 * DAY, now_ms() - DAY);
    let mut url = format!(
        "{base}/login?startTime={}&endTime={}&maxResults=100",
        iso_z(from),
        iso_z(to)
    );
    let mut times = Vec::new();
    let mut pages = 0;
    loop {
        let body: Value = api.get(&url).await.json().await.unwrap();
        pages += 1;
        for i in body["items"].as_array().into_iter().flatten() {
            times.push(parse_time(i["id"]["time"].as_str().unwrap()).unwrap());
        }
        match body["nextPageToken"].as_str() {
            Some(t) => {
                url = format!(
                    "{base}/login?startTime={}&endTime={}&maxResults=100&pageToken={t}",
                    iso_z(from),
                    iso_z(to)
                )
            }
            None => break,
        }
    }
    assert!(pages >= 2, "{pages}");
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
    assert!(times.iter().all(|t| *t >= from && *t <= to));

    // eventName filter; the attacks are there.
    let body: Value = api
        .get(&format!("{base}/drive?eventName=delete"))
        .await
        .json()
        .await
        .unwrap();
    let deletes = body["items"].as_array().unwrap();
    let mass = store
        .manifest
        .attacks
        .iter()
        .find(|a| a.kind == AttackKind::MassDeletion && a.product == "gws")
        .unwrap();
    assert!(deletes.len() >= mass.events.len());
    assert!(deletes.iter().all(|d| d["events"][0]["name"] == "delete"));
    let grant = store
        .manifest
        .attacks
        .iter()
        .find(|a| a.kind == AttackKind::AdminRoleGranted && a.product == "gws")
        .unwrap();
    let body: Value = api
        .get(&format!("{base}/admin?eventName=GRANT_ADMIN_PRIVILEGE"))
        .await
        .json()
        .await
        .unwrap();
    assert!(body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["actor"]["email"] == grant.actor.as_str()));
    let body: Value = api
        .get(&format!("{base}/token?eventName=authorize&maxResults=1000"))
        .await
        .json()
        .await
        .unwrap();
    assert!(body.to_string().contains("https://mail.google.com/"));

    // Errors.
    let r = api.get(&format!("{base}/login?maxResults=1001")).await;
    assert_eq!(r.status(), 400);
    let r = api.get(&format!("{base}/nothing")).await;
    assert_eq!(r.status(), 400);
    let r = api
        .get(&format!(
            "{base}/login?startTime=2026-11-20T00:00:00Z&endTime=2026-11-19T00:00:00Z"
        ))
        .await;
    assert_eq!(r.status(), 400);

    // Without the audit scope: 403.
    let token: Value = gws_token(
        &mock,
        "https://www.googleapis.com/auth/admin.directory.user.readonly",
    )
    .await
    .json()
    .await
    .unwrap();
    let other = Api {
        http: reqwest::Client::new(),
        token: token["access_token"].as_str().unwrap().to_string(),
    };
    let r = other.get(&format!("{base}/login")).await;
    assert_eq!(r.status(), 403);
}
