//! Office 365 Management Activity API: the unified audit log as content blobs.
//!
//! Root `{management}/api/v1.0/{tenant GUID}/activity/feed`, token audience
//! `https://manage.office.com`, application permission `ActivityFeed.Read`.
//!
//! Per content type (one stream each):
//!
//! 1. `POST subscriptions/start?contentType=…` — idempotent: an enabled subscription answers
//!    HTTP 400 `AF20024` "The subscription is already enabled. No property change."
//!    (microsoft/coe-starter-kit issue 2807, confirmed by Microsoft there), which is success.
//! 2. `GET subscriptions/content?contentType=…&startTime=…&endTime=…` in windows of at most 24
//!    hours from the cursor to `until`, never starting more than 7 days before `until` (the
//!    API's limit): an older cursor is moved up and the skipped range reported as a [`Gap`].
//!    Pages follow the `NextPageUri` response header.
//! 3. `GET {contentUri}` of each blob not yet fetched: a JSON array of records, one batch.
//!
//! The cursor's time is the content creation time before which every blob has been fetched;
//! `seen` holds the ids of the blobs fetched at or after it. After a pull the time is held
//! [`PullOptions::m365_lookback`] before `until`, so content listed late is still found; what
//! was already fetched is skipped by id.

use super::{
    origin, parse_time, Gap, LogSink, LogSourceExt, PullError, PullOptions, Run, StreamStop,
};
use crate::http::{Api, ApiError, Call};
use crate::m365::config::scopes;
use crate::m365::M365Config;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The content types read (`DLP.All` needs another permission and is not read).
pub const CONTENT_TYPES: [&str; 4] = [
    "Audit.AzureActiveDirectory",
    "Audit.Exchange",
    "Audit.SharePoint",
    "Audit.General",
];

/// How far back the API lists content.
const RETENTION: SignedDuration = SignedDuration::from_hours(7 * 24);
/// The widest window one content listing may ask for.
const WINDOW: SignedDuration = SignedDuration::from_hours(24);

