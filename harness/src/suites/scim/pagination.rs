//! Pagination: index-based (RFC 7644 §3.4.2.4) with startIndex/count, count=0, startIndex below 1, totals and no
//! repeats across pages; cursor-based (RFC 9865) when the target advertises it.
//!
//! Each check creates five users sharing a unique prefix and pages through `userName sw "<prefix>"`, so the totals
//! are known whatever else the target holds.

use std::collections::HashSet;

use serde_json::Value;

use super::util::{LIST_RESPONSE, ids, int_at, resources};
use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::http::encode;
use crate::runner::{Ctx, get_ci, str_at};

const START_INDEX: &str =
    "startIndex: The 1-based index of the first query result. A value less than 1 SHALL be interpreted as 1.";
const COUNT: &str = "count: Non-negative integer. Specifies the desired maximum number of query results per page, e.g., 10. A negative value SHALL be interpreted as \"0\". A value of \"0\" indicates that no resource results are to be returned except for \"totalResults\".";

/// The pagination checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! {
            id: "scim.pagination.list-response",
            title: "A query answers a ListResponse with totalResults",
            spec: ("RFC 7644", "3.4.2", "totalResults: The total number of results returned by the list or query operation. The value may be larger than the number of resources returned, such as when returning a single page (see Section 3.4.2.4) of results where multiple pages are available. REQUIRED."),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: list_response,
        },
        check! {
            id: "scim.pagination.start-count",
            title: "startIndex and count select a page; totalResults counts all matches",
            spec: ("RFC 7644", "3.4.2.4", COUNT),
            level: Must,
            tags: ["interop", "okta", "entra", "okta-must"],
            run: start_count,
        },
        check! {
            id: "scim.pagination.no-repeats",
            title: "Walking all pages returns every match exactly once",
            spec: ("RFC 7644", "3.4.2.4", START_INDEX),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: no_repeats,
        },
        check! {
            id: "scim.pagination.count-zero",
            title: "count=0 returns no resources but the total",
            spec: ("RFC 7644", "3.4.2.4", COUNT),
            level: Must,
            tags: [],
            run: count_zero,
        },
        check! {
            id: "scim.pagination.start-below-one",
            title: "startIndex=0 is interpreted as 1",
            spec: ("RFC 7644", "3.4.2.4", START_INDEX),
            level: Must,
            tags: [],
            run: start_below_one,
        },
        check! {
            id: "scim.pagination.cursor",
            title: "Cursor pagination (when advertised) walks every match exactly once",
            spec: ("RFC 9865", "2", "nextCursor: A cursor value string that MAY be used in a subsequent request to obtain the next page of results. Service providers supporting cursor-based pagination MUST include \"nextCursor\" in all paged query responses except when returning the last page."),
            level: Must,
            tags: ["entra"],
            run: cursor,
        },
    ]
}

async fn five(ctx: &Ctx) -> Step<(String, HashSet<String>)> {
    let prefix = ctx.unique("p");
    let mut created = HashSet::new();
    for i in 0..5 {
        let body = serde_json::json!({"schemas": [crate::runner::USER_URN], "userName": format!("{prefix}-u{i}")});
        let v = ctx.create("/Users", &body).await?;
        created.insert(str_at(&v, "id").unwrap_or_default().to_owned());
    }
    Ok((prefix, created))
}

fn scope(prefix: &str) -> String {
    format!("userName sw \"{prefix}\"")
}

async fn list_response(ctx: &Ctx) -> Step {
    let (prefix, _) = five(ctx).await?;
    let list = ctx.list("/Users", &scope(&prefix), "").await?;
    let schemas = get_ci(&list, "schemas").and_then(Value::as_array);
    ensure(
        schemas.is_some_and(|a| a.iter().any(|s| s.as_str() == Some(LIST_RESPONSE))),
        format!("\"schemas\": [\"{LIST_RESPONSE}\"]"),
        || list.to_string().chars().take(300).collect(),
    )?;
    ensure(int_at(&list, "totalResults") == Some(5), "totalResults 5 (five matching users)", || {
        format!("totalResults = {:?}", get_ci(&list, "totalResults"))
    })
}

/// Whether the ids seen while paging are the created ones, each exactly once.
fn exactly_once(seen: &[String], created: &HashSet<String>, expected: &str) -> Step {
    let unique: HashSet<String> = seen.iter().cloned().collect();
    ensure(seen.len() == created.len() && &unique == created, expected, || {
        format!(
            "{} ids, {} distinct, {} of the {} created",
            seen.len(),
            unique.len(),
            unique.intersection(created).count(),
            created.len()
        )
    })
}

