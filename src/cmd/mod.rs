//! One module per verb; each owns its `Args` and `run`.

pub mod admin;
pub mod bench;
pub mod bench_oauth;
pub mod bench_saml;
pub mod check;
pub mod common;
pub mod embedded;
pub mod features;
pub mod fuzz;
pub mod idp;
pub mod oauth;
pub mod replay;
pub mod serve;

/// How log lines are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the tracing subscriber; logs go to stderr so stdout stays for results.
pub fn init_logging(filter: &str, format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: log files and CI logs get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
