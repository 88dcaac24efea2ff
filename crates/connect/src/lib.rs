//! Read-only collectors: each turns one SaaS application's admin APIs into a Mamori snapshot
//! in the provider schema the packs read (ScubaGear for Microsoft 365, ScubaGoggles for Google
//! Workspace).
//!
//! [`logs`] pulls the tenants' audit logs for threat detection, with durable checkpoints.
//!
//! Shared plumbing lives at the top ([`http`], [`auth`], [`dns`], [`redact`], [`collection`]);
//! [`collect`] and [`AppConfig`] are the one entry for every application;
//! each application has its own folder with `config` (what the operator supplies) and one module
//! per API area, which make the calls and map the answers to the provider schema.

pub mod auth;
pub mod collection;
pub mod dns;
pub mod gws;
pub mod http;
pub mod logs;
pub mod m365;
pub mod redact;
mod registry;
pub mod stats;

pub use collection::{Collection, SectionError, SectionOutcome};
pub use http::{Api, ApiError, Call, HttpSettings};
pub use logs::{
    pull, pull_with, sink_fn, Batch, LogCheckpoint, LogSink, LogSource, PullError, PullOptions,
    PullOutcome,
};
pub use redact::Secret;
pub use registry::{collect, AppConfig, CollectError, ConfigError};
pub use stats::{Event, Observer, SectionStats, Stats};
