//! Running the compiled `idconform` binary as a script would, for the tests of every verb.

/// Runs `idconform` with `args` (without a token from the environment, logging only warnings) and returns its exit
/// code and everything it printed, stdout then stderr.
pub fn idconform(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(args)
        .env_remove("IDCONFORM_SCIM_TOKEN")
        .env("IDCONFORM_LOG", "warn")
        .output()
        .expect("the binary runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// The JSON report a run printed on stdout (`--report json --out -`), which comes before the progress lines of
/// stderr in `idconform`'s combined output.
pub fn json_report(out: &str) -> serde_json::Value {
    let start = out.find('{').expect("a JSON report");
    serde_json::Deserializer::from_str(&out[start..])
        .into_iter::<serde_json::Value>()
        .next()
        .expect("a JSON value")
        .expect("valid JSON")
}

/// A child process killed when dropped, so a failing test leaves no server behind.
pub struct Running(pub std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example seed file, `examples/idconform.toml`.
pub const EXAMPLE_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/idconform.toml");

/// The passwords and token the example seed file reads from the environment.
pub const EXAMPLE_ENV: [(&str, &str); 4] = [
    ("ACME_OWNER_PASSWORD", "owner-pw"),
    ("ACME_ADMIN_PASSWORD", "admin-pw"),
    ("ACME_OKTA_SCIM_TOKEN", "okta-token-from-env"),
    ("TINYCO_OWNER_PASSWORD", "tiny-pw"),
];

/// A fresh database file path for test `name`.
pub fn scratch_db(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("idconform-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let db = dir.join(format!("{name}.db"));
    let _ = std::fs::remove_file(&db);
    db.to_str().expect("utf-8 path").to_owned()
}

/// `idconform ARGS` in the background with `envs`, its stdout read line by line (stderr dropped).
pub fn spawn_reading(
    args: &[&str],
    envs: &[(&str, &str)],
) -> (Running, std::io::Lines<std::io::BufReader<std::process::ChildStdout>>) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(args)
        .envs(envs.iter().copied())
        .env("IDCONFORM_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn idconform");
    let stdout = child.stdout.take().expect("stdout");
    (Running(child), std::io::BufReader::new(stdout).lines())
}

/// `idconform serve --demo --config examples/idconform.toml` on a free port with `db`; returns the process and the
/// server's origin once the configuration is applied.
pub fn serve_example(db: &str) -> (Running, String) {
    let args = ["serve", "--demo", "--listen", "127.0.0.1:0", "--db", db, "--config", EXAMPLE_CONFIG];
    let (running, lines) = spawn_reading(&args, &EXAMPLE_ENV);
    let mut base = None;
    for line in lines {
        let line = line.expect("line");
        if let Some(u) = line.strip_prefix("SCIM base URL: ") {
            base = Some(u.trim().trim_end_matches("/scim/v2").to_owned());
        }
        if line.starts_with("configuration applied") {
            break;
        }
    }
    (running, base.expect("the demo prints its base URL"))
}

/// An admin JWT from `idconform admin-token` for a member of the example file's `acme` workspace.
pub fn admin_token(db: &str, email: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_idconform"))
        .args(["admin-token", "--db", db, "--workspace", "acme", "--email", email])
        .env("IDCONFORM_LOG", "warn")
        .output()
        .expect("admin-token");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}
