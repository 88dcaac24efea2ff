//! The `mamori` command: arguments and dispatch. Each command lives in its own module; the
//! ones that evaluate share one output path (`output`).

mod collect;
mod demo;
mod detect;
mod evaluate;
mod imitate;
mod logs;
mod output;
mod packs;
mod permissions;
mod server;
mod text;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use mamori_core::snapshot::SourceKind;
use mamori_policy::{Engine, Pack, PackFiles};
use std::path::PathBuf;
use std::process::ExitCode;

pub use output::{resolve_lang, write_atomically, EXIT_FINDINGS, EXIT_TOOL_ERROR};

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
    Evaluate(evaluate::EvaluateArgs),
    /// Match audit-log files against Sigma detection rules and report the alerts.
    Detect(detect::DetectArgs),
    /// List, show and test policy packs.
    #[command(subcommand)]
    Packs(packs::PacksCommand),
    /// Collect a tenant's configuration (read-only) into a snapshot.
    Collect(collect::CollectCommand),
    /// Collect, evaluate and report in one step.
    Scan(collect::ScanCommand),
    /// Collect the demo customer from imitation APIs on loopback and write HTML reports (ja, en).
    Demo(DemoArgs),
    /// Run the imitation SaaS APIs on loopback (to try collect and scan without a tenant).
    Imitate(imitate::ImitateArgs),
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

// Evaluating a large tenant allocates millions of small values; mimalloc is markedly faster at
// that than the system allocator, especially from several threads (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            eprintln!("mamori: {}: {err:#}", text::get(text::lang(), "error"));
            ExitCode::from(EXIT_TOOL_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Evaluate(args) => evaluate::run(args),
        Command::Detect(args) => detect::run(args),
        Command::Packs(cmd) => packs::run(cmd),
        Command::Collect(cmd) => collect::run_collect(cmd),
        Command::Scan(cmd) => collect::run_scan(cmd),
        Command::Demo(args) => demo::run(&demo::DemoOptions {
            out_dir: args.out_dir,
            listen: args.listen,
            serve: !args.no_serve,
        }),
        Command::Imitate(args) => imitate::run(args),
        Command::Server(args) => server::run_server(args),
        Command::Keys(cmd) => server::run_keys(cmd),
        Command::Users(cmd) => server::run_users(cmd),
    }
}

/// Built-in packs plus user packs; a user pack replaces a built-in one with the same id.
pub fn load_engine(args: &PackArgs) -> Result<Engine> {
    load_engine_for(args, None)
}

/// The built-in packs (only those reading `kind`, when given) and the user's, compiled once.
pub fn load_engine_for(args: &PackArgs, kind: Option<SourceKind>) -> Result<Engine> {
    let mut packs: Vec<Pack> = mamori_policy::builtin_packs()
        .context("loading the built-in packs")?
        .into_iter()
        .filter(|p| kind.is_none_or(|k| k == SourceKind::Mamori || p.input == k))
        .collect();
    for dir in &args.packs {
        let files =
            PackFiles::from_dir(dir).with_context(|| format!("reading pack {}", dir.display()))?;
        let pack = Pack::from_files(files)?;
        packs.retain(|p| p.id != pack.id);
        packs.push(pack);
    }
    let mut engine = Engine::new();
    engine.add_packs(packs)?;
    Ok(engine)
}
