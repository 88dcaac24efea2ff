//! Shared HTTP plumbing: bounded concurrency, retries with backoff and jitter that honour
//! `Retry-After`, size-limited bodies, paging helpers and request accounting.

use crate::auth::{AuthError, TokenSource};
use crate::redact::scrub;
use crate::stats::{Event, Observer, Silent, Stats};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits and retry policy of one tenant's collection.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Requests in flight at once against one tenant.
    pub concurrency: usize,
    /// Tries per request, the first included.
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is cut to it (a hostile or broken server cannot park
    /// the scan for a day).
    pub max_retry_after: Duration,
    /// Per request, headers and body.
    pub timeout: Duration,
    /// A response body larger than this is refused.
    pub max_body_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            concurrency: 8,
            max_attempts: 8,
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            timeout: Duration::from_secs(60),
            max_body_bytes: 64 << 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{url}: HTTP {status}{}{}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default(), message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    #[error("{url}: no answer within {seconds} s (after {attempts} tries)")]
    Timeout {
        url: String,
        seconds: u64,
        attempts: u32,
    },
    #[error("{url}: {message} (after {attempts} tries)")]
    Transport {
        url: String,
        message: String,
        attempts: u32,
    },
    #[error("{url}: still throttled or failing after {attempts} tries (last: {last})")]
    GaveUp {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("{url}: response is not valid JSON: {message}")]
    Malformed { url: String, message: String },
    #[error("{url}: response larger than the {limit_mib} MiB limit")]
    TooLarge { url: String, limit_mib: usize },
    #[error(transparent)]
    Auth(#[from] AuthError),
}

impl ApiError {
    pub fn http_status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            ApiError::Auth(AuthError::Rejected { status, .. }) => Some(*status),
            _ => None,
        }
    }

    /// True when the credentials lack a permission (as opposed to a broken service).
    pub fn is_permission(&self) -> bool {
        matches!(self.http_status(), Some(401 | 403))
    }
}

static RANDOM_STATE: AtomicU64 = AtomicU64::new(0);

