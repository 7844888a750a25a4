//! Authentication factors for the self-service flow. Each factor is a module with one
//! implementation of [`Factor`]; the flow engine (`crate::flow`) only ever talks to the
//! trait. A new factor is a new module, a [`FactorKind`] variant, its [`Prompt`] and
//! [`Response`] variants, and a line in [`factor`].

pub mod captcha;
pub mod email_code;
pub mod questions;
pub mod totp;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::Account;
use crate::error::CoreError;
use crate::flow::FlowAction;
use crate::keys::Keys;
use crate::password::PasswordHasher;
use crate::random::Random;
use crate::selfservice::SelfServiceSettings;
use crate::store::Tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKind {
    Captcha,
    SecurityQuestions,
    EmailCode,
    Totp,
}

impl FactorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FactorKind::Captcha => "captcha",
            FactorKind::SecurityQuestions => "security_questions",
            FactorKind::EmailCode => "email_code",
            FactorKind::Totp => "totp",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "captcha" => Some(Self::Captcha),
            "security_questions" => Some(Self::SecurityQuestions),
            "email_code" => Some(Self::EmailCode),
            "totp" => Some(Self::Totp),
            _ => None,
        }
    }

    /// Whether passing this factor says anything about *who* someone is. A captcha only
    /// says they are a person, so a flow needs at least one factor that proves identity.
    pub fn proves_identity(self) -> bool {
        !matches!(self, FactorKind::Captcha)
    }
}

/// What a step shows the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    Captcha {
        challenge: captcha::Challenge,
    },
    SecurityQuestions {
        questions: Vec<String>,
    },
    /// A code went to the registered address — if the name is real. Nothing about the
    /// address is shown before identity is proved (see `email_code`).
    EmailCode {
        valid_minutes: u32,
    },
    Totp,
}

/// What the person answers to a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    Captcha { solution: captcha::Solution },
    SecurityQuestions { answers: Vec<String> },
    EmailCode { code: String },
    Totp { code: String },
}

impl Response {
    pub fn kind(&self) -> FactorKind {
        match self {
            Response::Captcha { .. } => FactorKind::Captcha,
            Response::SecurityQuestions { .. } => FactorKind::SecurityQuestions,
            Response::EmailCode { .. } => FactorKind::EmailCode,
            Response::Totp { .. } => FactorKind::Totp,
        }
    }
}

/// What checking an answer came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// A wrong answer: the step may be tried again while attempts are left.
    Wrong,
    /// The step can no longer be passed, whatever is typed (an emailed code expired): the
    /// flow ends rather than saying "try again" to someone who cannot succeed.
    Spent,
}

/// Whom a flow is about: a real account, or only the name someone typed. An unknown
/// name walks the same steps (with decoys) and fails at the end, like a wrong answer.
#[derive(Debug, Clone)]
pub enum FlowSubject {
    Account(Box<Account>),
    Unknown { name: String },
}

impl FlowSubject {
    pub fn account(&self) -> Option<&Account> {
        match self {
            FlowSubject::Account(a) => Some(a),
            FlowSubject::Unknown { .. } => None,
        }
    }

    /// The name decoys are derived from: the same for every flow about this name.
    pub fn decoy_seed(&self) -> String {
        match self {
            FlowSubject::Account(a) => a.qualified_name(),
            FlowSubject::Unknown { name } => name.clone(),
        }
    }
}

/// Everything a factor may use while preparing or checking a step.
pub struct FactorContext<'a> {
    pub tx: &'a mut dyn Tx,
    pub subject: &'a FlowSubject,
    /// What the flow is for (a code's email says so).
    pub action: FlowAction,
    pub now: OffsetDateTime,
    pub keys: &'a Keys,
    pub random: &'a dyn Random,
    pub hasher: &'a PasswordHasher,
    pub settings: &'a SelfServiceSettings,
}

#[async_trait]
pub trait Factor: Send + Sync {
    fn kind(&self) -> FactorKind;

    /// Wrong answers this step allows before the flow fails.
    fn max_attempts(&self, settings: &SelfServiceSettings) -> u32 {
        settings.attempts_per_step
    }

    /// Sets the step up when the flow reaches it (choose questions, issue a challenge,
    /// send a code). Returns what to show and the state to keep, server-side, in the flow.
    async fn prepare(
        &self,
        cx: &mut FactorContext<'_>,
    ) -> Result<(Prompt, serde_json::Value), CoreError>;

    /// Checks the answer against the kept state. `Err(Invalid)` is malformed input,
    /// which costs no attempt.
    async fn verify(
        &self,
        cx: &mut FactorContext<'_>,
        state: &serde_json::Value,
        response: &Response,
    ) -> Result<Verdict, CoreError>;
}

/// The implementation of a factor kind.
pub fn factor(kind: FactorKind) -> Option<&'static dyn Factor> {
    match kind {
        FactorKind::Captcha => Some(&captcha::CaptchaFactor),
        FactorKind::SecurityQuestions => Some(&questions::QuestionsFactor),
        FactorKind::Totp => Some(&totp::TotpFactor),
        FactorKind::EmailCode => Some(&email_code::EmailCodeFactor),
    }
}

/// Reads a factor's kept state back; a mismatch means the flow row was tampered with.
pub(crate) fn state<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, CoreError> {
    serde_json::from_value(value.clone())
        .map_err(|e| CoreError::Internal(format!("unreadable factor state: {e}")))
}
