//! SAML connections and enforcement (`/saml/connections`, `/saml/enforce`): part of the management API, so they
//! take its principals, report [`AdminError`]s, and write through [`ScimService::admin_write`] like every other
//! management change. Enterprise plan, workspace admins and owners only (403 otherwise, role first).
//!
//! A connection comes from the IdP's metadata, pasted (`{"metadata_xml": "…"}`) or fetched from a URL
//! (`{"metadata_url": "https://…"}`), or from its fields (`{"entity_id", "sso_url", "slo_url"?, "slo_post_url"?,
//! "certificates": [pem, …]}`). Both forms of metadata are read by the same strict [`parse_idp_metadata`] (at most
//! 256 KiB, DOCTYPE refused); a document it refuses is a 422 on the field it came from.
//!
//! `metadata_url` is fetched by [`fetch_metadata`] before anything is written: https only, public addresses only
//! (checked on the addresses connected to, and again on every redirect), at most 3 redirects, 10 s and 256 KiB
//! in all ([`MetadataFetchConfig`], in `ServerConfig::saml.metadata_fetch`, can allow http and private addresses
//! for tests and a local IdP). A refused or failed fetch is a 400 `{"detail", "code"}` whose code names the limit
//! or the address class ([`FetchError::code`]), and nothing is written. The URL is kept on the connection and
//! shown by `GET`; `PATCH {"refresh_metadata": true}` fetches it again (a certificate rollover), `PATCH` with a
//! new `metadata_url` fetches and keeps that one, and `PATCH` with pasted metadata, with any of the IdP's fields,
//! or with `"metadata_url": null` forgets it, as the connection then no longer mirrors that document.
//!
//! [`fetch_metadata`]: super::fetch::fetch_metadata
//! [`MetadataFetchConfig`]: super::fetch::MetadataFetchConfig
//! [`FetchError::code`]: super::fetch::FetchError::code
//!
//! [`ScimService::admin_write`]: crate::scim::service::ScimService::admin_write

use serde::Serialize;
use serde_json::Value;

use super::fetch::fetch_metadata;
use super::metadata::{MAX_CERTIFICATES, MAX_METADATA_BYTES, check_url, parse_idp_metadata};
use super::service::{SamlService, sp_urls};
use super::{SamlError, SigningCertificate};
use crate::admin::input::Obj;
use crate::admin::{AdminError, AdminResult, FieldError, Principal, Role};
use crate::clock::format_datetime;
use crate::store::{SamlConnectionRecord, SamlSettingsRecord, Write};
use crate::tenancy::Tenancy;

/// The most connections one workspace may have.
pub const MAX_CONNECTIONS: usize = 20;
/// The most corporate domains one workspace may enforce.
pub const MAX_DOMAINS: usize = 50;

/// Public mail services: nobody's corporate domain, so enforcing SAML for one is refused.
pub const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "ymail.com",
    "rocketmail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "mail.com",
    "yandex.com",
    "yandex.ru",
    "mail.ru",
    "zoho.com",
    "fastmail.com",
    "tutanota.com",
    "tuta.io",
    "hey.com",
    "qq.com",
    "163.com",
    "126.com",
    "naver.com",
    "orange.fr",
    "free.fr",
    "t-online.de",
];

/// A signing certificate as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CertificateView {
    /// The certificate, PEM.
    pub pem: String,
    /// SHA-256 of the DER, hex with colons.
    pub sha256_fingerprint: String,
    /// The subject, as OpenSSL prints it.
    pub subject: String,
    /// The end of validity, as OpenSSL prints it (certificates are trusted as keys, so expiry is informative).
    pub not_after: String,
}

/// This SP's side, to give to the IdP.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpView {
    /// The SP entity ID (the audience of assertions).
    pub entity_id: String,
    /// The assertion consumer service (HTTP-POST).
    pub acs_url: String,
    /// The SP metadata document.
    pub metadata_url: String,
    /// The single logout service.
    pub slo_url: String,
    /// Where SP-initiated sign-in starts.
    pub authorize_url: String,
}

