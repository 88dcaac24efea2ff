//! Imitation Microsoft 365: the identity platform's token endpoint, Microsoft Graph, and the
//! Exchange, compliance, SharePoint, Teams, Power Platform and Power BI admin APIs, all on one
//! loopback server under path prefixes (`/login`, `/graph`, `/exo`, `/ipps`, `/spo/{tenant}`,
//! `/teams`, `/bap`, `/powerbi`), plus a DNS server for the tenant's e-mail records.
//!
//! The tenant is generated from a seed by `synth::m365_tenant` (the ScubaGear-shape truth);
//! each API serves its part of it in the API's own documented shape.

pub mod activity;
pub mod admin;
pub mod auditlogs;
pub mod graph;
pub mod login;

use crate::common::{serve, Behaviour, ErrorStyle, RunningServer, TokenStore};
use crate::dns::DnsServer;
use crate::logs::{LogSpec, LogStore, Population};
use crate::synth::{m365_tenant, TenantSize};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// Token audiences (the resource part of the `scope` the client asks for).
pub mod audience {
    pub const GRAPH: &str = "https://graph.microsoft.com";
    pub const EXCHANGE: &str = "https://outlook.office365.com";
    pub const COMPLIANCE: &str = "https://ps.compliance.protection.outlook.com";
    pub const TEAMS: &str = "48ac35b8-9aa8-4d74-927d-1f4a14a0b239";
    pub const POWER_PLATFORM: &str = "https://service.powerapps.com";
    pub const POWER_BI: &str = "https://analysis.windows.net/powerbi/api";
    /// Office 365 Management APIs (the Management Activity API).
    pub const MANAGEMENT: &str = "https://manage.office.com";
    /// SharePoint's is per tenant.
    pub fn sharepoint(tenant: &str) -> String {
        format!("https://{tenant}-admin.sharepoint.com")
    }
}

/// Granted when the token was obtained with a certificate (SharePoint requires it).
pub const CERTIFICATE_AUTH: &str = "auth:certificate";

/// Size and seed of the imitation tenant.
#[derive(Debug, Clone)]
pub struct M365TenantSpec {
    pub seed: u64,
    pub size: TenantSize,
    /// First label of the initial domain (`sakura-trading` → sakura-trading.onmicrosoft.com).
    pub name: String,
    /// The imitation's clock for the audit-log streams: they cover the seven days before it
    /// and the Management Activity API judges its 7-day and 24-hour limits against it. `None`:
    /// the wall clock at start, to the minute.
    pub log_clock: Option<jiff::Timestamp>,
}

impl M365TenantSpec {
    pub fn demo() -> Self {
        M365TenantSpec {
            seed: 20_261_126,
            size: TenantSize::DEMO,
            name: "sakura-trading".into(),
            log_clock: None,
        }
    }

    pub fn large() -> Self {
        M365TenantSpec {
            seed: 7,
            size: TenantSize::LARGE,
            name: "contoso-large".into(),
            log_clock: None,
        }
    }
}

/// The app registration the imitation accepts.
#[derive(Debug, Clone)]
pub struct M365App {
    pub client_id: String,
    pub client_secret: String,
    pub certificate_private_pem: String,
    pub certificate_public_pem: String,
    pub certificate_thumbprint: String,
    /// Granted application permissions (and directory roles as `role:…`) per audience.
    pub permissions: HashMap<String, HashSet<String>>,
}

pub struct M365State {
    pub tokens: TokenStore,
    pub tenant_id: String,
    pub tenant_name: String,
    pub initial_domain: String,
    /// The ScubaGear-shape truth the APIs serve from.
    pub export: Value,
    pub graph: graph::GraphData,
    pub app: M365App,
    /// The audit-log clock (milliseconds since the epoch).
    pub log_now_ms: i64,
    log_seed: u64,
    log_users: usize,
    logs: OnceLock<Arc<LogStore>>,
    /// Management Activity API subscriptions by content type.
    pub subscriptions: Mutex<BTreeMap<String, activity::Subscription>>,
}

/// Users whose activity the imitation's log streams carry, at most (the streaming generator
/// has no such limit).
pub const LOG_USERS_MAX: usize = 5_000;

impl M365State {
    pub fn sharepoint_audience(&self) -> String {
        audience::sharepoint(&self.tenant_name)
    }

    /// The tenant's audit-log streams (the seven days before the log clock), generated on
    /// first use.
    pub fn logs(&self) -> Arc<LogStore> {
        self.logs
            .get_or_init(|| Arc::new(LogStore::build(&self.log_spec())))
            .clone()
    }

    /// The generator spec of the tenant's audit-log streams (the seven days before the log
    /// clock): `logs::generate(&state.log_spec())` gives exactly what the log APIs serve.
    pub fn log_spec(&self) -> LogSpec {
        LogSpec {
            seed: self.log_seed,
            start_ms: self.log_now_ms - 7 * crate::logs::DAY,
            end_ms: self.log_now_ms,
            m365: Some(Population::from_m365_export(
                &self.export,
                &self.tenant_name,
                self.log_users.min(LOG_USERS_MAX),
                self.log_seed,
            )),
            gws: None,
            events_per_user_day: crate::logs::SERVER_EVENTS_PER_USER_DAY,
            attacks: true,
        }
    }
}

pub struct M365Mock {
    pub server: RunningServer,
    pub dns: DnsServer,
    pub state: Arc<M365State>,
}

