//! The mock SAML IdP's pages in a real browser: headless Chromium, driven through ChromeDriver's W3C WebDriver API
//! (JSON over HTTP), signs in to the reference server through the mock IdP as a person would — the SP's redirect,
//! the IdP's login page, the Continue button that posts the Response to the ACS — with the pages'
//! Content-Security-Policy enforced and the cookie kept by the browser.
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `scripts/install-system-deps`).

use serde_json::{Value, json};

use crate::cli::{admin_token, scratch_db, serve_example};
use crate::webdriver::Driver;

#[tokio::test]
async fn a_person_signs_in_through_the_mock_idp_in_headless_chromium() {
    let db = scratch_db("idp-browser");
    let (_sp, origin) = serve_example(&db);
    let token = admin_token(&db, "owner@acme.example");
    let (_idp, idp) = crate::idp::serve_idp(&["--user", "admin@acme.example"]);
    let http = reqwest::Client::new();
    let metadata = http.get(format!("{idp}/metadata")).send().await.expect("metadata").text().await.expect("body");
    let r = http
        .post(format!("{origin}/saml/connections"))
        .bearer_auth(&token)
        .json(&json!({ "metadata_xml": metadata }))
        .send()
        .await
        .expect("create connection");
    assert_eq!(r.status(), 201);

    let profile = std::env::temp_dir().join(format!("idconform-idp-chromium-{}", std::process::id()));
    let mut d = Driver::start();
    d.open(&profile).await;
    d.go(&format!("{origin}/saml/authorize/acme?RelayState=%2Fapi%2Fv1%2Fsession")).await;
    assert_eq!(d.text("h1").await, "Sign in");
    d.click(r#"button[value="admin@acme.example"]"#).await;
    // The Response page: the field only it has, then its Continue button.
    d.find("input[name=SAMLResponse]").await;
    d.click("form button[type=submit]").await;
    // The SP's session API, shown as text by the browser.
    let session = d.text("pre").await;
    d.close().await;
    let _ = std::fs::remove_dir_all(&profile);
    let me: Value = serde_json::from_str(&session).expect("the session JSON");
    assert_eq!(me["member"]["email"], "admin@acme.example", "{me}");
}
