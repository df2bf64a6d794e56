//! The OpenAPI 3.1 document (`/openapi.json`) of every route, and the interactive docs (`/docs`) over it, served
//! from vendored Swagger UI assets (see `server/assets/swagger-ui/README.md`) so they work without internet access.
//!
//! Management routes are described from their handlers' `#[utoipa::path]` attributes; the SCIM 2.0 routes, whose
//! schemas are the RFC's and are published by `/Schemas`, are listed by [`ScimPaths`] with generic bodies.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use super::{admin, oauth, saml};
use crate::admin as domain;

/// Body of `POST /api/v1/session`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)] // Documents the body; the handler reads it field by field (admin::input).
pub struct LoginRequest {
    /// Email of a local account.
    email: String,
    /// Its password.
    password: String,
    /// Needed only when the email has accounts in several workspaces.
    workspace_id: Option<String>,
}

/// Answer of `POST /api/v1/session` (the session itself is the `idconform_session` cookie).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct LoginResponse {
    /// Who logged in.
    member: domain::MemberView,
    /// Send it as `X-CSRF-Token` on every state-changing request.
    csrf_token: String,
    /// When the session ends.
    expires_at: String,
}

/// Body of `PATCH /api/v1/admin/members/{id}`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UpdateMemberRequest {
    /// The new role; only owners grant or take `owner`.
    role: domain::Role,
}

/// Deprovisioning mode of a directory.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum Deprovision {
    /// Deleting the directory removes its members.
    Remove,
    /// Deleting the directory keeps its members, deactivated.
    Deactivate,
}

/// Body of `POST /scim/directories`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CreateDirectoryRequest {
    /// Display name, unique in the workspace.
    name: String,
    /// Default `remove`.
    deprovision: Option<Deprovision>,
}

/// Body of `PATCH /scim/directories/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UpdateDirectoryRequest {
    /// New display name.
    name: Option<String>,
    /// New deprovisioning mode.
    deprovision: Option<Deprovision>,
}

/// A SCIM token scope.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub enum Scope {
    /// GET and `.search`.
    #[serde(rename = "scim:read")]
    Read,
    /// Every other method.
    #[serde(rename = "scim:write")]
    Write,
}

/// Body of `POST /api/v1/admin/scim-tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CreateTokenRequest {
    /// Display name, unique among the directory's live tokens.
    name: String,
    /// Needed when the workspace has several directories.
    directory_id: Option<String>,
    /// RFC 3339; in the future. None: never expires.
    expires_at: Option<String>,
    /// Default: both.
    scopes: Option<Vec<Scope>>,
}

/// Body of `PATCH /api/v1/admin/scim-tokens/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UpdateTokenRequest {
    /// New name.
    name: Option<String>,
    /// New expiry (RFC 3339, in the future), or `null` for none.
    expires_at: Option<String>,
    /// New scopes.
    scopes: Option<Vec<Scope>>,
}

/// `{"items": [...]}` of members.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct MemberList {
    /// Oldest first.
    items: Vec<domain::MemberView>,
}

/// `{"items": [...]}` of directories.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct DirectoryList {
    /// Oldest first.
    items: Vec<domain::DirectoryView>,
}

/// Error body of every non-422 management error.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// What went wrong.
    detail: String,
    /// `bad_request`, `unauthorized`, `csrf_failed`, `forbidden`, `plan_required`, `sso_required`, `not_found`, `conflict`,
    /// `unsupported_media_type`, `internal_error`.
    code: String,
}

/// One invalid field.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct FieldErrorBody {
    /// Where: `["body", "name"]`, `["query", "page"]`.
    loc: Vec<String>,
    /// What is wrong.
    msg: String,
    /// `missing`, `string_type`, `enum`, `extra_forbidden`, `datetime_parsing`, `value_error`, ….
    #[schema(rename = "type")]
    kind: String,
}

/// 422 body.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ValidationErrorBody {
    /// Every invalid field.
    detail: Vec<FieldErrorBody>,
}

/// Client type of an OAuth app (RFC 6749 §2.1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum ClientType {
    /// Can keep a secret (a server-side app); authenticates with `client_secret_basic` or `client_secret_post`.
    Confidential,
    /// Cannot (a native or browser app); authenticates with `none` and must use PKCE.
    Public,
}

