//! One self-contained HTML file: inline CSS and script, no network fetches.

use crate::{failing, ReportError, Words};
use mamori_core::{ControlResult, Evaluation, Lang, Status};
use minijinja::{context, Environment};
use serde::Serialize;

const TEMPLATE: &str = include_str!("report.html.j2");

#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    product: &'a str,
    product_name: &'a str,
    title: &'a str,
    status: &'static str,
    status_label: &'static str,
    criticality: &'static str,
    severity: &'static str,
    severity_label: &'static str,
    details: &'a str,
    remediation: &'a str,
    resources: &'a [String],
    references: &'a [String],
}

#[derive(Serialize)]
struct ProductSummary<'a> {
    id: &'a str,
    name: &'a str,
    counts: Vec<(&'static str, &'static str, usize)>,
    total: usize,
    score: u32,
}

#[derive(Serialize)]
struct FrameworkRow<'a> {
    id: &'a str,
    title: &'a str,
    status: &'static str,
    status_label: &'static str,
    controls: Vec<(&'a str, &'static str, &'static str)>,
}

#[derive(Serialize)]
struct FrameworkTab<'a> {
    index: usize,
    name: &'a str,
    rows: Vec<FrameworkRow<'a>>,
    not_covered: usize,
}

#[derive(Serialize)]
struct Input<'a> {
    frameworks: Vec<FrameworkTab<'a>>,
    index: usize,
    source: &'a str,
    products: Vec<ProductSummary<'a>>,
    failing: Vec<Row<'a>>,
    rows: Vec<Row<'a>>,
    counts: Vec<(&'static str, &'static str, usize)>,
}

fn row<'a>(r: &'a ControlResult, lang: Lang, c: &Words) -> Row<'a> {
    Row {
        id: &r.id,
        product: &r.product,
        product_name: r.product_name.get(lang),
        title: r.title.get(lang),
        status: r.status.as_str(),
        status_label: r.status.label(lang),
        criticality: c.criticality_label(r.criticality),
        severity: r.severity.as_str(),
        severity_label: r.severity.label(lang),
        details: r.details.get(lang),
        remediation: r.remediation.get(lang),
        resources: &r.resources,
        references: &r.references,
    }
}

fn counts<'a>(
    results: impl Iterator<Item = &'a ControlResult> + Clone,
    lang: Lang,
) -> Vec<(&'static str, &'static str, usize)> {
    Status::ALL
        .iter()
        .map(|s| {
            (
                s.as_str(),
                s.label(lang),
                results.clone().filter(|r| r.status == *s).count(),
            )
        })
        .collect()
}

/// Share of judged controls (pass, fail, warning) that pass, as a whole percentage.
fn score<'a>(results: impl Iterator<Item = &'a ControlResult>) -> u32 {
    let (mut pass, mut judged) = (0u32, 0u32);
    for r in results {
        match r.status {
            Status::Pass => {
                pass += 1;
                judged += 1
            }
            Status::Fail | Status::Warning => judged += 1,
            _ => {}
        }
    }
    // Nothing judged: nothing is known to fail.
    (pass * 100 + judged / 2).checked_div(judged).unwrap_or(100)
}

/// One threat alert as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportAlert {
    pub tenant: String,
    pub rule_id: String,
    pub title: mamori_core::Localized,
    /// Mamori's severity (`critical` … `info`).
    pub severity: String,
    pub first_seen: String,
    pub last_seen: String,
    pub count: u64,
    /// `name=value`, space-separated.
    pub entities: String,
    pub response: mamori_core::Localized,
}

/// The report's threat section: what was read and what it raised. Sources that could not be
/// read are listed as not collected — never shown as "no alerts".
#[derive(Debug, Clone, Default)]
pub struct ThreatSection {
    pub events: usize,
    pub alerts: Vec<ReportAlert>,
    /// (source, why it was not collected).
    pub missing: Vec<(String, String)>,
}

#[derive(Serialize)]
struct AlertRow<'a> {
    tenant: &'a str,
    rule_id: &'a str,
    title: &'a str,
    severity: &'a str,
    severity_label: &'static str,
    first_seen: &'a str,
    last_seen: &'a str,
    count: u64,
    entities: &'a str,
    response: &'a str,
}

/// Renders the HTML report; `generated` is the timestamp shown in the header.
pub fn render_html(
    evaluations: &[Evaluation],
    lang: Lang,
    generated: &str,
) -> Result<String, ReportError> {
    render_html_with_threats(evaluations, None, lang, generated)
}

/// [`render_html`] with a section of threat alerts from the tenants' audit logs.
pub fn render_html_with_threats(
    evaluations: &[Evaluation],
    threats: Option<&ThreatSection>,
    lang: Lang,
    generated: &str,
) -> Result<String, ReportError> {
    let c = Words::new(lang);
    let inputs: Vec<Input> = evaluations
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let mut products: Vec<ProductSummary> = Vec::new();
            for r in &e.results {
                if products.iter().any(|p| p.id == r.product) {
                    continue;
                }
                let of_product = e.results.iter().filter(|x| x.product == r.product);
                products.push(ProductSummary {
                    id: &r.product,
                    name: r.product_name.get(lang),
                    // Only the statuses that occur: the card lists them joined by dots.
                    counts: counts(of_product.clone(), lang)
                        .into_iter()
                        .filter(|c| c.2 > 0)
                        .collect(),
                    total: of_product.clone().count(),
                    score: score(of_product),
                });
            }
            let frameworks = e
                .frameworks
                .iter()
                .enumerate()
                .map(|(i, v)| FrameworkTab {
                    index: i,
                    name: v.name.get(lang),
                    not_covered: v.count(None),
                    rows: v
                        .requirements
                        .iter()
                        .map(|r| FrameworkRow {
                            id: &r.id,
                            title: r.title.get(lang),
                            status: r.status.map(|s| s.as_str()).unwrap_or("not_covered"),
                            status_label: r
                                .status
                                .map(|s| s.label(lang))
                                .unwrap_or(c.get("not_covered")),
                            controls: r
                                .controls
                                .iter()
                                .map(|(id, st)| (id.as_str(), st.as_str(), st.label(lang)))
                                .collect(),
                        })
                        .collect(),
                })
                .collect();
            Input {
                frameworks,
                index,
                source: &e.source,
                products,
                failing: failing(e).into_iter().map(|r| row(r, lang, &c)).collect(),
                rows: e.results.iter().map(|r| row(r, lang, &c)).collect(),
                counts: counts(e.results.iter(), lang),
            }
        })
        .collect();
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)?;
    let html = env.get_template("report.html")?.render(context! {
        c => c.all(),
        inputs => inputs,
        generated => generated,
        threats => threats.map(|t| context! {
            summary => crate::REPORT.format(
                lang,
                "threats_summary",
                &[("alerts", &t.alerts.len()), ("events", &t.events)],
            ),
            missing => t.missing,
            alerts => t.alerts.iter().map(|a| AlertRow {
                tenant: &a.tenant,
                rule_id: &a.rule_id,
                title: a.title.get(lang),
                severity: &a.severity,
                severity_label: a
                    .severity
                    .parse::<mamori_core::Severity>()
                    .map(|s| s.label(lang))
                    .unwrap_or("-"),
                first_seen: &a.first_seen,
                last_seen: &a.last_seen,
                count: a.count,
                entities: &a.entities,
                response: a.response.get(lang),
            }).collect::<Vec<_>>(),
        }),
    })?;
    Ok(html)
}
