//! Input validation and normalization of resource bodies for POST and PUT ([RFC 7644 §3.3], [§3.5.1]) and the
//! schema checks of a resource after PATCH: everything that turns what a client sent into the canonical form
//! described in [`crate::scim`], enforcing [RFC 7643 §2] (attribute types and multi-valued rules), [§3] (`schemas`)
//! and [§7] (`required`, `mutability`).
//!
//! Two leniency levels (see [`Leniency`]) decide how the shapes real IdPs send are read:
//!
//! | input                                             | lenient (default)             | strict                  |
//! |---------------------------------------------------|-------------------------------|-------------------------|
//! | `schemas` missing                                 | accepted                      | 400 `invalidSyntax`     |
//! | `schemas` without the core URN                    | accepted                      | 400 `invalidSyntax`     |
//! | unknown URN in `schemas` (Entra's ADSCIM group)   | dropped                       | 400 `invalidValue`      |
//! | extension attributes, URN not listed in `schemas` | accepted                      | 400 `invalidSyntax`     |
//! | unknown attribute or sub-attribute                | dropped                       | 400 `invalidSyntax`     |
//! | the same attribute twice (`userName`, `USERNAME`) | the later one wins            | 400 `invalidSyntax`     |
//! | `"True"` / `"false"` for a boolean                | converted                     | 400 `invalidValue`      |
//! | number or boolean for a string                    | converted to its JSON text    | 400 `invalidValue`      |
//! | numeric string for an integer or decimal          | converted                     | 400 `invalidValue`      |
//! | single value for a multi-valued attribute         | wrapped into an array         | 400 `invalidValue`      |
//! | bare string for a complex attribute with `value`  | `{"value": …}` (e.g. manager) | 400 `invalidValue`      |
//! | binary: unpadded, URL-safe or with line breaks    | re-encoded as standard base64 | 400 `invalidValue`      |
//! | more than one `primary: true`                     | the first one stays primary   | 400 `invalidValue`      |
//!
//! In both modes, read-only attributes (`id`, `meta`, `groups`, `members[].display`, manager `displayName`, a
//! group's `logo`) are ignored ([RFC 7644 §3.3]: "SHALL be ignored"), `null` and `[]` mean unassigned
//! ([RFC 7643 §2.5]) and are removed, and `password` is taken out of the resource.
//!
//! [RFC 7644 §3.3]: https://www.rfc-editor.org/rfc/rfc7644#section-3.3
//! [§3.5.1]: https://www.rfc-editor.org/rfc/rfc7644#section-3.5.1
//! [RFC 7643 §2]: https://www.rfc-editor.org/rfc/rfc7643#section-2
//! [§3]: https://www.rfc-editor.org/rfc/rfc7643#section-3
//! [§7]: https://www.rfc-editor.org/rfc/rfc7643#section-7
//! [RFC 7643 §2.5]: https://www.rfc-editor.org/rfc/rfc7643#section-2.5

use base64::Engine as _;
use serde_json::{Map, Value};

use super::Leniency;
use super::error::{ScimError, ScimResult};
use super::schema::{
    AttrDef, AttrHome, AttrType, COMMON_ATTRIBUTES, Mutability, ResourceTypeDef, SchemaDef, split_urn,
};

/// Deepest nesting of complex values followed. The schemas nest at most one level (attribute → sub-attribute,
/// RFC 7643 §2.3.8: "A complex attribute MUST NOT contain sub-attributes that have sub-attributes"), so this only
/// guards against a future schema table that would recurse.
const MAX_DEPTH: usize = 4;

/// The result of [`normalize`]: the canonical resource, and the cleartext password taken out of it.
#[derive(Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The resource in canonical form (see [`crate::scim`]), without `id` and `meta`.
    pub resource: Value,
    /// The writeOnly `password` (RFC 7643 §4.1.1), if the body set one. Never stored in the resource.
    pub password: Option<String>,
}

// Written by hand so that a password never reaches a log line through `{:?}`.
impl std::fmt::Debug for Normalized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Normalized")
            .field("resource", &self.resource)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Turns a client-supplied resource body into the canonical form (see [`crate::scim`]), enforcing the schema of
/// `rt`: `schemas` (RFC 7643 §3), attribute names matched case-insensitively (§2.1), types (§2.3), multi-valued
/// rules (§2.4), unassigned values (§2.5) and required attributes (§7). Read-only attributes are ignored
/// (RFC 7644 §3.3) and `password` is returned apart. The result has no `id` or `meta`: the caller sets them
/// (for PUT, through [`merge_for_replace`]).
pub fn normalize(input: &Value, rt: &'static ResourceTypeDef, leniency: Leniency) -> Result<Normalized, ScimError> {
    let strict = leniency.strict;
    let Some(obj) = input.as_object() else {
        return Err(ScimError::invalid_syntax("the request body must be a JSON object (RFC 7644 §3.3)"));
    };
    let listed = read_schemas(obj, rt, strict)?;

    let mut acc = Collected::new(rt);
    for (key, value) in obj {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        // An extension's attributes sit in an object keyed by its URN (RFC 7643 §3.3).
        if let Some(ext) = rt.extension(key) {
            let members = match value {
                Value::Null => continue,
                Value::Object(m) => m,
                _ => {
                    return Err(ScimError::invalid_syntax(format!(
                        "\"{}\" must be a JSON object holding the extension's attributes (RFC 7643 §3.3)",
                        ext.id
                    )));
                }
            };
            for (name, v) in members {
                match ext.attr(name) {
                    Some(def) => acc.put(AttrHome::Extension(ext.id), def, v, leniency)?,
                    None => unknown(strict, &format!("{}:{name}", ext.id))?,
                }
            }
            continue;
        }
        // Some clients wrap core attributes the same way; the core URN names them unambiguously.
        if key.eq_ignore_ascii_case(rt.schema.id)
            && let Value::Object(members) = value
        {
            for (name, v) in members {
                match rt.schema.attr(name) {
                    Some(def) => acc.put(AttrHome::Core, def, v, leniency)?,
                    None => unknown(strict, &format!("{}:{name}", rt.schema.id))?,
                }
            }
            continue;
        }
        // A plain name, or one qualified with its schema URN (RFC 7644 §3.10), e.g.
        // `urn:ietf:params:scim:schemas:core:2.0:User:userName`. Dotted paths are not attribute names here:
        // resolving without the sub-attribute makes `name.givenName` an unknown attribute, as it should be.
        let (urn, name) = split_path_urn(key);
        match rt.resolve(urn, name, None) {
            Some(r) => acc.put(r.home, r.attr, value, leniency)?,
            None => unknown(strict, key)?,
        }
    }

    // RFC 7643 §3: "schemas" lists the URIs of the schemas "that define the attributes present"; an extension
    // used without being listed is a body that does not conform to its own declaration.
    if strict {
        for (ext, map) in &acc.extensions {
            if !map.is_empty() && !listed.iter().any(|u| u == &ext.id) {
                return Err(ScimError::invalid_syntax(format!(
                    "attributes of \"{}\" are present but the schema is not listed in \"schemas\" (RFC 7643 §3)",
                    ext.id
                )));
            }
        }
    }

    let password = acc.password.take();
    let resource = acc.into_resource(rt);
    check_required(&resource, rt)?;
    Ok(Normalized { resource, password })
}

/// For PUT ([RFC 7644 §3.5.1]): combines the stored resource with `new` (the output of [`normalize`]), returning
/// the new canonical resource.
///
/// - `id` and `meta` come from `stored` (RFC 7643 §3.1: set by the service provider); the caller then updates
///   `meta.lastModified` and `meta.version`.
/// - readOnly attributes (a group's `logo`, …) and readOnly sub-attributes (`members[].display`, manager
///   `displayName`) keep their stored values: the client cannot set them, so a replace must not clear them.
/// - immutable attributes and sub-attributes: if `stored` has a value and `new` has a different one, 400
///   `mutability` ("If one or more values are already set for the attribute, the input value(s) MUST match").
///   When `new` omits one, the stored value is kept: the RFC only speaks of input values, and clearing a value the
///   client may not change would be a change too. Elements of multi-valued attributes (`members`) are matched by
///   `value`; elements may be added or removed (RFC 7643 §4.2: "values MAY be added or removed").
///
/// [RFC 7644 §3.5.1]: https://www.rfc-editor.org/rfc/rfc7644#section-3.5.1
pub fn merge_for_replace(stored: &Value, new: Value, rt: &'static ResourceTypeDef) -> Result<Value, ScimError> {
    let Value::Object(mut out) = new else {
        return Err(ScimError::invalid_syntax("the request body must be a JSON object (RFC 7644 §3.5.1)"));
    };
    let empty = Map::new();
    let stored_obj = stored.as_object().unwrap_or(&empty);

    // Core and common attributes live at the top level.
    let top_defs = rt.schema.attributes.iter().chain(COMMON_ATTRIBUTES.iter());
    carry_over(top_defs, stored_obj, &mut out, "")?;

    for ext in rt.extensions.iter().map(|e| e.schema) {
        let stored_ext = stored_obj.get(ext.id).and_then(Value::as_object).unwrap_or(&empty);
        let mut new_ext = match out.remove(ext.id) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        carry_over(ext.attributes.iter(), stored_ext, &mut new_ext, ext.id)?;
        if !new_ext.is_empty() {
            out.insert(ext.id.to_owned(), Value::Object(new_ext));
        }
    }
    let resource = Value::Object(order_canonical(out, rt));
    check_required(&resource, rt)?;
    Ok(resource)
}

