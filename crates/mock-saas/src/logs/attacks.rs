//! The attacks placed among the ordinary activity, and the manifest that lists them.

use super::gws::{self as g, P};
use super::m365::{self as m, Outcome, SignIn, APPS};
use super::{
    home_ip, iso_z, record_id, usual_ip, LogEvent, LogSpec, Person, Population, Source, DAY, HOUR,
    JST_OFFSET, MINUTE, PLACES,
};
use crate::names::Rng;
use serde::Serialize;
use serde_json::{json, Value};

/// What an attack is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// One IP, many users, one failed password each, then one success.
    PasswordSpray,
    /// Many failed passwords for one user from one IP.
    BruteForce,
    /// Repeated denied MFA pushes, then an approved one.
    MfaFatigue,
    /// Successful sign-ins of one user from two distant countries within an hour.
    ImpossibleTravel,
    /// A successful sign-in from an anonymising network, flagged by Identity Protection.
    AnonymizingNetwork,
    /// Google's suspicious-login classification (`is_suspicious`, `suspicious_login`).
    SuspiciousLogin,
    /// Google's government-backed attack warning.
    GovernmentBackedAttack,
    /// The most powerful administrator role granted to a user at night by an administrator who
    /// never granted a role before.
    AdminRoleGranted,
    /// Mail forwarded to an external address (inbox rule and mailbox forwarding).
    MailForwarding,
    /// Consent to an application with high-risk scopes.
    #[serde(rename = "oauth_consent")]
    OAuthConsent,
    /// Hundreds of downloads by one user within half an hour.
    MassDownload,
    /// Hundreds of deletions by one user within half an hour.
    MassDeletion,
    /// Audit logging turned off.
    AuditLoggingDisabled,
}

/// An event of an attack: its source, stream and id (`Id`, `id`, or the Reports API's
/// `id.uniqueQualifier`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventRef {
    pub source: Source,
    pub stream: &'static str,
    pub id: String,
}

/// One placed attack.
#[derive(Debug, Clone, Serialize)]
pub struct Attack {
    pub kind: AttackKind,
    /// The product whose logs carry it: `m365` (unified audit log and Entra ID, which share
    /// an attack) or `gws`.
    pub product: &'static str,
    /// First and last event (inclusive), milliseconds and RFC 3339.
    pub start_ms: i64,
    pub end_ms: i64,
    pub start: String,
    pub end: String,
    /// Who acted (the attacker's account, or the compromised or malicious user).
    pub actor: String,
    /// Where from.
    pub ip: String,
    /// Who or what was affected (users sprayed, the user granted a role, the app consented…).
    pub targets: Vec<String>,
    /// Every event of the attack.
    pub events: Vec<EventRef>,
    pub description: String,
}

impl Attack {
    /// The attack's events in one source.
    pub fn events_in(&self, source: Source) -> impl Iterator<Item = &EventRef> {
        self.events.iter().filter(move |e| e.source == source)
    }
}

/// The attacks of a spec.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub seed: u64,
    pub start: String,
    pub end: String,
    pub attacks: Vec<Attack>,
}

impl Manifest {
    pub fn of_kind(&self, kind: AttackKind) -> impl Iterator<Item = &Attack> {
        self.attacks.iter().filter(move |a| a.kind == kind)
    }
}

const ANONYMIZED: &[&str] = &["anonymizedIPAddress"];
const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
const MALICIOUS_APP: &str = "Mail Sync Helper";
const MALICIOUS_SCOPES: &str = "Mail.ReadWrite Files.ReadWrite.All offline_access User.Read";
const GOOGLE_MALICIOUS_CLIENT: &str =
    "882233445566-m4ilsync0helper1x2y3z4w5v6.apps.googleusercontent.com";
const GOOGLE_MALICIOUS_SCOPES: [&str; 4] = [
    "https://mail.google.com/",
    "https://www.googleapis.com/auth/drive",
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
];
/// Where forwarded mail goes (a domain that is not the tenant's).
pub const EXTERNAL_MAIL_DOMAIN: &str = "mail-relay.example";

