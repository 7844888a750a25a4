//! The demo mailbox: with `latchkey serve --demo` and no SMTP server configured, mail is
//! written to a folder on disk, and these calls let the console show it, so a newcomer
//! can finish an email-code flow without a mail server. Without `--demo` both answer
//! `not_found`.

pub use latchkey_types::outbox::{DemoMail, DemoMailSummary};
use leptos::prelude::*;
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// Longest message id accepted (the file names are far shorter).
pub const DEMO_MAIL_ID_MAX: usize = 100;

/// `POST /api/demo_mailbox` — the newest messages (at most 100), newest first.
#[server(prefix = "/api", endpoint = "demo_mailbox", input = StrictJson, output = Json)]
pub async fn fetch_demo_mailbox() -> Result<Vec<DemoMailSummary>, ApiError> {
    let mailbox = crate::ssr::demo_mailbox()?;
    mailbox.list().await.map_err(crate::ssr::io_error)
}

/// `POST /api/demo_mail` — one message of the demo mailbox.
#[server(prefix = "/api", endpoint = "demo_mail", input = StrictJson, output = Json)]
pub async fn fetch_demo_mail(id: String) -> Result<DemoMail, ApiError> {
    let mailbox = crate::ssr::demo_mailbox()?;
    let well_formed = !id.is_empty()
        && id.len() <= DEMO_MAIL_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(ApiError::invalid(
            "id",
            "Choose a message from the demo mailbox.",
        ));
    }
    mailbox
        .message(&id)
        .await
        .map_err(crate::ssr::io_error)?
        .ok_or(ApiError::NotFound)
}
