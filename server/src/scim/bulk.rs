//! Bulk operations (RFC 7644 §3.7): many creates, replaces, patches and deletes in one request, with `bulkId`
//! cross-references, `failOnErrors`, and the advertised limits enforced.
//!
//! Operations run in order, each atomically on its own (RFC 7644 §3.7: a bulk request is not a transaction). An
//! operation whose data refers to `bulkId:x` of a POST that has not run yet waits until that POST has run, so
//! clients may list operations in any order (RFC 7644 §3.7.1: "the service provider MUST try to resolve" them).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::error::{ScimError, ScimResult};
use super::project::Projection;
use super::schema::{BULK_REQUEST_URN, BULK_RESPONSE_URN, ResourceKind};
use super::service::{Dir, ScimService};

struct Op {
    index: usize,
    method: String,
    bulk_id: Option<String>,
    version: Option<String>,
    path: String,
    data: Option<Value>,
}

fn op_error(method: &str, bulk_id: Option<&str>, e: &ScimError) -> Value {
    let mut o = json!({"method": method, "status": e.status().to_string(), "response": e.to_json()});
    if let Some(b) = bulk_id {
        o["bulkId"] = Value::from(b);
    }
    o
}

/// Collects the bulkIds a value refers to (`"bulkId:qwerty"` strings).
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => {
            if let Some(b) = s.strip_prefix("bulkId:") {
                out.push(b.to_owned());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        Value::Object(o) => o.values().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn substitute(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix("bulkId:").and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, ids)),
        Value::Object(o) => o.values_mut().for_each(|x| substitute(x, ids)),
        _ => {}
    }
}

fn parse_ops(body: &Value, strict: bool) -> ScimResult<(Vec<Op>, Option<usize>)> {
    let obj = body.as_object().ok_or_else(|| ScimError::invalid_syntax("a BulkRequest must be a JSON object"))?;
    let schemas_ok = obj
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|s| s.as_str() == Some(BULK_REQUEST_URN)));
    if strict && !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "a BulkRequest must list {BULK_REQUEST_URN} in schemas (RFC 7644 §3.7)"
        )));
    }
    let fail_on_errors = match obj.get("failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n >= 1)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| ScimError::invalid_value("failOnErrors must be a positive integer (RFC 7644 §3.7)"))?,
        ),
    };
    let ops = obj
        .get("Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("a BulkRequest needs an \"Operations\" array (RFC 7644 §3.7)"))?;
    let mut out = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let s = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_owned);
        out.push(Op {
            index,
            method: s("method").unwrap_or_default().to_ascii_uppercase(),
            bulk_id: s("bulkId"),
            version: s("version"),
            path: s("path").unwrap_or_default(),
            data: op.get("data").cloned(),
        });
    }
    Ok((out, fail_on_errors))
}

