//! The SAML 2.0 service provider's assertion consumer service (ACS): verification of a `<samlp:Response>` posted
//! by an IdP (SAML Profiles §4.1, Web Browser SSO; SAML Bindings §3.5, HTTP-POST), failing closed on every doubt.
//!
//! **Does not import axum or know about HTTP**, and stores nothing durable: connections come from the caller, and
//! the outstanding AuthnRequests and the replay cache ([`state`]) live in memory with the [`ServiceProvider`].
//!
//! # Who enforces what
//!
//! samael (0.0.22, with its `xmlsec` feature) does the XML Signature cryptography. Its service-provider layer
//! (`ServiceProvider::parse_xml_response`) is not used: it does check Status, Destination, Issuer, the bearer
//! confirmation's Recipient and NotOnOrAfter, and InResponseTo against a list the caller passes, but it skips the
//! signature when no certificate is configured, checks the audience only when an AudienceRestriction is present,
//! keeps no replay cache, never consumes a request, reads the wall clock, and lets libxml2 parse in recover mode.
//! Everything but the cryptography is therefore this module's, as the table says.
//!
//! | guard | by |
//! | --- | --- |
//! | connection without certificate refused | here ([`SamlError::NoCertificate`]) |
//! | size cap before and after base64; base64 errors; never inflated | here ([`SamlError::TooLarge`], [`SamlError::Base64`]) |
//! | DOCTYPE (XXE, entity bombs) refused before any parsing | here, a byte scan and again in `xml` ([`SamlError::Doctype`]) |
//! | strict well-formedness (libxml2 runs in recover mode) | here, `xml` ([`SamlError::MalformedXml`]) |
//! | duplicate IDs | here ([`SamlError::DuplicateId`]) and samael (before xmlsec resolves references) |
//! | exactly one Assertion, a direct child; no EncryptedAssertion | here ([`SamlError::AssertionCount`], …) |
//! | signature placement, one Reference to its parent's ID, transforms, no Object | here, `dsig` |
//! | SHA-1 refused unless the connection allows it | here ([`SamlError::Sha1Refused`]) and samael's algorithm list |
//! | every signature verifies with a configured certificate, never KeyInfo | samael/xmlsec ([`SamlError::SignatureInvalid`]) |
//! | data read only from the canonical bytes the verified reference digested | samael returns them; here they are the only source of signed data ([`SamlError::SignedElementMismatch`]) |
//! | Status Success, Destination, Issuer (Response and Assertion) | here |
//! | one bearer SubjectConfirmation: Recipient, NotOnOrAfter, no NotBefore | here |
//! | Conditions times with skew; AudienceRestriction required; unknown conditions refused | here |
//! | IssueInstant present (Response and Assertion) and not ahead of now beyond the skew | here |
//! | AuthnStatement present; NameID read in full (comments never cut it) | here |
//! | InResponseTo bound to one pending request of this connection, single use | here ([`AuthnRequestStore`]) |
//! | assertion ID replay (per issuer, until expiry) | here ([`ReplayCache`]) |
//!
//! Time comes from the injected [`Clock`]; a boundary is accepted at exactly `NotBefore - skew` and refused at
//! exactly `NotOnOrAfter + skew` (SAML Core §2.5.1.2: NotOnOrAfter is exclusive).
//!
//! The same guards, up to the signature, check an IdP's LogoutRequest posted with the HTTP-POST binding
//! ([`ServiceProvider::verify_posted_logout_request`]: one enveloped signature, directly in the request); then
//! [`ServiceProvider::accept_logout_request`] checks Issuer, Destination, IssueInstant and NotOnOrAfter, and
//! records its ID in the replay cache, for either binding.

pub mod connections;
mod dsig;
pub mod error;
pub mod fetch;
pub mod messages;
pub mod metadata;
pub mod service;
pub mod state;
#[cfg(any(test, feature = "testing"))]
#[doc(hidden)]
pub mod testing;
mod xml;

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};

use crate::clock::Clock;
pub use error::SamlError;
pub use state::{AuthnRequestStore, ReplayCache};
use xml::{Element, XmlError};

/// The SAML 2.0 protocol namespace.
pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// The SAML 2.0 assertion namespace.
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// The top-level status of a successful Response (SAML Core §3.2.2.2).
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// The bearer confirmation method (SAML Profiles §3.3).
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// The namespace of the `xml:` prefix.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The entity NameID format, the only one an Issuer may state (SAML Profiles §4.1.4.2).
pub const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

