//! The audit log on PostgreSQL. An append takes a transaction-scoped advisory lock before
//! it reads the chain's head, so concurrent appends (from any server) take turns: the
//! sequence has no gaps and the chain no forks. The lock is taken at the append — as
//! late as the use case allows, usually its last statements — and held to commit.

use async_trait::async_trait;
use latchkey_types::{Action, Outcome};
use sqlx::{Postgres, QueryBuilder, Row};
use time::OffsetDateTime;

use super::{Conn, Pg, PgTx};
use crate::account::AccountId;
use crate::audit::{AuditEvent, AuditRecord, GENESIS_HASH};
use crate::organisation::OrganisationId;
use crate::store::{AuditCount, AuditRead, AuditSearch, AuditWrite, StoreError};

/// Limits `b`'s query to records about an account of `org`: the subject's organisation
/// decides, and the actor's only where there is no subject account — so a global
/// administrator's action on another organisation's user never shows in this one's.
fn in_organisation(b: &mut QueryBuilder<'_, Postgres>, org: Option<OrganisationId>) {
    if let Some(org) = org {
        b.push(
            " AND EXISTS (SELECT 1 FROM accounts x JOIN identity_stores xs ON xs.id = x.store_id
               WHERE xs.organisation_id = ",
        )
        .push_bind(org.0)
        .push(" AND x.id = COALESCE(audit_log.subject_account_id, audit_log.actor_account_id))");
    }
}

/// A count as the callers take it (`count(*)` is a BIGINT).
fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

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

    async fn failed_sign_ins(
        &mut self,
        account: AccountId,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT * FROM audit_log
             WHERE subject_account_id = $1 AND action = 'sign_in' AND outcome = 'failure'
               AND at >= $2 AND at <= $3
             ORDER BY seq DESC LIMIT $4",
        )
        .bind(account.0)
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await?)
    }

    async fn names_failed_from(
        &mut self,
        client: &str,
        except: &str,
        from: i64,
        to: i64,
    ) -> Result<u32, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT subject) FROM audit_log
             WHERE client_addr = $1 AND action = 'sign_in' AND outcome = 'failure'
               AND subject IS NOT NULL AND subject <> $2 AND at >= $3 AND at < $4",
        )
        .bind(client)
        .bind(except)
        .bind(from)
        .bind(to)
        .fetch_one(self.conn())
        .await?;
        Ok(u32::try_from(n).unwrap_or(0))
    }

    async fn audit_search(&mut self, q: &AuditSearch) -> Result<Vec<AuditRecord>, StoreError> {
        let mut b: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT * FROM audit_log WHERE 1 = 1");
        in_organisation(&mut b, q.organisation);
        if let Some(actor) = &q.actor {
            b.push(" AND strpos(lower(actor), lower(")
                .push_bind(actor.clone())
                .push(")) > 0");
        }
        if let Some(subject) = &q.subject {
            b.push(" AND strpos(lower(subject), lower(")
                .push_bind(subject.clone())
                .push(")) > 0");
        }
        if let Some(action) = q.action {
            b.push(" AND action = ").push_bind(action.as_str());
        }
        if let Some(channel) = q.channel {
            b.push(" AND channel = ").push_bind(channel.as_str());
        }
        if let Some(outcome) = q.outcome {
            b.push(" AND outcome = ").push_bind(outcome.as_str());
        }
        if let Some(from) = q.from {
            b.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = q.to {
            b.push(" AND at < ").push_bind(to);
        }
        if let Some(before) = q.before {
            b.push(" AND seq < ").push_bind(before);
        }
        b.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(i64::from(q.limit));
        Ok(b.build_query_as().fetch_all(self.conn()).await?)
    }

    async fn audit_counts(&mut self, q: &AuditCount) -> Result<Vec<(i64, u32)>, StoreError> {
        let period = q.period.max(1);
        let mut b: QueryBuilder<Postgres> = QueryBuilder::new("SELECT ");
        b.push_bind(q.from)
            .push("::BIGINT + ((at - ")
            .push_bind(q.from)
            .push("::BIGINT) / ")
            .push_bind(period)
            .push("::BIGINT) * ")
            .push_bind(period)
            .push("::BIGINT AS start, count(*) AS n FROM audit_log WHERE action = ")
            .push_bind(q.action.as_str())
            .push(" AND at >= ")
            .push_bind(q.from)
            .push(" AND at < ")
            .push_bind(q.to);
        if !q.channels.is_empty() {
            b.push(" AND channel IN (");
            let mut list = b.separated(", ");
            for channel in &q.channels {
                list.push_bind(channel.as_str());
            }
            b.push(")");
        }
        if let Some(outcome) = q.outcome {
            b.push(" AND outcome = ").push_bind(outcome.as_str());
        }
        in_organisation(&mut b, q.organisation);
        b.push(" GROUP BY start ORDER BY start");
        let rows = b.build().fetch_all(self.conn()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("start")?, count(r.try_get("n")?))))
            .collect()
    }

    async fn audit_top_clients(
        &mut self,
        organisation: Option<OrganisationId>,
        action: Action,
        outcome: Outcome,
        from: i64,
        to: i64,
        limit: u32,
    ) -> Result<Vec<(String, u32)>, StoreError> {
        let mut b: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT client_addr, count(*) AS n FROM audit_log WHERE action = ");
        b.push_bind(action.as_str())
            .push(" AND outcome = ")
            .push_bind(outcome.as_str())
            .push(" AND at >= ")
            .push_bind(from)
            .push(" AND at < ")
            .push_bind(to)
            .push(" AND client_addr IS NOT NULL");
        in_organisation(&mut b, organisation);
        // Ties in SQLite's order (by code point), whatever the database's locale.
        b.push(" GROUP BY client_addr ORDER BY n DESC, client_addr COLLATE \"C\" LIMIT ")
            .push_bind(i64::from(limit));
        let rows = b.build().fetch_all(self.conn()).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("client_addr")?, count(r.try_get("n")?))))
            .collect()
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
        r.log_written();
        Ok(r)
    }
}
