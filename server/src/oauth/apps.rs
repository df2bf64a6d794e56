//! OAuth app registrations (`/oauth/apps`): part of the management API, so they take its principals, report
//! [`AdminError`]s, and write through [`ScimService::admin_write`] like every other management change.
//!
//! Permissions: the "integration read" and "integration manage" permissions both map onto the workspace
//! roles `admin` and `owner`; members get 403 (the same gate as members and directories).
//!
//! [`ScimService::admin_write`]: crate::scim::service::ScimService::admin_write

use serde::Serialize;
use serde_json::Value;

use super::rules::check_redirect_uri;
use super::{OAuthService, SCOPES, new_secret};
use crate::admin::input::Obj;
use crate::admin::{AdminError, AdminResult, FieldError, Principal, Role};
use crate::clock::format_datetime;
use crate::store::{OAuthAppRecord, OAuthSecretRecord, Write};
use crate::tenancy::{Tenancy, hash_token};

/// Client types (RFC 6749 §2.1).
pub const CLIENT_TYPES: [&str; 2] = ["confidential", "public"];
/// PKCE settings of an app.
pub const PKCE_MODES: [&str; 2] = ["required", "optional"];
/// The most redirect URIs one app may register.
pub const MAX_REDIRECT_URIS: usize = 20;
/// The longest grace period a rotated-out secret may get (30 days).
pub const MAX_GRACE_SECONDS: i64 = 30 * 24 * 3600;

/// A client secret as the API shows it (never the secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SecretView {
    /// Secret id.
    pub id: String,
    /// Creation time.
    pub created_at: String,
    /// When a rotated-out secret stops working; `null` for the current one.
    pub expires_at: Option<String>,
}

/// An OAuth app as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppView {
    /// App id; also its `client_id`.
    pub id: String,
    /// The OAuth `client_id` (RFC 6749 §2.2).
    pub client_id: String,
    /// Workspace id.
    pub workspace_id: String,
    /// Display name, shown on the consent page.
    pub name: String,
    /// `confidential` or `public` (RFC 6749 §2.1).
    pub client_type: String,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Scopes the app may ask for.
    pub allowed_scopes: Vec<String>,
    /// `required` or `optional` (always `required` for public clients).
    pub pkce: &'static str,
    /// Whether the `plain` PKCE method is accepted (S256 always is).
    pub allow_plain_pkce: bool,
    /// Live client secrets (confidential apps).
    pub secrets: Vec<SecretView>,
    /// Public keys for the JWT bearer grant (RFC 7523), if registered.
    #[schema(value_type = Option<Object>)]
    pub jwks: Option<Value>,
    /// Creation time.
    pub created_at: String,
}

/// An app with a new client secret, shown once.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct AppWithSecret {
    /// The app.
    #[serde(flatten)]
    pub app: AppView,
    /// The new client secret (confidential apps); only its hash is kept, so it cannot be shown again.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for AppWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppWithSecret").field("app", &self.app).field("client_secret", &"[redacted]").finish()
    }
}

fn require_admin(p: &Principal) -> AdminResult<()> {
    if p.role >= Role::Admin {
        Ok(())
    } else {
        Err(AdminError::Forbidden("only workspace admins and owners may manage OAuth apps".into()))
    }
}

/// The app's view, with the secrets that are still live at `now`.
pub fn app_view(a: &OAuthAppRecord, now: &str) -> AppView {
    AppView {
        id: a.id.clone(),
        client_id: a.id.clone(),
        workspace_id: a.workspace_id.clone(),
        name: a.name.clone(),
        client_type: a.client_type.clone(),
        redirect_uris: a.redirect_uris.clone(),
        allowed_scopes: a.allowed_scopes.clone(),
        pkce: if a.pkce_required { "required" } else { "optional" },
        allow_plain_pkce: a.allow_plain_pkce,
        secrets: a
            .secrets
            .iter()
            .filter(|s| s.expires_at.as_deref().is_none_or(|e| e > now))
            .map(|s| SecretView { id: s.id.clone(), created_at: s.created.clone(), expires_at: s.expires_at.clone() })
            .collect(),
        jwks: a.jwks.clone(),
        created_at: a.created.clone(),
    }
}

fn app_in<'t>(t: &'t Tenancy, p: &Principal, id: &str) -> AdminResult<&'t OAuthAppRecord> {
    t.oauth_apps
        .get(id)
        .filter(|a| a.workspace_id == p.workspace_id)
        .ok_or_else(|| AdminError::NotFound(format!("OAuth app {id:?} not found")))
}

