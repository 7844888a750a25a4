//! Mail: where a message in the outbox stands, and what a one-time code is for.

use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::text_form;

/// Where an outbox row stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt (or being attempted now).
    Pending,
    /// The mail server accepted it.
    Sent,
    /// Every attempt failed; kept for administrators, who may send it again.
    Failed,
}

/// What a one-time code is for; the mail says so, so a code that arrives unasked is
/// recognisable as someone else's attempt. The text form is what binds a stored code to
/// its use.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CodePurpose {
    /// Proving who you are to unlock your account.
    Unlock,
    /// Proving who you are to reset your password.
    PasswordReset,
    /// Confirming an email address as a sign-in factor.
    EmailEnrolment,
    /// Reading the code back to a help-desk operator (restricted mode).
    HelpdeskVerification,
    /// Confirming an address as the account's recovery address, where self-service
    /// codes go instead of the work mailbox.
    RecoveryEmail,
}

text_form!(DeliveryStatus, CodePurpose);

// The demo mailbox (`latchkey serve --demo` without an SMTP server): mail written to a
// folder on disk, shown in the console.

/// A message in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoMail {
    pub id: String,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub date: i64,
    pub text: String,
}
