//! Gherkin scenarios (`features/`) run by cucumber against any target, with the step library of [`steps`]. Each
//! scenario becomes one result in the same reports as checks: its clause from its tags (`@rfc7644-3.5.2.2` →
//! RFC 7644 §3.5.2.2, `@saml-core-2.5.1.4` → SAML Core §2.5.1.4, `@cwe-611` → CWE-611), its level from `@must` /
//! `@should` / `@may` (MUST when absent), and on failure the step that failed, with its line, message and the
//! requests and responses of the scenario.
//!
//! A target may describe any of SCIM, OAuth and SAML: a step of a protocol the target lacks fails its scenario with
//! a message naming the missing section of the target file. Undefined and skipped steps fail the scenario too, so a
//! typo in a feature file can never pass silently.

pub mod steps;
pub mod world;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cucumber::event::{self, Cucumber as Ev, RetryableScenario};
use cucumber::tag::Ext as _;
use cucumber::{World as _, WriterExt as _, gherkin, parser};
use parking_lot::Mutex;

use crate::check::{Level, Outcome, fail};
use crate::http::Exchange;
use crate::report::{CheckResult, Clause, Report};
use crate::runner::{Profile, Progress, RunError, Verdict};
use crate::target::{Deviation, Target};
pub use world::{ScimWorld, StepFailure};

/// How to run features.
#[derive(Debug, Clone)]
pub struct FeatureOptions {
    /// A tag expression (`@must and not @okta`); every scenario when absent.
    pub tags: Option<String>,
    /// Scenarios in flight at once.
    pub concurrency: usize,
    /// Timeout of each HTTP request.
    pub timeout: Duration,
    /// The target's authorization server, for the OAuth steps; scenarios using them fail without one.
    pub oauth: Option<crate::oauth::OAuthTarget>,
    /// The target's SAML service provider, for the SAML steps; scenarios using them fail without one.
    pub saml: Option<crate::saml::SamlTarget>,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions { tags: None, concurrency: 4, timeout: Duration::from_secs(30), oauth: None, saml: None }
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum FeaturesError {
    /// The tag expression does not parse.
    #[error("invalid tag expression {0:?}: {1}")]
    Tags(String, String),
    /// A path does not exist.
    #[error("no feature file or folder at {0}")]
    Missing(String),
    /// Neither a SCIM service, an authorization server nor a service provider was given.
    #[error("no target: give a SCIM service, an OAuth authorization server or a SAML service provider")]
    NoTarget,
    /// The target could not be reached or configured.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// The feature files shipped in `features/`, written to a fresh folder (cucumber reads files), for runs that name no
/// path. Returns the folder.
pub fn builtin_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("idconform-features-{}", uuid::Uuid::new_v4().simple()));
    for (rel, text) in BUILTIN_FEATURES {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, text)?;
    }
    Ok(dir)
}

include!(concat!(env!("OUT_DIR"), "/builtin_features.rs"));

/// The state of a scenario while it runs.
#[derive(Debug)]
struct Running {
    started: Instant,
    failure: Option<String>,
    exchanges: Vec<Exchange>,
}

/// Collects cucumber's events into results.
struct Collector<'p> {
    deviations: Vec<Deviation>,
    running: HashMap<(String, usize), Running>,
    results: Arc<Mutex<Vec<CheckResult>>>,
    progress: &'p (dyn Fn(Progress<'_>) + Sync),
    total: usize,
    done: usize,
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// The SAML 2.0 documents a `@saml-<document>-<section>` tag names, with their titles in reports (as the SAML suite
/// cites them).
const SAML_DOCUMENTS: &[(&str, &str)] = &[
    ("core", "SAML Core"),
    ("profiles", "SAML Profiles"),
    ("bindings", "SAML Bindings"),
    ("metadata", "SAML Metadata"),
];

/// The clause of a scenario, from its tags: `@rfc7644-3.5.2.2` → RFC 7644 §3.5.2.2, `@saml-core-2.5.1.4` → SAML
/// Core §2.5.1.4, `@cwe-611` → CWE-611; `@okta` / `@entra` name the vendor; otherwise the feature itself.
fn clause(tags: &[String], feature: &gherkin::Feature, scenario: &gherkin::Scenario) -> Clause {
    let text = scenario.name.clone();
    for t in tags {
        if let Some((num, sec)) = t.strip_prefix("rfc").and_then(|r| r.split_once('-'))
            && num.chars().all(|c| c.is_ascii_digit())
        {
            return Clause { rfc: format!("RFC {num}"), section: sec.to_owned(), text };
        }
        if let Some((doc, sec)) = t.strip_prefix("saml-").and_then(|r| r.split_once('-'))
            && let Some((_, title)) = SAML_DOCUMENTS.iter().find(|(d, _)| *d == doc)
        {
            return Clause { rfc: (*title).to_owned(), section: sec.to_owned(), text };
        }
        if let Some(num) = t.strip_prefix("cwe-").filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())) {
            return Clause { rfc: format!("CWE-{num}"), section: "description".to_owned(), text };
        }
    }
    let vendor = if tags.iter().any(|t| t == "entra") {
        Some("Microsoft Entra ID")
    } else if tags.iter().any(|t| t == "okta") {
        Some("Okta")
    } else {
        None
    };
    Clause { rfc: vendor.unwrap_or("idconform feature").to_owned(), section: feature.name.clone(), text }
}

