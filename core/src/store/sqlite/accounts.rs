//! Accounts on SQLite.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite};
use time::OffsetDateTime;

use super::rows::{self, ACCOUNTS, ACCOUNT_COLUMNS, POLICY_COLUMNS};
use super::{conflict, Conn, SqliteTx};
use crate::account::{
    search_key, Account, AccountId, AccountName, AccountStatus, Email, NewAccount, Pending,
    PersonId,
};
use crate::lockout::{LockState, LockoutPolicy};
use crate::organisation::OrganisationId;
use crate::store::{AccountOrder, AccountSearch, AccountsRead, AccountsWrite, StoreError};

/// The smallest string above every string that starts with `prefix` (in SQLite's
/// byte order: U+10FFFF is the largest character).
fn above(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

#[async_trait]
impl<C: Conn> AccountsRead for C {
    async fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.id = ?");
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
                    "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE s.name = ? AND a.username = ?"
                );
                sqlx::query(&sql)
                    .bind(store)
                    .bind(name.username.as_str())
                    .fetch_optional(self.conn())
                    .await?
            }
            None => {
                let sql = format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.username = ?
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

    async fn account_with_policy(
        &mut self,
        id: AccountId,
    ) -> Result<Option<(Account, LockoutPolicy)>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS}, {POLICY_COLUMNS} FROM {ACCOUNTS}
             JOIN organisations o ON o.id = s.organisation_id WHERE a.id = ?"
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

    async fn account_by_public_id(
        &mut self,
        public_id: &str,
    ) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.public_id = ?");
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
             WHERE d.store_id = ? AND d.stable_id = ?"
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
            sqlx::query_scalar("SELECT stable_id FROM directory_accounts WHERE account_id = ?")
                .bind(account.0)
                .fetch_optional(self.conn())
                .await?,
        )
    }

    async fn accounts_of_person(&mut self, person: PersonId) -> Result<Vec<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.person_id = ?
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
            "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.email_key = ?
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
             WHERE a.locked_at IS NOT NULL AND (a.lock_expires_at IS NULL OR a.lock_expires_at > ?1)
               AND (?2 IS NULL OR s.organisation_id = ?2)",
        )
        .bind(now.unix_timestamp())
        .bind(organisation.map(|o| o.0))
        .fetch_one(self.conn())
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// The users grid's query (`explain`: `""`, or `EXPLAIN QUERY PLAN ` to see how SQLite
/// runs it).
///
/// Locked accounts are a few per cent of all, and both orders have a partial index of
/// them (`accounts_locked`, `accounts_locked_date`): walking one in order and testing
/// each row stops after a page. Without statistics SQLite would rather collect every
/// account that matches the text from the three prefix indexes (or every account of the
/// identity store) and sort them — tens of thousands of rows for a one-letter prefix on
/// 100,000 accounts. So when only locked accounts are asked for, the text and store
/// terms are written with a unary `+`, which keeps SQLite from using an index for them.
fn search_query<'q>(q: &'q AccountSearch, explain: &str) -> QueryBuilder<'q, Sqlite> {
    let mut b: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "{explain}SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE 1 = 1"
    ));
    // A directory's accounts are searched in the directory (their lock state is there).
    b.push(" AND NOT EXISTS (SELECT 1 FROM directory_accounts d WHERE d.account_id = a.id)");
    let unindexed = if q.locked_at.is_some() { "+" } else { "" };
    if !q.prefix.is_empty() {
        // Three ranges, each served by its own index (unless only locked accounts).
        for (i, column) in ["a.username", "a.email_key", "a.name_key"]
            .iter()
            .enumerate()
        {
            b.push(if i == 0 { " AND ((" } else { " OR (" });
            b.push(format!("{unindexed}{column} >= "))
                .push_bind(q.prefix.as_str())
                .push(format!(" AND {unindexed}{column} < "))
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
        b.push(format!(" AND {unindexed}a.store_id = "))
            .push_bind(store.0);
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
                // A range of the index, then a test: an OR of the two cases would make
                // SQLite search the index twice and sort what it found.
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

impl super::SqliteStore {
    /// How SQLite runs a search of the users grid: the lines of `EXPLAIN QUERY PLAN`
    /// (for the benchmark, and the tests that keep the locked searches on their indexes).
    pub async fn explain_search(&self, q: &AccountSearch) -> Result<Vec<String>, StoreError> {
        let rows = search_query(q, "EXPLAIN QUERY PLAN ")
            .build()
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>("detail")?))
            .collect()
    }
}

