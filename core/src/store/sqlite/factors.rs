//! Security questions, authenticators and one-time codes on SQLite.

use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;

use super::rows::{time, time_opt};
use super::{conflict, Conn, SqliteTx};
use crate::account::{AccountId, Email};
use crate::code::StoredCode;
use crate::credentials::{
    CatalogueQuestion, NewAnswer, QuestionChoice, RecoveryEmail, StoredAnswer, TotpCredential,
};
use crate::organisation::OrganisationId;
use crate::store::{FactorsRead, FactorsWrite, StoreError};

/// A step number as stored (SQLite integers are signed).
fn step_value(step: u64) -> i64 {
    i64::try_from(step).unwrap_or(i64::MAX)
}

#[async_trait]
impl<C: Conn> FactorsRead for C {
    async fn question_catalogue(
        &mut self,
        org: OrganisationId,
    ) -> Result<Vec<CatalogueQuestion>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, text FROM security_questions WHERE organisation_id = ? AND active = 1
             ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CatalogueQuestion {
                    id: r.try_get("id")?,
                    text: r.try_get("text")?,
                })
            })
            .collect()
    }

    async fn catalogue_entries(
        &mut self,
        org: OrganisationId,
    ) -> Result<Vec<(CatalogueQuestion, bool)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, text, active FROM security_questions WHERE organisation_id = ? ORDER BY id",
        )
        .bind(org.0)
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                let question = CatalogueQuestion {
                    id: r.try_get("id")?,
                    text: r.try_get("text")?,
                };
                Ok((question, r.try_get::<i64, _>("active")? != 0))
            })
            .collect()
    }

    async fn security_answers(
        &mut self,
        account: AccountId,
    ) -> Result<Vec<StoredAnswer>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, COALESCE(q.text, a.custom_question) AS question, a.answer_hash
             FROM security_answers a LEFT JOIN security_questions q ON q.id = a.question_id
             WHERE a.account_id = ? ORDER BY a.id",
        )
        .bind(account.0)
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredAnswer {
                    id: r.try_get("id")?,
                    question: r.try_get("question")?,
                    answer_hash: r.try_get("answer_hash")?,
                })
            })
            .collect()
    }

    async fn totp_credential(
        &mut self,
        account: AccountId,
    ) -> Result<Option<TotpCredential>, StoreError> {
        let row = sqlx::query(
            "SELECT sealed_secret, confirmed_at, last_used_step, pending_secret
             FROM totp_credentials WHERE account_id = ?",
        )
        .bind(account.0)
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| {
            Ok(TotpCredential {
                sealed_secret: r.try_get("sealed_secret")?,
                confirmed_at: time_opt(&r, "confirmed_at")?,
                last_used_step: u64::try_from(r.try_get::<i64, _>("last_used_step")?).unwrap_or(0),
                pending_secret: r.try_get("pending_secret")?,
            })
        })
        .transpose()
    }

    async fn code(&mut self, id: i64) -> Result<Option<StoredCode>, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_id, purpose, code_hash, created_at, expires_at, attempts, used_at
             FROM one_time_codes WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| {
            Ok(StoredCode {
                id: r.try_get("id")?,
                account_id: AccountId(r.try_get("account_id")?),
                purpose: r.try_get("purpose")?,
                code_hash: r.try_get("code_hash")?,
                created_at: time(&r, "created_at")?,
                expires_at: time(&r, "expires_at")?,
                // A count that cannot be read is treated as spent, never as fresh.
                attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                used_at: time_opt(&r, "used_at")?,
            })
        })
        .transpose()
    }

    async fn recovery_email(
        &mut self,
        account: AccountId,
    ) -> Result<Option<RecoveryEmail>, StoreError> {
        let row = sqlx::query(
            "SELECT address, confirmed_at, pending_address, pending_code_id
             FROM recovery_emails WHERE account_id = ?",
        )
        .bind(account.0)
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| {
            let address: Option<String> = r.try_get("address")?;
            let pending_address: Option<String> = r.try_get("pending_address")?;
            let pending_code: Option<i64> = r.try_get("pending_code_id")?;
            Ok(RecoveryEmail {
                address: address.map(Email::from_stored),
                confirmed_at: time_opt(&r, "confirmed_at")?,
                pending: pending_address
                    .zip(pending_code)
                    .map(|(a, c)| (Email::from_stored(a), c)),
            })
        })
        .transpose()
    }
}

