//! Accounts on PostgreSQL. Inside a transaction, the reads that decide a write
//! (`account_with_policy` for the lock state, `account_by_public_id` for an operator's
//! edit) lock the account's row until commit.
//!
//! The users grid searches `username`, `email_key` and `name_key`, which compare by code
//! point (`COLLATE "C"`, migration 0008) as SQLite's columns do: a prefix is the range
//! `[prefix, prefix || U+10FFFF)`, and pages follow `(username, id)` in the same order on
//! both backends, each served by its index.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use time::OffsetDateTime;

use super::rows::{self, ACCOUNTS, ACCOUNT_COLUMNS, POLICY_COLUMNS};
use super::{conflict, Conn, Pg, PgTx};
use crate::account::{
    search_key, Account, AccountId, AccountName, AccountStatus, Email, NewAccount, Pending,
    PersonId,
};
use crate::lockout::{LockState, LockoutPolicy};
use crate::organisation::OrganisationId;
use crate::store::{AccountOrder, AccountSearch, AccountsRead, AccountsWrite, StoreError};

/// The smallest string above every string that starts with `prefix` (by code point:
/// U+10FFFF is the largest character).
fn above(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Locks the account's row (not its store's) when `C` is a transaction.
fn lock_account<C: Conn>() -> &'static str {
    if C::LOCK.is_empty() {
        ""
    } else {
        " FOR NO KEY UPDATE OF a"
    }
}

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
        let lock = lock_account::<C>();
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

    /// Inside a transaction, locks the account's row: an operator's edit decides on it.
    async fn account_by_public_id(
        &mut self,
        public_id: &str,
    ) -> Result<Option<Account>, StoreError> {
        let lock = lock_account::<C>();
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.public_id = $1{lock}");
        let row = sqlx::query(&sql)
            .bind(public_id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn directory_account(
        &mut self,
        store: crate::organisation::StoreId,
        stable_id: &str,
    ) -> Result<Option<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS}
             JOIN directory_accounts d ON d.account_id = a.id
             WHERE d.store_id = $1 AND d.stable_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(store.0)
            .bind(stable_id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::account).transpose()
    }

    async fn stable_id_of(&mut self, account: AccountId) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT stable_id FROM directory_accounts WHERE account_id = $1")
                .bind(account.0)
                .fetch_optional(self.conn())
                .await?,
        )
    }

    async fn accounts_of_person(&mut self, person: PersonId) -> Result<Vec<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.person_id = $1
             ORDER BY s.priority, s.id"
        );
        let rows = sqlx::query(&sql)
            .bind(person.0)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(rows::account).collect()
    }

    async fn accounts_with_email(&mut self, email_key: &str) -> Result<Vec<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.email_key = $1
             ORDER BY s.priority, s.id, a.id LIMIT 50"
        );
        let rows = sqlx::query(&sql)
            .bind(email_key)
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(rows::account).collect()
    }

    async fn search_accounts(&mut self, q: &AccountSearch) -> Result<Vec<Account>, StoreError> {
        let rows = search_query(q, "").build().fetch_all(self.conn()).await?;
        rows.iter().map(rows::account).collect()
    }

    async fn count_locked(
        &mut self,
        organisation: Option<OrganisationId>,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM accounts a JOIN identity_stores s ON s.id = a.store_id
             WHERE a.locked_at IS NOT NULL AND (a.lock_expires_at IS NULL OR a.lock_expires_at > $1)
               AND ($2::BIGINT IS NULL OR s.organisation_id = $2)",
        )
        .bind(now.unix_timestamp())
        .bind(organisation.map(|o| o.0))
        .fetch_one(self.conn())
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The users grid's query (`explain`: `""`, or `EXPLAIN ` to see how PostgreSQL runs
/// it). Unlike SQLite, PostgreSQL plans with statistics, so the query is written plainly:
/// the prefix as three ranges (one per index), the locked filter matching the partial
/// indexes' predicate, and the keyset condition as a row comparison.
fn search_query<'q>(q: &'q AccountSearch, explain: &str) -> QueryBuilder<'q, Postgres> {
    let mut b: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "{explain}SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE 1 = 1"
    ));
    // A directory's accounts are searched in the directory (their lock state is there).
    b.push(" AND NOT EXISTS (SELECT 1 FROM directory_accounts d WHERE d.account_id = a.id)");
    if !q.prefix.is_empty() {
        for (i, column) in ["a.username", "a.email_key", "a.name_key"]
            .iter()
            .enumerate()
        {
            b.push(if i == 0 { " AND ((" } else { " OR (" });
            b.push(format!("{column} >= "))
                .push_bind(q.prefix.as_str())
                .push(format!(" AND {column} < "))
                .push_bind(above(&q.prefix))
                .push(")");
        }
        b.push(")");
    }
    if let Some(now) = q.locked_at {
        b.push(
            " AND a.locked_at IS NOT NULL AND (a.lock_expires_at IS NULL OR a.lock_expires_at > ",
        )
        .push_bind(now.unix_timestamp())
        .push(")");
    }
    if let Some(org) = q.organisation {
        b.push(" AND s.organisation_id = ").push_bind(org.0);
    }
    if let Some(store) = q.store {
        b.push(" AND a.store_id = ").push_bind(store.0);
    }
    if let Some(status) = q.status {
        b.push(" AND a.status = ").push_bind(status.as_str());
    }
    match &q.order {
        AccountOrder::Username { after } => {
            if let Some((username, id)) = after {
                b.push(" AND (a.username, a.id) > (")
                    .push_bind(username.as_str())
                    .push(", ")
                    .push_bind(*id)
                    .push(")");
            }
            b.push(" ORDER BY a.username, a.id");
        }
        AccountOrder::LockedDate { after } => {
            b.push(" AND a.locked_at IS NOT NULL");
            if let Some((locked_at, id)) = after {
                b.push(" AND a.locked_at <= ")
                    .push_bind(*locked_at)
                    .push(" AND (a.locked_at < ")
                    .push_bind(*locked_at)
                    .push(" OR a.id > ")
                    .push_bind(*id)
                    .push(")");
            }
            b.push(" ORDER BY a.locked_at DESC, a.id");
        }
    }
    b.push(" LIMIT ").push_bind(i64::from(q.limit));
    b
}

