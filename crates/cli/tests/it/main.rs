//! Every integration test of this crate, in one binary: one link instead of 3, which
//! keeps a clean build (CI) short. Each module is one former test file.

mod browser;
mod cli;
mod detect;
mod ocsf;
mod reliability;