/// The manifest and the attack events (time-ordered).
pub(super) fn plan(spec: &LogSpec) -> (Manifest, Vec<LogEvent>) {
    let mut attacks = Vec::new();
    let mut events = Vec::new();
    if spec.attacks && spec.end_ms > spec.start_ms {
        let mut b = Builder {
            spec,
            rng: Rng::new(spec.seed ^ 0xA77A_C4ED),
            attacks: &mut attacks,
            events: &mut events,
        };
        if let Some(pop) = &spec.m365 {
            if pop.people.len() >= 4 {
                b.m365(pop);
            }
        }
        if let Some(pop) = &spec.gws {
            if pop.people.len() >= 4 {
                b.gws(pop);
            }
        }
    }
    events.sort_by_key(|e| e.time_ms);
    attacks.sort_by_key(|a| (a.start_ms, a.kind));
    (
        Manifest {
            seed: spec.seed,
            start: iso_z(spec.start_ms),
            end: iso_z(spec.end_ms),
            attacks,
        },
        events,
    )
}

struct Builder<'a> {
    spec: &'a LogSpec,
    rng: Rng,
    attacks: &'a mut Vec<Attack>,
    events: &'a mut Vec<LogEvent>,
}

/// Distinct staff members, chosen by the seed.
fn pick_staff<'p>(rng: &mut Rng, pop: &'p Population, n: usize) -> Vec<&'p Person> {
    let staff = pop.staff();
    let n = n.min(staff.len());
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    while chosen.len() < n {
        let i = rng.below(staff.len());
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    chosen.into_iter().map(|i| &staff[i]).collect()
}

