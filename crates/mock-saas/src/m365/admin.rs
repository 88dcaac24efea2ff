//! Exchange Online / compliance `InvokeCommand`, SharePoint `SPO.Tenant`, Teams configuration,
//! Power Platform (BAP) and Power BI admin APIs, and the tenant's e-mail DNS zone.
//!
//! Every API serves its part of `state.export` (the ScubaGear-shape truth) in the API's own
//! shape; the connector maps it back.
//!
//! - Exchange (`/exo`) and Security & Compliance (`/ipps`): `POST
//!   /adminapi/beta/{tenant}/InvokeCommand` with `{"CmdletInput":{"CmdletName","Parameters"}}`,
//!   answering OData `{"@odata.context","value":[…]}` paged at `Prefer: odata.maxpagesize`
//!   (at most 1000) with an absolute `@odata.nextLink` to which the same body is posted again.
//!   Only `Get-*` cmdlets exist for the read-only role; anything else, and the Defender for
//!   Office 365 / DLP cmdlets of a tenant without those licences, is "not recognized" (400).
//! - SharePoint (`/spo/{tenant}`): `GET /_api/SPO.Tenant`, verbose OData `{"d":{…}}` when asked
//!   with `odata=verbose`; only certificate-based app-only tokens (401 "Unsupported app only
//!   token." otherwise).
//! - Teams (`/teams`): **the Teams admin endpoints are undocumented.** The imitation follows
//!   the configuration API the MicrosoftTeams module and ScubaGear's newer TeamsRestHelper use
//!   (`api.interfaces.records.teams.microsoft.com`), with these paths chosen:
//!   `GET /Skype.Policy/configurations/{TeamsMeetingPolicy | TenantFederationSettings |
//!   TeamsClientConfiguration | TeamsAppPermissionPolicy | TeamsMeetingBroadcastPolicy}` (a JSON
//!   array of the configuration objects), `GET /Teams.Tenant/tenants` (the tenant object) and
//!   `GET /Teams.Tenant/unifiedTenantSettings` (Get-M365UnifiedTenantSettings, an array).
//! - Power Platform (`/bap`): `POST …/listTenantSettings`, `GET …/scopes/admin/environments`,
//!   `GET …/scopes/admin/apiPolicies` (the 2016-11-01 policy shape with `apiGroups`) and
//!   `GET /providers/PowerPlatform.Governance/v1/tenants/{id}/tenantIsolationPolicy`; every call
//!   needs `api-version`.
//! - Power BI (`/powerbi`): `GET /v1/admin/tenantsettings` → `{"tenantSettings":[…]}`.

use super::{audience, M365State, CERTIFICATE_AUTH};
use crate::common::{error_response, json_response, ErrorStyle};
use crate::dns::Zone;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Largest page InvokeCommand serves.
pub const EXO_MAX_PAGE: usize = 1000;

/// Exchange Online cmdlets and the export section each one's output is.
pub const EXCHANGE_CMDLETS: &[(&str, &str)] = &[
    ("Get-RemoteDomain", "remote_domains"),
    ("Get-AcceptedDomain", "accepted_domains"),
    ("Get-DkimSigningConfig", "dkim_config"),
    ("Get-TransportConfig", "transport_config"),
    ("Get-SharingPolicy", "sharing_policy"),
    ("Get-TransportRule", "transport_rule"),
    ("Get-OrganizationConfig", "org_config"),
    ("Get-HostedConnectionFilterPolicy", "conn_filter"),
    ("Get-InboundConnector", "inbound_connectors"),
    ("Get-OutboundConnector", "outbound_connectors"),
    ("Get-IntraOrganizationConnector", "intra_org_connectors"),
    ("Get-OrganizationRelationship", "org_relationships"),
    ("Get-AdminAuditLogConfig", "admin_audit_log_config"),
    ("Get-EOPProtectionPolicyRule", "protection_policy_rules"),
    ("Get-AntiPhishPolicy", "anti_phish_policies"),
    ("Get-AntiPhishRule", "anti_phish_rules"),
    (
        "Get-HostedContentFilterPolicy",
        "hosted_content_filter_policies",
    ),
    ("Get-HostedContentFilterRule", "hosted_content_filter_rules"),
    ("Get-MalwareFilterPolicy", "anti_malware_policies"),
    ("Get-MalwareFilterRule", "anti_malware_rules"),
    ("Get-AtpPolicyForO365", "atp_policy_for_o365"),
    ("Get-ATPProtectionPolicyRule", "atp_policy_rules"),
    ("Get-ATPBuiltInProtectionRule", "built_in_protection_rules"),
    ("Get-SafeAttachmentPolicy", "safe_attachment_policies"),
    ("Get-SafeAttachmentRule", "safe_attachment_rules"),
    ("Get-SafeLinksPolicy", "safe_links_policies"),
    ("Get-SafeLinksRule", "safe_links_rules"),
];

