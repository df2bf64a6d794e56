//! The token endpoint: the code exchange with every binding (client, redirect URI, PKCE verifier, single use,
//! expiry), client authentication (Basic, post, none; failures 401 with a challenge), `no-store`, and refresh
//! rotation with reuse detection and no scope escalation.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::oauth_support::{REDIRECT, VERIFIER, enc, env, param};

#[tokio::test]
async fn code_exchange_happy_path_and_token_shape() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let code = e.code(&app, "user.read").await;
    let r = e.exchange(&app, &code).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"), "RFC 6749 §5.1");
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert_eq!(r.body["scope"], "user.read");
    assert!(r.body["refresh_token"].as_str().is_some_and(|t| t.starts_with("idc_rt_")));
    let at = r.body["access_token"].as_str().expect("at");
    // RFC 9068: an at+jwt signed ES256 with the published key, with the registered claims.
    let header = jsonwebtoken::decode_header(at).expect("header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let jwks = reqwest::get(format!("{}/.well-known/jwks.json", e.s.origin)).await.expect("jwks");
    let jwks: serde_json::Value = jwks.json().await.expect("json");
    assert!(jwks["keys"].as_array().is_some_and(|k| k.iter().any(|k| k["kid"].as_str() == header.kid.as_deref())));
    let payload = at.split('.').nth(1).expect("payload");
    use base64::Engine;
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("b64"))
            .expect("json");
    for c in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"] {
        assert!(!claims[c].is_null(), "claim {c}: {claims}");
    }
    assert_eq!(claims["iss"], e.s.origin.as_str());
    assert_eq!(claims["client_id"], app.id.as_str());
    assert_eq!(claims["sub"], e.ws.owner.member_id.as_str());

    // client_secret_post works as well.
    let code = e.code(&app, "user.read").await;
    let r = e
        .token_post(
            "/oauth/token",
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
                ("client_id", &app.id),
                ("client_secret", app.secret.as_deref().unwrap_or_default()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn code_reuse_is_refused_and_revokes_what_the_first_use_issued() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let code = e.code(&app, "user.read").await;
    let first = e.exchange(&app, &code).await;
    assert_eq!(first.status, 200);
    let at = first.body["access_token"].as_str().expect("at");
    assert_eq!(e.userinfo(at).await.status, 200);
    let again = e.exchange(&app, &code).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.body["error"], "invalid_grant");
    assert_eq!(again.header("cache-control"), Some("no-store"));
    assert_eq!(e.userinfo(at).await.status, 401, "the first access token is revoked");
    let r = e.refresh(&app, first.body["refresh_token"].as_str().expect("rt"), None).await;
    assert_eq!(r.body["error"], "invalid_grant", "the first refresh token is revoked");
}

