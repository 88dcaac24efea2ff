//! An imitation of the Google APIs a Google Workspace posture scan reads, on one loopback
//! server: the OAuth 2.0 token endpoint (service-account JWT bearer with domain-wide
//! delegation), Admin SDK Directory and Reports, Cloud Identity (policies, inbound SSO),
//! Groups Settings and Licensing — under Google's real path layout, with Google's page-size
//! limits, `nextPageToken` paging, scope checks and error bodies — plus a DNS server with the
//! tenant's SPF, DKIM and DMARC records.

mod tenant;

pub use tenant::{setting_type, GwsTenantSpec, Tenant, SKUS};

use crate::common::{
    self, error_response, json_response, Behaviour, ErrorStyle, Grant, RunningServer, TokenStore,
};
use crate::logs::store::Entry;
use crate::logs::{LogSpec, LogStore, Population, Source};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::Engine as _;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

const AUTH: &str = "https://www.googleapis.com/auth/";

/// Every scope the connector may ask for (all read-only where Google offers one).
pub const SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/admin.directory.orgunit.readonly",
    "https://www.googleapis.com/auth/admin.directory.customer.readonly",
    "https://www.googleapis.com/auth/admin.directory.domain.readonly",
    "https://www.googleapis.com/auth/admin.directory.user.readonly",
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly",
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/admin.reports.audit.readonly",
    "https://www.googleapis.com/auth/admin.reports.usage.readonly",
    "https://www.googleapis.com/auth/cloud-identity.policies.readonly",
    "https://www.googleapis.com/auth/cloud-identity.inboundsso.readonly",
    "https://www.googleapis.com/auth/apps.groups.settings",
    "https://www.googleapis.com/auth/apps.licensing",
];

/// A running imitation tenant.
pub struct GwsMock {
    pub server: RunningServer,
    pub dns: crate::dns::DnsServer,
    /// The service-account key file (JSON), as the Cloud console downloads it.
    pub key: Value,
    /// A super administrator to impersonate.
    pub subject: String,
    /// The canonical customer id (`C0…`).
    pub customer_id: String,
    pub tenant: Arc<Tenant>,
    shared: Arc<Shared>,
}

impl GwsMock {
    /// The tenant's audit-log streams as the Reports API serves them (generated on first use;
    /// `admin` and `token` also hold the posture tenant's activities).
    pub fn logs(&self) -> Arc<LogStore> {
        self.shared.logs()
    }

    /// The generator spec of the tenant's Reports API activities: `logs::generate` of it gives
    /// what the API serves, except the posture tenant's own admin and token history
    /// (`tenant.admin_activities`, `tenant.token_activities`), which is merged in by time.
    pub fn log_spec(&self) -> LogSpec {
        self.shared.log_spec()
    }

