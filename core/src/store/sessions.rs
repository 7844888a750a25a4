//! Server-side sessions.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::account::AccountId;
use crate::session::SessionRecord;

#[async_trait]
pub trait SessionsRead: Send {
    async fn session(&mut self, id_hash: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// Sessions of an account that are not revoked (they may have timed out).
    async fn sessions_of(&mut self, account: AccountId) -> Result<Vec<SessionRecord>, StoreError>;
}

#[async_trait]
pub trait SessionsWrite: Send {
    async fn create_session(&mut self, record: &SessionRecord) -> Result<(), StoreError>;

    async fn touch_session(&mut self, id_hash: &str, now: OffsetDateTime)
        -> Result<(), StoreError>;

    /// Revokes one session; answers whether it was live.
    async fn revoke_session(
        &mut self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// The device authorization code mailed at this session's sign-in.
    async fn set_device_code(&mut self, id_hash: &str, code_id: i64) -> Result<(), StoreError>;

    /// The session passed device authorization.
    async fn authorize_device(
        &mut self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;

    /// Revokes every session of an account; answers how many were revoked.
    async fn revoke_sessions_of(
        &mut self,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}
