//! Authentication and protocol basics: requests without a valid bearer token are refused with a Bearer challenge,
//! responses use the SCIM media type, and a credential of another tenant cannot reach this tenant's resources.

use reqwest::Method;

use crate::check;
use serde_json::json;

use crate::check::{Check, Step, ensure, fail, skip};
use crate::http::{Request, Response, SCIM_JSON};
use crate::runner::{Ctx, expect_status, json_body, str_at};

/// The auth checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! {
            id: "scim.auth.missing-token",
            title: "A request without a token is refused with 401",
            spec: ("RFC 7644", "3.12", "401 Unauthorized: Authorization failure. The authorization header is invalid or missing."),
            level: Must,
            tags: ["interop", "okta", "entra", "security"],
            run: missing_token,
        },
        check! {
            id: "scim.auth.wrong-token",
            title: "A request with an unknown bearer token is refused with 401",
            spec: ("RFC 6750", "3.1", "invalid_token: The access token provided is expired, revoked, malformed, or invalid for other reasons. The resource SHOULD respond with the HTTP 401 (Unauthorized) status code."),
            level: Must,
            tags: ["interop", "security"],
            run: wrong_token,
        },
        check! {
            id: "scim.auth.www-authenticate",
            title: "A 401 carries a WWW-Authenticate: Bearer challenge",
            spec: ("RFC 6750", "3", "If the protected resource request does not include authentication credentials or does not contain an access token that enables access to the protected resource, the resource server MUST include the HTTP \"WWW-Authenticate\" response header field"),
            level: Must,
            tags: ["security"],
            run: www_authenticate,
        },
        check! {
            id: "scim.auth.content-type",
            title: "Responses to Accept: application/scim+json are labelled application/scim+json",
            spec: ("RFC 7644", "3.8", "Service providers MUST support the \"Accept\" header \"Accept: application/scim+json\" and SHOULD support the header \"Accept: application/json\""),
            level: Must,
            tags: ["interop"],
            run: content_type,
        },
        // RFC 7644 §6 describes tenancy without a normative keyword (SCIM "does not define a scheme for
        // multi-tenancy"). The level MUST is the project's reading: once the operator declares that two credentials
        // belong to different tenants, a service that lets one reach the other's resources breaks the isolation the
        // section describes, and the §7 security considerations make access control the service provider's duty.
        check! {
            id: "scim.auth.other-tenant",
            title: "Another tenant's credential can neither read, find, change nor delete this tenant's resources",
            spec: ("RFC 7644", "6", "Alternatively, clients may expect to access disjoint sets of resources and may expect that their resources are inaccessible to other clients."),
            level: Must,
            tags: ["security"],
            run: other_tenant,
        },
    ]
}

async fn missing_token(ctx: &Ctx) -> Step {
    let r = ctx.send(Request::new(Method::GET, "/Users?count=1").without_auth()).await?;
    expect_status(&r, 401, "GET /Users without an Authorization header is refused")
}

async fn wrong_token(ctx: &Ctx) -> Step {
    let bogus = format!("idconform-invalid-{}", ctx.prefix());
    let r = ctx.send(Request::new(Method::GET, "/Users?count=1").with_token(bogus)).await?;
    expect_status(&r, 401, "GET /Users with an unknown bearer token is refused")
}

async fn www_authenticate(ctx: &Ctx) -> Step {
    // RFC 6750 §3: the challenge is due both when credentials are missing and when the token does not grant access.
    let probes = [
        (Request::new(Method::GET, "/Users?count=1").without_auth(), "without a token"),
        (
            Request::new(Method::GET, "/Users?count=1").with_token(format!("{}-not-a-token", ctx.prefix())),
            "with a wrong token",
        ),
    ];
    for (req, how) in probes {
        let r = ctx.send(req).await?;
        expect_status(&r, 401, &format!("GET /Users {how} answers 401"))?;
        let h = r.header("www-authenticate");
        ensure(
            h.is_some_and(|h| h.trim_start().to_ascii_lowercase().starts_with("bearer")),
            format!("a WWW-Authenticate header with the Bearer scheme on the 401 {how}"),
            || h.map_or_else(|| "no WWW-Authenticate header".to_owned(), |h| format!("WWW-Authenticate: {h}")),
        )?;
    }
    Ok(())
}

