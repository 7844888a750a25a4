//! Self-service: *Unlock my account* and *Reset my password* (seed 000), on the web, on
//! a phone and from the desktop kiosk page.
//!
//! Each request loads the flow under the write lock, checks it is at the step the request
//! answers (`crate::flow`), lets the factor check the answer, and saves the next state
//! together with its audit record in one transaction. An unknown name, or an account
//! without the factor enrolled, gets decoys and fails like a wrong answer; the web layer
//! also answers every step at a fixed deadline, so neither words nor timing tell the
//! paths apart.

use std::net::IpAddr;

use latchkey_types::{FactorKind, FlowScope, FlowView, StepView};
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

use crate::account::{Account, AccountName, AccountStatus};
use crate::audit::{Action, Actor, AuditChannel, AuditEvent, Outcome, Subject};
use crate::error::{CoreError, FlowError, Invalid};
use crate::factor::{self, AheadContext, Answer, Checked, FactorContext, FlowSubject, Verdict};
use crate::flow::{FailReason, Flow, FlowAction, FlowState, FlowToken, Next, Summary};
use crate::lockout::{apply, LockEvent, LockReason};
use crate::outbox::{DoneBy, Notification, Recipient};
use crate::password::check_new_password;
use crate::service::Latchkey;
use crate::settings::Channel;
use crate::store::{AccountsRead, Tx};
use crate::throttle::Throttle;

/// Whole seconds, rounded up: "wait 0 s" only when there is nothing left to wait.
fn secs_up(d: time::Duration) -> u32 {
    let secs = d.whole_seconds() + i64::from(d.subsec_nanoseconds() > 0);
    u32::try_from(secs.max(0)).unwrap_or(u32::MAX)
}

impl Latchkey {
    /// Wrong answers a step asking `kind` allows.
    fn attempts_for(&self, kind: FactorKind) -> u32 {
        factor::implementation(kind).max_attempts(&self.self_service)
    }

    /// What the browser shows for `flow`. `name_left` is what remains of the name's
    /// failure budget ([`Throttle::remaining`]): the step never promises more tries than
    /// that, and says when its last try would block self-service.
    pub(crate) fn view(&self, flow: &Flow, name_left: u32, now: OffsetDateTime) -> FlowView {
        let step = match &flow.state {
            FlowState::Identify => StepView::Identify,
            FlowState::Authenticate {
                step,
                attempts,
                prompt,
                kept,
                alternatives,
            } => {
                let kind = prompt.kind();
                let step_left = self.attempts_for(kind).saturating_sub(*attempts);
                let counts = kind.proves_identity();
                let block_minutes =
                    u32::try_from(self.self_service.block_duration.whole_minutes()).unwrap_or(0);
                // Another code costs one failure of the budget, and the last is kept for
                // an answer.
                let resend_in_secs = factor::implementation(kind)
                    .resend_wait(kept, now, &self.self_service)
                    .filter(|_| name_left > 1)
                    .map(secs_up);
                StepView::Authenticate {
                    index: *step,
                    prompt: prompt.clone(),
                    attempts_left: if counts {
                        step_left.min(name_left)
                    } else {
                        step_left
                    },
                    retry: *attempts > 0,
                    pause_minutes: (counts && name_left <= step_left).then_some(block_minutes),
                    alternatives: alternatives.clone(),
                    resend_in_secs,
                }
            }
            FlowState::ChoosePassword => StepView::ChoosePassword {
                min_chars: self.self_service.min_password_chars,
            },
            FlowState::Done { summary } => StepView::Done {
                summary: summary.clone(),
            },
            FlowState::Failed { reason } => StepView::Failed { failure: *reason },
        };
        FlowView {
            action: flow.action,
            channel: flow.channel,
            total_steps: flow.steps.len(),
            step,
        }
    }

    fn event(
        &self,
        flow: &Flow,
        action: Action,
        subject: Option<Subject>,
        client: IpAddr,
        outcome: Outcome,
        details: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent::anonymous(flow.channel, action, subject, client, outcome, details)
    }

