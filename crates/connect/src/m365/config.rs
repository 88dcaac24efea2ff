//! What an operator supplies to collect a Microsoft 365 tenant.

use crate::redact::Secret;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Credentials and endpoints for one Microsoft 365 tenant (a JSON or YAML file, or `MAMORI_M365_*`
/// environment variables). The app registration needs the read-only permissions listed in
/// docs/connect-m365.md.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct M365Config {
    /// Directory (tenant) id or a verified domain of the tenant.
    pub tenant_id: String,
    /// Application (client) id of the app registration.
    pub client_id: String,
    /// Client secret. Either this or a certificate; SharePoint's admin API accepts only
    /// certificate credentials.
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// PEM private key of the certificate credential (inline).
    #[serde(default)]
    pub certificate_private_key: Option<Secret>,
    /// Path of the PEM private key of the certificate credential.
    #[serde(default)]
    pub certificate_private_key_file: Option<PathBuf>,
    /// SHA-1 thumbprint of the certificate, hex, as Entra shows it.
    #[serde(default)]
    pub certificate_thumbprint: Option<String>,
    /// Service endpoints; the defaults are Microsoft's commercial cloud.
    #[serde(default)]
    pub endpoints: M365Endpoints,
    /// DNS server for the SPF, DKIM and DMARC lookups.
    #[serde(default = "default_dns")]
    pub dns_server: SocketAddr,
    /// The tenant's SharePoint name (`contoso` for contoso-admin.sharepoint.com); by default the
    /// first label of the initial onmicrosoft.com domain.
    #[serde(default)]
    pub sharepoint_tenant: Option<String>,
}

fn default_dns() -> SocketAddr {
    "1.1.1.1:53".parse().expect("literal address")
}

/// Base URLs. Each `{tenant}` is replaced with the SharePoint tenant name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct M365Endpoints {
    pub login: String,
    pub graph: String,
    pub exchange: String,
    pub compliance: String,
    pub sharepoint_admin: String,
    pub teams: String,
    pub power_platform: String,
    pub power_bi: String,
    /// Office 365 Management APIs (the Management Activity API of the audit-log pull).
    pub management: String,
}

impl Default for M365Endpoints {
    fn default() -> Self {
        M365Endpoints {
            login: "https://login.microsoftonline.com".into(),
            graph: "https://graph.microsoft.com".into(),
            exchange: "https://outlook.office365.com".into(),
            compliance: "https://ps.compliance.protection.outlook.com".into(),
            sharepoint_admin: "https://{tenant}-admin.sharepoint.com".into(),
            teams: "https://api.interfaces.records.teams.microsoft.com".into(),
            power_platform: "https://api.bap.microsoft.com".into(),
            power_bi: "https://api.powerbi.com".into(),
            management: "https://manage.office.com".into(),
        }
    }
}

/// OAuth scopes (resource + `/.default`) of each API. The token audience is the resource.
pub mod scopes {
    pub const GRAPH: &str = "https://graph.microsoft.com/.default";
    pub const EXCHANGE: &str = "https://outlook.office365.com/.default";
    pub const COMPLIANCE: &str = "https://ps.compliance.protection.outlook.com/.default";
    /// The SharePoint admin resource is per tenant: `https://{tenant}-admin.sharepoint.com/.default`.
    pub const TEAMS: &str = "48ac35b8-9aa8-4d74-927d-1f4a14a0b239/.default";
    pub const POWER_PLATFORM: &str = "https://service.powerapps.com/.default";
    pub const POWER_BI: &str = "https://analysis.windows.net/powerbi/api/.default";
    /// Office 365 Management APIs (`ActivityFeed.Read`), audience `https://manage.office.com`.
    pub const MANAGEMENT: &str = "https://manage.office.com/.default";
}

impl M365Config {
    /// Checks the credential choice and reads a key file, so mistakes surface before any request.
    pub fn validate(&mut self) -> Result<(), String> {
        if self.tenant_id.trim().is_empty() || self.client_id.trim().is_empty() {
            return Err("tenant_id and client_id are required".into());
        }
        if let Some(path) = &self.certificate_private_key_file {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "cannot read certificate_private_key_file {}: {e}",
                    path.display()
                )
            })?;
            self.certificate_private_key = Some(Secret::new(pem));
        }
        match (&self.client_secret, &self.certificate_private_key) {
            (None, None) => Err(
                "give client_secret, or certificate_private_key(_file) with certificate_thumbprint"
                    .into(),
            ),
            (_, Some(_)) if self.certificate_thumbprint.is_none() => {
                Err("certificate_thumbprint is required with a certificate private key".into())
            }
            _ => Ok(()),
        }
    }
}
