//! Sigma rules: Mamori's own (embedded from `rules/`, their metadata validated at load) and any
//! folder an operator adds; which source each rule reads; field-name mappings for rules written
//! for other log schemas.

use crate::error::DetectError;
use crate::source::Source;
use mamori_core::Localized;
use rsigma_parser::{CorrelationRule, LogSource, SigmaCollection, SigmaRule};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub static BUILTIN_RULES: include_dir::Dir<'static> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/../../rules");

/// What an alert says about the rule that raised it.
#[derive(Debug, Clone)]
pub struct RuleMeta {
    /// Stable id shown in alerts: the rule's `name` (Mamori's rules: `mamori.<source>.<what>`),
    /// else its Sigma `id`, else its title.
    pub rule_id: String,
    pub title: Localized,
    pub response: Localized,
    /// Sigma level: informational, low, medium, high, critical.
    pub severity: String,
    /// ATT&CK technique ids (`T1110.003`) from the `attack.t…` tags.
    pub attack: Vec<String>,
    /// Where it came from: `builtin` or the folder it was read from.
    pub origin: String,
    pub correlation: bool,
    /// A detection rule that raises alerts of its own (not only feeding a correlation that
    /// does not `generate` them).
    pub alerts_alone: bool,
    /// Event fields naming the entity an alert is about (deduplication key); for correlations
    /// their `group-by`.
    pub entity_fields: Vec<String>,
}

/// Rules of one origin, parsed.
#[derive(Debug)]
struct Loaded {
    origin: String,
    builtin: bool,
    collection: SigmaCollection,
}

/// A set of rules ready to be compiled into detectors.
#[derive(Debug, Default)]
pub struct RuleSet {
    loaded: Vec<Loaded>,
    /// Rules (by title) that read no source Mamori has (e.g. Windows process creation), with
    /// the folder they came from: counted, not errors.
    pub not_applicable: Vec<(String, String)>,
}

/// Per-rule attributes Mamori reads (Sigma allows custom top-level attributes).
const TITLE_JA: &str = "title_ja";
const RESPONSE_EN: &str = "response_en";
const RESPONSE_JA: &str = "response_ja";
const ENTITY: &str = "entity";

