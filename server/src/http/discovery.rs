//! Discovery handlers (RFC 7644 §4). Readable without a token: clients discover before they authenticate.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::AppState;
use super::error::ScimErrorResponse;
use super::scim::scim_json;
use crate::scim::discovery;
use crate::scim::error::ScimError;

/// Discovery query: only `filter` matters, and it is refused.
#[derive(Debug, Default, Deserialize)]
pub struct DiscoveryQuery {
    filter: Option<String>,
}

fn refuse_filter(q: &DiscoveryQuery) -> Result<(), ScimError> {
    // "If a "filter" is provided, the service provider SHOULD respond with HTTP status code 403 (Forbidden) to ensure
    // that clients cannot incorrectly assume that any matching conditions specified in a filter are true"
    // (RFC 7644 §4).
    match q.filter {
        Some(_) => Err(ScimError::Forbidden("discovery endpoints do not support filtering (RFC 7644 §4)".into())),
        None => Ok(()),
    }
}

type HResult = Result<Response, ScimErrorResponse>;

/// `GET /ServiceProviderConfig`.
pub async fn spc(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<DiscoveryQuery>) -> HResult {
    refuse_filter(&q)?;
    let base = s.base_url(&headers);
    Ok(scim_json(StatusCode::OK, &discovery::service_provider_config(&base, &s.config.limits)))
}

/// `GET /ResourceTypes`.
pub async fn resource_types(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<DiscoveryQuery>) -> HResult {
    refuse_filter(&q)?;
    Ok(scim_json(StatusCode::OK, &discovery::resource_types(&s.base_url(&headers))))
}

/// `GET /ResourceTypes/{id}`.
pub async fn resource_type(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> HResult {
    let rt =
        discovery::find_resource_type(&id).ok_or_else(|| ScimError::NotFound(format!("no resource type {id:?}")))?;
    Ok(scim_json(StatusCode::OK, &discovery::resource_type(rt, &s.base_url(&headers))))
}

/// `GET /Schemas`.
pub async fn schemas(State(s): State<AppState>, headers: HeaderMap, Query(q): Query<DiscoveryQuery>) -> HResult {
    refuse_filter(&q)?;
    Ok(scim_json(StatusCode::OK, &discovery::schemas(&s.base_url(&headers))))
}

/// `GET /Schemas/{id}`.
pub async fn schema(State(s): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> HResult {
    let sc = discovery::find_schema(&id).ok_or_else(|| ScimError::NotFound(format!("no schema {id:?}")))?;
    Ok(scim_json(StatusCode::OK, &discovery::schema(sc, &s.base_url(&headers))))
}
