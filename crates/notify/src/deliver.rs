//! Delivery over HTTP (webhook, Slack, Teams) and SMTP.

use std::error::Error as StdError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;

use crate::config::{ChannelConfig, EmailTls};
use crate::render;
use crate::{sign, DeliveryError, Notification};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

fn http_client(timeout: Duration, allow_private: bool) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(USER_AGENT);
    if !allow_private {
        builder = builder.dns_resolver(std::sync::Arc::new(crate::target::PublicResolver));
    }
    builder
        .build()
        .expect("the HTTP client (rustls) could not be initialised")
}
const USER_AGENT: &str = concat!("mamori/", env!("CARGO_PKG_VERSION"));
/// How much of an error response body is quoted in the error message.
const MAX_BODY_SNIPPET: usize = 200;

/// Delivers notifications. Cheap to clone (the HTTP client is shared).
///
/// HTTP requests time out after 10 s by default ([`Notifier::with_timeout`]),
/// never follow redirects and send `User-Agent: mamori/<version>`. The same
/// timeout applies to each SMTP command; a whole e-mail delivery is bounded by
/// three times it.
#[derive(Clone, Debug)]
pub struct Notifier {
    http: reqwest::Client,
    timeout: Duration,
    allow_private: bool,
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Notifier {
    /// A notifier with a 10 s timeout.
    pub fn new() -> Self {
        Self::with_timeout(DEFAULT_TIMEOUT)
    }

    /// A notifier whose HTTP requests (connect + response) and SMTP commands
    /// time out after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Self {
        Notifier {
            http: http_client(timeout, false),
            timeout,
            allow_private: false,
        }
    }

    /// Whether channels may reach loopback, private, link-local and other non-public
    /// addresses (see [`crate::target`]). Off by default: a channel's address is typed in by
    /// users, and the service's own network (databases, cloud metadata) is no place for a
    /// notification. Turn it on for an internal relay, or for tests with local receivers.
    pub fn allow_private_targets(self, allow: bool) -> Self {
        Notifier {
            http: http_client(self.timeout, allow),
            timeout: self.timeout,
            allow_private: allow,
        }
    }

