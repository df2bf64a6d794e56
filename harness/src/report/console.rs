//! The console report: a progress line per finished check while the run goes, then results grouped by section,
//! details of every failure and warning, and counts per level.

use std::fmt::Write as _;

use super::{CheckResult, Report, Status};

/// One progress line for a finished check, e.g. `[ 12/66] PASS  scim.filter.eq`.
pub fn progress_line(r: &CheckResult, done: usize, total: usize) -> String {
    let width = total.to_string().len();
    let extra = match r.status {
        Status::Pass => String::new(),
        _ => format!(" — {}", one_line(&r.message, 120)),
    };
    format!("[{done:>width$}/{total}] {:<4}  {}{extra}", r.status.label(), r.id)
}

/// A progress bar for a terminal, redrawn in place: `[#########...........]  45/112  scim.filter.eq`.
pub fn progress_bar(r: &CheckResult, done: usize, total: usize) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH).min(WIDTH);
    let width = total.to_string().len();
    format!(
        "\r[{}{}] {done:>width$}/{total}  {:<48}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        one_line(&r.id, 48)
    )
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() > max { format!("{}…", flat.chars().take(max).collect::<String>()) } else { flat }
}

/// The final report. `verbose` adds the recorded exchanges of failures.
pub fn render(report: &Report, verbose: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nidconform {} — {} ({})", report.version, report.target, report.url);
    let _ = writeln!(out, "profile: {}\n", report.profile.as_str());
    for (section, results) in report.sections() {
        let _ = writeln!(out, "{section}");
        for r in results {
            let _ = writeln!(out, "  {:<4} {:<6} {}  {}", r.status.label(), r.level.as_str(), r.id, r.title);
            match r.status {
                Status::Fail | Status::Warn => {
                    let _ = writeln!(out, "         {} §{}: \"{}\"", r.spec.rfc, r.spec.section, r.spec.text);
                    let _ = writeln!(out, "         expected: {}", r.expected.as_deref().unwrap_or(""));
                    let _ = writeln!(out, "         actual:   {}", r.actual.as_deref().unwrap_or(""));
                    if verbose {
                        for e in &r.exchanges {
                            let status = e.status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
                            let _ = writeln!(out, "           {} {} → {status}", e.method, e.url);
                        }
                    }
                }
                Status::Skip => {
                    let _ = writeln!(out, "         skipped: {}", r.message);
                }
                Status::Pass => {}
            }
            if let Some(d) = &r.deviation {
                if d.still_fails {
                    let _ = writeln!(out, "         declared deviation: {}", d.reason);
                } else {
                    let _ = writeln!(out, "         declared deviation no longer fails — remove it: {}", d.reason);
                }
            }
        }
        out.push('\n');
    }
    let s = &report.summary;
    out.push_str("summary\n");
    for (level, c) in &s.by_level {
        let _ = writeln!(
            out,
            "  {level:<6}  {} passed, {} failed, {} warned, {} skipped",
            c.passed, c.failed, c.warned, c.skipped
        );
    }
    let _ = writeln!(
        out,
        "  total   {} passed, {} failed, {} warned, {} skipped ({} checks, {} ms)",
        s.passed, s.failed, s.warned, s.skipped, s.total, report.duration_ms
    );
    if s.deviations > 0 || s.stale_deviations > 0 {
        let _ = writeln!(
            out,
            "  deviations: {} declared and still failing, {} no longer failing",
            s.deviations, s.stale_deviations
        );
    }
    let _ =
        writeln!(out, "{}", if report.exit_code() == 0 { "result: all MUSTs pass" } else { "result: MUST failures" });
    out
}
