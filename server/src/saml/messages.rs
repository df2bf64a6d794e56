//! The protocol messages this service provider sends (AuthnRequest, LogoutRequest, LogoutResponse) and the logout
//! messages it receives, with the HTTP-Redirect binding's encoding (SAML Bindings §3.4.4.1: DEFLATE, base64, URL
//! encoding) and its query-string signature check. (The HTTP-POST binding's enveloped signature of a
//! LogoutRequest is checked by `ServiceProvider::verify_posted_logout_request`, with the ACS's machinery.)
//!
//! Outgoing messages are not signed: the SP metadata says `AuthnRequestsSigned="false"`, and SAML Profiles §4.1.3.3
//! leaves signing the AuthnRequest optional. Incoming LogoutRequests must be signed (SAML Profiles §4.4.3.1).

use std::io::{Read, Write as _};

use base64::Engine;
use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::metadata::{NAMEID_EMAIL, escape};
use super::xml::{self, Element};
use super::{ASSERTION_NS, PROTOCOL_NS, STATUS_SUCCESS, SamlError, SigningCertificate, has_doctype, xml_error};

/// Characters left as they are in a query value (RFC 3986 §2.3 unreserved).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
/// The largest inflated message accepted from the HTTP-Redirect binding (a deflate bomb stops here).
pub const MAX_INFLATED_BYTES: usize = 64 * 1024;
/// RSA-SHA256 (RFC 6931 §2.3.2).
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// RSA-SHA1 (XML Signature §6.4.2); accepted only where the connection allows SHA-1.
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";

/// xsd:dateTime in UTC (SAML Core §1.3.3).
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A new message ID (an xs:ID with 128 random bits, SAML Core §1.3.4).
pub fn new_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

/// An AuthnRequest (SAML Core §3.4.1) for the Web Browser SSO profile (SAML Profiles §4.1.4.1): the response is
/// to come to `acs_url` with the HTTP-POST binding; NameID in the email format, created if the IdP needs to.
pub fn authn_request(id: &str, now: DateTime<Utc>, destination: &str, acs_url: &str, sp_entity_id: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="{PROTOCOL_NS}" xmlns:saml="{ASSERTION_NS}" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{dest}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{issuer}</saml:Issuer><samlp:NameIDPolicy Format="{NAMEID_EMAIL}" AllowCreate="true"/></samlp:AuthnRequest>"#,
        id = escape(id),
        now = instant(now),
        dest = escape(destination),
        acs = escape(acs_url),
        issuer = escape(sp_entity_id),
    )
}

