//! Admin SDK Directory: organisational units, groups with their Groups Settings, and the
//! customer with its domains and what needs them (inbound SSO, licences, DNS).

use super::client::{
    blocking, copy_error, enc, google_pages, joined, spawn, text, Client, Task, SCOPE_CUSTOMER,
    SCOPE_DOMAIN, SCOPE_GROUP, SCOPE_GROUPS_SETTINGS, SCOPE_ORGUNIT,
};
use super::cloud_identity::{fetch_sso, map_policies};
use super::config::GwsConfig;
use super::dns::{dns_records, DnsSection};
use super::licensing::fetch_licences;
use crate::collection::SectionError;
use crate::http::ApiError;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The group list, and the task that reads the groups' settings (none if the list failed).
pub(super) type GroupsAndSettings = (
    Result<Vec<Value>, ApiError>,
    Option<Task<Result<Vec<Value>, ApiError>>>,
);

/// What the organisational units, the group list and the policies give.
pub(super) struct Directory {
    pub(super) orgunits: Result<Value, ApiError>,
    pub(super) top_ou: Option<String>,
    pub(super) unit_names: Option<Value>,
    pub(super) policies: Result<(Value, Vec<String>), SectionError>,
    pub(super) groups: Result<(), ApiError>,
    pub(super) settings: Result<Vec<Value>, ApiError>,
}

/// The organisational units, the group list and the policies, then the group settings.
pub(super) async fn collect(
    client: &Client,
    groups_task: Task<GroupsAndSettings>,
    policies_task: Task<Result<Vec<Value>, ApiError>>,
) -> Directory {
    // The units, the group list and the policies are mapped (off the runtime's threads) while
    // the group settings are still being read.
    let (orgunits, (groups, settings_task), raw_policies) = tokio::join!(
        fetch_orgunits(client),
        joined(groups_task),
        joined(policies_task)
    );
    let mut directory = blocking(move || map_directory(orgunits, groups, raw_policies)).await;
    directory.settings = match settings_task {
        Some(task) => joined(task).await,
        None => Ok(Vec::new()),
    };
    directory
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

/// The groups, and their settings: Groups Settings has no list call, so one GET per group, in
/// the groups' order. The GETs start as each page of the group list arrives and go through a
/// gate of [`Client::bulk_width`], so they keep the limiter busy without queueing ahead of
/// other sections. The list is answered as soon as it is complete; the settings come from the
/// returned task.
pub(super) async fn fetch_groups_and_settings(client: Arc<Client>) -> GroupsAndSettings {
    let url = client.dir(&format!(
        "groups?customer={}&maxResults=200&fields={}",
        enc(&client.customer),
        enc("nextPageToken,groups(id,email,name)")
    ));
    let gate = Arc::new(tokio::sync::Semaphore::new(client.bulk_width.max(1)));
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

/// The customer, its domains, and what needs them: inbound SSO, licences and DNS.
pub(super) struct TenantPart {
    pub(super) customer: Result<Value, ApiError>,
    pub(super) domains: Result<Value, ApiError>,
    pub(super) aliases: Result<Value, ApiError>,
    pub(super) domain_list: Result<(Vec<String>, Option<String>), SectionError>,
    pub(super) alias_list: Result<Vec<String>, SectionError>,
    pub(super) customer_id: Option<String>,
    pub(super) primary_domain: Option<String>,
    pub(super) sso: Result<Vec<Value>, ApiError>,
    pub(super) licences: Result<Vec<Value>, ApiError>,
    pub(super) dns: Option<Vec<DnsSection>>,
}

pub(super) async fn fetch_tenant(client: &Client, config: &GwsConfig) -> TenantPart {
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
        fetch_sso(client, &sso_customer),
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
