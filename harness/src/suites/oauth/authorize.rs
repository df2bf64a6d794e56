//! The authorization endpoint (RFC 6749 §4.1.1–4.1.2): redirect URI matching, client identification, state, the
//! issuer parameter, error responses, scope and PKCE at the front channel.

use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::oauth::client::random_token;
use crate::oauth::{AuthzRequest, Front, OCtx, Pkce, PkcePolicy, Tokens};

pub fn checks() -> Vec<Check<OCtx>> {
    vec![
        check! {
            id: "oauth.authorize.redirect-near-miss",
            title: "Redirect URIs that differ from the registered one in any way are refused without a redirect",
            spec: ("RFC 9700", "2.1", "When comparing client redirection URIs against pre-registered URIs, authorization servers MUST utilize exact string matching except for port numbers in localhost redirection URIs of native apps."),
            level: Must,
            tags: ["authorize", "redirect-uri", "negative"],
            run: redirect_near_miss,
        },
        check! {
            id: "oauth.authorize.redirect-unregistered",
            title: "An unregistered redirect URI is never redirected to",
            spec: ("RFC 6749", "4.1.2.1", "If the request fails due to a missing, invalid, or mismatching redirection URI, or if the client identifier is missing or invalid, the authorization server SHOULD inform the resource owner of the error and MUST NOT automatically redirect the user-agent to the invalid redirection URI."),
            level: Must,
            tags: ["authorize", "redirect-uri", "negative"],
            run: redirect_unregistered,
        },
        check! {
            id: "oauth.authorize.unknown-client",
            title: "An unknown client_id gets an error page, not a redirect",
            spec: ("RFC 6749", "4.1.2.1", "If the request fails due to a missing, invalid, or mismatching redirection URI, or if the client identifier is missing or invalid, the authorization server SHOULD inform the resource owner of the error and MUST NOT automatically redirect the user-agent to the invalid redirection URI."),
            level: Must,
            tags: ["authorize", "negative"],
            run: unknown_client,
        },
        check! {
            id: "oauth.authorize.state",
            title: "state is returned exactly as sent",
            spec: ("RFC 6749", "4.1.2", "state REQUIRED if the \"state\" parameter was present in the client authorization request. The exact value received from the client."),
            level: Must,
            tags: ["authorize"],
            run: state,
        },
        check! {
            id: "oauth.authorize.error-redirect",
            title: "An unsupported response_type is reported to the client's redirect URI with state",
            spec: ("RFC 6749", "4.1.2.1", "If the resource owner denies the access request or if the request fails for reasons other than a missing or invalid redirection URI, the authorization server informs the client by adding the following parameters to the query component of the redirection URI"),
            level: Must,
            tags: ["authorize"],
            run: error_redirect,
        },
        check! {
            id: "oauth.authorize.iss",
            title: "Authorization responses carry iss, the issuer identifier",
            spec: ("RFC 9207", "2", "In authorization responses to the client, including error responses, an authorization server supporting this specification MUST indicate its identity by including the iss parameter in the response."),
            level: Must,
            tags: ["authorize", "rfc9207"],
            run: iss,
        },
        check! {
            id: "oauth.authorize.implicit-refused",
            title: "The implicit grant (response_type=token) issues no access token",
            spec: ("RFC 9700", "2.1.2", "In order to avoid these issues, clients SHOULD NOT use the implicit grant (response type \"token\") or other response types issuing access tokens in the authorization response"),
            level: Should,
            tags: ["authorize", "negative"],
            run: implicit_refused,
        },
        check! {
            id: "oauth.authorize.unknown-scope",
            title: "A scope the server does not know is refused or left out of the grant, and the grant says so",
            spec: ("RFC 6749", "3.3", "If the issued access token scope is different from the one requested by the client, the authorization server MUST include the \"scope\" response parameter to inform the client of the actual scope granted."),
            level: Must,
            tags: ["authorize", "scope", "negative"],
            run: unknown_scope,
        },
        check! {
            id: "oauth.authorize.pkce-required",
            title: "A client the server requires PKCE of is refused without a code_challenge",
            spec: ("RFC 7636", "4.4.1", "If the server requires Proof Key for Code Exchange (PKCE) by OAuth public clients and the client does not send the \"code_challenge\" in the request, the authorization endpoint MUST return the authorization error response with the \"error\" value set to \"invalid_request\"."),
            level: Must,
            tags: ["authorize", "pkce", "negative"],
            run: pkce_required,
        },
        check! {
            id: "oauth.authorize.pkce-plain-refused",
            title: "code_challenge_method=plain gets no tokens",
            spec: ("RFC 9700", "2.1.1", "Clients SHOULD use PKCE code challenge methods that do not expose the PKCE verifier in the authorization request. Otherwise, attackers that can read the authorization request … can break the security provided by PKCE. Currently, S256 is the only such method."),
            level: Should,
            tags: ["authorize", "pkce", "negative"],
            run: pkce_plain_refused,
        },
    ]
}

