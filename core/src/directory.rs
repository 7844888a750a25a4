//! Directory identity stores (OpenLDAP with ppolicy, Active Directory) as the domain sees
//! them: a [`DirectoryConnector`] per store, which the server makes from the
//! `latchkey-directory` crate (core speaks no network protocol). The directory is the
//! source of truth for its accounts' lock state; Latchkey keeps, per directory account it
//! has met, one row in `accounts` (its public id, its person, its enrolments) tied to the
//! account's **stable id** (`entryUUID` / `objectGUID`) in `directory_accounts` — never to
//! its DN, which changes when the entry moves.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use latchkey_types::LockReason;
use time::OffsetDateTime;

/// An account as its directory holds it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// `entryUUID` / `objectGUID` as text: what Latchkey keys the account by.
    pub stable_id: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    /// Locked now, as the directory says (an expired AD lock is no lock).
    pub lock: Option<DirectoryLock>,
}

/// A lock the directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryLock {
    /// When it was locked, if the directory says (an administrative lock has no date).
    pub since: Option<OffsetDateTime>,
    pub reason: LockReason,
}

/// What went wrong talking to a directory, in words that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryFailureKind {
    Unreachable,
    TimedOut,
    Refused,
    NoSuchAccount,
    Misconfigured,
}

/// A directory that could not do what was asked. `message` names the directory
/// (`the directory CORP-LDAP did not answer in time`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DirectoryFailure {
    pub directory: String,
    pub kind: DirectoryFailureKind,
    pub message: String,
}

/// One directory identity store, as the domain calls it. Every call is bounded by the
/// store's own timeouts and answers a [`DirectoryFailure`] rather than hang or panic.
#[async_trait]
pub trait DirectoryConnector: Send + Sync {
    /// The identity store's name (upper case).
    fn name(&self) -> &str;

    /// Accounts whose username starts with `prefix` (empty: all), only the locked ones
    /// if `only_locked` (decided by the directory's filter, paged), at most the store's
    /// `max_results`, by username.
    async fn search(
        &self,
        prefix: &str,
        only_locked: bool,
        now: OffsetDateTime,
    ) -> Result<Vec<DirectoryEntry>, DirectoryFailure>;

    async fn find_by_username(
        &self,
        username: &str,
        now: OffsetDateTime,
    ) -> Result<Option<DirectoryEntry>, DirectoryFailure>;

    async fn find_by_stable_id(
        &self,
        stable_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<DirectoryEntry>, DirectoryFailure>;

    /// Clears the lock (and the failures behind it). Safe to repeat.
    async fn unlock(&self, stable_id: &str, now: OffsetDateTime) -> Result<(), DirectoryFailure>;
}

/// The configured directories, by store name.
#[derive(Clone, Default)]
pub struct Directories(Arc<HashMap<String, Arc<dyn DirectoryConnector>>>);

impl Directories {
    pub fn new(connectors: Vec<Arc<dyn DirectoryConnector>>) -> Self {
        Self(Arc::new(
            connectors
                .into_iter()
                .map(|c| (c.name().to_uppercase(), c))
                .collect(),
        ))
    }

    /// The connector of the store named `store`, if it is a configured directory.
    pub fn get(&self, store: &str) -> Option<&Arc<dyn DirectoryConnector>> {
        self.0.get(&store.to_uppercase())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Directories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}
