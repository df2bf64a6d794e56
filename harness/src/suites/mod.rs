//! The check suites, one module per protocol. The SCIM checks run in a [`crate::runner::Ctx`], the OAuth checks in
//! an [`crate::oauth::OCtx`], the SAML checks in a [`crate::saml::SCtx`]; `all` and `suite` list the SCIM suite,
//! whose checks share a context type.

pub mod oauth;
pub mod saml;
pub mod scim;

use crate::check::Check;

/// Every check of every suite, in report order.
pub fn all() -> Vec<Check> {
    scim::checks()
}

/// The checks of one suite (`scim`), or `None` for an unknown suite name.
pub fn suite(name: &str) -> Option<Vec<Check>> {
    match name {
        "scim" => Some(scim::checks()),
        _ => None,
    }
}
