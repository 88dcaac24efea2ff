//! Users (Argon2id password hashes), browser sessions, API tokens and the audit log.
//!
//! Secrets handed to clients (session cookie tokens, API token secrets) are random and only
//! their SHA-256 is stored, so a copy of the database does not let anyone in. Passwords are
//! hashed with Argon2id (the `argon2` crate's default parameters, a random 16-byte salt) on a
//! blocking thread, not on the async executor.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{
    clamp_limit, duration_us, filter, is_foreign_key_violation, is_unique_violation, now_us, ts,
    with_pool, Error, Result, Scope, Store,
};

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted, in bytes (hashing cost stays bounded).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The languages a user can choose for the dashboard and reports.
pub const LANGS: [&str; 2] = ["ja", "en"];
/// How often `last_used_at` of an API token is written at most.
const TOKEN_USE_RESOLUTION_US: i64 = 60_000_000;

// ---------------------------------------------------------------------------------------------
// Roles and users

mamori_core::text_enum! {
    /// What a user may do. Operator roles see every customer ([`Scope::All`]); customer roles
    /// see their own customer only.
    pub enum Role("role") {
        OperatorAdmin = "operator_admin",
        Analyst = "analyst",
        Investigator = "investigator",
        Billing = "billing",
        CustomerAdmin = "customer_admin",
        CustomerViewer = "customer_viewer",
    }
}

impl Role {
    /// A role of a customer's user (which must belong to a customer), not of operator staff.
    pub fn is_customer_role(self) -> bool {
        matches!(self, Role::CustomerAdmin | Role::CustomerViewer)
    }
}

/// A user as listed; the password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Set exactly for customer roles.
    pub customer_id: Option<i64>,
    /// "ja" or "en".
    pub lang: String,
    pub disabled: bool,
    pub created_at: Timestamp,
}

impl User {
    /// [`Scope::Customer`] for customer roles, [`Scope::All`] for operator staff. A customer
    /// role without a customer (which the schema forbids) gets a scope that sees nothing.
    pub fn scope(&self) -> Scope {
        if self.role.is_customer_role() {
            Scope::Customer(self.customer_id.unwrap_or(-1))
        } else {
            Scope::All
        }
    }
}

/// A user to create. `Debug` does not show the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub customer_id: Option<i64>,
    pub lang: String,
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("username", &self.username)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("customer_id", &self.customer_id)
            .field("lang", &self.lang)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The credential [`Store::end_user_access`] leaves alone: the session or API token a user
/// changed their own password with.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeptAccess {
    pub session: Option<i64>,
    pub token: Option<i64>,
}

/// What [`Store::end_user_access`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EndedAccess {
    pub sessions: u64,
    pub tokens: u64,
}

impl std::fmt::Display for EndedAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sessions ended: {}, tokens revoked: {}",
            self.sessions, self.tokens
        )
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    customer_id: Option<i64>,
    lang: String,
    disabled: bool,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = Error;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            role: r.role.parse()?,
            customer_id: r.customer_id,
            lang: r.lang,
            disabled: r.disabled,
            created_at: ts(r.created_at),
        })
    }
}

const USER_COLS: &str = "id, username, display_name, role, customer_id, lang, disabled, created_at";
const USER_COLS_U: &str =
    "u.id, u.username, u.display_name, u.role, u.customer_id, u.lang, u.disabled, u.created_at";

/// The unique, case-insensitive form of a username.
fn username_key(username: &str) -> String {
    username.trim().to_lowercase()
}

fn check_username(username: &str) -> Result<()> {
    let ok = !username.is_empty()
        && username.chars().count() <= 128
        && !username
            .chars()
            .any(|c| c.is_control() || c.is_whitespace());
    if !ok {
        return Err(Error::Invalid {
            field: "username",
            value: username.to_string(),
        });
    }
    Ok(())
}

fn check_lang(lang: &str) -> Result<()> {
    if !LANGS.contains(&lang) {
        return Err(Error::Invalid {
            field: "language (ja or en)",
            value: lang.to_string(),
        });
    }
    Ok(())
}

