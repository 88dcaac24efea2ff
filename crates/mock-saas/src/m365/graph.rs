//! Microsoft Graph (beta and v1.0 paths) for the Entra ID sections: `$top` up to 999 with
//! `@odata.nextLink` + `$skiptoken` paging, `$count` that needs `ConsistencyLevel: eventual`,
//! `$batch` of at most 20 requests, `directoryObjects/getByIds` of at most 1000 ids, and a
//! permission check per endpoint.

use super::{audience, M365State, M365TenantSpec};
use crate::common::{error_response, json_response, ErrorStyle};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

const MAX_TOP: usize = 999;
const DEFAULT_TOP: usize = 100;
/// Server-driven page size of the PIM schedule instance lists.
const PIM_PAGE: usize = 500;
const MAX_BATCH: usize = 20;
const MAX_BY_IDS: usize = 1000;

/// Graph's key casing from ScubaGear's: first letter lower-cased, recursively; `@…` kept.
pub fn camel_case(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = if k.starts_with('@') {
                        k.clone()
                    } else {
                        let mut chars = k.chars();
                        match chars.next() {
                            Some(first) => first.to_lowercase().chain(chars).collect(),
                            None => String::new(),
                        }
                    };
                    (key, camel_case(v))
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(camel_case).collect()),
        other => other.clone(),
    }
}

