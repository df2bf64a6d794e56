//! Snapshots of every report format for one fixed run with a result of each kind (pass, MUST failure with its
//! exchange, SHOULD warning, skip, declared deviation, stale deviation). A change here changes what users read.

use std::time::Duration;

use idconform_harness::Target;
use idconform_harness::check::Level;
use idconform_harness::http::Exchange;
use idconform_harness::report::{CheckResult, Clause, DeviationNote, Format, Report, Status};
use idconform_harness::runner::Profile;

include!(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/macros.rs"));

fn result(id: &str, level: Level, status: Status, message: &str) -> CheckResult {
    CheckResult {
        id: id.into(),
        title: format!("What {id} verifies"),
        section: id.split('.').nth(1).unwrap_or("x").into(),
        spec: Clause {
            rfc: "RFC 7644".into(),
            section: "3.4.2.2".into(),
            text: "The sentence <quoted> & \"escaped\".".into(),
        },
        level,
        tags: vec!["filter".into()],
        status,
        message: message.into(),
        expected: (status != Status::Pass && status != Status::Skip).then(|| "HTTP 400".into()),
        actual: (status != Status::Pass && status != Status::Skip).then(|| "HTTP 200".into()),
        deviation: None,
        exchanges: Vec::new(),
        duration_ms: 3,
    }
}

fn fixed_report() -> Report {
    let mut failed = result("scim.filter.invalid", Level::Must, Status::Fail, "expected HTTP 400; got HTTP 200");
    failed.exchanges.push(Exchange {
        method: "GET".into(),
        url: "http://127.0.0.1:4000/scim/v2/Users?filter=userName%20eq".into(),
        request_headers: vec![("Authorization".into(), "Bearer [redacted]".into())],
        request_body: None,
        status: Some(200),
        response_headers: vec![("content-type".into(), "application/scim+json".into())],
        response_body: Some(r#"{"totalResults":0,"Resources":[]}"#.into()),
        error: None,
        duration_ms: 1,
    });
    let mut deviated = result("scim.sort.descending", Level::Must, Status::Fail, "expected order; got none");
    deviated.deviation =
        Some(DeviationNote { reason: "sorting is not supported (TICKET-1)".into(), still_fails: true });
    let mut stale = result("scim.sort.ascending", Level::Must, Status::Pass, "passed");
    stale.deviation = Some(DeviationNote { reason: "fixed in 2.3".into(), still_fails: false });
    let results = vec![
        result("scim.filter.eq", Level::Must, Status::Pass, "passed"),
        failed,
        result("scim.filter.sw-case", Level::Should, Status::Warn, "expected a match; got none"),
        result(
            "scim.bulk.max-operations",
            Level::Must,
            Status::Skip,
            "ServiceProviderConfig advertises bulk.supported = false",
        ),
        deviated,
        stale,
    ];
    let target = Target::new("http://127.0.0.1:4000/scim/v2", None).expect("target");
    let started =
        chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z").expect("time").with_timezone(&chrono::Utc);
    Report::new(&target, Profile::All, started, Duration::from_millis(42), results)
}

#[test]
fn every_report_format() {
    let report = fixed_report();
    for (name, format) in [
        ("report_console", Format::Console),
        ("report_json", Format::Json),
        ("report_junit", Format::Junit),
        ("report_markdown", Format::Markdown),
        ("report_html", Format::Html),
    ] {
        project_snapshot!(text: name, report.render(format));
    }
}
