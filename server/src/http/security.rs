//! Response headers every page and call carries, the same-origin check that protects
//! state-changing calls from cross-site request forgery, and the client address.

use std::net::IpAddr;

use axum::extract::State;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;

/// Content Security Policy for anything that is not an HTML page (JSON, assets):
/// nothing may be loaded or framed.
const CSP_NON_HTML: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
/// For static HTML without scripts (the offline page): its own styles and images only.
const CSP_STATIC_HTML: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/// For scripts: what applies to a worker is the policy its script came with, and the
/// service worker must be able to fetch our own files.
const CSP_SCRIPT: &str = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Content Security Policy for the HTML pages. The only inline script is Trunk's loader,
/// allowed by a per-response nonce; `wasm-unsafe-eval` lets it compile the Wasm module.
pub fn html_csp(nonce: &str, logo_origin: Option<&str>) -> String {
    let img = match logo_origin {
        Some(origin) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'none'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src {img}; connect-src 'self'; manifest-src 'self'; \
         worker-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'; object-src 'none'"
    )
}

#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    /// Send HSTS: only when the configured base URL is https.
    pub hsts: bool,
}

impl SecurityHeaders {
    pub fn new(https: bool) -> Self {
        Self { hsts: https }
    }
}

/// Adds the headers to every response; a handler's own Content-Security-Policy (the
/// HTML pages' nonce-based one) is kept.
pub async fn apply_headers(State(cfg): State<SecurityHeaders>, mut res: Response) -> Response {
    let h = res.headers_mut();
    let fixed: [(HeaderName, &'static str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        let content_type = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let policy = if content_type.starts_with("text/html") {
            CSP_STATIC_HTML
        } else if content_type.contains("javascript") {
            CSP_SCRIPT
        } else {
            CSP_NON_HTML
        };
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        );
    }
    if cfg.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    res
}

/// Whether a state-changing request comes from our own pages: its `Origin` is the
/// configured origin, or (where a browser sends no `Origin`) its `Sec-Fetch-Site` says
/// same-origin. Anything else, including a request with neither header, is refused.
pub fn is_same_origin(headers: &HeaderMap, origin: &str) -> bool {
    if let Some(sent) = headers.get(header::ORIGIN) {
        return sent.as_bytes() == origin.as_bytes();
    }
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"same-origin")
}

/// The client's address: the socket peer, unless the peer is a trusted proxy, in which
/// case the right-most `X-Forwarded-For` entry that is not itself a trusted proxy.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // A malformed hop: stop believing anything further left.
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_our_origin_may_change_things() {
        let ours = "https://unlock.example.org";
        assert!(is_same_origin(
            &headers(&[("origin", "https://unlock.example.org")]),
            ours
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "https://evil.example")]),
            ours
        ));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), ours));
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            ours
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            ours
        ));
        assert!(!is_same_origin(&headers(&[]), ours));
        // A matching Sec-Fetch-Site does not rescue a foreign Origin.
        assert!(!is_same_origin(
            &headers(&[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin")
            ]),
            ours
        ));
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.7")]);
        // Not from a proxy: the header is ignored.
        assert_eq!(client_addr(client, &spoofed, &[proxy]), client);
        // From the proxy: the right-most untrusted hop, not the left-most (forgeable) one.
        assert_eq!(client_addr(proxy, &spoofed, &[proxy]), client);
        assert_eq!(client_addr(proxy, &headers(&[]), &[proxy]), proxy);
        let garbage = headers(&[("x-forwarded-for", "not-an-ip")]);
        assert_eq!(client_addr(proxy, &garbage, &[proxy]), proxy);
    }
}
