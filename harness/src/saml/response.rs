//! The `<samlp:Response>` a mock IdP sends (SAML Core §3.3.3, §2.3.3; SAML Profiles §4.1.4.2): a builder with
//! the values a valid Web Browser SSO Response needs, signing with xmlsec, and the HTTP-POST form.

use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use samael::crypto::{Crypto, CryptoProvider};

use super::xml::{Document, Element, Node, escape_attr};
use super::{
    ASSERTION_NS, CM_BEARER, DSIG_NS, IdpKey, NAMEID_EMAIL, PROTOCOL_NS, STATUS_SUCCESS, SamlIdpError, XS_NS, XSI_NS,
};

/// Which elements carry an enveloped signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SigningMode {
    /// The Response only (its signature covers the Assertion too).
    ResponseSigned,
    /// The Assertion only (Entra's and Okta's default).
    #[default]
    AssertionSigned,
    /// The Assertion, then the Response around it.
    Both,
    /// No signature at all.
    Unsigned,
}

impl SigningMode {
    fn assertion(self) -> bool {
        matches!(self, SigningMode::AssertionSigned | SigningMode::Both)
    }

    fn response(self) -> bool {
        matches!(self, SigningMode::ResponseSigned | SigningMode::Both)
    }
}

/// The digest and signature algorithms of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// RSA-SHA256 with a SHA-256 digest (XML Signature 1.1 §6.4.2, RFC 6931 §2.3.2).
    #[default]
    Sha256,
    /// RSA-SHA1 with a SHA-1 digest: legacy IdPs; a strict SP refuses it.
    Sha1,
}

impl Algorithm {
    /// The `ds:SignatureMethod` URI.
    pub fn signature_uri(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Algorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        }
    }

    /// The `ds:DigestMethod` URI.
    pub fn digest_uri(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            Algorithm::Sha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
        }
    }

    fn from_signature_uri(uri: &str) -> Algorithm {
        if uri == Algorithm::Sha1.signature_uri() { Algorithm::Sha1 } else { Algorithm::Sha256 }
    }
}

/// Whose attribute names and formats the AttributeStatement follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttributeStyle {
    /// Okta's attribute statements as an admin usually configures them: `email`, `firstName`, `lastName` (and
    /// `groups` when there are groups), NameFormat `unspecified` (Okta's default; see
    /// [`ResponseSpec::attribute_name_format`] for `basic`), values typed `xsi:type="xs:string"`.
    #[default]
    Okta,
    /// Microsoft Entra ID's default claims: the WS-Federation claim URIs (`…/claims/emailaddress`, `…/name`,
    /// `…/givenname`, `…/surname`), `http://schemas.microsoft.com/identity/claims/objectidentifier`,
    /// `…/tenantid`, `…/displayname`, `…/identityprovider` and the groups claim, without NameFormat.
    Entra,
    /// No AttributeStatement.
    None,
}

/// How the Response spells its namespaces: SPs that match prefixes instead of namespaces break on some.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NamespaceStyle {
    /// `samlp:` and `saml:`, declared on the Response (and again on the Assertion, so it stands alone).
    #[default]
    Saml,
    /// Okta's `saml2p:` and `saml2:`.
    Okta,
    /// Entra's: `samlp:` for the protocol, the assertion namespace as the default namespace of the Assertion and
    /// of the Response's Issuer.
    Entra,
}

/// The AttributeStatement NameFormat Okta writes when none is configured (SAML Core §2.7.3.1).
pub const ATTRNAME_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified";
/// The `basic` NameFormat (SAML Core §8.2.1).
pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";
/// The WS-Federation claim namespace Entra names most claims in.
pub const ENTRA_CLAIMS: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims";
/// Entra's object-ID claim.
pub const ENTRA_OBJECT_ID: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";
/// Entra's tenant-ID claim.
pub const ENTRA_TENANT_ID: &str = "http://schemas.microsoft.com/identity/claims/tenantid";
/// Entra's display-name claim.
pub const ENTRA_DISPLAY_NAME: &str = "http://schemas.microsoft.com/identity/claims/displayname";
/// Entra's identity-provider claim.
pub const ENTRA_IDENTITY_PROVIDER: &str = "http://schemas.microsoft.com/identity/claims/identityprovider";
/// Entra's groups claim (group object IDs).
pub const ENTRA_GROUPS: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups";