fn level(tags: &[String]) -> Level {
    if tags.iter().any(|t| t == "may") {
        Level::May
    } else if tags.iter().any(|t| t == "should") {
        Level::Should
    } else {
        Level::Must
    }
}

fn all_tags(feature: &gherkin::Feature, rule: Option<&gherkin::Rule>, scenario: &gherkin::Scenario) -> Vec<String> {
    let mut tags = feature.tags.clone();
    if let Some(r) = rule {
        tags.extend(r.tags.iter().cloned());
    }
    tags.extend(scenario.tags.iter().cloned());
    tags
}

fn panic_message(e: &event::StepError) -> String {
    match e {
        event::StepError::Panic(info) => {
            if let Some(f) = info.downcast_ref::<StepFailure>() {
                f.0.clone()
            } else if let Some(s) = info.downcast_ref::<String>() {
                s.clone()
            } else if let Some(s) = info.downcast_ref::<&str>() {
                (*s).to_owned()
            } else {
                "the step panicked".to_owned()
            }
        }
        event::StepError::NotFound => "no step of the library matches this text (see features/README.md)".to_owned(),
        other => other.to_string(),
    }
}

impl Collector<'_> {
    fn feature_path(feature: &gherkin::Feature) -> String {
        feature.path.as_ref().map_or_else(|| feature.name.clone(), |p| p.display().to_string())
    }

    fn on_scenario(
        &mut self,
        feature: &gherkin::Feature,
        rule: Option<&gherkin::Rule>,
        scenario: &gherkin::Scenario,
        ev: &event::Scenario<ScimWorld>,
    ) {
        let key = (Self::feature_path(feature), scenario.position.line);
        match ev {
            event::Scenario::Started => {
                self.running.insert(key, Running { started: Instant::now(), failure: None, exchanges: Vec::new() });
            }
            event::Scenario::Step(step, e) | event::Scenario::Background(step, e) => {
                let Some(run) = self.running.get_mut(&key) else { return };
                let why = match e {
                    event::Step::Failed(_, _, world, err) => {
                        if let Some(w) = world {
                            run.exchanges.extend(w.log.take());
                        }
                        Some(panic_message(err))
                    }
                    event::Step::Skipped => Some("no step of the library matches this text".to_owned()),
                    _ => None,
                };
                if let (Some(why), None) = (why, &run.failure) {
                    run.failure = Some(format!(
                        "step `{}{}` ({}:{}) failed: {why}",
                        step.keyword, step.value, key.0, step.position.line
                    ));
                }
            }
            event::Scenario::Hook(_, event::Hook::Failed(_, info)) => {
                if let Some(run) = self.running.get_mut(&key) {
                    run.failure.get_or_insert_with(|| format!("a scenario hook failed: {info:?}"));
                }
            }
            event::Scenario::Finished => {
                let Some(run) = self.running.remove(&key) else { return };
                let tags = all_tags(feature, rule, scenario);
                let stem = feature
                    .path
                    .as_deref()
                    .and_then(Path::file_stem)
                    .map_or_else(|| slug(&feature.name), |s| s.to_string_lossy().into_owned());
                let verdict = Verdict {
                    id: format!("feature.{stem}.{}", slug(&scenario.name)),
                    title: scenario.name.clone(),
                    section: feature.name.clone(),
                    spec: clause(&tags, feature, scenario),
                    level: level(&tags),
                    tags,
                };
                let outcome = match run.failure {
                    None => Outcome::Pass,
                    Some(why) => fail("every step of the scenario to pass", why),
                };
                let deviation = self.deviations.iter().find(|d| d.check == verdict.id).cloned();
                let result = verdict.into_result_with(outcome, run.exchanges, run.started, deviation.as_ref());
                self.done += 1;
                (self.progress)(Progress::Finished {
                    result: &result,
                    done: self.done,
                    total: self.total.max(self.done),
                });
                self.results.lock().push(result);
            }
            _ => {}
        }
    }
}

