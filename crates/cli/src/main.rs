//! The `mamori` command.

mod bench;
mod bench_collect;
mod collect;
mod demo;
mod imitate;
mod permissions;
mod server;
use mamori_mock_saas::synth;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use mamori_core::snapshot::{self, SourceKind, DEFAULT_MAX_INPUT_BYTES};
use mamori_core::{Evaluation, Lang};
use mamori_policy::{conformance, testcase, Engine, EvalConfig, EvalOptions, Pack, PackFiles};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit codes: 0 nothing fails, 1 a control fails (or a pack test fails), 2 the tool failed.
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_TOOL_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "mamori",
    version,
    about = "Mamori (守り): SaaS security posture management"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate provider exports against the policy packs and write a report.
    Evaluate(EvaluateArgs),
    /// List, show and test policy packs.
    #[command(subcommand)]
    Packs(PacksCommand),
    /// Collect a tenant's configuration (read-only) into a snapshot.
    Collect(collect::CollectCommand),
    /// Collect, evaluate and report in one step.
    Scan(collect::ScanCommand),
    /// Collect the demo customer from imitation APIs on loopback and write HTML reports (ja, en).
    Demo(DemoArgs),
    /// Run the imitation SaaS APIs on loopback (to try collect and scan without a tenant).
    Imitate(imitate::ImitateArgs),
    /// Measure evaluation speed on the sample export and on a generated large tenant.
    Bench(bench::BenchArgs),
    /// Run the service: REST API, dashboard, scheduler and scan workers.
    Server(server::ServerArgs),
    /// Master key chores.
    #[command(subcommand)]
    Keys(server::KeysCommand),
    /// User accounts of the service.
    #[command(subcommand)]
    Users(server::UsersCommand),
}

#[derive(Args, Clone)]
pub struct PackArgs {
    /// Load a user pack from this folder (repeatable); a pack with a built-in id replaces it.
    #[arg(long = "pack", value_name = "DIR")]
    packs: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Html,
}

#[derive(Args)]
struct EvaluateArgs {
    /// Schema of the input files.
    #[arg(long, value_name = "scubagear|scubagoggles|mamori")]
    from: SourceKind,
    /// Input files (JSON, plain or gzip).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Report language [default: MAMORI_LANG, else ja when LANG is Japanese, else en].
    #[arg(long)]
    lang: Option<Lang>,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
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
    /// Never colour the table.
    #[arg(long)]
    no_color: bool,
}

#[derive(Subcommand)]
enum PacksCommand {
    /// List the loaded packs and their products.
    List {
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Show the controls of a pack, or one control, with their metadata.
    Show {
        /// A pack id (m365) or a control id (MS.AAD.1.1v1).
        id: String,
        #[arg(long)]
        lang: Option<Lang>,
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Which permission each control needs from the connector (Markdown, as in docs/connect-*.md).
    Permissions {
        /// m365 or gws.
        pack: String,
    },
    /// Run the data-driven test cases (one YAML/JSON file per case) under DIR.
    Test {
        dir: PathBuf,
        #[command(flatten)]
        packs: PackArgs,
    },
    /// Compare verdicts with a SCuBA conformance corpus (JSON Lines, plain or gzip).
    Conformance {
        /// The corpus; or, with --verdicts, a full sample export.
        corpus: PathBuf,
        /// Reference verdicts of a sample export (`*.verdicts.json`): compare that instead.
        #[arg(long, value_name = "FILE")]
        verdicts: Option<PathBuf>,
        /// Only this product (as named in the corpus, e.g. AAD).
        #[arg(long)]
        product: Option<String>,
        /// Print up to this many disagreements.
        #[arg(long, default_value_t = 50)]
        show: usize,
        /// Also list disagreements with the reference's other (non-target) verdicts.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        packs: PackArgs,
    },
}

#[derive(Args)]
struct DemoArgs {
    /// Where to write the reports and the demo export.
    #[arg(long, value_name = "DIR", default_value = "mamori-demo")]
    out_dir: PathBuf,
    /// Where the demo dashboard listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Only write the reports; do not start the dashboard.
    #[arg(long)]
    no_serve: bool,
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of stdout goes away (`| head`) instead
    // of panicking in println!.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    // Logs go to stderr, filtered by MAMORI_LOG (e.g. `mamori_connect=debug`); warnings by
    // default, information for the server. Credentials never reach a log line (see
    // mamori_connect::redact).
    let (default_level, json) = match &cli.command {
        Command::Server(args) => ("info", args.log_format == server::LogFormat::Json),
        _ => ("warn", false),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("mamori: error: {err:#}");
            ExitCode::from(EXIT_TOOL_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Evaluate(args) => evaluate(args),
        Command::Packs(cmd) => packs(cmd),
        Command::Collect(cmd) => collect::run_collect(cmd),
        Command::Scan(cmd) => collect::run_scan(cmd),
        Command::Demo(args) => demo::run(&demo::DemoOptions {
            out_dir: args.out_dir,
            listen: args.listen,
            serve: !args.no_serve,
        }),
        Command::Imitate(args) => imitate::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Server(args) => server::run_server(args),
        Command::Keys(cmd) => server::run_keys(cmd),
        Command::Users(cmd) => server::run_users(cmd),
    }
}

/// The language from `--lang`, `MAMORI_LANG` or the locale.
pub fn resolve_lang(flag: Option<Lang>) -> Lang {
    if let Some(lang) = flag {
        return lang;
    }
    if let Ok(v) = std::env::var("MAMORI_LANG") {
        if let Ok(lang) = v.parse() {
            return lang;
        }
    }
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return if v.starts_with("ja") {
                    Lang::Ja
                } else {
                    Lang::En
                };
            }
        }
    }
    Lang::En
}

