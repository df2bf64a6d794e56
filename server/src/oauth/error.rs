//! The one error enum of the OAuth 2.0 protocol endpoints, each variant a wire `error` code (RFC 6749 §4.1.2.1,
//! §5.2; RFC 6750 §3.1; RFC 7009 §2.2.1). `http::oauth` maps it to the wire once: `{"error", "error_description"}`
//! with the status the RFC names, or a redirect to the client for authorization errors.
//!
//! App management (`/oauth/apps`) is part of the management API and reports [`crate::admin::AdminError`]s.

use crate::store::StoreError;

/// An OAuth protocol error; the `String` is the `error_description` (RFC 6749 §5.2: human-readable ASCII).
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// `invalid_request` (RFC 6749 §4.1.2.1, §5.2): a missing, repeated or malformed parameter. 400.
    #[error("{0}")]
    InvalidRequest(String),
    /// `invalid_client` (RFC 6749 §5.2): client authentication failed. 401, with a `Basic` challenge when the
    /// client used the `Authorization` header.
    #[error("{msg}")]
    InvalidClient {
        /// What failed.
        msg: String,
        /// Whether the client authenticated with HTTP Basic (then `WWW-Authenticate` is a MUST).
        basic: bool,
    },
    /// `invalid_grant` (RFC 6749 §5.2): the code or refresh token is invalid, expired, revoked, used, or was issued
    /// to another client or redirect URI; or the PKCE verifier does not match (RFC 7636 §4.6). 400.
    #[error("{0}")]
    InvalidGrant(String),
    /// `unauthorized_client` (RFC 6749 §5.2): this client may not use this grant type. 400.
    #[error("{0}")]
    UnauthorizedClient(String),
    /// `unsupported_grant_type` (RFC 6749 §5.2). 400.
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// `unsupported_response_type` (RFC 6749 §4.1.2.1). Sent to the redirect URI.
    #[error("{0}")]
    UnsupportedResponseType(String),
    /// `invalid_scope` (RFC 6749 §4.1.2.1, §5.2): unknown, not allowed, or wider than the original grant. 400.
    #[error("{0}")]
    InvalidScope(String),
    /// `access_denied` (RFC 6749 §4.1.2.1): the user refused, or may not authorize this app. Sent to the
    /// redirect URI.
    #[error("{0}")]
    AccessDenied(String),
    /// `invalid_token` (RFC 6750 §3.1): the access token is missing, malformed, expired or revoked. 401.
    #[error("{0}")]
    InvalidToken(String),
    /// No credentials at all on a protected resource (RFC 6750 §3.1: then the challenge carries no error code). 401.
    #[error("{0}")]
    MissingToken(String),
    /// `insufficient_scope` (RFC 6750 §3.1): the token lacks the named scope. 403.
    #[error("{msg}")]
    InsufficientScope {
        /// What is missing.
        msg: String,
        /// The scope the resource needs.
        scope: &'static str,
    },
    /// `server_error` (RFC 6749 §4.1.2.1): the server failed; nothing was changed. 500.
    #[error("{0}")]
    ServerError(String),
}

impl OAuthError {
    /// The wire `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient { .. } => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::UnsupportedResponseType(_) => "unsupported_response_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::AccessDenied(_) => "access_denied",
            OAuthError::InvalidToken(_) | OAuthError::MissingToken(_) => "invalid_token",
            OAuthError::InsufficientScope { .. } => "insufficient_scope",
            OAuthError::ServerError(_) => "server_error",
        }
    }

    /// The HTTP status of a direct (non-redirect) answer.
    pub fn status(&self) -> u16 {
        match self {
            OAuthError::InvalidClient { .. } | OAuthError::InvalidToken(_) | OAuthError::MissingToken(_) => 401,
            OAuthError::InsufficientScope { .. } | OAuthError::AccessDenied(_) => 403,
            OAuthError::ServerError(_) => 500,
            _ => 400,
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        OAuthError::ServerError(format!("the change was not saved: {e}"))
    }
}

impl From<crate::admin::AdminError> for OAuthError {
    fn from(e: crate::admin::AdminError) -> Self {
        OAuthError::ServerError(e.to_string())
    }
}

/// Result of an OAuth protocol operation.
pub type OAuthResult<T> = Result<T, OAuthError>;

/// Where an authorization-endpoint error goes (RFC 6749 §4.1.2.1).
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI is unknown or invalid: the user sees an error page and is **not** redirected, so
    /// the endpoint is no open redirector (RFC 6749 §4.1.2.1, RFC 9700 §4.11).
    Page(OAuthError),
    /// Any other error goes back to the (registered) redirect URI, with `state` and `iss`.
    Redirect {
        /// The registered redirect URI.
        redirect_uri: String,
        /// The error.
        error: OAuthError,
        /// The client's `state`, echoed.
        state: Option<String>,
    },
}

impl From<StoreError> for AuthorizeError {
    fn from(e: StoreError) -> Self {
        AuthorizeError::Page(e.into())
    }
}
