//! Helpers of the SAML tests: a server of its own on a manual clock with an enterprise workspace, IdPs with RSA keys
//! made at test time (`saml::testing`, shared with `server/src/saml/tests.rs`), Responses signed with xmlsec, and a
//! browser that does not follow redirects.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use idconform_server::ServerConfig;
use idconform_server::clock::{Clock, ManualClock};
use idconform_server::saml::testing::TestKey;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{Auth, Ws, call, workspace};
use crate::oauth_support::{enc, parse_query};
use crate::support::{Resp, Server, spawn_with_clock};

/// An IdP signing key: the ACS tests' own (`saml::testing`), with its certificate in PEM.
pub struct IdpKey {
    key: TestKey,
    pub cert_pem: String,
}

impl IdpKey {
    fn generate(cn: &str) -> IdpKey {
        let key = TestKey::generate(cn);
        IdpKey { cert_pem: key.cert_pem(), key }
    }

    pub fn cert_base64(&self) -> String {
        self.key.cert_base64()
    }

    /// Signs XML holding a signature template (an enveloped signature, SAML Core §5.4) with xmlsec.
    pub fn sign_xml(&self, xml: &str) -> String {
        self.key.sign_xml(xml)
    }

    /// Signs the HTTP-Redirect binding's octets (SAML Bindings §3.4.4.1) with RSA-SHA256.
    pub fn sign_query(&self, octets: &str) -> String {
        self.key.sign_query(octets)
    }
}

/// Two IdP keys (one per test workspace) and an attacker's; made once per test binary.
pub struct Keys {
    pub idp: IdpKey,
    pub other: IdpKey,
    pub attacker: IdpKey,
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        idp: IdpKey::generate("idp.example.test"),
        other: IdpKey::generate("other-idp.example.test"),
        attacker: IdpKey::generate("attacker.example.test"),
    })
}

pub const IDP_SSO: &str = "https://idp.example.test/sso";
pub const IDP_SLO: &str = "https://idp.example.test/slo";

/// A server on a manual clock with an enterprise workspace.
pub struct Env {
    pub s: Server,
    pub clock: ManualClock,
    pub ws: Ws,
}

pub async fn env() -> Env {
    env_with(ServerConfig::default()).await
}

pub async fn env_with(config: ServerConfig) -> Env {
    let start = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").expect("date").to_utc();
    let clock = ManualClock::new(start);
    let s = spawn_with_clock(config, Arc::new(clock.clone()));
    let ws = workspace(&s, "enterprise").await;
    Env { s, clock, ws }
}

/// A Response to sign, field by field.
#[derive(Clone)]
pub struct ResponseSpec {
    pub in_response_to: Option<String>,
    pub issuer: String,
    pub name_id: String,
    pub acs: String,
    pub audience: String,
    pub assertion_id: String,
    pub now: DateTime<Utc>,
}

impl ResponseSpec {
    /// The Response's XML, its Assertion signed with `key`.
    pub fn signed_by(&self, key: &IdpKey) -> String {
        let now = xsd(self.now);
        let until = xsd(self.now + Duration::minutes(5));
        let irt = self.in_response_to.as_ref().map(|r| format!(r#" InResponseTo="{r}""#)).unwrap_or_default();
        let signature = format!(
            r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
            id = self.assertion_id,
            cert = key.cert_base64(),
        );
        let assertion = format!(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}"><saml:Issuer>{issuer}</saml:Issuer>{signature}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{name_id}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData{irt} NotOnOrAfter="{until}" Recipient="{acs}"/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{now}" NotOnOrAfter="{until}"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions><saml:AuthnStatement AuthnInstant="{now}" SessionIndex="_idp_session_1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement></saml:Assertion>"#,
            id = self.assertion_id,
            issuer = self.issuer,
            name_id = self.name_id,
            acs = self.acs,
            audience = self.audience,
        );
        let signed = key.key.sign_xml(&assertion);
        format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_resp_{aid}" Version="2.0" IssueInstant="{now}" Destination="{acs}"{irt}><saml:Issuer>{issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>{signed}</samlp:Response>"#,
            aid = self.assertion_id.trim_start_matches('_'),
            acs = self.acs,
            issuer = self.issuer,
        )
    }
}

