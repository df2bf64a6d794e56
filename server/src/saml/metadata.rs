//! SAML 2.0 metadata (SAML Metadata, OASIS saml-metadata-2.0-os): reading an IdP's `EntityDescriptor` into a
//! connection, and writing this service provider's own.
//!
//! IdP metadata is read with the same strict parser as Responses (`saml::xml`): size-capped, DOCTYPE refused
//! before any parsing. Metadata signatures are not checked: whoever pastes metadata is a workspace admin who
//! vouches for it, exactly as when they type the fields by hand.

use super::xml;
use super::{SamlError, SigningCertificate, dsig::DSIG_NS, has_doctype, xml_error};

/// The SAML 2.0 metadata namespace.
pub const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// The HTTP-Redirect binding (SAML Bindings §3.4).
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The HTTP-POST binding (SAML Bindings §3.5).
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// The email-address NameID format (SAML Core §8.3.2).
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// The largest IdP metadata document accepted, in bytes.
pub const MAX_METADATA_BYTES: usize = 256 * 1024;
/// The most signing certificates one connection keeps.
pub const MAX_CERTIFICATES: usize = 5;

/// What a connection needs from an IdP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    /// `EntityDescriptor/@entityID`.
    pub entity_id: String,
    /// The SingleSignOnService location.
    pub sso_url: String,
    /// `redirect` or `post`: the binding of `sso_url` (HTTP-Redirect preferred).
    pub sso_binding: &'static str,
    /// The HTTP-Redirect SingleLogoutService location, if any.
    pub slo_url: Option<String>,
    /// The HTTP-POST SingleLogoutService location, if any.
    pub slo_post_url: Option<String>,
    /// The signing certificates (`KeyDescriptor` with `use="signing"` or no `use`), in document order.
    pub certificates: Vec<SigningCertificate>,
}

fn bad(reason: impl Into<String>) -> SamlError {
    SamlError::Metadata(reason.into())
}

