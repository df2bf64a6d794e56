//! The SCIM PATCH engine of [RFC 7644 §3.5.2]: parses a `PatchOp` request body and applies its operations to a
//! resource held in the canonical form described in [`crate::scim`]. Pure: no HTTP, no storage.
//!
//! # Atomicity
//!
//! RFC 7644 §3.5.2: "A PATCH request, regardless of the number of operations, SHALL be treated as atomic. If a single
//! operation encounters an error condition, the original SCIM resource MUST be restored, and a failure status SHALL
//! be returned." [`apply`] mutates the value it is given and may leave it half-patched when it returns an error, so
//! the caller passes a *clone* of the stored resource and discards that clone on error:
//!
//! ```text
//! let mut candidate = stored.clone();
//! let outcome = patch::apply(&mut candidate, &ops, rt, leniency)?; // on Err, `stored` is untouched
//! validate(&candidate)?;                                           // required attributes, uniqueness, …
//! store.save(candidate, outcome.password)?;
//! ```
//!
//! # What the engine guarantees about the result
//!
//! - Every name written is the schema's canonical name, whatever case the client used (RFC 7643 §2.1): a path
//!   `NAME.GIVENNAME` writes `name.givenName`, a value `{"Value": "x"}` becomes `{"value": "x"}`.
//! - Extension attributes live under their URN key (RFC 7643 §3.3); `schemas` lists an extension's URN exactly while
//!   the extension holds a value (RFC 7644 §3.5.2: "adding the attribute
//!   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber" automatically adds the value
//!   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User" to the resource's "schemas" attribute").
//! - `null` and empty arrays are never stored: RFC 7643 §2.5 makes them equivalent to "unassigned", so writing them
//!   removes the attribute.
//! - `password` never lands in the resource; a new one is handed back in [`PatchOutcome::password`].
//! - `id` and `meta` are readOnly, so no operation changes them.
//!
//! The engine does not check the resource as a whole (required attributes, uniqueness): the caller re-validates the
//! result, as it does for PUT.
//!
//! # Lenient and strict
//!
//! With [`Leniency::strict`] false (the default) the engine also accepts what Okta and Microsoft Entra ID send in
//! practice; each accepted deviation is marked "Lenient:" below, and strict mode answers it with the error the RFC
//! calls for. The value-level coercions (Entra's `"False"`, a manager given as a bare id, a number for a string
//! attribute) come from `resource::normalize_value`, which POST and PUT use too, so that PATCH accepts and refuses
//! values exactly as they do.
//!
//! [RFC 7644 §3.5.2]: https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2

use serde_json::{Map, Value};

use super::Leniency;
use super::error::ScimError;
use super::filter::{self, AttrPath, CompValue, CompareOp, CompiledFilter, Filter, PatchPath};
use super::resource::normalize_value;
use super::schema::{ALL_SCHEMAS, PATCH_OP_URN, split_urn};
use super::schema::{AttrDef, AttrHome, AttrType, Mutability, ResourceTypeDef, SchemaDef};

#[cfg(test)]
mod tests;

/// The `op` of a PATCH operation (RFC 7644 §3.5.2: "MAY be one of "add", "remove", or "replace"").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    /// `add` (RFC 7644 §3.5.2.1).
    Add,
    /// `remove` (RFC 7644 §3.5.2.2).
    Remove,
    /// `replace` (RFC 7644 §3.5.2.3).
    Replace,
}

impl PatchOpKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchOpKind::Add => "add",
            PatchOpKind::Remove => "remove",
            PatchOpKind::Replace => "replace",
        }
    }
}

/// One operation of a PATCH request, syntactically valid but not yet resolved against a schema.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    /// What to do.
    pub op: PatchOpKind,
    /// The target; `None` targets the resource itself (allowed for `add` and `replace` only, RFC 7644 §3.5.2).
    pub path: Option<PatchPath>,
    /// The `value` member exactly as sent (`None` when absent; `Some(Value::Null)` when sent as `null`).
    pub value: Option<Value>,
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchOutcome {
    /// Whether the resource differs from what it was, or a password was set. RFC 7644 §3.5.2.1: an add of a value
    /// already present "SHALL NOT change the modify timestamp of the resource", so the caller bumps `meta` only when
    /// this is true.
    pub changed: bool,
    /// A new password set by the patch (the last one wins), taken out of the resource: the canonical form never holds
    /// `password`, the caller hashes it.
    pub password: Option<String>,
}

/// Parses and validates a PatchOp request body (RFC 7644 §3.5.2): `schemas` must contain
/// `urn:ietf:params:scim:api:messages:2.0:PatchOp`, `Operations` must be a non-empty array, each operation must have
/// an `op` and, for `add` and `replace`, a `value`.
///
/// Member names (`schemas`, `Operations`, `op`, `path`, `value`) match case-insensitively (RFC 7643 §2.1). Errors:
/// `invalidSyntax` for the envelope and the `op` value, `invalidPath` for a path that does not parse, `invalidValue`
/// for a missing `value`. A `remove` without `path` is rejected by [`apply`] (`noTarget`, RFC 7644 §3.5.2.2).
pub fn parse_request(body: &Value, leniency: Leniency) -> Result<Vec<PatchOperation>, ScimError> {
    let obj =
        body.as_object().ok_or_else(|| ScimError::invalid_syntax("a PATCH request body must be a JSON object"))?;
    let has_patch_schema = match get_ci(obj, "schemas") {
        Some(Value::Array(schemas)) => {
            schemas.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_URN)))
        }
        _ => false,
    };
    if !has_patch_schema {
        return Err(ScimError::invalid_syntax(format!(
            "\"schemas\" must contain \"{PATCH_OP_URN}\" (RFC 7644 §3.5.2)"
        )));
    }
    // RFC 7644 §3.5.2: "The body of an HTTP PATCH request MUST contain the attribute "Operations", whose value is an
    // array of one or more PATCH operations."
    let ops = match get_ci(obj, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => {
            return Err(ScimError::invalid_syntax(
                "\"Operations\" must be an array of one or more PATCH operations (RFC 7644 §3.5.2)",
            ));
        }
    };
    ops.iter().enumerate().map(|(i, op)| parse_operation(op, leniency).map_err(|e| in_operation(i, e))).collect()
}

