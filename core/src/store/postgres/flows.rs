//! Self-service flows, their configuration, the per-name throttle and spent captchas on
//! SQLite.

use async_trait::async_trait;
use latchkey_types::{Channel, FactorKind, FlowScope};
use time::{Duration, OffsetDateTime};

use super::rows::{self, count, json, text, time_opt, to_json, FLOW_COLUMNS};
use super::{conflict, Conn, Pg, PgTx};
use crate::flow::Flow;
use crate::store::{FlowsRead, FlowsWrite, StoreError};
use crate::throttle::Throttle;

#[async_trait]
impl<C: Conn> FlowsRead for Pg<C> {
    async fn auth_flow(&mut self, channel: Channel) -> Result<Vec<FactorKind>, StoreError> {
        let row = sqlx::query(
            "SELECT factors FROM auth_flows WHERE scope IN ($1, 'all')
             ORDER BY CASE scope WHEN 'all' THEN 1 ELSE 0 END LIMIT 1",
        )
        .bind(channel.as_str())
        .fetch_optional(self.conn())
        .await?;
        match row {
            Some(r) => json(&r, "factors"),
            None => Err(StoreError::Corrupt(format!(
                "no authentication flow for the {} channel",
                channel.as_str()
            ))),
        }
    }

    async fn auth_flow_alternatives(
        &mut self,
        scope: FlowScope,
    ) -> Result<Vec<(FactorKind, FactorKind)>, StoreError> {
        let row = sqlx::query(
            "SELECT alternatives FROM auth_flows WHERE scope IN ($1, 'all')
             ORDER BY CASE scope WHEN 'all' THEN 1 ELSE 0 END LIMIT 1",
        )
        .bind(scope.as_str())
        .fetch_optional(self.conn())
        .await?;
        match row {
            Some(r) => json(&r, "alternatives"),
            None => Ok(Vec::new()),
        }
    }

    async fn auth_flows(&mut self) -> Result<Vec<(FlowScope, Vec<FactorKind>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT scope, factors FROM auth_flows
             ORDER BY CASE scope WHEN 'all' THEN 0 WHEN 'web' THEN 1 WHEN 'mobile' THEN 2 ELSE 3 END",
        )
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| Ok((text(r, "scope")?, json(r, "factors")?)))
            .collect()
    }

    async fn flow(&mut self, id_hash: &str) -> Result<Option<Flow>, StoreError> {
        let sql = format!(
            "SELECT {FLOW_COLUMNS} FROM self_service_flows WHERE id_hash = $1{}",
            C::LOCK
        );
        let row = sqlx::query(&sql)
            .bind(id_hash)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::flow).transpose()
    }

    /// Inside a transaction the name's row is inserted (if new) and then locked, so that
    /// concurrent first failures cannot each start from "no row" and overwrite each other.
    async fn throttle(&mut self, subject_name: &str) -> Result<Throttle, StoreError> {
        let sql = format!(
            "SELECT failures, first_failure_at, blocked_until FROM self_service_throttle
             WHERE subject_name = $1{}",
            C::LOCK
        );
        // A row another transaction deleted (a purge) between the insert and the lock
        // is inserted again; a few rounds are plenty.
        for _ in 0..5 {
            if !C::LOCK.is_empty() {
                sqlx::query(
                    "INSERT INTO self_service_throttle (subject_name, failures) VALUES ($1, 0)
                     ON CONFLICT (subject_name) DO NOTHING",
                )
                .bind(subject_name)
                .execute(self.conn())
                .await?;
            }
            let row = sqlx::query(&sql)
                .bind(subject_name)
                .fetch_optional(self.conn())
                .await?;
            match row {
                Some(r) => {
                    return Ok(Throttle {
                        failures: count(&r, "failures")?,
                        first_failure_at: time_opt(&r, "first_failure_at")?,
                        blocked_until: time_opt(&r, "blocked_until")?,
                    })
                }
                None if C::LOCK.is_empty() => return Ok(Throttle::default()),
                None => continue,
            }
        }
        Err(StoreError::Corrupt(format!(
            "the throttle row of {subject_name:?} keeps disappearing"
        )))
    }
}

