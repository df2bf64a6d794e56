//! The context the SAML checks run in ([`SCtx`]) and their runner ([`run`]): the mock IdP posts Responses to the
//! SP's ACS (HTTP-POST binding) and judges, by the target's success rules, whether the SP signed the user in.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use base64::Engine;
use reqwest::Method;

use super::target::SamlTarget;
use super::xml::Document;
use super::{IdpKey, PROTOCOL_NS, ResponseSpec, SamlIdpError, post_form};
use crate::check::{Check, Outcome, Step, fail, skip};
use crate::http::{Client, HttpError, Recorder, Request, Response};
use crate::oauth::client::query_params;
use crate::report::Report;
use crate::runner::{Options, Progress, RunError};

/// The form media type of the HTTP-POST binding (SAML Bindings §3.5.4).
const FORM: &str = "application/x-www-form-urlencoded";

/// How much an AuthnRequest from the SP may inflate to before the harness gives up on it.
const MAX_REQUEST_BYTES: u64 = 256 * 1024;

/// Everything a SAML check can use: the target, the HTTP client, an attacker's key, the check's recorder, and the
/// cookies of the check's browser.
pub struct SCtx {
    /// The SP under test.
    pub target: Arc<SamlTarget>,
    /// An attacker's key and certificate, made once per run.
    pub foreign: Arc<IdpKey>,
    http: Client,
    log: Recorder,
    /// The cookies the SP set in this check's browser (name, value): many SPs keep the pending request in a
    /// session cookie set at login, and check InResponseTo against it at the ACS.
    jar: parking_lot::Mutex<Vec<(String, String)>>,
}

/// The cookies `r` sets: (name, value, cleared).
pub(crate) fn set_cookies(r: &Response) -> Vec<(String, String, bool)> {
    r.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| {
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (name, value) = pair.split_once('=')?;
            let cleared = value.trim().is_empty()
                || attrs.split(';').any(|a| {
                    let a = a.trim().to_ascii_lowercase();
                    a == "max-age=0" || a.starts_with("max-age=-") || a.starts_with("expires=thu, 01 jan 1970")
                });
            Some((name.trim().to_owned(), value.trim().to_owned(), cleared))
        })
        .collect()
}

impl std::fmt::Debug for SCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SCtx").field("acs_url", &self.target.acs_url).finish_non_exhaustive()
    }
}

fn transport(e: HttpError) -> Outcome {
    fail("an HTTP response", format!("no response: {e}"))
}

/// A mock-IdP failure: the harness could not build what the check sends.
pub fn idp_error(e: SamlIdpError) -> Outcome {
    fail("setup: the mock IdP builds the Response", e.to_string())
}

/// The ID of the AuthnRequest an HTTP-Redirect `Location` carries in `SAMLRequest` (SAML Bindings §3.4.4.1: raw
/// DEFLATE, then base64, then URL-encoded).
pub fn request_id_from_location(location: &str) -> Result<String, String> {
    let value = query_params(location)
        .into_iter()
        .find(|(k, _)| k == "SAMLRequest")
        .map(|(_, v)| v)
        .ok_or("no SAMLRequest parameter")?;
    // A `+` left unencoded in the query reads as a space.
    let raw = base64_value(&value.replace(' ', "+"))?;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(raw.as_slice())
        .take(MAX_REQUEST_BYTES)
        .read_to_string(&mut xml)
        .map_err(|e| format!("SAMLRequest does not inflate to UTF-8: {e}"))?;
    authn_request_id(&xml)
}

/// The ID of the AuthnRequest an HTTP-POST binding page carries: a form whose `SAMLRequest` control holds the
/// message base64-encoded, not deflated (SAML Bindings §3.5.4).
pub fn request_id_from_form(html: &str) -> Result<String, String> {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(r#"form [name="SAMLRequest"]"#).map_err(|e| e.to_string())?;
    let value = doc
        .select(&selector)
        .next()
        .and_then(|e| e.value().attr("value"))
        .ok_or("no form with a SAMLRequest control")?;
    let raw = base64_value(value)?;
    if raw.len() as u64 > MAX_REQUEST_BYTES {
        return Err(format!("SAMLRequest is over {MAX_REQUEST_BYTES} bytes"));
    }
    authn_request_id(&String::from_utf8(raw).map_err(|_| "SAMLRequest is not UTF-8")?)
}

fn base64_value(value: &str) -> Result<Vec<u8>, String> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("SAMLRequest is not base64: {e}"))
}

fn authn_request_id(xml: &str) -> Result<String, String> {
    let doc = Document::parse(xml).map_err(|e| format!("the AuthnRequest is not XML: {e}"))?;
    if !doc.root.is(PROTOCOL_NS, "AuthnRequest") {
        return Err(format!("SAMLRequest holds a {}, not an AuthnRequest", doc.root.local()));
    }
    doc.root.attr("ID").ok_or_else(|| "the AuthnRequest has no ID".to_owned())
}

impl SCtx {
    /// A context for one check.
    pub fn new(target: Arc<SamlTarget>, foreign: Arc<IdpKey>, http: Client) -> Self {
        SCtx { target, foreign, http, log: Recorder::new(), jar: parking_lot::Mutex::new(Vec::new()) }
    }

