//! The "online" revocation check (tenant option `crl.online.check.enabled`): is a certificate of
//! a device's chain revoked according to the CRL published at its CRL distribution point?
//!
//! [`OnlineRevocation::check`] takes a chain that is already verified (leaf first, each issuer
//! in order, ending with the trust anchor) and, for every certificate but the anchor:
//!
//! * reads its CRL distribution points extension and takes the first `fullName` URI that starts
//!   with `http://` (RFC 5280 §4.2.1.13). Other schemes (`ldap://`, `https://`), distribution
//!   points naming a separate CRL issuer (indirect CRLs) and names relative to the CRL issuer are
//!   not used; **a certificate without an http distribution point is not checked** (it counts as
//!   good);
//! * fetches the CRL there (DER, or PEM `X509 CRL`), bounded by [`Limits`]: the whole fetch,
//!   waiting for a download slot included, by `timeout`; the body by `max_bytes` (a larger
//!   `Content-Length` is refused before reading); at most 2 redirects, no cookies; at most
//!   `max_concurrent_fetches` downloads at once (a check that finds no free slot within the
//!   timeout is unknown: "too many CRL downloads at once", not cached);
//! * verifies it before using anything in it, on a blocking thread (a 10 MiB CRL takes a while
//!   to parse and must not stall the async runtime): its issuer name must equal the issuer
//!   certificate's subject (byte for byte), and its signature must verify with the issuer
//!   certificate's public key, with the signature algorithms of the TLS crypto provider
//!   (aws-lc-rs, as in [`crate::device_trust`]). A CRL whose `nextUpdate` is before `now` is
//!   expired; delta CRLs are refused;
//! * compares serial magnitudes (leading zero bytes stripped), so `00 80 01` and `80 01` match.
//!
//! Revoked beats unknown: the verdict is the first revoked certificate in the chain, else the
//! first whose status could not be established, else [`Verdict::Good`].
//!
//! **Cache.** Verified CRLs are kept per URL, reduced to what a check needs: the sorted revoked
//! serial magnitudes with their revocation dates (36 bytes a serial), `nextUpdate`, and the
//! SHA-256 of the issuer's `SubjectPublicKeyInfo` they were verified with (a chain whose issuer
//! has another key does not use the entry: it is fetched and verified again for that key). An
//! entry lives until the CRL's `nextUpdate`, or `default_ttl` when it has none, and never longer
//! than `default_ttl` past the fetch. Failures (unreachable, HTTP errors, unreadable, bad
//! signature, expired CRLs) are kept for `failure_ttl`, so a fleet of refused devices does not
//! hammer an unreachable distribution point. The cache holds at most `max_cached` URLs and at
//! most `max_cached_serials` revoked serials in all; to make room, expired entries go first,
//! then the ones that expire soonest. A CRL with more serials than the whole budget is used for
//! the check that fetched it and not kept. Concurrent checks that miss the cache for the same URL
//! and issuer key share one download. A cached check parses the two certificates in place (no
//! allocation), hashes the issuer key, and does a hash lookup and a binary search under a short
//! lock.
//!
//! All times come from the `now` argument (the server's injected clock), never from the system
//! clock; only the network timeout is measured in real time.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anchorage_common::timefmt;
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use tokio::sync::{OnceCell, Semaphore};
use x509_parser::prelude::FromDer as _;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::X509Name;

/// Bounds of the online check. The defaults suit a server with thousands of devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The whole fetch of one CRL: waiting for a download slot, connecting, redirects, headers
    /// and body.
    pub timeout: std::time::Duration,
    /// Largest CRL body accepted, in bytes.
    pub max_bytes: usize,
    /// Most CRLs (and cached failures) kept; 0 disables the cache.
    pub max_cached: usize,
    /// Most revoked serials kept in all cached CRLs together (36 bytes each). A CRL with more is
    /// used for the check that fetched it, and not kept.
    pub max_cached_serials: usize,
    /// Most CRL downloads (of distinct URLs, or issuer keys) at once, verification included;
    /// more wait for a slot, within `timeout`. 0 counts as 1.
    pub max_concurrent_fetches: usize,
    /// How long a failure to get a usable CRL is remembered before the URL is tried again.
    pub failure_ttl: time::Duration,
    /// How long a CRL without `nextUpdate` is kept, and the longest any CRL is kept.
    pub default_ttl: time::Duration,
}

impl Default for Limits {
    /// 5 s, 10 MiB, 1000 CRLs, 2,000,000 serials (about 70 MiB), 8 downloads, 30 s, 1 h.
    fn default() -> Self {
        Self {
            timeout: std::time::Duration::from_secs(5),
            max_bytes: 10 * 1024 * 1024,
            max_cached: 1000,
            max_cached_serials: 2_000_000,
            max_concurrent_fetches: 8,
            failure_ttl: time::Duration::seconds(30),
            default_ttl: time::Duration::hours(1),
        }
    }
}

/// The outcome of [`OnlineRevocation::check`]. `Display` is a message fit for the device and
/// the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No certificate of the chain is revoked (or none has an http distribution point).
    Good,
    /// A certificate is listed in its issuer's CRL.
    Revoked {
        /// The revoked certificate's subject, as the platform prints names (`CN=…, O=…`).
        subject: String,
        /// Its serial in lower-case hex, without leading zeros.
        serial_hex: String,
        /// The CRL that lists it.
        url: String,
        /// The CRL entry's revocation date in the platform's format (`2024-01-02T03:04:05.000Z`).
        revocation_date: Option<String>,
    },
    /// The revocation status of a certificate cannot be established.
    Unknown {
        /// The certificate whose status is unknown.
        subject: String,
        /// Its CRL distribution point (empty for [`Unknown::UnreadableCertificate`]).
        url: String,
        why: Unknown,
    },
}

/// Why no usable CRL was obtained. `Display` completes "the CRL at <url> …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// No HTTP answer: connection refused, name not found, too many redirects, …
    Unreachable(String),
    /// The final answer was not a 2xx status.
    HttpStatus(u16),
    /// The body (or its announced `Content-Length`) exceeds [`Limits::max_bytes`].
    TooLarge,
    /// The fetch did not complete within [`Limits::timeout`].
    Timeout,
    /// The body is not a (supported) X.509 CRL.
    Unreadable(String),
    /// The CRL's signature does not verify with the issuer certificate's key (`issuer`: the
    /// issuer's subject).
    BadSignature { issuer: String },
    /// The CRL's `nextUpdate` (platform format) is before the time of the check.
    Expired { next_update: String },
    /// The CRL is issued by `crl_issuer`, not by the certificate's issuer `issuer`.
    WrongIssuer { issuer: String, crl_issuer: String },
    /// A certificate of the chain cannot be read (malformed DER or distribution points), so its
    /// distribution point is unknown; the chain is not checked further for it.
    UnreadableCertificate(String),
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unknown::Unreachable(cause) => write!(f, "could not be fetched: {cause}"),
            Unknown::HttpStatus(status) => write!(f, "could not be fetched: the server answered HTTP status {status}"),
            Unknown::TooLarge => f.write_str("could not be fetched: it is larger than the size limit"),
            Unknown::Timeout => f.write_str("could not be fetched: no complete answer within the time limit"),
            Unknown::Unreadable(why) => write!(f, "cannot be read: {why}"),
            Unknown::BadSignature { issuer } => write!(f, "is not signed by the issuer {issuer}"),
            Unknown::Expired { next_update } => write!(f, "expired on {next_update}"),
            Unknown::WrongIssuer { issuer, crl_issuer } => {
                write!(f, "is issued by {crl_issuer}, not by the issuer {issuer}")
            }
            Unknown::UnreadableCertificate(why) => write!(f, "cannot be located: {why}"),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Good => f.write_str("no certificate of the chain is revoked"),
            Verdict::Revoked { subject, serial_hex, url, revocation_date: Some(date) } => {
                write!(f, "the certificate {subject} serial {serial_hex} was revoked on {date} (CRL at {url})")
            }
            Verdict::Revoked { subject, serial_hex, url, revocation_date: None } => {
                write!(f, "the certificate {subject} serial {serial_hex} is revoked (CRL at {url})")
            }
            Verdict::Unknown { subject, why: Unknown::UnreadableCertificate(why), .. } => {
                write!(f, "the certificate {subject} cannot be checked for revocation: {why}")
            }
            Verdict::Unknown { subject, url, why } => write!(f, "the CRL at {url} {why} (checking {subject})"),
        }
    }
}

