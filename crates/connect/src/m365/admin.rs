//! Exchange Online, Defender (security suite), SharePoint, Teams, Power Platform and Power BI
//! admin APIs, and the e-mail DNS records.
//!
//! - Exchange Online and the security suite run cmdlets through the Exchange admin API's
//!   `POST /adminapi/beta/{tenant}/InvokeCommand` (the REST transport of the
//!   ExchangeOnlineManagement v3 module); the Purview cmdlets (DLP, alerts, audit retention) go
//!   to the same API on the compliance host. Pages are followed by posting the same body to
//!   `@odata.nextLink`. The endpoint discovery (`EXOModuleFile` redirect) is not done: the
//!   configured base URL is used as is.
//! - SPF, DKIM and DMARC are TXT lookups of every accepted domain against the configured DNS
//!   server, in the shapes ScubaGear's `Get-Scuba*Record` write.
//! - SharePoint: `GET _api/SPO.Tenant` (certificate credentials only).
//! - Teams: the configuration API of the MicrosoftTeams module. **Undocumented**; the paths
//!   are the ones ScubaGear's newer TeamsRestHelper uses for meeting policies, extended by
//!   analogy (see `TEAMS`).
//! - Power Platform: the BAP admin API, mapped back to ScubaGear's `*Rest` output.
//! - Power BI: the Fabric/Power BI admin `tenantsettings` API.
//!
//! Independent calls run concurrently (the tenant-wide limiter in `Api` bounds them).

use super::config::scopes;
use super::{M365Context, SectionResult};
use crate::collection::SectionError;
use crate::dns::{DnsError, Resolver, TxtAnswer};
use crate::http::{Api, ApiError, Call};
use serde_json::{json, Map, Value};
use std::future::Future;
use std::sync::Arc;

const EXO_PERMISSION: &str =
    "Exchange.ManageAsApp (Office 365 Exchange Online) and the Global Reader role";
const DNS_PERMISSION: &str = "DNS resolution of the accepted domains (no API permission)";
const SPO_PERMISSION: &str =
    "Sites.FullControl.All (SharePoint application permission) with a certificate credential";
const TEAMS_PERMISSION: &str = "the Global Reader or Teams Administrator role";
const PP_PERMISSION: &str =
    "registration as a Power Platform management app (New-PowerAppManagementApp)";
const PBI_PERMISSION: &str = "the Power BI setting \"Service principals can access read-only admin APIs\" for the app's security group";