/// The error never contains the password, only its length.
fn check_password(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::Invalid {
            field: "password (10 to 1024 characters)",
            value: format!("<{chars} characters>"),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Password hashing, random tokens

/// Runs CPU-heavy work (Argon2) on tokio's blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("password hashing task did not run: {e}"),
    }
}

fn hash_password_now(password: &str) -> String {
    let mut salt = [0u8; 16];
    random_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters hashes any password of bounded length")
        .to_string()
}

fn verify_password_now(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user does not exist, so that an unknown username takes as
/// long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password_now("mamori: no such user; timing equaliser"))
}

async fn hash_password(password: &str) -> String {
    let password = password.to_string();
    blocking(move || hash_password_now(&password)).await
}

pub(crate) fn random_bytes(buf: &mut [u8]) {
    getrandom::getrandom(buf).expect("the operating system's random generator is available");
}

/// `n` random bytes, base64url without padding.
fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    random_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 in lower-case hex: what is stored of a session token or an API token secret.
pub fn token_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Sessions

/// A browser session. Only the SHA-256 of its cookie token is stored; `Debug` hides the CSRF
/// token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: i64,
    pub user_id: i64,
    /// The anti-CSRF token forms and API calls of this session must carry.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("csrf_token", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(sqlx::FromRow)]
struct SessionUserRow {
    s_id: i64,
    s_user_id: i64,
    s_csrf_token: String,
    s_created_at: i64,
    s_expires_at: i64,
    #[sqlx(flatten)]
    user: UserRow,
}

// ---------------------------------------------------------------------------------------------
// API tokens

/// An API token as listed: the secret is shown once, at creation, and only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The secret's first 12 characters (`mmr_` and 8 more), to recognise it.
    pub prefix: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked: bool,
}

#[derive(sqlx::FromRow)]
struct ApiTokenRow {
    id: i64,
    user_id: i64,
    name: String,
    prefix: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    revoked: bool,
}

impl From<ApiTokenRow> for ApiToken {
    fn from(r: ApiTokenRow) -> Self {
        ApiToken {
            id: r.id,
            user_id: r.user_id,
            name: r.name,
            prefix: r.prefix,
            created_at: ts(r.created_at),
            expires_at: r.expires_at.map(ts),
            last_used_at: r.last_used_at.map(ts),
            revoked: r.revoked,
        }
    }
}

const API_TOKEN_COLS: &str =
    "id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked";

#[derive(sqlx::FromRow)]
struct ApiTokenUserRow {
    a_id: i64,
    a_user_id: i64,
    a_name: String,
    a_prefix: String,
    a_created_at: i64,
    a_expires_at: Option<i64>,
    a_last_used_at: Option<i64>,
    a_revoked: bool,
    #[sqlx(flatten)]
    user: UserRow,
}

/// Prefix of every API token secret.
pub const API_TOKEN_PREFIX: &str = "mmr_";

// ---------------------------------------------------------------------------------------------
// Audit log

/// One entry of the audit log: who did what to which object, for which customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: Timestamp,
    pub actor_user_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    actor_user_id: Option<i64>,
    customer_id: Option<i64>,
    action: String,
    target: String,
    detail: String,
}

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> Self {
        AuditEvent {
            id: r.id,
            at: ts(r.at),
            actor_user_id: r.actor_user_id,
            customer_id: r.customer_id,
            action: r.action,
            target: r.target,
            detail: r.detail,
        }
    }
}

// ---------------------------------------------------------------------------------------------

impl Store {
    // ---- users ----

