//! The outbox: mail written with the action it reports, delivered by workers.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::organisation::OrganisationId;
use crate::outbox::{Claim, DeliveryResult, DeliveryStatus, NotificationId, OutboxEntry, Outgoing};

#[async_trait]
pub trait OutboxRead: Send {
    /// Outbox rows, newest first, optionally only those of `organisation` and in
    /// `status`; never their codes.
    async fn notifications(
        &mut self,
        organisation: Option<OrganisationId>,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// One outbox row, without its code.
    async fn notification(&mut self, id: NotificationId)
        -> Result<Option<OutboxEntry>, StoreError>;

    /// One outbox row by its Message-ID's local part (what the console names it by),
    /// without its code.
    async fn notification_by_key(&mut self, key: &str) -> Result<Option<OutboxEntry>, StoreError>;

    /// How many rows the outbox holds in each status (every status, zeros included): its
    /// depth, for `/metrics`.
    async fn outbox_counts(&mut self) -> Result<Vec<(DeliveryStatus, u64)>, StoreError>;
}

#[async_trait]
pub trait OutboxWrite: Send {
    /// Writes a mail to the outbox, to be sent once this transaction commits (and only
    /// if it does). The mail reports something that happened at `now`.
    async fn enqueue_notification(
        &mut self,
        mail: &Outgoing,
        now: OffsetDateTime,
    ) -> Result<NotificationId, StoreError>;

    /// Claims up to `limit` pending mails that are due at `now` and not held by a live
    /// claim, counting an attempt for each: two workers never get the same row while a
    /// claim holds. The rows come back with their sealed codes, oldest due first.
    async fn claim_notifications(
        &mut self,
        claim: &Claim,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError>;

    /// Hands back the rows still held by `claim`, unattempted (the worker is stopping).
    async fn release_notifications(&mut self, claim: &Claim) -> Result<u64, StoreError>;

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

    /// Sends a failed mail again: it becomes pending, due at `now`, with a fresh count of
    /// attempts and its original Message-ID. A mail whose code was wiped cannot be sent
    /// again (the person asks for a new code). Answers whether it was requeued.
    async fn requeue_notification(
        &mut self,
        id: NotificationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// Each status with its count, zeros included, from `(status, count)` rows of a
/// `GROUP BY status` (what both backends' `outbox_counts` read).
pub(crate) fn counts_by_status(rows: &[(String, i64)]) -> Vec<(DeliveryStatus, u64)> {
    use strum::IntoEnumIterator;
    DeliveryStatus::iter()
        .map(|status| {
            let n = rows
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0));
            (status, n)
        })
        .collect()
}