/// Redirect URIs one edit away from `uri`, each with what makes it different.
pub fn near_misses(uri: &str) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let Ok(u) = reqwest::Url::parse(uri) else { return out };
    let host = u.host_str().unwrap_or_default().to_owned();
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1");
    let (base, query) = uri.split_once('?').map_or((uri, None), |(b, q)| (b, Some(q)));
    let with_query = |b: &str| query.map_or(b.to_owned(), |q| format!("{b}?{q}"));
    if base.ends_with('/') {
        out.push(("trailing slash removed", with_query(base.trim_end_matches('/'))));
    } else {
        out.push(("trailing slash added", with_query(&format!("{base}/"))));
    }
    out.push(("path segment appended", with_query(&format!("{}/idconform", base.trim_end_matches('/')))));
    out.push(("query parameter added", format!("{uri}{}idconform=1", if query.is_some() { '&' } else { '?' })));
    let path = u.path();
    if path.chars().any(|c| c.is_ascii_lowercase()) {
        let upper = format!("{}{}", &base[..base.len() - path.len()], path.to_ascii_uppercase());
        out.push(("path case changed", with_query(&upper)));
    }
    if let Some(first) = path.strip_prefix('/').and_then(|p| p.chars().next()).filter(char::is_ascii_alphanumeric) {
        let encoded = format!("{}/%{:02X}{}", &base[..base.len() - path.len()], u32::from(first), &path[2..]);
        out.push(("path character percent-encoded", with_query(&encoded)));
    }
    match u.scheme() {
        "https" => out.push(("https downgraded to http", uri.replacen("https://", "http://", 1))),
        "http" if !loopback => out.push(("http upgraded to https", uri.replacen("http://", "https://", 1))),
        _ => {}
    }
    if !host.is_empty() && !loopback {
        let authority = u.port().map_or(host.clone(), |p| format!("{host}:{p}"));
        out.push(("host suffix added", uri.replacen(&authority, &format!("{host}.attacker.idconform.test"), 1)));
        out.push((
            "attacker host behind user information",
            uri.replacen(&authority, &format!("{authority}@attacker.idconform.test"), 1),
        ));
        // RFC 8252 §7.3 lets any port match for loopback redirect URIs; elsewhere the port is part of the string.
        if u.port().is_none() {
            out.push(("port added", uri.replacen(&host, &format!("{host}:8443"), 1)));
        }
    }
    out.push(("fragment added", format!("{uri}#idconform")));
    out
}

/// Whether the walk ended by sending the browser to `variant` (a near-miss or unregistered URI).
fn went_to(front: &Front, variant: &str) -> bool {
    match front {
        Front::Redirect { url, .. } => {
            let normal = reqwest::Url::parse(variant).map(|u| u.to_string()).unwrap_or_else(|_| variant.to_owned());
            let (v, frag) = normal.split_once('#').map_or((normal.as_str(), None), |(a, b)| (a, Some(b)));
            url.starts_with(v) && (frag.is_none() || url.contains('#'))
        }
        Front::Page { .. } => false,
    }
}

async fn redirect_near_miss(ctx: &OCtx) -> Step {
    let mut accepted = Vec::new();
    for (what, variant) in near_misses(&ctx.t().redirect_uri) {
        let mut req = ctx.c.request(ctx.main());
        req.redirect_uri = Some(variant.clone());
        let front = ctx.front(&req).await?;
        if went_to(&front, &variant) {
            accepted.push(format!("{what} ({variant})"));
        }
    }
    ensure(accepted.is_empty(), "no redirect to any near miss of the registered URI", || {
        format!("redirected to: {}", accepted.join("; "))
    })
}

async fn redirect_unregistered(ctx: &OCtx) -> Step {
    let evil = "https://attacker.idconform.test/callback";
    let mut req = ctx.c.request(ctx.main());
    req.redirect_uri = Some(evil.into());
    let front = ctx.front(&req).await?;
    ensure(!went_to(&front, evil), format!("no redirect to {evil}"), || front.describe())
}

async fn unknown_client(ctx: &OCtx) -> Step {
    let mut req = ctx.c.request(ctx.main());
    req.client_id = format!("idconform-unknown-{}", &random_token()[..12]);
    let front = ctx.front(&req).await?;
    ensure(
        matches!(front, Front::Page { .. }),
        "an error page, no redirect (no redirect URI is registered for an unknown client)",
        || front.describe(),
    )
}

async fn state(ctx: &OCtx) -> Step {
    let mut req = ctx.c.request(ctx.main());
    let sent = format!("idc {}/+=&~é", &random_token()[..8]);
    req.state = Some(sent.clone());
    let front = ctx.front(&req).await?;
    ensure(front.param("code").is_some(), "a redirect with a code", || front.describe())?;
    let got = front.param("state");
    ensure(got == Some(sent.as_str()), format!("state {sent:?}"), || format!("state {got:?}"))
}

/// A request the server must answer with an error redirect: an unknown response_type.
fn bad_response_type(ctx: &OCtx) -> AuthzRequest {
    let mut req = ctx.c.request(ctx.main());
    req.response_type = "idconform_unknown".into();
    req
}

