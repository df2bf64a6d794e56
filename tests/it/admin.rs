//! `idconform serve --config` and `idconform admin-token` as an admin uses them: seed from the example file with
//! secrets in environment variables, get an admin JWT from the CLI, drive the management API with it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/idconform.toml");

#[tokio::test]
async fn serve_config_seeds_and_admin_token_signs() {
    let dir = std::env::temp_dir().join(format!("idconform-cli-admin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let db = dir.join("admin.db");
    let _ = std::fs::remove_file(&db);
    let db = db.to_str().expect("utf-8 path").to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--db", &db, "--config", EXAMPLE])
        .env("ACME_OWNER_PASSWORD", "owner-pw")
        .env("ACME_ADMIN_PASSWORD", "admin-pw")
        .env("ACME_OKTA_SCIM_TOKEN", "okta-token-from-env")
        .env("TINYCO_OWNER_PASSWORD", "tiny-pw")
        .env("IDCONFORM_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn idconform");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let mut base = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(u) = line.strip_prefix("SCIM base URL: ") {
            base = Some(u.trim().trim_end_matches("/scim/v2").to_owned());
        }
        if line.starts_with("configuration applied") {
            break;
        }
    }
    let origin = base.expect("the demo prints its base URL");
    let http = reqwest::Client::new();

    // The directory's token from the environment works on SCIM.
    let r = http.get(format!("{origin}/scim/v2/Users")).bearer_auth("okta-token-from-env").send().await.expect("get");
    assert_eq!(r.status(), 200);

    // admin-token signs with the key the running server created in the same database.
    let out = Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(["admin-token", "--db", &db, "--workspace", "acme", "--email", "admin@acme.example"])
        .env("IDCONFORM_LOG", "warn")
        .output()
        .expect("admin-token");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let jwt = String::from_utf8(out.stdout).expect("utf-8").trim().to_owned();
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
    let out = Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(["admin-token", "--db", &db, "--workspace", "acme", "--email", "nobody@acme.example"])
        .env("IDCONFORM_LOG", "warn")
        .output()
        .expect("admin-token");
    assert_eq!(out.status.code(), Some(2));
    drop(running);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_a_config_whose_secret_is_missing() {
    let out = Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db", ":memory:", "--config", EXAMPLE])
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
