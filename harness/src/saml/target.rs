//! The SAML service provider under test: its ACS and entity ID, where an SP-initiated sign-in starts, the IdP key
//! it trusts (configured from the mock IdP's metadata), a user it knows, and how it shows a successful sign-in.
//! Read from the `[saml]` section of a target file (see `harness/examples/target.toml`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::IdpKey;
use crate::target::{Deviation, TargetError, check_url};

/// The SP's clock, when the harness can read it (only an embedded server offers it); otherwise the wall clock.
pub type SpClock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The clock skew assumed when the target file declares none.
pub const DEFAULT_SKEW_SECONDS: u64 = 180;

/// A SAML 2.0 service provider under test.
#[derive(Clone)]
pub struct SamlTarget {
    /// A display name for reports.
    pub name: String,
    /// The Assertion Consumer Service URL (HTTP-POST binding): Destination and Recipient of valid Responses.
    pub acs_url: String,
    /// The SP's entity ID: the Audience of valid Responses.
    pub sp_entity_id: String,
    /// Where an SP-initiated sign-in starts: a GET answered with a redirect to the IdP carrying the AuthnRequest
    /// (HTTP-Redirect binding). Without it, every Response is unsolicited (IdP-initiated).
    pub login_url: Option<String>,
    /// The IdP key the SP trusts.
    pub key: IdpKey,
    /// The IdP entity ID the SP trusts: the Issuer of valid Responses.
    pub idp_entity_id: String,
    /// A user the SP knows: the NameID of valid Responses.
    pub name_id: String,
    /// The HTTP statuses of a successful sign-in at the ACS.
    pub success_status: Vec<u16>,
    /// A cookie a successful sign-in sets (with a non-empty value); `None` judges by the status alone.
    pub success_cookie: Option<String>,
    /// Where a successful sign-in redirects: the `Location`, resolved against the ACS URL, starts with it (for SPs
    /// whose refusals redirect too, to an error page).
    pub success_location: Option<String>,
    /// A page only a signed-in browser gets with a 2xx (redirects are not followed): after the ACS answers, the
    /// harness GETs it with the cookies the SP set, the most direct evidence of a session.
    pub session_url: Option<String>,
    /// Whether the SP accepts unsolicited (IdP-initiated) Responses, SAML Profiles §4.1.5: `idp_initiated` in the
    /// target file, by default when it has no `login_url`.
    pub idp_initiated: bool,
    /// The RelayState posted with valid Responses.
    pub relay_state: String,
    /// The clock skew the SP allows.
    pub skew: Duration,
    /// The SP's clock, when known.
    pub clock: Option<SpClock>,
    /// Another tenant of the same SP (a workspace, organisation or realm of its own) with an IdP connection of its
    /// own, when the target file describes one: the tenancy checks sign with its key.
    pub other_workspace: Option<OtherWorkspace>,
    /// Declared deviations.
    pub deviations: Vec<Deviation>,
}

/// Another tenant's IdP connection at the same SP: what an attacker who runs a workspace of their own controls.
#[derive(Clone)]
pub struct OtherWorkspace {
    /// The key of the IdP that tenant's connection trusts (the attacker's own IdP).
    pub key: IdpKey,
    /// The IdP entity ID that tenant's connection names. It may be the main connection's: workspaces choose their
    /// connections' entity IDs themselves, so an attacker can copy the victim's.
    pub idp_entity_id: String,
    /// That tenant's SP entity ID (the Audience its Responses carry).
    pub sp_entity_id: String,
}

