//! Serving connections on a listener, for both of anchorage's listeners (the console and API
//! over plain HTTP, the devices over mutual TLS), with the limits that keep idle or slow
//! clients from taking the server down:
//!
//! - **A connection cap per listener.** At the cap, a new connection evicts the connection that
//!   has been idle the longest (no request in flight), so an idle flood cannot shut legitimate
//!   clients out; when every connection is busy, the new one is closed at once. The cap is also
//!   kept below what the process's open-file limit allows for both listeners.
//! - **Timeouts.** The TLS handshake and the request head must arrive within
//!   `--header-read-timeout-seconds`; a connection with no request in flight for
//!   `--idle-timeout-seconds` is closed (this covers keep-alive, HTTP/2 and a client that
//!   finished its handshake and then said nothing).
//! - **Accept errors** (out of file descriptors, …) pause the accept loop briefly instead of
//!   spinning, and are logged at most once a second with the count of those not logged.
//!
//! Every request carries the client's address (`ConnectInfo`) and, on the TLS listener, the
//! certificates the client presented ([`PeerCertificates`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt as _;

use crate::config::IpNet;
use crate::tls::PeerCertificates;

/// Largest total size of a request's headers answered normally; larger gets 431 in the
/// platform's envelope. (hyper's own limit on the whole head, about 400 KB, answers 431 without
/// a body.)
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// Most headers in one request, likewise.
pub const MAX_HEADERS: usize = 100;

/// How long an accept error pauses the accept loop.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
/// How long a connection asked to close may take to finish what it is doing.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// The limits of one listener.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most open connections.
    pub max_connections: usize,
    /// Most open connections from one client address.
    pub max_per_address: usize,
    /// The whole request body must arrive within this.
    pub body_read_timeout: Duration,
    /// TLS handshake and request head.
    pub header_read_timeout: Duration,
    /// No request in flight for this long closes the connection.
    pub idle_timeout: Duration,
    /// At shutdown, open requests get this long to finish (`--shutdown-grace-seconds`).
    pub drain: Duration,
}

impl Limits {
    /// The limits from the configuration, the cap lowered to what the open-file limit allows
    /// for two listeners and the database (a warning says so).
    pub fn from_config(config: &crate::config::Config) -> Self {
        let mut max_connections = config.max_connections.max(1);
        if let Some(files) = open_file_limit() {
            // Two listeners, each socket one descriptor; leave room for the database, logs and TLS files.
            let room = usize::try_from(files.saturating_sub(256) / 2).unwrap_or(usize::MAX).max(16);
            if room < max_connections {
                tracing::warn!(
                    configured = max_connections,
                    open_file_limit = files,
                    using = room,
                    "--max-connections lowered to fit the process's open-file limit (raise `ulimit -n` for more)"
                );
                max_connections = room;
            }
        }
        Self {
            max_per_address: config.max_connections_per_address.clamp(1, max_connections),
            max_connections,
            body_read_timeout: Duration::from_secs(config.body_read_timeout_seconds.max(1)),
            header_read_timeout: Duration::from_secs(config.header_read_timeout_seconds.max(1)),
            idle_timeout: Duration::from_secs(config.idle_timeout_seconds.max(1)),
            drain: Duration::from_secs(config.shutdown_grace_seconds),
        }
    }
}

/// The soft limit on open files (`Max open files` of /proc/self/limits), where it can be read.
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// What the registry knows of one connection.
struct Activity {
    /// The client's address (a trusted proxy's connections are not capped per address).
    ip: Option<std::net::IpAddr>,
    /// Requests whose handler is running (reading the body, deciding).
    handling: AtomicUsize,
    /// Requests in flight: from the head until the response's body has been sent.
    in_flight: AtomicUsize,
    /// Milliseconds since the listener's start at the last sign of progress: a request started
    /// or ended, a response head or a piece of a response body handed to the connection.
    last: AtomicU64,
    /// Asks the connection to close.
    close: Notify,
}

impl Activity {
    fn touch(&self, epoch: Instant) {
        self.last.store(millis(epoch), Ordering::Relaxed);
    }
}