fn parse_operation(op: &Value, leniency: Leniency) -> Result<PatchOperation, ScimError> {
    let obj = op.as_object().ok_or_else(|| ScimError::invalid_syntax("a PATCH operation must be a JSON object"))?;
    let name = get_ci(obj, "op")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_syntax("a PATCH operation must have an \"op\" string member"))?;
    // RFC 7644 §3.5.2: "Each PATCH operation object MUST have exactly one "op" member, whose value indicates the
    // operation to perform and MAY be one of "add", "remove", or "replace"." Those are the only spellings the RFC
    // defines (attribute names are case-insensitive, values are not), so strict mode answers "Add" with
    // invalidSyntax: "The request body message structure was invalid or did not conform to the request schema"
    // (RFC 7644 §3.12, Table 9). Lenient: Entra ID sends "Add", "Replace" and "Remove".
    let kind = [PatchOpKind::Add, PatchOpKind::Remove, PatchOpKind::Replace]
        .into_iter()
        .find(|k| if leniency.strict { k.as_str() == name } else { k.as_str().eq_ignore_ascii_case(name) })
        .ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "unknown PATCH op {name:?}: must be \"add\", \"remove\" or \"replace\" (RFC 7644 §3.5.2)"
            ))
        })?;
    let path = match get_ci(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => {
            // Lenient: some clients send `"path": ""` for a path-less operation.
            if leniency.strict {
                return Err(ScimError::invalid_path("\"path\" must not be empty"));
            }
            None
        }
        Some(Value::String(s)) => Some(parse_path(s)?),
        Some(_) => return Err(ScimError::invalid_path("\"path\" must be a string")),
    };
    let value = get_ci(obj, "value").cloned();
    // RFC 7644 §3.5.2.1: the add operation "MUST contain a "value" member"; replace has nothing to replace with
    // otherwise. invalidValue: "A required value was missing" (RFC 7644 §3.12).
    if kind != PatchOpKind::Remove && value.is_none() {
        return Err(ScimError::invalid_value(format!("a \"{}\" operation must have a \"value\"", kind.as_str())));
    }
    Ok(PatchOperation { op: kind, path, value })
}

/// Parses a PATCH path. A bare schema URN (`urn:…:enterprise:2.0:User`) is not in the path grammar of RFC 7644
/// §3.5.2 (`PATH = attrPath / valuePath [subAttr]`) but clients use it to target a whole extension; it is split the
/// way [`split_urn`] splits every attribute path, and resolved to the extension when applied.
fn parse_path(s: &str) -> Result<PatchPath, ScimError> {
    let s = s.trim();
    if ALL_SCHEMAS.iter().any(|schema| schema.id.eq_ignore_ascii_case(s)) {
        let (urn, name) = split_urn(s);
        return Ok(PatchPath {
            attr: AttrPath { urn: urn.map(str::to_owned), name: name.to_owned(), sub: None },
            filter: None,
            sub_after_filter: None,
        });
    }
    filter::parse_patch_path(s).map_err(|e| ScimError::invalid_path(format!("invalid path {s:?}: {e}")))
}

/// Applies the operations in order to `resource`, a resource in canonical form of resource type `rt`.
///
/// Operations apply sequentially, each to the result of the previous one (RFC 7644 §3.5.2: "the resulting resource
/// becomes the target of the next operation"). **All-or-nothing is the caller's part**: on error `resource` may be
/// partly modified, so pass a clone and discard it on error (see the module documentation). Errors are 400s with
/// the `scimType` of RFC 7644 §3.12 (`invalidPath`, `noTarget`, `mutability`, `invalidValue`, …), their detail
/// prefixed with the index of the failing operation.
pub fn apply(
    resource: &mut Value,
    ops: &[PatchOperation],
    rt: &'static ResourceTypeDef,
    leniency: Leniency,
) -> Result<PatchOutcome, ScimError> {
    let before = resource.clone();
    let obj = resource
        .as_object_mut()
        .ok_or_else(|| ScimError::Internal("the resource to patch is not a JSON object".to_owned()))?;
    let mut engine = Engine { rt, lenient: !leniency.strict, password: None, trying_read_only: false };
    for (i, op) in ops.iter().enumerate() {
        engine.apply_op(obj, op).map_err(|e| in_operation(i, e))?;
        // RFC 7644 §3.5.2: "If one of the PATCH operations modifies the "schemas" attribute, subsequent operations
        // SHALL assume the modified state of the "schemas" attribute."
        sync_schemas(obj, rt);
    }
    let password = engine.password;
    Ok(PatchOutcome { changed: *resource != before || password.is_some(), password })
}

/// Prefixes the detail of a 400 with the index of the operation it came from.
fn in_operation(i: usize, e: ScimError) -> ScimError {
    match e {
        ScimError::BadRequest { scim_type, detail } => {
            ScimError::BadRequest { scim_type, detail: format!("Operations[{i}]: {detail}") }
        }
        other => other,
    }
}

/// A member of a JSON object by name, exact match first, then case-insensitively (RFC 7643 §2.1).
fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// The path as text, for error details.
fn attr_path_text(p: &AttrPath) -> String {
    let mut s = match &p.urn {
        Some(urn) => format!("{urn}:{}", p.name),
        None => p.name.clone(),
    };
    if let Some(sub) = &p.sub {
        s.push('.');
        s.push_str(sub);
    }
    s
}

/// Keeps `schemas` and the extension objects consistent with the canonical form: an extension object that is empty
/// (or not an object) is dropped, and `schemas` lists an extension's URN exactly when its object is present.
fn sync_schemas(obj: &mut Map<String, Value>, rt: &ResourceTypeDef) {
    for ext in rt.extensions {
        let urn = ext.schema.id;
        let present = obj.get(urn).and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        if !present && obj.contains_key(urn) {
            obj.shift_remove(urn);
        }
        let listed = obj
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn))));
        if present && !listed {
            let schemas = obj.entry("schemas").or_insert_with(|| Value::Array(vec![Value::from(rt.schema.id)]));
            match schemas {
                Value::Array(a) => a.push(Value::from(urn)),
                other => *other = Value::Array(vec![Value::from(rt.schema.id), Value::from(urn)]),
            }
        } else if !present
            && listed
            && let Some(Value::Array(a)) = obj.get_mut("schemas")
        {
            a.retain(|s| !s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)));
        }
    }
}

