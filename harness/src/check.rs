//! The check model: what a conformance check is, what it can conclude, and the helpers check bodies use to say so.
//!
//! A check body is an `async fn(&Ctx) -> Step`. `Ok(())` means the target passed; `Err(outcome)` carries a failure
//! (expected vs actual) or a skip with its reason. Writing bodies as `Result` lets them use `?` on every request and
//! assertion, so a body reads as the sequence of things the spec demands.

use futures::future::BoxFuture;
use serde::Serialize;

use crate::runner::Ctx;

/// RFC 2119 requirement level of the sentence a check enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// MUST / SHALL / REQUIRED: a failure fails the run (exit code 1).
    Must,
    /// SHOULD / RECOMMENDED: a failure is reported as a warning.
    Should,
    /// MAY / OPTIONAL: a failure is reported as a warning.
    May,
}

impl Level {
    /// The keyword as written in the RFCs.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

/// The spec clause a check enforces: document, section and the normative sentence quoted verbatim.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spec {
    /// The document, e.g. `RFC 7644`.
    pub rfc: &'static str,
    /// The section, e.g. `3.4.2.2`.
    pub section: &'static str,
    /// The normative sentence, quoted from the document.
    pub text: &'static str,
}

impl Spec {
    /// `RFC 7644 §3.4.2.2`.
    pub fn citation(&self) -> String {
        format!("{} §{}", self.rfc, self.section)
    }
}

/// What a check concluded about the target when it did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The target behaved as the spec requires.
    Pass,
    /// The target did not: what the spec requires and what the target did.
    Fail {
        /// What the spec requires, phrased as an observation ("HTTP 409 with scimType \"uniqueness\"").
        expected: String,
        /// What the target actually did.
        actual: String,
    },
    /// The check could not be run meaningfully, e.g. the feature is not advertised.
    Skip {
        /// Why the check was skipped.
        reason: String,
    },
}

/// The result type of check bodies: `Ok(())` is a pass, `Err` a failure or skip.
pub type Step<T = ()> = Result<T, Outcome>;

/// A failure with what was expected and what happened.
pub fn fail(expected: impl Into<String>, actual: impl Into<String>) -> Outcome {
    Outcome::Fail { expected: expected.into(), actual: actual.into() }
}

/// A skip with its reason.
pub fn skip(reason: impl Into<String>) -> Outcome {
    Outcome::Skip { reason: reason.into() }
}

/// Fails with `expected`/`actual` unless `cond` holds.
pub fn ensure(cond: bool, expected: impl Into<String>, actual: impl FnOnce() -> String) -> Step {
    if cond { Ok(()) } else { Err(fail(expected, actual())) }
}

/// The signature of a check body; `C` is the suite's context (the SCIM [`Ctx`] by default).
pub type RunFn<C = Ctx> = for<'a> fn(&'a C) -> BoxFuture<'a, Step>;

/// One conformance check of a suite whose bodies take a `C`.
pub struct Check<C: 'static = Ctx> {
    /// Stable id, `scim.<section>.<name>`; never renamed once published, reports and deviations refer to it.
    pub id: &'static str,
    /// One line saying what is verified.
    pub title: &'static str,
    /// The clause enforced.
    pub spec: Spec,
    /// Level of the clause.
    pub level: Level,
    /// Tags for `--only` / `--skip` and profiles (the section name is always a tag too).
    pub tags: &'static [&'static str],
    /// The body.
    pub run: RunFn<C>,
}

impl<C> Clone for Check<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Check<C> {}

impl<C> std::fmt::Debug for Check<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("id", &self.id).field("level", &self.level).finish_non_exhaustive()
    }
}

impl<C> Check<C> {
    /// The section: the second segment of the id (`filter` in `scim.filter.eq`).
    pub fn section(&self) -> &'static str {
        self.id.split('.').nth(1).unwrap_or(self.id)
    }

    /// The protocol suite: the first segment of the id (`scim`).
    pub fn suite(&self) -> &'static str {
        self.id.split('.').next().unwrap_or(self.id)
    }

    /// Whether `selector` names this check: its id, an id prefix ending at a segment (`scim.filter`), its section or
    /// one of its tags.
    pub fn matches(&self, selector: &str) -> bool {
        let s = selector.trim();
        self.id == s
            || self.id.strip_prefix(s).is_some_and(|rest| rest.starts_with('.'))
            || self.section() == s
            || self.suite() == s
            || self.tags.contains(&s)
    }
}

/// Declares a check with a body written as `async fn(&Ctx) -> Step`.
#[macro_export]
macro_rules! check {
    (
        id: $id:expr,
        title: $title:expr,
        spec: ($rfc:expr, $section:expr, $text:expr),
        level: $level:ident,
        tags: [$($tag:expr),* $(,)?],
        run: $body:path $(,)?
    ) => {
        $crate::check::Check {
            id: $id,
            title: $title,
            spec: $crate::check::Spec { rfc: $rfc, section: $section, text: $text },
            level: $crate::check::Level::$level,
            tags: &[$($tag),*],
            run: |ctx| ::std::boxed::Box::pin($body(ctx)),
        }
    };
}
