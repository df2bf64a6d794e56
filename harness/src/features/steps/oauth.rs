//! OAuth 2.0 steps, built on the mock OAuth client ([`crate::oauth::OAuthClient`]): prepare an authorization
//! request, send the user through the server's log-in and consent forms, and drive the token, refresh, revocation,
//! introspection and userinfo endpoints. Every back-channel answer becomes the last response, so the generic
//! response steps (`the response status is …`, `the response body at "error" is …`) judge it.

use cucumber::step::Context;

use super::{StepDef, args};
use crate::features::world::{ScimWorld, StepResult, failure};
use crate::http::Response;
use crate::oauth::jwt::{Forgery, claims, sign};
use crate::oauth::{ClientAuth, Front, Grant, OAuthClientCreds, Tokens};

/// The steps of this module.
pub fn steps() -> Vec<StepDef> {
    vec![
        crate::step!(
            r"^the (client|second client|public client) prepares an authorization request$",
            "Starts an authorization request (RFC 6749 §4.1.1) for the target's main, second or public client: code \
             flow, the registered redirect URI, the target's scope, a random state, an S256 PKCE challenge.",
            "Given the client prepares an authorization request",
            prepare
        ),
        crate::step!(
            r#"^the request has (scope|redirect URI|state|response type) ["']([^"']*)["']$"#,
            "Changes one parameter of the prepared request.",
            r#"And the request has redirect URI "https://client.idconform.test/callback/""#,
            set_param
        ),
        crate::step!(
            r"^the request has no PKCE challenge$",
            "Leaves code_challenge out of the prepared request.",
            "And the request has no PKCE challenge",
            no_pkce
        ),
        crate::step!(
            r"^the user logs in and consents$",
            "Sends the prepared request to the authorization endpoint and walks it like a browser: fills in and \
             submits the log-in and consent forms as the target's user, until the server redirects to the client \
             or stops on a page.",
            "When the user logs in and consents",
            authorize
        ),
        crate::step!(
            r"^the client is redirected with a code$",
            "The walk ended at the client's redirect URI with a code and the request's exact state.",
            "Then the client is redirected with a code",
            redirected_with_code
        ),
        crate::step!(
            r#"^the client is redirected with error ["']([^"']+)["']$"#,
            "The walk ended at the client's redirect URI with this error code (RFC 6749 §4.1.2.1) and the state.",
            r#"Then the client is redirected with error "invalid_request""#,
            redirected_with_error
        ),
        crate::step!(
            r#"^the browser is not sent to ["']([^"']+)["']$"#,
            "The walk did not end with a redirect to this URI (an unregistered or near-miss redirect URI).",
            r#"Then the browser is not sent to "https://client.idconform.test/callback/""#,
            not_sent_to
        ),
        crate::step!(
            r"^the (client|second client) exchanges the code( again)?$",
            "Exchanges the code at the token endpoint (RFC 6749 §4.1.3) with the request's redirect URI and PKCE \
             verifier, authenticating as that client; the answer is the last response.",
            "When the client exchanges the code",
            exchange
        ),
        crate::step!(
            r#"^the client exchanges the code (?:with verifier ["']([^"']*)["']|without a verifier)$"#,
            "Exchanges the code with another verifier, or none.",
            "When the client exchanges the code without a verifier",
            exchange_verifier
        ),
        crate::step!(
            r"^the client exchanges the code with a wrong secret$",
            "Exchanges the code with the main client's id and a wrong secret, in the client's usual place.",
            "When the client exchanges the code with a wrong secret",
            exchange_wrong_secret
        ),
        crate::step!(
            r#"^the client refreshes the token(?: with scope ["']([^"']*)["'])?$"#,
            "Refreshes with the current refresh token (RFC 6749 §6), optionally asking for a scope; on success the \
             new tokens replace the old.",
            r#"When the client refreshes the token with scope "user.read""#,
            refresh
        ),
        crate::step!(
            r"^the client refreshes with the previous refresh token$",
            "Presents the refresh token the last refresh replaced (a replay, RFC 9700 §4.14.2).",
            "When the client refreshes with the previous refresh token",
            refresh_previous
        ),
        crate::step!(
            r"^the client revokes the (access|refresh) token$",
            "Revokes the current token of that type (RFC 7009 §2.1).",
            "When the client revokes the refresh token",
            revoke
        ),
        crate::step!(
            r"^the client introspects the (access|refresh) token$",
            "Introspects the current token of that type (RFC 7662 §2.1).",
            "When the client introspects the access token",
            introspect
        ),
        crate::step!(
            r#"^the client calls userinfo(?: (without a token|with token ["']([^"']*)["']))?$"#,
            "GETs the userinfo endpoint with the current access token (RFC 6750 §2.1), without one, or with the \
             given text as the token.",
            "When the client calls userinfo without a token",
            userinfo
        ),
        crate::step!(
            r"^the access token is (accepted|refused) at userinfo$",
            "The current access token works (HTTP 200) or is refused (HTTP 401) at the userinfo endpoint.",
            "Then the access token is refused at userinfo",
            access_judged
        ),
        crate::step!(
            r"^the client presents (?:a|an) (valid|expired|unsigned|wrong-audience|stranger-signed) JWT bearer assertion$",
            "Posts an RFC 7523 assertion for the target's JWT bearer key: valid, or forged as named.",
            "When the client presents an expired JWT bearer assertion",
            jwt_bearer
        ),
    ]
}

