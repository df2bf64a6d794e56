//! A small recording HTTP client over reqwest. Every exchange a check makes is kept (method, URL, headers, bodies,
//! status) so that a failure in a report shows exactly what was sent and received; the `Authorization` header is
//! redacted before it is stored, so reports can be shared.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;

/// Bodies longer than this are cut in recorded exchanges (the check itself sees the whole body).
const MAX_RECORDED_BODY: usize = 16 * 1024;

/// The SCIM media type (RFC 7644 §8.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// One request and its response, as recorded for reports.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// HTTP method.
    pub method: String,
    /// Full URL including the query.
    pub url: String,
    /// Request headers, `Authorization` redacted.
    pub request_headers: Vec<(String, String)>,
    /// Request body, if any (cut at 16 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// Response status, absent when no response arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Response headers.
    pub response_headers: Vec<(String, String)>,
    /// Response body (cut at 16 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// Transport error, when the request failed before a response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Round-trip time in milliseconds.
    pub duration_ms: u64,
}

/// A transport-level failure: no HTTP response was received.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{method} {url}: {message}")]
pub struct HttpError {
    /// HTTP method.
    pub method: String,
    /// URL.
    pub url: String,
    /// What went wrong (connection refused, timeout, …).
    pub message: String,
    /// Whether the target could not be connected to at all.
    pub connect: bool,
}

/// A received response, body read in full.
#[derive(Debug, Clone)]
pub struct Response {
    /// Method of the request (for messages).
    pub method: String,
    /// URL of the request (for messages).
    pub url: String,
    /// HTTP status code.
    pub status: u16,
    /// Response headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: String,
}

impl Response {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// `GET /Users/x → 404` style label.
    pub fn label(&self) -> String {
        format!("{} {} → {}", self.method, self.url, self.status)
    }

    /// `GET /Users/x → 404: HTTP 404 {…}`: the request and what came back, for failure messages.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.label(), self.describe())
    }

    /// A short description of the response for failure messages: status plus the start of the body.
    pub fn describe(&self) -> String {
        let body: String = self.body.chars().take(300).collect();
        let more = if self.body.chars().count() > 300 { "…" } else { "" };
        if body.is_empty() { format!("HTTP {}", self.status) } else { format!("HTTP {} {body}{more}", self.status) }
    }
}

/// A request to send: method, path relative to the SCIM base URL (or absolute URL), headers and optional body.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method.
    pub method: reqwest::Method,
    /// Path relative to the base URL (`/Users?filter=…`) or an absolute `http(s)://` URL.
    pub path: String,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body, sent as-is.
    pub body: Option<String>,
    /// Whether to send the bearer token (false for unauthenticated probes).
    pub auth: bool,
    /// Replace the bearer token with this one (for wrong-token probes).
    pub token_override: Option<String>,
    /// Send the headers exactly as given (a mock IdP's request): no default `Accept` is added.
    pub exact: bool,
}

impl Request {
    /// A request with the target's token.
    pub fn new(method: reqwest::Method, path: impl Into<String>) -> Self {
        Request {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            auth: true,
            token_override: None,
            exact: false,
        }
    }

    /// Adds a JSON body with `Content-Type: application/scim+json`.
    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.to_string());
        self.headers.push(("Content-Type".into(), SCIM_JSON.into()));
        self
    }

    /// Adds a raw body with the given content type.
    pub fn raw(mut self, content_type: &str, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self.headers.push(("Content-Type".into(), content_type.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sends the headers exactly as given, adding none but `Authorization`.
    pub fn exact(mut self) -> Self {
        self.exact = true;
        self
    }

    /// Sends no `Authorization` header.
    pub fn without_auth(mut self) -> Self {
        self.auth = false;
        self
    }

    /// Sends this bearer token instead of the target's.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token_override = Some(token.into());
        self
    }
}

/// The shared client: base URL, token and connection pool. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
    base: Arc<str>,
    token: Option<Arc<str>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token never appears in debug output.
        f.debug_struct("Client").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Whether two absolute URLs share scheme, host and port (RFC 6454 §4).
fn same_origin(a: &str, b: &str) -> bool {
    match (reqwest::Url::parse(a), reqwest::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

impl Client {
    /// A client for the SCIM service at `base` (e.g. `https://host/scim/v2`), authenticating with `token`.
    pub fn new(base: &str, token: Option<&str>, timeout: Duration) -> Result<Self, HttpError> {
        let inner = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("idconform/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError {
                method: String::new(),
                url: base.to_owned(),
                message: format!("cannot build the HTTP client: {e}"),
                connect: false,
            })?;
        Ok(Client { inner, base: base.trim_end_matches('/').into(), token: token.map(Into::into) })
    }

    /// The SCIM base URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else if path.starts_with('/') {
            format!("{}{path}", self.base)
        } else {
            format!("{}/{path}", self.base)
        }
    }

    /// Sends a request and records the exchange in `log`.
    pub async fn send(&self, req: Request, log: &Recorder) -> Result<Response, HttpError> {
        let url = self.url(&req.path);
        let method = req.method.to_string();
        let mut headers: Vec<(String, String)> = Vec::new();
        // A check that probes content negotiation sets its own Accept; everyone else accepts both JSON types.
        if !req.exact && !req.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
            headers.push(("Accept".into(), format!("{SCIM_JSON}, application/json")));
        }
        headers.extend(req.headers.iter().cloned());
        let token = req.token_override.as_deref().or(if req.auth { self.token.as_deref() } else { None });
        // The token goes only to the target's own origin: a URL taken from a response (a Location, a bulk
        // `location`, a `$ref`) may point anywhere, and a hostile or misconfigured target must not be able to make
        // the harness hand its credential to another host.
        let token = token.filter(|_| same_origin(&url, &self.base));
        let mut builder = self.inner.request(req.method.clone(), &url);
        for (k, v) in &headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        // Credentials a request carries itself (Basic client authentication, a session cookie) are redacted too.
        let mut recorded_headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| {
                let secret = k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("cookie");
                (k.clone(), if secret { redacted_credential(v) } else { v.clone() })
            })
            .collect();
        if let Some(t) = token {
            builder = builder.bearer_auth(t);
            recorded_headers.push(("Authorization".into(), "Bearer [redacted]".into()));
        }
        if let Some(body) = &req.body {
            builder = builder.body(body.clone());
        }
        let started = Instant::now();
        let result = builder.send().await;
        // A discarding recorder (load generation) skips building the exchange: copies of every header and body
        // would cost more than the request itself.
        let record =
            |status: Option<u16>, resp_headers: &[(String, String)], body: Option<&str>, error: Option<&str>| {
                if log.discards() {
                    return;
                }
                log.push(Exchange {
                    method: method.clone(),
                    url: url.clone(),
                    request_headers: recorded_headers.clone(),
                    request_body: req.body.as_deref().map(|b| cut(&redact_form(b))),
                    status,
                    response_headers: resp_headers
                        .iter()
                        .map(|(k, v)| {
                            let v =
                                if k.eq_ignore_ascii_case("set-cookie") { redacted_set_cookie(v) } else { v.clone() };
                            (k.clone(), v)
                        })
                        .collect(),
                    response_body: body.filter(|b| !b.is_empty()).map(cut),
                    error: error.map(str::to_owned),
                    duration_ms: elapsed_ms(started),
                });
            };
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                let err = HttpError {
                    method: method.clone(),
                    url: url.clone(),
                    message: describe_error(&e),
                    connect: e.is_connect(),
                };
                record(None, &[], None, Some(&err.message));
                return Err(err);
            }
        };
        let status = resp.status().as_u16();
        let resp_headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let body = match resp.bytes().await {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                let err =
                    HttpError { method: method.clone(), url: url.clone(), message: describe_error(&e), connect: false };
                record(Some(status), &resp_headers, None, Some(&err.message));
                return Err(err);
            }
        };
        record(Some(status), &resp_headers, Some(&body), None);
        Ok(Response { method, url, status, headers: resp_headers, body })
    }
}

