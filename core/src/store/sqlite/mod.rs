//! The embedded store: one SQLite file, WAL mode, migrations applied at start.
//!
//! A transaction begins with `BEGIN IMMEDIATE`, taking SQLite's single write lock at once,
//! so concurrent read-decide-write sequences are serialised instead of failing. Reads go
//! through a pooled connection ([`SqliteRead`]) or the transaction ([`SqliteTx`]); both
//! are a [`Conn`], and each aggregate's read trait is implemented once for any `Conn`.

mod accounts;
mod audit;
mod factors;
mod flows;
mod helpdesk;
mod limits;
mod operators;
mod organisations;
mod outbox;
mod rows;
mod sessions;
mod support;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{SqlitePool, Transaction};

use super::{Read, Store, StoreError, Tx};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another writer. Writes are short, so this is only
/// reached under extreme contention.
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(30);

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| open_error(e.to_string()))?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// A store on a pool opened elsewhere, without migrations (checking a backup reads
    /// it as it is).
    pub(crate) fn from_pool(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The pool, for the copy to PostgreSQL and core's own tests that look behind the
    /// traits.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn read(&self) -> Result<Box<dyn Read>, StoreError> {
        Ok(Box::new(SqliteRead {
            conn: self.pool.acquire().await?,
        }))
    }

    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx { tx }))
    }

    /// Closing the pool checkpoints the write-ahead log into the database file.
    async fn close(&self) {
        self.pool.close().await;
    }
}

/// The connection a read or a transaction runs its statements on.
trait Conn: Send {
    fn conn(&mut self) -> &mut SqliteConnection;
}

/// Reads outside a transaction, on one pooled connection.
struct SqliteRead {
    conn: PoolConnection<Sqlite>,
}

impl Conn for SqliteRead {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

/// A write transaction, holding SQLite's write lock from its first statement.
struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

impl Conn for SqliteTx {
    fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A uniqueness violation as [`StoreError::Conflict`] naming `what`; anything else as is.
fn conflict(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(e),
    }
}