/// What a path names once resolved against the resource type.
enum Target<'p> {
    /// The resource itself: no path, or the core schema URN as path.
    Resource,
    /// A whole extension: its URN as path.
    Extension(&'static SchemaDef),
    /// An attribute, sub-attribute, or selected values of a multi-valued attribute.
    Attr(AttrTarget<'p>),
}

/// An attribute target: `attr`, `attr.sub`, `attr[filter]` or `attr[filter].sub`.
struct AttrTarget<'p> {
    home: AttrHome,
    attr: &'static AttrDef,
    sub: Option<&'static AttrDef>,
    /// The value filter of a `valuePath`, as written (to build a missing value from in lenient mode) and compiled.
    filter: Option<(&'p Filter, CompiledFilter)>,
}

impl AttrTarget<'_> {
    fn plain(home: AttrHome, attr: &'static AttrDef, sub: Option<&'static AttrDef>) -> Self {
        AttrTarget { home, attr, sub, filter: None }
    }

    /// RFC 7643 §7 "readOnly: The attribute SHALL NOT be modified"; a sub-attribute of a readOnly attribute is
    /// readOnly too.
    fn read_only(&self) -> bool {
        self.attr.mutability == Mutability::ReadOnly || self.sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    }

    /// Whether the target is the User's `password` (writeOnly, RFC 7643 §4.1.1), which the canonical form never holds.
    fn is_password(&self) -> bool {
        self.home == AttrHome::Core
            && self.sub.is_none()
            && self.filter.is_none()
            && self.attr.mutability == Mutability::WriteOnly
            && self.attr.name == "password"
    }

    /// The whole multi-valued attribute, without filter or sub-attribute.
    fn whole_multi(&self) -> bool {
        self.attr.multi_valued && self.filter.is_none() && self.sub.is_none()
    }

    fn describe(&self) -> String {
        let mut s = match self.home {
            AttrHome::Extension(urn) => format!("{urn}:{}", self.attr.name),
            _ => self.attr.name.to_owned(),
        };
        if self.filter.is_some() {
            s.push_str("[…]");
        }
        if let Some(sub) = self.sub {
            s.push('.');
            s.push_str(sub.name);
        }
        s
    }
}

struct Engine {
    rt: &'static ResourceTypeDef,
    lenient: bool,
    password: Option<String>,
    /// Set while [`Engine::would_not_change`] tries a write to a readOnly target on a copy.
    trying_read_only: bool,
}

impl Engine {
    fn apply_op(&mut self, obj: &mut Map<String, Value>, op: &PatchOperation) -> Result<(), ScimError> {
        let Some(path) = &op.path else {
            return self.apply_pathless(obj, op.op, op.value.as_ref());
        };
        match self.resolve(path)? {
            Target::Resource if op.op == PatchOpKind::Remove => {
                Err(ScimError::invalid_path("remove needs the path of an attribute, not of the resource itself"))
            }
            Target::Resource => self.apply_pathless(obj, op.op, op.value.as_ref()),
            Target::Extension(ext) => self.apply_extension(obj, op.op, ext, op.value.as_ref()),
            Target::Attr(t) => self.apply_attr(obj, op.op, &t, op.value.as_ref()),
        }
    }

