//! SCIM resource steps: named users and groups, created through the target's `/Users` and `/Groups` (RFC 7644 §3.3)
//! and judged by reading them back, so a scenario speaks of "alice" and "eng" rather than ids.

use cucumber::step::Context;
use reqwest::Method;
use serde_json::{Value, json};

use super::http::judge_last;
use super::{StepDef, args, docstring, json_literal, names};
use crate::features::world::{ScimWorld, StepFailure, StepResult, failure};
use crate::http::{Request, Response, SCIM_JSON, encode};
use crate::idp::{GROUP_URN, PATCH_URN, USER_URN};
use crate::replay::assert::{Test, resolve};

/// The steps of this module.
pub fn steps() -> Vec<StepDef> {
    vec![
        crate::step!(
            r#"^a user ["']([^"']+)["']$"#,
            "Creates a user named `<run>.<name>@example.com` and remembers it as `name` (`{{name}}` is its id, \
             `{{name.userName}}` its userName). It is deleted when the scenario ends.",
            r#"Given a user "alice""#,
            user
        ),
        crate::step!(
            r#"^a user ["']([^"']+)["'] with:$"#,
            "Creates a user from the doc string (a JSON object merged over the default body).",
            "Given a user \"bob\" with:\n  \"\"\"\n  {\"name\": {\"givenName\": \"Bob\"}, \"active\": true}\n  \"\"\"",
            user_with
        ),
        crate::step!(
            r#"^a group ["']([^"']+)["']$"#,
            "Creates a group with no members, remembered as `name`.",
            r#"Given a group "eng""#,
            group
        ),
        crate::step!(
            r#"^a group ["']([^"']+)["'] with members? ((?:["'][^"']+["'](?:, | and )?)+)$"#,
            "Creates a group whose members are the named users or groups.",
            r#"Given a group "eng" with members "alice", "bob" and "carol""#,
            group_with
        ),
        crate::step!(
            r#"^I read (user|group) ["']([^"']+)["']$"#,
            "GETs the named resource; the response steps then judge it.",
            r#"When I read user "alice""#,
            read
        ),
        crate::step!(
            r#"^I patch (user|group) ["']([^"']+)["'] with:$"#,
            "PATCHes the named resource with the doc string: a whole PatchOp body, or just its `Operations` array.",
            "When I patch user \"alice\" with:\n  \"\"\"\n  [{\"op\": \"replace\", \"path\": \"displayName\", \"value\": \"Al\"}]\n  \"\"\"",
            patch
        ),
        crate::step!(
            r#"^I delete (user|group) ["']([^"']+)["']$"#,
            "DELETEs the named resource.",
            r#"When I delete group "eng""#,
            delete
        ),
        crate::step!(
            r#"^I filter (users|groups) by '(.*)'$"#,
            "Lists users or groups with this filter (RFC 7644 §3.4.2.2); `{{name}}` values are filled in. The \
             response steps then judge the list, or the error.",
            r#"When I filter users by 'userName sw "{{run}}" and active eq true'"#,
            filter
        ),
        crate::step!(
            r"^there (?:is|are) (\d+) results?$",
            "The last list answered this `totalResults`.",
            "Then there are 2 results",
            total
        ),
        crate::step!(
            r#"^the results are exactly ((?:["'][^"']+["'](?:, | and )?)+)$"#,
            "The last list holds exactly these named resources, in any order.",
            r#"Then the results are exactly "alice" and "carol""#,
            results_exactly
        ),
        crate::step!(
            r#"^the results are in the order ((?:["'][^"']+["'](?:, | and )?)+)$"#,
            "The last list holds exactly these named resources, in this order (for sortBy).",
            r#"Then the results are in the order "carol", "alice""#,
            results_in_order
        ),
        crate::step!(
            r#"^(user|group) ["']([^"']+)["'] has "(.*)" equal to ("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)$"#,
            "Reads the resource back: the path names exactly one value, equal to this JSON value.",
            r#"Then user "alice" has "name.givenName" equal to "Alicia""#,
            has_value
        ),
        crate::step!(
            r#"^(user|group) ["']([^"']+)["'] has no "(.*)"$"#,
            "Reads the resource back: the path names nothing (a quoted key is literal: `'\"name.givenName\"'`).",
            r#"Then user "alice" has no "password""#,
            has_no
        ),
        crate::step!(
            r#"^user ["']([^"']+)["'] is (active|inactive)$"#,
            "Reads the user back: `active` is the boolean true / false.",
            r#"Then user "alice" is inactive"#,
            is_active
        ),
        crate::step!(
            r#"^group ["']([^"']+)["'] has exactly the members? ((?:["'][^"']+["'](?:, | and )?)+)$"#,
            "Reads the group back: its members are exactly these named resources.",
            r#"Then group "eng" has exactly the members "alice" and "carol""#,
            members_exactly
        ),
        crate::step!(
            r#"^group ["']([^"']+)["'] has no members$"#,
            "Reads the group back: it has no members.",
            r#"Then group "eng" has no members"#,
            no_members
        ),
        crate::step!(
            r#"^user ["']([^"']+)["'] is (?:a member|in the groups?) of ((?:["'][^"']+["'](?:, | and )?)+)$"#,
            "Reads the user back: its read-only `groups` includes these groups (RFC 7643 §4.1.2).",
            r#"Then user "alice" is a member of "eng""#,
            user_in_groups
        ),
        crate::step!(
            r#"^(user|group) ["']([^"']+)["'] no longer exists$"#,
            "Reads the resource back: 404 (RFC 7644 §3.6).",
            r#"Then user "alice" no longer exists"#,
            gone
        ),
        crate::step!(
            r#"^the request (?:succeeded|was accepted)$"#,
            "The last response has a 2xx status.",
            "Then the request succeeded",
            succeeded
        ),
        crate::step!(
            r#"^the request was refused with (\d{3})$"#,
            "The last response has this status and a SCIM Error body (RFC 7644 §3.12).",
            "Then the request was refused with 409",
            refused
        ),
        crate::step!(
            r#"^the request was refused with (\d{3}) and scimType "(.*)"$"#,
            "The last response is a SCIM Error with this status and `scimType`.",
            r#"Then the request was refused with 400 and scimType "invalidFilter""#,
            refused_type
        ),
    ]
}

