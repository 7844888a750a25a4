//! Sessions on PostgreSQL.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::rows::{self, SESSION_COLUMNS};
use super::{conflict, Conn, Pg, PgTx};
use crate::account::AccountId;
use crate::session::SessionRecord;
use crate::store::{SessionsRead, SessionsWrite, StoreError};

#[async_trait]
impl<C: Conn> SessionsRead for Pg<C> {
    async fn session(&mut self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id_hash = $1");
        let row = sqlx::query(&sql)
            .bind(id_hash)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::session).transpose()
    }

    async fn sessions_of(&mut self, account: AccountId) -> Result<Vec<SessionRecord>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions
             WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at"
        );
        let rows = sqlx::query(&sql)
            .bind(account.0)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(rows::session).collect()
    }
}

#[async_trait]
impl SessionsWrite for PgTx {
    async fn create_session(&mut self, record: &SessionRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, account_id, audience, created_at, last_seen_at,
                expires_at, client_addr, device_code_id, device_authorized_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&record.id_hash)
        .bind(record.account_id.0)
        .bind(record.audience.as_str())
        .bind(record.created_at.unix_timestamp())
        .bind(record.last_seen_at.unix_timestamp())
        .bind(record.expires_at.unix_timestamp())
        .bind(&record.client)
        .bind(record.device_code_id)
        .bind(
            record
                .device_authorized_at
                .map(OffsetDateTime::unix_timestamp),
        )
        .execute(self.conn())
        .await
        .map_err(|e| conflict(e, "session"))?;
        Ok(())
    }

    async fn touch_session(
        &mut self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now.unix_timestamp())
        .bind(id_hash)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_device_code(&mut self, id_hash: &str, code_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET device_code_id = $1 WHERE id_hash = $2")
            .bind(code_id)
            .bind(id_hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn authorize_device(
        &mut self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET device_authorized_at = $1 WHERE id_hash = $2")
            .bind(now.unix_timestamp())
            .bind(id_hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn revoke_session(
        &mut self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
        )
        .bind(now.unix_timestamp())
        .bind(id_hash)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_sessions_of(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL
             AND expires_at > $1",
        )
        .bind(now.unix_timestamp())
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }
}