    /// Why `channel` may not be used under this notifier's target policy, judged from its
    /// configuration alone (an address literal or "localhost"); `None` when it may. What a
    /// host name resolves to is checked again at each delivery.
    pub fn refused_target(&self, channel: &ChannelConfig) -> Option<String> {
        if self.allow_private {
            return None;
        }
        let host = match channel {
            ChannelConfig::Webhook { url, .. }
            | ChannelConfig::Slack { url }
            | ChannelConfig::Teams { url } => url::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))?,
            ChannelConfig::Email { host, .. } => host.clone(),
        };
        crate::target::refused_host(&host)
            .map(|why| format!("{why}: notifications go to public addresses only"))
    }

    /// Delivers `n` to `channel` once.
    ///
    /// The channel is validated first ([`ChannelConfig::validate`]); an
    /// invalid channel is a non-retryable error. Errors never contain the
    /// channel's secrets or full webhook URL.
    pub async fn deliver(
        &self,
        channel: &ChannelConfig,
        n: &Notification,
    ) -> Result<(), DeliveryError> {
        let result = self.deliver_inner(channel, n).await;
        // Whatever produced the message, make sure no secret survives in it.
        let result = result.map_err(|mut e| {
            e.message = scrub(&e.message, channel);
            e
        });
        match &result {
            Ok(()) => tracing::debug!(
                channel = channel.kind(),
                target = %channel.target(),
                event = n.event.as_str(),
                scan_id = n.scan_id,
                "notification delivered"
            ),
            Err(e) => tracing::warn!(
                channel = channel.kind(),
                target = %channel.target(),
                event = n.event.as_str(),
                scan_id = n.scan_id,
                retryable = e.retryable,
                error = %e.message,
                "notification delivery failed"
            ),
        }
        result
    }

    async fn deliver_inner(
        &self,
        channel: &ChannelConfig,
        n: &Notification,
    ) -> Result<(), DeliveryError> {
        channel
            .validate()
            .map_err(|e| DeliveryError::permanent(e.to_string()))?;
        let what = format!("{} delivery to {}", channel.kind(), channel.target());
        if let Some(why) = self.refused_target(channel) {
            return Err(DeliveryError::permanent(format!("{what} refused: {why}")));
        }
        match channel {
            ChannelConfig::Webhook { url, secret } => self.webhook(&what, url, secret, n).await,
            ChannelConfig::Slack { url } => {
                let body = json_bytes(&render::slack_payload(n))?;
                self.post(&what, url, body, &[]).await
            }
            ChannelConfig::Teams { url } => {
                let body = json_bytes(&render::teams_payload(n))?;
                self.post(&what, url, body, &[]).await
            }
            ChannelConfig::Email { .. } => self.email(channel, n).await,
        }
    }

    async fn webhook(
        &self,
        what: &str,
        url: &str,
        secret: &str,
        n: &Notification,
    ) -> Result<(), DeliveryError> {
        let body = serde_json::to_vec(n)
            .map_err(|e| DeliveryError::permanent(format!("cannot encode notification: {e}")))?;
        let ts = unix_now();
        let signature = sign(secret.as_bytes(), ts, &body);
        self.post(
            what,
            url,
            body,
            &[
                ("X-Mamori-Timestamp", ts.to_string()),
                ("X-Mamori-Signature", signature),
                ("X-Mamori-Event", n.event.as_str().to_owned()),
            ],
        )
        .await
    }

    /// POSTs JSON and maps the outcome: 2xx delivered; 408/425/429/5xx,
    /// timeouts and connection errors retryable; anything else permanent.
    async fn post(
        &self,
        what: &str,
        url: &str,
        body: Vec<u8>,
        headers: &[(&'static str, String)],
    ) -> Result<(), DeliveryError> {
        let mut req = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let mut resp = req.send().await.map_err(|e| self.http_error(what, e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| format!(" (Retry-After: {})", render::clip(v, 40)))
            .unwrap_or_default();
        let snippet = read_snippet(&mut resp).await;
        let snippet = if snippet.is_empty() {
            String::new()
        } else {
            format!(": {snippet}")
        };
        let retryable = matches!(
            status,
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_EARLY | StatusCode::TOO_MANY_REQUESTS
        ) || status.is_server_error();
        let note = if status.is_redirection() {
            " (redirects are not followed)"
        } else {
            ""
        };
        let message = format!("{what} failed: HTTP {status}{note}{retry_after}{snippet}");
        Err(DeliveryError { retryable, message })
    }

    fn http_error(&self, what: &str, e: reqwest::Error) -> DeliveryError {
        let retryable = !e.is_builder();
        let kind = if e.is_timeout() {
            format!("timed out after {}", human_duration(self.timeout))
        } else if e.is_connect() {
            "connection failed".to_owned()
        } else if e.is_builder() {
            "invalid request".to_owned()
        } else {
            "request failed".to_owned()
        };
        let cause = error_chain(&e.without_url());
        DeliveryError {
            retryable,
            message: format!("{what} failed: {kind}: {cause}"),
        }
    }

    async fn email(&self, channel: &ChannelConfig, n: &Notification) -> Result<(), DeliveryError> {
        let ChannelConfig::Email {
            host,
            port,
            tls,
            username,
            password,
            from,
            to,
        } = channel
        else {
            unreachable!("email() is only called for e-mail channels");
        };
        let host = host.trim();
        let what = format!("email delivery via {host}:{port}");
        if !self.allow_private {
            // lettre resolves the name itself; check what it resolves to first.
            let addrs =
                tokio::net::lookup_host((host, *port))
                    .await
                    .map_err(|e| DeliveryError {
                        retryable: true,
                        message: format!("{what} failed: cannot resolve {host}: {e}"),
                    })?;
            crate::target::public_only(host, addrs).map_err(|why| {
                DeliveryError::permanent(format!(
                    "{what} refused: {why}: notifications go to public addresses only"
                ))
            })?;
        }
        let message = build_message(from, to, n).map_err(|e| {
            DeliveryError::permanent(format!("{what} failed: cannot build message: {e}"))
        })?;

        let tls_params = || {
            TlsParameters::new(host.to_owned()).map_err(|e| {
                DeliveryError::permanent(format!("{what} failed: TLS setup: {}", error_chain(&e)))
            })
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(*port)
            .timeout(Some(self.timeout));
        builder = match tls {
            EmailTls::None => builder.tls(Tls::None),
            EmailTls::Starttls => builder.tls(Tls::Required(tls_params()?)),
            EmailTls::Tls => builder.tls(Tls::Wrapper(tls_params()?)),
        };
        if let (Some(user), Some(pass)) = (username, password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.clone()));
        }
        let transport = builder.build();

        let overall = self.timeout.saturating_mul(3);
        match tokio::time::timeout(overall, transport.send(message)).await {
            Err(_) => Err(DeliveryError::retryable(format!(
                "{what} failed: timed out after {}",
                human_duration(overall)
            ))),
            Ok(Ok(_response)) => Ok(()),
            Ok(Err(e)) => {
                // 5xx replies and client-side errors (bad address, ...) will
                // not get better by themselves; network, TLS, timeouts and
                // 4xx replies may.
                let retryable = !(e.is_permanent() || e.is_client());
                let kind = if e.is_permanent() {
                    "rejected: "
                } else if e.is_transient() {
                    "temporarily rejected: "
                } else if e.is_timeout() {
                    "timed out: "
                } else {
                    ""
                };
                Err(DeliveryError {
                    retryable,
                    message: format!("{what} failed: {kind}{}", error_chain(&e)),
                })
            }
        }
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834), so auto-responders stay quiet.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_s: &str) -> Result<Self, Box<dyn StdError + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

fn build_message(from: &str, to: &[String], n: &Notification) -> Result<Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|_| "invalid from address".to_owned())?;
    let domain = from.email.domain().to_owned();
    let mut builder = Message::builder()
        .from(from)
        .subject(render::email_subject(n))
        .message_id(Some(format!(
            "<mamori.{}.{:016x}{:016x}@{}>",
            n.scan_id,
            fastrand::u64(..),
            fastrand::u64(..),
            domain
        )))
        .header(ContentType::TEXT_PLAIN)
        .header(AutoSubmitted);
    for (i, addr) in to.iter().enumerate() {
        let mbox: Mailbox = addr
            .parse()
            .map_err(|_| format!("recipient #{} is not a valid mailbox", i + 1))?;
        builder = builder.to(mbox);
    }
    builder
        .body(render::email_body(n))
        .map_err(|e| e.to_string())
}

