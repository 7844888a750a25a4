//! Required actions at sign-in (issue 13): what a person must do after signing in before
//! anything else is usable — device authorization and a new authenticator after an MFA
//! reset, a new password instead of a temporary one, the acceptable use policy, the
//! profile, new security answers. The server decides what is next; every other portal
//! call answers `action_required` until all are done.

use latchkey_types::RequiredAction;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// What typing the device authorization code came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeviceReply {
    Passed,
    /// Not the code; `tries_left` more are allowed.
    Wrong {
        tries_left: u32,
    },
    /// Expired, already used or out of tries: sign in again for a new code.
    Spent,
}

/// The organisation's acceptable use policy, to read and accept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AupText {
    pub version: i64,
    /// Plain text; paragraphs are separated by blank lines.
    pub text: String,
}

/// A person's own profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub display_name: String,
    /// The registered (contact) address, in full: only ever sent to its owner.
    pub email: String,
    /// Empty when none.
    pub phone: String,
}

/// `POST /api/required_actions` — what the signed-in person must still do, in order
/// (empty: nothing).
#[server(prefix = "/api", endpoint = "required_actions", input = StrictJson, output = Json)]
pub async fn required_actions() -> Result<Vec<RequiredAction>, ApiError> {
    let state = crate::ssr::state()?;
    let session = crate::ssr::require_session(&state).await?;
    Ok(state.core.required_actions(&session).await?)
}

/// `POST /api/device_authorize` — the device authorization code from the email.
#[server(prefix = "/api", endpoint = "device_authorize", input = StrictJson, output = Json)]
pub async fn device_authorize(code: String) -> Result<DeviceReply, ApiError> {
    use latchkey_core::required::DeviceCheck;

    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let session = crate::ssr::require_session(&state).await?;
    Ok(
        match state
            .core
            .authorize_device(&session, &code, meta.client)
            .await?
        {
            DeviceCheck::Passed => DeviceReply::Passed,
            DeviceCheck::Wrong { tries_left } => DeviceReply::Wrong { tries_left },
            DeviceCheck::Spent => DeviceReply::Spent,
        },
    )
}

/// `POST /api/change_password` — replaces a temporary password.
#[server(prefix = "/api", endpoint = "change_password", input = StrictJson, output = Json)]
pub async fn change_password(
    current: String,
    password: String,
    confirm: String,
) -> Result<(), ApiError> {
    use secrecy::SecretString;

    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let session = crate::ssr::require_session(&state).await?;
    Ok(state
        .core
        .change_password(
            &session,
            &SecretString::from(current),
            &SecretString::from(password),
            &SecretString::from(confirm),
            meta.client,
        )
        .await?)
}

/// `POST /api/aup_text` — the organisation's acceptable use policy, to read.
#[server(prefix = "/api", endpoint = "aup_text", input = StrictJson, output = Json)]
pub async fn fetch_aup_text() -> Result<AupText, ApiError> {
    let state = crate::ssr::state()?;
    let session = crate::ssr::require_session(&state).await?;
    let aup = state.core.aup_of(&session.account).await?;
    Ok(AupText {
        version: aup.version,
        text: aup.text,
    })
}

/// `POST /api/accept_aup` — accepts the version that was read.
#[server(prefix = "/api", endpoint = "accept_aup", input = StrictJson, output = Json)]
pub async fn accept_aup(version: i64) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let session = crate::ssr::require_session(&state).await?;
    Ok(state
        .core
        .accept_aup(&session, version, meta.client)
        .await?)
}

/// `POST /api/profile` — the signed-in person's name, address and phone.
#[server(prefix = "/api", endpoint = "profile", input = StrictJson, output = Json)]
pub async fn fetch_profile() -> Result<Profile, ApiError> {
    let state = crate::ssr::state()?;
    let session = crate::ssr::require_session(&state).await?;
    let a = session.account;
    Ok(Profile {
        display_name: a.display_name,
        email: a.email.as_str().to_owned(),
        phone: a.phone.unwrap_or_default(),
    })
}

/// `POST /api/update_profile` — confirms or changes them (the required action).
#[server(prefix = "/api", endpoint = "update_profile", input = StrictJson, output = Json)]
pub async fn update_profile(profile: Profile) -> Result<(), ApiError> {
    use latchkey_core::required::ProfileForm;

    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let session = crate::ssr::require_session(&state).await?;
    let form = ProfileForm {
        display_name: profile.display_name,
        email: profile.email,
        phone: profile.phone,
    };
    Ok(state
        .core
        .update_profile(&session, &form, meta.client)
        .await?)
}
