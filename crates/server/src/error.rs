//! Errors of the HTTP surface: one JSON shape for the API
//! (`{"error": {"code": "...", "message": "..."}}`, plus `reason` and `since` when the flood
//! guard refuses pushed logs) and the status that fits each kind.
//! Database details are logged, never sent.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign in first (session cookie or Authorization: Bearer token)")]
    Unauthenticated,
    #[error("your role may not do this")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the CSRF token is missing or wrong; reload the page and try again")]
    Csrf,
    #[error("too many attempts; try again in {0} s")]
    TooMany(u64),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    UnsupportedMedia(String),
    /// The flood guard throttles the tenant's log processing: 429 with `Retry-After`.
    #[error("log processing for this tenant is throttled since {since}: {reason}; retry in {retry_after} s")]
    LogsThrottled {
        reason: String,
        since: jiff::Timestamp,
        retry_after: u64,
    },
    /// The tenant's log processing is suspended (by an operator or the flood guard): 403 until
    /// it is resumed.
    #[error("log processing for this tenant is suspended since {since}: {reason}")]
    LogsSuspended {
        reason: String,
        since: jiff::Timestamp,
    },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::Csrf | ApiError::LogsSuspended { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooMany(_) | ApiError::LogsThrottled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMedia(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict(_) => "conflict",
            ApiError::Csrf => "csrf",
            ApiError::TooMany(_) => "rate_limited",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMedia(_) => "unsupported_media_type",
            ApiError::LogsThrottled { .. } => "log_processing_throttled",
            ApiError::LogsSuspended { .. } => "log_processing_suspended",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<mamori_store::Error> for ApiError {
    fn from(e: mamori_store::Error) -> Self {
        use mamori_store::Error as E;
        match e {
            E::NotFound { entity, .. } => ApiError::NotFound(entity),
            E::Invalid { .. } => ApiError::BadRequest(e.to_string()),
            E::Conflict(m) => ApiError::Conflict(m),
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::Internal(other.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut error = serde_json::json!({"code": self.code(), "message": self.to_string()});
        // The flood guard's decision, for machines: why and since when.
        if let ApiError::LogsThrottled { reason, since, .. }
        | ApiError::LogsSuspended { reason, since } = &self
        {
            error["reason"] = serde_json::json!(reason);
            error["since"] = serde_json::json!(since);
        }
        let retry_after = match self {
            ApiError::TooMany(secs) => Some(secs),
            ApiError::LogsThrottled { retry_after, .. } => Some(retry_after),
            _ => None,
        };
        let mut response = (status, Json(serde_json::json!({ "error": error }))).into_response();
        if let Some(secs) = retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert("retry-after", v);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert("www-authenticate", HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
