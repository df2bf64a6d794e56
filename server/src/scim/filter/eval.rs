//! Filter evaluation against the canonical stored form of a resource (see the `scim` module documentation).
//!
//! A [`Filter`] is first *compiled* against a resource type: every path is resolved once against the schema tables
//! (unknown attributes are a 400 `invalidFilter`, RFC 7644 §3.4.2.2), literals are prepared for the attribute's type
//! (lowercased for case-insensitive strings, parsed for dateTime), and `ne` becomes `not eq`. Matching is then a walk
//! over JSON that cannot fail.
//!
//! Semantic choices, where RFC 7644 §3.4.2.2 leaves room:
//! - a multi-valued attribute matches when any of its values matches (RFC 7644 §3.4.2.2);
//! - `emails co "x"` (a comparison on a complex attribute with a `value` sub-attribute, but no sub-attribute named)
//!   compares `emails.value`, as the RFC's own example `emails co "example.com"` requires; comparing a complex
//!   attribute without a `value` sub-attribute (`name eq "x"`) is `invalidFilter` ("a fully qualified sub-attribute
//!   MUST be specified"); `pr` on a complex attribute tests the attribute itself;
//! - `ne` is the negation of `eq`: it also matches when the attribute is absent, and on a multi-valued attribute it
//!   matches only when no value equals the literal, so `x ne v` and `not (x eq v)` always agree;
//! - `eq null` matches when the attribute is unassigned, and `ne null` when it has a value (RFC 7643 §2.5 makes null
//!   and "unassigned" the same thing); other operators with `null` are `invalidFilter`;
//! - `pr` matches a value that is not null, not an empty string and not an empty array or object;
//! - a literal of the wrong JSON type for the attribute (`userName eq 1`, `active eq "true"`) never matches and is
//!   not an error; `gt`/`ge`/`lt`/`le` on boolean or binary attributes is `invalidFilter` (RFC 7644 §3.4.2.2);
//! - ordering is lexicographic by code point on strings (after lowercasing unless `caseExact`), numeric on
//!   integer/decimal and chronological on dateTime; a dateTime literal that is not RFC 3339 is `invalidFilter`
//!   for `eq`/`ne`/`gt`/`ge`/`lt`/`le` (for `co`/`sw`/`ew` it is compared as text).

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Number, Value};

use super::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::error::ScimError;
use crate::scim::schema::{AttrDef, AttrHome, AttrType, Mutability, ResourceTypeDef, Returned, Uniqueness};

/// `schemas` is not in the schema tables (RFC 7643 §3 defines it outside any schema), but RFC 7644 §3.4.2.2 filters
/// on it (`schemas eq "urn:…:enterprise:2.0:User"`), so filters resolve it to this definition.
static SCHEMAS_ATTR: AttrDef = AttrDef {
    name: "schemas",
    ty: AttrType::Reference,
    multi_valued: true,
    description: "The schema URIs of the resource.",
    required: true,
    case_exact: false,
    mutability: Mutability::ReadOnly,
    returned: Returned::Always,
    uniqueness: Uniqueness::None,
    canonical_values: &[],
    reference_types: &["uri"],
    sub_attributes: &[],
};

/// A filter resolved against a resource type (or one complex attribute), ready to be evaluated many times.
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    root: Node,
}

/// Where a value lives, relative to the JSON the filter is evaluated against.
#[derive(Debug, Clone)]
struct Loc {
    /// The extension URN key the attribute lives under (RFC 7643 §3.3), if any.
    ext: Option<&'static str>,
    /// The attribute key; `None` means "the value itself" (an element of a multi-valued simple attribute).
    attr: Option<&'static str>,
    /// The sub-attribute key.
    sub: Option<&'static str>,
}

/// A literal prepared for the attribute's type.
#[derive(Debug, Clone)]
enum Test {
    /// `eq null`: the attribute is unassigned.
    Unassigned,
    /// A string comparison; `needle` is already lowercased when `case_exact` is false.
    Str { op: CompareOp, needle: String, case_exact: bool },
    /// A numeric comparison.
    Num { op: CompareOp, n: Number },
    /// `eq true` / `eq false`.
    Bool(bool),
    /// A chronological comparison.
    Time { op: CompareOp, t: DateTime<FixedOffset> },
    /// The literal's type cannot match the attribute's type.
    Never,
}

