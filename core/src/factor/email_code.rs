//! A one-time code sent by email to the account's registered address (shown masked).
//! For an unknown name nothing is sent, and a plausible masked address is shown instead.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Factor, FactorContext, FactorKind, FlowSubject, Prompt, Response};
use crate::code;
use crate::error::CoreError;
use crate::flow::FlowAction;
use crate::outbox::{Code, CodePurpose, Notification, Recipient};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kept {
    Sent { code_id: i64 },
    Decoy,
}

fn purpose(action: FlowAction) -> (CodePurpose, &'static str) {
    match action {
        FlowAction::Unlock => (CodePurpose::Unlock, "unlock"),
        FlowAction::ResetPassword => (CodePurpose::PasswordReset, "password_reset"),
    }
}

/// What a decoy flow shows as the address: shaped like a real masked address, derived
/// from the name, at the address domain most accounts use.
fn decoy_address(name: &str, domain: &str) -> String {
    let user = name.rsplit('\\').next().unwrap_or(name);
    let chars: Vec<char> = user.chars().filter(|c| c.is_alphanumeric()).collect();
    match chars.as_slice() {
        [] => format!("•••@{domain}"),
        [only] => format!("{only}•••@{domain}"),
        [first, .., last] => format!("{first}•••{last}@{domain}"),
    }
}

pub struct EmailCodeFactor;

#[async_trait]
impl Factor for EmailCodeFactor {
    fn kind(&self) -> FactorKind {
        FactorKind::EmailCode
    }

    async fn prepare(
        &self,
        cx: &mut FactorContext<'_>,
    ) -> Result<(Prompt, serde_json::Value), CoreError> {
        let FlowSubject::Account(account) = cx.subject else {
            let domain = cx
                .tx
                .common_email_domain()
                .await?
                .unwrap_or_else(|| "example.org".to_owned());
            let prompt = Prompt::EmailCode {
                sent_to: decoy_address(&cx.subject.decoy_seed(), &domain),
            };
            return Ok((prompt, serde_json::json!(Kept::Decoy)));
        };
        let (purpose, purpose_name) = purpose(cx.action);
        let typed = code::generate(cx.random);
        let expires_at = cx.now + cx.settings.code_lifetime;
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
        cx.tx
            .enqueue_notification(
                &Recipient::owner_of(account),
                account.organisation_id,
                &mail,
                cx.now,
            )
            .await?;
        let prompt = Prompt::EmailCode {
            sent_to: account.email.masked(),
        };
        Ok((prompt, serde_json::json!(Kept::Sent { code_id })))
    }

    async fn verify(
        &self,
        cx: &mut FactorContext<'_>,
        state: &serde_json::Value,
        response: &Response,
    ) -> Result<bool, CoreError> {
        let Response::EmailCode { code: typed } = response else {
            return Ok(false);
        };
        let typed = code::parse("code", typed)?;
        let Kept::Sent { code_id } = super::state(state)? else {
            return Ok(false);
        };
        let Some(stored) = cx.tx.code(code_id).await? else {
            return Ok(false);
        };
        match code::check(cx.keys, &stored, &typed, cx.settings.code_max_tries, cx.now) {
            Ok(()) => {
                cx.tx.use_code(code_id, cx.now).await?;
                Ok(true)
            }
            Err(code::Rejection::Wrong) => {
                cx.tx.count_code_attempt(code_id).await?;
                Ok(false)
            }
            Err(_) => Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoy_addresses_look_like_masked_ones() {
        assert_eq!(
            decoy_address("EXAMPLE\\zed-nobody", "example.org"),
            "z•••y@example.org"
        );
        assert_eq!(decoy_address("q", "example.org"), "q•••@example.org");
    }
}
