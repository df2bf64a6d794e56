//! What an SP sends the mock IdP, and the LogoutResponse it gets back: AuthnRequests (SAML Core §3.4.1) and
//! LogoutRequests (§3.7.1) read from the HTTP-Redirect binding (DEFLATE, base64; SAML Bindings §3.4.4.1) or the
//! HTTP-POST binding (base64; §3.5.4), and a LogoutResponse (§3.7.2) signed for the HTTP-Redirect binding.
//!
//! Reading is strict where a real IdP must be: the inflated size is capped (a deflate bomb stops there), a DOCTYPE
//! is refused before any parsing (no entity is ever expanded), and the root must be the expected protocol element
//! with an ID and an Issuer.

use std::io::{Read, Write as _};

use base64::Engine;
use chrono::{DateTime, Utc};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

use super::xml::{Document, Element};
use super::{ASSERTION_NS, IdpKey, PROTOCOL_NS, STATUS_SUCCESS, SamlIdpError, form_urlencode, random_id, xsd_time};

/// The largest message accepted, inflated or not (64 KiB; real AuthnRequests are well under 4 KiB).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// RSA-SHA256, the `SigAlg` of the Redirect binding's query signature (RFC 6931 §2.3.2).
pub const SIG_ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// An AuthnRequest's values the IdP answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// The request ID: the Response's InResponseTo.
    pub id: String,
    /// The SP's entity ID (the Issuer): the Response's Audience.
    pub issuer: String,
    /// Where the Response goes, when the request names it (`AssertionConsumerServiceURL`).
    pub acs_url: Option<String>,
    /// The request's Destination, when present.
    pub destination: Option<String>,
}

/// A LogoutRequest's values the IdP answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// The request ID: the LogoutResponse's InResponseTo.
    pub id: String,
    /// The SP's entity ID.
    pub issuer: String,
    /// The subject being logged out.
    pub name_id: Option<String>,
}

fn refused(why: impl Into<String>) -> SamlIdpError {
    SamlIdpError::Refused(why.into())
}

/// Decodes a `SAMLRequest` (or `SAMLResponse`) value: base64 (whitespace ignored), inflated when `deflated` (the
/// HTTP-Redirect binding), at most [`MAX_MESSAGE_BYTES`], UTF-8, without DOCTYPE.
pub fn decode_message(value: &str, deflated: bool) -> Result<String, SamlIdpError> {
    // base64 grows by 4/3; anything longer cannot decode to an acceptable message (before inflating, at least).
    if value.len() > MAX_MESSAGE_BYTES * 2 {
        return Err(refused(format!("the message exceeds {MAX_MESSAGE_BYTES} bytes")));
    }
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| refused("the message is not base64 (SAML Bindings §3.4.4.1, §3.5.4)"))?;
    let bytes = if deflated {
        let mut out = Vec::new();
        let limit = u64::try_from(MAX_MESSAGE_BYTES + 1).unwrap_or(u64::MAX);
        flate2::read::DeflateDecoder::new(raw.as_slice())
            .take(limit)
            .read_to_end(&mut out)
            .map_err(|_| refused("the message does not inflate (SAML Bindings §3.4.4.1)"))?;
        out
    } else {
        raw
    };
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(refused(format!("the message exceeds {MAX_MESSAGE_BYTES} bytes")));
    }
    if bytes.windows(9).any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE")) {
        return Err(refused("the message has a DOCTYPE (SAML Core §1.3: not allowed in SAML messages)"));
    }
    String::from_utf8(bytes).map_err(|_| refused("the message is not UTF-8"))
}

/// Parses `xml` and checks the root is `samlp:{local}` with an ID and an Issuer.
fn protocol_root(xml: &str, local: &'static str) -> Result<(Element, String, String), SamlIdpError> {
    if xml.contains("<!DOCTYPE") {
        return Err(refused("the message has a DOCTYPE"));
    }
    let doc = Document::parse(xml)?;
    let root = doc.root;
    if !root.is(PROTOCOL_NS, local) {
        return Err(refused(format!("the root element is {} (expected samlp:{local})", root.name)));
    }
    let id = root.attr("ID").filter(|id| !id.trim().is_empty()).ok_or(SamlIdpError::Missing("ID on the request"))?;
    let issuer = root
        .child(ASSERTION_NS, "Issuer")
        .map(Element::text)
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or(SamlIdpError::Missing("Issuer in the request"))?;
    Ok((root, id, issuer))
}

