//! `mamori-bench --schedule`: a simulated day of cron schedules (5,000 tenants, daily, spread
//! over the day, Asia/Tokyo) driven through `mamori_work::scheduler::tick` by two schedulers
//! in lockstep, while two worker "processes" (each its own `WorkState` and connection pool)
//! claim and run the jobs with the real worker loop and an imitation collector. At the end it
//! checks, from the database and from the collector: every due slot became exactly one job and
//! one scan, no tenant ran twice at once; and prints the throughput.

use mamori_mock_saas::names::Rng;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use jiff::{SignedDuration, Timestamp};
use mamori_connect::collection::{Collected, Collection};
use mamori_core::snapshot::SourceKind;
use mamori_cron::{parse_time_zone, Schedule};
use mamori_store::{App, MasterKey, NewCustomer, NewTenant, ScanStatus, Store};
use mamori_work::{WorkConfig, WorkState};

use crate::api::{BenchDb, ServerBenchArgs};

const TIME_ZONE: &str = "Asia/Tokyo";

pub fn run(args: &ServerBenchArgs) -> Result<u8> {
    let engine = if args.evaluate {
        crate::load_engine()?
    } else {
        mamori_policy::Engine::new()
    };
    let rt = crate::runtime()?;
    rt.block_on(async {
        let db =
            BenchDb::create(args.database_url.as_deref(), "schedule", args.keep_database).await?;
        let result = run_on(args, engine, &db).await;
        db.cleanup().await;
        result
    })
}

/// Collections seen by the imitation collector: per tenant, how many ran and how many ran at
/// once at worst.
#[derive(Default)]
struct Tracker {
    running: HashMap<i64, u32>,
    runs: HashMap<i64, u32>,
    overlaps: u64,
}

struct ImitationCollector {
    tracker: Mutex<Tracker>,
    calls: AtomicU64,
    delay: Duration,
}

impl mamori_work::Collector for ImitationCollector {
    fn collect<'a>(
        &'a self,
        app: App,
        credentials: &'a [u8],
        _settings: mamori_connect::HttpSettings,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<Collected>> + Send + 'a>>
    {
        Box::pin(async move {
            let creds: serde_json::Value = serde_json::from_slice(credentials)?;
            let tenant = creds["bench_tenant"]
                .as_i64()
                .context("bench credentials")?;
            {
                let mut t = self.tracker.lock().unwrap();
                let running = t.running.entry(tenant).or_default();
                *running += 1;
                if *running > 1 {
                    t.overlaps += 1;
                }
                *t.runs.entry(tenant).or_default() += 1;
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            } else {
                tokio::task::yield_now().await;
            }
            *self
                .tracker
                .lock()
                .unwrap()
                .running
                .entry(tenant)
                .or_default() -= 1;
            let mut collection = Collection::default();
            let (schema, data) = match app {
                App::M365 => (
                    SourceKind::Scubagear,
                    serde_json::json!({"conditional_access_policies": [], "privileged_users": {}}),
                ),
                App::Gws => (
                    SourceKind::Scubagoggles,
                    serde_json::json!({"policies": {}}),
                ),
            };
            for (section, value) in data.as_object().cloned().unwrap_or_default() {
                collection.record(&section, "bench", Ok(value));
            }
            Ok(Collected {
                schema,
                tenant: format!("bench-tenant-{tenant}"),
                collection,
                stats: BTreeMap::new(),
                elapsed: Duration::ZERO,
                collected_at: mamori_connect::collection::now_rfc3339(),
            })
        })
    }
}

/// What one scheduler did over the run.
#[derive(Default, Debug)]
struct SchedulerLog {
    ticks: usize,
    enqueued: usize,
    errors: Vec<String>,
    tick_us: Vec<u64>,
    /// The slowest tick: (microseconds, jobs it queued, simulated time).
    slowest: Option<(u64, usize, Timestamp)>,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[(((p / 100.0) * (sorted.len() - 1) as f64).round() as usize).min(sorted.len() - 1)]
}

