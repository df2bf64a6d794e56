//! `idconform bench`: load N users into a SCIM server and drive it with concurrent keep-alive connections, printing
//! requests per second and p50/p99 latency per scenario. The load generator shares the machine with the server, so it
//! works like wrk: requests are serialised once, written as bytes on keep-alive connections, and responses are
//! parsed only as far as status and length; it runs on a runtime of its own beside the server's. `--oauth` measures
//! the OAuth endpoints instead (`bench_oauth.rs`), `--saml` the SAML ACS (`bench_saml.rs`).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::{Buf, Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The scenarios, in the order they run.
const SCENARIOS: [&str; 5] = ["get", "filter", "list", "post", "patch"];

/// Options of `idconform bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Users to load before measuring.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Scenarios to run (get, filter, list, post, patch); all when omitted.
    #[arg(long = "only", value_delimiter = ',')]
    only: Vec<String>,
    /// SCIM base URL of an external server (otherwise the embedded reference server is started).
    #[arg(long, requires = "token")]
    scim_url: Option<String>,
    /// Bearer token for --scim-url.
    #[arg(long, env = "IDCONFORM_SCIM_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Database of the reference server started for the run (`idconform serve` in a child process).
    #[arg(long, default_value = ":memory:")]
    db: String,
    /// Threads of the load generator (it shares the machine with the server, so keep it small).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Benchmark the OAuth endpoints instead (metadata as the baseline, code exchange, refresh, userinfo) on the
    /// embedded reference server; --only picks among them.
    #[arg(long, conflicts_with_all = ["scim_url", "users", "saml"])]
    oauth: bool,
    /// Benchmark the SAML ACS instead (SP metadata as the baseline; valid sign-ins, forged signatures, DOCTYPE
    /// refusals) on the embedded reference server; --only picks among them.
    #[arg(long, conflicts_with_all = ["scim_url", "users"])]
    saml: bool,
    /// With --saml: signed Responses prepared for each of the acs and forged scenarios (each ends when they are
    /// spent; at most 4000, as the SP keeps at most 10000 sign-ins pending).
    #[arg(long, default_value_t = 2_000, requires = "saml", value_parser = clap::value_parser!(u32).range(1..=4000))]
    responses: u32,
    /// With --oauth: authorization codes prepared for the code-exchange scenario (it ends when they are spent).
    #[arg(long, default_value_t = 20_000, requires = "oauth")]
    codes: usize,
}

/// The reference server as users run it: `idconform serve` in a process of its own (this same executable), so the
/// figures describe the server, not a server sharing its process with the load generator.
struct ChildServer {
    child: std::process::Child,
    scim_url: String,
    token: String,
}

impl ChildServer {
    fn start(db: &str) -> anyhow::Result<Self> {
        use std::io::BufRead;
        let token = format!("bench-{}", rand::rng().random::<u64>());
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--db", db, "--log", "warn"])
            .env("IDCONFORM_DEMO_SCIM_TOKEN", &token)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting idconform serve")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut scim_url = None;
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line?;
            if let Some(u) = line.strip_prefix("SCIM base URL:") {
                scim_url = Some(u.trim().to_owned());
            }
            if line.starts_with("SCIM token:") {
                break;
            }
        }
        let scim_url = scim_url.context("idconform serve did not print its SCIM base URL")?;
        Ok(ChildServer { child, scim_url, token })
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Target {
    host: String,
    port: u16,
    path: String,
    /// `Host` and `Authorization` header lines, ready to be written.
    headers: String,
}

impl Target {
    fn parse(url: &str, token: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("http://").context("bench drives plain http:// targets")?;
        let (hostport, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        let (host, port) = hostport.rsplit_once(':').map_or((hostport, "80"), |(h, p)| (h, p));
        if token.contains(['\r', '\n']) || hostport.contains(['\r', '\n']) {
            bail!("the token and host must not contain line breaks");
        }
        Ok(Target {
            host: host.to_owned(),
            port: port.parse().context("port")?,
            path: format!("/{}", path.trim_end_matches('/')),
            headers: format!("Host: {hostport}\r\nAuthorization: Bearer {token}\r\n"),
        })
    }

    async fn connect(&self) -> anyhow::Result<Conn> {
        let stream = TcpStream::connect((self.host.as_str(), self.port)).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: BytesMut::with_capacity(64 * 1024) })
    }

    /// An HTTP/1.1 request for a path below the SCIM base URL, serialised.
    fn request(&self, method: &str, path: &str, body: Option<&str>) -> Bytes {
        let mut r = format!("{method} {}{path} HTTP/1.1\r\n{}", self.path, self.headers);
        match body {
            Some(b) => {
                r.push_str(&format!("Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n", b.len()));
                r.push_str(b);
            }
            None => r.push_str("\r\n"),
        }
        Bytes::from(r)
    }
}

