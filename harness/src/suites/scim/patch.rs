//! PATCH (RFC 7644 §3.5.2): add, replace and remove with every path form, each result verified with a GET;
//! atomicity, `noTarget`, mutability, and the success response.

use serde_json::{Value, json};

use super::util::{expect_error, fetch, user_path};
use crate::check;
use crate::check::{Check, Step, ensure, fail};
use crate::runner::{Ctx, get_ci, json_body, path_at, str_at};

const ADD_NO_PATH: &str = "If omitted, the target location is assumed to be the resource itself. The \"value\" parameter contains a set of attributes to be added to the resource.";
const ADD_SINGLE: &str = "If the target location specifies a single-valued attribute, the existing value is replaced.";
const ADD_MULTI: &str =
    "If the target location specifies a multi-valued attribute, a new value is added to the attribute.";
const REPLACE_FILTER: &str = "If the target location is a multi-valued attribute and a value selection (\"valuePath\") filter is specified that matches one or more values of the multi-valued attribute, then all matching record values SHALL be replaced.";
const REMOVE_SINGLE: &str = "If the target location is a single-value attribute, the attribute and its associated value is removed, and the attribute SHALL be considered unassigned.";
const REMOVE_FILTER: &str = "If the target location is a multi-valued attribute and a complex filter is specified comparing a \"value\", the values matched by the filter are removed. If no other values remain after removal of the selected values, the multi-valued attribute SHALL be considered unassigned.";
const REMOVE_NO_PATH: &str = "If \"path\" is unspecified, the operation fails with HTTP status code 400 and a \"scimType\" error code of \"noTarget\".";
const REPLACE_NO_MATCH: &str = "If the target location is a multi-valued attribute for which a value selection filter (\"valuePath\") has been supplied and no record match was made, the service provider SHALL indicate failure by returning HTTP status code 400 and a \"scimType\" error code of \"noTarget\".";
const ATOMIC: &str = "A PATCH request, regardless of the number of operations, SHALL be treated as atomic. If a single operation encounters an error condition, the original SCIM resource MUST be restored, and a failure status SHALL be returned.";
const MUTABILITY: &str = "An operation that is not compatible with an attribute's mutability or schema SHALL return the appropriate HTTP response status code and a JSON detail error response as defined in Section 3.12.";
const RESPONSE: &str = "On successful completion, the server either MUST return a 200 OK response code and the entire resource within the response body, subject to the \"attributes\" query parameter (see Section 3.9), or MAY return HTTP status code 204 (No Content) and the appropriate response headers for a successful PATCH request.";
const PATH: &str =
    "The \"path\" attribute value is a String containing an attribute path describing the target of the operation.";

macro_rules! patch_check {
    ($id:expr, $title:expr, $section:expr, $text:expr, $body:path, [$($tag:expr),*]) => {
        check! { id: $id, title: $title, spec: ("RFC 7644", $section, $text), level: Must, tags: [$($tag),*], run: $body }
    };
}

/// The PATCH checks.
pub fn checks() -> Vec<Check> {
    vec![
        patch_check!(
            "scim.patch.add-no-path",
            "add without path merges the value object into the resource",
            "3.5.2.1",
            ADD_NO_PATH,
            add_no_path,
            ["interop", "entra"]
        ),
        patch_check!(
            "scim.patch.add-single",
            "add to a single-valued attribute replaces it",
            "3.5.2.1",
            ADD_SINGLE,
            add_single,
            []
        ),
        patch_check!(
            "scim.patch.add-multi",
            "add to a multi-valued attribute appends a value",
            "3.5.2.1",
            ADD_MULTI,
            add_multi,
            ["interop"]
        ),
        patch_check!(
            "scim.patch.replace-simple",
            "replace with path displayName",
            "3.5.2.3",
            "The \"replace\" operation replaces the value at the target location specified by the \"path\".",
            replace_simple,
            ["interop", "okta", "entra", "okta-must", "entra-must"]
        ),
        patch_check!(
            "scim.patch.replace-sub-attribute",
            "replace with path name.familyName changes only that sub-attribute",
            "3.5.2.3",
            "The \"replace\" operation replaces the value at the target location specified by the \"path\".",
            replace_sub_attribute,
            ["entra"]
        ),
        patch_check!(
            "scim.patch.replace-value-path",
            "replace with path emails[type eq \"work\"].value",
            "3.5.2.3",
            REPLACE_FILTER,
            replace_value_path,
            ["entra"]
        ),
        patch_check!(
            "scim.patch.replace-no-path",
            "replace without path sets the attributes of the value object (active=false)",
            "3.5.2.3",
            "If the \"path\" parameter is omitted, the target is assumed to be the resource itself. In this case, the \"value\" attribute SHALL contain a list of one or more attributes that are to be replaced.",
            replace_no_path,
            ["okta", "okta-must"]
        ),
        patch_check!(
            "scim.patch.urn-path",
            "A URN-qualified path addresses the attribute",
            "3.5.2",
            PATH,
            urn_path,
            []
        ),
        patch_check!(
            "scim.patch.remove-simple",
            "remove with path nickName unassigns it",
            "3.5.2.2",
            REMOVE_SINGLE,
            remove_simple,
            ["interop"]
        ),
        patch_check!(
            "scim.patch.remove-value-path",
            "remove with path emails[type eq \"home\"] removes only that value",
            "3.5.2.2",
            REMOVE_FILTER,
            remove_value_path,
            []
        ),
        patch_check!(
            "scim.patch.remove-no-path",
            "remove without path answers 400 noTarget",
            "3.5.2.2",
            REMOVE_NO_PATH,
            remove_no_path,
            []
        ),
        patch_check!(
            "scim.patch.no-target-filter",
            "replace through a value filter that matches nothing answers 400 noTarget",
            "3.5.2.3",
            REPLACE_NO_MATCH,
            no_target_filter,
            []
        ),
        patch_check!(
            "scim.patch.atomic",
            "A failing operation leaves the resource as it was",
            "3.5.2",
            ATOMIC,
            atomic,
            ["interop"]
        ),
        patch_check!(
            "scim.patch.mutability",
            "replacing the readOnly id is refused and the id is unchanged",
            "3.5.2",
            MUTABILITY,
            mutability,
            []
        ),
        patch_check!(
            "scim.patch.response",
            "A successful PATCH answers 200 with the resource or 204",
            "3.5.2",
            RESPONSE,
            response,
            ["interop"]
        ),
    ]
}

