//! The audit-log pull against the imitation log APIs over real HTTP: each source returns
//! exactly the generator's records for the window, paging is followed, a second pull from the
//! returned checkpoint returns nothing, interrupted pulls resume with every record exactly once,
//! 429 is retried, an old checkpoint is clamped and reported, a missing permission fails only
//! its source, and no secret is ever printed.

use crate::common;

use jiff::Timestamp;
use mamori_connect::logs::{
    pull_with, sink_fn, Batch, LogCheckpoint, LogSource, LogSourceExt, PullError, PullOptions,
    PullOutcome,
};
use mamori_connect::AppConfig;
use mamori_mock_saas::gws::{self, GwsMock, GwsTenantSpec};
use mamori_mock_saas::logs::{self as gen, record_id, record_time, Source, DAY, HOUR, MINUTE};
use mamori_mock_saas::m365::{self, audience, M365Mock, M365TenantSpec};
use mamori_mock_saas::Behaviour;
use serde_json::Value;
use std::collections::HashSet;

fn clock() -> Timestamp {
    "2026-11-26T03:00:00Z".parse().unwrap()
}

fn now_ms() -> i64 {
    clock().as_millisecond()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap()
}

fn m365_spec() -> M365TenantSpec {
    M365TenantSpec {
        log_clock: Some(clock()),
        ..M365TenantSpec::demo()
    }
}

fn gws_spec() -> GwsTenantSpec {
    GwsTenantSpec {
        log_clock: Some(clock()),
        ..GwsTenantSpec::demo()
    }
}

fn m365_config(mock: &M365Mock) -> AppConfig {
    AppConfig::M365(serde_json::from_value(mock.config(false)).unwrap())
}

fn gws_config(mock: &GwsMock) -> AppConfig {
    AppConfig::Gws(common::gws_config(mock))
}

fn options(page_size: usize) -> PullOptions {
    PullOptions {
        http: common::fast(),
        page_size,
        ..PullOptions::default()
    }
}

fn generated(source: LogSource) -> Source {
    match source {
        LogSource::M365 => Source::M365,
        LogSource::EntraSignin => Source::EntraSignin,
        LogSource::EntraAudit => Source::EntraAudit,
        LogSource::Gws => Source::Gws,
    }
}

fn id_of(source: LogSource, record: &Value) -> String {
    record_id(generated(source), record)
        .unwrap_or_else(|| panic!("a {source} record without an id: {record}"))
        .to_string()
}

/// When the imitation makes a unified audit log event's content blob available (15-minute
/// blobs, 20 minutes after their window; see mock-saas `logs::store`).
fn blob_created(t_ms: i64) -> i64 {
    (t_ms.div_euclid(15 * MINUTE) + 1) * 15 * MINUTE + 20 * MINUTE
}

/// The ids of the generator's records that a pull of `[from, until]` must return: for the
/// Management API those in blobs created in `[from, until)`, for the others those whose time
/// is in `[from, until]`.
fn expected_m365(mock: &M365Mock, source: LogSource, from: i64, until: i64) -> Vec<String> {
    let all = gen::generate(&mock.state.log_spec());
    let mut ids: Vec<String> = all
        .events
        .iter()
        .filter(|e| e.source == generated(source))
        .filter(|e| match source {
            LogSource::M365 => (from..until).contains(&blob_created(e.time_ms)),
            _ => {
                let t = record_time(e.source, &e.record).unwrap();
                t >= from && t <= until
            }
        })
        .map(|e| id_of(source, &e.record))
        .collect();
    ids.sort();
    ids
}

fn expected_gws(mock: &GwsMock, from: i64, until: i64) -> Vec<String> {
    let all = gen::generate(&mock.log_spec());
    let posture = mock
        .tenant
        .admin_activities
        .iter()
        .chain(&mock.tenant.token_activities);
    let mut ids: Vec<String> = all
        .events
        .iter()
        .filter(|e| e.source == Source::Gws)
        .map(|e| &e.record)
        .chain(posture)
        .filter(|r| {
            let t = record_time(Source::Gws, r).unwrap();
            t >= from && t <= until
        })
        .map(|r| id_of(LogSource::Gws, r))
        .collect();
    ids.sort();
    ids
}

struct Pulled {
    /// Every record id delivered, in delivery order, over all attempts.
    ids: Vec<String>,
    checkpoint: LogCheckpoint,
    outcome: PullOutcome,
    interruptions: usize,
}

impl Pulled {
    fn sorted(&self) -> Vec<String> {
        let mut ids = self.ids.clone();
        ids.sort();
        ids
    }
}

