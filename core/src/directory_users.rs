//! Directory accounts in the console (issue 18): found in the users grid (their lock state
//! read from the directory, *Only include locked users* decided by its filter), unlocked
//! by an operator (the write goes to the directory, outside any database transaction),
//! and linked to a person — each by the Latchkey account kept for its stable id
//! (`crate::directory`).
//!
//! A write to a directory is three steps, so that no record ever claims what did not
//! happen and no database lock waits on the network: (1) in one transaction, the
//! permission and helpdesk checks and an audit record of the intent (outcome `pending`);
//! (2) the directory call, bounded by its timeouts (an unlock is safe to repeat); (3) in
//! another transaction, the outcome — success, or the failure with the directory's
//! words — and the owner's mail. A server that stops between (1) and (3) leaves the
//! intent alone, which claims nothing.

use std::sync::Arc;

use latchkey_types::console::{UserQuery, UserRow, UserSort};
use latchkey_types::StoreKind;
use serde_json::json;
use time::OffsetDateTime;

use crate::account::{new_public_id, Account, AccountStatus, Email, NewAccount, Username};
use crate::audit::{Action, Caller, Outcome, Subject};
use crate::directory::{DirectoryConnector, DirectoryEntry, DirectoryFailure};
use crate::error::CoreError;
use crate::organisation::{IdentityStore, OrganisationId, StoreId};
use crate::outbox::{DoneBy, Notification, Recipient};
use crate::service::Latchkey;
use crate::store::{Read, Tx};
use crate::users::Unlocked;

/// The address kept for a directory account that has none (`.invalid`, RFC 6761): no
/// mail is ever sent to it.
const NO_ADDRESS: &str = "no-address@invalid";

/// The directories' part of one search of the users grid.
#[derive(Debug, Default)]
pub(crate) struct DirectoryRows {
    pub rows: Vec<UserRow>,
    /// A directory that could not be searched, in words naming it.
    pub errors: Vec<String>,
}

impl Latchkey {
    /// The directory stores a search of the grid covers: the configured directories of
    /// `organisation` (every one in reach if `None`), or only `store`.
    async fn directory_stores(
        &self,
        read: &mut dyn Read,
        organisation: Option<OrganisationId>,
        store: Option<StoreId>,
    ) -> Result<Vec<(IdentityStore, Arc<dyn DirectoryConnector>)>, CoreError> {
        if self.directories.is_empty() {
            return Ok(Vec::new());
        }
        Ok(read
            .identity_stores(organisation)
            .await?
            .into_iter()
            .filter(|s| s.kind != StoreKind::Builtin)
            .filter(|s| store.is_none_or(|only| only == s.id))
            .filter_map(|s| {
                let connector = self.directories.get(&s.name)?.clone();
                Some((s, connector))
            })
            .collect())
    }

    /// The grid's rows from directory stores: each searched (outside any transaction,
    /// paged by the connector), its accounts met (see [`Self::meet`]) and shown with
    /// the lock state the directory holds. A directory that fails is named in `errors`;
    /// the others and Latchkey's own accounts still answer.
    pub(crate) async fn directory_rows(
        &self,
        query: &UserQuery,
        organisation: Option<OrganisationId>,
        store: Option<StoreId>,
        names: &[(OrganisationId, String)],
        now: OffsetDateTime,
    ) -> Result<DirectoryRows, CoreError> {
        let mut out = DirectoryRows::default();
        // Directory accounts are active accounts; the lock-date order lists locked ones.
        if query
            .status
            .is_some_and(|status| status != AccountStatus::Active)
        {
            return Ok(out);
        }
        let stores = {
            let mut read = self.read().await?;
            self.directory_stores(read.as_mut(), organisation, store)
                .await?
        };
        let only_locked = query.only_locked || query.sort == UserSort::LockedDate;
        let prefix = query.text.trim();
        for (store, connector) in stores {
            let entries = match connector.search(prefix, only_locked, now).await {
                Ok(entries) => entries,
                Err(e) => {
                    tracing::warn!(store = %store.name, error = %e, "directory search failed");
                    out.errors.push(e.message);
                    continue;
                }
            };
            let mut tx = self.store.begin().await?;
            let mut met = Vec::with_capacity(entries.len());
            for entry in &entries {
                if let Some(account) = self.meet(tx.as_mut(), &store, entry, now).await? {
                    met.push((account, entry));
                }
            }
            tx.commit().await?;
            out.rows.extend(
                met.iter()
                    .map(|(account, entry)| directory_row(account, entry, names)),
            );
        }
        Ok(out)
    }