/// One InvokeCommand: the cmdlet, the ScubaGear commands it stands for, the export section.
type Cmdlet = (&'static str, &'static [&'static str], &'static str);

const EXCHANGE: &[Cmdlet] = &[
    ("Get-RemoteDomain", &["Get-RemoteDomain"], "remote_domains"),
    (
        "Get-DkimSigningConfig",
        &["Get-DkimSigningConfig"],
        "dkim_config",
    ),
    (
        "Get-TransportConfig",
        &["Get-TransportConfig"],
        "transport_config",
    ),
    (
        "Get-SharingPolicy",
        &["Get-SharingPolicy"],
        "sharing_policy",
    ),
    (
        "Get-TransportRule",
        &["Get-TransportRule"],
        "transport_rule",
    ),
    (
        "Get-OrganizationConfig",
        &["Get-OrganizationConfig"],
        "org_config",
    ),
    (
        "Get-HostedConnectionFilterPolicy",
        &["Get-HostedConnectionFilterPolicy"],
        "conn_filter",
    ),
    (
        "Get-InboundConnector",
        &["Get-InboundConnector"],
        "inbound_connectors",
    ),
    (
        "Get-OutboundConnector",
        &["Get-OutboundConnector"],
        "outbound_connectors",
    ),
    (
        "Get-IntraOrganizationConnector",
        &["Get-IntraOrganizationConnector"],
        "intra_org_connectors",
    ),
    (
        "Get-OrganizationRelationship",
        &["Get-OrganizationRelationship"],
        "org_relationships",
    ),
];

const ACCEPTED_DOMAINS: Cmdlet = (
    "Get-AcceptedDomain",
    &["Get-AcceptedDomain"],
    "accepted_domains",
);

/// Exchange Online Protection cmdlets of the security suite (every tenant has them).
const SECURITY_EOP: &[Cmdlet] = &[
    (
        "Get-AdminAuditLogConfig",
        &["Get-AdminAuditLogConfig"],
        "admin_audit_log_config",
    ),
    (
        "Get-EOPProtectionPolicyRule",
        &["Get-EOPProtectionPolicyRule"],
        "protection_policy_rules",
    ),
    (
        "Get-AntiPhishPolicy",
        &["Get-AntiPhishPolicy"],
        "anti_phish_policies",
    ),
    (
        "Get-AntiPhishRule",
        &["Get-AntiPhishRule"],
        "anti_phish_rules",
    ),
    (
        "Get-AcceptedDomain",
        &["Get-AcceptedDomain"],
        "accepted_domains",
    ),
    (
        "Get-HostedConnectionFilterPolicy",
        &["Get-HostedConnectionFilterPolicy"],
        "conn_filter",
    ),
    (
        "Get-HostedContentFilterPolicy",
        &["Get-HostedContentFilterPolicy"],
        "hosted_content_filter_policies",
    ),
    (
        "Get-HostedContentFilterRule",
        &["Get-HostedContentFilterRule"],
        "hosted_content_filter_rules",
    ),
    (
        "Get-MalwareFilterPolicy",
        &["Get-MalwareFilterPolicy"],
        "anti_malware_policies",
    ),
    (
        "Get-MalwareFilterRule",
        &["Get-MalwareFilterRule"],
        "anti_malware_rules",
    ),
];

/// Defender for Office 365 cmdlets: absent ("not recognized") without the licence.
const SECURITY_ATP: &[Cmdlet] = &[
    (
        "Get-AtpPolicyForO365",
        &["Get-AtpPolicyForO365"],
        "atp_policy_for_o365",
    ),
    (
        "Get-ATPProtectionPolicyRule",
        &["Get-ATPProtectionPolicyRule"],
        "atp_policy_rules",
    ),
    (
        "Get-ATPBuiltInProtectionRule",
        &["Get-ATPBuiltInProtectionRule"],
        "built_in_protection_rules",
    ),
    (
        "Get-SafeAttachmentPolicy",
        &["Get-SafeAttachmentPolicy"],
        "safe_attachment_policies",
    ),
    (
        "Get-SafeAttachmentRule",
        &["Get-SafeAttachmentRule"],
        "safe_attachment_rules",
    ),
    (
        "Get-SafeLinksPolicy",
        &["Get-SafeLinksPolicy"],
        "safe_links_policies",
    ),
    (
        "Get-SafeLinksRule",
        &["Get-SafeLinksRule"],
        "safe_links_rules",
    ),
];

/// Security & Compliance (Purview) cmdlets; the DLP ones are absent without a DLP licence.
const SECURITY_COMPLIANCE: &[Cmdlet] = &[
    (
        "Get-DlpCompliancePolicy",
        &["Get-DlpCompliancePolicy"],
        "dlp_compliance_policies",
    ),
    (
        "Get-DlpComplianceRule",
        &["Get-DlpComplianceRule"],
        "dlp_compliance_rules",
    ),
    (
        "Get-ProtectionAlert",
        &["Get-ProtectionAlert"],
        "protection_alerts",
    ),
    (
        "Get-UnifiedAuditLogRetentionPolicy",
        &["Get-UnifiedAuditLogRetentionPolicy"],
        "unified_audit_log_retention_policies",
    ),
];

/// Get-OrganizationConfig is projected to these properties, as ScubaGear does.
const ORG_CONFIG_FIELDS: &[&str] = &[
    "Name",
    "DisplayName",
    "AuditDisabled",
    "HybridConfigurationStatus",
    "OAuth2ClientProfileEnabled",
    "DefaultAuthenticationPolicy",
    "SendFromAliasEnabled",
    "ConnectorsEnabled",
    "ConnectorsEnabledForTeams",
    "CustomerLockboxEnabled",
    "SmtpActionableMessagesEnabled",
    "ActivityBasedAuthenticationTimeoutEnabled",
    "ActivityBasedAuthenticationTimeoutInterval",
    "BookingsEnabled",
];

/// Teams configuration paths (undocumented API), commands and sections.
const TEAMS: &[(&str, &[&str], &str)] = &[
    (
        "Teams.Tenant/tenants",
        &["Get-CsTenant"],
        "teams_tenant_info",
    ),
    (
        "Skype.Policy/configurations/TeamsMeetingPolicy",
        &["Get-CsTeamsMeetingPolicy"],
        "meeting_policies",
    ),
    (
        "Skype.Policy/configurations/TenantFederationSettings",
        &["Get-CsTenantFederationConfiguration"],
        "federation_configuration",
    ),
    (
        "Skype.Policy/configurations/TeamsClientConfiguration",
        &["Get-CsTeamsClientConfiguration"],
        "client_configuration",
    ),
    (
        "Skype.Policy/configurations/TeamsAppPermissionPolicy",
        &["Get-CsTeamsAppPermissionPolicy"],
        "app_policies",
    ),
    (
        "Skype.Policy/configurations/TeamsMeetingBroadcastPolicy",
        &["Get-CsTeamsMeetingBroadcastPolicy"],
        "broadcast_policies",
    ),
    (
        "Teams.Tenant/unifiedTenantSettings",
        &["Get-M365UnifiedTenantSettings"],
        "tenant_app_settings",
    ),
];

/// Runs futures concurrently (as tasks) and returns their outputs in order.
async fn join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    let count = futures.len();
    for (i, f) in futures.into_iter().enumerate() {
        set.spawn(async move { (i, f.await) });
    }
    let mut out: Vec<Option<F::Output>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, v)) => out[i] = Some(v),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    out.into_iter()
        .map(|v| v.expect("every task finished"))
        .collect()
}