impl RuleSet {
    /// Mamori's own rules, validated: a malformed built-in rule is a build defect.
    pub fn builtin() -> Result<Self, DetectError> {
        let mut set = RuleSet::default();
        let mut collection = SigmaCollection::new();
        let mut files = Vec::new();
        collect_embedded(&BUILTIN_RULES, &mut files);
        files.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, text) in files {
            let parsed = rsigma_parser::parse_sigma_yaml(text).map_err(|e| DetectError::Rule {
                origin: format!("builtin {path}"),
                reason: e.to_string(),
            })?;
            if let Some(error) = parsed.errors.first() {
                return Err(DetectError::Rule {
                    origin: format!("builtin {path}"),
                    reason: error.clone(),
                });
            }
            for rule in &parsed.rules {
                validate_builtin_rule(&path, rule)?;
            }
            for corr in &parsed.correlations {
                validate_builtin_correlation(&path, corr)?;
            }
            collection.rules.extend(parsed.rules);
            collection.correlations.extend(parsed.correlations);
            collection.filters.extend(parsed.filters);
        }
        set.push("builtin".into(), true, collection)?;
        Ok(set)
    }

    /// Adds every `*.yml` / `*.yaml` under `dir` (for example a checkout of a public rule
    /// repository). Rules for logs Mamori does not read are counted in `not_applicable`; a file
    /// that is not Sigma is an error naming it.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), DetectError> {
        if !dir.is_dir() {
            return Err(DetectError::Rule {
                origin: dir.display().to_string(),
                reason: "not a folder".into(),
            });
        }
        let mut files = Vec::new();
        rule_files(dir, &mut files).map_err(|e| DetectError::Rule {
            origin: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        files.sort();
        let mut collection = SigmaCollection::new();
        let mut errors = Vec::new();
        for file in &files {
            match rsigma_parser::parse_sigma_file(file) {
                Ok(parsed) => {
                    errors.extend(
                        parsed
                            .errors
                            .iter()
                            .map(|e| format!("{}: {e}", file.display())),
                    );
                    collection.rules.extend(parsed.rules);
                    collection.correlations.extend(parsed.correlations);
                    collection.filters.extend(parsed.filters);
                }
                Err(e) => errors.push(format!("{}: {e}", file.display())),
            }
        }
        if let Some(error) = errors.first() {
            return Err(DetectError::Rule {
                origin: dir.display().to_string(),
                reason: format!(
                    "{error}{}",
                    if errors.len() > 1 {
                        format!(" (and {} more)", errors.len() - 1)
                    } else {
                        String::new()
                    }
                ),
            });
        }
        self.push(dir.display().to_string(), false, collection)
    }

    fn push(
        &mut self,
        origin: String,
        builtin: bool,
        mut collection: SigmaCollection,
    ) -> Result<(), DetectError> {
        let (keep, skip): (Vec<SigmaRule>, Vec<SigmaRule>) = collection
            .rules
            .into_iter()
            .partition(|r| !sources_of(&r.logsource).is_empty());
        self.not_applicable
            .extend(skip.into_iter().map(|r| (r.title, origin.clone())));
        collection.rules = keep;
        let known: BTreeSet<String> = collection
            .rules
            .iter()
            .flat_map(|r| r.name.iter().chain(r.id.iter()).cloned())
            .collect();
        // A correlation over rules that were not kept cannot fire here.
        let (keep, skip): (Vec<CorrelationRule>, Vec<CorrelationRule>) = collection
            .correlations
            .into_iter()
            .partition(|c| c.rules.iter().all(|r| known.contains(r)));
        if builtin {
            if let Some(c) = skip.first() {
                return Err(DetectError::Rule {
                    origin: format!("builtin correlation {:?}", c.title),
                    reason: format!("refers to rules not in the set: {:?}", c.rules),
                });
            }
        }
        self.not_applicable
            .extend(skip.into_iter().map(|c| (c.title, origin.clone())));
        collection.correlations = keep;
        self.loaded.push(Loaded {
            origin,
            builtin,
            collection,
        });
        Ok(())
    }

    /// Whether Mamori's own rules are in the set (the stateful detections come with them).
    pub fn has_builtin(&self) -> bool {
        self.loaded.iter().any(|l| l.builtin)
    }

    pub fn rule_count(&self) -> usize {
        self.loaded
            .iter()
            .map(|l| l.collection.rules.len() + l.collection.correlations.len())
            .sum()
    }

    /// The rules (and correlations over them) that read `source`, as one collection.
    pub fn collection_for(&self, source: Source) -> SigmaCollection {
        let mut out = SigmaCollection::new();
        for loaded in &self.loaded {
            let rules: Vec<&SigmaRule> = loaded
                .collection
                .rules
                .iter()
                .filter(|r| sources_of(&r.logsource).contains(&source))
                .collect();
            let names: BTreeSet<&String> = rules
                .iter()
                .flat_map(|r| r.name.iter().chain(r.id.iter()))
                .collect();
            out.rules.extend(rules.into_iter().cloned());
            out.correlations.extend(
                loaded
                    .collection
                    .correlations
                    .iter()
                    .filter(|c| c.rules.iter().all(|r| names.contains(r)))
                    .cloned(),
            );
            out.filters
                .extend(loaded.collection.filters.iter().cloned());
        }
        out
    }

    /// The record members these rules (after Mamori's field-name mappings), the envelope, the
    /// alerts' entities and the stateful detections read: what [`crate::parse_record`] keeps.
    pub fn field_filter(&self) -> crate::FieldFilter {
        let meta = self.metadata();
        let collections: Vec<&SigmaCollection> =
            self.loaded.iter().map(|l| &l.collection).collect();
        crate::FieldFilter::from_parts(
            collections,
            &pipeline_mappings(),
            meta.values().flat_map(|m| &m.entity_fields),
        )
    }

    /// Metadata of every rule, keyed as the evaluator reports them (Sigma id, else title).
    pub(crate) fn metadata(&self) -> BTreeMap<String, RuleMeta> {
        let mut out = BTreeMap::new();
        let fed: BTreeSet<&String> = self
            .loaded
            .iter()
            .flat_map(|l| &l.collection.correlations)
            .filter(|c| !c.generate)
            .flat_map(|c| &c.rules)
            .collect();
        for loaded in &self.loaded {
            for rule in &loaded.collection.rules {
                let key = rule.id.clone().unwrap_or_else(|| rule.title.clone());
                let feeds_only = rule
                    .name
                    .iter()
                    .chain(rule.id.iter())
                    .any(|n| fed.contains(n));
                let mut m = meta(
                    &loaded.origin,
                    rule.name.as_deref(),
                    rule.id.as_deref(),
                    &rule.title,
                    rule.description.as_deref(),
                    rule.level.as_ref().map(|l| format!("{l:?}")),
                    &rule.tags,
                    &rule.custom_attributes,
                    false,
                    string_list(rule.custom_attributes.get(ENTITY)),
                );
                m.alerts_alone = !feeds_only;
                out.insert(key, m);
            }
            for corr in &loaded.collection.correlations {
                let key = corr.id.clone().unwrap_or_else(|| corr.title.clone());
                out.insert(
                    key,
                    meta(
                        &loaded.origin,
                        corr.name.as_deref(),
                        corr.id.as_deref(),
                        &corr.title,
                        corr.description.as_deref(),
                        corr.level.as_ref().map(|l| format!("{l:?}")),
                        &corr.tags,
                        &corr.custom_attributes,
                        true,
                        corr.group_by.clone(),
                    ),
                );
            }
        }
        out
    }

    /// Every rule's metadata, for listings and tests — with the stateful detections when
    /// Mamori's own rules are in the set.
    pub fn rules(&self) -> Vec<RuleMeta> {
        let mut out: Vec<RuleMeta> = self.metadata().into_values().collect();
        if self.has_builtin() {
            out.extend(crate::stateful::catalogue());
        }
        out
    }
}

