//! `mamori demo`: evaluates the demo customer (株式会社さくら商事, a fictional Japanese trading
//! company) — a generated Microsoft 365 tenant (ScubaGear schema) and a hand-written Google
//! Workspace tenant (ScubaGoggles schema) — and writes the reports. Until live collection exists
//! the exports are made here.

use crate::synth::{m365_tenant, TenantSize};
use crate::{load_engine, now_text, write_atomically, PackArgs};
use anyhow::{Context, Result};
use mamori_core::snapshot::SourceKind;
use mamori_core::{Lang, Status};
use mamori_policy::EvalOptions;
use std::io::Write;
use std::path::Path;

pub const DEMO_SEED: u64 = 20_261_126;
pub const DEMO_TENANT: &str = "sakura-trading";

pub fn run(out_dir: &Path) -> Result<u8> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let export = m365_tenant(TenantSize::DEMO, DEMO_SEED, DEMO_TENANT);
    let export_path = out_dir.join("sakura-trading-ProviderSettingsExport.json.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    serde_json::to_writer(&mut gz, &export)?;
    write_atomically(&export_path, &gz.finish()?)?;

    let gws_path = out_dir.join("sakura-trading-gws-provider.json.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    serde_json::to_writer(&mut gz, &crate::synth::gws_demo())?;
    write_atomically(&gws_path, &gz.finish()?)?;

    let engine = load_engine(&PackArgs { packs: Vec::new() })?;
    let mut evaluations = Vec::new();
    for (path, kind) in [
        (&export_path, SourceKind::Scubagear),
        (&gws_path, SourceKind::Scubagoggles),
    ] {
        let input = crate::load_input(path, mamori_core::snapshot::DEFAULT_MAX_INPUT_BYTES)?;
        evaluations.push(engine.evaluate(
            &path.display().to_string(),
            kind,
            input,
            &EvalOptions::default(),
        ));
    }
    let generated = now_text();
    let mut written = vec![export_path.clone(), gws_path.clone()];
    for lang in [Lang::Ja, Lang::En] {
        let html = out_dir.join(format!("report-{}.html", lang.code()));
        write_atomically(
            &html,
            mamori_report::render_html(&evaluations, lang, &generated)?.as_bytes(),
        )?;
        let csv = out_dir.join(format!("action-plan-{}.csv", lang.code()));
        write_atomically(
            &csv,
            mamori_report::render_csv(&evaluations, lang)?.as_bytes(),
        )?;
        written.push(html);
        written.push(csv);
    }
    let json = out_dir.join("results.jsonl");
    write_atomically(
        &json,
        mamori_report::render_json_lines(&evaluations, Lang::En)?.as_bytes(),
    )?;
    written.push(json);

    let mut out = std::io::stdout().lock();
    writeln!(out, "Mamori demo — 株式会社さくら商事")?;
    for (e, suite) in evaluations
        .iter()
        .zip(["Microsoft 365", "Google Workspace"])
    {
        let summary: Vec<String> = Status::ALL
            .iter()
            .filter(|s| e.count(**s) > 0)
            .map(|s| format!("{} {}", s.label(Lang::En), e.count(*s)))
            .collect();
        writeln!(
            out,
            "  {suite} ({} controls): {}",
            e.results.len(),
            summary.join(" · ")
        )?;
    }
    writeln!(out, "Wrote:")?;
    for path in &written {
        writeln!(out, "  {}", path.display())?;
    }
    writeln!(
        out,
        "Open {} in a browser (English: report-en.html).",
        out_dir.join("report-ja.html").display()
    )?;
    Ok(0)
}