// ------------------------------------------------------------------------------------------
// InvokeCommand.

type CmdletOutput = Result<Vec<Value>, ApiError>;

/// One InvokeCommand endpoint (Exchange or compliance host).
struct Invoker {
    api: Api,
    url: String,
    anchor: String,
}

impl Invoker {
    fn new(ctx: &M365Context, base: &str, scope: &str) -> Arc<Self> {
        Arc::new(Invoker {
            api: ctx.api_for(scope),
            url: format!(
                "{}/adminapi/beta/{}/InvokeCommand",
                base.trim_end_matches('/'),
                ctx.tenant_id
            ),
            anchor: format!(
                "UPN:SystemMailbox{{bb558c35-97f1-4cb9-8ff7-d53741dc928c}}@{}",
                ctx.initial_domain
            ),
        })
    }

    /// Every object the cmdlet returns, following `@odata.nextLink` with the same body.
    async fn run(&self, section: &str, cmdlet: &str) -> Result<Vec<Value>, ApiError> {
        let body = json!({"CmdletInput": {"CmdletName": cmdlet, "Parameters": {}}});
        let mut url = self.url.clone();
        let mut items = Vec::new();
        let mut seen = std::collections::HashSet::new();
        loop {
            let request_id = guid();
            let headers = [
                ("Prefer", "odata.maxpagesize=1000"),
                ("X-ResponseFormat", "json"),
                ("X-AnchorMailbox", self.anchor.as_str()),
                ("client-request-id", request_id.as_str()),
            ];
            let mut page = self
                .api
                .json(section, Call::post(url.clone(), &body).headers(&headers))
                .await?;
            match page.get_mut("value").map(Value::take) {
                Some(Value::Array(values)) => {
                    items.extend(values.into_iter().filter(|v| !v.is_null()))
                }
                Some(Value::Null) | None => {}
                Some(_) => {
                    return Err(ApiError::Malformed {
                        url,
                        message: "`value` is not an array".into(),
                    })
                }
            }
            match page.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) if seen.insert(next.to_string()) => url = next.to_string(),
                _ => return Ok(items),
            }
        }
    }

    /// Runs cmdlets concurrently; the results in the order given.
    async fn run_all(self: &Arc<Self>, cmdlets: &[Cmdlet]) -> Vec<Result<Vec<Value>, ApiError>> {
        let futures: Vec<_> = cmdlets
            .iter()
            .map(|(cmdlet, _, section)| {
                let me = self.clone();
                let (cmdlet, section) = (*cmdlet, *section);
                async move { me.run(section, cmdlet).await }
            })
            .collect();
        join_all(futures).await
    }
}

