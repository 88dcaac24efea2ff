//! A generated Microsoft 365 tenant in the ScubaGear provider export schema: the demo customer
//! and the large tenant of the benchmark. Deterministic for a seed; a realistic mix of good and
//! bad settings, with Japanese and English names.

use serde_json::{json, Map, Value};

/// Size of the generated tenant. The other collections of the tenant grow with it: see
/// [`TenantSize::collections`].
#[derive(Debug, Clone, Copy)]
pub struct TenantSize {
    pub users: usize,
    pub privileged_users: usize,
    pub ca_policies: usize,
    /// Third-party service principals (`risky_third_party_service_principals`).
    pub service_principals: usize,
}

impl TenantSize {
    pub const DEMO: TenantSize = TenantSize {
        users: 480,
        privileged_users: 12,
        ca_policies: 14,
        service_principals: 40,
    };
    pub const LARGE: TenantSize = TenantSize {
        users: 100_000,
        privileged_users: 2_000,
        ca_policies: 500,
        service_principals: 20_000,
    };

    /// The sizes of the tenant's other collections: the demo's at [`TenantSize::DEMO`], those of
    /// the largest real tenants at [`TenantSize::LARGE`], and in proportion in between (and
    /// beyond). Application counts follow `service_principals`; the rest follows `users`.
    pub fn collections(&self) -> Collections {
        let (d, l) = (Collections::DEMO, Collections::LARGE);
        let by_users = growth(self.users, TenantSize::DEMO.users, TenantSize::LARGE.users);
        let by_apps = growth(
            self.service_principals,
            TenantSize::DEMO.service_principals,
            TenantSize::LARGE.service_principals,
        );
        let lerp = |a: usize, b: usize, f: f64| -> usize {
            (a as f64 + (b as f64 - a as f64) * f).round().max(0.0) as usize
        };
        // Roles per privileged user, from the demo's to the large tenant's.
        let per_admin = |c: Collections, size: TenantSize| {
            c.role_assignments as f64 / size.privileged_users.max(1) as f64
        };
        let ratio = per_admin(d, TenantSize::DEMO)
            + (per_admin(l, TenantSize::LARGE) - per_admin(d, TenantSize::DEMO))
                * by_users.min(1.0);
        Collections {
            privileged_roles: lerp(d.privileged_roles, l.privileged_roles, by_users.min(1.0)),
            role_assignments: (self.privileged_users as f64 * ratio).round() as usize,
            risky_applications: lerp(d.risky_applications, l.risky_applications, by_apps),
            privileged_service_principals: lerp(
                d.privileged_service_principals,
                l.privileged_service_principals,
                by_apps,
            ),
            permissions_per_app: lerp(
                d.permissions_per_app,
                l.permissions_per_app,
                by_apps.min(1.0),
            )
            .max(1),
            accepted_domains: lerp(d.accepted_domains, l.accepted_domains, by_users),
            transport_rules: lerp(d.transport_rules, l.transport_rules, by_users),
            remote_domains: lerp(d.remote_domains, l.remote_domains, by_users),
            dlp_compliance_policies: lerp(
                d.dlp_compliance_policies,
                l.dlp_compliance_policies,
                by_users,
            ),
            dlp_compliance_rules: lerp(d.dlp_compliance_rules, l.dlp_compliance_rules, by_users),
            protection_alerts: lerp(d.protection_alerts, l.protection_alerts, by_users),
            meeting_policies: lerp(d.meeting_policies, l.meeting_policies, by_users),
            environments: lerp(d.environments, l.environments, by_users),
            power_platform_dlp_policies: lerp(
                d.power_platform_dlp_policies,
                l.power_platform_dlp_policies,
                by_users,
            ),
        }
    }
}

/// How far `n` is from the demo's `demo` towards the large tenant's `large` (0 at or below the
/// demo, 1 at the large tenant, more beyond it).
fn growth(n: usize, demo: usize, large: usize) -> f64 {
    n.saturating_sub(demo) as f64 / large.saturating_sub(demo).max(1) as f64
}

/// The collections of a generated tenant besides those [`TenantSize`] names, in the ScubaGear
/// sections that hold them. Each is the section's length in the export, except where noted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collections {
    /// Directory roles that privileged users hold (`privileged_roles`): the demo uses eleven,
    /// ScubaGear reports eight.
    pub privileged_roles: usize,
    /// Role assignments of the privileged users (`privileged_roles[].Assignments`, all roles).
    pub role_assignments: usize,
    /// `risky_applications`: the tenant's own applications with risky permissions. At least the
    /// third-party applications that hold a risky permission, which are all the demo has.
    pub risky_applications: usize,
    /// `privileged_service_principals` (an object keyed by service principal id).
    pub privileged_service_principals: usize,
    /// Average number of permissions of an application or service principal (1: the demo's
    /// single application permission each).
    pub permissions_per_app: usize,
    /// `accepted_domains`, each with its `spf_records`, `dkim_config`, `dkim_records` and
    /// `dmarc_records` answer (DKIM and DMARC not for the coexistence domain).
    pub accepted_domains: usize,
    /// `transport_rule`.
    pub transport_rules: usize,
    /// `remote_domains`.
    pub remote_domains: usize,
    /// `dlp_compliance_policies`.
    pub dlp_compliance_policies: usize,
    /// `dlp_compliance_rules`, each in one of the `dlp_compliance_policies`.
    pub dlp_compliance_rules: usize,
    /// `protection_alerts`.
    pub protection_alerts: usize,
    /// Teams `meeting_policies`.
    pub meeting_policies: usize,
    /// Power Platform `environment_list`.
    pub environments: usize,
    /// Power Platform DLP policies (`dlp_policies[0].value`).
    pub power_platform_dlp_policies: usize,
}

impl Collections {
    /// The demo tenant's (`demo_sections.json` included).
    pub const DEMO: Collections = Collections {
        privileged_roles: 11,
        role_assignments: 12,
        risky_applications: 0,
        privileged_service_principals: 0,
        permissions_per_app: 1,
        accepted_domains: 3,
        transport_rules: 1,
        remote_domains: 2,
        dlp_compliance_policies: 2,
        dlp_compliance_rules: 3,
        protection_alerts: 12,
        meeting_policies: 2,
        environments: 2,
        power_platform_dlp_policies: 1,
    };
    /// The largest real tenants' (a 110 MB ScubaGear export).
    pub const LARGE: Collections = Collections {
        privileged_roles: 8,
        role_assignments: 4_108,
        risky_applications: 20_000,
        privileged_service_principals: 20_000,
        permissions_per_app: 11,
        accepted_domains: 300,
        transport_rules: 300,
        remote_domains: 200,
        dlp_compliance_policies: 50,
        dlp_compliance_rules: 150,
        protection_alerts: 200,
        meeting_policies: 110,
        environments: 200,
        power_platform_dlp_policies: 25,
    };
}

/// xorshift64*: enough randomness for test data, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

const FAMILY_JA: &[&str] = &[
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田",
    "松本", "井上", "木村",
];
const GIVEN_JA: &[&str] = &[
    "翔太",
    "美咲",
    "健一",
    "由美",
    "大輔",
    "彩",
    "拓也",
    "陽子",
    "直樹",
    "恵",
    "浩二",
    "真由美",
    "亮",
    "愛",
    "誠",
];
const FAMILY_EN: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Clark", "Lewis", "Walker",
];
const GIVEN_EN: &[&str] = &[
    "Emily", "James", "Olivia", "Daniel", "Sophie", "Michael", "Grace", "Thomas",
];
const ROLES: &[(&str, &str)] = &[
    (
        "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10",
    ),
    (
        "Privileged Role Administrator",
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
    ),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    (
        "Groups Administrator",
        "fdd7a751-b60b-444a-984c-02652fe8fa1c",
    ),
    (
        "Application Administrator",
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    ),
    (
        "Cloud Application Administrator",
        "158c047a-c907-4556-b7ef-446551a6b5f7",
    ),
    (
        "Privileged Authentication Administrator",
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    ),
    (
        "Hybrid Identity Administrator",
        "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
    ),
    (
        "Exchange Administrator",
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
    ),
    (
        "SharePoint Administrator",
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    ),
    (
        "Security Administrator",
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
    ),
];

/// Indices into [`ROLES`] in the order they are kept when a tenant uses fewer roles: first the
/// eight ScubaGear reports (`DefaultPrivilegedRoles`), then the demo's others.
const ROLE_PREFERENCE: &[usize] = &[0, 1, 2, 9, 8, 7, 4, 5, 3, 6, 10];

/// The first `n` roles by [`ROLE_PREFERENCE`], in [`ROLES`] order (all of them for the demo).
fn roles_used(n: usize) -> Vec<(&'static str, &'static str)> {
    let mut keep: Vec<usize> = ROLE_PREFERENCE
        .iter()
        .copied()
        .take(n.clamp(2, ROLES.len()))
        .collect();
    keep.sort_unstable();
    keep.into_iter().map(|i| ROLES[i]).collect()
}

/// Milliseconds since the epoch as ScubaGear writes them: `/Date(ms)/`.
fn ms_date(ms: i64) -> String {
    format!("/Date({ms})/")
}

fn person(rng: &mut Rng, i: usize) -> (String, String) {
    if rng.chance(80) {
        let family = rng.pick(FAMILY_JA);
        let given = rng.pick(GIVEN_JA);
        (format!("{family} {given}"), format!("user{i:06}"))
    } else {
        let given = rng.pick(GIVEN_EN);
        let family = rng.pick(FAMILY_EN);
        (
            format!("{given} {family}"),
            format!("{}.{}{}", given.to_lowercase(), family.to_lowercase(), i),
        )
    }
}

fn ca_policy(
    rng: &mut Rng,
    name: &str,
    state: &str,
    conditions: Value,
    grant: Value,
    session: Value,
) -> Value {
    json!({
        "Id": rng.uuid(),
        "DisplayName": name,
        "State": state,
        "CreatedDateTime": ms_date(1_700_000_000_000),
        "ModifiedDateTime": ms_date(1_760_000_000_000),
        "DeletedDateTime": null,
        "TemplateId": null,
        "PartialEnablementStrategy": null,
        "Conditions": conditions,
        "GrantControls": grant,
        "SessionControls": session,
    })
}

fn conditions(
    users: Value,
    apps: Value,
    client_apps: &[&str],
    user_risk: &[&str],
    sign_in_risk: &[&str],
) -> Value {
    json!({
        "Applications": apps,
        "Users": users,
        "ClientAppTypes": client_apps,
        "UserRiskLevels": user_risk,
        "SignInRiskLevels": sign_in_risk,
        "Platforms": null, "Locations": null, "Devices": null, "Times": null,
        "DeviceStates": null, "ClientApplications": null, "Agents": null,
    })
}

fn all_users(exclude_users: &[String], exclude_groups: &[String]) -> Value {
    json!({
        "IncludeUsers": ["All"], "ExcludeUsers": exclude_users,
        "IncludeGroups": [], "ExcludeGroups": exclude_groups,
        "IncludeRoles": [], "ExcludeRoles": [],
        "IncludeGuestsOrExternalUsers": null, "ExcludeGuestsOrExternalUsers": null,
    })
}

fn all_apps() -> Value {
    json!({"IncludeApplications": ["All"], "ExcludeApplications": [], "IncludeUserActions": [],
           "IncludeAuthenticationContextClassReferences": [], "ApplicationFilter": null})
}