/// Built-in packs plus user packs; a user pack replaces a built-in one with the same id.
fn load_engine(args: &PackArgs) -> Result<Engine> {
    let mut engine = Engine::with_builtin_packs().context("loading the built-in packs")?;
    for dir in &args.packs {
        let files =
            PackFiles::from_dir(dir).with_context(|| format!("reading pack {}", dir.display()))?;
        let pack = Pack::from_files(files)?;
        engine.add_pack(pack)?;
    }
    Ok(engine)
}

fn evaluate(args: EvaluateArgs) -> Result<u8> {
    let lang = resolve_lang(args.lang);
    let engine = load_engine(&args.packs)?;
    if args.from != SourceKind::Mamori && !engine.packs().iter().any(|p| p.input == args.from) {
        bail!("no loaded pack reads --from {} input", args.from.as_str());
    }
    let mut options = EvalOptions::default();
    if let Some(path) = &args.config {
        options.config = EvalConfig::from_file(path)?;
    }
    options.products = args.products.clone();
    let framework = match &args.framework {
        Some(id) => Some(find_framework(&engine, id)?),
        None => None,
    };

    let mut evaluations = Vec::new();
    let mut tool_errors = 0usize;
    for file in &args.files {
        let loaded = load_input(file, args.max_input_size).and_then(|input| match args.from {
            SourceKind::Mamori => unwrap_envelope(file, input),
            kind => Ok((kind, input)),
        });
        match loaded {
            Ok((kind, input)) => {
                let evaluation =
                    engine.evaluate(&file.display().to_string(), kind, input, &options);
                if evaluation.results.is_empty() {
                    tool_errors += 1;
                    eprintln!(
                        "mamori: error: {}: no section of any product the {} packs check was found; is this a {} export?",
                        file.display(),
                        kind.as_str(),
                        kind.as_str()
                    );
                } else {
                    let mut evaluation = evaluation;
                    if let Some(f) = &framework {
                        let view = f.view(&evaluation);
                        evaluation.frameworks.push(view);
                    }
                    evaluations.push(evaluation);
                }
            }
            Err(e) => {
                tool_errors += 1;
                eprintln!("mamori: error: {e:#}");
            }
        }
    }

    let body = match args.format {
        Format::Table => {
            let colour = !args.no_color
                && args.out.is_none()
                && std::env::var_os("NO_COLOR").is_none()
                && std::io::stdout().is_terminal();
            mamori_report::render_table(&evaluations, lang, colour)
        }
        Format::Json => mamori_report::render_json_lines(&evaluations, lang)?,
        Format::Csv => mamori_report::render_csv(&evaluations, lang)?,
        Format::Html => mamori_report::render_html(&evaluations, lang, &now_text())?,
    };
    match &args.out {
        Some(path) => {
            write_atomically(path, body.as_bytes())?;
            eprintln!("mamori: wrote {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth a message.
            if let Err(e) = out.write_all(body.as_bytes()).and_then(|_| out.flush()) {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(e).context("writing to standard output");
                }
            }
        }
    }
    if tool_errors > 0 {
        Ok(EXIT_TOOL_ERROR)
    } else if evaluations.iter().any(Evaluation::has_failures) {
        Ok(EXIT_FINDINGS)
    } else {
        Ok(0)
    }
}

