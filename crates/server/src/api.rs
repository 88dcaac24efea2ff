//! REST JSON API under `/api/v1` (described by `/api/v1/openapi.json`). Every write, and every
//! read the dashboard offers too, is a thin adapter over [`crate::service`] (authorise → store →
//! audit): parse the body or query, call the service, answer JSON. The API-only reads below
//! first check the role ([`Principal::require`]); the customer boundary is the [`Scope`] passed
//! to the store, so an id outside the caller's customer answers 404 exactly like a missing one.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use jiff::Timestamp;
use mamori_core::{LogSource, Severity};
use mamori_store::{
    AlertFilter, AlertStatus, App, ExceptionStatus, FindingQuery, FindingStatus, JobStatus,
    NewCustomer, Role, Scope,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Principal, CSRF_HEADER};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::service::{self, Decision};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(change_own_password))
        .route(
            "/api/v1/customers",
            get(list_customers).post(create_customer),
        )
        .route("/api/v1/customers/{id}", get(get_customer))
        .route("/api/v1/tenants", get(list_tenants).post(create_tenant))
        .route("/api/v1/tenants/{id}", get(get_tenant))
        .route("/api/v1/tenants/{id}/schedule", put(set_schedule))
        .route("/api/v1/tenants/{id}/scores", get(tenant_scores))
        .route("/api/v1/tenants/{id}/scans", post(start_scan))
        .route("/api/v1/tenants/{id}/logs", get(log_status))
        .route("/api/v1/tenants/{id}/logs/suspend", post(suspend_logs))
        .route("/api/v1/tenants/{id}/logs/resume", post(resume_logs))
        .route("/api/v1/tenants/{id}/logs/{source}", post(push_logs))
        .route("/api/v1/scans", get(list_scans))
        .route("/api/v1/scans/{id}", get(get_scan))
        .route("/api/v1/scans/{id}/results", get(scan_results))
        .route("/api/v1/scans/{id}/drift", get(scan_drift))
        .route("/api/v1/findings", get(list_findings))
        .route("/api/v1/findings/{id}", get(get_finding))
        .route("/api/v1/alerts", get(list_alerts))
        .route("/api/v1/alerts/{id}", get(get_alert))
        .route("/api/v1/alerts/{id}/status", post(set_alert_status))
        .route(
            "/api/v1/exceptions",
            get(list_exceptions).post(request_exception),
        )
        .route("/api/v1/exceptions/{id}", get(get_exception))
        .route("/api/v1/exceptions/{id}/approve", post(approve_exception))
        .route("/api/v1/exceptions/{id}/reject", post(reject_exception))
        .route("/api/v1/exceptions/{id}/revoke", post(revoke_exception))
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}/disable", post(disable_user))
        .route("/api/v1/users/{id}/enable", post(enable_user))
        .route("/api/v1/users/{id}/password", post(reset_user_password))
        .route("/api/v1/users/{id}/revoke", post(revoke_user_access))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/jobs", get(list_jobs))
        .route("/api/v1/audit", get(list_audit))
        .route(
            "/api/v1/notification-channels",
            get(list_channels).post(create_channel),
        )
        .route("/api/v1/notification-channels/{id}", delete(delete_channel))
}

async fn openapi() -> impl IntoResponse {
    (
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(crate::openapi::document()),
    )
}

/// The CSRF token a request presented in its header (cookie sign-ins send it on every write).
fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

fn csrf(p: &Principal, headers: &HeaderMap) -> ApiResult<()> {
    p.check_csrf(csrf_header(headers))
}

