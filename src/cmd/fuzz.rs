//! `idconform fuzz scim`: model-based fuzzing of a SCIM server. Random operation sequences (creates, PUTs, PATCHes
//! in plain and Okta/Entra shapes, deletes, filtered, sorted and paged lists) go to the target and to a model of
//! RFC 7644; a divergence is shrunk to a minimal sequence and written as a scenario file for `idconform replay`.
//!
//! Exit codes: 0 no divergence, 1 divergence, 2 usage error, 3 target unreachable.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use idconform_harness::fuzz::{FuzzError, FuzzOptions, fuzz};

use super::common::{EXIT_MUST_FAILED, Failure, TargetArgs, say};

/// What to fuzz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// SCIM 2.0 Users and Groups.
    Scim,
}

/// Options of `idconform fuzz`. These names are a stable interface for scripts and CI.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to fuzz.
    #[arg(value_enum)]
    suite: Suite,
    #[command(flatten)]
    target: TargetArgs,
    /// Random operation sequences to run.
    #[arg(long, default_value_t = 64)]
    cases: u32,
    /// Seed of the generator; the same seed gives the same sequences (random and printed when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Longest sequence, in operations.
    #[arg(long, default_value_t = 24)]
    max_ops: usize,
    /// Where a shrunk divergence is written, as `DIR/fuzz/seed-<S>.toml` (replay it with `idconform replay all
    /// --scenarios-dir DIR`).
    #[arg(long, value_name = "DIR", default_value = "idconform-fuzz")]
    out_scenario: PathBuf,
    /// Judge by RFC 7644 to the letter: Okta and Entra quirks must be refused with 400 (implied by --strict, which
    /// also starts the embedded server in --strict mode).
    #[arg(long)]
    rfc: bool,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// Runs the fuzzer; returns the exit code.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::common::finish(run_inner(args).await)
}

async fn run_inner(args: Args) -> Result<u8, Failure> {
    let Suite::Scim = args.suite;
    if args.cases == 0 || args.max_ops == 0 {
        return Err(Failure::Usage("--cases and --max-ops must be at least 1".into()));
    }
    let strict = args.rfc || args.target.strict;
    let target = args.target.resolve()?;
    let seed = args.seed.unwrap_or_else(rand::random);
    let opts = FuzzOptions {
        cases: args.cases,
        seed,
        max_ops: args.max_ops,
        lenient: !strict,
        timeout: Duration::from_secs(args.timeout.max(1)),
        ..FuzzOptions::default()
    };
    say(&format!(
        "idconform fuzz scim — {} ({}): {} cases of up to {} operations, seed {seed}{}",
        target.name,
        target.scim_url,
        opts.cases,
        opts.max_ops,
        if strict { ", strict RFC 7644" } else { "" }
    ));
    let cases = opts.cases;
    let progress = |done: u32| {
        if done.is_multiple_of(16) || done == cases {
            say(&format!("  {done}/{cases} cases"));
        }
    };
    let report = fuzz(&target, &opts, &progress).await.map_err(|e| match e {
        FuzzError::Unreachable(m) => Failure::Unreachable(m),
        FuzzError::Config(m) => Failure::Usage(m),
    })?;
    let rate = format!(
        "{} operations, {} requests in {:.2} s: {:.0} ops/s ({:.0} requests/s)",
        report.ops,
        report.requests,
        report.elapsed.as_secs_f64(),
        report.ops_per_sec(),
        report.requests as f64 / report.elapsed.as_secs_f64().max(1e-9)
    );
    let Some(d) = report.divergence else {
        say(&format!("no divergence from the model in {} cases; {rate}", report.cases));
        return Ok(0);
    };
    say(&format!("DIVERGENCE in case {} at step {}", report.cases, d.step));
    say(&format!("  expected: {}", d.expected));
    say(&format!("  actual:   {}", d.actual));
    say(&format!("shrunk from {} to {} operation(s) in {} run(s):", d.original_len, d.ops.len(), d.shrink_runs));
    for (i, op) in d.ops.iter().enumerate() {
        say(&format!("  op{i}: {op:?}"));
    }
    let folder = args.out_scenario.join("fuzz");
    let file = folder.join(format!("seed-{seed}.toml"));
    std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(&file, &d.scenario))
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", file.display())))?;
    say(&format!("wrote {}", file.display()));
    say(&format!("replay it: idconform replay all --scenarios-dir {} [--target FILE]", args.out_scenario.display()));
    say(&rate);
    Ok(EXIT_MUST_FAILED)
}
