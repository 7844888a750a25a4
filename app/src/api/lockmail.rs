//! The lock email's two links (issue 14, item 6): *This was me: unlock my account* and
//! *This wasn't me*. The portal page a link opens sends the link's token here; each
//! token works once, for 24 hours. A used, expired or unknown link is refused alike.

use latchkey_types::{Channel, FlowView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// The unlock flow a *This was me* link opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkUnlock {
    /// The flow's secret, as `flow_start` answers it: send it with every step.
    pub flow_id: String,
    /// The account the flow unlocks (`STORE\username`), shown on every step.
    pub username: String,
    /// The flow at its first step: the channel's factors but the emailed code.
    pub view: FlowView,
}

/// The words of a link that no longer works.
pub const LINK_SPENT: &str =
    "This link has already been used or has expired. Each link in the email works once, for 24 hours.";

/// `POST /api/lock_link_unlock` — *This was me*: spends the link and opens the unlock
/// flow on `channel` (the one the page detected, as for `flow_start`) for its account,
/// with the email step satisfied.
#[server(prefix = "/api", endpoint = "lock_link_unlock", input = StrictJson, output = Json)]
pub async fn lock_link_unlock(token: String, channel: Channel) -> Result<LinkUnlock, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        if !state.settings.channels.contains(&channel) {
            return Err(ApiError::invalid(
                "channel",
                "Self-service is not offered on this channel.",
            ));
        }
        let token = ssr::token(&token)?;
        let opened = state
            .core
            .lock_link_unlock(&token, channel, meta.client)
            .await
            .map_err(ssr::spent)?;
        Ok(LinkUnlock {
            flow_id: opened.token.expose().to_owned(),
            username: opened.username,
            view: opened.view,
        })
    })
    .await
}

/// `POST /api/lock_link_not_me` — *This wasn't me*: spends the link (and the mail's
/// other one); the account stays locked, is signed out everywhere and must choose a new
/// password at its next sign-in after an unlock.
#[server(prefix = "/api", endpoint = "lock_link_not_me", input = StrictJson, output = Json)]
pub async fn lock_link_not_me(token: String) -> Result<(), ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let token = ssr::token(&token)?;
        state
            .core
            .lock_link_not_me(&token, meta.client)
            .await
            .map_err(ssr::spent)?;
        Ok(())
    })
    .await
}

#[cfg(feature = "ssr")]
mod ssr {
    use latchkey_core::lock_link::LockLinkToken;
    use latchkey_core::CoreError;

    use super::*;

    pub fn token(token: &str) -> Result<LockLinkToken, ApiError> {
        LockLinkToken::parse(token.trim()).ok_or_else(|| {
            ApiError::invalid(
                "token",
                "This link is incomplete. Open the whole link from the email.",
            )
        })
    }

    /// A link that no longer works says so plainly; anything else as usual.
    pub fn spent(e: CoreError) -> ApiError {
        match e {
            CoreError::NotFound => ApiError::FlowEnded {
                message: LINK_SPENT.to_owned(),
            },
            other => other.into(),
        }
    }
}
