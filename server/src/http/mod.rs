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

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

/// Drops a request id the client sent: ids are ours.
async fn forget_request_id(mut req: Request<Body>) -> Request<Body> {
    req.headers_mut().remove("x-request-id");
    req
}

/// The span every line of a request is logged in.
fn request_span(req: &Request<Body>) -> tracing::Span {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %req.method(),
        path = %req.uri().path(),
    )
}

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
        // Every line a request causes names it: an id made here (one a client sent is
        // replaced, so no caller can write into another request's trail), in the
        // `request` span and the response's `x-request-id`.
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::map_request(forget_request_id))
}