impl cucumber::Writer<ScimWorld> for Collector<'_> {
    type Cli = cucumber::cli::Empty;

    async fn handle_event(&mut self, ev: parser::Result<cucumber::Event<Ev<ScimWorld>>>, _cli: &Self::Cli) {
        let ev = match ev {
            Ok(ev) => ev,
            Err(e) => {
                // A feature file that does not parse is a failure, never a silent omission.
                let verdict = Verdict {
                    id: format!("feature.parse-error.{}", self.results.lock().len()),
                    title: "A feature file parses".into(),
                    section: "parsing".into(),
                    spec: Clause { rfc: "Gherkin".into(), section: "syntax".into(), text: e.to_string() },
                    level: Level::Must,
                    tags: vec!["parse".into()],
                };
                let r =
                    verdict.into_result_with(fail("valid Gherkin", e.to_string()), Vec::new(), Instant::now(), None);
                self.results.lock().push(r);
                return;
            }
        };
        match &ev.value {
            Ev::ParsingFinished { scenarios, .. } => {
                self.total = *scenarios;
                (self.progress)(Progress::Started { total: *scenarios });
            }
            Ev::Feature(f, event::Feature::Scenario(sc, RetryableScenario { event, .. })) => {
                self.on_scenario(f, None, sc, event);
            }
            Ev::Feature(f, event::Feature::Rule(r, event::Rule::Scenario(sc, RetryableScenario { event, .. }))) => {
                self.on_scenario(f, Some(r), sc, event);
            }
            _ => {}
        }
    }
}

/// Step failures are reported as results; the default panic hook would also print each one to stderr.
fn quiet_step_failures() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.payload().is::<StepFailure>() {
                previous(info);
            }
        }));
    });
}

/// The mock IdP's side of a SAML target, shared by every scenario: the target, an attacker's key, the HTTP client.
#[derive(Clone)]
struct SamlShared {
    target: Arc<crate::saml::SamlTarget>,
    foreign: Arc<crate::saml::IdpKey>,
    http: crate::http::Client,
}

impl SamlShared {
    /// Connects to the SP: one request tells an SP that is not there from one that refuses everything.
    async fn connect(target: &crate::saml::SamlTarget, timeout: Duration) -> Result<Self, RunError> {
        let http =
            crate::http::Client::new(&target.acs_url, None, timeout).map_err(|e| RunError::Config(e.to_string()))?;
        let probe = target.login_url.clone().unwrap_or_else(|| target.acs_url.clone());
        let req = crate::http::Request::new(reqwest::Method::GET, probe).without_auth();
        if let Err(e) = http.send(req, &crate::http::Recorder::discarding()).await
            && e.connect
        {
            return Err(RunError::Unreachable(e.to_string()));
        }
        let foreign = crate::saml::IdpKey::foreign().map_err(|e| RunError::Config(format!("mock IdP: {e}")))?;
        Ok(SamlShared { target: Arc::new(target.clone()), foreign: Arc::new(foreign), http })
    }

    fn context(&self) -> crate::saml::SCtx {
        crate::saml::SCtx::new(self.target.clone(), self.foreign.clone(), self.http.clone())
    }
}

