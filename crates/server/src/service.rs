//! The service layer: every operation that the JSON API ([`crate::api`]) and the dashboard
//! ([`crate::pages`]) both offer, as one function that authorises, stores and audits — once.
//! The adapters only turn a request (JSON body, query, form) into typed inputs, call one of
//! these, and render the typed result as JSON or HTML.
//!
//! Authorisation is the role check ([`Principal::require`]) plus, for writes, the CSRF token the
//! request presented (the `X-CSRF-Token` header or the form's `csrf` field; token-authenticated
//! calls need none). The customer boundary is the [`Scope`] passed to the store, so an id outside
//! the caller's customer answers 404 exactly like a missing one.

use jiff::Timestamp;
use mamori_core::{LogSource, Severity};
use mamori_store::{
    Alert, AlertEvent, AlertFilter, AlertStatus, ApiToken, App, Customer, Drift, DriftItem,
    EndedAccess, Exception, ExceptionStatus, FindingEvent, FindingView, GuardState, Job,
    KeptAccess, LogGuard, LogStream, MeterRow, NewCustomer, NewTenant, NewUser,
    NotificationChannel, Page, Role, Scan, Scope, Tenant, User,
};
use serde::Serialize;
use serde_json::Value;

use crate::api::FindingFilter;
use crate::auth::Principal;
use crate::authz::Action;
use crate::error::{ApiError, ApiResult};
use crate::ingest::LogBatch;
use crate::AppState;

/// The role check, then the CSRF token. The role comes first (the API's order since its first
/// version); the pages, and the API's exception decisions, compare the token themselves before
/// anything else. Comparing it again here is cheap and keeps every write guarded.
fn authorise(p: &Principal, action: Action, csrf: Option<&str>) -> ApiResult<()> {
    p.require(action)?;
    p.check_csrf(csrf)
}

async fn audit(
    s: &AppState,
    p: &Principal,
    customer_id: Option<i64>,
    action: &str,
    target: &str,
    detail: &str,
) -> ApiResult<()> {
    s.store
        .audit(Some(p.user.id), customer_id, action, target, detail)
        .await?;
    Ok(())
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

// ---- customers ----

pub async fn create_customer(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    new: &NewCustomer,
) -> ApiResult<Customer> {
    authorise(p, Action::ManageTenants, csrf)?;
    let c = s.store.create_customer(new).await?;
    audit(
        s,
        p,
        Some(c.id),
        "customer.create",
        &format!("customer/{}", c.id),
        &c.name,
    )
    .await?;
    Ok(c)
}

// ---- tenants and scans ----

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

/// A tenant to register. `app` is the parsed application; a bad one is reported after the
/// role check, like every other check of the input.
pub struct TenantRequest {
    pub customer_id: i64,
    pub app: ApiResult<App>,
    pub display_name: String,
    /// The connector configuration (the `mamori collect --credentials` file's content).
    pub credentials: Value,
    pub schedule_cron: Option<String>,
    pub schedule_time_zone: Option<String>,
}

/// Registers a tenant with its credentials (stored encrypted) after checking that the schedule
/// and the credentials can be read, and that the customer is the caller's.
pub async fn create_tenant(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    request: TenantRequest,
) -> ApiResult<Tenant> {
    authorise(p, Action::ManageTenants, csrf)?;
    let app = request.app?;
    check_schedule(
        request.schedule_cron.as_deref(),
        request.schedule_time_zone.as_deref(),
    )?;
    check_credentials(app, &request.credentials)?;
    s.store
        .get_customer_scoped(p.scope(), request.customer_id)
        .await?
        .ok_or(ApiError::NotFound("customer"))?;
    let credentials = serde_json::to_vec(&request.credentials).map_err(|e| bad(e.to_string()))?;
    let mut new = NewTenant::new(request.customer_id, app, request.display_name, &credentials);
    new.schedule_cron = request.schedule_cron;
    new.schedule_time_zone = request.schedule_time_zone;
    let t = s.store.create_tenant(&s.key, &new).await?;
    audit(
        s,
        p,
        Some(t.customer_id),
        "tenant.create",
        &format!("tenant/{}", t.id),
        &t.display_name,
    )
    .await?;
    Ok(t)
}

/// Sets (or, with `None`, clears) a tenant's scan schedule.
pub async fn set_schedule(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    tenant_id: i64,
    cron: Option<&str>,
    time_zone: Option<&str>,
) -> ApiResult<Tenant> {
    authorise(p, Action::ManageTenants, csrf)?;
    check_schedule(cron, time_zone)?;
    let t = s
        .store
        .get_tenant_scoped(p.scope(), tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let t = s.store.set_tenant_schedule(t.id, cron, time_zone).await?;
    audit(
        s,
        p,
        Some(t.customer_id),
        "tenant.schedule",
        &format!("tenant/{}", t.id),
        t.schedule_cron.as_deref().unwrap_or("(none)"),
    )
    .await?;
    Ok(t)
}

/// A tenant the caller may see.
pub async fn tenant(s: &AppState, p: &Principal, id: i64) -> ApiResult<Tenant> {
    p.require(Action::ViewPosture)?;
    s.store
        .get_tenant_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))
}

