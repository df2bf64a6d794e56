//! Create, read, replace and delete Users and Groups: status codes, Location, meta, readOnly, writeOnly and
//! immutable attributes, unknown attributes, case-insensitive attribute names.

use serde_json::{Value, json};

use super::util::{ERROR_URN, expect_error, fetch, group_path, id_of, user_names, user_path};
use crate::check;
use crate::check::{Check, Step, ensure, fail, skip};
use crate::runner::{Ctx, GROUP_URN, USER_URN, expect_status, get_ci, json_body, path_at, str_at};

/// The CRUD checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! {
            id: "scim.crud.create-user",
            title: "POST /Users answers 201 Created with the new resource and its id",
            spec: ("RFC 7644", "3.3", "When the service provider successfully creates the new resource, an HTTP response SHALL be returned with HTTP status code 201 (Created)."),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: create_user,
        },
        check! {
            id: "scim.crud.location-header",
            title: "A create answers a Location header equal to meta.location",
            spec: ("RFC 7644", "3.3", "The URI of the created resource SHALL include, in the HTTP \"Location\" header and the HTTP body, a JSON representation [RFC7159] with the attribute \"meta.location\"."),
            level: Must,
            tags: ["interop"],
            run: location_header,
        },
        check! {
            id: "scim.crud.meta",
            title: "A created resource carries meta.resourceType, created, lastModified and location",
            spec: ("RFC 7643", "3.1", "meta: A complex attribute containing resource metadata. All \"meta\" sub-attributes are assigned by the service provider (have a \"mutability\" of \"readOnly\"), and all of these sub-attributes have a \"returned\" characteristic of \"default\"."),
            level: Must,
            tags: [],
            run: meta,
        },
        check! {
            id: "scim.crud.get-user",
            title: "GET /Users/{id} returns the resource with 200",
            spec: ("RFC 7644", "3.4.1", "If the resource exists, the server responds with HTTP status code 200 (OK) and includes the result in the body of the response."),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: get_user,
        },
        check! {
            id: "scim.crud.get-unknown",
            title: "GET of an unknown id answers 404 with a SCIM error",
            spec: ("RFC 7644", "3.12", "404 Not Found: Specified resource (e.g., User) or endpoint does not exist."),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: get_unknown,
        },
        check! {
            id: "scim.crud.put-replaces",
            title: "PUT replaces the resource: attributes left out are cleared",
            spec: ("RFC 7644", "3.5.1", "HTTP PUT is used to replace a resource's attributes. … Unless otherwise specified, a successful PUT operation returns a 200 OK response code and the entire resource within the response body"),
            level: Must,
            tags: ["interop", "entra"],
            run: put_replaces,
        },
        check! {
            id: "scim.crud.put-readonly-ignored",
            title: "PUT ignores a different value of the readOnly id",
            spec: ("RFC 7644", "3.5.1", "readOnly: Any values provided SHALL be ignored."),
            level: Must,
            tags: [],
            run: put_readonly_ignored,
        },
        check! {
            id: "scim.crud.delete-user",
            title: "DELETE answers 204, then the resource is 404",
            spec: ("RFC 7644", "3.6", "Service providers MAY choose not to permanently delete the resource, but MUST return a 404 (Not Found) error code for all operations associated with the previously deleted resource."),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: delete_user,
        },
        check! {
            id: "scim.crud.delete-omitted",
            title: "A deleted resource no longer appears in query results",
            spec: ("RFC 7644", "3.6", "Service providers MUST omit the resource from future query results."),
            level: Must,
            tags: ["interop"],
            run: delete_omitted,
        },
        check! {
            id: "scim.crud.client-id-ignored",
            title: "An id sent by the client on create is not used",
            spec: ("RFC 7643", "3.1", "The value of the \"id\" attribute is always issued by the service provider and MUST NOT be specified by the client."),
            level: Must,
            tags: [],
            run: client_id_ignored,
        },
        check! {
            id: "scim.crud.password-never-returned",
            title: "password is never returned, neither on create nor on GET",
            spec: ("RFC 7643", "4.1.1", "The cleartext value or the hashed value of a password SHALL NOT be returnable by a service provider."),
            level: Must,
            tags: ["security", "interop"],
            run: password_never_returned,
        },
        check! {
            id: "scim.crud.case-insensitive-names",
            title: "Attribute names in a request are matched case-insensitively",
            spec: ("RFC 7643", "2.1", "Attribute names are case insensitive and are often \"camel-cased\" (e.g., \"camelCase\")."),
            level: Must,
            tags: ["interop"],
            run: case_insensitive_names,
        },
        check! {
            id: "scim.crud.group-lifecycle",
            title: "Groups: POST 201, GET 200, PUT replaces displayName, DELETE 204 then 404",
            spec: ("RFC 7644", "3.3", "When the service provider successfully creates the new resource, an HTTP response SHALL be returned with HTTP status code 201 (Created)."),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: group_lifecycle,
        },
        // The RFCs do not say what a service provider does with an attribute no schema defines: neither a keyword
        // for rejecting it nor one for dropping it. SHOULD is the project's reading of RFC 7643 §3: the "schemas"
        // of a resource define the attributes present in it, so a service provider may refuse the request (400) or
        // drop the attribute, but must not return it as if its schema defined it.
        check! {
            id: "scim.crud.unknown-attribute",
            title: "An attribute no schema defines is refused (400) or not stored and returned",
            spec: ("RFC 7643", "3", "The \"schemas\" attribute is a REQUIRED attribute and is an array of Strings containing URIs that are used to indicate the namespaces of the SCIM schemas that define the attributes present in the current JSON structure."),
            level: Should,
            tags: ["interop"],
            run: unknown_attribute,
        },
        // The sentence is in §3.5.1 (PUT); §3.5.2 applies the same mutability rules to PATCH ("a client MUST NOT
        // modify an attribute that has mutability \"readOnly\" or \"immutable\""). The check uses PATCH on an
        // immutable sub-attribute found in /Schemas, where a change cannot be mistaken for a whole-value replace.
        check! {
            id: "scim.crud.immutable",
            title: "An immutable attribute with a value cannot be changed (400 \"mutability\", value unchanged)",
            spec: ("RFC 7644", "3.5.1", "immutable: If one or more values are already set for the attribute, the input value(s) MUST match, or HTTP status code 400 SHOULD be returned with a \"scimType\" error code of \"mutability\"."),
            level: Must,
            tags: [],
            run: immutable,
        },
    ]
}

