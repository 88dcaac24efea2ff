//! The `--config` file: a ScubaGear-style YAML (or JSON) document. `OmitPolicy` omits controls
//! with a rationale and an expiry date; product keys (`Aad`, `Defender`, `Exo`, …) are merged into
//! the input's `scuba_config`, where the rules read exclusions such as break-glass accounts.

use crate::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct EvalConfig {
    pub omissions: BTreeMap<String, Omission>,
    /// Merged key by key into `input.scuba_config`; the config file wins.
    pub scuba_config: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Omission {
    #[serde(alias = "Rationale")]
    pub rationale: String,
    /// Last day on which the omission applies; after it the control is evaluated again.
    #[serde(default, alias = "Expiration")]
    pub expiration: Option<jiff::civil::Date>,
}

/// ScubaGear config keys that configure the run itself, not the rules.
const RUN_KEYS: &[&str] = &[
    "Description",
    "ProductNames",
    "M365Environment",
    "Organization",
    "OrgName",
    "OrgUnitName",
    "OutPath",
    "OutFolderName",
    "OutProviderFileName",
    "OutRegoFileName",
    "OutReportName",
    "OutJsonFileName",
    "OutCsvFileName",
    "OutActionPlanFileName",
    "LogIn",
    "DisconnectOnExit",
    "AppID",
    "CertificateThumbprint",
    "KeepIndividualJSON",
    "OPAPath",
    "SkipDoH",
    "PreferredDnsResolvers",
    "NumberOfUUIDCharactersToTruncate",
    "Credentials",
    "customerdomain",
    "subjectemail",
    "outputpath",
];

impl EvalConfig {
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Self::from_yaml_str(&text).map_err(|message| ConfigError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses YAML (JSON is YAML too).
    pub fn from_yaml_str(text: &str) -> Result<Self, String> {
        let doc: serde_json::Value =
            serde_norway::from_str(text).map_err(|e| format!("not valid YAML: {e}"))?;
        let serde_json::Value::Object(map) = doc else {
            return Err("the config must be a mapping of keys to settings".into());
        };
        let mut config = EvalConfig::default();
        for (key, value) in map {
            if key == "OmitPolicy" || key == "omit_policy" {
                config.omissions = serde_json::from_value(value)
                    .map_err(|e| format!("OmitPolicy: each entry needs Rationale and an optional Expiration date (YYYY-MM-DD): {e}"))?;
                for (id, omission) in &config.omissions {
                    if omission.rationale.trim().is_empty() {
                        return Err(format!("OmitPolicy.{id}.Rationale must not be empty"));
                    }
                }
            } else if RUN_KEYS.iter().any(|k| k.eq_ignore_ascii_case(&key)) {
                continue;
            } else if value.is_object() {
                config.scuba_config.insert(key, value);
            } else {
                return Err(format!(
                    "unknown setting {key:?}: expected OmitPolicy or a product section such as Aad, Defender or Exo"
                ));
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_omissions_and_product_sections() {
        let config = EvalConfig::from_yaml_str(
            r#"
ProductNames: [aad]
OmitPolicy:
  MS.EXO.1.1v2:
    Rationale: Handled by a third-party gateway
    Expiration: 2027-03-31
Aad:
  MS.AAD.1.1v1:
    CapExclusions:
      Users: [00000000-0000-0000-0000-000000000001]
"#,
        )
        .unwrap();
        let omission = &config.omissions["MS.EXO.1.1v2"];
        assert_eq!(omission.rationale, "Handled by a third-party gateway");
        assert_eq!(omission.expiration, Some(jiff::civil::date(2027, 3, 31)));
        assert!(config.scuba_config["Aad"]["MS.AAD.1.1v1"]["CapExclusions"].is_object());
    }

    #[test]
    fn rejects_bad_config() {
        assert!(EvalConfig::from_yaml_str("- a list").is_err());
        assert!(EvalConfig::from_yaml_str("Typo: 3")
            .unwrap_err()
            .contains("Typo"));
        let err =
            EvalConfig::from_yaml_str("OmitPolicy:\n  X:\n    Expiration: tomorrow\n").unwrap_err();
        assert!(err.contains("OmitPolicy"), "{err}");
    }
}
