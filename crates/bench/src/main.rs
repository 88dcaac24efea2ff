//! `mamori-bench`: Mamori's speed figures, kept out of the shipped `mamori` binary.
//!
//! Without a mode flag: evaluation speed on the sample exports and on generated large tenants
//! (evaluations per second, MB/s, each product's share, peak memory). `--collect`: live
//! collection from the imitation APIs; `--api`: the REST API's finding listings under load;
//! `--schedule`: a simulated day of scheduled scans. docs/BENCHMARKS.md keeps the figures.

mod api;
mod collect;
mod detect;
mod ingest;
mod schedule;

use anyhow::{Context, Result};
use clap::{Args, Parser};
use mamori_core::snapshot::{SourceKind, DEFAULT_MAX_INPUT_BYTES};
use mamori_mock_saas::synth::{gws_tenant, m365_tenant, GwsSize, TenantSize};
use mamori_policy::{Engine, EvalOptions, Value};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "mamori-bench",
    version,
    about = "Mamori's benchmarks (docs/BENCHMARKS.md)"
)]
struct Cli {
    #[command(flatten)]
    args: BenchArgs,
}

// Evaluating a large tenant allocates millions of small values; mimalloc is markedly faster at
// that than the system allocator, especially from several threads (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    match run(cli.args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("mamori-bench: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Built-in packs, compiled.
pub fn load_engine() -> Result<Engine> {
    Engine::with_builtin_packs().context("loading the built-in packs")
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

#[derive(Args)]
pub struct BenchArgs {
    /// A ScubaGear export to time (default: ../shared/samples/scubagear-ProviderSettingsExport.json.gz when present).
    #[arg(long, value_name = "FILE")]
    sample: Option<PathBuf>,
    /// A ScubaGoggles export to time (default: ../shared/samples/scubagoggles-provider-sample.json.gz when present).
    #[arg(long, value_name = "FILE")]
    gws_sample: Option<PathBuf>,
    /// Evaluations of each sample to average over.
    #[arg(long, default_value_t = 50)]
    iterations: usize,
    /// Skip the generated large tenants.
    #[arg(long)]
    no_large: bool,
    /// Also save the generated large Microsoft 365 tenant's export here (for profiling rules).
    #[arg(long, value_name = "FILE")]
    write_large: Option<PathBuf>,
    /// Also save the generated large Google Workspace tenant's export here.
    #[arg(long, value_name = "FILE")]
    write_large_gws: Option<PathBuf>,
    /// Instead: time live collection of the large tenants (100,000-user Microsoft 365, 50,000-user
    /// Google Workspace) from the imitation APIs, run in a child process.
    #[arg(long)]
    pub collect: bool,
    /// Instead: threat detection throughput on a generated mixed audit-log corpus (parse alone,
    /// every rule on every event, and Mamori's detector end to end, per core).
    #[arg(long)]
    pub detect: bool,
    /// With --detect: events in the corpus.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub events: usize,
    /// With --detect: stream this many GB of generated events instead (memory as it goes).
    #[arg(long, value_name = "GB")]
    pub stream_gb: Option<f64>,
    /// With --detect: time only Mamori's detector end to end (for profiling it alone).
    #[arg(long)]
    pub end_to_end_only: bool,
    /// With --collect: latency added to every response.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    pub latency_ms: u64,
    /// With --collect: every n-th request is answered 429 (0 = no throttling).
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub throttle_every: u64,
    /// With --collect: seconds announced in Retry-After.
    #[arg(long, default_value_t = 1, value_name = "SECONDS")]
    pub retry_after: u64,
    /// With --collect: the connectors' concurrency per tenant.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub concurrency: usize,
    /// With --collect: only this application.
    #[arg(long, value_name = "m365|gws")]
    pub app: Option<String>,
    #[command(flatten)]
    pub server: api::ServerBenchArgs,
}

pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn default_path(given: &Option<PathBuf>, fallback: &str) -> Option<PathBuf> {
    given.clone().or_else(|| {
        let p = PathBuf::from(fallback);
        p.exists().then_some(p)
    })
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let mut reader = mamori_core::snapshot::open(path, DEFAULT_MAX_INPUT_BYTES)?;
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut reader, &mut buf)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(buf)
}

