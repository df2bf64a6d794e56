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
