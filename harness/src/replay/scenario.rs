//! The scenario file format (documented for authors in `scenarios/README.md`): parsing, validation and templates.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::idp::Idp;

/// Why a scenario file cannot be used. A usage error: the run does not start.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file or folder could not be read.
    #[error("cannot read {path}: {message}")]
    Read {
        /// The file or folder.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// The file is not valid TOML or does not follow the format.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Accepted response statuses: one or several.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Statuses {
    /// One status.
    One(u16),
    /// Any of these.
    Many(Vec<u16>),
}

impl Statuses {
    /// Whether `status` passes.
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            Statuses::One(s) => *s == status,
            Statuses::Many(v) => v.contains(&status),
        }
    }

    /// `201` or `200 or 204`.
    pub fn describe(&self) -> String {
        match self {
            Statuses::One(s) => format!("HTTP {s}"),
            Statuses::Many(v) => {
                format!("HTTP {}", v.iter().map(u16::to_string).collect::<Vec<_>>().join(" or "))
            }
        }
    }
}

/// One assertion on a JSON body: a path and exactly one test.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    /// Dotted, case-insensitive path into the body (see [`super::assert::resolve`]).
    pub path: String,
    /// The path resolves to exactly one value, equal to this.
    pub equals: Option<toml::Value>,
    /// One string value equal to this ignoring case.
    pub equals_ci: Option<String>,
    /// The values are exactly these, in any order.
    pub equals_set: Option<Vec<toml::Value>>,
    /// The values are exactly these, in this order.
    pub equals_list: Option<Vec<toml::Value>>,
    /// The values include all of these.
    pub contains: Option<Vec<toml::Value>>,
    /// The values include none of these.
    pub excludes: Option<Vec<toml::Value>>,
    /// The number of values.
    pub count: Option<usize>,
    /// Whether the path resolves to anything.
    pub present: Option<bool>,
}

impl Assertion {
    fn tests(&self) -> usize {
        [
            self.equals.is_some(),
            self.equals_ci.is_some(),
            self.equals_set.is_some(),
            self.equals_list.is_some(),
            self.contains.is_some(),
            self.excludes.is_some(),
            self.count.is_some(),
            self.present.is_some(),
        ]
        .into_iter()
        .filter(|b| *b)
        .count()
    }
}

/// The follow-up GET of a step.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Then {
    /// Path of the GET, relative to the SCIM base URL.
    pub path: String,
    /// The status the GET must answer (200 when absent).
    pub status: Option<Statuses>,
}

/// A request of a scenario.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Stable id within the scenario.
    pub id: String,
    /// One line.
    pub title: String,
    /// The clause or vendor document.
    pub spec: String,
    /// The sentence the step enforces.
    pub expect: String,
    /// `MUST` (default), `SHOULD` or `MAY`.
    pub level: Option<String>,
    /// IdP behaviours outside a strict reading of RFC 7644 this request relies on.
    #[serde(default)]
    pub quirks: Vec<String>,
    /// HTTP method.
    pub method: String,
    /// Path and query, relative to the SCIM base URL.
    pub path: String,
    /// Extra headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body, byte for byte.
    pub body: Option<String>,
    /// Passing statuses (any 2xx when absent).
    pub status: Option<Statuses>,
    /// Assertions on the response body.
    #[serde(default)]
    pub assert: Vec<Assertion>,
    /// Variables captured from the response: name → body path or `header:Name`.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// The follow-up GET.
    pub then: Option<Then>,
    /// Assertions on the follow-up GET's body.
    #[serde(default)]
    pub then_assert: Vec<Assertion>,
}

/// A best-effort request after the steps.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cleanup {
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Optional body.
    pub body: Option<String>,
}

