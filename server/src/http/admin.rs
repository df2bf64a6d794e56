//! Management API handlers: sessions (`/api/v1/session`), the admin API (`/api/v1/admin/*`) and SCIM directory
//! management (`/scim/directories`). Thin: extract credentials and bodies, call [`AdminService`], convert.
//!
//! [`AdminService`]: crate::admin::AdminService

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use crate::admin::auth::{CSRF_HEADER, SESSION_COOKIE, SESSION_TTL};
use crate::admin::{AdminError, Credentials, Principal, TokenQuery};

/// An admin error as a response: `{"detail": "...", "code": "..."}`, or for 422 `{"detail": [{"loc", "msg",
/// "type"}]}`.
#[derive(Debug)]
pub struct AdminErrorResponse(pub AdminError);

impl From<AdminError> for AdminErrorResponse {
    fn from(e: AdminError) -> Self {
        AdminErrorResponse(e)
    }
}

impl IntoResponse for AdminErrorResponse {
    fn into_response(self) -> Response {
        let e = self.0;
        if let AdminError::Internal(msg) = &e {
            tracing::error!(error = %msg, "internal error");
        }
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match &e {
            AdminError::Invalid(fields) => json!({
                "detail": fields
                    .iter()
                    .map(|f| json!({"loc": f.loc, "msg": f.msg, "type": f.kind}))
                    .collect::<Vec<_>>(),
            }),
            other => json!({"detail": other.to_string(), "code": other.code()}),
        };
        let mut r = (status, axum::Json(body)).into_response();
        if matches!(e, AdminError::Unauthorized(_)) {
            // RFC 6750 §3: a 401 to a bearer-protected resource carries a Bearer challenge.
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"idconform-admin\""));
        }
        r
    }
}

type HResult = Result<Response, AdminErrorResponse>;

/// The value of one cookie of the `Cookie` header (RFC 6265 §5.4: `name=value` pairs separated by `; `).
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

fn credentials(headers: &HeaderMap) -> Result<Credentials, AdminError> {
    let bearer = match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => match v.split_once(' ') {
            // The scheme is case-insensitive (RFC 9110 §11.1); RFC 6750 §2.1 form.
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
                Some(t.trim().to_owned())
            }
            _ => return Err(AdminError::Unauthorized("the Authorization header must be \"Bearer <token>\"".into())),
        },
        Some(Err(_)) => return Err(AdminError::Unauthorized("the Authorization header is not readable".into())),
    };
    Ok(Credentials {
        bearer,
        session: cookie(headers, SESSION_COOKIE).map(str::to_owned),
        csrf: headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_owned()),
    })
}

/// An authenticated caller of a management route. Safe methods (RFC 9110 §9.2.1) need no CSRF token; every other
/// method does when the caller uses a session cookie.
#[derive(Debug)]
pub struct Admin(pub Principal, pub Credentials);

impl FromRequestParts<AppState> for Admin {
    type Rejection = AdminErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let creds = credentials(&parts.headers)?;
        let state_changing = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        let p = state.admin.authenticate(&creds, state_changing)?;
        Ok(Admin(p, creds))
    }
}

/// A JSON body of a management route: 415 unless `application/json`, 400 unless it parses.
#[derive(Debug)]
pub struct AdminJson(pub Value);

impl FromRequest<AppState> for AdminJson {
    type Rejection = AdminErrorResponse;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let media = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if !(media == "application/json" || media.is_empty()) {
            return Err(AdminError::UnsupportedMediaType(format!(
                "Content-Type {media:?} is not supported; send application/json"
            ))
            .into());
        }
        let limit = state.config.limits.max_body;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| AdminError::BadRequest(format!("the request body exceeds {limit} bytes")))?;
        let v = serde_json::from_slice(&bytes)
            .map_err(|e| AdminError::BadRequest(format!("the request body is not valid JSON: {e}")))?;
        Ok(AdminJson(v))
    }
}

fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Whether the client reaches the server over TLS, so cookies get `Secure` (RFC 6265 §4.1.2.5).
fn over_tls(state: &AppState, headers: &HeaderMap) -> bool {
    match &state.config.public_url {
        Some(u) => u.starts_with("https://"),
        None => {
            state.config.trust_forwarded
                && headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.trim() == "https")
        }
    }
}

/// The session cookie (RFC 6265 §4.1): HttpOnly so scripts cannot read it, SameSite=Lax so cross-site POSTs do
/// not carry it, Secure when served over TLS.
fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

// ----- sessions -----

/// `POST /api/v1/session`: log in with `{"email", "password", "workspace_id"?}`.
pub async fn login(State(s): State<AppState>, headers: HeaderMap, AdminJson(body): AdminJson) -> HResult {
    let out = s.admin.login(&body).await?;
    let cookie = session_cookie(&out.session, SESSION_TTL.num_seconds(), over_tls(&s, &headers));
    let mut r = json_response(
        StatusCode::OK,
        &json!({"member": out.member, "csrf_token": out.csrf_token, "expires_at": out.expires_at}),
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// `GET /api/v1/session`: who is logged in, and the session's CSRF token.
pub async fn session(State(s): State<AppState>, Admin(p, creds): Admin) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.session_info(&p, &creds)?))
}