fn arr(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.iter().filter(|x| !x.is_null()).cloned().collect(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// `/Date(ms)/` → RFC 3339, as Graph sends dates.
fn iso_dates(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(ms) = s
                .strip_prefix("/Date(")
                .and_then(|r| r.strip_suffix(")/"))
                .and_then(|n| n.parse::<i64>().ok())
            {
                if let Ok(ts) = jiff::Timestamp::from_millisecond(ms) {
                    *s = ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(iso_dates),
        Value::Object(o) => o.values_mut().for_each(iso_dates),
        _ => {}
    }
}

fn graph_shape(v: &Value) -> Value {
    let mut out = camel_case(v);
    iso_dates(&mut out);
    out
}

/// The tenant as Graph stores it.
#[derive(Debug, Default)]
pub struct GraphData {
    pub organization: Value,
    pub skus: Vec<Value>,
    pub ca_policies: Vec<Value>,
    pub authorization_policies: Vec<Value>,
    pub settings: Vec<Value>,
    pub auth_methods_policy: Value,
    pub domains: Vec<Value>,
    pub default_app_policy: Value,
    pub role_definitions: Vec<Value>,
    pub assignment_instances: Vec<Value>,
    pub eligibility_instances: Vec<Value>,
    pub policy_assignments: Vec<Value>,
    /// Users that can be read by id (the privileged ones; the rest only count).
    pub users: HashMap<String, Value>,
    pub methods: HashMap<String, Vec<Value>>,
    pub user_count: usize,
    pub applications: Vec<Value>,
    pub service_principals: Vec<Value>,
    /// Resource service principal id → app role assignments granted on it.
    pub assigned_to: HashMap<String, Vec<Value>>,
    pub grants: Vec<Value>,
}

pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

impl GraphData {
    pub fn build(
        export: &Value,
        spec: &M365TenantSpec,
        tenant_id: &str,
        initial_domain: &str,
    ) -> Self {
        let mut g = GraphData::default();
        let mut rng = crate::names::Rng::new(spec.seed ^ 0x6A);
        let custom_domain = format!("{}.co.jp", spec.name);
        let mut org = export["tenant_details"][0]["AADAdditionalData"][0].clone();
        if !org.is_object() {
            org = json!({});
        }
        let mut org = graph_shape(&org);
        org["id"] = json!(tenant_id);
        org["displayName"] = json!(export["tenant_details"][0]["DisplayName"]
            .as_str()
            .unwrap_or("株式会社さくら商事"));
        org["verifiedDomains"] = json!([
            {"name": initial_domain, "isInitial": true, "isDefault": false, "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"},
            {"name": custom_domain, "isInitial": false, "isDefault": true, "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"},
        ]);
        g.organization = org;

        let plans: Vec<Value> = arr(&export["service_plans"])
            .iter()
            .map(graph_shape)
            .collect();
        g.skus = arr(&export["license_information"])
            .iter()
            .enumerate()
            .map(|(i, sku)| {
                let mut s = graph_shape(sku);
                s["id"] = json!(format!(
                    "{tenant_id}_{}",
                    sku["SkuId"].as_str().unwrap_or_default()
                ));
                s["capabilityStatus"] = json!("Enabled");
                s["appliesTo"] = json!("User");
                s["servicePlans"] = if i == 0 {
                    Value::Array(plans.clone())
                } else {
                    json!([])
                };
                s
            })
            .collect();
        g.ca_policies = arr(&export["conditional_access_policies"])
            .iter()
            .map(graph_shape)
            .collect();
        g.authorization_policies = arr(&export["authorization_policies"])
            .iter()
            .map(graph_shape)
            .collect();
        g.settings = arr(&export["directory_settings"])
            .iter()
            .map(graph_shape)
            .collect();

        let mut root = json!({"id": "authenticationMethodsPolicy"});
        let mut configs = Vec::new();
        for part in arr(&export["authentication_method"]) {
            if let Some(p) = part.get("authentication_method_policy") {
                if let Value::Object(o) = graph_shape(p) {
                    for (k, v) in o {
                        root[k] = v;
                    }
                }
            }
            for c in arr(&part["authentication_method_feature_settings"]) {
                // The SDK's AdditionalProperties are plain properties on the wire.
                let mut c = c.clone();
                if let Some(Value::Object(extra)) = c
                    .as_object_mut()
                    .and_then(|o| o.remove("AdditionalProperties"))
                {
                    for (k, v) in extra {
                        c[k] = v;
                    }
                }
                let mut cfg = graph_shape(&c);
                let id = cfg["id"].as_str().unwrap_or_default().to_string();
                let mut ty = id.clone();
                if let Some(first) = ty.get(..1) {
                    ty = first.to_lowercase() + &ty[1..];
                }
                cfg["@odata.type"] = json!(format!(
                    "#microsoft.graph.{ty}AuthenticationMethodConfiguration"
                ));
                configs.push(cfg);
            }
        }
        root["authenticationMethodConfigurations"] = Value::Array(configs);
        g.auth_methods_policy = root;
        g.domains = arr(&export["domain_settings"])
            .iter()
            .map(graph_shape)
            .collect();
        g.default_app_policy = arr(&export["default_app_management_policy"])
            .first()
            .map(graph_shape)
            .unwrap_or(json!({}));

        // Roles, PIM instances and policies.
        for role in arr(&export["privileged_roles"]) {
            let template = role["RoleTemplateId"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            g.role_definitions.push(json!({"id": template, "templateId": template, "displayName": role["DisplayName"], "isBuiltIn": true, "isEnabled": true, "isPrivileged": true}));
            for a in arr(&role["Assignments"]) {
                let mut inst = graph_shape(&a);
                if inst.get("id").is_none() {
                    inst["id"] = json!(rng.guid());
                }
                g.assignment_instances.push(inst);
            }
            let rules: Vec<Value> = arr(&role["Rules"])
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    if let Some(o) = r.as_object_mut() {
                        o.remove("RuleSource");
                        o.remove("RuleSourceType");
                    }
                    graph_shape(&r)
                })
                .collect();
            let policy_id = format!("DirectoryRole_{tenant_id}_{}", rng.guid());
            g.policy_assignments.push(json!({
                "id": format!("{policy_id}_{template}"), "policyId": policy_id, "scopeId": "/", "scopeType": "DirectoryRole",
                "roleDefinitionId": template,
                "policy": {"id": policy_id, "displayName": "DirectoryRole", "isOrganizationDefault": false, "scopeId": "/", "scopeType": "DirectoryRole", "rules": rules},
            }));
        }
        // Privileged users: details and registered methods from the collector truth.
        let immutable: HashMap<String, Value> = export["privileged_users"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(id, u)| (id.clone(), u["OnPremisesImmutableId"].clone()))
                    .collect()
            })
            .unwrap_or_default();
        for u in arr(&export["mamori_users"]) {
            let id = u["id"].as_str().unwrap_or_default().to_string();
            let mut user = u.clone();
            let methods = arr(&user["authenticationMethods"]);
            if let Some(o) = user.as_object_mut() {
                o.remove("authenticationMethods");
                o.remove("roleAssignments");
                o.insert("@odata.type".into(), json!("#microsoft.graph.user"));
                o.insert(
                    "onPremisesImmutableId".into(),
                    immutable.get(&id).cloned().unwrap_or(Value::Null),
                );
            }
            g.methods.insert(id.clone(), methods);
            g.users.insert(id, user);
        }
        g.user_count = export["total_user_count"].as_u64().unwrap_or(0) as usize;

        // Applications and service principals: application permissions as app role assignments
        // on the resource app's service principal (Microsoft Graph, and Exchange Online or
        // SharePoint Online when a permission names them), delegated permissions as
        // oauth2PermissionGrants (consented for all users when admin-consented).
        let graph_sp_id = "sp-microsoft-graph".to_string();
        let mut sps: Vec<Value> = arr(&export["mamori_service_principals"])
            .iter()
            .filter(|s| s["id"] != json!(graph_sp_id))
            .cloned()
            .collect();
        let mut perms = Permissions::default();
        let mut grants = arr(&export["mamori_oauth2_permission_grants"]);
        // Credentials of the service principal itself (ScubaGear marks the application's).
        let sp_creds = |v: &Value| -> Value {
            graph_shape(&Value::Array(
                arr(v)
                    .into_iter()
                    .filter(|c| c["IsFromApplication"] == json!(false))
                    .map(|mut c| {
                        if let Some(o) = c.as_object_mut() {
                            o.remove("IsFromApplication");
                        }
                        c
                    })
                    .collect(),
            ))
        };
        let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
        for sp in arr(&export["risky_third_party_service_principals"]) {
            let id = sp["ObjectId"].as_str().unwrap_or_default().to_string();
            known.insert(id.clone());
            sps.push(json!({
                "id": id, "appId": sp["AppId"], "displayName": sp["DisplayName"], "signInAudience": sp["SignInAudience"],
                "appOwnerOrganizationId": sp["AppOwnerOrganizationId"], "servicePrincipalType": "Application",
                "keyCredentials": sp_creds(&sp["KeyCredentials"]), "passwordCredentials": sp_creds(&sp["PasswordCredentials"]),
            }));
            perms.grant(
                &id,
                &sp["DisplayName"],
                &sp["Permissions"],
                &mut rng,
                &mut grants,
            );
        }
        // The tenant's own applications with risky permissions have their service principal
        // (unless it is one of the above).
        for a in arr(&export["risky_applications"]) {
            let Some(id) = a["ObjectId"]["ServicePrincipal"].as_str() else {
                continue;
            };
            if !known.insert(id.to_string()) {
                continue;
            }
            sps.push(json!({
                "id": id, "appId": a["AppId"], "displayName": a["DisplayName"],
                "signInAudience": if a["IsMultiTenantEnabled"] == json!(true) { "AzureADMultipleOrgs" } else { "AzureADMyOrg" },
                "appOwnerOrganizationId": tenant_id, "servicePrincipalType": "Application",
                "keyCredentials": sp_creds(&a["KeyCredentials"]), "passwordCredentials": sp_creds(&a["PasswordCredentials"]),
            }));
            perms.grant(
                id,
                &a["DisplayName"],
                &a["Permissions"],
                &mut rng,
                &mut grants,
            );
        }
        for (resource, app_id, sp_id) in RESOURCES {
            let sp_id = if *resource == "Microsoft Graph" {
                graph_sp_id.as_str()
            } else {
                sp_id
            };
            let Some(roles) = perms
                .roles
                .get(*resource)
                .or((*resource == "Microsoft Graph").then_some(&BTreeMap::new()))
                .cloned()
            else {
                continue;
            };
            let app_roles: Vec<Value> = roles
                .iter()
                .map(|(name, id)| json!({"id": id, "value": name, "displayName": name, "allowedMemberTypes": ["Application"], "isEnabled": true}))
                .collect();
            sps.push(json!({"id": sp_id, "appId": app_id, "displayName": resource, "signInAudience": "AzureADMultipleOrgs",
                "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a", "servicePrincipalType": "Application", "appRoles": app_roles,
                "oauth2PermissionScopes": [], "keyCredentials": [], "passwordCredentials": []}));
            let assigned = perms.assigned.remove(*resource).unwrap_or_default();
            g.assigned_to.insert(sp_id.to_string(), assigned);
        }
        g.service_principals = sps;
        // Application objects carry the credentials ScubaGear marks as the application's.
        let app_creds = |v: &Value| -> Value {
            graph_shape(&Value::Array(
                arr(v)
                    .into_iter()
                    .filter(|c| c["IsFromApplication"] != json!(false))
                    .map(|mut c| {
                        if let Some(o) = c.as_object_mut() {
                            o.remove("IsFromApplication");
                        }
                        c
                    })
                    .collect(),
            ))
        };
        g.applications = arr(&export["risky_applications"])
            .iter()
            .map(|a| {
                json!({"id": a["ObjectId"]["Application"], "appId": a["AppId"], "displayName": a["DisplayName"],
                    "signInAudience": if a["IsMultiTenantEnabled"] == json!(true) { "AzureADMultipleOrgs" } else { "AzureADMyOrg" },
                    "keyCredentials": app_creds(&a["KeyCredentials"]), "passwordCredentials": app_creds(&a["PasswordCredentials"]),
                    "federatedIdentityCredentials": graph_shape(&Value::Array(arr(&a["FederatedCredentials"])))})
            })
            .collect();
        g.grants = grants;
        g
    }
}

