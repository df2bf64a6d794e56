//! Tests of the mock IdP: signatures checked with xmlsec (through samael's verification API) against the IdP
//! certificate, and each forged variant compared with the signed Response it came from.

use std::io::Read;
use std::sync::OnceLock;

use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use samael::crypto::{CertificateDer, Crypto, CryptoProvider, ReduceMode};

use super::attacks::{self, Dtd, Xsw};
use super::xml::{Document, Element};
use super::*;

const IDP: &str = "https://idp.example.test/metadata";
const ACS: &str = "https://sp.example.test/saml/acs";
const SP: &str = "https://sp.example.test/saml/metadata";
const EVIL: &str = "admin@sp.example.test";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).single().expect("valid instant")
}

/// The IdP's key and an attacker's, made once per test binary.
fn keys() -> &'static (IdpKey, IdpKey) {
    static KEYS: OnceLock<(IdpKey, IdpKey)> = OnceLock::new();
    KEYS.get_or_init(|| {
        (IdpKey::generate("idp.example.test").expect("IdP key"), IdpKey::foreign().expect("foreign key"))
    })
}

fn idp() -> &'static IdpKey {
    &keys().0
}

fn foreign() -> &'static IdpKey {
    &keys().1
}

fn spec() -> ResponseSpec {
    ResponseSpec::new(IDP, ACS, SP).now(t0()).in_response_to(Some("_request1"))
}

fn signed(mode: SigningMode) -> String {
    spec().signing(mode).sign(idp()).expect("signs")
}

/// xmlsec verification of every signature against `key`'s certificate only (never KeyInfo): the canonical bytes
/// the verified reference digested (the Response's when it is signed).
fn verify(xml: &str, key: &IdpKey) -> Result<String, samael::crypto::CryptoError> {
    Crypto::reduce_xml_to_signed(xml, &[CertificateDer::from(key.certificate_der().to_vec())], ReduceMode::PreDigest)
}

/// xmlsec on the first signature in document order, its Reference looked up by `ID`: what a naive verifier does.
fn verify_first(xml: &str, key: &IdpKey) -> bool {
    Crypto::verify_signed_xml(xml, &CertificateDer::from(key.certificate_der().to_vec()), Some("ID")).is_ok()
}

fn parse(xml: &str) -> Document {
    Document::parse(xml).expect("well-formed")
}

fn all<'a>(root: &'a Element, ns: &str, local: &str) -> Vec<&'a Element> {
    let mut out = Vec::new();
    root.find_all(&|e| e.is(ns, local), &mut out);
    out
}

fn assertions(root: &Element) -> Vec<&Element> {
    root.elements().filter(|e| e.is(ASSERTION_NS, "Assertion")).collect()
}

fn name_id(assertion: &Element) -> String {
    assertion
        .child(ASSERTION_NS, "Subject")
        .and_then(|s| s.child(ASSERTION_NS, "NameID"))
        .map(Element::text)
        .expect("a NameID")
}

fn id(element: &Element) -> String {
    element.attr("ID").expect("an ID")
}

fn key_info_certificate(signature: &Element) -> String {
    all(signature, DSIG_NS, "X509Certificate").first().map(|c| c.text()).expect("a certificate in KeyInfo")
}

// --- keys ---

