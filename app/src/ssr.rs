//! Server-side glue: the state server functions run against, the session cookie, and the
//! single mapping from domain errors to [`ApiError`].

use std::sync::Arc;

use cookie::{Cookie, SameSite};
use http::header::{COOKIE, SET_COOKIE};
use http::HeaderValue;
use latchkey_core::audit::Caller;
use latchkey_core::session::{Audience, SessionToken};
use latchkey_core::settings::PortalSettings;
use latchkey_core::signin::{ConsoleSession, CurrentSession};
use latchkey_core::store::StoreError;
use latchkey_core::{CoreError, FlowError, Latchkey};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::error::ApiError;
use latchkey_types::outbox::{DemoMail, DemoMailSummary};

/// Everything a server function may use; provided as Leptos context for each call.
#[derive(Clone)]
pub struct ServerState {
    pub core: Latchkey,
    pub settings: Arc<PortalSettings>,
    /// The base URL is https: cookies get `Secure` and the `__Host-` prefix.
    pub https: bool,
    /// The on-disk mailbox, shown in the console only in `--demo` mode.
    pub demo_mailbox: Option<Arc<dyn DemoMailbox>>,
}

/// Reads the mail the server wrote to disk (`--demo` without an SMTP server). The
/// server implements it next to the transport that writes the files.
#[async_trait::async_trait]
pub trait DemoMailbox: Send + Sync + 'static {
    /// The newest messages, newest first.
    async fn list(&self) -> std::io::Result<Vec<DemoMailSummary>>;
    /// One message by id; `None` if there is no such message.
    async fn message(&self, id: &str) -> std::io::Result<Option<DemoMail>>;
}

/// The demo mailbox, or `not_found` when the server was not started with `--demo`.
pub fn demo_mailbox() -> Result<Arc<dyn DemoMailbox>, ApiError> {
    state()?.demo_mailbox.ok_or(ApiError::NotFound)
}

/// An I/O failure on the server: logged here, `internal` to the caller.
pub fn io_error(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "I/O error");
    ApiError::Internal
}

/// The state for the current server-function call.
pub fn state() -> Result<ServerState, ApiError> {
    use_context::<ServerState>().ok_or_else(|| {
        tracing::error!("server function called without ServerState in context");
        ApiError::Internal
    })
}

/// Facts about the current request that the server, not the client, establishes.
#[derive(Debug, Clone, Copy)]
pub struct RequestMeta {
    /// The client's address (see the server's trusted-proxy rule).
    pub client: std::net::IpAddr,
}

/// The current request's metadata.
pub fn request_meta() -> Result<RequestMeta, ApiError> {
    use_context::<RequestMeta>().ok_or_else(|| {
        tracing::error!("server function called without RequestMeta in context");
        ApiError::Internal
    })
}

/// The cookie that carries a session of `audience`: the portal's and the console's are
/// separate cookies, so neither session can stand in for the other.
fn cookie_name(https: bool, audience: Audience) -> &'static str {
    // `__Host-` binds the cookie to this exact origin (Secure, Path=/, no Domain).
    match (https, audience) {
        (true, Audience::Portal) => "__Host-latchkey_session",
        (false, Audience::Portal) => "latchkey_session",
        (true, Audience::Console) => "__Host-latchkey_console",
        (false, Audience::Console) => "latchkey_console",
    }
}

/// The token of `audience`'s session cookie in `headers`, if it has the shape of one.
pub fn token_in(
    headers: &http::HeaderMap,
    https: bool,
    audience: Audience,
) -> Option<SessionToken> {
    let name = cookie_name(https, audience);
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| SessionToken::parse(c.value()))
}

/// The portal session token the browser sent, if it has the shape of one.
pub fn session_token(state: &ServerState) -> Option<SessionToken> {
    let parts = use_context::<http::request::Parts>()?;
    token_in(&parts.headers, state.https, Audience::Portal)
}

/// The console session token the browser sent, if it has the shape of one.
pub fn console_token(state: &ServerState) -> Option<SessionToken> {
    let parts = use_context::<http::request::Parts>()?;
    token_in(&parts.headers, state.https, Audience::Console)
}

/// The operator of the current request's console session and the caller they act as,
/// or `Unauthenticated`.
pub async fn require_operator(state: &ServerState) -> Result<(ConsoleSession, Caller), ApiError> {
    let meta = request_meta()?;
    let token = console_token(state).ok_or(ApiError::Unauthenticated)?;
    let session = state
        .core
        .console_session(&token)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let caller = Caller::console(session.operator.clone(), Some(meta.client));
    Ok((session, caller))
}

/// The live session of the current request, if any.
pub async fn current_session(state: &ServerState) -> Result<Option<CurrentSession>, ApiError> {
    match session_token(state) {
        Some(token) => Ok(state.core.session(&token).await?),
        None => Ok(None),
    }
}

