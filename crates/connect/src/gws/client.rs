//! The service account's access to the Google APIs (one token per scope on a shared budget)
//! and the plumbing every area shares: paging, tasks and error copies.

use super::config::{GwsConfig, ServiceAccountKey};
use crate::auth::{AuthError, TokenRequest, TokenSource};
use crate::http::{Api, ApiError, HttpSettings};
use crate::stats::Observer;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub const SCOPE_ORGUNIT: &str = "https://www.googleapis.com/auth/admin.directory.orgunit.readonly";
pub const SCOPE_CUSTOMER: &str =
    "https://www.googleapis.com/auth/admin.directory.customer.readonly";
pub const SCOPE_DOMAIN: &str = "https://www.googleapis.com/auth/admin.directory.domain.readonly";
pub const SCOPE_USER: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";
pub const SCOPE_ROLE: &str =
    "https://www.googleapis.com/auth/admin.directory.rolemanagement.readonly";
pub const SCOPE_GROUP: &str = "https://www.googleapis.com/auth/admin.directory.group.readonly";
pub const SCOPE_AUDIT: &str = "https://www.googleapis.com/auth/admin.reports.audit.readonly";
pub const SCOPE_USAGE: &str = "https://www.googleapis.com/auth/admin.reports.usage.readonly";
pub const SCOPE_POLICIES: &str = "https://www.googleapis.com/auth/cloud-identity.policies.readonly";
pub const SCOPE_SSO: &str = "https://www.googleapis.com/auth/cloud-identity.inboundsso.readonly";
pub const SCOPE_GROUPS_SETTINGS: &str = "https://www.googleapis.com/auth/apps.groups.settings";
pub const SCOPE_LICENSING: &str = "https://www.googleapis.com/auth/apps.licensing";

/// Every scope to delegate to the service account (all read-only where Google offers one).
pub const SCOPES: &[&str] = &[
    SCOPE_ORGUNIT,
    SCOPE_CUSTOMER,
    SCOPE_DOMAIN,
    SCOPE_USER,
    SCOPE_ROLE,
    SCOPE_GROUP,
    SCOPE_AUDIT,
    SCOPE_USAGE,
    SCOPE_POLICIES,
    SCOPE_SSO,
    SCOPE_GROUPS_SETTINGS,
    SCOPE_LICENSING,
];

/// Why nothing could be collected.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("service account key: {0}")]
    Key(String),
    #[error("Google refused the service account: {0}")]
    Auth(#[from] AuthError),
}

