//! Admin SDK Reports API activities (`activities.list`) of the applications the rules read:
//! `users/all/applications/{login|admin|token|drive|saml}` with `startTime` and `endTime`
//! (RFC 3339, both inclusive, to the millisecond), `maxResults` up to 1,000 and
//! `pageToken`/`nextPageToken`; newest first. Scope
//! `https://www.googleapis.com/auth/admin.reports.audit.readonly`, delegated to the service
//! account (domain-wide delegation) like the posture collector's scopes.

use super::{
    enc, iso_millis, parse_time, read_newest_first, LogSink, LogSourceExt, NewestFirst, PullError,
    PullOptions, Run,
};
use crate::auth::AuthError;
use crate::gws::client::SCOPE_AUDIT;
use crate::gws::GwsConfig;
use crate::http::{Api, ApiError};
use jiff::Timestamp;
use serde_json::Value;

/// The applications read, one stream each.
pub const APPLICATIONS: [&str; 5] = ["login", "admin", "token", "drive", "saml"];

struct ReportsList {
    api: Api,
    url: String,
    max_results: usize,
}

impl NewestFirst for ReportsList {
    const PRECISION_MS: i64 = 1;

    async fn page(
        &self,
        from: Timestamp,
        to: Timestamp,
        next: Option<String>,
    ) -> Result<(Vec<Value>, Option<String>), ApiError> {
        let mut url = format!(
            "{}?startTime={}&endTime={}&maxResults={}",
            self.url,
            enc(&iso_millis(from)),
            enc(&iso_millis(to)),
            self.max_results
        );
        if let Some(token) = &next {
            url.push_str(&format!("&pageToken={}", enc(token)));
        }
        let mut page = self.api.get("gws", &url).await?;
        let items = match page.get_mut("items").map(Value::take) {
            Some(Value::Array(items)) => items,
            // Google leaves the key out of an empty page.
            None | Some(Value::Null) => Vec::new(),
            Some(_) => {
                return Err(ApiError::Malformed {
                    url,
                    message: "`items` is not an array".into(),
                })
            }
        };
        let token = page
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty() && next.as_deref() != Some(*t))
            .map(str::to_string);
        Ok((items, token))
    }

    fn key(&self, record: &Value) -> Option<(i64, String)> {
        let id = record.get("id")?;
        let t = parse_time(id.get("time")?.as_str()?)?;
        Some((
            t.as_millisecond(),
            id.get("uniqueQualifier")?.as_str()?.to_string(),
        ))
    }
}

pub(crate) async fn pull<S: LogSink>(
    config: &GwsConfig,
    run: &mut Run<'_, S>,
    until: Timestamp,
    options: &PullOptions,
) -> Result<u64, PullError> {
    let base = Api::new(options.http.clone(), None);
    let api = crate::gws::client::scoped_api(config, &base, SCOPE_AUDIT)
        .map_err(|e| PullError::Config(e.to_string()))?;
    let permission = run.source.permission();
    match api.check_auth().await {
        Ok(()) => {}
        // The key is good but the scope is not delegated: this source fails, not the pull.
        Err(e) if matches!(&e, AuthError::Rejected { error, .. } if error == "unauthorized_client") =>
        {
            let e = ApiError::Auth(e);
            for app in APPLICATIONS {
                run.fail(app, &e, permission);
            }
            return Ok(base.stats().total_requests());
        }
        Err(e) => return Err(PullError::Auth(e)),
    }
    let admin = config.endpoints.admin.trim_end_matches('/');
    for app in APPLICATIONS {
        let lister = ReportsList {
            api: api.clone(),
            url: format!("{admin}/admin/reports/v1/activity/users/all/applications/{app}"),
            max_results: options.page_size.clamp(1, 1000),
        };
        let result = read_newest_first(run, app, &lister, until).await;
        run.finish(app, result, permission)?;
    }
    Ok(base.stats().total_requests())
}