fn grant(controls: &[&str], strength: Option<&str>) -> Value {
    json!({
        "Operator": "OR",
        "BuiltInControls": controls,
        "AuthenticationStrength": strength.map(|id| json!({"Id": id, "DisplayName": "Phishing-resistant MFA", "AllowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]})),
        "CustomAuthenticationFactors": [],
        "TermsOfUse": [],
    })
}

// ---------------------------------------------------------------------------------------------
// Applications and service principals of large tenants: permissions and credentials in the shape
// of ScubaGear 1.8 (Get-ApplicationsWithRiskyPermissions / Get-ServicePrincipalsWithRiskyPermissions
// / Format-RiskyApplications).
// ---------------------------------------------------------------------------------------------

const GRAPH: &str = "Microsoft Graph";
const EXCHANGE: &str = "Office 365 Exchange Online";
const SHAREPOINT: &str = "Office 365 SharePoint Online";

/// (resource, RoleType, permission, ScubaGear's IsRisky, weight). The weight makes common
/// sign-in scopes frequent and tenant-wide access to mail, files, the directory or roles rare.
const PERMISSIONS: &[(&str, &str, &str, bool, u32)] = &[
    (GRAPH, "Delegated", "openid", false, 200),
    (GRAPH, "Delegated", "profile", false, 200),
    (GRAPH, "Delegated", "email", false, 180),
    (GRAPH, "Delegated", "offline_access", false, 180),
    (GRAPH, "Delegated", "User.Read", false, 240),
    (GRAPH, "Delegated", "User.ReadBasic.All", false, 100),
    (GRAPH, "Delegated", "Calendars.Read", false, 80),
    (GRAPH, "Delegated", "Contacts.Read", false, 50),
    (GRAPH, "Delegated", "Tasks.ReadWrite", false, 40),
    (GRAPH, "Delegated", "Team.ReadBasic.All", false, 60),
    (GRAPH, "Delegated", "People.Read", false, 40),
    (GRAPH, "Delegated", "Presence.Read.All", false, 30),
    (GRAPH, "Delegated", "Calendars.ReadWrite", false, 50),
    (GRAPH, "Delegated", "Contacts.ReadWrite", false, 20),
    (GRAPH, "Delegated", "Files.Read", false, 50),
    (GRAPH, "Delegated", "Files.ReadWrite", false, 40),
    (GRAPH, "Delegated", "Notes.Read", false, 16),
    (GRAPH, "Delegated", "Mail.ReadBasic", false, 30),
    (GRAPH, "Delegated", "MailboxSettings.Read", false, 20),
    (GRAPH, "Delegated", "Chat.Read", false, 24),
    (GRAPH, "Delegated", "Chat.ReadWrite", false, 20),
    (GRAPH, "Delegated", "ChannelMessage.Send", false, 20),
    (GRAPH, "Delegated", "OnlineMeetings.ReadWrite", false, 24),
    (GRAPH, "Delegated", "Sites.Selected", false, 16),
    (GRAPH, "Delegated", "Tasks.Read", false, 20),
    (GRAPH, "Delegated", "Directory.Read.All", true, 40),
    (GRAPH, "Delegated", "Group.Read.All", true, 40),
    (GRAPH, "Delegated", "Mail.Read", true, 4),
    (GRAPH, "Delegated", "Mail.Send", true, 3),
    (GRAPH, "Delegated", "Files.ReadWrite.All", true, 3),
    (GRAPH, "Delegated", "Sites.Read.All", true, 3),
    (GRAPH, "Delegated", "Directory.AccessAsUser.All", true, 1),
    (GRAPH, "Application", "Organization.Read.All", false, 100),
    (GRAPH, "Application", "Team.ReadBasic.All", false, 50),
    (GRAPH, "Application", "Reports.Read.All", false, 50),
    (
        GRAPH,
        "Application",
        "Policy.Read.ConditionalAccess",
        false,
        10,
    ),
    (GRAPH, "Application", "AccessReview.Read.All", false, 20),
    (GRAPH, "Application", "Application.Read.All", false, 60),
    (GRAPH, "Application", "RoleManagement.Read.All", false, 20),
    (GRAPH, "Application", "Device.Read.All", false, 40),
    (GRAPH, "Application", "Domain.Read.All", false, 20),
    (GRAPH, "Application", "Sites.Selected", false, 30),
    (GRAPH, "Application", "TeamMember.Read.All", false, 24),
    (GRAPH, "Application", "Channel.ReadBasic.All", false, 24),
    (GRAPH, "Application", "TeamSettings.Read.All", false, 16),
    (GRAPH, "Application", "OnlineMeetings.Read.All", false, 16),
    (GRAPH, "Application", "CallRecords.Read.All", false, 12),
    (GRAPH, "Application", "Place.Read.All", false, 12),
    (GRAPH, "Application", "SecurityEvents.Read.All", false, 20),
    (GRAPH, "Application", "SecurityAlert.Read.All", false, 20),
    (
        GRAPH,
        "Application",
        "IdentityRiskyUser.Read.All",
        false,
        16,
    ),
    (
        GRAPH,
        "Application",
        "IdentityRiskEvent.Read.All",
        false,
        16,
    ),
    (
        GRAPH,
        "Application",
        "DeviceManagementManagedDevices.Read.All",
        false,
        15,
    ),
    (
        GRAPH,
        "Application",
        "DeviceManagementConfiguration.Read.All",
        false,
        10,
    ),
    (
        GRAPH,
        "Application",
        "AdministrativeUnit.Read.All",
        false,
        6,
    ),
    (GRAPH, "Application", "OrgContact.Read.All", false, 12),
    (GRAPH, "Application", "Member.Read.Hidden", false, 10),
    (GRAPH, "Application", "ServiceHealth.Read.All", false, 24),
    (GRAPH, "Application", "ServiceMessage.Read.All", false, 24),
    (GRAPH, "Application", "TermStore.Read.All", false, 10),
    (GRAPH, "Application", "Tasks.Read.All", false, 12),
    (
        GRAPH,
        "Application",
        "LicenseAssignment.Read.All",
        false,
        16,
    ),
    (GRAPH, "Application", "Synchronization.Read.All", false, 10),
    (GRAPH, "Application", "Printer.Read.All", false, 8),
    (GRAPH, "Application", "Schedule.Read.All", false, 10),
    (
        GRAPH,
        "Application",
        "InformationProtectionPolicy.Read.All",
        false,
        5,
    ),
    (GRAPH, "Application", "ExternalItem.ReadWrite.All", false, 8),
    (
        GRAPH,
        "Application",
        "ThreatIndicators.ReadWrite.OwnedBy",
        false,
        3,
    ),
    (GRAPH, "Application", "Agreement.Read.All", false, 6),
    (GRAPH, "Application", "User.Export.All", true, 6),
    (
        GRAPH,
        "Application",
        "UserAuthenticationMethod.Read.All",
        true,
        6,
    ),
    (GRAPH, "Application", "BitlockerKey.ReadBasic.All", true, 6),
    (
        GRAPH,
        "Application",
        "PrivilegedAccess.Read.AzureAD",
        true,
        4,
    ),
    (GRAPH, "Application", "Calendars.ReadBasic.All", false, 16),
    (GRAPH, "Application", "User.Read.All", true, 80),
    (GRAPH, "Application", "Directory.Read.All", true, 60),
    (GRAPH, "Application", "Group.Read.All", true, 50),
    (GRAPH, "Application", "Policy.Read.All", true, 20),
    (GRAPH, "Application", "AuditLog.Read.All", true, 30),
    (GRAPH, "Application", "Mail.ReadBasic.All", true, 20),
    (GRAPH, "Application", "Calendars.Read", true, 30),
    (GRAPH, "Application", "Contacts.Read", true, 16),
    (GRAPH, "Application", "Mail.Read", true, 2),
    (GRAPH, "Application", "Mail.ReadWrite", true, 2),
    (GRAPH, "Application", "Mail.Send", true, 2),
    (GRAPH, "Application", "MailboxSettings.ReadWrite", true, 1),
    (GRAPH, "Application", "Files.Read.All", true, 2),
    (GRAPH, "Application", "Files.ReadWrite.All", true, 2),
    (GRAPH, "Application", "Sites.Read.All", true, 2),
    (GRAPH, "Application", "Sites.ReadWrite.All", true, 2),
    (GRAPH, "Application", "Sites.FullControl.All", true, 1),
    (GRAPH, "Application", "Chat.Read.All", true, 1),
    (GRAPH, "Application", "ChannelMessage.Read.All", true, 1),
    (GRAPH, "Application", "Directory.ReadWrite.All", true, 1),
    (GRAPH, "Application", "User.ReadWrite.All", true, 1),
    (GRAPH, "Application", "Group.ReadWrite.All", true, 2),
    (GRAPH, "Application", "GroupMember.ReadWrite.All", true, 1),
    (
        GRAPH,
        "Application",
        "RoleManagement.ReadWrite.Directory",
        true,
        1,
    ),
    (
        GRAPH,
        "Application",
        "AppRoleAssignment.ReadWrite.All",
        true,
        1,
    ),
    (GRAPH, "Application", "Application.ReadWrite.All", true, 1),
    (
        GRAPH,
        "Application",
        "Policy.ReadWrite.ConditionalAccess",
        true,
        1,
    ),
    (
        GRAPH,
        "Application",
        "UserAuthenticationMethod.ReadWrite.All",
        true,
        1,
    ),
    (EXCHANGE, "Application", "full_access_as_app", true, 1),
    (EXCHANGE, "Application", "Exchange.ManageAsApp", true, 6),
    (EXCHANGE, "Delegated", "EWS.AccessAsUser.All", true, 2),
    (SHAREPOINT, "Application", "Sites.FullControl.All", true, 1),
    (SHAREPOINT, "Application", "Sites.Read.All", true, 3),
    (SHAREPOINT, "Application", "Sites.Selected", false, 12),
    (SHAREPOINT, "Application", "User.Read.All", true, 6),
    (SHAREPOINT, "Application", "TermStore.Read.All", false, 4),
    (SHAREPOINT, "Delegated", "AllSites.Read", true, 8),
    (EXCHANGE, "Application", "Mail.Read", true, 1),
    (EXCHANGE, "Delegated", "EAS.AccessAsUser.All", true, 1),
];

const _: () = assert!(PERMISSIONS.len() <= 128, "permission sets are u128 masks");

/// A stable id for a permission (the same permission has the same id in every application).
fn role_id(resource: &str, kind: &str, name: &str) -> String {
    // FNV-1a, twice with different offsets for 128 bits.
    let hash = |offset: u64| {
        [resource, kind, name]
            .iter()
            .flat_map(|s| s.bytes().chain(std::iter::once(0)))
            .fold(offset, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
    };
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x6c62_272e_07bb_0142));
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

/// Draws distinct permissions by weight.
struct PermissionPicker {
    cumulative: Vec<u64>,
}

impl PermissionPicker {
    fn new() -> Self {
        let mut total = 0;
        let cumulative = PERMISSIONS
            .iter()
            .map(|p| {
                total += p.4 as u64;
                total
            })
            .collect();
        PermissionPicker { cumulative }
    }

    fn index_of(name: &str, resource: &str) -> Option<usize> {
        PERMISSIONS
            .iter()
            .position(|p| p.0 == resource && p.2 == name && p.1 == "Application")
    }

    /// Up to `k` permissions not in `taken`, as indices into [`PERMISSIONS`].
    fn pick(&self, rng: &mut Rng, k: usize, taken: &mut u128) -> Vec<usize> {
        let total = *self.cumulative.last().unwrap_or(&1);
        let mut out = Vec::with_capacity(k);
        let mut tries = 0;
        while out.len() < k && tries < 64 * k {
            tries += 1;
            let r = rng.next() % total;
            let i = self.cumulative.partition_point(|&c| c <= r);
            if *taken & (1 << i) == 0 {
                *taken |= 1 << i;
                out.push(i);
            }
        }
        out
    }
}

/// The number of permissions of one application: most hold a few, some many (mean ≈ `mean`).
fn permission_count(rng: &mut Rng, mean: usize) -> usize {
    let m = mean.max(2);
    let n = match rng.below(100) {
        0..=49 => 1 + rng.below(m / 2),
        50..=84 => m / 2 + rng.below(m + 1),
        _ => 2 * m + rng.below(m + 1),
    };
    n.clamp(1, PERMISSIONS.len() / 2)
}

fn permission(i: usize, consented: bool) -> Value {
    let (resource, kind, name, risky, _) = PERMISSIONS[i];
    json!({"RoleId": role_id(resource, kind, name), "RoleType": kind, "RoleDisplayName": name,
           "ApplicationDisplayName": resource, "IsAdminConsented": consented, "IsRisky": risky})
}

/// A list as PowerShell's ConvertTo-Json writes it: nothing is null, one item is the item.
fn ps_list(mut items: Vec<Value>) -> Value {
    match items.len() {
        0 => Value::Null,
        1 => items.pop().unwrap_or(Value::Null),
        _ => Value::Array(items),
    }
}

/// Key and password credentials: a start between 2022 and the collection, a lifetime of six
/// months to ten years (some already expired).
fn credentials(rng: &mut Rng, n: usize, key: bool, from_app: bool, app: &str) -> Vec<Value> {
    const DAY: i64 = 86_400_000;
    (0..n)
        .map(|_| {
            let start = 1_640_000_000_000 + (rng.next() % 155_000_000_000) as i64;
            let days = *rng.pick(&[180, 365, 365, 730, 730, 1095, 3650, 36_500]);
            let name = if key {
                json!(format!("CN={}", ascii_name(app)))
            } else {
                match rng.below(6) {
                    0 => Value::Null,
                    1 => json!("本番用シークレット"),
                    2 => json!("CI/CD pipeline"),
                    3 => json!("移行用 (削除予定)"),
                    4 => json!(format!("{} secret", ascii_name(app))),
                    _ => json!("client secret"),
                }
            };
            json!({"KeyId": rng.uuid(), "DisplayName": name, "StartDateTime": ms_date(start),
                   "EndDateTime": ms_date(start + days * DAY), "IsFromApplication": from_app})
        })
        .collect()
}

fn federated_credentials(rng: &mut Rng, n: usize, app: &str) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let slug = ascii_name(app);
            let (issuer, subject) = if rng.chance(70) {
                (
                    "https://token.actions.githubusercontent.com".to_string(),
                    format!(
                        "repo:{}/{slug}:{}",
                        rng.pick(&["sakura-it", "contoso-dev", "platform-team"]),
                        rng.pick(&[
                            "environment:production",
                            "ref:refs/heads/main",
                            "pull_request"
                        ])
                    ),
                )
            } else {
                (
                    format!(
                        "https://japaneast.oic.prod-aks.azure.com/{}/{}/",
                        rng.uuid(),
                        rng.uuid()
                    ),
                    format!("system:serviceaccount:{slug}:workload-{i}"),
                )
            };
            json!({"Id": rng.uuid(), "Name": format!("{slug}-{i}"), "Description": "", "Issuer": issuer,
                   "Subject": subject, "Audiences": "api://AzureADTokenExchange\r\n"})
        })
        .collect()
}

/// An ASCII slug of an application's display name (for certificate subjects and repositories).
fn ascii_name(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug.trim_matches('-').replace("--", "-");
    if slug.chars().any(|c| c.is_ascii_alphabetic()) {
        slug
    } else {
        format!("app{slug}")
    }
}

const APP_NAMES: &[&str] = &[
    "経費精算",
    "勤怠管理",
    "人事評価システム",
    "社内ポータル",
    "営業支援",
    "文書管理",
    "請求書発行",
    "在庫管理",
    "受発注連携",
    "CRM Connector",
    "Backup Service",
    "Survey",
    "Analytics",
    "Mail Archiver",
    "HR Sync",
    "Contract Manager",
    "Data Export",
    "Teams Bot",
    "SharePoint Migration",
    "DevOps Pipeline",
    "Power BI Embedded",
    "Monitoring Agent",
];

const APP_SUFFIXES: &[&str] = &["", "", " - 本番", " - 検証", " (dev)", " v2", " - 大阪支社"];

fn app_name(rng: &mut Rng, i: usize) -> String {
    format!("{}{} {i:05}", rng.pick(APP_NAMES), rng.pick(APP_SUFFIXES))
}

