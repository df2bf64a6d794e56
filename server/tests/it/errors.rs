use reqwest::Method;
use serde_json::json;

use crate::support::Client;

#[tokio::test]
async fn missing_and_wrong_tokens_get_401_with_a_bearer_challenge() {
    let c = Client::new().await;
    let r = reqwest::get(format!("{}/Users", c.base)).await.expect("get");
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap_or_default().starts_with("Bearer"));
    let r = reqwest::Client::new()
        .get(format!("{}/Users", c.base))
        .bearer_auth("idc_scim_wrong")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"].to_str().unwrap_or_default().contains("invalid_token"));
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "401");
}

#[tokio::test]
async fn malformed_json_is_400_invalid_syntax_and_nothing_is_written() {
    let c = Client::new().await;
    let r = c
        .http
        .post(format!("{}/Users", c.base))
        .bearer_auth(&c.token)
        .header("content-type", "application/scim+json")
        .body("{\"userName\": ")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["scimType"], "invalidSyntax");
    assert_eq!(c.get("/Users").await.body["totalResults"], 0);
}

#[tokio::test]
async fn unsupported_media_type_is_415_and_json_is_accepted() {
    let c = Client::new().await;
    let send = |ct: &'static str| {
        c.http
            .post(format!("{}/Users", c.base))
            .bearer_auth(&c.token)
            .header("content-type", ct)
            .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": ct}).to_string())
            .send()
    };
    assert_eq!(send("text/plain").await.expect("post").status(), 415);
    assert_eq!(send("application/json").await.expect("post").status(), 201);
    assert_eq!(send("application/json; charset=utf-8").await.expect("post").status(), 201);
}

#[tokio::test]
async fn unknown_endpoint_is_404_and_wrong_method_is_405_with_allow() {
    let c = Client::new().await;
    c.get("/Printers").await.assert_error(404, None);
    let r = c.send(Method::DELETE, "/Users", None, &[]).await;
    assert_eq!(r.status, 405, "{}", r.text);
    assert!(r.header("allow").is_some_and(|a| a.contains("GET") && a.contains("POST")));
    assert_eq!(r.body["status"], "405");
}

#[tokio::test]
async fn me_with_a_directory_token_is_501() {
    let c = Client::new().await;
    c.get("/Me").await.assert_error(501, None);
}

#[tokio::test]
async fn invalid_filter_says_where() {
    let c = Client::new().await;
    let r = c.get("/Users?filter=userName%20xx%20%22a%22").await;
    r.assert_error(400, Some("invalidFilter"));
    assert!(r.body["detail"].as_str().unwrap_or_default().contains("character"), "{}", r.text);
    c.get("/Users?filter=nosuchattr%20eq%20%22a%22").await.assert_error(400, Some("invalidFilter"));
    c.get("/Users?filter=(userName%20eq%20%22a%22").await.assert_error(400, Some("invalidFilter"));
}