/// A LogoutRequest (SAML Core §3.7.1) for the member's NameID and, when known, the IdP session.
pub fn logout_request(
    id: &str,
    now: DateTime<Utc>,
    destination: &str,
    sp_entity_id: &str,
    name_id: &str,
    session_index: Option<&str>,
) -> String {
    let session =
        session_index.map(|s| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", escape(s))).unwrap_or_default();
    format!(
        r#"<samlp:LogoutRequest xmlns:samlp="{PROTOCOL_NS}" xmlns:saml="{ASSERTION_NS}" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{dest}"><saml:Issuer>{issuer}</saml:Issuer><saml:NameID Format="{NAMEID_EMAIL}">{name}</saml:NameID>{session}</samlp:LogoutRequest>"#,
        id = escape(id),
        now = instant(now),
        dest = escape(destination),
        issuer = escape(sp_entity_id),
        name = escape(name_id),
    )
}

/// A LogoutResponse (SAML Core §3.7.2) with a top-level Success.
pub fn logout_response(
    id: &str,
    now: DateTime<Utc>,
    destination: &str,
    sp_entity_id: &str,
    in_response_to: &str,
) -> String {
    format!(
        r#"<samlp:LogoutResponse xmlns:samlp="{PROTOCOL_NS}" xmlns:saml="{ASSERTION_NS}" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{dest}" InResponseTo="{irt}"><saml:Issuer>{issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="{STATUS_SUCCESS}"/></samlp:Status></samlp:LogoutResponse>"#,
        id = escape(id),
        now = instant(now),
        dest = escape(destination),
        irt = escape(in_response_to),
        issuer = escape(sp_entity_id),
    )
}

/// Percent-encodes a query value.
pub fn encode_query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The HTTP-Redirect binding's URL (SAML Bindings §3.4.4.1): `message` DEFLATEd (RFC 1951, no zlib header),
/// base64-encoded and URL-encoded as `param` (`SAMLRequest` or `SAMLResponse`), then `RelayState`. An endpoint
/// that already has a query keeps it (§3.4.4.1: the parameters are added to it).
pub fn redirect_url(
    endpoint: &str,
    param: &str,
    message: &str,
    relay_state: Option<&str>,
) -> Result<String, SamlError> {
    let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(message.as_bytes()).map_err(|e| SamlError::Internal(format!("deflate: {e}")))?;
    let deflated = deflater.finish().map_err(|e| SamlError::Internal(format!("deflate: {e}")))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(deflated);
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    let mut url = format!("{endpoint}{sep}{param}={}", encode_query_value(&encoded));
    if let Some(rs) = relay_state {
        url.push_str(&format!("&RelayState={}", encode_query_value(rs)));
    }
    Ok(url)
}

/// A message as the HTTP-POST binding's form value carries it (SAML Bindings §3.5.4): base64, never deflated.
pub fn post_value(message: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(message)
}

/// base64 (whitespace ignored), then inflated when `deflated` (the HTTP-Redirect binding), bounded by
/// [`MAX_INFLATED_BYTES`]; the result must be UTF-8 without DOCTYPE.
pub fn decode_message(value: &str, deflated: bool) -> Result<String, SamlError> {
    if value.len() > MAX_INFLATED_BYTES * 2 {
        return Err(SamlError::TooLarge { limit: MAX_INFLATED_BYTES });
    }
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let raw = base64::engine::general_purpose::STANDARD.decode(compact).map_err(|_| SamlError::Base64)?;
    let bytes = if deflated {
        let mut out = Vec::new();
        let limit = u64::try_from(MAX_INFLATED_BYTES + 1).unwrap_or(u64::MAX);
        flate2::read::DeflateDecoder::new(raw.as_slice())
            .take(limit)
            .read_to_end(&mut out)
            .map_err(|_| SamlError::Binding("the message does not inflate (SAML Bindings §3.4.4.1)".into()))?;
        out
    } else {
        raw
    };
    if bytes.len() > MAX_INFLATED_BYTES {
        return Err(SamlError::TooLarge { limit: MAX_INFLATED_BYTES });
    }
    if has_doctype(&bytes) {
        return Err(SamlError::Doctype);
    }
    String::from_utf8(bytes).map_err(|_| SamlError::NotUtf8)
}

/// A query string as (name, raw value) pairs, in order; a repeated SAML parameter is refused, since which one a
/// signature covers would be ambiguous.
pub fn raw_query(query: &str) -> Result<Vec<(String, String)>, SamlError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode_component(name);
        if out.iter().any(|(n, _)| *n == name) {
            return Err(SamlError::Binding(format!("parameter {name:?} is repeated")));
        }
        out.push((name, value.to_owned()));
    }
    Ok(out)
}

/// A URL-decoded query component (`+` is a space in form encoding).
pub fn decode_component(raw: &str) -> String {
    percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Checks the HTTP-Redirect binding's signature (SAML Bindings §3.4.4.1): over
/// `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as they appear in the query (RelayState only if present), with one
/// of the connection's certificates.
pub fn verify_redirect_signature(
    query: &[(String, String)],
    message_param: &str,
    certificates: &[SigningCertificate],
    allow_sha1: bool,
) -> Result<(), SamlError> {
    let raw = |name: &str| query.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let (Some(sig_alg_raw), Some(signature_raw)) = (raw("SigAlg"), raw("Signature")) else {
        return Err(SamlError::LogoutSignature("no SigAlg and Signature parameters".into()));
    };
    let sig_alg = decode_component(sig_alg_raw);
    let digest = match sig_alg.as_str() {
        RSA_SHA256 => openssl::hash::MessageDigest::sha256(),
        RSA_SHA1 if allow_sha1 => openssl::hash::MessageDigest::sha1(),
        RSA_SHA1 => return Err(SamlError::Sha1Refused(sig_alg)),
        _ => return Err(SamlError::UnsupportedAlgorithm(sig_alg)),
    };
    let mut signed = format!("{message_param}={}", raw(message_param).unwrap_or_default());
    if let Some(rs) = raw("RelayState") {
        signed.push_str(&format!("&RelayState={rs}"));
    }
    signed.push_str(&format!("&SigAlg={sig_alg_raw}"));
    let compact: String = decode_component(signature_raw).chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| SamlError::LogoutSignature("Signature is not base64".into()))?;
    for cert in certificates {
        let verified = openssl::x509::X509::from_der(cert.der())
            .and_then(|c| c.public_key())
            .and_then(|key| {
                let mut v = openssl::sign::Verifier::new(digest, &key)?;
                v.update(signed.as_bytes())?;
                v.verify(&signature)
            })
            .unwrap_or(false);
        if verified {
            return Ok(());
        }
    }
    Err(SamlError::LogoutSignature("it does not verify with the connection's certificates".into()))
}