/// Security & Compliance (IPPS) cmdlets.
pub const COMPLIANCE_CMDLETS: &[(&str, &str)] = &[
    ("Get-DlpCompliancePolicy", "dlp_compliance_policies"),
    ("Get-DlpComplianceRule", "dlp_compliance_rules"),
    ("Get-ProtectionAlert", "protection_alerts"),
    (
        "Get-UnifiedAuditLogRetentionPolicy",
        "unified_audit_log_retention_policies",
    ),
];

/// Cmdlets that exist only with Defender for Office 365 (Plan 1/2).
const ATP_CMDLETS: &[&str] = &[
    "Get-AtpPolicyForO365",
    "Get-ATPProtectionPolicyRule",
    "Get-ATPBuiltInProtectionRule",
    "Get-SafeAttachmentPolicy",
    "Get-SafeAttachmentRule",
    "Get-SafeLinksPolicy",
    "Get-SafeLinksRule",
];

/// Cmdlets that exist only with a DLP licence.
const DLP_CMDLETS: &[&str] = &["Get-DlpCompliancePolicy", "Get-DlpComplianceRule"];

/// Teams configuration paths (under `/teams`) and the export section each serves.
pub const TEAMS_PATHS: &[(&str, &str)] = &[
    ("/Teams.Tenant/tenants", "teams_tenant_info"),
    (
        "/Skype.Policy/configurations/TeamsMeetingPolicy",
        "meeting_policies",
    ),
    (
        "/Skype.Policy/configurations/TenantFederationSettings",
        "federation_configuration",
    ),
    (
        "/Skype.Policy/configurations/TeamsClientConfiguration",
        "client_configuration",
    ),
    (
        "/Skype.Policy/configurations/TeamsAppPermissionPolicy",
        "app_policies",
    ),
    (
        "/Skype.Policy/configurations/TeamsMeetingBroadcastPolicy",
        "broadcast_policies",
    ),
    ("/Teams.Tenant/unifiedTenantSettings", "tenant_app_settings"),
];

const BAP: &str = "/bap/providers/Microsoft.BusinessAppPlatform";

pub fn routes() -> Router<Arc<M365State>> {
    let mut router = Router::new()
        .route(
            "/exo/adminapi/beta/{tenant}/InvokeCommand",
            post(invoke_exchange).get(method_not_allowed),
        )
        .route(
            "/ipps/adminapi/beta/{tenant}/InvokeCommand",
            post(invoke_compliance).get(method_not_allowed),
        )
        .route(
            "/spo/{tenant}/_api/SPO.Tenant",
            get(spo_tenant).fallback(method_not_allowed),
        )
        .route(
            &format!("{BAP}/listTenantSettings"),
            post(bap_tenant_settings).fallback(method_not_allowed),
        )
        .route(
            &format!("{BAP}/scopes/admin/environments"),
            get(bap_environments).fallback(method_not_allowed),
        )
        .route(
            &format!("{BAP}/scopes/admin/apiPolicies"),
            get(bap_api_policies).fallback(method_not_allowed),
        )
        .route(
            "/bap/providers/PowerPlatform.Governance/v1/tenants/{tenant}/tenantIsolationPolicy",
            get(bap_tenant_isolation).fallback(method_not_allowed),
        )
        .route(
            "/powerbi/v1/admin/tenantsettings",
            get(powerbi_tenant_settings).fallback(method_not_allowed),
        );
    for (path, section) in TEAMS_PATHS {
        let section = *section;
        router = router.route(
            &format!("/teams{path}"),
            get(move |state: State<Arc<M365State>>, headers: HeaderMap| {
                teams_config(state, headers, section)
            })
            .fallback(method_not_allowed),
        );
    }
    router
}

