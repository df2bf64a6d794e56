//! The embedded reference server: the real server on 127.0.0.1:0 with a throw-away database, for verbs that run
//! against it when no target is given. Callers reach it only over HTTP, like any other target.

use std::sync::Arc;

use anyhow::Context;
use idconform_harness::oauth::jwt::generate_es256;
use idconform_harness::oauth::{AuthMethod, Expectations, JwtBearer, Login, OAuthClientCreds, OAuthTarget};
use idconform_harness::saml::{IdpKey, OtherWorkspace, SamlTarget};
use idconform_server::ServerConfig;
use idconform_server::admin::Credentials;
use idconform_server::admin::seed::SeedConfig;
use idconform_server::clock::{Clock, OffsetClock};
use idconform_server::scim::Leniency;
use serde_json::json;

/// A running embedded server.
#[derive(Debug)]
pub struct Embedded {
    /// Base URL of its SCIM service.
    pub scim_url: String,
    /// Bearer token of the directory created for this run.
    pub token: String,
    /// Bearer token of a second directory, in another workspace (tenant), for the tenant-isolation check.
    pub other_token: String,
    /// The OAuth authorization server, with the apps and the user registered for this run.
    pub oauth: OAuthTarget,
    /// The SAML service provider, with the mock IdP's connection and the user registered for this run.
    pub saml: SamlTarget,
}

/// The workspace, user and apps the OAuth checks use.
const OAUTH_WORKSPACE: &str = "embedded-oauth";
const OAUTH_USER: &str = "owner@oauth.idconform.test";
const REDIRECT_URI: &str = "https://client.idconform.test/callback";
const JWT_KID: &str = "embedded-harness-key";

/// Registers what the OAuth suite needs in a fresh server: a workspace with an owner who logs in with a random
/// password, two confidential apps (PKCE optional for them, so the downgrade checks reach the token endpoint), a
/// public app (PKCE required) and an RFC 7523 key. The result describes them as a target file would.
async fn oauth_setup(
    state: &idconform_server::http::AppState,
    origin: &str,
    clock: OffsetClock,
) -> anyhow::Result<OAuthTarget> {
    let password = idconform_harness::oauth::client::random_token();
    let seed = SeedConfig::from_toml(&format!(
        "[[workspace]]\nid = \"{OAUTH_WORKSPACE}\"\nname = \"Embedded OAuth\"\nplan = \"enterprise\"\n\
         [[workspace.member]]\nemail = \"{OAUTH_USER}\"\nrole = \"owner\"\npassword_env = \"PASSWORD\"\n"
    ))
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    state
        .admin
        .seed(&seed, |k| (k == "PASSWORD").then(|| password.clone()))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let jwt =
        state.admin.issue_admin_token(OAUTH_WORKSPACE, OAUTH_USER, 600).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let owner = state
        .admin
        .authenticate(&Credentials { bearer: Some(jwt), ..Credentials::default() }, true)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (key_pem, jwk) = generate_es256(JWT_KID)?;
    let mut apps = Vec::new();
    for body in [
        json!({"name": "harness", "redirect_uris": [REDIRECT_URI], "allowed_scopes": ["user.read", "users.read"],
               "pkce": "optional", "jwks": {"keys": [jwk]}}),
        json!({"name": "harness-second", "redirect_uris": [REDIRECT_URI], "allowed_scopes": ["user.read", "users.read"],
               "pkce": "optional"}),
        json!({"name": "harness-public", "client_type": "public", "redirect_uris": [REDIRECT_URI],
               "allowed_scopes": ["user.read"], "pkce": "required"}),
    ] {
        let app = state.oauth.create_app(&owner, &body).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        apps.push(OAuthClientCreds {
            auth: if app.client_secret.is_some() { AuthMethod::ClientSecretBasic } else { AuthMethod::None },
            id: app.app.id,
            secret: app.client_secret,
        });
    }
    let [client, second, public]: [OAuthClientCreds; 3] =
        apps.try_into().map_err(|_| anyhow::anyhow!("three apps were registered"))?;
    Ok(OAuthTarget {
        name: "embedded reference server".into(),
        issuer: origin.to_owned(),
        metadata_url: None,
        redirect_uri: REDIRECT_URI.into(),
        scope: "user.read".into(),
        limited_scope: Some("users.read".into()),
        jwt_bearer: Some(JwtBearer {
            client: client.clone(),
            key_pem,
            alg: "ES256".into(),
            kid: Some(JWT_KID.into()),
            subject: OAUTH_USER.into(),
            audience: None,
        }),
        client,
        second_client: Some(second),
        public_client: Some(public),
        login: Login::Form {
            fields: vec![("email".into(), OAUTH_USER.into()), ("password".into(), password)],
            approve: Some(("decision".into(), "allow".into())),
        },
        resource: Some(origin.to_owned()),
        expect: Expectations::default(),
        code_lifetime: None,
        time_travel: Some(std::sync::Arc::new(move |by| clock.advance(by))),
        deviations: Vec::new(),
    })
}

/// The workspace, user and IdP the SAML checks use.
const SAML_WORKSPACE: &str = "embedded-saml";
const SAML_USER: &str = "owner@saml.idconform.test";
const SAML_IDP: &str = "https://idp.idconform.test/metadata";
/// The reference SP's clock skew (`SpSettings`).
const SAML_SKEW_SECONDS: u64 = 120;

