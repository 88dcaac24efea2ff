//! Threat detection's store (schema 4): one batch per transaction (event ids, alerts, detector
//! state, checkpoint or spooled batch), alert triage with history, the spool's order per tenant
//! and source, log-pull jobs beside scans, metering and the flood guard. Both backends.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::Ctx;
use jiff::{SignedDuration, Timestamp};
use mamori_core::{Localized, LogSource, Severity};
use mamori_store::{
    event_id_hash, AlertFilter, AlertStatus, App, Error, GuardState, JobKind, LogCommit, MasterKey,
    NewAlert, NewCustomer, NewTenant, Scope, Store,
};

async fn tenant(s: &Store, key: &MasterKey, name: &str) -> (i64, i64) {
    let c = s.create_customer(&NewCustomer::new(name)).await.unwrap().id;
    let t = s
        .create_tenant(key, &NewTenant::new(c, App::M365, name, b"{}"))
        .await
        .unwrap()
        .id;
    (c, t)
}

fn alert(key: &str, count: i64, last_min: i64) -> NewAlert {
    let start = Timestamp::from_second(1_780_000_000).unwrap();
    NewAlert {
        alert_key: key.into(),
        rule_id: "mamori.entra_signin.password_spray".into(),
        source: LogSource::EntraSignin,
        kind: "correlation".into(),
        severity: Severity::High,
        title: Localized {
            en: "Password spray".into(),
            ja: "パスワードスプレー".into(),
        },
        response: Localized {
            en: "Block the source address.".into(),
            ja: "送信元アドレスを遮断する。".into(),
        },
        attack: vec!["T1110.003".into()],
        entities: BTreeMap::from([("ip".to_string(), "203.0.113.7".to_string())]),
        event_ids: (0..count).map(|i| format!("ev-{i}")).collect(),
        count,
        first_seen: start,
        last_seen: start + SignedDuration::from_mins(last_min),
    }
}

fn commit<'a>(
    tenant_id: i64,
    version: i64,
    seen: &'a [i64],
    alerts: &'a [NewAlert],
    checkpoint: Option<&'a serde_json::Value>,
) -> LogCommit<'a> {
    LogCommit {
        tenant_id,
        source: LogSource::EntraSignin,
        expected_version: version,
        checkpoint,
        state: b"state",
        seen,
        alerts,
        events: seen.len() as i64,
        duplicates: 0,
        quarantined: 0,
        last_event_at: None,
        metered_bytes: Some(1000),
        spool: None,
        quarantine: &[],
    }
}