/// Pulls `source` to `until`; with `fail_every`, the sink refuses every n-th batch and the pull
/// is started again from the checkpoint of the last batch it stored (as a caller would after a
/// crash), until it completes.
async fn pull_through(
    config: &AppConfig,
    source: LogSource,
    checkpoint: LogCheckpoint,
    until: i64,
    options: &PullOptions,
    fail_every: Option<usize>,
) -> Pulled {
    let mut start = checkpoint;
    let mut ids = Vec::new();
    let mut calls = 0usize;
    let mut interruptions = 0;
    loop {
        let mut committed = start.clone();
        let mut got = Vec::new();
        let result = {
            let mut sink = sink_fn(|batch: Batch| {
                assert_eq!(batch.source, source);
                assert!(!batch.records.is_empty());
                calls += 1;
                if fail_every.is_some_and(|n| calls.is_multiple_of(n)) {
                    return Err("the store is full".into());
                }
                got.extend(batch.records.iter().map(|r| id_of(source, r)));
                committed = batch.checkpoint;
                Ok(())
            });
            pull_with(config, source, &start, at(until), options, &mut sink).await
        };
        ids.extend(got);
        match result {
            Ok((checkpoint, outcome)) => {
                return Pulled {
                    ids,
                    checkpoint,
                    outcome,
                    interruptions,
                }
            }
            Err(PullError::Sink { .. }) => {
                interruptions += 1;
                assert!(interruptions < 10_000, "no progress");
                // What the caller stored with its last batch, through its own serialisation.
                let text = serde_json::to_string(&committed).unwrap();
                start = serde_json::from_str(&text).unwrap();
            }
            Err(e) => panic!("{source}: {e}"),
        }
    }
}

fn assert_exactly(source: LogSource, pulled: &Pulled, expected: &[String]) {
    let got = pulled.sorted();
    let distinct: HashSet<&String> = got.iter().collect();
    assert_eq!(
        distinct.len(),
        got.len(),
        "{source}: a record was delivered twice"
    );
    assert!(!expected.is_empty(), "{source}: the window has records");
    assert_eq!(got.len(), expected.len(), "{source}: record count");
    assert_eq!(got, expected, "{source}: record ids");
    assert!(
        pulled.outcome.is_complete(),
        "{source}: {:?}",
        pulled.outcome
    );
}

