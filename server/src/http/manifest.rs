//! `GET /manifest.webmanifest`: the web app manifest that makes the portal installable
//! on a phone. Generated, so the installed app carries the configured product name.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

use super::state::HttpState;

pub fn router() -> Router<HttpState> {
    Router::new().route("/manifest.webmanifest", get(manifest))
}

/// The installed app's names: the product name once (it often says "account help"
/// itself), with the organisation's name when it does not already contain it; a short
/// name that fits under a home-screen icon.
fn names(product: &str, organisation: Option<&str>) -> (String, String) {
    let name = match organisation {
        Some(org) if !product.to_lowercase().contains(&org.to_lowercase()) => {
            format!("{product} — {org}")
        }
        _ => product.to_owned(),
    };
    let short = if product.chars().count() <= 15 {
        product.to_owned()
    } else {
        "Account help".to_owned()
    };
    (name, short)
}

async fn manifest(State(state): State<HttpState>, headers: HeaderMap) -> Response {
    let settings = &state.server.settings;
    let (name, short_name) = names(&settings.product_name, settings.branding.name.as_deref());
    let body = serde_json::json!({
        "name": name,
        "short_name": short_name,
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
    let body = body.to_string();
    // Revalidated on every start of the installed app: an ETag makes that a 304.
    let etag = format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(body.as_bytes()))[..32]
    );
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    if fresh {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag_value),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/manifest+json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::ETAG, etag_value),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn the_product_name_appears_once_and_the_organisation_when_it_is_not_in_it() {
        assert_eq!(
            names("Example Health account help", Some("Example Health")),
            ("Example Health account help".into(), "Account help".into())
        );
        assert_eq!(
            names("Latchkey", Some("Example Health")),
            ("Latchkey — Example Health".into(), "Latchkey".into())
        );
        assert_eq!(
            names("Latchkey", None),
            ("Latchkey".into(), "Latchkey".into())
        );
    }
}
