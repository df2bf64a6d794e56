//! SCIM 2.0 handlers (RFC 7644 §3): extract, call [`ScimService`](crate::scim::service::ScimService), convert.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use super::error::{SCIM_JSON, ScimErrorResponse};
use super::extract::{RawBody, ReqMeta, ScimAuth, ScimBody};
use crate::scim::error::ScimError;
use crate::scim::project::Projection;
use crate::scim::schema::{ResourceKind, SEARCH_REQUEST_URN};
use crate::scim::service::{ListParams, Rendered, etag_matches};

type HResult = Result<Response, ScimErrorResponse>;

/// A JSON body with the SCIM media type.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    scim_text(status, body.to_string())
}

/// JSON text with the SCIM media type.
pub fn scim_text(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    r
}

fn with_resource_headers(mut r: Response, rendered: &Rendered) -> Response {
    let h = r.headers_mut();
    // RFC 7644 §3.14: the ETag header carries the version; §3.1: Location on the created resource.
    if let Ok(v) = HeaderValue::from_str(&rendered.version) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&rendered.location) {
        h.insert(header::LOCATION, v);
    }
    r
}

/// Query parameters of reads and lists (RFC 7644 §3.4.2, §3.9; RFC 9865).
#[derive(Debug, Default, Deserialize)]
pub struct ReadQuery {
    filter: Option<String>,
    #[serde(rename = "sortBy")]
    sort_by: Option<String>,
    #[serde(rename = "sortOrder")]
    sort_order: Option<String>,
    #[serde(rename = "startIndex")]
    start_index: Option<String>,
    count: Option<String>,
    cursor: Option<String>,
    attributes: Option<String>,
    #[serde(rename = "excludedAttributes")]
    excluded_attributes: Option<String>,
}

fn parse_int(name: &str, v: Option<&str>) -> Result<Option<i64>, ScimError> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ScimError::invalid_value(format!("{name} must be an integer, not {s:?} (RFC 7644 §3.4.2.4)"))),
    }
}

impl ReadQuery {
    fn params(&self) -> Result<ListParams, ScimError> {
        Ok(ListParams {
            filter: self.filter.clone(),
            sort_by: self.sort_by.clone(),
            sort_order: self.sort_order.clone(),
            start_index: parse_int("startIndex", self.start_index.as_deref())?,
            count: parse_int("count", self.count.as_deref())?,
            cursor: self.cursor.clone(),
            attributes: self.attributes.clone(),
            excluded_attributes: self.excluded_attributes.clone(),
        })
    }

    fn projection(&self, kind: ResourceKind) -> Result<Projection, ScimError> {
        Projection::parse(kind.def(), self.attributes.as_deref(), self.excluded_attributes.as_deref())
    }

    fn has_projection(&self) -> bool {
        self.attributes.is_some() || self.excluded_attributes.is_some()
    }
}

/// `GET /{Users|Groups}`: list with filter, sort and pagination.
pub async fn list(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    Target { kind, .. }: Target,
    meta: ReqMeta,
    Query(q): Query<ReadQuery>,
) -> HResult {
    let base = meta.base;
    let body = s.scim.list(&dir, &[kind], &q.params()?, &base)?;
    Ok(scim_text(StatusCode::OK, body.to_json()))
}

/// A SearchRequest body (RFC 7644 §3.4.3).
fn search_params(body: &Value, strict: bool) -> Result<ListParams, ScimError> {
    let obj = body.as_object().ok_or_else(|| ScimError::invalid_syntax("a SearchRequest must be a JSON object"))?;
    let schemas_ok = obj
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(SEARCH_REQUEST_URN)));
    if strict && !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "a SearchRequest must list {SEARCH_REQUEST_URN} in schemas (RFC 7644 §3.4.3)"
        )));
    }
    let get = |k: &str| obj.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)).map(|(_, v)| v);
    let string = |k: &str| -> Result<Option<String>, ScimError> {
        match get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ScimError::invalid_syntax(format!("{k} must be a string (RFC 7644 §3.4.3)"))),
        }
    };
    let int = |k: &str| -> Result<Option<i64>, ScimError> {
        match get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                n.as_i64().map(Some).ok_or_else(|| ScimError::invalid_value(format!("{k} must be an integer")))
            }
            Some(Value::String(s)) if !strict => parse_int(k, Some(s)),
            Some(_) => Err(ScimError::invalid_syntax(format!("{k} must be an integer (RFC 7644 §3.4.3)"))),
        }
    };
    // `attributes` and `excludedAttributes` are arrays of strings in a SearchRequest (RFC 7644 §3.4.3).
    let list = |k: &str| -> Result<Option<String>, ScimError> {
        match get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(|v| Some(v.join(",")))
                .ok_or_else(|| ScimError::invalid_syntax(format!("{k} must be an array of strings"))),
            Some(Value::String(s)) if !strict => Ok(Some(s.clone())),
            Some(_) => Err(ScimError::invalid_syntax(format!("{k} must be an array of strings (RFC 7644 §3.4.3)"))),
        }
    };
    Ok(ListParams {
        filter: string("filter")?,
        sort_by: string("sortBy")?,
        sort_order: string("sortOrder")?,
        start_index: int("startIndex")?,
        count: int("count")?,
        cursor: string("cursor")?,
        attributes: list("attributes")?,
        excluded_attributes: list("excludedAttributes")?,
    })
}

