//! The JWT bearer authorization grant (RFC 7523 §2.1, §3): a valid assertion is honoured, and every forgery gets
//! `invalid_grant` (RFC 7523 §3.1).

use super::util::refused;
use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::http::Response;
use crate::oauth::jwt::{Forgery, claims, sign};
use crate::oauth::{ClientAuth, JwtBearer, OCtx, Tokens};

/// The grant type (RFC 7523 §2.1).
pub const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

const REFUSE: &str = "If the JWT is not valid, or the current time is not within the token's valid time window for use, the authorization server constructs an error response as defined in OAuth 2.0 [RFC6749]. The value of the \"error\" parameter MUST be the \"invalid_grant\" error code.";

pub fn checks() -> Vec<Check<OCtx>> {
    vec![
        check! {
            id: "oauth.jwt-bearer.valid",
            title: "A valid assertion signed with the registered key gets an access token",
            spec: ("RFC 7523", "2.1", "The value of the \"grant_type\" is \"urn:ietf:params:oauth:grant-type:jwt-bearer\". The value of the \"assertion\" parameter MUST contain a single JWT."),
            level: Must,
            tags: ["jwt-bearer"],
            run: valid,
        },
        check! {
            id: "oauth.jwt-bearer.expired",
            title: "An expired assertion is refused with invalid_grant",
            spec: ("RFC 7523", "3", "The authorization server MUST reject any JWT with an expiration time that has passed, subject to allowable clock skew between systems."),
            level: Must,
            tags: ["jwt-bearer", "negative"],
            run: expired,
        },
        check! {
            id: "oauth.jwt-bearer.no-expiry",
            title: "An assertion without exp is refused with invalid_grant",
            spec: ("RFC 7523", "3", "The JWT MUST contain an \"exp\" (expiration time) claim that limits the time window during which the JWT can be used."),
            level: Must,
            tags: ["jwt-bearer", "negative"],
            run: no_expiry,
        },
        check! {
            id: "oauth.jwt-bearer.not-yet-valid",
            title: "An assertion before its nbf is refused with invalid_grant",
            spec: ("RFC 7523", "3", "The JWT MAY contain an \"nbf\" (not before) claim that identifies the time before which the token MUST NOT be accepted for processing."),
            level: Must,
            tags: ["jwt-bearer", "negative"],
            run: not_yet_valid,
        },
        check! {
            id: "oauth.jwt-bearer.audience",
            title: "An assertion for another audience is refused with invalid_grant",
            spec: ("RFC 7523", "3", "The authorization server MUST reject any JWT that does not contain its own identity as the intended audience."),
            level: Must,
            tags: ["jwt-bearer", "negative"],
            run: audience,
        },
        check! {
            id: "oauth.jwt-bearer.alg-none",
            title: "An unsigned assertion (alg: none) is refused with invalid_grant",
            spec: ("RFC 7523", "3", "The JWT MUST be digitally signed or have a Message Authentication Code (MAC) applied by the issuer. The authorization server MUST reject JWTs with an invalid signature or MAC."),
            level: Must,
            tags: ["jwt-bearer", "negative"],
            run: alg_none,
        },
        check! {
            id: "oauth.jwt-bearer.foreign-key",
            title: "An assertion signed by an unregistered key (claiming the registered kid) is refused",
            spec: ("RFC 7523", "3", "The JWT MUST be digitally signed or have a Message Authentication Code (MAC) applied by the issuer. The authorization server MUST reject JWTs with an invalid signature or MAC."),
            level: Must,
            tags: ["jwt-bearer", "negative"],
            run: foreign_key,
        },
        check! {
            id: "oauth.jwt-bearer.replay",
            title: "An assertion whose jti was already used is refused",
            spec: ("RFC 7523", "3", "The authorization server MAY ensure that JWTs are not replayed by maintaining the set of used \"jti\" values for the length of time for which the JWT would be considered valid based on the applicable \"exp\" instant."),
            level: May,
            tags: ["jwt-bearer", "negative"],
            run: replay,
        },
    ]
}

fn config(ctx: &OCtx) -> Step<&JwtBearer> {
    ctx.t().jwt_bearer.as_ref().ok_or_else(|| skip("the target declares no jwt_bearer key (RFC 7523 not configured)"))
}

/// Signs an assertion with `forgery` and posts it; returns the response and the assertion.
async fn present(ctx: &OCtx, forgery: Forgery) -> Step<(Response, String)> {
    let jb = config(ctx)?;
    let aud = ctx.c.endpoint("token_endpoint");
    let c = claims(jb, &aud, chrono::Utc::now().timestamp(), forgery);
    let assertion = sign(jb, &c, forgery).map_err(|e| fail("setup: an assertion", e.to_string()))?;
    let r = post(ctx, jb, &assertion).await?;
    Ok((r, assertion))
}

async fn post(ctx: &OCtx, jb: &JwtBearer, assertion: &str) -> Step<Response> {
    let form = [("grant_type", GRANT), ("assertion", assertion), ("scope", ctx.t().scope.as_str())];
    ctx.post("token_endpoint", &ClientAuth::of(&jb.client), &form).await
}

async fn forged(ctx: &OCtx, forgery: Forgery, what: &str) -> Step {
    let (r, _) = present(ctx, forgery).await?;
    refused(&r, &["invalid_grant"], what).map_err(|e| match e {
        crate::check::Outcome::Fail { expected, actual } => fail(format!("{expected} ({REFUSE})"), actual),
        other => other,
    })
}

async fn valid(ctx: &OCtx) -> Step {
    let (r, _) = present(ctx, Forgery::None).await?;
    let t = Tokens::from_response(&r).ok_or_else(|| fail("HTTP 200 with an access_token", r.summary()))?;
    ensure(ctx.accepted(&t.access_token).await?, "the access token works at the userinfo endpoint", || "refused".into())
}

async fn expired(ctx: &OCtx) -> Step {
    forged(ctx, Forgery::Expired, "an assertion that expired ten minutes ago").await
}

async fn no_expiry(ctx: &OCtx) -> Step {
    forged(ctx, Forgery::NoExpiry, "an assertion without exp").await
}

async fn not_yet_valid(ctx: &OCtx) -> Step {
    forged(ctx, Forgery::NotYetValid, "an assertion whose nbf is ten minutes ahead").await
}

async fn audience(ctx: &OCtx) -> Step {
    forged(ctx, Forgery::WrongAudience, "an assertion for another audience").await
}

async fn alg_none(ctx: &OCtx) -> Step {
    forged(ctx, Forgery::AlgNone, "an unsigned assertion").await
}

async fn foreign_key(ctx: &OCtx) -> Step {
    forged(ctx, Forgery::ForeignKey, "an assertion signed by a stranger's key").await
}

async fn replay(ctx: &OCtx) -> Step {
    let jb = config(ctx)?.clone();
    let (first, assertion) = present(ctx, Forgery::None).await?;
    Tokens::from_response(&first).ok_or_else(|| fail("setup: the first use succeeds", first.summary()))?;
    let again = post(ctx, &jb, &assertion).await?;
    refused(&again, &["invalid_grant"], "the same assertion a second time")
}
