//! Token revocation (RFC 7009).

use super::util::{challenged, refused};
use crate::check;
use crate::check::{Check, Step, ensure, skip};
use crate::oauth::{AuthMethod, ClientAuth, OCtx};

pub fn checks() -> Vec<Check<OCtx>> {
    vec![
        check! {
            id: "oauth.revoke.refresh",
            title: "A revoked refresh token is refused",
            spec: ("RFC 7009", "2", "Implementations MUST support the revocation of refresh tokens and SHOULD support the revocation of access tokens (see Implementation Note)."),
            level: Must,
            tags: ["revoke", "negative"],
            run: refresh,
        },
        check! {
            id: "oauth.revoke.refresh-kills-access",
            title: "Revoking a refresh token invalidates the access tokens of the same grant",
            spec: ("RFC 7009", "2.1", "If the token passed to the request is a refresh token and the authorization server supports the revocation of access tokens, then the authorization server SHOULD also invalidate all access tokens based on the same authorization grant"),
            level: Should,
            tags: ["revoke", "negative"],
            run: refresh_kills_access,
        },
        check! {
            id: "oauth.revoke.access",
            title: "A revoked access token stops working",
            spec: ("RFC 7009", "2", "Implementations MUST support the revocation of refresh tokens and SHOULD support the revocation of access tokens (see Implementation Note)."),
            level: Should,
            tags: ["revoke", "negative"],
            run: access,
        },
        check! {
            id: "oauth.revoke.invalid-token",
            title: "Revoking an unknown token answers 200",
            spec: ("RFC 7009", "2.2", "The authorization server responds with HTTP status code 200 if the token has been revoked successfully or if the client submitted an invalid token."),
            level: Must,
            tags: ["revoke"],
            run: invalid_token,
        },
        check! {
            id: "oauth.revoke.client-auth",
            title: "Revocation with a wrong client secret is refused and revokes nothing",
            spec: ("RFC 7009", "2.1", "The authorization server first validates the client credentials (in case of a confidential client) and then verifies whether the token was issued to the client making the revocation request. If this validation fails, the request is refused and the client is informed of the error by the authorization server as described below."),
            level: Must,
            tags: ["revoke", "client-auth", "negative"],
            run: client_auth,
        },
        check! {
            id: "oauth.revoke.other-client",
            title: "A client cannot revoke another client's token",
            spec: ("RFC 7009", "2.1", "The authorization server first validates the client credentials (in case of a confidential client) and then verifies whether the token was issued to the client making the revocation request. If this validation fails, the request is refused and the client is informed of the error by the authorization server as described below."),
            level: Must,
            tags: ["revoke", "negative"],
            run: other_client,
        },
    ]
}

fn advertised(ctx: &OCtx) -> Step {
    if ctx.c.meta.str("revocation_endpoint").is_some() || ctx.c.meta.doc.is_null() {
        Ok(())
    } else {
        Err(skip("the metadata advertises no revocation_endpoint"))
    }
}

async fn revoke_ok(ctx: &OCtx, auth: &ClientAuth, token: &str, hint: &str) -> Step {
    let r = ctx.revoke(auth, token, Some(hint)).await?;
    ensure(r.status == 200, "HTTP 200 from the revocation endpoint", || r.summary())
}

async fn refresh(ctx: &OCtx) -> Step {
    advertised(ctx)?;
    let (_, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    let me = ClientAuth::of(ctx.main());
    revoke_ok(ctx, &me, &rt, "refresh_token").await?;
    let r = ctx.refresh(&me, &rt, None).await?;
    refused(&r, &["invalid_grant"], "a revoked refresh token")
}

async fn refresh_kills_access(ctx: &OCtx) -> Step {
    advertised(ctx)?;
    let (t, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    revoke_ok(ctx, &ClientAuth::of(ctx.main()), &rt, "refresh_token").await?;
    ensure(!ctx.accepted(&t.access_token).await?, "the grant's access token is invalid too", || {
        "it still works at the userinfo endpoint".into()
    })
}

async fn access(ctx: &OCtx) -> Step {
    advertised(ctx)?;
    if !ctx.t().expect.revokes_access_tokens {
        return Err(skip("the target declares access tokens are not revocable (expect.revokes_access_tokens)"));
    }
    let t = ctx.tokens(ctx.main()).await?;
    revoke_ok(ctx, &ClientAuth::of(ctx.main()), &t.access_token, "access_token").await?;
    ensure(!ctx.accepted(&t.access_token).await?, "the revoked access token is refused", || {
        "it still works at the userinfo endpoint".into()
    })
}

async fn invalid_token(ctx: &OCtx) -> Step {
    advertised(ctx)?;
    revoke_ok(ctx, &ClientAuth::of(ctx.main()), "idconform-not-a-token", "refresh_token").await
}

async fn client_auth(ctx: &OCtx) -> Step {
    advertised(ctx)?;
    let t = ctx.tokens(ctx.main()).await?;
    let wrong = ClientAuth::with_wrong_secret(ctx.main());
    let r = ctx.revoke(&wrong, &t.access_token, Some("access_token")).await?;
    if ctx.main().auth == AuthMethod::ClientSecretBasic {
        challenged(&r, "Basic", Some("invalid_client"), "revocation with a wrong secret")?;
    } else {
        refused(&r, &["invalid_client"], "revocation with a wrong secret")?;
    }
    ensure(ctx.accepted(&t.access_token).await?, "the token still works after the refused revocation", || {
        "it was revoked anyway".into()
    })
}

async fn other_client(ctx: &OCtx) -> Step {
    advertised(ctx)?;
    let other = ctx.second()?.clone();
    let (_, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    // RFC 7009 §2.1 refuses the request; a server that answers 200 without revoking (so as not to confirm the
    // token exists) keeps the token safe too, so the token's survival is what is judged.
    let _ = ctx.revoke(&ClientAuth::of(&other), &rt, Some("refresh_token")).await?;
    let r = ctx.refresh(&ClientAuth::of(ctx.main()), &rt, None).await?;
    ensure(r.status == 200, "the owner's refresh token still works after another client tried to revoke it", || {
        r.summary()
    })
}