    /// Resolves a path against the schema, case-insensitively (RFC 7643 §2.1). Unknown attributes and filters on
    /// attributes that are not multi-valued complex are `invalidPath`: "The "path" attribute was invalid or
    /// malformed" (RFC 7644 §3.12).
    fn resolve<'p>(&self, p: &'p PatchPath) -> Result<Target<'p>, ScimError> {
        let text = attr_path_text(&p.attr);
        if p.filter.is_none() && p.sub_after_filter.is_none() {
            if text.eq_ignore_ascii_case(self.rt.schema.id) {
                return Ok(Target::Resource);
            }
            if let Some(ext) = self.rt.extension(&text) {
                return Ok(Target::Extension(ext));
            }
        }
        let unknown = || ScimError::invalid_path(format!("{text:?} is not an attribute of {}", self.rt.name));
        let Some(f) = &p.filter else {
            if p.sub_after_filter.is_some() {
                return Err(ScimError::invalid_path("a sub-attribute after \"]\" needs a value filter"));
            }
            let r = self.rt.resolve(p.attr.urn.as_deref(), &p.attr.name, p.attr.sub.as_deref()).ok_or_else(unknown)?;
            return Ok(Target::Attr(AttrTarget::plain(r.home, r.attr, r.sub)));
        };
        if p.attr.sub.is_some() {
            return Err(ScimError::invalid_path(format!(
                "{text:?}: a value filter selects values of an attribute, not of a sub-attribute"
            )));
        }
        let r = self.rt.resolve(p.attr.urn.as_deref(), &p.attr.name, None).ok_or_else(unknown)?;
        // RFC 7644 §3.5.2: "The "valuePath" rule allows specific values of a complex multi-valued attribute to be
        // selected."
        if !(r.attr.multi_valued && r.attr.ty == AttrType::Complex) {
            return Err(ScimError::invalid_path(format!(
                "{text:?} is not a multi-valued complex attribute, so a value filter cannot select its values"
            )));
        }
        let sub =
            match &p.sub_after_filter {
                None => None,
                Some(s) => Some(r.attr.sub_attr(s).ok_or_else(|| {
                    ScimError::invalid_path(format!("{s:?} is not a sub-attribute of {}", r.attr.name))
                })?),
            };
        let compiled = CompiledFilter::compile_for_element(f, r.attr).map_err(|e| match e {
            // The filter is part of the path: a bad one makes the path invalid (RFC 7644 §3.12, invalidPath).
            ScimError::BadRequest { detail, .. } => ScimError::invalid_path(detail),
            other => other,
        })?;
        Ok(Target::Attr(AttrTarget { home: r.home, attr: r.attr, sub, filter: Some((f, compiled)) }))
    }

    /// An operation without path (or with the core schema URN as path).
    fn apply_pathless(
        &mut self,
        obj: &mut Map<String, Value>,
        kind: PatchOpKind,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if kind == PatchOpKind::Remove {
            // RFC 7644 §3.5.2.2: "If "path" is unspecified, the operation fails with HTTP status code 400 and a
            // "scimType" error code of "noTarget"."
            return Err(ScimError::no_target("a remove operation needs a \"path\" (RFC 7644 §3.5.2.2)"));
        }
        // RFC 7644 §3.5.2.1: "If omitted, the target location is assumed to be the resource itself. The "value"
        // parameter contains a set of attributes to be added to the resource." §3.5.2.3: "the "value" attribute
        // SHALL contain a list of one or more attributes that are to be replaced."
        let Some(Value::Object(members)) = value else {
            return Err(ScimError::invalid_value(format!(
                "a path-less \"{}\" needs an object of attributes as \"value\"",
                kind.as_str()
            )));
        };
        for (key, v) in members {
            self.apply_pathless_member(obj, kind, key, v)?;
        }
        Ok(())
    }

    /// One member of a path-less value: the member name works as the path of that member's value, which gives the
    /// same semantics as the corresponding path operation (a complex attribute merges, a multi-valued one appends
    /// on add and is replaced on replace).
    fn apply_pathless_member(
        &mut self,
        obj: &mut Map<String, Value>,
        kind: PatchOpKind,
        key: &str,
        v: &Value,
    ) -> Result<(), ScimError> {
        // `schemas` is derived from the content in the canonical form (RFC 7644 §3.5.2: clients "MAY implicitly
        // modify the "schemas" attribute" by writing fully qualified attributes), so a copy sent along is ignored.
        if key.eq_ignore_ascii_case("schemas") {
            return Ok(());
        }
        if key.eq_ignore_ascii_case(self.rt.schema.id) {
            return self.apply_pathless(obj, kind, Some(v));
        }
        // RFC 7643 §3.3: extension attributes come in an object keyed by the extension URN.
        if let Some(ext) = self.rt.extension(key) {
            return self.apply_extension(obj, kind, ext, Some(v));
        }
        if !key.contains(['.', '[', ':']) {
            let Some(r) = self.rt.resolve(None, key, None) else {
                return self.unknown_member(key);
            };
            return self.apply_member(obj, kind, &AttrTarget::plain(r.home, r.attr, None), v);
        }
        // Lenient: Entra ID (`aadOptscim062020`) sends path-less values whose member names are paths
        // (`"name.givenName"`, `"emails[type eq \"work\"].value"`, `"urn:…:enterprise:2.0:User:employeeNumber"`).
        // Storing a literal member "name.givenName" would be wrong, so each is applied as a path. Strict: a member
        // name that is not an attribute does not "conform to the request schema", invalidSyntax (RFC 7644 §3.12).
        if !self.lenient {
            return Err(ScimError::invalid_syntax(format!(
                "{key:?} is not an attribute name; a path belongs in \"path\" (RFC 7644 §3.5.2)"
            )));
        }
        let path = parse_path(key)?;
        match self.resolve(&path) {
            // Lenient: attributes the server does not know are ignored, as for POST.
            Err(_) => Ok(()),
            Ok(Target::Resource) => self.apply_pathless(obj, kind, Some(v)),
            Ok(Target::Extension(ext)) => self.apply_extension(obj, kind, ext, Some(v)),
            Ok(Target::Attr(t)) => self.apply_member(obj, kind, &t, v),
        }
    }

    /// An attribute named inside a value object (path-less value or extension object).
    fn apply_member(
        &mut self,
        obj: &mut Map<String, Value>,
        kind: PatchOpKind,
        t: &AttrTarget<'_>,
        v: &Value,
    ) -> Result<(), ScimError> {
        if t.read_only() {
            // Lenient: Okta renames a group with `{"op":"replace","value":{"id":"<group id>","displayName":"…"}}`;
            // readOnly members of a value are ignored, as RFC 7644 §3.5.1 has PUT do ("readOnly: Any values provided
            // SHALL be ignored"). Strict: RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability
            // "readOnly"".
            if self.lenient {
                return Ok(());
            }
            return Err(read_only_error(t));
        }
        self.apply_attr(obj, kind, t, Some(v))
    }

    /// A member name that is not an attribute of the resource type.
    fn unknown_member(&self, key: &str) -> Result<(), ScimError> {
        if self.lenient {
            return Ok(());
        }
        // As for POST and PUT (`resource::normalize`): an attribute the schema does not define makes the body not
        // "conform to the request schema", invalidSyntax (RFC 7644 §3.12).
        Err(ScimError::invalid_syntax(format!("{key:?} is not an attribute of {}", self.rt.name)))
    }

    /// An operation on a whole extension: `path` is its URN, or a path-less value has its URN as member name.
    /// The extension is treated like a complex attribute: add and replace merge its attributes (RFC 7644 §3.5.2.3:
    /// "Sub-attributes that are not specified in the "value" parameter are left unchanged"), remove drops it.
    fn apply_extension(
        &mut self,
        obj: &mut Map<String, Value>,
        kind: PatchOpKind,
        ext: &'static SchemaDef,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        if kind == PatchOpKind::Remove || value.is_none_or(Value::is_null) {
            let required = self.rt.extensions.iter().any(|e| std::ptr::eq(e.schema, ext) && e.required)
                || ext.attributes.iter().any(|a| a.required);
            if required && obj.contains_key(ext.id) {
                // RFC 7644 §3.5.2.2: "If an attribute is removed or becomes unassigned and is defined as a required
                // attribute …, the server SHALL return … a "scimType" error code of "mutability"."
                return Err(ScimError::mutability(format!("the extension {} is required", ext.id)));
            }
            obj.shift_remove(ext.id);
            return Ok(());
        }
        let Some(Value::Object(members)) = value else {
            return Err(ScimError::invalid_value(format!(
                "the value of {} must be an object of its attributes",
                ext.id
            )));
        };
        for (key, v) in members {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            // Lenient: a dotted member (`"manager.value"`) is a path relative to the extension.
            let (name, sub) = match key.split_once('.') {
                Some((a, s)) if self.lenient => (a, Some(s)),
                _ => (key.as_str(), None),
            };
            let Some(r) = self.rt.resolve(Some(ext.id), name, sub) else {
                self.unknown_member(&format!("{}:{key}", ext.id))?;
                continue;
            };
            self.apply_member(obj, kind, &AttrTarget::plain(r.home, r.attr, r.sub), v)?;
        }
        Ok(())
    }

    /// An operation on an attribute target, from a path or from a member of a value object.
    fn apply_attr(
        &mut self,
        obj: &mut Map<String, Value>,
        kind: PatchOpKind,
        t: &AttrTarget<'_>,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let v = match (kind, value) {
            (PatchOpKind::Remove, _) => return self.remove(obj, t, value),
            (_, Some(v)) => v,
            (_, None) => {
                return Err(ScimError::invalid_value(format!(
                    "a \"{}\" operation must have a \"value\"",
                    kind.as_str()
                )));
            }
        };
        if t.is_password() {
            return self.set_password(obj, v);
        }
        if t.read_only() {
            // RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability "readOnly" …". Lenient:
            // IdPs echo readOnly values back unchanged; an operation that would leave the resource as it is
            // modifies nothing, so it is accepted as a no-op.
            // Only for simple values: the normaliser drops readOnly sub-attributes, so a complex readOnly value
            // (`groups`, `meta`) would always look like "no change".
            let simple = t.sub.unwrap_or(t.attr).ty != AttrType::Complex || v.is_null();
            if self.lenient && simple && self.would_not_change(obj, kind, t, v) {
                return Ok(());
            }
            return Err(read_only_error(t));
        }
        self.write(obj, kind, t, v)
    }

    /// Whether writing `v` to the readOnly target `t` would leave the resource unchanged (tried on a copy).
    fn would_not_change(&mut self, obj: &Map<String, Value>, kind: PatchOpKind, t: &AttrTarget<'_>, v: &Value) -> bool {
        let mut scratch = obj.clone();
        self.trying_read_only = true;
        let written = self.write(&mut scratch, kind, t, v);
        self.trying_read_only = false;
        if written.is_err() {
            return false;
        }
        let mut original = obj.clone();
        sync_schemas(&mut scratch, self.rt);
        sync_schemas(&mut original, self.rt);
        scratch == original
    }

    /// RFC 7643 §4.1.1: the password is writeOnly; the canonical form never holds it, so it goes to the outcome.
    fn set_password(&mut self, obj: &mut Map<String, Value>, v: &Value) -> Result<(), ScimError> {
        match v {
            Value::String(s) => {
                self.password = Some(s.clone());
                obj.shift_remove("password");
                Ok(())
            }
            // The engine cannot express "no password" to the caller; an account's password is changed, not removed.
            Value::Null => Err(ScimError::mutability("password can be replaced but not removed")),
            _ => Err(ScimError::invalid_value("password must be a string")),
        }
    }

    /// add or replace of a value (not readOnly, not the password).
    fn write(
        &mut self,
        obj: &mut Map<String, Value>,
        kind: PatchOpKind,
        t: &AttrTarget<'_>,
        v: &Value,
    ) -> Result<(), ScimError> {
        // RFC 7643 §2.5: "Unassigned attributes, the null value, or empty array (in the case of a multi-valued
        // attribute) SHALL be considered to be equivalent in "state"."
        let unassign = v.is_null() || (t.whole_multi() && v.as_array().is_some_and(Vec::is_empty));
        if unassign {
            if kind == PatchOpKind::Add && t.whole_multi() {
                // Adding no values to a multi-valued attribute adds nothing.
                return Ok(());
            }
            return self.unassign(obj, t, false);
        }
        match (&t.filter, t.sub) {
            (None, None) => self.write_whole(obj, kind, t, v),
            (None, Some(sub)) => self.write_sub_of_all(obj, t, sub, v),
            (Some((f, compiled)), sub) => self.write_filtered(obj, kind, t, f, compiled, sub, v),
        }
    }

    /// add/replace of a whole attribute.
    fn write_whole(
        &mut self,
        obj: &mut Map<String, Value>,
        kind: PatchOpKind,
        t: &AttrTarget<'_>,
        v: &Value,
    ) -> Result<(), ScimError> {
        let attr = t.attr;
        if attr.multi_valued {
            let new = self.norm_elements(attr, v)?;
            let c = container(obj, t.home)?;
            let mut arr = existing_array(c, attr.name);
            let written: Vec<usize> = match kind {
                // RFC 7644 §3.5.2.1: "If the target location specifies a multi-valued attribute, a new value is
                // added to the attribute." … "If the target location already contains the value specified, no
                // changes SHOULD be made to the resource".
                PatchOpKind::Add => {
                    let mut written = Vec::new();
                    for e in new {
                        if !arr.iter().any(|x| same_element(attr, x, &e)) {
                            written.push(arr.len());
                            arr.push(e);
                        }
                    }
                    written
                }
                // RFC 7644 §3.5.2.3: "If the target location is a multi-valued attribute and no filter is
                // specified, the attribute and all values are replaced."
                _ => {
                    arr.clear();
                    for e in new {
                        if !arr.iter().any(|x| same_element(attr, x, &e)) {
                            arr.push(e);
                        }
                    }
                    Vec::new()
                }
            };
            enforce_single_primary(&mut arr, &written);
            store_array(c, attr.name, arr);
            return Ok(());
        }
        if attr.ty == AttrType::Complex {
            // RFC 7644 §3.5.2.1: "If the target location specifies a complex attribute, a set of sub-attributes
            // SHALL be specified in the "value" parameter." §3.5.2.3: "… which replaces any existing values or adds
            // where an attribute did not previously exist. Sub-attributes that are not specified in the "value"
            // parameter are left unchanged." Both ops merge.
            let new = self.norm_complex(attr, v, true)?;
            let c = container(obj, t.home)?;
            let mut current = c.get(attr.name).and_then(Value::as_object).cloned().unwrap_or_default();
            merge_element(attr, &mut current, new)?;
            store_object(c, attr.name, current);
            return Ok(());
        }
        // RFC 7644 §3.5.2.1: "If the target location specifies a single-valued attribute, the existing value is
        // replaced." §3.5.2.3: "If the target location is a single-value attribute, the attributes value is
        // replaced."
        let x = self.norm_single(attr, v)?;
        let c = container(obj, t.home)?;
        check_immutable(attr, c.get(attr.name), &x)?;
        c.insert(attr.name.to_owned(), x);
        Ok(())
    }

    /// add/replace of `attr.sub` without filter.
    fn write_sub_of_all(
        &mut self,
        obj: &mut Map<String, Value>,
        t: &AttrTarget<'_>,
        sub: &'static AttrDef,
        v: &Value,
    ) -> Result<(), ScimError> {
        let x = self.norm_single(sub, v)?;
        let c = container(obj, t.home)?;
        if !t.attr.multi_valued {
            let mut current = c.get(t.attr.name).and_then(Value::as_object).cloned().unwrap_or_default();
            check_immutable(sub, current.get(sub.name), &x)?;
            current.insert(sub.name.to_owned(), x);
            store_object(c, t.attr.name, current);
            return Ok(());
        }
        // `emails.type` without a filter: RFC 7644 does not define it; it is applied to every value, as a filter
        // matching all values would be.
        let mut arr = existing_array(c, t.attr.name);
        if arr.is_empty() {
            if !self.lenient {
                return Err(ScimError::no_target(format!("{} has no values", t.attr.name)));
            }
            arr.push(Value::Object(Map::from_iter([(sub.name.to_owned(), x)])));
        } else {
            for e in &mut arr {
                set_sub(e, sub, x.clone())?;
            }
        }
        let all: Vec<usize> = (0..arr.len()).collect();
        enforce_single_primary(&mut arr, &all);
        store_array(c, t.attr.name, arr);
        Ok(())
    }

    /// add/replace of `attr[filter]` or `attr[filter].sub`.
    #[allow(clippy::too_many_arguments)]
    fn write_filtered(
        &mut self,
        obj: &mut Map<String, Value>,
        kind: PatchOpKind,
        t: &AttrTarget<'_>,
        f: &Filter,
        compiled: &CompiledFilter,
        sub: Option<&'static AttrDef>,
        v: &Value,
    ) -> Result<(), ScimError> {
        let attr = t.attr;
        // Normalise before touching the resource, so a bad value fails the same whether or not anything matches.
        let x = match sub {
            Some(sub) => Value::Object(Map::from_iter([(sub.name.to_owned(), self.norm_single(sub, v)?)])),
            None => Value::Object(self.norm_complex(attr, v, kind == PatchOpKind::Add)?),
        };
        let lenient = self.lenient;
        let c = container(obj, t.home)?;
        let mut arr = existing_array(c, attr.name);
        let matches: Vec<usize> = (0..arr.len()).filter(|&i| compiled.matches(&arr[i])).collect();
        let written = if matches.is_empty() {
            // RFC 7644 §3.5.2.3: "If the target location is a multi-valued attribute for which a value selection
            // filter ("valuePath") has been supplied and no record match was made, the service provider SHALL
            // indicate failure by returning HTTP status code 400 and a "scimType" error code of "noTarget"."
            // RFC 7644 §3.5.2.1 says nothing of filters; an add through a filter sets values of the selected records,
            // so with no record selected the same noTarget applies (Table 9: noTarget "occurs when the specified
            // "path" value contains a filter that yields no match").
            //
            // Lenient: Entra ID sets `addresses[type eq "work"].streetAddress` and `emails[type eq "work"].value` on
            // users that have no work address or email yet, with `replace` as well as `add`, relying on the server
            // to create the record (seen in the Entra provisioning validator's requests and in SCIM servers' issue
            // threads, e.g. scim-for-keycloak #73, wire-server #5419). The tolerance is kept to that shape: the
            // filter's `eq` comparisons must pin `type` to one of its canonical values (`{"type": "work"}`); any
            // other filter that matches nothing gets the RFC's noTarget in every mode.
            if !lenient {
                return Err(ScimError::no_target(format!("no value of {} matches the filter", t.describe())));
            }
            let Some(mut seed) = seed_from_filter(self, attr, f).filter(|seed| names_canonical_type(attr, seed)) else {
                return Err(ScimError::no_target(format!(
                    "no value of {} matches the filter (RFC 7644 §3.5.2.3); a missing value is created only for a \
                     filter that names a canonical type, such as type eq \"work\"",
                    t.describe()
                )));
            };
            if let Value::Object(m) = x {
                for (k, val) in m {
                    if val.is_null() {
                        seed.shift_remove(&k);
                    } else {
                        seed.insert(k, val);
                    }
                }
            }
            arr.push(Value::Object(seed));
            vec![arr.len() - 1]
        } else {
            for &i in &matches {
                let Value::Object(new) = &x else { continue };
                match (kind, sub) {
                    // RFC 7644 §3.5.2.3: "If the target location is a multi-valued attribute and a value selection
                    // ("valuePath") filter is specified that matches one or more values of the multi-valued
                    // attribute, then all matching record values SHALL be replaced."
                    (PatchOpKind::Replace, None) => {
                        let old = arr[i].as_object().cloned().unwrap_or_default();
                        for s in attr.sub_attributes.iter().filter(|s| s.mutability == Mutability::Immutable) {
                            if let Some(o) = old.get(s.name)
                                && new.get(s.name) != Some(o)
                            {
                                return Err(immutable_error(s));
                            }
                        }
                        arr[i] = Value::Object(new.clone());
                    }
                    // RFC 7644 §3.5.2.3: "… with a value selection filter ("valuePath") and a specific sub-attribute
                    // (e.g., "addresses[type eq "work"].streetAddress"), the matching sub-attribute of all matching
                    // records is replaced." An add through the same path does the same (RFC 7644 §3.5.2.1: "If the
                    // target location exists, the value is replaced."), and an add of an object merges it.
                    _ => {
                        let mut current = arr[i].as_object().cloned().unwrap_or_default();
                        merge_element(attr, &mut current, new.clone())?;
                        arr[i] = Value::Object(current);
                    }
                }
            }
            matches
        };
        enforce_single_primary(&mut arr, &written);
        arr.retain(|e| !e.as_object().is_some_and(Map::is_empty));
        store_array(c, attr.name, arr);
        Ok(())
    }

    /// The remove operation (RFC 7644 §3.5.2.2).
    fn remove(
        &mut self,
        obj: &mut Map<String, Value>,
        t: &AttrTarget<'_>,
        value: Option<&Value>,
    ) -> Result<(), ScimError> {
        let listed = value.filter(|v| !v.is_null() && !v.as_array().is_some_and(Vec::is_empty));
        if let Some(listed) = listed
            && t.whole_multi()
        {
            // Entra ID removes group members with `{"op":"Remove","path":"members","value":[{"value":"<id>"}]}`.
            // Read literally, RFC 7644 §3.5.2.2 makes that "remove all members": "If the target location is a
            // multi-valued attribute and no filter is specified, the attribute and all values are removed" — the
            // remove operation has no "value". Lenient: only the listed values are removed, which is what Entra
            // means. Strict: the request is refused with invalidValue ("the value specified was not compatible with
            // the operation", RFC 7644 §3.12) instead of silently emptying the group: the RFC gives `value` no
            // meaning in a remove, and guessing either way would be a silent mass change.
            if !self.lenient {
                return Err(ScimError::invalid_value(format!(
                    "remove takes no \"value\"; to remove selected values of {0} use a filter such as \
                     {0}[value eq \"…\"], to remove all of them omit \"value\" (RFC 7644 §3.5.2.2)",
                    t.attr.name
                )));
            }
            self.check_unassignable(t)?;
            let items = self.norm_elements(t.attr, listed)?;
            let Some(c) = existing_container(obj, t.home) else {
                return Ok(());
            };
            let mut arr = existing_array(c, t.attr.name);
            arr.retain(|e| !items.iter().any(|item| listed_matches(t.attr, item, e)));
            store_array(c, t.attr.name, arr);
            return self.check_required_present(obj, t);
        }
        // Table 9 of RFC 7644 §3.12, noTarget: "This occurs when the specified "path" value contains a filter that
        // yields no match." Lenient: removing what is already gone succeeds, so IdP retries are idempotent.
        self.unassign(obj, t, !self.lenient)
    }

    /// Mutability rules for making a target unassigned (remove, or add/replace with null).
    fn check_unassignable(&self, t: &AttrTarget<'_>) -> Result<(), ScimError> {
        // RFC 7644 §3.5.2.2: "If an attribute is removed or becomes unassigned and is defined as a required
        // attribute or a read-only attribute, the server SHALL return an HTTP response status code and a JSON detail
        // error response as defined in Section 3.12, with a "scimType" error code of "mutability"."
        if t.read_only() && !self.trying_read_only {
            return Err(read_only_error(t));
        }
        if t.is_password() {
            return Err(ScimError::mutability("password can be replaced but not removed"));
        }
        let leaf = t.sub.unwrap_or(t.attr);
        if (t.sub.is_some() || t.filter.is_none()) && leaf.required {
            return Err(ScimError::mutability(format!("{} is required and cannot be removed", t.describe())));
        }
        // RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability … "immutable"". Removing a
        // whole value of `members` is allowed; removing its immutable `value` is not.
        if leaf.mutability == Mutability::Immutable && (t.sub.is_some() || t.filter.is_none()) {
            return Err(immutable_error(leaf));
        }
        Ok(())
    }

    /// A required attribute that an operation emptied (e.g. by removing all its values through a filter).
    fn check_required_present(&self, obj: &Map<String, Value>, t: &AttrTarget<'_>) -> Result<(), ScimError> {
        if !t.attr.required {
            return Ok(());
        }
        let present = match t.home {
            AttrHome::Extension(urn) => obj.get(urn).and_then(|e| e.get(t.attr.name)).is_some(),
            _ => obj.contains_key(t.attr.name),
        };
        if present {
            Ok(())
        } else {
            Err(ScimError::mutability(format!("{} is required and cannot become unassigned", t.attr.name)))
        }
    }

    /// Makes the target unassigned. `no_match_is_error`: a filter that matches nothing is noTarget.
    fn unassign(
        &mut self,
        obj: &mut Map<String, Value>,
        t: &AttrTarget<'_>,
        no_match_is_error: bool,
    ) -> Result<(), ScimError> {
        self.check_unassignable(t)?;
        let attr = t.attr;
        let no_match = || ScimError::no_target(format!("no value of {} matches the filter", t.describe()));
        let Some(c) = existing_container(obj, t.home) else {
            return if no_match_is_error && t.filter.is_some() { Err(no_match()) } else { Ok(()) };
        };
        match (&t.filter, t.sub) {
            // RFC 7644 §3.5.2.2: "If the target location is a single-value attribute, the attribute and its
            // associated value is removed, and the attribute SHALL be considered unassigned." / "If the target
            // location is a multi-valued attribute and no filter is specified, the attribute and all values are
            // removed, and the attribute SHALL be considered unassigned."
            (None, None) => {
                c.shift_remove(attr.name);
            }
            (None, Some(sub)) if !attr.multi_valued => {
                let emptied = match c.get_mut(attr.name) {
                    Some(Value::Object(m)) => {
                        m.shift_remove(sub.name);
                        m.is_empty()
                    }
                    _ => false,
                };
                if emptied {
                    c.shift_remove(attr.name);
                }
            }
            (None, Some(sub)) => {
                let mut arr = existing_array(c, attr.name);
                for e in &mut arr {
                    if let Value::Object(m) = e {
                        m.shift_remove(sub.name);
                    }
                }
                arr.retain(|e| !e.as_object().is_some_and(Map::is_empty));
                store_array(c, attr.name, arr);
            }
            // RFC 7644 §3.5.2.2: "If the target location is a multi-valued attribute and a complex filter is
            // specified comparing a "value", the values matched by the filter are removed. If no other values remain
            // after removal of the selected values, the multi-valued attribute SHALL be considered unassigned." /
            // "If the target location is a complex multi-valued attribute and a complex filter is specified based on
            // the attribute's sub-attributes, the matching records are removed."
            (Some((_, compiled)), None) => {
                let mut arr = existing_array(c, attr.name);
                let before = arr.len();
                arr.retain(|e| !compiled.matches(e));
                if arr.len() == before && no_match_is_error {
                    return Err(no_match());
                }
                store_array(c, attr.name, arr);
            }
            // "Sub-attributes whose values have been removed SHALL be considered unassigned."
            (Some((_, compiled)), Some(sub)) => {
                let mut arr = existing_array(c, attr.name);
                let mut matched = false;
                for e in &mut arr {
                    if compiled.matches(e) {
                        matched = true;
                        if let Value::Object(m) = e {
                            m.shift_remove(sub.name);
                        }
                    }
                }
                if !matched && no_match_is_error {
                    return Err(no_match());
                }
                arr.retain(|e| !e.as_object().is_some_and(Map::is_empty));
                store_array(c, attr.name, arr);
            }
        }
        self.check_required_present(obj, t)
    }

    // ----- value normalisation -----
    //
    // Values go through `resource::normalize_value`, the normaliser POST and PUT use, so an attribute value is
    // accepted or refused (and canonicalised: member names, `type` of members, base64, lenient coercions such as
    // Entra's "False") the same way whatever the method. It drops readOnly sub-attributes of input values
    // (`members[].display`, manager `displayName`), as RFC 7644 §3.3 and §3.5.1 have the server do.

    fn leniency(&self) -> Leniency {
        Leniency { strict: !self.lenient }
    }

    /// The values for a multi-valued attribute: an array, or (RFC 7644 §3.5.2.1: "The value MAY be a quoted value,
    /// or it may be a JSON object containing the sub-attributes of the complex attribute") a single value taken as a
    /// one-element array. Null and empty values are dropped (RFC 7643 §2.5).
    fn norm_elements(&self, attr: &'static AttrDef, v: &Value) -> Result<Vec<Value>, ScimError> {
        let list = match v {
            Value::Array(_) => v.clone(),
            other => Value::Array(vec![other.clone()]),
        };
        match normalize_value(attr, &list, self.leniency())? {
            Some(Value::Array(items)) => Ok(items),
            _ => Ok(Vec::new()),
        }
    }

    /// One non-null value of a single-valued attribute or sub-attribute.
    fn norm_single(&self, def: &'static AttrDef, v: &Value) -> Result<Value, ScimError> {
        normalize_value(def, v, self.leniency())?
            .ok_or_else(|| ScimError::invalid_value(format!("{} needs a value", def.name)))
    }

    /// A complex value (a single-valued complex attribute, or one value of a multi-valued one): canonical
    /// sub-attribute names (RFC 7643 §2.1), checked types. With `keep_nulls`, sub-attributes sent as `null` are
    /// kept as `null` markers, for a merge to unassign them.
    fn norm_complex(
        &self,
        def: &'static AttrDef,
        v: &Value,
        keep_nulls: bool,
    ) -> Result<Map<String, Value>, ScimError> {
        let normalized = if def.multi_valued {
            self.norm_elements(def, v)?.into_iter().next()
        } else {
            normalize_value(def, v, self.leniency())?
        };
        let mut out = match normalized {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if keep_nulls && let Value::Object(m) = v {
            for (k, x) in m {
                if let Some(sub) = def.sub_attr(k)
                    && x.is_null()
                    && sub.mutability != Mutability::ReadOnly
                {
                    out.insert(sub.name.to_owned(), Value::Null);
                }
            }
        }
        Ok(out)
    }
}

