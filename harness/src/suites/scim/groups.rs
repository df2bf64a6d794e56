//! Groups and membership: displayName required, members reflected in the users' read-only `groups`, and member
//! changes through PATCH.

use serde_json::{Value, json};

use super::util::{expect_error, fetch, group_path, id_of, user_path};
use crate::check;
use crate::check::{Check, Step, ensure, fail};
use crate::runner::{Ctx, GROUP_URN, get_ci, str_at};

const GROUPS_ATTR: &str = "groups: A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.";

/// The group checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! { id: "scim.groups.display-name-required", title: "A Group without displayName answers 400 invalidValue", spec: ("RFC 7643", "4.2", "displayName: A human-readable name for the Group. REQUIRED."), level: Must, tags: [], run: display_name_required },
        check! { id: "scim.groups.members-reflected", title: "A member's User shows the group in its groups attribute", spec: ("RFC 7643", "4.1.2", GROUPS_ATTR), level: Should, tags: ["interop"], run: members_reflected },
        check! { id: "scim.groups.patch-add-member", title: "PATCH add members adds a member", spec: ("RFC 7644", "3.5.2.1", "If the target location specifies a multi-valued attribute, a new value is added to the attribute."), level: Must, tags: ["interop", "okta", "entra", "okta-must", "entra-must"], run: patch_add_member },
        check! { id: "scim.groups.patch-remove-member", title: "PATCH remove members[value eq \"id\"] removes that member, and the user's groups follows", spec: ("RFC 7644", "3.5.2.2", "If the target location is a multi-valued attribute and a complex filter is specified comparing a \"value\", the values matched by the filter are removed. If no other values remain after removal of the selected values, the multi-valued attribute SHALL be considered unassigned."), level: Must, tags: ["interop", "okta", "entra", "okta-must", "entra-must"], run: patch_remove_member },
        check! { id: "scim.groups.filter-display-name", title: "displayName eq finds a group", spec: ("RFC 7644", "3.4.2.2", "eq: equal. The attribute and operator values must be identical for a match."), level: Must, tags: ["okta", "entra", "okta-must", "entra-must"], run: filter_display_name },
    ]
}

fn member_ids(g: &Value) -> Vec<String> {
    get_ci(g, "members")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|m| str_at(m, "value").map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn group_ids(u: &Value) -> Vec<String> {
    get_ci(u, "groups")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|m| str_at(m, "value").map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn display_name_required(ctx: &Ctx) -> Step {
    let r = ctx.post("/Groups", &json!({"schemas": [GROUP_URN], "externalId": ctx.unique("nodn")})).await?;
    if r.status == 201
        && let Some(id) = r.json().as_ref().and_then(|v| str_at(v, "id"))
    {
        ctx.cleanup_later(format!("/Groups/{id}"));
    }
    expect_error(&r, 400, Some("invalidValue"), "POST /Groups without displayName")
}

async fn members_reflected(ctx: &Ctx) -> Step {
    let u = ctx.create_user("member", json!({})).await?;
    let g = ctx.create_group("team", json!({"members": [{"value": id_of(&u)}]})).await?;
    let got = fetch(ctx, &user_path(&u)).await?;
    let gids = group_ids(&got);
    ensure(gids.contains(&id_of(&g)), format!("the user's groups to contain {}", id_of(&g)), || {
        format!("groups = {gids:?}")
    })
}

async fn patch_add_member(ctx: &Ctx) -> Step {
    let a = ctx.create_user("ma", json!({})).await?;
    let b = ctx.create_user("mb", json!({})).await?;
    let g = ctx.create_group("addm", json!({"members": [{"value": id_of(&a)}]})).await?;
    let path = group_path(&g);
    let r = ctx.patch(&path, json!([{"op": "add", "path": "members", "value": [{"value": id_of(&b)}]}])).await?;
    ensure(r.status == 200 || r.status == 204, "PATCH add members to succeed (200 or 204)", || r.summary())?;
    let got = fetch(ctx, &path).await?;
    let mut m = member_ids(&got);
    m.sort();
    let mut want = vec![id_of(&a), id_of(&b)];
    want.sort();
    ensure(m == want, format!("members {want:?}"), || format!("members {m:?}"))
}

async fn patch_remove_member(ctx: &Ctx) -> Step {
    let a = ctx.create_user("ra", json!({})).await?;
    let b = ctx.create_user("rb", json!({})).await?;
    let g = ctx.create_group("remm", json!({"members": [{"value": id_of(&a)}, {"value": id_of(&b)}]})).await?;
    let path = group_path(&g);
    let r = ctx.patch(&path, json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", id_of(&a))}])).await?;
    ensure(r.status == 200 || r.status == 204, "PATCH remove members[value eq …] to succeed (200 or 204)", || {
        r.summary()
    })?;
    let got = fetch(ctx, &path).await?;
    let m = member_ids(&got);
    ensure(m == [id_of(&b)], format!("members exactly [{}]", id_of(&b)), || format!("members {m:?}"))?;
    let user = fetch(ctx, &user_path(&a)).await?;
    if group_ids(&user).contains(&id_of(&g)) {
        return Err(fail(
            "the removed user's groups no longer to list the group",
            format!("groups = {:?}", group_ids(&user)),
        ));
    }
    Ok(())
}

async fn filter_display_name(ctx: &Ctx) -> Step {
    let g = ctx.create_group("find", json!({})).await?;
    let name = str_at(&g, "displayName").unwrap_or_default().to_owned();
    let list = ctx.list("/Groups", &format!("displayName eq \"{name}\""), "").await?;
    let found: Vec<String> = super::util::ids(&list);
    ensure(found == [id_of(&g)], format!("exactly the group {name}"), || format!("ids {found:?}"))
}
