//! `meta.location` and `Location` follow `--public-url`, and X-Forwarded-* only when trusted.

use idconform_server::ServerConfig;
use reqwest::Method;

use crate::support::{Client, Server, spawn_with};

async fn location(s: &Server, headers: &[(&str, &str)]) -> (String, String) {
    let c = Client::on(s).await;
    let body = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "url"});
    let r = c.send(Method::POST, "/Users", Some(&body), headers).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (
        r.header("location").unwrap_or_default().to_owned(),
        r.body["meta"]["location"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn public_url_and_forwarded_headers() {
    let forwarded = [("x-forwarded-proto", "https"), ("x-forwarded-host", "idp.example.com")];

    let public =
        spawn_with(ServerConfig { public_url: Some("https://scim.example.org/".into()), ..ServerConfig::default() });
    let (header, meta) = location(&public, &forwarded).await;
    assert!(header.starts_with("https://scim.example.org/scim/v2/Users/"), "{header}");
    assert_eq!(header, meta);

    let trusting = spawn_with(ServerConfig { trust_forwarded: true, ..ServerConfig::default() });
    let (header, _) = location(&trusting, &forwarded).await;
    assert!(header.starts_with("https://idp.example.com/scim/v2/Users/"), "{header}");

    // Without --trust-forwarded, a client cannot make the server advertise another host.
    let (header, _) = location(crate::support::server(), &forwarded).await;
    assert!(header.starts_with(&crate::support::server().origin), "{header}");
}