#[allow(clippy::too_many_arguments)]
fn meta(
    origin: &str,
    name: Option<&str>,
    id: Option<&str>,
    title: &str,
    description: Option<&str>,
    level: Option<String>,
    tags: &[String],
    custom: &std::collections::HashMap<String, yaml_serde::Value>,
    correlation: bool,
    entity_fields: Vec<String>,
) -> RuleMeta {
    let custom_text = |key: &str| custom.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let response_en = custom_text(RESPONSE_EN)
        .or_else(|| description.map(str::to_string))
        .unwrap_or_else(|| "Investigate the events behind this alert.".into());
    RuleMeta {
        rule_id: name
            .or(id)
            .map(str::to_string)
            .unwrap_or_else(|| title.to_string()),
        title: Localized::new(
            title,
            custom_text(TITLE_JA).unwrap_or_else(|| title.to_string()),
        ),
        response: Localized::new(
            response_en.clone(),
            custom_text(RESPONSE_JA).unwrap_or(response_en),
        ),
        severity: level
            .map(|l| l.to_ascii_lowercase())
            .unwrap_or_else(|| "medium".into()),
        attack: attack_techniques(tags),
        origin: origin.to_string(),
        correlation,
        alerts_alone: false,
        entity_fields,
    }
}

fn string_list(v: Option<&yaml_serde::Value>) -> Vec<String> {
    match v {
        Some(v) if v.as_str().is_some() => vec![v.as_str().unwrap_or_default().to_string()],
        Some(v) => v
            .as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// `attack.t1110.003` → `T1110.003`; tactic tags (`attack.credential_access`) are not techniques.
pub fn attack_techniques(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|t| t.strip_prefix("attack."))
        .filter(|t| {
            let mut c = t.chars();
            matches!(c.next(), Some('t' | 'T')) && c.next().is_some_and(|d| d.is_ascii_digit())
        })
        .map(|t| t.to_ascii_uppercase())
        .collect()
}

/// Which of Mamori's sources a rule's logsource reads. Mamori's own rules name
/// `product: m365 | entra | google_workspace`; rules written for the Azure Monitor and Google
/// Cloud exports of the same logs are routed too (their field names mapped, see
/// [`AZURE_PIPELINE`]).
pub fn sources_of(ls: &LogSource) -> Vec<Source> {
    let product = ls.product.as_deref().map(str::to_ascii_lowercase);
    let service = ls.service.as_deref().map(str::to_ascii_lowercase);
    match (product.as_deref(), service.as_deref()) {
        (Some("m365"), _) => vec![Source::M365],
        (Some("entra"), Some("signin")) => vec![Source::EntraSignin],
        (Some("entra"), Some("audit")) => vec![Source::EntraAudit],
        (Some("entra"), None) => vec![Source::EntraSignin, Source::EntraAudit],
        (Some("azure"), Some("signinlogs")) => vec![Source::EntraSignin],
        (Some("azure"), Some("auditlogs")) => vec![Source::EntraAudit],
        (Some("google_workspace"), _) => vec![Source::Gws],
        _ => Vec::new(),
    }
}

/// Field-name mappings for rules written against the Azure Monitor export of Entra ID logs:
/// its names to Microsoft Graph's (the shape Mamori reads).
pub const AZURE_PIPELINE: &str = r#"
name: mamori-azure-monitor-to-graph
priority: 20
transformations:
  - id: azure_signinlogs_fields
    type: field_name_mapping
    mapping:
      ResultType: status.errorCode
      ResultDescription: status.failureReason
      Status.errorCode: status.errorCode
      UserPrincipalName: userPrincipalName
      IPAddress: ipAddress
      AppDisplayName: appDisplayName
      ClientAppUsed: clientAppUsed
      RiskLevelDuringSignIn: riskLevelDuringSignIn
      RiskState: riskState
      AuthenticationRequirement: authenticationRequirement
      ConditionalAccessStatus: conditionalAccessStatus
      Location: location.countryOrRegion
    rule_conditions:
      - type: logsource
        product: azure
        service: signinlogs
  - id: azure_auditlogs_fields
    type: field_name_mapping
    mapping:
      properties.message: activityDisplayName
      OperationName: activityDisplayName
      ActivityDisplayName: activityDisplayName
      Category: category
      LoggedByService: loggedByService
      Result: result
      ResultReason: resultReason
    rule_conditions:
      - type: logsource
        product: azure
        service: auditlogs
"#;

/// Mamori's severity of a Sigma level (`informational` … `critical`); an unknown level is
/// medium.
pub fn severity_of_level(level: &str) -> mamori_core::Severity {
    match level {
        "informational" => mamori_core::Severity::Info,
        other => other.parse().unwrap_or(mamori_core::Severity::Medium),
    }
}

/// The (rule field, event field) pairs of [`AZURE_PIPELINE`].
pub(crate) fn pipeline_mappings() -> Vec<(String, String)> {
    let doc: yaml_serde::Value = yaml_serde::from_str(AZURE_PIPELINE).unwrap_or_default();
    let mut out = Vec::new();
    for t in doc["transformations"].as_sequence().into_iter().flatten() {
        for (from, to) in t["mapping"].as_mapping().into_iter().flatten() {
            if let (Some(from), Some(to)) = (from.as_str(), to.as_str()) {
                out.push((from.to_string(), to.to_string()));
            }
        }
    }
    out
}

/// Every `*.yml` / `*.yaml` under `dir`, following no symbolic link out of it.
fn rule_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            rule_files(&path, out)?;
        } else if kind.is_file()
            && matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml")
            )
        {
            out.push(path);
        }
    }
    Ok(())
}

