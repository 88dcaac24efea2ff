//! OAuth 2.0 token acquisition: Microsoft identity platform client credentials (secret or
//! certificate assertion) and Google service-account JWT bearer with domain-wide delegation.
//!
//! Tokens are cached until a minute before they expire and fetched once for all concurrent
//! requests. Every credential and token is a [`Secret`].

use crate::redact::{scrub, Secret};
use base64::Engine as _;
use serde::Deserialize;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("token endpoint {endpoint} refused the credentials (HTTP {status}): {error}{}", description.as_deref().map(|d| format!(" — {d}")).unwrap_or_default())]
    Rejected {
        endpoint: String,
        status: u16,
        error: String,
        description: Option<String>,
    },
    #[error("token endpoint {endpoint} unreachable: {message}")]
    Transport { endpoint: String, message: String },
    #[error(
        "token endpoint {endpoint} answered something that is not a token response: {message}"
    )]
    Malformed { endpoint: String, message: String },
    #[error("cannot sign the client assertion: {0}")]
    Key(String),
}

/// How a Microsoft Entra application proves itself.
#[derive(Clone)]
pub enum MsClientAuth {
    Secret(Secret),
    /// Certificate credential: RS256-signed assertion, `x5t` = SHA-1 thumbprint of the certificate.
    Certificate {
        private_key_pem: Secret,
        thumbprint_sha1_hex: String,
    },
}

/// Where and how to get an access token.
#[derive(Clone)]
pub enum TokenRequest {
    /// `POST {authority}/{tenant}/oauth2/v2.0/token`, `grant_type=client_credentials`.
    MsClientCredentials {
        authority: String,
        tenant: String,
        client_id: String,
        auth: MsClientAuth,
        scope: String,
    },
    /// `POST {token_uri}`, `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
    GoogleServiceAccount {
        token_uri: String,
        client_email: String,
        private_key_id: Option<String>,
        private_key_pem: Secret,
        subject: String,
        scopes: Vec<String>,
    },
}

impl TokenRequest {
    pub fn endpoint(&self) -> String {
        match self {
            TokenRequest::MsClientCredentials {
                authority, tenant, ..
            } => format!(
                "{}/{}/oauth2/v2.0/token",
                authority.trim_end_matches('/'),
                tenant
            ),
            TokenRequest::GoogleServiceAccount { token_uri, .. } => token_uri.clone(),
        }
    }
}

