//! Generic HTTP and JSON steps: send any request, judge status, headers and body, remember values. Enough to write a
//! new scenario for any endpoint without Rust.

use cucumber::step::Context;
use reqwest::Method;
use serde_json::Value;

use super::{StepDef, args, docstring, json_literal};
use crate::features::world::{ScimWorld, StepResult, failure};
use crate::http::{Request, SCIM_JSON};
use crate::replay::assert::{Test, evaluate, resolve, show};

/// The steps of this module.
pub fn steps() -> Vec<StepDef> {
    vec![
        crate::step!(
            r#"^I send a (GET|DELETE) request to "(.*)"$"#,
            "Sends a request to a path relative to the SCIM base URL (`{{name}}` is replaced by a remembered value).",
            r#"When I send a GET request to "/Users?filter=userName eq \"{{alice.userName}}\"""#,
            send
        ),
        crate::step!(
            r#"^I send a (POST|PUT|PATCH) request to "(.*)" with body:$"#,
            "Sends the doc string below the step as an `application/scim+json` body.",
            "When I send a POST request to \"/Users\" with body:\n  \"\"\"\n  {\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"], \"userName\": \"{{run}}.bjensen\"}\n  \"\"\"",
            send_body
        ),
        crate::step!(
            r#"^I send a (POST|PUT|PATCH) request to "(.*)" with content type "(.*)" and body:$"#,
            "Sends the doc string with another content type (for media-type checks).",
            "When I send a POST request to \"/Users\" with content type \"text/plain\" and body:",
            send_typed
        ),
        crate::step!(
            r"^the response status is (\d{3})$",
            "The last response has exactly this status.",
            "Then the response status is 201",
            status_is
        ),
        crate::step!(
            r"^the response status is one of ([\d, or]+)$",
            "The last response has one of these statuses.",
            "Then the response status is one of 200, 204",
            status_one_of
        ),
        crate::step!(
            r#"^the response header "([^"]+)" contains "(.*)"$"#,
            "A header of the last response contains the text (case-insensitive name).",
            r#"Then the response header "Content-Type" contains "application/scim+json""#,
            header_contains
        ),
        crate::step!(
            r#"^the response body at "(.*)" is ("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)$"#,
            "The path (dotted, case-insensitive, as in scenario files) names exactly one value, equal to this JSON value.",
            r#"Then the response body at "name.givenName" is "Barbara""#,
            body_is
        ),
        crate::step!(
            r#"^the response body at "(.*)" contains ("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)$"#,
            "One of the values at the path equals this JSON value.",
            r#"Then the response body at "emails.value" contains "bjensen@example.com""#,
            body_contains
        ),
        crate::step!(
            r#"^the response body at "(.*)" does not contain ("(?:[^"\\]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?)$"#,
            "None of the values at the path equals this JSON value.",
            r#"Then the response body at "members.value" does not contain "{{bob}}""#,
            body_excludes
        ),
        crate::step!(
            r#"^the response body at "(.*)" has (\d+) values?$"#,
            "The path names this many values (a multi-valued attribute counts each element).",
            r#"Then the response body at "Resources" has 2 values"#,
            body_count
        ),
        crate::step!(
            r#"^the response body at "(.*)" is (absent|present)$"#,
            "The path names nothing / something. A quoted key (`'\"name.givenName\"'`) is taken literally.",
            r#"Then the response body at "password" is absent"#,
            body_presence
        ),
        crate::step!(
            r#"^I remember the response body at "(.*)" as "([^"]+)"$"#,
            "Keeps a value of the last response for later steps as `{{name}}`.",
            r#"And I remember the response body at "id" as "alice_id""#,
            remember_body
        ),
        crate::step!(
            r#"^I remember the response header "([^"]+)" as "([^"]+)"$"#,
            "Keeps a header of the last response as `{{name}}`.",
            r#"And I remember the response header "ETag" as "etag""#,
            remember_header
        ),
    ]
}

