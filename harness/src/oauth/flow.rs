//! One whole client session against an authorization server, step by step, as `idconform oauth flow` shows it:
//! metadata, authorization (log-in and consent through the server's forms), code exchange with PKCE, userinfo,
//! refresh, userinfo with the new token, revocation, and the refused refresh after it.

use serde_json::Value;

use super::client::{ClientAuth, OAuthClient, Tokens};
use crate::http::Recorder;

/// One step of the flow and what came of it.
#[derive(Debug, Clone)]
pub struct FlowStep {
    /// What was done.
    pub name: &'static str,
    /// Whether it did what a client needs.
    pub ok: bool,
    /// What happened: the status and what was learnt, or why it failed.
    pub detail: String,
}

/// The result of a flow: its steps, and the tokens last held.
#[derive(Debug, Clone, Default)]
pub struct FlowOutcome {
    /// Steps in order; the flow stops at the first that fails.
    pub steps: Vec<FlowStep>,
    /// The last token response.
    pub tokens: Option<Value>,
}

impl FlowOutcome {
    /// Whether every step succeeded.
    pub fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.ok)
    }

    fn push(&mut self, name: &'static str, ok: bool, detail: impl Into<String>) -> bool {
        self.steps.push(FlowStep { name, ok, detail: detail.into() });
        ok
    }
}

fn short(token: &str) -> String {
    let head: String = token.chars().take(12).collect();
    format!("{head}… ({} chars)", token.len())
}

/// Runs the flow with the target's main client; `log` records every exchange.
pub async fn run(client: &OAuthClient, log: &Recorder) -> FlowOutcome {
    let mut out = FlowOutcome::default();
    let meta_ok = client.meta.str("issuer").is_some();
    let detail = match &client.meta.response {
        Some(r) if meta_ok => format!("{} → issuer {}", r.url, client.meta.str("issuer").unwrap_or_default()),
        Some(r) => format!("{} (no metadata: using the issuer's default endpoints)", r.summary()),
        None => "not fetched".into(),
    };
    out.push("metadata (RFC 8414)", true, detail);

    let creds = client.target.client.clone();
    let auth = ClientAuth::of(&creds);
    let req = client.request(&creds);
    let front = match client.authorize(&req, log).await {
        Ok(f) => f,
        Err(e) => {
            out.push("authorize", false, e.to_string());
            return out;
        }
    };
    let Some(code) = front.param("code").map(str::to_owned) else {
        out.push("authorize", false, format!("expected a redirect with a code; got {}", front.describe()));
        return out;
    };
    if !out.push(
        "authorize (log-in, consent)",
        front.param("state") == req.state.as_deref(),
        format!("code {} with state echoed: {}", short(&code), front.param("state") == req.state.as_deref()),
    ) {
        return out;
    }

    let verifier = req.pkce.as_ref().map(|p| p.verifier.as_str());
    let r = match client.exchange(&auth, &code, req.redirect_uri.as_deref(), verifier, log).await {
        Ok(r) => r,
        Err(e) => {
            out.push("token (authorization_code + PKCE)", false, e.to_string());
            return out;
        }
    };
    let Some(tokens) = Tokens::from_response(&r) else {
        out.push("token (authorization_code + PKCE)", false, r.summary());
        return out;
    };
    out.push(
        "token (authorization_code + PKCE)",
        true,
        format!(
            "access_token {}, scope {:?}, refresh_token {}",
            short(&tokens.access_token),
            tokens.scope.as_deref().unwrap_or("(not stated)"),
            if tokens.refresh_token.is_some() { "issued" } else { "not issued" }
        ),
    );
    out.tokens = Some(tokens.body.clone());
    if !userinfo(client, &tokens.access_token, "userinfo", log, &mut out).await {
        return out;
    }

    let Some(rt) = tokens.refresh_token.clone() else {
        return out;
    };
    let r = match client.refresh(&auth, &rt, None, log).await {
        Ok(r) => r,
        Err(e) => {
            out.push("refresh", false, e.to_string());
            return out;
        }
    };
    let Some(fresh) = Tokens::from_response(&r) else {
        out.push("refresh", false, r.summary());
        return out;
    };
    let rotated = fresh.refresh_token.as_deref().is_some_and(|n| n != rt);
    out.push(
        "refresh",
        true,
        format!(
            "new access_token {}; refresh token {}",
            short(&fresh.access_token),
            if rotated { "rotated" } else { "kept" }
        ),
    );
    out.tokens = Some(fresh.body.clone());
    if !userinfo(client, &fresh.access_token, "userinfo with the refreshed token", log, &mut out).await {
        return out;
    }

    let current = fresh.refresh_token.clone().unwrap_or(rt);
    match client.revoke(&auth, &current, Some("refresh_token"), log).await {
        Ok(r) if r.status == 200 => out.push("revoke (RFC 7009)", true, "HTTP 200"),
        Ok(r) => out.push("revoke (RFC 7009)", false, r.summary()),
        Err(e) => out.push("revoke (RFC 7009)", false, e.to_string()),
    };
    match client.refresh(&auth, &current, None, log).await {
        Ok(r) if r.status != 200 => out.push("refresh after revocation is refused", true, r.summary()),
        Ok(r) => out.push("refresh after revocation is refused", false, format!("still accepted: {}", r.summary())),
        Err(e) => out.push("refresh after revocation is refused", false, e.to_string()),
    };
    out
}

async fn userinfo(
    client: &OAuthClient,
    token: &str,
    name: &'static str,
    log: &Recorder,
    out: &mut FlowOutcome,
) -> bool {
    match client.userinfo(Some(token), log).await {
        Ok(r) if r.status == 200 => {
            let body = r.json().unwrap_or(Value::Null);
            let who = ["email", "sub", "name"]
                .iter()
                .find_map(|k| body.get(*k).and_then(Value::as_str).map(|v| format!("{k} {v}")))
                .unwrap_or_else(|| "a profile".into());
            out.push(name, true, who)
        }
        Ok(r) => out.push(name, false, r.summary()),
        Err(e) => out.push(name, false, e.to_string()),
    }
}