/// The second SAML workspace: an attacker's, with an IdP of its own under the entity ID of the first's (workspaces
/// name their connections' IdPs themselves), and the SAML user as a member, so an SP that let this workspace's IdP
/// answer for the first would have someone to sign in.
const SAML_OTHER_WORKSPACE: &str = "embedded-saml-other";
const SAML_OTHER_OWNER: &str = "owner@other.saml.idconform.test";

/// Seeds an enterprise workspace with `members` ((email, role), the first the owner) and configures a SAML
/// connection trusting a new mock IdP key for `SAML_IDP`; returns the key.
async fn saml_workspace(
    state: &idconform_server::http::AppState,
    origin: &str,
    workspace: &str,
    members: &[(&str, &str)],
) -> anyhow::Result<IdpKey> {
    let mut seed = format!("[[workspace]]\nid = \"{workspace}\"\nname = \"{workspace}\"\nplan = \"enterprise\"\n");
    for (email, role) in members {
        seed.push_str(&format!("[[workspace.member]]\nemail = \"{email}\"\nrole = \"{role}\"\n"));
    }
    let seed = SeedConfig::from_toml(&seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    state.admin.seed(&seed, |_| None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let owner_email = members.first().map(|(e, _)| *e).context("a workspace needs an owner")?;
    let jwt = state.admin.issue_admin_token(workspace, owner_email, 600).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let owner = state
        .admin
        .authenticate(&Credentials { bearer: Some(jwt), ..Credentials::default() }, true)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let key = IdpKey::generate("idp.idconform.test")?;
    let body = json!({
        "entity_id": SAML_IDP,
        "sso_url": "https://idp.idconform.test/sso",
        "slo_url": "https://idp.idconform.test/slo",
        "certificates": [key.certificate_pem()],
    });
    state.saml.create_connection(&owner, &body, origin).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(key)
}

/// Registers what the SAML suite needs in a fresh server: an enterprise workspace whose owner is the NameID, and a
/// connection trusting a mock IdP key made for this run, and a second workspace as an attacker would set one up
/// (`SAML_OTHER_WORKSPACE`). The result describes them as a target file would; the SP's clock is the server's,
/// which the OAuth suite's time travel may have moved.
async fn saml_setup(
    state: &idconform_server::http::AppState,
    origin: &str,
    clock: OffsetClock,
) -> anyhow::Result<SamlTarget> {
    let key = saml_workspace(state, origin, SAML_WORKSPACE, &[(SAML_USER, "owner")]).await?;
    let other_members = [(SAML_OTHER_OWNER, "owner"), (SAML_USER, "member")];
    let other_key = saml_workspace(state, origin, SAML_OTHER_WORKSPACE, &other_members).await?;
    Ok(SamlTarget {
        name: "embedded reference server".into(),
        acs_url: format!("{origin}/saml/callback"),
        sp_entity_id: format!("{origin}/saml/metadata/{SAML_WORKSPACE}"),
        login_url: Some(format!("{origin}/saml/authorize/{SAML_WORKSPACE}")),
        key,
        idp_entity_id: SAML_IDP.into(),
        name_id: SAML_USER.into(),
        success_status: vec![303],
        success_cookie: Some("idconform_session".into()),
        success_location: None,
        // The dashboard session API answers 200 only to a signed-in browser.
        session_url: Some(format!("{origin}/api/v1/session")),
        // The connection leaves IdP-initiated sign-in off, as connections do unless enabled.
        idp_initiated: false,
        relay_state: "/".into(),
        skew: std::time::Duration::from_secs(SAML_SKEW_SECONDS),
        clock: Some(Arc::new(move || clock.now())),
        other_workspace: Some(OtherWorkspace {
            key: other_key,
            idp_entity_id: SAML_IDP.into(),
            sp_entity_id: format!("{origin}/saml/metadata/{SAML_OTHER_WORKSPACE}"),
        }),
        deviations: Vec::new(),
    })
}

/// Starts the reference server in this process on a runtime of its own (`workers` threads), with a fresh SCIM
/// directory (and a second one in another workspace, whose token is `other_token`), the OAuth apps of
/// [`oauth_setup`] and the SAML connection of [`saml_setup`]. `db` is `:memory:` or a file. The server's clock is the wall clock until the OAuth target's
/// time travel moves it forward.
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
                let clock = OffsetClock::new();
                let state = idconform_server::build_state(config, &db, Arc::new(clock.clone()))
                    .with_context(|| format!("opening database {db}"))?;
                let (_, token) = state.scim.create_directory("embedded", "embedded").await?;
                let (_, other_token) = state.scim.create_directory("embedded-other", "other").await?;
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let origin = format!("http://{}", listener.local_addr()?);
                let oauth = oauth_setup(&state, &origin, clock.clone()).await.context("registering the OAuth apps")?;
                let saml = saml_setup(&state, &origin, clock).await.context("registering the SAML connection")?;
                Ok::<_, anyhow::Error>((
                    state,
                    listener,
                    Embedded { scim_url: format!("{origin}/scim/v2"), token, other_token, oauth, saml },
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