/// Every built-in framework, checked against the loaded packs' control ids.
fn frameworks(engine: &Engine) -> Result<Vec<mamori_policy::Framework>> {
    let known = engine
        .packs()
        .iter()
        .flat_map(|p| p.controls().map(|(_, c)| c.id.clone()))
        .collect();
    Ok(mamori_policy::framework::builtin_frameworks(&known)?)
}

fn find_framework(engine: &Engine, id: &str) -> Result<mamori_policy::Framework> {
    let all = frameworks(engine)?;
    let names: Vec<String> = all.iter().map(|f| f.id.clone()).collect();
    all.into_iter()
        .find(|f| f.id == id)
        .with_context(|| format!("unknown framework {id:?} (available: {})", names.join(", ")))
}

/// A Mamori snapshot: `{"mamori_snapshot": 1, "schema": "scubagear"|"scubagoggles",
/// "data": {…provider export…}, …metadata}` (docs/schemas/mamori-snapshot.md). Returns the
/// inner export and its schema.
fn unwrap_envelope(
    path: &Path,
    envelope: mamori_policy::Value,
) -> Result<(SourceKind, mamori_policy::Value)> {
    use mamori_policy::Value;
    let get = |k: &str| {
        envelope
            .as_object()
            .ok()
            .and_then(|o| o.get(&Value::from(k)).cloned())
    };
    match get("mamori_snapshot") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        Some(_) => bail!(
            "{}: unsupported mamori_snapshot version (this build reads version 1)",
            path.display()
        ),
        None => bail!(
            "{}: wrong shape: not a Mamori snapshot (no \"mamori_snapshot\" key)",
            path.display()
        ),
    }
    let kind = match get("schema") {
        Some(Value::String(s)) => match s.parse::<SourceKind>() {
            Ok(SourceKind::Mamori) | Err(_) => bail!(
                "{}: \"schema\" must be scubagear or scubagoggles, not {s:?}",
                path.display()
            ),
            Ok(kind) => kind,
        },
        _ => bail!(
            "{}: wrong shape: a Mamori snapshot needs a \"schema\" string",
            path.display()
        ),
    };
    match get("data") {
        Some(data @ Value::Object(_)) => Ok((kind, data)),
        _ => bail!(
            "{}: wrong shape: a Mamori snapshot needs a \"data\" object",
            path.display()
        ),
    }
}

/// Reads one export and checks its top-level shape.
pub fn load_input(path: &Path, max_bytes: u64) -> Result<mamori_policy::Value> {
    let value: mamori_policy::Value = snapshot::load(path, max_bytes)?;
    if !matches!(value, mamori_policy::Value::Object(_)) {
        bail!(
            "{}: wrong shape: a provider export is a JSON object of sections, this is not an object",
            path.display()
        );
    }
    Ok(value)
}

pub fn now_text() -> String {
    let now = jiff::Zoned::now();
    now.strftime("%Y-%m-%d %H:%M:%S %Z").to_string()
}

/// Writes to a temporary file beside `path`, then renames, so no half-written report remains.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("renaming {} to {}", tmp.display(), path.display())
    })?;
    Ok(())
}

