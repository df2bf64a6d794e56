//! Assertions of scenario steps: a small path language over JSON bodies (dotted, case-insensitive per RFC 7643 §2.1,
//! multi-valued attributes flattened, `[sub eq "v"]` element filters, URN-qualified extension attributes, quoted
//! literal keys) and the tests of `scenarios/README.md`.

use serde_json::Value;

use super::scenario::{Assertion, Missing, Vars};

/// One segment of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// An attribute name, matched case-insensitively.
    Name(String),
    /// A key taken literally (written in quotes), matched exactly.
    Literal(String),
    /// An attribute whose elements are kept when `sub` equals `value` (case-insensitively).
    Filtered { name: String, sub: String, value: String },
}

/// Splits a path into segments. A URN-qualified path keeps the URN whole: its attribute starts after the last `:`.
fn segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = path.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            out.push(Segment::Literal(r[..end].to_owned()));
            rest = r.get(end + 1..).unwrap_or("").trim_start_matches('.');
            continue;
        }
        // A URN prefix (`urn:…:2.0:User`) contains dots: the segment runs to the first '.' after its last ':' that
        // comes before any '[' filter.
        let head_end = rest.find('[').unwrap_or(rest.len());
        let from = if rest[..head_end].to_ascii_lowercase().starts_with("urn:") {
            rest[..head_end].rfind(':').map_or(0, |i| i + 1)
        } else {
            0
        };
        let bracket = rest[from..].find('[').map(|i| i + from);
        let dot = rest[from..].find('.').map(|i| i + from);
        match (bracket, dot) {
            (Some(b), d) if d.is_none_or(|d| b < d) => {
                let close = rest[b..].find(']').map_or(rest.len(), |i| i + b);
                let name = rest[..b].to_owned();
                let filter = &rest[b + 1..close.min(rest.len())];
                let (sub, value) = parse_filter(filter);
                out.push(Segment::Filtered { name, sub, value });
                rest = rest.get(close + 1..).unwrap_or("").trim_start_matches('.');
            }
            (_, Some(d)) => {
                out.push(Segment::Name(rest[..d].to_owned()));
                rest = &rest[d + 1..];
            }
            (_, None) => {
                out.push(Segment::Name(rest.to_owned()));
                rest = "";
            }
        }
    }
    out
}

/// `type eq "work"` → (`type`, `work`).
fn parse_filter(f: &str) -> (String, String) {
    let mut parts = f.splitn(3, ' ');
    let sub = parts.next().unwrap_or("").trim().to_owned();
    let _op = parts.next();
    let value = parts.next().unwrap_or("").trim().trim_matches('"').to_owned();
    (sub, value)
}

fn get_ci<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

fn push_flat<'a>(out: &mut Vec<&'a Value>, v: &'a Value) {
    match v {
        Value::Array(a) => out.extend(a.iter()),
        Value::Null => {}
        other => out.push(other),
    }
}