    /// The Latchkey account kept for the directory account `entry` of `store`: found by
    /// its stable id (its name and address refreshed), or made now. `None` for an entry
    /// whose username Latchkey cannot take (it is then not shown).
    pub(crate) async fn meet(
        &self,
        tx: &mut dyn Tx,
        store: &IdentityStore,
        entry: &DirectoryEntry,
        now: OffsetDateTime,
    ) -> Result<Option<Account>, CoreError> {
        let email = Email::parse("email", &entry.email)
            .or_else(|_| Email::parse("email", NO_ADDRESS))
            .map_err(|e| CoreError::Internal(e.message))?;
        let display_name = if entry.display_name.trim().is_empty() {
            entry.username.clone()
        } else {
            entry.display_name.clone()
        };
        let Ok(username) = Username::parse("username", &entry.username) else {
            return Ok(None);
        };
        if let Some(account) = tx.directory_account(store.id, &entry.stable_id).await? {
            let mut changed = false;
            if account.username != username {
                // Renamed in the directory: the name follows, the links stay.
                self.free_username(tx, store, &username, now).await?;
                tx.set_username(account.id, &username, now).await?;
                changed = true;
            }
            if account.display_name != display_name || account.email != email {
                tx.update_account(account.id, &display_name, &email, now)
                    .await?;
                changed = true;
            }
            if changed {
                return Ok(tx.account(account.id).await?);
            }
            return Ok(Some(account));
        }
        self.free_username(tx, store, &username, now).await?;
        let new = NewAccount {
            public_id: new_public_id(self.random.as_ref()),
            store_id: store.id,
            username,
            display_name,
            email,
            status: AccountStatus::Active,
            password_hash: None,
        };
        let (id, _) = tx.create_account(&new, None, now).await?;
        tx.tie_directory_account(id, store.id, &entry.stable_id, now)
            .await?;
        Ok(tx.account(id).await?)
    }

    /// Lets a directory account take `username` in `store`: an account Latchkey kept
    /// for another stable id under that name (renamed or deleted since in the
    /// directory) is renamed `username~id`, keeping its links and history, so that a
    /// new entry never inherits an old one's links by its name.
    async fn free_username(
        &self,
        tx: &mut dyn Tx,
        store: &IdentityStore,
        username: &Username,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let name = crate::account::AccountName {
            store: Some(store.name.clone()),
            username: username.clone(),
        };
        if let Some(stale) = tx.account_by_name(&name).await? {
            let aside = Username::parse("username", &format!("{username}~{}", stale.id.0))
                .map_err(|e| CoreError::Internal(e.message))?;
            tx.set_username(stale.id, &aside, now).await?;
        }
        Ok(())
    }

