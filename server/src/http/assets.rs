//! The three browser bundles built by Trunk: the recovery portal (every path not named
//! below), the signed-in portal (at `latchkey_app::portal::SIGNED_IN_PATHS`, its files
//! under `/signed-in`) and the console (under `/console`). Assets come from memory-serve (embedded and compressed in release
//! builds); each bundle's HTML page is served here so that every response gets a fresh
//! CSP nonce for Trunk's inline loader script.

use std::sync::OnceLock;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
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
/// Where the recovery portal's first paint (the static markup in `index.html`, shown
/// before the Wasm runs) names the product: filled in per response, HTML-escaped.
const PRODUCT_PLACEHOLDER: &str = "{{__LATCHKEY PRODUCT__}}";
/// Where the start page's first paint lists the channels the portal is offered on.
const CHANNELS_PLACEHOLDER: &str = "{{__LATCHKEY CHANNELS__}}";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    Portal,
    SignedIn,
    Console,
}

impl Bundle {
    fn name(self) -> &'static str {
        match self {
            Bundle::Portal => "portal",
            Bundle::SignedIn => "signed_in",
            Bundle::Console => "console",
        }
    }

    /// The HTML page, with the nonce placeholder, if the bundle was built.
    fn page(self) -> Option<&'static str> {
        match self {
            Bundle::Portal => generated::PORTAL_PAGE,
            Bundle::SignedIn => generated::SIGNED_IN_PAGE,
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
        static SIGNED_IN: OnceLock<&'static [Asset]> = OnceLock::new();
        static CONSOLE: OnceLock<&'static [Asset]> = OnceLock::new();
        let cell = match self {
            Bundle::Portal => &PORTAL,
            Bundle::SignedIn => &SIGNED_IN,
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
        .fallback(
            move |State(state): State<HttpState>, uri: Uri, headers: HeaderMap| async move {
                page(bundle, &uri, &headers, &state)
            },
        )
        .layer(axum::middleware::from_fn(cache_hashed_assets))
}

/// The signed-in bundle's page at each of its paths (its files are under
/// `SIGNED_IN_ASSETS`, see [`bundle_router`]).
pub fn signed_in_pages() -> Router<HttpState> {
    latchkey_app::portal::SIGNED_IN_PATHS
        .iter()
        .fold(Router::new(), |router, path| {
            router.route(
                path,
                axum::routing::get(
                    |State(state): State<HttpState>, uri: Uri, headers: HeaderMap| async move {
                        page(Bundle::SignedIn, &uri, &headers, &state)
                    },
                ),
            )
        })
}

fn page(bundle: Bundle, uri: &Uri, headers: &HeaderMap, state: &HttpState) -> Response {
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
    let settings = &state.server.settings;
    let body = html
        .replace(NONCE_PLACEHOLDER, &nonce)
        .replace(PRODUCT_PLACEHOLDER, &escape_html(&settings.product_name))
        .replace(CHANNELS_PLACEHOLDER, &channels_html(&settings.channels));
    let csp = HeaderValue::from_str(&html_csp(&nonce, state.logo_origin.as_deref()))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
    // Compressed like every other file we serve: a phone on a poor connection waits for
    // this page before anything else.
    let compressed = accepts_brotli(headers)
        .then(|| brotli_compress(body.as_bytes()))
        .flatten();
    let is_brotli = compressed.is_some();
    let mut res = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ],
        compressed.map_or_else(|| body.into(), axum::body::Body::from),
    )
        .into_response();
    if is_brotli {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
    }
    res
}

/// The start page's list of channels, as the app renders it (`portal::home`).
fn channels_html(channels: &[latchkey_types::Channel]) -> String {
    channels
        .iter()
        .map(|&c| {
            let (name, how) = latchkey_app::portal::channel_words(c);
            let key: &'static str = c.into();
            format!(
                "<li data-channel=\"{key}\"><strong>{}</strong> — {}</li>",
                escape_html(name),
                escape_html(how)
            )
        })
        .collect()
}

/// `text` as HTML text content or a quoted attribute value.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether the client takes brotli (`br` in Accept-Encoding, not refused with `q=0`).
fn accepts_brotli(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next() == Some("br") && parts.all(|p| p.replace(' ', "") != "q=0")
        })
}

/// The page compressed for the wire. It is rebuilt per request (the nonce), so a
/// middling quality: a couple of kilobytes take well under a millisecond.
fn brotli_compress(bytes: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write as _;
    let mut out = Vec::with_capacity(bytes.len() / 2);
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        writer.write_all(bytes).ok()?;
        writer.flush().ok()?;
    }
    Some(out)
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

    #[test]
    fn the_product_name_is_escaped_for_the_page() {
        assert_eq!(
            escape_html(r#"A&B <i>"x"</i> 'y'"#),
            "A&amp;B &lt;i&gt;&quot;x&quot;&lt;/i&gt; &#39;y&#39;"
        );
    }

    #[test]
    fn brotli_is_used_only_when_the_client_takes_it() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            accepts_brotli(&h)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=0.5"));
        assert!(!with("gzip, deflate"));
        assert!(!with("br;q=0, gzip"));
        assert!(!accepts_brotli(&HeaderMap::new()));
    }
}