/// Every permission the connector uses, per audience.
pub fn full_permissions(tenant_name: &str) -> HashMap<String, HashSet<String>> {
    let set = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<HashSet<_>>();
    HashMap::from([
        (
            audience::GRAPH.to_string(),
            set(&[
                "Policy.Read.All",
                "Organization.Read.All",
                "User.Read.All",
                "Directory.Read.All",
                "Domain.Read.All",
                "RoleManagement.Read.Directory",
                "RoleEligibilitySchedule.Read.Directory",
                "RoleAssignmentSchedule.Read.Directory",
                "RoleManagementPolicy.Read.Directory",
                "GroupMember.Read.All",
                "Application.Read.All",
                "UserAuthenticationMethod.Read.All",
                "AuditLog.Read.All",
                "DelegatedPermissionGrant.Read.All",
            ]),
        ),
        (
            audience::EXCHANGE.to_string(),
            set(&["Exchange.ManageAsApp", "role:GlobalReader"]),
        ),
        (
            audience::COMPLIANCE.to_string(),
            set(&["Exchange.ManageAsApp", "role:GlobalReader"]),
        ),
        (
            audience::sharepoint(tenant_name),
            set(&["Sites.FullControl.All"]),
        ),
        (audience::TEAMS.to_string(), set(&["role:GlobalReader"])),
        (
            audience::POWER_PLATFORM.to_string(),
            set(&["PowerPlatform.ManagementApp"]),
        ),
        (audience::POWER_BI.to_string(), set(&["Tenant.Read.All"])),
        (
            audience::MANAGEMENT.to_string(),
            set(&["ActivityFeed.Read"]),
        ),
    ])
}

/// SHA-1-shaped thumbprint for the imitation certificate (the imitation never sees the
/// certificate itself, only the key; the thumbprint only has to match).
fn thumbprint(seed: u64) -> String {
    let mut rng = crate::names::Rng::new(seed ^ 0xCE27);
    (0..20).map(|_| format!("{:02X}", rng.below(256))).collect()
}

impl M365Mock {
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The Office 365 Management Activity API root (`{root}/api/v1.0/{tenant}/activity/feed/…`).
    pub fn management_url(&self) -> String {
        format!("{}/manage", self.base_url())
    }

    /// A connector configuration (JSON, the `M365Config` shape) pointing at this imitation.
    /// `certificate` chooses the certificate credential instead of the secret.
    pub fn config(&self, certificate: bool) -> Value {
        let base = self.base_url();
        let app = &self.state.app;
        let mut config = json!({
            "tenant_id": self.state.tenant_id,
            "client_id": app.client_id,
            "endpoints": {
                "login": format!("{base}/login"),
                "graph": format!("{base}/graph"),
                "exchange": format!("{base}/exo"),
                "compliance": format!("{base}/ipps"),
                "sharepoint_admin": format!("{base}/spo/{{tenant}}"),
                "teams": format!("{base}/teams"),
                "power_platform": format!("{base}/bap"),
                "power_bi": format!("{base}/powerbi"),
                "management": format!("{base}/manage"),
            },
            "dns_server": self.dns.addr.to_string(),
        });
        if certificate {
            config["certificate_private_key"] = json!(app.certificate_private_pem);
            config["certificate_thumbprint"] = json!(app.certificate_thumbprint);
        } else {
            config["client_secret"] = json!(app.client_secret);
        }
        config
    }

    /// Requests needed per section at the largest page sizes, plus the fixed calls (tokens
    /// excluded): the yardstick of the collection benchmark.
    pub fn lower_bound(&self) -> BTreeMap<String, u64> {
        let mut bound = graph::lower_bound(&self.state);
        for (k, v) in admin::lower_bound(&self.state) {
            *bound.entry(k).or_default() += v;
        }
        bound
    }
}

/// Starts the imitation tenant on loopback.
pub async fn start(spec: &M365TenantSpec, behaviour: Behaviour) -> std::io::Result<M365Mock> {
    start_with(spec, behaviour, |_| {}).await
}

/// Like [`start`], with a hook to change the app registration (tests remove permissions).
pub async fn start_with(
    spec: &M365TenantSpec,
    behaviour: Behaviour,
    adjust: impl FnOnce(&mut M365App),
) -> std::io::Result<M365Mock> {
    let export = m365_tenant(spec.size, spec.seed, &spec.name);
    let tenant_id = export["tenant_id"].as_str().unwrap_or_default().to_string();
    let initial_domain = format!("{}.onmicrosoft.com", spec.name);
    let keys = crate::keys::generate();
    let mut rng = crate::names::Rng::new(spec.seed ^ 0xA11);
    let mut app = M365App {
        client_id: rng.guid(),
        client_secret: format!("Mq8~{}", crate::common::random_hex(18)),
        certificate_private_pem: keys.private_pem,
        certificate_public_pem: keys.public_pem,
        certificate_thumbprint: thumbprint(spec.seed),
        permissions: full_permissions(&spec.name),
    };
    adjust(&mut app);
    let graph = graph::GraphData::build(&export, spec, &tenant_id, &initial_domain);
    let zone = admin::dns_zone(&export);
    let state = Arc::new(M365State {
        tokens: TokenStore::default(),
        tenant_id,
        tenant_name: spec.name.clone(),
        initial_domain,
        export,
        graph,
        app,
        log_now_ms: crate::logs::clock_ms(spec.log_clock),
        log_seed: spec.seed,
        log_users: spec.size.users,
        logs: OnceLock::new(),
        subscriptions: Mutex::new(BTreeMap::new()),
    });
    let router: Router<()> = Router::new()
        .merge(login::routes())
        .merge(graph::routes())
        .merge(auditlogs::routes())
        .merge(activity::routes())
        .merge(admin::routes())
        .with_state(state.clone());
    let server = serve(router, behaviour, ErrorStyle::Microsoft, 0).await?;
    let dns = crate::dns::serve(zone, 0).await?;
    Ok(M365Mock { server, dns, state })
}
