//! Reports API: the admin audit log split into ScubaGoggles' per-product `*_logs`, the OAuth
//! token and domain-wide delegation history, and the accounts usage report.

use super::client::{enc, google_pages, text, Client, SCOPE_AUDIT, SCOPE_USAGE};
use crate::http::ApiError;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// The accounts:* usage parameters by lower-case address.
pub(super) type Usage = HashMap<String, Map<String, Value>>;

/// Admin audit events read whole by one product (ScubaGoggles' event table).
const PRODUCT_EVENTS: &[(&str, &[&str])] = &[
    ("gmail", &["CHANGE_GMAIL_SETTING", "CHANGE_EMAIL_SETTING"]),
    ("drive", &["CHANGE_DOCS_SETTING"]),
    (
        "commoncontrols",
        &[
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
        ],
    ),
];

/// Application-setting events, split over the products by their `APPLICATION_NAME`.
const SETTING_EVENTS: &[&str] = &[
    "CREATE_APPLICATION_SETTING",
    "CHANGE_APPLICATION_SETTING",
    "DELETE_APPLICATION_SETTING",
];

const PRODUCT_APPS: &[(&str, &[&str])] = &[
    ("calendar", &["Calendar"]),
    ("chat", &["Google Chat", "Google Workspace Marketplace"]),
    ("assuredcontrols", &["Access Approvals", "Data regions"]),
    (
        "commoncontrols",
        &[
            "Security",
            "Google Workspace Marketplace",
            "Blogger",
            "Google Books",
            "Google Maps",
            "Google Pay",
            "Google Photos",
            "Google Play",
            "Google Play Console",
            "Timeline - Location History",
            "YouTube",
            "Google Cloud Platform Sharing Options",
            "Multi Party Approval",
            "Data regions",
        ],
    ),
    ("drive", &["Drive and Docs"]),
    ("gmail", &["Gmail"]),
    ("gemini", &["Gemini app", "Gemini in Workspace apps"]),
    ("groups", &["Groups for Business"]),
    ("meet", &["Google Meet", "Google Meet GenAI"]),
    ("sites", &["Sites"]),
    ("classroom", &["Classroom"]),
];

/// Every admin audit event the `*_logs` keys need, one series per eventName, concurrently.
pub(super) async fn fetch_admin_log(client: Arc<Client>) -> Result<Vec<Value>, ApiError> {
    let mut names: Vec<&str> = SETTING_EVENTS.to_vec();
    for (_, events) in PRODUCT_EVENTS {
        names.extend_from_slice(events);
    }
    let mut set = tokio::task::JoinSet::new();
    for (i, name) in names.iter().enumerate() {
        let api = client.api(SCOPE_AUDIT);
        let url = format!("{}/admin/reports/v1/activity/users/all/applications/admin?eventName={name}&maxResults=1000", client.admin);
        set.spawn(async move { (i, api.google_list("admin_logs", &url, "items").await) });
    }
    let mut parts: Vec<(usize, Vec<Value>)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.map_err(|e| ApiError::Transport {
            url: "admin audit log".into(),
            message: e.to_string(),
            attempts: 1,
        })?;
        parts.push((i, r?));
    }
    parts.sort_by_key(|(i, _)| *i);
    Ok(parts.into_iter().flat_map(|(_, v)| v).collect())
}

pub(super) async fn fetch_token_log(client: Arc<Client>) -> Result<Vec<Value>, ApiError> {
    let url = format!(
        "{}/admin/reports/v1/activity/users/all/applications/token?maxResults=1000",
        client.admin
    );
    client
        .list(SCOPE_AUDIT, "mamori_oauth_tokens", url, "items")
        .await
}

/// Grants and removals of domain-wide delegation; nothing is read when not `wanted` (the
/// operator supplied the list).
pub(super) async fn fetch_dwd_log(
    client: Arc<Client>,
    wanted: bool,
) -> Result<Vec<Value>, ApiError> {
    if !wanted {
        return Ok(Vec::new());
    }
    let url = |event: &str| {
        format!("{}/admin/reports/v1/activity/users/all/applications/admin?eventName={event}&maxResults=1000", client.admin)
    };
    let (granted, removed) = tokio::join!(
        client.list(
            SCOPE_AUDIT,
            "mamori_domain_wide_delegation",
            url("AUTHORIZE_API_CLIENT_ACCESS"),
            "items"
        ),
        client.list(
            SCOPE_AUDIT,
            "mamori_domain_wide_delegation",
            url("REMOVE_API_CLIENT_ACCESS"),
            "items"
        ),
    );
    let mut all = granted?;
    all.extend(removed?);
    Ok(all)
}

/// The accounts:* parameters of the user usage report, three days back (Google's reports lag),
/// by lower-case address. Each page is folded in as it arrives, so the reports themselves are
/// never all held at once.
pub(super) async fn fetch_usage(client: Arc<Client>) -> Result<Usage, ApiError> {
    let date = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(72))
        .strftime("%Y-%m-%d")
        .to_string();
    let parameters = "accounts:num_security_keys,accounts:num_passkeys_enrolled,accounts:is_2sv_enrolled,accounts:is_2sv_enforced,accounts:num_roles_assigned,accounts:num_authorized_apps";
    let url = format!(
        "{}/admin/reports/v1/usage/users/all/dates/{date}?parameters={}&maxResults=1000",
        client.admin,
        enc(parameters)
    );
    let mut accounts: Usage = HashMap::new();
    google_pages(
        &client.api(SCOPE_USAGE),
        "mamori_users",
        &url,
        "usageReports",
        |reports| {
            for mut r in reports {
                let email = text(&r["entity"]["userEmail"]).to_lowercase();
                let params = accounts.entry(email).or_default();
                let Some(ps) = r.get_mut("parameters").and_then(Value::as_array_mut) else {
                    continue;
                };
                for p in ps.iter_mut() {
                    let Some(name) = p["name"]
                        .as_str()
                        .and_then(|n| n.strip_prefix("accounts:"))
                        .map(str::to_string)
                    else {
                        continue;
                    };
                    let value = ["boolValue", "intValue", "stringValue", "datetimeValue"]
                        .iter()
                        .find_map(|k| p.get_mut(*k).map(Value::take))
                        .unwrap_or(Value::Null);
                    params.insert(name, value);
                }
            }
        },
    )
    .await?;
    Ok(accounts)
}

