//! The load tool: `clients` concurrent workers, each request on a fresh TCP connection and a
//! full TLS handshake with a device certificate, `POST /devicecontrol/deviceAccessToken`;
//! successful tokens per second, errors by status, and latency percentiles.
//!
//! Traffic goes to loopback addresses only, and every run is bounded in time and in count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anchorage_common::token::DeviceAccessToken;
use bytes::Bytes;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};

use crate::http::{self, Endpoint};
use crate::identity::{Identity, client_config};
use crate::token::TOKEN_PATH;

/// One server to measure, with a TLS configuration per device identity.
pub struct Target {
    /// Its name in reports.
    pub label: String,
    endpoint: Endpoint,
    addr: SocketAddr,
    server_name: ServerName<'static>,
    configs: Vec<Arc<ClientConfig>>,
}

impl Target {
    /// The device listener at `url` (a loopback address), trusted through `roots`, called by
    /// each of `identities` in turn (full handshakes: no session resumption).
    pub async fn new(label: &str, url: &str, roots: RootCertStore, identities: &[Identity]) -> anyhow::Result<Self> {
        let endpoint = Endpoint::parse(url)?;
        anyhow::ensure!(endpoint.tls, "{url}: the device listener is https");
        let addr =
            endpoint.resolve().await?.into_iter().next().ok_or_else(|| anyhow::anyhow!("{url} has no address"))?;
        anyhow::ensure!(
            addr.ip().is_loopback(),
            "{url} resolves to {addr}: the benchmark sends traffic to loopback addresses only"
        );
        anyhow::ensure!(!identities.is_empty(), "no device identity to benchmark with");
        let roots = Arc::new(roots);
        let configs =
            identities.iter().map(|i| client_config(i, roots.clone(), false)).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { label: label.to_string(), server_name: endpoint.server_name()?, endpoint, addr, configs })
    }

    /// How many identities take turns.
    pub fn identities(&self) -> usize {
        self.configs.len()
    }

    /// One token request as the identity number `i` (modulo their count).
    async fn request(&self, i: usize, timeout: Duration) -> Outcome {
        let config = self.configs[i % self.configs.len()].clone();
        let authority = self.endpoint.authority();
        let path = self.endpoint.path(TOKEN_PATH);
        let work = async {
            let tls = http::connect_tls(self.addr, self.server_name.clone(), config).await?;
            let req = http::Request {
                method: hyper::Method::POST,
                path: &path,
                authority: &authority,
                headers: &[("accept", "application/json")],
                body: Bytes::new(),
            };
            http::exchange(tls, req).await
        };
        match tokio::time::timeout(timeout, work).await {
            Err(_) => Outcome::Failed("timeout".into()),
            Ok(Err(e)) => Outcome::Failed(e.kind().into()),
            Ok(Ok(res)) if res.status == 200 && serde_json::from_slice::<DeviceAccessToken>(&res.body).is_ok() => {
                Outcome::Token
            }
            Ok(Ok(res)) => Outcome::Failed(res.status.to_string()),
        }
    }
}

enum Outcome {
    Token,
    Failed(String),
}

/// How long and how hard.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Concurrent workers.
    pub clients: usize,
    /// Workers start no new request after this.
    pub duration: Duration,
    /// Workers start no new request after this many in all.
    pub max_requests: u64,
    /// Longest single request.
    pub timeout: Duration,
    /// Where the server's CPU time is read, to report it too (Linux).
    pub server: ServerProcess,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            clients: 16,
            duration: Duration::from_secs(10),
            max_requests: 10_000_000,
            timeout: Duration::from_secs(10),
            server: ServerProcess::Unknown,
        }
    }
}

/// The result of one run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The target's label.
    pub label: String,
    /// Requests answered 200 with a token.
    pub tokens: u64,
    /// Failures by status code or kind (`tls`, `connect`, `timeout`…).
    pub errors: BTreeMap<String, u64>,
    /// From the first request to the end of the last.
    pub elapsed: Duration,
    /// Latencies of the successful requests, sorted.
    pub latencies: Vec<Duration>,
    /// CPU time the bench client used during the run (user + system), where Linux tells it.
    pub cpu: Option<Duration>,
    /// CPU time the server process used during the run, when its pid was given.
    pub server_cpu: Option<Duration>,
    /// The 1-minute load average at the end of the run (other work on the machine shows here).
    pub load: Option<f64>,
}