#[test]
fn a_key_exports_its_certificate_and_reads_back_from_pem() {
    let key = idp();
    assert!(key.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    let cert = openssl::x509::X509::from_der(key.certificate_der()).expect("DER X.509");
    assert_eq!(cert.to_der().expect("DER"), key.certificate_der());
    let decoded = base64::engine::general_purpose::STANDARD.decode(key.certificate_base64()).expect("base64");
    assert_eq!(decoded, key.certificate_der());

    let private = key.private_key_pem().expect("PEM key");
    let back = IdpKey::from_pem(private.as_bytes(), key.certificate_pem().as_bytes()).expect("reads back");
    assert_eq!(back.certificate_der(), key.certificate_der());
    // The key read back signs what the certificate verifies.
    let xml = spec().sign(&back).expect("signs");
    verify(&xml, key).expect("verifies");

    let mismatch = IdpKey::from_pem(private.as_bytes(), foreign().certificate_pem().as_bytes());
    assert!(matches!(mismatch, Err(SamlIdpError::KeyMismatch)), "{mismatch:?}");
    assert!(IdpKey::from_pem(b"not PEM", key.certificate_pem().as_bytes()).is_err());
}

#[test]
fn a_key_reads_from_pem_files() {
    let dir = std::env::temp_dir().join(format!("idconform-saml-key-{}", random_id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (key_path, cert_path) = (dir.join("idp.key"), dir.join("idp.crt"));
    std::fs::write(&key_path, idp().private_key_pem().expect("PEM")).expect("write key");
    std::fs::write(&cert_path, idp().certificate_pem()).expect("write certificate");
    let read = IdpKey::from_pem_files(&key_path, &cert_path).expect("reads");
    assert_eq!(read.certificate_der(), idp().certificate_der());
    let missing = IdpKey::from_pem_files(&dir.join("absent.key"), &cert_path);
    assert!(matches!(missing, Err(SamlIdpError::KeyFile { .. })), "{missing:?}");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn a_foreign_key_is_another_key() {
    assert_ne!(foreign().certificate_der(), idp().certificate_der());
    let cert = openssl::x509::X509::from_der(foreign().certificate_der()).expect("DER");
    let cn = cert.subject_name().entries().next().map(|e| e.data().to_string().expect("UTF-8")).expect("CN");
    assert_eq!(cn, FOREIGN_COMMON_NAME);
}

// --- building and signing ---

#[test]
fn the_response_carries_the_spec_values() {
    let doc = parse(&spec().session_index("_s1").response_id("_r1").assertion_id("_a1").build());
    let root = &doc.root;
    assert!(root.is(PROTOCOL_NS, "Response"));
    assert_eq!(root.attr("ID").as_deref(), Some("_r1"));
    assert_eq!(root.attr("Version").as_deref(), Some("2.0"));
    assert_eq!(root.attr("IssueInstant").as_deref(), Some("2026-01-01T12:00:00.000Z"));
    assert_eq!(root.attr("Destination").as_deref(), Some(ACS));
    assert_eq!(root.attr("InResponseTo").as_deref(), Some("_request1"));
    assert_eq!(root.child(ASSERTION_NS, "Issuer").map(Element::text).as_deref(), Some(IDP));
    let status = root.child(PROTOCOL_NS, "Status").and_then(|s| s.child(PROTOCOL_NS, "StatusCode"));
    assert_eq!(status.and_then(|s| s.attr("Value")).as_deref(), Some(STATUS_SUCCESS));

    let assertion = assertions(root)[0];
    assert_eq!(id(assertion), "_a1");
    assert_eq!(assertion.child(ASSERTION_NS, "Issuer").map(Element::text).as_deref(), Some(IDP));
    let subject = assertion.child(ASSERTION_NS, "Subject").expect("Subject");
    let name = subject.child(ASSERTION_NS, "NameID").expect("NameID");
    assert_eq!(name.text(), "alice@example.com");
    assert_eq!(name.attr("Format").as_deref(), Some(NAMEID_EMAIL));
    let confirmation = subject.child(ASSERTION_NS, "SubjectConfirmation").expect("confirmation");
    assert_eq!(confirmation.attr("Method").as_deref(), Some(CM_BEARER));
    let data = confirmation.child(ASSERTION_NS, "SubjectConfirmationData").expect("data");
    assert_eq!(data.attr("Recipient").as_deref(), Some(ACS));
    assert_eq!(data.attr("InResponseTo").as_deref(), Some("_request1"));
    assert_eq!(data.attr("NotOnOrAfter").as_deref(), Some("2026-01-01T12:05:00.000Z"));
    let conditions = assertion.child(ASSERTION_NS, "Conditions").expect("Conditions");
    assert_eq!(conditions.attr("NotBefore").as_deref(), Some("2026-01-01T11:55:00.000Z"));
    assert_eq!(conditions.attr("NotOnOrAfter").as_deref(), Some("2026-01-01T12:05:00.000Z"));
    assert_eq!(all(conditions, ASSERTION_NS, "Audience").iter().map(|a| a.text()).collect::<Vec<_>>(), [SP]);
    let authn = assertion.child(ASSERTION_NS, "AuthnStatement").expect("AuthnStatement");
    assert_eq!(authn.attr("SessionIndex").as_deref(), Some("_s1"));
    assert_eq!(authn.attr("AuthnInstant").as_deref(), Some("2026-01-01T12:00:00.000Z"));
}

#[test]
fn fresh_ids_are_random_ncnames() {
    let (a, b) = (spec(), spec());
    assert_ne!(a.response_id, b.response_id);
    assert_ne!(a.assertion_id, a.response_id);
    for value in [&a.response_id, &a.assertion_id, &a.session_index] {
        assert!(value.starts_with('_') && value[1..].chars().all(|c| c.is_ascii_hexdigit()), "{value}");
    }
    let fresh = a.clone().with_fresh_ids();
    assert_ne!(fresh.response_id, a.response_id);
    assert_eq!(fresh.in_response_to, a.in_response_to);
}

#[test]
fn explicit_times_override_the_derived_ones() {
    let issued = t0() - Duration::seconds(30);
    let doc = parse(
        &spec()
            .issue_instant(issued)
            .not_before(t0() - Duration::hours(1))
            .not_on_or_after(t0() + Duration::hours(1))
            .build(),
    );
    assert_eq!(doc.root.attr("IssueInstant").as_deref(), Some("2026-01-01T11:59:30.000Z"));
    let conditions = all(&doc.root, ASSERTION_NS, "Conditions")[0];
    assert_eq!(conditions.attr("NotBefore").as_deref(), Some("2026-01-01T11:00:00.000Z"));
    assert_eq!(conditions.attr("NotOnOrAfter").as_deref(), Some("2026-01-01T13:00:00.000Z"));
}

#[test]
fn every_signing_mode_verifies_with_the_idp_certificate() {
    for algorithm in [Algorithm::Sha256, Algorithm::Sha1] {
        for mode in [SigningMode::ResponseSigned, SigningMode::AssertionSigned, SigningMode::Both] {
            let spec = spec().signing(mode).algorithm(algorithm);
            let xml = spec.sign(idp()).expect("signs");
            let what = format!("{mode:?} {algorithm:?}");
            let predigest = verify(&xml, idp()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(verify(&xml, foreign()).is_err(), "{what}: verifies with another certificate");

            let doc = parse(&xml);
            let response_signature = doc.root.child(DSIG_NS, "Signature");
            let assertion = assertions(&doc.root)[0];
            let assertion_signature = assertion.child(DSIG_NS, "Signature");
            assert_eq!(response_signature.is_some(), mode != SigningMode::AssertionSigned, "{what}");
            assert_eq!(assertion_signature.is_some(), mode != SigningMode::ResponseSigned, "{what}");
            for (signature, signed_id) in
                [(response_signature, &spec.response_id), (assertion_signature, &spec.assertion_id)]
            {
                let Some(signature) = signature else { continue };
                let reference = all(signature, DSIG_NS, "Reference")[0];
                assert_eq!(reference.attr("URI"), Some(format!("#{signed_id}")), "{what}");
                let transforms: Vec<String> =
                    all(reference, DSIG_NS, "Transform").iter().filter_map(|t| t.attr("Algorithm")).collect();
                assert_eq!(
                    transforms,
                    [
                        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                        "http://www.w3.org/2001/10/xml-exc-c14n#"
                    ]
                );
                let method = all(signature, DSIG_NS, "SignatureMethod")[0].attr("Algorithm");
                assert_eq!(method.as_deref(), Some(algorithm.signature_uri()), "{what}");
                let digest = all(signature, DSIG_NS, "DigestMethod")[0].attr("Algorithm");
                assert_eq!(digest.as_deref(), Some(algorithm.digest_uri()), "{what}");
                assert!(!all(signature, DSIG_NS, "DigestValue")[0].text().is_empty(), "{what}");
                assert_eq!(key_info_certificate(signature), idp().certificate_base64(), "{what}");
                // SAML Core's order: right after the Issuer.
                let parent = if signed_id == &spec.response_id { &doc.root } else { assertion };
                let names: Vec<&str> = parent.elements().map(Element::local).take(2).collect();
                assert_eq!(names, ["Issuer", "Signature"], "{what}");
            }
            let signed_root = if mode == SigningMode::AssertionSigned { "<saml:Assertion" } else { "<samlp:Response" };
            assert!(predigest.starts_with(signed_root), "{what}: {predigest}");
            // The tree reads xmlsec's output back byte for byte, which the attacks rely on.
            assert_eq!(doc.to_xml(), xml, "{what}");
        }
    }
}

#[test]
fn unsigned_mode_is_the_plain_build() {
    let spec = spec().signing(SigningMode::Unsigned);
    let xml = spec.sign(idp()).expect("builds");
    assert_eq!(xml, spec.build());
    assert!(!xml.contains("Signature"));
    assert!(verify(&xml, idp()).is_err());
}

#[test]
fn okta_attribute_statements_use_okta_names_and_formats() {
    let attributes = |spec: ResponseSpec| -> Vec<(String, Option<String>, Vec<String>)> {
        let doc = parse(&spec.build());
        all(&doc.root, ASSERTION_NS, "Attribute")
            .iter()
            .map(|a| {
                let values = all(a, ASSERTION_NS, "AttributeValue");
                assert!(values.iter().all(|v| v.attr("xsi:type").as_deref() == Some("xs:string")));
                (a.attr("Name").expect("Name"), a.attr("NameFormat"), values.iter().map(|v| v.text()).collect())
            })
            .collect()
    };
    let unspecified = Some(ATTRNAME_UNSPECIFIED.to_owned());
    let okta = spec().attribute_style(AttributeStyle::Okta).groups(vec!["Everyone".into(), "Engineering".into()]);
    assert_eq!(
        attributes(okta.clone()),
        [
            ("email".to_owned(), unspecified.clone(), vec!["alice@example.com".to_owned()]),
            ("firstName".to_owned(), unspecified.clone(), vec!["Alice".to_owned()]),
            ("lastName".to_owned(), unspecified.clone(), vec!["Example".to_owned()]),
            ("groups".to_owned(), unspecified, vec!["Everyone".to_owned(), "Engineering".to_owned()]),
        ]
    );
    let basic = attributes(okta.attribute_name_format(Some(ATTRNAME_BASIC)));
    assert!(basic.iter().all(|(_, format, _)| format.as_deref() == Some(ATTRNAME_BASIC)));
    // xsi:type needs its namespaces declared where the signed Assertion carries them.
    verify(&spec().attribute_style(AttributeStyle::Okta).sign(idp()).expect("signs"), idp()).expect("verifies");
}

#[test]
fn entra_attribute_statements_use_the_claim_uris() {
    let spec =
        spec().attribute_style(AttributeStyle::Entra).groups(vec!["7f4b0c2e-0000-4000-8000-000000000001".into()]);
    let doc = parse(&spec.build());
    let found: Vec<(String, Vec<String>)> = all(&doc.root, ASSERTION_NS, "Attribute")
        .iter()
        .map(|a| {
            assert_eq!(a.attr("NameFormat"), None, "Entra sends no NameFormat");
            (a.attr("Name").expect("Name"), all(a, ASSERTION_NS, "AttributeValue").iter().map(|v| v.text()).collect())
        })
        .collect();
    let expect = |name: &str, value: &str| (name.to_owned(), vec![value.to_owned()]);
    assert_eq!(
        found,
        [
            expect("http://schemas.microsoft.com/identity/claims/tenantid", &spec.tenant_id),
            expect("http://schemas.microsoft.com/identity/claims/objectidentifier", &spec.object_id),
            expect("http://schemas.microsoft.com/identity/claims/displayname", "Alice Example"),
            expect(
                "http://schemas.microsoft.com/identity/claims/identityprovider",
                &format!("https://sts.windows.net/{}/", spec.tenant_id)
            ),
            expect("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "Alice"),
            expect("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "Example"),
            expect("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "alice@example.com"),
            expect("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "alice@example.com"),
            expect("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", &spec.groups[0]),
        ]
    );
}

#[test]
fn no_attribute_style_means_no_attribute_statement() {
    let doc = parse(&spec().attribute_style(AttributeStyle::None).build());
    assert!(all(&doc.root, ASSERTION_NS, "AttributeStatement").is_empty());
}

#[test]
fn values_are_escaped() {
    let xml = spec().name_id("a&b<c>@example.com").first_name("\"Al\" & co").sign(idp()).expect("signs");
    let doc = parse(&xml);
    assert_eq!(name_id(assertions(&doc.root)[0]), "a&b<c>@example.com");
    verify(&xml, idp()).expect("verifies");
}

#[test]
fn the_post_form_carries_the_base64_response_and_relay_state() {
    let xml = signed(SigningMode::AssertionSigned);
    let body = post_form(&xml, Some("/app?x=1 2"));
    let fields: Vec<(&str, String)> = body
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("k=v");
            (k, form_decode(v))
        })
        .collect();
    assert_eq!(fields[0].0, "SAMLResponse");
    let decoded = base64::engine::general_purpose::STANDARD.decode(&fields[0].1).expect("base64");
    assert_eq!(String::from_utf8(decoded).expect("UTF-8"), xml);
    assert_eq!(fields[1], ("RelayState", "/app?x=1 2".to_owned()));
    assert_eq!(post_form(&xml, None).split('&').count(), 1);
}

fn form_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).expect("hex"));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn metadata_names_the_endpoints_and_the_signing_certificate() {
    let xml = metadata_xml(IDP, "https://idp.example.test/sso", "https://idp.example.test/slo", idp());
    let doc = parse(&xml);
    assert!(doc.root.is(METADATA_NS, "EntityDescriptor"));
    assert_eq!(doc.root.attr("entityID").as_deref(), Some(IDP));
    let descriptor = doc.root.child(METADATA_NS, "IDPSSODescriptor").expect("IDPSSODescriptor");
    assert_eq!(descriptor.attr("protocolSupportEnumeration").as_deref(), Some(PROTOCOL_NS));
    let order: Vec<&str> = descriptor.elements().map(Element::local).collect();
    assert_eq!(
        order,
        [
            "KeyDescriptor",
            "SingleLogoutService",
            "SingleLogoutService",
            "NameIDFormat",
            "NameIDFormat",
            "NameIDFormat",
            "SingleSignOnService",
            "SingleSignOnService"
        ]
    );
    let key = descriptor.child(METADATA_NS, "KeyDescriptor").expect("KeyDescriptor");
    assert_eq!(key.attr("use").as_deref(), Some("signing"));
    assert_eq!(key_info_certificate(key), idp().certificate_base64());

    // samael, as an SP library, reads it too.
    let parsed: samael::metadata::EntityDescriptor = xml.parse().expect("samael reads the metadata");
    assert_eq!(parsed.entity_id.as_deref(), Some(IDP));
    let idp_descriptor = &parsed.idp_sso_descriptors.expect("IDPSSODescriptor")[0];
    let sso: Vec<(&str, &str)> =
        idp_descriptor.single_sign_on_services.iter().map(|e| (e.binding.as_str(), e.location.as_str())).collect();
    assert_eq!(
        sso,
        [(BINDING_REDIRECT, "https://idp.example.test/sso"), (BINDING_POST, "https://idp.example.test/sso")]
    );
    assert_eq!(idp_descriptor.single_logout_services.len(), 2);
    assert!(idp_descriptor.name_id_formats.iter().any(|f| f == NAMEID_EMAIL));
    let certs = &idp_descriptor.key_descriptors[0].key_info.x509_data.as_ref().expect("X509Data").certificates;
    assert_eq!(certs, &[idp().certificate_base64()]);
}

// --- attacks ---

#[test]
fn unsigned_removes_every_signature_and_nothing_else() {
    let xml = signed(SigningMode::Both);
    let forged = attacks::unsigned(&xml).expect("forges");
    assert!(!forged.contains("Signature"));
    assert!(verify(&forged, idp()).is_err());
    let mut expected = parse(&xml);
    expected.root.remove_descendants(DSIG_NS, "Signature");
    assert_eq!(forged, expected.to_xml());
    assert!(matches!(attacks::unsigned(&spec().build()), Err(SamlIdpError::NotApplicable(_))));
}

#[test]
fn a_foreign_signature_does_not_verify_with_the_idp_certificate() {
    for mode in [SigningMode::ResponseSigned, SigningMode::AssertionSigned, SigningMode::Both] {
        let xml = signed(mode);
        let forged = attacks::signed_by_foreign_key(&xml, idp(), foreign()).expect("forges");
        assert!(verify(&forged, idp()).is_err(), "{mode:?}");
        verify(&forged, foreign()).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        let doc = parse(&forged);
        let signatures = all(&doc.root, DSIG_NS, "Signature");
        assert_eq!(signatures.len(), if mode == SigningMode::Both { 2 } else { 1 }, "{mode:?}");
        assert!(signatures.iter().all(|s| key_info_certificate(s) == idp().certificate_base64()), "{mode:?}");
        assert_eq!(attacks::unsigned(&forged).expect("strips"), attacks::unsigned(&xml).expect("strips"));
    }
}

#[test]
fn an_attacker_certificate_in_key_info_verifies_only_with_itself() {
    let xml = signed(SigningMode::AssertionSigned);
    let forged = attacks::attacker_certificate(&xml, foreign()).expect("forges");
    assert!(verify(&forged, idp()).is_err());
    verify(&forged, foreign()).expect("verifies with the embedded certificate");
    let doc = parse(&forged);
    assert_eq!(key_info_certificate(all(&doc.root, DSIG_NS, "Signature")[0]), foreign().certificate_base64());
}

#[test]
fn sha1_stays_sha1_when_signed_again() {
    let xml = spec().algorithm(Algorithm::Sha1).sign(idp()).expect("signs");
    let forged = attacks::attacker_certificate(&xml, foreign()).expect("forges");
    assert!(forged.contains(Algorithm::Sha1.signature_uri()));
}

#[test]
fn a_tampered_name_id_changes_only_the_name_id_and_breaks_the_digest() {
    let xml = signed(SigningMode::AssertionSigned);
    verify(&xml, idp()).expect("the original verifies");
    let forged = attacks::tampered_name_id(&xml, EVIL).expect("forges");
    assert!(verify(&forged, idp()).is_err());
    assert_eq!(forged.replace(&format!(">{EVIL}<"), ">alice@example.com<"), xml, "nothing else changed");
}

/// Whether xmlsec still verifies each wrapping (see the `attacks::Xsw` docs): it refuses a signature with an
/// unexpected child (XSW1, XSW6), and the enveloped transform drops a `ds:Object` with the signature (XSW8).
fn xsw_verifies(variant: Xsw) -> bool {
    !matches!(variant, Xsw::Xsw1 | Xsw::Xsw6 | Xsw::Xsw8)
}

#[test]
fn every_wrapping_keeps_the_signed_element_and_adds_the_attackers() {
    for variant in Xsw::ALL {
        let mode = if variant.wraps_response() { SigningMode::ResponseSigned } else { SigningMode::AssertionSigned };
        let spec = spec().signing(mode);
        let xml = spec.sign(idp()).expect("signs");
        let original_predigest = verify(&xml, idp()).expect("original verifies");
        let forged = attacks::xsw(&xml, variant, EVIL).unwrap_or_else(|e| panic!("{variant:?}: {e}"));
        let doc = parse(&forged);
        let root = &doc.root;

        // IDs stay unique (samael refuses duplicates before xmlsec runs).
        let mut ids = Vec::new();
        root.find_all(&|e| e.attr("ID").is_some(), &mut ids);
        let mut ids: Vec<String> = ids.into_iter().map(id).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "{variant:?}: duplicate IDs");

        // The original signed element, with its ID, is still in the document; the attacker's element is where an
        // SP that reads "the first assertion" or "the root" looks.
        let signed_id = if variant.wraps_response() { &spec.response_id } else { &spec.assertion_id };
        let mut holders = Vec::new();
        root.find_all(&|e| e.attr("ID").as_deref() == Some(signed_id.as_str()), &mut holders);
        assert_eq!(holders.len(), 1, "{variant:?}");
        let first = assertions(root)[0];
        match variant {
            Xsw::Xsw1 | Xsw::Xsw2 => {
                assert!(id(root).starts_with("_evil"), "{variant:?}");
                assert_eq!(name_id(first), EVIL, "{variant:?}");
                assert!(first.child(DSIG_NS, "Signature").is_none());
                let signature_at = root.child_index(DSIG_NS, "Signature").expect("signature");
                if variant == Xsw::Xsw1 {
                    let Some(super::xml::Node::Element(signature)) = root.children.get(signature_at) else {
                        panic!("signature")
                    };
                    assert_eq!(signature.child(PROTOCOL_NS, "Response").map(id).as_ref(), Some(signed_id));
                } else {
                    let Some(super::xml::Node::Element(before)) = root.children.get(signature_at - 1) else {
                        panic!("an element before the signature")
                    };
                    assert!(before.is(PROTOCOL_NS, "Response") && &id(before) == signed_id, "{variant:?}");
                }
                assert_eq!(name_id(assertions(holders[0])[0]), "alice@example.com", "{variant:?}");
            }
            Xsw::Xsw3 => {
                let found = assertions(root);
                assert_eq!(found.len(), 2);
                assert_eq!((name_id(found[0]).as_str(), name_id(found[1]).as_str()), (EVIL, "alice@example.com"));
                assert_eq!(&id(found[1]), signed_id);
            }
            Xsw::Xsw4 => {
                assert_eq!(assertions(root).len(), 1);
                assert_eq!(name_id(first), EVIL);
                assert_eq!(
                    assertions(first).iter().map(|a| id(a)).collect::<Vec<_>>(),
                    std::slice::from_ref(signed_id)
                );
            }
            Xsw::Xsw5 | Xsw::Xsw6 | Xsw::Xsw8 => {
                assert_eq!(name_id(first), EVIL, "{variant:?}");
                let signature = first.child(DSIG_NS, "Signature").expect("the signature stays in place");
                let holder = match variant {
                    Xsw::Xsw5 => assertions(root)[1],
                    Xsw::Xsw6 => signature.child(ASSERTION_NS, "Assertion").expect("inside the signature"),
                    _ => signature
                        .child(DSIG_NS, "Object")
                        .and_then(|o| o.child(ASSERTION_NS, "Assertion"))
                        .expect("inside ds:Object"),
                };
                assert_eq!(&id(holder), signed_id, "{variant:?}");
                assert_eq!(name_id(holder), "alice@example.com");
                assert!(holder.child(DSIG_NS, "Signature").is_none(), "{variant:?}");
            }
            Xsw::Xsw7 => {
                let extensions = root.child(PROTOCOL_NS, "Extensions").expect("Extensions");
                let order: Vec<&str> = root.elements().map(Element::local).collect();
                assert_eq!(order, ["Issuer", "Extensions", "Status", "Assertion"]);
                assert_eq!(name_id(extensions.child(ASSERTION_NS, "Assertion").expect("evil")), EVIL);
                assert_eq!(&id(first), signed_id);
            }
        }

        // Where the signed element is kept whole, it is kept byte for byte.
        if matches!(variant, Xsw::Xsw3 | Xsw::Xsw4 | Xsw::Xsw7) {
            let signed_assertion = assertions(&parse(&xml).root)[0].to_xml();
            assert!(forged.contains(&signed_assertion), "{variant:?}: the signed Assertion's bytes changed");
        }

        // xmlsec still verifies what the signature references (found by ID), unless the wrapping hid it inside
        // the signature itself.
        match verify(&forged, idp()) {
            Ok(predigest) => {
                assert!(xsw_verifies(variant), "{variant:?} verified");
                assert_eq!(predigest, original_predigest, "{variant:?}: the verified bytes are the original's");
            }
            Err(e) => assert!(!xsw_verifies(variant), "{variant:?}: {e}"),
        }
    }
}

#[test]
fn xsw3_and_xsw2_verify_for_a_naive_verifier_and_xsw1_does_not_with_xmlsec() {
    // XSW3: the signed Assertion is untouched, so the first signature (found by ID) verifies, while the first
    // Assertion in the document is the attacker's.
    let xml = signed(SigningMode::AssertionSigned);
    let forged = attacks::xsw(&xml, Xsw::Xsw3, EVIL).expect("forges");
    assert!(verify_first(&forged, idp()));
    assert_eq!(name_id(assertions(&parse(&forged).root)[0]), EVIL);

    // XSW2: the root is the attacker's Response and still carries a signature that verifies.
    let xml = signed(SigningMode::ResponseSigned);
    let forged = attacks::xsw(&xml, Xsw::Xsw2, EVIL).expect("forges");
    assert!(verify_first(&forged, idp()));
    assert_eq!(name_id(assertions(&parse(&forged).root)[0]), EVIL);

    // XSW1: the original Response sits inside the signature, and xmlsec refuses a ds:Signature child that is not
    // SignedInfo, SignatureValue, KeyInfo or Object.
    let forged = attacks::xsw(&xml, Xsw::Xsw1, EVIL).expect("forges");
    assert!(!verify_first(&forged, idp()));
}

#[test]
fn wrapping_needs_the_signature_it_wraps() {
    let assertion_signed = signed(SigningMode::AssertionSigned);
    let response_signed = signed(SigningMode::ResponseSigned);
    for variant in Xsw::ALL {
        let input = if variant.wraps_response() { &assertion_signed } else { &response_signed };
        let result = attacks::xsw(input, variant, EVIL);
        assert!(matches!(result, Err(SamlIdpError::NotApplicable(_))), "{variant:?}: {result:?}");
    }
}

#[test]
fn wrapping_keeps_namespaces_when_the_signature_uses_a_default_namespace() {
    // Some IdPs write `<Signature xmlns="…xmldsig#">`; an Assertion in the default namespace moved inside it must
    // keep its own.
    let xml = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r"><Issuer>i</Issuer><samlp:Status/><Assertion ID="_a"><Issuer>i</Issuer><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/></Signature><Subject><NameID>alice</NameID></Subject></Assertion></samlp:Response>"#;
    let forged = attacks::xsw(xml, Xsw::Xsw6, EVIL).expect("forges");
    let doc = parse(&forged);
    let first = assertions(&doc.root)[0];
    let inner = first.child(DSIG_NS, "Signature").and_then(|s| s.child(ASSERTION_NS, "Assertion")).expect("moved");
    assert_eq!(id(inner), "_a");
    assert_eq!(inner.attr("xmlns").as_deref(), Some(ASSERTION_NS));
}

#[test]
fn a_duplicate_assertion_follows_the_signed_one_unsigned() {
    let xml = signed(SigningMode::AssertionSigned);
    let original = verify(&xml, idp()).expect("verifies");
    let forged = attacks::duplicate_assertion(&xml, EVIL).expect("forges");
    let doc = parse(&forged);
    let found = assertions(&doc.root);
    assert_eq!(found.len(), 2);
    assert_eq!(name_id(found[0]), "alice@example.com");
    assert_eq!(name_id(found[1]), EVIL);
    assert!(found[1].child(DSIG_NS, "Signature").is_none());
    assert_eq!(verify(&forged, idp()).expect("the signed one still verifies"), original);
}

#[test]
fn a_comment_in_the_name_id_keeps_the_signature_valid() {
    let xml = spec().name_id("admin@corp.example.evil.example").sign(idp()).expect("signs");
    let original = verify(&xml, idp()).expect("verifies");
    let forged = attacks::comment_in_name_id(&xml, "admin@corp.example").expect("forges");
    assert!(forged.contains(">admin@corp.example<!---->.evil.example<"));
    assert_eq!(forged.replace("<!---->", ""), xml, "only the comment was added");
    // Exclusive C14N drops comments: the same bytes are digested.
    assert_eq!(verify(&forged, idp()).expect("still verifies"), original);
    assert!(attacks::comment_in_name_id(&xml, "someone@else").is_err());
    assert!(attacks::comment_in_name_id(&xml, "admin@corp.example.evil.example").is_err());
}

#[test]
fn a_cdata_section_in_the_name_id_keeps_the_signature_valid() {
    let xml = spec().name_id("admin@corp.example.evil.example").sign(idp()).expect("signs");
    let original = verify(&xml, idp()).expect("verifies");
    let forged = attacks::cdata_in_name_id(&xml, "admin@corp.example").expect("forges");
    assert!(forged.contains(">admin@corp.example<![CDATA[.evil.example]]><"), "{forged}");
    assert_eq!(forged.replace("<![CDATA[", "").replace("]]>", ""), xml, "only the CDATA markup was added");
    // Canonical XML replaces CDATA sections by their characters: the same bytes are digested.
    assert_eq!(verify(&forged, idp()).expect("still verifies"), original);
    assert!(attacks::cdata_in_name_id(&xml, "someone@else").is_err());
}

#[test]
fn a_second_root_follows_the_signed_assertion_which_still_verifies_alone() {
    let xml = signed(SigningMode::AssertionSigned);
    let forged = attacks::second_root(&xml, EVIL).expect("forges");
    let split = forged.find("<samlp:Response").expect("the second root");
    let (first, second) = forged.split_at(split);
    assert!(first.starts_with("<saml:Assertion") && first.contains("xmlns:saml="), "{first}");
    verify(first, idp()).expect("the signed Assertion verifies on its own");
    let doc = parse(second);
    let found = assertions(&doc.root);
    assert_eq!(found.len(), 1);
    assert_eq!(name_id(found[0]), EVIL);
    assert!(!second.contains("Signature"), "the second root is unsigned");
    assert!(Document::parse(&forged).is_err(), "two roots are not one well-formed document");
    assert!(attacks::second_root(&signed(SigningMode::ResponseSigned), EVIL).is_err(), "needs a signed Assertion");
}

#[test]
fn a_decoy_assertion_of_another_namespace_comes_first_and_the_signed_one_still_verifies() {
    let xml = signed(SigningMode::AssertionSigned);
    let original = verify(&xml, idp()).expect("verifies");
    let forged = attacks::foreign_namespace_assertion(&xml, EVIL).expect("forges");
    let doc = parse(&forged);
    let found = assertions(&doc.root);
    assert_eq!(found.len(), 1, "one Assertion of the SAML namespace");
    assert_eq!(name_id(found[0]), "alice@example.com");
    let first = doc.root.children.iter().find_map(|n| match n {
        crate::saml::xml::Node::Element(e) if e.name.ends_with(":Assertion") => Some(e),
        _ => None,
    });
    let first = first.expect("an Assertion-named element");
    assert_eq!(first.ns.as_deref(), Some(attacks::DECOY_NS));
    assert!(forged.contains(EVIL));
    assert_eq!(verify(&forged, idp()).expect("the signed one still verifies"), original);
}

#[test]
fn doctypes_declare_entities_the_name_id_references() {
    let xml = signed(SigningMode::AssertionSigned);
    let internal = attacks::doctype(&xml, &Dtd::InternalEntity).expect("forges");
    assert!(internal.starts_with(r#"<!DOCTYPE samlp:Response [<!ENTITY idc "alice@example.com">]><samlp:Response"#));
    assert!(internal.contains(">&idc;</saml:NameID>"));
    assert_eq!(
        internal.split_once("]>").map(|(_, rest)| rest.replace("&idc;", "alice@example.com")).as_deref(),
        Some(xml.as_str()),
        "the entity expands to the signed NameID"
    );

    let external =
        attacks::doctype(&xml, &Dtd::ExternalEntity { system: "file:///etc/hostname".into() }).expect("forges");
    assert!(external.contains(r#"<!ENTITY idc SYSTEM "file:///etc/hostname">"#));

    let laughs = attacks::doctype(&xml, &Dtd::BillionLaughs { depth: 3 }).expect("forges");
    assert!(laughs.contains(r#"<!ENTITY lol0 "lol">"#));
    assert!(laughs.contains(r#"<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">"#));
    assert!(laughs.contains(">&lol3;</saml:NameID>"));
}

#[test]
fn oversized_pads_to_the_exact_size_and_stays_signed() {
    let xml = signed(SigningMode::AssertionSigned);
    let forged = attacks::oversized(&xml, 1 << 20).expect("forges");
    assert_eq!(forged.len(), 1 << 20);
    assert!(forged.starts_with(&xml));
    verify(&forged, idp()).expect("still verifies");
    assert!(attacks::oversized(&xml, xml.len()).is_err());
}

#[test]
fn a_deflate_bomb_inflates_to_the_size_asked() {
    let size = 8 << 20;
    let encoded = attacks::deflate_bomb(size).expect("deflates");
    assert!(encoded.len() < size / 500, "{} bytes on the wire", encoded.len());
    let deflated = base64::engine::general_purpose::STANDARD.decode(&encoded).expect("base64");
    let mut inflated = String::new();
    flate2::read::DeflateDecoder::new(&deflated[..]).read_to_string(&mut inflated).expect("inflates");
    assert_eq!(inflated.len(), size);
    assert!(inflated.starts_with("<samlp:LogoutRequest") && inflated.ends_with("</samlp:LogoutRequest>"));
    parse(&inflated);

    let xml = signed(SigningMode::AssertionSigned);
    let deflated = base64::engine::general_purpose::STANDARD.decode(attacks::redirect_encode(&xml).expect("encodes"));
    let mut back = String::new();
    flate2::read::DeflateDecoder::new(&deflated.expect("base64")[..]).read_to_string(&mut back).expect("inflates");
    assert_eq!(back, xml);
}

#[test]
fn condition_cases_change_one_value_and_stay_signed() {
    let skew = Duration::minutes(3);
    let base = spec();
    let conditions = |spec: &ResponseSpec| {
        let xml = spec.sign(idp()).expect("signs");
        verify(&xml, idp()).expect("validly signed");
        let doc = parse(&xml);
        let assertion = assertions(&doc.root)[0].clone();
        (doc, assertion)
    };
    let times = |assertion: &Element| {
        let c = assertion.child(ASSERTION_NS, "Conditions").expect("Conditions");
        (c.attr("NotBefore").expect("NotBefore"), c.attr("NotOnOrAfter").expect("NotOnOrAfter"))
    };

    let (_, a) = conditions(&attacks::expired(&base, skew));
    assert_eq!(times(&a).1, xsd_time(t0() - skew));
    let data = all(&a, ASSERTION_NS, "SubjectConfirmationData")[0];
    assert_eq!(data.attr("NotOnOrAfter"), Some(xsd_time(t0() - skew)));
    let (_, a) = conditions(&attacks::last_valid_second(&base, skew));
    assert_eq!(times(&a).1, xsd_time(t0() - skew + Duration::seconds(1)));
    let (_, a) = conditions(&attacks::not_yet_valid(&base, skew));
    assert_eq!(times(&a).0, xsd_time(t0() + skew + Duration::seconds(1)));
    let (_, a) = conditions(&attacks::at_not_before_boundary(&base, skew));
    assert_eq!(times(&a).0, xsd_time(t0() + skew));

    let (_, a) = conditions(&attacks::wrong_audience(&base));
    assert_eq!(all(&a, ASSERTION_NS, "Audience")[0].text(), attacks::OTHER_ENTITY);
    let (_, a) = conditions(&attacks::missing_audience(&base));
    assert!(all(&a, ASSERTION_NS, "AudienceRestriction").is_empty());
    let (_, a) = conditions(&attacks::wrong_recipient(&base));
    assert_eq!(
        all(&a, ASSERTION_NS, "SubjectConfirmationData")[0].attr("Recipient").as_deref(),
        Some(attacks::OTHER_URL)
    );
    let (doc, _) = conditions(&attacks::wrong_destination(&base));
    assert_eq!(doc.root.attr("Destination").as_deref(), Some(attacks::OTHER_URL));
    let (doc, a) = conditions(&attacks::wrong_issuer(&base));
    assert_eq!(doc.root.child(ASSERTION_NS, "Issuer").map(Element::text).as_deref(), Some(attacks::OTHER_ENTITY));
    assert_eq!(a.child(ASSERTION_NS, "Issuer").map(Element::text).as_deref(), Some(attacks::OTHER_ENTITY));

    let (doc, _) = conditions(&attacks::non_success_status(&base));
    let codes: Vec<String> = all(&doc.root, PROTOCOL_NS, "StatusCode").iter().filter_map(|c| c.attr("Value")).collect();
    assert_eq!(codes, [STATUS_RESPONDER, "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"]);

    let (doc, _) = conditions(&attacks::wrong_in_response_to(&base));
    let irt = doc.root.attr("InResponseTo").expect("InResponseTo");
    assert_ne!(Some(irt), base.in_response_to);

    let again = attacks::reused_in_response_to(&base);
    assert_eq!(again.in_response_to, base.in_response_to);
    assert_ne!(again.response_id, base.response_id);
    assert_ne!(again.assertion_id, base.assertion_id);
}

#[test]
fn every_namespace_style_signs_verifies_and_wraps() {
    let styles = [
        (NamespaceStyle::Saml, "samlp:Response", "saml:Assertion"),
        (NamespaceStyle::Okta, "saml2p:Response", "saml2:Assertion"),
        (NamespaceStyle::Entra, "samlp:Response", "Assertion"),
    ];
    for (style, response_name, assertion_name) in styles {
        for mode in [SigningMode::ResponseSigned, SigningMode::AssertionSigned, SigningMode::Both] {
            let xml = spec().namespace_style(style).signing(mode).sign(idp()).expect("signs");
            verify(&xml, idp()).unwrap_or_else(|e| panic!("{style:?} {mode:?}: {e}"));
            let doc = parse(&xml);
            assert_eq!(doc.root.name, response_name, "{style:?}");
            let assertion = assertions(&doc.root)[0];
            assert_eq!(assertion.name, assertion_name, "{style:?}");
            assert_eq!(name_id(assertion), "alice@example.com", "{style:?}");
            assert_eq!(doc.root.child(ASSERTION_NS, "Issuer").map(Element::text).as_deref(), Some(IDP));
        }
        let assertion_signed = spec().namespace_style(style).sign(idp()).expect("signs");
        let response_signed =
            spec().namespace_style(style).signing(SigningMode::ResponseSigned).sign(idp()).expect("signs");
        for (variant, input) in [(Xsw::Xsw2, &response_signed), (Xsw::Xsw3, &assertion_signed)] {
            let forged = attacks::xsw(input, variant, EVIL).expect("forges");
            verify(&forged, idp()).unwrap_or_else(|e| panic!("{style:?} {variant:?}: {e}"));
            assert_eq!(name_id(assertions(&parse(&forged).root)[0]), EVIL, "{style:?} {variant:?}");
        }
    }
}
