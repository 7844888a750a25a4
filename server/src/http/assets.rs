//! The two browser bundles built by Trunk: the portal (everything outside `/console`) and
//! the console. Assets come from memory-serve (embedded and compressed in release
//! builds); each bundle's HTML page is served here so that every response gets a fresh
//! CSP nonce for Trunk's inline loader script.

use std::sync::OnceLock;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use memory_serve::{Asset, CacheControl, MemoryServe};

use super::security::html_csp;
use super::state::HttpState;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/bundle_pages.rs"));
}

const ASSETS: &[(&str, &[Asset])] = include!(concat!(env!("OUT_DIR"), "/memory_serve_assets.rs"));

/// What Trunk writes into `nonce` attributes (`create_nonce = true` in Trunk.toml).
const NONCE_PLACEHOLDER: &str = "{{__TRUNK NONCE__}}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    Portal,
    Console,
}

impl Bundle {
    fn name(self) -> &'static str {
        match self {
            Bundle::Portal => "portal",
            Bundle::Console => "console",
        }
    }

    /// The HTML page, with the nonce placeholder, if the bundle was built.
    fn page(self) -> Option<&'static str> {
        match self {
            Bundle::Portal => generated::PORTAL_PAGE,
            Bundle::Console => generated::CONSOLE_PAGE,
        }
    }

    /// Trunk writes each bundle's page as `index.html` in the bundle's directory.
    fn page_route(self) -> &'static str {
        "/index.html"
    }

    /// The bundle's static files, minus its HTML page (served by [`page`] instead).
    fn assets(self) -> &'static [Asset] {
        static PORTAL: OnceLock<&'static [Asset]> = OnceLock::new();
        static CONSOLE: OnceLock<&'static [Asset]> = OnceLock::new();
        let cell = match self {
            Bundle::Portal => &PORTAL,
            Bundle::Console => &CONSOLE,
        };
        cell.get_or_init(|| {
            let all = ASSETS
                .iter()
                .find(|(name, _)| *name == self.name())
                .map(|(_, assets)| *assets)
                .unwrap_or_default();
            let kept: Vec<Asset> = all
                .iter()
                .filter(|a| a.route != self.page_route())
                .map(|a| Asset {
                    route: a.route,
                    path: a.path,
                    etag: a.etag,
                    content_type: a.content_type,
                    bytes: a.bytes,
                    is_compressed: a.is_compressed,
                    should_compress: a.should_compress,
                })
                .collect();
            // Leaked once per process: memory-serve wants a 'static slice.
            Box::leak(kept.into_boxed_slice())
        })
    }
}

/// Serves `bundle`'s assets, and its page for every other path (client-side routes).
pub fn bundle_router(bundle: Bundle) -> Router<HttpState> {
    let assets = bundle.assets();
    let files: Router<HttpState> = if assets.is_empty() {
        Router::new()
    } else {
        MemoryServe::new(assets)
            .index_file(None)
            .html_cache_control(CacheControl::NoCache)
            .cache_control(CacheControl::NoCache)
            .into_router()
    };
    files
        .fallback(move |uri: Uri| async move { page(bundle, &uri) })
        .layer(axum::middleware::from_fn(cache_hashed_assets))
}

fn page(bundle: Bundle, uri: &Uri) -> Response {
    let last = uri.path().rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        // A missing file, not a client-side route.
        return (StatusCode::NOT_FOUND, "Not found\n").into_response();
    }
    let Some(html) = bundle.page() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "The web interface has not been built. Run `make frontend`, then restart the server.\n",
        )
            .into_response();
    };
    let nonce = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    let body = html.replace(NONCE_PLACEHOLDER, &nonce);
    let csp = HeaderValue::from_str(&html_csp(&nonce))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        body,
    )
        .into_response()
}

/// Trunk puts a content hash in the names of the files it builds (`portal-<hex>.js`), so
/// those may be cached for good; everything else is revalidated by ETag. The hash is a
/// 64-bit number in hex *without leading zeros*: usually 16 digits, one time in sixteen
/// 15, rarely fewer — 8 or more hex digits are taken as a hash (no other file we serve
/// has such a part).
async fn cache_hashed_assets(req: Request, next: Next) -> Response {
    let hashed = is_hashed_name(req.uri().path());
    let mut res = next.run(req).await;
    if hashed && res.status().is_success() {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    res
}

fn is_hashed_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.split(['-', '_', '.'])
        .any(|part| (8..=16).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trunk_hashed_files_are_immutable() {
        assert!(is_hashed_name("/portal-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed_name("/console/console-1a2b3c4d5e6f7a8b.js"));
        // A hash with a leading zero has one digit fewer (seen in a real build).
        assert!(is_hashed_name("/console/console-4faf6e23d159ce6_bg.wasm"));
        assert!(!is_hashed_name("/icons/icon-192.png"));
        assert!(!is_hashed_name("/sw.js"));
        assert!(!is_hashed_name("/manifest.webmanifest"));
        assert!(!is_hashed_name("/unlock"));
    }
}
