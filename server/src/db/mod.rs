//! Persistence: the SQLite pool, embedded migrations, and one module of queries per resource.
//!
//! Backend differences belong here alone; handlers call typed functions.

pub mod audit;
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
        std::fs::create_dir_all(dir).with_context(|| format!("creating data directory {}", dir.display()))?;
    }
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
    Ok(pool)
}

/// A few connections of their own for the device-token endpoint's one read, used outside the
/// pool: sqlx pings a pooled connection (a round trip to its thread) each time it goes back to
/// the pool, which on that endpoint cost as much CPU as the query. Each connection serves one
/// request at a time; they are opened on first use with the pool's options.
pub struct Readers {
    slots: Vec<tokio::sync::Mutex<Option<sqlx::SqliteConnection>>>,
    options: std::sync::Arc<SqliteConnectOptions>,
    next: std::sync::atomic::AtomicUsize,
}

/// A connection lent by [`Readers`] until dropped.
pub struct Reader<'a>(tokio::sync::MutexGuard<'a, Option<sqlx::SqliteConnection>>);

impl Readers {
    /// How many connections: enough for the device listener's concurrent requests on a few
    /// cores, since a read takes tens of microseconds.
    const SLOTS: usize = 4;

    pub fn new(db: &Db) -> Self {
        Self {
            slots: (0..Self::SLOTS).map(|_| tokio::sync::Mutex::new(None)).collect(),
            options: db.connect_options(),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// A free connection, or the next one in turn once it is free; opened if needed.
    pub async fn acquire(&self) -> sqlx::Result<Reader<'_>> {
        use sqlx::ConnectOptions as _;
        let mut guard = match self.slots.iter().find_map(|s| s.try_lock().ok()) {
            Some(g) => g,
            None => self.slots[self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % self.slots.len()].lock().await,
        };
        if guard.is_none() {
            *guard = Some(self.options.connect().await?);
        }
        Ok(Reader(guard))
    }
}

impl Reader<'_> {
    /// The connection, to run queries on (always there: `acquire` opens it).
    pub fn connection(&mut self) -> sqlx::Result<&mut sqlx::SqliteConnection> {
        self.0.as_mut().ok_or(sqlx::Error::PoolClosed)
    }

    /// Closes the connection after an error, so the next request opens a fresh one.
    pub fn discard(mut self) {
        *self.0 = None;
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