    /// The audit-log clock (milliseconds since the epoch).
    pub fn log_now_ms(&self) -> i64 {
        self.shared.log_now_ms
    }

    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The token endpoint (also the key file's `token_uri`).
    pub fn token_uri(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// Requests per connector section needed at the maximum page sizes, plus the fixed calls
    /// (`token`: one token request per scope).
    pub fn lower_bound(&self) -> BTreeMap<String, u64> {
        let t = &self.tenant;
        let pages = |n: usize, size: usize| -> u64 { n.div_ceil(size).max(1) as u64 };
        let mut b = BTreeMap::new();
        b.insert("token".into(), SCOPES.len() as u64);
        b.insert("organizational_units".into(), 1);
        b.insert("tenant_info".into(), 1);
        b.insert("domains".into(), 2);
        // The Policy API sends one blank page after the last page with content.
        b.insert("policies".into(), pages(t.policies.len(), 100) + 1);
        b.insert(
            "group_settings".into(),
            pages(t.groups.len(), 200) + t.groups.len() as u64,
        );
        b.insert("users".into(), pages(t.users.len(), 500));
        let privileged = privileged_emails(t);
        let series: u64 = privileged
            .iter()
            .map(|e| pages(t.user_groups.get(e).map(Vec::len).unwrap_or(0), 200))
            .sum();
        b.insert(
            "privileged_users".into(),
            pages(t.roles.len(), 100) + pages(t.role_assignments.len(), 200) + series,
        );
        let role_groups: HashSet<&str> = t
            .role_assignments
            .iter()
            .filter(|a| a["assigneeType"] == "group")
            .filter_map(|a| a["assignedTo"].as_str())
            .collect();
        let member_pages: u64 = role_groups
            .iter()
            .map(|g| {
                pages(
                    t.group_keys
                        .get(*g)
                        .and_then(|i| t.members.get(i))
                        .map(Vec::len)
                        .unwrap_or(0),
                    200,
                )
            })
            .sum();
        b.insert(
            "mamori_users".into(),
            pages(t.usage_reports.len(), 1000) + member_pages,
        );
        b.insert(
            "inbound_sso_assignments".into(),
            pages(t.inbound_sso.len(), 100),
        );
        let licences: u64 = SKUS
            .iter()
            .map(|(p, s)| {
                pages(
                    t.licenses
                        .get(&(p.to_string(), s.to_string()))
                        .map(Vec::len)
                        .unwrap_or(0),
                    1000,
                )
            })
            .sum();
        b.insert("license_data".into(), licences);
        let logs = self.logs();
        let admin = &logs.stream("admin").entries;
        let served = |e: &str| {
            admin
                .iter()
                .filter(|a| a.names.iter().any(|n| &**n == e))
                .count()
        };
        let events: u64 = ADMIN_LOG_EVENTS
            .iter()
            .map(|e| pages(served(e), 1000))
            .sum();
        b.insert("admin_logs".into(), events);
        let dwd: u64 = ["AUTHORIZE_API_CLIENT_ACCESS", "REMOVE_API_CLIENT_ACCESS"]
            .iter()
            .map(|e| pages(served(e), 1000))
            .sum();
        b.insert("mamori_domain_wide_delegation".into(), dwd);
        b.insert(
            "mamori_oauth_tokens".into(),
            pages(logs.stream("token").entries.len(), 1000),
        );
        b
    }
}

/// The admin audit eventNames the ScubaGoggles `*_logs` keys are built from.
pub const ADMIN_LOG_EVENTS: &[&str] = &[
    "CREATE_APPLICATION_SETTING",
    "CHANGE_APPLICATION_SETTING",
    "DELETE_APPLICATION_SETTING",
    "CHANGE_GMAIL_SETTING",
    "CHANGE_EMAIL_SETTING",
    "CHANGE_DOCS_SETTING",
    "SYSTEM_DEFINED_RULE_UPDATED",
    "TOGGLE_CAA_ENABLEMENT",
    "TOGGLE_SERVICE_ENABLED",
    "ALLOW_SERVICE_FOR_OAUTH2_ACCESS",
    "DISALLOW_SERVICE_FOR_OAUTH2_ACCESS",
    "UNTRUST_DOMAIN_OWNED_OAUTH2_APPS",
    "TRUST_DOMAIN_OWNED_OAUTH2_APPS",
    "BLOCK_ALL_THIRD_PARTY_API_ACCESS",
    "UNBLOCK_ALL_THIRD_PARTY_API_ACCESS",
    "SIGN_IN_ONLY_THIRD_PARTY_API_ACCESS",
];

/// Users ScubaGoggles counts as privileged: super and delegated admins and users assigned a
/// role with an administrative privilege.
fn privileged_emails(t: &Tenant) -> Vec<String> {
    let privileged_roles: HashSet<&str> = t
        .roles
        .iter()
        .filter(|r| {
            r["isSuperAdminRole"] == true
                || r["rolePrivileges"].as_array().is_some_and(|ps| {
                    ps.iter().any(|p| {
                        matches!(
                            p["privilegeName"].as_str().unwrap_or(""),
                            "ADMIN_OAUTH_PRIVILEGE_GROUP"
                                | "ADMIN_ROLE_MANAGEMENT"
                                | "GROUPS_ALL"
                                | "MANAGE_USER_LICENSES"
                                | "MOBILE_ALL"
                                | "ORGANIZATION_UNITS_ALL"
                                | "SERVICES_ALL"
                                | "USERS_ALL"
                                | "USERS_CREATE"
                                | "USERS_SECURITY"
                                | "USERS_UPDATE"
                        )
                    })
                })
        })
        .filter_map(|r| r["roleId"].as_str())
        .collect();
    let assigned: HashSet<&str> = t
        .role_assignments
        .iter()
        .filter(|a| {
            a["assigneeType"]
                .as_str()
                .is_none_or(|k| k.eq_ignore_ascii_case("user"))
        })
        .filter(|a| {
            a["roleId"]
                .as_str()
                .is_some_and(|r| privileged_roles.contains(r))
        })
        .filter_map(|a| a["assignedTo"].as_str())
        .collect();
    let mut out: Vec<String> = t
        .users
        .iter()
        .filter(|u| {
            u["isAdmin"] == true
                || u["isDelegatedAdmin"] == true
                || u["id"].as_str().is_some_and(|id| assigned.contains(id))
        })
        .filter_map(|u| u["primaryEmail"].as_str().map(str::to_lowercase))
        .collect();
    out.sort();
    out.dedup();
    out
}

struct Shared {
    tenant: Arc<Tenant>,
    tokens: TokenStore,
    client_email: String,
    public_pem: String,
    delegated: HashSet<String>,
    token_uri: OnceLock<String>,
    log_now_ms: i64,
    log_seed: u64,
    logs: OnceLock<Arc<LogStore>>,
}

/// Users whose activity the imitation's log streams carry, at most.
pub const LOG_USERS_MAX: usize = 5_000;

impl Shared {
    fn log_spec(&self) -> LogSpec {
        let t = &self.tenant;
        let users = &t.users[..t.users.len().min(LOG_USERS_MAX)];
        LogSpec {
            seed: self.log_seed,
            start_ms: self.log_now_ms - 7 * crate::logs::DAY,
            end_ms: self.log_now_ms,
            m365: None,
            gws: Some(Population::from_gws_users(
                &t.customer_id,
                &t.primary_domain,
                users,
                self.log_seed,
            )),
            events_per_user_day: crate::logs::SERVER_EVENTS_PER_USER_DAY,
            attacks: true,
        }
    }

    fn logs(&self) -> Arc<LogStore> {
        self.logs
            .get_or_init(|| {
                let t = &self.tenant;
                let mut store = LogStore::build(&self.log_spec());
                // The posture tenant's admin and token history is part of the same log.
                for (app, list) in [
                    ("admin", &t.admin_activities),
                    ("token", &t.token_activities),
                ] {
                    let more = list
                        .iter()
                        .filter_map(|a| {
                            let time = crate::logs::record_time(Source::Gws, a)?;
                            Some(Entry::new(Source::Gws, time, a))
                        })
                        .collect();
                    store.stream_mut(app).merge(more);
                }
                Arc::new(store)
            })
            .clone()
    }
}

type St = State<Arc<Shared>>;
type Params = Query<HashMap<String, String>>;

fn g_err(status: u16, reason: &str, message: &str) -> Response {
    error_response(ErrorStyle::Google, status, reason, message)
}

fn token_error(status: u16, error: &str, description: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Starts the imitation tenant (port 0 = any free port) and its DNS server.
pub async fn start(spec: &GwsTenantSpec, behaviour: Behaviour) -> std::io::Result<GwsMock> {
    let tenant = Arc::new(Tenant::generate(spec));
    let pair = crate::keys::generate();
    let mut rng = crate::names::Rng::new(spec.seed ^ 0x5a);
    let project = "mamori-scan-sakura";
    let client_email = format!("mamori-collector@{project}.iam.gserviceaccount.com");
    // Wrapped as in `tenant::numeric_id`.
    let client_id = format!("1{:020}", rng.next_u64() % 10u64.wrapping_pow(20));
    let private_key_id = format!(
        "{:016x}{:016x}{:08x}",
        rng.next_u64(),
        rng.next_u64(),
        rng.next_u64() as u32
    );
    let delegated: HashSet<String> = match &spec.delegated_scopes {
        Some(list) => list.iter().cloned().collect(),
        None => SCOPES.iter().map(|s| s.to_string()).collect(),
    };
    let shared = Arc::new(Shared {
        tenant: tenant.clone(),
        tokens: TokenStore::default(),
        client_email: client_email.clone(),
        public_pem: pair.public_pem.clone(),
        delegated,
        token_uri: OnceLock::new(),
        log_now_ms: crate::logs::clock_ms(spec.log_clock),
        log_seed: spec.seed,
        logs: OnceLock::new(),
    });
    let router = Router::new()
        .route("/token", post(token))
        .route("/admin/directory/v1/customers/{key}", get(customer))
        .route("/admin/directory/v1/customer/{c}/orgunits", get(orgunits))
        .route("/admin/directory/v1/customer/{c}/domains", get(domains))
        .route(
            "/admin/directory/v1/customer/{c}/domainaliases",
            get(domain_aliases),
        )
        .route("/admin/directory/v1/customer/{c}/roles", get(roles))
        .route(
            "/admin/directory/v1/customer/{c}/roleassignments",
            get(role_assignments),
        )
        .route("/admin/directory/v1/users", get(users))
        .route("/admin/directory/v1/groups", get(groups))
        .route("/admin/directory/v1/groups/{key}/members", get(members))
        .route(
            "/admin/reports/v1/activity/users/{user}/applications/{app}",
            get(activities),
        )
        .route("/admin/reports/v1/usage/users/all/dates/{date}", get(usage))
        .route("/v1/policies", get(policies))
        .route("/v1/inboundSsoAssignments", get(inbound_sso))
        .route("/groups/v1/groups/{key}", get(group_settings))
        .route(
            "/apps/licensing/v1/product/{product}/sku/{sku}/users",
            get(licences),
        )
        .fallback(|| async { g_err(404, "notFound", "Not Found") })
        .with_state(shared.clone());
    let server = common::serve(router, behaviour, ErrorStyle::Google, 0).await?;
    let token_uri = format!("{}/token", server.base_url());
    let _ = shared.token_uri.set(token_uri.clone());
    let dns = crate::dns::serve(tenant.zone.clone(), 0).await?;
    let key = json!({
        "type": "service_account",
        "project_id": project,
        "private_key_id": private_key_id,
        "private_key": pair.private_pem,
        "client_email": client_email,
        "client_id": client_id,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": format!("https://www.googleapis.com/robot/v1/metadata/x509/mamori-collector%40{project}.iam.gserviceaccount.com"),
        "universe_domain": "googleapis.com",
    });
    let subject = tenant.super_admins().into_iter().next().unwrap_or_default();
    Ok(GwsMock {
        server,
        dns,
        key,
        subject,
        customer_id: tenant.customer_id.clone(),
        tenant,
        shared,
    })
}

// ---------------------------------------------------------------- token endpoint

async fn token(State(st): St, Form(form): Form<HashMap<String, String>>) -> Response {
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return token_error(400, "unsupported_grant_type", "Invalid grant_type: ");
    }
    let Some(assertion) = form.get("assertion") else {
        return token_error(
            400,
            "invalid_request",
            "Missing required parameter: assertion",
        );
    };
    let Ok((_, claims)) = crate::keys::verify_rs256(assertion, &st.public_pem) else {
        return token_error(400, "invalid_grant", "Invalid JWT Signature.");
    };
    if claims["iss"] != st.client_email.as_str() {
        return token_error(400, "invalid_grant", "Invalid JWT Signature.");
    }
    let expected_aud = st.token_uri.get().cloned().unwrap_or_default();
    if claims["aud"] != expected_aud.as_str()
        && claims["aud"] != "https://oauth2.googleapis.com/token"
    {
        return token_error(400, "invalid_grant", "Invalid JWT: Failed audience check.");
    }
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    let now = jiff::Timestamp::now().as_second();
    if exp - iat > 3600 || exp <= iat || (iat - now).abs() > 300 + 3600 {
        return token_error(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
    }
    let sub = claims["sub"].as_str().unwrap_or("").to_lowercase();
    let Some(&user) = st.tenant.user_by_email.get(&sub) else {
        return token_error(400, "invalid_grant", "Invalid email or User ID");
    };
    let scopes: HashSet<String> = claims["scope"]
        .as_str()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if scopes.is_empty() || !scopes.iter().all(|s| st.delegated.contains(s)) {
        return token_error(
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        );
    }
    // A user who is no super administrator gets a token, and then 403 from every admin API.
    let is_admin = st.tenant.users[user]["isAdmin"] == true;
    let permissions = if is_admin { scopes } else { HashSet::new() };
    let access = st.tokens.issue(
        "ya29.",
        Grant {
            audience: "google".into(),
            permissions,
            expires: Instant::now() + Duration::from_secs(3599),
        },
    );
    json_response(&json!({"access_token": access, "expires_in": 3599, "token_type": "Bearer"}))
}

fn check(st: &Shared, headers: &HeaderMap, scope: &str) -> Result<(), Response> {
    let readonly = format!("{AUTH}{scope}");
    let full = readonly.trim_end_matches(".readonly").to_string();
    st.tokens
        .check(
            headers,
            "google",
            &[readonly.as_str(), full.as_str()],
            ErrorStyle::Google,
        )
        .map_err(|r| {
            if r.status() == StatusCode::FORBIDDEN && scope.starts_with("admin.") {
                // The Admin SDK words it its own way.
                g_err(
                    403,
                    "forbidden",
                    "Not Authorized to access this resource/api",
                )
            } else {
                r
            }
        })
}

fn customer_ok(st: &Shared, c: &str) -> Result<(), Response> {
    if c == "my_customer" || c == st.tenant.customer_id {
        Ok(())
    } else {
        Err(g_err(400, "badRequest", "Bad Request"))
    }
}

// ---------------------------------------------------------------- paging

/// Which page a request asks for. Page tokens are opaque and bound to the other parameters.
/// The page borrows from `items` (a large tenant's pages are serialised, never copied).
fn paged<'a, T>(
    items: &'a [T],
    q: &HashMap<String, String>,
    size_key: &str,
    default: usize,
    max: usize,
    clamp: bool,
) -> Result<(&'a [T], Option<String>), Response> {
    let size = match q.get(size_key) {
        None => default,
        Some(v) => match v.parse::<usize>() {
            Ok(0) | Err(_) => {
                return Err(g_err(
                    400,
                    "invalid",
                    &format!("Invalid value '{v}'. Values must be within the range: [1, {max}]"),
                ))
            }
            Ok(n) if n > max && !clamp => {
                return Err(g_err(
                    400,
                    "invalid",
                    &format!("Invalid value '{v}'. Values must be within the range: [1, {max}]"),
                ))
            }
            Ok(n) => n.min(max),
        },
    };
    let sig = {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let mut keys: Vec<_> = q
            .iter()
            .filter(|(k, _)| k.as_str() != "pageToken")
            .collect();
        keys.sort();
        keys.hash(&mut h);
        h.finish()
    };
    let offset = match q.get("pageToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => {
            let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| {
                    let (o, g) = s.split_once('.')?;
                    Some((o.parse::<usize>().ok()?, u64::from_str_radix(g, 16).ok()?))
                });
            match decoded {
                Some((o, g)) if g == sig => o,
                _ => return Err(g_err(400, "invalid", "Invalid page token.")),
            }
        }
    };
    let end = offset.saturating_add(size).min(items.len());
    let page = if offset < items.len() {
        &items[offset..end]
    } else {
        &[]
    };
    let next = (end < items.len()).then_some(end);
    let token = next
        .map(|n| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{n}.{sig:x}")));
    Ok((page, token))
}

/// `{"kind", "etag", <key>: [items] (left out when empty), "nextPageToken"}`, serialised
/// straight from the tenant's items.
struct ListBody<'a, T> {
    kind: &'a str,
    key: &'a str,
    items: &'a [T],
    next: Option<String>,
}

