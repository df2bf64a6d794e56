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
