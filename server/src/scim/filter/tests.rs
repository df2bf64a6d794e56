//! Tests of the filter and PATCH path languages: every example of RFC 7644 §3.4.2.2 parsed, printed, re-parsed and
//! evaluated; error messages and positions; evaluation semantics; and property tests of the parser and printer.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::scim::error::ScimType;
use crate::scim::schema::{ENTERPRISE_USER_URN, ResourceKind, ResourceTypeDef, USER_URN};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn users() -> &'static ResourceTypeDef {
    ResourceKind::User.def()
}

fn groups() -> &'static ResourceTypeDef {
    ResourceKind::Group.def()
}

/// Barbara Jensen, after RFC 7643 §8.2 (with the enterprise extension).
fn bjensen() -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_USER_URN],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "bjensen-ext",
        "userName": "bjensen",
        "name": {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barbara"},
        "displayName": "Babs Jensen",
        "title": "Tour Guide",
        "userType": "Employee",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "ims": [{"value": "babs@aol.example", "type": "aim"}],
        "groups": [{"value": "e9e30dba", "$ref": "https://example.com/v2/Groups/e9e30dba", "display": "Tour Guides"}],
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"3694e05e9dff591\""
        },
        ENTERPRISE_USER_URN: {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        }
    })
}

/// Jim O'Malley: an intern with an xmpp address and a later lastModified (with an offset).
fn omalley() -> Value {
    json!({
        "schemas": [USER_URN],
        "id": "c3a26dd3-27a0-4dec-a2ac-ce211e105f97",
        "userName": "JOMalley",
        "name": {"familyName": "O'Malley", "givenName": "Jim"},
        "userType": "Intern",
        "active": false,
        "emails": [{"value": "jim@example.org", "type": "work"}],
        "ims": [{"value": "jim@foo.com", "type": "xmpp"}],
        "meta": {"resourceType": "User", "created": "2012-01-01T00:00:00Z", "lastModified": "2012-02-01T00:00:00+01:00"}
    })
}

/// A user with almost nothing.
fn minimal() -> Value {
    json!({
        "schemas": [USER_URN],
        "id": "0f5b2bd4-6ed4-4a43-9e1d-2b4c26c3c7f1",
        "userName": "alice",
        "meta": {"resourceType": "User", "created": "2009-01-01T00:00:00Z", "lastModified": "2010-01-01T00:00:00Z"}
    })
}

fn parse_ok(s: &str) -> Filter {
    match parse_filter(s) {
        Ok(f) => f,
        Err(e) => panic!("{s:?} should parse: {e}"),
    }
}

/// Parses, prints, re-parses and checks that the tree survived.
fn roundtrip(s: &str) -> Filter {
    let f = parse_ok(s);
    let printed = f.to_string();
    assert_eq!(parse_filter(&printed).as_ref(), Ok(&f), "{s:?} printed as {printed:?}");
    f
}

fn compile(s: &str, rt: &'static ResourceTypeDef) -> CompiledFilter {
    match CompiledFilter::compile(&roundtrip(s), rt) {
        Ok(c) => c,
        Err(e) => panic!("{s:?} should compile: {e}"),
    }
}

fn compile_err(s: &str, rt: &'static ResourceTypeDef) -> String {
    match CompiledFilter::compile(&roundtrip(s), rt) {
        Ok(_) => panic!("{s:?} should not compile"),
        Err(e) => {
            assert_eq!(e.scim_type(), Some(ScimType::InvalidFilter), "{s:?}: {e}");
            assert_eq!(e.status(), 400);
            e.to_string()
        }
    }
}

fn parse_err(s: &str) -> ParseError {
    match parse_filter(s) {
        Ok(f) => panic!("{s:?} should not parse, got {f:?}"),
        Err(e) => e,
    }
}

fn path(urn: Option<&str>, name: &str, sub: Option<&str>) -> AttrPath {
    AttrPath { urn: urn.map(str::to_owned), name: name.to_owned(), sub: sub.map(str::to_owned) }
}

fn cmp(p: AttrPath, op: CompareOp, v: CompValue) -> Filter {
    Filter::Compare { path: p, op, value: v }
}

fn s(v: &str) -> CompValue {
    CompValue::Str(v.to_owned())
}

fn check_users(cases: &[(&str, [bool; 3])]) {
    let people = [bjensen(), omalley(), minimal()];
    for (filter, expected) in cases {
        let c = compile(filter, users());
        let got = [c.matches(&people[0]), c.matches(&people[1]), c.matches(&people[2])];
        assert_eq!(&got, expected, "filter {filter:?} on [bjensen, omalley, minimal]");
    }
}

