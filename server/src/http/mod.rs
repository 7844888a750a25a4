//! The router: health checks, server functions under `/api/`, the console bundle under
//! `/console`, the signed-in portal bundle at its pages (files under `/signed-in`), and the
//! recovery portal bundle for everything else.

pub(crate) mod api;
mod assets;
mod export;
mod health;
mod manifest;
pub mod security;
mod state;

pub use state::HttpState;

use axum::Router;
use tower_http::trace::TraceLayer;

pub fn router(state: HttpState, metrics: std::sync::Arc<crate::metrics::Metrics>) -> Router {
    let security = security::SecurityHeaders::new(state.https);
    let metrics_page = Router::new()
        .route("/metrics", axum::routing::get(crate::metrics::guarded))
        .with_state(std::sync::Arc::clone(&metrics));
    Router::new()
        .merge(health::router())
        .merge(manifest::router())
        .merge(api::router())
        .merge(export::router())
        .nest("/console", assets::bundle_router(assets::Bundle::Console))
        .nest(
            latchkey_app::portal::SIGNED_IN_ASSETS,
            assets::bundle_router(assets::Bundle::SignedIn),
        )
        .merge(assets::signed_in_pages())
        .merge(assets::bundle_router(assets::Bundle::Portal))
        .with_state(state)
        .merge(metrics_page)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            crate::metrics::track,
        ))
        .layer(axum::middleware::map_response_with_state(
            security,
            security::apply_headers,
        ))
        .layer(TraceLayer::new_for_http())
}
