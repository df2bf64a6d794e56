//! The authorization server under test: where it is, the clients registered for the harness, how a user logs in,
//! and the expectations that legitimately differ between servers. Read from the `[oauth]` section of a target file
//! (see `harness/examples/target.toml`); secrets come from environment variables.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::target::{Deviation, TargetError, check_url};

/// How a client authenticates at the token, revocation and introspection endpoints (RFC 6749 §2.3, RFC 8414 §2
/// `token_endpoint_auth_methods_supported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// HTTP Basic with the form-urlencoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A public client: `client_id` only (RFC 6749 §2.1).
    None,
}

impl AuthMethod {
    /// The RFC 8414 name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }
}

/// A registered client.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClientCreds {
    /// `client_id`.
    pub id: String,
    /// `client_secret`; `None` for a public client.
    pub secret: Option<String>,
    /// How it authenticates.
    pub auth: AuthMethod,
}

impl std::fmt::Debug for OAuthClientCreds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClientCreds")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("auth", &self.auth)
            .finish()
    }
}

/// How the harness gets a user through the authorization endpoint without a person at the keyboard.
#[derive(Clone, PartialEq, Eq)]
pub enum Login {
    /// Fill in and submit the HTML forms the endpoint shows (a log-in page, then a consent page): every form field
    /// named in `fields` gets its value, hidden fields keep theirs, and the submit button named by `approve` (or the
    /// first one) is pressed, until the server redirects to the client.
    Form {
        /// Field name → value (e.g. `email`, `password`).
        fields: Vec<(String, String)>,
        /// The consent button: `(name, value)`.
        approve: Option<(String, String)>,
    },
    /// Send this `Cookie` header (an existing session) and answer consent forms as `Form` does.
    Cookie {
        /// The `Cookie` header value, `name=value`.
        cookie: String,
        /// The consent button.
        approve: Option<(String, String)>,
    },
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Login::Form { fields, approve } => f
                .debug_struct("Form")
                .field("fields", &fields.iter().map(|(k, _)| k).collect::<Vec<_>>())
                .field("approve", approve)
                .finish(),
            Login::Cookie { approve, .. } => f.debug_struct("Cookie").field("approve", approve).finish_non_exhaustive(),
        }
    }
}

/// A key the server trusts for RFC 7523 assertions of one client.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtBearer {
    /// The client whose assertions these are (`iss`; RFC 7523 §3 item 1).
    pub client: OAuthClientCreds,
    /// PKCS#8 PEM of the signing key (EC P-256 for ES256, RSA for RS256).
    pub key_pem: String,
    /// `ES256` or `RS256`.
    pub alg: String,
    /// `kid` of the registered key, if the server needs one.
    pub kid: Option<String>,
    /// `sub`: the user the client acts for (RFC 7523 §3 item 2).
    pub subject: String,
    /// `aud`; defaults to the token endpoint (RFC 7523 §3 item 3).
    pub audience: Option<String>,
}

impl std::fmt::Debug for JwtBearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtBearer")
            .field("client", &self.client)
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// When PKCE is required (RFC 9700 §2.1.1: public clients MUST use it; many servers require it of everyone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PkcePolicy {
    /// Every client (OAuth 2.1).
    Required,
    /// Public clients only.
    RequiredForPublic,
    /// Nobody: the server accepts authorization requests without a challenge.
    Optional,
}

/// What a server may legitimately decide either way; each check that depends on one says so in its messages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expectations {
    /// PKCE policy.
    pub pkce: PkcePolicy,
    /// Whether `code_challenge_method=plain` is accepted for the main client (RFC 7636 §4.2 lets a server allow it).
    pub plain_pkce: bool,
    /// Whether the code grant issues refresh tokens.
    pub refresh_tokens: bool,
    /// Whether refresh tokens rotate (RFC 9700 §4.14.2; the alternative is sender-constrained tokens).
    pub refresh_rotation: bool,
    /// Whether revoking an access token makes it fail at once (RFC 7009 §2: SHOULD support).
    pub revokes_access_tokens: bool,
}