fn read_only_error(t: &AttrTarget<'_>) -> ScimError {
    ScimError::mutability(format!(
        "{} is readOnly (RFC 7644 §3.5.2: a client MUST NOT modify an attribute that has mutability \"readOnly\")",
        t.describe()
    ))
}

fn immutable_error(def: &AttrDef) -> ScimError {
    ScimError::mutability(format!(
        "{} is immutable: it may be set where it has no value, not changed (RFC 7644 §3.5.2)",
        def.name
    ))
}

/// RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability … "immutable". However, a client MAY
/// "add" a value to an "immutable" attribute if the attribute had no previous value."
fn check_immutable(def: &AttrDef, old: Option<&Value>, new: &Value) -> Result<(), ScimError> {
    if def.mutability == Mutability::Immutable && old.is_some_and(|o| o != new) {
        return Err(immutable_error(def));
    }
    Ok(())
}

/// Merges normalised sub-attributes into a complex value; a `null` unassigns the sub-attribute.
fn merge_element(attr: &AttrDef, current: &mut Map<String, Value>, new: Map<String, Value>) -> Result<(), ScimError> {
    for (k, x) in new {
        let sub = attr.sub_attr(&k);
        if x.is_null() {
            if let Some(sub) = sub
                && sub.mutability == Mutability::Immutable
                && current.contains_key(&k)
            {
                return Err(immutable_error(sub));
            }
            current.shift_remove(&k);
        } else {
            if let Some(sub) = sub {
                check_immutable(sub, current.get(&k), &x)?;
            }
            current.insert(k, x);
        }
    }
    Ok(())
}

