//! The lock email that helps (issue 14, item 6): the mail that tells someone their
//! account was locked carries two links, each random, single-use and expiring.
//!
//! - **This was me: unlock my account** opens the portal's unlock flow for that account
//!   with the name already given and the email step satisfied (the link came to the
//!   registered address); the channel's other factors are still asked.
//! - **This wasn't me** keeps the account locked (a temporary lock becomes one that
//!   stays until someone unlocks it), revokes its sessions, makes the next sign-in after
//!   an unlock choose a new password, spends the mail's other link, and records a
//!   suspicious report in the audit log for the support queue.
//!
//! A link's token is a [`Token`] (256 random bits); only its SHA-256 is stored, and it
//! is spent by one conditional update, so a second use — or two at once — finds nothing.
//! A used, expired or unknown link is refused the same way.

use std::net::IpAddr;

use latchkey_types::{Channel, FactorKind, FlowAction, FlowView};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::account::{Account, AccountId, AccountStatus};
use crate::audit::{Action, AuditEvent, Outcome, Subject};
use crate::error::CoreError;
use crate::flow::{Flow, FlowState, FlowToken};
use crate::lockout::{Lock, LockReason};
use crate::outbox::Code;
use crate::service::Latchkey;
use crate::store::Tx;
use crate::token::Token;

/// What a lock-mail link token is for (see [`Token`]).
pub struct LockLinkUse;

/// The secret in a lock mail's link.
pub type LockLinkToken = Token<LockLinkUse>;

/// How long a lock mail's links work.
pub const LINK_LIFETIME: Duration = Duration::hours(24);

/// The stored purpose of the "This was me" link.
pub const UNLOCK: &str = "unlock";
/// The stored purpose of the "This wasn't me" link.
pub const NOT_ME: &str = "not_me";

/// The unlock flow a "This was me" link opened.
#[derive(Debug)]
pub struct LinkFlow {
    pub token: FlowToken,
    pub view: FlowView,
    /// The account's `STORE\username`, shown on every step (the link's holder reads the
    /// registered mailbox, so this tells them nothing new).
    pub username: String,
}

/// The factors a flow opened from a lock mail asks: the channel's, less the emailed
/// code (the link proved the mailbox). A flow is never empty: with nothing left it asks
/// the captcha, so a person, not a mail scanner, follows the link.
pub fn remaining_steps(channel_steps: &[FactorKind]) -> Vec<FactorKind> {
    let steps: Vec<FactorKind> = channel_steps
        .iter()
        .copied()
        .filter(|f| *f != FactorKind::EmailCode)
        .collect();
    if steps.is_empty() {
        vec![FactorKind::Captcha]
    } else {
        steps
    }
}