/// PKCE setting of an OAuth app (RFC 7636).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum PkceMode {
    /// Every authorization request must carry a code challenge (the default; forced for public clients).
    Required,
    /// A code challenge is optional.
    Optional,
}

/// Body of `POST /oauth/apps`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CreateAppRequest {
    /// Display name, unique in the workspace; shown on the consent page.
    name: String,
    /// Redirect URIs: https, http on loopback, or a reverse-domain scheme; no fragments or wildcards.
    redirect_uris: Vec<String>,
    /// Default `confidential`.
    client_type: Option<ClientType>,
    /// Of `user.read`, `users.read`, `groups.read`, `admin`; default `["user.read"]`.
    allowed_scopes: Option<Vec<String>>,
    /// Default `required`.
    pkce: Option<PkceMode>,
    /// Accept the `plain` challenge method; default false.
    allow_plain_pkce: Option<bool>,
}

/// Body of `PATCH /oauth/apps/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UpdateAppRequest {
    /// New display name.
    name: Option<String>,
    /// New redirect URIs (replaces the list).
    redirect_uris: Option<Vec<String>>,
    /// New allowed scopes.
    allowed_scopes: Option<Vec<String>>,
    /// New PKCE setting.
    pkce: Option<PkceMode>,
    /// Accept the `plain` challenge method.
    allow_plain_pkce: Option<bool>,
}

/// Body of `POST /oauth/apps/{id}/rotate-secret`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RotateSecretRequest {
    /// How long the previous secret keeps working (0 to 2592000 seconds; default 86400).
    grace_period_seconds: Option<i64>,
}

/// Body of `POST /saml/connections`: `metadata_xml`, or the manual fields (`entity_id`, `sso_url`, `certificates`).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct CreateSamlConnectionRequest {
    /// The IdP's metadata (an md:EntityDescriptor; at most 256 KiB; no DOCTYPE).
    metadata_xml: Option<String>,
    /// A URL to fetch the IdP's metadata from (https; public addresses only; at most 3 redirects, 10 s and
    /// 256 KiB; then read like `metadata_xml`). Kept on the connection.
    metadata_url: Option<String>,
    /// The IdP's entity ID (manual form).
    entity_id: Option<String>,
    /// The IdP's SSO URL, HTTP-Redirect binding (manual form).
    sso_url: Option<String>,
    /// The IdP's single logout URL, HTTP-Redirect binding.
    slo_url: Option<String>,
    /// The IdP's single logout URL, HTTP-POST binding.
    slo_post_url: Option<String>,
    /// 1 to 5 signing certificates, PEM (manual form).
    certificates: Option<Vec<String>>,
    /// Accept SHA-1 signatures; default false.
    allow_sha1: Option<bool>,
    /// Accept IdP-initiated sign-in; default false.
    allow_idp_initiated: Option<bool>,
}

/// Body of `PATCH /saml/connections/{id}`: any field of the create body (`slo_url: null` removes it).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UpdateSamlConnectionRequest {
    /// New IdP metadata: replaces entity ID, URLs and certificates (and forgets `metadata_url`).
    metadata_xml: Option<String>,
    /// Fetch new IdP metadata from this URL (as on create) and keep it; `null` forgets the stored one.
    metadata_url: Option<String>,
    /// `true`: fetch the metadata again from the stored `metadata_url` (a certificate rollover).
    refresh_metadata: Option<bool>,
    /// New entity ID.
    entity_id: Option<String>,
    /// New SSO URL.
    sso_url: Option<String>,
    /// New single logout URL, or `null` for none.
    slo_url: Option<String>,
    /// New HTTP-POST single logout URL, or `null` for none.
    slo_post_url: Option<String>,
    /// New certificates (replaces the list).
    certificates: Option<Vec<String>>,
    /// Accept SHA-1 signatures.
    allow_sha1: Option<bool>,
    /// Accept IdP-initiated sign-in.
    allow_idp_initiated: Option<bool>,
}

/// Body of `PATCH /saml/enforce`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UpdateEnforceRequest {
    /// Require SAML sign-in for the domains (needs at least one domain and a connection).
    enforced: Option<bool>,
    /// Corporate email domains; public mail services are refused.
    domains: Option<Vec<String>>,
}

/// `{"items": [...]}` of SAML connections.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SamlConnectionList {
    /// Oldest first.
    items: Vec<crate::saml::connections::ConnectionView>,
}

/// The SAML 2.0 protocol routes, with generic bodies: their parameters are SAML Bindings'.
struct SamlPaths;

