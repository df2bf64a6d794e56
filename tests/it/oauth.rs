//! `idconform check oauth` and `idconform oauth flow` as users run them: against the embedded reference server (the
//! whole suite passes), and against a separately served reference server described by a target file, as a third
//! party would be — apps registered over the management API, the user logging in through the server's own forms.

use serde_json::{Value, json};

use crate::cli::{admin_token, idconform, json_report, scratch_db, serve_example};

#[test]
fn the_reference_server_passes_the_whole_oauth_suite() {
    let (code, out) = idconform(&["check", "oauth", "--report", "json", "--out", "-"]);
    assert_eq!(code, 0, "{out}");
    let report = json_report(&out);
    let s = &report["summary"];
    assert!(s["passed"].as_u64() >= Some(60), "{s}");
    assert_eq!(s["passed"], s["total"], "every check passes, none skipped: {s}");
}

#[test]
fn oauth_flow_runs_a_whole_session_and_oauth_needs_a_target_file() {
    let (code, out) = idconform(&["oauth", "flow"]);
    assert_eq!(code, 0, "{out}");
    for step in ["authorize (log-in, consent)", "refresh", "refresh after revocation is refused", "the flow works"] {
        assert!(out.contains(step), "{step} in {out}");
    }
    let (code, out) = idconform(&["check", "oauth", "--scim-url", "http://127.0.0.1:9/scim/v2"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--target"), "{out}");
}

#[tokio::test]
async fn a_target_file_drives_a_served_reference_server() {
    let db = scratch_db("oauth");
    let (running, origin) = serve_example(&db);
    let jwt = admin_token(&db, "admin@acme.example");
    let http = reqwest::Client::new();
    let redirect = "https://qa.example/callback";
    let mut apps = Vec::new();
    for body in [
        json!({"name": "qa", "redirect_uris": [redirect], "allowed_scopes": ["user.read", "users.read"], "pkce": "optional"}),
        json!({"name": "qa-2", "redirect_uris": [redirect], "allowed_scopes": ["user.read"]}),
        json!({"name": "qa-spa", "client_type": "public", "redirect_uris": [redirect], "allowed_scopes": ["user.read"]}),
    ] {
        let r = http.post(format!("{origin}/oauth/apps")).bearer_auth(&jwt).json(&body).send().await.expect("post");
        assert_eq!(r.status(), 201);
        apps.push(r.json::<Value>().await.expect("json"));
    }
    let dir = std::path::Path::new(&db).parent().expect("dir").to_owned();
    let file = dir.join("oauth-target.toml");
    let text = format!(
        "name = \"served reference server\"\n[oauth]\nissuer = \"{origin}\"\nredirect_uri = \"{redirect}\"\n\
         scope = \"user.read\"\nlimited_scope = \"users.read\"\nresource = \"{origin}\"\n\
         [oauth.client]\nid = \"{}\"\nsecret_env = \"QA_SECRET\"\n[oauth.second_client]\nid = \"{}\"\n\
         secret_env = \"QA2_SECRET\"\n[oauth.public_client]\nid = \"{}\"\n[oauth.login]\nkind = \"form\"\n\
         approve_name = \"decision\"\napprove_value = \"allow\"\n[oauth.login.fields]\n\
         email = \"admin@acme.example\"\npassword_env = \"QA_PASSWORD\"\n",
        apps[0]["id"].as_str().expect("id"),
        apps[1]["id"].as_str().expect("id"),
        apps[2]["id"].as_str().expect("id"),
    );
    std::fs::write(&file, text).expect("target file");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_idconform"))
            .args(args)
            .env("QA_SECRET", apps[0]["client_secret"].as_str().expect("secret"))
            .env("QA2_SECRET", apps[1]["client_secret"].as_str().expect("secret"))
            .env("QA_PASSWORD", "admin-pw")
            .env("IDCONFORM_LOG", "warn")
            .output()
            .expect("runs");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let target = file.to_str().expect("utf-8");
    let (code, out) = run(&["oauth", "flow", "--target", target]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(&["check", "oauth", "--target", target]);
    assert_eq!(code, Some(0), "{out}");
    // Without a clock to move or a declared code lifetime, the expiry check cannot run; without a key, neither can
    // the RFC 7523 checks. Everything else ran and passed.
    assert!(out.contains("SKIP") && out.contains("code_lifetime_seconds"), "{out}");
    assert!(out.contains("0 failed, 0 warned"), "{out}");
    assert!(!out.contains(apps[0]["client_secret"].as_str().expect("secret")), "no secret printed");

    // The same server through an existing session instead of the log-in form: `kind = "cookie"`.
    let r = http
        .post(format!("{origin}/api/v1/session"))
        .json(&json!({"email": "admin@acme.example", "password": "admin-pw"}))
        .send()
        .await
        .expect("login");
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let with_cookie = std::fs::read_to_string(&file)
        .expect("target file")
        .replace("kind = \"form\"", "kind = \"cookie\"\ncookie_env = \"QA_COOKIE\"")
        .replace("[oauth.login.fields]\nemail = \"admin@acme.example\"\npassword_env = \"QA_PASSWORD\"\n", "");
    assert!(with_cookie.contains("kind = \"cookie\"") && !with_cookie.contains("QA_PASSWORD"), "{with_cookie}");
    let cookie_file = dir.join("oauth-cookie-target.toml");
    std::fs::write(&cookie_file, with_cookie).expect("target file");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(["oauth", "flow", "--target", cookie_file.to_str().expect("utf-8")])
        .env("QA_SECRET", apps[0]["client_secret"].as_str().expect("secret"))
        .env("QA2_SECRET", apps[1]["client_secret"].as_str().expect("secret"))
        .env("QA_COOKIE", &cookie)
        .env("IDCONFORM_LOG", "warn")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(!text.contains(cookie.split('=').nth(1).unwrap_or("-")), "the session never printed");
    drop(running);
    let _ = std::fs::remove_file(&db);
}
