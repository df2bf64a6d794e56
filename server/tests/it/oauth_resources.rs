//! What access tokens open, and how they end: userinfo (Bearer challenges with `resource_metadata`, 403
//! `insufficient_scope`), revocation (idempotent; a refresh token takes its access tokens with it), introspection,
//! `/scim/v2/Me`, the admin API, and the RFC 8414 / RFC 9728 metadata.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::admin_support::{Auth, call};
use crate::oauth_support::env;

#[tokio::test]
async fn userinfo_challenges_and_scope() {
    let e = env().await;
    let o = &e.s.origin;
    let app = e.app(json!({})).await;
    let meta = format!("resource_metadata=\"{o}/.well-known/oauth-protected-resource\"");
    let r = call(o, Method::GET, "/oauth/userinfo", &Auth::None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let ch = r.header("www-authenticate").expect("challenge");
    assert!(ch.starts_with("Bearer") && ch.contains(&meta) && !ch.contains("error="), "{ch}");
    let r = e.userinfo("garbage").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").is_some_and(|c| c.contains("error=\"invalid_token\"") && c.contains(&meta)));

    let t = e.tokens(&app, "users.read").await;
    let r = e.userinfo(t["access_token"].as_str().expect("at")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"], "insufficient_scope");
    assert!(r.header("www-authenticate").is_some_and(|c| c.contains("scope=\"user.read\"")));

    let t = e.tokens(&app, "user.read").await;
    let r = e.userinfo(t["access_token"].as_str().expect("at")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["sub"], e.ws.owner.member_id.as_str());
    assert_eq!(r.body["email"], e.ws.owner.email.as_str());

    // A token from another issuer (a different Host) is not accepted.
    let at = t["access_token"].as_str().expect("at");
    let r = reqwest::Client::new()
        .get(format!("{o}/oauth/userinfo"))
        .header("host", "other.example")
        .bearer_auth(at)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revocation_is_idempotent_and_cascades() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let basic = (app.id.as_str(), app.secret.as_deref().unwrap_or_default());
    let t = e.tokens(&app, "user.read").await;
    let (at, rt) = (t["access_token"].as_str().expect("at"), t["refresh_token"].as_str().expect("rt"));

    // An access token alone.
    let t2 = e.tokens(&app, "user.read").await;
    let at2 = t2["access_token"].as_str().expect("at");
    let r = e.token_post("/oauth/revoke", Some(basic), &[("token", at2), ("token_type_hint", "access_token")]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(e.userinfo(at2).await.status, 401);
    assert_eq!(
        e.refresh(&app, t2["refresh_token"].as_str().expect("rt"), None).await.status,
        200,
        "its refresh token lives"
    );

    // Another client's revocation changes nothing.
    let other = e.app(json!({})).await;
    let r = e
        .token_post("/oauth/revoke", Some((&other.id, other.secret.as_deref().unwrap_or_default())), &[("token", rt)])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(e.userinfo(at).await.status, 200);

    // A refresh token takes its access tokens with it; revoking again, or an unknown token, is still 200.
    for _ in 0..2 {
        let r =
            e.token_post("/oauth/revoke", Some(basic), &[("token", rt), ("token_type_hint", "refresh_token")]).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(e.userinfo(at).await.status, 401);
    assert_eq!(e.refresh(&app, rt, None).await.body["error"], "invalid_grant");
    assert_eq!(e.token_post("/oauth/revoke", Some(basic), &[("token", "unknown")]).await.status, 200);
    // Client authentication is required; the token parameter too.
    let r = e.token_post("/oauth/revoke", Some((&app.id, "wrong")), &[("token", rt)]).await;
    assert_eq!(r.status, 401);
    let r = e.token_post("/oauth/revoke", Some(basic), &[]).await;
    assert_eq!(r.body["error"], "invalid_request");
}

#[tokio::test]
async fn introspection() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let basic = (app.id.as_str(), app.secret.as_deref().unwrap_or_default());
    let t = e.tokens(&app, "user.read").await;
    let r = e.token_post("/oauth/introspect", Some(basic), &[("token", t["access_token"].as_str().expect("at"))]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["scope"], "user.read");
    assert_eq!(r.body["client_id"], app.id.as_str());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let r =
        e.token_post("/oauth/introspect", Some(basic), &[("token", t["refresh_token"].as_str().expect("rt"))]).await;
    assert_eq!((r.body["active"].as_bool(), r.body["token_type"].as_str()), (Some(true), Some("refresh_token")));
    let r = e.token_post("/oauth/introspect", Some(basic), &[("token", "nope")]).await;
    assert_eq!(r.body, json!({"active": false}));
    let r = e.token_post("/oauth/introspect", None, &[("token", "nope")]).await;
    assert_eq!(r.status, 401, "client authentication required (RFC 7662 §2.1)");
}

#[tokio::test]
async fn scim_me_and_admin_api_accept_access_tokens() {
    let e = env().await;
    let o = &e.s.origin;
    let app = e.app(json!({})).await;
    let t = e.tokens(&app, "user.read admin").await;
    let at = Auth::Bearer(t["access_token"].as_str().expect("at").to_owned());
    let r = call(o, Method::GET, "/scim/v2/Me", &at, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["userName"], e.ws.owner.email.as_str());
    assert_eq!(r.body["schemas"][0], "urn:ietf:params:scim:schemas:core:2.0:User");
    let r = call(o, Method::GET, "/api/v1/admin/members", &at, None).await;
    assert_eq!(r.status, 200, "admin scope opens the admin API: {}", r.text);

    let t = e.tokens(&app, "users.read").await;
    let weak = Auth::Bearer(t["access_token"].as_str().expect("at").to_owned());
    assert_eq!(call(o, Method::GET, "/scim/v2/Me", &weak, None).await.status, 403);
    assert_eq!(call(o, Method::GET, "/api/v1/admin/members", &weak, None).await.status, 401, "no admin scope");
    assert_eq!(call(o, Method::GET, "/scim/v2/Me", &Auth::Bearer("x".into()), None).await.status, 401);
}

#[tokio::test]
async fn metadata_documents_match_what_is_served() {
    let e = env().await;
    let o = &e.s.origin;
    let r = call(o, Method::GET, "/.well-known/oauth-authorization-server", &Auth::None, None).await;
    assert_eq!(r.status, 200);
    let m = &r.body;
    assert_eq!(m["issuer"], o.as_str(), "RFC 8414 §3.3: issuer identical to the URL it was fetched under");
    for (k, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/oauth/token"),
        ("revocation_endpoint", "/oauth/revoke"),
        ("introspection_endpoint", "/oauth/introspect"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(m[k], format!("{o}{path}"), "{k}");
    }
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert_eq!(
        m["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"])
    );
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256", "plain"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    let r = call(o, Method::GET, "/.well-known/oauth-protected-resource", &Auth::None, None).await;
    assert_eq!(r.body["resource"], o.as_str());
    assert_eq!(r.body["authorization_servers"], json!([o]));
    assert_eq!(r.body["bearer_methods_supported"], json!(["header"]));
}

#[tokio::test]
async fn tokens_follow_the_member_and_the_workspace() {
    let e = env().await;
    let o = &e.s.origin;
    let app = e.app(json!({})).await;
    // The admin authorizes; once removed from the workspace, their tokens stop working.
    let q = e.query(&app, "user.read admin");
    let p = e.authorize_as(&q, &e.ws.admin.email).await;
    let code = crate::oauth_support::param(&p, "code").expect("code");
    let t = e.exchange(&app, &code).await;
    assert_eq!(t.body["scope"], "user.read admin", "{}", t.text);
    let at = t.body["access_token"].as_str().expect("at").to_owned();
    assert_eq!(e.userinfo(&at).await.status, 200);
    let r = call(o, Method::DELETE, &format!("/api/v1/admin/members/{}", e.ws.admin.member_id), &e.admin(), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(e.userinfo(&at).await.status, 401);
    let r = e.refresh(&app, t.body["refresh_token"].as_str().expect("rt"), None).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.text);

    // Someone of another workspace is asked to log in with an account of the app's workspace.
    let other = crate::admin_support::workspace(&e.s, "free").await;
    let r = e.get_authorize(&q, Some(&other.owner.cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("action=\"/oauth/login\""), "{}", r.text);
}