impl<T: Serialize> Serialize for ListBody<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("kind", self.kind)?;
        map.serialize_entry("etag", "\"mock\"")?;
        if !self.items.is_empty() {
            map.serialize_entry(self.key, self.items)?;
        }
        if let Some(t) = &self.next {
            map.serialize_entry("nextPageToken", t)?;
        }
        map.end()
    }
}

fn list_body<T: Serialize>(kind: &str, key: &str, items: &[T], next: Option<String>) -> Response {
    serialized_response(&ListBody {
        kind,
        key,
        items,
        next,
    })
}

/// What [`json_response`] sends, for any serialisable body.
fn serialized_response<T: Serialize>(body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .body(axum::body::Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// One usage report as the API answers it: with the requested date and only the requested
/// parameters (serialised from the stored report, which is left untouched).
struct UsageReport<'a> {
    report: &'a Value,
    date: &'a str,
    wanted: Option<&'a HashSet<&'a str>>,
}

impl Serialize for UsageReport<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(fields) = self.report.as_object() else {
            return self.report.serialize(s);
        };
        let mut map = s.serialize_map(None)?;
        let mut dated = false;
        for (k, v) in fields {
            match (k.as_str(), self.wanted, v.as_array()) {
                ("date", ..) => {
                    dated = true;
                    map.serialize_entry(k, self.date)?;
                }
                ("parameters", Some(w), Some(ps)) => {
                    let kept: Vec<&Value> = ps
                        .iter()
                        .filter(|p| p["name"].as_str().is_some_and(|n| w.contains(n)))
                        .collect();
                    map.serialize_entry(k, &kept)?;
                }
                _ => map.serialize_entry(k, v)?,
            }
        }
        if !dated {
            map.serialize_entry("date", self.date)?;
        }
        map.end()
    }
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

