//! Tests of the PATCH engine: every example of RFC 7644 §3.5.2 – §3.5.2.3, the shapes Okta and Entra ID send (in
//! both modes), the error cases, and a property test that no op list makes the engine panic.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::scim::error::ScimType;
use crate::scim::schema::{ENTERPRISE_USER_URN, GROUP_URN, ResourceKind, USER_URN};

const LENIENT: Leniency = Leniency { strict: false };
const STRICT: Leniency = Leniency { strict: true };

const BABS: &str = "2819c223-7f76-453a-919d-413861904646";
const MANDY: &str = "902c246b-6245-4190-8e05-00816be7344a";
const JAMES: &str = "08e1d05d-121c-4561-8b96-473d93df9210";

fn meta(kind: &str) -> Value {
    json!({"resourceType": kind, "created": "2024-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z",
           "version": "W/\"1\""})
}

/// A user in canonical form.
fn user() -> Value {
    json!({
        "schemas": [USER_URN],
        "id": "u1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "active": true,
        "meta": meta("User"),
    })
}

/// A user without emails or addresses.
fn bare_user() -> Value {
    json!({"schemas": [USER_URN], "id": "u2", "userName": "alice", "meta": meta("User")})
}

/// A user with the enterprise extension.
fn enterprise_user() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_USER_URN],
        "id": "u3",
        "userName": "carol",
        "meta": meta("User"),
        ENTERPRISE_USER_URN: {"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
    })
}

/// A group with two members.
fn group() -> Value {
    json!({
        "schemas": [GROUP_URN],
        "id": "acbf3ae7-8463-4692-b4fd-9b4da3f908ce",
        "displayName": "Tour Guides",
        "members": [{"value": BABS, "display": "Babs Jensen"}, {"value": MANDY, "display": "Mandy Pepperidge"}],
        "meta": meta("Group"),
    })
}

