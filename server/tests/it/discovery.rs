use serde_json::Value;

use crate::support::Client;

#[tokio::test]
async fn discovery_is_readable_without_a_token_at_both_roots() {
    let c = Client::new().await;
    for root in [c.base.clone(), c.origin.clone()] {
        for path in [
            "/ServiceProviderConfig",
            "/ResourceTypes",
            "/Schemas",
            "/ResourceTypes/User",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
        ] {
            let r = reqwest::get(format!("{root}{path}")).await.expect("get");
            assert_eq!(r.status(), 200, "{root}{path}");
            assert!(r.headers()["content-type"].to_str().unwrap_or_default().starts_with("application/scim+json"));
        }
    }
}

#[tokio::test]
async fn service_provider_config_declares_what_the_server_does() {
    let c = Client::new().await;
    let spc = c.get("/ServiceProviderConfig").await.body;
    for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        assert_eq!(spc[feature]["supported"], true, "{feature}");
    }
    assert_eq!(spc["bulk"]["maxOperations"], 1000);
    assert_eq!(spc["pagination"]["cursor"], true);
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert!(spc["meta"]["location"].as_str().unwrap_or_default().ends_with("/scim/v2/ServiceProviderConfig"));
}

#[tokio::test]
async fn schemas_describe_attribute_characteristics() {
    let c = Client::new().await;
    let user = c.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User").await.body;
    let attr = |name: &str| -> Value {
        user["attributes"].as_array().into_iter().flatten().find(|a| a["name"] == name).cloned().unwrap_or(Value::Null)
    };
    assert_eq!(attr("userName")["uniqueness"], "server");
    assert_eq!(attr("userName")["required"], true);
    assert_eq!(attr("password")["mutability"], "writeOnly");
    assert_eq!(attr("password")["returned"], "never");
    assert_eq!(attr("groups")["mutability"], "readOnly");
    let list = c.get("/Schemas").await.body;
    assert_eq!(list["totalResults"], 3);
    let rt = c.get("/ResourceTypes/User").await.body;
    assert_eq!(rt["schemaExtensions"][0]["schema"], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
}

#[tokio::test]
async fn discovery_refuses_filters_and_unknown_ids() {
    let c = Client::new().await;
    c.get("/Schemas?filter=id%20eq%20%22x%22").await.assert_error(403, None);
    c.get("/Schemas/urn:nope").await.assert_error(404, None);
    c.get("/ResourceTypes/Printer").await.assert_error(404, None);
}