async fn create_user(ctx: &Ctx) -> Step {
    let body = ctx.user_body("create");
    let r = ctx.post("/Users", &body).await?;
    expect_status(&r, 201, "POST /Users answers 201 Created")?;
    let v = json_body(&r)?;
    let id = str_at(&v, "id").unwrap_or("");
    if !id.is_empty() {
        ctx.cleanup_later(format!("/Users/{id}"));
    }
    ensure(!id.is_empty(), "the created User in the body with a non-empty \"id\"", || r.describe())?;
    let want = str_at(&body, "userName").unwrap_or("");
    ensure(
        str_at(&v, "userName").is_some_and(|u| u.eq_ignore_ascii_case(want)),
        format!("userName {want:?} in the response"),
        || r.describe(),
    )
}

async fn location_header(ctx: &Ctx) -> Step {
    let r = ctx.post("/Users", &ctx.user_body("loc")).await?;
    expect_status(&r, 201, "POST /Users answers 201 Created")?;
    let v = json_body(&r)?;
    if let Some(id) = str_at(&v, "id") {
        ctx.cleanup_later(format!("/Users/{id}"));
    }
    let loc = r.header("location");
    let meta_loc = path_at(&v, "meta.location").and_then(Value::as_str);
    let Some(loc) = loc else {
        return Err(fail(
            "a Location header on 201 Created",
            format!("no Location header (meta.location = {meta_loc:?})"),
        ));
    };
    ensure(meta_loc == Some(loc), "Location header equal to meta.location", || {
        format!("Location: {loc}, meta.location: {meta_loc:?}")
    })?;
    let id = str_at(&v, "id").unwrap_or("");
    ensure(loc.trim_end_matches('/').ends_with(id), "Location ending with the new resource's id", || {
        format!("Location: {loc}, id: {id}")
    })
}

