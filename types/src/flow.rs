//! Self-service: *Unlock my account* and *Reset my password*, one step at a time.

use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::text_form;

/// The three ways a person reaches the self-service portal.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    /// A desktop browser at `/`.
    Web,
    /// A phone browser or the installed progressive web app.
    Mobile,
    /// The kiosk page opened from an operating system's sign-in screen.
    Desktop,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Web, Channel::Mobile, Channel::Desktop];
}

/// Which channels an authentication flow applies to: one, or (`all`) every channel
/// that has no flow of its own.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FlowScope {
    All,
    Web,
    Mobile,
    Desktop,
}

impl FlowScope {
    /// The one channel this scope is, if it is not `all`.
    pub fn channel(self) -> Option<Channel> {
        match self {
            FlowScope::All => None,
            FlowScope::Web => Some(Channel::Web),
            FlowScope::Mobile => Some(Channel::Mobile),
            FlowScope::Desktop => Some(Channel::Desktop),
        }
    }
}

impl From<Channel> for FlowScope {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Web => FlowScope::Web,
            Channel::Mobile => FlowScope::Mobile,
            Channel::Desktop => FlowScope::Desktop,
        }
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FlowAction {
    /// *Unlock my account*.
    Unlock,
    /// *Reset my password* (which also unlocks).
    ResetPassword,
}

/// An authentication factor a flow can ask for.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FactorKind {
    Captcha,
    SecurityQuestions,
    EmailCode,
    Totp,
}

impl FactorKind {
    /// Whether passing this factor says anything about *who* someone is. A captcha only
    /// says they are a person, so a flow needs at least one factor that proves identity.
    pub fn proves_identity(self) -> bool {
        !matches!(self, FactorKind::Captcha)
    }
}

text_form!(Channel, FlowScope, FlowAction, FactorKind);

/// A proof-of-work challenge in the ALTCHA format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptchaChallenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// The solved challenge (ALTCHA's payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaptchaSolution {
    pub algorithm: String,
    pub challenge: String,
    /// Any unsigned 64-bit number is read (and is simply a wrong answer above the
    /// challenge's `maxnumber`); `int64` would tell clients the top half is refused.
    #[cfg_attr(feature = "openapi", schema(format = "uint64"))]
    pub number: u64,
    pub salt: String,
    pub signature: String,
}

/// What a step asks.
// Deserialized by hand, in the same JSON form (see `wire` below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "factor", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Prompt {
    Captcha {
        challenge: CaptchaChallenge,
    },
    SecurityQuestions {
        questions: Vec<String>,
    },
    /// A code was emailed to the address registered for this account — if the username
    /// is right. Nothing about the address is shown (that would tell who exists).
    EmailCode {
        /// How long the code works.
        valid_minutes: u32,
    },
    Totp,
}

impl Prompt {
    /// The factor this prompt asks for.
    pub fn kind(&self) -> FactorKind {
        match self {
            Prompt::Captcha { .. } => FactorKind::Captcha,
            Prompt::SecurityQuestions { .. } => FactorKind::SecurityQuestions,
            Prompt::EmailCode { .. } => FactorKind::EmailCode,
            Prompt::Totp => FactorKind::Totp,
        }
    }
}

/// The answer to a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "factor", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Answer {
    Captcha { solution: CaptchaSolution },
    SecurityQuestions { answers: Vec<String> },
    EmailCode { code: String },
    Totp { code: String },
}

impl Answer {
    /// The factor this answers.
    pub fn kind(&self) -> FactorKind {
        match self {
            Answer::Captcha { .. } => FactorKind::Captcha,
            Answer::SecurityQuestions { .. } => FactorKind::SecurityQuestions,
            Answer::EmailCode { .. } => FactorKind::EmailCode,
            Answer::Totp { .. } => FactorKind::Totp,
        }
    }
}

/// What a finished flow did, shown as the summary (web, desktop) or dialog (mobile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub action: FlowAction,
    /// The account was locked when the flow finished.
    pub was_locked: bool,
    /// This flow lifted the lock.
    pub unlocked: bool,
    pub password_changed: bool,
    /// Sessions ended because the password changed.
    pub sessions_ended: u64,
    /// A confirmation email was queued.
    pub email_queued: bool,
    /// The account reached its organisation's cap of self-service unlocks, so instead
    /// of unlocking once more a support request was opened (this reference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_request: Option<String>,
}

