//! Mamori's posture engine.
//!
//! ```no_run
//! use mamori_policy::{Engine, EvalOptions};
//! let engine = Engine::with_builtin_packs().unwrap();
//! let input = regorus::Value::from_json_str(r#"{"conditional_access_policies": []}"#).unwrap();
//! let evaluation = engine.evaluate("export.json", mamori_core::snapshot::SourceKind::Scubagear, input, &EvalOptions::default());
//! println!("{} controls", evaluation.results.len());
//! ```

mod config;
pub mod conformance;
pub mod deps;
mod engine;
pub mod framework;
pub mod input;
pub mod pack;
pub mod testcase;

pub use config::{EvalConfig, Omission};
pub use engine::{builtin_packs, Engine, EvalOptions};
pub use framework::Framework;
pub use mamori_core::framework::{FrameworkView, RequirementResult};
pub use pack::{Control, Pack, PackFiles, Product};
pub use regorus::Value;

use std::path::PathBuf;
use thiserror::Error;

/// The packs compiled into the binary.
pub static BUILTIN_PACKS: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../packs");

#[derive(Debug, Error)]
pub enum PackError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("invalid pack: {file}{}{}: {message}",
        control.as_ref().map(|c| format!(": control {c}")).unwrap_or_default(),
        field.as_ref().map(|f| format!(": field {f}")).unwrap_or_default())]
    Invalid {
        file: String,
        control: Option<String>,
        field: Option<String>,
        message: String,
    },
    #[error("pack {pack}: Rego error: {message}")]
    Rego { pack: String, message: String },
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}