fn json_bytes(v: &serde_json::Value) -> Result<Vec<u8>, DeliveryError> {
    serde_json::to_vec(v)
        .map_err(|e| DeliveryError::permanent(format!("cannot encode payload: {e}")))
}

/// Up to [`MAX_BODY_SNIPPET`] characters of the response body, single line.
async fn read_snippet(resp: &mut reqwest::Response) -> String {
    let mut buf = Vec::new();
    while buf.len() < MAX_BODY_SNIPPET * 4 {
        match resp.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            _ => break,
        }
    }
    render::clip(&String::from_utf8_lossy(&buf), MAX_BODY_SNIPPET)
}

/// `outer: inner: root` without repeating a cause that the outer message
/// already contains.
fn error_chain(e: &dyn StdError) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let msg = s.to_string();
        if !msg.is_empty() && !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        source = s.source();
    }
    render::clip(&out, 500)
}

/// Replaces every secret of `channel` in `message` with `[redacted]`.
fn scrub(message: &str, channel: &ChannelConfig) -> String {
    let mut out = message.to_owned();
    for secret in channel.secrets() {
        if out.contains(&secret) {
            out = out.replace(&secret, "[redacted]");
        }
    }
    out
}

fn human_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_secrets() {
        let c = ChannelConfig::Slack {
            url: "https://hooks.slack.com/services/T0/B0/SECRETTOKEN".into(),
        };
        let m = scrub(
            "failed for https://hooks.slack.com/services/T0/B0/SECRETTOKEN and /services/T0/B0/SECRETTOKEN",
            &c,
        );
        assert!(!m.contains("SECRETTOKEN"), "{m}");
        let e = ChannelConfig::Email {
            host: "smtp.example.jp".into(),
            port: 465,
            tls: EmailTls::Tls,
            username: Some("u".into()),
            password: Some("hunter2-secret".into()),
            from: "a@example.jp".into(),
            to: vec!["b@example.jp".into()],
        };
        assert_eq!(scrub("auth hunter2-secret bad", &e), "auth [redacted] bad");
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_secs(10)), "10s");
        assert_eq!(human_duration(Duration::from_millis(500)), "500ms");
    }
}
