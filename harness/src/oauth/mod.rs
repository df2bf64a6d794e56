//! OAuth 2.0: the authorization server under test ([`OAuthTarget`]), the mock OAuth client that drives it
//! ([`OAuthClient`]: authorization code with PKCE, refresh, revocation, introspection, userinfo, RFC 7523 assertions),
//! the context the OAuth checks run in ([`OCtx`]) and their runner ([`run`]). The checks themselves are in
//! `suites::oauth`.

pub mod client;
pub mod flow;
pub mod jwt;
pub mod target;

use std::time::{Duration, Instant};

pub use client::{AuthzRequest, ClientAuth, Front, Metadata, OAuthClient, Pkce, Tokens};
pub use target::{AuthMethod, Expectations, JwtBearer, Login, OAuthClientCreds, OAuthTarget, PkcePolicy};

use crate::check::{Check, Outcome, Step, fail, skip};
use crate::http::{Recorder, Response};
use crate::report::Report;
use crate::runner::{Options, Progress, RunError};

/// A code obtained through the front channel, with the request that produced it.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The authorization code.
    pub code: String,
    /// The request (its PKCE verifier, redirect URI, scope).
    pub req: AuthzRequest,
}

/// Everything an OAuth check can use: the mock client and the check's recorder.
pub struct OCtx {
    /// The mock client.
    pub c: OAuthClient,
    log: Recorder,
}

impl std::fmt::Debug for OCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OCtx").field("issuer", &self.c.target.issuer).finish_non_exhaustive()
    }
}

fn transport(e: crate::http::HttpError) -> Outcome {
    fail("an HTTP response", format!("no response: {e}"))
}

impl OCtx {
    /// A context for one check.
    pub fn new(c: OAuthClient) -> Self {
        OCtx { c, log: Recorder::new() }
    }

    /// The target.
    pub fn t(&self) -> &OAuthTarget {
        &self.c.target
    }

    /// The main (confidential) client.
    pub fn main(&self) -> &OAuthClientCreds {
        &self.c.target.client
    }

    /// The second confidential client, or a skip.
    pub fn second(&self) -> Step<&OAuthClientCreds> {
        self.c.target.second_client.as_ref().ok_or_else(|| skip("the target declares no second_client"))
    }

    /// The public client, or a skip.
    pub fn public(&self) -> Step<&OAuthClientCreds> {
        self.c.target.public_client.as_ref().ok_or_else(|| skip("the target declares no public_client"))
    }

    /// The recorder (for the mock client's calls).
    pub fn log(&self) -> &Recorder {
        &self.log
    }

    /// Walks the authorization endpoint.
    pub async fn front(&self, req: &AuthzRequest) -> Step<Front> {
        self.c.authorize(req, &self.log).await.map_err(transport)
    }

    /// Runs `req` through the front channel and expects a code for it, with `state` echoed (setup of most checks).
    pub async fn grant_with(&self, req: AuthzRequest) -> Step<Grant> {
        let front = self.front(&req).await?;
        let expected = "setup: the authorization endpoint redirects to the client with a code (RFC 6749 §4.1.2)";
        let Some(code) = front.param("code") else {
            return Err(fail(expected, front.describe()));
        };
        if front.param("state") != req.state.as_deref() {
            return Err(fail("setup: the authorization response echoes state (RFC 6749 §4.1.2)", front.describe()));
        }
        Ok(Grant { code: code.to_owned(), req })
    }

    /// A code for `client` with the default request (S256 challenge).
    pub async fn grant(&self, client: &OAuthClientCreds) -> Step<Grant> {
        self.grant_with(self.c.request(client)).await
    }

    /// Exchanges a grant as `client` normally would.
    pub async fn exchange(&self, client: &OAuthClientCreds, g: &Grant) -> Step<Response> {
        self.exchange_as(&ClientAuth::of(client), g).await
    }

    /// Exchanges a grant with the given client authentication.
    pub async fn exchange_as(&self, auth: &ClientAuth, g: &Grant) -> Step<Response> {
        let verifier = g.req.pkce.as_ref().map(|p| p.verifier.as_str());
        self.c.exchange(auth, &g.code, g.req.redirect_uri.as_deref(), verifier, &self.log).await.map_err(transport)
    }