both_backends!(
    a_batch_commits_alerts_ids_state_and_checkpoint_together,
    batch_body
);
async fn batch_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let (customer, t) = tenant(s, &key, "Sakura").await;
    let (other_customer, other) = tenant(s, &key, "Momiji").await;
    assert!(s
        .log_stream(t, LogSource::EntraSignin)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.log_stream_version(t, LogSource::EntraSignin)
            .await
            .unwrap(),
        None
    );

    let ids: Vec<i64> = ["a", "b", "c"].iter().map(|i| event_id_hash(i)).collect();
    let cp = serde_json::json!({"cursor": "page-2"});
    let first = [alert("k1", 5, 1)];
    let done = s
        .commit_log_batch(&commit(t, 0, &ids, &first, Some(&cp)))
        .await
        .unwrap();
    assert_eq!(done.created.len(), 1);
    assert!(done.updated.is_empty());
    let stream = s
        .log_stream(t, LogSource::EntraSignin)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.version, 1);
    assert_eq!(
        s.log_stream_version(t, LogSource::EntraSignin)
            .await
            .unwrap(),
        Some(1),
        "the version alone, as a warm worker reads it"
    );
    assert_eq!(stream.checkpoint, Some(cp.clone()));
    assert_eq!(stream.state.as_deref(), Some(&b"state"[..]));
    assert_eq!(stream.events, 3);

    // The ids are remembered, per tenant and source.
    let probe = [ids[0], event_id_hash("new")];
    let seen = s
        .seen_event_ids(t, LogSource::EntraSignin, &probe)
        .await
        .unwrap();
    assert!(seen.contains(&ids[0]) && !seen.contains(&probe[1]));
    assert!(s
        .seen_event_ids(other, LogSource::EntraSignin, &probe)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .seen_event_ids(t, LogSource::Gws, &probe)
        .await
        .unwrap()
        .is_empty());

    // A writer that read version 0 lost the race: nothing of its batch is written.
    let stale_ids = [event_id_hash("stale")];
    let stale_alerts = [alert("k-stale", 2, 1)];
    match s
        .commit_log_batch(&commit(t, 0, &stale_ids, &stale_alerts, None))
        .await
    {
        Err(Error::Conflict(m)) => assert!(m.contains("another worker"), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(s
        .seen_event_ids(t, LogSource::EntraSignin, &stale_ids)
        .await
        .unwrap()
        .is_empty());
    let all = s
        .list_alerts(Scope::All, &AlertFilter::default(), 100, 0)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        s.log_stream(t, LogSource::EntraSignin)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );

    // The same alert grown in a later batch is updated, not duplicated; no checkpoint keeps
    // the stored one.
    let grown = [alert("k1", 9, 30)];
    let done = s
        .commit_log_batch(&commit(t, 1, &[], &grown, None))
        .await
        .unwrap();
    assert!(done.created.is_empty());
    assert_eq!(done.updated.len(), 1);
    let a = s
        .get_alert(Scope::All, done.updated[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.count, 9);
    assert_eq!(a.status, AlertStatus::Open);
    assert_eq!(a.tenant_name, "Sakura");
    assert_eq!(a.entities["ip"], "203.0.113.7");
    assert_eq!(a.title.ja, "パスワードスプレー");
    assert_eq!(
        s.log_stream(t, LogSource::EntraSignin)
            .await
            .unwrap()
            .unwrap()
            .checkpoint,
        Some(cp)
    );

    // Metered: 3 events and 1,000 bytes, then 0 and 1,000 in the same minute (or the next).
    let meter = s
        .log_meter(
            Scope::All,
            Some(t),
            Timestamp::now() - SignedDuration::from_mins(5),
        )
        .await
        .unwrap();
    assert_eq!(meter.iter().map(|m| m.events).sum::<i64>(), 3);
    assert_eq!(meter.iter().map(|m| m.bytes).sum::<i64>(), 2000);

    // Active alerts per customer, for the overview: only the scope's.
    let by_customer = s.active_alert_counts_by_customer(Scope::All).await.unwrap();
    assert_eq!(
        by_customer.get(&customer),
        Some(&BTreeMap::from([(Severity::High, 1)]))
    );
    let momiji = s.get_tenant(other).await.unwrap().unwrap().customer_id;
    assert!(s
        .active_alert_counts_by_customer(Scope::Customer(momiji))
        .await
        .unwrap()
        .is_empty());

    // Triage with history; customers see only their own alerts.
    let id = a.id;
    let acked = s
        .set_alert_status(
            Scope::Customer(customer),
            id,
            AlertStatus::Acknowledged,
            None,
            "looking",
        )
        .await
        .unwrap();
    assert_eq!(acked.status, AlertStatus::Acknowledged);
    assert!(matches!(
        s.set_alert_status(Scope::All, id, AlertStatus::Acknowledged, None, "again")
            .await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.set_alert_status(
            Scope::Customer(other_customer),
            id,
            AlertStatus::Resolved,
            None,
            "x"
        )
        .await,
        Err(Error::NotFound { .. })
    ));
    assert!(s
        .get_alert(Scope::Customer(other_customer), id)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .alert_history(Scope::Customer(other_customer), id)
        .await
        .unwrap()
        .is_empty());
    s.set_alert_status(
        Scope::All,
        id,
        AlertStatus::FalsePositive,
        None,
        "test account",
    )
    .await
    .unwrap();
    let history = s.alert_history(Scope::All, id).await.unwrap();
    let steps: Vec<(Option<&str>, &str)> = history
        .iter()
        .map(|e| (e.from_status.as_deref(), e.to_status.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, "open"),
            (Some("open"), "acknowledged"),
            (Some("acknowledged"), "false_positive")
        ]
    );
    assert_eq!(history[2].note, "test account");

    // Listing filters.
    let active = AlertFilter {
        active: true,
        ..AlertFilter::default()
    };
    assert!(s
        .list_alerts(Scope::All, &active, 100, 0)
        .await
        .unwrap()
        .is_empty());
    let fp = AlertFilter {
        status: Some(AlertStatus::FalsePositive),
        tenant_id: Some(t),
        ..AlertFilter::default()
    };
    assert_eq!(
        s.list_alerts(Scope::All, &fp, 100, 0).await.unwrap().len(),
        1
    );
    let wrong_source = AlertFilter {
        source: Some(LogSource::Gws),
        ..AlertFilter::default()
    };
    assert!(s
        .list_alerts(Scope::All, &wrong_source, 100, 0)
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .list_alerts(
            Scope::Customer(other_customer),
            &AlertFilter::default(),
            100,
            0
        )
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .active_alert_counts(Scope::All, Some(t))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .active_alert_counts_by_customer(Scope::All)
        .await
        .unwrap()
        .is_empty());

    // Quarantined records are kept with their reason, cut to size, in the tenant's scope.
    let huge = "x".repeat(100_000);
    let quarantine = [
        ("not a JSON object".to_string(), "[1, 2]".to_string()),
        ("no `createdDateTime`".to_string(), huge),
    ];
    let mut q = commit(t, 2, &[], &[], None);
    q.quarantine = &quarantine;
    s.commit_log_batch(&q).await.unwrap();
    let kept = s
        .list_log_quarantine(Scope::Customer(customer), t, 10)
        .await
        .unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[1].raw, "[1, 2]");
    assert_eq!(kept[0].raw.len(), 64 * 1024);
    assert!(s
        .list_log_quarantine(Scope::Customer(other_customer), t, 10)
        .await
        .unwrap()
        .is_empty());

    // Old ids are pruned.
    assert_eq!(
        s.prune_log_seen(Timestamp::now() + SignedDuration::from_secs(1))
            .await
            .unwrap(),
        3
    );
}