fn is_guid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// `2026-11-26T03:00:00`: the API's documented form, UTC.
fn plain(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

fn floor_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

pub(crate) async fn pull<S: LogSink>(
    config: &M365Config,
    run: &mut Run<'_, S>,
    until: Timestamp,
    options: &PullOptions,
) -> Result<u64, PullError> {
    let mut config = config.clone();
    config.validate().map_err(PullError::Config)?;
    if !is_guid(&config.tenant_id) {
        return Err(PullError::Config(
            "the Management Activity API needs tenant_id as the directory id (GUID), not a domain"
                .into(),
        ));
    }
    let base = Api::new(options.http.clone(), None);
    let api = base.with_auth(Arc::new(crate::m365::token_source(
        &config,
        scopes::MANAGEMENT,
    )));
    // Wrong credentials stop here, with the token endpoint's words.
    api.check_auth().await?;
    let root = format!(
        "{}/api/v1.0/{}/activity/feed",
        config.endpoints.management.trim_end_matches('/'),
        config.tenant_id
    );
    let permission = run.source.permission();
    let until = floor_second(until);
    for ct in CONTENT_TYPES {
        let result = read_content_type(run, &api, &root, ct, until, options).await;
        run.finish(ct, result, permission)?;
    }
    Ok(base.stats().total_requests())
}

async fn start_subscription(api: &Api, root: &str, ct: &str) -> Result<(), ApiError> {
    let call = Call {
        method: reqwest::Method::POST,
        url: format!("{root}/subscriptions/start?contentType={ct}"),
        body: None,
        headers: &[],
    };
    match api.json("m365", call).await {
        Ok(_) => Ok(()),
        Err(ApiError::Status { code: Some(c), .. }) if c == "AF20024" => Ok(()),
        Err(e) => Err(e),
    }
}

/// One available content blob.
struct Content {
    id: String,
    uri: String,
    created: Timestamp,
}

/// Every blob created in `[from, to)`, following `NextPageUri`.
async fn list_content(
    api: &Api,
    root: &str,
    ct: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Content>, ApiError> {
    let mut url = format!(
        "{root}/subscriptions/content?contentType={ct}&startTime={}&endTime={}",
        plain(from),
        plain(to)
    );
    let mut out = Vec::new();
    loop {
        let (page, headers) = api.json_with_headers("m365", Call::get(&url)).await?;
        let Value::Array(items) = page else {
            return Err(ApiError::Malformed {
                url,
                message: "the content list is not an array".into(),
            });
        };
        for item in items {
            let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
            let (Some(id), Some(uri), Some(created)) = (
                text("contentId"),
                text("contentUri"),
                text("contentCreated").and_then(|c| parse_time(&c)),
            ) else {
                return Err(ApiError::Malformed {
                    url,
                    message: "a content item lacks contentId, contentUri or contentCreated".into(),
                });
            };
            out.push(Content { id, uri, created });
        }
        match headers.get("NextPageUri").and_then(|v| v.to_str().ok()) {
            Some(next) if !next.is_empty() => {
                if origin(next) != origin(root) {
                    return Err(ApiError::Malformed {
                        url,
                        message: "NextPageUri points to another host".into(),
                    });
                }
                url = next.to_string();
            }
            _ => return Ok(out),
        }
    }
}

async fn read_content_type<S: LogSink>(
    run: &mut Run<'_, S>,
    api: &Api,
    root: &str,
    ct: &str,
    until: Timestamp,
    options: &PullOptions,
) -> Result<(), StreamStop> {
    start_subscription(api, root, ct).await?;
    let mut cursor = run.cursor(ct);
    cursor.pending = None;
    cursor.time = floor_second(cursor.time);
    let margin = SignedDuration::try_from(options.retention_margin).unwrap_or_default();
    let oldest = until
        .checked_sub(RETENTION)
        .and_then(|t| t.checked_add(margin))
        .unwrap_or(until);
    if cursor.time < oldest {
        run.outcome.gaps.push(Gap {
            stream: ct.to_string(),
            from: cursor.time,
            to: oldest,
            reason: "older than the 7 days the Management Activity API lists; never read".into(),
        });
        cursor.time = oldest;
        cursor.seen.clear();
        run.set_cursor(ct, cursor.clone());
    }
    let lookback = SignedDuration::try_from(options.m365_lookback).unwrap_or_default();
    let hold = until.checked_sub(lookback).unwrap_or(until);
    let mut from = cursor.time;
    while from < until {
        let to = from.checked_add(WINDOW).unwrap_or(until).min(until);
        let mut listed = list_content(api, root, ct, from, to).await?;
        listed.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        let created: HashMap<&str, Timestamp> =
            listed.iter().map(|c| (c.id.as_str(), c.created)).collect();
        for content in &listed {
            if cursor.seen.contains(&content.id) {
                continue;
            }
            if origin(&content.uri) != origin(root) {
                return Err(StreamStop::Api(ApiError::Malformed {
                    url: root.to_string(),
                    message: "a contentUri points to another host".into(),
                }));
            }
            let records = match api.get("m365", &content.uri).await? {
                Value::Array(records) => records,
                _ => {
                    return Err(StreamStop::Api(ApiError::Malformed {
                        url: content.uri.clone(),
                        message: "the content is not a JSON array".into(),
                    }))
                }
            };
            cursor.seen.insert(content.id.clone());
            run.set_cursor(ct, cursor.clone());
            run.deliver(ct, records).await?;
        }
        // The window is read: the cursor moves to its end, held back by the lookback.
        let time = to.min(hold).max(cursor.time);
        // A window that starts at the cursor lists everything the cursor may have seen: ids it
        // does not list are gone (expired) and are dropped with those now behind the cursor.
        let complete = from == cursor.time;
        cursor.seen.retain(|id| match created.get(id.as_str()) {
            Some(c) => *c >= time,
            None => !complete,
        });
        cursor.time = time;
        run.set_cursor(ct, cursor.clone());
        from = to;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_times() {
        assert!(is_guid("6f1c2e0a-1b2c-4d5e-8f90-123456789abc"));
        assert!(!is_guid("sakura-trading.onmicrosoft.com"));
        let t: Timestamp = "2026-11-26T03:00:00.750Z".parse().unwrap();
        assert_eq!(plain(floor_second(t)), "2026-11-26T03:00:00");
    }
}
