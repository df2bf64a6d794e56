//! The token endpoint's authorization-code grant (RFC 6749 §4.1.3–4.1.4, §5): the exchange itself, caching,
//! codes (single use, expiry, bound to client and redirect URI), PKCE at the back channel (RFC 7636 §4.5–4.6,
//! RFC 9700 §2.1.1) and client authentication (RFC 6749 §2.3, §5.2).

use std::time::Duration;

use serde_json::Value;

use super::util::{challenged, error_code, no_store, refused};
use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::oauth::{AuthMethod, ClientAuth, OCtx, PkcePolicy, Tokens};

pub fn checks() -> Vec<Check<OCtx>> {
    vec![
        check! {
            id: "oauth.token.exchange",
            title: "A code exchanged with its verifier gives a Bearer access token in JSON",
            spec: ("RFC 6749", "5.1", "The authorization server issues an access token and optional refresh token … access_token REQUIRED. … token_type REQUIRED."),
            level: Must,
            tags: ["token"],
            run: exchange,
        },
        check! {
            id: "oauth.token.no-store",
            title: "Token responses and token errors carry Cache-Control: no-store",
            spec: ("RFC 6749", "5.1", "The authorization server MUST include the HTTP \"Cache-Control\" response header field [RFC2616] with a value of \"no-store\" in any response containing tokens, credentials, or other sensitive information"),
            level: Must,
            tags: ["token"],
            run: cache,
        },
        check! {
            id: "oauth.token.code-reuse",
            title: "A code cannot be exchanged twice",
            spec: ("RFC 6749", "4.1.2", "If an authorization code is used more than once, the authorization server MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on that authorization code."),
            level: Must,
            tags: ["token", "code", "negative"],
            run: code_reuse,
        },
        check! {
            id: "oauth.token.code-reuse-revokes",
            title: "Reusing a code revokes the tokens its first exchange issued",
            spec: ("RFC 6749", "4.1.2", "If an authorization code is used more than once, the authorization server MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on that authorization code."),
            level: Should,
            tags: ["token", "code", "negative"],
            run: code_reuse_revokes,
        },
        check! {
            id: "oauth.token.code-expiry",
            title: "A code is refused once its lifetime has passed",
            spec: ("RFC 6749", "4.1.2", "The authorization code MUST expire shortly after it is issued to mitigate the risk of leaks. A maximum authorization code lifetime of 10 minutes is RECOMMENDED."),
            level: Must,
            tags: ["token", "code", "clock", "negative"],
            run: code_expiry,
        },
        check! {
            id: "oauth.token.code-other-client",
            title: "A code issued to one client cannot be redeemed by another",
            spec: ("RFC 6749", "4.1.3", "ensure that the authorization code was issued to the authenticated confidential client, or if the client is public, ensure that the code was issued to \"client_id\" in the request"),
            level: Must,
            tags: ["token", "code", "negative"],
            run: code_other_client,
        },
        check! {
            id: "oauth.token.redirect-mismatch",
            title: "A code is refused with a redirect_uri other than the one it was issued for",
            spec: ("RFC 6749", "4.1.3", "ensure that the \"redirect_uri\" parameter is present if the \"redirect_uri\" parameter was included in the initial authorization request as described in Section 4.1.1, and if included ensure that their values are identical."),
            level: Must,
            tags: ["token", "code", "redirect-uri", "negative"],
            run: redirect_mismatch,
        },
        check! {
            id: "oauth.token.redirect-missing",
            title: "A code is refused without the redirect_uri its request carried",
            spec: ("RFC 6749", "4.1.3", "ensure that the \"redirect_uri\" parameter is present if the \"redirect_uri\" parameter was included in the initial authorization request as described in Section 4.1.1, and if included ensure that their values are identical."),
            level: Must,
            tags: ["token", "code", "redirect-uri", "negative"],
            run: redirect_missing,
        },
        check! {
            id: "oauth.token.pkce-missing-verifier",
            title: "A code issued with a challenge is refused without a verifier",
            spec: ("RFC 9700", "2.1.1", "If a client sends a valid PKCE code_challenge parameter in the authorization request, the authorization server MUST enforce the correct usage of code_verifier at the token endpoint."),
            level: Must,
            tags: ["token", "pkce", "negative"],
            run: pkce_missing,
        },
        check! {
            id: "oauth.token.pkce-wrong-verifier",
            title: "A code is refused with a verifier that does not match its challenge",
            spec: ("RFC 7636", "4.6", "If the values are not equal, an error response indicating \"invalid_grant\" as described in Section 5.2 of [RFC6749] MUST be returned."),
            level: Must,
            tags: ["token", "pkce", "negative"],
            run: pkce_wrong,
        },
        check! {
            id: "oauth.token.pkce-plain-downgrade",
            title: "An S256 challenge cannot be answered with the challenge itself as a plain verifier",
            spec: ("RFC 7636", "4.6", "If the values are not equal, an error response indicating \"invalid_grant\" as described in Section 5.2 of [RFC6749] MUST be returned."),
            level: Must,
            tags: ["token", "pkce", "negative"],
            run: pkce_plain_downgrade,
        },
        check! {
            id: "oauth.token.pkce-verifier-without-challenge",
            title: "A verifier is refused for a code whose request had no challenge (PKCE downgrade)",
            spec: ("RFC 9700", "2.1.1", "Authorization servers MUST mitigate PKCE Downgrade Attacks by ensuring that a token request containing a code_verifier parameter is accepted only if a code_challenge parameter was present in the authorization request"),
            level: Must,
            tags: ["token", "pkce", "negative"],
            run: pkce_verifier_without_challenge,
        },
        check! {
            id: "oauth.token.client-wrong-secret",
            title: "A wrong client secret in the Authorization header gets 401 invalid_client with a Basic challenge",
            spec: ("RFC 6749", "5.2", "If the client attempted to authenticate via the \"Authorization\" request header field, the authorization server MUST respond with an HTTP 401 (Unauthorized) status code and include the \"WWW-Authenticate\" response header field matching the authentication scheme used by the client."),
            level: Must,
            tags: ["token", "client-auth", "negative"],
            run: client_wrong_secret,
        },
        check! {
            id: "oauth.token.client-unknown",
            title: "An unknown client gets invalid_client",
            spec: ("RFC 6749", "5.2", "invalid_client Client authentication failed (e.g., unknown client, no client authentication included, or unsupported authentication method)."),
            level: Must,
            tags: ["token", "client-auth", "negative"],
            run: client_unknown,
        },
        check! {
            id: "oauth.token.client-missing",
            title: "A confidential client's code is refused without client authentication",
            spec: ("RFC 6749", "4.1.3", "The authorization server MUST: require client authentication for confidential clients or for any client that was issued client credentials (or with other authentication requirements)"),
            level: Must,
            tags: ["token", "client-auth", "negative"],
            run: client_missing,
        },
        check! {
            id: "oauth.token.auth-methods",
            title: "Every advertised client_secret authentication method works",
            spec: ("RFC 8414", "2", "token_endpoint_auth_methods_supported OPTIONAL. JSON array containing a list of client authentication methods supported by this token endpoint."),
            level: Must,
            tags: ["token", "client-auth", "metadata"],
            run: auth_methods,
        },
        check! {
            id: "oauth.token.password-grant",
            title: "The resource owner password grant is refused",
            spec: ("RFC 9700", "2.4", "The resource owner password credentials grant [RFC6749] MUST NOT be used."),
            level: Must,
            tags: ["token", "negative"],
            run: password_grant,
        },
        check! {
            id: "oauth.token.unsupported-grant",
            title: "An unknown grant_type gets a JSON unsupported_grant_type error",
            spec: ("RFC 6749", "5.2", "The authorization server responds with an HTTP 400 (Bad Request) status code (unless specified otherwise) and includes the following parameters with the response: error REQUIRED. … unsupported_grant_type The authorization grant type is not supported by the authorization server."),
            level: Must,
            tags: ["token"],
            run: unsupported_grant,
        },
    ]
}

