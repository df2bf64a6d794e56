//! Discovery: ServiceProviderConfig, ResourceTypes and Schemas are valid, consistent with each other, reachable
//! without authentication, and describe the User schema as RFC 7643 defines it.

use serde_json::Value;

use super::util::{LIST_RESPONSE, resources};
use crate::check;
use crate::check::{Check, Step, ensure, fail};
use crate::http::Request;
use crate::runner::{Ctx, USER_URN, expect_status, get_ci, json_body, str_at};

const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// The discovery checks.
pub fn checks() -> Vec<Check> {
    vec![
        check! {
            id: "scim.discovery.spc-valid",
            title: "ServiceProviderConfig declares every required feature with a boolean \"supported\"",
            spec: ("RFC 7643", "5", "patch: A complex type that specifies PATCH configuration options. REQUIRED. … supported: A Boolean value specifying whether or not the operation is supported. REQUIRED."),
            level: Must,
            tags: ["interop", "okta", "entra"],
            run: spc_valid,
        },
        check! {
            id: "scim.discovery.spc-limits",
            title: "Advertised bulk and filter features state their limits as integers",
            spec: ("RFC 7643", "5", "maxOperations: An integer value specifying the maximum number of operations. REQUIRED."),
            level: Must,
            tags: [],
            run: spc_limits,
        },
        check! {
            id: "scim.discovery.resource-types",
            title: "/ResourceTypes lists User and Group with name, endpoint and schema",
            spec: ("RFC 7643", "6", "endpoint: The resource type's HTTP-addressable endpoint relative to the Base URL, e.g., \"/Users\". REQUIRED."),
            level: Must,
            tags: ["interop"],
            run: resource_types,
        },
        check! {
            id: "scim.discovery.endpoints-exist",
            title: "Every advertised ResourceType endpoint answers a query with a ListResponse",
            spec: ("RFC 7644", "3.4.2", "Responses MUST be identified using the following URI: \"urn:ietf:params:scim:api:messages:2.0:ListResponse\"."),
            level: Must,
            tags: ["interop"],
            run: endpoints_exist,
        },
        check! {
            id: "scim.discovery.schemas-valid",
            title: "Every attribute in /Schemas states its characteristics with valid values",
            spec: ("RFC 7643", "7", "type: The attribute's data type. Valid values are \"string\", \"boolean\", \"decimal\", \"integer\", \"dateTime\", \"reference\", and \"complex\"."),
            level: Must,
            tags: [],
            run: schemas_valid,
        },
        check! {
            id: "scim.discovery.schemas-consistent",
            title: "Every schema a ResourceType names is published in /Schemas",
            spec: ("RFC 7643", "6", "schema: The resource type's primary/base schema URI, e.g., \"urn:ietf:params:scim:schemas:core:2.0:User\". This MUST be equal to the \"id\" attribute of the associated \"Schema\" resource. REQUIRED."),
            level: Must,
            tags: [],
            run: schemas_consistent,
        },
        check! {
            id: "scim.discovery.schema-by-id",
            title: "/Schemas/{id} returns the User schema",
            spec: ("RFC 7644", "4", "Individual schema definitions can be returned by appending the schema URI to the /Schemas endpoint."),
            level: May,
            tags: [],
            run: schema_by_id,
        },
        check! {
            id: "scim.discovery.user-schema",
            title: "The User schema marks userName required and unique, password writeOnly/never, groups readOnly",
            spec: ("RFC 7643", "4.1.1", "Each User MUST include a non-empty userName value. This identifier MUST be unique across the service provider's entire set of Users. REQUIRED."),
            level: Must,
            tags: ["interop"],
            run: user_schema,
        },
        check! {
            id: "scim.discovery.no-auth",
            title: "/ServiceProviderConfig and its authenticationSchemes answer without authentication",
            spec: ("RFC 7643", "5", "To enable seamless discovery of configurations, the service provider SHOULD, with the appropriate security considerations, make the authenticationSchemes attribute publicly accessible without prior authentication."),
            level: Should,
            tags: ["interop"],
            run: no_auth,
        },
    ]
}

async fn get_json(ctx: &Ctx, path: &str) -> Step<Value> {
    let r = ctx.get(path).await?;
    expect_status(&r, 200, &format!("GET {path} answers 200"))?;
    json_body(&r)
}

fn has_schema(v: &Value, urn: &str) -> bool {
    get_ci(v, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn))))
}