/// SHA-256 of an issuer's DER `SubjectPublicKeyInfo`: the key a cached CRL was verified with.
type KeyId = [u8; 32];

/// Serial magnitudes up to this many bytes (RFC 5280's limit) are kept in a fixed-size key.
const SHORT_SERIAL: usize = 20;

/// A serial magnitude of at most [`SHORT_SERIAL`] bytes, right-aligned (so two keys are equal
/// exactly when the numbers are).
type ShortSerial = [u8; SHORT_SERIAL];

/// The message of a check that found no free download slot within the timeout.
const TOO_MANY_DOWNLOADS: &str = "too many CRL downloads at once";

/// A verified CRL, reduced to what a check needs.
#[derive(Debug)]
struct RevokedSet {
    /// Serial magnitudes (no leading zero bytes) of at most [`SHORT_SERIAL`] bytes with their
    /// revocation dates, sorted by serial: 36 bytes each, found by binary search.
    short: Box<[(ShortSerial, OffsetDateTime)]>,
    /// Longer serial magnitudes (beyond RFC 5280, rare), sorted.
    long: Box<[(Box<[u8]>, OffsetDateTime)]>,
    next_update: Option<OffsetDateTime>,
}

impl RevokedSet {
    /// The set of `(magnitude, revocation date)` pairs; of a serial listed twice, the first.
    fn new<'a>(
        revoked: impl Iterator<Item = (&'a [u8], OffsetDateTime)>,
        capacity: usize,
        next_update: Option<OffsetDateTime>,
    ) -> Self {
        let mut short = Vec::with_capacity(capacity);
        let mut long = Vec::new();
        for (serial, date) in revoked {
            match short_serial(serial) {
                Some(key) => short.push((key, date)),
                None => long.push((Box::<[u8]>::from(serial), date)),
            }
        }
        short.sort_by_key(|e| e.0);
        short.dedup_by(|later, first| later.0 == first.0);
        long.sort_by(|a, b| a.0.cmp(&b.0));
        long.dedup_by(|later, first| later.0 == first.0);
        Self { short: short.into_boxed_slice(), long: long.into_boxed_slice(), next_update }
    }

    /// How many serials the set holds (what it costs of [`Limits::max_cached_serials`]).
    fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }

    /// The revocation date of `serial` (a magnitude), if listed. Does not allocate.
    fn get(&self, serial: &[u8]) -> Option<OffsetDateTime> {
        match short_serial(serial) {
            Some(key) => {
                self.short.binary_search_by(|(k, _)| k.cmp(&key)).ok().and_then(|i| self.short.get(i)).map(|e| e.1)
            }
            None => self
                .long
                .binary_search_by(|(k, _)| k.as_ref().cmp(serial))
                .ok()
                .and_then(|i| self.long.get(i))
                .map(|e| e.1),
        }
    }
}

/// `magnitude` right-aligned in a [`ShortSerial`]; `None` if it is longer.
fn short_serial(magnitude: &[u8]) -> Option<ShortSerial> {
    let mut key = [0u8; SHORT_SERIAL];
    let start = SHORT_SERIAL.checked_sub(magnitude.len())?;
    key.get_mut(start..)?.copy_from_slice(magnitude);
    Some(key)
}

/// What fetching a URL gave: a verified CRL or why there is none.
#[derive(Debug, Clone)]
enum State {
    Crl(Arc<RevokedSet>),
    Failed(Unknown),
}

struct Entry {
    key_id: KeyId,
    stored_at: OffsetDateTime,
    /// Not used at or after this time.
    until: OffsetDateTime,
    state: State,
}

impl Entry {
    /// The serials the entry holds.
    fn serials(&self) -> usize {
        match &self.state {
            State::Crl(set) => set.len(),
            State::Failed(_) => 0,
        }
    }
}

/// One download shared by the checks that miss the cache at the same time.
type Flight = Arc<OnceCell<State>>;

#[derive(Default)]
struct Cache {
    entries: HashMap<Box<str>, Entry>,
    /// The serials of all `entries` together.
    serials: usize,
    flights: HashMap<(Box<str>, KeyId), Flight>,
}

impl Cache {
    /// Keeps `entry` for `url` (in place of any entry for it) if it fits the limits, making room:
    /// expired entries go first, then those that expire soonest (the oldest on a tie). An entry
    /// with more serials than [`Limits::max_cached_serials`] is not kept.
    fn store(&mut self, url: Box<str>, entry: Entry, limits: &Limits, now: OffsetDateTime) {
        if let Some(old) = self.entries.remove(&url) {
            self.serials = self.serials.saturating_sub(old.serials());
        }
        let size = entry.serials();
        if limits.max_cached == 0 || size > limits.max_cached_serials {
            return;
        }
        let full = |cache: &Cache| {
            cache.entries.len() >= limits.max_cached || cache.serials.saturating_add(size) > limits.max_cached_serials
        };
        if full(self) {
            let mut freed = 0;
            self.entries.retain(|_, e| {
                let keep = e.until > now;
                if !keep {
                    freed += e.serials();
                }
                keep
            });
            self.serials = self.serials.saturating_sub(freed);
        }
        while full(self) {
            let Some(victim) = self.entries.iter().min_by_key(|(_, e)| (e.until, e.stored_at)).map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(gone) = self.entries.remove(&victim) {
                self.serials = self.serials.saturating_sub(gone.serials());
            }
        }
        self.serials = self.serials.saturating_add(size);
        self.entries.insert(url, entry);
    }
}

/// The online check, with its HTTP client and cache. `Send + Sync`; hold one in the server state.
pub struct OnlineRevocation {
    limits: Limits,
    /// `Err` (the reason) if the HTTP client could not be built; every fetch then fails with it.
    client: Result<reqwest::Client, String>,
    cache: Mutex<Cache>,
    /// One permit per download that may run at once ([`Limits::max_concurrent_fetches`]).
    downloads: Semaphore,
}

/// The result of looking a serial up in a fetch's state.
enum Found {
    Good,
    Revoked(OffsetDateTime),
    Unknown(Unknown),
}