/// A third-party service principal of a large tenant: more permissions, some credentials, a few
/// published by Microsoft.
fn enrich_third_party(
    entry: &mut Value,
    rng: &mut Rng,
    picker: &PermissionPicker,
    mean: usize,
    first: &str,
    risky: bool,
) {
    let name = entry["DisplayName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut taken = PermissionPicker::index_of(first, GRAPH).map_or(0, |i| 1u128 << i);
    let k = permission_count(rng, mean).saturating_sub(1);
    if let Some(Value::Array(perms)) = entry.get_mut("Permissions") {
        for i in picker.pick(rng, k, &mut taken) {
            let consented = PERMISSIONS[i].1 == "Application" || rng.chance(60);
            perms.push(permission(i, consented));
        }
    }
    if rng.chance(14) {
        let n = 1 + usize::from(rng.chance(25));
        entry["PasswordCredentials"] = ps_list(credentials(rng, n, false, false, &name));
    }
    if rng.chance(8) {
        entry["KeyCredentials"] = ps_list(credentials(rng, 1, true, false, &name));
    }
    if !risky && rng.chance(1) {
        entry["AppOwnerOrganizationId"] = json!("f8cdef31-a31e-4b4a-93e4-5f571e91255a");
    }
}

/// One of the tenant's own applications with risky permissions (ScubaGear's merged application
/// and service principal: credentials of both, IsFromApplication telling which).
fn own_risky_application(rng: &mut Rng, picker: &PermissionPicker, mean: usize, i: usize) -> Value {
    let name = app_name(rng, i);
    let mut taken = 0u128;
    let k = permission_count(rng, mean);
    let picked = picker.pick(rng, k, &mut taken);
    let mut perms: Vec<Value> = picked
        .iter()
        .map(|&p| {
            let consented = if PERMISSIONS[p].1 == "Application" {
                rng.chance(80)
            } else {
                rng.chance(50)
            };
            permission(p, consented)
        })
        .collect();
    // ScubaGear lists only applications holding at least one risky permission.
    if !picked.iter().any(|&p| PERMISSIONS[p].3) {
        if let Some(&p) = picker
            .pick(rng, 40, &mut taken)
            .iter()
            .find(|&&p| PERMISSIONS[p].3)
        {
            perms.push(permission(p, true));
        }
    }
    let passwords = *rng.pick(&[0, 1, 1, 1, 1, 2, 2, 3]);
    let mut password = credentials(rng, passwords, false, true, &name);
    if rng.chance(10) {
        password.extend(credentials(rng, 1, false, false, &name));
    }
    let keys = *rng.pick(&[0, 0, 0, 1, 1, 2]);
    let federated = *rng.pick(&[0, 0, 0, 0, 0, 0, 1, 1, 2]);
    json!({
        "ObjectId": {"Application": rng.uuid(), "ServicePrincipal": rng.uuid()},
        "AppId": rng.uuid(),
        "DisplayName": name,
        "IsMultiTenantEnabled": rng.chance(20),
        "KeyCredentials": ps_list(credentials(rng, keys, true, true, &name)),
        "PasswordCredentials": ps_list(password),
        "FederatedCredentials": ps_list(federated_credentials(rng, federated, &name)),
        "Permissions": perms,
    })
}

/// `privileged_service_principals`: service principals holding privileged roles, keyed by id.
/// A quarter are the tenant's own risky applications, a tenth third-party ones, the rest
/// automation accounts.
fn privileged_service_principals(
    rng: &mut Rng,
    n: usize,
    own_apps: &[Value],
    third_party: &[Value],
    roles: &[(&str, &str)],
) -> Value {
    const ROLE_WEIGHTS: &[(&str, u32)] = &[
        ("Exchange Administrator", 25),
        ("Application Administrator", 20),
        ("Cloud Application Administrator", 20),
        ("User Administrator", 10),
        ("SharePoint Administrator", 10),
        ("Hybrid Identity Administrator", 4),
        ("Privileged Role Administrator", 2),
        ("Global Administrator", 1),
    ];
    let weights: Vec<(&str, u32)> = ROLE_WEIGHTS
        .iter()
        .copied()
        .filter(|(r, _)| roles.iter().any(|(name, _)| name == r))
        .collect();
    let total: u32 = weights.iter().map(|w| w.1).sum();
    let pick_role = |rng: &mut Rng| {
        let mut r = (rng.next() % total.max(1) as u64) as u32;
        for (name, w) in &weights {
            if r < *w {
                return *name;
            }
            r -= w;
        }
        "Global Administrator"
    };
    let mut out = Map::new();
    let from_own = (n / 4).min(own_apps.len());
    let from_third = (n / 10).min(third_party.len());
    for i in 0..n {
        let (id, app_id, name) = if i < from_own {
            let a = &own_apps[i];
            (
                a["ObjectId"]["ServicePrincipal"].clone(),
                a["AppId"].clone(),
                a["DisplayName"].clone(),
            )
        } else if i < from_own + from_third {
            let sp = &third_party[i - from_own];
            (
                sp["ObjectId"].clone(),
                sp["AppId"].clone(),
                sp["DisplayName"].clone(),
            )
        } else {
            let name = format!(
                "{} {i:05}",
                rng.pick(&[
                    "自動化アカウント",
                    "Azure Automation RunAs",
                    "Terraform Deploy",
                    "Intune Connector",
                    "ID 同期サービス",
                    "Exchange 管理スクリプト",
                    "Backup Operator",
                ])
            );
            (json!(rng.uuid()), json!(rng.uuid()), json!(name))
        };
        let first = pick_role(rng);
        let mut names = vec![json!(first)];
        if rng.chance(15) {
            let second = pick_role(rng);
            if second != first {
                names.push(json!(second));
            }
        }
        let key = id.as_str().unwrap_or_default().to_string();
        out.insert(
            key,
            json!({"DisplayName": name, "ServicePrincipalId": id, "AppId": app_id, "roles": names}),
        );
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------------
// Accepted domains of large tenants and their DNS answers, as ScubaGear's Get-ScubaSpfRecord /
// Get-ScubaDkimRecord / Get-ScubaDmarcRecord write them (and as the collector reads them from the
// imitation's DNS server).
// ---------------------------------------------------------------------------------------------

/// One generated accepted domain and what its DNS publishes.
struct MailDomain {
    name: String,
    /// `<tenant>.mail.onmicrosoft.com`: SPF only, no DKIM or DMARC lookup.
    coexistence: bool,
    /// 0 `-all`, 1 `~all`, 2 redirect, 3 `?all`, 4 no SPF record.
    spf: u8,
    /// Other TXT records at the apex (domain verification).
    verification: Vec<String>,
    dkim_enabled: bool,
    dkim_key: Option<String>,
    /// 0 reject with rua and ruf, 1 reject with rua only, 2 quarantine, 3 none, 4 no record,
    /// 5 malformed.
    dmarc: u8,
    created_ms: i64,
}

fn base64_text(rng: &mut Rng, n: usize) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    (0..n).map(|_| B64[rng.below(64)] as char).collect()
}

fn mail_domains(rng: &mut Rng, n: usize, tenant: &str) -> Vec<MailDomain> {
    const WORDS: &[&str] = &[
        "shop",
        "recruit",
        "ir",
        "news",
        "global",
        "support",
        "group",
        "hd",
        "tech",
        "info",
        "event",
        "career",
        "partner",
        "cloud",
        "lab",
        "logistics",
        "finance",
        "asia",
        "usa",
    ];
    const TLDS: &[&str] = &["co.jp", "co.jp", "jp", "com", "com", "net", "asia"];
    (0..n)
        .map(|i| {
            let coexistence = i == 0;
            let name = if coexistence {
                format!("{tenant}.mail.onmicrosoft.com")
            } else if i % 3 == 0 {
                format!("{}{i:03}.{tenant}.co.jp", rng.pick(WORDS))
            } else {
                format!("{tenant}-{}{i:03}.{}", rng.pick(WORDS), rng.pick(TLDS))
            };
            let spf = if coexistence {
                0
            } else {
                match rng.below(100) {
                    0..=77 => 0,
                    78..=85 => 1,
                    86..=88 => 2,
                    89..=93 => 3,
                    _ => 4,
                }
            };
            let mut verification = Vec::new();
            if !coexistence && rng.chance(40) {
                verification.push(format!("MS=ms{:08}", rng.next() % 100_000_000));
            }
            if !coexistence && rng.chance(15) {
                verification.push(format!(
                    "google-site-verification={}",
                    base64_text(rng, 43).replace(['+', '/'], "_")
                ));
            }
            let dkim_enabled = coexistence || rng.chance(88);
            let published = !coexistence
                && if dkim_enabled {
                    rng.chance(96)
                } else {
                    rng.chance(30)
                };
            let dkim_key = published.then(|| {
                format!(
                    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA{}IDAQAB;",
                    base64_text(rng, 342)
                )
            });
            let dmarc = match rng.below(100) {
                0..=61 => 0,
                62..=69 => 1,
                70..=81 => 2,
                82..=89 => 3,
                90..=97 => 4,
                _ => 5,
            };
            MailDomain {
                name,
                coexistence,
                spf,
                verification,
                dkim_enabled,
                dkim_key,
                dmarc,
                created_ms: 1_500_000_000_000 + (rng.next() % 290_000_000_000) as i64,
            }
        })
        .collect()
}

fn accepted_domain(d: &MailDomain, initial: &str, rng: &mut Rng) -> Value {
    json!({
        "DomainName": d.name, "CatchAllRecipientID": null, "DomainType": "Authoritative", "MatchSubDomains": false,
        "AddressBookEnabled": true, "Default": false, "EmailOnly": false, "ExternallyManaged": false,
        "AuthenticationType": "Managed", "LiveIdInstanceType": "Business", "PendingRemoval": false, "PendingCompletion": false,
        "OutboundOnly": false, "IsCoexistenceDomain": d.coexistence, "SendingFromDomainDisabled": false,
        "SendingToDomainDisabled": false, "SmtpDaneStatus": "Disabled", "InitialDomain": false, "AdminDisplayName": "",
        "Name": d.name, "Identity": d.name, "Id": d.name, "Guid": rng.uuid(), "OrganizationalUnitRoot": initial,
        "WhenChanged": ms_date(d.created_ms + 86_400_000), "WhenCreated": ms_date(d.created_ms), "IsValid": true, "ObjectState": "Unchanged",
    })
}

/// A TXT lookup in ScubaGear's log shape.
fn dns_log(name: &str, answers: &[String]) -> Value {
    let result = if answers.is_empty() {
        "Query returned NXDomain".to_string()
    } else {
        format!("Query returned {} txt records", answers.len())
    };
    json!({"query_method": "traditional", "query_answers": answers, "query_result": result, "query_name": name})
}

fn spf_entry(d: &MailDomain, tenant: &str) -> Value {
    let policy = match d.spf {
        0 => Some("v=spf1 include:spf.protection.outlook.com -all".to_string()),
        1 => Some(
            "v=spf1 include:spf.protection.outlook.com include:_spf.salesforce.com ~all"
                .to_string(),
        ),
        2 => Some(format!("v=spf1 redirect=_spf.{tenant}.co.jp")),
        3 => Some("v=spf1 include:spf.protection.outlook.com ?all".to_string()),
        _ => None,
    };
    let mut rdata = d.verification.clone();
    if let Some(p) = policy {
        rdata.insert(rdata.len() / 2, p);
    }
    let compliant = d.spf <= 2;
    let message = if compliant {
        "SPF record found."
    } else if d.spf == 3 {
        "SPF record found, but it does not fail unapproved senders or redirect to one that does."
    } else if !rdata.is_empty() {
        "Domain name exists but no SPF records returned."
    } else {
        "Domain does not exist."
    };
    json!({"domain": d.name, "compliant": compliant, "message": message, "rdata": rdata, "log": [dns_log(&d.name, &rdata)]})
}

fn dkim_config_entry(d: &MailDomain, initial: &str, rng: &mut Rng) -> Value {
    let dashed = d.name.replace('.', "-");
    json!({
        "Domain": d.name, "AdminDisplayName": "", "Selector1KeySize": 2048,
        "Selector1CNAME": format!("selector1-{dashed}._domainkey.{initial}"), "Selector1PublicKey": d.dkim_key,
        "Selector2KeySize": 2048, "Selector2CNAME": format!("selector2-{dashed}._domainkey.{initial}"),
        "Enabled": d.dkim_enabled, "IsDefault": false, "HeaderCanonicalization": "Relaxed", "BodyCanonicalization": "Relaxed",
        "Algorithm": "RsaSHA256", "NumberOfBytesToSign": "All", "KeyCreationTime": ms_date(d.created_ms),
        "RotateOnDate": ms_date(d.created_ms + 4 * 86_400_000), "SelectorBeforeRotateOnDate": "selector2", "SelectorAfterRotateOnDate": "selector1",
        "Status": if d.dkim_key.is_some() || d.coexistence { "Valid" } else { "CnameMissing" },
        "Identity": d.name, "Id": d.name, "Name": d.name, "IsValid": true, "Guid": rng.uuid(), "ObjectState": "Unchanged",
    })
}

fn dkim_record(d: &MailDomain) -> Value {
    let dashed = d.name.replace('.', "-");
    let answers: Vec<String> = d.dkim_key.iter().cloned().collect();
    let log: Vec<Value> = if answers.is_empty() {
        [
            format!("selector1._domainkey.{}", d.name),
            format!("selector2._domainkey.{}", d.name),
            format!("selector1-{dashed}._domainkey.{}", d.name),
            format!("selector2-{dashed}._domainkey.{}", d.name),
        ]
        .iter()
        .map(|n| dns_log(n, &[]))
        .collect()
    } else {
        vec![dns_log(
            &format!("selector1._domainkey.{}", d.name),
            &answers,
        )]
    };
    json!({"domain": d.name, "rdata": answers, "log": log})
}

fn dmarc_record(d: &MailDomain, tenant: &str) -> Value {
    let rua = format!("mailto:dmarc-rua@{tenant}.co.jp");
    let ruf = format!("mailto:dmarc-ruf@{tenant}.co.jp");
    let record = match d.dmarc {
        0 => Some(format!(
            "v=DMARC1; p=reject; pct=100; rua={rua}; ruf={ruf}; fo=1"
        )),
        1 => Some(format!("v=DMARC1; p=reject; pct=100; rua={rua}")),
        2 => Some(format!(
            "v=DMARC1; p=quarantine; pct=100; rua={rua}; ruf={ruf}"
        )),
        3 => Some(format!("v=DMARC1; p=none; rua={rua}")),
        4 => None,
        _ => Some("v=DMARC1 p=reject".to_string()),
    };
    let answers: Vec<String> = record.into_iter().collect();
    json!({"domain": d.name, "rdata": answers, "log": [dns_log(&format!("_dmarc.{}", d.name), &answers)]})
}

// ---------------------------------------------------------------------------------------------
// Exchange, Purview, Teams and Power Platform collections of large tenants.
// ---------------------------------------------------------------------------------------------

const DEPARTMENTS: &[&str] = &[
    "営業部",
    "経理部",
    "人事部",
    "開発部",
    "法務部",
    "情報システム部",
    "大阪支社",
    "名古屋支店",
    "Sales",
    "Engineering",
    "Marketing",
    "Customer Success",
    "US Subsidiary",
];

/// Transport rules: external-sender tags and disclaimers, attachment blocks, spam-filter
/// bypasses for partners (a weak setting), encryption and journaling of outbound mail.
fn transport_rules(rng: &mut Rng, n: usize, first_priority: usize, tenant: &str) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let dept = rng.pick(DEPARTMENTS);
            let priority = first_priority + i;
            let state = if rng.chance(88) { "Enabled" } else { "Disabled" };
            let mode = *rng.pick(&["Enforce", "Enforce", "Enforce", "Enforce", "Enforce", "Audit", "AuditAndNotify"]);
            let mut rule = json!({
                "Priority": priority, "Comments": null, "CreatedBy": format!("admin{:04}@{tenant}.co.jp", rng.below(2_000)),
                "State": state, "Mode": mode, "RuleErrorAction": "Ignore", "SenderAddressLocation": "Header",
                "FromScope": null, "SentToScope": null, "SenderDomainIs": null, "RecipientDomainIs": null,
                "AttachmentExtensionMatchesWords": null, "SetSCL": null, "PrependSubject": null,
                "ApplyHtmlDisclaimerText": null, "ApplyHtmlDisclaimerLocation": null, "RejectMessageReasonText": null,
                "ApplyOME": false, "BlindCopyTo": null, "ExceptIfSentToMemberOf": null,
                "Guid": rng.uuid(), "WhenChanged": ms_date(1_690_000_000_000 + (rng.next() % 100_000_000_000) as i64),
            });
            let (name, description) = match rng.below(10) {
                0..=2 => {
                    rule["FromScope"] = json!("NotInOrganization");
                    rule["PrependSubject"] = json!(rng.pick(&["[外部]", "[External]", "【社外】"]));
                    if rng.chance(50) {
                        rule["ApplyHtmlDisclaimerText"] = json!("<p style=\"color:#b00\">このメールは社外から送信されました。添付ファイルやリンクに注意してください。</p>");
                        rule["ApplyHtmlDisclaimerLocation"] = json!("Prepend");
                    }
                    (format!("外部メールの警告 - {dept} {i:03}"), "If the message:\r\n\tIs received from 'Outside the organization'\r\nTake the following actions:\r\n\tPrepend the subject with a tag\r\n")
                }
                3..=4 => {
                    rule["AttachmentExtensionMatchesWords"] = json!(["exe", "js", "vbs", "scr", "iso", "lnk", "hta"]);
                    rule["RejectMessageReasonText"] = json!("実行形式の添付ファイルは受信できません。");
                    (format!("Block executable attachments {i:03}"), "If the message:\r\n\tHas an attachment with an extension that includes an executable type\r\nTake the following actions:\r\n\treject the message\r\n")
                }
                5 => {
                    rule["SenderDomainIs"] = json!([format!("partner{:03}.example.co.jp", rng.below(500)), format!("vendor{:03}.example.com", rng.below(500))]);
                    rule["SetSCL"] = json!(-1);
                    (format!("取引先のスパム判定をバイパス {i:03}"), "If the message:\r\n\tIs sent from a listed domain\r\nTake the following actions:\r\n\tSet the spam confidence level (SCL) to '-1'\r\n")
                }
                6..=7 => {
                    rule["SentToScope"] = json!("NotInOrganization");
                    rule["ApplyOME"] = json!(true);
                    rule["SubjectOrBodyContainsWords"] = json!(["社外秘", "Confidential", "機密"]);
                    (format!("{dept} - 機密メールの暗号化 {i:03}"), "If the message:\r\n\tIs sent to 'Outside the organization'\r\n\tand Includes confidential words\r\nTake the following actions:\r\n\tApply Office 365 Message Encryption\r\n")
                }
                _ => {
                    rule["SentToScope"] = json!("NotInOrganization");
                    rule["BlindCopyTo"] = json!([format!("journal@{tenant}.co.jp")]);
                    rule["ApplyHtmlDisclaimerText"] = json!(format!("{dept} / {tenant} 株式会社"));
                    rule["ApplyHtmlDisclaimerLocation"] = json!("Append");
                    (format!("Outbound signature and journal - {dept} {i:03}"), "If the message:\r\n\tIs sent to 'Outside the organization'\r\nTake the following actions:\r\n\tAppend a disclaimer and Blind carbon copy (Bcc) the message\r\n")
                }
            };
            rule["Name"] = json!(name);
            rule["Identity"] = json!(name);
            rule["Description"] = json!(description);
            rule
        })
        .collect()
}

