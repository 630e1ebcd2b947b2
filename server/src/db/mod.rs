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

/// Makes sure the tenant row exists.
pub async fn ensure_tenant(db: &Db, tenant: &str, now: &str) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO tenants (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
        .bind(tenant)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
