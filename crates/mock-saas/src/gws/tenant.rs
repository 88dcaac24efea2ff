//! The native Google Workspace tenant the imitation serves: Directory objects, Cloud Identity
//! policies, admin audit activities, usage reports, licences and DNS records, in the shapes the
//! real APIs return.
//!
//! It is grown from the hand-written demo export (`synth::gws_demo`) — the ScubaGoggles provider
//! view of the demo customer — by turning each provider key back into what Google stores, so a
//! faithful connector rebuilds (nearly) the same export and the same verdicts.

use crate::names::{person, Rng};
use crate::synth;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GwsTenantSpec {
    pub seed: u64,
    /// Users in total (the demo's hand-written users first, then generated staff).
    pub users: usize,
    /// Organisational units besides the root. Up to the demo's seven the demo's own are used;
    /// more are generated, each with its own policy overrides.
    pub org_units: usize,
    /// Groups in total (the demo's seven first).
    pub groups: usize,
    /// Scopes delegated to the service account in the Admin console (domain-wide delegation);
    /// `None` = every scope the connector asks for.
    pub delegated_scopes: Option<Vec<String>>,
    /// Extra admin audit events (beyond the demo's), spread over the settings events, so the
    /// Reports API pages.
    pub extra_audit_events: usize,
    /// The imitation's clock for the audit-log streams (the seven days before it are served by
    /// the Reports API's `login`, `admin`, `token`, `drive` and `saml` applications). `None`:
    /// the wall clock at start, to the minute.
    pub log_clock: Option<jiff::Timestamp>,
}

impl GwsTenantSpec {
    /// 株式会社さくら商事 (sakura-trading.co.jp): about 60 users, seven OUs, a mix of good and
    /// bad settings.
    pub fn demo() -> Self {
        GwsTenantSpec {
            seed: 7,
            users: 60,
            org_units: 7,
            groups: 12,
            delegated_scopes: None,
            extra_audit_events: 0,
            log_clock: None,
        }
    }

    /// 50,000 users, 2,000 OUs, 1,500 groups: the collection benchmark.
    pub fn large() -> Self {
        GwsTenantSpec {
            seed: 11,
            users: 50_000,
            org_units: 2_000,
            groups: 1_500,
            delegated_scopes: None,
            extra_audit_events: 3_000,
            log_clock: None,
        }
    }
}

/// The product and SKU pairs ScubaGoggles (and the connector) ask the Licensing API about.
pub const SKUS: &[(&str, &str)] = &[
    ("Google-Apps", "1010020027"),
    ("Google-Apps", "1010020028"),
    ("Google-Apps", "1010020025"),
    ("Google-Apps", "1010020029"),
    ("Google-Apps", "1010020026"),
    ("Google-Apps", "1010020020"),
    ("Google-Apps", "1010060001"),
    ("Google-Apps", "1010060003"),
    ("Google-Apps", "1010060005"),
    ("Google-Apps", "1010020030"),
    ("Google-Apps", "1010020031"),
    ("Google-Apps", "1010020034"),
    ("101047", "1010470001"),
    ("101047", "1010470002"),
    ("101047", "1010470003"),
    ("101047", "1010470006"),
    ("101047", "1010470007"),
    ("101001", "1010010001"),
    ("101005", "1010050001"),
    ("101039", "1010390001"),
    ("101039", "1010390002"),
    ("Google-Vault", "Google-Vault"),
    ("101033", "1010330003"),
    ("101033", "1010330004"),
    ("101033", "1010330002"),
    ("101040", "1010400001"),
];

/// Setting-type application prefixes that contain an underscore (`settings/<app>.<name>`).
const APP_PREFIXES: &[&str] = &[
    "drive_and_docs",
    "groups_for_business",
    "workspace_marketplace",
    "cloud_search",
    "chrome_sync",
    "data_studio",
    "work_insights",
    "chrome_web_store",
    "search_and_assistant",
    "gemini_app",
];

/// `drive_and_docs_external_sharing` → `settings/drive_and_docs.external_sharing`.
pub fn setting_type(section: &str) -> String {
    for p in APP_PREFIXES {
        if let Some(rest) = section.strip_prefix(p).and_then(|r| r.strip_prefix('_')) {
            return format!("settings/{p}.{rest}");
        }
    }
    match section.split_once('_') {
        Some((app, rest)) => format!("settings/{app}.{rest}"),
        None => format!("settings/{section}"),
    }
}

