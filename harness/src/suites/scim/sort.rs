//! Sorting (RFC 7644 §3.4.2.3), when the target advertises `sort.supported`.

use serde_json::json;

use super::util::user_names;
use crate::check;
use crate::check::{Check, Step, ensure};
use crate::runner::{Ctx, USER_URN};

const SORT_BY: &str =
    "The \"sortBy\" parameter specifies the attribute whose value SHALL be used to order the returned responses.";
const SORT_ORDER: &str = "If a value for \"sortBy\" is provided and no \"sortOrder\" is specified, \"sortOrder\" SHALL default to ascending.";

/// The sort checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! { id: "scim.sort.ascending", title: "sortBy=userName&sortOrder=ascending orders ascending", spec: ("RFC 7644", "3.4.2.3", SORT_BY), level: Must, tags: [], run: ascending },
        check! { id: "scim.sort.descending", title: "sortOrder=descending orders descending", spec: ("RFC 7644", "3.4.2.3", SORT_BY), level: Must, tags: [], run: descending },
        check! { id: "scim.sort.default-ascending", title: "sortBy without sortOrder orders ascending", spec: ("RFC 7644", "3.4.2.3", SORT_ORDER), level: Must, tags: [], run: default_ascending },
    ]
}

/// Creates c, a, b (in that order, so creation order is not sorted order) and returns the sorted labels.
async fn sorted(ctx: &Ctx, params: &str) -> Step<Vec<String>> {
    ctx.discovery.require("sort")?;
    let prefix = ctx.unique("s");
    for l in ["c", "a", "b"] {
        ctx.create("/Users", &json!({"schemas": [USER_URN], "userName": format!("{prefix}-{l}")})).await?;
    }
    let list = ctx.list("/Users", &format!("userName sw \"{prefix}\""), params).await?;
    let got = user_names(&list).into_iter().map(|n| n.trim_start_matches(&format!("{prefix}-")).to_owned()).collect();
    Ok(got)
}

async fn ascending(ctx: &Ctx) -> Step {
    let got: Vec<String> = sorted(ctx, "sortBy=userName&sortOrder=ascending").await?;
    ensure(got == ["a", "b", "c"], "users a, b, c in that order", || format!("{got:?}"))
}

async fn descending(ctx: &Ctx) -> Step {
    let got: Vec<String> = sorted(ctx, "sortBy=userName&sortOrder=descending").await?;
    ensure(got == ["c", "b", "a"], "users c, b, a in that order", || format!("{got:?}"))
}

async fn default_ascending(ctx: &Ctx) -> Step {
    let got: Vec<String> = sorted(ctx, "sortBy=userName").await?;
    ensure(got == ["a", "b", "c"], "users a, b, c in that order", || format!("{got:?}"))
}