/// Sets a sub-attribute of one value of a multi-valued complex attribute.
fn set_sub(e: &mut Value, sub: &AttrDef, x: Value) -> Result<(), ScimError> {
    if !e.is_object() {
        *e = Value::Object(Map::new());
    }
    if let Value::Object(m) = e {
        check_immutable(sub, m.get(sub.name), &x)?;
        m.insert(sub.name.to_owned(), x);
    }
    Ok(())
}

/// The object that holds the attributes of `home`, created for an extension (RFC 7643 §3.3) when missing.
fn container(obj: &mut Map<String, Value>, home: AttrHome) -> Result<&mut Map<String, Value>, ScimError> {
    match home {
        AttrHome::Core | AttrHome::Common => Ok(obj),
        AttrHome::Extension(urn) => {
            let slot = obj.entry(urn).or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            slot.as_object_mut().ok_or_else(|| ScimError::Internal(format!("{urn} is not an object")))
        }
    }
}

/// The object that holds the attributes of `home`, if there is one.
fn existing_container(obj: &mut Map<String, Value>, home: AttrHome) -> Option<&mut Map<String, Value>> {
    match home {
        AttrHome::Core | AttrHome::Common => Some(obj),
        AttrHome::Extension(urn) => obj.get_mut(urn).and_then(Value::as_object_mut),
    }
}

