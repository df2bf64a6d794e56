//! Credentials of the management API: local passwords (argon2), dashboard sessions with their CSRF tokens, and the
//! admin bearer JWTs (RFC 7519, signed ES256 with a key kept in the store, so the OAuth server can later publish the
//! same key in its JWKS and issue the same tokens).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{AdminError, AdminResult};
use crate::store::SigningKeyRecord;

/// Name of the dashboard session cookie.
pub const SESSION_COOKIE: &str = "idconform_session";
/// Header that carries the CSRF token of a session on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a dashboard session lives.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::hours(12);
/// The scope an admin JWT must carry (RFC 8693 §4.2 `scope` claim: space-separated).
pub const ADMIN_SCOPE: &str = "admin";
/// The `aud` of admin JWTs (RFC 7519 §4.1.3).
pub const ADMIN_AUDIENCE: &str = "idconform-admin";
/// The JWS algorithm of the server's signing keys (RFC 7518 §3.4).
pub const JWT_ALG: &str = "ES256";

/// The CSRF token of a session: derived from the session's secret rather than stored, so it never needs keeping
/// and cannot belong to another session. SHA-256 with a domain-separation prefix acts as a PRF keyed by the 256-bit
/// session secret (OWASP CSRF cheat sheet, "synchronizer token pattern" with a per-session token).
pub fn csrf_token(session: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"idconform-csrf-v1\0");
    h.update(session.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Whether `presented` is the CSRF token of `session`, compared in constant time.
pub fn csrf_matches(session: &str, presented: &str) -> bool {
    bool::from(csrf_token(session).as_bytes().ct_eq(presented.as_bytes()))
}

fn hash_sync(password: &str) -> AdminResult<String> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use rand::RngCore;
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let salt =
        SaltString::encode_b64(&raw).map_err(|e| AdminError::Internal(format!("password hashing failed: {e}")))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Internal(format!("password hashing failed: {e}")))
}

/// An argon2id hash of a password (PHC string format), computed off the async threads.
pub async fn hash_password(password: String) -> AdminResult<String> {
    tokio::task::spawn_blocking(move || hash_sync(&password))
        .await
        .map_err(|e| AdminError::Internal(format!("password hashing failed: {e}")))?
}

/// Whether `password` matches `hash`. Without a hash (unknown email, or a member without a password) a dummy hash
/// is checked anyway, so the answer takes as long either way and does not tell which emails exist.
pub async fn verify_password(hash: Option<String>, password: String) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY.get_or_init(|| hash_sync("dummy").unwrap_or_default()).clone());
        let Ok(parsed) = PasswordHash::new(&hash) else { return false };
        argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

/// The claims of an admin bearer JWT (RFC 7519 §4.1 registered claims, plus `scope` and the workspace).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminClaims {
    /// Issuer: the server's public URL, or `idconform`.
    pub iss: String,
    /// Subject: the member id.
    pub sub: String,
    /// Audience: [`ADMIN_AUDIENCE`].
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Unique id of this token.
    pub jti: String,
    /// Space-separated scopes; must include [`ADMIN_SCOPE`].
    pub scope: String,
    /// The workspace the member belongs to.
    pub workspace_id: String,
}

/// How long a key signs before a fresh one takes over; the next token signed after that creates the successor
/// (RFC 7517 §5: a JWK Set carries old and new keys through a rollover; NIST SP 800-57 Part 1 §5.3.6 sets
/// originator-usage periods of a few months to a few years).
pub const SIGNING_KEY_ROTATION: chrono::Duration = chrono::Duration::days(90);
/// How long a retired key still verifies and stays in the JWKS: the longest life of a token it signed (admin JWTs,
/// at most a year).
pub const RETIRED_KEY_GRACE: chrono::Duration = chrono::Duration::days(366);

fn created_at(k: &SigningKeyRecord) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(&k.created).ok().map(|t| t.to_utc())
}