impl Modify for SamlPaths {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use HttpMethod::{Get, Post};
        let routes: &[(&str, HttpMethod, &str, &str)] = &[
            (
                "/saml/metadata/{workspace_id}",
                Get,
                "The workspace's SP metadata (SAML Metadata §2.4.4)",
                "application/samlmetadata+xml",
            ),
            (
                "/saml/authorize/{workspace_id}",
                Get,
                "SP-initiated sign-in: a 302 to the IdP with an AuthnRequest (HTTP-Redirect, SAML Bindings §3.4); `RelayState` is a path on this server or an allowlisted URL",
                "text/html",
            ),
            (
                "/saml/callback",
                Post,
                "The assertion consumer service (HTTP-POST, SAML Bindings §3.5): `SAMLResponse`, `RelayState`; a 303 with the session cookie, or a 4xx whose `code` names the refusing guard",
                "application/json",
            ),
            (
                "/saml/logout/{workspace_id}",
                Get,
                "SP-initiated single logout: ends the session, then a LogoutRequest to the IdP if it has a single logout service",
                "text/html",
            ),
            (
                "/saml/logout/callback",
                Get,
                "Single logout service (HTTP-Redirect): the IdP's LogoutResponse, or its signed LogoutRequest",
                "text/html",
            ),
            (
                "/saml/logout/callback",
                Post,
                "Single logout service (HTTP-POST): the IdP's LogoutResponse, or its LogoutRequest with an enveloped signature; answered with an auto-submitting form to the IdP's HTTP-POST single logout service, else a redirect",
                "text/html",
            ),
        ];
        let obj = || ContentBuilder::new().schema(Some(ObjectBuilder::new().build())).build();
        for (path, m, summary, media) in routes {
            let mut op = OperationBuilder::new()
                .tag("SAML 2.0")
                .summary(Some(*summary))
                .response("200", ResponseBuilder::new().description("Success").content(*media, obj()))
                .response(
                    "default",
                    ResponseBuilder::new()
                        .description("Refused: {\"detail\", \"code\"}, `code` naming the guard")
                        .content("application/json", obj()),
                );
            if path.contains("{workspace_id}") {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name("workspace_id")
                        .parameter_in(ParameterIn::Path)
                        .required(utoipa::openapi::Required::True),
                );
            }
            if matches!(m, Post) {
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .content("application/x-www-form-urlencoded", obj())
                        .required(Some(utoipa::openapi::Required::True))
                        .build(),
                ));
            }
            openapi.paths.add_path_operation(*path, vec![m.clone()], op.build());
        }
    }
}

/// The OAuth 2.0 protocol endpoints (RFC 6749 and friends), with generic bodies: their parameters are the RFCs'.
struct OAuthPaths;

impl Modify for OAuthPaths {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use HttpMethod::{Get, Post};
        let routes: &[(&str, HttpMethod, &str, &str)] = &[
            (
                "/oauth/authorize",
                Get,
                "Authorization endpoint: log-in page, then consent page (RFC 6749 §4.1.1)",
                "text/html",
            ),
            (
                "/oauth/authorize",
                Post,
                "The consent decision: redirects to the client with a code or an error",
                "text/html",
            ),
            ("/oauth/login", Post, "The authorization endpoint's log-in form (sets the session cookie)", "text/html"),
            (
                "/oauth/token",
                Post,
                "Token endpoint: authorization_code with PKCE, refresh_token (RFC 6749 §4.1.3, §6)",
                "application/json",
            ),
            ("/oauth/revoke", Post, "Token revocation (RFC 7009)", "application/json"),
            ("/oauth/introspect", Post, "Token introspection (RFC 7662)", "application/json"),
            ("/oauth/userinfo", Get, "The access token's user; needs user.read (RFC 6750)", "application/json"),
            (
                "/.well-known/oauth-authorization-server",
                Get,
                "Authorization server metadata (RFC 8414)",
                "application/json",
            ),
            (
                "/.well-known/oauth-protected-resource",
                Get,
                "Protected resource metadata (RFC 9728)",
                "application/json",
            ),
        ];
        let obj = || ContentBuilder::new().schema(Some(ObjectBuilder::new().build())).build();
        for (path, m, summary, media) in routes {
            let mut op = OperationBuilder::new()
                .tag("OAuth 2.0")
                .summary(Some(*summary))
                .response("200", ResponseBuilder::new().description("Success").content(*media, obj()))
                .response(
                    "default",
                    ResponseBuilder::new()
                        .description("OAuth error: {\"error\", \"error_description\"} (RFC 6749 §5.2)")
                        .content("application/json", obj()),
                );
            if matches!(m, Post) {
                let form = if *path == "/v2/mcp" { "application/json" } else { "application/x-www-form-urlencoded" };
                op = op.request_body(Some(
                    RequestBodyBuilder::new()
                        .content(form, obj())
                        .required(Some(utoipa::openapi::Required::True))
                        .build(),
                ));
            }
            openapi.paths.add_path_operation(*path, vec![m.clone()], op.build());
        }
    }
}

