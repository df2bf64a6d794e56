use serde_json::json;

use crate::support::{Client, id};

#[tokio::test]
async fn create_returns_201_with_location_etag_and_meta() {
    let c = Client::new().await;
    let r = c
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen", "password": "t1meMa$heen"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.header("content-type").unwrap_or_default().starts_with("application/scim+json"));
    let uid = id(&r.body);
    let loc = r.header("location").expect("Location");
    assert_eq!(loc, format!("{}/Users/{uid}", c.base));
    assert_eq!(r.body["meta"]["location"], loc);
    assert_eq!(r.body["meta"]["resourceType"], "User");
    assert_eq!(r.header("etag"), r.body["meta"]["version"].as_str());
    assert!(r.body["meta"]["created"].is_string() && r.body["meta"]["lastModified"].is_string());
    assert!(r.body.get("password").is_none(), "writeOnly password must never be returned");
    let got = c.get(&format!("/Users/{uid}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["userName"], "bjensen");
    assert!(got.body.get("password").is_none());
}

#[tokio::test]
async fn user_name_is_unique_case_insensitively() {
    let c = Client::new().await;
    c.user("Alice@Example.com").await;
    let r = c
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice@example.COM"}),
        )
        .await;
    r.assert_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn required_attributes_and_readonly_input() {
    let c = Client::new().await;
    let r = c
        .post("/Users", &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "name": {"givenName": "x"}}))
        .await;
    r.assert_error(400, Some("invalidValue"));
    // readOnly attributes in input are ignored (RFC 7644 §3.3), as Entra sends meta on create.
    let r = c
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ro", "id": "chosen",
                    "meta": {"resourceType": "User"}, "roles": []}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_ne!(r.body["id"], "chosen");
}

#[tokio::test]
async fn put_replaces_and_delete_removes() {
    let c = Client::new().await;
    let u = c.user("replace.me").await;
    let uid = id(&u);
    let r = c
        .put(
            &format!("/Users/{uid}"),
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "replace.me", "displayName": "New"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["displayName"], "New");
    assert!(r.body.get("emails").is_none(), "PUT replaces: attributes not sent are cleared");
    assert_eq!(r.body["meta"]["created"], u["meta"]["created"]);
    assert_ne!(r.body["meta"]["version"], u["meta"]["version"]);
    assert_eq!(c.delete(&format!("/Users/{uid}")).await.status, 204);
    c.get(&format!("/Users/{uid}")).await.assert_error(404, None);
    c.delete(&format!("/Users/{uid}")).await.assert_error(404, None);
}

#[tokio::test]
async fn enterprise_extension_and_manager() {
    let c = Client::new().await;
    let boss = c.user("boss").await;
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let r = c
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ext], "userName": "worker",
                    ext: {"employeeNumber": "42", "department": "R&D", "manager": {"value": id(&boss)}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body[ext]["employeeNumber"], "42");
    assert_eq!(r.body[ext]["manager"]["value"], id(&boss));
    // RFC 7643 §4.3: manager.$ref and the read-only manager.displayName are derived on output.
    assert_eq!(r.body[ext]["manager"]["$ref"], format!("{}/Users/{}", c.base, id(&boss)));
    let boss_id = id(&boss);
    c.patch(
        &format!("/Users/{boss_id}"),
        &crate::support::patch_op(json!([{"op": "add", "path": "displayName", "value": "The Boss"}])),
    )
    .await;
    let worker = c.get(&format!("/Users/{}", id(&r.body))).await.body;
    assert_eq!(worker[ext]["manager"]["displayName"], "The Boss");
    let only = c.get(&format!("/Users/{}?attributes=userName", id(&r.body))).await.body;
    assert!(only.get(ext).is_none(), "derived attributes follow the projection: {only}");
    assert!(r.body["schemas"].as_array().is_some_and(|s| s.iter().any(|x| x == ext)));
}