async fn meta(ctx: &Ctx) -> Step {
    let v = ctx.create_user("meta", json!({})).await?;
    ensure(
        path_at(&v, "meta.resourceType").and_then(Value::as_str) == Some("User"),
        "meta.resourceType \"User\"",
        || format!("meta = {}", get_ci(&v, "meta").cloned().unwrap_or(Value::Null)),
    )?;
    for k in ["created", "lastModified"] {
        let t = path_at(&v, &format!("meta.{k}")).and_then(Value::as_str);
        ensure(
            t.is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
            format!("meta.{k} as an xsd:dateTime"),
            || format!("meta.{k} = {t:?}"),
        )?;
    }
    let loc = path_at(&v, "meta.location").and_then(Value::as_str);
    ensure(loc.is_some_and(|l| l.starts_with("http")), "meta.location as an absolute URI", || {
        format!("meta.location = {loc:?}")
    })
}

async fn get_user(ctx: &Ctx) -> Step {
    let v = ctx.create_user("get", json!({"displayName": "Get Me"})).await?;
    let got = fetch(ctx, &user_path(&v)).await?;
    ensure(str_at(&got, "id") == str_at(&v, "id"), "the same id as created", || {
        format!("id {:?}", str_at(&got, "id"))
    })?;
    ensure(
        str_at(&got, "userName").map(str::to_ascii_lowercase) == str_at(&v, "userName").map(str::to_ascii_lowercase),
        "the same userName as created",
        || got.to_string(),
    )?;
    ensure(str_at(&got, "displayName") == Some("Get Me"), "displayName \"Get Me\" as created", || got.to_string())
}

async fn get_unknown(ctx: &Ctx) -> Step {
    let r = ctx.get(&format!("/Users/{}-does-not-exist", ctx.prefix())).await?;
    super::util::expect_error(&r, 404, None, "GET of an unknown User")
}

async fn put_replaces(ctx: &Ctx) -> Step {
    let v = ctx.create_user("put", json!({"displayName": "Before", "nickName": "nick", "title": "Old"})).await?;
    let path = user_path(&v);
    let body = json!({"schemas": [USER_URN], "userName": str_at(&v, "userName"), "displayName": "After"});
    let r = ctx.put(&path, &body).await?;
    expect_status(&r, 200, "PUT answers 200 OK")?;
    let got = fetch(ctx, &path).await?;
    ensure(str_at(&got, "displayName") == Some("After"), "displayName replaced by \"After\"", || got.to_string())?;
    ensure(
        get_ci(&got, "nickName").is_none() && get_ci(&got, "title").is_none(),
        "nickName and title cleared (left out of the PUT body)",
        || got.to_string(),
    )
}

async fn put_readonly_ignored(ctx: &Ctx) -> Step {
    let v = ctx.create_user("ro", json!({})).await?;
    let path = user_path(&v);
    let body = json!({"schemas": [USER_URN], "id": "idconform-not-the-id", "userName": str_at(&v, "userName"), "displayName": "Changed"});
    let r = ctx.put(&path, &body).await?;
    expect_status(&r, 200, "PUT with a foreign id value answers 200 (the value is ignored)")?;
    let got = fetch(ctx, &path).await?;
    ensure(str_at(&got, "id") == str_at(&v, "id"), "id unchanged", || format!("id = {:?}", str_at(&got, "id")))?;
    ensure(str_at(&got, "displayName") == Some("Changed"), "the rest of the PUT applied", || got.to_string())
}

async fn delete_user(ctx: &Ctx) -> Step {
    let v = ctx.create_user("del", json!({})).await?;
    let path = user_path(&v);
    let r = ctx.delete(&path).await?;
    expect_status(&r, 204, "DELETE answers 204 No Content")?;
    let r = ctx.get(&path).await?;
    expect_status(&r, 404, "GET of the deleted resource answers 404")?;
    let r = ctx.delete(&path).await?;
    expect_status(&r, 404, "a second DELETE of the deleted resource answers 404")
}

async fn delete_omitted(ctx: &Ctx) -> Step {
    let v = ctx.create_user("gone", json!({})).await?;
    let name = str_at(&v, "userName").unwrap_or("").to_owned();
    let r = ctx.delete(&user_path(&v)).await?;
    expect_status(&r, 204, "DELETE answers 204 No Content")?;
    let list = ctx.list("/Users", &format!("userName eq \"{name}\""), "").await?;
    let names = user_names(&list);
    ensure(names.is_empty(), format!("no result for userName eq \"{name}\" after the delete"), || {
        format!("results {names:?}")
    })
}