/// A SAML connection as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectionView {
    /// Connection id.
    pub id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// The IdP's entity ID.
    pub entity_id: String,
    /// The IdP's SSO URL.
    pub sso_url: String,
    /// `redirect` or `post`: how AuthnRequests reach `sso_url`.
    pub sso_binding: String,
    /// The IdP's single logout URL (HTTP-Redirect), if any.
    pub slo_url: Option<String>,
    /// The IdP's single logout URL for the HTTP-POST binding, if any.
    pub slo_post_url: Option<String>,
    /// The URL the IdP's metadata was fetched from (`PATCH {"refresh_metadata": true}` fetches it again), if any.
    pub metadata_url: Option<String>,
    /// Signing certificates (several during a rollover).
    pub certificates: Vec<CertificateView>,
    /// Whether SHA-1 signatures are accepted.
    pub allow_sha1: bool,
    /// Whether IdP-initiated sign-in is accepted.
    pub allow_idp_initiated: bool,
    /// This SP's URLs for the IdP's configuration.
    pub sp: SpView,
    /// Creation time.
    pub created_at: String,
}

/// A workspace's SAML enforcement.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnforceView {
    /// Workspace id.
    pub workspace_id: String,
    /// Whether members of `domains` must sign in with SAML.
    pub enforced: bool,
    /// Corporate email domains.
    pub domains: Vec<String>,
    /// Last change, if any.
    pub updated_at: Option<String>,
}

fn certificate_view(pem: &str) -> CertificateView {
    let parsed = openssl::x509::X509::from_pem(pem.as_bytes()).ok();
    let fingerprint = parsed
        .as_ref()
        .and_then(|c| c.digest(openssl::hash::MessageDigest::sha256()).ok())
        .map(|d| d.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":"))
        .unwrap_or_default();
    let subject = parsed
        .as_ref()
        .map(|c| {
            c.subject_name()
                .entries()
                .filter_map(|e| {
                    let key = e.object().nid().short_name().ok()?;
                    let value = String::from_utf8_lossy(e.data().as_slice()).into_owned();
                    Some(format!("{key}={value}"))
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let not_after = parsed.as_ref().map(|c| c.not_after().to_string()).unwrap_or_default();
    CertificateView { pem: pem.to_owned(), sha256_fingerprint: fingerprint, subject, not_after }
}

/// The view of a connection, with this SP's URLs as seen from `origin`.
pub fn connection_view(c: &SamlConnectionRecord, origin: &str) -> ConnectionView {
    let (entity_id, acs_url, slo_url) = sp_urls(origin, &c.workspace_id);
    ConnectionView {
        id: c.id.clone(),
        workspace_id: c.workspace_id.clone(),
        entity_id: c.entity_id.clone(),
        sso_url: c.sso_url.clone(),
        sso_binding: c.sso_binding.clone(),
        slo_url: c.slo_url.clone(),
        slo_post_url: c.slo_post_url.clone(),
        metadata_url: c.metadata_url.clone(),
        certificates: c.certificates.iter().map(|p| certificate_view(p)).collect(),
        allow_sha1: c.allow_sha1,
        allow_idp_initiated: c.allow_idp_initiated,
        sp: SpView {
            metadata_url: entity_id.clone(),
            entity_id,
            acs_url,
            slo_url,
            authorize_url: format!("{origin}/saml/authorize/{}", c.workspace_id),
        },
        created_at: c.created.clone(),
    }
}

fn pem_of(cert: &SigningCertificate) -> AdminResult<String> {
    openssl::x509::X509::from_der(cert.der())
        .and_then(|c| c.to_pem())
        .map_err(|_| AdminError::Internal("cannot encode a certificate as PEM".into()))
        .and_then(|p| String::from_utf8(p).map_err(|_| AdminError::Internal("PEM is not UTF-8".into())))
}

/// The fields of a create or update body; `None` leaves a field as it is.
#[derive(Debug, Default)]
struct Fields {
    entity_id: Option<String>,
    sso_url: Option<String>,
    sso_binding: Option<String>,
    /// `Some(None)`: cleared.
    slo_url: Option<Option<String>>,
    /// `Some(None)`: cleared.
    slo_post_url: Option<Option<String>>,
    certificates: Option<Vec<String>>,
    allow_sha1: Option<bool>,
    allow_idp_initiated: Option<bool>,
    /// `Some(None)`: forgotten.
    metadata_url: Option<Option<String>>,
}

/// Metadata still to be fetched before the fields are complete.
#[derive(Debug)]
enum Fetch {
    /// From this `metadata_url`.
    Url(String),
    /// From the connection's stored `metadata_url` (`refresh_metadata`).
    Refresh,
}

fn bool_field(body: &Value, name: &str, errors: &mut Vec<FieldError>) -> Option<bool> {
    match body.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(FieldError::new(&["body", name], "must be true or false", "bool_type"));
            None
        }
    }
}

fn url_field(value: Option<String>, name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let url = value?;
    match check_url(&url) {
        Ok(()) => Some(url),
        Err(e) => {
            errors.push(FieldError::new(&["body", name], e, "url_parsing"));
            None
        }
    }
}

fn certificates_field(body: &Value, errors: &mut Vec<FieldError>, required: bool) -> Option<Vec<String>> {
    let items = match body.get("certificates") {
        None | Some(Value::Null) if required => {
            errors.push(FieldError::new(&["body", "certificates"], "field required", "missing"));
            return None;
        }
        None | Some(Value::Null) => return None,
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_CERTIFICATES => a,
        Some(_) => {
            errors.push(FieldError::new(
                &["body", "certificates"],
                format!("must be a list of 1 to {MAX_CERTIFICATES} PEM certificates"),
                "list_type",
            ));
            return None;
        }
    };
    let mut out: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idx = i.to_string();
        let parsed = item.as_str().map(|pem| SigningCertificate::from_pem(pem.trim()));
        match parsed.map(|r| r.map_err(|_| ()).and_then(|c| pem_of(&c).map_err(|_| ()))) {
            Some(Ok(pem)) => {
                if !out.contains(&pem) {
                    out.push(pem);
                }
            }
            _ => errors.push(FieldError::new(
                &["body", "certificates", &idx],
                "must be an X.509 certificate in PEM (-----BEGIN CERTIFICATE-----)",
                "value_error",
            )),
        }
    }
    Some(out)
}