/// Patches and expects success (200 or 204), returning the GET afterwards.
pub(super) async fn apply(ctx: &Ctx, path: &str, ops: Value) -> Step<Value> {
    let r = ctx.patch(path, ops.clone()).await?;
    if r.status != 200 && r.status != 204 {
        return Err(fail(format!("PATCH {path} with {ops} to succeed (200 or 204)"), r.summary()));
    }
    fetch(ctx, path).await
}

fn emails(v: &Value) -> Vec<(String, String)> {
    get_ci(v, "emails")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| (str_at(e, "type").unwrap_or("").to_owned(), str_at(e, "value").unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn two_emails() -> Value {
    json!({"emails": [{"value": "work@example.com", "type": "work"}, {"value": "home@example.com", "type": "home"}]})
}

async fn add_no_path(ctx: &Ctx) -> Step {
    let v = ctx.create_user("addnp", json!({})).await?;
    let got =
        apply(ctx, &user_path(&v), json!([{"op": "add", "value": {"nickName": "Added", "title": "Patched"}}])).await?;
    ensure(
        str_at(&got, "nickName") == Some("Added") && str_at(&got, "title") == Some("Patched"),
        "nickName \"Added\" and title \"Patched\"",
        || got.to_string(),
    )
}

async fn add_single(ctx: &Ctx) -> Step {
    let v = ctx.create_user("adds", json!({"displayName": "Old"})).await?;
    let got = apply(ctx, &user_path(&v), json!([{"op": "add", "path": "displayName", "value": "New"}])).await?;
    ensure(str_at(&got, "displayName") == Some("New"), "displayName \"New\"", || got.to_string())
}

async fn add_multi(ctx: &Ctx) -> Step {
    let v = ctx.create_user("addm", json!({"emails": [{"value": "first@example.com", "type": "work"}]})).await?;
    let got = apply(
        ctx,
        &user_path(&v),
        json!([{"op": "add", "path": "emails", "value": [{"value": "second@example.com", "type": "home"}]}]),
    )
    .await?;
    let e = emails(&got);
    ensure(
        e.len() == 2
            && e.iter().any(|(_, v)| v == "first@example.com")
            && e.iter().any(|(_, v)| v == "second@example.com"),
        "both emails, first@ and second@",
        || format!("{e:?}"),
    )
}

async fn replace_simple(ctx: &Ctx) -> Step {
    let v = ctx.create_user("reps", json!({"displayName": "Old"})).await?;
    let got =
        apply(ctx, &user_path(&v), json!([{"op": "replace", "path": "displayName", "value": "Replaced"}])).await?;
    ensure(str_at(&got, "displayName") == Some("Replaced"), "displayName \"Replaced\"", || got.to_string())
}

async fn replace_sub_attribute(ctx: &Ctx) -> Step {
    let v = ctx.create_user("repsub", json!({"name": {"givenName": "Keep", "familyName": "Old"}})).await?;
    let got = apply(ctx, &user_path(&v), json!([{"op": "replace", "path": "name.familyName", "value": "New"}])).await?;
    ensure(path_at(&got, "name.familyName").and_then(Value::as_str) == Some("New"), "name.familyName \"New\"", || {
        got.to_string()
    })?;
    ensure(path_at(&got, "name.givenName").and_then(Value::as_str) == Some("Keep"), "name.givenName untouched", || {
        got.to_string()
    })
}

async fn replace_value_path(ctx: &Ctx) -> Step {
    let v = ctx.create_user("repvp", two_emails()).await?;
    let got = apply(
        ctx,
        &user_path(&v),
        json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "changed@example.com"}]),
    )
    .await?;
    let e = emails(&got);
    ensure(
        e.contains(&("work".into(), "changed@example.com".into()))
            && e.contains(&("home".into(), "home@example.com".into()))
            && e.len() == 2,
        "work email changed@example.com, home email untouched",
        || format!("{e:?}"),
    )
}

