//! Tests of the ACS guards, on real Responses signed with xmlsec (through samael) by RSA keys made at test time:
//! one test at least per guard, each changing one thing of an otherwise valid Response.

use std::sync::{Arc, OnceLock};

use super::testing::TestKey as Key;
use super::*;
use crate::clock::ManualClock;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};

const ACS: &str = "https://sp.example.test/saml/acs";
const SP_ENTITY: &str = "https://sp.example.test/saml/metadata";
const IDP_ENTITY: &str = "https://idp.example.test/metadata";
const CONNECTION: &str = "conn-1";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).single().expect("valid instant")
}

fn xsd(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The IdP's key, a rolled-over second IdP key, and an attacker's.
struct Keys {
    idp: Key,
    idp_next: Key,
    attacker: Key,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        idp: Key::generate("idp.example.test"),
        idp_next: Key::generate("idp.example.test (next)"),
        attacker: Key::generate("attacker.example.test"),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Assertion,
    Response,
    Both,
}

/// A valid Response, field by field, so each test changes one thing.
#[derive(Clone)]
struct Fixture {
    response_id: String,
    assertion_id: String,
    issuer: String,
    response_issuer: Option<String>,
    destination: Option<String>,
    response_in_response_to: Option<String>,
    status: String,
    name_id: String,
    recipient: Option<String>,
    in_response_to: Option<String>,
    confirm_until: DateTime<Utc>,
    not_before: Option<DateTime<Utc>>,
    not_on_or_after: Option<DateTime<Utc>>,
    audience: Option<String>,
    extra_conditions: String,
    sign: Sign,
    sha1: bool,
    key: &'static Key,
    key_info: &'static Key,
}

fn opt_attr(name: &str, value: &Option<String>) -> String {
    value.as_ref().map(|v| format!(r#" {name}="{v}""#)).unwrap_or_default()
}

impl Fixture {
    fn new(request_id: &str) -> Fixture {
        Fixture {
            response_id: "_resp1".into(),
            assertion_id: "_assert1".into(),
            issuer: IDP_ENTITY.into(),
            response_issuer: Some(IDP_ENTITY.into()),
            destination: Some(ACS.into()),
            response_in_response_to: Some(request_id.into()),
            status: STATUS_SUCCESS.into(),
            name_id: "alice@example.com".into(),
            recipient: Some(ACS.into()),
            in_response_to: Some(request_id.into()),
            confirm_until: t0() + Duration::minutes(5),
            not_before: Some(t0() - Duration::minutes(1)),
            not_on_or_after: Some(t0() + Duration::minutes(5)),
            audience: Some(SP_ENTITY.into()),
            extra_conditions: String::new(),
            sign: Sign::Assertion,
            sha1: false,
            key: &keys().idp,
            key_info: &keys().idp,
        }
    }

    fn template(&self, reference: &str) -> String {
        let (method, digest) = if self.sha1 {
            ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1")
        } else {
            ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256")
        };
        format!(
            r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="{method}"/><ds:Reference URI="#{reference}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
            cert = self.key_info.cert_base64()
        )
    }

    fn sign_xml(&self, xml: &str) -> String {
        self.key.sign_xml(xml)
    }

    fn assertion(&self, signed: bool) -> String {
        let xml = self.assertion_xml(signed);
        if signed { self.sign_xml(&xml) } else { xml }
    }

    /// The assertion's text, with a signature template when `template`, not yet signed.
    fn assertion_xml(&self, template: bool) -> String {
        let audience = self
            .audience
            .as_ref()
            .map(|a| format!("<saml:AudienceRestriction><saml:Audience>{a}</saml:Audience></saml:AudienceRestriction>"))
            .unwrap_or_default();
        let signature = if template { self.template(&self.assertion_id) } else { String::new() };
        format!(
            r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}"><saml:Issuer>{issuer}</saml:Issuer>{signature}<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{name_id}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData{irt} NotOnOrAfter="{until}"{recipient}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions{nb}{noa}>{audience}{extra}</saml:Conditions><saml:AuthnStatement AuthnInstant="{now}" SessionIndex="_session1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>alice@example.com</saml:AttributeValue></saml:Attribute><saml:Attribute Name="groups"><saml:AttributeValue>eng</saml:AttributeValue><saml:AttributeValue>ops</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>"#,
            id = self.assertion_id,
            now = xsd(t0()),
            issuer = self.issuer,
            name_id = self.name_id,
            irt = opt_attr("InResponseTo", &self.in_response_to),
            until = xsd(self.confirm_until),
            recipient = opt_attr("Recipient", &self.recipient),
            nb = opt_attr("NotBefore", &self.not_before.map(xsd)),
            noa = opt_attr("NotOnOrAfter", &self.not_on_or_after.map(xsd)),
            extra = self.extra_conditions,
        )
    }

    /// The Response around `inner` (an assertion, or anything a test puts there), unsigned.
    fn envelope(&self, inner: &str, signature: &str) -> String {
        let issuer =
            self.response_issuer.as_ref().map(|i| format!("<saml:Issuer>{i}</saml:Issuer>")).unwrap_or_default();
        format!(
            r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}"{dest}{irt}>{issuer}{signature}<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>{inner}</samlp:Response>"#,
            id = self.response_id,
            now = xsd(t0()),
            dest = opt_attr("Destination", &self.destination),
            irt = opt_attr("InResponseTo", &self.response_in_response_to),
            status = self.status,
        )
    }

    fn build(&self) -> String {
        let assertion = self.assertion(self.sign != Sign::Response);
        if self.sign == Sign::Assertion {
            self.envelope(&assertion, "")
        } else {
            self.sign_xml(&self.envelope(&assertion, &self.template(&self.response_id)))
        }
    }
}

/// A service provider on a manual clock, with one connection that trusts the IdP key.
struct Env {
    clock: ManualClock,
    sp: ServiceProvider,
    conn: IdpConnection,
}

impl Env {
    fn at(now: DateTime<Utc>) -> Env {
        let clock = ManualClock::new(now);
        let sp = ServiceProvider::new(SpSettings::new(SP_ENTITY, ACS), Arc::new(clock.clone()));
        let conn = IdpConnection::new(CONNECTION, IDP_ENTITY, "https://idp.example.test/sso", vec![keys().idp.cert()]);
        Env { clock, sp, conn }
    }

    fn new() -> Env {
        Env::at(t0())
    }

    /// A valid Response to a fresh AuthnRequest of this connection.
    fn fixture(&self) -> Fixture {
        Fixture::new(&self.sp.begin_login(&self.conn))
    }

    fn verify(&self, xml: &str) -> Result<VerifiedLogin, SamlError> {
        self.sp.verify_response(ResponseInput::Xml(xml.as_bytes()), &self.conn)
    }
}

fn refused(result: Result<VerifiedLogin, SamlError>) -> SamlError {
    match result {
        Ok(login) => panic!("accepted: {login:?}"),
        Err(e) => e,
    }
}

/// The `ds:Signature` element of `xml` (the first), as text.
fn signature_of(xml: &str) -> &str {
    let start = xml.find("<ds:Signature").expect("signed");
    let end = xml[start..].find("</ds:Signature>").expect("closed") + start + "</ds:Signature>".len();
    &xml[start..end]
}

// --- accepted ---

#[test]
fn a_signed_assertion_is_accepted_and_read() {
    let env = Env::new();
    let fixture = env.fixture();
    let login = env.verify(&fixture.build()).expect("valid Response");
    assert_eq!(login.connection_id, CONNECTION);
    assert_eq!(login.issuer, IDP_ENTITY);
    assert_eq!(login.name_id, "alice@example.com");
    assert_eq!(login.name_id_format.as_deref(), Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"));
    assert_eq!(login.session_index.as_deref(), Some("_session1"));
    assert_eq!(login.assertion_id, "_assert1");
    assert_eq!(login.in_response_to, fixture.in_response_to);
    assert_eq!(login.signed, SignedPart::Assertion);
    assert_eq!(
        login.attributes,
        vec![
            SamlAttribute { name: "email".into(), values: vec!["alice@example.com".into()] },
            SamlAttribute { name: "groups".into(), values: vec!["eng".into(), "ops".into()] },
        ]
    );
    assert!(env.sp.requests().is_empty(), "the request was consumed");
}

#[test]
fn a_signed_response_and_a_doubly_signed_one_are_accepted() {
    for sign in [Sign::Response, Sign::Both] {
        let env = Env::new();
        let fixture = Fixture { sign, ..env.fixture() };
        let login = env.verify(&fixture.build()).unwrap_or_else(|e| panic!("{sign:?}: {e}"));
        assert_eq!(login.signed, SignedPart::Response);
    }
}

#[test]
fn the_post_binding_form_value_is_accepted_with_line_breaks() {
    let env = Env::new();
    let encoded = base64::engine::general_purpose::STANDARD.encode(env.fixture().build());
    let wrapped: String =
        encoded.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\r\n");
    env.sp.verify_response(ResponseInput::Base64(&wrapped), &env.conn).expect("valid Response");
}

#[test]
fn other_namespace_styles_are_accepted() {
    // Okta writes `saml2:`, Entra a default namespace; the signed bytes are read with their own declarations.
    type Restyle = fn(&str) -> String;
    let styles: [(&str, Restyle); 2] = [
        ("saml2 prefix", |s| s.replace("saml:", "saml2:").replace("xmlns:saml=", "xmlns:saml2=")),
        ("default namespace", |s| s.replace("<saml:", "<").replace("</saml:", "</").replace("xmlns:saml=", "xmlns=")),
    ];
    for (name, restyle) in styles {
        let env = Env::new();
        let fixture = env.fixture();
        let assertion = fixture.sign_xml(&restyle(&fixture.assertion_xml(true)));
        let login = env.verify(&fixture.envelope(&assertion, "")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(login.name_id, "alice@example.com", "{name}");
    }
}

#[test]
fn a_rolled_over_certificate_is_accepted() {
    let mut env = Env::new();
    env.conn.certificates = vec![keys().idp.cert(), keys().idp_next.cert()];
    let fixture = Fixture { key: &keys().idp_next, key_info: &keys().idp_next, ..env.fixture() };
    env.verify(&fixture.build()).expect("second certificate verifies");
}

// --- configuration and input ---

#[test]
fn no_configured_certificate_refuses_everything() {
    let mut env = Env::new();
    let xml = env.fixture().build();
    env.conn.certificates.clear();
    assert_eq!(refused(env.verify(&xml)), SamlError::NoCertificate);
}

#[test]
fn a_doctype_is_refused_before_parsing() {
    let env = Env::new();
    let xml = env.fixture().build();
    let xxe = format!(r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>{xml}"#);
    assert_eq!(refused(env.verify(&xxe)), SamlError::Doctype);
    let bomb = format!(r#"<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>{xml}"#);
    let encoded = base64::engine::general_purpose::STANDARD.encode(bomb);
    assert_eq!(refused(env.sp.verify_response(ResponseInput::Base64(&encoded), &env.conn)), SamlError::Doctype);
    let lower = xml.replacen("<samlp:Status>", "<samlp:Status><!--<!doctype x>-->", 1);
    assert_eq!(refused(env.verify(&lower)), SamlError::Doctype);
}

#[test]
fn oversized_and_undecodable_input_is_refused() {
    let env = Env::new();
    let limit = env.sp.settings().max_message_bytes;
    let xml = env.fixture().build();
    let padded = xml.replacen("<samlp:Status>", &format!("<!--{}--><samlp:Status>", "x".repeat(limit)), 1);
    assert_eq!(refused(env.verify(&padded)), SamlError::TooLarge { limit });
    let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
    assert_eq!(
        refused(env.sp.verify_response(ResponseInput::Base64(&encoded), &env.conn)),
        SamlError::TooLarge { limit }
    );
    let not_base64 = ResponseInput::Base64("PHNhbWxwOlJlc3BvbnNl*");
    assert_eq!(refused(env.sp.verify_response(not_base64, &env.conn)), SamlError::Base64);
    // A deflated message (the Redirect binding's encoding, never used for Responses) is not inflated.
    let deflated = base64::engine::general_purpose::STANDARD.encode([0x78, 0x9c, 0xf3, 0x48, 0xcd, 0xc9, 0xff, 0x00]);
    assert_eq!(refused(env.sp.verify_response(ResponseInput::Base64(&deflated), &env.conn)), SamlError::NotUtf8);
    assert!(matches!(refused(env.verify("<samlp:Response")), SamlError::MalformedXml(_)));
}

// --- signature ---

#[test]
fn an_unsigned_response_is_refused() {
    let env = Env::new();
    let fixture = env.fixture();
    let xml = fixture.envelope(&fixture.assertion(false), "");
    assert_eq!(refused(env.verify(&xml)), SamlError::Unsigned);
}

#[test]
fn a_removed_signature_is_refused() {
    for sign in [Sign::Assertion, Sign::Response] {
        let env = Env::new();
        let xml = Fixture { sign, ..env.fixture() }.build();
        let stripped = xml.replace(signature_of(&xml), "");
        assert_eq!(refused(env.verify(&stripped)), SamlError::Unsigned, "{sign:?}");
    }
}

#[test]
fn a_foreign_key_is_refused_even_when_keyinfo_names_the_idp_certificate() {
    let env = Env::new();
    let fixture = Fixture { key: &keys().attacker, key_info: &keys().idp, ..env.fixture() };
    assert_eq!(refused(env.verify(&fixture.build())), SamlError::SignatureInvalid);
}

#[test]
fn an_attacker_certificate_in_keyinfo_is_never_used() {
    let env = Env::new();
    let xml = Fixture { key: &keys().attacker, key_info: &keys().attacker, ..env.fixture() }.build();
    assert_eq!(refused(env.verify(&xml)), SamlError::SignatureInvalid);
    // The same document verifies for a connection that does trust the attacker's key: only the configured
    // certificate decided.
    let mut trusting = Env::new();
    trusting.conn.certificates = vec![keys().attacker.cert()];
    let xml = Fixture { key: &keys().attacker, key_info: &keys().attacker, ..trusting.fixture() }.build();
    trusting.verify(&xml).expect("valid under the attacker's own connection");
}

#[test]
fn no_keyinfo_is_needed_and_every_signature_must_verify() {
    let env = Env::new();
    let xml = env.fixture().build();
    let key_info_start = xml.find("<ds:KeyInfo>").expect("KeyInfo");
    let key_info_end = xml.find("</ds:KeyInfo>").expect("KeyInfo end") + "</ds:KeyInfo>".len();
    let without = format!("{}{}", &xml[..key_info_start], &xml[key_info_end..]);
    env.verify(&without).expect("the configured certificate alone verifies");

    // A Response the IdP signed around an assertion the attacker signed: one bad signature fails the whole.
    let env = Env::new();
    let fixture = env.fixture();
    let foreign = Fixture { key: &keys().attacker, key_info: &keys().attacker, ..fixture.clone() }.assertion(true);
    let xml = fixture.sign_xml(&fixture.envelope(&foreign, &fixture.template(&fixture.response_id)));
    assert_eq!(refused(env.verify(&xml)), SamlError::SignatureInvalid);
}

#[test]
fn content_tampered_after_signing_is_refused() {
    for sign in [Sign::Assertion, Sign::Response] {
        let env = Env::new();
        let xml = Fixture { sign, ..env.fixture() }.build();
        let tampered = xml.replace("alice@example.com</saml:NameID>", "admin@example.com</saml:NameID>");
        assert_ne!(tampered, xml);
        assert_eq!(refused(env.verify(&tampered)), SamlError::SignatureInvalid, "{sign:?}");
    }
}

#[test]
fn sha1_is_refused_by_default_and_accepted_when_allowed() {
    let mut env = Env::new();
    let fixture = Fixture { sha1: true, ..env.fixture() };
    let xml = fixture.build();
    assert_eq!(refused(env.verify(&xml)), SamlError::Sha1Refused("http://www.w3.org/2000/09/xmldsig#rsa-sha1".into()));
    env.conn.allow_sha1 = true;
    env.verify(&xml).expect("SHA-1 allowed for this connection");
}

#[test]
fn a_reference_to_another_element_is_refused() {
    let env = Env::new();
    let fixture = env.fixture();
    // The assertion's signature points at the Response (URI="" or another ID would be the same refusal).
    let xml = fixture.build().replacen(r##"URI="#_assert1""##, r##"URI="#_resp1""##, 1);
    assert_eq!(
        refused(env.verify(&xml)),
        SamlError::SignatureReference { uri: "#_resp1".into(), expected: "_assert1".into() }
    );
}

#[test]
fn a_comment_in_the_nameid_does_not_cut_it() {
    // CVE-2017-11427 family: the IdP signed `alice@example.com.evil.test`; a comment inserted after the first
    // part leaves the signature valid (exclusive C14N drops comments), and the NameID must still read in full.
    let env = Env::new();
    let fixture = Fixture { name_id: "alice@example.com.evil.test".into(), ..env.fixture() };
    let xml = fixture.build().replacen("alice@example.com.evil.test", "alice@example.com<!---->.evil.test", 1);
    assert!(xml.contains("<!---->"));
    let login = env.verify(&xml).expect("comments are not tampering");
    assert_eq!(login.name_id, "alice@example.com.evil.test");
}

#[test]
fn a_cdata_section_in_the_nameid_does_not_cut_it() {
    // The same attack through a CDATA section: canonical XML replaces it by its characters (C14N 1.0 §1.1), so
    // the signature holds, and the NameID is what the signature covers: the whole text.
    let env = Env::new();
    let fixture = Fixture { name_id: "alice@example.com.evil.test".into(), ..env.fixture() };
    let xml = fixture.build().replacen("alice@example.com.evil.test", "alice@example.com<![CDATA[.evil.test]]>", 1);
    assert!(xml.contains("<![CDATA["));
    let login = env.verify(&xml).expect("a CDATA section is not tampering");
    assert_eq!(login.name_id, "alice@example.com.evil.test");
}

// --- wrapping (XSW) and duplicates ---

fn evil_assertion(fixture: &Fixture) -> String {
    Fixture { assertion_id: "_evil".into(), name_id: "admin@example.com".into(), ..fixture.clone() }.assertion(false)
}

#[test]
fn assertion_wrapping_is_refused() {
    let env = Env::new();
    let fixture = env.fixture();
    let signed = fixture.assertion(true);
    let evil = evil_assertion(&fixture);
    let evil_around = evil.replacen("</saml:Assertion>", &format!("{signed}</saml:Assertion>"), 1);
    let evil_with_object = evil.replacen(
        "</saml:Issuer>",
        &format!(
            "</saml:Issuer>{}",
            signature_of(&signed).replacen(
                "</ds:Signature>",
                &format!("<ds:Object>{signed}</ds:Object></ds:Signature>"),
                1
            )
        ),
        1,
    );
    let cases = [
        ("evil before the signed one", fixture.envelope(&format!("{evil}{signed}"), "")),
        ("evil after the signed one", fixture.envelope(&format!("{signed}{evil}"), "")),
        ("the signed one inside the evil one", fixture.envelope(&evil_around, "")),
        (
            "the signed one in Extensions",
            fixture.envelope(&format!("<samlp:Extensions>{signed}</samlp:Extensions>{evil}"), ""),
        ),
        ("the signed one in the evil one's signature Object", fixture.envelope(&evil_with_object, "")),
        (
            "the signed one moved alone into Extensions",
            fixture.envelope(&format!("<samlp:Extensions>{signed}</samlp:Extensions>"), ""),
        ),
    ];
    for (name, xml) in cases {
        assert_eq!(refused(env.verify(&xml)), SamlError::AssertionCount, "{name}");
    }
}

#[test]
fn a_signature_moved_onto_a_forged_assertion_is_refused() {
    let env = Env::new();
    let fixture = env.fixture();
    let signed = fixture.assertion(true);
    // The forged assertion carries the real signature; its Reference still names the real ID.
    let forged =
        evil_assertion(&fixture).replacen("</saml:Issuer>", &format!("</saml:Issuer>{}", signature_of(&signed)), 1);
    assert_eq!(
        refused(env.verify(&fixture.envelope(&forged, ""))),
        SamlError::SignatureReference { uri: "#_assert1".into(), expected: "_evil".into() }
    );
    // Given the real ID, the digest no longer matches.
    let same_id = signed.replace("alice@example.com</saml:NameID>", "admin@example.com</saml:NameID>");
    assert_eq!(refused(env.verify(&fixture.envelope(&same_id, ""))), SamlError::SignatureInvalid);
}

#[test]
fn response_wrapping_is_refused() {
    let env = Env::new();
    let fixture = Fixture { sign: Sign::Response, ..env.fixture() };
    let original = fixture.build();
    let evil = Fixture { response_id: "_evilresp".into(), ..fixture.clone() };
    // XSW1: the original Response hidden in the copied signature's Object, a forged assertion in the new one.
    let object_signature = signature_of(&original).replacen(
        "</ds:Signature>",
        &format!("<ds:Object>{original}</ds:Object></ds:Signature>"),
        1,
    );
    let xsw1 = evil.envelope(&evil_assertion(&fixture), &object_signature);
    assert_eq!(refused(env.verify(&xsw1)), SamlError::AssertionCount);
    // XSW2: the original Response as a child of the new one.
    let xsw2 = evil.envelope(&format!("{}{original}", evil_assertion(&fixture)), signature_of(&original));
    assert_eq!(refused(env.verify(&xsw2)), SamlError::AssertionCount);
    // The copied signature alone on a forged Response names the original ID.
    let moved = evil.envelope(&evil_assertion(&fixture), signature_of(&original));
    assert_eq!(
        refused(env.verify(&moved)),
        SamlError::SignatureReference { uri: "#_resp1".into(), expected: "_evilresp".into() }
    );
}

#[test]
fn a_duplicated_assertion_is_refused() {
    let env = Env::new();
    let fixture = env.fixture();
    let signed = fixture.assertion(true);
    let xml = fixture.envelope(&format!("{signed}{signed}"), "");
    assert_eq!(refused(env.verify(&xml)), SamlError::DuplicateId("_assert1".into()));
}

#[test]
fn an_xml_id_shadowing_the_signed_id_is_refused() {
    let env = Env::new();
    let fixture = env.fixture();
    let xml = fixture.build().replacen("<samlp:Status>", r#"<samlp:Status xml:id="_assert1">"#, 1);
    assert_eq!(refused(env.verify(&xml)), SamlError::DuplicateId("_assert1".into()));
}

#[test]
fn arbitrary_input_is_refused_without_panicking() {
    use proptest::prelude::*;
    let env = Env::new();
    let valid = env.fixture().build();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 64, ..ProptestConfig::default() });
    // Random bytes, and the valid Response cut or with one byte changed.
    let strategy = (proptest::collection::vec(any::<u8>(), 0..512), 0..valid.len(), any::<u8>());
    runner
        .run(&strategy, |(noise, at, byte)| {
            let _ = env.verify(&String::from_utf8_lossy(&noise));
            let _ = env.sp.verify_response(ResponseInput::Xml(&valid.as_bytes()[..at]), &env.conn);
            let mut changed = valid.clone().into_bytes();
            changed[at] = byte;
            let _ = env.sp.verify_response(ResponseInput::Xml(&changed), &env.conn);
            Ok(())
        })
        .expect("no panic");
}

#[test]
fn an_encrypted_assertion_is_refused() {
    let env = Env::new();
    let fixture = env.fixture();
    let xml = fixture.envelope(&format!("<saml:EncryptedAssertion/>{}", fixture.assertion(true)), "");
    assert_eq!(refused(env.verify(&xml)), SamlError::EncryptedAssertion);
}

// --- replay and request binding ---

#[test]
fn a_replayed_assertion_is_refused() {
    let env = Env::new();
    let xml = env.fixture().build();
    env.verify(&xml).expect("first use");
    assert_eq!(refused(env.verify(&xml)), SamlError::Replay("_assert1".into()));
}

#[test]
fn concurrent_posts_of_one_response_let_one_through() {
    let env = Env::new();
    let xml = env.fixture().build();
    let accepted = std::thread::scope(|scope| {
        let posts: Vec<_> = (0..4).map(|_| scope.spawn(|| env.verify(&xml).is_ok())).collect();
        posts.into_iter().map(|p| p.join()).filter(|r| matches!(r, Ok(true))).count()
    });
    assert_eq!(accepted, 1);
}

#[test]
fn a_wrong_or_reused_in_response_to_is_refused() {
    let env = Env::new();
    let wrong = Fixture { assertion_id: "_assert0".into(), ..Fixture::new("_never-issued") };
    assert_eq!(refused(env.verify(&wrong.build())), SamlError::InResponseTo("_never-issued".into()));

    let first = env.fixture();
    let request = first.in_response_to.clone().unwrap_or_default();
    env.verify(&first.build()).expect("first answer");
    let second = Fixture { assertion_id: "_assert2".into(), response_id: "_resp2".into(), ..first };
    assert_eq!(refused(env.verify(&second.build())), SamlError::InResponseTo(request));
}

#[test]
fn a_request_of_another_connection_or_an_expired_one_is_refused() {
    let env = Env::new();
    let other = IdpConnection::new("conn-2", IDP_ENTITY, "https://idp.example.test/sso", vec![keys().idp.cert()]);
    let foreign = Fixture::new(&env.sp.begin_login(&other));
    assert!(matches!(refused(env.verify(&foreign.build())), SamlError::InResponseTo(_)));

    let env = Env::new();
    let mut late = env.fixture();
    env.clock.advance(std::time::Duration::from_secs(600));
    late.confirm_until = t0() + Duration::minutes(15);
    late.not_on_or_after = None;
    assert!(matches!(refused(env.verify(&late.build())), SamlError::InResponseTo(_)));
}

#[test]
fn the_response_in_response_to_must_agree_with_the_signed_one() {
    let env = Env::new();
    let fixture = Fixture { response_in_response_to: Some("_other".into()), ..env.fixture() };
    assert_eq!(refused(env.verify(&fixture.build())), SamlError::InResponseTo("_other".into()));
}

#[test]
fn unsolicited_responses_need_the_connection_to_allow_them() {
    let mut env = Env::new();
    let fixture = Fixture { in_response_to: None, response_in_response_to: None, ..env.fixture() };
    let xml = fixture.build();
    assert_eq!(refused(env.verify(&xml)), SamlError::Unsolicited);
    env.conn.allow_idp_initiated = true;
    let login = env.verify(&xml).expect("IdP-initiated allowed");
    assert_eq!(login.in_response_to, None);
}

// --- envelope ---

#[test]
fn a_non_success_status_is_refused() {
    let env = Env::new();
    let fixture = Fixture { status: "urn:oasis:names:tc:SAML:2.0:status:Responder".into(), ..env.fixture() };
    assert_eq!(
        refused(env.verify(&fixture.build())),
        SamlError::Status("urn:oasis:names:tc:SAML:2.0:status:Responder".into())
    );
}

#[test]
fn a_wrong_destination_is_refused_and_a_signed_response_needs_one() {
    let env = Env::new();
    let fixture = Fixture { destination: Some("https://other.example.test/acs".into()), ..env.fixture() };
    assert_eq!(
        refused(env.verify(&fixture.build())),
        SamlError::Destination { found: Some("https://other.example.test/acs".into()) }
    );
    let env = Env::new();
    let fixture = Fixture { destination: None, sign: Sign::Response, ..env.fixture() };
    assert_eq!(refused(env.verify(&fixture.build())), SamlError::Destination { found: None });
    let env = Env::new();
    let fixture = Fixture { destination: None, ..env.fixture() };
    env.verify(&fixture.build()).expect("an unsigned envelope may omit Destination");
}

#[test]
fn a_wrong_issuer_is_refused() {
    let env = Env::new();
    let fixture = Fixture { issuer: "https://evil.example.test".into(), ..env.fixture() };
    assert_eq!(
        refused(env.verify(&fixture.build())),
        SamlError::Issuer { found: Some("https://evil.example.test".into()), expected: IDP_ENTITY.into() }
    );
    let env = Env::new();
    let fixture = Fixture { response_issuer: Some("https://evil.example.test".into()), ..env.fixture() };
    assert!(matches!(refused(env.verify(&fixture.build())), SamlError::Issuer { .. }));
    let env = Env::new();
    let fixture = Fixture { response_issuer: None, sign: Sign::Response, ..env.fixture() };
    assert_eq!(
        refused(env.verify(&fixture.build())),
        SamlError::Issuer { found: None, expected: IDP_ENTITY.into() },
        "a signed Response needs its Issuer"
    );
    let env = Env::new();
    let fixture = Fixture { response_issuer: None, ..env.fixture() };
    env.verify(&fixture.build()).expect("an unsigned envelope may omit its Issuer");
    let env = Env::new();
    let fixture = env.fixture();
    let unspecified = r#"<saml:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">"#;
    let assertion = fixture.sign_xml(&fixture.assertion_xml(true).replacen("<saml:Issuer>", unspecified, 1));
    assert!(matches!(refused(env.verify(&fixture.envelope(&assertion, ""))), SamlError::Issuer { .. }));
}

// --- subject confirmation and conditions ---

#[test]
fn a_wrong_or_missing_recipient_is_refused() {
    let env = Env::new();
    let fixture = Fixture { recipient: Some("https://other.example.test/acs".into()), ..env.fixture() };
    assert_eq!(
        refused(env.verify(&fixture.build())),
        SamlError::Recipient { found: Some("https://other.example.test/acs".into()) }
    );
    let env = Env::new();
    let fixture = Fixture { recipient: None, ..env.fixture() };
    assert_eq!(refused(env.verify(&fixture.build())), SamlError::Recipient { found: None });
}

#[test]
fn a_wrong_or_missing_audience_is_refused() {
    let env = Env::new();
    let fixture = Fixture { audience: Some("https://other-sp.example.test".into()), ..env.fixture() };
    assert_eq!(refused(env.verify(&fixture.build())), SamlError::Audience);
    let env = Env::new();
    let fixture = Fixture { audience: None, ..env.fixture() };
    assert_eq!(refused(env.verify(&fixture.build())), SamlError::Audience);
}

#[test]
fn an_unknown_condition_is_refused() {
    let env = Env::new();
    let fixture = Fixture { extra_conditions: "<saml:Condition/>".into(), ..env.fixture() };
    assert!(matches!(refused(env.verify(&fixture.build())), SamlError::Conditions(_)));
}

#[test]
fn expiry_is_judged_at_exactly_the_skew_boundary() {
    let skew = Duration::seconds(120);
    let just = Duration::milliseconds(1);
    // SubjectConfirmationData NotOnOrAfter, Conditions without one.
    let until = t0() + Duration::minutes(5);
    for (offset, ok) in [(skew - just, true), (skew, false)] {
        let env = Env::new();
        let fixture = Fixture { confirm_until: until, not_on_or_after: None, ..env.fixture() };
        env.clock.advance((Duration::minutes(5) + offset).to_std().expect("positive"));
        let result = env.verify(&fixture.build());
        if ok {
            result.expect("within the skew");
        } else {
            assert_eq!(refused(result), SamlError::Expired(xsd(until)));
        }
    }
    // Conditions NotOnOrAfter earlier than the confirmation's.
    let cond_until = t0() + Duration::minutes(3);
    for (offset, ok) in [(skew - just, true), (skew, false)] {
        let env = Env::new();
        let fixture = Fixture { not_on_or_after: Some(cond_until), ..env.fixture() };
        env.clock.advance((Duration::minutes(3) + offset).to_std().expect("positive"));
        let result = env.verify(&fixture.build());
        if ok {
            result.expect("within the skew");
        } else {
            assert_eq!(refused(result), SamlError::Expired(xsd(cond_until)));
        }
    }
}

#[test]
fn not_yet_valid_is_judged_at_exactly_the_skew_boundary() {
    let skew = Duration::seconds(120);
    let not_before = t0() + Duration::minutes(2);
    for (start, ok) in [(not_before - skew, true), (not_before - skew - Duration::milliseconds(1), false)] {
        let env = Env::at(start);
        let fixture = Fixture { not_before: Some(not_before), ..env.fixture() };
        let result = env.verify(&fixture.build());
        if ok {
            result.expect("at the skew boundary");
        } else {
            assert_eq!(refused(result), SamlError::NotYetValid(xsd(not_before)));
        }
    }
}

#[test]
fn the_skew_is_configurable() {
    let clock = ManualClock::new(t0() + Duration::minutes(5) + Duration::seconds(10));
    let settings = SpSettings { clock_skew: Duration::seconds(5), ..SpSettings::new(SP_ENTITY, ACS) };
    let sp = ServiceProvider::new(settings, Arc::new(clock));
    let conn = IdpConnection::new(CONNECTION, IDP_ENTITY, "https://idp.example.test/sso", vec![keys().idp.cert()]);
    let fixture = Fixture::new(&sp.begin_login(&conn));
    let result = sp.verify_response(ResponseInput::Xml(fixture.build().as_bytes()), &conn);
    assert!(matches!(refused(result), SamlError::Expired(_)));
}

#[test]
fn timestamps_are_utc() {
    assert_eq!(parse_utc("2026-01-01T12:00:00Z"), Some(t0()));
    assert_eq!(parse_utc("2026-01-01T12:00:00.250Z"), Some(t0() + Duration::milliseconds(250)));
    assert_eq!(parse_utc("2026-01-01T12:00:00"), Some(t0()), "no designator is UTC too");
    for bad in ["2026-01-01T13:00:00+01:00", "2026-01-01", "2026-01-01T12:00:00ZZ", "soon", ""] {
        assert_eq!(parse_utc(bad), None, "{bad}");
    }
    let env = Env::new();
    let fixture = env.fixture();
    let offset = fixture.assertion_xml(true).replacen(&xsd(fixture.confirm_until), "2026-01-01T13:05:00+01:00", 1);
    let xml = fixture.envelope(&fixture.sign_xml(&offset), "");
    assert!(matches!(refused(env.verify(&xml)), SamlError::Timestamp(_)));
}

#[test]
fn certificates_are_checked_when_configured() {
    assert!(SigningCertificate::from_base64(&keys().idp.cert_base64()).is_ok());
    let pem = openssl::x509::X509::from_der(&keys().idp.cert_der).and_then(|c| c.to_pem()).expect("PEM");
    let from_pem = SigningCertificate::from_pem(&String::from_utf8_lossy(&pem)).expect("PEM certificate");
    assert_eq!(from_pem.der(), keys().idp.cert_der.as_slice());
    assert!(matches!(SigningCertificate::from_base64("bm90IGEgY2VydA=="), Err(SamlError::InvalidCertificate(_))));
}

#[test]
fn issue_instants_are_required_and_not_ahead_of_the_clock_beyond_the_skew() {
    // SAML Core §2.3.3 / §3.2.2: IssueInstant is required. Issued at t0; the SP's clock reads t0 - skew (inside)
    // and just before that (outside). NotBefore is left out so that only IssueInstant decides.
    let skew = Duration::seconds(120);
    for (now, ok) in [(t0() - skew, true), (t0() - skew - Duration::milliseconds(1), false)] {
        let env = Env::at(now);
        let fixture = Fixture { not_before: None, ..env.fixture() };
        let result = env.verify(&fixture.build());
        if ok {
            result.expect("issued at the skew boundary");
        } else {
            assert_eq!(refused(result), SamlError::NotYetValid(xsd(t0())));
        }
    }

    let env = Env::new();
    let fixture = env.fixture();
    let issued = format!(r#" IssueInstant="{}""#, xsd(t0()));
    // The Response envelope is unsigned here (assertion-signed), so its attribute can go.
    let no_response_instant = fixture.build().replacen(&issued, "", 1);
    assert!(matches!(refused(env.verify(&no_response_instant)), SamlError::Timestamp(m) if m.contains("Response")));
    let assertion = fixture.sign_xml(&fixture.assertion_xml(true).replacen(&issued, "", 1));
    let no_assertion_instant = fixture.envelope(&assertion, "");
    assert!(matches!(refused(env.verify(&no_assertion_instant)), SamlError::Timestamp(m) if m.contains("Assertion")));
}

// --- an IdP's LogoutRequest posted with the HTTP-POST binding ---

const SLO: &str = "https://sp.example.test/saml/logout/callback";

/// A LogoutRequest of the IdP, with `extra` attributes and a signature template placed by `place`.
fn logout_request(fixture: &Fixture, id: &str, extra: &str, signature: &str) -> String {
    format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{SLO}"{extra}><saml:Issuer>{issuer}</saml:Issuer>{signature}<saml:NameID>alice@example.com</saml:NameID></samlp:LogoutRequest>"#,
        now = xsd(t0()),
        issuer = fixture.issuer,
    )
}

fn signed_logout_request(fixture: &Fixture, id: &str, extra: &str) -> String {
    fixture.sign_xml(&logout_request(fixture, id, extra, &fixture.template(id)))
}

impl Env {
    fn logout(&self, xml: &str) -> Result<messages::LogoutRequestFields, SamlError> {
        let fields = self.sp.verify_posted_logout_request(xml, &self.conn)?;
        self.sp.accept_logout_request(&fields, &self.conn, SLO)?;
        Ok(fields)
    }
}

#[test]
fn a_signed_logout_request_is_read_from_its_signed_bytes_and_taken_once() {
    let env = Env::new();
    let fixture = env.fixture();
    let xml = signed_logout_request(&fixture, "_lr1", "");
    let fields = env.logout(&xml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((fields.id.as_str(), fields.name_id.as_str()), ("_lr1", "alice@example.com"));
    // SAML Core §1.3.4: the same ID again is a replay.
    assert_eq!(env.logout(&xml).map(|_| ()), Err(SamlError::Replay("_lr1".into())));
}

#[test]
fn a_logout_request_without_a_proper_signature_is_refused() {
    let env = Env::new();
    let fixture = env.fixture();
    assert_eq!(env.logout(&logout_request(&fixture, "_lr2", "", "")).map(|_| ()), Err(SamlError::Unsigned));
    let foreign = Fixture { key: &keys().attacker, ..fixture.clone() };
    assert_eq!(env.logout(&signed_logout_request(&foreign, "_lr3", "")).map(|_| ()), Err(SamlError::SignatureInvalid));
    // A signature over another element, or two signatures: not the shape SAML Core §5.4 allows.
    let elsewhere = logout_request(&fixture, "_lr4", "", "").replace(
        "<saml:NameID>alice@example.com</saml:NameID>",
        &format!(
            "<saml:NameID>alice@example.com</saml:NameID><samlp:Extensions>{}</samlp:Extensions>",
            fixture.template("_lr4")
        ),
    );
    assert!(matches!(env.logout(&elsewhere), Err(SamlError::SignatureStructure(_))));
    let wrong_reference = signed_logout_request(&fixture, "_lr5", "").replace(r##"URI="#_lr5""##, r##"URI="#_other""##);
    assert!(matches!(env.logout(&wrong_reference), Err(SamlError::SignatureReference { .. })));
    let sha1 = Fixture { sha1: true, ..fixture.clone() };
    assert!(matches!(env.logout(&signed_logout_request(&sha1, "_lr6", "")), Err(SamlError::Sha1Refused(_))));
    let doctype = format!("<!DOCTYPE x []>{}", signed_logout_request(&fixture, "_lr7", ""));
    assert_eq!(env.logout(&doctype).map(|_| ()), Err(SamlError::Doctype));
}

#[test]
fn a_logout_request_is_checked_for_issuer_destination_and_time() {
    let env = Env::new();
    let fixture = env.fixture();
    let other = Fixture { issuer: "https://other-idp.example.test".into(), ..fixture.clone() };
    assert!(matches!(env.logout(&signed_logout_request(&other, "_lr8", "")), Err(SamlError::Issuer { .. })));
    let xml = signed_logout_request(&fixture, "_lr9", "");
    let fields = env.sp.verify_posted_logout_request(&xml, &env.conn).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        env.sp.accept_logout_request(&fields, &env.conn, "https://sp.example.test/elsewhere"),
        Err(SamlError::Destination { .. })
    ));
    // SAML Core §3.7.1: NotOnOrAfter is exclusive, widened by the skew.
    let until = format!(r#" NotOnOrAfter="{}""#, xsd(t0() + Duration::minutes(1)));
    let expiring = signed_logout_request(&fixture, "_lr10", &until);
    let at = |t: DateTime<Utc>| Env::at(t);
    assert!(matches!(at(t0() + Duration::seconds(180)).logout(&expiring), Err(SamlError::Expired(_))));
    assert!(at(t0() + Duration::seconds(179)).logout(&expiring).is_ok());
    // Without NotOnOrAfter, a request is taken for the request lifetime after its IssueInstant, and not before it.
    let fresh = signed_logout_request(&fixture, "_lr11", "");
    assert!(matches!(at(t0() + Duration::minutes(12)).logout(&fresh), Err(SamlError::Expired(_))));
    assert!(matches!(at(t0() - Duration::minutes(3)).logout(&fresh), Err(SamlError::NotYetValid(_))));
    assert!(at(t0() + Duration::minutes(11)).logout(&fresh).is_ok(), "within the lifetime and the skew");
}
