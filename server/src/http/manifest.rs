//! `GET /manifest.webmanifest`: the web app manifest that makes the portal installable
//! on a phone. Generated, so the installed app carries the configured product name.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::state::HttpState;

pub fn router() -> Router<HttpState> {
    Router::new().route("/manifest.webmanifest", get(manifest))
}

async fn manifest(State(state): State<HttpState>) -> impl IntoResponse {
    let name = &state.server.settings.product_name;
    let body = serde_json::json!({
        "name": format!("{name} — account help"),
        "short_name": name,
        "description": "Unlock your account or reset your password yourself.",
        "start_url": "/?source=app",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f7f8fa",
        "theme_color": "#1d4ed8",
        "icons": [
            { "src": "/icons/icon-192.png", "sizes": "192x192", "type": "image/png" },
            { "src": "/icons/icon-512.png", "sizes": "512x512", "type": "image/png" },
            { "src": "/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable" },
            { "src": "/icons/icon.svg", "sizes": "any", "type": "image/svg+xml" }
        ]
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/manifest+json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body.to_string(),
    )
}