/// Reads an IdP's metadata: an `EntityDescriptor`, or an `EntitiesDescriptor` holding exactly one.
pub fn parse_idp_metadata(text: &str) -> Result<IdpMetadata, SamlError> {
    if text.len() > MAX_METADATA_BYTES {
        return Err(SamlError::TooLarge { limit: MAX_METADATA_BYTES });
    }
    if has_doctype(text.as_bytes()) {
        return Err(SamlError::Doctype);
    }
    let doc = xml::parse(text).map_err(xml_error)?;
    let entity = if doc.is(METADATA_NS, "EntityDescriptor") {
        &doc
    } else if doc.is(METADATA_NS, "EntitiesDescriptor") {
        let mut all = doc.children_named(METADATA_NS, "EntityDescriptor");
        match (all.next(), all.next()) {
            (Some(one), None) => one,
            _ => return Err(bad("an EntitiesDescriptor must hold exactly one EntityDescriptor")),
        }
    } else {
        return Err(bad(format!("the root element is `{}`, not md:EntityDescriptor", doc.name)));
    };
    // SAML Metadata §2.3.2: entityID is required, at most 1024 characters.
    let entity_id = entity.attr("entityID").map(str::trim).unwrap_or_default();
    if entity_id.is_empty() || entity_id.chars().count() > 1024 {
        return Err(bad("EntityDescriptor has no usable entityID"));
    }
    let idp = match entity.single_child(METADATA_NS, "IDPSSODescriptor") {
        Ok(Some(idp)) => idp,
        Ok(None) => return Err(bad("no IDPSSODescriptor: this is not an IdP's metadata")),
        Err(()) => return Err(bad("more than one IDPSSODescriptor")),
    };
    // SAML Metadata §2.4.3: the IdP lists one SingleSignOnService per binding; this SP sends AuthnRequests with
    // HTTP-Redirect, or with HTTP-POST when that is all the IdP has.
    let service = |name: &str, binding: &str| -> Option<String> {
        idp.children_named(METADATA_NS, name)
            .find(|s| s.attr("Binding") == Some(binding))
            .and_then(|s| s.attr("Location"))
            .map(|l| l.trim().to_owned())
    };
    let (sso_url, sso_binding) =
        match (service("SingleSignOnService", BINDING_REDIRECT), service("SingleSignOnService", BINDING_POST)) {
            (Some(url), _) => (url, "redirect"),
            (None, Some(url)) => (url, "post"),
            (None, None) => return Err(bad("no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding")),
        };
    check_url(&sso_url).map_err(|e| bad(format!("SingleSignOnService Location: {e}")))?;
    // SAML Metadata §2.4.2: one SingleLogoutService per binding; this SP answers with the binding the IdP's
    // message came with when the IdP has an endpoint for it (SAML Profiles §4.4.4.2), so both are kept.
    let slo_url = service("SingleLogoutService", BINDING_REDIRECT);
    let slo_post_url = service("SingleLogoutService", BINDING_POST);
    for url in slo_url.iter().chain(&slo_post_url) {
        check_url(url).map_err(|e| bad(format!("SingleLogoutService Location: {e}")))?;
    }
    let mut certificates = Vec::new();
    // SAML Metadata §2.4.1.1: a KeyDescriptor without `use` is for signing and encryption alike.
    for key in idp.children_named(METADATA_NS, "KeyDescriptor").filter(|k| k.attr("use").is_none_or(|u| u == "signing"))
    {
        let certs = key
            .children_named(DSIG_NS, "KeyInfo")
            .flat_map(|i| i.children_named(DSIG_NS, "X509Data"))
            .flat_map(|d| d.children_named(DSIG_NS, "X509Certificate"));
        for cert in certs {
            let text = cert.text().ok_or_else(|| bad("an X509Certificate has child elements"))?;
            let parsed = SigningCertificate::from_base64(&text)?;
            if !certificates.contains(&parsed) {
                certificates.push(parsed);
            }
        }
    }
    if certificates.is_empty() {
        return Err(bad("no signing certificate (KeyDescriptor use=\"signing\" with an X509Certificate)"));
    }
    if certificates.len() > MAX_CERTIFICATES {
        return Err(bad(format!("more than {MAX_CERTIFICATES} signing certificates")));
    }
    Ok(IdpMetadata { entity_id: entity_id.to_owned(), sso_url, sso_binding, slo_url, slo_post_url, certificates })
}

/// An endpoint URL: absolute `https` or `http`, with a host, no fragment, no user info, at most 2048 bytes.
pub fn check_url(url: &str) -> Result<(), String> {
    if url.len() > 2048 {
        return Err("longer than 2048 bytes".into());
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| "must be an absolute http(s) URL".to_owned())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err("must have a host and no user information".into());
    }
    if url.contains('#') {
        return Err("must not have a fragment".into());
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>') {
        return Err("contains characters a URL cannot hold".into());
    }
    Ok(())
}

pub use crate::markup::escape;

/// This SP's metadata (SAML Metadata §2.4.4): the ACS with the HTTP-POST binding, single logout with the
/// HTTP-Redirect binding, the email NameID format. AuthnRequests are not signed and assertions must be
/// (`AuthnRequestsSigned="false"`, `WantAssertionsSigned="true"`); no KeyDescriptor, as the SP signs nothing.
pub fn sp_metadata(entity_id: &str, acs_url: &str, slo_url: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="{METADATA_NS}" entityID="{entity}"><md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleLogoutService Binding="{BINDING_REDIRECT}" Location="{slo}"/><md:SingleLogoutService Binding="{BINDING_POST}" Location="{slo}"/><md:NameIDFormat>{NAMEID_EMAIL}</md:NameIDFormat><md:AssertionConsumerService Binding="{BINDING_POST}" Location="{acs}" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>
"#,
        entity = escape(entity_id),
        acs = escape(acs_url),
        slo = escape(slo_url),
    )
}
