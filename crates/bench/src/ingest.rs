//! `mamori-bench --ingest`: the service's log path on one database — pushed batches spooled
//! (gzip + insert, as the API does after its checks) and consumed by log workers (normalise,
//! drop seen ids, detect, commit ids + alerts + state per batch) — with 1, 2, … workers sharing
//! the spool. The figure is the single-database ceiling of events ingested and evaluated.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use mamori_core::LogSource;
use mamori_mock_saas::logs::{self, LogSpec, Size};
use mamori_store::{MasterKey, NewCustomer, NewTenant, Store};
use mamori_work::logs::LogsConfig;
use mamori_work::{ConnectorCollector, WorkConfig, WorkState};

use crate::api::{BenchDb, ServerBenchArgs};

pub fn run(args: &ServerBenchArgs, events: usize) -> Result<u8> {
    let rt = crate::runtime()?;
    rt.block_on(async {
        let db =
            BenchDb::create(args.database_url.as_deref(), "ingest", args.keep_database).await?;
        let result = run_on(args, events, &db).await;
        db.cleanup().await;
        result
    })
}

/// Per source, NDJSON lines of a large tenant's generated week (every source, attacks placed).
fn corpus(events: usize) -> Result<BTreeMap<LogSource, Vec<String>>> {
    let start = "2026-11-30T00:00:00Z"
        .parse::<jiff::Timestamp>()?
        .as_millisecond();
    let spec = LogSpec::sized(20_261_207, Size::Large, start, start + 7 * 86_400_000);
    let mut by_source: BTreeMap<LogSource, Vec<String>> = BTreeMap::new();
    for e in logs::stream(&spec).take(events) {
        by_source
            .entry(crate::log_source(e.source))
            .or_default()
            .push(serde_json::to_string(&e.record)?);
    }
    Ok(by_source)
}

fn gzip(lines: &[String]) -> Result<(Vec<u8>, usize)> {
    let mut raw = 0;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for l in lines {
        enc.write_all(l.as_bytes())?;
        enc.write_all(b"\n")?;
        raw += l.len() + 1;
    }
    Ok((enc.finish()?, raw))
}

async fn run_on(args: &ServerBenchArgs, events: usize, db: &BenchDb) -> Result<u8> {
    let generated = Instant::now();
    let corpus = corpus(events)?;
    let total: usize = corpus.values().map(Vec::len).sum();
    let counts: BTreeMap<&str, usize> = corpus.iter().map(|(s, l)| (s.as_str(), l.len())).collect();
    println!(
        "ingest corpus: {total} events {counts:?}, generated in {:.1} s; {} tenants, batches of {} events, {}",
        generated.elapsed().as_secs_f64(),
        args.ingest_tenants,
        args.ingest_batch,
        db.backend_name()
    );
    let store = Store::open(&db.url).await.context("opening the database")?;
    let key = MasterKey::generate();
    let workers_list: Vec<usize> = args
        .ingest_workers
        .split(',')
        .filter_map(|w| w.trim().parse().ok())
        .filter(|w| *w > 0)
        .collect();
    for (round, workers) in workers_list.iter().copied().enumerate() {
        // Fresh tenants each round: nothing is a duplicate of an earlier round.
        let customer = store
            .create_customer(&NewCustomer::new(format!("Ingest round {round}")))
            .await?;
        let mut tenants = Vec::new();
        for t in 0..args.ingest_tenants.max(1) {
            let tenant = store
                .create_tenant(
                    &key,
                    &NewTenant::new(
                        customer.id,
                        mamori_core::App::M365,
                        format!("ingest-{round}-{t}"),
                        b"{}",
                    ),
                )
                .await?;
            tenants.push(tenant.id);
        }
        // Spool: each tenant gets its share of every source, in batches.
        let mut batches = Vec::new();
        for (source, lines) in &corpus {
            let share = lines.len().div_ceil(tenants.len());
            for (i, tenant) in tenants.iter().enumerate() {
                let mine = &lines[(i * share).min(lines.len())..((i + 1) * share).min(lines.len())];
                for chunk in mine.chunks(args.ingest_batch.max(1)) {
                    batches.push((*tenant, *source, chunk));
                }
            }
        }
        let spooling = Instant::now();
        let mut raw_bytes = 0usize;
        let mut stored_bytes = 0usize;
        for (tenant, source, chunk) in &batches {
            let (body, raw) = gzip(chunk)?;
            raw_bytes += raw;
            stored_bytes += body.len();
            store
                .spool_log_batch(*tenant, *source, &body, chunk.len() as i64, raw as i64)
                .await?;
        }
        let spool_s = spooling.elapsed().as_secs_f64();
        println!(
            "[{workers} worker(s)] spooled {total} events in {} batches: {spool_s:.2} s = {:.0} events/s ({:.0} MB NDJSON → {:.0} MB gzip stored)",
            batches.len(),
            total as f64 / spool_s,
            raw_bytes as f64 / 1e6,
            stored_bytes as f64 / 1e6
        );
        let state = WorkState::new(
            store.clone(),
            key.clone(),
            mamori_policy::Engine::new(),
            Arc::new(ConnectorCollector),
            WorkConfig {
                logs: LogsConfig {
                    workers: 0,
                    ..LogsConfig::default()
                },
                ..WorkConfig::default()
            },
        );
        state.detection.rules(&state.config.logs)?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let draining = Instant::now();
        let mut tasks = Vec::new();
        for n in 0..workers {
            tasks.push(tokio::spawn(mamori_work::logs::run_worker(
                state.clone(),
                format!("bench#{n}"),
                stop_rx.clone(),
            )));
        }
        loop {
            let (left, _) = store.spool_depth(None).await?;
            if left == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let drain_s = draining.elapsed().as_secs_f64();
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
        let mut processed = 0i64;
        let mut alerts = 0usize;
        for t in &tenants {
            for s in store
                .list_log_streams(mamori_store::Scope::All, Some(*t))
                .await?
            {
                processed += s.events;
            }
            let filter = mamori_store::AlertFilter {
                tenant_id: Some(*t),
                ..Default::default()
            };
            alerts += store
                .list_alerts(mamori_store::Scope::All, &filter, 1000, 0)
                .await?
                .len();
        }
        println!(
            "[{workers} worker(s)] evaluated and committed {processed} events in {drain_s:.2} s = {:.0} events/s end to end ({alerts} alerts); ingest + evaluation together {:.0} events/s",
            processed as f64 / drain_s,
            total as f64 / (spool_s + drain_s)
        );
    }
    Ok(0)
}
