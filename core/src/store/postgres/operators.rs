//! Operators' roles on PostgreSQL. A grant is one `INSERT … ON CONFLICT DO NOTHING` and
//! a revoke one `DELETE`, so each answers truthfully whether it changed anything however
//! many servers grant or revoke the same role at once.

use async_trait::async_trait;
use latchkey_types::Role;
use sqlx::Row;
use time::OffsetDateTime;

use super::rows::{self, text, ACCOUNTS, ACCOUNT_COLUMNS};
use super::{Conn, Pg, PgTx};
use crate::account::{Account, AccountId};
use crate::organisation::OrganisationId;
use crate::store::{OperatorsRead, OperatorsWrite, StoreError};

#[async_trait]
impl<C: Conn> OperatorsRead for Pg<C> {
    async fn roles_of(&mut self, account: AccountId) -> Result<Vec<Role>, StoreError> {
        let rows = sqlx::query("SELECT role FROM operator_roles WHERE account_id = $1")
            .bind(account.0)
            .fetch_all(self.conn())
            .await?;
        let mut roles = rows
            .iter()
            .map(|r| text(r, "role"))
            .collect::<Result<Vec<Role>, _>>()?;
        roles.sort();
        Ok(roles)
    }

    async fn operators(
        &mut self,
        organisation: Option<OrganisationId>,
    ) -> Result<Vec<(Account, Vec<Role>)>, StoreError> {
        // Grouped by both keys: PostgreSQL lets a primary key stand for its table's
        // other columns, one key per table.
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS}, array_agg(r.role) AS roles FROM {ACCOUNTS}
             JOIN operator_roles r ON r.account_id = a.id
             WHERE $1::BIGINT IS NULL OR s.organisation_id = $1
             GROUP BY a.id, s.id ORDER BY a.username, a.id"
        );
        let rows = sqlx::query(&sql)
            .bind(organisation.map(|o| o.0))
            .fetch_all(self.conn())
            .await?;
        rows.iter()
            .map(|r| {
                let listed: Vec<String> = r.try_get("roles")?;
                let mut roles = listed
                    .iter()
                    .map(|role| {
                        role.parse::<Role>()
                            .map_err(|_| rows::corrupt("role", role))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                roles.sort();
                Ok((rows::account(r)?, roles))
            })
            .collect()
    }
}

#[async_trait]
impl OperatorsWrite for PgTx {
    async fn grant_role(
        &mut self,
        account: AccountId,
        role: Role,
        granted_by: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO operator_roles (account_id, role, granted_at, granted_by)
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, role) DO NOTHING",
        )
        .bind(account.0)
        .bind(role.as_str())
        .bind(now.unix_timestamp())
        .bind(granted_by)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoke_role(&mut self, account: AccountId, role: Role) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM operator_roles WHERE account_id = $1 AND role = $2")
            .bind(account.0)
            .bind(role.as_str())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