/// The error answers every management route can give.
#[derive(IntoResponses)]
#[allow(dead_code)] // Documentation only: errors are built from AdminError in admin::AdminErrorResponse.
pub enum ManagementErrors {
    /// The body is not JSON.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No valid session or admin bearer token (RFC 6750 §3.1).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Missing or wrong CSRF token (session), a role that may not do this, or a plan without the feature.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such object in the caller's workspace.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A duplicate, or a change the current state forbids.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Invalid fields.
    #[response(status = 422)]
    Invalid(ValidationErrorBody),
}

/// Security schemes: admin bearer JWTs, and the session cookie with its CSRF header.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An admin JWT from `idconform admin-token` (RFC 6750, RFC 7519)"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "idconform_session",
                "The session cookie set by POST /api/v1/session",
            ))),
        );
        c.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The session's CSRF token (from POST or GET /api/v1/session); required with the cookie on every \
                 state-changing request",
            ))),
        );
        c.add_security_scheme(
            "scim_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A SCIM directory token (idc_scim_…); never a session cookie"))
                    .build(),
            ),
        );
    }
}

/// The SCIM 2.0 routes (RFC 7644 §3), with generic JSON bodies: their schemas are RFC 7643's, served by `/Schemas`.
struct ScimPaths;

impl Modify for ScimPaths {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use HttpMethod::{Delete, Get, Patch, Post, Put};
        let routes: &[(&str, &[HttpMethod], &str, bool)] = &[
            ("/scim/v2/ServiceProviderConfig", &[Get], "Service provider configuration (RFC 7644 §4)", false),
            ("/scim/v2/ResourceTypes", &[Get], "Resource types (RFC 7644 §4)", false),
            ("/scim/v2/ResourceTypes/{id}", &[Get], "One resource type", false),
            ("/scim/v2/Schemas", &[Get], "Schemas (RFC 7644 §4)", false),
            ("/scim/v2/Schemas/{id}", &[Get], "One schema", false),
            (
                "/scim/v2/Users",
                &[Get, Post],
                "List (filter, sort, paginate) or create users (RFC 7644 §3.3, §3.4.2)",
                true,
            ),
            ("/scim/v2/Users/{id}", &[Get, Put, Patch, Delete], "Read, replace, patch or delete a user", true),
            ("/scim/v2/Users/.search", &[Post], "Search users (RFC 7644 §3.4.3)", true),
            ("/scim/v2/Groups", &[Get, Post], "List or create groups", true),
            ("/scim/v2/Groups/{id}", &[Get, Put, Patch, Delete], "Read, replace, patch or delete a group", true),
            ("/scim/v2/Groups/.search", &[Post], "Search groups", true),
            ("/scim/v2/Groups/{id}/Logo", &[Get, Put], "A group's logo (PNG or JPEG)", true),
            ("/scim/v2/.search", &[Post], "Search all resource types", true),
            ("/scim/v2/Bulk", &[Post], "Bulk operations (RFC 7644 §3.7)", true),
            ("/scim/v2/Me", &[Get], "501: a directory token authenticates a client, not a user (RFC 7644 §3.11)", true),
        ];
        let json = || ContentBuilder::new().schema(Some(ObjectBuilder::new().build())).build();
        for (path, methods, summary, auth) in routes {
            for m in methods.iter() {
                let mut op = OperationBuilder::new()
                    .tag("SCIM 2.0")
                    .summary(Some(*summary))
                    .response(
                        "200",
                        ResponseBuilder::new()
                            .description("SCIM resource or ListResponse")
                            .content("application/scim+json", json()),
                    )
                    .response(
                        "default",
                        ResponseBuilder::new()
                            .description("SCIM Error (RFC 7644 §3.12)")
                            .content("application/scim+json", json()),
                    );
                if path.contains("{id}") {
                    op = op.parameter(
                        ParameterBuilder::new()
                            .name("id")
                            .parameter_in(ParameterIn::Path)
                            .required(utoipa::openapi::Required::True),
                    );
                }
                if matches!(m, Post | Put | Patch) {
                    op = op.request_body(Some(
                        RequestBodyBuilder::new()
                            .content("application/scim+json", json())
                            .required(Some(utoipa::openapi::Required::True))
                            .build(),
                    ));
                }
                if *auth {
                    op = op.security(utoipa::openapi::security::SecurityRequirement::new(
                        "scim_token",
                        Vec::<String>::new(),
                    ));
                }
                openapi.paths.add_path_operation(*path, vec![m.clone()], op.build());
            }
        }
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "idconform reference server",
        version = "v1",
        description = "SCIM 2.0 provisioning (`/scim/v2`, authenticated by directory tokens) and its management API: \
            sessions, members, SCIM directories and tokens, OAuth apps, SAML connections; the OAuth 2.0 authorization server and the SAML 2.0 service provider. Management routes take an admin bearer JWT, or the \
            session cookie with `X-CSRF-Token` on state-changing requests."
    ),
    paths(
        admin::login, admin::session, admin::logout, admin::jwks,
        admin::workspace, admin::list_members, admin::get_member, admin::update_member, admin::remove_member,
        admin::create_directory, admin::list_directories, admin::get_directory, admin::update_directory,
        admin::delete_directory, admin::regenerate_token,
        admin::list_tokens, admin::create_token, admin::endpoint_info, admin::get_token, admin::update_token,
        admin::revoke_token,
        oauth::list_apps, oauth::create_app, oauth::get_app, oauth::update_app, oauth::delete_app,
        oauth::rotate_secret,
        saml::list_connections, saml::create_connection, saml::get_connection, saml::update_connection,
        saml::delete_connection, saml::get_enforce, saml::update_enforce, saml::check,
    ),
    components(schemas(ErrorBody, ValidationErrorBody, FieldErrorBody)),
    modifiers(&Security, &ScimPaths, &OAuthPaths, &SamlPaths),
    tags(
        (name = "session", description = "Dashboard log-in: an HttpOnly, SameSite=Lax cookie and its CSRF token"),
        (name = "members", description = "The workspace and its members"),
        (name = "directories", description = "SCIM directories (enterprise plan; admins and owners)"),
        (name = "scim-tokens", description = "SCIM bearer tokens (enterprise plan; admins and owners)"),
        (name = "oauth-apps", description = "OAuth app registrations (admins and owners)"),
        (name = "saml", description = "SAML connections and enforcement (enterprise plan; admins and owners), and the SSO check"),
        (name = "OAuth 2.0", description = "The authorization server (RFC 6749, 7009, 7636, 7662, 8414, 9068, 9207, 9728)"),
        (name = "SAML 2.0", description = "The SAML 2.0 service provider (SAML Core, Bindings, Profiles, Metadata); outgoing requests are not signed"),
        (name = "SCIM 2.0", description = "The SCIM service provider (RFC 7643, RFC 7644, RFC 9865)"),
    )
)]
pub struct ApiDoc;

/// `GET /openapi.json`.
pub async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(text) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document did not serialise");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

const DOCS_HTML: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>idconform API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"##;

/// The initialiser, a file of its own so the page needs no inline script.
const DOCS_INIT: &str = r##"window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  withCredentials: true
});
"##;

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400")),
        ],
        body,
    )
        .into_response()
}

/// `GET /docs`: Swagger UI over `/openapi.json`.
pub async fn docs() -> Response {
    asset("text/html; charset=utf-8", DOCS_HTML.as_bytes())
}

/// `GET /docs/init.js`.
pub async fn docs_init() -> Response {
    asset("text/javascript; charset=utf-8", DOCS_INIT.as_bytes())
}

/// `GET /docs/swagger-ui-bundle.js`.
pub async fn docs_bundle() -> Response {
    asset("text/javascript; charset=utf-8", include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"))
}

/// `GET /docs/swagger-ui.css`.
pub async fn docs_css() -> Response {
    asset("text/css; charset=utf-8", include_bytes!("../../assets/swagger-ui/swagger-ui.css"))
}
