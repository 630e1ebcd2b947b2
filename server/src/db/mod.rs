//! Persistence: the database pool (SQLite by default, PostgreSQL when several instances share
//! state), the migrations of each backend, and one module of queries per resource.
//!
//! Backend differences belong here alone; handlers call typed functions. Each query is written
//! once, with `$1`-style parameters (both backends read them), and run on either backend by
//! [`with_conn!`]; the PostgreSQL schema defines the few SQLite functions the queries use
//! (`instr`, `json_extract`, `json_patch`), so that no query needs a second spelling.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, SqliteConnection, SqlitePool};

/// Runs `$body` on one connection of either backend: `$c` is a `&mut` connection (reborrow it
/// as `&mut *$c` to run several queries), `DB` names the backend's `sqlx::Database` type (for a
/// `QueryBuilder::<DB>`) and `PG` says whether it is PostgreSQL. `$ex` is anything that becomes
/// an [`Ex`]: `&Db` (a pooled connection is taken for the body), `&mut Tx`, `&mut Reader`.
macro_rules! with_conn {
    ($ex:expr, |$c:ident| $body:expr) => {{
        #[allow(unused_imports)]
        use $crate::db::Ex as __Ex;
        match __Ex::from($ex) {
            __Ex::SqlitePool(pool) => {
                #[allow(dead_code)]
                type DB = ::sqlx::Sqlite;
                #[allow(dead_code)]
                const PG: bool = false;
                let mut pooled = pool.acquire().await?;
                let $c: &mut ::sqlx::SqliteConnection = &mut pooled;
                $body
            }
            __Ex::Sqlite($c) => {
                #[allow(dead_code)]
                type DB = ::sqlx::Sqlite;
                #[allow(dead_code)]
                const PG: bool = false;
                $body
            }
            __Ex::PgPool(pool) => {
                #[allow(dead_code)]
                type DB = ::sqlx::Postgres;
                #[allow(dead_code)]
                const PG: bool = true;
                let mut pooled = pool.acquire().await?;
                let $c: &mut ::sqlx::PgConnection = &mut pooled;
                $body
            }
            __Ex::Postgres($c) => {
                #[allow(dead_code)]
                type DB = ::sqlx::Postgres;
                #[allow(dead_code)]
                const PG: bool = true;
                $body
            }
        }
    }};
}

pub mod alarms;
pub mod audit;
pub mod ca;
pub mod check;
pub mod copy;
pub mod crl;
pub mod devices;
pub mod inventory;
pub mod logins;
pub mod options;
pub mod rotation;
pub mod sessions;
pub mod signing_keys;
pub mod trusted_certificates;
pub mod users;

/// Where the data lives: `sqlite://<path>` (or a bare path) or `postgres://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// Reads a database URL: `sqlite://<path>`, `sqlite:<path>`, `postgres://…` or
    /// `postgresql://…`.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url).context("reading the PostgreSQL URL")?;
            return Ok(Self::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
        match path {
            Some(p) if !p.is_empty() && !p.starts_with(":memory:") => {
                Ok(Self::Sqlite(PathBuf::from(p.split('?').next().unwrap_or(p))))
            }
            _ => anyhow::bail!("unsupported database URL (use sqlite://<file> or postgres://…): {}", redact(url)),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            Self::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// A database URL without its password (in the user part or a `password=` parameter), for
/// logs and errors.
pub fn redact(url: &str) -> String {
    let (url, query) = url.split_once('?').map_or((url, None), |(u, q)| (u, Some(q)));
    let query = query.map(|q| {
        q.split('&')
            .map(|p| if p.to_ascii_lowercase().starts_with("password=") { "password=***" } else { p })
            .collect::<Vec<_>>()
            .join("&")
    });
    let base = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!(
                "{}{user}{}@{}",
                &url[..scheme + 3],
                if userinfo.contains(':') { ":***" } else { "" },
                &url[at + 1..]
            )
        }
        _ => url.to_owned(),
    };
    match query {
        Some(q) => format!("{base}?{q}"),
        None => base,
    }
}

/// The two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        }
    }
}

