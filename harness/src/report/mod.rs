//! The report model and its renderings: live console, JSON (stable, documented in [`json`]), JUnit XML, Markdown
//! and self-contained HTML.

pub mod console;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::check::{Level, Spec};
use crate::http::Exchange;
use crate::runner::Profile;
use crate::target::Target;

/// The verdict on one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The target behaved as required.
    Pass,
    /// A MUST was violated.
    Fail,
    /// A SHOULD or MAY was not met.
    Warn,
    /// Not run meaningfully (reason in the message).
    Skip,
}

impl Status {
    /// Upper-case label for text reports.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Skip => "SKIP",
        }
    }
}

/// The clause a result enforces, owned: a check's static [`Spec`], or the `spec` and `expect` of a replayed
/// scenario step read from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clause {
    /// The document, e.g. `RFC 7644` or `Microsoft Entra ID`.
    pub rfc: String,
    /// The section, e.g. `3.4.2.2`, or the vendor document's title.
    pub section: String,
    /// The normative sentence or vendor expectation.
    pub text: String,
}

impl From<Spec> for Clause {
    fn from(s: Spec) -> Self {
        Clause { rfc: s.rfc.to_owned(), section: s.section.to_owned(), text: s.text.to_owned() }
    }
}

/// A declared deviation attached to a result.
#[derive(Debug, Clone, Serialize)]
pub struct DeviationNote {
    /// The reason the target declared.
    pub reason: String,
    /// Whether the check still fails; `false` means the declaration is stale and can be removed.
    pub still_fails: bool,
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// Stable check id.
    pub id: String,
    /// What was verified.
    pub title: String,
    /// Section (second segment of the id).
    pub section: String,
    /// The clause enforced.
    pub spec: Clause,
    /// Effective level under the profile.
    pub level: Level,
    /// Tags.
    pub tags: Vec<String>,
    /// Verdict.
    pub status: Status,
    /// One-line explanation: "passed", the skip reason, or "expected …; got …".
    pub message: String,
    /// For failures and warnings: what the spec requires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// For failures and warnings: what the target did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The target's declared deviation for this check, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviation: Option<DeviationNote>,
    /// Requests and responses exchanged (only for non-passing checks), `Authorization` redacted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
    /// Wall-clock time of the check including cleanup.
    pub duration_ms: u64,
}

impl CheckResult {
    /// A MUST failure that the target has not declared as a deviation: these fail the run.
    pub fn is_blocking(&self) -> bool {
        self.status == Status::Fail && self.deviation.is_none()
    }
}

/// Counts per status.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Passed checks.
    pub passed: usize,
    /// Failed MUST checks.
    pub failed: usize,
    /// Failed SHOULD/MAY checks.
    pub warned: usize,
    /// Skipped checks.
    pub skipped: usize,
}

impl Counts {
    fn add(&mut self, s: Status) {
        match s {
            Status::Pass => self.passed += 1,
            Status::Fail => self.failed += 1,
            Status::Warn => self.warned += 1,
            Status::Skip => self.skipped += 1,
        }
    }
}

/// The summary of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Passed checks.
    pub passed: usize,
    /// Failed MUST checks (including declared deviations).
    pub failed: usize,
    /// Failed SHOULD/MAY checks.
    pub warned: usize,
    /// Skipped checks.
    pub skipped: usize,
    /// All checks run.
    pub total: usize,
    /// Failed checks covered by a declared deviation.
    pub deviations: usize,
    /// Declared deviations whose check no longer fails.
    pub stale_deviations: usize,
    /// Counts per level (`MUST`, `SHOULD`, `MAY`).
    pub by_level: BTreeMap<&'static str, Counts>,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always `idconform`.
    pub tool: &'static str,
    /// idconform version.
    pub version: &'static str,
    /// Target name.
    pub target: String,
    /// The URL the target was reached at: its SCIM base URL, or its OAuth issuer (several, comma-separated, when a
    /// run covered several protocols).
    pub url: String,
    /// Profile.
    pub profile: Profile,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// Run duration.
    pub duration_ms: u64,
    /// Counts.
    pub summary: Summary,
    /// Results in declaration order.
    pub results: Vec<CheckResult>,
}

