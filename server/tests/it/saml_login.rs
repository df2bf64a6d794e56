//! The SAML protocol routes end to end: the SP metadata, SP-initiated sign-in through the ACS to a working
//! dashboard session, the refusals (replay, another workspace's IdP, a forged signature, open redirects), and
//! single logout in both directions.

use reqwest::StatusCode;

use crate::oauth_support::enc;
use crate::saml_support::{IDP_SLO, IDP_SSO, browser, env, keys, read, redirect_message, session_cookie, xml_attr};

const IDP: &str = "https://idp.example.test/metadata";

#[tokio::test]
async fn the_sp_metadata_describes_the_workspace_sp() {
    let e = env().await;
    let o = &e.s.origin;
    let r = read(browser().get(format!("{o}/saml/metadata/{}", e.ws.id))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/samlmetadata+xml"));
    assert!(!r.text.contains("<!DOCTYPE"));
    assert_eq!(xml_attr(&r.text, "entityID"), Some(format!("{o}/saml/metadata/{}", e.ws.id)));
    let acs = format!(
        r#"<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{o}/saml/callback""#
    );
    assert!(r.text.contains(&acs), "{}", r.text);
    assert!(r.text.contains(&format!(r#"Location="{o}/saml/logout/callback""#)), "{}", r.text);
    assert!(
        r.text.contains("<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>")
    );

    let free = crate::admin_support::workspace(&e.s, "free").await;
    for ws in ["no-such-workspace", free.id.as_str()] {
        let r = read(browser().get(format!("{o}/saml/metadata/{ws}"))).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{ws}: {}", r.text);
    }
}

#[tokio::test]
async fn sp_initiated_sign_in_opens_a_session_once() {
    let e = env().await;
    let o = &e.s.origin;
    e.connection(&e.ws, IDP, &keys().idp).await;

    let r = e.authorize(&e.ws.id, Some("/api/v1/session?from=saml")).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    let location = r.header("location").expect("location").to_owned();
    assert!(location.starts_with(&format!("{IDP_SSO}?SAMLRequest=")), "{location}");
    assert!(location.contains(&format!("&RelayState={}", enc("/api/v1/session?from=saml"))), "{location}");
    let request = redirect_message(&location, "SAMLRequest");
    assert!(request.starts_with("<samlp:AuthnRequest"), "{request}");
    assert_eq!(xml_attr(&request, "Destination").as_deref(), Some(IDP_SSO));
    assert_eq!(xml_attr(&request, "AssertionConsumerServiceURL"), Some(format!("{o}/saml/callback")));
    assert!(xml_attr(&request, "IssueInstant").is_some_and(|t| t.starts_with("2030-01-01T00:00:00")), "{request}");
    assert!(request.contains(&format!("<saml:Issuer>{o}/saml/metadata/{}</saml:Issuer>", e.ws.id)), "{request}");
    let id = xml_attr(&request, "ID").expect("ID");

    let xml = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email).signed_by(&keys().idp);
    let r = e.post_response(&xml, Some("/api/v1/session?from=saml")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.header("location"), Some("/api/v1/session?from=saml"));
    let set = r.header("set-cookie").expect("set-cookie");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    let cookie = session_cookie(&r).expect("session cookie");
    let me = e.session(&cookie).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.body["member"]["email"], e.ws.member.email.as_str());

    // The same Response again: its request was consumed, so it answers nothing pending (SAML Profiles §4.1.4.3;
    // the replay cache of §4.1.4.5 stands behind it, see the unsolicited case below).
    let again = e.post_response(&xml, Some("/api/v1/session?from=saml")).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.text);
    assert_eq!(again.body["code"], "in_response_to", "{}", again.text);
    assert!(again.header("set-cookie").is_none());

    // A fresh assertion for the consumed request: the request is single use.
    let reused = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email).signed_by(&keys().idp);
    let r = e.post_response(&reused, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["code"], "in_response_to");
}