/// `&sortBy=userName` where sorting is advertised, so pages are deterministic; without it the server's own order
/// must still be stable between requests.
fn stable_order(ctx: &Ctx) -> &'static str {
    if ctx.discovery.supported("sort") == Some(true) { "&sortBy=userName" } else { "" }
}

async fn start_count(ctx: &Ctx) -> Step {
    let (prefix, _) = five(ctx).await?;
    let sort = stable_order(ctx);
    let all = ids(&ctx.list("/Users", &scope(&prefix), &format!("startIndex=1&count=5{sort}")).await?);
    let list = ctx.list("/Users", &scope(&prefix), &format!("startIndex=2&count=2{sort}")).await?;
    let n = resources(&list).len();
    ensure(n == 2, "2 resources for count=2", || format!("{n} resources"))?;
    // The page must start at the 2nd result, not merely echo startIndex (RFC 7644 §3.4.2.4: "startIndex: The 1-based
    // index of the first query result").
    let page = ids(&list);
    ensure(all.get(1..3) == Some(&page[..]), "the 2nd and 3rd of the 5 results, in the same order", || {
        format!("page {page:?} of the full listing {all:?}")
    })?;
    ensure(int_at(&list, "totalResults") == Some(5), "totalResults 5 (all matches, not the page)", || {
        format!("totalResults = {:?}", get_ci(&list, "totalResults"))
    })?;
    ensure(int_at(&list, "startIndex") == Some(2), "startIndex 2 echoed (REQUIRED for partial results)", || {
        format!("startIndex = {:?}", get_ci(&list, "startIndex"))
    })?;
    ensure(int_at(&list, "itemsPerPage") == Some(2), "itemsPerPage 2 (REQUIRED for partial results)", || {
        format!("itemsPerPage = {:?}", get_ci(&list, "itemsPerPage"))
    })
}

async fn no_repeats(ctx: &Ctx) -> Step {
    let (prefix, created) = five(ctx).await?;
    let sort = stable_order(ctx);
    let mut seen: Vec<String> = Vec::new();
    for start in [1, 3, 5] {
        let list = ctx.list("/Users", &scope(&prefix), &format!("startIndex={start}&count=2{sort}")).await?;
        seen.extend(ids(&list));
    }
    exactly_once(&seen, &created, "pages startIndex=1,3,5 with count=2 to return the 5 users exactly once")
}

async fn count_zero(ctx: &Ctx) -> Step {
    let (prefix, _) = five(ctx).await?;
    let list = ctx.list("/Users", &scope(&prefix), "count=0").await?;
    let n = resources(&list).len();
    ensure(n == 0, "no resources for count=0", || format!("{n} resources"))?;
    ensure(int_at(&list, "totalResults") == Some(5), "totalResults 5 for count=0", || {
        format!("totalResults = {:?}", get_ci(&list, "totalResults"))
    })
}

async fn start_below_one(ctx: &Ctx) -> Step {
    let (prefix, _) = five(ctx).await?;
    let r = ctx.get(&format!("/Users?filter={}&startIndex=0&count=2", encode(&scope(&prefix)))).await?;
    crate::runner::expect_status(&r, 200, "startIndex=0 accepted (interpreted as 1)")?;
    let list = crate::runner::json_body(&r)?;
    let n = resources(&list).len();
    ensure(n == 2, "2 resources (the first page)", || format!("{n} resources"))?;
    let si = int_at(&list, "startIndex");
    ensure(si.is_none() || si == Some(1), "startIndex 1 in the response", || format!("startIndex = {si:?}"))
}

async fn cursor(ctx: &Ctx) -> Step {
    if !ctx.discovery.cursor() {
        return Err(skip("ServiceProviderConfig does not advertise pagination.cursor = true"));
    }
    let (prefix, created) = five(ctx).await?;
    let mut seen = Vec::new();
    let mut next = String::new();
    for page in 0..10 {
        let list = ctx.list("/Users", &scope(&prefix), &format!("count=2&cursor={}", encode(&next))).await?;
        seen.extend(ids(&list));
        match str_at(&list, "nextCursor") {
            Some(c) if !c.is_empty() => next = c.to_owned(),
            _ => break,
        }
        if page == 9 {
            return Err(fail(
                "the last page (no nextCursor) within 10 pages of 2 for 5 users",
                "nextCursor on every page",
            ));
        }
    }
    exactly_once(&seen, &created, "cursor pages of 2 to return the 5 users exactly once, then no nextCursor")
}
