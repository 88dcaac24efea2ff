//! The one place that knows every application: its configuration type and its collector.
//! The CLI, the worker and the demo all collect through [`collect`]; adding an application adds
//! a variant here (and to `mamori_core::App`), not a `match` in every crate.

use crate::collection::Collected;
use crate::{gws, m365, HttpSettings, Observer};
use mamori_core::App;
use std::sync::Arc;

/// One tenant's credentials and endpoints, for its application.
#[derive(Debug, Clone)]
pub enum AppConfig {
    M365(m365::M365Config),
    Gws(gws::GwsConfig),
}

/// Why a configuration could not be read. Never echoes a value: only where and what.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("not a valid {app} configuration{location}: {reason}")]
    Invalid {
        app: &'static str,
        location: String,
        reason: String,
    },
    #[error("{0} is not set")]
    MissingVariable(&'static str),
}

/// Why a collection could not even start (a failed section is not an error: it is recorded).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    M365(#[from] m365::CollectError),
    #[error(transparent)]
    Gws(#[from] gws::CollectError),
}

impl AppConfig {
    pub fn app(&self) -> App {
        match self {
            AppConfig::M365(_) => App::M365,
            AppConfig::Gws(_) => App::Gws,
        }
    }

    /// From a credentials document, YAML or JSON (YAML is a superset of JSON, so one parser
    /// reads both). Errors name the line and the field, never the value.
    pub fn from_document(app: App, text: &str) -> Result<AppConfig, ConfigError> {
        fn parse<T: serde::de::DeserializeOwned>(app: App, text: &str) -> Result<T, ConfigError> {
            serde_norway::from_str(text).map_err(|e| {
                let location = e
                    .location()
                    .map(|l| format!(" (line {}, column {})", l.line(), l.column()))
                    .unwrap_or_default();
                let reason = e.to_string();
                let reason = reason.split(" at line ").next().unwrap_or(&reason);
                ConfigError::Invalid {
                    app: app.label(),
                    location,
                    reason: crate::redact::scrub(reason),
                }
            })
        }
        Ok(match app {
            App::M365 => AppConfig::M365(parse(app, text)?),
            App::Gws => AppConfig::Gws(parse(app, text)?),
        })
    }

    /// From the `MAMORI_M365_*` or `MAMORI_GWS_*` environment variables (and
    /// `MAMORI_DNS_SERVER`), for machines where credentials come from a secret store.
    pub fn from_env(app: App) -> Result<AppConfig, ConfigError> {
        fn var(name: &'static str) -> Option<String> {
            std::env::var(name).ok().filter(|v| !v.trim().is_empty())
        }
        fn need(name: &'static str) -> Result<String, ConfigError> {
            var(name).ok_or(ConfigError::MissingVariable(name))
        }
        let mut doc = serde_json::Map::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(v) = value {
                doc.insert(key.to_string(), v.into());
            }
        };
        match app {
            App::M365 => {
                put("tenant_id", Some(need("MAMORI_M365_TENANT_ID")?));
                put("client_id", Some(need("MAMORI_M365_CLIENT_ID")?));
                put("client_secret", var("MAMORI_M365_CLIENT_SECRET"));
                put(
                    "certificate_private_key_file",
                    var("MAMORI_M365_CERTIFICATE_KEY_FILE"),
                );
                put(
                    "certificate_thumbprint",
                    var("MAMORI_M365_CERTIFICATE_THUMBPRINT"),
                );
            }
            App::Gws => {
                put(
                    "service_account_key_file",
                    Some(need("MAMORI_GWS_KEY_FILE")?),
                );
                put("subject", Some(need("MAMORI_GWS_SUBJECT")?));
                put("customer_id", var("MAMORI_GWS_CUSTOMER_ID"));
            }
        }
        put("dns_server", var("MAMORI_DNS_SERVER"));
        let text = serde_json::Value::Object(doc).to_string();
        AppConfig::from_document(app, &text)
    }
}

/// Collects one tenant, whatever its application.
pub async fn collect(
    config: &AppConfig,
    settings: HttpSettings,
    observer: Option<Arc<dyn Observer>>,
) -> Result<Collected, CollectError> {
    Ok(match config {
        AppConfig::M365(c) => m365::collect(c, settings, observer).await?,
        AppConfig::Gws(c) => gws::collect(c, settings, observer).await?,
    })
}
