//! IdP-initiated single logout with the HTTP-POST binding (SAML Bindings §3.5, SAML Profiles §4.4.4.1): the posted
//! LogoutRequest carries an enveloped signature, signed here with xmlsec by the test keys, that must verify with
//! the connection's certificates; the answer goes back by HTTP-POST (an auto-submitting form) when the IdP has a
//! POST single logout service, else by redirect. One test per refusal: unsigned, a foreign key, tampered content,
//! a wrong Destination, a replayed ID. And SP-initiated logout towards an IdP whose only service is HTTP-POST.

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin_support::call;
use crate::oauth_support::{enc, hidden};
use crate::saml_support::{
    Env, IDP_SLO, IDP_SSO, IdpKey, browser, env, keys, read, redirect_message, session_cookie, xml_attr, xsd,
};
use crate::support::Resp;

const IDP: &str = "https://idp.example.test/metadata";
const SLO_POST: &str = "https://idp.example.test/slo-post";

/// A LogoutRequest from the IdP, field by field.
struct LogoutSpec {
    id: String,
    destination: String,
    name_id: String,
}

impl LogoutSpec {
    fn new(e: &Env) -> LogoutSpec {
        LogoutSpec {
            id: format!("_lr{}", uuid::Uuid::new_v4().simple()),
            destination: format!("{}/saml/logout/callback", e.s.origin),
            name_id: e.ws.member.email.clone(),
        }
    }

    /// The XML, with `signature` (a template, or nothing) after the Issuer, where SAML Core's schema puts it.
    fn xml(&self, e: &Env, signature: &str) -> String {
        format!(
            r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{dest}"><saml:Issuer>{IDP}</saml:Issuer>{signature}<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{name}</saml:NameID><samlp:SessionIndex>_idp_session_1</samlp:SessionIndex></samlp:LogoutRequest>"#,
            id = self.id,
            now = xsd(e.now()),
            dest = self.destination,
            name = self.name_id,
        )
    }

    fn unsigned(&self, e: &Env) -> String {
        self.xml(e, "")
    }

    /// Signed with `key` (RSA-SHA256, exclusive C14N, enveloped: SAML Core §5.4).
    fn signed_by(&self, e: &Env, key: &IdpKey) -> String {
        let template = format!(
            r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
            id = self.id,
            cert = key.cert_base64(),
        );
        key.sign_xml(&self.xml(e, &template))
    }
}