    /// Tokens for `client` through the whole flow (setup of most checks).
    pub async fn tokens(&self, client: &OAuthClientCreds) -> Step<Tokens> {
        let g = self.grant(client).await?;
        let r = self.exchange(client, &g).await?;
        Tokens::from_response(&r)
            .ok_or_else(|| fail("setup: the token endpoint exchanges the code (RFC 6749 §4.1.4)", r.summary()))
    }

    /// Tokens with a refresh token, or a skip when the target declares it issues none.
    pub async fn tokens_with_refresh(&self, client: &OAuthClientCreds) -> Step<(Tokens, String)> {
        if !self.t().expect.refresh_tokens {
            return Err(skip(
                "the target declares that the code grant issues no refresh tokens (expect.refresh_tokens)",
            ));
        }
        let t = self.tokens(client).await?;
        let rt = t.refresh_token.clone().ok_or_else(|| {
            fail("setup: a refresh_token in the token response (expect.refresh_tokens = true)", t.body.to_string())
        })?;
        Ok((t, rt))
    }

    /// A form post to an endpoint.
    pub async fn post(&self, endpoint: &str, auth: &ClientAuth, form: &[(&str, &str)]) -> Step<Response> {
        self.c.post(endpoint, auth, form, &self.log).await.map_err(transport)
    }

    /// Refreshes as `auth`.
    pub async fn refresh(&self, auth: &ClientAuth, rt: &str, scope: Option<&str>) -> Step<Response> {
        self.c.refresh(auth, rt, scope, &self.log).await.map_err(transport)
    }

    /// Revokes as `auth`.
    pub async fn revoke(&self, auth: &ClientAuth, token: &str, hint: Option<&str>) -> Step<Response> {
        self.c.revoke(auth, token, hint, &self.log).await.map_err(transport)
    }

    /// Introspects as `auth`, or skips when the server advertises no introspection endpoint.
    pub async fn introspect(&self, auth: &ClientAuth, token: &str) -> Step<Response> {
        self.c.introspect(auth, token, &self.log).await.map_err(transport)
    }

    /// Calls userinfo with an optional bearer token.
    pub async fn userinfo(&self, token: Option<&str>) -> Step<Response> {
        self.c.userinfo(token, &self.log).await.map_err(transport)
    }

    /// `GET` without credentials.
    pub async fn get(&self, url: &str) -> Step<Response> {
        self.c.get(url, &self.log).await.map_err(transport)
    }

    /// Whether an access token is accepted by the userinfo endpoint now.
    pub async fn accepted(&self, access: &str) -> Step<bool> {
        Ok(self.userinfo(Some(access)).await?.status == 200)
    }

    /// Moves the server's clock by `by`: by time travel when the target offers it, else by waiting when the target
    /// allows it (`code_lifetime_seconds`); else the check is skipped.
    pub async fn let_time_pass(&self, by: Duration) -> Step {
        if let Some(travel) = &self.t().time_travel {
            travel(by);
            return Ok(());
        }
        if self.t().code_lifetime.is_some() {
            tokio::time::sleep(by).await;
            return Ok(());
        }
        Err(skip("needs the code lifetime (code_lifetime_seconds in the target file) to wait for a code to expire"))
    }
}

/// The check tag of checks that move the server's clock: they run one at a time after all others.
pub const CLOCK_TAG: &str = "clock";

/// Connects to the target and runs the selected OAuth checks. Checks tagged [`CLOCK_TAG`] run last, alone.
pub async fn run(
    target: OAuthTarget,
    checks: &[Check<OCtx>],
    opts: &Options,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Report, RunError> {
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let client = OAuthClient::connect(target, opts.timeout).await.map_err(|e| RunError::Unreachable(e.to_string()))?;
    let selected = crate::runner::select(checks, opts);
    let results = crate::runner::run_checks(
        selected,
        opts.concurrency,
        |c| c.tags.contains(&CLOCK_TAG),
        || OCtx::new(client.clone()),
        progress,
    )
    .await;
    let t = &client.target;
    Ok(Report::for_target(&t.name, &t.issuer, opts.profile, started_at, clock.elapsed(), results))
}

impl crate::runner::CheckContext for OCtx {
    fn take_exchanges(&self) -> Vec<crate::http::Exchange> {
        self.log.take()
    }

    fn deviation(&self, check_id: &str) -> Option<&crate::target::Deviation> {
        self.t().deviation(check_id)
    }
}
