//! Mamori server: REST API, dashboard, scheduler and workers.
pub mod cron;