async fn exchange(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let r = ctx.exchange(ctx.main(), &g).await?;
    let t = Tokens::from_response(&r).ok_or_else(|| fail("HTTP 200 with access_token", r.summary()))?;
    let ct = r.header("content-type").unwrap_or_default().to_ascii_lowercase();
    ensure(ct.starts_with("application/json"), "Content-Type application/json", || format!("Content-Type {ct:?}"))?;
    let tt = t.body.get("token_type").and_then(Value::as_str);
    // RFC 6749 §5.1: token_type is case insensitive.
    ensure(tt.is_some_and(|t| t.eq_ignore_ascii_case("bearer")), "token_type \"Bearer\"", || {
        format!("token_type {tt:?}")
    })?;
    ensure(ctx.accepted(&t.access_token).await?, "the access token works at the userinfo endpoint", || "refused".into())
}

async fn cache(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let r = ctx.exchange(ctx.main(), &g).await?;
    ensure(r.status == 200 && no_store(&r), "HTTP 200 with Cache-Control: no-store", || {
        format!("{} (Cache-Control: {:?})", r.summary(), r.header("cache-control"))
    })?;
    let again = ctx.exchange(ctx.main(), &g).await?;
    ensure(no_store(&again), "Cache-Control: no-store on the error response too (it carries credentials' fate)", || {
        format!("{} (Cache-Control: {:?})", again.summary(), again.header("cache-control"))
    })
}