fn which(w: &ScimWorld, name: &str) -> Result<OAuthClientCreds, crate::features::world::StepFailure> {
    let c = w.oauth()?;
    let t = &c.target;
    match name {
        "second client" => t.second_client.clone().ok_or_else(|| failure("the target declares no second_client")),
        "public client" => t.public_client.clone().ok_or_else(|| failure("the target declares no public_client")),
        _ => Ok(t.client.clone()),
    }
}

async fn prepare(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let creds = which(w, &args(&ctx)[0])?;
    w.flow.request = Some(w.oauth()?.request(&creds));
    w.flow.client = Some(creds);
    Ok(())
}

fn request_mut(w: &mut ScimWorld) -> Result<&mut crate::oauth::AuthzRequest, crate::features::world::StepFailure> {
    w.flow
        .request
        .as_mut()
        .ok_or_else(|| failure("no authorization request: start with \"the client prepares an authorization request\""))
}

async fn set_param(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let value = w.render(&a[1])?;
    let r = request_mut(w)?;
    match a[0].as_str() {
        "scope" => r.scope = Some(value),
        "redirect URI" => r.redirect_uri = Some(value),
        "state" => r.state = Some(value),
        _ => r.response_type = value,
    }
    Ok(())
}

async fn no_pkce(w: &mut ScimWorld, _: Context) -> StepResult {
    request_mut(w)?.pkce = None;
    Ok(())
}

async fn authorize(w: &mut ScimWorld, _: Context) -> StepResult {
    let c = w.oauth()?;
    let req = w.flow.request.clone().ok_or_else(|| failure("no authorization request was prepared"))?;
    let front = c.authorize(&req, &w.log).await.map_err(|e| failure(format!("no response: {e}")))?;
    w.flow.grant = front.param("code").map(|code| Grant { code: code.to_owned(), req: req.clone() });
    w.flow.front = Some(front);
    Ok(())
}

fn front(w: &ScimWorld) -> Result<&Front, crate::features::world::StepFailure> {
    w.flow.front.as_ref().ok_or_else(|| failure("the user has not been sent to the authorization endpoint yet"))
}

async fn redirected_with_code(w: &mut ScimWorld, _: Context) -> StepResult {
    let f = front(w)?;
    let state = w.flow.request.as_ref().and_then(|r| r.state.clone());
    if f.param("code").is_none() {
        return Err(failure(format!("expected a redirect to the client with a code; got {}", f.describe())));
    }
    if f.param("state") != state.as_deref() {
        return Err(failure(format!("expected state {state:?} echoed (RFC 6749 §4.1.2); got {}", f.describe())));
    }
    Ok(())
}

