//! Partial representations (RFC 7644 §3.4.2.5 and §3.9): `attributes` and `excludedAttributes`, and attributes
//! returned "always" surviving both.

use serde_json::json;

use super::util::{fetch, resources, user_path};
use crate::check;
use crate::check::{Check, Step, ensure};
use crate::runner::{Ctx, get_ci, str_at};

const ATTRIBUTES: &str = "attributes: A multi-valued list of strings indicating the names of resource attributes to return in the response, overriding the set of attributes that would be returned by default.";
const EXCLUDED: &str = "excludedAttributes: A multi-valued list of strings indicating the names of resource attributes to be removed from the default set of attributes to return. This parameter SHALL have no effect on attributes whose schema \"returned\" setting is \"always\" (see Sections 2.2 and 7 of [RFC7643]).";

/// The projection checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! { id: "scim.projection.attributes", title: "attributes=userName returns userName and id, not displayName", spec: ("RFC 7644", "3.4.2.5", ATTRIBUTES), level: Should, tags: ["interop"], run: attributes },
        check! { id: "scim.projection.excluded", title: "excludedAttributes=emails leaves emails out", spec: ("RFC 7644", "3.4.2.5", EXCLUDED), level: Should, tags: ["interop"], run: excluded },
        check! { id: "scim.projection.always-returned", title: "excludedAttributes=id still returns id (returned \"always\")", spec: ("RFC 7644", "3.4.2.5", EXCLUDED), level: Must, tags: [], run: always_returned },
        check! { id: "scim.projection.list-attributes", title: "attributes applies to every resource of a query", spec: ("RFC 7644", "3.4.2.5", ATTRIBUTES), level: Should, tags: [], run: list_attributes },
    ]
}

fn extra() -> serde_json::Value {
    json!({"displayName": "Projected", "emails": [{"value": "projected@example.com", "type": "work"}]})
}

async fn attributes(ctx: &Ctx) -> Step {
    let v = ctx.create_user("proj", extra()).await?;
    let got = fetch(ctx, &format!("{}?attributes=userName", user_path(&v))).await?;
    ensure(get_ci(&got, "userName").is_some() && get_ci(&got, "id").is_some(), "userName and id present", || {
        got.to_string()
    })?;
    ensure(
        get_ci(&got, "displayName").is_none() && get_ci(&got, "emails").is_none(),
        "displayName and emails left out",
        || got.to_string(),
    )
}

async fn excluded(ctx: &Ctx) -> Step {
    let v = ctx.create_user("excl", extra()).await?;
    let got = fetch(ctx, &format!("{}?excludedAttributes=emails", user_path(&v))).await?;
    ensure(get_ci(&got, "emails").is_none(), "emails left out", || got.to_string())?;
    ensure(get_ci(&got, "displayName").is_some(), "displayName still returned", || got.to_string())
}

async fn always_returned(ctx: &Ctx) -> Step {
    let v = ctx.create_user("always", extra()).await?;
    let got = fetch(ctx, &format!("{}?excludedAttributes=id,displayName", user_path(&v))).await?;
    ensure(str_at(&got, "id") == str_at(&v, "id"), "id still returned (returned \"always\")", || got.to_string())
}

async fn list_attributes(ctx: &Ctx) -> Step {
    let v = ctx.create_user("listproj", extra()).await?;
    let name = str_at(&v, "userName").unwrap_or_default().to_owned();
    let list = ctx.list("/Users", &format!("userName eq \"{name}\""), "attributes=displayName").await?;
    let rs = resources(&list);
    ensure(rs.len() == 1, "exactly the one matching user", || format!("{} resources", rs.len()))?;
    let r = &rs[0];
    ensure(get_ci(r, "displayName").is_some() && get_ci(r, "id").is_some(), "displayName and id present", || {
        r.to_string()
    })?;
    ensure(get_ci(r, "emails").is_none(), "emails left out", || r.to_string())
}