fn items<T: serde::Serialize>(items: Vec<T>) -> Json<Value> {
    Json(json!({ "items": items }))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

async fn me(p: Principal) -> Json<Value> {
    let allowed: Vec<String> = crate::authz::Action::ALL
        .iter()
        .filter(|a| crate::authz::allows(p.user.role, **a))
        .map(|a| format!("{a:?}"))
        .collect();
    Json(json!({ "user": p.user, "allowed": allowed }))
}

// ---- customers ----

async fn list_customers(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    p.require(Action::ViewCustomers)?;
    Ok(items(s.store.list_customers_scoped(p.scope()).await?))
}

async fn get_customer(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewCustomers)?;
    let c = s
        .store
        .get_customer_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("customer"))?;
    Ok(Json(json!(c)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerBody {
    name: String,
    name_ja: Option<String>,
    time_zone: Option<String>,
}

async fn create_customer(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(body): Json<CustomerBody>,
) -> ApiResult<impl IntoResponse> {
    let new = NewCustomer {
        name: body.name,
        name_ja: body.name_ja,
        time_zone: body.time_zone,
    };
    let c = service::create_customer(&s, &p, csrf_header(&headers), &new).await?;
    Ok((StatusCode::CREATED, Json(json!(c))))
}

// ---- tenants ----

#[derive(Deserialize)]
struct TenantFilter {
    #[serde(default, deserialize_with = "empty_as_none")]
    customer_id: Option<i64>,
}

async fn list_tenants(
    State(s): State<AppState>,
    p: Principal,
    Query(f): Query<TenantFilter>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewPosture)?;
    Ok(items(
        s.store
            .list_tenants_scoped(p.scope(), f.customer_id)
            .await?,
    ))
}

async fn get_tenant(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let t = service::tenant(&s, &p, id).await?;
    let next = t.schedule_cron.as_deref().and_then(|c| {
        let schedule = mamori_cron::Schedule::parse(c).ok()?;
        let tz = mamori_cron::parse_time_zone(&t.schedule_time_zone).ok()?;
        Some(schedule.upcoming(Timestamp::now(), &tz, 3))
    });
    Ok(Json(
        json!({ "tenant": t, "next_runs": next.unwrap_or_default() }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantBody {
    customer_id: i64,
    app: String,
    display_name: String,
    /// The connector configuration (the `mamori collect --credentials` file's content).
    credentials: Value,
    schedule_cron: Option<String>,
    schedule_time_zone: Option<String>,
}

pub use crate::service::{check_credentials, check_schedule};

async fn create_tenant(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(body): Json<TenantBody>,
) -> ApiResult<impl IntoResponse> {
    let request = service::TenantRequest {
        customer_id: body.customer_id,
        app: body
            .app
            .parse::<App>()
            .map_err(|_| bad("app must be m365 or gws")),
        display_name: body.display_name,
        credentials: body.credentials,
        schedule_cron: body.schedule_cron,
        schedule_time_zone: body.schedule_time_zone,
    };
    let t = service::create_tenant(&s, &p, csrf_header(&headers), request).await?;
    Ok((StatusCode::CREATED, Json(json!(t))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleBody {
    cron: Option<String>,
    time_zone: Option<String>,
}

async fn set_schedule(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<ScheduleBody>,
) -> ApiResult<Json<Value>> {
    let t = service::set_schedule(
        &s,
        &p,
        csrf_header(&headers),
        id,
        body.cron.as_deref(),
        body.time_zone.as_deref(),
    )
    .await?;
    Ok(Json(json!(t)))
}

#[derive(Deserialize)]
struct ScoreFilter {
    kind: Option<String>,
    key: Option<String>,
    limit: Option<i64>,
}

async fn tenant_scores(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<ScoreFilter>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewPosture)?;
    s.store
        .get_tenant_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let kind = f.kind.unwrap_or_else(|| "overall".into());
    let points = s
        .store
        .score_history(
            p.scope(),
            id,
            &kind,
            f.key.as_deref().unwrap_or(""),
            f.limit.unwrap_or(90).clamp(1, 1000),
        )
        .await?;
    Ok(items(points))
}

async fn start_scan(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let job = service::request_scan(&s, &p, csrf_header(&headers), id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!(job))))
}

// ---- scans ----

#[derive(Deserialize)]
struct ScanFilter {
    #[serde(default, deserialize_with = "empty_as_none")]
    tenant_id: Option<i64>,
    #[serde(default, deserialize_with = "empty_as_none")]
    limit: Option<i64>,
}

async fn list_scans(
    State(s): State<AppState>,
    p: Principal,
    Query(f): Query<ScanFilter>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewPosture)?;
    let limit = f.limit.unwrap_or(50).clamp(1, 500);
    Ok(items(
        s.store
            .list_scans_scoped(p.scope(), f.tenant_id, limit)
            .await?,
    ))
}

async fn get_scan(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(service::scan(&s, &p, id).await?)))
}

#[derive(Deserialize)]
struct FormatParam {
    format: Option<String>,
}

/// `format=ocsf` (OCSF findings, a JSON array) or the default, `json`.
fn wants_ocsf(format: Option<&str>) -> ApiResult<bool> {
    match format {
        None | Some("") | Some("json") => Ok(false),
        Some("ocsf") => Ok(true),
        Some(_) => Err(bad("format must be json or ocsf")),
    }
}

async fn scan_results(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
    Query(f): Query<FormatParam>,
) -> ApiResult<Json<Value>> {
    let scan = service::scan(&s, &p, id).await?;
    let ocsf = wants_ocsf(f.format.as_deref())?;
    let results = s.store.control_results(id).await?;
    if !ocsf {
        return Ok(items(results));
    }
    let tenant = service::tenant(&s, &p, scan.tenant_id).await?;
    Ok(Json(Value::Array(crate::ocsf::compliance_findings(
        &s.engine,
        &tenant.display_name,
        &scan,
        &results,
        p.lang(),
    ))))
}

async fn scan_drift(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(service::scan_drift(&s, &p, id).await?)))
}

