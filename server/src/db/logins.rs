//! Failed-login counts of [`crate::limiter`]: one row per key (the lowercase hex SHA-256 of what
//! is counted), shared by every instance on the database. Times are unix milliseconds.
//!
//! Every change is one statement, atomic on its own without explicit locks: PostgreSQL locks the
//! row an `INSERT … ON CONFLICT DO UPDATE` updates and evaluates the update on its newest
//! version, SQLite writes one statement at a time. So two attempts on two instances see each
//! other's counts: of parallel attempts that a key still lets through, only as many are counted
//! as it allows.

use sqlx::QueryBuilder;
use time::OffsetDateTime;

use super::Db;

/// The recent failures under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub failures: i64,
    /// Unix milliseconds.
    pub last_failure: i64,
}

/// How a key's failures hold back the next attempt: `free` failures are free; after `n` more,
/// the next attempt waits 2ⁿ s after the last failure, at most a maximum. The same curve is
/// applied in Rust ([`Limit::wait`]) and in SQL ([`count`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    free: i64,
    /// From this many failures beyond `free` on, the delay is `capped_ms`.
    cap: i64,
    capped_ms: i64,
}

impl Limit {
    /// No limit: the failures are counted, nothing is ever held back.
    pub const NONE: Self = Self { free: i64::MAX, cap: 0, capped_ms: 0 };

    /// `free` failures free, then 1 s, 2 s, 4 s, … up to `max_delay` (and at most 2²⁰ s).
    pub const fn doubling(free: u32, max_delay: time::Duration) -> Self {
        let max_ms = max_delay.whole_milliseconds();
        let max_ms = if max_ms < 0 {
            0
        } else if max_ms > i64::MAX as i128 {
            i64::MAX
        } else {
            max_ms as i64
        };
        let mut cap = 0;
        while cap < 20 && (1000_i64 << cap) < max_ms {
            cap += 1;
        }
        let capped_ms = if (1000_i64 << cap) < max_ms { 1000_i64 << cap } else { max_ms };
        Self { free: free as i64, cap, capped_ms }
    }

    /// The delay after the last failure of a key with `failures`; `None` while they are free.
    fn delay_ms(&self, failures: i64) -> Option<i64> {
        if failures < self.free {
            return None;
        }
        let over = failures - self.free;
        Some(if over >= self.cap { self.capped_ms } else { 1000 << over })
    }

    /// How long an attempt at `now` (unix ms) must still wait, if at all.
    pub fn wait(&self, f: Failures, now: i64) -> Option<time::Duration> {
        let wait = f.last_failure.saturating_add(self.delay_ms(f.failures)?).saturating_sub(now);
        (wait > 0).then(|| time::Duration::milliseconds(wait))
    }
}

/// Unix milliseconds of `t`.
pub fn millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(if t.year() < 1970 { i64::MIN } else { i64::MAX })
}

/// The counts of `keys` whose last failure is after `idle_before` (older ones are forgotten),
/// with their keys.
pub async fn live(db: &Db, keys: &[String], idle_before: i64) -> sqlx::Result<Vec<(String, Failures)>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, i64, i64)> = with_conn!(db, |c| {
        let mut q =
            QueryBuilder::<DB>::new("SELECT key, failures, last_failure FROM login_failures WHERE last_failure > ");
        q.push_bind(idle_before).push(" AND key IN (");
        let mut sep = q.separated(", ");
        for k in keys {
            sep.push_bind(k);
        }
        q.push(")");
        q.build_query_as().fetch_all(&mut *c).await?
    });
    Ok(rows.into_iter().map(|(k, failures, last_failure)| (k, Failures { failures, last_failure })).collect())
}

