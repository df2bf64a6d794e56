//! Versioning with ETags (RFC 7644 §3.14), when the target advertises `etag.supported`.

use serde_json::{Value, json};

use super::util::{fetch, user_path};
use crate::check;
use crate::check::{Check, Step, ensure, fail};
use crate::http::Request;
use crate::runner::{Ctx, expect_status, path_at, str_at};

const NOT_MODIFIED: &str = "If the resource has not changed, the service provider simply returns an empty body with a 304 (Not Modified) response code.";
const IF_MATCH: &str = "An origin server MUST NOT perform the requested method if a received If-Match condition evaluates to false; instead, the origin server MUST respond with either: a) the 412 (Precondition Failed) status code or b) one of the 2xx (Successful) status codes if the origin server has verified that a state change is being requested and the final state is already reflected in the current state of the target resource";

/// The ETag checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! { id: "scim.etag.header", title: "GET returns an ETag header equal to meta.version", spec: ("RFC 7643", "3.1", "version: The version of the resource being returned. This value must be the same as the entity-tag (ETag) HTTP response header (see Sections 2.1 and 2.3 of [RFC7232])."), level: Must, tags: [], run: header },
        check! { id: "scim.etag.if-none-match", title: "If-None-Match with the current ETag answers 304", spec: ("RFC 7644", "3.14", NOT_MODIFIED), level: Should, tags: [], run: if_none_match },
        check! { id: "scim.etag.if-match-stale", title: "If-Match with a stale ETag answers 412 and changes nothing", spec: ("RFC 7232", "3.1", IF_MATCH), level: Must, tags: [], run: if_match_stale },
        check! { id: "scim.etag.if-match-current", title: "If-Match with the current ETag applies the change and a new ETag follows", spec: ("RFC 7232", "3.1", IF_MATCH), level: Must, tags: [], run: if_match_current },
    ]
}

/// Creates a user and GETs it, returning (path, ETag header).
async fn versioned(ctx: &Ctx) -> Step<(String, String, Value)> {
    ctx.discovery.require("etag")?;
    let v = ctx.create_user("etag", json!({"displayName": "Versioned"})).await?;
    let path = user_path(&v);
    let r = ctx.get(&path).await?;
    expect_status(&r, 200, "GET of the new user answers 200")?;
    let body = crate::runner::json_body(&r)?;
    let etag = r.header("etag").map(str::to_owned).ok_or_else(|| {
        fail(
            "an ETag header on GET (etag.supported is true)",
            format!("no ETag header; meta.version = {:?}", path_at(&body, "meta.version")),
        )
    })?;
    Ok((path, etag, body))
}

async fn header(ctx: &Ctx) -> Step {
    let (_, etag, body) = versioned(ctx).await?;
    let version = path_at(&body, "meta.version").and_then(Value::as_str);
    ensure(version == Some(etag.as_str()), "meta.version equal to the ETag header", || {
        format!("ETag: {etag}, meta.version: {version:?}")
    })
}

async fn if_none_match(ctx: &Ctx) -> Step {
    let (path, etag, _) = versioned(ctx).await?;
    let r = ctx.send(Request::new(reqwest::Method::GET, &path).header("If-None-Match", etag.clone())).await?;
    expect_status(&r, 304, &format!("GET with If-None-Match: {etag} answers 304 Not Modified"))
}

async fn if_match_stale(ctx: &Ctx) -> Step {
    let (path, _, _) = versioned(ctx).await?;
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "Stale write"}]});
    let r = ctx
        .send(Request::new(reqwest::Method::PATCH, &path).json(&ops).header("If-Match", "W/\"idconform-stale\""))
        .await?;
    expect_status(&r, 412, "PATCH with If-Match: W/\"idconform-stale\" answers 412 Precondition Failed")?;
    let got = fetch(ctx, &path).await?;
    ensure(str_at(&got, "displayName") == Some("Versioned"), "displayName unchanged after the refused PATCH", || {
        got.to_string()
    })
}

async fn if_match_current(ctx: &Ctx) -> Step {
    let (path, etag, _) = versioned(ctx).await?;
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "Current write"}]});
    let r = ctx.send(Request::new(reqwest::Method::PATCH, &path).json(&ops).header("If-Match", etag.clone())).await?;
    ensure(r.status == 200 || r.status == 204, format!("PATCH with If-Match: {etag} (current) to succeed"), || {
        r.summary()
    })?;
    let r2 = ctx.get(&path).await?;
    expect_status(&r2, 200, "GET after the PATCH answers 200")?;
    let new = r2.header("etag").unwrap_or("");
    ensure(!new.is_empty() && new != etag, "a new ETag after the change", || {
        format!("ETag before {etag}, after {new:?}")
    })
}
