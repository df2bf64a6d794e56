//! The mock OAuth client: an RFC 6749 authorization-code client with PKCE (RFC 7636) that drives any authorization
//! server headlessly. The front channel is walked like a browser would: the authorization endpoint's HTML forms are
//! filled in and submitted (log-in, then consent), cookies are kept for the server's origin, and the walk stops at
//! the first redirect that leaves the server — the client's redirect URI, carrying a code or an error. The back
//! channel (token, refresh, revocation, introspection, userinfo) is plain form posts. Every exchange goes through
//! the recording client, so a check's failure shows what was sent and received.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::Value;
use sha2::Digest;

use super::target::{AuthMethod, Login, OAuthClientCreds, OAuthTarget};
use crate::http::{Client, HttpError, Recorder, Request, Response, encode};

/// The form media type of every OAuth endpoint request (RFC 6749 §4.1.3, Appendix B).
pub const FORM: &str = "application/x-www-form-urlencoded";

/// How many pages and redirects one authorization walk may take before it gives up.
const MAX_HOPS: usize = 8;

/// A PKCE pair (RFC 7636 §4.1–4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkce {
    /// The code verifier: 43 characters from 32 random bytes.
    pub verifier: String,
    /// The code challenge.
    pub challenge: String,
    /// `S256` or `plain`.
    pub method: &'static str,
}

impl Pkce {
    /// A fresh S256 pair.
    pub fn s256() -> Self {
        let verifier = random_token();
        Pkce { challenge: s256(&verifier), verifier, method: "S256" }
    }

    /// A fresh plain pair (the challenge is the verifier).
    pub fn plain() -> Self {
        let verifier = random_token();
        Pkce { challenge: verifier.clone(), verifier, method: "plain" }
    }
}

/// `BASE64URL(SHA256(ASCII(verifier)))` (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// 32 random bytes, base64url: verifiers, states, `jti`s.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An authorization request (RFC 6749 §4.1.1).
#[derive(Debug, Clone)]
pub struct AuthzRequest {
    /// `response_type`.
    pub response_type: String,
    /// `client_id`.
    pub client_id: String,
    /// `redirect_uri`; `None` leaves it out.
    pub redirect_uri: Option<String>,
    /// `scope`.
    pub scope: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// The PKCE pair whose challenge is sent; `None` sends none.
    pub pkce: Option<Pkce>,
}

impl AuthzRequest {
    /// The query string.
    pub fn query(&self) -> String {
        let mut q = vec![("response_type", self.response_type.clone()), ("client_id", self.client_id.clone())];
        if let Some(r) = &self.redirect_uri {
            q.push(("redirect_uri", r.clone()));
        }
        if let Some(s) = &self.scope {
            q.push(("scope", s.clone()));
        }
        if let Some(s) = &self.state {
            q.push(("state", s.clone()));
        }
        if let Some(p) = &self.pkce {
            q.push(("code_challenge", p.challenge.clone()));
            q.push(("code_challenge_method", p.method.to_owned()));
        }
        form_encode(&q)
    }
}

/// Where an authorization walk ended.
#[derive(Debug, Clone)]
pub enum Front {
    /// The server sent the browser off to another origin (the client): the URL and its query parameters.
    Redirect {
        /// The absolute URL.
        url: String,
        /// Its query parameters, decoded.
        params: Vec<(String, String)>,
    },
    /// The walk stopped on a page: an error page, or a page with no form to submit.
    Page {
        /// Its status.
        status: u16,
        /// The page's URL.
        url: String,
        /// The start of its text, for messages.
        text: String,
    },
}

impl Front {
    /// A query parameter of the redirect.
    pub fn param(&self, name: &str) -> Option<&str> {
        match self {
            Front::Redirect { params, .. } => params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()),
            Front::Page { .. } => None,
        }
    }

    /// Whether the walk ended with a redirect to `uri` (compared without the query).
    pub fn redirected_to(&self, uri: &str) -> bool {
        match self {
            Front::Redirect { url, .. } => url.split('?').next() == Some(uri.split('?').next().unwrap_or(uri)),
            Front::Page { .. } => false,
        }
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            Front::Redirect { url, .. } => format!("a redirect to {url}"),
            Front::Page { status, url, text } => format!("a page (HTTP {status}) at {url}: {text}"),
        }
    }
}

