//! The outbox on PostgreSQL.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::rows::{self, OUTBOX_COLUMNS};
use super::{Conn, Pg, PgTx};
use crate::organisation::OrganisationId;
use crate::outbox::{Claim, DeliveryResult, DeliveryStatus, NotificationId, OutboxEntry, Outgoing};
use crate::store::{OutboxRead, OutboxWrite, StoreError};

#[async_trait]
impl<C: Conn> OutboxRead for Pg<C> {
    async fn notifications(
        &mut self,
        organisation: Option<OrganisationId>,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS}, NULL::BYTEA AS sealed_code FROM outbox
             WHERE ($1::BIGINT IS NULL OR organisation_id = $1) AND ($2::TEXT IS NULL OR status = $2)
             ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(organisation.map(|o| o.0))
            .bind(status.map(DeliveryStatus::as_str))
            .bind(i64::from(limit))
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(rows::outbox_entry).collect()
    }

    async fn notification(
        &mut self,
        id: NotificationId,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS}, NULL::BYTEA AS sealed_code FROM outbox WHERE id = $1"
        );
        sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(self.conn())
            .await?
            .as_ref()
            .map(rows::outbox_entry)
            .transpose()
    }

    async fn outbox_counts(&mut self) -> Result<Vec<(DeliveryStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, count(*) FROM outbox GROUP BY status")
                .fetch_all(self.conn())
                .await?;
        Ok(crate::store::outbox::counts_by_status(&rows))
    }

    async fn notification_by_key(&mut self, key: &str) -> Result<Option<OutboxEntry>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS}, NULL::BYTEA AS sealed_code FROM outbox WHERE message_id = $1"
        );
        sqlx::query(&sql)
            .bind(key)
            .fetch_optional(self.conn())
            .await?
            .as_ref()
            .map(rows::outbox_entry)
            .transpose()
    }
}

#[async_trait]
impl OutboxWrite for PgTx {
    async fn enqueue_notification(
        &mut self,
        mail: &Outgoing,
        now: OffsetDateTime,
    ) -> Result<NotificationId, StoreError> {
        let (to, notification) = (mail.to(), mail.notification());
        let payload = notification
            .payload()
            .map_err(|e| StoreError::Corrupt(format!("notification payload: {e}")))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (organisation_id, recipient_email, recipient_name, account_id,
                account_name, kind, payload, sealed_code, carries_code, created_at,
                next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(mail.organisation().0)
        .bind(to.email.as_str())
        .bind(&to.name)
        .bind(to.account_id.map(|a| a.0))
        .bind(to.username.as_deref())
        .bind(notification.kind())
        .bind(payload)
        .bind(mail.sealed_code())
        .bind(notification.secret_required())
        .bind(now.unix_timestamp())
        .bind(now.unix_timestamp())
        .fetch_one(self.conn())
        .await?;
        Ok(NotificationId(id))
    }

    async fn claim_notifications(
        &mut self,
        claim: &Claim,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        // Rows another worker is claiming right now are skipped, not waited for; a row
        // claimed and committed meanwhile is re-checked and no longer due.
        let sql = format!(
            "UPDATE outbox SET claim_token = $1, claimed_until = $2, attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'pending' AND next_attempt_at <= $3
                   AND (claimed_until IS NULL OR claimed_until <= $3)
                 ORDER BY next_attempt_at, id LIMIT $4
                 FOR UPDATE SKIP LOCKED)
             RETURNING {OUTBOX_COLUMNS}, sealed_code"
        );
        let rows = sqlx::query(&sql)
            .bind(&claim.token)
            .bind(claim.until.unix_timestamp())
            .bind(now.unix_timestamp())
            .bind(i64::from(limit))
            .fetch_all(self.conn())
            .await?;
        let mut entries = rows
            .iter()
            .map(rows::outbox_entry)
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| (e.next_attempt_at, e.id));
        Ok(entries)
    }

    async fn release_notifications(&mut self, claim: &Claim) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET claim_token = NULL, claimed_until = NULL, attempts = attempts - 1
             WHERE claim_token = $1 AND status = 'pending'",
        )
        .bind(&claim.token)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }

    async fn record_delivery(
        &mut self,
        id: NotificationId,
        claim: &Claim,
        result: &DeliveryResult,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now = now.unix_timestamp();
        let done = match result {
            // The mail went out: record it whoever holds the row now.
            DeliveryResult::Sent => {
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', sealed_code = NULL, sent_at = $1,
                        last_error = NULL, claim_token = NULL, claimed_until = NULL
                     WHERE id = $2 AND status = 'pending'",
                )
                .bind(now)
                .bind(id.0)
                .execute(self.conn())
                .await?
            }
            DeliveryResult::Retry { at, error } => {
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = $1, last_error = $2,
                        claim_token = NULL, claimed_until = NULL
                     WHERE id = $3 AND status = 'pending' AND claim_token = $4",
                )
                .bind(at.unix_timestamp())
                .bind(error)
                .bind(id.0)
                .bind(&claim.token)
                .execute(self.conn())
                .await?
            }
            DeliveryResult::Failed { error } => {
                sqlx::query(
                    "UPDATE outbox SET status = 'failed', sealed_code = NULL, failed_at = $1,
                        last_error = $2, claim_token = NULL, claimed_until = NULL
                     WHERE id = $3 AND status = 'pending' AND claim_token = $4",
                )
                .bind(now)
                .bind(error)
                .bind(id.0)
                .bind(&claim.token)
                .execute(self.conn())
                .await?
            }
        };
        Ok(done.rows_affected() > 0)
    }

    async fn requeue_notification(
        &mut self,
        id: NotificationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1,
                failed_at = NULL, last_error = NULL, claim_token = NULL, claimed_until = NULL
             WHERE id = $2 AND status = 'failed' AND (NOT carries_code OR sealed_code IS NOT NULL)",
        )
        .bind(now.unix_timestamp())
        .bind(id.0)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
