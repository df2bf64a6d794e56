//! `idconform bench --oauth`: throughput and latency of the reference server's token endpoint (authorization code
//! exchange, refresh with rotation) and userinfo, against a baseline measured in the same run with the same client:
//! the metadata document, the cheapest request the server answers. The ratio to the baseline is what to compare
//! across machines and runs; the absolute figures include the load generator, which shares the machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::StreamExt;
use idconform_harness::http::Recorder;
use idconform_harness::oauth::{ClientAuth, Login, OAuthClient, OAuthTarget, Tokens};
use parking_lot::Mutex;

use super::bench::Stats;

/// The scenarios, in the order they run; the first is the baseline.
pub const SCENARIOS: [&str; 4] = ["metadata", "code", "refresh", "userinfo"];

/// Logs the target's user in once through the JSON session API and returns a target that reuses the session, so
/// each code costs a consent round trip, not a password hash.
async fn with_session(target: &OAuthTarget) -> anyhow::Result<OAuthTarget> {
    let Login::Form { fields, approve } = &target.login else { bail!("the embedded target logs in with a form") };
    let field = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/session", target.issuer))
        .json(&serde_json::json!({"email": field("email"), "password": field("password")}))
        .send()
        .await?;
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("the session API set no cookie")?
        .to_owned();
    let mut t = target.clone();
    t.login = Login::Cookie { cookie, approve: approve.clone() };
    Ok(t)
}

/// Codes for the main client, `n` of them, `connections` at a time.
async fn codes(client: &OAuthClient, n: usize, connections: usize) -> anyhow::Result<Vec<(String, String)>> {
    let creds = client.target.client.clone();
    let results: Vec<anyhow::Result<(String, String)>> = futures::stream::iter(0..n)
        .map(|_| {
            let creds = creds.clone();
            async move {
                let req = client.request(&creds);
                let front = client.authorize(&req, &Recorder::discarding()).await?;
                let code = front.param("code").with_context(|| format!("no code: {}", front.describe()))?.to_owned();
                Ok((code, req.pkce.map(|p| p.verifier).unwrap_or_default()))
            }
        })
        .buffer_unordered(connections)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Runs one scenario for `duration` (or until its prepared codes run out) on `connections` concurrent workers; the
/// code scenario leaves `keep` codes in the pool, the starting tokens of the scenarios after it.
async fn scenario(
    client: &OAuthClient,
    name: &'static str,
    connections: usize,
    duration: Duration,
    pool: Arc<Mutex<Vec<(String, String)>>>,
    keep: usize,
) -> anyhow::Result<Stats> {
    let auth = ClientAuth::of(&client.target.client);
    let redirect = client.target.redirect_uri.clone();
    let metadata = client.target.metadata_location();
    // Each refresh worker starts from tokens of its own; the userinfo workers share one access token.
    let mut starts = Vec::new();
    for _ in 0..connections {
        let Some((code, verifier)) = pool.lock().pop() else { bail!("not enough codes prepared") };
        let r = client.exchange(&auth, &code, Some(&redirect), Some(&verifier), &Recorder::discarding()).await?;
        starts.push(Tokens::from_response(&r).with_context(|| format!("setup exchange: {}", r.summary()))?);
    }
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let workers = starts.into_iter().map(|start| {
        let (auth, redirect, metadata, pool) = (auth.clone(), redirect.clone(), metadata.clone(), pool.clone());
        async move {
            let log = Recorder::discarding();
            let (mut lat, mut errors) = (Vec::<u32>::with_capacity(1 << 14), 0u64);
            let mut refresh = start.refresh_token.clone().unwrap_or_default();
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let ok = match name {
                    "metadata" => client.get(&metadata, &log).await?.status == 200,
                    "code" => {
                        let next = {
                            let mut codes = pool.lock();
                            if codes.len() > keep { codes.pop() } else { None }
                        };
                        let Some((code, verifier)) = next else { break };
                        let r = client.exchange(&auth, &code, Some(&redirect), Some(&verifier), &log).await?;
                        r.status == 200
                    }
                    "refresh" => {
                        let r = client.refresh(&auth, &refresh, None, &log).await?;
                        match Tokens::from_response(&r).and_then(|t| t.refresh_token) {
                            Some(next) => {
                                refresh = next;
                                true
                            }
                            None => false,
                        }
                    }
                    _ => client.userinfo(Some(&start.access_token), &log).await?.status == 200,
                };
                lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                errors += u64::from(!ok);
            }
            Ok::<_, anyhow::Error>((lat, errors))
        }
    });
    let done = futures::future::join_all(workers).await;
    Stats::gather(done, started.elapsed())
}

/// Runs the OAuth benchmark against the embedded reference server.
pub async fn drive(
    only: &[String],
    connections: usize,
    duration: Duration,
    codes_per_run: usize,
) -> anyhow::Result<bool> {
    let server = super::embedded::start(":memory:", false, 2)?;
    let target = with_session(&server.oauth).await?;
    let client = OAuthClient::connect(target, Duration::from_secs(30)).await?;
    let selected: Vec<&'static str> =
        SCENARIOS.into_iter().filter(|s| *s == "metadata" || only.is_empty() || only.iter().any(|o| o == s)).collect();
    // Every scenario needs `connections` codes to start from; the code scenario consumes its pool.
    let wanted = connections * selected.len() + if selected.contains(&"code") { codes_per_run } else { 0 };
    eprintln!("preparing {wanted} authorization codes through the consent form …");
    let t0 = Instant::now();
    let pool = Arc::new(Mutex::new(codes(&client, wanted, connections).await?));
    let prep = t0.elapsed().as_secs_f64();
    println!("prepared {wanted} codes in {prep:.1}s ({:.0} consents/s, GET + POST each)", wanted as f64 / prep);
    println!(
        "{connections} connections, {}s per scenario (code: until {codes_per_run} codes are spent)",
        duration.as_secs()
    );
    println!("{:<9} {:>10} {:>10} {:>10} {:>8} {:>12}", "scenario", "req/s", "p50", "p99", "errors", "vs baseline");
    let mut baseline = None;
    let mut failed = false;
    for (i, name) in selected.iter().copied().enumerate() {
        let keep = connections * (selected.len() - i - 1);
        let s = scenario(&client, name, connections, duration, pool.clone(), keep).await?;
        let rps = s.rps();
        let base = *baseline.get_or_insert(rps);
        println!("{name:<9} {rps:>10.0} {:>10?} {:>10?} {:>8} {:>11.2}x", s.p50, s.p99, s.errors, rps / base.max(1e-9));
        failed |= s.errors > 0;
    }
    Ok(!failed)
}