impl Default for Expectations {
    fn default() -> Self {
        Expectations {
            pkce: PkcePolicy::RequiredForPublic,
            plain_pkce: false,
            refresh_tokens: true,
            refresh_rotation: true,
            revokes_access_tokens: true,
        }
    }
}

/// Moves the server's clock forward (an embedded server's injected clock): lets expiry checks run without waiting.
pub type TimeTravel = Arc<dyn Fn(Duration) + Send + Sync>;

/// An authorization server under test.
#[derive(Clone)]
pub struct OAuthTarget {
    /// A display name for reports.
    pub name: String,
    /// The issuer identifier (RFC 8414 §2), e.g. `https://as.example.com`.
    pub issuer: String,
    /// Where the metadata is, when not at the RFC 8414 §3 well-known URI of the issuer.
    pub metadata_url: Option<String>,
    /// A redirect URI registered for every client below (exact string).
    pub redirect_uri: String,
    /// The scope the flows ask for; it must grant userinfo.
    pub scope: String,
    /// A scope the client may get that does not grant userinfo (for the `insufficient_scope` check), if any.
    pub limited_scope: Option<String>,
    /// The main confidential client.
    pub client: OAuthClientCreds,
    /// A second confidential client with the same redirect URI (code and token binding checks).
    pub second_client: Option<OAuthClientCreds>,
    /// A public client (PKCE checks), if one is registered.
    pub public_client: Option<OAuthClientCreds>,
    /// How users log in.
    pub login: Login,
    /// RFC 7523 settings, when the server supports the JWT bearer grant.
    pub jwt_bearer: Option<JwtBearer>,
    /// A protected resource to check RFC 9728 against (its URL), when there is one.
    pub resource: Option<String>,
    /// Expectations.
    pub expect: Expectations,
    /// Lifetime of authorization codes, when known: the expiry check waits this long (plus a second) when no
    /// time travel is available.
    pub code_lifetime: Option<Duration>,
    /// Moves the server's clock; only an embedded server offers it.
    pub time_travel: Option<TimeTravel>,
    /// Declared deviations.
    pub deviations: Vec<Deviation>,
}