/// A token source with a cache.
pub struct TokenSource {
    request: TokenRequest,
    cached: tokio::sync::Mutex<Option<(Secret, Instant)>>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TokenErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    crate::http::fill_random(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sign(
    claims: &serde_json::Value,
    header: jsonwebtoken::Header,
    pem: &Secret,
) -> Result<Secret, AuthError> {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.expose().as_bytes())
        .map_err(|e| AuthError::Key(format!("the private key is not an RSA PEM key ({e})")))?;
    jsonwebtoken::encode(&header, claims, &key)
        .map(Secret::new)
        .map_err(|e| AuthError::Key(e.to_string()))
}

impl TokenSource {
    pub fn new(request: TokenRequest) -> Self {
        TokenSource {
            request,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    pub fn request(&self) -> &TokenRequest {
        &self.request
    }

    /// A valid token; `refresh` forces a new one (after a 401).
    pub async fn token(&self, http: &reqwest::Client, refresh: bool) -> Result<Secret, AuthError> {
        let mut cached = self.cached.lock().await;
        if !refresh {
            if let Some((token, until)) = cached.as_ref() {
                if Instant::now() < *until {
                    return Ok(token.clone());
                }
            }
        }
        let (token, lifetime) = self.fetch(http).await?;
        let margin = Duration::from_secs(60).min(lifetime / 2);
        *cached = Some((token.clone(), Instant::now() + lifetime - margin));
        Ok(token)
    }

    fn form(&self) -> Result<Vec<(&'static str, String)>, AuthError> {
        match &self.request {
            TokenRequest::MsClientCredentials {
                client_id,
                auth,
                scope,
                ..
            } => {
                let mut form = vec![
                    ("grant_type", "client_credentials".to_string()),
                    ("client_id", client_id.clone()),
                    ("scope", scope.clone()),
                ];
                match auth {
                    MsClientAuth::Secret(secret) => {
                        form.push(("client_secret", secret.expose().to_string()))
                    }
                    MsClientAuth::Certificate {
                        private_key_pem,
                        thumbprint_sha1_hex,
                    } => {
                        let thumb = hex_to_bytes(thumbprint_sha1_hex).ok_or_else(|| {
                            AuthError::Key(
                                "certificate_thumbprint is not a hex SHA-1 thumbprint".into(),
                            )
                        })?;
                        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
                        header.x5t =
                            Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(thumb));
                        let now = now_secs();
                        let claims = serde_json::json!({
                            "aud": self.request.endpoint(),
                            "iss": client_id,
                            "sub": client_id,
                            "jti": random_id(),
                            "nbf": now,
                            "iat": now,
                            "exp": now + 600,
                        });
                        let assertion = sign(&claims, header, private_key_pem)?;
                        form.push((
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string(),
                        ));
                        form.push(("client_assertion", assertion.expose().to_string()));
                    }
                }
                Ok(form)
            }
            TokenRequest::GoogleServiceAccount {
                token_uri,
                client_email,
                private_key_id,
                private_key_pem,
                subject,
                scopes,
            } => {
                let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
                header.kid = private_key_id.clone();
                let now = now_secs();
                let claims = serde_json::json!({
                    "iss": client_email,
                    "sub": subject,
                    "scope": scopes.join(" "),
                    "aud": token_uri,
                    "iat": now,
                    "exp": now + 3600,
                });
                let assertion = sign(&claims, header, private_key_pem)?;
                Ok(vec![
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:jwt-bearer".to_string(),
                    ),
                    ("assertion", assertion.expose().to_string()),
                ])
            }
        }
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<(Secret, Duration), AuthError> {
        let endpoint = self.request.endpoint();
        tracing::debug!(endpoint = %endpoint, "requesting an access token");
        let form = self.form()?;
        let mut last_transport = String::new();
        // Token endpoints fail transiently too; three tries with a short pause.
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
            }
            let resp = match http
                .post(&endpoint)
                .form(&form)
                .timeout(Duration::from_secs(30))
                .send()
                .await
            {
                Ok(r) => r,
                Err(e) => {
                    last_transport = scrub(&crate::http::describe_reqwest(&e));
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let body = match crate::http::read_limited(resp, 1 << 20).await {
                Ok(b) => b,
                Err(e) => {
                    last_transport = scrub(&e);
                    continue;
                }
            };
            if status >= 500 || status == 429 {
                last_transport = format!("HTTP {status}");
                continue;
            }
            if !(200..300).contains(&status) {
                let parsed: Option<TokenErrorBody> = serde_json::from_slice(&body).ok();
                let (error, description) = match parsed {
                    Some(b) => (
                        b.error.unwrap_or_else(|| "unknown_error".into()),
                        b.error_description.map(|d| scrub(first_line(&d))),
                    ),
                    None => ("unknown_error".into(), None),
                };
                return Err(AuthError::Rejected {
                    endpoint,
                    status,
                    error: scrub(&error),
                    description,
                });
            }
            let parsed: TokenResponse =
                serde_json::from_slice(&body).map_err(|e| AuthError::Malformed {
                    endpoint: endpoint.clone(),
                    message: e.to_string(),
                })?;
            let lifetime = parsed
                .expires_in
                .as_ref()
                .and_then(|v| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(3600)
                .clamp(60, 86_400);
            return Ok((
                Secret::new(parsed.access_token),
                Duration::from_secs(lifetime),
            ));
        }
        Err(AuthError::Transport {
            endpoint,
            message: last_transport,
        })
    }
}

/// Microsoft's descriptions run to several lines (trace and correlation ids); the first says it.
fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim()
}

fn hex_to_bytes(hex: &str) -> Option<Vec<u8>> {
    let hex: String = hex
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if !hex.len().is_multiple_of(2) || hex.is_empty() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}
