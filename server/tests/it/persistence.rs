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
