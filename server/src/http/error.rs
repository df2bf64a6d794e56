//! The one place where domain errors become HTTP responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::scim::error::ScimError;

/// The SCIM media type (RFC 7644 §3.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// A SCIM error as an HTTP response: the Error schema of RFC 7644 §3.12.
#[derive(Debug)]
pub struct ScimErrorResponse(pub ScimError);

impl From<ScimError> for ScimErrorResponse {
    fn from(e: ScimError) -> Self {
        ScimErrorResponse(e)
    }
}

impl IntoResponse for ScimErrorResponse {
    fn into_response(self) -> Response {
        let e = self.0;
        if let ScimError::Internal(msg) = &e {
            tracing::error!(error = %msg, "internal error");
        }
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, e.to_json().to_string()).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if let ScimError::Unauthorized(_) = e {
            // RFC 6750 §3: a 401 carries a Bearer challenge; RFC 7644 §2 makes bearer tokens the SCIM default.
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"idconform\", error=\"invalid_token\""),
            );
        }
        resp
    }
}
