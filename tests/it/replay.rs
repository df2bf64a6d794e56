//! `idconform replay` as a user runs it, and the reference server's tolerance shown both ways: in its default mode
//! every scenario passes (see `faults.rs`), in `--strict` mode every quirk step is refused with the RFC's error.

use std::sync::OnceLock;

use idconform_harness::Target;
use idconform_harness::report::Status;
use idconform_server::ServerConfig;
use idconform_server::scim::Leniency;

use crate::cli::idconform;
use crate::faults::{boot_server, in_background};

static STRICT: OnceLock<(String, String)> = OnceLock::new();

pub(crate) fn strict_target() -> Target {
    let (origin, token) = STRICT.get_or_init(|| {
        let config = ServerConfig { leniency: Leniency { strict: true }, ..ServerConfig::default() };
        match in_background("strict-server", move || async move { boot_server(config).await }) {
            Ok((origin, token, _)) => (origin, token),
            Err(e) => panic!("cannot start the strict server: {e}"),
        }
    });
    Target::new(&format!("{origin}/scim/v2"), Some(token.clone())).expect("a valid target URL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_mode_refuses_every_quirk_step_with_the_rfc_error() {
    let all = idconform_harness::replay::builtin().expect("the shipped scenarios parse");
    let selected = idconform_harness::replay::select(&all, |_| true, &[]);
    let opts = idconform_harness::replay::ReplayOptions::default();
    let report = idconform_harness::replay::run(&strict_target(), &selected, &opts, &|_| {}).await.expect("reachable");
    let quirk = |r: &&idconform_harness::report::CheckResult| r.tags.iter().any(|t| t.starts_with("quirk:"));
    let mut problems = Vec::new();
    for r in report.results.iter().filter(quirk) {
        // A quirk step fails with the server's 400, or is skipped because an earlier quirk step it depends on failed.
        match r.status {
            Status::Fail if r.message.contains("→ 400") => {}
            Status::Skip if r.message.contains("did not capture") => {}
            _ => problems.push(format!("{} {:?}: {}", r.id, r.status, r.message)),
        }
    }
    assert!(report.results.iter().filter(quirk).any(|r| r.status == Status::Fail), "some quirk step fails");
    // Every folder with quirks has a refused step; the generic (plain RFC) scenarios pass whole.
    for folder in ["okta", "entra-legacy", "entra-2020"] {
        assert!(
            report.results.iter().any(|r| r.section.starts_with(folder) && r.status == Status::Fail),
            "{folder}: no step refused in strict mode"
        );
    }
    for r in report.results.iter().filter(|r| r.section.starts_with("generic/")) {
        if r.status != Status::Pass {
            problems.push(format!("generic step {} {:?}: {}", r.id, r.status, r.message));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_cli_replays_against_the_embedded_server_in_both_modes() {
    let (code, out) = idconform(&["replay", "entra", "--mode", "legacy"]);
    assert_eq!(code, 0, "default mode passes:\n{out}");
    assert!(out.contains("entra-legacy/group-lifecycle") && out.contains("result: all MUSTs pass"), "{out}");
    let (code, out) = idconform(&["replay", "entra", "--mode", "legacy", "--strict"]);
    assert_eq!(code, 1, "strict mode fails the quirk steps:\n{out}");
    let (code, out) = idconform(&["replay", "okta", "--list"]);
    assert_eq!(code, 0);
    assert!(out.contains("okta/user-lifecycle"), "{out}");
    let (code, out) = idconform(&["replay", "okta", "--mode", "legacy"]);
    assert_eq!(code, 2, "--mode is for entra only: {out}");
    let (code, out) = idconform(&["replay", "okta", "--scenario", "no-such-scenario"]);
    assert_eq!(code, 2, "{out}");
}

#[test]
fn the_cli_runs_an_initial_sync_and_verifies_it() {
    let (code, out) = idconform(&["replay", "okta", "--users", "300", "--groups", "7", "--concurrency", "4"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("300 users, 7 groups"), "{out}");
    assert!(out.contains("verified: the target holds exactly the users and memberships sent"), "{out}");
    assert!(out.contains("p99"), "{out}");
}

#[test]
fn a_scenario_folder_on_disk_can_be_replayed() {
    let dir = std::env::temp_dir().join(format!("idconform-scenarios-{}", std::process::id()));
    let folder = dir.join("mine");
    std::fs::create_dir_all(&folder).expect("temp dir");
    let scenario = r#"title = "A user that is not there"
idp = "generic"
sources = ["RFC 7644 §3.4.2"]

[[steps]]
id = "lookup"
title = "Lookup of an unknown user"
spec = "RFC 7644 §3.4.2"
expect = "A filter that matches nothing answers 200 with totalResults 0."
method = "GET"
path = '/Users?filter=userName eq "{{run}}-nobody"'
status = 200
[[steps.assert]]
path = "totalResults"
equals = 1
"#;
    std::fs::write(folder.join("lookup.toml"), scenario).expect("write scenario");
    let dir_s = dir.display().to_string();
    let (code, out) = idconform(&["replay", "all", "--scenarios-dir", &dir_s]);
    let _ = std::fs::remove_dir_all(&dir);
    // The assertion is deliberately wrong (totalResults is 0), so the step fails with a readable message.
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("replay.mine.lookup.lookup") && out.contains("totalResults equals 1"), "{out}");
}
