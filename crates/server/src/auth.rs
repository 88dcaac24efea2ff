//! Who is calling: a session cookie (pages, and the API from the pages) or an API token
//! (`Authorization: Bearer mmr_…`, automation). Both are stored only as SHA-256 hashes.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use mamori_core::Lang;
use mamori_store::{Scope, Session, User};

use crate::authz::{allows, Action};
use crate::error::ApiError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "mamori_session";
pub const LANG_COOKIE: &str = "mamori_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    /// Set when signed in by cookie: state-changing requests must then carry its CSRF token.
    pub session: Option<Session>,
    /// Set when signed in by API token: the token's id.
    pub token_id: Option<i64>,
}

impl Principal {
    pub fn scope(&self) -> Scope {
        self.user.scope()
    }

    pub fn lang(&self) -> Lang {
        if self.user.lang == "en" {
            Lang::En
        } else {
            Lang::Ja
        }
    }

    /// Refuses the action unless the role allows it.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if allows(self.user.role, action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// For cookie-authenticated writes: the token from the form field or the `X-CSRF-Token`
    /// header must equal the session's. Token-authenticated calls carry no ambient credential,
    /// so they need none.
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), ApiError> {
        match &self.session {
            None => Ok(()),
            Some(s) => match presented {
                Some(p) if constant_time_eq(p.as_bytes(), s.csrf_token.as_bytes()) => Ok(()),
                _ => Err(ApiError::Csrf),
            },
        }
    }

    pub fn csrf_token(&self) -> &str {
        self.session
            .as_ref()
            .map(|s| s.csrf_token.as_str())
            .unwrap_or("")
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
}

/// Resolves the caller, or `None` when the request carries no valid credential.
pub async fn principal(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Principal>, ApiError> {
    if let Some(token) = bearer(headers) {
        // A present but wrong token is an error, never a fall-back to the cookie.
        return match state.store.api_token_user(token).await? {
            Some((token, user)) => Ok(Some(Principal {
                user,
                session: None,
                token_id: Some(token.id),
            })),
            None => Err(ApiError::Unauthenticated),
        };
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE) {
        if let Some((session, user)) = state.store.session_user(token).await? {
            return Ok(Some(Principal {
                user,
                session: Some(session),
                token_id: None,
            }));
        }
    }
    Ok(None)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        principal(state, &parts.headers)
            .await?
            .ok_or(ApiError::Unauthenticated)
    }
}

/// The page language for someone not signed in: the `mamori_lang` cookie, then
/// `Accept-Language`, then Japanese.
pub fn anonymous_lang(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE) {
        Some("en") => return Lang::En,
        Some("ja") => return Lang::Ja,
        _ => {}
    }
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.trim_start().starts_with("en") {
        Lang::En
    } else {
        Lang::Ja
    }
}

pub fn session_cookie(state: &AppState, token: &str, max_age_secs: u64) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}")
}
