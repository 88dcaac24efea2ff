//! Compliance-framework views: a framework file lists the framework's requirements and, where a
//! public source states it, the controls that map to each. A view turns an evaluation into one
//! result per requirement, including the requirements no automated control covers.

use crate::PackError;
use mamori_core::framework::{FrameworkView, RequirementResult};
use mamori_core::{Evaluation, Localized, Status};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The framework files compiled into the binary.
pub static BUILTIN_FRAMEWORKS: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../frameworks");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub id: String,
    pub name: Localized,
    pub version: String,
    /// Pack ids the mapping applies to.
    pub packs: Vec<String>,
    /// Where the mapping table comes from.
    pub sources: Vec<Source>,
    pub requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub title: String,
    pub url: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub id: String,
    pub title: Localized,
    #[serde(default)]
    pub controls: Vec<String>,
}

impl Framework {
    /// Parses and validates one framework file; `known` are the control ids of the loaded packs.
    pub fn from_yaml(
        name: &str,
        text: &str,
        known: &BTreeSet<String>,
    ) -> Result<Framework, PackError> {
        let invalid = |field: Option<String>, message: String| PackError::Invalid {
            file: name.to_string(),
            control: None,
            field,
            message,
        };
        let f: Framework =
            serde_norway::from_str(text).map_err(|e| invalid(None, e.to_string()))?;
        if f.sources.is_empty() {
            return Err(invalid(
                Some("sources".into()),
                "a mapping must cite at least one public source".into(),
            ));
        }
        let mut seen = BTreeSet::new();
        for r in &f.requirements {
            if !seen.insert(r.id.clone()) {
                return Err(invalid(
                    Some(format!("requirements.{}", r.id)),
                    "duplicate requirement id".into(),
                ));
            }
            if !r.title.is_complete() {
                return Err(invalid(
                    Some(format!("requirements.{}.title", r.id)),
                    "needs en and ja".into(),
                ));
            }
            for c in &r.controls {
                if !known.contains(c) {
                    return Err(invalid(
                        Some(format!("requirements.{}.controls", r.id)),
                        format!("unknown control {c}"),
                    ));
                }
            }
        }
        Ok(f)
    }

    /// Applies the framework to an evaluation: a requirement takes the worst status of its
    /// mapped controls (fail, error, warning, manual, pass); omitted and not-applicable controls
    /// count only when nothing else is mapped.
    pub fn view(&self, evaluation: &Evaluation) -> FrameworkView {
        let requirements = self
            .requirements
            .iter()
            .map(|req| {
                let controls: Vec<(String, Status)> = req
                    .controls
                    .iter()
                    .filter_map(|id| {
                        evaluation
                            .results
                            .iter()
                            .find(|r| &r.id == id)
                            .map(|r| (id.clone(), r.status))
                    })
                    .collect();
                RequirementResult {
                    id: req.id.clone(),
                    title: req.title.clone(),
                    status: worst(controls.iter().map(|c| c.1)),
                    controls,
                }
            })
            .collect();
        FrameworkView {
            framework: self.id.clone(),
            name: self.name.clone(),
            requirements,
        }
    }
}

fn rank(s: Status) -> u8 {
    match s {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Warning => 2,
        Status::Manual => 3,
        Status::Pass => 4,
        Status::Omitted => 5,
        Status::NotApplicable => 6,
    }
}

fn worst(statuses: impl Iterator<Item = Status>) -> Option<Status> {
    statuses.min_by_key(|s| rank(*s))
}

/// Every built-in framework, validated against the control ids of the loaded packs.
pub fn builtin_frameworks(known: &BTreeSet<String>) -> Result<Vec<Framework>, PackError> {
    let mut out = Vec::new();
    for file in BUILTIN_FRAMEWORKS.files() {
        let path = file.path();
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            continue;
        }
        let name = format!("builtin:frameworks/{}", path.display());
        let text = file.contents_utf8().ok_or_else(|| PackError::Io {
            path: path.to_owned(),
            message: "not UTF-8".into(),
        })?;
        out.push(Framework::from_yaml(&name, text, known)?);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_core::{ControlResult, Criticality, Severity};

    fn result(id: &str, status: Status) -> ControlResult {
        ControlResult {
            id: id.into(),
            pack: "p".into(),
            product: "x".into(),
            product_name: Localized::new("X", "X"),
            title: Localized::new("t", "t"),
            status,
            requirement_met: status == Status::Pass,
            criticality: Criticality::Shall,
            severity: Severity::High,
            details: Localized::new("d", "d"),
            resources: vec![],
            remediation: Localized::new("r", "r"),
            references: vec![],
        }
    }

    const YAML: &str = r#"
id: demo
name: {en: Demo framework, ja: デモ}
version: "1"
packs: [p]
sources: [{title: Public crosswalk, url: "https://example.org"}]
requirements:
  - {id: "1", title: {en: One, ja: 一}, controls: [A, B]}
  - {id: "2", title: {en: Two, ja: 二}, controls: [C]}
  - {id: "3", title: {en: Three, ja: 三}, controls: []}
  - {id: "4", title: {en: Four, ja: 四}, controls: [D, E]}
"#;

    fn known() -> BTreeSet<String> {
        ["A", "B", "C", "D", "E"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn worst_status_wins_and_uncovered_requirements_are_named() {
        let f = Framework::from_yaml("demo.yaml", YAML, &known()).unwrap();
        let e = Evaluation {
            source: "s".into(),
            frameworks: Vec::new(),
            results: vec![
                result("A", Status::Pass),
                result("B", Status::Fail),
                result("C", Status::Pass),
                result("D", Status::Omitted),
                result("E", Status::Pass),
            ],
        };
        let v = f.view(&e);
        let status: Vec<Option<Status>> = v.requirements.iter().map(|r| r.status).collect();
        assert_eq!(
            status,
            vec![
                Some(Status::Fail),
                Some(Status::Pass),
                None,
                Some(Status::Pass)
            ]
        );
        assert_eq!(v.count(None), 1);
    }

    #[test]
    fn unknown_controls_and_missing_sources_are_refused() {
        let err = Framework::from_yaml("demo.yaml", YAML, &BTreeSet::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown control A") && err.contains("demo.yaml"),
            "{err}"
        );
        let no_sources = YAML.replace(
            r#"sources: [{title: Public crosswalk, url: "https://example.org"}]"#,
            "sources: []",
        );
        let err = Framework::from_yaml("demo.yaml", &no_sources, &known())
            .unwrap_err()
            .to_string();
        assert!(err.contains("public source"), "{err}");
    }
}
