//! What a response contains: the `attributes` and `excludedAttributes` parameters ([RFC 7644 §3.4.2.5], [§3.9])
//! combined with each attribute's `returned` characteristic ([RFC 7643 §7]).
//!
//! A [`Projection`] is compiled once from the request into a small plan of canonical names, so that rendering a
//! resource ([`Projection::apply`]) only walks the resource's own keys and compares them with `&'static str`s —
//! it runs on every read and on every element of a list.
//!
//! Choices where the RFCs are silent:
//! - paths that name no attribute of the resource type (`attributes=nickname2`, an unqualified extension
//!   attribute) are ignored: RFC 7644 §3.4.2.5 gives no error for them, and a client asking for an attribute the
//!   server lacks loses nothing when it is absent from the response;
//! - `attributes` and `excludedAttributes` together are a 400 `invalidSyntax`: the first *replaces* the default
//!   set, the second *subtracts from* it (§3.4.2.5), so their combination has no defined meaning; an empty
//!   parameter counts as absent;
//! - the bare core schema URN in a list stands for every attribute of the core schema, the bare extension URN for
//!   the whole extension object (§3.10 names attributes "urn:...:attr"; the URN alone is the extension's key);
//! - `schemas` is always returned (RFC 7643 §3: REQUIRED) and lists the core URN plus the extensions still present.
//!
//! [RFC 7644 §3.4.2.5]: https://www.rfc-editor.org/rfc/rfc7644#section-3.4.2.5
//! [§3.9]: https://www.rfc-editor.org/rfc/rfc7644#section-3.9
//! [RFC 7643 §7]: https://www.rfc-editor.org/rfc/rfc7643#section-7

use serde_json::{Map, Value};

use super::error::ScimError;
use super::schema::{
    AttrDef, AttrHome, COMMON_ATTRIBUTES, GROUP_RESOURCE_TYPE, ResourceTypeDef, Returned, USER_RESOURCE_TYPE,
};

/// How a response renders resources of one type: compiled from `attributes` / `excludedAttributes`.
#[derive(Debug, Clone)]
pub struct Projection {
    rt: &'static ResourceTypeDef,
    plan: std::sync::Arc<Plan>,
    default: bool,
}

/// What to do with the members of one JSON object (the resource, an extension object, a complex value).
#[derive(Debug, Clone)]
struct Plan {
    /// Whether keys without a rule are kept (`Keep` is the norm outside `attributes=`).
    keep_others: bool,
    rules: Box<[(&'static str, Rule)]>,
}

#[derive(Debug, Clone)]
enum Rule {
    Keep,
    Drop,
    /// Apply the plan to the object, or to each object of an array; drop what ends up empty.
    Nested(Plan),
}

/// How attributes of a level are chosen while compiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `attributes=`: only what is named, plus `returned: always`.
    Include,
    /// `excludedAttributes=` and the default: everything `returned: default` or `always`, minus what is named.
    Exclude,
    /// A whole attribute named in `attributes=`: all of it but `returned: never`.
    All,
}

/// Requested paths, as a tree of canonical names: top-level keys (attribute names or extension URNs), then
/// attributes of an extension, then sub-attributes.
#[derive(Debug, Default)]
struct Sel {
    whole: bool,
    children: Vec<(&'static str, Sel)>,
}

impl Sel {
    fn child(&self, name: &str) -> Option<&Sel> {
        self.children.iter().find(|(n, _)| *n == name).map(|(_, s)| s)
    }

