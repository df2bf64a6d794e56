//! The mock IdP's metadata (SAML Metadata §2.3.2, §2.4.3): what an SP imports to trust it.

use super::xml::{Document, Element};
use super::{DSIG_NS, IdpKey, METADATA_NS, NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_UNSPECIFIED, PROTOCOL_NS};

/// The HTTP-Redirect binding (SAML Bindings §3.4).
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The HTTP-POST binding (SAML Bindings §3.5).
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// An EntityDescriptor with one IDPSSODescriptor: the signing certificate (`KeyDescriptor use="signing"`),
/// SingleLogoutService and SingleSignOnService for the Redirect and POST bindings, and the NameID formats the
/// mock IdP issues. Elements follow the schema's order (KeyDescriptor, SingleLogoutService, NameIDFormat,
/// SingleSignOnService).
pub fn metadata_xml(entity_id: &str, sso_url: &str, slo_url: &str, key: &IdpKey) -> String {
    let md = |local: &str| Element::new(&format!("md:{local}"), METADATA_NS);
    let ds = |local: &str| Element::new(&format!("ds:{local}"), DSIG_NS);
    let service =
        |local: &str, binding: &str, url: &str| md(local).with_attr("Binding", binding).with_attr("Location", url);
    let key_descriptor = md("KeyDescriptor").with_attr("use", "signing").with_child(
        ds("KeyInfo").with_child(ds("X509Data").with_child(ds("X509Certificate").with_text(&key.certificate_base64()))),
    );
    let mut descriptor = md("IDPSSODescriptor")
        .with_attr("WantAuthnRequestsSigned", "false")
        .with_attr("protocolSupportEnumeration", PROTOCOL_NS)
        .with_child(key_descriptor)
        .with_child(service("SingleLogoutService", BINDING_REDIRECT, slo_url))
        .with_child(service("SingleLogoutService", BINDING_POST, slo_url));
    for format in [NAMEID_EMAIL, NAMEID_PERSISTENT, NAMEID_UNSPECIFIED] {
        descriptor = descriptor.with_child(md("NameIDFormat").with_text(format));
    }
    descriptor = descriptor.with_child(service("SingleSignOnService", BINDING_REDIRECT, sso_url)).with_child(service(
        "SingleSignOnService",
        BINDING_POST,
        sso_url,
    ));
    let root = md("EntityDescriptor")
        .with_attr("xmlns:md", METADATA_NS)
        .with_attr("xmlns:ds", DSIG_NS)
        .with_attr("entityID", entity_id)
        .with_child(descriptor);
    Document { prolog: r#"<?xml version="1.0" encoding="UTF-8"?>"#.to_owned(), root, epilog: String::new() }.to_xml()
}
