//! JUnit XML: one `<testsuite>` per section, one `<testcase>` per check. MUST failures are `<failure>`s; warnings
//! pass (they do not fail the run either) and say so in `<system-out>`; skips are `<skipped>`.

use std::fmt::Write as _;

use super::{Report, Status, escape};

/// Renders the report as JUnit XML.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let secs = |ms: u64| format!("{:.3}", ms as f64 / 1000.0);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"idconform {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{}\">",
        escape(&report.target),
        s.total,
        s.failed,
        s.skipped,
        secs(report.duration_ms)
    );
    for (section, results) in report.sections() {
        let failures = results.iter().filter(|r| r.status == Status::Fail).count();
        let skipped = results.iter().filter(|r| r.status == Status::Skip).count();
        let time: u64 = results.iter().map(|r| r.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">",
            escape(section),
            results.len(),
            failures,
            skipped,
            secs(time)
        );
        for r in results {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">",
                escape(&format!("idconform.{section}")),
                escape(&r.id),
                secs(r.duration_ms)
            );
            let spec = format!("{} §{} ({}): {}", r.spec.rfc, r.spec.section, r.level.as_str(), r.spec.text);
            match r.status {
                Status::Pass => {}
                Status::Fail => {
                    let _ = write!(
                        out,
                        "\n      <failure message=\"{}\" type=\"{}\">{}\n{}</failure>",
                        escape(&r.message),
                        r.level.as_str(),
                        escape(&r.title),
                        escape(&spec)
                    );
                }
                Status::Warn => {
                    let _ =
                        write!(out, "\n      <system-out>WARN: {}\n{}</system-out>", escape(&r.message), escape(&spec));
                }
                Status::Skip => {
                    let _ = write!(out, "\n      <skipped message=\"{}\"/>", escape(&r.message));
                }
            }
            if let Some(d) = &r.deviation {
                let _ = write!(
                    out,
                    "\n      <system-err>declared deviation{}: {}</system-err>",
                    if d.still_fails { "" } else { " (no longer fails: remove it)" },
                    escape(&d.reason)
                );
            }
            if r.status != Status::Pass || r.deviation.is_some() {
                out.push_str("\n    ");
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