/// The tenant as Google stores it.
pub struct Tenant {
    pub customer_id: String,
    pub primary_domain: String,
    pub top_ou: String,
    /// Root first, then every OU (Directory `orgUnit` resources).
    pub org_units: Vec<Value>,
    pub users: Vec<Value>,
    pub user_by_email: HashMap<String, usize>,
    pub roles: Vec<Value>,
    pub role_assignments: Vec<Value>,
    pub groups: Vec<Value>,
    /// Group settings by lower-case email.
    pub group_settings: HashMap<String, Value>,
    /// Group ids by lower-case email, id and alias.
    pub group_keys: HashMap<String, usize>,
    /// Members (Directory `member` resources) by group index.
    pub members: HashMap<usize, Vec<Value>>,
    /// Group indices by lower-case member email.
    pub user_groups: HashMap<String, Vec<usize>>,
    pub domains: Vec<Value>,
    pub domain_aliases: Vec<Value>,
    pub policies: Vec<Value>,
    /// Admin audit activities, newest first.
    pub admin_activities: Vec<Value>,
    /// OAuth token audit activities, newest first.
    pub token_activities: Vec<Value>,
    pub usage_reports: Vec<Value>,
    pub licenses: BTreeMap<(String, String), Vec<Value>>,
    pub inbound_sso: Vec<Value>,
    pub zone: crate::dns::Zone,
}

fn etag(rng: &mut Rng) -> String {
    format!(
        "\"{:016x}{:016x}/{:016x}\"",
        rng.next_u64(),
        rng.next_u64(),
        rng.next_u64()
    )
}

fn numeric_id(rng: &mut Rng) -> String {
    // 10^20 does not fit in a u64: the modulus is the wrapped value release builds have always
    // used, so the generated ids stay the same (and debug builds no longer panic).
    format!("1{:020}", rng.next_u64() % 10u64.wrapping_pow(20))
}

