//! The refresh token grant (RFC 6749 §6) and refresh token rotation with reuse detection (RFC 9700 §4.14.2).

use super::util::refused;
use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::oauth::{ClientAuth, OCtx, Tokens};

pub fn checks() -> Vec<Check<OCtx>> {
    vec![
        check! {
            id: "oauth.refresh.works",
            title: "A refresh token gives a new, working access token",
            spec: ("RFC 6749", "6", "If the authorization server issued a refresh token to the client, the client makes a refresh request to the token endpoint … If valid and authorized, the authorization server issues an access token as described in Section 5.1."),
            level: Must,
            tags: ["refresh"],
            run: works,
        },
        check! {
            id: "oauth.refresh.rotation",
            title: "A refresh returns a new refresh token and retires the one presented",
            spec: ("RFC 9700", "4.14.2", "Refresh token rotation: the authorization server issues a new refresh token with every access token refresh response. The previous refresh token is invalidated, but information about the relationship is retained by the authorization server."),
            level: Should,
            tags: ["refresh", "negative"],
            run: rotation,
        },
        check! {
            id: "oauth.refresh.reuse-revokes-family",
            title: "Presenting a retired refresh token revokes the active one too",
            spec: ("RFC 9700", "4.14.2", "If a refresh token is compromised and subsequently used by both the attacker and the legitimate client, one of them will present an invalidated refresh token, which will inform the authorization server of the breach. The authorization server cannot determine which party submitted the invalid refresh token, but it will revoke the active refresh token."),
            level: Should,
            tags: ["refresh", "negative"],
            run: reuse_revokes_family,
        },
        check! {
            id: "oauth.refresh.scope-escalation",
            title: "A refresh cannot widen the scope originally granted",
            spec: ("RFC 6749", "6", "The requested scope MUST NOT include any scope not originally granted by the resource owner, and if omitted is treated as equal to the scope originally granted by the resource owner."),
            level: Must,
            tags: ["refresh", "scope", "negative"],
            run: scope_escalation,
        },
        check! {
            id: "oauth.refresh.other-client",
            title: "A refresh token issued to one client cannot be used by another",
            spec: ("RFC 6749", "6", "The authorization server MUST: … validate the refresh token, and ensure that the refresh token was issued to the authenticated client"),
            level: Must,
            tags: ["refresh", "negative"],
            run: other_client,
        },
        check! {
            id: "oauth.refresh.client-auth",
            title: "A confidential client's refresh is refused with a wrong secret",
            spec: ("RFC 6749", "6", "The authorization server MUST: require client authentication for confidential clients or for any client that was issued client credentials"),
            level: Must,
            tags: ["refresh", "client-auth", "negative"],
            run: client_auth,
        },
    ]
}

async fn works(ctx: &OCtx) -> Step {
    let (_, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    let r = ctx.refresh(&ClientAuth::of(ctx.main()), &rt, None).await?;
    let t = Tokens::from_response(&r).ok_or_else(|| fail("HTTP 200 with a new access_token", r.summary()))?;
    ensure(ctx.accepted(&t.access_token).await?, "the refreshed access token works at the userinfo endpoint", || {
        "refused".into()
    })
}

/// A refresh that must succeed; returns the new tokens.
async fn refreshed(ctx: &OCtx, rt: &str) -> Step<Tokens> {
    let r = ctx.refresh(&ClientAuth::of(ctx.main()), rt, None).await?;
    Tokens::from_response(&r).ok_or_else(|| fail("setup: the refresh succeeds", r.summary()))
}

fn rotation_declared(ctx: &OCtx) -> Step {
    if ctx.t().expect.refresh_rotation {
        Ok(())
    } else {
        Err(skip("the target declares refresh tokens that do not rotate (expect.refresh_rotation)"))
    }
}

async fn rotation(ctx: &OCtx) -> Step {
    rotation_declared(ctx)?;
    let (_, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    let t = refreshed(ctx, &rt).await?;
    let new = t.refresh_token.as_deref();
    ensure(new.is_some_and(|n| n != rt), "a new refresh_token in the refresh response", || {
        format!("refresh_token {new:?}")
    })?;
    let again = ctx.refresh(&ClientAuth::of(ctx.main()), &rt, None).await?;
    refused(&again, &["invalid_grant"], "the retired refresh token")
}

async fn reuse_revokes_family(ctx: &OCtx) -> Step {
    rotation_declared(ctx)?;
    let (_, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    let t = refreshed(ctx, &rt).await?;
    let active = t.refresh_token.clone().ok_or_else(|| fail("setup: a rotated refresh_token", t.body.to_string()))?;
    let replay = ctx.refresh(&ClientAuth::of(ctx.main()), &rt, None).await?;
    refused(&replay, &["invalid_grant"], "the retired refresh token")?;
    let r = ctx.refresh(&ClientAuth::of(ctx.main()), &active, None).await?;
    refused(&r, &["invalid_grant"], "the active refresh token after its predecessor was replayed")?;
    ensure(!ctx.accepted(&t.access_token).await?, "the family's access token is revoked as well", || {
        "it still works at the userinfo endpoint".into()
    })
}

async fn scope_escalation(ctx: &OCtx) -> Step {
    let (t, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    let granted = t.scope.clone().unwrap_or_else(|| ctx.t().scope.clone());
    let extra = ctx
        .t()
        .limited_scope
        .clone()
        .filter(|l| !granted.split(' ').any(|g| g == l))
        .unwrap_or_else(|| "idconform.unknown-scope".into());
    let wider = format!("{granted} {extra}");
    let r = ctx.refresh(&ClientAuth::of(ctx.main()), &rt, Some(&wider)).await?;
    if let Some(t) = Tokens::from_response(&r) {
        let got = t.scope.unwrap_or_else(|| wider.clone());
        return ensure(!got.split(' ').any(|s| s == extra), format!("no grant of {extra:?}"), || {
            format!("scope {got:?}")
        });
    }
    refused(&r, &["invalid_scope"], &format!("a refresh asking for {extra:?} as well"))
}

async fn other_client(ctx: &OCtx) -> Step {
    let other = ctx.second()?.clone();
    let (_, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    let r = ctx.refresh(&ClientAuth::of(&other), &rt, None).await?;
    refused(&r, &["invalid_grant"], "another client's refresh token")
}

async fn client_auth(ctx: &OCtx) -> Step {
    let (_, rt) = ctx.tokens_with_refresh(ctx.main()).await?;
    let r = ctx.refresh(&ClientAuth::with_wrong_secret(ctx.main()), &rt, None).await?;
    refused(&r, &["invalid_client"], "a refresh with a wrong client secret")
}
