//! Google Workspace records: Admin SDK Reports API `activity` resources for the `login`,
//! `admin`, `token`, `drive` and `saml` applications.

use super::{
    business_hours, iso_millis, office_ip, usual_ip, LogEvent, Person, Population, Source,
};
use crate::names::Rng;
use serde_json::{json, Value};

/// A parameter: `value`, `boolValue` or `multiValue`, as the API types them.
pub(super) enum P<'a> {
    S(&'a str, String),
    B(&'a str, bool),
    M(&'a str, Vec<String>),
}

fn params(ps: Vec<P>) -> Value {
    Value::Array(
        ps.into_iter()
            .map(|p| match p {
                P::S(n, v) => json!({"name": n, "value": v}),
                P::B(n, v) => json!({"name": n, "boolValue": v}),
                P::M(n, v) => json!({"name": n, "multiValue": v}),
            })
            .collect(),
    )
}

/// One activity with one event.
#[allow(clippy::too_many_arguments)]
pub(super) fn activity(
    pop: &Population,
    application: &'static str,
    t: i64,
    actor: &Person,
    ip: Option<&str>,
    event_type: &str,
    name: &str,
    parameters: Vec<P>,
    rng: &mut Rng,
) -> LogEvent {
    let mut record = json!({
        "kind": "admin#reports#activity",
        "id": {"time": iso_millis(t), "uniqueQualifier": format!("{}", (rng.next_u64() >> 1) as i64 * if rng.chance(50) { -1 } else { 1 }),
            "applicationName": application, "customerId": pop.tenant_id},
        "etag": format!("\"{:x}/{:x}\"", rng.next_u64(), rng.next_u64() >> 20),
        "actor": {"callerType": "USER", "email": actor.upn, "profileId": actor.id},
        "events": [{"type": event_type, "name": name, "parameters": params(parameters)}],
    });
    if let Some(ip) = ip {
        record["ipAddress"] = json!(ip);
    }
    LogEvent {
        source: Source::Gws,
        stream: application,
        time_ms: t,
        record,
    }
}

/// A login (`login` application, type `login`): success, or a failure with its type.
pub(super) fn login(
    pop: &Population,
    t: i64,
    p: &Person,
    ip: &str,
    failure: Option<&str>,
    suspicious: bool,
    rng: &mut Rng,
) -> LogEvent {
    let mut ps = vec![
        P::S("login_type", "google_password".into()),
        P::M("login_challenge_method", vec!["password".into()]),
        P::B("is_suspicious", suspicious),
    ];
    let name = match failure {
        Some(kind) => {
            ps.push(P::S("login_failure_type", kind.into()));
            "login_failure"
        }
        None => "login_success",
    };
    activity(pop, "login", t, p, Some(ip), "login", name, ps, rng)
}

/// A Drive event on a document: (type, name) such as ("access", "download").
#[allow(clippy::too_many_arguments)]
pub(super) fn drive(
    pop: &Population,
    t: i64,
    p: &Person,
    ip: &str,
    event_type: &str,
    name: &str,
    doc: &Doc,
    extra: Vec<P>,
    rng: &mut Rng,
) -> LogEvent {
    let mut ps = vec![
        P::S("doc_id", doc.id.clone()),
        P::S("doc_title", doc.title.clone()),
        P::S("doc_type", doc.kind.into()),
        P::S("owner", doc.owner.clone()),
        P::B("primary_event", true),
        P::B("billable", true),
        P::S("visibility", doc.visibility.into()),
        P::B("owner_is_shared_drive", false),
    ];
    ps.extend(extra);
    activity(pop, "drive", t, p, Some(ip), event_type, name, ps, rng)
}

pub(super) struct Doc {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub owner: String,
    pub visibility: &'static str,
}

const TITLES: [&str; 10] = [
    "営業会議 議事録",
    "見積書テンプレート",
    "2026年度 予算案",
    "顧客一覧",
    "Product Roadmap",
    "採用候補者リスト",
    "経費精算ルール",
    "契約書ひな形",
    "Quarterly Review",
    "出張申請",
];
const KINDS: [&str; 4] = ["document", "spreadsheet", "presentation", "pdf"];

pub(super) fn random_doc(rng: &mut Rng, owner: &Person) -> Doc {
    Doc {
        id: format!(
            "1{}",
            (0..32)
                .map(
                    |_| b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        [rng.below(64)] as char
                )
                .collect::<String>()
        ),
        title: format!("{} {}", TITLES[rng.below(TITLES.len())], rng.below(300)),
        kind: KINDS[rng.below(KINDS.len())],
        owner: owner.upn.clone(),
        visibility: [
            "private",
            "shared_internally",
            "people_within_domain_with_link",
        ][rng.below(3)],
    }
}

/// An `admin` application event by an administrator.
#[allow(clippy::too_many_arguments)]
pub(super) fn admin(
    pop: &Population,
    t: i64,
    actor: &Person,
    ip: &str,
    event_type: &str,
    name: &str,
    ps: Vec<P>,
    rng: &mut Rng,
) -> LogEvent {
    activity(pop, "admin", t, actor, Some(ip), event_type, name, ps, rng)
}

/// A `token` application `authorize` event.
#[allow(clippy::too_many_arguments)]
pub(super) fn authorize(
    pop: &Population,
    t: i64,
    p: &Person,
    ip: &str,
    client_id: &str,
    app_name: &str,
    scopes: &[&str],
    rng: &mut Rng,
) -> LogEvent {
    activity(
        pop,
        "token",
        t,
        p,
        Some(ip),
        "auth",
        "authorize",
        vec![
            P::S("client_id", client_id.into()),
            P::S("app_name", app_name.into()),
            P::S("client_type", "WEB".into()),
            P::M("scope", scopes.iter().map(|s| s.to_string()).collect()),
        ],
        rng,
    )
}

/// Third-party apps the demo's users already use (client ids and scopes of the posture
/// tenant's tokens, none of them high-risk).
const KNOWN_APPS: [(&str, &str, &[&str]); 2] = [
    (
        "58201937465-zm0k2b8v1q7r3c9x5n4t6y.apps.googleusercontent.com",
        "Zoom Workplace",
        &[
            "openid",
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/userinfo.profile",
            "https://www.googleapis.com/auth/calendar.events",
        ],
    ),
    (
        "71930284615-s1ack9h2j4k6l8m0n2p4q6r8.apps.googleusercontent.com",
        "Slack",
        &[
            "openid",
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/userinfo.profile",
        ],
    ),
];

const SAML_APPS: [&str; 3] = ["Salesforce", "Zoom", "Box"];

/// An ordinary Google Workspace event of `p` at `t`.
pub(super) fn ordinary(
    pop: &Population,
    p: &Person,
    t: i64,
    rng: &mut Rng,
    out: &mut Vec<LogEvent>,
) {
    let ip = usual_ip(p, t);
    let r = rng.below(1000);
    if r < 150 {
        if rng.chance(3) {
            out.push(login(
                pop,
                t,
                p,
                &ip,
                Some("login_failure_invalid_password"),
                false,
                rng,
            ));
            out.push(login(
                pop,
                t + 15_000 + rng.below(30_000) as i64,
                p,
                &ip,
                None,
                false,
                rng,
            ));
        } else {
            out.push(login(pop, t, p, &ip, None, false, rng));
        }
    } else if r < 880 {
        let owner = if rng.chance(60) {
            p
        } else {
            &pop.people[rng.below(pop.people.len())]
        };
        let doc = random_doc(rng, owner);
        let (kind, name) = match rng.below(1000) {
            0..=619 => ("access", "view"),
            620..=869 => ("access", "edit"),
            870..=929 => ("access", "download"),
            930..=979 => ("access", "upload"),
            980..=989 => ("delete", "trash"),
            _ => ("acl_change", "change_user_access"),
        };
        let extra = if name == "change_user_access" {
            vec![
                P::S(
                    "target_user",
                    pop.people[rng.below(pop.people.len())].upn.clone(),
                ),
                P::M("old_value", vec!["none".into()]),
                P::M("new_value", vec!["can_view".into()]),
            ]
        } else {
            Vec::new()
        };
        out.push(drive(pop, t, p, &ip, kind, name, &doc, extra, rng));
    } else if r < 950 {
        out.push(activity(
            pop,
            "saml",
            t,
            p,
            Some(&ip),
            "login",
            "login_success",
            vec![
                P::S(
                    "application_name",
                    SAML_APPS[rng.below(SAML_APPS.len())].into(),
                ),
                P::S("initiated_by", "sp".into()),
                P::S("orgunit_path", p.org_unit.clone()),
                P::S(
                    "saml_status_code",
                    "urn:oasis:names:tc:SAML:2.0:status:Success".into(),
                ),
            ],
            rng,
        ));
    } else if r < 965 {
        let (client, name, scopes) = KNOWN_APPS[rng.below(KNOWN_APPS.len())];
        out.push(authorize(pop, t, p, &ip, client, name, scopes, rng));
    } else {
        // Directory work by the first administrator in business hours.
        let admins = pop.admins();
        let a = &admins[0];
        if !business_hours(t) || !p.admin {
            out.push(login(pop, t, p, &ip, None, false, rng));
            return;
        }
        let target = &pop.people[rng.below(pop.people.len())];
        let ip = office_ip(a);
        let e = match rng.below(10) {
            0 => admin(
                pop,
                t,
                a,
                &ip,
                "DELEGATED_ADMIN_SETTINGS",
                "ASSIGN_ROLE",
                vec![
                    P::S("ROLE_NAME", "_GROUPS_ADMIN_ROLE".into()),
                    P::S("USER_EMAIL", target.upn.clone()),
                ],
                rng,
            ),
            1..=4 => admin(
                pop,
                t,
                a,
                &ip,
                "USER_SETTINGS",
                "CHANGE_PASSWORD",
                vec![P::S("USER_EMAIL", target.upn.clone())],
                rng,
            ),
            5..=7 => admin(
                pop,
                t,
                a,
                &ip,
                "GROUP_SETTINGS",
                "ADD_GROUP_MEMBER",
                vec![
                    P::S("USER_EMAIL", target.upn.clone()),
                    P::S("GROUP_EMAIL", format!("all-staff@{}", pop.domain)),
                ],
                rng,
            ),
            _ => admin(
                pop,
                t,
                a,
                &ip,
                "USER_SETTINGS",
                "MOVE_USER_TO_ORG_UNIT",
                vec![
                    P::S("USER_EMAIL", target.upn.clone()),
                    P::S("ORG_UNIT_NAME", target.org_unit.clone()),
                ],
                rng,
            ),
        };
        out.push(e);
    }
}
