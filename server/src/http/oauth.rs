//! OAuth 2.0 handlers: app management (`/oauth/apps`, the management API's conventions), the authorization
//! endpoint's HTML pages (log-in and consent), and the token, revocation, introspection and userinfo endpoints and
//! metadata. Thin: parse into [`Params`] and [`ClientAuth`], call [`OAuthService`], render.
//!
//! [`OAuthService`]: crate::oauth::OAuthService

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};

use super::AppState;
use super::admin::{Admin, AdminErrorResponse, AdminJson, cookie, over_tls, session_cookie};
use crate::admin::AdminError;
use crate::admin::auth::{SESSION_COOKIE, SESSION_TTL, csrf_matches, csrf_token};
use crate::oauth::rules::{Params, encode};
use crate::oauth::{AuthorizeError, ClientAuth, Consent, OAuthError, ValidAuthorize};

type HResult = Result<Response, AdminErrorResponse>;

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    (status, axum::Json(body)).into_response()
}

// ----- apps (management API) -----

/// List the workspace's OAuth apps (admins and owners).
///
/// `GET /oauth/apps`
#[utoipa::path(get, path = "/oauth/apps", tag = "oauth-apps", responses((status = 200, description = "The workspace's OAuth apps, oldest first", body = Vec<crate::oauth::apps::AppView>), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn list_apps(State(s): State<AppState>, Admin(p, _): Admin) -> HResult {
    Ok(json_response(StatusCode::OK, &s.oauth.list_apps(&p)?))
}

/// Register an OAuth app; a confidential app's `client_secret` is in the answer, once.
///
/// `POST /oauth/apps`
#[utoipa::path(post, path = "/oauth/apps", tag = "oauth-apps", request_body = super::openapi::CreateAppRequest, responses((status = 201, description = "Registered; `client_secret` is shown only here", body = crate::oauth::apps::AppWithSecret), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn create_app(State(s): State<AppState>, Admin(p, _): Admin, AdminJson(body): AdminJson) -> HResult {
    Ok(json_response(StatusCode::CREATED, &s.oauth.create_app(&p, &body).await?))
}

/// Read one app (never its secrets).
///
/// `GET /oauth/apps/{id}`
#[utoipa::path(get, path = "/oauth/apps/{id}", tag = "oauth-apps", params(("id" = String, Path, description = "App id (client_id)")), responses((status = 200, description = "The app (never its secrets)", body = crate::oauth::apps::AppView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn get_app(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    Ok(json_response(StatusCode::OK, &s.oauth.get_app(&p, &id)?))
}

/// Change an app's name, redirect URIs, allowed scopes or PKCE settings.
///
/// `PATCH /oauth/apps/{id}`
#[utoipa::path(patch, path = "/oauth/apps/{id}", tag = "oauth-apps", params(("id" = String, Path, description = "App id (client_id)")), request_body = super::openapi::UpdateAppRequest, responses((status = 200, description = "The changed app", body = crate::oauth::apps::AppView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn update_app(
    State(s): State<AppState>,
    Admin(p, _): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson,
) -> HResult {
    Ok(json_response(StatusCode::OK, &s.oauth.update_app(&p, &id, &body).await?))
}

/// Delete an app: its codes and tokens stop working at once.
///
/// `DELETE /oauth/apps/{id}`
#[utoipa::path(delete, path = "/oauth/apps/{id}", tag = "oauth-apps", params(("id" = String, Path, description = "App id (client_id)")), responses((status = 204, description = "Deleted; its codes and tokens fail at once"), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn delete_app(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    s.oauth.delete_app(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Issue a new client secret (shown once); the previous one works for the grace period.
///
/// `POST /oauth/apps/{id}/rotate-secret` with an optional `{"grace_period_seconds": n}`
#[utoipa::path(post, path = "/oauth/apps/{id}/rotate-secret", tag = "oauth-apps", params(("id" = String, Path, description = "App id (client_id)")), request_body(content = Option<super::openapi::RotateSecretRequest>, description = "Optional"), responses((status = 200, description = "The new `client_secret`, shown only here", body = crate::oauth::apps::AppWithSecret), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn rotate_secret(
    State(s): State<AppState>,
    Admin(p, _): Admin,
    Path(id): Path<String>,
    body: Bytes,
) -> HResult {
    let body: Option<Value> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice(&body)
                .map_err(|e| AdminError::BadRequest(format!("the request body is not valid JSON: {e}")))?,
        )
    };
    Ok(json_response(StatusCode::OK, &s.oauth.rotate_secret(&p, &id, body.as_ref()).await?))
}