fn millis(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The open connections of one listener.
struct Registry {
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Activity>>>,
}

impl Registry {
    /// Registers a new connection from `ip` (`None`: not capped per address). At the cap
    /// (overall, or for that address), first evicts the connection that has made no progress
    /// the longest among those that can go: no handler running, and nothing in flight or a
    /// response stalled for longer than the header-read timeout (a client that does not read
    /// its answer). `None` when none can go: the new connection is refused.
    fn admit(&self, limits: &Limits, ip: Option<std::net::IpAddr>) -> Option<(u64, Arc<Activity>)> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let now = millis(self.epoch);
        let stall = u64::try_from(limits.header_read_timeout.as_millis()).unwrap_or(u64::MAX);
        let evictable = |a: &Activity| {
            a.handling.load(Ordering::Relaxed) == 0
                && (a.in_flight.load(Ordering::Relaxed) == 0
                    || now.saturating_sub(a.last.load(Ordering::Relaxed)) > stall)
        };
        let same_address = ip.map_or(0, |ip| open.values().filter(|a| a.ip == Some(ip)).count());
        let full = if ip.is_some() && same_address >= limits.max_per_address {
            Some(ip)
        } else if open.len() >= limits.max_connections {
            Some(None)
        } else {
            None
        };
        if let Some(among) = full {
            let victim = open
                .iter()
                .filter(|(_, a)| among.is_none() || a.ip == among)
                .filter(|(_, a)| evictable(a))
                .min_by_key(|(_, a)| a.last.load(Ordering::Relaxed))
                .map(|(id, _)| *id)?;
            if let Some(evicted) = open.remove(&victim) {
                evicted.close.notify_one();
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let activity = Arc::new(Activity {
            ip,
            handling: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            last: AtomicU64::new(now),
            close: Notify::new(),
        });
        open.insert(id, activity.clone());
        Some((id, activity))
    }

    fn remove(&self, id: u64) {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Logs an often repeated event at most once per interval, with the count of those not logged.
#[derive(Debug)]
pub struct Throttled {
    interval: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttled {
    pub fn new(interval: Duration) -> Self {
        Self { interval, last: None, suppressed: 0 }
    }

    /// Whether to log now, and how many were not logged since the last time.
    pub fn check(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.duration_since(last) < self.interval => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

/// A listener's name in logs, and its TLS acceptor if it has one.
pub struct Listener {
    pub name: &'static str,
    pub tcp: TcpListener,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub limits: Limits,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Arc<[IpNet]>,
}

/// The client's address: the TCP peer's, or, when the peer is a trusted proxy, the last
/// address in `X-Forwarded-For` that is not a trusted proxy itself.
pub fn client_address(peer: SocketAddr, headers: &hyper::HeaderMap, trusted: &[IpNet]) -> SocketAddr {
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer.ip()) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .map(|a| a.parse::<std::net::IpAddr>().or_else(|_| a.parse::<SocketAddr>().map(|s| s.ip())))
        .take_while(Result::is_ok)
        .filter_map(Result::ok)
        .find(|ip| !is_trusted(*ip))
        .map_or(peer, |ip| SocketAddr::new(ip, 0))
}

/// Accepts connections and serves `app` on each until `shutdown` changes; then asks every open
/// connection to finish its requests and close, and waits for them ([`Limits::drain`] at most).
pub async fn serve(listener: Listener, app: axum::Router, mut shutdown: watch::Receiver<bool>) {
    let Listener { name, tcp, tls, limits, trusted_proxies } = listener;
    let registry = Arc::new(Registry { epoch: Instant::now(), next_id: AtomicU64::new(0), open: Mutex::default() });
    let mut accept_errors = Throttled::new(Duration::from_secs(1));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, remote) = tokio::select! {
            accepted = tcp.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    if let Some(suppressed) = accept_errors.check(Instant::now()) {
                        tracing::warn!(listener = name, error = %e, not_logged_since = suppressed, "accept failed; pausing");
                    }
                    // Out of descriptors or memory: give the open connections time to end.
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        // A trusted proxy carries many clients: its connections count only towards the total.
        let ip = (!trusted_proxies.iter().any(|n| n.contains(remote.ip()))).then(|| remote.ip());
        let Some((id, activity)) = registry.admit(&limits, ip) else {
            tracing::debug!(listener = name, client = %remote, "connection cap reached and every connection busy: closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (tls, app, stop, registry) = (tls.clone(), app.clone(), shutdown.clone(), registry.clone());
        let proxies = trusted_proxies.clone();
        connections.spawn(async move {
            let peer = Peer { remote, proxies };
            connection(stream, peer, tls, app, stop, &activity, registry.epoch, &limits).await;
            registry.remove(id);
        });
    }
    // Closed at once: new connections are refused while the open ones drain (a load balancer
    // then sends them elsewhere instead of into a backlog nobody accepts from).
    drop(tcp);
    tracing::debug!(listener = name, open = registry.len(), "stopping: draining connections");
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.drain, drain).await.is_err() {
        connections.abort_all();
    }
}

/// One connection: the TLS handshake (if any), then HTTP/1.1 or HTTP/2 until the client or an
/// idle timeout, an eviction or the shutdown ends it.
#[allow(clippy::too_many_arguments)]
async fn connection(
    stream: tokio::net::TcpStream,
    remote: Peer,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: axum::Router,
    stop: watch::Receiver<bool>,
    activity: &Arc<Activity>,
    epoch: Instant,
    limits: &Limits,
) {
    match tls {
        None => http(stream, remote, None, app, stop, activity, epoch, limits).await,
        Some(acceptor) => {
            let handshake = tokio::select! {
                r = tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)) => r,
                _ = activity.close.notified() => return,
            };
            let tls = match handshake {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(client = %remote.remote, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            let certs = tls
                .get_ref()
                .1
                .peer_certificates()
                .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
                .unwrap_or_default();
            let peer = PeerCertificates(Arc::new(certs));
            http(tls, remote, Some(peer), app, stop, activity, epoch, limits).await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn http<I>(
    io: I,
    remote: Peer,
    peer: Option<PeerCertificates>,
    app: axum::Router,
    mut stop: watch::Receiver<bool>,
    activity: &Arc<Activity>,
    epoch: Instant,
    limits: &Limits,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let tracked = activity.clone();
    let address = remote.remote;
    let body_timeout = limits.body_read_timeout;
    let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        if let Some(peer) = &peer {
            req.extensions_mut().insert(peer.clone());
        }
        let client = client_address(remote.remote, req.headers(), &remote.proxies);
        req.extensions_mut().insert(axum::extract::ConnectInfo(client));
        let guard = InFlight::start(tracked.clone(), epoch);
        let too_large = head_too_large(&req);
        let req = req.map(|body| axum::body::Body::new(Deadline::new(body, body_timeout)));
        let handling = Handling::start(tracked.clone());
        let call = app.clone().oneshot(req);
        // In flight until the response's body has been sent (or dropped).
        async move {
            if too_large {
                use axum::response::IntoResponse as _;
                let e = crate::error::AppError::refused(
                    hyper::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    "general",
                    format!(
                        "The request's headers are too large (at most {MAX_HEADERS} headers, {MAX_HEAD_BYTES} bytes)."
                    ),
                );
                return Ok(e.into_response().map(|body| axum::body::Body::new(Tracked { body, guard })));
            }
            let res = call.await;
            drop(handling);
            guard.activity.touch(guard.epoch);
            res.map(|res| res.map(|body| axum::body::Body::new(Tracked { body, guard })))
        }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder.http1().timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(hyper_util::rt::TokioTimer::new());
    let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(io), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        r = connection.as_mut() => r,
        // Nothing in flight: nothing is lost by closing at once.
        () = idle(activity, epoch, limits.idle_timeout) => Ok(()),
        () = activity.close.notified() => Ok(()),
        // Stopping: finish the requests in flight, then close (dropped after a grace period).
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            tokio::time::timeout(CLOSE_GRACE, connection).await.unwrap_or(Ok(()))
        }
    };
    if let Err(e) = result {
        tracing::debug!(client = %address, error = %e, "connection ended with an error");
    }
}

/// Whether a request's headers are larger than [`MAX_HEAD_BYTES`] or more than [`MAX_HEADERS`].
fn head_too_large<B>(req: &hyper::Request<B>) -> bool {
    let headers = req.headers();
    let size: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    headers.len() > MAX_HEADERS || size > MAX_HEAD_BYTES
}

/// The TCP peer of a connection, and the proxies trusted to name the client.
#[derive(Clone)]
struct Peer {
    remote: SocketAddr,
    proxies: Arc<[IpNet]>,
}

/// A response body that keeps its request counted as in flight until it is done, and marks
/// progress each time the connection takes a piece of it.
struct Tracked {
    body: axum::body::Body,
    guard: InFlight,
}

impl hyper::body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.body).poll_frame(cx);
        if polled.is_ready() {
            self.guard.activity.touch(self.guard.epoch);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Resolves once the connection has made no progress for `timeout` while no handler runs: an
/// idle keep-alive connection, or a response its client does not read.
async fn idle(activity: &Activity, epoch: Instant, timeout: Duration) {
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    loop {
        let since = millis(epoch).saturating_sub(activity.last.load(Ordering::Relaxed));
        let handling = activity.handling.load(Ordering::Relaxed) > 0;
        if !handling && since >= timeout_ms {
            return;
        }
        let left = if handling { timeout_ms } else { timeout_ms.saturating_sub(since) };
        tokio::time::sleep(Duration::from_millis(left.max(10))).await;
    }
}

/// Counts a request's handler as running, until dropped.
struct Handling(Arc<Activity>);

impl Handling {
    fn start(activity: Arc<Activity>) -> Self {
        activity.handling.fetch_add(1, Ordering::Relaxed);
        Self(activity)
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        self.0.handling.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A request body that must arrive whole within a deadline (a client that sends its body
/// slowly holds a handler, which no idle rule can close).
struct Deadline {
    body: hyper::body::Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
}

impl Deadline {
    fn new(body: hyper::body::Incoming, timeout: Duration) -> Self {
        Self { body, deadline: Box::pin(tokio::time::sleep(timeout)), timeout }
    }
}

impl hyper::body::Body for Deadline {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if let std::task::Poll::Ready(frame) = std::pin::Pin::new(&mut self.body).poll_frame(cx) {
            return std::task::Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            let message = format!("the request body did not arrive within {} s", self.timeout.as_secs());
            return std::task::Poll::Ready(Some(Err(message.into())));
        }
        std::task::Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// Counts a request in flight from its start until its response has been sent (or dropped).
struct InFlight {
    activity: Arc<Activity>,
    epoch: Instant,
}

impl InFlight {
    fn start(activity: Arc<Activity>, epoch: Instant) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.touch(epoch);
        Self { activity, epoch }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.activity.touch(self.epoch);
        self.activity.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let proxy: SocketAddr = "10.0.0.2:5000".parse().expect("addr");
        let trusted = [IpNet::parse("10.0.0.0/24").expect("net")];
        let mut h = hyper::HeaderMap::new();
        h.insert("x-forwarded-for", "198.51.100.9, 203.0.113.5, 10.0.0.3".parse().expect("header"));
        assert_eq!(client_address(proxy, &h, &trusted).ip().to_string(), "203.0.113.5");
        assert_eq!(client_address(proxy, &h, &[]), proxy);
        let stranger: SocketAddr = "192.0.2.1:1".parse().expect("addr");
        assert_eq!(client_address(stranger, &h, &trusted), stranger);
        assert_eq!(client_address(proxy, &hyper::HeaderMap::new(), &trusted), proxy);
    }

    #[test]
    fn throttled_logs_once_per_interval_with_the_count_in_between() {
        let mut t = Throttled::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(t.check(t0), Some(0));
        for _ in 0..1000 {
            assert_eq!(t.check(t0 + Duration::from_millis(500)), None);
        }
        assert_eq!(t.check(t0 + Duration::from_millis(1000)), Some(1000));
        assert_eq!(t.check(t0 + Duration::from_millis(1001)), None);
    }

    fn limits(max_connections: usize, max_per_address: usize) -> Limits {
        Limits {
            max_connections,
            max_per_address,
            body_read_timeout: Duration::from_secs(1),
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            drain: Duration::from_secs(10),
        }
    }

    /// A registry whose clock started 10 s ago (progress times are set by hand, never slept).
    fn registry() -> Registry {
        let epoch = Instant::now().checked_sub(Duration::from_secs(10)).unwrap_or_else(Instant::now);
        Registry { epoch, next_id: AtomicU64::new(0), open: Mutex::default() }
    }

    #[test]
    fn at_the_cap_the_longest_idle_connection_is_evicted_and_busy_ones_never() {
        let limits = limits(2, 2);
        let r = registry();
        let (a, first) = r.admit(&limits, None).expect("room");
        let (_, second) = r.admit(&limits, None).expect("room");
        first.last.store(9_000, Ordering::Relaxed);
        second.last.store(9_500, Ordering::Relaxed);
        let (_, third) = r.admit(&limits, None).expect("evicts the longest idle");
        assert!(!r.open.lock().expect("lock").contains_key(&a));
        assert_eq!(r.len(), 2);
        // A handler running, and a response the client is reading: nothing can go.
        second.handling.store(1, Ordering::Relaxed);
        third.in_flight.store(1, Ordering::Relaxed);
        assert!(r.admit(&limits, None).is_none(), "every connection busy: the new one is refused");
        // A response its client has not read for longer than the header-read timeout can go.
        third.last.store(1_000, Ordering::Relaxed);
        assert!(r.admit(&limits, None).is_some(), "a stalled response is evicted");
    }

    #[test]
    fn one_address_cannot_take_more_than_its_share() {
        let limits = limits(10, 2);
        let r = registry();
        let flood: std::net::IpAddr = "203.0.113.9".parse().expect("ip");
        let (_, a) = r.admit(&limits, Some(flood)).expect("room");
        let (_, b) = r.admit(&limits, Some(flood)).expect("room");
        a.handling.store(1, Ordering::Relaxed);
        b.handling.store(1, Ordering::Relaxed);
        assert!(r.admit(&limits, Some(flood)).is_none(), "the address's share is taken by busy connections");
        assert!(r.admit(&limits, Some("192.0.2.1".parse().expect("ip"))).is_some(), "others still get in");
        assert!(r.admit(&limits, None).is_some(), "a trusted proxy counts only towards the total");
    }
}
