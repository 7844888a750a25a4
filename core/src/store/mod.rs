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
use crate::code::StoredCode;
use crate::factor::questions::{CatalogueQuestion, NewAnswer, QuestionPolicy, StoredAnswer};
use crate::factor::totp::TotpCredential;
use crate::factor::FactorKind;
use crate::flow::Flow;
use crate::lockout::{LockState, LockoutPolicy};
use crate::organisation::{IdentityStore, Organisation, OrganisationId, StoreKind};
use crate::outbox::{
    Claim, DeliveryResult, DeliveryStatus, Notification, NotificationId, OutboxEntry, Recipient,
};
use crate::selfservice::{FlowScope, Throttle};
use crate::session::SessionRecord;
use crate::settings::Channel;

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

    /// Every organisation, oldest first.
    async fn organisations(&self) -> Result<Vec<Organisation>, StoreError>;

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

    /// The factors of `channel`'s authentication flow, in order.
    async fn auth_flow(&self, channel: Channel) -> Result<Vec<FactorKind>, StoreError>;

    /// Every configured flow: its scope (`all`, `web`, `mobile`, `desktop`) and factors.
    async fn auth_flows(&self) -> Result<Vec<(String, Vec<FactorKind>)>, StoreError>;

    async fn flow(&self, id_hash: &str) -> Result<Option<Flow>, StoreError>;

    /// The organisation's active catalogue questions.
    async fn question_catalogue(
        &self,
        org: OrganisationId,
    ) -> Result<Vec<CatalogueQuestion>, StoreError>;

    async fn question_policy(&self, org: OrganisationId) -> Result<QuestionPolicy, StoreError>;

    /// The questions (not answers) an account has enrolled, in order.
    async fn enrolled_questions(&self, account: AccountId) -> Result<Vec<String>, StoreError>;

    async fn totp_credential(
        &self,
        account: AccountId,
    ) -> Result<Option<TotpCredential>, StoreError>;

    /// Adds a question to an organisation's catalogue (demo data, and later the console).
    async fn add_catalogue_question(
        &self,
        org: OrganisationId,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError>;
    /// Claims up to `limit` pending mails that are due at `now` and not held by a live
    /// claim, counting an attempt for each, in one atomic statement: two workers never
    /// get the same row while a claim holds. (SQLite: one `UPDATE … RETURNING` under the
    /// write lock; PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` in the same statement.)
    /// The rows come back with their codes, oldest due first.
    async fn claim_notifications(
        &self,
        claim: &Claim,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Hands back the rows still held by `claim`, unattempted (the worker is stopping).
    async fn release_notifications(&self, claim: &Claim) -> Result<u64, StoreError>;

    /// Outbox rows, newest first, optionally only those in `status`; never their codes.
    async fn notifications(
        &self,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError>;
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

    /// One outbox row, without its code.
    async fn notification(&mut self, id: NotificationId)
        -> Result<Option<OutboxEntry>, StoreError>;

    /// Sends a failed mail again: it becomes pending, due at `now`, with a fresh count of
    /// attempts and its original Message-ID. A mail whose code was wiped cannot be sent
    /// again (the person asks for a new code). Answers whether it was requeued.
    async fn requeue_notification(
        &mut self,
        id: NotificationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    async fn set_lockout_policy(
        &mut self,
        org: OrganisationId,
        policy: &LockoutPolicy,
    ) -> Result<(), StoreError>;

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

    /// Writes a mail to the outbox, to be sent once this transaction commits (and only
    /// if it does). The mail reports `notification`, which happened at `now`; the code
    /// it carries, if any, comes sealed in `sealed_code` (use [`crate::outbox::enqueue`]).
    async fn enqueue_notification(
        &mut self,
        to: &Recipient,
        organisation: OrganisationId,
        notification: &Notification,
        sealed_code: Option<&[u8]>,
        now: OffsetDateTime,
    ) -> Result<NotificationId, StoreError>;

    /// Records the outcome of an attempt. `Sent` is recorded whoever holds the row now
    /// (the mail did go out) and wipes its code; a retry or a failure only while `claim`
    /// still holds it. Answers whether anything was recorded.
    async fn record_delivery(
        &mut self,
        id: NotificationId,
        claim: &Claim,
        result: &DeliveryResult,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Appends to the audit log, continuing its hash chain.
    async fn append_audit(
        &mut self,
        event: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<AuditRecord, StoreError>;

    async fn account_by_name(&mut self, name: &AccountName) -> Result<Option<Account>, StoreError>;

    /// The name of the identity store unqualified usernames resolve to first.
    async fn default_store_name(&mut self) -> Result<Option<String>, StoreError>;

    /// The oldest organisation: whose catalogue decoys come from.
    async fn default_organisation(&mut self) -> Result<Option<OrganisationId>, StoreError>;

    async fn set_password(
        &mut self,
        account: AccountId,
        hash: &str,
        must_change: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn create_flow(&mut self, flow: &Flow, client: &str) -> Result<(), StoreError>;

    /// The flow, read under the lock.
    async fn flow(&mut self, id_hash: &str) -> Result<Option<Flow>, StoreError>;

    async fn save_flow(&mut self, flow: &Flow) -> Result<(), StoreError>;

    async fn throttle(&mut self, subject_name: &str) -> Result<Throttle, StoreError>;

    async fn save_throttle(
        &mut self,
        subject_name: &str,
        throttle: &Throttle,
    ) -> Result<(), StoreError>;

    /// Records a captcha solution as spent; answers `false` if it already was.
    async fn spend_captcha(
        &mut self,
        signature: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    async fn question_policy(&mut self, org: OrganisationId) -> Result<QuestionPolicy, StoreError>;

    async fn question_catalogue(
        &mut self,
        org: OrganisationId,
    ) -> Result<Vec<CatalogueQuestion>, StoreError>;

    async fn security_answers(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<StoredAnswer>, StoreError>;

    /// Replaces an account's questions and answers.
    async fn replace_security_answers(
        &mut self,
        account: AccountId,
        answers: &[NewAnswer],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn totp_credential(
        &mut self,
        account: AccountId,
    ) -> Result<Option<TotpCredential>, StoreError>;

    /// Stores a new authenticator secret as pending; the confirmed one (if any) stays in
    /// use until [`Tx::confirm_totp`].
    async fn save_totp_credential(
        &mut self,
        account: AccountId,
        sealed_secret: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Makes the pending secret the account's authenticator, with `step` already used.
    async fn confirm_totp(
        &mut self,
        account: AccountId,
        step: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn set_totp_last_step(&mut self, account: AccountId, step: u64)
        -> Result<(), StoreError>;

    /// Stores a one-time code's hash; answers its id.
    async fn create_code(
        &mut self,
        account: AccountId,
        purpose: &str,
        code_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<i64, StoreError>;

    async fn code(&mut self, id: i64) -> Result<Option<StoredCode>, StoreError>;

    /// Marks a code used: it will not be accepted again.
    async fn use_code(&mut self, id: i64, now: OffsetDateTime) -> Result<(), StoreError>;

    /// Counts a wrong try against a code.
    async fn count_code_attempt(&mut self, id: i64) -> Result<(), StoreError>;

    /// Sets a channel's flow, or (scope `All`) one flow for every channel.
    async fn set_auth_flow(
        &mut self,
        scope: FlowScope,
        factors: &[FactorKind],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
