//! `idconform serve --config` and `idconform admin-token` as an admin uses them: seed from the example file with
//! secrets in environment variables, get an admin JWT from the CLI, drive the management API with it.

use crate::cli::{admin_token, scratch_db, serve_example};

#[tokio::test]
async fn serve_config_seeds_and_admin_token_signs() {
    let db = scratch_db("admin");
    let (running, origin) = serve_example(&db);
    let http = reqwest::Client::new();

    // The directory's token from the environment works on SCIM.
    let r = http.get(format!("{origin}/scim/v2/Users")).bearer_auth("okta-token-from-env").send().await.expect("get");
    assert_eq!(r.status(), 200);

    // admin-token signs with the key the running server created in the same database.
    let jwt = admin_token(&db, "admin@acme.example");
    assert_eq!(jwt.split('.').count(), 3, "a JWS compact serialisation: {jwt}");
    let r = http.get(format!("{origin}/scim/directories")).bearer_auth(&jwt).send().await.expect("get");
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.expect("json");
    // The demo directory (`--demo`) lives in the same workspace `acme`; the configured one is beside it.
    let okta = body["items"].as_array().and_then(|a| a.iter().find(|d| d["id"] == "acme-okta")).expect("acme-okta");
    assert_eq!(okta["deprovision"], "deactivate", "{body}");

    // The seeded password logs in; the free workspace's owner gets 403 on SCIM management.
    let r = http
        .post(format!("{origin}/api/v1/session"))
        .json(&serde_json::json!({"email": "founder@tinyco.example", "password": "tiny-pw"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_owned();
    let r = http.get(format!("{origin}/scim/directories")).header("cookie", cookie).send().await.expect("get");
    assert_eq!(r.status(), 403);

    // A member who is not an admin gets no admin token; usage errors exit 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(["admin-token", "--db", &db, "--workspace", "acme", "--email", "nobody@acme.example"])
        .env("IDCONFORM_LOG", "warn")
        .output()
        .expect("admin-token");
    assert_eq!(out.status.code(), Some(2));
    drop(running);
    let _ = std::fs::remove_file(&db);
}

#[test]
fn serve_refuses_a_config_whose_secret_is_missing() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", ":memory:", "--config", crate::cli::EXAMPLE_CONFIG])
        .env_remove("ACME_OWNER_PASSWORD")
        .env("IDCONFORM_LOG", "warn")
        .output()
        .expect("serve");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ACME_OWNER_PASSWORD"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
