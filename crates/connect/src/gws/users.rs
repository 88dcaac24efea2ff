//! Users and administrators: the user list, admin roles and their assignments, privileged
//! users with their groups, and the `mamori_users` view joined with the usage report.

use super::client::{
    blocking, copy_error, enc, joined, text, Client, Task, SCOPE_GROUP, SCOPE_ROLE, SCOPE_USER,
};
use super::reports::Usage;
use crate::collection::SectionError;
use crate::http::ApiError;
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Role names and privileges that make a role administrative (ScubaGoggles' lists).
const PRIVILEGED_ROLE_NAMES: &[&str] = &[
    "SUPER_ADMIN",
    "_SEED_ADMIN_ROLE",
    "USER MANAGEMENT ADMIN",
    "USER MANAGEMENT ADMINISTRATOR",
    "SERVICES ADMIN",
    "MOBILE ADMIN",
    "GROUPS ADMIN",
];

const PRIVILEGED_PRIVILEGES: &[&str] = &[
    "ADMIN_OAUTH_PRIVILEGE_GROUP",
    "ADMIN_ROLE_MANAGEMENT",
    "GROUPS_ALL",
    "MANAGE_USER_LICENSES",
    "MOBILE_ALL",
    "ORGANIZATION_UNITS_ALL",
    "SERVICES_ALL",
    "USERS_ALL",
    "USERS_CREATE",
    "USERS_SECURITY",
    "USERS_UPDATE",
];

pub(super) async fn fetch_users(client: Arc<Client>) -> Result<Vec<Value>, ApiError> {
    let url = client.dir(&format!(
        "users?customer={}&maxResults=500&projection=basic&fields={}",
        enc(&client.customer),
        enc("nextPageToken,users(kind,id,primaryEmail,name,orgUnitPath,isAdmin,isDelegatedAdmin,suspended,suspensionReason,archived,creationTime,lastLoginTime,isEnrolledIn2Sv,isEnforcedIn2Sv,customerId)")
    ));
    client.list(SCOPE_USER, "users", url, "users").await
}

/// The admin roles, their assignments, and the members of the groups assigned a role.
pub(super) struct Roles {
    roles: Result<Vec<Value>, ApiError>,
    assignments: Result<Vec<Value>, ApiError>,
    members: Result<HashMap<String, Vec<Value>>, ApiError>,
}

pub(super) async fn fetch_roles(client: Arc<Client>) -> Roles {
    let customer_key = enc(&client.customer);
    let roles_url = client.dir(&format!("customer/{customer_key}/roles?maxResults=100"));
    let assignments_url = client.dir(&format!(
        "customer/{customer_key}/roleassignments?maxResults=200"
    ));
    let (roles, assignments) = tokio::join!(
        client.list(SCOPE_ROLE, "privileged_users", roles_url, "items"),
        client.list(SCOPE_ROLE, "privileged_users", assignments_url, "items"),
    );
    let members = match &assignments {
        Ok(a) => fetch_role_group_members(&client, a).await,
        Err(e) => Err(copy_error(e)),
    };
    Roles {
        roles,
        assignments,
        members,
    }
}

/// What the users, roles and usage reports give.
pub(super) struct People {
    pub(super) users_ok: bool,
    pub(super) roles_ok: bool,
    pub(super) assignments_ok: bool,
    pub(super) super_admins: Result<Value, SectionError>,
    pub(super) privileged: Result<Vec<Value>, ApiError>,
    pub(super) mamori_users: Result<Value, SectionError>,
}

/// Users, roles, privileged users and the usage report, as each arrives.
pub(super) async fn collect(
    client: &Client,
    users_task: Task<Result<Vec<Value>, ApiError>>,
    roles_task: Task<Roles>,
    usage_task: Task<Result<Usage, ApiError>>,
) -> People {
    let ((users, roles, assignments, role_members, privileged), usage) = tokio::join!(
        async {
            let (
                users,
                Roles {
                    roles,
                    assignments,
                    members,
                },
            ) = tokio::join!(joined(users_task), joined(roles_task));
            let privileged = match (&users, &roles, &assignments) {
                (Ok(u), Ok(r), Ok(a)) => fetch_privileged(client, u, r, a).await,
                (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(copy_error(e)),
            };
            (users, roles, assignments, members, privileged)
        },
        joined(usage_task),
    );
    let super_admins = users.as_ref().map_err(|e| SectionError::Api(copy_error(e))).map(|us| {
        Value::Array(
            us.iter()
                .filter(|u| u["isAdmin"] == true)
                .map(|u| json!({"primaryEmail": u["primaryEmail"].clone(), "orgUnitPath": text(&u["orgUnitPath"]).trim_start_matches('/')}))
                .collect(),
        )
    });
    let (users_ok, roles_ok, assignments_ok) = (users.is_ok(), roles.is_ok(), assignments.is_ok());
    let first_error = [
        users.as_ref().err(),
        roles.as_ref().err(),
        assignments.as_ref().err(),
        usage.as_ref().err(),
        role_members.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    .next()
    .map(copy_error);
    let mamori_users = match (first_error, users, roles, assignments, usage, role_members) {
        (None, Ok(u), Ok(r), Ok(a), Ok(us), Ok(m)) => {
            Ok(blocking(move || build_mamori_users(u, &r, &a, us, &m)).await)
        }
        (Some(e), ..) => Err(SectionError::Api(e)),
        _ => Err(SectionError::Other(
            "unreachable: a failed input without an error".into(),
        )),
    };
    People {
        users_ok,
        roles_ok,
        assignments_ok,
        super_admins,
        privileged,
        mamori_users,
    }
}

fn privileged_role_ids(roles: &[Value]) -> HashSet<String> {
    roles
        .iter()
        .filter(|r| {
            r["isSuperAdminRole"] == true
                || PRIVILEGED_ROLE_NAMES.contains(&text(&r["roleName"]).to_uppercase().as_str())
                || r["rolePrivileges"].as_array().is_some_and(|ps| {
                    ps.iter().any(|p| {
                        PRIVILEGED_PRIVILEGES.contains(&p["privilegeName"].as_str().unwrap_or(""))
                    })
                })
        })
        .map(|r| text(&r["roleId"]))
        .collect()
}

/// ScubaGoggles' privileged users: super and delegated admins and users assigned an
/// administrative role, each with the groups they belong to (one `groups?userKey=` series per
/// user: the Directory API has no membership list across users).
async fn fetch_privileged(
    client: &Client,
    users: &[Value],
    roles: &[Value],
    assignments: &[Value],
) -> Result<Vec<Value>, ApiError> {
    let privileged_roles = privileged_role_ids(roles);
    let assigned: HashSet<String> = assignments
        .iter()
        .filter(|a| {
            a["assigneeType"]
                .as_str()
                .is_none_or(|t| t.eq_ignore_ascii_case("user"))
        })
        .filter(|a| privileged_roles.contains(&text(&a["roleId"])))
        .map(|a| text(&a["assignedTo"]))
        .collect();
    let mut seen = HashSet::new();
    let chosen: Vec<&Value> = users
        .iter()
        .filter(|u| {
            u["isAdmin"] == true
                || u["isDelegatedAdmin"] == true
                || assigned.contains(&text(&u["id"]))
        })
        .filter(|u| seen.insert(text(&u["primaryEmail"]).to_lowercase()))
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for (i, u) in chosen.iter().enumerate() {
        let api = client.api(SCOPE_GROUP);
        let url = client.dir(&format!(
            "groups?userKey={}&maxResults=200&fields={}",
            enc(&text(&u["primaryEmail"])),
            enc("nextPageToken,groups(id,email)")
        ));
        set.spawn(async move { (i, api.google_list("privileged_users", &url, "groups").await) });
    }
    let mut keys: Vec<Option<Vec<String>>> = vec![None; chosen.len()];
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.map_err(|e| ApiError::Transport {
            url: "groups by user".into(),
            message: e.to_string(),
            attempts: 1,
        })?;
        let groups = r?;
        let mut k: BTreeSet<String> = BTreeSet::new();
        for g in groups {
            for field in ["id", "email"] {
                if let Some(s) = g[field].as_str() {
                    k.insert(s.to_lowercase());
                }
            }
        }
        keys[i] = Some(k.into_iter().collect());
    }
    Ok(chosen
        .iter()
        .zip(keys)
        .map(|(u, k)| {
            json!({
                "primaryEmail": u["primaryEmail"].clone(),
                "orgUnitPath": text(&u["orgUnitPath"]).trim_start_matches('/'),
                "groupKeys": k.unwrap_or_default(),
            })
        })
        .collect())
}

/// Members of the groups that hold an admin role (their members hold it too).
async fn fetch_role_group_members(
    client: &Client,
    assignments: &[Value],
) -> Result<HashMap<String, Vec<Value>>, ApiError> {
    let groups: BTreeSet<String> = assignments
        .iter()
        .filter(|a| {
            a["assigneeType"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("group"))
        })
        .map(|a| text(&a["assignedTo"]))
        .filter(|g| !g.is_empty())
        .collect();
    let mut out = HashMap::new();
    for g in groups {
        let url = client.dir(&format!(
            "groups/{}/members?maxResults=200&fields={}",
            enc(&g),
            enc("nextPageToken,members(id,email,type)")
        ));
        let members = client
            .api(SCOPE_GROUP)
            .google_list("mamori_users", &url, "members")
            .await?;
        out.insert(g, members);
    }
    Ok(out)
}

/// Users with their admin role assignments and the accounts:* usage parameters.
fn build_mamori_users(
    users: Vec<Value>,
    roles: &[Value],
    assignments: &[Value],
    mut accounts: HashMap<String, Map<String, Value>>,
    members: &HashMap<String, Vec<Value>>,
) -> Value {
    let role_by_id: HashMap<String, &Value> =
        roles.iter().map(|r| (text(&r["roleId"]), r)).collect();
    let mut by_user: HashMap<String, Vec<Value>> = HashMap::new();
    for a in assignments {
        let role = role_by_id.get(&text(&a["roleId"]));
        let mut entry = json!({
            "roleAssignmentId": a["roleAssignmentId"].clone(),
            "roleId": a["roleId"].clone(),
            "roleName": role.map(|r| r["roleName"].clone()).unwrap_or(Value::Null),
            "isSuperAdminRole": role.map(|r| r["isSuperAdminRole"].clone()).unwrap_or(Value::Null),
            "isSystemRole": role.map(|r| r["isSystemRole"].clone()).unwrap_or(Value::Null),
            "assigneeType": a["assigneeType"].clone(),
            "scopeType": a["scopeType"].clone(),
        });
        if let Some(ou) = a.get("orgUnitId") {
            entry["orgUnitId"] = ou.clone();
        }
        let target = text(&a["assignedTo"]);
        if a["assigneeType"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("group"))
        {
            for m in members.get(&target).into_iter().flatten() {
                by_user
                    .entry(text(&m["id"]))
                    .or_default()
                    .push(entry.clone());
            }
        } else {
            by_user.entry(target).or_default().push(entry);
        }
    }
    // Every user is moved into the result; an address two users share (not expected) gives
    // each a copy of its parameters.
    let mut once: HashSet<String> = HashSet::with_capacity(users.len());
    let mut shared: HashSet<String> = HashSet::new();
    for u in &users {
        let email = text(&u["primaryEmail"]).to_lowercase();
        if let Some(e) = once.replace(email) {
            shared.insert(e);
        }
    }
    drop(once);
    Value::Array(
        users
            .into_iter()
            .map(|mut u| {
                let email = text(&u["primaryEmail"]).to_lowercase();
                let id = text(&u["id"]);
                u["roleAssignments"] = Value::Array(by_user.get(&id).cloned().unwrap_or_default());
                let params = if shared.contains(&email) {
                    accounts.get(&email).cloned()
                } else {
                    accounts.remove(&email)
                };
                u["accounts"] = params.map(Value::Object).unwrap_or(Value::Null);
                u
            })
            .collect(),
    )
}
