//! CSRF: every state-changing management route, called with a valid session cookie but without its CSRF token
//! (or with another session's), is 403 and changes nothing; the same request with the token succeeds.

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_support::{Auth, Ws, add_members, call, directory, workspace};
use crate::support::{Server, server};

/// Everything the workspace's admin can see, to prove a refused request changed nothing.
async fn everything(s: &Server, ws: &Ws) -> Value {
    let jwt = Auth::Bearer(ws.owner_jwt.clone());
    let mut all = json!({});
    for path in ["/api/v1/admin/members", "/scim/directories", "/api/v1/admin/scim-tokens?per_page=100"] {
        all[path] = call(&s.origin, Method::GET, path, &jwt, None).await.body;
    }
    all
}

#[tokio::test]
async fn state_changing_routes_need_the_csrf_token() {
    let s = server();
    let ws = workspace(s, "enterprise").await;
    let other = workspace(s, "enterprise").await;
    let (dir, _, tok) = directory(s, &ws).await;
    add_members(s, &ws.id, "enterprise", &[("victim@csrf.test", "member")]).await;
    let victim =
        s.state.scim.members(&ws.id).into_iter().find(|m| m.email == "victim@csrf.test").map(|m| m.id).expect("victim");
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::POST, "/scim/directories".into(), Some(json!({"name": "csrf"}))),
        (Method::PATCH, format!("/scim/directories/{dir}"), Some(json!({"name": "renamed"}))),
        (Method::PATCH, format!("/api/v1/admin/scim-tokens/{tok}"), Some(json!({"name": "renamed"}))),
        // After the rename: regenerating revokes the directory's token, and a revoked token cannot be renamed.
        (Method::POST, format!("/scim/directories/{dir}/regenerate-token"), None),
        (Method::POST, "/api/v1/admin/scim-tokens".into(), Some(json!({"name": "csrf", "directory_id": dir}))),
        (Method::PATCH, format!("/api/v1/admin/members/{victim}"), Some(json!({"role": "admin"}))),
        (Method::DELETE, format!("/api/v1/admin/scim-tokens/{tok}"), None),
        (Method::DELETE, format!("/api/v1/admin/members/{victim}"), None),
        (Method::DELETE, format!("/scim/directories/{dir}"), None),
        (Method::DELETE, "/api/v1/session".into(), None),
    ];
    let before = everything(s, &ws).await;
    let wrong = Auth::Session { cookie: ws.admin.cookie.clone(), csrf: Some(other.admin.csrf.clone()) };
    for (method, path, body) in &cases {
        for auth in [ws.admin.no_csrf(), wrong.clone()] {
            let r = call(&s.origin, method.clone(), path, &auth, body.as_ref()).await;
            assert_eq!(r.status, 403, "{method} {path}: {}", r.text);
            assert_eq!(r.body["code"], "csrf_failed", "{method} {path}: {}", r.text);
        }
    }
    assert_eq!(everything(s, &ws).await, before, "a refused request changed nothing");
    // The session still works, and with the token each request goes through.
    for (method, path, body) in &cases {
        let r = call(&s.origin, method.clone(), path, &ws.admin.session(), body.as_ref()).await;
        assert!(r.status.is_success(), "{method} {path} with the CSRF token: {} {}", r.status, r.text);
    }
}

#[tokio::test]
async fn safe_methods_and_bearer_tokens_need_no_csrf_token() {
    let s = server();
    let ws = workspace(s, "enterprise").await;
    let r = call(&s.origin, Method::GET, "/scim/directories", &ws.admin.no_csrf(), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A bearer token is not sent by browsers on their own, so it needs no CSRF token (and a stray cookie is ignored).
    let r = call(
        &s.origin,
        Method::POST,
        "/scim/directories",
        &Auth::Bearer(ws.owner_jwt.clone()),
        Some(&json!({"name": "b"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
}
