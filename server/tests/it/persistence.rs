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

#[tokio::test]
async fn oauth_apps_codes_and_grants_survive_restart() {
    use idconform_server::admin::seed::SeedConfig;
    use idconform_server::admin::{AuthVia, Principal, Role};
    use idconform_server::oauth::ClientAuth;
    use idconform_server::oauth::rules::Params;
    let tmp = std::env::temp_dir().join(format!("idconform-oauth-persist-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let db = tmp.join("oauth.db").to_str().expect("path").to_owned();
    let _ = std::fs::remove_file(&db);
    let issuer = "https://idconform.test";
    let (client_id, secret, code, refresh) = {
        let state = idconform_server::build_state(ServerConfig::default(), &db, Arc::new(SystemClock)).expect("state");
        let c = SeedConfig::from_toml(
            "[[workspace]]\nid = \"p\"\n[[workspace.member]]\nemail = \"o@p.test\"\nrole = \"owner\"\npassword_env = \"PW\"\n",
        )
        .expect("seed");
        state.admin.seed(&c, |_| Some("pw-pw-pw-pw".into())).await.expect("seed");
        let member = state.scim.members("p").first().expect("member").id.clone();
        let p = Principal { member_id: member, workspace_id: "p".into(), role: Role::Owner, via: AuthVia::Bearer };
        let app = state
            .oauth
            .create_app(&p, &json!({"name": "a", "redirect_uris": ["https://c.test/cb"], "pkce": "optional"}))
            .await
            .expect("app");
        let (id, secret) = (app.app.id.clone(), app.client_secret.clone().expect("secret"));
        let q = Params::parse(&format!("response_type=code&client_id={id}&scope=user.read")).expect("q");
        let v = state.oauth.validate_authorize(&q).expect("valid");
        let url = state.oauth.decide(&p, &v, true, issuer).await;
        let code = url.split("code=").nth(1).and_then(|s| s.split('&').next()).expect("code").to_owned();
        let second = state.oauth.decide(&p, &v, true, issuer).await;
        let code2 = second.split("code=").nth(1).and_then(|s| s.split('&').next()).expect("code").to_owned();
        let auth = ClientAuth { basic: Some((id.clone(), secret.clone())), basic_malformed: false };
        let f = Params::parse(&format!("grant_type=authorization_code&code={code}")).expect("form");
        let t = state.oauth.token(&auth, &f, issuer).await.expect("token");
        (id, secret, (code, code2), t.refresh_token.unwrap_or_default())
    };
    let state = idconform_server::build_state(ServerConfig::default(), &db, Arc::new(SystemClock)).expect("reopen");
    let auth = ClientAuth { basic: Some((client_id, secret)), basic_malformed: false };
    let fresh = Params::parse(&format!("grant_type=authorization_code&code={}", code.1)).expect("form");
    assert!(state.oauth.token(&auth, &fresh, issuer).await.is_ok(), "an unused code survives");
    let f = Params::parse(&format!("grant_type=refresh_token&refresh_token={refresh}")).expect("form");
    let r = state.oauth.token(&auth, &f, issuer).await;
    assert!(r.is_ok(), "the grant survives: {r:?}");
    // The used code stays used: a replay is refused and revokes its grant.
    let used = Params::parse(&format!("grant_type=authorization_code&code={}", code.0)).expect("form");
    assert!(state.oauth.token(&auth, &used, issuer).await.is_err(), "a used code stays used");
    let again = r.ok().and_then(|t| t.refresh_token).unwrap_or_default();
    let f = Params::parse(&format!("grant_type=refresh_token&refresh_token={again}")).expect("form");
    assert!(state.oauth.token(&auth, &f, issuer).await.is_err(), "the replay revoked the grant");
    let _ = std::fs::remove_dir_all(&tmp);
}
