//! PATCH over HTTP in both modes: the IdP shapes of Okta and Entra are accepted by default and answered with the
//! RFC's errors under --strict.

use serde_json::{Value, json};

use crate::support::{Client, id, patch_op};

const EXT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn patched(c: &Client, path: &str, ops: Value) -> Value {
    let r = c.patch(path, &patch_op(ops)).await;
    assert!(r.status == 200 || r.status == 204, "{}", r.text);
    c.get(path).await.body
}

#[tokio::test]
async fn entra_legacy_shapes_are_accepted_by_default() {
    let c = Client::new().await;
    let uid = id(&c.user("entra.legacy").await);
    let path = format!("/Users/{uid}");
    let u = patched(&c, &path, json!([{"op": "Replace", "path": "active", "value": "False"}])).await;
    assert_eq!(u["active"], false);
    let u = patched(
        &c,
        &path,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "Replace", "path": "name.givenName", "value": "Kkom"},
            {"op": "Add", "path": format!("{EXT}:employeeNumber"), "value": "Aklq"},
            {"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
        ]),
    )
    .await;
    assert_eq!(u["emails"][0]["value"], "new@example.com");
    assert_eq!(u["name"]["givenName"], "Kkom");
    assert_eq!(u[EXT]["employeeNumber"], "Aklq");
    assert_eq!(u["addresses"][0]["streetAddress"], "1 Main St");
    assert_eq!(u["addresses"][0]["type"], "work");
}

#[tokio::test]
async fn entra_2020_pathless_dotted_keys_update_the_attributes_not_literal_keys() {
    let c = Client::new().await;
    let uid = id(&c.user("entra.2020").await);
    let path = format!("/Users/{uid}");
    let u = patched(
        &c,
        &path,
        json!([{"op": "replace", "value": {
        "displayName": "Bjfe", "name.givenName": "Kkom", format!("{EXT}:employeeNumber"): "Aklq"}}]),
    )
    .await;
    assert_eq!(u["displayName"], "Bjfe");
    assert_eq!(u["name"]["givenName"], "Kkom");
    assert_eq!(u[EXT]["employeeNumber"], "Aklq");
    assert!(u.get("name.givenName").is_none(), "a literal dotted key must not be stored: {u}");
}

