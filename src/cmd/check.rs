//! `idconform check`: run conformance checks against a target and report.
//!
//! `idconform check` with no arguments runs every suite against the embedded reference server. Exit codes: 0 every
//! MUST passed, 1 a MUST failed, 2 usage or configuration error, 3 target unreachable.

use std::process::ExitCode;
use std::time::Duration;

use idconform_harness::report::console;
use idconform_harness::runner::Progress;
use idconform_harness::{Options, Profile, RunError};

use super::common::{EXIT_MUST_FAILED, Failure, Live, ReportArgs, TargetArgs, say};

/// Options of `idconform check`. These names are a stable interface for scripts and CI.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Suite to run: `scim`, or `all` (default).
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
    let checks = match args.suite.as_str() {
        "all" => idconform_harness::suites::all(),
        s => idconform_harness::suites::suite(s)
            .ok_or_else(|| Failure::Usage(format!("unknown suite {s:?} (expected scim or all)")))?,
    };
    let opts = Options {
        profile: args.profile,
        only: args.only.clone(),
        skip: args.skip.clone(),
        concurrency: args.concurrency.max(1),
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    let selected = idconform_harness::runner::select(&checks, &opts);
    if selected.is_empty() {
        return Err(Failure::Usage("no check matches the --profile/--only/--skip selection".into()));
    }
    if args.list {
        for (c, level) in &selected {
            say(&format!("{:<44} {:<6} {} — {}", c.id, level.as_str(), c.spec.citation(), c.title));
        }
        return Ok(0);
    }

    let target = args.target.resolve()?;
    let live = Live::new(&args.reports);
    live.line(&format!("idconform check — {} ({}), profile {}", target.name, target.scim_url, opts.profile.as_str()));
    let progress = |p: Progress<'_>| live.progress(p, "checks");
    let report = match idconform_harness::run(&target, &checks, &opts, &progress).await {
        Ok(r) => r,
        Err(RunError::Unreachable(m)) => return Err(Failure::Unreachable(m)),
        Err(RunError::Config(m)) => return Err(Failure::Usage(m)),
    };
    live.line(&console::render(&report, false));
    args.reports.write(&report)?;
    Ok(if report.exit_code() == 0 { 0 } else { EXIT_MUST_FAILED })
}
