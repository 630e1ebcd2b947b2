//! Persistence: the SQLite pool, embedded migrations, and one module of queries per resource.
//!
//! Backend differences belong here alone; handlers call typed functions.

pub mod audit;
pub mod crl;
pub mod devices;
pub mod inventory;
pub mod options;
pub mod sessions;
pub mod signing_keys;
pub mod trusted_certificates;
pub mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The database pool.
pub type Db = sqlx::SqlitePool;

/// Opens (creating if needed) the SQLite file at `path` and applies every migration; a
/// failed migration stops start-up.
pub async fn open(path: &Path) -> anyhow::Result<Db> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    private_files(path)?;
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    // No ping before handing out a connection: a local file does not go away, and the ping is
    // a round trip to the connection's thread on every query.
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .with_context(|| format!("opening database {}", path.display()))?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await.context("applying database migrations")?;
    // SQLite gives its -wal and -shm files the database file's mode; made sure of here.
    private_files(path)?;
    Ok(pool)
}

/// Creates `dir` if needed and makes it readable by its owner only (0700), also when it
/// existed: it holds the database, the secret key and the local CA's key.
pub fn private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating data directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private (0700)", dir.display()))?;
    }
    Ok(())
}

/// Creates the database file readable by its owner only (0600) before SQLite opens it, and
/// makes the database's files that exist (also `-wal`, `-shm`) 0600.
fn private_files(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating database {}", path.display()))?;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private (0600)", file.display()))?;
            }
        }
    }
    Ok(())
}

/// A few connections of their own for the device-token endpoint's one read, used outside the
/// pool: sqlx pings a pooled connection (a round trip to its thread) each time it goes back to
/// the pool, which on that endpoint cost as much CPU as the query. Each connection serves one
/// request at a time; they are opened on first use with the pool's options.
pub struct Readers {
    slots: Vec<tokio::sync::Mutex<Option<sqlx::SqliteConnection>>>,
    /// One permit per slot: a holder is sure to find a free slot.
    free: tokio::sync::Semaphore,
    options: std::sync::Arc<SqliteConnectOptions>,
}

/// A connection lent by [`Readers`] until dropped.
pub struct Reader<'a> {
    // Dropped in this order: the slot is free before its permit is returned.
    slot: tokio::sync::MutexGuard<'a, Option<sqlx::SqliteConnection>>,
    _permit: tokio::sync::SemaphorePermit<'a>,
}

impl Readers {
    /// How many connections: enough for the device listener's concurrent requests on a few
    /// cores, since a read takes tens of microseconds.
    const SLOTS: usize = 4;

    pub fn new(db: &Db) -> Self {
        Self {
            slots: (0..Self::SLOTS).map(|_| tokio::sync::Mutex::new(None)).collect(),
            free: tokio::sync::Semaphore::new(Self::SLOTS),
            options: db.connect_options(),
        }
    }

    /// The first connection to be free; opened if needed.
    pub async fn acquire(&self) -> sqlx::Result<Reader<'_>> {
        use sqlx::ConnectOptions as _;
        let permit = self.free.acquire().await.map_err(|_| sqlx::Error::PoolClosed)?;
        // Permits and slots are as many, so a permit holder finds one unlocked.
        let mut slot = self.slots.iter().find_map(|s| s.try_lock().ok()).ok_or(sqlx::Error::PoolTimedOut)?;
        if slot.is_none() {
            *slot = Some(self.options.connect().await?);
        }
        Ok(Reader { slot, _permit: permit })
    }
}

impl Reader<'_> {
    /// The connection, to run queries on (always there: `acquire` opens it).
    pub fn connection(&mut self) -> sqlx::Result<&mut sqlx::SqliteConnection> {
        self.slot.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Closes the connection after an error, so the next request opens a fresh one.
    pub fn discard(mut self) {
        *self.slot = None;
    }
}

/// Makes sure the tenant row exists.
pub async fn ensure_tenant(db: &Db, tenant: &str, now: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO tenants (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
        .bind(tenant)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};

    use super::*;

    #[tokio::test]
    async fn readers_wait_when_all_are_lent_and_see_what_the_pool_committed() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = open(&dir.path().join("r.db")).await.expect("database");
        let readers = Readers::new(&db);
        let mut lent = Vec::new();
        for _ in 0..Readers::SLOTS {
            lent.push(readers.acquire().await.expect("a reader"));
        }
        // One more waits for a connection instead of failing or opening a fifth.
        let mut waiting = Box::pin(readers.acquire());
        assert!(matches!(waiting.as_mut().poll(&mut Context::from_waker(Waker::noop())), Poll::Pending));
        ensure_tenant(&db, "t-new", "2026-01-01T00:00:00.000Z").await.expect("a write through the pool");
        lent.pop();
        let mut reader = waiting.await.expect("the freed reader");
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id = 't-new'")
            .fetch_one(reader.connection().expect("a connection"))
            .await
            .expect("a read");
        assert_eq!(n, 1);
        reader.discard();
        let mut again = readers.acquire().await.expect("a reader opened anew after a discard");
        assert!(again.connection().is_ok());
    }
}
