//! The self-service flow as an explicit state machine:
//!
//! ```text
//! Identify ──► Authenticate(step 0) ──► … ──► Authenticate(step n-1) ──┬─► Done        (unlock)
//!                 │  wrong answer: same step, one attempt fewer        └─► ChoosePassword ──► Done (reset)
//!                 └─ attempts spent, code expired, or self-service blocked ──► Failed
//! ```
//!
//! A step whose factor has alternatives (the channel's flow allows e.g. security
//! questions instead of an emailed code) may be switched to one of them, once; the step
//! then asks the alternative, with its own attempts.
//!
//! The flow lives on the server under an opaque random id that is all the browser holds.
//! Every request names the step it answers; anything but the current step is refused, so
//! a step cannot be skipped, repeated or reordered, and a finished or failed flow accepts
//! nothing. The transitions here are pure; `crate::selfservice` runs them with the store
//! and the factors.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use latchkey_types::{Channel, FactorKind, Prompt};
pub use latchkey_types::{FailReason, FlowAction, Summary};

use crate::account::AccountId;
use crate::error::FlowError;
use crate::token::Token;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FlowState {
    /// Waiting for the username.
    Identify,
    /// Waiting for the answer to `steps[step]`.
    Authenticate {
        step: usize,
        /// Wrong answers so far at this step.
        attempts: u32,
        prompt: Prompt,
        /// The factor's private state (e.g. which questions were asked).
        kept: serde_json::Value,
        /// Factors this step may still be switched to.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        alternatives: Vec<FactorKind>,
    },
    /// Identity confirmed for a reset: waiting for the new password.
    ChoosePassword,
    Done {
        summary: Summary,
    },
    Failed {
        reason: FailReason,
    },
}

/// A flow as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub id_hash: String,
    pub action: FlowAction,
    pub channel: Channel,
    /// The channel's factors, fixed when the flow starts. The factor a step asks is its
    /// prompt's (a step may be switched to an alternative).
    pub steps: Vec<FactorKind>,
    /// The account, once identified and if it exists.
    pub account: Option<AccountId>,
    /// The name as resolved (`STORE\user`), once identified; also for unknown names.
    pub subject_name: Option<String>,
    pub state: FlowState,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// What a flow token is for (see [`Token`]).
pub struct FlowUse;

/// The secret the browser holds for a flow.
pub type FlowToken = Token<FlowUse>;

/// Where the flow goes once the current step is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Prepare and ask `steps[index]`.
    Step(usize),
    /// All steps passed: for an unlock, act now.
    Act,
    /// All steps passed: for a reset, ask for the new password.
    ChoosePassword,
}

impl Flow {
    /// Refuses any request to a flow past its expiry or already ended.
    pub fn ensure_open(&self, now: OffsetDateTime) -> Result<(), FlowError> {
        if matches!(
            self.state,
            FlowState::Done { .. } | FlowState::Failed { .. }
        ) {
            return Err(FlowError::Finished);
        }
        if now >= self.expires_at {
            return Err(FlowError::Expired);
        }
        Ok(())
    }

    /// The flow must be waiting for the username.
    pub fn expect_identify(&self) -> Result<(), FlowError> {
        match self.state {
            FlowState::Identify => Ok(()),
            _ => Err(FlowError::OutOfOrder),
        }
    }

    /// The flow must be waiting for an answer of `kind` at step `step`; returns the
    /// attempts so far and the factor's kept state.
    pub fn expect_step(
        &self,
        step: usize,
        kind: FactorKind,
    ) -> Result<(u32, &serde_json::Value), FlowError> {
        match &self.state {
            FlowState::Authenticate {
                step: current,
                attempts,
                kept,
                prompt,
                ..
            } if *current == step && prompt.kind() == kind => Ok((*attempts, kept)),
            _ => Err(FlowError::OutOfOrder),
        }
    }

    /// The factor the current step asks, if the flow is at one.
    pub fn current_factor(&self) -> Option<FactorKind> {
        match &self.state {
            FlowState::Authenticate { prompt, .. } => Some(prompt.kind()),
            _ => None,
        }
    }

    /// The flow must be at step `step`, and `to` one of its alternatives.
    pub fn expect_switch(&self, step: usize, to: FactorKind) -> Result<(), FlowError> {
        match &self.state {
            FlowState::Authenticate {
                step: current,
                alternatives,
                ..
            } if *current == step && alternatives.contains(&to) => Ok(()),
            _ => Err(FlowError::OutOfOrder),
        }
    }

    pub fn expect_choose_password(&self) -> Result<(), FlowError> {
        match self.state {
            FlowState::ChoosePassword => Ok(()),
            _ => Err(FlowError::OutOfOrder),
        }
    }

    /// Where to go after passing step `step`.
    pub fn after_passing(&self, step: usize) -> Next {
        if step + 1 < self.steps.len() {
            Next::Step(step + 1)
        } else {
            match self.action {
                FlowAction::Unlock => Next::Act,
                FlowAction::ResetPassword => Next::ChoosePassword,
            }
        }
    }