#[async_trait]
impl FlowsWrite for PgTx {
    async fn set_auth_flow(
        &mut self,
        scope: FlowScope,
        factors: &[FactorKind],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if scope == FlowScope::All {
            // One flow for every channel: the per-channel rows would shadow it.
            sqlx::query("DELETE FROM auth_flows")
                .execute(self.conn())
                .await?;
        }
        sqlx::query(
            "INSERT INTO auth_flows (scope, factors, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (scope) DO UPDATE SET factors = excluded.factors,
                updated_at = excluded.updated_at",
        )
        .bind(scope.as_str())
        .bind(to_json(&factors, "auth flow")?)
        .bind(now.unix_timestamp())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_auth_flow_alternatives(
        &mut self,
        scope: FlowScope,
        alternatives: &[(FactorKind, FactorKind)],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE auth_flows SET alternatives = $1, updated_at = $2 WHERE scope = $3")
            .bind(to_json(&alternatives, "auth flow alternatives")?)
            .bind(now.unix_timestamp())
            .bind(scope.as_str())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn create_flow(&mut self, flow: &Flow, client: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO self_service_flows (id_hash, action, channel, steps, account_id,
                subject_name, state, client_addr, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&flow.id_hash)
        .bind(flow.action.as_str())
        .bind(flow.channel.as_str())
        .bind(to_json(&flow.steps, "flow steps")?)
        .bind(flow.account.map(|a| a.0))
        .bind(&flow.subject_name)
        .bind(to_json(&flow.state, "flow state")?)
        .bind(client)
        .bind(flow.created_at.unix_timestamp())
        .bind(flow.expires_at.unix_timestamp())
        .execute(self.conn())
        .await
        .map_err(|e| conflict(e, "flow"))?;
        Ok(())
    }

    async fn save_flow(&mut self, flow: &Flow) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE self_service_flows SET account_id = $1, subject_name = $2, state = $3
             WHERE id_hash = $4",
        )
        .bind(flow.account.map(|a| a.0))
        .bind(&flow.subject_name)
        .bind(to_json(&flow.state, "flow state")?)
        .bind(&flow.id_hash)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn save_throttle(
        &mut self,
        subject_name: &str,
        throttle: &Throttle,
    ) -> Result<(), StoreError> {
        // The default state is kept as a row of zeros (the transaction may hold its
        // lock); `purge_expired` deletes such rows later.
        sqlx::query(
            "INSERT INTO self_service_throttle (subject_name, failures, first_failure_at, blocked_until)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (subject_name) DO UPDATE SET failures = excluded.failures,
                first_failure_at = excluded.first_failure_at, blocked_until = excluded.blocked_until",
        )
        .bind(subject_name)
        .bind(i64::from(throttle.failures))
        .bind(throttle.first_failure_at.map(|t| t.unix_timestamp()))
        .bind(throttle.blocked_until.map(|t| t.unix_timestamp()))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn spend_captcha(
        &mut self,
        signature: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        // One statement: a concurrent spend of the same solution waits for ours and
        // then inserts nothing.
        let spent: Option<String> = sqlx::query_scalar(
            "INSERT INTO captcha_spent (signature, expires_at) VALUES ($1, $2)
             ON CONFLICT (signature) DO NOTHING RETURNING signature",
        )
        .bind(signature)
        .bind(expires_at.unix_timestamp())
        .fetch_optional(self.conn())
        .await?;
        Ok(spent.is_some())
    }

    async fn purge_expired(&mut self, now: OffsetDateTime) -> Result<(), StoreError> {
        let stale = (now - Duration::days(1)).unix_timestamp();
        sqlx::query("DELETE FROM self_service_flows WHERE expires_at < $1")
            .bind(stale)
            .execute(self.conn())
            .await?;
        sqlx::query("DELETE FROM captcha_spent WHERE expires_at < $1")
            .bind(now.unix_timestamp())
            .execute(self.conn())
            .await?;
        // Names with nothing to remember (rows of zeros, blocks that have ended).
        sqlx::query(
            "DELETE FROM self_service_throttle
             WHERE failures = 0 AND (blocked_until IS NULL OR blocked_until <= $1)",
        )
        .bind(now.unix_timestamp())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
