//! The SCIM tokens API: expiry against an injected clock (no sleeping), pagination, and the error forms of invalid
//! requests (400, 415, 422 with `detail[].loc`, 404, 409).

use std::sync::Arc;
use std::time::Duration;

use idconform_server::ServerConfig;
use idconform_server::clock::{Clock, ManualClock, format_datetime};
use reqwest::Method;
use serde_json::json;

use crate::admin_support::{Auth, call, directory, login, workspace};
use crate::support::{server, spawn_with_clock};

#[tokio::test]
async fn expired_tokens_sessions_and_jwts_get_401() {
    let start = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").expect("date").to_utc();
    let clock = ManualClock::new(start);
    let s = spawn_with_clock(ServerConfig::default(), Arc::new(clock.clone()));
    let ws = workspace(&s, "enterprise").await;
    let short_jwt = s.state.admin.issue_admin_token(&ws.id, &ws.owner.email, 60).await.expect("jwt");
    let (dir, _, _) = directory(&s, &ws).await;
    let expires = format_datetime(clock.now() + chrono::Duration::minutes(10));
    let r = call(
        &s.origin,
        Method::POST,
        "/api/v1/admin/scim-tokens",
        &ws.admin.session(),
        Some(&json!({"name": "short", "directory_id": dir, "expires_at": expires})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (token, id) = (r.body["token"].as_str().expect("t").to_owned(), r.body["id"].as_str().expect("id").to_owned());
    let users = || call(&s.origin, Method::GET, "/scim/v2/Users", &Auth::Bearer(token.clone()), None);
    assert_eq!(users().await.status, 200);
    assert_eq!(
        call(&s.origin, Method::GET, "/scim/directories", &Auth::Bearer(short_jwt.clone()), None).await.status,
        200
    );

    clock.advance(Duration::from_secs(9 * 60 + 59));
    assert_eq!(users().await.status, 200, "still valid one second before expiry");
    assert_eq!(
        call(&s.origin, Method::GET, "/scim/directories", &Auth::Bearer(short_jwt.clone()), None).await.status,
        401,
        "the 60 s admin JWT has expired"
    );
    clock.advance(Duration::from_secs(1));
    let r = users().await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.header("www-authenticate").is_some_and(|h| h.starts_with("Bearer")));
    let r = call(&s.origin, Method::GET, &format!("/api/v1/admin/scim-tokens/{id}"), &ws.admin.session(), None).await;
    assert_eq!(r.body["status"], "expired", "{}", r.text);

    // Extending the expiry makes it work again; an expiry in the past is refused.
    let later = format_datetime(clock.now() + chrono::Duration::hours(1));
    let r = call(
        &s.origin,
        Method::PATCH,
        &format!("/api/v1/admin/scim-tokens/{id}"),
        &ws.admin.session(),
        Some(&json!({"expires_at": later})),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (200, Some("active")), "{}", r.text);
    assert_eq!(users().await.status, 200);
    let r = call(
        &s.origin,
        Method::PATCH,
        &format!("/api/v1/admin/scim-tokens/{id}"),
        &ws.admin.session(),
        Some(&json!({"expires_at": "2029-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "expires_at"]));

    // Sessions last 12 hours.
    clock.advance(Duration::from_secs(12 * 3600));
    let r = call(&s.origin, Method::GET, "/api/v1/session", &ws.admin.session(), None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let again = login(&s, &ws.id, &ws.admin.email).await;
    assert_eq!(call(&s.origin, Method::GET, "/api/v1/session", &again.session(), None).await.status, 200);
}

#[tokio::test]
async fn pagination_and_tenant_filter() {
    let s = server();
    let ws = workspace(s, "enterprise").await;
    let other = workspace(s, "enterprise").await;
    for _ in 0..3 {
        directory(s, &ws).await;
    }
    directory(s, &other).await;
    let admin = ws.admin.session();
    let page = |q: &str| call(&s.origin, Method::GET, &format!("/api/v1/admin/scim-tokens{q}"), &admin, None);
    let r = page("?page=1&per_page=2").await;
    assert_eq!((r.body["total"].as_u64(), r.body["items"].as_array().map(Vec::len)), (Some(3), Some(2)), "{}", r.text);
    let r2 = page("?page=2&per_page=2").await;
    assert_eq!(r2.body["items"].as_array().map(Vec::len), Some(1));
    assert_ne!(r.body["items"][0]["id"], r2.body["items"][0]["id"]);
    assert_eq!(page(&format!("?tenant_id={}", ws.id)).await.body["total"], 3);
    assert_eq!(page(&format!("?tenant_id={}", other.id)).await.status, 404, "another workspace is not found");
    for bad in ["?page=0", "?per_page=1000", "?page=x"] {
        let r = page(bad).await;
        assert_eq!(r.status, 422, "{bad}: {}", r.text);
        assert_eq!(r.body["detail"][0]["loc"][0], "query", "{bad}");
    }
}

#[tokio::test]
async fn invalid_requests_get_clear_errors() {
    let s = server();
    let ws = workspace(s, "enterprise").await;
    let (dir, _, _) = directory(s, &ws).await;
    let admin = ws.admin.session();
    let o = &s.origin;

    // 422: each invalid field named, unknown fields refused.
    let r = call(
        o,
        Method::POST,
        "/api/v1/admin/scim-tokens",
        &admin,
        Some(&json!({"name": 5, "scopes": ["root"], "expires": "x"})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let locs: Vec<String> = r.body["detail"].as_array().expect("detail").iter().map(|d| d["loc"].to_string()).collect();
    assert_eq!(locs, [r#"["body","name"]"#, r#"["body","scopes","0"]"#, r#"["body","expires"]"#], "{}", r.text);
    for d in r.body["detail"].as_array().expect("detail") {
        assert!(d["msg"].is_string() && d["type"].is_string(), "{d}");
    }
    let r = call(o, Method::POST, "/scim/directories", &admin, Some(&json!({}))).await;
    assert_eq!((r.status.as_u16(), r.body["detail"][0]["type"].as_str()), (422, Some("missing")), "{}", r.text);
    let r =
        call(o, Method::POST, "/scim/directories", &admin, Some(&json!({"name": "x", "deprovision": "burn"}))).await;
    assert_eq!((r.status.as_u16(), r.body["detail"][0]["type"].as_str()), (422, Some("enum")), "{}", r.text);
    let r = call(o, Method::POST, "/scim/directories", &admin, Some(&json!(["not", "an", "object"]))).await;
    assert_eq!(r.status, 422, "{}", r.text);

    // 400: not JSON. 415: not application/json.
    let http = reqwest::Client::new();
    let (cookie, csrf) = (ws.admin.cookie.clone(), ws.admin.csrf.clone());
    let send = |ct: &'static str, body: &'static str| {
        http.post(format!("{o}/scim/directories"))
            .header("cookie", format!("idconform_session={cookie}"))
            .header("x-csrf-token", csrf.clone())
            .header("content-type", ct)
            .body(body)
            .send()
    };
    assert_eq!(send("application/json", "{\"name\":").await.expect("send").status(), 400);
    assert_eq!(send("text/plain", "name=x").await.expect("send").status(), 415);

    // 409: duplicate directory name; duplicate live token name in a directory.
    let r = call(o, Method::POST, "/scim/directories", &admin, Some(&json!({"name": "Dup"}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = call(o, Method::POST, "/scim/directories", &admin, Some(&json!({"name": "dup"}))).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let body = json!({"name": "same", "directory_id": dir});
    assert_eq!(call(o, Method::POST, "/api/v1/admin/scim-tokens", &admin, Some(&body)).await.status, 201);
    assert_eq!(call(o, Method::POST, "/api/v1/admin/scim-tokens", &admin, Some(&body)).await.status, 409);

    // 404: unknown ids, in every id route.
    for (m, p) in [
        (Method::GET, "/api/v1/admin/scim-tokens/tok_nope"),
        (Method::DELETE, "/api/v1/admin/scim-tokens/tok_nope"),
        (Method::GET, "/scim/directories/dir_nope"),
        (Method::POST, "/scim/directories/dir_nope/regenerate-token"),
        (Method::GET, "/api/v1/admin/members/mem_nope"),
    ] {
        let r = call(o, m.clone(), p, &admin, None).await;
        assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (404, Some("not_found")), "{m} {p}: {}", r.text);
    }
    let r = call(
        o,
        Method::POST,
        "/api/v1/admin/scim-tokens",
        &admin,
        Some(&json!({"name": "x", "directory_id": "dir_nope"})),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = call(o, Method::GET, "/api/v1/admin/printers", &admin, None).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (404, Some("not_found")), "{}", r.text);

    // 401: a SCIM directory token is not an admin credential, nor is garbage.
    let (_, scim_token, _) = directory(s, &ws).await;
    for t in [scim_token.as_str(), "garbage", "a.b.c"] {
        let r = call(o, Method::GET, "/scim/directories", &Auth::Bearer(t.to_owned()), None).await;
        assert_eq!(r.status, 401, "{t}: {}", r.text);
    }
}
