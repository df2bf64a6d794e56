//! `SamlService`: the SAML 2.0 service provider of every workspace, around the ACS core ([`ServiceProvider`]).
//! **Does not import axum or know about HTTP**: `http::saml` parses the bindings' parameters, calls this, and turns
//! the answers into redirects, pages and cookies.
//!
//! Each workspace has its own service provider, made on first use and kept for the process's life: entity ID
//! `{origin}/saml/metadata/{workspace}`, one ACS `{origin}/saml/callback` shared by all workspaces. A posted Response
//! is routed by its InResponseTo to the service provider whose pending request it answers (or, unsolicited, to the
//! connection that accepts IdP-initiated sign-in from its Issuer in the workspace its Audience names); that
//! workspace's connection with the Response's Issuer then verifies it, so a Response of another workspace's IdP
//! matches no connection, even when that workspace copied this one's IdP entity ID.
//!
//! Pending requests and the replay cache are in memory (see [`super::state`]): a restart fails the sign-ins in
//! flight, never lets one through twice.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde::Serialize;

use super::messages::{self, LogoutMessage};
use super::metadata::{check_url, sp_metadata};
use super::{IdpConnection, ResponseInput, SamlError, ServiceProvider, SigningCertificate, SpSettings, peek_routing};
use crate::admin::{AdminError, AdminService, LoginOutcome};
use crate::clock::{Clock, format_datetime};
use crate::scim::service::ScimService;
use crate::store::{MemberRecord, SamlConnectionRecord};
use crate::tenancy::hash_token;

/// Where a sign-in lands when the request named no RelayState.
pub const DEFAULT_RELAY_STATE: &str = "/api/v1/session";
/// The page a browser sees after single logout.
pub const SIGNED_OUT_PATH: &str = "/saml/signed-out";
/// SAML Bindings §3.4.3 and §3.5.3: "The value MUST NOT exceed 80 bytes in length".
pub const MAX_RELAY_STATE: usize = 80;
/// Attribute names that carry an email when the NameID is not one (Okta's `email`, Entra's claim URI).
const EMAIL_ATTRIBUTES: [&str; 3] =
    ["email", "mail", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"];
/// The most service providers kept, over all (origin, workspace) pairs.
const MAX_PROVIDERS: usize = 1024;
/// The most SSO sessions remembered for single logout.
const MAX_SSO_SESSIONS: usize = 100_000;

/// Server settings of the SAML service provider.
#[derive(Debug, Clone, Default)]
pub struct SamlConfig {
    /// Absolute URLs a RelayState may point to besides this server's own paths: an entry allows itself and
    /// everything below it (`https://app.example/` allows `https://app.example/home`).
    pub relay_state_allowlist: Vec<String>,
    /// How IdP metadata is fetched from a connection's `metadata_url` (https, public addresses only, by default).
    pub metadata_fetch: super::fetch::MetadataFetchConfig,
}

/// How the browser takes an AuthnRequest to the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginStart {
    /// HTTP-Redirect (SAML Bindings §3.4): a 302/303 to this URL.
    Redirect(String),
    /// HTTP-POST (SAML Bindings §3.5): a form posting `SAMLRequest` (base64) and `RelayState` to `url`.
    Post {
        /// The IdP's SSO URL.
        url: String,
        /// The base64 AuthnRequest.
        saml_request: String,
        /// The RelayState.
        relay_state: String,
    },
}

/// Where the single logout service sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutAnswer {
    /// A redirect: to the signed-out page, or to the IdP with a LogoutResponse (HTTP-Redirect, SAML Bindings §3.4).
    Redirect(String),
    /// HTTP-POST (SAML Bindings §3.5.4): a form posting the message (base64) as `field` and the IdP's `RelayState`
    /// to `url`.
    Post {
        /// The IdP's HTTP-POST single logout URL.
        url: String,
        /// `SAMLRequest` (this SP's LogoutRequest) or `SAMLResponse` (its answer to the IdP's).
        field: &'static str,
        /// The base64 message.
        message: String,
        /// The RelayState the IdP sent, if any.
        relay_state: Option<String>,
    },
}

/// Whether SAML sign-in applies to an email (`GET /saml/check`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckView {
    /// True when a workspace enforces SAML for the email's domain.
    pub sso: bool,
    /// That workspace.
    pub workspace_id: Option<String>,
    /// Where to start signing in.
    pub authorize_url: Option<String>,
}

