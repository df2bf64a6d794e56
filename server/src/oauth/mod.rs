//! The OAuth 2.0 authorization server: app registrations ([`apps`]), the authorization endpoint with its consent
//! decision, the token endpoint (authorization code with PKCE, refresh with rotation and reuse detection), access
//! tokens as ES256 JWTs (RFC 9068) signed with the key the admin API already keeps, revocation (RFC 7009),
//! introspection (RFC 7662), userinfo, and the metadata of RFC 8414 and RFC 9728.
//!
//! **Does not import axum or know about HTTP**: `http::oauth` parses requests into [`rules::Params`] and
//! [`ClientAuth`], calls [`OAuthService`], and renders its results (HTML pages, redirects, JSON). Every change is
//! one batch through [`ScimService::admin_write`]: decided under the admin lock, committed, then applied, so two
//! concurrent exchanges of one code cannot both succeed and nothing is acknowledged before it is durable.

pub mod apps;
pub mod error;
pub mod rules;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::admin::auth::{JWT_ALG, public_xy};
use crate::admin::{AdminService, AuthVia, Principal, Role};
use crate::clock::{Clock, format_datetime};
use crate::scim::service::ScimService;
use crate::store::{MemberRecord, OAuthAppRecord, OAuthCodeRecord, OAuthGrantRecord, RevokedJtiRecord, Write};
use crate::tenancy::{Tenancy, hash_token, random_secret};
pub use error::{AuthorizeError, OAuthError, OAuthResult};
use rules::{Params, pkce_form_ok, pkce_matches, scope_token_ok, split_scope, with_query};

/// Reads the signed-in user's own profile (userinfo, `/scim/v2/Me`).
pub const SCOPE_USER_READ: &str = "user.read";
/// Lists and reads the workspace's SCIM users.
pub const SCOPE_USERS_READ: &str = "users.read";
/// Lists and reads the workspace's SCIM groups.
pub const SCOPE_GROUPS_READ: &str = "groups.read";
/// Uses the management API; granted only to admins and owners.
pub const SCOPE_ADMIN: &str = crate::admin::auth::ADMIN_SCOPE;
/// Every scope the server knows.
pub const SCOPES: [&str; 4] = [SCOPE_USER_READ, SCOPE_USERS_READ, SCOPE_GROUPS_READ, SCOPE_ADMIN];
/// The JWT bearer grant type (RFC 7523 §2.1).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The longest lifetime an assertion may claim (`exp - iat`, or `exp - now`): a short-lived assertion limits
/// replays (RFC 7523 §3 item 4), and its `jti` is remembered until it expires.
pub const MAX_ASSERTION_LIFETIME: i64 = 3600;
/// The JWT `typ` of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Lifetimes of what the server issues.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// Authorization codes: short-lived (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl: chrono::Duration,
    /// Access tokens.
    pub access_ttl: chrono::Duration,
    /// Refresh-token families (from the first issue; rotation does not extend it).
    pub refresh_ttl: chrono::Duration,
    /// Default grace period of a rotated-out client secret.
    pub secret_grace: chrono::Duration,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        OAuthSettings {
            code_ttl: chrono::Duration::seconds(60),
            access_ttl: chrono::Duration::seconds(3600),
            refresh_ttl: chrono::Duration::days(30),
            secret_grace: chrono::Duration::hours(24),
        }
    }
}

/// `prefix` and 256 random bits: codes, refresh tokens, client secrets (recognisable by secret scanners).
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", random_secret())
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// How the client authenticated at the token, revocation or introspection endpoint (RFC 6749 §2.3).
#[derive(Default, Clone)]
pub struct ClientAuth {
    /// `client_secret_basic`: the decoded `Authorization: Basic` pair (RFC 6749 §2.3.1).
    pub basic: Option<(String, String)>,
    /// An `Authorization` header was sent but is not a readable Basic pair.
    pub basic_malformed: bool,
}

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuth")
            .field("basic", &self.basic.as_ref().map(|(id, _)| (id, "[redacted]")))
            .field("basic_malformed", &self.basic_malformed)
            .finish()
    }
}

/// A validated authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3).
#[derive(Debug, Clone)]
pub struct ValidAuthorize {
    /// The app.
    pub app: OAuthAppRecord,
    /// The redirect URI the answer goes to.
    pub redirect_uri: String,
    /// Whether the request named it.
    pub redirect_uri_given: bool,
    /// Requested scopes, every one allowed for the app.
    pub scopes: Vec<String>,
    /// The client's `state`.
    pub state: Option<String>,
    /// PKCE challenge and method.
    pub challenge: Option<(String, String)>,
}

/// What the consent page shows.
#[derive(Debug, Clone)]
pub struct Consent {
    /// The app's name.
    pub app_name: String,
    /// The signed-in user.
    pub email: String,
    /// The scopes that will be granted (requested, allowed, and trimmed by the user's role).
    pub scopes: Vec<String>,
    /// Requested scopes the user's role does not allow; left out of the grant.
    pub withheld: Vec<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Clone, Serialize)]
pub struct TokenResponse {
    /// The access token, an ES256 JWT (RFC 9068).
    pub access_token: String,
    /// Always `Bearer` (RFC 6750).
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// A new refresh token (rotated on every use, RFC 9700 §4.14.2); none for the JWT bearer grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Granted scopes (RFC 6749 §3.3).
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse").field("scope", &self.scope).field("expires_in", &self.expires_in).finish()
    }
}

