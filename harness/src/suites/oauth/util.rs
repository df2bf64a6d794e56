//! Judging OAuth responses: error responses (RFC 6749 §5.2) and their challenges.

use serde_json::Value;

use crate::check::{Step, fail};
use crate::http::Response;
use crate::oauth::Tokens;

/// The `error` code of an OAuth error response (RFC 6749 §5.2).
pub fn error_code(r: &Response) -> Option<String> {
    r.json().and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_owned))
}

/// Passes when the token endpoint refused with HTTP 400 or 401 and one of `codes`; fails when it issued tokens or
/// answered otherwise. `what` says what was sent.
pub fn refused(r: &Response, codes: &[&str], what: &str) -> Step {
    let code = error_code(r);
    if (r.status == 400 || r.status == 401) && code.as_deref().is_some_and(|c| codes.contains(&c)) {
        return Ok(());
    }
    let expected = format!("{what} is refused: HTTP 400/401 with error {}", codes.join(" or "));
    let actual = match Tokens::from_response(r) {
        Some(_) => format!("tokens were issued: {}", r.summary()),
        None => r.summary(),
    };
    Err(fail(expected, actual))
}

/// Passes when the request was answered with HTTP 401, a challenge of `scheme`, and `error` (RFC 6749 §5.2:
/// invalid_client after an `Authorization` header; RFC 6750 §3 for bearer tokens).
pub fn challenged(r: &Response, scheme: &str, code: Option<&str>, what: &str) -> Step {
    let challenge = r.header("www-authenticate").unwrap_or_default();
    let scheme_ok = challenge.split([' ', ',']).next().is_some_and(|s| s.eq_ignore_ascii_case(scheme));
    let code_ok = match code {
        None => true,
        Some(c) => error_code(r).as_deref() == Some(c) || challenge_param(challenge, "error").as_deref() == Some(c),
    };
    if r.status == 401 && scheme_ok && code_ok {
        return Ok(());
    }
    let with = code.map(|c| format!(" and error {c}")).unwrap_or_default();
    Err(fail(
        format!("{what}: HTTP 401 with a WWW-Authenticate: {scheme} challenge{with}"),
        format!("{} (WWW-Authenticate: {:?})", r.summary(), challenge),
    ))
}

/// A parameter of a `WWW-Authenticate` challenge (RFC 9110 §11.2: `name="value"` or a token).
pub fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let lower = challenge.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&format!("{name}=")) {
        let at = from + pos;
        let boundary = at == 0 || matches!(lower.as_bytes()[at - 1], b' ' | b',');
        let rest = &challenge[at + name.len() + 1..];
        if boundary {
            return Some(match rest.strip_prefix('"') {
                Some(q) => q.split('"').next().unwrap_or_default().to_owned(),
                None => rest.split([',', ' ']).next().unwrap_or_default().to_owned(),
            });
        }
        from = at + 1;
    }
    None
}

/// Whether a `Cache-Control` header forbids storing (RFC 6749 §5.1, RFC 9111 §5.2.2.5).
pub fn no_store(r: &Response) -> bool {
    r.header("cache-control").is_some_and(|v| v.split(',').any(|d| d.trim().eq_ignore_ascii_case("no-store")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parameters() {
        let c = r#"Bearer realm="x", resource_metadata="https://h/.well-known/oauth-protected-resource", error="invalid_token""#;
        assert_eq!(challenge_param(c, "error").as_deref(), Some("invalid_token"));
        assert_eq!(
            challenge_param(c, "resource_metadata").as_deref(),
            Some("https://h/.well-known/oauth-protected-resource")
        );
        assert_eq!(challenge_param(c, "scope"), None);
        assert_eq!(challenge_param("Bearer error=invalid_token", "error").as_deref(), Some("invalid_token"));
    }
}
