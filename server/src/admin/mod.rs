//! The management domain: workspaces and their plans, members and their roles, dashboard sessions, admin JWTs, SCIM
//! directories and their tokens. **Does not import axum or know about HTTP**: `http::admin` extracts credentials and
//! bodies, calls [`AdminService`], and converts its views and [`AdminError`]s.
//!
//! Every write goes through [`ScimService::admin_write`]: decide from the current records, commit one batch, then
//! change the in-memory records. Objects of another workspace are reported as not found, never as forbidden, so ids
//! do not leak across workspaces.

pub mod auth;
pub mod error;
pub mod input;
pub mod seed;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::clock::{Clock, format_datetime};
use crate::scim::service::ScimService;
use crate::store::{Batch, DirectoryRecord, MemberRecord, SessionRecord, TokenRecord, WorkspaceRecord, Write};
use crate::tenancy::{DEFAULT_SCIM_SCOPES, Tenancy, generate_token, hash_token, random_secret};
pub use error::{AdminError, AdminResult, FieldError};
use input::Obj;

/// A member's role in a workspace, least to most powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Uses the workspace; no management rights.
    Member,
    /// Manages members (except owners), directories and tokens.
    Admin,
    /// Everything an admin can, and grants or takes the owner role.
    Owner,
}

impl Role {
    /// The role names, as stored and on the wire.
    pub const NAMES: [&'static str; 3] = ["owner", "admin", "member"];

    /// Parses a stored or requested role name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

/// Plan names; SCIM provisioning (directories and tokens) is an enterprise feature.
pub const PLANS: [&str; 2] = ["free", "enterprise"];
/// What deleting a directory does to its members: remove them, or keep them deactivated.
pub const DEPROVISION_MODES: [&str; 2] = ["remove", "deactivate"];

/// The credentials a request presented; the HTTP layer fills it from the `Authorization` header, the session
/// cookie and the CSRF header.
#[derive(Default, Clone)]
pub struct Credentials {
    /// A bearer token (RFC 6750 §2.1).
    pub bearer: Option<String>,
    /// The session cookie's value (RFC 6265 §5.4).
    pub session: Option<String>,
    /// The CSRF header's value.
    pub csrf: Option<String>,
}

/// How a principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVia {
    /// A dashboard session cookie.
    Session,
    /// An admin bearer JWT.
    Bearer,
}

/// Who is calling, with the role they hold now (not when their token was issued).
#[derive(Debug, Clone)]
pub struct Principal {
    /// The member id.
    pub member_id: String,
    /// The member's workspace.
    pub workspace_id: String,
    /// The member's current role.
    pub role: Role,
    /// How they authenticated.
    pub via: AuthVia,
}

/// A workspace as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkspaceView {
    /// Workspace id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `free` or `enterprise`.
    pub plan: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// A member as the API shows it (never with a password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    /// Member id.
    pub id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Email address.
    pub email: String,
    /// `owner`, `admin` or `member`.
    pub role: String,
    /// False once the IdP deactivated the member.
    pub active: bool,
    /// `local` (a password account) or `scim` (provisioned by a directory).
    pub source: &'static str,
    /// The directory that provisioned the member, for `scim` members.
    pub scim_directory_id: Option<String>,
    /// The SCIM user id, for `scim` members.
    pub scim_user_id: Option<String>,
    /// Creation time.
    pub created_at: String,
}

/// A SCIM directory as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DirectoryView {
    /// Directory id.
    pub id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Display name.
    pub name: String,
    /// What deleting the directory does to its members: `remove` or `deactivate`.
    pub deprovision: String,
    /// The SCIM base URL to give the IdP.
    pub scim_base_url: String,
    /// How many members the directory has provisioned.
    pub member_count: usize,
    /// Creation time.
    pub created_at: String,
}

/// A directory with its new token, shown once.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct DirectoryWithToken {
    /// The directory.
    #[serde(flatten)]
    pub directory: DirectoryView,
    /// The bearer token; only its hash is kept, so it cannot be shown again.
    pub token: String,
    /// The new token's id.
    pub token_id: String,
}

/// A SCIM token as the API shows it (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    /// Token id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The workspace (tenant) the token belongs to.
    pub tenant_id: String,
    /// The directory the token opens.
    pub directory_id: String,
    /// `scim:read`, `scim:write`.
    pub scopes: Vec<String>,
    /// `active`, `expired` or `revoked`.
    pub status: &'static str,
    /// Creation time.
    pub created_at: String,
    /// Expiry, if any.
    pub expires_at: Option<String>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<String>,
}

/// A token with its secret, shown once.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct TokenWithSecret {
    /// The token's record.
    #[serde(flatten)]
    pub info: TokenView,
    /// The bearer token itself.
    pub token: String,
}

/// One page of tokens.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenPage {
    /// The tokens of this page, oldest first.
    pub items: Vec<TokenView>,
    /// 1-based page number.
    pub page: usize,
    /// Page size.
    pub per_page: usize,
    /// Number of tokens across all pages.
    pub total: usize,
}

