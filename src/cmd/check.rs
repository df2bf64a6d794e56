//! `idconform check`: run conformance checks against a target and report.
//!
//! `idconform check` with no arguments runs every suite (SCIM, OAuth, then SAML) against the embedded reference
//! server, in one report. Exit codes: 0 every
//! MUST passed, 1 a MUST failed, 2 usage or configuration error, 3 target unreachable.

use std::process::ExitCode;
use std::time::Duration;

use idconform_harness::report::console;
use idconform_harness::runner::Progress;
use idconform_harness::runner::select;
use idconform_harness::{Options, Profile, Report, RunError};

use super::common::{EXIT_MUST_FAILED, Failure, Live, ReportArgs, TargetArgs, Targets, say};

/// Options of `idconform check`. These names are a stable interface for scripts and CI.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Suite to run: `scim`, `oauth`, `saml`, or `all` (default: every protocol the target describes).
    #[arg(value_name = "SUITE", default_value = "all")]
    suite: String,
    #[command(flatten)]
    target: TargetArgs,
    /// Profile: all (RFC checks at their RFC level, Okta/Entra request shapes as SHOULD), rfc (the RFCs alone),
    /// interop, okta or entra (what that IdP needs, at MUST).
    #[arg(long, default_value = "all")]
    profile: Profile,
    /// Run only checks matching these ids, id prefixes, sections or tags (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    only: Vec<String>,
    /// Leave out checks matching these ids, id prefixes, sections or tags.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    skip: Vec<String>,
    #[command(flatten)]
    reports: ReportArgs,
    /// Checks in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// List the selected checks instead of running them.
    #[arg(long)]
    list: bool,
}

/// Runs the checks; returns the exit code.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::common::finish(run_inner(args).await)
}

async fn run_inner(args: Args) -> Result<u8, Failure> {
    args.reports.validate()?;
    let (want_scim, want_oauth, want_saml) = match args.suite.as_str() {
        "all" => (true, true, true),
        "scim" => (true, false, false),
        "oauth" => (false, true, false),
        "saml" => (false, false, true),
        s => return Err(Failure::Usage(format!("unknown suite {s:?} (expected scim, oauth, saml or all)"))),
    };
    let opts = Options {
        profile: args.profile,
        only: args.only.clone(),
        skip: args.skip.clone(),
        concurrency: args.concurrency.max(1),
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let scim_checks = if want_scim { idconform_harness::suites::scim::checks() } else { Vec::new() };
    let oauth_checks = if want_oauth { idconform_harness::suites::oauth::checks() } else { Vec::new() };
    let saml_checks = if want_saml { idconform_harness::suites::saml::checks() } else { Vec::new() };
    let scim_selected = select(&scim_checks, &opts);
    let oauth_selected = select(&oauth_checks, &opts);
    let saml_selected = select(&saml_checks, &opts);
    if scim_selected.is_empty() && oauth_selected.is_empty() && saml_selected.is_empty() {
        return Err(Failure::Usage("no check matches the --profile/--only/--skip selection".into()));
    }
    if args.list {
        let scim = scim_selected.iter().map(|(c, l)| (c.id, *l, c.spec.citation(), c.title));
        let oauth = oauth_selected.iter().map(|(c, l)| (c.id, *l, c.spec.citation(), c.title));
        let saml = saml_selected.iter().map(|(c, l)| (c.id, *l, c.spec.citation(), c.title));
        for (id, level, citation, title) in scim.chain(oauth).chain(saml) {
            say(&format!("{id:<44} {:<6} {citation} — {title}", level.as_str()));
        }
        return Ok(0);
    }

    let targets = match args.suite.as_str() {
        "scim" => Targets { scim: Some(args.target.resolve()?), oauth: None, saml: None },
        "oauth" => Targets { scim: None, oauth: Some(args.target.resolve_oauth()?), saml: None },
        "saml" => Targets { scim: None, oauth: None, saml: Some(args.target.resolve_saml()?) },
        _ => args.target.resolve_all()?,
    };
    let live = Live::new(&args.reports);
    let unreachable = |e: RunError| match e {
        RunError::Unreachable(m) => Failure::Unreachable(m),
        RunError::Config(m) => Failure::Usage(m),
    };
    let mut report: Option<Report> = None;
    let header = |suite: &str, name: &str, url: &str| {
        live.line(&format!("idconform check {suite} — {name} ({url}), profile {}", opts.profile.as_str()));
    };
    if let Some(target) = targets.scim.as_ref().filter(|_| !scim_selected.is_empty()) {
        header("scim", &target.name, &target.scim_url);
        let progress = |p: Progress<'_>| live.progress(p, "SCIM checks");
        report = Some(idconform_harness::run(target, &scim_checks, &opts, &progress).await.map_err(unreachable)?);
    }
    if let Some(target) = targets.oauth.filter(|_| !oauth_selected.is_empty()) {
        header("oauth", &target.name, &target.issuer);
        let progress = |p: Progress<'_>| live.progress(p, "OAuth checks");
        let r = idconform_harness::oauth::run(target, &oauth_checks, &opts, &progress).await.map_err(unreachable)?;
        report = Some(match report {
            Some(scim) => scim.merge(r),
            None => r,
        });
    }
    if let Some(target) = targets.saml.filter(|_| !saml_selected.is_empty()) {
        header("saml", &target.name, &target.acs_url);
        let progress = |p: Progress<'_>| live.progress(p, "SAML checks");
        let r = idconform_harness::saml::run(target, &saml_checks, &opts, &progress).await.map_err(unreachable)?;
        report = Some(match report {
            Some(earlier) => earlier.merge(r),
            None => r,
        });
    }
    let Some(report) = report else {
        return Err(Failure::Usage("the target describes none of the selected suites' protocols".into()));
    };
    live.line(&console::render(&report, false));
    args.reports.write(&report)?;
    Ok(if report.exit_code() == 0 { 0 } else { EXIT_MUST_FAILED })
}
