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
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
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
        match (state.admin.authenticate(&creds, state_changing), &creds.bearer) {
            (Ok(p), _) => Ok(Admin(p, creds)),
            // Not an admin JWT: an OAuth access token with the `admin` scope is accepted too.
            (Err(e @ AdminError::Unauthorized(_)), Some(token)) => {
                match state.oauth.admin_principal(token, &state.origin(&parts.headers)) {
                    Ok(p) => Ok(Admin(p, creds)),
                    Err(_) => Err(e.into()),
                }
            }
            (Err(e), _) => Err(e.into()),
        }
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
pub(crate) fn over_tls(state: &AppState, headers: &HeaderMap) -> bool {
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
pub(crate) fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Any unknown path under `/api`.
pub async fn no_such_route() -> AdminErrorResponse {
    AdminErrorResponse(AdminError::NotFound("no such endpoint".into()))
}

// ----- sessions -----

/// Log in with email and password (local accounts); sets the session cookie and returns its CSRF token.
///
/// `POST /api/v1/session`
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = super::openapi::LoginRequest, responses((status = 200, description = "Logged in; sets the `idconform_session` cookie", body = super::openapi::LoginResponse), super::openapi::ManagementErrors))]
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

/// The logged-in member, their workspace, and the session's CSRF token.
///
/// `GET /api/v1/session`
#[utoipa::path(get, path = "/api/v1/session", tag = "session", responses((status = 200, description = "The caller and the session's CSRF token", body = crate::admin::SessionView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn session(State(s): State<AppState>, Admin(p, creds): Admin) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.session_info(&p, &creds)?))
}

/// Log out: the session ends and its cookie is cleared.
///
/// `DELETE /api/v1/session`
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204, description = "Logged out; the cookie is cleared"), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
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

/// The public keys that verify the server's JWTs (a JWK Set, RFC 7517 §5).
///
/// `GET /.well-known/jwks.json`
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "session", responses((status = 200, description = "JWK Set (RFC 7517 §5) of the keys that sign admin JWTs", body = Object)))]
pub async fn jwks(State(s): State<AppState>) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.jwks()?))
}

// ----- workspace and members -----

/// The caller's workspace and its plan.
///
/// `GET /api/v1/admin/workspace`
#[utoipa::path(get, path = "/api/v1/admin/workspace", tag = "members", responses((status = 200, description = "The caller's workspace", body = crate::admin::WorkspaceView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn workspace(State(s): State<AppState>, Admin(p, _): Admin) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.workspace(&p)?))
}

/// List the workspace's members (local and SCIM-provisioned).
///
/// `GET /api/v1/admin/members`
#[utoipa::path(get, path = "/api/v1/admin/members", tag = "members", responses((status = 200, description = "Members, oldest first", body = super::openapi::MemberList), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn list_members(State(s): State<AppState>, Admin(p, _): Admin) -> HResult {
    Ok(json_response(StatusCode::OK, &json!({"items": s.admin.list_members(&p)?})))
}

/// Read one member.
///
/// `GET /api/v1/admin/members/{id}`
#[utoipa::path(get, path = "/api/v1/admin/members/{id}", tag = "members", params(("id" = String, Path, description = "Member id")), responses((status = 200, description = "The member", body = crate::admin::MemberView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn get_member(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.get_member(&p, &id)?))
}

/// Give a member another role; only owners grant or take `owner`, and the last owner stays owner.
///
/// `PATCH /api/v1/admin/members/{id}` with `{"role"
#[utoipa::path(patch, path = "/api/v1/admin/members/{id}", tag = "members", params(("id" = String, Path, description = "Member id")), request_body = super::openapi::UpdateMemberRequest, responses((status = 200, description = "The member with the new role", body = crate::admin::MemberView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn update_member(
    State(s): State<AppState>,
    Admin(p, _): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson,
) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.update_member(&p, &id, &body).await?))
}

/// Remove a local member (SCIM members are removed by their IdP).
///
/// `DELETE /api/v1/admin/members/{id}`
#[utoipa::path(delete, path = "/api/v1/admin/members/{id}", tag = "members", params(("id" = String, Path, description = "Member id")), responses((status = 204, description = "Removed"), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn remove_member(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    s.admin.remove_member(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- directories -----

/// Create a SCIM directory; the answer holds its bearer token, shown only once.
///
/// `POST /scim/directories` with `{"name", "deprovision"?}`; the answer holds the token, shown once
#[utoipa::path(post, path = "/scim/directories", tag = "directories", request_body = super::openapi::CreateDirectoryRequest, responses((status = 201, description = "Created; `token` is shown only here", body = crate::admin::DirectoryWithToken), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn create_directory(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    AdminJson(body): AdminJson,
) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::CREATED, &s.admin.create_directory(&p, &body, &base).await?))
}

/// List the workspace's SCIM directories.
///
/// `GET /scim/directories`
#[utoipa::path(get, path = "/scim/directories", tag = "directories", responses((status = 200, description = "Directories, oldest first", body = super::openapi::DirectoryList), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn list_directories(State(s): State<AppState>, headers: HeaderMap, Admin(p, _): Admin) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::OK, &json!({"items": s.admin.list_directories(&p, &base)?})))
}

/// Read one SCIM directory.
///
/// `GET /scim/directories/{id}`
#[utoipa::path(get, path = "/scim/directories/{id}", tag = "directories", params(("id" = String, Path, description = "Directory id")), responses((status = 200, description = "The directory", body = crate::admin::DirectoryView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn get_directory(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    Path(id): Path<String>,
) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::OK, &s.admin.get_directory(&p, &id, &base)?))
}