impl Latchkey {
    /// Makes and stores the two links of the lock mail for `account`, in `tx`; answers
    /// them as the mail carries them (`<unlock> <not_me>`).
    pub(crate) async fn lock_mail_links(
        &self,
        tx: &mut dyn Tx,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<Code, CoreError> {
        let unlock = LockLinkToken::generate(self.random.as_ref());
        let not_me = LockLinkToken::generate(self.random.as_ref());
        let expires = now + LINK_LIFETIME;
        tx.create_lock_link(account, UNLOCK, &unlock.id_hash(), now, expires)
            .await?;
        tx.create_lock_link(account, NOT_ME, &not_me.id_hash(), now, expires)
            .await?;
        Ok(Code::new(format!(
            "{} {}",
            unlock.expose(),
            not_me.expose()
        )))
    }

    /// Makes and stores the *This wasn't me* link alone, for the mail that says
    /// self-service was paused (wrong answers: someone may be guessing); answers its token.
    pub(crate) async fn not_me_link(
        &self,
        tx: &mut dyn Tx,
        account: AccountId,
        now: OffsetDateTime,
    ) -> Result<Code, CoreError> {
        let not_me = LockLinkToken::generate(self.random.as_ref());
        tx.create_lock_link(account, NOT_ME, &not_me.id_hash(), now, now + LINK_LIFETIME)
            .await?;
        Ok(Code::new(not_me.expose()))
    }

    /// Spends the link `token` for `purpose` in `tx`; answers its active account, or
    /// records the refusal, commits it and answers `NotFound` (used, expired, unknown,
    /// or an account no longer active: all alike).
    async fn spend_link(
        &self,
        mut tx: Box<dyn Tx>,
        token: &LockLinkToken,
        purpose: &str,
        (channel, action): (Channel, Action),
        client: IpAddr,
        now: OffsetDateTime,
    ) -> Result<(Box<dyn Tx>, Account), CoreError> {
        // Read under the account's lock (as a sign-in failure reads it), so the lock
        // state written after this cannot lose a concurrent failure's count.
        let account = match tx.spend_lock_link(&token.id_hash(), purpose, now).await? {
            Some(id) => tx.account_with_policy(id).await?.map(|(a, _)| a),
            None => None,
        };
        match account {
            Some(a) if a.status == AccountStatus::Active => Ok((tx, a)),
            other => {
                let event = AuditEvent::anonymous(
                    channel,
                    action,
                    other.as_ref().map(Subject::account),
                    client,
                    Outcome::Failure,
                    json!({ "link": purpose, "reason": "used_expired_or_unknown" }),
                );
                tx.append_audit(&event, now).await?;
                tx.commit().await?;
                Err(CoreError::NotFound)
            }
        }
    }

    /// "This was me": spends the link and opens an unlock flow on `channel` (where the
    /// link was opened) for its account, at the first factor the channel asks besides
    /// the emailed code.
    pub async fn lock_link_unlock(
        &self,
        token: &LockLinkToken,
        channel: Channel,
        client: IpAddr,
    ) -> Result<LinkFlow, CoreError> {
        self.count_request(client).await?;
        let channel_steps = self.read().await?.auth_flow(channel).await?;
        let steps = remaining_steps(&channel_steps);
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let (mut tx, account) = self
            .spend_link(
                tx,
                token,
                UNLOCK,
                (channel, Action::LockLinkUnlock),
                client,
                now,
            )
            .await?;
        let flow_token = FlowToken::generate(self.random.as_ref());
        let username = account.qualified_name();
        let mut flow = Flow {
            id_hash: flow_token.id_hash(),
            action: FlowAction::Unlock,
            channel,
            steps: steps.clone(),
            account: Some(account.id),
            subject_name: Some(username.clone()),
            state: FlowState::Identify,
            created_at: now,
            expires_at: now + self.self_service.flow_lifetime,
        };
        let throttle = tx.throttle(&username).await?;
        let blocked_until = throttle.blocked(now);
        if let Some(until) = blocked_until {
            flow.state = crate::selfservice::blocked(until, None);
        }
        tx.create_flow(&flow, &client.to_string()).await?;
        if blocked_until.is_none() {
            let subject = self.subject_of(tx.as_mut(), &flow).await?;
            self.enter_step(tx.as_mut(), &mut flow, &subject, 0, now)
                .await?;
            tx.save_flow(&flow).await?;
        }
        let event = AuditEvent::anonymous(
            channel,
            Action::LockLinkUnlock,
            Some(Subject::account(&account)),
            client,
            Outcome::Success,
            json!({
                "link": UNLOCK,
                "satisfied": [FactorKind::EmailCode.as_str()],
                "steps": steps.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "self_service_blocked": blocked_until.is_some(),
            }),
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        let name_left = throttle.remaining(&self.self_service, now);
        Ok(LinkFlow {
            token: flow_token,
            view: self.view(&flow, name_left, now),
            username,
        })
    }

    /// "This wasn't me": spends the link (and the mail's other one), keeps the account
    /// locked until someone unlocks it, revokes its sessions, makes its next sign-in
    /// choose a new password, and records the suspicious report.
    pub async fn lock_link_not_me(
        &self,
        token: &LockLinkToken,
        client: IpAddr,
    ) -> Result<(), CoreError> {
        self.count_request(client).await?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        let (mut tx, account) = self
            .spend_link(
                tx,
                token,
                NOT_ME,
                (Channel::Web, Action::ReportedNotMe),
                client,
                now,
            )
            .await?;
        let other_links = tx.spend_lock_links_of(account.id, now).await?;
        let mut lock = account.lock.clone();
        // Keep it locked: a lock that would end by itself now stays until unlocked, and
        // a lock that already ended is put back.
        let relocked = match &mut lock.lock {
            Some(l) if account.lock.is_locked(now) => {
                let was_temporary = l.expires_at.is_some();
                l.expires_at = None;
                was_temporary
            }
            _ => {
                lock.lock = Some(Lock {
                    locked_at: now,
                    reason: LockReason::Failures,
                    expires_at: None,
                });
                true
            }
        };
        tx.save_lock_state(account.id, &lock, now).await?;
        let revoked = tx.revoke_sessions_of(account.id, now).await?;
        tx.set_must_change_password(account.id, true, now).await?;
        let request = self.open_not_me_request(tx.as_mut(), &account, now).await?;
        let event = AuditEvent::anonymous(
            Channel::Web,
            Action::ReportedNotMe,
            Some(Subject::account(&account)),
            client,
            Outcome::Success,
            json!({
                "link": NOT_ME,
                "suspicious": true,
                "kept_locked": true,
                "lock_made_permanent": relocked,
                "sessions_revoked": revoked,
                "must_change_password": true,
                "links_spent": other_links,
                "support_request": request,
            }),
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_stands_for_the_emailed_code_only() {
        use FactorKind::*;
        assert_eq!(
            remaining_steps(&[Captcha, SecurityQuestions]),
            [Captcha, SecurityQuestions]
        );
        assert_eq!(remaining_steps(&[Captcha, EmailCode]), [Captcha]);
        assert_eq!(remaining_steps(&[EmailCode, Totp]), [Totp]);
        assert_eq!(remaining_steps(&[EmailCode]), [Captcha]);
    }
}