    /// Saves the flow, records the step and commits; answers what the browser shows next
    /// (`name_left`: see [`Self::view`]).
    #[allow(clippy::too_many_arguments)] // one audit record's worth of facts
    async fn finish(
        &self,
        mut tx: Box<dyn Tx>,
        flow: &Flow,
        action: Action,
        subject: Subject,
        client: IpAddr,
        outcome: Outcome,
        details: serde_json::Value,
        name_left: u32,
        now: OffsetDateTime,
    ) -> Result<FlowView, CoreError> {
        tx.save_flow(flow).await?;
        let event = self.event(flow, action, Some(subject), client, outcome, details);
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(self.view(flow, name_left, now))
    }

    /// Starts a flow for `action` on `channel`.
    pub async fn start_flow(
        &self,
        action: FlowAction,
        channel: Channel,
        client: IpAddr,
    ) -> Result<(FlowToken, FlowView), CoreError> {
        self.count_request(client).await?;
        let steps = self.read().await?.auth_flow(channel).await?;
        let now = self.clock.now();
        let token = FlowToken::generate(self.random.as_ref());
        let flow = Flow {
            id_hash: token.id_hash(),
            action,
            channel,
            steps,
            account: None,
            subject_name: None,
            state: FlowState::Identify,
            created_at: now,
            expires_at: now + self.self_service.flow_lifetime,
        };
        let mut tx = self.store.begin().await?;
        // Housekeeping while holding the lock anyway: flows, captchas and per-client
        // limits long past use.
        tx.purge_expired(now).await?;
        tx.forget_spent_limits(now).await?;
        tx.create_flow(&flow, &client.to_string()).await?;
        let details = json!({ "action": action.as_str(), "steps": flow.steps.iter().map(|s| s.as_str()).collect::<Vec<_>>() });
        tx.append_audit(
            &self.event(
                &flow,
                Action::SelfServiceStart,
                None,
                client,
                Outcome::Success,
                details,
            ),
            now,
        )
        .await?;
        tx.commit().await?;
        let all = self.self_service.max_failures;
        Ok((token, self.view(&flow, all, now)))
    }

    /// The current state of a flow (e.g. after the page was reloaded, or the browser
    /// discarded the tab while the person read their mail).
    pub async fn flow_view(&self, token: &FlowToken) -> Result<FlowView, CoreError> {
        let mut read = self.read().await?;
        let flow = read
            .flow(&token.id_hash())
            .await?
            .ok_or(FlowError::Expired)?;
        let now = self.clock.now();
        if now >= flow.expires_at {
            return Err(FlowError::Expired.into());
        }
        let throttle = read
            .throttle(flow.subject_name.as_deref().unwrap_or_default())
            .await?;
        Ok(self.view(&flow, throttle.remaining(&self.self_service, now), now))
    }

    /// Loads an open flow under the write lock.
    async fn open_flow(
        &self,
        tx: &mut dyn Tx,
        token: &FlowToken,
        now: OffsetDateTime,
    ) -> Result<Flow, CoreError> {
        let flow = tx.flow(&token.id_hash()).await?.ok_or(FlowError::Expired)?;
        flow.ensure_open(now)?;
        Ok(flow)
    }

    /// Who the flow is about, read fresh. Only active accounts are real subjects.
    pub(crate) async fn subject_of<R: AccountsRead + ?Sized>(
        &self,
        read: &mut R,
        flow: &Flow,
    ) -> Result<FlowSubject, CoreError> {
        let account = match flow.account {
            Some(id) => read.account(id).await?,
            None => None,
        };
        Ok(match account {
            Some(a) if a.status == AccountStatus::Active => FlowSubject::Account(Box::new(a)),
            _ => FlowSubject::Unknown {
                name: flow.subject_name.clone().unwrap_or_default(),
            },
        })
    }

