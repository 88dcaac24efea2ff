//! What the operator supplies to collect one Google Workspace tenant.
//!
//! ```yaml
//! service_account_key_file: /etc/mamori/sakura-trading-sa.json
//! subject: yamada.taro@sakura-trading.co.jp     # a super administrator to impersonate
//! customer_id: my_customer
//! break_glass_accounts: [breakglass-admin@sakura-trading.co.jp]
//! ```
//!
//! The service account needs domain-wide delegation (Admin console › Security › API controls ›
//! Domain-wide delegation) for the scopes in [`super::client::SCOPES`]; a scope that is not
//! delegated makes only the sections that need it fail.

use crate::redact::Secret;
use serde::Deserialize;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;

/// One Google Workspace tenant to collect.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GwsConfig {
    /// Path to the service account's JSON key file as the Cloud console downloads it.
    #[serde(default)]
    pub service_account_key_file: Option<PathBuf>,
    /// The same key file's JSON text inline (for secret stores that hand over text); used when
    /// no file is given. Never printed.
    #[serde(default)]
    pub service_account_key_json: Option<Secret>,
    /// The administrator the service account acts as (domain-wide delegation). The Admin SDK
    /// answers only for an administrator; a super administrator sees everything the scan reads.
    pub subject: String,
    /// `my_customer` (the subject's own account) or the canonical customer id (`C0…`).
    #[serde(default = "default_customer")]
    pub customer_id: String,
    /// API base URLs; Google's real hosts unless overridden (tests, proxies).
    #[serde(default)]
    pub endpoints: GwsEndpoints,
    /// DNS server for the SPF, DKIM and DMARC lookups.
    #[serde(default = "default_dns")]
    pub dns_server: SocketAddr,
    /// Emergency-access super administrators (ScubaGoggles `breakglassaccounts`): GWS.COMMONCONTROLS
    /// controls on super-admin counts and SSO leave them out.
    #[serde(default)]
    pub break_glass_accounts: Vec<String>,
    /// OUs or groups allowed to keep IMAP (`{ou, group, justification}`), as in ScubaGoggles.
    #[serde(default)]
    pub imap_exclusions: Vec<Value>,
    /// OUs or groups allowed to keep Google Sites, as in ScubaGoggles.
    #[serde(default)]
    pub sites_exclusions: Vec<Value>,
    /// Domain-wide delegation clients as exported by a super administrator
    /// (`[{clientId, displayText, scopes}]`). Google has no API that lists them; without this
    /// list the connector rebuilds it from the admin audit log (grants of the last 180 days).
    #[serde(default)]
    pub domain_wide_delegation: Option<Vec<Value>>,
}

fn default_customer() -> String {
    "my_customer".into()
}

fn default_dns() -> SocketAddr {
    SocketAddr::from(([8, 8, 8, 8], 53))
}

/// Where the Google APIs live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GwsEndpoints {
    /// OAuth 2.0 token endpoint; the key file's `token_uri` when not set.
    pub token_uri: Option<String>,
    /// Admin SDK (Directory `/admin/directory/v1`, Reports `/admin/reports/v1`).
    pub admin: String,
    /// Cloud Identity (`/v1/policies`, `/v1/inboundSsoAssignments`).
    pub cloud_identity: String,
    /// Groups Settings (`/groups/v1/groups/{group}`).
    pub groups_settings: String,
    /// Enterprise License Manager (`/apps/licensing/v1`).
    pub licensing: String,
}

impl Default for GwsEndpoints {
    fn default() -> Self {
        GwsEndpoints {
            token_uri: None,
            admin: "https://admin.googleapis.com".into(),
            cloud_identity: "https://cloudidentity.googleapis.com".into(),
            groups_settings: "https://www.googleapis.com".into(),
            licensing: "https://licensing.googleapis.com".into(),
        }
    }
}

impl GwsEndpoints {
    /// Every API on one base URL (the imitation server).
    pub fn all_at(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_string();
        GwsEndpoints {
            token_uri: Some(format!("{base}/token")),
            admin: base.clone(),
            cloud_identity: base.clone(),
            groups_settings: base.clone(),
            licensing: base,
        }
    }
}

/// The fields of a service-account key file the connector uses.
#[derive(Deserialize)]
pub(crate) struct ServiceAccountKey {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub client_email: String,
    pub private_key: Secret,
    #[serde(default)]
    pub private_key_id: Option<String>,
    #[serde(default)]
    pub token_uri: Option<String>,
}