// ----- the protocol's wire forms -----

/// An OAuth error as a direct answer (RFC 6749 §5.2, RFC 6750 §3): `{"error", "error_description"}`, with the
/// challenges the RFCs require.
#[derive(Debug)]
pub struct OAuthErrorResponse {
    /// The error.
    pub error: OAuthError,
    /// The protected resource metadata URL, for Bearer challenges (RFC 9728 §5.1).
    pub resource_metadata: Option<String>,
}

impl From<OAuthError> for OAuthErrorResponse {
    fn from(error: OAuthError) -> Self {
        OAuthErrorResponse { error, resource_metadata: None }
    }
}

/// A header value for a quoted-string parameter: `"` and `\` are dropped rather than escaped, since error
/// descriptions never need them (RFC 6750 §3: error_description is limited to `%x20-21 / %x23-5B / %x5D-7E`).
fn quoted(s: &str) -> String {
    s.chars().filter(|c| (' '..='~').contains(c) && *c != '"' && *c != '\\').collect()
}

impl IntoResponse for OAuthErrorResponse {
    fn into_response(self) -> Response {
        let e = &self.error;
        if let OAuthError::ServerError(msg) = e {
            tracing::error!(error = %msg, "internal error");
        }
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut r = if matches!(e, OAuthError::MissingToken(_)) {
            // RFC 6750 §3.1: a request without credentials gets no error code "or other error information".
            status.into_response()
        } else {
            (status, axum::Json(json!({"error": e.code(), "error_description": e.to_string()}))).into_response()
        };
        let challenge = match e {
            // RFC 6749 §5.2: a client that used the Authorization header gets 401 and a challenge of its scheme.
            OAuthError::InvalidClient { basic: true, .. } => Some("Basic realm=\"idconform\"".to_owned()),
            OAuthError::MissingToken(_) | OAuthError::InvalidToken(_) | OAuthError::InsufficientScope { .. } => {
                let mut c = "Bearer realm=\"idconform\"".to_owned();
                if let Some(m) = &self.resource_metadata {
                    c.push_str(&format!(", resource_metadata=\"{}\"", quoted(m)));
                }
                // RFC 6750 §3.1: a request without credentials gets no error code.
                if !matches!(e, OAuthError::MissingToken(_)) {
                    c.push_str(&format!(", error=\"{}\", error_description=\"{}\"", e.code(), quoted(&e.to_string())));
                }
                if let OAuthError::InsufficientScope { scope, .. } = e {
                    c.push_str(&format!(", scope=\"{scope}\""));
                }
                Some(c)
            }
            _ => None,
        };
        let h = r.headers_mut();
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        no_store(h);
        r
    }
}

/// RFC 6749 §5.1: token responses (and their errors) must not be cached.
fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

type OResult = Result<Response, OAuthErrorResponse>;

/// The client credentials of the `Authorization: Basic` header: base64 of `client_id:client_secret`, each
/// form-urlencoded first (RFC 6749 §2.3.1).
fn client_auth(headers: &HeaderMap) -> ClientAuth {
    let Some(v) = headers.get(header::AUTHORIZATION) else { return ClientAuth::default() };
    let malformed = ClientAuth { basic: None, basic_malformed: true };
    let Some((scheme, b64)) = v.to_str().ok().and_then(|v| v.split_once(' ')) else { return malformed };
    if !scheme.eq_ignore_ascii_case("basic") {
        return malformed;
    }
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else { return malformed };
    let Ok(text) = String::from_utf8(raw) else { return malformed };
    let Some((id, secret)) = text.split_once(':') else { return malformed };
    let decode =
        |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().ok().map(|c| c.into_owned());
    match (decode(id), decode(secret)) {
        (Some(id), Some(secret)) => ClientAuth { basic: Some((id, secret)), basic_malformed: false },
        _ => malformed,
    }
}

/// A form body (RFC 6749 §4.1.3: `application/x-www-form-urlencoded`).
async fn form(s: &AppState, req: Request) -> Result<Params, OAuthError> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if media != "application/x-www-form-urlencoded" {
        return Err(OAuthError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded (RFC 6749 §4.1.3)".into(),
        ));
    }
    let limit = s.config.limits.max_body;
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| OAuthError::InvalidRequest(format!("the body exceeds {limit} bytes")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| OAuthError::InvalidRequest("the body is not UTF-8".into()))?;
    Params::parse(text)
}

