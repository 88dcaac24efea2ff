//! Credentials never reach a log line or an error message.
//!
//! Every secret the connectors hold is a [`Secret`]: its `Debug` and `Display` print
//! `[REDACTED]`, and creating one registers its text with a process-wide scrubber. Anything
//! that echoes text from outside — an API error body, a transport error — goes through
//! [`scrub`] before it is stored or printed, so even a server that reflects a credential back
//! cannot leak it.
//!
//! The scrubber forgets a secret some time after its last copy is dropped: every access token and
//! signed assertion is a `Secret`, and a long-running server would otherwise hold (and scan for)
//! every one it ever made. The most recent [`KEPT_AFTER_DROP`] dropped ones are still scrubbed, so
//! an error that echoes a token just replaced is still hidden.

use std::fmt;
use std::sync::{Arc, LazyLock, RwLock, Weak};

/// One text to scrub: a secret or a line of one, alive while a secret holding it has a copy.
struct Entry {
    owners: Vec<Weak<str>>,
    piece: Arc<str>,
    /// Registration order, to forget the longest-dropped first.
    seq: u64,
}

impl Entry {
    fn alive(&self) -> bool {
        self.owners.iter().any(|o| o.strong_count() > 0)
    }
}

#[derive(Default)]
struct Registry {
    entries: Vec<Entry>,
    next: u64,
}

static REGISTERED: LazyLock<RwLock<Registry>> = LazyLock::new(Default::default);

/// Dropped secrets still scrubbed (the most recently registered of them).
const KEPT_AFTER_DROP: usize = 256;

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
    // A copy of the text, not another handle on it: the entry must not keep the secret alive.
    let mut pieces: Vec<Arc<str>> = vec![Arc::from(&**value)];
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
    let mut registry = REGISTERED.write().unwrap_or_else(|e| e.into_inner());
    let seq = registry.next;
    registry.next += 1;
    for piece in pieces {
        if piece.len() < MIN_SECRET_LEN {
            continue;
        }
        let owner = Arc::downgrade(value);
        match registry.entries.iter_mut().find(|e| e.piece == piece) {
            Some(known) => {
                known.owners.retain(|o| o.strong_count() > 0);
                known.owners.push(owner);
                known.seq = seq;
            }
            None => registry.entries.push(Entry {
                owners: vec![owner],
                piece,
                seq,
            }),
        }
    }
    // Forget the longest-dropped secrets beyond the few kept.
    let mut dropped: Vec<u64> = registry
        .entries
        .iter()
        .filter(|e| !e.alive())
        .map(|e| e.seq)
        .collect();
    if dropped.len() > KEPT_AFTER_DROP {
        dropped.sort_unstable();
        let oldest_kept = dropped[dropped.len() - KEPT_AFTER_DROP];
        registry
            .entries
            .retain(|e| e.alive() || e.seq >= oldest_kept);
    }
    // Longest first, so a secret that contains another is replaced whole.
    registry
        .entries
        .sort_by_key(|e| std::cmp::Reverse(e.piece.len()));
}

/// Texts the scrubber holds now.
#[cfg(test)]
fn scrubbed_count() -> usize {
    REGISTERED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .entries
        .len()
}

/// Replaces every registered secret in `text` with `[REDACTED]`.
pub fn scrub(text: &str) -> String {
    let registry = REGISTERED.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in registry.entries.iter().map(|e| &e.piece) {
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
    fn dropped_secrets_are_forgotten_after_a_while() {
        let live = Secret::new("long-lived-client-secret-0001");
        let mut last = String::new();
        for n in 0..5_000 {
            last = format!("access-token-{n:08}-abcdef");
            let _token = Secret::new(last.clone());
        }
        // Other tests' secrets may be alive at the same time; thousands are not.
        assert!(scrubbed_count() < 1_000, "{} texts held", scrubbed_count());
        // The most recently dropped and every live one are still scrubbed.
        assert_eq!(scrub(&format!("echo {last}")), "echo [REDACTED]");
        assert_eq!(
            scrub("echo long-lived-client-secret-0001"),
            "echo [REDACTED]"
        );
        assert!(scrub("echo access-token-00000000-abcdef").contains("access-token"));
        // A text held by two secrets lives while either does.
        let twin = Secret::new("long-lived-client-secret-0001");
        drop(twin);
        for n in 0..1_000 {
            let _token = Secret::new(format!("later-token-{n:08}-abcdef"));
        }
        assert_eq!(
            scrub("echo long-lived-client-secret-0001"),
            "echo [REDACTED]"
        );
        drop(live);
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