/// Reads `redirect_uris`: a non-empty list of distinct, valid URIs.
fn redirect_uris(body: &Value, errors: &mut Vec<FieldError>, required: bool) -> Option<Vec<String>> {
    let v = match body.get("redirect_uris") {
        None | Some(Value::Null) if required => {
            errors.push(FieldError::new(&["body", "redirect_uris"], "field required", "missing"));
            return None;
        }
        None | Some(Value::Null) => return None,
        Some(Value::Array(a)) if !a.is_empty() && a.len() <= MAX_REDIRECT_URIS => a,
        Some(_) => {
            errors.push(FieldError::new(
                &["body", "redirect_uris"],
                format!("must be a list of 1 to {MAX_REDIRECT_URIS} URIs"),
                "list_type",
            ));
            return None;
        }
    };
    let mut out: Vec<String> = Vec::new();
    for (i, item) in v.iter().enumerate() {
        let idx = i.to_string();
        match item.as_str() {
            // Stored exactly as given: matching is by simple string comparison (RFC 9700 §2.1, RFC 3986 §6.2.1).
            Some(s) => match check_redirect_uri(s) {
                Ok(()) if !out.iter().any(|o| o == s) => out.push(s.to_owned()),
                Ok(()) => {}
                Err(msg) => errors.push(FieldError::new(&["body", "redirect_uris", &idx], msg, "value_error")),
            },
            None => errors.push(FieldError::new(&["body", "redirect_uris", &idx], "must be a string", "string_type")),
        }
    }
    Some(out)
}

fn bool_field(body: &Value, field: &str, errors: &mut Vec<FieldError>) -> Option<bool> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(FieldError::new(&["body", field], "must be a boolean", "bool_type"));
            None
        }
    }
}

/// The fields of a create or update body.
struct AppFields {
    name: Option<String>,
    client_type: Option<String>,
    redirect_uris: Option<Vec<String>>,
    allowed_scopes: Option<Vec<String>>,
    pkce: Option<String>,
    allow_plain_pkce: Option<bool>,
    /// `Some(None)` for an explicit `null` (removes the keys).
    jwks: Option<Option<Value>>,
}

/// The most keys a JWK Set may hold.
pub const MAX_JWKS: usize = 5;

/// Reads `jwks`: a JWK Set (RFC 7517 §5) of 1 to [`MAX_JWKS`] public signing keys the verifier understands.
fn jwks_field(body: &Value, errors: &mut Vec<FieldError>) -> Option<Option<Value>> {
    let v = body.get("jwks")?;
    if v.is_null() {
        return Some(None);
    }
    let set: Result<jsonwebtoken::jwk::JwkSet, _> = serde_json::from_value(v.clone());
    match set {
        Ok(set) if (1..=MAX_JWKS).contains(&set.keys.len()) => {
            // Symmetric keys and private parts (`d`, RFC 7518 §6.2.2.1, §6.3.2.1) have no place on a server.
            let private =
                set.keys.iter().any(|k| matches!(&k.algorithm, jsonwebtoken::jwk::AlgorithmParameters::OctetKey(_)))
                    || v["keys"].as_array().is_some_and(|ks| ks.iter().any(|k| k.get("d").is_some()));
            if private {
                errors.push(FieldError::new(&["body", "jwks"], "only public keys may be registered", "value_error"));
                return None;
            }
            if set.keys.iter().any(|k| jsonwebtoken::DecodingKey::from_jwk(k).is_err()) {
                errors.push(FieldError::new(&["body", "jwks"], "a key cannot be used for verifying", "value_error"));
                return None;
            }
            Some(Some(v.clone()))
        }
        _ => {
            errors.push(FieldError::new(
                &["body", "jwks"],
                format!("must be a JWK Set ({{\"keys\": [...]}}) of 1 to {MAX_JWKS} public keys (RFC 7517 §5)"),
                "value_error",
            ));
            None
        }
    }
}

