//! The SCIM 2.0 domain (RFC 7643, RFC 7644, RFC 9865): schemas, filters, PATCH, validation, projection.
//! Nothing here knows about HTTP.
//!
//! # The stored form of a resource
//!
//! Every module here shares one JSON shape for a resource as the server holds it (the *canonical form*):
//! - a JSON object whose keys are the schema's canonical attribute names (`userName`, `name.givenName` as
//!   `{"name": {"givenName": …}}`), whatever case the client used (RFC 7643 §2.1: names are case-insensitive);
//! - extension attributes inside an object keyed by the extension's URN exactly as the schema spells it
//!   (`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": …}}`, RFC 7643 §3.3);
//! - `schemas` lists the core URN and the URN of each extension that has a value;
//! - `id` and `meta` (`resourceType`, `created`, `lastModified`, `version`) are set by the server; `meta.location`
//!   is added only when rendering, because it depends on the base URL of the request;
//! - no attribute holds `null` or an empty array: RFC 7643 §2.5 treats those as unassigned, so they are removed;
//! - `password` is never part of it: the service hashes it and keeps the hash aside;
//! - a user's `groups` is derived from group memberships by the store, never taken from input.

pub mod bulk;
pub mod directory;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod patch;
pub mod project;
pub mod resource;
pub mod schema;
pub mod service;

/// How literally the server reads the RFCs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Leniency {
    /// `--strict`: follow RFC 7643/7644 to the letter and answer the shapes real IdPs send (capitalised PATCH ops,
    /// string booleans, path-less values with dotted keys, member removal by value list, unknown attributes) with the
    /// RFC's errors. When false (the default), those shapes are accepted, as the README's "IdP quirks" section lists.
    pub strict: bool,
}
