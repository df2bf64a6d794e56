//! The /Me alias (RFC 7644 §3.11): either supported (a resource) or refused with 501.

use crate::check;
use crate::check::{Check, Step, ensure, fail};
use crate::runner::{Ctx, json_body, str_at};

/// The /Me checks.
pub fn checks() -> Vec<Check> {
    vec![check! {
        id: "scim.me.get",
        title: "GET /Me answers the authenticated subject's resource or 501 Not Implemented",
        spec: ("RFC 7644", "3.11", "A service provider that does NOT support this feature SHOULD respond with HTTP status code 501 (Not Implemented)."),
        level: Should,
        tags: [],
        run: me,
    }]
}

async fn me(ctx: &Ctx) -> Step {
    let r = ctx.get("/Me").await?;
    match r.status {
        501 => Ok(()),
        200 => {
            let v = json_body(&r)?;
            ensure(str_at(&v, "id").is_some(), "a resource with an id (200) for /Me", || r.describe())
        }
        _ => Err(fail("GET /Me to answer 200 with a resource, or 501 when /Me is not supported", r.summary())),
    }
}