/// Client authentication as sent (RFC 6749 §2.3.1), including deliberately wrong forms for the checks.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `Authorization: Basic` with these credentials.
    Basic(String, String),
    /// `client_id` and `client_secret` in the body.
    Post(String, String),
    /// `client_id` alone in the body (a public client).
    Public(String),
    /// No client identification at all.
    Anonymous,
}

impl ClientAuth {
    /// The way a registered client authenticates.
    pub fn of(c: &OAuthClientCreds) -> Self {
        let secret = c.secret.clone().unwrap_or_default();
        match c.auth {
            AuthMethod::ClientSecretBasic => ClientAuth::Basic(c.id.clone(), secret),
            AuthMethod::ClientSecretPost => ClientAuth::Post(c.id.clone(), secret),
            AuthMethod::None => ClientAuth::Public(c.id.clone()),
        }
    }

    /// The same client with a wrong secret, in the same place.
    pub fn with_wrong_secret(c: &OAuthClientCreds) -> Self {
        let wrong = format!("{}-wrong", c.secret.as_deref().unwrap_or("secret"));
        match c.auth {
            AuthMethod::ClientSecretPost => ClientAuth::Post(c.id.clone(), wrong),
            _ => ClientAuth::Basic(c.id.clone(), wrong),
        }
    }
}

/// The server's metadata (RFC 8414 §2), as fetched.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    /// The document; `Null` when it could not be read.
    pub doc: Value,
    /// The response it came in, when one arrived.
    pub response: Option<Response>,
}

impl Metadata {
    /// A string member.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.doc.get(name).and_then(Value::as_str)
    }

    /// Whether an array member lists `value`.
    pub fn lists(&self, name: &str, value: &str) -> Option<bool> {
        self.doc.get(name).and_then(Value::as_array).map(|a| a.iter().any(|v| v.as_str() == Some(value)))
    }
}

/// A token endpoint success (RFC 6749 §5.1).
#[derive(Debug, Clone)]
pub struct Tokens {
    /// `access_token`.
    pub access_token: String,
    /// `refresh_token`, when issued.
    pub refresh_token: Option<String>,
    /// `scope`, when stated.
    pub scope: Option<String>,
    /// The whole body.
    pub body: Value,
}

impl Tokens {
    /// Reads a 200 token response; `None` unless it has an `access_token`.
    pub fn from_response(r: &Response) -> Option<Tokens> {
        if r.status != 200 {
            return None;
        }
        let body = r.json()?;
        let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Tokens { access_token: s("access_token")?, refresh_token: s("refresh_token"), scope: s("scope"), body })
    }
}

/// The mock OAuth client for one authorization server.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: Client,
    /// The server.
    pub target: std::sync::Arc<OAuthTarget>,
    /// Its metadata.
    pub meta: std::sync::Arc<Metadata>,
}

impl OAuthClient {
    /// A client for `target`; fetches the metadata once. Only a transport failure is an error: a server that
    /// answers anything is reachable, and the metadata checks judge what it answered.
    pub async fn connect(target: OAuthTarget, timeout: std::time::Duration) -> Result<Self, HttpError> {
        let http = Client::new(&target.issuer, None, timeout)?;
        let location = target.metadata_location();
        let r = http.send(Request::new(Method::GET, location).without_auth(), &Recorder::discarding()).await?;
        let doc = if r.status == 200 { r.json().unwrap_or(Value::Null) } else { Value::Null };
        let meta = Metadata { doc, response: Some(r) };
        Ok(OAuthClient { http, target: std::sync::Arc::new(target), meta: std::sync::Arc::new(meta) })
    }

    /// An endpoint from the metadata, falling back to the reference server's layout under the issuer.
    pub fn endpoint(&self, name: &str) -> String {
        if let Some(u) = self.meta.str(name) {
            return u.to_owned();
        }
        let path = match name {
            "authorization_endpoint" => "/oauth/authorize",
            "token_endpoint" => "/oauth/token",
            "revocation_endpoint" => "/oauth/revoke",
            "introspection_endpoint" => "/oauth/introspect",
            "userinfo_endpoint" => "/oauth/userinfo",
            _ => "",
        };
        format!("{}{path}", self.target.issuer)
    }

    /// The default authorization request of `client`: code flow, the target's redirect URI and scope, a random
    /// `state`, and an S256 challenge.
    pub fn request(&self, client: &OAuthClientCreds) -> AuthzRequest {
        AuthzRequest {
            response_type: "code".into(),
            client_id: client.id.clone(),
            redirect_uri: Some(self.target.redirect_uri.clone()),
            scope: Some(self.target.scope.clone()),
            state: Some(random_token()),
            pkce: Some(Pkce::s256()),
        }
    }

