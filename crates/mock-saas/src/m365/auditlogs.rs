//! Microsoft Graph `auditLogs/signIns` and `auditLogs/directoryAudits` (v1.0 and beta):
//! newest first, `$top` up to 1,000 (the default), `@odata.nextLink` paging with `$skiptoken`,
//! `$filter` on the time property (`ge`, `le`, `gt`, `lt`, `eq`, joined with `and`), and
//! `AuditLog.Read.All` required.

use super::{audience, M365State};
use crate::common::{error_response, ErrorStyle};
use crate::logs::parse_time;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub const MAX_TOP: usize = 1000;

/// Properties of the beta `signIn` the v1.0 resource does not have.
const BETA_ONLY: [&str; 3] = [
    "authenticationDetails",
    "authenticationMethodsUsed",
    "networkLocationDetails",
];

type Shared = State<Arc<M365State>>;

fn bad_filter() -> Response {
    error_response(
        ErrorStyle::Microsoft,
        400,
        "BadRequest",
        "Invalid filter clause",
    )
}

/// `[from, to)` in milliseconds from a `$filter` on `property`.
pub fn time_filter(filter: &str, property: &str) -> Option<(i64, i64)> {
    let mut from = i64::MIN;
    let mut to = i64::MAX;
    let lower = filter.to_string();
    let clauses: Vec<&str> = split_and(&lower);
    for clause in clauses {
        let clause = clause
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .trim();
        let mut parts = clause.split_whitespace();
        let (Some(p), Some(op), Some(value), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        if !p.eq_ignore_ascii_case(property) || value.starts_with('\'') {
            return None;
        }
        // Records compare by the time they show, which is to the second.
        let t = parse_time(value)?;
        let floor = t - t.rem_euclid(1000);
        let ceil = if t == floor { t } else { floor + 1000 };
        match op.to_ascii_lowercase().as_str() {
            "ge" => from = from.max(ceil),
            "gt" => from = from.max(floor + 1000),
            "le" => to = to.min(floor + 1000),
            "lt" => to = to.min(ceil),
            "eq" if t == floor => {
                from = from.max(t);
                to = to.min(t + 1000);
            }
            "eq" => return Some((0, 0)),
            _ => return None,
        }
    }
    Some((from, to))
}

fn split_and(filter: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = filter;
    loop {
        let lower = rest.to_ascii_lowercase();
        match lower.find(" and ") {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + 5..];
            }
            None => {
                out.push(rest);
                return out;
            }
        }
    }
}

pub fn routes() -> Router<Arc<M365State>> {
    Router::new()
        .route(
            "/graph/{version}/auditLogs/signIns",
            get(
                |State(s): Shared, Path(v): Path<String>, h: HeaderMap, uri: Uri| async move {
                    list(&s, &v, &h, &uri, "signIns", "createdDateTime")
                },
            ),
        )
        .route(
            "/graph/{version}/auditLogs/directoryAudits",
            get(
                |State(s): Shared, Path(v): Path<String>, h: HeaderMap, uri: Uri| async move {
                    list(&s, &v, &h, &uri, "directoryAudits", "activityDateTime")
                },
            ),
        )
}

fn list(
    s: &M365State,
    version: &str,
    headers: &HeaderMap,
    uri: &Uri,
    stream: &str,
    property: &str,
) -> Response {
    if let Err(r) = s.tokens.check(
        headers,
        audience::GRAPH,
        &["AuditLog.Read.All"],
        ErrorStyle::Microsoft,
    ) {
        return r;
    }
    if version != "v1.0" && version != "beta" {
        return error_response(
            ErrorStyle::Microsoft,
            400,
            "BadRequest",
            &format!("Invalid version: {version}"),
        );
    }
    let q: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let (from, to) = match q.get("$filter") {
        None => (i64::MIN, i64::MAX),
        Some(f) => match time_filter(f, property) {
            Some(w) => w,
            None => return bad_filter(),
        },
    };
    let top = match q.get("$top").map(|t| t.parse::<usize>()) {
        None => MAX_TOP,
        Some(Ok(t)) if (1..=MAX_TOP).contains(&t) => t,
        Some(_) => {
            return error_response(
                ErrorStyle::Microsoft,
                400,
                "BadRequest",
                &format!(
                    "Invalid page size specified: '{}'. Must be between 1 and {MAX_TOP} inclusive.",
                    q["$top"]
                ),
            )
        }
    };
    let offset = match q.get("$skiptoken") {
        None => 0,
        Some(t) => match t
            .rsplit_once('_')
            .and_then(|(_, n)| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => {
                return error_response(
                    ErrorStyle::Microsoft,
                    400,
                    "BadRequest",
                    "The $skiptoken is invalid.",
                )
            }
        },
    };
    let logs = s.logs();
    let entries = &logs.stream(stream).entries;
    let range = logs.stream(stream).range(from, to);
    // Newest first.
    let total = range.len();
    let page: Vec<usize> = (0..total)
        .skip(offset)
        .take(top)
        .map(|k| range.end - 1 - k)
        .collect();
    let mut body = String::new();
    body.push_str(&format!(
        "{{\"@odata.context\":\"https://graph.microsoft.com/{version}/$metadata#auditLogs/{stream}\""
    ));
    if offset + top < total {
        let host = headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1");
        let mut params: Vec<(String, String)> =
            q.into_iter().filter(|(k, _)| k != "$skiptoken").collect();
        params.sort();
        params.push((
            "$skiptoken".into(),
            format!(
                "{:016x}_{}",
                (total as u64 * 0x9E37_79B9) ^ from as u64,
                offset + top
            ),
        ));
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let link = format!("http://{host}{}?{query}", uri.path());
        body.push_str(",\"@odata.nextLink\":");
        body.push_str(&serde_json::to_string(&link).unwrap_or_default());
    }
    body.push_str(",\"value\":[");
    for (n, i) in page.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        let raw = entries[*i].raw.get();
        if version == "v1.0" && stream == "signIns" {
            let mut v: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                for k in BETA_ONLY {
                    o.remove(k);
                }
            }
            body.push_str(&serde_json::to_string(&v).unwrap_or_default());
        } else {
            body.push_str(raw);
        }
    }
    body.push_str("]}");
    Response::builder()
        .status(200)
        .header("content-type", "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8")
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let t = |s: &str| parse_time(s).unwrap();
        assert_eq!(
            time_filter("createdDateTime ge 2026-11-20T00:00:00Z and createdDateTime lt 2026-11-21T00:00:00Z", "createdDateTime"),
            Some((t("2026-11-20T00:00:00Z"), t("2026-11-21T00:00:00Z")))
        );
        assert_eq!(
            time_filter("createdDateTime ge '2026-11-20'", "createdDateTime"),
            None
        );
        assert_eq!(
            time_filter("userPrincipalName eq 'a@b'", "createdDateTime"),
            None
        );
        assert_eq!(
            time_filter("createdDateTime foo 2026-11-20", "createdDateTime"),
            None
        );
        assert!(time_filter("activityDateTime le 2026-11-20", "activityDateTime").is_some());
    }
}