#[tokio::test]
async fn responses_that_must_not_sign_in_are_refused_without_a_cookie() {
    let e = env().await;
    e.connection(&e.ws, IDP, &keys().idp).await;
    let other = crate::admin_support::workspace(&e.s, "enterprise").await;
    e.connection(&other, "https://other-idp.example.test", &keys().other).await;
    let email = e.ws.member.email.clone();

    // Another workspace's IdP, signing correctly with its own key, answering this workspace's request.
    let id = e.request_id(&e.ws.id).await;
    let foreign = e.spec(&e.ws.id, Some(&id), "https://other-idp.example.test", &email).signed_by(&keys().other);
    // The attacker's key, with this workspace's IdP as Issuer.
    let forged = e.spec(&e.ws.id, Some(&e.request_id(&e.ws.id).await), IDP, &email).signed_by(&keys().attacker);
    // The audience of the other workspace's SP.
    let wrong_audience = e.spec(&other.id, Some(&e.request_id(&e.ws.id).await), IDP, &email).signed_by(&keys().idp);
    // Someone who is not a member.
    let stranger =
        e.spec(&e.ws.id, Some(&e.request_id(&e.ws.id).await), IDP, "stranger@elsewhere.test").signed_by(&keys().idp);
    // No pending request at all.
    let unknown = e.spec(&e.ws.id, Some("_never_issued"), IDP, &email).signed_by(&keys().idp);
    // Unsolicited, while the connection does not accept IdP-initiated sign-in.
    let unsolicited = e.spec(&e.ws.id, None, IDP, &email).signed_by(&keys().idp);
    let cases = [
        ("another workspace's IdP", foreign, "unknown_issuer"),
        ("forged signature", forged, "signature_invalid"),
        ("wrong audience", wrong_audience, "audience"),
        ("not a member", stranger, "unknown_member"),
        ("no such request", unknown, "in_response_to"),
        ("unsolicited", unsolicited, "unsolicited"),
        ("DOCTYPE", "<!DOCTYPE x><samlp:Response/>".to_owned(), "doctype"),
        ("not XML", "garbage".to_owned(), "malformed_xml"),
    ];
    for (name, xml, code) in cases {
        let r = e.post_response(&xml, None).await;
        assert!(r.status == StatusCode::FORBIDDEN || r.status == StatusCode::BAD_REQUEST, "{name}: {}", r.text);
        assert_eq!(r.body["code"], code, "{name}: {}", r.text);
        assert!(r.header("set-cookie").is_none(), "{name}");
    }

    let no_form = read(browser().post(format!("{}/saml/callback", e.s.origin)).body("x")).await;
    assert_eq!(no_form.status, StatusCode::BAD_REQUEST, "{}", no_form.text);
    let empty = read(
        browser()
            .post(format!("{}/saml/callback", e.s.origin))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("RelayState=%2F"),
    )
    .await;
    assert_eq!(empty.body["code"], "binding", "{}", empty.text);
}

#[tokio::test]
async fn relay_states_off_this_server_are_refused() {
    let e = env().await;
    e.connection(&e.ws, IDP, &keys().idp).await;
    for bad in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        &format!("/{}", "a".repeat(80)),
    ] {
        let r = e.authorize(&e.ws.id, Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert_eq!(r.body["code"], "relay_state", "{bad}");
    }
    // This server's own absolute URL is fine.
    let own = format!("{}/api/v1/session", e.s.origin);
    assert_eq!(e.authorize(&e.ws.id, Some(&own)).await.status, StatusCode::FOUND);

    // At the ACS, a valid Response with an external RelayState is refused before it is used…
    let id = e.request_id(&e.ws.id).await;
    let xml = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email).signed_by(&keys().idp);
    let r = e.post_response(&xml, Some("https://evil.example/")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.body["code"], "relay_state");
    assert!(r.header("set-cookie").is_none());
    // …so the same Response still signs in with a good one.
    let r = e.post_response(&xml, Some("/")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.header("location"), Some("/"));
}

