//! Scenario replay: whole provisioning cycles of Okta, Entra (both modes) and a plain RFC client, read from the
//! scenario files of `scenarios/` (format in `scenarios/README.md`), sent to any SCIM server and judged on the
//! responses **and on the state the server kept** (each step's follow-up GET). Every step becomes one result in the
//! same reports as the conformance checks, with the IdP and mode as tags and the vendor expectation as its clause.

pub mod assert;
pub mod scenario;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;

pub use scenario::{Scenario, ScenarioError, builtin, load_dir};

use crate::check::{Level, Outcome, fail, skip};
use crate::http::{Client, Recorder, Request, Response, SCIM_JSON};
use crate::idp::Idp;
use crate::report::{CheckResult, Clause, Report};
use crate::runner::{Profile, Progress, RunError, Verdict, json_body};
use crate::target::Target;
use scenario::{Missing, Step, Vars};

/// How to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Scenarios in flight at once (the steps of one scenario always run in order).
    pub concurrency: usize,
    /// Timeout of each HTTP request.
    pub timeout: Duration,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { concurrency: 4, timeout: Duration::from_secs(30) }
    }
}

/// The scenarios whose client `wanted` accepts, optionally only those named (`NAME` or `folder/NAME`), in file order.
pub fn select<'a>(all: &'a [Scenario], wanted: impl Fn(Idp) -> bool, names: &[String]) -> Vec<&'a Scenario> {
    all.iter()
        .filter(|s| wanted(s.idp))
        .filter(|s| names.is_empty() || names.iter().any(|n| *n == s.name || *n == s.full_name()))
        .collect()
}

/// Splits `RFC 7644 §3.5.2.3` into document and section, and `Okta: SCIM 2.0 protocol reference` likewise.
fn clause(spec: &str, text: &str) -> Clause {
    let (rfc, section) = if let Some((d, s)) = spec.split_once('§') {
        (d.trim(), s.trim())
    } else if let Some((d, s)) = spec.split_once(':') {
        (d.trim(), s.trim())
    } else {
        (spec.trim(), "")
    };
    Clause { rfc: rfc.to_owned(), section: section.to_owned(), text: text.to_owned() }
}

fn level_of(step: &Step) -> Level {
    match step.level.as_deref() {
        Some("SHOULD") => Level::Should,
        Some("MAY") => Level::May,
        _ => Level::Must,
    }
}

/// The profile a set of scenarios is judged under, for the report header.
fn profile_of(scenarios: &[&Scenario]) -> Profile {
    let mut idps = scenarios.iter().map(|s| s.idp.name());
    match idps.next() {
        Some(first) if idps.all(|n| n == first) => match first {
            "okta" => Profile::Okta,
            "entra" => Profile::Entra,
            _ => Profile::Rfc,
        },
        _ => Profile::All,
    }
}

