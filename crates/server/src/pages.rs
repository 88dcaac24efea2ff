//! The dashboard: server-rendered pages (no script; CSP forbids it), ja/en by the user's
//! setting, charts as inline SVG. Every form carries the session's CSRF token; every page reads
//! through the same scoped store queries as the API, and every form that changes something, like
//! every view the API offers too, calls the same [`crate::service`] function as the API does.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::security;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::Timestamp;
use mamori_core::{Lang, Severity};
use mamori_store::{AlertFilter, ExceptionStatus, FindingQuery, GuardState, LogGuard};
use minijinja::{context, Environment, Value};
use serde::Deserialize;

use crate::api::{AlertParams, FindingFilter};
use crate::auth::{self, Principal, LANG_COOKIE, SESSION_COOKIE};
use crate::authz::{allows, Action};
use crate::error::ApiError;
use crate::i18n;
use crate::service;
use crate::AppState;

const CSS: &str = include_str!("../static/app.css");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("../templates/base.html")),
            ("login.html", include_str!("../templates/login.html")),
            ("overview.html", include_str!("../templates/overview.html")),
            ("customer.html", include_str!("../templates/customer.html")),
            ("tenant.html", include_str!("../templates/tenant.html")),
            ("findings.html", include_str!("../templates/findings.html")),
            ("finding.html", include_str!("../templates/finding.html")),
            (
                "exceptions.html",
                include_str!("../templates/exceptions.html"),
            ),
            ("scan.html", include_str!("../templates/scan.html")),
            ("alerts.html", include_str!("../templates/alerts.html")),
            ("alert.html", include_str!("../templates/alert.html")),
            ("settings.html", include_str!("../templates/settings.html")),
            ("error.html", include_str!("../templates/error.html")),
        ] {
            env.add_template(name, source)
                .expect("dashboard templates are valid");
        }
        env
    })
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/app.css", get(css))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/", get(overview))
        .route("/customers/{id}", get(customer))
        .route("/tenants/{id}", get(tenant))
        .route("/tenants/{id}/scan", post(scan_now))
        .route("/findings", get(findings))
        .route("/findings/{id}", get(finding))
        .route("/findings/{id}/exception", post(request_exception))
        .route("/exceptions", get(exceptions))
        .route("/exceptions/{id}/{decision}", post(decide_exception))
        .route("/alerts", get(alerts))
        .route("/alerts/{id}", get(alert))
        .route("/alerts/{id}/status", post(set_alert_status))
        .route("/scans/{id}", get(scan))
        .route("/settings", get(settings))
        .route("/settings/lang", post(set_lang))
        .route("/settings/tokens", post(create_token))
        .route("/settings/password", post(change_password))
        .route("/settings/users/{id}/{action}", post(manage_user))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

/// A page's failure, shown as a page (or a redirect to the login).
enum PageError {
    Login,
    Api(ApiError, Lang),
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e, Lang::Ja)
    }
}

impl From<mamori_store::Error> for PageError {
    fn from(e: mamori_store::Error) -> Self {
        PageError::Api(e.into(), Lang::Ja)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login => Redirect::to("/login").into_response(),
            PageError::Api(e, lang) => {
                let t = i18n::catalog(lang);
                let message = match &e {
                    ApiError::Forbidden => t["forbidden"].to_string(),
                    ApiError::NotFound(_) => t["not_found"].to_string(),
                    ApiError::Csrf => t["csrf_failed"].to_string(),
                    ApiError::Internal(_) => "Internal error / 内部エラー".to_string(),
                    other => format!("{}: {other}", t["bad_request"]),
                };
                let html = env()
                    .get_template("error.html")
                    .and_then(|tpl| tpl.render(context! { t => t, lang => lang.code(), message, user => Value::UNDEFINED }))
                    .unwrap_or_else(|_| message.clone());
                (e.status(), Html(html)).into_response()
            }
        }
    }
}

type PageResult = Result<Response, PageError>;

async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Principal, PageError> {
    match auth::principal(state, headers).await {
        Ok(Some(p)) => Ok(p),
        _ => Err(PageError::Login),
    }
}

fn require(p: &Principal, action: Action) -> Result<(), PageError> {
    p.require(action).map_err(|e| PageError::Api(e, p.lang()))
}

