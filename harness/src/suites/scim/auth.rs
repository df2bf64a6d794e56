//! Authentication and protocol basics: requests without a valid bearer token are refused with a Bearer challenge,
//! and responses use the SCIM media type.

use reqwest::Method;

use crate::check;
use crate::check::{Check, Step, ensure, fail};
use crate::http::{Request, SCIM_JSON};
use crate::runner::{Ctx, expect_status};

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
