//! A one-time code sent by email to the account's registered address.
//!
//! Until a factor has proved who someone is, the page shows nothing derived from the
//! real address: not even a masked form of it, because a masked address that does not
//! start and end like the username, or is on another domain, tells an attacker the name
//! is real. Every name — real, unknown or disabled — is told the same thing: a code went
//! to the address registered for this account, if the username is right. For an
//! unknown name nothing is sent, and the step runs out exactly as a real one does.
//!
//! A person who confirmed a recovery address gets the code there instead of at the work
//! address (which is often exactly what the locked account guards); the page says the
//! same words either way. "Send a new code" replaces the code (the old one stops
//! working) after `self_service.code_resend_after`, for real and unknown names alike.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Answer, Factor, FactorContext, FactorKind, FlowSubject, Prompt, Verdict};
use crate::code::{self, StoredCode};
use crate::error::CoreError;
use crate::flow::FlowAction;
use crate::keys::Keys;
use crate::outbox::{Code, CodePurpose, Notification, Outgoing, Recipient};
use crate::settings::SelfServiceSettings;
use crate::store::Tx;

impl Kept {
    fn expires_at(&self) -> OffsetDateTime {
        match self {
            Kept::Sent { expires_at, .. } | Kept::Decoy { expires_at } => *expires_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kept {
    Sent {
        code_id: i64,
        #[serde(with = "time::serde::timestamp")]
        expires_at: OffsetDateTime,
    },
    /// No code was sent (unknown name); the step expires like a real one.
    Decoy {
        #[serde(with = "time::serde::timestamp")]
        expires_at: OffsetDateTime,
    },
}

fn purpose(action: FlowAction) -> (CodePurpose, &'static str) {
    match action {
        FlowAction::Unlock => (CodePurpose::Unlock, "unlock"),
        FlowAction::ResetPassword => (CodePurpose::PasswordReset, "password_reset"),
    }
}

pub struct EmailCodeFactor;

#[async_trait]
impl Factor for EmailCodeFactor {
    fn kind(&self) -> FactorKind {
        FactorKind::EmailCode
    }

    /// A code allows `code_max_tries` wrong tries, so the step never offers more: a dead
    /// code must not keep saying "try again".
    fn max_attempts(&self, settings: &SelfServiceSettings) -> u32 {
        settings.attempts_per_step.min(settings.code_max_tries)
    }

    async fn prepare(
        &self,
        cx: &mut FactorContext<'_>,
    ) -> Result<(Prompt, serde_json::Value), CoreError> {
        let expires_at = cx.now + cx.settings.code_lifetime;
        let prompt = Prompt::EmailCode {
            valid_minutes: u32::try_from(cx.settings.code_lifetime.whole_minutes()).unwrap_or(0),
        };
        let FlowSubject::Account(account) = cx.subject else {
            return Ok((prompt, serde_json::json!(Kept::Decoy { expires_at })));
        };
        let (purpose, purpose_name) = purpose(cx.action);
        let typed = code::generate(cx.random);
        let code_hash = code::hash(cx.keys, account.id, purpose_name, cx.now, &typed);
        let code_id = cx
            .tx
            .create_code(account.id, purpose_name, &code_hash, cx.now, expires_at)
            .await?;
        let mail = Notification::OneTimeCode {
            code: Code::new(typed),
            expires_at,
            purpose,
        };
        let mut to = Recipient::owner_of(account);
        if let Some(recovery) = cx.tx.recovery_email(account.id).await? {
            if let Some(address) = recovery.address {
                to.email = address;
            }
        }
        let mail = Outgoing::new(to, account.organisation_id, mail, cx.keys, cx.random);
        cx.tx.enqueue_notification(&mail, cx.now).await?;
        Ok((
            prompt,
            serde_json::json!(Kept::Sent {
                code_id,
                expires_at
            }),
        ))
    }

    fn resend_wait(
        &self,
        state: &serde_json::Value,
        now: OffsetDateTime,
        settings: &SelfServiceSettings,
    ) -> Option<time::Duration> {
        let kept: Kept = super::state(state).ok()?;
        let sent_at = kept.expires_at() - settings.code_lifetime;
        Some((sent_at + settings.code_resend_after - now).max(time::Duration::ZERO))
    }

    async fn resend(
        &self,
        cx: &mut FactorContext<'_>,
        state: &serde_json::Value,
    ) -> Result<Option<serde_json::Value>, CoreError> {
        if let Kept::Sent { code_id, .. } = super::state(state)? {
            // The old code stops working: only the newest one in the inbox is good.
            cx.tx.use_code(code_id, cx.now).await?;
        }
        let (_, kept) = self.prepare(cx).await?;
        Ok(Some(kept))
    }

    async fn verify(
        &self,
        cx: &mut FactorContext<'_>,
        state: &serde_json::Value,
        answer: &Answer,
    ) -> Result<Verdict, CoreError> {
        let Answer::EmailCode { code: typed } = answer else {
            return Ok(Verdict::Wrong);
        };
        let typed = code::parse("code", typed)?;
        let (code_id, expires_at) = match super::state(state)? {
            Kept::Sent {
                code_id,
                expires_at,
            } => (Some(code_id), expires_at),
            Kept::Decoy { expires_at } => (None, expires_at),
        };
        // Checked first and alike for real and unknown names: an expired code is spent
        // whatever was typed.
        if cx.now >= expires_at {
            return Ok(Verdict::Spent);
        }
        let Some(stored) = (match code_id {
            Some(id) => cx.tx.code(id).await?,
            None => None,
        }) else {
            return Ok(Verdict::Wrong);
        };
        check_and_spend(
            &mut *cx.tx,
            cx.keys,
            &stored,
            &typed,
            cx.settings.code_max_tries,
            cx.now,
        )
        .await
    }
}

/// Checks `typed` against a stored code: the right code is spent, a wrong one costs a
/// try, and one that can no longer pass (used, expired, out of tries) is `Spent`. Shared
/// by this factor and the helpdesk's emailed-code check.
pub(crate) async fn check_and_spend(
    tx: &mut dyn Tx,
    keys: &Keys,
    stored: &StoredCode,
    typed: &str,
    max_tries: u32,
    now: OffsetDateTime,
) -> Result<Verdict, CoreError> {
    match code::check(keys, stored, typed, max_tries, now) {
        Ok(()) => {
            tx.use_code(stored.id, now).await?;
            Ok(Verdict::Passed)
        }
        Err(code::Rejection::Wrong) => {
            tx.count_code_attempt(stored.id).await?;
            Ok(Verdict::Wrong)
        }
        Err(_) => Ok(Verdict::Spent),
    }
}