impl OnlineRevocation {
    pub fn new(limits: Limits) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(2))
            .connect_timeout(limits.timeout)
            .timeout(limits.timeout)
            .pool_idle_timeout(std::time::Duration::from_secs(30))
            .user_agent(concat!("anchorage/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("the HTTP client cannot be set up ({e})"));
        let downloads = Semaphore::new(limits.max_concurrent_fetches.clamp(1, Semaphore::MAX_PERMITS));
        Self { limits, client, cache: Mutex::new(Cache::default()), downloads }
    }

    /// The limits this check was built with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Checks a verified chain against the CRLs at its distribution points.
    ///
    /// `path`: DER certificates leaf first, then each issuer in order, ending with the trust
    /// anchor. Checks each certificate but the anchor against the CRL at its http CDP, verified
    /// with its issuer's key. `now` is the server's clock: it decides whether a CRL has expired
    /// and how long results stay cached. A path of fewer than two certificates has nothing to
    /// check and is [`Verdict::Good`].
    pub async fn check(&self, path: &[&[u8]], now: OffsetDateTime) -> Verdict {
        let mut first_unknown = None;
        for pair in path.windows(2) {
            let [cert, issuer] = pair else { continue };
            match self.check_one(cert, issuer, now).await {
                Verdict::Good => {}
                revoked @ Verdict::Revoked { .. } => return revoked,
                unknown @ Verdict::Unknown { .. } => {
                    if first_unknown.is_none() {
                        first_unknown = Some(unknown);
                    }
                }
            }
        }
        first_unknown.unwrap_or(Verdict::Good)
    }

    async fn check_one(&self, cert_der: &[u8], issuer_der: &[u8], now: OffsetDateTime) -> Verdict {
        let Some(cert) = CertView::read(cert_der) else {
            return unreadable_certificate(
                cert_der,
                "it is not a valid X.509 certificate with readable distribution points",
            );
        };
        let Some(url) = cert.crl_url else { return Verdict::Good };
        let Some(issuer) = CertView::read(issuer_der) else {
            return unreadable_certificate(issuer_der, "it is not a valid X.509 certificate (issuer of the chain)");
        };
        let key_id: KeyId = Sha256::digest(issuer.spki).into();
        let serial = magnitude(cert.serial);
        let flight = {
            let mut cache = self.lock();
            if let Some(entry) = cache.entries.get(url)
                && entry.key_id == key_id
                && entry.stored_at <= now
                && now < entry.until
            {
                let found = lookup(&entry.state, serial, now);
                drop(cache);
                return verdict(found, &cert, url);
            }
            if cache.flights.len() >= self.limits.max_cached.saturating_add(64) {
                // Downloads whose every caller gave up: nobody else holds them.
                cache.flights.retain(|_, f| Arc::strong_count(f) > 1);
            }
            Arc::clone(cache.flights.entry((Box::from(url), key_id)).or_default())
        };
        let state = flight.get_or_init(|| self.fetch(url, &issuer, key_id, now)).await;
        verdict(lookup(state, serial, now), &cert, url)
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Downloads and verifies the CRL at `url`, stores the outcome in the cache and ends the
    /// flight. Runs once per flight (again only if every caller of a flight gave up).
    async fn fetch(&self, url: &str, issuer: &CertView<'_>, key_id: KeyId, now: OffsetDateTime) -> State {
        let start = tokio::time::Instant::now();
        // A timeout beyond what the clock can count: a day is as good as forever here.
        let deadline = start.checked_add(self.limits.timeout).unwrap_or(start + std::time::Duration::from_secs(86_400));
        // Waiting for a slot counts against the timeout; a check that gets none is not the
        // distribution point's fault, so that failure is not kept.
        let (state, keep) = match tokio::time::timeout_at(deadline, self.downloads.acquire()).await {
            Ok(Ok(permit)) => {
                let state = self.download_and_verify(url, issuer, deadline).await;
                drop(permit);
                (state, true)
            }
            Ok(Err(_)) | Err(_) => (State::Failed(Unknown::Unreachable(TOO_MANY_DOWNLOADS.into())), false),
        };
        match &state {
            State::Failed(why) => tracing::warn!(url, error = %why, "CRL distribution point unusable"),
            State::Crl(set) if set.len() > self.limits.max_cached_serials => tracing::warn!(
                url,
                serials = set.len(),
                budget = self.limits.max_cached_serials,
                "CRL too large to cache: it is fetched again at each check"
            ),
            State::Crl(_) => {}
        }
        let longest = now.saturating_add(self.limits.default_ttl);
        let until = match &state {
            State::Crl(set) => match set.next_update {
                Some(next) if next <= now => now.saturating_add(self.limits.failure_ttl),
                Some(next) => next.min(longest),
                None => longest,
            },
            State::Failed(_) => now.saturating_add(self.limits.failure_ttl),
        };
        let mut cache = self.lock();
        let owned: Box<str> = Box::from(url);
        cache.flights.remove(&(owned.clone(), key_id));
        if keep && until > now {
            cache.store(owned, Entry { key_id, stored_at: now, until, state: state.clone() }, &self.limits, now);
        }
        state
    }

    /// Downloads the CRL at `url` by `deadline` and verifies it on a blocking thread.
    async fn download_and_verify(&self, url: &str, issuer: &CertView<'_>, deadline: tokio::time::Instant) -> State {
        let body = match self.download(url, deadline).await {
            Ok(body) => body,
            Err(why) => return State::Failed(why),
        };
        // The issuer's name and key, owned, for the blocking thread (only on a cache miss).
        let (subject, spki) = (issuer.subject.to_vec(), issuer.spki.to_vec());
        let verified = tokio::task::spawn_blocking(move || {
            let issuer = CertView { serial: &[], subject: &subject, spki: &spki, crl_url: None };
            verify_crl(&body, &issuer)
        })
        .await
        .unwrap_or_else(|e| Err(Unknown::Unreadable(format!("it could not be checked ({e})"))));
        match verified {
            Ok(set) => State::Crl(Arc::new(set)),
            Err(why) => State::Failed(why),
        }
    }

    /// The body at `url`, within the limits, by `deadline`.
    async fn download(&self, url: &str, deadline: tokio::time::Instant) -> Result<Vec<u8>, Unknown> {
        let client = self.client.as_ref().map_err(|e| Unknown::Unreachable(e.clone()))?;
        let max = self.limits.max_bytes;
        let fetch = async {
            let mut response = client
                .get(url)
                .header(reqwest::header::ACCEPT, "application/pkix-crl, application/x-pkcs7-crl, */*;q=0.5")
                .send()
                .await
                .map_err(|e| transport_error(&e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(Unknown::HttpStatus(status.as_u16()));
            }
            let announced = response.content_length();
            if announced.is_some_and(|n| n > u64::try_from(max).unwrap_or(u64::MAX)) {
                return Err(Unknown::TooLarge);
            }
            let initial = announced.and_then(|n| usize::try_from(n).ok()).unwrap_or(0).min(max).min(1024 * 1024);
            let mut body = Vec::with_capacity(initial);
            while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e))? {
                if chunk.len() > max.saturating_sub(body.len()) {
                    return Err(Unknown::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        };
        tokio::time::timeout_at(deadline, fetch).await.unwrap_or(Err(Unknown::Timeout))
    }
}

/// A network failure in words: "connection refused", "too many redirects", …
fn transport_error(e: &reqwest::Error) -> Unknown {
    if e.is_timeout() {
        return Unknown::Timeout;
    }
    if e.is_redirect() {
        return Unknown::Unreachable("more than 2 redirects".into());
    }
    if e.is_builder() {
        return Unknown::Unreachable("the URL is not valid".into());
    }
    let mut cause = e.to_string();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            let known = match io.kind() {
                K::ConnectionRefused => Some("connection refused"),
                K::ConnectionReset => Some("connection reset"),
                K::ConnectionAborted => Some("connection aborted"),
                K::TimedOut => return Unknown::Timeout,
                K::UnexpectedEof => Some("the connection closed early"),
                _ => None,
            };
            if let Some(text) = known {
                return Unknown::Unreachable(text.into());
            }
        }
        cause = s.to_string();
        source = s.source();
    }
    Unknown::Unreachable(cause)
}

/// The verdict for one certificate from what its CRL says.
fn verdict(found: Found, cert: &CertView<'_>, url: &str) -> Verdict {
    match found {
        Found::Good => Verdict::Good,
        Found::Revoked(date) => Verdict::Revoked {
            subject: name_text(cert.subject),
            serial_hex: anchorage_common::crl::serial_hex(cert.serial),
            url: url.to_string(),
            revocation_date: Some(timefmt::platform(date)),
        },
        Found::Unknown(why) => Verdict::Unknown { subject: name_text(cert.subject), url: url.to_string(), why },
    }
}

fn unreadable_certificate(der: &[u8], why: &str) -> Verdict {
    let subject = x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| anchorage_common::dn::java_string(c.subject()))
        .unwrap_or_else(|_| "(unreadable certificate)".into());
    Verdict::Unknown { subject, url: String::new(), why: Unknown::UnreadableCertificate(why.into()) }
}

/// Looks `serial` (a magnitude) up; a CRL past its `nextUpdate` at `now` is expired.
fn lookup(state: &State, serial: &[u8], now: OffsetDateTime) -> Found {
    match state {
        State::Failed(why) => Found::Unknown(why.clone()),
        State::Crl(set) => match set.next_update {
            Some(next) if next < now => Found::Unknown(Unknown::Expired { next_update: timefmt::platform(next) }),
            _ => set.get(serial).map_or(Found::Good, Found::Revoked),
        },
    }
}

/// A serial's magnitude: its DER content without leading zero bytes.
fn magnitude(serial: &[u8]) -> &[u8] {
    let start = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
    serial.get(start..).unwrap_or_default()
}

/// A DER name as the platform prints names.
fn name_text(name_der: &[u8]) -> String {
    X509Name::from_der(name_der)
        .map(|(_, name)| anchorage_common::dn::java_string(&name))
        .unwrap_or_else(|_| format!("(unreadable name {})", hex::encode(name_der.get(..32).unwrap_or(name_der))))
}

