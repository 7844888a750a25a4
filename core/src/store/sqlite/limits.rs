//! Per-client rate limits on SQLite: the GCRA in one upsert (SQLite ≥ 3.35 has
//! `RETURNING`; `MAX` is its `GREATEST`). The transaction's write lock would serialise
//! takes anyway; the single statement keeps the rule the same as on PostgreSQL.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Conn, SqliteTx};
use crate::clock::{from_micros, micros};
use crate::store::{LimitsRead, LimitsWrite, StoreError};
use crate::throttle::Quota;

#[async_trait]
impl<C: Conn> LimitsRead for C {
    async fn blocked_until(
        &mut self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let until: Option<i64> =
            sqlx::query_scalar("SELECT tat FROM client_limits WHERE key = ? AND tat > ?")
                .bind(key)
                .bind(micros(now))
                .fetch_optional(self.conn())
                .await?;
        Ok(until.map(from_micros))
    }
}

#[async_trait]
impl LimitsWrite for SqliteTx {
    async fn take_quota(
        &mut self,
        key: &str,
        quota: &Quota,
        now: OffsetDateTime,
    ) -> Result<Result<(), i64>, StoreError> {
        let now = micros(now);
        // A row comes back only when the unit was taken.
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO client_limits AS r (key, tat) VALUES (?1, ?2 + ?3)
             ON CONFLICT (key) DO UPDATE SET tat = MAX(r.tat, ?2) + ?3
             WHERE MAX(r.tat, ?2) + ?3 - ?2 <= ?4
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(quota.interval_us)
        .bind(quota.tolerance_us + quota.interval_us)
        .fetch_optional(self.conn())
        .await?;
        if taken.is_some() {
            return Ok(Ok(()));
        }
        let tat: Option<i64> = sqlx::query_scalar("SELECT tat FROM client_limits WHERE key = ?")
            .bind(key)
            .fetch_optional(self.conn())
            .await?;
        Ok(Err(quota.wait(tat.unwrap_or(now), now)))
    }

    async fn block(&mut self, key: &str, until: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_limits AS r (key, tat) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET tat = MAX(r.tat, excluded.tat)",
        )
        .bind(key)
        .bind(micros(until))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn forget_spent_limits(&mut self, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM client_limits WHERE tat <= ?")
            .bind(micros(now))
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
