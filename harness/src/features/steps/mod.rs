//! The step library, one module per concept: generic HTTP and JSON ([`http`]), SCIM resources ([`scim`]), the
//! mock identity providers ([`idp`]), the mock OAuth client ([`oauth`]) and the mock SAML IdP ([`saml`]). Every
//! phrase is listed, with an example, in `features/README.md`; a test keeps that list complete.
//!
//! Steps are registered explicitly (not through link-time collection), and each phrase is accepted after any
//! keyword — `Given`, `When`, `Then`, `And`, `But` — so a scenario reads naturally without undefined-step surprises.

pub mod http;
pub mod idp;
pub mod oauth;
pub mod saml;
pub mod scim;

use cucumber::step::Context;
use serde_json::Value;

use super::world::{ScimWorld, StepFailure, failure};

/// One step phrase: its regular expression, what it does, an example, and its body.
#[derive(Clone, Copy)]
pub struct StepDef {
    /// The anchored regular expression the step text must match.
    pub phrase: &'static str,
    /// What the step does.
    pub doc: &'static str,
    /// An example line of a feature file.
    pub example: &'static str,
    /// The body.
    pub run: cucumber::Step<ScimWorld>,
}

impl std::fmt::Debug for StepDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepDef").field("phrase", &self.phrase).finish_non_exhaustive()
    }
}

/// Every step of the library.
pub fn all() -> Vec<StepDef> {
    let mut v = http::steps();
    v.extend(scim::steps());
    v.extend(idp::steps());
    v.extend(oauth::steps());
    v.extend(saml::steps());
    v
}

/// Declares a step whose body is `async fn(&mut ScimWorld, Context) -> StepResult`; a failure becomes the step's
/// failure message (carried as a [`StepFailure`] panic payload, which is how cucumber reports a failed step).
#[macro_export]
macro_rules! step {
    ($phrase:expr, $doc:expr, $example:expr, $body:path) => {{
        fn run<'a>(
            w: &'a mut $crate::features::world::ScimWorld,
            ctx: ::cucumber::step::Context,
        ) -> ::futures::future::LocalBoxFuture<'a, ()> {
            ::std::boxed::Box::pin(async move {
                if let Err(e) = $body(w, ctx).await {
                    ::std::panic::panic_any(e);
                }
            })
        }
        $crate::features::steps::StepDef { phrase: $phrase, doc: $doc, example: $example, run }
    }};
}

/// The captured groups of the step's match, in order (the whole match left out). A `\"` inside a quoted argument
/// stands for `"`, so authors may escape inner quotes or not.
pub(crate) fn args(ctx: &Context) -> Vec<String> {
    ctx.matches.iter().skip(1).map(|(_, v)| v.replace("\\\"", "\"")).collect()
}

/// The doc string under the step.
pub(crate) fn docstring(ctx: &Context) -> Result<String, StepFailure> {
    ctx.step.docstring.clone().ok_or_else(|| failure("this step needs a doc string (\"\"\" … \"\"\") below it"))
}

/// A JSON literal written in a step: `"text"`, `true`, `false`, `null` or a number.
pub(crate) fn json_literal(s: &str) -> Result<Value, StepFailure> {
    let s = s.trim();
    if let Ok(v) = serde_json::from_str(s) {
        return Ok(v);
    }
    // A string whose inner quotes were unescaped by `args`: its content is the text between the outer quotes.
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => Ok(Value::String(inner.to_owned())),
        None => Err(failure(format!("{s} is not a JSON value (quote strings: \"text\")"))),
    }
}

/// Names in a step: `"alice", "bob" and 'carol'` → `[alice, bob, carol]`.
pub(crate) fn names(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = list;
    while let Some(start) = rest.find(['"', '\'']) {
        let quote = rest[start..].chars().next().unwrap_or('"');
        let after = &rest[start + 1..];
        let Some(end) = after.find(quote) else { break };
        out.push(after[..end].to_owned());
        rest = &after[end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_both_quotes_and_separators() {
        assert_eq!(names(r#""alice", 'bob' and "carol""#), ["alice", "bob", "carol"]);
        assert!(names("nobody").is_empty());
    }

    #[test]
    fn every_phrase_compiles_and_is_unique() {
        let all = all();
        let mut seen = std::collections::HashSet::new();
        for s in &all {
            assert!(regex::Regex::new(s.phrase).is_ok(), "{}", s.phrase);
            assert!(s.phrase.starts_with('^') && s.phrase.ends_with('$'), "anchored: {}", s.phrase);
            assert!(seen.insert(s.phrase), "duplicate {}", s.phrase);
        }
    }

    #[test]
    fn every_example_matches_exactly_one_phrase() {
        let all = all();
        let regexes: Vec<regex::Regex> = all.iter().filter_map(|s| regex::Regex::new(s.phrase).ok()).collect();
        for s in &all {
            let first_line = s.example.lines().next().unwrap_or_default();
            let text = first_line.split_once(' ').map_or(first_line, |(_, rest)| rest);
            let hits = regexes.iter().filter(|r| r.is_match(text)).count();
            assert_eq!(hits, 1, "example {text:?} matches {hits} phrases");
        }
    }

    #[test]
    fn the_readme_lists_every_step_with_its_example() {
        let readme = include_str!("../../../../features/README.md");
        for s in all() {
            for line in s.example.lines() {
                assert!(readme.contains(line.trim()), "features/README.md lacks the example line {:?}", line.trim());
            }
            assert!(readme.contains(s.doc), "features/README.md lacks the description of {}", s.phrase);
        }
    }
}