/// Resource applications whose permissions the tenant's applications hold: display name (as
/// ScubaGear's ApplicationDisplayName), appId, and the imitation's service principal id.
const RESOURCES: &[(&str, &str, &str)] = &[
    ("Microsoft Graph", GRAPH_APP_ID, "sp-microsoft-graph"),
    (
        "Office 365 Exchange Online",
        "00000002-0000-0ff1-ce00-000000000000",
        "sp-office365-exchange-online",
    ),
    (
        "Office 365 SharePoint Online",
        "00000003-0000-0ff1-ce00-000000000000",
        "sp-office365-sharepoint-online",
    ),
];

/// App roles and their assignments per resource application, built from ScubaGear's
/// `Permissions` lists.
#[derive(Default)]
struct Permissions {
    /// Resource → permission name → app role id (the first id seen for a name).
    roles: HashMap<String, BTreeMap<String, String>>,
    /// Resource → app role assignments granted on it.
    assigned: HashMap<String, Vec<Value>>,
}

impl Permissions {
    fn grant(
        &mut self,
        principal: &str,
        name: &Value,
        permissions: &Value,
        rng: &mut crate::names::Rng,
        grants: &mut Vec<Value>,
    ) {
        // Delegated scopes per (resource, consented for all users).
        let mut scopes: BTreeMap<(String, bool), Vec<String>> = BTreeMap::new();
        for p in arr(permissions) {
            let resource = p["ApplicationDisplayName"]
                .as_str()
                .filter(|r| RESOURCES.iter().any(|(n, _, _)| n == r))
                .unwrap_or("Microsoft Graph")
                .to_string();
            let perm = p["RoleDisplayName"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let consented = p["IsAdminConsented"] != json!(false);
            if p["RoleType"] == json!("Delegated") {
                scopes.entry((resource, consented)).or_default().push(perm);
                continue;
            }
            if !consented {
                continue;
            }
            let role_id = p["RoleId"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| rng.guid());
            let role_id = self
                .roles
                .entry(resource.clone())
                .or_default()
                .entry(perm)
                .or_insert(role_id)
                .clone();
            let resource_sp = RESOURCES
                .iter()
                .find(|(n, _, _)| *n == resource)
                .map(|r| r.2)
                .unwrap_or("sp-microsoft-graph");
            self.assigned.entry(resource.clone()).or_default().push(json!({"id": rng.guid(), "appRoleId": role_id, "principalId": principal, "principalType": "ServicePrincipal",
                "principalDisplayName": name, "resourceId": resource_sp, "resourceDisplayName": resource,
                "createdDateTime": "2026-04-01T00:00:00Z"}));
        }
        for ((resource, all), names) in scopes {
            let resource_sp = RESOURCES
                .iter()
                .find(|(n, _, _)| *n == resource)
                .map(|r| r.2)
                .unwrap_or("sp-microsoft-graph");
            // The resource needs its service principal even with delegated scopes only.
            self.roles.entry(resource).or_default();
            grants.push(json!({"id": rng.guid(), "clientId": principal,
                "consentType": if all { "AllPrincipals" } else { "Principal" },
                "principalId": if all { Value::Null } else { json!(rng.guid()) },
                "resourceId": resource_sp, "scope": names.join(" ")}));
        }
    }
}

type Shared = State<Arc<M365State>>;

fn check(state: &M365State, headers: &HeaderMap, any_of: &[&str]) -> Result<(), Response> {
    state
        .tokens
        .check(headers, audience::GRAPH, any_of, ErrorStyle::Microsoft)
}

fn bad_request(message: &str) -> Response {
    error_response(ErrorStyle::Microsoft, 400, "Request_BadRequest", message)
}

fn query_map(uri: &Uri) -> HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// One `$top`/`$skiptoken` page of `items` as an OData collection.
fn paged(
    uri: &Uri,
    headers: &HeaderMap,
    items: &[Value],
    default_top: usize,
    max_top: usize,
) -> Response {
    let q = query_map(uri);
    let top = match q.get("$top").map(|t| t.parse::<usize>()) {
        None => default_top,
        Some(Ok(t)) if (1..=max_top).contains(&t) => t,
        Some(_) => {
            return bad_request(&format!(
                "Invalid page size specified: '{}'. Must be between 1 and {max_top} inclusive.",
                q["$top"]
            ))
        }
    };
    let offset = q
        .get("$skiptoken")
        .and_then(|s| s.strip_prefix("X"))
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let end = (offset + top).min(items.len());
    let page = items.get(offset..end).unwrap_or_default();
    let next = (end < items.len()).then_some(end);
    // `$expand`ed properties come back beside the `$select`ed ones.
    let select: Option<Vec<String>> = q.get("$select").map(|s| {
        s.split(',')
            .chain(
                q.get("$expand")
                    .map(String::as_str)
                    .unwrap_or_default()
                    .split(','),
            )
            .map(|f| f.trim().to_string())
            .collect()
    });
    let page: Vec<Value> = page
        .iter()
        .map(|item| project(item, select.as_deref()))
        .collect();
    let mut body = json!({"@odata.context": "https://graph.microsoft.com/beta/$metadata#collection", "value": page});
    if let Some(next) = next {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let mut params: Vec<(String, String)> =
            q.into_iter().filter(|(k, _)| k != "$skiptoken").collect();
        params.sort();
        params.push(("$skiptoken".into(), format!("X{next}")));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        body["@odata.nextLink"] = json!(format!("http://{host}{}?{query}", uri.path()));
    }
    json_response(&body)
}

/// `$select`: only the named properties (and `id`, `@odata.type`), as Graph does.
fn project(item: &Value, select: Option<&[String]>) -> Value {
    match (select, item) {
        (Some(fields), Value::Object(o)) => Value::Object(
            o.iter()
                .filter(|(k, _)| *k == "id" || k.starts_with('@') || fields.iter().any(|f| f == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        _ => item.clone(),
    }
}

fn collection(items: &[Value]) -> Response {
    json_response(
        &json!({"@odata.context": "https://graph.microsoft.com/beta/$metadata#collection", "value": items}),
    )
}

macro_rules! guard {
    ($state:expr, $headers:expr, $perms:expr) => {
        if let Err(r) = check(&$state, &$headers, $perms) {
            return r;
        }
    };
}

pub fn routes() -> Router<Arc<M365State>> {
    Router::new()
        .route("/graph/{version}/organization", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["Organization.Read.All", "Directory.Read.All"]);
            collection(std::slice::from_ref(&s.graph.organization))
        }))
        .route("/graph/{version}/subscribedSkus", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["Organization.Read.All", "Directory.Read.All"]);
            collection(&s.graph.skus)
        }))
        .route("/graph/{version}/identity/conditionalAccess/policies", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["Policy.Read.All"]);
            collection(&s.graph.ca_policies)
        }))
        .route("/graph/{version}/users/$count", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["User.Read.All", "Directory.Read.All"]);
            if h.get("consistencylevel").and_then(|v| v.to_str().ok()) != Some("eventual") {
                return bad_request("$count is not currently supported without the ConsistencyLevel: eventual header.");
            }
            ([("content-type", "text/plain")], s.graph.user_count.to_string()).into_response()
        }))
        .route("/graph/{version}/policies/authorizationPolicy", get(|State(s): Shared, Path(v): Path<String>, h: HeaderMap| async move {
            guard!(s, h, &["Policy.Read.All"]);
            // beta answers a collection, v1.0 the single object.
            if v == "beta" { collection(&s.graph.authorization_policies) } else { json_response(s.graph.authorization_policies.first().unwrap_or(&json!({}))) }
        }))
        .route("/graph/{version}/settings", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["Directory.Read.All"]);
            collection(&s.graph.settings)
        }))
        .route("/graph/{version}/policies/authenticationMethodsPolicy", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["Policy.Read.All"]);
            json_response(&s.graph.auth_methods_policy)
        }))
        .route("/graph/{version}/domains", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["Domain.Read.All", "Directory.Read.All"]);
            collection(&s.graph.domains)
        }))
        .route("/graph/{version}/policies/defaultAppManagementPolicy", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["Policy.Read.All"]);
            json_response(&s.graph.default_app_policy)
        }))
        .route("/graph/{version}/roleManagement/directory/roleDefinitions", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["RoleManagement.Read.Directory", "Directory.Read.All"]);
            collection(&s.graph.role_definitions)
        }))
        .route("/graph/{version}/roleManagement/directory/roleAssignmentScheduleInstances", get(|State(s): Shared, h: HeaderMap, uri: Uri| async move {
            guard!(s, h, &["RoleAssignmentSchedule.Read.Directory", "RoleManagement.Read.Directory"]);
            paged(&uri, &h, &s.graph.assignment_instances, PIM_PAGE, PIM_PAGE)
        }))
        .route("/graph/{version}/roleManagement/directory/roleEligibilityScheduleInstances", get(|State(s): Shared, h: HeaderMap, uri: Uri| async move {
            guard!(s, h, &["RoleEligibilitySchedule.Read.Directory", "RoleManagement.Read.Directory"]);
            paged(&uri, &h, &s.graph.eligibility_instances, PIM_PAGE, PIM_PAGE)
        }))
        .route("/graph/{version}/policies/roleManagementPolicyAssignments", get(|State(s): Shared, h: HeaderMap, uri: Uri| async move {
            guard!(s, h, &["RoleManagementPolicy.Read.Directory"]);
            let q = query_map(&uri);
            if !q.get("$filter").is_some_and(|f| f.contains("scopeType eq 'DirectoryRole'")) {
                return bad_request("The filter must specify scopeId and scopeType.");
            }
            let expand = q.get("$expand").is_some_and(|e| e.contains("rules"));
            let items: Vec<Value> = s.graph.policy_assignments.iter().map(|a| {
                let mut a = a.clone();
                if !expand { if let Some(o) = a.as_object_mut() { o.remove("policy"); } }
                a
            }).collect();
            collection(&items)
        }))
        .route("/graph/{version}/directoryObjects/getByIds", post(|State(s): Shared, h: HeaderMap, body: Bytes| async move {
            guard!(s, h, &["Directory.Read.All"]);
            let Ok(req) = serde_json::from_slice::<Value>(&body) else { return bad_request("Invalid JSON body.") };
            let ids: Vec<String> = req["ids"].as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
            if ids.is_empty() || ids.len() > MAX_BY_IDS {
                return bad_request("ids must hold between 1 and 1000 identifiers.");
            }
            let found: Vec<Value> = ids.iter().filter_map(|id| directory_object(&s, id)).collect();
            collection(&found)
        }))
        .route("/graph/{version}/$batch", post(|State(s): Shared, h: HeaderMap, body: Bytes| async move {
            batch(&s, &h, &body)
        }))
        .route("/graph/{version}/applications", get(|State(s): Shared, h: HeaderMap, uri: Uri| async move {
            guard!(s, h, &["Application.Read.All", "Directory.Read.All"]);
            paged(&uri, &h, &s.graph.applications, DEFAULT_TOP, MAX_TOP)
        }))
        .route("/graph/{version}/servicePrincipals", get(|State(s): Shared, h: HeaderMap, uri: Uri| async move {
            guard!(s, h, &["Application.Read.All", "Directory.Read.All"]);
            let q = query_map(&uri);
            match q.get("$filter") {
                // appId in ('…','…'): the resource apps, found without listing everything.
                Some(f) if f.starts_with("appId in (") => {
                    let ids: Vec<&str> = f.split('\'').skip(1).step_by(2).collect();
                    let found: Vec<Value> = s.graph.service_principals.iter().filter(|sp| ids.contains(&sp["appId"].as_str().unwrap_or_default())).cloned().collect();
                    paged(&uri, &h, &found, DEFAULT_TOP, MAX_TOP)
                }
                Some(f) => bad_request(&format!("Unsupported or invalid query filter clause specified for property of resource 'ServicePrincipal': {f}")),
                None => paged(&uri, &h, &s.graph.service_principals, DEFAULT_TOP, MAX_TOP),
            }
        }))
        .route("/graph/{version}/servicePrincipals/{id}/appRoleAssignedTo", get(|State(s): Shared, Path((_, id)): Path<(String, String)>, h: HeaderMap, uri: Uri| async move {
            guard!(s, h, &["Application.Read.All", "Directory.Read.All"]);
            match s.graph.assigned_to.get(&id) {
                Some(items) => paged(&uri, &h, items, DEFAULT_TOP, MAX_TOP),
                None if s.graph.service_principals.iter().any(|sp| sp["id"] == json!(id)) => paged(&uri, &h, &[], DEFAULT_TOP, MAX_TOP),
                None => error_response(ErrorStyle::Microsoft, 404, "Request_ResourceNotFound", &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present.")),
            }
        }))
        .route("/graph/{version}/servicePrincipals/{id}/delegatedPermissionClassifications", get(|State(s): Shared, h: HeaderMap| async move {
            guard!(s, h, &["Application.Read.All", "Directory.Read.All"]);
            collection(&[])
        }))
        .route("/graph/{version}/oauth2PermissionGrants", get(|State(s): Shared, h: HeaderMap, uri: Uri| async move {
            guard!(s, h, &["DelegatedPermissionGrant.Read.All", "Directory.Read.All"]);
            paged(&uri, &h, &s.graph.grants, DEFAULT_TOP, MAX_TOP)
        }))
}

