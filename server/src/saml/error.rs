//! `SamlError`, the one error enum of the SAML service provider: one variant per guard of the assertion consumer
//! service and of the routes around it (`saml::service`), so a test, a log line or an error body's `code` says
//! which guard refused a message. Messages carry identifiers, URLs and
//! algorithm names only (quoted and escaped when they come from the message), which is what an operator needs to
//! fix a connection, never the assertion's content.

/// Why the assertion consumer service refused a Response, or the service provider refused a setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    /// The connection has no signing certificate, so nothing could be trusted (fail closed).
    #[error("the connection has no IdP signing certificate")]
    NoCertificate,
    /// A configured certificate is not an X.509 certificate.
    #[error("invalid IdP signing certificate: {0}")]
    InvalidCertificate(String),
    /// The message is larger than the configured limit (before or after base64 decoding).
    #[error("SAML message larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The `SAMLResponse` value is not base64 (SAML Bindings §3.5.4: the HTTP-POST binding base64-encodes the
    /// message, and never deflates it, so no inflation is ever attempted).
    #[error("SAMLResponse is not valid base64")]
    Base64,
    /// The message is not UTF-8 XML.
    #[error("SAML message is not UTF-8")]
    NotUtf8,
    /// The message has a document type declaration (XXE, entity expansion); refused before any parsing.
    #[error("SAML message contains a DOCTYPE")]
    Doctype,
    /// The message is not well-formed XML, or uses what this parser refuses (see `saml::xml`).
    #[error("malformed SAML message: {0}")]
    MalformedXml(String),
    /// The root element is not `samlp:Response` (SAML Core §3.2.2), or its Version is not 2.0 (SAML Core §4.1.2).
    #[error("not a SAML 2.0 Response: {0}")]
    NotAResponse(String),
    /// Two elements carry the same `ID` (SAML Core §1.3.4: IDs are unique; a duplicate lets a signature reference
    /// one element while the reader picks another).
    #[error("duplicate ID {0:?}")]
    DuplicateId(String),
    /// The Response holds an EncryptedAssertion, which this service provider does not decrypt.
    #[error("encrypted assertions are not supported")]
    EncryptedAssertion,
    /// The Response holds no Assertion.
    #[error("the Response has no Assertion")]
    NoAssertion,
    /// The Response holds more than one Assertion, or one that is not a direct child of the Response (XML
    /// signature wrapping puts a forged assertion beside, or around, the signed one).
    #[error("the Response must hold exactly one Assertion, as a direct child")]
    AssertionCount,
    /// No `ds:Signature` on the Response nor on the Assertion (SAML Profiles §4.1.3.5: the assertion must be
    /// signed, itself or through the Response), or none in a LogoutRequest posted with the HTTP-POST binding (SAML
    /// Profiles §4.4.4.1).
    #[error("the message is not signed")]
    Unsigned,
    /// A `ds:Signature` is somewhere other than directly in the Response or the Assertion, or does not have the
    /// shape SAML Core §5.4 requires (one SignedInfo, one Reference, no Object).
    #[error("unexpected XML signature: {0}")]
    SignatureStructure(String),
    /// A signature's Reference URI is not `#` followed by the ID of the element holding the signature (SAML Core
    /// §5.4.2).
    #[error("signature reference {uri:?} does not point at the signed element {expected:?}")]
    SignatureReference {
        /// The Reference URI found.
        uri: String,
        /// The ID of the element that holds the signature.
        expected: String,
    },
    /// A signature, digest, canonicalization or transform algorithm outside the allowed set (SAML Core §5.4.3,
    /// §5.4.4 name enveloped signature and exclusive canonicalization).
    #[error("XML signature algorithm not allowed: {0:?}")]
    UnsupportedAlgorithm(String),
    /// SHA-1 (as signature or digest) while the connection does not allow it.
    #[error("SHA-1 is not allowed for this connection: {0:?}")]
    Sha1Refused(String),
    /// The signature does not verify against any configured certificate (wrong key, tampered content, or a key
    /// only the message's own KeyInfo names, which is never used).
    #[error("the XML signature does not verify against the connection's certificates")]
    SignatureInvalid,
    /// What the signature covers is not the Response nor its single Assertion.
    #[error("the signature covers neither the Response nor its Assertion")]
    SignedElementMismatch,
    /// The top-level StatusCode is not Success (SAML Core §3.2.2.2).
    #[error("the IdP answered with status {0:?}")]
    Status(String),
    /// The Response's Destination is missing although the Response is signed (SAML Bindings §3.5.5.2), or is not
    /// this ACS URL; or an IdP's LogoutRequest's is not this single logout service (§3.4.5.2, §3.5.5.2).
    #[error("Destination {found:?} is not where the message was received")]
    Destination {
        /// The Destination found, if any.
        found: Option<String>,
    },
    /// The Response's or the Assertion's Issuer is not the connection's IdP entity ID or states a Format other
    /// than `entity` (SAML Profiles §4.1.4.2), or is missing: the Assertion's always (SAML Core §2.3.3), the
    /// Response's when the Response is signed (SAML Profiles §4.1.4.2).
    #[error("Issuer {found:?} is not the IdP {expected:?}")]
    Issuer {
        /// The Issuer found, if any.
        found: Option<String>,
        /// The connection's entity ID.
        expected: String,
    },
    /// The Assertion has no Subject, no NameID, or a NameID that is empty, encrypted or not plain text.
    #[error("the Assertion has no usable NameID: {0}")]
    NameId(String),
    /// Not exactly one bearer SubjectConfirmation with SubjectConfirmationData (SAML Profiles §4.1.4.2).
    #[error("the Assertion must have exactly one bearer SubjectConfirmation: {0}")]
    SubjectConfirmation(String),
    /// The bearer SubjectConfirmationData's Recipient is missing or is not this ACS URL (SAML Profiles §4.1.4.3).
    #[error("SubjectConfirmationData Recipient {found:?} is not the ACS URL")]
    Recipient {
        /// The Recipient found, if any.
        found: Option<String>,
    },
    /// The assertion is expired: SubjectConfirmationData or Conditions NotOnOrAfter is past, beyond the skew; or
    /// an IdP's LogoutRequest is past its NotOnOrAfter (SAML Core §3.7.1) or too old.
    #[error("the message expired at {0}")]
    Expired(String),
    /// The assertion is not yet valid: Conditions NotBefore is ahead, beyond the skew; or an IdP's LogoutRequest
    /// was issued in the future.
    #[error("the message is not valid before {0}")]
    NotYetValid(String),
    /// A timestamp is not an xsd:dateTime, or a required one is missing.
    #[error("bad or missing timestamp: {0}")]
    Timestamp(String),
    /// The assertion has no Conditions, or a condition this service provider does not understand (SAML Core
    /// §2.5.1: an unknown condition makes the assertion Indeterminate).
    #[error("unusable Conditions: {0}")]
    Conditions(String),
    /// No AudienceRestriction, or one that does not name this SP's entity ID (SAML Core §2.5.1.4; SAML Profiles
    /// §4.1.4.2 requires it).
    #[error("the assertion is not addressed to this service provider (audience)")]
    Audience,
    /// The assertion has no AuthnStatement (SAML Profiles §4.1.4.2).
    #[error("the assertion has no AuthnStatement")]
    NoAuthnStatement,
    /// InResponseTo names no outstanding request of this connection: unknown, already used, expired, issued for
    /// another connection, or the Response's and the confirmation's values differ (SAML Profiles §4.1.4.3).
    #[error("InResponseTo {0:?} matches no outstanding request")]
    InResponseTo(String),
    /// No InResponseTo, and the connection does not accept IdP-initiated (unsolicited) Responses.
    #[error("unsolicited Responses are not accepted for this connection")]
    Unsolicited,
    /// This assertion ID from this IdP was already used (SAML Profiles §4.1.4.5), or this LogoutRequest ID (SAML
    /// Core §1.3.4).
    #[error("message ID {0:?} was already used")]
    Replay(String),
    /// The replay cache is full of unexpired entries; refusing is safer than forgetting one.
    #[error("too many recent assertions; try again later")]
    ReplayCacheFull,

    // --- the routes around the ACS (`saml::service`) ---
    /// The workspace named in the URL does not exist, or has no SAML sign-in (no enterprise plan).
    #[error("workspace {0:?} has no SAML sign-in")]
    UnknownWorkspace(String),
    /// The workspace has no SAML connection (or not the one named).
    #[error("no SAML connection: {0}")]
    NoConnection(String),
    /// The Issuer of a posted message names no connection of the workspace its request belongs to (SAML Profiles
    /// §4.1.4.2: the assertion's Issuer identifies the IdP; a Response for another workspace's IdP fails here).
    #[error("Issuer {0:?} is not an IdP of this workspace")]
    UnknownIssuer(String),
    /// The RelayState is neither a path on this server nor an allowlisted URL (an open redirect otherwise), or is
    /// longer than the 80 bytes SAML Bindings §3.4.3 allows.
    #[error("RelayState refused: {0}")]
    RelayState(String),
    /// The verified NameID names no active member of the workspace, or one outside its corporate domains.
    #[error("no active member of this workspace for the asserted NameID")]
    UnknownMember,
    /// The binding's parameters are missing or unreadable (SAML Bindings §3.4.4, §3.5.4): no `SAMLResponse`, a
    /// repeated parameter, an inflation error or a message over the size cap.
    #[error("bad SAML binding parameters: {0}")]
    Binding(String),
    /// IdP metadata that cannot be used (SAML Metadata §2.3.2, §2.4.3): no EntityDescriptor, no IDPSSODescriptor,
    /// no SingleSignOnService with a supported binding, no signing certificate.
    #[error("unusable IdP metadata: {0}")]
    Metadata(String),
    /// An IdP LogoutRequest whose HTTP-Redirect signature (SAML Bindings §3.4.4.1) is missing or does not verify
    /// with the connection's certificates (SAML Profiles §4.4.4.1: it MUST be authenticated). A LogoutRequest
    /// posted with HTTP-POST is refused by the ACS's signature guards instead (`unsigned`, `signature_invalid`, …).
    #[error("the LogoutRequest is not signed by the IdP: {0}")]
    LogoutSignature(String),
    /// Service providers exist for too many origins (Host headers) already, each still holding requests or
    /// assertions it must remember; refusing a new one is safer than forgetting them.
    #[error("too many service providers are active; try again later")]
    Busy,
    /// A failure of the server (storage); nothing was changed.
    #[error("{0}")]
    Internal(String),
}