/// A scenario file as written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// One line.
    pub title: String,
    /// `okta`, `entra` or `generic`.
    pub idp: String,
    /// Entra's mode.
    pub mode: Option<String>,
    /// Where the request shapes come from.
    pub sources: Vec<String>,
    /// Longer text.
    pub description: Option<String>,
    /// Headers of every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Variables, rendered in order.
    #[serde(default)]
    pub vars: toml::Table,
    /// The steps.
    pub steps: Vec<Step>,
    /// Cleanup requests.
    #[serde(default)]
    pub cleanup: Vec<Cleanup>,
}

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The folder (`entra-legacy`).
    pub folder: String,
    /// The file's stem (`group-lifecycle`).
    pub name: String,
    /// The mock client the scenario belongs to.
    pub idp: Idp,
    /// The file's contents.
    pub file: ScenarioFile,
}

impl Scenario {
    /// `entra-legacy/group-lifecycle`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.folder, self.name)
    }

    /// Parses and validates one file's text.
    pub fn parse(folder: &str, name: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let origin = format!("{folder}/{name}.toml");
        let invalid = |message: String| ScenarioError::Invalid { path: origin.clone(), message };
        let file: ScenarioFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let idp = match (file.idp.as_str(), file.mode.as_deref()) {
            ("okta", None) => Idp::Okta,
            ("generic", None) => Idp::Generic,
            ("entra", mode) => Idp::Entra(mode.unwrap_or("legacy").parse().map_err(invalid)?),
            (other, Some(_)) if other != "entra" => return Err(invalid("only entra scenarios have a mode".into())),
            (other, _) => return Err(invalid(format!("unknown idp {other:?} (expected okta, entra or generic)"))),
        };
        if let Some(expected) = Idp::from_folder(folder)
            && expected != idp
        {
            return Err(invalid(format!("the folder {folder} holds {expected} scenarios, this one says {idp}")));
        }
        if file.sources.is_empty() {
            return Err(invalid("a scenario names at least one source".into()));
        }
        if file.steps.is_empty() {
            return Err(invalid("a scenario has at least one step".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for s in &file.steps {
            let at = |m: &str| invalid(format!("step {:?}: {m}", s.id));
            if s.id.is_empty() || !s.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(at("ids are made of letters, digits and '-'"));
            }
            if !seen.insert(s.id.as_str()) {
                return Err(at("duplicate step id"));
            }
            if reqwest::Method::from_bytes(s.method.as_bytes()).is_err() {
                return Err(at("invalid method"));
            }
            if !s.path.starts_with('/') {
                return Err(at("path must start with '/' (relative to the SCIM base URL)"));
            }
            if let Some(l) = &s.level
                && !matches!(l.as_str(), "MUST" | "SHOULD" | "MAY")
            {
                return Err(at("level is MUST, SHOULD or MAY"));
            }
            if !s.then_assert.is_empty() && s.then.is_none() {
                return Err(at("then_assert needs a then"));
            }
            for a in s.assert.iter().chain(&s.then_assert) {
                if a.tests() != 1 {
                    return Err(at(&format!("assertion on {:?} must have exactly one test", a.path)));
                }
            }
        }
        Ok(Scenario { folder: folder.to_owned(), name: name.to_owned(), idp, file })
    }
}

/// Loads every `*.toml` under `dir`, one level of folders deep (`dir/<folder>/<name>.toml`), sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let read_err =
        |p: &Path, e: std::io::Error| ScenarioError::Read { path: p.display().to_string(), message: e.to_string() };
    let mut files = Vec::new();
    let mut folders: Vec<_> = std::fs::read_dir(dir).map_err(|e| read_err(dir, e))?.filter_map(Result::ok).collect();
    folders.sort_by_key(std::fs::DirEntry::file_name);
    for f in folders {
        let fpath = f.path();
        if !fpath.is_dir() {
            continue;
        }
        let folder = f.file_name().to_string_lossy().into_owned();
        let mut entries: Vec<_> =
            std::fs::read_dir(&fpath).map_err(|e| read_err(&fpath, e))?.filter_map(Result::ok).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("toml") {
                continue;
            }
            let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&p).map_err(|e| read_err(&p, e))?;
            files.push(Scenario::parse(&folder, &name, &text)?);
        }
    }
    Ok(files)
}