#[tokio::test]
async fn an_allowlisted_relay_state_and_unsolicited_sign_in_when_enabled() {
    let config = idconform_server::ServerConfig {
        saml: idconform_server::saml::service::SamlConfig {
            relay_state_allowlist: vec!["https://app.example.test/".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let e = crate::saml_support::env_with(config).await;
    let conn = e.connection(&e.ws, IDP, &keys().idp).await;
    let path = format!("/saml/connections/{}", conn["id"].as_str().expect("id"));
    let r = crate::admin_support::call(
        &e.s.origin,
        reqwest::Method::PATCH,
        &path,
        &e.admin(),
        Some(&serde_json::json!({"allow_idp_initiated": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(e.authorize(&e.ws.id, Some("https://app.example.test/home")).await.status, StatusCode::FOUND);
    assert_eq!(e.authorize(&e.ws.id, Some("https://app.example.test.evil/")).await.status, StatusCode::BAD_REQUEST);

    let xml = e.spec(&e.ws.id, None, IDP, &e.ws.member.email).signed_by(&keys().idp);
    let r = e.post_response(&xml, Some("https://app.example.test/home")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.header("location"), Some("https://app.example.test/home"));
    // No request to consume: the replay cache refuses it the second time (SAML Profiles §4.1.4.5).
    let again = e.post_response(&xml, None).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN, "{}", again.text);
    assert_eq!(again.body["code"], "replay", "{}", again.text);
    assert!(again.header("set-cookie").is_none());
}

#[tokio::test]
async fn single_logout_in_both_directions() {
    let e = env().await;
    let o = &e.s.origin;
    e.connection(&e.ws, IDP, &keys().idp).await;
    let sign_in = || async {
        let id = e.request_id(&e.ws.id).await;
        let xml = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email).signed_by(&keys().idp);
        let r = e.post_response(&xml, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        session_cookie(&r).expect("cookie")
    };

    // SP-initiated: the session ends, and the browser takes a LogoutRequest to the IdP.
    let cookie = sign_in().await;
    let r = read(
        browser().get(format!("{o}/saml/logout/{}", e.ws.id)).header("cookie", format!("idconform_session={cookie}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    let location = r.header("location").expect("location");
    assert!(location.starts_with(&format!("{IDP_SLO}?SAMLRequest=")), "{location}");
    let request = redirect_message(location, "SAMLRequest");
    assert!(request.contains(&format!(">{}</saml:NameID>", e.ws.member.email)), "{request}");
    assert!(request.contains("<samlp:SessionIndex>_idp_session_1</samlp:SessionIndex>"), "{request}");
    assert_eq!(e.session(&cookie).await.status, StatusCode::UNAUTHORIZED);

    // The IdP's LogoutResponse lands on the signed-out page.
    let answer = messages_redirect(IDP_SLO, "SAMLResponse", &logout_response_xml());
    let (_, query) = answer.split_once('?').expect("query");
    let r = read(browser().get(format!("{o}/saml/logout/callback?{query}"))).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    assert_eq!(r.header("location"), Some(format!("{o}/saml/signed-out").as_str()));

    // IdP-initiated: a signed LogoutRequest ends the member's sessions and gets a LogoutResponse.
    let cookie = sign_in().await;
    let xml = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="{o}/saml/logout/callback"><saml:Issuer>{IDP}</saml:Issuer><saml:NameID>{}</saml:NameID></samlp:LogoutRequest>"#,
        e.ws.member.email
    );
    let url = messages_redirect(&format!("{o}/saml/logout/callback"), "SAMLRequest", &xml);
    let (_, unsigned) = url.split_once('?').expect("query");
    let octets = format!("{unsigned}&SigAlg={}", enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"));
    let forged = format!("{octets}&Signature={}", enc(&keys().attacker.sign_query(&octets)));
    let r = read(browser().get(format!("{o}/saml/logout/callback?{forged}"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["code"], "logout_signature");
    let r = read(browser().get(format!("{o}/saml/logout/callback?{unsigned}"))).await;
    assert_eq!(r.body["code"], "logout_signature", "unsigned: {}", r.text);
    assert_eq!(e.session(&cookie).await.status, StatusCode::OK, "refused requests end nothing");

    let signed = format!("{octets}&Signature={}", enc(&keys().idp.sign_query(&octets)));
    let r = read(browser().get(format!("{o}/saml/logout/callback?{signed}"))).await;
    assert_eq!(r.status, StatusCode::FOUND, "{}", r.text);
    let location = r.header("location").expect("location");
    assert!(location.starts_with(&format!("{IDP_SLO}?SAMLResponse=")), "{location}");
    let response = redirect_message(location, "SAMLResponse");
    assert_eq!(xml_attr(&response, "InResponseTo").as_deref(), Some("_lr1"), "{response}");
    assert!(response.contains("urn:oasis:names:tc:SAML:2.0:status:Success"));
    assert_eq!(e.session(&cookie).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn password_log_in_points_enforced_members_to_sso() {
    let e = env().await;
    e.connection(&e.ws, IDP, &keys().idp).await;
    let domain = e.ws.member.email.split_once('@').map(|(_, d)| d.to_owned()).expect("domain");
    let r = crate::admin_support::call(
        &e.s.origin,
        reqwest::Method::PATCH,
        "/saml/enforce",
        &e.admin(),
        Some(&serde_json::json!({"enforced": true, "domains": [domain]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The OAuth log-in form says so too.
    let app = crate::oauth_support::Env { s: clone_server(&e), clock: e.clock.clone(), ws: e.ws.clone() };
    let a = app.app(serde_json::json!({})).await;
    let query = app.query(&a, "user.read");
    let mut form = crate::oauth_support::parse_query(&query);
    form.push(("email".into(), e.ws.member.email.clone()));
    form.push(("password".into(), crate::admin_support::PASSWORD.into()));
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = app.post_form("/oauth/login", &refs, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("single sign-on"), "{}", r.text);
    assert!(r.header("set-cookie").is_none());
    // SSO still signs the member in.
    let id = e.request_id(&e.ws.id).await;
    let xml = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email).signed_by(&keys().idp);
    assert_eq!(e.post_response(&xml, None).await.status, StatusCode::SEE_OTHER);
}

fn clone_server(e: &crate::saml_support::Env) -> crate::support::Server {
    crate::support::Server { origin: e.s.origin.clone(), state: e.s.state.clone() }
}

fn logout_response_xml() -> String {
    format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lresp" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" InResponseTo="_x"><saml:Issuer>{IDP}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#
    )
}

/// An HTTP-Redirect URL carrying `xml` (what the IdP would send).
fn messages_redirect(endpoint: &str, param: &str, xml: &str) -> String {
    idconform_server::saml::messages::redirect_url(endpoint, param, xml, None).expect("url")
}

#[tokio::test]
async fn sign_in_starts_only_where_saml_is_set_up() {
    let e = env().await;
    let free = crate::admin_support::workspace(&e.s, "free").await;
    for (ws, code) in [
        ("no-such-workspace", "unknown_workspace"),
        (free.id.as_str(), "unknown_workspace"),
        (e.ws.id.as_str(), "no_connection"),
    ] {
        let r = e.authorize(ws, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{ws}: {}", r.text);
        assert_eq!(r.body["code"], code, "{ws}");
    }
}

#[tokio::test]
async fn an_idp_with_only_the_post_binding_gets_a_form() {
    let e = env().await;
    let xml = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{IDP}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.test/post-sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        keys().idp.cert_base64()
    );
    let r = crate::admin_support::call(
        &e.s.origin,
        reqwest::Method::POST,
        "/saml/connections",
        &e.admin(),
        Some(&serde_json::json!({"metadata_xml": xml})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = e.authorize(&e.ws.id, Some("/home")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains(r#"<form method="post" action="https://idp.example.test/post-sso">"#), "{}", r.text);
    assert!(r.text.contains(r#"name="RelayState" value="/home""#), "{}", r.text);
    assert!(r.header("content-security-policy").is_some_and(|c| c.contains("default-src 'none'")));
    let request = crate::oauth_support::hidden(&r.text, "SAMLRequest").expect("SAMLRequest field");
    let request =
        String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, request).expect("base64"))
            .expect("UTF-8");
    assert_eq!(xml_attr(&request, "Destination").as_deref(), Some("https://idp.example.test/post-sso"));

    // The Response to it signs in as usual.
    let id = xml_attr(&request, "ID").expect("ID");
    let xml = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email).signed_by(&keys().idp);
    assert_eq!(e.post_response(&xml, None).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn with_corporate_domains_only_their_members_sign_in() {
    let e = env().await;
    e.connection(&e.ws, IDP, &keys().idp).await;
    crate::admin_support::add_members(&e.s, &e.ws.id, "enterprise", &[("contractor@partner.test", "member")]).await;
    let domain = e.ws.member.email.split_once('@').map(|(_, d)| d.to_owned()).expect("domain");
    let r = crate::admin_support::call(
        &e.s.origin,
        reqwest::Method::PATCH,
        "/saml/enforce",
        &e.admin(),
        Some(&serde_json::json!({"enforced": false, "domains": [domain]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let id = e.request_id(&e.ws.id).await;
    let xml = e.spec(&e.ws.id, Some(&id), IDP, "contractor@partner.test").signed_by(&keys().idp);
    let r = e.post_response(&xml, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["code"], "unknown_member");
    let id = e.request_id(&e.ws.id).await;
    let xml = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email.to_uppercase()).signed_by(&keys().idp);
    assert_eq!(e.post_response(&xml, None).await.status, StatusCode::SEE_OTHER, "emails compare case-insensitively");
}

#[tokio::test]
async fn forged_host_headers_cannot_grow_the_service_providers_without_bound() {
    let e = env().await;
    e.connection(&e.ws, IDP, &keys().idp).await;
    // The real origin's provider exists and holds a pending request.
    e.request_id(&e.ws.id).await;
    let client = browser();
    let mut refused = None;
    for i in 0..1100 {
        let r = read(
            client.get(format!("{}/saml/authorize/{}", e.s.origin, e.ws.id)).header("host", format!("h{i}.evil.test")),
        )
        .await;
        if r.status != StatusCode::FOUND {
            assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
            assert_eq!(r.body["code"], "busy");
            refused = Some(i);
            break;
        }
    }
    assert_eq!(refused, Some(1023), "1024 providers at most, the real origin's included");
    let id = e.request_id(&e.ws.id).await;
    let xml = e.spec(&e.ws.id, Some(&id), IDP, &e.ws.member.email).signed_by(&keys().idp);
    assert_eq!(e.post_response(&xml, None).await.status, StatusCode::SEE_OTHER, "the real origin still signs in");
}

#[tokio::test]
async fn unsolicited_responses_go_to_the_workspace_their_audience_names() {
    let e = env().await;
    let other = crate::admin_support::workspace(&e.s, "enterprise").await;
    // The other workspace copies this one's IdP entity ID for an IdP of its own; both accept IdP-initiated sign-in.
    for (ws, key) in [(&e.ws, &keys().idp), (&other, &keys().other)] {
        let conn = e.connection(ws, IDP, key).await;
        let path = format!("/saml/connections/{}", conn["id"].as_str().expect("id"));
        let auth = crate::admin_support::Auth::Bearer(ws.owner_jwt.clone());
        let body = serde_json::json!({"allow_idp_initiated": true});
        let r = crate::admin_support::call(&e.s.origin, reqwest::Method::PATCH, &path, &auth, Some(&body)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    // Each workspace's IdP still signs its own members in: the copy makes nothing ambiguous.
    let mine = e.spec(&e.ws.id, None, IDP, &e.ws.member.email).signed_by(&keys().idp);
    let r = e.post_response(&mine, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let me = e.session(&session_cookie(&r).expect("cookie")).await;
    assert_eq!(me.body["member"]["email"], e.ws.member.email.as_str(), "{}", me.text);
    let theirs = e.spec(&other.id, None, IDP, &other.member.email).signed_by(&keys().other);
    let r = e.post_response(&theirs, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    // The other workspace's key claiming this workspace's Audience is verified with this workspace's certificates.
    let forged = e.spec(&e.ws.id, None, IDP, &e.ws.member.email).signed_by(&keys().other);
    let r = e.post_response(&forged, None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["code"], "signature_invalid", "{}", r.text);
    // An Audience naming no workspace of this server takes no connection.
    let nowhere = e.spec("no-such-workspace", None, IDP, &e.ws.member.email).signed_by(&keys().idp);
    let r = e.post_response(&nowhere, None).await;
    assert_eq!(r.body["code"], "unsolicited", "{}", r.text);
}