impl AuthnRequest {
    /// Reads an AuthnRequest's XML.
    pub fn parse(xml: &str) -> Result<AuthnRequest, SamlIdpError> {
        let (root, id, issuer) = protocol_root(xml, "AuthnRequest")?;
        Ok(AuthnRequest {
            id,
            issuer,
            acs_url: root.attr("AssertionConsumerServiceURL").filter(|u| !u.trim().is_empty()),
            destination: root.attr("Destination"),
        })
    }

    /// Decodes and reads a `SAMLRequest` value (`deflated` for the HTTP-Redirect binding).
    pub fn decode(value: &str, deflated: bool) -> Result<AuthnRequest, SamlIdpError> {
        AuthnRequest::parse(&decode_message(value, deflated)?)
    }
}

impl LogoutRequest {
    /// Reads a LogoutRequest's XML.
    pub fn parse(xml: &str) -> Result<LogoutRequest, SamlIdpError> {
        let (root, id, issuer) = protocol_root(xml, "LogoutRequest")?;
        let name_id = root.child(ASSERTION_NS, "NameID").map(|n| n.text().trim().to_owned());
        Ok(LogoutRequest { id, issuer, name_id })
    }

    /// Decodes and reads a `SAMLRequest` value (`deflated` for the HTTP-Redirect binding).
    pub fn decode(value: &str, deflated: bool) -> Result<LogoutRequest, SamlIdpError> {
        LogoutRequest::parse(&decode_message(value, deflated)?)
    }
}

/// A LogoutResponse (SAML Core §3.7.2) with a top-level Success, from `issuer` to `destination`.
pub fn logout_response_xml(issuer: &str, destination: &str, in_response_to: &str, now: DateTime<Utc>) -> String {
    let root = Element::new("samlp:LogoutResponse", PROTOCOL_NS)
        .with_attr("xmlns:samlp", PROTOCOL_NS)
        .with_attr("xmlns:saml", ASSERTION_NS)
        .with_attr("ID", &random_id())
        .with_attr("Version", "2.0")
        .with_attr("IssueInstant", &xsd_time(now))
        .with_attr("Destination", destination)
        .with_attr("InResponseTo", in_response_to)
        .with_child(Element::new("saml:Issuer", ASSERTION_NS).with_text(issuer))
        .with_child(
            Element::new("samlp:Status", PROTOCOL_NS)
                .with_child(Element::new("samlp:StatusCode", PROTOCOL_NS).with_attr("Value", STATUS_SUCCESS)),
        );
    Document { prolog: String::new(), root, epilog: String::new() }.to_xml()
}

/// The HTTP-Redirect binding's query for `xml` as `param` (`SAMLRequest` or `SAMLResponse`), signed by `key`
/// (SAML Bindings §3.4.4.1): `param=…&RelayState=…&SigAlg=…`, the RSA-SHA256 signature of exactly those octets,
/// then `&Signature=…`.
pub fn signed_redirect_query(
    param: &str,
    xml: &str,
    relay_state: Option<&str>,
    key: &IdpKey,
) -> Result<String, SamlIdpError> {
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(xml.as_bytes()).map_err(SamlIdpError::Deflate)?;
    let deflated = deflater.finish().map_err(SamlIdpError::Deflate)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(deflated);
    let mut octets = format!("{param}={}", form_urlencode(&encoded));
    if let Some(relay) = relay_state {
        octets.push_str(&format!("&RelayState={}", form_urlencode(relay)));
    }
    octets.push_str(&format!("&SigAlg={}", form_urlencode(SIG_ALG_RSA_SHA256)));
    let signature = sign_sha256(key, octets.as_bytes())?;
    Ok(format!("{octets}&Signature={}", form_urlencode(&signature)))
}

