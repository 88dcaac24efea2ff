//! Every integration test of this crate, in one binary: one link instead of 5, which
//! keeps a clean build (CI) short. Each module is one former test file.

#[macro_use]
mod common;
mod gws;
mod gws_secrets;
mod logs;
mod m365;
mod m365_admin;
mod m365_secrets;
