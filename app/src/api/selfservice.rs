//! *Unlock my account* and *Reset my password*: the self-service flow, one step per call.
//! The browser holds only `flow_id`; the server keeps the flow and refuses any step but
//! the current one. Every answer is sent at a fixed deadline after the request arrived.

use latchkey_types::{Answer, Channel, FactorKind, FlowAction, FlowView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartedFlow {
    /// The secret that identifies this attempt; send it with every step.
    pub flow_id: String,
    pub view: FlowView,
}

/// `POST /api/flow_start` — begins *Unlock my account* or *Reset my password*.
#[server(prefix = "/api", endpoint = "flow_start", input = StrictJson, output = Json)]
pub async fn flow_start(action: FlowAction, channel: Channel) -> Result<StartedFlow, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        if !state.settings.channels.contains(&channel) {
            return Err(ApiError::invalid(
                "channel",
                "Self-service is not offered on this channel.",
            ));
        }
        let (token, view) = state.core.start_flow(action, channel, meta.client).await?;
        Ok(StartedFlow {
            flow_id: token.expose().to_owned(),
            view,
        })
    })
    .await
}

/// `POST /api/flow_status` — where an attempt is (after a reload, say).
#[server(prefix = "/api", endpoint = "flow_status", input = StrictJson, output = Json)]
pub async fn flow_status(flow_id: String) -> Result<FlowView, ApiError> {
    let state = crate::ssr::state()?;
    let token = ssr::token(&flow_id)?;
    Ok(state.core.flow_view(&token).await?)
}

/// `POST /api/flow_identify` — the username.
#[server(prefix = "/api", endpoint = "flow_identify", input = StrictJson, output = Json)]
pub async fn flow_identify(flow_id: String, username: String) -> Result<FlowView, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let token = ssr::token(&flow_id)?;
        Ok(state.core.identify(&token, &username, meta.client).await?)
    })
    .await
}

/// `POST /api/flow_answer` — the answer to step `step` (0-based).
#[server(prefix = "/api", endpoint = "flow_answer", input = StrictJson, output = Json)]
pub async fn flow_answer(
    flow_id: String,
    step: usize,
    answer: Answer,
) -> Result<FlowView, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let token = ssr::token(&flow_id)?;
        Ok(state
            .core
            .respond(&token, step, &answer, meta.client)
            .await?)
    })
    .await
}

/// `POST /api/flow_resend` — "Send a new code" at step `step` (an emailed code): the old
/// code stops working; counts against the name's limit.
#[server(prefix = "/api", endpoint = "flow_resend", input = StrictJson, output = Json)]
pub async fn flow_resend(flow_id: String, step: usize) -> Result<FlowView, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let token = ssr::token(&flow_id)?;
        Ok(state.core.resend_code(&token, step, meta.client).await?)
    })
    .await
}

/// `POST /api/flow_switch` — answer step `step` with `factor` instead, where the
/// channel's flow allows it ("Use security questions instead").
#[server(prefix = "/api", endpoint = "flow_switch", input = StrictJson, output = Json)]
pub async fn flow_switch(
    flow_id: String,
    step: usize,
    factor: FactorKind,
) -> Result<FlowView, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let token = ssr::token(&flow_id)?;
        Ok(state
            .core
            .switch_factor(&token, step, factor, meta.client)
            .await?)
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
        Ok(state
            .core
            .choose_password(&token, &password, &confirm, meta.client)
            .await?)
    })
    .await
}

#[cfg(feature = "ssr")]
mod ssr {
    use latchkey_core::flow::FlowToken;

    use super::*;

    pub fn token(flow_id: &str) -> Result<FlowToken, ApiError> {
        FlowToken::parse(flow_id).ok_or_else(|| ApiError::FlowEnded {
            message: "This attempt has expired. Please start again.".to_owned(),
        })
    }
}
