//! The embedded store: one SQLite file, WAL mode, migrations applied at start.
//! Write transactions begin with `BEGIN IMMEDIATE`, taking SQLite's single write lock at
//! once, so concurrent read-decide-write sequences are serialised instead of failing.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, SqlitePool, Transaction};
use time::{Duration, OffsetDateTime};

use super::{Store, StoreError, Tx};
use crate::account::{
    Account, AccountId, AccountName, AccountStatus, Email, NewAccount, PersonId, Username,
};
use crate::audit::{AuditEvent, AuditRecord, GENESIS_HASH};
use crate::clock::from_unix;
use crate::code::StoredCode;
use crate::factor::questions::{
    CatalogueQuestion, NewAnswer, QuestionChoice, QuestionPolicy, StoredAnswer,
};
use crate::factor::totp::TotpCredential;
use crate::factor::FactorKind;
use crate::flow::{Flow, FlowAction, FlowState};
use crate::lockout::{Lock, LockDuration, LockReason, LockState, LockoutPolicy, Unlock};
use crate::organisation::{IdentityStore, Organisation, OrganisationId, StoreId, StoreKind};
use crate::outbox::{
    Claim, DeliveryResult, DeliveryStatus, Notification, NotificationId, OutboxEntry, Recipient,
};
use crate::selfservice::{FlowScope, Throttle};
use crate::session::SessionRecord;
use crate::settings::Channel;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a writer waits for another writer. Writes are short, so this is only
/// reached under extreme contention.
const BUSY_TIMEOUT: StdDuration = StdDuration::from_secs(30);

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let open_error = |reason: String| StoreError::Open {
            path: path.display().to_string(),
            reason,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
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
            .map_err(|e| open_error(e.to_string()))?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    /// Releases the connections; called at shutdown so the WAL is checkpointed.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for tests that need to reach behind the store (e.g. to tamper).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn conflict(e: sqlx::Error, what: &'static str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(e),
    }
}

/// Columns read by [`account_from_row`]; `FROM {ACCOUNTS}` provides them.
const ACCOUNT_COLUMNS: &str = "
    a.id, a.person_id, s.organisation_id, a.store_id, s.name AS store_name, a.username,
    a.display_name, a.email, a.status, a.password_hash, a.password_changed_at,
    a.must_change_password, a.aup_accepted_at, a.aup_version, a.failed_attempts,
    a.first_failure_at, a.locked_at, a.lock_reason, a.lock_expires_at, a.unlocked_by,
    a.unlocked_at, a.created_at, a.consecutive_failures, a.last_failure_at";
const ACCOUNTS: &str = "accounts a JOIN identity_stores s ON s.id = a.store_id";
/// Columns read by [`policy_from_row`], from `organisations o`.
const POLICY_COLUMNS: &str = "o.lockout_threshold, o.lockout_window_secs, o.lockout_duration_secs";

fn time_opt(row: &SqliteRow, col: &str) -> Result<Option<OffsetDateTime>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(from_unix))
}

