//! *Unlock my account* and *Reset my password*: the self-service flow, one step per call.
//! The browser holds only `flow_id`; the server keeps the flow and refuses any step but
//! the current one. Every answer is sent at a fixed deadline after the request arrived.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::api::portal::Channel;
use crate::codec::StrictJson;
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowAction {
    Unlock,
    ResetPassword,
}

/// A proof-of-work challenge in the ALTCHA format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptchaChallenge {
    pub algorithm: String,
    pub challenge: String,
    pub maxnumber: u64,
    pub salt: String,
    pub signature: String,
}

/// The solved challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptchaSolution {
    pub algorithm: String,
    pub challenge: String,
    pub number: u64,
    pub salt: String,
    pub signature: String,
}

/// What a step asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "factor", rename_all = "snake_case")]
pub enum StepPrompt {
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

/// The answer to a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "factor", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepAnswer {
    Captcha { solution: CaptchaSolution },
    SecurityQuestions { answers: Vec<String> },
    EmailCode { code: String },
    Totp { code: String },
}

/// What a finished flow did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub action: FlowAction,
    pub was_locked: bool,
    pub unlocked: bool,
    pub password_changed: bool,
    pub sessions_ended: u64,
    pub email_queued: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum FailReason {
    /// Identity not confirmed (wrong answers — or an unknown name, indistinguishably).
    NotVerified,
    /// Self-service is paused for this account until `until` (Unix seconds).
    Blocked { until: i64 },
    /// The emailed code expired before it was entered.
    CodeExpired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum StepView {
    Identify,
    Authenticate {
        /// 0-based index of this step among `total_steps`.
        index: usize,
        prompt: StepPrompt,
        attempts_left: u32,
        /// The previous answer to this step was wrong.
        retry: bool,
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
pub struct FlowView {
    pub action: FlowAction,
    pub channel: Channel,
    pub total_steps: usize,
    pub step: StepView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedFlow {
    /// The secret that identifies this attempt; send it with every step.
    pub flow_id: String,
    pub view: FlowView,
}

/// `POST /api/flow_start` — begins *Unlock my account* or *Reset my password*.
#[server(prefix = "/api", endpoint = "flow_start", input = StrictJson, output = Json)]
pub async fn flow_start(action: FlowAction, channel: Channel) -> Result<StartedFlow, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let channel = ssr::channel(channel);
        if !state.settings.channels.contains(&channel) {
            return Err(ApiError::invalid(
                "channel",
                "Self-service is not offered on this channel.",
            ));
        }
        let (token, view) = state
            .core
            .start_flow(ssr::action(action), channel, meta.client)
            .await?;
        Ok(StartedFlow {
            flow_id: token.expose().to_owned(),
            view: ssr::view(view),
        })
    })
    .await
}

/// `POST /api/flow_status` — where an attempt is (after a reload, say).
#[server(prefix = "/api", endpoint = "flow_status", input = StrictJson, output = Json)]
pub async fn flow_status(flow_id: String) -> Result<FlowView, ApiError> {
    let state = crate::ssr::state()?;
    let token = ssr::token(&flow_id)?;
    Ok(ssr::view(state.core.flow_view(&token).await?))
}

/// `POST /api/flow_identify` — the username.
#[server(prefix = "/api", endpoint = "flow_identify", input = StrictJson, output = Json)]
pub async fn flow_identify(flow_id: String, username: String) -> Result<FlowView, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let token = ssr::token(&flow_id)?;
        Ok(ssr::view(
            state.core.identify(&token, &username, meta.client).await?,
        ))
    })
    .await
}

/// `POST /api/flow_answer` — the answer to step `step` (0-based).
#[server(prefix = "/api", endpoint = "flow_answer", input = StrictJson, output = Json)]
pub async fn flow_answer(
    flow_id: String,
    step: usize,
    answer: StepAnswer,
) -> Result<FlowView, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let token = ssr::token(&flow_id)?;
        let response = ssr::response(answer);
        Ok(ssr::view(
            state
                .core
                .respond(&token, step, &response, meta.client)
                .await?,
        ))
    })
    .await
}

/// `POST /api/flow_password` — the new password, once every step is passed (reset only).
#[server(prefix = "/api", endpoint = "flow_password", input = StrictJson, output = Json)]
pub async fn flow_password(
    flow_id: String,
    password: String,
    confirm: String,
) -> Result<FlowView, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let token = ssr::token(&flow_id)?;
        let password = secrecy::SecretString::from(password);
        let confirm = secrecy::SecretString::from(confirm);
        Ok(ssr::view(
            state
                .core
                .choose_password(&token, &password, &confirm, meta.client)
                .await?,
        ))
    })
    .await
}

