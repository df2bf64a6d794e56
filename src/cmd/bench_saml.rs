//! `idconform bench --saml`: throughput and latency of the reference SP's Assertion Consumer Service against a
//! baseline measured in the same run with the same client: the SP metadata document, the cheapest SAML request the
//! server answers. Scenarios: `acs` — valid signed Responses, each answering a request of its own, verified and
//! turned into a dashboard session; `forged` — Responses signed by a stranger's key for pending requests, which the
//! SP verifies and refuses (what an attacker's flood costs); `doctype` — the cheapest refusal (SAML messages carry
//! no DTD). The Responses are signed before the clock starts, so the figures are the SP's, not the mock IdP's.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use idconform_harness::saml::{IdpKey, SCtx, attacks, post_form};
use parking_lot::Mutex;

use super::bench::Stats;

/// The scenarios, in the order they run; the first is the baseline.
pub const SCENARIOS: [&str; 4] = ["metadata", "acs", "forged", "doctype"];

/// What a scenario posts, and the status it expects.
struct Prepared {
    forms: Forms,
    expect: u16,
}

/// The bodies a scenario posts.
enum Forms {
    /// Each posted once (every Response answers a request of its own).
    Once(Mutex<Vec<String>>),
    /// One body posted `left` more times (a refusal that consumes nothing).
    Repeated { form: String, left: AtomicUsize },
}

impl Forms {
    /// The next body to post, if any is left.
    fn next(&self) -> Option<String> {
        match self {
            Forms::Once(forms) => forms.lock().pop(),
            Forms::Repeated { form, left } => {
                left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).ok().map(|_| form.clone())
            }
        }
    }
}

/// Signs `n` Responses for fresh sign-ins (one AuthnRequest each): valid ones, or (`forged`) signed by `stranger`.
async fn prepare(ctx: &SCtx, n: usize, stranger: Option<&IdpKey>) -> anyhow::Result<Vec<String>> {
    let mut forms = Vec::with_capacity(n);
    for _ in 0..n {
        let spec = ctx.fresh().await.map_err(|o| anyhow::anyhow!("starting a sign-in: {o:?}"))?;
        let xml = spec.sign(stranger.unwrap_or(&ctx.t().key)).context("signing a Response")?;
        forms.push(post_form(&xml, Some("/")));
        // The context records every exchange; nothing here needs them.
        drop(ctx.log().take());
    }
    Ok(forms)
}

/// Runs one scenario for `duration` (or until its prepared Responses run out) on `connections` workers.
async fn scenario(
    http: &reqwest::Client,
    name: &str,
    metadata_url: &str,
    acs_url: &str,
    prepared: Option<Arc<Prepared>>,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<Stats> {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let workers = (0..connections).map(|_| {
        let prepared = prepared.clone();
        async move {
            let (mut lat, mut errors) = (Vec::<u32>::with_capacity(1 << 12), 0u64);
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let ok = match &prepared {
                    None => http.get(metadata_url).send().await?.status() == 200,
                    Some(p) => {
                        let Some(form) = p.forms.next() else { break };
                        let r = http
                            .post(acs_url)
                            .header("content-type", "application/x-www-form-urlencoded")
                            .body(form)
                            .send()
                            .await?;
                        let status = r.status().as_u16();
                        drop(r.bytes().await?);
                        status == p.expect
                    }
                };
                lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                errors += u64::from(!ok);
            }
            Ok::<_, anyhow::Error>((lat, errors))
        }
    });
    let done = futures::future::join_all(workers).await;
    let stats = Stats::gather(done, started.elapsed())?;
    if name != "metadata" && stats.requests == 0 {
        bail!("{name}: no Responses were prepared");
    }
    Ok(stats)
}

/// Runs the SAML benchmark against the embedded reference server; `responses` Responses are signed for each of
/// the `acs` and `forged` scenarios (each ends when they are spent).
pub async fn drive(only: &[String], connections: usize, duration: Duration, responses: usize) -> anyhow::Result<bool> {
    let server = super::embedded::start(":memory:", false, 2)?;
    let target = Arc::new(server.saml);
    let harness_http = idconform_harness::http::Client::new(&target.acs_url, None, Duration::from_secs(30))?;
    let ctx = SCtx::new(target.clone(), Arc::new(IdpKey::foreign()?), harness_http);
    let selected: Vec<&'static str> =
        SCENARIOS.into_iter().filter(|s| *s == "metadata" || only.is_empty() || only.iter().any(|o| o == s)).collect();
    let metadata_url = target.sp_entity_id.clone();
    let t0 = Instant::now();
    let mut sets = std::collections::HashMap::new();
    for name in &selected {
        let prepared = match *name {
            "acs" => Prepared { forms: Forms::Once(Mutex::new(prepare(&ctx, responses, None).await?)), expect: 303 },
            "forged" => {
                let forms = prepare(&ctx, responses, Some(ctx.foreign.as_ref())).await?;
                Prepared { forms: Forms::Once(Mutex::new(forms)), expect: 403 }
            }
            "doctype" => {
                let spec = ctx.fresh().await.map_err(|o| anyhow::anyhow!("starting a sign-in: {o:?}"))?;
                let xml = attacks::doctype(&spec.sign(&target.key)?, &attacks::Dtd::InternalEntity)?;
                // One message, posted over and over: it is refused before anything is consumed.
                let form = post_form(&xml, Some("/"));
                let left = AtomicUsize::new(responses.max(1) * 20);
                Prepared { forms: Forms::Repeated { form, left }, expect: 400 }
            }
            _ => continue,
        };
        sets.insert(*name, Arc::new(prepared));
    }
    let prep = t0.elapsed().as_secs_f64();
    let signed = responses * selected.iter().filter(|s| matches!(**s, "acs" | "forged")).count();
    println!("prepared {signed} signed Responses in {prep:.1}s (one AuthnRequest each)");
    println!(
        "{connections} connections, {}s per scenario (acs, forged, doctype: until their Responses are spent)",
        duration.as_secs()
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(connections)
        .build()?;
    println!("{:<9} {:>10} {:>10} {:>10} {:>8} {:>12}", "scenario", "req/s", "p50", "p99", "errors", "vs baseline");
    let mut baseline = None;
    let mut failed = false;
    for name in selected {
        let prepared = sets.get(name).cloned();
        let s = scenario(&http, name, &metadata_url, &target.acs_url, prepared, connections, duration).await?;
        let rps = s.rps();
        let base = *baseline.get_or_insert(rps);
        println!("{name:<9} {rps:>10.0} {:>10?} {:>10?} {:>8} {:>11.2}x", s.p50, s.p99, s.errors, rps / base.max(1e-9));
        failed |= s.errors > 0;
    }
    Ok(!failed)
}