fn guid() -> String {
    let mut b = [0u8; 16];
    crate::http::fill_random(&mut b);
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

/// A cmdlet the tenant has no licence for is simply not there.
fn not_recognized(e: &ApiError) -> bool {
    matches!(e, ApiError::Status { status: 400, message: Some(m), .. } if m.contains("is not recognized"))
}

fn project_org_config(items: Vec<Value>) -> Vec<Value> {
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(map) => Value::Object(
                ORG_CONFIG_FIELDS
                    .iter()
                    .filter_map(|k| map.get(*k).map(|v| (k.to_string(), v.clone())))
                    .collect(),
            ),
            other => other,
        })
        .collect()
}

fn result_of(section: &str, r: Result<Vec<Value>, ApiError>) -> Result<Value, SectionError> {
    match r {
        Ok(items) if section == "org_config" => Ok(Value::Array(project_org_config(items))),
        Ok(items) => Ok(Value::Array(items)),
        Err(e) => Err(e.into()),
    }
}

// ------------------------------------------------------------------------------------------
// Exchange Online and DNS.

pub async fn collect_exchange(ctx: &M365Context) -> Vec<SectionResult> {
    let exo = Invoker::new(ctx, &ctx.config.endpoints.exchange, scopes::EXCHANGE);
    let resolver = Resolver::new(ctx.config.dns_server);
    let dns_part = async {
        let accepted = exo.run(ACCEPTED_DOMAINS.2, ACCEPTED_DOMAINS.0).await;
        let dns = match &accepted {
            Ok(items) => {
                let domains: Vec<(String, bool)> = items
                    .iter()
                    .filter_map(|d| {
                        let name = d
                            .get("DomainName")
                            .and_then(Value::as_str)?
                            .trim_end_matches('.')
                            .to_string();
                        let coexistence = d.get("IsCoexistenceDomain").and_then(Value::as_bool)
                            == Some(true)
                            || name.to_ascii_lowercase().ends_with(".mail.onmicrosoft.com");
                        Some((name, coexistence))
                    })
                    .collect();
                Ok(email_records(&resolver, &domains).await)
            }
            Err(e) => Err(format!(
                "the accepted domains (Get-AcceptedDomain) could not be read: {e}"
            )),
        };
        (accepted, dns)
    };
    let ((accepted, dns), others) = tokio::join!(dns_part, exo.run_all(EXCHANGE));

    let mut results = vec![SectionResult::new(
        ACCEPTED_DOMAINS.2,
        "exo",
        EXO_PERMISSION,
        ACCEPTED_DOMAINS.1,
        result_of(ACCEPTED_DOMAINS.2, accepted),
    )];
    for ((_, commands, section), r) in EXCHANGE.iter().zip(others) {
        results.push(SectionResult::new(
            section,
            "exo",
            EXO_PERMISSION,
            commands,
            result_of(section, r),
        ));
    }
    let (spf, dkim, dmarc) = match dns {
        Ok((spf, dkim, dmarc)) => (spf, dkim, dmarc),
        Err(why) => (
            Err(SectionError::Other(why.clone())),
            Err(SectionError::Other(why.clone())),
            Err(SectionError::Other(why)),
        ),
    };
    results.push(SectionResult::new(
        "spf_records",
        "exo",
        DNS_PERMISSION,
        &["Get-ScubaSpfRecord"],
        spf,
    ));
    results.push(SectionResult::new(
        "dkim_records",
        "exo",
        DNS_PERMISSION,
        &["Get-ScubaDkimRecord"],
        dkim,
    ));
    results.push(SectionResult::new(
        "dmarc_records",
        "exo",
        DNS_PERMISSION,
        &["Get-ScubaDmarcRecord"],
        dmarc,
    ));
    results
}

type DnsResult = Result<Value, SectionError>;

