//! `mamori packs`: list, show and test policy packs, and compare them with a conformance corpus.

use crate::output::{resolve_lang, EXIT_FINDINGS};
use crate::PackArgs;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use mamori_core::snapshot::SourceKind;
use mamori_core::Lang;
use mamori_policy::{conformance, testcase, Engine};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PacksCommand {
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

/// Every built-in framework, checked against the loaded packs' control ids.
fn frameworks(engine: &Engine) -> Result<Vec<mamori_policy::Framework>> {
    let known = engine
        .packs()
        .iter()
        .flat_map(|p| p.controls().map(|(_, c)| c.id.clone()))
        .collect();
    Ok(mamori_policy::framework::builtin_frameworks(&known)?)
}

pub fn find_framework(engine: &Engine, id: &str) -> Result<mamori_policy::Framework> {
    let all = frameworks(engine)?;
    let names: Vec<String> = all.iter().map(|f| f.id.clone()).collect();
    all.into_iter()
        .find(|f| f.id == id)
        .with_context(|| format!("unknown framework {id:?} (available: {})", names.join(", ")))
}

pub fn run(cmd: PacksCommand) -> Result<u8> {
    match cmd {
        PacksCommand::List { packs } => {
            let engine = crate::load_engine(&packs)?;
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
            print!("{}", crate::permissions::table(&pack)?);
            Ok(0)
        }
        PacksCommand::Show { id, lang, packs } => {
            let lang = resolve_lang(lang);
            let engine = crate::load_engine(&packs)?;
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
            let engine = crate::load_engine(&packs)?;
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
            let engine = crate::load_engine(&packs)?;
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
