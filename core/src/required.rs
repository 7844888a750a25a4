//! Required actions at sign-in (issue 13): what an operator's MFA reset or resecure, a
//! temporary password or a new acceptable use policy leaves for the person's next
//! sign-in. They are taken in a fixed order — device authorization and a new
//! authenticator, a new password, the AUP, the profile, new security answers — and until
//! all are done the portal refuses every other call (`action_required`, naming the next).
//!
//! The state lives on the account (and, for device authorization, on the session), not in
//! the browser: interrupting and signing in again resumes at the same action, and no
//! request can skip one. Device authorization is per session on purpose: a new sign-in
//! gets a new code, so knowing the password alone never reaches the authenticator step.

use std::net::IpAddr;

use latchkey_types::RequiredAction;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use time::OffsetDateTime;

use crate::account::{parse_display_name, Account, Email, Pending};
use crate::audit::{Action, Actor, AuditChannel, AuditEvent, Outcome, Subject};
use crate::code;
use crate::error::{CoreError, Invalid};
use crate::organisation::Aup;
use crate::outbox::{Code, Notification, Recipient};
use crate::password::check_new_password;
use crate::service::Latchkey;
use crate::signin::CurrentSession;
use crate::store::Tx;

/// The purpose of a device authorization code (in its hash and the codes table).
pub const DEVICE_CODE_PURPOSE: &str = "device_authorization";

/// Longest phone number kept, in characters.
const PHONE_MAX_CHARS: usize = 32;

/// The actions `account` still has to do in `session`, in the order they are asked.
pub fn pending_actions(
    account: &Account,
    session_device_authorized: bool,
    aup: &Aup,
) -> Vec<RequiredAction> {
    let mut actions = Vec::new();
    if account.pending.mfa_reset {
        actions.push(if session_device_authorized {
            RequiredAction::NewAuthenticator
        } else {
            RequiredAction::DeviceAuthorization
        });
    }
    if account.must_change_password {
        actions.push(RequiredAction::ChangePassword);
    }
    if aup.exists() && account.aup_version.as_deref() != Some(aup.version_text().as_str()) {
        actions.push(RequiredAction::AcceptAup);
    }
    if account.pending.profile {
        actions.push(RequiredAction::UpdateProfile);
    }
    if account.pending.questions {
        actions.push(RequiredAction::SecurityQuestions);
    }
    actions
}

/// What typing a device authorization code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCheck {
    Passed,
    /// Not the code; `tries_left` more are allowed.
    Wrong {
        tries_left: u32,
    },
    /// Expired, used or out of tries: sign in again for a new code.
    Spent,
}

/// A person's own profile, as they confirm it.
#[derive(Debug, Clone)]
pub struct ProfileForm {
    pub display_name: String,
    pub email: String,
    pub phone: String,
}

impl Latchkey {
    /// The actions the session's account still has to do, in order (none: all done).
    pub async fn required_actions(
        &self,
        session: &CurrentSession,
    ) -> Result<Vec<RequiredAction>, CoreError> {
        let aup = self
            .read()
            .await?
            .aup(session.account.organisation_id)
            .await?;
        Ok(pending_actions(
            &session.account,
            session.record.device_authorized_at.is_some(),
            &aup,
        ))
    }

    /// Refuses unless `action` is the next one the session must do.
    async fn expect_action(
        &self,
        session: &CurrentSession,
        action: RequiredAction,
    ) -> Result<(), CoreError> {
        match self.required_actions(session).await?.first() {
            Some(next) if *next == action => Ok(()),
            Some(next) => Err(CoreError::ActionRequired(*next)),
            None => Err(CoreError::Forbidden),
        }
    }

