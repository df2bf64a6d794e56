//! Compiles the scenario files of `scenarios/` into the harness, so `idconform replay` needs no checkout.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("scenarios");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files: Vec<(String, String, String)> = Vec::new();
    if let Ok(folders) = std::fs::read_dir(&root) {
        for folder in folders.flatten() {
            let fpath = folder.path();
            if !fpath.is_dir() {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&fpath) else { continue };
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().and_then(|x| x.to_str()) != Some("toml") {
                    continue;
                }
                let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let abs = std::fs::canonicalize(&p).unwrap_or(p);
                files.push((folder.file_name().to_string_lossy().into_owned(), name, abs.display().to_string()));
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// `(folder, name, text)` of every scenario file in `scenarios/`, sorted.\nstatic BUILTIN: &[(&str, &str, &str)] = &[\n",
    );
    for (folder, name, path) in &files {
        let _ = writeln!(out, "    ({folder:?}, {name:?}, include_str!({path:?})),");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("builtin_scenarios.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}
