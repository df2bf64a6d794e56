//! Integration tests of the harness against deliberately broken SCIM targets built with wiremock: each proves that a
//! specific check fails, with a message that says why. Plus the report formats: the JSON report has the documented
//! shape and the JUnit XML is well-formed with one testcase per check. `oauth.rs` and `saml.rs` do the same for the
//! OAuth and SAML suites.

mod oauth;
mod reports;
mod saml;

use idconform_harness::report::{Report, Status};
use idconform_harness::{Deviation, Options, Target};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SCIM: &str = "application/scim+json";

fn scim_json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), SCIM)
}

/// A server with valid discovery documents; each test adds the broken behaviour it is about.
async fn base_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/ServiceProviderConfig"))
        .respond_with(scim_json(
            200,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                "patch": {"supported": true}, "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
                "filter": {"supported": true, "maxResults": 100}, "changePassword": {"supported": false},
                "sort": {"supported": false}, "etag": {"supported": false},
                "authenticationSchemes": [{"type": "oauthbearertoken", "name": "Bearer", "description": "token"}]
            }),
        ))
        .mount(&server)
        .await;
    for p in ["/scim/v2/ResourceTypes", "/scim/v2/Schemas"] {
        Mock::given(method("GET"))
            .and(path(p))
            .respond_with(scim_json(
                200,
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}),
            ))
            .mount(&server)
            .await;
    }
    server
}

fn user(id: &str, user_name: &str, base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id, "userName": user_name,
        "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z",
                 "location": format!("{base}/scim/v2/Users/{id}")}
    })
}

async fn run_only(server: &MockServer, ids: &[&str], deviations: Vec<Deviation>) -> Report {
    let mut target = Target::new(&format!("{}/scim/v2", server.uri()), Some("secret-token".into())).expect("target");
    target.deviations = deviations;
    let opts = Options { only: ids.iter().map(|s| (*s).to_owned()).collect(), ..Options::default() };
    let checks = idconform_harness::suites::all();
    idconform_harness::run(&target, &checks, &opts, &|_| {}).await.expect("target reachable")
}

fn result<'a>(report: &'a Report, id: &str) -> &'a idconform_harness::report::CheckResult {
    report.results.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no result for {id}"))
}

#[tokio::test]
async fn numeric_error_status_fails_status_string() {
    let server = base_server().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_json(201, user("u1", "someone", &base)))
        .mount(&server)
        .await;
    // Every error carries "status" as a JSON number instead of a string.
    Mock::given(method("GET"))
        .and(path_regex("^/scim/v2/Users.*"))
        .respond_with(scim_json(
            404,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": 404, "detail": "not found"}),
        ))
        .mount(&server)
        .await;
    let report = run_only(&server, &["scim.errors.status-string"], vec![]).await;
    let r = result(&report, "scim.errors.status-string");
    assert_eq!(r.status, Status::Fail, "{r:?}");
    assert!(r.message.contains("\"status\": \"404\"") && r.message.contains("\"status\": 404"), "{}", r.message);
    assert!(!r.exchanges.is_empty(), "a failure carries its exchanges");
    assert_eq!(report.exit_code(), 1);
}

#[tokio::test]
async fn missing_token_accepted_fails_auth_check_and_redacts_the_token() {
    let server = base_server().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_json(
            200,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0}),
        ))
        .mount(&server)
        .await;
    let report = run_only(&server, &["scim.auth.missing-token", "scim.auth.wrong-token"], vec![]).await;
    for id in ["scim.auth.missing-token", "scim.auth.wrong-token"] {
        let r = result(&report, id);
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert!(r.message.contains("HTTP 401") && r.message.contains("→ 200"), "{}", r.message);
    }
    let json = report.render(idconform_harness::Format::Json);
    assert!(!json.contains("secret-token"), "the bearer token must never reach a report");
}

#[tokio::test]
async fn ignored_filter_fails_filter_checks() {
    let server = base_server().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_json(201, user("u1", "created", &base)))
        .mount(&server)
        .await;
    // The filter is ignored: every query answers the same two unrelated users.
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_json(
            200,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2,
                   "Resources": [user("a", "alice", &base), user("b", "bob", &base)]}),
        ))
        .mount(&server)
        .await;
    let report = run_only(&server, &["scim.filter.eq", "scim.filter.co"], vec![]).await;
    for id in ["scim.filter.eq", "scim.filter.co"] {
        let r = result(&report, id);
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert!(r.message.contains("(foreign) alice"), "{}", r.message);
    }
}