    /// Walks the authorization endpoint as the target's user: GET the request, then fill in and submit each form
    /// the server shows, following redirects within the server's origin, until a redirect leaves it.
    pub async fn authorize(&self, req: &AuthzRequest, log: &Recorder) -> Result<Front, HttpError> {
        let endpoint = self.endpoint("authorization_endpoint");
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        let mut url = format!("{endpoint}{sep}{}", req.query());
        let origin = origin_of(&endpoint);
        let (fields, approve, mut cookies) = match &self.target.login {
            Login::Form { fields, approve } => (fields.clone(), approve.clone(), Vec::new()),
            Login::Cookie { cookie, approve } => (Vec::new(), approve.clone(), parse_cookie_header(cookie)),
        };
        let mut next = Request::new(Method::GET, url.clone()).without_auth().header("Accept", "text/html");
        for _ in 0..MAX_HOPS {
            if !cookies.is_empty() {
                next = next.header("Cookie", cookie_header(&cookies));
            }
            let r = self.http.send(next, log).await?;
            remember_cookies(&r, &mut cookies);
            if (300..400).contains(&r.status) {
                let Some(location) = r.header("location") else {
                    return Ok(page(&r, &url));
                };
                let target = resolve(&url, location);
                if origin_of(&target) != origin {
                    return Ok(Front::Redirect { params: query_params(&target), url: target });
                }
                url = target;
                next = Request::new(Method::GET, url.clone()).without_auth().header("Accept", "text/html");
                continue;
            }
            let Some(form) = first_form(&r.body, &fields, approve.as_ref()) else {
                return Ok(page(&r, &url));
            };
            let action = resolve(&url, form.action.as_deref().unwrap_or(&url));
            if origin_of(&action) != origin {
                // A form that posts elsewhere (a federated log-in) is beyond this walker.
                return Ok(page(&r, &url));
            }
            next = if form.method_post {
                Request::new(Method::POST, action.clone())
                    .without_auth()
                    .raw(FORM, form_encode(&form.values))
                    .header("Origin", origin.clone())
                    .header("Accept", "text/html")
            } else {
                let sep = if action.contains('?') { '&' } else { '?' };
                Request::new(Method::GET, format!("{action}{sep}{}", form_encode(&form.values)))
                    .without_auth()
                    .header("Accept", "text/html")
            };
            url = action;
        }
        Ok(Front::Page { status: 0, url, text: format!("gave up after {MAX_HOPS} pages and redirects") })
    }

    /// Posts a form to an endpoint with client authentication.
    pub async fn post(
        &self,
        endpoint: &str,
        auth: &ClientAuth,
        form: &[(&str, &str)],
        log: &Recorder,
    ) -> Result<Response, HttpError> {
        let mut fields: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        let mut req = Request::new(Method::POST, self.endpoint(endpoint)).without_auth();
        match auth {
            ClientAuth::Basic(id, secret) => {
                // RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded.
                let raw = format!("{}:{}", form_value(id), form_value(secret));
                req = req.header("Authorization", format!("Basic {}", base64_std(&raw)));
            }
            ClientAuth::Post(id, secret) => {
                fields.push(("client_id", id.clone()));
                fields.push(("client_secret", secret.clone()));
            }
            ClientAuth::Public(id) => fields.push(("client_id", id.clone())),
            ClientAuth::Anonymous => {}
        }
        let body = form_encode(&fields);
        self.http.send(req.raw(FORM, body).header("Accept", "application/json"), log).await
    }

    /// Exchanges a code (RFC 6749 §4.1.3) with the verifier of `pkce`, when given.
    pub async fn exchange(
        &self,
        auth: &ClientAuth,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        log: &Recorder,
    ) -> Result<Response, HttpError> {
        let mut form = vec![("grant_type", "authorization_code"), ("code", code)];
        if let Some(r) = redirect_uri {
            form.push(("redirect_uri", r));
        }
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        self.post("token_endpoint", auth, &form, log).await
    }

    /// Refreshes (RFC 6749 §6).
    pub async fn refresh(
        &self,
        auth: &ClientAuth,
        refresh_token: &str,
        scope: Option<&str>,
        log: &Recorder,
    ) -> Result<Response, HttpError> {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.post("token_endpoint", auth, &form, log).await
    }