/// The fields of a metadata document, or its refusal as a 422 on `field` (`metadata_xml` or `metadata_url`).
fn metadata_fields(xml: &str, field: &str) -> AdminResult<Fields> {
    let m = parse_idp_metadata(xml)
        .map_err(|e: SamlError| AdminError::field(&["body", field], format!("{e}"), "value_error"))?;
    let certificates = m.certificates.iter().map(pem_of).collect::<AdminResult<Vec<_>>>()?;
    Ok(Fields {
        entity_id: Some(m.entity_id),
        sso_url: Some(m.sso_url),
        sso_binding: Some(m.sso_binding.to_owned()),
        slo_url: Some(m.slo_url),
        slo_post_url: Some(m.slo_post_url),
        certificates: Some(certificates),
        allow_sha1: None,
        allow_idp_initiated: None,
        metadata_url: None,
    })
}

/// The fields of the metadata at `url`, fetched within `config`'s limits: a refused or failed fetch is a 400
/// naming the limit or the address class, a document [`parse_idp_metadata`] refuses a 422 on `metadata_url`.
async fn fetched_fields(url: &str, config: &super::fetch::MetadataFetchConfig) -> AdminResult<Fields> {
    let body = fetch_metadata(url, config)
        .await
        .map_err(|e| AdminError::Fetch { code: e.code(), detail: format!("metadata_url: {e}") })?;
    let text = String::from_utf8(body)
        .map_err(|_| AdminError::field(&["body", "metadata_url"], format!("{}", SamlError::NotUtf8), "value_error"))?;
    let mut fields = metadata_fields(&text, "metadata_url")?;
    fields.metadata_url = Some(Some(url.to_owned()));
    Ok(fields)
}

/// An optional URL field: `Some(None)` when `null` (cleared), `None` when absent.
fn optional_url(body: &Value, name: &str, o: &mut Obj<'_>, errors: &mut Vec<FieldError>) -> Option<Option<String>> {
    match body.get(name) {
        Some(Value::Null) => Some(None),
        _ => url_field(o.string(name, false, 2048), name, errors).map(Some),
    }
}

