//! Signing in with a username and password, and the session that results.
//!
//! Every path — unknown user, wrong password, inactive account, locked account — costs one
//! Argon2 verification and one audited write, and all but "locked with the right password"
//! answer the same [`SignInOutcome::Refused`], so neither the message nor the timing tells
//! an attacker whether a username exists.

use std::net::IpAddr;

use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

use crate::account::{Account, AccountName, AccountStatus};
use crate::audit::{Action, Actor, AuditChannel, AuditEvent, Outcome, Subject};
use crate::error::CoreError;
use crate::lockout::{apply, LockEvent};
use crate::outbox::{Notification, Recipient};
use crate::password::check_password_field;
use crate::service::Latchkey;
use crate::session::{SessionRecord, SessionToken};

pub struct SignInAttempt {
    pub name: String,
    pub password: SecretString,
    pub client: Option<IpAddr>,
    pub channel: AuditChannel,
    /// The session the browser already holds, revoked on success (session rotation).
    pub previous: Option<SessionToken>,
}

#[derive(Debug)]
pub enum SignInOutcome {
    SignedIn {
        token: SessionToken,
        account: Box<Account>,
    },
    /// Wrong password, unknown user or an account that may not sign in: all alike.
    Refused,
    /// The right password for a locked account; `until` is the end of a temporary lock.
    Locked { until: Option<OffsetDateTime> },
}

/// A live session and its account.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub token_hash: String,
    pub record: SessionRecord,
    pub account: Account,
}

impl Latchkey {
    pub async fn sign_in(&self, attempt: SignInAttempt) -> Result<SignInOutcome, CoreError> {
        let client = attempt.client;
        let outcome = self.sign_in_checked(attempt).await?;
        if let (SignInOutcome::Refused | SignInOutcome::Locked { .. }, Some(client)) =
            (&outcome, client)
        {
            self.count_failure(client).await?;
        }
        Ok(outcome)
    }

