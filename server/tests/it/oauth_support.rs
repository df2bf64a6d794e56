//! Helpers of the OAuth tests: a server of its own with a manual clock, apps registered over the admin API, and a
//! headless browser that logs in through the authorization endpoint's form and answers its consent page.

use std::sync::Arc;

use idconform_server::ServerConfig;
use idconform_server::clock::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{Auth, PASSWORD, Ws, call, workspace};
use crate::support::{Resp, Server, spawn_with_clock};

/// The RFC 7636 Appendix B verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const REDIRECT: &str = "https://client.example/cb";

/// A server with a manual clock and a seeded workspace.
pub struct Env {
    pub s: Server,
    pub clock: ManualClock,
    pub ws: Ws,
}

pub async fn env() -> Env {
    env_on("free").await
}

/// Like [`env`], with a workspace on `plan`.
pub async fn env_on(plan: &str) -> Env {
    let start = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").expect("date").to_utc();
    let clock = ManualClock::new(start);
    let s = spawn_with_clock(ServerConfig::default(), Arc::new(clock.clone()));
    let ws = workspace(&s, plan).await;
    Env { s, clock, ws }
}

/// A registered app.
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub secret: Option<String>,
}

impl Env {
    pub fn admin(&self) -> Auth {
        Auth::Bearer(self.ws.owner_jwt.clone())
    }

    /// Registers an app with these fields on top of a confidential default.
    pub async fn app(&self, extra: Value) -> App {
        let mut body = json!({
            "name": format!("app-{}", uuid::Uuid::new_v4().simple()),
            "redirect_uris": [REDIRECT],
            "allowed_scopes": ["user.read", "users.read", "admin"],
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = call(&self.s.origin, Method::POST, "/oauth/apps", &self.admin(), Some(&body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        App {
            id: r.body["id"].as_str().expect("id").to_owned(),
            secret: r.body["client_secret"].as_str().map(String::from),
        }
    }

    /// A client that does not follow redirects and keeps no cookies of its own.
    pub fn browser() -> reqwest::Client {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
    }

    /// `GET /oauth/authorize?{query}` with an optional session cookie.
    pub async fn get_authorize(&self, query: &str, cookie: Option<&str>) -> Resp {
        let mut req = Self::browser().get(format!("{}/oauth/authorize?{query}", self.s.origin));
        if let Some(c) = cookie {
            req = req.header("cookie", format!("idconform_session={c}"));
        }
        read(req).await
    }

    /// Posts a form to `path` with an optional session cookie.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Resp {
        let body = form.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&");
        let mut req = Self::browser()
            .post(format!("{}{path}", self.s.origin))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", format!("idconform_session={c}"));
        }
        read(req).await
    }

    /// Logs in through the authorization endpoint's form as `email`; returns the session cookie.
    pub async fn form_login(&self, query: &str, email: &str) -> String {
        let mut form: Vec<(String, String)> = parse_query(query);
        form.push(("email".into(), email.into()));
        form.push(("password".into(), PASSWORD.into()));
        let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = self.post_form("/oauth/login", &refs, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert!(r.header("location").is_some_and(|l| l.starts_with("/oauth/authorize?")));
        let set = r.header("set-cookie").expect("set-cookie");
        set.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_owned()).expect("cookie")
    }

    /// Runs the whole front channel as `email`: log in, consent (allow), and return the redirect's query params.
    pub async fn authorize_as(&self, query: &str, email: &str) -> Vec<(String, String)> {
        let cookie = self.form_login(query, email).await;
        let consent = self.get_authorize(query, Some(&cookie)).await;
        assert_eq!(consent.status, StatusCode::OK, "{}", consent.text);
        let csrf = hidden(&consent.text, "csrf_token").expect("csrf field");
        let mut form = parse_query(query);
        form.push(("csrf_token".into(), csrf));
        form.push(("decision".into(), "allow".into()));
        let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let r = self.post_form("/oauth/authorize", &refs, Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        redirect_params(&r)
    }

    /// A code for `app` with the S256 challenge, as the workspace owner.
    pub async fn code(&self, app: &App, scope: &str) -> String {
        let q = self.query(app, scope);
        let p = self.authorize_as(&q, &self.ws.owner.email).await;
        param(&p, "code").expect("code")
    }

    /// The default authorization query of `app`.
    pub fn query(&self, app: &App, scope: &str) -> String {
        format!(
            "response_type=code&client_id={}&redirect_uri={}&scope={}&state=xyz&code_challenge={CHALLENGE}\
             &code_challenge_method=S256",
            app.id,
            enc(REDIRECT),
            enc(scope)
        )
    }

    /// Posts to a token-style endpoint, authenticating with Basic when `basic` names a client.
    pub async fn token_post(&self, path: &str, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> Resp {
        let body = form.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&");
        let mut req = Self::browser()
            .post(format!("{}{path}", self.s.origin))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        read(req).await
    }

    /// Exchanges a code with Basic authentication.
    pub async fn exchange(&self, app: &App, code: &str) -> Resp {
        self.token_post(
            "/oauth/token",
            Some((&app.id, app.secret.as_deref().unwrap_or_default())),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ],
        )
        .await
    }

    /// A token response for `app` and `scope`, as the owner.
    pub async fn tokens(&self, app: &App, scope: &str) -> Value {
        let code = self.code(app, scope).await;
        let r = self.exchange(app, &code).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.body
    }

    /// Refreshes with Basic authentication.
    pub async fn refresh(&self, app: &App, refresh: &str, scope: Option<&str>) -> Resp {
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh)];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        self.token_post("/oauth/token", Some((&app.id, app.secret.as_deref().unwrap_or_default())), &form).await
    }

    /// `GET /oauth/userinfo` with a bearer token.
    pub async fn userinfo(&self, token: &str) -> Resp {
        call(&self.s.origin, Method::GET, "/oauth/userinfo", &Auth::Bearer(token.to_owned()), None).await
    }
}

async fn read(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.expect("request");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp { status, headers, body, text }
}

pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn dec(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Splits a query string into decoded pairs.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (dec(k), dec(v))).collect()
}

/// The value of one decoded pair.
pub fn param(p: &[(String, String)], k: &str) -> Option<String> {
    p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

/// The query parameters of a redirect's `Location`, asserting it goes to the registered redirect URI.
pub fn redirect_params(r: &Resp) -> Vec<(String, String)> {
    let loc = r.header("location").expect("location");
    let (base, q) = loc.split_once('?').expect("query");
    assert_eq!(base, REDIRECT, "{loc}");
    parse_query(q)
}

/// The value of a hidden input of an HTML form.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">"))
}