    /// The factor's check of `answer` that needs the password hasher, made before the
    /// transaction against the flow as it is now; `None` when the factor has none, or
    /// when the flow cannot take the answer (the transaction then says why). Each read
    /// connection is given back before any hash.
    async fn check_ahead(
        &self,
        token: &FlowToken,
        step: usize,
        answer: &Answer,
    ) -> Result<Option<(FlowState, Checked)>, CoreError> {
        let (flow, subject) = {
            let mut read = self.read().await?;
            let Some(flow) = read.flow(&token.id_hash()).await? else {
                return Ok(None);
            };
            let subject = self.subject_of(read.as_mut(), &flow).await?;
            (flow, subject)
        };
        if flow.ensure_open(self.clock.now()).is_err() {
            return Ok(None);
        }
        let Ok((_, kept)) = flow.expect_step(step, answer.kind()) else {
            return Ok(None);
        };
        let cx = AheadContext {
            store: self.store.as_ref(),
            subject: &subject,
            hasher: &self.hasher,
        };
        let checked = factor::implementation(answer.kind())
            .check_ahead(&cx, kept, answer)
            .await?;
        Ok(checked.map(|c| (flow.state.clone(), c)))
    }

    /// Prepares step `index` with its configured factor and moves the flow to it; the
    /// channel's flow says which factors the person may answer there instead.
    pub(crate) async fn enter_step(
        &self,
        tx: &mut dyn Tx,
        flow: &mut Flow,
        subject: &FlowSubject,
        index: usize,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let kind = *flow
            .steps
            .get(index)
            .ok_or_else(|| CoreError::Internal("flow step out of range".into()))?;
        let alternatives = tx
            .auth_flow_alternatives(FlowScope::from(flow.channel))
            .await?
            .into_iter()
            .filter(|(f, _)| *f == kind)
            .map(|(_, alt)| alt)
            .collect();
        self.ask(tx, flow, subject, index, kind, alternatives, now)
            .await
    }

    /// Prepares factor `kind` at step `index` (which may be switched to `alternatives`).
    #[allow(clippy::too_many_arguments)] // the step, what it asks, and the moment
    async fn ask(
        &self,
        tx: &mut dyn Tx,
        flow: &mut Flow,
        subject: &FlowSubject,
        index: usize,
        kind: FactorKind,
        alternatives: Vec<FactorKind>,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let implementation = factor::implementation(kind);
        let mut cx = FactorContext {
            tx,
            subject,
            action: flow.action,
            now,
            keys: &self.keys,
            random: self.random.as_ref(),
            settings: &self.self_service,
            ahead: None,
        };
        let (prompt, kept) = implementation.prepare(&mut cx).await?;
        flow.state = FlowState::Authenticate {
            step: index,
            attempts: 0,
            prompt,
            kept,
            alternatives,
        };
        Ok(())
    }

    /// Identify: the person types their username.
    pub async fn identify(
        &self,
        token: &FlowToken,
        name: &str,
        client: IpAddr,
    ) -> Result<FlowView, CoreError> {
        self.count_request(client).await?;
        let name = AccountName::parse("username", name)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut flow = self.open_flow(tx.as_mut(), token, now).await?;
        flow.expect_identify()?;
        let account = tx.account_by_name(&name).await?;
        let subject_name = match (&account, &name.store) {
            (Some(a), _) => a.qualified_name(),
            (None, Some(store)) => format!("{store}\\{}", name.username),
            (None, None) => match tx.default_store_name().await? {
                Some(store) => format!("{store}\\{}", name.username),
                None => name.username.to_string(),
            },
        };
        flow.account = account.as_ref().map(|a| a.id);
        flow.subject_name = Some(subject_name.clone());
        let subject = self.subject_of(tx.as_mut(), &flow).await?;
        let audit_subject = Subject {
            account: flow.account,
            name: subject_name.clone(),
        };
        let throttle = tx.throttle(&subject_name).await?;
        let (outcome, details) = if let Some(until) = throttle.blocked(now) {
            flow.state = blocked(until, None);
            (
                Outcome::Failure,
                json!({ "reason": "self_service_blocked" }),
            )
        } else {
            self.enter_step(tx.as_mut(), &mut flow, &subject, 0, now)
                .await?;
            let known = matches!(subject, FlowSubject::Account(_));
            (Outcome::Success, json!({ "known": known }))
        };
        let name_left = throttle.remaining(&self.self_service, now);
        self.finish(
            tx,
            &flow,
            Action::SelfServiceIdentify,
            audit_subject,
            client,
            outcome,
            details,
            name_left,
            now,
        )
        .await
    }