impl std::fmt::Debug for SamlTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamlTarget")
            .field("name", &self.name)
            .field("acs_url", &self.acs_url)
            .field("sp_entity_id", &self.sp_entity_id)
            .field("login_url", &self.login_url)
            .field("idp_entity_id", &self.idp_entity_id)
            .field("name_id", &self.name_id)
            .field("other_workspace", &self.other_workspace.as_ref().map(|o| (&o.idp_entity_id, &o.sp_entity_id)))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct File {
    name: Option<String>,
    saml: Option<Section>,
    #[serde(default)]
    deviations: Vec<Deviation>,
    #[allow(dead_code)]
    scim: Option<toml::Value>,
    #[allow(dead_code)]
    oauth: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    acs_url: String,
    sp_entity_id: String,
    login_url: Option<String>,
    key_file: String,
    cert_file: String,
    idp_entity_id: String,
    name_id: String,
    success_status: Option<Vec<u16>>,
    success_cookie: Option<String>,
    success_location: Option<String>,
    session_url: Option<String>,
    idp_initiated: Option<bool>,
    relay_state: Option<String>,
    skew_seconds: Option<u64>,
    other_workspace: Option<OtherSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OtherSection {
    key_file: String,
    cert_file: String,
    idp_entity_id: String,
    sp_entity_id: String,
}

impl SamlTarget {
    /// Reads the `[saml]` section of a target file; `key_file` and `cert_file` are relative to the file.
    pub fn load(path: &Path) -> Result<Self, TargetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TargetError::Read { path: path.display().to_string(), source })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml(&text, &path.display().to_string(), |f| std::fs::read(dir.join(f)).map_err(|e| e.to_string()))
    }

    /// Parses a target file's text; `read` reads a file named in it.
    pub fn from_toml(
        text: &str,
        origin: &str,
        read: impl Fn(&str) -> Result<Vec<u8>, String>,
    ) -> Result<Self, TargetError> {
        let invalid = |message: String| TargetError::Invalid { path: origin.to_owned(), message };
        let file: File =
            toml::from_str(text).map_err(|e| TargetError::Parse { path: origin.to_owned(), message: e.to_string() })?;
        let s = file.saml.ok_or_else(|| TargetError::NoSection { path: origin.to_owned(), section: "saml" })?;
        let load_key = |key_file: &str, cert_file: &str| {
            let key_pem = read(key_file).map_err(|e| invalid(format!("cannot read {key_file}: {e}")))?;
            let cert_pem = read(cert_file).map_err(|e| invalid(format!("cannot read {cert_file}: {e}")))?;
            IdpKey::from_pem(&key_pem, &cert_pem)
                .map_err(|e| invalid(format!("key_file {key_file} / cert_file {cert_file}: {e}")))
        };
        let key = load_key(&s.key_file, &s.cert_file)?;
        let other_workspace = match s.other_workspace {
            Some(o) => {
                let other_key = load_key(&o.key_file, &o.cert_file)?;
                if other_key.certificate_pem() == key.certificate_pem() {
                    return Err(invalid("saml.other_workspace must use a key of its own".into()));
                }
                if o.sp_entity_id == s.sp_entity_id {
                    return Err(invalid("saml.other_workspace.sp_entity_id must be the other tenant's".into()));
                }
                Some(OtherWorkspace { key: other_key, idp_entity_id: o.idp_entity_id, sp_entity_id: o.sp_entity_id })
            }
            None => None,
        };
        let success_status = s.success_status.unwrap_or_else(|| vec![302, 303]);
        if success_status.is_empty() || success_status.iter().any(|c| !(100..600).contains(c)) {
            return Err(invalid("success_status must list HTTP status codes".into()));
        }
        let relay_state = s.relay_state.unwrap_or_else(|| "/".into());
        let acs_url = check_url(&s.acs_url)?;
        Ok(SamlTarget {
            name: file.name.unwrap_or_else(|| acs_url.clone()),
            acs_url,
            sp_entity_id: s.sp_entity_id,
            login_url: s.login_url.as_deref().map(check_url).transpose()?,
            key,
            idp_entity_id: s.idp_entity_id,
            name_id: s.name_id,
            success_status,
            success_cookie: s.success_cookie,
            success_location: s.success_location.map(|u| check_url(&u)).transpose()?,
            session_url: s.session_url.map(|u| check_url(&u)).transpose()?,
            idp_initiated: s.idp_initiated.unwrap_or(s.login_url.is_none()),
            relay_state,
            skew: Duration::from_secs(s.skew_seconds.unwrap_or(DEFAULT_SKEW_SECONDS)),
            clock: None,
            other_workspace,
            deviations: file.deviations,
        })
    }

    /// The declared deviation for a check, if any.
    pub fn deviation(&self, check_id: &str) -> Option<&Deviation> {
        self.deviations.iter().find(|d| d.check == check_id)
    }

    /// The SP's now: its clock when known, else the wall clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.as_ref().map_or_else(Utc::now, |c| c())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> impl Fn(&str) -> Result<Vec<u8>, String> {
        let pems = |name: &str| {
            let key = IdpKey::generate(name).expect("key");
            (key.private_key_pem().expect("pem"), key.certificate_pem().to_owned())
        };
        let (key_pem, cert_pem) = pems("idp.test");
        let (other_key_pem, other_cert_pem) = pems("other.idp.test");
        move |f| match f {
            "idp-key.pem" => Ok(key_pem.clone().into_bytes()),
            "idp-cert.pem" => Ok(cert_pem.clone().into_bytes()),
            "other-idp-key.pem" => Ok(other_key_pem.clone().into_bytes()),
            "other-idp-cert.pem" => Ok(other_cert_pem.clone().into_bytes()),
            _ => Err("no such file".into()),
        }
    }

    #[test]
    fn parses_the_example_file() {
        let t = SamlTarget::from_toml(include_str!("../../examples/target.toml"), "example", files())
            .expect("example parses");
        assert_eq!(t.acs_url, "https://sp.example.com/saml/acs");
        assert_eq!(t.login_url.as_deref(), Some("https://sp.example.com/saml/login"));
        assert_eq!(t.success_status, vec![302, 303]);
        assert_eq!(t.skew, Duration::from_secs(180));
        assert!(!format!("{t:?}").contains("PRIVATE"), "the key is never printed");
        let other = t.other_workspace.as_ref().expect("the example describes another workspace");
        assert_eq!(other.idp_entity_id, t.idp_entity_id, "the example copies the victim's IdP entity ID");
        assert_ne!(other.key.certificate_pem(), t.key.certificate_pem());
    }

    #[test]
    fn the_other_workspace_needs_a_key_and_an_audience_of_its_own() {
        let base = "[saml]\nacs_url = \"http://sp/acs\"\nsp_entity_id = \"urn:sp\"\nkey_file = \"idp-key.pem\"\n\
                    cert_file = \"idp-cert.pem\"\nidp_entity_id = \"urn:idp\"\nname_id = \"a@b.example\"\n\
                    [saml.other_workspace]\nidp_entity_id = \"urn:idp\"\n";
        let other = format!("{base}key_file = \"other-idp-key.pem\"\ncert_file = \"other-idp-cert.pem\"\n");
        let t = SamlTarget::from_toml(&format!("{other}sp_entity_id = \"urn:sp:other\"\n"), "t", files()).expect("ok");
        assert_eq!(t.other_workspace.map(|o| o.sp_entity_id).as_deref(), Some("urn:sp:other"));
        let same_audience = format!("{other}sp_entity_id = \"urn:sp\"\n");
        assert!(matches!(SamlTarget::from_toml(&same_audience, "t", files()), Err(TargetError::Invalid { .. })));
        let same_key = format!(
            "{base}key_file = \"idp-key.pem\"\ncert_file = \"idp-cert.pem\"\nsp_entity_id = \"urn:sp:other\"\n"
        );
        assert!(matches!(SamlTarget::from_toml(&same_key, "t", files()), Err(TargetError::Invalid { .. })));
    }

    #[test]
    fn defaults_and_errors() {
        let base = "[saml]\nacs_url = \"http://sp/acs\"\nsp_entity_id = \"urn:sp\"\nkey_file = \"idp-key.pem\"\n\
                    cert_file = \"idp-cert.pem\"\nidp_entity_id = \"urn:idp\"\nname_id = \"a@b.example\"\n";
        let t = SamlTarget::from_toml(base, "t", files()).expect("parses");
        assert_eq!(t.relay_state, "/");
        assert_eq!(t.login_url, None);
        assert_eq!(t.success_cookie, None);
        let missing = base.replace("idp-key.pem", "nope.pem");
        assert!(matches!(SamlTarget::from_toml(&missing, "t", files()), Err(TargetError::Invalid { .. })));
        let unknown = format!("{base}colour = \"blue\"\n");
        assert!(matches!(SamlTarget::from_toml(&unknown, "t", files()), Err(TargetError::Parse { .. })));
        assert!(matches!(
            SamlTarget::from_toml("[scim]\nurl = \"http://x\"\n", "t", files()),
            Err(TargetError::NoSection { section: "saml", .. })
        ));
        let swapped_key = IdpKey::generate("other").expect("key").private_key_pem().expect("pem");
        let read = files();
        let mismatched = SamlTarget::from_toml(base, "t", move |f| {
            if f == "idp-key.pem" { Ok(swapped_key.clone().into_bytes()) } else { read(f) }
        });
        assert!(matches!(mismatched, Err(TargetError::Invalid { .. })), "the certificate must be the key's");
    }
}
