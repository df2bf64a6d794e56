//! The small, pure rules of the protocol: form bodies, redirect URIs, PKCE, scopes. Unit-tested here; the service
//! applies them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::OAuthError;

/// A parsed `application/x-www-form-urlencoded` body or query string (WHATWG URL §5.1), parameters in order.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

fn decode(s: &str) -> Result<String, OAuthError> {
    let plus = s.replace('+', " ");
    percent_decode_str(&plus)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| OAuthError::InvalidRequest("a parameter is not valid UTF-8 once percent-decoded".into()))
}

impl Params {
    /// Parses `a=1&b=2`. A parameter that is not UTF-8 is an `invalid_request`.
    pub fn parse(s: &str) -> Result<Params, OAuthError> {
        let mut out = Vec::new();
        for pair in s.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k)?, decode(v)?));
        }
        Ok(Params(out))
    }

    /// The value of `name`; empty values count as absent (RFC 6749 §3.1: "Parameters sent without a value MUST be
    /// treated as if they were omitted"), and a repeated parameter is an `invalid_request` (RFC 6749 §3.1, §3.2).
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = self.0.iter().filter(|(k, v)| k == name && !v.is_empty());
        let first = found.next();
        if found.next().is_some() {
            return Err(OAuthError::InvalidRequest(format!("the parameter {name} is repeated (RFC 6749 §3.1)")));
        }
        Ok(first.map(|(_, v)| v.as_str()))
    }

    /// Like [`Params::get`], but required.
    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?.ok_or_else(|| OAuthError::InvalidRequest(format!("the parameter {name} is missing")))
    }
}

/// Characters escaped in a query component value: everything but the RFC 3986 unreserved set.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes a query value.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// `uri` with `params` appended to its query, keeping the query it already has (RFC 6749 §3.1.2: "MUST retain the
/// query component"). Registered URIs never have a fragment.
pub fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { if uri.ends_with('?') || uri.ends_with('&') { "" } else { "&" } } else { "?" };
    for (k, v) in params {
        out.push_str(sep);
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
        sep = "&";
    }
    out
}

/// Checks a redirect URI at registration: an absolute URI (RFC 6749 §3.1.2) without a fragment (§3.1.2) or
/// wildcard (RFC 9700 §2.1, exact matching), and `https`, `http` only on a loopback host (RFC 8252 §7.3, §8.3), or
/// a private-use scheme with a dot in it (RFC 8252 §7.1).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace or control characters".into());
    }
    if uri.contains('#') {
        return Err("must not contain a fragment (RFC 6749 §3.1.2)".into());
    }
    if uri.contains('*') {
        return Err("wildcards are not allowed: redirect URIs are matched exactly (RFC 9700 §2.1)".into());
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return Err("must be an absolute URI (RFC 6749 §3.1.2)".into());
    };
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err("must be an absolute URI with a valid scheme (RFC 3986 §3.1)".into());
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "http" || scheme == "https" {
        let Some(after) = rest.strip_prefix("//") else {
            return Err("an http(s) URI needs an authority (//host)".into());
        };
        let authority = after.split(['/', '?']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err("must not contain user information".into());
        }
        let host = if let Some(v6) = authority.strip_prefix('[') {
            v6.split(']').next().unwrap_or_default().to_owned()
        } else {
            authority.rsplit_once(':').map_or(authority, |(h, _)| h).to_ascii_lowercase()
        };
        if host.is_empty() {
            return Err("the host is missing".into());
        }
        if scheme == "http" && !matches!(host.as_str(), "127.0.0.1" | "::1" | "localhost") {
            return Err("http is allowed only for loopback redirect URIs; use https (RFC 9700 §2.6)".into());
        }
        Ok(())
    } else if scheme.contains('.') {
        Ok(())
    } else {
        Err("use https, http on a loopback host, or a reverse-domain private-use scheme (RFC 8252 §7)".into())
    }
}

/// Whether a PKCE code verifier or challenge has the RFC 7636 §4.1 form: 43 to 128 unreserved characters.
pub fn pkce_form_ok(s: &str) -> bool {
    (43..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The S256 challenge of a verifier: `BASE64URL(SHA256(ASCII(verifier)))` (RFC 7636 §4.2).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `verifier` matches `challenge` under `method` (RFC 7636 §4.6), compared in constant time.
pub fn pkce_matches(method: &str, challenge: &str, verifier: &str) -> bool {
    let derived = match method {
        "S256" => s256(verifier),
        "plain" => verifier.to_owned(),
        _ => return false,
    };
    bool::from(derived.as_bytes().ct_eq(challenge.as_bytes()))
}

/// Splits a `scope` parameter (RFC 6749 §3.3: space-delimited, case-sensitive), dropping repeats.
pub fn split_scope(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// Whether every character of a scope token is allowed (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
pub fn scope_token_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1:8080/cb",
            "http://localhost/cb",
            "http://[::1]:9/x",
            "com.example.app:/oauth",
            "https://app.example/cb?x=1",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://app.example/cb#frag",
            "https://*.example/cb",
            "http://app.example/cb",
            "/cb",
            "myapp:/cb",
            "https://user@app.example/cb",
            "https:///cb",
            "https://app.example/c b",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pkce_rfc7636_appendix_b() {
        // RFC 7636 Appendix B's example.
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(s256(v), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(pkce_matches("S256", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", v));
        assert!(!pkce_matches("S256", v, v), "plain value under S256");
        assert!(pkce_matches("plain", v, v));
        assert!(!pkce_matches("other", v, v));
        assert!(pkce_form_ok(v));
        assert!(!pkce_form_ok("short"));
        assert!(!pkce_form_ok(&"a".repeat(129)));
    }

    #[test]
    fn params_and_queries() -> Result<(), OAuthError> {
        let p = Params::parse("a=1&b=x+y%21&c=&a2=%E2%9C%93")?;
        assert_eq!(p.get("a")?, Some("1"));
        assert_eq!(p.get("b")?, Some("x y!"));
        assert_eq!(p.get("c")?, None, "empty is absent");
        assert_eq!(p.get("a2")?, Some("✓"));
        assert!(Params::parse("a=1&a=2")?.get("a").is_err(), "repeated");
        assert!(Params::parse("a=%FF").is_err());
        assert_eq!(with_query("https://a/cb", &[("code", "x y"), ("state", "s")]), "https://a/cb?code=x%20y&state=s");
        assert_eq!(with_query("https://a/cb?k=v", &[("code", "c")]), "https://a/cb?k=v&code=c");
        assert_eq!(split_scope("a  b a"), vec!["a", "b"]);
        assert!(!scope_token_ok("a\"b"));
        Ok(())
    }
}
