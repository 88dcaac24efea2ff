//! Report renderers. Each takes evaluations and a language and returns the document as a string.

mod html;
mod i18n;
pub mod ocsf;
mod table;

pub use html::{render_html, render_html_with_threats, ReportAlert, ThreatSection};
pub use i18n::{Words, REPORT};
pub use table::{display_width, render_table};

use mamori_core::{ControlResult, Evaluation, Lang, Status};
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ReportError {
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("template: {0:#}")]
    Template(#[from] minijinja::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

#[derive(Serialize)]
struct JsonControl<'a> {
    id: &'a str,
    product: &'a str,
    title: &'a str,
    status: Status,
    requirement_met: bool,
    criticality: &'static str,
    severity: &'static str,
    details: &'a str,
    resources: &'a [String],
    remediation: &'a str,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    source: &'a str,
    controls: Vec<JsonControl<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    frameworks: Vec<JsonFramework<'a>>,
}

#[derive(Serialize)]
struct JsonFramework<'a> {
    framework: &'a str,
    name: &'a str,
    requirements: Vec<JsonRequirement<'a>>,
}

#[derive(Serialize)]
struct JsonRequirement<'a> {
    id: &'a str,
    title: &'a str,
    /// null when no automated control covers the requirement.
    status: Option<Status>,
    controls: Vec<&'a str>,
}

/// One JSON object (one line, no trailing newline) for one input.
pub fn render_json_line(evaluation: &Evaluation, lang: Lang) -> Result<String, ReportError> {
    let line = JsonLine {
        source: &evaluation.source,
        controls: evaluation
            .results
            .iter()
            .map(|r| JsonControl {
                id: &r.id,
                product: &r.product,
                title: r.title.get(lang),
                status: r.status,
                requirement_met: r.requirement_met,
                criticality: r.criticality.as_str(),
                severity: r.severity.as_str(),
                details: r.details.get(lang),
                resources: &r.resources,
                remediation: r.remediation.get(lang),
            })
            .collect(),
        frameworks: evaluation
            .frameworks
            .iter()
            .map(|v| JsonFramework {
                framework: &v.framework,
                name: v.name.get(lang),
                requirements: v
                    .requirements
                    .iter()
                    .map(|r| JsonRequirement {
                        id: &r.id,
                        title: r.title.get(lang),
                        status: r.status,
                        controls: r.controls.iter().map(|(id, _)| id.as_str()).collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    Ok(serde_json::to_string(&line)?)
}

/// JSON Lines for many inputs, one line each.
pub use ocsf::render_ocsf;

pub fn render_json_lines(evaluations: &[Evaluation], lang: Lang) -> Result<String, ReportError> {
    let mut out = String::new();
    for e in evaluations {
        out.push_str(&render_json_line(e, lang)?);
        out.push('\n');
    }
    Ok(out)
}

/// A cell a spreadsheet will not run as a formula: details quote tenant-controlled names (users,
/// groups, domains), so a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets
/// a leading `'` (OWASP's advice for CSV injection); the text stays readable.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// The action plan: one row per failing control, with empty columns for the customer to
/// assign an owner, a due date and a justification.
pub fn render_csv(evaluations: &[Evaluation], lang: Lang) -> Result<String, ReportError> {
    let c = Words::new(lang);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        c.get("source"),
        c.get("control_id"),
        c.get("product"),
        c.get("title"),
        c.get("criticality"),
        c.get("severity"),
        c.get("status"),
        c.get("details"),
        c.get("remediation"),
        c.get("owner"),
        c.get("due_date"),
        c.get("justification"),
    ])?;
    for e in evaluations {
        for r in failing(e) {
            w.write_record(
                [
                    e.source.as_str(),
                    r.id.as_str(),
                    r.product_name.get(lang),
                    r.title.get(lang),
                    c.criticality_label(r.criticality),
                    r.severity.label(lang),
                    r.status.label(lang),
                    r.details.get(lang),
                    r.remediation.get(lang),
                    "",
                    "",
                    "",
                ]
                .map(spreadsheet_safe)
                .iter()
                .map(|cell| cell.as_bytes()),
            )?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    // A BOM makes Excel open the Japanese text as UTF-8.
    let mut out = String::from("\u{feff}");
    out.push_str(&String::from_utf8_lossy(&bytes));
    Ok(out)
}

/// Failing controls, most severe first.
pub fn failing(e: &Evaluation) -> Vec<&ControlResult> {
    let mut v: Vec<&ControlResult> = e
        .results
        .iter()
        .filter(|r| r.status == Status::Fail)
        .collect();
    v.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.id.cmp(&b.id)));
    v
}

#[cfg(test)]
mod csv_tests {
    use super::spreadsheet_safe;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_quoted() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(spreadsheet_safe(formula), format!("'{formula}"));
        }
        for plain in ["", "Users without MFA: 3", "管理者 = 2", "a-b"] {
            assert_eq!(spreadsheet_safe(plain), plain);
        }
    }
}