/// Non-cryptographic randomness for jitter and request ids.
pub(crate) fn next_random() -> u64 {
    let mut x = RANDOM_STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    RANDOM_STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

pub(crate) fn fill_random(bytes: &mut [u8]) {
    for chunk in bytes.chunks_mut(8) {
        let r = next_random().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
}

pub(crate) fn describe_reqwest(e: &reqwest::Error) -> String {
    // The chain without the URL (which the caller prints once); query strings hold no secrets.
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Reads a body up to `limit` bytes; the error text says what went wrong.
pub(crate) async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, String> {
    if let Some(len) = resp.content_length() {
        if len as usize > limit {
            return Err(format!("response of {len} bytes exceeds the limit"));
        }
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(format!("response exceeds {limit} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(describe_reqwest(&e)),
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs.min(86_400.0)));
        }
        return None;
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The code and message of an error body, in Microsoft Graph / OData, Google or plain form.
fn error_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)])
            .trim()
            .to_string();
        return (None, (!text.is_empty()).then_some(text));
    };
    let err = v
        .get("error")
        .or_else(|| v.get("odata.error"))
        .unwrap_or(&v);
    let code = err
        .get("status")
        .or_else(|| err.get("code"))
        .or_else(|| err.get("error"))
        .and_then(|c| match c {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
    let message = err
        .get("message")
        .and_then(|m| match m {
            Value::String(s) => Some(s.clone()),
            // SharePoint's verbose OData: {"message": {"lang": "en-US", "value": "…"}}
            Value::Object(o) => o.get("value").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .or_else(|| {
            err.get("error_description")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    (code, message.map(|m| m.chars().take(300).collect()))
}

/// One tenant's API access: shared limiter and accounting, one token source per API.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    settings: Arc<HttpSettings>,
    limiter: Arc<tokio::sync::Semaphore>,
    auth: Option<Arc<TokenSource>>,
    stats: Arc<Stats>,
    observer: Arc<dyn Observer>,
}

/// What to send.
pub struct Call<'a> {
    pub method: reqwest::Method,
    pub url: String,
    pub body: Option<&'a Value>,
    pub headers: &'a [(&'a str, &'a str)],
}

impl<'a> Call<'a> {
    pub fn get(url: impl Into<String>) -> Self {
        Call {
            method: reqwest::Method::GET,
            url: url.into(),
            body: None,
            headers: &[],
        }
    }

    pub fn post(url: impl Into<String>, body: &'a Value) -> Self {
        Call {
            method: reqwest::Method::POST,
            url: url.into(),
            body: Some(body),
            headers: &[],
        }
    }

    pub fn headers(mut self, headers: &'a [(&'a str, &'a str)]) -> Self {
        self.headers = headers;
        self
    }
}

impl Api {
    pub fn new(settings: HttpSettings, observer: Option<Arc<dyn Observer>>) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("mamori/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .pool_max_idle_per_host(settings.concurrency.max(1))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Api {
            http,
            limiter: Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1))),
            settings: Arc::new(settings),
            auth: None,
            stats: Arc::new(Stats::default()),
            observer: observer.unwrap_or_else(|| Arc::new(Silent)),
        }
    }

    /// The same tenant budget (limiter, accounting) with another token source.
    pub fn with_auth(&self, auth: Arc<TokenSource>) -> Self {
        Api {
            auth: Some(auth),
            ..self.clone()
        }
    }

    /// Requests this tenant may have in flight at once.
    pub fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1)
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    pub fn observer(&self) -> &Arc<dyn Observer> {
        &self.observer
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Fetches a token now, so bad credentials fail the collection before any section.
    pub async fn check_auth(&self) -> Result<(), AuthError> {
        if let Some(auth) = &self.auth {
            auth.token(&self.http, false).await?;
        }
        Ok(())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let cap = self
            .settings
            .base_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.settings.max_backoff);
        // Full jitter: anywhere between zero and the cap.
        let millis = cap.as_millis() as u64;
        Duration::from_millis(if millis == 0 {
            0
        } else {
            next_random() % (millis + 1)
        })
    }

    /// Sends one call, retrying what can be retried, and parses the JSON answer.
    /// A `204 No Content` answers `Value::Null`.
    pub async fn json(&self, section: &str, call: Call<'_>) -> Result<Value, ApiError> {
        self.json_with_headers(section, call).await.map(|(v, _)| v)
    }

    /// Like [`Api::json`], with the response headers (paging links such as the Management
    /// Activity API's `NextPageUri` travel in a header).
    pub async fn json_with_headers(
        &self,
        section: &str,
        call: Call<'_>,
    ) -> Result<(Value, reqwest::header::HeaderMap), ApiError> {
        let url = call.url.clone();
        let mut refreshed = false;
        let mut last = String::new();
        let attempts = self.settings.max_attempts.max(1);
        let mut attempt = 0;
        while attempt < attempts {
            attempt += 1;
            // The token first: a slot is not held while a token is fetched.
            let token = match &self.auth {
                Some(auth) => Some(auth.token(&self.http, false).await?),
                None => None,
            };
            let permit = self
                .limiter
                .acquire()
                .await
                .map_err(|_| ApiError::Transport {
                    url: url.clone(),
                    message: "collection cancelled".into(),
                    attempts: attempt,
                })?;
            let mut request = self
                .http
                .request(call.method.clone(), &call.url)
                .timeout(self.settings.timeout)
                .header("accept", "application/json");
            if let Some(token) = &token {
                request = request.bearer_auth(token.expose());
            }
            for (name, value) in call.headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = call.body {
                request = request.json(body);
            }
            self.stats.request(section);
            self.observer.event(&Event::Request { section });
            tracing::debug!(section, method = %call.method, url = %call.url, attempt, "request");
            let started = Instant::now();
            let outcome = request.send().await;
            let resp = match outcome {
                Ok(resp) => resp,
                Err(e) => {
                    last = if e.is_timeout() {
                        format!("timed out after {:.0?}", started.elapsed())
                    } else {
                        scrub(&describe_reqwest(&e))
                    };
                    drop(permit);
                    self.retry_pause(section, attempt, &last).await;
                    continue;
                }
            };
            let status = resp.status().as_u16();
            if status == 401 && self.auth.is_some() && !refreshed {
                // An expired or revoked token: one fresh token, then the call again.
                refreshed = true;
                drop(permit);
                if let Some(auth) = &self.auth {
                    auth.token(&self.http, true).await?;
                }
                attempt -= 1;
                continue;
            }
            if status == 429 || status == 503 {
                let hinted = retry_after(resp.headers());
                tracing::debug!(section, status, retry_after = ?hinted, "throttled");
                drop(resp);
                drop(permit);
                last = format!("HTTP {status}");
                let wait = match hinted {
                    Some(w) => w.min(self.settings.max_retry_after),
                    None => self.backoff(attempt),
                };
                if attempt < attempts {
                    // Like Microsoft's and Google's own SDKs, the throttled request waits what
                    // the server asked; the others go on (their own 429s slow them if needed).
                    self.stats.throttled(section, wait);
                    self.observer.event(&Event::Throttled { section, wait });
                    tokio::time::sleep(wait).await;
                }
                continue;
            }
            if matches!(status, 500 | 502 | 504) {
                drop(resp);
                drop(permit);
                last = format!("HTTP {status}");
                self.retry_pause(section, attempt, &last).await;
                continue;
            }
            let headers = resp.headers().clone();
            let body = match read_limited(resp, self.settings.max_body_bytes).await {
                Ok(body) => body,
                Err(message) if message.contains("exceeds") => {
                    return Err(ApiError::TooLarge {
                        url,
                        limit_mib: self.settings.max_body_bytes >> 20,
                    })
                }
                Err(message) => {
                    drop(permit);
                    last = scrub(&message);
                    self.retry_pause(section, attempt, &last).await;
                    continue;
                }
            };
            drop(permit);
            if !(200..300).contains(&status) {
                let (code, message) = error_fields(&body);
                return Err(ApiError::Status {
                    url,
                    status,
                    code: code.map(|c| scrub(&c)),
                    message: message.map(|m| scrub(&m)),
                });
            }
            if body.is_empty() || status == 204 {
                return Ok((Value::Null, headers));
            }
            return serde_json::from_slice(&body)
                .map(|v| (v, headers))
                .map_err(|e| ApiError::Malformed {
                    url,
                    message: e.to_string(),
                });
        }
        if last.starts_with("timed out") {
            return Err(ApiError::Timeout {
                url,
                seconds: self.settings.timeout.as_secs(),
                attempts,
            });
        }
        if last.starts_with("HTTP") {
            return Err(ApiError::GaveUp {
                url,
                attempts,
                last,
            });
        }
        Err(ApiError::Transport {
            url,
            message: last,
            attempts,
        })
    }

    async fn retry_pause(&self, section: &str, attempt: u32, reason: &str) {
        if attempt >= self.settings.max_attempts {
            return;
        }
        self.stats.retry(section);
        self.observer.event(&Event::Retrying { section, reason });
        tracing::debug!(section, attempt, reason, "retrying");
        tokio::time::sleep(self.backoff(attempt)).await;
    }

    pub async fn get(&self, section: &str, url: &str) -> Result<Value, ApiError> {
        self.json(section, Call::get(url)).await
    }

    /// Every item of an OData collection, following `@odata.nextLink` (Graph, Exchange admin
    /// API, Power Platform `nextLink`).
    pub async fn odata_list(&self, section: &str, call: Call<'_>) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let headers = call.headers;
        let mut page = self.json(section, call).await?;
        loop {
            let next = page
                .get("@odata.nextLink")
                .or_else(|| page.get("nextLink"))
                .and_then(Value::as_str)
                .map(str::to_string);
            match page.get_mut("value").map(Value::take) {
                Some(Value::Array(values)) => items.extend(values),
                _ => {
                    return Err(ApiError::Malformed {
                        url: "collection".into(),
                        message: "the page has no `value` array".into(),
                    })
                }
            }
            match next {
                Some(url) => page = self.json(section, Call::get(url).headers(headers)).await?,
                None => return Ok(items),
            }
        }
    }

    /// Every item of a Google list, following `nextPageToken`.
    pub async fn google_list(
        &self,
        section: &str,
        url: &str,
        items_key: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page_url = match &token {
                None => url.to_string(),
                Some(t) => {
                    let sep = if url.contains('?') { '&' } else { '?' };
                    format!(
                        "{url}{sep}pageToken={}",
                        url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()
                    )
                }
            };
            let mut page = self.get(section, &page_url).await?;
            match page.get_mut(items_key).map(Value::take) {
                Some(Value::Array(values)) => items.extend(values),
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
                Some(t) if !t.is_empty() && token.as_deref() != Some(t) => {
                    token = Some(t.to_string())
                }
                _ => return Ok(items),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn error_fields_of_graph_google_and_sharepoint() {
        let graph = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{}}}"#;
        assert_eq!(
            error_fields(graph),
            (
                Some("Authorization_RequestDenied".into()),
                Some("Insufficient privileges to complete the operation.".into())
            )
        );
        let google = br#"{"error":{"code":403,"message":"Not Authorized to access this resource/api","status":"PERMISSION_DENIED"}}"#;
        assert_eq!(error_fields(google).0.as_deref(), Some("PERMISSION_DENIED"));
        let spo = br#"{"odata.error":{"code":"-2147024891, System.UnauthorizedAccessException","message":{"lang":"en-US","value":"Access denied."}}}"#;
        assert_eq!(error_fields(spo).1.as_deref(), Some("Access denied."));
        assert_eq!(
            error_fields(b"<html>oops</html>").1.as_deref(),
            Some("<html>oops</html>")
        );
    }

    #[test]
    fn backoff_is_capped() {
        let api = Api::new(HttpSettings::default(), None);
        for attempt in 1..30 {
            assert!(api.backoff(attempt) <= api.settings.max_backoff);
        }
    }
}