/// The fields of a create (`create`) or update body, and the metadata still to fetch, if any.
fn read_fields(body: &Value, create: bool) -> AdminResult<(Fields, Option<Fetch>)> {
    const FIELDS: &[&str] = &[
        "metadata_xml",
        "metadata_url",
        "refresh_metadata",
        "entity_id",
        "sso_url",
        "slo_url",
        "slo_post_url",
        "certificates",
        "allow_sha1",
        "allow_idp_initiated",
    ];
    const MANUAL: [&str; 5] = ["entity_id", "sso_url", "slo_url", "slo_post_url", "certificates"];
    let mut o = Obj::new(body, FIELDS)?;
    // Bytes, not characters, bound the metadata; Obj counts characters, so it gets a loose bound here.
    let metadata = o.string("metadata_xml", false, MAX_METADATA_BYTES * 4);
    let given = |k: &str| body.get(k).is_some_and(|v| !v.is_null());
    let mut errors = Vec::new();
    let metadata_url = url_field(o.string("metadata_url", false, 2048), "metadata_url", &mut errors);
    let refresh = bool_field(body, "refresh_metadata", &mut errors).unwrap_or(false);
    if refresh && create {
        errors.push(FieldError::new(
            &["body", "refresh_metadata"],
            "only an existing connection can be refreshed; give metadata_url",
            "value_error",
        ));
    }
    let manual = MANUAL.iter().any(|k| body.get(*k).is_some());
    let sources = [given("metadata_xml"), given("metadata_url"), refresh, manual].iter().filter(|g| **g).count();
    if sources > 1 {
        errors.push(FieldError::new(
            &["body", "metadata_xml"],
            "give one of metadata_xml, metadata_url, refresh_metadata, or the fields entity_id, sso_url, slo_url, \
             slo_post_url and certificates",
            "value_error",
        ));
    }
    let needs_manual = create && !given("metadata_xml") && !given("metadata_url");
    let entity_id = o.string("entity_id", needs_manual, 1024);
    let sso_url = url_field(o.string("sso_url", needs_manual, 2048), "sso_url", &mut errors);
    let slo_url = optional_url(body, "slo_url", &mut o, &mut errors);
    let slo_post_url = optional_url(body, "slo_post_url", &mut o, &mut errors);
    let certificates = certificates_field(body, &mut errors, needs_manual);
    let allow_sha1 = bool_field(body, "allow_sha1", &mut errors);
    let allow_idp_initiated = bool_field(body, "allow_idp_initiated", &mut errors);
    match o.finish() {
        Err(AdminError::Invalid(mut e)) => {
            e.append(&mut errors);
            return Err(AdminError::Invalid(e));
        }
        Err(e) => return Err(e),
        Ok(()) if !errors.is_empty() => return Err(AdminError::Invalid(errors)),
        Ok(()) => {}
    }
    let mut fetch = None;
    let mut fields = match (metadata, metadata_url) {
        (Some(xml), _) => {
            if xml.len() > MAX_METADATA_BYTES {
                return Err(AdminError::field(
                    &["body", "metadata_xml"],
                    format!("IdP metadata larger than {MAX_METADATA_BYTES} bytes"),
                    "string_too_long",
                ));
            }
            let mut f = metadata_fields(&xml, "metadata_xml")?;
            f.metadata_url = Some(None);
            f
        }
        (None, Some(url)) => {
            fetch = Some(Fetch::Url(url));
            Fields::default()
        }
        (None, None) => Fields {
            entity_id,
            sso_url,
            sso_binding: None,
            slo_url,
            slo_post_url,
            certificates,
            allow_sha1: None,
            allow_idp_initiated: None,
            // Fields typed by hand replace the fetched ones: the connection no longer mirrors the URL's document.
            metadata_url: if manual || body.get("metadata_url").is_some() { Some(None) } else { None },
        },
    };
    if refresh {
        fetch = Some(Fetch::Refresh);
    }
    if fields.sso_url.is_some() && fields.sso_binding.is_none() {
        fields.sso_binding = Some("redirect".into());
    }
    fields.allow_sha1 = allow_sha1;
    fields.allow_idp_initiated = allow_idp_initiated;
    Ok((fields, fetch))
}

