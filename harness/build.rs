//! Compiles the scenario files of `scenarios/` and the feature files of `features/` into the harness, so
//! `idconform replay` and `idconform features` need no checkout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Every file under `dir` whose name ends with `ext`, with its path relative to `dir`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()) == Some(ext) {
                let rel = p.strip_prefix(dir).map(|r| r.to_string_lossy().replace('\\', "/")).unwrap_or_default();
                let abs = std::fs::canonicalize(&p).unwrap_or(p);
                out.push((rel, abs));
            }
        }
    }
    out.sort();
    out
}

fn write(name: &str, text: &str) {
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join(name);
    if let Err(e) = std::fs::write(&dest, text) {
        panic!("cannot write {}: {e}", dest.display());
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let scenarios = root.join("scenarios");
    let features = root.join("features");
    println!("cargo:rerun-if-changed={}", scenarios.display());
    println!("cargo:rerun-if-changed={}", features.display());

    let mut out = String::from(
        "/// `(folder, name, text)` of every scenario file in `scenarios/`, sorted.\nstatic BUILTIN: &[(&str, &str, &str)] = &[\n",
    );
    for (rel, abs) in files(&scenarios, "toml") {
        // Scenarios sit one folder deep: `<folder>/<name>.toml`.
        let Some((folder, file)) = rel.split_once('/') else { continue };
        if file.contains('/') {
            continue;
        }
        let name = file.trim_end_matches(".toml");
        let _ = writeln!(out, "    ({folder:?}, {name:?}, include_str!({:?})),", abs.display().to_string());
    }
    out.push_str("];\n");
    write("builtin_scenarios.rs", &out);

    let mut out = String::from(
        "/// `(relative path, text)` of every feature file in `features/`, sorted.\nstatic BUILTIN_FEATURES: &[(&str, &str)] = &[\n",
    );
    for (rel, abs) in files(&features, "feature") {
        let _ = writeln!(out, "    ({rel:?}, include_str!({:?})),", abs.display().to_string());
    }
    out.push_str("];\n");
    write("builtin_features.rs", &out);
}
