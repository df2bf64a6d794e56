//! The SCIM filter language of [RFC 7644 §3.4.2.2] and the PATCH path language of [RFC 7644 §3.5.2]: the syntax tree,
//! the parser, a printer whose output parses back to the same tree, and evaluation against resources.
//!
//! [RFC 7644 §3.4.2.2]: https://www.rfc-editor.org/rfc/rfc7644#section-3.4.2.2
//! [RFC 7644 §3.5.2]: https://www.rfc-editor.org/rfc/rfc7644#section-3.5.2

mod eval;
mod parse;
mod print;
#[cfg(test)]
mod tests;

pub use eval::{CompiledFilter, compare_values};
pub use parse::{MAX_LOGICAL_OPERATORS, MAX_NESTING, parse_attr_path, parse_filter, parse_patch_path};

use super::error::{ScimError, ScimType};

/// An attribute path, `[URI ":"] ATTRNAME ["." subAttr]` (RFC 7644 §3.10), as written (not yet resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, when the path is fully qualified.
    pub urn: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute name.
    pub sub: Option<String>,
}

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison value: JSON literal `null`, `true`/`false`, a number, or a string (RFC 7644 §3.4.2.2, `compValue`).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    Str(String),
}

/// A filter expression (RFC 7644 §3.4.2.2, Figure 1).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath compareOp compValue`.
    Compare { path: AttrPath, op: CompareOp, value: CompValue },
    /// `attrPath pr`.
    Present(AttrPath),
    /// `filter and filter` (binds tighter than `or`).
    And(Box<Filter>, Box<Filter>),
    /// `filter or filter`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (filter)`.
    Not(Box<Filter>),
    /// `attrPath "[" valFilter "]"`: the inner filter's paths are relative to the (complex) attribute.
    ValuePath { path: AttrPath, filter: Box<Filter> },
}

/// A PATCH `path` (RFC 7644 §3.5.2, `PATH = attrPath / valuePath [subAttr]`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute (with its sub-attribute when the path is a plain `attrPath`).
    pub attr: AttrPath,
    /// The value filter of a `valuePath`, e.g. `type eq "work"` in `emails[type eq "work"].value`.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter, e.g. `value` in `emails[type eq "work"].value`.
    pub sub_after_filter: Option<String>,
}

/// Why a filter or path could not be parsed: the character offset where it went wrong and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset into the input.
    pub position: usize,
    /// What went wrong, for the `detail` of the 400 response.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at character {})", self.message, self.position + 1)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    /// This error as a 400 with the given `scimType`: `invalidFilter` for `filter` (RFC 7644 §3.4.2.2), `invalidPath`
    /// for a PATCH `path` (RFC 7644 §3.5.2).
    pub fn to_scim(&self, scim_type: ScimType) -> ScimError {
        ScimError::bad(scim_type, self.to_string())
    }
}

impl Filter {
    /// The path and string when the whole filter is `attr eq "string"`, the shape IdPs use to look a resource up
    /// (`userName eq "…"`, `externalId eq "…"`, `displayName eq "…"`), so the store can answer it from an index.
    /// The caller still decides, from the attribute's `caseExact`, how to compare.
    pub fn as_simple_eq(&self) -> Option<(&AttrPath, &str)> {
        match self {
            Filter::Compare { path, op: CompareOp::Eq, value: CompValue::Str(s) } => Some((path, s)),
            _ => None,
        }
    }

    /// Every `attr eq "string"` that must hold for the filter to match: the operands of a top-level chain of `and`s
    /// that have the shape of [`as_simple_eq`](Self::as_simple_eq). The store can narrow candidates by any of them
    /// and still has to evaluate the whole filter.
    pub fn required_eqs(&self) -> Vec<(&AttrPath, &str)> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(f) = stack.pop() {
            match f {
                Filter::And(l, r) => {
                    stack.push(r);
                    stack.push(l);
                }
                f => out.extend(f.as_simple_eq()),
            }
        }
        out
    }
}