/// What an admin pastes into an IdP's provisioning settings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointInfo {
    /// The SCIM base URL (Okta: "SCIM connector base URL"; Entra: "Tenant URL").
    pub scim_base_url: String,
    /// The directory, when one was named or the workspace has exactly one.
    pub directory_id: Option<String>,
    /// Authentication mode: `bearer` (Okta: "HTTP Header"; Entra: "Secret Token").
    pub authentication: &'static str,
    /// The header the IdP must send.
    pub header: &'static str,
    /// The unique identifier field for users.
    pub unique_identifier: &'static str,
    /// Provisioning actions the server supports.
    pub supported_actions: Vec<&'static str>,
    /// Per-IdP field names and values.
    #[schema(value_type = Object)]
    pub idp_settings: Value,
}

/// A logged-in session: the cookie value (set by the HTTP layer) and its CSRF token.
#[derive(Clone)]
pub struct LoginOutcome {
    /// The cookie value; only its hash is stored.
    pub session: String,
    /// What the client sends in `X-CSRF-Token` on state-changing requests.
    pub csrf_token: String,
    /// Who logged in.
    pub member: MemberView,
    /// When the session ends.
    pub expires_at: String,
}

/// The session's view of itself (`GET /api/v1/session`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Who is logged in.
    pub member: MemberView,
    /// Their workspace.
    pub workspace: WorkspaceView,
    /// The CSRF token of this session (present only for cookie sessions).
    pub csrf_token: Option<String>,
}

/// Query of the token list.
#[derive(Debug, Default, Clone)]
pub struct TokenQuery {
    /// `page` (1-based).
    pub page: Option<String>,
    /// `per_page`.
    pub per_page: Option<String>,
    /// `tenant_id`: a workspace id; another workspace's is 404.
    pub tenant_id: Option<String>,
    /// `directory_id`: only this directory's tokens.
    pub directory_id: Option<String>,
}

/// Secrets never reach logs, even through `{:?}`.
const REDACTED: &str = "[redacted]";

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = |o: &Option<String>| o.as_ref().map(|_| REDACTED);
        f.debug_struct("Credentials")
            .field("bearer", &r(&self.bearer))
            .field("session", &r(&self.session))
            .field("csrf", &r(&self.csrf))
            .finish()
    }
}

impl std::fmt::Debug for DirectoryWithToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectoryWithToken")
            .field("directory", &self.directory)
            .field("token", &REDACTED)
            .field("token_id", &self.token_id)
            .finish()
    }
}

impl std::fmt::Debug for TokenWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenWithSecret").field("info", &self.info).field("token", &REDACTED).finish()
    }
}

impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginOutcome")
            .field("session", &REDACTED)
            .field("csrf_token", &REDACTED)
            .field("member", &self.member)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

fn ws_view(w: &WorkspaceRecord) -> WorkspaceView {
    WorkspaceView { id: w.id.clone(), name: w.name.clone(), plan: w.plan.clone(), created_at: w.created.clone() }
}

fn member_view(m: &MemberRecord) -> MemberView {
    MemberView {
        id: m.id.clone(),
        workspace_id: m.workspace_id.clone(),
        email: m.email.clone(),
        role: m.role.clone(),
        active: m.active,
        source: if m.scim_directory_id.is_some() { "scim" } else { "local" },
        scim_directory_id: m.scim_directory_id.clone(),
        scim_user_id: m.scim_user_id.clone(),
        created_at: m.created.clone(),
    }
}

fn token_status(t: &TokenRecord, now: &str) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.as_deref().is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    }
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// The management service.
#[derive(Debug)]
pub struct AdminService {
    scim: Arc<ScimService>,
    clock: Arc<dyn Clock>,
    issuer: String,
}

impl AdminService {
    /// A service over the same records the SCIM service serves; `issuer` is the `iss` of admin JWTs.
    pub fn new(scim: Arc<ScimService>, clock: Arc<dyn Clock>, issuer: String) -> Self {
        AdminService { scim, clock, issuer }
    }

    fn now(&self) -> String {
        format_datetime(self.clock.now())
    }

    // ----- authentication and authorisation -----