async fn method_not_allowed() -> Response {
    error_response(
        ErrorStyle::Microsoft,
        405,
        "MethodNotAllowed",
        "The requested resource does not support this HTTP method; the imitation is read-only.",
    )
}

/// A section of the truth as a list (a single object becomes a one-item list; absent → []).
fn section_list(export: &Value, section: &str) -> Vec<Value> {
    match export.get(section) {
        Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).cloned().collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![other.clone()],
    }
}

fn first_object(export: &Value, section: &str) -> Value {
    section_list(export, section)
        .into_iter()
        .next()
        .unwrap_or_else(|| json!({}))
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string()
}

// ------------------------------------------------------------------------------------------
// Exchange Online and Security & Compliance: InvokeCommand.

#[derive(Clone, Copy)]
enum Host {
    Exchange,
    Compliance,
}

async fn invoke_exchange(
    state: State<Arc<M365State>>,
    path: Path<String>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    invoke(state, path, query, headers, body, Host::Exchange).await
}

async fn invoke_compliance(
    state: State<Arc<M365State>>,
    path: Path<String>,
    query: Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    invoke(state, path, query, headers, body, Host::Compliance).await
}

fn exo_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({"error": {
        "code": code,
        "message": message,
        "details": [{"code": "Context", "target": "", "message": "Ex6F9304|Microsoft.Exchange.Configuration.CmdletProxy"}],
        "innererror": {"message": message, "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException", "stacktrace": ""},
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": [],
    }});
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(body),
    )
        .into_response()
}

fn not_recognized(cmdlet: &str) -> Response {
    exo_error(
        400,
        "BadRequest",
        &format!("The term '{cmdlet}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again."),
    )
}