/// Sets (`Some`) or clears (`None`) the portal session cookie on the response.
pub fn set_session_cookie(state: &ServerState, token: Option<&SessionToken>) {
    set_cookie(state, token, Audience::Portal);
}

/// Sets (`Some`) or clears (`None`) the console session cookie on the response.
pub fn set_console_cookie(state: &ServerState, token: Option<&SessionToken>) {
    set_cookie(state, token, Audience::Console);
}

fn set_cookie(state: &ServerState, token: Option<&SessionToken>, audience: Audience) {
    let Some(response) = use_context::<ResponseOptions>() else {
        tracing::error!("no ResponseOptions in context: cannot set the session cookie");
        return;
    };
    let mut cookie = Cookie::build((
        cookie_name(state.https, audience),
        token.map_or("", |t| t.expose()),
    ))
    .http_only(true)
    .same_site(SameSite::Strict)
    .secure(state.https)
    .path("/");
    if token.is_none() {
        cookie = cookie.max_age(cookie::time::Duration::ZERO);
    }
    match HeaderValue::from_str(&cookie.build().to_string()) {
        Ok(v) => response.append_header(SET_COOKIE, v),
        Err(e) => tracing::error!(error = %e, "session cookie is not a valid header"),
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid(i) => ApiError::invalid(i.field.into_owned(), i.message),
            CoreError::Busy { retry_after_secs } => ApiError::Busy { retry_after_secs },
            CoreError::NotFound => ApiError::NotFound,
            CoreError::Forbidden => ApiError::Forbidden,
            CoreError::RateLimited { retry_after_secs } => {
                ApiError::RateLimited { retry_after_secs }
            }
            CoreError::Flow(FlowError::Expired) => ApiError::FlowEnded {
                message: "This attempt has expired. Please start again.".to_owned(),
            },
            CoreError::Flow(FlowError::Finished) => ApiError::FlowEnded {
                message: "This attempt has already ended. Please start again.".to_owned(),
            },
            CoreError::Flow(FlowError::OutOfOrder) => ApiError::OutOfOrder,
            CoreError::ActionRequired(action) => ApiError::ActionRequired { action },
            CoreError::ResecureBlocked(reason) => ApiError::ResecureBlocked { reason },
            CoreError::UnlockRefused(reason) => ApiError::UnlockRefused { reason },
            CoreError::Store(e) => e.into(),
            CoreError::Directory(failure) => {
                tracing::warn!(directory = %failure.directory, error = %failure, "directory failed");
                ApiError::DirectoryUnavailable {
                    directory: failure.directory,
                    message: failure.message,
                }
            }
            CoreError::Internal(reason) => {
                tracing::error!(%reason, "internal error");
                ApiError::Internal
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        ApiError::Internal
    }
}

/// The live session, whatever required actions are pending, or `Unauthenticated`.
pub async fn require_session(state: &ServerState) -> Result<CurrentSession, ApiError> {
    current_session(state)
        .await?
        .ok_or(ApiError::Unauthenticated)
}

/// The signed-in account, or `Unauthenticated` — or `ActionRequired` while a required
/// action is pending (see `latchkey_core::required`): nothing else is usable until then.
pub async fn require_account(
    state: &ServerState,
) -> Result<latchkey_core::account::Account, ApiError> {
    require_account_for(state, None).await
}

/// The signed-in account, for a call that serves the required action `during` (the
/// enrolment pages): allowed when that is the next one, or when none is pending.
pub async fn require_account_for(
    state: &ServerState,
    during: Option<latchkey_types::RequiredAction>,
) -> Result<latchkey_core::account::Account, ApiError> {
    let session = require_session(state).await?;
    match state.core.required_actions(&session).await?.first() {
        None => Ok(session.account),
        Some(next) if Some(*next) == during => Ok(session.account),
        Some(next) => Err(ApiError::ActionRequired { action: *next }),
    }
}

/// Runs a self-service step with the server state and the request's facts, answering at
/// the configured deadline (see [`at_deadline`]).
pub async fn self_service_step<T, F, Fut>(step: F) -> Result<T, ApiError>
where
    F: FnOnce(ServerState, RequestMeta) -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let state = state()?;
    let meta = request_meta()?;
    let deadline = state.core.self_service_settings().response_time;
    at_deadline(deadline, step(state, meta)).await
}

/// Runs `work` and answers no sooner than `deadline` after the request arrived, so that
/// the time a self-service step takes says nothing about which path it took.
pub async fn at_deadline<T>(
    deadline: std::time::Duration,
    work: impl std::future::Future<Output = T>,
) -> T {
    let start = tokio::time::Instant::now();
    let out = work.await;
    tokio::time::sleep_until(start + deadline).await;
    out
}