/// An X.509 certificate an IdP signs with, kept as DER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningCertificate {
    der: Vec<u8>,
}

impl SigningCertificate {
    /// A certificate from DER bytes; refused unless it parses as X.509.
    pub fn from_der(der: Vec<u8>) -> Result<Self, SamlError> {
        openssl::x509::X509::from_der(&der).map_err(|_| SamlError::InvalidCertificate("not DER X.509".into()))?;
        Ok(SigningCertificate { der })
    }

    /// A certificate from PEM (`-----BEGIN CERTIFICATE-----`).
    pub fn from_pem(pem: &str) -> Result<Self, SamlError> {
        let cert = openssl::x509::X509::from_pem(pem.as_bytes())
            .map_err(|_| SamlError::InvalidCertificate("not PEM X.509".into()))?;
        let der = cert.to_der().map_err(|_| SamlError::InvalidCertificate("cannot encode as DER".into()))?;
        Ok(SigningCertificate { der })
    }

    /// A certificate from base64 DER, as IdP metadata's `ds:X509Certificate` holds it (whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, SamlError> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| SamlError::InvalidCertificate("not base64".into()))?;
        Self::from_der(der)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
}

/// One IdP a workspace trusts.
#[derive(Debug, Clone)]
pub struct IdpConnection {
    /// The connection's own ID; outstanding requests are bound to it.
    pub id: String,
    /// The IdP's entity ID: every Issuer must equal it.
    pub entity_id: String,
    /// The IdP's SSO service URL (where AuthnRequests go).
    pub sso_url: String,
    /// The IdP's single logout URL, if it has one.
    pub slo_url: Option<String>,
    /// The certificates a signature may verify with; several during a key rollover. Never empty in use: with none,
    /// every Response is refused.
    pub certificates: Vec<SigningCertificate>,
    /// Accept RSA-SHA1 / SHA-1 digests (legacy IdPs). Off by default.
    pub allow_sha1: bool,
    /// Accept Responses with no InResponseTo (IdP-initiated SSO, SAML Profiles §4.1.5). Off by default.
    pub allow_idp_initiated: bool,
}

impl IdpConnection {
    /// A connection with SHA-1 and IdP-initiated SSO refused.
    pub fn new(
        id: impl Into<String>,
        entity_id: impl Into<String>,
        sso_url: impl Into<String>,
        certificates: Vec<SigningCertificate>,
    ) -> Self {
        IdpConnection {
            id: id.into(),
            entity_id: entity_id.into(),
            sso_url: sso_url.into(),
            slo_url: None,
            certificates,
            allow_sha1: false,
            allow_idp_initiated: false,
        }
    }
}

/// The service provider's own side of every connection.
#[derive(Debug, Clone)]
pub struct SpSettings {
    /// The SP's entity ID: the audience every assertion must name.
    pub entity_id: String,
    /// The ACS URL: every Destination and Recipient must equal it.
    pub acs_url: String,
    /// Tolerated clock difference with IdPs, applied to every time check.
    pub clock_skew: Duration,
    /// The largest decoded message accepted, in bytes.
    pub max_message_bytes: usize,
    /// How long an AuthnRequest waits for its Response.
    pub request_lifetime: Duration,
    /// The most AuthnRequests pending at once.
    pub max_pending_requests: usize,
    /// The most unexpired assertions remembered for replay detection.
    pub replay_capacity: usize,
}

impl SpSettings {
    /// Settings with the defaults: 120 s skew, 256 KiB messages, requests valid 10 minutes.
    pub fn new(entity_id: impl Into<String>, acs_url: impl Into<String>) -> Self {
        SpSettings {
            entity_id: entity_id.into(),
            acs_url: acs_url.into(),
            clock_skew: Duration::seconds(120),
            max_message_bytes: 256 * 1024,
            request_lifetime: Duration::minutes(10),
            max_pending_requests: 10_000,
            replay_capacity: 100_000,
        }
    }
}

/// A Response as it reached the ACS.
#[derive(Debug, Clone, Copy)]
pub enum ResponseInput<'a> {
    /// The `SAMLResponse` form value of the HTTP-POST binding (SAML Bindings §3.5.4): base64, line breaks allowed.
    Base64(&'a str),
    /// The XML itself.
    Xml(&'a [u8]),
}

/// Which element the verified signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedPart {
    /// The whole Response (its Assertion included).
    Response,
    /// The Assertion only; the Response envelope was unsigned.
    Assertion,
}

