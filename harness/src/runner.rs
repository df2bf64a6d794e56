//! Running checks: selection (profile, `--only`, `--skip`), the per-check context, discovery fetched once and
//! shared, bounded concurrency, progress callbacks, cleanup, and assembling the report.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use parking_lot::Mutex;
use reqwest::Method;
use serde_json::{Value, json};

use crate::check::{Check, Level, Outcome, Step, fail, skip};
use crate::http::{Client, HttpError, Recorder, Request, Response};
use crate::report::{CheckResult, DeviationNote, Report, Status};
use crate::target::Target;

/// A conformance profile: which checks run and at which level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Everything: RFC checks at their RFC level, and the IdP request shapes (tag `idp`) at SHOULD, so a server that
    /// refuses them is warned that Okta or Entra will break, without failing the run.
    All,
    /// Every RFC check at the level its RFC sentence states (IdP request shapes excluded).
    Rfc,
    /// What identity providers in general rely on (checks tagged `interop`).
    Interop,
    /// What Okta's SCIM client relies on (checks tagged `okta`).
    Okta,
    /// What Microsoft Entra ID's SCIM client relies on (checks tagged `entra`).
    Entra,
}

impl Profile {
    /// All profiles, for help texts.
    pub const ALL: [Profile; 5] = [Profile::All, Profile::Rfc, Profile::Interop, Profile::Okta, Profile::Entra];

    /// The profile's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::All => "all",
            Profile::Rfc => "rfc",
            Profile::Interop => "interop",
            Profile::Okta => "okta",
            Profile::Entra => "entra",
        }
    }

    /// Whether the profile includes the check, and at which level. An IdP profile raises a SHOULD to MUST when the
    /// check is tagged `<profile>-must`: that IdP's client breaks without the behaviour, whatever the RFC's keyword.
    pub fn level_of<C>(self, check: &Check<C>) -> Option<Level> {
        if self == Profile::All {
            return Some(check.level);
        }
        if self == Profile::Rfc {
            // IdP request shapes (tag `idp`) are judged only under their IdP's profile: the RFC alone lets a server
            // refuse them.
            return (!check.tags.contains(&"idp")).then_some(check.level);
        }
        let tag = self.as_str();
        if !check.tags.contains(&tag) {
            return None;
        }
        let must_tag = format!("{tag}-must");
        Some(if check.tags.iter().any(|t| *t == must_tag) { Level::Must } else { check.level })
    }
}

impl FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown profile {s:?} (expected one of all, rfc, interop, okta, entra)"))
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Profile.
    pub profile: Profile,
    /// Run only checks matching one of these selectors (id, id prefix, section or tag); all when empty.
    pub only: Vec<String>,
    /// Leave out checks matching one of these selectors.
    pub skip: Vec<String>,
    /// Checks in flight at once.
    pub concurrency: usize,
    /// Timeout of each HTTP request.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: Profile::All,
            only: Vec::new(),
            skip: Vec::new(),
            concurrency: 8,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why a run could not happen at all.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No HTTP response from the target (exit code 3).
    #[error("target unreachable: {0}")]
    Unreachable(String),
    /// The client could not be built (exit code 2).
    #[error("{0}")]
    Config(String),
}

/// Progress events, in the order they happen.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The run starts with this many checks.
    Started {
        /// Number of selected checks.
        total: usize,
    },
    /// A check finished.
    Finished {
        /// Its result.
        result: &'a CheckResult,
        /// Checks finished so far, including this one.
        done: usize,
        /// Number of selected checks.
        total: usize,
    },
}

/// The checks selected by the options, with their effective level, in declaration order.
pub fn select<C>(checks: &[Check<C>], opts: &Options) -> Vec<(Check<C>, Level)> {
    checks
        .iter()
        .filter(|c| opts.only.is_empty() || opts.only.iter().any(|s| c.matches(s)))
        .filter(|c| !opts.skip.iter().any(|s| c.matches(s)))
        .filter_map(|c| opts.profile.level_of(c).map(|l| (*c, l)))
        .collect()
}