#[tokio::test]
async fn codes_expire_and_are_bound_to_client_redirect_and_verifier() {
    let e = env().await;
    let app = e.app(json!({"redirect_uris": [REDIRECT, "https://client.example/other"]})).await;
    let other = e.app(json!({})).await;

    let code = e.code(&app, "user.read").await;
    e.clock.advance(Duration::from_secs(61));
    let r = e.exchange(&app, &code).await;
    assert_eq!(r.body["error"], "invalid_grant", "expired: {}", r.text);

    let code = e.code(&app, "user.read").await;
    let r = e.exchange(&other, &code).await;
    assert_eq!(r.body["error"], "invalid_grant", "another client's code: {}", r.text);

    let basic = (app.id.as_str(), app.secret.as_deref().unwrap_or_default());
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("redirect_uri", "https://client.example/other"), ("code_verifier", VERIFIER)], "invalid_grant"),
        (&[("code_verifier", VERIFIER)], "invalid_request"),
        (&[("redirect_uri", REDIRECT)], "invalid_grant"),
        (
            &[("redirect_uri", REDIRECT), ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK")],
            "invalid_grant",
        ),
        (
            &[("redirect_uri", REDIRECT), ("code_verifier", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")],
            "invalid_grant",
        ),
    ];
    for (extra, want) in cases {
        let code = e.code(&app, "user.read").await;
        let mut form = vec![("grant_type", "authorization_code"), ("code", code.as_str())];
        form.extend_from_slice(extra);
        let r = e.token_post("/oauth/token", Some(basic), &form).await;
        assert_eq!(r.body["error"], want, "{extra:?}: {}", r.text);
    }
}

#[tokio::test]
async fn verifier_without_challenge_and_plain_where_allowed() {
    let e = env().await;
    let optional = e.app(json!({"pkce": "optional"})).await;
    let q =
        format!("response_type=code&client_id={}&redirect_uri={}&scope=user.read&state=s", optional.id, enc(REDIRECT));
    let code = param(&e.authorize_as(&q, &e.ws.owner.email).await, "code").expect("code");
    let r = e.exchange(&optional, &code).await;
    assert_eq!(r.body["error"], "invalid_grant", "verifier without challenge (RFC 9700 §4.8.2): {}", r.text);
    let code = param(&e.authorize_as(&q, &e.ws.owner.email).await, "code").expect("code");
    let basic = (optional.id.as_str(), optional.secret.as_deref().unwrap_or_default());
    let r = e
        .token_post(
            "/oauth/token",
            Some(basic),
            &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)],
        )
        .await;
    assert_eq!(r.status, 200, "no PKCE where optional: {}", r.text);

    let plain = e.app(json!({"allow_plain_pkce": true})).await;
    let q = format!(
        "response_type=code&client_id={}&redirect_uri={}&scope=user.read&code_challenge={VERIFIER}&code_challenge_method=plain",
        plain.id,
        enc(REDIRECT)
    );
    let code = param(&e.authorize_as(&q, &e.ws.owner.email).await, "code").expect("code");
    let r = e.exchange(&plain, &code).await;
    assert_eq!(r.status, 200, "plain where allowed: {}", r.text);
}

