//! Every integration test of this crate, in one binary: one link instead of one per file, which
//! keeps a clean build (CI) short. Each module is one former test file.

#[macro_use]
mod common;
mod alerts;
mod authz;
mod detection;
mod flow;
mod hardening;
mod logs;