fn existing_array(c: &Map<String, Value>, name: &str) -> Vec<Value> {
    match c.get(name) {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    }
}

/// Stores a multi-valued attribute, or removes it when empty (RFC 7643 §2.5). `insert` keeps an existing member's
/// position, so the resource's member order is stable.
fn store_array(c: &mut Map<String, Value>, name: &str, arr: Vec<Value>) {
    if arr.is_empty() {
        c.shift_remove(name);
    } else {
        c.insert(name.to_owned(), Value::Array(arr));
    }
}

/// Stores a complex attribute, or removes it when it has no sub-attribute left.
fn store_object(c: &mut Map<String, Value>, name: &str, m: Map<String, Value>) {
    if m.is_empty() {
        c.shift_remove(name);
    } else {
        c.insert(name.to_owned(), Value::Object(m));
    }
}

/// Whether two values of a multi-valued attribute are "the value specified" of RFC 7644 §3.5.2.1 ("If the target
/// location already contains the value specified, no changes SHOULD be made"): same `value` sub-attribute when the
/// attribute has one (a member is the same member whatever its `display`), otherwise equal as a whole.
fn same_element(attr: &AttrDef, a: &Value, b: &Value) -> bool {
    if let Some(value_sub) = attr.sub_attr("value")
        && let (Some(x), Some(y)) = (a.get(value_sub.name), b.get(value_sub.name))
    {
        return values_equal(value_sub, x, y);
    }
    a == b
}