    /// Answers step `step` of the flow.
    pub async fn respond(
        &self,
        token: &FlowToken,
        step: usize,
        answer: &Answer,
        client: IpAddr,
    ) -> Result<FlowView, CoreError> {
        self.count_request(client).await?;
        let kind = answer.kind();
        let implementation = factor::implementation(kind);
        // Hash first (security answers), then open the transaction: no lock waits for
        // Argon2. What was checked must still be the flow's state under the lock.
        let ahead = self.check_ahead(token, step, answer).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut flow = self.open_flow(tx.as_mut(), token, now).await?;
        let kept = flow.expect_step(step, kind)?.1.clone();
        if ahead.as_ref().is_some_and(|(seen, _)| *seen != flow.state) {
            return Err(FlowError::OutOfOrder.into());
        }
        let subject = self.subject_of(tx.as_mut(), &flow).await?;
        let subject_name = flow.subject_name.clone().unwrap_or_default();
        let audit_subject = Subject {
            account: flow.account,
            name: subject_name.clone(),
        };

        let throttle = tx.throttle(&subject_name).await?;
        if let Some(until) = throttle.blocked(now) {
            flow.state = blocked(until, None);
            let details = json!({ "factor": kind.as_str(), "reason": "self_service_blocked" });
            return self
                .finish(
                    tx,
                    &flow,
                    Action::SelfServiceStep,
                    audit_subject,
                    client,
                    Outcome::Failure,
                    details,
                    0,
                    now,
                )
                .await;
        }
        let mut name_left = throttle.remaining(&self.self_service, now);

        let verdict = {
            let mut cx = FactorContext {
                tx: tx.as_mut(),
                subject: &subject,
                action: flow.action,
                now,
                keys: &self.keys,
                random: self.random.as_ref(),
                settings: &self.self_service,
                ahead: ahead.as_ref().map(|(_, checked)| checked),
            };
            implementation.verify(&mut cx, &kept, answer).await?
        };

        let mut details = json!({ "factor": kind.as_str(), "step": step + 1 });
        match verdict {
            Verdict::Passed => match flow.after_passing(step) {
                Next::Step(next) => {
                    self.enter_step(tx.as_mut(), &mut flow, &subject, next, now)
                        .await?
                }
                Next::Act | Next::ChoosePassword => match &subject {
                    // Only a real account gets here: decoys cannot pass an identity factor.
                    FlowSubject::Account(account) => {
                        tx.save_throttle(&subject_name, &Throttle::default())
                            .await?;
                        if flow.after_passing(step) == Next::Act {
                            let summary = self
                                .act_unlock(tx.as_mut(), &flow, account, client, now)
                                .await?;
                            flow.state = FlowState::Done { summary };
                        } else {
                            flow.state = FlowState::ChoosePassword;
                        }
                    }
                    FlowSubject::Unknown { .. } => {
                        flow.state = FlowState::Failed {
                            reason: FailReason::NotVerified { factor: Some(kind) },
                        }
                    }
                },
            },
            // Nothing was guessed: no failure is counted against anyone.
            Verdict::Spent => {
                flow.state = FlowState::Failed {
                    reason: FailReason::CodeExpired,
                };
                details["reason"] = json!("code_expired");
            }
            Verdict::Wrong => {
                // A failed captcha says nothing about the account; only identity factors
                // count against it. Every failure counts against the client.
                self.count_failure_in(tx.as_mut(), client, now).await?;
                let mut blocked_until = None;
                if kind.proves_identity() {
                    let (next, now_blocked) = throttle.fail(&self.self_service, now);
                    tx.save_throttle(&subject_name, &next).await?;
                    name_left = next.remaining(&self.self_service, now);
                    if now_blocked {
                        blocked_until = next.blocked_until;
                        if let FlowSubject::Account(account) = &subject {
                            self.lock_for_self_service_failures(
                                tx.as_mut(),
                                &flow,
                                account,
                                client,
                                now,
                            )
                            .await?;
                        }
                    }
                }
                flow.state = match blocked_until {
                    Some(until) => blocked(until, Some(kind)),
                    None => flow.after_failing(self.attempts_for(kind)),
                };
                details["reason"] = json!(if blocked_until.is_some() {
                    "blocked"
                } else {
                    "wrong_answer"
                });
            }
        }
        let outcome = if verdict == Verdict::Passed {
            Outcome::Success
        } else {
            Outcome::Failure
        };
        self.finish(
            tx,
            &flow,
            Action::SelfServiceStep,
            audit_subject,
            client,
            outcome,
            details,
            name_left,
            now,
        )
        .await
    }

