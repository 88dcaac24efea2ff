//! The multi-customer server's store (schema 2): users, sessions and API tokens; scope
//! isolation; finding views, history and exceptions; scores; the job queue; notifications.
//! One body per behaviour, run on SQLite and on PostgreSQL (see tests/common).

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use common::{raw_texts, Ctx};
use jiff::{SignedDuration, Timestamp};
use mamori_core::{Severity, Status};
use mamori_store::{
    App, Error, ExceptionStatus, FindingQuery, FindingStatus, JobStatus, KeptAccess, MasterKey,
    NewCustomer, NewException, NewTenant, NewUser, ResultInput, Role, ScanStatus, Scope,
    ScoreInput, Store, User, LEASE_LOST_ERROR,
};

// ---------------------------------------------------------------------------------------------
// Helpers

const PASSWORD: &str = "correct horse battery";

fn new_user(username: &str, role: Role, customer_id: Option<i64>) -> NewUser {
    NewUser {
        username: username.into(),
        display_name: format!("{username} san"),
        role,
        customer_id,
        lang: "ja".into(),
        password: PASSWORD.into(),
    }
}

async fn user(s: &Store, username: &str, role: Role, customer_id: Option<i64>) -> User {
    s.create_user(&new_user(username, role, customer_id))
        .await
        .unwrap()
}

async fn customer(s: &Store, name: &str) -> i64 {
    s.create_customer(&NewCustomer::new(name)).await.unwrap().id
}

async fn tenant_of(s: &Store, key: &MasterKey, customer_id: i64, name: &str) -> i64 {
    s.create_tenant(key, &NewTenant::new(customer_id, App::M365, name, b"{}"))
        .await
        .unwrap()
        .id
}

async fn scan_with(s: &Store, tenant_id: i64, results: &[ResultInput]) -> i64 {
    let scan = s.create_scan(tenant_id).await.unwrap();
    s.start_scan(scan.id).await.unwrap();
    s.record_results(scan.id, results).await.unwrap();
    s.finish_scan(scan.id, ScanStatus::Succeeded, 1, None)
        .await
        .unwrap();
    scan.id
}

fn fail(id: &str, severity: &str) -> ResultInput {
    ResultInput::new(id, Status::Fail, severity.parse().unwrap())
}
fn pass(id: &str) -> ResultInput {
    ResultInput::new(id, Status::Pass, Severity::High)
}

fn in_days(days: i64) -> Timestamp {
    Timestamp::now() + SignedDuration::from_hours(24 * days)
}

fn exception(tenant_id: i64, control: &str, resource: Option<&str>) -> NewException {
    NewException {
        tenant_id,
        control_id: control.into(),
        resource_key: resource.map(Into::into),
        reason: "compensating control: conditional access blocks legacy auth".into(),
        expires_at: in_days(30),
    }
}

fn query(scope: Scope) -> FindingQuery {
    FindingQuery {
        scope,
        ..Default::default()
    }
}

fn conflict<T: std::fmt::Debug>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Conflict(m)) => m,
        other => panic!("expected Conflict, got {other:?}"),
    }
}

fn not_found<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(
        matches!(r, Err(Error::NotFound { .. })),
        "expected NotFound, got {r:?}"
    );
}

fn invalid<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(
        matches!(r, Err(Error::Invalid { .. })),
        "expected Invalid, got {r:?}"
    );
}

// ---------------------------------------------------------------------------------------------

both_backends!(users_and_passwords, users_body);
async fn users_body(ctx: Ctx) {
    let s = &ctx.store;
    let c = customer(s, "Sakura").await;

    let admin = user(s, "Admin", Role::OperatorAdmin, None).await;
    assert_eq!(
        (admin.username.as_str(), admin.role, admin.customer_id),
        ("Admin", Role::OperatorAdmin, None)
    );
    assert_eq!(admin.scope(), Scope::All);
    let cu = user(s, "hanako@sakura.example.jp", Role::CustomerViewer, Some(c)).await;
    assert_eq!(cu.scope(), Scope::Customer(c));

    // Role and customer must agree; language and password length are checked.
    invalid(
        s.create_user(&new_user("x1", Role::CustomerAdmin, None))
            .await,
    );
    invalid(s.create_user(&new_user("x2", Role::Analyst, Some(c))).await);
    invalid(
        s.create_user(&NewUser {
            lang: "fr".into(),
            ..new_user("x3", Role::Analyst, None)
        })
        .await,
    );
    let short = s
        .create_user(&NewUser {
            password: "short-pw1".into(),
            ..new_user("x4", Role::Analyst, None)
        })
        .await;
    assert!(
        !format!("{short:?}").contains("short-pw1"),
        "no password in errors"
    );
    invalid(short);
    invalid(
        s.create_user(&new_user("has space", Role::Analyst, None))
            .await,
    );
    not_found(
        s.create_user(&new_user("x5", Role::CustomerAdmin, Some(9999)))
            .await,
    );
    // Usernames are unique ignoring case.
    let dup = conflict(s.create_user(&new_user("admin", Role::Analyst, None)).await);
    assert!(dup.contains("username already exists"), "{dup}");
    assert!(!format!("{:?}", new_user("y", Role::Analyst, None)).contains(PASSWORD));

    for r in Role::ALL {
        assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
    }
    assert!(Role::CustomerAdmin.is_customer_role() && !Role::Billing.is_customer_role());

    // Passwords: Argon2id in the database, never the password itself.
    let hashes = raw_texts(&ctx.url, "SELECT password_hash FROM users ORDER BY id").await;
    assert_eq!(hashes.len(), 2);
    for h in &hashes {
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains(PASSWORD));
    }
    assert_ne!(hashes[0], hashes[1], "salted");

    assert_eq!(
        s.verify_password("admin", PASSWORD).await.unwrap(),
        Some(admin.clone())
    );
    assert_eq!(
        s.verify_password("admin", "wrong password").await.unwrap(),
        None
    );
    assert_eq!(s.verify_password("nobody", PASSWORD).await.unwrap(), None);
    assert_eq!(
        s.get_user_by_username("ADMIN").await.unwrap().unwrap().id,
        admin.id
    );
    assert_eq!(s.get_user(admin.id).await.unwrap().unwrap(), admin);
    assert_eq!(s.get_user(9999).await.unwrap(), None);

    s.set_password(admin.id, "a new password 2").await.unwrap();
    assert_eq!(s.verify_password("admin", PASSWORD).await.unwrap(), None);
    assert!(s
        .verify_password("admin", "a new password 2")
        .await
        .unwrap()
        .is_some());
    invalid(s.set_password(admin.id, "short").await);
    not_found(s.set_password(9999, "long enough password").await);

    s.set_user_lang(admin.id, "en").await.unwrap();
    assert_eq!(s.get_user(admin.id).await.unwrap().unwrap().lang, "en");
    invalid(s.set_user_lang(admin.id, "de").await);
    not_found(s.set_user_lang(9999, "en").await);

    // Disabled users cannot log in.
    s.set_user_disabled(cu.id, true).await.unwrap();
    assert_eq!(
        s.verify_password("hanako@sakura.example.jp", PASSWORD)
            .await
            .unwrap(),
        None
    );
    assert!(s.get_user(cu.id).await.unwrap().unwrap().disabled);
    s.set_user_disabled(cu.id, false).await.unwrap();
    assert!(s
        .verify_password("hanako@sakura.example.jp", PASSWORD)
        .await
        .unwrap()
        .is_some());
    not_found(s.set_user_disabled(9999, true).await);

    let all: Vec<i64> = s
        .list_users(Scope::All)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(all, [admin.id, cu.id]);
    let mine: Vec<i64> = s
        .list_users(Scope::Customer(c))
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(mine, [cu.id]);
}

