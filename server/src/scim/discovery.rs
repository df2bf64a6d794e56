//! The discovery documents of RFC 7644 §4 (ServiceProviderConfig, ResourceTypes, Schemas), generated from the same
//! schema tables and limits that drive the server, so what they declare is what the server does.

use serde_json::{Map, Value, json};

use super::schema::{
    ALL_SCHEMAS, AttrDef, AttrType, LIST_RESPONSE_URN, RESOURCE_TYPE_URN, ResourceKind, ResourceTypeDef, SCHEMA_URN,
    SPC_URN, SchemaDef,
};
use super::service::Limits;

/// The ServiceProviderConfig resource (RFC 7643 §5; `pagination` from RFC 9865 §4).
pub fn service_provider_config(base: &str, limits: &Limits) -> Value {
    json!({
        "schemas": [SPC_URN],
        "documentationUri": "https://github.com/idconform/idconform#readme",
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": limits.bulk_max_operations,
            "maxPayloadSize": limits.bulk_max_payload,
        },
        "filter": {"supported": true, "maxResults": limits.max_page_size},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": limits.default_page_size,
            "maxPageSize": limits.max_page_size,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a SCIM directory bearer token (RFC 6750).",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

/// One ResourceType resource (RFC 7643 §6).
pub fn resource_type(rt: &ResourceTypeDef, base: &str) -> Value {
    let ext: Vec<Value> =
        rt.extensions.iter().map(|e| json!({"schema": e.schema.id, "required": e.required})).collect();
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": rt.id,
        "name": rt.name,
        "endpoint": rt.endpoint,
        "description": rt.description,
        "schema": rt.schema.id,
        "schemaExtensions": ext,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", rt.id)},
    })
}

/// The ResourceType with this id.
pub fn find_resource_type(id: &str) -> Option<&'static ResourceTypeDef> {
    ResourceKind::ALL.into_iter().map(ResourceKind::def).find(|rt| rt.id == id)
}

fn attribute(a: &AttrDef) -> Value {
    let mut o = Map::new();
    o.insert("name".into(), a.name.into());
    o.insert("type".into(), a.ty.as_str().into());
    o.insert("multiValued".into(), a.multi_valued.into());
    o.insert("description".into(), a.description.into());
    o.insert("required".into(), a.required.into());
    if a.ty != AttrType::Complex {
        o.insert("caseExact".into(), a.case_exact.into());
    }
    if !a.canonical_values.is_empty() {
        o.insert("canonicalValues".into(), a.canonical_values.into());
    }
    if a.ty == AttrType::Reference {
        o.insert("referenceTypes".into(), a.reference_types.into());
    }
    o.insert("mutability".into(), a.mutability.as_str().into());
    o.insert("returned".into(), a.returned.as_str().into());
    if a.ty != AttrType::Complex {
        o.insert("uniqueness".into(), a.uniqueness.as_str().into());
    }
    if a.ty == AttrType::Complex {
        o.insert("subAttributes".into(), a.sub_attributes.iter().map(attribute).collect());
    }
    Value::Object(o)
}

/// One Schema resource (RFC 7643 §7).
pub fn schema(s: &SchemaDef, base: &str) -> Value {
    json!({
        "schemas": [SCHEMA_URN],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attributes.iter().map(attribute).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", s.id)},
    })
}

/// The Schema with this id (URNs compare case-insensitively, RFC 7643 §2.1).
pub fn find_schema(id: &str) -> Option<&'static SchemaDef> {
    ALL_SCHEMAS.iter().copied().find(|s| s.id.eq_ignore_ascii_case(id))
}

/// A ListResponse of discovery resources (RFC 7644 §4).
pub fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": resources.len(),
        "itemsPerPage": resources.len(),
        "startIndex": 1,
        "Resources": resources,
    })
}

/// All ResourceTypes.
pub fn resource_types(base: &str) -> Value {
    list(ResourceKind::ALL.into_iter().map(|k| resource_type(k.def(), base)).collect())
}

/// All Schemas.
pub fn schemas(base: &str) -> Value {
    list(ALL_SCHEMAS.iter().map(|s| schema(s, base)).collect())
}