    /// "Send a new code": replaces the code of step `step` (the old one stops working)
    /// once `self_service.code_resend_after` has passed. Each new code counts as one
    /// failure against the name, so codes cannot be asked for without end; the last try
    /// of the name's budget is kept for an answer. Real and unknown names alike.
    pub async fn resend_code(
        &self,
        token: &FlowToken,
        step: usize,
        client: IpAddr,
    ) -> Result<FlowView, CoreError> {
        self.count_request(client).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut flow = self.open_flow(tx.as_mut(), token, now).await?;
        let kind = flow.current_factor().ok_or(FlowError::OutOfOrder)?;
        let kept = flow.expect_step(step, kind)?.1.clone();
        let implementation = factor::implementation(kind);
        let wait = implementation
            .resend_wait(&kept, now, &self.self_service)
            .ok_or_else(|| Invalid::new("step", "This step does not send codes."))?;
        let subject = self.subject_of(tx.as_mut(), &flow).await?;
        let subject_name = flow.subject_name.clone().unwrap_or_default();
        let audit_subject = Subject {
            account: flow.account,
            name: subject_name.clone(),
        };
        let throttle = tx.throttle(&subject_name).await?;
        if let Some(until) = throttle.blocked(now) {
            flow.state = blocked(until, None);
            let details = json!({ "factor": kind.as_str(), "reason": "self_service_blocked" });
            return self
                .finish(
                    tx,
                    &flow,
                    Action::SelfServiceResendCode,
                    audit_subject,
                    client,
                    Outcome::Failure,
                    details,
                    0,
                    now,
                )
                .await;
        }
        if wait > time::Duration::ZERO {
            return Err(Invalid::new(
                "step",
                format!("You can ask for a new code in {} seconds.", secs_up(wait)),
            )
            .into());
        }
        if throttle.remaining(&self.self_service, now) <= 1 {
            return Err(Invalid::new(
                "step",
                "No more codes can be sent now. Enter the code you have, or contact your help desk.",
            )
            .into());
        }
        let (next, _) = throttle.fail(&self.self_service, now);
        tx.save_throttle(&subject_name, &next).await?;
        let kept = {
            let mut cx = FactorContext {
                tx: tx.as_mut(),
                subject: &subject,
                action: flow.action,
                now,
                keys: &self.keys,
                random: self.random.as_ref(),
                settings: &self.self_service,
                ahead: None,
            };
            implementation
                .resend(&mut cx, &kept)
                .await?
                .ok_or(FlowError::OutOfOrder)?
        };
        if let FlowState::Authenticate { kept: k, .. } = &mut flow.state {
            *k = kept;
        }
        let details = json!({ "factor": kind.as_str(), "step": step + 1 });
        self.finish(
            tx,
            &flow,
            Action::SelfServiceResendCode,
            audit_subject,
            client,
            Outcome::Success,
            details,
            next.remaining(&self.self_service, now),
            now,
        )
        .await
    }

    /// Answers step `step` with `to` instead of its factor, where the channel's flow
    /// allows it ("Use security questions instead"). Once per step: there is no way
    /// back, so switching cannot be used to have codes sent without counting.
    pub async fn switch_factor(
        &self,
        token: &FlowToken,
        step: usize,
        to: FactorKind,
        client: IpAddr,
    ) -> Result<FlowView, CoreError> {
        self.count_request(client).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut flow = self.open_flow(tx.as_mut(), token, now).await?;
        flow.expect_switch(step, to)?;
        let from = flow.current_factor();
        let subject = self.subject_of(tx.as_mut(), &flow).await?;
        let subject_name = flow.subject_name.clone().unwrap_or_default();
        let audit_subject = Subject {
            account: flow.account,
            name: subject_name.clone(),
        };
        let throttle = tx.throttle(&subject_name).await?;
        let mut details = json!({
            "step": step + 1,
            "from": from.map(FactorKind::as_str),
            "to": to.as_str(),
        });
        let outcome = if let Some(until) = throttle.blocked(now) {
            flow.state = blocked(until, None);
            details["reason"] = json!("self_service_blocked");
            Outcome::Failure
        } else {
            self.ask(tx.as_mut(), &mut flow, &subject, step, to, Vec::new(), now)
                .await?;
            Outcome::Success
        };
        self.finish(
            tx,
            &flow,
            Action::SelfServiceSwitchFactor,
            audit_subject,
            client,
            outcome,
            details,
            throttle.remaining(&self.self_service, now),
            now,
        )
        .await
    }

