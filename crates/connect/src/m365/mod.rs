//! Microsoft 365: fills the ScubaGear provider export schema, so the m365 pack evaluates a
//! collected tenant unchanged.
//!
//! - `graph`: Microsoft Entra ID through Microsoft Graph (beta, as ScubaGear reads it).
//! - `admin`: Exchange Online and Defender (the Exchange admin API's `InvokeCommand`),
//!   SharePoint (`_api/SPO.Tenant`), Teams, Power Platform and Power BI admin APIs, and the
//!   e-mail DNS records.

pub mod admin;
pub mod config;
pub mod graph;

pub use config::{M365Config, M365Endpoints};

use crate::auth::{AuthError, MsClientAuth, TokenRequest, TokenSource};
use crate::collection::{now_rfc3339, Collected, Collection, SectionError};
use crate::http::{Api, HttpSettings};
use crate::stats::{Event, Observer};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("invalid Microsoft 365 configuration: {0}")]
    Config(String),
    #[error("cannot sign in to the tenant: {0}")]
    Auth(#[from] AuthError),
    #[error("cannot read the tenant's organization: {0}")]
    Organization(String),
}

/// One provider section's result, with the ScubaGear command that stands for it.
pub struct SectionResult {
    pub section: String,
    /// Permission or role the section needs (for the failure reason and the docs).
    pub permission: &'static str,
    /// `aad`, `exo`, `securitysuite`, `SharePoint`, `teams`, `powerplatform`, `powerbi`.
    pub product: &'static str,
    /// ScubaGear command names recorded in `<product>_successful_commands` (or unsuccessful).
    pub commands: &'static [&'static str],
    pub result: Result<Value, SectionError>,
}

impl SectionResult {
    pub fn new(
        section: &str,
        product: &'static str,
        permission: &'static str,
        commands: &'static [&'static str],
        result: Result<Value, SectionError>,
    ) -> Self {
        SectionResult {
            section: section.to_string(),
            permission,
            product,
            commands,
            result,
        }
    }
}

/// What every part of the collection shares.
pub struct M365Context {
    pub config: M365Config,
    pub base: Api,
    /// Graph, authenticated.
    pub graph: Api,
    /// The directory id (GUID).
    pub tenant_id: String,
    /// The initial `*.onmicrosoft.com` domain.
    pub initial_domain: String,
    /// Verified domains.
    pub domains: Vec<String>,
    /// Names of the tenant's successfully provisioned service plans.
    pub service_plans: Vec<String>,
}

impl M365Context {
    /// An API client for another resource, sharing the tenant's limiter and accounting.
    pub fn api_for(&self, scope: &str) -> Api {
        self.base
            .with_auth(Arc::new(token_source(&self.config, scope)))
    }

    pub fn graph_url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.config.endpoints.graph.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// The SharePoint tenant name (`contoso` of contoso.onmicrosoft.com).
    pub fn sharepoint_tenant(&self) -> String {
        self.config.sharepoint_tenant.clone().unwrap_or_else(|| {
            self.initial_domain
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string()
        })
    }

    pub fn has_plan(&self, name: &str) -> bool {
        self.service_plans.iter().any(|p| p == name)
    }
}

pub(crate) fn token_source(config: &M365Config, scope: &str) -> TokenSource {
    let auth = match (
        &config.certificate_private_key,
        &config.certificate_thumbprint,
        &config.client_secret,
    ) {
        (Some(key), Some(thumb), _) => MsClientAuth::Certificate {
            private_key_pem: key.clone(),
            thumbprint_sha1_hex: thumb.clone(),
        },
        (_, _, Some(secret)) => MsClientAuth::Secret(secret.clone()),
        // validate() rules this out; an empty secret gets a clear rejection from the server.
        _ => MsClientAuth::Secret(crate::redact::Secret::new(String::new())),
    };
    TokenSource::new(TokenRequest::MsClientCredentials {
        authority: config.endpoints.login.clone(),
        tenant: config.tenant_id.clone(),
        client_id: config.client_id.clone(),
        auth,
        scope: scope.to_string(),
    })
}

