//! Persistence, split per aggregate. Each aggregate has a read trait, implemented by a
//! plain connection ([`Store::read`]) and by a transaction alike, so a read is written
//! once and works inside either; and a write trait, implemented only by a transaction
//! ([`Store::begin`]). [`Tx`] is the umbrella a use case holds.
//!
//! Anything that reads state, decides and writes does so inside one [`Tx`], which makes
//! the read-decide-write atomic under any concurrency: SQLite takes its single write lock
//! with `BEGIN IMMEDIATE`; PostgreSQL takes a row lock on what the decision reads (see
//! `postgres` and docs/ARCHITECTURE.md for which statement makes each rule atomic).
//! The conformance suite (`latchkey-store-tests`) holds every backend to these rules.
//!
//! Accounts (lock state and passwords) are one trait of their own, so a directory that
//! keeps its accounts itself can implement just that one.

mod accounts;
mod audit;
mod backup;
mod copy;
mod database;
mod factors;
mod flows;
mod helpdesk;
mod limits;
mod operators;
mod organisations;
mod outbox;
pub mod postgres;
mod sessions;
pub mod sqlite;
mod support;

use async_trait::async_trait;

pub use accounts::{AccountOrder, AccountSearch, AccountsRead, AccountsWrite};
pub use audit::{AuditCount, AuditRead, AuditSearch, AuditWrite};
pub use backup::{
    backup_sqlite, check_sqlite, restore_sqlite, verify_stored_chain, Checked, Restored,
    ServingLock,
};
pub use copy::{copy_sqlite_to_postgres, Copied};
pub use database::{open, Database};
pub use factors::{FactorsRead, FactorsWrite};
pub use flows::{FlowsRead, FlowsWrite};
pub use helpdesk::{HelpdeskRead, HelpdeskWrite};
pub use limits::{LimitsRead, LimitsWrite};
pub use operators::{OperatorsRead, OperatorsWrite};
pub use organisations::{OrganisationsRead, OrganisationsWrite};
pub use outbox::{OutboxRead, OutboxWrite};
pub use postgres::PgDatabase;
pub use sessions::{SessionsRead, SessionsWrite};
pub use support::{SupportRead, SupportWrite};

pub use crate::error::StoreError;

/// Every read, on a connection or inside a transaction.
pub trait Read:
    AccountsRead
    + OrganisationsRead
    + OperatorsRead
    + FlowsRead
    + FactorsRead
    + SessionsRead
    + AuditRead
    + OutboxRead
    + LimitsRead
    + HelpdeskRead
    + SupportRead
    + Send
{
}

impl<T> Read for T where
    T: AccountsRead
        + OrganisationsRead
        + OperatorsRead
        + FlowsRead
        + FactorsRead
        + SessionsRead
        + AuditRead
        + OutboxRead
        + LimitsRead
        + HelpdeskRead
        + SupportRead
        + Send
{
}

/// A read-write transaction. Dropped without [`Tx::commit`], it rolls back.
#[async_trait]
pub trait Tx:
    Read
    + AccountsWrite
    + OrganisationsWrite
    + OperatorsWrite
    + FlowsWrite
    + FactorsWrite
    + SessionsWrite
    + AuditWrite
    + OutboxWrite
    + LimitsWrite
    + HelpdeskWrite
    + SupportWrite
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