/// How many connections the pool keeps.
#[derive(Debug, Clone, Copy)]
pub struct PoolSizes {
    /// Most open connections.
    pub max: u32,
    /// Connections kept open while idle.
    pub min: u32,
}

impl Default for PoolSizes {
    fn default() -> Self {
        Self { max: 8, min: 0 }
    }
}

/// The database pool of either backend. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction of either backend; dropped without [`Tx::commit`], it is rolled back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Where a query runs: a pool (a connection is taken for the query) or a connection (of a
/// transaction or a reader). Made by `From` from `&Db`, `&mut Tx` and `&mut Reader`.
pub enum Ex<'a> {
    SqlitePool(&'a SqlitePool),
    Sqlite(&'a mut SqliteConnection),
    PgPool(&'a PgPool),
    Postgres(&'a mut PgConnection),
}

impl<'a> From<&'a Db> for Ex<'a> {
    fn from(db: &'a Db) -> Self {
        match db {
            Db::Sqlite(p) => Ex::SqlitePool(p),
            Db::Postgres(p) => Ex::PgPool(p),
        }
    }
}

impl<'a> From<&'a mut Tx> for Ex<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        match tx {
            Tx::Sqlite(t) => Ex::Sqlite(t),
            Tx::Postgres(t) => Ex::Postgres(t),
        }
    }
}

impl<'a, 'b> From<&'a mut Ex<'b>> for Ex<'a> {
    fn from(ex: &'a mut Ex<'b>) -> Self {
        match ex {
            Ex::SqlitePool(p) => Ex::SqlitePool(p),
            Ex::Sqlite(c) => Ex::Sqlite(c),
            Ex::PgPool(p) => Ex::PgPool(p),
            Ex::Postgres(c) => Ex::Postgres(c),
        }
    }
}

impl<'a> From<&'a mut SqliteConnection> for Ex<'a> {
    fn from(c: &'a mut SqliteConnection) -> Self {
        Ex::Sqlite(c)
    }
}

impl<'a> From<&'a mut PgConnection> for Ex<'a> {
    fn from(c: &'a mut PgConnection) -> Self {
        Ex::Postgres(c)
    }
}

impl Db {
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Starts a transaction that reads and then writes what `lock` names (say
    /// `inventory/<tenant>`), so that what it read cannot change before it writes. SQLite takes
    /// its write lock at once (`BEGIN IMMEDIATE`: no read snapshot to upgrade later); PostgreSQL,
    /// where writers do not wait for each other, takes an advisory lock on the name, held until
    /// the transaction ends, so such transactions on one name run one after the other on every
    /// instance.
    pub async fn begin_serialized(&self, lock: &str) -> sqlx::Result<Tx> {
        match self {
            Db::Sqlite(p) => Ok(Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?)),
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext('anchorage/' || $1))")
                    .bind(lock)
                    .execute(&mut *tx)
                    .await?;
                Ok(Tx::Postgres(tx))
            }
        }
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }

    /// Ends the transaction without storing anything.
    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(t) => t.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Opens the database (creating an SQLite file if needed) and applies every migration; a
/// failed migration stops start-up. On PostgreSQL the migrations run under an advisory lock,
/// so instances started together apply them once.
pub async fn open(location: &Location, sizes: PoolSizes) -> anyhow::Result<Db> {
    match location {
        Location::Sqlite(path) => open_sqlite(path, sizes).await,
        Location::Postgres(url) => {
            let options = PgConnectOptions::from_str(url).context("reading the PostgreSQL URL")?;
            let pool = PgPoolOptions::new()
                .max_connections(sizes.max.max(1))
                .min_connections(sizes.min.min(sizes.max))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .with_context(|| format!("connecting to {}", redact(url)))?;
            POSTGRES_MIGRATIONS.run(&pool).await.context("applying database migrations")?;
            Ok(Db::Postgres(pool))
        }
    }
}