fn with_lang(p: &Principal) -> impl Fn(ApiError) -> PageError + '_ {
    move |e| PageError::Api(e, p.lang())
}

fn render(p: &Principal, name: &str, page: Value) -> PageResult {
    let lang = p.lang();
    let allowed: BTreeMap<String, bool> = Action::ALL
        .iter()
        .map(|a| (format!("{a:?}"), allows(p.user.role, *a)))
        .collect();
    let html = env()
        .get_template(name)
        .and_then(|tpl| {
            tpl.render(context! {
                t => i18n::catalog(lang),
                lang => lang.code(),
                user => p.user,
                csrf => p.csrf_token(),
                can => allowed,
                ..page
            })
        })
        .map_err(|e| PageError::Api(ApiError::Internal(format!("template {name}: {e}")), lang))?;
    Ok(Html(html).into_response())
}

fn local_time(ts: Option<Timestamp>, tz: &str) -> String {
    let Some(ts) = ts else {
        return String::new();
    };
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    ts.to_zoned(zone).strftime("%Y-%m-%d %H:%M").to_string()
}

/// Polyline points of a score series (0-100) in a `w`×`h` box.
fn sparkline(scores: &[f64], w: f64, h: f64) -> String {
    if scores.is_empty() {
        return String::new();
    }
    let step = if scores.len() > 1 {
        w / (scores.len() - 1) as f64
    } else {
        0.0
    };
    scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let x = if scores.len() == 1 {
                w / 2.0
            } else {
                i as f64 * step
            };
            let y = h - (s.clamp(0.0, 100.0) / 100.0) * h;
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---- sign in and out ----

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

async fn login_page(headers: HeaderMap, Query(q): Query<LangQuery>) -> Response {
    let mut lang = auth::anonymous_lang(&headers);
    let mut set_cookie = None;
    match q.lang.as_deref() {
        Some("en") => lang = Lang::En,
        Some("ja") => lang = Lang::Ja,
        _ => {}
    }
    if q.lang.is_some() {
        set_cookie = Some(format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000",
            lang.code()
        ));
    }
    login_form(lang, None, StatusCode::OK, set_cookie)
}