/// The claims of an access token (RFC 9068 §2.2, plus the workspace and the grant it belongs to).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// The issuer (RFC 8414 `issuer`).
    pub iss: String,
    /// The member id.
    pub sub: String,
    /// The protected resource (RFC 9728 `resource`): the server's public URL.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Token id; revoked ids are remembered until `exp`.
    pub jti: String,
    /// The app.
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// The member's workspace.
    pub workspace_id: String,
    /// The grant (refresh-token family); revoking it kills this token.
    pub grant_id: String,
}

/// A valid access token and whom it stands for.
#[derive(Debug, Clone)]
pub struct AccessInfo {
    /// Its claims.
    pub claims: AccessClaims,
    /// The member, as they are now.
    pub member: MemberRecord,
}

impl AccessInfo {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims.scope.split(' ').any(|s| s == scope)
    }
}

/// What a token-endpoint decision writes, and its answer (a refusal may still write: revocations).
type Decided = Result<(crate::store::Batch, OAuthResult<TokenResponse>), OAuthError>;

/// The OAuth 2.0 authorization server.
#[derive(Debug)]
pub struct OAuthService {
    scim: Arc<ScimService>,
    admin: Arc<AdminService>,
    clock: Arc<dyn Clock>,
    settings: OAuthSettings,
    /// The verifying key of each signing key, by `kid`: deriving a public key from the stored private key costs a
    /// scalar multiplication, as much as half a signature check, so it is done once per key, not per request.
    verifying: parking_lot::RwLock<std::collections::HashMap<String, jsonwebtoken::DecodingKey>>,
}

/// Drops the scopes a role may not hold: `admin` needs the admin or owner role.
fn trim_by_role(scopes: &[String], role: Role) -> (Vec<String>, Vec<String>) {
    scopes.iter().cloned().partition(|s| s != SCOPE_ADMIN || role >= Role::Admin)
}

impl OAuthService {
    /// A server over the same records as the admin API, signing with its key.
    pub fn new(
        scim: Arc<ScimService>,
        admin: Arc<AdminService>,
        clock: Arc<dyn Clock>,
        settings: OAuthSettings,
    ) -> Self {
        OAuthService { scim, admin, clock, settings, verifying: parking_lot::RwLock::default() }
    }

    fn now(&self) -> String {
        format_datetime(self.clock.now())
    }

    /// The admin service (sessions and the log-in of the authorization endpoint).
    pub fn admin(&self) -> &AdminService {
        &self.admin
    }

    // ----- the authorization endpoint -----