    fn add(&mut self, path: &[&'static str]) {
        let Some((first, rest)) = path.split_first() else {
            self.whole = true;
            return;
        };
        let idx = match self.children.iter().position(|(n, _)| n == first) {
            Some(i) => i,
            None => {
                self.children.push((first, Sel::default()));
                self.children.len() - 1
            }
        };
        self.children[idx].1.add(rest);
    }
}

static EMPTY: Sel = Sel { whole: false, children: Vec::new() };

impl Projection {
    /// From the `attributes` / `excludedAttributes` query parameters or search-request fields (RFC 7644 §3.4.2.5,
    /// §3.4.3, §3.9): comma-separated attribute paths (§3.10), optionally URN-qualified, case-insensitive,
    /// surrounding spaces ignored. Unknown paths are ignored; both parameters non-empty is 400 `invalidSyntax`
    /// (see the module docs for why).
    pub fn parse(
        rt: &'static ResourceTypeDef,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> Result<Projection, ScimError> {
        // A list without a single name (``, ` `, `,`) counts as absent.
        let given = |s: &&str| s.split(',').any(|p| !p.trim().is_empty());
        let attributes = attributes.filter(given);
        let excluded = excluded.filter(given);
        match (attributes, excluded) {
            (Some(_), Some(_)) => Err(ScimError::invalid_syntax(
                "\"attributes\" and \"excludedAttributes\" cannot be combined: the first replaces the default \
                 set of attributes, the second removes from it (RFC 7644 §3.4.2.5)",
            )),
            (Some(list), None) => {
                let sel = selection(rt, list);
                Ok(Projection { rt, plan: compile_top(rt, &sel, Mode::Include).into(), default: false })
            }
            (None, Some(list)) => {
                let sel = selection(rt, list);
                let default = sel.children.is_empty();
                Ok(Projection { rt, plan: compile_top(rt, &sel, Mode::Exclude).into(), default })
            }
            (None, None) => Ok(Self::default_for(rt)),
        }
    }

    /// The projection when neither parameter is given: every attribute `returned: default` or `always`
    /// (RFC 7643 §7); `never` (password) and `request` ones are left out.
    /// For the server's own resource types the plan is compiled once and shared, as nearly every read uses it.
    pub fn default_for(rt: &'static ResourceTypeDef) -> Projection {
        use std::sync::{Arc, OnceLock};
        static USER: OnceLock<Arc<Plan>> = OnceLock::new();
        static GROUP: OnceLock<Arc<Plan>> = OnceLock::new();
        let compile = || Arc::new(compile_top(rt, &EMPTY, Mode::Exclude));
        let plan = if std::ptr::eq(rt, &USER_RESOURCE_TYPE) {
            USER.get_or_init(compile).clone()
        } else if std::ptr::eq(rt, &GROUP_RESOURCE_TYPE) {
            GROUP.get_or_init(compile).clone()
        } else {
            compile()
        };
        Projection { rt, plan, default: true }
    }

    /// Renders a canonical resource (see [`crate::scim`]) for output.
    ///
    /// `schemas` comes first and lists the core URN and each extension still present; `id` follows; the other
    /// members keep the resource's order. Attributes `returned: never` never appear, `always` ones always do;
    /// `attributes=` keeps only what it names (sub-attributes such as `name.givenName`, `emails.value`,
    /// `meta.lastModified`, extension attributes such as `urn:…:User:employeeNumber`, or a whole extension by its
    /// URN), `excludedAttributes=` removes what it names from the default set. A complex value or a multi-valued
    /// attribute left empty by a sub-attribute selection is left out (RFC 7643 §2.5: empty means unassigned).
    /// Anything that is not a JSON object is returned as is.
    pub fn apply(&self, resource: &Value) -> Value {
        let Some(obj) = resource.as_object() else {
            return resource.clone();
        };
        let mut out = Map::with_capacity(obj.len() + 1);
        // Placeholder, so that `schemas` leads; filled in below once the extensions present are known.
        out.insert("schemas".to_owned(), Value::Null);
        if let Some(id) = obj.get("id")
            && let Some(v) = self.plan.render("id", id)
        {
            out.insert("id".to_owned(), v);
        }
        for (key, value) in obj {
            if key == "schemas" || key == "id" {
                continue;
            }
            if let Some(v) = self.plan.render(key, value) {
                out.insert(key.clone(), v);
            }
        }
        let mut schemas = Vec::with_capacity(1 + self.rt.extensions.len());
        schemas.push(Value::String(self.rt.schema.id.to_owned()));
        for ext in self.rt.extensions {
            if out.contains_key(ext.schema.id) {
                schemas.push(Value::String(ext.schema.id.to_owned()));
            }
        }
        out.insert("schemas".to_owned(), Value::Array(schemas));
        Value::Object(out)
    }

