//! The Google Workspace collection: Admin SDK Directory and Reports, Cloud Identity, Groups
//! Settings, Licensing and DNS, mapped to the ScubaGoggles provider schema plus Mamori's
//! `mamori_*` sections.
//!
//! Calls use the maximum page sizes and `fields` partial responses; independent sections run
//! concurrently (the [`Api`] limiter bounds the requests in flight). One token is requested per
//! scope, so a scope the administrator did not delegate fails only the sections that need it.

use super::config::{GwsConfig, ServiceAccountKey};
use crate::auth::{AuthError, TokenRequest, TokenSource};
use crate::collection::{now_rfc3339, Collected, Collection, SectionError};
use crate::dns::Resolver;
use crate::http::{Api, ApiError, HttpSettings};
use crate::stats::Observer;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

pub const SCOPE_ORGUNIT: &str = "https://www.googleapis.com/auth/admin.directory.orgunit.readonly";
pub const SCOPE_CUSTOMER: &str =
    "https://www.googleapis.com/auth/admin.directory.customer.readonly";
pub const SCOPE_DOMAIN: &str = "https://www.googleapis.com/auth/admin.directory.domain.readonly";
pub const SCOPE_USER: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";
pub const SCOPE_ROLE: &str =
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly";
pub const SCOPE_GROUP: &str = "https://www.googleapis.com/auth/admin.directory.group.readonly";
pub const SCOPE_AUDIT: &str = "https://www.googleapis.com/auth/admin.reports.audit.readonly";
pub const SCOPE_USAGE: &str = "https://www.googleapis.com/auth/admin.reports.usage.readonly";
pub const SCOPE_POLICIES: &str = "https://www.googleapis.com/auth/cloud-identity.policies.readonly";
pub const SCOPE_SSO: &str = "https://www.googleapis.com/auth/cloud-identity.inboundsso.readonly";
pub const SCOPE_GROUPS_SETTINGS: &str = "https://www.googleapis.com/auth/apps.groups.settings";
pub const SCOPE_LICENSING: &str = "https://www.googleapis.com/auth/apps.licensing";

/// Every scope to delegate to the service account (all read-only where Google offers one).
pub const SCOPES: &[&str] = &[
    SCOPE_ORGUNIT,
    SCOPE_CUSTOMER,
    SCOPE_DOMAIN,
    SCOPE_USER,
    SCOPE_ROLE,
    SCOPE_GROUP,
    SCOPE_AUDIT,
    SCOPE_USAGE,
    SCOPE_POLICIES,
    SCOPE_SSO,
    SCOPE_GROUPS_SETTINGS,
    SCOPE_LICENSING,
];

/// Why nothing could be collected.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("service account key: {0}")]
    Key(String),
    #[error("Google refused the service account: {0}")]
    Auth(#[from] AuthError),
}

/// The product and SKU pairs ScubaGoggles asks the Licensing API about, with product names.
const SKUS: &[(&str, &str, &str)] = &[
    (
        "Google-Apps",
        "1010020027",
        "Google Workspace Business Starter",
    ),
    (
        "Google-Apps",
        "1010020028",
        "Google Workspace Business Standard",
    ),
    (
        "Google-Apps",
        "1010020025",
        "Google Workspace Business Plus",
    ),
    (
        "Google-Apps",
        "1010020029",
        "Google Workspace Enterprise Starter",
    ),
    (
        "Google-Apps",
        "1010020026",
        "Google Workspace Enterprise Standard",
    ),
    (
        "Google-Apps",
        "1010020020",
        "Google Workspace Enterprise Plus",
    ),
    ("Google-Apps", "1010060001", "Google Workspace Essentials"),
    (
        "Google-Apps",
        "1010060003",
        "Google Workspace Enterprise Essentials",
    ),
    (
        "Google-Apps",
        "1010060005",
        "Google Workspace Enterprise Essentials Plus",
    ),
    (
        "Google-Apps",
        "1010020030",
        "Google Workspace Frontline Starter",
    ),
    (
        "Google-Apps",
        "1010020031",
        "Google Workspace Frontline Standard",
    ),
    (
        "Google-Apps",
        "1010020034",
        "Google Workspace Frontline Plus",
    ),
    ("101047", "1010470001", "Gemini Enterprise - Legacy"),
    ("101047", "1010470002", "Gemini Business - Legacy"),
    ("101047", "1010470003", "AI Meetings and Messaging"),
    ("101047", "1010470006", "AI Security"),
    ("101047", "1010470007", "Google AI Ultra for Business"),
    ("101001", "1010010001", "Cloud Identity Free"),
    ("101005", "1010050001", "Cloud Identity Premium"),
    ("101039", "1010390001", "Google Workspace Assured Controls"),
    (
        "101039",
        "1010390002",
        "Google Workspace Assured Controls Plus",
    ),
    ("Google-Vault", "Google-Vault", "Google Vault"),
    ("101033", "1010330003", "Google Voice Starter"),
    ("101033", "1010330004", "Google Voice Standard"),
    ("101033", "1010330002", "Google Voice Premier"),
    (
        "101040",
        "1010400001",
        "Google Workspace Additional Storage",
    ),
];

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

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A copy of an API error (section failures that several keys share).
fn copy_error(e: &ApiError) -> ApiError {
    match e {
        ApiError::Status {
            url,
            status,
            code,
            message,
        } => ApiError::Status {
            url: url.clone(),
            status: *status,
            code: code.clone(),
            message: message.clone(),
        },
        ApiError::Timeout {
            url,
            seconds,
            attempts,
        } => ApiError::Timeout {
            url: url.clone(),
            seconds: *seconds,
            attempts: *attempts,
        },
        ApiError::Transport {
            url,
            message,
            attempts,
        } => ApiError::Transport {
            url: url.clone(),
            message: message.clone(),
            attempts: *attempts,
        },
        ApiError::GaveUp {
            url,
            attempts,
            last,
        } => ApiError::GaveUp {
            url: url.clone(),
            attempts: *attempts,
            last: last.clone(),
        },
        ApiError::Malformed { url, message } => ApiError::Malformed {
            url: url.clone(),
            message: message.clone(),
        },
        ApiError::TooLarge { url, limit_mib } => ApiError::TooLarge {
            url: url.clone(),
            limit_mib: *limit_mib,
        },
        ApiError::Auth(a) => ApiError::Auth(match a {
            AuthError::Rejected {
                endpoint,
                status,
                error,
                description,
            } => AuthError::Rejected {
                endpoint: endpoint.clone(),
                status: *status,
                error: error.clone(),
                description: description.clone(),
            },
            AuthError::Transport { endpoint, message } => AuthError::Transport {
                endpoint: endpoint.clone(),
                message: message.clone(),
            },
            AuthError::Malformed { endpoint, message } => AuthError::Malformed {
                endpoint: endpoint.clone(),
                message: message.clone(),
            },
            AuthError::Key(m) => AuthError::Key(m.clone()),
        }),
    }
}

