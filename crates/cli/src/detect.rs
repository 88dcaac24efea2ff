//! `mamori detect`: audit-log files matched by Mamori's Sigma rules (and any rule folders
//! given), alerts written as a table, JSON lines or OCSF Detection Findings.

use crate::output::{resolve_lang, write_atomically, write_stdout, EXIT_CLEAN, EXIT_FINDINGS};
use crate::text;
use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use mamori_core::Lang;
use mamori_detect::{detect_files, Alert, DetectorOptions, RuleSet, Source};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DetectFormat {
    Table,
    /// One JSON object per alert per line.
    Json,
    /// One OCSF Detection Finding (class 2004) per line.
    Ocsf,
}

#[derive(Args)]
pub struct DetectArgs {
    /// Which log the files hold.
    #[arg(long, value_name = "m365|entra-signin|entra-audit|gws")]
    source: Source,
    /// NDJSON, a JSON array or a saved API page (`{"value": [...]}`, `{"items": [...]}`), plain
    /// or gzip.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Also load the Sigma rules in this folder (repeatable), e.g. a checkout of a public rule
    /// repository; rules for logs Mamori does not read are counted and skipped.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// Only the rules from --rules, not Mamori's own.
    #[arg(long)]
    no_builtin_rules: bool,
    #[arg(long, value_enum, default_value = "table")]
    format: DetectFormat,
    /// Language of titles and responses [default: MAMORI_LANG, else the locale].
    #[arg(long)]
    lang: Option<Lang>,
    /// Write the alerts here instead of standard output.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Tenant named in the alerts (default: the one the records name).
    #[arg(long)]
    tenant: Option<String>,
    /// Write records that could not be used here (JSON lines: file, position, reason, raw).
    #[arg(long, value_name = "PATH")]
    quarantine: Option<PathBuf>,
    /// Alerts of one rule about one entity closer than this many seconds are one alert.
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    dedup_window: i64,
    /// Refuse files larger than this many bytes after decompression.
    #[arg(long, value_name = "BYTES", default_value_t = mamori_detect::read::DEFAULT_MAX_INPUT_BYTES)]
    max_input_size: u64,
}

pub fn run(args: DetectArgs) -> Result<u8> {
    let lang = resolve_lang(args.lang);
    let mut rules = if args.no_builtin_rules {
        RuleSet::default()
    } else {
        RuleSet::builtin().context("Mamori's built-in rules")?
    };
    for dir in &args.rules {
        rules.add_dir(dir)?;
    }
    if !rules.not_applicable.is_empty() {
        eprintln!(
            "mamori: {}",
            text::format(
                lang,
                "rules_not_applicable",
                &[("count", &rules.not_applicable.len())]
            )
        );
    }
    if rules.rule_count() == 0 {
        bail!(text::get(lang, "no_rules"));
    }
    let options = DetectorOptions {
        dedup_window_secs: args.dedup_window.max(0),
        ..DetectorOptions::default()
    };
    let run = detect_files(
        &rules,
        args.source,
        &args.files,
        args.tenant.as_deref(),
        options,
        args.max_input_size,
    )?;
    if !run.quarantined.is_empty() {
        let first = &run.quarantined[0];
        eprintln!(
            "mamori: {}: {}",
            text::get(lang, "warning"),
            text::format(
                lang,
                "quarantined",
                &[
                    ("count", &run.quarantined.len()),
                    ("file", &first.file),
                    ("position", &first.position),
                    ("reason", &first.reason),
                ]
            )
        );
        if let Some(path) = &args.quarantine {
            let mut body = String::new();
            for q in &run.quarantined {
                body.push_str(&serde_json::to_string(q)?);
                body.push('\n');
            }
            write_atomically(path, body.as_bytes())?;
        }
    }
    if run.events == 0 {
        // No event seen is not "no alert": say so and fail.
        bail!(text::format(
            lang,
            "no_events",
            &[("files", &args.files.len()), ("source", &args.source)]
        ));
    }
    let body = match args.format {
        DetectFormat::Json => {
            let mut out = String::new();
            for alert in &run.alerts {
                out.push_str(&serde_json::to_string(&alert.to_json(lang))?);
                out.push('\n');
            }
            out
        }
        DetectFormat::Ocsf => {
            let mut out = String::new();
            for alert in &run.alerts {
                let finding =
                    mamori_detect::ocsf::detection_finding(alert, lang, env!("CARGO_PKG_VERSION"));
                out.push_str(&serde_json::to_string(&finding)?);
                out.push('\n');
            }
            out
        }
        DetectFormat::Table => {
            let colour = args.out.is_none()
                && std::env::var_os("NO_COLOR").is_none()
                && std::io::stdout().is_terminal();
            table(&run, lang, colour)
        }
    };
    match &args.out {
        Some(path) => {
            write_atomically(path, body.as_bytes())?;
            eprintln!("mamori: {} {}", text::get(lang, "wrote"), path.display());
        }
        None => write_stdout(body.as_bytes())?,
    }
    Ok(if run.alerts.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    })
}

fn table(run: &mamori_detect::Run, lang: Lang, colour: bool) -> String {
    let mut out = String::new();
    for alert in &run.alerts {
        let severity = severity_label(alert, lang);
        let severity = if colour {
            let code = match alert.severity.as_str() {
                "critical" | "high" => "31",
                "medium" => "33",
                _ => "36",
            };
            format!("\x1b[{code}m{severity}\x1b[0m")
        } else {
            severity
        };
        let entities: Vec<String> = alert
            .entities
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(
            out,
            "{severity}  {}  {}  [{}]",
            alert.title.get(lang),
            entities.join(" "),
            alert.rule_id
        );
        let _ = writeln!(
            out,
            "    {} {} – {}, {} {}, ATT&CK {}",
            text::get(lang, "seen"),
            alert.first_seen(),
            alert.last_seen(),
            alert.count,
            text::get(lang, "events"),
            alert.attack.join(", ")
        );
        let _ = writeln!(out, "    → {}", alert.response.get(lang));
    }
    let _ = writeln!(
        out,
        "{}",
        text::format(
            lang,
            "detect_summary",
            &[
                ("alerts", &run.alerts.len()),
                ("events", &run.events),
                ("duplicates", &run.duplicates),
                ("quarantined", &run.quarantined.len()),
            ]
        )
    );
    out
}

fn severity_label(alert: &Alert, lang: Lang) -> String {
    let key = match alert.severity.as_str() {
        "critical" => "sev_critical",
        "high" => "sev_high",
        "medium" => "sev_medium",
        "low" => "sev_low",
        _ => "sev_info",
    };
    text::get(lang, key).to_string()
}
