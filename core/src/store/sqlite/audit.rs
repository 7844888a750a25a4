//! The audit log on SQLite. Appends run inside a transaction, which holds SQLite's write
//! lock, so reading the chain's head and appending after it cannot interleave.

use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;

use super::{Conn, SqliteTx};
use crate::account::AccountId;
use crate::audit::{AuditEvent, AuditRecord, GENESIS_HASH};
use crate::store::{AuditRead, AuditWrite, StoreError};

#[async_trait]
impl<C: Conn> AuditRead for C {
    async fn audit_records(
        &mut self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?")
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
            "SELECT * FROM audit_log WHERE subject_account_id = ?1 OR actor_account_id = ?1
             ORDER BY seq DESC LIMIT ?2",
        )
        .bind(account.0)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await?)
    }
}

#[async_trait]
impl AuditWrite for SqliteTx {
    async fn append_audit(
        &mut self,
        event: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<AuditRecord, StoreError> {
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
