//! The directory identity stores as core calls them: each `latchkey-directory`
//! connector behind core's [`DirectoryConnector`] trait (core speaks no LDAP), its
//! answers and typed errors translated once, here.

use std::sync::Arc;

use async_trait::async_trait;
use latchkey_core::directory::{
    DirectoryConnector, DirectoryEntry, DirectoryFailure, DirectoryFailureKind, DirectoryLock,
};
use latchkey_directory::{Directory, DirectoryAccount, DirectoryError, LockCause, LockState};
use latchkey_types::LockReason;
use time::OffsetDateTime;

/// One configured directory, for core.
pub struct Connector(pub Arc<Directory>);

fn failure(e: DirectoryError) -> DirectoryFailure {
    let kind = match &e {
        DirectoryError::Unreachable { .. } => DirectoryFailureKind::Unreachable,
        DirectoryError::TimedOut { .. } => DirectoryFailureKind::TimedOut,
        DirectoryError::Refused { .. } => DirectoryFailureKind::Refused,
        DirectoryError::NoSuchAccount { .. } => DirectoryFailureKind::NoSuchAccount,
        DirectoryError::Misconfigured { .. } => DirectoryFailureKind::Misconfigured,
    };
    DirectoryFailure {
        directory: e.directory().to_owned(),
        kind,
        message: e.to_string(),
    }
}

fn entry(a: DirectoryAccount) -> DirectoryEntry {
    DirectoryEntry {
        lock: match a.lock {
            LockState::Unlocked => None,
            LockState::Locked { cause, since, .. } => Some(DirectoryLock {
                since,
                reason: match cause {
                    LockCause::Failures => LockReason::Failures,
                    LockCause::Administrative => LockReason::Administrative,
                },
            }),
        },
        stable_id: a.stable_id,
        username: a.username,
        display_name: a.display_name,
        email: a.email,
    }
}

#[async_trait]
impl DirectoryConnector for Connector {
    fn name(&self) -> &str {
        self.0.name()
    }

    async fn search(
        &self,
        prefix: &str,
        only_locked: bool,
        now: OffsetDateTime,
    ) -> Result<Vec<DirectoryEntry>, DirectoryFailure> {
        let query = latchkey_directory::SearchQuery {
            username_prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            only_locked,
        };
        let found = self.0.search(&query, now).await.map_err(failure)?;
        Ok(found.into_iter().map(entry).collect())
    }

    async fn find_by_username(
        &self,
        username: &str,
        now: OffsetDateTime,
    ) -> Result<Option<DirectoryEntry>, DirectoryFailure> {
        let found = self
            .0
            .find_by_username(username, now)
            .await
            .map_err(failure)?;
        Ok(found.map(entry))
    }

    async fn find_by_stable_id(
        &self,
        stable_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<DirectoryEntry>, DirectoryFailure> {
        let found = self
            .0
            .find_by_stable_id(stable_id, now)
            .await
            .map_err(failure)?;
        Ok(found.map(entry))
    }

    async fn unlock(&self, stable_id: &str, now: OffsetDateTime) -> Result<(), DirectoryFailure> {
        self.0.unlock(stable_id, now).await.map_err(failure)
    }
}
