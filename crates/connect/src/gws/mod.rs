//! Google Workspace: a service account with domain-wide delegation reads the Admin SDK,
//! Cloud Identity, Groups Settings and Licensing APIs (and DNS) into the ScubaGoggles provider
//! schema that packs/gws reads.

pub mod client;
pub mod config;

pub use client::{collect, CollectError, SCOPES};
pub use config::{GwsConfig, GwsEndpoints};