    /// Revokes a token (RFC 7009 §2.1).
    pub async fn revoke(
        &self,
        auth: &ClientAuth,
        token: &str,
        hint: Option<&str>,
        log: &Recorder,
    ) -> Result<Response, HttpError> {
        let mut form = vec![("token", token)];
        if let Some(h) = hint {
            form.push(("token_type_hint", h));
        }
        self.post("revocation_endpoint", auth, &form, log).await
    }

    /// Introspects a token (RFC 7662 §2.1).
    pub async fn introspect(&self, auth: &ClientAuth, token: &str, log: &Recorder) -> Result<Response, HttpError> {
        self.post("introspection_endpoint", auth, &[("token", token)], log).await
    }

    /// `GET` the userinfo endpoint with `Authorization: Bearer` (RFC 6750 §2.1), or no header for `None`.
    pub async fn userinfo(&self, token: Option<&str>, log: &Recorder) -> Result<Response, HttpError> {
        self.bearer_get(&self.endpoint("userinfo_endpoint"), token, log).await
    }

    /// `GET url` with an optional bearer token.
    pub async fn bearer_get(&self, url: &str, token: Option<&str>, log: &Recorder) -> Result<Response, HttpError> {
        let mut req = Request::new(Method::GET, url).without_auth().header("Accept", "application/json");
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        self.http.send(req, log).await
    }

    /// `GET` any URL without credentials (metadata documents).
    pub async fn get(&self, url: &str, log: &Recorder) -> Result<Response, HttpError> {
        self.http.send(Request::new(Method::GET, url).without_auth(), log).await
    }
}

fn page(r: &Response, url: &str) -> Front {
    let text: String = visible_text(&r.body).chars().take(300).collect();
    Front::Page { status: r.status, url: url.to_owned(), text }
}

