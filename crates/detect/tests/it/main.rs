//! One integration-test binary for the crate (each binary links the whole dependency tree).

mod rules;
mod state;
mod streams;
