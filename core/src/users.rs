//! Operators and users (seeds 001, 003, 004): find users, see one, unlock them, create
//! and edit them, disable and enable them, end their sessions. Every method checks the
//! caller's permission and organisation first (`crate::authz`): anything of an
//! organisation out of reach is `NotFound`, exactly like something that does not exist.

use latchkey_types::console::{
    AuditEntry, FailedSignIn, ResecureBlock, ResecureForm, SessionView, UserDetail, UserForm,
    UserPage, UserQuery, UserRow, UserSort,
};
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

use crate::account::{
    new_public_id, parse_display_name, search_key, Account, AccountName, AccountStatus, Email,
    NewAccount, Pending, Username,
};
use crate::audit::{Action, AuditRecord, Caller, Outcome, Subject};
use crate::authz::{self, Permission, Reach, Target};
use crate::error::{CoreError, Invalid};
use crate::lockout::{apply, LockEvent};
use crate::organisation::Aup;
use crate::organisation::{Organisation, OrganisationId};
use crate::outbox::{DoneBy, Notification, Recipient};
use crate::password::check_new_password;
use crate::required::pending_actions;
use crate::service::Latchkey;
use crate::store::{AccountOrder, AccountSearch, Read, Tx};

/// Rows on a page of the users grid.
pub const PAGE: u32 = 25;
/// Audit records on a user page.
const HISTORY_ON_PAGE: u32 = 20;
/// Longest search text.
const QUERY_MAX_CHARS: usize = 254;

/// Who may find and look at users: whoever may unlock them or manage them.
const SEE_USERS: [Permission; 2] = [Permission::Unlock, Permission::ManageUsers];

/// What an operator's unlock came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unlocked {
    /// The account was locked (and now is not).
    pub was_locked: bool,
    /// A mail told its owner.
    pub emailed: bool,
}

impl Latchkey {
    /// Where the caller may find and look at users.
    fn users_reach(&self, caller: &Caller) -> Result<Reach, CoreError> {
        let mut refused = None;
        for permission in SEE_USERS {
            match authz::reach(&caller.actor, permission) {
                Ok(reach) => return Ok(reach),
                Err(denied) => refused = Some(denied),
            }
        }
        Err(refused.map_or(CoreError::Forbidden, CoreError::from))
    }

