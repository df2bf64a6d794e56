//! Every scenario of `features/` against the embedded reference server (SCIM service, OAuth authorization server and
//! SAML service provider), as `cargo test` runs it: a test binary with `harness = false` that runs `idconform
//! features` exactly as a user would, prints its report, and exits non-zero when a scenario fails or is skipped.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
    let report = std::env::temp_dir().join(format!("idconform-features-{}.json", std::process::id()));
    let out = match Command::new(env!("CARGO_BIN_EXE_idconform"))
        .arg("features")
        .arg(&dir)
        .args(["--report", "json", "--out"])
        .arg(&report)
        .env("IDCONFORM_LOG", "warn")
        .env_remove("IDCONFORM_SCIM_TOKEN")
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cannot run idconform: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    let parsed: Option<serde_json::Value> =
        std::fs::read_to_string(&report).ok().and_then(|t| serde_json::from_str(&t).ok());
    let _ = std::fs::remove_file(&report);
    let Some(json) = parsed else {
        eprintln!("idconform features wrote no JSON report");
        return ExitCode::FAILURE;
    };
    let n = |k: &str| json["summary"][k].as_u64().unwrap_or(0);
    // The plain closing line CI readers count.
    println!("features: {} passed, {} failed", n("passed"), n("failed") + n("warned"));
    let ran = |prefix: &str| {
        json["results"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["id"].as_str().is_some_and(|i| i.starts_with(prefix))))
    };
    let (oauth, saml) = (ran("feature.authorization."), ran("feature.signatures."));
    if !out.status.success() || n("total") == 0 || n("warned") > 0 || n("skipped") > 0 || !oauth || !saml {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
