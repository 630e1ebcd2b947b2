//! Failed-login throttling, per user name and per client address: after a few failures each
//! further attempt must wait a growing delay (1 s, 2 s, 4 s, … up to 15 min). The same answer
//! is given whether the user exists or not. Kept in memory per instance; time comes from the
//! server's injected clock.

use std::collections::HashMap;
use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

/// Failures allowed before delays start.
pub const FREE_FAILURES: u32 = 5;
/// Longest delay.
pub const MAX_DELAY: Duration = Duration::minutes(15);
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
    fn allowed_at(&self) -> OffsetDateTime {
        if self.failures < FREE_FAILURES {
            return self.last_failure;
        }
        let exp = (self.failures - FREE_FAILURES).min(20);
        let delay = Duration::seconds(1_i64 << exp).min(MAX_DELAY);
        self.last_failure + delay
    }
}

/// Counts failed logins by key.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    entries: Mutex<HashMap<String, Entry>>,
}

/// The keys one login attempt is counted under.
pub fn keys(tenant: &str, user: &str, address: Option<&str>) -> Vec<String> {
    let mut k = vec![format!("user:{tenant}/{}", user.to_lowercase())];
    if let Some(a) = address {
        k.push(format!("addr:{a}"));
    }
    k
}

impl LoginLimiter {
    /// How long the caller must still wait, if at all.
    pub fn wait(&self, keys: &[String], now: OffsetDateTime) -> Option<Duration> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter().filter_map(|k| entries.get(k)).map(|e| e.allowed_at() - now).filter(|d| d.is_positive()).max()
    }

    /// Counts a failure under every key.
    pub fn failed(&self, keys: &[String], now: OffsetDateTime) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, e| now - e.last_failure < FORGET_AFTER);
        }
        for k in keys {
            let e = entries.entry(k.clone()).or_insert(Entry { failures: 0, last_failure: now });
            if now - e.last_failure >= FORGET_AFTER {
                e.failures = 0;
            }
            e.failures = e.failures.saturating_add(1);
            e.last_failure = now;
        }
    }

    /// Forgets the failures of the user after a successful login (the address keeps its
    /// count, so one address cannot reset guessing by logging in as itself).
    pub fn succeeded(&self, keys: &[String]) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(user_key) = keys.first() {
            entries.remove(user_key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_the_free_failures_and_reset_on_success() {
        let l = LoginLimiter::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let k = keys("t", "Admin", Some("10.0.0.1"));
        for _ in 0..FREE_FAILURES - 1 {
            l.failed(&k, t0);
        }
        assert_eq!(l.wait(&k, t0), None);
        l.failed(&k, t0);
        assert_eq!(l.wait(&k, t0), Some(Duration::seconds(1)));
        l.failed(&k, t0);
        assert_eq!(l.wait(&k, t0), Some(Duration::seconds(2)));
        assert_eq!(l.wait(&k, t0 + Duration::seconds(2)), None);
        // The user's key is case-insensitive; success clears it but not the address.
        assert_eq!(l.wait(&keys("t", "admin", None), t0), Some(Duration::seconds(2)));
        l.succeeded(&k);
        assert_eq!(l.wait(&keys("t", "admin", None), t0), None);
        assert_eq!(l.wait(&keys("t", "other", Some("10.0.0.1")), t0), Some(Duration::seconds(2)));
        for _ in 0..40 {
            l.failed(&k, t0);
        }
        assert_eq!(l.wait(&k, t0), Some(MAX_DELAY));
    }
}
