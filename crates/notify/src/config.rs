//! Channel configuration, validation and redaction.

use std::fmt;
use std::net::IpAddr;

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use url::Url;

/// Minimum length of a webhook signing secret.
pub(crate) const MIN_SECRET_LEN: usize = 16;
const MAX_URL_LEN: usize = 2048;
const MAX_RECIPIENTS: usize = 50;

/// Where to deliver notifications. Serialized with a `kind` tag
/// (`webhook`, `slack`, `teams`, `email`).
///
/// `Debug` redacts secrets: webhook secrets and SMTP passwords are hidden and
/// URLs are shown as scheme + host only (Slack and Teams webhook URLs carry
/// their credential in the path).
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// POST the notification JSON, signed with HMAC-SHA256 (see [`crate::sign`]).
    Webhook { url: String, secret: String },
    /// Slack incoming webhook (`https://hooks.slack.com/services/...`).
    Slack { url: String },
    /// Microsoft Teams incoming webhook (Workflows "when a Teams webhook
    /// request is received"), receiving an Adaptive Card.
    Teams { url: String },
    /// Plain-text e-mail over SMTP.
    Email {
        host: String,
        port: u16,
        tls: EmailTls,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<String>,
        from: String,
        to: Vec<String>,
    },
}

/// How the SMTP connection is protected.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum EmailTls {
    /// Plain text: only allowed for a relay on localhost.
    None,
    /// Plain connection upgraded with STARTTLS (required, typically port 587).
    Starttls,
    /// TLS from the first byte (implicit TLS, typically port 465).
    Tls,
}

/// A channel configuration that cannot be used. The reason never contains
/// the secret parts of the configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    #[error("invalid {kind} channel: {reason}")]
    InvalidChannel { kind: &'static str, reason: String },
}

impl ChannelConfig {
    /// `"webhook"`, `"slack"`, `"teams"` or `"email"` (the serde tag).
    pub fn kind(&self) -> &'static str {
        match self {
            ChannelConfig::Webhook { .. } => "webhook",
            ChannelConfig::Slack { .. } => "slack",
            ChannelConfig::Teams { .. } => "teams",
            ChannelConfig::Email { .. } => "email",
        }
    }

    /// Checks the configuration without contacting anything.
    ///
    /// * URLs must be absolute `https://` URLs without credentials
    ///   (`http://` only for localhost / loopback receivers).
    /// * Webhook secrets must be at least 16 characters.
    /// * E-mail needs a host, a non-zero port, valid `from` and 1–50 `to`
    ///   addresses, both or neither of username/password, and TLS
    ///   (`starttls`/`tls`) unless the host is localhost / loopback.
    pub fn validate(&self) -> Result<(), NotifyError> {
        let kind = self.kind();
        let invalid = |reason: &str| NotifyError::InvalidChannel {
            kind,
            reason: reason.to_owned(),
        };
        match self {
            ChannelConfig::Webhook { url, secret } => {
                check_url(url).map_err(|r| invalid(&r))?;
                if secret.chars().count() < MIN_SECRET_LEN {
                    return Err(invalid(&format!(
                        "signing secret must be at least {MIN_SECRET_LEN} characters"
                    )));
                }
                Ok(())
            }
            ChannelConfig::Slack { url } | ChannelConfig::Teams { url } => {
                check_url(url).map_err(|r| invalid(&r))
            }
            ChannelConfig::Email {
                host,
                port,
                tls,
                username,
                password,
                from,
                to,
            } => {
                let host = host.trim();
                if host.is_empty() || host.len() > 253 {
                    return Err(invalid("SMTP host is empty or too long"));
                }
                if host
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "/@?#".contains(c))
                {
                    return Err(invalid("SMTP host must be a bare host name or address"));
                }
                if *port == 0 {
                    return Err(invalid("SMTP port must not be 0"));
                }
                if *tls == EmailTls::None && !is_loopback_host(host) {
                    return Err(invalid(
                        "tls \"none\" is only allowed for a relay on localhost; use starttls or tls",
                    ));
                }
                match (username, password) {
                    (Some(u), Some(_)) if u.is_empty() => {
                        return Err(invalid("SMTP username is empty"))
                    }
                    (Some(_), Some(_)) | (None, None) => {}
                    _ => return Err(invalid("SMTP username and password must be set together")),
                }
                from.parse::<Mailbox>()
                    .map_err(|_| invalid("the from address is not a valid mailbox"))?;
                if to.is_empty() {
                    return Err(invalid("no recipient (to) address"));
                }
                if to.len() > MAX_RECIPIENTS {
                    return Err(invalid(&format!(
                        "at most {MAX_RECIPIENTS} recipient addresses"
                    )));
                }
                for (i, addr) in to.iter().enumerate() {
                    addr.parse::<Mailbox>().map_err(|_| {
                        invalid(&format!("recipient #{} is not a valid mailbox", i + 1))
                    })?;
                }
                Ok(())
            }
        }
    }

    /// Strings that must never leak into messages or logs: secrets, passwords
    /// and (for URL channels) the full URL and its path.
    pub(crate) fn secrets(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add_url = |url: &str| {
            out.push(url.to_owned());
            if let Ok(u) = Url::parse(url) {
                let mut tail = u.path().to_owned();
                if let Some(q) = u.query() {
                    out.push(q.to_owned());
                    tail.push('?');
                    tail.push_str(q);
                }
                if u.path().len() > 1 {
                    out.push(u.path().to_owned());
                }
                if tail.len() > 1 {
                    out.push(tail);
                }
            }
        };
        match self {
            ChannelConfig::Webhook { url, secret } => {
                add_url(url);
                out.push(secret.clone());
            }
            ChannelConfig::Slack { url } | ChannelConfig::Teams { url } => add_url(url),
            ChannelConfig::Email { password, .. } => {
                if let Some(p) = password {
                    out.push(p.clone());
                }
            }
        }
        // Longest first so that a longer secret is replaced before a part of it.
        out.retain(|s| s.len() >= 4);
        out.sort_by_key(|s| std::cmp::Reverse(s.len()));
        out
    }

    /// Where this channel delivers, safe to show: `scheme://host[:port]` for
    /// URL channels, `host:port` for e-mail.
    pub(crate) fn target(&self) -> String {
        match self {
            ChannelConfig::Webhook { url, .. }
            | ChannelConfig::Slack { url }
            | ChannelConfig::Teams { url } => url_origin(url),
            ChannelConfig::Email { host, port, .. } => format!("{host}:{port}"),
        }
    }
}

