//! The authorization endpoint: client and redirect URI checked before anything is redirected, exact redirect-URI
//! matching (near-misses refused), errors with `state` and `iss`, PKCE rules, the log-in and consent pages (escaped,
//! framing refused), the consent form's CSRF token, denial, and scopes trimmed by role.

use reqwest::StatusCode;
use serde_json::json;

use crate::oauth_support::{CHALLENGE, REDIRECT, enc, env, param, redirect_params};

#[tokio::test]
async fn unknown_client_and_redirect_near_misses_are_never_redirected() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let r = e.get_authorize(&format!("response_type=code&client_id=nope&redirect_uri={}", enc(REDIRECT)), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.header("location").is_none());
    for near in [
        "https://client.example/cb/",
        "https://client.example/cb?x=1",
        "https://CLIENT.example/cb",
        "https://client.example/cbx",
        "https://client.example/c",
        "https://client.example:443/cb",
        "http://client.example/cb",
        "https://client.example/cb#f",
        "https://client.example.evil/cb",
    ] {
        let q = format!(
            "response_type=code&client_id={}&redirect_uri={}&code_challenge={CHALLENGE}&code_challenge_method=S256",
            app.id,
            enc(near)
        );
        let r = e.get_authorize(&q, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{near}");
        assert!(r.header("location").is_none(), "{near} must not be redirected to");
        assert!(r.text.contains("invalid_request"), "{}", r.text);
    }
    // A repeated parameter is an error too (RFC 6749 §3.1).
    let q = format!("client_id={}&client_id={}", app.id, app.id);
    assert_eq!(e.get_authorize(&q, None).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn errors_after_the_redirect_uri_is_known_go_to_it_with_state_and_iss() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let base = format!("client_id={}&redirect_uri={}&state=s%201", app.id, enc(REDIRECT));
    let cases = [
        (
            format!("{base}&response_type=token&code_challenge={CHALLENGE}&code_challenge_method=S256"),
            "unsupported_response_type",
        ),
        (format!("{base}&code_challenge={CHALLENGE}&code_challenge_method=S256"), "invalid_request"),
        (
            format!(
                "{base}&response_type=code&scope=groups.read&code_challenge={CHALLENGE}&code_challenge_method=S256"
            ),
            "invalid_scope",
        ),
        // PKCE required: missing challenge; plain downgrade; unknown method; malformed challenge.
        (format!("{base}&response_type=code"), "invalid_request"),
        (
            format!("{base}&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=plain"),
            "invalid_request",
        ),
        (format!("{base}&response_type=code&code_challenge={CHALLENGE}"), "invalid_request"),
        (format!("{base}&response_type=code&code_challenge={CHALLENGE}&code_challenge_method=S512"), "invalid_request"),
        (format!("{base}&response_type=code&code_challenge=short&code_challenge_method=S256"), "invalid_request"),
    ];
    for (q, code) in cases {
        let r = e.get_authorize(&q, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{q}: {}", r.text);
        let p = redirect_params(&r);
        assert_eq!(param(&p, "error").as_deref(), Some(code), "{q}");
        assert_eq!(param(&p, "state").as_deref(), Some("s 1"), "state echoed");
        assert_eq!(param(&p, "iss").as_deref(), Some(e.s.origin.as_str()), "RFC 9207 iss");
        assert!(param(&p, "error_description").is_some());
    }
}

#[tokio::test]
async fn login_and_consent_pages_are_safe_and_work() {
    let e = env().await;
    let app = e.app(json!({"name": "<script>alert(1)</script>"})).await;
    let q = e.query(&app, "user.read");
    let r = e.get_authorize(&q, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("action=\"/oauth/login\""), "login form: {}", r.text);
    assert!(!r.text.contains("<script>"), "escaped: {}", r.text);
    assert!(r.text.contains("&lt;script&gt;"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    let csp = r.header("content-security-policy").expect("csp");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(r.header("cache-control"), Some("no-store"));

    // The client's parameters are carried in hidden fields, escaped: a hostile state cannot inject markup.
    let hostile = q.replace("state=xyz", "state=%22%3E%3Cscript%3Ealert(2)%3C%2Fscript%3E");
    let r = e.get_authorize(&hostile, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains("<script>") && r.text.contains("&quot;&gt;&lt;script&gt;"), "{}", r.text);

    // A wrong password shows the form again.
    let mut form = crate::oauth_support::parse_query(&q);
    form.push(("email".into(), e.ws.owner.email.clone()));
    form.push(("password".into(), "wrong".into()));
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = e.post_form("/oauth/login", &refs, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("Invalid email or password"));

    let cookie = e.form_login(&q, &e.ws.owner.email).await;
    let consent = e.get_authorize(&q, Some(&cookie)).await;
    assert_eq!(consent.status, StatusCode::OK);
    assert!(consent.text.contains("Authorize access") && consent.text.contains("user.read"), "{}", consent.text);
    assert_eq!(consent.header("x-frame-options"), Some("DENY"));
    let csrf = crate::oauth_support::hidden(&consent.text, "csrf_token").expect("csrf");

    let mut form = crate::oauth_support::parse_query(&q);
    form.push(("decision".into(), "allow".into()));
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = e.post_form("/oauth/authorize", &refs, Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token: {}", r.text);
    let mut with_bad = refs.clone();
    with_bad.push(("csrf_token", "forged"));
    assert_eq!(e.post_form("/oauth/authorize", &with_bad, Some(&cookie)).await.status, StatusCode::FORBIDDEN);
    // A cross-site post is refused even with the token.
    let mut good = refs.clone();
    good.push(("csrf_token", &csrf));
    let r = crate::oauth_support::Env::browser()
        .post(format!("{}/oauth/authorize", e.s.origin))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .header("cookie", format!("idconform_session={cookie}"))
        .body(good.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());

    let r = e.post_form("/oauth/authorize", &good, Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let p = redirect_params(&r);
    assert!(param(&p, "code").is_some_and(|c| c.starts_with("idc_ac_")));
    assert_eq!(param(&p, "state").as_deref(), Some("xyz"));
    assert_eq!(param(&p, "iss").as_deref(), Some(e.s.origin.as_str()));
}

#[tokio::test]
async fn denial_and_role_trimming() {
    let e = env().await;
    let app = e.app(json!({})).await;
    let q = e.query(&app, "user.read admin");
    let cookie = e.form_login(&q, &e.ws.member.email).await;
    let consent = e.get_authorize(&q, Some(&cookie)).await;
    assert!(consent.text.contains("Not granted"), "admin withheld from a member: {}", consent.text);
    let csrf = crate::oauth_support::hidden(&consent.text, "csrf_token").expect("csrf");
    let mut form = crate::oauth_support::parse_query(&q);
    form.push(("csrf_token".into(), csrf.clone()));
    form.push(("decision".into(), "deny".into()));
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = e.post_form("/oauth/authorize", &refs, Some(&cookie)).await;
    let p = redirect_params(&r);
    assert_eq!(param(&p, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&p, "state").as_deref(), Some("xyz"));

    // Allowed: the member's grant has user.read but not admin.
    let p = e.authorize_as(&q, &e.ws.member.email).await;
    let code = param(&p, "code").expect("code");
    let r = e.exchange(&app, &code).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["scope"], "user.read");
    // The owner gets both.
    let t = e.tokens(&app, "user.read admin").await;
    assert_eq!(t["scope"], "user.read admin");
}
