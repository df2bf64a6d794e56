//! The mock SAML 2.0 IdP: signing keys, Web Browser SSO Responses in Okta's and Entra's attribute styles, IdP
//! metadata, and the forged Responses that attack checks send to a service provider.
//!
//! Written independently of the reference server's SP (`server/src/saml`): the harness tests third-party SPs
//! over HTTP too, and an IdP that shared the SP's code would share its mistakes.
//!
//! - [`IdpKey`]: an RSA key and self-signed certificate, generated or read from PEM; [`IdpKey::foreign`] makes
//!   an attacker's.
//! - [`ResponseSpec`]: a Response with sensible defaults, every value settable, times from an injected "now",
//!   Okta's or Entra's attribute statement ([`AttributeStyle`]) and namespace spelling ([`NamespaceStyle`]);
//!   [`ResponseSpec::sign`] signs with xmlsec (through samael): enveloped signature, exclusive C14N, one
//!   Reference to the signed element's ID, KeyInfo carrying the certificate (SAML Core §5.4).
//! - [`post_form`]: the HTTP-POST binding's form body (SAML Bindings §3.5.4); [`metadata_xml`]: the IdP's
//!   EntityDescriptor.
//! - [`AuthnRequest`], [`LogoutRequest`]: what an SP sends, read from either binding with a size cap and no
//!   DOCTYPE; [`logout_response_xml`] and [`signed_redirect_query`]: the answer to a LogoutRequest.
//! - [`attacks`]: forged variants of a signed Response.
//! - [`SamlTarget`] (`target.rs`): the SP under test, from a target file's `[saml]` section; [`SCtx`] and [`run`]
//!   (`run.rs`): the context the checks of `suites::saml` run in (fresh sign-ins, posting to the ACS, judging
//!   acceptance by the target's success rules) and their runner.
//!
//! # Attacks and their sources
//!
//! | function | what the SP receives | source |
//! | --- | --- | --- |
//! | [`attacks::unsigned`] | every signature removed | signature exclusion, Somorovsky et al. 2012 |
//! | [`attacks::signed_by_foreign_key`] | signed by another key, KeyInfo still the IdP's certificate | a verifier that trusts KeyInfo's name, or checks nothing |
//! | [`attacks::attacker_certificate`] | signed by another key carrying its own certificate | CVE-2021-21239 (pysaml2 verifying with the embedded key) |
//! | [`attacks::tampered_name_id`] | the NameID changed after signing | digest not checked |
//! | [`attacks::xsw`] XSW1–XSW8 | the eight signature-wrapping placements | Somorovsky, Mayer, Schwenk, Kampmann, Jensen, "On Breaking SAML: Be Whoever You Want to Be", USENIX Security 2012; names as in SAML Raider |
//! | [`attacks::duplicate_assertion`] | a second, unsigned Assertion after the signed one | CVE-2022-41912 (crewjam/saml) |
//! | [`attacks::comment_in_name_id`] | `admin@corp.example<!---->.evil.example`, still validly signed | Duo Labs 2018: CVE-2017-11427, -11428, -11429, -11430 |
//! | [`attacks::doctype`] | internal entity, external entity (XXE), billion laughs | CWE-611, CWE-776, CVE-2003-1564 |
//! | [`attacks::oversized`] | padded to N bytes, still validly signed | CWE-400 |
//! | [`attacks::deflate_bomb`] | a Redirect-binding value inflating to N bytes | CWE-409 |
//! | [`attacks::expired`], [`attacks::not_yet_valid`] (and their accepted boundaries) | times at the skew boundary | SAML Core §2.5.1.2 |
//! | [`attacks::wrong_audience`], [`attacks::missing_audience`] | another or no AudienceRestriction | SAML Core §2.5.1.4, Profiles §4.1.4.2 |
//! | [`attacks::wrong_recipient`], [`attacks::wrong_destination`], [`attacks::wrong_issuer`] | valid signature, wrong values | Profiles §4.1.4.2, Bindings §3.5.5.2 |
//! | [`attacks::non_success_status`] | Responder / AuthnFailed around a valid assertion | SAML Core §3.2.2.2 |
//! | [`attacks::wrong_in_response_to`], [`attacks::reused_in_response_to`] | an unknown or already answered request | Profiles §4.1.4.3, §4.1.4.5 |
//!
//! The condition cases are [`ResponseSpec`] variations signed normally. libxmlsec1 refuses the wrappings that
//! put the signed content inside its own `ds:Signature` (XSW1 and XSW6: an unexpected child of the signature;
//! XSW8: the enveloped-signature transform drops the `ds:Object` with the rest of the signature, so the digest
//! differs). XSW2–5 and XSW7 still verify, which is what makes them dangerous to an SP that then reads another
//! element than the one verified.