async fn error_redirect(ctx: &OCtx) -> Step {
    let req = bad_response_type(ctx);
    let front = ctx.front(&req).await?;
    let expected = "a redirect to the client with error=unsupported_response_type and state";
    ensure(front.redirected_to(&ctx.t().redirect_uri), expected, || front.describe())?;
    ensure(front.param("error") == Some("unsupported_response_type"), expected, || front.describe())?;
    ensure(front.param("state") == req.state.as_deref(), expected, || front.describe())
}

async fn iss(ctx: &OCtx) -> Step {
    if ctx.c.meta.doc.get("authorization_response_iss_parameter_supported").and_then(serde_json::Value::as_bool)
        != Some(true)
    {
        return Err(skip("the metadata does not advertise authorization_response_iss_parameter_supported"));
    }
    let issuer = ctx.t().issuer.clone();
    let ok = ctx.front(&ctx.c.request(ctx.main())).await?;
    ensure(ok.param("iss") == Some(issuer.as_str()), format!("iss {issuer:?} on a success response"), || {
        ok.describe()
    })?;
    let err = ctx.front(&bad_response_type(ctx)).await?;
    ensure(
        err.param("error").is_none() || err.param("iss") == Some(issuer.as_str()),
        format!("iss {issuer:?} on an error response"),
        || err.describe(),
    )
}

async fn implicit_refused(ctx: &OCtx) -> Step {
    let mut req = ctx.c.request(ctx.main());
    req.response_type = "token".into();
    let front = ctx.front(&req).await?;
    let leaked = match &front {
        Front::Redirect { url, .. } => url.contains("access_token="),
        Front::Page { .. } => false,
    };
    ensure(!leaked, "no access token in the authorization response", || front.describe())
}

async fn unknown_scope(ctx: &OCtx) -> Step {
    let unknown = "idconform.unknown-scope";
    let mut req = ctx.c.request(ctx.main());
    req.scope = Some(format!("{} {unknown}", ctx.t().scope));
    let front = ctx.front(&req).await?;
    if front.param("error") == Some("invalid_scope") {
        return Ok(());
    }
    let Some(code) = front.param("code") else {
        return Err(fail("error=invalid_scope, or a code for the known scopes", front.describe()));
    };
    let g = crate::oauth::Grant { code: code.to_owned(), req };
    let r = ctx.exchange(ctx.main(), &g).await?;
    let Some(t) = Tokens::from_response(&r) else {
        return Ok(()); // refused at the token endpoint: nothing was granted
    };
    match t.scope.as_deref() {
        None => Err(fail(
            "a \"scope\" member saying what was granted, since the request was not granted in full",
            t.body.to_string(),
        )),
        Some(s) => ensure(!s.split(' ').any(|x| x == unknown), format!("a granted scope without {unknown:?}"), || {
            format!("scope {s:?}")
        }),
    }
}

async fn pkce_required(ctx: &OCtx) -> Step {
    let mut clients = Vec::new();
    match ctx.t().expect.pkce {
        PkcePolicy::Optional => return Err(skip("the target declares PKCE optional (expect.pkce)")),
        PkcePolicy::Required => clients.push(ctx.main().clone()),
        PkcePolicy::RequiredForPublic => {}
    }
    if let Ok(p) = ctx.public() {
        clients.push(p.clone());
    }
    if clients.is_empty() {
        return Err(skip("PKCE is required of public clients only, and the target declares no public_client"));
    }
    for c in clients {
        let mut req = ctx.c.request(&c);
        req.pkce = None;
        let front = ctx.front(&req).await?;
        let ok = front.param("error") == Some("invalid_request") || matches!(front, Front::Page { .. });
        ensure(ok, format!("client {}: error=invalid_request without a code_challenge", c.id), || front.describe())?;
    }
    Ok(())
}

async fn pkce_plain_refused(ctx: &OCtx) -> Step {
    if ctx.t().expect.plain_pkce {
        return Err(skip("the target declares plain PKCE allowed for its client (expect.plain_pkce)"));
    }
    let mut req = ctx.c.request(ctx.main());
    req.pkce = Some(Pkce::plain());
    let front = ctx.front(&req).await?;
    let Some(code) = front.param("code") else {
        return Ok(()); // refused at the authorization endpoint
    };
    let g = crate::oauth::Grant { code: code.to_owned(), req };
    let r = ctx.exchange(ctx.main(), &g).await?;
    ensure(Tokens::from_response(&r).is_none(), "no tokens for a plain code challenge", || r.summary())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_are_all_different_and_one_edit_away() {
        let v = near_misses("https://client.example/callback");
        let names: Vec<&str> = v.iter().map(|(n, _)| *n).collect();
        assert!(names.contains(&"port added") && names.contains(&"path character percent-encoded"));
        assert!(v.iter().all(|(_, u)| u != "https://client.example/callback"));
        assert!(v.iter().any(|(_, u)| u == "https://client.example/%63allback"));
        assert!(v.iter().any(|(_, u)| u == "https://client.example@attacker.idconform.test/callback"));
        let loopback = near_misses("http://127.0.0.1:8080/cb");
        assert!(loopback.iter().all(|(n, _)| *n != "port added" && *n != "http upgraded to https"));
    }
}
