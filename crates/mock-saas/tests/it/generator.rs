use mamori_mock_saas::logs::{
    generate, jst_hour_of_week, manifest, parse_time, record_id, record_time, stream, AttackKind,
    LogSpec, Size, Source, DAY, HOUR, MINUTE,
};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// 2026-11-26T00:00:00Z, a Thursday.
fn now() -> i64 {
    parse_time("2026-11-26T00:00:00Z").unwrap()
}

fn demo() -> LogSpec {
    LogSpec::demo(now())
}

#[test]
fn same_seed_same_events_other_seed_other_events() {
    let mut spec = demo();
    spec.start_ms = spec.end_ms - DAY;
    let a: Vec<String> = stream(&spec).map(|e| e.record.to_string()).collect();
    let b: Vec<String> = stream(&spec).map(|e| e.record.to_string()).collect();
    assert!(a.len() > 5_000, "{} events in a day", a.len());
    assert_eq!(a, b);
    spec.seed += 1;
    let c: Vec<String> = stream(&spec).map(|e| e.record.to_string()).collect();
    assert_ne!(a, c);
    // The manifest alone is the same as the one beside the events.
    assert_eq!(
        serde_json::to_string(&manifest(&demo())).unwrap(),
        serde_json::to_string(&generate(&demo()).manifest).unwrap()
    );
}

#[test]
fn every_attack_of_the_manifest_is_in_the_streams() {
    let spec = demo();
    let g = generate(&spec);
    let mut ids: HashMap<(Source, String), &Value> = HashMap::new();
    let mut last = i64::MIN;
    for e in &g.events {
        assert!(e.time_ms >= last, "time order");
        last = e.time_ms;
        assert!(e.time_ms >= spec.start_ms && e.time_ms < spec.end_ms);
        assert_eq!(
            record_time(e.source, &e.record).map(|t| t / 1000),
            Some(e.time_ms / 1000)
        );
        ids.insert(
            (
                e.source,
                record_id(e.source, &e.record).unwrap().to_string(),
            ),
            &e.record,
        );
    }
    let kinds: HashSet<(AttackKind, &str)> = g
        .manifest
        .attacks
        .iter()
        .map(|a| (a.kind, a.product))
        .collect();
    for kind in [
        AttackKind::PasswordSpray,
        AttackKind::BruteForce,
        AttackKind::MfaFatigue,
        AttackKind::ImpossibleTravel,
        AttackKind::AnonymizingNetwork,
        AttackKind::AdminRoleGranted,
        AttackKind::MailForwarding,
        AttackKind::OAuthConsent,
        AttackKind::MassDownload,
        AttackKind::MassDeletion,
        AttackKind::AuditLoggingDisabled,
    ] {
        assert!(kinds.contains(&(kind, "m365")), "{kind:?} in m365");
    }
    for kind in [
        AttackKind::PasswordSpray,
        AttackKind::BruteForce,
        AttackKind::SuspiciousLogin,
        AttackKind::GovernmentBackedAttack,
        AttackKind::AdminRoleGranted,
        AttackKind::OAuthConsent,
        AttackKind::MassDownload,
        AttackKind::MassDeletion,
        AttackKind::AuditLoggingDisabled,
    ] {
        assert!(kinds.contains(&(kind, "gws")), "{kind:?} in gws");
    }
    for a in &g.manifest.attacks {
        assert!(!a.events.is_empty());
        assert!(
            a.start_ms >= spec.start_ms && a.end_ms < spec.end_ms,
            "{:?} in range",
            a.kind
        );
        for r in &a.events {
            assert!(
                ids.contains_key(&(r.source, r.id.clone())),
                "{:?} event {} in the stream",
                a.kind,
                r.id
            );
        }
        // Attack addresses (192.0.2.0/24) are used by attacks only.
        if a.ip.starts_with("192.0.2.") {
            let own: HashSet<&String> = a.events.iter().map(|r| &r.id).collect();
            let by_ip = g.events.iter().filter(|e| {
                let ip = match e.source {
                    Source::M365 => e.record["ClientIP"]
                        .as_str()
                        .or(e.record["ActorIpAddress"].as_str()),
                    Source::EntraSignin => e.record["ipAddress"].as_str(),
                    Source::EntraAudit => e.record["initiatedBy"]["user"]["ipAddress"].as_str(),
                    Source::Gws => e.record["ipAddress"].as_str(),
                };
                ip == Some(a.ip.as_str())
            });
            for e in by_ip {
                assert!(
                    own.contains(&record_id(e.source, &e.record).unwrap().to_string()),
                    "{} used outside {:?}",
                    a.ip,
                    a.kind
                );
            }
        }
    }
}