/// `fields` completed with the fetched metadata, if any is due; `stored` is the connection's `metadata_url`.
async fn with_fetched(
    mut fields: Fields,
    fetch: Option<Fetch>,
    stored: Option<String>,
    config: &super::fetch::MetadataFetchConfig,
) -> AdminResult<Fields> {
    let url = match fetch {
        None => return Ok(fields),
        Some(Fetch::Url(url)) => url,
        Some(Fetch::Refresh) => stored.ok_or_else(|| {
            AdminError::field(
                &["body", "refresh_metadata"],
                "the connection has no metadata_url to refresh from",
                "value_error",
            )
        })?,
    };
    let fetched = fetched_fields(&url, config).await?;
    fields = Fields { allow_sha1: fields.allow_sha1, allow_idp_initiated: fields.allow_idp_initiated, ..fetched };
    Ok(fields)
}

fn connection_in<'t>(t: &'t Tenancy, p: &Principal, id: &str) -> AdminResult<&'t SamlConnectionRecord> {
    t.saml_connections
        .get(id)
        .filter(|c| c.workspace_id == p.workspace_id)
        .ok_or_else(|| AdminError::NotFound(format!("SAML connection {id:?} not found")))
}

fn check_entity_id(t: &Tenancy, ws: &str, entity_id: &str, except: Option<&str>) -> AdminResult<()> {
    let taken = t.saml_connections_of(ws).iter().any(|c| c.entity_id == entity_id && Some(c.id.as_str()) != except);
    if taken {
        Err(AdminError::Conflict(format!("a SAML connection to IdP {entity_id:?} already exists")))
    } else {
        Ok(())
    }
}

/// A lowercase domain name: labels of letters, digits and inner hyphens, at least two labels, no trailing dot.
fn valid_domain(d: &str) -> bool {
    let labels: Vec<&str> = d.split('.').collect();
    d.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        && labels.last().is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()))
}

impl SamlService {
    fn now(&self) -> String {
        format_datetime(self.clock.now())
    }

    /// Admin or owner (checked first, so a member learns nothing about the plan), on the enterprise plan.
    fn require_saml_admin(&self, p: &Principal) -> AdminResult<()> {
        if p.role < Role::Admin {
            return Err(AdminError::Forbidden("only workspace admins and owners may manage SAML sign-in".into()));
        }
        let t = self.scim.tenancy().read();
        match t.workspaces.get(&p.workspace_id) {
            Some(w) if w.plan == "enterprise" => Ok(()),
            Some(w) => Err(AdminError::PlanRequired(format!(
                "SAML single sign-on needs the enterprise plan; workspace {:?} is on the {} plan",
                w.id, w.plan
            ))),
            None => Err(AdminError::Unauthorized("the workspace no longer exists".into())),
        }
    }

    /// Creates a connection from IdP metadata (pasted or fetched from `metadata_url`) or from its fields.
    pub async fn create_connection(&self, p: &Principal, body: &Value, origin: &str) -> AdminResult<ConnectionView> {
        self.require_saml_admin(p)?;
        let (f, fetch) = read_fields(body, true)?;
        // Fetched before the write, outside its lock; a refused fetch writes nothing.
        let f = with_fetched(f, fetch, None, &self.config.metadata_fetch).await?;
        let (Some(entity_id), Some(sso_url), Some(certificates)) = (f.entity_id, f.sso_url, f.certificates) else {
            return Err(AdminError::Internal("validated fields are missing".into()));
        };
        let rec = SamlConnectionRecord {
            id: format!("samlc_{}", uuid::Uuid::new_v4().simple()),
            workspace_id: p.workspace_id.clone(),
            entity_id,
            sso_url,
            sso_binding: f.sso_binding.unwrap_or_else(|| "redirect".into()),
            slo_url: f.slo_url.flatten(),
            slo_post_url: f.slo_post_url.flatten(),
            certificates,
            allow_sha1: f.allow_sha1.unwrap_or(false),
            allow_idp_initiated: f.allow_idp_initiated.unwrap_or(false),
            metadata_url: f.metadata_url.flatten(),
            created: self.now(),
        };
        self.scim
            .admin_write(None, |t| {
                if t.saml_connections_of(&p.workspace_id).len() >= MAX_CONNECTIONS {
                    return Err(AdminError::Conflict(format!("a workspace has at most {MAX_CONNECTIONS} connections")));
                }
                check_entity_id(t, &p.workspace_id, &rec.entity_id, None)?;
                let view = connection_view(&rec, origin);
                Ok((vec![Write::PutSamlConnection(rec.clone())], view))
            })
            .await
    }

