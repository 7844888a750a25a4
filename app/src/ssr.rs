//! Server-side glue: the state server functions run against, and the single mapping
//! from domain errors to [`ApiError`].

use std::sync::Arc;

use latchkey_core::clock::Clock;
use latchkey_core::password::PasswordHasher;
use latchkey_core::settings::PortalSettings;
use latchkey_core::store::{Store, StoreError};
use latchkey_core::CoreError;
use leptos::prelude::use_context;

use crate::error::ApiError;

/// Everything a server function may use; provided as Leptos context for each call.
#[derive(Clone)]
pub struct ServerState {
    pub settings: Arc<PortalSettings>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub hasher: PasswordHasher,
}

/// The state for the current server-function call.
pub fn state() -> Result<ServerState, ApiError> {
    use_context::<ServerState>().ok_or_else(|| {
        tracing::error!("server function called without ServerState in context");
        ApiError::Internal
    })
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid(i) => ApiError::invalid(i.field, i.message),
            CoreError::Busy { retry_after_secs } => ApiError::Busy { retry_after_secs },
            CoreError::NotFound => ApiError::NotFound,
            CoreError::Store(e) => e.into(),
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