#[tokio::test]
async fn client_authentication_failures_are_401() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let code = e.code(&app, "user.read").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let r = e.token_post("/oauth/token", Some((&app.id, "wrong")), &form).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"], "invalid_client");
    assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Basic")), "RFC 6749 §5.2");
    let r = e.token_post("/oauth/token", Some(("nope", "x")), &form).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = e.token_post("/oauth/token", None, &form).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "no credentials: {}", r.text);
    let mut post = form.to_vec();
    post.extend([("client_id", app.id.as_str()), ("client_secret", "wrong")]);
    let r = e.token_post("/oauth/token", None, &post).await;
    assert_eq!((r.status, r.body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    let mut idonly = form.to_vec();
    idonly.push(("client_id", app.id.as_str()));
    let r = e.token_post("/oauth/token", None, &idonly).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "a confidential client must authenticate: {}", r.text);
    // Two methods at once.
    let mut both = form.to_vec();
    both.push(("client_secret", app.secret.as_deref().unwrap_or_default()));
    let r = e.token_post("/oauth/token", Some((&app.id, app.secret.as_deref().unwrap_or_default())), &both).await;
    assert_eq!(r.body["error"], "invalid_request", "{}", r.text);
    // The code is still good after all those failures.
    assert_eq!(e.exchange(&app, &code).await.status, 200);

    let r = e
        .token_post(
            "/oauth/token",
            Some((&app.id, app.secret.as_deref().unwrap_or_default())),
            &[("grant_type", "password")],
        )
        .await;
    assert_eq!(r.body["error"], "unsupported_grant_type");
    let r = reqwest::Client::new()
        .post(format!("{}/oauth/token", e.s.origin))
        .json(&json!({"grant_type": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "JSON bodies are refused");
}

#[tokio::test]
async fn public_clients_use_none_and_pkce() {
    let e = env().await;
    let app = e.app(json!({"client_type": "public"})).await;
    let code = e.code(&app, "user.read").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", app.id.as_str()),
    ];
    let r = e.token_post("/oauth/token", None, &form).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rt = r.body["refresh_token"].as_str().expect("rt");
    // Basic with an empty secret counts as no secret; a made-up secret is refused.
    let r = e
        .token_post("/oauth/token", Some((&app.id, "")), &[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rt = r.body["refresh_token"].as_str().expect("rt").to_owned();
    let r = e
        .token_post(
            "/oauth/token",
            Some((&app.id, "guess")),
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    let rt = rt.as_str();
    let r = e
        .token_post(
            "/oauth/token",
            None,
            &[("grant_type", "refresh_token"), ("refresh_token", rt), ("client_id", &app.id)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn refresh_rotates_detects_reuse_and_refuses_escalation() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let t = e.tokens(&app, "user.read users.read").await;
    let rt1 = t["refresh_token"].as_str().expect("rt").to_owned();

    // Narrowing is fine; widening is not (RFC 6749 §6).
    let r = e.refresh(&app, &rt1, Some("user.read admin")).await;
    assert_eq!(r.body["error"], "invalid_scope", "{}", r.text);
    let r = e.refresh(&app, &rt1, Some("user.read")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.body["scope"], "user.read");
    let rt2 = r.body["refresh_token"].as_str().expect("rt").to_owned();
    assert_ne!(rt1, rt2, "rotated");
    let at2 = r.body["access_token"].as_str().expect("at").to_owned();
    // The rotated token still carries the original grant's scope.
    let r = e.refresh(&app, &rt2, None).await;
    assert_eq!(r.body["scope"], "user.read users.read", "{}", r.text);
    let rt3 = r.body["refresh_token"].as_str().expect("rt").to_owned();
    let at3 = r.body["access_token"].as_str().expect("at").to_owned();

    // Another client cannot use it.
    let other = e.app(json!({})).await;
    assert_eq!(e.refresh(&other, &rt3, None).await.body["error"], "invalid_grant");

    // Reusing a rotated token revokes the whole family.
    let r = e.refresh(&app, &rt1, None).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.text);
    assert_eq!(e.refresh(&app, &rt3, None).await.body["error"], "invalid_grant", "family revoked");
    assert_eq!(e.userinfo(&at3).await.status, 401);
    assert_eq!(e.userinfo(&at2).await.status, 401);
}

#[tokio::test]
async fn access_tokens_expire_by_the_clock() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let t = e.tokens(&app, "user.read").await;
    let at = t["access_token"].as_str().expect("at");
    e.clock.advance(Duration::from_secs(3599));
    assert_eq!(e.userinfo(at).await.status, 200);
    e.clock.advance(Duration::from_secs(1));
    assert_eq!(e.userinfo(at).await.status, 401);
}

/// The `kid` of a JWS compact serialisation's header.
fn kid(jwt: &str) -> String {
    use base64::Engine;
    let header = jwt.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).expect("base64url header");
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON header");
    v["kid"].as_str().expect("kid").to_owned()
}

#[tokio::test]
async fn signing_keys_rotate_and_the_jwks_carries_the_retired_one_for_its_grace_period() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let jwks_kids = || async {
        let r = reqwest::get(format!("{}/.well-known/jwks.json", e.s.origin)).await.expect("jwks");
        let v: serde_json::Value = r.json().await.expect("json");
        v["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str().map(str::to_owned))
            .collect::<Vec<_>>()
    };
    let first = e.tokens(&app, "user.read").await;
    let a = kid(first["access_token"].as_str().expect("at"));
    // 91 days on, the key has signed for longer than the rotation period: the next token has a new key, and the
    // JWKS lists both, so verifiers holding tokens of the old key keep working.
    e.clock.advance(Duration::from_secs(91 * 24 * 3600));
    let second = e.tokens(&app, "user.read").await;
    let b = kid(second["access_token"].as_str().expect("at"));
    assert_ne!(a, b, "rotated");
    assert_eq!(jwks_kids().await, [a.clone(), b.clone()]);
    let r = e.userinfo(second["access_token"].as_str().expect("at")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A year and a day after the rotation, no token of the first key can still be alive: it leaves the JWKS.
    e.clock.advance(Duration::from_secs(367 * 24 * 3600));
    let third = e.tokens(&app, "user.read").await;
    let c = kid(third["access_token"].as_str().expect("at"));
    assert_eq!(jwks_kids().await, [b, c]);
}
