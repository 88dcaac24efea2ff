//! The log generator and the imitation log APIs over real HTTP.

mod endpoints;
mod generator;