/// What the IdP said about a session, kept to build its LogoutRequest.
#[derive(Debug, Clone)]
struct SsoSession {
    connection_id: String,
    name_id: String,
    session_index: Option<String>,
    expires_at: String,
}

/// The SAML service provider of every workspace.
#[derive(Debug)]
pub struct SamlService {
    pub(super) scim: Arc<ScimService>,
    admin: Arc<AdminService>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) config: SamlConfig,
    /// (origin, workspace id) → its service provider.
    providers: Mutex<HashMap<(String, String), Arc<ServiceProvider>>>,
    /// SHA-256 of a session cookie → the IdP session it came from.
    sso_sessions: Mutex<HashMap<[u8; 32], SsoSession>>,
}

/// This SP's URLs for a workspace: entity ID, ACS, single logout.
pub fn sp_urls(origin: &str, workspace_id: &str) -> (String, String, String) {
    (
        format!("{origin}/saml/metadata/{workspace_id}"),
        format!("{origin}/saml/callback"),
        format!("{origin}/saml/logout/callback"),
    )
}

/// The IdP connection the ACS verifies with, from its record.
pub fn idp_connection(r: &SamlConnectionRecord) -> Result<IdpConnection, SamlError> {
    let certificates =
        r.certificates.iter().map(|pem| SigningCertificate::from_pem(pem)).collect::<Result<Vec<_>, _>>()?;
    Ok(IdpConnection {
        id: r.id.clone(),
        entity_id: r.entity_id.clone(),
        sso_url: r.sso_url.clone(),
        slo_url: r.slo_url.clone(),
        certificates,
        allow_sha1: r.allow_sha1,
        allow_idp_initiated: r.allow_idp_initiated,
    })
}

fn internal(e: AdminError) -> SamlError {
    SamlError::Internal(e.to_string())
}

impl SamlService {
    /// The service over the same records as the management API.
    pub fn new(scim: Arc<ScimService>, admin: Arc<AdminService>, clock: Arc<dyn Clock>, config: SamlConfig) -> Self {
        SamlService {
            scim,
            admin,
            clock,
            config,
            providers: Mutex::new(HashMap::new()),
            sso_sessions: Mutex::new(HashMap::new()),
        }
    }

    /// The workspace's service provider as seen from `origin`, made on first use. Without a configured public URL
    /// the origin comes from the Host header, so their number is bounded: when full, idle providers (nothing
    /// pending, nothing remembered) make room, and if none is idle a new one is refused ([`SamlError::Busy`]);
    /// the providers of the real origins, already made, go on working.
    pub fn provider(&self, origin: &str, workspace_id: &str) -> Result<Arc<ServiceProvider>, SamlError> {
        let mut providers = self.providers.lock();
        let key = (origin.to_owned(), workspace_id.to_owned());
        if let Some(sp) = providers.get(&key) {
            return Ok(sp.clone());
        }
        if providers.len() >= MAX_PROVIDERS {
            providers.retain(|_, sp| !(sp.requests().is_empty() && sp.replay().is_empty()));
            if providers.len() >= MAX_PROVIDERS {
                return Err(SamlError::Busy);
            }
        }
        let (entity_id, acs, _) = sp_urls(origin, workspace_id);
        let sp = Arc::new(ServiceProvider::new(SpSettings::new(entity_id, acs), self.clock.clone()));
        providers.insert(key, sp.clone());
        Ok(sp)
    }

    /// Fails unless the workspace exists and its plan includes SAML sign-in (enterprise).
    fn saml_workspace(&self, workspace_id: &str) -> Result<(), SamlError> {
        match self.scim.tenancy().read().workspaces.get(workspace_id) {
            Some(w) if w.plan == "enterprise" => Ok(()),
            _ => Err(SamlError::UnknownWorkspace(workspace_id.to_owned())),
        }
    }

    /// The SP metadata document of a workspace.
    pub fn metadata(&self, origin: &str, workspace_id: &str) -> Result<String, SamlError> {
        self.saml_workspace(workspace_id)?;
        let (entity_id, acs, slo) = sp_urls(origin, workspace_id);
        Ok(sp_metadata(&entity_id, &acs, &slo))
    }

