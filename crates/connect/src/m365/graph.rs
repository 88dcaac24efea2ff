//! Microsoft Entra ID through Microsoft Graph (beta, as ScubaGear reads it).
//!
//! Request economy: list calls at `$top=999` with `$select`; role principals resolved with
//! `directoryObjects/getByIds` (1000 per call); privileged users' details with
//! `$filter=id in (…)` (15 per filter) and their registered methods, 20 requests per `$batch`.
//! Nothing is read per user of the tenant: a 100,000-user tenant costs what its admins cost.

use super::{M365Config, M365Context, SectionResult};
use crate::collection::SectionError;
use crate::http::{Api, ApiError, Call};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// ScubaGear's key casing: the first letter of every key upper-cased, recursively; `@…` keys kept.
pub fn pascal_case(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = if k.starts_with('@') {
                        k.clone()
                    } else {
                        let mut chars = k.chars();
                        match chars.next() {
                            Some(first) => first.to_uppercase().chain(chars).collect(),
                            None => String::new(),
                        }
                    };
                    (key, pascal_case(v))
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(pascal_case).collect()),
        other => other.clone(),
    }
}

const MAX_TOP: usize = 999;
const BATCH: usize = 20;
const IN_FILTER: usize = 15;
const BY_IDS: usize = 1000;

/// Microsoft's own tenants: service principals they own are first-party.
const MICROSOFT_TENANTS: &[&str] = &[
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
    "72f988bf-86f1-41af-91ab-2d7cd011db47",
];

/// Resource apps whose application permissions are read (Graph, Exchange Online, SharePoint).
const RESOURCE_APPS: &[&str] = &[
    "00000003-0000-0000-c000-000000000000",
    "00000002-0000-0ff1-ce00-000000000000",
    "00000003-0000-0ff1-ce00-000000000000",
];

/// Application or delegated permissions that read or change mail, files, directory or roles
/// tenant-wide: Mamori's list of risky permissions.
pub const RISKY_PERMISSIONS: &[&str] = &[
    "Mail.ReadWrite",
    "Mail.Send",
    "Mail.Read",
    "MailboxSettings.ReadWrite",
    "Calendars.ReadWrite",
    "Contacts.ReadWrite",
    "Files.ReadWrite.All",
    "Files.Read.All",
    "Sites.ReadWrite.All",
    "Sites.FullControl.All",
    "Sites.Manage.All",
    "Directory.ReadWrite.All",
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "AppRoleAssignment.ReadWrite.All",
    "RoleManagement.ReadWrite.Directory",
    "Policy.ReadWrite.ConditionalAccess",
    "Policy.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "Domain.ReadWrite.All",
    "full_access_as_app",
    "Exchange.ManageAsApp",
];

fn url(ctx: &M365Context, path: &str) -> String {
    ctx.graph_url(&format!("beta/{path}"))
}

fn items(list: &[Value]) -> Value {
    Value::Array(list.iter().map(pascal_case).collect())
}

/// `license_information` and `service_plans` from one `subscribedSkus` call.
pub async fn subscribed_skus(
    graph: &Api,
    config: &M365Config,
) -> (Result<Value, SectionError>, Result<Value, SectionError>) {
    let u = format!(
        "{}/beta/subscribedSkus",
        config.endpoints.graph.trim_end_matches('/')
    );
    match graph.odata_list("service_plans", Call::get(u)).await {
        Ok(skus) => {
            let info: Vec<Value> = skus
                .iter()
                .map(|s| json!({"SkuPartNumber": s["skuPartNumber"], "SkuId": s["skuId"], "ConsumedUnits": s["consumedUnits"], "PrepaidUnits": pascal_case(&s["prepaidUnits"])}))
                .collect();
            let plans: Vec<Value> = skus
                .iter()
                .flat_map(|s| s["servicePlans"].as_array().cloned().unwrap_or_default())
                .filter(|p| p["provisioningStatus"] == "Success")
                .map(|p| pascal_case(&p))
                .collect();
            (Ok(Value::Array(info)), Ok(Value::Array(plans)))
        }
        Err(e) => {
            let again = SectionError::Other(e.to_string());
            (Err(SectionError::Api(e)), Err(again))
        }
    }
}

