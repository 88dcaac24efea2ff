//! The scheduler: every tick it queues the scans whose cron slot has come (each slot at most
//! once, even with several server processes: the queue refuses a second job for the same
//! tenant and slot, and the slot pointer moves by compare-and-set), expires risk acceptances,
//! and hands jobs of dead workers (expired leases) back to the queue.

use std::collections::HashMap;

use jiff::Timestamp;
use tokio::sync::watch;

use crate::metrics::Metrics;
use crate::WorkState;
use mamori_cron::{parse_time_zone, Schedule};

/// What one tick did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    pub enqueued: usize,
    pub requeued: u64,
    pub expired_exceptions: usize,
}

pub async fn run(state: WorkState, mut stop: watch::Receiver<bool>) {
    let mut cache: HashMap<String, Option<Schedule>> = HashMap::new();
    let mut ticks: u64 = 0;
    loop {
        if *stop.borrow() {
            break;
        }
        match tick(&state, Timestamp::now(), &mut cache).await {
            Ok(t) if t != Tick::default() => tracing::info!(?t, "scheduler tick"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "scheduler tick failed; retrying next tick")
            }
        }
        match crate::logs::tick(&state, Timestamp::now()).await {
            Ok(g) if g != crate::logs::GuardTick::default() => tracing::warn!(?g, "flood guard"),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "log scheduling failed; retrying next tick")
            }
        }
        ticks += 1;
        if ticks.is_multiple_of(240) {
            if let Err(e) = crate::logs::prune(&state, Timestamp::now()).await {
                tracing::warn!(error = %format!("{e:#}"), "pruning processed event ids failed");
            }
            let _ = state.store.purge_expired_sessions().await;
            if let Err(e) = state.store.optimize().await {
                tracing::warn!(error = %format!("{e:#}"), "refreshing the planner's statistics failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(state.config.tick) => {}
            _ = stop.changed() => {}
        }
    }
}

/// One pass at time `now` (exposed for tests and the scheduling benchmark).
pub async fn tick(
    state: &WorkState,
    now: Timestamp,
    cache: &mut HashMap<String, Option<Schedule>>,
) -> anyhow::Result<Tick> {
    let mut done = Tick {
        requeued: state.store.requeue_expired().await?,
        ..Tick::default()
    };
    for tenant in state.store.scheduled_tenants().await? {
        let schedule = cache
            .entry(tenant.cron.clone())
            .or_insert_with(|| Schedule::parse(&tenant.cron).ok());
        let (Some(schedule), Ok(tz)) = (schedule.as_ref(), parse_time_zone(&tenant.time_zone))
        else {
            continue; // validated when set; an old bad value is shown on the tenant page
        };
        let from = tenant.last_scheduled_for.unwrap_or(tenant.created_at);
        let Some(mut slot) = schedule.next_after(from, &tz) else {
            continue;
        };
        if slot > now {
            continue;
        }
        // Missed slots (the service was down) collapse into one scan: the latest due slot.
        for _ in 0..100_000 {
            match schedule.next_after(slot, &tz) {
                Some(next) if next <= now => slot = next,
                _ => break,
            }
        }
        // Queue first, then move the pointer: a crash in between re-offers the same slot,
        // which the queue's (tenant, slot) uniqueness turns into a no-op.
        if state
            .store
            .enqueue_scan(tenant.tenant_id, Some(slot))
            .await?
            .is_some()
        {
            done.enqueued += 1;
            Metrics::inc(&state.metrics.jobs_enqueued);
        }
        state
            .store
            .advance_schedule(tenant.tenant_id, tenant.last_scheduled_for, slot)
            .await?;
    }
    let expired = state.store.expire_exceptions(now).await?;
    for e in &expired {
        Metrics::inc(&state.metrics.exceptions_expired);
        let _ = state
            .store
            .audit(
                None,
                Some(e.customer_id),
                "exception.expired",
                &format!("exception/{}", e.id),
                &format!(
                    "{} on tenant {} expired; its findings are open again",
                    e.control_id, e.tenant_id
                ),
            )
            .await;
    }
    done.expired_exceptions = expired.len();
    Ok(done)
}
