//! `idconform features [PATH…] [--tags EXPR] [--target FILE]`: run Gherkin scenarios against a target.
//!
//! Without a path it runs the feature files shipped in `features/`; without a target, against the embedded
//! reference server (SCIM, OAuth and SAML). A target file may describe any of the three: the scenarios of a protocol
//! it lacks fail at their first step of it, naming the missing section (`--tags 'not @saml'` leaves them out).
//! Exit codes as for `check`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use idconform_harness::RunError;
use idconform_harness::features::{self, FeatureOptions, FeaturesError};
use idconform_harness::report::console;
use idconform_harness::runner::Progress;

use super::common::{EXIT_MUST_FAILED, Failure, Live, ReportArgs, TargetArgs};

/// Options of `idconform features`. These names are a stable interface for scripts and CI.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Feature files or folders (default: the scenarios shipped in features/).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Run only scenarios whose tags match this expression, e.g. `@must and not @okta`.
    #[arg(long, value_name = "EXPR")]
    tags: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
    #[command(flatten)]
    reports: ReportArgs,
    /// Scenarios in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Print every step phrase of the library, with what it does and an example, instead of running.
    #[arg(long)]
    steps: bool,
}

/// Runs the features; returns the exit code.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::common::finish(run_inner(args).await)
}

async fn run_inner(args: Args) -> Result<u8, Failure> {
    args.reports.validate()?;
    if args.steps {
        for s in features::steps::all() {
            super::common::say(&format!(
                "{}\n    {}\n    e.g. {}\n",
                s.phrase,
                s.doc,
                s.example.replace('\n', "\n         ")
            ));
        }
        return Ok(0);
    }
    let (paths, scratch) = if args.paths.is_empty() {
        let dir =
            features::builtin_dir().map_err(|e| Failure::Usage(format!("cannot write the built-in features: {e}")))?;
        (vec![dir.clone()], Some(dir))
    } else {
        (args.paths.clone(), None)
    };
    let targets = args.target.resolve_all()?;
    let live = Live::new(&args.reports);
    let name = (targets.scim.as_ref().map(|t| &t.name))
        .or(targets.oauth.as_ref().map(|t| &t.name))
        .or(targets.saml.as_ref().map(|t| &t.name))
        .cloned()
        .unwrap_or_default();
    let present = [
        targets.scim.as_ref().map(|t| format!("SCIM {}", t.scim_url)),
        targets.oauth.as_ref().map(|t| format!("OAuth {}", t.issuer)),
        targets.saml.as_ref().map(|t| format!("SAML {}", t.acs_url)),
    ];
    live.line(&format!(
        "idconform features — {name} ({})",
        present.iter().flatten().cloned().collect::<Vec<_>>().join(", ")
    ));
    // Scenarios of a missing protocol fail at their first step of it; say so once, with the way to leave them out.
    for (missing, section, tag) in [
        (targets.scim.is_none(), "scim", "@scim"),
        (targets.oauth.is_none(), "oauth", "@oauth"),
        (targets.saml.is_none(), "saml", "@saml"),
    ] {
        if missing {
            live.line(&format!(
                "note: the target has no [{section}] section: scenarios that need it fail (leave them out with \
                 --tags 'not {tag}')"
            ));
        }
    }
    let opts = FeatureOptions {
        tags: args.tags.clone(),
        concurrency: args.concurrency.max(1),
        timeout: Duration::from_secs(args.timeout.max(1)),
        oauth: targets.oauth,
        saml: targets.saml,
    };
    let progress = |p: Progress<'_>| live.progress(p, "scenarios");
    let result = features::run(targets.scim.as_ref(), &paths, &opts, &progress).await;
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    let report = match result {
        Ok(r) => r,
        Err(FeaturesError::Run(RunError::Unreachable(m))) => return Err(Failure::Unreachable(m)),
        Err(e) => return Err(Failure::Usage(e.to_string())),
    };
    if report.results.is_empty() {
        return Err(Failure::Usage("no scenario matches the paths and --tags".into()));
    }
    live.line(&console::render(&report, false));
    args.reports.write(&report)?;
    Ok(if report.exit_code() == 0 { 0 } else { EXIT_MUST_FAILED })
}