async fn open_sqlite(path: &Path, sizes: PoolSizes) -> anyhow::Result<Db> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir)?;
    }
    private_files(path)?;
    // No ping before handing out a connection: a local file does not go away, and the ping is
    // a round trip to the connection's thread on every query.
    let pool = SqlitePoolOptions::new()
        .max_connections(sizes.max.max(1))
        .min_connections(sizes.min.min(sizes.max))
        .test_before_acquire(false)
        .after_release(|conn, _| {
            Box::pin(async move {
                use sqlx::Connection as _;
                // Committed work (nearly every release) leaves no transaction: nothing to do.
                if !conn.is_in_transaction() {
                    return Ok(true);
                }
                // A transaction dropped without a commit queued its rollback: let it run.
                conn.ping().await?;
                // Still counted open: the rollback failed because SQLite had ended the
                // transaction itself (it does on SQLITE_FULL, a full disk), and sqlx would take
                // the next BEGIN for a savepoint inside it. Such a connection is closed.
                Ok(!conn.is_in_transaction())
            })
        })
        .connect_with(sqlite_options(path)?)
        .await
        .with_context(|| format!("opening database {}", path.display()))?;
    SQLITE_MIGRATIONS.run(&pool).await.context("applying database migrations")?;
    // SQLite gives its -wal and -shm files the database file's mode; made sure of here, by path
    // only: opening (and closing) the file now would drop this process's POSIX locks on it, and
    // SQLite would then take another process's last close for the last user and delete the WAL.
    private_modes(path)?;
    Ok(Db::Sqlite(pool))
}

fn sqlite_options(path: &Path) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10)))
}

/// Whether the database answers and has every migration this build knows applied: what
/// `GET /ready` reports. The error says what is wrong.
pub async fn ready(db: &Db) -> Result<(), String> {
    let (migrator, applied) = match db {
        Db::Sqlite(p) => (&SQLITE_MIGRATIONS, applied_versions(p).await),
        Db::Postgres(p) => (&POSTGRES_MIGRATIONS, applied_versions(p).await),
    };
    let applied = applied.map_err(|e| format!("the database does not answer: {e}"))?;
    let missing: Vec<i64> = migrator.iter().map(|m| m.version).filter(|v| !applied.contains(v)).collect();
    if missing.is_empty() { Ok(()) } else { Err(format!("migrations not applied: {missing:?}")) }
}

async fn applied_versions<'a, E>(executor: E) -> sqlx::Result<Vec<i64>>
where
    E: sqlx::Executor<'a>,
    i64: for<'r> sqlx::Decode<'r, E::Database> + sqlx::Type<E::Database>,
    bool: for<'r> sqlx::Encode<'r, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, E::Database>,
    (i64,): for<'r> sqlx::FromRow<'r, <E::Database as sqlx::Database>::Row>,
{
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success = $1")
        .bind(true)
        .fetch_all(executor)
        .await?;
    Ok(rows.into_iter().map(|(v,)| v).collect())
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
/// makes the database's files that exist (also `-wal`, `-shm`) 0600. Only before the pool is
/// open (see [`private_modes`]).
fn private_files(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("creating database {}", path.display()))?;
    }
    private_modes(path)
}

/// Makes the database's files that exist (also `-wal`, `-shm`) 0600, by path, without opening
/// them.
fn private_modes(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} private (0600)", file.display()))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A few connections of their own for the device-token endpoint's one read, used outside the
/// pool on SQLite: sqlx pings a pooled connection (a round trip to its thread) each time it
/// goes back to the pool, which on that endpoint cost as much CPU as the query. Each
/// connection serves one request at a time; they are opened on first use with the pool's
/// options. On PostgreSQL the pool serves.
pub struct Readers {
    inner: ReadersInner,
}

enum ReadersInner {
    Sqlite {
        slots: Vec<tokio::sync::Mutex<Option<SqliteConnection>>>,
        /// One permit per slot: a holder is sure to find a free slot.
        free: tokio::sync::Semaphore,
        options: std::sync::Arc<SqliteConnectOptions>,
    },
    Postgres(PgPool),
}

/// A connection lent by [`Readers`] until dropped.
pub struct Reader<'a> {
    inner: ReaderInner<'a>,
}

enum ReaderInner<'a> {
    // Dropped in this order: the slot is free before its permit is returned.
    Sqlite { slot: tokio::sync::MutexGuard<'a, Option<SqliteConnection>>, _permit: tokio::sync::SemaphorePermit<'a> },
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