impl Report {
    /// The report as `scripts/bench.sh` keeps it (docs/bench/latest.json).
    pub fn to_json(&self) -> serde_json::Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0;
        serde_json::json!({
            "label": self.label,
            "tokens": self.tokens,
            "errors": self.errors,
            "seconds": self.elapsed.as_secs_f64(),
            "tokensPerSecond": self.rate(),
            "p50Ms": ms(self.percentile(50.0)),
            "p99Ms": ms(self.percentile(99.0)),
            "clientCpuSeconds": self.cpu.map(|c| c.as_secs_f64()),
            "serverCpuSeconds": self.server_cpu.map(|c| c.as_secs_f64()),
            "loadAverage": self.load,
        })
    }

    /// Successful tokens per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { self.tokens as f64 / secs } else { 0.0 }
    }

    /// The latency at percentile `p` (0–100) of successful requests.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// Several runs of the same target as one: counts, latencies and times added up.
    pub fn merge(runs: &[Report]) -> Report {
        let mut total =
            Report { label: runs.first().map(|r| r.label.clone()).unwrap_or_default(), ..Report::default() };
        let add = |a: Option<Duration>, b: Option<Duration>| a.zip(b).map(|(a, b)| a + b);
        total.cpu = Some(Duration::ZERO);
        total.server_cpu = Some(Duration::ZERO);
        for r in runs {
            total.tokens += r.tokens;
            total.elapsed += r.elapsed;
            total.latencies.extend(&r.latencies);
            for (k, v) in &r.errors {
                *total.errors.entry(k.clone()).or_default() += v;
            }
            total.cpu = add(total.cpu, r.cpu);
            total.server_cpu = add(total.server_cpu, r.server_cpu);
            total.load = match (total.load, r.load) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        total.latencies.sort_unstable();
        total
    }

    /// All failures.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The failures as `status×count …`, or `none`.
    pub fn errors_text(&self) -> String {
        if self.errors.is_empty() {
            return "none".into();
        }
        self.errors.iter().map(|(k, v)| format!("{k}×{v}")).collect::<Vec<_>>().join(" ")
    }
}

/// CPU time used by this process so far (Linux `/proc/self/stat`, 100 ticks a second).
pub fn process_cpu() -> Option<Duration> {
    cpu_of("self")
}

/// CPU time used so far by process `pid` (`self` for this one), where Linux tells it.
pub fn cpu_of(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (utime, stime): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time used so far by this process's threads whose name starts with `prefix` (Linux).
pub fn threads_cpu(prefix: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    for entry in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let tid = entry.file_name().to_string_lossy().to_string();
        let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).unwrap_or_default();
        if comm.starts_with(prefix) {
            total += cpu_of(&format!("self/task/{tid}")).unwrap_or_default();
        }
    }
    Some(total)
}

/// Whose CPU time counts as the server's in a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerProcess {
    /// Not measured.
    Unknown,
    /// Another process on this machine.
    Pid(u32),
    /// Threads of this process whose names start with this (the in-process baseline).
    Threads(&'static str),
}

impl ServerProcess {
    fn cpu(&self) -> Option<Duration> {
        match self {
            Self::Unknown => None,
            Self::Pid(pid) => cpu_of(&pid.to_string()),
            Self::Threads(prefix) => threads_cpu(prefix),
        }
    }
}

/// The 1-minute load average (Linux `/proc/loadavg`).
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