/// Conversions between the wire types above and the domain's.
#[cfg(feature = "ssr")]
mod ssr {
    use latchkey_core::factor::captcha;
    use latchkey_core::factor::{Prompt, Response};
    use latchkey_core::flow;
    use latchkey_core::selfservice;
    use latchkey_core::settings;

    use super::*;

    pub fn token(flow_id: &str) -> Result<flow::FlowToken, ApiError> {
        flow::FlowToken::parse(flow_id).ok_or_else(|| ApiError::FlowEnded {
            message: "This attempt has expired. Please start again.".to_owned(),
        })
    }

    pub fn channel(c: Channel) -> settings::Channel {
        match c {
            Channel::Web => settings::Channel::Web,
            Channel::Mobile => settings::Channel::Mobile,
            Channel::Desktop => settings::Channel::Desktop,
        }
    }

    fn channel_back(c: settings::Channel) -> Channel {
        match c {
            settings::Channel::Web => Channel::Web,
            settings::Channel::Mobile => Channel::Mobile,
            settings::Channel::Desktop => Channel::Desktop,
        }
    }

    pub fn action(a: FlowAction) -> flow::FlowAction {
        match a {
            FlowAction::Unlock => flow::FlowAction::Unlock,
            FlowAction::ResetPassword => flow::FlowAction::ResetPassword,
        }
    }

    fn action_back(a: flow::FlowAction) -> FlowAction {
        match a {
            flow::FlowAction::Unlock => FlowAction::Unlock,
            flow::FlowAction::ResetPassword => FlowAction::ResetPassword,
        }
    }

    pub fn response(a: StepAnswer) -> Response {
        match a {
            StepAnswer::Captcha { solution } => Response::Captcha {
                solution: captcha::Solution {
                    algorithm: solution.algorithm,
                    challenge: solution.challenge,
                    number: solution.number,
                    salt: solution.salt,
                    signature: solution.signature,
                },
            },
            StepAnswer::SecurityQuestions { answers } => Response::SecurityQuestions { answers },
            StepAnswer::EmailCode { code } => Response::EmailCode { code },
            StepAnswer::Totp { code } => Response::Totp { code },
        }
    }

    fn prompt(p: Prompt) -> StepPrompt {
        match p {
            Prompt::Captcha { challenge } => StepPrompt::Captcha {
                challenge: CaptchaChallenge {
                    algorithm: challenge.algorithm,
                    challenge: challenge.challenge,
                    maxnumber: challenge.maxnumber,
                    salt: challenge.salt,
                    signature: challenge.signature,
                },
            },
            Prompt::SecurityQuestions { questions } => StepPrompt::SecurityQuestions { questions },
            Prompt::EmailCode { valid_minutes } => StepPrompt::EmailCode { valid_minutes },
            Prompt::Totp => StepPrompt::Totp,
        }
    }

    pub fn view(v: selfservice::FlowView) -> FlowView {
        let step = match v.step {
            selfservice::StepView::Identify => StepView::Identify,
            selfservice::StepView::Authenticate {
                index,
                prompt: p,
                attempts_left,
                retry,
            } => StepView::Authenticate {
                index,
                prompt: prompt(p),
                attempts_left,
                retry,
            },
            selfservice::StepView::ChoosePassword { min_chars } => {
                StepView::ChoosePassword { min_chars }
            }
            selfservice::StepView::Done(s) => StepView::Done {
                summary: Summary {
                    action: action_back(s.action),
                    was_locked: s.was_locked,
                    unlocked: s.unlocked,
                    password_changed: s.password_changed,
                    sessions_ended: s.sessions_ended,
                    email_queued: s.email_queued,
                },
            },
            selfservice::StepView::Failed(reason) => StepView::Failed {
                failure: match reason {
                    flow::FailReason::NotVerified => FailReason::NotVerified,
                    flow::FailReason::Blocked { until } => FailReason::Blocked { until },
                    flow::FailReason::CodeExpired => FailReason::CodeExpired,
                },
            },
        };
        FlowView {
            action: action_back(v.action),
            channel: channel_back(v.channel),
            total_steps: v.total_steps,
            step,
        }
    }
}