fn endpoint(kind: &str) -> &'static str {
    if kind.starts_with("group") { "/Groups" } else { "/Users" }
}

/// The default body of a named user: unique userName, a name and a work e-mail.
pub(crate) fn user_body(w: &ScimWorld, name: &str) -> Value {
    let user_name = format!("{}.{name}@example.com", w.run_id());
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": name, "familyName": "Example"},
        "emails": [{"type": "work", "primary": true, "value": user_name}],
        "active": true
    })
}

/// POSTs a body and remembers the created resource; fails unless 201 with an id.
pub(crate) async fn create_named(w: &mut ScimWorld, name: &str, ep: &str, req: Request) -> Result<Value, StepFailure> {
    let r = w.send(req).await?;
    let created = r.json().filter(|_| r.status == 201);
    let Some(id) = created.as_ref().and_then(|v| v.get("id")).and_then(Value::as_str).map(str::to_owned) else {
        return Err(failure(format!(
            "expected 201 Created with an id for {name:?}; got {}: {}",
            r.label(),
            r.describe()
        )));
    };
    w.remember(name, ep, &id);
    let body = created.unwrap_or(Value::Null);
    for attr in ["userName", "displayName"] {
        if let Some(v) = body.get(attr).and_then(Value::as_str) {
            w.vars.set(&format!("{name}.{attr}"), v.to_owned());
        }
    }
    Ok(body)
}

async fn user(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let name = args(&ctx)[0].clone();
    let body = user_body(w, &name);
    create_named(w, &name, "/Users", Request::new(Method::POST, "/Users").raw(SCIM_JSON, body.to_string()))
        .await
        .map(drop)
}

