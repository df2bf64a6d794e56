//! The model-based fuzzer against the reference server (through the transparent fault proxy) and against planted
//! semantic bugs: each must be found, shrunk to a few operations and printed as a scenario that fails on replay
//! against the faulty target and passes against the reference server.

use std::time::Duration;

use idconform_harness::Target;
use idconform_harness::fuzz::{Divergence, FuzzOptions, Op, fuzz};
use idconform_harness::report::Status;

use crate::cli::idconform;
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
        panic!(
            "the reference server diverged at {}: expected {}; got {}\n{}",
            d.step, d.expected, d.actual, d.scenario
        );
    }
    assert_eq!(report.cases, 16);
    assert!(report.ops >= 16 && report.requests > report.ops, "{report:?}");
}

/// Fuzzes a faulty target until it diverges, then checks the shrunk sequence and its scenario.
async fn found_and_replayed(key: &str, what: &str) -> Divergence {
    let report = fuzz(&target(key), &opts(200, 7), &|_| {}).await.expect("the proxy is reachable");
    let Some(d) = report.divergence else { panic!("{what}: 200 cases found no divergence") };
    eprintln!("{what}: shrunk from {} to {:?}, diverging at {}", d.original_len, d.ops, d.step);
    assert!(d.ops.len() <= 3, "{what}: shrunk to {} operations (from {}): {:#?}", d.ops.len(), d.original_len, d.ops);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_strict_server_agrees_with_the_strict_model() {
    let opts = FuzzOptions { lenient: false, ..opts(12, 5) };
    let report = fuzz(&crate::replay::strict_target(), &opts, &|_| {}).await.expect("the strict server is reachable");
    if let Some(d) = &report.divergence {
        panic!("the strict server diverged at {}: expected {}; got {}\n{}", d.step, d.expected, d.actual, d.scenario);
    }
}

#[test]
fn the_cli_exits_1_on_a_divergence_and_writes_the_scenario() {
    let env = env();
    let dir = std::env::temp_dir().join(format!("idconform-fuzz-cli-{}", std::process::id()));
    let url = format!("{}/f/mvappend/scim/v2", env.proxy);
    let out = dir.to_string_lossy().into_owned();
    let (code, stdout) = idconform(&[
        "fuzz",
        "scim",
        "--scim-url",
        &url,
        "--token",
        &env.token,
        "--cases",
        "200",
        "--seed",
        "7",
        "--max-ops",
        "16",
        "--out-scenario",
        &out,
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("DIVERGENCE") && stdout.contains("ops/s"), "{stdout}");
    let file = dir.join("fuzz").join("seed-7.toml");
    assert!(file.is_file(), "{stdout}");
    let good = format!("{}/f/none/scim/v2", env.proxy);
    let (code, stdout) =
        idconform(&["replay", "all", "--scenarios-dir", &out, "--scim-url", &good, "--token", &env.token]);
    assert_eq!(code, 0, "the scenario passes against the reference server: {stdout}");
    let (code, stdout) =
        idconform(&["replay", "all", "--scenarios-dir", &out, "--scim-url", &url, "--token", &env.token]);
    assert_eq!(code, 1, "the scenario fails against the faulty target: {stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_cli_exits_0_2_and_3() {
    let env = env();
    let url = format!("{}/f/none/scim/v2", env.proxy);
    let (code, stdout) =
        idconform(&["fuzz", "scim", "--scim-url", &url, "--token", &env.token, "--cases", "3", "--seed", "1"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("no divergence") && stdout.contains("ops/s"), "{stdout}");
    assert_eq!(idconform(&["fuzz", "scim", "--cases", "0"]).0, 2);
    assert_eq!(idconform(&["fuzz", "scim", "--scim-url", "http://127.0.0.1:1/scim/v2", "--token", "t"]).0, 3);
}
