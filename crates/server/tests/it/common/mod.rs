//! A running server with two customers (A and B), one Microsoft 365 tenant each scanned
//! through the imitation API, and one user and API token per role.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mamori_core::{Localized, LogSource};
use mamori_mock_saas::m365::{M365Mock, M365TenantSpec};
use mamori_mock_saas::Behaviour;
use mamori_server::{AppState, Role, ServerConfig};
use mamori_store::{
    FindingQuery, LogCommit, MasterKey, NewAlert, NewCustomer, NewException, NewTenant, NewUser,
    Role as UserRole, ScanStatus, Scope, Store,
};
use mamori_work::{Collector, ConnectorCollector, WorkConfig};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub const PASSWORD: &str = "correct horse battery";
pub const ALERT_RULE: &str = "mamori.entra_signin.password_spray";
pub const ALERT_TITLE_EN: &str = "Password spray against many accounts";
pub const ALERT_TITLE_JA: &str = "多数のアカウントへのパスワードスプレー";

pub struct Actor {
    pub user_id: i64,
    pub token: String,
}

/// How the world's server runs.
pub struct Options {
    pub collector: Arc<dyn Collector>,
    /// Scheduler period (long = the scheduler ticks once at start, so tests tick it by hand).
    pub tick: Duration,
    /// Log detection and the flood guard.
    pub logs: mamori_work::logs::LogsConfig,
    /// Changes to the server's settings (e.g. smaller push limits).
    pub configure: fn(&mut ServerConfig),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            collector: Arc::new(ConnectorCollector),
            tick: Duration::from_secs(1),
            logs: mamori_work::logs::LogsConfig::default(),
            configure: |_| {},
        }
    }
}

pub struct World {
    pub base: String,
    pub state: AppState,
    pub store: Store,
    pub key: MasterKey,
    pub customer_a: i64,
    pub customer_b: i64,
    pub tenant_a: i64,
    pub tenant_b: i64,
    pub scan_a: i64,
    pub scan_b: i64,
    pub finding_a: i64,
    pub finding_b: i64,
    pub control_a: String,
    pub m365_credentials: Value,
    actors: HashMap<&'static str, Actor>,
    requester: i64,
    approver: i64,
    http: reqwest::Client,
    _mock: M365Mock,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn unique() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

pub fn in_days(days: i64) -> String {
    jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * days))
        .unwrap()
        .to_string()
}

pub fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

pub struct Session {
    pub http: reqwest::Client,
    pub csrf: String,
}

impl World {
    pub async fn start() -> World {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> World {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::default_url(dir.path())).await.unwrap();
        let key = MasterKey::generate();
        let mock = mamori_mock_saas::m365::start(&M365TenantSpec::demo(), Behaviour::default())
            .await
            .unwrap();
        let credentials = mock.config(true);
        let mut customers = Vec::new();
        let mut tenants = Vec::new();
        for name in ["Customer A", "Customer B"] {
            let c = store
                .create_customer(&NewCustomer::new(name))
                .await
                .unwrap();
            let t = store
                .create_tenant(
                    &key,
                    &NewTenant::new(
                        c.id,
                        mamori_store::App::M365,
                        format!("{name}.onmicrosoft.com"),
                        &serde_json::to_vec(&credentials).unwrap(),
                    ),
                )
                .await
                .unwrap();
            customers.push(c.id);
            tenants.push(t.id);
        }
        let user = |username: &'static str, role: UserRole, customer: Option<i64>| {
            let store = store.clone();
            async move {
                store
                    .create_user(&NewUser {
                        username: username.into(),
                        display_name: username.into(),
                        role,
                        customer_id: customer,
                        lang: "en".into(),
                        password: PASSWORD.into(),
                    })
                    .await
                    .unwrap()
                    .id
            }
        };
        let mut actors = HashMap::new();
        for (code, username, role, customer) in [
            ("OA", "operator-a", UserRole::OperatorAdmin, None),
            ("AN", "analyst-a", UserRole::Analyst, None),
            ("IN", "investigator-a", UserRole::Investigator, None),
            ("BI", "billing-a", UserRole::Billing, None),
            (
                "CA",
                "customer-admin-a",
                UserRole::CustomerAdmin,
                Some(customers[0]),
            ),
            (
                "CV",
                "customer-viewer-a",
                UserRole::CustomerViewer,
                Some(customers[0]),
            ),
        ] {
            let id = user(username, role, customer).await;
            let (token, _) = store.create_api_token(id, "test", None).await.unwrap();
            actors.insert(code, Actor { user_id: id, token });
        }
        let requester = user("requester", UserRole::Analyst, None).await;
        let approver = user("approver", UserRole::OperatorAdmin, None).await;

