//! `idconform idp saml serve` and `idconform idp metadata`: the mock SAML 2.0 IdP of the harness
//! (`idconform_harness::saml`) as an HTTP server a browser and an SP can use, and its metadata for an SP to import.
//!
//! Routes (relative to the base URL):
//! - `GET /metadata`: the IdP's EntityDescriptor (SAML Metadata §2.3.2), `application/samlmetadata+xml`.
//! - `GET /sso` (HTTP-Redirect binding, SAML Bindings §3.4.4.1) and `POST /sso` (HTTP-POST binding, §3.5.4): an
//!   AuthnRequest, answered with a login page to pick a user or type an email.
//! - `POST /sso/login`: the signed Response, in a form the browser posts to the SP's ACS (§3.5.4).
//! - `GET /idp-initiated?acs=&audience=&relay_state=`: the same login page, for an unsolicited Response.
//! - `GET|POST /slo`: single logout (SAML Profiles §4.4): a LogoutResponse signed for the HTTP-Redirect binding back
//!   to the SP's single logout service, or a signed-out page.
//!
//! The pages have no scripts, escape every value, and carry `Content-Security-Policy: default-src 'none'`; the
//! Response form has a visible Continue button.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use idconform_harness::saml::{
    AttributeStyle, AuthnRequest, IdpKey, LogoutRequest, NamespaceStyle, ResponseSpec, SamlIdpError, SigningMode,
    logout_response_xml, metadata_xml, post_fields, signed_redirect_query,
};
use idconform_server::markup::escape;

use super::common::say;

/// `idconform idp …`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The mock SAML 2.0 IdP: `idp saml serve` runs it as an HTTP server.
    Saml(SamlArgs),
    /// Print the mock SAML IdP's metadata XML (for an SP to import); the same flags as `idp saml serve` give the
    /// same entity ID, URLs and certificate.
    Metadata(IdentityArgs),
}

#[derive(Debug, clap::Args)]
struct SamlArgs {
    #[command(subcommand)]
    command: SamlCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SamlCommand {
    /// Serve the mock SAML IdP: metadata, single sign-on (both bindings), IdP-initiated sign-on, single logout.
    Serve(ServeArgs),
}

/// Who the IdP is: where it listens, its entity ID and its signing key.
#[derive(Debug, clap::Args)]
struct IdentityArgs {
    /// Address to listen on (`idp metadata` uses it for the URLs it prints).
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// Externally visible base URL, e.g. `https://idp.example.test` (default `http://` and the listening address).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// The IdP's entity ID (default: the metadata URL, `<base>/metadata`).
    #[arg(long, value_name = "URL")]
    entity_id: Option<String>,
    /// The signing key, PEM (PKCS#8 or PKCS#1); without --key and --cert a new key is generated.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// The key's certificate, PEM.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Write the generated key here (PKCS#8 PEM), to start again with the same key.
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    key_out: Option<PathBuf>,
    /// Write the generated certificate here (PEM): what the SP trusts.
    #[arg(long, value_name = "FILE", conflicts_with = "cert")]
    cert_out: Option<PathBuf>,
}

/// Options of `idconform idp saml serve`.
#[derive(Debug, clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    identity: IdentityArgs,
    /// Whose attribute statement and namespace spelling the Responses follow.
    #[arg(long, value_enum, default_value_t = Style::Okta)]
    style: Style,
    /// Which elements carry the signature (SAML Profiles §4.1.4.5, as amended by the errata: the assertion or the
    /// Response).
    #[arg(long, value_enum, default_value_t = Signing::Assertion)]
    signing: Signing,
    /// A user offered on the login page (repeatable); any other email can be typed in.
    #[arg(long = "user", value_name = "EMAIL")]
    users: Vec<String>,
    /// The SP's ACS URL: used when an AuthnRequest names none and for IdP-initiated sign-on; when set, a request
    /// naming another ACS is refused.
    #[arg(long, value_name = "URL")]
    sp_acs: Option<String>,
    /// The SP's entity ID: the Audience of IdP-initiated Responses; when set, requests from another SP are refused.
    #[arg(long, value_name = "URL")]
    sp_entity_id: Option<String>,
    /// The SP's single logout service, where LogoutResponses go (HTTP-Redirect binding).
    #[arg(long, value_name = "URL")]
    sp_slo_url: Option<String>,
}