fn read_fields(body: &Value, create: bool) -> AdminResult<AppFields> {
    const CREATE: &[&str] =
        &["name", "client_type", "redirect_uris", "allowed_scopes", "pkce", "allow_plain_pkce", "jwks"];
    const UPDATE: &[&str] = &["name", "redirect_uris", "allowed_scopes", "pkce", "allow_plain_pkce", "jwks"];
    let mut o = Obj::new(body, if create { CREATE } else { UPDATE })?;
    let name = o.string("name", create, 200);
    let client_type = if create { o.one_of("client_type", false, &CLIENT_TYPES) } else { None };
    let allowed_scopes = o.string_list("allowed_scopes", &SCOPES);
    let pkce = o.one_of("pkce", false, &PKCE_MODES);
    let mut errors = Vec::new();
    let redirect_uris = redirect_uris(body, &mut errors, create);
    let allow_plain_pkce = bool_field(body, "allow_plain_pkce", &mut errors);
    let jwks = jwks_field(body, &mut errors);
    let rest = o.finish();
    match rest {
        Err(AdminError::Invalid(mut e)) => {
            e.append(&mut errors);
            Err(AdminError::Invalid(e))
        }
        Err(e) => Err(e),
        Ok(()) if !errors.is_empty() => Err(AdminError::Invalid(errors)),
        Ok(()) => Ok(AppFields { name, client_type, redirect_uris, allowed_scopes, pkce, allow_plain_pkce, jwks }),
    }
}

/// Public clients cannot keep a secret, so PKCE is what binds their codes (RFC 9700 §2.1.1: MUST for public
/// clients).
fn check_public_pkce(a: &OAuthAppRecord) -> AdminResult<()> {
    if a.client_type == "public" && !a.pkce_required {
        return Err(AdminError::field(
            &["body", "pkce"],
            "public clients must use PKCE (RFC 9700 §2.1.1); pkce must be \"required\"",
            "value_error",
        ));
    }
    Ok(())
}

fn check_name(t: &Tenancy, ws: &str, name: &str, except: Option<&str>) -> AdminResult<()> {
    let taken = t
        .oauth_apps
        .values()
        .any(|a| a.workspace_id == ws && a.name.eq_ignore_ascii_case(name) && Some(a.id.as_str()) != except);
    if taken { Err(AdminError::Conflict(format!("an OAuth app named {name:?} already exists"))) } else { Ok(()) }
}

impl OAuthService {
    fn new_secret_record(&self) -> (OAuthSecretRecord, String) {
        let secret = new_secret("idc_cs_");
        let rec = OAuthSecretRecord {
            id: super::new_id("sec"),
            hash: hash_token(&secret),
            created: self.now(),
            expires_at: None,
        };
        (rec, secret)
    }

    /// Registers an app (`{"name", "redirect_uris", "client_type"?, "allowed_scopes"?, "pkce"?,
    /// "allow_plain_pkce"?}`); a confidential app's secret is in the answer, once.
    pub async fn create_app(&self, p: &Principal, body: &Value) -> AdminResult<AppWithSecret> {
        require_admin(p)?;
        let f = read_fields(body, true)?;
        let client_type = f.client_type.unwrap_or_else(|| "confidential".into());
        let public = client_type == "public";
        let (secret_rec, secret) = self.new_secret_record();
        let rec = OAuthAppRecord {
            id: super::new_id("app"),
            workspace_id: p.workspace_id.clone(),
            name: f.name.unwrap_or_default(),
            redirect_uris: f.redirect_uris.unwrap_or_default(),
            allowed_scopes: f.allowed_scopes.unwrap_or_else(|| vec![super::SCOPE_USER_READ.into()]),
            pkce_required: f.pkce.as_deref().is_none_or(|m| m == "required"),
            allow_plain_pkce: f.allow_plain_pkce.unwrap_or(false),
            jwks: f.jwks.flatten(),
            secrets: if public { vec![] } else { vec![secret_rec] },
            client_type,
            created: self.now(),
        };
        check_public_pkce(&rec)?;
        let now = self.now();
        self.scim
            .admin_write(None, |t| {
                check_name(t, &p.workspace_id, &rec.name, None)?;
                let app = app_view(&rec, &now);
                Ok((vec![Write::PutOAuthApp(rec.clone())], app))
            })
            .await
            .map(|app| AppWithSecret { app, client_secret: (!public).then_some(secret) })
    }

    /// The workspace's apps, oldest first.
    pub fn list_apps(&self, p: &Principal) -> AdminResult<Vec<AppView>> {
        require_admin(p)?;
        let t = self.scim.tenancy().read();
        let now = self.now();
        let mut v: Vec<&OAuthAppRecord> = t.oauth_apps.values().filter(|a| a.workspace_id == p.workspace_id).collect();
        v.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        Ok(v.into_iter().map(|a| app_view(a, &now)).collect())
    }

