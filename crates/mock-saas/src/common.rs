//! What every imitation API shares: a loopback server, injected latency and throttling,
//! injected faults for tests, request counting and an access-token store.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the imitation behaves on the wire.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Added to every response.
    pub latency: Duration,
    /// Every n-th request (0 = never) is answered 429 with `Retry-After`.
    pub throttle_every: u64,
    /// Seconds announced in `Retry-After`.
    pub retry_after_secs: u64,
    /// Faults injected for requests whose path and query contain the given text.
    pub faults: Vec<(String, Fault)>,
}

#[derive(Debug, Clone)]
pub enum Fault {
    /// A status with the API's error body.
    Status(u16),
    /// `200 OK` with a body that is not JSON.
    Malformed,
    /// `200 OK` with a JSON body of about this many bytes.
    Huge(usize),
    /// No answer for this long.
    Hang(Duration),
}

/// Counters the tests and benchmarks read.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub by_path: Mutex<HashMap<String, u64>>,
}

impl Counters {
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
pub struct Wire {
    pub behaviour: Arc<Behaviour>,
    pub counters: Arc<Counters>,
    pub error_style: ErrorStyle,
}

/// The shape of error bodies.
#[derive(Debug, Clone, Copy)]
pub enum ErrorStyle {
    /// Microsoft Graph / OData v4: `{"error":{"code","message","innerError"}}`.
    Microsoft,
    /// Google APIs: `{"error":{"code","message","errors":[…],"status"}}`.
    Google,
}

pub fn error_response(style: ErrorStyle, status: u16, code: &str, message: &str) -> Response {
    let body = match style {
        ErrorStyle::Microsoft => json!({"error": {
            "code": code,
            "message": message,
            "innerError": {"date": jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S").to_string(), "request-id": random_hex(16), "client-request-id": random_hex(16)}
        }}),
        ErrorStyle::Google => json!({"error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": code}],
            "status": google_status(status),
        }}),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn google_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    }
}

static RNG: AtomicU64 = AtomicU64::new(0x2545_F491_4F6C_DD1D);

pub fn random_u64() -> u64 {
    let mut x = RNG.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub fn random_hex(bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < bytes * 2 {
        s.push_str(&format!("{:016x}", random_u64()));
    }
    s.truncate(bytes * 2);
    s
}

/// Latency, throttling, faults and counting, in front of every route.
pub async fn wire_layer(State(wire): State<Wire>, request: Request, next: Next) -> Response {
    let n = wire.counters.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    {
        let mut by_path = wire
            .counters
            .by_path
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *by_path.entry(request.uri().path().to_string()).or_default() += 1;
    }
    if !wire.behaviour.latency.is_zero() {
        tokio::time::sleep(wire.behaviour.latency).await;
    }
    let is_token = request.uri().path().ends_with("/token");
    if wire.behaviour.throttle_every > 0 && !is_token && n % wire.behaviour.throttle_every == 0 {
        wire.counters.throttled.fetch_add(1, Ordering::Relaxed);
        let mut resp = error_response(
            wire.error_style,
            429,
            match wire.error_style {
                ErrorStyle::Microsoft => "TooManyRequests",
                ErrorStyle::Google => "rateLimitExceeded",
            },
            "Too many requests. Please wait and try again.",
        );
        resp.headers_mut().insert(
            "retry-after",
            HeaderValue::from_str(&wire.behaviour.retry_after_secs.to_string()).expect("digits"),
        );
        return resp;
    }
    for (needle, fault) in &wire.behaviour.faults {
        if !target.contains(needle.as_str()) {
            continue;
        }
        match fault {
            Fault::Status(code) => {
                return error_response(
                    wire.error_style,
                    *code,
                    "InjectedFault",
                    "Injected failure for testing.",
                )
            }
            Fault::Malformed => {
                return (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    "{\"value\": [ {\"id\": ",
                )
                    .into_response()
            }
            Fault::Huge(bytes) => {
                let chunk = format!(
                    "{{\"id\":\"{}\",\"displayName\":\"padding\"}},",
                    random_hex(16)
                );
                let count = bytes / chunk.len() + 1;
                let mut body = String::with_capacity(bytes + 64);
                body.push_str("{\"value\":[");
                for _ in 0..count {
                    body.push_str(&chunk);
                }
                body.push_str("{}]}");
                return (StatusCode::OK, [("content-type", "application/json")], body)
                    .into_response();
            }
            Fault::Hang(d) => {
                tokio::time::sleep(*d).await;
            }
        }
    }
    next.run(request).await
}

/// A running imitation server.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RunningServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Serves `router` on 127.0.0.1 (port 0 = any free port) behind the wire layer.
pub async fn serve(
    router: Router<()>,
    behaviour: Behaviour,
    style: ErrorStyle,
    port: u16,
) -> std::io::Result<RunningServer> {
    let counters = Arc::new(Counters::default());
    let wire = Wire {
        behaviour: Arc::new(behaviour),
        counters: counters.clone(),
        error_style: style,
    };
    let app = router.layer(axum::middleware::from_fn_with_state(wire, wire_layer));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningServer {
        addr,
        counters,
        shutdown: Some(tx),
    })
}