/// `spf_records`, `dkim_records` and `dmarc_records` of the accepted domains. SPF is read for
/// every domain (coexistence domains included, as ScubaGear does); DKIM and DMARC skip the
/// `*.mail.onmicrosoft.com` coexistence domains.
async fn email_records(
    resolver: &Resolver,
    domains: &[(String, bool)],
) -> (DnsResult, DnsResult, DnsResult) {
    let spf = join_all(
        domains
            .iter()
            .map(|(d, _)| {
                let (r, d) = (resolver.clone(), d.clone());
                async move { spf_record(&r, &d).await }
            })
            .collect(),
    );
    let own: Vec<String> = domains
        .iter()
        .filter(|(_, co)| !co)
        .map(|(d, _)| d.clone())
        .collect();
    let dkim = join_all(
        own.iter()
            .map(|d| {
                let (r, d) = (resolver.clone(), d.clone());
                async move { dkim_record(&r, &d).await }
            })
            .collect(),
    );
    let dmarc = join_all(
        own.iter()
            .map(|d| {
                let (r, d) = (resolver.clone(), d.clone());
                async move { dmarc_record(&r, &d).await }
            })
            .collect(),
    );
    let (spf, dkim, dmarc) = tokio::join!(spf, dkim, dmarc);
    let gather = |list: Vec<Result<Value, DnsError>>| -> DnsResult {
        list.into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
            .map_err(SectionError::from)
    };
    (gather(spf), gather(dkim), gather(dmarc))
}

/// One TXT query, with its ScubaGear-shape log entry.
async fn logged_txt(
    resolver: &Resolver,
    name: &str,
    log: &mut Vec<Value>,
) -> Result<TxtAnswer, DnsError> {
    match resolver.txt(name).await {
        Ok(answer) => {
            let result = if answer.nxdomain {
                "Query returned NXDomain".to_string()
            } else if answer.records.is_empty() {
                "Query returned 0 txt records".to_string()
            } else {
                format!("Query returned {} txt records", answer.records.len())
            };
            log.push(json!({
                "query_name": name,
                "query_method": "traditional",
                "query_result": result,
                "query_answers": answer.records,
            }));
            Ok(answer)
        }
        Err(e) => {
            log.push(json!({
                "query_name": name,
                "query_method": "traditional",
                "query_result": format!("Query failed: {e}"),
                "query_answers": [],
            }));
            Err(e)
        }
    }
}

async fn spf_record(resolver: &Resolver, domain: &str) -> Result<Value, DnsError> {
    let mut log = Vec::new();
    let answer = logged_txt(resolver, domain, &mut log).await?;
    let spf: Vec<&String> = answer
        .records
        .iter()
        .filter(|r| r.trim_start().to_ascii_lowercase().starts_with("v=spf1 "))
        .collect();
    let compliant = spf.iter().any(|r| {
        let r = r.to_ascii_lowercase();
        r.contains("-all") || r.contains("~all") || r.contains("redirect")
    });
    let message = if compliant {
        "SPF record found."
    } else if !spf.is_empty() {
        "SPF record found, but it does not fail unapproved senders or redirect to one that does."
    } else if !answer.records.is_empty() {
        "Domain name exists but no SPF records returned."
    } else if answer.nxdomain {
        "Domain does not exist."
    } else {
        "Domain name exists but no answers returned."
    };
    Ok(json!({
        "domain": domain,
        "compliant": compliant,
        "message": message,
        "rdata": answer.records,
        "log": log,
    }))
}

async fn dkim_record(resolver: &Resolver, domain: &str) -> Result<Value, DnsError> {
    let dashed = domain.replace('.', "-");
    let names = [
        format!("selector1._domainkey.{domain}"),
        format!("selector2._domainkey.{domain}"),
        format!("selector1-{dashed}._domainkey.{domain}"),
        format!("selector2-{dashed}._domainkey.{domain}"),
    ];
    let mut log = Vec::new();
    let mut rdata = Vec::new();
    for name in &names {
        let answer = logged_txt(resolver, name, &mut log).await?;
        if !answer.records.is_empty() {
            rdata = answer.records;
            break;
        }
    }
    Ok(json!({"domain": domain, "rdata": rdata, "log": log}))
}

async fn dmarc_record(resolver: &Resolver, domain: &str) -> Result<Value, DnsError> {
    let mut log = Vec::new();
    let answer = logged_txt(resolver, &format!("_dmarc.{domain}"), &mut log).await?;
    Ok(json!({"domain": domain, "rdata": answer.records, "log": log}))
}

// ------------------------------------------------------------------------------------------
// Security suite (Defender for Office 365, EOP, Purview).

