//! Webhook signatures (Stripe-style): `v1=<hex HMAC-SHA256 of "{timestamp}.{body}">`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Mamori-Signature` value for a body sent at `timestamp` (unix
/// seconds, the `X-Mamori-Timestamp` header): `v1=` followed by the lowercase
/// hex HMAC-SHA256, keyed with `secret`, of `{timestamp}.{body}`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "v1={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// Checks a received webhook: `header_ts` is the `X-Mamori-Timestamp` value,
/// `header_sig` the `X-Mamori-Signature` value (one or more comma-separated
/// `v1=<hex>` entries, so a receiver can accept signatures made with an old
/// and a new secret during rotation), `body` the raw request body and `now`
/// the receiver's unix time.
///
/// Returns `false` when the timestamp is more than `tolerance_s` seconds away
/// from `now` (replay protection) or no signature matches. The comparison is
/// constant-time.
pub fn verify(
    secret: &[u8],
    header_ts: &str,
    header_sig: &str,
    body: &[u8],
    now: i64,
    tolerance_s: i64,
) -> bool {
    let Ok(ts) = header_ts.trim().parse::<i64>() else {
        return false;
    };
    if tolerance_s < 0 || now.abs_diff(ts) > tolerance_s as u64 {
        return false;
    }
    let mut ok = false;
    for entry in header_sig.split(',') {
        let Some(hex_sig) = entry.trim().strip_prefix("v1=") else {
            continue;
        };
        let Ok(sig) = hex::decode(hex_sig.trim()) else {
            continue;
        };
        // verify_slice compares in constant time.
        if mac(secret, ts, body).verify_slice(&sig).is_ok() {
            ok = true;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_determinism() {
        let a = sign(b"key", 1, b"body");
        assert!(a.starts_with("v1="));
        assert_eq!(a.len(), 3 + 64);
        assert_eq!(a, sign(b"key", 1, b"body"));
        assert_ne!(a, sign(b"key", 2, b"body"));
        assert_ne!(a, sign(b"key2", 1, b"body"));
    }

    #[test]
    fn rfc4231_case_2() {
        // RFC 4231 test case 2 for the HMAC primitive, and sign() over the
        // same bytes split as "{ts}.{body}".
        let mut m = HmacSha256::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mut m = HmacSha256::new_from_slice(b"Jefe").unwrap();
        m.update(b"42.what do ya want for nothing?");
        let expected = format!("v1={}", hex::encode(m.finalize().into_bytes()));
        assert_eq!(sign(b"Jefe", 42, b"what do ya want for nothing?"), expected);
    }

    #[test]
    fn verify_rules() {
        let body = br#"{"event":"scan_failed"}"#;
        let sig = sign(b"0123456789abcdef", 1_700_000_000, body);
        let ok = |ts: &str, sig: &str, body: &[u8], now: i64| {
            verify(b"0123456789abcdef", ts, sig, body, now, 300)
        };
        assert!(ok("1700000000", &sig, body, 1_700_000_000));
        assert!(ok("1700000000", &sig, body, 1_700_000_300));
        assert!(ok("1700000000", &sig, body, 1_699_999_700));
        assert!(!ok("1700000000", &sig, body, 1_700_000_301));
        assert!(!ok("1700000001", &sig, body, 1_700_000_000));
        assert!(!ok("1700000000", &sig, b"{}", 1_700_000_000));
        assert!(!ok("abc", &sig, body, 1_700_000_000));
        assert!(!ok("1700000000", "v1=zz", body, 1_700_000_000));
        assert!(!ok("1700000000", "", body, 1_700_000_000));
        assert!(!ok(
            "1700000000",
            &sig.replace("v1=", "v0="),
            body,
            1_700_000_000
        ));
        let rotated = format!("v1={},{}", "00".repeat(32), sig);
        assert!(ok("1700000000", &rotated, body, 1_700_000_000));
        assert!(!verify(
            b"0123456789abcdef",
            "1700000000",
            &sig,
            body,
            1_700_000_000,
            -1
        ));
    }
}