fn param<'a>(event: &'a Value, name: &str) -> Option<&'a Value> {
    event["parameters"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
}

fn param_list(p: Option<&Value>) -> Vec<Value> {
    match p {
        Some(p) => match (&p["multiValue"], &p["value"]) {
            (Value::Array(a), _) => a.clone(),
            (_, Value::String(s)) => s
                .split([' ', ','])
                .filter(|x| !x.is_empty())
                .map(|x| json!(x))
                .collect(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    }
}

/// The admin audit activities as ScubaGoggles' per-product `*_logs` keys.
pub(super) fn split_logs(activities: &[Value], products: &[&str]) -> Vec<(String, Vec<Value>)> {
    let mut out: Vec<(String, Vec<Value>)> = products
        .iter()
        .map(|p| (p.to_string(), Vec::new()))
        .collect();
    let mut seen: Vec<HashSet<String>> = vec![HashSet::new(); products.len()];
    for a in activities {
        let key = format!(
            "{}|{}",
            text(&a["id"]["uniqueQualifier"]),
            text(&a["id"]["time"])
        );
        for (i, product) in products.iter().enumerate() {
            let whole = PRODUCT_EVENTS
                .iter()
                .filter(|(p, _)| p == product)
                .any(|(_, events)| {
                    a["events"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|e| events.contains(&e["name"].as_str().unwrap_or("")))
                });
            let apps = PRODUCT_APPS
                .iter()
                .find(|(p, _)| p == product)
                .map(|(_, a)| *a)
                .unwrap_or(&[]);
            let by_app = a["events"].as_array().into_iter().flatten().any(|e| {
                SETTING_EVENTS.contains(&e["name"].as_str().unwrap_or(""))
                    && param(e, "APPLICATION_NAME")
                        .and_then(|p| p["value"].as_str())
                        .is_some_and(|v| apps.contains(&v))
            });
            if (whole || by_app) && seen[i].insert(key.clone()) {
                out[i].1.push(a.clone());
            }
        }
    }
    out
}

/// Current third-party tokens from the token audit log: the last authorisation of each
/// (user, client), unless revoked since.
pub(super) fn build_tokens(activities: &[Value]) -> Vec<Value> {
    let mut sorted: Vec<&Value> = activities.iter().collect();
    sorted.sort_by(|a, b| text(&a["id"]["time"]).cmp(&text(&b["id"]["time"])));
    let mut current: BTreeMap<(String, String), Value> = BTreeMap::new();
    for a in sorted {
        let user = text(&a["actor"]["profileId"]);
        for e in a["events"].as_array().into_iter().flatten() {
            let client = param(e, "client_id")
                .map(|p| text(&p["value"]))
                .unwrap_or_default();
            if client.is_empty() {
                continue;
            }
            match e["name"].as_str() {
                Some("authorize") => {
                    let client_type = param(e, "client_type")
                        .map(|p| text(&p["value"]))
                        .unwrap_or_default();
                    current.insert(
                        (user.clone(), client.clone()),
                        json!({
                            "kind": "admin#directory#token",
                            "clientId": client,
                            "displayText": param(e, "app_name").map(|p| p["value"].clone()).unwrap_or(Value::Null),
                            "scopes": param_list(param(e, "scope")),
                            "userKey": user,
                            "anonymous": false,
                            "nativeApp": client_type.starts_with("NATIVE"),
                        }),
                    );
                }
                Some("revoke") => {
                    current.remove(&(user.clone(), client));
                }
                _ => {}
            }
        }
    }
    current.into_values().collect()
}

/// Domain-wide delegation clients rebuilt from the admin audit log: grants not removed since.
pub(super) fn build_dwd(activities: &[Value]) -> Vec<Value> {
    let mut sorted: Vec<&Value> = activities.iter().collect();
    sorted.sort_by(|a, b| text(&a["id"]["time"]).cmp(&text(&b["id"]["time"])));
    let mut current: BTreeMap<String, Value> = BTreeMap::new();
    for a in sorted {
        for e in a["events"].as_array().into_iter().flatten() {
            let client = param(e, "API_CLIENT_NAME")
                .map(|p| text(&p["value"]))
                .unwrap_or_default();
            if client.is_empty() {
                continue;
            }
            match e["name"].as_str() {
                Some("AUTHORIZE_API_CLIENT_ACCESS") => {
                    current.insert(client.clone(), json!({"clientId": client, "displayText": Value::Null, "scopes": param_list(param(e, "API_SCOPES"))}));
                }
                Some("REMOVE_API_CLIENT_ACCESS") => {
                    current.remove(&client);
                }
                _ => {}
            }
        }
    }
    current.into_values().collect()
}
