//! `mamori collect` and `mamori scan`: live, read-only collection from a tenant's admin APIs,
//! written as a Mamori snapshot, and (scan) evaluated and reported at once.

use crate::output::{self, resolve_lang, ReportArgs, EXIT_FINDINGS};
use crate::{load_engine, text, PackArgs};
use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mamori_connect::collection::Collected;
use mamori_connect::gws::GwsConfig;
use mamori_connect::{AppConfig, Event, HttpSettings, Observer};
use mamori_core::{App, Lang};
use mamori_policy::EvalOptions;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn app_parser() -> impl clap::builder::TypedValueParser<Value = App> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(App::ALL.iter().map(|a| a.as_str()))
        .map(|s| s.parse::<App>().expect("one of the possible values"))
}

#[derive(Args)]
pub struct CollectArgs {
    /// The application to collect: m365 (Microsoft 365) or gws (Google Workspace).
    #[arg(value_parser = app_parser())]
    pub app: App,
    /// Credentials and endpoints (YAML or JSON; see docs/connect-m365.md, docs/connect-gws.md).
    /// Without it, the MAMORI_M365_* or MAMORI_GWS_* environment variables. Never on the
    /// command line: argv is visible to every user of the machine.
    #[arg(long, value_name = "FILE")]
    pub credentials: Option<PathBuf>,
    /// Requests in flight at once against the tenant.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
    /// Seconds before one request is abandoned (and retried).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    /// Tries per request, the first included, before a section is given up (a refused
    /// connection, a timeout, a 5xx or a 429 is retried, with backoff from 0.25 s up to 30 s).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub attempts: u32,
    /// No progress display and no summary.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct CollectCommand {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Snapshot file (gzip when it ends in .gz) [default: <tenant>-<app>-<time>.json.gz].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct ScanCommand {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Also keep the snapshot here.
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub packs: PackArgs,
    /// ScubaGear-style YAML, as for `evaluate`: OmitPolicy (rationale, expiry) and product
    /// sections such as break-glass exclusions (`Aad: {MS.AAD.1.1v1: {CapExclusions: …}}`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Progress of one collection on stderr (hidden when quiet or not a terminal).
pub struct Progress {
    bar: ProgressBar,
    requests: AtomicU64,
    sections: AtomicU64,
    failed: AtomicU64,
    throttled_ms: AtomicU64,
}

impl Progress {
    pub fn new(label: &str, visible: bool) -> Arc<Self> {
        let bar = ProgressBar::with_draw_target(
            None,
            if visible {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Arc::new(Progress {
            bar,
            requests: AtomicU64::new(0),
            sections: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            throttled_ms: AtomicU64::new(0),
        })
    }

    fn redraw(&self) {
        let waits = self.throttled_ms.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        self.bar.set_message(format!(
            "{} sections{}, {} requests{}",
            self.sections.load(Ordering::Relaxed),
            if failed > 0 {
                format!(" ({failed} failed)")
            } else {
                String::new()
            },
            self.requests.load(Ordering::Relaxed),
            if waits > 0 {
                format!(", throttled {:.1} s", waits as f64 / 1000.0)
            } else {
                String::new()
            },
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for Progress {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Request { .. } => {
                self.requests.fetch_add(1, Ordering::Relaxed);
            }
            Event::SectionFinished { ok, .. } => {
                self.sections.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            Event::Throttled { wait, .. } => {
                self.throttled_ms
                    .fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
            }
            _ => return,
        }
        self.redraw();
    }
}

/// The application's configuration from a credentials file (YAML or JSON), else from its
/// MAMORI_* environment variables.
pub fn app_config(app: App, path: Option<&Path>) -> Result<AppConfig> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading credentials {}", path.display()))?;
            AppConfig::from_document(app, &text).with_context(|| path.display().to_string())
        }
        None => AppConfig::from_env(app).context("no --credentials file"),
    }
}

/// Collects one tenant; Ctrl-C abandons it (and nothing is written).
pub async fn collect_app(
    config: &AppConfig,
    settings: HttpSettings,
    progress: Arc<Progress>,
) -> Result<Collected> {
    let observer: Arc<dyn Observer> = progress.clone();
    let work = mamori_connect::collect(config, settings, Some(observer));
    let result = tokio::select! {
        r = work => r.map_err(anyhow::Error::from),
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!(text::get(text::lang(), "interrupted"))),
    };
    progress.finish();
    result
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

fn settings(args: &CollectArgs) -> HttpSettings {
    HttpSettings {
        concurrency: args.concurrency.max(1),
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_attempts: args.attempts.max(1),
        ..HttpSettings::default()
    }
}

fn load_config(args: &CollectArgs) -> Result<AppConfig> {
    app_config(args.app, args.credentials.as_deref())
}

fn progress_visible(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// One line per failed section, for stderr.
pub fn report_failures(collected: &Collected, lang: Lang) {
    for (section, outcome) in collected.collection.failed() {
        let reason = outcome
            .reason
            .as_deref()
            .unwrap_or(text::get(lang, "unknown_reason"));
        eprintln!(
            "mamori: {}: {}",
            text::get(lang, "warning"),
            text::format(
                lang,
                "section_not_collected",
                &[("section", section), ("reason", &reason)]
            )
        );
    }
}

fn summary(collected: &Collected, lang: Lang) -> String {
    let throttled: u64 = collected.stats.values().map(|s| s.throttled).sum();
    text::format(
        lang,
        "collect_summary",
        &[
            ("tenant", &collected.tenant),
            ("sections", &collected.collection.outcomes.len()),
            ("failed", &collected.collection.failed().count()),
            ("requests", &collected.total_requests()),
            ("throttled", &throttled),
            (
                "seconds",
                &format!("{:.1}", collected.elapsed.as_secs_f64()),
            ),
        ],
    )
}

pub fn run_collect(cmd: CollectCommand) -> Result<u8> {
    let lang = text::lang();
    let config = load_config(&cmd.collect)?;
    let rt = runtime()?;
    let progress = Progress::new(cmd.collect.app.label(), progress_visible(cmd.collect.quiet));
    let collected = rt.block_on(collect_app(&config, settings(&cmd.collect), progress))?;
    report_failures(&collected, lang);
    let line = summary(&collected, lang);
    let out = cmd.out.unwrap_or_else(|| {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        PathBuf::from(format!(
            "{}-{}-{stamp}.json.gz",
            collected.tenant,
            cmd.collect.app.as_str()
        ))
    });
    let failed = collected.collection.failed().count();
    collected.into_snapshot().write(&out)?;
    if !cmd.collect.quiet {
        eprintln!("mamori: {line}");
        eprintln!("mamori: {} {}", text::get(lang, "wrote"), out.display());
    }
    Ok(if failed > 0 { EXIT_FINDINGS } else { 0 })
}

/// Collect, evaluate, report. Exit 2 when the tool failed or judged nothing (no result, or every
/// result an error), else 1 when a requirement is not met or a section was not collected, else 0.
pub fn run_scan(cmd: ScanCommand) -> Result<u8> {
    let lang = resolve_lang(cmd.report.lang);
    let engine = load_engine(&cmd.packs)?;
    let config = load_config(&cmd.collect)?;
    let mut options = EvalOptions::default();
    if let Some(path) = &cmd.config {
        options.config = mamori_policy::EvalConfig::from_file(path)?;
    }
    let rt = runtime()?;
    let progress = Progress::new(cmd.collect.app.label(), progress_visible(cmd.collect.quiet));
    let collected = rt.block_on(collect_app(&config, settings(&cmd.collect), progress))?;
    if !cmd.collect.quiet {
        report_failures(&collected, lang);
    }
    let line = summary(&collected, lang);
    let failed_sections = collected.collection.failed().count();
    let snapshot = collected.into_snapshot();
    if let Some(path) = &cmd.snapshot {
        snapshot.write(path)?;
    }
    let evaluation = engine.evaluate_snapshot(&snapshot, &options)?;
    let mut tool_errors = 0;
    if output::judged_nothing(&evaluation) {
        tool_errors += 1;
        eprintln!(
            "mamori: {}: {}",
            text::get(lang, "error"),
            text::format(
                lang,
                "judged_nothing",
                &[("tenant", &snapshot.tenant), ("failed", &failed_sections)]
            )
        );
    }
    let code = cmd
        .report
        .finish(&[evaluation], tool_errors, cmd.collect.quiet)?;
    if !cmd.collect.quiet {
        eprintln!("mamori: {line}");
    }
    Ok(if code == 0 && failed_sections > 0 {
        EXIT_FINDINGS
    } else {
        code
    })
}

/// A Google Workspace configuration for an imitation tenant (the demo and the benchmark).
pub fn gws_mock_config(mock: &mamori_mock_saas::gws::GwsMock) -> GwsConfig {
    serde_json::from_value(crate::imitate::gws_config_json(mock))
        .expect("the imitation's configuration is valid")
}