/// One SAML attribute of the assertion's AttributeStatements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlAttribute {
    /// The attribute's Name.
    pub name: String,
    /// Its text values, in order.
    pub values: Vec<String>,
}

/// What a verified Response establishes: read only from signed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLogin {
    /// The connection it came through.
    pub connection_id: String,
    /// The IdP entity ID (the Assertion's Issuer).
    pub issuer: String,
    /// The NameID, in full.
    pub name_id: String,
    /// The NameID Format, if stated.
    pub name_id_format: Option<String>,
    /// The AuthnStatement's SessionIndex, for single logout.
    pub session_index: Option<String>,
    /// The assertion's attributes.
    pub attributes: Vec<SamlAttribute>,
    /// The Assertion's ID (now in the replay cache).
    pub assertion_id: String,
    /// The AuthnRequest it answers; `None` for an accepted IdP-initiated login.
    pub in_response_to: Option<String>,
    /// What the signature covered.
    pub signed: SignedPart,
}

/// The ACS: settings, clock, pending requests and replay cache.
#[derive(Debug)]
pub struct ServiceProvider {
    settings: SpSettings,
    clock: Arc<dyn Clock>,
    requests: AuthnRequestStore,
    replay: ReplayCache,
}

impl ServiceProvider {
    /// A service provider with empty request and replay memories.
    pub fn new(settings: SpSettings, clock: Arc<dyn Clock>) -> Self {
        let requests = AuthnRequestStore::new(settings.request_lifetime, settings.max_pending_requests);
        let replay = ReplayCache::new(settings.replay_capacity);
        ServiceProvider { settings, clock, requests, replay }
    }

    /// The settings.
    pub fn settings(&self) -> &SpSettings {
        &self.settings
    }

    /// The pending AuthnRequests.
    pub fn requests(&self) -> &AuthnRequestStore {
        &self.requests
    }

    /// The replay cache.
    pub fn replay(&self) -> &ReplayCache {
        &self.replay
    }

    /// Records a new AuthnRequest to `connection` and returns its ID, for the request's `ID` attribute.
    pub fn begin_login(&self, connection: &IdpConnection) -> String {
        self.requests.issue(&connection.id, self.clock.now())
    }