/// Counts a failure at `now` under `key`, if `limit` lets an attempt through now: a count whose
/// last failure is at or before `idle_before` starts over at 1. The count after it, or `None`
/// when the limit holds the attempt back (nothing is written then).
pub async fn count(db: &Db, key: &str, now: i64, idle_before: i64, limit: Limit) -> sqlx::Result<Option<i64>> {
    with_conn!(db, |c| {
        sqlx::query_scalar(
            "INSERT INTO login_failures (key, failures, last_failure, previous_failure) VALUES ($1, 1, $2, NULL) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_failures.last_failure <= $3 THEN 1 ELSE login_failures.failures + 1 END, \
             previous_failure = CASE WHEN login_failures.last_failure <= $3 THEN NULL \
             ELSE login_failures.last_failure END, \
             last_failure = $2 \
             WHERE CASE \
             WHEN login_failures.last_failure <= $3 OR login_failures.failures < $4 THEN TRUE \
             WHEN login_failures.failures - $4 >= $5 THEN login_failures.last_failure + $6 <= $2 \
             ELSE login_failures.last_failure \
             + (CAST(1000 AS BIGINT) << CAST(login_failures.failures - $4 AS INTEGER)) <= $2 \
             END \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(idle_before)
        .bind(limit.free)
        .bind(limit.cap)
        .bind(limit.capped_ms)
        .fetch_optional(c)
        .await
    })
}

/// Takes back a failure [`count`] counted at `now` (leaving `counted`): the row is restored as it
/// was when nothing else changed it since, else its count is lowered by one.
pub async fn give_back(db: &Db, key: &str, counted: i64, now: i64) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        let restored = sqlx::query(
            "UPDATE login_failures SET failures = failures - 1, \
             last_failure = COALESCE(previous_failure, last_failure), previous_failure = NULL \
             WHERE key = $1 AND failures = $2 AND last_failure = $3",
        )
        .bind(key)
        .bind(counted)
        .bind(now)
        .execute(&mut *c)
        .await?
        .rows_affected();
        if restored == 0 {
            sqlx::query("UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0")
                .bind(key)
                .execute(&mut *c)
                .await?;
        }
    });
    Ok(())
}

/// A successful login: forgets the counts of `forget` and lowers the count of `lower` by one.
pub async fn succeeded(db: &Db, forget: &[String], lower: Option<&str>) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        if !forget.is_empty() {
            let mut q = QueryBuilder::<DB>::new("DELETE FROM login_failures WHERE key IN (");
            let mut sep = q.separated(", ");
            for k in forget {
                sep.push_bind(k);
            }
            q.push(")");
            q.build().execute(&mut *c).await?;
        }
        if let Some(k) = lower {
            sqlx::query("UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0")
                .bind(k)
                .execute(&mut *c)
                .await?;
        }
    });
    Ok(())
}

/// The maintenance's pruning: deletes the counts idle for [`crate::limiter::FORGET_AFTER`] and,
/// when more than [`crate::limiter::MAX_KEYS`] remain, those idle longest beyond that many. How
/// many rows went.
pub async fn prune(db: &Db, now: OffsetDateTime) -> sqlx::Result<u64> {
    prune_to(db, millis(now - crate::limiter::FORGET_AFTER), crate::limiter::MAX_KEYS).await
}

/// [`prune`] with the bounds given: rows idle since `idle_before` (unix ms, inclusive) go, then
/// all but the `max_keys` most recent.
pub async fn prune_to(db: &Db, idle_before: i64, max_keys: usize) -> sqlx::Result<u64> {
    let max_keys = i64::try_from(max_keys).unwrap_or(i64::MAX);
    with_conn!(db, |c| {
        let idle = sqlx::query("DELETE FROM login_failures WHERE last_failure <= $1")
            .bind(idle_before)
            .execute(&mut *c)
            .await?
            .rows_affected();
        let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures").fetch_one(&mut *c).await?;
        if remaining <= max_keys {
            return Ok(idle);
        }
        // All but the newest `max_keys`, so that instances pruning together delete them once.
        let beyond = sqlx::query(
            "DELETE FROM login_failures WHERE key IN \
             (SELECT key FROM login_failures ORDER BY last_failure DESC LIMIT $1 OFFSET $2)",
        )
        .bind(i64::MAX)
        .bind(max_keys)
        .execute(&mut *c)
        .await?
        .rows_affected();
        Ok(idle + beyond)
    })
}