async fn run_on(args: &ServerBenchArgs, engine: mamori_policy::Engine, db: &BenchDb) -> Result<u8> {
    let step = args.step_secs.max(1);
    let steps = (args.hours * 3600).div_ceil(step);
    println!(
        "Scheduling benchmark on {}: {} tenants with daily schedules ({TIME_ZONE}), {} simulated hours in {}-second ticks ({} ticks) \
         by 2 schedulers in lockstep; 2 worker processes × {} workers; collection {} ms; evaluation: {}",
        db.backend_name(),
        args.tenants,
        args.hours,
        step,
        steps,
        args.workers,
        args.scan_ms,
        if args.evaluate { "built-in packs" } else { "none (empty engine)" }
    );
    let key = MasterKey::generate();
    let setup = Store::open(&db.url)
        .await
        .context("opening the benchmark database")?;

    // Tenants: 10 per customer, daily at a random minute (a tenth at midnight, "@daily").
    let t = Instant::now();
    let tz = parse_time_zone(TIME_ZONE)?;
    let mut rng = Rng::new(42);
    let mut tenants: Vec<(i64, String)> = Vec::with_capacity(args.tenants);
    let mut customer = 0;
    for i in 0..args.tenants {
        if i % 10 == 0 {
            customer = setup
                .create_customer(&NewCustomer::new(format!(
                    "Schedule Customer {:04}",
                    i / 10 + 1
                )))
                .await?
                .id;
        }
        let cron = if rng.below(10) == 0 {
            "@daily".to_string()
        } else {
            format!("{} {} * * *", rng.below(60), rng.below(24))
        };
        let app = if i % 2 == 0 { App::M365 } else { App::Gws };
        let mut new = NewTenant::new(customer, app, format!("sched-{i:05}"), b"{}");
        new.schedule_cron = Some(cron.clone());
        new.schedule_time_zone = Some(TIME_ZONE.into());
        let tenant = setup.create_tenant(&key, &new).await?;
        setup
            .set_tenant_credentials(
                &key,
                tenant.id,
                serde_json::json!({"bench_tenant": tenant.id})
                    .to_string()
                    .as_bytes(),
            )
            .await?;
        tenants.push((tenant.id, cron));
    }
    // The simulated day lies in the past, so jobs are due at once for the workers (who claim
    // by the real clock); each tenant's schedule starts at the day's beginning.
    let now = Timestamp::now();
    let start = Timestamp::from_second((now.as_second() - 26 * 3600) / 60 * 60)?;
    let end = start + SignedDuration::from_secs((steps * step) as i64);
    let mut expected: BTreeSet<(i64, Timestamp)> = BTreeSet::new();
    for (id, cron) in &tenants {
        if !setup.advance_schedule(*id, None, start).await? {
            bail!("tenant {id}: could not set the schedule's starting point");
        }
        let schedule = Schedule::parse(cron)?;
        let mut at = start;
        while let Some(next) = schedule.next_after(at, &tz) {
            if next > end {
                break;
            }
            expected.insert((*id, next));
            at = next;
        }
    }
    println!(
        "set up in {:.1} s: {} tenants, {} slots due in the simulated window {} .. {}",
        t.elapsed().as_secs_f64(),
        tenants.len(),
        expected.len(),
        start,
        end
    );

    // Two processes: each its own pool, state, scheduler and workers.
    let collector = Arc::new(ImitationCollector {
        tracker: Mutex::new(Tracker::default()),
        calls: AtomicU64::new(0),
        delay: Duration::from_millis(args.scan_ms),
    });
    let mut states = Vec::new();
    for name in ["proc-a", "proc-b"] {
        let store = Store::open(&db.url).await?;
        let config = WorkConfig {
            worker_id: name.into(),
            worker_concurrency: args.workers.max(1),
            lease: Duration::from_secs(60),
            ..WorkConfig::default()
        };
        states.push(WorkState::new(
            store,
            key.clone(),
            engine.clone(),
            collector.clone(),
            config,
        ));
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let mut workers = Vec::new();
    for state in &states {
        for n in 0..state.config.worker_concurrency {
            workers.push(tokio::spawn(mamori_work::scan::run_worker(
                state.clone(),
                format!("{}#{n}", state.config.worker_id),
                stop_rx.clone(),
            )));
        }
    }
    let barrier = Arc::new(tokio::sync::Barrier::new(states.len()));
    let mut schedulers = Vec::new();
    for state in &states {
        let (state, barrier) = (state.clone(), barrier.clone());
        schedulers.push(tokio::spawn(async move {
            let mut log = SchedulerLog::default();
            let mut cache = HashMap::new();
            for k in 1..=steps {
                barrier.wait().await;
                let at = start + SignedDuration::from_secs((k * step) as i64);
                let t = Instant::now();
                let queued = match mamori_work::scheduler::tick(&state, at, &mut cache).await {
                    Ok(done) => done.enqueued,
                    Err(e) => {
                        log.errors.push(format!("{e:#}"));
                        0
                    }
                };
                log.enqueued += queued;
                let us = t.elapsed().as_micros() as u64;
                log.tick_us.push(us);
                if log.slowest.is_none_or(|(s, _, _)| us > s) {
                    log.slowest = Some((us, queued, at));
                }
                log.ticks += 1;
            }
            log
        }));
    }
    let mut logs = Vec::new();
    for s in schedulers {
        logs.push(s.await?);
    }
    let scheduled_in = started.elapsed().as_secs_f64();
    // Let the workers drain the queue.
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let counts = setup.job_counts().await?;
        let pending: i64 = counts
            .iter()
            .filter(|(s, _)| s == "queued" || s == "running")
            .map(|(_, n)| n)
            .sum();
        if pending == 0 {
            break;
        }
        if Instant::now() > deadline {
            println!("{pending} jobs still queued or running after 15 minutes; giving up");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }

    // Checks.
    let jobs = setup.bench_jobs().await?;
    let scans = setup.bench_scans().await?;
    let mut per_slot: HashMap<(i64, Timestamp), usize> = HashMap::new();
    let mut manual = 0;
    for j in &jobs {
        match j.scheduled_for {
            Some(slot) => *per_slot.entry((j.tenant_id, slot)).or_default() += 1,
            None => manual += 1,
        }
    }
    let created: BTreeSet<(i64, Timestamp)> = per_slot.keys().copied().collect();
    let missed = expected.difference(&created).count();
    let unexpected = created.difference(&expected).count();
    let duplicated = per_slot.values().filter(|n| **n > 1).count();
    let succeeded_jobs = jobs.iter().filter(|j| j.status == "succeeded").count();
    let failed_jobs = jobs.iter().filter(|j| j.status == "failed").count();
    let retried = jobs.iter().filter(|j| j.attempts > 1).count();
    let succeeded_scans = scans
        .iter()
        .filter(|s| s.status == ScanStatus::Succeeded)
        .count();
    let failed_scans = scans
        .iter()
        .filter(|s| s.status == ScanStatus::Failed)
        .count();
    // Overlapping scans of one tenant, from the recorded start and finish times.
    let mut by_tenant: HashMap<i64, Vec<(Timestamp, Timestamp)>> = HashMap::new();
    for s in &scans {
        if let (Some(a), Some(b)) = (s.started_at, s.finished_at) {
            by_tenant.entry(s.tenant_id).or_default().push((a, b));
        }
    }
    let mut overlapping_scans = 0;
    for spans in by_tenant.values_mut() {
        spans.sort();
        overlapping_scans += spans.windows(2).filter(|w| w[1].0 < w[0].1).count();
    }
    let mut due_per_tenant: HashMap<i64, usize> = HashMap::new();
    for (t, _) in &expected {
        *due_per_tenant.entry(*t).or_default() += 1;
    }
    let (collections, collector_overlaps, tenants_run_twice) = {
        let t = collector.tracker.lock().unwrap();
        (
            collector.calls.load(Ordering::Relaxed),
            t.overlaps,
            t.runs
                .iter()
                .filter(|(id, n)| **n as usize > due_per_tenant.get(id).copied().unwrap_or(0))
                .count(),
        )
    };
    let mut by_process: BTreeMap<String, usize> = BTreeMap::new();
    for j in &jobs {
        let owner = j.lease_owner.as_deref().unwrap_or("-");
        *by_process
            .entry(owner.split('#').next().unwrap_or(owner).to_string())
            .or_default() += 1;
    }
    let enqueued: usize = logs.iter().map(|l| l.enqueued).sum();
    // How long jobs waited: queued (real time) to their scan finished; and the busiest slot.
    let scan_by_id: HashMap<i64, &mamori_store::Scan> = scans.iter().map(|s| (s.id, s)).collect();
    let finished = |j: &mamori_store::bench_seed::BenchJob| {
        j.scan_id
            .and_then(|id| scan_by_id.get(&id))
            .and_then(|s| s.finished_at)
    };
    let mut waits: Vec<u64> = jobs
        .iter()
        .filter_map(|j| {
            let f = finished(j)?;
            Some((f.as_microsecond() - j.created_at.as_microsecond()).max(0) as u64)
        })
        .collect();
    waits.sort_unstable();
    let mut slots: HashMap<Timestamp, Vec<&mamori_store::bench_seed::BenchJob>> = HashMap::new();
    for j in &jobs {
        if let Some(slot) = j.scheduled_for {
            slots.entry(slot).or_default().push(j);
        }
    }
    let busiest = slots
        .iter()
        .max_by_key(|(slot, v)| (v.len(), std::cmp::Reverse(**slot)));

    println!(
        "\nsimulated {} h in {scheduled_in:.1} s of scheduling ({:.0} simulated minutes/s); queue drained {:.1} s after the start",
        args.hours,
        (steps * step) as f64 / 60.0 / scheduled_in,
        wall
    );
    println!(
        "slots due {} · jobs created {} (enqueued by scheduler A {} + B {}) · scans run {} (succeeded {}, failed {})",
        expected.len(),
        jobs.len(),
        logs[0].enqueued,
        logs[1].enqueued,
        collections,
        succeeded_scans,
        failed_scans
    );
    println!(
        "missed {missed} · duplicated {duplicated} · unexpected {unexpected} · manual {manual} · jobs succeeded {succeeded_jobs}, failed {failed_jobs}, retried {retried}"
    );
    println!(
        "tenants scanned more often than due {tenants_run_twice} · overlapping scans of a tenant: {overlapping_scans} (database), {collector_overlaps} (collector)"
    );
    println!(
        "jobs by process: {}",
        by_process
            .iter()
            .map(|(p, n)| format!("{p} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "throughput: {:.0} jobs/s over the whole run ({} jobs in {wall:.1} s)",
        jobs.len() as f64 / wall,
        jobs.len()
    );
    println!(
        "queue latency (job queued → scan finished): p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        ms(pct(&waits, 50.0)),
        ms(pct(&waits, 99.0)),
        ms(waits.last().copied().unwrap_or(0))
    );
    if let Some((slot, group)) = busiest {
        let first = group.iter().map(|j| j.created_at).min();
        let last = group.iter().filter_map(|j| finished(j)).max();
        if let (Some(a), Some(b)) = (first, last) {
            let secs = (b.as_microsecond() - a.as_microsecond()) as f64 / 1e6;
            println!(
                "busiest slot {slot}: {} jobs due at once, all done {secs:.2} s after the first was queued ({:.0} jobs/s)",
                group.len(),
                group.len() as f64 / secs.max(1e-6)
            );
        }
    }
    for (name, log) in ["A", "B"].iter().zip(logs.iter_mut()) {
        log.tick_us.sort_unstable();
        println!(
            "scheduler {name}: {} ticks, tick p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms{}; {} failed ticks{}",
            log.ticks,
            ms(pct(&log.tick_us, 50.0)),
            ms(pct(&log.tick_us, 99.0)),
            ms(log.tick_us.last().copied().unwrap_or(0)),
            log.slowest
                .map(|(_, n, at)| format!(" (at {at}, queued {n} jobs)"))
                .unwrap_or_default(),
            log.errors.len(),
            log.errors
                .first()
                .map(|e| format!(" (first: {e})"))
                .unwrap_or_default()
        );
    }
    let ok = missed == 0
        && duplicated == 0
        && unexpected == 0
        && manual == 0
        && jobs.len() == expected.len()
        && enqueued == jobs.len()
        && succeeded_jobs == jobs.len()
        && collections as usize == jobs.len()
        && succeeded_scans == jobs.len()
        && tenants_run_twice == 0
        && overlapping_scans == 0
        && collector_overlaps == 0;
    println!(
        "\n{}",
        if ok {
            "OK: slots due = jobs created = scans run; none missed, none duplicated, no tenant ran twice at once"
        } else {
            "FAILED: see the counts above"
        }
    );
    if let Some(peak) = crate::peak_rss_mib() {
        println!("peak memory (VmHWM): {peak:.0} MiB");
    }
    for s in &states {
        s.store.close().await;
    }
    setup.close().await;
    Ok(if ok { 0 } else { 1 })
}
