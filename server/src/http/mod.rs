//! The HTTP surface: [`app`] builds the router that `idconform serve` and the tests both use.
//! Handlers are thin: extract, call the domain, convert. Domain errors become responses in [`error`] only.

pub mod admin;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod oauth;
pub mod openapi;
pub mod saml;
pub mod scim;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

use crate::admin::AdminService;
use tower_http::LatencyUnit;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::ServerConfig;
use crate::scim::error::ScimError;
use crate::scim::service::ScimService;
use error::ScimErrorResponse;

/// Path prefix of the SCIM 2.0 service.
pub const SCIM_PREFIX: &str = "/scim/v2";

/// State shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    pub scim: Arc<ScimService>,
    pub admin: Arc<AdminService>,
    pub oauth: Arc<crate::oauth::OAuthService>,
    pub saml: Arc<crate::saml::service::SamlService>,
    pub config: Arc<ServerConfig>,
}

impl AppState {
    /// The base URL of the SCIM service as the client sees it: `--public-url` if set; else the forwarded
    /// scheme and host when trusted; else the Host header.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        format!("{}{SCIM_PREFIX}", self.origin(headers))
    }

    /// The server's public URL as the client sees it (see [`AppState::base_url`]); also the OAuth `issuer`
    /// (RFC 8414 §2) and the protected resource identifier (RFC 9728 §2).
    pub fn origin(&self, headers: &HeaderMap) -> String {
        match &self.config.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .map(|s| s.split(',').next().unwrap_or(s).trim().to_owned())
                };
                let (proto, host) = if self.config.trust_forwarded {
                    (h("x-forwarded-proto"), h("x-forwarded-host").or_else(|| h("host")))
                } else {
                    (None, h("host"))
                };
                format!("{}://{}", proto.unwrap_or_else(|| "http".into()), host.unwrap_or_else(|| "localhost".into()))
            }
        }
    }
}

fn discovery_routes() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(discovery::spc))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{id}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
}

fn scim_routes() -> Router<AppState> {
    discovery_routes()
        .route("/.search", post(scim::search_root))
        .route("/Me", get(scim::me).post(scim::me).put(scim::me).patch(scim::me).delete(scim::me))
        .route("/Bulk", post(scim::bulk))
        .route("/Groups/{id}/Logo", put(scim::put_logo).get(scim::get_logo))
        .route("/{kind}", get(scim::list).post(scim::create))
        .route("/{kind}/.search", post(scim::search))
        .route("/{kind}/{id}", get(scim::get).put(scim::replace).patch(scim::patch).delete(scim::delete))
}

/// The management routes: sessions, the admin API and SCIM directory management. Authenticated by a session
/// cookie (with a CSRF token on state-changing requests) or an admin bearer JWT; never by a SCIM directory token.
fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", post(admin::login).get(admin::session).delete(admin::logout))
        .route("/.well-known/jwks.json", get(admin::jwks))
        .route("/api/v1/admin/workspace", get(admin::workspace))
        .route("/api/v1/admin/members", get(admin::list_members))
        .route(
            "/api/v1/admin/members/{id}",
            get(admin::get_member).patch(admin::update_member).delete(admin::remove_member),
        )
        .route("/api/v1/admin/scim-tokens", get(admin::list_tokens).post(admin::create_token))
        .route("/api/v1/admin/scim-tokens/endpoint-info", get(admin::endpoint_info))
        .route(
            "/api/v1/admin/scim-tokens/{id}",
            get(admin::get_token).patch(admin::update_token).delete(admin::revoke_token),
        )
        .route("/scim/directories", get(admin::list_directories).post(admin::create_directory))
        .route(
            "/scim/directories/{id}",
            get(admin::get_directory).patch(admin::update_directory).delete(admin::delete_directory),
        )
        .route("/scim/directories/{id}/regenerate-token", post(admin::regenerate_token))
        .route("/oauth/apps", get(oauth::list_apps).post(oauth::create_app))
        .route("/oauth/apps/{id}", get(oauth::get_app).patch(oauth::update_app).delete(oauth::delete_app))
        .route("/oauth/apps/{id}/rotate-secret", post(oauth::rotate_secret))
        .route("/saml/connections", get(saml::list_connections).post(saml::create_connection))
        .route(
            "/saml/connections/{id}",
            get(saml::get_connection).patch(saml::update_connection).delete(saml::delete_connection),
        )
        .route("/saml/enforce", get(saml::get_enforce).patch(saml::update_enforce))
        // Unknown management paths answer in the management error shape, not as SCIM errors.
        .route("/api/{*rest}", axum::routing::any(admin::no_such_route))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/docs", get(openapi::docs))
        .route("/docs/init.js", get(openapi::docs_init))
        .route("/docs/swagger-ui-bundle.js", get(openapi::docs_bundle))
        .route("/docs/swagger-ui.css", get(openapi::docs_css))
}

async fn not_found() -> Response {
    ScimErrorResponse(ScimError::NotFound("no such endpoint".into())).into_response()
}

/// The SCIM Error body of a 405 (RFC 7644 §3.12); axum's method router adds the `Allow` header to it.
async fn method_not_allowed() -> Response {
    scim::scim_json(
        StatusCode::METHOD_NOT_ALLOWED,
        &serde_json::json!({
            "schemas": [crate::scim::schema::ERROR_URN],
            "status": "405",
            "detail": "this method is not supported on this endpoint",
        }),
    )
}

/// The OAuth 2.0 protocol routes and metadata.
fn oauth_routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(oauth::authorize).post(oauth::decide))
        .route("/oauth/login", post(oauth::login))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/oauth/introspect", post(oauth::introspect))
        .route("/oauth/userinfo", get(oauth::userinfo).post(oauth::userinfo))
        .route("/.well-known/oauth-authorization-server", get(oauth::as_metadata))
        .route("/.well-known/oauth-protected-resource", get(oauth::resource_metadata))
        .route("/v2/mcp", get(oauth::mcp_get).post(oauth::mcp_post))
}

/// The SAML 2.0 service provider's protocol routes (SAML Bindings §3.4, §3.5; SAML Profiles §4.1, §4.4).
fn saml_routes() -> Router<AppState> {
    Router::new()
        .route("/saml/metadata/{workspace_id}", get(saml::metadata))
        .route("/saml/authorize/{workspace_id}", get(saml::authorize))
        .route("/saml/callback", post(saml::callback))
        .route("/saml/check", get(saml::check))
        .route("/saml/logout/callback", get(saml::logout_callback_get).post(saml::logout_callback_post))
        .route("/saml/logout/{workspace_id}", get(saml::logout))
        .route("/saml/signed-out", get(saml::signed_out))
}

/// The whole server as a router.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .nest(SCIM_PREFIX, scim_routes())
        // The discovery documents are also served at the root (RFC 7644 §4).
        .merge(discovery_routes())
        .merge(admin_routes())
        .merge(oauth_routes())
        .merge(saml_routes())
        .route(
            "/healthz",
            get(|| async { (StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))], "ok") }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    // One INFO line per request (method, path, status, latency); JSON with `--log-format json`. Headers are not
    // logged, so tokens never reach the logs. When INFO is off (`--log warn`), the layer would only cost time.
    if tracing::enabled!(target: "tower_http::trace::on_response", Level::INFO) {
        router.layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros)),
        )
    } else {
        router
    }
}
