//! Persistence. [`Store`] is what the domain needs from a database; [`SqliteStore`] is the
//! embedded implementation. A PostgreSQL implementation (several servers sharing one
//! database) implements the same trait.

mod sqlite;

pub use sqlite::SqliteStore;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::account::{AccountId, NewAccount, PersonId};
use crate::organisation::{IdentityStore, Organisation, OrganisationId, StoreKind};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot open database {path}: {reason}")]
    Open { path: String, reason: String },
    /// A uniqueness rule was broken (e.g. the username exists in that store).
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers once the database can serve a query (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    async fn organisation_by_slug(&self, slug: &str) -> Result<Option<Organisation>, StoreError>;

    async fn create_organisation(
        &self,
        slug: &str,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Organisation, StoreError>;

    async fn create_identity_store(
        &self,
        organisation: OrganisationId,
        name: &str,
        kind: StoreKind,
        priority: i64,
        now: OffsetDateTime,
    ) -> Result<IdentityStore, StoreError>;

    /// Creates an account; `person` links it to an existing person's other accounts,
    /// `None` creates a new person.
    async fn create_account(
        &self,
        account: &NewAccount,
        person: Option<PersonId>,
        now: OffsetDateTime,
    ) -> Result<(AccountId, PersonId), StoreError>;
}