fn login_form(
    lang: Lang,
    error: Option<&str>,
    status: StatusCode,
    cookie: Option<String>,
) -> Response {
    let t = i18n::catalog(lang);
    let html = env()
        .get_template("login.html")
        .and_then(|tpl| {
            tpl.render(context! { t => t, lang => lang.code(), error => error.map(|k| t[k]) })
        })
        .unwrap_or_default();
    let mut response = (status, Html(html)).into_response();
    if let Some(c) = cookie.and_then(|c| c.parse().ok()) {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    response
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
}

async fn login(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = auth::anonymous_lang(&headers);
    let ip_key = security::client_key(peer.ip(), &headers, &s.config.trusted_proxies);
    let limited = |wait: u64| {
        let mut r = login_form(
            lang,
            Some("login_limited"),
            StatusCode::TOO_MANY_REQUESTS,
            None,
        );
        if let Ok(v) = wait.to_string().parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    };
    if form.username.len() > security::MAX_LOGIN_NAME_BYTES {
        // No such user can exist: counted against the client only, never hashed or kept.
        return match s.login_limiter.reserve(&[&ip_key]) {
            Err(wait) => limited(wait),
            Ok(()) => login_form(lang, Some("login_failed"), StatusCode::UNAUTHORIZED, None),
        };
    }
    let user_key = security::login_name_key(&form.username);
    // Counted before the password is checked, so parallel attempts cannot all slip through.
    if let Err(wait) = s.login_limiter.reserve(&[&ip_key, &user_key]) {
        return limited(wait);
    }
    // Argon2 takes 19 MiB and tens of milliseconds: only so many anonymous hashes at once.
    let Ok(Ok(_hashing)) =
        tokio::time::timeout(std::time::Duration::from_secs(5), s.login_hashes.acquire()).await
    else {
        let mut r = login_form(
            lang,
            Some("login_busy"),
            StatusCode::SERVICE_UNAVAILABLE,
            None,
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
        return r;
    };
    let user = match s
        .store
        .verify_password(&form.username, &form.password)
        .await
    {
        Ok(Some(u)) => u,
        Ok(None) => {
            let _ = s
                .store
                .audit(
                    None,
                    None,
                    "login.failed",
                    &format!(
                        "user:{}",
                        form.username.chars().take(64).collect::<String>()
                    ),
                    &peer.ip().to_string(),
                )
                .await;
            return login_form(lang, Some("login_failed"), StatusCode::UNAUTHORIZED, None);
        }
        Err(e) => return PageError::Api(e.into(), lang).into_response(),
    };
    s.login_limiter.succeed(&ip_key, &user_key);
    let (token, _) = match s.store.create_session(user.id, s.config.session_ttl).await {
        Ok(x) => x,
        Err(e) => return PageError::Api(e.into(), lang).into_response(),
    };
    let _ = s
        .store
        .audit(
            Some(user.id),
            user.customer_id,
            "login",
            &format!("user/{}", user.id),
            &peer.ip().to_string(),
        )
        .await;
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = auth::session_cookie(&s, &token, s.config.session_ttl.as_secs()).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    p.check_csrf(Some(&form.csrf)).map_err(with_lang(&p))?;
    if let Some(token) = auth::cookie(&headers, SESSION_COOKIE) {
        s.store.delete_session(token).await?;
    }
    let mut r = Redirect::to("/login").into_response();
    if let Ok(v) =
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0").parse()
    {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

// ---- overview, customer, tenant ----

async fn overview(State(s): State<AppState>, headers: HeaderMap) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    if !allows(p.user.role, Action::ViewPosture) {
        // Billing sees the customer list only.
        require(&p, Action::ViewCustomers)?;
        let customers = s.store.list_customers_scoped(p.scope()).await?;
        return render(
            &p,
            "overview.html",
            context! { customers_only => customers },
        );
    }
    let tenants = s.store.tenant_overview(p.scope(), None).await?;
    // Active threat alerts beside each customer's score: context, not part of the score.
    let mut alerts = s.store.active_alert_counts_by_customer(p.scope()).await?;
    let tenant_names: BTreeMap<i64, &str> = tenants
        .iter()
        .map(|t| (t.tenant.id, t.tenant.display_name.as_str()))
        .collect();
    let guards: Vec<Value> = s
        .store
        .log_guards(p.scope())
        .await?
        .into_iter()
        .filter_map(|g| {
            let name = tenant_names.get(&g.tenant_id).copied().unwrap_or_default();
            guard_notice(g, "Asia/Tokyo").map(|n| context! { tenant_name => name, ..n })
        })
        .collect();
    // Per customer: name, tenants, the tenants' latest scores, active findings by severity.
    type CustomerTotals = (String, usize, Vec<f64>, BTreeMap<Severity, i64>);
    let mut by_customer: BTreeMap<i64, CustomerTotals> = BTreeMap::new();
    for t in &tenants {
        let e = by_customer.entry(t.tenant.customer_id).or_insert_with(|| {
            let name = crate::i18n::customer_name(
                p.lang(),
                &t.customer_name,
                t.customer_name_ja.as_deref(),
            );
            (name.to_string(), 0, vec![], BTreeMap::new())
        });
        e.1 += 1;
        if let Some(score) = t.score {
            e.2.push(score);
        }
        for (sev, n) in &t.active_by_severity {
            *e.3.entry(*sev).or_default() += n;
        }
    }
    let mut rows: Vec<Value> = by_customer
        .into_iter()
        .map(|(id, (name, n, scores, sev))| {
            let score = (!scores.is_empty())
                .then(|| (scores.iter().sum::<f64>() / scores.len() as f64 * 10.0).round() / 10.0);
            let alerts = alerts.remove(&id).unwrap_or_default();
            context! { id, name, tenants => n, score, sev, alerts }
        })
        .collect();
    // Worst first: lowest score, then most critical findings.
    rows.sort_by(|a, b| {
        let sa = a
            .get_attr("score")
            .ok()
            .and_then(|v| f64::try_from(v).ok())
            .unwrap_or(101.0);
        let sb = b
            .get_attr("score")
            .ok()
            .and_then(|v| f64::try_from(v).ok())
            .unwrap_or(101.0);
        sa.total_cmp(&sb)
    });
    let worst = s
        .store
        .list_findings(&FindingQuery {
            scope: p.scope(),
            active_only: true,
            accepted: Some(false),
            limit: 10,
            ..FindingQuery::default()
        })
        .await?;
    let lang = p.lang();
    let worst: Vec<Value> = worst
        .items
        .iter()
        .map(|f| context! { f => f, title => s.catalog.title(&f.finding.control_id, lang) })
        .collect();
    let pending = s
        .store
        .list_exceptions(p.scope(), None, Some(ExceptionStatus::Requested))
        .await?
        .len();
    render(
        &p,
        "overview.html",
        context! { customers => rows, worst, pending, guards },
    )
}

async fn customer(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    require(&p, Action::ViewPosture)?;
    let c = s
        .store
        .get_customer_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("customer"))
        .map_err(with_lang(&p))?;
    let tenants = s.store.tenant_overview(p.scope(), Some(id)).await?;
    let mut rows = Vec::new();
    for t in tenants {
        let history = s
            .store
            .score_history(p.scope(), t.tenant.id, "overall", "", 30)
            .await?;
        let scores: Vec<f64> = history.iter().map(|x| x.score).collect();
        let last_scan = local_time(
            t.last_scan
                .as_ref()
                .and_then(|x| x.finished_at.or(Some(x.created_at))),
            &c.time_zone,
        );
        rows.push(context! { t => t, spark => sparkline(&scores, 120.0, 28.0), last_scan });
    }
    render(
        &p,
        "customer.html",
        context! { customer => c, tenants => rows },
    )
}

async fn tenant(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    let t = service::tenant(&s, &p, id).await.map_err(with_lang(&p))?;
    let c = s
        .store
        .get_customer_scoped(p.scope(), t.customer_id)
        .await?;
    let tz = t.schedule_time_zone.clone();
    let history = s
        .store
        .score_history(p.scope(), id, "overall", "", 90)
        .await?;
    let scores: Vec<f64> = history.iter().map(|x| x.score).collect();
    let chart = sparkline(&scores, 600.0, 120.0);
    let latest = history.last().cloned();
    let frameworks = s.store.latest_scores(p.scope(), "framework").await?;
    let frameworks: Vec<_> = frameworks
        .into_iter()
        .filter(|f| f.tenant_id == id)
        .collect();
    let scans: Vec<Value> = s
        .store
        .list_scans_scoped(p.scope(), Some(id), 20)
        .await?
        .into_iter()
        .map(|x| {
            let started = local_time(x.started_at.or(Some(x.created_at)), &tz);
            let finished = local_time(x.finished_at, &tz);
            context! { scan => x, started, finished }
        })
        .collect();
    let next_runs: Vec<String> = t
        .schedule_cron
        .as_deref()
        .and_then(|c| {
            let schedule = mamori_cron::Schedule::parse(c).ok()?;
            let zone = mamori_cron::parse_time_zone(&tz).ok()?;
            Some(schedule.upcoming(Timestamp::now(), &zone, 3))
        })
        .unwrap_or_default()
        .into_iter()
        .map(|x| local_time(Some(x), &tz))
        .collect();
    let counts = s.store.severity_counts(p.scope(), Some(id)).await?;
    let sev: BTreeMap<Severity, i64> = counts.into_iter().map(|(_, s, n)| (s, n)).collect();
    // Threat detection: the flood guard's decision when it holds the tenant's logs back, and
    // the tenant's alerts by day, newest first.
    let guard = s
        .store
        .log_guard(id)
        .await?
        .and_then(|g| guard_notice(g, &tz));
    let active_alerts = s.store.active_alert_counts(p.scope(), Some(id)).await?;
    let filter = AlertFilter {
        tenant_id: Some(id),
        ..AlertFilter::default()
    };
    let recent = service::alerts(&s, &p, Ok(filter), TIMELINE_ALERTS, 0)
        .await
        .map_err(with_lang(&p))?;
    let lang = p.lang();
    let zone = jiff::tz::TimeZone::get(&tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut timeline: Vec<(String, Vec<Value>)> = Vec::new();
    for a in &recent {
        let at = a.last_seen.to_zoned(zone.clone());
        let day = at.strftime("%Y-%m-%d").to_string();
        let row = context! { a => a, title => a.title.get(lang), time => at.strftime("%H:%M").to_string() };
        match timeline.last_mut() {
            Some((d, rows)) if *d == day => rows.push(row),
            _ => timeline.push((day, vec![row])),
        }
    }
    let timeline: Vec<Value> = timeline
        .into_iter()
        .map(|(day, alerts)| context! { day, alerts })
        .collect();
    render(
        &p,
        "tenant.html",
        context! { tenant => t, customer => c, chart, latest, frameworks, scans, next_runs, sev, points => scores.len(),
        guard, active_alerts, timeline, timeline_full => recent.len() as i64 == TIMELINE_ALERTS },
    )
}

async fn scan_now(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    p.check_csrf(Some(&form.csrf)).map_err(with_lang(&p))?;
    match service::request_scan(&s, &p, Some(&form.csrf), id).await {
        // Already queued: the scan the user asked for is on its way; back to the tenant.
        Ok(_) | Err(ApiError::Conflict(_)) => {}
        Err(e) => return Err(PageError::Api(e, p.lang())),
    }
    Ok(Redirect::to(&format!("/tenants/{id}")).into_response())
}

// ---- findings ----

async fn findings(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<FindingFilter>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    let mut f = f;
    if f.status.is_none() {
        f.status = Some("active".into());
    }
    let page = service::findings(&s, &p, &f).await.map_err(with_lang(&p))?;
    let lang = p.lang();
    let rows: Vec<Value> = page
        .items
        .iter()
        .map(|v| {
            context! { f => v, title => s.catalog.title(&v.finding.control_id, lang),
            last_seen => local_time(Some(v.finding.last_seen), "Asia/Tokyo") }
        })
        .collect();
    let tenants = s
        .store
        .list_tenants_scoped(p.scope(), f.customer_id)
        .await?;
    let base = |offset: i64| {
        let mut u = url::form_urlencoded::Serializer::new(String::new());
        if let Some(x) = f.customer_id {
            u.append_pair("customer_id", &x.to_string());
        }
        if let Some(x) = f.tenant_id {
            u.append_pair("tenant_id", &x.to_string());
        }
        if let Some(x) = &f.status {
            u.append_pair("status", x);
        }
        if let Some(x) = &f.severity {
            u.append_pair("severity", x);
        }
        if let Some(x) = &f.control {
            u.append_pair("control", x);
        }
        if let Some(x) = f.accepted {
            u.append_pair("accepted", &x.to_string());
        }
        u.append_pair("offset", &offset.to_string());
        format!("/findings?{}", u.finish())
    };
    let prev = (page.offset > 0).then(|| base((page.offset - page.limit).max(0)));
    let next = page.has_more().then(|| base(page.offset + page.limit));
    // "10,000+" when the count stopped at the cap.
    let total = if page.total_exact {
        page.total.to_string()
    } else {
        format!("{}+", page.total)
    };
    render(
        &p,
        "findings.html",
        context! {
            rows, total, offset => page.offset, shown => page.items.len(), prev, next, tenants,
            filter => context! { tenant_id => f.tenant_id, status => f.status, severity => f.severity, control => f.control, accepted => f.accepted },
        },
    )
}

async fn finding(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    let service::FindingDetail {
        finding: f,
        history,
    } = service::finding(&s, &p, id).await.map_err(with_lang(&p))?;
    let lang = p.lang();
    let control = s.catalog.get(&f.finding.control_id).map(|c| {
        context! { title => c.title.get(lang), remediation => c.remediation.get(lang),
            product => c.product.get(lang), references => c.references, severity => c.severity.as_str() }
    });
    let history: Vec<Value> = history
        .into_iter()
        .map(|e| context! { e => e, at => local_time(Some(e.at), "Asia/Tokyo") })
        .collect();
    let exceptions: Vec<_> = s
        .store
        .list_exceptions(p.scope(), Some(f.finding.tenant_id), None)
        .await?
        .into_iter()
        .filter(|e| {
            e.control_id == f.finding.control_id
                && e.resource_key
                    .as_deref()
                    .is_none_or(|r| r == f.finding.resource_key)
        })
        .collect();
    let details = s
        .store
        .control_results(f.finding.last_scan_id)
        .await?
        .into_iter()
        .find(|r| r.control_id == f.finding.control_id)
        .map(|r| {
            if lang == Lang::Ja {
                r.details_ja
            } else {
                r.details_en
            }
        });
    render(
        &p,
        "finding.html",
        context! { f => f, control, history, exceptions, details,
        first_seen => local_time(Some(f.finding.first_seen), "Asia/Tokyo"),
        last_seen => local_time(Some(f.finding.last_seen), "Asia/Tokyo") },
    )
}

#[derive(Deserialize)]
struct ExceptionForm {
    #[serde(default)]
    csrf: String,
    reason: String,
    days: i64,
    #[serde(default)]
    whole_control: Option<String>,
}

async fn request_exception(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ExceptionForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    p.check_csrf(Some(&form.csrf)).map_err(with_lang(&p))?;
    // 1 to 366 days from now cannot overflow a timestamp.
    let days = form.days.clamp(1, 366);
    let expires_at = Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * days))
        .map_err(|e| PageError::Api(ApiError::BadRequest(e.to_string()), p.lang()))?;
    let request = service::ExceptionRequest {
        target: service::ExceptionTarget::Finding {
            finding_id: id,
            whole_control: form.whole_control.is_some(),
        },
        reason: form.reason.trim().to_string(),
        expires_at,
    };
    service::request_exception(&s, &p, Some(&form.csrf), request)
        .await
        .map_err(with_lang(&p))?;
    Ok(Redirect::to("/exceptions").into_response())
}

#[derive(Deserialize)]
struct ExceptionFilter {
    status: Option<String>,
}

async fn exceptions(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ExceptionFilter>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    let status = q
        .status
        .as_deref()
        .filter(|x| !x.is_empty())
        .map(str::parse::<ExceptionStatus>)
        .transpose()
        .map_err(|e| mamori_store::Error::from(e).into());
    let list = service::exceptions(&s, &p, None, status)
        .await
        .map_err(with_lang(&p))?;
    let lang = p.lang();
    let tenants: BTreeMap<i64, String> = s
        .store
        .list_tenants_scoped(p.scope(), None)
        .await?
        .into_iter()
        .map(|t| (t.id, t.display_name))
        .collect();
    let mut users: BTreeMap<i64, String> = BTreeMap::new();
    for e in &list {
        for id in [Some(e.requested_by), e.decided_by].into_iter().flatten() {
            if let std::collections::btree_map::Entry::Vacant(v) = users.entry(id) {
                if let Some(u) = s.store.get_user(id).await? {
                    v.insert(u.display_name);
                }
            }
        }
    }
    let rows: Vec<Value> = list
        .iter()
        .map(|e| {
            context! { e => e, title => s.catalog.title(&e.control_id, lang),
            tenant => tenants.get(&e.tenant_id), requester => users.get(&e.requested_by),
            decider => e.decided_by.and_then(|d| users.get(&d)),
            expires => local_time(Some(e.expires_at), "Asia/Tokyo"),
            own => e.requested_by == p.user.id }
        })
        .collect();
    render(&p, "exceptions.html", context! { rows, status => q.status })
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

async fn decide_exception(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, decision)): Path<(i64, String)>,
    Form(form): Form<DecisionForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    p.check_csrf(Some(&form.csrf)).map_err(with_lang(&p))?;
    let Some(decision) = service::Decision::parse(&decision) else {
        return Err(PageError::Api(ApiError::NotFound("decision"), p.lang()));
    };
    service::decide_exception(&s, &p, Some(&form.csrf), id, decision, &form.note)
        .await
        .map_err(with_lang(&p))?;
    Ok(Redirect::to("/exceptions").into_response())
}