/// A random XML ID: `_` and 32 hex digits (an NCName, SAML Core §1.3.4).
pub fn random_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

/// `xsd:dateTime` in UTC with milliseconds and `Z`, as Okta and Entra write it (SAML Core §1.3.3).
pub fn xsd_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A SAML Response to build: every value a valid Web Browser SSO Response needs, with defaults, each settable.
///
/// Times are derived from [`ResponseSpec::now`] unless set explicitly: IssueInstant and AuthnInstant at now,
/// NotBefore five minutes before, NotOnOrAfter (Conditions and the bearer confirmation) five minutes after.
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    /// The IdP entity ID: both Issuers.
    pub issuer: String,
    /// The Response's Destination (the SP's ACS URL); none when `None`.
    pub destination: Option<String>,
    /// The Conditions' Audience (the SP's entity ID); no AudienceRestriction when `None`.
    pub audience: Option<String>,
    /// The bearer confirmation's Recipient (the ACS URL); none when `None`.
    pub recipient: Option<String>,
    /// The AuthnRequest this answers (on the Response and the confirmation); none for IdP-initiated SSO.
    pub in_response_to: Option<String>,
    /// The subject's NameID.
    pub name_id: String,
    /// The NameID Format URI.
    pub name_id_format: String,
    /// The AuthnStatement's SessionIndex.
    pub session_index: String,
    /// The AttributeStatement's style.
    pub attribute_style: AttributeStyle,
    /// How namespaces are spelled.
    pub namespace_style: NamespaceStyle,
    /// Overrides the NameFormat of [`AttributeStyle::Okta`] attributes.
    pub attribute_name_format: Option<String>,
    /// The user's email (attribute value).
    pub email: String,
    /// The user's given name.
    pub first_name: String,
    /// The user's family name.
    pub last_name: String,
    /// The user's groups (names for Okta, object IDs for Entra).
    pub groups: Vec<String>,
    /// Entra's tenant ID (also in the issuer Entra uses: `https://sts.windows.net/{tenant}/`).
    pub tenant_id: String,
    /// Entra's user object ID.
    pub object_id: String,
    /// The instant the other times derive from.
    pub now: DateTime<Utc>,
    /// The Response's and Assertion's IssueInstant; `now` when `None`.
    pub issue_instant: Option<DateTime<Utc>>,
    /// Conditions NotBefore; `now - 5 min` when `None`.
    pub not_before: Option<DateTime<Utc>>,
    /// Conditions NotOnOrAfter and the confirmation's NotOnOrAfter; `now + 5 min` when `None`.
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// The top-level StatusCode Value.
    pub status: String,
    /// A second-level StatusCode Value.
    pub sub_status: Option<String>,
    /// The Response ID.
    pub response_id: String,
    /// The Assertion ID.
    pub assertion_id: String,
    /// Which elements are signed.
    pub signing: SigningMode,
    /// The digest and signature algorithms.
    pub algorithm: Algorithm,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: String) => {
        $(#[$doc])*
        pub fn $name(mut self, value: impl Into<String>) -> Self {
            self.$name = value.into();
            self
        }
    };
    ($(#[$doc:meta])* $name:ident: Option<String>) => {
        $(#[$doc])*
        pub fn $name(mut self, value: Option<impl Into<String>>) -> Self {
            self.$name = value.map(Into::into);
            self
        }
    };
    ($(#[$doc:meta])* $name:ident: Option<DateTime>) => {
        $(#[$doc])*
        pub fn $name(mut self, value: DateTime<Utc>) -> Self {
            self.$name = Some(value);
            self
        }
    };
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

impl ResponseSpec {
    /// A valid Response from `issuer` to the SP `audience` at its ACS `acs_url` (Destination and Recipient), for
    /// `alice@example.com`, at the wall clock's now; fresh IDs.
    pub fn new(issuer: &str, acs_url: &str, audience: &str) -> ResponseSpec {
        ResponseSpec {
            issuer: issuer.to_owned(),
            destination: Some(acs_url.to_owned()),
            audience: Some(audience.to_owned()),
            recipient: Some(acs_url.to_owned()),
            in_response_to: None,
            name_id: "alice@example.com".to_owned(),
            name_id_format: NAMEID_EMAIL.to_owned(),
            session_index: random_id(),
            attribute_style: AttributeStyle::default(),
            namespace_style: NamespaceStyle::default(),
            attribute_name_format: None,
            email: "alice@example.com".to_owned(),
            first_name: "Alice".to_owned(),
            last_name: "Example".to_owned(),
            groups: Vec::new(),
            tenant_id: "00000000-0000-4000-8000-000000000001".to_owned(),
            object_id: "00000000-0000-4000-8000-0000000000a1".to_owned(),
            now: Utc::now(),
            issue_instant: None,
            not_before: None,
            not_on_or_after: None,
            status: STATUS_SUCCESS.to_owned(),
            sub_status: None,
            response_id: random_id(),
            assertion_id: random_id(),
            signing: SigningMode::default(),
            algorithm: Algorithm::default(),
        }
    }

    setter!(/// Sets the IdP entity ID.
        issuer: String);
    setter!(/// Sets (or removes) the Destination.
        destination: Option<String>);
    setter!(/// Sets (or removes) the Audience.
        audience: Option<String>);
    setter!(/// Sets (or removes) the Recipient.
        recipient: Option<String>);
    setter!(/// Sets (or removes) InResponseTo.
        in_response_to: Option<String>);
    setter!(/// Sets the NameID.
        name_id: String);
    setter!(/// Sets the NameID Format.
        name_id_format: String);
    setter!(/// Sets the SessionIndex.
        session_index: String);
    setter!(/// Sets the attribute style.
        attribute_style: AttributeStyle);
    setter!(/// Sets the namespace style.
        namespace_style: NamespaceStyle);
    setter!(/// Overrides the Okta attributes' NameFormat (e.g. [`ATTRNAME_BASIC`]).
        attribute_name_format: Option<String>);
    setter!(/// Sets the email attribute.
        email: String);
    setter!(/// Sets the given name.
        first_name: String);
    setter!(/// Sets the family name.
        last_name: String);
    setter!(/// Sets the groups.
        groups: Vec<String>);
    setter!(/// Sets Entra's tenant ID.
        tenant_id: String);
    setter!(/// Sets Entra's object ID.
        object_id: String);
    setter!(/// Sets the instant the default times derive from.
        now: DateTime<Utc>);
    setter!(/// Sets IssueInstant explicitly.
        issue_instant: Option<DateTime>);
    setter!(/// Sets NotBefore explicitly.
        not_before: Option<DateTime>);
    setter!(/// Sets NotOnOrAfter explicitly.
        not_on_or_after: Option<DateTime>);
    setter!(/// Sets the top-level status code.
        status: String);
    setter!(/// Sets (or removes) a second-level status code.
        sub_status: Option<String>);
    setter!(/// Sets the Response ID.
        response_id: String);
    setter!(/// Sets the Assertion ID.
        assertion_id: String);
    setter!(/// Sets the signing mode.
        signing: SigningMode);
    setter!(/// Sets the algorithms.
        algorithm: Algorithm);

    /// Fresh Response and Assertion IDs (and session index), everything else kept.
    pub fn with_fresh_ids(mut self) -> ResponseSpec {
        self.response_id = random_id();
        self.assertion_id = random_id();
        self.session_index = random_id();
        self
    }

    /// The IssueInstant in effect.
    pub fn effective_issue_instant(&self) -> DateTime<Utc> {
        self.issue_instant.unwrap_or(self.now)
    }

    /// The NotBefore in effect.
    pub fn effective_not_before(&self) -> DateTime<Utc> {
        self.not_before.unwrap_or(self.now - Duration::minutes(5))
    }

    /// The NotOnOrAfter in effect.
    pub fn effective_not_on_or_after(&self) -> DateTime<Utc> {
        self.not_on_or_after.unwrap_or(self.now + Duration::minutes(5))
    }

    /// An element of the assertion namespace, spelled in the namespace style.
    fn saml(&self, local: &str) -> Element {
        match self.namespace_style {
            NamespaceStyle::Saml => Element::new(&format!("saml:{local}"), ASSERTION_NS),
            NamespaceStyle::Okta => Element::new(&format!("saml2:{local}"), ASSERTION_NS),
            NamespaceStyle::Entra => Element::new(local, ASSERTION_NS),
        }
    }

    /// An element of the protocol namespace, spelled in the namespace style.
    fn samlp(&self, local: &str) -> Element {
        match self.namespace_style {
            NamespaceStyle::Saml | NamespaceStyle::Entra => Element::new(&format!("samlp:{local}"), PROTOCOL_NS),
            NamespaceStyle::Okta => Element::new(&format!("saml2p:{local}"), PROTOCOL_NS),
        }
    }

    /// The declaration that binds the assertion namespace in the namespace style.
    fn assertion_declaration(&self) -> &'static str {
        match self.namespace_style {
            NamespaceStyle::Saml => "xmlns:saml",
            NamespaceStyle::Okta => "xmlns:saml2",
            NamespaceStyle::Entra => "xmlns",
        }
    }

    fn attribute(&self, name: &str, name_format: Option<&str>, values: &[&str], typed: bool) -> Element {
        let mut attribute = self.saml("Attribute").with_attr("Name", name).with_opt_attr("NameFormat", name_format);
        for value in values {
            let value = self.saml("AttributeValue").with_text(value);
            let value = if typed { value.with_attr("xsi:type", "xs:string") } else { value };
            attribute = attribute.with_child(value);
        }
        attribute
    }

    fn attribute_statement(&self) -> Option<Element> {
        let groups: Vec<&str> = self.groups.iter().map(String::as_str).collect();
        let statement = self.saml("AttributeStatement");
        match self.attribute_style {
            AttributeStyle::None => None,
            AttributeStyle::Okta => {
                let format = Some(self.attribute_name_format.as_deref().unwrap_or(ATTRNAME_UNSPECIFIED));
                let mut statement = statement
                    .with_child(self.attribute("email", format, &[&self.email], true))
                    .with_child(self.attribute("firstName", format, &[&self.first_name], true))
                    .with_child(self.attribute("lastName", format, &[&self.last_name], true));
                if !groups.is_empty() {
                    statement = statement.with_child(self.attribute("groups", format, &groups, true));
                }
                Some(statement)
            }
            AttributeStyle::Entra => {
                let claim = |local: &str| format!("{ENTRA_CLAIMS}/{local}");
                let display = format!("{} {}", self.first_name, self.last_name);
                let idp = format!("https://sts.windows.net/{}/", self.tenant_id);
                let mut statement = statement
                    .with_child(self.attribute(ENTRA_TENANT_ID, None, &[&self.tenant_id], false))
                    .with_child(self.attribute(ENTRA_OBJECT_ID, None, &[&self.object_id], false))
                    .with_child(self.attribute(ENTRA_DISPLAY_NAME, None, &[&display], false))
                    .with_child(self.attribute(ENTRA_IDENTITY_PROVIDER, None, &[&idp], false))
                    .with_child(self.attribute(&claim("givenname"), None, &[&self.first_name], false))
                    .with_child(self.attribute(&claim("surname"), None, &[&self.last_name], false))
                    .with_child(self.attribute(&claim("emailaddress"), None, &[&self.email], false))
                    .with_child(self.attribute(&claim("name"), None, &[&self.email], false));
                if !groups.is_empty() {
                    statement = statement.with_child(self.attribute(ENTRA_GROUPS, None, &groups, false));
                }
                Some(statement)
            }
        }
    }

    fn assertion(&self) -> Element {
        let issued = xsd_time(self.effective_issue_instant());
        let until = xsd_time(self.effective_not_on_or_after());
        let mut assertion = self
            .saml("Assertion")
            .with_attr(self.assertion_declaration(), ASSERTION_NS)
            .with_attr("ID", &self.assertion_id)
            .with_attr("Version", "2.0")
            .with_attr("IssueInstant", &issued);
        if self.attribute_style == AttributeStyle::Okta {
            assertion = assertion.with_attr("xmlns:xs", XS_NS).with_attr("xmlns:xsi", XSI_NS);
        }
        let confirmation_data = self
            .saml("SubjectConfirmationData")
            .with_opt_attr("InResponseTo", self.in_response_to.as_deref())
            .with_attr("NotOnOrAfter", &until)
            .with_opt_attr("Recipient", self.recipient.as_deref());
        let subject = self
            .saml("Subject")
            .with_child(self.saml("NameID").with_attr("Format", &self.name_id_format).with_text(&self.name_id))
            .with_child(self.saml("SubjectConfirmation").with_attr("Method", CM_BEARER).with_child(confirmation_data));
        let mut conditions = self
            .saml("Conditions")
            .with_attr("NotBefore", &xsd_time(self.effective_not_before()))
            .with_attr("NotOnOrAfter", &until);
        if let Some(audience) = &self.audience {
            conditions = conditions
                .with_child(self.saml("AudienceRestriction").with_child(self.saml("Audience").with_text(audience)));
        }
        let authn = self
            .saml("AuthnStatement")
            .with_attr("AuthnInstant", &issued)
            .with_attr("SessionIndex", &self.session_index)
            .with_child(
                self.saml("AuthnContext").with_child(
                    self.saml("AuthnContextClassRef")
                        .with_text("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"),
                ),
            );
        assertion = assertion
            .with_child(self.saml("Issuer").with_text(&self.issuer))
            .with_child(subject)
            .with_child(conditions)
            .with_child(authn);
        if let Some(statement) = self.attribute_statement() {
            assertion = assertion.with_child(statement);
        }
        assertion
    }

    fn document(&self) -> Document {
        let mut status_code = self.samlp("StatusCode").with_attr("Value", &self.status);
        if let Some(sub) = &self.sub_status {
            status_code = status_code.with_child(self.samlp("StatusCode").with_attr("Value", sub));
        }
        let protocol_declaration =
            if self.namespace_style == NamespaceStyle::Okta { "xmlns:saml2p" } else { "xmlns:samlp" };
        let mut root = self.samlp("Response").with_attr(protocol_declaration, PROTOCOL_NS);
        let mut issuer = self.saml("Issuer").with_text(&self.issuer);
        if self.namespace_style == NamespaceStyle::Entra {
            issuer = issuer.with_attr("xmlns", ASSERTION_NS);
        } else {
            root = root.with_attr(self.assertion_declaration(), ASSERTION_NS);
        }
        let root = root
            .with_attr("ID", &self.response_id)
            .with_attr("Version", "2.0")
            .with_attr("IssueInstant", &xsd_time(self.effective_issue_instant()))
            .with_opt_attr("Destination", self.destination.as_deref())
            .with_opt_attr("InResponseTo", self.in_response_to.as_deref())
            .with_child(issuer)
            .with_child(self.samlp("Status").with_child(status_code))
            .with_child(self.assertion());
        Document { prolog: String::new(), root, epilog: String::new() }
    }

    /// The Response as XML, unsigned whatever the signing mode.
    pub fn build(&self) -> String {
        self.document().to_xml()
    }

    /// The Response as XML, signed by `key` as [`ResponseSpec::signing`] says, KeyInfo carrying `key`'s
    /// certificate.
    pub fn sign(&self, key: &IdpKey) -> Result<String, SamlIdpError> {
        sign_document(self.document(), self.signing, self.algorithm, key, key)
    }
}

/// A `ds:Signature` template for xmlsec: enveloped, exclusive C14N, one Reference to `#id` (SAML Core §5.4),
/// KeyInfo with `key_info`'s certificate.
fn signature_template(id: &str, algorithm: Algorithm, key_info: &IdpKey) -> Result<Element, SamlIdpError> {
    let template = format!(
        r##"<ds:Signature xmlns:ds="{DSIG_NS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="{method}"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
        id = escape_attr(id),
        method = algorithm.signature_uri(),
        digest = algorithm.digest_uri(),
        cert = key_info.certificate_base64(),
    );
    Ok(Document::parse(&template)?.root)
}

/// Puts a signature template into `element` where SAML Core's schema wants it: right after its Issuer.
fn insert_template(element: &mut Element, algorithm: Algorithm, key_info: &IdpKey) -> Result<(), SamlIdpError> {
    let id = element.attr("ID").ok_or(SamlIdpError::Missing("an ID on the element to sign"))?;
    let at = element.child_index(ASSERTION_NS, "Issuer").map(|i| i + 1).unwrap_or(0);
    element.children.insert(at, Node::Element(signature_template(&id, algorithm, key_info)?));
    Ok(())
}

/// Runs xmlsec on the first (document order) signature template of `doc` and reads the result back.
fn xmlsec_sign(doc: &Document, signer: &IdpKey) -> Result<Document, SamlIdpError> {
    let signed = Crypto::sign_xml(doc.to_xml(), signer.private_der()).map_err(SamlIdpError::Sign)?;
    let mut signed = Document::parse(&signed)?;
    // libxml2 writes an XML declaration; keep the prolog the document had.
    signed.prolog = doc.prolog.clone();
    signed.epilog = doc.epilog.clone();
    Ok(signed)
}

/// Signs a Response document that holds no signature: the (first) Assertion first, then the Response, so the
/// Response's signature covers the signed Assertion. xmlsec signs the first template in document order, and the
/// Response's sits before the Assertion, hence one template at a time.
pub(crate) fn sign_document(
    mut doc: Document,
    mode: SigningMode,
    algorithm: Algorithm,
    signer: &IdpKey,
    key_info: &IdpKey,
) -> Result<String, SamlIdpError> {
    if mode.assertion() {
        let assertion = doc
            .root
            .find_mut(&|e| e.is(ASSERTION_NS, "Assertion"))
            .ok_or(SamlIdpError::Missing("an Assertion to sign"))?;
        insert_template(assertion, algorithm, key_info)?;
        doc = xmlsec_sign(&doc, signer)?;
    }
    if mode.response() {
        insert_template(&mut doc.root, algorithm, key_info)?;
        doc = xmlsec_sign(&doc, signer)?;
    }
    Ok(doc.to_xml())
}

/// Strips every signature of `xml` and signs it again where it was signed (Response, Assertion or both), with
/// the algorithm it used, by `signer`, KeyInfo carrying `key_info`'s certificate.
pub(crate) fn resign(xml: &str, signer: &IdpKey, key_info: &IdpKey) -> Result<String, SamlIdpError> {
    let mut doc = Document::parse(xml)?;
    let response_signed = doc.root.child(DSIG_NS, "Signature").is_some();
    let mut assertions = Vec::new();
    doc.root.find_all(&|e| e.is(ASSERTION_NS, "Assertion"), &mut assertions);
    let assertion_signed = assertions.first().is_some_and(|a| a.child(DSIG_NS, "Signature").is_some());
    let mut methods = Vec::new();
    doc.root.find_all(&|e| e.is(DSIG_NS, "SignatureMethod"), &mut methods);
    let algorithm = methods
        .first()
        .and_then(|m| m.attr("Algorithm"))
        .map(|uri| Algorithm::from_signature_uri(&uri))
        .unwrap_or_default();
    let mode = match (response_signed, assertion_signed) {
        (true, true) => SigningMode::Both,
        (true, false) => SigningMode::ResponseSigned,
        (false, true) => SigningMode::AssertionSigned,
        (false, false) => return Err(SamlIdpError::NotApplicable("the document is not signed".into())),
    };
    doc.root.remove_descendants(DSIG_NS, "Signature");
    sign_document(doc, mode, algorithm, signer, key_info)
}

/// `application/x-www-form-urlencoded` encoding of one value (HTML 4.01 §17.13.4.1, as browsers post forms).
pub fn form_urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => out.push(byte as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The HTTP-POST binding's form fields (SAML Bindings §3.5.4): `SAMLResponse`, the base64 of the XML, and
/// `RelayState` when given.
pub fn post_fields(xml: &str, relay_state: Option<&str>) -> Vec<(String, String)> {
    let mut fields = vec![("SAMLResponse".to_owned(), base64::engine::general_purpose::STANDARD.encode(xml))];
    if let Some(relay) = relay_state {
        fields.push(("RelayState".to_owned(), relay.to_owned()));
    }
    fields
}

/// The HTTP-POST binding's form body (SAML Bindings §3.5.4), `application/x-www-form-urlencoded`, as the
/// browser posts it to the ACS.
pub fn post_form(xml: &str, relay_state: Option<&str>) -> String {
    post_fields(xml, relay_state)
        .iter()
        .map(|(k, v)| format!("{k}={}", form_urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}
