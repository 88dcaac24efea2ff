//! `mamori bench`: evaluation speed on the sample export and on a generated large tenant.
//! Prints evaluations per second, MB/s and peak memory (VmHWM).

use crate::synth::{m365_tenant, TenantSize};
use crate::{load_engine, load_input, PackArgs};
use anyhow::{Context, Result};
use clap::Args;
use mamori_core::snapshot::{SourceKind, DEFAULT_MAX_INPUT_BYTES};
use mamori_policy::EvalOptions;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct BenchArgs {
    /// A provider export to time (default: ../shared/samples/scubagear-ProviderSettingsExport.json.gz when present).
    #[arg(long, value_name = "FILE")]
    sample: Option<PathBuf>,
    /// Evaluations of the sample to average over.
    #[arg(long, default_value_t = 50)]
    iterations: usize,
    /// Skip the generated large tenant.
    #[arg(long)]
    no_large: bool,
    /// Also save the generated large tenant's export here (for profiling rules).
    #[arg(long, value_name = "FILE")]
    write_large: Option<PathBuf>,
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn run(args: BenchArgs) -> Result<u8> {
    let started = Instant::now();
    let engine = load_engine(&PackArgs { packs: Vec::new() })?;
    let controls: usize = engine.packs().iter().map(|p| p.controls().count()).sum();
    println!(
        "load+compile packs: {:.1} ms ({} controls)",
        started.elapsed().as_secs_f64() * 1e3,
        controls
    );
    let options = EvalOptions::default();

    let sample = args.sample.clone().or_else(|| {
        let p = PathBuf::from("../shared/samples/scubagear-ProviderSettingsExport.json.gz");
        p.exists().then_some(p)
    });
    if let Some(path) = sample {
        let bytes = mamori_core::snapshot::open(&path, DEFAULT_MAX_INPUT_BYTES)
            .and_then(|mut r| {
                let mut buf = Vec::new();
                std::io::Read::read_to_end(&mut r, &mut buf)
                    .map(|_| buf.len())
                    .map_err(|e| mamori_core::snapshot::SnapshotError::Read {
                        path: path.clone(),
                        source: e,
                    })
            })
            .with_context(|| format!("reading {}", path.display()))?;
        let input = load_input(&path, DEFAULT_MAX_INPUT_BYTES)?;
        let iterations = args.iterations.max(1);
        let t = Instant::now();
        let mut results = 0;
        for _ in 0..iterations {
            results = engine
                .evaluate("sample", SourceKind::Scubagear, input.clone(), &options)
                .results
                .len();
        }
        let per = t.elapsed().as_secs_f64() / iterations as f64;
        println!(
            "sample {} ({:.2} MiB JSON, {} results): {:.2} ms/evaluation, {:.1} evaluations/s, {:.1} MB/s",
            path.display(),
            mib(bytes),
            results,
            per * 1e3,
            1.0 / per,
            mib(bytes) / per
        );
        per_product(&engine, &input, iterations);
    } else {
        println!("sample: skipped (no --sample and ../shared/samples is absent)");
    }

    if !args.no_large {
        let size = TenantSize::LARGE;
        let t = Instant::now();
        let tenant = m365_tenant(size, 1, "large-tenant");
        let json = serde_json::to_vec(&tenant)?;
        drop(tenant);
        if let Some(path) = &args.write_large {
            crate::write_atomically(path, &json)?;
        }
        println!(
            "large tenant generated in {:.2} s: {} users, {} privileged users, {} CA policies, {} service principals, {:.1} MiB JSON",
            t.elapsed().as_secs_f64(),
            size.users,
            size.privileged_users,
            size.ca_policies,
            size.service_principals,
            mib(json.len())
        );
        let t = Instant::now();
        let input = mamori_policy::Value::from_json_str(std::str::from_utf8(&json)?)?;
        let parse = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let evaluation = engine.evaluate("large", SourceKind::Scubagear, input.clone(), &options);
        let eval = t.elapsed().as_secs_f64();
        println!(
            "large tenant: parse {:.0} ms ({:.1} MB/s), evaluate {:.0} ms ({} results), total {:.2} s, {:.1} MB/s overall",
            parse * 1e3,
            mib(json.len()) / parse,
            eval * 1e3,
            evaluation.results.len(),
            parse + eval,
            mib(json.len()) / (parse + eval)
        );
        per_product(&engine, &input, 1);
    }
    if let Some(peak) = peak_rss_mib() {
        println!("peak memory (VmHWM): {peak:.0} MiB");
    }
    Ok(0)
}

/// Where the time goes: each product of the Microsoft 365 pack alone, present or not.
fn per_product(engine: &mamori_policy::Engine, input: &mamori_policy::Value, iterations: usize) {
    for pack in engine
        .packs()
        .iter()
        .filter(|p| p.input == SourceKind::Scubagear)
    {
        for product in &pack.products {
            let only = EvalOptions {
                products: vec![product.id.clone()],
                ..EvalOptions::default()
            };
            let t = Instant::now();
            for _ in 0..iterations {
                engine.evaluate("bench", SourceKind::Scubagear, input.clone(), &only);
            }
            println!(
                "  {:<16} {:.2} ms/evaluation",
                product.id,
                t.elapsed().as_secs_f64() * 1e3 / iterations as f64
            );
        }
    }
}
