//! The embedded store: one SQLite file, WAL mode, migrations applied at start.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;

use super::{Store, StoreError};
use crate::account::{AccountId, NewAccount, PersonId};
use crate::organisation::{IdentityStore, Organisation, OrganisationId, StoreId, StoreKind};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another writer before giving up. Writes are short, so
/// this is only reached under extreme contention.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Releases the connections; called at shutdown so the WAL is checkpointed.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn conflict(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(e),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn organisation_by_slug(&self, slug: &str) -> Result<Option<Organisation>, StoreError> {
        let row = sqlx::query("SELECT id, slug, name FROM organisations WHERE slug = ?")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(Organisation {
                id: OrganisationId(r.try_get("id")?),
                slug: r.try_get("slug")?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }

    async fn create_organisation(
        &self,
        slug: &str,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Organisation, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO organisations (slug, name, created_at) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(slug)
        .bind(name)
        .bind(now.unix_timestamp())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| conflict(e, "organisation"))?;
        Ok(Organisation {
            id: OrganisationId(id),
            slug: slug.to_owned(),
            name: name.to_owned(),
        })
    }

    async fn create_identity_store(
        &self,
        organisation: OrganisationId,
        name: &str,
        kind: StoreKind,
        priority: i64,
        now: OffsetDateTime,
    ) -> Result<IdentityStore, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO identity_stores (organisation_id, name, kind, priority, created_at)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(organisation.0)
        .bind(name)
        .bind(kind.as_str())
        .bind(priority)
        .bind(now.unix_timestamp())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| conflict(e, "identity store"))?;
        Ok(IdentityStore {
            id: StoreId(id),
            organisation_id: organisation,
            name: name.to_owned(),
            kind,
        })
    }

    async fn create_account(
        &self,
        account: &NewAccount,
        person: Option<PersonId>,
        now: OffsetDateTime,
    ) -> Result<(AccountId, PersonId), StoreError> {
        let now = now.unix_timestamp();
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let person = match person {
            Some(p) => p,
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO persons (organisation_id, created_at)
                     SELECT organisation_id, ? FROM identity_stores WHERE id = ? RETURNING id",
                )
                .bind(now)
                .bind(account.store_id.0)
                .fetch_one(&mut *tx)
                .await?;
                PersonId(id)
            }
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (store_id, person_id, username, display_name, email, status,
                                   password_hash, password_changed_at, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict(e, "username"))?;
        tx.commit().await?;
        Ok((AccountId(id), person))
    }
}