/// RSA-SHA256 (PKCS#1 v1.5) over `data`, base64.
fn sign_sha256(key: &IdpKey, data: &[u8]) -> Result<String, SamlIdpError> {
    let err = |what| move |source| SamlIdpError::Key { what, source };
    let pkey = PKey::private_key_from_der(key.private_der()).map_err(err("read the private key"))?;
    let mut signer = Signer::new(MessageDigest::sha256(), &pkey).map_err(err("start a signature"))?;
    signer.update(data).map_err(err("sign"))?;
    let signature = signer.sign_to_vec().map_err(err("sign"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" Destination="http://idp.test/sso" AssertionConsumerServiceURL="https://sp.test/acs?a=1&amp;b=2"><saml:Issuer> https://sp.test/metadata </saml:Issuer></samlp:AuthnRequest>"#;

    fn deflate(xml: &[u8]) -> String {
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        d.write_all(xml).expect("deflate");
        base64::engine::general_purpose::STANDARD.encode(d.finish().expect("deflate"))
    }

    #[test]
    fn an_authn_request_is_read_from_both_bindings() {
        let expected = AuthnRequest {
            id: "_r1".into(),
            issuer: "https://sp.test/metadata".into(),
            acs_url: Some("https://sp.test/acs?a=1&b=2".into()),
            destination: Some("http://idp.test/sso".into()),
        };
        assert_eq!(AuthnRequest::decode(&deflate(REQUEST.as_bytes()), true).expect("redirect"), expected);
        let posted = base64::engine::general_purpose::STANDARD.encode(REQUEST);
        assert_eq!(AuthnRequest::decode(&posted, false).expect("post"), expected);
    }

    #[test]
    fn bad_requests_are_refused() {
        let doctype = format!("<!DOCTYPE x [<!ENTITY e 'x'>]>{REQUEST}");
        let logout = REQUEST.replace("AuthnRequest", "LogoutRequest");
        let no_id = REQUEST.replace(r#"ID="_r1" "#, "");
        let no_issuer = REQUEST.replace("<saml:Issuer> https://sp.test/metadata </saml:Issuer>", "");
        for (name, value, deflated) in [
            ("doctype", deflate(doctype.as_bytes()), true),
            ("lowercase doctype", deflate(doctype.replace("DOCTYPE", "doctype").as_bytes()), true),
            ("wrong root", deflate(logout.as_bytes()), true),
            ("no ID", deflate(no_id.as_bytes()), true),
            ("no Issuer", deflate(no_issuer.as_bytes()), true),
            ("not deflated", base64::engine::general_purpose::STANDARD.encode(REQUEST), true),
            ("not base64", "%%%".to_owned(), false),
            ("not XML", base64::engine::general_purpose::STANDARD.encode("<a><b></a>"), false),
            ("bomb", super::super::attacks::deflate_bomb(MAX_MESSAGE_BYTES + 10).expect("bomb"), true),
            ("too long", "A".repeat(MAX_MESSAGE_BYTES * 2 + 4), false),
        ] {
            assert!(AuthnRequest::decode(&value, deflated).is_err(), "{name}");
        }
    }

    #[test]
    fn a_logout_request_is_read() {
        let xml = r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>https://sp.test/metadata</saml:Issuer><saml:NameID>a@b.test</saml:NameID></samlp:LogoutRequest>"#;
        let r = LogoutRequest::decode(&deflate(xml.as_bytes()), true).expect("reads");
        assert_eq!(r.id, "_l1");
        assert_eq!(r.issuer, "https://sp.test/metadata");
        assert_eq!(r.name_id.as_deref(), Some("a@b.test"));
    }

    #[test]
    fn a_signed_logout_response_verifies_with_the_certificate() {
        let key = IdpKey::generate("idp.test").expect("key");
        let xml = logout_response_xml("https://idp.test/metadata", "https://sp.test/slo", "_l1", Utc::now());
        assert!(xml.contains(r#"InResponseTo="_l1""#) && xml.contains(STATUS_SUCCESS), "{xml}");
        let query = signed_redirect_query("SAMLResponse", &xml, Some("rs 1"), &key).expect("signs");
        let (octets, signature) = query.rsplit_once("&Signature=").expect("signature last");
        assert!(octets.starts_with("SAMLResponse=") && octets.contains("&RelayState=rs+1&SigAlg="), "{octets}");
        let signature = signature.replace("%2B", "+").replace("%2F", "/").replace("%3D", "=");
        let signature = base64::engine::general_purpose::STANDARD.decode(signature).expect("base64");
        let cert = openssl::x509::X509::from_der(key.certificate_der()).expect("cert");
        let public = cert.public_key().expect("public key");
        let mut verifier = openssl::sign::Verifier::new(MessageDigest::sha256(), &public).expect("verifier");
        verifier.update(octets.as_bytes()).expect("update");
        assert!(verifier.verify(&signature).expect("verify"));
    }
}
