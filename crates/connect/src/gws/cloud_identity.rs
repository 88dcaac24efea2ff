//! Cloud Identity: the Policy API's settings per unit and group (with ScubaGoggles' defaults
//! where Google returns none) and the inbound SSO assignments.

use super::client::{enc, text, Client, SCOPE_POLICIES, SCOPE_SSO};
use crate::http::ApiError;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) async fn fetch_policies(client: Arc<Client>) -> Result<Vec<Value>, ApiError> {
    let url = format!("{}/v1/policies?pageSize=100", client.cloud_identity);
    client
        .list(SCOPE_POLICIES, "policies", url, "policies")
        .await
}

pub(super) async fn fetch_sso(client: &Client, customer: &str) -> Result<Vec<Value>, ApiError> {
    client
        .list(
            SCOPE_SSO,
            "inbound_sso_assignments",
            format!(
                "{}/v1/inboundSsoAssignments?filter={}&pageSize=100",
                client.cloud_identity,
                enc(&format!("customer==\"customers/{customer}\""))
            ),
            "inboundSsoAssignments",
        )
        .await
}

/// Documented defaults ScubaGoggles fills into the top-level OU when Google returns no policy.
fn top_ou_defaults() -> Vec<(&'static str, Value)> {
    vec![
        (
            "calendar_external_invitations",
            json!({"warnOnInvite": true}),
        ),
        (
            "chat_chat_history",
            json!({"allowUserModification": true, "historyOnByDefault": false}),
        ),
        (
            "chat_external_chat_restriction",
            json!({"allowExternalChat": false, "externalChatRestriction": "NO_RESTRICTION"}),
        ),
        (
            "drive_and_docs_drive_sdk",
            json!({"enableDriveSdkApiAccess": true}),
        ),
        (
            "drive_and_docs_general_access_default",
            json!({"defaultFileAccess": "LINK_SHARING_PRIVATE"}),
        ),
        (
            "groups_for_business_groups_sharing",
            json!({"collaborationCapability": "DOMAIN_USERS_ONLY"}),
        ),
        (
            "security_less_secure_apps",
            json!({"allowLessSecureApps": false}),
        ),
        (
            "security_super_admin_account_recovery",
            json!({"enableAccountRecovery": false}),
        ),
        (
            "security_user_account_recovery",
            json!({"enableAccountRecovery": false}),
        ),
        (
            "workspace_marketplace_apps_access_options",
            json!({"accessLevel": "ALLOW_ALL", "allowAllInternalApps": false}),
        ),
    ]
}

/// Cloud Identity policies into ScubaGoggles' `policies` map (scope label → section → value)
/// and `missing_policies`.
pub(super) fn map_policies(
    policies: &[Value],
    orgunits: &Value,
    groups: &[Value],
    top_ou: &str,
) -> (Value, Vec<String>) {
    let ous: HashMap<String, (String, String)> = orgunits["organizationUnits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                text(&o["orgUnitId"]).trim_start_matches("id:").to_string(),
                (text(&o["name"]), text(&o["orgUnitPath"])),
            )
        })
        .collect();
    let group_email: HashMap<String, String> = groups
        .iter()
        .map(|g| (text(&g["id"]), text(&g["email"])))
        .collect();
    let mut sorted: Vec<&Value> = policies.iter().collect();
    sorted.sort_by(|a, b| {
        let x = a["policyQuery"]["sortOrder"].as_f64().unwrap_or(0.0);
        let y = b["policyQuery"]["sortOrder"].as_f64().unwrap_or(0.0);
        y.total_cmp(&x)
    });
    let mut out: Map<String, Value> = Map::new();
    for p in sorted {
        let q = &p["policyQuery"];
        let mut label = match q["orgUnit"].as_str() {
            Some(ou) => {
                let id = ou.trim_start_matches("orgUnits/");
                match ous.get(id) {
                    Some((name, path)) => {
                        let inner = path.trim_start_matches('/');
                        if path == "/" || inner == name {
                            name.clone()
                        } else {
                            let parent = inner.strip_suffix(&format!("/{name}")).unwrap_or(inner);
                            format!("{name} (in {parent})")
                        }
                    }
                    None => id.to_string(),
                }
            }
            None => top_ou.to_string(),
        };
        if let Some(g) = q["group"].as_str() {
            let id = g.trim_start_matches("groups/");
            label = format!(
                "{label} (group {})",
                group_email
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_string())
            );
        }
        let Some(kind) = p["setting"]["type"].as_str() else {
            continue;
        };
        let section = kind.trim_start_matches("settings/").replace('.', "_");
        let scope = out.entry(label).or_insert_with(|| json!({}));
        if let Some(obj) = scope.as_object_mut() {
            obj.entry(section)
                .or_insert_with(|| p["setting"]["value"].clone());
        }
    }
    let mut missing = Vec::new();
    let top = out.entry(top_ou.to_string()).or_insert_with(|| json!({}));
    if let Some(obj) = top.as_object_mut() {
        for (section, default) in top_ou_defaults() {
            match obj.get_mut(section) {
                None => {
                    for k in default.as_object().into_iter().flatten().map(|(k, _)| k) {
                        missing.push(format!("{section}.{k}"));
                    }
                    obj.insert(section.to_string(), default);
                }
                Some(Value::Object(existing)) => {
                    for (k, v) in default.as_object().into_iter().flatten() {
                        if !existing.contains_key(k) {
                            missing.push(format!("{section}.{k}"));
                            existing.insert(k.clone(), v.clone());
                        }
                    }
                }
                Some(_) => {}
            }
        }
    }
    (Value::Object(out), missing)
}
