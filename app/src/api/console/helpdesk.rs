//! The helpdesk's unlock (seed 004): the *Unlock account* dialog's Authenticate and
//! Unlock pages, and each organisation's helpdesk policy. The server decides everything:
//! in restricted mode `user_unlock` and `users_unlock` refuse (`unlock_refused`, 409)
//! unless this operator passed a check of this person in the last few minutes.

use latchkey_types::console::{
    CallerCheckReply, CallerCheckStarted, HelpdeskMode, HelpdeskPolicyView, StoreUnlock, UnlockPlan,
};
use latchkey_types::{Answer, FactorKind, Role};
use leptos::prelude::*;
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// `POST /api/unlock_plan` — what the *Unlock account* dialog shows for a user: their
/// store, lock and last password change, the operator's mode, the factors to verify the
/// caller with, a fresh passed check if any, and the person's linked accounts.
#[server(prefix = "/api", endpoint = "unlock_plan", input = StrictJson, output = Json)]
pub async fn fetch_unlock_plan(id: String) -> Result<UnlockPlan, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.unlock_plan(&caller, &id).await?)
}

/// `POST /api/caller_check_start` — starts verifying the caller with one of the user's
/// enrolled factors: sends the emailed code to the registered address, or picks the
/// security questions to ask.
#[server(prefix = "/api", endpoint = "caller_check_start", input = StrictJson, output = Json)]
pub async fn caller_check_start(
    id: String,
    factor: FactorKind,
) -> Result<CallerCheckStarted, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.start_caller_check(&caller, &id, factor).await?)
}

/// `POST /api/caller_check_answer` — what the caller read back or answered. Wrong
/// answers count against the user's self-service limits.
#[server(prefix = "/api", endpoint = "caller_check_answer", input = StrictJson, output = Json)]
pub async fn caller_check_answer(
    check: String,
    answer: Answer,
) -> Result<CallerCheckReply, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .answer_caller_check(&caller, &check, &answer)
        .await?)
}

/// `POST /api/users_unlock` — the Unlock page's *Unlock*: each chosen account (the user
/// and their linked accounts) in its own transaction with its own audit record; the
/// answer says what happened to each.
#[server(prefix = "/api", endpoint = "users_unlock", input = StrictJson, output = Json)]
pub async fn users_unlock(
    ids: Vec<String>,
    advise_reset: bool,
) -> Result<Vec<StoreUnlock>, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .unlock_accounts(&caller, &ids, advise_reset)
        .await?)
}

/// `POST /api/helpdesk_policy` — an organisation's helpdesk mode per role.
#[server(prefix = "/api", endpoint = "helpdesk_policy", input = StrictJson, output = Json)]
pub async fn helpdesk_policy(organisation: String) -> Result<HelpdeskPolicyView, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.helpdesk_policy(&caller, &organisation).await?)
}

/// `POST /api/helpdesk_mode_set` — one role's helpdesk mode in an organisation; audited.
#[server(prefix = "/api", endpoint = "helpdesk_mode_set", input = StrictJson, output = Json)]
pub async fn helpdesk_mode_set(
    organisation: String,
    role: Role,
    mode: HelpdeskMode,
) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .set_helpdesk_mode(&caller, &organisation, role, mode)
        .await?)
}
