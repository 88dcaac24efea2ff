//! The Office 365 Management Activity API under `/manage/api/v1.0/{tenant}/activity/feed`:
//! subscriptions (start, stop, list), the list of available content (`startTime`/`endTime`
//! both or neither, at most 24 hours apart, not older than 7 days; paged by the `NextPageUri`
//! header) and the content blobs (a JSON array of unified audit log records). Content is only
//! served for content types with a started subscription. Errors use the API's `AFxxxxx` codes
//! in `{"error": {"code", "message"}}`.

use super::{audience, M365State};
use crate::logs::store::Blob;
use crate::logs::{iso_plain, parse_time, CONTENT_TYPES, DAY, HOUR};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Content blobs per page of the content list.
pub const CONTENT_PAGE: usize = 50;
/// How long content stays retrievable.
pub const RETENTION_MS: i64 = 7 * DAY;

/// A subscription to one content type.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub enabled: bool,
    pub webhook: Value,
}

type Shared = State<Arc<M365State>>;

fn af(status: u16, code: &str, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

fn query(uri: &Uri) -> HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// Token (audience `https://manage.office.com`, permission `ActivityFeed.Read`) and tenant.
fn check(s: &M365State, headers: &HeaderMap, tenant: &str) -> Result<(), Response> {
    if let Err(r) = s.tokens.check(
        headers,
        audience::MANAGEMENT,
        &["ActivityFeed.Read"],
        crate::common::ErrorStyle::Microsoft,
    ) {
        if r.status() == StatusCode::FORBIDDEN {
            let granted = s
                .app
                .permissions
                .get(audience::MANAGEMENT)
                .map(|p| p.iter().cloned().collect::<Vec<_>>().join(","))
                .unwrap_or_default();
            return Err(af(403, "AF10001", &format!("The permission set ({granted}) sent in the request did not include the expected permission ActivityFeed.Read.")));
        }
        return Err(r);
    }
    if tenant != s.tenant_id {
        let guid = tenant.len() == 36 && tenant.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
        return Err(if guid {
            af(400, "AF20010", &format!("The tenant ID passed in the URL ({tenant}) does not match the tenant ID passed in the access token ({}).", s.tenant_id))
        } else {
            af(
                400,
                "AF20013",
                &format!("The tenant ID passed in the URL ({tenant}) is not a valid GUID."),
            )
        });
    }
    Ok(())
}

fn content_type(q: &HashMap<String, String>) -> Result<&'static str, Response> {
    let Some(ct) = q.get("contentType") else {
        return Err(af(400, "AF20001", "Missing parameter: contentType."));
    };
    CONTENT_TYPES
        .iter()
        .copied()
        .chain(["DLP.All"])
        .find(|c| c.eq_ignore_ascii_case(ct))
        .ok_or_else(|| af(400, "AF20020", "The specified content type is not valid."))
}

fn subscribed(s: &M365State, ct: &str) -> Result<(), Response> {
    let subs = s.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
    match subs.get(ct) {
        Some(sub) if sub.enabled => Ok(()),
        _ => Err(af(
            400,
            "AF20022",
            "No subscription found for the specified content type.",
        )),
    }
}

fn host(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string()
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

pub fn routes() -> Router<Arc<M365State>> {
    let root = "/manage/api/v1.0/{tenant}/activity/feed";
    Router::new()
        .route(&format!("{root}/subscriptions/start"), post(start))
        .route(&format!("{root}/subscriptions/stop"), post(stop))
        .route(&format!("{root}/subscriptions/list"), get(list))
        .route(&format!("{root}/subscriptions/content"), get(content))
        .route(&format!("{root}/audit/{{id}}"), get(blob))
}

async fn start(
    State(s): Shared,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    tri!(check(&s, &headers, &tenant));
    let q = query(&uri);
    let ct = tri!(content_type(&q));
    let webhook = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v.get("webhook").cloned().unwrap_or(Value::Null),
            Err(_) => {
                return af(
                    400,
                    "AF20002",
                    "Invalid parameter type: webhook. Expected type: object",
                )
            }
        }
    };
    let webhook = match webhook {
        Value::Object(w) => {
            let address = w
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if !address.starts_with("https://") {
                return af(400, "AF20021", &format!("The webhook endpoint {address} could not be validated. The address must begin with HTTPS."));
            }
            json!({"status": "enabled", "address": address, "authId": w.get("authId").cloned().unwrap_or(Value::Null),
                "expiration": w.get("expiration").filter(|e| e.as_str().is_some_and(|t| !t.is_empty())).cloned().unwrap_or(Value::Null)})
        }
        _ => Value::Null,
    };
    let mut subs = s.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
    // Starting an enabled subscription again without a change is refused (microsoft/coe-starter-kit
    // issue 2807: HTTP 400, AF20024 "The subscription is already enabled. No property change.").
    if subs
        .get(ct)
        .is_some_and(|sub| sub.enabled && sub.webhook == webhook)
    {
        return af(
            400,
            "AF20024",
            "The subscription is already enabled. No property change.",
        );
    }
    subs.insert(
        ct.to_string(),
        Subscription {
            enabled: true,
            webhook: webhook.clone(),
        },
    );
    drop(subs);
    crate::common::json_response(
        &json!({"contentType": ct, "status": "enabled", "webhook": webhook}),
    )
}

