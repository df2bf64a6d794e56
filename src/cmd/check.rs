//! `idconform check`: run conformance checks against a target and report.
//!
//! `idconform check` with no arguments runs every suite against the embedded reference server. Exit codes: 0 every
//! MUST passed, 1 a MUST failed, 2 usage or configuration error, 3 target unreachable.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use idconform_harness::report::console;
use idconform_harness::runner::Progress;
use idconform_harness::{Format, Options, Profile, RunError, Target};

use super::embedded;

/// Exit code: a MUST failed.
const EXIT_MUST_FAILED: u8 = 1;
/// Exit code: usage or configuration error.
const EXIT_USAGE: u8 = 2;
/// Exit code: the target did not answer.
const EXIT_UNREACHABLE: u8 = 3;

/// Options of `idconform check`. These names are a stable interface for scripts and CI.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Suite to run: `scim`, or `all` (default).
    #[arg(value_name = "SUITE", default_value = "all")]
    suite: String,
    /// Target file (TOML: SCIM base URL, token or token_env, deviations); see harness/examples/target.toml.
    #[arg(long, conflicts_with_all = ["scim_url", "token", "other_token"])]
    target: Option<PathBuf>,
    /// SCIM base URL of an external server, e.g. https://idp.example.com/scim/v2.
    #[arg(long, value_name = "URL")]
    scim_url: Option<String>,
    /// Bearer token for --scim-url.
    #[arg(long, env = "IDCONFORM_SCIM_TOKEN", hide_env_values = true, requires = "scim_url")]
    token: Option<String>,
    /// Bearer token of another tenant of the same service (check scim.auth.other-tenant; skipped without it).
    #[arg(long, env = "IDCONFORM_SCIM_OTHER_TOKEN", hide_env_values = true, requires = "scim_url")]
    other_token: Option<String>,
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
    /// Report format (console, json, junit, markdown, html); pair each with an --out, in order. Repeatable.
    #[arg(long = "report", value_name = "FORMAT")]
    reports: Vec<Format>,
    /// File for the --report at the same position (`-` for stdout).
    #[arg(long = "out", value_name = "FILE")]
    outs: Vec<String>,
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

/// Runs the checks; returns the exit code. Errors are only returned for failures before any check could be
/// selected (they map to exit code 2 in `main`).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match run_inner(args).await {
        Ok(code) => Ok(ExitCode::from(code)),
        Err(Failure::Usage(msg)) => {
            eprintln!("error: {msg}");
            Ok(ExitCode::from(EXIT_USAGE))
        }
        Err(Failure::Unreachable(msg)) => {
            eprintln!("error: {msg}");
            Ok(ExitCode::from(EXIT_UNREACHABLE))
        }
    }
}

enum Failure {
    Usage(String),
    Unreachable(String),
}

async fn run_inner(args: Args) -> Result<u8, Failure> {
    if args.reports.len() != args.outs.len() {
        return Err(Failure::Usage(format!(
            "each --report needs an --out (got {} --report and {} --out)",
            args.reports.len(),
            args.outs.len()
        )));
    }
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

    // The embedded server lives as long as this process; it is started only when no external target is given.
    let target = if let Some(path) = &args.target {
        Target::load(path).map_err(|e| Failure::Usage(e.to_string()))?
    } else if let Some(url) = &args.scim_url {
        let mut t = Target::new(url, args.token.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
        t.other_token = args.other_token.clone();
        t
    } else {
        let server = embedded::start(":memory:", false, 2)
            .map_err(|e| Failure::Unreachable(format!("cannot start the embedded server: {e:#}")))?;
        let mut t = Target::new(&server.scim_url, Some(server.token)).map_err(|e| Failure::Usage(e.to_string()))?;
        t.name = "embedded reference server".into();
        t.other_token = Some(server.other_token);
        t
    };

    // When a report goes to stdout, the live console moves to stderr so the report stays machine-readable.
    let stdout_taken = args.outs.iter().any(|o| o == "-");
    let live = move |line: &str| {
        if stdout_taken {
            let _ = writeln!(std::io::stderr(), "{line}");
        } else {
            say(line);
        }
    };
    live(&format!("idconform check — {} ({}), profile {}", target.name, target.scim_url, opts.profile.as_str()));
    // On a terminal: one bar redrawn in place, with failures and warnings printed above it as they happen; in logs
    // (CI) and when stdout carries a report: a line per check.
    let bar = !stdout_taken && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let progress = |p: Progress<'_>| match p {
        Progress::Started { total } => live(&format!("running {total} checks")),
        Progress::Finished { result, done, total } if bar => {
            let mut out = std::io::stdout();
            if result.status != idconform_harness::report::Status::Pass {
                let _ = write!(out, "\r{:<90}\r", "");
                let _ = writeln!(out, "{}", console::progress_line(result, done, total));
            }
            let _ = write!(out, "{}", console::progress_bar(result, done, total));
            if done == total {
                let _ = writeln!(out);
            }
            let _ = out.flush();
        }
        Progress::Finished { result, done, total } => live(&console::progress_line(result, done, total)),
    };
    let report = match idconform_harness::run(&target, &checks, &opts, &progress).await {
        Ok(r) => r,
        Err(RunError::Unreachable(m)) => return Err(Failure::Unreachable(m)),
        Err(RunError::Config(m)) => return Err(Failure::Usage(m)),
    };
    live(&console::render(&report, false));

    for (format, out) in args.reports.iter().zip(&args.outs) {
        let text = report.render(*format);
        if out == "-" {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(text.as_bytes());
        } else if let Err(e) = std::fs::write(out, text) {
            return Err(Failure::Usage(format!("cannot write report {out}: {e}")));
        } else {
            eprintln!("wrote {out}");
        }
    }
    Ok(if report.exit_code() == 0 { 0 } else { EXIT_MUST_FAILED })
}

/// Prints a line to stdout, ignoring a closed pipe (`idconform check --list | head` must not panic).
fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
