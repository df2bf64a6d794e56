//! The JWT bearer grant (RFC 7523): an assertion signed with a key the app registered is exchanged for an access
//! token; expired, wrongly addressed, unsigned, replayed or foreign-key assertions are `invalid_grant`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::EncodePrivateKey;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::call;
use crate::oauth_support::{App, Env, env};

struct Key {
    der: Vec<u8>,
    jwk: Value,
}

fn key(kid: &str) -> Key {
    let secret = p256::SecretKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(point.x().expect("x")), "y": URL_SAFE_NO_PAD.encode(point.y().expect("y"))});
    Key { der: secret.to_pkcs8_der().expect("der").as_bytes().to_vec(), jwk }
}

fn sign(k: &Key, claims: &Value) -> String {
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = k.jwk["kid"].as_str().map(String::from);
    jsonwebtoken::encode(&h, claims, &jsonwebtoken::EncodingKey::from_ec_der(&k.der)).expect("sign")
}

fn claims(e: &Env, app: &App, jti: &str) -> Value {
    let now = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").expect("t").timestamp();
    json!({"iss": app.id, "sub": e.ws.owner.email, "aud": format!("{}/oauth/token", e.s.origin),
           "iat": now, "exp": now + 300, "jti": jti})
}

async fn grant(e: &Env, app: &App, assertion: &str) -> crate::support::Resp {
    e.token_post(
        "/oauth/token",
        Some((&app.id, app.secret.as_deref().unwrap_or_default())),
        &[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion),
            ("scope", "user.read"),
        ],
    )
    .await
}

#[tokio::test]
async fn jwt_bearer_grant() {
    let e = env().await;
    let k = key("k1");
    let app = e.app(json!({"jwks": {"keys": [k.jwk]}})).await;
    let r = grant(&e, &app, &sign(&k, &claims(&e, &app, "j1"))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.body.get("refresh_token").is_none(), "no refresh token for assertions");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(e.userinfo(r.body["access_token"].as_str().expect("at")).await.status, 200);

    let replay = grant(&e, &app, &sign(&k, &claims(&e, &app, "j1"))).await;
    assert_eq!(replay.body["error"], "invalid_grant", "replayed jti: {}", replay.text);

    let mut expired = claims(&e, &app, "j2");
    expired["exp"] = json!(expired["iat"].as_i64().unwrap_or(0) - 1);
    let mut wrong_aud = claims(&e, &app, "j3");
    wrong_aud["aud"] = json!("https://elsewhere.example/token");
    let mut wrong_iss = claims(&e, &app, "j4");
    wrong_iss["iss"] = json!("someone-else");
    let mut stranger = claims(&e, &app, "j5");
    stranger["sub"] = json!("nobody@example.test");
    let mut too_long = claims(&e, &app, "j6");
    too_long["exp"] = json!(too_long["iat"].as_i64().unwrap_or(0) + 86400);
    let mut no_jti = claims(&e, &app, "j7");
    no_jti.as_object_mut().map(|o| o.remove("jti"));
    for (what, c) in [
        ("expired", expired),
        ("aud", wrong_aud),
        ("iss", wrong_iss),
        ("sub", stranger),
        ("lifetime", too_long),
        ("jti", no_jti),
    ] {
        let r = grant(&e, &app, &sign(&k, &c)).await;
        assert_eq!(r.body["error"], "invalid_grant", "{what}: {}", r.text);
    }
    // Signed by a key that is not registered, or not signed at all.
    let other = key("k1");
    let r = grant(&e, &app, &sign(&other, &claims(&e, &app, "j8"))).await;
    assert_eq!(r.body["error"], "invalid_grant", "{}", r.text);
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(&e, &app, "j9").to_string())
    );
    let r = grant(&e, &app, &none).await;
    assert_eq!(r.body["error"], "invalid_grant", "alg none: {}", r.text);

    // An app without keys may not use the grant; private keys cannot be registered.
    let plain = e.app(json!({})).await;
    let r = grant(&e, &plain, &sign(&k, &claims(&e, &plain, "j10"))).await;
    assert_eq!(r.body["error"], "unauthorized_client", "{}", r.text);
    let mut private = k.jwk.clone();
    private["d"] = json!("AAAA");
    let r = call(
        &e.s.origin,
        Method::PATCH,
        &format!("/oauth/apps/{}", plain.id),
        &e.admin(),
        Some(&json!({"jwks": {"keys": [private]}})),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
}