/// Reads the key file without ever echoing its content in an error.
pub(crate) fn load_key(config: &GwsConfig) -> Result<ServiceAccountKey, CollectError> {
    let (text, origin) =
        match (
            &config.service_account_key_file,
            &config.service_account_key_json,
        ) {
            (Some(path), _) => (
                crate::redact::Secret::new(std::fs::read_to_string(path).map_err(|e| {
                    CollectError::Key(format!("cannot read {}: {e}", path.display()))
                })?),
                path.display().to_string(),
            ),
            (None, Some(json)) => (json.clone(), "service_account_key_json".to_string()),
            (None, None) => {
                return Err(CollectError::Key(
                    "neither service_account_key_file nor service_account_key_json is set".into(),
                ))
            }
        };
    let key: ServiceAccountKey = serde_json::from_str(text.expose()).map_err(|e| {
        // serde's message can quote the offending value; only its position and category are kept.
        CollectError::Key(format!(
            "{origin} is not a service-account key file ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    if key.kind.as_deref().is_some_and(|k| k != "service_account") {
        return Err(CollectError::Key(format!(
            "{origin} is not a service-account key (type is not service_account)"
        )));
    }
    Ok(key)
}

/// An API client whose token carries only `scope`, on `base`'s budget (the audit-log pull).
pub(crate) fn scoped_api(config: &GwsConfig, base: &Api, scope: &str) -> Result<Api, CollectError> {
    let key = load_key(config)?;
    let token_uri = config
        .endpoints
        .token_uri
        .clone()
        .or(key.token_uri.clone())
        .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into());
    let source = TokenSource::new(TokenRequest::GoogleServiceAccount {
        token_uri,
        client_email: key.client_email,
        private_key_id: key.private_key_id,
        private_key_pem: key.private_key,
        subject: config.subject.clone(),
        scopes: vec![scope.to_string()],
    });
    Ok(base.with_auth(Arc::new(source)))
}

/// One tenant's API access: one token source per scope on a shared budget.
pub(super) struct Client {
    pub(super) base: Api,
    apis: HashMap<&'static str, Api>,
    pub(super) admin: String,
    pub(super) cloud_identity: String,
    pub(super) groups_settings: String,
    pub(super) licensing: String,
    pub(super) customer: String,
    /// The Groups Settings GETs (one per group) are fed through a gate of this width, so they
    /// fill the limiter without queueing ahead of the paging chains (users, policies, usage,
    /// licences), which would otherwise wait behind every queued GET.
    pub(super) bulk_width: usize,
}

impl Client {
    /// Reads the key, makes one token source per scope and fetches every scope's token.
    pub(super) async fn connect(
        config: &GwsConfig,
        settings: HttpSettings,
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<Arc<Client>, CollectError> {
        let key = load_key(config)?;
        let token_uri = config
            .endpoints
            .token_uri
            .clone()
            .or(key.token_uri.clone())
            .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into());
        let bulk_width = settings.concurrency.max(1);
        let base = Api::new(settings, observer);
        let apis: HashMap<&'static str, Api> = SCOPES
            .iter()
            .map(|scope| {
                let source = TokenSource::new(TokenRequest::GoogleServiceAccount {
                    token_uri: token_uri.clone(),
                    client_email: key.client_email.clone(),
                    private_key_id: key.private_key_id.clone(),
                    private_key_pem: key.private_key.clone(),
                    subject: config.subject.clone(),
                    scopes: vec![scope.to_string()],
                });
                (*scope, base.with_auth(Arc::new(source)))
            })
            .collect();
        let trim = |s: &str| s.trim_end_matches('/').to_string();
        let client = Arc::new(Client {
            apis,
            admin: trim(&config.endpoints.admin),
            cloud_identity: trim(&config.endpoints.cloud_identity),
            groups_settings: trim(&config.endpoints.groups_settings),
            licensing: trim(&config.endpoints.licensing),
            customer: config.customer_id.clone(),
            base,
            bulk_width,
        });
        // One token per scope, all at once and before any section: a request fetches its token
        // while it holds a limiter slot, and the other requests of that scope wait for it, so a
        // token fetched on first use would stall the sections behind it. Bad credentials (wrong
        // key, unknown subject, no delegation at all) stop here, before any section, with the
        // token endpoint's own words; a scope that alone is refused fails only its sections
        // (their requests ask again and get the same answer).
        let checks = futures_util::future::join_all(SCOPES.iter().map(|scope| {
            let api = client.api(scope);
            async move { (*scope, api.check_auth().await) }
        }))
        .await;
        for (scope, result) in checks {
            if scope == SCOPE_ORGUNIT {
                result?;
            }
        }
        Ok(client)
    }

    pub(super) fn api(&self, scope: &'static str) -> Api {
        self.apis
            .get(scope)
            .cloned()
            .unwrap_or_else(|| self.base.clone())
    }

    /// One GET with the token of `scope` (owned arguments, so the future borrows nothing
    /// temporary).
    pub(super) async fn get(
        &self,
        scope: &'static str,
        section: &'static str,
        url: String,
    ) -> Result<Value, ApiError> {
        self.api(scope).get(section, &url).await
    }

    /// Every item of a Google list with the token of `scope`.
    pub(super) async fn list(
        &self,
        scope: &'static str,
        section: &'static str,
        url: String,
        key: &'static str,
    ) -> Result<Vec<Value>, ApiError> {
        self.api(scope).google_list(section, &url, key).await
    }

    pub(super) fn dir(&self, path: &str) -> String {
        format!("{}/admin/directory/v1/{path}", self.admin)
    }
}

pub(super) fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(super) fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A copy of an API error (section failures that several keys share).
pub(super) fn copy_error(e: &ApiError) -> ApiError {
    match e {
        ApiError::Status {
            url,
            status,
            code,
            message,
        } => ApiError::Status {
            url: url.clone(),
            status: *status,
            code: code.clone(),
            message: message.clone(),
        },
        ApiError::Timeout {
            url,
            seconds,
            attempts,
        } => ApiError::Timeout {
            url: url.clone(),
            seconds: *seconds,
            attempts: *attempts,
        },
        ApiError::Transport {
            url,
            message,
            attempts,
        } => ApiError::Transport {
            url: url.clone(),
            message: message.clone(),
            attempts: *attempts,
        },
        ApiError::GaveUp {
            url,
            attempts,
            last,
        } => ApiError::GaveUp {
            url: url.clone(),
            attempts: *attempts,
            last: last.clone(),
        },
        ApiError::Malformed { url, message } => ApiError::Malformed {
            url: url.clone(),
            message: message.clone(),
        },
        ApiError::TooLarge { url, limit_mib } => ApiError::TooLarge {
            url: url.clone(),
            limit_mib: *limit_mib,
        },
        ApiError::Auth(a) => ApiError::Auth(match a {
            AuthError::Rejected {
                endpoint,
                status,
                error,
                description,
            } => AuthError::Rejected {
                endpoint: endpoint.clone(),
                status: *status,
                error: error.clone(),
                description: description.clone(),
            },
            AuthError::Transport { endpoint, message } => AuthError::Transport {
                endpoint: endpoint.clone(),
                message: message.clone(),
            },
            AuthError::Malformed { endpoint, message } => AuthError::Malformed {
                endpoint: endpoint.clone(),
                message: message.clone(),
            },
            AuthError::Key(m) => AuthError::Key(m.clone()),
        }),
    }
}

/// Every page of a Google list, handed to `on_page` as it arrives (the same requests as
/// [`Api::google_list`], without holding every item).
pub(super) async fn google_pages(
    api: &Api,
    section: &str,
    url: &str,
    items_key: &str,
    mut on_page: impl FnMut(Vec<Value>),
) -> Result<(), ApiError> {
    let mut token: Option<String> = None;
    loop {
        let page_url = match &token {
            None => url.to_string(),
            Some(t) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}pageToken={}", enc(t))
            }
        };
        let mut page = api.get(section, &page_url).await?;
        match page.get_mut(items_key).map(Value::take) {
            Some(Value::Array(values)) => on_page(values),
            // Google leaves the key out of an empty page.
            None | Some(Value::Null) => {}
            Some(_) => {
                return Err(ApiError::Malformed {
                    url: page_url,
                    message: format!("`{items_key}` is not an array"),
                })
            }
        }
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_string()),
            _ => return Ok(()),
        }
    }
}

/// A section running on its own task; aborted if the collection is dropped.
pub(super) struct Task<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub(super) fn spawn<F>(future: F) -> Task<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    Task(tokio::spawn(future))
}

/// The task's result; a panic in the task goes on in the caller.
pub(super) async fn joined<T>(mut task: Task<T>) -> T {
    match (&mut task.0).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("a collection task was cancelled: {e}"),
    }
}

/// CPU-bound work on the blocking pool, so the runtime's threads keep serving the requests.
pub(super) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("a collection task was cancelled: {e}"),
    }
}