/// RFC 7396 merge patch, to write expected states as differences: `null` removes, objects merge, the rest replaces.
fn merged(mut base: Value, changes: Value) -> Value {
    fn merge(target: &mut Value, patch: Value) {
        match (target, patch) {
            (Value::Object(t), Value::Object(p)) => {
                for (k, v) in p {
                    if v.is_null() {
                        t.shift_remove(&k);
                    } else {
                        merge(t.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
            (t, p) => *t = p,
        }
    }
    merge(&mut base, changes);
    base
}

fn body(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP_URN], "Operations": ops})
}

/// Parses and applies `ops` to a copy of `start`, as the service does.
fn run(kind: ResourceKind, start: &Value, ops: &Value, leniency: Leniency) -> Result<(Value, PatchOutcome), ScimError> {
    let ops = parse_request(&body(ops.clone()), leniency)?;
    let mut candidate = start.clone();
    let outcome = apply(&mut candidate, &ops, kind.def(), leniency)?;
    Ok((candidate, outcome))
}

fn scim_type(r: Result<(Value, PatchOutcome), ScimError>) -> Option<ScimType> {
    match r {
        Ok((v, _)) => panic!("expected an error, got {v:#}"),
        Err(e) => {
            assert_eq!(e.status(), 400, "{e}");
            e.scim_type()
        }
    }
}

/// The expected result of a case in one mode.
#[derive(Debug)]
enum Expect {
    State(Value),
    Error(ScimType),
}
use Expect::{Error, State};

struct Case {
    name: &'static str,
    kind: ResourceKind,
    start: Value,
    ops: Value,
    lenient: Expect,
    strict: Expect,
}

fn case(name: &'static str, kind: ResourceKind, start: Value, ops: Value, lenient: Expect, strict: Expect) -> Case {
    Case { name, kind, start, ops, lenient, strict }
}

/// The same expectation in both modes.
fn both(name: &'static str, kind: ResourceKind, start: Value, ops: Value, expect: Value) -> Case {
    Case { name, kind, start, ops, lenient: State(expect.clone()), strict: State(expect) }
}

fn both_err(name: &'static str, kind: ResourceKind, start: Value, ops: Value, t: ScimType) -> Case {
    Case { name, kind, start, ops, lenient: Error(t), strict: Error(t) }
}

fn check(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in &cases {
        for (mode, leniency, expect) in [("lenient", LENIENT, &c.lenient), ("strict", STRICT, &c.strict)] {
            let got = run(c.kind, &c.start, &c.ops, leniency);
            let ok = match (expect, &got) {
                (State(want), Ok((v, _))) => v == want,
                (Error(t), Err(e)) => e.scim_type() == Some(*t) && e.status() == 400,
                _ => false,
            };
            if !ok {
                let got = match &got {
                    Ok((v, _)) => format!("{v:#}"),
                    Err(e) => format!("{:?} {e}", e.scim_type()),
                };
                let want = match expect {
                    State(v) => format!("{v:#}"),
                    Error(t) => format!("{t:?}"),
                };
                failures.push(format!("[{}] {mode}:\n  want {want}\n  got  {got}", c.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len() * 2, failures.join("\n"));
}

fn members(ids: &[(&str, &str)]) -> Value {
    Value::Array(ids.iter().map(|(id, display)| json!({"value": id, "display": display})).collect())
}

const USER: ResourceKind = ResourceKind::User;
const GROUP: ResourceKind = ResourceKind::Group;

// ---------------------------------------------------------------------------------------------------------------
// RFC 7644 §3.5.2 – §3.5.2.3: every example, with the resulting state.
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn rfc_7644_examples() {
    let one_member = merged(group(), json!({"members": members(&[(MANDY, "Mandy Pepperidge")])}));
    let addresses_user = merged(
        user(),
        json!({"addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "primary": true},
            {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood"}
        ]}),
    );
    let work_address = json!({
        "type": "work",
        "streetAddress": "911 Universal City Plaza",
        "locality": "Hollywood",
        "region": "CA",
        "postalCode": "91608",
        "country": "US",
        "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
        "primary": true
    });
    let babs_ref = format!("https://example.com/v2/Users/{BABS}");
    let james_ref = format!("https://example.com/v2/Users/{JAMES}");
    check(vec![
        // §3.5.2 and §3.5.2.1: add a member to a group.
        both(
            "3.5.2.1 add member",
            GROUP,
            one_member.clone(),
            json!([{"op": "add", "path": "members",
                    "value": [{"display": "Babs Jensen", "$ref": babs_ref, "value": BABS}]}]),
            merged(
                group(),
                // `display` is readOnly: ignored in input (RFC 7644 §3.3); the service derives it.
                json!({"members": [{"value": MANDY, "display": "Mandy Pepperidge"},
                                   {"value": BABS, "$ref": babs_ref}]}),
            ),
        ),
        // §3.5.2.1: "If the target location already contains the value specified, no changes SHOULD be made".
        both(
            "3.5.2.1 add existing member is a no-op",
            GROUP,
            group(),
            json!([{"op": "add", "path": "members",
                    "value": [{"display": "Babs Jensen", "$ref": babs_ref, "value": BABS}]}]),
            group(),
        ),
        // §3.5.2.1: path-less add; "nickname" is written as the canonical "nickName".
        both(
            "3.5.2.1 path-less add",
            USER,
            merged(user(), json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}]})),
            json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}], "nickname": "Babs"}}]),
            merged(user(), json!({"nickName": "Babs"})),
        ),
        // "If the resource already had an existing "nickname", the value is replaced".
        both(
            "3.5.2.1 path-less add replaces a single value",
            USER,
            merged(user(), json!({"nickName": "Barb"})),
            json!([{"op": "add", "value": {"nickname": "Babs"}}]),
            merged(user(), json!({"nickName": "Babs"})),
        ),
        // §3.5.2.2: remove a single member.
        both(
            "3.5.2.2 remove one member",
            GROUP,
            group(),
            json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"]")}]),
            one_member.clone(),
        ),
        // §3.5.2.2: remove all members.
        both(
            "3.5.2.2 remove all members",
            GROUP,
            group(),
            json!([{"op": "remove", "path": "members"}]),
            merged(group(), json!({"members": null})),
        ),
        // §3.5.2.2: remove the work emails at example.com.
        both(
            "3.5.2.2 remove by complex filter",
            USER,
            merged(
                user(),
                json!({"emails": [{"value": "bjensen@example.com", "type": "work"},
                                  {"value": "b@example.org", "type": "work"},
                                  {"value": "babs@jensen.org", "type": "home"}]}),
            ),
            json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
            merged(
                user(),
                json!({"emails": [{"value": "b@example.org", "type": "work"}, {"value": "babs@jensen.org", "type": "home"}]}),
            ),
        ),
        // §3.5.2.2: replace all members with a remove followed by an add.
        both(
            "3.5.2.2 remove all then add",
            GROUP,
            group(),
            json!([
                {"op": "remove", "path": "members"},
                {"op": "add", "path": "members", "value": [
                    {"display": "Babs Jensen", "$ref": babs_ref, "value": BABS},
                    {"display": "James Smith", "$ref": james_ref, "value": JAMES}
                ]}
            ]),
            merged(
                group(),
                json!({"members": [{"value": BABS, "$ref": babs_ref}, {"value": JAMES, "$ref": james_ref}]}),
            ),
        ),
        // §3.5.2.3: replace all members.
        both(
            "3.5.2.3 replace members",
            GROUP,
            group(),
            json!([{"op": "replace", "path": "members", "value": [
                {"display": "Babs Jensen", "$ref": babs_ref, "value": BABS},
                {"display": "James Smith", "$ref": james_ref, "value": JAMES}
            ]}]),
            merged(
                group(),
                json!({"members": [{"value": BABS, "$ref": babs_ref}, {"value": JAMES, "$ref": james_ref}]}),
            ),
        ),
        // §3.5.2.3: replace the work address through a value filter; primary true resets the other primaries.
        both(
            "3.5.2.3 replace by value filter",
            USER,
            merged(
                addresses_user.clone(),
                json!({"addresses": [
                    {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood", "primary": true},
                    {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"}
                ]}),
            ),
            json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": work_address}]),
            merged(
                addresses_user.clone(),
                json!({"addresses": [
                    {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood", "primary": false},
                    work_address
                ]}),
            ),
        ),
        // §3.5.2.3: replace one sub-attribute of the matching records.
        both(
            "3.5.2.3 replace sub-attribute by value filter",
            USER,
            addresses_user.clone(),
            json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
            merged(
                addresses_user.clone(),
                json!({"addresses": [
                    {"type": "work", "streetAddress": "1010 Broadway Ave", "locality": "Hollywood", "primary": true},
                    {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood"}
                ]}),
            ),
        ),
        // §3.5.2.3: path-less replace of several attributes; other attributes are unaffected.
        both(
            "3.5.2.3 path-less replace",
            USER,
            merged(user(), json!({"emails": [{"value": "old@example.com", "type": "other"}]})),
            json!([{"op": "replace", "value": {
                "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                           {"value": "babs@jensen.org", "type": "home"}],
                "nickname": "Babs"
            }}]),
            merged(user(), json!({"nickName": "Babs"})),
        ),
        // §3.5.2.3: "If the target location path specifies an attribute that does not exist, the service provider
        // SHALL treat the operation as an "add"."
        both(
            "3.5.2.3 replace of an unassigned attribute adds it",
            USER,
            user(),
            json!([{"op": "replace", "path": "title", "value": "Tour Guide"}]),
            merged(user(), json!({"title": "Tour Guide"})),
        ),
        // §3.5.2 path examples: "name.familyName".
        both(
            "3.5.2 path name.familyName",
            USER,
            user(),
            json!([{"op": "replace", "path": "name.familyName", "value": "Jensen-Smith"}]),
            merged(user(), json!({"name": {"familyName": "Jensen-Smith"}})),
        ),
        // §3.5.2 path example "members[value eq …].displayName": members has no displayName in this schema.
        both_err(
            "3.5.2 path members[…].displayName",
            GROUP,
            group(),
            json!([{"op": "replace", "path": format!("members[value eq \"{BABS}\"].displayName"), "value": "x"}]),
            ScimType::InvalidPath,
        ),
        // §3.5.2.2: "If "path" is unspecified, the operation fails with … "noTarget"."
        both_err("3.5.2.2 remove without path", USER, user(), json!([{"op": "remove"}]), ScimType::NoTarget),
        // §3.5.2.2: removing a required attribute is "mutability".
        both_err(
            "3.5.2.2 remove required userName",
            USER,
            user(),
            json!([{"op": "remove", "path": "userName"}]),
            ScimType::Mutability,
        ),
        both_err(
            "3.5.2.2 remove required displayName",
            GROUP,
            group(),
            json!([{"op": "remove", "path": "displayName"}]),
            ScimType::Mutability,
        ),
        // §3.5.2.2: removing a readOnly attribute is "mutability".
        both_err(
            "3.5.2.2 remove readOnly meta",
            USER,
            user(),
            json!([{"op": "remove", "path": "meta"}]),
            ScimType::Mutability,
        ),
        // §3.5.2.3: a value filter that matches nothing is noTarget (strict); Entra relies on creation (lenient).
        case(
            "3.5.2.3 replace by filter, no match",
            USER,
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "o@example.com"}]),
            State(merged(
                user(),
                json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                                  {"value": "babs@jensen.org", "type": "home"},
                                  {"type": "other", "value": "o@example.com"}]}),
            )),
            Error(ScimType::NoTarget),
        ),
    ]);
}