fn packs(cmd: PacksCommand) -> Result<u8> {
    match cmd {
        PacksCommand::List { packs } => {
            let engine = load_engine(&packs)?;
            for pack in engine.packs() {
                let count: usize = pack.products.iter().map(|p| p.controls.len()).sum();
                println!(
                    "{}\t{}\t{} controls\tinput={}\t{}",
                    pack.id,
                    pack.version,
                    count,
                    pack.input.as_str(),
                    pack.origin
                );
                for product in &pack.products {
                    println!(
                        "  {}\t{} controls\t{}",
                        product.id,
                        product.controls.len(),
                        product.name.en
                    );
                }
            }
            for f in frameworks(&engine)? {
                let mapped = f
                    .requirements
                    .iter()
                    .filter(|r| !r.controls.is_empty())
                    .count();
                println!(
                    "framework {}\t{} requirements ({} mapped)\tpacks={}\t{}",
                    f.id,
                    f.requirements.len(),
                    mapped,
                    f.packs.join(","),
                    f.name.en
                );
            }
            Ok(0)
        }
        PacksCommand::Permissions { pack } => {
            print!("{}", permissions::table(&pack)?);
            Ok(0)
        }
        PacksCommand::Show { id, lang, packs } => {
            let lang = resolve_lang(lang);
            let engine = load_engine(&packs)?;
            if let Some(pack) = engine.packs().iter().find(|p| p.id == id) {
                println!("{} {} — {}", pack.id, pack.version, pack.name.get(lang));
                for (product, control) in pack.controls() {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        control.id,
                        product.id,
                        control.criticality.as_str(),
                        control.severity.as_str(),
                        control.title.get(lang)
                    );
                }
                return Ok(0);
            }
            for pack in engine.packs() {
                if let Some((product, c)) = pack.find_control(&id) {
                    println!("{}  ({} / {})", c.id, pack.id, product.name.get(lang));
                    println!("title:        {}", c.title.get(lang));
                    println!("criticality:  {}", c.criticality.as_str());
                    println!("severity:     {}", c.severity.as_str());
                    println!("automated:    {}", c.automated);
                    println!("permissions:  {}", c.permissions.join(", "));
                    println!("sections:     {}", c.sections.join(", "));
                    println!("commands:     {}", c.commands.join(", "));
                    println!("remediation:  {}", c.remediation.get(lang));
                    if let Some(p) = &c.manual_procedure {
                        println!("manual check: {}", p.get(lang));
                    }
                    for r in &c.references {
                        println!("reference:    {r}");
                    }
                    return Ok(0);
                }
            }
            bail!("no pack or control named {id:?} (see `mamori packs list`)")
        }
        PacksCommand::Test { dir, packs } => {
            let engine = load_engine(&packs)?;
            // Only a fallback: a case's `source:` or the pack of its expected controls decides.
            let kind = engine
                .packs()
                .first()
                .map(|p| p.input)
                .unwrap_or(SourceKind::Scubagear);
            let outcomes = testcase::run_dir(&engine, kind, &dir)
                .with_context(|| format!("reading test cases under {}", dir.display()))?;
            if outcomes.is_empty() {
                bail!("no test cases (*.yaml, *.json) under {}", dir.display());
            }
            let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
            for o in &failed {
                println!("FAIL {}", o.file.display());
                for f in &o.failures {
                    println!("     {f}");
                }
            }
            println!(
                "{} passed, {} failed",
                outcomes.len() - failed.len(),
                failed.len()
            );
            Ok(if failed.is_empty() { 0 } else { EXIT_FINDINGS })
        }
        PacksCommand::Conformance {
            corpus,
            verdicts,
            product,
            show,
            strict,
            packs,
        } => {
            let engine = load_engine(&packs)?;
            let report = match &verdicts {
                Some(v) => {
                    let kind = if v.to_string_lossy().contains("goggles") {
                        SourceKind::Scubagoggles
                    } else {
                        SourceKind::Scubagear
                    };
                    conformance::run_sample(&engine, kind, &corpus, v)
                }
                None => conformance::run(&engine, &corpus, product.as_deref()),
            }
            .map_err(anyhow::Error::msg)?;
            let mismatches = if strict {
                &report.result_mismatches
            } else {
                &report.target_mismatches
            };
            for m in mismatches.iter().take(show) {
                println!(
                    "MISMATCH {} {} [{}] {}: expected {}, got {} — {}",
                    m.product,
                    m.source,
                    m.case,
                    m.policy_id,
                    m.expected,
                    m.actual
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "no control".into()),
                    m.details
                );
            }
            println!(
                "cases: {} ({} without a target)",
                report.cases, report.cases_without_target
            );
            for (product, t) in &report.targets {
                let strict_t = report.results.get(product).cloned().unwrap_or_default();
                println!(
                    "{product:<16} targets {}/{}   all verdicts {}/{}",
                    t.agree, t.total, strict_t.agree, strict_t.total
                );
            }
            let t = report.target_totals();
            let r = report.result_totals();
            println!(
                "TOTAL            targets {}/{}   all verdicts {}/{}",
                t.agree, t.total, r.agree, r.total
            );
            Ok(if report.target_mismatches.is_empty() {
                0
            } else {
                EXIT_FINDINGS
            })
        }
    }
}