/// The scenarios shipped in `scenarios/`, compiled into the binary so `idconform replay` works from anywhere.
pub fn builtin() -> Result<Vec<Scenario>, ScenarioError> {
    BUILTIN.iter().map(|(folder, name, text)| Scenario::parse(folder, name, text)).collect()
}

include!(concat!(env!("OUT_DIR"), "/builtin_scenarios.rs"));

/// Variables of one scenario run.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, String>,
}

/// A template named a variable that has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no value for {{{{{0}}}}}")]
pub struct Missing(pub String);

impl Vars {
    /// Variables with the built-in `run` set.
    pub fn new(run: &str) -> Self {
        let mut values = BTreeMap::new();
        values.insert("run".to_owned(), run.to_owned());
        Vars { values }
    }

    /// Sets a variable.
    pub fn set(&mut self, name: &str, value: String) {
        self.values.insert(name.to_owned(), value);
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Replaces every `{{name}}` (and `{{name|url}}`) in `s`; `{{uuid}}` is a fresh UUID at each use.
    pub fn render(&self, s: &str) -> Result<String, Missing> {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let spec = after[..end].trim();
            let (name, filter) = match spec.split_once('|') {
                Some((n, f)) => (n.trim(), Some(f.trim())),
                None => (spec, None),
            };
            let value = if name == "uuid" {
                uuid::Uuid::new_v4().to_string()
            } else {
                self.values.get(name).cloned().ok_or_else(|| Missing(name.to_owned()))?
            };
            match filter {
                Some("url") => out.push_str(&crate::http::encode(&value)),
                _ => out.push_str(&value),
            }
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Renders every string inside a TOML value and converts it to JSON.
    pub fn render_value(&self, v: &toml::Value) -> Result<Value, Missing> {
        Ok(match v {
            toml::Value::String(s) => Value::String(self.render(s)?),
            toml::Value::Integer(i) => Value::from(*i),
            toml::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            toml::Value::Boolean(b) => Value::Bool(*b),
            toml::Value::Datetime(d) => Value::String(d.to_string()),
            toml::Value::Array(a) => Value::Array(a.iter().map(|x| self.render_value(x)).collect::<Result<_, _>>()?),
            toml::Value::Table(t) => Value::Object(
                t.iter().map(|(k, x)| Ok((k.clone(), self.render_value(x)?))).collect::<Result<_, Missing>>()?,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_render_and_report_missing() {
        let mut v = Vars::new("r1");
        v.set("user", "a b@x".into());
        assert_eq!(v.render("{{run}}-{{ user }}").as_deref(), Ok("r1-a b@x"));
        assert_eq!(v.render("q={{user|url}}").as_deref(), Ok("q=a%20b%40x"));
        assert_eq!(v.render("{{nope}}"), Err(Missing("nope".into())));
        assert_eq!(v.render("{{unclosed").as_deref(), Ok("{{unclosed"));
        assert_ne!(v.render("{{uuid}}"), v.render("{{uuid}}"));
    }

    #[test]
    fn validation_names_the_problem() {
        let base = "title = \"t\"\nidp = \"okta\"\nsources = [\"s\"]\n";
        let step = "[[steps]]\nid = \"a\"\ntitle = \"t\"\nspec = \"RFC 7644 §3.3\"\nexpect = \"e\"\nmethod = \"GET\"\npath = \"/Users\"\n";
        assert!(Scenario::parse("okta", "x", &format!("{base}{step}")).is_ok());
        let err = |t: &str| Scenario::parse("okta", "x", t).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(base).contains("at least one step") || err(base).contains("steps"));
        assert!(err(&format!("{base}{step}{step}")).contains("duplicate step id"));
        assert!(err(&format!("{base}{}", step.replace("/Users", "Users"))).contains("must start with '/'"));
        assert!(err(&format!("{base}{step}unknown = 1\n")).contains("unknown"));
        let two_tests = format!("{base}{step}[[steps.assert]]\npath = \"id\"\npresent = true\ncount = 1\n");
        assert!(err(&two_tests).contains("exactly one test"));
        assert!(err(&format!("title = \"t\"\nidp = \"entra\"\nsources = [\"s\"]\n{step}")).contains("folder okta"));
    }
}
