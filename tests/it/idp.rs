//! `idconform idp`: the mock SAML IdP's metadata, and a whole SP-initiated sign-in through it into the reference
//! server (`idconform serve`), the browser's part played step by step.

use idconform_harness::saml::form_urlencode;
use reqwest::StatusCode;

use crate::cli::{Running, admin_token, idconform, scratch_db, serve_example, spawn_reading};

/// The base64 body of a PEM certificate, on one line (as `ds:X509Certificate` holds it).
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

#[test]
fn metadata_prints_the_certificate_and_the_sso_url() {
    let db = scratch_db("idp-metadata");
    let dir = std::path::Path::new(&db).parent().expect("dir").to_owned();
    let key = dir.join("idp-key.pem");
    let cert = dir.join("idp-cert.pem");
    let (key, cert) = (key.to_str().expect("utf-8"), cert.to_str().expect("utf-8"));
    let (code, out) = idconform(&["idp", "metadata", "--listen", "127.0.0.1:9", "--key-out", key, "--cert-out", cert]);
    assert_eq!(code, 0, "{out}");
    let cert_b64 = pem_body(&std::fs::read_to_string(cert).expect("the certificate was written"));
    assert!(out.contains(&format!("<ds:X509Certificate>{cert_b64}</ds:X509Certificate>")), "{out}");
    assert!(out.contains(r#"entityID="http://127.0.0.1:9/metadata""#), "{out}");
    assert!(out.contains(r#"Location="http://127.0.0.1:9/sso""#), "{out}");
    assert!(out.contains(r#"Location="http://127.0.0.1:9/slo""#), "{out}");

    // The written key serves again: the same certificate, under another entity ID and base URL.
    let (code, again) = idconform(&[
        "idp",
        "metadata",
        "--key",
        key,
        "--cert",
        cert,
        "--public-url",
        "https://idp.example.test/",
        "--entity-id",
        "urn:idp:test",
    ]);
    assert_eq!(code, 0, "{again}");
    assert!(again.contains(&cert_b64), "{again}");
    assert!(again.contains(r#"entityID="urn:idp:test""#), "{again}");
    assert!(again.contains(r#"Location="https://idp.example.test/sso""#), "{again}");

    // A key and a certificate that do not belong together are refused.
    let (code, out) = idconform(&["idp", "metadata", "--key", key, "--cert", "/nonexistent/cert.pem"]);
    assert_eq!(code, 2, "{out}");
}

/// `idconform idp saml serve` on a free port; returns the process and its base URL once it listens.
pub fn serve_idp(extra: &[&str]) -> (Running, String) {
    let args: Vec<&str> =
        ["idp", "saml", "serve", "--listen", "127.0.0.1:0"].into_iter().chain(extra.iter().copied()).collect();
    let (running, lines) = spawn_reading(&args, &[]);
    let mut base = None;
    for line in lines {
        let line = line.expect("line");
        if let Some(u) = line.strip_prefix("IdP base URL:") {
            base = Some(u.trim().to_owned());
            break;
        }
    }
    (running, base.expect("the IdP prints its base URL"))
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The `action` and hidden fields of the first form of `html`.
fn first_form(html: &str) -> (String, Vec<(String, String)>) {
    let start = html.find("<form").expect("a form");
    let form = &html[start..start + html[start..].find("</form>").expect("form end")];
    let attr = |tag: &str, name: &str| {
        let marker = format!("{name}=\"");
        let at = tag.find(&marker)? + marker.len();
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let action = attr(form, "action").expect("action");
    let fields = form
        .split("<input ")
        .skip(1)
        .filter(|tag| tag.starts_with("type=\"hidden\""))
        .map(|tag| (attr(tag, "name").expect("name"), attr(tag, "value").expect("value")))
        .collect();
    (action, fields)
}

fn form_body(fields: &[(String, String)]) -> String {
    fields.iter().map(|(k, v)| format!("{k}={}", form_urlencode(v))).collect::<Vec<_>>().join("&")
}

async fn post_form(url: &str, fields: &[(String, String)]) -> reqwest::Response {
    browser()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(fields))
        .send()
        .await
        .expect("post")
}

#[tokio::test]
async fn sp_initiated_sign_in_into_the_reference_server() {
    let db = scratch_db("idp-login");
    let (_sp, origin) = serve_example(&db);
    let token = admin_token(&db, "owner@acme.example");
    let slo = format!("{origin}/saml/logout/callback");
    let (_idp, idp) =
        serve_idp(&["--user", "owner@acme.example", "--user", "admin@acme.example", "--sp-slo-url", &slo]);
    let http = browser();

    let r = http.get(format!("{idp}/metadata")).send().await.expect("metadata");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("application/samlmetadata+xml"));
    let metadata = r.text().await.expect("body");
    assert!(metadata.contains(&format!(r#"entityID="{idp}/metadata""#)), "{metadata}");

    let r = http
        .post(format!("{origin}/saml/connections"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "metadata_xml": metadata }))
        .send()
        .await
        .expect("create connection");
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap_or_default());

    // The SP sends the browser to the IdP with an AuthnRequest (HTTP-Redirect binding).
    let r = http
        .get(format!("{origin}/saml/authorize/acme?RelayState=%2Fapi%2Fv1%2Fsession"))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
    assert!(location.starts_with(&format!("{idp}/sso?SAMLRequest=")), "{location}");

    // The IdP's login page offers the configured users.
    let r = http.get(&location).send().await.expect("sso");
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("content-security-policy").is_some());
    let page = r.text().await.expect("page");
    assert!(page.contains(r#"value="admin@acme.example""#), "{page}");
    assert!(!page.contains("<script"), "{page}");
    let (action, mut fields) = first_form(&page);
    assert_eq!(action, format!("{idp}/sso/login"));
    assert!(fields.iter().any(|(k, _)| k == "in_response_to"), "{fields:?}");
    fields.push(("email".into(), "admin@acme.example".into()));

    // Choosing a user gives the form that posts the signed Response to the ACS.
    let r = post_form(&action, &fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.expect("page");
    assert!(page.contains(">Continue</button>"), "{page}");
    let (acs, fields) = first_form(&page);
    assert_eq!(acs, format!("{origin}/saml/callback"));
    assert!(fields.iter().any(|(k, v)| k == "RelayState" && v == "/api/v1/session"), "{fields:?}");

    let r = post_form(&acs, &fields).await;
    let status = r.status();
    let headers = r.headers().clone();
    assert_eq!(status, StatusCode::SEE_OTHER, "{}", r.text().await.unwrap_or_default());
    assert_eq!(headers.get("location").and_then(|v| v.to_str().ok()), Some("/api/v1/session"));
    let set = headers.get("set-cookie").and_then(|v| v.to_str().ok()).expect("set-cookie");
    let cookie = set.split(';').next().expect("cookie").to_owned();

    let r = http.get(format!("{origin}/api/v1/session")).header("cookie", &cookie).send().await.expect("session");
    assert_eq!(r.status(), StatusCode::OK);
    let me: serde_json::Value = r.json().await.expect("json");
    assert_eq!(me["member"]["email"], "admin@acme.example", "{me}");

    // Single logout: the SP's LogoutRequest goes to the IdP, whose signed LogoutResponse the SP accepts.
    let r = http.get(format!("{origin}/saml/logout/acme")).header("cookie", &cookie).send().await.expect("logout");
    assert_eq!(r.status(), StatusCode::FOUND);
    let location = r.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
    assert!(location.starts_with(&format!("{idp}/slo?SAMLRequest=")), "{location}");
    let r = http.get(&location).send().await.expect("idp slo");
    assert_eq!(r.status(), StatusCode::FOUND);
    let back = r.headers().get("location").and_then(|v| v.to_str().ok()).expect("location").to_owned();
    assert!(back.starts_with(&format!("{slo}?SAMLResponse=")) && back.contains("&Signature="), "{back}");
    let r = http.get(&back).send().await.expect("sp slo");
    assert_eq!(r.status(), StatusCode::FOUND);
    assert_eq!(
        r.headers().get("location").and_then(|v| v.to_str().ok()),
        Some(format!("{origin}/saml/signed-out").as_str())
    );
    let r = http.get(format!("{origin}/api/v1/session")).header("cookie", &cookie).send().await.expect("session");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_requests_get_a_4xx() {
    let (_idp, idp) = serve_idp(&[]);
    let http = browser();
    for url in [
        format!("{idp}/sso"),
        format!("{idp}/sso?SAMLRequest=%25%25"),
        format!("{idp}/sso?SAMLRequest=PHg%2B"),
        format!("{idp}/idp-initiated"),
        format!("{idp}/idp-initiated?acs=javascript:x&audience=a"),
    ] {
        let r = http.get(&url).send().await.expect("get");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{url}");
    }
    let r = post_form(&format!("{idp}/sso/login"), &[("acs".into(), "https://sp.test/acs".into())]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http.get(format!("{idp}/slo")).send().await.expect("slo");
    assert_eq!(r.status(), StatusCode::OK);

    // IdP-initiated: a Response without InResponseTo.
    let r = http
        .get(format!("{idp}/idp-initiated?acs=https%3A%2F%2Fsp.test%2Facs&audience=https%3A%2F%2Fsp.test"))
        .send()
        .await
        .expect("idp-initiated");
    assert_eq!(r.status(), StatusCode::OK);
    let (action, mut fields) = first_form(&r.text().await.expect("page"));
    assert!(!fields.iter().any(|(k, _)| k == "in_response_to"), "{fields:?}");
    fields.push(("email".into(), "jane.doe@sp.test".into()));
    let page = post_form(&action, &fields).await.text().await.expect("page");
    let (acs, fields) = first_form(&page);
    assert_eq!(acs, "https://sp.test/acs");
    assert!(fields.iter().any(|(k, _)| k == "SAMLResponse"), "{fields:?}");
}
