//! SAML 2.0 service provider handlers: connection and enforcement management (`/saml/connections`,
//! `/saml/enforce`, the management API's conventions) and the protocol routes (metadata, SP-initiated sign-in,
//! the ACS, the SSO check, single logout). Thin: parse the binding's parameters, call [`SamlService`], answer
//! with a redirect, a page or JSON. The only place a [`SamlError`] becomes a response.
//!
//! [`SamlService`]: crate::saml::service::SamlService

use axum::extract::{Path, Query, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::admin::{Admin, AdminErrorResponse, AdminJson, cookie, over_tls, session_cookie};
use super::oauth::{escape, page};
use crate::admin::AdminError;
use crate::admin::auth::{SESSION_COOKIE, SESSION_TTL};
use crate::markup;
use crate::saml::SamlError;
use crate::saml::messages::{decode_component, raw_query};
use crate::saml::service::{LoginStart, LogoutAnswer};

type HResult = Result<Response, AdminErrorResponse>;
type SResult = Result<Response, SamlErrorResponse>;

/// A refused SAML message or request: `{"detail", "code"}` where `code` names the guard that refused (see
/// [`SamlError::code`]); never cached, and never with a cookie.
#[derive(Debug)]
pub struct SamlErrorResponse(pub SamlError);

impl From<SamlError> for SamlErrorResponse {
    fn from(e: SamlError) -> Self {
        SamlErrorResponse(e)
    }
}

impl IntoResponse for SamlErrorResponse {
    fn into_response(self) -> Response {
        let e = self.0;
        if let SamlError::Internal(msg) = &e {
            tracing::error!(error = %msg, "internal error");
        } else {
            tracing::info!(guard = e.code(), error = %e, "SAML message refused");
        }
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (status, axum::Json(json!({"detail": e.to_string(), "code": e.code()}))).into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}

fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response {
    (status, axum::Json(body)).into_response()
}

fn redirect(status: StatusCode, location: &str) -> Result<Response, SamlError> {
    let v = HeaderValue::from_str(location)
        .map_err(|_| SamlError::Internal("the redirect location is not a valid header".into()))?;
    let mut r = status.into_response();
    r.headers_mut().insert(header::LOCATION, v);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// One decoded parameter of a query or form.
fn param(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| decode_component(v))
}

/// The pairs of an `application/x-www-form-urlencoded` body, raw (SAML Bindings §3.5.4).
async fn form(s: &AppState, req: Request) -> Result<Vec<(String, String)>, SamlError> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if media != "application/x-www-form-urlencoded" {
        return Err(SamlError::Binding(
            "the body must be application/x-www-form-urlencoded (SAML Bindings §3.5.4)".into(),
        ));
    }
    let limit = s.config.limits.max_body;
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| SamlError::Binding(format!("the body exceeds {limit} bytes")))?;
    let text = std::str::from_utf8(&bytes).map_err(|_| SamlError::Binding("the body is not UTF-8".into()))?;
    raw_query(text)
}

// ----- management -----

/// List the workspace's SAML connections.
///
/// `GET /saml/connections`
#[utoipa::path(get, path = "/saml/connections", tag = "saml", responses((status = 200, description = "Connections, oldest first", body = super::openapi::SamlConnectionList), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn list_connections(State(s): State<AppState>, headers: HeaderMap, Admin(p, _): Admin) -> HResult {
    let origin = s.origin(&headers);
    Ok(json_response(StatusCode::OK, &json!({"items": s.saml.list_connections(&p, &origin)?})))
}

/// Create a connection from the IdP's metadata or from its fields.
///
/// `POST /saml/connections` with `{"metadata_xml"}` or `{"entity_id", "sso_url", "slo_url"?, "certificates"}`
#[utoipa::path(post, path = "/saml/connections", tag = "saml", request_body = super::openapi::CreateSamlConnectionRequest, responses((status = 201, description = "Created", body = crate::saml::connections::ConnectionView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn create_connection(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    AdminJson(body): AdminJson,
) -> HResult {
    let origin = s.origin(&headers);
    Ok(json_response(StatusCode::CREATED, &s.saml.create_connection(&p, &body, &origin).await?))
}

/// Read one connection.
///
/// `GET /saml/connections/{id}`
#[utoipa::path(get, path = "/saml/connections/{id}", tag = "saml", params(("id" = String, Path, description = "Connection id")), responses((status = 200, description = "The connection", body = crate::saml::connections::ConnectionView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn get_connection(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    Path(id): Path<String>,
) -> HResult {
    let origin = s.origin(&headers);
    Ok(json_response(StatusCode::OK, &s.saml.get_connection(&p, &id, &origin)?))
}

