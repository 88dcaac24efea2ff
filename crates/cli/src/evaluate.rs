//! `mamori evaluate`: provider exports or Mamori snapshots from files, judged by the packs.

use crate::output::{resolve_lang, ReportArgs};
use crate::{text, PackArgs};
use anyhow::{bail, Result};
use clap::Args;
use mamori_core::snapshot::{Snapshot, SourceKind, DEFAULT_MAX_INPUT_BYTES};
use mamori_policy::{EvalConfig, EvalOptions};
use std::path::PathBuf;

#[derive(Args)]
pub struct EvaluateArgs {
    /// Schema of the input files.
    #[arg(long, value_name = "scubagear|scubagoggles|mamori")]
    from: SourceKind,
    /// Input files (JSON, plain or gzip).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    packs: PackArgs,
    /// ScubaGear-style YAML: OmitPolicy (rationale, expiry) and product exclusions (e.g. Aad).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Also report per requirement of a compliance framework (cis-m365-6, cis-gws-1.3,
    /// nist-800-53, iso27001; see `mamori packs list`).
    #[arg(long, value_name = "ID")]
    framework: Option<String>,
    /// Only evaluate these products (e.g. aad, exo); repeatable.
    #[arg(long = "product", value_name = "ID")]
    products: Vec<String>,
    /// Refuse inputs larger than this many bytes after decompression.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_INPUT_BYTES)]
    max_input_size: u64,
}

pub fn run(args: EvaluateArgs) -> Result<u8> {
    let lang = resolve_lang(args.report.lang);
    // A framework spans every pack's controls, so it needs them all loaded to be validated.
    let only = args.framework.is_none().then_some(args.from);
    let engine = crate::load_engine_for(&args.packs, only)?;
    if args.from != SourceKind::Mamori && !engine.packs().iter().any(|p| p.input == args.from) {
        bail!(text::format(
            lang,
            "no_pack_reads",
            &[("kind", &args.from.as_str())]
        ));
    }
    let mut options = EvalOptions::default();
    if let Some(path) = &args.config {
        options.config = EvalConfig::from_file(path)?;
    }
    options.products = args.products.clone();
    let framework = match &args.framework {
        Some(id) => Some(crate::packs::find_framework(&engine, id)?),
        None => None,
    };

    let mut evaluations = Vec::new();
    let mut tool_errors = 0usize;
    for file in &args.files {
        // The schema comes out with the evaluation: a Mamori snapshot names its own.
        let evaluation = Snapshot::read(file, args.from, args.max_input_size)
            .map_err(anyhow::Error::from)
            .and_then(|snapshot| {
                let unmarked = unmarked_products(&engine, &snapshot);
                let schema = snapshot.schema;
                let evaluation = engine.evaluate_snapshot_owned(snapshot, &options)?;
                Ok((schema, evaluation, unmarked))
            });
        if let Ok((_, evaluation, unmarked)) = &evaluation {
            if !unmarked.is_empty() && args.products.is_empty() {
                // Sections of a product without its command list: skipped, and said so (an
                // error when nothing else was evaluated, a warning beside the other products).
                let products: Vec<&str> = unmarked.iter().map(|(p, _)| p.as_str()).collect();
                let markers: Vec<&str> = unmarked.iter().map(|(_, m)| m.as_str()).collect();
                let level = if evaluation.results.is_empty() {
                    tool_errors += 1;
                    "error"
                } else {
                    "warning"
                };
                eprintln!(
                    "mamori: {}: {}",
                    text::get(lang, level),
                    text::format(
                        lang,
                        "no_marker",
                        &[
                            ("file", &file.display()),
                            ("products", &products.join(", ")),
                            ("markers", &markers.join(", ")),
                            ("first", &products[0]),
                        ]
                    )
                );
            }
        }
        match evaluation {
            Ok((_, evaluation, unmarked))
                if evaluation.results.is_empty()
                    && !unmarked.is_empty()
                    && args.products.is_empty() => {}
            Ok((schema, evaluation, _)) if evaluation.results.is_empty() => {
                tool_errors += 1;
                let kind = schema.as_str();
                eprintln!(
                    "mamori: {}: {}",
                    text::get(lang, "error"),
                    text::format(
                        lang,
                        "no_product",
                        &[("file", &file.display()), ("kind", &kind)]
                    )
                );
            }
            Ok((_, mut evaluation, _)) => {
                if let Some(f) = &framework {
                    let view = f.view(&evaluation);
                    evaluation.frameworks.push(view);
                }
                evaluations.push(evaluation);
            }
            Err(e) => {
                tool_errors += 1;
                eprintln!("mamori: {}: {e:#}", text::get(lang, "error"));
            }
        }
    }
    args.report.finish(&evaluations, tool_errors, false)
}

/// Products whose sections are in the export although it lacks their provider-command list
/// (`aad_successful_commands`, …) while listing other products' commands: an export trimmed by
/// hand. Each with the missing key.
fn unmarked_products(engine: &mamori_policy::Engine, snapshot: &Snapshot) -> Vec<(String, String)> {
    let has = |key: &str| snapshot.section_json(key).is_some();
    let mut out = Vec::new();
    for pack in engine.packs().iter().filter(|p| p.input == snapshot.schema) {
        for product in &pack.products {
            let Some(marker) = &product.commands_key else {
                continue;
            };
            let has_sections = product
                .controls
                .iter()
                .flat_map(|c| &c.sections)
                .any(|s| has(s));
            if has_sections && !has(marker) {
                out.push((product.id.clone(), marker.clone()));
            }
        }
    }
    out
}
