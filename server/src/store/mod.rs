//! Durable storage behind one trait.
//!
//! The server keeps a read model in memory (see [`crate::scim::directory`]) and writes through to a [`Store`]: every
//! request's changes are one [`Batch`], committed in one transaction before the request is acknowledged. At start-up
//! the read model is rebuilt from [`Store::load`]. The trait speaks in whole records, so a networked backend
//! (PostgreSQL) fits behind it; SQLite in WAL mode is the one that ships.

pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::scim::schema::ResourceKind;

/// A storage failure. The write it belongs to did not happen.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// The writer has stopped (the server is shutting down or a previous write failed fatally).
    #[error("storage is unavailable")]
    Unavailable,
}

/// A workspace record.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceRecord {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub created: String,
}

/// A SCIM directory record: one provisioning connection of a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryRecord {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub created: String,
    /// What deleting the directory does to the members it provisioned: `remove` or `deactivate`.
    pub deprovision: String,
}

/// A SCIM bearer token record. Only the SHA-256 of the token is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: String,
    pub directory_id: String,
    pub name: String,
    pub hash: [u8; 32],
    pub created: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    /// What the token may do (`scim:read`, `scim:write`).
    pub scopes: Vec<String>,
}

/// A workspace member record; SCIM-provisioned members carry the SCIM user id.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub scim_directory_id: Option<String>,
    pub scim_user_id: Option<String>,
    pub created: String,
    /// argon2 hash of a local account's password; `None` for members who cannot log in with a password.
    pub password_hash: Option<String>,
}

/// A dashboard session. Only the SHA-256 of the session cookie's value is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub hash: [u8; 32],
    pub member_id: String,
    pub created: String,
    pub expires_at: String,
}

/// A key that signs the server's JWTs (admin bearer tokens now, OAuth tokens later); published in a JWKS.
#[derive(Clone, PartialEq)]
pub struct SigningKeyRecord {
    /// The JWK `kid`.
    pub kid: String,
    /// The JWS `alg` (RFC 7518 §3.1), e.g. `ES256`.
    pub alg: String,
    /// The private key, PKCS#8 DER.
    pub private_der: Vec<u8>,
    pub created: String,
}

/// An OAuth 2.0 client registration (RFC 6749 §2) of a workspace. `id` is the `client_id`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OAuthAppRecord {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    /// `confidential` or `public` (RFC 6749 §2.1).
    pub client_type: String,
    /// Registered redirect URIs, compared by exact string match (RFC 9700 §2.1).
    pub redirect_uris: Vec<String>,
    /// Scopes the app may ask for.
    pub allowed_scopes: Vec<String>,
    /// Whether PKCE (RFC 7636) is required; it always is for public clients.
    pub pkce_required: bool,
    /// Whether the `plain` code challenge method is accepted (RFC 7636 §4.2); S256 always is.
    pub allow_plain_pkce: bool,
    /// Public keys (a JWK Set, RFC 7517 §5) whose signed assertions the app may exchange for access tokens with the
    /// JWT bearer grant (RFC 7523 §2.1).
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    /// Live client secrets (at most two: the current one and, during a rotation's grace period, the previous one).
    pub secrets: Vec<OAuthSecretRecord>,
    pub created: String,
}

/// A client secret: only its SHA-256 is kept (secrets are 256-bit random, so a slow hash adds nothing).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OAuthSecretRecord {
    pub id: String,
    pub hash: [u8; 32],
    pub created: String,
    /// When a rotated-out secret stops working; `None` for the current secret.
    pub expires_at: Option<String>,
}

/// An authorization code (RFC 6749 §4.1.2). Only the SHA-256 of the code is kept.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OAuthCodeRecord {
    pub hash: [u8; 32],
    pub app_id: String,
    pub member_id: String,
    /// The redirect URI the code was sent to.
    pub redirect_uri: String,
    /// Whether the authorization request named `redirect_uri` (then the token request must too, RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// PKCE code challenge and method (RFC 7636 §4.3).
    pub challenge: Option<String>,
    pub challenge_method: Option<String>,
    pub created: String,
    pub expires_at: String,
    /// When the code was exchanged; a second exchange is refused and revokes what the first issued.
    pub used_at: Option<String>,
    /// The grant the first exchange created.
    pub grant_id: Option<String>,
}

/// A grant: what one authorization-code exchange issued, a refresh-token family with rotation (RFC 9700 §4.14.2).
/// Access tokens carry the grant id, so revoking the grant kills them too.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OAuthGrantRecord {
    pub id: String,
    pub app_id: String,
    pub member_id: String,
    /// Scopes of the refresh token, space-separated.
    pub scope: String,
    /// SHA-256 of the current refresh token.
    pub current: [u8; 32],
    /// SHA-256 of refresh tokens rotated out of this family; presenting one revokes the family.
    pub rotated: Vec<[u8; 32]>,
    pub created: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

/// A revoked access token (RFC 7009), kept until it would have expired anyway.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RevokedJtiRecord {
    pub jti: String,
    /// Seconds since the epoch.
    pub expires_at: i64,
}