/// Queues a scan of a tenant now. [`ApiError::Conflict`] when one is already queued (the page
/// treats that as done: the scan the user asked for is on its way).
pub async fn request_scan(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    tenant_id: i64,
) -> ApiResult<Job> {
    authorise(p, Action::RunScan, csrf)?;
    let t = s
        .store
        .get_tenant_scoped(p.scope(), tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let job = s
        .store
        .enqueue_scan(t.id, None)
        .await?
        .ok_or_else(|| ApiError::Conflict("a scan of this tenant is already queued".into()))?;
    audit(
        s,
        p,
        Some(t.customer_id),
        "scan.request",
        &format!("tenant/{}", t.id),
        &format!("job {}", job.id),
    )
    .await?;
    Ok(job)
}

/// A scan the caller may see.
pub async fn scan(s: &AppState, p: &Principal, id: i64) -> ApiResult<Scan> {
    p.require(Action::ViewPosture)?;
    s.store
        .get_scan_scoped(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("scan"))
}

/// Drift of a scan: control changes plus which settings (snapshot sections) changed. Serialises
/// to the API's drift body (fields in this order).
#[derive(Debug, Clone, Serialize)]
pub struct ScanDrift {
    pub scan_id: i64,
    pub previous_scan_id: Option<i64>,
    pub new_failures: Vec<DriftItem>,
    pub regressions: Vec<DriftItem>,
    pub resolved: Vec<DriftItem>,
    pub changed_settings: Vec<mamori_work::scan::SectionChange>,
}

impl ScanDrift {
    /// Every control named in the three lists.
    pub fn control_ids(&self) -> impl Iterator<Item = &str> {
        self.new_failures
            .iter()
            .chain(&self.regressions)
            .chain(&self.resolved)
            .map(|i| i.control_id.as_str())
    }
}

pub async fn scan_drift(s: &AppState, p: &Principal, id: i64) -> ApiResult<ScanDrift> {
    let scan = scan(s, p, id).await?;
    let Drift {
        scan_id,
        previous_scan_id,
        new_failures,
        resolved,
        regressions,
    } = s.store.drift(id).await?;
    let mut changed_settings = Vec::new();
    if let Some(prev) = previous_scan_id {
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
            changed_settings = mamori_work::scan::section_diff(&before, &after);
        }
    }
    Ok(ScanDrift {
        scan_id,
        previous_scan_id,
        new_failures,
        regressions,
        resolved,
        changed_settings,
    })
}

// ---- findings ----

/// One page of findings; the filter is checked after the role.
pub async fn findings(
    s: &AppState,
    p: &Principal,
    filter: &FindingFilter,
) -> ApiResult<Page<FindingView>> {
    p.require(Action::ViewPosture)?;
    Ok(s.store.list_findings(&filter.query(p.scope())?).await?)
}

/// A finding with its history.
pub struct FindingDetail {
    pub finding: FindingView,
    pub history: Vec<FindingEvent>,
}