    /// Verifies a Response from `connection` and, if every guard passes, consumes its request and records its
    /// assertion ID. Any doubt is an error; nothing is consumed unless every other guard passed.
    pub fn verify_response(
        &self,
        input: ResponseInput<'_>,
        connection: &IdpConnection,
    ) -> Result<VerifiedLogin, SamlError> {
        let now = self.clock.now();
        let skew = self.settings.clock_skew;
        if connection.certificates.is_empty() {
            return Err(SamlError::NoCertificate);
        }
        let bytes = decode(input, self.settings.max_message_bytes)?;
        // Refused before any parser sees it: a DTD is how XXE and entity expansion get in.
        if has_doctype(&bytes) {
            return Err(SamlError::Doctype);
        }
        let text = std::str::from_utf8(&bytes).map_err(|_| SamlError::NotUtf8)?;
        let doc = xml::parse(text).map_err(xml_error)?;

        // The envelope, as posted (unsigned unless the Response signature covers it).
        if !doc.is(PROTOCOL_NS, "Response") {
            return Err(SamlError::NotAResponse(format!("root element is `{}`", doc.name)));
        }
        let response_id = doc.attr("ID").ok_or_else(|| SamlError::NotAResponse("the Response has no ID".into()))?;
        let everything = doc.descendants();
        unique_ids(&everything)?;
        if everything.iter().any(|e| e.is(ASSERTION_NS, "EncryptedAssertion")) {
            return Err(SamlError::EncryptedAssertion);
        }
        match everything.iter().filter(|e| e.is(ASSERTION_NS, "Assertion")).count() {
            0 => return Err(SamlError::NoAssertion),
            1 => {}
            _ => return Err(SamlError::AssertionCount),
        }
        let Ok(Some(posted_assertion)) = doc.single_child(ASSERTION_NS, "Assertion") else {
            return Err(SamlError::AssertionCount);
        };
        let assertion_id =
            posted_assertion.attr("ID").ok_or_else(|| SamlError::NotAResponse("the Assertion has no ID".into()))?;

        let signatures = everything.iter().filter(|e| e.is(dsig::DSIG_NS, "Signature")).count();
        if signatures == 0 {
            return Err(SamlError::Unsigned);
        }
        let mut placed = 0;
        for parent in [&doc, posted_assertion] {
            let mut on_parent = parent.children_named(dsig::DSIG_NS, "Signature");
            if let Some(signature) = on_parent.next() {
                if on_parent.next().is_some() {
                    return Err(SamlError::SignatureStructure("two signatures on one element".into()));
                }
                dsig::check_shape(signature, parent, connection.allow_sha1)?;
                placed += 1;
            }
        }
        if placed != signatures {
            return Err(SamlError::SignatureStructure("a signature outside the Response and its Assertion".into()));
        }

        let certificates: Vec<Vec<u8>> = connection.certificates.iter().map(|c| c.der.clone()).collect();
        let signed_xml = dsig::verify(text, &certificates, connection.allow_sha1)?;
        // From here on, signed data comes only from `signed`: the bytes xmlsec digested.
        let signed = xml::parse(&signed_xml).map_err(|_| SamlError::SignedElementMismatch)?;
        let (signed_part, response, assertion) = if signed.is(PROTOCOL_NS, "Response") {
            if signed.attr("ID") != Some(response_id) {
                return Err(SamlError::SignedElementMismatch);
            }
            let Ok(Some(assertion)) = signed.single_child(ASSERTION_NS, "Assertion") else {
                return Err(SamlError::SignedElementMismatch);
            };
            (SignedPart::Response, &signed, assertion)
        } else if signed.is(ASSERTION_NS, "Assertion") {
            (SignedPart::Assertion, &doc, &signed)
        } else {
            return Err(SamlError::SignedElementMismatch);
        };
        if assertion.attr("ID") != Some(assertion_id) {
            return Err(SamlError::SignedElementMismatch);
        }

        // The Response. SAML Core §3.2.2.2: only a top-level Success means the request was carried out.
        if response.attr("Version") != Some("2.0") {
            return Err(SamlError::NotAResponse("Response Version is not 2.0".into()));
        }
        let status = response
            .single_child(PROTOCOL_NS, "Status")
            .ok()
            .flatten()
            .and_then(|s| s.single_child(PROTOCOL_NS, "StatusCode").ok().flatten())
            .and_then(|c| c.attr("Value"));
        if status != Some(STATUS_SUCCESS) {
            return Err(SamlError::Status(status.unwrap_or("(none)").to_owned()));
        }
        // SAML Bindings §3.5.5.2: a signed message MUST carry Destination, and the receiver checks it is itself.
        match response.attr("Destination") {
            Some(d) if d == self.settings.acs_url => {}
            None if signed_part == SignedPart::Assertion => {}
            found => return Err(SamlError::Destination { found: found.map(str::to_owned) }),
        }
        // SAML Profiles §4.1.4.2: the Response's Issuer MUST be present when the Response is signed.
        match response.single_child(ASSERTION_NS, "Issuer") {
            Ok(Some(issuer)) => {
                check_issuer(issuer, &connection.entity_id)?;
            }
            Ok(None) if signed_part == SignedPart::Assertion => {}
            _ => return Err(SamlError::Issuer { found: None, expected: connection.entity_id.clone() }),
        }

        // The Assertion (signed, directly or through the Response).
        if assertion.attr("Version") != Some("2.0") {
            return Err(SamlError::NotAResponse("Assertion Version is not 2.0".into()));
        }
        // SAML Core §2.3.3 and §3.2.2: IssueInstant is required on both. Nothing may have been issued after now
        // (beyond the skew): such an assertion is not "valid in other respects" (SAML Profiles §4.1.4.3).
        for element in [response, assertion] {
            let issued = time(element, "IssueInstant")?
                .ok_or_else(|| SamlError::Timestamp(format!("{} has no IssueInstant", element.name)))?;
            if issued > now + skew {
                return Err(SamlError::NotYetValid(rfc3339(issued)));
            }
        }
        let issuer = match assertion.single_child(ASSERTION_NS, "Issuer") {
            Ok(Some(issuer)) => check_issuer(issuer, &connection.entity_id)?,
            _ => return Err(SamlError::Issuer { found: None, expected: connection.entity_id.clone() }),
        };
        let subject = required(assertion, "Subject").map_err(SamlError::NameId)?;
        if subject.children_named(ASSERTION_NS, "EncryptedID").next().is_some() {
            return Err(SamlError::NameId("encrypted NameIDs are not supported".into()));
        }
        let name_id_element = required(subject, "NameID").map_err(SamlError::NameId)?;
        let name_id = name_id_element.text().ok_or_else(|| SamlError::NameId("NameID has child elements".into()))?;
        if name_id.trim().is_empty() {
            return Err(SamlError::NameId("NameID is empty".into()));
        }

        // SAML Profiles §4.1.4.2: a bearer SubjectConfirmation whose data has Recipient and NotOnOrAfter, and
        // MUST NOT have NotBefore.
        let bearers: Vec<&Element> = subject
            .children_named(ASSERTION_NS, "SubjectConfirmation")
            .filter(|c| c.attr("Method") == Some(CM_BEARER))
            .collect();
        let [bearer] = bearers[..] else {
            return Err(SamlError::SubjectConfirmation(format!("found {}", bearers.len())));
        };
        let data = required(bearer, "SubjectConfirmationData").map_err(SamlError::SubjectConfirmation)?;
        // SAML Profiles §4.1.4.3: the Recipient is the ACS URL the assertion was delivered to.
        match data.attr("Recipient") {
            Some(r) if r == self.settings.acs_url => {}
            found => return Err(SamlError::Recipient { found: found.map(str::to_owned) }),
        }
        if data.attr("NotBefore").is_some() {
            return Err(SamlError::SubjectConfirmation("bearer SubjectConfirmationData has NotBefore".into()));
        }
        let confirm_until = time(data, "NotOnOrAfter")?
            .ok_or_else(|| SamlError::Timestamp("SubjectConfirmationData has no NotOnOrAfter".into()))?;
        // SAML Profiles §4.1.4.3: "has not passed, subject to allowable clock skew between the providers".
        if now >= confirm_until + skew {
            return Err(SamlError::Expired(rfc3339(confirm_until)));
        }

        // SAML Core §2.5.1.2: valid from NotBefore (inclusive) until NotOnOrAfter (exclusive), here widened by
        // the skew on both sides.
        let conditions = required(assertion, "Conditions").map_err(SamlError::Conditions)?;
        if let Some(not_before) = time(conditions, "NotBefore")?
            && now < not_before - skew
        {
            return Err(SamlError::NotYetValid(rfc3339(not_before)));
        }
        let mut valid_until = confirm_until;
        if let Some(not_on_or_after) = time(conditions, "NotOnOrAfter")? {
            if now >= not_on_or_after + skew {
                return Err(SamlError::Expired(rfc3339(not_on_or_after)));
            }
            valid_until = valid_until.min(not_on_or_after);
        }
        let mut restrictions = 0;
        for condition in conditions.elements() {
            if condition.is(ASSERTION_NS, "AudienceRestriction") {
                // SAML Core §2.5.1.4: each AudienceRestriction must name us (the audiences of one are alternatives).
                restrictions += 1;
                let ours = condition
                    .children_named(ASSERTION_NS, "Audience")
                    .any(|a| a.text().as_deref() == Some(self.settings.entity_id.as_str()));
                if !ours {
                    return Err(SamlError::Audience);
                }
            } else if !(condition.is(ASSERTION_NS, "OneTimeUse") || condition.is(ASSERTION_NS, "ProxyRestriction")) {
                // SAML Core §2.5.1: a condition not understood makes the assertion Indeterminate.
                return Err(SamlError::Conditions(format!("unknown condition `{}`", condition.name)));
            }
        }
        // SAML Profiles §4.1.4.2: the assertion MUST contain an AudienceRestriction naming the SP.
        if restrictions == 0 {
            return Err(SamlError::Audience);
        }
        let Some(authn) = assertion.children_named(ASSERTION_NS, "AuthnStatement").next() else {
            return Err(SamlError::NoAuthnStatement);
        };

        // The request binding (SAML Profiles §4.1.4.3: InResponseTo equals the ID of the original AuthnRequest, and
        // is absent from an unsolicited Response, §4.1.5). The confirmation's InResponseTo is signed; the
        // Response's may not be, so it can only agree.
        let in_response_to = match (data.attr("InResponseTo"), response.attr("InResponseTo")) {
            (Some(ours), Some(theirs)) if ours != theirs => return Err(SamlError::InResponseTo(theirs.to_owned())),
            (None, Some(theirs)) => return Err(SamlError::InResponseTo(theirs.to_owned())),
            (ours, _) => ours,
        };
        if in_response_to.is_none() && !connection.allow_idp_initiated {
            return Err(SamlError::Unsolicited);
        }

        // Last, the two memories: first the replay cache, then the request (both single use, under their locks).
        self.replay.check_and_insert(&issuer, assertion_id, valid_until + skew, now)?;
        if let Some(request) = in_response_to
            && !self.requests.take(request, &connection.id, now)
        {
            return Err(SamlError::InResponseTo(request.to_owned()));
        }

        Ok(VerifiedLogin {
            connection_id: connection.id.clone(),
            issuer,
            name_id,
            name_id_format: name_id_element.attr("Format").map(str::to_owned),
            session_index: authn.attr("SessionIndex").map(str::to_owned),
            attributes: attributes(assertion),
            assertion_id: assertion_id.to_owned(),
            in_response_to: in_response_to.map(str::to_owned),
            signed: signed_part,
        })
    }

