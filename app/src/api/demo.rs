//! The demo mailbox: with `latchkey serve --demo` and no SMTP server configured, mail is
//! written to a folder on disk, and these calls let the console show it, so a newcomer
//! can finish an email-code flow without a mail server. Without `--demo` both answer
//! `not_found`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// A message in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoMailSummary {
    /// Names the message in `demo_mail`.
    pub id: String,
    pub to: String,
    pub subject: String,
    /// Unix seconds: when the event the mail reports happened.
    pub date: i64,
}

/// One message, with its plain-text body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoMail {
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub date: i64,
    pub text: String,
}

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