fn base64_std(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

/// `application/x-www-form-urlencoded` serialisation (WHATWG URL §5.2), as browsers send forms.
pub fn form_encode<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_value(k.as_ref()), form_value(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

fn form_value(s: &str) -> String {
    encode(s)
}

/// The query parameters of a URL, decoded.
pub fn query_params(url: &str) -> Vec<(String, String)> {
    match reqwest::Url::parse(url) {
        Ok(u) => u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
        Err(_) => Vec::new(),
    }
}

/// `scheme://host:port` of a URL (RFC 6454 §4), or the empty string.
pub fn origin_of(url: &str) -> String {
    reqwest::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
}

/// A reference resolved against a base URL (RFC 3986 §5).
fn resolve(base: &str, reference: &str) -> String {
    reqwest::Url::parse(base)
        .and_then(|b| b.join(reference))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| reference.to_owned())
}

fn parse_cookie_header(h: &str) -> Vec<(String, String)> {
    h.split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn cookie_header(cookies: &[(String, String)]) -> String {
    cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

/// Keeps the `name=value` of every `Set-Cookie` (RFC 6265 §5.2); an expired or emptied cookie is dropped. Only the
/// server's own origin is ever sent them.
fn remember_cookies(r: &Response, jar: &mut Vec<(String, String)>) {
    for (k, v) in &r.headers {
        if !k.eq_ignore_ascii_case("set-cookie") {
            continue;
        }
        let mut parts = v.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { continue };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        let expired = parts.any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        jar.retain(|(n, _)| *n != name);
        if !expired && !value.is_empty() {
            jar.push((name, value));
        }
    }
}

/// A form ready to submit.
#[derive(Debug)]
struct Filled {
    action: Option<String>,
    method_post: bool,
    values: Vec<(String, String)>,
}

/// The first form of a page, filled in: hidden and preset fields keep their values, fields named in `fields` get
/// theirs, and the submit button named by `approve` (else the first named one) is pressed. A page whose forms need
/// a field the harness has no value for (a required text or password input) has no usable form.
fn first_form(html: &str, fields: &[(String, String)], approve: Option<&(String, String)>) -> Option<Filled> {
    let doc = scraper::Html::parse_document(html);
    let form_sel = scraper::Selector::parse("form").ok()?;
    let control_sel = scraper::Selector::parse("input, button, select, textarea").ok()?;
    'forms: for form in doc.select(&form_sel) {
        let attr = |n: &str| form.value().attr(n).map(str::to_owned);
        let method_post = attr("method").is_some_and(|m| m.eq_ignore_ascii_case("post"));
        let mut values = Vec::new();
        let mut buttons = Vec::new();
        for c in form.select(&control_sel) {
            let el = c.value();
            let Some(name) = el.attr("name") else { continue };
            let kind = el.attr("type").unwrap_or(if el.name() == "button" { "submit" } else { "text" });
            let kind = kind.to_ascii_lowercase();
            if kind == "submit" || kind == "image" {
                buttons.push((name.to_owned(), el.attr("value").unwrap_or_default().to_owned()));
                continue;
            }
            if let Some((_, v)) = fields.iter().find(|(k, _)| k == name) {
                values.push((name.to_owned(), v.clone()));
            } else if kind == "checkbox" || kind == "radio" {
                if el.attr("checked").is_some() {
                    values.push((name.to_owned(), el.attr("value").unwrap_or("on").to_owned()));
                }
            } else if kind == "hidden" || el.attr("value").is_some_and(|v| !v.is_empty()) {
                values.push((name.to_owned(), el.attr("value").unwrap_or_default().to_owned()));
            } else if el.attr("required").is_some() {
                continue 'forms;
            }
        }
        let pressed = approve
            .and_then(|(n, v)| buttons.iter().find(|(bn, bv)| bn == n && bv == v))
            .or_else(|| buttons.first())
            .cloned();
        values.extend(pressed);
        return Some(Filled { action: attr("action"), method_post, values });
    }
    None
}

/// The visible text of a page, whitespace collapsed, for messages.
fn visible_text(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let Ok(body) = scraper::Selector::parse("body") else { return String::new() };
    let text: Vec<String> = doc
        .select(&body)
        .flat_map(|b| b.text().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect::<Vec<_>>())
        .collect();
    if text.is_empty() { html.chars().take(300).collect() } else { text.join(" ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_challenge() {
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let p = Pkce::s256();
        assert_eq!(p.verifier.len(), 43, "RFC 7636 §4.1: 43 to 128 characters");
        assert_eq!(p.challenge, s256(&p.verifier));
    }

    #[test]
    fn forms_are_filled_like_a_browser_would() {
        let html = r#"<html><body><form method="post" action="/login">
            <input type="hidden" name="client_id" value="a&amp;b">
            <input name="email" type="email" required><input name="password" type="password" required>
            <input type="checkbox" name="remember">
            <button type="submit" name="decision" value="deny">Deny</button>
            <button type="submit" name="decision" value="allow">Allow</button></form></body></html>"#;
        let fields = vec![("email".to_owned(), "a@b".to_owned()), ("password".to_owned(), "pw".to_owned())];
        let approve = ("decision".to_owned(), "allow".to_owned());
        let f = first_form(html, &fields, Some(&approve)).expect("a form");
        assert!(f.method_post);
        assert_eq!(f.action.as_deref(), Some("/login"));
        let got: Vec<(&str, &str)> = f.values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(got, [("client_id", "a&b"), ("email", "a@b"), ("password", "pw"), ("decision", "allow")]);
        assert!(first_form(html, &[], None).is_none(), "a required field without a value makes the form unusable");
    }

    #[test]
    fn cookies_follow_set_cookie() {
        let mut jar = Vec::new();
        let r = |v: &str| Response {
            method: "GET".into(),
            url: "u".into(),
            status: 200,
            headers: vec![("set-cookie".into(), v.into())],
            body: String::new(),
        };
        remember_cookies(&r("sid=abc; Path=/; HttpOnly"), &mut jar);
        assert_eq!(cookie_header(&jar), "sid=abc");
        remember_cookies(&r("sid=; Max-Age=0"), &mut jar);
        assert!(jar.is_empty());
    }

    #[test]
    fn well_formed_queries() {
        let req = AuthzRequest {
            response_type: "code".into(),
            client_id: "c 1".into(),
            redirect_uri: Some("https://c/cb?x=1".into()),
            scope: None,
            state: Some("s".into()),
            pkce: None,
        };
        assert_eq!(req.query(), "response_type=code&client_id=c%201&redirect_uri=https%3A%2F%2Fc%2Fcb%3Fx%3D1&state=s");
        let params = query_params("https://c/cb?code=a%2Bb&state=x+y");
        assert_eq!(params, [("code".to_owned(), "a+b".to_owned()), ("state".to_owned(), "x y".to_owned())]);
    }
}