async fn spc_valid(ctx: &Ctx) -> Step {
    let spc = get_json(ctx, "/ServiceProviderConfig").await?;
    ensure(has_schema(&spc, SPC_URN), format!("\"schemas\" containing {SPC_URN}"), || {
        format!("schemas = {}", get_ci(&spc, "schemas").cloned().unwrap_or(Value::Null))
    })?;
    for feature in ["patch", "bulk", "filter", "changePassword", "sort", "etag"] {
        let supported = get_ci(&spc, feature).and_then(|f| get_ci(f, "supported"));
        ensure(supported.is_some_and(Value::is_boolean), format!("{feature}.supported as a JSON boolean"), || {
            format!("{feature} = {}", get_ci(&spc, feature).cloned().unwrap_or(Value::Null))
        })?;
    }
    let schemes = get_ci(&spc, "authenticationSchemes").and_then(Value::as_array);
    ensure(schemes.is_some(), "authenticationSchemes as an array (REQUIRED)", || {
        "authenticationSchemes missing or not an array".into()
    })
}

async fn spc_limits(ctx: &Ctx) -> Step {
    let spc = get_json(ctx, "/ServiceProviderConfig").await?;
    let sup = |f: &str| get_ci(&spc, f).and_then(|f| get_ci(f, "supported")).and_then(Value::as_bool) == Some(true);
    let int = |f: &str, k: &str| get_ci(&spc, f).and_then(|f| get_ci(f, k)).is_some_and(|v| v.as_u64().is_some());
    if sup("bulk") {
        for k in ["maxOperations", "maxPayloadSize"] {
            ensure(int("bulk", k), format!("bulk.{k} as a non-negative integer (bulk is supported)"), || {
                format!("bulk = {}", get_ci(&spc, "bulk").cloned().unwrap_or(Value::Null))
            })?;
        }
    }
    if sup("filter") {
        ensure(
            int("filter", "maxResults"),
            "filter.maxResults as a non-negative integer (filter is supported)",
            || format!("filter = {}", get_ci(&spc, "filter").cloned().unwrap_or(Value::Null)),
        )?;
    }
    Ok(())
}

async fn resource_types(ctx: &Ctx) -> Step {
    let list = get_json(ctx, "/ResourceTypes").await?;
    let rts = resources(&list);
    for rt in &rts {
        for k in ["name", "endpoint", "schema"] {
            ensure(
                str_at(rt, k).is_some_and(|s| !s.is_empty()),
                format!("every ResourceType has a non-empty \"{k}\""),
                || format!("ResourceType {rt}"),
            )?;
        }
    }
    for (name, endpoint) in [("User", "/Users"), ("Group", "/Groups")] {
        ensure(
            rts.iter().any(|rt| str_at(rt, "endpoint").is_some_and(|e| e.eq_ignore_ascii_case(endpoint))),
            format!("a ResourceType {name} with endpoint {endpoint}"),
            || format!("endpoints {:?}", rts.iter().filter_map(|r| str_at(r, "endpoint")).collect::<Vec<_>>()),
        )?;
    }
    Ok(())
}

async fn endpoints_exist(ctx: &Ctx) -> Step {
    let list = get_json(ctx, "/ResourceTypes").await?;
    for rt in resources(&list) {
        let Some(endpoint) = str_at(&rt, "endpoint") else { continue };
        let path = if endpoint.starts_with('/') { endpoint.to_owned() } else { format!("/{endpoint}") };
        let r = ctx.get(&format!("{path}?count=1")).await?;
        expect_status(&r, 200, &format!("GET {path} (advertised in /ResourceTypes) answers 200"))?;
        let v = json_body(&r)?;
        ensure(has_schema(&v, LIST_RESPONSE), format!("GET {path} answers a ListResponse"), || r.describe())?;
    }
    Ok(())
}

const TYPES: [&str; 8] = ["string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"];
const MUTABILITY: [&str; 4] = ["readOnly", "readWrite", "immutable", "writeOnly"];
const RETURNED: [&str; 4] = ["always", "never", "default", "request"];
const UNIQUENESS: [&str; 3] = ["none", "server", "global"];

fn check_attribute(schema: &str, a: &Value, parent: &str) -> Step {
    let name = str_at(a, "name").unwrap_or("");
    let at = if parent.is_empty() { format!("{schema}:{name}") } else { format!("{schema}:{parent}.{name}") };
    let bad = |what: &str| fail(format!("attribute {at} to declare {what}"), format!("{a}"));
    if name.is_empty() {
        return Err(bad("a non-empty \"name\""));
    }
    let ty = str_at(a, "type").unwrap_or("");
    if !TYPES.contains(&ty) {
        return Err(bad("\"type\" as one of string, boolean, decimal, integer, dateTime, reference, complex, binary"));
    }
    for k in ["multiValued", "required"] {
        if !get_ci(a, k).is_some_and(Value::is_boolean) {
            return Err(bad(&format!("\"{k}\" as a boolean")));
        }
    }
    if let Some(m) = get_ci(a, "mutability")
        && !m.as_str().is_some_and(|m| MUTABILITY.contains(&m))
    {
        return Err(bad("\"mutability\" as readOnly, readWrite, immutable or writeOnly"));
    }
    if let Some(r) = get_ci(a, "returned")
        && !r.as_str().is_some_and(|r| RETURNED.contains(&r))
    {
        return Err(bad("\"returned\" as always, never, default or request"));
    }
    if let Some(u) = get_ci(a, "uniqueness")
        && !u.as_str().is_some_and(|u| UNIQUENESS.contains(&u))
    {
        return Err(bad("\"uniqueness\" as none, server or global"));
    }
    if ty == "complex" {
        let subs = get_ci(a, "subAttributes").and_then(Value::as_array);
        let Some(subs) = subs else { return Err(bad("\"subAttributes\" (type is complex)")) };
        for s in subs {
            check_attribute(schema, s, name)?;
        }
    }
    Ok(())
}

