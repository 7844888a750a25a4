//! PostgreSQL: one database shared by any number of Latchkey servers. Every rule that is
//! atomic on SQLite because SQLite has one write lock is made atomic across processes by
//! one of these, and no others (measured in `../shared/SERVICES.md`; docs/ARCHITECTURE.md
//! lists which rule uses which):
//!
//! - a read inside a transaction that decides a write takes `FOR NO KEY UPDATE` on the
//!   row ([`Conn::LOCK`]; plain `FOR UPDATE` would deadlock with inserts that reference
//!   the row through a foreign key);
//! - a counter whose row may not exist yet is inserted first (`ON CONFLICT DO NOTHING`),
//!   then locked and read;
//! - the audit chain's head is read and appended under `pg_advisory_xact_lock`, taken as
//!   late as possible (at the append);
//! - the outbox claim selects with `FOR UPDATE SKIP LOCKED`;
//! - single-use things are one conditional `UPDATE … RETURNING` (or `INSERT … ON
//!   CONFLICT DO NOTHING RETURNING` for a spent captcha).
//!
//! Transactions run at READ COMMITTED: a locking read waits for the holder and then sees
//! its committed row. Migrations (`core/migrations/postgres/`, embedded) run at start on
//! a connection of their own under sqlx's session advisory lock, so servers starting
//! together apply them once; the connection is closed afterwards, which releases the lock
//! even if a migration failed.

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

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions, Postgres};
use sqlx::{ConnectOptions, Connection, PgPool, Transaction};

use super::{Read, Store, StoreError, Tx};

/// A PostgreSQL database and how this process uses it. Its URL may hold a password, so
/// it is shown (`Display`, `Debug`) with the password replaced by `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct PgDatabase {
    url: String,
    /// Connections this process keeps open at most.
    pub pool_size: u32,
    /// Longest a statement may run, waiting for a lock included, before it fails.
    pub statement_timeout: Duration,
}

impl PgDatabase {
    /// Connections per process and statement timeout when the configuration names none.
    pub const DEFAULT_POOL_SIZE: u32 = 10;
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

    /// Checks that `url` is one PostgreSQL's client understands.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        sqlx::postgres::PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Url(format!("not a PostgreSQL URL ({e})")))?;
        Ok(Self {
            url: url.to_owned(),
            pool_size: Self::DEFAULT_POOL_SIZE,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
        })
    }

    /// The URL as configured, password included: for connecting only, never to show.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The URL with the password (if any) replaced by `***`.
impl fmt::Display for PgDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("", &self.url));
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                let hidden = if userinfo.contains(':') { ":***" } else { "" };
                write!(f, "{scheme}://{user}{hidden}@{host}{tail}")
            }
            None => write!(f, "{scheme}://{rest}"),
        }
    }
}

impl fmt::Debug for PgDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgDatabase")
            .field("url", &self.to_string())
            .field("pool_size", &self.pool_size)
            .field("statement_timeout", &self.statement_timeout)
            .finish()
    }
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects, applies pending migrations (once, whichever server gets there first)
    /// and opens the pool.
    pub async fn open(database: &PgDatabase) -> Result<Self, StoreError> {
        let open_error = |e: &dyn std::fmt::Display| StoreError::Open {
            path: database.to_string(),
            reason: e.to_string(),
        };
        let timeout = database.statement_timeout.as_millis().to_string();
        let options = PgConnectOptions::from_str(database.url())
            .map_err(|e| open_error(&e))?
            .application_name("latchkey")
            .options([("statement_timeout", timeout.as_str())]);
        let mut migrating = options.connect().await.map_err(|e| open_error(&e))?;
        let migrated = MIGRATOR.run(&mut migrating).await;
        // Closing the session releases the migration lock, whatever happened.
        let _ = migrating.close().await;
        migrated?;
        let pool = PgPoolOptions::new()
            .max_connections(database.pool_size)
            .connect_with(options)
            .await
            .map_err(|e| open_error(&e))?;
        Ok(Self { pool })
    }

    /// The pool, for the copy from SQLite and for tests that look behind the traits.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn read(&self) -> Result<Box<dyn Read>, StoreError> {
        let read: PgRead = Pg(self.pool.acquire().await?);
        Ok(Box::new(read))
    }

    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx: PgTx = Pg(self.pool.begin().await?);
        Ok(Box::new(tx))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// What statements run on: a pooled connection or a transaction. The read traits are
/// implemented once, for [`Pg`] over either.
trait Conn: Send {
    /// Appended to a read that decides a write: inside a transaction it locks the rows
    /// read until the transaction ends; on a plain connection it is empty.
    const LOCK: &'static str;

    fn conn(&mut self) -> &mut PgConnection;
}

impl Conn for PoolConnection<Postgres> {
    const LOCK: &'static str = "";

    fn conn(&mut self) -> &mut PgConnection {
        self
    }
}

/// A read-write transaction (READ COMMITTED); its locking reads hold their rows.
impl Conn for Transaction<'static, Postgres> {
    const LOCK: &'static str = " FOR NO KEY UPDATE";

    fn conn(&mut self) -> &mut PgConnection {
        self
    }
}

/// Statements on a connection or in a transaction (a wrapper, so that these read
/// implementations and SQLite's do not overlap).
struct Pg<C>(C);

impl<C: Conn> Pg<C> {
    fn conn(&mut self) -> &mut PgConnection {
        self.0.conn()
    }
}

/// Reads outside a transaction, on one pooled connection.
type PgRead = Pg<PoolConnection<Postgres>>;

/// A read-write transaction.
type PgTx = Pg<Transaction<'static, Postgres>>;

#[async_trait]
impl Tx for PgTx {
    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.0.commit().await?;
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    fn migrations(dir: &Path) -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect()
    }

    /// Every SQLite migration has its PostgreSQL twin of the same number and name (see
    /// docs/ARCHITECTURE.md, "A new store backend"), and no twin is left without one.
    #[test]
    fn every_migration_has_its_postgres_twin() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let sqlite = migrations(&root);
        let postgres = migrations(&root.join("postgres"));
        let missing: Vec<_> = sqlite.difference(&postgres).collect();
        let extra: Vec<_> = postgres.difference(&sqlite).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "write core/migrations/postgres/ twins of {missing:?}; remove {extra:?}"
        );
        assert!(sqlite.len() >= 8);
    }
}
