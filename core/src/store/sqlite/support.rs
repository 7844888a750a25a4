//! Support requests on SQLite. A transaction holds the database's one write lock
//! (`BEGIN IMMEDIATE`), so reading a request, deciding and writing is atomic.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use time::OffsetDateTime;

use super::rows::{count, text, time, time_opt};
use super::{Conn, SqliteTx};
use crate::account::AccountId;
use crate::organisation::OrganisationId;
use crate::store::{StoreError, SupportRead, SupportWrite};
use crate::support::{NewRequest, RequestEvent, SupportRequest};
use latchkey_types::support::{RequestOrigin, RequestStatus, SelfUnlockCap};

const REQUEST_COLUMNS: &str = "id, organisation_id, origin, status, suspicious, full_name, email, \
                               account_id, description, client, created_at, updated_at, \
                               resolved_at";

fn request(r: &SqliteRow) -> Result<SupportRequest, StoreError> {
    Ok(SupportRequest {
        id: r.try_get("id")?,
        organisation: OrganisationId(r.try_get("organisation_id")?),
        origin: text(r, "origin")?,
        status: text(r, "status")?,
        suspicious: r.try_get("suspicious")?,
        full_name: r.try_get("full_name")?,
        email: r.try_get("email")?,
        account: r.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
        description: r.try_get("description")?,
        client: r.try_get("client")?,
        created_at: time(r, "created_at")?,
        updated_at: time(r, "updated_at")?,
        resolved_at: time_opt(r, "resolved_at")?,
    })
}

/// `AND organisation_id = <n>` for one organisation; nothing for every one. Numbers
/// only, so it is safe to write into the statement.
fn org_filter(org: Option<OrganisationId>) -> String {
    org.map(|o| format!(" AND organisation_id = {}", o.0))
        .unwrap_or_default()
}

/// `'new', 'in_progress'`: the statuses' fixed text forms, never input.
fn status_list(statuses: &[RequestStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

const OPEN: &str = "('new', 'in_progress', 'waiting_for_user')";

#[async_trait]
impl<C: Conn> SupportRead for C {
    async fn support_request(&mut self, id: i64) -> Result<Option<SupportRequest>, StoreError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM support_requests WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(request).transpose()
    }

    async fn support_queue(
        &mut self,
        org: Option<OrganisationId>,
        statuses: &[RequestStatus],
        limit: u32,
    ) -> Result<Vec<SupportRequest>, StoreError> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM support_requests
             WHERE status IN ({}){}
             ORDER BY suspicious DESC, created_at, id LIMIT ?",
            status_list(statuses),
            org_filter(org)
        );
        let rows = sqlx::query(&sql)
            .bind(i64::from(limit))
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(request).collect()
    }

    async fn support_counts(
        &mut self,
        org: Option<OrganisationId>,
    ) -> Result<Vec<(RequestStatus, u32)>, StoreError> {
        let sql = format!(
            "SELECT status, COUNT(*) AS n FROM support_requests WHERE 1 = 1{}
             GROUP BY status",
            org_filter(org)
        );
        let rows = sqlx::query(&sql).fetch_all(self.conn()).await?;
        rows.iter()
            .map(|r| Ok((text(r, "status")?, count(r, "n")?)))
            .collect()
    }

    async fn support_events(&mut self, request: i64) -> Result<Vec<RequestEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, operator_id, by_name, status, message, emailed FROM support_events
             WHERE request_id = ? ORDER BY id",
        )
        .bind(request)
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RequestEvent {
                    at: time(r, "at")?,
                    operator: r.try_get::<Option<i64>, _>("operator_id")?.map(AccountId),
                    by_name: r.try_get("by_name")?,
                    status: text(r, "status")?,
                    message: r.try_get("message")?,
                    emailed: r.try_get("emailed")?,
                })
            })
            .collect()
    }

    async fn open_request_of(
        &mut self,
        account: AccountId,
        origin: RequestOrigin,
    ) -> Result<Option<i64>, StoreError> {
        let sql = format!(
            "SELECT id FROM support_requests
             WHERE account_id = ? AND origin = ? AND status IN {OPEN}
             ORDER BY id LIMIT 1"
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(account.0)
            .bind(origin.as_str())
            .fetch_optional(self.conn())
            .await?)
    }

    async fn open_requests_about(&mut self, account: AccountId) -> Result<Vec<i64>, StoreError> {
        let sql = format!(
            "SELECT id FROM support_requests WHERE account_id = ? AND status IN {OPEN} ORDER BY id"
        );
        Ok(sqlx::query_scalar(&sql)
            .bind(account.0)
            .fetch_all(self.conn())
            .await?)
    }

    async fn self_unlock_cap(
        &mut self,
        org: OrganisationId,
    ) -> Result<Option<SelfUnlockCap>, StoreError> {
        let row = sqlx::query(
            "SELECT max_unlocks, period_secs FROM self_unlock_caps WHERE organisation_id = ?",
        )
        .bind(org.0)
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| {
            let secs: i64 = r.try_get("period_secs")?;
            Ok(SelfUnlockCap {
                max_unlocks: count(&r, "max_unlocks")?,
                period_hours: u32::try_from(secs / 3600).unwrap_or(u32::MAX),
            })
        })
        .transpose()
    }

    async fn self_unlocks_since(
        &mut self,
        account: AccountId,
        since: OffsetDateTime,
    ) -> Result<u32, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM self_unlocks WHERE account_id = ? AND at >= ?",
        )
        .bind(account.0)
        .bind(since.unix_timestamp())
        .fetch_one(self.conn())
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

