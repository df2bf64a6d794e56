//! Every management route × every kind of caller → the expected status: anonymous (401), a member (403), an
//! admin and an owner (success; the owner uses an admin JWT, everyone else a session with its CSRF token), another
//! workspace's admin (404 for this workspace's ids, their own data on collection routes), and an admin of a free
//! workspace (403 on SCIM management, which needs the enterprise plan).
//!
//! Not in the table: `POST /api/v1/session` (logging in needs no credentials; see `admin_flow::login_and_logout`),
//! `DELETE /api/v1/session` (it ends the caller's session; see `admin_csrf` and `admin_flow`), and the public
//! `/.well-known/jwks.json`, `/openapi.json` and `/docs`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::admin_support::{Auth, Ws, add_members, call, directory, workspace};
use crate::support::{Server, server};

#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    Member,
    Admin,
    Owner,
    OtherAdmin,
    FreeAdmin,
}

const WHO: [Who; 6] = [Who::Anonymous, Who::Member, Who::Admin, Who::Owner, Who::OtherAdmin, Who::FreeAdmin];

/// What a route needs in the target workspace before it is called.
#[derive(Debug, Clone, Copy)]
enum Fixture {
    None,
    Member,
    Directory,
    Token,
}

struct Route {
    method: Method,
    /// `{mem}`, `{dir}`, `{tok}` are replaced by a fresh fixture's id.
    path: &'static str,
    fixture: Fixture,
    body: Option<fn() -> Value>,
    /// Expected status for [anonymous, member, admin, owner, other workspace's admin, free-plan admin].
    expect: [u16; 6],
}

fn unique_name() -> Value {
    json!({"name": format!("n-{}", uuid::Uuid::new_v4().simple())})
}

fn routes() -> Vec<Route> {
    use Fixture as F;
    let r = |method: Method, path, fixture, body: Option<fn() -> Value>, expect| Route {
        method,
        path,
        fixture,
        body,
        expect,
    };
    vec![
        r(Method::GET, "/api/v1/session", F::None, None, [401, 200, 200, 200, 200, 200]),
        r(Method::GET, "/api/v1/admin/workspace", F::None, None, [401, 200, 200, 200, 200, 200]),
        r(Method::GET, "/api/v1/admin/members", F::None, None, [401, 403, 200, 200, 200, 200]),
        r(Method::GET, "/api/v1/admin/members/{mem}", F::Member, None, [401, 403, 200, 200, 404, 404]),
        r(
            Method::PATCH,
            "/api/v1/admin/members/{mem}",
            F::Member,
            Some(|| json!({"role": "admin"})),
            [401, 403, 200, 200, 404, 404],
        ),
        r(Method::DELETE, "/api/v1/admin/members/{mem}", F::Member, None, [401, 403, 204, 204, 404, 404]),
        r(Method::GET, "/scim/directories", F::None, None, [401, 403, 200, 200, 200, 403]),
        r(Method::POST, "/scim/directories", F::None, Some(unique_name), [401, 403, 201, 201, 201, 403]),
        r(Method::GET, "/scim/directories/{dir}", F::Directory, None, [401, 403, 200, 200, 404, 403]),
        r(Method::PATCH, "/scim/directories/{dir}", F::Directory, Some(unique_name), [401, 403, 200, 200, 404, 403]),
        r(Method::DELETE, "/scim/directories/{dir}", F::Directory, None, [401, 403, 204, 204, 404, 403]),
        r(Method::POST, "/scim/directories/{dir}/regenerate-token", F::Directory, None, [401, 403, 200, 200, 404, 403]),
        r(Method::GET, "/api/v1/admin/scim-tokens", F::None, None, [401, 403, 200, 200, 200, 403]),
        r(Method::GET, "/api/v1/admin/scim-tokens/endpoint-info", F::None, None, [401, 403, 200, 200, 200, 403]),
        r(Method::POST, "/api/v1/admin/scim-tokens?d={dir}", F::Directory, None, [401, 403, 201, 201, 404, 403]),
        r(Method::GET, "/api/v1/admin/scim-tokens/{tok}", F::Token, None, [401, 403, 200, 200, 404, 403]),
        r(
            Method::PATCH,
            "/api/v1/admin/scim-tokens/{tok}",
            F::Token,
            Some(unique_name),
            [401, 403, 200, 200, 404, 403],
        ),
        r(Method::DELETE, "/api/v1/admin/scim-tokens/{tok}", F::Token, None, [401, 403, 204, 204, 404, 403]),
    ]
}