impl Builder<'_> {
    /// The time at `fraction` of the range, a few minutes of jitter added.
    fn at(&mut self, fraction: f64) -> i64 {
        let span = (self.spec.end_ms - self.spec.start_ms) as f64;
        let jitter = self.rng.below(20) as i64 * MINUTE;
        (self.spec.start_ms + (span * fraction) as i64 + jitter)
            .min(self.spec.end_ms - 2 * HOUR)
            .max(self.spec.start_ms)
    }

    /// 02:00–03:59 JST on the day of `fraction`, kept inside the range when it can be.
    fn at_night(&mut self, fraction: f64) -> i64 {
        let t = self.at(fraction);
        let local_day = (t + JST_OFFSET).div_euclid(DAY);
        let mut night =
            local_day * DAY - JST_OFFSET + 2 * HOUR + self.rng.below(110) as i64 * MINUTE;
        if night < self.spec.start_ms {
            night += DAY;
        }
        if night + HOUR > self.spec.end_ms {
            night -= DAY;
        }
        if night < self.spec.start_ms || night + HOUR > self.spec.end_ms {
            t
        } else {
            night
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        kind: AttackKind,
        product: &'static str,
        actor: &str,
        ip: &str,
        targets: Vec<String>,
        events: Vec<LogEvent>,
        description: String,
    ) {
        let start_ms = events.iter().map(|e| e.time_ms).min().unwrap_or(0);
        let end_ms = events.iter().map(|e| e.time_ms).max().unwrap_or(0);
        let refs = events
            .iter()
            .map(|e| EventRef {
                source: e.source,
                stream: e.stream,
                id: record_id(e.source, &e.record)
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect();
        self.attacks.push(Attack {
            kind,
            product,
            start_ms,
            end_ms,
            start: iso_z(start_ms),
            end: iso_z(end_ms),
            actor: actor.to_string(),
            ip: ip.to_string(),
            targets,
            events: refs,
            description,
        });
        self.events.extend(events);
    }

    fn m365(&mut self, pop: &Population) {
        let admins = pop.admins();
        let rng = &mut self.rng;
        let victims = pick_staff(rng, pop, 32);
        let v = |i: usize| victims[i % victims.len()];

        // Password spray: one address, up to 25 users, one wrong password each; the last user's
        // password was right.
        let t0 = self.at(0.12);
        let ip = "192.0.2.10";
        let sprayed: Vec<&Person> = victims.iter().copied().take(25).collect();
        let mut evs = Vec::new();
        let mut t = t0;
        for (i, p) in sprayed.iter().enumerate() {
            let last = i + 1 == sprayed.len();
            let s = SignIn {
                pop,
                person: p,
                t,
                ip: ip.into(),
                place: PLACES[5],
                app: APPS[0],
                outcome: if last {
                    Outcome::Success { mfa: false }
                } else {
                    Outcome::BadPassword
                },
                risk: None,
                device: ("Python Requests 2.31", "Linux"),
            };
            evs.extend(m::sign_in(&s, &mut self.rng));
            t += 20_000 + self.rng.below(25_000) as i64;
        }
        let spray_last = sprayed.last().map(|p| p.upn.clone()).unwrap_or_default();
        self.record(AttackKind::PasswordSpray, "m365", &spray_last, ip,
            sprayed.iter().map(|p| p.upn.clone()).collect(), evs,
            format!("{} users tried from one address with wrong passwords (50126); the last attempt succeeded", sprayed.len()));

        // Brute force on one user.
        let p = v(25);
        let ip = "192.0.2.20";
        let mut t = self.at(0.22);
        let mut evs = Vec::new();
        for _ in 0..40 {
            let s = SignIn {
                pop,
                person: p,
                t,
                ip: ip.into(),
                place: PLACES[8],
                app: APPS[0],
                outcome: Outcome::BadPassword,
                risk: None,
                device: ("Python Requests 2.31", "Linux"),
            };
            evs.extend(m::sign_in(&s, &mut self.rng));
            t += 8_000 + self.rng.below(10_000) as i64;
        }
        self.record(
            AttackKind::BruteForce,
            "m365",
            &p.upn,
            ip,
            vec![p.upn.clone()],
            evs,
            "40 wrong passwords for one user from one address in about ten minutes".into(),
        );

        // MFA fatigue: the password is known; twelve pushes denied, the thirteenth approved.
        let p = v(26);
        let ip = "192.0.2.30";
        let mut t = self.at(0.33);
        let mut evs = Vec::new();
        for i in 0..13 {
            let s = SignIn {
                pop,
                person: p,
                t,
                ip: ip.into(),
                place: PLACES[9],
                app: APPS[2],
                outcome: if i == 12 {
                    Outcome::Success { mfa: true }
                } else {
                    Outcome::MfaDenied
                },
                risk: None,
                device: ("Chrome 131.0.0", "Windows10"),
            };
            evs.extend(m::sign_in(&s, &mut self.rng));
            t += 50_000 + self.rng.below(40_000) as i64;
        }
        self.record(AttackKind::MfaFatigue, "m365", &p.upn, ip, vec![p.upn.clone()], evs,
            "12 push notifications denied (500121, \"MFA denied; user declined the authentication\"), then one approved".into());

        // Impossible travel: Tokyo, then London 38 minutes later.
        let p = v(27);
        let ip = "192.0.2.40";
        let t = self.at(0.42);
        let home = SignIn {
            pop,
            person: p,
            t,
            ip: home_ip(p),
            place: PLACES[0],
            app: APPS[0],
            outcome: Outcome::Success { mfa: true },
            risk: None,
            device: m::device_of(p),
        };
        let mut evs: Vec<LogEvent> = m::sign_in(&home, &mut self.rng).into();
        let away = SignIn {
            t: t + 38 * MINUTE,
            ip: ip.into(),
            place: PLACES[6],
            device: ("Chrome 131.0.0", "MacOs"),
            ..home
        };
        evs.extend(m::sign_in(&away, &mut self.rng));
        self.record(
            AttackKind::ImpossibleTravel,
            "m365",
            &p.upn,
            ip,
            vec![p.upn.clone()],
            evs,
            "successful sign-ins from Tokyo (JP) and London (GB) 38 minutes apart".into(),
        );

        // Anonymising network.
        let p = v(28);
        let ip = "192.0.2.50";
        let t = self.at(0.5);
        let s = SignIn {
            pop,
            person: p,
            t,
            ip: ip.into(),
            place: PLACES[8],
            app: APPS[3],
            outcome: Outcome::Success { mfa: true },
            risk: Some(("medium", ANONYMIZED)),
            device: ("Firefox 128.0", "Windows10"),
        };
        let evs: Vec<LogEvent> = m::sign_in(&s, &mut self.rng).into();
        self.record(AttackKind::AnonymizingNetwork, "m365", &p.upn, ip, vec![p.upn.clone()], evs,
            "successful sign-in from an anonymising network (riskEventTypes_v2 anonymizedIPAddress, risk medium)".into());

        // Global Administrator granted at night by an administrator who never granted a role.
        let actor = &admins[1 % admins.len()];
        let target = v(26);
        let ip = "192.0.2.60";
        let t = self.at_night(0.58);
        let evs: Vec<LogEvent> = m::directory_audit(
            pop,
            t,
            actor,
            ip,
            "Add member to role",
            "RoleManagement",
            "Assign",
            vec![m::user_target(
                target,
                &[
                    ("Role.DisplayName", "", "\"Global Administrator\""),
                    ("Role.TemplateId", "", &format!("\"{GLOBAL_ADMIN}\"")),
                    ("Role.WellKnownObjectName", "", "\"TenantAdmins\""),
                ],
            )],
            &mut self.rng,
        )
        .into();
        self.record(AttackKind::AdminRoleGranted, "m365", &actor.upn, ip, vec![target.upn.clone()], evs,
            "Global Administrator assigned at night (JST) by an administrator with no earlier role assignment".into());

        // Mail forwarding from the MFA-fatigue victim's mailbox.
        let p = v(26);
        let ip = "192.0.2.70";
        let t = self.at(0.64);
        let external = format!(
            "{}@{EXTERNAL_MAIL_DOMAIN}",
            p.upn.split('@').next().unwrap_or("x").replace('.', "-")
        );
        let evs = vec![
            m::exchange_admin(
                pop,
                t,
                p,
                ip,
                "New-InboxRule",
                &format!("{}\\.", p.upn),
                &[
                    ("Mailbox", &p.upn),
                    ("Name", "."),
                    ("ForwardTo", &external),
                    ("MarkAsRead", "True"),
                    ("DeleteMessage", "True"),
                    ("StopProcessingRules", "True"),
                ],
                &mut self.rng,
            ),
            m::exchange_admin(
                pop,
                t + 3 * MINUTE,
                p,
                ip,
                "Set-Mailbox",
                &p.upn,
                &[
                    ("Identity", &p.upn),
                    ("ForwardingSmtpAddress", &format!("smtp:{external}")),
                    ("DeliverToMailboxAndForward", "False"),
                ],
                &mut self.rng,
            ),
        ];
        self.record(AttackKind::MailForwarding, "m365", &p.upn, ip, vec![external.clone()], evs,
            format!("inbox rule forwarding to {external} (and deleting), and mailbox forwarding to the same address"));

        // Consent to an application with high-risk delegated scopes.
        let p = v(29);
        let ip = "192.0.2.80";
        let t = self.at(0.7);
        let app_id = self.rng.guid();
        let sp_id = self.rng.guid();
        let grant_id = self.rng.guid();
        let sp = |mods: &[(&str, &str, &str)]| {
            json!({"id": sp_id, "displayName": MALICIOUS_APP, "type": "ServicePrincipal", "userPrincipalName": null, "groupType": null,
            "modifiedProperties": mods.iter().map(|(n, o, v)| json!({"displayName": n, "oldValue": o, "newValue": v})).collect::<Vec<Value>>()})
        };
        let permissions = format!("\"[] => [[Id: {grant_id}, ClientId: {sp_id}, PrincipalId: {}, ResourceId: sp-microsoft-graph, ConsentType: Principal, Scope:  {MALICIOUS_SCOPES}, CreatedDateTime: , LastModifiedDateTime: ]]; \"", p.id);
        let mut evs = Vec::new();
        evs.extend(m::directory_audit(
            pop,
            t,
            p,
            ip,
            "Add service principal",
            "ApplicationManagement",
            "Add",
            vec![sp(&[
                ("AccountEnabled", "[]", "[true]"),
                ("AppPrincipalId", "[]", &format!("[\"{app_id}\"]")),
                ("DisplayName", "[]", &format!("[\"{MALICIOUS_APP}\"]")),
            ])],
            &mut self.rng,
        ));
        evs.extend(m::directory_audit(
            pop,
            t + 1_000,
            p,
            ip,
            "Add delegated permission grant",
            "ApplicationManagement",
            "Assign",
            vec![sp(&[
                (
                    "DelegatedPermissionGrant.Scope",
                    "",
                    &format!("\"{MALICIOUS_SCOPES}\""),
                ),
                ("DelegatedPermissionGrant.ConsentType", "", "\"Principal\""),
            ])],
            &mut self.rng,
        ));
        evs.extend(m::directory_audit(
            pop,
            t + 1_500,
            p,
            ip,
            "Add app role assignment grant to user",
            "ApplicationManagement",
            "Assign",
            vec![sp(&[
                ("AppRole.Id", "", "\"00000000-0000-0000-0000-000000000000\""),
                ("User.UPN", "", &format!("\"{}\"", p.upn)),
            ])],
            &mut self.rng,
        ));
        evs.extend(m::directory_audit(
            pop,
            t + 2_000,
            p,
            ip,
            "Consent to application",
            "ApplicationManagement",
            "Assign",
            vec![sp(&[
                ("ConsentContext.IsAdminConsent", "", "\"False\""),
                ("ConsentContext.IsAppOnly", "", "\"False\""),
                ("ConsentContext.OnBehalfOfAll", "", "\"False\""),
                (
                    "ConsentContext.Tags",
                    "",
                    "\"WindowsAzureActiveDirectoryIntegratedApp\"",
                ),
                ("ConsentAction.Permissions", "", &permissions),
                (
                    "TargetId.ServicePrincipalNames",
                    "",
                    &format!("\"{app_id}\""),
                ),
            ])],
            &mut self.rng,
        ));
        self.record(
            AttackKind::OAuthConsent,
            "m365",
            &p.upn,
            ip,
            vec![MALICIOUS_APP.to_string(), app_id.clone()],
            evs,
            format!("user consent to \"{MALICIOUS_APP}\" ({app_id}) for {MALICIOUS_SCOPES}"),
        );

        // Mass download by one user (an insider, from home).
        let p = v(30);
        let ip = home_ip(p);
        let mut t = self.at(0.78);
        let mut evs = Vec::new();
        for _ in 0..300 {
            let f = m::random_file(&mut self.rng);
            evs.push(m::sharepoint(
                pop,
                t,
                p,
                &ip,
                "FileDownloaded",
                &f,
                &mut self.rng,
            ));
            t += 3_000 + self.rng.below(5_000) as i64;
        }
        self.record(
            AttackKind::MassDownload,
            "m365",
            &p.upn,
            &ip,
            vec![],
            evs,
            "300 FileDownloaded in about 25 minutes by a user who downloads a few files a week"
                .into(),
        );

        // Mass deletion.
        let p = v(31);
        let ip = usual_ip(p, self.at(0.85));
        let mut t = self.at(0.85);
        let mut evs = Vec::new();
        for _ in 0..250 {
            let f = m::random_file(&mut self.rng);
            evs.push(m::sharepoint(
                pop,
                t,
                p,
                &ip,
                "FileDeleted",
                &f,
                &mut self.rng,
            ));
            t += 2_000 + self.rng.below(4_000) as i64;
        }
        self.record(
            AttackKind::MassDeletion,
            "m365",
            &p.upn,
            &ip,
            vec![],
            evs,
            "250 FileDeleted in about 15 minutes by one user".into(),
        );

        // Unified audit log ingestion turned off.
        let actor = &admins[admins.len() - 1];
        let ip = "192.0.2.90";
        let t = self.at(0.92);
        let evs = vec![m::exchange_admin(
            pop,
            t,
            actor,
            ip,
            "Set-AdminAuditLogConfig",
            "Admin Audit Log Settings",
            &[
                ("Identity", "Admin Audit Log Settings"),
                ("UnifiedAuditLogIngestionEnabled", "False"),
            ],
            &mut self.rng,
        )];
        self.record(
            AttackKind::AuditLoggingDisabled,
            "m365",
            &actor.upn,
            ip,
            vec!["Admin Audit Log Settings".into()],
            evs,
            "Set-AdminAuditLogConfig -UnifiedAuditLogIngestionEnabled $false".into(),
        );
    }

    fn gws(&mut self, pop: &Population) {
        let admins = pop.admins();
        let victims = pick_staff(&mut self.rng, pop, 32);
        let v = |i: usize| victims[i % victims.len()];

        // Password spray.
        let ip = "192.0.2.110";
        let mut t = self.at(0.15);
        let sprayed: Vec<&Person> = victims.iter().copied().take(25).collect();
        let mut evs = Vec::new();
        for (i, p) in sprayed.iter().enumerate() {
            let last = i + 1 == sprayed.len();
            evs.push(g::login(
                pop,
                t,
                p,
                ip,
                if last {
                    None
                } else {
                    Some("login_failure_invalid_password")
                },
                last,
                &mut self.rng,
            ));
            t += 20_000 + self.rng.below(25_000) as i64;
        }
        let last = sprayed.last().map(|p| p.upn.clone()).unwrap_or_default();
        self.record(AttackKind::PasswordSpray, "gws", &last, ip, sprayed.iter().map(|p| p.upn.clone()).collect(), evs,
            format!("{} users, login_failure (login_failure_invalid_password) from one address, then login_success", sprayed.len()));

        // Brute force.
        let p = v(25);
        let ip = "192.0.2.120";
        let mut t = self.at(0.25);
        let mut evs = Vec::new();
        for _ in 0..30 {
            evs.push(g::login(
                pop,
                t,
                p,
                ip,
                Some("login_failure_invalid_password"),
                false,
                &mut self.rng,
            ));
            t += 10_000 + self.rng.below(10_000) as i64;
        }
        self.record(
            AttackKind::BruteForce,
            "gws",
            &p.upn,
            ip,
            vec![p.upn.clone()],
            evs,
            "30 login_failure for one user from one address".into(),
        );

        // Suspicious login (Google's own classification).
        let p = v(26);
        let ip = "192.0.2.150";
        let t = self.at(0.52);
        let evs = vec![
            g::login(pop, t, p, ip, None, true, &mut self.rng),
            g::activity(
                pop,
                "login",
                t + 1_000,
                p,
                Some(ip),
                "account_warning",
                "suspicious_login",
                vec![P::S("affected_email_address", p.upn.clone())],
                &mut self.rng,
            ),
        ];
        self.record(
            AttackKind::SuspiciousLogin,
            "gws",
            &p.upn,
            ip,
            vec![p.upn.clone()],
            evs,
            "login_success with is_suspicious=true and an account_warning suspicious_login".into(),
        );

        // Government-backed attack warning.
        let p = v(27);
        let ip = "192.0.2.170";
        let t = self.at(0.56);
        let evs = vec![
            g::login(
                pop,
                t,
                p,
                ip,
                Some("login_failure_invalid_password"),
                true,
                &mut self.rng,
            ),
            g::activity(
                pop,
                "login",
                t + 2 * MINUTE,
                p,
                None,
                "attack_warning",
                "gov_attack_warning",
                vec![P::S("affected_email_address", p.upn.clone())],
                &mut self.rng,
            ),
        ];
        self.record(
            AttackKind::GovernmentBackedAttack,
            "gws",
            &p.upn,
            ip,
            vec![p.upn.clone()],
            evs,
            "a failed login flagged suspicious, then gov_attack_warning".into(),
        );

        // Super administrator role granted at night by the administrator who never assigns roles.
        let actor = &admins[1 % admins.len()];
        let target = v(28);
        let ip = "192.0.2.160";
        let t = self.at_night(0.6);
        let evs = vec![
            g::admin(
                pop,
                t,
                actor,
                ip,
                "DELEGATED_ADMIN_SETTINGS",
                "ASSIGN_ROLE",
                vec![
                    P::S("ROLE_NAME", "_SEED_ADMIN_ROLE".into()),
                    P::S("USER_EMAIL", target.upn.clone()),
                ],
                &mut self.rng,
            ),
            g::admin(
                pop,
                t + 30_000,
                actor,
                ip,
                "USER_SETTINGS",
                "GRANT_ADMIN_PRIVILEGE",
                vec![P::S("USER_EMAIL", target.upn.clone())],
                &mut self.rng,
            ),
        ];
        self.record(AttackKind::AdminRoleGranted, "gws", &actor.upn, ip, vec![target.upn.clone()], evs,
            "super administrator role (ASSIGN_ROLE _SEED_ADMIN_ROLE, GRANT_ADMIN_PRIVILEGE) at night by an administrator who never assigned roles".into());

        // OAuth grant with full Gmail and Drive scopes.
        let p = v(29);
        let ip = "192.0.2.180";
        let t = self.at(0.72);
        let evs = vec![g::authorize(
            pop,
            t,
            p,
            ip,
            GOOGLE_MALICIOUS_CLIENT,
            MALICIOUS_APP,
            &GOOGLE_MALICIOUS_SCOPES,
            &mut self.rng,
        )];
        self.record(AttackKind::OAuthConsent, "gws", &p.upn, ip, vec![MALICIOUS_APP.to_string(), GOOGLE_MALICIOUS_CLIENT.to_string()], evs,
            "token authorize for https://mail.google.com/ and https://www.googleapis.com/auth/drive".into());

        // Mass download and mass deletion in Drive.
        for (kind, frac, event_type, name, count, who) in [
            (
                AttackKind::MassDownload,
                0.8,
                "access",
                "download",
                300usize,
                30usize,
            ),
            (AttackKind::MassDeletion, 0.87, "delete", "delete", 250, 31),
        ] {
            let p = v(who);
            let mut t = self.at(frac);
            let ip = home_ip(p);
            let mut evs = Vec::new();
            for _ in 0..count {
                let doc = g::random_doc(&mut self.rng, p);
                evs.push(g::drive(
                    pop,
                    t,
                    p,
                    &ip,
                    event_type,
                    name,
                    &doc,
                    Vec::new(),
                    &mut self.rng,
                ));
                t += 2_000 + self.rng.below(5_000) as i64;
            }
            self.record(
                kind,
                "gws",
                &p.upn,
                &ip,
                vec![],
                evs,
                format!("{count} Drive {name} events by one user within half an hour"),
            );
        }

        // Log export to Google Cloud turned off.
        let actor = &admins[admins.len() - 1];
        let ip = "192.0.2.190";
        let t = self.at(0.94);
        let evs = vec![g::admin(
            pop,
            t,
            actor,
            ip,
            "APPLICATION_SETTINGS",
            "CHANGE_APPLICATION_SETTING",
            vec![
                P::S("APPLICATION_NAME", "Google Workspace".into()),
                P::S(
                    "SETTING_NAME",
                    "Data sharing with Google Cloud - Audit and investigation logs".into(),
                ),
                P::S("OLD_VALUE", "true".into()),
                P::S("NEW_VALUE", "false".into()),
                P::S("ORG_UNIT_NAME", "/".into()),
            ],
            &mut self.rng,
        )];
        self.record(
            AttackKind::AuditLoggingDisabled,
            "gws",
            &actor.upn,
            ip,
            vec!["Data sharing with Google Cloud".into()],
            evs,
            "sharing of audit logs with Google Cloud turned off (CHANGE_APPLICATION_SETTING)"
                .into(),
        );
    }
}