#[async_trait]
impl SupportWrite for SqliteTx {
    async fn create_support_request(&mut self, r: &NewRequest) -> Result<i64, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO support_requests (organisation_id, origin, status, suspicious, full_name,
                                           email, account_id, description, client, created_at,
                                           updated_at)
             VALUES (?, ?, 'new', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(r.organisation.0)
        .bind(r.origin.as_str())
        .bind(r.suspicious)
        .bind(&r.full_name)
        .bind(&r.email)
        .bind(r.account.map(|a| a.0))
        .bind(&r.description)
        .bind(&r.client)
        .bind(r.created_at.unix_timestamp())
        .bind(r.created_at.unix_timestamp())
        .fetch_one(self.conn())
        .await?;
        sqlx::query(
            "INSERT INTO support_events (request_id, at, status, message, emailed)
             VALUES (?, ?, 'new', ?, ?)",
        )
        .bind(id)
        .bind(r.created_at.unix_timestamp())
        .bind(&r.description)
        .bind(r.account.is_some())
        .execute(self.conn())
        .await?;
        Ok(id)
    }

    async fn record_support_event(&mut self, id: i64, e: &RequestEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO support_events (request_id, at, operator_id, by_name, status, message,
                                         emailed)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(e.at.unix_timestamp())
        .bind(e.operator.map(|a| a.0))
        .bind(&e.by_name)
        .bind(e.status.as_str())
        .bind(&e.message)
        .bind(e.emailed)
        .execute(self.conn())
        .await?;
        let resolved_at = (e.status == RequestStatus::Resolved).then(|| e.at.unix_timestamp());
        sqlx::query(
            "UPDATE support_requests SET status = ?, updated_at = ?, resolved_at = ? WHERE id = ?",
        )
        .bind(e.status.as_str())
        .bind(e.at.unix_timestamp())
        .bind(resolved_at)
        .bind(id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    async fn record_self_unlock(
        &mut self,
        account: AccountId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO self_unlocks (account_id, at) VALUES (?, ?)")
            .bind(account.0)
            .bind(at.unix_timestamp())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    async fn set_self_unlock_cap(
        &mut self,
        org: OrganisationId,
        cap: SelfUnlockCap,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO self_unlock_caps (organisation_id, max_unlocks, period_secs, updated_at)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (organisation_id) DO UPDATE
             SET max_unlocks = excluded.max_unlocks, period_secs = excluded.period_secs,
                 updated_at = excluded.updated_at",
        )
        .bind(org.0)
        .bind(i64::from(cap.max_unlocks))
        .bind(i64::from(cap.period_hours) * 3600)
        .bind(now.unix_timestamp())
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