async fn invoke(
    State(state): State<Arc<M365State>>,
    Path(tenant): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
    host_kind: Host,
) -> Response {
    let audience = match host_kind {
        Host::Exchange => audience::EXCHANGE,
        Host::Compliance => audience::COMPLIANCE,
    };
    // A token without Exchange.ManageAsApp is refused as unauthenticated, as Exchange does.
    if let Err(resp) = state.tokens.check(
        &headers,
        audience,
        &["Exchange.ManageAsApp"],
        ErrorStyle::Microsoft,
    ) {
        if resp.status() == StatusCode::FORBIDDEN {
            let mut r = (StatusCode::UNAUTHORIZED, "").into_response();
            r.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Bearer client_id=\"00000002-0000-0ff1-ce00-000000000000\", error=\"invalid_token\", error_description=\"The application lacks the Exchange.ManageAsApp permission\""),
            );
            return r;
        }
        return resp;
    }
    if let Err(resp) = state.tokens.check(
        &headers,
        audience,
        &[
            "role:GlobalReader",
            "role:GlobalAdministrator",
            "role:SecurityReader",
        ],
        ErrorStyle::Microsoft,
    ) {
        if resp.status() == StatusCode::FORBIDDEN {
            return exo_error(
                403,
                "Forbidden",
                &format!("The role assigned to application {} isn't supported in this scenario. Please check online documentation for assigning correct Directory Roles to Azure AD Application for EXO App-Only Authentication.", state.app.client_id),
            );
        }
        return resp;
    }
    if tenant != state.tenant_id && tenant != state.initial_domain {
        return exo_error(
            404,
            "NotFound",
            &format!("The tenant '{tenant}' could not be found."),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return exo_error(400, "BadRequest", "The request body is not valid JSON: expected {\"CmdletInput\":{\"CmdletName\":…,\"Parameters\":{…}}}.");
    };
    let Some(cmdlet) = request
        .pointer("/CmdletInput/CmdletName")
        .and_then(Value::as_str)
    else {
        return exo_error(400, "BadRequest", "CmdletInput.CmdletName is required.");
    };
    // Parameters are accepted only when empty (the imitation serves whole collections).
    if let Some(params) = request.pointer("/CmdletInput/Parameters") {
        if !(params.is_null() || params.as_object().is_some_and(|o| o.is_empty())) {
            return exo_error(
                400,
                "BadRequest",
                &format!(
                    "A parameter cannot be found that matches the parameters given to '{cmdlet}'."
                ),
            );
        }
    }
    let table = match host_kind {
        Host::Exchange => EXCHANGE_CMDLETS,
        Host::Compliance => COMPLIANCE_CMDLETS,
    };
    // Only Get-* cmdlets are in the read-only role; the rest is invisible to it.
    let Some((_, section)) = table.iter().find(|(c, _)| c.eq_ignore_ascii_case(cmdlet)) else {
        return not_recognized(cmdlet);
    };
    let cmdlet = table
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(cmdlet))
        .map(|(c, _)| *c)
        .unwrap_or(cmdlet);
    let licensed = |flag: &str| state.export.get(flag).and_then(Value::as_bool) != Some(false);
    if ATP_CMDLETS.contains(&cmdlet) && !licensed("defender_license") {
        return not_recognized(cmdlet);
    }
    if DLP_CMDLETS.contains(&cmdlet) && !licensed("defender_dlp_license") {
        return not_recognized(cmdlet);
    }
    let mut items = section_list(&state.export, section);
    if *section == "anti_malware_policies" && state.export.get(section).is_none() {
        items = section_list(&state.export, "malware_filter_policies");
    }
    let page_size = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| p.trim().strip_prefix("odata.maxpagesize="))
        .filter_map(|n| n.trim().parse::<usize>().ok())
        .next()
        .unwrap_or(EXO_MAX_PAGE)
        .clamp(1, EXO_MAX_PAGE);
    let offset = query
        .get("$skiptoken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0);
    let (page, next) = crate::common::page(&items, offset, page_size);
    let prefix = match host_kind {
        Host::Exchange => "exo",
        Host::Compliance => "ipps",
    };
    let mut reply = json!({
        "@odata.context": format!("http://{}/{prefix}/adminapi/beta/{tenant}/$metadata#Collection(Exchange.GenericHashTable)", host(&headers)),
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": [],
        "value": page,
    });
    if let Some(next) = next {
        reply["@odata.nextLink"] = json!(format!(
            "http://{}/{prefix}/adminapi/beta/{tenant}/InvokeCommand?$skiptoken={next}",
            host(&headers)
        ));
    }
    json_response(&reply)
}

// ------------------------------------------------------------------------------------------
// SharePoint.

fn spo_error(status: u16, code: &str, message: &str) -> Response {
    let body = json!({"error": {"code": code, "message": {"lang": "en-US", "value": message}}});
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN),
        axum::Json(body),
    )
        .into_response()
}

async fn spo_tenant(
    State(state): State<Arc<M365State>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let audience = audience::sharepoint(&tenant);
    if let Err(resp) = state
        .tokens
        .check(&headers, &audience, &[], ErrorStyle::Microsoft)
    {
        return resp;
    }
    if tenant != state.tenant_name {
        return spo_error(
            404,
            "-2147024894, System.IO.FileNotFoundException",
            "File Not Found.",
        );
    }
    // App-only tokens from a client secret are refused by SharePoint's REST API.
    if state
        .tokens
        .check(
            &headers,
            &audience,
            &[CERTIFICATE_AUTH],
            ErrorStyle::Microsoft,
        )
        .is_err()
    {
        let mut r = (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error_description": "Unsupported app only token."})),
        )
            .into_response();
        r.headers_mut().insert(
            "x-ms-diagnostics",
            HeaderValue::from_static("3001000;reason=\"There has been an error authenticating the request.\";category=\"invalid_client\""),
        );
        return r;
    }
    if state
        .tokens
        .check(
            &headers,
            &audience,
            &["Sites.FullControl.All"],
            ErrorStyle::Microsoft,
        )
        .is_err()
    {
        return spo_error(403, "-2147024891, System.UnauthorizedAccessException", "Access denied. You do not have permission to perform this action or access this resource.");
    }
    let mut tenant_obj = first_object(&state.export, "SPO_tenant");
    let verbose = headers
        .get_all("accept")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("odata=verbose"));
    let url = format!("https://{tenant}-admin.sharepoint.com/_api/SPO.Tenant");
    if verbose {
        if let Value::Object(map) = &mut tenant_obj {
            map.insert(
                "__metadata".into(),
                json!({"id": url, "uri": url, "type": "Microsoft.Online.SharePoint.TenantAdministration.Tenant"}),
            );
            map.insert(
                "Sites".into(),
                json!({"__deferred": {"uri": format!("{url}/Sites")}}),
            );
        }
        let body = serde_json::to_vec(&json!({"d": tenant_obj})).unwrap_or_default();
        return Response::builder()
            .status(200)
            .header(
                "content-type",
                "application/json;odata=verbose;charset=utf-8",
            )
            .body(axum::body::Body::from(body))
            .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    }
    if let Value::Object(map) = &mut tenant_obj {
        map.insert(
            "odata.metadata".into(),
            json!(format!(
                "https://{tenant}-admin.sharepoint.com/_api/$metadata#SP.ApiData.Tenants/@Element"
            )),
        );
    }
    json_response(&tenant_obj)
}

