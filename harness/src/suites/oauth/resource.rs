//! Using tokens: the userinfo endpoint as a protected resource (RFC 6750), its challenges (RFC 6750 §3, RFC 9728
//! §5.1), and token introspection (RFC 7662).

use base64::Engine;
use serde_json::Value;

use super::util::{challenge_param, challenged};
use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::oauth::{ClientAuth, OCtx};

pub fn checks() -> Vec<Check<OCtx>> {
    vec![
        check! {
            id: "oauth.userinfo.works",
            title: "The userinfo endpoint answers a valid bearer token with JSON",
            spec: ("RFC 6750", "2.1", "Clients SHOULD make authenticated requests with a bearer token using the \"Authorization\" request header field with the \"Bearer\" HTTP authorization scheme. Resource servers MUST support this method."),
            level: Must,
            tags: ["userinfo"],
            run: works,
        },
        check! {
            id: "oauth.userinfo.no-token",
            title: "A request without a token is refused with a Bearer challenge",
            spec: ("RFC 6750", "3", "If the protected resource request does not include authentication credentials or does not contain an access token that enables access to the protected resource, the resource server MUST include the HTTP \"WWW-Authenticate\" response header field"),
            level: Must,
            tags: ["userinfo", "negative"],
            run: no_token,
        },
        check! {
            id: "oauth.userinfo.no-token-401",
            title: "A request without a token gets 401 and no error code",
            spec: ("RFC 6750", "3.1", "If the request lacks any authentication information (e.g., the client was unaware that authentication is necessary or attempted using an unsupported authentication method), the resource server SHOULD NOT include an error code or other error information."),
            level: Should,
            tags: ["userinfo", "negative"],
            run: no_token_401,
        },
        check! {
            id: "oauth.userinfo.invalid-token",
            title: "A malformed token gets 401 with error=\"invalid_token\"",
            spec: ("RFC 6750", "3.1", "invalid_token The access token provided is expired, revoked, malformed, or invalid for other reasons. The resource SHOULD respond with the HTTP 401 (Unauthorized) status code."),
            level: Must,
            tags: ["userinfo", "negative"],
            run: invalid_token,
        },
        check! {
            id: "oauth.userinfo.tampered-token",
            title: "A real access token with a changed payload is refused",
            spec: ("RFC 6750", "3.1", "invalid_token The access token provided is expired, revoked, malformed, or invalid for other reasons. The resource SHOULD respond with the HTTP 401 (Unauthorized) status code."),
            level: Must,
            tags: ["userinfo", "negative"],
            run: tampered_token,
        },
        check! {
            id: "oauth.userinfo.insufficient-scope",
            title: "A token without the userinfo scope gets 403 insufficient_scope",
            spec: ("RFC 6750", "3.1", "insufficient_scope The request requires higher privileges than provided by the access token. The resource server SHOULD respond with the HTTP 403 (Forbidden) status code and MAY include the \"scope\" attribute with the scope necessary to access the protected resource."),
            level: Should,
            tags: ["userinfo", "scope", "negative"],
            run: insufficient_scope,
        },
        check! {
            id: "oauth.userinfo.resource-metadata",
            title: "401 challenges point at the protected resource metadata",
            spec: ("RFC 9728", "5.1", "This specification introduces a new parameter in the WWW-Authenticate HTTP response header field to indicate the protected resource metadata URL: resource_metadata"),
            level: May,
            tags: ["userinfo", "rfc9728"],
            run: resource_metadata,
        },
        check! {
            id: "oauth.introspect.active",
            title: "Introspection of a live access token says active, with its scope and client",
            spec: ("RFC 7662", "2.2", "active REQUIRED. Boolean indicator of whether or not the presented token is currently active."),
            level: Must,
            tags: ["introspect"],
            run: introspect_active,
        },
        check! {
            id: "oauth.introspect.inactive",
            title: "Introspection of an unknown or revoked token answers {\"active\": false}",
            spec: ("RFC 7662", "2.2", "If the introspection call is properly authorized but the token is not active, does not exist on this server, or the protected resource is not allowed to introspect this particular token, then the authorization server MUST return an introspection response with the \"active\" field set to \"false\"."),
            level: Must,
            tags: ["introspect", "negative"],
            run: introspect_inactive,
        },
        check! {
            id: "oauth.introspect.auth",
            title: "Introspection without client authentication is refused",
            spec: ("RFC 7662", "2.1", "To prevent token scanning attacks, the endpoint MUST also require some form of authorization to access this endpoint"),
            level: Must,
            tags: ["introspect", "client-auth", "negative"],
            run: introspect_auth,
        },
    ]
}

async fn works(ctx: &OCtx) -> Step {
    let t = ctx.tokens(ctx.main()).await?;
    let r = ctx.userinfo(Some(&t.access_token)).await?;
    ensure(r.status == 200 && r.json().is_some_and(|v| v.is_object()), "HTTP 200 with a JSON object", || r.summary())
}

async fn no_token(ctx: &OCtx) -> Step {
    let r = ctx.userinfo(None).await?;
    let challenge = r.header("www-authenticate").unwrap_or_default();
    let bearer = challenge.split([' ', ',']).next().is_some_and(|s| s.eq_ignore_ascii_case("Bearer"));
    ensure((400..500).contains(&r.status) && bearer, "a 4xx with a WWW-Authenticate: Bearer challenge", || {
        format!("{} (WWW-Authenticate: {challenge:?})", r.summary())
    })
}

