//! Self-service flows, their configuration, the per-name throttle and spent captchas on
//! SQLite.

use async_trait::async_trait;
use latchkey_types::{Channel, FactorKind, FlowScope};
use time::{Duration, OffsetDateTime};

use super::rows::{self, count, json, text, time_opt, to_json, FLOW_COLUMNS};
use super::{conflict, Conn, SqliteTx};
use crate::flow::Flow;
use crate::store::{FlowsRead, FlowsWrite, StoreError};
use crate::throttle::Throttle;

#[async_trait]
impl<C: Conn> FlowsRead for C {
    async fn auth_flow(&mut self, channel: Channel) -> Result<Vec<FactorKind>, StoreError> {
        let row = sqlx::query(
            "SELECT factors FROM auth_flows WHERE scope IN (?, 'all')
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
            "SELECT alternatives FROM auth_flows WHERE scope IN (?, 'all')
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
        let sql = format!("SELECT {FLOW_COLUMNS} FROM self_service_flows WHERE id_hash = ?");
        let row = sqlx::query(&sql)
            .bind(id_hash)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::flow).transpose()
    }

    async fn throttle(&mut self, subject_name: &str) -> Result<Throttle, StoreError> {
        let row = sqlx::query(
            "SELECT failures, first_failure_at, blocked_until FROM self_service_throttle
             WHERE subject_name = ?",
        )
        .bind(subject_name)
        .fetch_optional(self.conn())
        .await?;
        match row {
            None => Ok(Throttle::default()),
            Some(r) => Ok(Throttle {
                failures: count(&r, "failures")?,
                first_failure_at: time_opt(&r, "first_failure_at")?,
                blocked_until: time_opt(&r, "blocked_until")?,
            }),
        }
    }
}

#[async_trait]
impl FlowsWrite for SqliteTx {
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
            "INSERT INTO auth_flows (scope, factors, updated_at) VALUES (?, ?, ?)
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
        sqlx::query("UPDATE auth_flows SET alternatives = ?, updated_at = ? WHERE scope = ?")
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            "UPDATE self_service_flows SET account_id = ?, subject_name = ?, state = ?
             WHERE id_hash = ?",
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
        if *throttle == Throttle::default() {
            sqlx::query("DELETE FROM self_service_throttle WHERE subject_name = ?")
                .bind(subject_name)
                .execute(self.conn())
                .await?;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO self_service_throttle (subject_name, failures, first_failure_at, blocked_until)
             VALUES (?, ?, ?, ?)
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
        let done = sqlx::query(
            "INSERT INTO captcha_spent (signature, expires_at) VALUES (?, ?)
             ON CONFLICT (signature) DO NOTHING",
        )
        .bind(signature)
        .bind(expires_at.unix_timestamp())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn purge_expired(&mut self, now: OffsetDateTime) -> Result<(), StoreError> {
        let stale = (now - Duration::days(1)).unix_timestamp();
        sqlx::query("DELETE FROM self_service_flows WHERE expires_at < ?")
            .bind(stale)
            .execute(self.conn())
            .await?;
        sqlx::query("DELETE FROM captcha_spent WHERE expires_at < ?")
            .bind(now.unix_timestamp())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