/// Change a connection's fields, or replace the IdP's with new metadata (a certificate rollover).
///
/// `PATCH /saml/connections/{id}`
#[utoipa::path(patch, path = "/saml/connections/{id}", tag = "saml", params(("id" = String, Path, description = "Connection id")), request_body = super::openapi::UpdateSamlConnectionRequest, responses((status = 200, description = "The changed connection", body = crate::saml::connections::ConnectionView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn update_connection(
    State(s): State<AppState>,
    headers: HeaderMap,
    Admin(p, _): Admin,
    Path(id): Path<String>,
    AdminJson(body): AdminJson,
) -> HResult {
    let origin = s.origin(&headers);
    Ok(json_response(StatusCode::OK, &s.saml.update_connection(&p, &id, &body, &origin).await?))
}

/// Delete a connection (not the last one while SAML is enforced).
///
/// `DELETE /saml/connections/{id}`
#[utoipa::path(delete, path = "/saml/connections/{id}", tag = "saml", params(("id" = String, Path, description = "Connection id")), responses((status = 204, description = "Deleted"), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn delete_connection(State(s): State<AppState>, Admin(p, _): Admin, Path(id): Path<String>) -> HResult {
    s.saml.delete_connection(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The workspace's SAML enforcement.
///
/// `GET /saml/enforce`
#[utoipa::path(get, path = "/saml/enforce", tag = "saml", responses((status = 200, description = "The enforcement", body = crate::saml::connections::EnforceView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn get_enforce(State(s): State<AppState>, Admin(p, _): Admin) -> HResult {
    Ok(json_response(StatusCode::OK, &s.saml.enforcement(&p)?))
}

/// Enforce SAML sign-in for corporate domains (password log-in is then refused for them), or stop.
///
/// `PATCH /saml/enforce` with `{"enforced"?, "domains"?}`
#[utoipa::path(patch, path = "/saml/enforce", tag = "saml", request_body = super::openapi::UpdateEnforceRequest, responses((status = 200, description = "The enforcement", body = crate::saml::connections::EnforceView), super::openapi::ManagementErrors), security(("bearer" = []), ("session" = [], "csrf" = [])))]
pub async fn update_enforce(State(s): State<AppState>, Admin(p, _): Admin, AdminJson(body): AdminJson) -> HResult {
    Ok(json_response(StatusCode::OK, &s.saml.update_enforcement(&p, &body).await?))
}

/// Query of `GET /saml/check`.
#[derive(Debug, Default, Deserialize)]
pub struct CheckQuery {
    email: Option<String>,
}

/// Whether SAML sign-in applies to an email (a workspace enforces it for the domain), and where it starts.
///
/// `GET /saml/check?email=`
#[utoipa::path(get, path = "/saml/check", tag = "saml", params(("email" = String, Query, description = "The email about to sign in")), responses((status = 200, description = "Whether SSO applies", body = crate::saml::service::CheckView), super::openapi::ManagementErrors))]
pub async fn check(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<CheckQuery>) -> HResult {
    let email = q
        .email
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| AdminError::field(&["query", "email"], "field required", "missing"))?;
    Ok(json_response(StatusCode::OK, &s.saml.check(&s.origin(&headers), &email)))
}

// ----- protocol -----

/// The SP metadata of a workspace (SAML Metadata §2.4.4; media type from SAML Metadata §A).
///
/// `GET /saml/metadata/{workspace_id}`
pub async fn metadata(State(s): State<AppState>, headers: HeaderMap, Path(ws): Path<String>) -> SResult {
    let xml = s.saml.metadata(&s.origin(&headers), &ws)?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"))], xml).into_response())
}

/// SP-initiated sign-in: the browser goes to the IdP with an AuthnRequest (HTTP-Redirect, SAML Bindings
/// §3.4.4.1: a 302; or an HTTP-POST form, §3.5.4, when that is the IdP's only binding).
///
/// `GET /saml/authorize/{workspace_id}?RelayState=&connection_id=`
pub async fn authorize(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(ws): Path<String>,
    RawQuery(query): RawQuery,
) -> SResult {
    let pairs = raw_query(query.as_deref().unwrap_or_default())?;
    let relay_state = param(&pairs, "RelayState");
    let connection = param(&pairs, "connection_id");
    match s.saml.begin_login(&s.origin(&headers), &ws, connection.as_deref(), relay_state.as_deref())? {
        LoginStart::Redirect(url) => Ok(redirect(StatusCode::FOUND, &url)?),
        LoginStart::Post { url, saml_request, relay_state } => Ok(page(
            StatusCode::OK,
            "Continue to your identity provider",
            &format!(
                "<form method=\"post\" action=\"{url}\"><input type=\"hidden\" name=\"SAMLRequest\" value=\"{req}\">\
                 <input type=\"hidden\" name=\"RelayState\" value=\"{rs}\"><button type=\"submit\">Continue</button></form>",
                url = escape(&url),
                req = escape(&saml_request),
                rs = escape(&relay_state),
            ),
        )),
    }
}