/// Exchange a code or refresh token for tokens.
///
/// `POST /oauth/token`
pub async fn token(State(s): State<AppState>, req: Request) -> OResult {
    let issuer = s.origin(req.headers());
    let auth = client_auth(req.headers());
    let f = form(&s, req).await?;
    let out = s.oauth.token(&auth, &f, &issuer).await?;
    let mut r = json_response(StatusCode::OK, &out);
    no_store(r.headers_mut());
    Ok(r)
}

/// Revoke a refresh or access token (RFC 7009); always 200 for a well-formed, authenticated request.
///
/// `POST /oauth/revoke`
pub async fn revoke(State(s): State<AppState>, req: Request) -> OResult {
    let issuer = s.origin(req.headers());
    let auth = client_auth(req.headers());
    let f = form(&s, req).await?;
    s.oauth.revoke(&auth, &f, &issuer).await?;
    let mut r = StatusCode::OK.into_response();
    no_store(r.headers_mut());
    Ok(r)
}

/// Introspect a token (RFC 7662).
///
/// `POST /oauth/introspect`
pub async fn introspect(State(s): State<AppState>, req: Request) -> OResult {
    let issuer = s.origin(req.headers());
    let auth = client_auth(req.headers());
    let f = form(&s, req).await?;
    let mut r = json_response(StatusCode::OK, &s.oauth.introspect(&auth, &f, &issuer)?);
    no_store(r.headers_mut());
    Ok(r)
}

/// The bearer token of a protected-resource request (RFC 6750 §2.1), or the error of a malformed header.
pub fn bearer(headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    match headers.get(header::AUTHORIZATION).map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(v)) => match v.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => {
                Ok(Some(t.trim().to_owned()))
            }
            _ => Err(OAuthError::InvalidToken("the Authorization header must be \"Bearer <token>\"".into())),
        },
        Some(Err(_)) => Err(OAuthError::InvalidToken("the Authorization header is not readable".into())),
    }
}

/// The URL of the protected resource metadata (RFC 9728 §3.1).
pub fn resource_metadata_url(issuer: &str) -> String {
    format!("{issuer}/.well-known/oauth-protected-resource")
}

/// The signed-in user's profile; needs `user.read`.
///
/// `GET /oauth/userinfo`
pub async fn userinfo(State(s): State<AppState>, headers: HeaderMap) -> OResult {
    let issuer = s.origin(&headers);
    let with_meta = |error| OAuthErrorResponse { error, resource_metadata: Some(resource_metadata_url(&issuer)) };
    let token = bearer(&headers).map_err(with_meta)?;
    let info = s.oauth.userinfo(token.as_deref(), &issuer).map_err(with_meta)?;
    let mut r = json_response(StatusCode::OK, &info);
    no_store(r.headers_mut());
    Ok(r)
}

/// Authorization server metadata (RFC 8414).
///
/// `GET /.well-known/oauth-authorization-server`
pub async fn as_metadata(State(s): State<AppState>, headers: HeaderMap) -> Response {
    json_response(StatusCode::OK, &s.oauth.metadata(&s.origin(&headers)))
}

/// Protected resource metadata (RFC 9728).
///
/// `GET /.well-known/oauth-protected-resource`
pub async fn resource_metadata(State(s): State<AppState>, headers: HeaderMap) -> Response {
    json_response(StatusCode::OK, &s.oauth.resource_metadata(&s.origin(&headers)))
}

// ----- the authorization endpoint's pages -----

pub use crate::markup::escape;