// ---------------------------------------------------------------- Directory

async fn customer(State(st): St, headers: HeaderMap, Path(key): Path<String>) -> Response {
    tri!(check(&st, &headers, "admin.directory.customer.readonly"));
    if key != "my_customer" && key != st.tenant.customer_id {
        return g_err(404, "notFound", "Resource Not Found: customerKey");
    }
    json_response(&json!({
        "kind": "admin#directory#customer", "id": st.tenant.customer_id, "etag": "\"mock\"",
        "customerDomain": st.tenant.primary_domain, "alternateEmail": format!("it-contact@{}", st.tenant.primary_domain),
        "customerCreationTime": "2016-04-01T00:00:00.000Z", "language": "ja",
        "postalAddress": {"countryCode": "JP", "locality": "千代田区", "region": "東京都", "postalCode": "100-0005"},
    }))
}

async fn orgunits(
    State(st): St,
    headers: HeaderMap,
    Path(c): Path<String>,
    Query(q): Params,
) -> Response {
    tri!(check(&st, &headers, "admin.directory.orgunit.readonly"));
    tri!(customer_ok(&st, &c));
    let base = q
        .get("orgUnitPath")
        .map(|p| p.trim_end_matches('/'))
        .unwrap_or("");
    let kind = q.get("type").map(String::as_str).unwrap_or("children");
    let include_parent = matches!(
        kind,
        "allIncludingParent" | "all_including_parent" | "ALL_INCLUDING_PARENT"
    );
    if !matches!(
        kind,
        "all"
            | "children"
            | "allIncludingParent"
            | "all_including_parent"
            | "ALL"
            | "CHILDREN"
            | "ALL_INCLUDING_PARENT"
    ) {
        return g_err(400, "invalid", &format!("Invalid value for: type, {kind}"));
    }
    let units: Vec<Value> = st
        .tenant
        .org_units
        .iter()
        .filter(|o| {
            let path = o["orgUnitPath"].as_str().unwrap_or("");
            let parent = o["parentOrgUnitPath"]
                .as_str()
                .unwrap_or("")
                .trim_end_matches('/');
            if path.trim_end_matches('/') == base {
                return include_parent;
            }
            match kind {
                "children" | "CHILDREN" => parent == base,
                _ => path.starts_with(&format!("{base}/")),
            }
        })
        .cloned()
        .collect();
    list_body(
        "admin#directory#orgUnits",
        "organizationUnits",
        &units,
        None,
    )
}