/// A SAML 2.0 IdP connection of a workspace: the IdP this service provider trusts for the workspace's sign-ins.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamlConnectionRecord {
    pub id: String,
    pub workspace_id: String,
    /// The IdP's entity ID (SAML Core §8.3.6); every Issuer of its messages must equal it.
    pub entity_id: String,
    /// The IdP's SingleSignOnService location, where AuthnRequests go.
    pub sso_url: String,
    /// The binding of `sso_url`: `redirect` (HTTP-Redirect, SAML Bindings §3.4) or `post` (HTTP-POST, §3.5).
    #[serde(default = "default_binding")]
    pub sso_binding: String,
    /// The IdP's SingleLogoutService location (HTTP-Redirect), if it has one.
    pub slo_url: Option<String>,
    /// The IdP's SingleLogoutService location for the HTTP-POST binding (SAML Bindings §3.5), if it has one.
    #[serde(default)]
    pub slo_post_url: Option<String>,
    /// The IdP's signing certificates, PEM; several during a key rollover.
    pub certificates: Vec<String>,
    /// Whether RSA-SHA1 / SHA-1 signatures are accepted (legacy IdPs).
    pub allow_sha1: bool,
    /// Whether unsolicited (IdP-initiated) Responses are accepted (SAML Profiles §4.1.5).
    pub allow_idp_initiated: bool,
    /// The URL the IdP's metadata was fetched from, if it came from one (`PATCH` with `refresh_metadata` reads it
    /// again).
    #[serde(default)]
    pub metadata_url: Option<String>,
    pub created: String,
}

fn default_binding() -> String {
    "redirect".into()
}

/// A workspace's SAML enforcement: when `enforced`, members whose email is in one of `domains` must sign in through
/// the workspace's IdP, and password log-in refuses them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamlSettingsRecord {
    pub workspace_id: String,
    pub enforced: bool,
    /// Corporate email domains, lowercase.
    pub domains: Vec<String>,
    pub updated: String,
}

/// A stored SCIM resource in canonical form.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRecord {
    pub directory_id: String,
    pub kind: ResourceKind,
    pub id: String,
    /// Position in creation order; the default, stable listing order.
    pub seq: u64,
    pub data: Value,
    /// Hash of the SCIM `password` (writeOnly, RFC 7643 §4.1.1), if one was set.
    pub password_hash: Option<String>,
}

/// A group logo image.
#[derive(Debug, Clone, PartialEq)]
pub struct LogoRecord {
    pub directory_id: String,
    pub group_id: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key never reaches logs.
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private_der", &"[redacted]")
            .field("created", &self.created)
            .finish()
    }
}

/// One change; a [`Batch`] of them is written atomically.
#[derive(Debug, Clone)]
pub enum Write {
    PutWorkspace(WorkspaceRecord),
    PutDirectory(DirectoryRecord),
    /// Deletes a directory with its tokens, resources and logos (its members are changed by their own writes).
    DeleteDirectory {
        id: String,
    },
    PutToken(TokenRecord),
    PutMember(MemberRecord),
    DeleteMember {
        id: String,
    },
    PutResource(ResourceRecord),
    DeleteResource {
        directory_id: String,
        id: String,
    },
    PutLogo(LogoRecord),
    DeleteLogo {
        directory_id: String,
        group_id: String,
    },
    PutSession(SessionRecord),
    DeleteSession {
        hash: [u8; 32],
    },
    PutSigningKey(SigningKeyRecord),
    PutOAuthApp(OAuthAppRecord),
    /// Deletes an app with its codes and grants.
    DeleteOAuthApp {
        id: String,
    },
    PutOAuthCode(OAuthCodeRecord),
    PutOAuthGrant(OAuthGrantRecord),
    PutRevokedJti(RevokedJtiRecord),
    PutSamlConnection(SamlConnectionRecord),
    DeleteSamlConnection {
        id: String,
    },
    PutSamlSettings(SamlSettingsRecord),
}

/// The changes of one request, committed in one transaction.
pub type Batch = Vec<Write>;

/// Everything in the store, as read at start-up.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub workspaces: Vec<WorkspaceRecord>,
    pub directories: Vec<DirectoryRecord>,
    pub tokens: Vec<TokenRecord>,
    pub members: Vec<MemberRecord>,
    /// Ordered by `seq` within each directory.
    pub resources: Vec<ResourceRecord>,
    pub logos: Vec<LogoRecord>,
    pub sessions: Vec<SessionRecord>,
    pub signing_keys: Vec<SigningKeyRecord>,
    pub oauth_apps: Vec<OAuthAppRecord>,
    pub oauth_codes: Vec<OAuthCodeRecord>,
    pub oauth_grants: Vec<OAuthGrantRecord>,
    pub revoked_jtis: Vec<RevokedJtiRecord>,
    pub saml_connections: Vec<SamlConnectionRecord>,
    pub saml_settings: Vec<SamlSettingsRecord>,
}

/// A boxed future returned by [`Store::commit`].
pub type CommitFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

/// Durable storage.
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    /// Reads everything (start-up).
    fn load(&self) -> Result<Snapshot, StoreError>;
    /// Writes a batch in one transaction; resolves once it is durable.
    fn commit(&self, batch: Batch) -> CommitFuture;
}