impl Readers {
    /// How many connections: enough for the device listener's concurrent requests on a few
    /// cores, since a read takes tens of microseconds.
    const SLOTS: usize = 4;

    pub fn new(db: &Db) -> Self {
        let inner = match db {
            Db::Sqlite(p) => ReadersInner::Sqlite {
                slots: (0..Self::SLOTS).map(|_| tokio::sync::Mutex::new(None)).collect(),
                free: tokio::sync::Semaphore::new(Self::SLOTS),
                options: p.connect_options(),
            },
            Db::Postgres(p) => ReadersInner::Postgres(p.clone()),
        };
        Self { inner }
    }

    /// The first connection to be free; opened if needed.
    pub async fn acquire(&self) -> sqlx::Result<Reader<'_>> {
        use sqlx::ConnectOptions as _;
        match &self.inner {
            ReadersInner::Sqlite { slots, free, options } => {
                let permit = free.acquire().await.map_err(|_| sqlx::Error::PoolClosed)?;
                // Permits and slots are as many, so a permit holder finds one unlocked.
                let mut slot = slots.iter().find_map(|s| s.try_lock().ok()).ok_or(sqlx::Error::PoolTimedOut)?;
                if slot.is_none() {
                    *slot = Some(options.connect().await?);
                }
                Ok(Reader { inner: ReaderInner::Sqlite { slot, _permit: permit } })
            }
            ReadersInner::Postgres(pool) => Ok(Reader { inner: ReaderInner::Postgres(pool.acquire().await?) }),
        }
    }
}

impl Reader<'_> {
    /// The connection, to run queries on (always there: `acquire` opens it).
    pub fn connection(&mut self) -> sqlx::Result<Ex<'_>> {
        match &mut self.inner {
            ReaderInner::Sqlite { slot, .. } => Ok(Ex::Sqlite(slot.as_mut().ok_or(sqlx::Error::PoolClosed)?)),
            ReaderInner::Postgres(c) => Ok(Ex::Postgres(c)),
        }
    }

    /// Closes the connection after an error, so the next request opens a fresh one.
    pub fn discard(self) {
        match self.inner {
            ReaderInner::Sqlite { mut slot, .. } => *slot = None,
            ReaderInner::Postgres(c) => drop(c.detach()),
        }
    }
}

/// Makes sure the tenant row exists.
pub async fn ensure_tenant(db: &Db, tenant: &str, now: &str) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query("INSERT INTO tenants (id, created_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(tenant)
            .bind(now)
            .execute(c)
            .await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};

    use super::*;

    #[test]
    fn database_urls_are_read_and_shown_without_passwords() {
        assert_eq!(redact("postgres://app:s3cret@db:5432/a"), "postgres://app:***@db:5432/a");
        assert_eq!(redact("postgres://db/a?user=app&password=s3cret&x=1"), "postgres://db/a?user=app&password=***&x=1");
        assert_eq!(redact("postgres://app@db/a"), "postgres://app@db/a");
        assert!(
            matches!(Location::parse("sqlite://data/anchorage.db"), Ok(Location::Sqlite(p)) if p == Path::new("data/anchorage.db"))
        );
        assert!(matches!(Location::parse("postgresql://app@db/a"), Ok(Location::Postgres(_))));
        let refused = Location::parse("mysql://app:s3cret@db/a").expect_err("refused");
        assert!(!refused.to_string().contains("s3cret"), "{refused}");
    }

    #[tokio::test]
    async fn readers_wait_when_all_are_lent_and_see_what_the_pool_committed() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = open(&Location::Sqlite(dir.path().join("r.db")), PoolSizes::default()).await.expect("database");
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
        let Ex::Sqlite(c) = reader.connection().expect("a connection") else { panic!("an SQLite reader") };
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM tenants WHERE id = 't-new'").fetch_one(c).await.expect("a read");
        assert_eq!(n, 1);
        reader.discard();
        let mut again = readers.acquire().await.expect("a reader opened anew after a discard");
        assert!(again.connection().is_ok());
    }
}
