//! Every check is shown able to fail. The real reference server runs once per test binary behind a small
//! fault-injecting proxy; each row of [`rows`] names a check and a fault (a request rewrite, a canned answer or a
//! response rewrite) that breaks exactly the behaviour the check is about, and the check must then fail (MUST) or
//! warn (SHOULD/MAY) with a message that says what went wrong. With no fault the proxy is transparent and every
//! check passes through it.
//!
//! Routing: the proxy serves `/f/<key>/scim/v2/...` and forwards to the server's `/scim/v2/...`. `<key>` is the
//! row's index in [`ROWS`] (or `none`), so every row has its own base URL and rows run concurrently against the
//! one server and the one proxy.

use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use idconform_harness::report::{CheckResult, Status};
use idconform_harness::runner::Profile;
use idconform_harness::{Level, Options, Target};
use idconform_server::ServerConfig;
use idconform_server::clock::SystemClock;
use serde_json::{Value, json};

const SCIM_JSON: &str = "application/scim+json";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Checks a proxy cannot break, with the reason. Keep this list empty or very short.
const NOT_PROXYABLE: &[(&str, &str)] = &[];

// ---------------------------------------------------------------------------------------------------------------
// The reference server and the proxy, started once per test binary.

pub(crate) struct Env {
    /// `http://127.0.0.1:<port>` of the proxy.
    pub(crate) proxy: String,
    /// Bearer token of the SCIM directory every row uses.
    pub(crate) token: String,
    /// Bearer token of a second directory in another workspace (tenant), for `scim.auth.other-tenant`.
    other_token: String,
}

static ENV: OnceLock<Env> = OnceLock::new();

pub(crate) fn env() -> &'static Env {
    ENV.get_or_init(|| match start() {
        Ok(env) => env,
        Err(e) => panic!("cannot start the reference server and the fault proxy: {e}"),
    })
}

struct Upstream {
    origin: String,
    client: reqwest::Client,
}

/// Starts the server and the proxy on a thread with a runtime of their own, so they outlive every test's runtime.
fn start() -> Result<Env, String> {
    in_background("faults-server", boot)
}

