//! The embedded reference server: the real server on 127.0.0.1:0 with a throw-away database, for verbs that run
//! against it when no target is given. Callers reach it only over HTTP, like any other target.

use std::sync::Arc;

use anyhow::Context;
use idconform_server::ServerConfig;
use idconform_server::clock::SystemClock;
use idconform_server::scim::Leniency;

/// A running embedded server.
#[derive(Debug)]
pub struct Embedded {
    /// Base URL of its SCIM service.
    pub scim_url: String,
    /// Bearer token of the directory created for this run.
    pub token: String,
    /// Bearer token of a second directory, in another workspace (tenant), for the tenant-isolation check.
    pub other_token: String,
}

/// Starts the reference server in this process on a runtime of its own (`workers` threads), with a fresh SCIM
/// directory (and a second one in another workspace, whose token is `other_token`). `db` is `:memory:` or a file.
pub fn start(db: &str, strict: bool, workers: usize) -> anyhow::Result<Embedded> {
    let (tx, rx) = std::sync::mpsc::channel::<anyhow::Result<Embedded>>();
    let db = db.to_owned();
    std::thread::Builder::new().name("idconform-embedded".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.max(1))
            .thread_name("idconform-server")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = tx.send(Err(e.into()));
                return;
            }
        };
        rt.block_on(async move {
            let started = async {
                let config = ServerConfig { leniency: Leniency { strict }, ..ServerConfig::default() };
                let state = idconform_server::build_state(config, &db, Arc::new(SystemClock))
                    .with_context(|| format!("opening database {db}"))?;
                let (_, token) = state.scim.create_directory("embedded", "embedded").await?;
                let (_, other_token) = state.scim.create_directory("embedded-other", "other").await?;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let origin = format!("http://{}", listener.local_addr()?);
                Ok::<_, anyhow::Error>((
                    state,
                    listener,
                    Embedded { scim_url: format!("{origin}/scim/v2"), token, other_token },
                ))
            };
            match started.await {
                Ok((state, listener, e)) => {
                    let _ = tx.send(Ok(e));
                    let _ = idconform_server::serve(listener, state, std::future::pending()).await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    })?;
    rx.recv().context("the embedded server did not start")?
}