/// No scripts, no framing (RFC 9700 §4.16: clickjacking), no caching, and no referrer to other sites (the page's
/// URL carries the request; RFC 9700 §4.2.4). `same-origin` rather than `no-referrer`: under `no-referrer`
/// browsers send `Origin: null` with the page's own form posts (Fetch §3.2.5), which the cross-site check refuses.
pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>{t}</title><style>body{{font-family:sans-serif;max-width:28rem;\
         margin:3rem auto;padding:0 1rem}}label,input,button{{display:block;margin:.4rem 0}}input{{width:100%}}\
         .err{{color:#a00}}</style></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(HeaderName::from_static("referrer-policy"), HeaderValue::from_static("same-origin"));
    h.insert(HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff"));
    r
}

fn error_page(e: &OAuthError) -> Response {
    let status = if e.status() == 500 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
    page(
        status,
        "Authorization failed",
        &format!("<p class=\"err\"><strong>{}</strong>: {}</p>", escape(e.code()), escape(&e.to_string())),
    )
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut().insert(header::LOCATION, v);
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(_) => error_page(&OAuthError::InvalidRequest("the redirect URI cannot be sent".into())),
    }
}

fn authorize_error(e: AuthorizeError, issuer: &str) -> Response {
    match e {
        AuthorizeError::Page(e) => error_page(&e),
        AuthorizeError::Redirect { redirect_uri, error, state } => {
            redirect(&crate::oauth::error_redirect_uri(&redirect_uri, &error, state.as_deref(), issuer))
        }
    }
}

/// The authorization parameters, carried through the log-in and consent forms as hidden fields.
const CARRIED: [&str; 7] =
    ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"];

fn hidden_fields(q: &Params) -> String {
    CARRIED
        .iter()
        .filter_map(|k| q.get(k).ok().flatten().map(|v| (k, v)))
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", escape(v)))
        .collect()
}

fn query_of(q: &Params) -> String {
    CARRIED
        .iter()
        .filter_map(|k| q.get(k).ok().flatten().map(|v| format!("{k}={}", encode(v))))
        .collect::<Vec<_>>()
        .join("&")
}

fn login_page(status: StatusCode, v: &ValidAuthorize, q: &Params, error: Option<&str>) -> Response {
    let err = error.map(|e| format!("<p class=\"err\">{}</p>", escape(e))).unwrap_or_default();
    page(
        status,
        "Log in",
        &format!(
            "<p>Log in to continue to <strong>{app}</strong>.</p>{err}<form method=\"post\" action=\"/oauth/login\">\
             {hidden}<input type=\"hidden\" name=\"workspace_id\" value=\"{ws}\">\
             <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label><input id=\"password\" name=\"password\" type=\"password\" \
             autocomplete=\"current-password\" required><button type=\"submit\">Log in</button></form>",
            app = escape(&v.app.name),
            hidden = hidden_fields(q),
            ws = escape(&v.app.workspace_id),
        ),
    )
}

fn consent_page(c: &Consent, q: &Params, csrf: &str) -> Response {
    let items: String = c.scopes.iter().map(|s| format!("<li><code>{}</code></li>", escape(s))).collect();
    let withheld = if c.withheld.is_empty() {
        String::new()
    } else {
        format!(
            "<p>Not granted (your role does not allow it): {}</p>",
            c.withheld.iter().map(|s| format!("<code>{}</code>", escape(s))).collect::<Vec<_>>().join(", ")
        )
    };
    page(
        StatusCode::OK,
        "Authorize access",
        &format!(
            "<p><strong>{app}</strong> asks to act for you (<strong>{email}</strong>) with these permissions:</p>\
             <ul>{items}</ul>{withheld}<form method=\"post\" action=\"/oauth/authorize\">{hidden}\
             <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
             <button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
            app = escape(&c.app_name),
            email = escape(&c.email),
            hidden = hidden_fields(q),
            csrf = escape(csrf),
        ),
    )
}

/// A cross-site form post is refused when the browser says where it came from (the `Origin` header, RFC 6454
/// §7): defence in depth against login CSRF, on top of the session-bound CSRF token of the consent form.
fn same_origin(s: &AppState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => headers.get(header::ORIGIN).is_none(),
        Some(o) => o.trim_end_matches('/') == s.origin(headers),
    }
}

/// The authorization endpoint: the log-in page without a session, else the consent page (RFC 6749 §4.1.1).
///
/// `GET /oauth/authorize`
pub async fn authorize(State(s): State<AppState>, req: Request) -> Response {
    let issuer = s.origin(req.headers());
    let q = match Params::parse(req.uri().query().unwrap_or_default()) {
        Ok(q) => q,
        Err(e) => return error_page(&e),
    };
    let v = match s.oauth.validate_authorize(&q) {
        Ok(v) => v,
        Err(e) => return authorize_error(e, &issuer),
    };
    let session = cookie(req.headers(), SESSION_COOKIE);
    match s.oauth.session_member(session, &v) {
        None => login_page(StatusCode::OK, &v, &q, None),
        Some(p) => consent_page(&s.oauth.consent(&p, &v), &q, &csrf_token(session.unwrap_or_default())),
    }
}

