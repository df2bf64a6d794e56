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
    AttrDef, AttrHome, AttrType, COMMON_ATTRIBUTES, Mutability, ResourceTypeDef, SchemaDef,
    split_urn,
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
pub fn normalize(
    input: &Value,
    rt: &'static ResourceTypeDef,
    leniency: Leniency,
) -> Result<Normalized, ScimError> {
    let strict = leniency.strict;
    let Some(obj) = input.as_object() else {
        return Err(ScimError::invalid_syntax(
            "the request body must be a JSON object (RFC 7644 §3.3)",
        ));
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
        if key.eq_ignore_ascii_case(rt.schema.id) {
            if let Value::Object(members) = value {
                for (name, v) in members {
                    match rt.schema.attr(name) {
                        Some(def) => acc.put(AttrHome::Core, def, v, leniency)?,
                        None => unknown(strict, &format!("{}:{name}", rt.schema.id))?,
                    }
                }
                continue;
            }
        }
        // A plain name, or one qualified with its schema URN (RFC 7644 §3.10), e.g.
        // `urn:ietf:params:scim:schemas:core:2.0:User:userName`. Dotted paths are not attribute names here:
        // resolving without the sub-attribute makes `name.givenName` an unknown attribute, as it should be.
        let (urn, name) = split_urn(key);
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
pub fn merge_for_replace(
    stored: &Value,
    new: Value,
    rt: &'static ResourceTypeDef,
) -> Result<Value, ScimError> {
    let Value::Object(mut out) = new else {
        return Err(ScimError::invalid_syntax(
            "the request body must be a JSON object (RFC 7644 §3.5.1)",
        ));
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
    let resource = order_canonical(out, rt);
    check_required(&resource, rt)?;
    Ok(resource)
}

/// Validates a resource in canonical form after a PATCH ([RFC 7644 §3.5.2]: "Each operation against an attribute
/// MUST be compatible with the attribute's mutability and schema"): only known attributes, values of the right
/// type and shape (as [`normalize_value`] in strict mode checks them, including at most one `primary`),
/// `schemas` listing the core schema, required attributes present (400 `invalidValue`), immutable values and
/// sub-values unchanged against `stored` (400 `mutability`; `members` elements may still be added or removed), and
/// readOnly attributes other than `meta` unchanged (400 `mutability`).
///
/// `null` and `[]` are read as unassigned; the PATCH engine is expected to remove them. A `password` left in the
/// resource is a bug of the caller (it must be taken out and hashed) and gives a 500.
///
/// [RFC 7644 §3.5.2]: https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2
pub fn validate_after_patch(
    stored: &Value,
    patched: &Value,
    rt: &'static ResourceTypeDef,
) -> Result<(), ScimError> {
    let strict = Leniency { strict: true };
    let Some(obj) = patched.as_object() else {
        return Err(ScimError::invalid_syntax(
            "the patched resource is not a JSON object",
        ));
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
                    return Err(ScimError::invalid_syntax(format!(
                        "unknown attribute \"{}:{name}\"",
                        ext.id
                    )));
                };
                check_patched_value(def, v, strict)?;
            }
            continue;
        }
        let Some(r) = rt.resolve(None, key, None) else {
            return Err(ScimError::invalid_syntax(format!(
                "unknown attribute \"{key}\""
            )));
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
pub fn normalize_value(
    def: &'static AttrDef,
    value: &Value,
    leniency: Leniency,
) -> Result<Option<Value>, ScimError> {
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
    fn put(
        &mut self,
        home: AttrHome,
        def: &'static AttrDef,
        value: &Value,
        leniency: Leniency,
    ) -> ScimResult<()> {
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
fn read_schemas(
    obj: &Map<String, Value>,
    rt: &'static ResourceTypeDef,
    strict: bool,
) -> ScimResult<Vec<&'static str>> {
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
            return Err(ScimError::invalid_syntax(
                "\"schemas\" must be an array of schema URIs (RFC 7643 §3)",
            ));
        }
    };
    let mut has_core = false;
    for item in items {
        let Some(urn) = item.as_str() else {
            if strict {
                return Err(ScimError::invalid_syntax(
                    "\"schemas\" must be an array of strings (RFC 7643 §3)",
                ));
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
        return Err(ScimError::invalid_syntax(format!(
            "\"schemas\" must include \"{}\" (RFC 7643 §3)",
            rt.schema.id
        )));
    }
    Ok(listed)
}

/// Checks `schemas` of a canonical resource: strings, known URNs, the core URN present.
fn check_schemas_value(value: &Value, rt: &'static ResourceTypeDef) -> ScimResult<()> {
    let items = value.as_array().ok_or_else(|| {
        ScimError::invalid_syntax("\"schemas\" must be an array of schema URIs (RFC 7643 §3)")
    })?;
    let mut has_core = false;
    for item in items {
        let urn = item
            .as_str()
            .ok_or_else(|| ScimError::invalid_syntax("\"schemas\" must be an array of strings"))?;
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
        Err(ScimError::invalid_syntax(format!(
            "\"schemas\" must include \"{}\" (RFC 7643 §3)",
            rt.schema.id
        )))
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
fn value_at(
    def: &'static AttrDef,
    value: &Value,
    strict: bool,
    path: &str,
    depth: usize,
) -> ScimResult<Option<Value>> {
    if depth > MAX_DEPTH {
        return Err(ScimError::invalid_value(format!(
            "\"{path}\" is nested too deeply"
        )));
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
    def.multi_valued
        && def.ty == AttrType::Complex
        && def.sub_attr("$ref").is_some()
        && def.sub_attr("value").is_some()
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
        let Some(obj) = item.as_object_mut() else { continue };
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
        ScimError::invalid_value(format!(
            "\"{path}\" must be {expected} (RFC 7643 §2.3), got {}",
            json_kind(value)
        ))
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
            Value::String(s) if !strict => {
                match s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                    Some(n) => Value::Number(n),
                    None => return Err(wrong("a decimal number")),
                }
            }
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
                // its canonical values are a closed set, unlike labels such as emails' "work" (§2.3.? canonical
                // values are only suggestions there).
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
    let found = value
        .as_str()
        .and_then(|s| def.canonical_values.iter().find(|c| c.eq_ignore_ascii_case(s)));
    match found {
        Some(c) => Ok(Value::String((*c).to_owned())),
        None => Err(ScimError::invalid_value(format!(
            "\"{path}\" must be one of {:?}",
            def.canonical_values
        ))),
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
                    return Err(immutable_changed(prefix, def.name));
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
                let (Some(o), Some(n)) = (old, out.get_mut(def.name)) else { continue };
                let path = format!("{prefix}{}{}", if prefix.is_empty() { "" } else { ":" }, def.name);
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
                    return Err(immutable_changed(path, sub.name));
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
                        "attribute \"{prefix}{}\" is readOnly (RFC 7643 §7)",
                        def.name
                    )));
                }
            }
            Mutability::Immutable => {
                if let Some(o) = old {
                    if !new.is_some_and(|n| same(def, o, n)) {
                        return Err(immutable_changed(prefix, def.name));
                    }
                }
            }
            Mutability::ReadWrite | Mutability::WriteOnly => {
                let immutable_subs: Vec<&AttrDef> =
                    def.sub_attributes.iter().filter(|s| s.mutability == Mutability::Immutable).collect();
                if immutable_subs.is_empty() {
                    continue;
                }
                let (Some(o), Some(n)) = (old, new) else { continue };
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
                        if let Some(ov) = o.get(sub.name).filter(|v| !is_unassigned(v)) {
                            if !n.get(sub.name).is_some_and(|nv| same(sub, ov, nv)) {
                                let path = format!("{prefix}{}", def.name);
                                return Err(immutable_changed(&path, sub.name));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn immutable_changed(prefix: &str, name: &str) -> ScimError {
    let sep = if prefix.is_empty() {
        ""
    } else if prefix.starts_with("urn:") && !prefix.contains('.') && !prefix.ends_with(':') {
        ":"
    } else {
        "."
    };
    ScimError::mutability(format!(
        "attribute \"{prefix}{sep}{name}\" is immutable: the value may be set once and not changed \
         (RFC 7644 §3.5.1, RFC 7643 §7)"
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
        (Value::String(x), Value::String(y)) if !def.case_exact => {
            x == y || x.to_lowercase() == y.to_lowercase()
        }
        (Value::Object(x), Value::Object(y)) if def.ty == AttrType::Complex => {
            let assigned = |m: &Map<String, Value>| m.values().filter(|v| !is_unassigned(v)).count();
            assigned(x) == assigned(y)
                && x.iter().filter(|(_, v)| !is_unassigned(v)).all(|(k, xv)| {
                    match (def.sub_attr(k), y.get(k)) {
                        (Some(sub), Some(yv)) => same_at(sub, xv, yv, depth + 1),
                        (None, Some(yv)) => xv == yv,
                        _ => false,
                    }
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
mod tests;