async fn list(
    ctx: &M365Context,
    section: &str,
    path: impl Into<String>,
) -> Result<Vec<Value>, ApiError> {
    let path: String = path.into();
    ctx.graph
        .odata_list(section, Call::get(url(ctx, &path)))
        .await
}

/// Runs GET requests through `$batch`, 20 at a time, concurrently; answers by request index.
async fn batch_get(
    ctx: &M365Context,
    section: &str,
    urls: &[String],
) -> Result<Vec<Value>, SectionError> {
    let batch_url = url(ctx, "$batch");
    let chunks: Vec<Value> = urls
        .chunks(BATCH)
        .map(|chunk| {
            json!({"requests": chunk.iter().enumerate().map(|(i, u)| json!({"id": i.to_string(), "method": "GET", "url": u})).collect::<Vec<_>>()})
        })
        .collect();
    // All but two of the tenant's slots: the paging chains (service principals, PIM lists) are
    // sequential by nature and must not queue behind a hundred batches.
    use futures_util::StreamExt as _;
    let width = ctx.graph.concurrency().saturating_sub(2).max(1);
    let answers: Vec<_> = futures_util::stream::iter(
        chunks
            .iter()
            .map(|body| batch_once(ctx, section, &batch_url, body)),
    )
    .buffered(width)
    .collect()
    .await;
    let mut out = Vec::with_capacity(urls.len());
    for answer in answers {
        out.extend(answer?);
    }
    Ok(out)
}

/// One `$batch`; inner requests throttled (429) are sent again after their `Retry-After`.
async fn batch_once(
    ctx: &M365Context,
    section: &str,
    batch_url: &str,
    body: &Value,
) -> Result<Vec<Value>, SectionError> {
    let requests = body["requests"].as_array().cloned().unwrap_or_default();
    let mut results: Vec<Option<Value>> = vec![None; requests.len()];
    let mut pending: Vec<usize> = (0..requests.len()).collect();
    for _round in 0..6 {
        let payload =
            json!({"requests": pending.iter().map(|i| requests[*i].clone()).collect::<Vec<_>>()});
        let reply = ctx
            .graph
            .json(section, Call::post(batch_url, &payload))
            .await?;
        let responses = reply["responses"]
            .as_array()
            .cloned()
            .ok_or_else(|| SectionError::Other("$batch answer without responses".into()))?;
        let mut retry = Vec::new();
        let mut wait = 0u64;
        for r in responses {
            let Some(i) = r["id"]
                .as_str()
                .and_then(|id| id.parse::<usize>().ok())
                .filter(|i| *i < requests.len())
            else {
                continue;
            };
            let status = r["status"].as_u64().unwrap_or(0);
            match status {
                200..=299 => results[i] = Some(r["body"].clone()),
                429 | 503 => {
                    wait = wait.max(
                        r["headers"]["Retry-After"]
                            .as_str()
                            .or(r["headers"]["retry-after"].as_str())
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(1),
                    );
                    retry.push(i);
                }
                _ => {
                    let code = r["body"]["error"]["code"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    let message = r["body"]["error"]["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    if status == 404 {
                        results[i] = Some(json!({"value": [], "notFound": true}));
                        continue;
                    }
                    return Err(SectionError::Api(ApiError::Status {
                        url: requests[i]["url"].as_str().unwrap_or_default().to_string(),
                        status: status as u16,
                        code: Some(code),
                        message: Some(message),
                    }));
                }
            }
        }
        if retry.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(wait.min(60))).await;
        pending = retry;
    }
    if results.iter().any(Option::is_none) {
        return Err(SectionError::Other(
            "requests in a $batch were still throttled after 6 rounds".into(),
        ));
    }
    Ok(results.into_iter().flatten().collect())
}

fn quote_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",")
}

