//! Signing in with a username and password, and the session that results: to the portal,
//! or to the console (an operator, with their authenticator code when they have one).
//!
//! Every path — unknown user, wrong password, inactive account, locked account — costs one
//! Argon2 verification and one audited write, and all but "locked with the right password"
//! answer the same [`SignInOutcome::Refused`], so neither the message nor the timing tells
//! an attacker whether a username exists. What the console adds (no role, a code needed)
//! is said only to someone who knows the password.

use std::net::IpAddr;

use latchkey_types::Role;
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

use crate::account::{Account, AccountName, AccountStatus};
use crate::audit::{Action, Actor, AuditChannel, AuditEvent, Operator, Outcome, Subject};
use crate::error::CoreError;
use crate::factor::totp;
use crate::lockout::{apply, LockEvent, LockReason, LockoutPolicy};
use crate::outbox::{Notification, Recipient};
use crate::password::check_password_field;
use crate::service::Latchkey;
use crate::session::{Audience, SessionRecord, SessionToken};
use crate::store::Tx;

pub struct SignInAttempt {
    pub name: String,
    pub password: SecretString,
    pub client: Option<IpAddr>,
    pub channel: AuditChannel,
    /// The portal, or the console (operators only).
    pub audience: Audience,
    /// The code of the operator's authenticator (console, when they have one).
    pub code: Option<String>,
    /// The session the browser already holds, revoked on success (session rotation).
    pub previous: Option<SessionToken>,
}

#[derive(Debug)]
pub enum SignInOutcome {
    SignedIn {
        token: SessionToken,
        account: Box<Account>,
    },
    /// Wrong password (or code), unknown user or an account that may not sign in: all
    /// alike.
    Refused,
    /// The right password for a locked account; `until` is the end of a temporary lock,
    /// `reason` its Lock Reason (whoever knows the password may know why), and
    /// `self_service_paused_until` when self-service is paused for the name too (too many
    /// wrong answers), whatever locked the account: offering "Unlock" then would only
    /// lead to the pause.
    Locked {
        until: Option<OffsetDateTime>,
        reason: LockReason,
        self_service_paused_until: Option<OffsetDateTime>,
    },
    /// Console: the right password, and the operator has an authenticator: ask its code.
    CodeRequired,
    /// Console: the right password, but the account holds no role.
    NotAnOperator,
}

/// A live session and its account.
#[derive(Debug, Clone)]
pub struct CurrentSession {
    pub token_hash: String,
    pub record: SessionRecord,
    pub account: Account,
}