async fn no_token_401(ctx: &OCtx) -> Step {
    let r = ctx.userinfo(None).await?;
    challenged(&r, "Bearer", None, "a request without a token")?;
    let challenge = r.header("www-authenticate").unwrap_or_default();
    let in_body = super::util::error_code(&r);
    ensure(challenge_param(challenge, "error").is_none() && in_body.is_none(), "no error code (RFC 6750 §3.1)", || {
        format!("WWW-Authenticate: {challenge}; body error {in_body:?}")
    })
}

async fn invalid_token(ctx: &OCtx) -> Step {
    let r = ctx.userinfo(Some("idconform-not-a-token")).await?;
    challenged(&r, "Bearer", Some("invalid_token"), "a malformed token")
}

/// The token with one character of its payload changed: for a JWT the signature no longer matches, for an opaque
/// token it is simply another, unknown token.
fn tamper(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 3 {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        if let Ok(mut claims) =
            engine.decode(parts[1]).map_err(|_| ()).and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|_| ()))
        {
            claims["scope"] = Value::String("admin user.read users.read groups.read".into());
            claims["sub"] = Value::String("idconform-someone-else".into());
            return format!("{}.{}.{}", parts[0], engine.encode(claims.to_string()), parts[2]);
        }
    }
    let mut chars: Vec<char> = token.chars().collect();
    if let Some(last) = chars.last_mut() {
        *last = if *last == 'A' { 'B' } else { 'A' };
    }
    chars.into_iter().collect()
}

async fn tampered_token(ctx: &OCtx) -> Step {
    let t = ctx.tokens(ctx.main()).await?;
    let r = ctx.userinfo(Some(&tamper(&t.access_token))).await?;
    challenged(&r, "Bearer", Some("invalid_token"), "a tampered access token")
}

async fn insufficient_scope(ctx: &OCtx) -> Step {
    let Some(limited) = ctx.t().limited_scope.clone() else {
        return Err(skip("the target declares no limited_scope (a scope without userinfo access)"));
    };
    let mut req = ctx.c.request(ctx.main());
    req.scope = Some(limited.clone());
    let g = ctx.grant_with(req).await?;
    let r = ctx.exchange(ctx.main(), &g).await?;
    let t = crate::oauth::Tokens::from_response(&r)
        .ok_or_else(|| fail(format!("setup: tokens for scope {limited:?}"), r.summary()))?;
    let r = ctx.userinfo(Some(&t.access_token)).await?;
    let challenge = r.header("www-authenticate").unwrap_or_default();
    let code = challenge_param(challenge, "error");
    ensure(
        r.status == 403 && code.as_deref() == Some("insufficient_scope"),
        "HTTP 403 with error=\"insufficient_scope\" in the challenge",
        || format!("{} (WWW-Authenticate: {challenge:?})", r.summary()),
    )
}

async fn resource_metadata(ctx: &OCtx) -> Step {
    let r = ctx.userinfo(None).await?;
    let challenge = r.header("www-authenticate").unwrap_or_default();
    let Some(url) = challenge_param(challenge, "resource_metadata") else {
        return Err(fail("a resource_metadata parameter in the challenge", format!("WWW-Authenticate: {challenge:?}")));
    };
    let m = ctx.get(&url).await?;
    ensure(
        m.status == 200 && m.json().is_some_and(|v| v.get("resource").is_some()),
        format!("{url} serves protected resource metadata"),
        || m.summary(),
    )
}

fn introspection(ctx: &OCtx) -> Step {
    if ctx.c.meta.str("introspection_endpoint").is_some() {
        Ok(())
    } else {
        Err(skip("the metadata advertises no introspection_endpoint"))
    }
}

fn active(r: &crate::http::Response) -> Option<bool> {
    r.json().and_then(|v| v.get("active").and_then(Value::as_bool))
}

async fn introspect_active(ctx: &OCtx) -> Step {
    introspection(ctx)?;
    let t = ctx.tokens(ctx.main()).await?;
    let r = ctx.introspect(&ClientAuth::of(ctx.main()), &t.access_token).await?;
    ensure(r.status == 200 && active(&r) == Some(true), "HTTP 200 with \"active\": true", || r.summary())
}

async fn introspect_inactive(ctx: &OCtx) -> Step {
    introspection(ctx)?;
    let me = ClientAuth::of(ctx.main());
    let r = ctx.introspect(&me, "idconform-not-a-token").await?;
    ensure(r.status == 200 && active(&r) == Some(false), "an unknown token: HTTP 200 with \"active\": false", || {
        r.summary()
    })?;
    let t = ctx.tokens(ctx.main()).await?;
    let revoked = ctx.revoke(&me, &t.access_token, Some("access_token")).await?;
    if revoked.status == 200 && ctx.t().expect.revokes_access_tokens {
        let r = ctx.introspect(&me, &t.access_token).await?;
        ensure(
            r.status == 200 && active(&r) == Some(false),
            "a revoked token: HTTP 200 with \"active\": false",
            || r.summary(),
        )?;
    }
    Ok(())
}

async fn introspect_auth(ctx: &OCtx) -> Step {
    introspection(ctx)?;
    let t = ctx.tokens(ctx.main()).await?;
    let r = ctx.introspect(&ClientAuth::Anonymous, &t.access_token).await?;
    ensure(
        matches!(r.status, 400 | 401 | 403) && active(&r) != Some(true),
        "HTTP 401 (or 400/403), and nothing about the token",
        || r.summary(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn tampering_changes_the_payload_but_keeps_the_shape() {
        let jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        let t = super::tamper(jwt);
        assert_ne!(t, jwt);
        assert_eq!(t.split('.').count(), 3);
        assert!(t.ends_with(".c2ln"));
        assert_ne!(super::tamper("opaque"), "opaque");
    }
}
