//! Bulk (RFC 7644 §3.7), when the target advertises `bulk.supported`: bulkId references, failOnErrors, continuing
//! past errors, and the maxOperations and maxPayloadSize limits.

use serde_json::{Value, json};

use super::util::{fetch, resources};
use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::runner::{Ctx, GROUP_URN, USER_URN, expect_status, get_ci, json_body, str_at};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// The bulk checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! { id: "scim.bulk.bulk-id", title: "A bulkId reference is replaced by the id of the resource created earlier in the request", spec: ("RFC 7644", "3.7.2", "The service provider MUST replace the string \"bulkId:qwerty\" with the permanent resource id once created."), level: Must, tags: [], run: bulk_id },
        check! { id: "scim.bulk.continue-on-error", title: "Without failOnErrors, operations after a failed one are still performed", spec: ("RFC 7644", "3.7", "The service provider MUST continue performing as many changes as possible and disregard partial failures. The client MAY override this behavior by specifying a value for the \"failOnErrors\" attribute."), level: Must, tags: [], run: continue_on_error },
        check! { id: "scim.bulk.fail-on-errors", title: "failOnErrors=1 stops after the first error", spec: ("RFC 7644", "3.7", "failOnErrors: An integer specifying the number of errors that the service provider will accept before the operation is terminated and an error response is returned. OPTIONAL in a request."), level: Must, tags: [], run: fail_on_errors },
        check! { id: "scim.bulk.max-payload", title: "A request larger than maxPayloadSize answers 413", spec: ("RFC 7644", "3.7.4", "If either limit is exceeded, the service provider MUST return HTTP response code 413 (Payload Too Large)."), level: Must, tags: [], run: max_payload },
        check! { id: "scim.bulk.max-operations", title: "More than maxOperations operations answers 413", spec: ("RFC 7644", "3.7.4", "If either limit is exceeded, the service provider MUST return HTTP response code 413 (Payload Too Large)."), level: Must, tags: [], run: max_operations },
    ]
}

/// Posts a BulkRequest and returns the BulkResponse's operations; registers created resources for cleanup.
async fn bulk(ctx: &Ctx, ops: Value, fail_on_errors: Option<u32>) -> Step<Vec<Value>> {
    let mut body = json!({"schemas": [BULK_REQUEST], "Operations": ops});
    if let Some(n) = fail_on_errors {
        crate::runner::merge(&mut body, json!({"failOnErrors": n}));
    }
    let r = ctx.post("/Bulk", &body).await?;
    expect_status(&r, 200, "POST /Bulk answers 200 with a BulkResponse")?;
    let v = json_body(&r)?;
    let results = get_ci(&v, "Operations").and_then(Value::as_array).cloned().unwrap_or_default();
    for op in &results {
        if let Some(loc) = str_at(op, "location") {
            ctx.cleanup_later(resource_path(loc));
        }
    }
    Ok(results)
}

/// The resource a bulk `location` names, as a path under the target's base URL (`/Users/{id}`). The harness
/// follows it there rather than to the absolute URL, which may name another origin (a server behind a proxy, or a
/// hostile one), where the target's token must not go.
fn resource_path(location: &str) -> String {
    let mut segments = location.trim_end_matches('/').rsplit('/');
    let id = segments.next().unwrap_or_default();
    let kind = segments.next().unwrap_or_default();
    format!("/{kind}/{id}")
}

fn op_status(op: &Value) -> Option<u16> {
    match get_ci(op, "status")? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Value::Object(o) => o.get("code").and_then(|c| {
            c.as_str().and_then(|s| s.parse().ok()).or_else(|| c.as_u64().and_then(|n| u16::try_from(n).ok()))
        }),
        _ => None,
    }
}

async fn user_exists(ctx: &Ctx, name: &str) -> Step<bool> {
    let list = ctx.list("/Users", &format!("userName eq \"{name}\""), "").await?;
    for r in resources(&list) {
        if let Some(id) = str_at(&r, "id") {
            ctx.cleanup_later(format!("/Users/{id}"));
        }
    }
    Ok(!resources(&list).is_empty())
}