fn arr(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Privileges of the system roles the tenant knows.
fn role_privileges(name: &str) -> Vec<(&'static str, &'static str)> {
    match name {
        "_USER_MANAGEMENT_ADMIN_ROLE" => vec![("USERS_ALL", "00haapch16h1ysv")],
        "_HELP_DESK_ADMIN_ROLE" => vec![
            ("USERS_RETRIEVE", "00haapch16h1ysv"),
            ("USERS_RESET_PASSWORD", "00haapch16h1ysv"),
        ],
        "_GROUPS_ADMIN_ROLE" => vec![("GROUPS_ALL", "01ci93xb3tmzyin")],
        "_SERVICES_ADMIN_ROLE" => vec![("SERVICES_ALL", "03hv69ve4bjwe54")],
        "_MOBILE_ADMIN_ROLE" => vec![("MOBILE_ALL", "03hv69ve4bjwe54")],
        "_GROUPS_READER_ROLE" => vec![("GROUPS_RETRIEVE", "01ci93xb3tmzyin")],
        _ => Vec::new(),
    }
}

impl Tenant {
    pub fn generate(spec: &GwsTenantSpec) -> Tenant {
        let mut rng = Rng::new(spec.seed);
        let demo = synth::gws_demo();
        let grown = if spec.org_units > 7 {
            synth::gws_tenant(
                synth::GwsSize {
                    users: 0,
                    org_units: spec.org_units - 7,
                },
                spec.seed,
            )
        } else {
            demo.clone()
        };
        let customer_id = s(&demo["tenant_info"]["ID"]);
        let primary_domain = s(&demo["tenant_info"]["domain"]);
        let top_ou = s(&demo["tenant_info"]["topLevelOU"]);

        // Organisational units: the root, then the export's.
        let mut org_units = Vec::new();
        let root_id = arr(&grown["organizational_units"]["organizationUnits"])
            .iter()
            .find(|o| o["parentOrgUnitPath"] == "/")
            .map(|o| s(&o["parentOrgUnitId"]))
            .unwrap_or_else(|| "id:03ph8a2z0r00t00".into());
        org_units.push(json!({
            "kind": "admin#directory#orgUnit", "etag": etag(&mut rng), "name": top_ou,
            "description": "株式会社さくら商事", "orgUnitPath": "/", "orgUnitId": root_id,
        }));
        for mut ou in arr(&grown["organizational_units"]["organizationUnits"]) {
            if ou.get("etag").is_none() {
                ou["etag"] = json!(etag(&mut rng));
            }
            org_units.push(ou);
        }
        let ou_paths: Vec<String> = org_units.iter().map(|o| s(&o["orgUnitPath"])).collect();

        // Groups: the demo's, then generated ones with settings cycled from the demo's.
        let demo_settings = arr(&demo["group_settings"]);
        let mut groups = Vec::new();
        let mut group_settings = HashMap::new();
        for i in 0..spec.groups.max(demo_settings.len()) {
            let mut settings = demo_settings[i % demo_settings.len().max(1)].clone();
            let (email, name) = if i < demo_settings.len() {
                (s(&settings["email"]), s(&settings["name"]))
            } else {
                let dept = ["eigyo", "keiri", "soumu", "kaihatsu", "project", "team"][rng.below(6)];
                (
                    format!("{dept}-{i:04}@{primary_domain}"),
                    format!("{dept} チーム {i:04}"),
                )
            };
            settings["email"] = json!(email);
            settings["name"] = json!(name);
            let id = format!("0{:014x}", rng.next_u64() >> 8);
            groups.push(json!({
                "kind": "admin#directory#group", "id": id, "etag": etag(&mut rng), "email": email,
                "name": name, "directMembersCount": "0", "description": settings["description"].clone(),
                "adminCreated": true,
            }));
            group_settings.insert(email.to_lowercase(), settings);
        }
        let mut group_keys = HashMap::new();
        for (i, g) in groups.iter().enumerate() {
            group_keys.insert(s(&g["email"]).to_lowercase(), i);
            group_keys.insert(s(&g["id"]), i);
        }

        // Users: the demo's, then generated staff (never admins).
        let demo_users = arr(&demo["mamori_users"]);
        let templates: Vec<&Value> = demo_users
            .iter()
            .filter(|u| {
                u["isAdmin"] != true && u["isDelegatedAdmin"] != true && u["suspended"] != true
            })
            .collect();
        let mut users = Vec::with_capacity(spec.users.max(demo_users.len()));
        let mut accounts: Vec<Value> = Vec::new();
        let mut user_roles: Vec<(usize, Value)> = Vec::new();
        for (i, u) in demo_users.iter().enumerate() {
            let mut u = u.clone();
            if let Some(o) = u.as_object_mut() {
                accounts.push(o.remove("accounts").unwrap_or(Value::Null));
                for ra in arr(&o.remove("roleAssignments").unwrap_or(Value::Null)) {
                    user_roles.push((i, ra));
                }
                o.insert("etag".into(), json!(etag(&mut rng)));
            }
            users.push(u);
        }
        for i in demo_users.len()..spec.users {
            let Some(template) = templates.get(i % templates.len().max(1)) else {
                break;
            };
            let mut u = (*template).clone();
            let (local, display) = person(&mut rng, i);
            let (family, given) = display.split_once(' ').unwrap_or((&display, ""));
            if let Some(o) = u.as_object_mut() {
                o.remove("roleAssignments");
                o.remove("accounts");
                o.insert("id".into(), json!(numeric_id(&mut rng)));
                o.insert(
                    "primaryEmail".into(),
                    json!(format!("{local}@{primary_domain}")),
                );
                o.insert(
                    "name".into(),
                    json!({"givenName": given, "familyName": family, "fullName": display}),
                );
                o.insert(
                    "orgUnitPath".into(),
                    json!(ou_paths[rng.below(ou_paths.len())]),
                );
                o.insert("etag".into(), json!(etag(&mut rng)));
                let days = rng.below(40) as i64;
                let login = jiff::Timestamp::now()
                    - jiff::SignedDuration::from_hours(24 * days + rng.below(24) as i64);
                o.insert(
                    "lastLoginTime".into(),
                    json!(login.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string()),
                );
            }
            let two_sv = rng.chance(85);
            accounts.push(json!({
                "num_security_keys": if rng.chance(10) { "1" } else { "0" },
                "num_passkeys_enrolled": if rng.chance(20) { "1" } else { "0" },
                "is_2sv_enrolled": two_sv, "is_2sv_enforced": two_sv,
                "num_roles_assigned": "0", "num_authorized_apps": rng.below(4).to_string(),
            }));
            users.push(u);
        }
        let user_by_email: HashMap<String, usize> = users
            .iter()
            .enumerate()
            .map(|(i, u)| (s(&u["primaryEmail"]).to_lowercase(), i))
            .collect();

        // Memberships: privileged users' groups as ScubaGoggles saw them, then staff spread over
        // the generated groups.
        let mut members: HashMap<usize, Vec<Value>> = HashMap::new();
        let mut user_groups: HashMap<String, Vec<usize>> = HashMap::new();
        let mut add_member =
            |g: usize, email: &str, id: &str, members: &mut HashMap<usize, Vec<Value>>| {
                let list = members.entry(g).or_default();
                if list.iter().any(|m| m["email"] == email) {
                    return;
                }
                list.push(json!({"kind": "admin#directory#member", "id": id, "email": email, "role": "MEMBER", "type": "USER", "status": "ACTIVE"}));
                user_groups.entry(email.to_lowercase()).or_default().push(g);
            };
        for p in arr(&demo["privileged_users"]) {
            let email = s(&p["primaryEmail"]).to_lowercase();
            let id = user_by_email
                .get(&email)
                .map(|&i| s(&users[i]["id"]))
                .unwrap_or_default();
            for key in arr(&p["groupKeys"]) {
                if let Some(&g) = group_keys.get(&s(&key).to_lowercase()) {
                    add_member(g, &email, &id, &mut members);
                }
            }
        }
        if groups.len() > demo_settings.len() {
            for (i, u) in users.iter().enumerate().skip(demo_users.len()) {
                let g = demo_settings.len() + i % (groups.len() - demo_settings.len());
                add_member(g, &s(&u["primaryEmail"]), &s(&u["id"]), &mut members);
            }
        }
        for (g, list) in &members {
            groups[*g]["directMembersCount"] = json!(list.len().to_string());
        }

        // Roles and role assignments, from the demo users' assignments.
        let mut roles: Vec<Value> = Vec::new();
        let mut seen_roles = HashSet::new();
        let mut role_assignments = Vec::new();
        let mut seen_assignments = HashSet::new();
        for (i, ra) in &user_roles {
            let role_id = s(&ra["roleId"]);
            let role_name = s(&ra["roleName"]);
            if seen_roles.insert(role_id.clone()) {
                roles.push(json!({
                    "kind": "admin#directory#role", "etag": etag(&mut rng), "roleId": role_id, "roleName": role_name,
                    "roleDescription": role_name.trim_matches('_').replace('_', " ").to_lowercase(),
                    "isSystemRole": ra["isSystemRole"].as_bool().unwrap_or(true),
                    "isSuperAdminRole": ra["isSuperAdminRole"].as_bool().unwrap_or(false),
                    "rolePrivileges": role_privileges(&role_name).iter().map(|(p, svc)| json!({"privilegeName": p, "serviceId": svc})).collect::<Vec<_>>(),
                }));
            }
            let id = s(&ra["roleAssignmentId"]);
            if !seen_assignments.insert(id.clone()) {
                continue;
            }
            let email = s(&users[*i]["primaryEmail"]).to_lowercase();
            let assignee = if ra["assigneeType"] == "group" {
                // The group through which the user holds the role: the first group they are in.
                user_groups
                    .get(&email)
                    .and_then(|gs| gs.first())
                    .map(|&g| s(&groups[g]["id"]))
                    .unwrap_or_default()
            } else {
                s(&users[*i]["id"])
            };
            let mut assignment = json!({
                "kind": "admin#directory#roleAssignment", "etag": etag(&mut rng), "roleAssignmentId": id,
                "roleId": role_id, "assignedTo": assignee, "assigneeType": ra["assigneeType"].clone(),
                "scopeType": ra["scopeType"].clone(),
            });
            if let Some(ou) = ra.get("orgUnitId") {
                assignment["orgUnitId"] = ou.clone();
            }
            role_assignments.push(assignment);
        }
        for (n, name) in [
            "_GROUPS_ADMIN_ROLE",
            "_SERVICES_ADMIN_ROLE",
            "_MOBILE_ADMIN_ROLE",
            "_GROUPS_READER_ROLE",
        ]
        .iter()
        .enumerate()
        {
            roles.push(json!({
                "kind": "admin#directory#role", "etag": etag(&mut rng), "roleId": format!("9144745340903425{n}"),
                "roleName": name, "roleDescription": name.trim_matches('_').replace('_', " ").to_lowercase(),
                "isSystemRole": true, "isSuperAdminRole": false,
                "rolePrivileges": role_privileges(name).iter().map(|(p, svc)| json!({"privilegeName": p, "serviceId": svc})).collect::<Vec<_>>(),
            }));
        }

        // Domains.
        let domains: Vec<Value> = arr(&demo["domains"])
            .iter()
            .map(|d| {
                json!({"kind": "admin#directory#domain", "etag": etag(&mut rng), "domainName": d,
                    "isPrimary": s(d) == primary_domain, "verified": true, "creationTime": "1459468800000"})
            })
            .collect();
        let mut domain_aliases: Vec<Value> = arr(&demo["alias_domains"])
            .iter()
            .map(|d| {
                json!({"kind": "admin#directory#domainAlias", "etag": etag(&mut rng), "domainAliasName": d,
                    "parentDomainName": primary_domain, "verified": true, "creationTime": "1554076800000"})
            })
            .collect();
        // An alias whose verification never finished: left out of alias_domains.
        domain_aliases.push(json!({"kind": "admin#directory#domainAlias", "etag": etag(&mut rng),
            "domainAliasName": "sakura-shoji.example", "parentDomainName": primary_domain, "verified": false,
            "creationTime": "1700000000000"}));

        // Policies: each (scope label, section) of the export back into a Cloud Identity policy.
        let ou_by_label = |label: &str| -> Option<String> {
            let (name, parent) = match label.split_once(" (in ") {
                Some((n, rest)) => (n, Some(rest.trim_end_matches(')'))),
                None => (label, None),
            };
            if name == top_ou && parent.is_none() {
                return Some(root_id.clone());
            }
            org_units.iter().skip(1).find_map(|o| {
                let path = s(&o["orgUnitPath"]);
                let matches = match parent {
                    Some(p) => path == format!("/{p}/{name}"),
                    None => path == format!("/{name}"),
                };
                matches.then(|| s(&o["orgUnitId"]))
            })
        };
        let mut policies = Vec::new();
        let export_policies = grown["policies"].as_object().cloned().unwrap_or_default();
        for (label, sections) in &export_policies {
            let (scope, group) = match label.split_once(" (group ") {
                Some((ou, g)) => (ou.to_string(), Some(g.trim_end_matches(')').to_string())),
                None => (label.clone(), None),
            };
            let Some(ou_id) = ou_by_label(&scope) else {
                continue;
            };
            let group_id = match &group {
                Some(email) => match group_keys.get(&email.to_lowercase()) {
                    Some(&g) => Some(s(&groups[g]["id"])),
                    None => continue,
                },
                None => None,
            };
            let is_top = scope == top_ou;
            let sort_order = match (&group_id, is_top) {
                (Some(_), _) => 10.0 + rng.below(50) as f64,
                (None, true) => 1.0,
                (None, false) => 2.0 + (ou_id.len() % 3) as f64,
            };
            for (section, value) in sections.as_object().into_iter().flatten() {
                let mut query = json!({
                    "orgUnit": format!("orgUnits/{}", ou_id.trim_start_matches("id:")),
                    "query": match &group_id {
                        Some(g) => format!("entity.org_units.exists(org_unit, org_unit.org_unit_id == orgUnitId('{}')) && entity.groups.exists(group, group.group_id == groupId('{g}'))", ou_id.trim_start_matches("id:")),
                        None => format!("entity.org_units.exists(org_unit, org_unit.org_unit_id == orgUnitId('{}'))", ou_id.trim_start_matches("id:")),
                    },
                    "sortOrder": sort_order,
                });
                if let Some(g) = &group_id {
                    query["group"] = json!(format!("groups/{g}"));
                }
                policies.push(json!({
                    "name": format!("policies/{:x}{:x}", rng.next_u64(), rng.next_u64() >> 16),
                    "customer": format!("customers/{customer_id}"),
                    "policyQuery": query,
                    "setting": {"type": setting_type(section), "value": value},
                    "type": "ADMIN",
                }));
                // Now and then an older, lower-priority policy for the same scope and setting
                // that the connector must not pick.
                if is_top && group_id.is_none() && rng.chance(5) {
                    let mut stale = policies[policies.len() - 1].clone();
                    stale["name"] = json!(format!("policies/{:x}", rng.next_u64()));
                    stale["policyQuery"]["sortOrder"] = json!(0.5);
                    stale["setting"]["value"] = json!({"stale": true});
                    stale["type"] = json!("SYSTEM");
                    policies.push(stale);
                }
            }
        }
        // Shuffle deterministically so order carries no meaning.
        for i in (1..policies.len()).rev() {
            let j = rng.below(i + 1);
            policies.swap(i, j);
        }

        // Admin audit log: every activity of the export's *_logs, once, newest first, plus
        // domain-wide delegation grants and generated noise.
        let mut admin_activities = Vec::new();
        let mut seen = HashSet::new();
        for (key, value) in demo.as_object().into_iter().flatten() {
            if !key.ends_with("_logs") {
                continue;
            }
            for a in arr(&value["items"]) {
                if seen.insert(s(&a["id"]["uniqueQualifier"])) {
                    admin_activities.push(a);
                }
            }
        }
        let admin_email = arr(&demo["super_admins"])
            .first()
            .map(|a| s(&a["primaryEmail"]))
            .unwrap_or_default();
        let admin_id = user_by_email
            .get(&admin_email.to_lowercase())
            .map(|&i| s(&users[i]["id"]))
            .unwrap_or_default();
        let activity = |rng: &mut Rng,
                        days_ago: i64,
                        event_type: &str,
                        name: &str,
                        parameters: Value| {
            let t = jiff::Timestamp::now()
                - jiff::SignedDuration::from_secs(days_ago * 86_400 + rng.below(86_400) as i64);
            json!({
                "kind": "admin#reports#activity",
                "id": {"time": t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string(), "uniqueQualifier": format!("-{}", rng.next_u64() >> 1), "applicationName": "admin", "customerId": customer_id},
                "etag": etag(rng),
                "actor": {"callerType": "USER", "email": admin_email, "profileId": admin_id},
                "ipAddress": "203.0.113.11",
                "events": [{"type": event_type, "name": name, "parameters": parameters}],
            })
        };
        for d in arr(&demo["mamori_domain_wide_delegation"]) {
            let scopes = arr(&d["scopes"]);
            let days = 30 + rng.below(100) as i64;
            admin_activities.push(activity(
                &mut rng,
                days,
                "SECURITY_SETTINGS",
                "AUTHORIZE_API_CLIENT_ACCESS",
                json!([
                    {"name": "API_CLIENT_NAME", "value": d["clientId"].clone()},
                    {"name": "API_SCOPES", "multiValue": scopes},
                ]),
            ));
        }
        // A client authorised and later removed: not a current delegation.
        let removed = "100000000000000000042";
        admin_activities.push(activity(
            &mut rng,
            150,
            "SECURITY_SETTINGS",
            "AUTHORIZE_API_CLIENT_ACCESS",
            json!([
                {"name": "API_CLIENT_NAME", "value": removed},
                {"name": "API_SCOPES", "multiValue": ["https://mail.google.com/"]},
            ]),
        ));
        admin_activities.push(activity(
            &mut rng,
            120,
            "SECURITY_SETTINGS",
            "REMOVE_API_CLIENT_ACCESS",
            json!([
                {"name": "API_CLIENT_NAME", "value": removed},
            ]),
        ));
        for _ in 0..spec.extra_audit_events {
            // Settings of applications no control reads: they page but change no verdict.
            let app = *rng.pick(&["Google Keep", "Tasks", "Google Translate", "YouTube Music"]);
            let days = rng.below(170) as i64;
            admin_activities.push(activity(
                &mut rng,
                days,
                "APPLICATION_SETTINGS",
                "CHANGE_APPLICATION_SETTING",
                json!([
                    {"name": "APPLICATION_NAME", "value": app},
                    {"name": "SETTING_NAME", "value": "Service status"},
                    {"name": "ORG_UNIT_NAME", "value": top_ou},
                    {"name": "NEW_VALUE", "value": "true"},
                ]),
            ));
        }
        admin_activities.sort_by(|a, b| s(&b["id"]["time"]).cmp(&s(&a["id"]["time"])));

        // OAuth token audit log: one authorize event per token users hold.
        let mut token_activities = Vec::new();
        let id_to_email: HashMap<String, String> = users
            .iter()
            .map(|u| (s(&u["id"]), s(&u["primaryEmail"])))
            .collect();
        for t in arr(&demo["mamori_oauth_tokens"]) {
            let user_id = s(&t["userKey"]);
            let email = id_to_email
                .get(&user_id)
                .cloned()
                .unwrap_or_else(|| format!("user-{user_id}@{primary_domain}"));
            let when = jiff::Timestamp::now()
                - jiff::SignedDuration::from_secs(86_400 * (1 + rng.below(150) as i64));
            let client_type = if t["nativeApp"] == true {
                "NATIVE_DESKTOP"
            } else {
                "WEB"
            };
            token_activities.push(json!({
                "kind": "admin#reports#activity",
                "id": {"time": when.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string(), "uniqueQualifier": format!("-{}", rng.next_u64() >> 1), "applicationName": "token", "customerId": customer_id},
                "etag": etag(&mut rng),
                "actor": {"callerType": "USER", "email": email, "profileId": user_id},
                "events": [{"type": "auth", "name": "authorize", "parameters": [
                    {"name": "client_id", "value": t["clientId"].clone()},
                    {"name": "app_name", "value": t["displayText"].clone()},
                    {"name": "client_type", "value": client_type},
                    {"name": "scope", "multiValue": t["scopes"].clone()},
                ]}],
            }));
        }
        token_activities.sort_by(|a, b| s(&b["id"]["time"]).cmp(&s(&a["id"]["time"])));

        // User usage reports (accounts:* parameters).
        let usage_reports: Vec<Value> = users
            .iter()
            .zip(&accounts)
            .filter(|(_, a)| a.is_object())
            .map(|(u, a)| {
                let parameters: Vec<Value> = a
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| match v {
                        Value::Bool(b) => json!({"name": format!("accounts:{k}"), "boolValue": b}),
                        other => json!({"name": format!("accounts:{k}"), "intValue": other.as_str().map(str::to_string).unwrap_or_else(|| other.to_string())}),
                    })
                    .collect();
                json!({"kind": "admin#reports#usageReport", "entity": {"type": "USER", "userEmail": u["primaryEmail"].clone(), "profileId": u["id"].clone(), "customerId": customer_id}, "parameters": parameters})
            })
            .collect();

        // Licences: the export's counts, as assignments to the users in order.
        let mut licenses = BTreeMap::new();
        for l in arr(&demo["license_data"]) {
            let count = l["assigned"].as_u64().unwrap_or(0) as usize;
            let count = if spec.users > 1000 {
                spec.users.min(count * spec.users / 60)
            } else {
                count
            };
            let product = s(&l["product_id"]);
            let sku = s(&l["sku_id"]);
            let items: Vec<Value> = (0..count)
                .map(|i| {
                    let u = &users[i % users.len()];
                    json!({"kind": "licensing#licenseAssignment", "productId": product, "skuId": sku, "userId": u["primaryEmail"].clone(),
                        "selfLink": format!("https://licensing.googleapis.com/apps/licensing/v1/product/{product}/sku/{sku}/user/{}", s(&u["primaryEmail"])),
                        "productName": l["product_name"].clone(), "skuName": l["product_name"].clone(), "etag": "\"lic\""})
                })
                .collect();
            licenses.insert((product, sku), items);
        }

        // DNS: every traditional answer the export's record logs saw.
        let mut zone = crate::dns::Zone::new();
        for key in ["spf_records", "dkim_records", "dmarc_records"] {
            for r in arr(&demo[key]) {
                for entry in arr(&r["log"]) {
                    let answers: Vec<String> = arr(&entry["query_answers"]).iter().map(s).collect();
                    if !answers.is_empty() {
                        zone.insert(s(&entry["query_name"]).to_lowercase(), answers);
                    }
                }
            }
        }

        Tenant {
            customer_id,
            primary_domain,
            top_ou,
            org_units,
            users,
            user_by_email,
            roles,
            role_assignments,
            groups,
            group_settings,
            group_keys,
            members,
            user_groups,
            domains,
            domain_aliases,
            policies,
            admin_activities,
            token_activities,
            usage_reports,
            licenses,
            inbound_sso: arr(&demo["inbound_sso_assignments"]),
            zone,
        }
    }

    /// Super administrators (candidates for the impersonated subject).
    pub fn super_admins(&self) -> Vec<String> {
        self.users
            .iter()
            .filter(|u| u["isAdmin"] == true && u["suspended"] != true)
            .map(|u| s(&u["primaryEmail"]))
            .collect()
    }
}
