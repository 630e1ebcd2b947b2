//! Failed-login throttling. The policy (docs/decisions.md, "Login throttling"):
//!
//! - **Per account and address** (`tenant/user` from one client address): [`FREE_FAILURES`]
//!   failures are free, then each further attempt must wait a growing delay (1 s, 2 s, 4 s, …
//!   up to [`MAX_DELAY`]) and is answered 429 with `Retry-After` until then. This is what stops
//!   a guesser; it touches nobody else.
//! - **Per address** (any account): [`FREE_ADDRESS_FAILURES`] failures, then the same delays, so
//!   that one address cannot spray passwords over many accounts.
//! - **Per account** (from every address together): never a refusal, only a slowdown of the
//!   attempt itself, growing with the account's recent failures up to [`MAX_ACCOUNT_SLOWDOWN`].
//!   A distributed guesser is slowed, and the account's owner, from an address that has not
//!   failed, still logs in with the right password: someone else's failures never lock them out.
//!
//! Each attempt is counted as a failure when it passes the gate, before its password is checked
//! (and given back if it succeeds): attempts sent in parallel cannot all slip through before the
//! first failure is counted. Credentials verified a moment ago (a client sending Basic on every
//! call) skip the gate altogether: no guessing is going on.
//!
//! The same answer is given whether the user exists or not. A success forgets the failures of
//! its account and address together (not the address's own count). Entries are kept in memory
//! per instance under a SHA-256 of what they count (so a long user name costs nothing), at most
//! [`MAX_KEYS`]; when full, new keys share one bucket. Time comes from the server's injected
//! clock. The client address is the TCP peer's, or the one a trusted reverse proxy reports
//! (`--trusted-proxy`).

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// Failures of one account from one address allowed before delays start.
pub const FREE_FAILURES: u32 = 5;
/// Failures from one address (any accounts) before delays start.
pub const FREE_ADDRESS_FAILURES: u32 = 20;
/// Longest delay.
pub const MAX_DELAY: Duration = Duration::minutes(15);
/// Failures of one account (from anywhere) before its attempts are slowed.
pub const FREE_ACCOUNT_FAILURES: u32 = 10;
/// Longest slowdown of one attempt.
pub const MAX_ACCOUNT_SLOWDOWN: std::time::Duration = std::time::Duration::from_secs(2);
/// Entries idle this long are forgotten.
const FORGET_AFTER: Duration = Duration::hours(1);
/// Most keys remembered; beyond, idle ones are dropped first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: OffsetDateTime,
}

impl Entry {
    fn allowed_at(&self, free: u32) -> OffsetDateTime {
        if self.failures < free {
            return self.last_failure;
        }
        let exp = (self.failures - free).min(20);
        let delay = Duration::seconds(1_i64 << exp).min(MAX_DELAY);
        self.last_failure + delay
    }
}

/// A key: SHA-256 of what it counts.
type Key = [u8; 32];

fn key(parts: &[&str]) -> Key {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

/// The key every new key shares when the table is full.
const SHARED: Key = [0; 32];

/// The keys one login attempt is counted under.
#[derive(Debug, Clone)]
pub struct Keys {
    account: Key,
    account_address: Option<Key>,
    address: Option<Key>,
}

/// The keys of an attempt to log in as `user` of `tenant` from `address`.
pub fn keys(tenant: &str, user: &str, address: Option<&str>) -> Keys {
    let user = user.to_lowercase();
    Keys {
        account_address: address.map(|a| key(&["account@address", tenant, &user, a])),
        address: address.map(|a| key(&["address", a])),
        account: key(&["account", tenant, &user]),
    }
}

/// What an attempt must do before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Refused: wait this long (429 with `Retry-After`).
    Wait(Duration),
    /// Checked after this slowdown (zero: at once).
    Proceed(std::time::Duration),
}