async fn redirected_with_error(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let want = &args(&ctx)[0];
    let f = front(w)?;
    let redirect = w.oauth()?.target.redirect_uri.clone();
    if !f.redirected_to(&redirect) || f.param("error") != Some(want.as_str()) {
        return Err(failure(format!("expected a redirect to {redirect} with error {want:?}; got {}", f.describe())));
    }
    let state = w.flow.request.as_ref().and_then(|r| r.state.clone());
    if f.param("state") != state.as_deref() {
        return Err(failure(format!("expected the error redirect to carry state {state:?}; got {}", f.describe())));
    }
    Ok(())
}

async fn not_sent_to(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let uri = w.render(&args(&ctx)[0])?;
    let f = front(w)?;
    let normal = reqwest::Url::parse(&uri).map(|u| u.to_string()).unwrap_or_else(|_| uri.clone());
    if let Front::Redirect { url, .. } = f
        && url.starts_with(normal.split('#').next().unwrap_or(&normal))
    {
        return Err(failure(format!("expected no redirect to {uri}; got {}", f.describe())));
    }
    Ok(())
}

fn grant(w: &ScimWorld) -> Result<Grant, crate::features::world::StepFailure> {
    w.flow.grant.clone().ok_or_else(|| failure("no code: the authorization did not end with one"))
}

/// Keeps a response as the last one, and its tokens when it issued some.
fn keep(w: &mut ScimWorld, r: Response) {
    if let Some(t) = Tokens::from_response(&r) {
        if t.refresh_token.is_some() {
            w.flow.previous_refresh = w.flow.tokens.as_ref().and_then(|old| old.refresh_token.clone());
        }
        w.flow.tokens = Some(t);
    }
    w.last = Some(r);
}

async fn send_exchange(w: &mut ScimWorld, auth: ClientAuth, g: &Grant, verifier: Option<&str>) -> StepResult {
    let c = w.oauth()?;
    let r = c
        .exchange(&auth, &g.code, g.req.redirect_uri.as_deref(), verifier, &w.log)
        .await
        .map_err(|e| failure(format!("no response: {e}")))?;
    keep(w, r);
    Ok(())
}

async fn exchange(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let g = grant(w)?;
    let who = &args(&ctx)[0];
    let creds = if who == "second client" {
        which(w, who)?
    } else {
        w.flow.client.clone().map_or_else(|| which(w, "client"), Ok)?
    };
    let verifier = g.req.pkce.as_ref().map(|p| p.verifier.clone());
    send_exchange(w, ClientAuth::of(&creds), &g, verifier.as_deref()).await
}

async fn exchange_verifier(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let g = grant(w)?;
    let verifier = args(&ctx).first().filter(|v| !v.is_empty()).map(|v| w.render(v)).transpose()?;
    let creds = w.flow.client.clone().map_or_else(|| which(w, "client"), Ok)?;
    send_exchange(w, ClientAuth::of(&creds), &g, verifier.as_deref()).await
}

async fn exchange_wrong_secret(w: &mut ScimWorld, _: Context) -> StepResult {
    let g = grant(w)?;
    let creds = which(w, "client")?;
    let verifier = g.req.pkce.as_ref().map(|p| p.verifier.clone());
    send_exchange(w, ClientAuth::with_wrong_secret(&creds), &g, verifier.as_deref()).await
}

fn current(w: &ScimWorld, kind: &str) -> Result<String, crate::features::world::StepFailure> {
    let t = w.flow.tokens.as_ref().ok_or_else(|| failure("no tokens yet: exchange a code first"))?;
    match kind {
        "refresh" => t.refresh_token.clone().ok_or_else(|| failure("the token response had no refresh_token")),
        _ => Ok(t.access_token.clone()),
    }
}

