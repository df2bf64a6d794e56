//! Gherkin scenarios catch planted faults with a message that points at the step, and a step that matches no
//! phrase fails its scenario.

use std::path::PathBuf;

use idconform_harness::features::{self, FeatureOptions};
use idconform_harness::report::Status;

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
    let report = features::run(&target("r0"), std::slice::from_ref(&repo), &opts, &|_| {})
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
    let clean = features::run(&target("none"), &[repo], &opts, &|_| {}).await.expect("reachable");
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
    let report = features::run(&target("none"), std::slice::from_ref(&dir), &FeatureOptions::default(), &|_| {})
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
    assert!(features::run(&target("none"), &[dir], &opts, &|_| {}).await.is_err());
}