impl super::PgStore {
    /// How PostgreSQL runs a search of the users grid: the lines of `EXPLAIN` (for the
    /// benchmark).
    pub async fn explain_search(&self, q: &AccountSearch) -> Result<Vec<String>, StoreError> {
        let rows = search_query(q, "EXPLAIN ")
            .build()
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(sqlx::Row::try_get::<String, _>(r, 0)?))
            .collect()
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
            "INSERT INTO accounts (public_id, store_id, person_id, username, display_name,
                                   email, name_key, email_key, status, password_hash,
                                   password_changed_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(&account.public_id)
        .bind(account.store_id.0)
        .bind(person.0)
        .bind(account.username.as_str())
        .bind(&account.display_name)
        .bind(account.email.as_str())
        .bind(search_key(&account.display_name))
        .bind(search_key(account.email.as_str()))
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

    async fn update_account(
        &mut self,
        account: AccountId,
        display_name: &str,
        email: &Email,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET display_name = $1, email = $2, name_key = $3, email_key = $4,
                updated_at = $5 WHERE id = $6",
        )
        .bind(display_name)
        .bind(email.as_str())
        .bind(search_key(display_name))
        .bind(search_key(email.as_str()))
        .bind(now.unix_timestamp())
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_account_status(
        &mut self,
        account: AccountId,
        status: AccountStatus,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now.unix_timestamp())
            .bind(account.0)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn set_must_change_password(
        &mut self,
        account: AccountId,
        must_change: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET must_change_password = $1, updated_at = $2 WHERE id = $3")
            .bind(must_change)
            .bind(now.unix_timestamp())
            .bind(account.0)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn set_pending(
        &mut self,
        account: AccountId,
        pending: Pending,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET mfa_reset_pending = $1, profile_update_required = $2,
                questions_required = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(pending.mfa_reset)
        .bind(pending.profile)
        .bind(pending.questions)
        .bind(now.unix_timestamp())
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_profile(
        &mut self,
        account: AccountId,
        display_name: &str,
        email: &Email,
        phone: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET display_name = $1, email = $2, phone = $3, name_key = $4,
                email_key = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(display_name)
        .bind(email.as_str())
        .bind(phone)
        .bind(search_key(display_name))
        .bind(search_key(email.as_str()))
        .bind(now.unix_timestamp())
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_username(
        &mut self,
        account: AccountId,
        username: &crate::account::Username,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET username = $1, updated_at = $2 WHERE id = $3")
            .bind(username.as_str())
            .bind(now.unix_timestamp())
            .bind(account.0)
            .execute(self.conn())
            .await
            .map_err(|e| conflict(e, "username"))?;
        Ok(())
    }

    async fn tie_directory_account(
        &mut self,
        account: AccountId,
        store: crate::organisation::StoreId,
        stable_id: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO directory_accounts (account_id, store_id, stable_id, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(account.0)
        .bind(store.0)
        .bind(stable_id)
        .bind(now.unix_timestamp())
        .execute(self.conn())
        .await
        .map_err(|e| conflict(e, "stable_id"))?;
        Ok(())
    }

    async fn set_person(
        &mut self,
        account: AccountId,
        person: Option<PersonId>,
        now: OffsetDateTime,
    ) -> Result<PersonId, StoreError> {
        let now = now.unix_timestamp();
        let person = match person {
            Some(p) => p,
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO persons (organisation_id, created_at)
                     SELECT s.organisation_id, $1 FROM accounts a
                     JOIN identity_stores s ON s.id = a.store_id WHERE a.id = $2 RETURNING id",
                )
                .bind(now)
                .bind(account.0)
                .fetch_one(self.conn())
                .await?;
                PersonId(id)
            }
        };
        sqlx::query("UPDATE accounts SET person_id = $1, updated_at = $2 WHERE id = $3")
            .bind(person.0)
            .bind(now)
            .bind(account.0)
            .execute(self.conn())
            .await?;
        Ok(person)
    }

    async fn set_aup_acceptance(
        &mut self,
        account: AccountId,
        accepted: Option<(&str, OffsetDateTime)>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET aup_version = $1, aup_accepted_at = $2, updated_at = $3
             WHERE id = $4",
        )
        .bind(accepted.map(|(v, _)| v))
        .bind(accepted.map(|(_, at)| at.unix_timestamp()))
        .bind(now.unix_timestamp())
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
