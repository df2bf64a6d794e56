//! Helpers shared by the SCIM checks: error assertions, ListResponse access, and the three-user filter fixture.

use serde_json::{Value, json};

use crate::check::{Step, fail};
use crate::http::Response;
use crate::runner::{Ctx, get_ci, json_body, str_at};

/// The ListResponse schema URN (RFC 7644 §3.4.2).
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The Error schema URN (RFC 7644 §3.12).
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Fails unless the response is an error with this status and, when given, this `scimType`.
pub fn expect_error(r: &Response, status: u16, scim_type: Option<&str>, what: &str) -> Step {
    let expected = match scim_type {
        Some(t) => format!("{what}: HTTP {status} with scimType \"{t}\""),
        None => format!("{what}: HTTP {status}"),
    };
    if r.status != status {
        return Err(fail(expected, r.summary()));
    }
    if let Some(t) = scim_type {
        let got = r.json().and_then(|v| str_at(&v, "scimType").map(str::to_owned));
        if got.as_deref() != Some(t) {
            let got = got.map_or_else(|| "no scimType".to_owned(), |g| format!("scimType \"{g}\""));
            return Err(fail(expected, format!("HTTP {status} with {got}: {}", r.describe())));
        }
    }
    Ok(())
}

/// The `Resources` of a ListResponse (empty when absent, as RFC 7644 allows for zero results).
pub fn resources(list: &Value) -> Vec<Value> {
    get_ci(list, "Resources").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The `id`s of a ListResponse's resources.
pub fn ids(list: &Value) -> Vec<String> {
    resources(list).iter().filter_map(|r| str_at(r, "id").map(str::to_owned)).collect()
}

/// The `userName`s of a ListResponse's resources.
pub fn user_names(list: &Value) -> Vec<String> {
    resources(list).iter().filter_map(|r| str_at(r, "userName").map(str::to_owned)).collect()
}

/// An integer member of a ListResponse (`totalResults`, `startIndex`, `itemsPerPage`).
pub fn int_at(v: &Value, name: &str) -> Option<i64> {
    get_ci(v, name).and_then(Value::as_i64)
}

/// `/Users/{id}` for a resource returned by the server.
pub fn user_path(user: &Value) -> String {
    format!("/Users/{}", str_at(user, "id").unwrap_or_default())
}

/// `/Groups/{id}` for a resource returned by the server.
pub fn group_path(group: &Value) -> String {
    format!("/Groups/{}", str_at(group, "id").unwrap_or_default())
}

/// The `id` of a resource (empty when missing; setup already checked it).
pub fn id_of(v: &Value) -> String {
    str_at(v, "id").unwrap_or_default().to_owned()
}

/// GETs a resource and returns its JSON, expecting 200.
pub async fn fetch(ctx: &Ctx, path: &str) -> Step<Value> {
    let r = ctx.get(path).await?;
    crate::runner::expect_status(&r, 200, &format!("GET {path} answers 200"))?;
    json_body(&r)
}

/// Three users with distinct attributes whose userNames all start with `prefix`:
///
/// | label | displayName      | title    | name.familyName | emails                                     |
/// |-------|------------------|----------|-----------------|--------------------------------------------|
/// | alpha | `Alpha {prefix}` | Engineer | `Alpha-{prefix}`| work `alpha-{prefix}@work.example`, home `alpha@home.example` |
/// | beta  | `Beta {prefix}`  | Manager  | `Beta-{prefix}` | work `beta-{prefix}@example.org`           |
/// | gamma | `Gamma {prefix}` | —        | `Gamma-{prefix}`| home `gamma@home.example`                  |
#[derive(Debug)]
pub struct Trio {
    /// Common userName prefix (unique to the check).
    pub prefix: String,
    /// alpha, beta, gamma as the server returned them.
    pub users: Vec<Value>,
}

impl Trio {
    /// Creates the three users.
    pub async fn create(ctx: &Ctx) -> Step<Trio> {
        let prefix = ctx.unique("f");
        let specs = [
            (
                "alpha",
                Some("Engineer"),
                json!([{"value": format!("alpha-{prefix}@work.example"), "type": "work"}, {"value": "alpha@home.example", "type": "home"}]),
            ),
            ("beta", Some("Manager"), json!([{"value": format!("beta-{prefix}@example.org"), "type": "work"}])),
            ("gamma", None, json!([{"value": "gamma@home.example", "type": "home"}])),
        ];
        let mut users = Vec::new();
        for (label, title, emails) in specs {
            let cap = format!("{}{}", label[..1].to_uppercase(), &label[1..]);
            let mut body = json!({
                "schemas": [crate::runner::USER_URN],
                "userName": format!("{prefix}-{label}"),
                "displayName": format!("{cap} {prefix}"),
                "name": {"givenName": cap, "familyName": format!("{cap}-{prefix}")},
                "emails": emails,
            });
            if let Some(t) = title {
                crate::runner::merge(&mut body, json!({"title": t}));
            }
            users.push(ctx.create("/Users", &body).await?);
        }
        Ok(Trio { prefix, users })
    }

    /// Runs `filter` on /Users and fails unless exactly the users with these labels match.
    pub async fn expect(&self, ctx: &Ctx, filter: &str, labels: &[&str]) -> Step {
        let list = ctx.list("/Users", filter, "count=100").await?;
        let mut got: Vec<String> = user_names(&list)
            .into_iter()
            .map(|n| {
                n.strip_prefix(&format!("{}-", self.prefix)).map_or_else(|| format!("(foreign) {n}"), str::to_owned)
            })
            .collect();
        got.sort();
        let mut want: Vec<String> = labels.iter().map(|l| (*l).to_owned()).collect();
        want.sort();
        if got == want {
            Ok(())
        } else {
            Err(fail(
                format!("filter {filter} to match exactly {want:?} of the fixture users alpha, beta, gamma"),
                format!("it matched {got:?}"),
            ))
        }
    }
}
