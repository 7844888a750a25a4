//! The support queue (seed 003): agents with *work support queue* see their
//! organisation's requests, open one, reply and resolve. Unlocking goes through the
//! helpdesk's Unlock dialog (`users_unlock`), which applies the helpdesk policy and
//! notes the unlock on the account's open requests.

use latchkey_types::support::{RequestStatus, SelfUnlockCap, SupportDetail, SupportQueue};
use leptos::prelude::*;
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// `POST /api/support_queue` — the requests with `status`, or every open one: the
/// suspicious first, then the oldest, each with its age in working hours.
#[server(prefix = "/api", endpoint = "support_queue", input = StrictJson, output = Json)]
pub async fn fetch_support_queue(status: Option<RequestStatus>) -> Result<SupportQueue, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.support_queue(&caller, status).await?)
}

/// `POST /api/support_request_get` — one request: the description, the registered
/// accounts with its address, and what happened so far.
#[server(prefix = "/api", endpoint = "support_request_get", input = StrictJson, output = Json)]
pub async fn support_request_get(reference: String) -> Result<SupportDetail, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.support_detail(&caller, &reference).await?)
}

/// `POST /api/support_request_update` — moves a request to `status` (in progress,
/// waiting for the user, resolved), with an optional message to the person. The person
/// is emailed at the registered address with the message and at resolution; audited.
#[server(prefix = "/api", endpoint = "support_request_update", input = StrictJson, output = Json)]
pub async fn support_request_update(
    reference: String,
    status: RequestStatus,
    message: Option<String>,
) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .update_support_request(&caller, &reference, status, message.as_deref())
        .await?)
}

/// `POST /api/self_unlock_cap` — an organisation's cap on self-service unlocks.
#[server(prefix = "/api", endpoint = "self_unlock_cap", input = StrictJson, output = Json)]
pub async fn fetch_self_unlock_cap(organisation: String) -> Result<SelfUnlockCap, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.self_unlock_cap(&caller, &organisation).await?)
}

/// `POST /api/self_unlock_cap_set` — sets it (*manage policy*); audited.
#[server(prefix = "/api", endpoint = "self_unlock_cap_set", input = StrictJson, output = Json)]
pub async fn self_unlock_cap_set(organisation: String, cap: SelfUnlockCap) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .set_self_unlock_cap(&caller, &organisation, cap)
        .await?)
}
