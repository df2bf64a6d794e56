//! `idconform check saml` as users run it: against the embedded reference server, the whole suite passes.

use crate::cli::{idconform, json_report};

#[test]
fn the_reference_server_passes_the_whole_saml_suite() {
    let (code, out) = idconform(&["check", "saml", "--report", "json", "--out", "-"]);
    assert_eq!(code, 0, "{out}");
    let report = json_report(&out);
    let s = &report["summary"];
    assert!(s["passed"].as_u64() >= Some(30), "{s}");
    assert_eq!(s["passed"], s["total"], "every check passes, none skipped: {s}");
    let ids: Vec<&str> = report["results"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_str()).collect();
    assert!(ids.iter().all(|id| id.starts_with("saml.")), "only the SAML suite ran: {ids:?}");
}

#[test]
fn check_saml_lists_its_checks_and_needs_a_target_file_for_others() {
    let (code, out) = idconform(&["check", "saml", "--list"]);
    assert_eq!(code, 0, "{out}");
    for id in ["saml.acs.valid", "saml.xsw.xsw8", "saml.replay.same-response"] {
        assert!(out.contains(id), "{id} in {out}");
    }
    let (code, out) = idconform(&["check", "saml", "--scim-url", "http://127.0.0.1:9/scim/v2"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--target"), "{out}");
}

#[test]
fn bench_saml_measures_the_acs_against_the_metadata_baseline() {
    let (code, out) = idconform(&["bench", "--saml", "--responses", "20", "--duration", "1", "--connections", "2"]);
    assert_eq!(code, 0, "every scenario got the answer it expects: {out}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row in {out}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("metadata").last().map(String::as_str), Some("1.00x"), "{out}");
    for name in ["acs", "forged", "doctype"] {
        let cols = row(name);
        assert!(cols[1].parse::<f64>().is_ok_and(|rps| rps > 0.0), "{name}: {cols:?}");
        assert_eq!(cols[4], "0", "{name} errors: {cols:?}");
    }
    let (code, out) = idconform(&["bench", "--saml", "--responses", "5000"]);
    assert_eq!(code, 2, "{out}");
}