/// Runs `boot` on a thread with a runtime of its own that lives as long as the test binary, and returns what it
/// produced: servers started there outlive every test's runtime.
pub(crate) fn in_background<T, F>(name: &str, boot: impl FnOnce() -> F + Send + 'static) -> Result<T, String>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, String>>,
{
    let (tx, rx) = std::sync::mpsc::channel::<Result<T, String>>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            rt.block_on(async move {
                match boot().await {
                    Ok(v) => {
                        let _ = tx.send(Ok(v));
                        std::future::pending::<()>().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        })
        .map_err(|e| e.to_string())?;
    rx.recv().map_err(|e| e.to_string())?
}

/// Starts a reference server with `config` on this runtime; returns its origin and the tokens of two directories
/// in two workspaces.
pub(crate) async fn boot_server(config: ServerConfig) -> Result<(String, String, String), String> {
    let state = idconform_server::build_state(config, ":memory:", Arc::new(SystemClock))
        .map_err(|e| format!("build_state: {e}"))?;
    let (_, token) = state.scim.create_directory("faults", "faults").await.map_err(|e| e.to_string())?;
    let (_, other_token) = state.scim.create_directory("faults-other", "other").await.map_err(|e| e.to_string())?;
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let origin = format!("http://{}", server.local_addr().map_err(|e| e.to_string())?);
    tokio::spawn(async move {
        let _ = idconform_server::serve(server, state, std::future::pending()).await;
    });
    Ok((origin, token, other_token))
}

async fn boot() -> Result<Env, String> {
    let (origin, token, other_token) = boot_server(ServerConfig::default()).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| e.to_string())?;
    let upstream = Arc::new(Upstream { origin, client });
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let proxy_url = format!("http://{}", proxy.local_addr().map_err(|e| e.to_string())?);
    let app = axum::Router::new().fallback(handle).with_state(upstream);
    tokio::spawn(async move {
        let _ = axum::serve(proxy, app).await;
    });
    Ok(Env { proxy: proxy_url, token, other_token })
}

/// A request as the proxy sees it: `path` is relative to `/scim/v2`, the query is decoded.
#[derive(Clone, Debug)]
struct Req {
    method: Method,
    path: String,
    raw_query: Option<String>,
    query: Vec<(String, String)>,
    query_edited: bool,
    headers: HeaderMap,
    body: Bytes,
}

impl Req {
    fn is(&self, method: &str) -> bool {
        self.method.as_str() == method
    }

    /// A single resource under `endpoint` (`/Users/<id>`), not `/.search`.
    fn resource(&self, endpoint: &str) -> bool {
        self.path
            .strip_prefix(endpoint)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|id| !id.is_empty() && id != ".search")
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn set_param(&mut self, name: &str, value: &str) {
        self.remove_param(name);
        self.query.push((name.to_owned(), value.to_owned()));
        self.query_edited = true;
    }

    fn remove_param(&mut self, name: &str) {
        self.query.retain(|(k, _)| k != name);
        self.query_edited = true;
    }

    fn query_string(&self) -> Option<String> {
        if !self.query_edited {
            return self.raw_query.clone();
        }
        if self.query.is_empty() {
            return None;
        }
        let mut url = reqwest::Url::parse("http://x/").ok()?;
        url.query_pairs_mut().extend_pairs(self.query.iter());
        url.query().map(str::to_owned)
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn set_json(&mut self, v: &Value) {
        self.body = Bytes::from(v.to_string());
    }

    /// Edits the JSON body in place (no-op when the body is not JSON).
    fn edit(&mut self, f: impl FnOnce(&mut Value)) {
        if let Some(mut v) = self.json() {
            f(&mut v);
            self.set_json(&v);
        }
    }
}

fn decode_query(q: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = q else { return Vec::new() };
    reqwest::Url::parse(&format!("http://x/?{q}"))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

/// A response from the server, or made up by a fault.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Resp {
    fn scim(status: u16, body: &Value) -> Resp {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        Resp { status, headers, body: Bytes::from(body.to_string()) }
    }

    fn error(status: u16, scim_type: Option<&str>) -> Resp {
        let mut body = json!({"schemas": [ERROR_URN], "status": status.to_string(), "detail": "injected fault"});
        if let (Some(t), Some(o)) = (scim_type, body.as_object_mut()) {
            o.insert("scimType".into(), json!(t));
        }
        Resp::scim(status, &body)
    }

    fn empty(status: u16) -> Resp {
        Resp { status, headers: HeaderMap::new(), body: Bytes::new() }
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn edit(&mut self, f: impl FnOnce(&mut Value)) {
        if let Some(mut v) = self.json() {
            f(&mut v);
            self.body = Bytes::from(v.to_string());
        }
    }

    fn into_response(self) -> Response {
        let mut r = Response::new(Body::from(self.body));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_GATEWAY);
        let mut headers = self.headers;
        for h in [header::CONTENT_LENGTH, header::TRANSFER_ENCODING, header::CONNECTION] {
            headers.remove(h);
        }
        *r.headers_mut() = headers;
        r
    }
}

impl Upstream {
    async fn send(&self, req: &Req) -> Result<Resp, String> {
        let mut url = format!("{}/scim/v2{}", self.origin, req.path);
        if let Some(q) = req.query_string() {
            url.push('?');
            url.push_str(&q);
        }
        let mut headers = req.headers.clone();
        for h in [header::HOST, header::CONTENT_LENGTH, header::CONNECTION, header::TRANSFER_ENCODING] {
            headers.remove(h);
        }
        let r = self
            .client
            .request(req.method.clone(), url)
            .headers(headers)
            .body(req.body.clone())
            .send()
            .await
            .map_err(|e| format!("upstream: {e}"))?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.map_err(|e| format!("upstream body: {e}"))?;
        Ok(Resp { status, headers, body })
    }
}

async fn handle(State(up): State<Arc<Upstream>>, req: axum::extract::Request) -> Response {
    match forward(&up, req).await {
        Ok(r) => r,
        Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
    }
}

async fn forward(up: &Upstream, req: axum::extract::Request) -> Result<Response, String> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await.map_err(|e| e.to_string())?;
    let rest = parts.uri.path().strip_prefix("/f/").ok_or("path outside /f/<key>/")?;
    let (key, rest) = rest.split_once('/').ok_or("no fault key")?;
    let path = rest.strip_prefix("scim/v2").ok_or("not under /scim/v2")?.to_owned();
    let fault = if key == "none" {
        &NO_FAULT
    } else if key == "throttle" {
        &*THROTTLE
    } else if key == "dropadds" {
        &*DROP_ADDS
    } else if key == "swcase" {
        &*SW_CASE
    } else if key == "mvappend" {
        &*MV_APPEND
    } else if let Some(i) = key.strip_prefix('r') {
        i.parse::<usize>().ok().and_then(|i| REPLAY_ROWS.get(i)).map(|r| &r.fault).ok_or("unknown replay fault key")?
    } else {
        key.parse::<usize>().ok().and_then(|i| ROWS.get(i)).map(|r| &r.fault).ok_or("unknown fault key")?
    };
    let raw_query = parts.uri.query().map(str::to_owned);
    let mut req = Req {
        method: parts.method,
        path,
        query: decode_query(raw_query.as_deref()),
        raw_query,
        query_edited: false,
        headers: parts.headers,
        body,
    };
    if let Some(before) = &fault.before {
        for extra in before(&req) {
            up.send(&extra).await?;
        }
    }
    let canned = fault.request.as_ref().and_then(|f| f(&mut req));
    let mut resp = match canned {
        Some(r) => r,
        None => up.send(&req).await?,
    };
    if let Some(f) = &fault.response {
        f(&req, &mut resp);
    }
    Ok(resp.into_response())
}

// ---------------------------------------------------------------------------------------------------------------
// Faults.

type BeforeFn = Box<dyn Fn(&Req) -> Vec<Req> + Send + Sync>;
type RequestFn = Box<dyn Fn(&mut Req) -> Option<Resp> + Send + Sync>;
type ResponseFn = Box<dyn Fn(&Req, &mut Resp) + Send + Sync>;

/// What the proxy does wrong: extra requests sent first, a request rewrite that may answer by itself, and a
/// response rewrite.
struct Fault {
    before: Option<BeforeFn>,
    request: Option<RequestFn>,
    response: Option<ResponseFn>,
}

static NO_FAULT: Fault = Fault { before: None, request: None, response: None };

impl Fault {
    fn and_response(mut self, f: impl Fn(&Req, &mut Resp) + Send + Sync + 'static) -> Fault {
        self.response = Some(Box::new(f));
        self
    }
}

/// Rewrites the request before forwarding.
fn rewrite(f: impl Fn(&mut Req) + Send + Sync + 'static) -> Fault {
    Fault {
        before: None,
        request: Some(Box::new(move |r| {
            f(r);
            None
        })),
        response: None,
    }
}

/// Answers by itself, without forwarding, when `when` holds.
fn answer(
    when: impl Fn(&Req) -> bool + Send + Sync + 'static,
    with: impl Fn(&Req) -> Resp + Send + Sync + 'static,
) -> Fault {
    Fault { before: None, request: Some(Box::new(move |r| when(r).then(|| with(r)))), response: None }
}

/// Rewrites the response.
fn respond(f: impl Fn(&Req, &mut Resp) + Send + Sync + 'static) -> Fault {
    Fault { before: None, request: None, response: Some(Box::new(f)) }
}

/// Edits JSON response bodies of requests matching `when`.
fn edit_body(
    when: impl Fn(&Req, &Resp) -> bool + Send + Sync + 'static,
    f: impl Fn(&mut Value) + Send + Sync + 'static,
) -> Fault {
    respond(move |req, resp| {
        if when(req, resp) {
            resp.edit(&f);
        }
    })
}

/// Rewrites the `filter` query parameter.
fn filter(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Fault {
    rewrite(move |r| {
        if let Some(old) = r.param("filter").map(str::to_owned) {
            r.set_param("filter", &f(&old));
        }
    })
}

/// Edits the Operations of PATCH requests.
fn patch_ops(f: impl Fn(&mut Vec<Value>) + Send + Sync + 'static) -> Fault {
    rewrite(move |r| {
        if r.is("PATCH") {
            r.edit(|v| {
                if let Some(ops) = v.get_mut("Operations").and_then(Value::as_array_mut) {
                    f(ops);
                }
            });
        }
    })
}

fn patch_has_op(r: &Req, pred: impl Fn(&Value) -> bool) -> bool {
    r.is("PATCH")
        && r.json().and_then(|v| v.get("Operations").and_then(Value::as_array).map(|a| a.iter().any(&pred)))
            == Some(true)
}

/// Answers 204 to a PATCH with an operation matching `pred`, without applying anything.
fn patch_ignored(pred: impl Fn(&Value) -> bool + Send + Sync + 'static) -> Fault {
    answer(move |r| patch_has_op(r, &pred), |_| Resp::empty(204))
}

fn op_is(op: &Value, name: &str, path: Option<&str>) -> bool {
    op.get("op").and_then(Value::as_str).is_some_and(|o| o.eq_ignore_ascii_case(name))
        && op.get("path").and_then(Value::as_str) == path
}

/// Replaces `scimType` `from` with `to` (removes it when `to` is `None`) in error bodies.
fn scim_type(from: &'static str, to: Option<&'static str>) -> Fault {
    edit_body(
        |_, resp| resp.status >= 400,
        move |v| {
            if let Some(o) = v.as_object_mut()
                && o.get("scimType").and_then(Value::as_str) == Some(from)
            {
                match to {
                    Some(t) => o.insert("scimType".into(), json!(t)),
                    None => o.remove("scimType"),
                };
            }
        },
    )
}

/// Changes a response status.
fn status(method: &'static str, path: &'static str, from: u16, to: u16) -> Fault {
    respond(move |req, resp| {
        if req.is(method) && req.path.starts_with(path) && resp.status == from {
            resp.status = to;
        }
    })
}

fn is_list(v: &Value) -> bool {
    v.get("totalResults").is_some()
}

fn resources_mut(v: &mut Value) -> Option<&mut Vec<Value>> {
    v.get_mut("Resources").and_then(Value::as_array_mut)
}

/// Removes `key` from the body and from every resource of a ListResponse.
fn strip_everywhere(v: &mut Value, key: &str) {
    if let Some(o) = v.as_object_mut() {
        o.remove(key);
    }
    if let Some(rs) = resources_mut(v) {
        for r in rs {
            if let Some(o) = r.as_object_mut() {
                o.remove(key);
            }
        }
    }
}

/// Sets the bearer token of the directory, whatever the client sent (a target that does not authenticate).
fn accept_any_token(r: &mut Req) {
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {}", env().token)) {
        r.headers.insert(header::AUTHORIZATION, v);
    }
}

/// Replaces the other tenant's token with the directory's own (a target that does not isolate its tenants).
fn other_tenant_sees_all(r: &mut Req) {
    let other = format!("Bearer {}", env().other_token);
    if r.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(other.as_str()) {
        accept_any_token(r);
    }
}

/// The first `[…]` value filter in `s`, with its brackets.
fn bracketed(s: &str, attr: &str) -> Option<String> {
    let start = s.find(&format!("{attr}["))?;
    let end = s[start..].find(']')? + start;
    Some(s[start..=end].to_owned())
}

fn uppercase_user_name(r: &Req) -> bool {
    r.json()
        .and_then(|v| v.get("userName").and_then(Value::as_str).map(str::to_owned))
        .is_some_and(|n| n.chars().any(|c| c.is_ascii_alphabetic()) && !n.chars().any(|c| c.is_ascii_lowercase()))
}

fn etag_constant(resp: &mut Resp) {
    resp.headers.insert(header::ETAG, HeaderValue::from_static("W/\"idconform-constant\""));
    resp.edit(|v| {
        if let Some(m) = v.get_mut("meta").and_then(Value::as_object_mut) {
            m.insert("version".into(), json!("W/\"idconform-constant\""));
        }
    });
}

// ---------------------------------------------------------------------------------------------------------------
// The table.

struct Row {
    check: &'static str,
    /// A fragment the failure message must contain.
    expect: &'static str,
    fault: Fault,
}

fn row(check: &'static str, expect: &'static str, fault: Fault) -> Row {
    Row { check, expect, fault }
}

static ROWS: LazyLock<Vec<Row>> = LazyLock::new(rows);

fn rows() -> Vec<Row> {
    vec![
        // IdP request shapes: a server that follows the RFC to the letter refuses them.
        row(
            "scim.entra.capitalised-op",
            "to succeed",
            answer(
                |r| r.is("PATCH") && r.json().is_some_and(|v| v.to_string().contains("\"op\":\"Replace\"")),
                |_| Resp::error(400, Some("invalidSyntax")),
            ),
        ),
        row(
            "scim.okta.pathless-active",
            "active false",
            // The server accepts the path-less replace but ignores it.
            answer(
                |r| r.is("PATCH") && r.json().is_some_and(|v| v["Operations"][0].get("path").is_none()),
                |_| Resp::scim(204, &Value::Null),
            ),
        ),
        // Discovery: the documents are rewritten on their way out.
        row(
            "scim.discovery.spc-valid",
            "patch.supported as a JSON boolean",
            edit_body(|r, _| r.path == "/ServiceProviderConfig", |v| v["patch"]["supported"] = json!("true")),
        ),
        row(
            "scim.discovery.spc-limits",
            "filter.maxResults as a non-negative integer",
            edit_body(|r, _| r.path == "/ServiceProviderConfig", |v| v["filter"]["maxResults"] = json!("100")),
        ),
        row(
            "scim.discovery.resource-types",
            "a ResourceType Group with endpoint /Groups",
            edit_body(
                |r, _| r.path == "/ResourceTypes",
                |v| {
                    if let Some(rs) = resources_mut(v) {
                        rs.retain(|rt| rt.get("endpoint") != Some(&json!("/Groups")));
                    }
                },
            ),
        ),
        row(
            "scim.discovery.endpoints-exist",
            "GET /Groups (advertised in /ResourceTypes) answers 200",
            answer(|r| r.is("GET") && r.path == "/Groups", |_| Resp::error(404, None)),
        ),
        row(
            "scim.discovery.schemas-valid",
            "\"type\" as one of",
            edit_body(|r, _| r.path == "/Schemas", |v| v["Resources"][0]["attributes"][0]["type"] = json!("text")),
        ),
        row(
            "scim.discovery.schemas-consistent",
            "listed in /Schemas",
            edit_body(
                |r, _| r.path == "/Schemas",
                |v| {
                    if let Some(rs) = resources_mut(v) {
                        rs.retain(|s| s.get("id") != Some(&json!(GROUP_URN)));
                    }
                },
            ),
        ),
        row(
            "scim.discovery.schema-by-id",
            "answers 200",
            answer(|r| r.is("GET") && r.path.starts_with("/Schemas/"), |_| Resp::error(404, None)),
        ),
        row(
            "scim.discovery.user-schema",
            "userName with uniqueness = \"server\"",
            edit_body(
                |r, _| r.path == "/Schemas",
                |v| {
                    for s in resources_mut(v).into_iter().flatten() {
                        if s.get("id") == Some(&json!(USER_URN)) {
                            for a in s.get_mut("attributes").and_then(Value::as_array_mut).into_iter().flatten() {
                                if a.get("name") == Some(&json!("userName")) {
                                    a["uniqueness"] = json!("none");
                                }
                            }
                        }
                    }
                },
            ),
        ),
        row(
            "scim.discovery.no-auth",
            "without a token answers 200",
            answer(
                |r| r.path == "/ServiceProviderConfig" && !r.headers.contains_key(header::AUTHORIZATION),
                |_| Resp::error(401, None),
            ),
        ),
        // Authentication.
        row("scim.auth.missing-token", "is refused (HTTP 401)", rewrite(accept_any_token)),
        row("scim.auth.wrong-token", "is refused (HTTP 401)", rewrite(accept_any_token)),
        row(
            "scim.auth.www-authenticate",
            "no WWW-Authenticate header",
            respond(|_, resp| {
                resp.headers.remove(header::WWW_AUTHENTICATE);
            }),
        ),
        row(
            "scim.auth.content-type",
            "Content-Type: application/json",
            respond(|_, resp| {
                if resp.headers.contains_key(header::CONTENT_TYPE) {
                    resp.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                }
            }),
        ),
        row("scim.auth.other-tenant", "with the other tenant's token refused", rewrite(other_tenant_sees_all)),
        // CRUD.
        row("scim.crud.create-user", "POST /Users answers 201 Created", status("POST", "/Users", 201, 200)),
        row(
            "scim.crud.location-header",
            "no Location header",
            respond(|_, resp| {
                resp.headers.remove(header::LOCATION);
            }),
        ),
        row(
            "scim.crud.meta",
            "meta.created as an xsd:dateTime",
            edit_body(
                |_, _| true,
                |v| {
                    if let Some(m) = v.get_mut("meta").and_then(Value::as_object_mut) {
                        m.remove("created");
                    }
                },
            ),
        ),
        row(
            "scim.crud.get-user",
            "displayName \"Get Me\" as created",
            edit_body(
                |r, _| r.is("GET") && r.resource("/Users"),
                |v| {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("displayName");
                    }
                },
            ),
        ),
        row(
            "scim.crud.get-unknown",
            "HTTP 404",
            respond(|req, resp| {
                if req.is("GET") && req.resource("/Users") && resp.status == 404 {
                    *resp = Resp::empty(200);
                }
            }),
        ),
        row(
            "scim.crud.put-replaces",
            "nickName and title cleared",
            // PUT handled like PATCH: attributes left out are kept.
            rewrite(|r| {
                if r.is("PUT")
                    && let Some(mut v) = r.json()
                {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("schemas");
                    }
                    r.method = Method::PATCH;
                    r.set_json(&json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": v}]}));
                }
            }),
        ),
        row(
            "scim.crud.put-readonly-ignored",
            "PUT with a foreign id value answers 200",
            answer(
                |r| r.is("PUT") && r.json().is_some_and(|v| v.get("id").is_some()),
                |_| Resp::error(400, Some("mutability")),
            ),
        ),
        row(
            "scim.crud.delete-user",
            "GET of the deleted resource answers 404",
            answer(|r| r.is("DELETE"), |_| Resp::empty(204)),
        ),
        row("scim.crud.delete-omitted", "after the delete", answer(|r| r.is("DELETE"), |_| Resp::empty(204))),
        row(
            "scim.crud.client-id-ignored",
            "an id issued by the service provider",
            respond(|req, resp| {
                let chosen = req.json().and_then(|v| v.get("id").cloned());
                if let (true, Some(id)) = (req.is("POST") && req.path == "/Users", chosen) {
                    resp.edit(|v| v["id"] = id);
                }
            }),
        ),
        row(
            "scim.crud.password-never-returned",
            "no password in the create response",
            respond(|req, resp| {
                let pw = req.json().and_then(|v| v.get("password").cloned());
                if let (true, Some(pw)) = (req.is("POST") && req.path == "/Users", pw) {
                    resp.edit(|v| v["password"] = pw);
                }
            }),
        ),
        row(
            "scim.crud.case-insensitive-names",
            "displayName stored from \"DisplayName\"",
            // Only exactly-cased attribute names are understood (the two needed to create a user are let through).
            rewrite(|r| {
                if r.is("POST") && r.path == "/Users" {
                    r.edit(|v| {
                        let Some(o) = v.as_object_mut() else { return };
                        let entries: Vec<(String, Value)> = std::mem::take(o).into_iter().collect();
                        for (k, val) in entries {
                            match k.to_ascii_lowercase().as_str() {
                                "schemas" => o.insert("schemas".into(), val),
                                "username" => o.insert("userName".into(), val),
                                _ if k.starts_with(|c: char| c.is_ascii_uppercase()) => None,
                                _ => o.insert(k, val),
                            };
                        }
                    });
                }
            }),
        ),
        row(
            "scim.crud.group-lifecycle",
            "displayName replaced",
            // PUT /Groups answered 200 but not applied.
            answer(|r| r.is("PUT") && r.resource("/Groups"), |r| Resp::scim(200, &r.json().unwrap_or(Value::Null))),
        ),
        row(
            "scim.crud.unknown-attribute",
            "not returned by GET",
            // The server makes up an attribute no schema defines.
            edit_body(
                |r, resp| r.is("GET") && r.resource("/Users") && resp.status == 200,
                |v| {
                    if let Some(o) = v.as_object_mut() {
                        o.insert("idconformUnknownInjected".into(), json!("made up"));
                    }
                },
            ),
        ),
        row(
            "scim.crud.immutable",
            "members.value unchanged",
            // Replacing the immutable members.value really swaps the member: remove A, add B.
            patch_ops(|ops| {
                let mut out = Vec::new();
                for op in ops.drain(..) {
                    let path = op.get("path").and_then(Value::as_str).unwrap_or_default().to_owned();
                    match path
                        .strip_suffix(".value")
                        .filter(|p| p.starts_with("members[") && op_is(&op, "replace", Some(&path)))
                    {
                        Some(member) => {
                            out.push(json!({"op": "remove", "path": member}));
                            out.push(json!({"op": "add", "path": "members", "value": [{"value": op["value"]}]}));
                        }
                        None => out.push(op),
                    }
                }
                *ops = out;
            })
            .and_response(|req, resp| {
                if req.is("PATCH") && resp.status == 200 {
                    *resp = Resp::empty(204);
                }
            }),
        ),
        // Errors.
        row("scim.errors.uniqueness", "HTTP 409 with scimType \"uniqueness\"", status("POST", "/Users", 409, 201)),
        row(
            "scim.errors.uniqueness-case-insensitive",
            "the same userName in upper case: HTTP 409",
            // userName uniqueness is case-sensitive: an upper-case duplicate becomes a distinct user.
            rewrite(|r| {
                if r.is("POST") && r.path == "/Users" && uppercase_user_name(r) {
                    r.edit(|v| {
                        let n = v["userName"].as_str().unwrap_or_default().to_owned();
                        v["userName"] = json!(format!("{n}-CASE-SENSITIVE"));
                    });
                }
            }),
        ),
        row("scim.errors.required-missing", "no scimType", scim_type("invalidValue", None)),
        row(
            "scim.errors.invalid-syntax",
            "scimType \"invalidValue\"",
            scim_type("invalidSyntax", Some("invalidValue")),
        ),
        row(
            "scim.errors.status-string",
            "(a JSON string)",
            edit_body(
                |_, resp| resp.status >= 400,
                |v| {
                    let n = v.get("status").and_then(Value::as_str).and_then(|s| s.parse::<u64>().ok());
                    if let Some(n) = n {
                        v["status"] = json!(n);
                    }
                },
            ),
        ),
        row(
            "scim.errors.error-schema",
            "in the error body of",
            edit_body(
                |_, resp| resp.status >= 400,
                |v| {
                    if let Some(o) = v.as_object_mut() {
                        o.remove("schemas");
                    }
                },
            ),
        ),
        // Filters: the filter is rewritten into what a broken implementation evaluates.
        row("scim.filter.eq", "to match exactly [\"beta\"]", filter(|f| f.replace(" eq ", " ne "))),
        row("scim.filter.ne", "to match exactly [\"alpha\", \"gamma\"]", filter(|f| f.replace(" ne ", " eq "))),
        row("scim.filter.co", "to match exactly [\"beta\"]", filter(|f| f.replace(" co ", " sw "))),
        row("scim.filter.sw", "to match exactly [\"gamma\"]", filter(|f| f.replace(" sw ", " eq "))),
        row("scim.filter.ew", "to match exactly [\"gamma\"]", filter(|f| f.replace(" ew ", " sw "))),
        row(
            "scim.filter.pr",
            "to match exactly [\"alpha\", \"beta\"]",
            filter(|f| f.replace("title pr", "userName pr")),
        ),
        row("scim.filter.gt", "to match exactly [\"gamma\"]", filter(|f| f.replace(" gt ", " ge "))),
        row("scim.filter.ge", "to match exactly [\"beta\", \"gamma\"]", filter(|f| f.replace(" ge ", " gt "))),
        row("scim.filter.lt", "to match exactly [\"alpha\"]", filter(|f| f.replace(" lt ", " le "))),
        row("scim.filter.le", "to match exactly [\"alpha\", \"beta\"]", filter(|f| f.replace(" le ", " lt "))),
        row("scim.filter.and-or", "to match exactly [\"alpha\", \"gamma\"]", filter(|f| f.replace(" or ", " and "))),
        row("scim.filter.not", "to match exactly [\"beta\", \"gamma\"]", filter(|f| f.replace("not (", "("))),
        row(
            "scim.filter.precedence",
            "to match exactly [\"gamma\"]",
            // Evaluated left to right: "a or b and c" as "(a or b) and c".
            filter(|f| match f.rfind(" and ") {
                Some(i) if f.contains(" or ") && !f.contains('(') => format!("({}){}", &f[..i], &f[i..]),
                _ => f.to_owned(),
            }),
        ),
        row("scim.filter.grouping", "to match exactly [\"beta\"]", filter(|f| f.replace(['(', ')'], ""))),
        row(
            "scim.filter.value-path",
            "to match exactly [\"alpha\"]",
            // The value filter is ignored: emails[…] matches any user with emails.
            filter(|f| match bracketed(f, "emails") {
                Some(b) => f.replace(&b, "emails pr"),
                None => f.to_owned(),
            }),
        ),
        row(
            "scim.filter.multi-valued",
            "to match exactly [\"alpha\"]",
            // Only the first (work) email is compared.
            filter(|f| {
                f.replace(
                    "emails.value eq \"alpha@home.example\"",
                    "emails[type eq \"work\" and value eq \"alpha@home.example\"]",
                )
            }),
        ),
        row(
            "scim.filter.sub-attribute",
            "to match exactly [\"beta\"]",
            filter(|f| f.replace("name.familyName", "name.givenName")),
        ),
        row(
            "scim.filter.urn-qualified",
            "a 200 ListResponse",
            answer(
                |r| r.param("filter").is_some_and(|f| f.contains("urn:")),
                |_| Resp::error(400, Some("invalidFilter")),
            ),
        ),
        row(
            "scim.filter.datetime",
            "to match exactly []",
            // The dateTime comparison is ignored.
            filter(|f| match f.find(" and meta.lastModified gt ") {
                Some(i) => format!("{} and meta.lastModified pr", &f[..i]),
                None => f.to_owned(),
            }),
        ),
        row(
            "scim.filter.case-insensitive-names",
            "a 200 ListResponse",
            answer(
                |r| r.param("filter").is_some_and(|f| f.contains("USERNAME") || f.contains(" EQ ")),
                |_| Resp::error(400, Some("invalidFilter")),
            ),
        ),
        row(
            "scim.filter.case-exact",
            "to match exactly [\"alpha\"]",
            // userName compared case-sensitively: an upper-case value matches nothing.
            filter(|f| {
                if f.chars().any(|c| c.is_ascii_uppercase()) {
                    format!("({f}) and userName eq \"idconform-case-sensitive\"")
                } else {
                    f.to_owned()
                }
            }),
        ),
        row(
            "scim.filter.invalid",
            "HTTP 400 with scimType \"invalidFilter\"",
            rewrite(|r| {
                if r.param("filter").is_some() {
                    r.remove_param("filter");
                }
            }),
        ),
        row(
            "scim.filter.unknown-operator",
            "scimType \"invalidValue\"",
            scim_type("invalidFilter", Some("invalidValue")),
        ),
        // Pagination.
        row(
            "scim.pagination.list-response",
            "ListResponse\"]",
            edit_body(
                |_, _| true,
                |v| {
                    if is_list(v)
                        && let Some(o) = v.as_object_mut()
                    {
                        o.remove("schemas");
                    }
                },
            ),
        ),
        row(
            "scim.pagination.start-count",
            "2 resources for count=2",
            rewrite(|r| {
                if r.param("startIndex").is_some() || r.param("count").is_some() {
                    r.remove_param("startIndex");
                    r.remove_param("count");
                }
            }),
        ),
        row(
            "scim.pagination.no-repeats",
            "exactly once",
            // startIndex treated as 0-based.
            rewrite(|r| {
                if let Some(n) = r.param("startIndex").and_then(|s| s.parse::<u64>().ok()) {
                    r.set_param("startIndex", &(n + 1).to_string());
                }
            }),
        ),
        row(
            "scim.pagination.count-zero",
            "no resources for count=0",
            rewrite(|r| {
                if r.param("count") == Some("0") {
                    r.remove_param("count");
                }
            }),
        ),
        row(
            "scim.pagination.start-below-one",
            "startIndex=0 accepted",
            answer(|r| r.param("startIndex") == Some("0"), |_| Resp::error(400, Some("invalidValue"))),
        ),
        row(
            "scim.pagination.cursor",
            "exactly once",
            edit_body(
                |_, _| true,
                |v| {
                    if is_list(v)
                        && let Some(o) = v.as_object_mut()
                    {
                        o.remove("nextCursor");
                    }
                },
            ),
        ),
        // Sorting.
        row(
            "scim.sort.ascending",
            "users a, b, c in that order",
            edit_body(
                |r, _| r.param("sortBy").is_some(),
                |v| {
                    if let Some(rs) = resources_mut(v) {
                        rs.reverse();
                    }
                },
            ),
        ),
        row(
            "scim.sort.descending",
            "users c, b, a in that order",
            rewrite(|r| {
                if r.param("sortOrder").is_some() {
                    r.remove_param("sortOrder");
                }
            }),
        ),
        row(
            "scim.sort.default-ascending",
            "users a, b, c in that order",
            rewrite(|r| {
                if r.param("sortBy").is_some() && r.param("sortOrder").is_none() {
                    r.set_param("sortOrder", "descending");
                }
            }),
        ),
        // Projection.
        row(
            "scim.projection.attributes",
            "displayName and emails left out",
            rewrite(|r| {
                if r.param("attributes").is_some() {
                    r.remove_param("attributes");
                }
            }),
        ),
        row(
            "scim.projection.excluded",
            "emails left out",
            rewrite(|r| {
                if r.param("excludedAttributes").is_some() {
                    r.remove_param("excludedAttributes");
                }
            }),
        ),
        row(
            "scim.projection.always-returned",
            "id still returned",
            edit_body(
                |r, _| r.param("excludedAttributes").is_some_and(|a| a.split(',').any(|a| a.trim() == "id")),
                |v| strip_everywhere(v, "id"),
            ),
        ),
        row(
            "scim.projection.list-attributes",
            "emails left out",
            rewrite(|r| {
                if r.param("attributes").is_some() {
                    r.remove_param("attributes");
                }
            }),
        ),
        // Search.
        row(
            "scim.search.post",
            "exactly the user",
            // The SearchRequest's filter is evaluated as its negation (deterministic whatever else exists).
            rewrite(|r| {
                if r.is("POST") && r.path.ends_with("/.search") {
                    r.edit(|v| {
                        if let Some(f) = v.get("filter").and_then(Value::as_str).map(str::to_owned) {
                            v["filter"] = json!(format!("not ({f})"));
                        }
                    });
                }
            }),
        ),
        row(
            "scim.search.attributes",
            "title left out",
            rewrite(|r| {
                if r.is("POST") && r.path.ends_with("/.search") {
                    r.edit(|v| {
                        if let Some(o) = v.as_object_mut() {
                            o.remove("attributes");
                        }
                    });
                }
            }),
        ),
        row(
            "scim.search.root",
            "POST /.search answers 200",
            answer(|r| r.is("POST") && r.path == "/.search", |_| Resp::error(404, None)),
        ),
        // PATCH.
        row(
            "scim.patch.add-no-path",
            "nickName \"Added\" and title \"Patched\"",
            // Only the first attribute of the value object is merged.
            patch_ops(|ops| {
                for op in ops.iter_mut().filter(|o| op_is(o, "add", None)) {
                    if let Some(val) = op.get_mut("value").and_then(Value::as_object_mut) {
                        let first = val.keys().next().cloned();
                        val.retain(|k, _| Some(k) == first.as_ref());
                    }
                }
            }),
        ),
        row("scim.patch.add-single", "displayName \"New\"", patch_ignored(|op| op_is(op, "add", Some("displayName")))),
        row(
            "scim.patch.add-multi",
            "both emails",
            // add to a multi-valued attribute replaces it.
            patch_ops(|ops| {
                for op in ops.iter_mut().filter(|o| op_is(o, "add", Some("emails"))) {
                    op["op"] = json!("replace");
                }
            }),
        ),
        row(
            "scim.patch.replace-simple",
            "displayName \"Replaced\"",
            patch_ignored(|op| op_is(op, "replace", Some("displayName"))),
        ),
        row(
            "scim.patch.replace-sub-attribute",
            "name.givenName untouched",
            // A sub-attribute path replaces the whole complex attribute.
            patch_ops(|ops| {
                let mut out = Vec::new();
                for op in ops.drain(..) {
                    if op_is(&op, "replace", Some("name.familyName")) {
                        out.push(json!({"op": "remove", "path": "name"}));
                        out.push(json!({"op": "add", "path": "name", "value": {"familyName": op["value"]}}));
                    } else {
                        out.push(op);
                    }
                }
                *ops = out;
            }),
        ),
        row(
            "scim.patch.replace-value-path",
            "home email untouched",
            // The value filter is ignored: every email is replaced.
            patch_ops(|ops| {
                for op in ops.iter_mut() {
                    if op.get("path").and_then(Value::as_str) == Some("emails[type eq \"work\"].value") {
                        op["path"] = json!("emails[type pr].value");
                    }
                }
            }),
        ),
        row("scim.patch.replace-no-path", "active false", patch_ignored(|op| op_is(op, "replace", None))),
        row(
            "scim.patch.urn-path",
            "to succeed (200 or 204)",
            answer(
                |r| patch_has_op(r, |op| op.get("path").and_then(Value::as_str).is_some_and(|p| p.starts_with("urn:"))),
                |_| Resp::error(400, Some("invalidPath")),
            ),
        ),
        row(
            "scim.patch.remove-simple",
            "nickName unassigned",
            patch_ignored(|op| op_is(op, "remove", Some("nickName"))),
        ),
        row(
            "scim.patch.remove-value-path",
            "only the work email left",
            // The value filter is ignored: every email is removed.
            patch_ops(|ops| {
                for op in ops.iter_mut() {
                    if op.get("path").and_then(Value::as_str).is_some_and(|p| p.starts_with("emails[")) {
                        op["path"] = json!("emails");
                    }
                }
            }),
        ),
        row(
            "scim.patch.remove-no-path",
            "HTTP 400 with scimType \"noTarget\"",
            patch_ignored(|op| op_is(op, "remove", None)),
        ),
        row("scim.patch.no-target-filter", "scimType \"invalidPath\"", scim_type("noTarget", Some("invalidPath"))),
        row(
            "scim.patch.atomic",
            "still \"Original\"",
            // Operations applied one by one: the first is applied before the second fails.
            Fault {
                before: Some(Box::new(|r| {
                    let mut first = r.clone();
                    if !r.is("PATCH") {
                        return Vec::new();
                    }
                    first.edit(|v| {
                        if let Some(ops) = v.get_mut("Operations").and_then(Value::as_array_mut) {
                            ops.truncate(1);
                        }
                    });
                    vec![first]
                })),
                request: None,
                response: None,
            },
        ),
        row(
            "scim.patch.mutability",
            "HTTP 400 with scimType \"mutability\"",
            patch_ignored(|op| op_is(op, "replace", Some("id"))),
        ),
        row(
            "scim.patch.response",
            "200 with the entire, updated resource",
            respond(|req, resp| {
                if req.is("PATCH") && (resp.status == 200 || resp.status == 204) {
                    *resp = Resp::scim(200, &json!({}));
                }
            }),
        ),
        // ETags.
        row(
            "scim.etag.header",
            "meta.version equal to the ETag header",
            edit_body(
                |r, _| r.is("GET"),
                |v| {
                    if let Some(m) = v.get_mut("meta").and_then(Value::as_object_mut) {
                        m.insert("version".into(), json!("W/\"idconform-other\""));
                    }
                },
            ),
        ),
        row(
            "scim.etag.if-none-match",
            "304 Not Modified",
            rewrite(|r| {
                r.headers.remove(header::IF_NONE_MATCH);
            }),
        ),
        row(
            "scim.etag.if-match-stale",
            "412 Precondition Failed",
            rewrite(|r| {
                r.headers.remove(header::IF_MATCH);
            }),
        ),
        row(
            "scim.etag.if-match-current",
            "a new ETag after the change",
            // The ETag never changes (and If-Match is not evaluated).
            rewrite(|r| {
                r.headers.remove(header::IF_MATCH);
            })
            .and_response(|_, resp| etag_constant(resp)),
        ),
        // Bulk.
        row(
            "scim.bulk.bulk-id",
            "members",
            // The bulkId reference is dropped instead of resolved.
            rewrite(|r| {
                if r.is("POST") && r.path == "/Bulk" {
                    r.edit(|v| {
                        for op in v.get_mut("Operations").and_then(Value::as_array_mut).into_iter().flatten() {
                            if let Some(d) = op.get_mut("data").and_then(Value::as_object_mut) {
                                d.remove("members");
                            }
                        }
                    });
                }
            }),
        ),
        row(
            "scim.bulk.continue-on-error",
            "a result for both operations",
            rewrite(|r| {
                if r.is("POST") && r.path == "/Bulk" {
                    r.edit(|v| {
                        if v.get("failOnErrors").is_none() {
                            v["failOnErrors"] = json!(1);
                        }
                    });
                }
            }),
        ),
        row(
            "scim.bulk.fail-on-errors",
            "not performed",
            rewrite(|r| {
                if r.is("POST") && r.path == "/Bulk" {
                    r.edit(|v| {
                        if let Some(o) = v.as_object_mut() {
                            o.remove("failOnErrors");
                        }
                    });
                }
            }),
        ),
        row("scim.bulk.max-operations", "HTTP 413", status("POST", "/Bulk", 413, 200)),
        row("scim.bulk.max-payload", "HTTP 413", status("POST", "/Bulk", 413, 200)),
        // Groups.
        row("scim.groups.display-name-required", "no scimType", scim_type("invalidValue", None)),
        row(
            "scim.groups.members-reflected",
            "the user's groups to contain",
            edit_body(|_, _| true, |v| strip_everywhere(v, "groups")),
        ),
        row(
            "scim.groups.patch-add-member",
            "members [",
            // add members replaces them.
            patch_ops(|ops| {
                for op in ops.iter_mut().filter(|o| op_is(o, "add", Some("members"))) {
                    op["op"] = json!("replace");
                }
            }),
        ),
        row(
            "scim.groups.patch-remove-member",
            "members exactly",
            // The value filter is ignored: every member is removed.
            patch_ops(|ops| {
                for op in ops.iter_mut() {
                    if op.get("path").and_then(Value::as_str).is_some_and(|p| p.starts_with("members[")) {
                        op["path"] = json!("members");
                    }
                }
            }),
        ),
        row(
            "scim.groups.filter-display-name",
            "exactly the group",
            filter(|f| f.replace("displayName eq ", "displayName ne ")),
        ),
        // /Me.
        row("scim.me.get", "GET /Me to answer 200", answer(|r| r.path == "/Me", |_| Resp::error(404, None))),
    ]
}

// ---------------------------------------------------------------------------------------------------------------
// Running checks through the proxy.

pub(crate) fn target(key: &str) -> Target {
    let env = env();
    let mut t =
        Target::new(&format!("{}/f/{key}/scim/v2", env.proxy), Some(env.token.clone())).expect("a valid target URL");
    t.other_token = Some(env.other_token.clone());
    t
}

async fn run(key: String, only: Vec<String>, profile: Profile) -> Vec<CheckResult> {
    let opts = Options { only, profile, timeout: Duration::from_secs(20), ..Options::default() };
    let checks = idconform_harness::suites::all();
    let report = idconform_harness::run(&target(&key), &checks, &opts, &|_| {}).await.expect("the proxy is reachable");
    report.results
}

fn level_of(id: &str) -> Option<Level> {
    idconform_harness::suites::all().into_iter().find(|c| c.id == id).map(|c| c.level)
}

/// The profile a check is judged under: IdP request shapes (tag `idp`) only run under their IdP's profile.
fn profile_of(id: &str) -> Profile {
    let tags = idconform_harness::suites::all().into_iter().find(|c| c.id == id).map(|c| c.tags).unwrap_or_default();
    match (tags.contains(&"idp"), tags.contains(&"entra")) {
        (false, _) => Profile::Rfc,
        (true, true) => Profile::Entra,
        (true, false) => Profile::Okta,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_fault_the_proxy_is_transparent() {
    let mut results = Vec::new();
    for profile in [Profile::Rfc, Profile::Entra, Profile::Okta] {
        results.extend(run("none".into(), Vec::new(), profile).await);
    }
    let ran: std::collections::HashSet<&str> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ran.len(), idconform_harness::suites::all().len(), "every check runs under some profile");
    let bad: Vec<String> = results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .map(|r| format!("{} {:?}: {}", r.id, r.status, r.message))
        .collect();
    assert!(bad.is_empty(), "checks that do not pass through the transparent proxy:\n{}", bad.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_fails_against_its_fault() {
    let mut set = tokio::task::JoinSet::new();
    for (i, row) in ROWS.iter().enumerate() {
        let check = row.check;
        set.spawn(async move { (i, run(i.to_string(), vec![check.to_owned()], profile_of(check)).await) });
    }
    let mut problems = Vec::new();
    while let Some(joined) = set.join_next().await {
        let (i, results) = joined.expect("a row's run does not panic");
        let row = &ROWS[i];
        let Some(level) = idconform_harness::suites::all()
            .into_iter()
            .find(|c| c.id == row.check)
            .and_then(|c| profile_of(row.check).level_of(&c))
        else {
            problems.push(format!("row {i}: no check {} under its profile", row.check));
            continue;
        };
        let want = if level == Level::Must { Status::Fail } else { Status::Warn };
        let Some(r) = results.iter().find(|r| r.id == row.check) else {
            problems.push(format!("{}: not run", row.check));
            continue;
        };
        if r.status != want || !r.message.contains(row.expect) {
            problems.push(format!(
                "{}: expected {want:?} mentioning {:?}; got {:?}: {}",
                row.check, row.expect, r.status, r.message
            ));
        }
    }
    assert!(problems.is_empty(), "{} rows did not fail as expected:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn every_check_has_a_fault() {
    let covered: Vec<&str> = ROWS.iter().map(|r| r.check).chain(NOT_PROXYABLE.iter().map(|(id, _)| *id)).collect();
    let checks = idconform_harness::suites::all();
    let missing_must: Vec<&str> =
        checks.iter().filter(|c| c.level == Level::Must && !covered.contains(&c.id)).map(|c| c.id).collect();
    assert!(missing_must.is_empty(), "MUST checks without a fault row: {missing_must:?}");
    // SHOULD and MAY: at least one row per section.
    let missing_family: Vec<&str> = checks
        .iter()
        .filter(|c| c.level != Level::Must)
        .filter(|c| {
            !ROWS.iter().any(|r| {
                r.check.split('.').nth(1) == Some(c.section()) && level_of(r.check).is_some_and(|l| l != Level::Must)
            })
        })
        .map(|c| c.id)
        .collect();
    assert!(missing_family.is_empty(), "SHOULD/MAY families without a fault row: {missing_family:?}");
    for r in ROWS.iter() {
        assert!(level_of(r.check).is_some(), "row for unknown check {}", r.check);
    }
    assert!(NOT_PROXYABLE.iter().all(|(_, why)| !why.is_empty()));
}

// ---------------------------------------------------------------------------------------------------------------
// Replay: planted bugs of the kind the scenarios exist to catch, each with the step that must catch it.

struct ReplayRow {
    /// `folder/name` of the scenario.
    scenario: &'static str,
    /// The step that must fail.
    step: &'static str,
    /// A fragment its failure message must contain.
    expect: &'static str,
    fault: Fault,
}

static REPLAY_ROWS: LazyLock<Vec<ReplayRow>> = LazyLock::new(replay_rows);

/// Dotted path-less keys a broken server "stored" verbatim, per resource path, shown back on GET.
static LITERAL_KEYS: LazyLock<std::sync::Mutex<std::collections::HashMap<String, serde_json::Map<String, Value>>>> =
    LazyLock::new(Default::default);

/// Every fourth request is answered 429 with `Retry-After: 0` (RFC 6585 §4), for the initial-sync tests.
static THROTTLE: LazyLock<Fault> = LazyLock::new(|| {
    let n = std::sync::atomic::AtomicUsize::new(0);
    answer(
        move |r| {
            !r.path.starts_with("/ServiceProviderConfig")
                && n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 4 == 3
        },
        |_| {
            let mut resp = Resp::error(429, None);
            resp.headers.insert(header::RETRY_AFTER, HeaderValue::from_static("0"));
            resp
        },
    )
});

/// Member additions acknowledged with 204 and never applied.
static DROP_ADDS: LazyLock<Fault> = LazyLock::new(|| patch_ignored(|op| op_is(op, "add", Some("members"))));

fn is_dotted(key: &str) -> bool {
    key.contains('.') && !key.starts_with("urn:") || key.starts_with("urn:") && key.matches(':').count() > 7
}

fn replay_rows() -> Vec<ReplayRow> {
    vec![
        // A naive server drops every member when Entra removes one by value list.
        ReplayRow {
            scenario: "entra-legacy/group-lifecycle",
            step: "remove-member-by-value",
            expect: "members.value is exactly",
            fault: patch_ops(|ops| {
                for op in ops.iter_mut() {
                    if op_is(op, "remove", Some("members"))
                        && let Some(o) = op.as_object_mut()
                    {
                        o.remove("value");
                    }
                }
            }),
        },
        // A server that stores Entra's dotted path-less keys verbatim instead of applying them.
        ReplayRow {
            scenario: "entra-2020/user-lifecycle",
            step: "replace-multiple-pathless",
            expect: "name.givenName equals \"Kwabena\"",
            fault: Fault {
                before: None,
                request: Some(Box::new(|r: &mut Req| {
                    if !(r.is("PATCH") && r.resource("/Users")) {
                        return None;
                    }
                    let key = r.path.clone();
                    r.edit(|v| {
                        let Some(ops) = v.get_mut("Operations").and_then(Value::as_array_mut) else { return };
                        for op in ops.iter_mut().filter(|o| o.get("path").is_none()) {
                            let Some(value) = op.get_mut("value").and_then(Value::as_object_mut) else { continue };
                            let dotted: Vec<String> = value.keys().filter(|k| is_dotted(k)).cloned().collect();
                            let mut stored = LITERAL_KEYS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            let entry = stored.entry(key.clone()).or_default();
                            for k in dotted {
                                if let Some(x) = value.remove(&k) {
                                    entry.insert(k, x);
                                }
                            }
                        }
                    });
                    None
                })),
                response: Some(Box::new(|r: &Req, resp: &mut Resp| {
                    if r.is("GET") && r.resource("/Users") {
                        let stored = LITERAL_KEYS
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .get(&r.path)
                            .cloned();
                        if let Some(extra) = stored {
                            resp.edit(|v| {
                                if let Some(o) = v.as_object_mut() {
                                    o.extend(extra);
                                }
                            });
                        }
                    }
                })),
            },
        },
        // A strict server that refuses Entra's "False".
        ReplayRow {
            scenario: "entra-legacy/user-lifecycle",
            step: "disable",
            expect: "400",
            fault: answer(
                |r| r.is("PATCH") && r.json().is_some_and(|v| v.to_string().contains("\"value\":\"False\"")),
                |_| Resp::error(400, Some("invalidValue")),
            ),
        },
        // A server that ignores Okta's path-less deactivation.
        ReplayRow {
            scenario: "okta/user-lifecycle",
            step: "deactivate",
            expect: "active equals false",
            fault: patch_ignored(|op| op.get("path").is_none() && op.pointer("/value/active").is_some()),
        },
    ]
}

async fn replay_through(key: &str, names: &[&str]) -> idconform_harness::Report {
    let all = idconform_harness::replay::builtin().expect("the shipped scenarios parse");
    let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    let selected = idconform_harness::replay::select(&all, |_| true, &names);
    assert!(!selected.is_empty() || names.is_empty(), "no scenario named {names:?}");
    let opts = idconform_harness::replay::ReplayOptions::default();
    idconform_harness::replay::run(&target(key), &selected, &opts, &|_| {}).await.expect("the proxy is reachable")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_passes_through_the_transparent_proxy() {
    let report = replay_through("none", &[]).await;
    let bad: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .map(|r| format!("{} {:?}: {}", r.id, r.status, r.message))
        .collect();
    assert!(report.results.len() > 100, "the shipped scenarios have many steps");
    assert!(bad.is_empty(), "steps that fail against the reference server:\n{}", bad.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_catch_planted_faults() {
    let mut problems = Vec::new();
    for (i, row) in REPLAY_ROWS.iter().enumerate() {
        let report = replay_through(&format!("r{i}"), &[row.scenario]).await;
        let id = format!("replay.{}.{}", row.scenario.replace('/', "."), row.step);
        match report.results.iter().find(|r| r.id == id) {
            None => problems.push(format!("{id}: no such step")),
            Some(r) if r.status != Status::Fail || !r.message.contains(row.expect) => problems.push(format!(
                "{id}: expected a failure mentioning {:?}; got {:?}: {}",
                row.expect, r.status, r.message
            )),
            Some(r) => assert!(!r.exchanges.is_empty(), "{id}: a failure shows its requests and responses"),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_backs_off_on_429_and_verifies_the_state() {
    use idconform_harness::idp::{EntraMode, MockClient};
    use idconform_harness::sync::{SyncOptions, initial_sync};
    let opts = SyncOptions { users: 60, groups: 4, concurrency: 4, member_batch: 7, ..SyncOptions::default() };
    for client in [MockClient::okta(), MockClient::entra(EntraMode::Legacy), MockClient::entra(EntraMode::Aad2020)] {
        let report = initial_sync(&target("throttle"), client, &opts, &|_| {}).await.expect("reachable");
        assert!(report.retries > 0, "{}: the throttling proxy answered 429s", client.idp);
        assert!(report.ok(), "{}: {}", client.idp, report.render());
        assert_eq!((report.users_created, report.groups_created), (60, 4));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_reports_a_server_that_loses_memberships() {
    use idconform_harness::idp::{EntraMode, MockClient};
    use idconform_harness::sync::{SyncOptions, initial_sync};
    let opts = SyncOptions { users: 20, groups: 2, concurrency: 2, ..SyncOptions::default() };
    let report = initial_sync(&target("dropadds"), MockClient::entra(EntraMode::Legacy), &opts, &|_| {})
        .await
        .expect("reachable");
    assert!(!report.ok(), "a server that acknowledges member additions without applying them fails the sync");
    assert!(report.errors.is_empty(), "every request was answered 2xx: {:?}", report.errors);
    assert!(report.mismatches.iter().any(|m| m.contains("10 member(s) missing")), "{}", report.render());
}

// ---------------------------------------------------------------------------------------------------------------
// Planted semantic bugs for the model-based fuzzer (`tests/it/fuzz.rs`): each breaks one rule of RFC 7644 that no
// single hand-written request shows, so the fuzzer must find a sequence that does.

/// The `ATTR sw "LITERAL"` comparisons of a filter.
fn sw_clauses(filter: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = filter;
    while let Some(at) = rest.find(" sw \"") {
        let attr = rest[..at].rsplit([' ', '(']).next().unwrap_or("").to_owned();
        let lit = &rest[at + 5..];
        let end = lit.find('"').unwrap_or(lit.len());
        out.push((attr, lit[..end].to_owned()));
        rest = &lit[end..];
    }
    out
}

/// `sw` compares case-sensitively, although `userName` and `displayName` are caseExact false (RFC 7644 §3.4.2.2):
/// list responses keep only the resources whose attribute starts with the literal as written.
static SW_CASE: LazyLock<Fault> = LazyLock::new(|| {
    respond(|req, resp| {
        let clauses = req.param("filter").map(sw_clauses).unwrap_or_default();
        if !req.is("GET") || clauses.is_empty() {
            return;
        }
        resp.edit(|v| {
            let Some(rs) = resources_mut(v) else { return };
            let before = rs.len();
            rs.retain(|r| {
                clauses.iter().all(|(attr, lit)| r.get(attr).and_then(Value::as_str).is_none_or(|s| s.starts_with(lit)))
            });
            let dropped = (before - rs.len()) as u64;
            for key in ["totalResults", "itemsPerPage"] {
                if let Some(n) = v.get(key).and_then(Value::as_u64) {
                    v[key] = json!(n.saturating_sub(dropped));
                }
            }
        });
    })
});

/// PATCH `replace` of a multi-valued attribute (`emails`, `members`) appends instead of replacing every value
/// (RFC 7644 §3.5.2.3: "the attribute and all values are replaced").
static MV_APPEND: LazyLock<Fault> = LazyLock::new(|| {
    patch_ops(|ops| {
        for op in ops.iter_mut() {
            let replace = op.get("op").and_then(Value::as_str).is_some_and(|o| o.eq_ignore_ascii_case("replace"));
            let multi = op
                .get("path")
                .and_then(Value::as_str)
                .is_some_and(|p| p.eq_ignore_ascii_case("emails") || p.eq_ignore_ascii_case("members"));
            if replace && multi {
                op["op"] = json!("add");
            }
        }
    })
});