/// Every example filter of RFC 7644 §3.4.2.2 (as the RFC wraps them, too).
#[test]
fn rfc7644_examples() {
    check_users(&[
        (r#"userName eq "bjensen""#, [true, false, false]),
        (r#"name.familyName co "O'Malley""#, [false, true, false]),
        (r#"userName sw "J""#, [false, true, false]),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#, [false, true, false]),
        ("title pr", [true, false, false]),
        (r#"meta.lastModified gt "2011-05-13T04:42:34Z""#, [false, true, false]),
        (r#"meta.lastModified ge "2011-05-13T04:42:34Z""#, [true, true, false]),
        (r#"meta.lastModified lt "2011-05-13T04:42:34Z""#, [false, false, true]),
        (r#"meta.lastModified le "2011-05-13T04:42:34Z""#, [true, false, true]),
        (r#"title pr and userType eq "Employee""#, [true, false, false]),
        (r#"title pr or userType eq "Intern""#, [true, true, false]),
        (r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#, [true, false, false]),
        (
            "userType eq \"Employee\" and (emails co \"example.com\" or\n  emails.value co \"example.org\")",
            [true, false, false],
        ),
        (
            "userType ne \"Employee\" and not (emails co \"example.com\" or\n  emails.value co \"example.org\")",
            [false, false, true],
        ),
        (r#"userType eq "Employee" and (emails.type eq "work")"#, [true, false, false]),
        (
            "userType eq \"Employee\" and emails[type eq \"work\" and\n  value co \"@example.com\"]",
            [true, false, false],
        ),
        (
            "emails[type eq \"work\" and value co \"@example.com\"] or\n  ims[type eq \"xmpp\" and value co \"@foo.com\"]",
            [true, true, false],
        ),
    ]);
}

#[test]
fn rfc7644_examples_parse_to_the_expected_trees() {
    assert_eq!(parse_ok(r#"userName eq "bjensen""#), cmp(path(None, "userName", None), CompareOp::Eq, s("bjensen")));
    assert_eq!(
        parse_ok(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#),
        cmp(path(Some(USER_URN), "userName", None), CompareOp::Sw, s("J"))
    );
    assert_eq!(parse_ok("title pr"), Filter::Present(path(None, "title", None)));
    assert_eq!(
        parse_ok(
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#
        ),
        Filter::Or(
            Box::new(Filter::ValuePath {
                path: path(None, "emails", None),
                filter: Box::new(Filter::And(
                    Box::new(cmp(path(None, "type", None), CompareOp::Eq, s("work"))),
                    Box::new(cmp(path(None, "value", None), CompareOp::Co, s("@example.com"))),
                )),
            }),
            Box::new(Filter::ValuePath {
                path: path(None, "ims", None),
                filter: Box::new(Filter::And(
                    Box::new(cmp(path(None, "type", None), CompareOp::Eq, s("xmpp"))),
                    Box::new(cmp(path(None, "value", None), CompareOp::Co, s("@foo.com"))),
                )),
            }),
        )
    );
    assert_eq!(
        parse_ok(&format!("{ENT}:employeeNumber eq \"701984\"")),
        cmp(path(Some(ENT), "employeeNumber", None), CompareOp::Eq, s("701984"))
    );
    assert_eq!(
        parse_ok(&format!("{ENT}:manager.value pr")),
        Filter::Present(path(Some(ENT), "manager", Some("value")))
    );
}

#[test]
fn and_binds_tighter_than_or() {
    let a = || cmp(path(None, "a", None), CompareOp::Eq, CompValue::Number(1.into()));
    let b = || Filter::Present(path(None, "b", None));
    let c = || Filter::Present(path(None, "c", None));
    assert_eq!(
        parse_ok("a eq 1 or b pr and c pr"),
        Filter::Or(Box::new(a()), Box::new(Filter::And(Box::new(b()), Box::new(c()))))
    );
    assert_eq!(
        parse_ok("b pr and c pr or a eq 1"),
        Filter::Or(Box::new(Filter::And(Box::new(b()), Box::new(c()))), Box::new(a()))
    );
    assert_eq!(
        parse_ok("(a eq 1 or b pr) and c pr"),
        Filter::And(Box::new(Filter::Or(Box::new(a()), Box::new(b()))), Box::new(c()))
    );
    // Left-associative chains, and parentheses kept where the tree leans the other way.
    assert_eq!(
        parse_ok("a eq 1 and b pr and c pr"),
        Filter::And(Box::new(Filter::And(Box::new(a()), Box::new(b()))), Box::new(c()))
    );
    let right = Filter::And(Box::new(a()), Box::new(Filter::And(Box::new(b()), Box::new(c()))));
    assert_eq!(right.to_string(), "a eq 1 and (b pr and c pr)");
    assert_eq!(parse_ok(&right.to_string()), right);
    // Evaluation: true or (true and false) is true, (true or true) and false would not be.
    check_users(&[
        (r#"userName eq "bjensen" or title pr and active eq false"#, [true, false, false]),
        (r#"(userName eq "bjensen" or title pr) and active eq false"#, [false, false, false]),
    ]);
}

#[test]
fn operators_keywords_and_names_are_case_insensitive() {
    let f = roundtrip(r#"USERNAME EQ "bjensen" AND Title Pr OR NOT (userName Sw "x") and Active eq TRUE"#);
    assert_eq!(f.to_string(), r#"USERNAME eq "bjensen" and Title pr or not (userName sw "x") and Active eq true"#);
    check_users(&[
        (r#"UserName Eq "BJENSEN""#, [true, false, false]),
        (r#"NAME.FAMILYNAME co "o'malley""#, [false, true, false]),
        (r#"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME SW "j""#, [false, true, false]),
        (r#"Emails[TYPE EQ "WORK"]"#, [true, true, false]),
        ("title eq NULL", [false, true, true]),
    ]);
}

#[test]
fn case_exact_attributes_compare_exactly() {
    check_users(&[
        (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, [true, false, false]),
        (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, [false, false, false]),
        (r#"externalId eq "bjensen-ext""#, [true, false, false]),
        (r#"externalId eq "BJENSEN-EXT""#, [false, false, false]),
        (r#"meta.version eq "W/\"3694e05e9dff591\"""#, [true, false, false]),
        (r#"meta.version eq "w/\"3694E05E9DFF591\"""#, [false, false, false]),
        (r#"meta.resourceType eq "User""#, [true, true, true]),
        // userName, emails.value and displayName are not caseExact.
        (r#"userName eq "BJensen""#, [true, false, false]),
        (r#"emails.value eq "BJENSEN@EXAMPLE.COM""#, [true, false, false]),
        (r#"displayName ew "JENSEN""#, [true, false, false]),
    ]);
}

#[test]
fn string_operators() {
    check_users(&[
        (r#"userName co "ens""#, [true, false, false]),
        (r#"userName sw "bje""#, [true, false, false]),
        (r#"userName ew "sen""#, [true, false, false]),
        (r#"userName ew "bjensen""#, [true, false, false]),
        (r#"userName gt "b""#, [true, true, false]),
        (r#"userName lt "b""#, [false, false, true]),
        (r#"userName ge "bjensen""#, [true, true, false]),
        (r#"userName le "BJENSEN""#, [true, false, true]),
        (r#"userName ne "bjensen""#, [false, true, true]),
        (r#"emails co "jensen""#, [true, false, false]),
        (r#"emails.type eq "home""#, [true, false, false]),
        (r#"name.givenName sw "B" or name.givenName sw "J""#, [true, true, false]),
        // Unicode: é lowercases to itself, É to é.
        (r#"displayName co "É""#, [false, false, false]),
    ]);
    let c = compile(r#"displayName eq "ÉLODIE""#, users());
    assert!(c.matches(&json!({"displayName": "élodie"})));
    let c = compile(r#"displayName eq "\u00e9lodie""#, users());
    assert!(c.matches(&json!({"displayName": "Élodie"})));
}

#[test]
fn datetime_comparisons_are_chronological() {
    check_users(&[
        // The same instant written with an offset.
        (r#"meta.lastModified eq "2011-05-13T06:42:34+02:00""#, [true, false, false]),
        // omalley's 2012-02-01T00:00:00+01:00 is 2012-01-31T23:00:00Z.
        (r#"meta.lastModified lt "2012-01-31T23:30:00Z""#, [true, true, true]),
        (r#"meta.lastModified gt "2012-01-31T22:30:00Z""#, [false, true, false]),
        (r#"meta.created ge "2010-01-23T04:56:22.000Z""#, [true, true, false]),
        // co/sw/ew on a dateTime compare the text.
        (r#"meta.created sw "2012""#, [false, true, false]),
    ]);
    let e = compile_err(r#"meta.lastModified gt "yesterday""#, users());
    assert!(e.contains("RFC 3339"), "{e}");
}

#[test]
fn booleans_numbers_and_mismatched_types() {
    check_users(&[
        ("active eq true", [true, false, false]),
        ("active eq false", [false, true, false]),
        ("active ne true", [false, true, true]),
        ("active pr", [true, true, false]),
        // A literal of the wrong type is no match, not an error.
        (r#"active eq "true""#, [false, false, false]),
        ("userName eq 1", [false, false, false]),
        ("userName eq true", [false, false, false]),
        ("emails.primary eq true", [true, false, false]),
    ]);
    assert!(compile_err("active gt true", users()).contains("boolean"));
    assert!(compile_err("active le false", users()).contains("boolean"));
    assert!(compile_err(r#"x509Certificates.value gt "MII""#, users()).contains("binary"));
    assert!(compile_err("title gt null", users()).contains("null"));
}

#[test]
fn null_presence_and_ne_semantics() {
    check_users(&[
        // eq null: unassigned (RFC 7643 §2.5); ne null: assigned.
        ("title eq null", [false, true, true]),
        ("title ne null", [true, false, false]),
        ("emails eq null", [false, false, true]),
        // ne is not (eq): an absent attribute matches, and a multi-valued one only if no value is equal.
        (r#"userType ne "Employee""#, [false, true, true]),
        (r#"emails.type ne "work""#, [false, false, true]),
        (r#"not (emails.type eq "work")"#, [false, false, true]),
        ("emails pr", [true, true, false]),
        ("name pr", [true, true, false]),
        ("name.formatted pr", [true, false, false]),
        ("groups.$ref pr", [true, false, false]),
    ]);
    let c = compile("title pr", users());
    assert!(!c.matches(&json!({"title": ""})));
    assert!(!c.matches(&json!({"title": null})));
    let c = compile("emails pr", users());
    assert!(!c.matches(&json!({"emails": []})));
    assert!(!c.matches(&json!({"emails": [{}]})));
}

#[test]
fn complex_attributes() {
    // Comparing a complex attribute with a `value` sub-attribute compares that sub-attribute (the RFC's
    // `emails co "example.com"`); without one, a sub-attribute must be named.
    check_users(&[
        (r#"emails eq "jim@example.org""#, [false, true, false]),
        (&format!("{ENT}:manager eq \"26118915-6090-4610-87e4-49d8ca9f808d\""), [true, false, false]),
    ]);
    assert!(compile_err(r#"name eq "x""#, users()).contains("complex"));
    assert!(compile_err(r#"addresses eq "x""#, users()).contains("complex"));
    assert!(compile_err(r#"userName.x eq "x""#, users()).contains("not complex"));
}

#[test]
fn extension_and_common_attributes() {
    check_users(&[
        (&format!("{ENT}:employeeNumber eq \"701984\""), [true, false, false]),
        (&format!("{}:employeenumber eq \"701984\"", ENT.to_uppercase()), [true, false, false]),
        (&format!("{ENT}:manager.value sw \"2611\""), [true, false, false]),
        (&format!("{ENT}:manager.displayName eq \"john smith\""), [true, false, false]),
        (&format!("{ENT}:costCenter pr"), [true, false, false]),
        (&format!("not ({ENT}:costCenter pr)"), [false, true, true]),
        (r#"meta.resourceType eq "User" and meta.created lt "2011-01-01T00:00:00Z""#, [true, false, true]),
    ]);
    // Extension attributes need their URN (RFC 7644 §3.10).
    assert!(compile_err(r#"employeeNumber eq "701984""#, users()).contains("unknown attribute"));
    assert!(compile_err(r#"urn:example:unknown:attr eq "x""#, users()).contains("unknown schema"));
    assert!(compile_err(r#"nickname.first eq "x""#, users()).contains("not complex"));
    assert!(compile_err(r#"name.nope eq "x""#, users()).contains("unknown sub-attribute"));
    assert!(compile_err(r#"bogus eq "x""#, users()).contains("unknown attribute \"bogus\""));
    assert!(compile_err("emails[bogus pr]", users()).contains("bogus"));
    assert!(compile_err("userName[value pr]", users()).contains("value filter"));
    // The enterprise extension is not part of Groups.
    assert!(compile_err(&format!("{ENT}:employeeNumber pr"), groups()).contains("unknown schema"));
}

/// The lookups Okta and Microsoft Entra ID send before creating users and groups.
#[test]
fn idp_lookup_shapes() {
    let okta = json!({"schemas": [USER_URN], "id": "a1", "userName": "test.user@okta.local", "externalId": "00u1"});
    let c = compile(r#"userName eq "test.user@okta.local""#, users());
    assert!(c.matches(&okta));
    assert!(!c.matches(&bjensen()));
    let c = compile(r#"externalId eq "00u1""#, users());
    assert!(c.matches(&okta));
    let c = compile(r#"id eq "a1""#, users());
    assert!(c.matches(&okta));

    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "externalId": "8c6f",
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "$ref": "https://x/Users/2819c223", "type": "User"},
            {"value": "902c246b", "type": "User"}
        ],
        "meta": {"resourceType": "Group"}
    });
    for (f, expected) in [
        (r#"displayName eq "Tour Guides""#, true),
        (r#"displayName eq "tour guides""#, true),
        (r#"displayName eq "Other""#, false),
        (r#"externalId eq "8c6f""#, true),
        (r#"id eq "g1""#, true),
        (r#"id eq "G1""#, false),
        (r#"members[value eq "902c246b"]"#, true),
        (r#"members.value eq "2819c223-7f76-453a-919d-413861904646""#, true),
        (r#"members[value eq "nope"]"#, false),
        (r#"members.$ref co "Users""#, true),
        (r#"id eq "g1" and members[value eq "902c246b"]"#, true),
        (r#"meta.resourceType eq "Group""#, true),
    ] {
        assert_eq!(compile(f, groups()).matches(&group), expected, "{f}");
    }
    // Simple-eq fast path for the store.
    let f = parse_ok(r#"userName eq "test.user@okta.local""#);
    assert_eq!(f.as_simple_eq(), Some((&path(None, "userName", None), "test.user@okta.local")));
    assert_eq!(parse_ok(r#"userName ne "x""#).as_simple_eq(), None);
    assert_eq!(parse_ok("userName eq 1").as_simple_eq(), None);
    let f = parse_ok(r#"externalId eq "a" and (userName eq "b" or title pr) and displayName eq "c""#);
    let eqs: Vec<_> = f.required_eqs().into_iter().map(|(p, v)| (p.name.as_str(), v)).collect();
    assert_eq!(eqs, vec![("externalId", "a"), ("displayName", "c")]);
}

/// Microsoft Entra ID's `emails[type eq "work"].value eq "x"` is read as a value filter with both conditions.
#[test]
fn entra_value_path_with_sub_attribute() {
    let f = parse_ok(r#"emails[type eq "work"].value eq "bjensen@example.com""#);
    assert_eq!(f.to_string(), r#"emails[type eq "work" and value eq "bjensen@example.com"]"#);
    check_users(&[
        (r#"emails[type eq "work"].value eq "bjensen@example.com""#, [true, false, false]),
        (r#"emails[type eq "home"].value eq "bjensen@example.com""#, [false, false, false]),
        (r#"emails[type eq "work" or type eq "home"].value pr"#, [true, true, false]),
    ]);
}

#[test]
fn value_filters_on_elements() {
    let emails = users().resolve(None, "emails", None).expect("emails").attr;
    let work = json!({"value": "bjensen@example.com", "type": "work", "primary": true});
    let home = json!({"value": "babs@jensen.org", "type": "home"});
    for (f, w, h) in [
        (r#"type eq "work""#, true, false),
        (r#"TYPE eq "WORK""#, true, false),
        (r#"value co "@EXAMPLE.com""#, true, false),
        ("primary eq true", true, false),
        ("primary pr", true, false),
        (r#"type eq "work" or type eq "home""#, true, true),
        (r#"not (type eq "work")"#, false, true),
        (r#"type ne "work""#, false, true),
        ("display pr", false, false),
    ] {
        let c = CompiledFilter::compile_for_element(&roundtrip(f), emails).expect(f);
        assert_eq!((c.matches(&work), c.matches(&home)), (w, h), "{f}");
    }
    let members = groups().resolve(None, "members", None).expect("members").attr;
    let c = CompiledFilter::compile_for_element(&parse_ok(r#"value eq "2819c223""#), members).expect("members");
    assert!(c.matches(&json!({"value": "2819c223", "type": "User"})));
    assert!(c.matches(&json!({"value": "2819C223", "type": "User"})), "members.value is not caseExact");
    for bad in [r#"bogus eq "x""#, r#"emails[type eq "work"]"#, &format!("{USER_URN}:type eq \"x\""), "type.x pr"] {
        let err = CompiledFilter::compile_for_element(&parse_ok(bad), emails).expect_err(bad);
        assert_eq!(err.scim_type(), Some(ScimType::InvalidFilter), "{bad}");
    }
}

#[test]
fn patch_paths() {
    let cases: Vec<(String, PatchPath)> = vec![
        ("members".into(), PatchPath { attr: path(None, "members", None), filter: None, sub_after_filter: None }),
        (
            "name.familyName".into(),
            PatchPath { attr: path(None, "name", Some("familyName")), filter: None, sub_after_filter: None },
        ),
        (
            format!("{ENT}:manager"),
            PatchPath { attr: path(Some(ENT), "manager", None), filter: None, sub_after_filter: None },
        ),
        (
            format!("{ENT}:manager.value"),
            PatchPath { attr: path(Some(ENT), "manager", Some("value")), filter: None, sub_after_filter: None },
        ),
        (
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#.into(),
            PatchPath {
                attr: path(None, "members", None),
                filter: Some(cmp(path(None, "value", None), CompareOp::Eq, s("2819c223-7f76-453a-919d-413861904646"))),
                sub_after_filter: None,
            },
        ),
        (
            r#"emails[type eq "work"].value"#.into(),
            PatchPath {
                attr: path(None, "emails", None),
                filter: Some(cmp(path(None, "type", None), CompareOp::Eq, s("work"))),
                sub_after_filter: Some("value".into()),
            },
        ),
        (
            r#"addresses[type eq "work"].streetAddress"#.into(),
            PatchPath {
                attr: path(None, "addresses", None),
                filter: Some(cmp(path(None, "type", None), CompareOp::Eq, s("work"))),
                sub_after_filter: Some("streetAddress".into()),
            },
        ),
        (
            r#"members[value eq "a" or value eq "b"]"#.into(),
            PatchPath {
                attr: path(None, "members", None),
                filter: Some(Filter::Or(
                    Box::new(cmp(path(None, "value", None), CompareOp::Eq, s("a"))),
                    Box::new(cmp(path(None, "value", None), CompareOp::Eq, s("b"))),
                )),
                sub_after_filter: None,
            },
        ),
        (
            format!("{USER_URN}:emails[type eq \"work\"].value"),
            PatchPath {
                attr: path(Some(USER_URN), "emails", None),
                filter: Some(cmp(path(None, "type", None), CompareOp::Eq, s("work"))),
                sub_after_filter: Some("value".into()),
            },
        ),
        (
            "groups.$ref".into(),
            PatchPath { attr: path(None, "groups", Some("$ref")), filter: None, sub_after_filter: None },
        ),
        ("  members  ".into(), PatchPath { attr: path(None, "members", None), filter: None, sub_after_filter: None }),
    ];
    for (input, expected) in cases {
        let got = parse_patch_path(&input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(got, expected, "{input:?}");
        assert_eq!(parse_patch_path(&got.to_string()), Ok(got.clone()), "{input:?} printed as {got}");
    }
    for (input, at, msg) in [
        ("", 0, "expected an attribute name"),
        ("emails[", 7, "expected a filter expression"),
        (r#"emails[type eq "work""#, 21, "expected \"]\""),
        (r#"emails[type eq "work"]."#, 23, "sub-attribute"),
        (r#"emails[type eq "work"]x"#, 22, "unexpected trailing input \"x\""),
        (r#"name.familyName[type eq "x"]"#, 0, "not the sub-attribute"),
        ("name.familyName.x", 15, "more than one sub-attribute"),
        ("urn:ietf:params:scim:schemas:core:2.0:User:", 43, "expected an attribute name after the schema URN"),
        ("members value", 8, "unexpected trailing input"),
        (r#"emails[type eq "work"][value pr]"#, 22, "unexpected trailing input"),
    ] {
        let e = parse_patch_path(input).expect_err(input);
        assert_eq!(e.position, at, "{input:?}: {e}");
        assert!(e.message.contains(msg), "{input:?}: {e}");
    }
    assert_eq!(e_path("emails[type eq]").to_scim(ScimType::InvalidPath).scim_type(), Some(ScimType::InvalidPath));
}

fn e_path(s: &str) -> ParseError {
    parse_patch_path(s).expect_err(s)
}

#[test]
fn attr_paths() {
    assert_eq!(parse_attr_path("userName"), Ok(path(None, "userName", None)));
    assert_eq!(parse_attr_path(" name.givenName "), Ok(path(None, "name", Some("givenName"))));
    assert_eq!(parse_attr_path(&format!("{ENT}:manager.$ref")), Ok(path(Some(ENT), "manager", Some("$ref"))));
    assert_eq!(parse_attr_path("$ref"), Ok(path(None, "$ref", None)));
    assert!(parse_attr_path("1abc").is_err());
    assert!(parse_attr_path("a b").is_err());
    assert!(parse_attr_path("a:b").is_err());
    assert!(parse_attr_path("name.").is_err());
    assert_eq!(path(Some(ENT), "manager", Some("value")).to_string(), format!("{ENT}:manager.value"));
}

#[test]
fn syntax_errors_say_where_and_what() {
    let ops = "(eq, ne, co, sw, ew, gt, ge, lt, le, pr)";
    for (input, at, msg) in [
        (
            "userName eq",
            11,
            "expected a comparison value (a string in double quotes, a number, true, false or null) after \"eq\"",
        ),
        ("userName eq ", 12, "expected a comparison value"),
        ("userName", 8, &format!("expected a comparison operator {ops} after \"userName\"") as &str),
        ("userName xx \"a\"", 9, &format!("expected a comparison operator {ops} after \"userName\", found \"xx\"")),
        ("name.familyName regex \"a\"", 16, "after \"name.familyName\", found \"regex\""),
        ("(userName eq \"a\"", 16, "unbalanced parenthesis: expected \")\" to close the \"(\" at character 1"),
        ("userName eq \"a\")", 15, "unbalanced parenthesis"),
        ("userName eq \"a\" junk", 16, "unexpected trailing input \"junk\""),
        ("emails[type eq \"work\"", 21, "expected \"]\" to close the value filter opened at character 7"),
        ("emails[type eq \"work\"]]", 22, "unbalanced bracket"),
        ("userName eq \"abc", 12, "unterminated string"),
        ("userName eq \"a\\\"", 12, "unterminated string"),
        ("userName eq bjensen", 12, "strings need double quotes"),
        ("userName eq \"\\q\"", 13, "invalid escape \"\\q\""),
        ("userName eq \"\\u12\"", 13, "four hex digits"),
        ("userName eq \"\\ud800\"", 13, "surrogate"),
        ("userName eq 01", 13, "expected whitespace"),
        ("userName eq 1.", 12, "invalid number"),
        ("userName eq -", 12, "invalid number"),
        ("userName eq \"a\"and title pr", 15, "expected whitespace"),
        ("", 0, "expected a filter expression"),
        ("   ", 3, "expected a filter expression"),
        ("()", 1, "unbalanced parenthesis"),
        (")", 0, "unbalanced parenthesis"),
        ("title pr and", 12, "expected a filter expression"),
        ("title pr or or", 14, "expected a comparison operator"),
        ("not (title pr", 13, "unbalanced parenthesis"),
        ("name.familyName.x pr", 15, "more than one sub-attribute"),
        ("name. pr", 5, "expected a sub-attribute name after \"name.\""),
        ("emails[type eq \"work\" and value[type pr]]", 31, "cannot be nested"),
        ("userName=\"x\"", 8, "unexpected character \"=\" after \"userName\""),
        ("foo:bar pr", 3, "schema URNs start with \"urn:\""),
        ("urn:ietf:params:scim:schemas:core:2.0:User: pr", 43, "after the schema URN"),
        ("üserName eq \"x\"", 0, "expected a filter expression"),
        ("userName eq \"é\" ü", 17, "unexpected trailing input \"ü\""),
        ("userName ü \"x\"", 9, "found \"ü \"x\"\""),
        ("userName eq 1e999", 12, "out of range"),
    ] {
        let e = parse_err(input);
        assert!(e.message.contains(msg), "{input:?}: got {:?}, want {msg:?}", e.message);
        assert_eq!(e.position, at, "{input:?}: {e}");
        assert!(input.is_char_boundary(e.position.min(input.len())), "{input:?}");
    }
    // Display adds the 1-based position; the SCIM error is invalidFilter.
    let e = parse_err("userName xx \"a\"");
    assert!(e.to_string().ends_with("(at character 10)"), "{e}");
    assert_eq!(e.to_scim(ScimType::InvalidFilter).scim_type(), Some(ScimType::InvalidFilter));
    let e = CompiledFilter::parse("userName eq", users()).expect_err("syntax");
    assert_eq!(e.scim_type(), Some(ScimType::InvalidFilter));
    assert!(CompiledFilter::parse(r#"userName eq "bjensen""#, users()).expect("ok").matches(&bjensen()));
}

#[test]
fn values_and_whitespace() {
    assert_eq!(
        parse_ok("userName   eq\t\"a\\\"b\\\\c\\/d\\u00e9\\ud83d\\ude00\\n\""),
        cmp(path(None, "userName", None), CompareOp::Eq, s("a\"b\\c/dé😀\n"))
    );
    assert_eq!(
        parse_ok("x eq -1.5e3"),
        cmp(
            path(None, "x", None),
            CompareOp::Eq,
            CompValue::Number(serde_json::Number::from_f64(-1500.0).expect("finite"))
        )
    );
    assert_eq!(parse_ok("x eq 0"), cmp(path(None, "x", None), CompareOp::Eq, CompValue::Number(0.into())));
    assert_eq!(parse_ok("x eq -7"), cmp(path(None, "x", None), CompareOp::Eq, CompValue::Number((-7).into())));
    assert_eq!(parse_ok("x eq True"), cmp(path(None, "x", None), CompareOp::Eq, CompValue::Bool(true)));
    assert_eq!(parse_ok("x eq FALSE"), cmp(path(None, "x", None), CompareOp::Eq, CompValue::Bool(false)));
    assert_eq!(parse_ok("x eq null"), cmp(path(None, "x", None), CompareOp::Eq, CompValue::Null));
    assert_eq!(parse_ok(" \t( ( x pr ) )\n "), Filter::Present(path(None, "x", None)));
    assert_eq!(parse_ok("not(x pr)"), Filter::Not(Box::new(Filter::Present(path(None, "x", None)))));
    assert_eq!(parse_ok("x pr and(y pr)").to_string(), "x pr and y pr");
    assert_eq!(parse_ok("emails [type eq \"work\"]").to_string(), "emails[type eq \"work\"]");
    // `not`, `and`, `or` and `pr` are ordinary attribute names where a name is expected.
    assert_eq!(parse_ok("not pr"), Filter::Present(path(None, "not", None)));
    assert_eq!(parse_ok("and pr or or pr").to_string(), "and pr or or pr");
    assert_eq!(parse_ok("pr pr"), Filter::Present(path(None, "pr", None)));
    assert_eq!(parse_ok("order pr"), Filter::Present(path(None, "order", None)));
    assert_eq!(parse_ok("members.$ref pr"), Filter::Present(path(None, "members", Some("$ref"))));
    // Printing escapes what JSON requires.
    let f = cmp(path(None, "x", None), CompareOp::Ne, s("q\"\\\u{1}\té"));
    assert_eq!(f.to_string(), "x ne \"q\\\"\\\\\\u0001\\té\"");
    assert_eq!(parse_ok(&f.to_string()), f);
}

/// Floats print in their shortest form and must parse back to the same bits (serde_json's default float parser can
/// be one ulp off, so the parser uses Rust's).
#[test]
fn floats_round_trip_exactly() {
    for text in ["1.1803355981645531e+257", "-1.4168254613871572e-257", "5.9475719862229376e228", "0.1", "-0.0", "1e-7"]
    {
        let f = parse_ok(&format!("x eq {text}"));
        let Filter::Compare { value: CompValue::Number(n), .. } = &f else { panic!("{f:?}") };
        let expected: f64 = text.parse().expect("float");
        assert_eq!(n.as_f64().map(f64::to_bits), Some(expected.to_bits()), "{text}");
        assert_eq!(parse_ok(&f.to_string()), f, "{text}");
    }
    assert_eq!(
        parse_ok("x eq 18446744073709551615"),
        cmp(path(None, "x", None), CompareOp::Eq, CompValue::Number(u64::MAX.into()))
    );
    assert_eq!(
        parse_ok("x eq -9223372036854775808"),
        cmp(path(None, "x", None), CompareOp::Eq, CompValue::Number(i64::MIN.into()))
    );
    // Beyond u64: a float, as in serde_json.
    assert!(
        matches!(parse_ok("x eq 18446744073709551616"), Filter::Compare { value: CompValue::Number(n), .. } if n.is_f64())
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let ok = format!("{}x pr{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    assert_eq!(parse_ok(&ok), Filter::Present(path(None, "x", None)));
    for input in [
        format!("{}x pr{}", "(".repeat(MAX_NESTING + 1), ")".repeat(MAX_NESTING + 1)),
        "(".repeat(100_000),
        "not (".repeat(100_000),
        format!("{}x pr]", "a[".repeat(10)),
    ] {
        let e = parse_filter(&input).expect_err("too deep");
        assert!(e.message.contains("nest"), "{}", e.message);
    }
    let chain = vec!["x pr"; MAX_LOGICAL_OPERATORS + 1].join(" or ");
    assert!(parse_ok(&chain).to_string().len() > 1000);
    let chain = vec!["x pr"; MAX_LOGICAL_OPERATORS + 2].join(" and ");
    assert!(parse_err(&chain).message.contains("and/or"));
}

#[test]
fn compare_values_orders_for_sorting() {
    use std::cmp::Ordering::*;
    let user_name = users().resolve(None, "userName", None).expect("userName").attr;
    assert_eq!(compare_values(user_name, &json!("alice"), &json!("Bob")), Less);
    assert_eq!(compare_values(user_name, &json!("ALICE"), &json!("alice")), Equal);
    let id = users().resolve(None, "id", None).expect("id").attr;
    assert_eq!(compare_values(id, &json!("B"), &json!("a")), Less);
    let modified = users().resolve(None, "meta", Some("lastModified")).expect("meta").leaf();
    assert_eq!(compare_values(modified, &json!("2011-05-13T04:42:34Z"), &json!("2011-05-13T05:42:34+02:00")), Greater);
    let active = users().resolve(None, "active", None).expect("active").attr;
    assert_eq!(compare_values(active, &json!(false), &json!(true)), Less);
    let emails = users().resolve(None, "emails", None).expect("emails").attr;
    let a = json!([{"value": "z@x"}, {"value": "a@x", "primary": true}]);
    let b = json!([{"value": "m@x"}]);
    assert_eq!(compare_values(emails, &a, &b), Less, "the primary value counts");
    // Missing values sort last.
    assert_eq!(compare_values(user_name, &Value::Null, &json!("a")), Greater);
    assert_eq!(compare_values(user_name, &json!("a"), &Value::Null), Less);
    assert_eq!(compare_values(user_name, &Value::Null, &Value::Null), Equal);
}

// ---- property tests ----

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        1 => Just("$ref".to_owned()),
        1 => prop::sample::select(vec!["not", "and", "or", "pr", "eq", "true", "null", "urn"]).prop_map(str::to_owned),
    ]
}

fn urn_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![USER_URN, ENT, "urn:ietf:params:scim:schemas:core:2.0:Group"])
            .prop_map(str::to_owned),
        "urn:[a-zA-Z0-9]{1,5}(:[a-zA-Z0-9.-]{1,5}){0,3}",
    ]
}

fn path_strategy() -> impl Strategy<Value = AttrPath> {
    (prop::option::weighted(0.2, urn_strategy()), name_strategy(), prop::option::weighted(0.3, name_strategy()))
        .prop_map(|(urn, name, sub)| AttrPath { urn, name, sub })
}

fn value_strategy() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<u64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |x| serde_json::Number::from_f64(x).map(CompValue::Number)),
        any::<String>().prop_map(CompValue::Str),
        "[a-z@. ]{0,10}".prop_map(CompValue::Str),
    ]
}

fn op_strategy() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

fn leaf_strategy() -> impl Strategy<Value = Filter> {
    prop_oneof![
        3 => (path_strategy(), op_strategy(), value_strategy())
            .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        1 => path_strategy().prop_map(Filter::Present),
    ]
}

fn combine(inner: impl Strategy<Value = Filter> + Clone) -> impl Strategy<Value = Filter> {
    prop_oneof![
        (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
        (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
        inner.prop_map(|f| Filter::Not(Box::new(f))),
    ]
}

/// A filter without value paths (what may appear inside `[ … ]`).
fn val_filter_strategy() -> impl Strategy<Value = Filter> {
    leaf_strategy().prop_recursive(5, 32, 2, combine)
}

/// Any filter the grammar can express: value paths anywhere except inside another value path.
fn filter_strategy() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        3 => leaf_strategy(),
        1 => (path_strategy(), val_filter_strategy())
            .prop_map(|(path, f)| Filter::ValuePath { path, filter: Box::new(f) }),
    ];
    leaf.prop_recursive(5, 48, 2, combine)
}

/// Valid filter text, then one of a few damaging edits.
fn near_valid_strategy() -> impl Strategy<Value = String> {
    let valid = prop_oneof![
        filter_strategy().prop_map(|f| f.to_string()),
        prop::sample::select(vec![
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"displayName eq "\u00e9\"x\\" and title pr"#,
        ])
        .prop_map(str::to_owned),
    ];
    let edit = prop_oneof![
        any::<prop::sample::Index>().prop_map(Edit::Delete),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(vec!['(', ')', '[', ']', '"', '\\', ' ', '.', ':', 'é', '😀', 'x', '\u{0}'])
        )
            .prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<prop::sample::Index>().prop_map(Edit::Truncate),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(|(a, b)| Edit::Swap(a, b)),
    ];
    (valid, prop::collection::vec(edit, 1..4)).prop_map(|(text, edits)| {
        let mut chars: Vec<char> = text.chars().collect();
        for e in edits {
            e.apply(&mut chars);
        }
        chars.into_iter().collect()
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(prop::sample::Index),
    Insert(prop::sample::Index, char),
    Truncate(prop::sample::Index),
    Swap(prop::sample::Index, prop::sample::Index),
}

impl Edit {
    fn apply(&self, chars: &mut Vec<char>) {
        match self {
            Edit::Delete(i) if !chars.is_empty() => {
                chars.remove(i.index(chars.len()));
            }
            Edit::Insert(i, c) => chars.insert(i.index(chars.len() + 1), *c),
            Edit::Truncate(i) if !chars.is_empty() => chars.truncate(i.index(chars.len())),
            Edit::Swap(a, b) if !chars.is_empty() => {
                let (a, b) = (a.index(chars.len()), b.index(chars.len()));
                chars.swap(a, b);
            }
            _ => {}
        }
    }
}

/// Parsing whatever came out and printing it again must be stable, and the error position must be a character
/// boundary within the input.
fn check_any_input(s: &str) -> Result<(), TestCaseError> {
    match parse_filter(s) {
        Ok(f) => {
            let printed = f.to_string();
            prop_assert_eq!(parse_filter(&printed), Ok(f.clone()), "{:?} printed as {:?}", s, printed);
            // Compiling and evaluating arbitrary filters must not panic either.
            if let Ok(c) = CompiledFilter::compile(&f, users()) {
                let _ = c.matches(&bjensen());
                let _ = c.matches(&minimal());
            }
        }
        Err(e) => {
            prop_assert!(e.position <= s.len(), "{:?}: {:?}", s, e);
            prop_assert!(s.is_char_boundary(e.position), "{:?}: {:?}", s, e);
        }
    }
    if let Ok(p) = parse_patch_path(s) {
        prop_assert_eq!(parse_patch_path(&p.to_string()), Ok(p.clone()));
    }
    let _ = parse_attr_path(s);
    Ok(())
}

proptest! {
    // No failure persistence: the regression file would land outside this module's directory.
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_strings(s in any::<String>()) {
        check_any_input(&s)?;
    }

    #[test]
    fn parser_never_panics_on_filter_alphabet(s in r#"[a-zA-Z0-9 "\\()\[\].:$é-]{0,64}"#) {
        check_any_input(&s)?;
    }

    #[test]
    fn printed_filters_parse_back(f in filter_strategy()) {
        let printed = f.to_string();
        prop_assert_eq!(parse_filter(&printed), Ok(f.clone()), "printed as {:?}", printed);
        // Evaluation of whatever compiles must not panic.
        if let Ok(c) = CompiledFilter::compile(&f, users()) {
            let _ = c.matches(&bjensen());
            let _ = c.matches(&omalley());
        }
    }

    #[test]
    fn printed_patch_paths_parse_back(
        attr in path_strategy(),
        filter in prop::option::of(val_filter_strategy()),
        sub in prop::option::of(name_strategy()),
    ) {
        // Only the shapes of RFC 7644 §3.5.2: attrPath, or valuePath [subAttr] on an attribute without one.
        let p = match filter {
            Some(f) => PatchPath { attr: AttrPath { sub: None, ..attr }, filter: Some(f), sub_after_filter: sub },
            None => PatchPath { attr, filter: None, sub_after_filter: None },
        };
        let printed = p.to_string();
        prop_assert_eq!(parse_patch_path(&printed), Ok(p.clone()), "printed as {:?}", printed);
    }

    #[test]
    fn near_valid_filters_never_panic(s in near_valid_strategy()) {
        check_any_input(&s)?;
    }

    #[test]
    fn ne_is_not_eq(p in prop::sample::select(vec!["userName", "title", "emails.type", "active", "meta.created"]),
                    v in prop::sample::select(vec![r#""bjensen""#, r#""work""#, "true", "1", r#""2010-01-23T04:56:22Z""#])) {
        let ne = CompiledFilter::compile(&parse_ok(&format!("{p} ne {v}")), users());
        let not_eq = CompiledFilter::compile(&parse_ok(&format!("not ({p} eq {v})")), users());
        match (ne, not_eq) {
            (Ok(a), Ok(b)) => {
                for user in [bjensen(), omalley(), minimal()] {
                    prop_assert_eq!(a.matches(&user), b.matches(&user));
                }
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} vs {:?}", a.is_ok(), b.is_ok()),
        }
    }
}