/// The keys that verify at `now`, from `keys` ordered oldest first: the newest, and each older one until its
/// successor has been signing for [`RETIRED_KEY_GRACE`]. Creation times only grow, so this is a suffix.
pub fn verifying_keys(keys: &[SigningKeyRecord], now: chrono::DateTime<chrono::Utc>) -> &[SigningKeyRecord] {
    let start = (1..keys.len())
        .rev()
        .find(|&i| created_at(&keys[i]).is_some_and(|c| c + RETIRED_KEY_GRACE <= now))
        .unwrap_or(0);
    &keys[start..]
}

/// Whether the newest key has signed for [`SIGNING_KEY_ROTATION`] (or there is none): the next signature needs a
/// new key.
pub fn rotation_due(keys: &[SigningKeyRecord], now: chrono::DateTime<chrono::Utc>) -> bool {
    keys.last().and_then(created_at).is_none_or(|c| c + SIGNING_KEY_ROTATION <= now)
}

/// A fresh P-256 signing key.
pub fn new_signing_key(created: String) -> AdminResult<SigningKeyRecord> {
    use p256::pkcs8::EncodePrivateKey;
    use rand::RngCore;
    // A random 32-byte string is a valid P-256 scalar unless it is zero or above the group order (probability about
    // 2^-32); draw again in that case.
    for _ in 0..16 {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let Ok(secret) = p256::SecretKey::from_slice(&bytes) else { continue };
        let der = secret.to_pkcs8_der().map_err(|e| AdminError::Internal(format!("key encoding failed: {e}")))?;
        let kid = format!("key_{}", uuid::Uuid::new_v4().simple());
        return Ok(SigningKeyRecord { kid, alg: JWT_ALG.into(), private_der: der.as_bytes().to_vec(), created });
    }
    Err(AdminError::Internal("could not generate a signing key".into()))
}

/// The public JWK of a signing key (RFC 7517 §4, RFC 7518 §6.2.1), for a JWKS.
pub fn public_jwk(key: &SigningKeyRecord) -> AdminResult<serde_json::Value> {
    let (x, y) = public_xy(key)?;
    Ok(serde_json::json!({
        "kty": "EC", "crv": "P-256", "alg": key.alg, "use": "sig", "kid": key.kid,
        "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
    }))
}

/// The affine coordinates of a signing key's public point (for JWKs and verifying keys).
pub fn public_xy(key: &SigningKeyRecord) -> AdminResult<(Vec<u8>, Vec<u8>)> {
    use p256::elliptic_curve::sec1::{Coordinates, ToEncodedPoint};
    use p256::pkcs8::DecodePrivateKey;
    let secret = p256::SecretKey::from_pkcs8_der(&key.private_der)
        .map_err(|e| AdminError::Internal(format!("stored signing key {} is unreadable: {e}", key.kid)))?;
    let point = secret.public_key().to_encoded_point(false);
    match point.coordinates() {
        Coordinates::Uncompressed { x, y } => Ok((x.to_vec(), y.to_vec())),
        _ => Err(AdminError::Internal("unexpected public key encoding".into())),
    }
}

/// Signs claims with `key` (JWS compact serialisation, RFC 7515 §7.1) with the key's id in the header.
pub fn sign(key: &SigningKeyRecord, claims: &AdminClaims) -> AdminResult<String> {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    let enc = jsonwebtoken::EncodingKey::from_ec_der(&key.private_der);
    jsonwebtoken::encode(&header, claims, &enc).map_err(|e| AdminError::Internal(format!("signing failed: {e}")))
}