/// The Response style: attribute names and formats, and namespace prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Style {
    /// Okta: `email`, `firstName`, `lastName` attributes, `saml2:`/`saml2p:` prefixes.
    Okta,
    /// Microsoft Entra ID: the claim URIs, the assertion namespace as default namespace.
    Entra,
    /// No attribute statement, `saml:`/`samlp:` prefixes.
    Generic,
}

/// Which elements of a Response are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Signing {
    /// The Assertion only (what Okta and Entra do by default).
    Assertion,
    /// The Response only; its signature covers the Assertion.
    Response,
    /// The Assertion, and the Response around it.
    Both,
}

impl Signing {
    fn mode(self) -> SigningMode {
        match self {
            Signing::Assertion => SigningMode::AssertionSigned,
            Signing::Response => SigningMode::ResponseSigned,
            Signing::Both => SigningMode::Both,
        }
    }
}

impl Style {
    fn attributes(self) -> AttributeStyle {
        match self {
            Style::Okta => AttributeStyle::Okta,
            Style::Entra => AttributeStyle::Entra,
            Style::Generic => AttributeStyle::None,
        }
    }

    fn namespaces(self) -> NamespaceStyle {
        match self {
            Style::Okta => NamespaceStyle::Okta,
            Style::Entra => NamespaceStyle::Entra,
            Style::Generic => NamespaceStyle::Saml,
        }
    }
}

/// Runs the subcommand; returns the exit code.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Metadata(identity) => {
            let idp = identity.resolve(&format!("http://{}", identity.listen))?;
            say(&idp.metadata());
            Ok(ExitCode::SUCCESS)
        }
        Command::Saml(SamlArgs { command: SamlCommand::Serve(args) }) => serve(args).await,
    }
}

/// The IdP's identity once resolved: base URL, entity ID, key.
struct Identity {
    base: String,
    entity_id: String,
    key: IdpKey,
}

impl Identity {
    fn metadata(&self) -> String {
        metadata_xml(&self.entity_id, &format!("{}/sso", self.base), &format!("{}/slo", self.base), &self.key)
    }
}

impl IdentityArgs {
    /// The identity, `default_base` standing in for --public-url; a generated key is written where asked.
    fn resolve(&self, default_base: &str) -> anyhow::Result<Identity> {
        let base = self.public_url.as_deref().unwrap_or(default_base).trim_end_matches('/').to_owned();
        let entity_id = self.entity_id.clone().unwrap_or_else(|| format!("{base}/metadata"));
        let key = match (&self.key, &self.cert) {
            (Some(key), Some(cert)) => IdpKey::from_pem_files(key, cert)?,
            _ => {
                let host = base.split("://").nth(1).and_then(|rest| rest.split([':', '/']).next()).unwrap_or("idp");
                let key = IdpKey::generate(host)?;
                if let Some(path) = &self.key_out {
                    write_new(path, &key.private_key_pem()?)?;
                }
                if let Some(path) = &self.cert_out {
                    write_new(path, key.certificate_pem())?;
                }
                if self.key_out.is_none() {
                    eprintln!("note: a new signing key was generated; --key-out and --cert-out keep it for next time");
                }
                key
            }
        };
        Ok(Identity { base, entity_id, key })
    }
}

fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// What the handlers share.
struct Idp {
    identity: Identity,
    metadata: String,
    style: Style,
    signing: Signing,
    users: Vec<String>,
    sp_acs: Option<String>,
    sp_entity_id: Option<String>,
    sp_slo_url: Option<String>,
    /// xmlsec signs one document at a time.
    sign_lock: parking_lot::Mutex<()>,
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let listen = args.identity.listen;
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let identity = args.identity.resolve(&format!("http://{addr}"))?;
    let base = identity.base.clone();
    let idp = Idp {
        metadata: identity.metadata(),
        identity,
        style: args.style,
        signing: args.signing,
        users: args.users,
        sp_acs: args.sp_acs,
        sp_entity_id: args.sp_entity_id,
        sp_slo_url: args.sp_slo_url,
        sign_lock: parking_lot::Mutex::new(()),
    };
    say(&format!("idconform mock SAML IdP listening on http://{addr}"));
    say(&format!("IdP entity ID:    {}", idp.identity.entity_id));
    say(&format!("IdP SSO URL:      {base}/sso"));
    say(&format!("IdP metadata URL: {base}/metadata"));
    say(&format!("IdP base URL:     {base}"));
    axum::serve(listener, app(Arc::new(idp)))
        .with_graceful_shutdown(super::serve::shutdown_signal())
        .await
        .context("serving")?;
    tracing::info!("shut down cleanly");
    Ok(ExitCode::SUCCESS)
}

fn app(idp: Arc<Idp>) -> Router {
    Router::new()
        .route("/metadata", get(metadata))
        .route("/sso", get(sso_redirect).post(sso_post))
        .route("/sso/login", post(login))
        .route("/idp-initiated", get(idp_initiated))
        .route("/slo", get(slo_redirect).post(slo_post))
        .with_state(idp)
}

/// A refused request: a 4xx with a page saying why.
#[derive(Debug)]
struct Refusal(StatusCode, String);

impl Refusal {
    fn bad(why: impl Into<String>) -> Refusal {
        Refusal(StatusCode::BAD_REQUEST, why.into())
    }
}

impl From<SamlIdpError> for Refusal {
    fn from(e: SamlIdpError) -> Self {
        Refusal::bad(e.to_string())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        tracing::info!(status = %self.0, reason = %self.1, "request refused");
        html(self.0, "Request refused", &format!("<p>{}</p>", escape(&self.1)))
    }
}

type Handled = Result<Response, Refusal>;

async fn metadata(State(idp): State<Arc<Idp>>) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/samlmetadata+xml"))], idp.metadata.clone())
        .into_response()
}

async fn sso_redirect(State(idp): State<Arc<Idp>>, RawQuery(query): RawQuery) -> Handled {
    sso(&idp, &form_pairs(query.as_deref().unwrap_or_default()), true)
}

async fn sso_post(State(idp): State<Arc<Idp>>, body: Bytes) -> Handled {
    sso(&idp, &body_pairs(&body)?, false)
}

/// An AuthnRequest from either binding: the login page answering it.
fn sso(idp: &Idp, pairs: &[(String, String)], deflated: bool) -> Handled {
    let value = field(pairs, "SAMLRequest")
        .ok_or_else(|| Refusal::bad("no SAMLRequest (SAML Bindings §3.4.4.1, §3.5.4)"))?
        .replace(' ', "+");
    let request = AuthnRequest::decode(&value, deflated)?;
    if let Some(sp) = &idp.sp_entity_id
        && *sp != request.issuer
    {
        return Err(Refusal::bad(format!("the request comes from {:?}; this IdP serves {sp:?}", request.issuer)));
    }
    let acs = match (&request.acs_url, &idp.sp_acs) {
        (Some(asked), Some(known)) if asked != known => {
            return Err(Refusal::bad(format!("the request's ACS {asked:?} is not the SP's {known:?}")));
        }
        (Some(asked), _) => asked.clone(),
        (None, Some(known)) => known.clone(),
        (None, None) => {
            return Err(Refusal::bad("the request names no AssertionConsumerServiceURL and --sp-acs is not set"));
        }
    };
    let login = Login {
        acs,
        audience: request.issuer,
        in_response_to: Some(request.id),
        relay_state: field(pairs, "RelayState"),
    };
    login.check()?;
    Ok(html(StatusCode::OK, "Sign in", &login_page(&idp.identity.base, &idp.users, &login)))
}

