//! `POST /login/{tenant}/oauth2/v2.0/token`: the client-credentials grant with a client secret
//! or a certificate assertion, answering the identity platform's success and error bodies.

use super::{M365State, CERTIFICATE_AUTH};
use crate::common::Grant;
use crate::keys::verify_rs256;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn routes() -> Router<Arc<M365State>> {
    Router::new().route("/login/{tenant}/oauth2/v2.0/token", post(token))
}

fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%SZ")
        .to_string();
    let trace = crate::common::random_hex(16);
    let correlation = crate::common::random_hex(16);
    (
        status,
        Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now}"),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        })),
    )
        .into_response()
}

async fn token(
    State(state): State<Arc<M365State>>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if tenant != state.tenant_id && tenant != state.initial_domain {
        return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    if client_id != state.app.client_id {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'.",
                state.initial_domain
            ),
        );
    }
    let Some(scope) = form.get("scope").and_then(|s| s.strip_suffix("/.default")) else {
        return aad_error(StatusCode::BAD_REQUEST, "invalid_scope", 1002012, "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).");
    };
    let mut certificate = false;
    if let Some(secret) = form.get("client_secret") {
        if *secret != state.app.client_secret {
            return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."));
        }
    } else if let Some(assertion) = form.get("client_assertion") {
        if form.get("client_assertion_type").map(String::as_str)
            != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        {
            return aad_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50027,
                "Invalid client_assertion_type.",
            );
        }
        let expected_x5t = {
            use base64::Engine as _;
            let bytes: Vec<u8> = (0..state.app.certificate_thumbprint.len())
                .step_by(2)
                .filter_map(|i| {
                    u8::from_str_radix(&state.app.certificate_thumbprint[i..i + 2], 16).ok()
                })
                .collect();
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        match verify_rs256(assertion, &state.app.certificate_public_pem) {
            Ok((header, claims)) => {
                if header.x5t.as_deref() != Some(expected_x5t.as_str()) {
                    return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 700027, &format!("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{}']", header.x5t.unwrap_or_default()));
                }
                if claims["iss"] != client_id || claims["sub"] != client_id {
                    return aad_error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        700023,
                        "Client assertion audience claim does not match Realm issuer.",
                    );
                }
            }
            Err(_) => {
                return aad_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    700027,
                    "Client assertion failed signature validation.",
                );
            }
        }
        certificate = true;
    } else {
        return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    let mut permissions = state
        .app
        .permissions
        .get(scope)
        .cloned()
        .unwrap_or_default();
    if permissions.is_empty()
        && !state.app.permissions.contains_key(scope)
        && !known_audience(&state, scope)
    {
        return aad_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            &format!(
                "The resource principal named {scope} was not found in the tenant named {}.",
                state.initial_domain
            ),
        );
    }
    if certificate {
        permissions.insert(CERTIFICATE_AUTH.to_string());
    }
    let token = state.tokens.issue(
        "eyJ0eXAiOiJKV1Qi.mock.",
        Grant {
            audience: scope.to_string(),
            permissions,
            expires: Instant::now() + Duration::from_secs(3599),
        },
    );
    Json(json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token})).into_response()
}

fn known_audience(state: &M365State, scope: &str) -> bool {
    use super::audience::*;
    [
        GRAPH,
        EXCHANGE,
        COMPLIANCE,
        TEAMS,
        POWER_PLATFORM,
        POWER_BI,
        MANAGEMENT,
    ]
    .contains(&scope)
        || scope == state.sharepoint_audience()
}