impl std::fmt::Debug for OAuthTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthTarget")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client", &self.client)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
struct File {
    name: Option<String>,
    oauth: Option<Section>,
    #[serde(default)]
    deviations: Vec<Deviation>,
    #[allow(dead_code)]
    scim: Option<toml::Value>,
    #[allow(dead_code)]
    saml: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    issuer: String,
    metadata_url: Option<String>,
    redirect_uri: String,
    scope: String,
    limited_scope: Option<String>,
    resource: Option<String>,
    code_lifetime_seconds: Option<u64>,
    client: ClientSection,
    second_client: Option<ClientSection>,
    public_client: Option<ClientSection>,
    login: LoginSection,
    jwt_bearer: Option<JwtSection>,
    #[serde(default)]
    expect: Expectations,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSection {
    id: String,
    secret: Option<String>,
    secret_env: Option<String>,
    auth: Option<AuthMethod>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginSection {
    /// `form` or `cookie`.
    kind: String,
    #[serde(default)]
    fields: toml::Table,
    cookie: Option<String>,
    cookie_env: Option<String>,
    approve_name: Option<String>,
    approve_value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JwtSection {
    client: Option<String>,
    key_file: String,
    alg: String,
    kid: Option<String>,
    subject: String,
    audience: Option<String>,
}

impl OAuthTarget {
    /// Reads the `[oauth]` section of a target file; `*_env` keys are resolved from the environment and `key_file`
    /// relative to the file.
    pub fn load(path: &Path) -> Result<Self, TargetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TargetError::Read { path: path.display().to_string(), source })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml(
            &text,
            &path.display().to_string(),
            |k| std::env::var(k).ok(),
            |f| std::fs::read_to_string(dir.join(f)).map_err(|e| e.to_string()),
        )
    }

    /// Parses a target file's text; `env` looks up environment variables and `read` reads a file named in it.
    pub fn from_toml(
        text: &str,
        origin: &str,
        env: impl Fn(&str) -> Option<String>,
        read: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Self, TargetError> {
        let invalid = |message: String| TargetError::Invalid { path: origin.to_owned(), message };
        let file: File =
            toml::from_str(text).map_err(|e| TargetError::Parse { path: origin.to_owned(), message: e.to_string() })?;
        let s = file.oauth.ok_or_else(|| TargetError::NoSection { path: origin.to_owned(), section: "oauth" })?;
        let secret = |value: Option<String>, var: Option<String>, what: &str| -> Result<Option<String>, TargetError> {
            match (value, var) {
                (Some(_), Some(_)) => Err(invalid(format!("give either {what} or {what}_env, not both"))),
                (Some(v), None) => Ok(Some(v)),
                (None, Some(var)) => env(&var)
                    .map(Some)
                    .ok_or_else(|| invalid(format!("environment variable {var} ({what}_env) is not set"))),
                (None, None) => Ok(None),
            }
        };
        let client = |c: ClientSection, confidential: bool| -> Result<OAuthClientCreds, TargetError> {
            let secret = secret(c.secret, c.secret_env, "secret")?;
            let auth =
                c.auth.unwrap_or(if secret.is_some() { AuthMethod::ClientSecretBasic } else { AuthMethod::None });
            if confidential && (secret.is_none() || auth == AuthMethod::None) {
                return Err(invalid(format!("client {} must be confidential: give secret or secret_env", c.id)));
            }
            if auth == AuthMethod::None && secret.is_some() {
                return Err(invalid(format!("client {}: a public client (auth = \"none\") has no secret", c.id)));
            }
            Ok(OAuthClientCreds { id: c.id, secret, auth })
        };
        let main = client(s.client, true)?;
        let second_client = s.second_client.map(|c| client(c, true)).transpose()?;
        let public_client = s.public_client.map(|c| client(c, false)).transpose()?;
        if public_client.as_ref().is_some_and(|c| c.auth != AuthMethod::None) {
            return Err(invalid("public_client must have no secret".into()));
        }
        let approve = match (s.login.approve_name, s.login.approve_value) {
            (Some(n), Some(v)) => Some((n, v)),
            (None, None) => None,
            _ => return Err(invalid("give approve_name and approve_value together".into())),
        };
        let login = match s.login.kind.as_str() {
            "form" => {
                let mut fields = Vec::new();
                for (k, v) in s.login.fields {
                    // `password_env = "VAR"` fills the field `password` from the environment.
                    let (name, value) = match (k.strip_suffix("_env"), v.as_str()) {
                        (Some(name), Some(var)) => (
                            name.to_owned(),
                            env(var).ok_or_else(|| invalid(format!("environment variable {var} ({k}) is not set")))?,
                        ),
                        (None, Some(v)) => (k.clone(), v.to_owned()),
                        _ => return Err(invalid(format!("login field {k} must be a string"))),
                    };
                    fields.push((name, value));
                }
                Login::Form { fields, approve }
            }
            "cookie" => {
                let cookie = secret(s.login.cookie, s.login.cookie_env, "cookie")?
                    .ok_or_else(|| invalid("login kind \"cookie\" needs cookie or cookie_env".into()))?;
                Login::Cookie { cookie, approve }
            }
            other => return Err(invalid(format!("login kind {other:?} is not form or cookie"))),
        };
        let jwt_bearer = match s.jwt_bearer {
            None => None,
            Some(j) => {
                let owner = match &j.client {
                    None => main.clone(),
                    Some(id) => [Some(&main), second_client.as_ref(), public_client.as_ref()]
                        .into_iter()
                        .flatten()
                        .find(|c| &c.id == id)
                        .cloned()
                        .ok_or_else(|| invalid(format!("jwt_bearer.client {id} is not one of the clients")))?,
                };
                if !matches!(j.alg.as_str(), "ES256" | "RS256") {
                    return Err(invalid(format!("jwt_bearer.alg {:?} is not ES256 or RS256", j.alg)));
                }
                let key_pem = read(&j.key_file).map_err(|e| invalid(format!("cannot read {}: {e}", j.key_file)))?;
                Some(JwtBearer {
                    client: owner,
                    key_pem,
                    alg: j.alg,
                    kid: j.kid,
                    subject: j.subject,
                    audience: j.audience,
                })
            }
        };
        let issuer = check_url(&s.issuer)?;
        Ok(OAuthTarget {
            name: file.name.unwrap_or_else(|| issuer.clone()),
            issuer,
            metadata_url: s.metadata_url.map(|u| check_url(&u)).transpose()?,
            redirect_uri: s.redirect_uri,
            scope: s.scope,
            limited_scope: s.limited_scope,
            client: main,
            second_client,
            public_client,
            login,
            jwt_bearer,
            resource: s.resource.map(|u| check_url(&u)).transpose()?,
            expect: s.expect,
            code_lifetime: s.code_lifetime_seconds.map(Duration::from_secs),
            time_travel: None,
            deviations: file.deviations,
        })
    }

    /// The declared deviation for a check, if any.
    pub fn deviation(&self, check_id: &str) -> Option<&Deviation> {
        self.deviations.iter().find(|d| d.check == check_id)
    }

    /// The RFC 8414 §3 metadata URL: `/.well-known/oauth-authorization-server` inserted between the issuer's host
    /// and its path.
    pub fn metadata_location(&self) -> String {
        if let Some(u) = &self.metadata_url {
            return u.clone();
        }
        let (scheme, rest) = self.issuer.split_once("://").unwrap_or(("https", &self.issuer));
        let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        let path = if path.is_empty() { String::new() } else { format!("/{path}") };
        format!("{scheme}://{host}/.well-known/oauth-authorization-server{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OAuthTarget, TargetError> {
        OAuthTarget::from_toml(
            text,
            "t",
            |k| (k == "SECRET").then(|| "s3cret".to_owned()),
            |f| if f == "key.pem" { Ok("PEM".into()) } else { Err("no such file".into()) },
        )
    }

    #[test]
    fn parses_the_example_file() {
        let t = OAuthTarget::from_toml(
            include_str!("../../examples/target.toml"),
            "example",
            |k| Some(format!("value of {k}")),
            |_| Ok("PEM".into()),
        )
        .expect("example parses");
        assert_eq!(t.issuer, "https://as.example.com");
        assert_eq!(t.client.auth, AuthMethod::ClientSecretBasic);
        assert!(matches!(&t.login, Login::Form { fields, .. } if fields.iter().any(|(k, _)| k == "password")));
        let debug = format!("{t:?}");
        assert!(!debug.contains("value of"), "secrets never printed: {debug}");
    }

    #[test]
    fn well_known_location_follows_rfc8414_section_3() {
        let base = "[oauth]\nissuer = \"https://h/tenant1\"\nredirect_uri = \"https://c/cb\"\nscope = \"a\"\n\
                    [oauth.client]\nid = \"c\"\nsecret_env = \"SECRET\"\n[oauth.login]\nkind = \"form\"\n";
        let t = parse(base).expect("parses");
        assert_eq!(t.metadata_location(), "https://h/.well-known/oauth-authorization-server/tenant1");
        assert_eq!(t.client.secret.as_deref(), Some("s3cret"));
        let public = base.replace("secret_env = \"SECRET\"\n", "");
        assert!(matches!(parse(&public), Err(TargetError::Invalid { .. })), "the main client must be confidential");
        assert!(matches!(parse("[scim]\nurl = \"http://x\"\n"), Err(TargetError::NoSection { section: "oauth", .. })));
        let bad_kind = base.replace("kind = \"form\"", "kind = \"magic\"");
        assert!(parse(&bad_kind).is_err());
    }
}