both_backends!(sessions_expire_and_end, sessions_body);
async fn sessions_body(ctx: Ctx) {
    let s = &ctx.store;
    let u = user(s, "analyst", Role::Analyst, None).await;
    let (token, session) = s
        .create_session(u.id, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(token.len(), 43, "32 bytes, base64url without padding");
    assert!(!token.contains('=') && !token.contains('+') && !token.contains('/'));
    assert_eq!(session.csrf_token.len(), 43);
    assert_ne!(session.csrf_token, token);
    assert!(!format!("{session:?}").contains(&session.csrf_token));
    let (found, found_user) = s.session_user(&token).await.unwrap().unwrap();
    assert_eq!((found.clone(), found_user.id), (session.clone(), u.id));
    assert!(session.expires_at > session.created_at);

    // Only the SHA-256 of the token is stored.
    let stored = raw_texts(&ctx.url, "SELECT token_hash FROM sessions").await;
    assert_eq!(stored, [mamori_store::token_hash(&token)]);
    assert_eq!(stored[0].len(), 64);
    assert!(!stored.contains(&token));

    assert_eq!(s.session_user("not a token").await.unwrap(), None);
    assert_eq!(s.session_user("").await.unwrap(), None);

    // Expired sessions are not valid, and are purged.
    let (short, _) = s
        .create_session(u.id, Duration::from_millis(1))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(s.session_user(&short).await.unwrap(), None);
    assert_eq!(s.purge_expired_sessions().await.unwrap(), 1);
    assert!(s.session_user(&token).await.unwrap().is_some());

    // Logging out ends the session.
    s.delete_session(&token).await.unwrap();
    assert_eq!(s.session_user(&token).await.unwrap(), None);
    s.delete_session(&token).await.unwrap();

    // Disabling a user deletes their sessions.
    let (t1, _) = s
        .create_session(u.id, Duration::from_secs(60))
        .await
        .unwrap();
    let (t2, _) = s
        .create_session(u.id, Duration::from_secs(60))
        .await
        .unwrap();
    s.set_user_disabled(u.id, true).await.unwrap();
    assert_eq!(s.session_user(&t1).await.unwrap(), None);
    s.set_user_disabled(u.id, false).await.unwrap();
    assert_eq!(
        s.session_user(&t2).await.unwrap(),
        None,
        "deleted, not hidden"
    );
    assert!(raw_texts(&ctx.url, "SELECT token_hash FROM sessions")
        .await
        .is_empty());

    let (t3, _) = s
        .create_session(u.id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(s.delete_user_sessions(u.id).await.unwrap(), 1);
    assert_eq!(s.session_user(&t3).await.unwrap(), None);
    not_found(s.create_session(9999, Duration::from_secs(60)).await);

    // Ending a user's access in one go, but the session and token that changed the password.
    let day = Duration::from_secs(86_400);
    let (kept_session, session) = s.create_session(u.id, day).await.unwrap();
    let (other_session, _) = s.create_session(u.id, day).await.unwrap();
    let (kept_token, token) = s.create_api_token(u.id, "kept", None).await.unwrap();
    let (other_token, _) = s.create_api_token(u.id, "other", None).await.unwrap();
    let keep = KeptAccess {
        session: Some(session.id),
        token: Some(token.id),
    };
    let ended = s.end_user_access(u.id, keep).await.unwrap();
    assert_eq!((ended.sessions, ended.tokens), (1, 1));
    assert!(s.session_user(&kept_session).await.unwrap().is_some());
    assert_eq!(s.session_user(&other_session).await.unwrap(), None);
    assert!(s.api_token_user(&kept_token).await.unwrap().is_some());
    assert!(s.api_token_user(&other_token).await.unwrap().is_none());
    let ended = s
        .end_user_access(u.id, KeptAccess::default())
        .await
        .unwrap();
    assert_eq!((ended.sessions, ended.tokens), (1, 1), "then the rest too");
    assert!(s.api_token_user(&kept_token).await.unwrap().is_none());
}

both_backends!(api_tokens_hashed_revocable_expiring, api_tokens_body);
async fn api_tokens_body(ctx: Ctx) {
    let s = &ctx.store;
    let u = user(s, "robot", Role::Analyst, None).await;
    let other = user(s, "other", Role::Analyst, None).await;
    let (secret, token) = s.create_api_token(u.id, "ci", None).await.unwrap();
    assert!(secret.starts_with("mmr_"));
    assert_eq!(secret.len(), 44);
    assert_eq!(token.prefix, &secret[..12]);
    assert_eq!((token.revoked, token.last_used_at), (false, None));

    let stored = raw_texts(&ctx.url, "SELECT token_hash FROM api_tokens").await;
    assert_eq!(stored, [mamori_store::token_hash(&secret)]);
    let prefixes = raw_texts(&ctx.url, "SELECT prefix FROM api_tokens").await;
    assert!(!prefixes.contains(&secret));

    let (used, used_by) = s.api_token_user(&secret).await.unwrap().unwrap();
    assert_eq!(used_by.id, u.id);
    assert!(used.last_used_at.is_some());
    let listed = s.list_api_tokens(u.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, used.last_used_at);
    // Within the minute the use is not written again.
    let (again, _) = s.api_token_user(&secret).await.unwrap().unwrap();
    assert_eq!(again.last_used_at, used.last_used_at);

    assert_eq!(s.api_token_user("mmr_unknown").await.unwrap(), None);
    assert_eq!(s.api_token_user(&secret[4..]).await.unwrap(), None);

    // Expired tokens do not work.
    let (expired, _) = s
        .create_api_token(
            u.id,
            "old",
            Some(Timestamp::now() - SignedDuration::from_secs(1)),
        )
        .await
        .unwrap();
    assert_eq!(s.api_token_user(&expired).await.unwrap(), None);
    let (future, _) = s
        .create_api_token(u.id, "later", Some(in_days(1)))
        .await
        .unwrap();
    assert!(s.api_token_user(&future).await.unwrap().is_some());

    // Revocation: only by the token's user.
    not_found(s.revoke_api_token(other.id, token.id).await);
    assert!(s.api_token_user(&secret).await.unwrap().is_some());
    s.revoke_api_token(u.id, token.id).await.unwrap();
    assert_eq!(s.api_token_user(&secret).await.unwrap(), None);
    assert!(
        s.list_api_tokens(u.id)
            .await
            .unwrap()
            .iter()
            .find(|t| t.id == token.id)
            .unwrap()
            .revoked
    );
    assert!(s.list_api_tokens(other.id).await.unwrap().is_empty());

    // A disabled user's tokens do not work.
    s.set_user_disabled(u.id, true).await.unwrap();
    assert_eq!(s.api_token_user(&future).await.unwrap(), None);
    s.set_user_disabled(u.id, false).await.unwrap();
    assert!(s.api_token_user(&future).await.unwrap().is_some());

    invalid(s.create_api_token(u.id, " ", None).await);
    not_found(s.create_api_token(9999, "x", None).await);
}

// ---------------------------------------------------------------------------------------------

/// Two customers with everything: the fixture of the isolation test.
struct World {
    a: i64,
    b: i64,
    ta: i64,
    tb: i64,
    scan_a: i64,
    scan_b: i64,
}

async fn world(s: &Store, key: &MasterKey) -> World {
    let (a, b) = (customer(s, "Alpha").await, customer(s, "Beta").await);
    let (ta, tb) = (
        tenant_of(s, key, a, "alpha.onmicrosoft.com").await,
        tenant_of(s, key, b, "beta.onmicrosoft.com").await,
    );
    let results = [
        fail("MS.AAD.1.1v1", "high"),
        fail("MS.EXO.2.1v1", "critical"),
    ];
    let scan_a = scan_with(s, ta, &results).await;
    let scan_b = scan_with(s, tb, &results).await;
    World {
        a,
        b,
        ta,
        tb,
        scan_a,
        scan_b,
    }
}

both_backends!(customer_scope_sees_only_its_own_data, isolation_body);
async fn isolation_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let w = world(s, &key).await;
    let op = user(s, "op", Role::OperatorAdmin, None).await;
    let ua = user(s, "alpha-admin", Role::CustomerAdmin, Some(w.a)).await;
    let ub = user(s, "beta-admin", Role::CustomerAdmin, Some(w.b)).await;
    let sa = ua.scope();
    assert_eq!(sa, Scope::Customer(w.a));
    assert!(sa.allows(w.a) && !sa.allows(w.b) && Scope::All.allows(w.b));

    // Customers, tenants, scans.
    let ids = |v: Vec<mamori_store::Customer>| v.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(s.list_customers_scoped(sa).await.unwrap()), [w.a]);
    assert_eq!(
        ids(s.list_customers_scoped(Scope::All).await.unwrap()).len(),
        2
    );
    assert!(s.get_customer_scoped(sa, w.b).await.unwrap().is_none());
    assert!(s.get_customer_scoped(sa, w.a).await.unwrap().is_some());
    let tenants = s.list_tenants_scoped(sa, None).await.unwrap();
    assert_eq!(tenants.iter().map(|t| t.id).collect::<Vec<_>>(), [w.ta]);
    assert!(s
        .list_tenants_scoped(sa, Some(w.b))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.list_tenants_scoped(Scope::All, Some(w.b))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(s.get_tenant_scoped(sa, w.tb).await.unwrap().is_none());
    assert!(s.get_tenant_scoped(sa, w.ta).await.unwrap().is_some());
    let scans = s.list_scans_scoped(sa, None, 100).await.unwrap();
    assert_eq!(scans.iter().map(|x| x.id).collect::<Vec<_>>(), [w.scan_a]);
    assert!(s
        .list_scans_scoped(sa, Some(w.tb), 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.list_scans_scoped(Scope::All, None, 100)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(s.get_scan_scoped(sa, w.scan_b).await.unwrap().is_none());
    assert!(s.get_scan_scoped(sa, w.scan_a).await.unwrap().is_some());

    // Findings.
    let page = s.list_findings(&query(sa)).await.unwrap();
    assert_eq!(page.total, 2);
    assert!(page
        .items
        .iter()
        .all(|f| f.customer_id == w.a && f.finding.tenant_id == w.ta));
    let b_finding = s
        .list_findings(&FindingQuery {
            tenant_id: Some(w.tb),
            ..query(Scope::All)
        })
        .await
        .unwrap()
        .items[0]
        .finding
        .id;
    for q in [
        FindingQuery {
            tenant_id: Some(w.tb),
            ..query(sa)
        },
        FindingQuery {
            customer_id: Some(w.b),
            ..query(sa)
        },
    ] {
        let p = s.list_findings(&q).await.unwrap();
        assert_eq!((p.total, p.items.len()), (0, 0));
    }
    assert!(s.get_finding(sa, b_finding).await.unwrap().is_none());
    assert!(s
        .get_finding(Scope::All, b_finding)
        .await
        .unwrap()
        .is_some());
    assert!(s.finding_history(sa, b_finding).await.unwrap().is_empty());
    assert!(!s
        .finding_history(Scope::All, b_finding)
        .await
        .unwrap()
        .is_empty());
    let counts = s.severity_counts(sa, None).await.unwrap();
    assert!(counts.iter().all(|(t, _, _)| *t == w.ta) && counts.len() == 2);
    assert!(s.severity_counts(sa, Some(w.tb)).await.unwrap().is_empty());

    // Exceptions.
    not_found(
        s.request_exception(sa, ua.id, &exception(w.tb, "MS.AAD.1.1v1", None))
            .await,
    );
    let ea = s
        .request_exception(sa, ua.id, &exception(w.ta, "MS.AAD.1.1v1", None))
        .await
        .unwrap();
    let eb = s
        .request_exception(
            Scope::Customer(w.b),
            ub.id,
            &exception(w.tb, "MS.AAD.1.1v1", None),
        )
        .await
        .unwrap();
    assert_eq!(ea.customer_id, w.a);
    let listed = s.list_exceptions(sa, None, None).await.unwrap();
    assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), [ea.id]);
    assert!(s
        .list_exceptions(sa, Some(w.tb), None)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.list_exceptions(Scope::All, None, None)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(s.get_exception(sa, eb.id).await.unwrap().is_none());
    not_found(s.decide_exception(sa, eb.id, ua.id, true, "").await);
    not_found(s.revoke_exception(sa, eb.id, ua.id).await);
    not_found(s.mark_exception_reviewed(sa, eb.id).await);
    assert_eq!(
        s.get_exception(Scope::All, eb.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        ExceptionStatus::Requested,
        "untouched"
    );

    // Scores.
    let score = |v: f64| ScoreInput {
        kind: "overall".into(),
        key: String::new(),
        score: v,
        passed: 1,
        failed: 1,
        accepted: 0,
        errors: 0,
    };
    s.record_scores(w.scan_a, &[score(50.0)]).await.unwrap();
    s.record_scores(w.scan_b, &[score(70.0)]).await.unwrap();
    assert!(s
        .score_history(sa, w.tb, "overall", "", 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.score_history(Scope::All, w.tb, "overall", "", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let latest = s.latest_scores(sa, "overall").await.unwrap();
    assert_eq!(
        latest.iter().map(|p| p.tenant_id).collect::<Vec<_>>(),
        [w.ta]
    );
    assert_eq!(
        s.latest_scores(Scope::All, "overall").await.unwrap().len(),
        2
    );

    // Overview.
    let o = s.tenant_overview(sa, None).await.unwrap();
    assert_eq!(o.iter().map(|t| t.tenant.id).collect::<Vec<_>>(), [w.ta]);
    assert!(s.tenant_overview(sa, Some(w.b)).await.unwrap().is_empty());
    assert_eq!(s.tenant_overview(Scope::All, None).await.unwrap().len(), 2);

    // Jobs.
    let ja = s.enqueue_scan(w.ta, None).await.unwrap().unwrap();
    let jb = s.enqueue_scan(w.tb, None).await.unwrap().unwrap();
    let jobs = s.list_jobs(sa, None, 100).await.unwrap();
    assert_eq!(jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [ja.id]);
    assert_eq!(s.list_jobs(Scope::All, None, 100).await.unwrap().len(), 2);
    assert!(s.get_job(sa, jb.id).await.unwrap().is_none());
    assert!(s.get_job(sa, ja.id).await.unwrap().is_some());

    // Channels and outbox: a customer sees its own channels, not operator-wide ones.
    let ca = s
        .create_channel(
            &key,
            Some(w.a),
            "alpha hook",
            "webhook",
            Severity::High,
            br#"{"url":"https://a.example/h"}"#,
        )
        .await
        .unwrap();
    let cb = s
        .create_channel(
            &key,
            Some(w.b),
            "beta hook",
            "webhook",
            Severity::High,
            br#"{"url":"https://b.example/h"}"#,
        )
        .await
        .unwrap();
    let cop = s
        .create_channel(
            &key,
            None,
            "soc",
            "slack",
            Severity::Critical,
            br#"{"url":"https://soc.example/h"}"#,
        )
        .await
        .unwrap();
    let ch = s.list_channels(sa).await.unwrap();
    assert_eq!(ch.iter().map(|c| c.id).collect::<Vec<_>>(), [ca.id]);
    assert_eq!(s.list_channels(Scope::All).await.unwrap().len(), 3);
    assert!(s.get_channel(sa, cb.id).await.unwrap().is_none());
    not_found(s.delete_channel(sa, cb.id).await);
    not_found(s.delete_channel(sa, cop.id).await);
    not_found(s.set_channel_enabled(sa, cb.id, false).await);
    let for_a: Vec<i64> = s
        .channels_for_customer(w.a)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(for_a, [ca.id, cop.id]);
    let payload = serde_json::json!({"event": "finding.opened"});
    let na = s.enqueue_notification(ca.id, &payload).await.unwrap();
    s.enqueue_notification(cb.id, &payload).await.unwrap();
    s.enqueue_notification(cop.id, &payload).await.unwrap();
    let outbox = s.list_outbox(sa, 100).await.unwrap();
    assert_eq!(outbox.iter().map(|o| o.id).collect::<Vec<_>>(), [na]);
    assert_eq!(s.list_outbox(Scope::All, 100).await.unwrap().len(), 3);

    // Audit.
    s.audit(
        Some(ua.id),
        Some(w.a),
        "tenant.update",
        "tenant:1",
        "renamed",
    )
    .await
    .unwrap();
    s.audit(
        Some(ub.id),
        Some(w.b),
        "tenant.update",
        "tenant:2",
        "renamed",
    )
    .await
    .unwrap();
    s.audit(Some(op.id), None, "user.create", "user:9", "")
        .await
        .unwrap();
    let audit = s.list_audit(sa, 100).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].customer_id, audit[0].actor_user_id),
        (Some(w.a), Some(ua.id))
    );
    let all = s.list_audit(Scope::All, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["user.create", "tenant.update", "tenant.update"]
    );
    assert_eq!(s.list_audit(Scope::All, 1).await.unwrap().len(), 1);

    // Users.
    let users = s.list_users(sa).await.unwrap();
    assert_eq!(users.iter().map(|u| u.id).collect::<Vec<_>>(), [ua.id]);

    // A scope of a customer that does not exist sees nothing at all.
    let none = Scope::Customer(-1);
    assert!(s.list_customers_scoped(none).await.unwrap().is_empty());
    assert!(s.list_tenants_scoped(none, None).await.unwrap().is_empty());
    assert_eq!(s.list_findings(&query(none)).await.unwrap().total, 0);
    assert!(s.list_jobs(none, None, 10).await.unwrap().is_empty());
    assert!(s.list_channels(none).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------

both_backends!(finding_listing_filters_order_and_pages, listing_body);
async fn listing_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let (a, b) = (customer(s, "Alpha").await, customer(s, "Beta").await);
    let ta = tenant_of(s, &key, a, "alpha").await;
    let tb = tenant_of(s, &key, b, "beta").await;
    scan_with(
        s,
        ta,
        &[
            fail("MS.AAD.1.1v1", "low"),
            fail("MS.AAD.2.1v1", "critical").with_resources(["u1", "u2"]),
            fail("MS.EXO.1.1v1", "medium"),
            fail("GWS.X", "info"),
            fail("MS.AAD.3.1v1", "info"),
        ],
    )
    .await;
    scan_with(s, tb, &[fail("MS.AAD.1.1v1", "high"), pass("MS.EXO.1.1v1")]).await;

    let all = s.list_findings(&FindingQuery::default()).await.unwrap();
    assert_eq!((all.total, all.limit, all.offset), (7, 50, 0));
    let severities: Vec<&str> = all
        .items
        .iter()
        .map(|f| f.finding.severity.as_str())
        .collect();
    assert_eq!(
        severities,
        ["critical", "critical", "high", "medium", "low", "info", "info"]
    );
    let v = &all.items[2];
    assert_eq!(
        (
            v.customer_name.as_str(),
            v.tenant_name.as_str(),
            v.app,
            v.customer_id
        ),
        ("Beta", "beta", App::M365, b)
    );
    assert_eq!(v.accepted_exception_id, None);

    // Paging.
    let mut seen = vec![];
    for offset in [0, 3, 6] {
        let p = s
            .list_findings(&FindingQuery {
                limit: 3,
                offset,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(p.total, 7);
        seen.extend(p.items.iter().map(|f| f.finding.id));
    }
    assert_eq!(
        seen,
        all.items.iter().map(|f| f.finding.id).collect::<Vec<_>>()
    );
    let clamped = s
        .list_findings(&FindingQuery {
            limit: 100_000,
            offset: -5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((clamped.limit, clamped.offset), (500, 0));
    let one = s
        .list_findings(&FindingQuery {
            limit: 0,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((one.limit, one.items.len()), (1, 1));

    // Filters.
    let total = |q: FindingQuery| async move { s.list_findings(&q).await.unwrap().total };
    assert_eq!(
        total(FindingQuery {
            control: Some("MS.AAD.".into()),
            ..Default::default()
        })
        .await,
        5
    );
    assert_eq!(
        total(FindingQuery {
            control: Some("ms.aad.".into()),
            ..Default::default()
        })
        .await,
        0,
        "prefix match is case-sensitive on both backends"
    );
    assert_eq!(
        total(FindingQuery {
            control: Some("MS.AAD.2".into()),
            customer_id: Some(a),
            ..Default::default()
        })
        .await,
        2
    );
    assert_eq!(
        total(FindingQuery {
            severity: Some(Severity::Critical),
            ..Default::default()
        })
        .await,
        2
    );
    assert_eq!(
        total(FindingQuery {
            tenant_id: Some(tb),
            ..Default::default()
        })
        .await,
        1
    );
    // Resolve one and look at status filters.
    scan_with(s, ta, &[pass("MS.AAD.1.1v1")]).await;
    assert_eq!(
        total(FindingQuery {
            status: Some(FindingStatus::Resolved),
            ..Default::default()
        })
        .await,
        1
    );
    assert_eq!(
        total(FindingQuery {
            active_only: true,
            ..Default::default()
        })
        .await,
        6
    );
    assert_eq!(
        total(FindingQuery {
            accepted: Some(true),
            ..Default::default()
        })
        .await,
        0
    );
    assert_eq!(
        total(FindingQuery {
            accepted: Some(false),
            active_only: true,
            customer_id: Some(a),
            ..Default::default()
        })
        .await,
        5
    );
    let counts = s.severity_counts(Scope::All, Some(ta)).await.unwrap();
    assert_eq!(
        counts
            .iter()
            .map(|(_, sev, n)| (sev.as_str(), *n))
            .collect::<Vec<_>>(),
        [("critical", 2), ("medium", 1), ("info", 2)]
    );
}

both_backends!(finding_history_from_recorded_scans, history_body);
async fn history_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let t = tenant_of(s, &key, c, "t").await;
    let s1 = scan_with(s, t, &[fail("A", "high")]).await;
    let id = s.findings(t, None).await.unwrap()[0].id;
    // Recording the same scan again adds no event.
    s.record_results(s1, &[fail("A", "high")]).await.unwrap();
    let s2 = scan_with(s, t, &[fail("A", "high")]).await;
    let s3 = scan_with(s, t, &[pass("A")]).await;
    let s4 = scan_with(s, t, &[fail("A", "critical")]).await;
    let h = s.finding_history(Scope::All, id).await.unwrap();
    let got: Vec<(Option<i64>, Option<&str>, &str, &str)> = h
        .iter()
        .map(|e| {
            (
                e.scan_id,
                e.from_status.map(FindingStatus::as_str),
                e.to_status.as_str(),
                e.note.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(s1), None, "open", "opened"),
            (Some(s3), Some("open"), "resolved", "resolved"),
            (Some(s4), Some("resolved"), "reopened", "reopened"),
        ]
    );
    let _ = s2;
    assert!(h.windows(2).all(|w| w[0].at <= w[1].at));
    let f = s.get_finding(Scope::All, id).await.unwrap().unwrap();
    assert_eq!(
        (
            f.finding.status,
            f.finding.severity.as_str(),
            f.finding.reopen_count
        ),
        (FindingStatus::Reopened, "critical", 1)
    );
    assert!(s
        .finding_history(Scope::All, 9999)
        .await
        .unwrap()
        .is_empty());
    assert!(s.get_finding(Scope::All, 9999).await.unwrap().is_none());
}

// ---------------------------------------------------------------------------------------------

both_backends!(exceptions_four_eyes_and_acceptance, exceptions_body);
async fn exceptions_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let t = tenant_of(s, &key, c, "t").await;
    let requester = user(s, "requester", Role::CustomerAdmin, Some(c)).await;
    let analyst = user(s, "analyst", Role::Analyst, None).await;
    scan_with(
        s,
        t,
        &[
            fail("C1", "high").with_resources(["r1", "r2"]),
            fail("C2", "medium"),
        ],
    )
    .await;
    let sc = requester.scope();

    // Validation.
    let mut bad = exception(t, "C1", None);
    bad.reason = "  ".into();
    invalid(s.request_exception(sc, requester.id, &bad).await);
    bad = exception(t, "C1", None);
    bad.expires_at = Timestamp::now() - SignedDuration::from_secs(1);
    invalid(s.request_exception(sc, requester.id, &bad).await);
    bad.expires_at = in_days(367);
    invalid(s.request_exception(sc, requester.id, &bad).await);
    not_found(
        s.request_exception(sc, requester.id, &exception(9999, "C1", None))
            .await,
    );

    let e = s
        .request_exception(sc, requester.id, &exception(t, "C1", None))
        .await
        .unwrap();
    let twice = conflict(
        s.request_exception(sc, requester.id, &exception(t, "C1", None))
            .await,
    );
    assert!(twice.contains("already requested or approved"), "{twice}");
    assert_eq!(
        (
            e.status,
            e.tenant_id,
            e.customer_id,
            e.decided_by,
            e.needs_review
        ),
        (ExceptionStatus::Requested, t, c, None, false)
    );
    // Requested is not accepted yet.
    assert_eq!(
        s.list_findings(&FindingQuery {
            accepted: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .total,
        0
    );

    // Four eyes.
    let m = conflict(
        s.decide_exception(Scope::All, e.id, requester.id, true, "ok")
            .await,
    );
    assert!(m.contains("four-eyes"), "{m}");

    let approved = s
        .decide_exception(Scope::All, e.id, analyst.id, true, "reviewed")
        .await
        .unwrap();
    assert_eq!(
        (
            approved.status,
            approved.decided_by,
            approved.decision_note.as_str()
        ),
        (ExceptionStatus::Approved, Some(analyst.id), "reviewed")
    );
    assert!(approved.decided_at.is_some());
    let m = conflict(
        s.decide_exception(Scope::All, e.id, analyst.id, false, "")
            .await,
    );
    assert_eq!(m, format!("exception {} is already approved", e.id));

    // Both resources of C1 are accepted now; C2 is not.
    let accepted = s
        .list_findings(&FindingQuery {
            accepted: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let keys: BTreeSet<&str> = accepted
        .items
        .iter()
        .map(|f| f.finding.resource_key.as_str())
        .collect();
    assert_eq!(keys, ["r1", "r2"].into());
    assert!(accepted
        .items
        .iter()
        .all(|f| f.accepted_exception_id == Some(e.id)));
    let r1 = accepted
        .items
        .iter()
        .find(|f| f.finding.resource_key == "r1")
        .unwrap()
        .finding
        .id;
    let note = format!("accepted by exception {}", e.id);
    assert!(s
        .finding_history(Scope::All, r1)
        .await
        .unwrap()
        .iter()
        .any(|ev| ev.note == note && ev.scan_id.is_none()));
    let counts = s.severity_counts(Scope::All, Some(t)).await.unwrap();
    assert_eq!(
        counts,
        [(t, Severity::Medium, 1)],
        "accepted findings are not counted"
    );

    // New and reopened findings of the control are accepted when recorded.
    scan_with(
        s,
        t,
        &[
            fail("C1", "high").with_resources(["r2", "r3"]),
            fail("C2", "medium"),
        ],
    )
    .await;
    scan_with(
        s,
        t,
        &[
            fail("C1", "high").with_resources(["r1", "r2", "r3"]),
            fail("C2", "medium"),
        ],
    )
    .await;
    let by_key: BTreeMap<String, (FindingStatus, Option<i64>)> = s
        .list_findings(&FindingQuery {
            control: Some("C1".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|f| {
            (
                f.finding.resource_key.clone(),
                (f.finding.status, f.accepted_exception_id),
            )
        })
        .collect();
    assert_eq!(
        by_key["r1"],
        (FindingStatus::Reopened, Some(e.id)),
        "reopened: accepted again"
    );
    assert_eq!(by_key["r2"], (FindingStatus::Open, Some(e.id)));
    assert_eq!(
        by_key["r3"],
        (FindingStatus::Open, Some(e.id)),
        "new: accepted"
    );
    let h1 = s.finding_history(Scope::All, r1).await.unwrap();
    let notes: Vec<&str> = h1.iter().map(|e| e.note.as_str()).collect();
    assert_eq!(
        notes,
        [
            "opened",
            note.as_str(),
            "resolved",
            "reopened",
            note.as_str()
        ]
    );

    // A resource-specific exception on C2 (resource "") and its rejection, then revocation.
    let e2 = s
        .request_exception(sc, requester.id, &exception(t, "C2", Some("")))
        .await
        .unwrap();
    let rejected = s
        .decide_exception(Scope::All, e2.id, analyst.id, false, "not convincing")
        .await
        .unwrap();
    assert_eq!(rejected.status, ExceptionStatus::Rejected);
    assert_eq!(
        s.severity_counts(Scope::All, Some(t)).await.unwrap().len(),
        1
    );
    let e3 = s
        .request_exception(sc, requester.id, &exception(t, "C2", Some("")))
        .await
        .unwrap();
    s.decide_exception(Scope::All, e3.id, analyst.id, true, "")
        .await
        .unwrap();
    assert!(s
        .severity_counts(Scope::All, Some(t))
        .await
        .unwrap()
        .is_empty());
    let revoked = s.revoke_exception(sc, e3.id, requester.id).await.unwrap();
    assert_eq!(
        (revoked.status, revoked.revoked_by),
        (ExceptionStatus::Revoked, Some(requester.id))
    );
    assert_eq!(
        s.severity_counts(Scope::All, Some(t)).await.unwrap().len(),
        1
    );
    let c2 = s
        .list_findings(&FindingQuery {
            control: Some("C2".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    assert_eq!(c2.accepted_exception_id, None);
    let last = s
        .finding_history(Scope::All, c2.finding.id)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert!(last.note.contains("revoked"), "{}", last.note);
    conflict(s.revoke_exception(sc, e3.id, requester.id).await);
    conflict(
        s.decide_exception(Scope::All, e3.id, analyst.id, true, "")
            .await,
    );
    // A requested one can be withdrawn too.
    let e4 = s
        .request_exception(sc, requester.id, &exception(t, "C2", None))
        .await
        .unwrap();
    assert_eq!(
        s.revoke_exception(sc, e4.id, requester.id)
            .await
            .unwrap()
            .status,
        ExceptionStatus::Revoked
    );

    let statuses: Vec<ExceptionStatus> = s
        .list_exceptions(sc, Some(t), None)
        .await
        .unwrap()
        .iter()
        .map(|e| e.status)
        .collect();
    assert_eq!(
        statuses,
        [
            ExceptionStatus::Revoked,
            ExceptionStatus::Revoked,
            ExceptionStatus::Rejected,
            ExceptionStatus::Approved
        ],
        "newest first"
    );
    assert_eq!(
        s.list_exceptions(sc, None, Some(ExceptionStatus::Approved))
            .await
            .unwrap()
            .len(),
        1
    );
    for st in ExceptionStatus::ALL {
        assert_eq!(st.as_str().parse::<ExceptionStatus>().unwrap(), *st);
    }
}

both_backends!(concurrent_approvals_exactly_one_wins, race_body);
async fn race_body(ctx: Ctx) {
    let s = &ctx.store;
    let other = Store::open(&ctx.url).await.unwrap();
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let t = tenant_of(s, &key, c, "t").await;
    // A resource per round: only one acceptance may be open per control and resource.
    scan_with(
        s,
        t,
        &[fail("C1", "high").with_resources(["a", "b", "c", "d", "e"])],
    )
    .await;
    let requester = user(s, "requester", Role::CustomerAdmin, Some(c)).await;
    let x = user(s, "approver-x", Role::Analyst, None).await;
    let y = user(s, "approver-y", Role::OperatorAdmin, None).await;
    for round in 0..5 {
        let e = s
            .request_exception(
                Scope::All,
                requester.id,
                &exception(t, "C1", Some(["a", "b", "c", "d", "e"][round])),
            )
            .await
            .unwrap();
        let (s1, s2) = (s.clone(), other.clone());
        let (approve_x, approve_y) = (round % 2 == 0, true);
        let h1 = tokio::spawn(async move {
            s1.decide_exception(Scope::All, e.id, x.id, approve_x, "x")
                .await
        });
        let h2 = tokio::spawn(async move {
            s2.decide_exception(Scope::All, e.id, y.id, approve_y, "y")
                .await
        });
        let (r1, r2) = (h1.await.unwrap(), h2.await.unwrap());
        let oks = [&r1, &r2].iter().filter(|r| r.is_ok()).count();
        assert_eq!(oks, 1, "round {round}: {r1:?} / {r2:?}");
        for r in [r1, r2] {
            if let Err(err) = r {
                assert!(matches!(err, Error::Conflict(_)), "{err:?}");
            }
        }
        let after = s.get_exception(Scope::All, e.id).await.unwrap().unwrap();
        assert!(matches!(
            after.status,
            ExceptionStatus::Approved | ExceptionStatus::Rejected
        ));
        // Whichever won, the findings agree with it, with one acceptance event at most.
        if after.status == ExceptionStatus::Approved {
            let events = raw_texts(
                &ctx.url,
                &format!(
                    "SELECT note FROM finding_events WHERE note = 'accepted by exception {}'",
                    e.id
                ),
            )
            .await;
            assert!(events.len() <= 1, "{events:?}");
        }
    }
    other.close().await;
}

both_backends!(expired_exceptions_reopen_their_findings, expiry_body);
async fn expiry_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let t = tenant_of(s, &key, c, "t").await;
    scan_with(
        s,
        t,
        &[
            fail("C1", "high").with_resources(["r1", "r2"]),
            fail("C2", "low"),
        ],
    )
    .await;
    let requester = user(s, "requester", Role::CustomerAdmin, Some(c)).await;
    let analyst = user(s, "analyst", Role::Analyst, None).await;
    let e = s
        .request_exception(Scope::All, requester.id, &exception(t, "C1", Some("r1")))
        .await
        .unwrap();
    s.decide_exception(Scope::All, e.id, analyst.id, true, "")
        .await
        .unwrap();
    let long = s
        .request_exception(
            Scope::All,
            requester.id,
            &NewException {
                expires_at: in_days(300),
                ..exception(t, "C2", None)
            },
        )
        .await
        .unwrap();
    s.decide_exception(Scope::All, long.id, analyst.id, true, "")
        .await
        .unwrap();

    // Not yet.
    assert!(s
        .expire_exceptions(Timestamp::now())
        .await
        .unwrap()
        .is_empty());

    let expired = s.expire_exceptions(in_days(31)).await.unwrap();
    assert_eq!(expired.iter().map(|x| x.id).collect::<Vec<_>>(), [e.id]);
    assert_eq!(
        (expired[0].status, expired[0].needs_review),
        (ExceptionStatus::Expired, true)
    );
    assert!(
        s.expire_exceptions(in_days(31)).await.unwrap().is_empty(),
        "once"
    );

    let views = s
        .list_findings(&FindingQuery {
            control: Some("C".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let find = |k: &str, c: &str| {
        views
            .iter()
            .find(|f| f.finding.resource_key == k && f.finding.control_id == c)
            .unwrap()
            .clone()
    };
    let r1 = find("r1", "C1");
    assert_eq!(
        (
            r1.finding.status,
            r1.finding.reopen_count,
            r1.accepted_exception_id
        ),
        (FindingStatus::Reopened, 1, None)
    );
    let r2 = find("r2", "C1");
    assert_eq!(
        (r2.finding.status, r2.finding.reopen_count),
        (FindingStatus::Open, 0)
    );
    assert_eq!(
        find("", "C2").accepted_exception_id,
        Some(long.id),
        "other exceptions stay"
    );
    let last = s
        .finding_history(Scope::All, r1.finding.id)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (
            last.from_status.map(FindingStatus::as_str),
            last.to_status.as_str(),
            last.note.clone()
        ),
        (
            Some("open"),
            "reopened",
            format!("exception {} expired", e.id)
        )
    );
    // The next scan does not accept it again.
    scan_with(s, t, &[fail("C1", "high").with_resources(["r1", "r2"])]).await;
    assert_eq!(
        s.get_finding(Scope::All, r1.finding.id)
            .await
            .unwrap()
            .unwrap()
            .accepted_exception_id,
        None
    );

    // Review.
    s.mark_exception_reviewed(Scope::Customer(c), e.id)
        .await
        .unwrap();
    assert!(
        !s.get_exception(Scope::All, e.id)
            .await
            .unwrap()
            .unwrap()
            .needs_review
    );
    not_found(s.mark_exception_reviewed(Scope::All, 9999).await);
    conflict(
        s.decide_exception(Scope::All, e.id, analyst.id, true, "")
            .await,
    );
    conflict(s.revoke_exception(Scope::All, e.id, analyst.id).await);
}

// ---------------------------------------------------------------------------------------------

both_backends!(scores_history_and_latest, scores_body);
async fn scores_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let (t1, t2) = (
        tenant_of(s, &key, c, "t1").await,
        tenant_of(s, &key, c, "t2").await,
    );
    let score = |kind: &str, key: &str, v: f64| ScoreInput {
        kind: kind.into(),
        key: key.into(),
        score: v,
        passed: 10,
        failed: 2,
        accepted: 1,
        errors: 0,
    };
    let mut scans = vec![];
    for v in [40.0, 50.0, 60.0, 70.0] {
        let scan = scan_with(s, t1, &[]).await;
        s.record_scores(
            scan,
            &[
                score("overall", "", v),
                score("framework", "cis-m365-v5", v / 2.0),
            ],
        )
        .await
        .unwrap();
        scans.push(scan);
    }
    // Recording again replaces.
    s.record_scores(
        scans[3],
        &[
            score("overall", "", 75.0),
            score("framework", "cis-m365-v5", 35.0),
        ],
    )
    .await
    .unwrap();
    let other = scan_with(s, t2, &[fail("A", "critical")]).await;
    s.record_scores(other, &[score("overall", "", 90.0)])
        .await
        .unwrap();

    let h = s
        .score_history(Scope::All, t1, "overall", "", 3)
        .await
        .unwrap();
    assert_eq!(
        h.iter().map(|p| p.score).collect::<Vec<_>>(),
        [50.0, 60.0, 75.0]
    );
    assert_eq!(h.iter().map(|p| p.scan_id).collect::<Vec<_>>(), scans[1..]);
    assert_eq!(
        (
            h[2].tenant_id,
            h[2].passed,
            h[2].failed,
            h[2].accepted,
            h[2].errors
        ),
        (t1, 10, 2, 1, 0)
    );
    assert!(h[0].at <= h[1].at);
    assert_eq!(
        s.score_history(Scope::All, t1, "overall", "", 100)
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        s.score_history(Scope::All, t1, "framework", "cis-m365-v5", 100)
            .await
            .unwrap()
            .len(),
        4
    );
    let latest = s.latest_scores(Scope::All, "overall").await.unwrap();
    assert_eq!(
        latest
            .iter()
            .map(|p| (p.tenant_id, p.score))
            .collect::<Vec<_>>(),
        [(t1, 75.0), (t2, 90.0)]
    );
    let fw = s.latest_scores(Scope::All, "framework").await.unwrap();
    assert_eq!(fw.len(), 1);
    assert_eq!((fw[0].key.as_str(), fw[0].score), ("cis-m365-v5", 35.0));

    invalid(s.record_scores(scans[0], &[score("bogus", "", 1.0)]).await);
    invalid(
        s.record_scores(scans[0], &[score("overall", "", 100.5)])
            .await,
    );
    invalid(
        s.record_scores(scans[0], &[score("overall", "", f64::NAN)])
            .await,
    );
    not_found(s.record_scores(9999, &[score("overall", "", 1.0)]).await);

    // The overview: newest scan, newest overall score, active unaccepted counts.
    let o = s.tenant_overview(Scope::All, Some(c)).await.unwrap();
    assert_eq!(o.len(), 2);
    let o2 = o.iter().find(|x| x.tenant.id == t2).unwrap();
    assert_eq!(o2.customer_name, "C");
    assert_eq!(o2.score, Some(90.0));
    assert_eq!(o2.last_scan.as_ref().unwrap().id, other);
    assert_eq!(o2.last_scan.as_ref().unwrap().status, ScanStatus::Succeeded);
    assert_eq!(
        o2.active_by_severity,
        BTreeMap::from([(Severity::Critical, 1)])
    );
    let o1 = o.iter().find(|x| x.tenant.id == t1).unwrap();
    assert_eq!(
        (o1.score, o1.last_scan.as_ref().unwrap().id),
        (Some(75.0), scans[3])
    );
    assert!(o1.active_by_severity.is_empty());
    let lonely = tenant_of(s, &key, c, "t3").await;
    let o = s.tenant_overview(Scope::All, None).await.unwrap();
    let o3 = o.iter().find(|x| x.tenant.id == lonely).unwrap();
    assert_eq!((o3.score, o3.last_scan.is_none()), (None, true));
}

// ---------------------------------------------------------------------------------------------

both_backends!(job_queue_claims_leases_and_slots, jobs_body);
async fn jobs_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let t1 = tenant_of(s, &key, c, "t1").await;
    let t2 = tenant_of(s, &key, c, "t2").await;
    let lease = Duration::from_secs(60);

    // One job per schedule slot; manual jobs always.
    let slot = Timestamp::now() - SignedDuration::from_secs(60);
    let j1 = s.enqueue_scan(t1, Some(slot)).await.unwrap().unwrap();
    assert_eq!(
        (
            j1.status,
            j1.attempts,
            j1.max_attempts,
            j1.scheduled_for,
            j1.run_after
        ),
        (JobStatus::Queued, 0, 3, Some(ts_us(slot)), ts_us(slot))
    );
    assert_eq!(
        s.enqueue_scan(t1, Some(slot)).await.unwrap(),
        None,
        "duplicate slot"
    );
    let manual1 = s.enqueue_scan(t1, None).await.unwrap().unwrap();
    let manual2 = s.enqueue_scan(t1, None).await.unwrap().unwrap();
    assert_ne!(manual1.id, manual2.id);
    let future = s
        .enqueue_scan(t2, Some(Timestamp::now() + SignedDuration::from_secs(3600)))
        .await
        .unwrap()
        .unwrap();
    not_found(s.enqueue_scan(9999, None).await);

    // The oldest due job; the tenant's other jobs wait while it runs; future jobs wait.
    let claimed = s.claim_job("w1", lease).await.unwrap().unwrap();
    assert_eq!(claimed.id, j1.id);
    assert_eq!(
        (
            claimed.status,
            claimed.attempts,
            claimed.lease_owner.as_deref()
        ),
        (JobStatus::Running, 1, Some("w1"))
    );
    assert!(claimed.lease_expires_at.unwrap() > Timestamp::now());
    let scan = s.get_scan(claimed.scan_id.unwrap()).await.unwrap().unwrap();
    assert_eq!((scan.tenant_id, scan.status), (t1, ScanStatus::Running));
    assert!(scan.started_at.is_some());
    assert_eq!(
        s.claim_job("w2", lease).await.unwrap(),
        None,
        "t1 runs; t2's is not due"
    );
    let _ = future;

    // Heartbeats only by the owner.
    assert!(s.heartbeat(j1.id, "w1", lease).await.unwrap());
    assert!(!s.heartbeat(j1.id, "w2", lease).await.unwrap());
    assert!(!s.finish_job(j1.id, "w2", Ok(())).await.unwrap());

    // Finishing frees the tenant.
    s.set_scan_request_count(scan.id, 17).await.unwrap();
    assert!(s.finish_job(j1.id, "w1", Ok(())).await.unwrap());
    s.finish_scan(scan.id, ScanStatus::Succeeded, 17, None)
        .await
        .unwrap();
    let done = s.get_job(Scope::All, j1.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.error.clone()),
        (JobStatus::Succeeded, None)
    );
    assert!(done.finished_at.is_some());
    assert!(!s.heartbeat(j1.id, "w1", lease).await.unwrap(), "finished");
    assert!(!s.finish_job(j1.id, "w1", Ok(())).await.unwrap(), "once");

    // A failing job fails its scan too.
    let next = s.claim_job("w1", lease).await.unwrap().unwrap();
    assert_eq!(next.id, manual1.id);
    assert!(s
        .finish_job(next.id, "w1", Err("token expired".into()))
        .await
        .unwrap());
    let failed = s.get_job(Scope::All, next.id).await.unwrap().unwrap();
    assert_eq!(
        (failed.status, failed.error.as_deref()),
        (JobStatus::Failed, Some("token expired"))
    );
    let fscan = s.get_scan(next.scan_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (fscan.status, fscan.error.as_deref()),
        (ScanStatus::Failed, Some("token expired"))
    );

    // An expired lease: the scan fails, the job is queued again, the old worker is out.
    let lost = s
        .claim_job("w1", Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lost.id, manual2.id);
    let lost_scan = lost.scan_id.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(s.requeue_expired().await.unwrap(), 1);
    assert_eq!(s.requeue_expired().await.unwrap(), 0);
    let sc = s.get_scan(lost_scan).await.unwrap().unwrap();
    assert_eq!(
        (sc.status, sc.error.as_deref()),
        (ScanStatus::Failed, Some(LEASE_LOST_ERROR))
    );
    let requeued = s.get_job(Scope::All, lost.id).await.unwrap().unwrap();
    assert_eq!(
        (
            requeued.status,
            requeued.scan_id,
            requeued.lease_owner.clone(),
            requeued.attempts
        ),
        (JobStatus::Queued, None, None, 1)
    );
    assert!(
        !s.finish_job(lost.id, "w1", Ok(())).await.unwrap(),
        "lease lost"
    );
    assert!(!s.heartbeat(lost.id, "w1", lease).await.unwrap());
    // Its attempts run out after three.
    for attempt in 2..=3 {
        let again = s
            .claim_job("w3", Duration::from_millis(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((again.id, again.attempts), (lost.id, attempt));
        assert_ne!(again.scan_id, Some(lost_scan), "a new scan per attempt");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(s.requeue_expired().await.unwrap(), 1);
    }
    let dead = s.get_job(Scope::All, lost.id).await.unwrap().unwrap();
    assert_eq!(
        (dead.status, dead.error.as_deref()),
        (JobStatus::Failed, Some(LEASE_LOST_ERROR))
    );
    assert!(dead.finished_at.is_some() && dead.scan_id.is_some());
    assert_eq!(s.claim_job("w1", lease).await.unwrap(), None);

    let counts: BTreeMap<String, i64> = s.job_counts().await.unwrap().into_iter().collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("failed".into(), 2),
            ("queued".into(), 1),
            ("succeeded".into(), 1)
        ])
    );
    assert_eq!(
        s.list_jobs(Scope::All, Some(JobStatus::Failed), 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(s.list_jobs(Scope::All, None, 2).await.unwrap().len(), 2);
    invalid(s.claim_job(" ", lease).await);

    // Schedules: compare-and-set of the last slot.
    assert!(s.scheduled_tenants().await.unwrap().is_empty());
    s.set_tenant_schedule(t1, Some("0 3 * * *"), None)
        .await
        .unwrap();
    let st = s.scheduled_tenants().await.unwrap();
    assert_eq!(st.len(), 1);
    assert_eq!(
        (
            st[0].tenant_id,
            st[0].cron.as_str(),
            st[0].time_zone.as_str(),
            st[0].last_scheduled_for
        ),
        (t1, "0 3 * * *", "Asia/Tokyo", None)
    );
    let (s1, s2) = (ts_us(slot), ts_us(slot + SignedDuration::from_hours(24)));
    assert!(s.advance_schedule(t1, None, s1).await.unwrap());
    assert!(
        !s.advance_schedule(t1, None, s2).await.unwrap(),
        "moved already"
    );
    assert!(s.advance_schedule(t1, Some(s1), s2).await.unwrap());
    assert!(!s.advance_schedule(t1, Some(s1), s2).await.unwrap());
    assert_eq!(
        s.scheduled_tenants().await.unwrap()[0].last_scheduled_for,
        Some(s2)
    );
    assert!(!s.advance_schedule(9999, None, s1).await.unwrap());
}

both_backends!(
    transient_failures_go_back_to_the_queue_without_their_snapshot,
    retry_body
);
async fn retry_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let t = tenant_of(s, &key, c, "t").await;
    let lease = Duration::from_secs(60);
    let job = s.enqueue_scan(t, None).await.unwrap().unwrap();
    let doc = serde_json::json!({"tenant": "t", "sections": {}});

    let mut scans = Vec::new();
    for attempt in 1..=3 {
        let claimed = s.claim_job("w1", lease).await.unwrap().unwrap();
        assert_eq!((claimed.id, claimed.attempts), (job.id, attempt));
        let scan = claimed.scan_id.unwrap();
        s.save_snapshot_json(scan, &doc).await.unwrap();
        assert_eq!(
            s.retry_job(job.id, "w2", "disk full", Duration::ZERO)
                .await
                .unwrap(),
            None,
            "only the lease holder"
        );
        let status = s
            .retry_job(job.id, "w1", "disk full", Duration::ZERO)
            .await
            .unwrap();
        let after = s.get_job(Scope::All, job.id).await.unwrap().unwrap();
        let failed_scan = s.get_scan(scan).await.unwrap().unwrap();
        assert_eq!(
            (failed_scan.status, failed_scan.error.as_deref()),
            (ScanStatus::Failed, Some("disk full"))
        );
        assert!(
            s.list_snapshots(t).await.unwrap().is_empty(),
            "a failed scan keeps no snapshot"
        );
        if attempt < 3 {
            assert_eq!(status, Some(JobStatus::Queued));
            assert_eq!(
                (
                    after.status,
                    after.scan_id,
                    after.lease_owner,
                    after.error.as_deref()
                ),
                (JobStatus::Queued, None, None, Some("disk full"))
            );
            assert!(after.finished_at.is_none());
        } else {
            assert_eq!(status, Some(JobStatus::Failed), "attempts used up");
            assert_eq!(
                (after.status, after.scan_id),
                (JobStatus::Failed, Some(scan))
            );
            assert!(after.finished_at.is_some());
        }
        assert_eq!(
            s.retry_job(job.id, "w1", "again", Duration::ZERO)
                .await
                .unwrap(),
            None,
            "once per attempt"
        );
        scans.push(scan);
    }
    assert_eq!(
        scans.iter().collect::<HashSet<_>>().len(),
        3,
        "a scan per attempt"
    );
    assert_eq!(s.claim_job("w1", lease).await.unwrap(), None);

    // A delay holds the job back.
    let later = s.enqueue_scan(t, None).await.unwrap().unwrap();
    s.claim_job("w1", lease).await.unwrap().unwrap();
    s.retry_job(later.id, "w1", "busy", Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(s.claim_job("w1", lease).await.unwrap(), None, "not due yet");

    // A permanent failure drops the snapshot too.
    let third = s.enqueue_scan(t, None).await.unwrap().unwrap();
    let claimed = s.claim_job("w1", lease).await.unwrap().unwrap();
    assert_eq!(claimed.id, third.id);
    s.save_snapshot_json(claimed.scan_id.unwrap(), &doc)
        .await
        .unwrap();
    assert!(s
        .finish_job(third.id, "w1", Err("token revoked".into()))
        .await
        .unwrap());
    assert!(s.list_snapshots(t).await.unwrap().is_empty());

    // Which errors are worth a retry.
    assert!(!Error::Conflict("x".into()).is_transient());
    assert!(!Error::Database(sqlx_missing_row()).is_transient());
}

fn sqlx_missing_row() -> sqlx::Error {
    sqlx::Error::RowNotFound
}

/// A timestamp as stored (microseconds).
fn ts_us(t: Timestamp) -> Timestamp {
    Timestamp::from_microsecond(t.as_microsecond()).unwrap()
}

both_backends!(
    concurrent_claimers_never_share_jobs_or_tenants,
    claimers_body
);
async fn claimers_body(ctx: Ctx) {
    let s = &ctx.store;
    let second = Store::open(&ctx.url).await.unwrap();
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let mut tenants = vec![];
    for i in 0..6 {
        let t = tenant_of(s, &key, c, &format!("t{i}")).await;
        // Three due jobs per tenant.
        for _ in 0..3 {
            s.enqueue_scan(t, None).await.unwrap().unwrap();
        }
        tenants.push(t);
    }
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 {
                s.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                let mut got = vec![];
                while let Some(job) = store
                    .claim_job(&format!("worker-{i}"), Duration::from_secs(60))
                    .await
                    .unwrap()
                {
                    got.push(job);
                }
                got
            })
        })
        .collect();
    let mut claimed = vec![];
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    // Nobody finished, so each tenant got exactly one job, and no job went twice.
    let ids: HashSet<i64> = claimed.iter().map(|j| j.id).collect();
    assert_eq!(ids.len(), claimed.len(), "a job claimed twice");
    let per_tenant: BTreeSet<i64> = claimed.iter().map(|j| j.tenant_id).collect();
    assert_eq!(claimed.len(), tenants.len(), "{claimed:#?}");
    assert_eq!(per_tenant, tenants.iter().copied().collect());
    let scans: HashSet<i64> = claimed.iter().map(|j| j.scan_id.unwrap()).collect();
    assert_eq!(scans.len(), claimed.len());
    let running = s
        .list_jobs(Scope::All, Some(JobStatus::Running), 100)
        .await
        .unwrap();
    assert_eq!(running.len(), tenants.len());

    // Finish them all concurrently and claim again: the next round is again one per tenant.
    for j in &claimed {
        assert!(s
            .finish_job(j.id, j.lease_owner.as_deref().unwrap(), Ok(()))
            .await
            .unwrap());
    }
    let (a, b) = (s.clone(), second.clone());
    let h1 = tokio::spawn(async move {
        let mut n = vec![];
        while let Some(j) = a.claim_job("x", Duration::from_secs(60)).await.unwrap() {
            n.push(j.tenant_id);
        }
        n
    });
    let h2 = tokio::spawn(async move {
        let mut n = vec![];
        while let Some(j) = b.claim_job("y", Duration::from_secs(60)).await.unwrap() {
            n.push(j.tenant_id);
        }
        n
    });
    let mut round2 = h1.await.unwrap();
    round2.extend(h2.await.unwrap());
    round2.sort();
    assert_eq!(round2, tenants);
    second.close().await;
}

// ---------------------------------------------------------------------------------------------

both_backends!(notification_channels_and_outbox, outbox_body);
async fn outbox_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let c = customer(s, "C").await;
    let secret_cfg = br#"{"url":"https://hooks.example.jp/T000/SECRET-WEBHOOK-PATH"}"#;
    let ch = s
        .create_channel(
            &key,
            Some(c),
            "team hook",
            "webhook",
            Severity::High,
            secret_cfg,
        )
        .await
        .unwrap();
    assert_eq!(
        (
            ch.customer_id,
            ch.kind.as_str(),
            ch.min_severity.as_str(),
            ch.enabled
        ),
        (Some(c), "webhook", "high", true)
    );
    let op = s
        .create_channel(&key, None, "soc", "teams", Severity::Critical, b"{}")
        .await
        .unwrap();
    invalid(
        s.create_channel(&key, None, "x", "pager", Severity::High, b"{}")
            .await,
    );
    // A severity is typed; its text is parsed into the store's one Invalid error.
    invalid("urgent".parse::<Severity>().map_err(Error::from));
    invalid(
        s.create_channel(&key, None, "x", "email", Severity::High, b"not json")
            .await,
    );
    invalid(
        s.create_channel(&key, None, " ", "email", Severity::High, b"{}")
            .await,
    );
    not_found(
        s.create_channel(&key, Some(9999), "x", "email", Severity::High, b"{}")
            .await,
    );

    // Encrypted at rest; a wrong key or a swapped ciphertext does not decrypt.
    let raw = raw_hex(
        &ctx.url,
        &format!(
            "SELECT config_ciphertext FROM notification_channels WHERE id = {}",
            ch.id
        ),
    )
    .await;
    let needle: String = b"SECRET-WEBHOOK-PATH"
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!raw.contains(&needle), "plaintext in the database");
    assert_eq!(s.channel_config(&key, ch.id).await.unwrap(), secret_cfg);
    assert!(matches!(
        s.channel_config(&MasterKey::generate(), ch.id).await,
        Err(Error::MasterKey(_))
    ));
    not_found(s.channel_config(&key, 9999).await);
    let t = tenant_of(s, &key, c, "t").await;
    common::raw_execute(
        &ctx.url,
        &format!(
            "UPDATE notification_channels SET config_ciphertext = (SELECT credentials_ciphertext FROM tenants WHERE id = {t}) WHERE id = {}",
            op.id
        ),
    )
    .await;
    let err = s.channel_config(&key, op.id).await.unwrap_err().to_string();
    assert!(err.contains("could not be decrypted"), "{err}");
    common::raw_execute(
        &ctx.url,
        &format!(
            "UPDATE notification_channels SET config_ciphertext = (SELECT config_ciphertext FROM notification_channels WHERE id = {}) WHERE id = {}",
            ch.id, op.id
        ),
    )
    .await;
    assert!(
        s.channel_config(&key, op.id).await.is_err(),
        "bound to the channel id"
    );

    // Channels of a customer: its own and the operator-wide ones, enabled only.
    let ids =
        |v: Vec<mamori_store::NotificationChannel>| v.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(
        ids(s.channels_for_customer(c).await.unwrap()),
        [ch.id, op.id]
    );
    s.set_channel_enabled(Scope::All, op.id, false)
        .await
        .unwrap();
    assert_eq!(ids(s.channels_for_customer(c).await.unwrap()), [ch.id]);
    assert!(
        !s.get_channel(Scope::All, op.id)
            .await
            .unwrap()
            .unwrap()
            .enabled
    );

    // Outbox: claims are disjoint and leased; sent, retried, dead.
    let mut queued = vec![];
    for i in 0..5 {
        queued.push(
            s.enqueue_notification(ch.id, &serde_json::json!({"n": i}))
                .await
                .unwrap(),
        );
    }
    not_found(s.enqueue_notification(9999, &serde_json::json!({})).await);
    let lease = Duration::from_secs(60);
    let first = s.claim_notifications("w1", 2, lease).await.unwrap();
    assert_eq!(first.iter().map(|i| i.id).collect::<Vec<_>>(), queued[..2]);
    assert_eq!(first[0].payload, serde_json::json!({"n": 0}));
    assert!(first[0].next_attempt_at > Timestamp::now());
    let second = s.claim_notifications("w2", 10, lease).await.unwrap();
    assert_eq!(second.iter().map(|i| i.id).collect::<Vec<_>>(), queued[2..]);
    assert!(
        s.claim_notifications("w3", 10, lease)
            .await
            .unwrap()
            .is_empty(),
        "all leased"
    );

    s.mark_notification_sent(queued[0]).await.unwrap();
    s.mark_notification_failed(
        queued[1],
        "HTTP 503",
        Some(Timestamp::now() - SignedDuration::from_secs(1)),
    )
    .await
    .unwrap();
    s.mark_notification_failed(queued[2], "HTTP 410", None)
        .await
        .unwrap();
    not_found(s.mark_notification_sent(9999).await);
    not_found(s.mark_notification_failed(9999, "x", None).await);
    let retry = s.claim_notifications("w1", 10, lease).await.unwrap();
    assert_eq!(retry.len(), 1);
    assert_eq!(
        (
            retry[0].id,
            retry[0].attempts,
            retry[0].status.as_str(),
            retry[0].last_error.as_deref()
        ),
        (queued[1], 1, "pending", Some("HTTP 503"))
    );
    let all = s.list_outbox(Scope::All, 100).await.unwrap();
    let by_id: BTreeMap<i64, (String, i64)> = all
        .iter()
        .map(|i| (i.id, (i.status.clone(), i.attempts)))
        .collect();
    assert_eq!(by_id[&queued[0]], ("sent".to_string(), 1));
    assert_eq!(by_id[&queued[2]], ("dead".to_string(), 1));
    assert_eq!(all[0].id, queued[4], "newest first");

    // A lease that ran out makes the item claimable again.
    let short = s
        .enqueue_notification(ch.id, &serde_json::json!({"late": true}))
        .await
        .unwrap();
    let got = s
        .claim_notifications("w1", 10, Duration::from_millis(1))
        .await
        .unwrap();
    assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), [short]);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let again = s.claim_notifications("w2", 10, lease).await.unwrap();
    assert_eq!(again.iter().map(|i| i.id).collect::<Vec<_>>(), [short]);

    // Concurrent claimers on two handles get disjoint sets.
    let other = Store::open(&ctx.url).await.unwrap();
    let mut many = BTreeSet::new();
    for i in 0..30 {
        many.insert(
            s.enqueue_notification(ch.id, &serde_json::json!({"i": i}))
                .await
                .unwrap(),
        );
    }
    let tasks: Vec<_> = (0..4)
        .map(|i| {
            let store = if i % 2 == 0 { s.clone() } else { other.clone() };
            tokio::spawn(async move {
                let mut got = vec![];
                loop {
                    let batch = store
                        .claim_notifications(&format!("c{i}"), 3, Duration::from_secs(60))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        break got;
                    }
                    got.extend(batch.into_iter().map(|b| b.id));
                }
            })
        })
        .collect();
    let mut claimed = vec![];
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let unique: BTreeSet<i64> = claimed.iter().copied().collect();
    assert_eq!(unique.len(), claimed.len(), "claimed twice");
    assert_eq!(unique, many);
    other.close().await;

    // Deleting a channel deletes its outbox.
    s.delete_channel(Scope::Customer(c), ch.id).await.unwrap();
    assert!(s.list_outbox(Scope::All, 1000).await.unwrap().is_empty());
    not_found(s.delete_channel(Scope::All, ch.id).await);
}

async fn raw_hex(url: &str, sql: &str) -> String {
    use sqlx::Connection;
    let bytes: Vec<u8> = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    };
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

both_backends!(key_rotation_covers_channels, rotation_body);
async fn rotation_body(ctx: Ctx) {
    let s = &ctx.store;
    let (old, new) = (MasterKey::generate(), MasterKey::generate());
    let c = customer(s, "C").await;
    let t = tenant_of(s, &old, c, "t").await;
    let ch = s
        .create_channel(
            &old,
            Some(c),
            "hook",
            "slack",
            Severity::High,
            br#"{"url":"https://x"}"#,
        )
        .await
        .unwrap();
    assert_eq!(s.rotate_master_key(&old, &new).await.unwrap(), 2);
    assert_eq!(
        s.channel_config(&new, ch.id).await.unwrap(),
        br#"{"url":"https://x"}"#
    );
    assert!(s.channel_config(&old, ch.id).await.is_err());
    assert_eq!(
        s.tenant_credentials(&new, t).await.unwrap().as_bytes(),
        b"{}"
    );
    assert_eq!(s.rotate_master_key(&old, &new).await.unwrap(), 0);
}