    /// Locks the account with reason "Self-service failures" for the block duration.
    async fn lock_for_self_service_failures(
        &self,
        tx: &mut dyn Tx,
        flow: &Flow,
        account: &Account,
        client: IpAddr,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let Some((fresh, policy)) = tx.account_with_policy(account.id).await? else {
            return Ok(());
        };
        let event = LockEvent::Lock {
            reason: LockReason::SelfServiceFailures,
            expires_at: Some(now + self.self_service.block_duration),
        };
        let t = apply(&policy, &fresh.lock, event, now);
        if t.locked_now {
            tx.save_lock_state(account.id, &t.state, now).await?;
        }
        let lock = AuditEvent {
            actor: Actor::System("self-service throttle"),
            subject: Some(Subject::account(account)),
            action: Action::Lock,
            channel: AuditChannel::from(flow.channel),
            client: Some(client),
            outcome: Outcome::Success,
            details: json!({
                "lock_reason": LockReason::SelfServiceFailures.as_str(),
                "self_service_blocked_until": (now + self.self_service.block_duration).unix_timestamp(),
                "account_lock_changed": t.locked_now,
            }),
        };
        tx.append_audit(&lock, now).await?;
        // Tell the owner: if it was not them, someone is guessing their answers.
        let links = self.not_me_link(tx, account.id, now).await?;
        let mail = Notification::SelfServiceBlocked {
            until: now + self.self_service.block_duration,
            channel: flow.channel,
            links: Some(links),
        };
        let mail = self.outgoing(Recipient::owner_of(&fresh), fresh.organisation_id, mail);
        tx.enqueue_notification(&mail, now).await?;
        Ok(())
    }

    fn unlocked_by(flow: &Flow) -> String {
        format!("self-service ({})", flow.channel.as_str())
    }

