//! The management API end to end over HTTP, as an admin would drive it with curl: create a directory, provision
//! through SCIM with its token, watch members appear and deactivate, rotate and revoke tokens, delete the directory.

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_support::{Auth, call, scim_user, workspace};
use crate::support::server;

fn member_by_email<'a>(list: &'a Value, email: &str) -> Option<&'a Value> {
    list["items"].as_array()?.iter().find(|m| m["email"] == email)
}

#[tokio::test]
async fn directory_token_lifecycle_and_provisioned_members() {
    let s = server();
    let ws = workspace(s, "enterprise").await;
    let admin = ws.admin.session();
    let o = &s.origin;

    // Create a directory: the token is in the answer, once.
    let r =
        call(o, Method::POST, "/scim/directories", &admin, Some(&json!({"name": "Okta", "deprovision": "deactivate"})))
            .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let dir = r.body["id"].as_str().expect("id").to_owned();
    let first = r.body["token"].as_str().expect("token").to_owned();
    assert_eq!(r.body["scim_base_url"], format!("{o}/scim/v2"));
    let listed = call(o, Method::GET, "/scim/directories", &admin, None).await;
    assert_eq!(listed.status, 200);
    assert!(!listed.text.contains(&first), "the token is never shown again");

    // The token works on /scim/v2; provisioning creates a member.
    let r = scim_user(s, &first, "ada@example.test").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let uid = r.body["id"].as_str().expect("uid").to_owned();
    let members = call(o, Method::GET, "/api/v1/admin/members", &admin, None).await;
    let m = member_by_email(&members.body, "ada@example.test").expect("provisioned member listed");
    assert_eq!(
        (m["source"].as_str(), m["active"].as_bool(), m["role"].as_str()),
        (Some("scim"), Some(true), Some("member"))
    );
    assert_eq!(m["scim_directory_id"], dir.as_str());

    // Deactivation through SCIM shows in the members list.
    let r = call(
        o,
        Method::PATCH,
        &format!("/scim/v2/Users/{uid}"),
        &Auth::Bearer(first.clone()),
        Some(&json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "path": "active", "value": false}]})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let members = call(o, Method::GET, "/api/v1/admin/members", &admin, None).await;
    assert_eq!(member_by_email(&members.body, "ada@example.test").expect("member")["active"], false);
    // An admin cannot remove a member the IdP manages.
    let mid =
        member_by_email(&members.body, "ada@example.test").expect("member")["id"].as_str().expect("id").to_owned();
    let r = call(o, Method::DELETE, &format!("/api/v1/admin/members/{mid}"), &admin, None).await;
    assert_eq!(r.status, 409, "{}", r.text);

    // Regenerate: the old token fails at once, the new one works.
    let r = call(o, Method::POST, &format!("/scim/directories/{dir}/regenerate-token"), &admin, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second = r.body["token"].as_str().expect("token").to_owned();
    let second_id = r.body["token_id"].as_str().expect("token id").to_owned();
    assert_ne!(first, second);
    let users = |t: &str| call(o, Method::GET, "/scim/v2/Users", &Auth::Bearer(t.to_owned()), None);
    assert_eq!(users(&first).await.status, 401);
    assert_eq!(users(&second).await.status, 200);

    // Tokens API: both listed, the first as revoked; revoking the second makes it fail at once.
    let r = call(o, Method::GET, &format!("/api/v1/admin/scim-tokens?tenant_id={}&per_page=100", ws.id), &admin, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut statuses: Vec<&str> =
        r.body["items"].as_array().expect("items").iter().filter_map(|t| t["status"].as_str()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["active", "revoked"], "{}", r.text);
    assert_eq!(r.body["total"], 2);
    let r = call(o, Method::DELETE, &format!("/api/v1/admin/scim-tokens/{second_id}"), &admin, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(users(&second).await.status, 401);
    let r = call(o, Method::GET, &format!("/api/v1/admin/scim-tokens/{second_id}"), &admin, None).await;
    assert_eq!((r.status.as_u16(), r.body["status"].as_str()), (200, Some("revoked")), "{}", r.text);
    assert!(r.body["revoked_at"].is_string());

    // A token created through the tokens API; read-only scope cannot write.
    let r = call(
        o,
        Method::POST,
        "/api/v1/admin/scim-tokens",
        &admin,
        Some(&json!({"name": "entra", "directory_id": dir, "scopes": ["scim:read"]})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let third = r.body["token"].as_str().expect("token").to_owned();
    let third_id = r.body["id"].as_str().expect("id").to_owned();
    assert_eq!(users(&third).await.status, 200);
    assert_eq!(scim_user(s, &third, "bob@example.test").await.status, 403);
    let r = call(
        o,
        Method::PATCH,
        &format!("/api/v1/admin/scim-tokens/{third_id}"),
        &admin,
        Some(&json!({"scopes": ["scim:read", "scim:write"], "name": "entra-rw"})),
    )
    .await;
    assert_eq!((r.status.as_u16(), r.body["name"].as_str()), (200, Some("entra-rw")), "{}", r.text);
    assert_eq!(scim_user(s, &third, "bob@example.test").await.status, 201);

    // Endpoint info names the base URL to paste into the IdP.
    let r = call(o, Method::GET, &format!("/api/v1/admin/scim-tokens/endpoint-info?directory_id={dir}"), &admin, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["scim_base_url"], format!("{o}/scim/v2"));
    assert_eq!(r.body["idp_settings"]["entra"]["Tenant URL"], format!("{o}/scim/v2"));

    // A session cookie never opens the SCIM API.
    let r = call(o, Method::GET, "/scim/v2/Users", &admin, None).await;
    assert_eq!(r.status, 401, "{}", r.text);

    // Deleting the directory (deprovision = deactivate): its tokens fail, its members stay, deactivated.
    let r = call(o, Method::DELETE, &format!("/scim/directories/{dir}"), &admin, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(users(&third).await.status, 401);
    let members = call(o, Method::GET, "/api/v1/admin/members", &admin, None).await;
    for email in ["ada@example.test", "bob@example.test"] {
        assert_eq!(member_by_email(&members.body, email).expect("kept")["active"], false, "{email}");
    }
    let r = call(o, Method::GET, &format!("/scim/directories/{dir}"), &admin, None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn deleting_a_directory_removes_its_members_by_default() {
    let s = server();
    let ws = workspace(s, "enterprise").await;
    let jwt = Auth::Bearer(ws.owner_jwt.clone());
    let r = call(&s.origin, Method::POST, "/scim/directories", &jwt, Some(&json!({"name": "Entra"}))).await;
    assert_eq!(r.body["deprovision"], "remove", "{}", r.text);
    let (dir, token) = (r.body["id"].as_str().expect("id").to_owned(), r.body["token"].as_str().expect("t").to_owned());
    assert_eq!(scim_user(s, &token, "cy@example.test").await.status, 201);
    assert_eq!(s.state.scim.members(&ws.id).iter().filter(|m| m.email == "cy@example.test").count(), 1);
    let r = call(&s.origin, Method::DELETE, &format!("/scim/directories/{dir}"), &jwt, None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(s.state.scim.members(&ws.id).iter().filter(|m| m.email == "cy@example.test").count(), 0);
}

#[tokio::test]
async fn login_and_logout() {
    let s = server();
    let ws = workspace(s, "free").await;
    let r = call(
        &s.origin,
        Method::POST,
        "/api/v1/session",
        &Auth::None,
        Some(&json!({"email": ws.admin.email, "password": "wrong", "workspace_id": ws.id})),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.header("set-cookie").is_none());
    let r = call(
        &s.origin,
        Method::POST,
        "/api/v1/session",
        &Auth::None,
        Some(&json!({"email": "nobody@x.test", "password": "p"})),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.text);
    // The cookie's attributes (RFC 6265 §4.1.2): HttpOnly and SameSite=Lax; no Secure over plain HTTP.
    let r = call(
        &s.origin,
        Method::POST,
        "/api/v1/session",
        &Auth::None,
        Some(&json!({"email": ws.admin.email, "password": crate::admin_support::PASSWORD, "workspace_id": ws.id})),
    )
    .await;
    let cookie = r.header("set-cookie").expect("cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");
    let me = call(&s.origin, Method::GET, "/api/v1/session", &ws.admin.session(), None).await;
    assert_eq!(me.body["csrf_token"], ws.admin.csrf.as_str(), "{}", me.text);
    assert_eq!(me.body["member"]["role"], "admin");
    let r = call(&s.origin, Method::DELETE, "/api/v1/session", &ws.admin.session(), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = call(&s.origin, Method::GET, "/api/v1/session", &ws.admin.session(), None).await;
    assert_eq!(r.status, 401, "a logged-out session is gone: {}", r.text);
}

#[tokio::test]
async fn secure_cookie_behind_tls() {
    let s = crate::support::spawn_with(idconform_server::ServerConfig {
        public_url: Some("https://idp.example.test".into()),
        ..Default::default()
    });
    crate::admin_support::add_members(&s, "tls", "free", &[("a@tls.test", "admin")]).await;
    let r = call(
        &s.origin,
        Method::POST,
        "/api/v1/session",
        &Auth::None,
        Some(&json!({"email": "a@tls.test", "password": crate::admin_support::PASSWORD})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("set-cookie").expect("cookie").contains("; Secure"));
}

#[tokio::test]
async fn jwks_publishes_the_admin_signing_key() {
    let s = server();
    s.state.admin.ensure_signing_key().await.expect("key");
    let r = call(&s.origin, Method::GET, "/.well-known/jwks.json", &Auth::None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["keys"][0]["kty"], "EC");
    assert_eq!(r.body["keys"][0]["alg"], "ES256");
    assert!(r.body["keys"][0].get("d").is_none(), "never the private part");
}

#[tokio::test]
async fn seeding_is_idempotent_and_rotates_configured_tokens() {
    use idconform_server::admin::seed::SeedConfig;
    let s = server();
    let ws = format!("seed-{}", uuid::Uuid::new_v4().simple());
    let c = SeedConfig::from_toml(&format!(
        "[[workspace]]\nid = \"{ws}\"\nplan = \"enterprise\"\n\
         [[workspace.member]]\nemail = \"o@{ws}.test\"\nrole = \"owner\"\npassword_env = \"PW\"\n\
         [[workspace.directory]]\nid = \"{ws}-dir\"\ntoken_env = \"TOKEN\"\n\
         [[workspace.directory]]\nid = \"{ws}-gen\""
    ))
    .expect("config");
    let env = |token: &'static str| move |var: &str| Some(if var == "TOKEN" { token } else { "pw" }.to_owned());
    let shown = s.state.admin.seed(&c, env("first-token-value")).await.expect("seed");
    assert_eq!(shown.len(), 1, "the directory without token_env gets a generated token, shown once");
    let generated = shown[0].token.clone();
    let shown = s.state.admin.seed(&c, env("second-token-value")).await.expect("seed again");
    assert!(shown.is_empty(), "no new token for an existing directory");
    assert_eq!(s.state.scim.members(&ws).len(), 1, "one member, not two");
    let users = |t: &str| call(&s.origin, Method::GET, "/scim/v2/Users", &Auth::Bearer(t.to_owned()), None);
    assert_eq!(users("first-token-value").await.status, 401, "the changed variable retired the old token");
    assert_eq!(users("second-token-value").await.status, 200);
    assert_eq!(users(&generated).await.status, 200, "the generated token was kept");
    let missing = s.state.admin.seed(&c, |_| None).await;
    assert!(missing.is_err(), "a missing variable is an error");
    assert_eq!(users("second-token-value").await.status, 200, "and changes nothing");
}