    /// At a portal sign-in after an MFA reset: a device authorization code, mailed to the
    /// registered address in `tx`; answers its id, kept on the new session.
    pub(crate) async fn send_device_code(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<i64, CoreError> {
        let expires_at = now + self.self_service.code_lifetime;
        let typed = code::generate(self.random.as_ref());
        let hash = code::hash(&self.keys, account.id, DEVICE_CODE_PURPOSE, now, &typed);
        let id = tx
            .create_code(account.id, DEVICE_CODE_PURPOSE, &hash, now, expires_at)
            .await?;
        let mail = Notification::DeviceAuthorizationCode {
            code: Code::new(typed),
            expires_at,
        };
        let mail = self.outgoing(Recipient::owner_of(account), account.organisation_id, mail);
        tx.enqueue_notification(&mail, now).await?;
        Ok(id)
    }

    /// Device authorization: the code mailed at this sign-in. Single use, expiring, a
    /// few tries (the outbox's code rules); every try audited.
    pub async fn authorize_device(
        &self,
        session: &CurrentSession,
        typed: &str,
        client: IpAddr,
    ) -> Result<DeviceCheck, CoreError> {
        let typed = code::parse("code", typed)?;
        self.count_request(client).await?;
        self.expect_action(session, RequiredAction::DeviceAuthorization)
            .await?;
        let now = self.clock.now();
        let max_tries = self.self_service.code_max_tries;
        let mut tx = self.store.begin().await?;
        let stored = match session.record.device_code_id {
            Some(id) => tx.code(id).await?,
            None => None,
        };
        let check = match &stored {
            None => DeviceCheck::Spent,
            Some(stored) => match code::check(&self.keys, stored, &typed, max_tries, now) {
                Ok(()) if tx.use_code(stored.id, now).await? => {
                    tx.authorize_device(&session.token_hash, now).await?;
                    DeviceCheck::Passed
                }
                Ok(()) => DeviceCheck::Spent,
                Err(code::Rejection::Wrong) => {
                    tx.count_code_attempt(stored.id).await?;
                    let used = stored.attempts + 1;
                    match max_tries.saturating_sub(used) {
                        0 => DeviceCheck::Spent,
                        tries_left => DeviceCheck::Wrong { tries_left },
                    }
                }
                Err(_) => DeviceCheck::Spent,
            },
        };
        let (outcome, result) = match check {
            DeviceCheck::Passed => (Outcome::Success, "passed"),
            DeviceCheck::Wrong { .. } => (Outcome::Failure, "wrong_code"),
            DeviceCheck::Spent => (Outcome::Failure, "code_spent"),
        };
        let event = own_event(
            &session.account,
            Action::DeviceAuthorization,
            client,
            outcome,
            json!({ "result": result }),
        );
        tx.append_audit(&event, now).await?;
        if check != DeviceCheck::Passed {
            self.count_failure_in(tx.as_mut(), client, now).await?;
        }
        tx.commit().await?;
        Ok(check)
    }

    /// After an MFA reset, the new authenticator was confirmed: the reset is done.
    pub(crate) async fn finish_mfa_reset(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        if account.pending.mfa_reset {
            let pending = Pending {
                mfa_reset: false,
                ..account.pending
            };
            tx.set_pending(account.id, pending, now).await?;
        }
        Ok(())
    }

    /// New security answers were enrolled: a resecure's request for them is done.
    pub(crate) async fn finish_questions(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        if account.pending.questions {
            let pending = Pending {
                questions: false,
                ..account.pending
            };
            tx.set_pending(account.id, pending, now).await?;
        }
        Ok(())
    }

    /// Replaces a temporary password (the required action) — the current one is asked
    /// again so that a session left open cannot change it.
    pub async fn change_password(
        &self,
        session: &CurrentSession,
        current: &SecretString,
        password: &SecretString,
        confirm: &SecretString,
        client: IpAddr,
    ) -> Result<(), CoreError> {
        crate::password::check_password_field("current", current)?;
        self.expect_action(session, RequiredAction::ChangePassword)
            .await?;
        let account = &session.account;
        let user_inputs = [
            account.username.as_str(),
            account.display_name.as_str(),
            account.email.as_str(),
        ];
        check_new_password(
            "password",
            password,
            self.self_service.min_password_chars,
            &user_inputs,
        )?;
        if password.expose_secret() != confirm.expose_secret() {
            return Err(Invalid::new("confirm", "The two passwords are not the same.").into());
        }
        if password.expose_secret() == current.expose_secret() {
            return Err(
                Invalid::new("password", "Choose a new password, not the temporary one.").into(),
            );
        }
        if !self
            .hasher
            .verify(current, account.password_hash.as_deref())
            .await?
        {
            return Err(Invalid::new("current", "That is not your current password.").into());
        }
        let hash = self.hasher.hash(password).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.set_password(account.id, &hash, false, now).await?;
        let event = own_event(
            account,
            Action::ChangePassword,
            client,
            Outcome::Success,
            json!({ "required": true }),
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organisation's acceptable use policy, for the account's owner to read.
    pub async fn aup_of(&self, account: &Account) -> Result<Aup, CoreError> {
        Ok(self.read().await?.aup(account.organisation_id).await?)
    }

    /// Accepts the AUP `version` (the one the person read: a policy edited meanwhile is
    /// not accepted unread).
    pub async fn accept_aup(
        &self,
        session: &CurrentSession,
        version: i64,
        client: IpAddr,
    ) -> Result<(), CoreError> {
        self.expect_action(session, RequiredAction::AcceptAup)
            .await?;
        let account = &session.account;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let aup = tx.aup(account.organisation_id).await?;
        if aup.version != version {
            return Err(Invalid::new(
                "version",
                "The policy has just been changed. Read the new version, then accept it.",
            )
            .into());
        }
        tx.set_aup_acceptance(account.id, Some((&aup.version_text(), now)), now)
            .await?;
        let event = own_event(
            account,
            Action::AcceptAup,
            client,
            Outcome::Success,
            json!({ "version": version }),
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Confirms (or changes) name, contact address and phone.
    pub async fn update_profile(
        &self,
        session: &CurrentSession,
        form: &ProfileForm,
        client: IpAddr,
    ) -> Result<(), CoreError> {
        let display_name = parse_display_name("display_name", &form.display_name)?;
        let email = Email::parse("email", &form.email)?;
        let phone = parse_phone("phone", &form.phone)?;
        self.expect_action(session, RequiredAction::UpdateProfile)
            .await?;
        let account = &session.account;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        tx.set_profile(account.id, &display_name, &email, phone.as_deref(), now)
            .await?;
        let pending = Pending {
            profile: false,
            ..account.pending
        };
        tx.set_pending(account.id, pending, now).await?;
        let event = own_event(
            account,
            Action::UpdateProfile,
            client,
            Outcome::Success,
            json!({
                "name_changed": display_name != account.display_name,
                "email_changed": email != account.email,
                "phone_changed": phone != account.phone,
            }),
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An audit record of something a person did to their own account in the portal.
fn own_event(
    account: &Account,
    action: Action,
    client: IpAddr,
    outcome: Outcome,
    details: serde_json::Value,
) -> AuditEvent {
    AuditEvent {
        actor: Actor::account(account),
        subject: Some(Subject::account(account)),
        action,
        channel: AuditChannel::Web,
        client: Some(client),
        outcome,
        details,
    }
}

/// A phone number: optional; digits with spaces, dashes, dots, brackets and a leading
/// `+`; 6 to 15 digits (E.164's most).
pub fn parse_phone(field: &'static str, input: &str) -> Result<Option<String>, Invalid> {
    let t = input.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let digits = t.chars().filter(char::is_ascii_digit).count();
    let shape_ok = t.chars().enumerate().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0)
    });
    if !shape_ok || !(6..=15).contains(&digits) || t.chars().count() > PHONE_MAX_CHARS {
        return Err(Invalid::new(
            field,
            "Enter a phone number of 6 to 15 digits, e.g. +44 20 7946 0000, or leave it empty.",
        ));
    }
    Ok(Some(t.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_checked_for_shape() {
        assert_eq!(parse_phone("phone", "  "), Ok(None));
        assert_eq!(
            parse_phone("phone", "+44 (20) 7946-0000"),
            Ok(Some("+44 (20) 7946-0000".to_owned()))
        );
        for bad in [
            "12345",
            "+44 20 7946 0000 1234",
            "call me",
            "44+20794600",
            "0800<b>",
        ] {
            let err = parse_phone("phone", bad).err();
            assert_eq!(
                err.map(|e| e.field.into_owned()).as_deref(),
                Some("phone"),
                "{bad}"
            );
        }
    }
}