    /// Makes sure Latchkey keeps an account for `username` of the directory store
    /// `store_name` (before an operator links it): asked of the directory, then met in
    /// a transaction of its own. Nothing happens when the directory has no such account.
    pub(crate) async fn meet_by_username(
        &self,
        store_name: &str,
        username: &str,
    ) -> Result<(), CoreError> {
        let Some(connector) = self.directories.get(store_name).cloned() else {
            return Ok(());
        };
        let now = self.clock.now();
        let Some(entry) = connector.find_by_username(username, now).await? else {
            return Ok(());
        };
        let mut tx = self.store.begin().await?;
        let store = tx
            .identity_stores(None)
            .await?
            .into_iter()
            .find(|s| s.name == connector.name().to_uppercase());
        if let Some(store) = store {
            self.meet(tx.as_mut(), &store, &entry, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Puts the directory's lock state (and current username) into `row`, when
    /// `account` stands for a directory account: asked of its directory by stable id,
    /// with no connection or transaction held. A directory that cannot answer leaves
    /// the row as Latchkey knows it (not locked) and is named in `errors`.
    pub(crate) async fn directory_lock_row(
        &self,
        account: &Account,
        row: &mut UserRow,
        errors: &mut Vec<String>,
    ) -> Result<(), CoreError> {
        let Some(connector) = self.directories.get(&account.store_name).cloned() else {
            return Ok(());
        };
        let stable_id = self.read().await?.stable_id_of(account.id).await?;
        let Some(stable_id) = stable_id else {
            return Ok(());
        };
        let problem = match connector
            .find_by_stable_id(&stable_id, self.clock.now())
            .await
        {
            Ok(Some(entry)) => {
                row.username = format!("{}\\{}", account.store_name, entry.username);
                row.locked = entry.lock.is_some();
                row.locked_date = entry
                    .lock
                    .and_then(|l| l.since)
                    .map(OffsetDateTime::unix_timestamp);
                row.lock_reason = entry.lock.map(|l| l.reason);
                return Ok(());
            }
            Ok(None) => format!(
                "the directory {} no longer has {}",
                connector.name(),
                row.username
            ),
            Err(failure) => failure.message,
        };
        if !errors.contains(&problem) {
            errors.push(problem);
        }
        Ok(())
    }

    /// An operator's unlock of the directory account `account` (already found within
    /// the caller's reach in `tx`): the helpdesk gate and the intent in `tx`, the
    /// directory's unlock outside it, then the outcome (see the module's comment).
    pub(crate) async fn unlock_in_directory(
        &self,
        mut tx: Box<dyn Tx>,
        caller: &Caller,
        account: Account,
        connector: Arc<dyn DirectoryConnector>,
        advise_reset: bool,
    ) -> Result<Unlocked, CoreError> {
        let now = self.clock.now();
        let directory = connector.name().to_owned();
        let evidence = match self.unlock_gate(tx.as_mut(), caller, &account, now).await {
            Ok(evidence) => evidence,
            Err(CoreError::UnlockRefused(reason)) => {
                drop(tx);
                let details = json!({ "refused": reason, "directory": directory });
                self.record(caller, &account, Outcome::Failure, details, None)
                    .await?;
                return Err(CoreError::UnlockRefused(reason));
            }
            Err(e) => return Err(e),
        };
        let stable_id = tx
            .stable_id_of(account.id)
            .await?
            .ok_or_else(|| CoreError::Internal("a directory account without its id".into()))?;
        let by = caller.actor.label();
        let intent = caller.event(
            Action::Unlock,
            Some(Subject::account(&account)),
            Outcome::Pending,
            json!({
                "directory": directory,
                "by": by,
                "advise_password_reset": advise_reset,
                "helpdesk": evidence,
            }),
        );
        tx.append_audit(&intent, now).await?;
        tx.commit().await?;

        // The directory, with no transaction open.
        let called = async {
            let entry = connector
                .find_by_stable_id(&stable_id, now)
                .await?
                .ok_or_else(|| DirectoryFailure {
                    directory: directory.clone(),
                    kind: crate::directory::DirectoryFailureKind::NoSuchAccount,
                    message: format!("the directory {directory} has no such account"),
                })?;
            connector.unlock(&stable_id, now).await?;
            Ok::<_, DirectoryFailure>(entry)
        }
        .await;

        match called {
            Err(failure) => {
                let details = json!({
                    "directory": directory,
                    "by": by,
                    "error": failure.message,
                });
                self.record(caller, &account, Outcome::Failure, details, None)
                    .await?;
                Err(CoreError::Directory(failure))
            }
            Ok(entry) => {
                let was_locked = entry.lock.is_some();
                let details = json!({
                    "directory": directory,
                    "was_locked": was_locked,
                    "by": by,
                    "advise_password_reset": advise_reset,
                });
                let outcome = if was_locked {
                    Outcome::Success
                } else {
                    Outcome::Failure
                };
                let emailed = was_locked && account.email.as_str() != NO_ADDRESS;
                let mail = emailed.then(|| Notification::AccountUnlocked {
                    by: DoneBy::Operator { name: by.clone() },
                    advise_password_reset: advise_reset,
                });
                self.record(caller, &account, outcome, details, mail)
                    .await?;
                Ok(Unlocked {
                    was_locked,
                    emailed,
                })
            }
        }
    }

    /// An unlock's record (and its mail), in a transaction of its own.
    async fn record(
        &self,
        caller: &Caller,
        account: &Account,
        outcome: Outcome,
        details: serde_json::Value,
        mail: Option<Notification>,
    ) -> Result<(), CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let event = caller.event(
            Action::Unlock,
            Some(Subject::account(account)),
            outcome,
            details,
        );
        tx.append_audit(&event, now).await?;
        if let Some(mail) = mail {
            let mail = self.outgoing(Recipient::owner_of(account), account.organisation_id, mail);
            tx.enqueue_notification(&mail, now).await?;
        }
        // An unlock that lifted a lock is noted on the account's open support requests,
        // as for a built-in account (`users::unlock_user`).
        if outcome == Outcome::Success {
            self.note_unlock_on_requests(tx.as_mut(), caller, account, now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// A grid row for a directory account: Latchkey's id and organisation, the directory's
/// name, address and lock.
fn directory_row(
    account: &Account,
    entry: &DirectoryEntry,
    organisations: &[(OrganisationId, String)],
) -> UserRow {
    UserRow {
        id: account.public_id.clone(),
        username: format!("{}\\{}", account.store_name, entry.username),
        display_name: account.display_name.clone(),
        email: if account.email.as_str() == NO_ADDRESS {
            String::new()
        } else {
            account.email.as_str().to_owned()
        },
        organisation: organisations
            .iter()
            .find(|(id, _)| *id == account.organisation_id)
            .map(|(_, name)| name.clone())
            .unwrap_or_default(),
        status: account.status,
        locked: entry.lock.is_some(),
        locked_date: entry
            .lock
            .and_then(|l| l.since)
            .map(OffsetDateTime::unix_timestamp),
        lock_reason: entry.lock.map(|l| l.reason),
    }
}
