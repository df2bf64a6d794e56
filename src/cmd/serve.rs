//! `idconform serve`: the reference server.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use idconform_server::ServerConfig;
use idconform_server::admin::seed::SeedConfig;
use idconform_server::clock::SystemClock;
use idconform_server::saml::fetch::MetadataFetchConfig;
use idconform_server::saml::service::SamlConfig;
use idconform_server::scim::Leniency;

/// Options of `idconform serve`. These names are a stable interface for scripts.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "IDCONFORM_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// SQLite database file (`:memory:` for a throw-away database).
    #[arg(long, env = "IDCONFORM_DB", default_value = "./idconform.db")]
    db: String,
    /// Externally visible base URL (for `meta.location` and `$ref`), e.g. `https://idp.example.com`.
    #[arg(long, env = "IDCONFORM_PUBLIC_URL")]
    public_url: Option<String>,
    /// Build URLs from X-Forwarded-Proto / X-Forwarded-Host (only behind a proxy you trust).
    #[arg(long, env = "IDCONFORM_TRUST_FORWARDED")]
    trust_forwarded: bool,
    /// Follow RFC 7643/7644 to the letter: answer IdP quirks with the RFC's errors instead of accepting them.
    #[arg(long, env = "IDCONFORM_STRICT")]
    strict: bool,
    /// Create the demo workspace `acme` with a SCIM directory and print its base URL and bearer token.
    #[arg(long)]
    demo: bool,
    /// A TOML file of workspaces, members and directories to create or update at start (see
    /// `examples/idconform.toml`); passwords and tokens come from the environment variables it names.
    #[arg(long, env = "IDCONFORM_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// The demo directory's bearer token (otherwise a random one is generated).
    #[arg(long, env = "IDCONFORM_DEMO_SCIM_TOKEN", hide_env_values = true)]
    demo_scim_token: Option<String>,
    /// Let SAML connections fetch IdP metadata (`metadata_url`) from loopback, private and unique-local addresses,
    /// for an IdP on this machine or network. Never on a host that serves the public.
    #[arg(long, env = "IDCONFORM_SAML_METADATA_ALLOW_PRIVATE")]
    saml_metadata_allow_private: bool,
    /// Let SAML connections fetch IdP metadata over plain http (local development).
    #[arg(long, env = "IDCONFORM_SAML_METADATA_ALLOW_HTTP")]
    saml_metadata_allow_http: bool,
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let config = ServerConfig {
        public_url: args.public_url.clone(),
        trust_forwarded: args.trust_forwarded,
        leniency: Leniency { strict: args.strict },
        saml: SamlConfig {
            metadata_fetch: MetadataFetchConfig {
                allow_http: args.saml_metadata_allow_http,
                allow_private_addresses: args.saml_metadata_allow_private,
                ..MetadataFetchConfig::default()
            },
            ..SamlConfig::default()
        },
        ..ServerConfig::default()
    };
    // Read the seed file before opening anything, so a typo fails fast.
    let seed = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Some(SeedConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?)
        }
        None => None,
    };
    let state = idconform_server::build_state(config, &args.db, Arc::new(SystemClock))
        .with_context(|| format!("opening database {}", args.db))?;
    // The key of admin JWTs exists before the first request, so `idconform admin-token` on this database signs
    // with a key this process knows.
    state.admin.ensure_signing_key().await.context("creating the JWT signing key")?;
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let origin = args.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    if args.demo {
        let (_, token) =
            state.scim.ensure_demo(args.demo_scim_token.clone()).await.context("seeding the demo workspace")?;
        println!("idconform demo workspace \"acme\" is ready");
        println!("SCIM base URL: {}/scim/v2", origin.trim_end_matches('/'));
        println!("SCIM token:    {token}");
    }
    if let Some(seed) = &seed {
        let shown = state.admin.seed(seed, |var| std::env::var(var).ok()).await.context("applying --config")?;
        for t in shown {
            println!("workspace {:?}: directory {:?} created; SCIM token: {}", t.workspace_id, t.directory_id, t.token);
        }
        println!("configuration applied: {} workspace(s)", seed.workspaces.len());
    }
    tracing::info!(%addr, strict = args.strict, db = %args.db, "idconform server listening");
    idconform_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("shut down cleanly");
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