// ---- threat alerts ----

/// Alerts shown in a tenant's timeline (the rest are a link away).
const TIMELINE_ALERTS: i64 = 100;

/// The flood guard's decision as a notice, when it holds the tenant's logs back now.
fn guard_notice(g: LogGuard, tz: &str) -> Option<Value> {
    let state = g.effective(Timestamp::now());
    (state != GuardState::Normal).then(|| {
        context! { tenant_id => g.tenant_id, state => state.as_str(), reason => g.reason,
        since => local_time(Some(g.since), tz), until => local_time(g.until, tz) }
    })
}

async fn alerts(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<AlertParams>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    let mut f = f;
    if f.status.is_none() && f.active.is_none() {
        f.status = Some("active".into());
    }
    let (limit, offset) = (f.limit(), f.offset());
    // One more than shown: whether there is a next page.
    let mut list = service::alerts(&s, &p, f.filter(), limit + 1, offset)
        .await
        .map_err(with_lang(&p))?;
    let more = list.len() as i64 > limit;
    list.truncate(limit as usize);
    let lang = p.lang();
    let rows: Vec<Value> = list
        .iter()
        .map(|a| {
            context! { a => a, title => a.title.get(lang),
            last_seen => local_time(Some(a.last_seen), "Asia/Tokyo") }
        })
        .collect();
    let tenants = s.store.list_tenants_scoped(p.scope(), None).await?;
    let base = |offset: i64| {
        let mut u = url::form_urlencoded::Serializer::new(String::new());
        if let Some(x) = f.tenant_id {
            u.append_pair("tenant_id", &x.to_string());
        }
        for (k, v) in [
            ("status", &f.status),
            ("severity", &f.severity),
            ("source", &f.source),
            ("rule_id", &f.rule_id),
        ] {
            if let Some(v) = v {
                u.append_pair(k, v);
            }
        }
        u.append_pair("offset", &offset.to_string());
        format!("/alerts?{}", u.finish())
    };
    let prev = (offset > 0).then(|| base((offset - limit).max(0)));
    let next = more.then(|| base(offset + limit));
    render(
        &p,
        "alerts.html",
        context! {
            rows, prev, next, tenants,
            filter => context! { tenant_id => f.tenant_id, status => f.status, severity => f.severity },
        },
    )
}