async fn code_reuse(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let first = ctx.exchange(ctx.main(), &g).await?;
    Tokens::from_response(&first).ok_or_else(|| fail("setup: the first exchange succeeds", first.summary()))?;
    let second = ctx.exchange(ctx.main(), &g).await?;
    refused(&second, &["invalid_grant"], "the second exchange of a code")
}

async fn code_reuse_revokes(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let first = ctx.exchange(ctx.main(), &g).await?;
    let t = Tokens::from_response(&first).ok_or_else(|| fail("setup: the first exchange succeeds", first.summary()))?;
    let second = ctx.exchange(ctx.main(), &g).await?;
    refused(&second, &["invalid_grant"], "the second exchange of a code")?;
    ensure(!ctx.accepted(&t.access_token).await?, "the first exchange's access token is revoked", || {
        "it still works at the userinfo endpoint".into()
    })?;
    if let Some(rt) = &t.refresh_token {
        let r = ctx.refresh(&ClientAuth::of(ctx.main()), rt, None).await?;
        refused(&r, &["invalid_grant"], "the first exchange's refresh token")?;
    }
    Ok(())
}

async fn code_expiry(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    // Ten minutes is the longest lifetime RFC 6749 §4.1.2 recommends; a waiting run uses the declared lifetime.
    let by = ctx.t().code_lifetime.map_or(Duration::from_secs(601), |l| l + Duration::from_secs(1));
    ctx.let_time_pass(by).await?;
    let r = ctx.exchange(ctx.main(), &g).await?;
    refused(&r, &["invalid_grant"], &format!("a code {}s old", by.as_secs()))
}

async fn code_other_client(ctx: &OCtx) -> Step {
    let other = ctx.second()?.clone();
    let g = ctx.grant(ctx.main()).await?;
    let r = ctx.exchange(&other, &g).await?;
    refused(&r, &["invalid_grant"], "another client's code")?;
    // The rightful client can still use it: the refusal did not burn the code. (A server may also revoke it; RFC
    // 6749 does not say, so only the refusal is judged.)
    Ok(())
}

async fn redirect_mismatch(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let verifier = g.req.pkce.as_ref().map(|p| p.verifier.clone());
    let other = format!("{}/other", ctx.t().redirect_uri.trim_end_matches('/'));
    let r = ctx
        .c
        .exchange(&ClientAuth::of(ctx.main()), &g.code, Some(&other), verifier.as_deref(), ctx.log())
        .await
        .map_err(|e| fail("an HTTP response", e.to_string()))?;
    refused(&r, &["invalid_grant"], "a code with another redirect_uri")
}

async fn redirect_missing(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let verifier = g.req.pkce.as_ref().map(|p| p.verifier.clone());
    let r = ctx
        .c
        .exchange(&ClientAuth::of(ctx.main()), &g.code, None, verifier.as_deref(), ctx.log())
        .await
        .map_err(|e| fail("an HTTP response", e.to_string()))?;
    refused(&r, &["invalid_grant", "invalid_request"], "a code without the redirect_uri of its request")
}

async fn pkce_missing(ctx: &OCtx) -> Step {
    let mut g = ctx.grant(ctx.main()).await?;
    g.req.pkce = None;
    let r = ctx.exchange(ctx.main(), &g).await?;
    refused(&r, &["invalid_grant", "invalid_request"], "a code without its code_verifier")
}

async fn pkce_wrong(ctx: &OCtx) -> Step {
    let mut g = ctx.grant(ctx.main()).await?;
    if let Some(p) = g.req.pkce.as_mut() {
        p.verifier = crate::oauth::client::random_token();
    }
    let r = ctx.exchange(ctx.main(), &g).await?;
    refused(&r, &["invalid_grant"], "a code with a wrong code_verifier")
}

