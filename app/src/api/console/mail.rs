//! The outbox, as operators see it: waiting and failed mail, never a code.

use latchkey_types::console::MailView;
use leptos::prelude::*;
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// `POST /api/mail` — failed and waiting mail of the operator's organisations.
#[server(prefix = "/api", endpoint = "mail", input = StrictJson, output = Json)]
pub async fn mail() -> Result<Vec<MailView>, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.mail_views(&caller).await?)
}

/// `POST /api/mail_resend` — sends a failed mail again (not one whose code was wiped).
#[server(prefix = "/api", endpoint = "mail_resend", input = StrictJson, output = Json)]
pub async fn mail_resend(id: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state.core.resend_mail(&caller, &id).await?)
}