    /// Validates an authorization request. The client and redirect URI come first: until both are known good,
    /// errors are shown to the user, never redirected (RFC 6749 §4.1.2.1).
    pub fn validate_authorize(&self, q: &Params) -> Result<ValidAuthorize, AuthorizeError> {
        let page = AuthorizeError::Page;
        let client_id = q.get("client_id").map_err(page)?.ok_or_else(|| {
            AuthorizeError::Page(OAuthError::InvalidRequest("the client_id parameter is missing".into()))
        })?;
        let app = self.scim.tenancy().read().oauth_apps.get(client_id).cloned().ok_or_else(|| {
            AuthorizeError::Page(OAuthError::InvalidClient { msg: "unknown client_id".into(), basic: false })
        })?;
        let given = q.get("redirect_uri").map_err(page)?;
        let redirect_uri = match given {
            // Exact string comparison (RFC 9700 §2.1; RFC 6749 §3.1.2.3).
            Some(r) if app.redirect_uris.iter().any(|u| u == r) => r.to_owned(),
            Some(_) => {
                return Err(AuthorizeError::Page(OAuthError::InvalidRequest(
                    "redirect_uri does not exactly match a URI registered for this client (RFC 9700 §2.1)".into(),
                )));
            }
            // Without redirect_uri, the only registered one is meant (RFC 6749 §3.1.2.3).
            None => match app.redirect_uris.as_slice() {
                [one] => one.clone(),
                _ => {
                    return Err(AuthorizeError::Page(OAuthError::InvalidRequest(
                        "redirect_uri is required: the client registered several (RFC 6749 §3.1.2.3)".into(),
                    )));
                }
            },
        };
        // From here on errors go to the redirect URI, with the state if it could be read.
        let state = q.get("state").ok().flatten().map(str::to_owned);
        let fail = |error: OAuthError| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            error,
            state: state.clone(),
        };
        q.get("state").map_err(fail)?;
        match q.get("response_type").map_err(fail)? {
            Some("code") => {}
            Some(other) => {
                return Err(fail(OAuthError::UnsupportedResponseType(format!(
                    "response_type {other:?} is not supported; only \"code\" (RFC 9700 §2.1.2)"
                ))));
            }
            None => return Err(fail(OAuthError::InvalidRequest("the response_type parameter is missing".into()))),
        }
        let scopes = match q.get("scope").map_err(fail)? {
            // Without scope, the app's allowed scopes are the documented default (RFC 6749 §3.3).
            None => app.allowed_scopes.clone(),
            Some(s) => split_scope(s),
        };
        if let Some(bad) = scopes.iter().find(|s| !scope_token_ok(s)) {
            return Err(fail(OAuthError::InvalidScope(format!("scope {bad:?} is malformed (RFC 6749 §3.3)"))));
        }
        if let Some(bad) = scopes.iter().find(|s| !app.allowed_scopes.contains(s)) {
            return Err(fail(OAuthError::InvalidScope(format!("scope {bad:?} is not allowed for this app"))));
        }
        if scopes.is_empty() {
            return Err(fail(OAuthError::InvalidScope("no scope was requested".into())));
        }
        let challenge = q.get("code_challenge").map_err(fail)?;
        let method = q.get("code_challenge_method").map_err(fail)?;
        let challenge = match (challenge, method) {
            (None, None) if app.pkce_required || app.client_type == "public" => {
                // RFC 9700 §2.1.1: public clients MUST use PKCE; RFC 7636 §4.4.1 names the error.
                return Err(fail(OAuthError::InvalidRequest(
                    "code_challenge is required for this client (RFC 7636 §4.4.1, RFC 9700 §2.1.1)".into(),
                )));
            }
            (None, None) => None,
            (None, Some(_)) => {
                return Err(fail(OAuthError::InvalidRequest("code_challenge_method without code_challenge".into())));
            }
            (Some(c), m) => {
                // RFC 7636 §4.3: the method defaults to plain.
                let m = m.unwrap_or("plain");
                match m {
                    "S256" => {}
                    "plain" if app.allow_plain_pkce => {}
                    "plain" => {
                        return Err(fail(OAuthError::InvalidRequest(
                            "this client must use code_challenge_method S256 (RFC 9700 §2.1.1)".into(),
                        )));
                    }
                    _ => {
                        return Err(fail(OAuthError::InvalidRequest(format!(
                            "code_challenge_method {m:?} is not supported (RFC 7636 §4.2)"
                        ))));
                    }
                }
                if !pkce_form_ok(c) {
                    return Err(fail(OAuthError::InvalidRequest(
                        "code_challenge must be 43 to 128 unreserved characters (RFC 7636 §4.2)".into(),
                    )));
                }
                Some((c.to_owned(), m.to_owned()))
            }
        };
        Ok(ValidAuthorize { app, redirect_uri, redirect_uri_given: given.is_some(), scopes, state, challenge })
    }

    /// The signed-in member of a session, if it is a member of the app's workspace (people of other workspaces
    /// cannot authorize it; they are asked to log in with an account of that workspace).
    pub fn session_member(&self, session: Option<&str>, v: &ValidAuthorize) -> Option<Principal> {
        let creds = crate::admin::Credentials { session: session.map(str::to_owned), ..Default::default() };
        self.admin.authenticate(&creds, false).ok().filter(|p| p.workspace_id == v.app.workspace_id)
    }

    /// What the consent page shows to `p`.
    pub fn consent(&self, p: &Principal, v: &ValidAuthorize) -> Consent {
        let (scopes, withheld) = trim_by_role(&v.scopes, p.role);
        let email = self.scim.tenancy().read().members.get(&p.member_id).map(|m| m.email.clone()).unwrap_or_default();
        Consent { app_name: v.app.name.clone(), email, scopes, withheld }
    }

    /// Records the user's decision and returns where to send the browser: the redirect URI with a code, or with
    /// `access_denied` (RFC 6749 §4.1.2, §4.1.2.1), both with `state` and `iss` (RFC 9207 §2).
    pub async fn decide(&self, p: &Principal, v: &ValidAuthorize, allow: bool, issuer: &str) -> String {
        let (scopes, _) = trim_by_role(&v.scopes, p.role);
        let error_redirect = |e: OAuthError| error_redirect_uri(&v.redirect_uri, &e, v.state.as_deref(), issuer);
        if !allow {
            return error_redirect(OAuthError::AccessDenied("the user denied the request".into()));
        }
        if scopes.is_empty() {
            return error_redirect(OAuthError::AccessDenied(
                "the user's role allows none of the requested scopes".into(),
            ));
        }
        let code = new_secret("idc_ac_");
        let now = self.clock.now();
        let rec = OAuthCodeRecord {
            hash: hash_token(&code),
            app_id: v.app.id.clone(),
            member_id: p.member_id.clone(),
            redirect_uri: v.redirect_uri.clone(),
            redirect_uri_given: v.redirect_uri_given,
            scope: scopes.join(" "),
            challenge: v.challenge.as_ref().map(|c| c.0.clone()),
            challenge_method: v.challenge.as_ref().map(|c| c.1.clone()),
            created: format_datetime(now),
            expires_at: format_datetime(now + self.settings.code_ttl),
            used_at: None,
            grant_id: None,
        };
        let app_id = v.app.id.clone();
        let written = self
            .scim
            .admin_write(None, |t| {
                // The app may have been deleted while the consent page was open.
                if !t.oauth_apps.contains_key(&app_id) {
                    return Err(OAuthError::AccessDenied("the app no longer exists".into()));
                }
                Ok((vec![Write::PutOAuthCode(rec)], ()))
            })
            .await;
        match written {
            Ok(()) => {
                let mut params = vec![("code", code.as_str())];
                if let Some(s) = &v.state {
                    params.push(("state", s));
                }
                params.push(("iss", issuer));
                with_query(&v.redirect_uri, &params)
            }
            Err(e) => error_redirect(e),
        }
    }

    // ----- client authentication -----

    /// Authenticates the client of a token, revocation or introspection request (RFC 6749 §2.3): Basic, or
    /// `client_secret` in the body, or — for public clients only — just `client_id`. Using two methods at once is
    /// an `invalid_request` (RFC 6749 §2.3).
    pub fn authenticate_client(&self, auth: &ClientAuth, form: &Params) -> OAuthResult<OAuthAppRecord> {
        let basic = auth.basic.is_some() || auth.basic_malformed;
        let bad = |msg: &str| OAuthError::InvalidClient { msg: msg.into(), basic };
        if auth.basic_malformed {
            return Err(bad("the Authorization header is not a valid Basic client_id:client_secret pair"));
        }
        let form_id = form.get("client_id")?;
        let form_secret = form.get("client_secret")?;
        let (client_id, secret) = match (&auth.basic, form_secret) {
            (Some(_), Some(_)) => {
                return Err(OAuthError::InvalidRequest(
                    "use one client authentication method, not Basic and client_secret both (RFC 6749 §2.3)".into(),
                ));
            }
            (Some((id, secret)), None) => {
                if form_id.is_some_and(|f| f != id) {
                    return Err(OAuthError::InvalidRequest("client_id differs from the Basic user name".into()));
                }
                (id.as_str(), Some(secret.as_str()))
            }
            (None, s) => match form_id {
                Some(id) => (id, s),
                None => return Err(bad("client authentication is required (RFC 6749 §3.2.1)")),
            },
        };
        let t = self.scim.tenancy().read();
        let app = t.oauth_apps.get(client_id).ok_or_else(|| bad("unknown client or wrong secret"))?;
        match (app.client_type.as_str(), secret) {
            // Some libraries send public clients as Basic `client_id:` with an empty secret: that is no secret.
            ("public", None) | ("public", Some("")) => Ok(app.clone()),
            ("public", Some(_)) => Err(bad("public clients have no secret; send only client_id")),
            (_, None) => Err(bad("this confidential client must authenticate (RFC 6749 §3.2.1)")),
            (_, Some(s)) => {
                let h = hash_token(s);
                let now = self.now();
                // Every live secret is compared, in constant time, so timing shows neither which matched nor how
                // much of a guess was right.
                let mut ok = subtle::Choice::from(0);
                for rec in app.secrets.iter().filter(|r| r.expires_at.as_deref().is_none_or(|e| e > now.as_str())) {
                    ok |= rec.hash.ct_eq(&h);
                }
                if bool::from(ok) { Ok(app.clone()) } else { Err(bad("unknown client or wrong secret")) }
            }
        }
    }

    // ----- the token endpoint -----

    /// `POST /oauth/token` (RFC 6749 §4.1.3, §6).
    pub async fn token(&self, auth: &ClientAuth, form: &Params, issuer: &str) -> OAuthResult<TokenResponse> {
        let grant_type = form.require("grant_type")?;
        let app = self.authenticate_client(auth, form)?;
        match grant_type {
            "authorization_code" => self.exchange_code(&app, form, issuer).await,
            "refresh_token" => self.refresh(&app, form, issuer).await,
            JWT_BEARER => self.jwt_bearer(&app, form, issuer).await,
            other => Err(OAuthError::UnsupportedGrantType(format!(
                "grant_type {other:?} is not supported; use authorization_code, refresh_token or {JWT_BEARER}"
            ))),
        }
    }

    fn sign_access(
        &self,
        t: &Tenancy,
        grant: &OAuthGrantRecord,
        ws: &str,
        scope: &str,
        issuer: &str,
    ) -> OAuthResult<(String, i64)> {
        let key = t.signing_keys.last().ok_or_else(|| OAuthError::ServerError("no signing key".into()))?;
        let now = self.clock.now();
        let claims = AccessClaims {
            iss: issuer.to_owned(),
            sub: grant.member_id.clone(),
            aud: issuer.to_owned(),
            exp: (now + self.settings.access_ttl).timestamp(),
            iat: now.timestamp(),
            jti: new_id("at"),
            client_id: grant.app_id.clone(),
            scope: scope.to_owned(),
            workspace_id: ws.to_owned(),
            grant_id: grant.id.clone(),
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        header.typ = Some(ACCESS_TOKEN_TYP.into());
        let enc = jsonwebtoken::EncodingKey::from_ec_der(&key.private_der);
        let jwt = jsonwebtoken::encode(&header, &claims, &enc)
            .map_err(|e| OAuthError::ServerError(format!("signing failed: {e}")))?;
        Ok((jwt, self.settings.access_ttl.num_seconds()))
    }

    /// The member a grant is for, if they still exist, are active, and belong to the app's workspace.
    fn live_member<'t>(t: &'t Tenancy, app: &OAuthAppRecord, member_id: &str) -> Option<&'t MemberRecord> {
        t.members.get(member_id).filter(|m| m.active && m.workspace_id == app.workspace_id)
    }

    fn revoke_grant(grant: &OAuthGrantRecord, now: &str) -> Write {
        Write::PutOAuthGrant(OAuthGrantRecord { revoked_at: Some(now.to_owned()), ..grant.clone() })
    }

    async fn exchange_code(&self, app: &OAuthAppRecord, form: &Params, issuer: &str) -> OAuthResult<TokenResponse> {
        let code = form.require("code")?;
        let redirect_uri = form.get("redirect_uri")?;
        let verifier = form.get("code_verifier")?;
        self.admin.ensure_signing_key().await?;
        let hash = hash_token(code);
        let refresh = new_secret("idc_rt_");
        let now_t = self.clock.now();
        let now = format_datetime(now_t);
        // A refused exchange may still have to write (a replayed code revokes what it issued), so the closure
        // returns the batch and the outcome separately.
        self.scim
            .admin_write(None, |t| {
                let invalid = |m: &str| -> Decided { Ok((vec![], Err(OAuthError::InvalidGrant(m.into())))) };
                let Some(c) = t.oauth_code(&hash) else {
                    return invalid("the authorization code is unknown");
                };
                // RFC 6749 §4.1.3: the code must have been issued to the authenticated client.
                if c.app_id != app.id {
                    return invalid("the authorization code was issued to another client");
                }
                if c.used_at.is_some() {
                    // RFC 6749 §4.1.2: a second use is refused, and the tokens of the first SHOULD be revoked.
                    let batch = c
                        .grant_id
                        .as_ref()
                        .and_then(|g| t.oauth_grants.get(g))
                        .filter(|g| g.revoked_at.is_none())
                        .map(|g| vec![Self::revoke_grant(g, &now)])
                        .unwrap_or_default();
                    return Ok((
                        batch,
                        Err(OAuthError::InvalidGrant(
                            "the authorization code was already used; the tokens it issued are revoked".into(),
                        )),
                    ));
                }
                if c.expires_at.as_str() <= now.as_str() {
                    return invalid("the authorization code has expired");
                }
                // RFC 6749 §4.1.3: redirect_uri is required, and identical, if the authorization request had it.
                match redirect_uri {
                    Some(r) if r != c.redirect_uri => {
                        return invalid("redirect_uri differs from the one of the authorization request");
                    }
                    None if c.redirect_uri_given => {
                        return Ok((
                            vec![],
                            Err(OAuthError::InvalidRequest(
                                "redirect_uri is required: the authorization request included it (RFC 6749 §4.1.3)"
                                    .into(),
                            )),
                        ));
                    }
                    _ => {}
                }
                match (&c.challenge, &c.challenge_method, verifier) {
                    (Some(ch), Some(m), Some(v)) => {
                        if !pkce_form_ok(v) || !pkce_matches(m, ch, v) {
                            return invalid("the code_verifier does not match the code_challenge (RFC 7636 §4.6)");
                        }
                    }
                    (Some(_), _, None) => {
                        return invalid("code_verifier is required: the authorization request had a code_challenge");
                    }
                    // RFC 9700 §2.1.1, §4.8.2: a verifier for a code issued without a challenge is a downgrade.
                    (None, _, Some(_)) => {
                        return invalid("code_verifier sent, but the authorization request had no code_challenge");
                    }
                    (None, _, None) => {}
                    (Some(_), None, Some(_)) => return invalid("the code's challenge method is unknown"),
                }
                let Some(member) = Self::live_member(t, app, &c.member_id) else {
                    return invalid("the user of this code is no longer active");
                };
                // The role is checked again: it may have changed since consent.
                let role = Role::parse(&member.role).unwrap_or(Role::Member);
                let (scopes, _) = trim_by_role(&split_scope(&c.scope), role);
                let grant = OAuthGrantRecord {
                    id: new_id("grant"),
                    app_id: app.id.clone(),
                    member_id: member.id.clone(),
                    scope: scopes.join(" "),
                    current: hash_token(&refresh),
                    rotated: vec![],
                    created: now.clone(),
                    expires_at: format_datetime(now_t + self.settings.refresh_ttl),
                    revoked_at: None,
                };
                let (access_token, expires_in) =
                    match self.sign_access(t, &grant, &member.workspace_id, &grant.scope, issuer) {
                        Ok(x) => x,
                        Err(e) => return Err(e),
                    };
                let used =
                    OAuthCodeRecord { used_at: Some(now.clone()), grant_id: Some(grant.id.clone()), ..c.clone() };
                let resp = TokenResponse {
                    access_token,
                    token_type: "Bearer",
                    expires_in,
                    refresh_token: Some(refresh.clone()),
                    scope: grant.scope.clone(),
                };
                Ok((vec![Write::PutOAuthCode(used), Write::PutOAuthGrant(grant)], Ok(resp)))
            })
            .await?
    }

    async fn refresh(&self, app: &OAuthAppRecord, form: &Params, issuer: &str) -> OAuthResult<TokenResponse> {
        let presented = form.require("refresh_token")?;
        let scope = form.get("scope")?.map(split_scope);
        self.admin.ensure_signing_key().await?;
        let hash = hash_token(presented);
        let next = new_secret("idc_rt_");
        let now = self.now();
        self.scim
            .admin_write(None, |t| {
                let invalid = |m: &str| -> Decided { Ok((vec![], Err(OAuthError::InvalidGrant(m.into())))) };
                let Some((g, current)) = t.grant_by_refresh(&hash) else {
                    return invalid("the refresh token is unknown");
                };
                // RFC 6749 §6: the refresh token must belong to the authenticated client.
                if g.app_id != app.id {
                    return invalid("the refresh token was issued to another client");
                }
                if g.revoked_at.is_some() {
                    return invalid("the refresh token was revoked");
                }
                if !current {
                    // RFC 9700 §4.14.2: a rotated-out token presented again means it leaked; the whole family is
                    // revoked, the attacker's tokens and the legitimate client's alike.
                    return Ok((
                        vec![Self::revoke_grant(g, &now)],
                        Err(OAuthError::InvalidGrant(
                            "the refresh token was already used; its whole family is revoked (RFC 9700 §4.14.2)".into(),
                        )),
                    ));
                }
                if g.expires_at.as_str() <= now.as_str() {
                    return invalid("the refresh token has expired");
                }
                let Some(member) = Self::live_member(t, app, &g.member_id) else {
                    return invalid("the user of this grant is no longer active");
                };
                let granted = split_scope(&g.scope);
                // RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted.
                let asked = match &scope {
                    Some(s) => {
                        if let Some(bad) = s.iter().find(|x| !granted.contains(x)) {
                            return Ok((
                                vec![],
                                Err(OAuthError::InvalidScope(format!(
                                    "scope {bad:?} was not granted to this refresh token (RFC 6749 §6)"
                                ))),
                            ));
                        }
                        s.clone()
                    }
                    None => granted.clone(),
                };
                let role = Role::parse(&member.role).unwrap_or(Role::Member);
                let (asked, _) = trim_by_role(&asked, role);
                let mut rotated = g.rotated.clone();
                rotated.push(g.current);
                // The refresh token keeps the grant's scope (RFC 6749 §6); only the access token is narrowed.
                let grant = OAuthGrantRecord { current: hash_token(&next), rotated, ..g.clone() };
                let access_scope = asked.join(" ");
                let (access_token, expires_in) =
                    self.sign_access(t, &grant, &member.workspace_id, &access_scope, issuer)?;
                let resp = TokenResponse {
                    access_token,
                    token_type: "Bearer",
                    expires_in,
                    refresh_token: Some(next.clone()),
                    scope: access_scope,
                };
                Ok((vec![Write::PutOAuthGrant(grant)], Ok(resp)))
            })
            .await?
    }

    /// The JWT bearer grant (RFC 7523 §2.1): an assertion signed with a key the app registered (`jwks`), with
    /// `iss` = the client, `sub` = a member of the app's workspace (id or email), `aud` = the token endpoint or the
    /// issuer, a near `exp`, and a `jti` that is never accepted twice. No refresh token is issued.
    async fn jwt_bearer(&self, app: &OAuthAppRecord, form: &Params, issuer: &str) -> OAuthResult<TokenResponse> {
        let assertion = form.require("assertion")?;
        let scope = form.get("scope")?.map(split_scope);
        self.admin.ensure_signing_key().await?;
        let bad = |m: &str| OAuthError::InvalidGrant(format!("{m} (RFC 7523 §3)"));
        let jwks = app.jwks.as_ref().ok_or_else(|| {
            OAuthError::UnauthorizedClient("this app registered no keys for the JWT bearer grant".into())
        })?;
        let set: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(jwks.clone()).map_err(|_| OAuthError::ServerError("unreadable app keys".into()))?;
        // decode_header refuses `alg: none` (not a jsonwebtoken Algorithm): unsigned assertions never pass.
        let header = jsonwebtoken::decode_header(assertion).map_err(|_| bad("the assertion is not a signed JWT"))?;
        use jsonwebtoken::Algorithm::{HS256, HS384, HS512};
        if matches!(header.alg, HS256 | HS384 | HS512) {
            // Only registered public keys can sign (RFC 7523 §3 item 9; RFC 8725 §3.1: no algorithm confusion).
            return Err(bad("the assertion must be signed with an asymmetric key"));
        }
        let jwk = match &header.kid {
            Some(kid) => set.find(kid),
            None if set.keys.len() == 1 => set.keys.first(),
            None => None,
        }
        .ok_or_else(|| bad("the assertion's key is not registered for this app"))?;
        if jwk.common.key_algorithm.is_some_and(|a| a.to_string() != format!("{:?}", header.alg)) {
            return Err(bad("the assertion's alg differs from its key's"));
        }
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk).map_err(|_| bad("the registered key is unusable"))?;
        let token_endpoint = format!("{issuer}/oauth/token");
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.set_audience(&[token_endpoint.as_str(), issuer]);
        v.set_issuer(&[app.id.as_str()]);
        v.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        let claims = jsonwebtoken::decode::<Value>(assertion, &key, &v)
            .map_err(|e| bad(&format!("the assertion is not valid: {e}")))?
            .claims;
        let now = self.clock.now().timestamp();
        let num = |k: &str| claims.get(k).and_then(Value::as_i64);
        let exp = num("exp").ok_or_else(|| bad("exp is missing"))?;
        if exp <= now {
            return Err(bad("the assertion has expired"));
        }
        if exp - num("iat").unwrap_or(now).min(now) > MAX_ASSERTION_LIFETIME {
            return Err(bad("the assertion lives too long; at most an hour"));
        }
        if num("nbf").is_some_and(|n| n > now) || num("iat").is_some_and(|i| i > now + 60) {
            return Err(bad("the assertion is not valid yet"));
        }
        let jti = claims.get("jti").and_then(Value::as_str).ok_or_else(|| bad("jti is required, to refuse replays"))?;
        let sub = claims.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
        let seen = format!("assertion:{}:{jti}", app.id);
        let nonce = new_secret("");
        self.scim
            .admin_write(None, |t| -> Decided {
                if t.jti_revoked(&seen) {
                    return Ok((vec![], Err(bad("the assertion's jti was already used"))));
                }
                let member = t
                    .members
                    .values()
                    .filter(|m| m.active && m.workspace_id == app.workspace_id)
                    .find(|m| m.id == sub || m.email.eq_ignore_ascii_case(&sub));
                let Some(member) = member else {
                    return Ok((vec![], Err(bad("sub is not an active member of the app's workspace"))));
                };
                let asked = scope.clone().unwrap_or_else(|| app.allowed_scopes.clone());
                if let Some(s) = asked.iter().find(|s| !app.allowed_scopes.contains(s)) {
                    return Ok((
                        vec![],
                        Err(OAuthError::InvalidScope(format!("scope {s:?} is not allowed for this app"))),
                    ));
                }
                let (granted, _) = trim_by_role(&asked, Role::parse(&member.role).unwrap_or(Role::Member));
                if granted.is_empty() {
                    return Ok((vec![], Err(OAuthError::InvalidScope("none of the scopes may be granted".into()))));
                }
                let now_s = self.now();
                // A grant without a usable refresh token: its `current` hashes a secret nobody was given. It exists
                // so the access token can be revoked like any other.
                let grant = OAuthGrantRecord {
                    id: new_id("grant"),
                    app_id: app.id.clone(),
                    member_id: member.id.clone(),
                    scope: granted.join(" "),
                    current: hash_token(&nonce),
                    rotated: vec![],
                    created: now_s.clone(),
                    expires_at: format_datetime(self.clock.now() + self.settings.access_ttl),
                    revoked_at: None,
                };
                let (access_token, expires_in) =
                    self.sign_access(t, &grant, &member.workspace_id, &grant.scope, issuer)?;
                let resp = TokenResponse {
                    access_token,
                    token_type: "Bearer",
                    expires_in,
                    refresh_token: None,
                    scope: grant.scope.clone(),
                };
                let batch = vec![
                    Write::PutRevokedJti(RevokedJtiRecord { jti: seen.clone(), expires_at: exp }),
                    Write::PutOAuthGrant(grant),
                ];
                Ok((batch, Ok(resp)))
            })
            .await?
    }

    // ----- access tokens -----

    fn decode_access(&self, t: &Tenancy, token: &str, issuer: &str) -> Option<AccessClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        // RFC 9068 §4: the `typ` must be at+jwt and the algorithm the expected one (never `none`, RFC 8725 §3.1).
        if header.alg != jsonwebtoken::Algorithm::ES256 || header.typ.as_deref() != Some(ACCESS_TOKEN_TYP) {
            return None;
        }
        let kid = header.kid?;
        let key = crate::admin::auth::verifying_keys(&t.signing_keys, self.clock.now())
            .iter()
            .find(|k| k.kid == kid && k.alg == JWT_ALG)?;
        let cached = self.verifying.read().get(&key.kid).cloned();
        let dec = match cached {
            Some(d) => d,
            None => {
                let (x, y) = public_xy(key).ok()?;
                use base64::Engine;
                let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let d = jsonwebtoken::DecodingKey::from_ec_components(&b64.encode(x), &b64.encode(y)).ok()?;
                self.verifying.write().insert(key.kid.clone(), d.clone());
                d
            }
        };
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        // Expiry is checked against the injected clock by the caller.
        v.validate_exp = false;
        v.validate_nbf = false;
        v.set_audience(&[issuer]);
        v.set_issuer(&[issuer]);
        v.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
        jsonwebtoken::decode::<AccessClaims>(token, &dec, &v).ok().map(|d| d.claims)
    }

    /// Verifies an access token: signature, `typ`, issuer and audience, expiry by the injected clock, and that
    /// nothing it depends on was revoked or deleted since (its `jti`, its grant, its app, its member). Every failure
    /// is the same `invalid_token` (RFC 6750 §3.1).
    pub fn verify_access(&self, token: &str, issuer: &str) -> OAuthResult<AccessInfo> {
        let invalid = || OAuthError::InvalidToken("the access token is not valid".into());
        let t = self.scim.tenancy().read();
        let c = self.decode_access(&t, token, issuer).ok_or_else(invalid)?;
        if c.exp <= self.clock.now().timestamp() || t.jti_revoked(&c.jti) {
            return Err(invalid());
        }
        let g = t.oauth_grants.get(&c.grant_id).filter(|g| g.revoked_at.is_none() && g.app_id == c.client_id);
        let app = t.oauth_apps.get(&c.client_id);
        let (Some(_), Some(app)) = (g, app) else { return Err(invalid()) };
        let member =
            Self::live_member(&t, app, &c.sub).filter(|m| m.workspace_id == c.workspace_id).ok_or_else(invalid)?;
        Ok(AccessInfo { member: member.clone(), claims: c })
    }

    /// The management-API principal of an OAuth access token with the `admin` scope (the member's current role
    /// still gates every route).
    pub fn admin_principal(&self, token: &str, issuer: &str) -> OAuthResult<Principal> {
        let info = self.verify_access(token, issuer)?;
        if !info.has_scope(SCOPE_ADMIN) {
            return Err(OAuthError::InsufficientScope {
                msg: "the token lacks the admin scope".into(),
                scope: SCOPE_ADMIN,
            });
        }
        Ok(Principal {
            member_id: info.member.id.clone(),
            workspace_id: info.member.workspace_id.clone(),
            role: Role::parse(&info.member.role).unwrap_or(Role::Member),
            via: AuthVia::Bearer,
        })
    }

    /// `GET /oauth/userinfo`: the signed-in user's profile; needs `user.read`.
    pub fn userinfo(&self, token: Option<&str>, issuer: &str) -> OAuthResult<Value> {
        let token = token.ok_or_else(|| OAuthError::MissingToken("an access token is required".into()))?;
        let info = self.verify_access(token, issuer)?;
        if !info.has_scope(SCOPE_USER_READ) {
            return Err(OAuthError::InsufficientScope {
                msg: format!("the access token lacks the {SCOPE_USER_READ} scope"),
                scope: SCOPE_USER_READ,
            });
        }
        let m = &info.member;
        Ok(json!({
            "sub": m.id,
            "email": m.email,
            "workspace_id": m.workspace_id,
            "role": m.role,
            "active": m.active,
        }))
    }

    // ----- revocation and introspection -----

    /// `POST /oauth/revoke` (RFC 7009 §2.1): revoking a refresh token revokes its grant and so every access token
    /// of it; revoking an access token remembers its `jti`. Unknown tokens, and tokens of other clients, are
    /// answered like success (RFC 7009 §2.2) and change nothing.
    pub async fn revoke(&self, auth: &ClientAuth, form: &Params, issuer: &str) -> OAuthResult<()> {
        let app = self.authenticate_client(auth, form)?;
        let token = form.require("token")?;
        // RFC 7009 §2.1: the hint only speeds up the lookup; both kinds are tried whatever it says.
        form.get("token_type_hint")?;
        let hash = hash_token(token);
        let now = self.now();
        self.scim
            .admin_write(None, |t| {
                if let Some((g, _)) = t.grant_by_refresh(&hash) {
                    if g.app_id == app.id && g.revoked_at.is_none() {
                        return Ok::<_, OAuthError>((vec![Self::revoke_grant(g, &now)], ()));
                    }
                    return Ok((vec![], ()));
                }
                if let Some(c) = self.decode_access(t, token, issuer)
                    && c.client_id == app.id
                    && !t.jti_revoked(&c.jti)
                {
                    return Ok((vec![Write::PutRevokedJti(RevokedJtiRecord { jti: c.jti, expires_at: c.exp })], ()));
                }
                Ok((vec![], ()))
            })
            .await
    }

    /// `POST /oauth/introspect` (RFC 7662 §2): any authenticated client of the token's workspace may ask; anything
    /// not currently valid is just `{"active": false}` (RFC 7662 §2.2).
    pub fn introspect(&self, auth: &ClientAuth, form: &Params, issuer: &str) -> OAuthResult<Value> {
        let app = self.authenticate_client(auth, form)?;
        let token = form.require("token")?;
        form.get("token_type_hint")?;
        let inactive = json!({"active": false});
        if let Ok(info) = self.verify_access(token, issuer) {
            if info.member.workspace_id != app.workspace_id {
                return Ok(inactive);
            }
            let c = info.claims;
            return Ok(json!({
                "active": true, "token_type": "Bearer", "scope": c.scope, "client_id": c.client_id,
                "sub": c.sub, "exp": c.exp, "iat": c.iat, "iss": c.iss, "aud": c.aud, "jti": c.jti,
                "username": info.member.email,
            }));
        }
        let t = self.scim.tenancy().read();
        let now = self.now();
        if let Some((g, true)) = t.grant_by_refresh(&hash_token(token)) {
            let live = g.revoked_at.is_none()
                && g.expires_at.as_str() > now.as_str()
                && t.oauth_apps.get(&g.app_id).is_some_and(|a| a.workspace_id == app.workspace_id)
                && t.members.get(&g.member_id).is_some_and(|m| m.active);
            if live {
                let exp = chrono::DateTime::parse_from_rfc3339(&g.expires_at).map(|d| d.timestamp()).unwrap_or(0);
                return Ok(json!({
                    "active": true, "token_type": "refresh_token", "scope": g.scope, "client_id": g.app_id,
                    "sub": g.member_id, "exp": exp, "iss": issuer,
                }));
            }
        }
        Ok(inactive)
    }

    // ----- metadata -----

    /// Authorization server metadata (RFC 8414 §2), listing only what is implemented.
    pub fn metadata(&self, issuer: &str) -> Value {
        let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/oauth/authorize"),
            "token_endpoint": format!("{issuer}/oauth/token"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "scopes_supported": SCOPES,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", JWT_BEARER],
            "token_endpoint_auth_methods_supported": auth_methods,
            "revocation_endpoint": format!("{issuer}/oauth/revoke"),
            "revocation_endpoint_auth_methods_supported": auth_methods,
            "introspection_endpoint": format!("{issuer}/oauth/introspect"),
            "introspection_endpoint_auth_methods_supported": auth_methods,
            // plain only for apps registered with allow_plain_pkce (RFC 9700 §2.1.1 prefers S256).
            "code_challenge_methods_supported": ["S256", "plain"],
            "authorization_response_iss_parameter_supported": true,
            "userinfo_endpoint": format!("{issuer}/oauth/userinfo"),
            "service_documentation": format!("{issuer}/docs"),
        })
    }

    /// Protected resource metadata (RFC 9728 §2) of the server's APIs.
    pub fn resource_metadata(&self, issuer: &str) -> Value {
        json!({
            "resource": issuer,
            "authorization_servers": [issuer],
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "scopes_supported": SCOPES,
            "bearer_methods_supported": ["header"],
            "resource_signing_alg_values_supported": [JWT_ALG],
            "resource_name": "idconform reference server",
        })
    }
}

/// The redirect URI carrying an error (RFC 6749 §4.1.2.1) with `state` and `iss` (RFC 9207 §2).
pub fn error_redirect_uri(redirect_uri: &str, e: &OAuthError, state: Option<&str>, issuer: &str) -> String {
    let desc = e.to_string();
    let mut params = vec![("error", e.code()), ("error_description", desc.as_str())];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", issuer));
    with_query(redirect_uri, &params)
}
