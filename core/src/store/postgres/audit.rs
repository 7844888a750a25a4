//! The audit log on PostgreSQL. An append takes a transaction-scoped advisory lock before
//! it reads the chain's head, so concurrent appends (from any server) take turns: the
//! sequence has no gaps and the chain no forks. The lock is taken at the append — as
//! late as the use case allows, usually its last statements — and held to commit.

use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;

use super::{Conn, Pg, PgTx};
use crate::account::AccountId;
use crate::audit::{AuditEvent, AuditRecord, GENESIS_HASH};
use crate::store::{AuditRead, AuditWrite, StoreError};

/// The advisory lock key of the audit chain's head: any constant no other lock uses
/// ("LKAUDIT" in ASCII).
const AUDIT_CHAIN_LOCK: i64 = 0x004c_4b41_5544_4954;

#[async_trait]
impl<C: Conn> AuditRead for Pg<C> {
    async fn audit_records(
        &mut self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(self.conn())
                .await?,
        )
    }

    async fn audit_of(
        &mut self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT * FROM audit_log WHERE subject_account_id = $1 OR actor_account_id = $1
             ORDER BY seq DESC LIMIT $2",
        )
        .bind(account.0)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await?)
    }
}

#[async_trait]
impl AuditWrite for PgTx {
    async fn append_audit(
        &mut self,
        event: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<AuditRecord, StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(AUDIT_CHAIN_LOCK)
            .execute(self.conn())
            .await?;
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(self.conn())
            .await?;
        let (seq, prev_hash) = match last {
            Some(row) => (
                row.try_get::<i64, _>("seq")? + 1,
                row.try_get::<String, _>("hash")?,
            ),
            None => (1, GENESIS_HASH.to_owned()),
        };
        let r = AuditRecord::new(seq, now, event, &prev_hash);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, actor_account_id, subject_account_id, subject,
                action, channel, client_addr, outcome, details, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(r.seq)
        .bind(r.at)
        .bind(&r.actor)
        .bind(r.actor_account_id)
        .bind(r.subject_account_id)
        .bind(&r.subject)
        .bind(&r.action)
        .bind(&r.channel)
        .bind(&r.client_addr)
        .bind(&r.outcome)
        .bind(&r.details)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(self.conn())
        .await?;
        Ok(r)
    }
}
