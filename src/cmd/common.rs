//! What the verbs that drive a target share: how the target is named on the command line, where reports go, the
//! live progress display, and the exit codes.

use std::io::Write as _;
use std::path::PathBuf;

use idconform_harness::oauth::OAuthTarget;
use idconform_harness::report::{Status, console};
use idconform_harness::runner::Progress;
use idconform_harness::saml::SamlTarget;
use idconform_harness::target::TargetError;
use idconform_harness::{Format, Report, Target};

use super::embedded;

/// Exit code: a MUST failed.
pub const EXIT_MUST_FAILED: u8 = 1;
/// Exit code: usage or configuration error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the target did not answer.
pub const EXIT_UNREACHABLE: u8 = 3;

/// Why a verb stopped before it could judge the target.
#[derive(Debug)]
pub enum Failure {
    /// Usage or configuration error (exit code 2).
    Usage(String),
    /// The target did not answer (exit code 3).
    Unreachable(String),
}

impl Failure {
    /// Prints the error and gives the exit code.
    pub fn exit(self) -> std::process::ExitCode {
        let (msg, code) = match self {
            Failure::Usage(m) => (m, EXIT_USAGE),
            Failure::Unreachable(m) => (m, EXIT_UNREACHABLE),
        };
        eprintln!("error: {msg}");
        std::process::ExitCode::from(code)
    }
}

/// The target options: a target file, a URL and token, or (neither) the embedded reference server.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// Target file (TOML: [scim] base URL and token, [oauth] issuer, clients and log-in, [saml] ACS, entity IDs and
    /// IdP key, deviations); see
    /// harness/examples/target.toml.
    #[arg(long, conflicts_with_all = ["scim_url", "token", "other_token"])]
    pub target: Option<PathBuf>,
    /// SCIM base URL of an external server, e.g. https://idp.example.com/scim/v2.
    #[arg(long, value_name = "URL")]
    pub scim_url: Option<String>,
    /// Bearer token for --scim-url.
    #[arg(long, env = "IDCONFORM_SCIM_TOKEN", hide_env_values = true, requires = "scim_url")]
    pub token: Option<String>,
    /// Bearer token of another tenant of the same service (check scim.auth.other-tenant; skipped without it).
    #[arg(long, env = "IDCONFORM_SCIM_OTHER_TOKEN", hide_env_values = true, requires = "scim_url")]
    pub other_token: Option<String>,
    /// Start the embedded reference server in --strict mode (only without --target / --scim-url): the IdP quirks
    /// are then refused with the RFC's errors.
    #[arg(long, conflicts_with_all = ["target", "scim_url"])]
    pub strict: bool,
}

/// The protocols of one system under test: its SCIM service, its OAuth authorization server and its SAML service
/// provider, each when known.
#[derive(Debug)]
pub struct Targets {
    /// The SCIM service.
    pub scim: Option<Target>,
    /// The OAuth authorization server.
    pub oauth: Option<OAuthTarget>,
    /// The SAML service provider.
    pub saml: Option<SamlTarget>,
}

impl TargetArgs {
    /// The SCIM target; with neither a file nor a URL, the embedded reference server is started (in `--strict` mode
    /// when asked) and lives as long as the process.
    pub fn resolve(&self) -> Result<Target, Failure> {
        self.resolve_all()?.scim.ok_or_else(|| Failure::Usage("the target file has no [scim] section".into()))
    }

    /// The OAuth target: the `[oauth]` section of the target file, or the embedded reference server.
    pub fn resolve_oauth(&self) -> Result<OAuthTarget, Failure> {
        if self.scim_url.is_some() {
            return Err(Failure::Usage(
                "an OAuth target is described by a target file (--target, with an [oauth] section)".into(),
            ));
        }
        self.resolve_all()?.oauth.ok_or_else(|| Failure::Usage("the target file has no [oauth] section".into()))
    }

    /// The SAML target: the `[saml]` section of the target file, or the embedded reference server.
    pub fn resolve_saml(&self) -> Result<SamlTarget, Failure> {
        if self.scim_url.is_some() {
            return Err(Failure::Usage(
                "a SAML target is described by a target file (--target, with a [saml] section)".into(),
            ));
        }
        self.resolve_all()?.saml.ok_or_else(|| Failure::Usage("the target file has no [saml] section".into()))
    }

