//! Connections from a `metadata_url`: a wiremock IdP on 127.0.0.1 serves the metadata. By default the loopback
//! address is refused before anything is connected to; with the switch for private addresses it is fetched,
//! within the size and time limits, and every redirect is checked again. The time limit is a short one configured
//! for the test, against wiremock's response delay and against a bare server that stops sending mid-body (the
//! server under test runs on its own runtime, so a paused tokio clock in the test would not reach it); no test
//! sleeps. A chunked body without Content-Length shows the size cap is counted while the body streams.

use std::time::Duration;

use idconform_server::ServerConfig;
use idconform_server::saml::fetch::MetadataFetchConfig;
use idconform_server::saml::service::SamlConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::admin_support::call;
use crate::saml_support::{Env, IDP_SLO, env, env_with, keys};
use crate::support::Resp;

const ENTITY: &str = "https://idp.example.test/metadata";
const SLO_POST: &str = "https://idp.example.test/slo-post";

fn metadata(cert_base64: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{ENTITY}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{IDP_SLO}"/><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{SLO_POST}"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.test/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
    )
}

fn config(allow_private_addresses: bool, timeout: Duration) -> ServerConfig {
    ServerConfig {
        saml: SamlConfig {
            metadata_fetch: MetadataFetchConfig {
                allow_http: true,
                allow_private_addresses,
                timeout,
                ..MetadataFetchConfig::default()
            },
            ..SamlConfig::default()
        },
        ..ServerConfig::default()
    }
}

async fn serve(server: &MockServer, at: &str, response: ResponseTemplate) {
    Mock::given(method("GET")).and(path(at)).respond_with(response).mount(server).await;
}

fn xml(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body, "application/samlmetadata+xml")
}

async fn create(e: &Env, body: Value) -> Resp {
    call(&e.s.origin, Method::POST, "/saml/connections", &e.admin(), Some(&body)).await
}

/// Asserts a 400 whose code names the refusal and whose detail mentions `reason`.
fn assert_refused(r: &Resp, code: &str, reason: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{code}: {}", r.text);
    assert_eq!(r.body["code"], code, "{}", r.text);
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(reason), "{code}: {detail:?} should mention {reason:?}");
}

async fn assert_nothing_written(e: &Env) {
    let list = call(&e.s.origin, Method::GET, "/saml/connections", &e.admin(), None).await;
    assert_eq!(list.body["items"], json!([]), "nothing was written: {}", list.text);
}

