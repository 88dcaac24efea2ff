//! REST JSON API under `/api/v1` (described by `/api/v1/openapi.json`). Every handler first
//! checks the role ([`Principal::require`]); the customer boundary is the [`Scope`] passed to
//! the store, so an id outside the caller's customer answers 404 exactly like a missing one.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use jiff::Timestamp;
use mamori_core::Severity;
use mamori_store::{
    App, ExceptionStatus, FindingQuery, FindingStatus, JobStatus, NewCustomer, NewException,
    NewTenant, NewUser, Role, Scope,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::{Principal, CSRF_HEADER};
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
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
        .route("/api/v1/scans", get(list_scans))
        .route("/api/v1/scans/{id}", get(get_scan))
        .route("/api/v1/scans/{id}/results", get(scan_results))
        .route("/api/v1/scans/{id}/drift", get(scan_drift))
        .route("/api/v1/findings", get(list_findings))
        .route("/api/v1/findings/{id}", get(get_finding))
        .route(
            "/api/v1/exceptions",
            get(list_exceptions).post(request_exception),
        )
        .route("/api/v1/exceptions/{id}", get(get_exception))
        .route("/api/v1/exceptions/{id}/approve", post(approve_exception))
        .route("/api/v1/exceptions/{id}/reject", post(reject_exception))
        .route("/api/v1/exceptions/{id}/revoke", post(revoke_exception))
        .route("/api/v1/users", get(list_users).post(create_user))
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

fn csrf(p: &Principal, headers: &HeaderMap) -> ApiResult<()> {
    p.check_csrf(headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()))
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
    p.require(Action::ManageTenants)?;
    csrf(&p, &headers)?;
    let c = s
        .store
        .create_customer(&NewCustomer {
            name: body.name,
            name_ja: body.name_ja,
            time_zone: body.time_zone,
        })
        .await?;
    s.store
        .audit(
            Some(p.user.id),
            Some(c.id),
            "customer.create",
            &format!("customer/{}", c.id),
            &c.name,
        )
        .await?;
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
    p.require(Action::ViewPosture)?;
    let t = s
        .store
        .get_tenant_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
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

/// Refuses a schedule that would never run or cannot be read, before it is stored.
pub fn check_schedule(cron: Option<&str>, time_zone: Option<&str>) -> ApiResult<()> {
    if let Some(c) = cron {
        mamori_cron::Schedule::parse(c).map_err(|e| bad(format!("schedule: {e}")))?;
    }
    if let Some(tz) = time_zone {
        mamori_cron::parse_time_zone(tz).map_err(|e| bad(format!("time zone: {e}")))?;
    }
    Ok(())
}

/// The connector must be able to read the credentials; checked at creation, not at 3 a.m.
pub fn check_credentials(app: App, credentials: &Value) -> ApiResult<()> {
    let checked = match app {
        App::M365 => {
            serde_json::from_value::<mamori_connect::m365::M365Config>(credentials.clone())
                .map(|_| ())
        }
        App::Gws => serde_json::from_value::<mamori_connect::gws::GwsConfig>(credentials.clone())
            .map(|_| ()),
    };
    // serde's message names the field, never echoes a value.
    checked.map_err(|e| bad(format!("credentials: {e}")))
}

async fn create_tenant(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Json(body): Json<TenantBody>,
) -> ApiResult<impl IntoResponse> {
    p.require(Action::ManageTenants)?;
    csrf(&p, &headers)?;
    let app: App = body
        .app
        .parse()
        .map_err(|_| bad("app must be m365 or gws"))?;
    check_schedule(
        body.schedule_cron.as_deref(),
        body.schedule_time_zone.as_deref(),
    )?;
    check_credentials(app, &body.credentials)?;
    s.store
        .get_customer_scoped(p.scope(), body.customer_id)
        .await?
        .ok_or(ApiError::NotFound("customer"))?;
    let credentials = serde_json::to_vec(&body.credentials).map_err(|e| bad(e.to_string()))?;
    let mut new = NewTenant::new(body.customer_id, app, body.display_name, &credentials);
    new.schedule_cron = body.schedule_cron;
    new.schedule_time_zone = body.schedule_time_zone;
    let t = s.store.create_tenant(&s.key, &new).await?;
    s.store
        .audit(
            Some(p.user.id),
            Some(t.customer_id),
            "tenant.create",
            &format!("tenant/{}", t.id),
            &t.display_name,
        )
        .await?;
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
    p.require(Action::ManageTenants)?;
    csrf(&p, &headers)?;
    check_schedule(body.cron.as_deref(), body.time_zone.as_deref())?;
    let t = s
        .store
        .get_tenant_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let t = s
        .store
        .set_tenant_schedule(t.id, body.cron.as_deref(), body.time_zone.as_deref())
        .await?;
    s.store
        .audit(
            Some(p.user.id),
            Some(t.customer_id),
            "tenant.schedule",
            &format!("tenant/{}", t.id),
            t.schedule_cron.as_deref().unwrap_or("(none)"),
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
    p.require(Action::RunScan)?;
    csrf(&p, &headers)?;
    let t = s
        .store
        .get_tenant_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let job = s
        .store
        .enqueue_scan(t.id, None)
        .await?
        .ok_or_else(|| ApiError::Conflict("a scan of this tenant is already queued".into()))?;
    s.store
        .audit(
            Some(p.user.id),
            Some(t.customer_id),
            "scan.request",
            &format!("tenant/{}", t.id),
            &format!("job {}", job.id),
        )
        .await?;
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
    p.require(Action::ViewPosture)?;
    let scan = s
        .store
        .get_scan_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("scan"))?;
    Ok(Json(json!(scan)))
}

async fn scan_results(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewPosture)?;
    s.store
        .get_scan_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("scan"))?;
    Ok(items(s.store.control_results(id).await?))
}