#[async_trait]
impl FactorsWrite for SqliteTx {
    async fn add_catalogue_question(
        &mut self,
        org: OrganisationId,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO security_questions (organisation_id, text, created_at) VALUES (?, ?, ?)
             RETURNING id",
        )
        .bind(org.0)
        .bind(text)
        .bind(now.unix_timestamp())
        .fetch_one(self.conn())
        .await
        .map_err(|e| conflict(e, "question"))
    }

    async fn set_question_active(
        &mut self,
        org: OrganisationId,
        question: i64,
        active: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE security_questions SET active = ? WHERE id = ? AND organisation_id = ?",
        )
        .bind(i64::from(active))
        .bind(question)
        .bind(org.0)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn replace_security_answers(
        &mut self,
        account: AccountId,
        answers: &[NewAnswer],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM security_answers WHERE account_id = ?")
            .bind(account.0)
            .execute(self.conn())
            .await?;
        for a in answers {
            let (question_id, custom) = match &a.question {
                QuestionChoice::Catalogue { id } => (Some(*id), None),
                QuestionChoice::Custom { text } => (None, Some(text.as_str())),
            };
            sqlx::query(
                "INSERT INTO security_answers (account_id, question_id, custom_question,
                    answer_hash, created_at)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(account.0)
            .bind(question_id)
            .bind(custom)
            .bind(&a.answer_hash)
            .bind(now.unix_timestamp())
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    async fn save_totp_credential(
        &mut self,
        account: AccountId,
        sealed_secret: &[u8],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO totp_credentials (account_id, pending_secret, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (account_id) DO UPDATE SET pending_secret = excluded.pending_secret,
                updated_at = excluded.updated_at",
        )
        .bind(account.0)
        .bind(sealed_secret)
        .bind(now.unix_timestamp())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn confirm_totp(
        &mut self,
        account: AccountId,
        step: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE totp_credentials SET sealed_secret = pending_secret, pending_secret = NULL,
                confirmed_at = ?1, last_used_step = ?2, updated_at = ?1
             WHERE account_id = ?3 AND pending_secret IS NOT NULL",
        )
        .bind(now.unix_timestamp())
        .bind(step_value(step))
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn set_totp_last_step(
        &mut self,
        account: AccountId,
        step: u64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE totp_credentials SET last_used_step = ?1 WHERE account_id = ?2
             AND last_used_step < ?1",
        )
        .bind(step_value(step))
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_code(
        &mut self,
        account: AccountId,
        purpose: &str,
        code_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO one_time_codes (account_id, purpose, code_hash, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(account.0)
        .bind(purpose)
        .bind(code_hash)
        .bind(now.unix_timestamp())
        .bind(expires_at.unix_timestamp())
        .fetch_one(self.conn())
        .await?)
    }

    async fn use_code(&mut self, id: i64, now: OffsetDateTime) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE one_time_codes SET used_at = ? WHERE id = ? AND used_at IS NULL")
                .bind(now.unix_timestamp())
                .bind(id)
                .execute(self.conn())
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_lock_link(
        &mut self,
        account: AccountId,
        purpose: &str,
        token_hash: &str,
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO lock_links (account_id, purpose, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(account.0)
        .bind(purpose)
        .bind(token_hash)
        .bind(now.unix_timestamp())
        .bind(expires_at.unix_timestamp())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn spend_lock_link(
        &mut self,
        token_hash: &str,
        purpose: &str,
        now: OffsetDateTime,
    ) -> Result<Option<AccountId>, StoreError> {
        let account: Option<i64> = sqlx::query_scalar(
            "UPDATE lock_links SET used_at = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING account_id",
        )
        .bind(now.unix_timestamp())
        .bind(token_hash)
        .bind(purpose)
        .bind(now.unix_timestamp())
        .fetch_optional(self.conn())
        .await?;
        Ok(account.map(AccountId))
    }

    async fn spend_lock_links_of(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE lock_links SET used_at = ? WHERE account_id = ? AND used_at IS NULL",
        )
        .bind(now.unix_timestamp())
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected())
    }

    async fn delete_totp_credential(&mut self, account: AccountId) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM totp_credentials WHERE account_id = ?")
            .bind(account.0)
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn count_code_attempt(&mut self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = ?")
            .bind(id)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn propose_recovery_email(
        &mut self,
        account: AccountId,
        address: &Email,
        code_id: i64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO recovery_emails (account_id, pending_address, pending_code_id, updated_at)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (account_id) DO UPDATE SET pending_address = excluded.pending_address,
                pending_code_id = excluded.pending_code_id, updated_at = excluded.updated_at",
        )
        .bind(account.0)
        .bind(address.as_str())
        .bind(code_id)
        .bind(now.unix_timestamp())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn confirm_recovery_email(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE recovery_emails SET address = pending_address, confirmed_at = ?,
                pending_address = NULL, pending_code_id = NULL, updated_at = ?
             WHERE account_id = ? AND pending_address IS NOT NULL",
        )
        .bind(now.unix_timestamp())
        .bind(now.unix_timestamp())
        .bind(account.0)
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn remove_recovery_email(&mut self, account: AccountId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM recovery_emails WHERE account_id = ?")
            .bind(account.0)
            .execute(self.conn())
            .await?;
        Ok(())
    }
}