/// The assertion consumer service (SAML Profiles §4.1.4, HTTP-POST binding §3.5): on success a dashboard session
/// cookie and a 303 to the RelayState; on any refusal a 4xx naming the guard, and no cookie.
///
/// `POST /saml/callback` with `SAMLResponse` and `RelayState`
pub async fn callback(State(s): State<AppState>, req: Request) -> SResult {
    let origin = s.origin(req.headers());
    let secure = over_tls(&s, req.headers());
    let pairs = form(&s, req).await?;
    let response = param(&pairs, "SAMLResponse")
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| SamlError::Binding("no SAMLResponse (SAML Bindings §3.5.4)".into()))?;
    let relay_state = param(&pairs, "RelayState");
    let (outcome, target) = s.saml.finish_login(&origin, &response, relay_state.as_deref()).await?;
    let mut r = redirect(StatusCode::SEE_OTHER, &target)?;
    let c = session_cookie(&outcome.session, SESSION_TTL.num_seconds(), secure);
    if let Ok(v) = HeaderValue::from_str(&c) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

fn clear_cookie(s: &AppState, headers: &HeaderMap, r: &mut Response) {
    if let Ok(v) = HeaderValue::from_str(&session_cookie("", 0, over_tls(s, headers))) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
}

/// SP-initiated single logout (SAML Profiles §4.4.3.1): the session ends, then the browser goes to the IdP's
/// single logout service with a LogoutRequest (redirected, or by an auto-submitting form when the IdP's only
/// service is HTTP-POST), or to the signed-out page. A GET, like the logout links of IdP
/// portals: another site can end a session this way, never start or use one.
///
/// `GET /saml/logout/{workspace_id}`
pub async fn logout(State(s): State<AppState>, headers: HeaderMap, Path(ws): Path<String>) -> SResult {
    let session = cookie(&headers, SESSION_COOKIE).map(str::to_owned);
    let answer = s.saml.logout(&s.origin(&headers), &ws, session.as_deref()).await?;
    logout_answer(&s, &headers, answer, StatusCode::FOUND)
}

/// The one script of the HTTP-POST answer page: it submits the form (SAML Bindings §3.5.4 lets any technique
/// submit it, client-side script included). The page's CSP allows this script by its hash and nothing else.
const AUTO_SUBMIT: &str = "document.forms[0].submit()";

/// An auto-submitting HTML form posting `fields` to `url` (SAML Bindings §3.5.4); everything escaped with the
/// server's one escaper, a `Continue` button for browsers without scripts.
fn post_form(url: &str, fields: &[(&str, &str)]) -> Result<Response, SamlError> {
    use base64::Engine;
    use sha2::Digest;
    let inputs: String = fields
        .iter()
        .map(|(name, value)| {
            format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", markup::escape(name), markup::escape(value))
        })
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing out</title></head><body>\
         <form method=\"post\" action=\"{url}\">{inputs}<noscript><button type=\"submit\">Continue</button>\
         </noscript></form><script>{AUTO_SUBMIT}</script></body></html>",
        url = markup::escape(url),
    );
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(AUTO_SUBMIT.as_bytes()));
    let csp = format!("default-src 'none'; script-src 'sha256-{hash}'; frame-ancestors 'none'; base-uri 'none'");
    let csp = HeaderValue::from_str(&csp).map_err(|_| SamlError::Internal("the CSP is not a valid header".into()))?;
    let mut r = (StatusCode::OK, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(r)
}

/// The browser's way on after the single logout service: a redirect (`status`), or the form of an HTTP-POST
/// LogoutResponse; either way without the session cookie.
fn logout_answer(s: &AppState, headers: &HeaderMap, answer: LogoutAnswer, status: StatusCode) -> SResult {
    let mut r = match answer {
        LogoutAnswer::Redirect(url) => redirect(status, &url)?,
        LogoutAnswer::Post { url, field, message, relay_state } => {
            let mut fields = vec![(field, message.as_str())];
            if let Some(rs) = &relay_state {
                fields.push(("RelayState", rs.as_str()));
            }
            post_form(&url, &fields)?
        }
    };
    clear_cookie(s, headers, &mut r);
    Ok(r)
}

/// The single logout service, HTTP-Redirect binding (SAML Bindings §3.4.4.1).
///
/// `GET /saml/logout/callback`
pub async fn logout_callback_get(State(s): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> SResult {
    let answer = s.saml.logout_callback(&s.origin(&headers), query.as_deref(), None).await?;
    logout_answer(&s, &headers, answer, StatusCode::FOUND)
}

/// The single logout service, HTTP-POST binding (SAML Bindings §3.5.4): a LogoutRequest must carry an enveloped
/// signature by the IdP.
///
/// `POST /saml/logout/callback`
pub async fn logout_callback_post(State(s): State<AppState>, req: Request) -> SResult {
    let headers = req.headers().clone();
    let pairs: Vec<(String, String)> =
        form(&s, req).await?.into_iter().map(|(k, v)| (k, decode_component(&v))).collect();
    let answer = s.saml.logout_callback(&s.origin(&headers), None, Some(&pairs)).await?;
    logout_answer(&s, &headers, answer, StatusCode::SEE_OTHER)
}

/// The page after single logout.
///
/// `GET /saml/signed-out`
pub async fn signed_out() -> Response {
    page(StatusCode::OK, "Signed out", "<p>You are signed out.</p>")
}
