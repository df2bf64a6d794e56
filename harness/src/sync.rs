//! Initial-sync load: the first provisioning cycle of Okta or Entra against a SCIM server, with that IdP's request
//! mix (lookup before create, create, group create, member batches) at a given concurrency, honouring 429 with
//! `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3) and backing off, then verifying that the target holds exactly the
//! users and memberships sent.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use parking_lot::Mutex;
use reqwest::Method;
use serde_json::Value;

use crate::http::{Client, Recorder, Request, Response, encode};
use crate::idp::{MockClient, NewUser, expect_created};
use crate::runner::RunError;
use crate::target::Target;

/// How to run the initial sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Users to provision.
    pub users: usize,
    /// Groups to provision; user `i` is a member of group `i % groups`.
    pub groups: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Members added per group PATCH.
    pub member_batch: usize,
    /// Retries of one request after 429 or 503 before it counts as an error.
    pub max_retries: u32,
    /// Longest wait honoured from one `Retry-After`.
    pub max_backoff: Duration,
    /// Timeout of each HTTP request.
    pub timeout: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            users: 10_000,
            groups: 100,
            concurrency: 8,
            member_batch: 50,
            max_retries: 8,
            max_backoff: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Progress of a sync, reported after every finished request.
#[derive(Debug, Clone, Copy)]
pub struct SyncProgress {
    /// The phase: `users`, `groups` or `verify`.
    pub phase: &'static str,
    /// Units of the phase done (users created, groups done, pages read).
    pub done: usize,
    /// Units in the phase.
    pub total: usize,
    /// Requests sent so far.
    pub requests: u64,
    /// Seconds since the start.
    pub elapsed: f64,
}

/// The outcome of a sync.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The IdP imitated.
    pub idp: String,
    /// Requests sent during provisioning (verification excluded), retries included.
    pub requests: u64,
    /// Wall time of provisioning.
    pub duration: Duration,
    /// Median latency of one request.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
    /// Retries after 429 / 503.
    pub retries: u64,
    /// Users and groups created.
    pub users_created: usize,
    /// Groups created.
    pub groups_created: usize,
    /// Errors by cause (`POST /Users → 409`), with counts.
    pub errors: BTreeMap<String, usize>,
    /// Differences between what was sent and what the target holds; empty when it holds exactly that.
    pub mismatches: Vec<String>,
}

impl SyncReport {
    /// Requests per second during provisioning.
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.duration.as_secs_f64().max(1e-9)
    }

    /// Whether provisioning had no error and the target holds exactly what was sent.
    pub fn ok(&self) -> bool {
        self.errors.is_empty() && self.mismatches.is_empty()
    }

    /// The summary printed at the end of a run.
    pub fn render(&self) -> String {
        let mut out = format!(
            "initial sync ({}): {} users, {} groups in {:.2} s\n  {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {} retries after 429/503\n",
            self.idp,
            self.users_created,
            self.groups_created,
            self.duration.as_secs_f64(),
            self.requests,
            self.throughput(),
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.retries,
        );
        if self.errors.is_empty() {
            out.push_str("  errors: none\n");
        } else {
            out.push_str("  errors by cause:\n");
            for (cause, n) in &self.errors {
                out.push_str(&format!("    {n:>6} × {cause}\n"));
            }
        }
        if self.mismatches.is_empty() {
            out.push_str("  verified: the target holds exactly the users and memberships sent\n");
        } else {
            out.push_str(&format!("  verification FAILED ({} differences):\n", self.mismatches.len()));
            for m in self.mismatches.iter().take(20) {
                out.push_str(&format!("    {m}\n"));
            }
            if self.mismatches.len() > 20 {
                out.push_str(&format!("    … and {} more\n", self.mismatches.len() - 20));
            }
        }
        out
    }
}

struct Load<'a> {
    client: &'a Client,
    opts: &'a SyncOptions,
    requests: AtomicU64,
    retries: AtomicU64,
    latencies: Mutex<Vec<u32>>,
    errors: Mutex<BTreeMap<String, usize>>,
    started: Instant,
}