async fn nothing_new(config: &AppConfig, source: LogSource, checkpoint: &LogCheckpoint) {
    let again = pull_through(
        config,
        source,
        checkpoint.clone(),
        now_ms(),
        &options(1000),
        None,
    )
    .await;
    assert!(again.ids.is_empty(), "{source}: {} again", again.ids.len());
    assert_eq!(again.outcome.batches, 0);
    assert!(again.outcome.is_complete(), "{:?}", again.outcome);
    assert_eq!(
        &again.checkpoint, checkpoint,
        "{source}: the checkpoint stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m365_week_from_an_old_checkpoint_is_clamped_complete_and_not_repeated() {
    let mock = m365::start(&m365_spec(), Behaviour::default())
        .await
        .unwrap();
    let config = m365_config(&mock);
    let source = LogSource::M365;
    // Eight days back: a day more than the API lists.
    let checkpoint = LogCheckpoint::new("sakura-m365", source, at(now_ms() - 8 * DAY));
    let pulled = pull_through(&config, source, checkpoint, now_ms(), &options(1000), None).await;
    let oldest = now_ms() - 7 * DAY + 10 * MINUTE;
    assert_eq!(pulled.outcome.gaps.len(), 4, "{:?}", pulled.outcome.gaps);
    for gap in &pulled.outcome.gaps {
        assert_eq!(gap.from, at(now_ms() - 8 * DAY));
        assert_eq!(gap.to, at(oldest));
        assert!(gap.reason.contains("7 days"), "{}", gap.reason);
    }
    let expected = expected_m365(&mock, source, oldest, now_ms());
    let got = pulled.sorted();
    assert_eq!(
        got, expected,
        "every record of the blobs created since the clamp"
    );
    assert!(pulled.outcome.streams.values().all(|s| s.error.is_none()));
    assert!(pulled.outcome.batches > 100, "one batch per blob");
    // Every content type was subscribed.
    {
        let subs = mock.state.subscriptions.lock().unwrap();
        assert_eq!(subs.len(), 4);
        assert!(subs.values().all(|s| s.enabled));
    }
    // The lookback: the cursor is an hour before the end, with the blobs of that hour seen.
    for ct in source.streams() {
        let c = pulled.checkpoint.cursor(ct);
        assert_eq!(c.time, at(now_ms() - HOUR));
        assert!(!c.seen.is_empty(), "{ct}");
    }
    // Again: subscriptions already enabled (AF20024), the last hour listed again, nothing new.
    let again = pull_through(
        &config,
        source,
        pulled.checkpoint.clone(),
        now_ms(),
        &options(1000),
        None,
    )
    .await;
    assert!(again.ids.is_empty());
    assert!(again.outcome.is_complete(), "{:?}", again.outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m365_interrupted_pull_resumes_with_every_record_once() {
    let mock = m365::start(&m365_spec(), Behaviour::default())
        .await
        .unwrap();
    let config = m365_config(&mock);
    let source = LogSource::M365;
    let from = now_ms() - 30 * HOUR;
    let checkpoint = LogCheckpoint::new("sakura-m365", source, at(from));
    let pulled = pull_through(
        &config,
        source,
        checkpoint,
        now_ms(),
        &options(1000),
        Some(3),
    )
    .await;
    assert!(pulled.interruptions >= 10, "{}", pulled.interruptions);
    assert_exactly(
        source,
        &pulled,
        &expected_m365(&mock, source, from, now_ms()),
    );
    // Two windows (30 hours > 24): the second one starts where the first ended.
    nothing_new(&config, source, &pulled.checkpoint).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_pulls_page_complete_and_resume_exactly_once() {
    let mock = m365::start(&m365_spec(), Behaviour::default())
        .await
        .unwrap();
    let config = m365_config(&mock);
    for source in [LogSource::EntraSignin, LogSource::EntraAudit] {
        // The whole week, pages of 500.
        let from = now_ms() - 7 * DAY;
        let checkpoint = LogCheckpoint::new("sakura-m365", source, at(from));
        let pulled = pull_through(&config, source, checkpoint, now_ms(), &options(500), None).await;
        let expected = expected_m365(&mock, source, from, now_ms());
        assert_exactly(source, &pulled, &expected);
        assert_eq!(
            pulled.outcome.batches as usize,
            expected.len().div_ceil(500),
            "{source}: one batch per page, every page followed"
        );
        nothing_new(&config, source, &pulled.checkpoint).await;

        // Two days in about 30 pages, the sink failing at every fourth batch.
        let from = now_ms() - 2 * DAY;
        let expected = expected_m365(&mock, source, from, now_ms());
        let page = (expected.len() / 30).max(1);
        let checkpoint = LogCheckpoint::new("sakura-m365", source, at(from));
        let pulled = pull_through(
            &config,
            source,
            checkpoint,
            now_ms(),
            &options(page),
            Some(4),
        )
        .await;
        assert!(
            pulled.interruptions >= (expected.len() / page / 4).min(5),
            "{source}: {} interruptions, {} records",
            pulled.interruptions,
            expected.len()
        );
        assert!(pulled.interruptions >= 1);
        assert_exactly(source, &pulled, &expected);
        nothing_new(&config, source, &pulled.checkpoint).await;

        // Pulled in steps (a scheduler's runs): the steps add up to the whole.
        let mut checkpoint = LogCheckpoint::new("sakura-m365", source, at(from));
        let mut ids = Vec::new();
        for step in [
            from + 5 * HOUR + 17_000,
            from + 5 * HOUR + 17_000,
            from + DAY,
            now_ms(),
        ] {
            let p = pull_through(&config, source, checkpoint, step, &options(200), None).await;
            ids.extend(p.ids);
            checkpoint = p.checkpoint;
        }
        ids.sort();
        assert_eq!(
            ids,
            expected_m365(&mock, source, from, now_ms()),
            "{source}: in steps"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gws_pull_reads_every_application_exactly_once() {
    let mock = gws::start(&gws_spec(), Behaviour::default()).await.unwrap();
    let config = gws_config(&mock);
    let source = LogSource::Gws;
    let from = now_ms() - 7 * DAY;
    let checkpoint = LogCheckpoint::new("sakura-gws", source, at(from));
    let pulled = pull_through(&config, source, checkpoint, now_ms(), &options(1000), None).await;
    assert_exactly(source, &pulled, &expected_gws(&mock, from, now_ms()));
    for app in source.streams() {
        assert!(pulled.outcome.streams[*app].records > 0, "{app}");
    }
    nothing_new(&config, source, &pulled.checkpoint).await;

    let from = now_ms() - 2 * DAY;
    let checkpoint = LogCheckpoint::new("sakura-gws", source, at(from));
    let pulled = pull_through(
        &config,
        source,
        checkpoint,
        now_ms(),
        &options(100),
        Some(2),
    )
    .await;
    assert!(pulled.interruptions >= 5, "{}", pulled.interruptions);
    assert_exactly(source, &pulled, &expected_gws(&mock, from, now_ms()));
    nothing_new(&config, source, &pulled.checkpoint).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_log_requests_are_retried() {
    let behaviour = Behaviour {
        throttle_every: 4,
        retry_after_secs: 1,
        ..Behaviour::default()
    };
    let mock = m365::start(&m365_spec(), behaviour.clone()).await.unwrap();
    let config = m365_config(&mock);
    for source in [LogSource::EntraSignin, LogSource::M365] {
        let from = now_ms() - 3 * HOUR;
        let checkpoint = LogCheckpoint::new("sakura-m365", source, at(from));
        let pulled = pull_through(&config, source, checkpoint, now_ms(), &options(40), None).await;
        assert_exactly(
            source,
            &pulled,
            &expected_m365(&mock, source, from, now_ms()),
        );
    }
    assert!(
        mock.server.counters.throttled() >= 2,
        "{}",
        mock.server.counters.throttled()
    );

    let mock = gws::start(&gws_spec(), behaviour).await.unwrap();
    let from = now_ms() - 6 * HOUR;
    let checkpoint = LogCheckpoint::new("sakura-gws", LogSource::Gws, at(from));
    let pulled = pull_through(
        &gws_config(&mock),
        LogSource::Gws,
        checkpoint,
        now_ms(),
        &options(50),
        None,
    )
    .await;
    assert_exactly(
        LogSource::Gws,
        &pulled,
        &expected_gws(&mock, from, now_ms()),
    );
    assert!(mock.server.counters.throttled() >= 1);
}

async fn pull_once(
    config: &AppConfig,
    source: LogSource,
    from: i64,
) -> (LogCheckpoint, PullOutcome, usize) {
    let checkpoint = LogCheckpoint::new("t", source, at(from));
    let mut n = 0;
    let mut sink = sink_fn(|b: Batch| {
        n += b.records.len();
        Ok(())
    });
    let (c, o) = pull_with(
        config,
        source,
        &checkpoint,
        clock(),
        &options(1000),
        &mut sink,
    )
    .await
    .unwrap_or_else(|e| panic!("{source}: {e}"));
    (c, o, n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_permission_fails_only_its_source() {
    let from = now_ms() - 2 * HOUR;
    // No AuditLog.Read.All: the Graph sources fail with Graph's reason, the unified audit log
    // is read.
    let mock = m365::start_with(&m365_spec(), Behaviour::default(), |app| {
        app.permissions
            .get_mut(audience::GRAPH)
            .unwrap()
            .remove("AuditLog.Read.All");
    })
    .await
    .unwrap();
    let config = m365_config(&mock);
    for source in [LogSource::EntraSignin, LogSource::EntraAudit] {
        let (checkpoint, outcome, n) = pull_once(&config, source, from).await;
        assert_eq!(n, 0);
        assert!(!outcome.is_complete());
        let errors: Vec<_> = outcome.errors().collect();
        assert_eq!(errors.len(), 1, "{source}");
        let failure = errors[0].1;
        assert_eq!(failure.http_status, Some(403));
        assert!(
            failure.message.contains("Authorization_RequestDenied"),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("AuditLog.Read.All"),
            "{}",
            failure.message
        );
        assert_eq!(failure.permission.as_deref(), Some(source.permission()));
        // Nothing read, nothing moved.
        assert_eq!(checkpoint.cursor(source.streams()[0]).time, at(from));
    }
    let (_, outcome, n) = pull_once(&config, LogSource::M365, from).await;
    assert!(outcome.is_complete(), "{outcome:?}");
    assert!(n > 0);

    // No ActivityFeed.Read: the Management API's AF10001 for every content type; Graph is read.
    let mock = m365::start_with(&m365_spec(), Behaviour::default(), |app| {
        app.permissions
            .insert(audience::MANAGEMENT.to_string(), HashSet::new());
    })
    .await
    .unwrap();
    let config = m365_config(&mock);
    let (_, outcome, n) = pull_once(&config, LogSource::M365, from).await;
    assert_eq!(n, 0);
    let errors: Vec<_> = outcome.errors().collect();
    assert_eq!(errors.len(), 4);
    for (_, f) in errors {
        assert_eq!(f.http_status, Some(403));
        assert!(
            f.message.contains("AF10001") && f.message.contains("ActivityFeed.Read"),
            "{}",
            f.message
        );
    }
    let (_, outcome, n) = pull_once(&config, LogSource::EntraAudit, now_ms() - DAY).await;
    assert!(outcome.is_complete(), "{outcome:?}");
    assert!(n > 0);

    // Google: the audit scope not delegated fails the source (every application), not the pull.
    let spec = GwsTenantSpec {
        delegated_scopes: Some(
            gws::SCOPES
                .iter()
                .filter(|s| !s.ends_with("admin.reports.audit.readonly"))
                .map(|s| s.to_string())
                .collect(),
        ),
        ..gws_spec()
    };
    let mock = gws::start(&spec, Behaviour::default()).await.unwrap();
    let (_, outcome, n) = pull_once(&gws_config(&mock), LogSource::Gws, from).await;
    assert_eq!(n, 0);
    let errors: Vec<_> = outcome.errors().collect();
    assert_eq!(errors.len(), 5);
    for (_, f) in errors {
        assert!(f.message.contains("unauthorized_client"), "{}", f.message);
        assert!(
            f.message.contains("admin.reports.audit.readonly"),
            "{}",
            f.message
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_clear_errors_and_no_secret_is_printed() {
    let logs = common::capture_logs();
    let mock = m365::start(&m365_spec(), Behaviour::default())
        .await
        .unwrap();
    let gmock = gws::start(&gws_spec(), Behaviour::default()).await.unwrap();
    let mut texts = Vec::new();
    let from = now_ms() - HOUR;

    // Right credentials: outcomes and checkpoints.
    for (config, source) in [
        (m365_config(&mock), LogSource::M365),
        (m365_config(&mock), LogSource::EntraSignin),
        (gws_config(&gmock), LogSource::Gws),
    ] {
        let (checkpoint, outcome, _) = pull_once(&config, source, from).await;
        texts.push(format!(
            "{outcome:?} {}",
            serde_json::to_string(&checkpoint).unwrap()
        ));
    }
    // A wrong client secret, for both Microsoft APIs.
    let mut wrong = m365_config(&mock);
    if let AppConfig::M365(c) = &mut wrong {
        c.client_secret = Some(mamori_connect::Secret::new("Wrong~Log~Secret~4321"));
    }
    for source in [LogSource::M365, LogSource::EntraAudit] {
        let checkpoint = LogCheckpoint::new("t", source, at(from));
        let mut sink = sink_fn(|_b: Batch| Ok(()));
        let e = pull_with(
            &wrong,
            source,
            &checkpoint,
            clock(),
            &options(1000),
            &mut sink,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, PullError::Auth(_)), "{e}");
        let text = e.to_string();
        assert!(text.contains("refused the credentials"), "{text}");
        texts.push(format!("{e} {e:?} {wrong:?}"));
    }
    // An unknown subject for Google.
    let mut stranger = gws_config(&gmock);
    if let AppConfig::Gws(c) = &mut stranger {
        c.subject = "nobody@sakura-trading.co.jp".into();
    }
    let checkpoint = LogCheckpoint::new("t", LogSource::Gws, at(from));
    let mut sink = sink_fn(|_b: Batch| Ok(()));
    let e = pull_with(
        &stranger,
        LogSource::Gws,
        &checkpoint,
        clock(),
        &options(1000),
        &mut sink,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, PullError::Auth(_)), "{e}");
    assert!(e.to_string().contains("invalid_grant"), "{e}");
    texts.push(format!("{e} {e:?}"));
    // A source read with the other application's configuration.
    let mut sink = sink_fn(|_b: Batch| Ok(()));
    let e = pull_with(
        &m365_config(&mock),
        LogSource::Gws,
        &checkpoint,
        clock(),
        &options(1000),
        &mut sink,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, PullError::WrongConfig { .. }), "{e}");

    let logs = logs.text();
    assert!(logs.contains("request"), "debug logging was captured");
    texts.push(logs);
    let all = texts.join("\n");
    let app = &mock.state.app;
    let mut secrets = vec![
        app.client_secret.clone(),
        "Wrong~Log~Secret~4321".to_string(),
    ];
    secrets.extend(
        gmock.key["private_key"]
            .as_str()
            .unwrap()
            .lines()
            .filter(|l| l.len() > 16 && !l.starts_with("-----"))
            .map(str::to_string),
    );
    for secret in &secrets {
        assert!(!all.contains(secret.as_str()), "a secret leaked: {secret}");
    }
    assert!(
        !all.contains("eyJ0eXAiOiJKV1Qi.mock."),
        "an access token leaked"
    );
    assert!(!all.contains("ya29."), "a Google access token leaked");
}
