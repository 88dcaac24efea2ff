//! The collected parts as ScubaGoggles' provider export: its sections, call lists and the keys
//! its orchestrator adds.

use super::client::{
    copy_error, SCOPE_AUDIT, SCOPE_DOMAIN, SCOPE_GROUP, SCOPE_GROUPS_SETTINGS, SCOPE_LICENSING,
    SCOPE_ORGUNIT, SCOPE_POLICIES, SCOPE_ROLE, SCOPE_SSO, SCOPE_USAGE, SCOPE_USER,
};
use super::config::GwsConfig;
use super::directory::{Directory, TenantPart};
use super::dns::DnsSection;
use super::reports::{build_dwd, build_tokens, split_logs};
use super::users::People;
use crate::collection::{Collection, SectionError};
use crate::http::ApiError;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The baselines ScubaGoggles runs, each with its `*_logs` key.
const PRODUCTS: &[&str] = &[
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

/// What the areas collected.
pub(super) struct Parts {
    pub(super) directory: Directory,
    pub(super) tenant: TenantPart,
    pub(super) people: People,
    pub(super) admin_log: Result<Vec<Value>, ApiError>,
    pub(super) token_log: Result<Vec<Value>, ApiError>,
    pub(super) dwd_log: Result<Vec<Value>, ApiError>,
}

/// The provider export, its sections in ScubaGoggles' order.
pub(super) fn export(config: &GwsConfig, parts: Parts, collected_at: &str) -> Collection {
    let Parts {
        directory,
        tenant,
        people,
        admin_log,
        token_log,
        dwd_log,
    } = parts;
    let Directory {
        orgunits,
        top_ou,
        unit_names,
        policies,
        groups,
        settings,
    } = directory;
    let mut export = Export::default();
    export.units_and_domains(orgunits, unit_names, top_ou.as_deref(), &tenant);
    export.policies(&groups, policies);
    export.admin_logs(admin_log);
    export.people(people);
    export.oauth_tokens(&token_log);
    export.domain_wide_delegation(config, &dwd_log);
    export.inbound_sso(tenant.sso);
    export.licences(tenant.licences);
    export.group_settings(&groups, settings);
    export.dns(tenant.dns);
    export.finish(config, collected_at)
}

/// The sections so far, and the API calls that succeeded and failed.
#[derive(Default)]
struct Export {
    c: Collection,
    ok_calls: BTreeSet<String>,
    failed_calls: BTreeSet<String>,
}

impl Export {
    fn mark(&mut self, ok: bool, call: &str) {
        if ok {
            self.ok_calls.insert(call.to_string());
        } else {
            self.failed_calls.insert(call.to_string());
        }
    }

    fn units_and_domains(
        &mut self,
        orgunits: Result<Value, ApiError>,
        unit_names: Option<Value>,
        top_ou: Option<&str>,
        tenant: &TenantPart,
    ) {
        self.mark(orgunits.is_ok(), "directory/v1/orgunits/list");
        if let Some(names) = unit_names {
            self.c
                .data
                .insert("organizational_unit_names".into(), names);
        }
        self.mark(tenant.domains.is_ok(), "directory/v1/domains/list");
        self.mark(
            tenant.aliases.is_ok(),
            "directory/reference/rest/v1/domainAliases/list",
        );
        if tenant.customer.is_err() {
            self.mark(false, "directory/v1/customer/get");
        }
        let tenant_info = match top_ou {
            Some(top) => Ok(json!({
                "ID": tenant.customer_id.clone().unwrap_or_default(),
                "domain": tenant.primary_domain.clone().unwrap_or_else(|| "Error Retrieving".into()),
                "topLevelOU": top,
            })),
            None => Err(SectionError::Other(
                "the organisational units could not be read (see organizational_units)".into(),
            )),
        };
        self.c.record("tenant_info", SCOPE_ORGUNIT, tenant_info);
        self.c.record(
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
        self.c.record(
            "domains",
            SCOPE_DOMAIN,
            tenant
                .domain_list
                .as_ref()
                .map(|(d, _)| json!(d))
                .map_err(|e| SectionError::Other(e.to_string())),
        );
        self.c.record(
            "alias_domains",
            SCOPE_DOMAIN,
            tenant
                .alias_list
                .as_ref()
                .map(|a| json!(a))
                .map_err(|e| SectionError::Other(e.to_string())),
        );
    }

    fn policies(
        &mut self,
        groups: &Result<(), ApiError>,
        policies: Result<(Value, Vec<String>), SectionError>,
    ) {
        self.mark(groups.is_ok(), "directory/v1/groups/list");
        match policies {
            Ok((map, missing)) => {
                self.c.record("policies", SCOPE_POLICIES, Ok(map));
                self.c
                    .record("missing_policies", SCOPE_POLICIES, Ok(json!(missing)));
            }
            Err(e) => {
                let reason = e.to_string();
                self.c.record("policies", SCOPE_POLICIES, Err(e));
                self.c.record(
                    "missing_policies",
                    SCOPE_POLICIES,
                    Err(SectionError::Other(reason)),
                );
            }
        }
    }

    /// The admin audit log, split into the products' `*_logs` keys.
    fn admin_logs(&mut self, admin_log: Result<Vec<Value>, ApiError>) {
        self.mark(admin_log.is_ok(), "reports/v1/activities/list");
        match admin_log {
            Ok(events) => {
                for (product, items) in split_logs(&events, PRODUCTS) {
                    let mut section = Map::new();
                    section.insert("items".into(), Value::Array(items));
                    self.c.record(
                        &format!("{product}_logs"),
                        SCOPE_AUDIT,
                        Ok(Value::Object(section)),
                    );
                }
            }
            Err(e) => {
                for product in PRODUCTS {
                    self.c.record(
                        &format!("{product}_logs"),
                        SCOPE_AUDIT,
                        Err(SectionError::Api(copy_error(&e))),
                    );
                }
            }
        }
    }

    fn people(&mut self, people: People) {
        let People {
            users_ok,
            roles_ok,
            assignments_ok,
            super_admins,
            privileged,
            mamori_users,
        } = people;
        self.mark(users_ok, "directory/v1/users/list");
        self.c.record("super_admins", SCOPE_USER, super_admins);
        self.mark(roles_ok, "directory/v1/roles/list");
        self.mark(assignments_ok, "directory/v1/roleAssignments/list");
        let privileged_permission = format!("{SCOPE_USER}, {SCOPE_ROLE} and {SCOPE_GROUP}");
        match privileged {
            Ok(list) => {
                self.c.record(
                    "privileged_users",
                    &privileged_permission,
                    Ok(Value::Array(list)),
                );
                self.c
                    .data
                    .insert("privileged_users_error".into(), Value::Null);
            }
            Err(e) => {
                self.c.record(
                    "privileged_users",
                    &privileged_permission,
                    Err(SectionError::Api(e)),
                );
                let reason = self.failure_reason("privileged_users");
                self.c
                    .data
                    .insert("privileged_users_error".into(), json!(reason));
            }
        }
        self.c.record(
            "mamori_users",
            &format!("{SCOPE_USER}, {SCOPE_ROLE}, {SCOPE_GROUP} and {SCOPE_USAGE}"),
            mamori_users,
        );
    }

    fn oauth_tokens(&mut self, token_log: &Result<Vec<Value>, ApiError>) {
        self.c.record(
            "mamori_oauth_tokens",
            SCOPE_AUDIT,
            token_log
                .as_ref()
                .map(|t| Value::Array(build_tokens(t)))
                .map_err(|e| SectionError::Api(copy_error(e))),
        );
    }

    fn domain_wide_delegation(
        &mut self,
        config: &GwsConfig,
        dwd_log: &Result<Vec<Value>, ApiError>,
    ) {
        match &config.domain_wide_delegation {
            Some(list) => {
                self.c.record(
                    "mamori_domain_wide_delegation",
                    "the operator's export",
                    Ok(json!(list)),
                );
            }
            None => {
                self.c.record(
                    "mamori_domain_wide_delegation",
                    SCOPE_AUDIT,
                    dwd_log
                        .as_ref()
                        .map(|e| Value::Array(build_dwd(e)))
                        .map_err(|e| SectionError::Api(copy_error(e))),
                );
            }
        }
    }

    fn inbound_sso(&mut self, sso: Result<Vec<Value>, ApiError>) {
        self.mark(sso.is_ok(), "cloudidentity/v1/inboundSsoAssignments/list");
        match sso {
            Ok(list) => {
                self.c
                    .record("inbound_sso_assignments", SCOPE_SSO, Ok(Value::Array(list)));
                self.c
                    .data
                    .insert("inbound_sso_assignments_error".into(), Value::Null);
            }
            Err(e) => {
                self.c.record(
                    "inbound_sso_assignments",
                    SCOPE_SSO,
                    Err(SectionError::Api(e)),
                );
                let reason = self.failure_reason("inbound_sso_assignments");
                self.c
                    .data
                    .insert("inbound_sso_assignments_error".into(), json!(reason));
            }
        }
    }

    fn licences(&mut self, licences: Result<Vec<Value>, ApiError>) {
        self.mark(
            licences.is_ok(),
            "licensing/v1/product/{productId}/sku/{skuId}/users/list",
        );
        self.c.record(
            "license_data",
            SCOPE_LICENSING,
            licences.map(Value::from).map_err(SectionError::Api),
        );
    }

    fn group_settings(
        &mut self,
        groups: &Result<(), ApiError>,
        settings: Result<Vec<Value>, ApiError>,
    ) {
        match (groups, settings) {
            (Ok(_), Ok(list)) => {
                self.mark(true, "groups-settings/v1/groups/get");
                self.c.record(
                    "group_settings",
                    SCOPE_GROUPS_SETTINGS,
                    Ok(Value::Array(list)),
                );
            }
            (Err(e), _) => {
                self.mark(false, "groups-settings/v1/groups/get");
                self.c.record(
                    "group_settings",
                    SCOPE_GROUP,
                    Err(SectionError::Api(copy_error(e))),
                );
            }
            (_, Err(e)) => {
                self.mark(false, "groups-settings/v1/groups/get");
                self.c.record(
                    "group_settings",
                    SCOPE_GROUPS_SETTINGS,
                    Err(SectionError::Api(e)),
                );
            }
        }
    }

    fn dns(&mut self, dns: Option<Vec<DnsSection>>) {
        match dns {
            Some(records) => {
                for (key, call, result) in records {
                    self.mark(result.is_ok(), call);
                    self.c.record(key, "DNS (TXT lookups)", result);
                }
            }
            None => {
                for key in ["spf_records", "dkim_records", "dmarc_records"] {
                    self.c.record(
                        key,
                        SCOPE_DOMAIN,
                        Err(SectionError::Other(
                            "the domain list could not be read (see domains)".into(),
                        )),
                    );
                }
            }
        }
    }

    /// What ScubaGoggles' orchestrator adds, and the collection time.
    fn finish(mut self, config: &GwsConfig, collected_at: &str) -> Collection {
        let d = &mut self.c.data;
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
                "baselines": PRODUCTS,
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
            json!(self.ok_calls.iter().collect::<Vec<_>>()),
        );
        d.insert(
            "unsuccessful_calls".into(),
            json!(self.failed_calls.iter().collect::<Vec<_>>()),
        );
        self.c
    }

    fn failure_reason(&self, section: &str) -> String {
        self.c
            .outcomes
            .get(section)
            .and_then(|o| o.reason.clone())
            .unwrap_or_default()
    }
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