/// Replays the scenarios against the target and returns the report.
pub async fn run(
    target: &Target,
    scenarios: &[&Scenario],
    opts: &ReplayOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Report, RunError> {
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let client = crate::runner::connect(target, opts.timeout).await?;
    let total: usize = scenarios.iter().map(|s| s.file.steps.len()).sum();
    progress(Progress::Started { total });
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let done = AtomicUsize::new(0);
    let mut results: Vec<(usize, Vec<CheckResult>)> = futures::stream::iter(scenarios.iter().enumerate())
        .map(|(i, s)| {
            // `{{run}}` differs per scenario too, so scenarios that create the same names can run side by side.
            let run = format!("idc{}s{i}", &run_id[..8]);
            let (client, done) = (&client, &done);
            async move {
                let on_step = |r: &CheckResult| {
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress(Progress::Finished { result: r, done: n, total });
                };
                (i, replay_one(client, s, &run, target, &on_step).await)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    let results: Vec<CheckResult> = results.into_iter().flat_map(|(_, r)| r).collect();
    Ok(Report::new(target, profile_of(scenarios), started_at, clock.elapsed(), results))
}

/// Replays one scenario: its steps in order, then its cleanup.
async fn replay_one(
    client: &Client,
    s: &Scenario,
    run: &str,
    target: &Target,
    on_step: &(dyn Fn(&CheckResult) + Sync),
) -> Vec<CheckResult> {
    let mut vars = Vars::new(run);
    // Which step captures which variable, to say why a later step cannot run.
    let mut captured_by: BTreeMap<&str, &str> = BTreeMap::new();
    for step in &s.file.steps {
        for name in step.capture.keys() {
            captured_by.entry(name).or_insert(&step.id);
        }
    }
    let mut results = Vec::with_capacity(s.file.steps.len());
    let mut var_error = None;
    for (name, v) in &s.file.vars {
        match vars.render_value(v) {
            Ok(Value::String(x)) => vars.set(name, x),
            Ok(other) => vars.set(name, other.to_string()),
            Err(Missing(m)) => var_error = Some(format!("variable {name} uses {{{{{m}}}}}, which has no value")),
        }
    }
    for step in &s.file.steps {
        let started = Instant::now();
        let log = Recorder::new();
        let outcome = match &var_error {
            Some(e) => skip(e.clone()),
            None => match run_step(client, s, step, &mut vars, &log).await {
                Ok(()) => Outcome::Pass,
                Err(StepError::Outcome(o)) => o,
                Err(StepError::Missing(m)) => skip(match captured_by.get(m.as_str()) {
                    Some(by) => {
                        format!("needs {{{{{m}}}}}, which step {by:?} did not capture (it failed or was skipped)")
                    }
                    None => format!("needs {{{{{m}}}}}, which no step or variable defines"),
                }),
            },
        };
        let mut tags = vec!["replay".to_owned(), s.idp.name().to_owned(), s.folder.clone()];
        if let Idp::Entra(m) = s.idp {
            tags.push(m.as_str().to_owned());
        }
        tags.extend(step.quirks.iter().map(|q| format!("quirk:{q}")));
        let verdict = Verdict {
            id: format!("replay.{}.{}.{}", s.folder, s.name, step.id),
            title: step.title.clone(),
            section: s.full_name(),
            spec: clause(&step.spec, &step.expect),
            level: level_of(step),
            tags,
        };
        let result = verdict.into_result(outcome, log.take(), started, target);
        on_step(&result);
        results.push(result);
    }
    // Cleanup is best effort and never judged: what a failed step left behind goes too.
    let scratch = Recorder::discarding();
    for c in &s.file.cleanup {
        let Ok(method) = Method::from_bytes(c.method.as_bytes()) else { continue };
        if let Ok(req) = request(s, &vars, method, &c.path, &BTreeMap::new(), c.body.as_deref()) {
            let _ = client.send(req, &scratch).await;
        }
    }
    results
}

/// Why a step did not pass: its verdict, or a variable it needs has no value.
pub(crate) enum StepError {
    Outcome(Outcome),
    Missing(String),
}

impl From<Missing> for StepError {
    fn from(m: Missing) -> Self {
        StepError::Missing(m.0)
    }
}

impl From<Outcome> for StepError {
    fn from(o: Outcome) -> Self {
        StepError::Outcome(o)
    }
}

/// Sends one step's request and judges it: status, assertions, captures, then the follow-up GET. The fuzzer
/// judges its live steps with this too, so a scenario it prints fails on replay exactly where the run diverged.
pub(crate) async fn run_step(
    client: &Client,
    s: &Scenario,
    step: &Step,
    vars: &mut Vars,
    log: &Recorder,
) -> Result<(), StepError> {
    let method = Method::from_bytes(step.method.as_bytes())
        .map_err(|_| fail("a valid HTTP method", format!("{:?}", step.method)))?;
    let req = request(s, vars, method, &step.path, &step.headers, step.body.as_deref())?;
    let resp = send(client, req, log).await?;
    let ok = match &step.status {
        Some(st) => st.accepts(resp.status),
        None => (200..300).contains(&resp.status),
    };
    if !ok {
        let want = step.status.as_ref().map_or_else(|| "a 2xx status".to_owned(), |s| s.describe());
        return Err(fail(want, resp.summary()).into());
    }
    if !step.assert.is_empty() || !step.capture.is_empty() {
        let body = json_body(&resp)?;
        judge(&step.assert, &body, vars, &resp)?;
        for (name, from) in &step.capture {
            let value = match from.strip_prefix("header:") {
                Some(h) => resp.header(h.trim()).map(str::to_owned),
                None => match assert::resolve(&body, from).as_slice() {
                    [Value::String(v)] => Some(v.clone()),
                    [v @ Value::Number(_)] => Some(v.to_string()),
                    _ => None,
                },
            };
            let value =
                value.ok_or_else(|| fail(format!("a single value at {from} to capture as {name}"), resp.summary()))?;
            vars.set(name, value);
        }
    }
    if let Some(then) = &step.then {
        let get = request(s, vars, Method::GET, &then.path, &BTreeMap::new(), None)?;
        let after = send(client, get, log).await?;
        let ok = then.status.as_ref().map_or(after.status == 200, |st| st.accepts(after.status));
        if !ok {
            let want = then.status.as_ref().map_or_else(|| "HTTP 200".to_owned(), |s| s.describe());
            return Err(fail(format!("the follow-up GET answers {want}"), after.summary()).into());
        }
        if !step.then_assert.is_empty() {
            let body = json_body(&after)?;
            judge(&step.then_assert, &body, vars, &after)?;
        }
    }
    Ok(())
}

/// A scenario's request: the path and the IdP's headers (the scenario's, then the step's) rendered and sent exactly
/// as written, and the body byte for byte (`application/scim+json` unless a header names another type).
fn request(
    s: &Scenario,
    vars: &Vars,
    method: Method,
    path: &str,
    extra: &BTreeMap<String, String>,
    body: Option<&str>,
) -> Result<Request, Missing> {
    let mut req = Request::new(method, vars.render(path)?).exact();
    let mut has_type = false;
    for (k, v) in s.file.headers.iter().chain(extra) {
        has_type |= k.eq_ignore_ascii_case("content-type");
        req = req.header(k, vars.render(v)?);
    }
    if let Some(body) = body {
        let body = vars.render(body.trim_end_matches('\n'))?;
        req = if has_type { Request { body: Some(body), ..req } } else { req.raw(SCIM_JSON, body) };
    }
    Ok(req)
}

async fn send(client: &Client, req: Request, log: &Recorder) -> Result<Response, StepError> {
    client.send(req, log).await.map_err(|e| StepError::Outcome(fail("an HTTP response", format!("no response: {e}"))))
}

/// Every assertion must hold; the first that does not is the failure, naming the response it judged.
fn judge(assertions: &[scenario::Assertion], body: &Value, vars: &Vars, resp: &Response) -> Result<(), StepError> {
    for a in assertions {
        if let Some(m) = assert::check(a, body, vars)? {
            return Err(fail(m.expected, format!("{} ({})", m.actual, resp.label())).into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_split_rfc_and_vendor_citations() {
        let c = clause("RFC 7644 §3.5.2.3", "x");
        assert_eq!((c.rfc.as_str(), c.section.as_str()), ("RFC 7644", "3.5.2.3"));
        let c = clause("Okta: SCIM 2.0 protocol reference", "x");
        assert_eq!((c.rfc.as_str(), c.section.as_str()), ("Okta", "SCIM 2.0 protocol reference"));
    }

    #[test]
    fn every_shipped_scenario_parses() {
        let all = match builtin() {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        };
        for folder in ["okta", "entra-legacy", "entra-2020", "generic"] {
            assert!(all.iter().any(|s| s.folder == folder), "no scenario in scenarios/{folder}");
        }
    }

    #[test]
    fn scenario_headers_match_the_mock_clients() {
        // The scenario files and the request builders describe the same clients: their headers must agree.
        for s in builtin().unwrap_or_default() {
            let client = crate::idp::MockClient::of(s.idp);
            let want: Vec<(String, String)> = client.headers();
            let got: Vec<(String, String)> = s.file.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            let mut want_sorted = want.clone();
            want_sorted.sort();
            assert_eq!(got, want_sorted, "{}: the [headers] table", s.full_name());
            for step in s.file.steps.iter().filter(|st| st.body.is_some()) {
                let ct =
                    step.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.as_str());
                assert_eq!(ct, Some(client.content_type()), "{}: Content-Type of step {}", s.full_name(), step.id);
            }
        }
    }

    /// Renders a template with every variable standing for its own name (`{{user_id}}` → `user_id`).
    fn render_names(text: &str) -> String {
        let mut vars = Vars::new("run");
        loop {
            match vars.render(text) {
                Ok(s) => return s,
                Err(Missing(m)) => vars.set(&m, m.clone()),
            }
        }
    }

    #[test]
    fn scenario_bodies_match_the_mock_client_builders() {
        use crate::idp::{EntraMode, MockClient};
        let legacy = MockClient::entra(EntraMode::Legacy);
        let modern = MockClient::entra(EntraMode::Aad2020);
        let okta = MockClient::okta();
        let table: Vec<(&str, &str, Request)> = vec![
            ("entra-legacy/group-lifecycle", "create-group", legacy.create_group("group", "group_ext")),
            (
                "entra-legacy/group-lifecycle",
                "add-two-members",
                legacy.add_members("group_id", &[("ama_id", ""), ("lena_id", "")]),
            ),
            ("entra-legacy/group-lifecycle", "remove-member-by-value", legacy.remove_members("group_id", &["ama_id"])),
            ("entra-legacy/group-lifecycle", "rename-group", legacy.rename_group("group_id", "group_new")),
            ("entra-legacy/user-lifecycle", "disable", legacy.set_active("user_id", false)),
            ("entra-legacy/user-lifecycle", "enable", legacy.set_active("user_id", true)),
            ("entra-legacy/manager", "set-manager-bare-id", legacy.set_manager("report_id", "boss_one_id")),
            (
                "entra-2020/group-lifecycle",
                "remove-two-members-by-filter",
                modern.remove_members("group_id", &["mara_id", "diego_id"]),
            ),
            ("entra-2020/group-lifecycle", "rename-group", modern.rename_group("group_id", "group_new")),
            ("entra-2020/user-lifecycle", "disable", modern.set_active("user_id", false)),
            ("okta/group-push", "create-group", okta.create_group("group", "unused")),
            (
                "okta/group-push",
                "add-members",
                okta.add_members("group_id", &[("hana_id", "hana"), ("ravi_id", "ravi")]),
            ),
            ("okta/group-push", "rename-with-id", okta.rename_group("group_id", "group_new")),
            ("okta/user-lifecycle", "deactivate", okta.set_active("user_id", false)),
            ("okta/user-lifecycle", "reactivate", okta.set_active("user_id", true)),
        ];
        let all = builtin().unwrap_or_default();
        for (scenario, step_id, built) in table {
            let Some(s) = all.iter().find(|s| s.full_name() == scenario) else { panic!("no scenario {scenario}") };
            let Some(step) = s.file.steps.iter().find(|st| st.id == step_id) else {
                panic!("no step {scenario}/{step_id}")
            };
            assert_eq!(step.method, built.method.as_str(), "{scenario}/{step_id}: method");
            assert_eq!(render_names(&step.path), built.path, "{scenario}/{step_id}: path");
            let data: Value =
                serde_json::from_str(&render_names(step.body.as_deref().unwrap_or("null"))).unwrap_or(Value::Null);
            let made: Value = serde_json::from_str(built.body.as_deref().unwrap_or("null")).unwrap_or(Value::Null);
            assert_eq!(data, made, "{scenario}/{step_id}: body");
        }
    }
}