/// Validates a resource in canonical form after a PATCH ([RFC 7644 §3.5.2]: "Each operation against an attribute
/// MUST be compatible with the attribute's mutability and schema"): only known attributes, values of the right
/// type and shape (as [`normalize_value`] in strict mode checks them, including at most one `primary`),
/// `schemas` listing the core schema, required attributes present (400 `invalidValue`), immutable values
/// unchanged against `stored` (400 `mutability`), and readOnly attributes other than `meta` unchanged (400
/// `mutability`). In `members`, elements may be added or removed (RFC 7643 §4.2); an element kept (same `value`)
/// may not get a different `type` or `$ref`, but may omit them — IdPs restate memberships as bare
/// `{"value": id}`, which changes nothing.
///
/// `null` and `[]` are read as unassigned; the PATCH engine is expected to remove them. A `password` left in the
/// resource is a bug of the caller (it must be taken out and hashed) and gives a 500.
///
/// [RFC 7644 §3.5.2]: https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2
pub fn validate_after_patch(stored: &Value, patched: &Value, rt: &'static ResourceTypeDef) -> Result<(), ScimError> {
    let strict = Leniency { strict: true };
    let Some(obj) = patched.as_object() else {
        return Err(ScimError::invalid_syntax("the patched resource is not a JSON object"));
    };
    let empty = Map::new();
    let stored_obj = stored.as_object().unwrap_or(&empty);

    for (key, value) in obj {
        if key == "schemas" {
            check_schemas_value(value, rt)?;
            continue;
        }
        if let Some(ext) = rt.extension(key) {
            let members = match value {
                Value::Null => continue,
                Value::Object(m) => m,
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "\"{}\" must be a JSON object (RFC 7643 §3.3)",
                        ext.id
                    )));
                }
            };
            for (name, v) in members {
                let Some(def) = ext.attr(name) else {
                    return Err(ScimError::invalid_syntax(format!("unknown attribute \"{}:{name}\"", ext.id)));
                };
                check_patched_value(def, v, strict)?;
            }
            continue;
        }
        let Some(r) = rt.resolve(None, key, None) else {
            return Err(ScimError::invalid_syntax(format!("unknown attribute \"{key}\"")));
        };
        if r.attr.mutability == Mutability::WriteOnly {
            return Err(ScimError::Internal(format!(
                "the writeOnly attribute \"{}\" must not be stored in the resource",
                r.attr.name
            )));
        }
        if r.attr.mutability != Mutability::ReadOnly {
            check_patched_value(r.attr, value, strict)?;
        }
    }
    check_required(patched, rt)?;

    let top_defs = rt.schema.attributes.iter().chain(COMMON_ATTRIBUTES.iter());
    check_unchanged(top_defs, stored_obj, obj, "")?;
    for ext in rt.extensions.iter().map(|e| e.schema) {
        let s = stored_obj.get(ext.id).and_then(Value::as_object).unwrap_or(&empty);
        let p = obj.get(ext.id).and_then(Value::as_object).unwrap_or(&empty);
        check_unchanged(ext.attributes.iter(), s, p, ext.id)?;
    }
    Ok(())
}

/// Canonicalizes one attribute value against its definition (RFC 7643 §2.3 types, §2.4 multi-valued rules, §2.5
/// unassigned values), recursively for complex values; used by [`normalize`] and by the PATCH engine for operation
/// values.
///
/// Returns `Ok(None)` when the value is unassigned (`null`, `[]`, or a complex value or array whose members all
/// ended up unassigned): the caller removes the attribute. Read-only sub-attributes are dropped silently
/// (RFC 7644 §3.3); a read-only or writeOnly `def` itself is the caller's business (the PATCH engine answers
/// `mutability`, [`normalize`] ignores or extracts it).
pub fn normalize_value(def: &'static AttrDef, value: &Value, leniency: Leniency) -> Result<Option<Value>, ScimError> {
    value_at(def, value, leniency.strict, def.name, 0)
}

