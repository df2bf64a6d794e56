//! Snapshots of what clients see: every discovery document and each form of SCIM error. A change here is a
//! change to the wire format; review it like code (`cargo insta review`, see snapshots/README.md).

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{Client, patch_op};

include!(concat!(env!("CARGO_MANIFEST_DIR"), "/../snapshots/macros.rs"));

#[tokio::test]
async fn discovery_documents() {
    let c = Client::new().await;
    project_snapshot!(json: "discovery_service_provider_config", c.get("/ServiceProviderConfig").await.body, c.origin);
    project_snapshot!(json: "discovery_resource_types", c.get("/ResourceTypes").await.body, c.origin);
    project_snapshot!(json: "discovery_schemas", c.get("/Schemas").await.body, c.origin);
}

#[tokio::test]
async fn error_forms() {
    let c = Client::new().await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "snap"});
    let created = c.post("/Users", &user).await.body;
    let uid = created["id"].as_str().unwrap_or_default().to_owned();
    let anon = reqwest::get(format!("{}/Users", c.base)).await.expect("get");
    let anon_body: Value = anon.json().await.expect("json");
    let unknown_id = c.get("/Users/00000000-0000-0000-0000-000000000000").await.body;
    let cases: Vec<(&str, Value)> = vec![
        ("error_401_missing_token", anon_body),
        ("error_404_unknown_resource", unknown_id),
        ("error_404_unknown_endpoint", c.get("/Printers").await.body),
        ("error_405", c.send(Method::DELETE, "/Users", None, &[]).await.body),
        ("error_409_uniqueness", c.post("/Users", &user).await.body),
        ("error_400_invalid_filter", c.get("/Users?filter=userName%20eq").await.body),
        (
            "error_400_invalid_value",
            c.post("/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]})).await.body,
        ),
        ("error_400_no_target", c.patch(&format!("/Users/{uid}"), &patch_op(json!([{"op": "remove"}]))).await.body),
        (
            "error_400_invalid_path",
            c.patch(&format!("/Users/{uid}"), &patch_op(json!([{"op": "replace", "path": "nope", "value": 1}])))
                .await
                .body,
        ),
        ("error_412", c.send(Method::DELETE, &format!("/Users/{uid}"), None, &[("if-match", "W/\"0\"")]).await.body),
        ("error_501_me", c.get("/Me").await.body),
    ];
    for (name, body) in cases {
        project_snapshot!(json: name, body, c.origin);
    }
}

/// The OpenAPI document of every route: an API change shows here in review.
#[tokio::test]
async fn openapi_document() {
    let c = Client::new().await;
    let r = reqwest::get(format!("{}/openapi.json", c.origin)).await.expect("get");
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "OpenAPI 3.1");
    project_snapshot!(json: "openapi", doc, c.origin);
}

/// `/docs` is Swagger UI served from the binary: the page and every asset it loads come from this server.
#[tokio::test]
async fn docs_work_offline() {
    let c = Client::new().await;
    let page = reqwest::get(format!("{}/docs", c.origin)).await.expect("get");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(!html.contains("http://") && !html.contains("https://"), "no external assets: {html}");
    for asset in ["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js"] {
        assert!(html.contains(asset), "{asset}");
        let r = reqwest::get(format!("{}{asset}", c.origin)).await.expect("get");
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.bytes().await.expect("body").len() > 100, "{asset}");
    }
    let init = reqwest::get(format!("{}/docs/init.js", c.origin)).await.expect("get").text().await.expect("js");
    assert!(init.contains("\"/openapi.json\""));
}