pub async fn collect(ctx: &M365Context) -> Vec<SectionResult> {
    let methods_url = url(ctx, "policies/authenticationMethodsPolicy");
    let app_policy_url = url(ctx, "policies/defaultAppManagementPolicy");
    let simple = async {
        let mut out = Vec::new();
        let (ca, authz, settings, domains, methods, app_policy, count) = tokio::join!(
            list(
                ctx,
                "conditional_access_policies",
                "identity/conditionalAccess/policies"
            ),
            list(
                ctx,
                "authorization_policies",
                "policies/authorizationPolicy"
            ),
            list(ctx, "directory_settings", "settings"),
            list(ctx, "domain_settings", "domains"),
            ctx.graph.get("authentication_method", &methods_url),
            ctx.graph
                .get("default_app_management_policy", &app_policy_url),
            ctx.graph.json(
                "total_user_count",
                Call::get(url(ctx, "users/$count")).headers(&[("ConsistencyLevel", "eventual")])
            ),
        );
        out.push(SectionResult::new(
            "conditional_access_policies",
            "aad",
            "Policy.Read.All",
            &["Get-MgBetaIdentityConditionalAccessPolicy"],
            ca.map(|v| items(&v)).map_err(Into::into),
        ));
        out.push(SectionResult::new(
            "authorization_policies",
            "aad",
            "Policy.Read.All",
            &["Get-MgBetaPolicyAuthorizationPolicy"],
            authz.map(|v| items(&v)).map_err(Into::into),
        ));
        out.push(SectionResult::new(
            "directory_settings",
            "aad",
            "Directory.Read.All",
            &["Get-MgBetaDirectorySetting"],
            settings.map(|v| items(&v)).map_err(Into::into),
        ));
        out.push(SectionResult::new(
            "domain_settings",
            "aad",
            "Domain.Read.All",
            &["Get-MgBetaDomain"],
            domains.map(|v| items(&v)).map_err(Into::into),
        ));
        out.push(SectionResult::new(
            "authentication_method",
            "aad",
            "Policy.Read.All",
            &["Get-MgBetaPolicyAuthenticationMethodPolicy"],
            methods.map_err(Into::into).map(|mut root| {
                let configs = root.as_object_mut().and_then(|o| o.remove("authenticationMethodConfigurations")).unwrap_or(json!([]));
                json!([{"authentication_method_policy": pascal_case(&root), "authentication_method_feature_settings": pascal_case(&configs)}])
            }),
        ));
        out.push(SectionResult::new(
            "default_app_management_policy",
            "aad",
            "Policy.Read.All",
            &["Get-MgBetaPolicyDefaultAppManagementPolicy"],
            app_policy
                .map(|v| json!([pascal_case(&v)]))
                .map_err(Into::into),
        ));
        out.push(SectionResult::new(
            "total_user_count",
            "aad",
            "User.Read.All",
            &["Get-MgBetaUserCount"],
            count.map_err(Into::into).and_then(|v| {
                v.as_u64().map(|n| json!(n)).ok_or_else(|| {
                    SectionError::Other(format!("$count answered {v}, not a number"))
                })
            }),
        ));
        out
    };
    let (mut out, privileged, apps) = tokio::join!(simple, privileged(ctx), applications(ctx));
    out.extend(privileged);
    out.extend(apps);
    out
}