both_backends!(
    spooled_batches_are_consumed_in_order_per_tenant_and_source,
    spool_body
);
async fn spool_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let (_, a) = tenant(s, &key, "A").await;
    let (_, b) = tenant(s, &key, "B").await;
    let lease = Duration::from_secs(60);
    let a1 = s
        .spool_log_batch(a, LogSource::EntraSignin, b"a1", 10, 100)
        .await
        .unwrap();
    let a2 = s
        .spool_log_batch(a, LogSource::EntraSignin, b"a2", 10, 100)
        .await
        .unwrap();
    let a_gws = s
        .spool_log_batch(a, LogSource::Gws, b"ag", 1, 10)
        .await
        .unwrap();
    let b1 = s
        .spool_log_batch(b, LogSource::EntraSignin, b"b1", 5, 50)
        .await
        .unwrap();
    assert_eq!(s.spool_depth(None).await.unwrap(), (4, 260));
    assert!(matches!(
        s.spool_log_batch(9999, LogSource::Gws, b"x", 1, 1).await,
        Err(Error::NotFound { .. })
    ));

    // w1 takes A's head; w2 cannot take A's second batch (its head is leased) and gets the
    // next queue's head instead.
    let first = s.claim_spooled("w1", lease, &[]).await.unwrap().unwrap();
    assert_eq!(
        (first.id, first.body.as_slice(), first.attempts),
        (a1, &b"a1"[..], 1)
    );
    let second = s.claim_spooled("w2", lease, &[]).await.unwrap().unwrap();
    assert_eq!(second.id, a_gws);
    let third = s.claim_spooled("w3", lease, &[]).await.unwrap().unwrap();
    assert_eq!(third.id, b1);
    assert!(s.claim_spooled("w4", lease, &[]).await.unwrap().is_none());

    // A worker whose lease was taken over cannot commit the batch.
    assert!(s
        .release_spooled(a1, "w1", "database restarting", Duration::ZERO)
        .await
        .unwrap());
    let again = s.claim_spooled("w5", lease, &[]).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (a1, 2));
    let mut c = commit(a, 0, &[], &[], None);
    c.spool = Some((a1, "w1"));
    assert!(matches!(
        s.commit_log_batch(&c).await,
        Err(Error::Conflict(_))
    ));
    c.spool = Some((a1, "w5"));
    s.commit_log_batch(&c).await.unwrap();
    // Now A's second batch is its head; a suspended tenant's batches wait.
    assert!(s.claim_spooled("w6", lease, &[a]).await.unwrap().is_none());
    let next = s.claim_spooled("w6", lease, &[]).await.unwrap().unwrap();
    assert_eq!(next.id, a2);
    let meter = s
        .log_meter(
            Scope::All,
            None,
            Timestamp::now() - SignedDuration::from_mins(5),
        )
        .await
        .unwrap();
    assert_eq!(
        meter
            .iter()
            .filter(|m| m.tenant_id == a)
            .map(|m| m.events)
            .sum::<i64>(),
        21
    );
}