#[async_trait]
impl AccountsWrite for SqliteTx {
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
                     SELECT organisation_id, ? FROM identity_stores WHERE id = ? RETURNING id",
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
            "UPDATE accounts SET failed_attempts = ?, first_failure_at = ?, locked_at = ?,
                lock_reason = ?, lock_expires_at = ?, unlocked_by = ?, unlocked_at = ?,
                consecutive_failures = ?, last_failure_at = ?, updated_at = ?
             WHERE id = ?",
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
            "UPDATE accounts SET password_hash = ?, password_changed_at = ?,
                must_change_password = ?, updated_at = ? WHERE id = ?",
        )
        .bind(hash)
        .bind(now.unix_timestamp())
        .bind(i64::from(must_change))
        .bind(now.unix_timestamp())
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
            "UPDATE accounts SET display_name = ?, email = ?, name_key = ?, email_key = ?,
                updated_at = ? WHERE id = ?",
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
        sqlx::query("UPDATE accounts SET status = ?, updated_at = ? WHERE id = ?")
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
        sqlx::query("UPDATE accounts SET must_change_password = ?, updated_at = ? WHERE id = ?")
            .bind(i64::from(must_change))
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
            "UPDATE accounts SET mfa_reset_pending = ?, profile_update_required = ?,
                questions_required = ?, updated_at = ? WHERE id = ?",
        )
        .bind(i64::from(pending.mfa_reset))
        .bind(i64::from(pending.profile))
        .bind(i64::from(pending.questions))
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
            "UPDATE accounts SET display_name = ?, email = ?, phone = ?, name_key = ?,
                email_key = ?, updated_at = ? WHERE id = ?",
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
        sqlx::query("UPDATE accounts SET username = ?, updated_at = ? WHERE id = ?")
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
             VALUES (?, ?, ?, ?)",
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
                     SELECT s.organisation_id, ? FROM accounts a
                     JOIN identity_stores s ON s.id = a.store_id WHERE a.id = ? RETURNING id",
                )
                .bind(now)
                .bind(account.0)
                .fetch_one(self.conn())
                .await?;
                PersonId(id)
            }
        };
        sqlx::query("UPDATE accounts SET person_id = ?, updated_at = ? WHERE id = ?")
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
            "UPDATE accounts SET aup_version = ?, aup_accepted_at = ?, updated_at = ?
             WHERE id = ?",
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountStatus;
    use crate::organisation::StoreId;
    use crate::store::sqlite::SqliteStore;
    use time::macros::datetime;

    /// Every search of locked accounts walks a partial index of them in the order asked
    /// for, and stops after a page: no collecting and sorting of whatever matches the text
    /// (see [`search_query`]). SQLite plans without statistics, so an empty database
    /// plans as a large one does.
    #[tokio::test]
    async fn locked_searches_walk_the_partial_indexes_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.sqlite3"))
            .await
            .unwrap();
        let now = datetime!(2026-06-01 08:00 UTC);
        for prefix in ["", "a", "smith"] {
            for organisation in [None, Some(OrganisationId(1))] {
                for store_id in [None, Some(StoreId(1))] {
                    for status in [None, Some(AccountStatus::Active)] {
                        for (order, index) in [
                            (
                                AccountOrder::Username {
                                    after: Some(("alice".into(), 7)),
                                },
                                "accounts_locked",
                            ),
                            (AccountOrder::Username { after: None }, "accounts_locked"),
                            (
                                AccountOrder::LockedDate {
                                    after: Some((1_700_000_000, 7)),
                                },
                                "accounts_locked_date",
                            ),
                            (
                                AccountOrder::LockedDate { after: None },
                                "accounts_locked_date",
                            ),
                        ] {
                            let q = AccountSearch {
                                prefix: prefix.into(),
                                locked_at: Some(now),
                                organisation,
                                store: store_id,
                                status,
                                order,
                                limit: 26,
                            };
                            let plan = store.explain_search(&q).await.unwrap();
                            let walks = plan.iter().any(|line| {
                                line.split("USING INDEX ")
                                    .nth(1)
                                    .and_then(|rest| rest.split_whitespace().next())
                                    == Some(index)
                            });
                            let plan = plan.join("\n");
                            assert!(walks, "{q:?}\n{plan}");
                            assert!(!plan.contains("TEMP B-TREE"), "{q:?}\n{plan}");
                        }
                    }
                }
            }
        }
        // Everyone without text: in username order straight from an index as well.
        for store_id in [None, Some(StoreId(1))] {
            let q = AccountSearch {
                prefix: String::new(),
                locked_at: None,
                organisation: Some(OrganisationId(1)),
                store: store_id,
                status: None,
                order: AccountOrder::Username { after: None },
                limit: 26,
            };
            let plan = store.explain_search(&q).await.unwrap().join("\n");
            assert!(!plan.contains("TEMP B-TREE"), "{q:?}\n{plan}");
        }
    }
}