/// Parses and verifies a CRL fetched for a certificate issued by `issuer`.
fn verify_crl(body: &[u8], issuer: &CertView<'_>) -> Result<RevokedSet, Unknown> {
    let decoded;
    let der: &[u8] = if body.trim_ascii_start().starts_with(b"-----BEGIN") {
        decoded = pem_crl(body)?;
        &decoded
    } else {
        body
    };
    let not_a_crl = || Unknown::Unreadable("it is not an X.509 CRL in DER or PEM".into());
    // CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
    let mut outer = Der(der);
    let list = outer.expect(SEQUENCE).ok_or_else(not_a_crl)?;
    if !outer.is_empty() {
        return Err(Unknown::Unreadable("it has bytes after the CRL".into()));
    }
    let mut parts = Der(list);
    let (tbs, algorithm, signature) =
        match (parts.expect_whole(SEQUENCE), parts.expect(SEQUENCE), parts.expect(BIT_STRING)) {
            (Some(t), Some(a), Some(s)) if parts.is_empty() => (t, a, s),
            _ => return Err(not_a_crl()),
        };
    let signature = match signature.split_first() {
        Some((0, bits)) => bits,
        _ => return Err(not_a_crl()),
    };
    let (_, crl) = CertificateRevocationList::from_der(der)
        .map_err(|e| Unknown::Unreadable(format!("it is not a valid X.509 CRL ({e})")))?;
    let crl_issuer = crl.tbs_cert_list.issuer.as_raw();
    if crl_issuer != issuer.subject {
        return Err(Unknown::WrongIssuer { issuer: name_text(issuer.subject), crl_issuer: name_text(crl_issuer) });
    }
    verify_signature(algorithm, tbs, signature, issuer)?;
    if crl.tbs_cert_list.find_extension(&x509_parser::oid_registry::OID_X509_EXT_DELTA_CRL_INDICATOR).is_some() {
        return Err(Unknown::Unreadable("it is a delta CRL; a complete CRL is needed".into()));
    }
    Ok(RevokedSet::new(
        crl.iter_revoked_certificates()
            .map(|entry| (magnitude(entry.raw_serial()), entry.revocation_date.to_datetime())),
        crl.tbs_cert_list.revoked_certificates.len(),
        crl.next_update().map(|t| t.to_datetime()),
    ))
}

/// The DER of the first `X509 CRL` PEM block.
fn pem_crl(body: &[u8]) -> Result<Vec<u8>, Unknown> {
    const BEGIN: &[u8] = b"-----BEGIN X509 CRL-----";
    const END: &[u8] = b"-----END X509 CRL-----";
    let unreadable = |why: &str| Unknown::Unreadable(format!("the PEM {why}"));
    let start = find(body, BEGIN).ok_or_else(|| unreadable("holds no X509 CRL block"))?;
    let rest = body.get(start + BEGIN.len()..).unwrap_or_default();
    let end = find(rest, END).ok_or_else(|| unreadable("block has no END line"))?;
    let base64: Vec<u8> =
        rest.get(..end).unwrap_or_default().iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(base64).map_err(|e| unreadable(&format!("is not base64 ({e})")))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Verifies `signature` over `tbs` with the issuer's key, the way webpki verifies certificates:
/// the algorithm whose signature identifier equals the CRL's and whose key identifier equals the
/// issuer key's.
fn verify_signature(algorithm: &[u8], tbs: &[u8], signature: &[u8], issuer: &CertView<'_>) -> Result<(), Unknown> {
    let bad = || Unknown::BadSignature { issuer: name_text(issuer.subject) };
    // SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
    let mut spki = Der(Der(issuer.spki).expect(SEQUENCE).ok_or_else(bad)?);
    let (key_algorithm, key) = match (spki.expect(SEQUENCE), spki.expect(BIT_STRING).and_then(|k| k.split_first())) {
        (Some(a), Some((0, key))) => (a, key),
        _ => return Err(bad()),
    };
    let mut supported = false;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    for candidate in provider.signature_verification_algorithms.all {
        if candidate.signature_alg_id().as_ref() != algorithm {
            continue;
        }
        supported = true;
        if candidate.public_key_alg_id().as_ref() == key_algorithm {
            return candidate.verify_signature(key, tbs, signature).map_err(|_| bad());
        }
    }
    if supported {
        // The CRL's algorithm does not fit the issuer's kind of key: another key signed it.
        Err(bad())
    } else {
        Err(Unknown::Unreadable("its signature algorithm is not supported".into()))
    }
}

const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// `[n]` constructed (explicit tags, and implicit ones on constructed types).
const fn constructed(n: u8) -> u8 {
    0xa0 | n
}
/// `[n]` primitive (implicit tags on primitive types).
const fn primitive(n: u8) -> u8 {
    0x80 | n
}
/// id-ce-cRLDistributionPoints (2.5.29.31), DER content.
const CRL_DISTRIBUTION_POINTS: &[u8] = &[0x55, 0x1d, 0x1f];

/// A DER reader over a run of elements; reads in place and never allocates.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next element: its tag, its content and the whole element. `None` for malformed DER
    /// (multi-byte tags, indefinite lengths, lengths beyond 4 bytes or beyond the input).
    fn next(&mut self) -> Option<(u8, &'a [u8], &'a [u8])> {
        let input = self.0;
        let (&tag, rest) = input.split_first()?;
        if tag & 0x1f == 0x1f {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, rest) = rest.split_at_checked(n)?;
            (bytes.iter().fold(0usize, |len, &b| (len << 8) | usize::from(b)), rest)
        };
        let (content, rest) = rest.split_at_checked(len)?;
        let whole = input.get(..input.len() - rest.len())?;
        self.0 = rest;
        Some((tag, content, whole))
    }

    /// The content of the next element, which must have `tag`.
    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.next().and_then(|(t, content, _)| (t == tag).then_some(content))
    }

    /// The whole next element (tag and length included), which must have `tag`.
    fn expect_whole(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.next().and_then(|(t, _, whole)| (t == tag).then_some(whole))
    }

    /// The content of the next element if it has `tag` (`Some(None)` if another follows or
    /// nothing does; `None` if it has `tag` but is malformed).
    fn optional(&mut self, tag: u8) -> Option<Option<&'a [u8]>> {
        if self.0.first() == Some(&tag) { self.next().map(|(_, content, _)| Some(content)) } else { Some(None) }
    }
}

/// The parts of a certificate the check reads, borrowed from its DER.
struct CertView<'a> {
    /// The serial's DER content (two's complement, possibly with a leading zero).
    serial: &'a [u8],
    /// The whole DER subject name.
    subject: &'a [u8],
    /// The whole DER SubjectPublicKeyInfo.
    spki: &'a [u8],
    /// The first http `fullName` URI of its CRL distribution points.
    crl_url: Option<&'a str>,
}

impl<'a> CertView<'a> {
    /// Reads a DER certificate; `None` if it is malformed, including its distribution points.
    fn read(der: &'a [u8]) -> Option<Self> {
        let mut outer = Der(der);
        let mut cert = Der(outer.expect(SEQUENCE)?);
        let mut tbs = Der(cert.expect(SEQUENCE)?);
        tbs.optional(constructed(0))?; // version
        let serial = tbs.expect(INTEGER)?;
        tbs.expect(SEQUENCE)?; // signature
        tbs.expect(SEQUENCE)?; // issuer
        tbs.expect(SEQUENCE)?; // validity
        let subject = tbs.expect_whole(SEQUENCE)?;
        let spki = tbs.expect_whole(SEQUENCE)?;
        tbs.optional(primitive(1))?; // issuerUniqueID
        tbs.optional(primitive(2))?; // subjectUniqueID
        let mut crl_url = None;
        if let Some(extensions) = tbs.optional(constructed(3))? {
            let mut list = Der(Der(extensions).expect(SEQUENCE)?);
            while !list.is_empty() {
                let mut extension = Der(list.expect(SEQUENCE)?);
                let oid = extension.expect(OID)?;
                extension.optional(BOOLEAN)?;
                let value = extension.expect(OCTET_STRING)?;
                if oid == CRL_DISTRIBUTION_POINTS {
                    crl_url = first_http_url(value)?;
                }
            }
        }
        Some(Self { serial, subject, spki, crl_url })
    }
}