async fn replace_no_path(ctx: &Ctx) -> Step {
    let v = ctx.create_user("repnp", json!({"active": true})).await?;
    let got = apply(ctx, &user_path(&v), json!([{"op": "replace", "value": {"active": false}}])).await?;
    ensure(get_ci(&got, "active") == Some(&Value::Bool(false)), "active false", || got.to_string())
}

async fn urn_path(ctx: &Ctx) -> Step {
    let v = ctx.create_user("urn", json!({"displayName": "Old"})).await?;
    let got = apply(
        ctx,
        &user_path(&v),
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "ByUrn"}]),
    )
    .await?;
    ensure(str_at(&got, "displayName") == Some("ByUrn"), "displayName \"ByUrn\"", || got.to_string())
}

async fn remove_simple(ctx: &Ctx) -> Step {
    let v = ctx.create_user("rems", json!({"nickName": "Gone"})).await?;
    let got = apply(ctx, &user_path(&v), json!([{"op": "remove", "path": "nickName"}])).await?;
    ensure(get_ci(&got, "nickName").is_none(), "nickName unassigned (absent)", || got.to_string())
}

async fn remove_value_path(ctx: &Ctx) -> Step {
    let v = ctx.create_user("remvp", two_emails()).await?;
    let got = apply(ctx, &user_path(&v), json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])).await?;
    let e = emails(&got);
    ensure(e == [("work".to_owned(), "work@example.com".to_owned())], "only the work email left", || format!("{e:?}"))
}

async fn remove_no_path(ctx: &Ctx) -> Step {
    let v = ctx.create_user("remnp", json!({"nickName": "Stays"})).await?;
    let r = ctx.patch(&user_path(&v), json!([{"op": "remove"}])).await?;
    expect_error(&r, 400, Some("noTarget"), "PATCH remove without path")
}

async fn no_target_filter(ctx: &Ctx) -> Step {
    let v = ctx.create_user("nt", two_emails()).await?;
    let r = ctx
        .patch(
            &user_path(&v),
            json!([{"op": "replace", "path": "emails[type eq \"idconform-none\"].value", "value": "x@example.com"}]),
        )
        .await?;
    expect_error(&r, 400, Some("noTarget"), "PATCH replace through emails[type eq \"idconform-none\"]")
}

async fn atomic(ctx: &Ctx) -> Step {
    let v = ctx.create_user("atomic", json!({"displayName": "Original"})).await?;
    let path = user_path(&v);
    let ops = json!([
        {"op": "replace", "path": "displayName", "value": "Half-applied"},
        {"op": "remove"}
    ]);
    let r = ctx.patch(&path, ops).await?;
    ensure(r.status >= 400, "the PATCH to fail (its second operation, remove without path, is invalid)", || {
        r.summary()
    })?;
    let got = fetch(ctx, &path).await?;
    ensure(
        str_at(&got, "displayName") == Some("Original"),
        "displayName still \"Original\" after the failed PATCH",
        || format!("displayName = {:?}", str_at(&got, "displayName")),
    )
}

async fn mutability(ctx: &Ctx) -> Step {
    let v = ctx.create_user("mut", json!({})).await?;
    let path = user_path(&v);
    let r = ctx.patch(&path, json!([{"op": "replace", "path": "id", "value": "idconform-new-id"}])).await?;
    let got = fetch(ctx, &path).await?;
    ensure(str_at(&got, "id") == str_at(&v, "id"), "id unchanged", || format!("id = {:?}", str_at(&got, "id")))?;
    expect_error(&r, 400, Some("mutability"), "PATCH replace of the readOnly id")
}

async fn response(ctx: &Ctx) -> Step {
    let v = ctx.create_user("resp", json!({})).await?;
    let r = ctx.patch(&user_path(&v), json!([{"op": "replace", "path": "displayName", "value": "Resp"}])).await?;
    match r.status {
        204 => Ok(()),
        200 => {
            let body = json_body(&r)?;
            ensure(
                str_at(&body, "id") == str_at(&v, "id") && str_at(&body, "displayName") == Some("Resp"),
                "200 with the entire, updated resource",
                || r.describe(),
            )
        }
        _ => Err(fail("200 with the resource or 204", r.summary())),
    }
}
