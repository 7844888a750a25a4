//! Accounts on PostgreSQL. Inside a transaction, the read that decides a lock-state write
//! (`account_with_policy`) locks the account's row until commit.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::rows::{self, ACCOUNTS, ACCOUNT_COLUMNS, POLICY_COLUMNS};
use super::{conflict, Conn, Pg, PgTx};
use crate::account::{Account, AccountId, AccountName, NewAccount, PersonId};
use crate::lockout::{LockState, LockoutPolicy};
use crate::store::{AccountsRead, AccountsWrite, StoreError};

#[async_trait]
impl<C: Conn> AccountsRead for Pg<C> {
    async fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.id = $1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn account_by_name(&mut self, name: &AccountName) -> Result<Option<Account>, StoreError> {
        let row = match &name.store {
            Some(store) => {
                let sql = format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE s.name = $1 AND a.username = $2"
                );
                sqlx::query(&sql)
                    .bind(store)
                    .bind(name.username.as_str())
                    .fetch_optional(self.conn())
                    .await?
            }
            None => {
                let sql = format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.username = $1
                     ORDER BY s.priority, s.id LIMIT 1"
                );
                sqlx::query(&sql)
                    .bind(name.username.as_str())
                    .fetch_optional(self.conn())
                    .await?
            }
        };
        row.as_ref().map(rows::account).transpose()
    }

    /// Inside a transaction, locks the account's row (not its store's or organisation's).
    async fn account_with_policy(
        &mut self,
        id: AccountId,
    ) -> Result<Option<(Account, LockoutPolicy)>, StoreError> {
        let lock = if C::LOCK.is_empty() {
            ""
        } else {
            " FOR NO KEY UPDATE OF a"
        };
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS}, {POLICY_COLUMNS} FROM {ACCOUNTS}
             JOIN organisations o ON o.id = s.organisation_id WHERE a.id = $1{lock}"
        );
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(self.conn())
            .await?;
        row.map(|r| Ok((rows::account(&r)?, rows::policy(&r)?)))
            .transpose()
    }

    async fn default_store_name(&mut self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM identity_stores ORDER BY priority, id LIMIT 1")
                .fetch_optional(self.conn())
                .await?,
        )
    }
}

#[async_trait]
impl AccountsWrite for PgTx {
    async fn create_account(
        &mut self,
        account: &NewAccount,
        person: Option<PersonId>,
        now: OffsetDateTime,
    ) -> Result<(AccountId, PersonId), StoreError> {
        let now = now.unix_timestamp();
        let person = match person {
            Some(p) => p,
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO persons (organisation_id, created_at)
                     SELECT organisation_id, $1 FROM identity_stores WHERE id = $2 RETURNING id",
                )
                .bind(now)
                .bind(account.store_id.0)
                .fetch_one(self.conn())
                .await?;
                PersonId(id)
            }
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (store_id, person_id, username, display_name, email, status,
                                   password_hash, password_changed_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(account.store_id.0)
        .bind(person.0)
        .bind(account.username.as_str())
        .bind(&account.display_name)
        .bind(account.email.as_str())
        .bind(account.status.as_str())
        .bind(account.password_hash.as_deref())
        .bind(account.password_hash.as_ref().map(|_| now))
        .bind(now)
        .fetch_one(self.conn())
        .await
        .map_err(|e| conflict(e, "username"))?;
        Ok((AccountId(id), person))
    }

    async fn save_lock_state(
        &mut self,
        id: AccountId,
        state: &LockState,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let lock = state.lock.as_ref();
        let unlock = state.last_unlock.as_ref();
        sqlx::query(
            "UPDATE accounts SET failed_attempts = $1, first_failure_at = $2, locked_at = $3,
                lock_reason = $4, lock_expires_at = $5, unlocked_by = $6, unlocked_at = $7,
                consecutive_failures = $8, last_failure_at = $9, updated_at = $10
             WHERE id = $11",
        )
        .bind(i64::from(state.failed_attempts))
        .bind(state.first_failure_at.map(|t| t.unix_timestamp()))
        .bind(lock.map(|l| l.locked_at.unix_timestamp()))
        .bind(lock.map(|l| l.reason.as_str()))
        .bind(lock.and_then(|l| l.expires_at).map(|t| t.unix_timestamp()))
        .bind(unlock.map(|u| u.by.as_str()))
        .bind(unlock.map(|u| u.at.unix_timestamp()))
        .bind(i64::from(state.consecutive_failures))
        .bind(state.last_failure_at.map(|t| t.unix_timestamp()))
        .bind(now.unix_timestamp())
        .bind(id.0)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_password(
        &mut self,
        account: AccountId,
        hash: &str,
        must_change: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, password_changed_at = $2,
                must_change_password = $3, updated_at = $2 WHERE id = $4",
        )
        .bind(hash)
        .bind(now.unix_timestamp())
        .bind(must_change)
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
