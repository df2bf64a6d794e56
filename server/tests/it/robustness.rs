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

/// A form value, percent-encoded byte by byte.
fn form_value(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| if b.is_ascii_alphanumeric() { (*b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// What lands on an assertion consumer service: random bytes, their base64, and XML-shaped noise around a Response
/// skeleton (with and without DOCTYPEs, comments and foreign namespaces).
fn saml_responses() -> impl Strategy<Value = Vec<u8>> {
    use base64::Engine;
    let b64 = |v: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(v).into_bytes();
    let xmlish = "[<>/=\"':a-zA-Z0-9 !\\-\\[\\]?&;#é]{0,200}";
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        prop::collection::vec(any::<u8>(), 0..512).prop_map(b64),
        xmlish.prop_map(move |noise| {
            b64(format!(
                "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_r\" Version=\"2.0\">{noise}</samlp:Response>"
            )
            .into_bytes())
        }),
        xmlish.prop_map(move |noise| b64(format!("<!DOCTYPE x [<!ENTITY a \"{noise}\">]><x>&a;</x>").into_bytes())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    /// No SAMLResponse — random bytes, base64 of random bytes, or XML-shaped noise — makes the ACS fail open or
    /// answer 5xx: every one is a 4xx, and none sets a session cookie (SAML Profiles §4.1.4.3: the SP must verify).
    #[test]
    fn random_saml_responses_are_refused_with_a_4xx(body in saml_responses(), relay in "[ -~]{0,40}") {
        runtime().block_on(async {
            let s = crate::support::server();
            let form = format!("SAMLResponse={}&RelayState={}", form_value(&body), form_value(relay.as_bytes()));
            let r = reqwest::Client::new()
                .post(format!("{}/saml/callback", s.origin))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form)
                .send()
                .await
                .expect("response");
            let status = r.status().as_u16();
            let cookie = r.headers().get("set-cookie").is_some();
            prop_assert!((400..500).contains(&status), "HTTP {status}");
            prop_assert!(!cookie, "no session for a refused response");
            Ok(())
        })?;
    }
}