fn main_auth(w: &ScimWorld) -> Result<ClientAuth, crate::features::world::StepFailure> {
    Ok(ClientAuth::of(&w.flow.client.clone().map_or_else(|| which(w, "client"), Ok)?))
}

async fn refresh(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let rt = current(w, "refresh")?;
    let scope = args(&ctx).first().filter(|s| !s.is_empty()).cloned();
    let c = w.oauth()?;
    let r = c
        .refresh(&main_auth(w)?, &rt, scope.as_deref(), &w.log)
        .await
        .map_err(|e| failure(format!("no response: {e}")))?;
    keep(w, r);
    Ok(())
}

async fn refresh_previous(w: &mut ScimWorld, _: Context) -> StepResult {
    let rt = w.flow.previous_refresh.clone().ok_or_else(|| failure("no earlier refresh token: refresh once first"))?;
    let c = w.oauth()?;
    let r = c.refresh(&main_auth(w)?, &rt, None, &w.log).await.map_err(|e| failure(format!("no response: {e}")))?;
    keep(w, r);
    Ok(())
}

async fn revoke(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let kind = args(&ctx)[0].clone();
    let token = current(w, &kind)?;
    let c = w.oauth()?;
    let hint = format!("{kind}_token");
    let r = c
        .revoke(&main_auth(w)?, &token, Some(&hint), &w.log)
        .await
        .map_err(|e| failure(format!("no response: {e}")))?;
    w.last = Some(r);
    Ok(())
}

async fn introspect(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let token = current(w, &args(&ctx)[0])?;
    let c = w.oauth()?;
    let r = c.introspect(&main_auth(w)?, &token, &w.log).await.map_err(|e| failure(format!("no response: {e}")))?;
    w.last = Some(r);
    Ok(())
}

async fn userinfo(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let token = match a.first().map(String::as_str) {
        Some("without a token") => None,
        Some(s) if s.starts_with("with token") => Some(w.render(a.get(1).map_or("", String::as_str))?),
        _ => Some(current(w, "access")?),
    };
    let c = w.oauth()?;
    let r = c.userinfo(token.as_deref(), &w.log).await.map_err(|e| failure(format!("no response: {e}")))?;
    w.last = Some(r);
    Ok(())
}

async fn access_judged(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let accepted = args(&ctx)[0] == "accepted";
    let token = current(w, "access")?;
    let c = w.oauth()?;
    let r = c.userinfo(Some(&token), &w.log).await.map_err(|e| failure(format!("no response: {e}")))?;
    let ok = if accepted { r.status == 200 } else { r.status == 401 };
    let summary = r.summary();
    w.last = Some(r);
    if ok { Ok(()) } else { Err(failure(format!("expected the access token to be {}; got {summary}", args(&ctx)[0]))) }
}

async fn jwt_bearer(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let forgery = match args(&ctx)[0].as_str() {
        "expired" => Forgery::Expired,
        "unsigned" => Forgery::AlgNone,
        "wrong-audience" => Forgery::WrongAudience,
        "stranger-signed" => Forgery::ForeignKey,
        _ => Forgery::None,
    };
    let c = w.oauth()?;
    let jb = c.target.jwt_bearer.clone().ok_or_else(|| failure("the target declares no jwt_bearer key"))?;
    let aud = c.endpoint("token_endpoint");
    let cl = claims(&jb, &aud, chrono::Utc::now().timestamp(), forgery);
    let assertion = sign(&jb, &cl, forgery).map_err(|e| failure(e.to_string()))?;
    let form = [
        ("grant_type", crate::suites::oauth::JWT_BEARER_GRANT),
        ("assertion", assertion.as_str()),
        ("scope", c.target.scope.as_str()),
    ];
    let r = c
        .post("token_endpoint", &ClientAuth::of(&jb.client), &form, &w.log)
        .await
        .map_err(|e| failure(format!("no response: {e}")))?;
    keep(w, r);
    Ok(())
}
