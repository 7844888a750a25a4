//! Persistence, split per aggregate. Each aggregate has a read trait, implemented by a
//! plain connection ([`Store::read`]) and by a transaction alike, so a read is written
//! once and works inside either; and a write trait, implemented only by a transaction
//! ([`Store::begin`]). [`Tx`] is the umbrella a use case holds.
//!
//! Anything that reads state, decides and writes does so inside one [`Tx`], which makes
//! the read-decide-write atomic under any concurrency: SQLite takes its single write lock
//! with `BEGIN IMMEDIATE`; a server database takes a row lock on what the decision reads.
//! The conformance suite (`latchkey-store-tests`) holds every backend to these rules.
//!
//! Accounts (lock state and passwords) are one trait of their own, so a directory that
//! keeps its accounts itself can implement just that one.

mod accounts;
mod audit;
mod factors;
mod flows;
mod organisations;
mod outbox;
mod sessions;
pub mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

pub use accounts::{AccountsRead, AccountsWrite};
pub use audit::{AuditRead, AuditWrite};
pub use factors::{FactorsRead, FactorsWrite};
pub use flows::{FlowsRead, FlowsWrite};
pub use organisations::{OrganisationsRead, OrganisationsWrite};
pub use outbox::{OutboxRead, OutboxWrite};
pub use sessions::{SessionsRead, SessionsWrite};

pub use crate::error::StoreError;

/// Every read, on a connection or inside a transaction.
pub trait Read:
    AccountsRead
    + OrganisationsRead
    + FlowsRead
    + FactorsRead
    + SessionsRead
    + AuditRead
    + OutboxRead
    + Send
{
}

impl<T> Read for T where
    T: AccountsRead
        + OrganisationsRead
        + FlowsRead
        + FactorsRead
        + SessionsRead
        + AuditRead
        + OutboxRead
        + Send
{
}

/// A read-write transaction. Dropped without [`Tx::commit`], it rolls back.
#[async_trait]
pub trait Tx:
    Read
    + AccountsWrite
    + OrganisationsWrite
    + FlowsWrite
    + FactorsWrite
    + SessionsWrite
    + AuditWrite
    + OutboxWrite
{
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// A database Latchkey keeps its state in.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers once the database can serve a query (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// A connection for reads that need no consistency with a write.
    async fn read(&self) -> Result<Box<dyn Read>, StoreError>;

    /// Starts a read-write transaction (see the module documentation).
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;

    /// Releases the connections (at shutdown, so that the database is left tidy).
    async fn close(&self);
}

/// The database the `database` setting names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file: `sqlite://PATH` (`sqlite:///abs/path`), `sqlite:PATH`, or — still
    /// accepted, but deprecated — a bare path (`bare`).
    Sqlite { path: PathBuf, bare: bool },
}

impl Database {
    /// Reads the setting; an unknown scheme is refused with a message that names it.
    pub fn parse(setting: &str) -> Result<Self, StoreError> {
        let (path, bare) = match setting
            .strip_prefix("sqlite://")
            .or_else(|| setting.strip_prefix("sqlite:"))
        {
            Some(rest) => (rest, false),
            None => match setting.split_once("://") {
                Some((scheme, _)) => {
                    return Err(StoreError::Url(format!(
                        "unknown scheme `{scheme}://` (expected sqlite://PATH)"
                    )))
                }
                None => (setting, true),
            },
        };
        if path.trim().is_empty() {
            return Err(StoreError::Url(
                "name a database, e.g. sqlite://data/latchkey.sqlite3".to_owned(),
            ));
        }
        Ok(Database::Sqlite {
            path: PathBuf::from(path),
            bare,
        })
    }

    /// The database file, for a database that is one (files such as the generated
    /// secret key and the demo mailbox live next to it).
    pub fn file(&self) -> Option<&Path> {
        match self {
            Database::Sqlite { path, .. } => Some(path),
        }
    }
}

/// Opens the store, applying pending migrations.
pub async fn open(database: &Database) -> Result<Arc<dyn Store>, StoreError> {
    match database {
        Database::Sqlite { path, bare } => {
            if *bare {
                tracing::warn!(
                    "setting `database` to a bare path is deprecated: write sqlite://{}",
                    path.display()
                );
            }
            Ok(Arc::new(sqlite::SqliteStore::open(path).await?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_settings_name_a_file_or_are_refused() {
        let file = |s: &str| Database::parse(s).map(|d| d.file().map(Path::to_path_buf));
        assert_eq!(
            file("sqlite://data/latchkey.sqlite3").unwrap(),
            Some(PathBuf::from("data/latchkey.sqlite3"))
        );
        assert_eq!(
            file("sqlite:///var/lib/latchkey/db").unwrap(),
            Some(PathBuf::from("/var/lib/latchkey/db"))
        );
        assert_eq!(
            Database::parse("data/x.db").unwrap(),
            Database::Sqlite {
                path: PathBuf::from("data/x.db"),
                bare: true
            }
        );
        let err = Database::parse("mysql://db.example.org/latchkey").unwrap_err();
        assert!(err.to_string().contains("`database`"), "{err}");
        assert!(Database::parse("sqlite://").is_err());
        assert!(Database::parse("").is_err());
    }
}