pub mod attacks;
mod key;
mod metadata;
mod requests;
mod response;
pub mod run;
pub mod target;
mod xml;

#[cfg(test)]
mod tests;

pub use key::{FOREIGN_COMMON_NAME, IdpKey};
pub use metadata::{BINDING_POST, BINDING_REDIRECT, metadata_xml};
pub use requests::{
    AuthnRequest, LogoutRequest, MAX_MESSAGE_BYTES, SIG_ALG_RSA_SHA256, decode_message, logout_response_xml,
    signed_redirect_query,
};
pub use response::{
    ATTRNAME_BASIC, ATTRNAME_UNSPECIFIED, Algorithm, AttributeStyle, ENTRA_CLAIMS, ENTRA_DISPLAY_NAME, ENTRA_GROUPS,
    ENTRA_IDENTITY_PROVIDER, ENTRA_OBJECT_ID, ENTRA_TENANT_ID, NamespaceStyle, ResponseSpec, SigningMode,
    form_urlencode, post_fields, post_form, random_id, xsd_time,
};
pub use run::{SCtx, run};
pub use target::{OtherWorkspace, SamlTarget, SpClock};

/// The SAML 2.0 protocol namespace.
pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 assertion namespace.
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The SAML 2.0 metadata namespace.
pub const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// The XML Signature namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML Schema (for `xs:string`).
const XS_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// XML Schema instance (for `xsi:type`).
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The top-level status of a successful Response (SAML Core §3.2.2.2).
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// The top-level status of an IdP that failed (SAML Core §3.2.2.2).
pub const STATUS_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
/// The bearer confirmation method (SAML Profiles §3.3).
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// The email NameID format (SAML Core §8.3.2).
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// The persistent NameID format (SAML Core §8.3.7).
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
/// The unspecified NameID format (SAML Core §8.3.1).
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// Why the mock IdP could not build, sign or forge a message.
#[derive(Debug, thiserror::Error)]
pub enum SamlIdpError {
    /// An OpenSSL operation on the key or certificate failed.
    #[error("cannot {what}")]
    Key {
        /// What was being done.
        what: &'static str,
        /// OpenSSL's error.
        #[source]
        source: openssl::error::ErrorStack,
    },
    /// A key or certificate file could not be read.
    #[error("cannot read {path}")]
    KeyFile {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The certificate's public key is not the private key's.
    #[error("the certificate does not belong to the private key")]
    KeyMismatch,
    /// xmlsec refused to sign.
    #[error("xmlsec could not sign")]
    Sign(#[source] samael::crypto::CryptoError),
    /// The input is not well-formed, namespace-correct XML.
    #[error("not well-formed XML: {0}")]
    Xml(String),
    /// The input lacks an element the operation needs.
    #[error("the document has no {0}")]
    Missing(&'static str),
    /// The attack does not apply to this input (e.g. XSW1 on an unsigned Response).
    #[error("not applicable: {0}")]
    NotApplicable(String),
    /// A message from an SP was refused (too large, not base64, a DOCTYPE, the wrong element).
    #[error("refused: {0}")]
    Refused(String),
    /// Compressing failed.
    #[error("cannot deflate")]
    Deflate(#[source] std::io::Error),
}