    /// One app.
    pub fn get_app(&self, p: &Principal, id: &str) -> AdminResult<AppView> {
        require_admin(p)?;
        let t = self.scim.tenancy().read();
        app_in(&t, p, id).map(|a| app_view(a, &self.now()))
    }

    /// Changes an app's name, redirect URIs, scopes or PKCE settings (its client type is fixed).
    pub async fn update_app(&self, p: &Principal, id: &str, body: &Value) -> AdminResult<AppView> {
        require_admin(p)?;
        let f = read_fields(body, false)?;
        let now = self.now();
        self.scim
            .admin_write(None, |t| {
                let a = app_in(t, p, id)?;
                if let Some(n) = &f.name {
                    check_name(t, &p.workspace_id, n, Some(id))?;
                }
                let rec = OAuthAppRecord {
                    name: f.name.clone().unwrap_or_else(|| a.name.clone()),
                    redirect_uris: f.redirect_uris.clone().unwrap_or_else(|| a.redirect_uris.clone()),
                    allowed_scopes: f.allowed_scopes.clone().unwrap_or_else(|| a.allowed_scopes.clone()),
                    pkce_required: f.pkce.as_deref().map_or(a.pkce_required, |m| m == "required"),
                    allow_plain_pkce: f.allow_plain_pkce.unwrap_or(a.allow_plain_pkce),
                    jwks: f.jwks.clone().unwrap_or_else(|| a.jwks.clone()),
                    ..a.clone()
                };
                check_public_pkce(&rec)?;
                let view = app_view(&rec, &now);
                Ok((if &rec == a { vec![] } else { vec![Write::PutOAuthApp(rec)] }, view))
            })
            .await
    }

    /// Deletes an app: its codes, refresh tokens and access tokens stop working at once.
    pub async fn delete_app(&self, p: &Principal, id: &str) -> AdminResult<()> {
        require_admin(p)?;
        self.scim
            .admin_write(None, |t| {
                app_in(t, p, id)?;
                Ok((vec![Write::DeleteOAuthApp { id: id.to_owned() }], ()))
            })
            .await
    }

    /// Issues a new client secret (shown once). The previous current secret keeps working for the grace period
    /// (`{"grace_period_seconds": n}`, default from the settings, 0 ends it at once); any older one ends now, so
    /// at most two secrets are ever live.
    pub async fn rotate_secret(&self, p: &Principal, id: &str, body: Option<&Value>) -> AdminResult<AppWithSecret> {
        require_admin(p)?;
        let default = Value::Object(Default::default());
        let body = body.unwrap_or(&default);
        let o = Obj::new(body, &["grace_period_seconds"])?;
        let grace = match body.get("grace_period_seconds") {
            None | Some(Value::Null) => self.settings.secret_grace.num_seconds(),
            Some(v) => match v.as_i64() {
                Some(n) if (0..=MAX_GRACE_SECONDS).contains(&n) => n,
                _ => {
                    return Err(AdminError::field(
                        &["body", "grace_period_seconds"],
                        format!("must be an integer from 0 to {MAX_GRACE_SECONDS}"),
                        "int_parsing",
                    ));
                }
            },
        };
        o.finish()?;
        let (new, secret) = self.new_secret_record();
        let now_t = self.clock.now();
        let now = format_datetime(now_t);
        let until = format_datetime(now_t + chrono::Duration::seconds(grace));
        self.scim
            .admin_write(None, |t| {
                let a = app_in(t, p, id)?;
                if a.client_type == "public" {
                    return Err(AdminError::Conflict("public clients have no client secret (RFC 6749 §2.1)".into()));
                }
                let mut secrets: Vec<OAuthSecretRecord> = a
                    .secrets
                    .iter()
                    .filter(|s| s.expires_at.is_none())
                    .map(|s| OAuthSecretRecord { expires_at: (grace > 0).then(|| until.clone()), ..s.clone() })
                    .filter(|s| s.expires_at.is_some())
                    .collect();
                secrets.push(new.clone());
                let rec = OAuthAppRecord { secrets, ..a.clone() };
                let view = app_view(&rec, &now);
                Ok((vec![Write::PutOAuthApp(rec)], view))
            })
            .await
            .map(|app| AppWithSecret { app, client_secret: Some(secret) })
    }
}
