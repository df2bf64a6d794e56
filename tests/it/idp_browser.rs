//! The mock SAML IdP's pages in a real browser: headless Chromium, driven through ChromeDriver's W3C WebDriver API
//! (JSON over HTTP), signs in to the reference server through the mock IdP as a person would — the SP's redirect,
//! the IdP's login page, the Continue button that posts the Response to the ACS — with the pages'
//! Content-Security-Policy enforced and the cookie kept by the browser.
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `scripts/install-system-deps`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::Method;
use serde_json::{Value, json};

use crate::cli::{Running, admin_token, scratch_db, serve_example};

/// A ChromeDriver process and, once opened, one browser session.
struct Driver {
    _process: Running,
    base: String,
    http: reqwest::Client,
    session: Option<String>,
}

impl Driver {
    /// Starts ChromeDriver on a free port, once it says it listens.
    fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (install chromium and chromium-driver: scripts/install-system-deps)");
        let stdout = child.stdout.take().expect("stdout");
        let process = Running(child);
        let ready = BufReader::new(stdout).lines().map_while(Result::ok).any(|l| l.contains("started successfully"));
        assert!(ready, "chromedriver did not start");
        Driver {
            _process: process,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            session: None,
        }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let url = match &self.session {
            Some(s) => format!("{}/session/{s}{path}", self.base),
            None => format!("{}{path}", self.base),
        };
        let mut req = self.http.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.expect("webdriver").json().await.expect("webdriver json");
        assert!(v["value"].get("error").is_none(), "webdriver error: {v}");
        v["value"].clone()
    }

    /// A headless session with a fresh profile; element look-ups wait up to 10 s for the next page.
    async fn open(&mut self, profile: &std::path::Path) {
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-sync", format!("--user-data-dir={}", profile.display())]
        }}}});
        let v = self.call(Method::POST, "/session", Some(caps)).await;
        self.session = Some(v["sessionId"].as_str().expect("session id").to_owned());
        self.call(Method::POST, "/timeouts", Some(json!({"implicit": 10_000, "pageLoad": 20_000}))).await;
    }

    async fn go(&self, url: &str) {
        self.call(Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self.call(Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("element id").to_owned()
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(Method::POST, &format!("/element/{el}/click"), Some(json!({}))).await;
    }

    async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.call(Method::GET, &format!("/element/{el}/text"), None).await.as_str().unwrap_or_default().to_owned()
    }

    async fn close(&mut self) {
        self.call(Method::DELETE, "", None).await;
        self.session = None;
    }
}

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
