//! The authorization endpoint's pages in a real browser: headless Chromium, driven through ChromeDriver's W3C
//! WebDriver API (plain JSON over HTTP), logs in on the log-in page, allows on the consent page, and lands on the
//! client's loopback redirect URI with a code the client then exchanges. This is the page as a person meets it: the
//! browser sets `Origin`, keeps the session cookie, and enforces the pages' Content-Security-Policy.
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `scripts/install-system-deps`).

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::admin_support::PASSWORD;
use crate::oauth_support::{CHALLENGE, VERIFIER, enc, env, param, parse_query};
use crate::webdriver::Driver;

/// A one-shot loopback HTTP server standing in for the client's redirect endpoint: returns the request target it
/// received.
async fn callback_listener() -> (String, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let uri = format!("http://127.0.0.1:{}/callback", listener.local_addr().expect("addr").port());
    let handle = tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.expect("accept");
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let target = head.split_whitespace().nth(1).unwrap_or_default().to_owned();
            let body = "signed in";
            let _ = sock
                .write_all(
                    format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len())
                        .as_bytes(),
                )
                .await;
            // Browsers also ask for /favicon.ico; only the callback counts.
            if target.starts_with("/callback") {
                return target;
            }
        }
    });
    (uri, handle)
}

#[tokio::test]
async fn a_person_logs_in_and_consents_in_headless_chromium() {
    let e = env().await;
    let (redirect, callback) = callback_listener().await;
    let app = e.app(json!({"name": "Browser App", "redirect_uris": [redirect]})).await;
    let url = format!(
        "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=user.read&state=st-1\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        e.s.origin,
        app.id,
        enc(&redirect)
    );
    let profile = std::env::temp_dir().join(format!("idconform-chromium-{}", std::process::id()));
    let mut d = Driver::start();
    d.open(&profile).await;
    d.go(&url).await;
    assert_eq!(d.text("h1").await, "Log in");
    d.type_into("#email", &e.ws.owner.email).await;
    d.type_into("#password", PASSWORD).await;
    d.click("button[type=submit]").await;
    // The consent page: wait for the button only it has (both pages have an h1, which would race the navigation).
    d.find("button[value=allow]").await;
    // It names the app and the scope.
    let h1 = d.text("h1").await;
    assert_eq!(h1, "Authorize access", "{}", d.text("body").await);
    let page = d.text("body").await;
    assert!(page.contains("Browser App") && page.contains("user.read") && page.contains(&e.ws.owner.email), "{page}");
    d.click("button[value=allow]").await;
    let target = tokio::time::timeout(Duration::from_secs(30), callback)
        .await
        .expect("the browser reached the client")
        .expect("listener");
    d.close().await;
    let _ = std::fs::remove_dir_all(&profile);

    let (_, query) = target.split_once('?').expect("a query");
    let p = parse_query(query);
    assert_eq!(param(&p, "state").as_deref(), Some("st-1"));
    assert_eq!(param(&p, "iss").as_deref(), Some(e.s.origin.as_str()));
    let code = param(&p, "code").expect("a code");
    let r = e
        .token_post(
            "/oauth/token",
            Some((&app.id, app.secret.as_deref().unwrap_or_default())),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &redirect),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["access_token"].is_string());
}