fn account_from_row(row: &SqliteRow) -> Result<Account, StoreError> {
    let status: String = row.try_get("status")?;
    let status = AccountStatus::parse(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("account status {status:?}")))?;
    let lock = match time_opt(row, "locked_at")? {
        None => None,
        Some(locked_at) => {
            let reason: Option<String> = row.try_get("lock_reason")?;
            let reason = reason
                .as_deref()
                .and_then(LockReason::parse)
                .ok_or_else(|| StoreError::Corrupt(format!("lock reason {reason:?}")))?;
            Some(Lock {
                locked_at,
                reason,
                expires_at: time_opt(row, "lock_expires_at")?,
            })
        }
    };
    let last_unlock = match (
        row.try_get::<Option<String>, _>("unlocked_by")?,
        time_opt(row, "unlocked_at")?,
    ) {
        (Some(by), Some(at)) => Some(Unlock { by, at }),
        _ => None,
    };
    let failed: i64 = row.try_get("failed_attempts")?;
    Ok(Account {
        id: AccountId(row.try_get("id")?),
        person_id: PersonId(row.try_get("person_id")?),
        organisation_id: OrganisationId(row.try_get("organisation_id")?),
        store_id: StoreId(row.try_get("store_id")?),
        store_name: row.try_get("store_name")?,
        username: Username::from_stored(row.try_get("username")?),
        display_name: row.try_get("display_name")?,
        email: Email::from_stored(row.try_get("email")?),
        status,
        password_hash: row.try_get("password_hash")?,
        password_changed_at: time_opt(row, "password_changed_at")?,
        must_change_password: row.try_get::<i64, _>("must_change_password")? != 0,
        aup_accepted_at: time_opt(row, "aup_accepted_at")?,
        aup_version: row.try_get("aup_version")?,
        lock: LockState {
            failed_attempts: u32::try_from(failed).unwrap_or(0),
            first_failure_at: time_opt(row, "first_failure_at")?,
            lock,
            last_unlock,
            consecutive_failures: u32::try_from(row.try_get::<i64, _>("consecutive_failures")?)
                .unwrap_or(0),
            last_failure_at: time_opt(row, "last_failure_at")?,
        },
        created_at: from_unix(row.try_get("created_at")?),
    })
}

async fn fetch_account<'e, E>(e: E, id: AccountId) -> Result<Option<Account>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.id = ?");
    let row = sqlx::query(&sql).bind(id.0).fetch_optional(e).await?;
    row.as_ref().map(account_from_row).transpose()
}

async fn fetch_policy<'e, E>(e: E, org: OrganisationId) -> Result<LockoutPolicy, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let sql = format!("SELECT {POLICY_COLUMNS} FROM organisations o WHERE o.id = ?");
    let row = sqlx::query(&sql)
        .bind(org.0)
        .fetch_optional(e)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("organisation {} missing", org.0)))?;
    policy_from_row(&row)
}

fn policy_from_row(row: &SqliteRow) -> Result<LockoutPolicy, StoreError> {
    let threshold: i64 = row.try_get("lockout_threshold")?;
    let window: i64 = row.try_get("lockout_window_secs")?;
    let duration: Option<i64> = row.try_get("lockout_duration_secs")?;
    Ok(LockoutPolicy {
        threshold: u32::try_from(threshold).unwrap_or(0),
        window: Duration::seconds(window),
        duration: duration.map_or(LockDuration::UntilUnlocked, |s| {
            LockDuration::Temporary(Duration::seconds(s))
        }),
    })
}

fn organisation_from_row(row: &SqliteRow) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: OrganisationId(row.try_get("id")?),
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
    })
}

fn session_from_row(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        id_hash: row.try_get("id_hash")?,
        account_id: AccountId(row.try_get("account_id")?),
        created_at: from_unix(row.try_get("created_at")?),
        last_seen_at: from_unix(row.try_get("last_seen_at")?),
        expires_at: from_unix(row.try_get("expires_at")?),
        revoked_at: time_opt(row, "revoked_at")?,
    })
}

fn audit_from_row(row: &SqliteRow) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        actor_account_id: row.try_get("actor_account_id")?,
        subject_account_id: row.try_get("subject_account_id")?,
        subject: row.try_get("subject")?,
        action: row.try_get("action")?,
        channel: row.try_get("channel")?,
        client_addr: row.try_get("client_addr")?,
        outcome: row.try_get("outcome")?,
        details: row.try_get("details")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

