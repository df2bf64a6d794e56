//! The model-based fuzzer against the reference server (through the transparent fault proxy) and against planted
//! semantic bugs: each must be found, shrunk to a few operations and printed as a scenario that fails on replay
//! against the faulty target and passes against the reference server.

use std::time::Duration;

use idconform_harness::Target;
use idconform_harness::fuzz::{Divergence, FuzzOptions, Op, fuzz};
use idconform_harness::report::Status;

use crate::faults::env;

fn target(key: &str) -> Target {
    let env = env();
    Target::new(&format!("{}/f/{key}/scim/v2", env.proxy), Some(env.token.clone())).expect("a valid target URL")
}

fn opts(cases: u32, seed: u64) -> FuzzOptions {
    FuzzOptions { cases, seed, max_ops: 16, timeout: Duration::from_secs(20), ..FuzzOptions::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_server_agrees_with_the_model() {
    let report = fuzz(&target("none"), &opts(16, 20261201), &|_| {}).await.expect("the proxy is reachable");
    if let Some(d) = &report.divergence {
        panic!("the reference server diverged at {}: expected {}; got {}\n{}", d.step, d.expected, d.actual, d.scenario);
    }
    assert_eq!(report.cases, 16);
    assert!(report.ops >= 16 && report.requests > report.ops, "{report:?}");
}

/// Fuzzes a faulty target until it diverges, then checks the shrunk sequence and its scenario.
async fn found_and_replayed(key: &str, what: &str) -> Divergence {
    let report = fuzz(&target(key), &opts(200, 7), &|_| {}).await.expect("the proxy is reachable");
    let Some(d) = report.divergence else { panic!("{what}: 200 cases found no divergence") };
    eprintln!("{what}: shrunk from {} to {:?}, diverging at {}", d.original_len, d.ops, d.step);
    assert!(d.ops.len() <= 4, "{what}: shrunk to {} operations (from {}): {:#?}", d.ops.len(), d.original_len, d.ops);
    let dir = std::env::temp_dir().join(format!("idconform-fuzz-{}-{key}", std::process::id()));
    let folder = dir.join("fuzz");
    std::fs::create_dir_all(&folder).expect("temp dir");
    std::fs::write(folder.join(format!("{key}.toml")), &d.scenario).expect("write the scenario");
    let scenarios = idconform_harness::replay::load_dir(&dir).expect("the printed scenario parses");
    let selected: Vec<_> = scenarios.iter().collect();
    let opts = idconform_harness::replay::ReplayOptions::default();
    let faulty = idconform_harness::replay::run(&target(key), &selected, &opts, &|_| {}).await.expect("reachable");
    assert!(
        faulty.results.iter().any(|r| r.status == Status::Fail),
        "{what}: the scenario passes against the faulty target:\n{}",
        d.scenario
    );
    let good = idconform_harness::replay::run(&target("none"), &selected, &opts, &|_| {}).await.expect("reachable");
    let bad: Vec<String> =
        good.results.iter().filter(|r| r.status != Status::Pass).map(|r| format!("{}: {}", r.id, r.message)).collect();
    assert!(bad.is_empty(), "{what}: the scenario fails against the reference server: {bad:?}\n{}", d.scenario);
    let _ = std::fs::remove_dir_all(&dir);
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_sensitive_sw_filter_is_found_and_shrunk() {
    let d = found_and_replayed("swcase", "case-sensitive sw").await;
    assert!(matches!(d.ops.last(), Some(Op::Query { .. })), "the divergence is a query: {:#?}", d.ops);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_valued_replace_that_appends_is_found_and_shrunk() {
    let d = found_and_replayed("mvappend", "replace appends").await;
    assert!(
        matches!(d.ops.last(), Some(Op::PatchUser { .. } | Op::PatchGroup { .. })),
        "the divergence is a PATCH: {:#?}",
        d.ops
    );
}