async fn domains(State(st): St, headers: HeaderMap, Path(c): Path<String>) -> Response {
    tri!(check(&st, &headers, "admin.directory.domain.readonly"));
    tri!(customer_ok(&st, &c));
    list_body(
        "admin#directory#domains",
        "domains",
        &st.tenant.domains,
        None,
    )
}

async fn domain_aliases(State(st): St, headers: HeaderMap, Path(c): Path<String>) -> Response {
    tri!(check(&st, &headers, "admin.directory.domain.readonly"));
    tri!(customer_ok(&st, &c));
    list_body(
        "admin#directory#domainAliases",
        "domainAliases",
        &st.tenant.domain_aliases,
        None,
    )
}

async fn roles(
    State(st): St,
    headers: HeaderMap,
    Path(c): Path<String>,
    Query(q): Params,
) -> Response {
    tri!(check(
        &st,
        &headers,
        "admin.directory.rolemanagement.readonly"
    ));
    tri!(customer_ok(&st, &c));
    let (items, next) = tri!(paged(&st.tenant.roles, &q, "maxResults", 100, 100, false));
    list_body("admin#directory#roles", "items", items, next)
}

async fn role_assignments(
    State(st): St,
    headers: HeaderMap,
    Path(c): Path<String>,
    Query(q): Params,
) -> Response {
    tri!(check(
        &st,
        &headers,
        "admin.directory.rolemanagement.readonly"
    ));
    tri!(customer_ok(&st, &c));
    let (items, next) = tri!(paged(
        &st.tenant.role_assignments,
        &q,
        "maxResults",
        100,
        200,
        false
    ));
    list_body("admin#directory#roleAssignments", "items", items, next)
}

