//! The idconform reference server: a multi-tenant SCIM 2.0 service provider (and, in later areas, an OAuth 2.0
//! authorization server and a SAML 2.0 service provider), served over HTTP by axum.
//!
//! Domain code lives in [`scim`], [`admin`], [`oauth`] and [`saml`] and never imports axum; [`http`] holds thin handlers that extract, call the domain
//! and convert. Storage sits behind [`store::Store`].

pub mod admin;
pub mod clock;
pub mod config;
pub mod http;
pub mod markup;
pub mod mcp;
pub mod oauth;
pub mod saml;
pub mod scim;
pub mod store;
pub mod tenancy;

use std::sync::Arc;

pub use config::ServerConfig;
pub use http::{AppState, app};

/// Opens the database and builds the state every handler shares.
pub fn build_state(
    config: ServerConfig,
    db: &str,
    clock: Arc<dyn clock::Clock>,
) -> Result<AppState, store::StoreError> {
    let store: Arc<dyn store::Store> = Arc::new(store::sqlite::SqliteStore::open(db)?);
    let scim = Arc::new(scim::service::ScimService::new(store, clock.clone(), config.leniency, config.limits.clone())?);
    let issuer = config.public_url.clone().unwrap_or_else(|| "idconform".into());
    let admin = Arc::new(admin::AdminService::new(scim.clone(), clock.clone(), issuer));
    let oauth = Arc::new(oauth::OAuthService::new(scim.clone(), admin.clone(), clock.clone(), config.oauth.clone()));
    let saml = Arc::new(saml::service::SamlService::new(scim.clone(), admin.clone(), clock, config.saml.clone()));
    Ok(AppState { scim, admin, oauth, saml, config: Arc::new(config) })
}

/// Serves the app on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