fn remote_domains(rng: &mut Rng, n: usize) -> Vec<Value> {
    const PARTNERS: &[&str] = &[
        "さくら物流",
        "ひので商事",
        "みどり銀行",
        "あおば証券",
        "Contoso Partners",
        "Fabrikam",
        "Northwind Traders",
        "Tailspin Toys",
        "東海精機",
        "北斗システム",
    ];
    (0..n)
        .map(|i| {
            let partner = format!("{} {i:03}", rng.pick(PARTNERS));
            let domain = format!(
                "partner{i:03}.{}",
                rng.pick(&["co.jp", "jp", "com", "net"])
            );
            json!({"Identity": partner, "Name": partner, "DomainName": domain, "AutoForwardEnabled": rng.chance(8),
                   "AutoReplyEnabled": rng.chance(70), "AllowedOOFType": *rng.pick(&["External", "ExternalLegacy", "InternalLegacy"]),
                   "DeliveryReportEnabled": rng.chance(50), "NDREnabled": true, "IsInternal": false,
                   "CharacterSet": "iso-2022-jp", "ContentType": "MimeHtmlText", "TNEFEnabled": null, "TrustedMailOutboundEnabled": false})
        })
        .collect()
}

const SENSITIVE_TYPES: &[(&str, &str)] = &[
    (
        "Japan My Number - Personal",
        "98da8e66-7299-4ebd-9f82-c871ab37d3ef",
    ),
    (
        "Japan Bank Account Number",
        "d354f95b-96ee-4b80-80bc-4377312b55bc",
    ),
    (
        "U.S. Social Security Number (SSN)",
        "a44669fe-0d48-453d-a9b1-2cc83f2cba77",
    ),
    (
        "U.S. Individual Taxpayer Identification Number (ITIN)",
        "e55e2a32-f92d-4985-a35d-a0b269eb687b",
    ),
    ("Credit Card Number", "50842eb7-edc8-4019-85dd-5a5c1f2bb085"),
    (
        "U.S. / U.K. Passport Number",
        "178ec42a-18b4-47cc-85c7-d62c92fd67f8",
    ),
];

/// Purview DLP policies and their rules: most enforced, some in test mode or off; simple rules
/// list sensitive information types, advanced rules carry them in an AdvancedRule document.
fn dlp_compliance(
    rng: &mut Rng,
    policies: usize,
    rules: usize,
    first_priority: usize,
    tenant: &str,
) -> (Vec<Value>, Vec<Value>) {
    const WORKLOADS: &[(&str, [bool; 5])] = &[
        (
            "Exchange, SharePoint, OneDriveForBusiness, Teams",
            [true, true, true, true, false],
        ),
        (
            "Exchange, SharePoint, OneDriveForBusiness",
            [true, true, true, false, false],
        ),
        ("Exchange", [true, false, false, false, false]),
        ("EndpointDevices", [false, false, false, false, true]),
        (
            "Exchange, SharePoint, OneDriveForBusiness, Teams, EndpointDevices",
            [true, true, true, true, true],
        ),
    ];
    let mut policy_names = Vec::with_capacity(policies);
    let policy_list: Vec<Value> = (0..policies)
        .map(|i| {
            let name = format!(
                "{} - {} {i:03}",
                rng.pick(&["個人情報保護", "PII protection", "顧客データ保護", "Financial data", "機密情報の外部共有制限"]),
                rng.pick(DEPARTMENTS)
            );
            policy_names.push(name.clone());
            let mode = *rng.pick(&["Enable", "Enable", "Enable", "Enable", "TestWithNotifications", "TestWithoutNotifications", "Disable"]);
            let (workload, at) = *rng.pick(WORKLOADS);
            let all = |on: bool| if on { json!(["All"]) } else { json!([]) };
            json!({"Name": name, "DisplayName": name, "Type": "Dlp", "Mode": mode, "Enabled": mode != "Disable",
                   "Priority": first_priority + i, "Workload": workload,
                   "ExchangeLocation": all(at[0]), "SharePointLocation": all(at[1]), "OneDriveLocation": all(at[2]),
                   "TeamsLocation": all(at[3]), "EndpointDlpLocation": all(at[4]),
                   "ExchangeLocationException": [], "SharePointLocationException": [], "OneDriveLocationException": [],
                   "TeamsLocationException": [], "EndpointDlpLocationException": [],
                   "Comment": format!("{tenant} 情報セキュリティ委員会 承認済み"), "DistributionStatus": "Success",
                   "IsSimulationPolicy": false, "Guid": rng.uuid(), "ImmutableId": rng.uuid(),
                   "WhenChanged": ms_date(1_700_000_000_000 + (rng.next() % 90_000_000_000) as i64)})
        })
        .collect();
    let rule_list = (0..rules)
        .map(|i| {
            let parent = if policy_names.is_empty() {
                "(none)".to_string()
            } else {
                policy_names[i % policy_names.len()].clone()
            };
            let mut types: Vec<(&str, &str)> = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let t = *rng.pick(SENSITIVE_TYPES);
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            let name = format!("{} {i:03}", rng.pick(&["外部送信をブロック", "Block external sharing", "Low volume of content detected", "High volume of content detected", "監査のみ"]));
            let advanced = rng.chance(20);
            let mut rule = json!({
                "Name": name, "ParentPolicyName": parent, "Disabled": rng.chance(8), "Mode": "Enforce",
                "IsAdvancedRule": advanced, "BlockAccess": rng.chance(70), "BlockAccessScope": *rng.pick(&["All", "PerUser", "PerAnonymousUser"]),
                "NotifyUser": ["SiteAdmin", "LastModifier", "Owner"], "NotifyUserType": "NotSet", "NotifyPolicyTipDisplayOption": "Tip",
                "GenerateIncidentReport": [format!("security@{tenant}.co.jp")], "GenerateAlert": [format!("security@{tenant}.co.jp")],
                "ReportSeverityLevel": *rng.pick(&["Low", "Medium", "High"]), "AccessScope": "NotInOrganization",
                "Workload": "Exchange, SharePoint, OneDriveForBusiness, Teams", "Priority": i, "Guid": rng.uuid(), "ImmutableId": rng.uuid(),
            });
            if advanced {
                let sensitive: Vec<String> = types
                    .iter()
                    .map(|(n, id)| format!("{{\r\n                    \"Name\": \"{n}\",\r\n                    \"Id\": \"{id}\",\r\n                    \"Mincount\": 1,\r\n                    \"Maxcount\": -1,\r\n                    \"Confidencelevel\": \"Medium\",\r\n                    \"Minconfidence\": 75,\r\n                    \"Maxconfidence\": 100\r\n                  }}"))
                    .collect();
                rule["AdvancedRule"] = json!(format!("{{\r\n  \"Version\": \"1.0\",\r\n  \"Condition\": {{\r\n    \"Operator\": \"And\",\r\n    \"SubConditions\": [\r\n      {{\r\n        \"ConditionName\": \"ContentContainsSensitiveInformation\",\r\n        \"Value\": [\r\n          {{\r\n            \"Groups\": [\r\n              {{\r\n                \"Name\": \"Default\",\r\n                \"Operator\": \"Or\",\r\n                \"Sensitivetypes\": [\r\n                  {}\r\n                ]\r\n              }}\r\n            ],\r\n            \"Operator\": \"And\"\r\n          }}\r\n        ]\r\n      }}\r\n    ]\r\n  }}\r\n}}", sensitive.join(",\r\n                  ")));
                rule["ContentContainsSensitiveInformation"] = Value::Null;
            } else {
                rule["ContentContainsSensitiveInformation"] = Value::Array(
                    types
                        .iter()
                        .map(|(n, id)| json!({"name": n, "id": id, "mincount": "1", "maxcount": "-1", "minconfidence": "75", "maxconfidence": "100", "confidencelevel": "Medium", "classifiertype": "Content"}))
                        .collect(),
                );
            }
            rule
        })
        .collect();
    (policy_list, rule_list)
}

/// Alert policies: Microsoft's system alerts beyond the demo's, and one alert per DLP rule.
fn protection_alerts(rng: &mut Rng, n: usize, dlp_rules: &[Value], tenant: &str) -> Vec<Value> {
    const SYSTEM: &[(&str, &str, &str)] = &[
        (
            "Unusual external user file activity",
            "DataGovernance",
            "Medium",
        ),
        (
            "Unusual volume of external file sharing",
            "DataGovernance",
            "Medium",
        ),
        (
            "Unusual volume of file deletion",
            "DataGovernance",
            "Medium",
        ),
        (
            "Malware campaign detected after delivery",
            "ThreatManagement",
            "Informational",
        ),
        (
            "Malware campaign detected and blocked",
            "ThreatManagement",
            "Low",
        ),
        (
            "Phish delivered due to tenant or user override",
            "ThreatManagement",
            "Informational",
        ),
        (
            "eDiscovery search started or exported",
            "ThreatManagement",
            "Medium",
        ),
        (
            "Form blocked due to potential phishing attempt",
            "ThreatManagement",
            "High",
        ),
        (
            "Admin triggered user compromise investigation",
            "ThreatManagement",
            "Medium",
        ),
        (
            "Admin Submission result completed",
            "ThreatManagement",
            "Informational",
        ),
        (
            "Remote URL Malicious Content Detection",
            "ThreatManagement",
            "High",
        ),
        (
            "Suspicious Email Sending Patterns Detected",
            "ThreatManagement",
            "Medium",
        ),
        ("Device Bulk Delete", "ThreatManagement", "Medium"),
        (
            "Teams message reported by user as security risk",
            "ThreatManagement",
            "Informational",
        ),
    ];
    const ACTIVITIES: &[&str] = &[
        "外部共有リンクの大量作成",
        "大量ダウンロード",
        "メールボックスのアクセス許可の変更",
        "Mass file download",
        "Admin role assigned",
        "Inbox rule forwarding externally",
        "ゲスト ユーザーの招待",
        "Sensitivity label removed",
    ];
    (0..n)
        .map(|i| {
            let (name, category, severity, system) = if i < SYSTEM.len() {
                let (n, c, s) = SYSTEM[i];
                (n.to_string(), c, s, true)
            } else if i % 2 == 0 && !dlp_rules.is_empty() {
                let rule = &dlp_rules[(i / 2) % dlp_rules.len()];
                let name = format!("DLP-{}", rule["Name"].as_str().unwrap_or("rule"));
                (name, "DataLossPrevention", "Low", false)
            } else {
                let name = format!("{} - {} {i:03}", rng.pick(ACTIVITIES), rng.pick(DEPARTMENTS));
                let category = *rng.pick(&["ThreatManagement", "DataGovernance", "InformationGovernance", "Others"]);
                (name, category, *rng.pick(&["Low", "Medium", "High"]), false)
            };
            let disabled = rng.chance(10);
            json!({"Name": name, "Category": category, "Severity": severity, "ThreatType": "Activity", "Disabled": disabled,
                   "IsSystemRule": system, "NotificationEnabled": !disabled && rng.chance(80),
                   "NotifyUser": if rng.chance(70) { json!([format!("security@{tenant}.co.jp")]) } else { json!(["TenantAdmins"]) },
                   "AggregationType": *rng.pick(&["None", "SimpleAggregation"]), "Mode": "Enforce", "Operation": [],
                   "Guid": rng.uuid(), "Comment": ""})
        })
        .collect()
}