/// privileged_users, privileged_service_principals, privileged_roles and mamori_users.
async fn privileged(ctx: &M365Context) -> Vec<SectionResult> {
    let p2 = ctx.has_plan("AAD_PREMIUM_P2");
    let (definitions, active, eligible, policies) = tokio::join!(
        list(ctx, "privileged_roles", "roleManagement/directory/roleDefinitions?$select=id,templateId,displayName,isBuiltIn,isPrivileged"),
        list(ctx, "privileged_roles", "roleManagement/directory/roleAssignmentScheduleInstances"),
        async {
            if p2 {
                list(ctx, "privileged_users", "roleManagement/directory/roleEligibilityScheduleInstances").await
            } else {
                Ok(Vec::new())
            }
        },
        list(ctx, "privileged_roles", "policies/roleManagementPolicyAssignments?$filter=scopeId eq '/' and scopeType eq 'DirectoryRole'&$expand=policy($expand=rules)"),
    );
    let fail_all = |e: String| -> Vec<SectionResult> {
        vec![
            SectionResult::new(
                "privileged_users",
                "aad",
                "RoleManagement.Read.Directory",
                &["Get-PrivilegedUser"],
                Err(SectionError::Other(e.clone())),
            ),
            SectionResult::new(
                "privileged_service_principals",
                "aad",
                "RoleManagement.Read.Directory",
                &["Get-PrivilegedUser"],
                Err(SectionError::Other(e.clone())),
            ),
            SectionResult::new(
                "privileged_roles",
                "aad",
                "RoleManagement.Read.Directory",
                &["Get-PrivilegedRole"],
                Err(SectionError::Other(e.clone())),
            ),
            SectionResult::new(
                "mamori_users",
                "aad",
                "RoleManagement.Read.Directory",
                &[],
                Err(SectionError::Other(e)),
            ),
        ]
    };
    let (definitions, active, eligible) = match (definitions, active, eligible) {
        (Ok(d), Ok(a), Ok(e)) => (d, a, e),
        (d, a, e) => {
            let err = [d.err(), a.err(), e.err()]
                .into_iter()
                .flatten()
                .next()
                .map(|e| e.to_string())
                .unwrap_or_default();
            return fail_all(err);
        }
    };
    let privileged_roles: HashMap<String, Value> = definitions
        .into_iter()
        .filter(|d| d["isPrivileged"] == json!(true))
        .filter_map(|d| {
            d["templateId"]
                .as_str()
                .or(d["id"].as_str())
                .map(|id| (id.to_string(), d.clone()))
        })
        .collect();
    let role_name = |id: &str| {
        privileged_roles
            .get(id)
            .and_then(|d| d["displayName"].as_str())
            .unwrap_or(id)
            .to_string()
    };
    // principal → role template ids (active and eligible)
    let mut holders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in active.iter().chain(eligible.iter()) {
        let (Some(p), Some(r)) = (a["principalId"].as_str(), a["roleDefinitionId"].as_str()) else {
            continue;
        };
        if privileged_roles.contains_key(r) {
            holders
                .entry(p.to_string())
                .or_default()
                .insert(r.to_string());
        }
    }
    let ids: Vec<String> = holders.keys().cloned().collect();
    // Principal types.
    let by_ids_url = url(ctx, "directoryObjects/getByIds");
    let mut objects: HashMap<String, Value> = HashMap::new();
    for chunk in ids.chunks(BY_IDS) {
        let body = json!({"ids": chunk, "types": ["user", "group", "servicePrincipal"]});
        match ctx
            .graph
            .odata_list("privileged_users", Call::post(&by_ids_url, &body))
            .await
        {
            Ok(found) => {
                for o in found {
                    if let Some(id) = o["id"].as_str() {
                        objects.insert(id.to_string(), o.clone());
                    }
                }
            }
            Err(e) => return fail_all(e.to_string()),
        }
    }
    fn kind_of(objects: &HashMap<String, Value>, id: &str) -> String {
        objects
            .get(id)
            .and_then(|o| o["@odata.type"].as_str())
            .unwrap_or_default()
            .to_string()
    }
    // Role-assignable groups: their members hold the group's roles.
    let groups: Vec<String> = ids
        .iter()
        .filter(|id| kind_of(&objects, id) == "#microsoft.graph.group")
        .cloned()
        .collect();
    if !groups.is_empty() {
        let urls: Vec<String> = groups
            .iter()
            .map(|g| format!("/groups/{g}/transitiveMembers?$select=id,displayName"))
            .collect();
        match batch_get(ctx, "privileged_users", &urls).await {
            Ok(answers) => {
                for (g, answer) in groups.iter().zip(answers) {
                    let roles = holders.get(g).cloned().unwrap_or_default();
                    for m in answer["value"].as_array().cloned().unwrap_or_default() {
                        if let Some(id) = m["id"].as_str() {
                            holders
                                .entry(id.to_string())
                                .or_default()
                                .extend(roles.iter().cloned());
                            objects.entry(id.to_string()).or_insert(m.clone());
                        }
                    }
                }
            }
            Err(e) => return fail_all(e.to_string()),
        }
    }
    let user_ids: Vec<String> = holders
        .keys()
        .filter(|id| {
            kind_of(&objects, id) != "#microsoft.graph.servicePrincipal"
                && kind_of(&objects, id) != "#microsoft.graph.group"
        })
        .cloned()
        .collect();
    // User details, 15 ids per filter.
    let select = "id,displayName,userPrincipalName,userType,accountEnabled,onPremisesImmutableId,createdDateTime,signInActivity";
    let urls: Vec<String> = user_ids
        .chunks(IN_FILTER)
        .map(|c| format!("/users?$filter=id in ({})&$select={select}", quote_list(c)))
        .collect();
    let method_urls: Vec<String> = user_ids
        .iter()
        .map(|id| format!("/users/{id}/authentication/methods"))
        .collect();
    let (details, methods) = tokio::join!(
        batch_get(ctx, "privileged_users", &urls),
        batch_get(ctx, "mamori_users", &method_urls)
    );
    let details = match details {
        Ok(d) => d,
        Err(e) => return fail_all(e.to_string()),
    };
    let mut users: HashMap<String, Value> = HashMap::new();
    for page in details {
        for u in page["value"].as_array().cloned().unwrap_or_default() {
            if let Some(id) = u["id"].as_str() {
                users.insert(id.to_string(), u.clone());
            }
        }
    }
    let mut privileged_users = Map::new();
    let mut privileged_sps = Map::new();
    let mut mamori_users = Vec::new();
    for (id, roles) in &holders {
        let names: Vec<String> = roles.iter().map(|r| role_name(r)).collect();
        match kind_of(&objects, id).as_str() {
            "#microsoft.graph.servicePrincipal" => {
                let o = &objects[id];
                privileged_sps.insert(id.clone(), json!({"DisplayName": o["displayName"], "ServicePrincipalId": id, "AppId": o["appId"], "roles": names}));
            }
            "#microsoft.graph.group" => {}
            _ => {
                let u = users
                    .get(id)
                    .or_else(|| objects.get(id))
                    .cloned()
                    .unwrap_or(json!({"id": id}));
                privileged_users.insert(id.clone(), json!({"DisplayName": u["displayName"], "OnPremisesImmutableId": u["onPremisesImmutableId"], "roles": names}));
                let assignments: Vec<Value> = roles
                    .iter()
                    .map(|r| json!({"roleDefinitionId": r, "roleDefinition": {"displayName": role_name(r), "isBuiltIn": privileged_roles.get(r).map(|d| d["isBuiltIn"].clone()).unwrap_or(Value::Null), "isPrivileged": true}}))
                    .collect();
                let mut entry = json!({
                    "id": id, "displayName": u["displayName"], "userPrincipalName": u["userPrincipalName"], "userType": u["userType"],
                    "accountEnabled": u["accountEnabled"], "createdDateTime": u["createdDateTime"], "signInActivity": u["signInActivity"],
                    "roleAssignments": assignments,
                });
                if let Ok(m) = &methods {
                    if let Some(i) = user_ids.iter().position(|x| x == id) {
                        entry["authenticationMethods"] =
                            m.get(i).map(|v| v["value"].clone()).unwrap_or(json!([]));
                    }
                }
                mamori_users.push(entry);
            }
        }
    }
    // privileged_roles: assignments and PIM policy rules per role.
    let rules: HashMap<String, Vec<Value>> = match &policies {
        Ok(list) => list
            .iter()
            .filter_map(|a| {
                Some((
                    a["roleDefinitionId"].as_str()?.to_string(),
                    a["policy"]["rules"].as_array().cloned().unwrap_or_default(),
                ))
            })
            .collect(),
        Err(_) => HashMap::new(),
    };
    let mut role_list: Vec<(&String, &Value)> = privileged_roles.iter().collect();
    role_list.sort_by_key(|(_, d)| d["displayName"].as_str().unwrap_or_default().to_string());
    let roles_out: Vec<Value> = role_list
        .iter()
        .map(|(id, d)| {
            let name = d["displayName"].clone();
            let assignments: Vec<Value> = active.iter().filter(|a| a["roleDefinitionId"] == json!(id)).map(pascal_case).collect();
            let role_rules: Vec<Value> = rules
                .get(*id)
                .map(|r| {
                    r.iter()
                        .map(|rule| {
                            let mut rule = pascal_case(rule);
                            rule["RuleSource"] = name.clone();
                            rule["RuleSourceType"] = json!("Directory Role");
                            rule
                        })
                        .collect()
                })
                .unwrap_or_default();
            json!({"DisplayName": name, "RoleTemplateId": id, "Assignments": assignments, "Rules": role_rules})
        })
        .collect();
    let roles_result = match policies {
        Ok(_) => Ok(Value::Array(roles_out)),
        Err(e) => Err(SectionError::Api(e)),
    };
    vec![
        SectionResult::new(
            "privileged_users",
            "aad",
            "RoleManagement.Read.Directory, Directory.Read.All, User.Read.All, AuditLog.Read.All",
            &["Get-PrivilegedUser"],
            Ok(Value::Object(privileged_users)),
        ),
        SectionResult::new(
            "privileged_service_principals",
            "aad",
            "RoleManagement.Read.Directory, Directory.Read.All",
            &["Get-PrivilegedUser"],
            Ok(Value::Object(privileged_sps)),
        ),
        SectionResult::new(
            "privileged_roles",
            "aad",
            "RoleManagement.Read.Directory, RoleManagementPolicy.Read.Directory",
            &["Get-PrivilegedRole"],
            roles_result,
        ),
        SectionResult::new(
            "mamori_users",
            "aad",
            "UserAuthenticationMethod.Read.All",
            &[],
            methods.map(|_| Value::Array(mamori_users)),
        ),
    ]
}

