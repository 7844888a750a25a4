//! The helpdesk's unlock (seed 004): each role unlocks in *restricted* or *unrestricted*
//! mode, per organisation. In restricted mode the operator first verifies the caller with
//! one of the factors the person enrolled (an emailed code read back, their security
//! questions, their authenticator's current code), and the unlock is refused unless this
//! operator passed such a check of this person in the last [`CHECK_VALID_FOR`]. The
//! check is evidence: the unlock's audit record cites it (factor, outcome, when — never
//! what was answered). Wrong answers count against the person's self-service limits
//! (`crate::throttle`), so the helpdesk cannot be used to guess what the portal would
//! block. A person enrolled with nothing can be unlocked only by an operator whose role
//! has *Unlock any account* and is unrestricted.
//!
//! The gate is [`Latchkey::unlock_gate`], called by the one unlock path
//! (`Latchkey::unlock_user`), so no other way round it exists.

use latchkey_types::console::{
    CallerCheckReply, CallerCheckStarted, HelpdeskPolicyView, HelpdeskRoleMode, StoreUnlock,
    StoreUnlockOutcome, UnlockPlan,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::account::{new_public_id, Account};
use crate::audit::{Action, Caller, Outcome, Subject};
use crate::authz::{self, Permission, Role, Target};
pub use crate::caller_check::{
    default_mode, mode_of, mode_of_role, modes_of, refusal, CallerCheck, CheckState, HelpdeskMode,
    UnlockRefusal, CHECK_VALID_FOR,
};
use crate::code;
use crate::error::{CoreError, Invalid};
use crate::factor::{
    self, AheadContext, Answer, Checked, FactorContext, FactorKind, FlowSubject, Prompt, Verdict,
};
use crate::flow::FlowAction;
use crate::outbox::{Code, CodePurpose, Notification, Recipient};
use crate::store::{Read, Tx};
use crate::users::row;

/// The stored purpose of an emailed helpdesk code (codes are hashed with it).
const CODE_PURPOSE: &str = "helpdesk_verification";

/// Most accounts one *Unlock* press may unlock (the person's linked accounts).
const MAX_UNLOCK_AT_ONCE: usize = 20;

/// The emailed code's private state.
#[derive(Debug, Serialize, Deserialize)]
struct SentCode {
    code_id: i64,
}

/// The factors `account` is enrolled with, which the Authenticate page offers. A person
/// is enrolled once they set something up themselves — security questions, an
/// authenticator or a recovery address; only then does their registered address count
/// too, for an address in a directory record alone says nothing about who calls.
pub(crate) async fn enrolled_factors(
    read: &mut dyn Read,
    account: &Account,
) -> Result<Vec<FactorKind>, CoreError> {
    let to_ask = read
        .question_policy(account.organisation_id)
        .await?
        .to_ask
        .max(1) as usize;
    let questions = read.security_answers(account.id).await?.len() >= to_ask;
    let authenticator = read
        .totp_credential(account.id)
        .await?
        .is_some_and(|c| c.sealed_secret.is_some());
    let recovery = read
        .recovery_email(account.id)
        .await?
        .is_some_and(|r| r.address.is_some());
    let mut factors = Vec::new();
    if questions || authenticator || recovery {
        factors.push(FactorKind::EmailCode);
    }
    if questions {
        factors.push(FactorKind::SecurityQuestions);
    }
    if authenticator {
        factors.push(FactorKind::Totp);
    }
    Ok(factors)
}

impl crate::service::Latchkey {
    /// The organisation `slug`'s helpdesk policy, for whoever may manage its policies.
    pub async fn helpdesk_policy(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<HelpdeskPolicyView, CoreError> {
        let org = self.policy_organisation(caller, slug).await?;
        let set = self.read().await?.helpdesk_modes(org.id).await?;
        Ok(HelpdeskPolicyView {
            organisation: org.slug,
            roles: modes_of(&set)
                .into_iter()
                .map(|(role, mode)| HelpdeskRoleMode { role, mode })
                .collect(),
        })
    }

    /// Sets one role's helpdesk mode in the organisation `slug`; audited.
    pub async fn set_helpdesk_mode(
        &self,
        caller: &Caller,
        slug: &str,
        role: Role,
        mode: HelpdeskMode,
    ) -> Result<(), CoreError> {
        if !authz::permissions(role).contains(&Permission::Unlock) {
            return Err(Invalid::new("role", "That role does not unlock accounts.").into());
        }
        let org = self.policy_organisation(caller, slug).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before = mode_of_role(&tx.helpdesk_modes(org.id).await?, role);
        tx.set_helpdesk_mode(org.id, role, mode, now).await?;
        let details = json!({
            "organisation": org.slug,
            "role": role.as_str(),
            "from": before.as_str(),
            "to": mode.as_str(),
        });
        let event = caller.event(Action::SetHelpdeskMode, None, Outcome::Success, details);
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What the *Unlock account* dialog shows for the user the console names `id`.
    pub async fn unlock_plan(&self, caller: &Caller, id: &str) -> Result<UnlockPlan, CoreError> {
        let now = self.clock.now();
        let mut read = self.read().await?;
        let account = self
            .reachable_account(read.as_mut(), caller, id, &[Permission::Unlock])
            .await?;
        let names = crate::users::organisation_names(read.as_mut()).await?;
        let set = read.helpdesk_modes(account.organisation_id).await?;
        let mode = mode_of(&caller.actor, &set);
        let factors = enrolled_factors(read.as_mut(), &account).await?;
        let verified = match caller.actor.account_id() {
            Some(operator) => read
                .passed_caller_check(operator, account.person_id, now - CHECK_VALID_FOR)
                .await?
                .and_then(|c| c.view()),
            None => None,
        };
        let blocked_until = read
            .throttle(&account.qualified_name())
            .await?
            .blocked(now)
            .map(OffsetDateTime::unix_timestamp);
        let refused = refusal(caller, &account, mode, &factors, verified.is_some());
        let refused = match (refused, blocked_until) {
            (Some(UnlockRefusal::NotVerified), Some(_)) => Some(UnlockRefusal::VerificationBlocked),
            (r, _) => r,
        };
        let linked_accounts: Vec<Account> = read
            .accounts_of_person(account.person_id)
            .await?
            .into_iter()
            .filter(|a| a.id != account.id)
            .filter(|a| {
                authz::check(
                    &caller.actor,
                    Permission::Unlock,
                    Target::Organisation(a.organisation_id),
                )
                .is_ok()
            })
            .collect();
        let failed_sign_ins =
            crate::users::failures_behind_lock(read.as_mut(), &account, now).await?;
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
        Ok(UnlockPlan {
            directory_errors,
            failed_sign_ins,
            user,
            store: account.store_name.clone(),
            last_password_change: account.password_changed_at.map(|t| t.unix_timestamp()),
            mode,
            factors,
            verified,
            refused,
            verification_blocked_until: blocked_until,
            linked,
        })
    }

    /// Starts checking the caller who says they are the user `id` with `factor`: sends
    /// the emailed code, or picks the security questions to ask. Audited.
    pub async fn start_caller_check(
        &self,
        caller: &Caller,
        id: &str,
        factor: FactorKind,
    ) -> Result<CallerCheckStarted, CoreError> {
        let Some(operator) = caller.actor.account_id() else {
            return Err(CoreError::Forbidden);
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = self
            .reachable_account(tx.as_mut(), caller, id, &[Permission::Unlock])
            .await?;
        if tx
            .throttle(&account.qualified_name())
            .await?
            .blocked(now)
            .is_some()
        {
            return Err(CoreError::UnlockRefused(UnlockRefusal::VerificationBlocked));
        }
        if !enrolled_factors(tx.as_mut(), &account)
            .await?
            .contains(&factor)
        {
            return Err(
                Invalid::new("factor", "This user is not enrolled with that factor.").into(),
            );
        }
        let (prompt, kept) = match factor {
            FactorKind::EmailCode => self.send_check_code(tx.as_mut(), &account, now).await?,
            _ => {
                let subject = FlowSubject::Account(Box::new(account.clone()));
                let mut cx = self.factor_context(tx.as_mut(), &subject, now, None);
                factor::implementation(factor).prepare(&mut cx).await?
            }
        };
        let check = CallerCheck {
            public_id: new_public_id(self.random.as_ref()),
            operator,
            account: account.id,
            person: account.person_id,
            factor,
            prompt: prompt.clone(),
            kept,
            state: CheckState::Asking,
            attempts: 0,
            created_at: now,
            decided_at: None,
        };
        tx.create_caller_check(&check).await?;
        let details =
            json!({ "check": check.public_id, "factor": factor.as_str(), "stage": "asked" });
        let event = caller.event(
            Action::VerifyCaller,
            Some(Subject::account(&account)),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(CallerCheckStarted {
            check: check.public_id,
            prompt,
            attempts_left: self.check_attempts(factor),
        })
    }

    /// Checks what the caller answered (or read back) for the check `check_id`.
    pub async fn answer_caller_check(
        &self,
        caller: &Caller,
        check_id: &str,
        answer: &Answer,
    ) -> Result<CallerCheckReply, CoreError> {
        let Some(operator) = caller.actor.account_id() else {
            return Err(CoreError::Forbidden);
        };
        // Security answers are hashed (Argon2) before the transaction opens.
        let ahead = {
            let mut read = self.read().await?;
            let Some(check) = read.caller_check(check_id).await? else {
                return Err(CoreError::NotFound);
            };
            if check.operator != operator {
                return Err(CoreError::NotFound);
            }
            if answer.kind() != check.factor {
                return Err(Invalid::new("answer", "Answer the question that was asked.").into());
            }
            let account = read
                .account(check.account)
                .await?
                .ok_or(CoreError::NotFound)?;
            drop(read);
            let subject = FlowSubject::Account(Box::new(account));
            let cx = AheadContext {
                store: self.store.as_ref(),
                subject: &subject,
                hasher: &self.hasher,
            };
            factor::implementation(check.factor)
                .check_ahead(&cx, &check.kept, answer)
                .await?
        };
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut check = tx
            .caller_check(check_id)
            .await?
            .filter(|c| c.operator == operator)
            .ok_or(CoreError::NotFound)?;
        let account = tx
            .account(check.account)
            .await?
            .ok_or(CoreError::NotFound)?;
        authz::check(
            &caller.actor,
            Permission::Unlock,
            Target::Organisation(account.organisation_id),
        )?;
        if check.state != CheckState::Asking {
            return Err(Invalid::new("check", "This check has ended. Start another.").into());
        }
        let name = account.qualified_name();
        let throttle = tx.throttle(&name).await?;
        let mut blocked_until = throttle.blocked(now);
        let verdict = if blocked_until.is_some() {
            Verdict::Spent
        } else if check.factor == FactorKind::EmailCode {
            self.check_code(tx.as_mut(), &check, answer, now).await?
        } else {
            let subject = FlowSubject::Account(Box::new(account.clone()));
            let mut cx = self.factor_context(tx.as_mut(), &subject, now, ahead.as_ref());
            factor::implementation(check.factor)
                .verify(&mut cx, &check.kept, answer)
                .await?
        };
        let reply = match verdict {
            Verdict::Passed => {
                check.state = CheckState::Passed;
                check.decided_at = Some(now);
                check
                    .view()
                    .map(|verified| CallerCheckReply::Passed { verified })
            }
            Verdict::Wrong => {
                // Counted against the person, exactly like a wrong answer in the portal.
                let (next, now_blocked) = throttle.fail(&self.self_service, now);
                tx.save_throttle(&name, &next).await?;
                check.attempts += 1;
                let left = self
                    .check_attempts(check.factor)
                    .saturating_sub(check.attempts)
                    .min(next.remaining(&self.self_service, now));
                if now_blocked {
                    blocked_until = next.blocked_until;
                }
                if left == 0 || now_blocked {
                    check.state = CheckState::Failed;
                    check.decided_at = Some(now);
                    None
                } else {
                    Some(CallerCheckReply::Wrong {
                        attempts_left: left,
                    })
                }
            }
            Verdict::Spent => {
                check.state = CheckState::Failed;
                check.decided_at = Some(now);
                None
            }
        };
        let reply = reply.unwrap_or(CallerCheckReply::Failed {
            blocked_until: blocked_until.map(OffsetDateTime::unix_timestamp),
        });
        tx.save_caller_check(&check).await?;
        let result = match &reply {
            CallerCheckReply::Passed { .. } => "passed",
            CallerCheckReply::Wrong { .. } => "wrong",
            CallerCheckReply::Failed { .. } => "failed",
        };
        let details = json!({
            "check": check.public_id,
            "factor": check.factor.as_str(),
            "stage": "answered",
            "result": result,
            "attempts": check.attempts,
        });
        let outcome = if verdict == Verdict::Passed {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        let event = caller.event(
            Action::VerifyCaller,
            Some(Subject::account(&account)),
            outcome,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(reply)
    }

    /// The one gate every operator unlock passes, inside the unlock's transaction:
    /// answers the evidence for the audit record, or why the unlock is refused.
    pub(crate) async fn unlock_gate(
        &self,
        tx: &mut dyn Tx,
        caller: &Caller,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<serde_json::Value, CoreError> {
        let Some(operator) = caller.actor.account_id() else {
            // Latchkey itself (the command line).
            return Ok(json!({ "mode": HelpdeskMode::Unrestricted.as_str() }));
        };
        let set = tx.helpdesk_modes(account.organisation_id).await?;
        let mode = mode_of(&caller.actor, &set);
        let check = tx
            .passed_caller_check(operator, account.person_id, now - CHECK_VALID_FOR)
            .await?;
        let factors = enrolled_factors(tx, account).await?;
        if let Some(reason) = refusal(caller, account, mode, &factors, check.is_some()) {
            return Err(CoreError::UnlockRefused(reason));
        }
        Ok(json!({
            "mode": mode.as_str(),
            "verification": check.as_ref().map(CallerCheck::evidence),
        }))
    }

    /// Unlocks each of `ids` (the Unlock page's checked accounts) in its own transaction
    /// with its own audit record; one failing does not undo the others.
    pub async fn unlock_accounts(
        &self,
        caller: &Caller,
        ids: &[String],
        advise_reset: bool,
    ) -> Result<Vec<StoreUnlock>, CoreError> {
        if ids.is_empty() {
            return Err(Invalid::new("ids", "Choose at least one account to unlock.").into());
        }
        if ids.len() > MAX_UNLOCK_AT_ONCE {
            return Err(Invalid::new(
                "ids",
                format!("Unlock at most {MAX_UNLOCK_AT_ONCE} accounts at once."),
            )
            .into());
        }
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            let (username, store) = match self.read().await?.account_by_public_id(id).await? {
                Some(a) => (a.qualified_name(), a.store_name),
                None => (String::new(), String::new()),
            };
            let outcome = match self.unlock_user(caller, id, advise_reset).await {
                Ok(done) if done.was_locked => StoreUnlockOutcome::Unlocked {
                    emailed: done.emailed,
                },
                Ok(_) => StoreUnlockOutcome::NotLocked,
                Err(e) => StoreUnlockOutcome::Failed {
                    message: failure_sentence(&e),
                },
            };
            // An account out of reach is named no more than the caller could see.
            let known = !matches!(
                &outcome,
                StoreUnlockOutcome::Failed { .. } if username.is_empty()
            );
            results.push(StoreUnlock {
                id: id.clone(),
                username: if known { username } else { String::new() },
                store,
                outcome,
            });
        }
        Ok(results)
    }

    /// What a factor checks a caller with: the portal's own factors, as for an unlock.
    fn factor_context<'a>(
        &'a self,
        tx: &'a mut dyn Tx,
        subject: &'a FlowSubject,
        now: OffsetDateTime,
        ahead: Option<&'a Checked>,
    ) -> FactorContext<'a> {
        FactorContext {
            tx,
            subject,
            action: FlowAction::Unlock,
            now,
            keys: &self.keys,
            random: self.random.as_ref(),
            settings: &self.self_service,
            ahead,
        }
    }

    fn check_attempts(&self, factor: FactorKind) -> u32 {
        match factor {
            FactorKind::EmailCode => self
                .self_service
                .attempts_per_step
                .min(self.self_service.code_max_tries),
            _ => self.self_service.attempts_per_step,
        }
    }

    /// Sends a code to the person's registered address (not a recovery address: the
    /// operator reads back what arrived where the organisation knows to send).
    async fn send_check_code(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<(Prompt, serde_json::Value), CoreError> {
        let expires_at = now + self.self_service.code_lifetime;
        let typed = code::generate(self.random.as_ref());
        let code_hash = code::hash(&self.keys, account.id, CODE_PURPOSE, now, &typed);
        let code_id = tx
            .create_code(account.id, CODE_PURPOSE, &code_hash, now, expires_at)
            .await?;
        let mail = Notification::OneTimeCode {
            code: Code::new(typed),
            expires_at,
            purpose: CodePurpose::HelpdeskVerification,
        };
        let mail = self.outgoing(Recipient::owner_of(account), account.organisation_id, mail);
        tx.enqueue_notification(&mail, now).await?;
        let prompt = Prompt::EmailCode {
            valid_minutes: u32::try_from(self.self_service.code_lifetime.whole_minutes())
                .unwrap_or(0),
        };
        Ok((prompt, json!(SentCode { code_id })))
    }

    async fn check_code(
        &self,
        tx: &mut dyn Tx,
        check: &CallerCheck,
        answer: &Answer,
        now: OffsetDateTime,
    ) -> Result<Verdict, CoreError> {
        let Answer::EmailCode { code: typed } = answer else {
            return Ok(Verdict::Wrong);
        };
        let typed = code::parse("code", typed)?;
        let sent: SentCode = serde_json::from_value(check.kept.clone())
            .map_err(|e| CoreError::Internal(format!("caller check state: {e}")))?;
        let Some(stored) = tx.code(sent.code_id).await? else {
            return Ok(Verdict::Spent);
        };
        let tries = self.self_service.code_max_tries;
        factor::email_code::check_and_spend(tx, &self.keys, &stored, &typed, tries, now).await
    }
}

/// One account's failure on the Unlock page, in plain words.
fn failure_sentence(e: &CoreError) -> String {
    match e {
        CoreError::UnlockRefused(UnlockRefusal::NotVerified) => {
            "Not unlocked: verify the caller first.".into()
        }
        CoreError::UnlockRefused(UnlockRefusal::Unenrolled) => {
            "Not unlocked: this account is enrolled with nothing to verify the caller by, so \
             only an unrestricted operator with Unlock any account may unlock it."
                .into()
        }
        CoreError::UnlockRefused(UnlockRefusal::VerificationBlocked) => {
            "Not unlocked: too many wrong answers; verifying is blocked for now.".into()
        }
        CoreError::NotFound => "Not unlocked: that account was not found.".into(),
        CoreError::Forbidden => "Not unlocked: your roles do not allow it.".into(),
        CoreError::Busy { .. } | CoreError::RateLimited { .. } => {
            "Not unlocked: the service is busy. Try again in a moment.".into()
        }
        CoreError::Store(_) | CoreError::Internal(_) => {
            "Not unlocked: the identity store could not be updated. Nothing was changed; try \
             again."
                .into()
        }
        other => format!("Not unlocked: {other}."),
    }
}