/// `Basic [redacted]`: the scheme stays readable, the credential does not.
fn redacted_credential(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, _)) if !scheme.contains('=') => format!("{scheme} [redacted]"),
        _ => "[redacted]".into(),
    }
}

/// `name=[redacted]; Path=/; HttpOnly`: a session cookie's value never reaches a report, its attributes do.
fn redacted_set_cookie(value: &str) -> String {
    let (pair, attrs) = value.split_once(';').unwrap_or((value, ""));
    let name = pair.split('=').next().unwrap_or_default();
    if attrs.is_empty() { format!("{name}=[redacted]") } else { format!("{name}=[redacted];{attrs}") }
}

/// Form fields whose values never reach a report.
const SECRET_FIELDS: [&str; 3] = ["client_secret", "password", "csrf_token"];

/// A form-urlencoded body with the values of [`SECRET_FIELDS`] redacted; other bodies unchanged.
fn redact_form(body: &str) -> String {
    let is_form = !body.is_empty()
        && !body.trim_start().starts_with(['{', '[', '<'])
        && body.split('&').any(|kv| SECRET_FIELDS.iter().any(|f| kv.starts_with(&format!("{f}="))));
    if !is_form {
        return body.to_owned();
    }
    body.split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if SECRET_FIELDS.contains(&k) => format!("{k}=[redacted]"),
            _ => kv.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// reqwest's Display hides the cause ("error sending request"); the chain says what actually happened.
fn describe_error(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn cut(s: &str) -> String {
    if s.len() <= MAX_RECORDED_BODY {
        return s.to_owned();
    }
    let mut end = MAX_RECORDED_BODY;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} bytes cut]", &s[..end], s.len() - end)
}

/// The exchanges of one check, in order.
#[derive(Debug, Default)]
pub struct Recorder {
    exchanges: Mutex<Vec<Exchange>>,
    discard: bool,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Recorder::default()
    }

    /// A recorder that keeps nothing, for load generation.
    pub fn discarding() -> Self {
        Recorder { exchanges: Mutex::new(Vec::new()), discard: true }
    }

    /// Whether this recorder keeps nothing.
    pub fn discards(&self) -> bool {
        self.discard
    }

    /// Appends an exchange.
    pub fn push(&self, e: Exchange) {
        if !self.discard {
            self.exchanges.lock().push(e);
        }
    }

    /// Takes the recorded exchanges.
    pub fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.exchanges.lock())
    }
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass through).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_escapes_filter_syntax() {
        assert_eq!(encode(r#"userName eq "a b""#), "userName%20eq%20%22a%20b%22");
    }

    #[test]
    fn cut_keeps_char_boundaries() {
        let s = "é".repeat(MAX_RECORDED_BODY);
        assert!(cut(&s).contains("bytes cut"));
    }
}

#[cfg(test)]
mod origin_tests {
    use super::same_origin;

    #[test]
    fn the_token_stays_with_the_target_origin() {
        let base = "https://scim.example.com/scim/v2";
        assert!(same_origin("https://scim.example.com/scim/v2/Users/1", base));
        assert!(same_origin("https://scim.example.com:443/other", base));
        assert!(!same_origin("https://attacker.example/scim/v2/Users/1", base));
        assert!(!same_origin("http://scim.example.com/scim/v2/Users/1", base));
        assert!(!same_origin("https://scim.example.com:8443/scim/v2", base));
        assert!(!same_origin("not a url", base));
    }
}