fn collect_embedded<'a>(dir: &'a include_dir::Dir<'a>, out: &mut Vec<(String, &'a str)>) {
    for file in dir.files() {
        let path = file.path().to_string_lossy().to_string();
        // Test events live beside the rules; only rule files are rules.
        if (path.ends_with(".yml") || path.ends_with(".yaml")) && !path.starts_with("tests/") {
            if let Some(text) = file.contents_utf8() {
                out.push((path, text));
            }
        }
    }
    for sub in dir.dirs() {
        if sub.path().starts_with("tests") {
            continue;
        }
        collect_embedded(sub, out);
    }
}

fn invalid(path: &str, title: &str, reason: impl Into<String>) -> DetectError {
    DetectError::Rule {
        origin: format!("builtin {path} ({title})"),
        reason: reason.into(),
    }
}

fn validate_common(
    path: &str,
    title: &str,
    name: Option<&str>,
    id: Option<&str>,
    level_set: bool,
    tags: &[String],
    custom: &std::collections::HashMap<String, yaml_serde::Value>,
) -> Result<(), DetectError> {
    let Some(name) = name else {
        return Err(invalid(path, title, "no `name` (mamori.<source>.<what>)"));
    };
    if !name.starts_with("mamori.") {
        return Err(invalid(
            path,
            title,
            format!("name {name:?} does not start with `mamori.`"),
        ));
    }
    let Some(id) = id else {
        return Err(invalid(path, title, "no `id` (a UUID)"));
    };
    if id.len() != 36 || id.chars().filter(|c| *c == '-').count() != 4 {
        return Err(invalid(path, title, format!("id {id:?} is not a UUID")));
    }
    if !level_set {
        return Err(invalid(path, title, "no `level`"));
    }
    for key in [TITLE_JA, RESPONSE_EN, RESPONSE_JA] {
        let ok = custom
            .get(key)
            .and_then(|v| v.as_str())
            .is_some_and(|s| !s.trim().is_empty());
        if !ok {
            return Err(invalid(path, title, format!("no `{key}`")));
        }
    }
    let _ = tags;
    Ok(())
}

