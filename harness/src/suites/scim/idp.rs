//! What Okta and Microsoft Entra ID really send, and a server must accept to work with them: request shapes that a
//! strict reading of RFC 7644 may refuse. The checks run under the `okta` and `entra` profiles (where they are
//! MUST: that IdP's provisioning breaks without them) and never under `rfc`, which judges the RFC alone.
//!
//! Sources for each shape: Microsoft's "Known issues and resolutions with SCIM 2.0 protocol compliance of the
//! Microsoft Entra user provisioning service" and "Tutorial: Develop and plan provisioning for a SCIM endpoint";
//! Okta's "SCIM 2.0 protocol reference"; and issue threads of SCIM servers that had to accept them
//! (scim-for-keycloak #73, wire-server #5419, SCIM-SDK #416). Every request comes from the mock clients of
//! [`crate::idp`], the same builders the initial-sync load and the Gherkin steps use.

use serde_json::{Value, json};

use super::util::{fetch, group_path, id_of, user_path};
use crate::check;
use crate::check::{Check, Step, ensure, fail};
use crate::http::Request;
use crate::idp::{EntraMode, Idp, MockClient, NewUser};
use crate::runner::{Ctx, get_ci, path_at, str_at};

const ENTRA_LEGACY: &str = "Microsoft Entra ID (default mode) sends PATCH operations with capitalised \"op\" values and booleans as the strings \"True\" and \"False\", and removes group members with {\"op\":\"Remove\",\"path\":\"members\",\"value\":[{\"value\":\"<id>\"}]}, expecting only the listed members to go.";
const ENTRA_2020: &str = "With the aadOptscim062020 flag, Microsoft Entra ID sends path-less replace operations whose value keys are attribute paths (\"name.givenName\", \"urn:...:enterprise:2.0:User:employeeNumber\").";
const ENTRA_CREATE: &str = "Microsoft Entra ID sets emails[type eq \"work\"].value on users that have no work email yet, with replace as well as add, and expects the email to be created.";
const ENTRA_TEST: &str = "Microsoft Entra ID's \"Test connection\" queries GET /Users?filter=userName eq \"<random GUID>\" and expects 200 with an empty ListResponse.";
const OKTA_ACTIVE: &str =
    "Okta deactivates a user with the path-less PATCH {\"op\":\"replace\",\"value\":{\"active\":false}}.";
const OKTA_RENAME: &str = "Okta renames a pushed group with {\"op\":\"replace\",\"value\":{\"id\":\"<group id>\",\"displayName\":\"...\"}}, the read-only id included.";
const OKTA_CREATE: &str = "Okta creates users with the write-only password (when password sync is on) and \"groups\": [], and treats an empty 201 body as a failure.";

macro_rules! idp_check {
    ($id:expr, $title:expr, $idp:expr, $section:expr, $text:expr, $body:path, [$($tag:expr),*]) => {
        check! { id: $id, title: $title, spec: ($idp, $section, $text), level: Should, tags: ["idp", $($tag),*], run: $body }
    };
}