/// The discovery documents, fetched once per run and shared by every check.
#[derive(Debug, Default, Clone)]
pub struct Discovery {
    /// `/ServiceProviderConfig` body, when it answered 200 with JSON.
    pub spc: Option<Value>,
    /// `/ResourceTypes` body, when it answered 200 with JSON.
    pub resource_types: Option<Value>,
    /// `/Schemas` body, when it answered 200 with JSON.
    pub schemas: Option<Value>,
}

impl Discovery {
    /// Fetches the three discovery documents. Only a transport failure on the first one is an error: a target that
    /// answers anything at all is reachable, and the discovery checks judge the answers.
    pub async fn fetch(client: &Client) -> Result<Self, HttpError> {
        let log = Recorder::new();
        let get = |path: &'static str| {
            let log = &log;
            async move { client.send(Request::new(Method::GET, path), log).await }
        };
        let ok_json = |r: Response| if r.status == 200 { r.json() } else { None };
        let spc = get("/ServiceProviderConfig").await?;
        let resource_types = get("/ResourceTypes").await.ok().and_then(ok_json);
        let schemas = get("/Schemas").await.ok().and_then(ok_json);
        Ok(Discovery { spc: ok_json(spc), resource_types, schemas })
    }

    /// `supported` of a ServiceProviderConfig feature (`patch`, `bulk`, `filter`, `sort`, `etag`, …).
    pub fn supported(&self, feature: &str) -> Option<bool> {
        self.spc.as_ref()?.get(feature)?.get("supported")?.as_bool()
    }

    /// Skips unless the feature is advertised: RFC 7644 §4 makes ServiceProviderConfig the way to discover support,
    /// so a feature that is not advertised is not tested (one that is advertised but broken fails).
    pub fn require(&self, feature: &str) -> Step {
        match self.supported(feature) {
            Some(true) => Ok(()),
            Some(false) => Err(skip(format!("ServiceProviderConfig advertises {feature}.supported = false"))),
            None => Err(skip(format!("ServiceProviderConfig does not advertise {feature}.supported"))),
        }
    }

    /// Whether RFC 9865 cursor pagination is advertised (`pagination.cursor`).
    pub fn cursor(&self) -> bool {
        self.spc
            .as_ref()
            .and_then(|s| s.get("pagination"))
            .and_then(|p| p.get("cursor"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// `bulk.maxOperations`.
    pub fn bulk_max_operations(&self) -> Option<u64> {
        self.spc.as_ref()?.get("bulk")?.get("maxOperations")?.as_u64()
    }

    /// `bulk.maxPayloadSize` in bytes, when stated.
    pub fn bulk_max_payload(&self) -> Option<u64> {
        self.spc.as_ref()?.get("bulk")?.get("maxPayloadSize")?.as_u64()
    }

    /// Whether a resource type with this endpoint (`/Groups`) is listed in `/ResourceTypes` (true when the list could
    /// not be read, so that a broken discovery document does not hide failures of the resource checks).
    pub fn has_endpoint(&self, endpoint: &str) -> bool {
        let Some(rts) = self.resource_types.as_ref().and_then(|r| r.get("Resources")).and_then(Value::as_array) else {
            return true;
        };
        rts.iter()
            .any(|rt| rt.get("endpoint").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case(endpoint)))
    }
}

/// Everything a check body can use: the recording client, the shared discovery documents, unique names and cleanup.
pub struct Ctx {
    client: Client,
    /// Discovery documents fetched once for the run.
    pub discovery: Arc<Discovery>,
    log: Recorder,
    cleanup: Mutex<Vec<String>>,
    prefix: String,
    seq: AtomicUsize,
    other_token: Option<String>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// The SCIM core User schema URN.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The SCIM core Group schema URN.
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

impl Ctx {
    /// A context for one check. `prefix` must be unique in the run and across runs against the same target; every
    /// name the check creates starts with it, so checks can filter on their own data while others run.
    pub fn new(client: Client, discovery: Arc<Discovery>, prefix: String) -> Self {
        Ctx {
            client,
            discovery,
            log: Recorder::new(),
            cleanup: Mutex::new(Vec::new()),
            prefix,
            seq: AtomicUsize::new(0),
            other_token: None,
        }
    }

    /// Gives the check the bearer token of another tenant of the same service ([`Target::other_token`]).
    pub fn with_other_token(mut self, token: Option<String>) -> Self {
        self.other_token = token;
        self
    }

    /// The bearer token of another tenant, when the target declares one.
    pub fn other_token(&self) -> Option<&str> {
        self.other_token.as_deref()
    }

    /// The SCIM base URL.
    pub fn base(&self) -> &str {
        self.client.base()
    }

    /// The prefix of every name this check creates.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A fresh unique name starting with the check's prefix.
    pub fn unique(&self, label: &str) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}-{label}", self.prefix)
    }

    /// Sends a request; a transport failure becomes a check failure.
    pub async fn send(&self, req: Request) -> Step<Response> {
        self.client.send(req, &self.log).await.map_err(|e| fail("an HTTP response", format!("no response: {e}")))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Step<Response> {
        self.send(Request::new(Method::GET, path)).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Step<Response> {
        self.send(Request::new(Method::POST, path).json(body)).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Step<Response> {
        self.send(Request::new(Method::PUT, path).json(body)).await
    }

    /// `PATCH path` with a PatchOp body built from `operations`.
    pub async fn patch(&self, path: &str, operations: Value) -> Step<Response> {
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
        self.send(Request::new(Method::PATCH, path).json(&body)).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Step<Response> {
        self.send(Request::new(Method::DELETE, path)).await
    }

    /// `GET {endpoint}?filter=…` (plus extra query parameters), expecting a 200 ListResponse; returns its body.
    pub async fn list(&self, endpoint: &str, filter: &str, extra: &str) -> Step<Value> {
        let mut path = format!("{endpoint}?filter={}", crate::http::encode(filter));
        if !extra.is_empty() {
            path.push('&');
            path.push_str(extra);
        }
        let r = self.get(&path).await?;
        expect_status(&r, 200, "a 200 ListResponse")?;
        json_body(&r)
    }

    /// Registers a resource (path relative to the base URL, or absolute) to delete when the check ends.
    pub fn cleanup_later(&self, path: impl Into<String>) {
        self.cleanup.lock().push(path.into());
    }

    /// A minimal valid User with a unique userName.
    pub fn user_body(&self, label: &str) -> Value {
        json!({"schemas": [USER_URN], "userName": self.unique(label)})
    }

    /// Creates a resource at `endpoint`, expecting 201 with an `id`; registers it for cleanup and returns it.
    pub async fn create(&self, endpoint: &str, body: &Value) -> Step<Value> {
        let r = self.post(endpoint, body).await?;
        expect_status(&r, 201, &format!("setup: POST {endpoint} answers 201 Created"))?;
        let v = json_body(&r)?;
        let id = str_at(&v, "id").ok_or_else(|| fail("setup: the created resource has an \"id\"", r.describe()))?;
        self.cleanup_later(format!("{endpoint}/{id}"));
        Ok(v)
    }

    /// Creates a User from `user_body(label)` merged with `extra` (an object).
    pub async fn create_user(&self, label: &str, extra: Value) -> Step<Value> {
        let mut body = self.user_body(label);
        merge(&mut body, extra);
        self.create("/Users", &body).await
    }

    /// Creates a Group with a unique displayName merged with `extra`.
    pub async fn create_group(&self, label: &str, extra: Value) -> Step<Value> {
        let mut body = json!({"schemas": [GROUP_URN], "displayName": self.unique(label)});
        merge(&mut body, extra);
        self.create("/Groups", &body).await
    }

    /// Deletes what the check registered, newest first (groups referencing users go before the users). Failures
    /// are ignored: the resource may already be gone, and cleanup must not change the verdict.
    async fn run_cleanup(&self) {
        let paths: Vec<String> = std::mem::take(&mut *self.cleanup.lock());
        let scratch = Recorder::new();
        for p in paths.into_iter().rev() {
            let _ = self.client.send(Request::new(Method::DELETE, p), &scratch).await;
        }
    }
}

/// Fails unless the response has this status.
pub fn expect_status(r: &Response, status: u16, expected: &str) -> Step {
    if r.status == status { Ok(()) } else { Err(fail(format!("{expected} (HTTP {status})"), r.summary())) }
}

/// The response body as JSON, or a failure saying it is not.
pub fn json_body(r: &Response) -> Step<Value> {
    r.json().ok_or_else(|| fail("a JSON body", r.summary()))
}

/// A string attribute by case-insensitive name (RFC 7643 §2.1: attribute names are case insensitive).
pub fn str_at<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    get_ci(v, name).and_then(Value::as_str)
}

/// An attribute by case-insensitive name.
pub fn get_ci<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

/// An attribute by a dotted, case-insensitive path (`meta.location`, `name.familyName`).
pub fn path_at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |cur, seg| get_ci(cur, seg))
}

/// Shallow-merges the members of `extra` into `body`.
pub fn merge(body: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
}

/// The client for a target, after one probe of `/ServiceProviderConfig`, so that an unreachable target is one clear
/// error (exit code 3) rather than a failure per request.
pub async fn connect(target: &Target, timeout: Duration) -> Result<Client, RunError> {
    let client =
        Client::new(&target.scim_url, target.token.as_deref(), timeout).map_err(|e| RunError::Config(e.to_string()))?;
    client
        .send(Request::new(Method::GET, "/ServiceProviderConfig"), &Recorder::discarding())
        .await
        .map_err(|e| RunError::Unreachable(e.to_string()))?;
    Ok(client)
}

/// Runs the selected checks against the target and returns the report.
pub async fn run(
    target: &Target,
    checks: &[Check],
    opts: &Options,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Report, RunError> {
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let client = Client::new(&target.scim_url, target.token.as_deref(), opts.timeout)
        .map_err(|e| RunError::Config(e.to_string()))?;
    let discovery = Arc::new(Discovery::fetch(&client).await.map_err(|e| RunError::Unreachable(e.to_string()))?);
    let selected = select(checks, opts);
    let total = selected.len();
    progress(Progress::Started { total });
    // One random component per run keeps names unique across runs against the same long-lived target.
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let run_id = &run_id[..8];
    let done = AtomicUsize::new(0);
    let mut results: Vec<(usize, CheckResult)> = futures::stream::iter(selected.into_iter().enumerate())
        .map(|(i, (check, level))| {
            let ctx = Ctx::new(client.clone(), discovery.clone(), format!("idc{run_id}c{i}"))
                .with_other_token(target.other_token.clone());
            let done = &done;
            async move {
                let result = run_one(&check, level, &ctx, target).await;
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Progress::Finished { result: &result, done: n, total });
                (i, result)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    let results: Vec<CheckResult> = results.into_iter().map(|(_, r)| r).collect();
    Ok(Report::new(target, opts.profile, started_at, clock.elapsed(), results))
}

async fn run_one(check: &Check, level: Level, ctx: &Ctx, target: &Target) -> CheckResult {
    let started = Instant::now();
    let outcome = match (check.run)(ctx).await {
        Ok(()) => Outcome::Pass,
        Err(o) => o,
    };
    ctx.run_cleanup().await;
    Verdict::of(check, level).into_result(outcome, ctx.log.take(), started, target)
}

/// What a suite's check context gives the shared runner ([`run_checks`]).
pub trait CheckContext {
    /// Takes the exchanges the check recorded.
    fn take_exchanges(&self) -> Vec<crate::http::Exchange>;
    /// The target's declared deviation for a check.
    fn deviation(&self, check_id: &str) -> Option<&crate::target::Deviation>;
}

/// Runs selected checks, each in a fresh context from `make`, `concurrency` at a time; the checks `last` picks (those
/// that move a server's clock) run after all others, one at a time. Results come back in selection order.
pub async fn run_checks<C: CheckContext>(
    selected: Vec<(Check<C>, Level)>,
    concurrency: usize,
    last: impl Fn(&Check<C>) -> bool,
    make: impl Fn() -> C,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Vec<CheckResult> {
    let total = selected.len();
    progress(Progress::Started { total });
    let done = AtomicUsize::new(0);
    let (serial, parallel): (Vec<_>, Vec<_>) = selected.into_iter().enumerate().partition(|(_, (c, _))| last(c));
    let run_at = |(i, (check, level)): (usize, (Check<C>, Level))| {
        let ctx = make();
        let done = &done;
        async move {
            let started = Instant::now();
            let outcome = match (check.run)(&ctx).await {
                Ok(()) => Outcome::Pass,
                Err(o) => o,
            };
            let result = Verdict::of(&check, level).into_result_with(
                outcome,
                ctx.take_exchanges(),
                started,
                ctx.deviation(check.id),
            );
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress(Progress::Finished { result: &result, done: n, total });
            (i, result)
        }
    };
    let mut results: Vec<(usize, CheckResult)> =
        futures::stream::iter(parallel).map(run_at).buffer_unordered(concurrency.max(1)).collect().await;
    for item in serial {
        results.push(run_at(item).await);
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// What a result is about, before its outcome is known: shared by checks and replayed scenario steps, so both
/// reach the reports in the same form.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Stable id.
    pub id: String,
    /// One line.
    pub title: String,
    /// Report section.
    pub section: String,
    /// The clause enforced.
    pub spec: crate::report::Clause,
    /// Effective level.
    pub level: Level,
    /// Tags.
    pub tags: Vec<String>,
}

impl Verdict {
    /// What a check's result is about, at its effective level.
    pub fn of<C>(check: &Check<C>, level: Level) -> Self {
        Verdict {
            id: check.id.to_owned(),
            title: check.title.to_owned(),
            section: check.section().to_owned(),
            spec: check.spec.into(),
            level,
            tags: check.tags.iter().map(|t| (*t).to_owned()).collect(),
        }
    }

    /// The result for an outcome: a failure of a SHOULD or MAY is a warning; a declared deviation is attached;
    /// exchanges are kept only when something has to be explained.
    pub fn into_result(
        self,
        outcome: Outcome,
        exchanges: Vec<crate::http::Exchange>,
        started: Instant,
        target: &Target,
    ) -> CheckResult {
        let deviation = target.deviation(&self.id).cloned();
        self.into_result_with(outcome, exchanges, started, deviation.as_ref())
    }

    /// [`Verdict::into_result`] with the deviation already looked up.
    pub fn into_result_with(
        self,
        outcome: Outcome,
        exchanges: Vec<crate::http::Exchange>,
        started: Instant,
        deviation: Option<&crate::target::Deviation>,
    ) -> CheckResult {
        let (status, message, expected, actual) = match &outcome {
            Outcome::Pass => (Status::Pass, "passed".to_owned(), None, None),
            Outcome::Fail { expected, actual } => {
                let status = if self.level == Level::Must { Status::Fail } else { Status::Warn };
                (status, format!("expected {expected}; got {actual}"), Some(expected.clone()), Some(actual.clone()))
            }
            Outcome::Skip { reason } => (Status::Skip, reason.clone(), None, None),
        };
        let deviation = deviation.map(|d| DeviationNote {
            reason: d.reason.clone(),
            still_fails: matches!(status, Status::Fail | Status::Warn),
        });
        CheckResult {
            id: self.id,
            title: self.title,
            section: self.section,
            spec: self.spec,
            level: self.level,
            tags: self.tags,
            status,
            message,
            expected,
            actual,
            deviation,
            exchanges: if status == Status::Pass { Vec::new() } else { exchanges },
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }
}