    /// The account the console names `id`, if the caller may see it with one of
    /// `permissions` — else `NotFound`, whatever the reason.
    pub(crate) async fn reachable_account(
        &self,
        read: &mut dyn Read,
        caller: &Caller,
        id: &str,
        permissions: &[Permission],
    ) -> Result<Account, CoreError> {
        let account = read
            .account_by_public_id(id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let target = Target::Organisation(account.organisation_id);
        let mut refused = CoreError::Forbidden;
        for permission in permissions {
            match authz::check(&caller.actor, *permission, target) {
                Ok(()) => return Ok(account),
                Err(denied) => refused = denied.into(),
            }
        }
        Err(refused)
    }

    /// The account the console names `id`, if the caller may change it with `permission`:
    /// within reach (else `NotFound`), and not an operator as strong as the caller (else
    /// `Forbidden`, see [`authz::outranks`]).
    async fn changeable_account(
        &self,
        read: &mut dyn Read,
        caller: &Caller,
        id: &str,
        permission: Permission,
    ) -> Result<Account, CoreError> {
        let account = self
            .reachable_account(read, caller, id, &[permission])
            .await?;
        let roles = read.roles_of(account.id).await?;
        authz::outranks(&caller.actor, &roles)?;
        Ok(account)
    }

    /// The organisations (with their identity stores) where the caller may find users.
    pub async fn workplaces(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(Organisation, Vec<crate::organisation::IdentityStore>)>, CoreError> {
        let reach = self.users_reach(caller)?;
        let mut read = self.read().await?;
        let mut out = Vec::new();
        for org in read.organisations().await? {
            if reach.organisation().is_none_or(|only| only == org.id) {
                let stores = read.identity_stores(Some(org.id)).await?;
                out.push((org, stores));
            }
        }
        Ok(out)
    }

    /// The users grid: a page of accounts the caller may see.
    pub async fn search_users(
        &self,
        caller: &Caller,
        query: &UserQuery,
    ) -> Result<UserPage, CoreError> {
        let reach = self.users_reach(caller)?;
        if query.text.chars().count() > QUERY_MAX_CHARS {
            return Err(Invalid::new(
                "text",
                format!("Search for at most {QUERY_MAX_CHARS} characters."),
            )
            .into());
        }
        let now = self.clock.now();
        let mut read = self.read().await?;
        let organisation = match &query.organisation {
            None => reach.organisation(),
            Some(slug) => {
                let org = read
                    .organisation_by_slug(slug)
                    .await?
                    .ok_or(CoreError::NotFound)?;
                authz::check(&caller.actor, SEE_USERS[0], Target::Organisation(org.id)).or_else(
                    |_| authz::check(&caller.actor, SEE_USERS[1], Target::Organisation(org.id)),
                )?;
                Some(org.id)
            }
        };
        let store = match &query.store {
            None => None,
            Some(name) => {
                let wanted = name.trim().to_uppercase();
                let stores = read.identity_stores(organisation).await?;
                let found = stores.into_iter().find(|s| s.name == wanted);
                Some(found.ok_or(CoreError::NotFound)?.id)
            }
        };
        // An id out of the caller's reach reads as one that does not exist: the answer
        // never tells whether another organisation's account exists or is locked.
        let after = match &query.after {
            None => None,
            Some(id) => Some(
                read.account_by_public_id(id)
                    .await?
                    .filter(|a| reach.organisation().is_none_or(|o| o == a.organisation_id))
                    .ok_or_else(|| Invalid::new("after", "The list changed: search again."))?,
            ),
        };
        let order = match query.sort {
            UserSort::Username => AccountOrder::Username {
                after: after.map(|a| (a.username.as_str().to_owned(), a.id.0)),
            },
            UserSort::LockedDate => AccountOrder::LockedDate {
                after: match after {
                    None => None,
                    Some(a) => Some((
                        a.lock
                            .lock
                            .map(|l| l.locked_at.unix_timestamp())
                            .ok_or_else(|| {
                                Invalid::new("after", "The list changed: search again.")
                            })?,
                        a.id.0,
                    )),
                },
            },
        };
        let search = AccountSearch {
            prefix: search_key(query.text.trim()),
            locked_at: query.only_locked.then_some(now),
            organisation,
            store,
            status: query.status,
            order,
            limit: PAGE + 1,
        };
        let mut accounts = read.search_accounts(&search).await?;
        let more = accounts.len() > PAGE as usize;
        accounts.truncate(PAGE as usize);
        let names = organisation_names(read.as_mut()).await?;
        drop(read);
        let next = more
            .then(|| accounts.last().map(|a| a.public_id.clone()))
            .flatten();
        let mut rows: Vec<UserRow> = accounts.iter().map(|a| row(a, &names, now)).collect();
        // Directory stores' accounts come on the first page, in order among Latchkey's
        // own (each directory answers at most its `max_results`); later pages continue
        // Latchkey's own accounts.
        let mut directory_errors = Vec::new();
        if query.after.is_none() {
            let found = self
                .directory_rows(query, organisation, store, &names, now)
                .await?;
            if !found.rows.is_empty() {
                rows.extend(found.rows);
                sort_rows(&mut rows, query.sort);
            }
            directory_errors = found.errors;
        }
        Ok(UserPage {
            rows,
            next,
            directory_errors,
        })
    }

    /// The user page.
    pub async fn user_detail(&self, caller: &Caller, id: &str) -> Result<UserDetail, CoreError> {
        let now = self.clock.now();
        let mut read = self.read().await?;
        let account = self
            .reachable_account(read.as_mut(), caller, id, &SEE_USERS)
            .await?;
        let names = organisation_names(read.as_mut()).await?;
        let sessions = read
            .sessions_of(account.id)
            .await?
            .into_iter()
            .filter(|s| s.is_live(&self.sessions, now))
            .map(|s| SessionView {
                id: s.id_hash,
                audience: s.audience.as_str().to_owned(),
                created_at: s.created_at.unix_timestamp(),
                last_seen_at: s.last_seen_at.unix_timestamp(),
                client: s.client,
            })
            .collect();
        let linked_accounts: Vec<Account> = read
            .accounts_of_person(account.person_id)
            .await?
            .into_iter()
            .filter(|a| a.id != account.id)
            // A linked account in an organisation out of the caller's reach stays unseen.
            .filter(|a| {
                SEE_USERS.iter().any(|p| {
                    authz::check(&caller.actor, *p, Target::Organisation(a.organisation_id)).is_ok()
                })
            })
            .collect();
        let history = read
            .audit_of(account.id, HISTORY_ON_PAGE)
            .await?
            .into_iter()
            .map(entry)
            .collect();
        let security_questions = read.security_answers(account.id).await?.len();
        let authenticator = read
            .totp_credential(account.id)
            .await?
            .is_some_and(|c| c.sealed_secret.is_some());
        let active_lock = account.lock.active_lock(now);
        let aup = read.aup(account.organisation_id).await?;
        let failed_sign_ins = failures_behind_lock(read.as_mut(), &account, now).await?;
        drop(read);
        // Directory accounts' locks are the directories' (asked with no connection held).
        let mut directory_errors = Vec::new();
        let mut user = row(&account, &names, now);
        self.directory_lock_row(&account, &mut user, &mut directory_errors)
            .await?;
        let mut linked = Vec::with_capacity(linked_accounts.len());
        for a in &linked_accounts {
            let mut r = row(a, &names, now);
            self.directory_lock_row(a, &mut r, &mut directory_errors)
                .await?;
            linked.push(r);
        }
        Ok(UserDetail {
            directory_errors,
            failed_sign_ins,
            required_actions: pending_actions(&account, false, &aup),
            resecure_blocked: resecure_block(&account, &aup, now),
            user,
            store: account.store_name.clone(),
            lock_expires: active_lock
                .and_then(|l| l.expires_at)
                .map(|t| t.unix_timestamp()),
            unlocked_by: account.lock.last_unlock.as_ref().map(|u| u.by.clone()),
            unlocked_at: account
                .lock
                .last_unlock
                .as_ref()
                .map(|u| u.at.unix_timestamp()),
            failed_attempts: account.lock.failed_attempts,
            last_password_change: account.password_changed_at.map(|t| t.unix_timestamp()),
            security_questions,
            authenticator,
            sessions,
            linked,
            history,
        })
    }

    /// Unlocks a user (seed 001's unlock button, seed 003's key icon): the lock fields are
    /// cleared, **Unlocked by** records the operator, and the owner is told — advised to
    /// reset their password if `advise_reset` (seed 003).
    pub async fn unlock_user(
        &self,
        caller: &Caller,
        id: &str,
        advise_reset: bool,
    ) -> Result<Unlocked, CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let found = self
            .reachable_account(tx.as_mut(), caller, id, &[Permission::Unlock])
            .await?;
        if let Some(connector) = self.directories.get(&found.store_name).cloned() {
            return self
                .unlock_in_directory(tx, caller, found, connector, advise_reset)
                .await;
        }
        let (account, policy) = tx
            .account_with_policy(found.id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let evidence = match self.unlock_gate(tx.as_mut(), caller, &account, now).await {
            Ok(evidence) => evidence,
            Err(CoreError::UnlockRefused(reason)) => {
                // Refused: nothing changes, but the attempt is on record.
                drop(tx);
                let details = json!({ "refused": reason });
                let event = caller.event(
                    Action::Unlock,
                    Some(Subject::account(&account)),
                    Outcome::Failure,
                    details,
                );
                let mut tx = self.store.begin().await?;
                tx.append_audit(&event, now).await?;
                tx.commit().await?;
                return Err(CoreError::UnlockRefused(reason));
            }
            Err(e) => return Err(e),
        };
        let by = caller.actor.label();
        let was_locked = account.lock.is_locked(now);
        let t = apply(
            &policy,
            &account.lock,
            LockEvent::Unlock { by: by.clone() },
            now,
        );
        if t.state != account.lock {
            tx.save_lock_state(account.id, &t.state, now).await?;
        }
        let details = json!({
            "was_locked": was_locked,
            "by": by,
            "advise_password_reset": advise_reset,
            "helpdesk": evidence,
        });
        // Unlocking an account that was not locked unlocks nothing: recorded, but not as
        // an unlock (the lock activity counts successful ones).
        let outcome = if was_locked {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        let event = caller.event(
            Action::Unlock,
            Some(Subject::account(&account)),
            outcome,
            details,
        );
        tx.append_audit(&event, now).await?;
        if t.unlocked_now {
            let mail = Notification::AccountUnlocked {
                by: DoneBy::Operator { name: by },
                advise_password_reset: advise_reset,
            };
            let mail = self.outgoing(Recipient::owner_of(&account), account.organisation_id, mail);
            tx.enqueue_notification(&mail, now).await?;
            self.note_unlock_on_requests(tx.as_mut(), caller, &account, now)
                .await?;
        }
        tx.commit().await?;
        Ok(Unlocked {
            was_locked,
            emailed: t.unlocked_now,
        })
    }

    /// Creates a user in an identity store of an organisation the caller manages. They
    /// have no password yet: they set one through *Reset my password*.
    pub async fn create_user(&self, caller: &Caller, form: &UserForm) -> Result<String, CoreError> {
        let username = Username::parse("username", &form.username)?;
        let display_name = parse_display_name("display_name", &form.display_name)?;
        let email = Email::parse("email", &form.email)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let wanted = form.store.trim().to_uppercase();
        // Another organisation's store is not found, like one that does not exist.
        let store = tx
            .identity_stores(None)
            .await?
            .into_iter()
            .find(|s| s.name == wanted)
            .ok_or(CoreError::NotFound)?;
        authz::check(
            &caller.actor,
            Permission::ManageUsers,
            Target::Organisation(store.organisation_id),
        )?;
        if store.kind != crate::organisation::StoreKind::Builtin {
            return Err(Invalid::new(
                "store",
                "Accounts of a directory store are created in the directory, not here.",
            )
            .into());
        }
        let public_id = new_public_id(self.random.as_ref());
        let new = NewAccount {
            public_id: public_id.clone(),
            store_id: store.id,
            username,
            display_name,
            email,
            status: AccountStatus::Active,
            password_hash: None,
        };
        let (id, _) = tx
            .create_account(&new, None, now)
            .await
            .map_err(|e| match e {
                crate::error::StoreError::Conflict(_) => CoreError::from(Invalid::new(
                    "username",
                    "That username is taken in this identity store.",
                )),
                other => other.into(),
            })?;
        let subject = Subject {
            account: Some(id),
            name: format!("{}\\{}", store.name, new.username),
        };
        let details = json!({ "store": store.name, "email": new.email.as_str() });
        let event = caller.event(Action::CreateUser, Some(subject), Outcome::Success, details);
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(public_id)
    }

    /// A user's new name and registered address (username and store stay).
    pub async fn update_user(
        &self,
        caller: &Caller,
        id: &str,
        form: &UserForm,
    ) -> Result<(), CoreError> {
        let display_name = parse_display_name("display_name", &form.display_name)?;
        let email = Email::parse("email", &form.email)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = self
            .changeable_account(tx.as_mut(), caller, id, Permission::ManageUsers)
            .await?;
        tx.update_account(account.id, &display_name, &email, now)
            .await?;
        let details = json!({
            "display_name": { "before": account.display_name, "after": display_name },
            "email": { "before": account.email.as_str(), "after": email.as_str() },
        });
        let event = caller.event(
            Action::UpdateUser,
            Some(Subject::account(&account)),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Links the account named `other` (`STORE\username`, in another identity store of
    /// the same organisation) to the person of the user `id` (seed 004's linked
    /// accounts): one helpdesk check then covers both, and the Unlock page offers both.
    /// A person has at most one account per store. Audited.
    pub async fn link_user(&self, caller: &Caller, id: &str, other: &str) -> Result<(), CoreError> {
        let name = AccountName::parse("account", other)?;
        if name.store.is_none() {
            return Err(Invalid::new(
                "account",
                "Name the identity store too, as STORE\\username.",
            )
            .into());
        }
        if let Some(store) = &name.store {
            // A directory account Latchkey has not met yet is met now (by its stable
            // id), outside the link's transaction.
            self.meet_by_username(store, name.username.as_str()).await?;
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = self
            .changeable_account(tx.as_mut(), caller, id, Permission::ManageUsers)
            .await?;
        let not_found = || Invalid::new("account", "No such account in this organisation.");
        let found = tx.account_by_name(&name).await?.ok_or_else(not_found)?;
        // Another organisation's account is answered as one that does not exist.
        if found.organisation_id != account.organisation_id {
            return Err(not_found().into());
        }
        let found = self
            .changeable_account(
                tx.as_mut(),
                caller,
                &found.public_id,
                Permission::ManageUsers,
            )
            .await?;
        if found.person_id == account.person_id {
            return Err(Invalid::new("account", "These accounts are linked already.").into());
        }
        let theirs = tx.accounts_of_person(account.person_id).await?;
        if let Some(same) = theirs.iter().find(|a| a.store_id == found.store_id) {
            return Err(Invalid::new(
                "account",
                format!(
                    "This person already has {} in that identity store: unlink it first.",
                    same.qualified_name()
                ),
            )
            .into());
        }
        if tx.accounts_of_person(found.person_id).await?.len() > 1 {
            return Err(Invalid::new(
                "account",
                "That account is linked to someone else's accounts: unlink it first.",
            )
            .into());
        }
        tx.set_person(found.id, Some(account.person_id), now)
            .await?;
        let details = json!({ "linked": found.qualified_name(), "to": account.qualified_name() });
        let event = caller.event(
            Action::LinkAccount,
            Some(Subject::account(&found)),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Unlinks the user `id` from the person's other accounts: it becomes the only
    /// account of a new person. Audited.
    pub async fn unlink_user(&self, caller: &Caller, id: &str) -> Result<(), CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = self
            .changeable_account(tx.as_mut(), caller, id, Permission::ManageUsers)
            .await?;
        let others: Vec<String> = tx
            .accounts_of_person(account.person_id)
            .await?
            .iter()
            .filter(|a| a.id != account.id)
            .map(Account::qualified_name)
            .collect();
        if others.is_empty() {
            return Err(Invalid::new("id", "This account is not linked to any other.").into());
        }
        tx.set_person(account.id, None, now).await?;
        let details = json!({ "unlinked_from": others });
        let event = caller.event(
            Action::UnlinkAccount,
            Some(Subject::account(&account)),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables or enables a user. Disabling ends their sessions: a disabled account may
    /// not sign in, and its open sessions would otherwise outlive the decision.
    pub async fn set_user_status(
        &self,
        caller: &Caller,
        id: &str,
        status: AccountStatus,
    ) -> Result<(), CoreError> {
        if status == AccountStatus::Deleted {
            return Err(Invalid::new("status", "Disable or enable a user.").into());
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = self
            .changeable_account(tx.as_mut(), caller, id, Permission::ManageUsers)
            .await?;
        tx.set_account_status(account.id, status, now).await?;
        let ended = if status == AccountStatus::Disabled {
            tx.revoke_sessions_of(account.id, now).await?
        } else {
            0
        };
        let details = json!({
            "before": account.status.as_str(),
            "after": status.as_str(),
            "sessions_ended": ended,
        });
        let event = caller.event(
            Action::SetUserStatus,
            Some(Subject::account(&account)),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// *Reset a Secret Key* (seed 001): the user's authenticator — confirmed and pending —
    /// is removed, their sessions end, and their next sign-in asks for a device
    /// authorization code sent by email, then a new authenticator. The owner is told.
    pub async fn reset_user_mfa(&self, caller: &Caller, id: &str) -> Result<(), CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = self
            .changeable_account(tx.as_mut(), caller, id, Permission::ResetMfa)
            .await?;
        let had_authenticator = tx.delete_totp_credential(account.id).await?;
        let pending = Pending {
            mfa_reset: true,
            ..account.pending
        };
        tx.set_pending(account.id, pending, now).await?;
        let ended = tx.revoke_sessions_of(account.id, now).await?;
        let details = json!({
            "had_authenticator": had_authenticator,
            "sessions_ended": ended,
        });
        let mail = Notification::MfaReset {
            operator: caller.actor.label(),
        };
        self.done_and_told(tx, caller, Action::ResetMfa, &account, details, mail, now)
            .await
    }

    /// A temporary password for *Generate password*: 20 characters from an alphabet
    /// without look-alikes, in groups of five. Shown once to the operator; never stored
    /// in clear, mailed or logged.
    pub fn generate_temporary_password(&self, caller: &Caller) -> Result<String, CoreError> {
        authz::reach(&caller.actor, Permission::Resecure)?;
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
        let bytes: [u8; 20] = crate::random::array(self.random.as_ref());
        let mut out = String::with_capacity(23);
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 5 == 0 {
                out.push('-');
            }
            // 256 is not a multiple of 54: the bias is under 2 %, on 110+ bits.
            out.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
        }
        Ok(out)
    }

    /// *Resecure an account* (seed 002), in one transaction with one audit record: the
    /// password becomes `form`'s temporary one (changed at next logon if asked), the AUP
    /// acceptance is reset, the account secret — security answers and authenticator — is
    /// removed, every session ends; the next sign-in asks for a new password, the AUP, the
    /// profile and new security answers. Refused, with the reason and nothing changed,
    /// for an account that is not active, is locked, or never accepted the AUP.
    pub async fn resecure_user(
        &self,
        caller: &Caller,
        id: &str,
        form: &ResecureForm,
    ) -> Result<(), CoreError> {
        let password = SecretString::from(form.temporary_password.clone());
        // Checked and hashed before the transaction: no lock is held across Argon2.
        let account = {
            let mut read = self.read().await?;
            self.changeable_account(read.as_mut(), caller, id, Permission::Resecure)
                .await?
        };
        check_new_password(
            "temporary_password",
            &password,
            self.self_service.min_password_chars,
            &[
                account.username.as_str(),
                account.display_name.as_str(),
                account.email.as_str(),
            ],
        )?;
        let hash = self.hasher.hash(&password).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = self
            .changeable_account(tx.as_mut(), caller, id, Permission::Resecure)
            .await?;
        let aup = tx.aup(account.organisation_id).await?;
        if let Some(block) = resecure_block(&account, &aup, now) {
            let event = caller.event(
                Action::Resecure,
                Some(Subject::account(&account)),
                Outcome::Failure,
                json!({ "refused": <&str>::from(block) }),
            );
            tx.append_audit(&event, now).await?;
            tx.commit().await?;
            return Err(CoreError::ResecureBlocked(block));
        }
        tx.set_password(account.id, &hash, form.require_change, now)
            .await?;
        tx.set_aup_acceptance(account.id, None, now).await?;
        let answers_removed = tx.security_answers(account.id).await?.len();
        tx.replace_security_answers(account.id, &[], now).await?;
        let had_authenticator = tx.delete_totp_credential(account.id).await?;
        let pending = Pending {
            mfa_reset: false,
            profile: true,
            questions: true,
        };
        tx.set_pending(account.id, pending, now).await?;
        let ended = tx.revoke_sessions_of(account.id, now).await?;
        let details = json!({
            "effects": [
                "password_reset",
                "aup_reset",
                "security_answers_removed",
                "authenticator_removed",
                "sessions_revoked",
            ],
            "require_password_change": form.require_change,
            "security_answers_removed": answers_removed,
            "had_authenticator": had_authenticator,
            "sessions_ended": ended,
        });
        let mail = Notification::AccountResecured {
            operator: caller.actor.label(),
        };
        self.done_and_told(tx, caller, Action::Resecure, &account, details, mail, now)
            .await
    }

    /// Records an operator's successful `action` on `account` and mails its owner, then
    /// commits: the change, its audit record and the mail land together or not at all.
    #[allow(clippy::too_many_arguments)]
    async fn done_and_told(
        &self,
        mut tx: Box<dyn Tx>,
        caller: &Caller,
        action: Action,
        account: &Account,
        details: serde_json::Value,
        mail: Notification,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let event = caller.event(
            action,
            Some(Subject::account(account)),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        let mail = self.outgoing(Recipient::owner_of(account), account.organisation_id, mail);
        tx.enqueue_notification(&mail, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends one session of a user.
    pub async fn revoke_user_session(
        &self,
        caller: &Caller,
        id: &str,
        session: &str,
    ) -> Result<(), CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = self
            .changeable_account(tx.as_mut(), caller, id, Permission::ManageUsers)
            .await?;
        let record = tx
            .session(session)
            .await?
            .filter(|s| s.account_id == account.id);
        let Some(record) = record else {
            return Err(CoreError::NotFound);
        };
        let ended = tx.revoke_session(&record.id_hash, now).await?;
        let details = json!({ "revoked": u64::from(ended), "audience": record.audience.as_str() });
        let event = caller.event(
            Action::RevokeSessions,
            Some(Subject::account(&account)),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Every organisation's name by id (few; the grid shows each row's).
/// Failed sign-ins shown behind a lock, at most.
const FAILURES_SHOWN: u32 = 20;
/// How far either side of a failed sign-in other names failed from the same address
/// count towards its spraying figure.
const SPRAY_WINDOW_SECS: i64 = 30 * 60;

/// The failed sign-ins that led to `account`'s lock in force (within the lockout window
/// before it), newest first, each with how many other names failed from its address
/// around then. None when the account is not locked.
pub(crate) async fn failures_behind_lock(
    read: &mut dyn Read,
    account: &Account,
    now: OffsetDateTime,
) -> Result<Vec<FailedSignIn>, CoreError> {
    let Some(lock) = account.lock.active_lock(now) else {
        return Ok(Vec::new());
    };
    let policy = read.lockout_policy(account.organisation_id).await?;
    let to = lock.locked_at.unix_timestamp();
    let from = (lock.locked_at - policy.window).unix_timestamp();
    let records = read
        .failed_sign_ins(account.id, from, to, FAILURES_SHOWN)
        .await?;
    let name = account.qualified_name();
    let mut out = Vec::with_capacity(records.len());
    for r in records {
        let other_names = match &r.client_addr {
            Some(client) => {
                read.names_failed_from(
                    client,
                    &name,
                    r.at - SPRAY_WINDOW_SECS,
                    r.at + SPRAY_WINDOW_SECS,
                )
                .await?
            }
            None => 0,
        };
        out.push(FailedSignIn {
            at: r.at,
            channel: r.channel,
            client: r.client_addr,
            other_names,
        });
    }
    Ok(out)
}

pub(crate) async fn organisation_names(
    read: &mut dyn Read,
) -> Result<Vec<(OrganisationId, String)>, CoreError> {
    Ok(read
        .organisations()
        .await?
        .into_iter()
        .map(|Organisation { id, name, .. }| (id, name))
        .collect())
}

/// A row of the grid.
pub(crate) fn row(
    a: &Account,
    organisations: &[(OrganisationId, String)],
    now: time::OffsetDateTime,
) -> UserRow {
    let lock = a.lock.active_lock(now);
    UserRow {
        id: a.public_id.clone(),
        username: a.qualified_name(),
        display_name: a.display_name.clone(),
        email: a.email.as_str().to_owned(),
        organisation: organisations
            .iter()
            .find(|(id, _)| *id == a.organisation_id)
            .map(|(_, name)| name.clone())
            .unwrap_or_default(),
        status: a.status,
        locked: lock.is_some(),
        locked_date: lock.map(|l| l.locked_at.unix_timestamp()),
        lock_reason: lock.map(|l| l.reason),
    }
}

/// The grid's order (of `store::AccountOrder`) over rows from several stores: by
/// username, or the most recently locked first.
fn sort_rows(rows: &mut [UserRow], sort: UserSort) {
    let bare = |r: &UserRow| {
        r.username
            .split_once('\\')
            .map_or(r.username.clone(), |(_, u)| u.to_lowercase())
    };
    match sort {
        UserSort::Username => rows.sort_by_key(|r| (bare(r), r.username.clone())),
        UserSort::LockedDate => {
            rows.sort_by_key(|r| (std::cmp::Reverse(r.locked_date), bare(r)));
        }
    }
}

/// An audit record as the console shows it.
pub(crate) fn entry(r: AuditRecord) -> AuditEntry {
    AuditEntry {
        seq: r.seq,
        at: r.at,
        actor: r.actor,
        subject: r.subject,
        action: r.action,
        channel: r.channel,
        client: r.client_addr,
        outcome: r.outcome,
        details: r.details,
    }
}

/// Why `account` cannot be resecured at `now`, if it cannot (seed 002's list).
pub fn resecure_block(account: &Account, aup: &Aup, now: OffsetDateTime) -> Option<ResecureBlock> {
    if account.status != AccountStatus::Active {
        Some(ResecureBlock::NotActive)
    } else if account.lock.is_locked(now) {
        Some(ResecureBlock::Locked)
    } else if aup.exists() && account.aup_accepted_at.is_none() {
        Some(ResecureBlock::AupNotAccepted)
    } else {
        None
    }
}