    /// Unlock: clears the lock, records who, reports whether there was anything to do.
    async fn act_unlock(
        &self,
        tx: &mut dyn Tx,
        flow: &Flow,
        account: &Account,
        client: IpAddr,
        now: OffsetDateTime,
    ) -> Result<Summary, CoreError> {
        let (fresh, policy) = tx
            .account_with_policy(account.id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let was_locked = fresh.lock.is_locked(now);
        // Over the organisation's cap of self-service unlocks: no unlock, a support
        // request instead (decided under the account's lock, so parallel flows open one).
        if was_locked {
            let capped = self
                .self_unlock_capped(tx, &fresh, &Self::unlocked_by(flow), now)
                .await?;
            if let Some(reference) = capped {
                let event = self.event(
                    flow,
                    Action::Unlock,
                    Some(Subject::account(account)),
                    client,
                    Outcome::Failure,
                    json!({
                        "was_locked": true,
                        "by": Self::unlocked_by(flow),
                        "reason": "self_unlock_cap",
                        "support_request": reference,
                    }),
                );
                tx.append_audit(&event, now).await?;
                return Ok(Summary {
                    action: flow.action,
                    was_locked: true,
                    unlocked: false,
                    password_changed: false,
                    sessions_ended: 0,
                    email_queued: true,
                    support_request: Some(reference),
                });
            }
        }
        let t = apply(
            &policy,
            &fresh.lock,
            LockEvent::Unlock {
                by: Self::unlocked_by(flow),
            },
            now,
        );
        if t.state != fresh.lock {
            tx.save_lock_state(account.id, &t.state, now).await?;
        }
        if t.unlocked_now {
            tx.record_self_unlock(account.id, now).await?;
        }
        let event = AuditEvent {
            actor: Actor::Anonymous,
            subject: Some(Subject::account(account)),
            action: Action::Unlock,
            channel: AuditChannel::from(flow.channel),
            client: Some(client),
            outcome: Outcome::Success,
            details: json!({ "was_locked": was_locked, "by": Self::unlocked_by(flow) }),
        };
        tx.append_audit(&event, now).await?;
        // Mail only when something was done: "unlocked" would be untrue otherwise.
        if t.unlocked_now {
            let mail = Notification::AccountUnlocked {
                by: DoneBy::SelfService {
                    channel: flow.channel,
                },
                advise_password_reset: false,
            };
            let mail = self.outgoing(Recipient::owner_of(&fresh), fresh.organisation_id, mail);
            tx.enqueue_notification(&mail, now).await?;
        }
        Ok(Summary {
            action: flow.action,
            was_locked,
            unlocked: t.unlocked_now,
            password_changed: false,
            sessions_ended: 0,
            email_queued: t.unlocked_now,
            support_request: None,
        })
    }

    /// Reset: the new password, after every step has been passed.
    pub async fn choose_password(
        &self,
        token: &FlowToken,
        password: &SecretString,
        confirm: &SecretString,
        client: IpAddr,
    ) -> Result<FlowView, CoreError> {
        use secrecy::ExposeSecret;

        self.count_request(client).await?;
        // Check and hash before taking the write lock: Argon2 takes a while. The read's
        // connection goes back to the pool before the hash, never held across it.
        let account = {
            let mut read = self.read().await?;
            let peek = read
                .flow(&token.id_hash())
                .await?
                .ok_or(FlowError::Expired)?;
            peek.ensure_open(self.clock.now())?;
            peek.expect_choose_password()?;
            match peek.account {
                Some(id) => read.account(id).await?,
                None => None,
            }
            .ok_or(FlowError::Expired)?
        };
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
        let hash = self.hasher.hash(password).await?;

        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let mut flow = self.open_flow(tx.as_mut(), token, now).await?;
        flow.expect_choose_password()?;
        let (fresh, policy) = tx
            .account_with_policy(account.id)
            .await?
            .ok_or(FlowError::Expired)?;
        let was_locked = fresh.lock.is_locked(now);
        tx.set_password(account.id, &hash, false, now).await?;
        let t = apply(
            &policy,
            &fresh.lock,
            LockEvent::Unlock {
                by: Self::unlocked_by(&flow),
            },
            now,
        );
        if t.state != fresh.lock {
            tx.save_lock_state(account.id, &t.state, now).await?;
        }
        let sessions_ended = tx.revoke_sessions_of(account.id, now).await?;
        let event = AuditEvent {
            actor: Actor::Anonymous,
            subject: Some(Subject::account(&account)),
            action: Action::ResetPassword,
            channel: AuditChannel::from(flow.channel),
            client: Some(client),
            outcome: Outcome::Success,
            details: json!({ "was_locked": was_locked, "sessions_ended": sessions_ended }),
        };
        tx.append_audit(&event, now).await?;
        let mail = Notification::PasswordReset {
            by: DoneBy::SelfService {
                channel: flow.channel,
            },
        };
        let mail = self.outgoing(Recipient::owner_of(&fresh), fresh.organisation_id, mail);
        tx.enqueue_notification(&mail, now).await?;
        let summary = Summary {
            action: flow.action,
            was_locked,
            unlocked: t.unlocked_now,
            password_changed: true,
            sessions_ended,
            email_queued: true,
            support_request: None,
        };
        flow.state = FlowState::Done { summary };
        tx.save_flow(&flow).await?;
        tx.commit().await?;
        Ok(self.view(&flow, self.self_service.max_failures, now))
    }
}

/// The end of a flow for a name whose self-service is blocked until `until`; `factor`
/// is the one whose wrong answer blocked it, if that happened in this flow.
pub(crate) fn blocked(until: OffsetDateTime, factor: Option<FactorKind>) -> FlowState {
    FlowState::Failed {
        reason: FailReason::Blocked {
            until: until.unix_timestamp(),
            factor,
        },
    }
}