pub async fn collect_security_suite(ctx: &M365Context) -> Vec<SectionResult> {
    let exo = Invoker::new(ctx, &ctx.config.endpoints.exchange, scopes::EXCHANGE);
    let ipps = Invoker::new(ctx, &ctx.config.endpoints.compliance, scopes::COMPLIANCE);
    let (eop, atp, compliance) = tokio::join!(
        exo.run_all(SECURITY_EOP),
        exo.run_all(SECURITY_ATP),
        ipps.run_all(SECURITY_COMPLIANCE)
    );

    // The licence flags come from whether the first cmdlet of each licensed set exists.
    let licence = |r: &Result<Vec<Value>, ApiError>, what: &str| -> Result<Value, SectionError> {
        match r {
            Ok(_) => Ok(json!(true)),
            Err(e) if not_recognized(e) => Ok(json!(false)),
            Err(e) => Err(SectionError::Other(format!(
                "cannot tell whether the tenant has {what}: {e}"
            ))),
        }
    };
    let defender_license = licence(&atp[0], "Defender for Office 365");
    let dlp_license = licence(&compliance[0], "a DLP licence");

    let mut results = Vec::new();
    let licensed_sets: [(&[Cmdlet], Vec<CmdletOutput>, bool); 3] = [
        (SECURITY_EOP, eop, false),
        (SECURITY_ATP, atp, true),
        (SECURITY_COMPLIANCE, compliance, true),
    ];
    for (cmdlets, outputs, licensed) in licensed_sets {
        for ((cmdlet, commands, section), r) in cmdlets.iter().zip(outputs) {
            let may_be_absent = licensed
                && !cmdlet.starts_with("Get-ProtectionAlert")
                && !cmdlet.starts_with("Get-UnifiedAuditLog");
            let r = match r {
                // Without the licence the cmdlet does not exist: nothing configured.
                Err(e) if may_be_absent && not_recognized(&e) => Ok(Vec::new()),
                other => other,
            };
            results.push(SectionResult::new(
                section,
                "securitysuite",
                EXO_PERMISSION,
                commands,
                result_of(section, r),
            ));
        }
    }
    results.push(SectionResult::new(
        "defender_license",
        "securitysuite",
        EXO_PERMISSION,
        &[],
        defender_license,
    ));
    results.push(SectionResult::new(
        "defender_dlp_license",
        "securitysuite",
        EXO_PERMISSION,
        &[],
        dlp_license,
    ));
    results
}

// ------------------------------------------------------------------------------------------
// SharePoint.

pub async fn collect_sharepoint(ctx: &M365Context) -> Vec<SectionResult> {
    let tenant = ctx.sharepoint_tenant();
    let api = ctx.api_for(&format!("https://{tenant}-admin.sharepoint.com/.default"));
    let url = format!(
        "{}/_api/SPO.Tenant",
        ctx.config
            .endpoints
            .sharepoint_admin
            .replace("{tenant}", &tenant)
            .trim_end_matches('/')
    );
    let headers = [
        ("Accept", "application/json;odata=verbose"),
        ("Content-Type", "application/json;odata=verbose"),
    ];
    let result = api
        .json("SPO_tenant", Call::get(url).headers(&headers))
        .await
        .map_err(SectionError::from)
        .and_then(|mut v| {
            // Verbose OData wraps the object in `d`; ScubaGear emits `[d]`, `__metadata` kept.
            let obj = match v.get_mut("d").map(Value::take) {
                Some(d) => d,
                None => v,
            };
            if obj.is_object() {
                Ok(json!([obj]))
            } else {
                Err(SectionError::Other(
                    "SPO.Tenant answered something other than the tenant object".into(),
                ))
            }
        });
    vec![
        SectionResult::new(
            "SPO_tenant",
            "SharePoint",
            SPO_PERMISSION,
            &["Get-SPOTenantRest"],
            result,
        ),
        SectionResult::new(
            "OneDrive_PnP_Flag",
            "SharePoint",
            SPO_PERMISSION,
            &[],
            Ok(json!(false)),
        ),
    ]
}

// ------------------------------------------------------------------------------------------
// Teams.