/// Collects the tenant. Bad credentials fail here, before any section; a section that cannot be
/// read is recorded as failed and the rest is still collected.
pub async fn collect(
    config: &M365Config,
    settings: HttpSettings,
    observer: Option<Arc<dyn Observer>>,
) -> Result<Collected, CollectError> {
    let started = std::time::Instant::now();
    let mut config = config.clone();
    config.validate().map_err(CollectError::Config)?;
    let base = Api::new(settings, observer);
    let graph = base.with_auth(Arc::new(token_source(&config, config::scopes::GRAPH)));
    graph.check_auth().await?;

    let observer = base.observer().clone();
    observer.event(&Event::SectionStarted {
        section: "tenant_details",
    });
    let org_url = format!(
        "{}/beta/organization",
        config.endpoints.graph.trim_end_matches('/')
    );
    let orgs = graph
        .odata_list("tenant_details", crate::http::Call::get(org_url))
        .await
        .map_err(|e| CollectError::Organization(e.to_string()))?;
    let org = orgs
        .into_iter()
        .next()
        .ok_or_else(|| CollectError::Organization("Graph returned no organization".into()))?;
    observer.event(&Event::SectionFinished {
        section: "tenant_details",
        ok: true,
    });
    let tenant_id = org
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let verified = org
        .get("verifiedDomains")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let initial_domain = verified
        .iter()
        .find(|d| d.get("isInitial").and_then(Value::as_bool) == Some(true))
        .and_then(|d| d.get("name").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let domains: Vec<String> = verified
        .iter()
        .filter_map(|d| d.get("name").and_then(Value::as_str).map(str::to_string))
        .collect();

    let mut collection = Collection::default();
    let mut results = Vec::new();
    let tenant_details = json!([{
        "DisplayName": org.get("displayName").cloned().unwrap_or(Value::Null),
        "DomainName": initial_domain,
        "TenantId": tenant_id,
        "AADAdditionalData": [graph::pascal_case(&org)],
    }]);
    results.push(SectionResult::new(
        "tenant_details",
        "aad",
        "Organization.Read.All",
        &["Get-MgBetaOrganization"],
        Ok(tenant_details),
    ));
    results.push(SectionResult::new(
        "tenant_id",
        "powerplatform",
        "Organization.Read.All",
        &["Get-MgBetaOrganization"],
        Ok(json!(tenant_id)),
    ));

    // Subscribed SKUs first: which products the tenant has decides what else is read.
    let (skus, plans) = graph::subscribed_skus(&graph, &config).await;
    let service_plans: Vec<String> = match &plans {
        Ok(v) => v
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p["ServicePlanName"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    results.push(SectionResult::new(
        "license_information",
        "aad",
        "Organization.Read.All",
        &["Get-MgBetaSubscribedSku"],
        skus,
    ));
    results.push(SectionResult::new(
        "service_plans",
        "aad",
        "Organization.Read.All",
        &["Get-MgBetaSubscribedSku"],
        plans,
    ));

    let ctx = M365Context {
        config,
        base,
        graph,
        tenant_id: tenant_id.clone(),
        initial_domain: initial_domain.clone(),
        domains,
        service_plans,
    };
    let (aad, exo, security, sharepoint, teams, power_platform, power_bi) = tokio::join!(
        graph::collect(&ctx),
        admin::collect_exchange(&ctx),
        admin::collect_security_suite(&ctx),
        admin::collect_sharepoint(&ctx),
        admin::collect_teams(&ctx),
        admin::collect_power_platform(&ctx),
        admin::collect_power_bi(&ctx),
    );
    results.extend(aad);
    results.extend(exo);
    results.extend(security);
    results.extend(sharepoint);
    results.extend(teams);
    results.extend(power_platform);
    results.extend(power_bi);

    // `<product>_successful_commands` tells the packs which products ran; a command is
    // successful only if every section it stands for was collected.
    let mut succeeded: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut failed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in results {
        let ok = collection.record(&r.section, r.permission, r.result);
        ctx.base.observer().event(&Event::SectionFinished {
            section: &r.section,
            ok,
        });
        for command in r.commands {
            let list = if ok {
                succeeded.entry(r.product).or_default()
            } else {
                failed.entry(r.product).or_default()
            };
            if !list.contains(command) {
                list.push(command);
            }
            succeeded.entry(r.product).or_default();
            failed.entry(r.product).or_default();
        }
    }
    for (product, failed_commands) in &failed {
        if let Some(list) = succeeded.get_mut(product) {
            list.retain(|c| !failed_commands.contains(c));
        }
    }
    for (product, list) in succeeded {
        collection
            .data
            .insert(format!("{product}_successful_commands"), json!(list));
    }
    for (product, list) in failed {
        collection
            .data
            .insert(format!("{product}_unsuccessful_commands"), json!(list));
    }
    // Keys of the provider export that describe the run rather than the tenant.
    let collected_at = now_rfc3339();
    collection
        .data
        .insert("module_version".into(), json!("1.8.0"));
    collection
        .data
        .insert("baseline_version".into(), json!("1"));
    collection
        .data
        .insert("timestamp_zulu".into(), json!(collected_at));
    collection
        .data
        .insert("mamori_collected_at".into(), json!(collected_at));
    collection.data.insert("scuba_config".into(), json!({}));

    Ok(Collected {
        schema: mamori_core::snapshot::SourceKind::Scubagear,
        tenant: if initial_domain.is_empty() {
            tenant_id
        } else {
            initial_domain
        },
        collection,
        stats: ctx.base.stats().snapshot(),
        elapsed: started.elapsed(),
        collected_at,
    })
}
