//! Domain types shared by every Mamori crate.

pub mod framework;
pub mod snapshot;

use serde::{Deserialize, Serialize};
use std::fmt;
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

/// The outcome of one control on one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fail,
    Error,
    Warning,
    Manual,
    Omitted,
    NotApplicable,
    Pass,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Fail,
        Status::Error,
        Status::Warning,
        Status::Manual,
        Status::Omitted,
        Status::NotApplicable,
        Status::Pass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warning => "warning",
            Status::Manual => "manual",
            Status::NotApplicable => "not_applicable",
            Status::Error => "error",
            Status::Omitted => "omitted",
        }
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

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SCuBA criticality: a `shall` is mandatory, a `should` is a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Shall,
    Should,
}

impl Criticality {
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Shall => "shall",
            Criticality::Should => "should",
        }
    }
}

/// Mamori's own risk rating, independent of the SCuBA criticality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
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

    pub fn has_failures(&self) -> bool {
        self.results.iter().any(|r| r.status == Status::Fail)
    }
}