async fn fetch_account_by_name<'e, E>(
    e: E,
    name: &AccountName,
) -> Result<Option<Account>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = match &name.store {
        Some(store) => {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE s.name = ? AND a.username = ?"
            );
            sqlx::query(&sql)
                .bind(store)
                .bind(name.username.as_str())
                .fetch_optional(e)
                .await?
        }
        None => {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS} FROM {ACCOUNTS} WHERE a.username = ? ORDER BY s.priority, s.id LIMIT 1"
            );
            sqlx::query(&sql)
                .bind(name.username.as_str())
                .fetch_optional(e)
                .await?
        }
    };
    row.as_ref().map(account_from_row).transpose()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn flow_from_row(row: &SqliteRow) -> Result<Flow, StoreError> {
    let action = match row.try_get::<String, _>("action")?.as_str() {
        "unlock" => FlowAction::Unlock,
        "reset_password" => FlowAction::ResetPassword,
        other => return Err(corrupt("flow action", other)),
    };
    let channel = match row.try_get::<String, _>("channel")?.as_str() {
        "web" => Channel::Web,
        "mobile" => Channel::Mobile,
        "desktop" => Channel::Desktop,
        other => return Err(corrupt("flow channel", other)),
    };
    let steps: Vec<FactorKind> = serde_json::from_str(&row.try_get::<String, _>("steps")?)
        .map_err(|e| corrupt("flow steps", e))?;
    let state: FlowState = serde_json::from_str(&row.try_get::<String, _>("state")?)
        .map_err(|e| corrupt("flow state", e))?;
    Ok(Flow {
        id_hash: row.try_get("id_hash")?,
        action,
        channel,
        steps,
        account: row.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
        subject_name: row.try_get("subject_name")?,
        state,
        created_at: from_unix(row.try_get("created_at")?),
        expires_at: from_unix(row.try_get("expires_at")?),
    })
}

async fn fetch_flow<'e, E>(e: E, id_hash: &str) -> Result<Option<Flow>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(
        "SELECT id_hash, action, channel, steps, account_id, subject_name, state, created_at, expires_at
         FROM self_service_flows WHERE id_hash = ?",
    )
    .bind(id_hash)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(flow_from_row).transpose()
}

async fn fetch_catalogue<'e, E>(
    e: E,
    org: OrganisationId,
) -> Result<Vec<CatalogueQuestion>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let rows = sqlx::query(
        "SELECT id, text FROM security_questions WHERE organisation_id = ? AND active = 1 ORDER BY id",
    )
    .bind(org.0)
    .fetch_all(e)
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

async fn fetch_question_policy<'e, E>(
    e: E,
    org: OrganisationId,
) -> Result<QuestionPolicy, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(
        "SELECT questions_to_enrol, questions_to_ask, answer_min_chars FROM organisations WHERE id = ?",
    )
    .bind(org.0)
    .fetch_optional(e)
    .await?
    .ok_or_else(|| corrupt("organisation missing", org.0))?;
    let get = |col: &str| -> Result<u32, StoreError> {
        Ok(u32::try_from(row.try_get::<i64, _>(col)?).unwrap_or(0))
    };
    Ok(QuestionPolicy {
        to_enrol: get("questions_to_enrol")?,
        to_ask: get("questions_to_ask")?,
        min_answer_chars: get("answer_min_chars")?,
    })
}

async fn fetch_totp<'e, E>(e: E, account: AccountId) -> Result<Option<TotpCredential>, StoreError>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row = sqlx::query(
        "SELECT sealed_secret, confirmed_at, last_used_step, pending_secret
         FROM totp_credentials WHERE account_id = ?",
    )
    .bind(account.0)
    .fetch_optional(e)
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

fn scope_name(scope: FlowScope) -> &'static str {
    match scope {
        FlowScope::All => "all",
        FlowScope::Channel(c) => c.as_str(),
    }
}

/// Columns read by [`outbox_from_row`], from `outbox`; `sealed_code` is added by the
/// caller (the column itself when claiming, NULL when listing).
const OUTBOX_COLUMNS: &str = "
    id, organisation_id, recipient_email, recipient_name, account_id, account_name, payload,
    message_id, status, attempts, created_at, next_attempt_at, last_error, sent_at,
    sealed_code IS NOT NULL AS holds_secret,
    (SELECT o.name FROM organisations o WHERE o.id = outbox.organisation_id) AS organisation_name";

