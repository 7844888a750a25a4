//! The portal's public *Contact support* form (seed 003): full name, registered email
//! address, a description and the captcha. The answer is the same whether or not the
//! address is registered; only a registered address gets mail about it.

use latchkey_types::support::SupportReceived;
use latchkey_types::{CaptchaChallenge, CaptchaSolution};
use leptos::prelude::*;
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// `POST /api/support_captcha` — a captcha challenge for the form.
#[server(prefix = "/api", endpoint = "support_captcha", input = StrictJson, output = Json)]
pub async fn support_captcha() -> Result<CaptchaChallenge, ApiError> {
    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    Ok(state.core.support_captcha(meta.client).await?)
}

/// `POST /api/support_request` — sends the form. Answers when support replies; the
/// same answer for every accepted form.
#[server(prefix = "/api", endpoint = "support_request", input = StrictJson, output = Json)]
pub async fn support_request(
    full_name: String,
    email: String,
    description: String,
    captcha: CaptchaSolution,
) -> Result<SupportReceived, ApiError> {
    crate::ssr::self_service_step(|state, meta| async move {
        let form = latchkey_core::support::SupportForm {
            full_name,
            email,
            description,
            captcha,
        };
        Ok(state
            .core
            .submit_support_request(&form, meta.client)
            .await?)
    })
    .await
}
