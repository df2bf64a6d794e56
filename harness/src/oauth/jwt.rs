//! RFC 7523 client assertions: well-formed ones signed with the key the server trusts, and the forgeries the checks
//! send (expired, for another audience, unsigned, signed by a stranger, without `exp`, not yet valid).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::client::random_token;
use super::target::JwtBearer;

/// What to do to an otherwise valid assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forgery {
    /// Nothing: a valid assertion.
    None,
    /// `exp` ten minutes ago (RFC 7523 §3 item 4).
    Expired,
    /// `aud` another server (RFC 7523 §3 item 3).
    WrongAudience,
    /// `alg: none` and no signature (RFC 7523 §3 item 9; RFC 8725 §3.1).
    AlgNone,
    /// Signed by a freshly generated key the server has never seen (RFC 7523 §3 item 9).
    ForeignKey,
    /// No `exp` claim (RFC 7523 §3 item 4).
    NoExpiry,
    /// `nbf` ten minutes ahead (RFC 7523 §3 item 5).
    NotYetValid,
}

/// Why an assertion could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the assertion: {0}")]
pub struct JwtError(String);

/// The claims of an assertion for `audience`, issued now (`now` in seconds since the epoch).
pub fn claims(jb: &JwtBearer, audience: &str, now: i64, forgery: Forgery) -> Value {
    let mut c = json!({
        "iss": jb.client.id,
        "sub": jb.subject,
        "aud": jb.audience.clone().unwrap_or_else(|| audience.to_owned()),
        "iat": now,
        "exp": now + 300,
        "jti": random_token(),
    });
    match forgery {
        Forgery::Expired => {
            c["iat"] = json!(now - 900);
            c["exp"] = json!(now - 600);
        }
        Forgery::WrongAudience => c["aud"] = json!("https://another-server.idconform.test/token"),
        Forgery::NoExpiry => {
            if let Some(o) = c.as_object_mut() {
                o.remove("exp");
            }
        }
        Forgery::NotYetValid => c["nbf"] = json!(now + 600),
        Forgery::None | Forgery::AlgNone | Forgery::ForeignKey => {}
    }
    c
}

/// Signs `claims` as `forgery` asks: with the registered key, with none, or with a stranger's.
pub fn sign(jb: &JwtBearer, claims: &Value, forgery: Forgery) -> Result<String, JwtError> {
    match forgery {
        Forgery::AlgNone => {
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            let body = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
            Ok(format!("{header}.{body}."))
        }
        Forgery::ForeignKey => {
            let (pem, _) = generate_es256("stranger")?;
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
            // The stranger claims the registered key's id: a server must verify, not just look the key up.
            header.kid = jb.kid.clone();
            let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| JwtError(e.to_string()))?;
            jsonwebtoken::encode(&header, claims, &key).map_err(|e| JwtError(e.to_string()))
        }
        _ => {
            let (alg, key) = match jb.alg.as_str() {
                "RS256" => (
                    jsonwebtoken::Algorithm::RS256,
                    jsonwebtoken::EncodingKey::from_rsa_pem(jb.key_pem.as_bytes())
                        .map_err(|e| JwtError(e.to_string()))?,
                ),
                _ => (
                    jsonwebtoken::Algorithm::ES256,
                    jsonwebtoken::EncodingKey::from_ec_pem(jb.key_pem.as_bytes())
                        .map_err(|e| JwtError(e.to_string()))?,
                ),
            };
            let mut header = jsonwebtoken::Header::new(alg);
            header.kid = jb.kid.clone();
            jsonwebtoken::encode(&header, claims, &key).map_err(|e| JwtError(e.to_string()))
        }
    }
}

/// A fresh P-256 key: its PKCS#8 PEM, and its public JWK (RFC 7517 §4, RFC 7518 §6.2.1) with `kid`, ready to
/// register.
pub fn generate_es256(kid: &str) -> Result<(String, Value), JwtError> {
    use p256::elliptic_curve::sec1::{Coordinates, ToEncodedPoint};
    use p256::pkcs8::{EncodePrivateKey, LineEnding};
    let mut secret = None;
    // A random 32-byte string is a valid scalar unless zero or above the group order (about 2^-32): draw again then.
    for _ in 0..16 {
        let bytes: [u8; 32] = rand::random();
        if let Ok(s) = p256::SecretKey::from_slice(&bytes) {
            secret = Some(s);
            break;
        }
    }
    let secret = secret.ok_or_else(|| JwtError("no key could be generated".into()))?;
    let pem = secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| JwtError(e.to_string()))?;
    let point = secret.public_key().to_encoded_point(false);
    let Coordinates::Uncompressed { x, y } = point.coordinates() else {
        return Err(JwtError("unexpected point encoding".into()));
    };
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
    });
    Ok((pem.to_string(), jwk))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::target::{AuthMethod, OAuthClientCreds};

    #[test]
    fn assertions_verify_with_the_registered_key_only() {
        let (pem, jwk) = generate_es256("k1").expect("key");
        let jb = JwtBearer {
            client: OAuthClientCreds {
                id: "app".into(),
                secret: Some("s".into()),
                auth: AuthMethod::ClientSecretBasic,
            },
            key_pem: pem,
            alg: "ES256".into(),
            kid: Some("k1".into()),
            subject: "qa@example.com".into(),
            audience: None,
        };
        let key: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).expect("jwk");
        let decoding = jsonwebtoken::DecodingKey::from_jwk(&key).expect("decoding key");
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        v.set_audience(&["https://as/token"]);
        let c = claims(&jb, "https://as/token", chrono::Utc::now().timestamp(), Forgery::None);
        let good = sign(&jb, &c, Forgery::None).expect("signed");
        assert!(jsonwebtoken::decode::<Value>(&good, &decoding, &v).is_ok());
        let foreign = sign(&jb, &c, Forgery::ForeignKey).expect("signed");
        assert!(jsonwebtoken::decode::<Value>(&foreign, &decoding, &v).is_err());
        let none = sign(&jb, &c, Forgery::AlgNone).expect("built");
        assert!(none.ends_with('.') && jsonwebtoken::decode_header(&none).is_err());
        let expired = claims(&jb, "https://as/token", 1_000_000, Forgery::Expired);
        assert!(expired["exp"].as_i64() < Some(1_000_000));
        assert!(claims(&jb, "a", 0, Forgery::NoExpiry).get("exp").is_none());
    }
}