/// A connection with both single logout services (the HTTP-POST one only if `post`).
async fn connection(e: &Env, post: bool) -> String {
    let mut body =
        json!({"entity_id": IDP, "sso_url": IDP_SSO, "slo_url": IDP_SLO, "certificates": [keys().idp.cert_pem]});
    if post {
        body["slo_post_url"] = json!(SLO_POST);
    }
    let r = call(&e.s.origin, Method::POST, "/saml/connections", &e.admin(), Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().expect("id").to_owned()
}

async fn sign_in(e: &Env) -> String {
    let id = e.request_id(&e.ws.id).await;
    let xml = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email).signed_by(&keys().idp);
    let r = e.post_response(&xml, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    session_cookie(&r).expect("cookie")
}

/// Posts `param` (`SAMLRequest` or `SAMLResponse`) with the HTTP-POST binding: base64, never deflated.
async fn post(e: &Env, param: &str, xml: &str, relay_state: Option<&str>) -> Resp {
    let mut body = format!("{param}={}", enc(&base64::engine::general_purpose::STANDARD.encode(xml)));
    if let Some(rs) = relay_state {
        body.push_str(&format!("&RelayState={}", enc(rs)));
    }
    read(
        browser()
            .post(format!("{}/saml/logout/callback", e.s.origin))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

fn decoded(html: &str, name: &str) -> String {
    let value = hidden(html, name).unwrap_or_else(|| panic!("no {name} field in {html}"));
    let bytes = base64::engine::general_purpose::STANDARD.decode(value).expect("base64");
    String::from_utf8(bytes).expect("UTF-8")
}

#[tokio::test]
async fn a_signed_posted_logout_request_ends_the_session_and_is_answered_by_post() {
    let e = env().await;
    connection(&e, true).await;
    let cookie = sign_in(&e).await;
    let spec = LogoutSpec::new(&e);

    let r = post(&e, "SAMLRequest", &spec.signed_by(&e, &keys().idp), Some("idp-state-1")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(e.session(&cookie).await.status, StatusCode::UNAUTHORIZED, "the session ended");
    assert!(r.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")), "{:?}", r.header("set-cookie"));
    // SAML Bindings §3.5.4: a form the browser submits to the IdP's HTTP-POST single logout service.
    assert!(r.text.contains(&format!(r#"<form method="post" action="{SLO_POST}">"#)), "{}", r.text);
    assert!(r.text.contains("<script>document.forms[0].submit()</script>"), "{}", r.text);
    assert_eq!(hidden(&r.text, "RelayState").as_deref(), Some("idp-state-1"), "the IdP's RelayState goes back");
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'sha256-"), "{csp}");
    let response = decoded(&r.text, "SAMLResponse");
    assert!(response.starts_with("<samlp:LogoutResponse"), "{response}");
    assert_eq!(xml_attr(&response, "InResponseTo"), Some(spec.id.clone()));
    assert_eq!(xml_attr(&response, "Destination").as_deref(), Some(SLO_POST));
    assert!(response.contains("urn:oasis:names:tc:SAML:2.0:status:Success"), "{response}");
}

#[tokio::test]
async fn without_a_post_logout_service_the_answer_is_a_redirect() {
    let e = env().await;
    connection(&e, false).await;
    let cookie = sign_in(&e).await;
    let spec = LogoutSpec::new(&e);
    let r = post(&e, "SAMLRequest", &spec.signed_by(&e, &keys().idp), None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let location = r.header("location").expect("location");
    assert!(location.starts_with(&format!("{IDP_SLO}?SAMLResponse=")), "{location}");
    let response = redirect_message(location, "SAMLResponse");
    assert_eq!(xml_attr(&response, "InResponseTo"), Some(spec.id.clone()));
    assert_eq!(e.session(&cookie).await.status, StatusCode::UNAUTHORIZED);
}

/// Posts `xml` as an IdP's LogoutRequest and asserts it is refused by `code`, and that the session lives on.
async fn assert_refused(e: &Env, cookie: &str, xml: &str, status: StatusCode, code: &str) {
    let r = post(e, "SAMLRequest", xml, None).await;
    assert_eq!(r.status, status, "{code}: {}", r.text);
    assert_eq!(r.body["code"], code, "{}", r.text);
    assert!(r.header("set-cookie").is_none(), "{code}: a refusal sets no cookie");
    assert_eq!(e.session(cookie).await.status, StatusCode::OK, "{code}: the session lives on");
}

#[tokio::test]
async fn an_unsigned_posted_logout_request_is_refused() {
    let e = env().await;
    connection(&e, true).await;
    let cookie = sign_in(&e).await;
    let spec = LogoutSpec::new(&e);
    assert_refused(&e, &cookie, &spec.unsigned(&e), StatusCode::FORBIDDEN, "unsigned").await;
}

#[tokio::test]
async fn a_logout_request_signed_by_a_foreign_key_is_refused() {
    let e = env().await;
    connection(&e, true).await;
    let cookie = sign_in(&e).await;
    let spec = LogoutSpec::new(&e);
    // The attacker's certificate rides in KeyInfo; only the connection's certificates are ever used.
    assert_refused(&e, &cookie, &spec.signed_by(&e, &keys().attacker), StatusCode::FORBIDDEN, "signature_invalid")
        .await;
}

#[tokio::test]
async fn a_tampered_logout_request_is_refused() {
    let e = env().await;
    connection(&e, true).await;
    let cookie = sign_in(&e).await;
    let spec = LogoutSpec { name_id: "victim@example.test".into(), ..LogoutSpec::new(&e) };
    let signed = spec.signed_by(&e, &keys().idp);
    let tampered = signed.replace("victim@example.test", &e.ws.member.email);
    assert_ne!(signed, tampered);
    assert_refused(&e, &cookie, &tampered, StatusCode::FORBIDDEN, "signature_invalid").await;
}

#[tokio::test]
async fn a_logout_request_for_another_destination_is_refused() {
    let e = env().await;
    connection(&e, true).await;
    let cookie = sign_in(&e).await;
    let spec = LogoutSpec { destination: "https://sp.evil.test/saml/logout/callback".into(), ..LogoutSpec::new(&e) };
    // SAML Bindings §3.5.5.2: a signed message names where it is to be delivered, and that is checked.
    assert_refused(&e, &cookie, &spec.signed_by(&e, &keys().idp), StatusCode::FORBIDDEN, "destination").await;
}

#[tokio::test]
async fn a_replayed_logout_request_is_refused() {
    let e = env().await;
    connection(&e, true).await;
    let first = sign_in(&e).await;
    let spec = LogoutSpec::new(&e);
    let signed = spec.signed_by(&e, &keys().idp);
    assert_eq!(post(&e, "SAMLRequest", &signed, None).await.status, StatusCode::OK);
    assert_eq!(e.session(&first).await.status, StatusCode::UNAUTHORIZED);
    // Signed in again: the same request, seen again, ends nothing.
    let cookie = sign_in(&e).await;
    assert_refused(&e, &cookie, &signed, StatusCode::FORBIDDEN, "replay").await;
}

#[tokio::test]
async fn a_signed_posted_logout_response_lands_on_the_signed_out_page() {
    let e = env().await;
    connection(&e, true).await;
    let id = "_lresp_post";
    let template = format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>"##
    );
    let xml = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{o}/saml/logout/callback" InResponseTo="_x"><saml:Issuer>{IDP}</saml:Issuer>{template}<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#,
        now = xsd(e.now()),
        o = e.s.origin,
    );
    let signed = keys().idp.sign_xml(&xml);
    let r = post(&e, "SAMLResponse", &signed, Some("ignored")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.header("location"), Some(format!("{}/saml/signed-out", e.s.origin).as_str()));
}

#[tokio::test]
async fn sp_initiated_logout_posts_to_an_idp_whose_only_single_logout_service_is_http_post() {
    let e = env().await;
    let body =
        json!({"entity_id": IDP, "sso_url": IDP_SSO, "slo_post_url": SLO_POST, "certificates": [keys().idp.cert_pem]});
    let r = call(&e.s.origin, Method::POST, "/saml/connections", &e.admin(), Some(&body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let cookie = sign_in(&e).await;
    let r = read(
        browser()
            .get(format!("{}/saml/logout/{}", e.s.origin, e.ws.id))
            .header("cookie", format!("idconform_session={cookie}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains(&format!(r#"action="{SLO_POST}""#)), "{}", r.text);
    let message = hidden(&r.text, "SAMLRequest").expect("a SAMLRequest field");
    let xml =
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(message).expect("base64")).expect("utf-8");
    assert!(xml.starts_with("<samlp:LogoutRequest"), "{xml}");
    assert_eq!(xml_attr(&xml, "Destination").as_deref(), Some(SLO_POST));
    assert!(xml.contains(&e.ws.member.email), "{xml}");
    assert!(r.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")), "the session cookie is cleared");
    assert_eq!(e.session(&cookie).await.status, StatusCode::UNAUTHORIZED, "the session is over");
}