    /// The target.
    pub fn t(&self) -> &SamlTarget {
        &self.target
    }

    /// The recorder.
    pub fn log(&self) -> &Recorder {
        &self.log
    }

    /// Forgets the browser's cookies: what follows comes from another browser (an attacker replaying a Response
    /// comes from their own).
    pub fn new_browser(&self) {
        self.jar.lock().clear();
    }

    /// Keeps the cookies `r` sets, dropping those it clears.
    fn keep_cookies(&self, r: &Response) {
        let mut jar = self.jar.lock();
        for (name, value, cleared) in set_cookies(r) {
            jar.retain(|(n, _)| *n != name);
            if !cleared {
                jar.push((name, value));
            }
        }
    }

    /// A request carrying the browser's cookies.
    fn with_cookies(&self, req: Request) -> Request {
        let jar = self.jar.lock();
        if jar.is_empty() {
            return req;
        }
        req.header("Cookie", jar.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; "))
    }

    /// Starts an SP-initiated sign-in and returns its AuthnRequest's ID; `None` without a `login_url`.
    pub async fn start_login(&self) -> Step<Option<String>> {
        let Some(url) = &self.target.login_url else {
            return Ok(None);
        };
        let req =
            self.with_cookies(Request::new(Method::GET, url.clone()).without_auth().header("Accept", "text/html"));
        let r = self.http.send(req, &self.log).await.map_err(transport)?;
        self.keep_cookies(&r);
        let expected = "setup: login_url redirects to the IdP with an AuthnRequest (SAML Bindings §3.4.4.1), or \
                        answers a form posting one (§3.5.4)";
        if let Some(location) = r.header("location").filter(|_| (300..400).contains(&r.status)) {
            return request_id_from_location(location)
                .map(Some)
                .map_err(|e| fail(expected, format!("{e}: {location}")));
        }
        if r.status == 200 {
            return request_id_from_form(&r.body)
                .map(Some)
                .map_err(|e| fail(expected, format!("{e}: {}", r.summary())));
        }
        Err(fail(expected, r.summary()))
    }

    /// A login login_url requires: `Some(id)`, or a skip when the target has no `login_url`.
    pub async fn solicited(&self) -> Step<String> {
        self.start_login().await?.ok_or_else(|| skip("needs login_url (SP-initiated sign-in) in the target file"))
    }

    /// A valid Response for the target's user answering `in_response_to`, at the SP's now.
    pub fn spec(&self, in_response_to: Option<String>) -> ResponseSpec {
        let t = &self.target;
        ResponseSpec::new(&t.idp_entity_id, &t.acs_url, &t.sp_entity_id)
            .name_id(t.name_id.clone())
            .email(t.name_id.clone())
            .now(t.now())
            .in_response_to(in_response_to)
    }

    /// A valid Response for a fresh sign-in: a new AuthnRequest when the target has a `login_url`.
    pub async fn fresh(&self) -> Step<ResponseSpec> {
        let id = self.start_login().await?;
        Ok(self.spec(id))
    }

    /// Signs `spec` with the IdP key the SP trusts.
    pub fn sign(&self, spec: &ResponseSpec) -> Step<String> {
        spec.sign(&self.target.key).map_err(idp_error)
    }

    /// Posts a Response to the ACS with the target's RelayState.
    pub async fn post(&self, xml: &str) -> Step<Response> {
        self.post_with(xml, &self.target.relay_state).await
    }

    /// Posts a Response to the ACS with `relay_state` (HTTP-POST binding, SAML Bindings §3.5.4), from the check's
    /// browser: with its cookies, keeping those the SP sets.
    pub async fn post_with(&self, xml: &str, relay_state: &str) -> Step<Response> {
        let req = Request::new(Method::POST, self.target.acs_url.clone())
            .without_auth()
            .raw(FORM, post_form(xml, Some(relay_state)))
            .header("Accept", "text/html");
        let r = self.http.send(self.with_cookies(req), &self.log).await.map_err(transport)?;
        self.keep_cookies(&r);
        Ok(r)
    }

    /// Whether the SP signed the user in, by the target's rules: a success status; when named, the session cookie
    /// set with a value; when given, a redirect to `success_location`; and when given, `session_url` answering 2xx
    /// to the browser's cookies.
    pub async fn accepted(&self, r: &Response) -> Step<bool> {
        let t = &self.target;
        if !t.success_status.contains(&r.status) {
            return Ok(false);
        }
        if let Some(name) = &t.success_cookie
            && !set_cookies(r).iter().any(|(n, _, cleared)| n == name && !cleared)
        {
            return Ok(false);
        }
        if let Some(prefix) = &t.success_location {
            let location = r.header("location").unwrap_or_default();
            let resolved = reqwest::Url::parse(&t.acs_url).and_then(|acs| acs.join(location));
            if !resolved.is_ok_and(|u| u.as_str().starts_with(prefix.as_str())) {
                return Ok(false);
            }
        }
        if let Some(url) = &t.session_url {
            let req = self.with_cookies(Request::new(Method::GET, url.clone()).without_auth());
            let probe = self.http.send(req, &self.log).await.map_err(transport)?;
            return Ok((200..300).contains(&probe.status));
        }
        Ok(true)
    }

    /// What counts as a sign-in, for messages.
    pub fn success_rule(&self) -> String {
        let t = &self.target;
        let statuses = t.success_status.iter().map(u16::to_string).collect::<Vec<_>>().join("/");
        let mut rule = format!("HTTP {statuses}");
        if let Some(c) = &t.success_cookie {
            rule.push_str(&format!(" setting cookie {c}"));
        }
        if let Some(l) = &t.success_location {
            rule.push_str(&format!(" to {l}…"));
        }
        if let Some(u) = &t.session_url {
            rule.push_str(&format!(", then {u} answering 2xx"));
        }
        rule
    }

    /// Passes when the SP did not sign anyone in; `what` says what was posted.
    pub async fn refused(&self, r: &Response, what: &str) -> Step {
        if !self.accepted(r).await? {
            return Ok(());
        }
        Err(fail(
            format!("{what} is refused: no sign-in"),
            format!("signed in ({}): {}", self.success_rule(), r.summary()),
        ))
    }

    /// Passes when the SP signed the user in; `what` says what was posted.
    pub async fn signed_in(&self, r: &Response, what: &str) -> Step {
        if self.accepted(r).await? {
            return Ok(());
        }
        Err(fail(format!("{what} signs the user in ({})", self.success_rule()), r.summary()))
    }

    /// Posts a fresh valid Response and expects a sign-in (setup of the checks that need one first).
    pub async fn sign_in(&self, spec: &ResponseSpec) -> Step<(String, Response)> {
        let xml = self.sign(spec)?;
        let r = self.post(&xml).await?;
        if !self.accepted(&r).await? {
            return Err(fail(
                format!("setup: a valid Response signs the user in ({})", self.success_rule()),
                r.summary(),
            ));
        }
        Ok((xml, r))
    }
}

/// Runs the selected SAML checks against the SP.
pub async fn run(
    target: SamlTarget,
    checks: &[Check<SCtx>],
    opts: &Options,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Report, RunError> {
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let http = Client::new(&target.acs_url, None, opts.timeout).map_err(|e| RunError::Config(e.to_string()))?;
    // One request tells an SP that is not there from one that refuses everything.
    let probe = target.login_url.clone().unwrap_or_else(|| target.acs_url.clone());
    if let Err(e) = http.send(Request::new(Method::GET, probe).without_auth(), &Recorder::discarding()).await
        && e.connect
    {
        return Err(RunError::Unreachable(e.to_string()));
    }
    let foreign = Arc::new(IdpKey::foreign().map_err(|e| RunError::Config(format!("mock IdP: {e}")))?);
    let target = Arc::new(target);
    let selected = crate::runner::select(checks, opts);
    let results = crate::runner::run_checks(
        selected,
        opts.concurrency,
        |_| false,
        || SCtx::new(target.clone(), foreign.clone(), http.clone()),
        progress,
    )
    .await;
    Ok(Report::for_target(&target.name, &target.acs_url, opts.profile, started_at, clock.elapsed(), results))
}

impl crate::runner::CheckContext for SCtx {
    fn take_exchanges(&self) -> Vec<crate::http::Exchange> {
        self.log.take()
    }

    fn deviation(&self, check_id: &str) -> Option<&crate::target::Deviation> {
        self.t().deviation(check_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_request_id_of_a_redirect() {
        let xml = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_abc123" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"/>"#;
        let encoded = super::super::attacks::redirect_encode(xml).expect("deflates");
        let location = format!("https://idp.example/sso?SAMLRequest={}&RelayState=%2F", crate::http::encode(&encoded));
        assert_eq!(request_id_from_location(&location).as_deref(), Ok("_abc123"));
        assert!(request_id_from_location("https://idp.example/sso?RelayState=x").is_err());
        let logout = super::super::attacks::redirect_encode(&xml.replace("AuthnRequest", "LogoutRequest")).expect("ok");
        assert!(request_id_from_location(&format!("https://i/?SAMLRequest={}", crate::http::encode(&logout))).is_err());
    }

    #[test]
    fn reads_the_request_id_of_a_post_form() {
        let xml = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_post1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"/>"#;
        let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
        let page = format!(
            r#"<html><body onload="document.forms[0].submit()"><form method="post" action="https://idp.example/sso">
               <input type="hidden" name="SAMLRequest" value="{encoded}"/><input type="hidden" name="RelayState" value="/"/>
               </form></body></html>"#
        );
        assert_eq!(request_id_from_form(&page).as_deref(), Ok("_post1"));
        assert!(request_id_from_form("<html><form><input name=\"RelayState\" value=\"/\"></form></html>").is_err());
        let deflated = super::super::attacks::redirect_encode(xml).expect("deflates");
        let page = format!(r#"<form><input name="SAMLRequest" value="{deflated}"></form>"#);
        assert!(request_id_from_form(&page).is_err(), "the POST binding does not deflate");
    }
}