/// A live console session: the operator and the roles they hold now.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub session: CurrentSession,
    pub operator: Operator,
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
        let code = attempt
            .code
            .as_deref()
            .map(|c| totp::parse_code("code", c))
            .transpose()?;
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
            // Whoever knows the password may learn that self-service is paused too.
            let paused = self
                .self_service_paused(tx.as_mut(), &account, password_ok, now)
                .await?;
            tx.commit().await?;
            return Ok(if password_ok {
                SignInOutcome::Locked {
                    until: lock.expires_at,
                    reason: lock.reason,
                    self_service_paused_until: paused,
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
            let paused = self
                .self_service_paused(tx.as_mut(), &account, password_ok, now)
                .await?;
            tx.commit().await?;
            return Ok(if password_ok {
                SignInOutcome::Locked {
                    until: Some(until),
                    reason: LockReason::Failures,
                    self_service_paused_until: paused,
                }
            } else {
                SignInOutcome::Refused
            });
        }

        if !password_ok {
            let event = audit(subject, Outcome::Failure, json!({}));
            return self
                .failed(tx, &account, &policy, event, "wrong_password", now)
                .await;
        }

        if attempt.audience == Audience::Console {
            if tx.roles_of(account.id).await?.is_empty() {
                let details = json!({ "reason": "not_an_operator" });
                tx.append_audit(&audit(subject, Outcome::Failure, details), now)
                    .await?;
                tx.commit().await?;
                return Ok(SignInOutcome::NotAnOperator);
            }
            match self
                .authenticator_check(tx.as_mut(), &account, code.as_deref(), now)
                .await?
            {
                Authenticator::NotEnrolled | Authenticator::Passed => {}
                Authenticator::CodeMissing => {
                    let details = json!({ "reason": "authenticator_code_required" });
                    tx.append_audit(&audit(subject, Outcome::Failure, details), now)
                        .await?;
                    tx.commit().await?;
                    return Ok(SignInOutcome::CodeRequired);
                }
                Authenticator::Wrong => {
                    let event = audit(subject, Outcome::Failure, json!({}));
                    return self
                        .failed(
                            tx,
                            &account,
                            &policy,
                            event,
                            "wrong_authenticator_code",
                            now,
                        )
                        .await;
                }
            }
        }

        let t = apply(&policy, &account.lock, LockEvent::SignInSucceeded, now);
        if t.state != account.lock {
            tx.save_lock_state(account.id, &t.state, now).await?;
        }
        if let Some(previous) = &attempt.previous {
            tx.revoke_session(&previous.id_hash(), now).await?;
        }
        // After an MFA reset, a portal sign-in must first authorise this device with a
        // code mailed to the registered address (seed 001's Device Authorization email).
        let device_code_id = if attempt.audience == Audience::Portal && account.pending.mfa_reset {
            Some(self.send_device_code(tx.as_mut(), &account, now).await?)
        } else {
            None
        };
        let token = SessionToken::generate(self.random.as_ref());
        let record = SessionRecord {
            id_hash: token.id_hash(),
            account_id: account.id,
            audience: attempt.audience,
            client: attempt.client.map(|c| c.to_string()),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.sessions.absolute_timeout,
            revoked_at: None,
            device_code_id,
            device_authorized_at: None,
        };
        tx.create_session(&record).await?;
        let details = json!({ "audience": attempt.audience.as_str() });
        tx.append_audit(&audit(subject, Outcome::Success, details), now)
            .await?;
        tx.commit().await?;
        let account = Box::new(Account {
            lock: t.state,
            ..account
        });
        Ok(SignInOutcome::SignedIn { token, account })
    }

    /// A failed sign-in (`reason`: a wrong password or authenticator code): counted
    /// towards the lock, recorded in `event`, and — if it locks the account — the lock
    /// recorded and its owner told, all in `tx`.
    async fn failed(
        &self,
        mut tx: Box<dyn Tx>,
        account: &Account,
        policy: &LockoutPolicy,
        mut event: AuditEvent,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<SignInOutcome, CoreError> {
        let t = apply(policy, &account.lock, LockEvent::SignInFailed, now);
        tx.save_lock_state(account.id, &t.state, now).await?;
        let throttled_until = t.state.throttled_until(now);
        event.details = json!({
            "reason": reason,
            "failed_attempts": t.state.failed_attempts,
            "consecutive_failures": t.state.consecutive_failures,
            "locked": t.locked_now,
            "throttled_until": throttled_until.map(|u| u.unix_timestamp()),
        });
        let (channel, client) = (event.channel, event.client);
        tx.append_audit(&event, now).await?;
        if t.locked_now {
            let lock = AuditEvent {
                actor: Actor::System("lockout"),
                subject: Some(Subject::account(account)),
                action: Action::Lock,
                channel,
                client,
                outcome: Outcome::Success,
                details: json!({
                    "lock_reason": "Failures",
                    "expires_at": t.state.lock.and_then(|l| l.expires_at).map(|e| e.unix_timestamp()),
                }),
            };
            tx.append_audit(&lock, now).await?;
            // Tell the owner, in the same transaction: if it was not them, they learn
            // that someone is guessing their password.
            let links = self.lock_mail_links(tx.as_mut(), account.id, now).await?;
            let mail = Notification::AccountLocked {
                until: t.state.lock.and_then(|l| l.expires_at),
                links: Some(links),
            };
            let mail = self.outgoing(Recipient::owner_of(account), account.organisation_id, mail);
            tx.enqueue_notification(&mail, now).await?;
        }
        tx.commit().await?;
        Ok(SignInOutcome::Refused)
    }

    /// Until when self-service is paused for `account`'s name (too many wrong answers),
    /// asked only once the password is known to be right.
    async fn self_service_paused(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        password_ok: bool,
        now: OffsetDateTime,
    ) -> Result<Option<OffsetDateTime>, CoreError> {
        if !password_ok {
            return Ok(None);
        }
        Ok(tx.throttle(&account.qualified_name()).await?.blocked(now))
    }

    /// Checks an operator's authenticator code, if they have an authenticator; a right
    /// code's step is spent (never accepted twice).
    async fn authenticator_check(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        code: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Authenticator, CoreError> {
        let Some(sealed) = tx
            .totp_credential(account.id)
            .await?
            .and_then(|c| c.sealed_secret.map(|s| (s, c.last_used_step)))
        else {
            return Ok(Authenticator::NotEnrolled);
        };
        let Some(code) = code else {
            return Ok(Authenticator::CodeMissing);
        };
        let (sealed, last_used) = sealed;
        let secret = totp::open(&self.keys, &sealed)?;
        let generator = totp::generator(&secret, "Latchkey", account.username.as_str())?;
        let unix = u64::try_from(now.unix_timestamp()).unwrap_or(0);
        match totp::accept(&generator, code, unix, last_used) {
            Some(step) if tx.set_totp_last_step(account.id, step).await? => {
                Ok(Authenticator::Passed)
            }
            _ => Ok(Authenticator::Wrong),
        }
    }

    /// The live portal session for a cookie token, if any; refreshes its idle timer.
    pub async fn session(&self, token: &SessionToken) -> Result<Option<CurrentSession>, CoreError> {
        self.session_for(token, Audience::Portal).await
    }

    /// The live console session for a cookie token, with the roles its operator holds
    /// now (a role revoked a moment ago is gone), if any.
    pub async fn console_session(
        &self,
        token: &SessionToken,
    ) -> Result<Option<ConsoleSession>, CoreError> {
        let Some(session) = self.session_for(token, Audience::Console).await? else {
            return Ok(None);
        };
        let roles = self.read().await?.roles_of(session.account.id).await?;
        if roles.is_empty() {
            return Ok(None);
        }
        let operator = operator(&session.account, roles);
        Ok(Some(ConsoleSession { session, operator }))
    }

    async fn session_for(
        &self,
        token: &SessionToken,
        audience: Audience,
    ) -> Result<Option<CurrentSession>, CoreError> {
        let hash = token.id_hash();
        let now = self.clock.now();
        let (record, account) = {
            // Returned to the pool before the transaction below takes another connection.
            let mut read = self.read().await?;
            let Some(record) = read.session(&hash).await? else {
                return Ok(None);
            };
            if record.audience != audience || !record.is_live(&self.sessions, now) {
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
                details: json!({ "audience": record.audience.as_str() }),
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

/// What an operator's authenticator said.
enum Authenticator {
    NotEnrolled,
    CodeMissing,
    Wrong,
    Passed,
}

/// `account` acting as an operator with `roles`.
pub fn operator(account: &Account, roles: Vec<Role>) -> Operator {
    Operator {
        account: account.id,
        username: account.qualified_name(),
        organisation: account.organisation_id,
        roles,
    }
}