/// Teams meeting policies assigned to departments and groups: most follow the baseline, some let
/// anonymous users start meetings or dial-in users bypass the lobby.
fn meeting_policies(rng: &mut Rng, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let loose = rng.chance(12);
            json!({
                "Identity": format!("Tag:{} 会議ポリシー {i:03}", rng.pick(DEPARTMENTS)),
                "Description": *rng.pick(&["", "部門標準", "Executive meetings", "外部との打ち合わせ用"]),
                "AllowExternalParticipantGiveRequestControl": loose && rng.chance(50),
                "AllowAnonymousUsersToJoinMeeting": rng.chance(60),
                "AllowAnonymousUsersToStartMeeting": loose && rng.chance(40),
                "AutoAdmittedUsers": *rng.pick(&["EveryoneInCompanyExcludingGuests", "EveryoneInCompanyExcludingGuests", "EveryoneInSameAndFederatedCompany", "OrganizerOnly", "Everyone"]),
                "AllowPSTNUsersToBypassLobby": loose && rng.chance(50),
                "MeetingChatEnabledType": "Enabled", "AllowCloudRecording": rng.chance(70), "AllowRecordingStorageOutsideRegion": loose,
                "AllowExternalNonTrustedMeetingChat": loose, "DesignatedPresenterRoleMode": "EveryoneUserOverride",
                "AllowTranscription": rng.chance(60), "AllowMeetNow": true, "AllowIPVideo": true, "AllowIPAudio": true,
                "ScreenSharingMode": "EntireScreen", "AllowWhiteboard": true, "AllowSharedNotes": true, "AllowBreakoutRooms": true,
                "LiveCaptionsEnabledType": "DisabledUserOverride", "NewMeetingRecordingExpirationDays": *rng.pick(&[60, 120, -1]),
                "AllowPrivateMeetingScheduling": true, "AllowChannelMeetingScheduling": true, "AllowOutlookAddIn": true,
            })
        })
        .collect()
}

fn environments(rng: &mut Rng, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let kind = *rng.pick(&["Production", "Production", "Sandbox", "Sandbox", "Developer", "Trial"]);
            let label = match kind {
                "Production" => "本番",
                "Sandbox" => "検証",
                "Developer" => "開発",
                _ => "試用",
            };
            json!({"EnvironmentName": rng.uuid(), "DisplayName": format!("{} - {label} {i:03}", rng.pick(DEPARTMENTS)),
                   "IsDefault": false, "Location": *rng.pick(&["japan", "japan", "asia", "unitedstates"]), "EnvironmentType": kind,
                   "CreatedTime": format!("20{:02}-{:02}-{:02}T0{}:12:34.5678901Z", 21 + rng.below(5), 1 + rng.below(12), 1 + rng.below(28), rng.below(10))})
        })
        .collect()
}

/// Power Platform DLP policies scoped to some environments (or all but some).
fn power_platform_dlp(rng: &mut Rng, n: usize, envs: &[Value]) -> Vec<Value> {
    let connector = |name: &str, display: &str| json!({"id": format!("/providers/Microsoft.PowerApps/apis/{name}"), "name": display, "type": "Microsoft.PowerApps/apis"});
    (0..n)
        .map(|i| {
            let only = rng.chance(75);
            let count = if only { 2 + rng.below(12) } else { 1 + rng.below(4) };
            let scope: Vec<Value> = (0..count.min(envs.len()))
                .map(|_| {
                    let e = &envs[rng.below(envs.len())];
                    let name = e["EnvironmentName"].as_str().unwrap_or_default();
                    json!({"id": format!("/providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/{name}"), "name": name, "type": "Microsoft.BusinessAppPlatform/scopes/environments"})
                })
                .collect();
            let owner = format!("{} {}", rng.pick(FAMILY_JA), rng.pick(GIVEN_JA));
            json!({
                "name": rng.uuid(), "displayName": format!("{} DLP ポリシー {i:03}", rng.pick(DEPARTMENTS)),
                "environmentType": if only { "OnlyEnvironments" } else { "ExceptEnvironments" }, "environments": scope,
                "createdBy": {"displayName": owner}, "createdTime": "2025-04-01T00:00:00.000Z",
                "lastModifiedBy": {"displayName": owner}, "lastModifiedTime": "2026-09-01T00:00:00.000Z",
                "defaultConnectorsClassification": *rng.pick(&["General", "General", "Blocked"]),
                "connectorGroups": [
                    {"classification": "Confidential", "connectors": [connector("shared_sharepointonline", "SharePoint"), connector("shared_office365", "Office 365 Outlook"), connector("shared_commondataserviceforapps", "Microsoft Dataverse")]},
                    {"classification": "General", "connectors": [connector("shared_planner", "Planner"), connector("shared_todo", "Microsoft To Do (Business)")]},
                    {"classification": "Blocked", "connectors": [connector("shared_dropbox", "Dropbox"), connector("shared_gmail", "Gmail"), connector("shared_ftp", "FTP")]},
                ],
            })
        })
        .collect()
}

/// Appends `items` to the array section `name` of `out` (creating it when absent).
fn append(out: &mut Map<String, Value>, name: &str, items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    match out.get_mut(name) {
        Some(Value::Array(existing)) => existing.extend(items),
        _ => {
            out.insert(name.to_string(), Value::Array(items));
        }
    }
}

