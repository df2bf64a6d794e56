//! The OAuth 2.0 authorization server suite: metadata (RFC 8414, RFC 9728), the authorization endpoint (RFC 6749
//! §4.1, RFC 9207, RFC 9700), the token endpoint with PKCE (RFC 7636) and client authentication, refresh tokens,
//! revocation (RFC 7009), protected resources and introspection (RFC 6750, RFC 7662) and the JWT bearer grant
//! (RFC 7523). Each check drives the server with the mock OAuth client (`crate::oauth`); checks tagged `negative`
//! send what a server must refuse, and the harness's tests show each one failing against a permissive server.

mod authorize;
mod jwt_bearer;
mod metadata;
mod refresh;
mod resource;
mod revoke;
mod token;
mod util;

pub use authorize::near_misses;
pub use jwt_bearer::GRANT as JWT_BEARER_GRANT;

use crate::check::Check;
use crate::oauth::OCtx;

/// Every OAuth check, in report order.
pub fn checks() -> Vec<Check<OCtx>> {
    let mut all = metadata::checks();
    all.extend(authorize::checks());
    all.extend(token::checks());
    all.extend(refresh::checks());
    all.extend(revoke::checks());
    all.extend(resource::checks());
    all.extend(jwt_bearer::checks());
    all
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_cite_their_clause() {
        let all = super::checks();
        let mut ids: Vec<&str> = all.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate check ids");
        for c in &all {
            assert!(c.id.starts_with("oauth."), "{}", c.id);
            assert!(c.spec.rfc.starts_with("RFC ") && !c.spec.text.is_empty(), "{}", c.id);
        }
    }
}
