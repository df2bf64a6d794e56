//! Error responses: uniqueness conflicts, missing required attributes, malformed bodies, and the Error schema's
//! format (`status` as a string, `scimType`).

use serde_json::{Value, json};

use super::util::{ERROR_URN, expect_error};
use crate::check;
use crate::check::{Check, Step, ensure};
use crate::http::Request;
use crate::runner::{Ctx, USER_URN, get_ci, json_body, str_at};

/// The error checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! {
            id: "scim.errors.uniqueness",
            title: "A duplicate userName answers 409 with scimType uniqueness",
            spec: ("RFC 7644", "3.3", "If the service provider determines that the creation of the requested resource conflicts with existing resources (e.g., a \"User\" resource with a duplicate \"userName\"), the service provider MUST return HTTP status code 409 (Conflict) with a \"scimType\" error code of \"uniqueness\", as per Section 3.12."),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: uniqueness,
        },
        check! {
            id: "scim.errors.uniqueness-case-insensitive",
            title: "userName uniqueness ignores case (caseExact false)",
            spec: ("RFC 7644", "3.3", "If the service provider determines that the creation of the requested resource conflicts with existing resources (e.g., a \"User\" resource with a duplicate \"userName\"), the service provider MUST return HTTP status code 409 (Conflict) with a \"scimType\" error code of \"uniqueness\", as per Section 3.12."),
            level: Must,
            tags: ["interop", "okta"],
            run: uniqueness_case,
        },
        check! {
            id: "scim.errors.required-missing",
            title: "A User without userName answers 400 with scimType invalidValue",
            spec: ("RFC 7644", "3.12", "invalidValue: A required value was missing, or the value specified was not compatible with the operation or attribute type (see Section 2.2 of [RFC7643]), or resource schema (see Section 4 of [RFC7643])."),
            level: Must,
            tags: ["interop"],
            run: required_missing,
        },
        check! {
            id: "scim.errors.invalid-syntax",
            title: "A malformed JSON body answers 400 with scimType invalidSyntax",
            spec: ("RFC 7644", "3.12", "invalidSyntax: The request body message structure was invalid or did not conform to the request schema."),
            level: Must,
            tags: [],
            run: invalid_syntax,
        },
        check! {
            id: "scim.errors.status-string",
            title: "Error responses carry \"status\" as a JSON string equal to the HTTP status",
            spec: ("RFC 7644", "3.12", "status: The HTTP status code (see Section 6 of [RFC7231]) expressed as a JSON string. REQUIRED."),
            level: Must,
            tags: ["interop"],
            run: status_string,
        },
        check! {
            id: "scim.errors.error-schema",
            title: "Error responses are identified by the Error schema URN",
            spec: ("RFC 7644", "3.12", "Error responses are identified using the following \"schema\" URI: \"urn:ietf:params:scim:api:messages:2.0:Error\"."),
            level: Must,
            tags: ["interop"],
            run: error_schema,
        },
    ]
}

async fn uniqueness(ctx: &Ctx) -> Step {
    let v = ctx.create_user("dup", json!({})).await?;
    let body = json!({"schemas": [USER_URN], "userName": str_at(&v, "userName")});
    let r = ctx.post("/Users", &body).await?;
    if r.status == 201
        && let Some(id) = r.json().as_ref().and_then(|v| str_at(v, "id"))
    {
        ctx.cleanup_later(format!("/Users/{id}"));
    }
    expect_error(&r, 409, Some("uniqueness"), "a second POST /Users with the same userName")
}

async fn uniqueness_case(ctx: &Ctx) -> Step {
    let v = ctx.create_user("dupcase", json!({})).await?;
    let upper = str_at(&v, "userName").unwrap_or("").to_uppercase();
    let r = ctx.post("/Users", &json!({"schemas": [USER_URN], "userName": upper})).await?;
    if r.status == 201
        && let Some(id) = r.json().as_ref().and_then(|v| str_at(v, "id"))
    {
        ctx.cleanup_later(format!("/Users/{id}"));
    }
    expect_error(&r, 409, Some("uniqueness"), "POST /Users with the same userName in upper case")
}

async fn required_missing(ctx: &Ctx) -> Step {
    let r = ctx.post("/Users", &json!({"schemas": [USER_URN], "displayName": ctx.unique("nouser")})).await?;
    if r.status == 201
        && let Some(id) = r.json().as_ref().and_then(|v| str_at(v, "id"))
    {
        ctx.cleanup_later(format!("/Users/{id}"));
    }
    expect_error(&r, 400, Some("invalidValue"), "POST /Users without the required userName")
}

async fn invalid_syntax(ctx: &Ctx) -> Step {
    let r =
        ctx.send(Request::new(reqwest::Method::POST, "/Users").raw(crate::http::SCIM_JSON, "{\"schemas\": [")).await?;
    expect_error(&r, 400, Some("invalidSyntax"), "POST /Users with a truncated JSON body")
}

/// Three different errors, so a server that formats only some of them right is caught.
async fn error_samples(ctx: &Ctx) -> Step<Vec<(crate::http::Response, Value)>> {
    let mut out = Vec::new();
    let not_found = ctx.get(&format!("/Users/{}-missing", ctx.prefix())).await?;
    let bad_filter = ctx.get("/Users?filter=userName%20eq").await?;
    let v = ctx.create_user("errdup", json!({})).await?;
    let conflict = ctx.post("/Users", &json!({"schemas": [USER_URN], "userName": str_at(&v, "userName")})).await?;
    for r in [not_found, bad_filter, conflict] {
        if r.status < 400 {
            continue;
        }
        let body = json_body(&r)?;
        out.push((r, body));
    }
    ensure(!out.is_empty(), "at least one error response to inspect", || "no request produced an error".into())?;
    Ok(out)
}

async fn status_string(ctx: &Ctx) -> Step {
    for (r, body) in error_samples(ctx).await? {
        let status = get_ci(&body, "status");
        let want = r.status.to_string();
        ensure(
            status.and_then(Value::as_str) == Some(want.as_str()),
            format!("\"status\": \"{want}\" (a JSON string) in the error body of {}", r.label()),
            || format!("\"status\": {}", status.map_or_else(|| "absent".to_owned(), Value::to_string)),
        )?;
    }
    Ok(())
}

async fn error_schema(ctx: &Ctx) -> Step {
    for (r, body) in error_samples(ctx).await? {
        let schemas = get_ci(&body, "schemas").and_then(Value::as_array);
        ensure(
            schemas.is_some_and(|a| a.iter().any(|s| s.as_str() == Some(ERROR_URN))),
            format!("\"schemas\": [\"{ERROR_URN}\"] in the error body of {}", r.label()),
            || r.describe(),
        )?;
    }
    Ok(())
}
