//! `idconform admin-token`: issues an admin bearer JWT (RFC 7519) for `/api/v1/admin/*` and `/scim/directories`,
//! signed with the server's key from its database, until the OAuth server issues them.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use idconform_server::ServerConfig;
use idconform_server::clock::SystemClock;

/// Options of `idconform admin-token`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server's SQLite database (the same file `serve --db` uses).
    #[arg(long, env = "IDCONFORM_DB", default_value = "./idconform.db")]
    db: String,
    /// The workspace id.
    #[arg(long)]
    workspace: String,
    /// Email of an admin or owner of the workspace.
    #[arg(long)]
    email: String,
    /// Lifetime of the token in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: i64,
    /// The issuer (`iss`): the server's public URL, as `serve --public-url` has it.
    #[arg(long, env = "IDCONFORM_PUBLIC_URL")]
    public_url: Option<String>,
}

/// Prints the token on stdout.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.ttl <= 0 {
        anyhow::bail!("--ttl must be a positive number of seconds");
    }
    let config = ServerConfig { public_url: args.public_url.clone(), ..ServerConfig::default() };
    let state = idconform_server::build_state(config, &args.db, Arc::new(SystemClock))
        .with_context(|| format!("opening database {}", args.db))?;
    let token = state
        .admin
        .issue_admin_token(&args.workspace, &args.email, args.ttl)
        .await
        .context("issuing the admin token")?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
