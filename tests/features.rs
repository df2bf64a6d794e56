//! Every scenario of `features/` against the embedded reference server, as `cargo test` runs it (a test binary with
//! `harness = false`: cucumber is the runner). Exits non-zero when a MUST scenario fails, printing the report.

use std::process::ExitCode;
use std::sync::Arc;

use idconform_harness::Target;
use idconform_harness::features::{self, FeatureOptions};
use idconform_harness::report::console;
use idconform_server::ServerConfig;
use idconform_server::clock::SystemClock;

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async {
        let state = match idconform_server::build_state(ServerConfig::default(), ":memory:", Arc::new(SystemClock)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot build the server: {e}");
                return ExitCode::FAILURE;
            }
        };
        let (Ok((_, token)), Ok(listener)) = (
            state.scim.create_directory("features", "features").await,
            tokio::net::TcpListener::bind("127.0.0.1:0").await,
        ) else {
            eprintln!("cannot start the server");
            return ExitCode::FAILURE;
        };
        let Ok(addr) = listener.local_addr() else { return ExitCode::FAILURE };
        tokio::spawn(async move {
            let _ = idconform_server::serve(listener, state, std::future::pending()).await;
        });
        let Ok(target) = Target::new(&format!("http://{addr}/scim/v2"), Some(token)) else { return ExitCode::FAILURE };
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("features");
        let report = match features::run(&target, &[dir], &FeatureOptions::default(), &|_| {}).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        println!("{}", console::render(&report, false));
        let s = &report.summary;
        // The plain closing line CI readers count.
        println!("features: {} passed, {} failed", s.passed, s.failed + s.warned);
        if report.results.is_empty() || report.exit_code() != 0 || s.warned > 0 || s.skipped > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    })
}