// ---- findings ----

/// Query parameters that an HTML form sends as `name=` when "all" is chosen: empty means unset.
fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw: Option<String> = Option::deserialize(d)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

#[derive(Deserialize, Default)]
pub struct FindingFilter {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub customer_id: Option<i64>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub tenant_id: Option<i64>,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub control: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub accepted: Option<bool>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<i64>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub offset: Option<i64>,
}

impl FindingFilter {
    pub fn query(&self, scope: Scope) -> ApiResult<FindingQuery> {
        let (status, active_only) = match self.status.as_deref() {
            None | Some("") => (None, false),
            Some("active") => (None, true),
            Some(s) => (
                Some(
                    s.parse::<FindingStatus>()
                        .map_err(|_| bad("status must be active, open, reopened or resolved"))?,
                ),
                false,
            ),
        };
        let severity = match self.severity.as_deref() {
            None | Some("") => None,
            Some(s) => Some(
                s.parse::<Severity>()
                    .map_err(|_| bad("severity must be critical, high, medium, low or info"))?,
            ),
        };
        Ok(FindingQuery {
            scope,
            customer_id: self.customer_id,
            tenant_id: self.tenant_id,
            status,
            active_only,
            severity,
            control: self.control.clone().filter(|s| !s.is_empty()),
            accepted: self.accepted,
            limit: self.limit.unwrap_or(50).clamp(1, 500),
            offset: self.offset.unwrap_or(0).clamp(0, i64::MAX / 2),
        })
    }
}

/// A finding list page; serialised straight from the rows (a `Value` per item cost a fifth of a
/// page's CPU in `mamori bench --api`).
#[derive(serde::Serialize)]
struct FindingsBody {
    items: Vec<FindingItem>,
    total: i64,
    total_exact: bool,
    limit: i64,
    offset: i64,
}

#[derive(serde::Serialize)]
struct FindingItem {
    #[serde(flatten)]
    view: mamori_store::FindingView,
    title: String,
}

async fn list_findings(
    State(s): State<AppState>,
    p: Principal,
    Query(f): Query<FindingFilter>,
) -> ApiResult<Json<FindingsBody>> {
    let page = service::findings(&s, &p, &f).await?;
    let lang = p.lang();
    let items = page
        .items
        .into_iter()
        .map(|view| FindingItem {
            title: s.catalog.title(&view.finding.control_id, lang),
            view,
        })
        .collect();
    Ok(Json(FindingsBody {
        items,
        total: page.total,
        total_exact: page.total_exact,
        limit: page.limit,
        offset: page.offset,
    }))
}

async fn get_finding(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let service::FindingDetail { finding, history } = service::finding(&s, &p, id).await?;
    let control = s.catalog.get(&finding.finding.control_id);
    Ok(Json(
        json!({ "finding": finding, "control": control, "history": history }),
    ))
}

// ---- threat alerts ----