        let engine = mamori_policy::Engine::with_builtin_packs().unwrap();
        let mut config = ServerConfig {
            work: WorkConfig {
                tick: options.tick,
                worker_concurrency: 2,
                public_url: Some("https://mamori.example".into()),
                // The receivers in these tests listen on loopback.
                notify_private_targets: true,
                logs: options.logs,
                ..WorkConfig::default()
            },
            ..ServerConfig::default()
        };
        (options.configure)(&mut config);
        let state = AppState::new(
            store.clone(),
            key.clone(),
            engine,
            options.collector,
            config,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(mamori_server::run(
            listener,
            state.clone(),
            Role::All,
            async move {
                let _ = stopped.await;
            },
        ));
        for t in &tenants {
            store.enqueue_scan(*t, None).await.unwrap();
        }
        let mut scans = Vec::new();
        for t in &tenants {
            let deadline = std::time::Instant::now() + Duration::from_secs(90);
            loop {
                let list = store.list_scans(*t).await.unwrap();
                if let Some(s) = list.iter().find(|s| s.status == ScanStatus::Succeeded) {
                    scans.push(s.id);
                    break;
                }
                assert!(
                    !list.iter().any(|s| s.status == ScanStatus::Failed),
                    "scan failed: {list:?}"
                );
                assert!(std::time::Instant::now() < deadline, "scan did not finish");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let mut findings = Vec::new();
        for t in &tenants {
            let page = store
                .list_findings(&FindingQuery {
                    scope: Scope::All,
                    tenant_id: Some(*t),
                    active_only: true,
                    ..FindingQuery::default()
                })
                .await
                .unwrap();
            findings.push(
                page.items
                    .first()
                    .expect("the demo tenant has findings")
                    .clone(),
            );
        }
        World {
            base,
            state,
            store,
            key,
            customer_a: customers[0],
            customer_b: customers[1],
            tenant_a: tenants[0],
            tenant_b: tenants[1],
            scan_a: scans[0],
            scan_b: scans[1],
            finding_a: findings[0].finding.id,
            finding_b: findings[1].finding.id,
            control_a: findings[0].finding.control_id.clone(),
            m365_credentials: credentials,
            actors,
            requester,
            approver,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            _mock: mock,
            _dir: dir,
            stop: Some(stop),
        }
    }

    /// Queues a scan of the tenant and waits for it to end; returns the scan id.
    pub async fn scan(&self, tenant: i64) -> i64 {
        let before: Vec<i64> = self
            .store
            .list_scans(tenant)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        self.store.enqueue_scan(tenant, None).await.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        loop {
            let list = self.store.list_scans(tenant).await.unwrap();
            if let Some(s) = list.iter().find(|s| {
                !before.contains(&s.id)
                    && matches!(s.status, ScanStatus::Succeeded | ScanStatus::Failed)
            }) {
                return s.id;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "scan did not finish: {list:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn actor(&self, code: &str) -> &Actor {
        &self.actors[code]
    }

    /// A risk acceptance on the tenant's first failing control (each on a resource of its own:
    /// only one can be open per control and resource), requested by a user who is not one of
    /// the actors; approved first when `approved` is `Some(true)`.
    pub async fn exception(&self, tenant: i64, approved: Option<bool>) -> i64 {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let page = self
            .store
            .list_findings(&FindingQuery {
                scope: Scope::All,
                tenant_id: Some(tenant),
                ..FindingQuery::default()
            })
            .await
            .unwrap();
        let control = page.items[0].finding.control_id.clone();
        let e = self
            .store
            .request_exception(
                Scope::All,
                self.requester,
                &NewException {
                    tenant_id: tenant,
                    control_id: control,
                    resource_key: Some(format!("test-resource-{n}")),
                    reason: "accepted for the test".into(),
                    expires_at: jiff::Timestamp::now()
                        .checked_add(jiff::SignedDuration::from_hours(240))
                        .unwrap(),
                },
            )
            .await
            .unwrap();
        if approved == Some(true) {
            self.store
                .decide_exception(Scope::All, e.id, self.approver, true, "")
                .await
                .unwrap();
        }
        e.id
    }

    /// A threat alert raised on the tenant as the detector would (a password spray from one
    /// address, high), under a key of its own; returns its id.
    pub async fn alert(&self, tenant: i64) -> i64 {
        let n = unique();
        let source = LogSource::EntraSignin;
        // As a worker does: a stream another worker moved on meanwhile (a batch pushed by the
        // test being processed) is read again and the commit retried.
        for _ in 0..20 {
            let version = self
                .store
                .log_stream(tenant, source)
                .await
                .unwrap()
                .map_or(0, |s| s.version);
            if let Some(id) = self.try_alert(tenant, source, version, n).await {
                return id;
            }
        }
        panic!("the log stream kept moving under the test's alert");
    }

    async fn try_alert(&self, tenant: i64, source: LogSource, version: i64, n: u64) -> Option<i64> {
        let at = jiff::Timestamp::now();
        let alerts = [NewAlert {
            alert_key: format!("test-alert-{n}"),
            rule_id: ALERT_RULE.into(),
            source,
            kind: "correlation".into(),
            severity: mamori_core::Severity::High,
            title: Localized::new(ALERT_TITLE_EN, ALERT_TITLE_JA),
            response: Localized::new(
                "Block the source address and reset the targeted passwords.",
                "送信元アドレスを遮断し、狙われたパスワードをリセットする。",
            ),
            attack: vec!["T1110.003".into()],
            entities: std::collections::BTreeMap::from([(
                "ip".to_string(),
                format!("203.0.113.{}", n % 250),
            )]),
            event_ids: vec![format!("event-{n}-1"), format!("event-{n}-2")],
            count: 25,
            first_seen: at - jiff::SignedDuration::from_mins(10),
            last_seen: at,
        }];
        let committed = self
            .store
            .commit_log_batch(&LogCommit {
                tenant_id: tenant,
                source,
                expected_version: version,
                checkpoint: None,
                state: b"test",
                seen: &[],
                alerts: &alerts,
                events: 0,
                duplicates: 0,
                quarantined: 0,
                last_event_at: None,
                metered_bytes: None,
                spool: None,
                quarantine: &[],
            })
            .await;
        match committed {
            Ok(c) => Some(c.created[0]),
            Err(mamori_store::Error::Conflict(_)) => None,
            Err(e) => panic!("committing the test's alert: {e}"),
        }
    }

    /// A new customer viewer of `customer`, to disable, reset or revoke.
    pub async fn fresh_user(&self, customer: i64) -> i64 {
        let n = USERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.store
            .create_user(&NewUser {
                username: format!("fresh-{n}"),
                display_name: format!("Fresh {n}"),
                role: UserRole::CustomerViewer,
                customer_id: Some(customer),
                lang: "en".into(),
                password: PASSWORD.into(),
            })
            .await
            .unwrap()
            .id
    }

    pub async fn token_of(&self, user_id: i64) -> i64 {
        self.store
            .create_api_token(user_id, "to delete", None)
            .await
            .unwrap()
            .1
            .id
    }

    pub async fn channel(&self, customer: i64) -> i64 {
        let config = serde_json::json!({"lang": "ja", "config": {"kind": "webhook", "url": "http://127.0.0.1:9/x", "secret": "s"}});
        self.store
            .create_channel(
                &self.key,
                Some(customer),
                "hook",
                "webhook",
                mamori_core::Severity::High,
                &serde_json::to_vec(&config).unwrap(),
            )
            .await
            .unwrap()
            .id
    }

    pub async fn call(
        &self,
        actor: &Actor,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", self.base),
            )
            .bearer_auth(&actor.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Pushes an audit-log batch as `actor`: the body as given, with `Content-Encoding: gzip`
    /// when `gzip_header`.
    pub async fn push(
        &self,
        actor: &Actor,
        tenant: i64,
        source: &str,
        body: Vec<u8>,
        gzip_header: bool,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .post(format!(
                "{}/api/v1/tenants/{tenant}/logs/{source}",
                self.base
            ))
            .bearer_auth(&actor.token)
            .header("content-type", "application/x-ndjson")
            .body(body);
        if gzip_header {
            req = req.header("content-encoding", "gzip");
        }
        req.send().await.unwrap()
    }

    pub async fn call_anonymous(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> StatusCode {
        let mut req = self.http.request(
            Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", self.base),
        );
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap().status()
    }

    /// Signs in through the login form (see [`sign_in`]).
    pub async fn session(&self, username: &str) -> Session {
        sign_in(&self.base, username, PASSWORD).await
    }
}

/// Signs in through the login form: a client carrying the session cookie, and the CSRF token
/// read from the settings page.
pub async fn sign_in(base: &str, username: &str, password: &str) -> Session {
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "login of {username}");
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{base}/settings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a CSRF field on the page") + marker.len();
    let csrf = page[start..].split('"').next().unwrap().to_string();
    Session { http, csrf }
}

static USERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
