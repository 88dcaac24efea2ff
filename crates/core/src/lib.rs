//! Domain types shared by every Mamori crate.

pub mod framework;
pub mod i18n;
pub mod json_scan;
pub mod snapshot;
pub mod vocab;

#[doc(hidden)]
pub use serde as __serde;

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A user-facing language. Every user-facing string exists in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ja" | "jp" | "japanese" => Ok(Lang::Ja),
            "en" | "english" => Ok(Lang::En),
            other => Err(format!("unknown language {other:?} (expected ja or en)")),
        }
    }
}

/// Text in both user-facing languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Localized {
    pub en: String,
    pub ja: String,
}

impl Localized {
    pub fn new(en: impl Into<String>, ja: impl Into<String>) -> Self {
        Localized {
            en: en.into(),
            ja: ja.into(),
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }

    pub fn is_complete(&self) -> bool {
        !self.en.trim().is_empty() && !self.ja.trim().is_empty()
    }
}

text_enum! {
    /// The outcome of one control on one snapshot. Ordered worst first, so sorting puts
    /// failures on top.
    #[derive(PartialOrd, Ord)]
    pub enum Status("status") {
        Fail = "fail",
        Error = "error",
        Warning = "warning",
        Manual = "manual",
        Omitted = "omitted",
        NotApplicable = "not_applicable",
        Pass = "pass",
    }
}

impl Status {
    /// Whether the requirement is not met: `fail` (a `shall`) and `warning` (a `should`).
    ///
    /// This is the one rule for warnings, used everywhere: a warning opens a finding like a
    /// failure, counts against the score, and makes the CLI exit 1 ("findings"). Its lower
    /// weight shows in the severity and criticality, not in whether it is reported.
    /// `error` is not failing: it is missing data, reported as such (never as `pass`).
    pub fn is_failing(self) -> bool {
        matches!(self, Status::Fail | Status::Warning)
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Status::Pass, Lang::En) => "Pass",
            (Status::Fail, Lang::En) => "Fail",
            (Status::Warning, Lang::En) => "Warning",
            (Status::Manual, Lang::En) => "Manual check",
            (Status::NotApplicable, Lang::En) => "N/A",
            (Status::Error, Lang::En) => "Error",
            (Status::Omitted, Lang::En) => "Omitted",
            (Status::Pass, Lang::Ja) => "合格",
            (Status::Fail, Lang::Ja) => "不合格",
            (Status::Warning, Lang::Ja) => "警告",
            (Status::Manual, Lang::Ja) => "手動確認",
            (Status::NotApplicable, Lang::Ja) => "対象外",
            (Status::Error, Lang::Ja) => "エラー",
            (Status::Omitted, Lang::Ja) => "除外",
        }
    }
}

text_enum! {
    /// An audit-log source Mamori reads for threat detection; its text is the `--source` of
    /// `mamori detect`, the push-ingest path segment and the stored form.
    #[derive(PartialOrd, Ord)]
    pub enum LogSource("log source") {
        M365 = "m365",
        EntraSignin = "entra-signin",
        EntraAudit = "entra-audit",
        Gws = "gws",
    }
}

impl LogSource {
    /// The application whose configuration (credentials) the source is read with.
    pub fn app(self) -> App {
        match self {
            LogSource::Gws => App::Gws,
            LogSource::M365 | LogSource::EntraSignin | LogSource::EntraAudit => App::M365,
        }
    }

    /// The sources read with an application's credentials.
    pub fn of_app(app: App) -> Vec<LogSource> {
        LogSource::ALL
            .iter()
            .copied()
            .filter(|s| s.app() == app)
            .collect()
    }
}

text_enum! {
    /// SCuBA criticality: a `shall` is mandatory, a `should` is a recommendation.
    pub enum Criticality("criticality") {
        Shall = "shall",
        Should = "should",
    }
}

text_enum! {
    /// Mamori's own risk rating, independent of the SCuBA criticality. Ordered worst first.
    #[derive(PartialOrd, Ord)]
    pub enum Severity("severity") {
        Critical = "critical",
        High = "high",
        Medium = "medium",
        Low = "low",
        Info = "info",
    }
}

impl Severity {
    /// OCSF `severity_id` and its caption: 1 Informational … 5 Critical.
    pub fn ocsf(self) -> (u32, &'static str) {
        match self {
            Severity::Info => (1, "Informational"),
            Severity::Low => (2, "Low"),
            Severity::Medium => (3, "Medium"),
            Severity::High => (4, "High"),
            Severity::Critical => (5, "Critical"),
        }
    }

    /// Sort rank, worst first: critical 0, high 1, medium 2, low 3, info 4 (stored beside the
    /// text so listings order by an index).
    pub fn rank(self) -> i64 {
        self as i64
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Severity::Critical, Lang::En) => "Critical",
            (Severity::High, Lang::En) => "High",
            (Severity::Medium, Lang::En) => "Medium",
            (Severity::Low, Lang::En) => "Low",
            (Severity::Info, Lang::En) => "Info",
            (Severity::Critical, Lang::Ja) => "緊急",
            (Severity::High, Lang::Ja) => "高",
            (Severity::Medium, Lang::Ja) => "中",
            (Severity::Low, Lang::Ja) => "低",
            (Severity::Info, Lang::Ja) => "情報",
        }
    }
}

/// The evaluated result of one control, with the metadata a report needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResult {
    pub id: String,
    pub pack: String,
    pub product: String,
    pub product_name: Localized,
    pub title: Localized,
    pub status: Status,
    /// The rule's verdict on the data present, with the reference semantics.
    pub requirement_met: bool,
    pub criticality: Criticality,
    pub severity: Severity,
    pub details: Localized,
    /// Offending resources (policy names, users, domains…), when the rule names them.
    pub resources: Vec<String>,
    pub remediation: Localized,
    pub references: Vec<String>,
}

/// All control results for one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub source: String,
    pub results: Vec<ControlResult>,
    /// Compliance-framework views of these results, when asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<framework::FrameworkView>,
}

impl Evaluation {
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// Whether any control's requirement is not met ([`Status::is_failing`]).
    pub fn has_failures(&self) -> bool {
        self.results.iter().any(|r| r.status.is_failing())
    }
}

text_enum! {
    /// A SaaS application Mamori collects and evaluates. Adding one starts here; the
    /// connector registry (`mamori_connect::AppConfig`) and the packs follow.
    pub enum App("application") {
        M365 = "m365",
        Gws = "gws",
    }
}

impl App {
    /// The product name, the same in both languages.
    pub fn label(self) -> &'static str {
        match self {
            App::M365 => "Microsoft 365",
            App::Gws => "Google Workspace",
        }
    }

    /// The provider schema its snapshots' data follows.
    pub fn schema(self) -> snapshot::SourceKind {
        match self {
            App::M365 => snapshot::SourceKind::Scubagear,
            App::Gws => snapshot::SourceKind::Scubagoggles,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_and_failing_rule() {
        assert_eq!(Severity::Critical.rank(), 0);
        assert_eq!(Severity::Info.rank(), 4);
        let failing: Vec<_> = Status::ALL.iter().filter(|s| s.is_failing()).collect();
        assert_eq!(failing, [&Status::Fail, &Status::Warning]);
        assert_eq!(
            "not_applicable".parse::<Status>().unwrap(),
            Status::NotApplicable
        );
        assert_eq!(serde_json::to_string(&Severity::High).unwrap(), "\"high\"");
    }
}