    /// Resolves credentials to a principal. A bearer token wins over a cookie; a cookie session must present its
    /// CSRF token on state-changing requests (403 otherwise), while a bearer token cannot be sent by a browser on
    /// its own and so needs none.
    pub fn authenticate(&self, creds: &Credentials, state_changing: bool) -> AdminResult<Principal> {
        let t = self.scim.tenancy().read();
        let (member, via) = if let Some(bearer) = &creds.bearer {
            let now = self.clock.now();
            let claims = auth::verify(auth::verifying_keys(&t.signing_keys, now), bearer, now.timestamp())?;
            let m = t
                .members
                .get(&claims.sub)
                .filter(|m| m.workspace_id == claims.workspace_id)
                .ok_or_else(|| AdminError::Unauthorized("the token's member no longer exists".into()))?;
            (m, AuthVia::Bearer)
        } else if let Some(session) = &creds.session {
            let s = t
                .session(session, &self.now())
                .ok_or_else(|| AdminError::Unauthorized("the session has expired or was ended; log in again".into()))?;
            let m = t
                .members
                .get(&s.member_id)
                .ok_or_else(|| AdminError::Unauthorized("the session's member no longer exists".into()))?;
            if state_changing && !creds.csrf.as_deref().is_some_and(|c| auth::csrf_matches(session, c)) {
                return Err(AdminError::Csrf(format!(
                    "a state-changing request with a session cookie needs the session's CSRF token in the {} header",
                    "X-CSRF-Token"
                )));
            }
            (m, AuthVia::Session)
        } else {
            return Err(AdminError::Unauthorized(
                "log in (session cookie) or send an admin bearer token (Authorization: Bearer <jwt>)".into(),
            ));
        };
        if !member.active {
            return Err(AdminError::Unauthorized("the member is deactivated".into()));
        }
        Ok(Principal {
            member_id: member.id.clone(),
            workspace_id: member.workspace_id.clone(),
            role: Role::parse(&member.role).unwrap_or(Role::Member),
            via,
        })
    }

    fn require_admin(p: &Principal) -> AdminResult<()> {
        if p.role >= Role::Admin {
            Ok(())
        } else {
            Err(AdminError::Forbidden("only workspace admins and owners may do this".into()))
        }
    }

    /// Admin or owner, on the enterprise plan: the gate of every directory and token route.
    fn require_scim_admin(&self, p: &Principal) -> AdminResult<()> {
        Self::require_admin(p)?;
        let t = self.scim.tenancy().read();
        match t.workspaces.get(&p.workspace_id) {
            Some(w) if w.plan == "enterprise" => Ok(()),
            Some(w) => Err(AdminError::PlanRequired(format!(
                "SCIM provisioning needs the enterprise plan; workspace {:?} is on the {} plan",
                w.id, w.plan
            ))),
            None => Err(AdminError::Unauthorized("the workspace no longer exists".into())),
        }
    }

    // ----- sessions -----

    /// Logs in with email and password (local accounts only). `workspace_id` is needed only when the email has
    /// local accounts in several workspaces.
    pub async fn login(&self, body: &Value) -> AdminResult<LoginOutcome> {
        let mut o = Obj::new(body, &["email", "password", "workspace_id"])?;
        let email = o.string("email", true, 320);
        // The password is taken as it is (not trimmed); `Obj::string` only reports why it is invalid.
        let password = match body.get("password") {
            Some(Value::String(p)) if !p.is_empty() => Some(p.clone()),
            _ => {
                o.string("password", true, 1024);
                None
            }
        };
        let workspace = o.string("workspace_id", false, 200);
        o.finish()?;
        let (Some(email), Some(password)) = (email, password) else {
            return Err(AdminError::Internal("validated fields are missing".into()));
        };
        self.check_sso_required(&email, workspace.as_deref())?;
        let candidate = {
            let t = self.scim.tenancy().read();
            let found: Vec<&MemberRecord> = t
                .members
                .values()
                .filter(|m| m.password_hash.is_some() && m.email.eq_ignore_ascii_case(&email))
                .filter(|m| workspace.as_ref().is_none_or(|w| &m.workspace_id == w))
                .collect();
            if found.len() > 1 {
                return Err(AdminError::field(
                    &["body", "workspace_id"],
                    "this email has accounts in several workspaces; name the workspace",
                    "missing",
                ));
            }
            found.first().map(|m| (*m).clone())
        };
        let ok = auth::verify_password(candidate.as_ref().and_then(|m| m.password_hash.clone()), password).await;
        let member = match candidate {
            Some(m) if ok && m.active => m,
            _ => return Err(AdminError::Unauthorized("invalid email or password".into())),
        };
        self.open_session(&member).await
    }

    /// Whether password log-in is refused for `email` because a workspace enforces SAML for its domain: when the
    /// request names that workspace or none (naming another workspace logs in there). Decided from the domain
    /// alone, before any account is looked up, so the answer says nothing about who has an account.
    fn check_sso_required(&self, email: &str, workspace: Option<&str>) -> AdminResult<()> {
        let t = self.scim.tenancy().read();
        match t.saml_enforced_for(email) {
            Some(s) if workspace.is_none_or(|w| w == s.workspace_id) => {
                let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
                Err(AdminError::SsoRequired(format!(
                    "workspace {ws:?} requires SAML single sign-on for {domain}; sign in at /saml/authorize/{ws}",
                    ws = s.workspace_id
                )))
            }
            _ => Ok(()),
        }
    }

    /// Opens a dashboard session for `member` (after a password or a SAML log-in): its cookie value, shown once,
    /// and CSRF token.
    pub async fn open_session(&self, member: &MemberRecord) -> AdminResult<LoginOutcome> {
        let session = random_secret();
        let now = self.clock.now();
        let rec = SessionRecord {
            hash: hash_token(&session),
            member_id: member.id.clone(),
            created: format_datetime(now),
            expires_at: format_datetime(now + auth::SESSION_TTL),
        };
        let expires_at = rec.expires_at.clone();
        let now = rec.created.clone();
        self.scim
            .admin_write(None, |t| {
                // Logging in also drops the member's expired sessions, so they do not pile up.
                let mut batch: Batch = t
                    .expired_sessions(&member.id, &now)
                    .into_iter()
                    .map(|hash| Write::DeleteSession { hash })
                    .collect();
                batch.push(Write::PutSession(rec));
                Ok::<_, AdminError>((batch, ()))
            })
            .await?;
        Ok(LoginOutcome { csrf_token: auth::csrf_token(&session), session, member: member_view(member), expires_at })
    }