#[tokio::test]
async fn missing_location_fails_location_check() {
    let server = base_server().await;
    let base = server.uri();
    Mock::given(method("POST"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_json(201, user("u1", "created", &base)))
        .mount(&server)
        .await;
    let report = run_only(&server, &["scim.crud.location-header"], vec![]).await;
    let r = result(&report, "scim.crud.location-header");
    assert_eq!(r.status, Status::Fail, "{r:?}");
    assert!(r.message.contains("no Location header"), "{}", r.message);
}

#[tokio::test]
async fn unadvertised_feature_is_skipped_with_reason() {
    let server = base_server().await;
    let report = run_only(&server, &["scim.sort.ascending", "scim.etag.header"], vec![]).await;
    for r in &report.results {
        assert_eq!(r.status, Status::Skip, "{r:?}");
        assert!(r.message.contains("supported = false"), "{}", r.message);
    }
    assert_eq!(report.exit_code(), 0);
}

#[tokio::test]
async fn tenant_isolation_and_immutable_are_skipped_without_what_they_need() {
    // No second credential configured, and /Schemas (empty here) declares no immutable attribute.
    let server = base_server().await;
    let report = run_only(&server, &["scim.auth.other-tenant", "scim.crud.immutable"], Vec::new()).await;
    let by_id = |id: &str| report.results.iter().find(|r| r.id == id).expect("check ran");
    let other = by_id("scim.auth.other-tenant");
    assert_eq!(other.status, Status::Skip, "{other:?}");
    assert!(
        other.message.contains("no second credential") && other.message.contains("--other-token"),
        "{}",
        other.message
    );
    let imm = by_id("scim.crud.immutable");
    assert_eq!(imm.status, Status::Skip, "{imm:?}");
    assert!(imm.message.contains("no immutable attribute"), "{}", imm.message);
}

#[tokio::test]
async fn declared_deviation_does_not_fail_the_run_and_stale_ones_are_flagged() {
    let server = base_server().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .and(query_param_is_missing("filter"))
        .respond_with(scim_json(200, json!({"totalResults": 0})))
        .mount(&server)
        .await;
    let devs = vec![
        Deviation { check: "scim.auth.missing-token".into(), reason: "known".into() },
        Deviation { check: "scim.discovery.spc-valid".into(), reason: "fixed long ago".into() },
    ];
    let report = run_only(&server, &["scim.auth.missing-token", "scim.discovery.spc-valid"], devs).await;
    let failing = result(&report, "scim.auth.missing-token");
    assert_eq!(failing.status, Status::Fail);
    assert!(failing.deviation.as_ref().is_some_and(|d| d.still_fails));
    let stale = result(&report, "scim.discovery.spc-valid");
    assert_eq!(stale.status, Status::Pass);
    assert!(stale.deviation.as_ref().is_some_and(|d| !d.still_fails));
    assert_eq!(report.exit_code(), 0);
    assert_eq!((report.summary.deviations, report.summary.stale_deviations), (1, 1));
}

#[tokio::test]
async fn unreachable_target_is_a_run_error() {
    // A port nothing listens on: bind, note the port, drop the listener.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let target = Target::new(&format!("http://127.0.0.1:{port}/scim/v2"), None).expect("target");
    let res = idconform_harness::run(&target, &idconform_harness::suites::all(), &Options::default(), &|_| {}).await;
    assert!(matches!(res, Err(idconform_harness::RunError::Unreachable(_))));
}

async fn mixed_report() -> Report {
    let server = base_server().await;
    Mock::given(method("GET"))
        .and(path("/scim/v2/Users"))
        .respond_with(scim_json(200, json!({"totalResults": 0})))
        .mount(&server)
        .await;
    run_only(&server, &["scim.discovery", "scim.auth.missing-token", "scim.sort.ascending", "scim.me.get"], vec![])
        .await
}

#[tokio::test]
async fn json_report_has_the_documented_shape() {
    let report = mixed_report().await;
    let v: Value = serde_json::from_str(&report.render(idconform_harness::Format::Json)).expect("valid JSON");
    let summary = &v["summary"];
    for k in ["passed", "failed", "warned", "skipped", "total"] {
        assert!(summary[k].is_u64(), "summary.{k}: {summary}");
    }
    let results = v["results"].as_array().expect("results array");
    assert_eq!(results.len(), report.results.len());
    assert!(results.len() > 5);
    let statuses: Vec<&str> = results.iter().filter_map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses.len(), results.len());
    for s in ["pass", "fail", "skip"] {
        assert!(statuses.contains(&s), "expected a {s} among {statuses:?}");
    }
    for r in results {
        for k in ["id", "title", "level", "status", "message"] {
            assert!(r[k].is_string(), "{k} in {r}");
        }
        for k in ["rfc", "section", "text"] {
            assert!(r["spec"][k].is_string(), "spec.{k} in {r}");
        }
        assert!(["MUST", "SHOULD", "MAY"].contains(&r["level"].as_str().unwrap_or("")));
    }
    let counted: u64 = ["passed", "failed", "warned", "skipped"].iter().filter_map(|k| summary[*k].as_u64()).sum();
    assert_eq!(counted, summary["total"].as_u64().unwrap_or(0));
}

#[tokio::test]
async fn junit_is_well_formed_with_one_testcase_per_check() {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let report = mixed_report().await;
    let xml = report.render(idconform_harness::Format::Junit);
    let mut reader = Reader::from_str(&xml);
    reader.config_mut().check_end_names = true;
    let (mut testcases, mut failures, mut depth) = (0usize, 0usize, 0i32);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                match e.name().as_ref() {
                    b"testcase" => testcases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            Ok(Event::Empty(e)) if e.name().as_ref() == b"testcase" => testcases += 1,
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("malformed JUnit XML at {}: {e}\n{xml}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    assert_eq!(testcases, report.results.len());
    assert_eq!(failures, report.summary.failed);
}

#[tokio::test]
async fn html_and_markdown_escape_target_text() {
    let mut report = mixed_report().await;
    report.target = "<script>alert(1)</script>".into();
    let html = report.render(idconform_harness::Format::Html);
    assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"));
    assert!(
        !html.contains("<link") && !html.contains(" src=") && html.contains("<style>"),
        "inline CSS, no external assets"
    );
    let md = report.render(idconform_harness::Format::Markdown);
    assert!(md.contains("\\<script\\>"));
}
