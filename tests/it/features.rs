//! Gherkin scenarios catch planted faults with a message that points at the step, a step that matches no phrase
//! fails its scenario, and so does a step of a protocol the target lacks.

use std::path::PathBuf;
use std::time::Duration;

use idconform_harness::features::{self, FeatureOptions};
use idconform_harness::report::Status;
use idconform_harness::saml::{IdpKey, SamlTarget};

use crate::faults::target;

fn feature_dir(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("idconform-it-features-{name}-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    std::fs::write(dir.join(format!("{name}.feature")), text).expect("write feature");
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_fails_at_the_step_that_meets_a_planted_fault() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("features/scim/entra.feature");
    let opts = FeatureOptions { tags: Some("@entra".into()), ..FeatureOptions::default() };
    // Replay fault r0: the server drops every member when Entra removes one by value list.
    let report = features::run(Some(&target("r0")), std::slice::from_ref(&repo), &opts, &|_| {})
        .await
        .expect("the proxy is reachable");
    let r = report
        .results
        .iter()
        .find(|r| r.id == "feature.entra.entra-in-legacy-mode-removes-one-member-by-value-list")
        .expect("the scenario ran");
    assert_eq!(r.status, Status::Fail, "{}", r.message);
    assert!(
        r.message.contains("Then group \"eng\" has exactly the members \"alice\" and \"carol\"")
            && r.message.contains("entra.feature:")
            && r.message.contains("it has []"),
        "the message names the step, its line and what was found: {}",
        r.message
    );
    assert!(!r.exchanges.is_empty(), "the report carries the scenario's exchanges");
    // The same feature passes through the transparent proxy.
    let clean = features::run(Some(&target("none")), &[repo], &opts, &|_| {}).await.expect("reachable");
    assert!(
        clean.results.iter().all(|r| r.status == Status::Pass),
        "{:?}",
        clean.results.iter().map(|r| &r.message).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undefined_step_fails_its_scenario() {
    let dir = feature_dir(
        "typo",
        "Feature: typo\n  Scenario: a misspelt step\n    Given a user \"alice\"\n    Then usr \"alice\" is active\n",
    );
    let report = features::run(Some(&target("none")), std::slice::from_ref(&dir), &FeatureOptions::default(), &|_| {})
        .await
        .expect("reachable");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(report.results.len(), 1);
    let r = &report.results[0];
    assert_eq!(r.status, Status::Fail);
    assert!(
        r.message.contains("usr \"alice\" is active") && r.message.contains("no step of the library"),
        "{}",
        r.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_tag_expression_is_a_usage_error() {
    let opts = FeatureOptions { tags: Some("@must and and".into()), ..FeatureOptions::default() };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("features");
    assert!(features::run(Some(&target("none")), &[dir], &opts, &|_| {}).await.is_err());
}

/// Serves `app` on 127.0.0.1 for the rest of the test; returns its origin.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    origin
}

/// A SAML target whose ACS is `{origin}/acs`, with no login_url (every sign-in IdP-initiated).
fn saml_target(origin: &str) -> SamlTarget {
    SamlTarget {
        name: "permissive SP".into(),
        acs_url: format!("{origin}/acs"),
        sp_entity_id: format!("{origin}/metadata"),
        login_url: None,
        key: IdpKey::generate("idp.test").expect("key"),
        idp_entity_id: "https://idp.test/metadata".into(),
        name_id: "qa@example.com".into(),
        success_status: vec![302, 303],
        success_cookie: Some("session".into()),
        success_location: None,
        session_url: None,
        idp_initiated: true,
        relay_state: "/".into(),
        skew: Duration::from_secs(180),
        clock: None,
        other_workspace: None,
        deviations: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saml_scenario_fails_at_the_refusal_an_acs_that_accepts_everything_never_gives() {
    // The planted fault: an ACS that signs in whatever is posted (303, a session cookie, a redirect home).
    let origin = serve(axum::Router::new().route(
        "/acs",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::SEE_OTHER,
                [("set-cookie", "session=s3ssion; Path=/; HttpOnly"), ("location", "/")],
            )
        }),
    ))
    .await;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("features/saml/signatures.feature");
    let opts = FeatureOptions { saml: Some(saml_target(&origin)), ..FeatureOptions::default() };
    let report = features::run(None, std::slice::from_ref(&repo), &opts, &|_| {}).await.expect("reachable");
    let r = report
        .results
        .iter()
        .find(|r| r.id == "feature.signatures.a-response-signed-by-a-foreign-key-is-refused")
        .expect("the scenario ran");
    assert_eq!(r.status, Status::Fail, "{}", r.message);
    assert!(
        r.message.contains("step `Then the sign-in is refused` (")
            && r.message.contains("signatures.feature:")
            && r.message.contains("signed by another key")
            && r.message.contains("signed in (HTTP 302/303 setting cookie session)"),
        "the message names the step, its line and what was found: {}",
        r.message
    );
    assert!(!r.exchanges.is_empty(), "the report carries the scenario's exchanges");
    assert!(
        !report.render(idconform_harness::Format::Json).contains("s3ssion"),
        "session cookies never reach a report"
    );
    // Every forgery of the file signs in there, so every scenario fails (SHOULDs warn).
    assert!(report.results.len() >= 15, "{} scenarios", report.results.len());
    for r in &report.results {
        assert!(matches!(r.status, Status::Fail | Status::Warn), "{} should fail here: {}", r.id, r.message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_of_a_protocol_the_target_lacks_fails_naming_the_section() {
    let origin = serve(axum::Router::new()).await;
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("features/oauth/authorization.feature");
    let opts = FeatureOptions { saml: Some(saml_target(&origin)), ..FeatureOptions::default() };
    let report = features::run(None, &[repo], &opts, &|_| {}).await.expect("reachable");
    assert!(!report.results.is_empty());
    for r in &report.results {
        assert!(matches!(r.status, Status::Fail | Status::Warn), "{}", r.id);
        assert!(r.message.contains("no OAuth target") && r.message.contains("[oauth] section"), "{}", r.message);
    }
    assert!(features::run(None, &[], &FeatureOptions::default(), &|_| {}).await.is_err(), "no target at all");
}