#[tokio::test]
async fn by_default_only_https_and_public_addresses_are_fetched() {
    let idp = MockServer::start().await;
    // Never asked: the refusals happen before any connection.
    Mock::given(method("GET")).respond_with(xml(metadata(&keys().idp.cert_base64()))).expect(0).mount(&idp).await;
    let port = idp.address().port();

    let strict = env().await;
    let r = create(&strict, json!({"metadata_url": format!("http://127.0.0.1:{port}/md")})).await;
    assert_refused(&r, "metadata_url_scheme", "https");
    let r = create(&strict, json!({"metadata_url": "https://127.0.0.1/md"})).await;
    assert_refused(&r, "metadata_url_address", "loopback");
    for (url, class) in [
        ("https://10.1.2.3/md", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://100.64.0.1/md", "shared"),
        ("https://[fd00::1]/md", "unique-local"),
        ("https://[::ffff:127.0.0.1]/md", "loopback"),
        ("https://0.0.0.0/md", "unspecified"),
    ] {
        let r = create(&strict, json!({"metadata_url": url})).await;
        assert_refused(&r, "metadata_url_address", class);
    }
    assert_nothing_written(&strict).await;

    // http allowed, private addresses not: the literal loopback address, and a name that resolves to it.
    let e = env_with(config(false, Duration::from_secs(10))).await;
    let r = create(&e, json!({"metadata_url": format!("http://127.0.0.1:{port}/md")})).await;
    assert_refused(&r, "metadata_url_address", "127.0.0.1 is a loopback address");
    let r = create(&e, json!({"metadata_url": format!("http://localhost:{port}/md")})).await;
    assert_refused(&r, "metadata_url_address", "localhost resolves to ");
    assert!(r.text.contains("a loopback address"), "{}", r.text);
    assert_nothing_written(&e).await;

    // The URL itself is validated like every other URL field (422).
    let r = create(&e, json!({"metadata_url": "not a url"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "metadata_url"]));
    let r = create(&e, json!({"metadata_url": "https://idp.example.test/md", "metadata_xml": "<x/>"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "both sources: {}", r.text);
}

#[tokio::test]
async fn with_the_switch_a_local_idp_s_metadata_makes_a_connection_that_refreshes() {
    let idp = MockServer::start().await;
    serve(&idp, "/md", xml(metadata(&keys().idp.cert_base64()))).await;
    let url = format!("{}/md", idp.uri());
    let e = env_with(config(true, Duration::from_secs(10))).await;

    let r = create(&e, json!({"metadata_url": url})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["entity_id"], ENTITY);
    assert_eq!(r.body["metadata_url"], url.as_str());
    assert_eq!(r.body["slo_url"], IDP_SLO);
    assert_eq!(r.body["slo_post_url"], SLO_POST);
    let subject = |r: &Resp| r.body["certificates"][0]["subject"].as_str().unwrap_or_default().to_owned();
    assert!(subject(&r).contains("CN=idp.example.test"), "{}", r.text);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let at = format!("/saml/connections/{id}");
    let got = call(&e.s.origin, Method::GET, &at, &e.admin(), None).await;
    assert_eq!(got.body["metadata_url"], url.as_str(), "GET shows it");

    // A key rollover at the IdP: refreshing fetches the stored URL again.
    idp.reset().await;
    serve(&idp, "/md", xml(metadata(&keys().other.cert_base64()))).await;
    let r = call(&e.s.origin, Method::PATCH, &at, &e.admin(), Some(&json!({"refresh_metadata": true}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(subject(&r).contains("CN=other-idp.example.test"), "{}", r.text);
    assert_eq!(r.body["metadata_url"], url.as_str());

    // A refresh that fails changes nothing.
    idp.reset().await;
    serve(&idp, "/md", ResponseTemplate::new(503)).await;
    let r = call(&e.s.origin, Method::PATCH, &at, &e.admin(), Some(&json!({"refresh_metadata": true}))).await;
    assert_refused(&r, "metadata_url_status", "503");
    let got = call(&e.s.origin, Method::GET, &at, &e.admin(), None).await;
    assert!(subject(&got).contains("CN=other-idp.example.test"), "{}", got.text);

    // Options leave the URL; fields typed by hand, or null, forget it, and there is nothing left to refresh.
    let r = call(&e.s.origin, Method::PATCH, &at, &e.admin(), Some(&json!({"allow_sha1": true}))).await;
    assert_eq!(r.body["metadata_url"], url.as_str(), "{}", r.text);
    let r = call(&e.s.origin, Method::PATCH, &at, &e.admin(), Some(&json!({"metadata_url": null}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["metadata_url"], Value::Null);
    let r = call(&e.s.origin, Method::PATCH, &at, &e.admin(), Some(&json!({"refresh_metadata": true}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "refresh_metadata"]));
    let r = create(&e, json!({"refresh_metadata": true, "metadata_url": url})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "no refresh on create: {}", r.text);
}

#[tokio::test]
async fn oversized_failing_and_redirected_metadata_is_refused_and_nothing_is_written() {
    let idp = MockServer::start().await;
    let good = metadata(&keys().idp.cert_base64());
    let padding = format!("<!--{}-->", "x".repeat(300 * 1024));
    serve(&idp, "/big", xml(format!("{good}{padding}"))).await;
    let doctype = good.replacen("<md:EntityDescriptor", "<!DOCTYPE md:EntityDescriptor []><md:EntityDescriptor", 1);
    serve(&idp, "/doctype", xml(doctype)).await;
    serve(&idp, "/missing", ResponseTemplate::new(404)).await;
    let to = |location: String| ResponseTemplate::new(302).insert_header("location", location.as_str());
    serve(&idp, "/loop", to(format!("{}/loop", idp.uri()))).await;
    serve(&idp, "/hop", to(format!("{}/md", idp.uri()))).await;
    serve(&idp, "/md", xml(good.clone())).await;
    serve(&idp, "/to-cloud-metadata", to("http://169.254.169.254/latest/meta-data/".into())).await;
    serve(&idp, "/to-mapped", to("http://[::ffff:a9fe:a9fe]/".into())).await;
    serve(&idp, "/to-ftp", to("ftp://idp.example.test/md".into())).await;
    let e = env_with(config(true, Duration::from_secs(10))).await;
    let url = |p: &str| json!({"metadata_url": format!("{}{p}", idp.uri())});

    assert_refused(&create(&e, url("/big")).await, "metadata_too_large", "262144 bytes");
    assert_refused(&create(&e, url("/missing")).await, "metadata_url_status", "404");
    assert_refused(&create(&e, url("/loop")).await, "metadata_url_redirects", "more than 3 redirects");
    assert_refused(
        &create(&e, url("/to-cloud-metadata")).await,
        "metadata_url_address",
        "169.254.169.254 is a link-local",
    );
    assert_refused(&create(&e, url("/to-mapped")).await, "metadata_url_address", "link-local");
    assert_refused(&create(&e, url("/to-ftp")).await, "metadata_url_scheme", "ftp://");
    // The document goes through the strict parse of pasted metadata: a 422 on the field it came from.
    let r = create(&e, url("/doctype")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["detail"][0]["loc"], json!(["body", "metadata_url"]));
    assert!(r.text.contains("DOCTYPE"), "{}", r.text);
    assert_nothing_written(&e).await;

    // A redirect to an allowed address is followed.
    let r = create(&e, url("/hop")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["metadata_url"], format!("{}/hop", idp.uri()));
}

#[tokio::test]
async fn a_slow_idp_is_cut_off_at_the_time_limit() {
    let idp = MockServer::start().await;
    serve(&idp, "/slow", xml(metadata(&keys().idp.cert_base64())).set_delay(Duration::from_secs(30))).await;
    let e = env_with(config(true, Duration::from_millis(300))).await;
    let started = std::time::Instant::now();
    let r = create(&e, json!({"metadata_url": format!("{}/slow", idp.uri())})).await;
    assert_refused(&r, "metadata_url_timeout", "300 ms");
    assert!(started.elapsed() < Duration::from_secs(20), "the limit, not the IdP, ended it");
    assert_nothing_written(&e).await;
}

/// A bare HTTP/1.1 server on 127.0.0.1 whose every answer is a chunked 200: `chunks` of metadata-sized padding,
/// then, if `finish`, the end of the body; if not, it holds the connection open, sending nothing more, until the
/// client gives up. Without a Content-Length, only a cap counted while the body streams can stop a large one.
async fn chunked_server(chunks: usize, finish: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/xml\r\ntransfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "x".repeat(16 * 1024));
                for _ in 0..chunks {
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                if finish {
                    let _ = socket.write_all(b"0\r\n\r\n").await;
                } else {
                    // Nothing more: the client's time limit has to end it.
                    while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
                }
            });
        }
    });
    origin
}

#[tokio::test]
async fn the_body_cap_holds_while_streaming_and_a_stalled_body_hits_the_time_limit() {
    let e = env_with(config(true, Duration::from_millis(500))).await;
    // 20 chunks of 16 KiB (320 KiB), no Content-Length.
    let big = chunked_server(20, true).await;
    let r = create(&e, json!({"metadata_url": format!("{big}/md")})).await;
    assert_refused(&r, "metadata_too_large", "262144 bytes");
    // The headers and a first chunk arrive at once; the rest of the body never does.
    let stalled = chunked_server(1, false).await;
    let r = create(&e, json!({"metadata_url": format!("{stalled}/md")})).await;
    assert_refused(&r, "metadata_url_timeout", "500 ms");
    assert_nothing_written(&e).await;
}
