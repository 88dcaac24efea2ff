//! Microsoft Graph audit logs: `auditLogs/signIns` (beta, the shape with
//! `authenticationDetails` and `networkLocationDetails` the rules read) and
//! `auditLogs/directoryAudits` (v1.0). Application permission `AuditLog.Read.All`.
//!
//! `$filter=createdDateTime ge {from} and createdDateTime le {to}` (`activityDateTime` for
//! directory audits), unquoted date-times to the second; `$top` up to 1,000; `@odata.nextLink`
//! paging. The API returns the most recent records first (List signIns: "by default, the most
//! recent sign-ins are returned first"), which [`super::read_newest_first`] relies on.

use super::{
    iso_seconds, origin, parse_time, read_newest_first, LogSink, LogSource, LogSourceExt,
    NewestFirst, PullError, PullOptions, Run,
};
use crate::http::{Api, ApiError, Call};
use crate::m365::config::scopes;
use crate::m365::M365Config;
use jiff::Timestamp;
use serde_json::Value;
use std::sync::Arc;

struct GraphList {
    api: Api,
    section: &'static str,
    url: String,
    property: &'static str,
    top: usize,
}

impl NewestFirst for GraphList {
    const PRECISION_MS: i64 = 1000;

    async fn page(
        &self,
        from: Timestamp,
        to: Timestamp,
        next: Option<String>,
    ) -> Result<(Vec<Value>, Option<String>), ApiError> {
        let url = match next {
            Some(link) => {
                if origin(&link) != origin(&self.url) {
                    return Err(ApiError::Malformed {
                        url: self.url.clone(),
                        message: "@odata.nextLink points to another host".into(),
                    });
                }
                link
            }
            None => {
                let filter = format!(
                    "{p} ge {} and {p} le {}",
                    iso_seconds(from),
                    iso_seconds(to),
                    p = self.property
                );
                format!(
                    "{}?$filter={}&$top={}",
                    self.url,
                    super::enc(&filter),
                    self.top
                )
            }
        };
        let mut page = self.api.json(self.section, Call::get(&url)).await?;
        let next = page
            .get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(str::to_string);
        match page.get_mut("value").map(Value::take) {
            Some(Value::Array(items)) => Ok((items, next)),
            _ => Err(ApiError::Malformed {
                url,
                message: "the page has no `value` array".into(),
            }),
        }
    }

    fn key(&self, record: &Value) -> Option<(i64, String)> {
        let t = parse_time(record.get(self.property)?.as_str()?)?;
        Some((t.as_millisecond(), record.get("id")?.as_str()?.to_string()))
    }
}

pub(crate) async fn pull<S: LogSink>(
    config: &M365Config,
    run: &mut Run<'_, S>,
    until: Timestamp,
    options: &PullOptions,
) -> Result<u64, PullError> {
    let mut config = config.clone();
    config.validate().map_err(PullError::Config)?;
    let base = Api::new(options.http.clone(), None);
    let api = base.with_auth(Arc::new(crate::m365::token_source(&config, scopes::GRAPH)));
    // Wrong credentials stop here, with the token endpoint's words.
    api.check_auth().await?;
    let source = run.source;
    let (stream, path, property) = match source {
        LogSource::EntraSignin => ("signIns", "beta/auditLogs/signIns", "createdDateTime"),
        _ => (
            "directoryAudits",
            "v1.0/auditLogs/directoryAudits",
            "activityDateTime",
        ),
    };
    let lister = GraphList {
        api,
        section: source.as_str(),
        url: format!("{}/{path}", config.endpoints.graph.trim_end_matches('/')),
        property,
        top: options.page_size.clamp(1, 1000),
    };
    let result = read_newest_first(run, stream, &lister, until).await;
    run.finish(stream, result, source.permission())?;
    Ok(base.stats().total_requests())
}
