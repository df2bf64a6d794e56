//! Extractors that turn HTTP requests into domain inputs, rejecting with SCIM-shaped errors.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::Value;

use super::AppState;
use super::error::ScimErrorResponse;
use crate::scim::error::ScimError;
use crate::scim::service::Dir;

/// The directory a valid SCIM bearer token grants (RFC 7644 §2; RFC 6750 §2.1).
#[derive(Debug)]
pub struct ScimAuth(pub Arc<Dir>);

impl FromRequestParts<AppState> for ScimAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
            let mut r = ScimErrorResponse(ScimError::Unauthorized("a bearer token is required (RFC 7644 §2)".into()))
                .into_response();
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"idconform\""));
            return Err(r);
        };
        let token = match value.split_once(' ') {
            // The scheme name is case-insensitive (RFC 9110 §11.1).
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => t.trim(),
            _ => {
                return Err(ScimErrorResponse(ScimError::Unauthorized(
                    "the Authorization header must be \"Bearer <token>\" (RFC 6750 §2.1)".into(),
                ))
                .into_response());
            }
        };
        // Reads (GET, and POST of a `.search`, RFC 7644 §3.4.3) need `scim:read`; everything else `scim:write`.
        let read = matches!(parts.method, axum::http::Method::GET | axum::http::Method::HEAD)
            || (parts.method == axum::http::Method::POST && parts.uri.path().ends_with("/.search"));
        let scope = if read { "scim:read" } else { "scim:write" };
        state.scim.authenticate_for(token, scope).map(ScimAuth).map_err(|e| ScimErrorResponse(e).into_response())
    }
}

/// A JSON request body, accepted as `application/scim+json` or `application/json` (RFC 7644 §3.1, §3.8).
#[derive(Debug)]
pub struct ScimBody(pub Value);

fn is_json_content_type(headers: &HeaderMap) -> Result<(), ScimError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match media.as_str() {
        "application/scim+json" | "application/json" => Ok(()),
        // Some clients omit Content-Type on small bodies; the body must still parse as JSON.
        "" => Ok(()),
        other => Err(ScimError::UnsupportedMediaType(format!(
            "Content-Type {other:?} is not supported; send application/scim+json or application/json (RFC 7644 §3.8)"
        ))),
    }
}

/// Parses a JSON body; errors are 400 invalidSyntax with where the parser stopped.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ScimError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("the request body is not valid JSON: {e}")))
}

impl FromRequest<AppState> for ScimBody {
    type Rejection = ScimErrorResponse;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        is_json_content_type(req.headers())?;
        let limit = state.config.limits.max_body;
        let body = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ScimError::PayloadTooLarge(format!("the request body exceeds {limit} bytes")))?;
        Ok(ScimBody(parse_json(&body)?))
    }
}

/// A raw body with its declared content type (for logos).
#[derive(Debug)]
pub struct RawBody {
    pub content_type: String,
    pub bytes: Bytes,
}

impl FromRequest<AppState> for RawBody {
    type Rejection = ScimErrorResponse;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let limit = state.config.limits.logo_max_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ScimError::PayloadTooLarge(format!("the logo exceeds {limit} bytes")))?;
        Ok(RawBody { content_type, bytes })
    }
}

/// What handlers need from the request headers, read without copying the header map: the base URL of the SCIM
/// service (see [`AppState::base_url`]) and the conditional-request headers (RFC 7644 §3.14).
#[derive(Debug)]
pub struct ReqMeta {
    pub base: String,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
}

impl FromRequestParts<AppState> for ReqMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let h = |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(ReqMeta {
            base: state.base_url(&parts.headers),
            if_match: h(header::IF_MATCH),
            if_none_match: h(header::IF_NONE_MATCH),
        })
    }
}