    /// Ends every session of these members (an IdP's single logout); returns how many ended.
    pub async fn end_sessions_of(&self, member_ids: &[String]) -> AdminResult<usize> {
        self.scim
            .admin_write(None, |t| {
                let batch: Batch = member_ids
                    .iter()
                    .flat_map(|m| t.sessions_of(m))
                    .map(|hash| Write::DeleteSession { hash })
                    .collect();
                let n = batch.len();
                Ok::<_, AdminError>((batch, n))
            })
            .await
    }

    /// Ends a session (its cookie stops working at once).
    pub async fn logout(&self, session: &str) -> AdminResult<()> {
        let hash = hash_token(session);
        self.scim.admin_write(None, |_| Ok::<_, AdminError>((vec![Write::DeleteSession { hash }], ()))).await
    }

    /// Who the caller is, with the CSRF token of their session.
    pub fn session_info(&self, p: &Principal, creds: &Credentials) -> AdminResult<SessionView> {
        let t = self.scim.tenancy().read();
        let m = t.members.get(&p.member_id).ok_or_else(|| AdminError::Unauthorized("no such member".into()))?;
        let w =
            t.workspaces.get(&p.workspace_id).ok_or_else(|| AdminError::Unauthorized("no such workspace".into()))?;
        let csrf_token = match p.via {
            AuthVia::Session => creds.session.as_deref().map(auth::csrf_token),
            AuthVia::Bearer => None,
        };
        Ok(SessionView { member: member_view(m), workspace: ws_view(w), csrf_token })
    }

    // ----- admin JWTs -----

    /// The key that signs JWTs (admin tokens and OAuth access tokens): created and stored on first use, and
    /// replaced by a fresh one once it has signed for [`auth::SIGNING_KEY_ROTATION`]; the retired key stays in the
    /// JWKS and keeps verifying for [`auth::RETIRED_KEY_GRACE`].
    pub async fn ensure_signing_key(&self) -> AdminResult<String> {
        let now = self.clock.now();
        {
            let t = self.scim.tenancy().read();
            if let Some(k) = t.signing_keys.last().filter(|_| !auth::rotation_due(&t.signing_keys, now)) {
                return Ok(k.kid.clone());
            }
        }
        let key = auth::new_signing_key(self.now())?;
        self.scim
            .admin_write(None, |t| {
                // Another caller may have created or rotated it while this one waited for the lock.
                if let Some(k) = t.signing_keys.last().filter(|_| !auth::rotation_due(&t.signing_keys, now)) {
                    return Ok::<_, AdminError>((vec![], k.kid.clone()));
                }
                Ok((vec![Write::PutSigningKey(key.clone())], key.kid.clone()))
            })
            .await
    }

    /// The public keys that verify the server's JWTs now (RFC 7517 §5): the signing key and the retired keys still
    /// in their grace period, for verifiers.
    pub fn jwks(&self) -> AdminResult<Value> {
        let t = self.scim.tenancy().read();
        let keys = auth::verifying_keys(&t.signing_keys, self.clock.now())
            .iter()
            .map(auth::public_jwk)
            .collect::<AdminResult<Vec<_>>>()?;
        Ok(serde_json::json!({ "keys": keys }))
    }

    /// Issues an admin bearer JWT for the admin or owner `email` of `workspace_id`, valid for `ttl_seconds` (at
    /// most a year).
    pub async fn issue_admin_token(&self, workspace_id: &str, email: &str, ttl_seconds: i64) -> AdminResult<String> {
        let ttl = chrono::Duration::seconds(ttl_seconds.clamp(1, 366 * 24 * 3600));
        self.ensure_signing_key().await?;
        let t = self.scim.tenancy().read();
        let m = t
            .members
            .values()
            .filter(|m| m.workspace_id == workspace_id && m.email.eq_ignore_ascii_case(email))
            .max_by_key(|m| Role::parse(&m.role))
            .ok_or_else(|| AdminError::NotFound(format!("no member {email:?} in workspace {workspace_id:?}")))?;
        if Role::parse(&m.role).unwrap_or(Role::Member) < Role::Admin || !m.active {
            return Err(AdminError::Forbidden(format!("{email} is not an active admin or owner of {workspace_id}")));
        }
        let key = t.signing_keys.last().ok_or_else(|| AdminError::Internal("no signing key".into()))?;
        let now = self.clock.now();
        let claims = auth::AdminClaims {
            iss: self.issuer.clone(),
            sub: m.id.clone(),
            aud: auth::ADMIN_AUDIENCE.into(),
            exp: (now + ttl).timestamp(),
            iat: now.timestamp(),
            jti: new_id("jwt"),
            scope: auth::ADMIN_SCOPE.into(),
            workspace_id: workspace_id.to_owned(),
        };
        auth::sign(key, &claims)
    }

