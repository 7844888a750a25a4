//! The console's server functions: operators sign in, find and help users, read the
//! history and set policies. Every one checks on the server who is calling (a console
//! session, never a portal one) and what their roles allow for the organisation of what
//! they touch: another organisation's things are `not_found`, a missing permission
//! `forbidden`, no session `unauthenticated` — and nothing changes.

pub mod helpdesk;
pub mod history;
pub mod mail;
pub mod policy;
pub mod support;
pub mod users;

use latchkey_types::console::{ConsoleSignInReply, OperatorView};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// `POST /api/console_sign_in` — an operator signs in: the password, and the code of
/// their authenticator when they have one (the first answer says `code_required`).
#[server(prefix = "/api", endpoint = "console_sign_in", input = StrictJson, output = Json)]
pub async fn console_sign_in(
    username: String,
    password: String,
    code: Option<String>,
) -> Result<ConsoleSignInReply, ApiError> {
    use latchkey_core::audit::AuditChannel;
    use latchkey_core::session::Audience;
    use latchkey_core::signin::{operator, SignInAttempt, SignInOutcome};

    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let attempt = SignInAttempt {
        name: username,
        password: secrecy::SecretString::from(password),
        client: Some(meta.client),
        channel: AuditChannel::Console,
        audience: Audience::Console,
        code,
        previous: crate::ssr::console_token(&state),
    };
    Ok(match state.core.sign_in(attempt).await? {
        SignInOutcome::SignedIn { token, account } => {
            crate::ssr::set_console_cookie(&state, Some(&token));
            let roles = state.core.roles_of(&account).await?;
            let view = state.core.operator_view(&operator(&account, roles)).await?;
            ConsoleSignInReply::SignedIn { operator: view }
        }
        SignInOutcome::Refused => ConsoleSignInReply::Refused,
        SignInOutcome::Locked { until, .. } => ConsoleSignInReply::Locked {
            until: until.map(|t| t.unix_timestamp()),
        },
        SignInOutcome::CodeRequired => ConsoleSignInReply::CodeRequired,
        SignInOutcome::NotAnOperator => ConsoleSignInReply::NotAnOperator,
    })
}

/// `POST /api/console_me` — the signed-in operator, or `null`.
#[server(prefix = "/api", endpoint = "console_me", input = StrictJson, output = Json)]
pub async fn console_me() -> Result<Option<OperatorView>, ApiError> {
    let state = crate::ssr::state()?;
    match crate::ssr::require_operator(&state).await {
        Ok((session, _)) => Ok(Some(state.core.operator_view(&session.operator).await?)),
        Err(ApiError::Unauthenticated) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `POST /api/console_sign_out` — ends this browser's console session.
#[server(prefix = "/api", endpoint = "console_sign_out", input = StrictJson, output = Json)]
pub async fn console_sign_out() -> Result<(), ApiError> {
    use latchkey_core::audit::AuditChannel;

    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    if let Some(token) = crate::ssr::console_token(&state) {
        state
            .core
            .sign_out(&token, Some(meta.client), AuditChannel::Console)
            .await?;
    }
    crate::ssr::set_console_cookie(&state, None);
    Ok(())
}

/// An organisation and its identity stores, for the console's filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationChoice {
    pub slug: String,
    pub name: String,
    pub stores: Vec<String>,
}

/// `POST /api/console_organisations` — the organisations (and their identity stores) the
/// operator works in: their own, or every one for a global administrator.
#[server(prefix = "/api", endpoint = "console_organisations", input = StrictJson, output = Json)]
pub async fn console_organisations() -> Result<Vec<OrganisationChoice>, ApiError> {
    let state = crate::ssr::state()?;
    let (_, caller) = crate::ssr::require_operator(&state).await?;
    Ok(state
        .core
        .workplaces(&caller)
        .await?
        .into_iter()
        .map(|(org, stores)| OrganisationChoice {
            slug: org.slug,
            name: org.name,
            stores: stores.into_iter().map(|s| s.name).collect(),
        })
        .collect())
}