/// The alert listing's query (the API's and the page's).
#[derive(Deserialize, Default)]
pub struct AlertParams {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub tenant_id: Option<i64>,
    /// One of the triage states, or `active` (open or acknowledged).
    pub status: Option<String>,
    pub severity: Option<String>,
    pub source: Option<String>,
    pub rule_id: Option<String>,
    /// Only alerts that still need attention (open or acknowledged).
    #[serde(default, deserialize_with = "empty_as_none")]
    pub active: Option<bool>,
    /// RFC 3339: alerts whose last event is at or after this.
    pub since: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub limit: Option<i64>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub offset: Option<i64>,
    pub format: Option<String>,
}

fn listed<T: std::fmt::Display>(all: &[T]) -> String {
    all.iter().map(T::to_string).collect::<Vec<_>>().join(", ")
}

/// An empty query value means "all", as the page's filter form sends it.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|x| !x.is_empty())
}

impl AlertParams {
    pub fn filter(&self) -> ApiResult<AlertFilter> {
        let (status, active) = match given(&self.status) {
            None => (None, self.active.unwrap_or(false)),
            Some("active") => (None, true),
            Some(x) => (
                Some(x.parse::<AlertStatus>().map_err(|_| {
                    bad(format!(
                        "status must be active, {}",
                        listed(AlertStatus::ALL)
                    ))
                })?),
                false,
            ),
        };
        let severity = given(&self.severity)
            .map(|x| {
                x.parse::<Severity>()
                    .map_err(|_| bad(format!("severity must be one of {}", listed(Severity::ALL))))
            })
            .transpose()?;
        let source = given(&self.source)
            .map(|x| {
                x.parse::<LogSource>()
                    .map_err(|_| bad(format!("source must be one of {}", listed(LogSource::ALL))))
            })
            .transpose()?;
        let since = given(&self.since)
            .map(|x| {
                x.parse::<Timestamp>()
                    .map_err(|e| bad(format!("since must be an RFC 3339 time: {e}")))
            })
            .transpose()?;
        Ok(AlertFilter {
            tenant_id: self.tenant_id,
            status,
            active,
            severity,
            source,
            rule_id: given(&self.rule_id).map(str::to_string),
            since,
        })
    }

    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).clamp(1, 1000)
    }

    pub fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).clamp(0, i64::MAX / 2)
    }
}

async fn list_alerts(
    State(s): State<AppState>,
    p: Principal,
    Query(f): Query<AlertParams>,
) -> ApiResult<Json<Value>> {
    let (limit, offset) = (f.limit(), f.offset());
    let alerts = service::alerts(&s, &p, f.filter(), limit, offset).await?;
    if wants_ocsf(f.format.as_deref())? {
        let lang = p.lang();
        return Ok(Json(Value::Array(
            alerts
                .iter()
                .map(|a| crate::ocsf::detection_finding(a, lang, env!("CARGO_PKG_VERSION")))
                .collect(),
        )));
    }
    Ok(Json(
        json!({ "items": alerts, "limit": limit, "offset": offset }),
    ))
}