async fn content_type(ctx: &Ctx) -> Step {
    let user = ctx.create_user("ct", serde_json::json!({})).await?;
    let path = super::util::user_path(&user);
    let probes = [(path.clone(), "a resource"), (format!("/Users/{}-missing", ctx.prefix()), "an error")];
    for (p, what) in probes {
        let r = ctx.send(Request::new(Method::GET, &p).header("Accept", SCIM_JSON)).await?;
        let ct = r.header("content-type").unwrap_or("");
        let media = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if media != SCIM_JSON {
            return Err(fail(
                format!("Content-Type: {SCIM_JSON} on {what} (GET {p} with Accept: {SCIM_JSON})"),
                if ct.is_empty() {
                    format!("HTTP {} without Content-Type", r.status)
                } else {
                    format!("HTTP {} with Content-Type: {ct}", r.status)
                },
            ));
        }
    }
    Ok(())
}

/// Whether a response to another tenant's request for this tenant's resource hides it (401, 403 or 404).
fn hidden(r: &Response) -> bool {
    matches!(r.status, 401 | 403 | 404)
}

fn leak(what: &str, r: &Response) -> crate::check::Outcome {
    let how = if (200..300).contains(&r.status) { "succeeded" } else { "answered neither 401, 403 nor 404" };
    fail(
        format!("{what} with the other tenant's token refused as if the resource did not exist (HTTP 404, or 401/403)"),
        format!("it {how}: {}", r.summary()),
    )
}

async fn other_tenant(ctx: &Ctx) -> Step {
    let Some(other) = ctx.other_token().map(str::to_owned) else {
        return Err(skip(
            "no second credential configured: give the token of another tenant with other_token_env / other_token \
             in the target file, or --other-token (IDCONFORM_SCIM_OTHER_TOKEN)",
        ));
    };
    // The other credential must work at all, or the probes below would pass for the wrong reason.
    let r = ctx.send(Request::new(Method::GET, "/Users?count=1").with_token(other.clone())).await?;
    if r.status == 401 || r.status == 403 {
        return Err(skip(format!(
            "the other tenant's credential is refused on its own /Users (HTTP {}): check other_token",
            r.status
        )));
    }
    let user = ctx.create_user("tenant", json!({"displayName": "Tenant A"})).await?;
    let path = super::util::user_path(&user);
    let name = str_at(&user, "userName").unwrap_or_default().to_owned();

    let r = ctx.send(Request::new(Method::GET, &path).with_token(other.clone())).await?;
    if !hidden(&r) {
        return Err(leak(&format!("GET {path} (a User of this tenant)"), &r));
    }

    let filter = format!("userName eq \"{name}\"");
    let list_path = format!("/Users?filter={}", crate::http::encode(&filter));
    let r = ctx.send(Request::new(Method::GET, &list_path).with_token(other.clone())).await?;
    if r.status == 200 {
        let found = super::util::user_names(&json_body(&r)?);
        let total = r.json().and_then(|v| super::util::int_at(&v, "totalResults")).unwrap_or(0);
        ensure(
            found.is_empty() && total == 0,
            format!("no result for {filter} with the other tenant's token"),
            || format!("results {found:?}, totalResults {total}: {}", r.describe()),
        )?;
    } else if !hidden(&r) {
        return Err(leak(&format!("GET /Users?filter={filter}"), &r));
    }

    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Changed by another tenant"}],
    });
    let r = ctx.send(Request::new(Method::PATCH, &path).json(&patch).with_token(other.clone())).await?;
    let patch_hidden = hidden(&r);
    let got = super::util::fetch(ctx, &path).await?;
    ensure(
        str_at(&got, "displayName") == Some("Tenant A"),
        "displayName still \"Tenant A\" after a PATCH with the other tenant's token",
        || format!("{}; then GET with this tenant's token: {got}", r.label()),
    )?;
    if !patch_hidden {
        return Err(leak(&format!("PATCH {path}"), &r));
    }

    let r = ctx.send(Request::new(Method::DELETE, &path).with_token(other)).await?;
    let after = ctx.get(&path).await?;
    expect_status(
        &after,
        200,
        &format!(
            "the User still there (GET with this tenant's token) after {} with the other tenant's token",
            r.label()
        ),
    )?;
    if !hidden(&r) {
        return Err(leak(&format!("DELETE {path}"), &r));
    }
    Ok(())
}
