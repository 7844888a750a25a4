//! What every handler is given.

use std::net::IpAddr;
use std::sync::Arc;

use latchkey_app::ssr::ServerState;

/// Shared by every handler.
#[derive(Clone)]
pub struct HttpState {
    pub server: ServerState,
    /// `scheme://host[:port]` of the configured base URL: the only origin allowed to
    /// call state-changing endpoints.
    pub origin: Arc<str>,
    pub https: bool,
    pub trusted_proxies: Arc<[IpAddr]>,
    /// The origin of the configured logo, if it is on another site: the pages' CSP
    /// allows images from there.
    pub logo_origin: Option<Arc<str>>,
}
