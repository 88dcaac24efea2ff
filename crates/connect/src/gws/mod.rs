//! Google Workspace: a service account with domain-wide delegation reads the Admin SDK,
//! Cloud Identity, Groups Settings and Licensing APIs (and DNS) into the ScubaGoggles provider
//! schema that packs/gws reads, plus Mamori's `mamori_*` sections.
//!
//! - `client`: the service account's tokens (one per scope) and the shared plumbing.
//! - `directory`: organisational units, groups and their settings, the customer and domains.
//! - `users`: users, admin roles, privileged users and `mamori_users`.
//! - `cloud_identity`: the Policy API's settings and inbound SSO.
//! - `reports`: the admin audit log, OAuth token and delegation history, the usage report.
//! - `licensing`, `dns`: licence counts; SPF, DKIM and DMARC records.
//! - `scubagoggles`: everything above as the provider export's sections.
//!
//! Calls use the maximum page sizes and `fields` partial responses; independent sections run
//! concurrently (the [`Api`](crate::http::Api) limiter bounds the requests in flight). One token
//! is requested per scope, so a scope the administrator did not delegate fails only the sections
//! that need it.

pub mod client;
mod cloud_identity;
pub mod config;
mod directory;
mod dns;
mod licensing;
mod reports;
mod scubagoggles;
mod users;

pub use client::{CollectError, SCOPES};
pub use config::{GwsConfig, GwsEndpoints};

use crate::collection::{now_rfc3339, Collected};
use crate::http::HttpSettings;
use crate::stats::Observer;
use client::{joined, spawn, Client};
use std::sync::Arc;
use std::time::Instant;

/// Collects one Google Workspace tenant into the ScubaGoggles provider schema.
pub async fn collect(
    config: &GwsConfig,
    settings: HttpSettings,
    observer: Option<Arc<dyn Observer>>,
) -> Result<Collected, CollectError> {
    let started = Instant::now();
    let collected_at = now_rfc3339();
    let client = Client::connect(config, settings, observer).await?;

    // Every section starts as soon as what it needs is there. The long paging chains and the
    // group settings run as tasks (their JSON is parsed on every core).
    let groups = spawn(directory::fetch_groups_and_settings(client.clone()));
    let users = spawn(users::fetch_users(client.clone()));
    let roles = spawn(users::fetch_roles(client.clone()));
    let policies = spawn(cloud_identity::fetch_policies(client.clone()));
    let usage = spawn(reports::fetch_usage(client.clone()));
    let admin_log = spawn(reports::fetch_admin_log(client.clone()));
    let token_log = spawn(reports::fetch_token_log(client.clone()));
    let dwd_log = spawn(reports::fetch_dwd_log(
        client.clone(),
        config.domain_wide_delegation.is_none(),
    ));

    let (directory, tenant, people, admin_log, token_log, dwd_log) = tokio::join!(
        directory::collect(&client, groups, policies),
        directory::fetch_tenant(&client, config),
        users::collect(&client, users, roles, usage),
        joined(admin_log),
        joined(token_log),
        joined(dwd_log),
    );
    let tenant_name = tenant.primary_domain.clone().unwrap_or_else(|| {
        config
            .subject
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_string()
    });
    let parts = scubagoggles::Parts {
        directory,
        tenant,
        people,
        admin_log,
        token_log,
        dwd_log,
    };
    Ok(Collected {
        schema: mamori_core::snapshot::SourceKind::Scubagoggles,
        tenant: tenant_name,
        collection: scubagoggles::export(config, parts, &collected_at),
        stats: client.base.stats().snapshot(),
        elapsed: started.elapsed(),
        collected_at,
    })
}