// ---------------------------------------------------------------------------------------------------------------
// What Okta and Microsoft Entra ID send.
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn idp_shapes() {
    let entra_member = "f648f8d5ea4e4cd38e9c";
    let group_with_entra = merged(
        group(),
        json!({"members": [{"value": BABS, "display": "Babs Jensen"}, {"value": entra_member}, {"value": MANDY}]}),
    );
    check(vec![
        // 1. Capitalised ops.
        case(
            "capitalised Replace",
            USER,
            user(),
            json!([{"op": "Replace", "path": "displayName", "value": "Babs"}]),
            State(merged(user(), json!({"displayName": "Babs"}))),
            Error(ScimType::InvalidSyntax),
        ),
        case(
            "capitalised Add and Remove",
            USER,
            user(),
            json!([{"op": "Add", "path": "title", "value": "Guide"}, {"op": "Remove", "path": "name.givenName"}]),
            State(merged(user(), json!({"title": "Guide", "name": {"givenName": null}}))),
            Error(ScimType::InvalidSyntax),
        ),
        // 2. String booleans (Entra).
        case(
            "active \"False\"",
            USER,
            user(),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            State(merged(user(), json!({"active": false}))),
            Error(ScimType::InvalidSyntax),
        ),
        case(
            "active \"False\", lowercase op",
            USER,
            user(),
            json!([{"op": "replace", "path": "active", "value": "False"}]),
            State(merged(user(), json!({"active": false}))),
            Error(ScimType::InvalidValue),
        ),
        case(
            "active \"TRUE\"",
            USER,
            merged(user(), json!({"active": false})),
            json!([{"op": "replace", "path": "active", "value": "TRUE"}]),
            State(user()),
            Error(ScimType::InvalidValue),
        ),
        case(
            "path-less string boolean",
            USER,
            user(),
            json!([{"op": "replace", "value": {"active": "false"}}]),
            State(merged(user(), json!({"active": false}))),
            Error(ScimType::InvalidValue),
        ),
        both_err(
            "not a boolean at all",
            USER,
            user(),
            json!([{"op": "replace", "path": "active", "value": "yes"}]),
            ScimType::InvalidValue,
        ),
        // 3. Entra `aadOptscim062020`: path-less values with dotted and URN-qualified member names.
        case(
            "Entra path-less dotted keys",
            USER,
            user(),
            json!([{"op": "replace", "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "emails[type eq \"work\"].value": "kkom@example.com",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
            }}]),
            State(merged(
                user(),
                json!({
                    "schemas": [USER_URN, ENTERPRISE_USER_URN],
                    "displayName": "Bjfe",
                    "name": {"givenName": "Kkom"},
                    "emails": [{"value": "kkom@example.com", "type": "work", "primary": true},
                               {"value": "babs@jensen.org", "type": "home"}],
                    ENTERPRISE_USER_URN: {"employeeNumber": "Aklq"}
                }),
            )),
            Error(ScimType::InvalidSyntax),
        ),
        both(
            "path-less add of an extension object",
            USER,
            user(),
            json!([{"op": "add", "value": {ENTERPRISE_USER_URN: {"department": "x"}}}]),
            merged(
                user(),
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], ENTERPRISE_USER_URN: {"department": "x"}}),
            ),
        ),
        both(
            "path-less add merges into an existing extension",
            USER,
            enterprise_user(),
            json!([{"op": "add", "value": {ENTERPRISE_USER_URN: {"Department": "x"}}}]),
            merged(enterprise_user(), json!({ENTERPRISE_USER_URN: {"department": "x"}})),
        ),
        // 4. Entra legacy member removal by value list.
        case(
            "Entra remove members by value list",
            GROUP,
            group_with_entra.clone(),
            json!([{"op": "Remove", "path": "members", "value": [{"value": entra_member}]}]),
            State(merged(group(), json!({"members": [{"value": BABS, "display": "Babs Jensen"}, {"value": MANDY}]}))),
            Error(ScimType::InvalidSyntax),
        ),
        case(
            "remove members by value list, lowercase op",
            GROUP,
            group_with_entra.clone(),
            json!([{"op": "remove", "path": "members", "value": [{"value": entra_member}, {"value": MANDY}]}]),
            State(merged(group(), json!({"members": [{"value": BABS, "display": "Babs Jensen"}]}))),
            Error(ScimType::InvalidValue),
        ),
        case(
            "remove members by value list, not a member",
            GROUP,
            group(),
            json!([{"op": "remove", "path": "members", "value": [{"value": "nobody"}]}]),
            State(group()),
            Error(ScimType::InvalidValue),
        ),
        // 5. Entra member add: `$ref: null`, several members per op.
        case(
            "Entra add members",
            GROUP,
            merged(group(), json!({"members": null})),
            json!([{"op": "Add", "path": "members", "value": [
                {"$ref": null, "value": entra_member}, {"$ref": null, "value": BABS}
            ]}]),
            State(merged(group(), json!({"members": [{"value": entra_member}, {"value": BABS}]}))),
            Error(ScimType::InvalidSyntax),
        ),
        both(
            "add members, lowercase op, null $ref and unknown member fields dropped in lenient",
            GROUP,
            merged(group(), json!({"members": null})),
            json!([{"op": "add", "path": "members", "value": [{"$ref": null, "value": entra_member, "type": "User"}]}]),
            merged(group(), json!({"members": [{"value": entra_member, "type": "User"}]})),
        ),
        // 6. Okta.
        both(
            "Okta deactivate",
            USER,
            user(),
            json!([{"op": "replace", "value": {"active": false}}]),
            merged(user(), json!({"active": false})),
        ),
        case(
            "Okta group rename with readOnly id",
            GROUP,
            group(),
            json!([{"op": "replace", "value": {"id": "acbf3ae7-8463-4692-b4fd-9b4da3f908ce", "displayName": "Guides"}}]),
            State(merged(group(), json!({"displayName": "Guides"}))),
            Error(ScimType::Mutability),
        ),
        both(
            "Okta membership remove + add",
            GROUP,
            group(),
            json!([
                {"op": "remove", "path": format!("members[value eq \"{MANDY}\"]")},
                {"op": "add", "path": "members", "value": [{"value": JAMES, "display": "James Smith"}]}
            ]),
            merged(group(), json!({"members": [{"value": BABS, "display": "Babs Jensen"}, {"value": JAMES}]})),
        ),
        both(
            "Okta full resync",
            GROUP,
            group(),
            json!([{"op": "replace", "path": "members", "value": [{"value": JAMES, "display": "James Smith"}]}]),
            merged(group(), json!({"members": [{"value": JAMES}]})),
        ),
        // 7. Entra legacy: one op per path.
        case(
            "Entra one op per path",
            USER,
            user(),
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
                {"op": "Replace", "path": "name.givenName", "value": "Babs"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                 "value": "42"}
            ]),
            State(merged(
                user(),
                json!({
                    "schemas": [USER_URN, ENTERPRISE_USER_URN],
                    "name": {"givenName": "Babs"},
                    "emails": [{"value": "new@example.com", "type": "work", "primary": true},
                               {"value": "babs@jensen.org", "type": "home"}],
                    ENTERPRISE_USER_URN: {"employeeNumber": "42"}
                }),
            )),
            Error(ScimType::InvalidSyntax),
        ),
        both(
            "one op per path, lowercase",
            USER,
            user(),
            json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
                {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                 "value": "42"}
            ]),
            merged(
                user(),
                json!({
                    "schemas": [USER_URN, ENTERPRISE_USER_URN],
                    "emails": [{"value": "new@example.com", "type": "work", "primary": true},
                               {"value": "babs@jensen.org", "type": "home"}],
                    ENTERPRISE_USER_URN: {"employeeNumber": "42"}
                }),
            ),
        ),
        case(
            "Entra work address that does not exist yet",
            USER,
            user(),
            json!([
                {"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"},
                {"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Springfield"}
            ]),
            State(merged(
                user(),
                json!({"addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "Springfield"}]}),
            )),
            Error(ScimType::NoTarget),
        ),
        case(
            "Entra work email that does not exist yet (add)",
            USER,
            bare_user(),
            json!([{"op": "add", "path": "emails[type eq \"work\"].value", "value": "alice@example.com"}]),
            State(merged(bare_user(), json!({"emails": [{"type": "work", "value": "alice@example.com"}]}))),
            Error(ScimType::NoTarget),
        ),
        case(
            "no match and a filter that describes no value",
            USER,
            bare_user(),
            json!([{"op": "replace", "path": "emails[value co \"x\"].type", "value": "work"}]),
            Error(ScimType::NoTarget),
            Error(ScimType::NoTarget),
        ),
        // 8. Empty path.
        case(
            "empty path is path-less",
            USER,
            user(),
            json!([{"op": "replace", "path": "", "value": {"nickName": "Babs"}}]),
            State(merged(user(), json!({"nickName": "Babs"}))),
            Error(ScimType::InvalidPath),
        ),
        // 9. Manager.
        case(
            "Entra manager as a bare id",
            USER,
            user(),
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                    "value": "m-42"}]),
            State(merged(
                user(),
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], ENTERPRISE_USER_URN: {"manager": {"value": "m-42"}}}),
            )),
            Error(ScimType::InvalidValue),
        ),
        both(
            "manager as an object",
            USER,
            enterprise_user(),
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                    "value": {"value": "m-42"}}]),
            merged(enterprise_user(), json!({ENTERPRISE_USER_URN: {"manager": {"value": "m-42"}}})),
        ),
        both(
            "remove manager",
            USER,
            enterprise_user(),
            json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]),
            merged(enterprise_user(), json!({ENTERPRISE_USER_URN: {"manager": null}})),
        ),
        both(
            "remove the last extension attribute drops the extension",
            USER,
            merged(enterprise_user(), json!({ENTERPRISE_USER_URN: {"manager": null}})),
            json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"}]),
            merged(enterprise_user(), json!({"schemas": [USER_URN], ENTERPRISE_USER_URN: null})),
        ),
        both(
            "remove a manager that is not there",
            USER,
            user(),
            json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]),
            user(),
        ),
        // Members keep only value, display, type, $ref.
        case(
            "member entries are trimmed",
            GROUP,
            merged(group(), json!({"members": null})),
            json!([{"op": "add", "path": "members", "value": [
                {"value": BABS, "display": "Babs", "type": "User", "$ref": null, "primary": true, "extra": 1}
            ]}]),
            State(merged(group(), json!({"members": [{"value": BABS, "type": "User"}]}))),
            Error(ScimType::InvalidSyntax),
        ),
    ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Paths: case-insensitivity, extensions, invalid paths.
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn paths() {
    check(vec![
        both(
            "case-insensitive path writes canonical names",
            USER,
            bare_user(),
            json!([{"op": "add", "path": "NAME.GIVENNAME", "value": "Alice"}]),
            merged(bare_user(), json!({"name": {"givenName": "Alice"}})),
        ),
        both(
            "case-insensitive filter path",
            USER,
            user(),
            json!([{"op": "replace", "path": "EMAILS[TYPE eq \"work\"].VALUE", "value": "x@example.com"}]),
            merged(
                user(),
                json!({"emails": [{"value": "x@example.com", "type": "work", "primary": true},
                                  {"value": "babs@jensen.org", "type": "home"}]}),
            ),
        ),
        both(
            "case-insensitive extension URN",
            USER,
            bare_user(),
            json!([{"op": "add", "path": "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER",
                    "value": "7"}]),
            merged(
                bare_user(),
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], ENTERPRISE_USER_URN: {"employeeNumber": "7"}}),
            ),
        ),
        both(
            "value keys canonicalised recursively",
            USER,
            bare_user(),
            json!([{"op": "add", "path": "emails", "value": {"Value": "a@example.com", "TYPE": "home", "Primary": true}}]),
            merged(bare_user(), json!({"emails": [{"value": "a@example.com", "type": "home", "primary": true}]})),
        ),
        both(
            "fully qualified core attribute",
            USER,
            bare_user(),
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "Al"}]),
            merged(bare_user(), json!({"displayName": "Al"})),
        ),
        both(
            "extension URN as path merges an object",
            USER,
            enterprise_user(),
            json!([{"op": "replace", "path": ENTERPRISE_USER_URN, "value": {"costCenter": "4130"}}]),
            merged(enterprise_user(), json!({ENTERPRISE_USER_URN: {"costCenter": "4130"}})),
        ),
        both(
            "extension URN as path, remove",
            USER,
            enterprise_user(),
            json!([{"op": "remove", "path": ENTERPRISE_USER_URN}]),
            merged(enterprise_user(), json!({"schemas": [USER_URN], ENTERPRISE_USER_URN: null})),
        ),
        both(
            "manager.value path",
            USER,
            bare_user(),
            json!([{"op": "add", "path": format!("{ENTERPRISE_USER_URN}:manager.value"), "value": "m1"}]),
            merged(
                bare_user(),
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], ENTERPRISE_USER_URN: {"manager": {"value": "m1"}}}),
            ),
        ),
        both_err(
            "unknown attribute",
            USER,
            user(),
            json!([{"op": "add", "path": "shoeSize", "value": "9"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "unknown sub-attribute",
            USER,
            user(),
            json!([{"op": "add", "path": "name.nope", "value": "9"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "extension attribute without URN",
            USER,
            user(),
            json!([{"op": "add", "path": "employeeNumber", "value": "9"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "bad syntax",
            USER,
            user(),
            json!([{"op": "add", "path": "emails[type eq", "value": "x"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "two sub-attributes",
            USER,
            user(),
            json!([{"op": "add", "path": "name.givenName.x", "value": "x"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "filter on a single-valued attribute",
            USER,
            user(),
            json!([{"op": "replace", "path": "name[givenName eq \"x\"].familyName", "value": "x"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "filter on an unknown sub-attribute",
            USER,
            user(),
            json!([{"op": "replace", "path": "emails[shoe eq \"x\"].value", "value": "x"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "unknown sub-attribute after the filter",
            USER,
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].shoe", "value": "x"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "path that is not a string",
            USER,
            user(),
            json!([{"op": "replace", "path": 5, "value": "x"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "a Group has no userName",
            GROUP,
            group(),
            json!([{"op": "replace", "path": "userName", "value": "x"}]),
            ScimType::InvalidPath,
        ),
        both_err(
            "the enterprise extension is not a Group extension",
            GROUP,
            group(),
            json!([{"op": "replace", "path": format!("{ENTERPRISE_USER_URN}:employeeNumber"), "value": "x"}]),
            ScimType::InvalidPath,
        ),
    ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Mutability.
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn mutability() {
    check(vec![
        both_err(
            "replace id",
            USER,
            user(),
            json!([{"op": "replace", "path": "id", "value": "other"}]),
            ScimType::Mutability,
        ),
        case(
            "replace id with its own value",
            USER,
            user(),
            json!([{"op": "replace", "path": "id", "value": "u1"}]),
            State(user()),
            Error(ScimType::Mutability),
        ),
        case(
            "replace meta.resourceType with its own value",
            USER,
            user(),
            json!([{"op": "replace", "path": "meta.resourceType", "value": "User"}]),
            State(user()),
            Error(ScimType::Mutability),
        ),
        both_err(
            "replace meta.version",
            USER,
            user(),
            json!([{"op": "replace", "path": "meta.version", "value": "W/\"9\""}]),
            ScimType::Mutability,
        ),
        both_err(
            "add to groups",
            USER,
            user(),
            json!([{"op": "add", "path": "groups", "value": [{"value": "g1"}]}]),
            ScimType::Mutability,
        ),
        case(
            "path-less readOnly keys",
            USER,
            user(),
            json!([{"op": "replace", "value": {"id": "other", "meta": {"version": "x"}, "groups": [], "title": "T"}}]),
            State(merged(user(), json!({"title": "T"}))),
            Error(ScimType::Mutability),
        ),
        both_err(
            "change members.display",
            GROUP,
            group(),
            json!([{"op": "replace", "path": format!("members[value eq \"{BABS}\"].display"), "value": "B"}]),
            ScimType::Mutability,
        ),
        both_err(
            "change immutable members.value",
            GROUP,
            group(),
            json!([{"op": "replace", "path": format!("members[value eq \"{BABS}\"].value"), "value": JAMES}]),
            ScimType::Mutability,
        ),
        both_err(
            "replace a member with another value",
            GROUP,
            group(),
            json!([{"op": "replace", "path": format!("members[value eq \"{BABS}\"]"), "value": {"value": JAMES}}]),
            ScimType::Mutability,
        ),
        both_err(
            "remove immutable members.value",
            GROUP,
            group(),
            json!([{"op": "remove", "path": format!("members[value eq \"{BABS}\"].value")}]),
            ScimType::Mutability,
        ),
        both(
            "immutable members.type may be added where unset",
            GROUP,
            group(),
            json!([{"op": "add", "path": format!("members[value eq \"{BABS}\"].type"), "value": "User"}]),
            merged(
                group(),
                json!({"members": [{"value": BABS, "display": "Babs Jensen", "type": "User"},
                                              {"value": MANDY, "display": "Mandy Pepperidge"}]}),
            ),
        ),
        both_err(
            "replace userName with null",
            USER,
            user(),
            json!([{"op": "replace", "path": "userName", "value": null}]),
            ScimType::Mutability,
        ),
        both_err(
            "path-less null userName",
            USER,
            user(),
            json!([{"op": "replace", "value": {"userName": null}}]),
            ScimType::Mutability,
        ),
        both_err("remove password", USER, user(), json!([{"op": "remove", "path": "password"}]), ScimType::Mutability),
    ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Values: null / empty arrays, types, primary, password, no-ops.
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn values() {
    check(vec![
        both(
            "replace with null unassigns",
            USER,
            merged(user(), json!({"nickName": "B"})),
            json!([{"op": "replace", "path": "nickName", "value": null}]),
            user(),
        ),
        both(
            "replace with an empty array unassigns",
            USER,
            user(),
            json!([{"op": "replace", "path": "emails", "value": []}]),
            merged(user(), json!({"emails": null})),
        ),
        both(
            "add of an empty array changes nothing",
            USER,
            user(),
            json!([{"op": "add", "path": "emails", "value": []}]),
            user(),
        ),
        both(
            "path-less null unassigns",
            USER,
            merged(user(), json!({"title": "T"})),
            json!([{"op": "replace", "value": {"title": null}}]),
            user(),
        ),
        both(
            "null sub-attribute in a complex replace unassigns it",
            USER,
            user(),
            json!([{"op": "replace", "path": "name", "value": {"givenName": null, "middleName": "Q"}}]),
            merged(user(), json!({"name": {"givenName": null, "middleName": "Q"}})),
        ),
        both(
            "complex replace merges",
            USER,
            user(),
            json!([{"op": "replace", "path": "name", "value": {"formatted": "Ms. Barbara J Jensen III"}}]),
            merged(user(), json!({"name": {"formatted": "Ms. Barbara J Jensen III"}})),
        ),
        both(
            "add a single object to a multi-valued attribute",
            USER,
            user(),
            json!([{"op": "add", "path": "phoneNumbers", "value": {"value": "555-555-8377", "type": "work"}}]),
            merged(user(), json!({"phoneNumbers": [{"value": "555-555-8377", "type": "work"}]})),
        ),
        both(
            "primary true resets the other primary",
            USER,
            user(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "n@example.com", "type": "other", "primary": true}]}]),
            merged(
                user(),
                json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": false},
                                  {"value": "babs@jensen.org", "type": "home"},
                                  {"value": "n@example.com", "type": "other", "primary": true}]}),
            ),
        ),
        both(
            "primary through a filter path",
            USER,
            user(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
            merged(
                user(),
                json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": false},
                                  {"value": "babs@jensen.org", "type": "home", "primary": true}]}),
            ),
        ),
        both(
            "remove a sub-attribute through a filter",
            USER,
            user(),
            json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
            merged(
                user(),
                json!({"emails": [{"value": "bjensen@example.com", "type": "work"},
                                  {"value": "babs@jensen.org", "type": "home"}]}),
            ),
        ),
        both(
            "remove the last value removes the attribute",
            USER,
            merged(user(), json!({"emails": [{"value": "a@example.com", "type": "work"}]})),
            json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
            merged(user(), json!({"emails": null})),
        ),
        both(
            "add through a filter merges an object",
            USER,
            user(),
            json!([{"op": "add", "path": "emails[type eq \"home\"]", "value": {"display": "Home"}}]),
            merged(
                user(),
                json!({"emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                                  {"value": "babs@jensen.org", "type": "home", "display": "Home"}]}),
            ),
        ),
        both(
            "add of a duplicate email (case-insensitive value) is a no-op",
            USER,
            user(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "BJensen@Example.com", "type": "work"}]}]),
            user(),
        ),
        case(
            "remove by filter with no match",
            GROUP,
            group(),
            json!([{"op": "remove", "path": "members[value eq \"nobody\"]"}]),
            State(group()),
            Error(ScimType::NoTarget),
        ),
        both("remove of an unassigned attribute", USER, user(), json!([{"op": "remove", "path": "nickName"}]), user()),
        case(
            "number for a string attribute",
            USER,
            user(),
            json!([{"op": "replace", "path": "userName", "value": 5}]),
            State(merged(user(), json!({"userName": "5"}))),
            Error(ScimType::InvalidValue),
        ),
        both_err(
            "array for a single-valued attribute",
            USER,
            user(),
            json!([{"op": "replace", "path": "displayName", "value": ["a"]}]),
            ScimType::InvalidValue,
        ),
        both_err(
            "path-less value that is not an object",
            USER,
            user(),
            json!([{"op": "replace", "value": "x"}]),
            ScimType::InvalidValue,
        ),
        both_err(
            "complex attribute given a number",
            USER,
            user(),
            json!([{"op": "replace", "path": "name", "value": 5}]),
            ScimType::InvalidValue,
        ),
        case(
            "unknown path-less attribute",
            USER,
            user(),
            json!([{"op": "add", "value": {"shoeSize": 9, "title": "T"}}]),
            State(merged(user(), json!({"title": "T"}))),
            Error(ScimType::InvalidSyntax),
        ),
        case(
            "unknown sub-attribute in a value",
            USER,
            user(),
            json!([{"op": "replace", "path": "name", "value": {"givenName": "B", "nope": 1}}]),
            State(merged(user(), json!({"name": {"givenName": "B"}}))),
            Error(ScimType::InvalidSyntax),
        ),
        case(
            "bare string for a multi-valued complex value",
            USER,
            bare_user(),
            json!([{"op": "add", "path": "emails", "value": ["a@example.com"]}]),
            State(merged(bare_user(), json!({"emails": [{"value": "a@example.com"}]}))),
            Error(ScimType::InvalidValue),
        ),
        both(
            "schemas in a path-less value is ignored",
            USER,
            user(),
            json!([{"op": "replace", "value": {"schemas": ["urn:x"], "title": "T"}}]),
            merged(user(), json!({"title": "T"})),
        ),
        both(
            "core URN as a path-less member",
            USER,
            user(),
            json!([{"op": "replace", "value": {USER_URN: {"title": "T"}}}]),
            merged(user(), json!({"title": "T"})),
        ),
    ]);
}

#[test]
fn password_is_taken_out() {
    for (ops, leniency) in [
        (json!([{"op": "replace", "path": "password", "value": "t1meMa$heen"}]), STRICT),
        (json!([{"op": "replace", "value": {"password": "t1meMa$heen"}}]), STRICT),
        (json!([{"op": "Add", "path": "PASSWORD", "value": "t1meMa$heen"}]), LENIENT),
    ] {
        let (v, out) = run(USER, &user(), &ops, leniency).unwrap();
        assert_eq!(v, user(), "the password never lands in the resource");
        assert_eq!(out, PatchOutcome { changed: true, password: Some("t1meMa$heen".to_owned()) });
    }
    let r = run(USER, &user(), &json!([{"op": "replace", "path": "password", "value": 5}]), STRICT);
    assert_eq!(scim_type(r), Some(ScimType::InvalidValue));
}

#[test]
fn changed_flag() {
    let (_, out) =
        run(GROUP, &group(), &json!([{"op": "add", "path": "members", "value": [{"value": BABS}]}]), STRICT).unwrap();
    assert_eq!(out, PatchOutcome { changed: false, password: None }, "duplicate member add is a no-op");
    let (_, out) = run(USER, &user(), &json!([{"op": "replace", "path": "active", "value": true}]), STRICT).unwrap();
    assert!(!out.changed, "same value");
    let (_, out) = run(USER, &user(), &json!([{"op": "replace", "path": "active", "value": false}]), STRICT).unwrap();
    assert!(out.changed);
}

/// RFC 7644 §3.5.2: "If a single operation encounters an error condition, the original SCIM resource MUST be
/// restored". The caller applies to a clone and discards it on error.
#[test]
fn atomicity_when_used_as_documented() {
    let stored = user();
    let ops = parse_request(
        &body(json!([
            {"op": "replace", "path": "displayName", "value": "Should be rolled back"},
            {"op": "add", "path": "nickName", "value": "Babs"},
            {"op": "replace", "path": "id", "value": "hijacked"},
            {"op": "add", "path": "title", "value": "never reached"}
        ])),
        STRICT,
    )
    .unwrap();
    let mut candidate = stored.clone();
    let err = apply(&mut candidate, &ops, USER.def(), STRICT).unwrap_err();
    assert_eq!(err.scim_type(), Some(ScimType::Mutability));
    assert!(err.to_string().starts_with("Operations[2]:"), "{err}");
    assert_eq!(stored, user(), "the caller's resource is untouched");
    assert_ne!(candidate, stored, "the clone is partly patched, which is why it is discarded");
    assert!(candidate.get("title").is_none(), "operations after the failing one do not run");
}

#[test]
fn parse_request_errors() {
    let bad = |b: Value| parse_request(&b, LENIENT).unwrap_err().scim_type();
    assert_eq!(bad(json!([])), Some(ScimType::InvalidSyntax));
    assert_eq!(bad(json!({"Operations": [{"op": "add", "value": {}}]})), Some(ScimType::InvalidSyntax));
    assert_eq!(
        bad(json!({"schemas": [USER_URN], "Operations": [{"op": "add", "value": {}}]})),
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(bad(body(json!([]))), Some(ScimType::InvalidSyntax));
    assert_eq!(bad(body(json!({"op": "add"}))), Some(ScimType::InvalidSyntax));
    assert_eq!(bad(body(json!([5]))), Some(ScimType::InvalidSyntax));
    assert_eq!(bad(body(json!([{"path": "title", "value": "x"}]))), Some(ScimType::InvalidSyntax));
    assert_eq!(bad(body(json!([{"op": "frobnicate", "path": "title", "value": "x"}]))), Some(ScimType::InvalidSyntax));
    assert_eq!(bad(body(json!([{"op": "add", "path": "title"}]))), Some(ScimType::InvalidValue));
    assert_eq!(bad(body(json!([{"op": "replace", "path": "title"}]))), Some(ScimType::InvalidValue));
    assert_eq!(bad(body(json!([{"op": "add", "path": "emails[", "value": "x"}]))), Some(ScimType::InvalidPath));
    // Member names are case-insensitive (RFC 7643 §2.1); the PatchOp URN too.
    let ops = parse_request(
        &json!({"SCHEMAS": [PATCH_OP_URN.to_uppercase()], "operations": [{"OP": "add", "PATH": "title", "VALUE": "x"}]}),
        STRICT,
    )
    .unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].op, PatchOpKind::Add);
    assert_eq!(ops[0].value, Some(json!("x")));
    // A remove without path parses; apply answers noTarget.
    let ops = parse_request(&body(json!([{"op": "remove"}])), STRICT).unwrap();
    assert_eq!(ops[0].path, None);
    // The error names the failing operation.
    let e = parse_request(&body(json!([{"op": "add", "path": "title", "value": "x"}, {"op": "nope"}])), STRICT)
        .unwrap_err();
    assert!(e.to_string().starts_with("Operations[1]:"), "{e}");
}

#[test]
fn resource_must_be_an_object() {
    let ops = parse_request(&body(json!([{"op": "add", "path": "title", "value": "x"}])), STRICT).unwrap();
    let mut v = json!([1]);
    assert_eq!(apply(&mut v, &ops, USER.def(), STRICT).unwrap_err().status(), 500);
}

// ---------------------------------------------------------------------------------------------------------------
// Property test: no op list panics, and the result stays in canonical form.
// ---------------------------------------------------------------------------------------------------------------

const USER_PATHS: &[&str] = &[
    "userName",
    "displayName",
    "nickName",
    "NAME.givenName",
    "name",
    "active",
    "password",
    "emails",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\"].value",
    "emails[value co \"@\" or primary eq true].type",
    "emails.type",
    "addresses[type eq \"work\" and primary eq true].streetAddress",
    "phoneNumbers",
    "groups",
    "id",
    "meta.version",
    "externalId",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:core:2.0:User",
];

const GROUP_PATHS: &[&str] = &[
    "displayName",
    "members",
    "members[value eq \"a\"]",
    "members[value eq \"a\"].display",
    "members[value eq \"a\"].type",
    "members[not (value pr)]",
    "members.value",
    "id",
    "meta",
    "externalId",
    "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
];

const BAD_PATHS: &[&str] = &[
    "",
    "[",
    "emails[",
    "emails]",
    "emails[type eq \"work\"].value.x",
    "name.givenName.familyName",
    "urn:",
    "urn:x:y:z",
    "a.b[c eq 1]",
    "émails",
    "userName[value eq 1]",
];

fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("value".to_owned()),
        Just("Value".to_owned()),
        Just("type".to_owned()),
        Just("primary".to_owned()),
        Just("display".to_owned()),
        Just("$ref".to_owned()),
        Just("givenName".to_owned()),
        Just("name.givenName".to_owned()),
        Just("emails[type eq \"work\"].value".to_owned()),
        Just("active".to_owned()),
        Just("id".to_owned()),
        Just("members".to_owned()),
        Just("emails".to_owned()),
        Just("password".to_owned()),
        Just("schemas".to_owned()),
        Just(ENTERPRISE_USER_URN.to_owned()),
        Just(format!("{ENTERPRISE_USER_URN}:manager")),
        "[a-zA-Z.\\[\\]:]{0,8}",
    ];
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        2 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        6 => prop_oneof![Just("work".to_owned()), Just("True".to_owned()), Just("a".to_owned()), ".{0,6}"]
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn operation(paths: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let op = prop_oneof![
        4 => Just("add"),
        3 => Just("remove"),
        4 => Just("replace"),
        1 => Just("Add"),
        1 => Just("REMOVE"),
        1 => Just("x"),
    ];
    let path = prop_oneof![
        2 => Just(None),
        10 => prop::sample::select(paths).prop_map(Some),
        1 => prop::sample::select(BAD_PATHS).prop_map(Some),
    ];
    let plausible = prop::sample::select(vec![
        json!("work"),
        json!("a"),
        json!("True"),
        json!(true),
        json!(null),
        json!([]),
        json!({"value": "a", "type": "work", "primary": true}),
        json!([{"value": "a", "display": "A"}, {"value": "b", "$ref": null}]),
        json!([{"Value": "b@example.com", "TYPE": "home"}]),
        json!({"givenName": "G", "familyName": null}),
        json!({"displayName": "D", "name.givenName": "N", "id": "x"}),
        json!({ENTERPRISE_USER_URN: {"department": "x", "manager": "m"}}),
        json!({"emails[type eq \"work\"].value": "w@example.com", "active": "False"}),
        json!({"value": "m1"}),
    ]);
    let value = prop::option::weighted(0.9, prop_oneof![plausible, json_value()]);
    (op, path, value).prop_map(|(op, path, value)| {
        let mut o = Map::new();
        o.insert("op".to_owned(), Value::from(op));
        if let Some(p) = path {
            o.insert("path".to_owned(), Value::from(p));
        }
        if let Some(v) = value {
            o.insert("value".to_owned(), v);
        }
        Value::Object(o)
    })
}

/// The canonical form holds no nulls, empty arrays or empty objects, and never a password.
fn assert_canonical(v: &Value, at: &str) {
    match v {
        Value::Null => panic!("null at {at}"),
        Value::Array(a) => {
            assert!(!a.is_empty(), "empty array at {at}");
            for (i, e) in a.iter().enumerate() {
                assert_canonical(e, &format!("{at}[{i}]"));
            }
        }
        Value::Object(m) => {
            assert!(!m.is_empty(), "empty object at {at}");
            for (k, e) in m {
                assert!(!k.eq_ignore_ascii_case("password"), "password at {at}");
                assert_canonical(e, &format!("{at}.{k}"));
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_never_panic(
        (group_kind, ops) in any::<bool>().prop_flat_map(|g| {
            (Just(g), prop::collection::vec(operation(if g { GROUP_PATHS } else { USER_PATHS }), 1..4))
        }),
        strict in any::<bool>(),
    ) {
        let leniency = Leniency { strict };
        let (kind, start) = if group_kind { (GROUP, group()) } else { (USER, enterprise_user()) };
        if let Ok(parsed) = parse_request(&body(Value::Array(ops)), leniency) {
            let mut candidate = start.clone();
            if let Ok(out) = apply(&mut candidate, &parsed, kind.def(), leniency) {
                assert_canonical(&candidate, "$");
                prop_assert_eq!(candidate.get("id"), start.get("id"));
                prop_assert_eq!(candidate.get("meta"), start.get("meta"));
                prop_assert_eq!(out.changed, candidate != start || out.password.is_some());
                // Extensions present are listed in schemas, and only those.
                let listed = candidate["schemas"].as_array().is_some_and(|a| a.iter().any(|s| s == ENTERPRISE_USER_URN));
                prop_assert_eq!(listed, candidate.get(ENTERPRISE_USER_URN).is_some());
            }
        }
    }
}
