//! Response hardening (CSP and friends), request metrics, and the login rate limit.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::AppState;

/// No script at all, styles only from us, no framing, forms only back to us.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

pub async fn headers_and_metrics(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().clone();
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if is_api {
        response = json_rejection(response).await;
    }
    let h = response.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if state.config.secure_cookies {
        h.insert(
            "strict-transport-security",
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key("cache-control") {
        h.insert("cache-control", HeaderValue::from_static("no-store"));
    }
    state.metrics.observe_http(
        method.as_str(),
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The framework's own rejections (unparsable path, query or body) are plain text; API clients
/// get the same JSON error shape as every other error.
async fn json_rejection(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() && plain) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let code = match status.as_u16() {
        404 => "not_found",
        405 => "method_not_allowed",
        413 => "too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        _ => "bad_request",
    };
    let body =
        serde_json::json!({"error": {"code": code, "message": String::from_utf8_lossy(&text)}});
    let mut out = Response::from_parts(parts, axum::body::Body::from(body.to_string()));
    out.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    out.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
    out
}

/// Sign-in attempts per key (client, user name) in a sliding window. An attempt is counted
/// before its password is checked (a burst of parallel attempts cannot all pass the check
/// first); a successful sign-in takes its own attempt back and clears the user name's count.
pub struct LoginLimiter {
    max: usize,
    window: Duration,
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Keys kept at most; past it, keys without an attempt in the window are forgotten.
const MAX_LIMITER_KEYS: usize = 100_000;

impl LoginLimiter {
    pub fn new(max: usize, window: Duration) -> Self {
        LoginLimiter {
            max: max.max(1),
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt against every key, unless one is at its limit: then `Err(seconds)`,
    /// how long until its oldest attempt ages out, and nothing is counted.
    pub fn reserve(&self, keys: &[&str]) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            if let Some(q) = map.get_mut(*key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    q.pop_front();
                }
                if q.len() >= self.max {
                    let wait = q.front().map_or(self.window, |oldest| {
                        self.window.saturating_sub(now.duration_since(*oldest))
                    });
                    return Err(wait.as_secs().max(1));
                }
            }
        }
        if map.len() > MAX_LIMITER_KEYS {
            // An address-spraying client cannot grow this without bound.
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) <= self.window)
            });
        }
        for key in keys {
            map.entry(key.to_string()).or_default().push_back(now);
        }
        Ok(())
    }

    /// Forgets a key's attempts (a password proven some other way than by signing in).
    pub fn clear(&self, key: &str) {
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(key);
    }

    /// A sign-in succeeded: the client's attempt is taken back, the user name's count cleared.
    pub fn succeed(&self, client_key: &str, user_key: &str) {
        let mut map = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = map.get_mut(client_key) {
            q.pop_back();
            if q.is_empty() {
                map.remove(client_key);
            }
        }
        map.remove(user_key);
    }
}

/// Longest user name a sign-in attempt may carry (the store allows 128 characters); longer
/// ones are refused before any lookup or hashing, and never become limiter keys.
pub const MAX_LOGIN_NAME_BYTES: usize = 512;

/// The limiter's key of a user name: as the store matches it (trimmed, lowercase).
pub fn login_name_key(name: &str) -> String {
    format!("user:{}", name.trim().to_lowercase())
}

/// The limiter's key of a client: the peer's address — or, when the peer is one of the
/// configured proxies, the nearest address in `X-Forwarded-For` that is not — with IPv6
/// addresses by their /64 (one host owns at least that much).
pub fn client_key(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[IpNet]) -> String {
    let is_proxy = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = canonical(peer);
    if is_proxy(&client) {
        // Proxies append; read from the right, skipping our own proxies, and stop at the first
        // address that is not one (anything left of it the client could have written).
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = canonical(ip);
                    if !is_proxy(&client) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    match client {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
