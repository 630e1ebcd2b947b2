//! Where the watch loop reads the time and how it waits, injected so tests can move time
//! instead of sleeping.

use std::future::Future;

use time::OffsetDateTime;

/// The current wall-clock time and a way to wait for a later one.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> OffsetDateTime;
    /// Resolves once [`Clock::now`] has reached `deadline` (at once when it already has).
    fn sleep_until(&self, deadline: OffsetDateTime) -> impl Future<Output = ()> + Send;
}

/// The system clock with tokio's timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

/// Longest single timer: the wall clock is re-read at least this often, so a suspended machine
/// or a clock step does not make the loop oversleep by much.
const MAX_NAP: std::time::Duration = std::time::Duration::from_secs(30);

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    async fn sleep_until(&self, deadline: OffsetDateTime) {
        loop {
            let left = deadline - self.now();
            if !left.is_positive() {
                return;
            }
            let left = std::time::Duration::try_from(left).unwrap_or(MAX_NAP);
            tokio::time::sleep(left.min(MAX_NAP)).await;
        }
    }
}
