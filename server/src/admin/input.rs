//! Reading request bodies field by field, so every invalid field is reported at once with where it is (the 422
//! `detail` list), and unknown fields are refused rather than silently ignored (a typo in `expires_at` must not give
//! a token that never expires).

use serde_json::{Map, Value};

use super::error::{AdminError, AdminResult, FieldError};
use crate::clock::format_datetime;

/// A JSON object body being read; collects field errors until [`Obj::finish`].
#[derive(Debug)]
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    known: &'static [&'static str],
    errors: Vec<FieldError>,
}

impl<'a> Obj<'a> {
    /// Starts reading `body`, which must be an object whose keys are all in `known`.
    pub fn new(body: &'a Value, known: &'static [&'static str]) -> AdminResult<Self> {
        match body {
            Value::Object(map) => Ok(Obj { map, known, errors: Vec::new() }),
            _ => Err(AdminError::field(&["body"], "the body must be a JSON object", "dict_type")),
        }
    }

    fn fail(&mut self, field: &str, msg: impl Into<String>, kind: &'static str) {
        self.errors.push(FieldError::new(&["body", field], msg, kind));
    }

    /// A string field of 1 to `max` characters (trimmed); `None` when absent (an error too if `required`).
    pub fn string(&mut self, field: &str, required: bool, max: usize) -> Option<String> {
        match self.map.get(field) {
            None | Some(Value::Null) if required => {
                self.fail(field, "field required", "missing");
                None
            }
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => {
                let t = s.trim();
                if t.is_empty() {
                    self.fail(field, "must not be empty", "string_too_short");
                    None
                } else if t.chars().count() > max {
                    self.fail(field, format!("must be at most {max} characters"), "string_too_long");
                    None
                } else {
                    Some(t.to_owned())
                }
            }
            Some(_) => {
                self.fail(field, "must be a string", "string_type");
                None
            }
        }
    }

    /// A string field that must be one of `allowed`.
    pub fn one_of(&mut self, field: &str, required: bool, allowed: &[&str]) -> Option<String> {
        let v = self.string(field, required, 64)?;
        if allowed.contains(&v.as_str()) {
            Some(v)
        } else {
            self.fail(field, format!("must be one of {}", allowed.join(", ")), "enum");
            None
        }
    }

    /// An RFC 3339 date-time, normalised to UTC with milliseconds; `Some(None)` for an explicit `null`.
    pub fn datetime(&mut self, field: &str) -> Option<Option<String>> {
        match self.map.get(field) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => match chrono::DateTime::parse_from_rfc3339(s.trim()) {
                Ok(t) => Some(Some(format_datetime(t.with_timezone(&chrono::Utc)))),
                Err(_) => {
                    self.fail(field, "must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z", "datetime_parsing");
                    None
                }
            },
            Some(_) => {
                self.fail(field, "must be an RFC 3339 date-time string or null", "datetime_type");
                None
            }
        }
    }

    /// A non-empty list of distinct strings, each one of `allowed`.
    pub fn string_list(&mut self, field: &str, allowed: &[&str]) -> Option<Vec<String>> {
        let items = match self.map.get(field) {
            None => return None,
            Some(Value::Array(a)) if !a.is_empty() => a,
            Some(_) => {
                self.fail(field, "must be a non-empty list of strings", "list_type");
                return None;
            }
        };
        let mut out: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) if allowed.contains(&s) => {
                    if !out.iter().any(|o| o == s) {
                        out.push(s.to_owned());
                    }
                }
                _ => {
                    let idx = i.to_string();
                    self.errors.push(FieldError::new(
                        &["body", field, &idx],
                        format!("must be one of {}", allowed.join(", ")),
                        "enum",
                    ));
                }
            }
        }
        Some(out)
    }

    /// Ends reading: unknown fields and every collected error become one 422.
    pub fn finish(mut self) -> AdminResult<()> {
        let mut unknown: Vec<&String> = self.map.keys().filter(|k| !self.known.contains(&k.as_str())).collect();
        unknown.sort();
        for k in unknown {
            self.errors.push(FieldError::new(&["body", k], "extra fields are not permitted", "extra_forbidden"));
        }
        if self.errors.is_empty() { Ok(()) } else { Err(AdminError::Invalid(self.errors)) }
    }
}

/// A positive integer query parameter (`page`, `per_page`) at most `max`; `default` when absent.
pub fn query_int(name: &str, value: Option<&str>, default: usize, max: usize) -> Result<usize, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(FieldError::new(&["query", name], format!("must be an integer from 1 to {max}"), "int_parsing")),
        },
    }
}