/// The IdP checks.
pub fn checks() -> Vec<Check> {
    vec![
        idp_check!(
            "scim.entra.capitalised-op",
            "PATCH with \"op\": \"Replace\" is applied",
            "Microsoft Entra ID",
            "SCIM compliance, PATCH",
            ENTRA_LEGACY,
            capitalised_op,
            ["entra", "entra-must"]
        ),
        idp_check!(
            "scim.entra.string-boolean",
            "PATCH of active with the string \"False\" deactivates the user",
            "Microsoft Entra ID",
            "SCIM compliance, PATCH",
            ENTRA_LEGACY,
            string_boolean,
            ["entra", "entra-must"]
        ),
        idp_check!(
            "scim.entra.remove-member-by-value",
            "Remove of members with a value list removes only the listed members",
            "Microsoft Entra ID",
            "SCIM compliance, group PATCH",
            ENTRA_LEGACY,
            remove_member_by_value,
            ["entra", "entra-must"]
        ),
        idp_check!(
            "scim.entra.pathless-dotted-keys",
            "A path-less replace with dotted and URN keys updates those attributes",
            "Microsoft Entra ID",
            "aadOptscim062020",
            ENTRA_2020,
            pathless_dotted_keys,
            ["entra", "entra-must"]
        ),
        idp_check!(
            "scim.entra.create-on-absent",
            "replace of emails[type eq \"work\"].value creates the work email when there is none",
            "Microsoft Entra ID",
            "SCIM compliance, multi-valued attributes",
            ENTRA_CREATE,
            create_on_absent,
            ["entra", "entra-must"]
        ),
        idp_check!(
            "scim.entra.connection-test",
            "A filter on an unknown userName answers 200 with an empty list",
            "Microsoft Entra ID",
            "Test connection",
            ENTRA_TEST,
            connection_test,
            ["entra", "entra-must", "okta"]
        ),
        idp_check!(
            "scim.okta.pathless-active",
            "A path-less replace of active deactivates the user",
            "Okta",
            "SCIM 2.0 protocol reference, update user",
            OKTA_ACTIVE,
            pathless_active,
            ["okta", "okta-must"]
        ),
        idp_check!(
            "scim.okta.group-rename-with-id",
            "A path-less replace carrying the group's read-only id renames the group",
            "Okta",
            "SCIM 2.0 protocol reference, group push",
            OKTA_RENAME,
            group_rename_with_id,
            ["okta", "okta-must"]
        ),
        idp_check!(
            "scim.okta.create-with-password",
            "POST with password and \"groups\": [] creates the user and never returns the password",
            "Okta",
            "SCIM 2.0 protocol reference, create user",
            OKTA_CREATE,
            create_with_password,
            ["okta", "okta-must"]
        ),
    ]
}

/// Sends a mock client's request, expects success (200 or 204), and returns the resource read back afterwards.
async fn apply(ctx: &Ctx, req: Request, read_back: &str) -> Step<Value> {
    let sent = format!("{} {} {}", req.method, req.path, req.body.as_deref().unwrap_or(""));
    let r = ctx.send(req).await?;
    if r.status != 200 && r.status != 204 {
        return Err(fail(format!("{sent} to succeed (200 or 204)"), r.summary()));
    }
    fetch(ctx, read_back).await
}

const LEGACY: MockClient = MockClient::of(Idp::Entra(EntraMode::Legacy));
const AAD2020: MockClient = MockClient::of(Idp::Entra(EntraMode::Aad2020));
const OKTA: MockClient = MockClient::of(Idp::Okta);

async fn capitalised_op(ctx: &Ctx) -> Step {
    let v = ctx.create_user("capop", json!({"name": {"givenName": "Before"}})).await?;
    let got = apply(
        ctx,
        LEGACY.update_profile(&id_of(&v), "After", &format!("{}@example.com", ctx.unique("w"))),
        &user_path(&v),
    )
    .await?;
    ensure(path_at(&got, "name.givenName").and_then(Value::as_str) == Some("After"), "name.givenName \"After\"", || {
        got.to_string()
    })
}

async fn string_boolean(ctx: &Ctx) -> Step {
    let v = ctx.create_user("strbool", json!({"active": true})).await?;
    let got = apply(ctx, LEGACY.set_active(&id_of(&v), false), &user_path(&v)).await?;
    ensure(get_ci(&got, "active") == Some(&Value::Bool(false)), "active false (a boolean)", || got.to_string())
}

fn member_ids(g: &Value) -> Vec<String> {
    get_ci(g, "members")
        .and_then(Value::as_array)
        .map(|m| m.iter().filter_map(|m| str_at(m, "value").map(str::to_owned)).collect())
        .unwrap_or_default()
}