#[tokio::test]
async fn legacy_member_removal_removes_only_the_listed_member() {
    let c = Client::new().await;
    let a = id(&c.user("m.a").await);
    let b = id(&c.user("m.b").await);
    let d = id(&c.user("m.d").await);
    let g = id(&c.group("eng", &[&a, &b, &d]).await);
    let path = format!("/Groups/{g}");
    let r = c.patch(&path, &patch_op(json!([{"op": "Remove", "path": "members", "value": [{"value": b}]}]))).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let members: Vec<String> = c.get(&path).await.body["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["value"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(members, [a.clone(), d.clone()]);
    // The aadOptscim062020 shape, and Okta's remove-by-filter plus add in one request.
    let e = id(&c.user("m.e").await);
    let r = c
        .patch(
            &path,
            &patch_op(json!([
                {"op": "remove", "path": format!("members[value eq \"{a}\"]")},
                {"op": "add", "path": "members", "value": [{"value": e, "display": "m.e"}, {"$ref": null, "value": b}]},
            ])),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let members: Vec<String> = c.get(&path).await.body["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["value"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(members, [d, e, b]);
}

#[tokio::test]
async fn okta_group_rename_with_read_only_id_in_the_value() {
    let c = Client::new().await;
    let g = c.group("okta-group", &[]).await;
    let gid = id(&g);
    let r = c
        .patch(
            &format!("/Groups/{gid}"),
            &patch_op(json!([{"op": "replace", "value": {"id": gid, "displayName": "renamed"}}])),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(c.get(&format!("/Groups/{gid}")).await.body["displayName"], "renamed");
}

#[tokio::test]
async fn patch_is_atomic() {
    let c = Client::new().await;
    let u = c.user("atomic").await;
    let uid = id(&u);
    let r = c
        .patch(
            &format!("/Users/{uid}"),
            &patch_op(json!([
                {"op": "replace", "path": "displayName", "value": "changed"},
                {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@example.com"},
                {"op": "replace", "path": "nonexistent", "value": 1},
            ])),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let after = c.get(&format!("/Users/{uid}")).await.body;
    assert!(after.get("displayName").is_none(), "first op must not survive a failed request: {after}");
    assert_eq!(after["meta"]["version"], u["meta"]["version"]);
}

#[tokio::test]
async fn strict_mode_answers_quirks_with_rfc_errors() {
    let c = Client::strict().await;
    let uid = id(&c.user("strict").await);
    let path = format!("/Users/{uid}");
    let r = c.patch(&path, &patch_op(json!([{"op": "replace", "path": "active", "value": "False"}]))).await;
    r.assert_error(400, Some("invalidValue"));
    let r = c.patch(&path, &patch_op(json!([{"op": "Replace", "path": "active", "value": false}]))).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = c.patch(&path, &patch_op(json!([{"op": "replace", "path": "active", "value": false}]))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], false);
}

#[tokio::test]
async fn patch_errors() {
    let c = Client::new().await;
    let uid = id(&c.user("errs").await);
    let path = format!("/Users/{uid}");
    c.patch(&path, &patch_op(json!([{"op": "remove"}]))).await.assert_error(400, Some("noTarget"));
    c.patch(&path, &patch_op(json!([{"op": "replace", "path": "emails[type eq \"nope\"", "value": "x"}])))
        .await
        .assert_error(400, Some("invalidPath"));
    c.patch(&path, &json!({"Operations": "nope"})).await.assert_error(400, Some("invalidSyntax"));
    c.patch(&path, &patch_op(json!([{"op": "replace", "path": "userName", "value": ""}]))).await;
    let r = c.get(&path).await;
    assert_eq!(r.body["userName"], "errs", "required userName cannot be emptied");
}

/// Every row of the README's "IdP quirks" table: accepted by default, the RFC's error under --strict.
#[tokio::test]
async fn quirks_table_in_both_modes() {
    struct Quirk {
        name: &'static str,
        group: bool,
        ops: fn(&str) -> Value,
        strict: (u16, &'static str),
    }
    let quirks = [
        Quirk {
            name: "capitalised op",
            group: false,
            ops: |_| json!([{"op": "Replace", "path": "displayName", "value": "x"}]),
            strict: (400, "invalidSyntax"),
        },
        Quirk {
            name: "string boolean",
            group: false,
            ops: |_| json!([{"op": "replace", "path": "active", "value": "False"}]),
            strict: (400, "invalidValue"),
        },
        Quirk {
            name: "dotted path-less keys",
            group: false,
            ops: |_| json!([{"op": "replace", "value": {"name.givenName": "x"}}]),
            strict: (400, "invalidSyntax"),
        },
        Quirk {
            name: "member removal by value list",
            group: true,
            ops: |m| json!([{"op": "remove", "path": "members", "value": [{"value": m}]}]),
            strict: (400, "invalidValue"),
        },
        Quirk {
            name: "filtered path creating an element",
            group: false,
            ops: |_| json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"}]),
            strict: (400, "noTarget"),
        },
        Quirk {
            name: "manager as a bare id",
            group: false,
            ops: |m| json!([{"op": "replace", "path": format!("{EXT}:manager"), "value": m}]),
            strict: (400, "invalidValue"),
        },
        Quirk {
            name: "read-only id in a path-less value",
            group: true,
            ops: |_| json!([{"op": "replace", "value": {"id": "someone-else", "displayName": "renamed"}}]),
            strict: (400, "mutability"),
        },
    ];
    for (client, strict) in [(Client::new().await, false), (Client::strict().await, true)] {
        for q in &quirks {
            let member = id(&client.user(&format!("q.{}", q.name.replace(' ', "."))).await);
            let target = if q.group {
                format!("/Groups/{}", id(&client.group(&format!("g.{}", q.name), &[&member]).await))
            } else {
                format!("/Users/{}", id(&client.user(&format!("t.{}", q.name.replace(' ', "."))).await))
            };
            let before = client.get(&target).await.body;
            let r = client.patch(&target, &patch_op((q.ops)(&member))).await;
            if strict {
                assert_eq!(r.status.as_u16(), q.strict.0, "{}: {}", q.name, r.text);
                assert_eq!(r.body["scimType"], q.strict.1, "{}: {}", q.name, r.text);
                assert_eq!(client.get(&target).await.body["meta"]["version"], before["meta"]["version"], "{}", q.name);
            } else {
                assert!(r.status == 200 || r.status == 204, "{}: {}", q.name, r.text);
            }
        }
    }
}

/// The multi-valued email updates of Entra's provisioning validator: replace and add through value filters, on a
/// user that has only a work email, with `primary` moved between values.
#[tokio::test]
async fn entra_validator_email_sequence() {
    let c = Client::new().await;
    let uid = id(&c.user("validator").await);
    let path = format!("/Users/{uid}");
    let ops = json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "oren.collins@white.com"},
        {"op": "add", "path": "emails[type eq \"home\"].value", "value": "angelita@mante.us"},
        {"op": "add", "path": "emails[type eq \"other\"].value", "value": "yasmine_bins@braun.us"},
        {"op": "replace", "path": "emails[type eq \"work\"].display", "value": "0TXBC2MOGUI0"},
        {"op": "replace", "path": "emails[type eq \"home\"].display", "value": "14UDKFEIO3YS"},
        {"op": "add", "path": "emails[type eq \"work\"].primary", "value": false},
        {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true},
    ]);
    let u = patched(&c, &path, ops).await;
    let emails = u["emails"].as_array().cloned().unwrap_or_default();
    let by_type = |t: &str| emails.iter().find(|e| e["type"] == t).cloned().unwrap_or(Value::Null);
    assert_eq!(emails.len(), 3, "{u}");
    assert_eq!(by_type("work")["value"], "oren.collins@white.com");
    assert_eq!(by_type("work")["display"], "0TXBC2MOGUI0");
    assert_eq!(by_type("home")["value"], "angelita@mante.us");
    assert_eq!(by_type("other")["value"], "yasmine_bins@braun.us");
    assert_eq!(by_type("home")["primary"], true);
    assert_ne!(by_type("work")["primary"], true, "one primary at most (RFC 7643 §2.4)");
}