/// Drift of a scan: control changes plus which settings (snapshot sections) changed.
pub async fn drift_value(s: &AppState, scope: Scope, id: i64) -> ApiResult<Value> {
    let scan = s
        .store
        .get_scan_scoped(scope, id)
        .await?
        .ok_or(ApiError::NotFound("scan"))?;
    let drift = s.store.drift(id).await?;
    let mut settings = Vec::new();
    if let Some(prev) = drift.previous_scan_id {
        let snapshots = s.store.list_snapshots(scan.tenant_id).await?;
        let find = |scan_id: i64| {
            snapshots
                .iter()
                .find(|x| x.scan_id == scan_id)
                .map(|x| x.id)
        };
        if let (Some(a), Some(b)) = (find(prev), find(id)) {
            let before = s.store.load_snapshot_json(a).await?;
            let after = s.store.load_snapshot_json(b).await?;
            settings = mamori_work::scan::section_diff(&before, &after);
        }
    }
    Ok(json!({
        "scan_id": drift.scan_id,
        "previous_scan_id": drift.previous_scan_id,
        "new_failures": drift.new_failures,
        "regressions": drift.regressions,
        "resolved": drift.resolved,
        "changed_settings": settings,
    }))
}

async fn scan_drift(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    p.require(Action::ViewPosture)?;
    Ok(Json(drift_value(&s, p.scope(), id).await?))
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
    p.require(Action::ViewPosture)?;
    let page = s.store.list_findings(&f.query(p.scope())?).await?;
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
    p.require(Action::ViewPosture)?;
    let f = s
        .store
        .get_finding(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("finding"))?;
    let history = s.store.finding_history(p.scope(), id).await?;
    let control = s.catalog.get(&f.finding.control_id);
    Ok(Json(
        json!({ "finding": f, "control": control, "history": history }),
    ))
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
    p.require(Action::ViewPosture)?;
    let status = match f.status.as_deref() {
        None | Some("") => None,
        Some(x) => Some(x.parse::<ExceptionStatus>().map_err(|_| {
            bad("status must be requested, approved, rejected, expired or revoked")
        })?),
    };
    Ok(items(
        s.store
            .list_exceptions(p.scope(), f.tenant_id, status)
            .await?,
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
    p.require(Action::RequestException)?;
    csrf(&p, &headers)?;
    let e = s
        .store
        .request_exception(
            p.scope(),
            p.user.id,
            &NewException {
                tenant_id: body.tenant_id,
                control_id: body.control_id,
                resource_key: body.resource_key,
                reason: body.reason,
                expires_at: body.expires_at,
            },
        )
        .await?;
    s.store
        .audit(
            Some(p.user.id),
            Some(e.customer_id),
            "exception.request",
            &format!("exception/{}", e.id),
            &e.reason,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(e))))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    #[serde(default)]
    note: String,
}

pub async fn decide(
    s: &AppState,
    p: &Principal,
    id: i64,
    decision: &str,
    note: &str,
) -> ApiResult<mamori_store::Exception> {
    p.require(Action::DecideException)?;
    let e = match decision {
        "approve" => {
            s.store
                .decide_exception(p.scope(), id, p.user.id, true, note)
                .await?
        }
        "reject" => {
            s.store
                .decide_exception(p.scope(), id, p.user.id, false, note)
                .await?
        }
        _ => s.store.revoke_exception(p.scope(), id, p.user.id).await?,
    };
    s.store
        .audit(
            Some(p.user.id),
            Some(e.customer_id),
            &format!("exception.{decision}"),
            &format!("exception/{}", e.id),
            note,
        )
        .await?;
    Ok(e)
}