async fn client_id_ignored(ctx: &Ctx) -> Step {
    let mut body = ctx.user_body("cid");
    let chosen = format!("{}-client-chosen-id", ctx.prefix());
    crate::runner::merge(&mut body, json!({"id": chosen}));
    let r = ctx.post("/Users", &body).await?;
    if r.status == 400 {
        // Refusing the request is also compliant: the client specified what it must not.
        return Ok(());
    }
    expect_status(&r, 201, "POST /Users with a client id answers 201 (id ignored) or 400")?;
    let v = json_body(&r)?;
    let id = id_of(&v);
    if !id.is_empty() {
        ctx.cleanup_later(format!("/Users/{id}"));
    }
    ensure(id != chosen && !id.is_empty(), "an id issued by the service provider, not the client's", || {
        format!("id = {id:?}")
    })
}

async fn password_never_returned(ctx: &Ctx) -> Step {
    let r = ctx
        .post("/Users", &{
            let mut b = ctx.user_body("pw");
            crate::runner::merge(&mut b, json!({"password": "Idc0nform!Secret-42"}));
            b
        })
        .await?;
    expect_status(&r, 201, "POST /Users with a password answers 201")?;
    let v = json_body(&r)?;
    let path = user_path(&v);
    ctx.cleanup_later(path.clone());
    ensure(get_ci(&v, "password").is_none(), "no password in the create response", || r.describe())?;
    let got = fetch(ctx, &path).await?;
    ensure(get_ci(&got, "password").is_none(), "no password in GET", || got.to_string())?;
    let got = fetch(ctx, &format!("{path}?attributes=password")).await?;
    ensure(get_ci(&got, "password").is_none(), "no password even when requested with attributes=password", || {
        got.to_string()
    })
}

async fn case_insensitive_names(ctx: &Ctx) -> Step {
    let name = ctx.unique("case");
    let body =
        json!({"SCHEMAS": [USER_URN], "USERNAME": name, "DisplayName": "Mixed Case", "NAME": {"FamilyName": "Upper"}});
    let r = ctx.post("/Users", &body).await?;
    expect_status(&r, 201, "POST /Users with attribute names in other cases answers 201")?;
    let v = json_body(&r)?;
    let path = user_path(&v);
    ctx.cleanup_later(path.clone());
    let got = fetch(ctx, &path).await?;
    ensure(
        str_at(&got, "userName").is_some_and(|u| u.eq_ignore_ascii_case(&name)),
        "userName stored from \"USERNAME\"",
        || got.to_string(),
    )?;
    ensure(str_at(&got, "displayName") == Some("Mixed Case"), "displayName stored from \"DisplayName\"", || {
        got.to_string()
    })?;
    ensure(
        path_at(&got, "name.familyName").and_then(Value::as_str) == Some("Upper"),
        "name.familyName stored from \"NAME.FamilyName\"",
        || got.to_string(),
    )
}

async fn group_lifecycle(ctx: &Ctx) -> Step {
    let name = ctx.unique("grp");
    let r = ctx.post("/Groups", &json!({"schemas": [GROUP_URN], "displayName": name})).await?;
    expect_status(&r, 201, "POST /Groups answers 201 Created")?;
    let g = json_body(&r)?;
    let path = group_path(&g);
    ctx.cleanup_later(path.clone());
    let got = fetch(ctx, &path).await?;
    ensure(str_at(&got, "displayName") == Some(name.as_str()), "displayName as created", || got.to_string())?;
    let renamed = format!("{name}-renamed");
    let r = ctx.put(&path, &json!({"schemas": [GROUP_URN], "displayName": renamed})).await?;
    expect_status(&r, 200, "PUT /Groups/{id} answers 200")?;
    let got = fetch(ctx, &path).await?;
    ensure(str_at(&got, "displayName") == Some(renamed.as_str()), "displayName replaced", || got.to_string())?;
    let r = ctx.delete(&path).await?;
    expect_status(&r, 204, "DELETE /Groups/{id} answers 204")?;
    let r = ctx.get(&path).await?;
    expect_status(&r, 404, "GET of the deleted Group answers 404")
}

/// The prefix of attribute names the harness invents; no schema defines them.
const UNKNOWN_PREFIX: &str = "idconformUnknown";

/// The first top-level member whose name starts (case-insensitively) with [`UNKNOWN_PREFIX`].
fn invented(v: &Value) -> Option<String> {
    let lower = UNKNOWN_PREFIX.to_ascii_lowercase();
    v.as_object()?.keys().find(|k| k.to_ascii_lowercase().starts_with(&lower)).cloned()
}

