//! OAuth app registrations: CRUD, permissions (admins and owners), redirect-URI rules (exact, no wildcards or
//! fragments), PKCE for public clients, secret rotation with a grace period, and deletion killing tokens.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::admin_support::{Auth, call};
use crate::oauth_support::{App, REDIRECT, env};

#[tokio::test]
async fn crud_and_permissions() {
    let e = env().await;
    let o = &e.s.origin;
    let app = e.app(json!({"name": "Reporting"})).await;
    assert!(app.secret.as_deref().is_some_and(|s| s.starts_with("idc_cs_")), "secret shown on create");

    let r = call(o, Method::GET, "/oauth/apps", &e.ws.admin.session(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[0]["client_id"], app.id.as_str());
    assert_eq!(r.body[0]["pkce"], "required");
    assert!(!r.text.contains(app.secret.as_deref().unwrap_or("-")), "the secret is never shown again");

    // Members may neither read nor manage apps.
    let r = call(o, Method::GET, "/oauth/apps", &e.ws.member.session(), None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = call(o, Method::POST, "/oauth/apps", &e.ws.member.session(), Some(&json!({"name": "x"}))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Sessions need the CSRF token on changes, like the rest of the management API.
    let path = format!("/oauth/apps/{}", app.id);
    let r = call(o, Method::PATCH, &path, &e.ws.admin.no_csrf(), Some(&json!({"name": "y"}))).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.body["code"], "csrf_failed");

    let r = call(o, Method::PATCH, &path, &e.ws.admin.session(), Some(&json!({"name": "Renamed", "pkce": "optional"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["name"].as_str(), r.body["pkce"].as_str()), (Some("Renamed"), Some("optional")));
    let r = call(o, Method::GET, &path, &e.admin(), None).await;
    assert_eq!(r.body["name"], "Renamed");

    // Another workspace's admin does not see it.
    let other = crate::admin_support::workspace(&e.s, "free").await;
    let r = call(o, Method::GET, &path, &other.owner.session(), None).await;
    assert_eq!(r.status, 404, "{}", r.text);

    let r = call(o, Method::DELETE, &path, &e.admin(), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = call(o, Method::GET, &path, &e.admin(), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}

#[tokio::test]
async fn redirect_uris_and_pkce_rules_are_validated() {
    let e = env().await;
    let o = &e.s.origin;
    for bad in
        ["https://client.example/cb#x", "https://*.client.example/cb", "http://client.example/cb", "cb", "myapp:/x"]
    {
        let r =
            call(o, Method::POST, "/oauth/apps", &e.admin(), Some(&json!({"name": "a", "redirect_uris": [bad]}))).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert_eq!(r.body["detail"][0]["loc"], json!(["body", "redirect_uris", "0"]), "{}", r.text);
    }
    let r = call(o, Method::POST, "/oauth/apps", &e.admin(), Some(&json!({"name": "a", "redirect_uris": []}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = call(o, Method::POST, "/oauth/apps", &e.admin(), Some(&json!({"name": "a"}))).await;
    assert_eq!(r.status, 422, "redirect_uris required: {}", r.text);
    let r = call(
        o,
        Method::POST,
        "/oauth/apps",
        &e.admin(),
        Some(&json!({"name": "a", "redirect_uris": [REDIRECT], "allowed_scopes": ["everything"]})),
    )
    .await;
    assert_eq!(r.status, 422, "unknown scope: {}", r.text);
    let r = call(
        o,
        Method::POST,
        "/oauth/apps",
        &e.admin(),
        Some(&json!({"name": "a", "redirect_uris": [REDIRECT], "client_type": "public", "pkce": "optional"})),
    )
    .await;
    assert_eq!(r.status, 422, "public clients need PKCE: {}", r.text);
    let public = e.app(json!({"client_type": "public"})).await;
    assert!(public.secret.is_none(), "public clients get no secret");
    let r = call(o, Method::POST, &format!("/oauth/apps/{}/rotate-secret", public.id), &e.admin(), None).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = call(
        o,
        Method::POST,
        "/oauth/apps",
        &e.admin(),
        Some(&json!({"name": "a", "redirect_uris": [REDIRECT], "x": 1})),
    )
    .await;
    assert_eq!(r.status, 422, "unknown field: {}", r.text);
}

async fn client_credentials_work(e: &crate::oauth_support::Env, app: &App, secret: &str) -> bool {
    // An unknown code with good credentials is invalid_grant; bad credentials are invalid_client.
    let r = e
        .token_post("/oauth/token", Some((&app.id, secret)), &[("grant_type", "authorization_code"), ("code", "nope")])
        .await;
    match r.body["error"].as_str() {
        Some("invalid_grant") => true,
        Some("invalid_client") => false,
        other => panic!("unexpected {other:?}: {}", r.text),
    }
}

#[tokio::test]
async fn rotated_secret_keeps_working_for_the_grace_period_only() {
    let e = env().await;
    let o = &e.s.origin;
    let app = e.app(json!({})).await;
    let first = app.secret.clone().expect("secret");
    let path = format!("/oauth/apps/{}/rotate-secret", app.id);
    let r = call(o, Method::POST, &path, &e.admin(), Some(&json!({"grace_period_seconds": 600}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second = r.body["client_secret"].as_str().expect("new secret").to_owned();
    assert_eq!(r.body["secrets"].as_array().map(Vec::len), Some(2));
    assert!(client_credentials_work(&e, &app, &first).await, "old secret in its grace period");
    assert!(client_credentials_work(&e, &app, &second).await);

    // A second rotation ends the oldest at once: never more than two live secrets.
    let r = call(o, Method::POST, &path, &e.admin(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let third = r.body["client_secret"].as_str().expect("new secret").to_owned();
    assert_eq!(r.body["secrets"].as_array().map(Vec::len), Some(2));
    assert!(!client_credentials_work(&e, &app, &first).await, "the oldest secret ended");
    assert!(client_credentials_work(&e, &app, &second).await);
    // (Checked before the clock moves on: the admin JWT lives an hour.)
    let r = call(o, Method::POST, &path, &e.admin(), Some(&json!({"grace_period_seconds": -1}))).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = call(o, Method::POST, &path, &Auth::Bearer("x".into()), None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    e.clock.advance(Duration::from_secs(24 * 3600));
    assert!(!client_credentials_work(&e, &app, &second).await, "grace period over");
    assert!(client_credentials_work(&e, &app, &third).await);
}

#[tokio::test]
async fn deleting_an_app_kills_its_codes_and_tokens() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let tokens = e.tokens(&app, "user.read").await;
    let access = tokens["access_token"].as_str().expect("at");
    assert_eq!(e.userinfo(access).await.status, 200);
    let code = e.code(&app, "user.read").await;
    let r = call(&e.s.origin, Method::DELETE, &format!("/oauth/apps/{}", app.id), &e.admin(), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(e.userinfo(access).await.status, 401, "access token dead");
    let r = e.exchange(&app, &code).await;
    assert_eq!(r.status, 401, "the client is gone: {}", r.text);
    let r = e.refresh(&app, tokens["refresh_token"].as_str().expect("rt"), None).await;
    assert_eq!(r.status, 401, "{}", r.text);
}