    /// The workspace's connections, oldest first.
    pub fn list_connections(&self, p: &Principal, origin: &str) -> AdminResult<Vec<ConnectionView>> {
        self.require_saml_admin(p)?;
        let t = self.scim.tenancy().read();
        Ok(t.saml_connections_of(&p.workspace_id).into_iter().map(|c| connection_view(c, origin)).collect())
    }

    /// One connection.
    pub fn get_connection(&self, p: &Principal, id: &str, origin: &str) -> AdminResult<ConnectionView> {
        self.require_saml_admin(p)?;
        let t = self.scim.tenancy().read();
        connection_in(&t, p, id).map(|c| connection_view(c, origin))
    }

    /// Changes a connection: any of its fields, or all the IdP's from new metadata, pasted or fetched (a certificate
    /// rollover).
    pub async fn update_connection(
        &self,
        p: &Principal,
        id: &str,
        body: &Value,
        origin: &str,
    ) -> AdminResult<ConnectionView> {
        self.require_saml_admin(p)?;
        let (f, fetch) = read_fields(body, false)?;
        let stored = {
            let t = self.scim.tenancy().read();
            connection_in(&t, p, id)?.metadata_url.clone()
        };
        // Fetched before the write, outside its lock; a refused fetch writes nothing.
        let f = with_fetched(f, fetch, stored, &self.config.metadata_fetch).await?;
        self.scim
            .admin_write(None, |t| {
                let c = connection_in(t, p, id)?;
                if let Some(e) = &f.entity_id {
                    check_entity_id(t, &p.workspace_id, e, Some(id))?;
                }
                let rec = SamlConnectionRecord {
                    entity_id: f.entity_id.clone().unwrap_or_else(|| c.entity_id.clone()),
                    sso_url: f.sso_url.clone().unwrap_or_else(|| c.sso_url.clone()),
                    sso_binding: f.sso_binding.clone().unwrap_or_else(|| c.sso_binding.clone()),
                    slo_url: f.slo_url.clone().unwrap_or_else(|| c.slo_url.clone()),
                    slo_post_url: f.slo_post_url.clone().unwrap_or_else(|| c.slo_post_url.clone()),
                    metadata_url: f.metadata_url.clone().unwrap_or_else(|| c.metadata_url.clone()),
                    certificates: f.certificates.clone().unwrap_or_else(|| c.certificates.clone()),
                    allow_sha1: f.allow_sha1.unwrap_or(c.allow_sha1),
                    allow_idp_initiated: f.allow_idp_initiated.unwrap_or(c.allow_idp_initiated),
                    ..c.clone()
                };
                let view = connection_view(&rec, origin);
                Ok((if &rec == c { vec![] } else { vec![Write::PutSamlConnection(rec)] }, view))
            })
            .await
    }

    /// Deletes a connection. The last one of a workspace that enforces SAML is kept (409): deleting it would lock
    /// every member of the enforced domains out.
    pub async fn delete_connection(&self, p: &Principal, id: &str) -> AdminResult<()> {
        self.require_saml_admin(p)?;
        self.scim
            .admin_write(None, |t| {
                connection_in(t, p, id)?;
                let enforced = t.saml_settings.get(&p.workspace_id).is_some_and(|s| s.enforced);
                if enforced && t.saml_connections_of(&p.workspace_id).len() <= 1 {
                    return Err(AdminError::Conflict(
                        "SAML is enforced and this is the workspace's last connection; stop enforcing first".into(),
                    ));
                }
                Ok((vec![Write::DeleteSamlConnection { id: id.to_owned() }], ()))
            })
            .await
    }

    /// The workspace's enforcement.
    pub fn enforcement(&self, p: &Principal) -> AdminResult<EnforceView> {
        self.require_saml_admin(p)?;
        let t = self.scim.tenancy().read();
        Ok(match t.saml_settings.get(&p.workspace_id) {
            Some(s) => EnforceView {
                workspace_id: s.workspace_id.clone(),
                enforced: s.enforced,
                domains: s.domains.clone(),
                updated_at: Some(s.updated.clone()),
            },
            None => {
                EnforceView { workspace_id: p.workspace_id.clone(), enforced: false, domains: vec![], updated_at: None }
            }
        })
    }