/// Verifies an admin JWT: signature by one of `keys` (chosen by `kid`), `aud`, expiry against `now` (the injected
/// clock, not the system's), and the admin scope. Every failure is the same 401, so a caller learns nothing about
/// which check failed (RFC 6750 §3.1 `invalid_token`).
pub fn verify(keys: &[SigningKeyRecord], token: &str, now: i64) -> AdminResult<AdminClaims> {
    let invalid = || AdminError::Unauthorized("the bearer token is not a valid admin token".into());
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid())?;
    if header.alg != jsonwebtoken::Algorithm::ES256 {
        return Err(invalid());
    }
    let kid = header.kid.ok_or_else(invalid)?;
    let key = keys.iter().find(|k| k.kid == kid).ok_or_else(invalid)?;
    let (x, y) = public_xy(key)?;
    let dec = jsonwebtoken::DecodingKey::from_ec_components(&URL_SAFE_NO_PAD.encode(x), &URL_SAFE_NO_PAD.encode(y))
        .map_err(|e| AdminError::Internal(format!("signing key {kid}: {e}")))?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    // Expiry is checked below against the injected clock; jsonwebtoken would read the system clock.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.set_audience(&[ADMIN_AUDIENCE]);
    v.set_required_spec_claims(&["exp", "sub", "aud"]);
    let data = jsonwebtoken::decode::<AdminClaims>(token, &dec, &v).map_err(|_| invalid())?;
    let c = data.claims;
    if c.exp <= now || !c.scope.split(' ').any(|s| s == ADMIN_SCOPE) {
        return Err(invalid());
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_rotate_and_retired_ones_verify_for_the_grace_period() {
        let day = |d: i64| chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(d);
        let key = |d: i64| new_signing_key(crate::clock::format_datetime(day(d))).expect("key");
        let keys = vec![key(0), key(90), key(180)];
        assert!(!rotation_due(&keys, day(200)));
        assert!(rotation_due(&keys, day(270)), "the newest key signed for 90 days");
        assert!(rotation_due(&[], day(0)));
        assert_eq!(verifying_keys(&keys, day(200)).len(), 3, "retired keys verify during the grace period");
        assert_eq!(verifying_keys(&keys, day(90 + 366)).len(), 2, "the first key retired 366 days ago");
        assert_eq!(verifying_keys(&keys, day(180 + 366)).len(), 1);
        assert_eq!(verifying_keys(&keys, day(5000)).len(), 1, "the newest always verifies");
    }

    fn claims(exp: i64, scope: &str) -> AdminClaims {
        AdminClaims {
            iss: "idconform".into(),
            sub: "mem_1".into(),
            aud: ADMIN_AUDIENCE.into(),
            exp,
            iat: 0,
            jti: "j".into(),
            scope: scope.into(),
            workspace_id: "ws".into(),
        }
    }

    #[test]
    fn jwt_round_trip_and_rejections() -> AdminResult<()> {
        let key = new_signing_key("2026-01-01T00:00:00.000Z".into())?;
        let other = new_signing_key("2026-01-01T00:00:00.000Z".into())?;
        let t = sign(&key, &claims(100, "admin"))?;
        assert_eq!(verify(std::slice::from_ref(&key), &t, 99)?.sub, "mem_1");
        assert!(verify(std::slice::from_ref(&key), &t, 100).is_err(), "expired at exp");
        assert!(verify(std::slice::from_ref(&other), &t, 0).is_err(), "unknown kid");
        let forged = sign(&SigningKeyRecord { kid: key.kid.clone(), ..other.clone() }, &claims(100, "admin"))?;
        assert!(verify(std::slice::from_ref(&key), &forged, 0).is_err(), "wrong signature");
        let no_scope = sign(&key, &claims(100, "read"))?;
        assert!(verify(std::slice::from_ref(&key), &no_scope, 0).is_err(), "scope required");
        assert!(verify(std::slice::from_ref(&key), "not.a.jwt", 0).is_err());
        let jwk = public_jwk(&key)?;
        assert_eq!(jwk["kty"], "EC");
        Ok(())
    }

    #[test]
    fn csrf_is_bound_to_its_session() {
        let t = csrf_token("s1");
        assert!(csrf_matches("s1", &t));
        assert!(!csrf_matches("s2", &t));
        assert!(!csrf_matches("s1", ""));
    }
}
