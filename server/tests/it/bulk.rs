use serde_json::json;

use crate::support::Client;

fn bulk(ops: serde_json::Value) -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
}

#[tokio::test]
async fn bulk_resolves_bulk_ids_in_any_order() {
    let c = Client::new().await;
    let r = c
        .post("/Bulk", &bulk(json!([
            {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "bulk", "members": [{"type": "User", "value": "bulkId:u1"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bulk.user"}},
        ])))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:BulkResponse");
    let ops = r.body["Operations"].as_array().cloned().unwrap_or_default();
    assert_eq!(ops.len(), 2);
    assert!(ops.iter().all(|o| o["status"] == "201"), "{}", r.text);
    let user = c.get("/Users?filter=userName%20eq%20%22bulk.user%22").await.body["Resources"][0].clone();
    assert_eq!(user["groups"][0]["display"], "bulk");
}

#[tokio::test]
async fn bulk_fail_on_errors_and_per_operation_errors() {
    let c = Client::new().await;
    c.user("dup").await;
    let user = |n: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": n});
    let r = c
        .post(
            "/Bulk",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "failOnErrors": 1, "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": user("dup")},
                {"method": "POST", "path": "/Users", "bulkId": "b", "data": user("never")},
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ops = r.body["Operations"].as_array().cloned().unwrap_or_default();
    assert_eq!(ops.len(), 1, "processing stops after failOnErrors errors: {}", r.text);
    assert_eq!(ops[0]["status"], "409");
    assert_eq!(ops[0]["response"]["scimType"], "uniqueness");
    assert_eq!(c.get("/Users?filter=userName%20eq%20%22never%22").await.body["totalResults"], 0);
}

#[tokio::test]
async fn bulk_limits_are_enforced_with_413() {
    let c = Client::new().await;
    let ops: Vec<serde_json::Value> =
        (0..1001).map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")})).collect();
    c.post("/Bulk", &bulk(json!(ops))).await.assert_error(413, None);
    let big = "x".repeat(1_100_000);
    let r = c
        .post("/Bulk", &bulk(json!([{"method": "POST", "path": "/Users", "bulkId": "x", "data": {"userName": big}}])))
        .await;
    r.assert_error(413, None);
}