/// A configuration answer as a list: an array as is, `{"value":[…]}` unwrapped, an object
/// as a one-item list.
fn as_list(v: Value) -> Value {
    match v {
        Value::Array(_) => v,
        Value::Object(mut map) => match map.remove("value") {
            Some(Value::Array(items)) => Value::Array(items),
            Some(other) => {
                map.insert("value".into(), other);
                json!([Value::Object(map)])
            }
            None => json!([Value::Object(map)]),
        },
        Value::Null => json!([]),
        other => json!([other]),
    }
}

pub async fn collect_teams(ctx: &M365Context) -> Vec<SectionResult> {
    let api = ctx.api_for(scopes::TEAMS);
    let base = ctx.config.endpoints.teams.trim_end_matches('/').to_string();
    let futures: Vec<_> = TEAMS
        .iter()
        .map(|(path, _, section)| {
            let api = api.clone();
            let url = format!("{base}/{path}");
            let section = *section;
            async move { api.get(section, &url).await }
        })
        .collect();
    let outputs = join_all(futures).await;
    TEAMS
        .iter()
        .zip(outputs)
        .map(|((_, commands, section), r)| {
            SectionResult::new(
                section,
                "teams",
                TEAMS_PERMISSION,
                commands,
                r.map(as_list).map_err(SectionError::from),
            )
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// Power Platform.

fn get_or_null(v: &Value, pointer: &str) -> Value {
    v.pointer(pointer).cloned().unwrap_or(Value::Null)
}

/// A BAP environment as ScubaGear's Get-PowerPlatformEnvironmentsRest emits it.
fn environment(e: &Value) -> Value {
    json!({
        "EnvironmentName": get_or_null(e, "/name"),
        "DisplayName": get_or_null(e, "/properties/displayName"),
        "IsDefault": get_or_null(e, "/properties/isDefault"),
        "Location": get_or_null(e, "/location"),
        "EnvironmentType": get_or_null(e, "/properties/environmentSku"),
        "CreatedTime": get_or_null(e, "/properties/createdTime"),
    })
}

const API_GROUPS: &[(&str, &str)] = &[
    ("hbi", "Confidential"),
    ("lbi", "General"),
    ("blocked", "Blocked"),
];

/// A BAP `apiPolicies` item as a DLP policy in the Get-DlpPolicy shape the pack reads.
fn dlp_policy(p: &Value) -> Value {
    let filter = p.pointer("/properties/definition/constraints/environmentFilter1");
    let (environment_type, environments) = match filter {
        None | Some(Value::Null) => ("AllEnvironments", json!([])),
        Some(f) => {
            let include =
                f.pointer("/parameters/filterType").and_then(Value::as_str) == Some("include");
            (
                if include {
                    "OnlyEnvironments"
                } else {
                    "ExceptEnvironments"
                },
                f.pointer("/parameters/environments")
                    .cloned()
                    .unwrap_or(json!([])),
            )
        }
    };
    let groups = p.pointer("/properties/definition/apiGroups");
    let connector_groups: Vec<Value> = API_GROUPS
        .iter()
        .filter_map(|(key, class)| {
            let g = groups?.get(*key)?;
            Some(json!({"classification": class, "connectors": g.get("apis").cloned().unwrap_or(json!([]))}))
        })
        .collect();
    let default_class = p
        .pointer("/properties/definition/defaultApiGroup")
        .and_then(Value::as_str)
        .and_then(|g| API_GROUPS.iter().find(|(k, _)| *k == g))
        .map(|(_, c)| json!(c))
        .unwrap_or(Value::Null);
    let mut out = Map::new();
    out.insert("name".into(), get_or_null(p, "/name"));
    out.insert(
        "displayName".into(),
        get_or_null(p, "/properties/displayName"),
    );
    out.insert("environmentType".into(), json!(environment_type));
    out.insert("environments".into(), environments);
    for k in [
        "createdBy",
        "createdTime",
        "lastModifiedBy",
        "lastModifiedTime",
    ] {
        out.insert(k.into(), get_or_null(p, &format!("/properties/{k}")));
    }
    out.insert("defaultConnectorsClassification".into(), default_class);
    out.insert("connectorGroups".into(), Value::Array(connector_groups));
    Value::Object(out)
}

pub async fn collect_power_platform(ctx: &M365Context) -> Vec<SectionResult> {
    let api = ctx.api_for(scopes::POWER_PLATFORM);
    let base = ctx.config.endpoints.power_platform.trim_end_matches('/');
    let bap = format!("{base}/providers/Microsoft.BusinessAppPlatform");
    let empty = json!({});
    let settings_url = format!("{bap}/listTenantSettings?api-version=2023-06-01");
    let environments_url = format!("{bap}/scopes/admin/environments?api-version=2023-06-01");
    let policies_url = format!("{bap}/scopes/admin/apiPolicies?api-version=2016-11-01");
    let isolation_url = format!(
        "{base}/providers/PowerPlatform.Governance/v1/tenants/{}/tenantIsolationPolicy?api-version=2020-06-01",
        ctx.tenant_id
    );
    let (settings, environments, policies, isolation) = tokio::join!(
        api.json("environment_creation", Call::post(settings_url, &empty)),
        api.odata_list("environment_list", Call::get(environments_url)),
        api.odata_list("dlp_policies", Call::get(policies_url)),
        api.get("tenant_isolation", &isolation_url),
    );
    let wrap = |r: Result<Value, ApiError>| r.map(|v| json!([v])).map_err(SectionError::from);
    vec![
        SectionResult::new(
            "environment_creation",
            "powerplatform",
            PP_PERMISSION,
            &["Get-PowerPlatformTenantSettingsRest"],
            wrap(settings),
        ),
        SectionResult::new(
            "environment_list",
            "powerplatform",
            PP_PERMISSION,
            &["Get-PowerPlatformEnvironmentsRest"],
            environments
                .map(|items| Value::Array(items.iter().map(environment).collect()))
                .map_err(SectionError::from),
        ),
        SectionResult::new(
            "dlp_policies",
            "powerplatform",
            PP_PERMISSION,
            &["Get-PowerPlatformDlpPoliciesRest"],
            policies
                .map(|items| json!([{"value": items.iter().map(dlp_policy).collect::<Vec<_>>()}]))
                .map_err(SectionError::from),
        ),
        SectionResult::new(
            "tenant_isolation",
            "powerplatform",
            PP_PERMISSION,
            &["Get-PowerPlatformTenantIsolationRest"],
            wrap(isolation),
        ),
    ]
}

// ------------------------------------------------------------------------------------------
// Power BI.

/// Service plans that come with Power BI.
fn has_power_bi_plan(ctx: &M365Context) -> bool {
    ctx.service_plans.iter().any(|p| {
        let p = p.to_ascii_uppercase();
        p.starts_with("BI_AZURE") || p.starts_with("POWER_BI") || p.starts_with("PBI_")
    })
}

pub async fn collect_power_bi(ctx: &M365Context) -> Vec<SectionResult> {
    let api = ctx.api_for(scopes::POWER_BI);
    let mut url = format!(
        "{}/v1/admin/tenantsettings",
        ctx.config.endpoints.power_bi.trim_end_matches('/')
    );
    let mut settings = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let result = loop {
        match api.get("powerbi_tenant_settings", &url).await {
            Ok(mut page) => {
                if let Some(Value::Array(items)) = page.get_mut("tenantSettings").map(Value::take) {
                    settings.extend(items);
                }
                match page.get("continuationUri").and_then(Value::as_str) {
                    Some(next) if !next.is_empty() && seen.insert(next.to_string()) => {
                        url = next.to_string()
                    }
                    _ => break Ok(Value::Array(std::mem::take(&mut settings))),
                }
            }
            Err(e) => break Err(SectionError::from(e)),
        }
    };
    // Licence: a Power BI service plan; without the plan list, a readable settings API.
    let license = if ctx.service_plans.is_empty() {
        match &result {
            Ok(_) => Ok(json!(true)),
            Err(e) => Err(SectionError::Other(format!(
                "no service plans to look for Power BI in, and the tenant settings failed: {e}"
            ))),
        }
    } else {
        Ok(json!(has_power_bi_plan(ctx)))
    };
    vec![
        SectionResult::new(
            "powerbi_tenant_settings",
            "powerbi",
            PBI_PERMISSION,
            &["Get-PowerBITenantSettingsRest"],
            result,
        ),
        SectionResult::new(
            "powerbi_license_found",
            "powerbi",
            "Organization.Read.All (service plans)",
            &["Get-PowerBITenantSettingsRest"],
            license,
        ),
    ]
}
