//! One reference server per test binary (on 127.0.0.1:0, in-memory database), and a client per test that works in a
//! directory of its own, so tests share the server but never each other's data.

use std::sync::{Arc, OnceLock};

use idconform_server::clock::SystemClock;
use idconform_server::scim::Leniency;
use idconform_server::{AppState, ServerConfig};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub struct Server {
    pub origin: String,
    pub state: AppState,
}

fn spawn(strict: bool) -> Server {
    spawn_with(ServerConfig { leniency: Leniency { strict }, ..ServerConfig::default() })
}

/// A server of its own with this configuration.
pub fn spawn_with(config: ServerConfig) -> Server {
    spawn_with_clock(config, Arc::new(SystemClock))
}

/// A server of its own with this configuration and clock.
pub fn spawn_with_clock(config: ServerConfig, clock: Arc<dyn idconform_server::clock::Clock>) -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        rt.block_on(async move {
            let state = idconform_server::build_state(config, ":memory:", clock).expect("state");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let origin = format!("http://{}", listener.local_addr().expect("addr"));
            tx.send(Server { origin, state: state.clone() }).expect("send");
            idconform_server::serve(listener, state, std::future::pending()).await.expect("serve");
        });
    });
    rx.recv().expect("server started")
}

/// The shared lenient (default) server.
pub fn server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| spawn(false))
}

/// The shared `--strict` server.
pub fn strict_server() -> &'static Server {
    static S: OnceLock<Server> = OnceLock::new();
    S.get_or_init(|| spawn(true))
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a SCIM Error (RFC 7644 §3.12) with this status and scimType.
    #[track_caller]
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error", "{}", self.text);
        assert_eq!(self.body["status"], status.to_string(), "status must be a string: {}", self.text);
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.text);
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", self.text);
    }
}

/// A client bound to a fresh directory of its own.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub origin: String,
}

impl Client {
    pub async fn new() -> Self {
        Self::on(server()).await
    }

    pub async fn strict() -> Self {
        Self::on(strict_server()).await
    }

    pub async fn on(s: &Server) -> Self {
        let (_, token) = s.state.scim.create_directory("test-ws", "test").await.expect("directory");
        Client { http: reqwest::Client::new(), base: format!("{}/scim/v2", s.origin), token, origin: s.origin.clone() }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Resp {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/scim+json").body(b.to_string());
        }
        let r = req.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Creates a user and returns its representation.
    pub async fn user(&self, user_name: &str) -> Value {
        let r = self
            .post(
                "/Users",
                &serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user_name,
                    "name": {"givenName": "Given", "familyName": "Family"},
                    "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
                    "active": true,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }

    /// Creates a group with these member ids.
    pub async fn group(&self, name: &str, members: &[&str]) -> Value {
        let members: Vec<Value> = members.iter().map(|m| serde_json::json!({"value": m})).collect();
        let r = self
            .post(
                "/Groups",
                &serde_json::json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name,
                    "members": members,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.body
    }
}

pub fn patch_op(ops: Value) -> Value {
    serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}