async fn remove_member_by_value(ctx: &Ctx) -> Step {
    let a = id_of(&ctx.create_user("rma", json!({})).await?);
    let b = id_of(&ctx.create_user("rmb", json!({})).await?);
    let g = ctx.create_group("rmg", json!({"members": [{"value": a}, {"value": b}]})).await?;
    let got = apply(ctx, LEGACY.remove_members(&id_of(&g), &[a.as_str()]), &group_path(&g)).await?;
    let left = member_ids(&got);
    ensure(left == [b.clone()], format!("only the listed member removed: members [{b}]"), || {
        format!("members {left:?}")
    })
}

async fn pathless_dotted_keys(ctx: &Ctx) -> Step {
    let v = ctx
        .create_user(
            "dotted",
            json!({"name": {"givenName": "Old", "familyName": "Keep"}, "emails": [{"type": "work", "value": "old@example.com"}]}),
        )
        .await?;
    let got = apply(ctx, AAD2020.update_profile(&id_of(&v), "New", "new@example.com"), &user_path(&v)).await?;
    ensure(
        path_at(&got, "name.givenName").and_then(Value::as_str) == Some("New")
            && path_at(&got, "name.familyName").and_then(Value::as_str) == Some("Keep")
            && got.get("name.givenName").is_none(),
        "name.givenName \"New\", familyName kept, and no literal \"name.givenName\" key",
        || got.to_string(),
    )
}

async fn create_on_absent(ctx: &Ctx) -> Step {
    let v = ctx.create_user("absent", json!({})).await?;
    let got = apply(ctx, LEGACY.update_profile(&id_of(&v), "Given", "created@example.com"), &user_path(&v)).await?;
    let work = get_ci(&got, "emails")
        .and_then(Value::as_array)
        .and_then(|e| e.iter().find(|e| str_at(e, "type") == Some("work")))
        .and_then(|e| str_at(e, "value"));
    ensure(work == Some("created@example.com"), "a work email \"created@example.com\"", || got.to_string())
}

async fn connection_test(ctx: &Ctx) -> Step {
    let r = ctx.send(LEGACY.connection_test(&format!("{}-8e4f1d4e-3b3a-4c0e", ctx.prefix()))).await?;
    crate::runner::expect_status(&r, 200, "a 200 ListResponse")?;
    let list = crate::runner::json_body(&r)?;
    let total = get_ci(&list, "totalResults").and_then(Value::as_i64);
    ensure(total == Some(0), "totalResults 0", || list.to_string())
}

async fn pathless_active(ctx: &Ctx) -> Step {
    let v = ctx.create_user("oktaact", json!({"active": true})).await?;
    let got = apply(ctx, OKTA.set_active(&id_of(&v), false), &user_path(&v)).await?;
    ensure(get_ci(&got, "active") == Some(&Value::Bool(false)), "active false", || got.to_string())
}

async fn group_rename_with_id(ctx: &Ctx) -> Step {
    let g = ctx.create_group("oktarename", json!({})).await?;
    let name = ctx.unique("renamed");
    let got = apply(ctx, OKTA.rename_group(&id_of(&g), &name), &group_path(&g)).await?;
    ensure(str_at(&got, "displayName") == Some(name.as_str()), format!("displayName {name:?}"), || got.to_string())
}

async fn create_with_password(ctx: &Ctx) -> Step {
    let user_name = format!("{}@example.com", ctx.unique("oktapw"));
    let r =
        ctx.send(OKTA.with_password_sync().create_user(&NewUser::generated(&user_name, &ctx.unique("ext")))).await?;
    crate::runner::expect_status(&r, 201, "POST /Users answers 201 Created")?;
    let v = crate::runner::json_body(&r)?;
    if let Some(id) = str_at(&v, "id") {
        ctx.cleanup_later(format!("/Users/{id}"));
    }
    ensure(
        str_at(&v, "id").is_some() && get_ci(&v, "password").is_none(),
        "a 201 body with the user's id and without password",
        || v.to_string(),
    )
}