fn method(name: &str) -> Result<Method, crate::features::world::StepFailure> {
    Method::from_bytes(name.as_bytes()).map_err(|_| failure(format!("unknown method {name}")))
}

async fn send(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let path = w.render(&a[1])?;
    w.send(Request::new(method(&a[0])?, path)).await.map(drop)
}

async fn send_body(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let path = w.render(&a[1])?;
    let body = w.render(&docstring(&ctx)?)?;
    w.send(Request::new(method(&a[0])?, path).raw(SCIM_JSON, body)).await.map(drop)
}

async fn send_typed(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let path = w.render(&a[1])?;
    let body = w.render(&docstring(&ctx)?)?;
    w.send(Request::new(method(&a[0])?, path).raw(&a[2], body)).await.map(drop)
}

async fn status_is(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let want: u16 = args(&ctx)[0].parse().map_err(|_| failure("a three-digit status"))?;
    let r = w.last()?;
    if r.status == want { Ok(()) } else { Err(failure(format!("expected HTTP {want}; got {}", r.summary()))) }
}

async fn status_one_of(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let text = args(&ctx)[0].replace("or", ",");
    let want: Vec<u16> = text.split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let r = w.last()?;
    if want.contains(&r.status) {
        Ok(())
    } else {
        Err(failure(format!("expected one of HTTP {want:?}; got {}", r.summary())))
    }
}

async fn header_contains(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let want = w.render(&a[1])?;
    let r = w.last()?;
    match r.header(&a[0]) {
        Some(v) if v.to_ascii_lowercase().contains(&want.to_ascii_lowercase()) => Ok(()),
        Some(v) => Err(failure(format!("expected header {} to contain {want:?}; it is {v:?} ({})", a[0], r.label()))),
        None => Err(failure(format!("expected a header {}; there is none ({})", a[0], r.label()))),
    }
}

/// Judges a test on the last response's body at `path` (the tests scenario files use, so both judge alike).
pub(crate) fn judge_last(w: &ScimWorld, path: &str, test: Test) -> StepResult {
    let body = w.last_json()?;
    match evaluate(&body, path, &test) {
        None => Ok(()),
        Some(m) => Err(failure(format!("expected {}; got {} ({})", m.expected, m.actual, w.last()?.label()))),
    }
}

/// The path and the JSON literal of a body step, the literal rendered and parsed.
fn path_and_literal(w: &ScimWorld, ctx: &Context) -> Result<(String, Value), crate::features::world::StepFailure> {
    let a = args(ctx);
    Ok((a[0].clone(), json_literal(&w.render(&a[1])?)?))
}

async fn body_is(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let (path, want) = path_and_literal(w, &ctx)?;
    judge_last(w, &path, Test::Equals(want))
}

async fn body_contains(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let (path, want) = path_and_literal(w, &ctx)?;
    judge_last(w, &path, Test::Contains(vec![want]))
}

async fn body_excludes(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let (path, want) = path_and_literal(w, &ctx)?;
    judge_last(w, &path, Test::Excludes(vec![want]))
}

async fn body_count(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let n: usize = a[1].parse().map_err(|_| failure("a count"))?;
    judge_last(w, &a[0], Test::Count(n))
}

async fn body_presence(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    judge_last(w, &a[0], Test::Present(a[1] == "present"))
}

async fn remember_body(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let body = w.last_json()?;
    let value = match resolve(&body, &a[0]).as_slice() {
        [Value::String(s)] => s.clone(),
        [v] => v.to_string(),
        other => return Err(failure(format!("expected one value at {} to remember; found {}", a[0], show(other)))),
    };
    w.vars.set(&a[1], value);
    Ok(())
}

async fn remember_header(w: &mut ScimWorld, ctx: Context) -> StepResult {
    let a = args(&ctx);
    let v = w.last()?.header(&a[0]).map(str::to_owned).ok_or_else(|| failure(format!("no header {}", a[0])))?;
    w.vars.set(&a[1], v);
    Ok(())
}
