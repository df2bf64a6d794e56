//! The SAML 2.0 service provider suite: a valid Response must sign the user in, and the forgeries of the mock IdP
//! (`crate::saml::attacks`) must not — signature exclusion, foreign signers, tampering, the eight signature
//! wrappings, duplicate assertions, comment injection, DOCTYPEs, oversized messages — nor must Responses that are
//! validly signed but wrong: audience, recipient, destination, issuer, status, times beyond the skew, InResponseTo,
//! replay — nor Responses signed by the IdP of another workspace of the same SP. RelayState must not redirect off
//! the SP. Controls just inside the skew must still sign in, so the refusals are the SP's judgement, not a suite
//! that refuses everything.
//!
//! Every check posts a Response for a fresh sign-in (a fresh AuthnRequest when the target has a `login_url`).
//! Forgeries that claim an identity are built the way an attacker builds them: the attacker holds a validly signed
//! assertion for an account of their own ([`ATTACKER_NAME_ID`]) and makes it claim the target's user, so an SP that
//! ignores the forged part still refuses (the attacker's account is unknown to it) and only an SP that reads the
//! forged part signs anyone in. Checks tagged `negative` send what an SP must refuse; the harness's tests show each
//! failing against an ACS that accepts everything.

mod conditions;
mod signature;
mod tenancy;

use crate::check::Check;
use crate::saml::SCtx;

/// SAML Profiles §4.1.4.3, the first thing an SP does with a Response.
const VERIFY_SIGNATURES: &str = "Verify any signatures present on the assertion(s) or the response";
/// SAML Profiles §4.1.4.2, on bearer assertions.
const AUDIENCE: &str = "The assertion(s) containing a bearer subject confirmation MUST contain an <AudienceRestriction> including the service provider's unique identifier as an <Audience>.";

pub use conditions::{BEYOND_SKEW, INSIDE_SKEW};

/// The attacker's own account at the IdP, unknown to the SP.
pub const ATTACKER_NAME_ID: &str = "attacker@attacker.example";

/// Every SAML check, in report order.
pub fn checks() -> Vec<Check<SCtx>> {
    let mut all = signature::checks();
    all.extend(conditions::checks());
    all.extend(tenancy::checks());
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
            assert!(c.id.starts_with("saml."), "{}", c.id);
            assert!(!c.spec.rfc.is_empty() && !c.spec.section.is_empty() && !c.spec.text.is_empty(), "{}", c.id);
        }
        assert_eq!(all.iter().filter(|c| c.id.starts_with("saml.xsw.")).count(), 8);
    }
}
