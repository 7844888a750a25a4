//! Users: the grid, the user page, unlocking, creating and editing (seeds 001, 003, 004).

use latchkey_types::console::{ResecureForm, UserDetail, UserForm, UserPage, UserQuery};
use latchkey_types::AccountStatus;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// What an unlock came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnlockResult {
    /// The account was locked (and now is not).
    pub was_locked: bool,
    /// Its owner was emailed.
    pub emailed: bool,
}

/// `POST /api/users_search` — a page of the users grid.
#[server(prefix = "/api", endpoint = "users_search", input = StrictJson, output = Json)]
pub async fn users_search(query: UserQuery) -> Result<UserPage, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.search_users(&caller, &query).await?)
}

/// `POST /api/user_detail` — the user page.
#[server(prefix = "/api", endpoint = "user_detail", input = StrictJson, output = Json)]
pub async fn fetch_user_detail(id: String) -> Result<UserDetail, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.user_detail(&caller, &id).await?)
}

/// `POST /api/user_unlock` — unlocks a user; `advise_reset` asks them, by email, to reset
/// their password before signing in again.
#[server(prefix = "/api", endpoint = "user_unlock", input = StrictJson, output = Json)]
pub async fn user_unlock(id: String, advise_reset: bool) -> Result<UnlockResult, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    let done = state.core.unlock_user(&caller, &id, advise_reset).await?;
    Ok(UnlockResult {
        was_locked: done.was_locked,
        emailed: done.emailed,
    })
}

/// `POST /api/user_create` — a new user; answers the new user's id.
#[server(prefix = "/api", endpoint = "user_create", input = StrictJson, output = Json)]
pub async fn user_create(user: UserForm) -> Result<String, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.create_user(&caller, &user).await?)
}

/// `POST /api/user_update` — a user's new name and registered address.
#[server(prefix = "/api", endpoint = "user_update", input = StrictJson, output = Json)]
pub async fn user_update(id: String, user: UserForm) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.update_user(&caller, &id, &user).await?)
}

/// `POST /api/user_set_status` — disables (ending their sessions) or enables a user.
#[server(prefix = "/api", endpoint = "user_set_status", input = StrictJson, output = Json)]
pub async fn user_set_status(id: String, status: AccountStatus) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.set_user_status(&caller, &id, status).await?)
}

/// `POST /api/user_revoke_session` — ends one session of a user.
#[server(prefix = "/api", endpoint = "user_revoke_session", input = StrictJson, output = Json)]
pub async fn user_revoke_session(id: String, session: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .revoke_user_session(&caller, &id, &session)
        .await?)
}

/// `POST /api/user_reset_mfa` — *Reset a Secret Key* (seed 001): removes the user's
/// authenticator and ends their sessions; their next sign-in asks for a device
/// authorization code sent by email, then a new authenticator.
#[server(prefix = "/api", endpoint = "user_reset_mfa", input = StrictJson, output = Json)]
pub async fn user_reset_mfa(id: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.reset_user_mfa(&caller, &id).await?)
}

/// `POST /api/generate_password` — a temporary password for a resecure, shown once.
#[server(prefix = "/api", endpoint = "generate_password", input = StrictJson, output = Json)]
pub async fn generate_password() -> Result<String, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.generate_temporary_password(&caller)?)
}

/// `POST /api/user_resecure` — *Resecure an account* (seed 002): temporary password, AUP
/// acceptance reset, security answers and authenticator removed, sessions revoked.
/// `resecure_blocked` (409) when the account is not active, is locked or never accepted
/// the AUP.
#[server(prefix = "/api", endpoint = "user_resecure", input = StrictJson, output = Json)]
pub async fn user_resecure(id: String, resecure: ResecureForm) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.resecure_user(&caller, &id, &resecure).await?)
}

/// `POST /api/user_link` — links `account` (`STORE\username`, another identity store of
/// the same organisation) to the user `id`'s person.
#[server(prefix = "/api", endpoint = "user_link", input = StrictJson, output = Json)]
pub async fn user_link(id: String, account: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.link_user(&caller, &id, &account).await?)
}

/// `POST /api/user_unlink` — unlinks the user `id` from the person's other accounts.
#[server(prefix = "/api", endpoint = "user_unlink", input = StrictJson, output = Json)]
pub async fn user_unlink(id: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.unlink_user(&caller, &id).await?)
}