/// `POST /{Users|Groups}/.search` (RFC 7644 §3.4.3).
pub async fn search(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    Target { kind, .. }: Target,
    meta: ReqMeta,
    ScimBody(body): ScimBody,
) -> HResult {
    let p = search_params(&body, s.config.leniency.strict)?;
    let base = meta.base;
    Ok(scim_text(StatusCode::OK, s.scim.list(&dir, &[kind], &p, &base)?.to_json()))
}

/// `POST /.search` at the root: every resource type (RFC 7644 §3.4.3).
pub async fn search_root(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    meta: ReqMeta,
    ScimBody(body): ScimBody,
) -> HResult {
    let p = search_params(&body, s.config.leniency.strict)?;
    let base = meta.base;
    Ok(scim_text(StatusCode::OK, s.scim.list(&dir, &ResourceKind::ALL, &p, &base)?.to_json()))
}

/// `GET /{Users|Groups}/{id}` (RFC 7644 §3.4.1); If-None-Match → 304 (RFC 7644 §3.14).
pub async fn get(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    Target { kind, id }: Target,
    meta: ReqMeta,
    Query(q): Query<ReadQuery>,
) -> HResult {
    if let Some(inm) = meta.if_none_match.as_deref()
        && let Some(v) = s.scim.version_of(&dir, kind, &id)
        && etag_matches(inm, &v)
    {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(header::ETAG, v);
        }
        return Ok(r);
    }
    let base = meta.base;
    let (body, version) = s.scim.get_text(&dir, kind, &id, &q.projection(kind)?, &base)?;
    let mut r = scim_text(StatusCode::OK, body);
    if let Ok(v) = HeaderValue::from_str(&version) {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// `POST /{Users|Groups}` (RFC 7644 §3.3): 201 with the resource, `Location` and `ETag`.
pub async fn create(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    Target { kind, .. }: Target,
    meta: ReqMeta,
    Query(q): Query<ReadQuery>,
    ScimBody(body): ScimBody,
) -> HResult {
    let base = meta.base;
    let rendered = s.scim.create(&dir, kind, &body, &q.projection(kind)?, &base).await?;
    Ok(with_resource_headers(scim_json(StatusCode::CREATED, &rendered.body), &rendered))
}

/// `PUT /{Users|Groups}/{id}` (RFC 7644 §3.5.1).
pub async fn replace(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    Target { kind, id }: Target,
    meta: ReqMeta,
    Query(q): Query<ReadQuery>,
    ScimBody(body): ScimBody,
) -> HResult {
    let base = meta.base;
    let if_match = meta.if_match.as_deref();
    let rendered = s.scim.replace(&dir, kind, &id, &body, if_match, &q.projection(kind)?, &base).await?;
    Ok(with_resource_headers(scim_json(StatusCode::OK, &rendered.body), &rendered))
}

/// `PATCH /{Users|Groups}/{id}` (RFC 7644 §3.5.2). Users get 200 with the resource; groups get 204 unless the
/// client asked for attributes, because group bodies can be large and Entra and Okta expect 204 there (the RFC
/// allows either).
pub async fn patch(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    Target { kind, id }: Target,
    meta: ReqMeta,
    Query(q): Query<ReadQuery>,
    ScimBody(body): ScimBody,
) -> HResult {
    let base = meta.base;
    let if_match = meta.if_match.as_deref();
    let rendered = s.scim.patch(&dir, kind, &id, &body, if_match, &q.projection(kind)?, &base).await?;
    if kind == ResourceKind::Group && !q.has_projection() {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Ok(v) = HeaderValue::from_str(&rendered.version) {
            r.headers_mut().insert(header::ETAG, v);
        }
        return Ok(r);
    }
    Ok(with_resource_headers(scim_json(StatusCode::OK, &rendered.body), &rendered))
}

/// `DELETE /{Users|Groups}/{id}` (RFC 7644 §3.6): 204.
pub async fn delete(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    Target { kind, id }: Target,
    meta: ReqMeta,
) -> HResult {
    let if_match = meta.if_match.as_deref();
    s.scim.delete(&dir, kind, &id, if_match).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /Groups/{id}/Logo`: stores a PNG or JPEG logo.
pub async fn put_logo(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    Path(id): Path<String>,
    meta: ReqMeta,
    body: RawBody,
) -> HResult {
    let base = meta.base;
    let rendered = s.scim.put_logo(&dir, &id, &body.content_type, body.bytes, &base).await?;
    Ok(with_resource_headers(scim_json(StatusCode::OK, &rendered.body), &rendered))
}

/// `GET /Groups/{id}/Logo`: the image, served with its own type and `nosniff`.
pub async fn get_logo(State(s): State<AppState>, ScimAuth(dir): ScimAuth, Path(id): Path<String>) -> HResult {
    let (ct, data) = s.scim.get_logo(&dir, &id)?;
    let mut r = data.into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&ct) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'"));
    Ok(r)
}

/// `/Me` (RFC 7644 §3.11). With an OAuth access token carrying `user.read`, `GET` answers the User the token
/// stands for (read-only: changes go through the IdP or the admin API, so other methods are 501). A SCIM directory
/// token authenticates a provisioning client, not a User, so there is no resource for "Me" to alias; the RFC's
/// answer for an unsupported alias is 501.
pub async fn me(State(s): State<AppState>, req: axum::extract::Request) -> Response {
    let issuer = s.origin(req.headers());
    if let Ok(Some(token)) = super::oauth::bearer(req.headers())
        && let Ok(info) = s.oauth.verify_access(&token, &issuer)
    {
        if !info.has_scope(crate::oauth::SCOPE_USER_READ) {
            return ScimErrorResponse(ScimError::Forbidden("the access token lacks the user.read scope".into()))
                .into_response();
        }
        if req.method() != axum::http::Method::GET {
            return ScimErrorResponse(ScimError::NotImplemented("/Me is read-only for OAuth access tokens".into()))
                .into_response();
        }
        let m = &info.member;
        let id = m.scim_user_id.clone().unwrap_or_else(|| m.id.clone());
        let body = serde_json::json!({
            "schemas": [crate::scim::schema::USER_URN],
            "id": id,
            "userName": m.email,
            "emails": [{"value": m.email, "primary": true}],
            "active": m.active,
            "meta": {"resourceType": "User", "location": format!("{}/Me", s.base_url(req.headers()))},
        });
        return scim_json(StatusCode::OK, &body);
    }
    let (mut parts, _) = req.into_parts();
    match ScimAuth::from_request_parts(&mut parts, &s).await {
        Err(r) => r,
        Ok(_) => ScimErrorResponse(ScimError::NotImplemented(
            "/Me aliases the User the credential belongs to (RFC 7644 §3.11); a SCIM directory token belongs to a \
             provisioning client, not a User"
                .into(),
        ))
        .into_response(),
    }
}

/// The resource type and id named by the path (`/Users/{id}`, `/Groups`); unknown types are a SCIM 404.
#[derive(Debug)]
pub struct Target {
    pub kind: ResourceKind,
    /// Empty for collection routes.
    pub id: String,
}

impl FromRequestParts<AppState> for Target {
    type Rejection = ScimErrorResponse;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ScimError::NotFound(format!("no such endpoint: {e}")))?;
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let seg = get("kind").unwrap_or_default();
        let kind = match seg.as_str() {
            "Users" => ResourceKind::User,
            "Groups" => ResourceKind::Group,
            _ => return Err(ScimError::NotFound(format!("no resource type is served at /{seg}")).into()),
        };
        Ok(Target { kind, id: get("id").unwrap_or_default() })
    }
}

/// `POST /Bulk` (RFC 7644 §3.7). The body is read against the advertised `maxPayloadSize` so an oversized request is
/// a SCIM 413, not a parse error.
pub async fn bulk(
    State(s): State<AppState>,
    ScimAuth(dir): ScimAuth,
    meta: ReqMeta,
    req: axum::extract::Request,
) -> HResult {
    let limit = s.config.limits.bulk_max_payload;
    let body = axum::body::to_bytes(req.into_body(), limit).await.map_err(|_| {
        ScimError::PayloadTooLarge(format!("the bulk request exceeds maxPayloadSize ({limit} bytes, RFC 7644 §3.7.4)"))
    })?;
    let base = meta.base;
    let value = super::extract::parse_json(&body)?;
    Ok(scim_json(StatusCode::OK, &s.scim.bulk(&dir, &value, body.len(), &base).await?))
}