async fn get_alert(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let service::AlertDetail { alert, history } = service::alert(&s, &p, id).await?;
    Ok(Json(json!({ "alert": alert, "history": history })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertStatusBody {
    status: String,
    #[serde(default)]
    note: String,
}

async fn set_alert_status(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<AlertStatusBody>,
) -> ApiResult<Json<Value>> {
    let status = body.status.parse::<AlertStatus>().map_err(|_| {
        bad(format!(
            "status must be one of {}",
            listed(AlertStatus::ALL)
        ))
    });
    let a =
        service::set_alert_status(&s, &p, csrf_header(&headers), id, status, &body.note).await?;
    Ok(Json(json!(a)))
}

// ---- audit logs ----

async fn push_logs(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path((id, source)): Path<(i64, String)>,
    body: Body,
) -> ApiResult<impl IntoResponse> {
    let source = source.parse::<LogSource>().map_err(|_| {
        bad(format!(
            "unknown log source {:?}: push to one of {}",
            source.chars().take(40).collect::<String>(),
            listed(LogSource::ALL)
        ))
    });
    let (max_body, max_decompressed) = (
        s.config.log_push_max_body,
        s.config.log_push_max_decompressed,
    );
    // Read only once the caller, the tenant and the flood guard allow the push.
    let batch = async {
        let gzip = crate::ingest::declared_gzip(&headers)?;
        let raw = crate::ingest::read_body(&headers, body, max_body).await?;
        tokio::task::spawn_blocking(move || crate::ingest::prepare(raw, gzip, max_decompressed))
            .await
            .map_err(|e| ApiError::Internal(format!("reading a pushed batch: {e}")))?
    };
    let spooled = service::push_logs(&s, &p, csrf_header(&headers), id, source, batch).await?;
    Ok((StatusCode::ACCEPTED, Json(json!(spooled))))
}

async fn log_status(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(service::log_status(&s, &p, id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuspendBody {
    reason: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ResumeBody {
    #[serde(default)]
    note: String,
}

async fn suspend_logs(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<SuspendBody>,
) -> ApiResult<Json<Value>> {
    let g =
        service::set_log_suspension(&s, &p, csrf_header(&headers), id, true, &body.reason).await?;
    Ok(Json(json!(g)))
}

async fn resume_logs(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Option<Json<ResumeBody>>,
) -> ApiResult<Json<Value>> {
    let note = body.map(|Json(b)| b.note).unwrap_or_default();
    let g = service::set_log_suspension(&s, &p, csrf_header(&headers), id, false, &note).await?;
    Ok(Json(json!(g)))
}

// ---- exceptions ----

#[derive(Deserialize)]
struct ExceptionFilter {
    #[serde(default, deserialize_with = "empty_as_none")]
    tenant_id: Option<i64>,
    status: Option<String>,
}

async fn list_exceptions(
    State(s): State<AppState>,
    p: Principal,
    Query(f): Query<ExceptionFilter>,
) -> ApiResult<Json<Value>> {
    let status = match f.status.as_deref() {
        None | Some("") => Ok(None),
        Some(x) => x
            .parse::<ExceptionStatus>()
            .map(Some)
            .map_err(|_| bad("status must be requested, approved, rejected, expired or revoked")),
    };
    Ok(items(
        service::exceptions(&s, &p, f.tenant_id, status).await?,
    ))
}

async fn get_exception(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewPosture)?;
    let e = s
        .store
        .get_exception(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("exception"))?;
    Ok(Json(json!(e)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExceptionBody {
    tenant_id: i64,
    control_id: String,
    resource_key: Option<String>,
    reason: String,
    expires_at: Timestamp,
}

async fn request_exception(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(body): Json<ExceptionBody>,
) -> ApiResult<impl IntoResponse> {
    let request = service::ExceptionRequest {
        target: service::ExceptionTarget::Control {
            tenant_id: body.tenant_id,
            control_id: body.control_id,
            resource_key: body.resource_key,
        },
        reason: body.reason,
        expires_at: body.expires_at,
    };
    let e = service::request_exception(&s, &p, csrf_header(&headers), request).await?;
    Ok((StatusCode::CREATED, Json(json!(e))))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    #[serde(default)]
    note: String,
}

async fn decision(
    s: AppState,
    p: Principal,
    headers: HeaderMap,
    id: i64,
    body: Option<Json<DecisionBody>>,
    what: Decision,
) -> ApiResult<Json<Value>> {
    // The token before the role, as these endpoints always had (the service checks it again).
    csrf(&p, &headers)?;
    let note = body.map(|Json(b)| b.note).unwrap_or_default();
    let e = service::decide_exception(&s, &p, csrf_header(&headers), id, what, &note).await?;
    Ok(Json(json!(e)))
}

async fn approve_exception(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<Value>> {
    decision(s, p, headers, id, body, Decision::Approve).await
}

async fn reject_exception(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<Value>> {
    decision(s, p, headers, id, body, Decision::Reject).await
}

async fn revoke_exception(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<Value>> {
    decision(s, p, headers, id, body, Decision::Revoke).await
}

// ---- users and tokens ----

async fn list_users(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    p.require(Action::ManageUsers)?;
    Ok(items(s.store.list_users(p.scope()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    username: String,
    display_name: Option<String>,
    role: String,
    customer_id: Option<i64>,
    lang: Option<String>,
    password: String,
}

async fn create_user(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(body): Json<UserBody>,
) -> ApiResult<impl IntoResponse> {
    let request = service::UserRequest {
        username: body.username,
        display_name: body.display_name,
        role: body.role.parse::<Role>().map_err(|_| bad("unknown role")),
        customer_id: body.customer_id,
        lang: body.lang,
        password: body.password,
    };
    let u = service::create_user(&s, &p, csrf_header(&headers), request).await?;
    Ok((StatusCode::CREATED, Json(json!(u))))
}

async fn disable_user(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let u = service::set_user_disabled(&s, &p, csrf_header(&headers), id, true).await?;
    Ok(Json(json!(u)))
}

async fn enable_user(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let u = service::set_user_disabled(&s, &p, csrf_header(&headers), id, false).await?;
    Ok(Json(json!(u)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

async fn reset_user_password(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<PasswordBody>,
) -> ApiResult<StatusCode> {
    service::reset_password(&s, &p, csrf_header(&headers), id, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_user_access(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let ended = service::revoke_user_access(&s, &p, csrf_header(&headers), id).await?;
    Ok(Json(
        json!({"sessions_ended": ended.sessions, "tokens_revoked": ended.tokens}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnPasswordBody {
    current_password: String,
    new_password: String,
}

async fn change_own_password(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(body): Json<OwnPasswordBody>,
) -> ApiResult<StatusCode> {
    service::change_own_password(
        &s,
        &p,
        csrf_header(&headers),
        &body.current_password,
        &body.new_password,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_tokens(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    Ok(items(service::tokens(&s, &p).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    name: String,
    expires_at: Option<Timestamp>,
}

async fn create_token(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(body): Json<TokenBody>,
) -> ApiResult<impl IntoResponse> {
    csrf(&p, &headers)?;
    if body.name.trim().is_empty() || body.name.len() > 100 {
        return Err(bad("name must be 1-100 characters"));
    }
    let (secret, token) = service::create_token(
        &s,
        &p,
        csrf_header(&headers),
        body.name.trim(),
        body.expires_at,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "token": token, "secret": secret })),
    ))
}

async fn revoke_token(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::revoke_token(&s, &p, csrf_header(&headers), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- operations ----

#[derive(Deserialize)]
struct JobFilter {
    status: Option<String>,
    limit: Option<i64>,
}

async fn list_jobs(
    State(s): State<AppState>,
    p: Principal,
    Query(f): Query<JobFilter>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewOperations)?;
    let status = match f.status.as_deref() {
        None | Some("") => None,
        Some(x) => Some(
            x.parse::<JobStatus>()
                .map_err(|_| bad("status must be queued, running, succeeded or failed"))?,
        ),
    };
    Ok(items(
        s.store
            .list_jobs(p.scope(), status, f.limit.unwrap_or(100).clamp(1, 1000))
            .await?,
    ))
}

#[derive(Deserialize)]
struct LimitFilter {
    limit: Option<i64>,
}

async fn list_audit(
    State(s): State<AppState>,
    p: Principal,
    Query(f): Query<LimitFilter>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewOperations)?;
    Ok(items(
        s.store
            .list_audit(p.scope(), f.limit.unwrap_or(100).clamp(1, 1000))
            .await?,
    ))
}

async fn list_channels(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    p.require(Action::ManageNotifications)?;
    Ok(items(s.store.list_channels(p.scope()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChannelBody {
    name: String,
    customer_id: Option<i64>,
    #[serde(default = "default_min_severity")]
    min_severity: String,
    #[serde(default = "default_lang")]
    lang: String,
    config: mamori_notify::ChannelConfig,
}

fn default_min_severity() -> String {
    "high".into()
}

fn default_lang() -> String {
    "ja".into()
}

async fn create_channel(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(body): Json<ChannelBody>,
) -> ApiResult<impl IntoResponse> {
    let request = service::ChannelRequest {
        name: body.name,
        customer_id: body.customer_id,
        min_severity: body
            .min_severity
            .parse::<Severity>()
            .map_err(|_| bad("min_severity must be critical, high, medium, low or info")),
        lang: body.lang,
        config: body.config,
    };
    let c = service::create_channel(&s, &p, csrf_header(&headers), request).await?;
    Ok((StatusCode::CREATED, Json(json!(c))))
}

async fn delete_channel(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    service::delete_channel(&s, &p, csrf_header(&headers), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