async fn users(State(st): St, headers: HeaderMap, Query(q): Params) -> Response {
    tri!(check(&st, &headers, "admin.directory.user.readonly"));
    match (q.get("customer"), q.get("domain")) {
        (Some(c), _) => tri!(customer_ok(&st, c)),
        (None, Some(d)) if d.eq_ignore_ascii_case(&st.tenant.primary_domain) => {}
        _ => return g_err(400, "badRequest", "Bad Request"),
    }
    let admins_only = q
        .get("query")
        .map(|s| s.replace(' ', "").to_lowercase())
        .is_some_and(|s| s == "isadmin=true");
    if admins_only {
        let list: Vec<&Value> = st
            .tenant
            .users
            .iter()
            .filter(|u| u["isAdmin"] == true)
            .collect();
        let (items, next) = tri!(paged(&list, &q, "maxResults", 100, 500, false));
        return list_body("admin#directory#users", "users", items, next);
    }
    let (items, next) = tri!(paged(&st.tenant.users, &q, "maxResults", 100, 500, false));
    list_body("admin#directory#users", "users", items, next)
}

async fn groups(State(st): St, headers: HeaderMap, Query(q): Params) -> Response {
    tri!(check(&st, &headers, "admin.directory.group.readonly"));
    let t = &st.tenant;
    let list: Vec<&Value> = match (q.get("userKey"), q.get("customer")) {
        (Some(user), _) => {
            let key = user.to_lowercase();
            let email = match t.user_by_email.get(&key) {
                Some(_) => key,
                None => match t.users.iter().find(|u| u["id"] == user.as_str()) {
                    Some(u) => u["primaryEmail"].as_str().unwrap_or("").to_lowercase(),
                    None => return g_err(404, "notFound", "Resource Not Found: userKey"),
                },
            };
            t.user_groups
                .get(&email)
                .into_iter()
                .flatten()
                .map(|&g| &t.groups[g])
                .collect()
        }
        (None, Some(c)) => {
            tri!(customer_ok(&st, c));
            t.groups.iter().collect()
        }
        _ => return g_err(400, "badRequest", "Bad Request"),
    };
    let (items, next) = tri!(paged(&list, &q, "maxResults", 200, 200, false));
    list_body("admin#directory#groups", "groups", items, next)
}

