//! Authentication factors for the self-service flow. Each factor is a module with one
//! implementation of [`Factor`]; the flow engine (`crate::flow`) only ever talks to the
//! trait. A new factor is a new module, a [`FactorKind`] variant, its [`Prompt`] and
//! [`Answer`] variants (in `latchkey-types`), and a line in [`factor`].

pub mod captcha;
pub mod email_code;
pub mod questions;
mod registry;
pub mod totp;

pub use registry::implementation;

use async_trait::async_trait;
pub use latchkey_types::{Answer, FactorKind, Prompt};
use time::OffsetDateTime;

use crate::account::Account;
use crate::error::CoreError;
use crate::flow::FlowAction;
use crate::keys::Keys;
use crate::password::PasswordHasher;
use crate::random::Random;
use crate::settings::SelfServiceSettings;
use crate::store::{Store, Tx};

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

/// Everything a factor may use while preparing or checking a step, inside the flow's
/// transaction. There is no password hasher here: nothing may hash while the transaction
/// holds its locks (see [`Factor::check_ahead`]).
pub struct FactorContext<'a> {
    pub tx: &'a mut dyn Tx,
    pub subject: &'a FlowSubject,
    /// What the flow is for (a code's email says so).
    pub action: FlowAction,
    pub now: OffsetDateTime,
    pub keys: &'a Keys,
    pub random: &'a dyn Random,
    pub settings: &'a SelfServiceSettings,
    /// What [`Factor::check_ahead`] found for this answer, if the factor checks ahead.
    pub ahead: Option<&'a Checked>,
}

/// What a factor may use to check an answer before the transaction opens: the store for
/// short reads (each connection given back before any hash) and the password hasher.
pub struct AheadContext<'a> {
    pub store: &'a dyn Store,
    pub subject: &'a FlowSubject,
    pub hasher: &'a PasswordHasher,
}

/// The slow part of checking an answer, done before the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub verdict: Verdict,
    /// What the verdict was reached against (e.g. the stored answer hashes), for
    /// [`Factor::verify`] to confirm under the transaction's lock that it still holds.
    pub against: serde_json::Value,
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

    /// Checks what needs the password hasher (Argon2) before the transaction opens, so
    /// that no row lock waits for a hash. Factors that hash nothing answer `None`.
    /// `Err(Invalid)` is malformed input, which costs no attempt.
    async fn check_ahead(
        &self,
        _cx: &AheadContext<'_>,
        _state: &serde_json::Value,
        _answer: &Answer,
    ) -> Result<Option<Checked>, CoreError> {
        Ok(None)
    }

    /// Checks the answer against the kept state (and what [`Factor::check_ahead`] found,
    /// in `cx.ahead`). `Err(Invalid)` is malformed input, which costs no attempt.
    async fn verify(
        &self,
        cx: &mut FactorContext<'_>,
        state: &serde_json::Value,
        answer: &Answer,
    ) -> Result<Verdict, CoreError>;

    /// For a factor that sends something (an emailed code): how long until another may
    /// be sent, given the kept state. `None`: this factor never sends another.
    fn resend_wait(
        &self,
        _state: &serde_json::Value,
        _now: OffsetDateTime,
        _settings: &SelfServiceSettings,
    ) -> Option<time::Duration> {
        None
    }

    /// Sends another (a new code, the old one no longer valid) and answers the new kept
    /// state; `None` if this factor does not send anything.
    async fn resend(
        &self,
        _cx: &mut FactorContext<'_>,
        _state: &serde_json::Value,
    ) -> Result<Option<serde_json::Value>, CoreError> {
        Ok(None)
    }
}

/// Reads a factor's kept state back; a mismatch means the flow row was tampered with.
pub(crate) fn state<T: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
) -> Result<T, CoreError> {
    serde_json::from_value(value.clone())
        .map_err(|e| CoreError::Internal(format!("unreadable factor state: {e}")))
}