/// Rename a directory or change what deleting it does to its members.
///
/// `PATCH /scim/directories/{id}` with `{"name"?, "deprovision"?}`
#[utoipa::path(patch, path = "/scim/directories/{id}", tag = "directories", params(("id" = String, Path, description = "Directory id")), request_body = super::openapi::UpdateDirectoryRequest, responses((status = 200, description = "The changed directory", body = crate::admin::DirectoryView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
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

/// Delete a directory: its tokens fail at once; its members are removed or deactivated as it says.
///
/// `DELETE /scim/directories/{id}`
#[utoipa::path(delete, path = "/scim/directories/{id}", tag = "directories", params(("id" = String, Path, description = "Directory id")), responses((status = 204, description = "Deleted; its tokens fail at once and its members are removed or deactivated"), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn delete_directory(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    s.admin.delete_directory(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Issue a new token for a directory (shown once) and revoke its old ones at once.
///
/// `POST /scim/directories/{id}/regenerate-token`
#[utoipa::path(post, path = "/scim/directories/{id}/regenerate-token", tag = "directories", params(("id" = String, Path, description = "Directory id")), responses((status = 200, description = "The new token, shown only here; the old ones are revoked", body = crate::admin::DirectoryWithToken), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
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

/// List SCIM tokens, revoked and expired ones included, a page at a time.
///
/// `GET /api/v1/admin/scim-tokens?page=&per_page=&tenant_id=&directory_id=`
#[utoipa::path(get, path = "/api/v1/admin/scim-tokens", tag = "scim-tokens", params(("page" = Option<u32>, Query, description = "1-based page (default 1)"), ("per_page" = Option<u32>, Query, description = "1 to 100 (default 20)"), ("tenant_id" = Option<String>, Query, description = "The workspace id; another workspace's is 404"), ("directory_id" = Option<String>, Query, description = "Only this directory's tokens")), responses((status = 200, description = "A page of tokens, revoked and expired ones included", body = crate::admin::TokenPage), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn list_tokens(State(s): State<AppState>, Admin(p, _): Admin, Query(q): Query<TokenListQuery>) -> HResult {
    let q = TokenQuery { page: q.page, per_page: q.per_page, tenant_id: q.tenant_id, directory_id: q.directory_id };
    Ok(json_response(StatusCode::OK, &s.admin.list_tokens(&p, &q)?))
}

/// Create a SCIM token for a directory; the answer holds the token, shown only once.
///
/// `POST /api/v1/admin/scim-tokens` with `{"name", "directory_id"?, "expires_at"?, "scopes"?}`
#[utoipa::path(post, path = "/api/v1/admin/scim-tokens", tag = "scim-tokens", request_body = super::openapi::CreateTokenRequest, responses((status = 201, description = "Created; `token` is shown only here", body = crate::admin::TokenWithSecret), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn create_token(State(s): State<AppState>, Admin(p, _): Admin, AdminJson(body): AdminJson) -> HResult {
    Ok(json_response(StatusCode::CREATED, &s.admin.create_token(&p, &body).await?))
}

/// Query of `endpoint-info`.
#[derive(Debug, Default, Deserialize)]
pub struct EndpointQuery {
    directory_id: Option<String>,
}

/// The SCIM base URL and the settings to paste into Okta or Entra ID.
///
/// `GET /api/v1/admin/scim-tokens/endpoint-info?directory_id=`
#[utoipa::path(get, path = "/api/v1/admin/scim-tokens/endpoint-info", tag = "scim-tokens", params(("directory_id" = Option<String>, Query, description = "The directory (default: the workspace's only one)")), responses((status = 200, description = "What to paste into the IdP", body = crate::admin::EndpointInfo), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn endpoint_info(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    Query(q): Query<EndpointQuery>,
) -> HResult {
    let base = s.base_url(&headers);
    Ok(json_response(StatusCode::OK, &s.admin.endpoint_info(&p, q.directory_id.as_deref(), &base)?))
}

/// Read one SCIM token (never its secret).
///
/// `GET /api/v1/admin/scim-tokens/{id}`
#[utoipa::path(get, path = "/api/v1/admin/scim-tokens/{id}", tag = "scim-tokens", params(("id" = String, Path, description = "Token id")), responses((status = 200, description = "The token (never its secret)", body = crate::admin::TokenView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn get_token(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.get_token(&p, &id)?))
}

/// Change a token's name, expiry or scopes.
///
/// `PATCH /api/v1/admin/scim-tokens/{id}` with `{"name"?, "expires_at"?, "scopes"?}`
#[utoipa::path(patch, path = "/api/v1/admin/scim-tokens/{id}", tag = "scim-tokens", params(("id" = String, Path, description = "Token id")), request_body = super::openapi::UpdateTokenRequest, responses((status = 200, description = "The changed token", body = crate::admin::TokenView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn update_token(
    State(s): State<AppState>,
    Admin(p, _): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson,
) -> HResult {
    Ok(json_response(StatusCode::OK, &s.admin.update_token(&p, &id, &body).await?))
}

/// Revoke a token (soft delete): it fails with 401 at once and stays listed as revoked.
///
/// `DELETE /api/v1/admin/scim-tokens/{id}`
#[utoipa::path(delete, path = "/api/v1/admin/scim-tokens/{id}", tag = "scim-tokens", params(("id" = String, Path, description = "Token id")), responses((status = 204, description = "Revoked: fails with 401 at once, stays listed as revoked"), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn revoke_token(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    s.admin.revoke_token(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
