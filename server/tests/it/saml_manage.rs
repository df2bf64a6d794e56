//! SAML connection and enforcement management: who may call it, on which plan, how bodies and IdP metadata
//! (hostile ones included) are validated, and enforcement refusing password log-in for the domain.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_support::{Auth, PASSWORD, call, workspace};
use crate::saml_support::{IDP_SLO, IDP_SSO, env, keys};

fn manual(entity_id: &str) -> Value {
    json!({"entity_id": entity_id, "sso_url": IDP_SSO, "certificates": [keys().idp.cert_pem]})
}

fn metadata(entity_id: &str, keys_xml: &str, sso: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    {keys_xml}
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{IDP_SLO}"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    {sso}
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    )
}

fn key_descriptor(usage: Option<&str>, cert_base64: &str) -> String {
    let usage = usage.map(|u| format!(r#" use="{u}""#)).unwrap_or_default();
    format!(
        r#"<md:KeyDescriptor{usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
    )
}

const REDIRECT_SSO: &str = r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.test/sso-post"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/>"#;

#[tokio::test]
async fn every_caller_gets_what_its_role_and_plan_allow() {
    let e = env().await;
    let o = &e.s.origin;
    let free = workspace(&e.s, "free").await;
    let cases: Vec<(&str, Auth, u16, Option<&str>)> = vec![
        ("owner JWT", e.admin(), 201, None),
        ("admin session", e.ws.admin.session(), 201, None),
        ("member session", e.ws.member.session(), 403, Some("forbidden")),
        ("admin session without CSRF", e.ws.admin.no_csrf(), 403, Some("csrf_failed")),
        ("nobody", Auth::None, 401, Some("unauthorized")),
        ("free-plan owner", Auth::Bearer(free.owner_jwt.clone()), 403, Some("plan_required")),
        ("free-plan member", free.member.session(), 403, Some("forbidden")),
    ];
    for (i, (who, auth, status, code)) in cases.into_iter().enumerate() {
        let r = call(o, Method::POST, "/saml/connections", &auth, Some(&manual(&format!("https://idp{i}.test")))).await;
        assert_eq!(r.status.as_u16(), status, "{who}: {}", r.text);
        if let Some(code) = code {
            assert_eq!(r.body["code"], code, "{who}");
        }
        let list = call(o, Method::GET, "/saml/connections", &auth, None).await;
        let expected = if status == 201 || code == Some("csrf_failed") { 200 } else { status };
        assert_eq!(list.status.as_u16(), expected, "{who} lists: {}", list.text);
        let enforce = call(o, Method::GET, "/saml/enforce", &auth, None).await;
        assert_eq!(enforce.status.as_u16(), expected, "{who} reads enforcement: {}", enforce.text);
    }
    let list = call(o, Method::GET, "/saml/connections", &e.admin(), None).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(2), "{}", list.text);
}

#[tokio::test]
async fn a_connection_is_created_read_changed_and_deleted() {
    let e = env().await;
    let o = &e.s.origin;
    let created = call(o, Method::POST, "/saml/connections", &e.admin(), Some(&manual("https://idp.test"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(created.body["entity_id"], "https://idp.test");
    assert_eq!(created.body["sso_binding"], "redirect");
    assert_eq!(created.body["slo_url"], Value::Null);
    assert_eq!(created.body["allow_sha1"], false);
    assert_eq!(created.body["allow_idp_initiated"], false);
    assert_eq!(created.body["sp"]["acs_url"], format!("{o}/saml/callback"));
    assert_eq!(created.body["sp"]["entity_id"], format!("{o}/saml/metadata/{}", e.ws.id));
    let fp = created.body["certificates"][0]["sha256_fingerprint"].as_str().expect("fingerprint");
    assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");

    let dup = call(o, Method::POST, "/saml/connections", &e.admin(), Some(&manual("https://idp.test"))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.text);

    let path = format!("/saml/connections/{id}");
    let patched = call(
        o,
        Method::PATCH,
        &path,
        &e.admin(),
        Some(&json!({"slo_url": IDP_SLO, "allow_sha1": true, "certificates": [keys().idp.cert_pem, keys().other.cert_pem]})),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["slo_url"], IDP_SLO);
    assert_eq!(patched.body["allow_sha1"], true);
    assert_eq!(patched.body["certificates"].as_array().map(Vec::len), Some(2));
    let cleared = call(o, Method::PATCH, &path, &e.admin(), Some(&json!({"slo_url": null}))).await;
    assert_eq!(cleared.body["slo_url"], Value::Null, "{}", cleared.text);
    assert_eq!(call(o, Method::GET, &path, &e.admin(), None).await.body["allow_sha1"], true);

    // Another workspace's connection is not found, for reads and writes alike.
    let other = workspace(&e.s, "enterprise").await;
    let theirs = Auth::Bearer(other.owner_jwt.clone());
    for (m, body) in [(Method::GET, None), (Method::PATCH, Some(json!({"allow_sha1": false}))), (Method::DELETE, None)]
    {
        let r = call(o, m.clone(), &path, &theirs, body.as_ref()).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m}: {}", r.text);
    }

    assert_eq!(call(o, Method::DELETE, &path, &e.admin(), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(o, Method::GET, &path, &e.admin(), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_bodies_are_422_naming_each_field() {
    let e = env().await;
    let o = &e.s.origin;
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("empty", json!({}), vec!["entity_id", "sso_url", "certificates"]),
        (
            "bad values",
            json!({"entity_id": "x", "sso_url": "ftp://idp", "slo_url": "/relative", "certificates": ["not a pem"], "allow_sha1": "yes"}),
            vec!["sso_url", "slo_url", "certificates", "allow_sha1"],
        ),
        (
            "unknown field",
            json!({"entity_id": "x", "sso_url": IDP_SSO, "certificates": [keys().idp.cert_pem], "acs": 1}),
            vec!["acs"],
        ),
        ("both forms", json!({"metadata_xml": "<x/>", "entity_id": "x"}), vec!["metadata_xml"]),
        ("no certificate", json!({"entity_id": "x", "sso_url": IDP_SSO, "certificates": []}), vec!["certificates"]),
    ];
    for (name, body, fields) in cases {
        let r = call(o, Method::POST, "/saml/connections", &e.admin(), Some(&body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.text);
        let locs: Vec<String> = r.body["detail"]
            .as_array()
            .expect("detail list")
            .iter()
            .filter_map(|d| d["loc"][1].as_str().map(String::from))
            .collect();
        for f in fields {
            assert!(locs.iter().any(|l| l == f), "{name}: {f} not in {locs:?}");
        }
    }
    let not_json = call(o, Method::POST, "/saml/connections", &e.admin(), None).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST, "{}", not_json.text);
}

#[tokio::test]
async fn idp_metadata_is_read_into_a_connection() {
    let e = env().await;
    let keys_xml = format!(
        "{}{}",
        key_descriptor(Some("encryption"), &keys().attacker.cert_base64()),
        key_descriptor(Some("signing"), &keys().idp.cert_base64()),
    );
    let xml = metadata("https://idp.example.test/metadata", &keys_xml, REDIRECT_SSO);
    let r = call(&e.s.origin, Method::POST, "/saml/connections", &e.admin(), Some(&json!({"metadata_xml": xml}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["entity_id"], "https://idp.example.test/metadata");
    assert_eq!(r.body["sso_url"], IDP_SSO, "HTTP-Redirect is preferred");
    assert_eq!(r.body["sso_binding"], "redirect");
    assert_eq!(r.body["slo_url"], IDP_SLO);
    let certs = r.body["certificates"].as_array().expect("certificates");
    assert_eq!(certs.len(), 1, "the encryption key is not a signing key");
    assert!(certs[0]["pem"].as_str().is_some_and(|p| p.contains("BEGIN CERTIFICATE")));
    assert!(certs[0]["subject"].as_str().is_some_and(|s| s.contains("idp.example.test")), "{}", r.text);

    // A KeyDescriptor without `use` signs too (SAML Metadata §2.4.1.1); POST-only SSO is kept with its binding.
    let post_only = r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp2.example.test/sso"/>"#;
    let xml = metadata("https://idp2.example.test", &key_descriptor(None, &keys().other.cert_base64()), post_only);
    let r = call(&e.s.origin, Method::POST, "/saml/connections", &e.admin(), Some(&json!({"metadata_xml": xml}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["sso_binding"], "post");
}

#[tokio::test]
async fn hostile_or_useless_metadata_is_refused() {
    let e = env().await;
    let signing = key_descriptor(Some("signing"), &keys().idp.cert_base64());
    let good = metadata("https://idp.test", &signing, REDIRECT_SSO);
    let doctype = good.replacen(
        "<md:EntityDescriptor",
        "<!DOCTYPE md:EntityDescriptor [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><md:EntityDescriptor",
        1,
    );
    let padding = format!("<!--{}-->", "x".repeat(300 * 1024));
    let cases: Vec<(&str, String, &str)> = vec![
        ("DOCTYPE", doctype, "DOCTYPE"),
        ("oversized", format!("{good}{padding}"), "larger than"),
        (
            "no signing certificate",
            metadata("https://idp.test", &key_descriptor(Some("encryption"), &keys().idp.cert_base64()), REDIRECT_SSO),
            "no signing certificate",
        ),
        ("no SSO service", metadata("https://idp.test", &signing, ""), "SingleSignOnService"),
        (
            "garbage certificate",
            metadata("https://idp.test", &key_descriptor(Some("signing"), "bm90IGEgY2VydA=="), REDIRECT_SSO),
            "certificate",
        ),
        ("not XML", "<md:EntityDescriptor".into(), "malformed"),
        ("an SP's metadata", good.replace("IDPSSODescriptor", "SPSSODescriptor"), "IDPSSODescriptor"),
        ("no entityID", good.replace("entityID=\"https://idp.test\"", ""), "entityID"),
    ];
    for (name, xml, reason) in cases {
        let r =
            call(&e.s.origin, Method::POST, "/saml/connections", &e.admin(), Some(&json!({"metadata_xml": xml}))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", r.text);
        assert_eq!(r.body["detail"][0]["loc"], json!(["body", "metadata_xml"]), "{name}");
        let msg = r.body["detail"][0]["msg"].as_str().unwrap_or_default();
        assert!(msg.contains(reason), "{name}: {msg:?} should mention {reason:?}");
    }
    let list = call(&e.s.origin, Method::GET, "/saml/connections", &e.admin(), None).await;
    assert_eq!(list.body["items"], json!([]), "nothing was written");
}

#[tokio::test]
async fn enforcement_needs_a_corporate_domain_and_a_connection_and_blocks_password_log_in() {
    let e = env().await;
    let o = &e.s.origin;
    let domain = e.ws.member.email.split_once('@').map(|(_, d)| d.to_owned()).expect("domain");
    let patch = |body: Value| call(o, Method::PATCH, "/saml/enforce", &e.admin(), Some(&body));

    let r = patch(json!({"enforced": true})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no domain: {}", r.text);
    for public in ["gmail.com", "Outlook.com", "proton.me", "@yahoo.com"] {
        let r = patch(json!({"enforced": true, "domains": [public]})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{public}: {}", r.text);
        assert_eq!(r.body["detail"][0]["type"], "public_domain", "{public}");
    }
    let r = patch(json!({"enforced": true, "domains": ["not a domain"]})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let r = patch(json!({"enforced": true, "domains": [domain]})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "no connection yet: {}", r.text);
    let r = call(o, Method::PATCH, "/saml/enforce", &e.ws.member.session(), Some(&json!({"enforced": false}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // Before enforcement, password log-in works.
    let login = json!({"email": e.ws.member.email, "password": PASSWORD, "workspace_id": e.ws.id});
    assert_eq!(call(o, Method::POST, "/api/v1/session", &Auth::None, Some(&login)).await.status, StatusCode::OK);

    let conn = e.connection(&e.ws, "https://idp.test", &keys().idp).await;
    let r = patch(json!({"enforced": true, "domains": [domain.to_uppercase()]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["enforced"], true);
    assert_eq!(r.body["domains"], json!([domain]));

    for body in [login.clone(), json!({"email": e.ws.member.email, "password": "wrong"})] {
        let r = call(o, Method::POST, "/api/v1/session", &Auth::None, Some(&body)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert_eq!(r.body["code"], "sso_required");
        assert!(r.body["detail"].as_str().is_some_and(|d| d.contains(&format!("/saml/authorize/{}", e.ws.id))));
    }
    let check = call(o, Method::GET, &format!("/saml/check?email={}", e.ws.member.email), &Auth::None, None).await;
    assert_eq!(check.body["sso"], true, "{}", check.text);
    assert_eq!(check.body["workspace_id"], e.ws.id.as_str());
    assert_eq!(check.body["authorize_url"], format!("{o}/saml/authorize/{}", e.ws.id));
    let check = call(o, Method::GET, "/saml/check?email=someone@elsewhere.test", &Auth::None, None).await;
    assert_eq!(check.body, json!({"sso": false, "workspace_id": null, "authorize_url": null}));
    let missing = call(o, Method::GET, "/saml/check", &Auth::None, None).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", missing.text);

    // Another workspace cannot enforce the same domain; the last connection cannot go while enforced.
    let other = workspace(&e.s, "enterprise").await;
    e.connection(&other, "https://idp.test", &keys().idp).await;
    let r = call(
        o,
        Method::PATCH,
        "/saml/enforce",
        &Auth::Bearer(other.owner_jwt.clone()),
        Some(&json!({"enforced": true, "domains": [domain]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let path = format!("/saml/connections/{}", conn["id"].as_str().expect("id"));
    assert_eq!(call(o, Method::DELETE, &path, &e.admin(), None).await.status, StatusCode::CONFLICT);

    // Stopping enforcement restores password log-in.
    assert_eq!(patch(json!({"enforced": false})).await.status, StatusCode::OK);
    assert_eq!(call(o, Method::POST, "/api/v1/session", &Auth::None, Some(&login)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn connections_and_enforcement_survive_a_restart() {
    use idconform_server::admin::seed::SeedConfig;
    use idconform_server::admin::{AuthVia, Principal, Role};
    use idconform_server::clock::SystemClock;
    use std::sync::Arc;

    let tmp = std::env::temp_dir().join(format!("idconform-saml-persist-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("tmp");
    let db = tmp.join("saml.db").to_str().expect("path").to_owned();
    let _ = std::fs::remove_file(&db);
    let open = || idconform_server::build_state(Default::default(), &db, Arc::new(SystemClock)).expect("state");
    let p = Principal { member_id: "m".into(), workspace_id: "acme".into(), role: Role::Owner, via: AuthVia::Bearer };
    let created = {
        let state = open();
        let seed = SeedConfig::from_toml(
            "[[workspace]]\nid = \"acme\"\nplan = \"enterprise\"\n[[workspace.member]]\nemail = \"o@acme.test\"\nrole = \"owner\"\npassword_env = \"PW\"\n",
        )
        .expect("seed");
        state.admin.seed(&seed, |_| Some(PASSWORD.to_owned())).await.expect("seeded");
        let c = state.saml.create_connection(&p, &manual("https://idp.acme.test"), "http://x").await.expect("created");
        state
            .saml
            .update_enforcement(&p, &json!({"enforced": true, "domains": ["acme.test"]}))
            .await
            .expect("enforced");
        c
    };
    let state = open();
    let list = state.saml.list_connections(&p, "http://x").expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, created.id);
    assert_eq!(list[0].certificates[0].pem, created.certificates[0].pem);
    let enforce = state.saml.enforcement(&p).expect("enforcement");
    assert!(enforce.enforced);
    assert_eq!(enforce.domains, vec!["acme.test".to_owned()]);
    let _ = std::fs::remove_dir_all(&tmp);
}