fn outbox_from_row(row: &SqliteRow) -> Result<OutboxEntry, StoreError> {
    let id: i64 = row.try_get("id")?;
    let corrupt = |what: String| StoreError::Corrupt(format!("outbox row {id}: {what}"));
    let status: String = row.try_get("status")?;
    let payload: String = row.try_get("payload")?;
    let notification =
        Notification::from_stored(&payload).map_err(|e| corrupt(format!("payload {e}")))?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(OutboxEntry {
        id: NotificationId(id),
        organisation_id: OrganisationId(row.try_get("organisation_id")?),
        organisation_name: row
            .try_get::<Option<String>, _>("organisation_name")?
            .unwrap_or_default(),
        recipient: Recipient {
            email: Email::from_stored(row.try_get("recipient_email")?),
            name: row.try_get("recipient_name")?,
            account_id: row.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
            username: row.try_get("account_name")?,
        },
        notification,
        holds_secret: row.try_get("holds_secret")?,
        sealed_code: row.try_get("sealed_code")?,
        message_key: row.try_get("message_id")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("status {status:?}")))?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        created_at: from_unix(row.try_get("created_at")?),
        next_attempt_at: from_unix(row.try_get("next_attempt_at")?),
        last_error: row.try_get("last_error")?,
        sent_at: time_opt(row, "sent_at")?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok(Box::new(SqliteTx { tx }))
    }

    async fn organisation_by_slug(&self, slug: &str) -> Result<Option<Organisation>, StoreError> {
        let row = sqlx::query("SELECT id, slug, name FROM organisations WHERE slug = ?")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(organisation_from_row).transpose()
    }

    async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        sqlx::query("SELECT id, slug, name FROM organisations ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(organisation_from_row)
            .collect()
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
        let name = name.to_uppercase();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO identity_stores (organisation_id, name, kind, priority, created_at)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(organisation.0)
        .bind(&name)
        .bind(kind.as_str())
        .bind(priority)
        .bind(now.unix_timestamp())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| conflict(e, "identity store"))?;
        Ok(IdentityStore {
            id: StoreId(id),
            organisation_id: organisation,
            name,
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

    async fn account_by_name(&self, name: &AccountName) -> Result<Option<Account>, StoreError> {
        fetch_account_by_name(&self.pool, name).await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        fetch_account(&self.pool, id).await
    }

    async fn lockout_policy(&self, org: OrganisationId) -> Result<LockoutPolicy, StoreError> {
        fetch_policy(&self.pool, org).await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id_hash, account_id, created_at, last_seen_at, expires_at, revoked_at
             FROM sessions WHERE id_hash = ?",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn sessions_of(&self, account: AccountId) -> Result<Vec<SessionRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id_hash, account_id, created_at, last_seen_at, expires_at, revoked_at
             FROM sessions WHERE account_id = ? AND revoked_at IS NULL ORDER BY created_at",
        )
        .bind(account.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    async fn audit_records(
        &self,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn audit_of(
        &self,
        account: AccountId,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE subject_account_id = ?1 OR actor_account_id = ?1
             ORDER BY seq DESC LIMIT ?2",
        )
        .bind(account.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }

    async fn auth_flow(&self, channel: Channel) -> Result<Vec<FactorKind>, StoreError> {
        let row: Option<String> = sqlx::query_scalar(
            "SELECT factors FROM auth_flows WHERE scope IN (?, 'all')
             ORDER BY CASE scope WHEN 'all' THEN 1 ELSE 0 END LIMIT 1",
        )
        .bind(channel.as_str())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(json) => serde_json::from_str(&json).map_err(|e| corrupt("auth flow", e)),
            None => Err(StoreError::Corrupt(format!(
                "no authentication flow for the {} channel",
                channel.as_str()
            ))),
        }
    }

    async fn auth_flows(&self) -> Result<Vec<(String, Vec<FactorKind>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT scope, factors FROM auth_flows
             ORDER BY CASE scope WHEN 'all' THEN 0 WHEN 'web' THEN 1 WHEN 'mobile' THEN 2 ELSE 3 END",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let factors = serde_json::from_str(&r.try_get::<String, _>("factors")?)
                    .map_err(|e| corrupt("auth flow", e))?;
                Ok((r.try_get("scope")?, factors))
            })
            .collect()
    }

    async fn flow(&self, id_hash: &str) -> Result<Option<Flow>, StoreError> {
        fetch_flow(&self.pool, id_hash).await
    }

    async fn question_catalogue(
        &self,
        org: OrganisationId,
    ) -> Result<Vec<CatalogueQuestion>, StoreError> {
        fetch_catalogue(&self.pool, org).await
    }

    async fn question_policy(&self, org: OrganisationId) -> Result<QuestionPolicy, StoreError> {
        fetch_question_policy(&self.pool, org).await
    }

    async fn enrolled_questions(&self, account: AccountId) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT COALESCE(q.text, a.custom_question) AS question
             FROM security_answers a LEFT JOIN security_questions q ON q.id = a.question_id
             WHERE a.account_id = ? ORDER BY a.id",
        )
        .bind(account.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("question")?)).collect()
    }

    async fn totp_credential(
        &self,
        account: AccountId,
    ) -> Result<Option<TotpCredential>, StoreError> {
        fetch_totp(&self.pool, account).await
    }

    async fn add_catalogue_question(
        &self,
        org: OrganisationId,
        text: &str,
        now: OffsetDateTime,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO security_questions (organisation_id, text, created_at) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(org.0)
        .bind(text)
        .bind(now.unix_timestamp())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| conflict(e, "question"))
    }

    async fn claim_notifications(
        &self,
        claim: &Claim,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        // One statement: SQLite runs it under its single write lock, so no other worker
        // can claim the same rows in between.
        let sql = format!(
            "UPDATE outbox SET claim_token = ?1, claimed_until = ?2, attempts = attempts + 1
             WHERE id IN (
                 SELECT id FROM outbox
                 WHERE status = 'pending' AND next_attempt_at <= ?3
                   AND (claimed_until IS NULL OR claimed_until <= ?3)
                 ORDER BY next_attempt_at, id LIMIT ?4)
             RETURNING {OUTBOX_COLUMNS}, sealed_code"
        );
        let rows = sqlx::query(&sql)
            .bind(&claim.token)
            .bind(claim.until.unix_timestamp())
            .bind(now.unix_timestamp())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut entries = rows
            .iter()
            .map(outbox_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        entries.sort_by_key(|e| (e.next_attempt_at, e.id));
        Ok(entries)
    }

    async fn release_notifications(&self, claim: &Claim) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET claim_token = NULL, claimed_until = NULL, attempts = attempts - 1
             WHERE claim_token = ? AND status = 'pending'",
        )
        .bind(&claim.token)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn notifications(
        &self,
        status: Option<DeliveryStatus>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS}, NULL AS sealed_code FROM outbox
             WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2"
        );
        let rows = sqlx::query(&sql)
            .bind(status.map(DeliveryStatus::as_str))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(outbox_from_row).collect()
    }
}

struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

#[async_trait]
impl Tx for SqliteTx {
    async fn account(&mut self, id: AccountId) -> Result<Option<Account>, StoreError> {
        fetch_account(&mut *self.tx, id).await
    }

    async fn lockout_policy(&mut self, org: OrganisationId) -> Result<LockoutPolicy, StoreError> {
        fetch_policy(&mut *self.tx, org).await
    }

    async fn notification(
        &mut self,
        id: NotificationId,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS}, NULL AS sealed_code FROM outbox WHERE id = ?");
        sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await?
            .as_ref()
            .map(outbox_from_row)
            .transpose()
    }

    async fn requeue_notification(
        &mut self,
        id: NotificationId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?,
                failed_at = NULL, last_error = NULL, claim_token = NULL, claimed_until = NULL
             WHERE id = ? AND status = 'failed' AND (carries_code = 0 OR sealed_code IS NOT NULL)",
        )
        .bind(now.unix_timestamp())
        .bind(id.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
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
             SET lockout_threshold = ?, lockout_window_secs = ?, lockout_duration_secs = ?
             WHERE id = ?",
        )
        .bind(i64::from(policy.threshold))
        .bind(policy.window.whole_seconds())
        .bind(duration)
        .bind(org.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
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
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref()
            .map(|r| Ok((account_from_row(r)?, policy_from_row(r)?)))
            .transpose()
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
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn create_session(
        &mut self,
        record: &SessionRecord,
        client: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, client_addr)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&record.id_hash)
        .bind(record.account_id.0)
        .bind(record.created_at.unix_timestamp())
        .bind(record.last_seen_at.unix_timestamp())
        .bind(record.expires_at.unix_timestamp())
        .bind(client)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| conflict(e, "session"))?;
        Ok(())
    }

    async fn touch_session(
        &mut self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND revoked_at IS NULL",
        )
        .bind(now.unix_timestamp())
        .bind(id_hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn revoke_session(
        &mut self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND revoked_at IS NULL",
        )
        .bind(now.unix_timestamp())
        .bind(id_hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_sessions_of(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL AND expires_at > ?",
        )
        .bind(now.unix_timestamp())
        .bind(account.0)
        .bind(now.unix_timestamp())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected())
    }

    async fn enqueue_notification(
        &mut self,
        to: &Recipient,
        organisation: OrganisationId,
        notification: &Notification,
        sealed_code: Option<&[u8]>,
        now: OffsetDateTime,
    ) -> Result<NotificationId, StoreError> {
        let payload = notification
            .payload()
            .map_err(|e| StoreError::Corrupt(format!("notification payload: {e}")))?;
        let carries_code = notification.code().is_some();
        if carries_code != sealed_code.is_some() {
            return Err(StoreError::Corrupt(format!(
                "a {} mail must be enqueued with its code sealed, and only then",
                notification.kind()
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (organisation_id, recipient_email, recipient_name, account_id,
                account_name, kind, payload, sealed_code, carries_code, created_at, next_attempt_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(organisation.0)
        .bind(to.email.as_str())
        .bind(&to.name)
        .bind(to.account_id.map(|a| a.0))
        .bind(to.username.as_deref())
        .bind(notification.kind())
        .bind(payload)
        .bind(sealed_code)
        .bind(carries_code)
        .bind(now.unix_timestamp())
        .bind(now.unix_timestamp())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(NotificationId(id))
    }

    async fn record_delivery(
        &mut self,
        id: NotificationId,
        claim: &Claim,
        result: &DeliveryResult,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now = now.unix_timestamp();
        let done = match result {
            // The mail went out: record it whoever holds the row now.
            DeliveryResult::Sent => sqlx::query(
                "UPDATE outbox SET status = 'sent', sealed_code = NULL, sent_at = ?, last_error = NULL,
                        claim_token = NULL, claimed_until = NULL
                     WHERE id = ? AND status = 'pending'",
            )
            .bind(now)
            .bind(id.0)
            .execute(&mut *self.tx)
            .await?,
            DeliveryResult::Retry { at, error } => {
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = ?, last_error = ?,
                        claim_token = NULL, claimed_until = NULL
                     WHERE id = ? AND status = 'pending' AND claim_token = ?",
                )
                .bind(at.unix_timestamp())
                .bind(error)
                .bind(id.0)
                .bind(&claim.token)
                .execute(&mut *self.tx)
                .await?
            }
            DeliveryResult::Failed { error } => sqlx::query(
                "UPDATE outbox SET status = 'failed', sealed_code = NULL, failed_at = ?, last_error = ?,
                        claim_token = NULL, claimed_until = NULL
                     WHERE id = ? AND status = 'pending' AND claim_token = ?",
            )
            .bind(now)
            .bind(error)
            .bind(id.0)
            .bind(&claim.token)
            .execute(&mut *self.tx)
            .await?,
        };
        Ok(done.rows_affected() > 0)
    }

    async fn append_audit(
        &mut self,
        event: &AuditEvent,
        now: OffsetDateTime,
    ) -> Result<AuditRecord, StoreError> {
        let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *self.tx)
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
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        .execute(&mut *self.tx)
        .await?;
        Ok(r)
    }

    async fn account_by_name(&mut self, name: &AccountName) -> Result<Option<Account>, StoreError> {
        fetch_account_by_name(&mut *self.tx, name).await
    }

    async fn default_store_name(&mut self) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT name FROM identity_stores ORDER BY priority, id LIMIT 1")
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    async fn default_organisation(&mut self) -> Result<Option<OrganisationId>, StoreError> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM organisations ORDER BY id LIMIT 1")
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(id.map(OrganisationId))
    }

    async fn set_password(
        &mut self,
        account: AccountId,
        hash: &str,
        must_change: bool,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE accounts SET password_hash = ?, password_changed_at = ?, must_change_password = ?,
                updated_at = ? WHERE id = ?",
        )
        .bind(hash)
        .bind(now.unix_timestamp())
        .bind(i64::from(must_change))
        .bind(now.unix_timestamp())
        .bind(account.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn create_flow(&mut self, flow: &Flow, client: &str) -> Result<(), StoreError> {
        // Housekeeping while holding the lock anyway: flows and captchas long past use.
        let stale = (flow.created_at - Duration::days(1)).unix_timestamp();
        sqlx::query("DELETE FROM self_service_flows WHERE expires_at < ?")
            .bind(stale)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("DELETE FROM captcha_spent WHERE expires_at < ?")
            .bind(flow.created_at.unix_timestamp())
            .execute(&mut *self.tx)
            .await?;
        let steps = serde_json::to_string(&flow.steps).map_err(|e| corrupt("flow steps", e))?;
        let state = serde_json::to_string(&flow.state).map_err(|e| corrupt("flow state", e))?;
        sqlx::query(
            "INSERT INTO self_service_flows (id_hash, action, channel, steps, account_id, subject_name,
                state, client_addr, created_at, expires_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&flow.id_hash)
        .bind(flow.action.as_str())
        .bind(flow.channel.as_str())
        .bind(steps)
        .bind(flow.account.map(|a| a.0))
        .bind(&flow.subject_name)
        .bind(state)
        .bind(client)
        .bind(flow.created_at.unix_timestamp())
        .bind(flow.expires_at.unix_timestamp())
        .execute(&mut *self.tx)
        .await
        .map_err(|e| conflict(e, "flow"))?;
        Ok(())
    }

    async fn flow(&mut self, id_hash: &str) -> Result<Option<Flow>, StoreError> {
        fetch_flow(&mut *self.tx, id_hash).await
    }

    async fn save_flow(&mut self, flow: &Flow) -> Result<(), StoreError> {
        let state = serde_json::to_string(&flow.state).map_err(|e| corrupt("flow state", e))?;
        sqlx::query(
            "UPDATE self_service_flows SET account_id = ?, subject_name = ?, state = ? WHERE id_hash = ?",
        )
        .bind(flow.account.map(|a| a.0))
        .bind(&flow.subject_name)
        .bind(state)
        .bind(&flow.id_hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn throttle(&mut self, subject_name: &str) -> Result<Throttle, StoreError> {
        let row = sqlx::query(
            "SELECT failures, first_failure_at, blocked_until FROM self_service_throttle WHERE subject_name = ?",
        )
        .bind(subject_name)
        .fetch_optional(&mut *self.tx)
        .await?;
        match row {
            None => Ok(Throttle::default()),
            Some(r) => Ok(Throttle {
                failures: u32::try_from(r.try_get::<i64, _>("failures")?).unwrap_or(0),
                first_failure_at: time_opt(&r, "first_failure_at")?,
                blocked_until: time_opt(&r, "blocked_until")?,
            }),
        }
    }

    async fn save_throttle(
        &mut self,
        subject_name: &str,
        throttle: &Throttle,
    ) -> Result<(), StoreError> {
        if *throttle == Throttle::default() {
            sqlx::query("DELETE FROM self_service_throttle WHERE subject_name = ?")
                .bind(subject_name)
                .execute(&mut *self.tx)
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
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn spend_captcha(
        &mut self,
        signature: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO captcha_spent (signature, expires_at) VALUES (?, ?) ON CONFLICT (signature) DO NOTHING",
        )
        .bind(signature)
        .bind(expires_at.unix_timestamp())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn question_policy(&mut self, org: OrganisationId) -> Result<QuestionPolicy, StoreError> {
        fetch_question_policy(&mut *self.tx, org).await
    }

    async fn question_catalogue(
        &mut self,
        org: OrganisationId,
    ) -> Result<Vec<CatalogueQuestion>, StoreError> {
        fetch_catalogue(&mut *self.tx, org).await
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
        .fetch_all(&mut *self.tx)
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

    async fn replace_security_answers(
        &mut self,
        account: AccountId,
        answers: &[NewAnswer],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM security_answers WHERE account_id = ?")
            .bind(account.0)
            .execute(&mut *self.tx)
            .await?;
        for a in answers {
            let (question_id, custom) = match &a.question {
                QuestionChoice::Catalogue(id) => (Some(*id), None),
                QuestionChoice::Custom(text) => (None, Some(text.as_str())),
            };
            sqlx::query(
                "INSERT INTO security_answers (account_id, question_id, custom_question, answer_hash, created_at)
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(account.0)
            .bind(question_id)
            .bind(custom)
            .bind(&a.answer_hash)
            .bind(now.unix_timestamp())
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(())
    }

    async fn totp_credential(
        &mut self,
        account: AccountId,
    ) -> Result<Option<TotpCredential>, StoreError> {
        fetch_totp(&mut *self.tx, account).await
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
        .execute(&mut *self.tx)
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
        .bind(i64::try_from(step).unwrap_or(i64::MAX))
        .bind(account.0)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn set_totp_last_step(
        &mut self,
        account: AccountId,
        step: u64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE totp_credentials SET last_used_step = ? WHERE account_id = ? AND last_used_step < ?")
            .bind(i64::try_from(step).unwrap_or(i64::MAX))
            .bind(account.0)
            .bind(i64::try_from(step).unwrap_or(i64::MAX))
            .execute(&mut *self.tx)
            .await?;
        Ok(())
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
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn code(&mut self, id: i64) -> Result<Option<StoredCode>, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_id, purpose, code_hash, created_at, expires_at, attempts, used_at
             FROM one_time_codes WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.map(|r| {
            Ok(StoredCode {
                id: r.try_get("id")?,
                account_id: AccountId(r.try_get("account_id")?),
                purpose: r.try_get("purpose")?,
                code_hash: r.try_get("code_hash")?,
                created_at: from_unix(r.try_get("created_at")?),
                expires_at: from_unix(r.try_get("expires_at")?),
                attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                used_at: time_opt(&r, "used_at")?,
            })
        })
        .transpose()
    }

    async fn use_code(&mut self, id: i64, now: OffsetDateTime) -> Result<(), StoreError> {
        sqlx::query("UPDATE one_time_codes SET used_at = ? WHERE id = ? AND used_at IS NULL")
            .bind(now.unix_timestamp())
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn count_code_attempt(&mut self, id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = ?")
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn set_auth_flow(
        &mut self,
        scope: FlowScope,
        factors: &[FactorKind],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(factors).map_err(|e| corrupt("auth flow", e))?;
        if scope == FlowScope::All {
            // One flow for every channel: the per-channel rows would shadow it.
            sqlx::query("DELETE FROM auth_flows")
                .execute(&mut *self.tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO auth_flows (scope, factors, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (scope) DO UPDATE SET factors = excluded.factors, updated_at = excluded.updated_at",
        )
        .bind(scope_name(scope))
        .bind(json)
        .bind(now.unix_timestamp())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}