pub fn run(args: BenchArgs) -> Result<u8> {
    if args.collect {
        return collect::run(&args);
    }
    if args.detect {
        return detect::run(&detect::DetectBenchArgs {
            events: args.events,
            iterations: args.iterations.min(3),
            stream_gb: args.stream_gb,
            end_to_end_only: args.end_to_end_only,
        });
    }
    if args.server.ingest {
        return ingest::run(&args.server, args.events);
    }
    if args.server.api {
        return api::run(&args.server);
    }
    if args.server.schedule {
        return schedule::run(&args.server);
    }
    let started = Instant::now();
    let engine = load_engine()?;
    let controls: usize = engine.packs().iter().map(|p| p.controls().count()).sum();
    println!(
        "load+compile packs: {:.1} ms ({} controls)",
        started.elapsed().as_secs_f64() * 1e3,
        controls
    );
    let iterations = args.iterations.max(1);

    let samples = [
        (
            SourceKind::Scubagear,
            default_path(
                &args.sample,
                "../shared/samples/scubagear-ProviderSettingsExport.json.gz",
            ),
        ),
        (
            SourceKind::Scubagoggles,
            default_path(
                &args.gws_sample,
                "../shared/samples/scubagoggles-provider-sample.json.gz",
            ),
        ),
    ];
    for (kind, path) in samples {
        match path {
            Some(path) => {
                let json = read_bytes(&path)?;
                let input = Value::from_json_str(std::str::from_utf8(&json)?)?;
                time_input(
                    &engine,
                    kind,
                    &path.display().to_string(),
                    &input,
                    json.len(),
                    iterations,
                );
                whole_process(&path, kind, 5)?;
            }
            None => println!(
                "{} sample: skipped (no file given and ../shared/samples is absent)",
                kind.as_str()
            ),
        }
    }
    let demo_gws = serde_json::to_vec(&mamori_mock_saas::synth::gws_demo())?;
    let input = Value::from_json_str(std::str::from_utf8(&demo_gws)?)?;
    time_input(
        &engine,
        SourceKind::Scubagoggles,
        "demo Google Workspace tenant",
        &input,
        demo_gws.len(),
        iterations,
    );

    if !args.no_large {
        let size = TenantSize::LARGE;
        let t = Instant::now();
        let json = serde_json::to_vec(&m365_tenant(size, 1, "large-tenant"))?;
        println!(
            "\nlarge Microsoft 365 tenant generated in {:.2} s: {} users, {} privileged users, {} CA policies, {} service principals, {:.1} MiB JSON",
            t.elapsed().as_secs_f64(),
            size.users,
            size.privileged_users,
            size.ca_policies,
            size.service_principals,
            mib(json.len())
        );
        let path = args
            .write_large
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("mamori-bench-large-m365.json"));
        mamori_core::snapshot::write_atomically(&path, &json)?;
        large(&engine, SourceKind::Scubagear, &json)?;
        whole_process(&path, SourceKind::Scubagear, 3)?;
        if args.write_large.is_none() {
            let _ = std::fs::remove_file(&path);
        }

        let size = GwsSize::LARGE;
        let t = Instant::now();
        let json = serde_json::to_vec(&gws_tenant(size, 1))?;
        println!(
            "\nlarge Google Workspace tenant generated in {:.2} s: {} users, {} OUs with per-OU policies, {:.1} MiB JSON",
            t.elapsed().as_secs_f64(),
            size.users,
            size.org_units,
            mib(json.len())
        );
        if let Some(path) = &args.write_large_gws {
            mamori_core::snapshot::write_atomically(path, &json)?;
        }
        large(&engine, SourceKind::Scubagoggles, &json)?;
    }
    if let Some(peak) = peak_rss_mib() {
        println!("\npeak memory (VmHWM): {peak:.0} MiB");
    }
    Ok(0)
}

fn time_input(
    engine: &Engine,
    kind: SourceKind,
    name: &str,
    input: &Value,
    bytes: usize,
    iterations: usize,
) {
    let options = EvalOptions::default();
    let t = Instant::now();
    let mut results = 0;
    for _ in 0..iterations {
        results = engine
            .evaluate(name, kind, input.clone(), &options)
            .results
            .len();
    }
    let per = t.elapsed().as_secs_f64() / iterations as f64;
    println!(
        "\n{} {name} ({:.2} MiB JSON, {results} results): {:.2} ms/evaluation, {:.1} evaluations/s, {:.1} MB/s",
        kind.as_str(),
        mib(bytes),
        per * 1e3,
        1.0 / per,
        mib(bytes) / per
    );
    per_product(engine, kind, input, iterations);
}