/// Shown instead of a secret in `Debug` output.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelConfig::Webhook { url, .. } => f
                .debug_struct("Webhook")
                .field("url", &redact_url(url))
                .field("secret", &Redacted)
                .finish(),
            ChannelConfig::Slack { url } => f
                .debug_struct("Slack")
                .field("url", &redact_url(url))
                .finish(),
            ChannelConfig::Teams { url } => f
                .debug_struct("Teams")
                .field("url", &redact_url(url))
                .finish(),
            ChannelConfig::Email {
                host,
                port,
                tls,
                username,
                password,
                from,
                to,
            } => f
                .debug_struct("Email")
                .field("host", host)
                .field("port", port)
                .field("tls", tls)
                .field("username", username)
                .field("password", &password.as_ref().map(|_| Redacted))
                .field("from", from)
                .field("to", to)
                .finish(),
        }
    }
}

/// `scheme://host[:port]`, or a placeholder when the URL does not parse.
pub(crate) fn url_origin(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            match u.port() {
                Some(p) => format!("{}://{}:{}", u.scheme(), host, p),
                None => format!("{}://{}", u.scheme(), host),
            }
        }
        Err(_) => "<unparseable url>".to_owned(),
    }
}

/// The URL as shown in `Debug`: origin plus an ellipsis for the hidden rest.
fn redact_url(url: &str) -> String {
    let origin = url_origin(url);
    if origin.starts_with('<') {
        origin
    } else {
        format!("{origin}/…")
    }
}

fn check_url(raw: &str) -> Result<(), String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("URL longer than {MAX_URL_LEN} characters"));
    }
    let url = Url::parse(raw).map_err(|_| "URL is not a valid absolute URL".to_owned())?;
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h,
        _ => return Err("URL has no host".to_owned()),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("URL must not contain credentials (user:password@)".to_owned());
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        "http" => Err("URL must use https (http is only allowed for localhost)".to_owned()),
        _ => Err("URL scheme must be https".to_owned()),
    }
}