    /// Verifies an IdP's LogoutRequest posted with the HTTP-POST binding and returns what its signed bytes say.
    /// SAML Profiles §4.4.4.1: the requester MUST authenticate itself and ensure integrity, and the HTTP-POST
    /// form holds nothing but the message and RelayState (SAML Bindings §3.5.4), so the message carries an enveloped
    /// `ds:Signature` (SAML Core §5.4) that must verify with the connection's certificates. The ACS's machinery:
    /// size cap, DOCTYPE refused before parsing, the strict parser, unique IDs, the signature's shape and
    /// algorithms (SHA-1 only where allowed), xmlsec against configured keys only (never `ds:KeyInfo`), and the
    /// fields read only from the canonical bytes the signature digested. [`ServiceProvider::accept_logout_request`]
    /// then checks what they say.
    pub fn verify_posted_logout_request(
        &self,
        text: &str,
        connection: &IdpConnection,
    ) -> Result<messages::LogoutRequestFields, SamlError> {
        if connection.certificates.is_empty() {
            return Err(SamlError::NoCertificate);
        }
        if text.len() > self.settings.max_message_bytes {
            return Err(SamlError::TooLarge { limit: self.settings.max_message_bytes });
        }
        if has_doctype(text.as_bytes()) {
            return Err(SamlError::Doctype);
        }
        let doc = xml::parse(text).map_err(xml_error)?;
        if !doc.is(PROTOCOL_NS, "LogoutRequest") {
            return Err(SamlError::NotAResponse(format!("root element is `{}`, not samlp:LogoutRequest", doc.name)));
        }
        let id = doc.attr("ID").ok_or_else(|| SamlError::NotAResponse("the LogoutRequest has no ID".into()))?;
        let everything = doc.descendants();
        unique_ids(&everything)?;
        let signatures = everything.iter().filter(|e| e.is(dsig::DSIG_NS, "Signature")).count();
        if signatures == 0 {
            return Err(SamlError::Unsigned);
        }
        // SAML Core §5.4.1: an enveloped signature, a child of the element it signs; nothing else is signed here.
        let mut on_root = doc.children_named(dsig::DSIG_NS, "Signature");
        match (on_root.next(), on_root.next()) {
            (Some(signature), None) if signatures == 1 => dsig::check_shape(signature, &doc, connection.allow_sha1)?,
            _ => {
                return Err(SamlError::SignatureStructure(
                    "a LogoutRequest carries exactly one signature, directly in it".into(),
                ));
            }
        }
        let certificates: Vec<Vec<u8>> = connection.certificates.iter().map(|c| c.der.clone()).collect();
        let signed_xml = dsig::verify(text, &certificates, connection.allow_sha1)?;
        // From here on, only the bytes xmlsec digested.
        let signed = xml::parse(&signed_xml).map_err(|_| SamlError::SignedElementMismatch)?;
        if !signed.is(PROTOCOL_NS, "LogoutRequest") || signed.attr("ID") != Some(id) {
            return Err(SamlError::SignedElementMismatch);
        }
        match messages::logout_of(&signed)? {
            messages::LogoutMessage::Request(fields) => Ok(fields),
            messages::LogoutMessage::Response { .. } => Err(SamlError::SignedElementMismatch),
        }
    }

