//! Server configuration shared by every area.

use crate::scim::Leniency;
use crate::scim::service::Limits;

/// How the server is configured.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// The externally visible base URL (scheme, host, optional path prefix), used for `meta.location` and `$ref`.
    pub public_url: Option<String>,
    /// Whether to build URLs from `X-Forwarded-Proto` / `X-Forwarded-Host` (only behind a trusted proxy).
    pub trust_forwarded: bool,
    /// RFC-to-the-letter mode.
    pub leniency: Leniency,
    /// Size and paging limits.
    pub limits: Limits,
    /// Lifetimes of OAuth codes, tokens and rotated-out client secrets.
    pub oauth: crate::oauth::OAuthSettings,
    /// The SAML service provider's settings.
    pub saml: crate::saml::service::SamlConfig,
}