/// One keep-alive connection.
struct Conn {
    stream: TcpStream,
    buf: BytesMut,
}

impl Conn {
    async fn fill(&mut self) -> anyhow::Result<()> {
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            bail!("the server closed the connection");
        }
        Ok(())
    }

    /// Sends one request and reads the whole response; returns its status and body.
    async fn roundtrip(&mut self, request: &[u8]) -> anyhow::Result<(u16, Bytes)> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).context("response head is not UTF-8")?;
        let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).context("malformed status line")?;
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        let length = header("content-length").map(|v| v.parse::<usize>()).transpose().context("Content-Length")?;
        let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        self.buf.advance(head_end);
        let body = if chunked {
            self.read_chunked().await?
        } else {
            let n = length.unwrap_or(0);
            while self.buf.len() < n {
                self.fill().await?;
            }
            self.buf.split_to(n).freeze()
        };
        Ok((status, body))
    }

    /// A chunked body (RFC 9112 §7.1), for servers that stream their responses.
    async fn read_chunked(&mut self) -> anyhow::Result<Bytes> {
        let mut body = BytesMut::new();
        loop {
            let line_end = loop {
                if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buf[..line_end]).context("chunk size")?;
            let size =
                usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).context("chunk size")?;
            self.buf.advance(line_end + 2);
            while self.buf.len() < size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.advance(size + 2);
            if size == 0 {
                return Ok(body.freeze());
            }
        }
    }
}

fn user_body(name: &str) -> String {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": "Bench", "familyName": name},
        "emails": [{"value": format!("{name}@bench.example"), "type": "work", "primary": true}],
        "active": true,
    })
    .to_string()
}

/// Loads `n` users with Bulk requests of up to 1000 operations, several in flight; returns their ids.
async fn load(t: &Arc<Target>, n: usize, prefix: &str) -> anyhow::Result<Vec<String>> {
    let chunk = 1000;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let t = t.clone();
        let next = next.clone();
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut s = t.connect().await?;
            let mut ids = Vec::new();
            loop {
                let start = usize::try_from(next.fetch_add(chunk as u64, Ordering::Relaxed)).unwrap_or(usize::MAX);
                if start >= n {
                    return Ok::<_, anyhow::Error>(ids);
                }
                let ops: Vec<serde_json::Value> = (start..(start + chunk).min(n))
                    .map(|i| {
                        let data: serde_json::Value =
                            serde_json::from_str(&user_body(&format!("{prefix}{i}"))).unwrap_or_default();
                        json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"), "data": data})
                    })
                    .collect();
                let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops});
                let (status, resp) = s.roundtrip(&t.request("POST", "/Bulk", Some(&body.to_string()))).await?;
                if status != 200 {
                    bail!("bulk load failed with {status}: {}", String::from_utf8_lossy(&resp));
                }
                let v: serde_json::Value = serde_json::from_slice(&resp)?;
                for op in v["Operations"].as_array().into_iter().flatten() {
                    if op["status"] != "201" {
                        bail!("bulk load operation failed: {op}");
                    }
                    if let Some(loc) = op["location"].as_str() {
                        ids.push(loc.rsplit('/').next().unwrap_or_default().to_owned());
                    }
                }
            }
        }));
    }
    let mut ids = Vec::with_capacity(n);
    for t in tasks {
        ids.extend(t.await??);
    }
    Ok(ids)
}

/// One scenario's figures.
pub struct Stats {
    /// Requests answered.
    pub requests: u64,
    /// Answers that were not what the scenario needs.
    pub errors: u64,
    /// Wall time of the scenario.
    pub elapsed: Duration,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
}

impl Stats {
    /// The figures of `latencies` (microseconds, any order) over `elapsed`.
    pub fn of(mut latencies: Vec<u32>, errors: u64, elapsed: Duration) -> Self {
        latencies.sort_unstable();
        let q = |p: f64| {
            let idx = ((latencies.len() as f64) * p).floor() as usize;
            let v = latencies.get(idx.min(latencies.len().saturating_sub(1))).copied().unwrap_or(0);
            Duration::from_micros(u64::from(v))
        };
        Stats { requests: latencies.len() as u64, errors, elapsed, p50: q(0.50), p99: q(0.99) }
    }

    /// The figures of the workers' results (each its latencies and error count) over `elapsed`, or the first
    /// worker's failure.
    pub fn gather(
        parts: impl IntoIterator<Item = anyhow::Result<(Vec<u32>, u64)>>,
        elapsed: Duration,
    ) -> anyhow::Result<Self> {
        let (mut all, mut errors) = (Vec::new(), 0);
        for part in parts {
            let (l, e) = part?;
            all.extend(l);
            errors += e;
        }
        Ok(Stats::of(all, errors, elapsed))
    }