async fn pkce_plain_downgrade(ctx: &OCtx) -> Step {
    let mut g = ctx.grant(ctx.main()).await?;
    if let Some(p) = g.req.pkce.as_mut() {
        p.verifier = p.challenge.clone();
    }
    let r = ctx.exchange(ctx.main(), &g).await?;
    refused(&r, &["invalid_grant"], "the S256 challenge presented as the verifier")
}

async fn pkce_verifier_without_challenge(ctx: &OCtx) -> Step {
    let mut req = ctx.c.request(ctx.main());
    let pkce = req.pkce.take();
    let front = ctx.front(&req).await?;
    let Some(code) = front.param("code") else {
        // The server refused the request without a challenge: the downgrade cannot start.
        if ctx.t().expect.pkce == PkcePolicy::Required || front.param("error").is_some() {
            return Ok(());
        }
        return Err(fail("setup: a code without a challenge, or an error", front.describe()));
    };
    let g = crate::oauth::Grant { code: code.to_owned(), req: crate::oauth::AuthzRequest { pkce, ..req } };
    let r = ctx.exchange(ctx.main(), &g).await?;
    refused(&r, &["invalid_grant", "invalid_request"], "a code_verifier for a code issued without a challenge")
}

async fn client_wrong_secret(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let c = ctx.main();
    let wrong = ClientAuth::Basic(c.id.clone(), format!("{}-wrong", c.secret.as_deref().unwrap_or("x")));
    let r = ctx.exchange_as(&wrong, &g).await?;
    challenged(&r, "Basic", Some("invalid_client"), "a wrong secret in the Authorization header")
}

async fn client_unknown(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let who = ClientAuth::Basic("idconform-unknown-client".into(), "secret".into());
    let r = ctx.exchange_as(&who, &g).await?;
    challenged(&r, "Basic", Some("invalid_client"), "an unknown client in the Authorization header")
}

async fn client_missing(ctx: &OCtx) -> Step {
    let g = ctx.grant(ctx.main()).await?;
    let r = ctx.exchange_as(&ClientAuth::Public(ctx.main().id.clone()), &g).await?;
    refused(&r, &["invalid_client"], "a confidential client's code with client_id alone")
}

async fn auth_methods(ctx: &OCtx) -> Step {
    // RFC 8414 §2: when the member is omitted, the default is client_secret_basic.
    let advertised: Vec<String> = match ctx.c.meta.doc.get("token_endpoint_auth_methods_supported") {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => vec!["client_secret_basic".into()],
    };
    let c = ctx.main().clone();
    let secret = c.secret.clone().unwrap_or_default();
    let mut tried = 0;
    for method in [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost] {
        if !advertised.iter().any(|m| m == method.as_str()) {
            continue;
        }
        tried += 1;
        let auth = match method {
            AuthMethod::ClientSecretPost => ClientAuth::Post(c.id.clone(), secret.clone()),
            _ => ClientAuth::Basic(c.id.clone(), secret.clone()),
        };
        let g = ctx.grant(&c).await?;
        let r = ctx.exchange_as(&auth, &g).await?;
        ensure(Tokens::from_response(&r).is_some(), format!("{} (advertised) works", method.as_str()), || r.summary())?;
    }
    if tried == 0 {
        return Err(skip("neither client_secret_basic nor client_secret_post is advertised"));
    }
    Ok(())
}

async fn password_grant(ctx: &OCtx) -> Step {
    let form = [("grant_type", "password"), ("username", "idconform@example.com"), ("password", "idconform")];
    let r = ctx.post("token_endpoint", &ClientAuth::of(ctx.main()), &form).await?;
    ensure(Tokens::from_response(&r).is_none(), "no tokens for the password grant", || r.summary())?;
    refused(&r, &["unsupported_grant_type", "unauthorized_client", "invalid_grant"], "the password grant")
}

async fn unsupported_grant(ctx: &OCtx) -> Step {
    let form = [("grant_type", "urn:idconform:unknown-grant")];
    let r = ctx.post("token_endpoint", &ClientAuth::of(ctx.main()), &form).await?;
    let code = error_code(&r);
    ensure(
        r.status == 400 && code.as_deref() == Some("unsupported_grant_type"),
        "HTTP 400 with error unsupported_grant_type",
        || r.summary(),
    )
}