/// Reads the key file without ever echoing its content in an error.
fn load_key(config: &GwsConfig) -> Result<ServiceAccountKey, CollectError> {
    let (text, origin) =
        match (
            &config.service_account_key_file,
            &config.service_account_key_json,
        ) {
            (Some(path), _) => (
                crate::redact::Secret::new(std::fs::read_to_string(path).map_err(|e| {
                    CollectError::Key(format!("cannot read {}: {e}", path.display()))
                })?),
                path.display().to_string(),
            ),
            (None, Some(json)) => (json.clone(), "service_account_key_json".to_string()),
            (None, None) => {
                return Err(CollectError::Key(
                    "neither service_account_key_file nor service_account_key_json is set".into(),
                ))
            }
        };
    let key: ServiceAccountKey = serde_json::from_str(text.expose()).map_err(|e| {
        // serde's message can quote the offending value; only its position and category are kept.
        CollectError::Key(format!(
            "{origin} is not a service-account key file ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    if key.kind.as_deref().is_some_and(|k| k != "service_account") {
        return Err(CollectError::Key(format!(
            "{origin} is not a service-account key (type is not service_account)"
        )));
    }
    Ok(key)
}

/// One tenant's API access: one token source per scope on a shared budget.
struct Client {
    base: Api,
    apis: HashMap<&'static str, Api>,
    admin: String,
    cloud_identity: String,
    groups_settings: String,
    licensing: String,
    customer: String,
}

impl Client {
    fn api(&self, scope: &'static str) -> Api {
        self.apis
            .get(scope)
            .cloned()
            .unwrap_or_else(|| self.base.clone())
    }

    /// One GET with the token of `scope` (owned arguments, so the future borrows nothing
    /// temporary).
    async fn get(
        &self,
        scope: &'static str,
        section: &'static str,
        url: String,
    ) -> Result<Value, ApiError> {
        self.api(scope).get(section, &url).await
    }

    /// Every item of a Google list with the token of `scope`.
    async fn list(
        &self,
        scope: &'static str,
        section: &'static str,
        url: String,
        key: &'static str,
    ) -> Result<Vec<Value>, ApiError> {
        self.api(scope).google_list(section, &url, key).await
    }

    fn dir(&self, path: &str) -> String {
        format!("{}/admin/directory/v1/{path}", self.admin)
    }
}

/// Collects one Google Workspace tenant into the ScubaGoggles provider schema.
pub async fn collect(
    config: &GwsConfig,
    settings: HttpSettings,
    observer: Option<Arc<dyn Observer>>,
) -> Result<Collected, CollectError> {
    let started = Instant::now();
    let collected_at = now_rfc3339();
    let key = load_key(config)?;
    let token_uri = config
        .endpoints
        .token_uri
        .clone()
        .or(key.token_uri.clone())
        .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into());
    // The Groups Settings GETs (one per group) are fed through a gate of this width, so they
    // fill the limiter without queueing ahead of the paging chains (users, policies, usage,
    // licences), which would otherwise wait behind every queued GET.
    let bulk_width = settings.concurrency.max(1);
    let base = Api::new(settings, observer);
    let apis: HashMap<&'static str, Api> = SCOPES
        .iter()
        .map(|scope| {
            let source = TokenSource::new(TokenRequest::GoogleServiceAccount {
                token_uri: token_uri.clone(),
                client_email: key.client_email.clone(),
                private_key_id: key.private_key_id.clone(),
                private_key_pem: key.private_key.clone(),
                subject: config.subject.clone(),
                scopes: vec![scope.to_string()],
            });
            (*scope, base.with_auth(Arc::new(source)))
        })
        .collect();
    let trim = |s: &str| s.trim_end_matches('/').to_string();
    let client = Arc::new(Client {
        apis,
        admin: trim(&config.endpoints.admin),
        cloud_identity: trim(&config.endpoints.cloud_identity),
        groups_settings: trim(&config.endpoints.groups_settings),
        licensing: trim(&config.endpoints.licensing),
        customer: config.customer_id.clone(),
        base: base.clone(),
    });
    // One token per scope, all at once and before any section: a request fetches its token
    // while it holds a limiter slot, and the other requests of that scope wait for it, so a
    // token fetched on first use would stall the sections behind it. Bad credentials (wrong
    // key, unknown subject, no delegation at all) stop here, before any section, with the token
    // endpoint's own words; a scope that alone is refused fails only its sections (their
    // requests ask again and get the same answer).
    let checks = futures_util::future::join_all(SCOPES.iter().map(|scope| {
        let api = client.api(scope);
        async move { (*scope, api.check_auth().await) }
    }))
    .await;
    for (scope, result) in checks {
        if scope == SCOPE_ORGUNIT {
            result?;
        }
    }

    let mut c = Collection::default();
    let mut ok_calls: BTreeSet<String> = BTreeSet::new();
    let mut failed_calls: BTreeSet<String> = BTreeSet::new();
    let mut mark = |ok: bool, call: &str| {
        if ok {
            ok_calls.insert(call.to_string());
        } else {
            failed_calls.insert(call.to_string());
        }
    };

    // Every section starts as soon as what it needs is there. The long paging chains and the
    // group settings run as tasks (their JSON is parsed on every core).
    let customer_key = enc(&client.customer);
    let groups_task = spawn(fetch_groups_and_settings(client.clone(), bulk_width));
    let users_task = spawn({
        let client = client.clone();
        let url = client.dir(&format!(
            "users?customer={customer_key}&maxResults=500&projection=basic&fields={}",
            enc("nextPageToken,users(kind,id,primaryEmail,name,orgUnitPath,isAdmin,isDelegatedAdmin,suspended,suspensionReason,archived,creationTime,lastLoginTime,isEnrolledIn2Sv,isEnforcedIn2Sv,customerId)")
        ));
        async move { client.list(SCOPE_USER, "users", url, "users").await }
    });
    let roles_task = spawn({
        let client = client.clone();
        let roles_url = client.dir(&format!("customer/{customer_key}/roles?maxResults=100"));
        let assignments_url = client.dir(&format!(
            "customer/{customer_key}/roleassignments?maxResults=200"
        ));
        async move {
            let (roles, assignments) = tokio::join!(
                client.list(SCOPE_ROLE, "privileged_users", roles_url, "items"),
                client.list(SCOPE_ROLE, "privileged_users", assignments_url, "items"),
            );
            let members = match &assignments {
                Ok(a) => fetch_role_group_members(&client, a).await,
                Err(e) => Err(copy_error(e)),
            };
            (roles, assignments, members)
        }
    });
    let policies_task = spawn({
        let client = client.clone();
        let url = format!("{}/v1/policies?pageSize=100", client.cloud_identity);
        async move {
            client
                .list(SCOPE_POLICIES, "policies", url, "policies")
                .await
        }
    });
    let usage_task = spawn(fetch_usage(client.clone()));
    let admin_task = spawn(fetch_admin_log(client.clone()));
    let token_task = spawn({
        let client = client.clone();
        let url = format!(
            "{}/admin/reports/v1/activity/users/all/applications/token?maxResults=1000",
            client.admin
        );
        async move {
            client
                .list(SCOPE_AUDIT, "mamori_oauth_tokens", url, "items")
                .await
        }
    });
    let dwd_task = spawn({
        let client = client.clone();
        let wanted = config.domain_wide_delegation.is_none();
        async move {
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
            Ok::<_, ApiError>(all)
        }
    });

    let (directory, tenant, people, admin_log, token_log, dwd_log) = tokio::join!(
        async {
            // The units, the group list and the policies are mapped (off the runtime's threads)
            // while the group settings are still being read.
            let (orgunits, (groups, settings_task), raw_policies) = tokio::join!(
                fetch_orgunits(&client),
                joined(groups_task),
                joined(policies_task)
            );
            let mut directory =
                blocking(move || map_directory(orgunits, groups, raw_policies)).await;
            directory.settings = match settings_task {
                Some(task) => joined(task).await,
                None => Ok(Vec::new()),
            };
            directory
        },
        fetch_tenant(&client, config),
        async {
            let ((users, roles, assignments, role_members, privileged), usage) = tokio::join!(
                async {
                    let (users, (roles, assignments, members)) =
                        tokio::join!(joined(users_task), joined(roles_task));
                    let privileged = match (&users, &roles, &assignments) {
                        (Ok(u), Ok(r), Ok(a)) => fetch_privileged(&client, u, r, a).await,
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
            let (users_ok, roles_ok, assignments_ok) =
                (users.is_ok(), roles.is_ok(), assignments.is_ok());
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
        },
        joined(admin_task),
        joined(token_task),
        joined(dwd_task),
    );
    let TenantPart {
        customer,
        domains,
        aliases,
        domain_list,
        alias_list,
        customer_id,
        primary_domain,
        sso,
        licences,
        dns,
    } = tenant;
    let Directory {
        orgunits,
        top_ou,
        unit_names,
        policies,
        groups,
        settings: settings_list,
    } = directory;

    // Organisational units and the tenant.
    mark(orgunits.is_ok(), "directory/v1/orgunits/list");
    if let Some(names) = unit_names {
        c.data.insert("organizational_unit_names".into(), names);
    }
    mark(domains.is_ok(), "directory/v1/domains/list");
    mark(
        aliases.is_ok(),
        "directory/reference/rest/v1/domainAliases/list",
    );
    if customer.is_err() {
        mark(false, "directory/v1/customer/get");
    }
    let tenant_info = match &top_ou {
        Some(top) => Ok(json!({
            "ID": customer_id.clone().unwrap_or_default(),
            "domain": primary_domain.clone().unwrap_or_else(|| "Error Retrieving".into()),
            "topLevelOU": top,
        })),
        None => Err(SectionError::Other(
            "the organisational units could not be read (see organizational_units)".into(),
        )),
    };
    c.record("tenant_info", SCOPE_ORGUNIT, tenant_info);
    c.record(
        "organizational_units",
        SCOPE_ORGUNIT,
        orgunits
            .map(|o| {
                if o.get("organizationUnits").is_some() {
                    o
                } else {
                    json!({})
                }
            })
            .map_err(SectionError::Api),
    );
    c.record(
        "domains",
        SCOPE_DOMAIN,
        domain_list
            .as_ref()
            .map(|(d, _)| json!(d))
            .map_err(|e| SectionError::Other(e.to_string())),
    );
    c.record(
        "alias_domains",
        SCOPE_DOMAIN,
        alias_list
            .as_ref()
            .map(|a| json!(a))
            .map_err(|e| SectionError::Other(e.to_string())),
    );

    // Policies.
    mark(groups.is_ok(), "directory/v1/groups/list");
    match policies {
        Ok((map, missing)) => {
            c.record("policies", SCOPE_POLICIES, Ok(map));
            c.record("missing_policies", SCOPE_POLICIES, Ok(json!(missing)));
        }
        Err(e) => {
            let reason = e.to_string();
            c.record("policies", SCOPE_POLICIES, Err(e));
            c.record(
                "missing_policies",
                SCOPE_POLICIES,
                Err(SectionError::Other(reason)),
            );
        }
    }

    // Admin audit log, split into the products' *_logs keys.
    mark(admin_log.is_ok(), "reports/v1/activities/list");
    let products = [
        "assuredcontrols",
        "calendar",
        "chat",
        "classroom",
        "commoncontrols",
        "drive",
        "gemini",
        "gmail",
        "groups",
        "meet",
        "sites",
    ];
    match admin_log {
        Ok(events) => {
            for (product, items) in split_logs(&events, &products) {
                let mut section = Map::new();
                section.insert("items".into(), Value::Array(items));
                c.record(
                    &format!("{product}_logs"),
                    SCOPE_AUDIT,
                    Ok(Value::Object(section)),
                );
            }
        }
        Err(e) => {
            for product in products {
                c.record(
                    &format!("{product}_logs"),
                    SCOPE_AUDIT,
                    Err(SectionError::Api(copy_error(&e))),
                );
            }
        }
    }

    // Users and administrators.
    let People {
        users_ok,
        roles_ok,
        assignments_ok,
        super_admins,
        privileged,
        mamori_users,
    } = people;
    mark(users_ok, "directory/v1/users/list");
    c.record("super_admins", SCOPE_USER, super_admins);
    mark(roles_ok, "directory/v1/roles/list");
    mark(assignments_ok, "directory/v1/roleAssignments/list");
    let privileged_permission = format!("{SCOPE_USER}, {SCOPE_ROLE} and {SCOPE_GROUP}");
    match privileged {
        Ok(list) => {
            c.record(
                "privileged_users",
                &privileged_permission,
                Ok(Value::Array(list)),
            );
            c.data.insert("privileged_users_error".into(), Value::Null);
        }
        Err(e) => {
            c.record(
                "privileged_users",
                &privileged_permission,
                Err(SectionError::Api(e)),
            );
            let reason = c
                .outcomes
                .get("privileged_users")
                .and_then(|o| o.reason.clone())
                .unwrap_or_default();
            c.data
                .insert("privileged_users_error".into(), json!(reason));
        }
    }
    c.record(
        "mamori_users",
        &format!("{SCOPE_USER}, {SCOPE_ROLE}, {SCOPE_GROUP} and {SCOPE_USAGE}"),
        mamori_users,
    );
    c.record(
        "mamori_oauth_tokens",
        SCOPE_AUDIT,
        token_log
            .as_ref()
            .map(|t| Value::Array(build_tokens(t)))
            .map_err(|e| SectionError::Api(copy_error(e))),
    );
    match &config.domain_wide_delegation {
        Some(list) => {
            c.record(
                "mamori_domain_wide_delegation",
                "the operator's export",
                Ok(json!(list)),
            );
        }
        None => {
            c.record(
                "mamori_domain_wide_delegation",
                SCOPE_AUDIT,
                dwd_log
                    .as_ref()
                    .map(|e| Value::Array(build_dwd(e)))
                    .map_err(|e| SectionError::Api(copy_error(e))),
            );
        }
    }

    // Inbound SSO.
    mark(sso.is_ok(), "cloudidentity/v1/inboundSsoAssignments/list");
    match sso {
        Ok(list) => {
            c.record("inbound_sso_assignments", SCOPE_SSO, Ok(Value::Array(list)));
            c.data
                .insert("inbound_sso_assignments_error".into(), Value::Null);
        }
        Err(e) => {
            c.record(
                "inbound_sso_assignments",
                SCOPE_SSO,
                Err(SectionError::Api(e)),
            );
            let reason = c
                .outcomes
                .get("inbound_sso_assignments")
                .and_then(|o| o.reason.clone())
                .unwrap_or_default();
            c.data
                .insert("inbound_sso_assignments_error".into(), json!(reason));
        }
    }

    // Licences and group settings.
    mark(
        licences.is_ok(),
        "licensing/v1/product/{productId}/sku/{skuId}/users/list",
    );
    c.record(
        "license_data",
        SCOPE_LICENSING,
        licences.map(Value::from).map_err(SectionError::Api),
    );
    match (&groups, settings_list) {
        (Ok(_), Ok(list)) => {
            mark(true, "groups-settings/v1/groups/get");
            c.record(
                "group_settings",
                SCOPE_GROUPS_SETTINGS,
                Ok(Value::Array(list)),
            );
        }
        (Err(e), _) => {
            mark(false, "groups-settings/v1/groups/get");
            c.record(
                "group_settings",
                SCOPE_GROUP,
                Err(SectionError::Api(copy_error(e))),
            );
        }
        (_, Err(e)) => {
            mark(false, "groups-settings/v1/groups/get");
            c.record(
                "group_settings",
                SCOPE_GROUPS_SETTINGS,
                Err(SectionError::Api(e)),
            );
        }
    }
    drop(groups);

    // DNS.
    match dns {
        Some(records) => {
            for (key, call, result) in records {
                mark(result.is_ok(), call);
                c.record(key, "DNS (TXT lookups)", result);
            }
        }
        None => {
            for key in ["spf_records", "dkim_records", "dmarc_records"] {
                c.record(
                    key,
                    SCOPE_DOMAIN,
                    Err(SectionError::Other(
                        "the domain list could not be read (see domains)".into(),
                    )),
                );
            }
        }
    }

    // What ScubaGoggles' orchestrator adds, and the collection time.
    let d = &mut c.data;
    d.insert("baseline_suffix".into(), json!("v1"));
    d.insert("baseline_versions".into(), json!({}));
    d.insert(
        "break_glass_accounts".into(),
        json!(config.break_glass_accounts),
    );
    d.insert("imap_exclusions".into(), json!(config.imap_exclusions));
    d.insert("sites_exclusions".into(), json!(config.sites_exclusions));
    d.insert("rules_table".into(), json!(""));
    d.insert("report_uuid".into(), json!(uuid_v4()));
    d.insert(
        "scuba_config".into(),
        json!({
            "baselines": products,
            "subjectemail": config.subject,
            "customerid": config.customer_id,
            "breakglassaccounts": config.break_glass_accounts,
            "imapexclusions": config.imap_exclusions,
            "sitesexclusions": config.sites_exclusions,
            "outputproviderfilename": "ProviderSettingsExport",
        }),
    );
    d.insert("mamori_collected_at".into(), json!(collected_at));
    d.insert(
        "successful_calls".into(),
        json!(ok_calls.iter().collect::<Vec<_>>()),
    );
    d.insert(
        "unsuccessful_calls".into(),
        json!(failed_calls.iter().collect::<Vec<_>>()),
    );

    let tenant = primary_domain.unwrap_or_else(|| {
        config
            .subject
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_string()
    });
    Ok(Collected {
        schema: mamori_core::snapshot::SourceKind::Scubagoggles,
        tenant,
        collection: c,
        stats: base.stats().snapshot(),
        elapsed: started.elapsed(),
        collected_at,
    })
}

fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    crate::http::fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

async fn fetch_orgunits(client: &Client) -> Result<Value, ApiError> {
    // One call gives the root (for topLevelOU) and every unit; it has no paging.
    client
        .api(SCOPE_ORGUNIT)
        .get(
            "organizational_units",
            &client.dir(&format!(
                "customer/{}/orgunits?orgUnitPath=%2F&type=allIncludingParent",
                enc(&client.customer)
            )),
        )
        .await
}

/// Every admin audit event the `*_logs` keys need, one series per eventName, concurrently.
async fn fetch_admin_log(client: Arc<Client>) -> Result<Vec<Value>, ApiError> {
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

/// The accounts:* parameters of the user usage report, three days back (Google's reports lag),
/// by lower-case address. Each page is folded in as it arrives, so the reports themselves are
/// never all held at once.
async fn fetch_usage(client: Arc<Client>) -> Result<HashMap<String, Map<String, Value>>, ApiError> {
    let date = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(72))
        .strftime("%Y-%m-%d")
        .to_string();
    let parameters = "accounts:num_security_keys,accounts:num_passkeys_enrolled,accounts:is_2sv_enrolled,accounts:is_2sv_enforced,accounts:num_roles_assigned,accounts:num_authorized_apps";
    let url = format!(
        "{}/admin/reports/v1/usage/users/all/dates/{date}?parameters={}&maxResults=1000",
        client.admin,
        enc(parameters)
    );
    let mut accounts: HashMap<String, Map<String, Value>> = HashMap::new();
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

/// Every page of a Google list, handed to `on_page` as it arrives (the same requests as
/// [`Api::google_list`], without holding every item).
async fn google_pages(
    api: &Api,
    section: &str,
    url: &str,
    items_key: &str,
    mut on_page: impl FnMut(Vec<Value>),
) -> Result<(), ApiError> {
    let mut token: Option<String> = None;
    loop {
        let page_url = match &token {
            None => url.to_string(),
            Some(t) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}pageToken={}", enc(t))
            }
        };
        let mut page = api.get(section, &page_url).await?;
        match page.get_mut(items_key).map(Value::take) {
            Some(Value::Array(values)) => on_page(values),
            // Google leaves the key out of an empty page.
            None | Some(Value::Null) => {}
            Some(_) => {
                return Err(ApiError::Malformed {
                    url: page_url,
                    message: format!("`{items_key}` is not an array"),
                })
            }
        }
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}

/// A section running on its own task; aborted if the collection is dropped.
struct Task<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn spawn<F>(future: F) -> Task<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    Task(tokio::spawn(future))
}

/// The task's result; a panic in the task goes on in the caller.
async fn joined<T>(mut task: Task<T>) -> T {
    match (&mut task.0).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("a collection task was cancelled: {e}"),
    }
}

/// The customer, its domains, and what needs them: inbound SSO, licences and DNS.
struct TenantPart {
    customer: Result<Value, ApiError>,
    domains: Result<Value, ApiError>,
    aliases: Result<Value, ApiError>,
    domain_list: Result<(Vec<String>, Option<String>), SectionError>,
    alias_list: Result<Vec<String>, SectionError>,
    customer_id: Option<String>,
    primary_domain: Option<String>,
    sso: Result<Vec<Value>, ApiError>,
    licences: Result<Vec<Value>, ApiError>,
    dns: Option<Vec<DnsSection>>,
}

async fn fetch_tenant(client: &Client, config: &GwsConfig) -> TenantPart {
    let customer_key = enc(&client.customer);
    let (customer, domains, aliases) = tokio::join!(
        client.get(
            SCOPE_CUSTOMER,
            "tenant_info",
            client.dir(&format!("customers/{customer_key}"))
        ),
        client.get(
            SCOPE_DOMAIN,
            "domains",
            client.dir(&format!("customer/{customer_key}/domains"))
        ),
        client.get(
            SCOPE_DOMAIN,
            "domains",
            client.dir(&format!("customer/{customer_key}/domainaliases"))
        ),
    );
    let domain_list: Result<(Vec<String>, Option<String>), SectionError> = match &domains {
        Ok(d) => {
            let all: &[Value] = d["domains"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let primary = all
                .iter()
                .find(|x| x["isPrimary"] == true)
                .map(|x| text(&x["domainName"]));
            let verified = all
                .iter()
                .filter(|x| x["verified"] != false)
                .map(|x| text(&x["domainName"]))
                .filter(|n| !n.is_empty())
                .collect();
            Ok((verified, primary))
        }
        Err(e) => Err(SectionError::Api(copy_error(e))),
    };
    let alias_list: Result<Vec<String>, SectionError> = match &aliases {
        Ok(a) => Ok(a["domainAliases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|x| x["verified"] != false)
            .map(|x| text(&x["domainAliasName"]))
            .filter(|n| !n.is_empty())
            .collect()),
        Err(e) => Err(SectionError::Api(copy_error(e))),
    };
    let customer_id = customer
        .as_ref()
        .ok()
        .map(|v| text(&v["id"]))
        .filter(|s| !s.is_empty());
    let primary_domain = domain_list.as_ref().ok().and_then(|(_, p)| p.clone());
    let licence_customer = primary_domain
        .clone()
        .or(customer_id.clone())
        .unwrap_or_else(|| client.customer.clone());
    let sso_customer = customer_id
        .clone()
        .unwrap_or_else(|| client.customer.clone());
    let dns_aliases = alias_list.as_ref().ok().cloned().unwrap_or_default();
    let (sso, licences, dns) = tokio::join!(
        client.list(
            SCOPE_SSO,
            "inbound_sso_assignments",
            format!(
                "{}/v1/inboundSsoAssignments?filter={}&pageSize=100",
                client.cloud_identity,
                enc(&format!("customer==\"customers/{sso_customer}\""))
            ),
            "inboundSsoAssignments",
        ),
        fetch_licences(client, &licence_customer),
        async {
            match &domain_list {
                Ok((d, _)) => Some(dns_records(config, d, &dns_aliases).await),
                Err(_) => None,
            }
        },
    );
    TenantPart {
        customer,
        domains,
        aliases,
        domain_list,
        alias_list,
        customer_id,
        primary_domain,
        sso,
        licences,
        dns,
    }
}

/// The groups, and their settings: Groups Settings has no list call, so one GET per group, in
/// the groups' order. The GETs start as each page of the group list arrives and go through a
/// gate of `width`, so they keep the limiter busy without queueing ahead of other sections.
/// The list is answered as soon as it is complete; the settings come from the returned task.
async fn fetch_groups_and_settings(
    client: Arc<Client>,
    width: usize,
) -> (
    Result<Vec<Value>, ApiError>,
    Option<Task<Result<Vec<Value>, ApiError>>>,
) {
    let url = client.dir(&format!(
        "groups?customer={}&maxResults=200&fields={}",
        enc(&client.customer),
        enc("nextPageToken,groups(id,email,name)")
    ));
    let gate = Arc::new(tokio::sync::Semaphore::new(width.max(1)));
    let settings_api = client.api(SCOPE_GROUPS_SETTINGS);
    let mut set = tokio::task::JoinSet::new();
    let mut groups: Vec<Value> = Vec::new();
    let listed = google_pages(
        &client.api(SCOPE_GROUP),
        "group_settings",
        &url,
        "groups",
        |page| {
            for g in page {
                let key = text(&g["email"]);
                if !key.is_empty() {
                    let i = groups.len();
                    let api = settings_api.clone();
                    let gate = gate.clone();
                    let url = format!(
                        "{}/groups/v1/groups/{}?alt=json",
                        client.groups_settings,
                        enc(&key)
                    );
                    set.spawn(async move {
                        let _slot = gate.acquire_owned().await;
                        (i, api.get("group_settings", &url).await)
                    });
                }
                groups.push(g);
            }
        },
    )
    .await;
    if let Err(e) = listed {
        set.abort_all();
        return (Err(e), None);
    }
    let count = groups.len();
    let settings = spawn(async move {
        let mut out: Vec<(usize, Value)> = Vec::with_capacity(count);
        while let Some(joined) = set.join_next().await {
            let (i, r) = joined.map_err(|e| ApiError::Transport {
                url: "groups settings".into(),
                message: e.to_string(),
                attempts: 1,
            })?;
            match r {
                Ok(v) => out.push((i, v)),
                // A group deleted between the list and the GET.
                Err(e) if e.http_status() == Some(404) => {}
                // Dropping the set aborts the GETs still queued.
                Err(e) => return Err(e),
            }
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out.into_iter().map(|(_, v)| v).collect())
    });
    (Ok(groups), Some(settings))
}

/// What the organisational units, the group list and the policies give.
struct Directory {
    orgunits: Result<Value, ApiError>,
    top_ou: Option<String>,
    unit_names: Option<Value>,
    policies: Result<(Value, Vec<String>), SectionError>,
    groups: Result<(), ApiError>,
    settings: Result<Vec<Value>, ApiError>,
}

fn map_directory(
    orgunits: Result<Value, ApiError>,
    groups: Result<Vec<Value>, ApiError>,
    raw_policies: Result<Vec<Value>, ApiError>,
) -> Directory {
    let top_ou = orgunits.as_ref().ok().map(|o| {
        o["organizationUnits"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|u| u["orgUnitPath"] == "/")
            .map(|u| text(&u["name"]))
            .unwrap_or_default()
    });
    let unit_names = orgunits.as_ref().ok().map(|o| {
        let mut names: BTreeSet<String> = BTreeSet::new();
        names.insert(String::new());
        names.insert(top_ou.clone().unwrap_or_default());
        for u in o["organizationUnits"].as_array().into_iter().flatten() {
            names.insert(text(&u["name"]));
        }
        json!(names.into_iter().collect::<Vec<_>>())
    });
    let policies = match (&raw_policies, &orgunits, &groups) {
        (Ok(p), Ok(o), Ok(g)) => Ok(map_policies(p, o, g, top_ou.as_deref().unwrap_or_default())),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => Err(SectionError::Api(copy_error(e))),
    };
    Directory {
        orgunits,
        top_ou,
        unit_names,
        policies,
        groups: groups.map(|_| ()),
        settings: Ok(Vec::new()),
    }
}

/// What the users, roles and usage reports give.
struct People {
    users_ok: bool,
    roles_ok: bool,
    assignments_ok: bool,
    super_admins: Result<Value, SectionError>,
    privileged: Result<Vec<Value>, ApiError>,
    mamori_users: Result<Value, SectionError>,
}

/// CPU-bound work on the blocking pool, so the runtime's threads keep serving the requests.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("a collection task was cancelled: {e}"),
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
fn split_logs(activities: &[Value], products: &[&str]) -> Vec<(String, Vec<Value>)> {
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
fn build_tokens(activities: &[Value]) -> Vec<Value> {
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
fn build_dwd(activities: &[Value]) -> Vec<Value> {
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

/// Cloud Identity policies into ScubaGoggles' `policies` map (scope label → section → value)
/// and `missing_policies`.
fn map_policies(
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

/// Licence counts per SKU. SKUs the customer does not have answer 400/404 and count as none;
/// a permission error fails the section (the counts would be wrong).
async fn fetch_licences(client: &Client, customer: &str) -> Result<Vec<Value>, ApiError> {
    let mut set = tokio::task::JoinSet::new();
    for (i, (product, sku, _)) in SKUS.iter().enumerate() {
        let api = client.api(SCOPE_LICENSING);
        let url = format!(
            "{}/apps/licensing/v1/product/{}/sku/{}/users?customerId={}&maxResults=1000&fields={}",
            client.licensing,
            enc(product),
            enc(sku),
            enc(customer),
            enc("nextPageToken,items(userId)")
        );
        set.spawn(async move { (i, api.google_list("license_data", &url, "items").await) });
    }
    let mut counts: Vec<(usize, usize)> = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.map_err(|e| ApiError::Transport {
            url: "licensing".into(),
            message: e.to_string(),
            attempts: 1,
        })?;
        match r {
            Ok(items) => counts.push((i, items.len())),
            Err(e) if matches!(e.http_status(), Some(400 | 404)) => {}
            Err(e) => {
                set.abort_all();
                return Err(e);
            }
        }
    }
    counts.sort();
    Ok(counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(i, n)| {
            let (product, sku, name) = SKUS[i];
            json!({"product_name": name, "sku_id": sku, "product_id": product, "status": "Active", "assigned": n})
        })
        .collect())
}

/// One TXT lookup in ScubaGoggles' log shape.
async fn lookup(resolver: &Resolver, name: &str) -> (Vec<String>, Value, bool) {
    match resolver.txt(name).await {
        Ok(a) => {
            let result = format!("Query returned {} txt records", a.records.len());
            let entry = json!({"query_name": name, "query_method": "traditional", "query_result": result, "query_answers": a.records});
            (a.records, entry, true)
        }
        Err(e) => {
            let entry = json!({"query_name": name, "query_method": "traditional", "query_result": format!("Query resulted in exception {e}"), "query_answers": []});
            (Vec::new(), entry, false)
        }
    }
}

type DnsSection = (&'static str, &'static str, Result<Value, SectionError>);

/// SPF, DKIM and DMARC records of the verified domains (and DMARC of the alias domains).
async fn dns_records(
    config: &GwsConfig,
    domains: &[String],
    aliases: &[String],
) -> Vec<DnsSection> {
    let resolver = Resolver::new(config.dns_server);
    let mut spf = Vec::new();
    let mut dkim = Vec::new();
    let mut dmarc = Vec::new();
    let (mut answered, mut asked) = (0usize, 0usize);
    for d in domains {
        let (records, entry, ok) = lookup(&resolver, d).await;
        asked += 1;
        answered += ok as usize;
        spf.push(json!({"domain": d, "rdata": records, "log": [entry]}));
        let mut log = Vec::new();
        let mut rdata = Vec::new();
        for selector in ["google", "selector1", "selector2"] {
            let (records, entry, ok) =
                lookup(&resolver, &format!("{selector}._domainkey.{d}")).await;
            asked += 1;
            answered += ok as usize;
            log.push(entry);
            if !records.is_empty() {
                rdata = records;
                break;
            }
        }
        dkim.push(json!({"domain": d, "rdata": rdata, "log": log}));
    }
    for d in domains.iter().chain(aliases) {
        let (mut records, entry, ok) = lookup(&resolver, &format!("_dmarc.{d}")).await;
        asked += 1;
        answered += ok as usize;
        let mut log = vec![entry];
        if records.is_empty() {
            // The organisational domain's policy applies: ScubaGoggles asks the last two labels.
            let labels: Vec<&str> = d.split('.').collect();
            let org = labels[labels.len().saturating_sub(2)..].join(".");
            let (r, entry, ok) = lookup(&resolver, &format!("_dmarc.{org}")).await;
            asked += 1;
            answered += ok as usize;
            log.push(entry);
            records = r;
        }
        dmarc.push(json!({"domain": d, "rdata": records, "log": log}));
    }
    let result = |v: Vec<Value>| -> Result<Value, SectionError> {
        if asked > 0 && answered == 0 {
            Err(SectionError::Other(format!(
                "no DNS answer from {} for any of {asked} TXT lookups",
                config.dns_server
            )))
        } else {
            Ok(json!(v))
        }
    };
    vec![
        ("spf_records", "get_spf_records", result(spf)),
        ("dkim_records", "get_dkim_records", result(dkim)),
        ("dmarc_records", "get_dmarc_records", result(dmarc)),
    ]
}
