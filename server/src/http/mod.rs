//! The router: health checks, server functions under `/api/`, the console bundle under
//! `/console`, and the portal bundle for everything else.

mod api;
mod assets;
mod health;
mod manifest;
pub mod security;

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use latchkey_app::ssr::ServerState;
use tower_http::trace::TraceLayer;

/// Shared by every handler.
#[derive(Clone)]
pub struct HttpState {
    pub server: ServerState,
    /// `scheme://host[:port]` of the configured base URL: the only origin allowed to
    /// call state-changing endpoints.
    pub origin: Arc<str>,
    pub https: bool,
    pub trusted_proxies: Arc<[IpAddr]>,
}

pub fn router(state: HttpState) -> Router {
    let security = security::SecurityHeaders::new(state.https);
    Router::new()
        .merge(health::router())
        .merge(manifest::router())
        .merge(api::router())
        .nest("/console", assets::bundle_router(assets::Bundle::Console))
        .merge(assets::bundle_router(assets::Bundle::Portal))
        .with_state(state)
        .layer(axum::middleware::map_response_with_state(
            security,
            security::apply_headers,
        ))
        .layer(TraceLayer::new_for_http())
}
