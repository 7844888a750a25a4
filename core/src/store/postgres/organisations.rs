//! Organisations, identity stores and policies on PostgreSQL.

use async_trait::async_trait;
use sqlx::Row;
use time::OffsetDateTime;

use super::rows::{self, corrupt, count, text, POLICY_COLUMNS};
use super::{conflict, Conn, Pg, PgTx};
use crate::credentials::QuestionPolicy;
use crate::lockout::{LockDuration, LockoutPolicy};
use crate::organisation::{Aup, IdentityStore, Organisation, OrganisationId, StoreId, StoreKind};
use crate::store::{OrganisationsRead, OrganisationsWrite, StoreError};

#[async_trait]
impl<C: Conn> OrganisationsRead for Pg<C> {
    async fn organisation_by_slug(
        &mut self,
        slug: &str,
    ) -> Result<Option<Organisation>, StoreError> {
        let row = sqlx::query("SELECT id, slug, name FROM organisations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::organisation).transpose()
    }

    async fn organisation(
        &mut self,
        id: OrganisationId,
    ) -> Result<Option<Organisation>, StoreError> {
        let row = sqlx::query("SELECT id, slug, name FROM organisations WHERE id = $1")
            .bind(id.0)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(rows::organisation).transpose()
    }

    async fn identity_stores(
        &mut self,
        organisation: Option<OrganisationId>,
    ) -> Result<Vec<IdentityStore>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, organisation_id, name, kind FROM identity_stores
             WHERE $1::BIGINT IS NULL OR organisation_id = $1 ORDER BY priority, id",
        )
        .bind(organisation.map(|o| o.0))
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IdentityStore {
                    id: StoreId(r.try_get("id")?),
                    organisation_id: OrganisationId(r.try_get("organisation_id")?),
                    name: r.try_get("name")?,
                    kind: text(r, "kind")?,
                })
            })
            .collect()
    }

    async fn organisations(&mut self) -> Result<Vec<Organisation>, StoreError> {
        sqlx::query("SELECT id, slug, name FROM organisations ORDER BY id")
            .fetch_all(self.conn())
            .await?
            .iter()
            .map(rows::organisation)
            .collect()
    }

    async fn default_organisation(&mut self) -> Result<Option<OrganisationId>, StoreError> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM organisations ORDER BY id LIMIT 1")
                .fetch_optional(self.conn())
                .await?;
        Ok(id.map(OrganisationId))
    }

    async fn lockout_policy(&mut self, org: OrganisationId) -> Result<LockoutPolicy, StoreError> {
        let sql = format!("SELECT {POLICY_COLUMNS} FROM organisations o WHERE o.id = $1");
        let row = sqlx::query(&sql)
            .bind(org.0)
            .fetch_optional(self.conn())
            .await?
            .ok_or_else(|| corrupt("organisation missing", org.0))?;
        rows::policy(&row)
    }

    async fn question_policy(&mut self, org: OrganisationId) -> Result<QuestionPolicy, StoreError> {
        let row = sqlx::query(
            "SELECT questions_to_enrol, questions_to_ask, answer_min_chars
             FROM organisations WHERE id = $1",
        )
        .bind(org.0)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| corrupt("organisation missing", org.0))?;
        Ok(QuestionPolicy {
            to_enrol: count(&row, "questions_to_enrol")?,
            to_ask: count(&row, "questions_to_ask")?,
            min_answer_chars: count(&row, "answer_min_chars")?,
        })
    }

    async fn aup(&mut self, org: OrganisationId) -> Result<Aup, StoreError> {
        let row = sqlx::query(
            "SELECT aup_version, aup_text, aup_updated_at FROM organisations WHERE id = $1",
        )
        .bind(org.0)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| corrupt("organisation missing", org.0))?;
        Ok(Aup {
            version: row.try_get("aup_version")?,
            text: row.try_get("aup_text")?,
            updated_at: rows::time_opt(&row, "aup_updated_at")?,
        })
    }
}

#[async_trait]
impl OrganisationsWrite for PgTx {
    async fn create_organisation(
        &mut self,
        slug: &str,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Organisation, StoreError> {
        let row = sqlx::query(
            "INSERT INTO organisations (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(slug)
        .bind(name)
        .bind(now.unix_timestamp())
        .fetch_one(self.conn())
        .await
        .map_err(|e| conflict(e, "organisation"))?;
        Ok(Organisation {
            id: OrganisationId(row.try_get("id")?),
            slug: slug.to_owned(),
            name: name.to_owned(),
        })
    }

    async fn create_identity_store(
        &mut self,
        organisation: OrganisationId,
        name: &str,
        kind: StoreKind,
        priority: i64,
        now: OffsetDateTime,
    ) -> Result<IdentityStore, StoreError> {
        let name = name.to_uppercase();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO identity_stores (organisation_id, name, kind, priority, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(organisation.0)
        .bind(&name)
        .bind(kind.as_str())
        .bind(priority)
        .bind(now.unix_timestamp())
        .fetch_one(self.conn())
        .await
        .map_err(|e| conflict(e, "identity store"))?;
        Ok(IdentityStore {
            id: StoreId(id),
            organisation_id: organisation,
            name,
            kind,
        })
    }

    async fn set_lockout_policy(
        &mut self,
        org: OrganisationId,
        policy: &LockoutPolicy,
    ) -> Result<(), StoreError> {
        let duration = match policy.duration {
            LockDuration::Temporary(d) => Some(d.whole_seconds()),
            LockDuration::UntilUnlocked => None,
        };
        sqlx::query(
            "UPDATE organisations
             SET lockout_threshold = $1, lockout_window_secs = $2, lockout_duration_secs = $3
             WHERE id = $4",
        )
        .bind(i64::from(policy.threshold))
        .bind(policy.window.whole_seconds())
        .bind(duration)
        .bind(org.0)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// One statement: two editors at once get two versions, never the same one (the
    /// second waits for the first's row lock, then adds one to the version it wrote).
    async fn set_aup(
        &mut self,
        org: OrganisationId,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE organisations SET aup_text = $1, aup_version = aup_version + 1,
                aup_updated_at = $2 WHERE id = $3 RETURNING aup_version",
        )
        .bind(text)
        .bind(now.unix_timestamp())
        .bind(org.0)
        .fetch_optional(self.conn())
        .await?
        .ok_or_else(|| corrupt("organisation missing", org.0))?;
        Ok(row.try_get("aup_version")?)
    }
}