/// The log-in form of the authorization endpoint: on success, sets the dashboard session cookie and goes back to
/// the authorization request.
///
/// `POST /oauth/login`
pub async fn login(State(s): State<AppState>, req: Request) -> Response {
    let issuer = s.origin(req.headers());
    if !same_origin(&s, req.headers()) {
        return error_page(&OAuthError::AccessDenied("cross-site log-in form posts are refused".into()));
    }
    let headers = req.headers().clone();
    let f = match form(&s, req).await {
        Ok(f) => f,
        Err(e) => return error_page(&e),
    };
    let v = match s.oauth.validate_authorize(&f) {
        Ok(v) => v,
        Err(e) => return authorize_error(e, &issuer),
    };
    let body = json!({
        "email": f.get("email").ok().flatten().unwrap_or_default(),
        "password": f.get("password").ok().flatten().unwrap_or_default(),
        "workspace_id": v.app.workspace_id,
    });
    match s.oauth.admin().login(&body).await {
        Ok(out) => {
            let mut r = redirect(&format!("/oauth/authorize?{}", query_of(&f)));
            let c = session_cookie(&out.session, SESSION_TTL.num_seconds(), over_tls(&s, &headers));
            if let Ok(v) = HeaderValue::from_str(&c) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(AdminError::Internal(m)) => error_page(&OAuthError::ServerError(m)),
        Err(e @ AdminError::SsoRequired(_)) => login_page(StatusCode::FORBIDDEN, &v, &f, Some(&e.to_string())),
        Err(_) => login_page(StatusCode::UNAUTHORIZED, &v, &f, Some("Invalid email or password.")),
    }
}

/// The consent form's answer: the browser goes to the client with a code, or with `access_denied`.
///
/// `POST /oauth/authorize`
pub async fn decide(State(s): State<AppState>, req: Request) -> Response {
    let issuer = s.origin(req.headers());
    if !same_origin(&s, req.headers()) {
        return error_page(&OAuthError::AccessDenied("cross-site consent form posts are refused".into()));
    }
    let session = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned);
    let f = match form(&s, req).await {
        Ok(f) => f,
        Err(e) => return error_page(&e),
    };
    let v = match s.oauth.validate_authorize(&f) {
        Ok(v) => v,
        Err(e) => return authorize_error(e, &issuer),
    };
    let Some(p) = s.oauth.session_member(session.as_deref(), &v) else {
        return login_page(StatusCode::UNAUTHORIZED, &v, &f, Some("Your session has ended; log in again."));
    };
    // The CSRF token is derived from the session secret, so a page of another site cannot know it.
    let csrf_ok = match (session.as_deref(), f.get("csrf_token").ok().flatten()) {
        (Some(sess), Some(c)) => csrf_matches(sess, c),
        _ => false,
    };
    if !csrf_ok {
        let mut r = error_page(&OAuthError::AccessDenied("the form's CSRF token is missing or wrong".into()));
        *r.status_mut() = StatusCode::FORBIDDEN;
        return r;
    }
    let allow = match f.get("decision") {
        Ok(Some("allow")) => true,
        Ok(Some("deny")) => false,
        _ => return error_page(&OAuthError::InvalidRequest("decision must be allow or deny".into())),
    };
    redirect(&s.oauth.decide(&p, &v, allow, &issuer).await)
}

// ----- MCP -----

/// The access token of an MCP request, verified; failures carry the RFC 9728 `resource_metadata` challenge, so an
/// MCP client can discover the authorization server (MCP authorization spec, "Authorization Server Discovery").
fn mcp_auth(s: &AppState, headers: &HeaderMap) -> Result<crate::oauth::AccessInfo, OAuthErrorResponse> {
    let issuer = s.origin(headers);
    let with_meta = |error| OAuthErrorResponse { error, resource_metadata: Some(resource_metadata_url(&issuer)) };
    let token = bearer(headers)
        .map_err(with_meta)?
        .ok_or_else(|| with_meta(OAuthError::MissingToken("an access token is required".into())))?;
    s.oauth.verify_access(&token, &issuer).map_err(with_meta)
}

/// The MCP endpoint's GET: 401 without a token; with one, 405, as this server opens no server-to-client stream
/// (MCP "Streamable HTTP": "the server MUST either return text/event-stream or 405").
///
/// `GET /v2/mcp`
pub async fn mcp_get(State(s): State<AppState>, headers: HeaderMap) -> OResult {
    mcp_auth(&s, &headers)?;
    let mut r = StatusCode::METHOD_NOT_ALLOWED.into_response();
    r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    Ok(r)
}

/// One JSON-RPC 2.0 message; notifications get 202 and no body.
///
/// `POST /v2/mcp`
pub async fn mcp_post(State(s): State<AppState>, req: Request) -> OResult {
    let headers = req.headers().clone();
    let who = mcp_auth(&s, &headers)?;
    let limit = s.config.limits.max_body;
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| OAuthError::InvalidRequest(format!("the body exceeds {limit} bytes")))?;
    let base = s.base_url(&headers);
    let mcp = crate::mcp::McpService { scim: &s.scim, base: &base };
    Ok(match mcp.handle(&who, &body) {
        Some(answer) => json_response(StatusCode::OK, &answer),
        None => StatusCode::ACCEPTED.into_response(),
    })
}
