//! `mamori-bench --collect`: live collection of large imitation tenants, with latency and
//! throttling, against the lower bound (requests needed at the largest page sizes plus fixed
//! calls). The imitation runs in a child process so the figures are the collector's own.

use crate::{peak_rss_mib, runtime, BenchArgs};
use anyhow::{bail, Context, Result};
use mamori_connect::{AppConfig, HttpSettings};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Imitation(Child);

impl Drop for Imitation {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for(path: &Path, child: &mut Child) -> Result<()> {
    for _ in 0..1200 {
        if path.exists() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the imitation APIs exited early ({status})");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("the imitation APIs did not start within 120 s")
}

pub fn run(args: &BenchArgs) -> Result<u8> {
    let dir = tempfile_dir()?;
    // The imitation runs in its own process (`mamori imitate`, beside this binary), so the
    // peak memory measured here is the collector's own.
    let exe = std::env::current_exe()
        .context("locating this binary")?
        .with_file_name(format!("mamori{}", std::env::consts::EXE_SUFFIX));
    println!(
        "Collection benchmark: large tenants, {} ms latency per request, 429 on every {} request(s) (Retry-After {} s), concurrency {}",
        args.latency_ms,
        if args.throttle_every == 0 { "no".to_string() } else { format!("{}th", args.throttle_every) },
        args.retry_after,
        args.concurrency
    );
    let started = std::time::Instant::now();
    let child = Command::new(exe)
        .args([
            "imitate",
            "--size",
            "large",
            "--credentials-dir",
            dir.to_str().context("temporary directory path")?,
            "--latency-ms",
            &args.latency_ms.to_string(),
            "--throttle-every",
            &args.throttle_every.to_string(),
            "--retry-after",
            &args.retry_after.to_string(),
        ])
        .stdout(Stdio::null())
        .spawn()
        .context("starting mamori imitate")?;
    let mut imitation = Imitation(child);
    wait_for(&dir.join("gws-lower-bound.json"), &mut imitation.0)?;
    println!(
        "imitation tenants generated in {:.1} s (not counted)",
        started.elapsed().as_secs_f64()
    );

    let rt = runtime()?;
    let settings = HttpSettings {
        concurrency: args.concurrency.max(1),
        ..HttpSettings::default()
    };
    for app in ["m365", "gws"] {
        if args.app.as_deref().is_some_and(|a| a != app) {
            continue;
        }
        let path = dir.join(format!("{app}-credentials.json"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let config = AppConfig::from_document(app.parse()?, &text)?;
        let bound: BTreeMap<String, u64> =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{app}-lower-bound.json")))?)?;
        let collected = rt.block_on(mamori_connect::collect(&config, settings.clone(), None))?;
        let failed: Vec<&String> = collected.collection.failed().map(|(k, _)| k).collect();
        println!(
            "\n== {} ({}) ==",
            if app == "m365" {
                "Microsoft 365, 100,000 users"
            } else {
                "Google Workspace, 50,000 users"
            },
            collected.tenant
        );
        println!(
            "{:<44} {:>9} {:>9} {:>9}",
            "section", "requests", "bound", "throttled"
        );
        let mut sections: Vec<&String> = collected.stats.keys().chain(bound.keys()).collect();
        sections.sort();
        sections.dedup();
        let (mut total, mut total_bound, mut throttled, mut waited) = (0u64, 0u64, 0u64, 0u64);
        for s in sections {
            if s == "token" {
                continue;
            }
            let st = collected.stats.get(s).cloned().unwrap_or_default();
            let b = bound.get(s).copied().unwrap_or(0);
            total += st.requests;
            total_bound += b;
            throttled += st.throttled;
            waited += st.throttle_wait_ms;
            println!("{s:<44} {:>9} {:>9} {:>9}", st.requests, b, st.throttled);
        }
        let wall = collected.elapsed.as_secs_f64();
        let wall_bound =
            total_bound as f64 * args.latency_ms as f64 / 1000.0 / args.concurrency.max(1) as f64;
        println!("total requests {total} (lower bound {total_bound}; ratio {:.2}; {throttled} answered 429, {:.1} s of Retry-After waits)", total as f64 / total_bound.max(1) as f64, waited as f64 / 1000.0);
        println!(
            "wall time {wall:.2} s (bound × latency ÷ concurrency = {wall_bound:.2} s; ratio {:.2})",
            wall / wall_bound.max(1e-9)
        );
        if !failed.is_empty() {
            println!("FAILED sections: {failed:?}");
        }
        if let Some(peak) = peak_rss_mib() {
            println!("peak memory of the collector so far (VmHWM): {peak:.0} MiB");
        }
    }
    drop(imitation);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(0)
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("mamori-bench-collect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
