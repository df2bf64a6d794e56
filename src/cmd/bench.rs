//! `idconform bench`: load N users into a SCIM server and drive it with concurrent keep-alive connections, printing
//! requests per second and p50/p99 latency per scenario. The load generator is a bare hyper HTTP/1.1 client so that
//! it costs the machine as little as possible; it runs on its own runtime beside the server's.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Uri};
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::embedded;

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
    /// Database of the embedded server.
    #[arg(long, default_value = ":memory:")]
    db: String,
    /// Worker threads of the embedded server's runtime.
    #[arg(long, default_value_t = 2)]
    server_threads: usize,
    /// Threads of the load generator (it shares the machine with the server, so keep it small).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
}

struct Target {
    host: String,
    port: u16,
    path: String,
    host_header: HeaderValue,
    auth: HeaderValue,
}

impl Target {
    fn parse(url: &str, token: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("http://").context("bench drives plain http:// targets")?;
        let (hostport, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
        let (host, port) = hostport.rsplit_once(':').map_or((hostport, "80"), |(h, p)| (h, p));
        Ok(Target {
            host: host.to_owned(),
            port: port.parse().context("port")?,
            path: format!("/{}", path.trim_end_matches('/')),
            host_header: HeaderValue::from_str(hostport).context("host")?,
            auth: HeaderValue::from_str(&format!("Bearer {token}")).context("token")?,
        })
    }

    async fn connect(&self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port)).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(sender)
    }

    /// The URI of a path below the SCIM base URL.
    fn uri(&self, path: &str) -> anyhow::Result<Uri> {
        Ok(format!("{}{path}", self.path).parse()?)
    }

    /// A request; the URI and headers are prepared beforehand so the timed loop only assembles them.
    fn request(&self, method: Method, uri: Uri, body: Option<String>) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, self.host_header.clone())
            .header(header::AUTHORIZATION, self.auth.clone());
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, HeaderValue::from_static("application/scim+json"));
        }
        Ok(b.body(Full::new(body.map(Bytes::from).unwrap_or_default()))?)
    }
}

async fn send(s: &mut SendRequest<Full<Bytes>>, req: Request<Full<Bytes>>) -> anyhow::Result<(u16, Bytes)> {
    s.ready().await?;
    let resp = s.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, body))
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
                let (status, resp) =
                    send(&mut s, t.request(Method::POST, t.uri("/Bulk")?, Some(body.to_string()))?).await?;
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

struct Stats {
    requests: u64,
    errors: u64,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
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
    let pool: Arc<Vec<Uri>> = Arc::new(
        (0..4096)
            .map(|_| match name {
                "get" | "patch" => t.uri(&format!("/Users/{}", ids[rng.random_range(0..ids.len())])),
                "filter" => {
                    t.uri(&format!("/Users?filter=userName%20eq%20%22{prefix}{}%22", rng.random_range(0..users)))
                }
                "list" => t.uri(&format!(
                    "/Users?startIndex={}&count=100",
                    rng.random_range(0..users.saturating_sub(100).max(1)) + 1
                )),
                _ => t.uri("/Users"),
            })
            .collect::<anyhow::Result<_>>()?,
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
                let uri = pool[next].clone();
                let req = match name {
                    "post" => {
                        let n = counter.fetch_add(1, Ordering::Relaxed);
                        t.request(Method::POST, uri, Some(user_body(&format!("{prefix}new.{c}.{n}"))))?
                    }
                    "patch" => {
                        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{"op": "replace", "path": "displayName", "value": format!("d{}", rng.random::<u32>())}]});
                        t.request(Method::PATCH, uri, Some(body.to_string()))?
                    }
                    _ => t.request(Method::GET, uri, None)?,
                };
                let t0 = Instant::now();
                let (status, _) = send(&mut s, req).await?;
                lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                if !(200..300).contains(&status) {
                    errors += 1;
                }
            }
            Ok::<_, anyhow::Error>((lat, errors))
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await??;
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let q = |p: f64| {
        let idx = ((all.len() as f64) * p).floor() as usize;
        Duration::from_micros(u64::from(all.get(idx.min(all.len().saturating_sub(1))).copied().unwrap_or(0)))
    };
    Ok(Stats { requests: all.len() as u64, errors, elapsed, p50: q(0.50), p99: q(0.99) })
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
    let (url, token, _embedded) = match (&args.scim_url, &args.token) {
        (Some(u), Some(t)) => (u.clone(), t.clone(), None),
        _ => {
            let e = embedded::start(&args.db, false, args.server_threads)?;
            (e.scim_url.clone(), e.token.clone(), Some(e))
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
        let rps = s.requests as f64 / s.elapsed.as_secs_f64();
        println!("{name:<8} {rps:>12.0} {:>10?} {:>10?} {:>8}", s.p50, s.p99, s.errors);
        failed |= s.errors > 0;
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
