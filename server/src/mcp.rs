//! The MCP endpoint (Model Context Protocol, "Streamable HTTP" transport, JSON responses): JSON-RPC 2.0 with
//! `initialize`, `tools/list` and `tools/call`, whose tools list and read the SCIM users and groups of the access
//! token's workspace within its scopes (`users.read`, `groups.read`). **Does not import axum**: `http::oauth`
//! authenticates the bearer token and hands over the parsed message.

use serde_json::{Value, json};

use crate::oauth::{AccessInfo, SCOPE_GROUPS_READ, SCOPE_USERS_READ};
use crate::scim::schema::ResourceKind;
use crate::scim::service::{ListParams, ScimService};

/// The MCP protocol revision this server speaks.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// JSON-RPC 2.0 error codes (JSON-RPC 2.0 §5.1).
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

/// A tool: its name, the scope it needs, the resource kind it reads, and whether it reads one or lists.
struct Tool {
    name: &'static str,
    scope: &'static str,
    kind: ResourceKind,
    one: bool,
    description: &'static str,
}

const TOOLS: [Tool; 4] = [
    Tool {
        name: "list_users",
        scope: SCOPE_USERS_READ,
        kind: ResourceKind::User,
        one: false,
        description: "List the workspace's SCIM users, optionally with a SCIM filter (RFC 7644 §3.4.2.2)",
    },
    Tool {
        name: "get_user",
        scope: SCOPE_USERS_READ,
        kind: ResourceKind::User,
        one: true,
        description: "Read one SCIM user by directory_id and id",
    },
    Tool {
        name: "list_groups",
        scope: SCOPE_GROUPS_READ,
        kind: ResourceKind::Group,
        one: false,
        description: "List the workspace's SCIM groups, optionally with a SCIM filter",
    },
    Tool {
        name: "get_group",
        scope: SCOPE_GROUPS_READ,
        kind: ResourceKind::Group,
        one: true,
        description: "Read one SCIM group by directory_id and id",
    },
];

fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

fn tool_error(text: String) -> Value {
    json!({"content": [{"type": "text", "text": text}], "isError": true})
}

fn input_schema(one: bool) -> Value {
    if one {
        json!({"type": "object", "properties": {"directory_id": {"type": "string"}, "id": {"type": "string"}},
               "required": ["directory_id", "id"], "additionalProperties": false})
    } else {
        json!({"type": "object", "properties": {
            "directory_id": {"type": "string", "description": "Only this directory (default: all of the workspace)"},
            "filter": {"type": "string", "description": "A SCIM filter, e.g. userName sw \"a\""},
            "count": {"type": "integer", "minimum": 0, "maximum": 200}}, "additionalProperties": false})
    }
}

/// The MCP service over the SCIM data.
#[derive(Debug)]
pub struct McpService<'a> {
    /// The SCIM service the tools read.
    pub scim: &'a ScimService,
    /// The SCIM base URL, for `meta.location`.
    pub base: &'a str,
}

impl McpService<'_> {
    /// Answers one JSON-RPC message (the raw body); `None` for a notification, which gets no answer.
    pub fn handle(&self, who: &AccessInfo, body: &[u8]) -> Option<Value> {
        let Ok(msg) = serde_json::from_slice::<Value>(body) else {
            return Some(error(&Value::Null, PARSE_ERROR, "the body is not JSON"));
        };
        let id = msg.get("id").cloned();
        let method = msg.get("method").and_then(Value::as_str);
        let valid_id = id.as_ref().is_none_or(|i| i.is_string() || i.is_number());
        if msg.get("jsonrpc").and_then(Value::as_str) != Some("2.0") || method.is_none() || !valid_id {
            return Some(error(&id.unwrap_or(Value::Null), INVALID_REQUEST, "not a JSON-RPC 2.0 request"));
        }
        // A message without an id is a notification (JSON-RPC 2.0 §4.1): never answered.
        let id = id?;
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        Some(match method.unwrap_or_default() {
            "initialize" => result(
                &id,
                json!({
                    "protocolVersion": PROTOCOL_VERSION,
                    "capabilities": {"tools": {"listChanged": false}},
                    "serverInfo": {"name": "idconform", "version": env!("CARGO_PKG_VERSION")},
                }),
            ),
            "ping" => result(&id, json!({})),
            "tools/list" => {
                let tools: Vec<Value> = TOOLS
                    .iter()
                    .filter(|t| who.has_scope(t.scope))
                    .map(|t| json!({"name": t.name, "description": t.description, "inputSchema": input_schema(t.one)}))
                    .collect();
                result(&id, json!({"tools": tools}))
            }
            "tools/call" => match self.call(who, &params) {
                Ok(v) => result(&id, v),
                Err(msg) => error(&id, INVALID_PARAMS, &msg),
            },
            other => error(&id, METHOD_NOT_FOUND, &format!("method {other:?} is not supported")),
        })
    }

    fn call(&self, who: &AccessInfo, params: &Value) -> Result<Value, String> {
        let name = params.get("name").and_then(Value::as_str).ok_or("params.name is missing")?;
        let tool = TOOLS.iter().find(|t| t.name == name).ok_or_else(|| format!("unknown tool {name:?}"))?;
        if !who.has_scope(tool.scope) {
            return Ok(tool_error(format!("the access token lacks the {} scope", tool.scope)));
        }
        let args = params.get("arguments").cloned().unwrap_or_else(|| json!({}));
        let arg = |k: &str| args.get(k).and_then(Value::as_str).map(str::to_owned);
        let t = self.scim.tenancy().read();
        let mut dirs: Vec<String> = t
            .directories
            .values()
            .filter(|d| d.workspace_id == who.member.workspace_id)
            .map(|d| d.id.clone())
            .collect();
        drop(t);
        dirs.sort();
        if let Some(d) = arg("directory_id") {
            if !dirs.contains(&d) {
                return Ok(tool_error(format!("directory {d:?} not found")));
            }
            dirs = vec![d];
        }
        if tool.one {
            let (Some(d), Some(id)) = (arg("directory_id"), arg("id")) else {
                return Err("arguments.directory_id and arguments.id are required".into());
            };
            let Some(dir) = self.scim.directory(&d) else { return Ok(tool_error("directory not found".into())) };
            let proj =
                crate::scim::project::Projection::parse(tool.kind.def(), None, None).map_err(|e| format!("{e}"))?;
            return Ok(match self.scim.get_text(&dir, tool.kind, &id, &proj, self.base) {
                Ok((text, _)) => {
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    json!({"content": [{"type": "text", "text": text}], "structuredContent": v, "isError": false})
                }
                Err(e) => tool_error(e.to_string()),
            });
        }
        let count = args.get("count").and_then(Value::as_i64).unwrap_or(100).clamp(0, 200);
        let p = ListParams { filter: arg("filter"), count: Some(count), ..ListParams::default() };
        let mut resources = Vec::new();
        for d in dirs {
            let Some(dir) = self.scim.directory(&d) else { continue };
            match self.scim.list(&dir, &[tool.kind], &p, self.base) {
                Ok(list) => {
                    let v: Value = serde_json::from_str(&list.to_json()).unwrap_or(Value::Null);
                    if let Some(items) = v.get("Resources").and_then(Value::as_array) {
                        resources.extend(items.iter().map(|r| json!({"directory_id": d, "resource": r})));
                    }
                }
                Err(e) => return Ok(tool_error(e.to_string())),
            }
        }
        let out = json!({"totalResults": resources.len(), "Resources": resources});
        Ok(json!({"content": [{"type": "text", "text": out.to_string()}], "structuredContent": out, "isError": false}))
    }
}