async fn alert(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    let service::AlertDetail { alert: a, history } =
        service::alert(&s, &p, id).await.map_err(with_lang(&p))?;
    let lang = p.lang();
    let mut users: BTreeMap<i64, String> = BTreeMap::new();
    for e in &history {
        if let Some(id) = e.actor_user_id {
            if let std::collections::btree_map::Entry::Vacant(v) = users.entry(id) {
                if let Some(u) = s.store.get_user(id).await? {
                    v.insert(u.display_name);
                }
            }
        }
    }
    let history: Vec<Value> = history
        .iter()
        .map(|e| {
            let at = Timestamp::from_microsecond(e.at).ok();
            context! { e => e, at => local_time(at, "Asia/Tokyo"),
            actor => e.actor_user_id.and_then(|u| users.get(&u)) }
        })
        .collect();
    let next: Vec<&str> = mamori_store::AlertStatus::ALL
        .iter()
        .filter(|x| **x != a.status)
        .map(|x| x.as_str())
        .collect();
    render(
        &p,
        "alert.html",
        context! { a => a, title => a.title.get(lang), response => a.response.get(lang), history, next,
        first_seen => local_time(Some(a.first_seen), "Asia/Tokyo"),
        last_seen => local_time(Some(a.last_seen), "Asia/Tokyo") },
    )
}

