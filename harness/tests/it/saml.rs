//! The SAML suite against an ACS built with wiremock that signs in whatever is posted (303, a session cookie, and a
//! redirect to the posted RelayState): every negative check must fail or warn against it, the baseline and the
//! controls must pass, and none may be skipped when the target has a login URL.

use std::time::Duration;

use idconform_harness::Options;
use idconform_harness::oauth::client::query_params;
use idconform_harness::report::{Report, Status};
use idconform_harness::saml::{IdpKey, OtherWorkspace, SamlTarget, attacks, random_id};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Redirects to the IdP with a fresh AuthnRequest (HTTP-Redirect binding).
struct StartLogin;

impl Respond for StartLogin {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let xml = format!(
            r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="{}" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"/>"#,
            random_id()
        );
        let encoded = attacks::redirect_encode(&xml).expect("deflates");
        let location = format!("https://idp.example/sso?SAMLRequest={}", idconform_harness::http::encode(&encoded));
        ResponseTemplate::new(302).insert_header("location", location.as_str())
    }
}

/// Signs in whatever is posted, redirecting to the RelayState.
struct AcceptEverything;

impl Respond for AcceptEverything {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&req.body);
        let relay = query_params(&format!("http://x/?{body}"))
            .into_iter()
            .find(|(k, _)| k == "RelayState")
            .map_or_else(|| "/".to_owned(), |(_, v)| v);
        ResponseTemplate::new(303)
            .insert_header("set-cookie", "session=s3ssion; Path=/; HttpOnly")
            .insert_header("location", relay.as_str())
    }
}

async fn permissive() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET")).and(path("/login")).respond_with(StartLogin).mount(&server).await;
    Mock::given(method("POST")).and(path("/acs")).respond_with(AcceptEverything).mount(&server).await;
    server
}

fn target(origin: &str, login: bool) -> SamlTarget {
    SamlTarget {
        name: "permissive".into(),
        acs_url: format!("{origin}/acs"),
        sp_entity_id: format!("{origin}/metadata"),
        login_url: login.then(|| format!("{origin}/login")),
        key: IdpKey::generate("idp.test").expect("key"),
        idp_entity_id: "https://idp.test/metadata".into(),
        name_id: "qa@example.com".into(),
        success_status: vec![302, 303],
        success_cookie: Some("session".into()),
        success_location: None,
        session_url: None,
        idp_initiated: !login,
        relay_state: "/".into(),
        skew: Duration::from_secs(180),
        clock: None,
        other_workspace: Some(OtherWorkspace {
            key: IdpKey::generate("other.idp.test").expect("key"),
            idp_entity_id: "https://idp.test/metadata".into(),
            sp_entity_id: format!("{origin}/metadata/other"),
        }),
        deviations: Vec::new(),
    }
}

async fn run(t: SamlTarget, only: &[&str]) -> Report {
    let opts = Options { only: only.iter().map(|s| (*s).to_owned()).collect(), ..Options::default() };
    idconform_harness::saml::run(t, &idconform_harness::suites::saml::checks(), &opts, &|_| {})
        .await
        .expect("reachable")
}

#[tokio::test]
async fn every_negative_check_fails_against_an_acs_that_accepts_everything() {
    let server = permissive().await;
    let report = run(target(&server.uri(), true), &[]).await;
    let negatives: Vec<_> = report.results.iter().filter(|r| r.tags.iter().any(|t| t == "negative")).collect();
    assert!(negatives.len() >= 30, "only {} negative checks", negatives.len());
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
    // The baseline and the controls pass: the failures above are the SP's, not the harness's.
    for r in report.results.iter().filter(|r| !r.tags.iter().any(|t| t == "negative")) {
        assert_eq!(r.status, Status::Pass, "{}: {}", r.id, r.message);
    }
    assert!(report.results.iter().any(|r| r.id == "saml.acs.valid"));
    assert!(report.results.iter().all(|r| r.status != Status::Skip), "nothing skipped with a login_url");
    assert_eq!(report.exit_code(), 1);
    let json = report.render(idconform_harness::Format::Json);
    assert!(!json.contains("s3ssion"), "session cookies never reach a report");
}

#[tokio::test]
async fn without_a_login_url_responses_are_unsolicited_and_the_request_binding_is_skipped() {
    let server = permissive().await;
    let report = run(target(&server.uri(), false), &["saml.acs.valid", "saml.request"]).await;
    let status = |id: &str| report.results.iter().find(|r| r.id == id).map(|r| r.status);
    assert_eq!(status("saml.acs.valid"), Some(Status::Pass));
    assert_eq!(status("saml.request.reused-in-response-to"), Some(Status::Skip));
    assert_eq!(status("saml.request.wrong-in-response-to"), Some(Status::Fail));
    let posted = server.received_requests().await.unwrap_or_default();
    assert!(posted.iter().all(|r| r.url.path() == "/acs"), "no login was started");
}

#[tokio::test]
async fn a_refusing_acs_fails_the_baseline() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/acs"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({"detail": "no", "code": "x"})))
        .mount(&server)
        .await;
    let report = run(target(&server.uri(), false), &["saml.acs.valid", "saml.signature.unsigned"]).await;
    let status = |id: &str| report.results.iter().find(|r| r.id == id).map(|r| r.status);
    assert_eq!(status("saml.acs.valid"), Some(Status::Fail));
    assert_eq!(status("saml.signature.unsigned"), Some(Status::Pass));
}

#[tokio::test]
async fn a_session_probe_decides_over_a_redirect_and_a_cookie() {
    // The ACS answers everything with a redirect and a cookie, but the SP's session page knows no such session:
    // nobody was signed in, so the baseline fails and the forgeries pass.
    let server = permissive().await;
    Mock::given(method("GET")).and(path("/me")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
    let mut t = target(&server.uri(), true);
    t.session_url = Some(format!("{}/me", server.uri()));
    let report = run(t.clone(), &["saml.acs.valid", "saml.signature.unsigned", "saml.replay.same-response"]).await;
    let status = |r: &Report, id: &str| r.results.iter().find(|c| c.id == id).map(|c| c.status);
    assert_eq!(status(&report, "saml.acs.valid"), Some(Status::Fail));
    assert_eq!(status(&report, "saml.signature.unsigned"), Some(Status::Pass));
    let probes = server.received_requests().await.unwrap_or_default();
    let me: Vec<_> = probes.iter().filter(|r| r.url.path() == "/me").collect();
    assert!(!me.is_empty(), "the session page was asked");
    assert!(
        me.iter().all(|r| r
            .headers
            .get("cookie")
            .and_then(|c| c.to_str().ok())
            .is_some_and(|c| c.contains("session="))),
        "with the cookie the ACS set"
    );
    // A redirect elsewhere than success_location is no sign-in either.
    let mut t = target(&server.uri(), true);
    t.success_location = Some(format!("{}/app", server.uri()));
    let report = run(t, &["saml.acs.valid"]).await;
    assert_eq!(status(&report, "saml.acs.valid"), Some(Status::Fail), "the ACS redirects to the RelayState /");
}

#[tokio::test]
async fn an_unreachable_sp_is_a_run_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let res = idconform_harness::saml::run(
        target(&format!("http://127.0.0.1:{port}"), true),
        &idconform_harness::suites::saml::checks(),
        &Options::default(),
        &|_| {},
    )
    .await;
    assert!(matches!(res, Err(idconform_harness::RunError::Unreachable(_))));
}