pub fn xsd(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A client that does not follow redirects and keeps no cookies.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

pub async fn read(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.expect("request");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, body, text }
}

/// The session cookie's value from a `Set-Cookie` header.
pub fn session_cookie(r: &Resp) -> Option<String> {
    let set = r.header("set-cookie")?;
    let value = set.split(';').next()?.split_once('=')?.1.to_owned();
    Some(value).filter(|v| !v.is_empty())
}

/// An inflated HTTP-Redirect message from a URL's query parameter.
pub fn redirect_message(location: &str, param: &str) -> String {
    let (_, query) = location.split_once('?').expect("query");
    let pairs = parse_query(query);
    let value = crate::oauth_support::param(&pairs, param).expect("message parameter");
    let raw = base64::engine::general_purpose::STANDARD.decode(value).expect("base64");
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(raw.as_slice()).read_to_string(&mut xml).expect("inflates");
    xml
}

/// The value of attribute `name` of the first element that has it.
pub fn xml_attr(xml: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = xml.find(&marker)? + marker.len();
    let end = xml[start..].find('"')? + start;
    Some(xml[start..end].to_owned())
}

impl Env {
    pub fn admin(&self) -> Auth {
        Auth::Bearer(self.ws.owner_jwt.clone())
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Creates a connection by its fields as the owner; returns its JSON.
    pub async fn connection(&self, ws: &Ws, entity_id: &str, key: &IdpKey) -> Value {
        let body =
            json!({"entity_id": entity_id, "sso_url": IDP_SSO, "slo_url": IDP_SLO, "certificates": [key.cert_pem]});
        let r =
            call(&self.s.origin, Method::POST, "/saml/connections", &Auth::Bearer(ws.owner_jwt.clone()), Some(&body))
                .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    /// `GET /saml/authorize/{ws}` with an optional RelayState.
    pub async fn authorize(&self, ws: &str, relay_state: Option<&str>) -> Resp {
        let q = relay_state.map(|r| format!("?RelayState={}", enc(r))).unwrap_or_default();
        read(browser().get(format!("{}/saml/authorize/{ws}{q}", self.s.origin))).await
    }

    /// Starts a sign-in and returns the AuthnRequest's ID, asserting the redirect's shape.
    pub async fn request_id(&self, ws: &str) -> String {
        let r = self.authorize(ws, None).await;
        assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
        let location = r.header("location").expect("location");
        let xml = redirect_message(location, "SAMLRequest");
        xml_attr(&xml, "ID").expect("request ID")
    }

    /// A Response to `request` for the workspace `ws` from `issuer`, as `name_id`.
    pub fn spec(&self, ws: &str, request: Option<&str>, issuer: &str, name_id: &str) -> ResponseSpec {
        ResponseSpec {
            in_response_to: request.map(str::to_owned),
            issuer: issuer.to_owned(),
            name_id: name_id.to_owned(),
            acs: format!("{}/saml/callback", self.s.origin),
            audience: format!("{}/saml/metadata/{ws}", self.s.origin),
            assertion_id: format!("_a{}", uuid::Uuid::new_v4().simple()),
            now: self.now(),
        }
    }

    /// Posts a Response (XML, base64-encoded here) to the ACS.
    pub async fn post_response(&self, xml: &str, relay_state: Option<&str>) -> Resp {
        let encoded = base64::engine::general_purpose::STANDARD.encode(xml);
        let mut body = format!("SAMLResponse={}", enc(&encoded));
        if let Some(rs) = relay_state {
            body.push_str(&format!("&RelayState={}", enc(rs)));
        }
        read(
            browser()
                .post(format!("{}/saml/callback", self.s.origin))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }

    /// `GET /api/v1/session` with a session cookie.
    pub async fn session(&self, cookie: &str) -> Resp {
        call(
            &self.s.origin,
            Method::GET,
            "/api/v1/session",
            &Auth::Session { cookie: cookie.to_owned(), csrf: None },
            None,
        )
        .await
    }
}