async fn user_with(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let name = args(&ctx)[0].clone();
    let extra: Value = serde_json::from_str(&w.render(&docstring(&ctx)?)?)
        .map_err(|e| failure(format!("the doc string is not a JSON object: {e}")))?;
    let mut body = user_body(w, &name);
    if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
        b.extend(e);
    }
    create_named(w, &name, "/Users", Request::new(Method::POST, "/Users").raw(SCIM_JSON, body.to_string()))
        .await
        .map(drop)
}

fn group_body(w: &ScimWorld, name: &str, members: Vec<Value>) -> Value {
    json!({"schemas": [GROUP_URN], "displayName": format!("{} {name}", w.run_id()), "members": members})
}

async fn group(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let name = args(&ctx)[0].clone();
    let body = group_body(w, &name, Vec::new());
    create_named(w, &name, "/Groups", Request::new(Method::POST, "/Groups").raw(SCIM_JSON, body.to_string()))
        .await
        .map(drop)
}

async fn group_with(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let members =
        names(&a[1]).iter().map(|m| w.id_of(m).map(|id| json!({"value": id}))).collect::<Result<Vec<_>, _>>()?;
    let body = group_body(w, &a[0], members);
    create_named(w, &a[0], "/Groups", Request::new(Method::POST, "/Groups").raw(SCIM_JSON, body.to_string()))
        .await
        .map(drop)
}

async fn read(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let path = w.path_of(&args(&ctx)[1])?;
    w.send(Request::new(Method::GET, path)).await.map(drop)
}

async fn patch(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let path = w.path_of(&args(&ctx)[1])?;
    let doc: Value = serde_json::from_str(&w.render(&docstring(&ctx)?)?)
        .map_err(|e| failure(format!("the doc string is not JSON: {e}")))?;
    let body = if doc.is_array() { json!({"schemas": [PATCH_URN], "Operations": doc}) } else { doc };
    w.send(Request::new(Method::PATCH, path).raw(SCIM_JSON, body.to_string())).await.map(drop)
}

async fn delete(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let path = w.path_of(&args(&ctx)[1])?;
    w.send(Request::new(Method::DELETE, path)).await.map(drop)
}

async fn filter(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let f = w.render(&a[1])?;
    w.send(Request::new(Method::GET, format!("{}?filter={}", endpoint(&a[0]), encode(&f)))).await.map(drop)
}

async fn total(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let n: i64 = args(&ctx)[0].parse().map_err(|_| failure("a count"))?;
    judge_last(w, "totalResults", Test::Equals(Value::from(n)))
}

