//! `idconform replay okta|entra|generic|all`: replay recorded provisioning cycles of an IdP against a target, or
//! (with `--users`) simulate that IdP's initial sync at scale.
//!
//! Exit codes as for `check`: 0 every MUST step passed (or the sync was exact), 1 a MUST step failed (or the sync
//! had errors or the target's state differs), 2 usage error, 3 target unreachable.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use idconform_harness::idp::{EntraMode, Idp, MockClient};
use idconform_harness::replay::{self, ReplayOptions};
use idconform_harness::report::console;
use idconform_harness::runner::Progress;
use idconform_harness::sync::{SyncOptions, SyncProgress, initial_sync};
use idconform_harness::{RunError, Target};

use super::common::{EXIT_MUST_FAILED, Failure, Live, ReportArgs, TargetArgs, say};

/// Which client's scenarios to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    /// Okta's SCIM client.
    Okta,
    /// Microsoft Entra ID (both modes unless --mode is given).
    Entra,
    /// Plain RFC 7644 requests.
    Generic,
    /// Every scenario.
    All,
}

/// Options of `idconform replay`. These names are a stable interface for scripts and CI.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The IdP whose traffic to replay.
    #[arg(value_enum)]
    idp: Which,
    /// Entra's mode: legacy (default behaviour) or aadOptscim062020 (the flag on the tenant URL). Both when absent.
    #[arg(long, value_name = "MODE")]
    mode: Option<EntraMode>,
    /// Replay only these scenarios (`NAME` or `folder/NAME`; repeatable or comma-separated).
    #[arg(long = "scenario", value_name = "NAME", value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Read scenarios from this folder (`<dir>/<folder>/<name>.toml`) instead of the ones built in.
    #[arg(long, value_name = "DIR")]
    scenarios_dir: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    reports: ReportArgs,
    /// List the selected scenarios and their steps instead of running them.
    #[arg(long)]
    list: bool,
    /// Simulate the IdP's initial sync of this many users instead of replaying scenarios.
    #[arg(long, value_name = "N")]
    users: Option<usize>,
    /// Groups in the initial sync (user i joins group i mod N).
    #[arg(long, value_name = "N", default_value_t = 100, requires = "users")]
    groups: usize,
    /// Requests (sync) or scenarios (replay) in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Okta's "Sync Password": creates in the initial sync carry a password (the reference server hashes each with
    /// argon2, which then bounds the rate).
    #[arg(long, requires = "users")]
    password_sync: bool,
    /// Members per group PATCH in the initial sync.
    #[arg(long, default_value_t = 50, requires = "users")]
    member_batch: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// Runs the replay or the sync; returns the exit code.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::common::finish(run_inner(args).await)
}

/// Which scenario clients the command line asks for: `entra` without `--mode` means both Entra modes.
fn idp_filter(which: Which, mode: Option<EntraMode>) -> Result<impl Fn(Idp) -> bool, Failure> {
    if mode.is_some() && which != Which::Entra {
        return Err(Failure::Usage("--mode applies to entra only".into()));
    }
    Ok(move |idp: Idp| match (which, idp) {
        (Which::All, _) | (Which::Okta, Idp::Okta) | (Which::Generic, Idp::Generic) => true,
        (Which::Entra, Idp::Entra(m)) => mode.is_none_or(|want| want == m),
        _ => false,
    })
}

async fn run_inner(args: Args) -> Result<u8, Failure> {
    args.reports.validate()?;
    if let Some(users) = args.users {
        return sync(&args, users).await;
    }
    let all = match &args.scenarios_dir {
        Some(dir) => replay::load_dir(dir),
        None => replay::builtin(),
    }
    .map_err(|e| Failure::Usage(e.to_string()))?;
    let selected = replay::select(&all, idp_filter(args.idp, args.mode)?, &args.scenarios);
    if selected.is_empty() {
        return Err(Failure::Usage("no scenario matches the selection".into()));
    }
    if args.list {
        for s in &selected {
            say(&format!("{:<36} {}", s.full_name(), s.file.title));
            for step in &s.file.steps {
                say(&format!("    {:<30} {} {} — {}", step.id, step.method, step.path, step.title));
            }
        }
        return Ok(0);
    }
    let target = args.target.resolve()?;
    let live = Live::new(&args.reports);
    let names: Vec<String> = selected.iter().map(|s| s.full_name()).collect();
    live.line(&format!("idconform replay — {} ({}): {}", target.name, target.scim_url, names.join(", ")));
    let opts =
        ReplayOptions { concurrency: args.concurrency.max(1), timeout: Duration::from_secs(args.timeout.max(1)) };
    let progress = |p: Progress<'_>| live.progress(p, "steps");
    let report = replay::run(&target, &selected, &opts, &progress).await.map_err(run_error)?;
    live.line(&console::render(&report, false));
    args.reports.write(&report)?;
    Ok(if report.exit_code() == 0 { 0 } else { EXIT_MUST_FAILED })
}

fn run_error(e: RunError) -> Failure {
    match e {
        RunError::Unreachable(m) => Failure::Unreachable(m),
        RunError::Config(m) => Failure::Usage(m),
    }
}

async fn sync(args: &Args, users: usize) -> Result<u8, Failure> {
    let client = match (args.idp, args.mode) {
        (Which::Okta, None) if args.password_sync => MockClient::okta().with_password_sync(),
        (Which::Okta, None) => MockClient::okta(),
        (_, _) if args.password_sync => return Err(Failure::Usage("--password-sync is an Okta option".into())),
        (Which::Entra, m) => MockClient::entra(m.unwrap_or(EntraMode::Legacy)),
        (Which::Generic, None) => MockClient::generic(),
        (Which::All, _) => {
            return Err(Failure::Usage("an initial sync imitates one IdP: okta, entra or generic".into()));
        }
        (_, Some(_)) => return Err(Failure::Usage("--mode applies to entra only".into())),
    };
    if !args.reports.reports.is_empty() {
        return Err(Failure::Usage("--report applies to scenario replay; the initial sync prints its summary".into()));
    }
    let target: Target = args.target.resolve()?;
    let live = Live::new(&args.reports);
    live.line(&format!(
        "idconform replay — initial sync of {} as {} against {} ({}), concurrency {}",
        users, client.idp, target.name, target.scim_url, args.concurrency
    ));
    let opts = SyncOptions {
        users,
        groups: args.groups,
        concurrency: args.concurrency.max(1),
        member_batch: args.member_batch.max(1),
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..SyncOptions::default()
    };
    let progress = |p: SyncProgress| {
        let rate = p.requests as f64 / p.elapsed.max(1e-9);
        let text =
            format!("{:<7} {:>7}/{:<7} {:>9} requests {:>8.0} req/s", p.phase, p.done, p.total, p.requests, rate);
        if live.bar() {
            const WIDTH: usize = 30;
            let filled = (p.done * WIDTH).checked_div(p.total).unwrap_or(WIDTH).min(WIDTH);
            live.redraw(&format!("\r[{}{}] {text}", "#".repeat(filled), ".".repeat(WIDTH - filled)), false);
        } else if p.done == p.total || p.done.is_multiple_of(1000) {
            live.line(&text);
        }
    };
    let report = initial_sync(&target, client, &opts, &progress).await.map_err(run_error)?;
    if live.bar() {
        live.redraw("\r", true);
    }
    live.line(&report.render());
    Ok(if report.ok() { 0 } else { EXIT_MUST_FAILED })
}