async fn bulk_id(ctx: &Ctx) -> Step {
    ctx.discovery.require("bulk")?;
    let user = ctx.unique("bulku");
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "u1", "data": {"schemas": [USER_URN], "userName": user}},
        {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": {"schemas": [GROUP_URN], "displayName": ctx.unique("bulkg"), "members": [{"value": "bulkId:u1"}]}}
    ]);
    let results = bulk(ctx, ops, None).await?;
    let loc = |id: &str| {
        results.iter().find(|o| str_at(o, "bulkId") == Some(id)).and_then(|o| str_at(o, "location")).map(str::to_owned)
    };
    let (Some(ul), Some(gl)) = (loc("u1"), loc("g1")) else {
        return Err(fail("a result with a location for bulkId u1 and g1", format!("{results:?}")));
    };
    let u = fetch(ctx, &resource_path(&ul)).await?;
    let g = fetch(ctx, &resource_path(&gl)).await?;
    let uid = str_at(&u, "id").unwrap_or("");
    let members: Vec<&str> = get_ci(&g, "members")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(|m| str_at(m, "value")).collect())
        .unwrap_or_default();
    ensure(members == [uid], format!("the group's members to be exactly the new user's id {uid}"), || {
        format!("members {members:?}")
    })
}

async fn continue_on_error(ctx: &Ctx) -> Step {
    ctx.discovery.require("bulk")?;
    let good = ctx.unique("bulkok");
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"schemas": [USER_URN], "displayName": "no userName"}},
        {"method": "POST", "path": "/Users", "bulkId": "good", "data": {"schemas": [USER_URN], "userName": good}}
    ]);
    let results = bulk(ctx, ops, None).await?;
    ensure(results.len() == 2, "a result for both operations", || format!("{} results", results.len()))?;
    ensure(op_status(&results[0]).is_some_and(|s| s >= 400), "the first operation (no userName) to fail", || {
        results[0].to_string()
    })?;
    ensure(user_exists(ctx, &good).await?, format!("the second operation's user {good} to exist"), || {
        "it does not".into()
    })
}

async fn fail_on_errors(ctx: &Ctx) -> Step {
    ctx.discovery.require("bulk")?;
    let skipped = ctx.unique("bulkskip");
    let ops = json!([
        {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"schemas": [USER_URN], "displayName": "no userName"}},
        {"method": "POST", "path": "/Users", "bulkId": "after", "data": {"schemas": [USER_URN], "userName": skipped}}
    ]);
    let results = bulk(ctx, ops, Some(1)).await?;
    ensure(
        !user_exists(ctx, &skipped).await?,
        format!("the operation after the first error not performed (no user {skipped})"),
        || format!("the user was created; results {results:?}"),
    )
}

async fn max_payload(ctx: &Ctx) -> Step {
    ctx.discovery.require("bulk")?;
    let Some(max) = ctx.discovery.bulk_max_payload() else {
        return Err(skip("ServiceProviderConfig does not state bulk.maxPayloadSize"));
    };
    if max > 16 * 1024 * 1024 {
        return Err(skip(format!("bulk.maxPayloadSize is {max} bytes; too large to exceed in a test")));
    }
    // One operation padded past the limit; a DELETE of an id that does not exist, so running it would be harmless.
    let pad = "x".repeat(usize::try_from(max).unwrap_or(usize::MAX) + 1);
    let ops = json!([{"method": "DELETE", "path": format!("/Users/{}-none", ctx.prefix()), "data": {"padding": pad}}]);
    let r = ctx.post("/Bulk", &json!({"schemas": [BULK_REQUEST], "Operations": ops})).await?;
    super::util::expect_error(&r, 413, None, &format!("POST /Bulk larger than maxPayloadSize ({max} bytes)"))
}

async fn max_operations(ctx: &Ctx) -> Step {
    ctx.discovery.require("bulk")?;
    let Some(max) = ctx.discovery.bulk_max_operations() else {
        return Err(skip("ServiceProviderConfig does not state bulk.maxOperations"));
    };
    if max > 10_000 {
        return Err(skip(format!("bulk.maxOperations is {max}; too large to exceed in a test")));
    }
    // DELETEs of ids that do not exist: harmless should the server run them instead of refusing the request.
    let ops: Vec<Value> =
        (0..=max).map(|i| json!({"method": "DELETE", "path": format!("/Users/{}-none-{i}", ctx.prefix())})).collect();
    let r = ctx.post("/Bulk", &json!({"schemas": [BULK_REQUEST], "Operations": ops})).await?;
    super::util::expect_error(&r, 413, None, &format!("POST /Bulk with {} operations (maxOperations {max})", max + 1))
}