#[derive(Debug, Clone)]
enum Node {
    Compare {
        loc: Loc,
        test: Test,
    },
    Present(Loc),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    /// Any element of the attribute at `loc` matches `inner` (RFC 7644 §3.4.2.2, valuePath).
    ValuePath {
        loc: Loc,
        inner: Box<Node>,
    },
}

/// What paths are resolved against.
#[derive(Clone, Copy)]
enum Scope {
    Resource(&'static ResourceTypeDef),
    /// Inside `attr[ … ]`: names are sub-attributes of `attr`.
    Element(&'static AttrDef),
}

impl CompiledFilter {
    /// Resolves every path of `filter` against `rt`. Unknown attributes, sub-attributes of non-complex attributes,
    /// comparisons on complex attributes without a `value` sub-attribute, and `gt`/`ge`/`lt`/`le` on boolean or
    /// binary attributes are 400 `invalidFilter` (RFC 7644 §3.4.2.2).
    pub fn compile(filter: &Filter, rt: &'static ResourceTypeDef) -> Result<CompiledFilter, ScimError> {
        Ok(CompiledFilter { root: compile_node(filter, Scope::Resource(rt))? })
    }

    /// For PATCH value-path filters (RFC 7644 §3.5.2): compiles `filter` relative to the complex attribute `attr`,
    /// whose sub-attributes its paths name (`type eq "work"` for `emails[type eq "work"]`). For a multi-valued
    /// attribute that is not complex, the name `value` stands for the element itself.
    pub fn compile_for_element(filter: &Filter, attr: &'static AttrDef) -> Result<CompiledFilter, ScimError> {
        Ok(CompiledFilter { root: compile_node(filter, Scope::Element(attr))? })
    }

    /// Parses and compiles `input` against `rt`; a syntax error is a 400 `invalidFilter` (RFC 7644 §3.4.2.2).
    pub fn parse(input: &str, rt: &'static ResourceTypeDef) -> Result<CompiledFilter, ScimError> {
        let filter = super::parse_filter(input).map_err(|e| ScimError::invalid_filter(e.to_string()))?;
        Self::compile(&filter, rt)
    }

    /// Whether this resource (or, for [`compile_for_element`](Self::compile_for_element), this one element of the
    /// multi-valued attribute) matches.
    pub fn matches(&self, value: &Value) -> bool {
        eval(&self.root, value)
    }
}

fn bad(msg: impl Into<String>) -> ScimError {
    ScimError::invalid_filter(msg)
}

/// The definition a path names and where its values are, in `scope`.
fn resolve(path: &AttrPath, scope: Scope) -> Result<(Loc, &'static AttrDef), ScimError> {
    match scope {
        Scope::Resource(rt) => {
            if let Some(urn) = &path.urn
                && !rt.knows_schema(urn)
            {
                return Err(bad(format!(
                    "unknown schema \"{urn}\" in filter attribute \"{path}\" for resource type {}",
                    rt.name
                )));
            }
            let core_urn = path.urn.as_deref().is_none_or(|u| u.eq_ignore_ascii_case(rt.schema.id));
            if core_urn && path.sub.is_none() && path.name.eq_ignore_ascii_case("schemas") {
                return Ok((Loc { ext: None, attr: Some("schemas"), sub: None }, &SCHEMAS_ATTR));
            }
            let resolved = rt
                .resolve(path.urn.as_deref(), &path.name, None)
                .ok_or_else(|| bad(format!("unknown attribute \"{path}\" in filter for resource type {}", rt.name)))?;
            let attr = resolved.attr;
            let ext = match resolved.home {
                AttrHome::Extension(urn) => Some(urn),
                AttrHome::Common | AttrHome::Core => None,
            };
            match &path.sub {
                None => Ok((Loc { ext, attr: Some(attr.name), sub: None }, attr)),
                Some(sub) => {
                    if attr.ty != AttrType::Complex {
                        return Err(bad(format!(
                            "attribute \"{}\" is not complex and has no sub-attribute \"{sub}\" (filter \"{path}\")",
                            attr.name
                        )));
                    }
                    let sub_def = attr.sub_attr(sub).ok_or_else(|| {
                        bad(format!("unknown sub-attribute \"{sub}\" of \"{}\" in filter", attr.name))
                    })?;
                    Ok((Loc { ext, attr: Some(attr.name), sub: Some(sub_def.name) }, sub_def))
                }
            }
        }
        Scope::Element(parent) => {
            if path.urn.is_some() || path.sub.is_some() {
                return Err(bad(format!(
                    "\"{path}\" inside the value filter of \"{}\": paths there name sub-attributes of \"{}\"",
                    parent.name, parent.name
                )));
            }
            if parent.ty == AttrType::Complex {
                let sub = parent.sub_attr(&path.name).ok_or_else(|| {
                    bad(format!("unknown sub-attribute \"{}\" of \"{}\" in value filter", path.name, parent.name))
                })?;
                Ok((Loc { ext: None, attr: Some(sub.name), sub: None }, sub))
            } else if path.name.eq_ignore_ascii_case("value") {
                Ok((Loc { ext: None, attr: None, sub: None }, parent))
            } else {
                Err(bad(format!(
                    "\"{}\" is not complex; inside its value filter only \"value\" can be named, not \"{}\"",
                    parent.name, path.name
                )))
            }
        }
    }
}

fn compile_node(filter: &Filter, scope: Scope) -> Result<Node, ScimError> {
    Ok(match filter {
        Filter::Present(path) => Node::Present(resolve(path, scope)?.0),
        Filter::Compare { path, op, value } => {
            let (mut loc, mut def) = resolve(path, scope)?;
            if def.ty == AttrType::Complex {
                // RFC 7644 §3.4.2.2: "For complex attributes, a fully qualified sub-attribute MUST be specified";
                // the RFC's own `emails co "example.com"` shows that the `value` sub-attribute is implied where
                // there is one.
                match def.sub_attr("value") {
                    Some(value_def) if loc.sub.is_none() => {
                        loc.sub = Some(value_def.name);
                        def = value_def;
                    }
                    _ => {
                        return Err(bad(format!(
                            "\"{path}\" is a complex attribute: compare one of its sub-attributes, e.g. \"{}.{}\"",
                            def.name,
                            def.sub_attributes.first().map_or("value", |s| s.name)
                        )));
                    }
                }
            }
            let test = compile_test(path, def, *op, value)?;
            let node = Node::Compare { loc, test };
            // `ne` is the negation of `eq` (see the module documentation).
            if *op == CompareOp::Ne { Node::Not(Box::new(node)) } else { node }
        }
        Filter::And(l, r) => Node::And(Box::new(compile_node(l, scope)?), Box::new(compile_node(r, scope)?)),
        Filter::Or(l, r) => Node::Or(Box::new(compile_node(l, scope)?), Box::new(compile_node(r, scope)?)),
        Filter::Not(inner) => Node::Not(Box::new(compile_node(inner, scope)?)),
        Filter::ValuePath { path, filter } => {
            if let Scope::Element(parent) = scope {
                return Err(bad(format!(
                    "value filters cannot be nested (\"{path}[…]\" inside the value filter of \"{}\")",
                    parent.name
                )));
            }
            let (loc, def) = resolve(path, scope)?;
            if loc.sub.is_some() || !(def.ty == AttrType::Complex || def.multi_valued) {
                return Err(bad(format!(
                    "a value filter \"[…]\" must follow a multi-valued or complex attribute, and \"{path}\" is not one"
                )));
            }
            let inner = compile_node(filter, Scope::Element(def))?;
            Node::ValuePath { loc, inner: Box::new(inner) }
        }
    })
}

/// Prepares the literal of `path op value` for the type of `def` (the ne → not eq rewrite is done by the caller, so
/// `Ne` is compiled as `Eq` here).
fn compile_test(path: &AttrPath, def: &'static AttrDef, op: CompareOp, value: &CompValue) -> Result<Test, ScimError> {
    let op = if op == CompareOp::Ne { CompareOp::Eq } else { op };
    let ordering = matches!(op, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le);
    // RFC 7644 §3.4.2.2, Table 3: "Boolean and Binary attributes SHALL cause a failed response (HTTP status code 400)
    // with "scimType" of "invalidFilter"" for gt, ge, lt and le.
    if ordering && matches!(def.ty, AttrType::Boolean | AttrType::Binary) {
        return Err(bad(format!(
            "\"{op}\" cannot be applied to \"{path}\", a {} attribute (RFC 7644 §3.4.2.2)",
            def.ty.as_str()
        )));
    }
    Ok(match value {
        CompValue::Null if op == CompareOp::Eq => Test::Unassigned,
        CompValue::Null => {
            return Err(bad(format!(
                "null can only be compared with \"eq\" or \"ne\", not \"{op}\" (filter on \"{path}\")"
            )));
        }
        CompValue::Str(s) => match def.ty {
            AttrType::String | AttrType::Reference | AttrType::Binary => string_test(op, s, def.case_exact),
            AttrType::DateTime if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
                string_test(op, s, def.case_exact)
            }
            AttrType::DateTime => match DateTime::parse_from_rfc3339(s) {
                Ok(t) => Test::Time { op, t },
                Err(_) => {
                    return Err(bad(format!(
                        "\"{path}\" is a dateTime attribute and \"{s}\" is not an RFC 3339 date-time \
                         (e.g. \"2011-05-13T04:42:34Z\")"
                    )));
                }
            },
            AttrType::Boolean | AttrType::Integer | AttrType::Decimal | AttrType::Complex => Test::Never,
        },
        CompValue::Number(n) => match def.ty {
            AttrType::Integer | AttrType::Decimal if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
                Test::Num { op, n: n.clone() }
            }
            _ => Test::Never,
        },
        CompValue::Bool(b) => match def.ty {
            AttrType::Boolean if op == CompareOp::Eq => Test::Bool(*b),
            _ => Test::Never,
        },
    })
}