fn directory_object(s: &M365State, id: &str) -> Option<Value> {
    if let Some(u) = s.graph.users.get(id) {
        return Some(u.clone());
    }
    s.graph
        .service_principals
        .iter()
        .find(|sp| sp["id"] == json!(id))
        .map(|sp| {
            let mut sp = sp.clone();
            sp["@odata.type"] = json!("#microsoft.graph.servicePrincipal");
            sp
        })
}

/// `POST /$batch`: each request is answered as if sent alone (permission checks included).
fn batch(s: &M365State, headers: &HeaderMap, body: &[u8]) -> Response {
    if let Err(r) = check(s, headers, &[]) {
        return r;
    }
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return bad_request("Invalid batch payload.");
    };
    let Some(requests) = req["requests"].as_array() else {
        return bad_request("Invalid batch payload: requests is missing.");
    };
    if requests.len() > MAX_BATCH {
        return bad_request(
            "Invalid batch payload format: the number of requests exceeds the limit of 20.",
        );
    }
    let mut responses = Vec::new();
    for r in requests {
        let id = r["id"].clone();
        let url = r["url"].as_str().unwrap_or_default();
        let (status, body) = batch_get(s, headers, url);
        responses.push(json!({"id": id, "status": status, "headers": {"content-type": "application/json"}, "body": body}));
    }
    json_response(&json!({"responses": responses}))
}