fn events_of<'a>(
    g: &'a mamori_mock_saas::logs::Generated,
    kind: AttackKind,
    product: &str,
    source: Source,
) -> Vec<&'a Value> {
    let a = g
        .manifest
        .of_kind(kind)
        .find(|a| a.product == product)
        .unwrap();
    let wanted: HashSet<&str> = a.events_in(source).map(|r| r.id.as_str()).collect();
    g.events
        .iter()
        .filter(|e| e.source == source && wanted.contains(record_id(e.source, &e.record).unwrap()))
        .map(|e| &e.record)
        .collect()
}

#[test]
fn attacks_carry_the_fields_rules_look_at() {
    let g = generate(&demo());
    // Password spray: one address, many users, 50126, then a success.
    let spray = events_of(&g, AttackKind::PasswordSpray, "m365", Source::EntraSignin);
    let users: HashSet<&str> = spray
        .iter()
        .map(|r| r["userPrincipalName"].as_str().unwrap())
        .collect();
    assert!(users.len() >= 20);
    assert_eq!(
        spray
            .iter()
            .filter(|r| r["status"]["errorCode"] == 50126)
            .count(),
        spray.len() - 1
    );
    assert_eq!(spray.last().unwrap()["status"]["errorCode"], 0);
    let ual = events_of(&g, AttackKind::PasswordSpray, "m365", Source::M365);
    assert!(
        ual.iter()
            .filter(|r| r["Operation"] == "UserLoginFailed" && r["ErrorCode"] == "50126")
            .count()
            >= 19
    );
    // MFA fatigue.
    let mfa = events_of(&g, AttackKind::MfaFatigue, "m365", Source::EntraSignin);
    assert_eq!(
        mfa.iter()
            .filter(|r| r["status"]["additionalDetails"]
                == "MFA denied; user declined the authentication")
            .count(),
        12
    );
    assert!(mfa.iter().any(|r| r["authenticationDetails"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["authenticationStepResultDetail"]
            == "MFA denied; user declined the authentication")));
    // Impossible travel: two countries within an hour.
    let travel = events_of(
        &g,
        AttackKind::ImpossibleTravel,
        "m365",
        Source::EntraSignin,
    );
    let countries: HashSet<&str> = travel
        .iter()
        .map(|r| r["location"]["countryOrRegion"].as_str().unwrap())
        .collect();
    assert_eq!(countries, HashSet::from(["JP", "GB"]));
    let times: Vec<i64> = travel
        .iter()
        .map(|r| parse_time(r["createdDateTime"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times[1] - times[0] < HOUR);
    // Anonymising network.
    let anon = events_of(
        &g,
        AttackKind::AnonymizingNetwork,
        "m365",
        Source::EntraSignin,
    );
    assert_eq!(anon[0]["riskEventTypes_v2"][0], "anonymizedIPAddress");
    // Admin role at night (JST), by an administrator who never did it before.
    let a = g
        .manifest
        .of_kind(AttackKind::AdminRoleGranted)
        .find(|a| a.product == "m365")
        .unwrap();
    let hour = jst_hour_of_week(a.start_ms) % 24;
    assert!((2..4).contains(&hour), "{hour} JST");
    let grants_before = g
        .events
        .iter()
        .filter(|e| {
            e.source == Source::EntraAudit
                && e.time_ms < a.start_ms
                && e.record["activityDisplayName"] == "Add member to role"
                && e.record["initiatedBy"]["user"]["userPrincipalName"] == a.actor.as_str()
        })
        .count();
    assert_eq!(grants_before, 0);
    let role = events_of(&g, AttackKind::AdminRoleGranted, "m365", Source::EntraAudit);
    assert_eq!(
        role[0]["targetResources"][0]["modifiedProperties"][0]["newValue"],
        "\"Global Administrator\""
    );
    // Mail forwarding to another domain.
    let fwd = events_of(&g, AttackKind::MailForwarding, "m365", Source::M365);
    let rule = fwd
        .iter()
        .find(|r| r["Operation"] == "New-InboxRule")
        .unwrap();
    let to = rule["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["Name"] == "ForwardTo")
        .unwrap()["Value"]
        .as_str()
        .unwrap();
    assert!(!to.ends_with("sakura-trading.co.jp"));
    // Consent with high-risk scopes.
    let consent = events_of(&g, AttackKind::OAuthConsent, "m365", Source::EntraAudit);
    assert!(consent
        .iter()
        .any(|r| r["activityDisplayName"] == "Consent to application"
            && r.to_string().contains("Mail.ReadWrite")));
    let gws_consent = events_of(&g, AttackKind::OAuthConsent, "gws", Source::Gws);
    assert!(gws_consent[0]
        .to_string()
        .contains("https://mail.google.com/"));
    // Mass download far above the user's own baseline.
    let a = g
        .manifest
        .of_kind(AttackKind::MassDownload)
        .find(|a| a.product == "m365")
        .unwrap();
    let own: HashSet<&str> = a.events.iter().map(|r| r.id.as_str()).collect();
    let baseline = g
        .events
        .iter()
        .filter(|e| {
            e.record["Operation"] == "FileDownloaded"
                && e.record["UserId"] == a.actor.as_str()
                && !own.contains(e.record["Id"].as_str().unwrap())
        })
        .count();
    assert_eq!(own.len(), 300);
    assert!(baseline < 30, "baseline {baseline}");
    // Audit logging disabled.
    let off = events_of(&g, AttackKind::AuditLoggingDisabled, "m365", Source::M365);
    assert_eq!(off[0]["Operation"], "Set-AdminAuditLogConfig");
    assert_eq!(off[0]["Parameters"][1]["Value"], "False");
    // GWS spray: login_failure with its type.
    let spray = events_of(&g, AttackKind::PasswordSpray, "gws", Source::Gws);
    assert!(
        spray
            .iter()
            .filter(|r| r["events"][0]["name"] == "login_failure")
            .count()
            >= 20
    );
    assert!(spray.iter().any(|r| r["events"][0]["parameters"]
        .to_string()
        .contains("login_failure_invalid_password")));
}

#[test]
fn activity_follows_the_working_day() {
    let mut spec = demo();
    spec.attacks = false;
    let events: Vec<i64> = stream(&spec).map(|e| e.time_ms).collect();
    let mut by_hour = [0usize; 24];
    let mut weekday = 0;
    let mut weekend = 0;
    for t in &events {
        let h = jst_hour_of_week(*t);
        by_hour[h % 24] += 1;
        if h / 24 < 5 {
            weekday += 1
        } else {
            weekend += 1
        }
    }
    assert!(by_hour[10] > 10 * by_hour[3], "{by_hour:?}");
    assert!(
        weekday / 5 > 4 * (weekend / 2).max(1),
        "{weekday} {weekend}"
    );
}

#[test]
fn a_large_tenant_streams_without_holding_events() {
    let start = now() + HOUR; // 10:00 JST on a Thursday
    let spec = LogSpec::sized(3, Size::Large, start, start + 10 * MINUTE);
    let mut n = 0usize;
    let mut bytes = 0usize;
    let mut last = i64::MIN;
    let mut users = HashSet::new();
    for e in stream(&spec) {
        assert!(e.time_ms >= last);
        last = e.time_ms;
        n += 1;
        bytes += e.record.to_string().len();
        if n % 50 == 7 {
            users.insert(
                e.record["UserId"]
                    .as_str()
                    .or(e.record["userPrincipalName"].as_str())
                    .unwrap_or("")
                    .to_string(),
            );
        }
    }
    // 150,000 users at the morning peak: thousands of events a minute.
    assert!(n > 20_000, "{n} events");
    assert!(users.len() > 300, "{} users", users.len());
    println!("large tenant, 10 minutes: {n} events, {bytes} bytes");
}
