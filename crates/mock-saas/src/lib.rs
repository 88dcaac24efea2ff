//! Imitation SaaS admin APIs on loopback, for the connector tests, the collection benchmark and
//! `mamori demo`. They speak the documented protocols — token endpoints that check credentials,
//! paging, permission errors, injected latency, throttling (429 + `Retry-After`) and faults —
//! and serve a tenant generated from a seed.
//!
//! Not for production: nothing here is hardened, persistent or complete beyond what the
//! connectors read.

// Handlers return early with a ready `Response` as their error (`Result<_, Response>`), the
// axum idiom for an imitation server that mostly answers with errors; boxing it would only add
// noise to every handler.
#![allow(clippy::result_large_err)]

pub mod common;
pub mod dns;
pub mod gws;
pub mod keys;
pub mod logs;
pub mod m365;
pub mod names;
pub mod synth;

pub use common::{Behaviour, Counters, ErrorStyle, Fault, RunningServer};