async fn idp_initiated(State(idp): State<Arc<Idp>>, RawQuery(query): RawQuery) -> Handled {
    let pairs = form_pairs(query.as_deref().unwrap_or_default());
    let acs = field(&pairs, "acs")
        .or_else(|| idp.sp_acs.clone())
        .ok_or_else(|| Refusal::bad("no acs parameter and --sp-acs is not set"))?;
    let audience = field(&pairs, "audience")
        .or_else(|| idp.sp_entity_id.clone())
        .ok_or_else(|| Refusal::bad("no audience parameter and --sp-entity-id is not set"))?;
    let login = Login { acs, audience, in_response_to: None, relay_state: field(&pairs, "relay_state") };
    login.check()?;
    Ok(html(StatusCode::OK, "Sign in", &login_page(&idp.identity.base, &idp.users, &login)))
}

async fn login(State(idp): State<Arc<Idp>>, body: Bytes) -> Handled {
    let pairs = body_pairs(&body)?;
    let email = field(&pairs, "email").map(|e| e.trim().to_owned()).unwrap_or_default();
    if email.is_empty() || email.len() > 320 || email.chars().any(char::is_control) {
        return Err(Refusal::bad("choose a user or type an email"));
    }
    let login = Login {
        acs: field(&pairs, "acs").unwrap_or_default(),
        audience: field(&pairs, "audience").unwrap_or_default(),
        in_response_to: field(&pairs, "in_response_to").filter(|v| !v.is_empty()),
        relay_state: field(&pairs, "relay_state"),
    };
    login.check()?;
    let (first, last) = names(&email);
    let spec = ResponseSpec::new(&idp.identity.entity_id, &login.acs, &login.audience)
        .in_response_to(login.in_response_to.clone())
        .name_id(email.clone())
        .email(email.clone())
        .first_name(first)
        .last_name(last)
        .object_id(object_id(&email))
        .attribute_style(idp.style.attributes())
        .namespace_style(idp.style.namespaces())
        .signing(idp.signing.mode());
    let xml = {
        let _one = idp.sign_lock.lock();
        spec.sign(&idp.identity.key).map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    };
    tracing::info!(%email, acs = %login.acs, "signed a Response");
    let fields = post_fields(&xml, login.relay_state.as_deref());
    Ok(html(StatusCode::OK, "Continue to the service provider", &post_page(&login.acs, &email, &fields)))
}

async fn slo_redirect(State(idp): State<Arc<Idp>>, RawQuery(query): RawQuery) -> Handled {
    slo(&idp, &form_pairs(query.as_deref().unwrap_or_default()), true)
}

async fn slo_post(State(idp): State<Arc<Idp>>, body: Bytes) -> Handled {
    slo(&idp, &body_pairs(&body)?, false)
}

/// Single logout: a LogoutRequest gets a LogoutResponse at the SP's single logout service when it is known;
/// anything else (the SP's LogoutResponse, nothing at all) the signed-out page.
fn slo(idp: &Idp, pairs: &[(String, String)], deflated: bool) -> Handled {
    let Some(value) = field(pairs, "SAMLRequest") else {
        return Ok(html(StatusCode::OK, "Signed out", "<p>You are signed out of the mock IdP.</p>"));
    };
    let request = LogoutRequest::decode(&value.replace(' ', "+"), deflated)?;
    let Some(slo_url) = &idp.sp_slo_url else {
        return Ok(html(
            StatusCode::OK,
            "Signed out",
            &format!(
                "<p>You are signed out of the mock IdP.</p><p>The LogoutRequest from <code>{}</code> gets no \
                 LogoutResponse: start the IdP with <code>--sp-slo-url</code> to send one.</p>",
                escape(&request.issuer)
            ),
        ));
    };
    let xml = logout_response_xml(&idp.identity.entity_id, slo_url, &request.id, chrono::Utc::now());
    let relay = field(pairs, "RelayState");
    let query = signed_redirect_query("SAMLResponse", &xml, relay.as_deref(), &idp.identity.key)?;
    let sep = if slo_url.contains('?') { '&' } else { '?' };
    let location = HeaderValue::from_str(&format!("{slo_url}{sep}{query}"))
        .map_err(|_| Refusal::bad("the SP's single logout URL is not a valid header value"))?;
    let mut r = StatusCode::FOUND.into_response();
    r.headers_mut().insert(header::LOCATION, location);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// What a Response will answer: where it goes, for which SP, to which request, with which RelayState.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Login {
    acs: String,
    audience: String,
    in_response_to: Option<String>,
    relay_state: Option<String>,
}