/// `DELETE /api/v1/session`: log out.
pub async fn logout(State(s): State<AppState>, headers: HeaderMap, Admin(_, creds): Admin) -> HResult {
    if let Some(session) = &creds.session {
        s.admin.logout(session).await?;
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie("", 0, over_tls(&s, &headers))) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// `GET /.well-known/jwks.json`: the public keys that verify the server's JWTs (RFC 7517 §5).
pub async fn jwks(State(s): State<AppState>) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.jwks()?))
}

// ----- workspace and members -----

/// `GET /api/v1/admin/workspace`.
pub async fn workspace(State(s): State<AppState>, Admin(p, _): Admin) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.workspace(&p)?))
}

/// `GET /api/v1/admin/members`.
pub async fn list_members(State(s): State<AppState>, Admin(p, _): Admin) -> HResult {
    Ok(json_response(StatusCode::OK, &json!({"items": s.admin.list_members(&p)?})))
}

/// `GET /api/v1/admin/members/{id}`.
pub async fn get_member(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.get_member(&p, &id)?))
}

/// `PATCH /api/v1/admin/members/{id}` with `{"role": "admin"}`.
pub async fn update_member(
    State(s): State<AppState>,
    Admin(p, _): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson,
) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.update_member(&p, &id, &body).await?))
}

/// `DELETE /api/v1/admin/members/{id}`.
pub async fn remove_member(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    s.admin.remove_member(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- directories -----

/// `POST /scim/directories` with `{"name", "deprovision"?}`; the answer holds the token, shown once.
pub async fn create_directory(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    AdminJson(body): AdminJson,
) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::CREATED, &s.admin.create_directory(&p, &body, &base).await?))
}

/// `GET /scim/directories`.
pub async fn list_directories(State(s): State<AppState>, headers: HeaderMap, Admin(p, _): Admin) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::OK, &json!({"items": s.admin.list_directories(&p, &base)?})))
}

/// `GET /scim/directories/{id}`.
pub async fn get_directory(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    Path(id): Path<String>,
) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::OK, &s.admin.get_directory(&p, &id, &base)?))
}

/// `PATCH /scim/directories/{id}` with `{"name"?, "deprovision"?}`.
pub async fn update_directory(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson,
) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::OK, &s.admin.update_directory(&p, &id, &body, &base).await?))
}

/// `DELETE /scim/directories/{id}`.
pub async fn delete_directory(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    s.admin.delete_directory(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /scim/directories/{id}/regenerate-token`: the new token, shown once; the old ones fail at once.
pub async fn regenerate_token(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    Path(id): Path<String>,
) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::OK, &s.admin.regenerate_directory_token(&p, &id, &base).await?))
}

// ----- SCIM tokens -----

/// Query of `GET /api/v1/admin/scim-tokens` (strings, so a bad number is a 422 naming the parameter).
#[derive(Debug, Default, Deserialize)]
pub struct TokenListQuery {
    page: Option<String>,
    per_page: Option<String>,
    tenant_id: Option<String>,
    directory_id: Option<String>,
}

/// `GET /api/v1/admin/scim-tokens?page=&per_page=&tenant_id=&directory_id=`.
pub async fn list_tokens(State(s): State<AppState>, Admin(p, _): Admin, Query(q): Query<TokenListQuery>) -> HResult {
    let q = TokenQuery { page: q.page, per_page: q.per_page, tenant_id: q.tenant_id, directory_id: q.directory_id };
    Ok(json_response(StatusCode::OK, &s.admin.list_tokens(&p, &q)?))
}

/// `POST /api/v1/admin/scim-tokens` with `{"name", "directory_id"?, "expires_at"?, "scopes"?}`.
pub async fn create_token(State(s): State<AppState>, Admin(p, _): Admin, AdminJson(body): AdminJson) -> HResult {
    Ok(json_response(StatusCode::CREATED, &s.admin.create_token(&p, &body).await?))
}

/// Query of `endpoint-info`.
#[derive(Debug, Default, Deserialize)]
pub struct EndpointQuery {
    directory_id: Option<String>,
}

/// `GET /api/v1/admin/scim-tokens/endpoint-info?directory_id=`.
pub async fn endpoint_info(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    Query(q): Query<EndpointQuery>,
) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::OK, &s.admin.endpoint_info(&p, q.directory_id.as_deref(), &base)?))
}

/// `GET /api/v1/admin/scim-tokens/{id}`.
pub async fn get_token(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.get_token(&p, &id)?))
}

/// `PATCH /api/v1/admin/scim-tokens/{id}` with `{"name"?, "expires_at"?, "scopes"?}`.
pub async fn update_token(
    State(s): State<AppState>,
    Admin(p, _): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson,
) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.update_token(&p, &id, &body).await?))
}

/// `DELETE /api/v1/admin/scim-tokens/{id}`: revoke (soft delete).
pub async fn revoke_token(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    s.admin.revoke_token(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
