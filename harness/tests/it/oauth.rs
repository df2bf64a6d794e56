//! The OAuth suite against authorization servers built with wiremock: a permissive one that grants whatever it is
//! asked (every negative check must fail or warn against it, none may be skipped), and one with broken metadata.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use idconform_harness::oauth::jwt::generate_es256;
use idconform_harness::oauth::{
    AuthMethod, Expectations, JwtBearer, Login, OAuthClientCreds, OAuthTarget, client::query_params,
};
use idconform_harness::report::{Report, Status};
use idconform_harness::{Format, Options};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const REDIRECT: &str = "https://client.example/callback";

/// Redirects every authorization request to whatever redirect URI it names (or the registered one), with a code,
/// its state and an issuer — and, for `response_type=token`, an access token in the fragment.
struct GrantEverything {
    issuer: String,
    n: AtomicUsize,
}

impl Respond for GrantEverything {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q = query_params(req.url.as_str());
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let redirect = get("redirect_uri").unwrap_or_else(|| REDIRECT.into());
        let n = self.n.fetch_add(1, Ordering::Relaxed);
        let state = get("state").unwrap_or_default();
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let mut location = format!("{redirect}{sep}code=code-{n}&state={}&iss={}", enc(&state), enc(&self.issuer));
        if get("response_type").as_deref() == Some("token") {
            location.push_str("#access_token=leaked");
        }
        ResponseTemplate::new(302).insert_header("location", location.as_str())
    }
}

/// Revoked tokens, when the server honours revocation (from any client at all).
type Revoked = Arc<parking_lot::Mutex<Vec<String>>>;

fn form_field(req: &Request, name: &str) -> Option<String> {
    let body = String::from_utf8_lossy(&req.body);
    query_params(&format!("http://x/?{body}")).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Issues fresh tokens for any request at all, without Cache-Control; refuses only revoked refresh tokens.
struct TokensForAll(AtomicUsize, Revoked);

impl Respond for TokensForAll {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if form_field(req, "refresh_token").is_some_and(|t| self.1.lock().contains(&t)) {
            return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}));
        }
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        ResponseTemplate::new(200).set_body_json(json!({
            "access_token": format!("at-{n}"), "token_type": "Bearer", "expires_in": 3600,
            "refresh_token": format!("rt-{n}"),
        }))
    }
}

fn enc(s: &str) -> String {
    idconform_harness::http::encode(s)
}

/// Revokes whatever any caller names.
struct RevokeForAnyone(Revoked);

impl Respond for RevokeForAnyone {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        if let Some(t) = form_field(req, "token") {
            self.0.lock().push(t);
        }
        ResponseTemplate::new(200)
    }
}

