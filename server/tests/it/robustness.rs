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
