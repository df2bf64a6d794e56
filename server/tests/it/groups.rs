use serde_json::json;

use crate::support::{Client, id, patch_op};

#[tokio::test]
async fn users_groups_lists_direct_and_indirect_memberships() {
    let c = Client::new().await;
    let u = id(&c.user("nested").await);
    let inner = id(&c.group("inner", &[&u]).await);
    let outer = c.group("outer", &[&inner]).await;
    assert_eq!(outer["members"][0]["type"], "Group");
    assert_eq!(outer["members"][0]["display"], "inner");
    assert_eq!(outer["members"][0]["$ref"], format!("{}/Groups/{inner}", c.base));
    let user = c.get(&format!("/Users/{u}")).await.body;
    let groups = user["groups"].as_array().cloned().unwrap_or_default();
    assert_eq!(groups.len(), 2, "{user}");
    assert_eq!(groups[0]["value"], inner.as_str());
    assert_eq!(groups[0]["type"], "direct");
    assert_eq!(groups[1]["type"], "indirect");
    assert!(groups[0]["$ref"].as_str().unwrap_or_default().ends_with(&format!("/Groups/{inner}")));
    let r = c.get(&format!("/Users?filter=groups.value%20eq%20%22{}%22", id(&outer))).await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
}

#[tokio::test]
async fn deleting_a_user_removes_it_from_groups() {
    let c = Client::new().await;
    let a = id(&c.user("del.a").await);
    let b = id(&c.user("del.b").await);
    let g = id(&c.group("del", &[&a, &b]).await);
    assert_eq!(c.delete(&format!("/Users/{a}")).await.status, 204);
    let group = c.get(&format!("/Groups/{g}")).await.body;
    assert_eq!(group["members"].as_array().map(Vec::len), Some(1), "{group}");
    assert_eq!(group["members"][0]["value"], b.as_str());
}

#[tokio::test]
async fn members_must_exist_and_cycles_are_refused() {
    let c = Client::new().await;
    let r = c.post("/Groups", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x", "members": [{"value": "nope"}]})).await;
    r.assert_error(400, Some("invalidValue"));
    let a = id(&c.group("a", &[]).await);
    let b = id(&c.group("b", &[&a]).await);
    let r = c
        .patch(&format!("/Groups/{a}"), &patch_op(json!([{"op": "add", "path": "members", "value": [{"value": b}]}])))
        .await;
    r.assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn group_filters_and_excluded_members() {
    let c = Client::new().await;
    let u = id(&c.user("gf").await);
    c.group("Engineering", &[&u]).await;
    let r = c.get("/Groups?excludedAttributes=members&filter=displayName%20eq%20%22engineering%22").await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
    assert!(r.body["Resources"][0].get("members").is_none());
}

#[tokio::test]
async fn group_logo_png_or_jpeg_only() {
    let c = Client::new().await;
    let g = id(&c.group("logo", &[]).await);
    let url = format!("{}/Groups/{g}/Logo", c.base);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let put = |ct: &'static str, body: Vec<u8>| {
        c.http.put(&url).bearer_auth(&c.token).header("content-type", ct).body(body).send()
    };
    let r = put("image/png", png.clone()).await.expect("put");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["logo"], url.as_str());
    let r = c.http.get(&url).bearer_auth(&c.token).send().await.expect("get");
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.expect("bytes").to_vec(), png);
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    assert_eq!(put("image/svg+xml", svg).await.expect("put").status(), 400);
    assert_eq!(put("image/png", vec![0x89; 300 * 1024]).await.expect("put").status(), 413);
}