/// The ids of the last ListResponse's resources, in order.
fn result_ids(w: &ScimWorld) -> Result<Vec<String>, StepFailure> {
    let body = w.last_json()?;
    Ok(resolve(&body, "Resources.id").into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
}

/// Names for ids, for messages: a named resource shows as its name, anything else as its id.
fn label(w: &ScimWorld, ids: &[String]) -> Vec<String> {
    ids.iter()
        .map(|id| w.named.iter().find(|(_, (_, i))| i == id).map_or_else(|| id.clone(), |(n, _)| format!("{n:?}")))
        .collect()
}

fn ids_of(w: &ScimWorld, list: &str) -> Result<Vec<String>, StepFailure> {
    names(list).iter().map(|n| w.id_of(n)).collect()
}

async fn results_exactly(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let mut want = ids_of(w, &args(&ctx)[0])?;
    let mut got = result_ids(w)?;
    want.sort();
    got.sort();
    if want == got {
        Ok(())
    } else {
        Err(failure(format!("expected results {:?}; got {:?}", label(w, &want), label(w, &got))))
    }
}

async fn results_in_order(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let want = ids_of(w, &args(&ctx)[0])?;
    let got = result_ids(w)?;
    if want == got {
        Ok(())
    } else {
        Err(failure(format!("expected results in order {:?}; got {:?}", label(w, &want), label(w, &got))))
    }
}

/// GETs a named resource, expecting 200 with JSON.
async fn fetch(w: &mut ScimWorld, name: &str) -> Result<(Value, Response), StepFailure> {
    let path = w.path_of(name)?;
    let r = w.send(Request::new(Method::GET, path)).await?;
    match r.json().filter(|_| r.status == 200) {
        Some(v) => Ok((v, r)),
        None => Err(failure(format!("expected to read {name:?} back; got {}", r.summary()))),
    }
}

/// Reads a named resource back and judges a test on it (the tests scenario files use).
async fn judge_named(w: &mut ScimWorld, name: &str, path: &str, test: Test) -> StepResult {
    fetch(w, name).await?;
    judge_last(w, path, test).map_err(|e| failure(format!("{name:?}: {}", e.0)))
}

async fn has_value(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let want = json_literal(&w.render(&a[3])?)?;
    judge_named(w, &a[1], &a[2], Test::Equals(want)).await
}

async fn has_no(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    judge_named(w, &a[1], &a[2], Test::Present(false)).await
}

async fn is_active(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    judge_named(w, &a[0], "active", Test::Equals(Value::Bool(a[1] == "active"))).await
}

async fn member_ids(w: &mut ScimWorld, group: &str) -> Result<Vec<String>, StepFailure> {
    let (body, _) = fetch(w, group).await?;
    let mut ids: Vec<String> =
        resolve(&body, "members.value").into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    ids.sort();
    Ok(ids)
}

async fn members_exactly(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let mut want = ids_of(w, &a[1])?;
    want.sort();
    let got = member_ids(w, &a[0]).await?;
    if want == got {
        Ok(())
    } else {
        Err(failure(format!(
            "expected group {:?} to have exactly the members {:?}; it has {:?}",
            a[0],
            label(w, &want),
            label(w, &got)
        )))
    }
}

async fn no_members(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let group = args(&ctx)[0].clone();
    let got = member_ids(w, &group).await?;
    if got.is_empty() {
        Ok(())
    } else {
        Err(failure(format!("expected group {group:?} to have no members; it has {:?}", label(w, &got))))
    }
}

async fn user_in_groups(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let want = ids_of(w, &a[1])?;
    let (body, r) = fetch(w, &a[0]).await?;
    let got: Vec<String> =
        resolve(&body, "groups.value").into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
    let missing: Vec<String> = want.iter().filter(|g| !got.contains(g)).cloned().collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(failure(format!(
            "expected {:?} in groups {:?}; its groups are {:?} ({})",
            a[0],
            label(w, &missing),
            label(w, &got),
            r.label()
        )))
    }
}

async fn gone(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let path = w.path_of(&a[1])?;
    let r = w.send(Request::new(Method::GET, path)).await?;
    if r.status == 404 {
        Ok(())
    } else {
        Err(failure(format!("expected {:?} to be gone (HTTP 404); got {}", a[1], r.summary())))
    }
}

async fn succeeded(w: &mut ScimWorld, _ctx: Context) -> StepResult {
    let r = w.last()?;
    if (200..300).contains(&r.status) {
        Ok(())
    } else {
        Err(failure(format!("expected a 2xx status; got {}", r.summary())))
    }
}

fn refused_with(w: &ScimWorld, status: &str, scim_type: Option<&str>) -> StepResult {
    let want: u16 = status.parse().map_err(|_| failure("a status"))?;
    let r = w.last()?;
    let body = r.json().unwrap_or(Value::Null);
    let is_error =
        resolve(&body, "schemas").iter().any(|s| s.as_str() == Some("urn:ietf:params:scim:api:messages:2.0:Error"));
    let got_type = body.get("scimType").and_then(Value::as_str);
    if r.status == want && is_error && scim_type.is_none_or(|t| got_type == Some(t)) {
        return Ok(());
    }
    let what = scim_type.map_or_else(String::new, |t| format!(" and scimType {t:?}"));
    Err(failure(format!("expected a SCIM Error with HTTP {want}{what}; got {}", r.summary())))
}

async fn refused(w: &mut ScimWorld, ctx: Context) -> StepResult {
    refused_with(w, &args(&ctx)[0], None)
}

async fn refused_type(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    refused_with(w, &a[0], Some(&a[1]))
}