/// Rewrites `schemas` of a canonical resource to the core URN plus the URN of each extension that has a value
/// (RFC 7643 §3), e.g. after a PATCH added or removed the last extension attribute.
pub fn refresh_schemas(resource: &mut Value, rt: &'static ResourceTypeDef) {
    if let Some(obj) = resource.as_object_mut() {
        let schemas = schemas_for(obj, rt);
        obj.insert("schemas".to_owned(), schemas);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// normalize: collecting attributes

/// Attributes gathered from the body, per container, before they are put in canonical order.
struct Collected {
    core: Map<String, Value>,
    extensions: Vec<(&'static SchemaDef, Map<String, Value>)>,
    /// (container, canonical name) of every attribute seen, to detect the same attribute given twice.
    seen: Vec<(Option<&'static str>, &'static str)>,
    password: Option<String>,
}

impl Collected {
    fn new(rt: &'static ResourceTypeDef) -> Self {
        Collected {
            core: Map::new(),
            extensions: rt.extensions.iter().map(|e| (e.schema, Map::new())).collect(),
            seen: Vec::new(),
            password: None,
        }
    }

    /// Normalizes one attribute value and stores it under its canonical name.
    fn put(&mut self, home: AttrHome, def: &'static AttrDef, value: &Value, leniency: Leniency) -> ScimResult<()> {
        let strict = leniency.strict;
        // RFC 7644 §3.3: "readOnly ... SHALL be ignored" — Entra sends `meta` and Okta `groups` on create.
        if def.mutability == Mutability::ReadOnly {
            return Ok(());
        }
        let container = match home {
            AttrHome::Extension(urn) => Some(urn),
            AttrHome::Core | AttrHome::Common => None,
        };
        let path = match container {
            Some(urn) => format!("{urn}:{}", def.name),
            None => def.name.to_owned(),
        };
        if self.seen.contains(&(container, def.name)) {
            // JSON objects should not repeat names (RFC 8259 §4); case-insensitive names make it possible anyway.
            if strict {
                return Err(ScimError::invalid_syntax(format!(
                    "attribute \"{path}\" is given more than once (attribute names are case-insensitive, RFC 7643 §2.1)"
                )));
            }
        } else {
            self.seen.push((container, def.name));
        }
        let normalized = value_at(def, value, strict, &path, 0)?;

        // RFC 7643 §4.1.1 / scim module docs: the cleartext password never becomes part of the resource.
        if def.mutability == Mutability::WriteOnly && container.is_none() && def.name == "password" {
            self.password = match normalized {
                Some(Value::String(s)) => Some(s),
                _ => None,
            };
            return Ok(());
        }
        let target = match container {
            None => &mut self.core,
            Some(urn) => match self.extensions.iter_mut().find(|(s, _)| s.id == urn) {
                Some((_, m)) => m,
                None => return Ok(()),
            },
        };
        match normalized {
            Some(v) => {
                target.insert(def.name.to_owned(), v);
            }
            // A later null unassigns an earlier value (lenient "last one wins").
            None => {
                target.remove(def.name);
            }
        }
        Ok(())
    }

    fn into_resource(self, rt: &'static ResourceTypeDef) -> Value {
        let mut out = self.core;
        for (ext, map) in self.extensions {
            if !map.is_empty() {
                out.insert(ext.id.to_owned(), Value::Object(order_attrs(map, ext.attributes)));
            }
        }
        Value::Object(order_canonical(out, rt))
    }
}

/// [`split_urn`], minus its panic: it slices the first four bytes, which are not always on a character boundary
/// (`"abcé…"`). Such a key cannot start with `urn:` anyway.
fn split_path_urn(path: &str) -> (Option<&str>, &str) {
    if path.len() > 4 && !path.is_char_boundary(4) {
        return (None, path);
    }
    split_urn(path)
}

/// An attribute the schema does not define: dropped when lenient, 400 `invalidSyntax` when strict (RFC 7644 §3.12:
/// "The request body message structure was invalid or did not conform to the request schema"). RFC 7644 does not
/// say what a service provider does with unknown attributes; IdPs send custom ones routinely, hence lenient drops.
fn unknown(strict: bool, name: &str) -> ScimResult<()> {
    if strict {
        Err(ScimError::invalid_syntax(format!(
            "unknown attribute \"{name}\": it is not defined by the resource's schemas"
        )))
    } else {
        Ok(())
    }
}

/// Reads `schemas` of a body, returning the extension URNs it lists (as the schema spells them).
fn read_schemas(obj: &Map<String, Value>, rt: &'static ResourceTypeDef, strict: bool) -> ScimResult<Vec<&'static str>> {
    let mut listed = Vec::new();
    let Some((_, value)) = obj.iter().find(|(k, _)| k.eq_ignore_ascii_case("schemas")) else {
        // RFC 7643 §3: "schemas ... REQUIRED". Lenient mode tolerates its absence: the endpoint already says
        // which resource type the body is.
        if strict {
            return Err(ScimError::invalid_syntax(format!(
                "\"schemas\" is required and must include \"{}\" (RFC 7643 §3)",
                rt.schema.id
            )));
        }
        return Ok(listed);
    };
    let items: Vec<&Value> = match value {
        Value::Array(a) => a.iter().collect(),
        Value::String(_) if !strict => vec![value],
        Value::Null if !strict => Vec::new(),
        _ => {
            return Err(ScimError::invalid_syntax("\"schemas\" must be an array of schema URIs (RFC 7643 §3)"));
        }
    };
    let mut has_core = false;
    for item in items {
        let Some(urn) = item.as_str() else {
            if strict {
                return Err(ScimError::invalid_syntax("\"schemas\" must be an array of strings (RFC 7643 §3)"));
            }
            continue;
        };
        if urn.eq_ignore_ascii_case(rt.schema.id) {
            has_core = true;
        } else if let Some(ext) = rt.extension(urn) {
            if !listed.contains(&ext.id) {
                listed.push(ext.id);
            }
        } else if strict {
            // Table 9: invalidValue covers "the value specified was not compatible"; the structure is fine.
            return Err(ScimError::invalid_value(format!(
                "\"schemas\" lists \"{urn}\", which is not a schema of the {} resource type",
                rt.name
            )));
        }
        // Lenient: Entra lists `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group` on
        // groups; unknown URNs are dropped and `schemas` is recomputed from the attributes present.
    }
    if strict && !has_core {
        return Err(ScimError::invalid_syntax(format!("\"schemas\" must include \"{}\" (RFC 7643 §3)", rt.schema.id)));
    }
    Ok(listed)
}

/// Checks `schemas` of a canonical resource: strings, known URNs, the core URN present.
fn check_schemas_value(value: &Value, rt: &'static ResourceTypeDef) -> ScimResult<()> {
    let items = value
        .as_array()
        .ok_or_else(|| ScimError::invalid_syntax("\"schemas\" must be an array of schema URIs (RFC 7643 §3)"))?;
    let mut has_core = false;
    for item in items {
        let urn = item.as_str().ok_or_else(|| ScimError::invalid_syntax("\"schemas\" must be an array of strings"))?;
        if urn.eq_ignore_ascii_case(rt.schema.id) {
            has_core = true;
        } else if rt.extension(urn).is_none() {
            return Err(ScimError::invalid_value(format!(
                "\"schemas\" lists \"{urn}\", which is not a schema of the {} resource type",
                rt.name
            )));
        }
    }
    if has_core {
        Ok(())
    } else {
        Err(ScimError::invalid_syntax(format!("\"schemas\" must include \"{}\" (RFC 7643 §3)", rt.schema.id)))
    }
}

/// `schemas` for a canonical resource: the core URN, then each extension with a value (RFC 7643 §3).
fn schemas_for(obj: &Map<String, Value>, rt: &'static ResourceTypeDef) -> Value {
    let mut list = vec![Value::String(rt.schema.id.to_owned())];
    for ext in rt.extensions.iter().map(|e| e.schema) {
        if obj.get(ext.id).and_then(Value::as_object).is_some_and(|m| !m.is_empty()) {
            list.push(Value::String(ext.id.to_owned()));
        }
    }
    Value::Array(list)
}

/// Puts a resource's keys in a stable order — `schemas`, `id`, common and core attributes in schema order,
/// extensions, `meta` last — so that equal resources serialize identically (ETags, snapshots). `schemas` is
/// recomputed.
fn order_canonical(mut map: Map<String, Value>, rt: &'static ResourceTypeDef) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len() + 1);
    out.insert("schemas".to_owned(), schemas_for(&map, rt));
    map.remove("schemas");
    let meta = map.remove("meta");
    for def in COMMON_ATTRIBUTES.iter().chain(rt.schema.attributes.iter()) {
        if let Some(v) = map.remove(def.name) {
            out.insert(def.name.to_owned(), v);
        }
    }
    for ext in rt.extensions.iter().map(|e| e.schema) {
        if let Some(v) = map.remove(ext.id) {
            out.insert(ext.id.to_owned(), v);
        }
    }
    // Nothing else should be left; keep it rather than lose data silently.
    out.extend(map);
    if let Some(m) = meta {
        out.insert("meta".to_owned(), m);
    }
    out
}

/// Orders the members of a complex value (or extension object) as the schema lists them.
fn order_attrs(mut map: Map<String, Value>, defs: &'static [AttrDef]) -> Map<String, Value> {
    let mut out = Map::with_capacity(map.len());
    for def in defs {
        if let Some(v) = map.remove(def.name) {
            out.insert(def.name.to_owned(), v);
        }
    }
    out.extend(map);
    out
}

/// RFC 7643 §7 "required": the attribute must have a value. An empty or blank string is no value for a required
/// string (the identifying `userName` / `displayName` would be meaningless), so it is rejected too. Errors are
/// 400 `invalidValue` (RFC 7644 §3.12, Table 9: "A required value was missing").
fn check_required(resource: &Value, rt: &'static ResourceTypeDef) -> ScimResult<()> {
    let required_in = |container: Option<&Value>, defs: &'static [AttrDef], prefix: &str| {
        for def in defs.iter().filter(|d| d.required && d.mutability != Mutability::ReadOnly) {
            // The writeOnly password is never in the canonical form; it cannot be checked here.
            if def.mutability == Mutability::WriteOnly {
                continue;
            }
            let ok = match container.and_then(|c| c.get(def.name)) {
                None | Some(Value::Null) => false,
                Some(Value::String(s)) => !s.trim().is_empty(),
                Some(Value::Array(a)) => !a.is_empty(),
                Some(_) => true,
            };
            if !ok {
                return Err(ScimError::invalid_value(format!(
                    "attribute \"{prefix}{}\" is required (RFC 7643 §7)",
                    def.name
                )));
            }
        }
        Ok(())
    };
    required_in(Some(resource), rt.schema.attributes, "")?;
    for ext in rt.extensions {
        let container = resource.get(ext.schema.id);
        if container.is_none() {
            if ext.required {
                return Err(ScimError::invalid_value(format!(
                    "the schema extension \"{}\" is required for {} resources (RFC 7643 §6)",
                    ext.schema.id, rt.name
                )));
            }
            // The required attributes of an optional extension apply only when it is used.
            continue;
        }
        required_in(container, ext.schema.attributes, &format!("{}:", ext.schema.id))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// values

/// Normalizes a value of attribute `def` (single- or multi-valued); `path` names it in error messages.
fn value_at(def: &'static AttrDef, value: &Value, strict: bool, path: &str, depth: usize) -> ScimResult<Option<Value>> {
    if depth > MAX_DEPTH {
        return Err(ScimError::invalid_value(format!("\"{path}\" is nested too deeply")));
    }
    if value.is_null() {
        return Ok(None);
    }
    if !def.multi_valued {
        if value.is_array() {
            return Err(ScimError::invalid_value(format!(
                "\"{path}\" is single-valued: an array is not allowed (RFC 7643 §2.3)"
            )));
        }
        return single_value(def, value, strict, path, depth);
    }

    let one;
    let items: &[Value] = match value {
        Value::Array(a) => a,
        // Lenient: `"emails": {"value": …}` means a one-element list.
        _ if !strict => {
            one = [value.clone()];
            &one
        }
        _ => {
            return Err(ScimError::invalid_value(format!(
                "\"{path}\" is multi-valued: its value must be a JSON array (RFC 7643 §2.4)"
            )));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if item.is_array() {
            return Err(ScimError::invalid_value(format!(
                "\"{path}\": an element of a multi-valued attribute cannot be an array (RFC 7643 §2.4)"
            )));
        }
        // RFC 7643 §2.5: nulls, and complex elements that end up empty, are unassigned: dropped.
        if let Some(v) = single_value(def, item, strict, path, depth)? {
            out.push(v);
        }
    }
    if is_reference_list(def) {
        out = reference_list(out, path)?;
    }
    one_primary(def, &mut out, strict, path)?;
    Ok(if out.is_empty() { None } else { Some(Value::Array(out)) })
}

/// Whether `def` is a list of references to resources (a group's `members`): elements are identified by `value`,
/// the id of the referenced resource.
fn is_reference_list(def: &AttrDef) -> bool {
    def.multi_valued && def.ty == AttrType::Complex && def.sub_attr("$ref").is_some() && def.sub_attr("value").is_some()
}

/// RFC 7643 §4.2: a member's "value" contains the "id" of a SCIM resource, so an element without one designates
/// nothing (400 `invalidValue`). Listing the same resource twice means one membership: duplicates by `value` are
/// dropped, the first occurrence kept.
fn reference_list(items: Vec<Value>, path: &str) -> ScimResult<Vec<Value>> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        let Some(id) = item.get("value").and_then(Value::as_str) else {
            return Err(ScimError::invalid_value(format!(
                "each element of \"{path}\" needs a \"value\" holding the id of a resource (RFC 7643 §4.2)"
            )));
        };
        if out.iter().any(|o| o.get("value").and_then(Value::as_str) == Some(id)) {
            continue;
        }
        out.push(item);
    }
    Ok(out)
}

/// RFC 7643 §2.4: "The primary attribute value "true" MUST appear no more than once". Strict: 400 `invalidValue`.
/// Lenient: the first `primary: true` stays, the others become `false` (as RFC 7644 §3.5.2 has the server do for
/// PATCH).
fn one_primary(def: &AttrDef, items: &mut [Value], strict: bool, path: &str) -> ScimResult<()> {
    if def.sub_attr("primary").is_none() {
        return Ok(());
    }
    let mut seen = false;
    for item in items.iter_mut() {
        let Some(obj) = item.as_object_mut() else {
            continue;
        };
        if obj.get("primary") != Some(&Value::Bool(true)) {
            continue;
        }
        if !seen {
            seen = true;
            continue;
        }
        if strict {
            return Err(ScimError::invalid_value(format!(
                "\"{path}\": \"primary\": true may appear no more than once (RFC 7643 §2.4)"
            )));
        }
        obj.insert("primary".to_owned(), Value::Bool(false));
    }
    Ok(())
}

/// Normalizes one (non-array) value of `def` by type (RFC 7643 §2.3).
fn single_value(
    def: &'static AttrDef,
    value: &Value,
    strict: bool,
    path: &str,
    depth: usize,
) -> ScimResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    let wrong = |expected: &str| {
        ScimError::invalid_value(format!("\"{path}\" must be {expected} (RFC 7643 §2.3), got {}", json_kind(value)))
    };
    let v = match def.ty {
        // RFC 7643 §2.3.1; lenient: numbers and booleans (employeeNumber as 701984) become their JSON text.
        AttrType::String => match value {
            Value::String(_) => value.clone(),
            Value::Number(_) | Value::Bool(_) if !strict => Value::String(value.to_string()),
            _ => return Err(wrong("a string")),
        },
        // RFC 7643 §2.3.2: JSON true/false. Entra sends "True"/"False" strings.
        AttrType::Boolean => match value {
            Value::Bool(_) => value.clone(),
            Value::String(s) if !strict && s.eq_ignore_ascii_case("true") => Value::Bool(true),
            Value::String(s) if !strict && s.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => return Err(wrong("a boolean (true or false)")),
        },
        // RFC 7643 §2.3.4: "A decimal number with no fractional digits".
        AttrType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => value.clone(),
            Value::String(s) if !strict => match s.trim().parse::<i64>() {
                Ok(i) => Value::from(i),
                Err(_) => return Err(wrong("an integer")),
            },
            _ => return Err(wrong("an integer")),
        },
        // RFC 7643 §2.3.3: a real number.
        AttrType::Decimal => match value {
            Value::Number(_) => value.clone(),
            Value::String(s) if !strict => match s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Some(n) => Value::Number(n),
                None => return Err(wrong("a decimal number")),
            },
            _ => return Err(wrong("a decimal number")),
        },
        // RFC 7643 §2.3.5: an xsd:dateTime with a time zone, i.e. an RFC 3339 timestamp such as
        // "2008-01-23T04:56:22Z". Kept as written.
        AttrType::DateTime => match value {
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => value.clone(),
            _ => return Err(wrong("a dateTime such as \"2008-01-23T04:56:22Z\"")),
        },
        // RFC 7643 §2.3.7: a URI, which may be relative; not resolved here.
        AttrType::Reference => match value {
            Value::String(_) => value.clone(),
            _ => return Err(wrong("a reference (a URI string)")),
        },
        // RFC 7643 §2.3.6: base64 per RFC 4648 §4.
        AttrType::Binary => match value {
            Value::String(s) => Value::String(binary(s, strict).ok_or_else(|| wrong("base64 (RFC 4648 §4)"))?),
            _ => return Err(wrong("base64 (RFC 4648 §4)")),
        },
        AttrType::Complex => return complex_value(def, value, strict, path, depth),
    };
    Ok(Some(v))
}

/// Checks a base64 value. Strict: standard alphabet with padding, as RFC 4648 §4 defines it. Lenient: also
/// unpadded, URL-safe, and with whitespace (PEM line breaks), re-encoded in the standard form so the stored value
/// is canonical.
fn binary(s: &str, strict: bool) -> Option<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    if STANDARD.decode(s).is_ok() {
        return Some(s.to_owned());
    }
    if strict {
        return None;
    }
    let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(&compact).ok())
        .map(|bytes| STANDARD.encode(bytes))
}