fn string_test(op: CompareOp, s: &str, case_exact: bool) -> Test {
    let needle = if case_exact { s.to_owned() } else { s.to_lowercase() };
    Test::Str { op, needle, case_exact }
}

/// Looks `key` up in `obj`: the canonical spelling first, then case-insensitively (RFC 7643 §2.1), so that element
/// filters also work on values that have not been canonicalised yet.
fn get_ci<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// The value of the attribute at `loc` (before descending into the sub-attribute).
fn attr_value<'v>(root: &'v Value, loc: &Loc) -> Option<&'v Value> {
    let base = match loc.ext {
        Some(urn) => get_ci(root.as_object()?, urn)?,
        None => root,
    };
    match loc.attr {
        Some(attr) => get_ci(base.as_object()?, attr),
        None => Some(base),
    }
}

/// Every non-null value at `loc`: array elements are flattened, and the sub-attribute is taken from each element
/// (RFC 7644 §3.4.2.2: a multi-valued attribute matches if any value matches).
fn collect<'v>(root: &'v Value, loc: &Loc, out: &mut Vec<&'v Value>) {
    let Some(v) = attr_value(root, loc) else {
        return;
    };
    let items: &[Value] = match v {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    };
    for item in items {
        let leaf = match loc.sub {
            Some(sub) => match item {
                Value::Object(obj) => get_ci(obj, sub),
                _ => None,
            },
            None => Some(item),
        };
        match leaf {
            None | Some(Value::Null) => {}
            Some(Value::Array(inner)) => out.extend(inner.iter().filter(|v| !v.is_null())),
            Some(v) => out.push(v),
        }
    }
}