/// An IdP's LogoutRequest (SAML Core §3.7.1), as read; trusted only once its signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequestFields {
    /// Its ID, for the answer's InResponseTo and the replay cache.
    pub id: String,
    /// Its Issuer.
    pub issuer: String,
    /// The Issuer's Format, if stated.
    pub issuer_format: Option<String>,
    /// The principal.
    pub name_id: String,
    /// Its Destination, if stated.
    pub destination: Option<String>,
    /// Its IssueInstant (SAML Core §3.2.1: required).
    pub issue_instant: Option<String>,
    /// Its NotOnOrAfter, if stated (SAML Core §3.7.1: when the request expires).
    pub not_on_or_after: Option<String>,
}

/// A logout message from the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutMessage {
    /// The IdP asks to end a principal's sessions (SAML Core §3.7.1).
    Request(LogoutRequestFields),
    /// The IdP answers this SP's LogoutRequest (SAML Core §3.7.2).
    Response {
        /// Its Issuer, if stated.
        issuer: Option<String>,
        /// Whether the top-level status is Success.
        success: bool,
    },
}

fn issuer(e: &Element) -> Option<String> {
    e.single_child(ASSERTION_NS, "Issuer").ok().flatten().and_then(Element::text).map(|t| t.trim().to_owned())
}

/// Reads a LogoutRequest or LogoutResponse.
pub fn parse_logout(text: &str) -> Result<LogoutMessage, SamlError> {
    logout_of(&xml::parse(text).map_err(xml_error)?)
}

/// Reads a LogoutRequest or LogoutResponse from its parsed root element.
pub(crate) fn logout_of(doc: &Element) -> Result<LogoutMessage, SamlError> {
    if doc.attr("Version") != Some("2.0") {
        return Err(SamlError::NotAResponse("the message's Version is not 2.0".into()));
    }
    if doc.is(PROTOCOL_NS, "LogoutRequest") {
        let id = doc.attr("ID").ok_or_else(|| SamlError::NotAResponse("the LogoutRequest has no ID".into()))?;
        let issuer_element = doc.single_child(ASSERTION_NS, "Issuer").ok().flatten();
        let issuer = issuer(doc).ok_or_else(|| SamlError::Issuer { found: None, expected: "the IdP".into() })?;
        let name_id = doc
            .single_child(ASSERTION_NS, "NameID")
            .ok()
            .flatten()
            .and_then(Element::text)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| SamlError::NameId("the LogoutRequest has no plain NameID".into()))?;
        let attr = |name: &str| doc.attr(name).map(str::to_owned);
        Ok(LogoutMessage::Request(LogoutRequestFields {
            id: id.to_owned(),
            issuer,
            issuer_format: issuer_element.and_then(|i| i.attr("Format")).map(str::to_owned),
            name_id: name_id.trim().to_owned(),
            destination: attr("Destination"),
            issue_instant: attr("IssueInstant"),
            not_on_or_after: attr("NotOnOrAfter"),
        }))
    } else if doc.is(PROTOCOL_NS, "LogoutResponse") {
        let status = doc
            .single_child(PROTOCOL_NS, "Status")
            .ok()
            .flatten()
            .and_then(|s| s.single_child(PROTOCOL_NS, "StatusCode").ok().flatten())
            .and_then(|c| c.attr("Value"));
        Ok(LogoutMessage::Response { issuer: issuer(doc), success: status == Some(STATUS_SUCCESS) })
    } else {
        Err(SamlError::NotAResponse(format!("`{}` is not a logout message", doc.name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_url_round_trips_through_inflate() {
        let xml =
            authn_request("_abc", Utc::now(), "https://idp.test/sso?x=1", "https://sp.test/acs", "https://sp.test/md");
        let url = redirect_url("https://idp.test/sso?x=1", "SAMLRequest", &xml, Some("/home?a=b")).expect("url");
        let (_, query) = url.split_once('?').expect("query");
        let pairs = raw_query(query).expect("pairs");
        assert_eq!(pairs[0].0, "x");
        assert_eq!(decode_component(&pairs[2].1), "/home?a=b");
        assert_eq!(decode_message(&decode_component(&pairs[1].1), true).expect("inflates"), xml);
    }

    #[test]
    fn a_deflate_bomb_stops_at_the_cap() {
        let mut deflater = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        deflater.write_all(&vec![b'a'; MAX_INFLATED_BYTES * 4]).expect("write");
        let bomb = base64::engine::general_purpose::STANDARD.encode(deflater.finish().expect("finish"));
        assert_eq!(decode_message(&bomb, true), Err(SamlError::TooLarge { limit: MAX_INFLATED_BYTES }));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(matches!(raw_query("SAMLRequest=a&SAMLRequest=b"), Err(SamlError::Binding(_))));
    }
}