both_backends!(log_pulls_are_jobs_beside_scans, pull_jobs_body);
async fn pull_jobs_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let (_, a) = tenant(s, &key, "A").await;
    let (_, b) = tenant(s, &key, "B").await;
    let lease = Duration::from_secs(60);
    let slot = Timestamp::now() - SignedDuration::from_mins(1);
    let pull = s.enqueue_log_pull(a, Some(slot)).await.unwrap().unwrap();
    assert_eq!(pull.kind, JobKind::Logs);
    // One pull per slot, but a scan of the same slot is another job.
    assert!(s.enqueue_log_pull(a, Some(slot)).await.unwrap().is_none());
    let scan = s.enqueue_scan(a, Some(slot)).await.unwrap().unwrap();
    assert_eq!(scan.kind, JobKind::Scan);
    s.enqueue_log_pull(b, None).await.unwrap().unwrap();

    // A scan worker never takes a pull, and a tenant's scan and pull run side by side.
    let claimed_scan = s.claim_job("scanner", lease).await.unwrap().unwrap();
    assert_eq!(claimed_scan.id, scan.id);
    assert!(s.claim_job("scanner", lease).await.unwrap().is_none());
    // A suspended tenant's pulls wait.
    let claimed = s
        .claim_log_pull("puller", lease, &[a])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.tenant_id, b);
    let claimed = s
        .claim_log_pull("puller", lease, &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.id, claimed.scan_id), (pull.id, None));
    s.enqueue_log_pull(a, None).await.unwrap().unwrap();
    assert!(
        s.claim_log_pull("puller2", lease, &[])
            .await
            .unwrap()
            .is_none(),
        "one pull per tenant at a time"
    );
    assert!(s.finish_job(claimed.id, "puller", Ok(())).await.unwrap());
    assert!(s
        .claim_log_pull("puller2", lease, &[])
        .await
        .unwrap()
        .is_some());
}

both_backends!(the_flood_guard_decision_is_kept_per_tenant, guard_body);
async fn guard_body(ctx: Ctx) {
    let s = &ctx.store;
    let key = MasterKey::generate();
    let (customer, t) = tenant(s, &key, "A").await;
    assert!(s.log_guard(t).await.unwrap().is_none());
    let now = Timestamp::now();
    let g = s
        .set_log_guard(
            t,
            GuardState::Throttled,
            "120,000 events/min for 5 min",
            Some(now + SignedDuration::from_mins(10)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(g.effective(now), GuardState::Throttled);
    assert_eq!(
        g.effective(now + SignedDuration::from_mins(11)),
        GuardState::Normal
    );
    let since = g.since;
    let g = s
        .set_log_guard(t, GuardState::Throttled, "still high", None, None)
        .await
        .unwrap();
    assert_eq!(g.since, since, "the state did not change");
    let g = s
        .set_log_guard(t, GuardState::Suspended, "sustained flood", None, None)
        .await
        .unwrap();
    assert_eq!(g.state, GuardState::Suspended);
    assert_eq!(
        s.log_guards(Scope::Customer(customer)).await.unwrap().len(),
        1
    );
    assert!(s
        .log_guards(Scope::Customer(customer + 1000))
        .await
        .unwrap()
        .is_empty());
    s.set_log_guard(t, GuardState::Normal, "resumed by operator", None, Some(1))
        .await
        .unwrap();
    assert!(s.log_guards(Scope::All).await.unwrap().is_empty());
    assert!(matches!(
        s.set_log_guard(9999, GuardState::Suspended, "x", None, None)
            .await,
        Err(Error::NotFound { .. })
    ));
}