async fn members(
    State(st): St,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Params,
) -> Response {
    tri!(check(&st, &headers, "admin.directory.group.readonly"));
    let Some(&g) = st
        .tenant
        .group_keys
        .get(&key.to_lowercase())
        .or_else(|| st.tenant.group_keys.get(&key))
    else {
        return g_err(404, "notFound", "Resource Not Found: groupKey");
    };
    let list: &[Value] = st
        .tenant
        .members
        .get(&g)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let (items, next) = tri!(paged(list, &q, "maxResults", 200, 200, false));
    list_body("admin#directory#members", "members", items, next)
}

// ---------------------------------------------------------------- Reports

/// The Reports API's applications (`applicationName` values).
const APPLICATIONS: &[&str] = &[
    "access_transparency",
    "admin",
    "calendar",
    "chat",
    "chrome",
    "context_aware_access",
    "data_studio",
    "drive",
    "gcp",
    "gemini_in_workspace_apps",
    "groups",
    "groups_enterprise",
    "jamboard",
    "keep",
    "login",
    "meet",
    "mobile",
    "rules",
    "saml",
    "token",
    "user_accounts",
    "vault",
];

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

fn rfc3339(q: &HashMap<String, String>, key: &str) -> Result<Option<i64>, Response> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v
            .parse::<jiff::Timestamp>()
            .map(|t| Some(t.as_millisecond()))
            .map_err(|_| g_err(400, "invalid", &format!("Invalid value for: {key}, {v}"))),
    }
}

