//! The JSON report: a stable, documented format for tools.
//!
//! Keys are only ever added, never renamed or removed, within a major version. Shape:
//!
//! ```json
//! {
//!   "tool": "idconform",
//!   "version": "0.1.0",
//!   "target": "Example SCIM service",          // the target's name (the URL when none was given)
//!   "url": "https://scim.example.com/scim/v2",
//!   "profile": "all",                            // all | rfc | interop | okta | entra
//!   "started_at": "2025-01-01T12:00:00Z",        // RFC 3339, UTC
//!   "duration_ms": 1234,
//!   "summary": {
//!     "passed": 60, "failed": 1, "warned": 2, "skipped": 3,   // by status
//!     "total": 66,
//!     "deviations": 1,          // failures covered by a declared deviation (they do not fail the run)
//!     "stale_deviations": 0,    // declared deviations whose check passes again
//!     "by_level": { "MUST": {"passed": 50, "failed": 1, "warned": 0, "skipped": 2}, "SHOULD": {…}, "MAY": {…} }
//!   },
//!   "results": [
//!     {
//!       "id": "scim.filter.value-path",          // stable check id
//!       "title": "…",
//!       "section": "filter",
//!       "spec": { "rfc": "RFC 7644", "section": "3.4.2.2", "text": "<normative sentence quoted>" },
//!       "level": "MUST",                          // MUST | SHOULD | MAY (effective level under the profile)
//!       "tags": ["filter", "interop"],
//!       "status": "fail",                         // pass | fail (MUST failed) | warn (SHOULD/MAY failed) | skip
//!       "message": "expected …; got …",           // "passed", the skip reason, or expected/actual in one line
//!       "expected": "…",                          // fail/warn only
//!       "actual": "…",                            // fail/warn only
//!       "deviation": { "reason": "…", "still_fails": true },   // only when the target declares one
//!       "exchanges": [                            // fail/warn/skip only; Authorization is redacted
//!         { "method": "GET", "url": "…", "request_headers": [["Accept", "…"]], "request_body": "…",
//!           "status": 200, "response_headers": [["content-type", "…"]], "response_body": "…",
//!           "error": "…", "duration_ms": 3 }
//!       ],
//!       "duration_ms": 12
//!     }
//!   ]
//! }
//! ```
//!
//! Optional members are omitted rather than `null`. Bodies in `exchanges` are cut at 16 KiB. Exit code of the CLI:
//! 0 when no result has `status: "fail"` without a `deviation`, 1 otherwise.

use super::Report;

/// Pretty-printed JSON.
pub fn render(report: &Report) -> String {
    // Serialising plain structs of strings and numbers cannot fail; fall back to an error object just in case.
    serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": {}}}", serde_json::Value::String(e.to_string())))
}
