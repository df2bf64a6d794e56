//! A self-contained HTML report: inline CSS, no scripts, no external assets; every piece of text from the target
//! or the checks is escaped. Exchanges of non-passing checks are shown in collapsible blocks.

use std::fmt::Write as _;

use super::{Report, Status, escape};

const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:72rem}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #d0d7de}\
table{border-collapse:collapse}td,th{padding:.25rem .6rem;border:1px solid #d0d7de;text-align:left}\
.pass{color:#1a7f37}.fail{color:#cf222e}.warn{color:#9a6700}.skip{color:#57606a}\
.st{font-weight:700;font-family:monospace}.id{font-family:monospace}\
.detail{margin:.2rem 0 .8rem 1.5rem}blockquote{margin:.2rem 0;padding-left:.6rem;border-left:3px solid #d0d7de;color:#57606a}\
pre{background:#f6f8fa;padding:.5rem;overflow:auto;white-space:pre-wrap;word-break:break-all}";

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>idconform — {}</title><style>{CSS}</style></head><body>\n",
        escape(&report.target)
    );
    let verdict = if report.exit_code() == 0 {
        "<span class=\"pass\">all MUSTs pass</span>"
    } else {
        "<span class=\"fail\">MUST failures</span>"
    };
    let _ = writeln!(
        out,
        "<h1>idconform {} — {}: {verdict}</h1>\n<p>{} · profile <b>{}</b> · started {} · {} ms</p>",
        escape(report.version),
        escape(&report.target),
        escape(&report.url),
        escape(report.profile.as_str()),
        escape(&report.started_at),
        report.duration_ms
    );
    out.push_str("<table><tr><th>Level</th><th>Passed</th><th>Failed</th><th>Warned</th><th>Skipped</th></tr>\n");
    for (level, c) in &s.by_level {
        let _ = writeln!(
            out,
            "<tr><td>{level}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.passed, c.failed, c.warned, c.skipped
        );
    }
    let _ = writeln!(
        out,
        "<tr><th>All</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></table>",
        s.passed, s.failed, s.warned, s.skipped
    );
    for (section, results) in report.sections() {
        let _ = writeln!(out, "<h2>{}</h2>", escape(section));
        for r in results {
            let class = match r.status {
                Status::Pass => "pass",
                Status::Fail => "fail",
                Status::Warn => "warn",
                Status::Skip => "skip",
            };
            let _ = writeln!(
                out,
                "<div><span class=\"st {class}\">{}</span> <span class=\"id\">{}</span> [{}] {}</div>",
                r.status.label(),
                escape(&r.id),
                r.level.as_str(),
                escape(&r.title)
            );
            if r.status == Status::Pass && r.deviation.is_none() {
                continue;
            }
            out.push_str("<div class=\"detail\">");
            let _ = write!(
                out,
                "<blockquote>{} §{}: “{}”</blockquote>",
                escape(&r.spec.rfc),
                escape(&r.spec.section),
                escape(&r.spec.text)
            );
            match r.status {
                Status::Fail | Status::Warn => {
                    let _ = write!(
                        out,
                        "<div><b>expected</b> {}</div><div><b>actual</b> {}</div>",
                        escape(r.expected.as_deref().unwrap_or("")),
                        escape(r.actual.as_deref().unwrap_or(""))
                    );
                }
                Status::Skip => {
                    let _ = write!(out, "<div>skipped: {}</div>", escape(&r.message));
                }
                Status::Pass => {}
            }
            if let Some(d) = &r.deviation {
                let note = if d.still_fails {
                    "declared deviation"
                } else {
                    "declared deviation no longer fails — remove it"
                };
                let _ = write!(out, "<div><b>{note}</b>: {}</div>", escape(&d.reason));
            }
            for e in &r.exchanges {
                let status = e.status.map_or_else(|| "no response".to_owned(), |s| s.to_string());
                let mut text = String::new();
                let _ = writeln!(text, "{} {}", e.method, e.url);
                for (k, v) in &e.request_headers {
                    let _ = writeln!(text, "{k}: {v}");
                }
                if let Some(b) = &e.request_body {
                    let _ = writeln!(text, "\n{b}");
                }
                let _ = writeln!(text, "\n→ {status}");
                for (k, v) in &e.response_headers {
                    let _ = writeln!(text, "{k}: {v}");
                }
                if let Some(b) = &e.response_body {
                    let _ = writeln!(text, "\n{b}");
                }
                if let Some(err) = &e.error {
                    let _ = writeln!(text, "error: {err}");
                }
                let _ = write!(
                    out,
                    "<details><summary>{} {} → {}</summary><pre>{}</pre></details>",
                    escape(&e.method),
                    escape(&e.url),
                    escape(&status),
                    escape(&text)
                );
            }
            out.push_str("</div>\n");
        }
    }
    out.push_str("</body></html>\n");
    out
}
