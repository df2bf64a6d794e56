//! The one error enum of the management API (workspaces, members, sessions, directories, tokens).
//!
//! Each variant's doc starts with its HTTP status; `http::admin` maps them to the wire once. The JSON shape of a
//! 422 (`{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`) is the validation-error shape the platforms in
//! the design documents use; every other error is `{"detail": "...", "code": "..."}`.

use crate::store::StoreError;

/// One invalid field of a request: where it is (`["body", "name"]`), what is wrong, and a machine-readable type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path to the field: `body` or `query` first, then keys and indexes.
    pub loc: Vec<String>,
    /// What is wrong, for a person.
    pub msg: String,
    /// What is wrong, for a program: `missing`, `string_type`, `enum`, `extra_forbidden`, `value_error`, ….
    pub kind: &'static str,
}

impl FieldError {
    /// A field error at `loc`.
    pub fn new(loc: &[&str], msg: impl Into<String>, kind: &'static str) -> Self {
        FieldError { loc: loc.iter().map(|s| (*s).to_owned()).collect(), msg: msg.into(), kind }
    }
}

/// An error of the management API.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// 400: the body is not JSON (or not a JSON object).
    #[error("{0}")]
    BadRequest(String),
    /// 401: no credentials, or credentials that are not valid (RFC 6750 §3.1 `invalid_token` for bearer JWTs).
    #[error("{0}")]
    Unauthorized(String),
    /// 403: a state-changing request authenticated by a session cookie without the session's CSRF token.
    #[error("{0}")]
    Csrf(String),
    /// 403: the caller's role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 403: the workspace's plan does not include this feature.
    #[error("{0}")]
    PlanRequired(String),
    /// 403: the member's email domain must sign in with SAML single sign-on (the workspace enforces it), so a
    /// password log-in is refused.
    #[error("{0}")]
    SsoRequired(String),
    /// 404: no such object in the caller's workspace (objects of other workspaces are not found either).
    #[error("{0}")]
    NotFound(String),
    /// 409: a duplicate, or a change the current state forbids (removing the last owner).
    #[error("{0}")]
    Conflict(String),
    /// 415: the body is not `application/json`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: the body is JSON but some fields are invalid.
    #[error("the request has {} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
    /// 400: a URL the server was asked to fetch (a SAML connection's `metadata_url`) was refused or could not be
    /// read; `code` names the limit or the address class (`saml::fetch::FetchError::code`). Nothing was changed.
    #[error("{detail}")]
    Fetch {
        /// The refusal's stable code.
        code: &'static str,
        /// What was refused, and why.
        detail: String,
    },
    /// 500: a failure of the server; nothing was changed.
    #[error("{0}")]
    Internal(String),
}

impl AdminError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            AdminError::BadRequest(_) | AdminError::Fetch { .. } => 400,
            AdminError::Unauthorized(_) => 401,
            AdminError::Csrf(_)
            | AdminError::Forbidden(_)
            | AdminError::PlanRequired(_)
            | AdminError::SsoRequired(_) => 403,
            AdminError::NotFound(_) => 404,
            AdminError::Conflict(_) => 409,
            AdminError::UnsupportedMediaType(_) => 415,
            AdminError::Invalid(_) => 422,
            AdminError::Internal(_) => 500,
        }
    }

    /// A stable machine-readable code for the non-422 forms.
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::BadRequest(_) => "bad_request",
            AdminError::Fetch { code, .. } => code,
            AdminError::Unauthorized(_) => "unauthorized",
            AdminError::Csrf(_) => "csrf_failed",
            AdminError::Forbidden(_) => "forbidden",
            AdminError::PlanRequired(_) => "plan_required",
            AdminError::SsoRequired(_) => "sso_required",
            AdminError::NotFound(_) => "not_found",
            AdminError::Conflict(_) => "conflict",
            AdminError::UnsupportedMediaType(_) => "unsupported_media_type",
            AdminError::Invalid(_) => "validation_error",
            AdminError::Internal(_) => "internal_error",
        }
    }

    /// A 422 for one field.
    pub fn field(loc: &[&str], msg: impl Into<String>, kind: &'static str) -> Self {
        AdminError::Invalid(vec![FieldError::new(loc, msg, kind)])
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError::Internal(format!("the change was not saved: {e}"))
    }
}

/// Result of a management operation.
pub type AdminResult<T> = Result<T, AdminError>;