async fn decision(
    s: AppState,
    p: Principal,
    headers: HeaderMap,
    id: i64,
    body: Option<Json<DecisionBody>>,
    what: &str,
) -> ApiResult<Json<Value>> {
    csrf(&p, &headers)?;
    let note = body.map(|Json(b)| b.note).unwrap_or_default();
    Ok(Json(json!(decide(&s, &p, id, what, &note).await?)))
}

async fn approve_exception(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<Value>> {
    decision(s, p, headers, id, body, "approve").await
}

async fn reject_exception(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<Value>> {
    decision(s, p, headers, id, body, "reject").await
}

async fn revoke_exception(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Option<Json<DecisionBody>>,
) -> ApiResult<Json<Value>> {
    decision(s, p, headers, id, body, "revoke").await
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
    p.require(Action::ManageUsers)?;
    csrf(&p, &headers)?;
    let role: Role = body.role.parse().map_err(|_| bad("unknown role"))?;
    // A customer admin creates users of their own customer only, never operator staff.
    if let Scope::Customer(own) = p.scope() {
        if !role.is_customer_role() || body.customer_id.is_some_and(|c| c != own) {
            return Err(ApiError::Forbidden);
        }
    }
    let customer_id = match p.scope() {
        Scope::Customer(own) => Some(own),
        Scope::All => body.customer_id,
    };
    let lang = body.lang.unwrap_or_else(|| "ja".into());
    let u = s
        .store
        .create_user(&NewUser {
            display_name: body.display_name.unwrap_or_else(|| body.username.clone()),
            username: body.username,
            role,
            customer_id,
            lang,
            password: body.password,
        })
        .await?;
    s.store
        .audit(
            Some(p.user.id),
            u.customer_id,
            "user.create",
            &format!("user/{}", u.id),
            u.role.as_str(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(u))))
}

async fn list_tokens(State(s): State<AppState>, p: Principal) -> ApiResult<Json<Value>> {
    Ok(items(s.store.list_api_tokens(p.user.id).await?))
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
    let (secret, token) = s
        .store
        .create_api_token(p.user.id, body.name.trim(), body.expires_at)
        .await?;
    s.store
        .audit(
            Some(p.user.id),
            p.user.customer_id,
            "token.create",
            &format!("token/{}", token.id),
            &token.prefix,
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
    csrf(&p, &headers)?;
    s.store.revoke_api_token(p.user.id, id).await?;
    s.store
        .audit(
            Some(p.user.id),
            p.user.customer_id,
            "token.revoke",
            &format!("token/{id}"),
            "",
        )
        .await?;
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
    p.require(Action::ManageNotifications)?;
    csrf(&p, &headers)?;
    body.config
        .validate()
        .map_err(|e| bad(format!("channel: {e}")))?;
    if let Some(why) = s.notifier.refused_target(&body.config) {
        return Err(bad(format!("channel: {why}")));
    }
    let min_severity: Severity = body
        .min_severity
        .parse()
        .map_err(|_| bad("min_severity must be critical, high, medium, low or info"))?;
    if !["ja", "en"].contains(&body.lang.as_str()) {
        return Err(bad("lang must be ja or en"));
    }
    let customer_id = match p.scope() {
        Scope::Customer(own) => {
            if body.customer_id.is_some_and(|c| c != own) {
                return Err(ApiError::Forbidden);
            }
            Some(own)
        }
        Scope::All => body.customer_id,
    };
    if let Some(c) = customer_id {
        s.store
            .get_customer_scoped(p.scope(), c)
            .await?
            .ok_or(ApiError::NotFound("customer"))?;
    }
    let kind = body.config.kind();
    let stored = mamori_work::notify::StoredChannel {
        lang: body.lang,
        config: body.config,
    };
    let bytes = serde_json::to_vec(&stored).map_err(|e| bad(e.to_string()))?;
    let c = s
        .store
        .create_channel(&s.key, customer_id, &body.name, kind, min_severity, &bytes)
        .await?;
    s.store
        .audit(
            Some(p.user.id),
            customer_id,
            "channel.create",
            &format!("channel/{}", c.id),
            kind,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!(c))))
}

async fn delete_channel(
    State(s): State<AppState>,
    p: Principal,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    p.require(Action::ManageNotifications)?;
    csrf(&p, &headers)?;
    s.store.delete_channel(p.scope(), id).await?;
    s.store
        .audit(
            Some(p.user.id),
            p.user.customer_id,
            "channel.delete",
            &format!("channel/{id}"),
            "",
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