async fn schemas_valid(ctx: &Ctx) -> Step {
    let list = get_json(ctx, "/Schemas").await?;
    let schemas = resources(&list);
    ensure(!schemas.is_empty(), "at least one Schema resource", || list.to_string())?;
    for s in &schemas {
        let id = str_at(s, "id").unwrap_or("");
        ensure(!id.is_empty(), "every Schema has an \"id\"", || s.to_string())?;
        let attrs = get_ci(s, "attributes").and_then(Value::as_array);
        let Some(attrs) = attrs else {
            return Err(fail(format!("schema {id} to have an \"attributes\" array"), s.to_string()));
        };
        for a in attrs {
            check_attribute(id, a, "")?;
        }
    }
    Ok(())
}

async fn schemas_consistent(ctx: &Ctx) -> Step {
    let rts = resources(&get_json(ctx, "/ResourceTypes").await?);
    let schemas = resources(&get_json(ctx, "/Schemas").await?);
    let known: Vec<String> = schemas.iter().filter_map(|s| str_at(s, "id")).map(str::to_ascii_lowercase).collect();
    for rt in &rts {
        let mut named: Vec<&str> = str_at(rt, "schema").into_iter().collect();
        if let Some(exts) = get_ci(rt, "schemaExtensions").and_then(Value::as_array) {
            named.extend(exts.iter().filter_map(|e| str_at(e, "schema")));
        }
        for urn in named {
            ensure(
                known.contains(&urn.to_ascii_lowercase()),
                format!(
                    "schema {urn} (named by ResourceType {}) listed in /Schemas",
                    str_at(rt, "name").unwrap_or("?")
                ),
                || format!("/Schemas lists {known:?}"),
            )?;
        }
    }
    Ok(())
}

async fn schema_by_id(ctx: &Ctx) -> Step {
    let s = get_json(ctx, &format!("/Schemas/{USER_URN}")).await?;
    ensure(
        str_at(&s, "id").is_some_and(|i| i.eq_ignore_ascii_case(USER_URN)),
        format!("a Schema resource with id {USER_URN}"),
        || s.to_string().chars().take(300).collect(),
    )
}

fn find_attr<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    get_ci(schema, "attributes")?
        .as_array()?
        .iter()
        .find(|a| str_at(a, "name").is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

async fn user_schema(ctx: &Ctx) -> Step {
    let list = get_json(ctx, "/Schemas").await?;
    let schemas = resources(&list);
    let user = schemas.iter().find(|s| str_at(s, "id").is_some_and(|i| i.eq_ignore_ascii_case(USER_URN)));
    let Some(user) = user else { return Err(fail(format!("/Schemas to contain {USER_URN}"), "not listed")) };
    let expect = |attr: &str, key: &str, want: Value| -> Step {
        let a = find_attr(user, attr);
        let got = a.and_then(|a| get_ci(a, key)).cloned();
        ensure(got.as_ref() == Some(&want), format!("User attribute {attr} with {key} = {want}"), || {
            format!("{attr}.{key} = {}", got.map_or_else(|| "absent".to_owned(), |g| g.to_string()))
        })
    };
    expect("userName", "required", Value::Bool(true))?;
    expect("userName", "uniqueness", Value::String("server".into()))?;
    expect("userName", "caseExact", Value::Bool(false))?;
    if find_attr(user, "password").is_some() {
        expect("password", "returned", Value::String("never".into()))?;
        expect("password", "mutability", Value::String("writeOnly".into()))?;
    }
    if find_attr(user, "groups").is_some() {
        expect("groups", "mutability", Value::String("readOnly".into()))?;
    }
    Ok(())
}

async fn no_auth(ctx: &Ctx) -> Step {
    let r = ctx.send(Request::new(reqwest::Method::GET, "/ServiceProviderConfig").without_auth()).await?;
    expect_status(&r, 200, "GET /ServiceProviderConfig without a token answers 200")?;
    let v = json_body(&r)?;
    ensure(
        get_ci(&v, "authenticationSchemes").is_some_and(Value::is_array),
        "authenticationSchemes in the unauthenticated answer",
        || r.describe(),
    )
}
