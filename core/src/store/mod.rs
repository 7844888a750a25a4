//! Persistence. [`Store`] is what the domain needs from a database; [`SqliteStore`] is the
//! embedded implementation. A PostgreSQL implementation (several servers sharing one
//! database) implements the same traits, taking row locks where SQLite takes the
//! database's write lock.
//!
//! Reads that need no consistency with a write go straight to the [`Store`]. Anything
//! that reads state, decides and writes does so inside one [`Tx`], which holds the write
//! lock from its first statement: that is what makes "count a failure and lock" atomic
//! under any concurrency.

mod sqlite;

pub use sqlite::SqliteStore;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::account::{Account, AccountId, AccountName, NewAccount, PersonId};
use crate::audit::{AuditEvent, AuditRecord};
use crate::lockout::{LockState, LockoutPolicy};
use crate::organisation::{IdentityStore, Organisation, OrganisationId, StoreKind};
use crate::session::SessionRecord;

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

    /// Starts a read-write transaction holding the write lock.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;

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

    /// The account a typed name refers to: in the named store, or else in the store of
    /// lowest priority that has the username.
    async fn account_by_name(&self, name: &AccountName) -> Result<Option<Account>, StoreError>;

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError>;

    async fn lockout_policy(&self, org: OrganisationId) -> Result<LockoutPolicy, StoreError>;

    async fn set_lockout_policy(
        &self,
        org: OrganisationId,
        policy: &LockoutPolicy,
    ) -> Result<(), StoreError>;

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// Sessions of an account that are not revoked (they may have timed out).
    async fn sessions_of(&self, account: AccountId) -> Result<Vec<SessionRecord>, StoreError>;

    /// Up to `limit` audit records after `after_seq`, in order.
    async fn audit_records(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// The newest audit records about `account` (as subject or actor), newest first.
    async fn audit_of(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;
}

/// A read-write transaction. Dropped without [`Tx::commit`], it rolls back.
#[async_trait]
pub trait Tx: Send {
    /// The account, read under this transaction's lock.
    async fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError>;

    /// The account and its organisation's lockout policy, in one read under the lock.
    async fn account_with_policy(
        &mut self,
        id: AccountId,
    ) -> Result<Option<(Account, LockoutPolicy)>, StoreError>;

    async fn lockout_policy(&mut self, org: OrganisationId) -> Result<LockoutPolicy, StoreError>;

    async fn save_lock_state(
        &mut self,
        id: AccountId,
        state: &LockState,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn create_session(
        &mut self,
        record: &SessionRecord,
        client: Option<&str>,
    ) -> Result<(), StoreError>;

    async fn touch_session(&mut self, id_hash: &str, now: OffsetDateTime)
        -> Result<(), StoreError>;

    /// Revokes one session; answers whether it was live.
    async fn revoke_session(
        &mut self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Revokes every session of an account; answers how many were revoked.
    async fn revoke_sessions_of(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// Appends to the audit log, continuing its hash chain.
    async fn append_audit(
        &mut self,
        event: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<AuditRecord, StoreError>;

    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
