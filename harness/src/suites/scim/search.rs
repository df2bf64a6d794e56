//! Queries with POST and the "/.search" path extension (RFC 7644 §3.4.3).

use serde_json::json;

use super::util::{resources, user_names};
use crate::check;
use crate::check::{Check, Step, ensure};
use crate::runner::{Ctx, expect_status, get_ci, json_body};

const SEARCH: &str = "The inclusion of \"/.search\" on the end of a valid SCIM endpoint SHALL be used to indicate that the HTTP POST verb is intended to be a query operation.";
const ROOT: &str = "Clients MAY execute queries without passing parameters on the URL by using the HTTP POST verb combined with the \"/.search\" path extension.";

/// The search checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! { id: "scim.search.post", title: "POST /Users/.search with a SearchRequest filters like GET", spec: ("RFC 7644", "3.4.3", SEARCH), level: Must, tags: [], run: post_search },
        check! { id: "scim.search.attributes", title: "A SearchRequest's attributes projects the results", spec: ("RFC 7644", "3.4.3", SEARCH), level: Should, tags: [], run: search_attributes },
        check! { id: "scim.search.root", title: "POST /.search queries across resource types", spec: ("RFC 7644", "3.4.3", ROOT), level: May, tags: [], run: root_search },
    ]
}

fn request(filter: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter, "startIndex": 1, "count": 10});
    crate::runner::merge(&mut body, extra);
    body
}

async fn post_search(ctx: &Ctx) -> Step {
    let v = ctx.create_user("search", json!({})).await?;
    let name = crate::runner::str_at(&v, "userName").unwrap_or_default().to_owned();
    let r = ctx.post("/Users/.search", &request(&format!("userName eq \"{name}\""), json!({}))).await?;
    expect_status(&r, 200, "POST /Users/.search answers 200 with a ListResponse")?;
    let list = json_body(&r)?;
    let names = user_names(&list);
    ensure(names.len() == 1 && names[0].eq_ignore_ascii_case(&name), format!("exactly the user {name}"), || {
        format!("{names:?}")
    })
}

async fn search_attributes(ctx: &Ctx) -> Step {
    let v = ctx.create_user("searchattr", json!({"displayName": "Shown", "title": "Hidden"})).await?;
    let name = crate::runner::str_at(&v, "userName").unwrap_or_default().to_owned();
    let r = ctx
        .post("/Users/.search", &request(&format!("userName eq \"{name}\""), json!({"attributes": ["displayName"]})))
        .await?;
    expect_status(&r, 200, "POST /Users/.search answers 200")?;
    let list = json_body(&r)?;
    let rs = resources(&list);
    ensure(rs.len() == 1, "exactly one result", || format!("{} results", rs.len()))?;
    ensure(
        get_ci(&rs[0], "displayName").is_some() && get_ci(&rs[0], "title").is_none(),
        "displayName returned, title left out",
        || rs[0].to_string(),
    )
}

async fn root_search(ctx: &Ctx) -> Step {
    let v = ctx.create_user("rootsearch", json!({})).await?;
    let name = crate::runner::str_at(&v, "userName").unwrap_or_default().to_owned();
    let r = ctx.post("/.search", &request(&format!("userName eq \"{name}\""), json!({}))).await?;
    expect_status(&r, 200, "POST /.search answers 200 with a ListResponse")?;
    let list = json_body(&r)?;
    let names = user_names(&list);
    ensure(names.iter().any(|n| n.eq_ignore_ascii_case(&name)), format!("the user {name} among the results"), || {
        format!("{names:?}")
    })
}
