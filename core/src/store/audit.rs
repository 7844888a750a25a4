//! The audit log: append-only, hash-chained.

use async_trait::async_trait;
use time::OffsetDateTime;

use latchkey_types::{Action, AuditChannel, Outcome};

use super::StoreError;
use crate::account::AccountId;
use crate::audit::{AuditEvent, AuditRecord};
use crate::organisation::OrganisationId;

/// A page of the history, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSearch {
    /// Only records about an account of this organisation: the subject's organisation
    /// decides, the actor's only for a record without a subject account.
    pub organisation: Option<OrganisationId>,
    /// Part of the actor's label, any case.
    pub actor: Option<String>,
    /// Part of the subject's name, any case.
    pub subject: Option<String>,
    pub action: Option<Action>,
    pub channel: Option<AuditChannel>,
    pub outcome: Option<Outcome>,
    /// Unix seconds: `from <= at < to`.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Only records older than this sequence number (where the previous page ended).
    pub before: Option<i64>,
    pub limit: u32,
}

/// Records of one action counted per period, for the activity charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCount {
    pub organisation: Option<OrganisationId>,
    pub action: Action,
    /// Only these channels (none: any).
    pub channels: Vec<AuditChannel>,
    pub outcome: Option<Outcome>,
    /// Unix seconds: `from <= at < to`.
    pub from: i64,
    pub to: i64,
    /// The length of a period, in seconds; periods start at `from`.
    pub period: i64,
}

#[async_trait]
pub trait AuditRead: Send {
    /// Up to `limit` audit records after `after_seq`, in order.
    async fn audit_records(
        &mut self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// The newest audit records about `account` (as subject or actor), newest first.
    async fn audit_of(
        &mut self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// A page of the history (see [`AuditSearch`]).
    async fn audit_search(&mut self, search: &AuditSearch) -> Result<Vec<AuditRecord>, StoreError>;

    /// The failed sign-ins of `account` with `from <= at <= to` (Unix seconds), newest
    /// first, at most `limit`: what led to a lock.
    async fn failed_sign_ins(
        &mut self,
        account: AccountId,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// How many names, other than `except`, failed sign-ins from `client` were made for
    /// with `from <= at < to` — unknown names included: a sign of password spraying.
    async fn names_failed_from(
        &mut self,
        client: &str,
        except: &str,
        from: i64,
        to: i64,
    ) -> Result<u32, StoreError>;

    /// How many records fall in each period (period start, count), for periods that have
    /// any, oldest first.
    async fn audit_counts(&mut self, count: &AuditCount) -> Result<Vec<(i64, u32)>, StoreError>;

    /// The client addresses with the most records of `action` with `outcome` in
    /// `from..to`, most first.
    #[allow(clippy::too_many_arguments)]
    async fn audit_top_clients(
        &mut self,
        organisation: Option<OrganisationId>,
        action: Action,
        outcome: Outcome,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<(String, u32)>, StoreError>;
}

#[async_trait]
pub trait AuditWrite: Send {
    /// Appends to the audit log, continuing its hash chain. Concurrent transactions
    /// append one after the other: the sequence has no gaps and the chain no forks.
    async fn append_audit(
        &mut self,
        event: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<AuditRecord, StoreError>;
}