    // ----- workspace and members -----

    /// The caller's workspace.
    pub fn workspace(&self, p: &Principal) -> AdminResult<WorkspaceView> {
        let t = self.scim.tenancy().read();
        t.workspaces.get(&p.workspace_id).map(ws_view).ok_or_else(|| AdminError::NotFound("no such workspace".into()))
    }

    /// Members of the caller's workspace, oldest first.
    pub fn list_members(&self, p: &Principal) -> AdminResult<Vec<MemberView>> {
        Self::require_admin(p)?;
        Ok(self.scim.members(&p.workspace_id).iter().map(member_view).collect())
    }

    fn member_in<'t>(t: &'t Tenancy, p: &Principal, id: &str) -> AdminResult<&'t MemberRecord> {
        t.members
            .get(id)
            .filter(|m| m.workspace_id == p.workspace_id)
            .ok_or_else(|| AdminError::NotFound(format!("member {id:?} not found")))
    }

    /// One member of the caller's workspace.
    pub fn get_member(&self, p: &Principal, id: &str) -> AdminResult<MemberView> {
        Self::require_admin(p)?;
        let t = self.scim.tenancy().read();
        Self::member_in(&t, p, id).map(member_view)
    }

    fn active_owners(t: &Tenancy, workspace_id: &str) -> usize {
        t.members.values().filter(|m| m.workspace_id == workspace_id && m.active && m.role == "owner").count()
    }

    /// Gives a member another role (`{"role": "admin"}`). Only owners grant or take the owner role; the last
    /// owner keeps it.
    pub async fn update_member(&self, p: &Principal, id: &str, body: &Value) -> AdminResult<MemberView> {
        Self::require_admin(p)?;
        let mut o = Obj::new(body, &["role"])?;
        let role = o.one_of("role", true, &Role::NAMES);
        o.finish()?;
        let role = role.and_then(|r| Role::parse(&r)).unwrap_or(Role::Member);
        let dir = self.scim.tenancy().read().members.get(id).and_then(|m| m.scim_directory_id.clone());
        self.scim
            .admin_write(dir.as_deref(), |t| {
                let m = Self::member_in(t, p, id)?;
                let current = Role::parse(&m.role).unwrap_or(Role::Member);
                if (current == Role::Owner || role == Role::Owner) && p.role != Role::Owner {
                    return Err(AdminError::Forbidden("only owners may grant or take the owner role".into()));
                }
                if current == Role::Owner && role != Role::Owner && Self::active_owners(t, &p.workspace_id) <= 1 {
                    return Err(AdminError::Conflict(
                        "this is the workspace's last owner; make another member owner first".into(),
                    ));
                }
                let rec = MemberRecord { role: role.as_str().into(), ..m.clone() };
                let view = member_view(&rec);
                Ok((if current == role { vec![] } else { vec![Write::PutMember(rec)] }, view))
            })
            .await
    }

    /// Removes a local member from the workspace. SCIM members are the IdP's to remove (409).
    pub async fn remove_member(&self, p: &Principal, id: &str) -> AdminResult<()> {
        Self::require_admin(p)?;
        self.scim
            .admin_write(None, |t| {
                let m = Self::member_in(t, p, id)?;
                if let Some(d) = &m.scim_directory_id
                    && t.directories.contains_key(d)
                {
                    return Err(AdminError::Conflict(format!(
                        "this member is provisioned by SCIM directory {d:?}; deprovision it in the IdP"
                    )));
                }
                if m.role == "owner" {
                    if p.role != Role::Owner {
                        return Err(AdminError::Forbidden("only owners may remove an owner".into()));
                    }
                    if m.active && Self::active_owners(t, &p.workspace_id) <= 1 {
                        return Err(AdminError::Conflict("the workspace's last owner cannot be removed".into()));
                    }
                }
                Ok((vec![Write::DeleteMember { id: m.id.clone() }], ()))
            })
            .await
    }

    // ----- directories -----

    fn directory_in<'t>(t: &'t Tenancy, p: &Principal, id: &str) -> AdminResult<&'t DirectoryRecord> {
        t.directories
            .get(id)
            .filter(|d| d.workspace_id == p.workspace_id)
            .ok_or_else(|| AdminError::NotFound(format!("directory {id:?} not found")))
    }

    fn directory_view(t: &Tenancy, d: &DirectoryRecord, base: &str) -> DirectoryView {
        DirectoryView {
            id: d.id.clone(),
            workspace_id: d.workspace_id.clone(),
            name: d.name.clone(),
            deprovision: d.deprovision.clone(),
            scim_base_url: base.to_owned(),
            member_count: t.members.values().filter(|m| m.scim_directory_id.as_deref() == Some(&d.id)).count(),
            created_at: d.created.clone(),
        }
    }

    fn check_directory_name(t: &Tenancy, workspace_id: &str, name: &str, except: Option<&str>) -> AdminResult<()> {
        let taken = t.directories.values().any(|d| {
            d.workspace_id == workspace_id && d.name.eq_ignore_ascii_case(name) && Some(d.id.as_str()) != except
        });
        if taken { Err(AdminError::Conflict(format!("a directory named {name:?} already exists"))) } else { Ok(()) }
    }

    fn token_record(
        &self,
        directory_id: &str,
        name: &str,
        scopes: Vec<String>,
        expires_at: Option<String>,
    ) -> (TokenRecord, String) {
        let token = generate_token();
        let rec = TokenRecord {
            id: new_id("tok"),
            directory_id: directory_id.to_owned(),
            name: name.to_owned(),
            hash: hash_token(&token),
            created: self.now(),
            expires_at,
            revoked_at: None,
            scopes,
        };
        (rec, token)
    }

    /// Creates a directory (`{"name": "Okta", "deprovision": "remove"}`) with its first token.
    pub async fn create_directory(&self, p: &Principal, body: &Value, base: &str) -> AdminResult<DirectoryWithToken> {
        self.require_scim_admin(p)?;
        let mut o = Obj::new(body, &["name", "deprovision"])?;
        let name = o.string("name", true, 200);
        let deprovision = o.one_of("deprovision", false, &DEPROVISION_MODES).unwrap_or_else(|| "remove".into());
        o.finish()?;
        let name = name.unwrap_or_default();
        let dir = DirectoryRecord {
            id: new_id("dir"),
            workspace_id: p.workspace_id.clone(),
            name: name.clone(),
            created: self.now(),
            deprovision,
        };
        let (tok, token) =
            self.token_record(&dir.id, "directory token", DEFAULT_SCIM_SCOPES.map(String::from).to_vec(), None);
        let token_id = tok.id.clone();
        self.scim
            .admin_write(None, |t| {
                Self::check_directory_name(t, &p.workspace_id, &name, None)?;
                let mut view = Self::directory_view(t, &dir, base);
                view.member_count = 0;
                Ok((vec![Write::PutDirectory(dir.clone()), Write::PutToken(tok)], view))
            })
            .await
            .map(|directory| DirectoryWithToken { directory, token, token_id })
    }

    /// The caller's directories, oldest first.
    pub fn list_directories(&self, p: &Principal, base: &str) -> AdminResult<Vec<DirectoryView>> {
        self.require_scim_admin(p)?;
        let t = self.scim.tenancy().read();
        let mut v: Vec<&DirectoryRecord> =
            t.directories.values().filter(|d| d.workspace_id == p.workspace_id).collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        Ok(v.into_iter().map(|d| Self::directory_view(&t, d, base)).collect())
    }

    /// One directory.
    pub fn get_directory(&self, p: &Principal, id: &str, base: &str) -> AdminResult<DirectoryView> {
        self.require_scim_admin(p)?;
        let t = self.scim.tenancy().read();
        Self::directory_in(&t, p, id).map(|d| Self::directory_view(&t, d, base))
    }

    /// Renames a directory or changes its deprovisioning mode.
    pub async fn update_directory(
        &self,
        p: &Principal,
        id: &str,
        body: &Value,
        base: &str,
    ) -> AdminResult<DirectoryView> {
        self.require_scim_admin(p)?;
        let mut o = Obj::new(body, &["name", "deprovision"])?;
        let name = o.string("name", false, 200);
        let deprovision = o.one_of("deprovision", false, &DEPROVISION_MODES);
        o.finish()?;
        self.scim
            .admin_write(None, |t| {
                let d = Self::directory_in(t, p, id)?;
                if let Some(n) = &name {
                    Self::check_directory_name(t, &p.workspace_id, n, Some(id))?;
                }
                let rec = DirectoryRecord {
                    name: name.clone().unwrap_or_else(|| d.name.clone()),
                    deprovision: deprovision.clone().unwrap_or_else(|| d.deprovision.clone()),
                    ..d.clone()
                };
                let view = Self::directory_view(t, &rec, base);
                Ok((if &rec == d { vec![] } else { vec![Write::PutDirectory(rec)] }, view))
            })
            .await
    }

    /// Deletes a directory: its tokens stop working, its SCIM data is gone, and its members are removed or
    /// deactivated as its `deprovision` setting says.
    pub async fn delete_directory(&self, p: &Principal, id: &str) -> AdminResult<()> {
        self.require_scim_admin(p)?;
        self.scim
            .admin_write(Some(id), |t| {
                let d = Self::directory_in(t, p, id)?;
                let mut batch: Batch = t
                    .members
                    .values()
                    .filter(|m| m.scim_directory_id.as_deref() == Some(id))
                    .map(|m| {
                        if d.deprovision == "deactivate" {
                            Write::PutMember(MemberRecord { active: false, ..m.clone() })
                        } else {
                            Write::DeleteMember { id: m.id.clone() }
                        }
                    })
                    .collect();
                batch.push(Write::DeleteDirectory { id: id.to_owned() });
                Ok((batch, ()))
            })
            .await
    }

    /// Revokes every live token of a directory and issues a new one, shown once; the old ones fail at once.
    pub async fn regenerate_directory_token(
        &self,
        p: &Principal,
        id: &str,
        base: &str,
    ) -> AdminResult<DirectoryWithToken> {
        self.require_scim_admin(p)?;
        let (tok, token) =
            self.token_record(id, "directory token", DEFAULT_SCIM_SCOPES.map(String::from).to_vec(), None);
        let token_id = tok.id.clone();
        let now = self.now();
        self.scim
            .admin_write(None, |t| {
                let d = Self::directory_in(t, p, id)?;
                let mut batch: Batch = t
                    .tokens()
                    .into_iter()
                    .filter(|k| k.directory_id == id && k.revoked_at.is_none())
                    .map(|k| Write::PutToken(TokenRecord { revoked_at: Some(now.clone()), ..k.clone() }))
                    .collect();
                batch.push(Write::PutToken(tok));
                Ok((batch, Self::directory_view(t, d, base)))
            })
            .await
            .map(|directory| DirectoryWithToken { directory, token, token_id })
    }

    // ----- SCIM tokens -----

    fn token_view(t: &Tenancy, k: &TokenRecord, now: &str) -> TokenView {
        TokenView {
            id: k.id.clone(),
            name: k.name.clone(),
            tenant_id: t.directories.get(&k.directory_id).map(|d| d.workspace_id.clone()).unwrap_or_default(),
            directory_id: k.directory_id.clone(),
            scopes: k.scopes.clone(),
            status: token_status(k, now),
            created_at: k.created.clone(),
            expires_at: k.expires_at.clone(),
            revoked_at: k.revoked_at.clone(),
        }
    }

    fn token_in<'t>(t: &'t Tenancy, p: &Principal, id: &str) -> AdminResult<&'t TokenRecord> {
        t.token_by_id(id)
            .filter(|k| t.directories.get(&k.directory_id).is_some_and(|d| d.workspace_id == p.workspace_id))
            .ok_or_else(|| AdminError::NotFound(format!("token {id:?} not found")))
    }

    /// A page of the workspace's tokens, revoked and expired ones included.
    pub fn list_tokens(&self, p: &Principal, q: &TokenQuery) -> AdminResult<TokenPage> {
        self.require_scim_admin(p)?;
        let mut errors = Vec::new();
        let page = input::query_int("page", q.page.as_deref(), 1, 1_000_000).map_err(|e| errors.push(e)).unwrap_or(1);
        let per_page =
            input::query_int("per_page", q.per_page.as_deref(), 20, 100).map_err(|e| errors.push(e)).unwrap_or(20);
        if !errors.is_empty() {
            return Err(AdminError::Invalid(errors));
        }
        let t = self.scim.tenancy().read();
        if let Some(tenant) = q.tenant_id.as_deref().filter(|s| !s.is_empty())
            && tenant != p.workspace_id
        {
            return Err(AdminError::NotFound(format!("tenant {tenant:?} not found")));
        }
        if let Some(d) = q.directory_id.as_deref().filter(|s| !s.is_empty()) {
            Self::directory_in(&t, p, d)?;
        }
        let now = self.now();
        let all: Vec<TokenView> = t
            .tokens()
            .into_iter()
            .filter(|k| t.directories.get(&k.directory_id).is_some_and(|d| d.workspace_id == p.workspace_id))
            .filter(|k| q.directory_id.as_deref().is_none_or(|d| d.is_empty() || k.directory_id == d))
            .map(|k| Self::token_view(&t, k, &now))
            .collect();
        let total = all.len();
        let items = all.into_iter().skip((page - 1).saturating_mul(per_page)).take(per_page).collect();
        Ok(TokenPage { items, page, per_page, total })
    }

    /// The directory a token request is about: the one named, or the workspace's only one.
    fn pick_directory(t: &Tenancy, p: &Principal, named: Option<&str>, loc: &[&str]) -> AdminResult<String> {
        if let Some(d) = named {
            return Self::directory_in(t, p, d).map(|d| d.id.clone());
        }
        let mine: Vec<&DirectoryRecord> = t.directories.values().filter(|d| d.workspace_id == p.workspace_id).collect();
        match mine.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(AdminError::field(loc, "the workspace has no SCIM directory; create one first", "missing")),
            _ => Err(AdminError::field(loc, "the workspace has several directories; name one", "missing")),
        }
    }

    /// Creates a token (`{"name", "directory_id"?, "expires_at"?, "scopes"?}`), shown once.
    pub async fn create_token(&self, p: &Principal, body: &Value) -> AdminResult<TokenWithSecret> {
        self.require_scim_admin(p)?;
        let mut o = Obj::new(body, &["name", "directory_id", "expires_at", "scopes"])?;
        let name = o.string("name", true, 200);
        let dir = o.string("directory_id", false, 200);
        let expires_at = o.datetime("expires_at").flatten();
        let scopes = o.string_list("scopes", &DEFAULT_SCIM_SCOPES);
        o.finish()?;
        let now = self.now();
        if expires_at.as_deref().is_some_and(|e| e <= now.as_str()) {
            return Err(AdminError::field(&["body", "expires_at"], "must be in the future", "value_error"));
        }
        let name = name.unwrap_or_default();
        let scopes = scopes.unwrap_or_else(|| DEFAULT_SCIM_SCOPES.map(String::from).to_vec());
        self.scim
            .admin_write(None, |t| {
                let dir_id = Self::pick_directory(t, p, dir.as_deref(), &["body", "directory_id"])?;
                Self::check_token_name(t, &dir_id, &name, None)?;
                let (rec, token) = self.token_record(&dir_id, &name, scopes, expires_at);
                let info = Self::token_view(t, &rec, &now);
                Ok((vec![Write::PutToken(rec)], TokenWithSecret { info, token }))
            })
            .await
    }

    fn check_token_name(t: &Tenancy, dir: &str, name: &str, except: Option<&str>) -> AdminResult<()> {
        let taken = t.tokens().into_iter().any(|k| {
            k.directory_id == dir && k.revoked_at.is_none() && k.name == name && Some(k.id.as_str()) != except
        });
        if taken {
            Err(AdminError::Conflict(format!("a live token named {name:?} already exists in this directory")))
        } else {
            Ok(())
        }
    }

    /// One token.
    pub fn get_token(&self, p: &Principal, id: &str) -> AdminResult<TokenView> {
        self.require_scim_admin(p)?;
        let t = self.scim.tenancy().read();
        Self::token_in(&t, p, id).map(|k| Self::token_view(&t, k, &self.now()))
    }

    /// Changes a token's name, expiry (`null` for none) or scopes. A revoked token cannot be changed (409).
    pub async fn update_token(&self, p: &Principal, id: &str, body: &Value) -> AdminResult<TokenView> {
        self.require_scim_admin(p)?;
        let mut o = Obj::new(body, &["name", "expires_at", "scopes"])?;
        let name = o.string("name", false, 200);
        let expires_at = o.datetime("expires_at");
        let scopes = o.string_list("scopes", &DEFAULT_SCIM_SCOPES);
        o.finish()?;
        let now = self.now();
        if expires_at.as_ref().and_then(Option::as_deref).is_some_and(|e| e <= now.as_str()) {
            return Err(AdminError::field(&["body", "expires_at"], "must be in the future", "value_error"));
        }
        self.scim
            .admin_write(None, |t| {
                let k = Self::token_in(t, p, id)?;
                if k.revoked_at.is_some() {
                    return Err(AdminError::Conflict("the token is revoked and cannot be changed".into()));
                }
                if let Some(n) = &name {
                    Self::check_token_name(t, &k.directory_id, n, Some(id))?;
                }
                let rec = TokenRecord {
                    name: name.clone().unwrap_or_else(|| k.name.clone()),
                    expires_at: expires_at.clone().unwrap_or_else(|| k.expires_at.clone()),
                    scopes: scopes.clone().unwrap_or_else(|| k.scopes.clone()),
                    ..k.clone()
                };
                let view = Self::token_view(t, &rec, &now);
                Ok((if &rec == k { vec![] } else { vec![Write::PutToken(rec)] }, view))
            })
            .await
    }

    /// Revokes a token (soft delete): it fails with 401 at once and stays listed as `revoked`. Idempotent.
    pub async fn revoke_token(&self, p: &Principal, id: &str) -> AdminResult<()> {
        self.require_scim_admin(p)?;
        let now = self.now();
        self.scim
            .admin_write(None, |t| {
                let k = Self::token_in(t, p, id)?;
                if k.revoked_at.is_some() {
                    return Ok((vec![], ()));
                }
                Ok((vec![Write::PutToken(TokenRecord { revoked_at: Some(now.clone()), ..k.clone() })], ()))
            })
            .await
    }

    /// What to paste into an IdP: the base URL and per-IdP settings.
    pub fn endpoint_info(&self, p: &Principal, directory_id: Option<&str>, base: &str) -> AdminResult<EndpointInfo> {
        self.require_scim_admin(p)?;
        let t = self.scim.tenancy().read();
        let directory_id = match directory_id.filter(|s| !s.is_empty()) {
            Some(d) => Some(Self::directory_in(&t, p, d)?.id.clone()),
            None => Self::pick_directory(&t, p, None, &["query", "directory_id"]).ok(),
        };
        Ok(EndpointInfo {
            scim_base_url: base.to_owned(),
            directory_id,
            authentication: "bearer",
            header: "Authorization: Bearer <token>",
            unique_identifier: "userName",
            supported_actions: vec!["create_users", "update_users", "deactivate_users", "delete_users", "push_groups"],
            idp_settings: serde_json::json!({
                "okta": {
                    "SCIM connector base URL": base,
                    "Unique identifier field for users": "userName",
                    "Supported provisioning actions": ["Push New Users", "Push Profile Updates", "Push Groups"],
                    "Authentication Mode": "HTTP Header",
                },
                "entra": {
                    "Tenant URL": base,
                    "Secret Token": "<token>",
                },
            }),
        })
    }
}
