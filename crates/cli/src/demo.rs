//! `mamori demo`: the whole product on one machine with nothing to set up. Imitation Microsoft
//! 365 and Google Workspace APIs start on loopback with the demo customer (株式会社さくら商事, a
//! fictional Japanese trading company); the real connectors collect both tenants over HTTP and
//! DNS; the packs evaluate the snapshots; the reports are written in Japanese and English.

use crate::collect::{
    collect_app, evaluate_collected, gws_mock_config, runtime, snapshot_bytes, AppConfig, Progress,
};
use crate::{load_engine, now_text, write_atomically, PackArgs};
use anyhow::{Context, Result};
use mamori_connect::HttpSettings;
use mamori_core::{Lang, Status};
use mamori_mock_saas::gws::GwsTenantSpec;
use mamori_mock_saas::m365::M365TenantSpec;
use mamori_mock_saas::Behaviour;
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn run(out_dir: &Path) -> Result<u8> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let engine = load_engine(&PackArgs { packs: Vec::new() })?;
    let rt = runtime()?;
    let visible = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let collected = rt.block_on(async {
        let m365 = mamori_mock_saas::m365::start(&M365TenantSpec::demo(), Behaviour::default())
            .await
            .context("starting the imitation Microsoft 365 APIs")?;
        let gws = mamori_mock_saas::gws::start(&GwsTenantSpec::demo(), Behaviour::default())
            .await
            .context("starting the imitation Google Workspace APIs")?;
        let m365_config: mamori_connect::m365::M365Config =
            serde_json::from_value(m365.config(true))
                .context("imitation Microsoft 365 configuration")?;
        let m365_config = AppConfig::M365(m365_config);
        let gws_config = AppConfig::Gws(gws_mock_config(&gws));
        let (a, b) = tokio::join!(
            collect_app(
                &m365_config,
                HttpSettings::default(),
                Progress::new("Microsoft 365", visible)
            ),
            collect_app(
                &gws_config,
                HttpSettings::default(),
                Progress::new("Google Workspace", visible)
            ),
        );
        let mut a = a?;
        // The demo customer's ScubaGear-style configuration: break-glass accounts exempted
        // from the conditional access policies, as an operator would pass with --config.
        a.collection.data.insert(
            "scuba_config".into(),
            m365.state.export["scuba_config"].clone(),
        );
        anyhow::Ok(vec![a, b?])
    })?;

    let mut written = Vec::new();
    let mut evaluations = Vec::new();
    let mut lines = Vec::new();
    for (collected, (suite, file)) in collected.into_iter().zip([
        ("Microsoft 365", "sakura-trading-m365.snapshot.json.gz"),
        ("Google Workspace", "sakura-trading-gws.snapshot.json.gz"),
    ]) {
        crate::collect::report_failures(&collected);
        lines.push(format!(
            "  {suite}: collected {} sections with {} requests in {:.2} s",
            collected.collection.outcomes.len(),
            collected.total_requests(),
            collected.elapsed.as_secs_f64()
        ));
        let snapshot = collected.into_snapshot();
        let path = out_dir.join(file);
        write_atomically(&path, &snapshot_bytes(&snapshot, &path)?)?;
        evaluations.push(evaluate_collected(
            &engine,
            &path.display().to_string(),
            &snapshot,
            &mamori_policy::EvalOptions::default(),
        )?);
        written.push(path);
    }

    let generated = now_text();
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
    writeln!(
        out,
        "Mamori demo — 株式会社さくら商事 (imitation APIs on loopback, real connectors)"
    )?;
    for line in &lines {
        writeln!(out, "{line}")?;
    }
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
        "Open {} in a browser (English: report-en.html). Done in {:.1} s.",
        out_dir.join("report-ja.html").display(),
        started.elapsed().as_secs_f64()
    )?;
    Ok(0)
}