    /// Sets the enforcement (`{"enforced": bool, "domains": [...]}`, each optional). Enforcing needs at least one
    /// corporate domain (never a public mail service), a connection, and domains no other workspace enforces.
    pub async fn update_enforcement(&self, p: &Principal, body: &Value) -> AdminResult<EnforceView> {
        self.require_saml_admin(p)?;
        let o = Obj::new(body, &["enforced", "domains"])?;
        let mut errors = Vec::new();
        let enforced = bool_field(body, "enforced", &mut errors);
        let domains = match body.get("domains") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) if items.len() <= MAX_DOMAINS => {
                let mut out: Vec<String> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let idx = i.to_string();
                    let d = item.as_str().map(|s| s.trim().trim_start_matches('@').to_ascii_lowercase());
                    match d {
                        Some(d) if PUBLIC_MAIL_DOMAINS.contains(&d.as_str()) => errors.push(FieldError::new(
                            &["body", "domains", &idx],
                            format!("{d} is a public mail service, not a corporate domain"),
                            "public_domain",
                        )),
                        Some(d) if valid_domain(&d) => {
                            if !out.contains(&d) {
                                out.push(d);
                            }
                        }
                        _ => errors.push(FieldError::new(
                            &["body", "domains", &idx],
                            "must be a domain name such as example.com",
                            "value_error",
                        )),
                    }
                }
                Some(out)
            }
            Some(_) => {
                errors.push(FieldError::new(
                    &["body", "domains"],
                    format!("must be a list of at most {MAX_DOMAINS} domains"),
                    "list_type",
                ));
                None
            }
        };
        match o.finish() {
            Err(AdminError::Invalid(mut e)) => {
                e.append(&mut errors);
                return Err(AdminError::Invalid(e));
            }
            Err(e) => return Err(e),
            Ok(()) if !errors.is_empty() => return Err(AdminError::Invalid(errors)),
            Ok(()) => {}
        }
        let now = self.now();
        self.scim
            .admin_write(None, |t| {
                let current = t.saml_settings.get(&p.workspace_id);
                let rec = SamlSettingsRecord {
                    workspace_id: p.workspace_id.clone(),
                    enforced: enforced.unwrap_or_else(|| current.is_some_and(|c| c.enforced)),
                    domains: domains.clone().unwrap_or_else(|| current.map(|c| c.domains.clone()).unwrap_or_default()),
                    updated: now.clone(),
                };
                if rec.enforced {
                    if rec.domains.is_empty() {
                        return Err(AdminError::field(
                            &["body", "domains"],
                            "enforcing SAML needs at least one corporate domain",
                            "missing",
                        ));
                    }
                    if t.saml_connections_of(&p.workspace_id).is_empty() {
                        return Err(AdminError::Conflict(
                            "the workspace has no SAML connection; create one before enforcing SAML".into(),
                        ));
                    }
                }
                // One workspace per domain: `/saml/check` and the password log-in must know whose IdP it is.
                let others = t.saml_settings.values().filter(|s| s.workspace_id != p.workspace_id && s.enforced);
                for other in others.filter(|_| rec.enforced) {
                    if let Some(d) = rec.domains.iter().find(|d| other.domains.contains(d)) {
                        return Err(AdminError::Conflict(format!("another workspace enforces SAML for {d}")));
                    }
                }
                let view = EnforceView {
                    workspace_id: rec.workspace_id.clone(),
                    enforced: rec.enforced,
                    domains: rec.domains.clone(),
                    updated_at: Some(rec.updated.clone()),
                };
                Ok((vec![Write::PutSamlSettings(rec)], view))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked() {
        for ok in ["example.com", "a-b.example.co.uk", "x1.io"] {
            assert!(valid_domain(ok), "{ok}");
        }
        for bad in ["", "com", "-a.com", "a-.com", "a..com", "exa mple.com", "Example.com", "1.2.3.4", "a.com."] {
            assert!(!valid_domain(bad), "{bad}");
        }
    }
}
