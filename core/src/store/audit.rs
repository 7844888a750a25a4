//! The audit log: append-only, hash-chained.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::account::AccountId;
use crate::audit::{AuditEvent, AuditRecord};

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
