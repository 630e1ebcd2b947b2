//! `token --watch --out FILE`: keep a file holding a valid device token.
//!
//! Fetch, write atomically, sleep until half of the token's own lifetime (from its `iat` and
//! `exp`), fetch again. Failures are retried with exponential backoff (1 s doubling to 60 s,
//! with jitter), and never later than just before the current token expires. Every fetch uses a
//! new connection, so the loop rides out server restarts.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::Clock;
use crate::files::write_atomic;
use crate::jwt::Token;
use crate::token::TokenClient;

/// Retry timing.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// First delay after a failure.
    pub min_backoff: Duration,
    /// Longest delay between attempts.
    pub max_backoff: Duration,
    /// Spread each delay by ±25 % so many devices do not retry in step.
    pub jitter: bool,
}

impl Default for WatchConfig {
    fn default() -> Self {
        Self { min_backoff: Duration::from_secs(1), max_backoff: Duration::from_secs(60), jitter: true }
    }
}

/// Exponential backoff state (also the re-enrollment loop's, [`crate::reenroll`]).
#[derive(Debug)]
pub(crate) struct Backoff<'a> {
    config: &'a WatchConfig,
    next: Duration,
}

impl<'a> Backoff<'a> {
    pub(crate) fn new(config: &'a WatchConfig) -> Self {
        Self { config, next: config.min_backoff }
    }

    pub(crate) fn reset(&mut self) {
        self.next = self.config.min_backoff;
    }

    /// The delay to wait now; doubles the next one up to the maximum.
    pub(crate) fn delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.config.max_backoff);
        if self.config.jitter {
            base.mul_f64(rand::random::<f64>() * 0.5 + 0.75).min(self.config.max_backoff)
        } else {
            base
        }
    }
}

/// `now` plus `by` (saturating).
pub(crate) fn later(now: OffsetDateTime, by: Duration) -> OffsetDateTime {
    now + time::Duration::try_from(by).unwrap_or(time::Duration::MAX)
}

/// Keeps `out` holding a valid token from `client` until `shutdown` resolves; returns `Ok`
/// then. Errors are logged and retried, never returned.
pub async fn watch<C: Clock>(
    client: &TokenClient,
    out: &Path,
    clock: &C,
    config: &WatchConfig,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    tokio::select! {
        () = run(client, out, clock, config) => Ok(()),
        () = shutdown => {
            tracing::info!("stopping: the token file keeps the last token");
            Ok(())
        }
    }
}

async fn run<C: Clock>(client: &TokenClient, out: &Path, clock: &C, config: &WatchConfig) {
    let mut current: Option<Token> = None;
    let mut backoff = Backoff::new(config);
    loop {
        let result = client.fetch().await;
        let now = clock.now();
        let next = match result {
            Ok(token) if current.as_ref().is_some_and(|c| c.as_str() == token.as_str()) => {
                // The server's clock says half-life has not come yet (the clocks disagree).
                let renew = token.renew_at();
                if renew > now { renew } else { later(now, backoff.delay()) }
            }
            Ok(token) => {
                let mut line = token.as_str().as_bytes().to_vec();
                line.push(b'\n');
                match write_atomic(out, &line) {
                    Ok(()) => {
                        let (renew, expires) = (token.renew_at(), token.expires_at());
                        tracing::info!(file = %out.display(), %expires, renew = %renew, "wrote a new device token");
                        current = Some(token);
                        backoff.reset();
                        if renew > now { renew } else { later(now, backoff.delay()) }
                    }
                    Err(e) => {
                        tracing::warn!(error = %format!("{e:#}"), "cannot write the token file; retrying");
                        later(now, backoff.delay())
                    }
                }
            }
            Err(e) => {
                let mut at = later(now, backoff.delay());
                if let Some(c) = &current {
                    // Whatever the backoff, try once more before the current token runs out.
                    let last_chance = c.expires_at() - time::Duration::seconds(1);
                    if last_chance > now && last_chance < at {
                        at = last_chance;
                    }
                }
                tracing::warn!(error = %e, retry_at = %at, "fetching a device token failed");
                at
            }
        };
        clock.sleep_until(next).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_maximum_and_resets() {
        let config = WatchConfig { jitter: false, ..WatchConfig::default() };
        let mut b = Backoff::new(&config);
        let delays: Vec<u64> = (0..8).map(|_| b.delay().as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60]);
        b.reset();
        assert_eq!(b.delay().as_secs(), 1);
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        let config = WatchConfig::default();
        for _ in 0..100 {
            let mut b = Backoff::new(&config);
            let d = b.delay().as_secs_f64();
            assert!((0.75..=1.25).contains(&d), "{d}");
        }
    }
}