/// The values a path names in `body`: multi-valued attributes contribute each element, `null` counts as absent.
pub fn resolve<'a>(body: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur: Vec<&Value> = vec![body];
    for seg in segments(path) {
        let mut next = Vec::new();
        for v in cur {
            match &seg {
                Segment::Name(n) => {
                    if let Some(x) = get_ci(v, n) {
                        push_flat(&mut next, x);
                    }
                }
                Segment::Literal(k) => {
                    if let Some(x) = v.as_object().and_then(|o| o.get(k)) {
                        push_flat(&mut next, x);
                    }
                }
                Segment::Filtered { name, sub, value } => {
                    if let Some(Value::Array(a)) = get_ci(v, name) {
                        next.extend(a.iter().filter(|e| {
                            get_ci(e, sub).and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case(value))
                        }));
                    }
                }
            }
        }
        cur = next;
    }
    cur
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The values a path named, for messages: `nothing`, one value, or a list.
pub fn show(values: &[&Value]) -> String {
    match values {
        [] => "nothing".to_owned(),
        [one] => one.to_string(),
        many => format!("[{}]", many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// The outcome of one assertion that did not hold: what was expected and what the body had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `active equals false`.
    pub expected: String,
    /// `active is "False"`.
    pub actual: String,
}

/// One test on the values a path names, its expected values already rendered: the tests of `scenarios/README.md`,
/// shared by scenario assertions and the Gherkin response steps so both judge alike.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Exactly one value, equal to this.
    Equals(Value),
    /// Exactly one string value, equal to this ignoring case.
    EqualsCi(String),
    /// Exactly these values, in any order.
    EqualsSet(Vec<Value>),
    /// Exactly these values, in this order.
    EqualsList(Vec<Value>),
    /// All of these among the values.
    Contains(Vec<Value>),
    /// None of these among the values.
    Excludes(Vec<Value>),
    /// This many values.
    Count(usize),
    /// Something (`true`) or nothing (`false`).
    Present(bool),
}

impl Test {
    /// Whether `got` passes, and the expectation phrased for a message about the path `p`.
    fn judge(&self, got: &[&Value], p: &str) -> (bool, String) {
        match self {
            Test::Equals(want) => (got.len() == 1 && same(got[0], want), format!("{p} equals {want}")),
            Test::EqualsCi(want) => (
                got.len() == 1 && got[0].as_str().is_some_and(|g| g.eq_ignore_ascii_case(want)),
                format!("{p} equals {want:?} ignoring case"),
            ),
            Test::EqualsSet(want) => {
                // A multiset comparison: each expected value occurs as often among the values as it is expected.
                let ok = got.len() == want.len()
                    && want.iter().all(|w| {
                        got.iter().filter(|g| same(g, w)).count() == want.iter().filter(|x| same(x, w)).count()
                    });
                (ok, format!("{p} is exactly {} (any order)", Value::Array(want.clone())))
            }
            Test::EqualsList(want) => (
                got.len() == want.len() && got.iter().zip(want).all(|(g, w)| same(g, w)),
                format!("{p} is exactly {} in this order", Value::Array(want.clone())),
            ),
            Test::Contains(want) => (
                want.iter().all(|w| got.iter().any(|g| same(g, w))),
                format!("{p} includes {}", Value::Array(want.clone())),
            ),
            Test::Excludes(want) => (
                !want.iter().any(|w| got.iter().any(|g| same(g, w))),
                format!("{p} includes none of {}", Value::Array(want.clone())),
            ),
            Test::Count(n) => (got.len() == *n, format!("{p} has {n} value(s)")),
            Test::Present(true) => (!got.is_empty(), format!("{p} is present")),
            Test::Present(false) => (got.is_empty(), format!("{p} is absent")),
        }
    }
}

/// Evaluates a test on the values `path` names in `body`; `None` when it holds.
pub fn evaluate(body: &Value, path: &str, test: &Test) -> Option<Mismatch> {
    let got = resolve(body, path);
    let (ok, expected) = test.judge(&got, path);
    (!ok).then(|| Mismatch { expected, actual: format!("{path} is {}", show(&got)) })
}

/// The test of an assertion with its expected values rendered; `Err(Missing)` when one names a variable without a
/// value. `None` for an assertion without a test (validation refuses those).
fn test_of(a: &Assertion, vars: &Vars) -> Result<Option<Test>, Missing> {
    let all = |vs: &Vec<toml::Value>| vs.iter().map(|v| vars.render_value(v)).collect::<Result<Vec<_>, _>>();
    Ok(Some(if let Some(v) = &a.equals {
        Test::Equals(vars.render_value(v)?)
    } else if let Some(s) = &a.equals_ci {
        Test::EqualsCi(vars.render(s)?)
    } else if let Some(vs) = &a.equals_set {
        Test::EqualsSet(all(vs)?)
    } else if let Some(vs) = &a.equals_list {
        Test::EqualsList(all(vs)?)
    } else if let Some(vs) = &a.contains {
        Test::Contains(all(vs)?)
    } else if let Some(vs) = &a.excludes {
        Test::Excludes(all(vs)?)
    } else if let Some(n) = a.count {
        Test::Count(n)
    } else if let Some(p) = a.present {
        Test::Present(p)
    } else {
        return Ok(None);
    }))
}

/// Evaluates an assertion; `Err(Missing)` when its expected value names a variable without a value.
pub fn check(a: &Assertion, body: &Value, vars: &Vars) -> Result<Option<Mismatch>, Missing> {
    Ok(test_of(a, vars)?.and_then(|t| evaluate(body, &a.path, &t)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn assertion(path: &str, test: &str) -> Assertion {
        let text = format!("path = {path:?}\n{test}\n");
        match toml::from_str(&text) {
            Ok(a) => a,
            Err(e) => panic!("bad assertion {text}: {e}"),
        }
    }

    fn user() -> Value {
        json!({
            "userName": "a@x", "active": "False",
            "name": {"givenName": "Ann"},
            "name.givenName": "Stored literally",
            "emails": [{"type": "work", "value": "w@x"}, {"type": "home", "value": "h@x"}],
            "members": [{"value": "u1"}, {"value": "u2"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}},
            "gone": null
        })
    }

    #[test]
    fn paths_resolve_like_scim_attributes() {
        let u = user();
        assert_eq!(resolve(&u, "NAME.GIVENNAME"), vec![&json!("Ann")]);
        assert_eq!(resolve(&u, "\"name.givenName\""), vec![&json!("Stored literally")]);
        assert_eq!(resolve(&u, "members.value"), vec![&json!("u1"), &json!("u2")]);
        assert_eq!(resolve(&u, "emails[type eq \"work\"].value"), vec![&json!("w@x")]);
        assert_eq!(
            resolve(&u, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value"),
            vec![&json!("m1")]
        );
        assert!(resolve(&u, "gone").is_empty());
        assert!(resolve(&u, "nothing.here").is_empty());
        assert_eq!(resolve(&u, "emails").len(), 2);
    }

    #[test]
    fn tests_pass_and_fail_with_readable_messages() {
        let u = user();
        let vars = Vars::new("r");
        let ok = |path: &str, test: &str| check(&assertion(path, test), &u, &vars).ok().flatten();
        assert!(ok("members.value", "equals_set = [\"u2\", \"u1\"]").is_none());
        assert!(ok("members.value", "contains = [\"u1\"]").is_none());
        assert!(ok("members.value", "equals_list = [\"u1\", \"u2\"]").is_none());
        assert!(ok("members.value", "equals_list = [\"u2\", \"u1\"]").is_some());
        assert!(ok("members.value", "excludes = [\"u3\"]").is_none());
        assert!(ok("members", "count = 2").is_none());
        assert!(ok("gone", "present = false").is_none());
        assert!(ok("userName", "equals_ci = \"A@X\"").is_none());
        let m = ok("active", "equals = false");
        assert_eq!(m.map(|m| m.actual), Some("active is \"False\"".into()));
        assert!(ok("members.value", "equals_set = [\"u1\"]").is_some());
        assert!(ok("\"name.givenName\"", "present = false").is_some());
        assert!(check(&assertion("id", "equals = \"{{missing}}\""), &u, &vars).is_err());
    }
}
