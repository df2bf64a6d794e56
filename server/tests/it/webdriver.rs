//! A ChromeDriver process and one headless Chromium session, driven through the W3C WebDriver API with plain
//! JSON over HTTP: the tests that use log-in pages in a real browser share it (this crate's, and the root crate's
//! through `#[path]`). Needs Debian's `chromium` and `chromium-driver` (installed by `scripts/install-system-deps`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// A ChromeDriver process and, once opened, one browser session.
pub struct Driver {
    child: Child,
    base: String,
    http: reqwest::Client,
    session: Option<String>,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts ChromeDriver on a free port and waits for the line saying it listens.
    pub fn start() -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (install Debian's chromium and chromium-driver: scripts/install-system-deps)");
        let stdout = child.stdout.take().expect("stdout");
        let mut ready = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("started successfully") {
                ready = true;
                break;
            }
        }
        assert!(ready, "chromedriver did not start");
        Driver { child, base: format!("http://127.0.0.1:{port}"), http: reqwest::Client::new(), session: None }
    }

    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
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

    /// A headless Chromium session with a fresh profile.
    pub async fn open(&mut self, profile: &std::path::Path) {
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", format!("--user-data-dir={}", profile.display())]
        }}}});
        let v = self.call(reqwest::Method::POST, "/session", Some(caps)).await;
        self.session = Some(v["sessionId"].as_str().expect("session id").to_owned());
        // Element look-ups wait for the next page instead of racing the navigation a click started.
        self.call(reqwest::Method::POST, "/timeouts", Some(json!({"implicit": 10_000, "pageLoad": 20_000}))).await;
    }

    pub async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url}))).await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v =
            self.call(reqwest::Method::POST, "/element", Some(json!({"using": "css selector", "value": css}))).await;
        v.as_object().and_then(|o| o.values().next()).and_then(Value::as_str).expect("element id").to_owned()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/value"), Some(json!({"text": text}))).await;
    }

    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{el}/click"), Some(json!({}))).await;
    }

    pub async fn text(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{el}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn close(&mut self) {
        self.call(reqwest::Method::DELETE, "", None).await;
        self.session = None;
    }
}