/// `localhost`, `127.0.0.0/8` or `::1` (with or without brackets).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let h = host.trim().trim_end_matches('.');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let h = h.trim_start_matches('[').trim_end_matches(']');
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(host: &str, tls: EmailTls) -> ChannelConfig {
        ChannelConfig::Email {
            host: host.into(),
            port: 587,
            tls,
            username: Some("mailer".into()),
            password: Some("p@ssw0rd-very-secret".into()),
            from: "Mamori <alerts@example.jp>".into(),
            to: vec!["secops@example.jp".into()],
        }
    }

    #[test]
    fn validation_rules() {
        let ok = ChannelConfig::Webhook {
            url: "https://hooks.example.com/mamori".into(),
            secret: "0123456789abcdef".into(),
        };
        assert!(ok.validate().is_ok());
        let short = ChannelConfig::Webhook {
            url: "https://hooks.example.com/mamori".into(),
            secret: "short".into(),
        };
        assert!(short.validate().is_err());
        for bad in [
            "http://hooks.example.com/x",
            "ftp://hooks.example.com/x",
            "https://user:pw@hooks.example.com/x",
            "not a url",
            "/relative",
        ] {
            let c = ChannelConfig::Slack { url: bad.into() };
            let err = c.validate().unwrap_err().to_string();
            assert!(!err.contains("pw@"), "{err}");
        }
        for good in [
            "http://127.0.0.1:9/x",
            "http://localhost/x",
            "http://[::1]:80/x",
            "https://hooks.slack.com/services/T/B/X",
        ] {
            assert!(
                ChannelConfig::Teams { url: good.into() }.validate().is_ok(),
                "{good}"
            );
        }
        assert!(email("smtp.example.jp", EmailTls::Starttls)
            .validate()
            .is_ok());
        assert!(email("smtp.example.jp", EmailTls::Tls).validate().is_ok());
        assert!(email("smtp.example.jp", EmailTls::None).validate().is_err());
        assert!(email("localhost", EmailTls::None).validate().is_ok());
        assert!(email("127.0.0.1", EmailTls::None).validate().is_ok());
        let mut e = email("smtp.example.jp", EmailTls::Tls);
        if let ChannelConfig::Email { to, .. } = &mut e {
            to.clear();
        }
        assert!(e.validate().is_err());
        let mut e = email("smtp.example.jp", EmailTls::Tls);
        if let ChannelConfig::Email { password, .. } = &mut e {
            *password = None;
        }
        assert!(e.validate().is_err());
        let mut e = email("smtp.example.jp", EmailTls::Tls);
        if let ChannelConfig::Email { from, .. } = &mut e {
            *from = "not an address".into();
        }
        assert!(e.validate().is_err());
    }

    #[test]
    fn serde_shape() {
        let c: ChannelConfig = serde_json::from_str(
            r#"{"kind":"email","host":"smtp.example.jp","port":465,"tls":"tls","from":"a@example.jp","to":["b@example.jp"]}"#,
        )
        .unwrap();
        assert_eq!(c.kind(), "email");
        assert!(c.validate().is_ok());
        let s = serde_json::to_value(ChannelConfig::Slack {
            url: "https://hooks.slack.com/services/T/B/X".into(),
        })
        .unwrap();
        assert_eq!(s["kind"], "slack");
        let e = serde_json::to_value(email("h", EmailTls::Starttls)).unwrap();
        assert_eq!(e["tls"], "starttls");
    }

    #[test]
    fn debug_redacts() {
        let d = format!("{:?}", email("smtp.example.jp", EmailTls::Tls));
        assert!(!d.contains("p@ssw0rd"), "{d}");
        assert!(d.contains("smtp.example.jp"));
        let d = format!(
            "{:?}",
            ChannelConfig::Slack {
                url: "https://hooks.slack.com/services/T000/B000/XXXXSECRET".into()
            }
        );
        assert_eq!(d, "Slack { url: \"https://hooks.slack.com/…\" }");
    }
}
