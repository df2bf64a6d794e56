//! The state of one Gherkin scenario: the target's clients (SCIM, OAuth, SAML), the variables steps remember, the
//! last response, the exchanges for the report, and what to delete afterwards.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;
use serde_json::Value;

use crate::http::{Client, Recorder, Request, Response};
use crate::replay::scenario::Vars;

/// Why a step failed: the message shown in reports, pointing at what was expected and what happened.
#[derive(Debug, Clone)]
pub struct StepFailure(pub String);

/// The result of a step body.
pub type StepResult = Result<(), StepFailure>;

/// Builds a failure.
pub fn failure(msg: impl Into<String>) -> StepFailure {
    StepFailure(msg.into())
}

/// One scenario's world.
#[derive(Debug, cucumber::World)]
#[world(init = Self::empty)]
pub struct ScimWorld {
    client: Option<Client>,
    /// Variables: `{{run}}`, remembered values, and each named resource's id under its name.
    pub vars: Vars,
    /// The last response received.
    pub last: Option<Response>,
    /// Exchanges of this scenario, for the report.
    pub log: Arc<Recorder>,
    /// Named resources: name → (endpoint, id).
    pub named: BTreeMap<String, (String, String)>,
    cleanup: Vec<String>,
    /// The mock OAuth client, when the target has an authorization server.
    pub oauth: Option<crate::oauth::OAuthClient>,
    /// The OAuth flow of this scenario.
    pub flow: OAuthFlow,
    /// The mock SAML IdP's context, when the target has a SAML service provider.
    pub saml: Option<crate::saml::SCtx>,
    /// The SAML sign-in of this scenario.
    pub sign_in: SamlSignIn,
}

/// Where a scenario's OAuth flow stands.
#[derive(Debug, Default)]
pub struct OAuthFlow {
    /// The authorization request being prepared or last sent.
    pub request: Option<crate::oauth::AuthzRequest>,
    /// Which client sent it.
    pub client: Option<crate::oauth::OAuthClientCreds>,
    /// Where the last authorization walk ended.
    pub front: Option<crate::oauth::Front>,
    /// The code of the last successful authorization, with its request.
    pub grant: Option<crate::oauth::Grant>,
    /// The last tokens issued.
    pub tokens: Option<crate::oauth::Tokens>,
    /// The refresh token the last refresh replaced.
    pub previous_refresh: Option<String>,
}

/// Where a scenario's SAML sign-in stands.
#[derive(Debug, Default)]
pub struct SamlSignIn {
    /// Whether a sign-in was started (SP- or IdP-initiated).
    pub started: bool,
    /// The ID of the AuthnRequest the SP sent; `None` for an IdP-initiated sign-in.
    pub request_id: Option<String>,
    /// Whose attribute statement and namespace prefixes the IdP writes; the mock IdP's defaults when `None`.
    pub style: Option<(crate::saml::AttributeStyle, crate::saml::NamespaceStyle)>,
    /// The RelayState posted with Responses; the target's when `None`.
    pub relay_state: Option<String>,
    /// The last Response posted.
    pub posted: Option<PostedResponse>,
    /// The SP's answer to it at the ACS.
    pub answer: Option<Response>,
}

/// A Response the mock IdP posted.
#[derive(Debug, Clone)]
pub struct PostedResponse {
    /// What it was built from (before any forgery).
    pub spec: crate::saml::ResponseSpec,
    /// The XML posted.
    pub xml: String,
    /// What it is, for messages ("a Response signed by another key").
    pub what: String,
}

impl ScimWorld {
    fn empty() -> Self {
        let run = format!("idcf{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        ScimWorld {
            client: None,
            vars: Vars::new(&run),
            last: None,
            log: Arc::new(Recorder::new()),
            named: BTreeMap::new(),
            cleanup: Vec::new(),
            oauth: None,
            flow: OAuthFlow::default(),
            saml: None,
            sign_in: SamlSignIn::default(),
        }
    }

    /// Points the world at a target (done by the runner before every scenario).
    pub fn connect(&mut self, client: Client) {
        self.client = Some(client);
    }

