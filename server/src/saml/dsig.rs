//! XML Signature: the shape checks this module makes before xmlsec runs, and the call to samael's xmlsec
//! verification.
//!
//! Before: every `ds:Signature` must sit directly in the Response or in its Assertion, have one SignedInfo with
//! one Reference whose URI is `#` + that parent's ID (SAML Core §5.4.2), only enveloped-signature and C14N
//! transforms (SAML Core §5.4.3, §5.4.4; so no XPath or XSLT transform, and no remote URI for xmlsec to fetch), no
//! `ds:Object`, and allowed algorithms (SHA-1 only when the connection allows it).
//!
//! Then samael (`reduce_xml_to_signed_with_allowed_algorithms`, [`ReduceMode::PreDigest`]) parses the document
//! with libxml2, registers every `ID` attribute (refusing duplicates), verifies **every** signature with xmlsec
//! against the configured certificates only — the key is set on the signature context, so xmlsec never reads
//! `ds:KeyInfo` — and returns the canonical bytes the verified reference digested. Those bytes, not the posted
//! document, are what the caller reads the assertion from.

use samael::crypto::{AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode};

use super::SamlError;
use super::xml::Element;

/// The XML Signature namespace.
pub(crate) const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const EXC_C14N_NS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const CANONICALIZATIONS: [&str; 6] = [
    "http://www.w3.org/2001/10/xml-exc-c14n#",
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
    "http://www.w3.org/2006/12/xml-c14n11",
    "http://www.w3.org/2006/12/xml-c14n11#WithComments",
];
const SHA1_SIGNATURES: [&str; 2] =
    ["http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1"];
const SHA1_DIGEST: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
/// The algorithms accepted without SHA-1 (also handed to samael, which enforces them again at the xmlsec level).
const STRONG: [AllowedSignatureAlgorithm; 6] = [
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

fn structure(reason: &str) -> SamlError {
    SamlError::SignatureStructure(reason.to_owned())
}

fn dsig_child<'a>(parent: &'a Element, name: &str) -> Result<&'a Element, SamlError> {
    match parent.single_child(DSIG_NS, name) {
        Ok(Some(child)) => Ok(child),
        Ok(None) => Err(structure(&format!("no ds:{name}"))),
        Err(()) => Err(structure(&format!("more than one ds:{name}"))),
    }
}

fn algorithm(element: &Element) -> Result<&str, SamlError> {
    element.attr("Algorithm").ok_or_else(|| structure(&format!("ds:{} without Algorithm", element.name)))
}

fn check_signature_method(uri: &str, allow_sha1: bool) -> Result<(), SamlError> {
    if SHA1_SIGNATURES.contains(&uri) {
        return if allow_sha1 { Ok(()) } else { Err(SamlError::Sha1Refused(uri.to_owned())) };
    }
    if STRONG.iter().any(|a| a.signature_uri() == uri) {
        Ok(())
    } else {
        Err(SamlError::UnsupportedAlgorithm(uri.to_owned()))
    }
}

fn check_digest_method(uri: &str, allow_sha1: bool) -> Result<(), SamlError> {
    if uri == SHA1_DIGEST {
        return if allow_sha1 { Ok(()) } else { Err(SamlError::Sha1Refused(uri.to_owned())) };
    }
    if STRONG.iter().any(|a| a.digest_uri() == uri) {
        Ok(())
    } else {
        Err(SamlError::UnsupportedAlgorithm(uri.to_owned()))
    }
}

/// Checks the shape and algorithms of `signature`, a `ds:Signature` child of `parent` (the Response or the
/// Assertion), before any cryptography.
pub(crate) fn check_shape(signature: &Element, parent: &Element, allow_sha1: bool) -> Result<(), SamlError> {
    let Some(parent_id) = parent.attr("ID") else {
        return Err(structure("the signed element has no ID"));
    };
    if signature.children_named(DSIG_NS, "Object").next().is_some() {
        // SAML signatures are enveloped (SAML Core §5.4.1); an Object is where wrapping attacks hide content.
        return Err(structure("ds:Object in a SAML signature"));
    }
    dsig_child(signature, "SignatureValue")?;
    let signed_info = dsig_child(signature, "SignedInfo")?;
    let c14n = algorithm(dsig_child(signed_info, "CanonicalizationMethod")?)?;
    if !CANONICALIZATIONS.contains(&c14n) {
        return Err(SamlError::UnsupportedAlgorithm(c14n.to_owned()));
    }
    check_signature_method(algorithm(dsig_child(signed_info, "SignatureMethod")?)?, allow_sha1)?;
    // SAML Core §5.4.2: "Signatures MUST contain a single <ds:Reference> containing a same-document reference to
    // the ID attribute value of the root element of the assertion or protocol message being signed."
    let reference = dsig_child(signed_info, "Reference")?;
    let uri = reference.attr("URI").unwrap_or_default();
    if uri.strip_prefix('#') != Some(parent_id) {
        return Err(SamlError::SignatureReference { uri: uri.to_owned(), expected: parent_id.to_owned() });
    }
    if let Ok(Some(transforms)) = reference.single_child(DSIG_NS, "Transforms") {
        for transform in transforms.elements() {
            if !transform.is(DSIG_NS, "Transform") {
                return Err(structure("unexpected element in ds:Transforms"));
            }
            let uri = algorithm(transform)?;
            if uri != ENVELOPED && !CANONICALIZATIONS.contains(&uri) {
                return Err(SamlError::UnsupportedAlgorithm(uri.to_owned()));
            }
            if transform.elements().any(|e| !e.is(EXC_C14N_NS, "InclusiveNamespaces")) {
                return Err(structure("unexpected transform parameter"));
            }
        }
    } else if reference.single_child(DSIG_NS, "Transforms").is_err() {
        return Err(structure("more than one ds:Transforms"));
    }
    check_digest_method(algorithm(dsig_child(reference, "DigestMethod")?)?, allow_sha1)?;
    dsig_child(reference, "DigestValue")?;
    if reference
        .elements()
        .any(|e| !(e.is(DSIG_NS, "Transforms") || e.is(DSIG_NS, "DigestMethod") || e.is(DSIG_NS, "DigestValue")))
    {
        return Err(structure("unexpected element in ds:Reference"));
    }
    Ok(())
}

/// Verifies every signature of `xml` against `certificates` (DER) with xmlsec and returns the canonical bytes
/// the verified reference covers (the Response's when it is signed, else the Assertion's).
pub(crate) fn verify(xml: &str, certificates: &[Vec<u8>], allow_sha1: bool) -> Result<String, SamlError> {
    if certificates.is_empty() {
        return Err(SamlError::NoCertificate);
    }
    let certs: Vec<CertificateDer> = certificates.iter().map(|der| CertificateDer::from(der.clone())).collect();
    let allowed = if allow_sha1 { None } else { Some(&STRONG[..]) };
    Crypto::reduce_xml_to_signed_with_allowed_algorithms(xml, &certs, ReduceMode::PreDigest, allowed)
        .map_err(|_| SamlError::SignatureInvalid)
}