impl SamlError {
    /// The HTTP status of a refusal: 400 for unreadable input, 404 for an unknown workspace or connection, 500 for
    /// a server failure, 503 when no service provider can be made, 403 for every message that was read and not
    /// trusted (a full replay cache included: a verification that cannot be completed is a refusal).
    pub fn status(&self) -> u16 {
        use SamlError::*;
        match self {
            TooLarge { .. }
            | Base64
            | NotUtf8
            | Doctype
            | MalformedXml(_)
            | NotAResponse(_)
            | Binding(_)
            | RelayState(_)
            | Metadata(_)
            | InvalidCertificate(_) => 400,
            UnknownWorkspace(_) | NoConnection(_) => 404,
            Internal(_) => 500,
            Busy => 503,
            _ => 403,
        }
    }

    /// The guard that refused, as a stable snake-case name (the `code` of the error body).
    pub fn code(&self) -> &'static str {
        use SamlError::*;
        match self {
            NoCertificate => "no_certificate",
            InvalidCertificate(_) => "invalid_certificate",
            TooLarge { .. } => "too_large",
            Base64 => "base64",
            NotUtf8 => "not_utf8",
            Doctype => "doctype",
            MalformedXml(_) => "malformed_xml",
            NotAResponse(_) => "not_a_response",
            DuplicateId(_) => "duplicate_id",
            EncryptedAssertion => "encrypted_assertion",
            NoAssertion => "no_assertion",
            AssertionCount => "assertion_count",
            Unsigned => "unsigned",
            SignatureStructure(_) => "signature_structure",
            SignatureReference { .. } => "signature_reference",
            UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Sha1Refused(_) => "sha1_refused",
            SignatureInvalid => "signature_invalid",
            SignedElementMismatch => "signed_element_mismatch",
            Status(_) => "status",
            Destination { .. } => "destination",
            Issuer { .. } => "issuer",
            NameId(_) => "name_id",
            SubjectConfirmation(_) => "subject_confirmation",
            Recipient { .. } => "recipient",
            Expired(_) => "expired",
            NotYetValid(_) => "not_yet_valid",
            Timestamp(_) => "timestamp",
            Conditions(_) => "conditions",
            Audience => "audience",
            NoAuthnStatement => "no_authn_statement",
            InResponseTo(_) => "in_response_to",
            Unsolicited => "unsolicited",
            Replay(_) => "replay",
            ReplayCacheFull => "replay_cache_full",
            UnknownWorkspace(_) => "unknown_workspace",
            NoConnection(_) => "no_connection",
            UnknownIssuer(_) => "unknown_issuer",
            RelayState(_) => "relay_state",
            UnknownMember => "unknown_member",
            Binding(_) => "binding",
            Metadata(_) => "metadata",
            LogoutSignature(_) => "logout_signature",
            Busy => "busy",
            Internal(_) => "internal_error",
        }
    }
}