async fn unknown_attribute(ctx: &Ctx) -> Step {
    let attr = format!("{UNKNOWN_PREFIX}{}", ctx.prefix());
    let mut body = ctx.user_body("unknown");
    crate::runner::merge(&mut body, json!({ attr.clone(): "not in any schema" }));
    let r = ctx.post("/Users", &body).await?;
    if r.status == 400 {
        let v = r.json();
        let is_error = v
            .as_ref()
            .and_then(|v| get_ci(v, "schemas"))
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(ERROR_URN)));
        return ensure(
            is_error,
            format!("the 400 for the unknown attribute {attr} as a SCIM error ({ERROR_URN})"),
            || r.describe(),
        );
    }
    expect_status(&r, 201, &format!("POST /Users with the unknown attribute {attr} answers 400 or 201"))?;
    let v = json_body(&r)?;
    let path = user_path(&v);
    ctx.cleanup_later(path.clone());
    if let Some(k) = invented(&v) {
        return Err(fail(
            format!("{attr} not returned by the create (no schema defines it)"),
            format!("{k:?} in {}", r.describe()),
        ));
    }
    let got = fetch(ctx, &path).await?;
    match invented(&got) {
        Some(k) => Err(fail(
            format!("{attr} not returned by GET {path} (no schema defines it)"),
            format!("{k:?} = {} in {got}", get_ci(&got, &k).cloned().unwrap_or(Value::Null)),
        )),
        None => Ok(()),
    }
}

/// Whether `/Schemas` declares the Group schema's `members.value` immutable.
fn members_value_immutable(schemas: &Value) -> bool {
    let attr_named = |list: Option<&Value>, name: &str| -> Option<Value> {
        list?.as_array()?.iter().find(|a| str_at(a, "name").is_some_and(|n| n.eq_ignore_ascii_case(name))).cloned()
    };
    super::util::resources(schemas)
        .iter()
        .filter(|s| str_at(s, "id") == Some(GROUP_URN))
        .filter_map(|s| attr_named(get_ci(s, "attributes"), "members"))
        .filter_map(|m| attr_named(get_ci(&m, "subAttributes"), "value"))
        .any(|v| str_at(&v, "mutability").is_some_and(|m| m.eq_ignore_ascii_case("immutable")))
}

/// The `value`s of a Group's members.
fn member_values(g: &Value) -> Vec<String> {
    let mut vs: Vec<String> = get_ci(g, "members")
        .and_then(Value::as_array)
        .map(|ms| ms.iter().filter_map(|m| str_at(m, "value").map(str::to_owned)).collect())
        .unwrap_or_default();
    vs.sort();
    vs
}

async fn immutable(ctx: &Ctx) -> Step {
    // Discovery-driven: the attribute must be declared immutable by the target itself. The one this check knows how
    // to exercise generically is Group `members.value` (RFC 7643 §4.2 lists it as immutable).
    let declared = ctx.discovery.schemas.as_ref().is_some_and(members_value_immutable);
    if !declared {
        return Err(skip(
            "/Schemas declares no immutable attribute this check can exercise (it uses Group members.value)",
        ));
    }
    if !ctx.discovery.has_endpoint("/Groups") {
        return Err(skip("no /Groups endpoint in /ResourceTypes"));
    }
    ctx.discovery.require("patch")?;
    let a = ctx.create_user("imm-a", json!({})).await?;
    let b = ctx.create_user("imm-b", json!({})).await?;
    let (a_id, b_id) = (id_of(&a), id_of(&b));
    let g = ctx.create_group("imm", json!({"members": [{"value": a_id}]})).await?;
    let path = group_path(&g);
    let before = member_values(&fetch(ctx, &path).await?);
    ensure(before == vec![a_id.clone()], format!("setup: the Group created with the one member {a_id}"), || {
        format!("members {before:?}")
    })?;
    let r = ctx
        .patch(&path, json!([{"op": "replace", "path": format!("members[value eq \"{a_id}\"].value"), "value": b_id}]))
        .await?;
    let after = member_values(&fetch(ctx, &path).await?);
    ensure(after == before, format!("members.value unchanged ({before:?}): it is immutable and already set"), || {
        format!("{} and then members {after:?}", r.label())
    })?;
    if (200..300).contains(&r.status) {
        return Ok(());
    }
    expect_error(&r, 400, Some("mutability"), "a PATCH replacing the immutable members.value")
}
