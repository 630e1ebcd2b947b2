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
//! its account and address together (not the address's own count).
//!
//! The counts are kept in the database (table `login_failures`, [`crate::db::logins`]), so the
//! instances sharing one database share them: a guesser spreading attempts over the instances
//! behind a load balancer meets the same limits as on one. Each key's count is taken by one
//! statement that counts the attempt only if the key still lets it through, so parallel
//! attempts on several instances cannot all slip through either; an attempt that one key lets
//! through and another then refuses gives back what it counted. A refused attempt writes
//! nothing. Rows are kept under a SHA-256 of what they count (so a long user name costs
//! nothing). A count idle for [`FORGET_AFTER`] starts over; the background maintenance deletes
//! such rows ([`crate::db::logins::prune`], every minute) and keeps at most [`MAX_KEYS`] rows,
//! deleting those idle longest beyond: between two passes the table may outgrow the bound by
//! what arrives in that time, and a row pruned early only forgets failures, as an idle one does.
//!
//! Proxy mode has no database: there the counts are kept in memory, per process, at most
//! [`MAX_KEYS`] keys; when full, new keys share one bucket (throttled together rather than not
//! at all).
//!
//! Time comes from the server's injected clock (unix milliseconds in the rows; instances'
//! clocks should agree, as a skew between them shifts the delays by as much). The client
//! address is the TCP peer's, or the one a trusted reverse proxy reports (`--trusted-proxy`).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use time::{Duration, OffsetDateTime};

use crate::db::Db;
use crate::db::logins::{self, Failures, Limit, millis};

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
/// Counts idle this long are forgotten.
pub const FORGET_AFTER: Duration = Duration::hours(1);
/// Most keys kept; beyond, the database's rows idle longest are pruned, and in memory new keys
/// share one bucket.
pub const MAX_KEYS: usize = 100_000;

/// [`FORGET_AFTER`] in milliseconds.
const FORGET_AFTER_MS: i64 = FORGET_AFTER.whole_milliseconds() as i64;
/// The delays of an account from one address.
const ACCOUNT_ADDRESS_LIMIT: Limit = Limit::doubling(FREE_FAILURES, MAX_DELAY);
/// The delays of an address.
const ADDRESS_LIMIT: Limit = Limit::doubling(FREE_ADDRESS_FAILURES, MAX_DELAY);
/// How often the gate reads and counts again when parallel attempts took the last free counts
/// between its read and its count; after that, the attempt waits a second.
const RACES: usize = 3;

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

/// The key every new key shares when the in-memory table is full.
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

/// Counts failed logins by key: in the database, or in memory in proxy mode.
#[derive(Debug)]
pub struct LoginLimiter {
    store: Store,
}

#[derive(Debug)]
enum Store {
    /// Shared by every instance on the database.
    Database(Db),
    /// This process only (proxy mode has no database).
    Memory(Mutex<HashMap<Key, Entry>>),
}

/// A count in memory, as a row of `login_failures` holds it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: i64,
    last_failure: i64,
    previous_failure: Option<i64>,
}

impl LoginLimiter {
    /// Counts kept in `db`, shared with every instance on it.
    pub fn in_database(db: Db) -> Self {
        Self { store: Store::Database(db) }
    }

    /// Counts kept in this process (proxy mode, which has no database).
    pub fn in_memory() -> Self {
        Self { store: Store::Memory(Mutex::new(HashMap::new())) }
    }