    /// Every protocol the arguments describe: a target file's sections, a SCIM URL, or the whole embedded server.
    pub fn resolve_all(&self) -> Result<Targets, Failure> {
        let strict = self.strict;
        if let Some(path) = &self.target {
            let usage = |e: TargetError| Failure::Usage(e.to_string());
            let scim = match Target::load(path) {
                Ok(t) => Some(t),
                Err(TargetError::NoSection { .. }) => None,
                Err(e) => return Err(usage(e)),
            };
            let oauth = match OAuthTarget::load(path) {
                Ok(t) => Some(t),
                Err(TargetError::NoSection { .. }) => None,
                Err(e) => return Err(usage(e)),
            };
            let saml = match SamlTarget::load(path) {
                Ok(t) => Some(t),
                Err(TargetError::NoSection { .. }) => None,
                Err(e) => return Err(usage(e)),
            };
            if scim.is_none() && oauth.is_none() && saml.is_none() {
                return Err(Failure::Usage(format!("{} has no [scim], [oauth] or [saml] section", path.display())));
            }
            return Ok(Targets { scim, oauth, saml });
        }
        if let Some(url) = &self.scim_url {
            let mut t = Target::new(url, self.token.clone()).map_err(|e| Failure::Usage(e.to_string()))?;
            t.other_token = self.other_token.clone();
            return Ok(Targets { scim: Some(t), oauth: None, saml: None });
        }
        let server = embedded::start(":memory:", strict, 2)
            .map_err(|e| Failure::Unreachable(format!("cannot start the embedded server: {e:#}")))?;
        let mut t = Target::new(&server.scim_url, Some(server.token)).map_err(|e| Failure::Usage(e.to_string()))?;
        t.name = if strict { "embedded reference server (--strict)" } else { "embedded reference server" }.into();
        t.other_token = Some(server.other_token);
        let mut oauth = server.oauth;
        oauth.name.clone_from(&t.name);
        let mut saml = server.saml;
        saml.name.clone_from(&t.name);
        Ok(Targets { scim: Some(t), oauth: Some(oauth), saml: Some(saml) })
    }
}

/// The exit code of a verb's run: its own, or that of the failure that stopped it.
pub fn finish(result: Result<u8, Failure>) -> anyhow::Result<std::process::ExitCode> {
    Ok(match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(f) => f.exit(),
    })
}

/// Where reports go.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Report format (console, json, junit, markdown, html); pair each with an --out, in order. Repeatable.
    #[arg(long = "report", value_name = "FORMAT")]
    pub reports: Vec<Format>,
    /// File for the --report at the same position (`-` for stdout).
    #[arg(long = "out", value_name = "FILE")]
    pub outs: Vec<String>,
}

impl ReportArgs {
    /// Fails unless every --report has its --out.
    pub fn validate(&self) -> Result<(), Failure> {
        if self.reports.len() == self.outs.len() {
            return Ok(());
        }
        Err(Failure::Usage(format!(
            "each --report needs an --out (got {} --report and {} --out)",
            self.reports.len(),
            self.outs.len()
        )))
    }

    /// Whether a report goes to stdout (the live display then moves to stderr).
    pub fn stdout_taken(&self) -> bool {
        self.outs.iter().any(|o| o == "-")
    }

    /// Writes every requested report.
    pub fn write(&self, report: &Report) -> Result<(), Failure> {
        for (format, out) in self.reports.iter().zip(&self.outs) {
            let text = report.render(*format);
            if out == "-" {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(text.as_bytes());
            } else if let Err(e) = std::fs::write(out, text) {
                return Err(Failure::Usage(format!("cannot write report {out}: {e}")));
            } else {
                eprintln!("wrote {out}");
            }
        }
        Ok(())
    }
}

/// The live display of a run: a line per result in logs (and when stdout carries a report), or one bar redrawn
/// in place on a terminal with failures and warnings printed above it.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    to_stderr: bool,
    bar: bool,
}

impl Live {
    /// The display for these report options.
    pub fn new(reports: &ReportArgs) -> Self {
        let to_stderr = reports.stdout_taken();
        Live { to_stderr, bar: !to_stderr && std::io::IsTerminal::is_terminal(&std::io::stdout()) }
    }

    /// Whether a bar is redrawn in place.
    pub fn bar(&self) -> bool {
        self.bar
    }

    /// Prints a line.
    pub fn line(&self, line: &str) {
        if self.to_stderr {
            let _ = writeln!(std::io::stderr(), "{line}");
        } else {
            say(line);
        }
    }

    /// Redraws the bar (terminal only) with `text`, which starts with a carriage return.
    pub fn redraw(&self, text: &str, last: bool) {
        let mut out = std::io::stdout();
        let _ = write!(out, "{text}");
        if last {
            let _ = writeln!(out);
        }
        let _ = out.flush();
    }

    /// Shows one progress event of a check or replay run.
    pub fn progress(&self, p: Progress<'_>, what: &str) {
        match p {
            Progress::Started { total } => self.line(&format!("running {total} {what}")),
            Progress::Finished { result, done, total } if self.bar => {
                let mut out = std::io::stdout();
                if result.status != Status::Pass {
                    let _ = write!(out, "\r{:<90}\r", "");
                    let _ = writeln!(out, "{}", console::progress_line(result, done, total));
                }
                self.redraw(&console::progress_bar(result, done, total), done == total);
            }
            Progress::Finished { result, done, total } => self.line(&console::progress_line(result, done, total)),
        }
    }
}

/// Prints a line to stdout, ignoring a closed pipe (`idconform check --list | head` must not panic).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stdout(), "{line}");
}