fn validate_builtin_rule(path: &str, rule: &SigmaRule) -> Result<(), DetectError> {
    // A rule only a correlation uses (`generate: false` there) speaks through the correlation.
    validate_common(
        path,
        &rule.title,
        rule.name.as_deref(),
        rule.id.as_deref(),
        rule.level.is_some(),
        &rule.tags,
        &rule.custom_attributes,
    )?;
    if attack_techniques(&rule.tags).is_empty() {
        return Err(invalid(
            path,
            &rule.title,
            "no ATT&CK technique tag (attack.tNNNN)",
        ));
    }
    if sources_of(&rule.logsource).is_empty() {
        return Err(invalid(
            path,
            &rule.title,
            "logsource names no source Mamori reads (product m365, entra or google_workspace)",
        ));
    }
    Ok(())
}

fn validate_builtin_correlation(path: &str, corr: &CorrelationRule) -> Result<(), DetectError> {
    validate_common(
        path,
        &corr.title,
        corr.name.as_deref(),
        corr.id.as_deref(),
        corr.level.is_some(),
        &corr.tags,
        &corr.custom_attributes,
    )?;
    if attack_techniques(&corr.tags).is_empty() {
        return Err(invalid(
            path,
            &corr.title,
            "no ATT&CK technique tag (attack.tNNNN)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_tags() {
        let tags = vec![
            "attack.credential_access".to_string(),
            "attack.t1110.003".to_string(),
            "attack.T1078".to_string(),
            "cve.2021-1234".to_string(),
        ];
        assert_eq!(attack_techniques(&tags), vec!["T1110.003", "T1078"]);
    }

    #[test]
    fn builtin_rules_load_and_validate() {
        let set = RuleSet::builtin().unwrap();
        assert!(set.rule_count() > 0);
        assert!(set.not_applicable.is_empty(), "{:?}", set.not_applicable);
    }
}