    /// Whether this is the default projection (no parameters, or an `excludedAttributes` that names nothing
    /// known), so that callers may serve a cached rendering.
    pub fn is_default(&self) -> bool {
        self.default
    }
}

impl Plan {
    fn rule(&self, key: &str) -> Option<&Rule> {
        self.rules.iter().find(|(n, _)| *n == key).map(|(_, r)| r)
    }

    /// The rendering of member `key` (with `value`) of an object, or `None` to leave it out.
    fn render(&self, key: &str, value: &Value) -> Option<Value> {
        match self.rule(key) {
            None if self.keep_others => Some(value.clone()),
            None | Some(Rule::Drop) => None,
            Some(Rule::Keep) => Some(value.clone()),
            Some(Rule::Nested(p)) => p.nested(value),
        }
    }

    fn nested(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Object(m) => self.object(m).map(Value::Object),
            Value::Array(items) => {
                let out: Vec<Value> =
                    items.iter().filter_map(|i| if i.is_object() { self.nested(i) } else { Some(i.clone()) }).collect();
                if out.is_empty() { None } else { Some(Value::Array(out)) }
            }
            // A simple value where the schema has a complex one: not canonical; shown as is rather than lost.
            other => Some(other.clone()),
        }
    }

    fn object(&self, m: &Map<String, Value>) -> Option<Map<String, Value>> {
        let mut out = Map::with_capacity(m.len());
        for (k, v) in m {
            if let Some(x) = self.render(k, v) {
                out.insert(k.clone(), x);
            }
        }
        if out.is_empty() { None } else { Some(out) }
    }
}

/// Parses a comma-separated list of attribute paths into a selection tree of canonical names. Resolution goes
/// through [`ResourceTypeDef::resolve_str`] (case-insensitive, RFC 7643 §2.1), so names come out as the schema
/// spells them, which is how the canonical form stores them.
fn selection(rt: &'static ResourceTypeDef, list: &str) -> Sel {
    let mut sel = Sel::default();
    for raw in list.split(',') {
        let path = raw.trim();
        if path.is_empty() {
            continue;
        }
        // A bare schema URN: the core schema's attributes, or a whole extension.
        if path.eq_ignore_ascii_case(rt.schema.id) {
            for def in rt.schema.attributes {
                sel.add(&[def.name]);
            }
            continue;
        }
        if let Some(ext) = rt.extension(path) {
            sel.add(&[ext.id]);
            continue;
        }
        // `resolve_str` without the panic of `split_urn` on a multi-byte character at byte 4 (which cannot start
        // a URN anyway).
        let resolved = if path.len() > 4 && !path.is_char_boundary(4) { None } else { rt.resolve_str(path) };
        let Some(r) = resolved else {
            // Unknown: ignored (module docs).
            continue;
        };
        let mut key: Vec<&'static str> = Vec::with_capacity(3);
        if let AttrHome::Extension(urn) = r.home {
            key.push(urn);
        }
        key.push(r.attr.name);
        if let Some(sub) = r.sub {
            key.push(sub.name);
        }
        sel.add(&key);
    }
    sel
}

/// Compiles the plan of a resource: core and common attributes at the top level, then each extension object.
fn compile_top(rt: &'static ResourceTypeDef, sel: &Sel, mode: Mode) -> Plan {
    let defs = rt.schema.attributes.iter().chain(COMMON_ATTRIBUTES.iter());
    let mut rules = level_rules(defs, sel, mode);
    for ext in rt.extensions.iter().map(|e| e.schema) {
        let child = sel.child(ext.id);
        let plan = match (mode, child) {
            (Mode::All, _) => compile_level(ext.attributes, &EMPTY, Mode::All),
            (Mode::Include, None) => compile_level(ext.attributes, &EMPTY, Mode::Include),
            (Mode::Include, Some(c)) if c.whole => compile_level(ext.attributes, &EMPTY, Mode::All),
            (Mode::Include, Some(c)) => compile_level(ext.attributes, c, Mode::Include),
            (Mode::Exclude, None) => compile_level(ext.attributes, &EMPTY, Mode::Exclude),
            // Excluding the whole extension leaves only what the RFC says is always returned.
            (Mode::Exclude, Some(c)) if c.whole => compile_level(ext.attributes, &EMPTY, Mode::Include),
            (Mode::Exclude, Some(c)) => compile_level(ext.attributes, c, Mode::Exclude),
        };
        push_rule(&mut rules, ext.id, simplify(plan), keeps_others(mode));
    }
    Plan { keep_others: keeps_others(mode), rules: rules.into_boxed_slice() }
}

fn keeps_others(mode: Mode) -> bool {
    mode != Mode::Include
}

fn compile_level(defs: &'static [AttrDef], sel: &Sel, mode: Mode) -> Plan {
    Plan { keep_others: keeps_others(mode), rules: level_rules(defs.iter(), sel, mode).into_boxed_slice() }
}

/// The rules for the attributes of one level, leaving out those that say what `keep_others` already says.
fn level_rules<'a>(defs: impl Iterator<Item = &'a AttrDef>, sel: &Sel, mode: Mode) -> Vec<(&'static str, Rule)> {
    let mut rules = Vec::new();
    for def in defs {
        let rule = attr_rule(def, sel.child(def.name), mode);
        // `def.name` is `&'static str` in every schema table; the iterator only borrows the slice.
        push_rule(&mut rules, def.name, rule, keeps_others(mode));
    }
    rules
}

fn push_rule(rules: &mut Vec<(&'static str, Rule)>, name: &'static str, rule: Rule, keep_others: bool) {
    let redundant = matches!((&rule, keep_others), (Rule::Keep, true) | (Rule::Drop, false));
    if !redundant {
        rules.push((name, rule));
    }
}

/// RFC 7643 §7 "returned" and RFC 7644 §3.4.2.5 for one attribute.
fn attr_rule(def: &AttrDef, sel: Option<&Sel>, mode: Mode) -> Rule {
    // "never: The attribute is never returned" — whatever is asked.
    if def.returned == Returned::Never {
        return Rule::Drop;
    }
    // "always: ... returned regardless of the contents of the "attributes" parameter"; and
    // excludedAttributes "SHALL have no effect on attributes whose schema "returned" setting is "always"".
    if def.returned == Returned::Always {
        return whole(def, Mode::All);
    }
    match mode {
        Mode::All => whole(def, Mode::All),
        Mode::Include => match sel {
            // Not named: gone, but for sub-attributes that are themselves `returned: always`.
            None => only_always(def),
            Some(s) if s.whole || def.sub_attributes.is_empty() => whole(def, Mode::All),
            Some(s) => simplify(compile_level(def.sub_attributes, s, Mode::Include)),
        },
        Mode::Exclude => {
            // "request: ... returned ... if specified by the client" — never part of the default set.
            if def.returned == Returned::Request {
                return Rule::Drop;
            }
            match sel {
                None => whole(def, Mode::Exclude),
                Some(s) if s.whole || def.sub_attributes.is_empty() => only_always(def),
                Some(s) => simplify(compile_level(def.sub_attributes, s, Mode::Exclude)),
            }
        }
    }
}

/// The rule for all of an attribute: its sub-attributes filtered by their own `returned`.
fn whole(def: &AttrDef, mode: Mode) -> Rule {
    if def.sub_attributes.is_empty() {
        return Rule::Keep;
    }
    simplify(compile_level(def.sub_attributes, &EMPTY, mode))
}

/// The rule for an attribute that is not returned, except for its `returned: always` sub-attributes.
fn only_always(def: &AttrDef) -> Rule {
    if def.sub_attributes.is_empty() {
        return Rule::Drop;
    }
    simplify(compile_level(def.sub_attributes, &EMPTY, Mode::Include))
}

/// A plan with no rules is plain `Keep` or `Drop`.
fn simplify(plan: Plan) -> Rule {
    match (plan.rules.is_empty(), plan.keep_others) {
        (true, true) => Rule::Keep,
        (true, false) => Rule::Drop,
        _ => Rule::Nested(plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::error::ScimType;
    use crate::scim::schema::{
        AttrType, ENTERPRISE_USER_URN, GROUP_URN, Mutability, ResourceKind, SchemaDef, USER_URN, Uniqueness,
    };
    use proptest::prelude::*;
    use serde_json::json;

    fn user() -> &'static ResourceTypeDef {
        ResourceKind::User.def()
    }

    /// A stored user as the service renders it: canonical form plus `meta.location` and derived `groups`.
    fn bjensen() -> Value {
        json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "externalId": "701984",
            "userName": "bjensen@example.com",
            "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara"},
            "displayName": "Babs Jensen",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"},
                {"type": "other"}
            ],
            "groups": [{"value": "g1", "display": "Tour Guides", "type": "direct"}],
            ENTERPRISE_USER_URN: {
                "employeeNumber": "701984",
                "department": "Tour Operations",
                "manager": {"value": "m1", "displayName": "John Smith"}
            },
            "id": "2819c223",
            "meta": {
                "resourceType": "User",
                "created": "2010-01-23T04:56:22Z",
                "lastModified": "2011-05-13T04:42:34Z",
                "version": "W/\"3694e05e9dff591\"",
                "location": "https://example.com/v2/Users/2819c223"
            }
        })
    }

    fn with_attrs(list: &str) -> Value {
        Projection::parse(user(), Some(list), None).expect("parse").apply(&bjensen())
    }

    fn without(list: &str) -> Value {
        Projection::parse(user(), None, Some(list)).expect("parse").apply(&bjensen())
    }

    fn minus(mut v: Value, keys: &[&str]) -> Value {
        for k in keys {
            v.as_object_mut().expect("object").remove(*k);
        }
        v
    }

    #[test]
    fn default_returns_everything_but_never() {
        let p = Projection::default_for(user());
        assert!(p.is_default());
        assert_eq!(p.apply(&bjensen()), bjensen());
        let mut with_pw = bjensen();
        with_pw["password"] = json!("secret");
        assert_eq!(p.apply(&with_pw), bjensen(), "returned: never");
        // The default plan only needs to know about the password.
        assert_eq!(p.plan.rules.len(), 1);
        for (a, e) in [(None, None), (Some(""), None), (None, Some(" ")), (Some(" , "), Some(""))] {
            assert!(Projection::parse(user(), a, e).expect("parse").is_default(), "{a:?} {e:?}");
        }
    }

    #[test]
    fn schemas_then_id_lead_the_output() {
        let out = Projection::default_for(user()).apply(&bjensen());
        let keys: Vec<&str> = out.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys[..3], ["schemas", "id", "externalId"]);
    }

    #[test]
    fn attributes_selects() {
        let cases: Vec<(&str, Value)> = vec![
            // RFC 7643 §3.1: id is returned "always", meta "default": not selected, not returned.
            ("userName", json!({"schemas": [USER_URN], "id": "2819c223", "userName": "bjensen@example.com"})),
            ("USERNAME", json!({"schemas": [USER_URN], "id": "2819c223", "userName": "bjensen@example.com"})),
            (" userName ,, ", json!({"schemas": [USER_URN], "id": "2819c223", "userName": "bjensen@example.com"})),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:userName",
                json!({"schemas": [USER_URN], "id": "2819c223", "userName": "bjensen@example.com"}),
            ),
            ("id", json!({"schemas": [USER_URN], "id": "2819c223"})),
            ("password", json!({"schemas": [USER_URN], "id": "2819c223"})),
            ("nonsense,name.nonsense,urn:example:x:y", json!({"schemas": [USER_URN], "id": "2819c223"})),
            ("employeeNumber", json!({"schemas": [USER_URN], "id": "2819c223"})),
            ("name.givenName", json!({"schemas": [USER_URN], "id": "2819c223", "name": {"givenName": "Barbara"}})),
            (
                "name.givenName,name",
                json!({"schemas": [USER_URN], "id": "2819c223", "name": bjensen()["name"].clone()}),
            ),
            (
                "emails.value",
                json!({"schemas": [USER_URN], "id": "2819c223",
                       "emails": [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]}),
            ),
            ("emails.display", json!({"schemas": [USER_URN], "id": "2819c223"})),
            (
                "meta.lastModified",
                json!({"schemas": [USER_URN], "id": "2819c223", "meta": {"lastModified": "2011-05-13T04:42:34Z"}}),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "2819c223",
                       ENTERPRISE_USER_URN: {"employeeNumber": "701984"}}),
            ),
            (
                "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value",
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "2819c223",
                       ENTERPRISE_USER_URN: {"manager": {"value": "m1"}}}),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "2819c223",
                       ENTERPRISE_USER_URN: bjensen()[ENTERPRISE_USER_URN].clone()}),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User",
                minus(bjensen(), &["externalId", ENTERPRISE_USER_URN, "meta"])
                    .tap(|v| v["schemas"] = json!([USER_URN])),
            ),
            (
                "groups.display,active",
                json!({"schemas": [USER_URN], "id": "2819c223", "active": true, "groups": [{"display": "Tour Guides"}]}),
            ),
        ];
        for (list, want) in cases {
            assert_eq!(with_attrs(list), want, "attributes={list}");
            assert!(!Projection::parse(user(), Some(list), None).expect("parse").is_default());
        }
    }

    #[test]
    fn excluded_attributes_removes() {
        let full = bjensen();
        let mut no_given = minus(full.clone(), &["emails"]);
        no_given["name"].as_object_mut().expect("object").remove("givenName");
        let cases: Vec<(&str, Value)> = vec![
            ("emails,name.givenName", no_given),
            ("EMAILS,Name.GivenName", {
                let mut v = minus(full.clone(), &["emails"]);
                v["name"].as_object_mut().expect("object").remove("givenName");
                v
            }),
            // excludedAttributes "SHALL have no effect on attributes whose schema "returned" setting is "always"".
            ("id", full.clone()),
            ("meta", minus(full.clone(), &["meta"])),
            ("meta.location", {
                let mut v = full.clone();
                v["meta"].as_object_mut().expect("object").remove("location");
                v
            }),
            ("name.formatted,name.familyName,name.givenName", minus(full.clone(), &["name"])),
            ("emails.value,emails.type", {
                let mut v = full.clone();
                v["emails"] = json!([{"primary": true}]);
                v
            }),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                minus(full.clone(), &[ENTERPRISE_USER_URN]).tap(|v| v["schemas"] = json!([USER_URN])),
            ),
            ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", {
                let mut v = full.clone();
                v[ENTERPRISE_USER_URN].as_object_mut().expect("object").remove("employeeNumber");
                v
            }),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber,\
                 urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,\
                 urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                minus(full.clone(), &[ENTERPRISE_USER_URN]).tap(|v| v["schemas"] = json!([USER_URN])),
            ),
            ("nonsense", full.clone()),
        ];
        for (list, want) in cases {
            assert_eq!(without(list), want, "excludedAttributes={list}");
        }
        assert!(Projection::parse(user(), None, Some("nonsense")).expect("parse").is_default());
    }

    #[test]
    fn both_parameters_are_rejected() {
        let e = Projection::parse(user(), Some("userName"), Some("emails")).expect_err("both");
        assert_eq!(e.scim_type(), Some(ScimType::InvalidSyntax));
        assert!(Projection::parse(user(), Some("userName"), Some("")).is_ok());
    }

    #[test]
    fn multibyte_paths_are_ignored_not_panicked_on() {
        for list in ["abcé", "urné:x", "é,userName"] {
            let p = Projection::parse(user(), Some(list), None).expect("parse");
            assert!(p.apply(&bjensen()).get("emails").is_none(), "{list}");
        }
    }

    #[test]
    fn groups_members_selection() {
        let rt = ResourceKind::Group.def();
        let g = json!({"schemas": [GROUP_URN], "id": "g1", "displayName": "G",
                       "members": [{"value": "u1", "display": "One", "type": "User"}],
                       "meta": {"resourceType": "Group"}});
        let p = Projection::parse(rt, Some("members.value"), None).expect("parse");
        assert_eq!(p.apply(&g), json!({"schemas": [GROUP_URN], "id": "g1", "members": [{"value": "u1"}]}));
        let p = Projection::parse(rt, None, Some("members")).expect("parse");
        assert_eq!(
            p.apply(&g),
            json!({"schemas": [GROUP_URN], "id": "g1", "displayName": "G", "meta": {"resourceType": "Group"}})
        );
        // `employeeNumber`-style extension paths mean nothing for groups.
        let p = Projection::parse(rt, Some(ENTERPRISE_USER_URN), None).expect("parse");
        assert_eq!(p.apply(&g), json!({"schemas": [GROUP_URN], "id": "g1"}));
    }

    #[test]
    fn non_objects_pass_through() {
        let p = Projection::parse(user(), Some("userName"), None).expect("parse");
        for v in [json!(null), json!([1, 2]), json!("x")] {
            assert_eq!(p.apply(&v), v);
        }
        // A simple value where a complex one is expected is shown as is rather than lost.
        let odd = json!({"id": "1", "name": "Babs"});
        assert_eq!(
            Projection::parse(user(), Some("name.givenName"), None).expect("parse").apply(&odd),
            json!({"schemas": [USER_URN], "id": "1", "name": "Babs"})
        );
    }

    const fn def(name: &'static str, returned: Returned, subs: &'static [AttrDef]) -> AttrDef {
        AttrDef {
            name,
            ty: if subs.is_empty() { AttrType::String } else { AttrType::Complex },
            multi_valued: false,
            description: "",
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: subs,
        }
    }

    static TEST_SCHEMA: SchemaDef = SchemaDef {
        id: "urn:example:Thing",
        name: "Thing",
        description: "",
        attributes: &[
            def("label", Returned::Default, &[]),
            def("secret", Returned::Never, &[]),
            def("audit", Returned::Request, &[]),
            def("code", Returned::Always, &[]),
            def(
                "box",
                Returned::Default,
                &[
                    def("a", Returned::Default, &[]),
                    def("hidden", Returned::Never, &[]),
                    def("asked", Returned::Request, &[]),
                    def("pinned", Returned::Always, &[]),
                ],
            ),
        ],
    };
    static TEST_RT: ResourceTypeDef = ResourceTypeDef {
        id: "Thing",
        name: "Thing",
        endpoint: "/Things",
        description: "",
        schema: &TEST_SCHEMA,
        extensions: &[],
    };

    #[test]
    fn returned_characteristics() {
        let thing = json!({"id": "t", "label": "L", "secret": "S", "audit": "A", "code": "C",
                           "box": {"a": 1, "hidden": 2, "asked": 3, "pinned": 4}});
        let cases: Vec<(Option<&str>, Option<&str>, Value)> = vec![
            (
                None,
                None,
                json!({"schemas": ["urn:example:Thing"], "id": "t", "label": "L", "code": "C", "box": {"a": 1, "pinned": 4}}),
            ),
            // An `always` sub-attribute comes with its parent even when the parent is not named.
            (
                Some("audit"),
                None,
                json!({"schemas": ["urn:example:Thing"], "id": "t", "audit": "A", "code": "C", "box": {"pinned": 4}}),
            ),
            (
                Some("secret,box.hidden"),
                None,
                json!({"schemas": ["urn:example:Thing"], "id": "t", "code": "C", "box": {"pinned": 4}}),
            ),
            (
                Some("box.a"),
                None,
                json!({"schemas": ["urn:example:Thing"], "id": "t", "code": "C", "box": {"a": 1, "pinned": 4}}),
            ),
            (
                Some("box"),
                None,
                json!({"schemas": ["urn:example:Thing"], "id": "t", "code": "C", "box": {"a": 1, "asked": 3, "pinned": 4}}),
            ),
            (
                Some("box.asked"),
                None,
                json!({"schemas": ["urn:example:Thing"], "id": "t", "code": "C", "box": {"asked": 3, "pinned": 4}}),
            ),
            (
                None,
                Some("code,label,box"),
                json!({"schemas": ["urn:example:Thing"], "id": "t", "code": "C", "box": {"pinned": 4}}),
            ),
            (
                None,
                Some("box.pinned,box.a"),
                json!({"schemas": ["urn:example:Thing"], "id": "t", "label": "L", "code": "C", "box": {"pinned": 4}}),
            ),
        ];
        for (a, e, want) in cases {
            let p = Projection::parse(&TEST_RT, a, e).expect("parse");
            assert_eq!(p.apply(&thing), want, "attributes={a:?} excludedAttributes={e:?}");
        }
    }

    /// Rough guard on the cost of the hot path; generous enough for debug builds on a busy machine.
    #[test]
    fn default_apply_is_cheap() {
        // In release builds a default `apply` costs about what `Value::clone` does (a few µs for this user).
        let p = Projection::default_for(user());
        let v = bjensen();
        let start = std::time::Instant::now();
        for _ in 0..2_000 {
            std::hint::black_box(p.apply(std::hint::black_box(&v)));
        }
        let elapsed = start.elapsed();
        assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
    }

    trait Tap {
        fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
    }
    impl Tap for Value {
        fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
            f(&mut self);
            self
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            ".{0,6}".prop_map(Value::String),
        ];
        let key = prop_oneof![
            Just("id".to_owned()),
            Just("schemas".to_owned()),
            Just("name".to_owned()),
            Just("givenName".to_owned()),
            Just("emails".to_owned()),
            Just("value".to_owned()),
            Just("meta".to_owned()),
            Just("password".to_owned()),
            Just(ENTERPRISE_USER_URN.to_owned()),
            Just("employeeNumber".to_owned()),
            "[a-zA-Z]{0,6}",
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn parse_and_apply_never_panic(
            list in prop_oneof!["[a-zA-Z:.,$ 0-9]{0,80}", "\\PC{0,40}", "(urn|abc)\\PC{0,6}"],
            pick in prop::sample::select(vec![
                "userName", "name.givenName", "emails.value", "meta.lastModified",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
            ]),
            v in arb_json(),
        ) {
            let lists = [list.clone(), format!("{pick},{list}")];
            for rt in [user(), ResourceKind::Group.def()] {
                for l in &lists {
                    for p in [Projection::parse(rt, Some(l), None), Projection::parse(rt, None, Some(l))] {
                        let p = p.expect("one parameter always parses");
                        let out = p.apply(&v);
                        if v.is_object() {
                            prop_assert!(out.get("schemas").is_some());
                            // Only users have a password attribute; other keys unknown to a schema pass through.
                            if rt.id == "User" {
                                prop_assert!(out.get("password").is_none());
                            }
                        }
                    }
                }
            }
        }
    }
}
