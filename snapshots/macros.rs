// The project's one snapshot macro, included by every crate's test binary
// (`include!(concat!(env!("CARGO_MANIFEST_DIR"), "/<path to>/snapshots/macros.rs"))`), so every snapshot lands in
// this folder with the same redactions: the test server's random origin becomes `http://idconform.test`, and
// values that change between runs become placeholders — ids, timestamps, versions, durations and secrets.

/// Asserts a snapshot in the workspace's `snapshots/` folder.
///
/// - `project_snapshot!(json: name, value, origin)`: a JSON value; `meta` timestamps and versions are redacted.
/// - `project_snapshot!(text: name, text)`: rendered text (reports); ids, timestamps, durations, tokens and local
///   origins are replaced by filters.
#[allow(unused_macros)]
macro_rules! project_snapshot {
    // The workspace's `snapshots/` folder: the first ancestor of the crate that has one.
    (@dir) => {{
        let mut dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        while !dir.join("snapshots").join("README.md").exists() && dir.pop() {}
        dir.join("snapshots")
    }};
    (json: $name:expr, $value:expr, $origin:expr) => {{
        let text = serde_json::to_string(&$value).expect("json").replace($origin.as_str(), "http://idconform.test");
        let value: serde_json::Value = serde_json::from_str(&text).expect("json");
        insta::with_settings!({
            snapshot_path => project_snapshot!(@dir),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_json_snapshot!($name, value, {
                ".meta.created" => "[timestamp]",
                ".meta.lastModified" => "[timestamp]",
                ".meta.version" => "[version]",
            });
        });
    }};
    (text: $name:expr, $text:expr) => {{
        insta::with_settings!({
            snapshot_path => project_snapshot!(@dir),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            filters => vec![
                (r"http://127\.0\.0\.1:\d+", "http://idconform.test"),
                (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[id]"),
                (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z", "[timestamp]"),
                (r"idc_scim_[A-Za-z0-9_-]+", "[token]"),
                (r#""duration_ms": ?\d+"#, r#""duration_ms": "[ms]""#),
                (r#"time="[0-9.]+""#, r#"time="[s]""#),
                (r"\b\d+ ms\b", "[ms]"),
            ],
        }, {
            insta::assert_snapshot!($name, $text);
        });
    }};
}