#[derive(Deserialize)]
struct AlertStatusForm {
    #[serde(default)]
    csrf: String,
    status: String,
    #[serde(default)]
    note: String,
}

async fn set_alert_status(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<AlertStatusForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    p.check_csrf(Some(&form.csrf)).map_err(with_lang(&p))?;
    let status = form
        .status
        .parse::<mamori_store::AlertStatus>()
        .map_err(|e| ApiError::BadRequest(e.to_string()));
    match service::set_alert_status(&s, &p, Some(&form.csrf), id, status, &form.note).await {
        // Already in that state (someone else was quicker): the page shows where it is.
        Ok(_) | Err(ApiError::Conflict(_)) => {}
        Err(e) => return Err(PageError::Api(e, p.lang())),
    }
    Ok(Redirect::to(&format!("/alerts/{id}")).into_response())
}

// ---- scans ----

async fn scan(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    let sc = service::scan(&s, &p, id).await.map_err(with_lang(&p))?;
    let t = s.store.get_tenant_scoped(p.scope(), sc.tenant_id).await?;
    let drift = if sc.status == mamori_store::ScanStatus::Succeeded {
        Some(
            service::scan_drift(&s, &p, id)
                .await
                .map_err(with_lang(&p))?,
        )
    } else {
        None
    };
    let lang = p.lang();
    let titles: BTreeMap<String, String> = drift
        .iter()
        .flat_map(service::ScanDrift::control_ids)
        .map(|c| (c.to_string(), s.catalog.title(c, lang)))
        .collect();
    let active = matches!(
        sc.status,
        mamori_store::ScanStatus::Queued | mamori_store::ScanStatus::Running
    );
    let tz = t
        .as_ref()
        .map(|t| t.schedule_time_zone.clone())
        .unwrap_or_else(|| "Asia/Tokyo".into());
    render(
        &p,
        "scan.html",
        context! { scan => sc, tenant => t, drift => drift.map(Value::from_serialize), titles,
        refresh => active.then_some(3),
        started => local_time(sc.started_at, &tz), finished => local_time(sc.finished_at, &tz) },
    )
}