fn granted(s: &M365State, headers: &HeaderMap, any_of: &[&str]) -> bool {
    check(s, headers, any_of).is_ok()
}

fn denied() -> (u16, Value) {
    (
        403,
        json!({"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges to complete the operation."}}),
    )
}

fn batch_get(s: &M365State, headers: &HeaderMap, url: &str) -> (u16, Value) {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["users"] => {
            if !granted(s, headers, &["User.Read.All", "Directory.Read.All"]) {
                return denied();
            }
            let select = q.get("$select").cloned().unwrap_or_default();
            if select.contains("signInActivity") && !granted(s, headers, &["AuditLog.Read.All"]) {
                return denied();
            }
            // $filter=id in ('a','b',…): at most 15 values, as Graph limits `in`.
            let filter = q.get("$filter").cloned().unwrap_or_default();
            let ids: Vec<String> = filter
                .split('\'')
                .enumerate()
                .filter(|(i, _)| i % 2 == 1)
                .map(|(_, v)| v.to_string())
                .collect();
            if !filter.starts_with("id in (") || ids.len() > 15 {
                return (
                    400,
                    json!({"error": {"code": "Request_UnsupportedQuery", "message": "Unsupported query: the 'in' operator takes at most 15 values."}}),
                );
            }
            let fields: Vec<String> = select
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect();
            let users: Vec<Value> = ids
                .iter()
                .filter_map(|id| s.graph.users.get(id))
                .map(|u| project(u, (!fields.is_empty()).then_some(fields.as_slice())))
                .collect();
            (200, json!({"value": users}))
        }
        ["users", id, "authentication", "methods"] => {
            if !granted(s, headers, &["UserAuthenticationMethod.Read.All"]) {
                return denied();
            }
            match s.graph.methods.get(*id) {
                Some(m) => (200, json!({"value": m})),
                None => (
                    404,
                    json!({"error": {"code": "Request_ResourceNotFound", "message": format!("Resource '{id}' does not exist.")}}),
                ),
            }
        }
        ["groups", id, "transitiveMembers"] => {
            if !granted(s, headers, &["GroupMember.Read.All", "Directory.Read.All"]) {
                return denied();
            }
            (
                404,
                json!({"error": {"code": "Request_ResourceNotFound", "message": format!("Resource '{id}' does not exist.")}}),
            )
        }
        _ => (
            400,
            json!({"error": {"code": "BadRequest", "message": format!("Resource not found for the segment '{}'.", parts.first().unwrap_or(&""))}}),
        ),
    }
}

