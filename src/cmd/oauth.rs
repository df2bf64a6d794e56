//! `idconform oauth flow`: one whole OAuth 2.0 client session against an authorization server — metadata,
//! authorization code with PKCE (logging in and consenting through the server's own forms), userinfo, refresh,
//! revocation — printed step by step. Exit codes: 0 every step worked, 1 a step failed, 2 usage or configuration
//! error, 3 the server did not answer.

use std::process::ExitCode;
use std::time::Duration;

use idconform_harness::http::Recorder;
use idconform_harness::oauth::OAuthClient;

use super::common::{EXIT_MUST_FAILED, Failure, TargetArgs, say};

/// `idconform oauth …`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run the authorization code flow with PKCE, userinfo, refresh and revocation against a server (the embedded
    /// reference server without --target).
    Flow(FlowArgs),
}

/// Options of `idconform oauth flow`.
#[derive(Debug, clap::Args)]
struct FlowArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Print every HTTP exchange (secrets redacted) after the steps.
    #[arg(long)]
    verbose: bool,
    /// Print the last token response as JSON.
    #[arg(long)]
    show_tokens: bool,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// Runs the subcommand; returns the exit code.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Flow(a) => super::common::finish(flow(a).await),
    }
}

async fn flow(args: FlowArgs) -> Result<u8, Failure> {
    let target = args.target.resolve_oauth()?;
    say(&format!("idconform oauth flow — {} ({}), client {}", target.name, target.issuer, target.client.id));
    let client = OAuthClient::connect(target, Duration::from_secs(args.timeout.max(1)))
        .await
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    let log = Recorder::new();
    let out = idconform_harness::oauth::flow::run(&client, &log).await;
    for s in &out.steps {
        say(&format!("  {} {:<40} {}", if s.ok { "ok  " } else { "FAIL" }, s.name, s.detail));
    }
    if args.show_tokens
        && let Some(t) = &out.tokens
    {
        say(&serde_json::to_string_pretty(t).unwrap_or_default());
    }
    if args.verbose {
        for e in log.take() {
            say(&format!("\n{} {} → {}", e.method, e.url, e.status.map_or("no response".into(), |s| s.to_string())));
            for (k, v) in &e.request_headers {
                say(&format!("  > {k}: {v}"));
            }
            if let Some(b) = &e.request_body {
                say(&format!("  > {b}"));
            }
            for (k, v) in &e.response_headers {
                say(&format!("  < {k}: {v}"));
            }
            if let Some(b) = &e.response_body {
                say(&format!("  < {}", b.chars().take(400).collect::<String>()));
            }
        }
    }
    say(if out.ok() { "result: the flow works" } else { "result: the flow failed" });
    Ok(if out.ok() { 0 } else { EXIT_MUST_FAILED })
}