    /// After a wrong answer: the same step with one attempt fewer, or failed when none
    /// are left.
    pub fn after_failing(&self, max_attempts: u32) -> FlowState {
        match &self.state {
            FlowState::Authenticate {
                step,
                attempts,
                prompt,
                kept,
                alternatives,
            } if attempts + 1 < max_attempts => FlowState::Authenticate {
                step: *step,
                attempts: attempts + 1,
                prompt: prompt.clone(),
                kept: kept.clone(),
                alternatives: alternatives.clone(),
            },
            _ => FlowState::Failed {
                reason: FailReason::NotVerified {
                    factor: self.current_factor(),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);

    fn flow(action: FlowAction, state: FlowState) -> Flow {
        Flow {
            id_hash: "h".into(),
            action,
            channel: Channel::Web,
            steps: vec![FactorKind::Captcha, FactorKind::SecurityQuestions],
            account: None,
            subject_name: None,
            state,
            created_at: T0,
            expires_at: T0 + time::Duration::minutes(10),
        }
    }

    fn at(step: usize, attempts: u32) -> FlowState {
        let prompt = if step == 0 {
            Prompt::Captcha {
                challenge: latchkey_types::CaptchaChallenge {
                    algorithm: "SHA-256".into(),
                    challenge: "ab".into(),
                    maxnumber: 1000,
                    salt: "s".into(),
                    signature: "cd".into(),
                },
            }
        } else {
            Prompt::SecurityQuestions {
                questions: vec!["Q?".into()],
            }
        };
        FlowState::Authenticate {
            step,
            attempts,
            prompt,
            kept: serde_json::json!({}),
            alternatives: Vec::new(),
        }
    }

    #[test]
    fn steps_are_taken_in_order_only() {
        let f = flow(FlowAction::Unlock, at(0, 0));
        assert!(f.expect_step(0, FactorKind::Captcha).is_ok());
        assert_eq!(
            f.expect_step(1, FactorKind::SecurityQuestions),
            Err(FlowError::OutOfOrder),
            "skip"
        );
        assert_eq!(
            f.expect_step(0, FactorKind::SecurityQuestions),
            Err(FlowError::OutOfOrder),
            "wrong factor"
        );
        assert_eq!(
            f.expect_identify(),
            Err(FlowError::OutOfOrder),
            "back to the start"
        );
        assert_eq!(f.expect_choose_password(), Err(FlowError::OutOfOrder));
    }

    #[test]
    fn passing_the_last_step_acts_or_asks_for_a_password() {
        assert_eq!(
            flow(FlowAction::Unlock, at(0, 0)).after_passing(0),
            Next::Step(1)
        );
        assert_eq!(
            flow(FlowAction::Unlock, at(1, 0)).after_passing(1),
            Next::Act
        );
        assert_eq!(
            flow(FlowAction::ResetPassword, at(1, 0)).after_passing(1),
            Next::ChoosePassword
        );
    }

    #[test]
    fn attempts_run_out() {
        let f = flow(FlowAction::Unlock, at(1, 1));
        assert_eq!(f.after_failing(3), at(1, 2));
        let f = flow(FlowAction::Unlock, at(1, 2));
        assert_eq!(
            f.after_failing(3),
            FlowState::Failed {
                reason: FailReason::NotVerified {
                    factor: Some(FactorKind::SecurityQuestions)
                }
            }
        );
    }

    #[test]
    fn a_step_switches_only_to_its_own_alternatives() {
        let mut f = flow(FlowAction::Unlock, at(1, 0));
        assert_eq!(
            f.expect_switch(1, FactorKind::EmailCode),
            Err(FlowError::OutOfOrder),
            "no alternatives"
        );
        if let FlowState::Authenticate { alternatives, .. } = &mut f.state {
            alternatives.push(FactorKind::EmailCode);
        }
        assert_eq!(f.expect_switch(1, FactorKind::EmailCode), Ok(()));
        assert_eq!(
            f.expect_switch(0, FactorKind::EmailCode),
            Err(FlowError::OutOfOrder)
        );
        assert_eq!(
            f.expect_switch(1, FactorKind::Totp),
            Err(FlowError::OutOfOrder)
        );
    }

    #[test]
    fn ended_and_expired_flows_take_nothing() {
        let done = flow(
            FlowAction::Unlock,
            FlowState::Failed {
                reason: FailReason::NotVerified { factor: None },
            },
        );
        assert_eq!(done.ensure_open(T0), Err(FlowError::Finished));
        let open = flow(FlowAction::Unlock, FlowState::Identify);
        assert_eq!(open.ensure_open(T0 + time::Duration::minutes(9)), Ok(()));
        assert_eq!(
            open.ensure_open(T0 + time::Duration::minutes(10)),
            Err(FlowError::Expired)
        );
    }
}