impl Load<'_> {
    /// Sends a request, retrying after 429 and 503 as the IdPs do: wait `Retry-After` seconds when given (capped),
    /// else back off exponentially from 1 s.
    async fn send(&self, req: &Request) -> Option<Response> {
        let log = Recorder::discarding();
        let mut attempt = 0;
        loop {
            let t = Instant::now();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = self.client.send(req.clone(), &log).await;
            self.latencies.lock().push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
            match result {
                Ok(r) if (r.status == 429 || r.status == 503) && attempt < self.opts.max_retries => {
                    attempt += 1;
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(&r, attempt)).await;
                }
                Ok(r) => return Some(r),
                Err(e) => {
                    self.error(format!("{} {}: no response ({})", req.method, shape(&req.path), e.message));
                    return None;
                }
            }
        }
    }

    fn backoff(&self, r: &Response, attempt: u32) -> Duration {
        // RFC 9110 §10.2.3: delay-seconds or an HTTP-date.
        let given = r.header("retry-after").and_then(|v| {
            let v = v.trim();
            v.parse::<u64>().ok().map(Duration::from_secs).or_else(|| {
                chrono::DateTime::parse_from_rfc2822(v)
                    .ok()
                    .map(|d| (d.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default())
            })
        });
        given
            .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(6)).min(self.opts.max_backoff))
            .min(self.opts.max_backoff)
    }

    fn error(&self, cause: String) {
        *self.errors.lock().entry(cause).or_default() += 1;
    }

    /// Counts a response that is not the expected one under its cause.
    fn unexpected(&self, req: &Request, r: &Response) {
        let scim_type = r.json().and_then(|v| v.get("scimType").and_then(Value::as_str).map(str::to_owned));
        let detail = scim_type.map(|t| format!(" {t}")).unwrap_or_default();
        self.error(format!("{} {} → {}{detail}", req.method, shape(&req.path), r.status));
    }
}

/// The path with ids and query values folded, so errors of the same kind group together.
fn shape(path: &str) -> String {
    let base = path.split('?').next().unwrap_or(path);
    let mut parts: Vec<&str> = base.split('/').collect();
    if parts.len() > 2 {
        parts.truncate(2);
        return format!("{}/{{id}}", parts.join("/"));
    }
    if path.contains("?filter=") { format!("{base}?filter=…") } else { base.to_owned() }
}

