//! The helpdesk's modes and caller checks on PostgreSQL. Inside a transaction a check is
//! read `FOR NO KEY UPDATE` ([`Conn::LOCK`]), so two answers to one check are taken one
//! after the other; a mode is one upsert.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;
use time::OffsetDateTime;

use super::rows::{count, json, text, time, time_opt, to_json};
use super::{Conn, Pg, PgTx};
use crate::account::{AccountId, PersonId};
use crate::authz::Role;
use crate::caller_check::{CallerCheck, HelpdeskMode};
use crate::organisation::OrganisationId;
use crate::store::{HelpdeskRead, HelpdeskWrite, StoreError};

const CHECK_COLUMNS: &str = "public_id, operator_id, account_id, person_id, factor, prompt, \
                             kept, state, attempts, created_at, decided_at";

fn check(r: &PgRow) -> Result<CallerCheck, StoreError> {
    Ok(CallerCheck {
        public_id: r.try_get("public_id")?,
        operator: AccountId(r.try_get("operator_id")?),
        account: AccountId(r.try_get("account_id")?),
        person: PersonId(r.try_get("person_id")?),
        factor: text(r, "factor")?,
        prompt: json(r, "prompt")?,
        kept: json(r, "kept")?,
        state: text(r, "state")?,
        attempts: count(r, "attempts")?,
        created_at: time(r, "created_at")?,
        decided_at: time_opt(r, "decided_at")?,
    })
}

#[async_trait]
impl<C: Conn> HelpdeskRead for Pg<C> {
    async fn helpdesk_modes(
        &mut self,
        org: OrganisationId,
    ) -> Result<Vec<(Role, HelpdeskMode)>, StoreError> {
        let rows = sqlx::query("SELECT role, mode FROM helpdesk_modes WHERE organisation_id = $1")
            .bind(org.0)
            .fetch_all(self.conn())
            .await?;
        rows.iter()
            .map(|r| Ok((text(r, "role")?, text(r, "mode")?)))
            .collect()
    }

    async fn caller_check(&mut self, public_id: &str) -> Result<Option<CallerCheck>, StoreError> {
        let sql = format!(
            "SELECT {CHECK_COLUMNS} FROM caller_checks WHERE public_id = $1{}",
            C::LOCK
        );
        let row = sqlx::query(&sql)
            .bind(public_id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(check).transpose()
    }

    async fn passed_caller_check(
        &mut self,
        operator: AccountId,
        person: PersonId,
        since: OffsetDateTime,
    ) -> Result<Option<CallerCheck>, StoreError> {
        let sql = format!(
            "SELECT {CHECK_COLUMNS} FROM caller_checks
             WHERE operator_id = $1 AND person_id = $2 AND state = 'passed' AND decided_at >= $3
             ORDER BY decided_at DESC, id DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(operator.0)
            .bind(person.0)
            .bind(since.unix_timestamp())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(check).transpose()
    }
}

#[async_trait]
impl HelpdeskWrite for PgTx {
    async fn set_helpdesk_mode(
        &mut self,
        org: OrganisationId,
        role: Role,
        mode: HelpdeskMode,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO helpdesk_modes (organisation_id, role, mode, updated_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (organisation_id, role) DO UPDATE
             SET mode = excluded.mode, updated_at = excluded.updated_at",
        )
        .bind(org.0)
        .bind(role.as_str())
        .bind(mode.as_str())
        .bind(now.unix_timestamp())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn create_caller_check(&mut self, c: &CallerCheck) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO caller_checks (public_id, operator_id, account_id, person_id, factor,
                                        prompt, kept, state, attempts, created_at, decided_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&c.public_id)
        .bind(c.operator.0)
        .bind(c.account.0)
        .bind(c.person.0)
        .bind(c.factor.as_str())
        .bind(to_json(&c.prompt, "prompt")?)
        .bind(to_json(&c.kept, "kept")?)
        .bind(c.state.as_str())
        .bind(i64::from(c.attempts))
        .bind(c.created_at.unix_timestamp())
        .bind(c.decided_at.map(OffsetDateTime::unix_timestamp))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn save_caller_check(&mut self, c: &CallerCheck) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE caller_checks SET state = $1, attempts = $2, decided_at = $3 WHERE public_id = $4",
        )
        .bind(c.state.as_str())
        .bind(i64::from(c.attempts))
        .bind(c.decided_at.map(OffsetDateTime::unix_timestamp))
        .bind(&c.public_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
