//! Per-client rate limits on PostgreSQL: the GCRA in one upsert, as measured in
//! SERVICES.md. `ON CONFLICT DO UPDATE` locks the key's row, so concurrent takes from
//! any server apply one after the other, each to the arrival time the last one left.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Conn, Pg, PgTx};
use crate::clock::{from_micros, micros};
use crate::store::{LimitsRead, LimitsWrite, StoreError};
use crate::throttle::Quota;

#[async_trait]
impl<C: Conn> LimitsRead for Pg<C> {
    async fn blocked_until(
        &mut self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let until: Option<i64> =
            sqlx::query_scalar("SELECT tat FROM client_limits WHERE key = $1 AND tat > $2")
                .bind(key)
                .bind(micros(now))
                .fetch_optional(self.conn())
                .await?;
        Ok(until.map(from_micros))
    }
}

#[async_trait]
impl LimitsWrite for PgTx {
    async fn take_quota(
        &mut self,
        key: &str,
        quota: &Quota,
        now: OffsetDateTime,
    ) -> Result<Result<(), i64>, StoreError> {
        let now = micros(now);
        // A row comes back only when the unit was taken.
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO client_limits AS r (key, tat) VALUES ($1, $2 + $3)
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, $2) + $3
             WHERE GREATEST(r.tat, $2) + $3 - $2 <= $4
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
        let tat: Option<i64> = sqlx::query_scalar("SELECT tat FROM client_limits WHERE key = $1")
            .bind(key)
            .fetch_optional(self.conn())
            .await?;
        Ok(Err(quota.wait(tat.unwrap_or(now), now)))
    }

    async fn block(&mut self, key: &str, until: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_limits AS r (key, tat) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET tat = GREATEST(r.tat, excluded.tat)",
        )
        .bind(key)
        .bind(micros(until))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn forget_spent_limits(&mut self, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM client_limits WHERE tat <= $1")
            .bind(micros(now))
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