/// Runs the initial sync of `idp` against the target.
pub async fn initial_sync(
    target: &Target,
    idp: MockClient,
    opts: &SyncOptions,
    progress: &(dyn Fn(SyncProgress) + Sync),
) -> Result<SyncReport, RunError> {
    let client = crate::runner::connect(target, opts.timeout).await?;
    let prefix = format!("idcsync{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let load = Load {
        client: &client,
        opts,
        requests: AtomicU64::new(0),
        retries: AtomicU64::new(0),
        latencies: Mutex::new(Vec::with_capacity(opts.users * 2 + opts.groups * 4)),
        errors: Mutex::new(BTreeMap::new()),
        started: Instant::now(),
    };
    let tick = |phase: &'static str, done: usize, total: usize| {
        progress(SyncProgress {
            phase,
            done,
            total,
            requests: load.requests.load(Ordering::Relaxed),
            elapsed: load.started.elapsed().as_secs_f64(),
        });
    };
    let concurrency = opts.concurrency.max(1);

    // Users: lookup before create, then create (both IdPs).
    let users_done = AtomicUsize::new(0);
    let created: Vec<Option<(usize, String, String)>> = futures::stream::iter(0..opts.users)
        .map(|i| {
            let (load, users_done, tick, prefix) = (&load, &users_done, &tick, &prefix);
            async move {
                let user_name = format!("{prefix}.user{i:06}@example.com");
                let user = NewUser::generated(&user_name, &format!("{prefix}-{i}"));
                let lookup = idp.lookup_user(&user_name);
                let r = load.send(&lookup).await?;
                if r.status != 200 {
                    load.unexpected(&lookup, &r);
                    return None;
                }
                let create = idp.create_user(&user);
                let r = load.send(&create).await?;
                let out = match expect_created(r.status, &r.body) {
                    Ok(id) => Some((i, user_name, id)),
                    Err(_) => {
                        load.unexpected(&create, &r);
                        None
                    }
                };
                let n = users_done.fetch_add(1, Ordering::Relaxed) + 1;
                if n % 100 == 0 || n == opts.users {
                    tick("users", n, opts.users);
                }
                out
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut users: Vec<(usize, String, String)> = created.into_iter().flatten().collect();
    users.sort();

    // Groups: lookup, create without members, then add members in batches.
    let mut expected_members: HashMap<usize, Vec<(String, String)>> = HashMap::new();
    if opts.groups > 0 {
        for (i, name, id) in &users {
            expected_members.entry(i % opts.groups).or_default().push((id.clone(), name.clone()));
        }
    }
    let groups_done = AtomicUsize::new(0);
    let groups: Vec<Option<(usize, String)>> = futures::stream::iter(0..opts.groups)
        .map(|g| {
            let (load, groups_done, tick, prefix, expected) = (&load, &groups_done, &tick, &prefix, &expected_members);
            async move {
                let name = format!("{prefix} group {g:04}");
                let lookup = idp.lookup_group(&name);
                let r = load.send(&lookup).await?;
                if r.status != 200 {
                    load.unexpected(&lookup, &r);
                    return None;
                }
                let create = idp.create_group(&name, &format!("{prefix}-g{g}"));
                let r = load.send(&create).await?;
                let id = match expect_created(r.status, &r.body) {
                    Ok(id) => id,
                    Err(_) => {
                        load.unexpected(&create, &r);
                        return None;
                    }
                };
                let members = expected.get(&g).map(Vec::as_slice).unwrap_or_default();
                for chunk in members.chunks(opts.member_batch.max(1)) {
                    let refs: Vec<(&str, &str)> = chunk.iter().map(|(i, n)| (i.as_str(), n.as_str())).collect();
                    let add = idp.add_members(&id, &refs);
                    if let Some(r) = load.send(&add).await
                        && !(200..300).contains(&r.status)
                    {
                        load.unexpected(&add, &r);
                    }
                }
                let n = groups_done.fetch_add(1, Ordering::Relaxed) + 1;
                tick("groups", n, opts.groups);
                Some((g, id))
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let duration = load.started.elapsed();
    let groups: Vec<(usize, String)> = groups.into_iter().flatten().collect();

    let mut lat = std::mem::take(&mut *load.latencies.lock());
    lat.sort_unstable();
    let pct = |p: f64| {
        let idx = ((lat.len() as f64 - 1.0) * p).round().max(0.0) as usize;
        Duration::from_micros(lat.get(idx).copied().unwrap_or(0).into())
    };
    let (p50, p99) = (pct(0.50), pct(0.99));
    let requests = load.requests.load(Ordering::Relaxed);

    let mismatches = verify(&load, &prefix, opts, &users, &groups, &expected_members, &tick).await;
    Ok(SyncReport {
        idp: idp.idp.to_string(),
        requests,
        duration,
        p50,
        p99,
        retries: load.retries.load(Ordering::Relaxed),
        users_created: users.len(),
        groups_created: groups.len(),
        errors: std::mem::take(&mut *load.errors.lock()),
        mismatches,
    })
}

/// Reads back what the target holds, as Okta's import does (pages of 100), and compares it with what was sent.
async fn verify(
    load: &Load<'_>,
    prefix: &str,
    opts: &SyncOptions,
    users: &[(usize, String, String)],
    groups: &[(usize, String)],
    expected_members: &HashMap<usize, Vec<(String, String)>>,
    tick: &(dyn Fn(&'static str, usize, usize) + Sync),
) -> Vec<String> {
    let mut out = Vec::new();
    if users.len() < opts.users {
        out.push(format!("{} of {} users were not created", opts.users - users.len(), opts.users));
    }
    if groups.len() < opts.groups {
        out.push(format!("{} of {} groups were not created", opts.groups - groups.len(), opts.groups));
    }
    // Every user of this run, by filter on the run's prefix (RFC 7644 §3.4.2.2 `sw`), 100 per page.
    let filter = encode(&format!("userName sw \"{prefix}.\""));
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut start = 1usize;
    let pages = users.len().div_ceil(100).max(1);
    loop {
        let req = Request::new(
            Method::GET,
            format!("/Users?filter={filter}&startIndex={start}&count=100&attributes=userName"),
        );
        let Some(r) = load.send(&req).await else {
            out.push("could not list the users".into());
            return out;
        };
        let Some(body) = r.json().filter(|_| r.status == 200) else {
            out.push(format!("listing the users answered HTTP {}", r.status));
            return out;
        };
        let resources = body.get("Resources").and_then(Value::as_array).cloned().unwrap_or_default();
        for res in &resources {
            let id = res.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            let name = res.get("userName").and_then(Value::as_str).unwrap_or_default().to_owned();
            if let Some(prev) = seen.insert(id.clone(), name) {
                out.push(format!("user {id} ({prev}) listed twice"));
            }
        }
        tick("verify", start / 100 + 1, pages);
        let total = body.get("totalResults").and_then(Value::as_u64).unwrap_or(0) as usize;
        start += resources.len();
        if resources.is_empty() || start > total {
            break;
        }
    }
    let sent: HashMap<&str, &str> = users.iter().map(|(_, n, id)| (id.as_str(), n.as_str())).collect();
    for (id, name) in &sent {
        match seen.get(*id) {
            None => out.push(format!("user {name} ({id}) is missing")),
            Some(n) if !n.eq_ignore_ascii_case(name) => out.push(format!("user {id} has userName {n}, sent {name}")),
            Some(_) => {}
        }
    }
    for (id, name) in &seen {
        if !sent.contains_key(id.as_str()) {
            out.push(format!("user {name} ({id}) was not sent"));
        }
    }
    for (g, gid) in groups {
        let req = Request::new(Method::GET, format!("/Groups/{gid}"));
        let Some(r) = load.send(&req).await else { continue };
        let members: HashSet<String> = r
            .json()
            .and_then(|v| v.get("members").and_then(Value::as_array).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let want: HashSet<String> =
            expected_members.get(g).map(|v| v.iter().map(|(id, _)| id.clone()).collect()).unwrap_or_default();
        if members != want {
            let missing = want.difference(&members).count();
            let extra = members.difference(&want).count();
            out.push(format!("group {gid}: {missing} member(s) missing, {extra} not sent (HTTP {})", r.status));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_causes_group_by_path_shape() {
        assert_eq!(shape("/Users"), "/Users");
        assert_eq!(shape("/Groups/abc"), "/Groups/{id}");
        assert_eq!(shape("/Users?filter=userName%20eq%20%22x%22"), "/Users?filter=…");
    }
}