    /// Gives the world the target's authorization server (done by the runner when there is one).
    pub fn connect_oauth(&mut self, client: crate::oauth::OAuthClient) {
        self.vars.set("redirect_uri", client.target.redirect_uri.clone());
        self.vars.set("issuer", client.target.issuer.clone());
        self.oauth = Some(client);
    }

    /// The mock OAuth client, or a failure saying the target has no authorization server.
    pub fn oauth(&self) -> Result<crate::oauth::OAuthClient, StepFailure> {
        self.oauth.clone().ok_or_else(|| {
            failure("no OAuth target: this step needs an authorization server (a target file with an [oauth] section)")
        })
    }

    /// Gives the world the target's SAML service provider (done by the runner when there is one).
    pub fn connect_saml(&mut self, ctx: crate::saml::SCtx) {
        let t = ctx.t();
        self.vars.set("acs_url", t.acs_url.clone());
        self.vars.set("sp_entity_id", t.sp_entity_id.clone());
        self.vars.set("idp_entity_id", t.idp_entity_id.clone());
        self.vars.set("saml_user", t.name_id.clone());
        self.saml = Some(ctx);
    }

    /// The mock SAML IdP's context, or a failure saying the target has no service provider.
    pub fn saml(&self) -> Result<&crate::saml::SCtx, StepFailure> {
        self.saml.as_ref().ok_or_else(|| {
            failure("no SAML target: this step needs a service provider (a target file with a [saml] section)")
        })
    }

    /// The unique value of this scenario, for names that must not clash.
    pub fn run_id(&self) -> String {
        self.vars.get("run").unwrap_or_default().to_owned()
    }

    /// Replaces `{{name}}` in step text.
    pub fn render(&self, s: &str) -> Result<String, StepFailure> {
        self.vars.render(s).map_err(|m| failure(format!("{m}: no earlier step remembered it")))
    }

    /// Sends a request and keeps the response as the last one.
    pub async fn send(&mut self, req: Request) -> Result<Response, StepFailure> {
        let client = self.client.clone().ok_or_else(|| {
            failure("no SCIM target: this step needs a SCIM service (a target file with a [scim] section)")
        })?;
        let label = format!("{} {}", req.method, req.path);
        let resp = client.send(req, &self.log).await.map_err(|e| failure(format!("{label}: no response ({e})")))?;
        self.last = Some(resp.clone());
        Ok(resp)
    }

    /// The last response, or a failure saying no request was sent.
    pub fn last(&self) -> Result<&Response, StepFailure> {
        self.last.as_ref().ok_or_else(|| failure("no request has been sent yet in this scenario"))
    }

    /// The last response's body as JSON.
    pub fn last_json(&self) -> Result<Value, StepFailure> {
        let r = self.last()?;
        r.json().ok_or_else(|| failure(format!("{} did not answer JSON: {}", r.label(), r.describe())))
    }

    /// Remembers a resource created by the scenario under a name, and deletes it when the scenario ends.
    pub fn remember(&mut self, name: &str, endpoint: &str, id: &str) {
        self.vars.set(name, id.to_owned());
        self.named.insert(name.to_owned(), (endpoint.to_owned(), id.to_owned()));
        self.cleanup.push(format!("{endpoint}/{id}"));
    }

    /// The path of a named resource (`/Users/<id>`).
    pub fn path_of(&self, name: &str) -> Result<String, StepFailure> {
        self.named
            .get(name)
            .map(|(e, id)| format!("{e}/{id}"))
            .ok_or_else(|| failure(format!("no resource named {name:?} was created in this scenario")))
    }

    /// The id of a named resource.
    pub fn id_of(&self, name: &str) -> Result<String, StepFailure> {
        self.named.get(name).map(|(_, id)| id.clone()).ok_or_else(|| failure(format!("no resource named {name:?}")))
    }

    /// Deletes what the scenario created, newest first; failures are ignored (the scenario may have deleted it).
    pub async fn clean_up(&mut self) {
        let Some(client) = self.client.clone() else { return };
        let scratch = Recorder::discarding();
        for path in std::mem::take(&mut self.cleanup).into_iter().rev() {
            let _ = client.send(Request::new(Method::DELETE, path), &scratch).await;
        }
    }
}