    /// Requests per second.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

async fn run_scenario(
    t: &Arc<Target>,
    name: &'static str,
    ids: &Arc<Vec<String>>,
    prefix: &str,
    users: usize,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Stats> {
    // Read scenarios cycle through a pool of prepared URIs (random users, names or pages), so the load generator
    // spends its time sending, not formatting.
    let mut rng = StdRng::from_os_rng();
    let pool: Arc<Vec<(String, Bytes)>> = Arc::new(
        (0..4096)
            .map(|_| {
                let path = match name {
                    "get" | "patch" => format!("/Users/{}", ids[rng.random_range(0..ids.len())]),
                    "filter" => format!("/Users?filter=userName%20eq%20%22{prefix}{}%22", rng.random_range(0..users)),
                    "list" => format!(
                        "/Users?startIndex={}&count=100",
                        rng.random_range(0..users.saturating_sub(100).max(1)) + 1
                    ),
                    _ => "/Users".to_owned(),
                };
                let get = t.request("GET", &path, None);
                (path, get)
            })
            .collect(),
    );
    let deadline = Instant::now() + duration;
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let t = t.clone();
        let pool = pool.clone();
        let counter = counter.clone();
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut s = t.connect().await?;
            let mut lat: Vec<u32> = Vec::with_capacity(1 << 16);
            let mut errors = 0u64;
            let mut rng = StdRng::from_os_rng();
            let mut next = rng.random_range(0..pool.len());
            while Instant::now() < deadline {
                next = (next + 1) % pool.len();
                let (path, get) = &pool[next];
                let req = match name {
                    "post" => {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        t.request("POST", path, Some(&user_body(&format!("{prefix}new.{c}.{n}"))))
                    }
                    "patch" => {
                        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{"op": "replace", "path": "displayName", "value": format!("d{}", rng.random::<u32>())}]});
                        t.request("PATCH", path, Some(&body.to_string()))
                    }
                    _ => get.clone(),
                };
                let t0 = Instant::now();
                let (status, _) = s.roundtrip(&req).await?;
                lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                if !(200..300).contains(&status) {
                    errors += 1;
                }
            }
            Ok::<_, anyhow::Error>((lat, errors))
        }));
    }
    let done = futures::future::join_all(tasks).await;
    Stats::gather(done.into_iter().map(|t| t.map_err(anyhow::Error::from).and_then(|r| r)), started.elapsed())
}

/// Runs the benchmark, with the load generator on a runtime of its own (`--client-threads`).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.client_threads.max(1))
            .thread_name("idconform-bench-client")
            .enable_all()
            .build()?;
        rt.block_on(drive(args))
    })
    .await?
}

async fn drive(args: Args) -> anyhow::Result<ExitCode> {
    if args.saml {
        let ok = super::bench_saml::drive(
            &args.only,
            args.connections.clamp(1, 256),
            Duration::from_secs(args.duration),
            args.responses as usize,
        )
        .await?;
        return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    if args.oauth {
        let ok = super::bench_oauth::drive(
            &args.only,
            args.connections.clamp(1, 256),
            Duration::from_secs(args.duration),
            args.codes,
        )
        .await?;
        return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) });
    }
    let (url, token, _server) = match (&args.scim_url, &args.token) {
        (Some(u), Some(t)) => (u.clone(), t.clone(), None),
        _ => {
            let s = ChildServer::start(&args.db)?;
            (s.scim_url.clone(), s.token.clone(), Some(s))
        }
    };
    let t = Arc::new(Target::parse(&url, &token)?);
    let prefix = format!("bench.{}.", rand::rng().random::<u32>());
    eprintln!("loading {} users into {url} …", args.users);
    let t0 = Instant::now();
    let ids = Arc::new(load(&t, args.users.max(1), &prefix).await?);
    let load_secs = t0.elapsed().as_secs_f64();
    println!(
        "loaded {} users in {load_secs:.1}s ({:.0} users/s through /Bulk)",
        ids.len(),
        ids.len() as f64 / load_secs
    );
    println!("{} connections, {}s per scenario", args.connections, args.duration);
    println!("{:<8} {:>12} {:>10} {:>10} {:>8}", "scenario", "req/s", "p50", "p99", "errors");
    let mut failed = false;
    for name in SCENARIOS {
        if !args.only.is_empty() && !args.only.iter().any(|o| o == name) {
            continue;
        }
        let s = run_scenario(
            &t,
            name,
            &ids,
            &prefix,
            args.users.max(1),
            args.connections.max(1),
            Duration::from_secs(args.duration),
        )
        .await?;
        let rps = s.rps();
        println!("{name:<8} {rps:>12.0} {:>10?} {:>10?} {:>8}", s.p50, s.p99, s.errors);
        failed |= s.errors > 0;
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