/// Runs `options.clients` workers against `target` until the time or count bound.
pub async fn run(target: Arc<Target>, options: &BenchOptions) -> Report {
    let started = Instant::now();
    let cpu_before = process_cpu();
    let server_before = options.server.cpu();
    let deadline = started + options.duration;
    let issued = Arc::new(AtomicU64::new(0));
    let clients = options.clients.max(1);
    let mut workers = Vec::with_capacity(clients);
    for w in 0..clients {
        let (target, issued, max, timeout) = (target.clone(), issued.clone(), options.max_requests, options.timeout);
        workers.push(tokio::spawn(async move {
            let mut report = Report::default();
            let mut turn = w;
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max {
                let t0 = Instant::now();
                match target.request(turn, timeout).await {
                    Outcome::Token => {
                        report.tokens += 1;
                        report.latencies.push(t0.elapsed());
                    }
                    Outcome::Failed(kind) => {
                        // A server that is down refuses at once; do not spin on it.
                        let pause = kind == "connect";
                        *report.errors.entry(kind).or_default() += 1;
                        if pause {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
                turn += clients;
            }
            report
        }));
    }
    let mut total = Report { label: target.label.clone(), ..Report::default() };
    for worker in workers {
        match worker.await {
            Ok(r) => {
                total.tokens += r.tokens;
                total.latencies.extend(r.latencies);
                for (k, v) in r.errors {
                    *total.errors.entry(k).or_default() += v;
                }
            }
            Err(_) => *total.errors.entry("worker panicked".into()).or_default() += 1,
        }
    }
    total.elapsed = started.elapsed();
    total.latencies.sort_unstable();
    total.cpu = process_cpu().zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
    total.server_cpu = options.server.cpu().zip(server_before).map(|(after, before)| after.saturating_sub(before));
    // In-process server threads are not the client's.
    if let (Some(cpu), ServerProcess::Threads(_), Some(server)) = (total.cpu, &options.server, total.server_cpu) {
        total.cpu = Some(cpu.saturating_sub(server));
    }
    total.load = load_average();
    total
}

/// One request per identity, one at a time, unmeasured: registers the devices and issues their
/// first tokens, so the measured run sees the steady state (a device asking again before
/// half-life gets its current token back).
pub async fn warm_up(target: Arc<Target>, timeout: Duration) -> Report {
    let n = target.identities() as u64;
    let options = BenchOptions {
        clients: 1,
        duration: Duration::from_secs(600),
        max_requests: n,
        timeout,
        server: ServerProcess::Unknown,
    };
    run(target, &options).await
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The reports side by side, and each one's rate as a share of the last one's.
pub fn table(reports: &[&Report]) -> String {
    let mut out = String::new();
    let cell = |f: &dyn Fn(&Report) -> String| reports.iter().map(|r| format!("{:>18}", f(r))).collect::<String>();
    let _ = writeln!(out, "{:<22}{}", "", cell(&|r| r.label.clone()));
    let _ = writeln!(out, "{:<22}{}", "tokens/s", cell(&|r| format!("{:.1}", r.rate())));
    let _ = writeln!(out, "{:<22}{}", "successful requests", cell(&|r| r.tokens.to_string()));
    let _ = writeln!(out, "{:<22}{}", "errors", cell(&|r| r.error_count().to_string()));
    let _ = writeln!(out, "{:<22}{}", "elapsed", cell(&|r| format!("{:.2} s", r.elapsed.as_secs_f64())));
    for (name, p) in [("latency p50", 50.0), ("latency p90", 90.0), ("latency p99", 99.0), ("latency max", 100.0)] {
        let _ = writeln!(out, "{name:<22}{}", cell(&|r| ms(r.percentile(p))));
    }
    let _ = writeln!(
        out,
        "{:<22}{}",
        "client CPU",
        cell(&|r| r.cpu.map_or("?".into(), |c| format!(
            "{:.0}% of a core",
            100.0 * c.as_secs_f64() / r.elapsed.as_secs_f64().max(1e-9)
        )))
    );
    if reports.iter().any(|r| r.server_cpu.is_some()) {
        let _ = writeln!(
            out,
            "{:<22}{}",
            "server CPU",
            cell(&|r| r.server_cpu.map_or("-".into(), |c| format!(
                "{:.0}% of a core",
                100.0 * c.as_secs_f64() / r.elapsed.as_secs_f64().max(1e-9)
            )))
        );
    }
    let per_token = |cpu: Option<Duration>, r: &Report| match cpu {
        Some(c) if r.tokens > 0 => format!("{:.3} ms", c.as_secs_f64() * 1000.0 / r.tokens as f64),
        _ => "-".into(),
    };
    let _ = writeln!(out, "{:<22}{}", "client CPU per token", cell(&|r| per_token(r.cpu, r)));
    if reports.iter().any(|r| r.server_cpu.is_some()) {
        let _ = writeln!(out, "{:<22}{}", "server CPU per token", cell(&|r| per_token(r.server_cpu, r)));
    }
    let _ =
        writeln!(out, "{:<22}{}", "load avg (1 min, max)", cell(&|r| r.load.map_or("?".into(), |l| format!("{l:.2}"))));
    for r in reports {
        if !r.errors.is_empty() {
            let _ = writeln!(out, "errors of {}: {}", r.label, r.errors_text());
        }
    }
    if let Some((last, rest)) = reports.split_last() {
        for r in rest {
            if last.rate() > 0.0 {
                let _ = writeln!(out, "{} / {}: {:.1}%", r.label, last.label, 100.0 * r.rate() / last.rate());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let r = Report { latencies: (1..=100).map(Duration::from_millis).collect(), ..Report::default() };
        assert_eq!(r.percentile(50.0), Duration::from_millis(50));
        assert_eq!(r.percentile(99.0), Duration::from_millis(99));
        assert_eq!(r.percentile(100.0), Duration::from_millis(100));
        assert_eq!(Report::default().percentile(50.0), Duration::ZERO);
    }

    #[test]
    fn this_process_has_a_cpu_time() {
        assert!(process_cpu().is_some());
    }
}