/// The ScubaGear provider export of a generated tenant.
pub fn m365_tenant(size: TenantSize, seed: u64, tenant_name: &str) -> Value {
    let mut rng = Rng::new(seed);
    // The collections beyond the demo's are drawn from their own stream, so that the demo
    // tenant stays what it was.
    let c = size.collections();
    let mut xr = Rng::new(seed ^ 0x4C41_5247_4520_5445);
    let roles = roles_used(c.privileged_roles);
    let extra_domains = mail_domains(&mut xr, c.accepted_domains.saturating_sub(3), tenant_name);
    let domain = format!("{tenant_name}.onmicrosoft.com");
    let custom_domain = format!("{tenant_name}.co.jp");
    let tenant_id = rng.uuid();
    let break_glass = rng.uuid();
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };

    put("baseline_version", json!("1"));
    put("module_version", json!("1.8.0"));
    put("tenant_id", json!(tenant_id));
    put("timestamp_zulu", json!("2026-11-26T00:00:00.000Z"));
    put("report_uuid", json!(rng.uuid()));
    put(
        "scuba_config",
        json!({"ProductNames": ["aad", "defender", "exo", "powerbi", "powerplatform", "sharepoint", "teams", "securitysuite"], "M365Environment": "commercial", "OrgName": tenant_name}),
    );
    put(
        "tenant_details",
        json!([{"DisplayName": tenant_name, "DomainName": domain, "TenantId": tenant_id}]),
    );

    // --- Entra ID: conditional access. The first policies are the baseline set, some of them
    // deliberately weak; the rest are filler typical of large tenants.
    let mfa_strength = "00000000-0000-0000-0000-000000000004";
    let mut policies = vec![
        ca_policy(
            &mut rng,
            "BLOCK - Legacy authentication",
            "enabled",
            conditions(
                all_users(std::slice::from_ref(&break_glass), &[]),
                all_apps(),
                &["exchangeActiveSync", "other"],
                &[],
                &[],
            ),
            grant(&["block"], None),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "BLOCK - High user risk",
            "enabled",
            conditions(
                all_users(std::slice::from_ref(&break_glass), &[]),
                all_apps(),
                &["all"],
                &["high"],
                &[],
            ),
            grant(&["block"], None),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "BLOCK - High sign-in risk (report only)",
            "enabledForReportingButNotEnforced",
            conditions(all_users(&[], &[]), all_apps(), &["all"], &[], &["high"]),
            grant(&["block"], None),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "全ユーザー - 多要素認証を要求",
            "enabled",
            conditions(
                all_users(std::slice::from_ref(&break_glass), &[]),
                all_apps(),
                &["all"],
                &[],
                &[],
            ),
            grant(&["mfa"], None),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "管理者 - フィッシング耐性のある MFA",
            "enabled",
            conditions(
                json!({"IncludeUsers": [], "ExcludeUsers": [], "IncludeGroups": [], "ExcludeGroups": [],
                "IncludeRoles": ROLES.iter().take(4).map(|r| r.1).collect::<Vec<_>>(), "ExcludeRoles": [],
                "IncludeGuestsOrExternalUsers": null, "ExcludeGuestsOrExternalUsers": null}),
                all_apps(),
                &["all"],
                &[],
                &[],
            ),
            grant(&[], Some(mfa_strength)),
            Value::Null,
        ),
        ca_policy(
            &mut rng,
            "Session - browser sign-in every 12 hours",
            "enabled",
            conditions(all_users(&[], &[]), all_apps(), &["browser"], &[], &[]),
            Value::Null,
            json!({"SignInFrequency": {"IsEnabled": true, "Type": "hours", "Value": 12, "AuthenticationType": "primaryAndSecondaryAuthentication", "FrequencyInterval": "timeBased"},
                   "PersistentBrowser": {"IsEnabled": true, "Mode": "never"}}),
        ),
    ];
    for i in policies.len()..size.ca_policies {
        let state = *rng.pick(&["enabled", "disabled", "enabledForReportingButNotEnforced"]);
        let name = format!(
            "{} {:03}",
            rng.pick(&[
                "部門アプリ - 社外アクセス制御",
                "Partner portal - compliant device",
                "営業部 - モバイル アクセス",
                "Finance - trusted locations"
            ]),
            i
        );
        let p = ca_policy(
            &mut rng,
            &name,
            state,
            conditions(
                json!({"IncludeUsers": [], "ExcludeUsers": [], "IncludeGroups": [format!("group-{i}")], "ExcludeGroups": [],
                "IncludeRoles": [], "ExcludeRoles": [], "IncludeGuestsOrExternalUsers": null, "ExcludeGuestsOrExternalUsers": null}),
                json!({"IncludeApplications": [format!("app-{i}")], "ExcludeApplications": [], "IncludeUserActions": [],
                       "IncludeAuthenticationContextClassReferences": [], "ApplicationFilter": null}),
                &["all"],
                &[],
                &[],
            ),
            grant(&["compliantDevice", "domainJoinedDevice"], None),
            Value::Null,
        );
        policies.push(p);
    }
    put("conditional_access_policies", Value::Array(policies));

    put(
        "authorization_policies",
        json!([{
            "Id": "authorizationPolicy", "DisplayName": "Authorization Policy",
            "AllowInvitesFrom": "everyone",
            "GuestUserRoleId": "10dae51f-b6af-4016-8d66-8c2a99b929b3",
            "PermissionGrantPolicyIdsAssignedToDefaultUserRole": ["ManagePermissionGrantsForSelf.microsoft-user-default-legacy"],
            "DefaultUserRolePermissions": {"AllowedToCreateApps": true, "AllowedToCreateSecurityGroups": true, "AllowedToCreateTenants": false, "AllowedToReadOtherUsers": true, "AllowedToReadBitlockerKeysForOwnedDevice": true},
            "AllowedToUseSSPR": true, "BlockMsolPowerShell": true, "AllowUserConsentForRiskyApps": false,
            "AllowEmailVerifiedUsersToJoinOrganization": false, "AllowedToSignUpEmailBasedSubscriptions": false, "EnabledPreviewFeatures": [],
        }]),
    );
    put(
        "directory_settings",
        json!([{"Id": rng.uuid(), "TemplateId": "62375ab9-6b52-47ed-826b-58e47e0e304b", "DisplayName": "Group.Unified",
        "Values": [{"Name": "EnableGroupCreation", "Value": "true"}, {"Name": "EnableAdminConsentRequests", "Value": "false"}]}]),
    );

    // Privileged users and role assignments: a few permanent global admins, some via PIM.
    let mut privileged_users = Map::new();
    let mut mamori_users = Vec::new();
    let mut assignments: Vec<Vec<Value>> = vec![Vec::new(); roles.len()];
    let mut held: Vec<u32> = Vec::with_capacity(size.privileged_users);
    let mut ids: Vec<String> = Vec::with_capacity(size.privileged_users);
    for i in 0..size.privileged_users {
        let id = if i == 0 {
            break_glass.clone()
        } else {
            rng.uuid()
        };
        let (name, _) = if i == 0 {
            (
                "緊急アクセス用アカウント (break-glass)".to_string(),
                String::new(),
            )
        } else {
            person(&mut rng, i)
        };
        let role_index = if i < 7 {
            0
        } else {
            1 + rng.below(roles.len() - 1)
        };
        let (role_name, role_id) = roles[role_index];
        held.push(1 << role_index);
        ids.push(id.clone());
        let permanent = i < 7 || rng.chance(30);
        // Mamori's own collector adds sign-in activity and registered methods: most admins use
        // a passkey and signed in this week; a few rely on the Authenticator app; one is stale.
        let last_sign_in = if i % 11 == 5 {
            "2026-06-01T09:00:00Z"
        } else {
            "2026-11-24T09:00:00Z"
        };
        let method = if i == 0 || i % 4 == 0 {
            "#microsoft.graph.fido2AuthenticationMethod"
        } else if i % 4 == 1 {
            "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"
        } else {
            "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
        };
        mamori_users.push(json!({
            "id": id, "displayName": name, "userPrincipalName": format!("admin{i:04}@{tenant_name}.co.jp"),
            "userType": "Member", "accountEnabled": true,
            "signInActivity": {"lastSuccessfulSignInDateTime": last_sign_in},
            "authenticationMethods": [{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "pw"}, {"@odata.type": method, "id": format!("m{i}")}],
            "roleAssignments": [{"roleDefinitionId": role_id, "roleDefinition": {"displayName": role_name, "isBuiltIn": true, "isPrivileged": true}}],
        }));
        privileged_users.insert(id.clone(), json!({"DisplayName": name, "roles": [role_name],
            "OnPremisesImmutableId": if i == 3 { json!("b3BwcmVtLXN5bmNlZA==") } else { Value::Null }}));
        assignments[role_index].push(json!({
            "PrincipalId": id, "RoleDefinitionId": role_id, "DirectoryScopeId": "/", "MemberType": "Direct",
            "AssignmentType": if permanent { "Assigned" } else { "Activated" },
            "StartDateTime": ms_date(1_700_000_000_000), "EndDateTime": if permanent { Value::Null } else { json!(ms_date(1_800_000_000_000)) },
        }));
    }
    // Large tenants' administrators hold two roles on average: extra assignments, never a role
    // twice.
    let extra = c.role_assignments.saturating_sub(size.privileged_users);
    let mut tries = 0;
    let mut added = 0;
    while added < extra && !ids.is_empty() && tries < extra * 20 {
        tries += 1;
        let u = xr.below(ids.len());
        // Global Administrator stays with the few accounts that hold it.
        let r = 1 + xr.below(roles.len() - 1);
        if held[u] & (1 << r) != 0 {
            continue;
        }
        held[u] |= 1 << r;
        added += 1;
        let (role_name, role_id) = roles[r];
        let permanent = xr.chance(25);
        if let Some(Value::Array(names)) = privileged_users
            .get_mut(&ids[u])
            .and_then(|p| p.get_mut("roles"))
        {
            names.push(json!(role_name));
        }
        if let Some(Value::Array(a)) = mamori_users[u].get_mut("roleAssignments") {
            a.push(json!({"roleDefinitionId": role_id, "roleDefinition": {"displayName": role_name, "isBuiltIn": true, "isPrivileged": true}}));
        }
        assignments[r].push(json!({
            "PrincipalId": ids[u], "RoleDefinitionId": role_id, "DirectoryScopeId": "/", "MemberType": "Direct",
            "AssignmentType": if permanent { "Assigned" } else { "Activated" },
            "StartDateTime": ms_date(1_700_000_000_000 + xr.below(90_000_000_000) as i64),
            "EndDateTime": if permanent { Value::Null } else { json!(ms_date(1_800_000_000_000)) },
        }));
    }
    put("privileged_users", Value::Object(privileged_users));
    put("mamori_collected_at", json!("2026-11-26T00:00:00Z"));
    put("mamori_users", Value::Array(mamori_users));
    let graph_sp = "sp-microsoft-graph";
    put(
        "mamori_service_principals",
        json!([
            {"id": graph_sp, "appId": "00000003-0000-0000-c000-000000000000", "displayName": "Microsoft Graph", "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a"},
            {"id": "sp-expense", "appId": rng.uuid(), "displayName": "経費精算クラウド", "appOwnerOrganizationId": rng.uuid()},
            {"id": "sp-mailmerge", "appId": rng.uuid(), "displayName": "MailMerge Pro", "appOwnerOrganizationId": rng.uuid()},
        ]),
    );
    put(
        "mamori_oauth2_permission_grants",
        json!([
            {"id": "g1", "clientId": "sp-expense", "consentType": "AllPrincipals", "principalId": null, "resourceId": graph_sp, "scope": "openid profile User.Read"},
            {"id": "g2", "clientId": "sp-mailmerge", "consentType": "AllPrincipals", "principalId": null, "resourceId": graph_sp, "scope": "openid Mail.ReadWrite Mail.Send"},
        ]),
    );
    put("privileged_roles", Value::Array(roles.iter().zip(assignments).map(|((name, id), a)| json!({
        "DisplayName": name, "RoleTemplateId": id, "Assignments": a,
        "Rules": [
            {"Id": "Expiration_Admin_Assignment", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyExpirationRule", "RuleSource": name, "RuleSourceType": "Directory Role", "IsExpirationRequired": *name != "Global Administrator", "MaximumDuration": "P180D",
             "Target": {"Caller": "Admin", "Level": "Assignment", "Operations": ["All"]}},
            {"Id": "Approval_EndUser_Assignment", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyApprovalRule", "RuleSource": name, "RuleSourceType": "Directory Role",
             "Setting": {"IsApprovalRequired": *name == "Global Administrator"}, "Target": {"Caller": "EndUser", "Level": "Assignment", "Operations": ["All"]}},
            {"Id": "Notification_Admin_Admin_Assignment", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule", "RuleSource": name, "RuleSourceType": "Directory Role",
             "NotificationRecipients": ["security@example.co.jp"], "IsDefaultRecipientsEnabled": true, "NotificationLevel": "All", "RecipientType": "Admin",
             "Target": {"Caller": "Admin", "Level": "Assignment", "Operations": ["All"]}},
            {"Id": "Notification_Admin_Admin_Eligibility", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule", "RuleSource": name, "RuleSourceType": "Directory Role",
             "NotificationRecipients": [], "IsDefaultRecipientsEnabled": true, "NotificationLevel": "All", "RecipientType": "Admin",
             "Target": {"Caller": "Admin", "Level": "Eligibility", "Operations": ["All"]}},
            {"Id": "Notification_Admin_EndUser_Assignment", "@odata.type": "#microsoft.graph.unifiedRoleManagementPolicyNotificationRule", "RuleSource": name, "RuleSourceType": "Directory Role",
             "NotificationRecipients": [], "IsDefaultRecipientsEnabled": true, "NotificationLevel": "All", "RecipientType": "Admin",
             "Target": {"Caller": "EndUser", "Level": "Assignment", "Operations": ["All"]}},
        ],
    })).collect()));
    // Service principals: most first-party, some third-party apps with risky application permissions.
    // Large tenants' applications list many permissions (application and delegated) and hold
    // credentials; those are drawn from `xr`.
    let picker = PermissionPicker::new();
    let mut sps = Vec::new();
    let mut risky_apps = Vec::new();
    for i in 0..size.service_principals {
        let name = format!(
            "{} {}",
            rng.pick(&[
                "経費精算",
                "勤怠管理",
                "CRM Connector",
                "Backup Service",
                "Survey",
                "Analytics"
            ]),
            i
        );
        let risky = rng.chance(5);
        let permission = if risky {
            "Mail.ReadWrite"
        } else {
            "User.Read.All"
        };
        let mut entry = json!({
            "ObjectId": rng.uuid(), "AppId": rng.uuid(), "DisplayName": name, "SignInAudience": "AzureADMultipleOrgs",
            "KeyCredentials": null, "PasswordCredentials": null, "FederatedCredentials": null,
            "AppOwnerOrganizationId": rng.uuid(),
            "Permissions": [{"RoleId": rng.uuid(), "RoleType": "Application", "RoleDisplayName": permission, "ApplicationDisplayName": "Microsoft Graph", "IsAdminConsented": true, "IsRisky": risky}],
        });
        if c.permissions_per_app > 1 {
            enrich_third_party(
                &mut entry,
                &mut xr,
                &picker,
                c.permissions_per_app,
                permission,
                risky,
            );
        }
        if risky {
            risky_apps.push(json!({"ObjectId": {"Application": rng.uuid(), "ServicePrincipal": entry["ObjectId"].clone()}, "AppId": entry["AppId"].clone(),
                "DisplayName": name, "IsMultiTenantEnabled": true, "KeyCredentials": null, "PasswordCredentials": [{"KeyId": rng.uuid(), "DisplayName": "secret", "StartDateTime": ms_date(1_700_000_000_000), "EndDateTime": ms_date(1_900_000_000_000), "IsFromApplication": true}],
                "FederatedCredentials": null, "Permissions": entry["Permissions"].clone()}));
        }
        sps.push(entry);
    }
    // The tenant's own applications with risky permissions, up to the collection's size.
    let own_apps = c.risky_applications.saturating_sub(risky_apps.len());
    risky_apps.reserve(own_apps);
    for i in 0..own_apps {
        risky_apps.push(own_risky_application(
            &mut xr,
            &picker,
            c.permissions_per_app,
            i,
        ));
    }
    put(
        "privileged_service_principals",
        privileged_service_principals(
            &mut xr,
            c.privileged_service_principals,
            &risky_apps[risky_apps.len() - own_apps..],
            &sps,
            &roles,
        ),
    );
    put("risky_third_party_service_principals", Value::Array(sps));
    put("risky_applications", Value::Array(risky_apps));
    put("risky_delegated_permission_classifications", json!([]));
    put("legacy_exchange_service_principal", json!([]));
    put("dedicated_exchange_hybrid_applications", json!([]));

    let restriction = |kind: &str, lifetime: Option<&str>| json!({"RestrictionType": kind, "State": "enabled", "MaxLifetime": lifetime, "RestrictForAppsCreatedAfterDateTime": null});
    let restrictions = json!({
        "PasswordCredentials": [restriction("passwordAddition", None), restriction("symmetricKeyAddition", None), restriction("passwordLifetime", Some("P365D")), restriction("symmetricKeyLifetime", Some("P365D"))],
        "KeyCredentials": [restriction("asymmetricKeyLifetime", Some("P365D"))],
    });
    put(
        "default_app_management_policy",
        json!([{"Id": "00000000-0000-0000-0000-000000000000", "DisplayName": "Default app management tenant policy", "IsEnabled": true,
        "ApplicationRestrictions": restrictions.clone(), "ServicePrincipalRestrictions": restrictions}]),
    );
    put(
        "authentication_method",
        json!([
            {"authentication_method_policy": {"PolicyMigrationState": "migrationComplete", "Id": "authenticationMethodsPolicy"}},
            {"authentication_method_feature_settings": [
                {"Id": "MicrosoftAuthenticator", "State": "enabled", "AdditionalProperties": {"featureSettings": {"displayLocationInformationRequiredState": {"state": "enabled"}, "displayAppInformationRequiredState": {"state": "enabled"}, "numberMatchingRequiredState": {"state": "enabled"}}}},
                {"Id": "Sms", "State": "enabled"}, {"Id": "Voice", "State": "disabled"}, {"Id": "Email", "State": "disabled"},
                {"Id": "Fido2", "State": "enabled"}, {"Id": "X509Certificate", "State": "disabled"},
            ]},
        ]),
    );
    let mut domain_settings = vec![
        json!({"Id": domain, "IsDefault": false, "IsVerified": true, "AuthenticationType": "Managed", "PasswordValidityPeriodInDays": 2147483647}),
        json!({"Id": custom_domain, "IsDefault": true, "IsVerified": true, "AuthenticationType": "Managed", "PasswordValidityPeriodInDays": 90}),
    ];
    for d in &extra_domains {
        let federated = !d.coexistence && xr.chance(8);
        domain_settings.push(json!({"Id": d.name, "IsDefault": false, "IsVerified": d.coexistence || xr.chance(97),
            "AuthenticationType": if federated { "Federated" } else { "Managed" },
            "PasswordValidityPeriodInDays": if xr.chance(90) { 2147483647 } else { *xr.pick(&[90, 180, 365]) }}));
    }
    put("domain_settings", Value::Array(domain_settings));
    put(
        "service_plans",
        json!([
            {"ServicePlanName": "AAD_PREMIUM_P2", "ServicePlanId": "eec0eb4f-6444-4f95-aba0-50c24d67f998", "ProvisioningStatus": "Success", "AppliesTo": "Company"},
            {"ServicePlanName": "EXCHANGE_S_ENTERPRISE", "ServicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0", "ProvisioningStatus": "Success", "AppliesTo": "User"},
            {"ServicePlanName": "ATP_ENTERPRISE", "ServicePlanId": "f20fedf3-f3c3-43c3-8267-2bfdd51c0939", "ProvisioningStatus": "Success", "AppliesTo": "User"},
        ]),
    );
    put(
        "license_information",
        json!([{"SkuPartNumber": "SPE_E5", "SkuId": "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "ConsumedUnits": size.users, "PrepaidUnits": {"Enabled": size.users + 20, "Warning": 0, "Suspended": 0, "LockedOut": 0}}]),
    );
    put(
        "license_state",
        json!([{"state": "Active", "is_expired": false, "is_expiring_soon": false, "has_active_plans": true, "has_any_sku": true}]),
    );
    put("total_user_count", json!(size.users));
    put("cap_table_data", json!([]));
    put(
        "aad_successful_commands",
        json!([
            "Get-MgBetaIdentityConditionalAccessPolicy",
            "Get-MgBetaSubscribedSku",
            "Get-PrivilegedUser",
            "Get-PrivilegedRole",
            "Get-MgBetaUserCount",
            "Get-MgBetaPolicyAuthorizationPolicy",
            "Get-MgBetaDirectorySetting",
            "Get-MgBetaPolicyAuthenticationMethodPolicy",
            "Get-MgBetaDomain",
            "Get-ApplicationsWithRiskyPermissions",
            "Get-ServicePrincipalsWithRiskyPermissions",
            "Format-RiskyApplications",
            "Format-RiskyThirdPartyServicePrincipals",
            "Get-ServicePrincipalsWithRiskyDelegatedPermissionClassifications",
            "Get-LegacyExchangeServicePrincipal",
            "Get-DedicatedExchangeHybridApplications"
        ]),
    );
    put("aad_unsuccessful_commands", json!([]));

    // --- Exchange Online.
    let domains = [
        domain.clone(),
        custom_domain.clone(),
        format!("mail.{tenant_name}.jp"),
    ];
    let mut accepted: Vec<Value> = domains.iter().map(|d| json!({"DomainName": d, "DomainType": "Authoritative", "Default": *d == custom_domain})).collect();
    accepted.extend(
        extra_domains
            .iter()
            .map(|d| accepted_domain(d, &domain, &mut xr)),
    );
    put("accepted_domains", Value::Array(accepted));
    put(
        "remote_domains",
        json!([{"DomainName": "*", "Identity": "Default", "AutoForwardEnabled": false}, {"DomainName": "partner.example.com", "Identity": "Partner", "AutoForwardEnabled": true}]),
    );
    put(
        "spf_records",
        Value::Array(
            domains
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let record = if i == 2 {
                        "v=spf1 include:spf.protection.outlook.com ~all".to_string()
                    } else {
                        "v=spf1 include:spf.protection.outlook.com -all".to_string()
                    };
                    json!({"domain": d, "rdata": [record], "log": []})
                })
                .chain(extra_domains.iter().map(|d| spf_entry(d, tenant_name)))
                .collect(),
        ),
    );
    put(
        "dkim_config",
        Value::Array(
            domains
                .iter()
                .enumerate()
                .map(|(i, d)| json!({"Domain": d, "Enabled": i != 2, "Selector1KeySize": 2048}))
                .chain(
                    extra_domains
                        .iter()
                        .map(|d| dkim_config_entry(d, &domain, &mut xr)),
                )
                .collect(),
        ),
    );
    put("dkim_records", Value::Array(domains.iter().enumerate().map(|(i, d)| json!({"domain": d, "rdata": if i != 2 { json!(["v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]) } else { json!([]) }, "log": []}))
        .chain(extra_domains.iter().filter(|d| !d.coexistence).map(dkim_record)).collect()));
    put("dmarc_records", Value::Array(domains.iter().enumerate().map(|(i, d)| {
        let record = match i { 0 => "v=DMARC1; p=reject; pct=100; rua=mailto:reports@dmarc.cyber.dhs.gov, mailto:dmarc@example.co.jp; ruf=mailto:security@example.co.jp", 1 => "v=DMARC1; p=quarantine; pct=100; rua=mailto:dmarc@example.co.jp", _ => "v=DMARC1; p=none" };
        json!({"domain": d, "rdata": [record], "log": []})
    }).collect()));
    put(
        "transport_config",
        json!([{"Name": "Transport Settings", "SmtpClientAuthenticationDisabled": true}]),
    );
    put(
        "sharing_policy",
        json!([{"Name": "Default Sharing Policy", "Identity": "Default Sharing Policy", "Enabled": true, "Default": true, "Domains": ["*:CalendarSharingFreeBusySimple", "partner.example.com:CalendarSharingFreeBusyDetail"]}]),
    );
    let mut rules = vec![
        json!({"Name": "外部メールの警告表示", "State": "Enabled", "Mode": "Enforce", "Priority": 0, "FromScope": "NotInOrganization", "SetSCL": null, "PrependSubject": "[外部]", "ApplyHtmlDisclaimerText": "この電子メールは組織外から送信されました。"}),
    ];
    rules.extend(transport_rules(
        &mut xr,
        c.transport_rules.saturating_sub(rules.len()),
        rules.len(),
        tenant_name,
    ));
    put("transport_rule", Value::Array(rules));
    put(
        "conn_filter",
        json!([{"Identity": "Default", "Name": "Default", "IsDefault": true, "IPAllowList": ["203.0.113.10"], "IPBlockList": [], "EnableSafeList": false}]),
    );
    put(
        "org_config",
        json!([{"Name": domain, "DisplayName": tenant_name, "AuditDisabled": false, "OAuth2ClientProfileEnabled": true, "CustomerLockboxEnabled": false}]),
    );
    put("inbound_connectors", json!([]));
    put("outbound_connectors", json!([]));
    put("intra_org_connectors", json!([]));
    put("org_relationships", json!([]));
    put(
        "exo_successful_commands",
        json!([
            "Get-RemoteDomain",
            "Get-AcceptedDomain",
            "Get-ScubaSpfRecord",
            "Get-DkimSigningConfig",
            "Get-ScubaDkimRecord",
            "Get-ScubaDmarcRecord",
            "Get-TransportConfig",
            "Get-SharingPolicy",
            "Get-TransportRule",
            "Get-HostedConnectionFilterPolicy",
            "Get-OrganizationConfig",
            "Get-InboundConnector",
            "Get-OutboundConnector",
            "Get-IntraOrganizationConnector",
            "Get-OrganizationRelationship"
        ]),
    );
    put("exo_unsuccessful_commands", json!([]));

    // --- Security suite (Defender for Office 365, EOP, Purview).
    let standard = "Standard Preset Security Policy1700000000000";
    let strict = "Strict Preset Security Policy1700000000001";
    put(
        "protection_policy_rules",
        json!([
            {"Identity": strict, "Name": strict, "State": "Enabled", "Priority": 0, "HostedContentFilterPolicy": strict, "AntiPhishPolicy": strict, "MalwareFilterPolicy": strict, "SentTo": null, "SentToMemberOf": ["executives@example.co.jp"], "RecipientDomainIs": null, "ExceptIfSentTo": null, "ExceptIfSentToMemberOf": null, "ExceptIfRecipientDomainIs": null},
            {"Identity": standard, "Name": standard, "State": "Enabled", "Priority": 1, "HostedContentFilterPolicy": standard, "AntiPhishPolicy": standard, "MalwareFilterPolicy": standard, "SentTo": null, "SentToMemberOf": null, "RecipientDomainIs": [custom_domain], "ExceptIfSentTo": null, "ExceptIfSentToMemberOf": null, "ExceptIfRecipientDomainIs": null},
        ]),
    );
    put(
        "atp_policy_rules",
        json!([
            {"Identity": strict, "Name": strict, "State": "Enabled", "Priority": 0, "SafeAttachmentPolicy": strict, "SafeLinksPolicy": strict, "SentTo": null, "SentToMemberOf": ["executives@example.co.jp"], "RecipientDomainIs": null},
            {"Identity": standard, "Name": standard, "State": "Enabled", "Priority": 1, "SafeAttachmentPolicy": standard, "SafeLinksPolicy": standard, "SentTo": null, "SentToMemberOf": null, "RecipientDomainIs": [custom_domain]},
        ]),
    );
    put(
        "anti_phish_policies",
        json!([
            {"Identity": "Office365 AntiPhish Default", "Name": "Office365 AntiPhish Default", "IsDefault": true, "Enabled": true, "EnableTargetedUserProtection": false, "EnableOrganizationDomainsProtection": false, "EnableMailboxIntelligenceProtection": true, "EnableFirstContactSafetyTips": false, "TargetedUsersToProtect": [], "TargetedUserProtectionAction": "NoAction", "MailboxIntelligenceProtectionAction": "NoAction", "EnableSpoofIntelligence": true},
            {"Identity": strict, "Name": strict, "IsDefault": false, "Enabled": true, "EnableTargetedUserProtection": true, "EnableOrganizationDomainsProtection": true, "EnableMailboxIntelligenceProtection": true, "EnableFirstContactSafetyTips": true, "TargetedUsersToProtect": ["社長;ceo@example.co.jp"], "TargetedUserProtectionAction": "Quarantine", "TargetedDomainProtectionAction": "Quarantine", "MailboxIntelligenceProtectionAction": "Quarantine", "EnableSimilarUsersSafetyTips": true, "EnableSimilarDomainsSafetyTips": true, "EnableUnusualCharactersSafetyTips": true},
        ]),
    );
    put("anti_phish_rules", json!([]));
    put(
        "hosted_content_filter_policies",
        json!([{"Identity": "Default", "Name": "Default", "IsDefault": true, "SpamAction": "MoveToJmf", "HighConfidenceSpamAction": "MoveToJmf", "PhishSpamAction": "MoveToJmf", "HighConfidencePhishAction": "Quarantine", "BulkSpamAction": "MoveToJmf", "AllowedSenderDomains": ["newsletter.example.com"], "ZapEnabled": true}]),
    );
    put(
        "malware_filter_policies",
        json!([{"Identity": "Default", "Name": "Default", "IsDefault": true, "EnableFileFilter": true, "FileTypes": ["ace", "ani", "apk", "app", "cab", "cmd", "com", "deb", "dmg", "exe", "hta", "img", "iso", "jar", "js", "jse", "lnk", "msi", "ps1", "reg", "scr", "vb", "vbe", "vbs", "wsc", "wsf", "wsh"], "ZapEnabled": true}]),
    );
    put("safe_attachment_policies", json!([]));
    put("safe_links_policies", json!([]));
    put(
        "atp_policy_for_o365",
        json!([{"Identity": "Default", "EnableATPForSPOTeamsODB": true, "EnableSafeDocs": true, "AllowSafeDocsOpen": false}]),
    );
    put(
        "dlp_compliance_policies",
        json!([{"Name": "個人情報保護（マイナンバー）", "DisplayName": "個人情報保護（マイナンバー）", "Mode": "Enable", "Enabled": true, "Type": "Dlp", "Workload": "Exchange, SharePoint, OneDriveForBusiness, Teams",
        "ExchangeLocation": ["All"], "SharePointLocation": ["All"], "OneDriveLocation": ["All"], "TeamsLocation": ["All"], "EndpointDlpLocation": [], "ExchangeLocationException": [], "SharePointLocationException": [], "OneDriveLocationException": [], "TeamsLocationException": []}]),
    );
    put(
        "dlp_compliance_rules",
        json!([{"Name": "マイナンバーの外部共有を禁止", "ParentPolicyName": "個人情報保護（マイナンバー）", "Disabled": false, "Mode": "Enforce", "BlockAccess": true, "BlockAccessScope": "All", "NotifyUser": ["SiteAdmin", "LastModifier", "Owner"],
        "ContentContainsSensitiveInformation": [{"name": "Japan My Number - Personal", "id": "c840e719-0896-45bb-84fd-1ed5c95e45ff"}, {"name": "Japan Bank Account Number"}, {"name": "U.S. Social Security Number (SSN)"}, {"name": "Credit Card Number"}, {"name": "U.S. Individual Taxpayer Identification Number (ITIN)"}]}]),
    );
    put(
        "protection_alerts",
        json!([
            {"Name": "Suspicious email sending patterns detected", "Disabled": false, "NotifyUser": ["security@example.co.jp"]},
            {"Name": "Suspicious Connector Activity", "Disabled": false, "NotifyUser": ["security@example.co.jp"]},
            {"Name": "Suspicious Email Forwarding Activity", "Disabled": true, "NotifyUser": []},
            {"Name": "Messages have been delayed", "Disabled": false, "NotifyUser": []},
            {"Name": "Tenant restricted from sending unprovisioned email", "Disabled": false, "NotifyUser": []},
            {"Name": "Tenant restricted from sending email", "Disabled": false, "NotifyUser": []},
            {"Name": "A potentially malicious URL click was detected", "Disabled": false, "NotifyUser": []},
            {"Name": "User restricted from sending email", "Disabled": false, "NotifyUser": []},
        ]),
    );
    put(
        "admin_audit_log_config",
        json!([{"Name": "Admin Audit Log Settings", "AdminAuditLogEnabled": true, "UnifiedAuditLogIngestionEnabled": true, "AdminAuditLogAgeLimit": "90.00:00:00"}]),
    );
    put("defender_license", json!(true));
    put("defender_dlp_license", json!(true));
    put(
        "securitysuite_successful_commands",
        json!([
            "Get-AdminAuditLogConfig",
            "Get-EOPProtectionPolicyRule",
            "Get-AntiPhishPolicy",
            "Get-AntiPhishRule",
            "Get-AcceptedDomain",
            "Get-HostedConnectionFilterPolicy",
            "Get-HostedContentFilterPolicy",
            "Get-HostedContentFilterRule",
            "Get-AtpPolicyForO365",
            "Get-ATPProtectionPolicyRule",
            "Get-DlpCompliancePolicy",
            "Get-ProtectionAlert",
            "Get-DlpComplianceRule",
            "Get-MalwareFilterPolicy",
            "Get-SafeAttachmentPolicy",
            "Get-SafeLinksPolicy"
        ]),
    );
    put("securitysuite_unsuccessful_commands", json!([]));

    // --- SharePoint and OneDrive: internal sharing for SharePoint, guests for OneDrive.
    put(
        "SPO_tenant",
        json!([{"SharingCapability": 3, "ODBSharingCapability": 1, "SharingDomainRestrictionMode": 1, "SharingAllowedDomainList": "partner.example.com",
        "DefaultSharingLinkType": 1, "DefaultLinkPermission": 1, "RequireAnonymousLinksExpireInDays": -1, "FileAnonymousLinkType": 2, "FolderAnonymousLinkType": 2,
        "EmailAttestationRequired": true, "EmailAttestationReAuthDays": 15}]),
    );
    put("OneDrive_PnP_Flag", json!(false));
    put(
        "SharePoint_successful_commands",
        json!(["Get-SPOTenantRest"]),
    );
    put("SharePoint_unsuccessful_commands", json!([]));

    // --- Teams.
    put(
        "teams_tenant_info",
        json!([{"DisplayName": tenant_name, "AssignedPlan": ["MCOEV", "Teams1", "MCOMEETADV"], "CountryAbbreviation": "JP"}]),
    );
    put(
        "meeting_policies",
        json!([
            {"Identity": "Global", "AllowExternalParticipantGiveRequestControl": false, "AllowAnonymousUsersToJoinMeeting": true, "AllowAnonymousUsersToStartMeeting": false, "AutoAdmittedUsers": "EveryoneInCompanyExcludingGuests", "AllowPSTNUsersToBypassLobby": false, "MeetingChatEnabledType": "Enabled", "AllowCloudRecording": true, "AllowRecordingStorageOutsideRegion": false, "AllowExternalNonTrustedMeetingChat": false, "DesignatedPresenterRoleMode": "EveryoneUserOverride"},
            {"Identity": "Tag:営業部", "AllowExternalParticipantGiveRequestControl": true, "AllowAnonymousUsersToJoinMeeting": true, "AllowAnonymousUsersToStartMeeting": true, "AutoAdmittedUsers": "Everyone", "AllowPSTNUsersToBypassLobby": true, "MeetingChatEnabledType": "Enabled", "AllowCloudRecording": true, "AllowRecordingStorageOutsideRegion": true, "AllowExternalNonTrustedMeetingChat": true},
        ]),
    );
    let extra_meeting_policies = meeting_policies(&mut xr, c.meeting_policies.saturating_sub(2));
    put(
        "federation_configuration",
        json!([{"Identity": "Global", "AllowFederatedUsers": true, "AllowedDomains": {"AllowedDomain": ["Domain=partner.example.com"]}, "BlockedDomains": [], "AllowTeamsConsumer": true, "AllowTeamsConsumerInbound": false, "AllowPublicUsers": false}]),
    );
    put(
        "client_configuration",
        json!([{"Identity": "Global", "AllowEmailIntoChannel": false, "AllowDropBox": false, "AllowBox": false, "AllowGoogleDrive": false, "AllowShareFile": false, "AllowEgnyte": false}]),
    );
    put(
        "app_policies",
        json!([{"Identity": "Global", "DefaultCatalogAppsType": "BlockedAppList", "GlobalCatalogAppsType": "AllowedAppList", "PrivateCatalogAppsType": "AllowedAppList", "DefaultCatalogApps": [], "GlobalCatalogApps": [], "PrivateCatalogApps": []}]),
    );
    put(
        "broadcast_policies",
        json!([{"Identity": "Global", "BroadcastRecordingMode": "UserOverride", "AllowBroadcastTranscription": false}]),
    );
    put(
        "tenant_app_settings",
        json!([{"SettingName": "DefaultApp", "SettingValue": "None"}, {"SettingName": "GlobalApp", "SettingValue": "All"}, {"SettingName": "PrivateApp", "SettingValue": "None"}]),
    );
    put(
        "teams_successful_commands",
        json!([
            "Get-CsTenant",
            "Get-CsTeamsMeetingPolicy",
            "Get-CsTenantFederationConfiguration",
            "Get-CsTeamsClientConfiguration",
            "Get-CsTeamsAppPermissionPolicy",
            "Get-CsTeamsMeetingBroadcastPolicy",
            "Get-M365UnifiedTenantSettings"
        ]),
    );
    put("teams_unsuccessful_commands", json!([]));

    // --- Power Platform.
    put(
        "environment_creation",
        json!([{"disableEnvironmentCreationByNonAdminUsers": true, "disableTrialEnvironmentCreationByNonAdminUsers": false, "disablePortalsCreationByNonAdminUsers": false}]),
    );
    put(
        "environment_list",
        json!([
            {"EnvironmentName": format!("Default-{tenant_id}"), "DisplayName": format!("{tenant_name} (default)"), "IsDefault": true, "EnvironmentType": "Default"},
            {"EnvironmentName": rng.uuid(), "DisplayName": "本番 - 業務アプリ", "IsDefault": false, "EnvironmentType": "Production"},
        ]),
    );
    let extra_environments = environments(&mut xr, c.environments.saturating_sub(2));
    put("dlp_policies", json!([{"value": []}]));
    put(
        "tenant_isolation",
        json!([{"properties": {"tenantId": tenant_id, "isDisabled": true, "allowedTenants": []}}]),
    );
    put(
        "powerplatform_successful_commands",
        json!([
            "Get-MgBetaOrganization",
            "Get-PowerPlatformTenantSettingsRest",
            "Get-PowerPlatformEnvironmentsRest",
            "Get-PowerPlatformDlpPoliciesRest",
            "Get-PowerPlatformTenantIsolationRest"
        ]),
    );
    put("powerplatform_unsuccessful_commands", json!([]));

    // Sections written by hand for the demo customer (security-suite policies and rules, …),
    // merged over the generated ones.
    if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(DEMO_SECTIONS) {
        for (k, v) in extra {
            out.insert(k, v);
        }
    }
    // The hand-written DMARC answers are the demo's domains; another tenant's are its own.
    if let Some(Value::Array(records)) = out.get_mut("dmarc_records") {
        for (r, d) in records.iter_mut().zip(&domains) {
            r["domain"] = json!(d);
        }
    }

    // The large tenant's collections beyond the demo's, after the hand-written sections.
    let len = |out: &Map<String, Value>, name: &str| {
        out.get(name).and_then(Value::as_array).map_or(0, Vec::len)
    };
    append(
        &mut out,
        "dmarc_records",
        extra_domains
            .iter()
            .filter(|d| !d.coexistence)
            .map(|d| dmarc_record(d, tenant_name))
            .collect(),
    );
    let n = c.remote_domains.saturating_sub(len(&out, "remote_domains"));
    append(&mut out, "remote_domains", remote_domains(&mut xr, n));
    let (dlp_policies, dlp_rules) = dlp_compliance(
        &mut xr,
        c.dlp_compliance_policies
            .saturating_sub(len(&out, "dlp_compliance_policies")),
        c.dlp_compliance_rules
            .saturating_sub(len(&out, "dlp_compliance_rules")),
        len(&out, "dlp_compliance_policies"),
        tenant_name,
    );
    let n = c
        .protection_alerts
        .saturating_sub(len(&out, "protection_alerts"));
    let alerts = protection_alerts(&mut xr, n, &dlp_rules, tenant_name);
    append(&mut out, "dlp_compliance_policies", dlp_policies);
    append(&mut out, "dlp_compliance_rules", dlp_rules);
    append(&mut out, "protection_alerts", alerts);
    append(&mut out, "meeting_policies", extra_meeting_policies);
    if let Some(Value::Array(pp)) = out
        .get_mut("dlp_policies")
        .and_then(|v| v.get_mut(0))
        .and_then(|v| v.get_mut("value"))
    {
        let n = c.power_platform_dlp_policies.saturating_sub(pp.len());
        pp.extend(power_platform_dlp(&mut xr, n, &extra_environments));
    }
    append(&mut out, "environment_list", extra_environments);
    // The break-glass account is exempted from the conditional access and permanent-assignment
    // checks, as the baseline allows; its id is generated, so the exemption is added here.
    let exempt = json!({"CapExclusions": {"Users": [break_glass.clone()], "Groups": []}});
    let mut aad = Map::new();
    for id in [
        "MS.AAD.1.1v1",
        "MS.AAD.2.1v1",
        "MS.AAD.2.3v1",
        "MS.AAD.3.1v1",
        "MS.AAD.3.2v2",
        "MS.AAD.3.6v1",
        "MS.AAD.3.7v1",
        "MS.AAD.3.8v1",
        "MS.AAD.3.9v1",
    ] {
        aad.insert(id.to_string(), exempt.clone());
    }
    aad.insert(
        "MS.AAD.7.4v1".to_string(),
        json!({"RoleExclusions": {"Users": [break_glass.clone()], "Groups": []}}),
    );
    if let Some(Value::Object(config)) = out.get_mut("scuba_config") {
        config.insert("Aad".to_string(), Value::Object(aad));
    }
    Value::Object(out)
}

/// Hand-written sections of the demo tenant: a JSON object of top-level export sections.
const DEMO_SECTIONS: &str = include_str!("demo_sections.json");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_demo_sections_are_a_json_object() {
        let v: Value = serde_json::from_str(DEMO_SECTIONS).expect("demo_sections.json is JSON");
        assert!(
            v.is_object(),
            "demo_sections.json must be an object of sections"
        );
    }

    #[test]
    fn same_seed_same_tenant_and_sizes_are_honoured() {
        let a = m365_tenant(TenantSize::DEMO, 7, "sakura-trading");
        let b = m365_tenant(TenantSize::DEMO, 7, "sakura-trading");
        assert_eq!(a, b);
        assert_eq!(
            a["conditional_access_policies"].as_array().unwrap().len(),
            TenantSize::DEMO.ca_policies
        );
        assert_eq!(
            a["privileged_users"].as_object().unwrap().len(),
            TenantSize::DEMO.privileged_users
        );
        assert_eq!(
            a["risky_third_party_service_principals"]
                .as_array()
                .unwrap()
                .len(),
            TenantSize::DEMO.service_principals
        );
        let c = m365_tenant(TenantSize::DEMO, 8, "sakura-trading");
        assert_ne!(a["privileged_users"], c["privileged_users"]);
    }

    fn len(v: &Value) -> usize {
        match v {
            Value::Array(a) => a.len(),
            Value::Object(o) => o.len(),
            _ => 0,
        }
    }

    /// The section lengths [`Collections`] describes, as generated.
    fn measured(t: &Value) -> Collections {
        Collections {
            privileged_roles: len(&t["privileged_roles"]),
            role_assignments: t["privileged_roles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| len(&r["Assignments"]))
                .sum(),
            risky_applications: len(&t["risky_applications"]),
            privileged_service_principals: len(&t["privileged_service_principals"]),
            permissions_per_app: 0,
            accepted_domains: len(&t["accepted_domains"]),
            transport_rules: len(&t["transport_rule"]),
            remote_domains: len(&t["remote_domains"]),
            dlp_compliance_policies: len(&t["dlp_compliance_policies"]),
            dlp_compliance_rules: len(&t["dlp_compliance_rules"]),
            protection_alerts: len(&t["protection_alerts"]),
            meeting_policies: len(&t["meeting_policies"]),
            environments: len(&t["environment_list"]),
            power_platform_dlp_policies: len(&t["dlp_policies"][0]["value"]),
        }
    }

    #[test]
    fn the_demo_and_the_large_tenant_have_their_collections() {
        assert_eq!(TenantSize::DEMO.collections(), Collections::DEMO);
        assert_eq!(TenantSize::LARGE.collections(), Collections::LARGE);
        let demo = m365_tenant(TenantSize::DEMO, 20_261_126, "sakura-trading");
        let expected = Collections {
            // The demo's risky applications are its risky third-party ones.
            risky_applications: len(&demo["risky_applications"]),
            permissions_per_app: 0,
            ..Collections::DEMO
        };
        assert_eq!(measured(&demo), expected);
    }

    #[test]
    fn a_grown_tenant_has_its_collections_with_their_details() {
        let size = TenantSize {
            users: 20_000,
            privileged_users: 200,
            ca_policies: 60,
            service_principals: 2_000,
        };
        let c = size.collections();
        assert!(
            c.accepted_domains > 50 && c.risky_applications > 1_500,
            "{c:?}"
        );
        let t = m365_tenant(size, 3, "kaede-shoji");
        assert_eq!(t, m365_tenant(size, 3, "kaede-shoji"));
        assert_eq!(
            measured(&t),
            Collections {
                permissions_per_app: 0,
                ..c
            }
        );

        // Every domain has its SPF answer and DKIM configuration; DKIM and DMARC answers for all
        // but the coexistence domain. A realistic mix of good and bad.
        let domains: Vec<&str> = t["accepted_domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["DomainName"].as_str().unwrap())
            .collect();
        for (section, key, want) in [
            ("spf_records", "domain", domains.len()),
            ("dkim_config", "Domain", domains.len()),
            ("dkim_records", "domain", domains.len() - 1),
            ("dmarc_records", "domain", domains.len() - 1),
        ] {
            let names: Vec<&str> = t[section]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r[key].as_str().unwrap())
                .collect();
            assert_eq!(names.len(), want, "{section}");
            assert!(names.iter().all(|n| domains.contains(n)), "{section}");
        }
        let count = |section: &str, f: &dyn Fn(&Value) -> bool| {
            t[section]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| f(x))
                .count()
        };
        assert!(count("spf_records", &|r| r["compliant"] == json!(false)) > 0);
        assert!(count("dmarc_records", &|r| len(&r["rdata"]) == 0) > 0);
        assert!(
            count("dmarc_records", &|r| r["rdata"][0]
                .as_str()
                .is_some_and(|s| s.contains("p=reject")))
                > domains.len() / 2
        );
        assert!(count("dkim_config", &|r| r["Enabled"] == json!(false)) > 0);

        // Applications and service principals with their permissions and credentials.
        let apps = &t["risky_applications"];
        let perms = |a: &Value| len(&a["Permissions"]);
        let total: usize = apps.as_array().unwrap().iter().map(perms).sum();
        assert!(total > len(apps) * 3 / 2, "{total} permissions");
        assert!(
            count("risky_applications", &|a| a["Permissions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["RoleType"] == json!("Delegated")))
                > 0
        );
        assert!(
            count("risky_applications", &|a| a["Permissions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["IsRisky"] == json!(false)))
                < len(apps) / 20
        );
        for creds in [
            "KeyCredentials",
            "PasswordCredentials",
            "FederatedCredentials",
        ] {
            assert!(
                count("risky_applications", &|a| !a[creds].is_null()) > 0,
                "{creds}"
            );
        }
        assert!(
            count("risky_third_party_service_principals", &|s| !s
                ["PasswordCredentials"]
                .is_null())
                > 0
        );
        for (id, sp) in t["privileged_service_principals"].as_object().unwrap() {
            assert_eq!(sp["ServicePrincipalId"], json!(id));
            assert!(len(&sp["roles"]) >= 1);
        }

        // DLP rules belong to the policies listed.
        let policies: Vec<&Value> = t["dlp_compliance_policies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["Name"])
            .collect();
        for r in t["dlp_compliance_rules"].as_array().unwrap() {
            assert!(policies.contains(&&r["ParentPolicyName"]), "{}", r["Name"]);
        }
    }
}

/// The hand-written Google Workspace export of the demo customer (ScubaGoggles provider schema
/// plus Mamori's extension sections).
const DEMO_GWS: &str = include_str!("demo_gws.json");

/// Size of a generated Google Workspace tenant.
#[derive(Debug, Clone, Copy)]
pub struct GwsSize {
    pub users: usize,
    pub org_units: usize,
}

impl GwsSize {
    pub const LARGE: GwsSize = GwsSize {
        users: 50_000,
        org_units: 2_000,
    };
}

/// The demo customer's Google Workspace export.
pub fn gws_demo() -> Value {
    serde_json::from_str(DEMO_GWS).expect("demo_gws.json is valid JSON (checked by a test)")
}

/// A large Google Workspace tenant grown from the demo one: `org_units` OUs under the top-level
/// OU, each with its own policy overrides (cycled from the demo's child OUs), and `users` users
/// spread over them.
pub fn gws_tenant(size: GwsSize, seed: u64) -> Value {
    let mut rng = Rng::new(seed);
    let mut tenant = gws_demo();
    let top = tenant["tenant_info"]["topLevelOU"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let domain = tenant["tenant_info"]["domain"]
        .as_str()
        .unwrap_or("example.co.jp")
        .to_string();

    // Per-OU overrides to cycle through: the demo's own child-OU settings.
    let overrides: Vec<Value> = tenant["policies"]
        .as_object()
        .map(|p| {
            p.iter()
                .filter(|(name, _)| name.as_str() != top && !name.contains("(group "))
                .map(|(_, v)| v.clone())
                .collect()
        })
        .unwrap_or_default();

    let mut units = Vec::with_capacity(size.org_units);
    let mut ou_names: Vec<String> = Vec::with_capacity(size.org_units);
    for i in 0..size.org_units {
        let name = format!(
            "{} {:04}",
            rng.pick(&[
                "営業部",
                "経理部",
                "開発部",
                "Sales",
                "Engineering",
                "人事部"
            ]),
            i
        );
        units.push(json!({
            "kind": "admin#directory#orgUnit",
            "name": name,
            "orgUnitPath": format!("/{name}"),
            "orgUnitId": format!("id:{:015x}", rng.next() >> 4),
            "parentOrgUnitPath": "/",
            "parentOrgUnitId": "id:000000000000000",
        }));
        ou_names.push(name.clone());
        if !overrides.is_empty() {
            let o = overrides[i % overrides.len()].clone();
            if let Some(policies) = tenant["policies"].as_object_mut() {
                policies.insert(name, o);
            }
        }
    }
    if let Some(existing) = tenant["organizational_units"]["organizationUnits"].as_array_mut() {
        existing.extend(units);
    }
    if let Some(existing) = tenant["organizational_unit_names"].as_array_mut() {
        existing.extend(ou_names.iter().map(|n| Value::String(n.clone())));
    }

    // Users: copies of the demo's users with new identities, spread over the OUs.
    let templates: Vec<Value> = tenant["mamori_users"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !templates.is_empty() {
        let mut users = Vec::with_capacity(size.users);
        for i in 0..size.users {
            let mut u = templates[i % templates.len()].clone();
            let (display, local) = person(&mut rng, i);
            if let Some(obj) = u.as_object_mut() {
                obj.insert(
                    "id".into(),
                    json!(format!("{:021}", rng.next() % 10u64.pow(18))),
                );
                obj.insert("primaryEmail".into(), json!(format!("{local}@{domain}")));
                obj.insert("name".into(), json!({"fullName": display}));
                if !ou_names.is_empty() {
                    obj.insert(
                        "orgUnitPath".into(),
                        json!(format!("/{}", ou_names[i % ou_names.len()])),
                    );
                }
            }
            users.push(u);
        }
        tenant["mamori_users"] = Value::Array(users);
    }
    tenant
}

#[cfg(test)]
mod gws_tests {
    use super::*;

    #[test]
    fn demo_gws_parses_and_large_tenant_has_the_asked_size() {
        let demo = gws_demo();
        assert!(demo["tenant_info"]["topLevelOU"].is_string());
        let large = gws_tenant(
            GwsSize {
                users: 300,
                org_units: 40,
            },
            1,
        );
        let policies = large["policies"].as_object().unwrap().len();
        assert!(policies >= 40, "{policies} policy scopes");
        assert_eq!(
            large["mamori_users"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(300),
            300
        );
    }
}