/// What an access token grants.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Audience (Microsoft resource or "google").
    pub audience: String,
    /// Application permissions / roles (Microsoft) or scopes (Google).
    pub permissions: HashSet<String>,
    pub expires: Instant,
}

/// Issued access tokens. Opaque random strings: clients must not look inside tokens.
#[derive(Default)]
pub struct TokenStore {
    tokens: Mutex<HashMap<String, Grant>>,
}

impl TokenStore {
    pub fn issue(&self, prefix: &str, grant: Grant) -> String {
        let token = format!("{prefix}{}", random_hex(32));
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), grant);
        token
    }

    /// Revokes every token (tests of token refresh after 401).
    pub fn revoke_all(&self) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Checks the bearer token: 401 when missing, unknown, expired or for another audience;
    /// 403 when none of `any_of` is granted (empty `any_of` = any valid token).
    pub fn check(
        &self,
        headers: &HeaderMap,
        audience: &str,
        any_of: &[&str],
        style: ErrorStyle,
    ) -> Result<(), Response> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let Some(token) = token else {
            return Err(unauthenticated(style, "Access token is empty."));
        };
        let grant = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .cloned();
        let Some(grant) = grant else {
            return Err(unauthenticated(
                style,
                "Access token validation failure. Invalid audience or unknown token.",
            ));
        };
        if grant.expires < Instant::now() {
            return Err(unauthenticated(
                style,
                "Lifetime validation failed, the token is expired.",
            ));
        }
        if grant.audience != audience {
            return Err(unauthenticated(
                style,
                "Access token validation failure. Invalid audience.",
            ));
        }
        if !any_of.is_empty() && !any_of.iter().any(|p| grant.permissions.contains(*p)) {
            return Err(match style {
                ErrorStyle::Microsoft => error_response(
                    style,
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                ),
                ErrorStyle::Google => error_response(
                    style,
                    403,
                    "insufficientPermissions",
                    "Request had insufficient authentication scopes.",
                ),
            });
        }
        Ok(())
    }
}

fn unauthenticated(style: ErrorStyle, message: &str) -> Response {
    match style {
        ErrorStyle::Microsoft => {
            let mut r = error_response(style, 401, "InvalidAuthenticationToken", message);
            r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer realm=\"\", error=\"invalid_token\""));
            r
        }
        ErrorStyle::Google => error_response(
            style,
            401,
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        ),
    }
}

/// One page of `items`: `(page, next_offset)`.
pub fn page<T: Clone>(items: &[T], offset: usize, size: usize) -> (Vec<T>, Option<usize>) {
    let end = (offset + size).min(items.len());
    let slice = if offset < items.len() {
        items[offset..end].to_vec()
    } else {
        Vec::new()
    };
    (slice, (end < items.len()).then_some(end))
}

/// A JSON response that is not the generic `Json` (content type with charset, as the APIs send).
pub fn json_response(value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