    /// A RelayState this server will redirect to: a path on this server (`/…`, not `//…` nor `/\…`, which browsers
    /// read as another host), this server's own absolute URL, or an allowlisted URL; at most 80 bytes (SAML
    /// Bindings §3.4.3). Anything else would make the ACS an open redirect.
    pub fn check_relay_state(&self, origin: &str, relay_state: Option<&str>) -> Result<String, SamlError> {
        let Some(rs) = relay_state.filter(|r| !r.is_empty()) else { return Ok(DEFAULT_RELAY_STATE.to_owned()) };
        if rs.len() > MAX_RELAY_STATE {
            return Err(SamlError::RelayState(format!("longer than {MAX_RELAY_STATE} bytes")));
        }
        if rs.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
            return Err(SamlError::RelayState("contains control characters, spaces or backslashes".into()));
        }
        if rs.starts_with('/') && !rs.starts_with("//") {
            return Ok(rs.to_owned());
        }
        let under = |base: &str| {
            let base = base.trim_end_matches('/');
            !base.is_empty() && (rs == base || rs.strip_prefix(base).is_some_and(|rest| rest.starts_with(['/', '?'])))
        };
        if check_url(rs).is_ok() && (under(origin) || self.config.relay_state_allowlist.iter().any(|a| under(a))) {
            return Ok(rs.to_owned());
        }
        Err(SamlError::RelayState("neither a path on this server nor an allowlisted URL".into()))
    }

    fn connection_record(
        &self,
        workspace_id: &str,
        connection_id: Option<&str>,
    ) -> Result<SamlConnectionRecord, SamlError> {
        let t = self.scim.tenancy().read();
        let all = t.saml_connections_of(workspace_id);
        let found = match connection_id.filter(|c| !c.is_empty()) {
            Some(id) => all.into_iter().find(|c| c.id == id),
            None => all.into_iter().next(),
        };
        found.cloned().ok_or_else(|| SamlError::NoConnection(format!("workspace {workspace_id:?} has none")))
    }

    /// SP-initiated sign-in (SAML Profiles §4.1.3): a new AuthnRequest to the workspace's IdP (the named connection,
    /// else its oldest), with the RelayState checked now and again when the Response comes back.
    pub fn begin_login(
        &self,
        origin: &str,
        workspace_id: &str,
        connection_id: Option<&str>,
        relay_state: Option<&str>,
    ) -> Result<LoginStart, SamlError> {
        self.saml_workspace(workspace_id)?;
        let relay_state = self.check_relay_state(origin, relay_state)?;
        let record = self.connection_record(workspace_id, connection_id)?;
        let connection = idp_connection(&record)?;
        let sp = self.provider(origin, workspace_id)?;
        let id = sp.begin_login(&connection);
        let settings = sp.settings();
        let xml =
            messages::authn_request(&id, self.clock.now(), &record.sso_url, &settings.acs_url, &settings.entity_id);
        if record.sso_binding == "post" {
            let saml_request = messages::post_value(&xml);
            return Ok(LoginStart::Post { url: record.sso_url, saml_request, relay_state });
        }
        messages::redirect_url(&record.sso_url, "SAMLRequest", &xml, Some(&relay_state)).map(LoginStart::Redirect)
    }

    /// The workspace and connection a posted Response is for (see the module docs).
    fn route(&self, origin: &str, saml_response: &str) -> Result<(String, SamlConnectionRecord), SamlError> {
        // The default cap every provider has; the provider is not known yet.
        let max = SpSettings::new("", "").max_message_bytes;
        let routing = peek_routing(ResponseInput::Base64(saml_response), max)?;
        let issuer =
            routing.issuer.ok_or(SamlError::Issuer { found: None, expected: "an IdP of the workspace".into() })?;
        let t = self.scim.tenancy().read();
        let workspace_id = match &routing.in_response_to {
            Some(request) => {
                let providers = self.providers.lock();
                providers
                    .iter()
                    .filter(|((o, _), _)| o == origin)
                    .find(|(_, sp)| sp.requests().connection_of(request).is_some())
                    .map(|((_, ws), _)| ws.clone())
                    .ok_or_else(|| SamlError::InResponseTo(request.clone()))?
            }
            // SAML Profiles §4.1.5: an unsolicited Response answers no request; only a connection that accepts
            // them may take it. Workspaces name their IdPs' entity IDs themselves, so the Issuer alone does not
            // pick one (another workspace could copy it and make every unsolicited Response ambiguous): the
            // Audience names the SP, and each workspace is an SP of its own (SAML Core §2.5.1.4).
            None => {
                let mut open = t.saml_connections.values().filter(|c| {
                    c.entity_id == issuer
                        && c.allow_idp_initiated
                        && routing.audiences.contains(&sp_urls(origin, &c.workspace_id).0)
                });
                match (open.next(), open.next()) {
                    (Some(c), None) => c.workspace_id.clone(),
                    _ => return Err(SamlError::Unsolicited),
                }
            }
        };
        let record = t
            .saml_connections_of(&workspace_id)
            .into_iter()
            .find(|c| c.entity_id == issuer)
            .cloned()
            .ok_or(SamlError::UnknownIssuer(issuer))?;
        Ok((workspace_id, record))
    }

    /// The ACS (SAML Profiles §4.1.4): verifies the posted Response with the connection it is routed to, finds the
    /// member it names and opens a dashboard session; returns it with the checked RelayState to go to.
    pub async fn finish_login(
        &self,
        origin: &str,
        saml_response: &str,
        relay_state: Option<&str>,
    ) -> Result<(LoginOutcome, String), SamlError> {
        // Checked before the Response, so a refused RelayState consumes nothing.
        let target = self.check_relay_state(origin, relay_state)?;
        let (workspace_id, record) = self.route(origin, saml_response)?;
        self.saml_workspace(&workspace_id)?;
        let connection = idp_connection(&record)?;
        let sp = self.provider(origin, &workspace_id)?;
        let login = sp.verify_response(ResponseInput::Base64(saml_response), &connection)?;
        let member = self.member_for(&workspace_id, &login)?;
        let outcome = self.admin.open_session(&member).await.map_err(internal)?;
        self.remember(
            &outcome,
            SsoSession {
                connection_id: record.id.clone(),
                name_id: login.name_id.clone(),
                session_index: login.session_index.clone(),
                expires_at: outcome.expires_at.clone(),
            },
        );
        Ok((outcome, target))
    }

    /// The active member of the workspace with the asserted email: the NameID when it is an email, else the first
    /// email attribute. With corporate domains configured, the email must be in one of them: a connection speaks
    /// for its workspace's domains only.
    fn member_for(&self, workspace_id: &str, login: &super::VerifiedLogin) -> Result<MemberRecord, SamlError> {
        let email = if login.name_id.contains('@') {
            Some(login.name_id.trim().to_owned())
        } else {
            login
                .attributes
                .iter()
                .filter(|a| EMAIL_ATTRIBUTES.iter().any(|n| a.name.eq_ignore_ascii_case(n)))
                .find_map(|a| a.values.first().cloned())
        };
        let email = email.ok_or(SamlError::UnknownMember)?;
        let t = self.scim.tenancy().read();
        if let Some(settings) = t.saml_settings.get(workspace_id).filter(|s| !s.domains.is_empty()) {
            let domain = email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
            if !settings.domains.contains(&domain) {
                return Err(SamlError::UnknownMember);
            }
        }
        t.members
            .values()
            .find(|m| m.workspace_id == workspace_id && m.active && m.email.eq_ignore_ascii_case(&email))
            .cloned()
            .ok_or(SamlError::UnknownMember)
    }

    fn remember(&self, outcome: &LoginOutcome, session: SsoSession) {
        let mut sessions = self.sso_sessions.lock();
        if sessions.len() >= MAX_SSO_SESSIONS {
            let now = format_datetime(self.clock.now());
            sessions.retain(|_, s| s.expires_at > now);
        }
        // When still full, this session's logout goes without a SessionIndex; nothing else depends on it.
        if sessions.len() < MAX_SSO_SESSIONS {
            sessions.insert(hash_token(&outcome.session), session);
        }
    }

    /// Whether SAML sign-in applies to `email`: a workspace enforces it for the email's domain.
    pub fn check(&self, origin: &str, email: &str) -> CheckView {
        let t = self.scim.tenancy().read();
        match t.saml_enforced_for(email.trim()) {
            Some(s) => CheckView {
                sso: true,
                workspace_id: Some(s.workspace_id.clone()),
                authorize_url: Some(format!("{origin}/saml/authorize/{}", s.workspace_id)),
            },
            None => CheckView { sso: false, workspace_id: None, authorize_url: None },
        }
    }

    /// SP-initiated single logout (SAML Profiles §4.4.3.1): ends the session now, then, if it came from an IdP of
    /// this workspace that has a single logout service, returns a LogoutRequest to it (a redirect, or a form for an
    /// IdP whose only service is HTTP-POST); else the signed-out page.
    pub async fn logout(
        &self,
        origin: &str,
        workspace_id: &str,
        session: Option<&str>,
    ) -> Result<LogoutAnswer, SamlError> {
        let signed_out = LogoutAnswer::Redirect(format!("{origin}{SIGNED_OUT_PATH}"));
        let Some(session) = session else { return Ok(signed_out) };
        let member = {
            let t = self.scim.tenancy().read();
            t.session(session, &format_datetime(self.clock.now())).and_then(|s| t.members.get(&s.member_id)).cloned()
        };
        self.admin.logout(session).await.map_err(internal)?;
        let sso = self.sso_sessions.lock().remove(&hash_token(session));
        let Some(member) = member.filter(|m| m.workspace_id == workspace_id) else { return Ok(signed_out) };
        let has_slo = |c: &SamlConnectionRecord| c.slo_url.is_some() || c.slo_post_url.is_some();
        let record = {
            let t = self.scim.tenancy().read();
            let all = t.saml_connections_of(workspace_id);
            let from = sso.as_ref().and_then(|s| all.iter().find(|c| c.id == s.connection_id));
            from.filter(|c| has_slo(c)).or_else(|| all.iter().find(|c| has_slo(c))).map(|c| (*c).clone())
        };
        let Some(record) = record else { return Ok(signed_out) };
        let (entity_id, _, _) = sp_urls(origin, workspace_id);
        let (name_id, session_index) = match sso.filter(|s| s.connection_id == record.id) {
            Some(s) => (s.name_id, s.session_index),
            None => (member.email, None),
        };
        // SAML Metadata §2.4.2: one SingleLogoutService per binding. HTTP-Redirect when the IdP has it (no script
        // needed), else HTTP-POST (SAML Bindings §3.5.4).
        let (slo, by_post) = match (&record.slo_url, &record.slo_post_url) {
            (Some(url), _) => (url.clone(), false),
            (None, Some(url)) => (url.clone(), true),
            (None, None) => return Ok(signed_out),
        };
        let xml = messages::logout_request(
            &messages::new_id(),
            self.clock.now(),
            &slo,
            &entity_id,
            &name_id,
            session_index.as_deref(),
        );
        if by_post {
            let message = messages::post_value(&xml);
            return Ok(LogoutAnswer::Post { url: slo, field: "SAMLRequest", message, relay_state: None });
        }
        messages::redirect_url(&slo, "SAMLRequest", &xml, None).map(LogoutAnswer::Redirect)
    }

    /// The single logout service (SAML Profiles §4.4.4): a LogoutResponse to this SP's request sends the browser to
    /// the signed-out page; a LogoutRequest from an IdP, once its signature verifies with a connection's
    /// certificates (the query-string signature of HTTP-Redirect, SAML Bindings §3.4.4.1; the enveloped one of
    /// HTTP-POST, §3.5.4, through [`ServiceProvider::verify_posted_logout_request`]) and
    /// [`ServiceProvider::accept_logout_request`] takes it, ends the sessions of that workspace's member with the
    /// NameID and answers with a LogoutResponse. `query` is the raw query string (HTTP-Redirect); `form` the decoded
    /// form (HTTP-POST).
    pub async fn logout_callback(
        &self,
        origin: &str,
        query: Option<&str>,
        form: Option<&[(String, String)]>,
    ) -> Result<LogoutAnswer, SamlError> {
        let signed_out = LogoutAnswer::Redirect(format!("{origin}{SIGNED_OUT_PATH}"));
        let raw = match (query, form) {
            (_, Some(f)) => f.to_vec(),
            (Some(q), None) => messages::raw_query(q)?,
            (None, None) => vec![],
        };
        let redirect = form.is_none();
        let value = |name: &str| {
            raw.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| if redirect { messages::decode_component(v) } else { v.clone() })
        };
        if let Some(response) = value("SAMLResponse") {
            // The session ended before this SP's LogoutRequest left; the answer only moves the browser on.
            return match messages::parse_logout(&messages::decode_message(&response, redirect)?)? {
                LogoutMessage::Response { .. } => Ok(signed_out),
                LogoutMessage::Request(_) => Err(SamlError::Binding("SAMLResponse holds a LogoutRequest".into())),
            };
        }
        let request =
            value("SAMLRequest").ok_or_else(|| SamlError::Binding("no SAMLRequest or SAMLResponse".into()))?;
        let text = messages::decode_message(&request, redirect)?;
        // Unverified: only to find the connections that may have sent it.
        let LogoutMessage::Request(unverified) = messages::parse_logout(&text)? else {
            return Err(SamlError::Binding("SAMLRequest holds a LogoutResponse".into()));
        };
        let candidates: Vec<SamlConnectionRecord> = self
            .scim
            .tenancy()
            .read()
            .saml_connections
            .values()
            .filter(|c| c.entity_id == unverified.issuer)
            .cloned()
            .collect();
        if candidates.is_empty() {
            return Err(SamlError::UnknownIssuer(unverified.issuer));
        }
        let mut last = SamlError::LogoutSignature("no connection's certificate verifies it".into());
        let mut verified = None;
        for record in candidates {
            let connection = idp_connection(&record)?;
            let checked = if redirect {
                // The query signature covers the encoded message, so the decoded one is authentic as it is.
                messages::verify_redirect_signature(&raw, "SAMLRequest", &connection.certificates, record.allow_sha1)
                    .map(|()| unverified.clone())
            } else {
                self.provider(origin, &record.workspace_id)?.verify_posted_logout_request(&text, &connection)
            };
            match checked {
                Ok(fields) => {
                    verified = Some((record, connection, fields));
                    break;
                }
                Err(e) => last = e,
            }
        }
        let (record, connection, fields) = verified.ok_or(last)?;
        let (_, _, slo) = sp_urls(origin, &record.workspace_id);
        self.provider(origin, &record.workspace_id)?.accept_logout_request(&fields, &connection, &slo)?;
        let members: Vec<String> = self
            .scim
            .tenancy()
            .read()
            .members
            .values()
            .filter(|m| m.workspace_id == record.workspace_id && m.email.eq_ignore_ascii_case(&fields.name_id))
            .map(|m| m.id.clone())
            .collect();
        let ended = {
            let t = self.scim.tenancy().read();
            members.iter().flat_map(|m| t.sessions_of(m)).collect::<Vec<_>>()
        };
        self.admin.end_sessions_of(&members).await.map_err(internal)?;
        {
            let mut sessions = self.sso_sessions.lock();
            for hash in ended {
                sessions.remove(&hash);
            }
        }
        let (entity_id, _, _) = sp_urls(origin, &record.workspace_id);
        // The RelayState is the IdP's own, going back to the IdP's configured URL (SAML Bindings §3.4.3, §3.5.3:
        // a RelayState received MUST be returned).
        let relay = value("RelayState");
        // The answer takes the binding the request came with when the IdP has a SingleLogoutService for it (SAML
        // Metadata §2.4.2: one per binding), else the other one.
        let (post, redirect_to) = (record.slo_post_url.clone(), record.slo_url.clone());
        let answer_by_post = match (&post, &redirect_to) {
            (Some(_), None) => true,
            (Some(_), Some(_)) => !redirect,
            _ => false,
        };
        match (answer_by_post, post, redirect_to) {
            (true, Some(url), _) => {
                let xml =
                    messages::logout_response(&messages::new_id(), self.clock.now(), &url, &entity_id, &fields.id);
                let message = messages::post_value(&xml);
                Ok(LogoutAnswer::Post { url, field: "SAMLResponse", message, relay_state: relay })
            }
            (_, _, Some(url)) => {
                let xml =
                    messages::logout_response(&messages::new_id(), self.clock.now(), &url, &entity_id, &fields.id);
                messages::redirect_url(&url, "SAMLResponse", &xml, relay.as_deref()).map(LogoutAnswer::Redirect)
            }
            _ => Ok(signed_out),
        }
    }
}