/// Counts failed logins by key.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl LoginLimiter {
    /// Whether the attempt may go on, and after what slowdown. An attempt that may go on is
    /// counted as a failure at once (under the same lock), so parallel attempts see each other;
    /// [`LoginLimiter::succeeded`] gives it back.
    pub fn gate(&self, keys: &Keys, now: OffsetDateTime) -> Gate {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // A key the full table could not hold was counted in the shared bucket.
        let live = |entries: &HashMap<Key, Entry>, k: &Key| {
            let k = if entries.len() >= MAX_KEYS && !entries.contains_key(k) { &SHARED } else { k };
            entries.get(k).filter(|e| now - e.last_failure < FORGET_AFTER).copied()
        };
        let wait = [(&keys.account_address, FREE_FAILURES), (&keys.address, FREE_ADDRESS_FAILURES)]
            .into_iter()
            .filter_map(|(k, free)| k.as_ref().and_then(|k| live(&entries, k)).map(|e| e.allowed_at(free) - now))
            .filter(|d| d.is_positive())
            .max();
        if let Some(wait) = wait {
            return Gate::Wait(wait);
        }
        let account_failures = live(&entries, &keys.account).map_or(0, |e| e.failures);
        count_failure(&mut entries, keys, now);
        Gate::Proceed(slowdown(account_failures))
    }

    /// A success after [`LoginLimiter::gate`]: forgets the failures of the account, and of the
    /// account from this address, and gives the address back the attempt the gate counted (the
    /// address keeps its other failures, so one address cannot reset its guessing by logging in
    /// as itself).
    pub fn succeeded(&self, keys: &Keys) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&keys.account);
        if let Some(k) = &keys.account_address {
            entries.remove(k);
        }
        if let Some(e) = keys.address.as_ref().and_then(|k| entries.get_mut(k)) {
            e.failures = e.failures.saturating_sub(1);
        }
    }

    /// Admits an attempt through [`LoginLimiter::gate`]: refused with 429 and `Retry-After`
    /// (whole seconds, rounded up), or let through after its slowdown.
    pub async fn admit(&self, keys: &Keys, now: OffsetDateTime) -> Result<(), crate::error::AppError> {
        match self.gate(keys, now) {
            Gate::Wait(wait) => {
                let seconds = u64::try_from((wait.whole_milliseconds() + 999) / 1000).unwrap_or(1).max(1);
                Err(crate::error::AppError::TooManyRequests {
                    message: format!("Too many failed logins; try again in {seconds} s."),
                    retry_after_seconds: seconds,
                })
            }
            // An account under attack from elsewhere: slowed, never refused.
            Gate::Proceed(slowdown) => {
                if !slowdown.is_zero() {
                    tokio::time::sleep(slowdown).await;
                }
                Ok(())
            }
        }
    }
}

/// Counts one failure under every key of `keys`.
fn count_failure(entries: &mut HashMap<Key, Entry>, keys: &Keys, now: OffsetDateTime) {
    if entries.len() >= MAX_KEYS {
        entries.retain(|_, e| now - e.last_failure < FORGET_AFTER);
    }
    for k in [Some(&keys.account), keys.account_address.as_ref(), keys.address.as_ref()].into_iter().flatten() {
        // Full: new keys share one bucket (throttled together rather than not at all).
        let k = if entries.len() >= MAX_KEYS && !entries.contains_key(k) { &SHARED } else { k };
        let e = entries.entry(*k).or_insert(Entry { failures: 0, last_failure: now });
        if now - e.last_failure >= FORGET_AFTER {
            e.failures = 0;
        }
        e.failures = e.failures.saturating_add(1);
        e.last_failure = now;
    }
}

/// The slowdown of an attempt on an account with `failures` recent failures: none up to
/// [`FREE_ACCOUNT_FAILURES`], then 100 ms doubling up to [`MAX_ACCOUNT_SLOWDOWN`].
fn slowdown(failures: u32) -> std::time::Duration {
    if failures < FREE_ACCOUNT_FAILURES {
        return std::time::Duration::ZERO;
    }
    let exp = (failures - FREE_ACCOUNT_FAILURES).min(10);
    (std::time::Duration::from_millis(100) * (1 << exp)).min(MAX_ACCOUNT_SLOWDOWN)
}