/// Runs the feature files at `paths` (files or folders) against the target — its SCIM service (`scim`), and the
/// authorization server and service provider of `opts` — and returns the report. Scenarios whose steps need a
/// protocol the target lacks fail at that step.
pub async fn run(
    scim: Option<&Target>,
    paths: &[PathBuf],
    opts: &FeatureOptions,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Report, FeaturesError> {
    let tags: Option<gherkin::tagexpr::TagOperation> = match &opts.tags {
        Some(t) => Some(
            t.parse::<gherkin::tagexpr::TagOperation>().map_err(|e| FeaturesError::Tags(t.clone(), e.to_string()))?,
        ),
        None => None,
    };
    for p in paths {
        if !p.exists() {
            return Err(FeaturesError::Missing(p.display().to_string()));
        }
    }
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let client = match scim {
        Some(t) => Some(crate::runner::connect(t, opts.timeout).await?),
        None => None,
    };
    let oauth = match &opts.oauth {
        Some(t) => Some(
            crate::oauth::OAuthClient::connect(t.clone(), opts.timeout)
                .await
                .map_err(|e| RunError::Unreachable(e.to_string()))?,
        ),
        None => None,
    };
    let saml = match &opts.saml {
        Some(t) => Some(SamlShared::connect(t, opts.timeout).await?),
        None => None,
    };
    let (name, url) = match (scim, &opts.oauth, &opts.saml) {
        (Some(t), _, _) => (t.name.clone(), t.scim_url.clone()),
        (None, _, Some(s)) => (s.name.clone(), s.acs_url.clone()),
        (None, Some(o), None) => (o.name.clone(), o.issuer.clone()),
        (None, None, None) => return Err(FeaturesError::NoTarget),
    };
    // A target file's deviations are the same in every section; any loaded section carries them.
    let deviations = scim
        .map(|t| t.deviations.clone())
        .or_else(|| opts.saml.as_ref().map(|s| s.deviations.clone()))
        .or_else(|| opts.oauth.as_ref().map(|o| o.deviations.clone()))
        .unwrap_or_default();
    quiet_step_failures();
    let results = Arc::new(Mutex::new(Vec::new()));
    // Every phrase is compiled once (a unit test proves each compiles) and accepted after any keyword.
    let phrases: Vec<(regex::Regex, cucumber::Step<ScimWorld>)> =
        steps::all().into_iter().filter_map(|s| regex::Regex::new(s.phrase).ok().map(|r| (r, s.run))).collect();
    for path in paths {
        let collector = Collector {
            deviations: deviations.clone(),
            running: HashMap::new(),
            results: results.clone(),
            progress,
            total: 0,
            done: 0,
        };
        let mut cuc = ScimWorld::cucumber().with_writer(collector.normalized()).fail_on_skipped();
        for (re, run) in &phrases {
            let run = *run;
            cuc = cuc.given(re.clone(), run).when(re.clone(), run).then(re.clone(), run);
        }
        let before_client = client.clone();
        let before_oauth = oauth.clone();
        let before_saml = saml.clone();
        let tags = tags.clone();
        cuc.max_concurrent_scenarios(opts.concurrency.max(1))
            .before(move |_, _, _, w| {
                if let Some(c) = &before_client {
                    w.connect(c.clone());
                }
                if let Some(o) = &before_oauth {
                    w.connect_oauth(o.clone());
                }
                if let Some(s) = &before_saml {
                    w.connect_saml(s.context());
                }
                Box::pin(async {})
            })
            .after(|_, _, _, _, w| {
                Box::pin(async move {
                    if let Some(w) = w {
                        w.clean_up().await;
                    }
                })
            })
            .with_default_cli()
            .filter_run(path, move |f, r, s| tags.as_ref().is_none_or(|op| op.eval(all_tags(f, r, s))))
            .await;
    }
    let results = std::mem::take(&mut *results.lock());
    Ok(Report::for_target(&name, &url, Profile::All, started_at, clock.elapsed(), results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_map_to_clauses_and_levels() {
        let f = gherkin::Feature {
            keyword: "Feature".into(),
            name: "Groups".into(),
            description: None,
            background: None,
            scenarios: vec![],
            rules: vec![],
            tags: vec![],
            span: gherkin::Span { start: 0, end: 0 },
            position: gherkin::LineCol { line: 1, col: 1 },
            path: None,
        };
        let s = gherkin::Scenario {
            keyword: "Scenario".into(),
            name: "Remove a member".into(),
            description: None,
            steps: vec![],
            examples: vec![],
            tags: vec![],
            span: gherkin::Span { start: 0, end: 0 },
            position: gherkin::LineCol { line: 2, col: 1 },
        };
        let c = clause(&["rfc7644-3.5.2.2".into(), "must".into()], &f, &s);
        assert_eq!((c.rfc.as_str(), c.section.as_str()), ("RFC 7644", "3.5.2.2"));
        assert_eq!(clause(&["entra".into()], &f, &s).rfc, "Microsoft Entra ID");
        let c = clause(&["saml".into(), "saml-core-2.5.1.4".into()], &f, &s);
        assert_eq!((c.rfc.as_str(), c.section.as_str()), ("SAML Core", "2.5.1.4"));
        let c = clause(&["saml-profiles-4.1.4.3".into()], &f, &s);
        assert_eq!((c.rfc.as_str(), c.section.as_str()), ("SAML Profiles", "4.1.4.3"));
        assert_eq!(clause(&["cwe-611".into()], &f, &s).rfc, "CWE-611");
        assert_eq!(clause(&["saml-initiated".into()], &f, &s).rfc, "idconform feature", "only a known document");
        assert_eq!(level(&["should".into()]), Level::Should);
        assert_eq!(level(&[]), Level::Must);
        assert_eq!(slug("Remove a member (Entra, legacy)"), "remove-a-member-entra-legacy");
    }

    #[test]
    fn tag_expressions_parse_without_the_at_sign_in_tags() {
        let op: gherkin::tagexpr::TagOperation = match "@must and not @okta".parse() {
            Ok(op) => op,
            Err(e) => panic!("{e}"),
        };
        assert!(op.eval(["must", "entra"]));
        assert!(!op.eval(["must", "okta"]));
    }

    #[test]
    fn the_shipped_features_are_built_in() {
        assert!(BUILTIN_FEATURES.iter().any(|(p, _)| p.starts_with("scim/")));
        assert!(BUILTIN_FEATURES.iter().any(|(p, _)| p.starts_with("saml/")));
    }
}
