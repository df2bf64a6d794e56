//! The MCP endpoint behind the OAuth server: the 401 challenge pointing at the protected resource metadata, and
//! JSON-RPC 2.0 `initialize`, `tools/list` and `tools/call` limited by the token's scopes and workspace.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::admin_support::{directory, scim_user};
use crate::oauth_support::env_on;

async fn rpc(origin: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{origin}/v2/mcp"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn mcp_needs_a_token_and_respects_scopes() {
    let e = env_on("enterprise").await;
    let o = &e.s.origin;
    let r = reqwest::get(format!("{o}/v2/mcp")).await.expect("get");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let ch = r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).expect("challenge").to_owned();
    assert!(ch.contains(&format!("resource_metadata=\"{o}/.well-known/oauth-protected-resource\"")), "{ch}");
    let r = reqwest::Client::new().post(format!("{o}/v2/mcp")).json(&json!({})).send().await.expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let (_, token, _) = directory(&e.s, &e.ws).await;
    assert_eq!(scim_user(&e.s, &token, "ada@example.test").await.status, 201);
    let app = e.app(json!({"allowed_scopes": ["user.read", "users.read", "groups.read"]})).await;
    let at = e.tokens(&app, "users.read").await["access_token"].as_str().expect("at").to_owned();

    let (s, v) = rpc(
        o,
        &at,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["result"]["protocolVersion"], "2025-06-18");
    assert!(v["result"]["capabilities"]["tools"].is_object());
    let r = reqwest::Client::new()
        .post(format!("{o}/v2/mcp"))
        .bearer_auth(&at)
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::ACCEPTED, "notifications get no answer");

    let (_, v) = rpc(o, &at, json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})).await;
    let names: Vec<&str> =
        v["result"]["tools"].as_array().expect("tools").iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(names, ["list_users", "get_user"], "only the tools the scopes allow");

    let (_, v) = rpc(
        o,
        &at,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "list_users", "arguments": {}}}),
    )
    .await;
    assert_eq!(v["result"]["isError"], false, "{v}");
    let res = &v["result"]["structuredContent"]["Resources"];
    assert_eq!(res[0]["resource"]["userName"], "ada@example.test", "{v}");
    let (dir, id) = (res[0]["directory_id"].as_str().expect("dir"), res[0]["resource"]["id"].as_str().expect("id"));
    let (_, v) = rpc(
        o,
        &at,
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
        "params": {"name": "get_user", "arguments": {"directory_id": dir, "id": id}}}),
    )
    .await;
    assert_eq!(v["result"]["structuredContent"]["userName"], "ada@example.test", "{v}");

    let (_, v) =
        rpc(o, &at, json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "list_groups"}}))
            .await;
    assert_eq!(v["result"]["isError"], true, "groups.read missing: {v}");
    let (_, v) = rpc(o, &at, json!({"jsonrpc": "2.0", "id": 6, "method": "nope"})).await;
    assert_eq!(v["error"]["code"], -32601);
    let (_, v) = rpc(o, &at, json!({"id": 7, "method": "tools/list"})).await;
    assert_eq!(v["error"]["code"], -32600);

    // Another workspace's directory is not reachable.
    let other = crate::admin_support::workspace(&e.s, "enterprise").await;
    let (other_dir, _, _) = directory(&e.s, &other).await;
    let (_, v) = rpc(
        o,
        &at,
        json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": {"name": "list_users", "arguments": {"directory_id": other_dir}}}),
    )
    .await;
    assert_eq!(v["result"]["isError"], true, "{v}");
}