impl Login {
    /// The ACS must be an http(s) URL (the browser posts the assertion there), the audience non-empty.
    fn check(&self) -> Result<(), Refusal> {
        if !(self.acs.starts_with("https://") || self.acs.starts_with("http://")) {
            return Err(Refusal::bad("the ACS URL must be an http or https URL"));
        }
        if self.audience.trim().is_empty() {
            return Err(Refusal::bad("the SP's entity ID (the audience) is empty"));
        }
        // SAML Bindings §3.4.3, §3.5.3: RelayState MUST NOT exceed 80 bytes.
        if self.relay_state.as_ref().is_some_and(|r| r.len() > 80) {
            return Err(Refusal::bad("RelayState exceeds 80 bytes (SAML Bindings §3.4.3)"));
        }
        Ok(())
    }

    fn hidden_fields(&self) -> String {
        let mut out = hidden("acs", &self.acs) + &hidden("audience", &self.audience);
        if let Some(id) = &self.in_response_to {
            out += &hidden("in_response_to", id);
        }
        if let Some(relay) = &self.relay_state {
            out += &hidden("relay_state", relay);
        }
        out
    }
}

/// The login page: a button per configured user, and a field to type any email.
fn login_page(base: &str, users: &[String], login: &Login) -> String {
    let action = escape(&format!("{base}/sso/login"));
    let fields = login.hidden_fields();
    let mut page = format!(
        "<p>Service provider <code>{sp}</code> asks who you are; the Response goes to <code>{acs}</code>{irt}.</p>",
        sp = escape(&login.audience),
        acs = escape(&login.acs),
        irt = login
            .in_response_to
            .as_ref()
            .map(|id| format!(" in response to <code>{}</code>", escape(id)))
            .unwrap_or_else(|| " unsolicited (IdP-initiated)".to_owned()),
    );
    if !users.is_empty() {
        page.push_str(&format!("<form method=\"post\" action=\"{action}\">{fields}<ul>"));
        for user in users {
            let user = escape(user);
            page.push_str(&format!("<li><button type=\"submit\" name=\"email\" value=\"{user}\">{user}</button></li>"));
        }
        page.push_str("</ul></form>");
    }
    page.push_str(&format!(
        "<form method=\"post\" action=\"{action}\">{fields}<label>Email <input type=\"email\" name=\"email\" \
         required></label> <button type=\"submit\">Sign in</button></form>"
    ));
    page
}

/// The HTTP-POST binding's page (SAML Bindings §3.5.4): the fields in a form to the ACS, a Continue button.
fn post_page(acs: &str, email: &str, fields: &[(String, String)]) -> String {
    let inputs: String = fields.iter().map(|(name, value)| hidden(name, value)).collect();
    format!(
        "<p>Signed in as <code>{email}</code>.</p><form method=\"post\" action=\"{acs}\">{inputs}<button \
         type=\"submit\">Continue</button></form>",
        email = escape(email),
        acs = escape(acs),
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(name), escape(value))
}

/// An HTML page: no scripts, nothing loaded, never framed or cached.
fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · idconform mock IdP</title>\
         </head><body><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    );
    let mut r = (status, page).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// The pairs of a query string or `application/x-www-form-urlencoded` body, decoded (`+` is a space).