    /// Accepts an IdP's LogoutRequest whose origin a signature established (either binding's), to `destination`
    /// (this SP's single logout service): Issuer, Destination, its validity window, then its ID into the replay
    /// cache, last, so a refused request consumes nothing.
    pub fn accept_logout_request(
        &self,
        request: &messages::LogoutRequestFields,
        connection: &IdpConnection,
        destination: &str,
    ) -> Result<(), SamlError> {
        let now = self.clock.now();
        let skew = self.settings.clock_skew;
        // SAML Profiles §4.4.4.1: the Issuer MUST be the requester's entity ID, its Format omitted or `entity`.
        if request.issuer != connection.entity_id
            || request.issuer_format.as_deref().is_some_and(|f| f != NAMEID_ENTITY)
        {
            return Err(SamlError::Issuer {
                found: Some(request.issuer.clone()),
                expected: connection.entity_id.clone(),
            });
        }
        // SAML Bindings §3.4.5.2 and §3.5.5.2: a signed message MUST carry Destination, and the recipient MUST
        // check that it is where the message arrived.
        match &request.destination {
            Some(d) if d == destination => {}
            found => return Err(SamlError::Destination { found: found.clone() }),
        }
        // SAML Core §3.2.1: IssueInstant is required. A request is taken for at most `request_lifetime` after it
        // (and not before it, beyond the skew): without NotOnOrAfter it would never expire, and its ID could
        // never leave the replay cache.
        let issued = request
            .issue_instant
            .as_deref()
            .and_then(parse_utc)
            .ok_or_else(|| SamlError::Timestamp("the LogoutRequest has no UTC xsd:dateTime IssueInstant".into()))?;
        if issued > now + skew {
            return Err(SamlError::NotYetValid(rfc3339(issued)));
        }
        let mut valid_until = issued + self.settings.request_lifetime;
        // SAML Core §3.7.1: NotOnOrAfter is "the time at which the request expires" (exclusive, widened by the skew).
        if let Some(value) = &request.not_on_or_after {
            let until = parse_utc(value)
                .ok_or_else(|| SamlError::Timestamp("LogoutRequest@NotOnOrAfter is not a UTC xsd:dateTime".into()))?;
            valid_until = valid_until.min(until);
        }
        if now >= valid_until + skew {
            return Err(SamlError::Expired(rfc3339(valid_until)));
        }
        // SAML Core §1.3.4: IDs are unique, so a request seen again is a replay; kept as long as it could be taken.
        self.replay.check_and_insert(&request.issuer, &request.id, valid_until + skew, now)
    }
}

