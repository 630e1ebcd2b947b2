//! One bounded pool for every password hash the process computes (argon2 is made to be slow
//! and memory-hungry): logins, user changes and bulk registration of BASIC devices all wait
//! for one of [`size`] permits, so concurrent uploads cannot start a thread per core each, and
//! a hash never blocks the async threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use crate::auth;
use crate::error::AppError;

static POOL: OnceLock<Arc<Semaphore>> = OnceLock::new();
/// Hashes running now, and the most that ever ran at once (what the tests check).
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// How many hashes may run at once: the number of cores.
pub fn size() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn pool() -> Arc<Semaphore> {
    POOL.get_or_init(|| Arc::new(Semaphore::new(size()))).clone()
}

/// The most hashes that ran at once in this process so far.
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Runs `work` holding `permit`, counted in [`RUNNING`] and [`PEAK`] (on a blocking thread).
fn counted<T>(permit: tokio::sync::OwnedSemaphorePermit, work: impl FnOnce() -> T) -> T {
    let now = RUNNING.fetch_add(1, Ordering::Relaxed) + 1;
    PEAK.fetch_max(now, Ordering::Relaxed);
    let out = work();
    RUNNING.fetch_sub(1, Ordering::Relaxed);
    drop(permit);
    out
}

/// Runs `work` on a blocking thread once a permit is free.
async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    let permit = pool().acquire_owned().await.map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || counted(permit, work)).await.map_err(AppError::internal)
}

/// An argon2id hash of `password`.
pub async fn hash(password: String) -> Result<String, AppError> {
    run(move || auth::hash_password(&password)).await?.map_err(AppError::Internal)
}

/// Whether `password` matches the PHC string `hash`.
pub async fn verify(password: String, hash: String) -> Result<bool, AppError> {
    run(move || auth::verify_password(&password, &hash)).await
}

/// Hashes of the given passwords, in order (`None` stays `None`), through the pool.
pub async fn hash_all(passwords: Vec<Option<String>>) -> Result<Vec<Option<String>>, AppError> {
    let mut out = vec![None; passwords.len()];
    let mut tasks = tokio::task::JoinSet::new();
    for (i, p) in passwords.into_iter().enumerate() {
        if let Some(p) = p {
            // Wait for a permit before spawning: a 100,000-row file holds no more than the pool.
            let permit = pool().acquire_owned().await.map_err(AppError::internal)?;
            tasks.spawn_blocking(move || (i, counted(permit, || auth::hash_password(&p))));
        }
    }
    while let Some(done) = tasks.join_next().await {
        let (i, h) = done.map_err(AppError::internal)?;
        out[i] = Some(h.map_err(AppError::Internal)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_uploads_and_logins_share_one_bounded_pool() {
        let many = || (0..12).map(|i| (i % 3 != 0).then(|| format!("password-{i}"))).collect::<Vec<_>>();
        let (a, b, c, d) = tokio::join!(
            hash_all(many()),
            hash_all(many()),
            hash("one more".into()),
            verify("x".into(), "not a hash".into())
        );
        let (a, _b) = (a.expect("hashes"), b.expect("hashes"));
        assert!(c.is_ok() && d.is_ok_and(|ok| !ok));
        assert_eq!(a.len(), 12);
        assert!(a[0].is_none() && a[1].as_deref().is_some_and(|h| auth::verify_password("password-1", h)));
        assert!(peak() <= size(), "{} hashes ran at once on {} cores", peak(), size());
    }
}
