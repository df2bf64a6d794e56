//! Helpers of the management-API tests: workspaces seeded with an owner, an admin and a member (local accounts),
//! logged in over HTTP; and a client that sends requests as one of them.

use idconform_server::admin::seed::SeedConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{Resp, Server};

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No credentials.
    None,
    /// A session cookie, with the CSRF token if `Some`.
    Session { cookie: String, csrf: Option<String> },
    /// A bearer token (admin JWT, or a SCIM token on SCIM routes).
    Bearer(String),
}

/// A logged-in local account.
#[derive(Debug, Clone)]
pub struct Login {
    pub email: String,
    pub member_id: String,
    pub cookie: String,
    pub csrf: String,
}

impl Login {
    /// Session auth with the CSRF token.
    pub fn session(&self) -> Auth {
        Auth::Session { cookie: self.cookie.clone(), csrf: Some(self.csrf.clone()) }
    }
    /// Session auth without the CSRF token.
    pub fn no_csrf(&self) -> Auth {
        Auth::Session { cookie: self.cookie.clone(), csrf: None }
    }
}

/// A seeded workspace and its people.
#[derive(Debug, Clone)]
pub struct Ws {
    pub id: String,
    pub owner: Login,
    pub admin: Login,
    pub member: Login,
    /// An admin JWT of the owner.
    pub owner_jwt: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

/// Sends one request to the server at `origin`. The request is built before the future is returned, so the future
/// borrows nothing.
pub fn call(
    origin: &str,
    method: Method,
    path: &str,
    auth: &Auth,
    body: Option<&Value>,
) -> impl std::future::Future<Output = Resp> + use<> {
    let http = reqwest::Client::new();
    let url = if path.starts_with("http") { path.to_owned() } else { format!("{origin}{path}") };
    let mut req = http.request(method, url);
    match auth {
        Auth::None => {}
        Auth::Session { cookie, csrf } => {
            req = req.header("cookie", format!("idconform_session={cookie}"));
            if let Some(c) = csrf {
                req = req.header("x-csrf-token", c);
            }
        }
        Auth::Bearer(t) => req = req.bearer_auth(t),
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    async move {
        let r = req.send().await.expect("request");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }
}

/// Logs in over HTTP and returns the session cookie and CSRF token.
pub async fn login(s: &Server, ws: &str, email: &str) -> Login {
    let r = call(
        &s.origin,
        Method::POST,
        "/api/v1/session",
        &Auth::None,
        Some(&json!({"email": email, "password": PASSWORD, "workspace_id": ws})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "login {email}: {}", r.text);
    let set_cookie = r.header("set-cookie").expect("set-cookie").to_owned();
    let cookie = set_cookie
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("cookie value");
    Login {
        email: email.to_owned(),
        member_id: r.body["member"]["id"].as_str().expect("member id").to_owned(),
        cookie,
        csrf: r.body["csrf_token"].as_str().expect("csrf").to_owned(),
    }
}

/// Seeds extra local members (password [`PASSWORD`]) into an existing workspace.
pub async fn add_members(s: &Server, ws: &str, plan: &str, members: &[(&str, &str)]) {
    let mut toml = format!("[[workspace]]\nid = \"{ws}\"\nplan = \"{plan}\"\n");
    for (email, role) in members {
        toml.push_str(&format!(
            "[[workspace.member]]\nemail = \"{email}\"\nrole = \"{role}\"\npassword_env = \"PW\"\n"
        ));
    }
    let c = SeedConfig::from_toml(&toml).expect("seed config");
    s.state.admin.seed(&c, |_| Some(PASSWORD.to_owned())).await.expect("seed");
}

/// A fresh workspace on `plan` with an owner, an admin and a member, all logged in.
pub async fn workspace(s: &Server, plan: &str) -> Ws {
    let id = format!("ws-{}", uuid::Uuid::new_v4().simple());
    let (o, a, m) = (format!("owner@{id}.test"), format!("admin@{id}.test"), format!("member@{id}.test"));
    add_members(s, &id, plan, &[(&o, "owner"), (&a, "admin"), (&m, "member")]).await;
    let owner_jwt = s.state.admin.issue_admin_token(&id, &o, 3600).await.expect("jwt");
    Ws {
        owner: login(s, &id, &o).await,
        admin: login(s, &id, &a).await,
        member: login(s, &id, &m).await,
        owner_jwt,
        id,
    }
}

/// Creates a directory as the workspace owner; returns (directory id, token, token id).
pub async fn directory(s: &Server, ws: &Ws) -> (String, String, String) {
    let name = format!("dir-{}", uuid::Uuid::new_v4().simple());
    let r = call(
        &s.origin,
        Method::POST,
        "/scim/directories",
        &Auth::Bearer(ws.owner_jwt.clone()),
        Some(&json!({"name": name})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let g = |k: &str| r.body[k].as_str().expect(k).to_owned();
    (g("id"), g("token"), g("token_id"))
}

/// Creates a SCIM user with a directory token.
pub async fn scim_user(s: &Server, token: &str, user_name: &str) -> Resp {
    call(
        &s.origin,
        Method::POST,
        "/scim/v2/Users",
        &Auth::Bearer(token.to_owned()),
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "emails": [{"value": user_name, "primary": true}],
            "active": true,
        })),
    )
    .await
}