impl Report {
    /// Assembles a report and its summary.
    pub fn new(
        target: &Target,
        profile: Profile,
        started_at: chrono::DateTime<chrono::Utc>,
        duration: Duration,
        results: Vec<CheckResult>,
    ) -> Self {
        Self::for_target(&target.name, &target.scim_url, profile, started_at, duration, results)
    }

    /// Assembles a report for a target named `name` and reached at `url`.
    pub fn for_target(
        name: &str,
        url: &str,
        profile: Profile,
        started_at: chrono::DateTime<chrono::Utc>,
        duration: Duration,
        results: Vec<CheckResult>,
    ) -> Self {
        let mut all = Counts::default();
        let mut by_level: BTreeMap<&'static str, Counts> = BTreeMap::new();
        for r in &results {
            all.add(r.status);
            by_level.entry(r.level.as_str()).or_default().add(r.status);
        }
        let deviations = results.iter().filter(|r| r.deviation.as_ref().is_some_and(|d| d.still_fails)).count();
        let stale_deviations = results.iter().filter(|r| r.deviation.as_ref().is_some_and(|d| !d.still_fails)).count();
        Report {
            tool: "idconform",
            version: env!("CARGO_PKG_VERSION"),
            target: name.to_owned(),
            url: url.to_owned(),
            profile,
            started_at: started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            duration_ms: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            summary: Summary {
                passed: all.passed,
                failed: all.failed,
                warned: all.warned,
                skipped: all.skipped,
                total: results.len(),
                deviations,
                stale_deviations,
                by_level,
            },
            results,
        }
    }

    /// One report of two runs against the same system (the SCIM and the OAuth suites of `check all`).
    pub fn merge(self, other: Report) -> Report {
        let started_at = chrono::DateTime::parse_from_rfc3339(&self.started_at)
            .map(|t| t.to_utc())
            .unwrap_or_else(|_| chrono::Utc::now());
        let url = if self.url == other.url { self.url } else { format!("{}, {}", self.url, other.url) };
        let mut results = self.results;
        results.extend(other.results);
        let duration = Duration::from_millis(self.duration_ms.saturating_add(other.duration_ms));
        Report::for_target(&self.target, &url, self.profile, started_at, duration, results)
    }

    /// 0 when every MUST passed (or failed with a declared deviation), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.results.iter().any(CheckResult::is_blocking))
    }

    /// Results grouped by section, sections in first-appearance order.
    pub fn sections(&self) -> Vec<(&str, Vec<&CheckResult>)> {
        let mut out: Vec<(&str, Vec<&CheckResult>)> = Vec::new();
        for r in &self.results {
            match out.iter_mut().find(|(s, _)| *s == r.section) {
                Some((_, v)) => v.push(r),
                None => out.push((&r.section, vec![r])),
            }
        }
        out
    }

    /// Renders the report in a format.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Console => console::render(self, false),
            Format::Json => json::render(self),
            Format::Junit => junit::render(self),
            Format::Markdown => markdown::render(self),
            Format::Html => html::render(self),
        }
    }
}

/// A report format for `--report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text, as printed on the console.
    Console,
    /// JSON (see [`json`]).
    Json,
    /// JUnit XML.
    Junit,
    /// Markdown, for CI job summaries.
    Markdown,
    /// Self-contained HTML.
    Html,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "console" | "text" => Ok(Format::Console),
            "json" => Ok(Format::Json),
            "junit" | "xml" => Ok(Format::Junit),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            _ => Err(format!("unknown report format {s:?} (expected console, json, junit, markdown or html)")),
        }
    }
}

/// Escapes text for XML and HTML content and attribute values (one function serves both: XML's rules are the
/// stricter); drops characters XML 1.0 cannot represent, so JUnit parsers never choke on a server's response body.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
