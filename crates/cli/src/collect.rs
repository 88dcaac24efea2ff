//! `mamori collect` and `mamori scan`: live, read-only collection from a tenant's admin APIs,
//! written as a Mamori snapshot, and (scan) evaluated and reported at once.

use crate::{
    load_engine, now_text, resolve_lang, write_atomically, PackArgs, EXIT_FINDINGS, EXIT_TOOL_ERROR,
};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mamori_connect::collection::Collected;
use mamori_connect::gws::GwsConfig;
use mamori_connect::m365::M365Config;
use mamori_connect::{Event, HttpSettings, Observer};
use mamori_core::{Evaluation, Lang};
use mamori_policy::EvalOptions;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
pub enum App {
    /// Microsoft 365 (Entra ID, Exchange Online, Defender, SharePoint, Teams, Power Platform, Power BI).
    M365,
    /// Google Workspace.
    Gws,
}

impl App {
    fn label(self) -> &'static str {
        match self {
            App::M365 => "Microsoft 365",
            App::Gws => "Google Workspace",
        }
    }
}

#[derive(Args)]
pub struct CollectArgs {
    /// The application to collect.
    #[arg(value_enum)]
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
    #[arg(long, value_enum, default_value = "table")]
    pub format: crate::Format,
    /// Report language [default: MAMORI_LANG, else from the locale].
    #[arg(long)]
    pub lang: Option<Lang>,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
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

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn read_config<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading credentials {}", path.display()))?;
    // YAML is a superset of JSON: one parser reads both. Errors name the field, never echo values.
    serde_yaml::from_str(&text).map_err(|e| {
        let location = e
            .location()
            .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
            .unwrap_or_default();
        let reason = e.to_string();
        let reason = reason
            .split(" at line ")
            .next()
            .unwrap_or(&reason)
            .to_string();
        anyhow::anyhow!(
            "{}: not a valid credentials file{location}: {}",
            path.display(),
            mamori_connect::redact::scrub(&reason)
        )
    })
}

/// The Microsoft 365 configuration from a file or MAMORI_M365_* variables.
pub fn m365_config(path: Option<&Path>) -> Result<M365Config> {
    if let Some(path) = path {
        return read_config(path);
    }
    let tenant_id = env("MAMORI_M365_TENANT_ID")
        .context("no --credentials file and MAMORI_M365_TENANT_ID is not set")?;
    let client_id = env("MAMORI_M365_CLIENT_ID").context("MAMORI_M365_CLIENT_ID is not set")?;
    let mut value = serde_json::json!({"tenant_id": tenant_id, "client_id": client_id});
    if let Some(s) = env("MAMORI_M365_CLIENT_SECRET") {
        value["client_secret"] = s.into();
    }
    if let Some(f) = env("MAMORI_M365_CERTIFICATE_KEY_FILE") {
        value["certificate_private_key_file"] = f.into();
    }
    if let Some(t) = env("MAMORI_M365_CERTIFICATE_THUMBPRINT") {
        value["certificate_thumbprint"] = t.into();
    }
    if let Some(d) = env("MAMORI_DNS_SERVER") {
        value["dns_server"] = d.into();
    }
    serde_json::from_value(value).context("MAMORI_M365_* variables")
}

/// The Google Workspace configuration from a file or MAMORI_GWS_* variables.
pub fn gws_config(path: Option<&Path>) -> Result<GwsConfig> {
    if let Some(path) = path {
        return read_config(path);
    }
    let key_file = env("MAMORI_GWS_KEY_FILE")
        .context("no --credentials file and MAMORI_GWS_KEY_FILE is not set")?;
    let subject = env("MAMORI_GWS_SUBJECT").context("MAMORI_GWS_SUBJECT is not set")?;
    let mut value = serde_json::json!({"service_account_key_file": key_file, "subject": subject});
    if let Some(c) = env("MAMORI_GWS_CUSTOMER_ID") {
        value["customer_id"] = c.into();
    }
    if let Some(d) = env("MAMORI_DNS_SERVER") {
        value["dns_server"] = d.into();
    }
    serde_json::from_value(value).context("MAMORI_GWS_* variables")
}

pub enum AppConfig {
    M365(M365Config),
    Gws(GwsConfig),
}

/// Collects one tenant; Ctrl-C abandons it (and nothing is written).
pub async fn collect_app(
    config: &AppConfig,
    settings: HttpSettings,
    progress: Arc<Progress>,
) -> Result<Collected> {
    let observer: Arc<dyn Observer> = progress.clone();
    let work = async {
        match config {
            AppConfig::M365(c) => mamori_connect::m365::collect(c, settings, Some(observer))
                .await
                .map_err(anyhow::Error::from),
            AppConfig::Gws(c) => mamori_connect::gws::collect(c, settings, Some(observer))
                .await
                .map_err(anyhow::Error::from),
        }
    };
    let result = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted; no snapshot was written")),
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
        ..HttpSettings::default()
    }
}

fn load_config(args: &CollectArgs) -> Result<AppConfig> {
    Ok(match args.app {
        App::M365 => AppConfig::M365(m365_config(args.credentials.as_deref())?),
        App::Gws => AppConfig::Gws(gws_config(args.credentials.as_deref())?),
    })
}

