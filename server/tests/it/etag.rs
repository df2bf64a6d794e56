use reqwest::Method;
use serde_json::json;

use crate::support::{Client, id, patch_op};

#[tokio::test]
async fn if_none_match_gives_304_and_if_match_guards_writes() {
    let c = Client::new().await;
    let u = c.user("etag").await;
    let uid = id(&u);
    let v1 = u["meta"]["version"].as_str().expect("version").to_owned();
    let r = c.send(Method::GET, &format!("/Users/{uid}"), None, &[("if-none-match", &v1)]).await;
    assert_eq!(r.status, 304);
    let op = patch_op(json!([{"op": "replace", "path": "displayName", "value": "x"}]));
    let r = c.send(Method::PATCH, &format!("/Users/{uid}"), Some(&op), &[("if-match", "W/\"999999\"")]).await;
    r.assert_error(412, None);
    let r = c.send(Method::PATCH, &format!("/Users/{uid}"), Some(&op), &[("if-match", &v1)]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let v2 = r.header("etag").expect("etag").to_owned();
    assert_ne!(v1, v2);
    // The old version no longer matches: PUT and DELETE are guarded too.
    let put = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "etag"});
    c.send(Method::PUT, &format!("/Users/{uid}"), Some(&put), &[("if-match", &v1)]).await.assert_error(412, None);
    c.send(Method::DELETE, &format!("/Users/{uid}"), None, &[("if-match", &v1)]).await.assert_error(412, None);
    let r = c.send(Method::GET, &format!("/Users/{uid}"), None, &[("if-none-match", &v1)]).await;
    assert_eq!(r.status, 200);
    assert_eq!(c.send(Method::DELETE, &format!("/Users/{uid}"), None, &[("if-match", "*")]).await.status, 204);
}

#[tokio::test]
async fn concurrent_patches_with_the_same_if_match_exactly_one_wins() {
    let c = Client::new().await;
    let u = c.user("race").await;
    let uid = id(&u);
    let v1 = u["meta"]["version"].as_str().expect("version").to_owned();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let http = c.http.clone();
        let url = format!("{}/Users/{uid}", c.base);
        let token = c.token.clone();
        let v1 = v1.clone();
        tasks.push(tokio::spawn(async move {
            let body = patch_op(json!([{"op": "replace", "path": "displayName", "value": format!("writer {i}")}]));
            http.patch(url)
                .bearer_auth(token)
                .header("if-match", v1)
                .header("content-type", "application/scim+json")
                .body(body.to_string())
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.expect("join").expect("request"));
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 412).count(), 15, "{codes:?}");
}