/// Each form of management-API error, as clients see it.
#[tokio::test]
async fn management_error_forms() {
    use crate::admin_support::{Auth, call, workspace};
    let s = crate::support::server();
    let ws = workspace(s, "enterprise").await;
    let free = workspace(s, "free").await;
    let o = &s.origin;
    let cases = vec![
        ("admin_error_401", call(o, Method::GET, "/scim/directories", &Auth::None, None).await.body),
        (
            "admin_error_403_csrf",
            call(o, Method::POST, "/scim/directories", &ws.admin.no_csrf(), Some(&json!({}))).await.body,
        ),
        ("admin_error_403_role", call(o, Method::GET, "/scim/directories", &ws.member.session(), None).await.body),
        ("admin_error_404", call(o, Method::GET, "/scim/directories/dir_nope", &ws.admin.session(), None).await.body),
        (
            "admin_error_422",
            call(
                o,
                Method::POST,
                "/api/v1/admin/scim-tokens",
                &ws.admin.session(),
                Some(&json!({"name": "", "ttl": 5})),
            )
            .await
            .body,
        ),
    ];
    for (name, body) in cases {
        project_snapshot!(json: name, body, s.origin);
    }
    // The plan error names the workspace, whose id is random: check its shape here rather than snapshot it.
    let r = call(o, Method::GET, "/scim/directories", &free.admin.session(), None).await;
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (403, Some("plan_required")), "{}", r.text);
}

/// The OAuth discovery documents (RFC 8414, RFC 9728, the JWK Set) and each form of OAuth error (RFC 6749 §5.2,
/// RFC 6750 §3, RFC 7662 §2.3), as clients see them. Key material is redacted: it is new in every run.
#[tokio::test]
async fn oauth_documents_and_error_forms() {
    let e = crate::oauth_support::env().await;
    let o = e.s.origin.clone();
    let get = |path: &str| {
        let url = format!("{o}{path}");
        async move { crate::saml_support::read(reqwest::Client::new().get(url)).await }
    };
    project_snapshot!(json: "oauth_authorization_server_metadata", get("/.well-known/oauth-authorization-server").await.body, o);
    project_snapshot!(json: "oauth_protected_resource_metadata", get("/.well-known/oauth-protected-resource").await.body, o);
    let mut jwks = get("/.well-known/jwks.json").await.body;
    for key in jwks["keys"].as_array_mut().into_iter().flatten() {
        for member in ["kid", "x", "y", "n", "e"] {
            if key.get(member).is_some() {
                key[member] = json!(format!("[{member}]"));
            }
        }
    }
    project_snapshot!(json: "oauth_jwks", jwks, o);

    let app = e.app(json!({})).await;
    let secret = app.secret.clone().expect("confidential");
    let basic = Some((app.id.as_str(), secret.as_str()));
    let token = "/oauth/token";
    let code =
        [("grant_type", "authorization_code"), ("code", "nope"), ("redirect_uri", crate::oauth_support::REDIRECT)];
    let cases = vec![
        ("oauth_error_400_invalid_grant", e.token_post(token, basic, &code).await),
        ("oauth_error_401_invalid_client", e.token_post(token, Some((app.id.as_str(), "wrong")), &code).await),
        (
            "oauth_error_400_unsupported_grant_type",
            e.token_post(token, basic, &[("grant_type", "password"), ("username", "a"), ("password", "b")]).await,
        ),
        ("oauth_error_400_invalid_request", e.token_post(token, basic, &[("code", "nope")]).await),
        ("oauth_error_401_introspection", e.token_post("/oauth/introspect", None, &[("token", "nope")]).await),
        ("oauth_error_401_invalid_token", e.userinfo("not-a-token").await),
    ];
    for (name, r) in cases {
        assert!(r.status.is_client_error(), "{name}: {}", r.text);
        let challenge = r.header("www-authenticate").map(|c| c.replace(o.as_str(), "http://idconform.test"));
        let seen = json!({"status": r.status.as_u16(), "www-authenticate": challenge, "body": r.body});
        project_snapshot!(json: name, seen, o);
    }
}

/// The SAML SP metadata document (SAML Metadata §2.4.4) and the ACS's error form.
#[tokio::test]
async fn saml_documents_and_error_forms() {
    let e = crate::saml_support::env().await;
    let o = e.s.origin.clone();
    let metadata =
        crate::saml_support::read(crate::saml_support::browser().get(format!("{o}/saml/metadata/{}", e.ws.id))).await;
    assert_eq!(metadata.status, reqwest::StatusCode::OK, "{}", metadata.text);
    project_snapshot!(text: "saml_sp_metadata", metadata.text.replace(e.ws.id.as_str(), "[workspace]"));
    let refused = e.post_response("<samlp:Response", None).await;
    assert_eq!(refused.status, reqwest::StatusCode::BAD_REQUEST, "{}", refused.text);
    project_snapshot!(json: "saml_error_400_malformed_xml", refused.body, o);
}
