//! A file database keeps everything acknowledged across a restart of the server.

use std::sync::Arc;

use idconform_server::ServerConfig;
use idconform_server::clock::SystemClock;
use serde_json::{Value, json};

#[tokio::test]
async fn file_database_survives_restart() {
    let tmp = std::env::temp_dir().join(format!("idconform-persist-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let db = tmp.join("test.db");
    let db = db.to_str().expect("path").to_owned();
    let _ = std::fs::remove_file(&db);
    let (token, uid) = {
        let state = idconform_server::build_state(ServerConfig::default(), &db, Arc::new(SystemClock)).expect("state");
        let (_, token) = state.scim.ensure_demo(Some("persist-token".into())).await.expect("demo");
        let dir = state.scim.authenticate(&token).expect("auth");
        let proj = idconform_server::scim::project::Projection::default_for(
            idconform_server::scim::schema::ResourceKind::User.def(),
        );
        let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "durable"});
        let r = state
            .scim
            .create(&dir, idconform_server::scim::schema::ResourceKind::User, &body, &proj, "http://x/scim/v2")
            .await
            .expect("create");
        (token, r.body["id"].as_str().unwrap_or_default().to_owned())
    };
    let state = idconform_server::build_state(ServerConfig::default(), &db, Arc::new(SystemClock)).expect("reopen");
    let dir = state.scim.authenticate(&token).expect("token survives");
    let proj = idconform_server::scim::project::Projection::default_for(
        idconform_server::scim::schema::ResourceKind::User.def(),
    );
    let r = state
        .scim
        .get(&dir, idconform_server::scim::schema::ResourceKind::User, &uid, &proj, "http://x/scim/v2")
        .expect("user survives");
    assert_eq!(r.body["userName"], Value::from("durable"));
    let _ = std::fs::remove_dir_all(&tmp);
}

#[tokio::test]
async fn each_demo_start_replaces_the_previous_demo_token() {
    let tmp = std::env::temp_dir().join(format!("idconform-demo-token-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let db = tmp.join("demo.db").to_str().expect("path").to_owned();
    let _ = std::fs::remove_file(&db);
    {
        let state = idconform_server::build_state(ServerConfig::default(), &db, Arc::new(SystemClock)).expect("state");
        state.scim.ensure_demo(Some("first-token".into())).await.expect("demo");
        state.scim.ensure_demo(Some("second-token".into())).await.expect("demo again");
        assert!(state.scim.authenticate("first-token").is_err(), "the earlier demo token stops working at once");
        assert!(state.scim.authenticate("second-token").is_ok());
    }
    let state = idconform_server::build_state(ServerConfig::default(), &db, Arc::new(SystemClock)).expect("reopen");
    assert!(state.scim.authenticate("first-token").is_err(), "and stays revoked after a restart");
    assert!(state.scim.authenticate("second-token").is_ok());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Management state is durable too: members with their password hashes, directories with their settings, tokens
/// with their scopes and revocations, sessions, and the JWT signing key (so admin JWTs survive a restart).
#[tokio::test]
async fn management_state_survives_restart() {
    use idconform_server::admin::Credentials;
    use idconform_server::admin::seed::SeedConfig;
    let tmp = std::env::temp_dir().join(format!("idconform-persist-admin-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let db = tmp.join("admin.db").to_str().expect("path").to_owned();
    let _ = std::fs::remove_file(&db);
    let open = || idconform_server::build_state(ServerConfig::default(), &db, Arc::new(SystemClock)).expect("state");
    let seed = SeedConfig::from_toml(
        "[[workspace]]\nid = \"p\"\nplan = \"enterprise\"\n[[workspace.member]]\nemail = \"o@p.test\"\nrole = \"owner\"\npassword_env = \"PW\"",
    )
    .expect("seed");
    let (jwt, session, read_token, revoked_token) = {
        let state = open();
        state.admin.seed(&seed, |_| Some("pw".into())).await.expect("seed");
        let jwt = state.admin.issue_admin_token("p", "o@p.test", 3600).await.expect("jwt");
        let p = state
            .admin
            .authenticate(&Credentials { bearer: Some(jwt.clone()), ..Default::default() }, true)
            .expect("p");
        let d = state
            .admin
            .create_directory(&p, &json!({"name": "d", "deprovision": "deactivate"}), "b")
            .await
            .expect("dir");
        let t = state
            .admin
            .create_token(&p, &json!({"name": "ro", "directory_id": d.directory.id, "scopes": ["scim:read"]}))
            .await
            .expect("token");
        state.admin.revoke_token(&p, &d.token_id).await.expect("revoke");
        let gone = state.admin.create_directory(&p, &json!({"name": "gone"}), "b").await.expect("dir");
        state.admin.delete_directory(&p, &gone.directory.id).await.expect("delete");
        let login = state.admin.login(&json!({"email": "o@p.test", "password": "pw"})).await.expect("login");
        (jwt, login.session, t.token, d.token)
    };
    let state = open();
    let creds = Credentials { bearer: Some(jwt), ..Default::default() };
    let p = state.admin.authenticate(&creds, true).expect("the JWT verifies with the stored key");
    let dirs = state.admin.list_directories(&p, "b").expect("dirs");
    assert_eq!((dirs.len(), dirs[0].deprovision.as_str()), (1, "deactivate"), "the deleted directory stays deleted");
    assert!(state.scim.authenticate_for(&read_token, "scim:read").is_ok());
    assert!(state.scim.authenticate_for(&read_token, "scim:write").is_err(), "scopes survive");
    assert!(state.scim.authenticate(&revoked_token).is_err(), "revocation survives");
    let s = Credentials { session: Some(session), ..Default::default() };
    assert!(state.admin.authenticate(&s, false).is_ok(), "the session survives");
    assert!(
        state.admin.login(&json!({"email": "o@p.test", "password": "pw"})).await.is_ok(),
        "the password hash survives"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