pub async fn finding(s: &AppState, p: &Principal, id: i64) -> ApiResult<FindingDetail> {
    p.require(Action::ViewPosture)?;
    let finding = s
        .store
        .get_finding(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("finding"))?;
    let history = s.store.finding_history(p.scope(), id).await?;
    Ok(FindingDetail { finding, history })
}

// ---- exceptions (risk acceptances) ----

/// Exceptions the caller may see. `status` is the parsed filter; a bad one is reported after
/// the role check, so a caller who may not look learns nothing from the answer.
pub async fn exceptions(
    s: &AppState,
    p: &Principal,
    tenant_id: Option<i64>,
    status: ApiResult<Option<ExceptionStatus>>,
) -> ApiResult<Vec<Exception>> {
    p.require(Action::ViewPosture)?;
    let status = status?;
    Ok(s.store
        .list_exceptions(p.scope(), tenant_id, status)
        .await?)
}

/// What a risk acceptance covers.
pub enum ExceptionTarget {
    /// A control of a tenant, for one resource or (without `resource_key`) all of them.
    Control {
        tenant_id: i64,
        control_id: String,
        resource_key: Option<String>,
    },
    /// The control and resource of a finding; `whole_control` widens it to every resource.
    Finding {
        finding_id: i64,
        whole_control: bool,
    },
}

pub struct ExceptionRequest {
    pub target: ExceptionTarget,
    pub reason: String,
    pub expires_at: Timestamp,
}

/// Asks for a risk acceptance; someone else decides it ([`decide_exception`]).
pub async fn request_exception(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    request: ExceptionRequest,
) -> ApiResult<Exception> {
    authorise(p, Action::RequestException, csrf)?;
    let (tenant_id, control_id, resource_key) = match request.target {
        ExceptionTarget::Control {
            tenant_id,
            control_id,
            resource_key,
        } => (tenant_id, control_id, resource_key),
        ExceptionTarget::Finding {
            finding_id,
            whole_control,
        } => {
            let f = s
                .store
                .get_finding(p.scope(), finding_id)
                .await?
                .ok_or(ApiError::NotFound("finding"))?
                .finding;
            // A finding without a resource is about the control as a whole.
            let resource_key =
                (!whole_control && !f.resource_key.is_empty()).then_some(f.resource_key);
            (f.tenant_id, f.control_id, resource_key)
        }
    };
    let e = s
        .store
        .request_exception(
            p.scope(),
            p.user.id,
            &mamori_store::NewException {
                tenant_id,
                control_id,
                resource_key,
                reason: request.reason,
                expires_at: request.expires_at,
            },
        )
        .await?;
    audit(
        s,
        p,
        Some(e.customer_id),
        "exception.request",
        &format!("exception/{}", e.id),
        &e.reason,
    )
    .await?;
    Ok(e)
}

/// What to do with a risk acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
    Revoke,
}