async fn stop(
    State(s): Shared,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    tri!(check(&s, &headers, &tenant));
    let q = query(&uri);
    let ct = tri!(content_type(&q));
    let mut subs = s.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
    match subs.get_mut(ct) {
        Some(sub) if sub.enabled => {
            sub.enabled = false;
            StatusCode::OK.into_response()
        }
        _ => af(
            400,
            "AF20022",
            "No subscription found for the specified content type.",
        ),
    }
}

async fn list(State(s): Shared, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    tri!(check(&s, &headers, &tenant));
    let subs = s.subscriptions.lock().unwrap_or_else(|e| e.into_inner());
    let items: Vec<Value> = subs
        .iter()
        .map(|(ct, sub)| json!({"contentType": ct, "status": if sub.enabled { "enabled" } else { "disabled" }, "webhook": sub.webhook}))
        .collect();
    crate::common::json_response(&Value::Array(items))
}

/// The time window of a content listing: `[start, end)` in milliseconds.
pub fn window(q: &HashMap<String, String>, now_ms: i64) -> Result<(i64, i64), Response> {
    const BAD: &str = "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time and start time no more than 7 days in the past.";
    match (q.get("startTime"), q.get("endTime")) {
        (None, None) => Ok((now_ms - 24 * HOUR, now_ms)),
        (Some(a), Some(b)) => {
            let start = parse_time(a).ok_or_else(|| {
                af(
                    400,
                    "AF20002",
                    "Invalid parameter type: startTime. Expected type: datetime",
                )
            })?;
            let end = parse_time(b).ok_or_else(|| {
                af(
                    400,
                    "AF20002",
                    "Invalid parameter type: endTime. Expected type: datetime",
                )
            })?;
            if start >= end || end - start > 24 * HOUR || start < now_ms - RETENTION_MS {
                return Err(af(400, "AF20055", BAD));
            }
            Ok((start, end))
        }
        _ => Err(af(400, "AF20055", BAD)),
    }
}

fn blob_item(host: &str, tenant: &str, b: &Blob) -> Value {
    json!({
        "contentType": b.content_type,
        "contentId": b.id,
        "contentUri": format!("http://{host}/manage/api/v1.0/{tenant}/activity/feed/audit/{}", b.id),
        "contentCreated": crate::logs::iso_millis(b.created_ms),
        "contentExpiration": crate::logs::iso_millis(b.created_ms + RETENTION_MS),
    })
}

async fn content(
    State(s): Shared,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    tri!(check(&s, &headers, &tenant));
    let q = query(&uri);
    let ct = tri!(content_type(&q));
    tri!(subscribed(&s, ct));
    let (start, end) = tri!(window(&q, s.log_now_ms));
    let offset = match q.get("nextPage") {
        None => 0,
        Some(token) => match token
            .split_once('R')
            .and_then(|(_, n)| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => return af(400, "AF20031", &format!("Invalid nextPage Input: {token}.")),
        },
    };
    let logs = s.logs();
    let available: Vec<&Blob> = logs
        .blobs
        .get(ct)
        .into_iter()
        .flatten()
        .filter(|b| b.created_ms >= start && b.created_ms < end && b.created_ms <= s.log_now_ms)
        .collect();
    let host = host(&headers);
    let page: Vec<Value> = available
        .iter()
        .skip(offset)
        .take(CONTENT_PAGE)
        .map(|b| blob_item(&host, &tenant, b))
        .collect();
    let mut response = crate::common::json_response(&Value::Array(page));
    let next = offset + CONTENT_PAGE;
    if next < available.len() {
        let params: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("contentType", ct)
            .append_pair("startTime", &iso_plain(start))
            .append_pair("endTime", &iso_plain(end))
            .append_pair(
                "nextPage",
                &format!("{}R{next:09}", crate::logs::compact_minute(start)),
            )
            .finish();
        let uri = format!(
            "http://{host}/manage/api/v1.0/{tenant}/activity/feed/subscriptions/content?{params}"
        );
        if let Ok(v) = HeaderValue::from_str(&uri) {
            response.headers_mut().insert("NextPageUri", v);
        }
    }
    response
}

async fn blob(
    State(s): Shared,
    Path((tenant, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    tri!(check(&s, &headers, &tenant));
    let logs = s.logs();
    let Some(b) = logs.blob(&id).filter(|b| b.created_ms <= s.log_now_ms) else {
        return if id.split('$').count() != 4 {
            af(
                400,
                "AF20052",
                &format!("Content ID {id} in the URL is invalid."),
            )
        } else {
            af(
                404,
                "AF20050",
                &format!("The specified content ({id}) does not exist."),
            )
        };
    };
    tri!(subscribed(&s, b.content_type));
    if b.created_ms < s.log_now_ms - RETENTION_MS {
        return af(400, "AF20051", &format!("Content requested with the key {id} has already expired. Content older than 7 days cannot be retrieved."));
    }
    let entries = &logs.stream(b.content_type).entries[b.range.clone()];
    let mut body =
        String::with_capacity(entries.iter().map(|e| e.raw.get().len() + 1).sum::<usize>() + 2);
    body.push('[');
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(e.raw.get());
    }
    body.push(']');
    Response::builder()
        .status(200)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}