fn auth(who: Who, ws: &Ws, other: &Ws, free: &Ws) -> Auth {
    match who {
        Who::Anonymous => Auth::None,
        Who::Member => ws.member.session(),
        Who::Admin => ws.admin.session(),
        Who::Owner => Auth::Bearer(ws.owner_jwt.clone()),
        Who::OtherAdmin => other.admin.session(),
        Who::FreeAdmin => free.admin.session(),
    }
}

async fn fixture(s: &Server, ws: &Ws, f: Fixture, path: &str) -> (String, Option<Value>) {
    match f {
        Fixture::None => (path.to_owned(), None),
        Fixture::Member => {
            let email = format!("m-{}@example.test", uuid::Uuid::new_v4().simple());
            add_members(s, &ws.id, "enterprise", &[(&email, "member")]).await;
            let id = s
                .state
                .scim
                .members(&ws.id)
                .into_iter()
                .find(|m| m.email == email)
                .map(|m| m.id)
                .expect("seeded member");
            (path.replace("{mem}", &id), None)
        }
        Fixture::Directory => {
            let (dir, _, _) = directory(s, ws).await;
            if path.contains("?d=") {
                // Creating a token names the directory in the body, not the path.
                let body = json!({"name": format!("t-{}", uuid::Uuid::new_v4().simple()), "directory_id": dir});
                (path.split('?').next().unwrap_or(path).to_owned(), Some(body))
            } else {
                (path.replace("{dir}", &dir), None)
            }
        }
        Fixture::Token => {
            let (_, _, tok) = directory(s, ws).await;
            (path.replace("{tok}", &tok), None)
        }
    }
}

#[tokio::test]
async fn every_route_for_every_caller() {
    let s = server();
    let ws = workspace(s, "enterprise").await;
    let other = workspace(s, "enterprise").await;
    let free = workspace(s, "free").await;
    // The other workspace has a directory, so its own collection routes have something to list.
    directory(s, &other).await;
    let mut failures = Vec::new();
    for route in routes() {
        for (i, who) in WHO.iter().enumerate() {
            let (path, fixture_body) = fixture(s, &ws, route.fixture, route.path).await;
            let body = fixture_body.or_else(|| route.body.map(|b| b()));
            let r = call(&s.origin, route.method.clone(), &path, &auth(*who, &ws, &other, &free), body.as_ref()).await;
            if r.status.as_u16() != route.expect[i] {
                failures.push(format!(
                    "{} {} as {who:?}: expected {}, got {} {}",
                    route.method, route.path, route.expect[i], r.status, r.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn roles_and_the_last_owner() {
    let s = server();
    let ws = workspace(s, "free").await;
    let path = |id: &str| format!("/api/v1/admin/members/{id}");
    // An admin cannot make anyone owner, nor demote or remove the owner.
    let r = call(
        &s.origin,
        Method::PATCH,
        &path(&ws.member.member_id),
        &ws.admin.session(),
        Some(&json!({"role": "owner"})),
    )
    .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = call(&s.origin, Method::DELETE, &path(&ws.owner.member_id), &ws.admin.session(), None).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // The last owner can neither step down nor be removed.
    let r = call(
        &s.origin,
        Method::PATCH,
        &path(&ws.owner.member_id),
        &ws.owner.session(),
        Some(&json!({"role": "admin"})),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = call(&s.origin, Method::DELETE, &path(&ws.owner.member_id), &ws.owner.session(), None).await;
    assert_eq!(r.status, 409, "{}", r.text);
    // With a second owner, the first may step down; a demoted admin loses admin rights at once.
    let r = call(
        &s.origin,
        Method::PATCH,
        &path(&ws.admin.member_id),
        &ws.owner.session(),
        Some(&json!({"role": "owner"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"], "owner");
    let r = call(
        &s.origin,
        Method::PATCH,
        &path(&ws.owner.member_id),
        &ws.owner.session(),
        Some(&json!({"role": "member"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = call(&s.origin, Method::GET, "/api/v1/admin/members", &Auth::Bearer(ws.owner_jwt.clone()), None).await;
    assert_eq!(r.status, 403, "the JWT carries the member id; the role is read at each request: {}", r.text);
    // A removed member's session ends.
    let r = call(&s.origin, Method::DELETE, &path(&ws.member.member_id), &ws.admin.session(), None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = call(&s.origin, Method::GET, "/api/v1/session", &ws.member.session(), None).await;
    assert_eq!(r.status, 401, "{}", r.text);
    let r = call(&s.origin, Method::GET, &path(&ws.member.member_id), &ws.admin.session(), None).await;
    assert_eq!(r.status, 404, "{}", r.text);
}
