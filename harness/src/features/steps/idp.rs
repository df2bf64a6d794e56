//! Steps in which a mock identity provider acts: each sends exactly the request Okta or Entra (in the named mode)
//! sends, built by [`crate::idp::MockClient`], and fails unless the server answers 2xx, as the IdP would treat any
//! other answer as a provisioning error.

use cucumber::step::Context;

use super::{StepDef, args, names};
use crate::features::world::{ScimWorld, StepFailure, StepResult, failure};
use crate::http::Request;
use crate::idp::{EntraMode, MockClient, NewUser};

/// The IdP phrases: `Okta`, `Entra in legacy mode`, `Entra in aadOptscim062020 mode`, `Entra` (legacy).
macro_rules! idp {
    ($rest:literal) => {
        concat!(r"^(Okta|Entra in legacy mode|Entra in aadOptscim062020 mode|Entra) ", $rest)
    };
}

/// The steps of this module.
pub fn steps() -> Vec<StepDef> {
    vec![
        crate::step!(
            idp!(r#"provisions user ["']([^"']+)["']$"#),
            "The IdP looks the user up by userName, then creates it with its own body shape (Entra: enterprise \
             extension, `meta`, `roles: []`; Okta: `groups: []`).",
            r#"When Okta provisions user "dana""#,
            provision
        ),
        crate::step!(
            idp!(r#"creates group ["']([^"']+)["']$"#),
            "The IdP creates a group its way (Entra: with its ADSCIM schema URN and no members; Okta: `members: []`).",
            r#"When Entra in legacy mode creates group "ops""#,
            create_group
        ),
        crate::step!(
            idp!(r#"adds members? ((?:["'][^"']+["'](?:, | and )?)+) to group ["']([^"']+)["']$"#),
            "The IdP adds members in one PATCH (Entra: `{\"$ref\": null, \"value\"}` elements; Okta: `value` and \
             `display`).",
            r#"When Entra in legacy mode adds members "alice" and "bob" to group "eng""#,
            add_members
        ),
        crate::step!(
            idp!(r#"removes members? ((?:["'][^"']+["'](?:, | and )?)+) from group ["']([^"']+)["']$"#),
            "The IdP removes members (Entra legacy: `Remove` of `members` with a value list; otherwise \
             `members[value eq \"…\"]`).",
            r#"When Entra in legacy mode removes member 'bob' from group 'eng'"#,
            remove_members
        ),
        crate::step!(
            idp!(r#"deactivates user ["']([^"']+)["']$"#),
            "The IdP sets `active` false (Entra legacy: `\"Replace\"` with `\"False\"`; Okta: a path-less replace).",
            r#"When Entra in legacy mode deactivates user "alice""#,
            deactivate
        ),
        crate::step!(
            idp!(r#"reactivates user ["']([^"']+)["']$"#),
            "The IdP sets `active` true again.",
            r#"When Okta reactivates user "alice""#,
            reactivate
        ),
        crate::step!(
            idp!(r#"renames group ["']([^"']+)["'] to "(.*)"$"#),
            "The IdP renames the group (Okta: a path-less replace carrying the read-only `id`).",
            r#"When Okta renames group "eng" to "Engineering""#,
            rename_group
        ),
        crate::step!(
            idp!(r#"updates user ["']([^"']+)["'] with given name "(.*)" and work email "(.*)"$"#),
            "The IdP updates two attributes in its mode's shape (Entra 2020: a path-less op with dotted keys).",
            r#"When Entra in aadOptscim062020 mode updates user "alice" with given name "Ally" and work email "ally@example.com""#,
            update_profile
        ),
        crate::step!(
            idp!(r#"sets the manager of user ["']([^"']+)["'] to ["']([^"']+)["']$"#),
            "The IdP sets the enterprise `manager` (Entra: the manager's id as a bare string).",
            r#"When Entra in legacy mode sets the manager of user "bob" to "alice""#,
            set_manager
        ),
    ]
}

fn client(phrase: &str) -> MockClient {
    match phrase {
        "Okta" => MockClient::okta(),
        "Entra in aadOptscim062020 mode" => MockClient::entra(EntraMode::Aad2020),
        _ => MockClient::entra(EntraMode::Legacy),
    }
}

/// Sends the IdP's request; anything but 2xx fails the step, as it fails the IdP's provisioning.
async fn act(w: &mut ScimWorld, idp: &MockClient, req: Request) -> Result<crate::http::Response, StepFailure> {
    let sent = format!("{} {}", req.method, req.path);
    let r = w.send(req).await?;
    if (200..300).contains(&r.status) {
        Ok(r)
    } else {
        Err(failure(format!("{} expects 2xx for {sent}; got {}: {}", idp.idp, r.status, r.describe())))
    }
}

async fn provision(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let idp = client(&a[0]);
    let user_name = format!("{}.{}@example.com", w.run_id(), a[1]);
    let lookup = act(w, &idp, idp.lookup_user(&user_name)).await?;
    let found = lookup.json().and_then(|v| v.get("totalResults").and_then(serde_json::Value::as_i64));
    if found != Some(0) {
        return Err(failure(format!("expected the lookup before create to find nothing; got {}", lookup.describe())));
    }
    let user = NewUser::generated(&user_name, &format!("{}-{}", w.run_id(), a[1]));
    super::scim::create_named(w, &a[1], "/Users", idp.create_user(&user)).await.map(drop)
}

async fn create_group(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let idp = client(&a[0]);
    let name = format!("{} {}", w.run_id(), a[1]);
    let req = idp.create_group(&name, &format!("{}-{}", w.run_id(), a[1]));
    super::scim::create_named(w, &a[1], "/Groups", req).await.map(drop)
}

fn members(w: &ScimWorld, list: &str) -> Result<Vec<(String, String)>, StepFailure> {
    names(list)
        .iter()
        .map(|n| Ok((w.id_of(n)?, w.vars.get(&format!("{n}.userName")).unwrap_or(n).to_owned())))
        .collect()
}

async fn add_members(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let idp = client(&a[0]);
    let m = members(w, &a[1])?;
    let refs: Vec<(&str, &str)> = m.iter().map(|(i, d)| (i.as_str(), d.as_str())).collect();
    let req = idp.add_members(&w.id_of(&a[2])?, &refs);
    act(w, &idp, req).await.map(drop)
}

async fn remove_members(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let idp = client(&a[0]);
    let m = members(w, &a[1])?;
    let ids: Vec<&str> = m.iter().map(|(i, _)| i.as_str()).collect();
    let req = idp.remove_members(&w.id_of(&a[2])?, &ids);
    act(w, &idp, req).await.map(drop)
}

async fn set_active(w: &mut ScimWorld, ctx: Context, active: bool) -> StepResult {
    let a = args(&ctx);
    let idp = client(&a[0]);
    let req = idp.set_active(&w.id_of(&a[1])?, active);
    act(w, &idp, req).await.map(drop)
}

async fn deactivate(w: &mut ScimWorld, ctx: Context) -> StepResult {
    set_active(w, ctx, false).await
}

async fn reactivate(w: &mut ScimWorld, ctx: Context) -> StepResult {
    set_active(w, ctx, true).await
}

async fn rename_group(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let idp = client(&a[0]);
    let name = w.render(&a[2])?;
    let req = idp.rename_group(&w.id_of(&a[1])?, &name);
    act(w, &idp, req).await.map(drop)
}

async fn update_profile(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let idp = client(&a[0]);
    let (given, email) = (w.render(&a[2])?, w.render(&a[3])?);
    let req = idp.update_profile(&w.id_of(&a[1])?, &given, &email);
    act(w, &idp, req).await.map(drop)
}

async fn set_manager(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let idp = client(&a[0]);
    let req = idp.set_manager(&w.id_of(&a[1])?, &w.id_of(&a[2])?);
    act(w, &idp, req).await.map(drop)
}