#[tokio::test]
async fn attributes_and_excluded_attributes_on_reads_and_writes() {
    let c = Client::new().await;
    let u = c.user("proj").await;
    let uid = id(&u);
    let r = c.get(&format!("/Users/{uid}?attributes=userName")).await;
    assert_eq!(r.body["userName"], "proj");
    assert_eq!(r.body["id"], uid.as_str(), "id is returned always");
    assert!(r.body.get("emails").is_none() && r.body.get("name").is_none());
    let r = c.get(&format!("/Users/{uid}?excludedAttributes=emails,name.givenName")).await;
    assert!(r.body.get("emails").is_none());
    assert_eq!(r.body["name"]["familyName"], "Family");
    assert!(r.body["name"].get("givenName").is_none());
    let r = c.get("/Users?attributes=userName").await;
    assert!(r.body["Resources"][0].get("emails").is_none());
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let a = Client::new().await;
    let b = Client::new().await;
    let u = a.user("private").await;
    let uid = id(&u);
    b.get(&format!("/Users/{uid}")).await.assert_error(404, None);
    b.patch(
        &format!("/Users/{uid}"),
        &crate::support::patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await
    .assert_error(404, None);
    b.delete(&format!("/Users/{uid}")).await.assert_error(404, None);
    assert_eq!(b.get("/Users?filter=userName%20eq%20%22private%22").await.body["totalResults"], 0);
    // The same userName may exist in another directory.
    b.user("private").await;
}

#[tokio::test]
async fn provisioning_creates_deactivates_and_removes_workspace_members() {
    let s = crate::support::server();
    let (dir_id, token) = s.state.scim.create_directory("members-ws", "m").await.expect("dir");
    let _ = dir_id;
    let c =
        Client { http: reqwest::Client::new(), base: format!("{}/scim/v2", s.origin), token, origin: s.origin.clone() };
    let u = c.user("member.one").await;
    let uid = id(&u);
    let find =
        || s.state.scim.members("members-ws").into_iter().find(|m| m.scim_user_id.as_deref() == Some(uid.as_str()));
    let m = find().expect("member created");
    assert!(m.active);
    assert_eq!(m.email, "member.one@example.com");
    c.patch(
        &format!("/Users/{uid}"),
        &crate::support::patch_op(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await;
    assert!(!find().expect("still a member").active);
    c.delete(&format!("/Users/{uid}")).await;
    assert!(find().is_none());
}

/// The default rendering (the stored form written out with derived attributes merged in) equals the general
/// projection path, for every kind of derived attribute, on single reads and in lists.
#[tokio::test]
async fn default_rendering_matches_the_projection_path() {
    let c = Client::new().await;
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let boss = c.user("render.boss").await;
    let r = c
        .post(
            "/Users",
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ext], "userName": "render.worker",
                    "emails": [{"value": "w@example.com", "type": "work"}], ext: {"department": "R&D", "manager": {"value": id(&boss)}}}),
        )
        .await;
    let worker = id(&r.body);
    let inner = id(&c.group("render.inner", &[&worker, &id(&boss)]).await);
    let outer = id(&c.group("render.outer", &[&inner]).await);
    for path in [
        format!("/Users/{worker}"),
        format!("/Users/{}", id(&boss)),
        format!("/Groups/{inner}"),
        format!("/Groups/{outer}"),
    ] {
        let fast = c.get(&path).await.body;
        // An unset attribute of the type forces the general path (nickName for users, logo for groups).
        let unset = if path.starts_with("/Users") { "nickName" } else { "logo" };
        let general = c.get(&format!("{path}?excludedAttributes={unset}")).await.body;
        assert_eq!(fast, general, "{path}");
        assert!(fast["meta"]["location"].as_str().is_some_and(|l| l.ends_with(&path)), "{fast}");
    }
    for (list, unset) in [("/Users", "nickName"), ("/Groups", "logo")] {
        let fast = c.get(list).await.body;
        let general = c.get(&format!("{list}?excludedAttributes={unset}")).await.body;
        assert_eq!(fast, general, "{list}");
        assert!(fast["Resources"].as_array().is_some_and(|r| r.len() >= 2), "{fast}");
    }
}
