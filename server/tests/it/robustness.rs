//! Bad input gets a 4xx, never a 5xx: arbitrary text in every query parameter, PATCH path and body position.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{Client, id, patch_op};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn enc(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// Text that looks like SCIM syntax, with Unicode, quotes and brackets mixed in.
fn scimish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z:._\\[\\]\"() é日0-9-]{0,40}",
        prop::sample::select(vec![
            "userName eq",
            "emails[type eq \"work\"",
            "name.familyName co",
            "urn:ietf:params:scim:schemas:core:2.0:User:",
            "members[value eq \"x\"].display",
            "not (",
            "a or b and",
            "meta.lastModified gt \"x\"",
            "é",
            "$ref",
        ])
        .prop_map(str::to_owned),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        scimish().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((scimish(), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn query_parameters_never_cause_a_server_error(text in scimish()) {
        runtime().block_on(async {
            let c = Client::new().await;
            c.user("robust").await;
            for param in ["filter", "sortBy", "sortOrder", "attributes", "excludedAttributes", "startIndex", "count", "cursor"] {
                let r = c.get(&format!("/Users?{param}={}", enc(&text))).await;
                assert!(r.status.as_u16() < 500, "{param}={text:?}: {} {}", r.status, r.text);
            }
        });
    }

    #[test]
    fn patch_paths_and_values_never_cause_a_server_error(path in scimish(), value in json_value(), op in scimish()) {
        runtime().block_on(async {
            let c = Client::new().await;
            let u = id(&c.user("robust").await);
            let g = id(&c.group("robust", &[&u]).await);
            for target in [format!("/Users/{u}"), format!("/Groups/{g}")] {
                for body in [
                    patch_op(json!([{"op": "replace", "path": path, "value": value}])),
                    patch_op(json!([{"op": op, "path": path, "value": value}])),
                    patch_op(json!([{"op": "add", "value": value}])),
                ] {
                    let r = c.patch(&target, &body).await;
                    assert!(r.status.as_u16() < 500, "{body}: {} {}", r.status, r.text);
                }
            }
        });
    }

    #[test]
    fn resource_bodies_never_cause_a_server_error(value in json_value()) {
        runtime().block_on(async {
            let c = Client::new().await;
            let mut body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b"});
            if let (Value::Object(extra), Some(o)) = (value.clone(), body.as_object_mut()) {
                o.extend(extra);
            }
            for (path, b) in [("/Users", &body), ("/Users", &value), ("/Groups", &value), ("/Bulk", &value), ("/.search", &value)] {
                let r = c.post(path, b).await;
                assert!(r.status.as_u16() < 500, "POST {path} {b}: {} {}", r.status, r.text);
            }
        });
    }
}

/// Paths a PATCH can really name, mixed with noise: the rejected ones are where a half-applied request would show.
fn patch_path() -> impl Strategy<Value = String> {
    prop_oneof![
        scimish(),
        prop::sample::select(vec![
            "displayName",
            "userName",
            "emails",
            "emails[type eq \"work\"].value",
            "emails[value eq \"nobody\"]",
            "members",
            "members[value eq \"nobody\"]",
            "name.givenName",
            "active",
            "id",
            "meta.created",
            "groups",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        ])
        .prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    /// RFC 7644 §3.5.2: "If a single operation encounters an error condition, the original SCIM resource MUST be
    /// restored". A valid operation before (and after) a random one: when the request is refused, the resource reads
    /// back byte for byte as before, `meta.version` and `meta.lastModified` included.
    #[test]
    fn a_refused_patch_writes_nothing(path in patch_path(), value in json_value(), op in prop::sample::select(vec!["add", "replace", "remove", "Replace", "bogus"])) {
        runtime().block_on(async {
            let c = Client::new().await;
            let u = id(&c.user("atomic").await);
            let g = id(&c.group("atomic", &[&u]).await);
            for target in [format!("/Users/{u}"), format!("/Groups/{g}")] {
                let valid = json!({"op": "replace", "path": "displayName", "value": "changed"});
                let random = json!({"op": op, "path": path, "value": value});
                for ops in [json!([valid, random]), json!([random, valid])] {
                    let before = c.get(&target).await;
                    let r = c.patch(&target, &patch_op(ops.clone())).await;
                    assert!(r.status.as_u16() < 500, "{ops}: {} {}", r.status, r.text);
                    if r.status.is_client_error() {
                        let after = c.get(&target).await;
                        assert_eq!(before.body, after.body, "{target} changed by a refused PATCH {ops}: {}", r.text);
                    }
                }
            }
        });
    }

    /// A refused PUT leaves the resource as it was; a refused POST creates nothing.
    #[test]
    fn refused_puts_and_posts_write_nothing(value in json_value()) {
        runtime().block_on(async {
            let c = Client::new().await;
            let u = id(&c.user("atomic-put").await);
            let mut body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "atomic-put", "displayName": "changed"});
            if let (Value::Object(extra), Some(o)) = (value.clone(), body.as_object_mut()) {
                o.extend(extra);
            }
            let before = c.get(&format!("/Users/{u}")).await;
            let r = c.put(&format!("/Users/{u}"), &body).await;
            assert!(r.status.as_u16() < 500, "PUT {body}: {} {}", r.status, r.text);
            if r.status.is_client_error() {
                let after = c.get(&format!("/Users/{u}")).await;
                assert_eq!(before.body, after.body, "a refused PUT {body} changed the user: {}", r.text);
            }
            if let Some(o) = body.as_object_mut() {
                o.insert("userName".into(), json!("atomic-post"));
            }
            let r = c.post("/Users", &body).await;
            assert!(r.status.as_u16() < 500, "POST {body}: {} {}", r.status, r.text);
            if r.status.is_client_error() {
                let list = c.get("/Users?count=0").await;
                assert_eq!(list.body["totalResults"], json!(1), "a refused POST {body} created a user: {}", r.text);
            }
        });
    }
}