    async fn sign_in_checked(&self, attempt: SignInAttempt) -> Result<SignInOutcome, CoreError> {
        if let Some(client) = attempt.client {
            self.count_request(client).await?;
        }
        let name = AccountName::parse("username", &attempt.name)?;
        check_password_field("password", &attempt.password)?;
        let candidate = self.read().await?.account_by_name(&name).await?;
        let hash = candidate.as_ref().and_then(|a| a.password_hash.as_deref());
        let password_ok = self.hasher.verify(&attempt.password, hash).await?;

        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let audit = |subject: Subject, outcome: Outcome, details: serde_json::Value| AuditEvent {
            actor: Actor::Anonymous,
            subject: Some(subject),
            action: Action::SignIn,
            channel: attempt.channel,
            client: attempt.client,
            outcome,
            details,
        };

        // Re-read under the write lock: the lock state may have changed while hashing.
        let current = match candidate {
            Some(c) => tx.account_with_policy(c.id).await?,
            None => None,
        };
        let Some((account, policy)) = current else {
            let subject = Subject {
                account: None,
                name: name.to_string(),
            };
            tx.append_audit(
                &audit(
                    subject,
                    Outcome::Failure,
                    json!({ "reason": "unknown_user" }),
                ),
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(SignInOutcome::Refused);
        };
        let subject = Subject::account(&account);

        if account.status != AccountStatus::Active {
            let details =
                json!({ "reason": "account_not_active", "status": account.status.as_str() });
            tx.append_audit(&audit(subject, Outcome::Failure, details), now)
                .await?;
            tx.commit().await?;
            return Ok(SignInOutcome::Refused);
        }

        if let Some(lock) = account.lock.active_lock(now).copied() {
            let reason = if password_ok {
                "locked"
            } else {
                "wrong_password_while_locked"
            };
            tx.append_audit(
                &audit(subject, Outcome::Failure, json!({ "reason": reason })),
                now,
            )
            .await?;
            tx.commit().await?;
            return Ok(if password_ok {
                SignInOutcome::Locked {
                    until: lock.expires_at,
                }
            } else {
                SignInOutcome::Refused
            });
        }

        // Too many failures in a row, whatever the policy: no attempt counts, right or
        // wrong, until the pause ends (the right password learns when).
        if let Some(until) = account.lock.throttled_until(now) {
            let details = json!({
                "reason": if password_ok { "throttled" } else { "wrong_password_while_throttled" },
                "consecutive_failures": account.lock.consecutive_failures,
                "throttled_until": until.unix_timestamp(),
            });
            tx.append_audit(&audit(subject, Outcome::Failure, details), now)
                .await?;
            tx.commit().await?;
            return Ok(if password_ok {
                SignInOutcome::Locked { until: Some(until) }
            } else {
                SignInOutcome::Refused
            });
        }

        if !password_ok {
            let t = apply(&policy, &account.lock, LockEvent::SignInFailed, now);
            tx.save_lock_state(account.id, &t.state, now).await?;
            let throttled_until = t.state.throttled_until(now);
            let details = json!({
                "reason": "wrong_password",
                "failed_attempts": t.state.failed_attempts,
                "consecutive_failures": t.state.consecutive_failures,
                "locked": t.locked_now,
                "throttled_until": throttled_until.map(|u| u.unix_timestamp()),
            });
            tx.append_audit(&audit(subject.clone(), Outcome::Failure, details), now)
                .await?;
            if t.locked_now {
                let lock = AuditEvent {
                    actor: Actor::System("lockout"),
                    subject: Some(subject),
                    action: Action::Lock,
                    channel: attempt.channel,
                    client: attempt.client,
                    outcome: Outcome::Success,
                    details: json!({
                        "lock_reason": "Failures",
                        "expires_at": t.state.lock.and_then(|l| l.expires_at).map(|e| e.unix_timestamp()),
                    }),
                };
                tx.append_audit(&lock, now).await?;
                // Tell the owner, in the same transaction: if it was not them, they
                // learn that someone is guessing their password.
                let mail = Notification::AccountLocked {
                    until: t.state.lock.and_then(|l| l.expires_at),
                };
                let mail =
                    self.outgoing(Recipient::owner_of(&account), account.organisation_id, mail);
                tx.enqueue_notification(&mail, now).await?;
            }
            tx.commit().await?;
            return Ok(SignInOutcome::Refused);
        }

        let t = apply(&policy, &account.lock, LockEvent::SignInSucceeded, now);
        if t.state != account.lock {
            tx.save_lock_state(account.id, &t.state, now).await?;
        }
        if let Some(previous) = &attempt.previous {
            tx.revoke_session(&previous.id_hash(), now).await?;
        }
        let token = SessionToken::generate(self.random.as_ref());
        let record = SessionRecord {
            id_hash: token.id_hash(),
            account_id: account.id,
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.sessions.absolute_timeout,
            revoked_at: None,
        };
        let client = attempt.client.map(|c| c.to_string());
        tx.create_session(&record, client.as_deref()).await?;
        tx.append_audit(&audit(subject, Outcome::Success, json!({})), now)
            .await?;
        tx.commit().await?;
        let account = Box::new(Account {
            lock: t.state,
            ..account
        });
        Ok(SignInOutcome::SignedIn { token, account })
    }

    /// The live session for a cookie token, if any; refreshes its idle timer.
    pub async fn session(&self, token: &SessionToken) -> Result<Option<CurrentSession>, CoreError> {
        let hash = token.id_hash();
        let now = self.clock.now();
        let (record, account) = {
            // Returned to the pool before the transaction below takes another connection.
            let mut read = self.read().await?;
            let Some(record) = read.session(&hash).await? else {
                return Ok(None);
            };
            if !record.is_live(&self.sessions, now) {
                return Ok(None);
            }
            let Some(account) = read.account(record.account_id).await? else {
                return Ok(None);
            };
            (record, account)
        };
        if account.status != AccountStatus::Active || account.lock.is_locked(now) {
            return Ok(None);
        }
        if record.needs_touch(now) {
            let mut tx = self.store.begin().await?;
            tx.touch_session(&hash, now).await?;
            tx.commit().await?;
        }
        Ok(Some(CurrentSession {
            token_hash: hash,
            record,
            account,
        }))
    }

    /// Ends the session behind `token` (if it is live) and records it.
    pub async fn sign_out(
        &self,
        token: &SessionToken,
        client: Option<IpAddr>,
        channel: AuditChannel,
    ) -> Result<(), CoreError> {
        let hash = token.id_hash();
        let Some(record) = self.read().await?.session(&hash).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if tx.revoke_session(&hash, now).await? {
            let account = tx.account(record.account_id).await?;
            let actor = account.as_ref().map_or(Actor::Anonymous, Actor::account);
            let event = AuditEvent {
                actor,
                subject: account.map(|a| Subject::account(&a)),
                action: Action::SignOut,
                channel,
                client,
                outcome: Outcome::Success,
                details: json!({}),
            };
            tx.append_audit(&event, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Revokes every session of `account` (after a password reset or a resecure) and
    /// records who did it. Answers how many sessions ended.
    pub async fn revoke_all_sessions(
        &self,
        account: &Account,
        actor: Actor,
        channel: AuditChannel,
        client: Option<IpAddr>,
    ) -> Result<u64, CoreError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let revoked = tx.revoke_sessions_of(account.id, now).await?;
        let event = AuditEvent {
            actor,
            subject: Some(Subject::account(account)),
            action: Action::RevokeSessions,
            channel,
            client,
            outcome: Outcome::Success,
            details: json!({ "revoked": revoked }),
        };
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(revoked)
    }
}