/// Applications, service principals and their permissions.
async fn applications(ctx: &M365Context) -> Vec<SectionResult> {
    let sp_select = "id,appId,displayName,signInAudience,appOwnerOrganizationId,servicePrincipalType,appRoles,oauth2PermissionScopes,keyCredentials,passwordCredentials";
    let app_select = "id,appId,displayName,signInAudience,keyCredentials,passwordCredentials";
    // The resource apps' service principals are found by appId first, so their assignment
    // lists are paged while the full service principal list is.
    let resource_filter = format!(
        "servicePrincipals?$filter=appId in ({})&$select=id,appId,displayName,appRoles",
        RESOURCE_APPS
            .iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let assignments = async {
        let resources = list(ctx, "risky_third_party_service_principals", resource_filter).await?;
        let assigned = futures_util::future::join_all(resources.iter().map(|r| {
            let id = r["id"].as_str().unwrap_or_default().to_string();
            async move {
                list(
                    ctx,
                    "risky_third_party_service_principals",
                    format!("servicePrincipals/{id}/appRoleAssignedTo?$top={MAX_TOP}"),
                )
                .await
            }
        }))
        .await;
        let graph_sp = resources
            .iter()
            .find(|s| s["appId"] == RESOURCE_APPS[0])
            .and_then(|s| s["id"].as_str())
            .map(str::to_string);
        let classifications = match &graph_sp {
            Some(id) => {
                list(
                    ctx,
                    "risky_delegated_permission_classifications",
                    format!("servicePrincipals/{id}/delegatedPermissionClassifications"),
                )
                .await
            }
            None => Ok(Vec::new()),
        };
        Ok::<_, ApiError>((resources, assigned, classifications))
    };
    let (sps, apps, grants, assignments) = tokio::join!(
        list(ctx, "risky_third_party_service_principals", format!("servicePrincipals?$top={MAX_TOP}&$select={sp_select}")),
        list(ctx, "risky_applications", format!("applications?$top={MAX_TOP}&$select={app_select}&$expand=federatedIdentityCredentials")),
        list(ctx, "mamori_oauth2_permission_grants", format!("oauth2PermissionGrants?$top={MAX_TOP}")),
        assignments,
    );
    let perm = "Application.Read.All";
    let (sps, (resources, assigned, classifications)) = match (sps, assignments) {
        (Ok(s), Ok(a)) => (s, a),
        (Err(e), _) | (_, Err(e)) => {
            let msg = e.to_string();
            return vec![
                SectionResult::new(
                    "risky_third_party_service_principals",
                    "aad",
                    perm,
                    &["Get-ServicePrincipalsWithRiskyPermissions"],
                    Err(SectionError::Api(e)),
                ),
                SectionResult::new(
                    "risky_applications",
                    "aad",
                    perm,
                    &[],
                    Err(SectionError::Other(msg.clone())),
                ),
                SectionResult::new(
                    "mamori_service_principals",
                    "aad",
                    perm,
                    &[],
                    Err(SectionError::Other(msg.clone())),
                ),
                SectionResult::new(
                    "risky_delegated_permission_classifications",
                    "aad",
                    perm,
                    &["Get-ServicePrincipalsWithRiskyDelegatedPermissionClassifications"],
                    Err(SectionError::Other(msg)),
                ),
            ];
        }
    };
    let resources: Vec<&Value> = resources.iter().collect();
    let mut role_names: HashMap<String, (String, String)> = HashMap::new();
    for r in &resources {
        for role in r["appRoles"].as_array().cloned().unwrap_or_default() {
            if let (Some(id), Some(v)) = (role["id"].as_str(), role["value"].as_str()) {
                role_names.insert(
                    id.to_string(),
                    (
                        v.to_string(),
                        r["displayName"].as_str().unwrap_or_default().to_string(),
                    ),
                );
            }
        }
    }
    let mut permissions: HashMap<String, Vec<Value>> = HashMap::new();
    let mut assigned_error = None;
    for a in assigned {
        match a {
            Ok(list) => {
                for x in list {
                    let role = x["appRoleId"].as_str().unwrap_or_default();
                    let (name, resource) = role_names.get(role).cloned().unwrap_or((
                        role.to_string(),
                        x["resourceDisplayName"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                    ));
                    permissions.entry(x["principalId"].as_str().unwrap_or_default().to_string()).or_default().push(json!({
                        "RoleId": role, "RoleType": "Application", "RoleDisplayName": name, "ApplicationDisplayName": resource,
                        "IsAdminConsented": true, "IsRisky": RISKY_PERMISSIONS.contains(&name.as_str()),
                    }));
                }
            }
            Err(e) => assigned_error = Some(e),
        }
    }
    if let Ok(grants) = &grants {
        for g in grants {
            let client = g["clientId"].as_str().unwrap_or_default().to_string();
            for scope in g["scope"].as_str().unwrap_or_default().split_whitespace() {
                permissions.entry(client.clone()).or_default().push(json!({
                    "RoleId": scope, "RoleType": "Delegated", "RoleDisplayName": scope, "ApplicationDisplayName": "Microsoft Graph",
                    "IsAdminConsented": g["consentType"] == "AllPrincipals", "IsRisky": RISKY_PERMISSIONS.contains(&scope),
                }));
            }
        }
    }
    let creds = |v: &Value| match v.as_array() {
        Some(a) if !a.is_empty() => pascal_case(v),
        _ => Value::Null,
    };
    let apps_ok = apps.as_ref().ok().cloned().unwrap_or_default();
    let own_app_ids: BTreeSet<String> = apps_ok
        .iter()
        .filter_map(|a| a["appId"].as_str().map(str::to_string))
        .collect();
    let sp_by_app: HashMap<String, &Value> = sps
        .iter()
        .filter_map(|s| Some((s["appId"].as_str()?.to_string(), s)))
        .collect();
    let third_party: Vec<Value> = sps
        .iter()
        .filter(|s| {
            let owner = s["appOwnerOrganizationId"].as_str().unwrap_or_default();
            owner != ctx.tenant_id && !MICROSOFT_TENANTS.contains(&owner) && !own_app_ids.contains(s["appId"].as_str().unwrap_or_default())
        })
        .filter_map(|s| {
            let id = s["id"].as_str()?;
            let perms = permissions.get(id)?;
            Some(json!({"ObjectId": id, "AppId": s["appId"], "DisplayName": s["displayName"], "SignInAudience": s["signInAudience"],
                "KeyCredentials": creds(&s["keyCredentials"]), "PasswordCredentials": creds(&s["passwordCredentials"]), "FederatedCredentials": null,
                "Permissions": perms, "AppOwnerOrganizationId": s["appOwnerOrganizationId"]}))
        })
        .collect();
    let risky_apps = apps.map_err(SectionError::Api).map(|apps| {
        Value::Array(
            apps.iter()
                .filter_map(|a| {
                    let sp = sp_by_app.get(a["appId"].as_str()?)?;
                    let perms = permissions.get(sp["id"].as_str()?)?;
                    let fed = match a["federatedIdentityCredentials"].as_array() {
                        Some(f) if !f.is_empty() => pascal_case(&a["federatedIdentityCredentials"]),
                        _ => Value::Null,
                    };
                    Some(json!({"ObjectId": {"Application": a["id"], "ServicePrincipal": sp["id"]}, "AppId": a["appId"], "DisplayName": a["displayName"],
                        "IsMultiTenantEnabled": a["signInAudience"] == "AzureADMultipleOrgs", "KeyCredentials": creds(&a["keyCredentials"]),
                        "PasswordCredentials": creds(&a["passwordCredentials"]), "FederatedCredentials": fed, "Permissions": perms}))
                })
                .collect(),
        )
    });
    let third_party_result = match assigned_error {
        Some(e) => Err(SectionError::Api(e)),
        None => Ok(Value::Array(third_party)),
    };
    let graph_app = sps.iter().find(|s| s["appId"] == RESOURCE_APPS[0]);
    let classifications = classifications.map_err(SectionError::Api).map(|list| {
        Value::Array(
            list.iter()
                .filter(|c| c["classification"] == "low" && RISKY_PERMISSIONS.contains(&c["permissionName"].as_str().unwrap_or_default()))
                .map(|c| json!({"ObjectId": graph_app.map(|g| g["id"].clone()), "AppId": RESOURCE_APPS[0], "DisplayName": "Microsoft Graph", "RiskyPermClassifications": c["permissionName"]}))
                .collect(),
        )
    });
    let mamori_sps: Vec<Value> = sps
        .iter()
        .map(|s| json!({"id": s["id"], "appId": s["appId"], "displayName": s["displayName"], "appOwnerOrganizationId": s["appOwnerOrganizationId"], "servicePrincipalType": s["servicePrincipalType"]}))
        .collect();
    vec![
        SectionResult::new(
            "risky_third_party_service_principals",
            "aad",
            perm,
            &["Get-ServicePrincipalsWithRiskyPermissions"],
            third_party_result,
        ),
        SectionResult::new(
            "risky_applications",
            "aad",
            perm,
            &["Get-ApplicationsWithRiskyPermissions"],
            risky_apps,
        ),
        SectionResult::new(
            "mamori_service_principals",
            "aad",
            perm,
            &[],
            Ok(Value::Array(mamori_sps)),
        ),
        SectionResult::new(
            "mamori_oauth2_permission_grants",
            "aad",
            "DelegatedPermissionGrant.Read.All",
            &[],
            grants.map(Value::Array).map_err(SectionError::Api),
        ),
        SectionResult::new(
            "risky_delegated_permission_classifications",
            "aad",
            perm,
            &["Get-ServicePrincipalsWithRiskyDelegatedPermissionClassifications"],
            classifications,
        ),
    ]
}
