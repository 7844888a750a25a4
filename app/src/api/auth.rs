//! Signing in and out, and who is signed in.

use latchkey_types::LockReason;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::codec::StrictJson;
use crate::error::ApiError;

/// The signed-in account, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountView {
    /// `STORE\username`.
    pub username: String,
    pub display_name: String,
    /// The registered address, partly hidden.
    pub email_masked: String,
    /// Unix seconds, if a password was ever set.
    pub password_changed_at: Option<i64>,
    pub must_change_password: bool,
    /// Security questions enrolled.
    pub security_questions: usize,
    /// An authenticator app is set up.
    pub has_authenticator: bool,
    /// The confirmed recovery address, where self-service codes go (shown in full: this
    /// is its owner, signed in).
    pub recovery_email: Option<String>,
    /// An address waiting for the code sent to it.
    pub recovery_email_pending: Option<String>,
    /// What must be done before anything else (see `required_actions`), if anything.
    pub required_action: Option<latchkey_types::RequiredAction>,
}

/// What a sign-in attempt came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SignInReply {
    SignedIn {
        account: AccountView,
    },
    /// Wrong username or password — deliberately not saying which.
    Refused,
    /// The password was right but the account is locked; `until` (Unix seconds) ends a
    /// temporary lock; `reason` is the Lock Reason (only told to whoever knows the
    /// password); `self_service_paused_until` (Unix seconds) is set while self-service is
    /// paused for the account after too many wrong answers, whatever the Lock Reason: the
    /// page then offers the help desk, not "Unlock".
    Locked {
        until: Option<i64>,
        reason: LockReason,
        self_service_paused_until: Option<i64>,
    },
}

/// `POST /api/sign_in` — checks the password and, on success, starts a session
/// (a new session cookie; any previous session of this browser ends).
#[server(prefix = "/api", endpoint = "sign_in", input = StrictJson, output = Json)]
pub async fn sign_in(username: String, password: String) -> Result<SignInReply, ApiError> {
    use latchkey_core::audit::AuditChannel;
    use latchkey_core::signin::{SignInAttempt, SignInOutcome};

    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    let attempt = SignInAttempt {
        name: username,
        password: secrecy::SecretString::from(password),
        client: Some(meta.client),
        channel: AuditChannel::Web,
        audience: latchkey_core::session::Audience::Portal,
        code: None,
        previous: crate::ssr::session_token(&state),
    };
    Ok(match state.core.sign_in(attempt).await? {
        SignInOutcome::SignedIn { token, .. } => {
            crate::ssr::set_session_cookie(&state, Some(&token));
            let session = state
                .core
                .session(&token)
                .await?
                .ok_or(ApiError::Internal)?;
            SignInReply::SignedIn {
                account: view(&state, &session).await?,
            }
        }
        // The portal asks for no role and no code: these answer console sign-ins only.
        SignInOutcome::Refused | SignInOutcome::CodeRequired | SignInOutcome::NotAnOperator => {
            SignInReply::Refused
        }
        SignInOutcome::Locked {
            until,
            reason,
            self_service_paused_until,
        } => SignInReply::Locked {
            until: until.map(|t| t.unix_timestamp()),
            reason,
            self_service_paused_until: self_service_paused_until.map(|t| t.unix_timestamp()),
        },
    })
}

/// `POST /api/current_account` — the signed-in account, or `null`.
#[server(prefix = "/api", endpoint = "current_account", input = StrictJson, output = Json)]
pub async fn current_account() -> Result<Option<AccountView>, ApiError> {
    let state = crate::ssr::state()?;
    match crate::ssr::current_session(&state).await? {
        Some(s) => Ok(Some(view(&state, &s).await?)),
        None => Ok(None),
    }
}

/// `POST /api/sign_out` — ends this browser's session.
#[server(prefix = "/api", endpoint = "sign_out", input = StrictJson, output = Json)]
pub async fn sign_out() -> Result<(), ApiError> {
    use latchkey_core::audit::AuditChannel;

    let state = crate::ssr::state()?;
    let meta = crate::ssr::request_meta()?;
    if let Some(token) = crate::ssr::session_token(&state) {
        state
            .core
            .sign_out(&token, Some(meta.client), AuditChannel::Web)
            .await?;
    }
    crate::ssr::set_session_cookie(&state, None);
    Ok(())
}

#[cfg(feature = "ssr")]
async fn view(
    state: &crate::ssr::ServerState,
    session: &latchkey_core::signin::CurrentSession,
) -> Result<AccountView, ApiError> {
    let a = &session.account;
    let recovery = state.core.recovery_email(a).await?;
    Ok(AccountView {
        required_action: state.core.required_actions(session).await?.first().copied(),
        username: a.qualified_name(),
        display_name: a.display_name.clone(),
        email_masked: a.email.masked(),
        password_changed_at: a.password_changed_at.map(|t| t.unix_timestamp()),
        must_change_password: a.must_change_password,
        security_questions: state.core.question_setup(a).await?.enrolled.len(),
        has_authenticator: state.core.has_authenticator(a).await?,
        recovery_email: recovery.address,
        recovery_email_pending: recovery.pending,
    })
}