/// Refuses a document in which two elements carry the same ID (SAML Core §1.3.4).
fn unique_ids(everything: &[&Element]) -> Result<(), SamlError> {
    let mut ids = std::collections::HashSet::new();
    for element in everything {
        // Any attribute named ID, whatever its prefix (libxml2's lookup ignores namespaces), and xml:id, which
        // libxml2 registers as an ID on its own: one namespace of IDs, as xmlsec resolves references in it.
        let is_id = |a: &&xml::Attr| a.name == "ID" || (a.name == "id" && a.ns.as_deref() == Some(XML_NS));
        for attr in element.attrs.iter().filter(is_id) {
            if !ids.insert(attr.value.as_str()) {
                return Err(SamlError::DuplicateId(attr.value.clone()));
            }
        }
    }
    Ok(())
}

/// Where a posted Response says it comes from and what it answers, read **unverified**, only to pick the workspace
/// and connection whose [`ServiceProvider::verify_response`] then decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// The Response's InResponseTo, else the bearer confirmation's.
    pub in_response_to: Option<String>,
    /// The Response's Issuer, else the Assertion's.
    pub issuer: Option<String>,
    /// The Audiences of the Assertion's AudienceRestrictions: which SP (so which workspace) an unsolicited
    /// Response is for.
    pub audiences: Vec<String>,
}

