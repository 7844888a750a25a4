//! `POST /api/<endpoint>`: the server functions. Before a call runs, the request must come
//! from our own origin; after it, a typed [`ApiError`] gets its HTTP status (and
//! `Retry-After`) here, in one place.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use latchkey_app::ssr::RequestMeta;
use latchkey_app::ApiError;
use leptos::prelude::provide_context;
use server_fn::error::SERVER_FN_ERROR_HEADER;
use tower_http::limit::RequestBodyLimitLayer;

use super::security::{client_addr, is_same_origin};
use super::state::HttpState;

/// Largest request body a server function accepts. Every input is a small form.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/api/{*endpoint}", post(call))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(no_store))
}

async fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Whether `path` is a registered server function's.
pub(crate) fn known_path(path: &str) -> bool {
    known_paths().contains(path)
}

/// Every registered server function's path (what `latchkey openapi` must describe).
pub(crate) fn registered_paths() -> impl Iterator<Item = &'static str> {
    known_paths().iter().copied()
}

/// The registered server-function paths, read once.
fn known_paths() -> &'static HashSet<&'static str> {
    static PATHS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| server_fn::axum::server_fn_paths().map(|(p, _)| p).collect())
}

async fn call(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    if !known_paths().contains(req.uri().path()) {
        return error_response(&ApiError::NotFound);
    }
    if !is_same_origin(req.headers(), &state.origin) {
        tracing::warn!(path = %req.uri().path(), "refused a cross-site call");
        return error_response(&ApiError::CrossSite);
    }
    let meta = RequestMeta {
        client: client_addr(peer.ip(), req.headers(), &state.trusted_proxies),
    };
    let server = state.server.clone();
    let res = leptos_axum::handle_server_fns_with_context(
        move || {
            provide_context(server.clone());
            provide_context(meta);
        },
        req,
    )
    .await
    .into_response();
    with_error_status(res).await
}

/// server_fn sends every error with status 500; give it the status its kind deserves.
async fn with_error_status(res: Response) -> Response {
    if !res.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return error_response(&ApiError::Internal),
    };
    if let Ok(err) = serde_json::from_slice::<ApiError>(&bytes) {
        parts.status = status_of(&err);
        if let Some(secs) = err.retry_after_secs() {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn status_of(err: &ApiError) -> StatusCode {
    StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An error answered before any server function ran, in the same shape as theirs.
pub fn error_response(err: &ApiError) -> Response {
    let body: Bytes = serde_json::to_vec(err).map(Bytes::from).unwrap_or_default();
    let mut res = (status_of(err), body).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(SERVER_FN_ERROR_HEADER, HeaderValue::from_static("latchkey"));
    if let Some(secs) = err.retry_after_secs() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    res
}