fn form_pairs(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn body_pairs(body: &[u8]) -> Result<Vec<(String, String)>, Refusal> {
    let text = std::str::from_utf8(body).map_err(|_| Refusal::bad("the form body is not UTF-8"))?;
    Ok(form_pairs(text))
}

/// The first value of `name`.
fn field(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

/// A given and a family name from an email's local part: `jane.doe@…` is Jane Doe, `admin@…` is Admin User.
fn names(email: &str) -> (String, String) {
    let local = email.split('@').next().unwrap_or(email);
    let mut parts = local.split(['.', '_', '-', '+']).filter(|p| !p.is_empty()).map(capitalize);
    let first = parts.next().unwrap_or_else(|| "User".to_owned());
    let rest: Vec<String> = parts.collect();
    (first, if rest.is_empty() { "User".to_owned() } else { rest.join(" ") })
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A stable, UUID-shaped object ID per email (Entra's `objectidentifier` differs per user): FNV-1a, twice.
fn object_id(email: &str) -> String {
    let fnv = |seed: u64| {
        email.to_lowercase().bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
    };
    let hex = format!("{:016x}{:016x}", fnv(0xcbf2_9ce4_8422_2325), fnv(0x6c62_272e_07bb_0142));
    format!("{}-{}-4{}-8{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> Login {
        Login {
            acs: "https://sp.test/acs".into(),
            audience: "https://sp.test/\"meta\"".into(),
            in_response_to: Some("_r<1>".into()),
            relay_state: Some("/a&b".into()),
        }
    }

    #[test]
    fn the_login_page_escapes_and_carries_the_request() {
        let page = login_page("http://idp.test", &["<b>@x.test".into()], &login());
        assert!(!page.contains("<b>@"), "{page}");
        assert!(page.contains(r#"<button type="submit" name="email" value="&lt;b&gt;@x.test">"#), "{page}");
        assert!(page.contains(r#"<input type="hidden" name="in_response_to" value="_r&lt;1&gt;">"#), "{page}");
        assert!(page.contains(r#"name="audience" value="https://sp.test/&quot;meta&quot;""#), "{page}");
        assert!(page.contains(r#"name="relay_state" value="/a&amp;b""#), "{page}");
        assert!(page.contains(r#"action="http://idp.test/sso/login""#), "{page}");
        assert!(!page.contains("<script"), "{page}");
    }

    #[test]
    fn the_post_page_posts_the_fields_to_the_acs() {
        let page = post_page("https://sp.test/acs?x=1&y=2", "a@b.test", &[("SAMLResponse".into(), "PHg+".into())]);
        assert!(page.contains(r#"<form method="post" action="https://sp.test/acs?x=1&amp;y=2">"#), "{page}");
        assert!(page.contains(r#"<input type="hidden" name="SAMLResponse" value="PHg+">"#), "{page}");
        assert!(page.contains(">Continue</button>"), "{page}");
    }

    #[test]
    fn logins_are_checked() {
        assert!(login().check().is_ok());
        for bad in [
            Login { acs: "javascript:alert(1)".into(), ..login() },
            Login { audience: " ".into(), ..login() },
            Login { relay_state: Some("x".repeat(81)), ..login() },
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn signing_picks_the_signed_elements() {
        assert_eq!(Signing::Assertion.mode(), SigningMode::AssertionSigned);
        assert_eq!(Signing::Response.mode(), SigningMode::ResponseSigned);
        assert_eq!(Signing::Both.mode(), SigningMode::Both);
    }

    #[test]
    fn forms_decode_and_names_derive() {
        let pairs = form_pairs("a=1+2&b=%2Fx%3D&c&=v");
        assert_eq!(field(&pairs, "a").as_deref(), Some("1 2"));
        assert_eq!(field(&pairs, "b").as_deref(), Some("/x="));
        assert_eq!(field(&pairs, "c").as_deref(), Some(""));
        assert_eq!(names("jane.doe@x.test"), ("Jane".into(), "Doe".into()));
        assert_eq!(names("admin@x.test"), ("Admin".into(), "User".into()));
        assert_eq!(object_id("A@x.test"), object_id("a@x.test"));
        assert_ne!(object_id("a@x.test"), object_id("b@x.test"));
        assert_eq!(object_id("a@x.test").len(), 36);
    }
}
