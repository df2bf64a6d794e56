//! Markdown for CI job summaries: a counts table, then every non-passing check with its clause and the
//! expected/actual pair. Passing checks are listed in a collapsed block to keep the summary short.

use std::fmt::Write as _;

use super::{Report, Status};

/// Escapes text for a Markdown table cell or paragraph: neutralises markup characters and line breaks.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report as Markdown.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let verdict = if report.exit_code() == 0 { "✅ all MUSTs pass" } else { "❌ MUST failures" };
    let _ = writeln!(out, "## idconform: {} — {verdict}\n", escape(&report.target));
    let _ = writeln!(out, "Profile `{}` · {} checks · {} ms\n", report.profile.as_str(), s.total, report.duration_ms);
    out.push_str("| Level | Passed | Failed | Warned | Skipped |\n|---|---:|---:|---:|---:|\n");
    for (level, c) in &s.by_level {
        let _ = writeln!(out, "| {level} | {} | {} | {} | {} |", c.passed, c.failed, c.warned, c.skipped);
    }
    let _ = writeln!(out, "| **All** | **{}** | **{}** | **{}** | **{}** |\n", s.passed, s.failed, s.warned, s.skipped);
    let problems: Vec<_> = report.results.iter().filter(|r| matches!(r.status, Status::Fail | Status::Warn)).collect();
    if !problems.is_empty() {
        out.push_str("### Failures and warnings\n\n");
        for r in problems {
            let _ = writeln!(
                out,
                "- **{}** `{}` ({}) — {}\n  - {} §{}: “{}”\n  - expected: {}\n  - actual: {}",
                r.status.label(),
                r.id,
                r.level.as_str(),
                escape(&r.title),
                escape(&r.spec.rfc),
                escape(&r.spec.section),
                escape(&r.spec.text),
                escape(r.expected.as_deref().unwrap_or("")),
                escape(r.actual.as_deref().unwrap_or(""))
            );
            if let Some(d) = &r.deviation {
                let _ = writeln!(out, "  - declared deviation: {}", escape(&d.reason));
            }
        }
        out.push('\n');
    }
    let stale: Vec<_> =
        report.results.iter().filter(|r| r.deviation.as_ref().is_some_and(|d| !d.still_fails)).collect();
    if !stale.is_empty() {
        out.push_str("### Declared deviations that no longer fail\n\n");
        for r in stale {
            let _ = writeln!(out, "- `{}` — remove the deviation from the target file", r.id);
        }
        out.push('\n');
    }
    let skipped: Vec<_> = report.results.iter().filter(|r| r.status == Status::Skip).collect();
    if !skipped.is_empty() {
        out.push_str("<details><summary>Skipped</summary>\n\n");
        for r in skipped {
            let _ = writeln!(out, "- `{}` — {}", r.id, escape(&r.message));
        }
        out.push_str("\n</details>\n\n");
    }
    out.push_str("<details><summary>Passed</summary>\n\n");
    for r in report.results.iter().filter(|r| r.status == Status::Pass) {
        let _ = writeln!(out, "- `{}` — {}", r.id, escape(&r.title));
    }
    out.push_str("\n</details>\n");
    out
}
