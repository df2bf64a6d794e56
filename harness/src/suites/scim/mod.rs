//! The SCIM 2.0 suite (RFC 7643, RFC 7644, RFC 9865): one module per section of the report.

pub mod auth;
pub mod bulk;
pub mod crud;
pub mod discovery;
pub mod errors;
pub mod etag;
pub mod filter;
pub mod groups;
pub mod idp;
pub mod me;
pub mod pagination;
pub mod patch;
pub mod projection;
pub mod search;
pub mod sort;
pub mod util;

use crate::check::Check;

/// Every SCIM check, in report order.
pub fn checks() -> Vec<Check> {
    [
        discovery::checks(),
        auth::checks(),
        crud::checks(),
        errors::checks(),
        filter::checks(),
        pagination::checks(),
        sort::checks(),
        projection::checks(),
        search::checks(),
        patch::checks(),
        etag::checks(),
        bulk::checks(),
        groups::checks(),
        me::checks(),
        idp::checks(),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_well_formed_and_cited() {
        let all = checks();
        let mut seen = HashSet::new();
        for c in &all {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            assert_eq!(c.id.split('.').count(), 3, "{} is not scim.<section>.<name>", c.id);
            assert!(c.id.starts_with("scim."), "{}", c.id);
            // RFC checks cite an RFC; IdP checks (tag `idp`) cite the IdP whose documented behaviour they enforce.
            assert!(c.spec.rfc.starts_with("RFC ") || c.tags.contains(&"idp"), "{}", c.id);
            assert!(!c.spec.section.is_empty() && c.spec.text.len() > 20, "{} lacks a quoted clause", c.id);
            assert!(!c.title.is_empty(), "{}", c.id);
        }
        assert!(all.len() >= 60, "only {} checks", all.len());
    }
}