fn large(engine: &Engine, kind: SourceKind, json: &[u8]) -> Result<()> {
    // The path every input takes: the snapshot reader's structural scan, then the engine's
    // parser, which builds its values straight from the bytes on every core.
    let t = Instant::now();
    let snapshot =
        mamori_core::snapshot::Snapshot::from_vec(Path::new("large"), json.to_vec(), kind)?;
    let check = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let input =
        mamori_policy::input::parse_members(snapshot.data_json(), snapshot.members(), &|_| true)?;
    let parse = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let evaluation = engine.evaluate("large", kind, input.clone(), &EvalOptions::default());
    let eval = t.elapsed().as_secs_f64();
    let total = check + parse + eval;
    // Baseline in the same run: the generic path every input took before (validate the whole
    // document, then serde into the engine's value).
    let t = Instant::now();
    let _ = serde_json::from_slice::<serde::de::IgnoredAny>(json)?;
    let baseline: Value = Value::from_json_str(std::str::from_utf8(json)?)?;
    let generic = t.elapsed().as_secs_f64();
    assert_eq!(
        baseline, input,
        "the two parsers disagree on the large tenant"
    );
    drop(baseline);
    println!(
        "  reading: scan {:.0} ms + parse {:.0} ms = {:.0} MB/s; generic validate + serde {:.0} ms ({:.0} MB/s): {:.2}x faster",
        check * 1e3,
        parse * 1e3,
        mb(json.len()) / (check + parse),
        generic * 1e3,
        mb(json.len()) / generic,
        generic / (check + parse)
    );
    println!(
        "  evaluate {:.0} ms ({} results), total {:.2} s",
        eval * 1e3,
        evaluation.results.len(),
        total,
    );
    per_product(engine, kind, &input, 1);
    Ok(())
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// The whole `mamori evaluate` process on `file` against the reference's yardstick, Python's
/// `json.load` of the same file, each the best of `runs`, run one after the other here.
fn whole_process(file: &Path, from: SourceKind, runs: usize) -> Result<()> {
    let exe = std::env::current_exe()
        .context("locating this binary")?
        .with_file_name(format!("mamori{}", std::env::consts::EXE_SUFFIX));
    let file_str = file.to_str().context("file path")?;
    let best = |cmd: &mut dyn FnMut() -> std::process::Command| -> Result<(f64, f64)> {
        let mut best = f64::MAX;
        let mut peak = 0.0f64;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            let mut child = cmd().stdout(std::process::Stdio::null()).spawn()?;
            let pid = child.id();
            // The child's own high-water mark, read while it runs (wait4's figure would include
            // this large process's image from before the child's exec).
            let mut child_peak = 0.0f64;
            let status = loop {
                if let Some(status) = child.try_wait()? {
                    break status;
                }
                if let Some(kib) = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    .ok()
                    .and_then(|s| {
                        s.lines()
                            .find(|l| l.starts_with("VmHWM:"))
                            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
                    })
                {
                    child_peak = child_peak.max(kib / 1024.0);
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            };
            best = best.min(t.elapsed().as_secs_f64());
            peak = peak.max(child_peak);
            if !matches!(status.code(), Some(0 | 1)) {
                anyhow::bail!("process {pid} ended with {status}");
            }
        }
        Ok((best, peak))
    };
    let (ours, ours_peak) = best(&mut || {
        let mut c = std::process::Command::new(&exe);
        c.args([
            "evaluate",
            "--from",
            from.as_str(),
            file_str,
            "--format",
            "json",
        ]);
        c
    })?;
    // Against the document's size (a gzip file is compared by what it holds).
    let size = read_bytes(file)?.len() as f64;
    print!(
        "  whole `mamori evaluate --format json`: {:.0} ms, peak {:.0} MiB ({:.2}x the file)",
        ours * 1e3,
        ours_peak,
        ours_peak * 1024.0 * 1024.0 / size
    );
    let plain = !file_str.ends_with(".gz");
    match best(&mut || {
        let mut c = std::process::Command::new("python3");
        c.args([
            "-c",
            if plain {
                "import json,sys; json.load(open(sys.argv[1]))"
            } else {
                "import json,sys,gzip; json.load(gzip.open(sys.argv[1]))"
            },
            file_str,
        ]);
        c
    }) {
        Ok((python, _)) => println!(
            "; python3 json.load {:.0} ms; ratio {:.2}",
            python * 1e3,
            ours / python
        ),
        Err(e) => println!("; python3 not available ({e:#})"),
    }
    Ok(())
}

/// Where the time goes: each product of the packs for `kind` alone, present or not.
fn per_product(engine: &Engine, kind: SourceKind, input: &Value, iterations: usize) {
    let mut line = Vec::new();
    for pack in engine.packs().iter().filter(|p| p.input == kind) {
        for product in &pack.products {
            let only = EvalOptions {
                products: vec![product.id.clone()],
                ..EvalOptions::default()
            };
            let t = Instant::now();
            for _ in 0..iterations {
                engine.evaluate("bench", kind, input.clone(), &only);
            }
            line.push(format!(
                "{} {:.1}",
                product.id,
                t.elapsed().as_secs_f64() * 1e3 / iterations as f64
            ));
        }
    }
    println!("  per product (ms): {}", line.join(" · "));
}

/// The imitation generator's source (mock-saas depends on nothing of Mamori's) as Mamori's.
fn log_source(s: mamori_mock_saas::logs::Source) -> mamori_core::LogSource {
    use mamori_core::LogSource;
    use mamori_mock_saas::logs::Source;
    match s {
        Source::M365 => LogSource::M365,
        Source::EntraSignin => LogSource::EntraSignin,
        Source::EntraAudit => LogSource::EntraAudit,
        Source::Gws => LogSource::Gws,
    }
}
