//! The SCIM domain error, mapped once to the wire format of [RFC 7644 §3.12] by the HTTP layer.
//!
//! [RFC 7644 §3.12]: https://www.rfc-editor.org/rfc/rfc7644#section-3.12

/// The `scimType` detail error keywords of RFC 7644 §3.12, Table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// `invalidFilter`: the filter syntax was invalid or the attribute and comparison combination is not supported.
    InvalidFilter,
    /// `tooMany`: the filter yields too many results to return (RFC 7644 §3.4.2.4 and Table 9).
    TooMany,
    /// `uniqueness`: one or more of the attribute values are already in use or reserved.
    Uniqueness,
    /// `mutability`: the modification is incompatible with the target attribute's mutability.
    Mutability,
    /// `invalidSyntax`: the request body structure was invalid or did not conform to the request schema.
    InvalidSyntax,
    /// `invalidPath`: the "path" attribute was invalid or malformed.
    InvalidPath,
    /// `noTarget`: the specified "path" did not yield an attribute or attribute value that could be operated on.
    NoTarget,
    /// `invalidValue`: a required value was missing, or the value specified was not compatible.
    InvalidValue,
    /// `invalidVers`: the specified SCIM protocol version is not supported.
    InvalidVers,
    /// `sensitive`: the request cannot be completed because of sensitive information in the URI.
    Sensitive,
    /// `invalidCursor`: the cursor is invalid (RFC 9865 §4).
    InvalidCursor,
    /// `expiredCursor`: the cursor has expired (RFC 9865 §4).
    ExpiredCursor,
    /// `invalidCount`: the count exceeds what the server supports with cursors (RFC 9865 §4).
    InvalidCount,
}

impl ScimType {
    /// The wire keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
            ScimType::InvalidCursor => "invalidCursor",
            ScimType::ExpiredCursor => "expiredCursor",
            ScimType::InvalidCount => "invalidCount",
        }
    }
}

/// An error of the SCIM domain. Each variant knows its HTTP status and, where RFC 7644 §3.12 defines one, its
/// `scimType`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// 400 with a `scimType` (RFC 7644 §3.12).
    #[error("{detail}")]
    BadRequest { scim_type: ScimType, detail: String },
    /// 401: missing or invalid bearer token (RFC 7644 §2, RFC 6750 §3).
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the credential may not perform this operation (RFC 7644 §3.12).
    #[error("{0}")]
    Forbidden(String),
    /// 404: the resource or endpoint does not exist — also for another tenant's resources.
    #[error("{0}")]
    NotFound(String),
    /// 409 `uniqueness` (RFC 7644 §3.3, §3.12).
    #[error("{0}")]
    Conflict(String),
    /// 412: the If-Match precondition failed (RFC 7644 §3.14).
    #[error("{0}")]
    PreconditionFailed(String),
    /// 413: the request is too large (RFC 7644 §3.7.4).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 415: the request body's media type is not JSON (RFC 7644 §3.8).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 500: storage failure; the write did not happen.
    #[error("{0}")]
    Internal(String),
    /// 503: the server cannot serve requests until it is restarted (a write failed to reach storage).
    #[error("{0}")]
    Unavailable(String),
    /// 501: the operation is not supported (RFC 7644 §3.12).
    #[error("{0}")]
    NotImplemented(String),
}

impl ScimError {
    /// A 400 with the given `scimType`.
    pub fn bad(scim_type: ScimType, detail: impl Into<String>) -> Self {
        ScimError::BadRequest { scim_type, detail: detail.into() }
    }
    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidValue, detail)
    }
    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidSyntax, detail)
    }
    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidFilter, detail)
    }
    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::InvalidPath, detail)
    }
    /// 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::NoTarget, detail)
    }
    /// 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad(ScimType::Mutability, detail)
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            ScimError::BadRequest { .. } => 400,
            ScimError::Unauthorized(_) => 401,
            ScimError::Forbidden(_) => 403,
            ScimError::NotFound(_) => 404,
            ScimError::Conflict(_) => 409,
            ScimError::PreconditionFailed(_) => 412,
            ScimError::PayloadTooLarge(_) => 413,
            ScimError::UnsupportedMediaType(_) => 415,
            ScimError::Internal(_) => 500,
            ScimError::NotImplemented(_) => 501,
            ScimError::Unavailable(_) => 503,
        }
    }

    /// The `scimType`, where RFC 7644 §3.12 defines one for this error.
    pub fn scim_type(&self) -> Option<ScimType> {
        match self {
            ScimError::BadRequest { scim_type, .. } => Some(*scim_type),
            ScimError::Conflict(_) => Some(ScimType::Uniqueness),
            _ => None,
        }
    }

    /// The SCIM Error resource (RFC 7644 §3.12): `status` is a string.
    pub fn to_json(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "schemas": [super::schema::ERROR_URN],
            "status": self.status().to_string(),
            "detail": self.to_string(),
        });
        if let Some(t) = self.scim_type() {
            body["scimType"] = serde_json::Value::from(t.as_str());
        }
        body
    }
}

/// Result alias of the SCIM domain.
pub type ScimResult<T> = Result<T, ScimError>;
