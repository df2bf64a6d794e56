//! `idconform`: the command-line entry point. Thin: one module per verb under `cmd/`.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: the server's hot paths allocate many small JSON values across threads, where it beats the system
/// allocator by a wide margin (see `idconform bench`).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Conformance harness and reference server for SCIM 2.0, OAuth 2.0 and SAML 2.0.
#[derive(Debug, Parser)]
#[command(name = "idconform", version, about, long_about = None)]
struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `idconform_server=debug`. Defaults to `info` for
    /// `serve` (one line per request) and `warn` for the other verbs, whose output is their report.
    #[arg(long, global = true, env = "IDCONFORM_LOG", help_heading = "Global options")]
    log: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = cmd::LogFormat::Text, help_heading = "Global options")]
    log_format: cmd::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the reference server (SCIM 2.0 service provider, OAuth 2.0 authorization server).
    Serve(cmd::serve::Args),
    /// Print an admin bearer JWT for the management API, signed with the server's key.
    AdminToken(cmd::admin::Args),
    /// Load users into a SCIM server and measure throughput and latency per operation.
    Bench(cmd::bench::Args),
    /// Run conformance checks against a SCIM server and an OAuth 2.0 authorization server (the embedded reference
    /// server when no target is given).
    Check(cmd::check::Args),
    /// Drive an OAuth 2.0 authorization server as a client: `oauth flow` runs a whole session step by step.
    Oauth(cmd::oauth::Args),
    /// Run the mock SAML 2.0 IdP (`idp saml serve`) or print its metadata (`idp metadata`).
    Idp(cmd::idp::Args),
    /// Replay Okta or Entra provisioning cycles against a SCIM server, or simulate their initial sync (--users).
    Replay(cmd::replay::Args),
    /// Run Gherkin scenarios (features/) against a SCIM server.
    Features(cmd::features::Args),
    /// Fuzz a SCIM server against a model of RFC 7644 with random operation sequences; shrink any divergence.
    Fuzz(cmd::fuzz::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = if matches!(cli.command, Command::Serve(_) | Command::Idp(_)) { "info" } else { "warn" };
    cmd::init_logging(cli.log.as_deref().unwrap_or(default_log), cli.log_format);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::AdminToken(args) => cmd::admin::run(args).await,
            Command::Bench(args) => cmd::bench::run(args).await,
            Command::Check(args) => cmd::check::run(args).await,
            Command::Oauth(args) => cmd::oauth::run(args).await,
            Command::Idp(args) => cmd::idp::run(args).await,
            Command::Replay(args) => cmd::replay::run(args).await,
            Command::Features(args) => cmd::features::run(args).await,
            Command::Fuzz(args) => cmd::fuzz::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