/// The first `http://` URI among the distribution points' full names, skipping distribution
/// points with a `cRLIssuer`; `None` if the extension is malformed.
fn first_http_url(value: &[u8]) -> Option<Option<&str>> {
    // CRLDistributionPoints ::= SEQUENCE OF DistributionPoint
    let mut points = Der(Der(value).expect(SEQUENCE)?);
    while !points.is_empty() {
        // DistributionPoint ::= SEQUENCE { distributionPoint [0], reasons [1], cRLIssuer [2] }
        let mut point = Der(points.expect(SEQUENCE)?);
        let name = point.optional(constructed(0))?;
        point.optional(primitive(1))?;
        let crl_issuer = point.optional(constructed(2))?;
        if !point.is_empty() {
            return None;
        }
        let (Some(name), None) = (name, crl_issuer) else { continue };
        // DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] }
        let Some(full_name) = Der(name).optional(constructed(0))? else { continue };
        let mut names = Der(full_name);
        while !names.is_empty() {
            let (tag, content, _) = names.next()?;
            // uniformResourceIdentifier [6] IA5String
            if tag == primitive(6)
                && let Ok(uri) = std::str::from_utf8(content)
                && uri.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
            {
                return Some(Some(uri));
            }
        }
    }
    Some(None)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use axum::extract::{Path as UrlPath, State as Shared};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse as _, Response};
    use rcgen::{
        BasicConstraints, CertificateParams, CrlDistributionPoint, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
        SerialNumber,
    };
    use time::Duration;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::sync::watch;

    use super::*;

    /// A CA made with rcgen whose CRLs the openssl binary signs (`openssl ca -gencrl`).
    struct TestCa {
        dir: PathBuf,
        der: Vec<u8>,
        issuer: Issuer<'static, KeyPair>,
    }

    impl TestCa {
        /// A self-signed CA named `cn`, its files in `base/<dir>`.
        fn root(base: &Path, dir: &str, cn: &str) -> Self {
            Self::new(base, dir, cn, None, None)
        }

        /// A CA signed by this one, with a distribution point `cdp`.
        fn intermediate(&self, base: &Path, cn: &str, cdp: &str) -> Self {
            Self::new(base, cn, cn, Some(self), Some(cdp))
        }

        fn new(base: &Path, dir: &str, cn: &str, parent: Option<&TestCa>, cdp: Option<&str>) -> Self {
            let dir = base.join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::default();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            if let Some(url) = cdp {
                p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![url.to_string()] }];
            }
            let cert = match parent {
                Some(parent) => p.signed_by(&key, &parent.issuer).unwrap(),
                None => p.self_signed(&key).unwrap(),
            };
            std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
            std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
            std::fs::write(dir.join("index.txt"), "").unwrap();
            std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
            std::fs::write(
                dir.join("ca.cnf"),
                "[ ca ]\ndefault_ca = d\n[ d ]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\n",
            )
            .unwrap();
            TestCa { dir, der: cert.der().to_vec(), issuer: Issuer::new(p, key) }
        }

        /// A device certificate with serial `serial` and the distribution points `cdps`.
        fn leaf(&self, cn: &str, serial: &[u8], cdps: &[&str]) -> Vec<u8> {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::default();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.is_ca = IsCa::ExplicitNoCa;
            p.serial_number = Some(SerialNumber::from(serial.to_vec()));
            if !cdps.is_empty() {
                p.crl_distribution_points =
                    vec![CrlDistributionPoint { uris: cdps.iter().map(|u| u.to_string()).collect() }];
            }
            p.signed_by(&key, &self.issuer).unwrap().der().to_vec()
        }

        /// Marks `serial_hex` revoked on 2024-01-02 03:04:05 UTC in the CA's database.
        fn revoke(&self, serial_hex: &str) {
            use std::io::Write as _;
            let mut index = std::fs::OpenOptions::new().append(true).open(self.dir.join("index.txt")).unwrap();
            writeln!(index, "R\t300101000000Z\t240102030405Z\t{}\tunknown\t/CN=x", serial_hex.to_uppercase()).unwrap();
        }

        /// A CRL valid for `hours` from now, made by `openssl ca -gencrl`, in DER.
        fn crl(&self, hours: u32) -> Vec<u8> {
            openssl(
                &self.dir,
                &[
                    "ca",
                    "-gencrl",
                    "-config",
                    "ca.cnf",
                    "-keyfile",
                    "key.pem",
                    "-cert",
                    "cert.pem",
                    "-crlhours",
                    &hours.to_string(),
                    "-out",
                    "crl.pem",
                ],
            );
            openssl(&self.dir, &["crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der"]);
            std::fs::read(self.dir.join("crl.der")).unwrap()
        }

        fn crl_pem(&self) -> Vec<u8> {
            self.crl(24);
            std::fs::read(self.dir.join("crl.pem")).unwrap()
        }
    }

    fn openssl(dir: &Path, args: &[&str]) {
        let out = Command::new("openssl").args(args).current_dir(dir).output().expect("the openssl binary");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A test HTTP server for CRLs: serves what `put` stored under `/<name>`, counts requests
    /// per name, and holds answers while its gate is closed.
    #[derive(Clone)]
    struct Site {
        base: String,
        inner: Arc<SiteInner>,
    }

    struct SiteInner {
        files: Mutex<HashMap<String, (u16, Vec<u8>)>>,
        hits: Mutex<HashMap<String, usize>>,
        gate: watch::Receiver<bool>,
        open: watch::Sender<bool>,
    }

    impl Site {
        async fn start() -> Site {
            let (open, gate) = watch::channel(true);
            let inner =
                Arc::new(SiteInner { files: Mutex::new(HashMap::new()), hits: Mutex::new(HashMap::new()), gate, open });
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let router = axum::Router::new()
                .route("/{name}", axum::routing::get(serve))
                .route("/r/{hops}/{name}", axum::routing::get(redirect))
                .with_state(Arc::clone(&inner));
            tokio::spawn(async move { axum::serve(listener, router).await });
            Site { base, inner }
        }

        fn url(&self, name: &str) -> String {
            format!("{}/{name}", self.base)
        }

        fn put(&self, name: &str, body: Vec<u8>) {
            self.inner.files.lock().unwrap().insert(name.into(), (200, body));
        }

        fn hits(&self, name: &str) -> usize {
            self.inner.hits.lock().unwrap().get(name).copied().unwrap_or(0)
        }

        fn hold(&self, held: bool) {
            self.inner.open.send_replace(!held);
        }
    }

    async fn serve(Shared(site): Shared<Arc<SiteInner>>, UrlPath(name): UrlPath<String>) -> Response {
        *site.hits.lock().unwrap().entry(name.clone()).or_default() += 1;
        let mut gate = site.gate.clone();
        let _ = gate.wait_for(|open| *open).await;
        let file = site.files.lock().unwrap().get(&name).cloned();
        match file {
            Some((status, body)) => (
                StatusCode::from_u16(status).unwrap(),
                [(axum::http::header::CONTENT_TYPE, "application/pkix-crl")],
                body,
            )
                .into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }

    /// `/r/<n>/<name>` reaches `/<name>` after `n` redirects.
    async fn redirect(UrlPath((hops, name)): UrlPath<(u32, String)>) -> Response {
        let next = if hops <= 1 { format!("/{name}") } else { format!("/r/{}/{name}", hops - 1) };
        (StatusCode::FOUND, [(axum::http::header::LOCATION, next)]).into_response()
    }

    /// A server that answers every request with `response` and keeps the connection open (an
    /// empty `response`: a server that accepts connections and never answers).
    async fn raw_server(response: Vec<u8>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                if !response.is_empty() {
                    // The request head first: a client takes an answer before its request amiss.
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(n) if n > 0 => head.extend_from_slice(&buf[..n]),
                            _ => break,
                        }
                    }
                    let _ = stream.write_all(&response).await;
                }
                held.push(stream);
            }
        });
        base
    }

    /// A loopback port nobody listens on.
    fn closed_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// A root with a device certificate (serial `0a 01`) whose CRL is at `<site>/root.crl`.
    struct OneLevel {
        _dir: tempfile::TempDir,
        root: TestCa,
        leaf: Vec<u8>,
    }

    impl OneLevel {
        fn new(cdp: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let root = TestCa::root(dir.path(), "root", "Test Root");
            let leaf = root.leaf("dev-1", &[0x0a, 0x01], &[cdp]);
            OneLevel { _dir: dir, root, leaf }
        }

        fn path(&self) -> [&[u8]; 2] {
            [&self.leaf, &self.root.der]
        }
    }

    /// How many entries and serials `check` keeps.
    fn cached(check: &OnlineRevocation) -> (usize, usize) {
        let cache = check.lock();
        (cache.entries.len(), cache.serials)
    }

    fn unknown_why(v: &Verdict) -> &Unknown {
        match v {
            Verdict::Unknown { why, .. } => why,
            other => panic!("expected Unknown, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn revoked_leaf_is_found_and_described() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        pki.root.revoke("0A01");
        site.put("root.crl", pki.root.crl(24));
        let check = OnlineRevocation::new(Limits::default());
        let verdict = check.check(&pki.path(), now()).await;
        assert_eq!(
            verdict,
            Verdict::Revoked {
                subject: "CN=dev-1".into(),
                serial_hex: "a01".into(),
                url: site.url("root.crl"),
                revocation_date: Some("2024-01-02T03:04:05.000Z".into()),
            }
        );
        assert_eq!(
            verdict.to_string(),
            format!(
                "the certificate CN=dev-1 serial a01 was revoked on 2024-01-02T03:04:05.000Z (CRL at {})",
                site.url("root.crl")
            )
        );
    }

    #[tokio::test]
    async fn a_certificate_not_listed_is_good() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        pki.root.revoke("0A02");
        pki.root.revoke("01");
        site.put("root.crl", pki.root.crl(24));
        let check = OnlineRevocation::new(Limits::default());
        assert_eq!(check.check(&pki.path(), now()).await, Verdict::Good);
        assert_eq!(site.hits("root.crl"), 1);
    }

    #[tokio::test]
    async fn serials_compare_by_magnitude() {
        // The certificate's DER serial is 00 80 01 (a leading zero keeps it positive); the
        // index line says 8001.
        let site = Site::start().await;
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        let leaf = root.leaf("dev-2", &[0x80, 0x01], &[&site.url("root.crl")]);
        assert!(CertView::read(&leaf).unwrap().serial.starts_with(&[0x00, 0x80]));
        root.revoke("8001");
        site.put("root.crl", root.crl(24));
        let verdict = OnlineRevocation::new(Limits::default()).check(&[&leaf, &root.der], now()).await;
        assert!(matches!(&verdict, Verdict::Revoked { serial_hex, .. } if serial_hex == "8001"), "{verdict:?}");
    }

    #[tokio::test]
    async fn a_revoked_intermediate_is_found_with_its_own_distribution_point() {
        let site = Site::start().await;
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        let int = root.intermediate(dir.path(), "Test Intermediate", &site.url("root.crl"));
        let leaf = int.leaf("dev-3", &[0x42], &[&site.url("int.crl")]);
        site.put("int.crl", int.crl(24));
        site.put("root.crl", root.crl(24));
        let path: [&[u8]; 3] = [&leaf, &int.der, &root.der];

        let check = OnlineRevocation::new(Limits::default());
        assert_eq!(check.check(&path, now()).await, Verdict::Good);
        assert_eq!((site.hits("int.crl"), site.hits("root.crl")), (1, 1));

        let int_serial = anchorage_common::crl::serial_hex(CertView::read(&int.der).unwrap().serial);
        root.revoke(&format!("{int_serial:0>width$}", width = int_serial.len() + int_serial.len() % 2));
        site.put("root.crl", root.crl(24));
        let fresh = OnlineRevocation::new(Limits::default());
        let verdict = fresh.check(&path, now()).await;
        match &verdict {
            Verdict::Revoked { subject, serial_hex, url, .. } => {
                assert_eq!(subject, "CN=Test Intermediate");
                assert_eq!(serial_hex, &int_serial);
                assert_eq!(url, &site.url("root.crl"));
            }
            other => panic!("expected the intermediate revoked, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn revoked_beats_unknown_along_the_chain() {
        let site = Site::start().await;
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        let int = root.intermediate(dir.path(), "Test Intermediate", &site.url("root.crl"));
        let leaf = int.leaf("dev-4", &[0x43], &[&site.url("missing.crl")]);
        root.revoke(&hex::encode(magnitude(CertView::read(&int.der).unwrap().serial)));
        site.put("root.crl", root.crl(24));
        let verdict = OnlineRevocation::new(Limits::default()).check(&[&leaf, &int.der, &root.der], now()).await;
        assert!(
            matches!(&verdict, Verdict::Revoked { subject, .. } if subject == "CN=Test Intermediate"),
            "{verdict:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_distribution_point_is_unknown() {
        let url = format!("http://127.0.0.1:{}/root.crl", closed_port());
        let pki = OneLevel::new(&url);
        let verdict = OnlineRevocation::new(Limits::default()).check(&pki.path(), now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::Unreachable("connection refused".into()));
        assert_eq!(
            verdict.to_string(),
            format!("the CRL at {url} could not be fetched: connection refused (checking CN=dev-1)")
        );
    }

    #[tokio::test]
    async fn an_http_error_is_unknown() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        let verdict = OnlineRevocation::new(Limits::default()).check(&pki.path(), now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::HttpStatus(404));
        assert!(verdict.to_string().contains("could not be fetched: the server answered HTTP status 404"), "{verdict}");
    }

    #[tokio::test]
    async fn an_expired_crl_is_unknown() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        site.put("root.crl", pki.root.crl(1));
        let check = OnlineRevocation::new(Limits::default());
        assert_eq!(check.check(&pki.path(), now()).await, Verdict::Good);
        let later = now() + Duration::hours(2);
        let verdict = OnlineRevocation::new(Limits::default()).check(&pki.path(), later).await;
        let Unknown::Expired { next_update } = unknown_why(&verdict) else { panic!("{verdict:?}") };
        let next = timefmt::parse(next_update).unwrap();
        assert!(next > now() + Duration::minutes(50) && next < later, "{next_update}");
        assert!(verdict.to_string().contains(&format!("expired on {next_update}")), "{verdict}");
    }

    #[tokio::test]
    async fn a_crl_signed_by_another_key_is_refused() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        let dir = tempfile::tempdir().unwrap();
        // Same name, another key.
        let impostor = TestCa::root(dir.path(), "impostor", "Test Root");
        impostor.revoke("0A01");
        site.put("root.crl", impostor.crl(24));
        let verdict = OnlineRevocation::new(Limits::default()).check(&pki.path(), now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::BadSignature { issuer: "CN=Test Root".into() });
        assert!(verdict.to_string().contains("is not signed by the issuer CN=Test Root"), "{verdict}");
    }

    #[tokio::test]
    async fn a_crl_of_another_issuer_is_refused() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        let dir = tempfile::tempdir().unwrap();
        let other = TestCa::root(dir.path(), "other", "Other Root");
        site.put("root.crl", other.crl(24));
        let verdict = OnlineRevocation::new(Limits::default()).check(&pki.path(), now()).await;
        assert_eq!(
            unknown_why(&verdict),
            &Unknown::WrongIssuer { issuer: "CN=Test Root".into(), crl_issuer: "CN=Other Root".into() }
        );
    }

    #[tokio::test]
    async fn a_pem_crl_is_accepted_and_garbage_is_unreadable() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        pki.root.revoke("0A01");
        site.put("root.crl", pki.root.crl_pem());
        let verdict = OnlineRevocation::new(Limits::default()).check(&pki.path(), now()).await;
        assert!(matches!(verdict, Verdict::Revoked { .. }), "{verdict:?}");

        site.put("root.crl", b"<html>not a CRL</html>".to_vec());
        let verdict = OnlineRevocation::new(Limits::default()).check(&pki.path(), now()).await;
        assert!(matches!(unknown_why(&verdict), Unknown::Unreadable(_)), "{verdict:?}");
    }

    #[tokio::test]
    async fn an_oversized_crl_is_refused() {
        let limits = Limits { max_bytes: 1000, ..Limits::default() };
        // Announced by Content-Length.
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        for serial in 1..100 {
            pki.root.revoke(&format!("{serial:04X}"));
        }
        let crl = pki.root.crl(24);
        assert!(crl.len() > 1000);
        site.put("root.crl", crl);
        let verdict = OnlineRevocation::new(limits.clone()).check(&pki.path(), now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::TooLarge);

        // Streamed without a length.
        let mut chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..3 {
            chunked.extend_from_slice(b"258\r\n");
            chunked.extend_from_slice(&[0x30; 600]);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let base = raw_server(chunked).await;
        let pki = OneLevel::new(&format!("{base}/root.crl"));
        let verdict = OnlineRevocation::new(limits.clone()).check(&pki.path(), now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::TooLarge);

        // A Content-Length beyond the limit is refused before any body arrives (none will).
        let base = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n".to_vec()).await;
        let pki = OneLevel::new(&format!("{base}/root.crl"));
        let patient = Limits { timeout: std::time::Duration::from_secs(10), ..limits };
        let verdict = OnlineRevocation::new(patient).check(&pki.path(), now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::TooLarge);
    }

    #[tokio::test]
    async fn at_most_two_redirects_are_followed() {
        let site = Site::start().await;
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        root.revoke("0A01");
        site.put("root.crl", root.crl(24));
        let check = OnlineRevocation::new(Limits::default());
        let two = root.leaf("dev-1", &[0x0a, 0x01], &[&site.url("r/2/root.crl")]);
        assert!(matches!(check.check(&[&two, &root.der], now()).await, Verdict::Revoked { .. }));
        let three = root.leaf("dev-1", &[0x0a, 0x01], &[&site.url("r/3/root.crl")]);
        let verdict = check.check(&[&three, &root.der], now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::Unreachable("more than 2 redirects".into()));
        assert_eq!(site.hits("root.crl"), 1);
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let base = raw_server(Vec::new()).await;
        let pki = OneLevel::new(&format!("{base}/root.crl"));
        let limits = Limits { timeout: std::time::Duration::from_millis(300), ..Limits::default() };
        let started = std::time::Instant::now();
        let verdict = OnlineRevocation::new(limits).check(&pki.path(), now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::Timeout);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_verified_crl_is_cached_until_it_is_due() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        pki.root.revoke("0A01");
        site.put("root.crl", pki.root.crl(24));
        let check = OnlineRevocation::new(Limits::default());
        let t0 = now();
        assert!(matches!(check.check(&pki.path(), t0).await, Verdict::Revoked { .. }));
        assert!(matches!(check.check(&pki.path(), t0 + Duration::minutes(59)).await, Verdict::Revoked { .. }));
        assert_eq!(site.hits("root.crl"), 1, "the second check uses the cache");

        // default_ttl (1 h) bounds a CRL valid for a day: fetched again.
        assert!(matches!(check.check(&pki.path(), t0 + Duration::minutes(61)).await, Verdict::Revoked { .. }));
        assert_eq!(site.hits("root.crl"), 2);

        // nextUpdate bounds it when sooner than default_ttl.
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        site.put("root.crl", pki.root.crl(1));
        let check = OnlineRevocation::new(Limits { default_ttl: Duration::days(1), ..Limits::default() });
        assert_eq!(check.check(&pki.path(), t0).await, Verdict::Good);
        assert_eq!(check.check(&pki.path(), t0 + Duration::minutes(50)).await, Verdict::Good);
        assert_eq!(site.hits("root.crl"), 1);
        site.put("root.crl", pki.root.crl(48));
        assert_eq!(check.check(&pki.path(), t0 + Duration::minutes(70)).await, Verdict::Good);
        assert_eq!(site.hits("root.crl"), 2);
    }

    #[tokio::test]
    async fn failures_are_cached_for_the_failure_ttl() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        let check = OnlineRevocation::new(Limits::default());
        let t0 = now();
        assert_eq!(unknown_why(&check.check(&pki.path(), t0).await), &Unknown::HttpStatus(404));
        site.put("root.crl", pki.root.crl(24));
        assert_eq!(unknown_why(&check.check(&pki.path(), t0 + Duration::seconds(29)).await), &Unknown::HttpStatus(404));
        assert_eq!(site.hits("root.crl"), 1, "the failure is remembered");
        assert_eq!(check.check(&pki.path(), t0 + Duration::seconds(31)).await, Verdict::Good);
        assert_eq!(site.hits("root.crl"), 2);

        // An expired CRL is retried after failure_ttl too, not on every check.
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        site.put("root.crl", pki.root.crl(1));
        let later = t0 + Duration::hours(3);
        assert!(matches!(unknown_why(&check.check(&pki.path(), later).await), Unknown::Expired { .. }));
        assert!(matches!(
            unknown_why(&check.check(&pki.path(), later + Duration::seconds(10)).await),
            Unknown::Expired { .. }
        ));
        assert_eq!(site.hits("root.crl"), 1);
    }

    #[tokio::test]
    async fn concurrent_checks_share_one_download() {
        let site = Site::start().await;
        let pki = Arc::new(OneLevel::new(&site.url("root.crl")));
        pki.root.revoke("0A01");
        site.put("root.crl", pki.root.crl(24));
        site.hold(true);
        let check = Arc::new(OnlineRevocation::new(Limits::default()));
        let t0 = now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (check, pki) = (Arc::clone(&check), Arc::clone(&pki));
                tokio::spawn(async move { check.check(&pki.path(), t0).await })
            })
            .collect();
        // Wait for the first request to arrive, then give the others as long again to arrive.
        let started = std::time::Instant::now();
        while site.hits("root.crl") == 0 && started.elapsed() < std::time::Duration::from_secs(10) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        tokio::time::sleep(started.elapsed() + std::time::Duration::from_millis(50)).await;
        site.hold(false);
        for task in tasks {
            assert!(matches!(task.await.unwrap(), Verdict::Revoked { .. }));
        }
        assert_eq!(site.hits("root.crl"), 1);
    }

    #[tokio::test]
    async fn a_cached_crl_serves_only_the_issuer_key_it_was_verified_with() {
        let site = Site::start().await;
        let dir = tempfile::tempdir().unwrap();
        let url = site.url("shared.crl");
        let real = TestCa::root(dir.path(), "real", "Shared Root");
        let impostor = TestCa::root(dir.path(), "impostor", "Shared Root");
        let good_leaf = real.leaf("dev-5", &[0x05], &[&url]);
        let other_leaf = impostor.leaf("dev-6", &[0x06], &[&url]);
        site.put("shared.crl", real.crl(24));
        let check = OnlineRevocation::new(Limits::default());
        assert_eq!(check.check(&[&good_leaf, &real.der], now()).await, Verdict::Good);
        let verdict = check.check(&[&other_leaf, &impostor.der], now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::BadSignature { issuer: "CN=Shared Root".into() });
        assert_eq!(site.hits("shared.crl"), 2);
    }

    #[tokio::test]
    async fn the_cache_is_bounded() {
        let site = Site::start().await;
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        let crl = root.crl(24);
        let leaves: Vec<Vec<u8>> = (0..3u8)
            .map(|i| {
                let name = format!("{i}.crl");
                site.put(&name, crl.clone());
                root.leaf("dev", &[0x10 + i], &[&site.url(&name)])
            })
            .collect();
        let check = OnlineRevocation::new(Limits { max_cached: 2, ..Limits::default() });
        let t0 = now();
        for (i, leaf) in leaves.iter().enumerate() {
            let at = t0 + Duration::seconds(i64::try_from(i).unwrap());
            assert_eq!(check.check(&[leaf, &root.der], at).await, Verdict::Good);
        }
        assert_eq!(check.lock().entries.len(), 2);
        // All three CRLs expire at the same time; the oldest entry went.
        assert_eq!(check.check(&[&leaves[2], &root.der], t0 + Duration::seconds(5)).await, Verdict::Good);
        assert_eq!(site.hits("2.crl"), 1);
        assert_eq!(check.check(&[&leaves[0], &root.der], t0 + Duration::seconds(5)).await, Verdict::Good);
        assert_eq!(site.hits("0.crl"), 2);
    }

    #[tokio::test]
    async fn the_cache_is_bounded_by_its_serial_budget() {
        let site = Site::start().await;
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        for serial in ["0A01", "0A02", "0A03"] {
            root.revoke(serial);
        }
        let crl = root.crl(24);
        let leaves: Vec<Vec<u8>> = ["a.crl", "b.crl"]
            .iter()
            .map(|name| {
                site.put(name, crl.clone());
                root.leaf("dev", &[0x0a, 0x01], &[&site.url(name)])
            })
            .collect();
        let check = OnlineRevocation::new(Limits { max_cached_serials: 5, ..Limits::default() });
        let t0 = now();
        assert!(matches!(check.check(&[&leaves[0], &root.der], t0).await, Verdict::Revoked { .. }));
        assert_eq!(cached(&check), (1, 3));
        // 3 + 3 > 5: the entry that expires soonest (a.crl, kept a second earlier) makes room.
        let t1 = t0 + Duration::seconds(1);
        assert!(matches!(check.check(&[&leaves[1], &root.der], t1).await, Verdict::Revoked { .. }));
        assert_eq!(cached(&check), (1, 3));
        assert!(check.lock().entries.contains_key(site.url("b.crl").as_str()));
        assert!(matches!(check.check(&[&leaves[1], &root.der], t1).await, Verdict::Revoked { .. }));
        assert_eq!(site.hits("b.crl"), 1, "b.crl is cached");
        assert!(matches!(check.check(&[&leaves[0], &root.der], t1).await, Verdict::Revoked { .. }));
        assert_eq!(site.hits("a.crl"), 2, "a.crl was evicted");
        assert_eq!(cached(&check), (1, 3));

        // A CRL larger than the whole budget serves its check and is not kept.
        let small = OnlineRevocation::new(Limits { max_cached_serials: 2, ..Limits::default() });
        for round in 1..=2 {
            let verdict = small.check(&[&leaves[0], &root.der], t1).await;
            assert!(matches!(verdict, Verdict::Revoked { ref serial_hex, .. } if serial_hex == "a01"), "{verdict:?}");
            assert_eq!(cached(&small), (0, 0));
            assert_eq!(site.hits("a.crl"), 2 + round);
        }
        // Failures cost no serials.
        let failing = root.leaf("dev", &[0x0b], &[&site.url("missing.crl")]);
        assert_eq!(unknown_why(&small.check(&[&failing, &root.der], t1).await), &Unknown::HttpStatus(404));
        assert_eq!(cached(&small), (1, 0));
    }

    #[tokio::test]
    async fn downloads_wait_for_a_free_slot_within_the_timeout() {
        let site = Site::start().await;
        let pki = OneLevel::new(&site.url("root.crl"));
        pki.root.revoke("0A01");
        site.put("root.crl", pki.root.crl(24));
        let limits =
            Limits { max_concurrent_fetches: 1, timeout: std::time::Duration::from_millis(300), ..Limits::default() };
        let check = OnlineRevocation::new(limits);
        let busy = check.downloads.acquire().await.unwrap();
        let started = std::time::Instant::now();
        let verdict = check.check(&pki.path(), now()).await;
        assert_eq!(unknown_why(&verdict), &Unknown::Unreachable("too many CRL downloads at once".into()));
        assert!(verdict.to_string().contains("could not be fetched: too many CRL downloads at once"), "{verdict}");
        assert!(started.elapsed() >= std::time::Duration::from_millis(300));
        assert_eq!(site.hits("root.crl"), 0);
        assert!(check.lock().entries.is_empty(), "not the distribution point's fault: not kept");
        drop(busy);
        assert!(matches!(check.check(&pki.path(), now()).await, Verdict::Revoked { .. }));
        assert_eq!(site.hits("root.crl"), 1);

        // Two distinct URLs with one slot: the second download starts when the first ends.
        let site = Site::start().await;
        let dir = tempfile::tempdir().unwrap();
        let root = Arc::new(TestCa::root(dir.path(), "root", "Test Root"));
        site.put("a.crl", root.crl(24));
        site.put("b.crl", root.crl(24));
        let leaf_a = root.leaf("dev-a", &[0x0a], &[&site.url("a.crl")]);
        let leaf_b = root.leaf("dev-b", &[0x0b], &[&site.url("b.crl")]);
        let limits =
            Limits { max_concurrent_fetches: 1, timeout: std::time::Duration::from_secs(20), ..Limits::default() };
        let check = Arc::new(OnlineRevocation::new(limits));
        site.hold(true);
        let spawn = |leaf: Vec<u8>| {
            let (check, root) = (Arc::clone(&check), Arc::clone(&root));
            tokio::spawn(async move { check.check(&[&leaf, &root.der], now()).await })
        };
        let a = spawn(leaf_a);
        let waited = std::time::Instant::now();
        while site.hits("a.crl") == 0 && waited.elapsed() < std::time::Duration::from_secs(10) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let b = spawn(leaf_b);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!((site.hits("a.crl"), site.hits("b.crl")), (1, 0), "b waits for the slot");
        site.hold(false);
        assert_eq!(a.await.unwrap(), Verdict::Good);
        assert_eq!(b.await.unwrap(), Verdict::Good);
        assert_eq!(site.hits("b.crl"), 1);
    }

    #[test]
    fn revoked_sets_find_serials_by_magnitude_of_any_length() {
        let date = |s: i64| OffsetDateTime::from_unix_timestamp(s).unwrap();
        let long = [0x7fu8; 25];
        let entries: Vec<(&[u8], OffsetDateTime)> = vec![
            (&[0x0a, 0x01], date(1)),
            (&long, date(2)),
            (&[0xff; 20], date(3)),
            (&[0x0a, 0x01], date(4)),
            (&[], date(5)),
        ];
        let set = RevokedSet::new(entries.into_iter(), 5, None);
        assert_eq!(set.len(), 4, "a serial listed twice counts once");
        assert_eq!(set.get(&[0x0a, 0x01]), Some(date(1)), "the first entry of a serial listed twice");
        assert_eq!(set.get(&long), Some(date(2)));
        assert_eq!(set.get(&[0x7f; 24]), None);
        assert_eq!(set.get(&[0xff; 20]), Some(date(3)));
        assert_eq!(set.get(&[]), Some(date(5)));
        assert_eq!(set.get(&[0x01, 0x0a]), None);
        assert_eq!(set.get(&[0x0a]), None);
        assert!(std::mem::size_of::<(ShortSerial, OffsetDateTime)>() <= 36);
    }

    #[tokio::test]
    async fn certificates_without_an_http_distribution_point_are_not_checked() {
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        let check = OnlineRevocation::new(Limits::default());
        let none = root.leaf("dev-7", &[0x07], &[]);
        assert_eq!(check.check(&[&none, &root.der], now()).await, Verdict::Good);
        let ldap = root.leaf("dev-8", &[0x08], &["ldap://ldap.example/cn=Test%20Root?certificateRevocationList"]);
        assert_eq!(check.check(&[&ldap, &root.der], now()).await, Verdict::Good);
        let port = closed_port();
        let second = root.leaf("dev-9", &[0x09], &["ldap://ldap.example/x", &format!("http://127.0.0.1:{port}/x.crl")]);
        assert_eq!(CertView::read(&second).unwrap().crl_url, Some(format!("http://127.0.0.1:{port}/x.crl").as_str()));
        assert_eq!(check.check(&[&root.der], now()).await, Verdict::Good);
        assert_eq!(check.check(&[], now()).await, Verdict::Good);
    }

    #[tokio::test]
    async fn unreadable_certificates_are_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        let verdict = OnlineRevocation::new(Limits::default()).check(&[b"garbage", &root.der], now()).await;
        assert!(matches!(unknown_why(&verdict), Unknown::UnreadableCertificate(_)), "{verdict:?}");
    }

    #[test]
    fn hostile_input_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let root = TestCa::root(dir.path(), "root", "Test Root");
        root.revoke("0A01");
        let crl = root.crl(24);
        let leaf = root.leaf("dev", &[1], &["http://127.0.0.1:1/root.crl"]);
        let issuer = CertView::read(&root.der).unwrap();
        assert!(verify_crl(&crl, &issuer).is_ok());
        for cut in 0..crl.len() {
            assert!(verify_crl(&crl[..cut], &issuer).is_err(), "prefix {cut}");
        }
        for i in 0..crl.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = crl.clone();
                bad[i] ^= flip;
                let _ = verify_crl(&bad, &issuer);
            }
        }
        for cut in 0..leaf.len() {
            let _ = CertView::read(&leaf[..cut]);
        }
        for i in 0..leaf.len() {
            let mut bad = leaf.clone();
            bad[i] ^= 0xff;
            if let Some(view) = CertView::read(&bad) {
                let _ = (name_text(view.subject), anchorage_common::crl::serial_hex(view.serial));
            }
        }
        let _ = verify_crl(b"-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n", &issuer);
        let _ = verify_crl(b"-----BEGIN X509 CRL-----\nMIIB", &issuer);
        let _ = verify_crl(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &issuer);
        let _ = verify_crl(&[0x30, 0x80, 0, 0], &issuer);
    }

    #[test]
    fn the_checker_is_shareable_and_its_check_is_send() {
        fn shareable<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: T) {}
        let check = OnlineRevocation::new(Limits::default());
        shareable(&check);
        send(check.check(&[], OffsetDateTime::UNIX_EPOCH));
    }
}