/// Why a flow ended without doing anything.
// Deserialized by hand, in the same JSON form (see `wire` below).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FailReason {
    /// Identity not confirmed: wrong answers, or (indistinguishably) an unknown name.
    /// `factor` is the one that was asked, so the page can say "the code did not match"
    /// rather than talk of answers.
    NotVerified {
        #[serde(default)]
        factor: Option<FactorKind>,
    },
    /// Too many failures for this account: self-service is paused until `until` (Unix s)
    /// and the account is locked as long. `factor` is the one whose wrong answer reached
    /// the limit in this attempt; none when the pause began earlier.
    Blocked {
        until: i64,
        #[serde(default)]
        factor: Option<FactorKind>,
    },
    /// The emailed code expired before it was entered; a new attempt sends a new one.
    CodeExpired,
}

/// Where a flow stands, as the browser shows it.
// Deserialized by hand, in the same JSON form (see `wire` below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepView {
    Identify,
    Authenticate {
        /// 0-based index of this step among `total_steps`.
        index: usize,
        prompt: Prompt,
        /// Wrong answers still allowed here: the smaller of the step's own limit and
        /// what is left of the name's limit (`self_service.max_failures`), so the count
        /// never promises tries that would block self-service first.
        attempts_left: u32,
        /// The previous answer to this step was wrong.
        retry: bool,
        /// Set when running out of `attempts_left` reaches the name's limit: self-service
        /// then pauses for this many minutes and the account is locked, instead of only
        /// this attempt ending. The page warns before the last try.
        pause_minutes: Option<u32>,
        /// Factors this step may be answered with instead (the channel's flow allows
        /// them), e.g. security questions instead of an emailed code.
        alternatives: Vec<FactorKind>,
        /// For a step that sends something (an emailed code): a new one can be asked for
        /// in this many seconds (0: now). None: this step cannot send another, or not any
        /// more (each one counts against the name's limit, and the last try is kept for
        /// an answer).
        resend_in_secs: Option<u32>,
    },
    ChoosePassword {
        min_chars: usize,
    },
    Done {
        summary: Summary,
    },
    Failed {
        failure: FailReason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlowView {
    pub action: FlowAction,
    pub channel: Channel,
    pub total_steps: usize,
    pub step: StepView,
}

/// [`Prompt`], [`FailReason`] and [`StepView`] are read through one flat struct each, in
/// the form their `#[serde(tag = …)]` writes: the derived internally tagged deserializers
/// buffer the value and have one deserializer per variant, among the largest functions in
/// the portal's Wasm (issue 16).
mod wire {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};

    use super::{CaptchaChallenge, FactorKind, FailReason, Prompt, StepView, Summary};

    fn need<T, E: Error>(value: Option<T>, name: &'static str) -> Result<T, E> {
        value.ok_or_else(|| E::missing_field(name))
    }

    #[derive(Deserialize)]
    struct PromptWire {
        factor: FactorKind,
        challenge: Option<CaptchaChallenge>,
        questions: Option<Vec<String>>,
        valid_minutes: Option<u32>,
    }

    impl<'de> Deserialize<'de> for Prompt {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let w = PromptWire::deserialize(deserializer)?;
            Ok(match w.factor {
                FactorKind::Captcha => Prompt::Captcha {
                    challenge: need(w.challenge, "challenge")?,
                },
                FactorKind::SecurityQuestions => Prompt::SecurityQuestions {
                    questions: need(w.questions, "questions")?,
                },
                FactorKind::EmailCode => Prompt::EmailCode {
                    valid_minutes: need(w.valid_minutes, "valid_minutes")?,
                },
                FactorKind::Totp => Prompt::Totp,
            })
        }
    }

    #[derive(Deserialize)]
    struct FailReasonWire {
        reason: String,
        factor: Option<FactorKind>,
        until: Option<i64>,
    }

    impl<'de> Deserialize<'de> for FailReason {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let w = FailReasonWire::deserialize(deserializer)?;
            Ok(match w.reason.as_str() {
                "not_verified" => FailReason::NotVerified { factor: w.factor },
                "blocked" => FailReason::Blocked {
                    until: need(w.until, "until")?,
                    factor: w.factor,
                },
                "code_expired" => FailReason::CodeExpired,
                other => {
                    return Err(D::Error::unknown_variant(
                        other,
                        &["not_verified", "blocked", "code_expired"],
                    ))
                }
            })
        }
    }

    #[derive(Deserialize)]
    struct StepViewWire {
        step: String,
        index: Option<usize>,
        prompt: Option<Prompt>,
        attempts_left: Option<u32>,
        retry: Option<bool>,
        pause_minutes: Option<u32>,
        alternatives: Option<Vec<FactorKind>>,
        resend_in_secs: Option<u32>,
        min_chars: Option<usize>,
        summary: Option<Summary>,
        failure: Option<FailReason>,
    }

    impl<'de> Deserialize<'de> for StepView {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let w = StepViewWire::deserialize(deserializer)?;
            Ok(match w.step.as_str() {
                "identify" => StepView::Identify,
                "authenticate" => StepView::Authenticate {
                    index: need(w.index, "index")?,
                    prompt: need(w.prompt, "prompt")?,
                    attempts_left: need(w.attempts_left, "attempts_left")?,
                    retry: need(w.retry, "retry")?,
                    pause_minutes: w.pause_minutes,
                    alternatives: need(w.alternatives, "alternatives")?,
                    resend_in_secs: w.resend_in_secs,
                },
                "choose_password" => StepView::ChoosePassword {
                    min_chars: need(w.min_chars, "min_chars")?,
                },
                "done" => StepView::Done {
                    summary: need(w.summary, "summary")?,
                },
                "failed" => StepView::Failed {
                    failure: need(w.failure, "failure")?,
                },
                other => {
                    return Err(D::Error::unknown_variant(
                        other,
                        &[
                            "identify",
                            "authenticate",
                            "choose_password",
                            "done",
                            "failed",
                        ],
                    ))
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use strum::IntoEnumIterator;

    fn round_trips<T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug>(v: T) {
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v, "{json}");
    }

    #[test]
    fn steps_prompts_and_failures_round_trip_and_bad_forms_are_refused() {
        let prompts = [
            Prompt::SecurityQuestions {
                questions: vec!["First school?".into()],
            },
            Prompt::EmailCode { valid_minutes: 10 },
            Prompt::Totp,
        ];
        for p in prompts.clone() {
            round_trips(p);
        }
        for f in [
            FailReason::NotVerified { factor: None },
            FailReason::NotVerified {
                factor: Some(FactorKind::EmailCode),
            },
            FailReason::Blocked {
                until: 1_700_000_000,
                factor: Some(FactorKind::Totp),
            },
            FailReason::CodeExpired,
        ] {
            round_trips(f);
            round_trips(StepView::Failed { failure: f });
        }
        round_trips(StepView::Identify);
        round_trips(StepView::ChoosePassword { min_chars: 12 });
        for (prompt, pause, resend) in [
            (prompts[0].clone(), None, None),
            (prompts[1].clone(), Some(30), Some(0)),
        ] {
            round_trips(StepView::Authenticate {
                index: 1,
                prompt,
                attempts_left: 2,
                retry: true,
                pause_minutes: pause,
                alternatives: vec![FactorKind::SecurityQuestions],
                resend_in_secs: resend,
            });
        }
        // Optional fields may be left out, as with the derived form.
        let v: StepView = serde_json::from_str(
            r#"{"step":"authenticate","index":0,"prompt":{"factor":"totp"},"attempts_left":3,"retry":false,"alternatives":[]}"#,
        )
        .unwrap();
        assert!(matches!(
            v,
            StepView::Authenticate {
                pause_minutes: None,
                resend_in_secs: None,
                ..
            }
        ));
        let f: FailReason = serde_json::from_str(r#"{"reason":"not_verified"}"#).unwrap();
        assert_eq!(f, FailReason::NotVerified { factor: None });
        for bad in [
            r#"{"step":"authenticate","index":0,"attempts_left":3,"retry":false,"alternatives":[]}"#,
            r#"{"step":"choose_password"}"#,
            r#"{"step":"no_such_step"}"#,
            r#"{"step":"failed","failure":{"reason":"blocked"}}"#,
            r#"{"step":"failed","failure":{"reason":"nope"}}"#,
            r#"{"step":"authenticate","index":0,"prompt":{"factor":"captcha"},"attempts_left":3,"retry":false,"alternatives":[]}"#,
            r#"{"min_chars":12}"#,
        ] {
            assert!(serde_json::from_str::<StepView>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_forms_round_trip_and_match_the_json_forms() {
        for c in Channel::iter() {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for f in FactorKind::iter() {
            assert_eq!(f.as_str().parse::<FactorKind>().unwrap(), f);
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        assert_eq!(FlowAction::ResetPassword.as_str(), "reset_password");
        assert_eq!("all".parse::<FlowScope>().unwrap(), FlowScope::All);
        assert!("fax".parse::<FlowScope>().is_err());
    }

    #[test]
    fn prompts_and_answers_are_tagged_by_factor() {
        let p = Prompt::EmailCode { valid_minutes: 10 };
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"factor":"email_code","valid_minutes":10}"#
        );
        let a: Answer = serde_json::from_str(r#"{"factor":"totp","code":"123456"}"#).unwrap();
        assert_eq!(a.kind(), FactorKind::Totp);
        assert!(serde_json::from_str::<Answer>(r#"{"factor":"totp","code":"1","x":1}"#).is_err());
    }
}
