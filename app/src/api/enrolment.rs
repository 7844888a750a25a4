//! A signed-in person's own factors: security questions and an authenticator app.

#[cfg(feature = "ssr")]
use latchkey_types::RequiredAction;
use latchkey_types::{CatalogueQuestion, QuestionChoice};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// What the security-questions page needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionSetup {
    /// How many questions to enrol.
    pub to_enrol: u32,
    /// How many self-service asks.
    pub to_ask: u32,
    pub min_answer_chars: u32,
    pub catalogue: Vec<CatalogueQuestion>,
    /// The questions enrolled now (never the answers).
    pub enrolled: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionAnswer {
    pub question: QuestionChoice,
    pub answer: String,
}

/// A new authenticator to add to an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthenticatorSetup {
    /// QR code (SVG markup) of the `otpauth://` URL.
    pub qr_svg: String,
    /// The secret in base32, to type in by hand.
    pub secret: String,
    /// The `otpauth://` URL: on a phone, a link that opens the authenticator app.
    pub otpauth_url: String,
}

/// `POST /api/security_questions` — the catalogue, the rule and what is enrolled now.
#[server(prefix = "/api", endpoint = "security_questions", input = StrictJson, output = Json)]
pub async fn security_questions() -> Result<QuestionSetup, ApiError> {
    let state = crate::ssr::state()?;
    let account =
        crate::ssr::require_account_for(&state, Some(RequiredAction::SecurityQuestions)).await?;
    let setup = state.core.question_setup(&account).await?;
    Ok(QuestionSetup {
        to_enrol: setup.policy.to_enrol,
        to_ask: setup.policy.to_ask,
        min_answer_chars: setup.policy.min_answer_chars,
        catalogue: setup.catalogue,
        enrolled: setup.enrolled,
    })
}

/// `POST /api/enrol_security_questions` — replaces the signed-in person's questions.
#[server(prefix = "/api", endpoint = "enrol_security_questions", input = StrictJson, output = Json)]
pub async fn enrol_security_questions(questions: Vec<QuestionAnswer>) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let account =
        crate::ssr::require_account_for(&state, Some(RequiredAction::SecurityQuestions)).await?;
    let choices: Vec<(QuestionChoice, secrecy::SecretString)> = questions
        .into_iter()
        .map(|qa| (qa.question, secrecy::SecretString::from(qa.answer)))
        .collect();
    state
        .core
        .enrol_security_questions(&account, &choices, meta.client)
        .await?;
    Ok(())
}

/// `POST /api/authenticator_begin` — a new secret to scan; the current authenticator (if
/// any) keeps working until the new one is confirmed.
#[server(prefix = "/api", endpoint = "authenticator_begin", input = StrictJson, output = Json)]
pub async fn authenticator_begin() -> Result<AuthenticatorSetup, ApiError> {
    let state = crate::ssr::state()?;
    let account =
        crate::ssr::require_account_for(&state, Some(RequiredAction::NewAuthenticator)).await?;
    let enrolment = state
        .core
        .begin_totp_enrolment(&account, &state.settings.product_name)
        .await?;
    Ok(AuthenticatorSetup {
        qr_svg: enrolment.qr_svg,
        secret: enrolment.secret_base32,
        otpauth_url: enrolment.otpauth_url,
    })
}

/// `POST /api/authenticator_confirm` — a code from the new authenticator, proving it works.
#[server(prefix = "/api", endpoint = "authenticator_confirm", input = StrictJson, output = Json)]
pub async fn authenticator_confirm(code: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let account =
        crate::ssr::require_account_for(&state, Some(RequiredAction::NewAuthenticator)).await?;
    state
        .core
        .confirm_totp_enrolment(&account, &code, meta.client)
        .await?;
    Ok(())
}

/// `POST /api/recovery_email_begin` — proposes `address` as the recovery address and
/// emails a code to it; nothing changes until the code is entered.
#[server(prefix = "/api", endpoint = "recovery_email_begin", input = StrictJson, output = Json)]
pub async fn recovery_email_begin(address: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let account = crate::ssr::require_account(&state).await?;
    state
        .core
        .begin_recovery_email(&account, &address, meta.client)
        .await?;
    Ok(())
}

/// `POST /api/recovery_email_confirm` — the code sent to the new address; self-service
/// codes go there from now on.
#[server(prefix = "/api", endpoint = "recovery_email_confirm", input = StrictJson, output = Json)]
pub async fn recovery_email_confirm(code: String) -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let account = crate::ssr::require_account(&state).await?;
    state
        .core
        .confirm_recovery_email(&account, &code, meta.client)
        .await?;
    Ok(())
}

/// `POST /api/recovery_email_remove` — codes go to the registered address again.
#[server(prefix = "/api", endpoint = "recovery_email_remove", input = StrictJson, output = Json)]
pub async fn recovery_email_remove() -> Result<(), ApiError> {
    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let account = crate::ssr::require_account(&state).await?;
    state
        .core
        .remove_recovery_email(&account, meta.client)
        .await?;
    Ok(())
}
