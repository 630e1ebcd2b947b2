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
//! The same answer is given whether the user exists or not. A success forgets the failures of
//! its account and address together (not the address's own count). Entries are kept in memory
//! per instance, at most [`MAX_KEYS`]; time comes from the server's injected clock. The client
//! address is the TCP peer's, or the one a trusted reverse proxy reports (`--trusted-proxy`).

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

/// The keys one login attempt is counted under.
#[derive(Debug, Clone)]
pub struct Keys {
    account: String,
    account_address: Option<String>,
    address: Option<String>,
}

/// The keys of an attempt to log in as `user` of `tenant` from `address`.
pub fn keys(tenant: &str, user: &str, address: Option<&str>) -> Keys {
    let account = format!("user:{tenant}/{}", user.to_lowercase());
    Keys {
        account_address: address.map(|a| format!("{account}@{a}")),
        address: address.map(|a| format!("addr:{a}")),
        account,
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
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginLimiter {
    /// Whether the attempt may go on, and after what slowdown.
    pub fn gate(&self, keys: &Keys, now: OffsetDateTime) -> Gate {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let live = |k: &String| entries.get(k).filter(|e| now - e.last_failure < FORGET_AFTER);
        let wait = [(&keys.account_address, FREE_FAILURES), (&keys.address, FREE_ADDRESS_FAILURES)]
            .into_iter()
            .filter_map(|(k, free)| k.as_ref().and_then(live).map(|e| e.allowed_at(free) - now))
            .filter(|d| d.is_positive())
            .max();
        if let Some(wait) = wait {
            return Gate::Wait(wait);
        }
        let account_failures = live(&keys.account).map_or(0, |e| e.failures);
        Gate::Proceed(slowdown(account_failures))
    }

    /// Counts a failure under every key.
    pub fn failed(&self, keys: &Keys, now: OffsetDateTime) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, e| now - e.last_failure < FORGET_AFTER);
        }
        for k in [Some(&keys.account), keys.account_address.as_ref(), keys.address.as_ref()].into_iter().flatten() {
            if entries.len() >= MAX_KEYS && !entries.contains_key(k) {
                continue;
            }
            let e = entries.entry(k.clone()).or_insert(Entry { failures: 0, last_failure: now });
            if now - e.last_failure >= FORGET_AFTER {
                e.failures = 0;
            }
            e.failures = e.failures.saturating_add(1);
            e.last_failure = now;
        }
    }

    /// Forgets the failures of the account, and of the account from this address, after a
    /// successful login (the address keeps its own count, so one address cannot reset its
    /// guessing by logging in as itself).
    pub fn succeeded(&self, keys: &Keys) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&keys.account);
        if let Some(k) = &keys.account_address {
            entries.remove(k);
        }
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
        assert_eq!(wait(l.gate(&k, t0)), None);
        l.failed(&k, t0);
        assert_eq!(wait(l.gate(&k, t0)), Some(Duration::seconds(1)));
        l.failed(&k, t0);
        assert_eq!(wait(l.gate(&k, t0)), Some(Duration::seconds(2)));
        assert_eq!(wait(l.gate(&k, t0 + Duration::seconds(2))), None);
        // The user's key is case-insensitive; success clears it.
        assert_eq!(wait(l.gate(&keys("t", "admin", Some("10.0.0.1")), t0)), Some(Duration::seconds(2)));
        l.succeeded(&k);
        assert_eq!(wait(l.gate(&k, t0)), None);
        for _ in 0..40 {
            l.failed(&k, t0);
        }
        assert_eq!(wait(l.gate(&k, t0)), Some(MAX_DELAY));
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