/// Reads a Response's [`Routing`] with the same size cap, DOCTYPE refusal and strict parser as the ACS.
pub fn peek_routing(input: ResponseInput<'_>, max: usize) -> Result<Routing, SamlError> {
    let bytes = decode(input, max)?;
    if has_doctype(&bytes) {
        return Err(SamlError::Doctype);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| SamlError::NotUtf8)?;
    let doc = xml::parse(text).map_err(xml_error)?;
    if !doc.is(PROTOCOL_NS, "Response") {
        return Err(SamlError::NotAResponse(format!("root element is `{}`", doc.name)));
    }
    let assertion = doc.single_child(ASSERTION_NS, "Assertion").ok().flatten();
    let issuer_of = |e: &Element| e.single_child(ASSERTION_NS, "Issuer").ok().flatten().and_then(Element::text);
    let confirmation_irt = assertion
        .and_then(|a| a.single_child(ASSERTION_NS, "Subject").ok().flatten())
        .and_then(|s| s.children_named(ASSERTION_NS, "SubjectConfirmation").next())
        .and_then(|c| c.single_child(ASSERTION_NS, "SubjectConfirmationData").ok().flatten())
        .and_then(|d| d.attr("InResponseTo"))
        .map(str::to_owned);
    let audiences = assertion
        .and_then(|a| a.single_child(ASSERTION_NS, "Conditions").ok().flatten())
        .map(|c| {
            c.children_named(ASSERTION_NS, "AudienceRestriction")
                .flat_map(|r| r.children_named(ASSERTION_NS, "Audience"))
                .filter_map(Element::text)
                .map(|a| a.trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    Ok(Routing {
        in_response_to: doc.attr("InResponseTo").map(str::to_owned).or(confirmation_irt),
        issuer: issuer_of(&doc).or_else(|| assertion.and_then(issuer_of)).map(|i| i.trim().to_owned()),
        audiences,
    })
}

/// The message bytes, within the size cap. The HTTP-POST binding never deflates (SAML Bindings §3.5.4), so
/// nothing here inflates, and a deflate bomb is just invalid XML.
fn decode(input: ResponseInput<'_>, max: usize) -> Result<Cow<'_, [u8]>, SamlError> {
    let too_large = SamlError::TooLarge { limit: max };
    match input {
        ResponseInput::Xml(bytes) if bytes.len() > max => Err(too_large),
        ResponseInput::Xml(bytes) => Ok(Cow::Borrowed(bytes)),
        ResponseInput::Base64(text) => {
            // Bounded before any allocation: room for the encoding and generous line breaks.
            if text.len() > max.saturating_mul(2) {
                return Err(too_large);
            }
            let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            if compact.len() > max.div_ceil(3).saturating_mul(4) {
                return Err(too_large);
            }
            let bytes = base64::engine::general_purpose::STANDARD.decode(&compact).map_err(|_| SamlError::Base64)?;
            if bytes.len() > max {
                return Err(too_large);
            }
            Ok(Cow::Owned(bytes))
        }
    }
}

/// Whether `<!DOCTYPE` or `<!ENTITY` appears anywhere (in any case, in comments and CDATA too).
pub(crate) fn has_doctype(bytes: &[u8]) -> bool {
    bytes.windows(9).any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE"))
        || bytes.windows(8).any(|w| w.eq_ignore_ascii_case(b"<!ENTITY"))
}

pub(crate) fn xml_error(error: XmlError) -> SamlError {
    match error {
        XmlError::Doctype => SamlError::Doctype,
        XmlError::Malformed(reason) => SamlError::MalformedXml(reason),
    }
}

/// The single child `saml:name` of `parent`, or why not.
fn required<'a>(parent: &'a Element, name: &str) -> Result<&'a Element, String> {
    match parent.single_child(ASSERTION_NS, name) {
        Ok(Some(child)) => Ok(child),
        Ok(None) => Err(format!("no {name}")),
        Err(()) => Err(format!("more than one {name}")),
    }
}

/// The Issuer's value, if it is `expected` and states no Format but the entity one (SAML Profiles §4.1.4.2).
fn check_issuer(issuer: &Element, expected: &str) -> Result<String, SamlError> {
    let value = issuer.text();
    let format_ok = issuer.attr("Format").is_none_or(|f| f == NAMEID_ENTITY);
    match value {
        Some(v) if v == expected && format_ok => Ok(v),
        found => Err(SamlError::Issuer { found, expected: expected.to_owned() }),
    }
}

/// The xsd:dateTime attribute `name`, if present. SAML Core §1.3.3: time values are "expressed in UTC form, with no
/// time zone component", so `Z` or no designator at all is UTC; any other offset is refused, not converted.
fn time(element: &Element, name: &str) -> Result<Option<DateTime<Utc>>, SamlError> {
    let Some(value) = element.attr(name) else { return Ok(None) };
    parse_utc(value)
        .map(Some)
        .ok_or_else(|| SamlError::Timestamp(format!("{}@{name} is not a UTC xsd:dateTime", element.name)))
}

pub(crate) fn parse_utc(value: &str) -> Option<DateTime<Utc>> {
    let local = value.strip_suffix('Z').unwrap_or(value);
    chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc())
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn attributes(assertion: &Element) -> Vec<SamlAttribute> {
    assertion
        .children_named(ASSERTION_NS, "AttributeStatement")
        .flat_map(|s| s.children_named(ASSERTION_NS, "Attribute"))
        .filter_map(|a| {
            let name = a.attr("Name")?.to_owned();
            let values = a.children_named(ASSERTION_NS, "AttributeValue").filter_map(Element::text).collect();
            Some(SamlAttribute { name, values })
        })
        .collect()
}

#[cfg(test)]
mod tests;