impl ScimService {
    /// Runs a BulkRequest; returns the BulkResponse. `payload_len` is the size of the request body in bytes.
    pub async fn bulk(&self, dir: &Dir, body: &Value, payload_len: usize, base: &str) -> ScimResult<Value> {
        // RFC 7644 §3.7.4: requests over maxPayloadSize or maxOperations get 413.
        if payload_len > self.limits.bulk_max_payload {
            return Err(ScimError::PayloadTooLarge(format!(
                "the bulk request is {payload_len} bytes; maxPayloadSize is {}",
                self.limits.bulk_max_payload
            )));
        }
        let (ops, fail_on_errors) = parse_ops(body, self.leniency.strict)?;
        if ops.len() > self.limits.bulk_max_operations {
            return Err(ScimError::PayloadTooLarge(format!(
                "the bulk request has {} operations; maxOperations is {}",
                ops.len(),
                self.limits.bulk_max_operations
            )));
        }
        let declared: HashMap<String, usize> =
            ops.iter().filter(|o| o.method == "POST").filter_map(|o| o.bulk_id.clone().map(|b| (b, o.index))).collect();
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut results: Vec<Option<Value>> = vec![None; ops.len()];
        let mut pending: Vec<Op> = ops;
        let mut errors = 0usize;
        'passes: loop {
            let mut progressed = false;
            let mut waiting = Vec::new();
            for mut op in pending {
                let mut needed = Vec::new();
                if let Some(d) = &op.data {
                    refs(d, &mut needed);
                }
                if let Some(b) = op.path.split('/').nth(2).and_then(|s| s.strip_prefix("bulkId:")) {
                    needed.push(b.to_owned());
                }
                let unresolved: Vec<&String> = needed.iter().filter(|b| !ids.contains_key(*b)).collect();
                if unresolved.iter().any(|b| declared.contains_key(*b) && results[declared[*b]].is_none()) {
                    waiting.push(op);
                    continue;
                }
                progressed = true;
                let outcome = if let Some(b) = unresolved.first() {
                    Err(ScimError::Conflict(format!(
                        "bulkId {b:?} does not name a POST of this request that succeeded (RFC 7644 §3.7.2)"
                    )))
                } else {
                    if let Some(d) = op.data.as_mut() {
                        substitute(d, &ids);
                    }
                    op.path = op
                        .path
                        .split('/')
                        .map(|seg| seg.strip_prefix("bulkId:").and_then(|b| ids.get(b)).map_or(seg, String::as_str))
                        .collect::<Vec<_>>()
                        .join("/");
                    self.bulk_one(dir, &op, base).await
                };
                let res = match outcome {
                    Ok((v, id)) => {
                        if let (Some(b), Some(id)) = (&op.bulk_id, id) {
                            ids.insert(b.clone(), id);
                        }
                        v
                    }
                    Err(e) => {
                        errors += 1;
                        op_error(&op.method, op.bulk_id.as_deref(), &e)
                    }
                };
                results[op.index] = Some(res);
                // "failOnErrors: the number of errors that the service provider will accept before the operation
                // is terminated" (RFC 7644 §3.7.3).
                if fail_on_errors.is_some_and(|n| errors >= n) {
                    break 'passes;
                }
            }
            pending = waiting;
            if pending.is_empty() || !progressed {
                // Whatever still waits refers, in a cycle, to POSTs that wait on it in turn.
                for op in pending {
                    let e = ScimError::Conflict("circular bulkId references could not be resolved".into());
                    results[op.index] = Some(op_error(&op.method, op.bulk_id.as_deref(), &e));
                }
                break;
            }
        }
        Ok(json!({
            "schemas": [BULK_RESPONSE_URN],
            "Operations": results.into_iter().flatten().collect::<Vec<_>>(),
        }))
    }

    async fn bulk_one(&self, dir: &Dir, op: &Op, base: &str) -> ScimResult<(Value, Option<String>)> {
        let mut segs = op.path.trim_start_matches('/').splitn(2, '/');
        let kind = match segs.next() {
            Some("Users") => ResourceKind::User,
            Some("Groups") => ResourceKind::Group,
            _ => return Err(ScimError::invalid_value(format!("bulk path {:?} names no resource type", op.path))),
        };
        let id = segs.next().filter(|s| !s.is_empty());
        let proj = Projection::default_for(kind.def());
        let data = || op.data.as_ref().ok_or_else(|| ScimError::invalid_syntax("this operation needs \"data\""));
        let mut out = Map::new();
        out.insert("method".into(), Value::from(op.method.clone()));
        if let Some(b) = &op.bulk_id {
            out.insert("bulkId".into(), Value::from(b.clone()));
        }
        let version = op.version.as_deref();
        let (status, rendered) = match (op.method.as_str(), id) {
            ("POST", None) => {
                if self.leniency.strict && op.bulk_id.is_none() {
                    return Err(ScimError::invalid_value("bulkId is REQUIRED for POST (RFC 7644 §3.7)"));
                }
                (201, Some(self.create(dir, kind, data()?, &proj, base).await?))
            }
            ("PUT", Some(id)) => (200, Some(self.replace(dir, kind, id, data()?, version, &proj, base).await?)),
            ("PATCH", Some(id)) => (200, Some(self.patch(dir, kind, id, data()?, version, &proj, base).await?)),
            ("DELETE", Some(id)) => {
                self.delete(dir, kind, id, version).await?;
                (204, None)
            }
            (m, _) => {
                return Err(ScimError::invalid_value(format!(
                    "method {m:?} with path {:?} is not a bulk operation (RFC 7644 §3.7)",
                    op.path
                )));
            }
        };
        out.insert("status".into(), Value::from(status.to_string()));
        let mut new_id = None;
        if let Some(r) = rendered {
            out.insert("location".into(), Value::from(r.location));
            out.insert("version".into(), Value::from(r.version));
            new_id = r.body.get("id").and_then(Value::as_str).map(str::to_owned);
        } else if let Some(id) = id {
            out.insert("location".into(), Value::from(format!("{base}{}/{id}", kind.def().endpoint)));
        }
        Ok((Value::Object(out), new_id))
    }
}