/// Normalizes a complex value (RFC 7643 §2.3.8): a JSON object of sub-attributes, matched case-insensitively.
fn complex_value(
    def: &'static AttrDef,
    value: &Value,
    strict: bool,
    path: &str,
    depth: usize,
) -> ScimResult<Option<Value>> {
    let obj = match value {
        Value::Object(m) => m,
        // Lenient: a bare value for an attribute with a `value` sub-attribute is that `value` — Entra's
        // enterprise `manager` as an id string, `"emails": ["a@example.com"]`.
        Value::String(_) | Value::Number(_) if !strict => match def.sub_attr("value") {
            Some(sub) if sub.mutability != Mutability::ReadOnly => {
                let sub_path = format!("{path}.{}", sub.name);
                return Ok(value_at(sub, value, strict, &sub_path, depth + 1)?
                    .map(|v| Value::Object(Map::from_iter([(sub.name.to_owned(), v)]))));
            }
            _ => return Err(not_complex(path, value)),
        },
        _ => return Err(not_complex(path, value)),
    };
    let closed_type = def.sub_attr("$ref").is_some();
    let mut out = Map::new();
    let mut seen: Vec<&'static str> = Vec::new();
    for (key, v) in obj {
        let Some(sub) = def.sub_attr(key) else {
            unknown(strict, &format!("{path}.{key}"))?;
            continue;
        };
        // RFC 7644 §3.3: readOnly values in input are ignored (`members[].display`, manager `displayName`).
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        if seen.contains(&sub.name) {
            if strict {
                return Err(ScimError::invalid_syntax(format!(
                    "sub-attribute \"{path}.{}\" is given more than once",
                    sub.name
                )));
            }
        } else {
            seen.push(sub.name);
        }
        let sub_path = format!("{path}.{}", sub.name);
        match value_at(sub, v, strict, &sub_path, depth + 1)? {
            Some(mut x) => {
                // The `type` of a reference (RFC 7643 §4.2 members: "User" or "Group") names a resource type, so
                // its canonical values are a closed set, unlike labels such as emails' "work", whose canonical values
                // RFC 7643 §7 calls "suggested" ("canonicalValues").
                if closed_type && sub.name == "type" && !sub.canonical_values.is_empty() {
                    x = closed_value(sub, x, &sub_path)?;
                }
                out.insert(sub.name.to_owned(), x);
            }
            None => {
                out.remove(sub.name);
            }
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    Ok(Some(Value::Object(order_attrs(out, def.sub_attributes))))
}

fn not_complex(path: &str, value: &Value) -> ScimError {
    ScimError::invalid_value(format!(
        "\"{path}\" is complex: its value must be a JSON object (RFC 7643 §2.3.8), got {}",
        json_kind(value)
    ))
}

/// Maps a value onto one of `def`'s canonical values, case-insensitively, spelling it canonically.
fn closed_value(def: &'static AttrDef, value: Value, path: &str) -> ScimResult<Value> {
    let found = value.as_str().and_then(|s| def.canonical_values.iter().find(|c| c.eq_ignore_ascii_case(s)));
    match found {
        Some(c) => Ok(Value::String((*c).to_owned())),
        None => Err(ScimError::invalid_value(format!("\"{path}\" must be one of {:?}", def.canonical_values))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------------------------
// mutability across versions

/// For PUT: in one container (top level or an extension object), keeps readOnly values from `stored`, checks
/// immutable ones, and does the same for the sub-attributes of complex attributes.
fn carry_over<'a>(
    defs: impl Iterator<Item = &'a AttrDef>,
    stored: &Map<String, Value>,
    out: &mut Map<String, Value>,
    prefix: &str,
) -> ScimResult<()> {
    for def in defs {
        let old = stored.get(def.name).filter(|v| !is_unassigned(v));
        match def.mutability {
            Mutability::ReadOnly => match old {
                Some(v) => {
                    out.insert(def.name.to_owned(), v.clone());
                }
                None => {
                    out.remove(def.name);
                }
            },
            Mutability::Immutable => match (old, out.get(def.name)) {
                (Some(o), Some(n)) if !same(def, o, n) => {
                    return Err(immutable_changed(&attr_path(prefix, def.name)));
                }
                (Some(o), None) => {
                    out.insert(def.name.to_owned(), o.clone());
                }
                _ => {}
            },
            Mutability::ReadWrite | Mutability::WriteOnly => {
                let has_fixed_subs = def
                    .sub_attributes
                    .iter()
                    .any(|s| matches!(s.mutability, Mutability::ReadOnly | Mutability::Immutable));
                if !has_fixed_subs {
                    continue;
                }
                let (Some(o), Some(n)) = (old, out.get_mut(def.name)) else {
                    continue;
                };
                let path = attr_path(prefix, def.name);
                match (o, n) {
                    (Value::Array(olds), Value::Array(news)) => {
                        for n in news.iter_mut() {
                            let id = n.get("value").cloned();
                            let matched = id.as_ref().and_then(|id| olds.iter().find(|o| o.get("value") == Some(id)));
                            if let (Some(o), Some(n)) = (matched.and_then(Value::as_object), n.as_object_mut()) {
                                carry_over_subs(def, o, n, &path, true)?;
                            }
                        }
                    }
                    (Value::Object(o), Value::Object(n)) => {
                        // A readOnly sub-attribute describes the rest of the value (manager `displayName` is the
                        // manager's name): keep it only while the value designates the same thing.
                        let same_target = def.sub_attr("value").is_none() || o.get("value") == n.get("value");
                        carry_over_subs(def, o, n, &path, same_target)?;
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}

/// Sub-attribute part of [`carry_over`] for one complex value.
fn carry_over_subs(
    def: &AttrDef,
    old: &Map<String, Value>,
    new: &mut Map<String, Value>,
    path: &str,
    keep_read_only: bool,
) -> ScimResult<()> {
    for sub in def.sub_attributes {
        let o = old.get(sub.name).filter(|v| !is_unassigned(v));
        match sub.mutability {
            Mutability::ReadOnly if keep_read_only => {
                if let Some(o) = o {
                    new.insert(sub.name.to_owned(), o.clone());
                }
            }
            Mutability::Immutable => match (o, new.get(sub.name)) {
                (Some(o), Some(n)) if !same(sub, o, n) => {
                    return Err(immutable_changed(&format!("{path}.{}", sub.name)));
                }
                (Some(o), None) => {
                    new.insert(sub.name.to_owned(), o.clone());
                }
                _ => {}
            },
            _ => {}
        }
    }
    Ok(())
}

/// For PATCH: immutable values of `stored` must still be there unchanged, readOnly ones (but `meta`, which the
/// server maintains) must not change.
fn check_unchanged<'a>(
    defs: impl Iterator<Item = &'a AttrDef>,
    stored: &Map<String, Value>,
    patched: &Map<String, Value>,
    prefix: &str,
) -> ScimResult<()> {
    for def in defs {
        let old = stored.get(def.name).filter(|v| !is_unassigned(v));
        let new = patched.get(def.name).filter(|v| !is_unassigned(v));
        match def.mutability {
            Mutability::ReadOnly if def.name == "meta" => {}
            Mutability::ReadOnly => {
                let unchanged = match (old, new) {
                    (None, None) => true,
                    (Some(o), Some(n)) => o == n,
                    _ => false,
                };
                if !unchanged {
                    return Err(ScimError::mutability(format!(
                        "attribute \"{}\" is readOnly (RFC 7643 §7)",
                        attr_path(prefix, def.name)
                    )));
                }
            }
            Mutability::Immutable => {
                if let Some(o) = old
                    && !new.is_some_and(|n| same(def, o, n))
                {
                    return Err(immutable_changed(&attr_path(prefix, def.name)));
                }
            }
            Mutability::ReadWrite | Mutability::WriteOnly => {
                let immutable_subs: Vec<&AttrDef> =
                    def.sub_attributes.iter().filter(|s| s.mutability == Mutability::Immutable).collect();
                if immutable_subs.is_empty() {
                    continue;
                }
                let (Some(o), Some(n)) = (old, new) else {
                    continue;
                };
                let pairs: Vec<(&Value, &Value)> = match (o, n) {
                    // Elements are matched by `value`; added and removed elements are fine (RFC 7643 §4.2).
                    (Value::Array(olds), Value::Array(news)) => news
                        .iter()
                        .filter_map(|n| {
                            let id = n.get("value")?;
                            olds.iter().find(|o| o.get("value") == Some(id)).map(|o| (o, n))
                        })
                        .collect(),
                    (Value::Object(_), Value::Object(_)) => vec![(o, n)],
                    _ => Vec::new(),
                };
                for (o, n) in pairs {
                    for sub in &immutable_subs {
                        // Only a conflicting value is a change: a PATCH that replaces `members` with bare
                        // `{"value": id}` elements (as IdPs send them) restates the membership, it does not
                        // rewrite its `type`, which the service fills in again from the referenced resource.
                        let ov = o.get(sub.name).filter(|v| !is_unassigned(v));
                        let nv = n.get(sub.name).filter(|v| !is_unassigned(v));
                        if let (Some(ov), Some(nv)) = (ov, nv)
                            && !same(sub, ov, nv)
                        {
                            let path = format!("{}.{}", attr_path(prefix, def.name), sub.name);
                            return Err(immutable_changed(&path));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// The path of attribute `name` in container `prefix` (empty for the top level, else an extension URN).
fn attr_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}:{name}") }
}

fn immutable_changed(path: &str) -> ScimError {
    ScimError::mutability(format!(
        "attribute \"{path}\" is immutable: once set, its value cannot change (RFC 7644 §3.5.1, RFC 7643 §7)"
    ))
}

fn is_unassigned(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Whether two values of `def` are the same, comparing strings as `caseExact` says (RFC 7643 §2.3.1) and
/// multi-valued attributes as unordered lists.
fn same(def: &AttrDef, a: &Value, b: &Value) -> bool {
    same_at(def, a, b, 0)
}

fn same_at(def: &AttrDef, a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return a == b;
    }
    match (a, b) {
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len()
                && xs.iter().all(|x| ys.iter().any(|y| same_one(def, x, y, depth)))
                && ys.iter().all(|y| xs.iter().any(|x| same_one(def, x, y, depth)))
        }
        _ => same_one(def, a, b, depth),
    }
}

fn same_one(def: &AttrDef, a: &Value, b: &Value, depth: usize) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !def.case_exact => x == y || x.to_lowercase() == y.to_lowercase(),
        (Value::Object(x), Value::Object(y)) if def.ty == AttrType::Complex => {
            let assigned = |m: &Map<String, Value>| m.values().filter(|v| !is_unassigned(v)).count();
            assigned(x) == assigned(y)
                && x.iter().filter(|(_, v)| !is_unassigned(v)).all(|(k, xv)| match (def.sub_attr(k), y.get(k)) {
                    (Some(sub), Some(yv)) => same_at(sub, xv, yv, depth + 1),
                    (None, Some(yv)) => xv == yv,
                    _ => false,
                })
        }
        _ => a == b,
    }
}

/// Strict type and shape check of one stored attribute value after a PATCH.
fn check_patched_value(def: &'static AttrDef, value: &Value, strict: Leniency) -> ScimResult<()> {
    if is_unassigned(value) {
        return Ok(());
    }
    normalize_value(def, value, strict).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::error::ScimType;
    use crate::scim::schema::{ENTERPRISE_USER_URN, GROUP_URN, ResourceKind, Returned, USER_URN, Uniqueness};
    use proptest::prelude::*;
    use serde_json::json;

    const LENIENT: Leniency = Leniency { strict: false };
    const STRICT: Leniency = Leniency { strict: true };

    fn user() -> &'static ResourceTypeDef {
        ResourceKind::User.def()
    }
    fn group() -> &'static ResourceTypeDef {
        ResourceKind::Group.def()
    }

    fn scim_type(r: Result<impl std::fmt::Debug, ScimError>) -> Option<ScimType> {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.scim_type(),
        }
    }

    fn ok(input: Value, rt: &'static ResourceTypeDef, l: Leniency) -> Normalized {
        match normalize(&input, rt, l) {
            Ok(n) => n,
            Err(e) => panic!("normalize({input}) with {l:?} failed: {e}"),
        }
    }

    /// RFC 7643 §8.2, "Full User Representation" (the certificate shortened to a valid base64 prefix).
    fn rfc7643_full_user() -> Value {
        json!({
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
          "id": "2819c223-7f76-453a-919d-413861904646",
          "externalId": "701984",
          "userName": "bjensen@example.com",
          "name": {
            "formatted": "Ms. Barbara J Jensen, III",
            "familyName": "Jensen",
            "givenName": "Barbara",
            "middleName": "Jane",
            "honorificPrefix": "Ms.",
            "honorificSuffix": "III"
          },
          "displayName": "Babs Jensen",
          "nickName": "Babs",
          "profileUrl": "https://login.example.com/bjensen",
          "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
          ],
          "addresses": [
            {
              "type": "work",
              "streetAddress": "100 Universal City Plaza",
              "locality": "Hollywood",
              "region": "CA",
              "postalCode": "91608",
              "country": "USA",
              "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
              "primary": true
            },
            {
              "type": "home",
              "streetAddress": "456 Hollywood Blvd",
              "locality": "Hollywood",
              "region": "CA",
              "postalCode": "91608",
              "country": "USA",
              "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"
            }
          ],
          "phoneNumbers": [
            {"value": "555-555-5555", "type": "work"},
            {"value": "555-555-4444", "type": "mobile"}
          ],
          "ims": [{"value": "someaimhandle", "type": "aim"}],
          "photos": [
            {"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"},
            {"value": "https://photos.example.com/profilephoto/72930000000Ccne/T", "type": "thumbnail"}
          ],
          "userType": "Employee",
          "title": "Tour Guide",
          "preferredLanguage": "en-US",
          "locale": "en-US",
          "timezone": "America/Los_Angeles",
          "active": true,
          "password": "t1meMa$heen",
          "groups": [
            {
              "value": "e9e30dba-f08f-4109-8486-d5c6a331660a",
              "$ref": "https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a",
              "display": "Tour Guides"
            },
            {
              "value": "fc348aa8-3835-40eb-a20b-c726e15c55b5",
              "$ref": "https://example.com/v2/Groups/fc348aa8-3835-40eb-a20b-c726e15c55b5",
              "display": "Employees"
            }
          ],
          "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
          "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"a330bc54f0671c9\"",
            "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"
          }
        })
    }

    fn entra_user() -> Value {
        json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1","active":true,"emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],"meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},"roles":[]})
    }

    fn entra_group() -> Value {
        json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"displayName_5b1d5f5a","meta":{"resourceType":"Group"}})
    }

    fn okta_user() -> Value {
        json!({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local","name":{"givenName":"Test","familyName":"User"},"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"1mz050nq","active":true})
    }

    #[test]
    fn rfc7643_full_user_normalizes_and_renders_back() {
        let input = rfc7643_full_user();
        for l in [LENIENT, STRICT] {
            let n = ok(input.clone(), user(), l);
            assert_eq!(n.password.as_deref(), Some("t1meMa$heen"));
            let r = n.resource.as_object().expect("object");
            for gone in ["id", "meta", "groups", "password"] {
                assert!(!r.contains_key(gone), "{gone} must not be taken from input");
            }
            // What the service adds back (id, meta) plus the derived groups give the RFC's document, without the
            // password, which is never returned.
            let mut stored = n.resource.clone();
            stored["id"] = input["id"].clone();
            stored["meta"] = input["meta"].clone();
            stored["groups"] = input["groups"].clone();
            let mut expected = input.clone();
            expected.as_object_mut().expect("object").remove("password");
            let rendered = crate::scim::project::Projection::default_for(user()).apply(&stored);
            assert_eq!(rendered, expected);
        }
    }

    #[test]
    fn output_is_in_canonical_order() {
        let n = ok(rfc7643_full_user(), user(), STRICT);
        let keys: Vec<&str> = n.resource.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys[..4], ["schemas", "externalId", "userName", "name"]);
        let addr: Vec<&str> =
            n.resource["addresses"][0].as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(addr[0], "formatted");
        assert_eq!(addr[addr.len() - 1], "primary");
    }

    #[test]
    fn entra_create_user_is_accepted_in_both_modes() {
        for l in [LENIENT, STRICT] {
            let n = ok(entra_user(), user(), l);
            assert_eq!(n.password, None);
            assert_eq!(
                n.resource,
                json!({
                    "schemas": [USER_URN],
                    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                    "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                    "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
                    "active": true,
                    "emails": [{"value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com", "type": "work", "primary": true}]
                }),
                "meta and the empty roles are dropped; the unused enterprise URN leaves schemas"
            );
        }
    }

    #[test]
    fn entra_create_group_with_adscim_schema() {
        let n = ok(entra_group(), group(), LENIENT);
        assert_eq!(
            n.resource,
            json!({"schemas": [GROUP_URN], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159", "displayName": "displayName_5b1d5f5a"})
        );
        assert_eq!(scim_type(normalize(&entra_group(), group(), STRICT)), Some(ScimType::InvalidValue));
    }

    #[test]
    fn okta_create_user_with_password_and_empty_groups() {
        for l in [LENIENT, STRICT] {
            let n = ok(okta_user(), user(), l);
            assert_eq!(n.password.as_deref(), Some("1mz050nq"));
            let r = n.resource.as_object().expect("object");
            assert!(!r.contains_key("password") && !r.contains_key("groups"));
            assert_eq!(r["userName"], "test.user@okta.local");
            assert_eq!(r["active"], true);
        }
    }

    #[test]
    fn debug_redacts_the_password() {
        let n = ok(okta_user(), user(), LENIENT);
        let s = format!("{n:?}");
        assert!(!s.contains("1mz050nq") && s.contains("redacted"), "{s}");
    }

    /// (case, input, lenient outcome, strict outcome): `Ok(expected resource)` or `Err(scimType)`.
    type Case = (&'static str, Value, Result<Value, ScimType>, Result<Value, ScimType>);

    fn run_user_cases(cases: Vec<Case>, rt: &'static ResourceTypeDef) {
        for (name, input, lenient, strict) in cases {
            for (l, want) in [(LENIENT, lenient), (STRICT, strict)] {
                let got = normalize(&input, rt, l);
                match (&got, &want) {
                    (Ok(n), Ok(w)) => assert_eq!(&n.resource, w, "{name} ({l:?})"),
                    (Err(e), Err(t)) => assert_eq!(e.scim_type(), Some(*t), "{name} ({l:?}): {e}"),
                    _ => panic!("{name} ({l:?}): got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn body_and_schemas_rules() {
        use ScimType::{InvalidSyntax, InvalidValue};
        let core_only = json!({"schemas": [USER_URN], "userName": "a"});
        let cases: Vec<Case> = vec![
            ("array body", json!([]), Err(InvalidSyntax), Err(InvalidSyntax)),
            ("string body", json!("x"), Err(InvalidSyntax), Err(InvalidSyntax)),
            ("null body", Value::Null, Err(InvalidSyntax), Err(InvalidSyntax)),
            ("schemas missing", json!({"userName": "a"}), Ok(core_only.clone()), Err(InvalidSyntax)),
            ("schemas empty", json!({"schemas": [], "userName": "a"}), Ok(core_only.clone()), Err(InvalidSyntax)),
            (
                "schemas without core",
                json!({"schemas": [ENTERPRISE_USER_URN], "userName": "a"}),
                Ok(core_only.clone()),
                Err(InvalidSyntax),
            ),
            (
                "schemas as a string",
                json!({"schemas": USER_URN, "userName": "a"}),
                Ok(core_only.clone()),
                Err(InvalidSyntax),
            ),
            ("schemas as a number", json!({"schemas": 1, "userName": "a"}), Err(InvalidSyntax), Err(InvalidSyntax)),
            (
                "schemas with a non-string",
                json!({"schemas": [USER_URN, 3], "userName": "a"}),
                Ok(core_only.clone()),
                Err(InvalidSyntax),
            ),
            (
                "unknown schema URN",
                json!({"schemas": [USER_URN, "urn:example:custom"], "userName": "a"}),
                Ok(core_only.clone()),
                Err(InvalidValue),
            ),
            (
                "group URN on a user",
                json!({"schemas": [USER_URN, GROUP_URN], "userName": "a"}),
                Ok(core_only.clone()),
                Err(InvalidValue),
            ),
            (
                "schema URNs and the key are case-insensitive",
                json!({"SCHEMAS": [USER_URN.to_uppercase()], "userName": "a"}),
                Ok(core_only.clone()),
                Ok(core_only.clone()),
            ),
            (
                "extension listed but unused",
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "a"}),
                Ok(core_only.clone()),
                Ok(core_only.clone()),
            ),
            (
                "extension used but not listed",
                json!({"schemas": [USER_URN], "userName": "a", ENTERPRISE_USER_URN: {"department": "d"}}),
                Ok(
                    json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "a", ENTERPRISE_USER_URN: {"department": "d"}}),
                ),
                Err(InvalidSyntax),
            ),
            (
                "extension object not an object",
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "a", ENTERPRISE_USER_URN: "x"}),
                Err(InvalidSyntax),
                Err(InvalidSyntax),
            ),
            (
                "extension object null",
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "a", ENTERPRISE_USER_URN: null}),
                Ok(core_only.clone()),
                Ok(core_only.clone()),
            ),
        ];
        run_user_cases(cases, user());
    }

    #[test]
    fn names_are_matched_case_insensitively() {
        let ext_lower = ENTERPRISE_USER_URN.to_lowercase();
        let input = json!({
            "Schemas": [USER_URN, ext_lower.clone()],
            "USERNAME": "bjensen",
            "Name": {"GIVENNAME": "Barbara", "familyname": "Jensen"},
            "EMAILS": [{"VALUE": "b@example.com", "Primary": true}],
            "externalid": "x1",
            ext_lower: {"EmployeeNumber": "701984", "MANAGER": {"Value": "m1"}},
        });
        let want = json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "externalId": "x1",
            "userName": "bjensen",
            "name": {"familyName": "Jensen", "givenName": "Barbara"},
            "emails": [{"value": "b@example.com", "primary": true}],
            ENTERPRISE_USER_URN: {"employeeNumber": "701984", "manager": {"value": "m1"}},
        });
        for l in [LENIENT, STRICT] {
            assert_eq!(ok(input.clone(), user(), l).resource, want, "{l:?}");
        }
    }

    #[test]
    fn fully_qualified_names_are_accepted() {
        let input = json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "urn:ietf:params:scim:schemas:core:2.0:User:userName": "bjensen",
            "urn:ietf:params:scim:schemas:core:2.0:user:displayName": "Babs",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
            ENTERPRISE_USER_URN: {"department": "Tour Operations"},
        });
        let want = json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "userName": "bjensen",
            "displayName": "Babs",
            ENTERPRISE_USER_URN: {"employeeNumber": "701984", "department": "Tour Operations"},
        });
        for l in [LENIENT, STRICT] {
            assert_eq!(ok(input.clone(), user(), l).resource, want, "{l:?}");
        }
        // Core attributes wrapped in an object under the core URN, as some clients send them.
        let wrapped = json!({"schemas": [USER_URN], USER_URN: {"userName": "w"}});
        assert_eq!(ok(wrapped, user(), STRICT).resource, json!({"schemas": [USER_URN], "userName": "w"}));
    }

    #[test]
    fn read_only_attributes_are_ignored() {
        let input = json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "id": "client-chosen",
            "meta": {"resourceType": "User", "created": "not even a date"},
            "userName": "a",
            "groups": [{"value": "g1"}],
            ENTERPRISE_USER_URN: {"manager": {"value": "m1", "displayName": "Boss"}},
        });
        let want = json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "userName": "a",
            ENTERPRISE_USER_URN: {"manager": {"value": "m1"}},
        });
        for l in [LENIENT, STRICT] {
            assert_eq!(ok(input.clone(), user(), l).resource, want, "{l:?}");
        }
        let g = json!({"schemas": [GROUP_URN], "displayName": "G", "logo": "https://x/logo.png",
                       "members": [{"value": "u1", "display": "User One"}]});
        assert_eq!(
            ok(g, group(), STRICT).resource,
            json!({"schemas": [GROUP_URN], "displayName": "G", "members": [{"value": "u1"}]})
        );
    }

    #[test]
    fn unknown_attributes_dropped_when_lenient_rejected_when_strict() {
        use ScimType::InvalidSyntax;
        let base = json!({"schemas": [USER_URN], "userName": "a"});
        let cases: Vec<Case> = vec![
            (
                "unknown top-level",
                json!({"schemas": [USER_URN], "userName": "a", "favouriteColour": "blue"}),
                Ok(base.clone()),
                Err(InvalidSyntax),
            ),
            (
                "dotted key",
                json!({"schemas": [USER_URN], "userName": "a", "name.givenName": "B"}),
                Ok(base.clone()),
                Err(InvalidSyntax),
            ),
            (
                "unknown sub-attribute",
                json!({"schemas": [USER_URN], "userName": "a", "name": {"nick": "B"}}),
                Ok(base.clone()),
                Err(InvalidSyntax),
            ),
            (
                "unknown extension attribute",
                json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "a", ENTERPRISE_USER_URN: {"badge": 7}}),
                Ok(base.clone()),
                Err(InvalidSyntax),
            ),
            (
                "unknown extension as a key",
                json!({"schemas": [USER_URN], "userName": "a", "urn:example:custom:2.0:User": {"x": 1}}),
                Ok(base.clone()),
                Err(InvalidSyntax),
            ),
            (
                "extension attribute without its URN",
                json!({"schemas": [USER_URN], "userName": "a", "employeeNumber": "1"}),
                Ok(base.clone()),
                Err(InvalidSyntax),
            ),
            (
                "same attribute twice",
                json!({"schemas": [USER_URN], "userName": "a", "USERNAME": "b"}),
                Ok(json!({"schemas": [USER_URN], "userName": "b"})),
                Err(InvalidSyntax),
            ),
            (
                "same sub-attribute twice",
                json!({"schemas": [USER_URN], "userName": "a", "name": {"givenName": "x", "GivenName": "y"}}),
                Ok(json!({"schemas": [USER_URN], "userName": "a", "name": {"givenName": "y"}})),
                Err(InvalidSyntax),
            ),
        ];
        run_user_cases(cases, user());
        // The error names the attribute.
        let e = normalize(&json!({"schemas": [USER_URN], "userName": "a", "favouriteColour": 1}), user(), STRICT)
            .expect_err("strict");
        assert!(e.to_string().contains("favouriteColour"), "{e}");
    }

    #[test]
    fn type_rules() {
        use ScimType::InvalidValue;
        // Bodies list both schemas; outputs list the extension only when it has a value.
        let u = |extra: Value| {
            let mut v = json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "userName": "a"});
            for (k, x) in extra.as_object().expect("object") {
                v[k] = x.clone();
            }
            if v.get(ENTERPRISE_USER_URN).is_none() {
                v["schemas"] = json!([USER_URN]);
            }
            v
        };
        let cases: Vec<Case> = vec![
            ("boolean", u(json!({"active": false})), Ok(u(json!({"active": false}))), Ok(u(json!({"active": false})))),
            ("boolean True", u(json!({"active": "True"})), Ok(u(json!({"active": true}))), Err(InvalidValue)),
            ("boolean false", u(json!({"active": "false"})), Ok(u(json!({"active": false}))), Err(InvalidValue)),
            ("boolean junk", u(json!({"active": "yes"})), Err(InvalidValue), Err(InvalidValue)),
            ("boolean number", u(json!({"active": 1})), Err(InvalidValue), Err(InvalidValue)),
            ("string number", u(json!({"title": 7})), Ok(u(json!({"title": "7"}))), Err(InvalidValue)),
            ("string object", u(json!({"title": {"a": 1}})), Err(InvalidValue), Err(InvalidValue)),
            ("empty string kept", u(json!({"title": ""})), Ok(u(json!({"title": ""}))), Ok(u(json!({"title": ""})))),
            ("reference given a number", u(json!({"profileUrl": 3})), Err(InvalidValue), Err(InvalidValue)),
            ("complex as string", u(json!({"name": "Babs"})), Err(InvalidValue), Err(InvalidValue)),
            ("complex as array", u(json!({"name": [{"givenName": "B"}]})), Err(InvalidValue), Err(InvalidValue)),
            ("single-valued given an array", u(json!({"title": ["a"]})), Err(InvalidValue), Err(InvalidValue)),
            (
                "multi-valued given one value",
                u(json!({"emails": {"value": "a@b.c"}})),
                Ok(u(json!({"emails": [{"value": "a@b.c"}]}))),
                Err(InvalidValue),
            ),
            (
                "multi-valued given a bare string",
                u(json!({"emails": ["a@b.c"]})),
                Ok(u(json!({"emails": [{"value": "a@b.c"}]}))),
                Err(InvalidValue),
            ),
            ("nested arrays", u(json!({"emails": [[{"value": "a@b.c"}]]})), Err(InvalidValue), Err(InvalidValue)),
            (
                "binary",
                u(json!({"x509Certificates": [{"value": "aGVsbG8="}]})),
                Ok(u(json!({"x509Certificates": [{"value": "aGVsbG8="}]}))),
                Ok(u(json!({"x509Certificates": [{"value": "aGVsbG8="}]}))),
            ),
            (
                "binary unpadded, with a line break",
                u(json!({"x509Certificates": [{"value": "aGVs\nbG8"}]})),
                Ok(u(json!({"x509Certificates": [{"value": "aGVsbG8="}]}))),
                Err(InvalidValue),
            ),
            ("binary junk", u(json!({"x509Certificates": [{"value": "**"}]})), Err(InvalidValue), Err(InvalidValue)),
            (
                "manager as a bare id",
                u(json!({ENTERPRISE_USER_URN: {"manager": "m1"}})),
                Ok(u(json!({ENTERPRISE_USER_URN: {"manager": {"value": "m1"}}}))),
                Err(InvalidValue),
            ),
        ];
        run_user_cases(cases, user());
    }

    #[test]
    fn integer_decimal_and_datetime_values() {
        static INT: AttrDef = test_def("n", AttrType::Integer);
        static DEC: AttrDef = test_def("d", AttrType::Decimal);
        let created = user().resolve_str("meta.created").expect("meta.created").leaf();
        let table: Vec<(&'static AttrDef, Value, Option<Value>, Option<Value>)> = vec![
            (&INT, json!(42), Some(json!(42)), Some(json!(42))),
            (&INT, json!(-3), Some(json!(-3)), Some(json!(-3))),
            (&INT, json!(1.5), None, None),
            (&INT, json!("42"), Some(json!(42)), None),
            (&INT, json!("4x"), None, None),
            (&DEC, json!(1.5), Some(json!(1.5)), Some(json!(1.5))),
            (&DEC, json!(2), Some(json!(2)), Some(json!(2))),
            (&DEC, json!("2.5"), Some(json!(2.5)), None),
            (&DEC, json!(true), None, None),
            (
                created,
                json!("2008-01-23T04:56:22Z"),
                Some(json!("2008-01-23T04:56:22Z")),
                Some(json!("2008-01-23T04:56:22Z")),
            ),
            (
                created,
                json!("2008-01-23T04:56:22.123+02:00"),
                Some(json!("2008-01-23T04:56:22.123+02:00")),
                Some(json!("2008-01-23T04:56:22.123+02:00")),
            ),
            (created, json!("2008-01-23"), None, None),
            (created, json!("yesterday"), None, None),
            (created, json!(1_200_000_000), None, None),
        ];
        for (def, input, lenient, strict) in table {
            for (l, want) in [(LENIENT, lenient), (STRICT, strict)] {
                match (normalize_value(def, &input, l), want) {
                    (Ok(Some(got)), Some(w)) => assert_eq!(got, w, "{} {input} {l:?}", def.name),
                    (Err(e), None) => {
                        assert_eq!(e.scim_type(), Some(ScimType::InvalidValue), "{input}")
                    }
                    (got, w) => panic!("{} {input} {l:?}: got {got:?}, want {w:?}", def.name),
                }
            }
        }
    }

    const fn test_def(name: &'static str, ty: AttrType) -> AttrDef {
        AttrDef {
            name,
            ty,
            multi_valued: false,
            description: "",
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    #[test]
    fn unassigned_values_are_removed() {
        let input = json!({
            "schemas": [USER_URN, ENTERPRISE_USER_URN],
            "userName": "a",
            "displayName": null,
            "emails": [],
            "phoneNumbers": [null, {"value": null, "type": null}, {"value": "555"}],
            "name": {"givenName": null},
            "roles": [{}],
            ENTERPRISE_USER_URN: {"department": null, "manager": {"value": null}},
        });
        let want = json!({"schemas": [USER_URN], "userName": "a", "phoneNumbers": [{"value": "555"}]});
        for l in [LENIENT, STRICT] {
            assert_eq!(ok(input.clone(), user(), l).resource, want, "{l:?}");
        }
        assert_eq!(normalize_value(user().schema.attr("emails").expect("emails"), &json!([]), STRICT), Ok(None));
        assert_eq!(normalize_value(user().schema.attr("title").expect("title"), &Value::Null, STRICT), Ok(None));
    }

    #[test]
    fn password_is_taken_out() {
        let input = json!({"schemas": [USER_URN], "userName": "a", "PASSWORD": "s3cret"});
        for l in [LENIENT, STRICT] {
            let n = ok(input.clone(), user(), l);
            assert_eq!(n.password.as_deref(), Some("s3cret"));
            assert_eq!(n.resource, json!({"schemas": [USER_URN], "userName": "a"}));
        }
        let null = ok(json!({"schemas": [USER_URN], "userName": "a", "password": null}), user(), STRICT);
        assert_eq!(null.password, None);
        assert_eq!(
            scim_type(normalize(&json!({"schemas": [USER_URN], "userName": "a", "password": 1234}), user(), STRICT)),
            Some(ScimType::InvalidValue)
        );
        assert_eq!(ok(json!({"userName": "a", "password": 1234}), user(), LENIENT).password.as_deref(), Some("1234"));
    }

    #[test]
    fn at_most_one_primary() {
        let input = json!({"schemas": [USER_URN], "userName": "a", "emails": [
            {"value": "a@x", "primary": false},
            {"value": "b@x", "primary": true},
            {"value": "c@x", "primary": "True"},
            {"value": "d@x", "primary": true},
        ]});
        let n = ok(input.clone(), user(), LENIENT);
        assert_eq!(
            n.resource["emails"],
            json!([
                {"value": "a@x", "primary": false},
                {"value": "b@x", "primary": true},
                {"value": "c@x", "primary": false},
                {"value": "d@x", "primary": false},
            ])
        );
        let mut strict_input = input;
        strict_input["emails"][2]["primary"] = json!(false);
        assert_eq!(scim_type(normalize(&strict_input, user(), STRICT)), Some(ScimType::InvalidValue));
    }

    #[test]
    fn required_attributes() {
        use ScimType::InvalidValue;
        let cases: Vec<(Value, &'static ResourceTypeDef)> = vec![
            (json!({"schemas": [USER_URN]}), user()),
            (json!({"schemas": [USER_URN], "userName": ""}), user()),
            (json!({"schemas": [USER_URN], "userName": "   "}), user()),
            (json!({"schemas": [USER_URN], "userName": null}), user()),
            (json!({"schemas": [USER_URN], "userName": "a", "username": null}), user()),
            (json!({"schemas": [GROUP_URN]}), group()),
            (json!({"schemas": [GROUP_URN], "displayName": ""}), group()),
        ];
        for (input, rt) in cases {
            // Lenient "last one wins" makes the duplicate case a removal; strict rejects the duplicate first.
            let lenient = normalize(&input, rt, LENIENT).expect_err("lenient");
            assert_eq!(lenient.scim_type(), Some(InvalidValue), "{input}: {lenient}");
            assert!(normalize(&input, rt, STRICT).is_err(), "{input}");
        }
    }

    #[test]
    fn group_members() {
        use ScimType::InvalidValue;
        let g = |members: Value| json!({"schemas": [GROUP_URN], "displayName": "G", "members": members});
        let cases: Vec<Case> = vec![
            (
                "canonical type case, display dropped, $ref kept",
                g(
                    json!([{"value": "u1", "type": "user", "display": "U", "$ref": "../Users/u1"}, {"value": "g2", "TYPE": "GROUP"}]),
                ),
                Ok(g(
                    json!([{"value": "u1", "$ref": "../Users/u1", "type": "User"}, {"value": "g2", "type": "Group"}]),
                )),
                Ok(g(
                    json!([{"value": "u1", "$ref": "../Users/u1", "type": "User"}, {"value": "g2", "type": "Group"}]),
                )),
            ),
            ("bad type", g(json!([{"value": "u1", "type": "Device"}])), Err(InvalidValue), Err(InvalidValue)),
            ("no value", g(json!([{"type": "User"}])), Err(InvalidValue), Err(InvalidValue)),
            (
                "only read-only display: an empty element, dropped",
                g(json!([{"display": "U"}])),
                Ok(json!({"schemas": [GROUP_URN], "displayName": "G"})),
                Ok(json!({"schemas": [GROUP_URN], "displayName": "G"})),
            ),
            ("value not a string", g(json!([{"value": {"id": 1}}])), Err(InvalidValue), Err(InvalidValue)),
            (
                "duplicates by value",
                g(json!([{"value": "u1"}, {"value": "u2"}, {"value": "u1", "type": "User"}])),
                Ok(g(json!([{"value": "u1"}, {"value": "u2"}]))),
                Ok(g(json!([{"value": "u1"}, {"value": "u2"}]))),
            ),
            ("bare ids", g(json!(["u1"])), Ok(g(json!([{"value": "u1"}]))), Err(InvalidValue)),
            (
                "empty members",
                g(json!([])),
                Ok(json!({"schemas": [GROUP_URN], "displayName": "G"})),
                Ok(json!({"schemas": [GROUP_URN], "displayName": "G"})),
            ),
        ];
        run_user_cases(cases, group());
    }

    #[test]
    fn merge_for_replace_keeps_server_values() {
        let stored = json!({
            "schemas": [GROUP_URN],
            "id": "g1",
            "displayName": "Old",
            "members": [{"value": "u1", "display": "User One", "type": "User"}, {"value": "u2", "type": "User"}],
            "logo": "https://example.com/logo/g1",
            "meta": {"resourceType": "Group", "version": "W/\"1\""},
        });
        let body = json!({"schemas": [GROUP_URN], "id": "other", "displayName": "New",
                          "members": [{"value": "u1"}, {"value": "u3", "type": "User"}]});
        let new = ok(body, group(), STRICT).resource;
        let merged = merge_for_replace(&stored, new, group()).expect("merge");
        assert_eq!(
            merged,
            json!({
                "schemas": [GROUP_URN],
                "id": "g1",
                "displayName": "New",
                "members": [{"value": "u1", "display": "User One", "type": "User"}, {"value": "u3", "type": "User"}],
                "logo": "https://example.com/logo/g1",
                "meta": {"resourceType": "Group", "version": "W/\"1\""},
            })
        );
        let keys: Vec<&str> = merged.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys.first(), Some(&"schemas"));
        assert_eq!(keys.last(), Some(&"meta"));
    }

    #[test]
    fn merge_for_replace_rejects_changed_immutable_values() {
        let stored = json!({"schemas": [GROUP_URN], "id": "g1", "displayName": "G",
                            "members": [{"value": "u1", "type": "User"}]});
        let new = ok(
            json!({"schemas": [GROUP_URN], "displayName": "G", "members": [{"value": "u1", "type": "Group"}]}),
            group(),
            STRICT,
        );
        let e = merge_for_replace(&stored, new.resource, group()).expect_err("immutable");
        assert_eq!(e.scim_type(), Some(ScimType::Mutability));
        assert!(e.to_string().contains("members.type"), "{e}");
        // Same value in another case: members.type is not caseExact (and canonicalized anyway).
        let same_case = ok(json!({"displayName": "G", "members": [{"value": "u1", "type": "user"}]}), group(), LENIENT);
        assert!(merge_for_replace(&stored, same_case.resource, group()).is_ok());
    }

    #[test]
    fn merge_for_replace_manager_display_name_follows_the_manager() {
        let stored = json!({"schemas": [USER_URN, ENTERPRISE_USER_URN], "id": "u1", "userName": "a",
                            ENTERPRISE_USER_URN: {"manager": {"value": "m1", "displayName": "Boss"}}});
        let same = ok(json!({"userName": "a", ENTERPRISE_USER_URN: {"manager": {"value": "m1"}}}), user(), LENIENT);
        let merged = merge_for_replace(&stored, same.resource, user()).expect("merge");
        assert_eq!(merged[ENTERPRISE_USER_URN]["manager"], json!({"value": "m1", "displayName": "Boss"}));
        let other = ok(json!({"userName": "a", ENTERPRISE_USER_URN: {"manager": "m2"}}), user(), LENIENT);
        let merged = merge_for_replace(&stored, other.resource, user()).expect("merge");
        assert_eq!(merged[ENTERPRISE_USER_URN]["manager"], json!({"value": "m2"}));
        // Dropping the extension in the PUT removes it, and `schemas` follows.
        let none = ok(json!({"userName": "a"}), user(), LENIENT);
        let merged = merge_for_replace(&stored, none.resource, user()).expect("merge");
        assert_eq!(merged, json!({"schemas": [USER_URN], "id": "u1", "userName": "a"}));
    }

    #[test]
    fn merge_for_replace_checks_required() {
        let stored = json!({"schemas": [USER_URN], "id": "u1", "userName": "a"});
        let e = merge_for_replace(&stored, json!({"schemas": [USER_URN]}), user()).expect_err("required");
        assert_eq!(e.scim_type(), Some(ScimType::InvalidValue));
        assert_eq!(scim_type(merge_for_replace(&stored, json!([]), user())), Some(ScimType::InvalidSyntax));
    }

    fn stored_group() -> Value {
        json!({"schemas": [GROUP_URN], "id": "g1", "displayName": "G",
               "members": [{"value": "u1", "display": "One", "type": "User"}],
               "logo": "https://example.com/logo/g1",
               "meta": {"resourceType": "Group", "created": "2024-01-01T00:00:00Z", "version": "W/\"1\""}})
    }

    #[test]
    fn validate_after_patch_rules() {
        use ScimType::{InvalidSyntax, InvalidValue, Mutability as Mut};
        let stored = stored_group();
        let with = |f: &dyn Fn(&mut Value)| {
            let mut v = stored.clone();
            f(&mut v);
            v
        };
        let cases: Vec<(&str, Value, Option<ScimType>)> = vec![
            ("unchanged", stored.clone(), None),
            ("renamed", with(&|v| v["displayName"] = json!("H")), None),
            ("member added", with(&|v| v["members"].as_array_mut().expect("array").push(json!({"value": "u2"}))), None),
            (
                "members removed",
                with(&|v| {
                    v.as_object_mut().expect("object").remove("members");
                }),
                None,
            ),
            ("member restated without type", with(&|v| v["members"] = json!([{"value": "u1"}])), None),
            ("meta bumped", with(&|v| v["meta"]["version"] = json!("W/\"2\"")), None),
            (
                "displayName removed",
                with(&|v| {
                    v.as_object_mut().expect("object").remove("displayName");
                }),
                Some(InvalidValue),
            ),
            ("displayName emptied", with(&|v| v["displayName"] = json!("")), Some(InvalidValue)),
            ("displayName a number", with(&|v| v["displayName"] = json!(5)), Some(InvalidValue)),
            ("member type changed", with(&|v| v["members"][0]["type"] = json!("Group")), Some(Mut)),
            ("member without value", with(&|v| v["members"] = json!([{"type": "User"}])), Some(InvalidValue)),
            ("id changed", with(&|v| v["id"] = json!("g2")), Some(Mut)),
            ("logo changed", with(&|v| v["logo"] = json!("https://evil.example/logo")), Some(Mut)),
            (
                "logo removed",
                with(&|v| {
                    v.as_object_mut().expect("object").remove("logo");
                }),
                Some(Mut),
            ),
            ("unknown attribute", with(&|v| v["color"] = json!("red")), Some(InvalidSyntax)),
            ("schemas without core", with(&|v| v["schemas"] = json!([])), Some(InvalidSyntax)),
            ("not an object", json!([1]), Some(InvalidSyntax)),
        ];
        for (name, patched, want) in cases {
            let got = validate_after_patch(&stored, &patched, group());
            match want {
                None => assert!(got.is_ok(), "{name}: {got:?}"),
                Some(t) => assert_eq!(got.map_err(|e| e.scim_type()), Err(Some(t)), "{name}"),
            }
        }
    }

    #[test]
    fn validate_after_patch_user() {
        let stored = ok(rfc7643_full_user(), user(), STRICT).resource;
        let mut stored = stored;
        stored["id"] = json!("u1");
        assert_eq!(validate_after_patch(&stored, &stored, user()), Ok(()));
        let mut two_primaries = stored.clone();
        two_primaries["emails"][1]["primary"] = json!(true);
        assert_eq!(scim_type(validate_after_patch(&stored, &two_primaries, user())), Some(ScimType::InvalidValue));
        let mut with_password = stored.clone();
        with_password["password"] = json!("x");
        assert_eq!(validate_after_patch(&stored, &with_password, user()).map_err(|e| e.status()), Err(500));
        let mut ext = stored.clone();
        ext[ENTERPRISE_USER_URN] = json!({"department": 3});
        assert_eq!(scim_type(validate_after_patch(&stored, &ext, user())), Some(ScimType::InvalidValue));
        ext[ENTERPRISE_USER_URN] = json!({"department": "Tours"});
        assert_eq!(validate_after_patch(&stored, &ext, user()), Ok(()));
    }

    #[test]
    fn multibyte_keys_do_not_panic() {
        // `schema::split_urn` slices `path[..4]`, which panicked on these; `split_path_urn` guards it.
        for key in ["abcé", "urné", "uré:x", "é"] {
            let body = json!({"userName": "a", key: 1});
            assert!(normalize(&body, user(), LENIENT).is_ok(), "{key}");
            assert_eq!(scim_type(normalize(&body, user(), STRICT)), Some(ScimType::InvalidSyntax), "{key}");
        }
    }

    #[test]
    fn refresh_schemas_follows_extensions() {
        let mut v = json!({"schemas": [USER_URN], "userName": "a", ENTERPRISE_USER_URN: {"department": "d"}});
        refresh_schemas(&mut v, user());
        assert_eq!(v["schemas"], json!([USER_URN, ENTERPRISE_USER_URN]));
        v[ENTERPRISE_USER_URN] = json!({});
        refresh_schemas(&mut v, user());
        assert_eq!(v["schemas"], json!([USER_URN]));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("schemas".to_owned()),
            Just("userName".to_owned()),
            Just("USERNAME".to_owned()),
            Just("displayName".to_owned()),
            Just("name".to_owned()),
            Just("givenName".to_owned()),
            Just("emails".to_owned()),
            Just("value".to_owned()),
            Just("primary".to_owned()),
            Just("type".to_owned()),
            Just("members".to_owned()),
            Just("$ref".to_owned()),
            Just("display".to_owned()),
            Just("active".to_owned()),
            Just("password".to_owned()),
            Just("x509Certificates".to_owned()),
            Just("meta".to_owned()),
            Just("id".to_owned()),
            Just("groups".to_owned()),
            Just("manager".to_owned()),
            Just(ENTERPRISE_USER_URN.to_owned()),
            Just(format!("{USER_URN}:userName")),
            Just(format!("{ENTERPRISE_USER_URN}:manager")),
            "[a-zA-Z:.$]{0,12}",
            // Multi-byte characters right where `urn:` would end.
            "(urn|abc)\\PC{0,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            Just(json!(USER_URN)),
            Just(json!(GROUP_URN)),
            Just(json!(ENTERPRISE_USER_URN)),
            Just(json!("True")),
            Just(json!("user")),
            Just(json!("aGVsbG8")),
            Just(json!("2008-01-23T04:56:22Z")),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Bodies shaped like resources more often than not, so that the deeper rules are reached.
    fn arb_body() -> impl Strategy<Value = Value> {
        (arb_json(), any::<bool>(), any::<bool>()).prop_map(|(v, schemas, name)| {
            let mut v = match v {
                Value::Object(m) => Value::Object(m),
                other => json!({"emails": other, "members": other}),
            };
            if schemas {
                v["schemas"] = json!([USER_URN, GROUP_URN, ENTERPRISE_USER_URN]);
            }
            if name {
                v["userName"] = json!("u");
                v["displayName"] = json!("d");
            }
            v
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_input_never_panics_and_output_is_canonical(input in prop_oneof![arb_json(), arb_body()]) {
            for rt in [user(), group()] {
                for l in [LENIENT, STRICT] {
                    if let Ok(n) = normalize(&input, rt, l) {
                        // The output is valid in strict mode and normalizes to itself.
                        let again = normalize(&n.resource, rt, STRICT);
                        prop_assert_eq!(again.as_ref().map(|a| &a.resource), Ok(&n.resource));
                        // The canonical form passes the post-PATCH validation against itself.
                        let mut stored = n.resource.clone();
                        stored["id"] = json!("x");
                        prop_assert_eq!(validate_after_patch(&stored, &stored, rt), Ok(()));
                        let merged = merge_for_replace(&stored, n.resource.clone(), rt);
                        prop_assert_eq!(merged, Ok(stored));
                    }
                    let _ = validate_after_patch(&input, &input, rt);
                    let _ = merge_for_replace(&input, input.clone(), rt);
                }
                for def in rt.schema.attributes {
                    let _ = normalize_value(def, &input, LENIENT);
                    let _ = normalize_value(def, &input, STRICT);
                }
            }
        }
    }
}