/// A server that grants everything; with `revokes`, its revocation endpoint works — for any client.
async fn permissive_with(revokes: bool) -> MockServer {
    let server = MockServer::start().await;
    let revoked: Revoked = Arc::default();
    let issuer = server.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "revocation_endpoint": format!("{issuer}/revoke"),
            "introspection_endpoint": format!("{issuer}/introspect"),
            "userinfo_endpoint": format!("{issuer}/userinfo"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "authorization_response_iss_parameter_supported": true,
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-protected-resource"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"resource": issuer, "authorization_servers": [issuer]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(GrantEverything { issuer: issuer.clone(), n: AtomicUsize::new(0) })
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(TokensForAll(AtomicUsize::new(0), revoked.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/userinfo"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"sub": "anyone"})))
        .mount(&server)
        .await;
    if revokes {
        Mock::given(method("POST")).and(path("/revoke")).respond_with(RevokeForAnyone(revoked)).mount(&server).await;
    } else {
        Mock::given(method("POST")).and(path("/revoke")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    }
    Mock::given(method("POST"))
        .and(path("/introspect"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"active": true})))
        .mount(&server)
        .await;
    server
}

async fn permissive() -> MockServer {
    permissive_with(false).await
}

fn client(id: &str, secret: Option<&str>) -> OAuthClientCreds {
    OAuthClientCreds {
        id: id.into(),
        secret: secret.map(str::to_owned),
        auth: if secret.is_some() { AuthMethod::ClientSecretBasic } else { AuthMethod::None },
    }
}

fn target(issuer: &str) -> OAuthTarget {
    let (key_pem, _) = generate_es256("k1").expect("key");
    let main = client("app", Some("secret-of-app"));
    OAuthTarget {
        name: "permissive".into(),
        issuer: issuer.to_owned(),
        metadata_url: None,
        redirect_uri: REDIRECT.into(),
        scope: "user.read".into(),
        limited_scope: Some("users.read".into()),
        jwt_bearer: Some(JwtBearer {
            client: main.clone(),
            key_pem,
            alg: "ES256".into(),
            kid: Some("k1".into()),
            subject: "qa@example.com".into(),
            audience: None,
        }),
        client: main,
        second_client: Some(client("app2", Some("secret-of-app2"))),
        public_client: Some(client("spa", None)),
        login: Login::Form { fields: Vec::new(), approve: None },
        resource: Some(issuer.to_owned()),
        expect: Expectations::default(),
        code_lifetime: None,
        // The mock has no clock to move: time "passes" and the old code is still honoured.
        time_travel: Some(Arc::new(|_| {})),
        deviations: Vec::new(),
    }
}

async fn run(t: OAuthTarget, only: &[&str]) -> Report {
    let opts = Options { only: only.iter().map(|s| (*s).to_owned()).collect(), ..Options::default() };
    idconform_harness::oauth::run(t, &idconform_harness::suites::oauth::checks(), &opts, &|_| {})
        .await
        .expect("reachable")
}

#[tokio::test]
async fn every_negative_check_fails_against_a_permissive_server() {
    let server = permissive().await;
    let mut report = run(target(&server.uri()), &[]).await;
    // A server that ignores revocation keeps every token safe from other clients: the other-client revocation
    // check needs one that revokes for anyone.
    let revoking = permissive_with(true).await;
    let other = run(target(&revoking.uri()), &["oauth.revoke.other-client"]).await;
    report.results.retain(|r| r.id != "oauth.revoke.other-client");
    report.results.extend(other.results);
    let negatives: Vec<_> = report.results.iter().filter(|r| r.tags.iter().any(|t| t == "negative")).collect();
    assert!(negatives.len() >= 40, "only {} negative checks", negatives.len());
    for r in &negatives {
        assert!(
            matches!(r.status, Status::Fail | Status::Warn),
            "{} should fail here: {:?} {}",
            r.id,
            r.status,
            r.message
        );
        assert!(r.expected.is_some() && r.actual.is_some() && !r.exchanges.is_empty(), "{} explains itself", r.id);
    }
    // The positive checks pass: the suite's failures above are the server's, not the harness's.
    for id in ["oauth.metadata.issuer", "oauth.token.exchange", "oauth.refresh.works", "oauth.authorize.state"] {
        let r = report.results.iter().find(|r| r.id == id).expect("ran");
        assert_eq!(r.status, Status::Pass, "{id}: {}", r.message);
    }
    assert!(report.results.iter().all(|r| r.status != Status::Skip), "nothing skipped with a full target");
    assert_eq!(report.exit_code(), 1);
    let json = report.render(Format::Json);
    assert!(!json.contains("secret-of-app"), "client secrets never reach a report");
}

#[tokio::test]
async fn near_misses_are_named_in_the_failure() {
    let server = permissive().await;
    let report = run(target(&server.uri()), &["oauth.authorize.redirect-near-miss"]).await;
    let r = &report.results[0];
    assert_eq!(r.status, Status::Fail);
    for what in ["trailing slash added", "port added", "attacker host behind user information", "fragment added"] {
        assert!(r.message.contains(what), "{what} in {}", r.message);
    }
}

#[tokio::test]
async fn broken_metadata_fails_the_metadata_checks() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": "https://someone-else.example",
            "authorization_endpoint": format!("{}/authorize", server.uri()),
            "response_types_supported": ["code", "token"],
            "grant_types_supported": ["authorization_code", "password"],
            "code_challenge_methods_supported": ["plain"],
        })))
        .mount(&server)
        .await;
    let report = run(target(&server.uri()), &["oauth.metadata"]).await;
    for id in ["oauth.metadata.issuer", "oauth.metadata.required", "oauth.metadata.no-password-grant"] {
        let r = report.results.iter().find(|r| r.id == id).expect("ran");
        assert_eq!(r.status, Status::Fail, "{id}: {}", r.message);
    }
    let pkce = report.results.iter().find(|r| r.id == "oauth.metadata.pkce").expect("ran");
    assert_eq!(pkce.status, Status::Warn, "{}", pkce.message);
}

#[tokio::test]
async fn an_unreachable_server_is_a_run_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let opts = Options::default();
    let res = idconform_harness::oauth::run(
        target(&format!("http://127.0.0.1:{port}")),
        &idconform_harness::suites::oauth::checks(),
        &opts,
        &|_| {},
    )
    .await;
    assert!(matches!(res, Err(idconform_harness::RunError::Unreachable(_))));
}