impl Decision {
    /// The URL segment and the audit action's suffix (`exception.approve`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Revoke => "revoke",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        [Decision::Approve, Decision::Reject, Decision::Revoke]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// Approves, rejects or revokes a risk acceptance (the store refuses deciding one's own
/// request). The note is audited for every decision, revocations included.
pub async fn decide_exception(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    id: i64,
    decision: Decision,
    note: &str,
) -> ApiResult<Exception> {
    authorise(p, Action::DecideException, csrf)?;
    let e = match decision {
        Decision::Approve => {
            s.store
                .decide_exception(p.scope(), id, p.user.id, true, note)
                .await?
        }
        Decision::Reject => {
            s.store
                .decide_exception(p.scope(), id, p.user.id, false, note)
                .await?
        }
        Decision::Revoke => s.store.revoke_exception(p.scope(), id, p.user.id).await?,
    };
    audit(
        s,
        p,
        Some(e.customer_id),
        &format!("exception.{}", decision.as_str()),
        &format!("exception/{}", e.id),
        note,
    )
    .await?;
    Ok(e)
}

// ---- users and API tokens ----

/// A user to create. `role` is the parsed role; a bad one is reported after the role check.
pub struct UserRequest {
    pub username: String,
    pub display_name: Option<String>,
    pub role: ApiResult<Role>,
    pub customer_id: Option<i64>,
    pub lang: Option<String>,
    pub password: String,
}

pub async fn create_user(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    request: UserRequest,
) -> ApiResult<User> {
    authorise(p, Action::ManageUsers, csrf)?;
    let role = request.role?;
    // A customer admin creates users of their own customer only, never operator staff.
    if let Scope::Customer(own) = p.scope() {
        if !role.is_customer_role() || request.customer_id.is_some_and(|c| c != own) {
            return Err(ApiError::Forbidden);
        }
    }
    let customer_id = match p.scope() {
        Scope::Customer(own) => Some(own),
        Scope::All => request.customer_id,
    };
    let lang = request.lang.unwrap_or_else(|| "ja".into());
    let u = s
        .store
        .create_user(&NewUser {
            display_name: request
                .display_name
                .unwrap_or_else(|| request.username.clone()),
            username: request.username,
            role,
            customer_id,
            lang,
            password: request.password,
        })
        .await?;
    audit(
        s,
        p,
        u.customer_id,
        "user.create",
        &format!("user/{}", u.id),
        u.role.as_str(),
    )
    .await?;
    Ok(u)
}

// ---- account lifecycle: offboarding, password resets, revocation ----

/// User `id` as the caller may manage it: an operator admin any user; a customer admin the
/// users of their own customer, never operator staff (others read as not found, so a customer
/// admin cannot learn who exists elsewhere).
async fn managed_user(s: &AppState, p: &Principal, csrf: Option<&str>, id: i64) -> ApiResult<User> {
    authorise(p, Action::ManageUsers, csrf)?;
    let user = s
        .store
        .get_user(id)
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    if let Scope::Customer(own) = p.scope() {
        if user.customer_id != Some(own) || !user.role.is_customer_role() {
            return Err(ApiError::NotFound("user"));
        }
    }
    Ok(user)
}

/// Disables a user (their sessions end at once and their API tokens stop working) or enables
/// them again. Nobody disables themselves.
pub async fn set_user_disabled(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    id: i64,
    disabled: bool,
) -> ApiResult<User> {
    let user = managed_user(s, p, csrf, id).await?;
    if user.id == p.user.id {
        return Err(bad("you cannot disable or enable your own account"));
    }
    s.store.set_user_disabled(id, disabled).await?;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    audit(s, p, user.customer_id, action, &format!("user/{id}"), "").await?;
    s.store
        .get_user(id)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

/// Sets another user's password (an administrator's reset); every session and API token of
/// theirs ends.
pub async fn reset_password(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    id: i64,
    password: &str,
) -> ApiResult<()> {
    let user = managed_user(s, p, csrf, id).await?;
    if user.id == p.user.id {
        return Err(bad(
            "change your own password with /api/v1/me/password (it asks for the current one)",
        ));
    }
    s.store.set_password(id, password).await?;
    end_access(s, p, &user, KeptAccess::default(), "user.password_reset").await?;
    Ok(())
}

/// Ends a user's sessions and tokens (but `keep`) and audits it as `action`.
async fn end_access(
    s: &AppState,
    p: &Principal,
    user: &User,
    keep: KeptAccess,
    action: &str,
) -> ApiResult<EndedAccess> {
    let ended = s.store.end_user_access(user.id, keep).await?;
    let target = format!("user/{}", user.id);
    audit(s, p, user.customer_id, action, &target, &ended.to_string()).await?;
    Ok(ended)
}

/// The caller changes their own password, proving the current one (attempts count against
/// the sign-in limit of their name); every other session and API token of theirs ends — the
/// one making the change stays, having just proven the password.
pub async fn change_own_password(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    current: &str,
    new: &str,
) -> ApiResult<()> {
    p.check_csrf(csrf)?;
    let key = crate::security::login_name_key(&p.user.username);
    s.login_limiter
        .reserve(&[&key])
        .map_err(ApiError::TooMany)?;
    let proven = s
        .store
        .verify_password(&p.user.username, current)
        .await?
        .is_some_and(|u| u.id == p.user.id);
    if !proven {
        return Err(bad("the current password is wrong"));
    }
    s.store.set_password(p.user.id, new).await?;
    s.login_limiter.clear(&key);
    let keep = KeptAccess {
        session: p.session.as_ref().map(|session| session.id),
        token: p.token_id,
    };
    end_access(s, p, &p.user, keep, "user.password_change").await?;
    Ok(())
}

/// Ends every session and revokes every API token of a user (a lost laptop, a leaked token).
/// Returns how many sessions and tokens ended.
pub async fn revoke_user_access(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    id: i64,
) -> ApiResult<EndedAccess> {
    let user = managed_user(s, p, csrf, id).await?;
    if user.id == p.user.id {
        return Err(bad(
            "to end your own sessions, sign out; to revoke a token, delete it",
        ));
    }
    end_access(s, p, &user, KeptAccess::default(), "user.revoke_access").await
}

// API tokens are the caller's own: no role is needed to list, create or revoke them.

pub async fn tokens(s: &AppState, p: &Principal) -> ApiResult<Vec<ApiToken>> {
    Ok(s.store.list_api_tokens(p.user.id).await?)
}

/// Creates an API token for the caller; returns the secret (shown once) and the token. The
/// adapters check the name's length first, each with its own message.
pub async fn create_token(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    name: &str,
    expires_at: Option<Timestamp>,
) -> ApiResult<(String, ApiToken)> {
    p.check_csrf(csrf)?;
    let (secret, token) = s
        .store
        .create_api_token(p.user.id, name, expires_at)
        .await?;
    audit(
        s,
        p,
        p.user.customer_id,
        "token.create",
        &format!("token/{}", token.id),
        &token.prefix,
    )
    .await?;
    Ok((secret, token))
}

/// Revokes one of the caller's API tokens.
pub async fn revoke_token(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    id: i64,
) -> ApiResult<()> {
    p.check_csrf(csrf)?;
    s.store.revoke_api_token(p.user.id, id).await?;
    audit(
        s,
        p,
        p.user.customer_id,
        "token.revoke",
        &format!("token/{id}"),
        "",
    )
    .await
}

// ---- notification channels ----

/// A channel to create; `min_severity` is the parsed severity, reported after the role check.
pub struct ChannelRequest {
    pub name: String,
    pub customer_id: Option<i64>,
    pub min_severity: ApiResult<Severity>,
    pub lang: String,
    pub config: mamori_notify::ChannelConfig,
}

/// Creates a notification channel after checking its configuration, that its target is one the
/// notifier may reach, and that a customer's admin creates it for their own customer.
pub async fn create_channel(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    request: ChannelRequest,
) -> ApiResult<NotificationChannel> {
    authorise(p, Action::ManageNotifications, csrf)?;
    request
        .config
        .validate()
        .map_err(|e| bad(format!("channel: {e}")))?;
    if let Some(why) = s.notifier.refused_target(&request.config) {
        return Err(bad(format!("channel: {why}")));
    }
    let min_severity = request.min_severity?;
    if !["ja", "en"].contains(&request.lang.as_str()) {
        return Err(bad("lang must be ja or en"));
    }
    let customer_id = match p.scope() {
        Scope::Customer(own) => {
            if request.customer_id.is_some_and(|c| c != own) {
                return Err(ApiError::Forbidden);
            }
            Some(own)
        }
        Scope::All => request.customer_id,
    };
    if let Some(c) = customer_id {
        s.store
            .get_customer_scoped(p.scope(), c)
            .await?
            .ok_or(ApiError::NotFound("customer"))?;
    }
    let kind = request.config.kind();
    let stored = mamori_work::notify::StoredChannel {
        lang: request.lang,
        config: request.config,
    };
    let bytes = serde_json::to_vec(&stored).map_err(|e| bad(e.to_string()))?;
    let c = s
        .store
        .create_channel(
            &s.key,
            customer_id,
            &request.name,
            kind,
            min_severity,
            &bytes,
        )
        .await?;
    audit(
        s,
        p,
        customer_id,
        "channel.create",
        &format!("channel/{}", c.id),
        kind,
    )
    .await?;
    Ok(c)
}

pub async fn delete_channel(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    id: i64,
) -> ApiResult<()> {
    authorise(p, Action::ManageNotifications, csrf)?;
    s.store.delete_channel(p.scope(), id).await?;
    audit(
        s,
        p,
        p.user.customer_id,
        "channel.delete",
        &format!("channel/{id}"),
        "",
    )
    .await
}

// ---- threat alerts ----

/// Alerts the caller may see, the most recent activity first. `filter` is the parsed query; a
/// bad one is reported after the role check.
pub async fn alerts(
    s: &AppState,
    p: &Principal,
    filter: ApiResult<AlertFilter>,
    limit: i64,
    offset: i64,
) -> ApiResult<Vec<Alert>> {
    p.require(Action::ViewPosture)?;
    let filter = filter?;
    Ok(s.store
        .list_alerts(p.scope(), &filter, limit.clamp(1, 1000), offset.max(0))
        .await?)
}

/// An alert with its status history (oldest first).
pub struct AlertDetail {
    pub alert: Alert,
    pub history: Vec<AlertEvent>,
}

pub async fn alert(s: &AppState, p: &Principal, id: i64) -> ApiResult<AlertDetail> {
    p.require(Action::ViewPosture)?;
    let alert = s
        .store
        .get_alert(p.scope(), id)
        .await?
        .ok_or(ApiError::NotFound("alert"))?;
    let history = s.store.alert_history(p.scope(), id).await?;
    Ok(AlertDetail { alert, history })
}

/// Notes on alerts, risk acceptances and log suspensions are at most this long.
pub const MAX_NOTE: usize = 2000;

/// Moves an alert through its triage, with a note kept in its history and the audit log.
/// Setting the status it already has is [`ApiError::Conflict`].
pub async fn set_alert_status(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    id: i64,
    status: ApiResult<AlertStatus>,
    note: &str,
) -> ApiResult<Alert> {
    authorise(p, Action::TriageAlerts, csrf)?;
    let status = status?;
    let note = note.trim();
    if note.chars().count() > MAX_NOTE {
        return Err(bad(format!("note: at most {MAX_NOTE} characters")));
    }
    let a = s
        .store
        .set_alert_status(p.scope(), id, status, Some(p.user.id), note)
        .await?;
    let detail = if note.is_empty() {
        status.to_string()
    } else {
        format!("{status}: {note}")
    };
    audit(
        s,
        p,
        Some(a.customer_id),
        "alert.status",
        &format!("alert/{}", a.id),
        &detail,
    )
    .await?;
    Ok(a)
}

// ---- audit logs: push ingest, status, the flood guard ----

/// A tenant's log processing: its streams, the flood guard's decision (and the state in force
/// now), the last hour's metering per minute and the pushed batches waiting.
#[derive(Debug, Clone, Serialize)]
pub struct LogStatus {
    pub tenant_id: i64,
    pub streams: Vec<LogStream>,
    pub guard: Option<LogGuard>,
    pub guard_state: GuardState,
    pub meter: Vec<MeterRow>,
    pub spool: SpoolDepth,
    /// The newest records that could not become events, with the reason.
    pub quarantine: Vec<mamori_store::QuarantinedRecord>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct SpoolDepth {
    pub batches: i64,
    pub bytes: i64,
}

pub async fn log_status(s: &AppState, p: &Principal, tenant_id: i64) -> ApiResult<LogStatus> {
    let t = tenant(s, p, tenant_id).await?;
    let now = Timestamp::now();
    let streams = s.store.list_log_streams(p.scope(), Some(t.id)).await?;
    let guard = s.store.log_guard(t.id).await?;
    let since = now
        .checked_sub(jiff::SignedDuration::from_mins(60))
        .unwrap_or(now);
    let meter = s.store.log_meter(p.scope(), Some(t.id), since).await?;
    let (batches, bytes) = s.store.spool_depth(Some(t.id)).await?;
    let quarantine = s.store.list_log_quarantine(p.scope(), t.id, 20).await?;
    Ok(LogStatus {
        quarantine,
        tenant_id: t.id,
        streams,
        guard_state: guard
            .as_ref()
            .map_or(GuardState::Normal, |g| g.effective(now)),
        guard,
        meter,
        spool: SpoolDepth { batches, bytes },
    })
}

/// The flood guard's answer to a push for the tenant now: throttled → [`ApiError::LogsThrottled`]
/// (429, `Retry-After` until the throttle ends, 60 s when it has no end), suspended →
/// [`ApiError::LogsSuspended`] (403, until an operator resumes it).
async fn guard_allows_push(s: &AppState, tenant_id: i64) -> ApiResult<()> {
    let Some(g) = s.store.log_guard(tenant_id).await? else {
        return Ok(());
    };
    let now = Timestamp::now();
    match g.effective(now) {
        GuardState::Normal => Ok(()),
        GuardState::Throttled => {
            let retry_after = g
                .until
                .map(|until| {
                    let ms = until.duration_since(now).as_millis().max(0);
                    ((ms + 999) / 1000).max(1) as u64
                })
                .unwrap_or(60);
            Err(ApiError::LogsThrottled {
                reason: g.reason,
                since: g.since,
                retry_after,
            })
        }
        GuardState::Suspended => Err(ApiError::LogsSuspended {
            reason: g.reason,
            since: g.since,
        }),
    }
}

/// What a push spooled (the 202 body).
#[derive(Debug, Clone, Serialize)]
pub struct Spooled {
    pub batch_id: i64,
    pub events: i64,
    pub bytes: i64,
    pub malformed_lines: i64,
}

/// Spools a pushed batch of a tenant's audit logs for the workers. In order: the role (and
/// CSRF), the source, the tenant in the caller's scope (404), the flood guard (429 / 403), and
/// only then the body (`batch`: read and checked by the adapter, 413 / 400 / 415). Not audited
/// one by one: every batch is metered and spooled with its tenant, source and time.
pub async fn push_logs(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    tenant_id: i64,
    source: ApiResult<LogSource>,
    batch: impl std::future::Future<Output = ApiResult<LogBatch>>,
) -> ApiResult<Spooled> {
    authorise(p, Action::PushLogs, csrf)?;
    let source = source?;
    let t = s
        .store
        .get_tenant_scoped(p.scope(), tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    guard_allows_push(s, t.id).await?;
    let batch = batch.await?;
    let batch_id = s
        .store
        .spool_log_batch(t.id, source, &batch.gzip, batch.events, batch.bytes)
        .await?;
    Ok(Spooled {
        batch_id,
        events: batch.events,
        bytes: batch.bytes,
        malformed_lines: batch.malformed_lines,
    })
}

/// Suspends (`Some(reason)`) or resumes (`None`, with a note) a tenant's log processing by
/// hand: pushes are refused and its pulls and spooled batches wait until it is resumed.
pub async fn set_log_suspension(
    s: &AppState,
    p: &Principal,
    csrf: Option<&str>,
    tenant_id: i64,
    suspend: bool,
    text: &str,
) -> ApiResult<LogGuard> {
    authorise(p, Action::ManageLogGuard, csrf)?;
    let text = text.trim();
    if suspend && text.is_empty() {
        return Err(bad("reason: say why log processing is suspended"));
    }
    if text.chars().count() > MAX_NOTE {
        return Err(bad(format!("at most {MAX_NOTE} characters")));
    }
    let t = s
        .store
        .get_tenant_scoped(p.scope(), tenant_id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let (state, action) = if suspend {
        (GuardState::Suspended, "logs.suspend")
    } else {
        (GuardState::Normal, "logs.resume")
    };
    let g = s
        .store
        .set_log_guard(t.id, state, text, None, Some(p.user.id))
        .await?;
    audit(
        s,
        p,
        Some(t.customer_id),
        action,
        &format!("tenant/{}", t.id),
        text,
    )
    .await?;
    Ok(g)
}