fn progress_visible(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// The snapshot bytes (gzip when the path ends in .gz).
pub fn snapshot_bytes(snapshot: &serde_json::Value, path: &Path) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(snapshot)?;
    if path.extension().is_some_and(|e| e == "gz") {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&json)?;
        Ok(gz.finish()?)
    } else {
        Ok(json)
    }
}

/// One line per failed section, for stderr.
pub fn report_failures(collected: &Collected) {
    for (section, outcome) in collected.collection.failed() {
        eprintln!(
            "mamori: warning: section {section} not collected: {}",
            outcome.reason.as_deref().unwrap_or("unknown reason")
        );
    }
}

fn summary(collected: &Collected) -> String {
    let failed = collected.collection.failed().count();
    let throttled: u64 = collected.stats.values().map(|s| s.throttled).sum();
    format!(
        "{}: {} sections ({} failed), {} requests ({} throttled) in {:.1} s",
        collected.tenant,
        collected.collection.outcomes.len(),
        failed,
        collected.total_requests(),
        throttled,
        collected.elapsed.as_secs_f64()
    )
}

pub fn run_collect(cmd: CollectCommand) -> Result<u8> {
    let config = load_config(&cmd.collect)?;
    let rt = runtime()?;
    let progress = Progress::new(cmd.collect.app.label(), progress_visible(cmd.collect.quiet));
    let collected = rt.block_on(collect_app(&config, settings(&cmd.collect), progress))?;
    report_failures(&collected);
    let line = summary(&collected);
    let app = match cmd.collect.app {
        App::M365 => "m365",
        App::Gws => "gws",
    };
    let out = cmd.out.unwrap_or_else(|| {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        PathBuf::from(format!("{}-{app}-{stamp}.json.gz", collected.tenant))
    });
    let failed = collected.collection.failed().count();
    let snapshot = collected.into_snapshot();
    write_atomically(&out, &snapshot_bytes(&snapshot, &out)?)?;
    if !cmd.collect.quiet {
        eprintln!("mamori: {line}");
        eprintln!("mamori: wrote {}", out.display());
    }
    Ok(if failed > 0 { EXIT_FINDINGS } else { 0 })
}

/// The provider export inside a collected snapshot, as the engine's value.
pub fn evaluate_collected(
    engine: &mamori_policy::Engine,
    source: &str,
    snapshot: &serde_json::Value,
    options: &EvalOptions,
) -> Result<Evaluation> {
    mamori_server::scan::evaluate_snapshot(engine, source, snapshot, options)
}

pub fn run_scan(cmd: ScanCommand) -> Result<u8> {
    let lang = resolve_lang(cmd.lang);
    let engine = load_engine(&cmd.packs)?;
    let config = load_config(&cmd.collect)?;
    let rt = runtime()?;
    let progress = Progress::new(cmd.collect.app.label(), progress_visible(cmd.collect.quiet));
    let collected = rt.block_on(collect_app(&config, settings(&cmd.collect), progress))?;
    report_failures(&collected);
    let line = summary(&collected);
    let tenant = collected.tenant.clone();
    let snapshot = collected.into_snapshot();
    if let Some(path) = &cmd.snapshot {
        write_atomically(path, &snapshot_bytes(&snapshot, path)?)?;
    }
    let mut options = EvalOptions::default();
    if let Some(path) = &cmd.config {
        options.config = mamori_policy::EvalConfig::from_file(path)?;
    }
    let evaluation = evaluate_collected(&engine, &tenant, &snapshot, &options)?;
    let evaluations = vec![evaluation];
    let body = match cmd.format {
        crate::Format::Table => {
            let colour = cmd.out.is_none()
                && std::env::var_os("NO_COLOR").is_none()
                && std::io::stdout().is_terminal();
            mamori_report::render_table(&evaluations, lang, colour)
        }
        crate::Format::Json => mamori_report::render_json_lines(&evaluations, lang)?,
        crate::Format::Csv => mamori_report::render_csv(&evaluations, lang)?,
        crate::Format::Html => mamori_report::render_html(&evaluations, lang, &now_text())?,
    };
    match &cmd.out {
        Some(path) => write_atomically(path, body.as_bytes())?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(body.as_bytes()).and_then(|_| out.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e).context("writing to standard output");
                }
            }
        }
    }
    if !cmd.collect.quiet {
        eprintln!("mamori: {line}");
        if let Some(path) = &cmd.out {
            eprintln!("mamori: wrote {}", path.display());
        }
    }
    if evaluations
        .iter()
        .any(|e| e.count(mamori_core::Status::Error) > 0 && e.results.is_empty())
    {
        return Ok(EXIT_TOOL_ERROR);
    }
    Ok(if evaluations.iter().any(Evaluation::has_failures) {
        EXIT_FINDINGS
    } else {
        0
    })
}

/// A Google Workspace configuration for an imitation tenant (the demo and the benchmark).
pub fn gws_mock_config(mock: &mamori_mock_saas::gws::GwsMock) -> GwsConfig {
    serde_json::from_value(crate::imitate::gws_config_json(mock))
        .expect("the imitation's configuration is valid")
}