    /// Creates a user with an Argon2id hash of the password. Customer roles need a
    /// `customer_id`, operator roles must not have one; the language is "ja" or "en"; the
    /// password has at least 10 characters. A username already taken (ignoring case) is
    /// [`Error::Conflict`]; a customer that does not exist is [`Error::NotFound`].
    pub async fn create_user(&self, new: &NewUser) -> Result<User> {
        let username = new.username.trim();
        check_username(username)?;
        let display_name = match new.display_name.trim() {
            "" => username,
            name => name,
        };
        match (new.role.is_customer_role(), new.customer_id) {
            (true, None) => {
                return Err(Error::Invalid {
                    field: "customer (required for a customer role)",
                    value: new.role.as_str().to_string(),
                })
            }
            (false, Some(c)) => {
                return Err(Error::Invalid {
                    field: "customer (operator roles belong to no customer)",
                    value: c.to_string(),
                })
            }
            _ => {}
        }
        check_lang(&new.lang)?;
        check_password(&new.password)?;
        let hash = hash_password(&new.password).await;
        let sql = format!(
            "INSERT INTO users (username, username_key, display_name, role, customer_id, lang, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {USER_COLS}"
        );
        let result: std::result::Result<UserRow, sqlx::Error> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(username)
                .bind(username_key(username))
                .bind(display_name)
                .bind(new.role.as_str())
                .bind(new.customer_id)
                .bind(&new.lang)
                .bind(hash)
                .bind(now_us())
                .fetch_one(pool)
                .await
        });
        match result {
            Ok(row) => row.try_into(),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::Conflict("username already exists".into()))
            }
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "customer",
                id: new.customer_id.unwrap_or_default(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The user whose password this is: `None` for an unknown username, a disabled user or a
    /// wrong password (indistinguishable, and an unknown username still costs one Argon2
    /// verification).
    pub async fn verify_password(&self, username: &str, password: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS}, password_hash FROM users WHERE username_key = $1");
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(username_key(username)).fetch_optional(pool).await?
        });
        let password = password.to_string();
        match row {
            None => {
                blocking(move || verify_password_now(&password, dummy_hash())).await;
                Ok(None)
            }
            Some(row) => {
                let phc = row.password_hash;
                let ok = blocking(move || verify_password_now(&password, &phc)).await;
                if ok && !row.user.disabled {
                    Ok(Some(row.user.try_into()?))
                } else {
                    Ok(None)
                }
            }
        }
    }

    pub async fn get_user(&self, id: i64) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        let row: Option<UserRow> =
            with_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?);
        row.map(TryInto::try_into).transpose()
    }

    /// Looks a user up by username, ignoring case.
    pub async fn get_user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLS} FROM users WHERE username_key = $1");
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(username_key(username)).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// Users visible in the scope (a customer's scope: that customer's users), by username.
    pub async fn list_users(&self, scope: Scope) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_COLS} FROM users WHERE ($1 IS NULL OR customer_id = $1) ORDER BY username_key, id"
        );
        let rows: Vec<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(scope.customer()).fetch_all(pool).await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Replaces the user's password (at least 10 characters). Sessions and API tokens are
    /// kept; see [`Store::end_user_access`].
    pub async fn set_password(&self, id: i64, password: &str) -> Result<()> {
        check_password(password)?;
        let hash = hash_password(password).await;
        let n = with_pool!(self, pool => {
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound { entity: "user", id });
        }
        Ok(())
    }

    /// Sets the user's language: "ja" or "en".
    pub async fn set_user_lang(&self, id: i64, lang: &str) -> Result<()> {
        check_lang(lang)?;
        let n = with_pool!(self, pool => {
            sqlx::query("UPDATE users SET lang = $1 WHERE id = $2")
                .bind(lang)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound { entity: "user", id });
        }
        Ok(())
    }

    /// Disables (or enables again) a user. Disabling deletes the user's sessions at once; their
    /// API tokens stop working while the user is disabled.
    pub async fn set_user_disabled(&self, id: i64, disabled: bool) -> Result<()> {
        let begin = self.begin_write();
        let n = with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let n = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(disabled)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if disabled {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n
        });
        if n == 0 {
            return Err(Error::NotFound { entity: "user", id });
        }
        Ok(())
    }

    // ---- sessions ----

    /// Starts a session of `ttl` for the user. Returns the cookie token (32 random bytes,
    /// base64url without padding), which is not stored (only its SHA-256 is), and the session
    /// with its CSRF token.
    pub async fn create_session(&self, user_id: i64, ttl: Duration) -> Result<(String, Session)> {
        let token = random_token(32);
        let csrf = random_token(32);
        let now = now_us();
        let expires = now.saturating_add(duration_us(ttl));
        let result: std::result::Result<i64, sqlx::Error> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO sessions (user_id, token_hash, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(user_id)
            .bind(token_hash(&token))
            .bind(&csrf)
            .bind(now)
            .bind(expires)
            .fetch_one(pool)
            .await
        });
        let id = match result {
            Ok(id) => id,
            Err(e) if is_foreign_key_violation(&e) => {
                return Err(Error::NotFound {
                    entity: "user",
                    id: user_id,
                })
            }
            Err(e) => return Err(e.into()),
        };
        Ok((
            token,
            Session {
                id,
                user_id,
                csrf_token: csrf,
                created_at: ts(now),
                expires_at: ts(expires),
            },
        ))
    }

    /// The session of a cookie token and its user; `None` when the token is unknown, the
    /// session expired or the user is disabled.
    pub async fn session_user(&self, token: &str) -> Result<Option<(Session, User)>> {
        let sql = format!(
            "SELECT s.id AS s_id, s.user_id AS s_user_id, s.csrf_token AS s_csrf_token, \
             s.created_at AS s_created_at, s.expires_at AS s_expires_at, {USER_COLS_U} \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE"
        );
        let row: Option<SessionUserRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(token_hash(token)).bind(now_us()).fetch_optional(pool).await?
        });
        let Some(row) = row else { return Ok(None) };
        let session = Session {
            id: row.s_id,
            user_id: row.s_user_id,
            csrf_token: row.s_csrf_token,
            created_at: ts(row.s_created_at),
            expires_at: ts(row.s_expires_at),
        };
        Ok(Some((session, row.user.try_into()?)))
    }

    /// Ends the session of a cookie token (nothing happens for an unknown token).
    pub async fn delete_session(&self, token: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(pool).await?;
        });
        Ok(())
    }

    /// Ends every session of a user (after a password change, say). Returns how many.
    pub async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(pool).await?.rows_affected()
        });
        Ok(n)
    }

    /// Ends every session and revokes every API token of a user, in one transaction, except
    /// the session and token `keep` names (the credential that just changed its own user's
    /// password).
    pub async fn end_user_access(&self, user_id: i64, keep: KeptAccess) -> Result<EndedAccess> {
        let begin = self.begin_write();
        let ended = with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            let sessions = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> COALESCE($2, -1)")
                .bind(user_id)
                .bind(keep.session)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let tokens = sqlx::query("UPDATE api_tokens SET revoked = TRUE WHERE user_id = $1 AND revoked = FALSE AND id <> COALESCE($2, -1)")
                .bind(user_id)
                .bind(keep.token)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            EndedAccess { sessions, tokens }
        });
        Ok(ended)
    }

    /// Deletes expired sessions; returns how many.
    pub async fn purge_expired_sessions(&self) -> Result<u64> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_us()).execute(pool).await?.rows_affected()
        });
        Ok(n)
    }

    // ---- API tokens ----

    /// Creates an API token for the user. Returns the secret (`mmr_` and 40 random base64url
    /// characters), shown once and not stored (only its SHA-256 is), and the token.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<(String, ApiToken)> {
        crate::model::check_name("API token name", name)?;
        let secret = format!("{API_TOKEN_PREFIX}{}", random_token(30));
        let prefix: String = secret.chars().take(12).collect();
        let sql = format!(
            "INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {API_TOKEN_COLS}"
        );
        let result: std::result::Result<ApiTokenRow, sqlx::Error> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(user_id)
                .bind(name.trim())
                .bind(&prefix)
                .bind(token_hash(&secret))
                .bind(now_us())
                .bind(expires_at.map(|t| t.as_microsecond()))
                .fetch_one(pool)
                .await
        });
        match result {
            Ok(row) => Ok((secret, row.into())),
            Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                entity: "user",
                id: user_id,
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The token of an API secret and its user; `None` when the secret is unknown, the token
    /// revoked or expired, or the user disabled. Records the use (`last_used_at`, written at
    /// most once a minute per token).
    pub async fn api_token_user(&self, secret: &str) -> Result<Option<(ApiToken, User)>> {
        if !secret.starts_with(API_TOKEN_PREFIX) {
            return Ok(None);
        }
        let now = now_us();
        let sql = format!(
            "SELECT a.id AS a_id, a.user_id AS a_user_id, a.name AS a_name, a.prefix AS a_prefix, \
             a.created_at AS a_created_at, a.expires_at AS a_expires_at, a.last_used_at AS a_last_used_at, \
             a.revoked AS a_revoked, {USER_COLS_U} \
             FROM api_tokens a JOIN users u ON u.id = a.user_id \
             WHERE a.token_hash = $1 AND a.revoked = FALSE AND (a.expires_at IS NULL OR a.expires_at > $2) \
             AND u.disabled = FALSE"
        );
        let row: Option<ApiTokenUserRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(token_hash(secret)).bind(now).fetch_optional(pool).await?
        });
        let Some(row) = row else { return Ok(None) };
        let mut token = ApiToken {
            id: row.a_id,
            user_id: row.a_user_id,
            name: row.a_name,
            prefix: row.a_prefix,
            created_at: ts(row.a_created_at),
            expires_at: row.a_expires_at.map(ts),
            last_used_at: row.a_last_used_at.map(ts),
            revoked: row.a_revoked,
        };
        if row
            .a_last_used_at
            .is_none_or(|t| t < now - TOKEN_USE_RESOLUTION_US)
        {
            // Best effort: a full disk or a read-only replica must not turn reads into errors.
            let n = with_pool!(self, pool => {
                sqlx::query(
                    "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
                     AND (last_used_at IS NULL OR last_used_at < $3)",
                )
                .bind(now)
                .bind(token.id)
                .bind(now - TOKEN_USE_RESOLUTION_US)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "could not record the API token's last use");
                    0
                })
            });
            if n > 0 {
                token.last_used_at = Some(ts(now));
            }
        }
        Ok(Some((token, row.user.try_into()?)))
    }

    /// The user's API tokens (revoked ones too), newest first.
    pub async fn list_api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
        let sql =
            format!("SELECT {API_TOKEN_COLS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC");
        let rows: Vec<ApiTokenRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Revokes one of the user's API tokens; [`Error::NotFound`] when it is not that user's.
    pub async fn revoke_api_token(&self, user_id: i64, token_id: i64) -> Result<()> {
        let n = with_pool!(self, pool => {
            sqlx::query("UPDATE api_tokens SET revoked = TRUE WHERE id = $1 AND user_id = $2")
                .bind(token_id)
                .bind(user_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(Error::NotFound {
                entity: "API token",
                id: token_id,
            });
        }
        Ok(())
    }

    // ---- audit log ----

    /// Appends to the audit log. `customer_id` is the customer the action concerns (so that
    /// customer's users see it), `None` for operator-wide actions.
    pub async fn audit(
        &self,
        actor_user_id: Option<i64>,
        customer_id: Option<i64>,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO audit_log (at, actor_user_id, customer_id, action, target, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(now_us())
            .bind(actor_user_id)
            .bind(customer_id)
            .bind(action)
            .bind(target)
            .bind(detail)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The newest `limit` (1 to 1000) audit events visible in the scope (a customer's scope:
    /// events about that customer), newest first.
    pub async fn list_audit(&self, scope: Scope, limit: i64) -> Result<Vec<AuditEvent>> {
        let sql = format!(
            "SELECT id, at, actor_user_id, customer_id, action, target, detail FROM audit_log \
             WHERE {} ORDER BY id DESC LIMIT $2",
            filter(scope.customer().is_some(), "$1", "customer_id = $1")
        );
        let rows: Vec<AuditRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
            .bind(scope.customer())
            .bind(clamp_limit(limit, 1000))
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