/// `activities.list`: newest first, `startTime`/`endTime` (RFC 3339), `eventName`,
/// `actorIpAddress`, `maxResults` (1–1000, default 1000) and `pageToken`.
async fn activities(
    State(st): St,
    headers: HeaderMap,
    Path((user, app)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    tri!(check(&st, &headers, "admin.reports.audit.readonly"));
    if !APPLICATIONS.contains(&app.as_str()) {
        return g_err(
            400,
            "invalid",
            &format!(
                "Invalid value '{app}'. Values must match the following regular expression: '({})'",
                APPLICATIONS.join(")|(")
            ),
        );
    }
    let start = tri!(rfc3339(&q, "startTime"));
    let end = tri!(rfc3339(&q, "endTime"));
    if let (Some(a), Some(b)) = (start, end) {
        if a > b {
            return g_err(
                400,
                "invalid",
                "Start time must be less than or equal to the end time.",
            );
        }
    }
    let logs = st.logs();
    let stream = logs.stream(&app);
    let range = stream.range(
        start.unwrap_or(i64::MIN),
        end.map(|e| e + 1).unwrap_or(i64::MAX),
    );
    let user = user.to_lowercase();
    let list: Vec<&Entry> = stream.entries[range]
        .iter()
        .rev()
        .filter(|e| {
            q.get("eventName")
                .is_none_or(|n| e.names.iter().any(|x| **x == **n))
        })
        .filter(|e| q.get("actorIpAddress").is_none_or(|ip| *e.ip == **ip))
        .filter(|e| {
            user == "all"
                || e.raw
                    .get()
                    .to_lowercase()
                    .contains(&format!("\"email\":\"{user}\""))
                || e.raw.get().contains(&format!("\"profileId\":\"{user}\""))
        })
        .collect();
    let (items, next) = tri!(paged(&list, &q, "maxResults", 1000, 1000, false));
    list_body("admin#reports#activities", "items", items, next)
}

async fn usage(
    State(st): St,
    headers: HeaderMap,
    Path(date): Path<String>,
    Query(q): Params,
) -> Response {
    tri!(check(&st, &headers, "admin.reports.usage.readonly"));
    if jiff::civil::Date::strptime("%Y-%m-%d", &date).is_err() {
        return g_err(400, "invalid", "Invalid value for date");
    }
    let wanted: Option<HashSet<&str>> = q
        .get("parameters")
        .map(|p| p.split(',').map(str::trim).collect());
    // Page first, then shape only that page (a large tenant has tens of thousands of reports).
    let (page, next) = tri!(paged(
        &st.tenant.usage_reports,
        &q,
        "maxResults",
        1000,
        1000,
        false
    ));
    let items: Vec<UsageReport> = page
        .iter()
        .map(|report| UsageReport {
            report,
            date: &date,
            wanted: wanted.as_ref(),
        })
        .collect();
    list_body("admin#reports#usageReports", "usageReports", &items, next)
}

// ---------------------------------------------------------------- Cloud Identity

/// The CEL filter forms ScubaGoggles and Mamori send: `customer == "customers/…"` and
/// `setting.type.matches('…')` (a prefix regex), joined with `&&`.
fn policy_matches(filter: &str, p: &Value, customer_id: &str) -> bool {
    filter.split("&&").all(|clause| {
        let clause = clause.trim();
        if let Some(rest) = clause.strip_prefix("customer") {
            let want = rest
                .trim()
                .trim_start_matches("==")
                .trim()
                .trim_matches('"');
            return want == "customers/my_customer" || want == format!("customers/{customer_id}");
        }
        if let Some(rest) = clause.strip_prefix("setting.type.matches(") {
            let pattern = rest
                .trim_end_matches(')')
                .trim_matches('\'')
                .trim_matches('"');
            let prefix = pattern
                .trim_start_matches('^')
                .split(['.', '\\', '*', '$'])
                .next()
                .unwrap_or("");
            return p["setting"]["type"]
                .as_str()
                .is_some_and(|t| t.starts_with(prefix));
        }
        clause.is_empty()
    })
}

async fn policies(State(st): St, headers: HeaderMap, Query(q): Params) -> Response {
    tri!(check(&st, &headers, "cloud-identity.policies.readonly"));
    let filter = q.get("filter").cloned().unwrap_or_default();
    let filtered: Vec<Value>;
    let list: &[Value] = if filter.trim().is_empty() {
        &st.tenant.policies
    } else {
        filtered = st
            .tenant
            .policies
            .iter()
            .filter(|p| policy_matches(&filter, p, &st.tenant.customer_id))
            .cloned()
            .collect();
        &filtered
    };
    // Google's quirk: after the last page with content comes a blank page that still carries a
    // token. The imitation marks it with an offset past the end.
    let (items, next) = tri!(paged(list, &q, "pageSize", 50, 100, true));
    let mut body = json!({});
    let blank = q.contains_key("pageToken") && items.is_empty();
    if !items.is_empty() {
        body["policies"] = Value::Array(items.to_vec());
    }
    match next {
        Some(t) => body["nextPageToken"] = json!(t),
        None if !blank => {
            // Point one past the end: the next request gets the blank page.
            let mut q2 = q.clone();
            q2.remove("pageToken");
            let sig = {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                let mut keys: Vec<_> = q2.iter().collect();
                keys.sort();
                keys.hash(&mut h);
                h.finish()
            };
            let past = list.len() + 1;
            body["nextPageToken"] =
                json!(base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(format!("{past}.{sig:x}")));
        }
        None => body["nextPageToken"] = json!(""),
    }
    json_response(&body)
}

async fn inbound_sso(State(st): St, headers: HeaderMap, Query(q): Params) -> Response {
    tri!(check(&st, &headers, "cloud-identity.inboundsso.readonly"));
    let filter = q.get("filter").cloned().unwrap_or_default();
    let want = filter
        .split_once("==")
        .map(|(_, v)| v.trim().trim_matches('"').trim_matches('\''))
        .unwrap_or("");
    if want != format!("customers/{}", st.tenant.customer_id) && want != "customers/my_customer" {
        return g_err(400, "badRequest", "Request contains an invalid argument.");
    }
    let (items, next) = tri!(paged(&st.tenant.inbound_sso, &q, "pageSize", 50, 100, true));
    let mut body = json!({});
    if !items.is_empty() {
        body["inboundSsoAssignments"] = Value::Array(items.to_vec());
    }
    if let Some(t) = next {
        body["nextPageToken"] = json!(t);
    }
    json_response(&body)
}

// ---------------------------------------------------------------- Groups Settings, Licensing

async fn group_settings(State(st): St, headers: HeaderMap, Path(key): Path<String>) -> Response {
    tri!(check(&st, &headers, "apps.groups.settings"));
    let t = &st.tenant;
    let Some(&g) = t
        .group_keys
        .get(&key.to_lowercase())
        .or_else(|| t.group_keys.get(&key))
    else {
        return g_err(404, "notFound", "Resource Not Found: groupUniqueId");
    };
    let email = t.groups[g]["email"].as_str().unwrap_or("").to_lowercase();
    match t.group_settings.get(&email) {
        Some(s) => json_response(s),
        None => g_err(404, "notFound", "Resource Not Found: groupUniqueId"),
    }
}

async fn licences(
    State(st): St,
    headers: HeaderMap,
    Path((product, sku)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    tri!(check(&st, &headers, "apps.licensing"));
    let t = &st.tenant;
    let customer = q.get("customerId").map(String::as_str).unwrap_or("");
    if !customer.eq_ignore_ascii_case(&t.primary_domain) && customer != t.customer_id {
        return g_err(400, "invalid", "Invalid customerId");
    }
    if !SKUS.iter().any(|(p, s)| *p == product && *s == sku) {
        return g_err(400, "invalid", "Invalid productId/skuId");
    }
    let list: &[Value] = t
        .licenses
        .get(&(product, sku))
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let (items, next) = tri!(paged(list, &q, "maxResults", 100, 1000, false));
    list_body("licensing#licenseAssignmentList", "items", items, next)
}
