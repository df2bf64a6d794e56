//! `idconform serve` as a script would use it: start it, read the demo URL and token it prints, use them, stop it
//! with SIGTERM, and start it again on the same database.

use std::process::Command;

use crate::cli::{Running, spawn_reading};

/// Starts the demo server on `db` with `token`; returns it and its SCIM base URL once it prints the token.
fn start(db: &str, token: &str) -> (Running, String) {
    let args = ["serve", "--demo", "--listen", "127.0.0.1:0", "--db", db];
    let (running, lines) = spawn_reading(&args, &[("IDCONFORM_DEMO_SCIM_TOKEN", token)]);
    let mut base = None;
    for line in lines {
        let line = line.expect("line");
        if let Some(u) = line.strip_prefix("SCIM base URL: ") {
            base = Some(u.trim().to_owned());
        }
        if let Some(t) = line.strip_prefix("SCIM token:") {
            assert_eq!(t.trim(), token, "the printed token is the one from IDCONFORM_DEMO_SCIM_TOKEN");
            break;
        }
    }
    (running, base.expect("the demo prints its SCIM base URL"))
}

fn stop(mut r: Running) {
    let pid = r.0.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    let exit = r.0.wait().expect("wait");
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

#[tokio::test]
async fn demo_serves_scim_and_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("idconform-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let db = dir.join("cli.db");
    let _ = std::fs::remove_file(&db);
    let db = db.to_str().expect("utf-8 path").to_owned();
    let token = "cli-test-token";
    let http = reqwest::Client::new();

    let (running, base) = start(&db, token);
    let r = http
        .post(format!("{}/Users", base))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"cli.user"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 201);
    let spc = http.get(format!("{}/ServiceProviderConfig", base)).send().await.expect("spc");
    assert_eq!(spc.status(), 200);
    stop(running);

    let (running, base) = start(&db, token);
    let r = http
        .get(format!("{}/Users?filter=userName%20eq%20%22cli.user%22", base))
        .bearer_auth(token)
        .send()
        .await
        .expect("get");
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["totalResults"], 1, "the user created before the restart is still there: {body}");
    stop(running);
    let _ = std::fs::remove_dir_all(&dir);
}