/// `pr`: a value that is not null, not "" and not an empty array or object (RFC 7644 §3.4.2.2, Table 3).
fn non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(non_empty),
        Value::Object(o) => o.values().any(non_empty),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn eval(node: &Node, root: &Value) -> bool {
    match node {
        Node::And(l, r) => eval(l, root) && eval(r, root),
        Node::Or(l, r) => eval(l, root) || eval(r, root),
        Node::Not(inner) => !eval(inner, root),
        Node::Present(loc) => {
            let mut values = Vec::new();
            collect(root, loc, &mut values);
            values.into_iter().any(non_empty)
        }
        Node::Compare { loc, test } => {
            let mut values = Vec::new();
            collect(root, loc, &mut values);
            match test {
                Test::Unassigned => values.is_empty(),
                test => values.into_iter().any(|v| test_value(test, v)),
            }
        }
        Node::ValuePath { loc, inner } => match attr_value(root, loc) {
            Some(Value::Array(items)) => items.iter().any(|item| eval(inner, item)),
            Some(Value::Null) | None => false,
            Some(single) => eval(inner, single),
        },
    }
}

fn ordering_holds(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn test_value(test: &Test, v: &Value) -> bool {
    match test {
        Test::Unassigned | Test::Never => false,
        Test::Str { op, needle, case_exact } => {
            let Value::String(s) = v else { return false };
            let hay: Cow<'_, str> = if *case_exact { Cow::Borrowed(s) } else { Cow::Owned(s.to_lowercase()) };
            match op {
                CompareOp::Co => hay.contains(needle.as_str()),
                CompareOp::Sw => hay.starts_with(needle.as_str()),
                CompareOp::Ew => hay.ends_with(needle.as_str()),
                op => ordering_holds(*op, hay.as_ref().cmp(needle.as_str())),
            }
        }
        Test::Num { op, n } => match v {
            Value::Number(x) => cmp_numbers(x, n).is_some_and(|ord| ordering_holds(*op, ord)),
            _ => false,
        },
        Test::Bool(b) => v.as_bool() == Some(*b),
        Test::Time { op, t } => match v {
            Value::String(s) => DateTime::parse_from_rfc3339(s).is_ok_and(|x| ordering_holds(*op, x.cmp(t))),
            _ => false,
        },
    }
}

/// Numeric order: exact on integers, by `f64` otherwise.
fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// The value `sortBy` orders by (RFC 7644 §3.4.2.3): for a multi-valued attribute the primary value if any, else the
/// first; for a complex value with a `value` sub-attribute, that sub-attribute.
fn sort_key(v: &Value) -> Option<&Value> {
    let v = match v {
        Value::Array(items) => {
            items.iter().find(|i| i.get("primary").and_then(Value::as_bool) == Some(true)).or_else(|| items.first())?
        }
        v => v,
    };
    match v {
        Value::Null => None,
        Value::Object(obj) => get_ci(obj, "value").filter(|v| !v.is_null()),
        v => Some(v),
    }
}

/// Orders two attribute values for sorting (RFC 7644 §3.4.2.3) according to the attribute's type: strings
/// lexicographically, case-insensitively unless `caseExact`; numbers numerically; dateTimes chronologically;
/// `false` before `true`. Multi-valued attributes sort by their primary (else first) value, complex ones by their
/// `value` sub-attribute. A missing or null value sorts after every present one, so resources without the attribute
/// come last in ascending order; values of an unexpected JSON type sort after the expected ones, by JSON type.
pub fn compare_values(def: &AttrDef, a: &Value, b: &Value) -> Ordering {
    let def = if def.ty == AttrType::Complex { def.sub_attr("value").unwrap_or(def) } else { def };
    let (a, b) = match (sort_key(a), sort_key(b)) {
        (None, None) => return Ordering::Equal,
        (None, Some(_)) => return Ordering::Greater,
        (Some(_), None) => return Ordering::Less,
        (Some(a), Some(b)) => (a, b),
    };
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            if def.ty == AttrType::DateTime
                && let (Ok(tx), Ok(ty)) = (DateTime::parse_from_rfc3339(x), DateTime::parse_from_rfc3339(y))
            {
                return tx.cmp(&ty);
            }
            if def.case_exact { x.cmp(y) } else { x.to_lowercase().cmp(&y.to_lowercase()) }
        }
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y).unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (x, y) => type_rank(x).cmp(&type_rank(y)),
    }
}

/// A fixed order between JSON types, for values whose types differ.
fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Bool(_) => 0,
        Value::Number(_) => 1,
        Value::String(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}