/// Requests the Graph half needs at the largest page sizes.
pub fn lower_bound(state: &M365State) -> BTreeMap<String, u64> {
    let g = &state.graph;
    let pages = |n: usize, size: usize| n.div_ceil(size).max(1) as u64;
    let privileged = g.users.len();
    let mut b = BTreeMap::new();
    for fixed in [
        "tenant_details",
        "service_plans",
        "conditional_access_policies",
        "total_user_count",
        "authorization_policies",
        "directory_settings",
        "authentication_method",
        "domain_settings",
        "default_app_management_policy",
        "risky_delegated_permission_classifications",
    ] {
        b.insert(fixed.to_string(), 1);
    }
    // Role definitions, policy assignments with rules, then the PIM instance lists.
    b.insert(
        "privileged_roles".into(),
        2 + pages(g.assignment_instances.len(), PIM_PAGE),
    );
    // Eligible assignments, principal types (getByIds), user details (15 per filter, 20 filters
    // per batch).
    b.insert(
        "privileged_users".into(),
        pages(g.eligibility_instances.len(), PIM_PAGE)
            + pages(privileged, MAX_BY_IDS)
            + pages(privileged, 15 * MAX_BATCH),
    );
    // Registered methods of each privileged user, 20 per batch.
    b.insert("mamori_users".into(), pages(privileged, MAX_BATCH));
    b.insert(
        "risky_third_party_service_principals".into(),
        // The list, the resource apps by appId, their assignment lists.
        pages(g.service_principals.len(), MAX_TOP)
            + 1
            + g.assigned_to
                .values()
                .map(|a| pages(a.len(), MAX_TOP))
                .sum::<u64>(),
    );
    b.insert(
        "risky_applications".into(),
        pages(g.applications.len(), MAX_TOP),
    );
    b.insert(
        "mamori_oauth2_permission_grants".into(),
        pages(g.grants.len(), MAX_TOP),
    );
    b
}