/// Lenient member removal by value list: an item matches an existing value by its `value` sub-attribute, or else when
/// every sub-attribute it lists is equal.
fn listed_matches(attr: &AttrDef, item: &Value, existing: &Value) -> bool {
    if let Some(value_sub) = attr.sub_attr("value")
        && let Some(x) = item.get(value_sub.name)
    {
        return existing.get(value_sub.name).is_some_and(|y| values_equal(value_sub, x, y));
    }
    match (item, existing) {
        (Value::Object(i), Value::Object(e)) => !i.is_empty() && i.iter().all(|(k, v)| e.get(k) == Some(v)),
        _ => item == existing,
    }
}

/// Equality of two simple values, case-insensitive for strings of a non-caseExact attribute (RFC 7643 §2.2).
fn values_equal(def: &AttrDef, x: &Value, y: &Value) -> bool {
    match (x, y) {
        (Value::String(a), Value::String(b)) if !def.case_exact => a.to_lowercase() == b.to_lowercase(),
        _ => x == y,
    }
}

/// RFC 7644 §3.5.2: "For multi-valued attributes, a PATCH operation that sets a value's "primary" sub-attribute to
/// "true" SHALL cause the server to automatically set "primary" to "false" for any other values in the array."
/// `written` are the indices of the values the operation wrote.
fn enforce_single_primary(arr: &mut [Value], written: &[usize]) {
    let is_primary = |e: &Value| e.get("primary") == Some(&Value::Bool(true));
    if !written.iter().any(|&i| arr.get(i).is_some_and(is_primary)) {
        return;
    }
    for (i, e) in arr.iter_mut().enumerate() {
        if !written.contains(&i)
            && is_primary(e)
            && let Value::Object(m) = e
        {
            m.insert("primary".to_owned(), Value::Bool(false));
        }
    }
}

/// Whether a seed built from a filter pins `type` to one of the attribute's canonical values (RFC 7643 §7,
/// "canonicalValues"), as Entra's create-on-absent paths do.
fn names_canonical_type(attr: &'static AttrDef, seed: &Map<String, Value>) -> bool {
    let Some(ty) = seed.get("type").and_then(Value::as_str) else { return false };
    attr.sub_attr("type").is_some_and(|d| d.canonical_values.iter().any(|c| c.eq_ignore_ascii_case(ty)))
}

/// Lenient: the value a filter describes, for creating a missing record: `type eq "work"` gives `{"type": "work"}`,
/// `and` combines. Any other filter (`co`, `or`, `not`, …) describes no single value.
fn seed_from_filter(engine: &Engine, attr: &'static AttrDef, f: &Filter) -> Option<Map<String, Value>> {
    match f {
        Filter::Compare { path, op: CompareOp::Eq, value } if path.sub.is_none() => {
            let sub = attr.sub_attr(&path.name)?;
            let json = match value {
                CompValue::Null => return None,
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Str(s) => Value::String(s.clone()),
            };
            let json = engine.norm_single(sub, &json).ok()?;
            Some(Map::from_iter([(sub.name.to_owned(), json)]))
        }
        Filter::And(a, b) => {
            let mut left = seed_from_filter(engine, attr, a)?;
            for (k, v) in seed_from_filter(engine, attr, b)? {
                match left.get(&k) {
                    Some(existing) if existing != &v => return None,
                    _ => {
                        left.insert(k, v);
                    }
                }
            }
            Some(left)
        }
        _ => None,
    }
}