    /// Whether the attempt may go on, and after what slowdown. An attempt that may go on is
    /// counted as a failure at once, each key's count only if that key still lets it through
    /// (so parallel attempts, on any instance, see each other); [`LoginLimiter::succeeded`]
    /// gives it back. A refused attempt changes nothing.
    pub async fn gate(&self, keys: &Keys, now: OffsetDateTime) -> sqlx::Result<Gate> {
        let now = millis(now);
        let limited: Vec<(Key, Limit)> = [(keys.account_address, ACCOUNT_ADDRESS_LIMIT), (keys.address, ADDRESS_LIMIT)]
            .into_iter()
            .filter_map(|(k, limit)| k.map(|k| (k, limit)))
            .collect();
        let limited_keys: Vec<Key> = limited.iter().map(|(k, _)| *k).collect();
        'race: for _ in 0..RACES {
            // Read first: a refused attempt (a guesser hammering) writes nothing.
            let live = self.store.live(&limited_keys, now).await?;
            let wait = live.iter().zip(&limited).filter_map(|(f, (_, limit))| f.and_then(|f| limit.wait(f, now))).max();
            if let Some(wait) = wait {
                return Ok(Gate::Wait(wait));
            }
            let mut counted = Vec::new();
            for (k, limit) in &limited {
                match self.store.count(k, now, *limit).await? {
                    Some(n) => counted.push((k, n)),
                    None => {
                        // Parallel attempts took the last free counts since the read.
                        for (k, n) in counted {
                            self.store.give_back(k, n, now).await?;
                        }
                        continue 'race;
                    }
                }
            }
            let account_failures = self.store.count(&keys.account, now, Limit::NONE).await?.unwrap_or(1) - 1;
            return Ok(Gate::Proceed(slowdown(account_failures)));
        }
        Ok(Gate::Wait(Duration::seconds(1)))
    }

    /// A success after [`LoginLimiter::gate`]: forgets the failures of the account, and of the
    /// account from this address, and gives the address back the attempt the gate counted (the
    /// address keeps its other failures, so one address cannot reset its guessing by logging in
    /// as itself). A failure to write is logged: the login itself stands.
    pub async fn succeeded(&self, keys: &Keys) {
        if let Err(e) = self.store.succeeded(keys).await {
            tracing::warn!(error = %e, "forgetting the failed logins of a successful one");
        }
    }

    /// Admits an attempt through [`LoginLimiter::gate`]: refused with 429 and `Retry-After`
    /// (whole seconds, rounded up), or let through after its slowdown.
    pub async fn admit(&self, keys: &Keys, now: OffsetDateTime) -> Result<(), crate::error::AppError> {
        match self.gate(keys, now).await? {
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

impl Store {
    /// The counts of `keys` not idle at `now`, in their order.
    async fn live(&self, keys: &[Key], now: i64) -> sqlx::Result<Vec<Option<Failures>>> {
        let idle_before = now.saturating_sub(FORGET_AFTER_MS);
        match self {
            Store::Database(db) => {
                let hex: Vec<String> = keys.iter().map(hex::encode).collect();
                let rows = logins::live(db, &hex, idle_before).await?;
                Ok(hex.iter().map(|h| rows.iter().find(|(k, _)| k == h).map(|(_, f)| *f)).collect())
            }
            Store::Memory(entries) => {
                let entries = lock(entries);
                Ok(keys
                    .iter()
                    .map(|k| {
                        entries
                            .get(&slot(&entries, k))
                            .filter(|e| e.last_failure > idle_before)
                            .map(|e| Failures { failures: e.failures, last_failure: e.last_failure })
                    })
                    .collect())
            }
        }
    }

    /// Counts a failure under `k` if `limit` lets the attempt through now: the count after it.
    async fn count(&self, k: &Key, now: i64, limit: Limit) -> sqlx::Result<Option<i64>> {
        let idle_before = now.saturating_sub(FORGET_AFTER_MS);
        match self {
            Store::Database(db) => logins::count(db, &hex::encode(k), now, idle_before, limit).await,
            Store::Memory(entries) => {
                let mut entries = lock(entries);
                if entries.len() >= MAX_KEYS {
                    entries.retain(|_, e| e.last_failure > idle_before);
                }
                // Full: new keys share one bucket (throttled together rather than not at all).
                let k = slot(&entries, k);
                let fresh = Entry { failures: 1, last_failure: now, previous_failure: None };
                Ok(match entries.get_mut(&k) {
                    Some(e) if e.last_failure > idle_before => {
                        if limit.wait(Failures { failures: e.failures, last_failure: e.last_failure }, now).is_some() {
                            return Ok(None);
                        }
                        *e = Entry {
                            failures: e.failures.saturating_add(1),
                            last_failure: now,
                            previous_failure: Some(e.last_failure),
                        };
                        Some(e.failures)
                    }
                    Some(e) => {
                        *e = fresh;
                        Some(1)
                    }
                    None => {
                        entries.insert(k, fresh);
                        Some(1)
                    }
                })
            }
        }
    }

    /// Takes back a failure [`Store::count`] counted at `now`, leaving `counted`.
    async fn give_back(&self, k: &Key, counted: i64, now: i64) -> sqlx::Result<()> {
        match self {
            Store::Database(db) => logins::give_back(db, &hex::encode(k), counted, now).await,
            Store::Memory(entries) => {
                let mut entries = lock(entries);
                let k = slot(&entries, k);
                if let Some(e) = entries.get_mut(&k) {
                    if e.failures == counted && e.last_failure == now {
                        *e = Entry {
                            failures: e.failures - 1,
                            last_failure: e.previous_failure.unwrap_or(e.last_failure),
                            previous_failure: None,
                        };
                    } else if e.failures > 0 {
                        e.failures -= 1;
                    }
                }
                Ok(())
            }
        }
    }

    /// See [`LoginLimiter::succeeded`].
    async fn succeeded(&self, keys: &Keys) -> sqlx::Result<()> {
        match self {
            Store::Database(db) => {
                let forget: Vec<String> = [Some(&keys.account), keys.account_address.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(hex::encode)
                    .collect();
                logins::succeeded(db, &forget, keys.address.map(hex::encode).as_deref()).await
            }
            Store::Memory(entries) => {
                let mut entries = lock(entries);
                entries.remove(&keys.account);
                if let Some(k) = &keys.account_address {
                    entries.remove(k);
                }
                if let Some(e) = keys.address.as_ref().and_then(|k| entries.get_mut(k)) {
                    e.failures = (e.failures - 1).max(0);
                }
                Ok(())
            }
        }
    }
}

fn lock(entries: &Mutex<HashMap<Key, Entry>>) -> MutexGuard<'_, HashMap<Key, Entry>> {
    entries.lock().unwrap_or_else(|e| e.into_inner())
}

/// Where `k` is counted in memory: its own entry, or the shared one when the table is full.
fn slot(entries: &HashMap<Key, Entry>, k: &Key) -> Key {
    if entries.len() >= MAX_KEYS && !entries.contains_key(k) { SHARED } else { *k }
}

/// The slowdown of an attempt on an account with `failures` recent failures: none up to
/// [`FREE_ACCOUNT_FAILURES`], then 100 ms doubling up to [`MAX_ACCOUNT_SLOWDOWN`].
fn slowdown(failures: i64) -> std::time::Duration {
    let Some(over) = failures.checked_sub(i64::from(FREE_ACCOUNT_FAILURES)).filter(|o| *o >= 0) else {
        return std::time::Duration::ZERO;
    };
    let exp = u32::try_from(over.min(10)).unwrap_or(10);
    (std::time::Duration::from_millis(100) * (1 << exp)).min(MAX_ACCOUNT_SLOWDOWN)
}

#[cfg(test)]
impl LoginLimiter {
    /// Counts a failure under every key (what a failed attempt through the gate leaves).
    async fn failed(&self, keys: &Keys, now: OffsetDateTime) {
        for k in [Some(&keys.account), keys.account_address.as_ref(), keys.address.as_ref()].into_iter().flatten() {
            self.store.count(k, millis(now), Limit::NONE).await.expect("a failure counted");
        }
    }

    fn store_name(&self) -> &'static str {
        match self.store {
            Store::Database(_) => "database",
            Store::Memory(_) => "memory",
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::db::{Location, PoolSizes, open};

    fn wait(g: Gate) -> Option<Duration> {
        match g {
            Gate::Wait(d) => Some(d),
            Gate::Proceed(_) => None,
        }
    }

    async fn gate(l: &LoginLimiter, k: &Keys, now: OffsetDateTime) -> Gate {
        l.gate(k, now).await.expect("the gate answers")
    }

    /// A database in a new temporary folder, and its file.
    async fn database() -> (tempfile::TempDir, std::path::PathBuf, Db) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("logins.db");
        let db = open(&Location::Sqlite(path.clone()), PoolSizes::default()).await.expect("database");
        (dir, path, db)
    }

    /// A limiter of each kind, fresh: on a database (in the folder returned) and in memory.
    async fn limiters() -> (tempfile::TempDir, [LoginLimiter; 2]) {
        let (dir, _, db) = database().await;
        (dir, [LoginLimiter::in_database(db), LoginLimiter::in_memory()])
    }

    #[tokio::test]
    async fn delays_grow_per_account_and_address_and_reset_on_success() {
        let (_dir, limiters) = limiters().await;
        for l in &limiters {
            let store = l.store_name();
            let t0 = OffsetDateTime::UNIX_EPOCH;
            let k = keys("t", "Admin", Some("10.0.0.1"));
            for _ in 0..FREE_FAILURES - 1 {
                l.failed(&k, t0).await;
            }
            // The fifth attempt passes, and is counted as it passes.
            assert_eq!(wait(gate(l, &k, t0).await), None, "{store}");
            assert_eq!(wait(gate(l, &k, t0).await), Some(Duration::seconds(1)), "{store}");
            l.failed(&k, t0).await;
            assert_eq!(wait(gate(l, &k, t0).await), Some(Duration::seconds(2)), "{store}");
            let t2 = t0 + Duration::seconds(2);
            assert_eq!(wait(gate(l, &k, t2).await), None, "{store}");
            // The user's key is case-insensitive; success clears it.
            let lower = keys("t", "admin", Some("10.0.0.1"));
            assert_eq!(wait(gate(l, &lower, t2).await), Some(Duration::seconds(4)), "{store}");
            l.succeeded(&k).await;
            assert_eq!(wait(gate(l, &k, t2).await), None, "{store}");
            for _ in 0..40 {
                l.failed(&k, t0).await;
            }
            assert_eq!(wait(gate(l, &k, t0).await), Some(MAX_DELAY), "{store}");
            // An hour without failures forgets them.
            assert_eq!(wait(gate(l, &k, t0 + FORGET_AFTER).await), None, "{store}");
        }
    }

    #[tokio::test]
    async fn attempts_sent_together_cannot_all_pass_before_their_failures_count() {
        let (_dir, limiters) = limiters().await;
        for l in limiters {
            let store = l.store_name();
            let l = Arc::new(l);
            let t0 = OffsetDateTime::UNIX_EPOCH;
            let k = keys("t", "admin", Some("10.0.0.1"));
            // A hundred attempts at once: the gate counts each as it lets it through.
            let mut attempts = tokio::task::JoinSet::new();
            for _ in 0..100 {
                let (l, k) = (l.clone(), k.clone());
                attempts.spawn(async move { wait(gate(&l, &k, t0).await).is_none() });
            }
            let passed = attempts.join_all().await.into_iter().filter(|p| *p).count();
            assert_eq!(passed, FREE_FAILURES as usize, "{store}");
        }
    }

    #[tokio::test]
    async fn two_instances_on_one_database_share_the_counts() {
        let (_dir, path, db) = database().await;
        let other = open(&Location::Sqlite(path), PoolSizes::default()).await.expect("the database again");
        let (a, b) = (Arc::new(LoginLimiter::in_database(db)), Arc::new(LoginLimiter::in_database(other)));
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let k = keys("t", "admin", Some("10.0.0.1"));
        // Attempts at once on both instances: five pass in all, not five on each.
        let mut attempts = tokio::task::JoinSet::new();
        for i in 0..60 {
            let (l, k) = (if i % 2 == 0 { a.clone() } else { b.clone() }, k.clone());
            attempts.spawn(async move { wait(gate(&l, &k, t0).await).is_none() });
        }
        let passed = attempts.join_all().await.into_iter().filter(|p| *p).count();
        assert_eq!(passed, FREE_FAILURES as usize);
        assert_eq!(wait(gate(&a, &k, t0).await), Some(Duration::seconds(1)));
        assert_eq!(wait(gate(&b, &k, t0).await), Some(Duration::seconds(1)));
        // A failure on one instance delays the next attempt on the other.
        let t1 = t0 + Duration::seconds(1);
        assert_eq!(wait(gate(&a, &k, t1).await), None);
        assert_eq!(wait(gate(&b, &k, t1).await), Some(Duration::seconds(2)));
        // A success on one forgets the account's failures on both.
        b.succeeded(&k).await;
        assert_eq!(wait(gate(&a, &k, t1).await), None);
        // The address kept its own count: seven attempts passed, the success gave one back.
        let address = keys("t", "x", Some("10.0.0.1")).address.expect("an address");
        let read = a.store.live(&[address], millis(t1)).await.expect("read");
        assert_eq!(read[0].map(|f| f.failures), Some(6));
    }

    #[tokio::test]
    async fn a_full_memory_table_throttles_new_keys_together_instead_of_not_at_all() {
        let l = LoginLimiter::in_memory();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for i in 0..MAX_KEYS / 3 + 1 {
            l.failed(&keys("t", &format!("u{i}"), Some(&format!("a{i}"))), t0).await;
        }
        let fresh = keys("t", "newcomer", Some("198.51.100.77"));
        let mut passed = 0;
        for _ in 0..100 {
            passed += usize::from(wait(gate(&l, &fresh, t0).await).is_none());
        }
        assert!(passed < 100, "a new key beyond the table's size is still throttled");
    }

    #[tokio::test]
    async fn pruning_forgets_idle_counts_and_keeps_the_most_recent_within_the_bound() {
        let (_dir, _, db) = database().await;
        let Db::Sqlite(pool) = &db else { panic!("an SQLite database") };
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        let idle = millis(t0 - FORGET_AFTER);
        // Seven idle counts, and ten more recent ones than the bound allows: key `k<i>` failed
        // `i` ms after the idle ones.
        let fill = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
                    INSERT INTO login_failures (key, failures, last_failure) SELECT $2 || i, 1, $3 + i FROM n";
        let over = MAX_KEYS + 10;
        for (prefix, rows, from) in [("idle", 7, idle - 100), ("k", over, idle)] {
            let rows = i64::try_from(rows).expect("a row count");
            sqlx::query(fill).bind(rows).bind(prefix).bind(from).execute(pool).await.expect("filled");
        }
        let l = LoginLimiter::in_database(db.clone());
        let k = keys("t", "admin", Some("10.0.0.1"));
        for _ in 0..FREE_FAILURES {
            l.failed(&k, t0).await;
        }
        assert_eq!(logins::prune(&db, t0).await.expect("pruned"), 7 + 10 + 3, "the idle rows and the oldest beyond");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures").fetch_one(pool).await.expect("n");
        assert_eq!(usize::try_from(n).expect("a count"), MAX_KEYS);
        let oldest: i64 =
            sqlx::query_scalar("SELECT MIN(last_failure) FROM login_failures").fetch_one(pool).await.expect("min");
        assert_eq!(oldest, idle + 14, "the 13 oldest remaining counts went");
        // The newest count stayed, and still holds its attempts back.
        assert_eq!(wait(gate(&l, &k, t0).await), Some(Duration::seconds(1)));
        assert_eq!(logins::prune(&db, t0).await.expect("pruned again"), 0);
        // An hour on, the count of every key is idle.
        assert_eq!(
            usize::try_from(logins::prune(&db, t0 + FORGET_AFTER + Duration::hours(1)).await.expect("pruned")),
            Ok(MAX_KEYS)
        );
    }

    #[tokio::test]
    async fn a_count_given_back_leaves_the_row_as_it_was() {
        let (_dir, limiters) = limiters().await;
        for l in &limiters {
            let store = l.store_name();
            let (t0, t1) = (1_000, 2_000);
            let k = key(&["test", store]);
            assert_eq!(l.store.count(&k, t0, ACCOUNT_ADDRESS_LIMIT).await.expect("count"), Some(1), "{store}");
            assert_eq!(l.store.count(&k, t1, ACCOUNT_ADDRESS_LIMIT).await.expect("count"), Some(2), "{store}");
            l.store.give_back(&k, 2, t1).await.expect("given back");
            let read = l.store.live(&[k], t1).await.expect("read");
            assert_eq!(read, vec![Some(Failures { failures: 1, last_failure: t0 })], "{store}");
            // Changed meanwhile: only the count goes down.
            assert_eq!(l.store.count(&k, t1, ACCOUNT_ADDRESS_LIMIT).await.expect("count"), Some(2), "{store}");
            assert_eq!(l.store.count(&k, t1 + 1, ACCOUNT_ADDRESS_LIMIT).await.expect("count"), Some(3), "{store}");
            l.store.give_back(&k, 2, t1).await.expect("given back");
            let read = l.store.live(&[k], t1 + 1).await.expect("read");
            assert_eq!(read, vec![Some(Failures { failures: 2, last_failure: t1 + 1 })], "{store}");
            // A count the limit refuses writes nothing.
            for _ in 0..FREE_FAILURES {
                l.store.count(&k, t1 + 1, Limit::NONE).await.expect("count");
            }
            assert_eq!(l.store.count(&k, t1 + 2, ACCOUNT_ADDRESS_LIMIT).await.expect("count"), None, "{store}");
            let read = l.store.live(&[k], t1 + 2).await.expect("read");
            assert_eq!(read, vec![Some(Failures { failures: 7, last_failure: t1 + 1 })], "{store}");
        }
    }

    #[tokio::test]
    async fn someone_elses_failures_never_refuse_the_owner_from_another_address() {
        let (_dir, attacked) = limiters().await;
        for l in &attacked {
            let store = l.store_name();
            let t0 = OffsetDateTime::UNIX_EPOCH;
            // An attacker fails a thousand times from each of ten addresses.
            for a in 0..10 {
                let k = keys("t", "admin", Some(&format!("203.0.113.{a}")));
                for _ in 0..1000 {
                    l.failed(&k, t0).await;
                }
                assert!(wait(gate(l, &k, t0).await).is_some(), "{store}");
            }
            // The owner, from an address that has not failed: slowed by at most a few seconds.
            let owner = keys("t", "admin", Some("192.0.2.7"));
            assert_eq!(gate(l, &owner, t0).await, Gate::Proceed(MAX_ACCOUNT_SLOWDOWN), "{store}");
        }
        // Another user behind the attacker's address (a shared proxy) is not refused either,
        // until the address itself has failed too often.
        let (_other_dir, fresh) = limiters().await;
        for l in &fresh {
            let store = l.store_name();
            let t0 = OffsetDateTime::UNIX_EPOCH;
            let typo = keys("t", "alice", Some("10.0.0.1"));
            for _ in 0..FREE_FAILURES + 3 {
                l.failed(&typo, t0).await;
            }
            assert!(wait(gate(l, &typo, t0).await).is_some(), "{store}");
            let bob = keys("t", "bob", Some("10.0.0.1"));
            assert_eq!(gate(l, &bob, t0).await, Gate::Proceed(std::time::Duration::ZERO), "{store}");
        }
    }

    #[tokio::test]
    async fn one_address_spraying_many_accounts_is_delayed() {
        let (_dir, limiters) = limiters().await;
        for l in &limiters {
            let t0 = OffsetDateTime::UNIX_EPOCH;
            for u in 0..FREE_ADDRESS_FAILURES {
                l.failed(&keys("t", &format!("user{u}"), Some("198.51.100.1")), t0).await;
            }
            let someone = keys("t", "someone", Some("198.51.100.1"));
            assert_eq!(wait(gate(l, &someone, t0).await), Some(Duration::seconds(1)), "{}", l.store_name());
        }
    }

    #[test]
    fn the_account_slowdown_is_bounded() {
        assert_eq!(slowdown(i64::from(FREE_ACCOUNT_FAILURES) - 1), std::time::Duration::ZERO);
        assert_eq!(slowdown(i64::from(FREE_ACCOUNT_FAILURES)), std::time::Duration::from_millis(100));
        assert_eq!(slowdown(i64::MAX), MAX_ACCOUNT_SLOWDOWN);
        assert_eq!(slowdown(i64::MIN), std::time::Duration::ZERO);
    }

    #[test]
    fn the_delays_double_up_to_the_longest() {
        let f = |failures| Failures { failures, last_failure: 0 };
        assert_eq!(ACCOUNT_ADDRESS_LIMIT.wait(f(4), 0), None);
        assert_eq!(ACCOUNT_ADDRESS_LIMIT.wait(f(5), 0), Some(Duration::seconds(1)));
        assert_eq!(ACCOUNT_ADDRESS_LIMIT.wait(f(14), 0), Some(Duration::seconds(512)));
        assert_eq!(ACCOUNT_ADDRESS_LIMIT.wait(f(15), 0), Some(MAX_DELAY));
        assert_eq!(ACCOUNT_ADDRESS_LIMIT.wait(f(i64::MAX), 0), Some(MAX_DELAY));
        assert_eq!(ADDRESS_LIMIT.wait(f(20), 0), Some(Duration::seconds(1)));
        assert_eq!(Limit::NONE.wait(f(i64::MAX), 0), None);
    }
}
