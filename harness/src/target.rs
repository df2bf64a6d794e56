//! The system under test: where its SCIM service is, how to authenticate, and which deviations from the spec its
//! owner has declared. Built from command-line flags or from a TOML target file (see `examples/target.toml`);
//! secrets can be read from environment variables so target files can be committed.

use std::path::Path;

use serde::Deserialize;

/// A declared, known deviation: the check is expected to fail, for the reason given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deviation {
    /// The check id, e.g. `scim.sort.descending`.
    pub check: String,
    /// Why the target deviates (ticket, product decision, …).
    pub reason: String,
}

/// A target: SCIM base URL, bearer token and declared deviations.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// A display name for reports.
    pub name: String,
    /// SCIM base URL, e.g. `https://idp.example.com/scim/v2` (no trailing slash).
    pub scim_url: String,
    /// Bearer token; `None` probes a target without authentication.
    pub token: Option<String>,
    /// Bearer token of another tenant (directory) of the same service, for the tenant-isolation check; `None` skips it.
    pub other_token: Option<String>,
    /// Declared deviations.
    pub deviations: Vec<Deviation>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("scim_url", &self.scim_url)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("other_token", &self.other_token.as_ref().map(|_| "[redacted]"))
            .field("deviations", &self.deviations)
            .finish()
    }
}

/// Why a target could not be built. These are usage/configuration errors (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The target file could not be read.
    #[error("cannot read target file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The target file is not valid TOML or has unknown keys.
    #[error("invalid target file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// The token's environment variable is not set.
    #[error("environment variable {0} (token_env) is not set")]
    MissingEnv(String),
    /// The other tenant's token environment variable is not set.
    #[error("environment variable {0} (other_token_env) is not set")]
    MissingOtherEnv(String),
    /// The URL is not an http(s) URL.
    #[error("invalid SCIM base URL {0:?}: expected http:// or https://")]
    BadUrl(String),
    /// Both `token` and `token_env` were given.
    #[error("give either token or token_env, not both")]
    TwoTokens,
    /// Both `other_token` and `other_token_env` were given.
    #[error("give either other_token or other_token_env, not both")]
    TwoOtherTokens,
    /// The file has no section for the protocol the command tests.
    #[error("target file {path} has no [{section}] section")]
    NoSection {
        /// The file.
        path: String,
        /// The missing section (`scim`, `oauth`).
        section: &'static str,
    },
    /// A value in the file is not usable.
    #[error("invalid target file {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    name: Option<String>,
    scim: Option<ScimSection>,
    // The other protocols' sections are read by their own loaders (`oauth::OAuthTarget`); one file describes a
    // whole system.
    oauth: Option<toml::Value>,
    saml: Option<toml::Value>,
    #[serde(default)]
    deviations: Vec<Deviation>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScimSection {
    url: String,
    token: Option<String>,
    token_env: Option<String>,
    other_token: Option<String>,
    other_token_env: Option<String>,
}

impl Target {
    /// A target from flags.
    pub fn new(scim_url: &str, token: Option<String>) -> Result<Self, TargetError> {
        let scim_url = check_url(scim_url)?;
        Ok(Target { name: scim_url.clone(), scim_url, token, other_token: None, deviations: Vec::new() })
    }

    /// Reads a TOML target file; `token_env` is resolved with `env`.
    pub fn load(path: &Path) -> Result<Self, TargetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| TargetError::Read { path: path.display().to_string(), source })?;
        Self::from_toml(&text, &path.display().to_string(), |k| std::env::var(k).ok())
    }

    /// Parses a target file's text. `origin` names it in errors; `env` looks up environment variables (injected so
    /// tests need not touch the process environment).
    pub fn from_toml(text: &str, origin: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, TargetError> {
        let file: File =
            toml::from_str(text).map_err(|e| TargetError::Parse { path: origin.to_owned(), message: e.to_string() })?;
        let _ = (&file.oauth, &file.saml);
        let scim = file.scim.ok_or_else(|| TargetError::NoSection { path: origin.to_owned(), section: "scim" })?;
        let token = match (scim.token, scim.token_env) {
            (Some(_), Some(_)) => return Err(TargetError::TwoTokens),
            (Some(t), None) => Some(t),
            (None, Some(var)) => Some(env(&var).ok_or(TargetError::MissingEnv(var))?),
            (None, None) => None,
        };
        let other_token = match (scim.other_token, scim.other_token_env) {
            (Some(_), Some(_)) => return Err(TargetError::TwoOtherTokens),
            (Some(t), None) => Some(t),
            (None, Some(var)) => Some(env(&var).ok_or(TargetError::MissingOtherEnv(var))?),
            (None, None) => None,
        };
        let scim_url = check_url(&scim.url)?;
        Ok(Target {
            name: file.name.unwrap_or_else(|| scim_url.clone()),
            scim_url,
            token,
            other_token,
            deviations: file.deviations,
        })
    }

    /// The declared deviation for a check, if any.
    pub fn deviation(&self, check_id: &str) -> Option<&Deviation> {
        self.deviations.iter().find(|d| d.check == check_id)
    }
}

/// An http(s) URL without a trailing slash.
pub(crate) fn check_url(url: &str) -> Result<String, TargetError> {
    let u = url.trim().trim_end_matches('/');
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(r) if !r.is_empty() => Ok(u.to_owned()),
        _ => Err(TargetError::BadUrl(url.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_example_file_with_env_token() {
        let text = include_str!("../examples/target.toml");
        let t = Target::from_toml(text, "example", |k| match k {
            "MY_SCIM_TOKEN" => Some("s3cret".to_owned()),
            "MY_OTHER_TENANT_TOKEN" => Some("0ther".to_owned()),
            _ => None,
        })
        .expect("example parses");
        assert_eq!(t.scim_url, "https://scim.example.com/scim/v2");
        assert_eq!(t.token.as_deref(), Some("s3cret"));
        assert_eq!(t.other_token.as_deref(), Some("0ther"));
        assert_eq!(t.deviations.len(), 1);
        let debug = format!("{t:?}");
        assert!(!debug.contains("s3cret") && !debug.contains("0ther"));
    }

    #[test]
    fn other_token_is_optional_and_exclusive() {
        let base = "[scim]\nurl = \"http://x/scim/v2\"\n";
        assert_eq!(Target::from_toml(base, "t", |_| None).ok().and_then(|t| t.other_token), None);
        let both = format!("{base}other_token = \"a\"\nother_token_env = \"B\"\n");
        assert!(matches!(Target::from_toml(&both, "t", |_| None), Err(TargetError::TwoOtherTokens)));
        let missing = format!("{base}other_token_env = \"NOPE\"\n");
        assert!(
            matches!(Target::from_toml(&missing, "t", |_| None), Err(TargetError::MissingOtherEnv(v)) if v == "NOPE")
        );
    }

    #[test]
    fn missing_env_is_an_error() {
        let text = "[scim]\nurl = \"http://x/scim/v2\"\ntoken_env = \"NOPE\"\n";
        assert!(matches!(Target::from_toml(text, "t", |_| None), Err(TargetError::MissingEnv(v)) if v == "NOPE"));
    }

    #[test]
    fn rejects_unknown_keys_and_bad_urls() {
        assert!(Target::from_toml("[scim]\nurl = \"http://x\"\ntokn = \"a\"\n", "t", |_| None).is_err());
        assert!(Target::new("ftp://x", None).is_err());
        assert_eq!(
            Target::new("http://h/scim/v2/", None).map(|t| t.scim_url).ok().as_deref(),
            Some("http://h/scim/v2")
        );
    }
}