// ------------------------------------------------------------------------------------------
// Teams.

async fn teams_config(
    State(state): State<Arc<M365State>>,
    headers: HeaderMap,
    section: &'static str,
) -> Response {
    if let Err(resp) = state.tokens.check(
        &headers,
        audience::TEAMS,
        &["role:GlobalReader", "role:TeamsAdministrator"],
        ErrorStyle::Microsoft,
    ) {
        if resp.status() == StatusCode::FORBIDDEN {
            return error_response(ErrorStyle::Microsoft, 403, "Forbidden", "The user or application is not authorized to perform this operation. A Teams Administrator or Global Reader role is required.");
        }
        return resp;
    }
    if section == "teams_tenant_info" {
        let mut obj = first_object(&state.export, section);
        if let Value::Object(map) = &mut obj {
            map.entry("TenantId").or_insert(json!(state.tenant_id));
        }
        return json_response(&obj);
    }
    json_response(&Value::Array(section_list(&state.export, section)))
}

// ------------------------------------------------------------------------------------------
// Power Platform (BAP).

#[allow(clippy::result_large_err)] // the error is the response itself
fn bap_check(
    state: &M365State,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    action: &str,
) -> Result<(), Response> {
    if let Err(resp) = state.tokens.check(
        headers,
        audience::POWER_PLATFORM,
        &["PowerPlatform.ManagementApp"],
        ErrorStyle::Microsoft,
    ) {
        if resp.status() == StatusCode::FORBIDDEN {
            return Err(error_response(
                ErrorStyle::Microsoft,
                403,
                "ClientScopeAuthorizationFailed",
                &format!("The client '{}' does not have authorization to perform action '{action}'. The application must be registered as a Power Platform management application.", state.app.client_id),
            ));
        }
        return Err(resp);
    }
    if query.get("api-version").is_none_or(|v| v.is_empty()) {
        return Err(error_response(
            ErrorStyle::Microsoft,
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    }
    Ok(())
}

async fn bap_tenant_settings(
    State(state): State<Arc<M365State>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = bap_check(
        &state,
        &headers,
        &query,
        "Microsoft.BusinessAppPlatform/listTenantSettings/action",
    ) {
        return r;
    }
    json_response(&first_object(&state.export, "environment_creation"))
}

/// The environments in the BAP shape.
pub fn bap_environments_value(state: &M365State) -> Vec<Value> {
    section_list(&state.export, "environment_list")
        .into_iter()
        .map(|e| {
            let name = e.get("EnvironmentName").cloned().unwrap_or(Value::Null);
            json!({
                "id": format!("/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/{}", name.as_str().unwrap_or_default()),
                "type": "Microsoft.BusinessAppPlatform/scopes/environments",
                "location": e.get("Location").cloned().unwrap_or(Value::Null),
                "name": name,
                "properties": {
                    "tenantId": state.tenant_id,
                    "displayName": e.get("DisplayName").cloned().unwrap_or(Value::Null),
                    "isDefault": e.get("IsDefault").cloned().unwrap_or(Value::Null),
                    "environmentSku": e.get("EnvironmentType").cloned().unwrap_or(Value::Null),
                    "createdTime": e.get("CreatedTime").cloned().unwrap_or(Value::Null),
                    "provisioningState": "Succeeded",
                },
            })
        })
        .collect()
}

async fn bap_environments(
    State(state): State<Arc<M365State>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = bap_check(
        &state,
        &headers,
        &query,
        "Microsoft.BusinessAppPlatform/scopes/admin/environments/read",
    ) {
        return r;
    }
    json_response(&json!({"value": bap_environments_value(&state)}))
}

const GROUPS: &[(&str, &str, &str)] = &[
    ("hbi", "Confidential", "Business data only"),
    ("lbi", "General", "No business data allowed"),
    ("blocked", "Blocked", "Blocked connectors"),
];

/// One DLP policy of the ScubaGear shape in the BAP 2016-11-01 `apiPolicies` shape.
fn bap_policy(p: &Value) -> Value {
    let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
    let mut constraints = serde_json::Map::new();
    let env_type = p
        .get("environmentType")
        .and_then(Value::as_str)
        .unwrap_or("AllEnvironments");
    if env_type != "AllEnvironments" {
        constraints.insert(
            "environmentFilter1".into(),
            json!({"type": "environmentFilter", "parameters": {
                "environments": p.get("environments").cloned().unwrap_or(json!([])),
                "filterType": if env_type == "OnlyEnvironments" { "include" } else { "exclude" },
            }}),
        );
    }
    let mut groups = serde_json::Map::new();
    for g in p
        .get("connectorGroups")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let class = g
            .get("classification")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Some((key, _, description)) = GROUPS.iter().find(|(_, c, _)| *c == class) {
            groups.insert((*key).into(), json!({"description": description, "apis": g.get("connectors").cloned().unwrap_or(json!([]))}));
        }
    }
    let default_group = p
        .get("defaultConnectorsClassification")
        .and_then(Value::as_str)
        .and_then(|c| GROUPS.iter().find(|(_, class, _)| *class == c))
        .map(|(k, _, _)| *k)
        .unwrap_or("lbi");
    json!({
        "name": name,
        "id": format!("/providers/Microsoft.BusinessAppPlatform/scopes/admin/apiPolicies/{name}"),
        "type": "Microsoft.BusinessAppPlatform/scopes/apiPolicies",
        "properties": {
            "displayName": p.get("displayName").cloned().unwrap_or(Value::Null),
            "createdTime": p.get("createdTime").cloned().unwrap_or(Value::Null),
            "createdBy": p.get("createdBy").cloned().unwrap_or(Value::Null),
            "lastModifiedTime": p.get("lastModifiedTime").cloned().unwrap_or(Value::Null),
            "lastModifiedBy": p.get("lastModifiedBy").cloned().unwrap_or(Value::Null),
            "definition": {
                "$schema": "https://schema.management.azure.com/providers/Microsoft.BusinessAppPlatform/schemas/2016-10-01-preview/apiPolicyDefinition.json#",
                "constraints": constraints,
                "apiGroups": groups,
                "defaultApiGroup": default_group,
                "rules": {"dataFlowRule": {"type": "dataFlowRestriction", "parameters": {"sourceApiGroup": "hbi", "destinationApiGroup": "lbi"}, "actions": {"blockAction": {"type": "Block"}}}},
            },
        },
    })
}

async fn bap_api_policies(
    State(state): State<Arc<M365State>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = bap_check(
        &state,
        &headers,
        &query,
        "Microsoft.BusinessAppPlatform/scopes/admin/apiPolicies/read",
    ) {
        return r;
    }
    let policies: Vec<Value> = section_list(&state.export, "dlp_policies")
        .iter()
        .flat_map(|wrapper| {
            wrapper
                .get("value")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .map(|p| bap_policy(&p))
        .collect();
    json_response(&json!({"value": policies}))
}

async fn bap_tenant_isolation(
    State(state): State<Arc<M365State>>,
    Path(tenant): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = bap_check(
        &state,
        &headers,
        &query,
        "PowerPlatform.Governance/tenants/tenantIsolationPolicy/read",
    ) {
        return r;
    }
    if tenant != state.tenant_id {
        return error_response(
            ErrorStyle::Microsoft,
            404,
            "TenantNotFound",
            &format!("The tenant '{tenant}' was not found."),
        );
    }
    let policy = section_list(&state.export, "tenant_isolation")
        .into_iter()
        .next()
        .unwrap_or_else(|| json!({"properties": {"tenantId": state.tenant_id, "isDisabled": true, "allowedTenants": []}}));
    json_response(&policy)
}

// ------------------------------------------------------------------------------------------
// Power BI.

async fn powerbi_tenant_settings(
    State(state): State<Arc<M365State>>,
    headers: HeaderMap,
) -> Response {
    if let Err(resp) = state.tokens.check(
        &headers,
        audience::POWER_BI,
        &["Tenant.Read.All", "Tenant.ReadWrite.All"],
        ErrorStyle::Microsoft,
    ) {
        if resp.status() == StatusCode::FORBIDDEN {
            let body = json!({"error": {"code": "PowerBINotAuthorizedException", "pbi.error": {"code": "PowerBINotAuthorizedException", "parameters": {}, "details": [], "exceptionCulprit": 1}}});
            return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        }
        return resp;
    }
    json_response(
        &json!({"tenantSettings": section_list(&state.export, "powerbi_tenant_settings")}),
    )
}

// ------------------------------------------------------------------------------------------
// DNS and the request yardstick.

/// The TXT records that reproduce the truth's `spf_records`, `dkim_records` (at
/// `selector1._domainkey`) and `dmarc_records` (at `_dmarc`).
pub fn dns_zone(export: &Value) -> Zone {
    let mut zone = Zone::new();
    let mut add = |name: String, records: &Value| {
        let strings: Vec<String> = records
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str().map(str::to_string))
            .collect();
        if !strings.is_empty() {
            zone.entry(name.to_ascii_lowercase())
                .or_default()
                .extend(strings);
        }
    };
    for (section, prefix) in [
        ("spf_records", ""),
        ("dkim_records", "selector1._domainkey."),
        ("dmarc_records", "_dmarc."),
    ] {
        for entry in section_list(export, section) {
            let Some(domain) = entry.get("domain").and_then(Value::as_str) else {
                continue;
            };
            add(
                format!("{prefix}{}", domain.trim_end_matches('.')),
                entry.get("rdata").unwrap_or(&Value::Null),
            );
        }
    }
    zone
}

/// Requests per section at the largest page sizes (tokens excluded). DNS sections need none.
pub fn lower_bound(state: &M365State) -> BTreeMap<String, u64> {
    let mut bound = BTreeMap::new();
    let pages = |n: usize| n.div_ceil(EXO_MAX_PAGE).max(1) as u64;
    let licensed = |flag: &str| state.export.get(flag).and_then(Value::as_bool) != Some(false);
    for (cmdlet, section) in EXCHANGE_CMDLETS.iter().chain(COMPLIANCE_CMDLETS) {
        let unlicensed = (ATP_CMDLETS.contains(cmdlet) && !licensed("defender_license"))
            || (DLP_CMDLETS.contains(cmdlet) && !licensed("defender_dlp_license"));
        let n = if unlicensed {
            1
        } else {
            pages(section_list(&state.export, section).len())
        };
        // The Exchange and the security-suite providers both read these two.
        let times = if matches!(*section, "accepted_domains" | "conn_filter") {
            2
        } else {
            1
        };
        *bound.entry(section.to_string()).or_default() += n * times;
    }
    bound.insert("SPO_tenant".into(), 1);
    for (_, section) in TEAMS_PATHS {
        bound.insert(section.to_string(), 1);
    }
    for section in [
        "environment_creation",
        "environment_list",
        "dlp_policies",
        "tenant_isolation",
        "powerbi_tenant_settings",
    ] {
        bound.insert(section.into(), 1);
    }
    bound
}