// ---- settings ----

async fn settings(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    settings_page(&s, &p, Value::UNDEFINED, q.notice.as_deref()).await
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

/// The settings page; a notice is one of the page's own words, never text from the query.
async fn settings_page(
    s: &AppState,
    p: &Principal,
    new_secret: Value,
    notice: Option<&str>,
) -> PageResult {
    let tokens = service::tokens(s, p).await.map_err(with_lang(p))?;
    let users = if allows(p.user.role, Action::ManageUsers) {
        s.store
            .list_users(p.scope())
            .await
            .map_err(|e| PageError::Api(e.into(), p.lang()))?
    } else {
        Vec::new()
    };
    let notice = notice.filter(|n| matches!(*n, "password_changed" | "user_updated"));
    render(
        p,
        "settings.html",
        context! { tokens, users, new_secret, notice },
    )
}

#[derive(Deserialize)]
struct OwnPasswordForm {
    #[serde(default)]
    csrf: String,
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<OwnPasswordForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    service::change_own_password(
        &s,
        &p,
        Some(&form.csrf),
        &form.current_password,
        &form.new_password,
    )
    .await
    .map_err(with_lang(&p))?;
    Ok(Redirect::to("/settings?notice=password_changed").into_response())
}

#[derive(Deserialize)]
struct ManageUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

async fn manage_user(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(i64, String)>,
    Form(form): Form<ManageUserForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    let csrf = Some(form.csrf.as_str());
    let done = match action.as_str() {
        "disable" => service::set_user_disabled(&s, &p, csrf, id, true)
            .await
            .map(|_| ()),
        "enable" => service::set_user_disabled(&s, &p, csrf, id, false)
            .await
            .map(|_| ()),
        "revoke" => service::revoke_user_access(&s, &p, csrf, id)
            .await
            .map(|_| ()),
        "password" => service::reset_password(&s, &p, csrf, id, &form.password).await,
        _ => Err(ApiError::NotFound("page")),
    };
    done.map_err(with_lang(&p))?;
    Ok(Redirect::to("/settings?notice=user_updated").into_response())
}

#[derive(Deserialize)]
struct LangForm {
    #[serde(default)]
    csrf: String,
    lang: String,
}

async fn set_lang(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LangForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    p.check_csrf(Some(&form.csrf)).map_err(with_lang(&p))?;
    s.store
        .set_user_lang(p.user.id, &form.lang)
        .await
        .map_err(|e| PageError::Api(e.into(), p.lang()))?;
    Ok(Redirect::to("/settings").into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    name: String,
}

async fn create_token(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> PageResult {
    let p = signed_in(&s, &headers).await?;
    p.check_csrf(Some(&form.csrf)).map_err(with_lang(&p))?;
    let name = form.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(PageError::Api(
            ApiError::BadRequest("name: 1-100 characters".into()),
            p.lang(),
        ));
    }
    let (secret, _) = service::create_token(&s, &p, Some(&form.csrf), name, None)
        .await
        .map_err(with_lang(&p))?;
    settings_page(&s, &p, Value::from(secret), None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts keyed by `Severity` reach the templates under the severity's text
    /// (`sev.critical`), as they did when the keys were strings.
    #[test]
    fn severity_keys_render_as_their_text() {
        let sev = BTreeMap::from([(Severity::Critical, 2), (Severity::Low, 1)]);
        let out = Environment::new()
            .render_str(
                "{{ sev.critical or 0 }}/{{ sev.high or 0 }}/{{ sev.low }}",
                context! { sev },
            )
            .unwrap();
        assert_eq!(out, "2/0/1");
    }
}
