//! The one output path of the commands that evaluate (`evaluate`, `scan`, `demo`): render the
//! evaluations in the chosen format and language, write them to a file (atomically) or to
//! standard output, and turn the outcome into the exit code.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use mamori_core::{Evaluation, Lang};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Exit codes everywhere: 0 nothing fails, 1 findings (a control's requirement is not met, a
/// section was not collected, a pack test fails), 2 the tool failed.
pub const EXIT_CLEAN: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_TOOL_ERROR: u8 = 2;

#[derive(Clone, Copy, ValueEnum, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Html,
    /// One OCSF Compliance Finding (class 2003) per control per line.
    Ocsf,
}

/// Where and how a report is written; shared by `evaluate` and `scan`.
#[derive(Args, Clone, Debug)]
pub struct ReportArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Report language [default: MAMORI_LANG, else ja when the locale is Japanese, else en].
    #[arg(long)]
    pub lang: Option<Lang>,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Never colour the table.
    #[arg(long)]
    pub no_color: bool,
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

/// The report in `format`.
pub fn render(
    evaluations: &[Evaluation],
    format: Format,
    lang: Lang,
    colour: bool,
) -> Result<String> {
    Ok(match format {
        Format::Table => mamori_report::render_table(evaluations, lang, colour),
        Format::Json => mamori_report::render_json_lines(evaluations, lang)?,
        Format::Csv => mamori_report::render_csv(evaluations, lang)?,
        Format::Html => mamori_report::render_html(evaluations, lang, &now_text())?,
        Format::Ocsf => {
            mamori_report::render_ocsf(evaluations, lang, jiff::Timestamp::now().as_millisecond())
        }
    })
}

impl ReportArgs {
    /// Renders and writes the report; returns the exit code for these evaluations, with
    /// `tool_errors` inputs that could not be evaluated at all.
    pub fn finish(
        &self,
        evaluations: &[Evaluation],
        tool_errors: usize,
        quiet: bool,
    ) -> Result<u8> {
        let lang = resolve_lang(self.lang);
        let colour = !self.no_color
            && self.out.is_none()
            && std::env::var_os("NO_COLOR").is_none()
            && std::io::stdout().is_terminal();
        let body = render(evaluations, self.format, lang, colour)?;
        match &self.out {
            Some(path) => {
                write_atomically(path, body.as_bytes())?;
                if !quiet {
                    eprintln!(
                        "mamori: {} {}",
                        crate::text::get(lang, "wrote"),
                        path.display()
                    );
                }
            }
            None => write_stdout(body.as_bytes())?,
        }
        Ok(exit_code(evaluations, tool_errors))
    }
}

/// Whether an evaluation judged nothing: no control at all, or every control `error`.
pub fn judged_nothing(evaluation: &Evaluation) -> bool {
    evaluation
        .results
        .iter()
        .all(|r| r.status == mamori_core::Status::Error)
}

/// 2 when an input could not be evaluated, else 1 when a requirement is not met, else 0.
pub fn exit_code(evaluations: &[Evaluation], tool_errors: usize) -> u8 {
    if tool_errors > 0 {
        EXIT_TOOL_ERROR
    } else if evaluations.iter().any(Evaluation::has_failures) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// Writes to standard output; a closed pipe (`| head`) is not an error worth a message.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|_| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e).context("writing to standard output");
        }
    }
    Ok(())
}

pub fn now_text() -> String {
    jiff::Zoned::now()
        .strftime("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// Writes to a temporary file beside `path`, then renames, so no half-written report remains.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(mamori_core::snapshot::write_atomically(path, bytes)?)
}
