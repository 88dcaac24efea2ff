//! Credentials never reach a log line or an error message.
//!
//! Every secret the connectors hold is a [`Secret`]: its `Debug` and `Display` print
//! `[REDACTED]`, and creating one registers its text with a process-wide scrubber. Anything
//! that echoes text from outside — an API error body, a transport error — goes through
//! [`scrub`] before it is stored or printed, so even a server that reflects a credential back
//! cannot leak it.

use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

static REGISTERED: LazyLock<RwLock<Vec<Arc<str>>>> = LazyLock::new(|| RwLock::new(Vec::new()));

/// Shortest text worth scrubbing: shorter values would mangle ordinary words.
const MIN_SECRET_LEN: usize = 6;

/// A credential (client secret, private key, access token, signed assertion).
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        let value: Arc<str> = Arc::from(value.into());
        register(&value);
        Secret(value)
    }

    /// The secret's text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret::new)
    }
}

fn register(value: &Arc<str>) {
    let mut pieces: Vec<Arc<str>> = vec![value.clone()];
    // A PEM key is also scrubbed line by line: a server might echo one line of it.
    if value.contains('\n') {
        pieces.extend(
            value
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
                .map(Arc::from),
        );
    }
    let mut registered = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    for piece in pieces {
        if piece.len() >= MIN_SECRET_LEN && !registered.contains(&piece) {
            registered.push(piece);
        }
    }
    // Longest first, so a secret that contains another is replaced whole.
    registered.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Replaces every registered secret in `text` with `[REDACTED]`.
pub fn scrub(text: &str) -> String {
    let registered = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in registered.iter() {
        if out.contains(&**secret) {
            out = out.replace(&**secret, "[REDACTED]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_scrub_hide_the_value() {
        let s = Secret::new("s3cr3t-value-xyz");
        assert_eq!(format!("{s:?} {s}"), "[REDACTED] [REDACTED]");
        assert_eq!(
            scrub("bad secret s3cr3t-value-xyz given"),
            "bad secret [REDACTED] given"
        );
        assert_eq!(s.expose(), "s3cr3t-value-xyz");
    }

    #[test]
    fn pem_lines_are_scrubbed_one_by_one() {
        let _k = Secret::new(
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n",
        );
        assert_eq!(
            scrub("echo MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
            "echo [REDACTED]"
        );
        assert!(scrub("-----BEGIN PRIVATE KEY-----").contains("BEGIN"));
    }
}