#[cfg(test)]
impl LoginLimiter {
    /// Counts a failure under every key (what a failed attempt through the gate leaves).
    fn failed(&self, keys: &Keys, now: OffsetDateTime) {
        count_failure(&mut self.entries.lock().unwrap_or_else(|e| e.into_inner()), keys, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(g: Gate) -> Option<Duration> {
        match g {
            Gate::Wait(d) => Some(d),
            Gate::Proceed(_) => None,
        }
    }

    #[test]
    fn delays_grow_per_account_and_address_and_reset_on_success() {
        let l = LoginLimiter::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let k = keys("t", "Admin", Some("10.0.0.1"));
        for _ in 0..FREE_FAILURES - 1 {
            l.failed(&k, t0);
        }
        // The fifth attempt passes, and is counted as it passes.
        assert_eq!(wait(l.gate(&k, t0)), None);
        assert_eq!(wait(l.gate(&k, t0)), Some(Duration::seconds(1)));
        l.failed(&k, t0);
        assert_eq!(wait(l.gate(&k, t0)), Some(Duration::seconds(2)));
        let t2 = t0 + Duration::seconds(2);
        assert_eq!(wait(l.gate(&k, t2)), None);
        // The user's key is case-insensitive; success clears it.
        assert_eq!(wait(l.gate(&keys("t", "admin", Some("10.0.0.1")), t2)), Some(Duration::seconds(4)));
        l.succeeded(&k);
        assert_eq!(wait(l.gate(&k, t2)), None);
        for _ in 0..40 {
            l.failed(&k, t0);
        }
        assert_eq!(wait(l.gate(&k, t0)), Some(MAX_DELAY));
    }

    #[test]
    fn attempts_sent_together_cannot_all_pass_before_their_failures_count() {
        let l = LoginLimiter::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let k = keys("t", "admin", Some("10.0.0.1"));
        // A hundred attempts at once: the gate counts each as it lets it through.
        let passed = (0..100).filter(|_| wait(l.gate(&k, t0)).is_none()).count();
        assert_eq!(passed, FREE_FAILURES as usize);
    }

    #[test]
    fn a_full_table_throttles_new_keys_together_instead_of_not_at_all() {
        let l = LoginLimiter::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for i in 0..MAX_KEYS / 3 + 1 {
            l.failed(&keys("t", &format!("u{i}"), Some(&format!("a{i}"))), t0);
        }
        let fresh = keys("t", "newcomer", Some("198.51.100.77"));
        let passed = (0..100).filter(|_| wait(l.gate(&fresh, t0)).is_none()).count();
        assert!(passed < 100, "a new key beyond the table's size is still throttled");
    }

    #[test]
    fn someone_elses_failures_never_refuse_the_owner_from_another_address() {
        let l = LoginLimiter::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        // An attacker fails a thousand times from each of ten addresses.
        for a in 0..10 {
            let k = keys("t", "admin", Some(&format!("203.0.113.{a}")));
            for _ in 0..1000 {
                l.failed(&k, t0);
            }
            assert!(wait(l.gate(&k, t0)).is_some());
        }
        // The owner, from an address that has not failed: slowed by at most a few seconds.
        let owner = keys("t", "admin", Some("192.0.2.7"));
        assert_eq!(l.gate(&owner, t0), Gate::Proceed(MAX_ACCOUNT_SLOWDOWN));
        // Another user behind the attacker's address (a shared proxy) is not refused either,
        // until the address itself has failed too often.
        let l = LoginLimiter::default();
        let typo = keys("t", "alice", Some("10.0.0.1"));
        for _ in 0..FREE_FAILURES + 3 {
            l.failed(&typo, t0);
        }
        assert!(wait(l.gate(&typo, t0)).is_some());
        assert_eq!(l.gate(&keys("t", "bob", Some("10.0.0.1")), t0), Gate::Proceed(std::time::Duration::ZERO));
    }

    #[test]
    fn one_address_spraying_many_accounts_is_delayed() {
        let l = LoginLimiter::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for u in 0..FREE_ADDRESS_FAILURES {
            l.failed(&keys("t", &format!("user{u}"), Some("198.51.100.1")), t0);
        }
        assert_eq!(wait(l.gate(&keys("t", "someone", Some("198.51.100.1")), t0)), Some(Duration::seconds(1)));
    }

    #[test]
    fn the_account_slowdown_is_bounded() {
        assert_eq!(slowdown(FREE_ACCOUNT_FAILURES - 1), std::time::Duration::ZERO);
        assert_eq!(slowdown(FREE_ACCOUNT_FAILURES), std::time::Duration::from_millis(100));
        assert_eq!(slowdown(u32::MAX), MAX_ACCOUNT_SLOWDOWN);
    }
}
