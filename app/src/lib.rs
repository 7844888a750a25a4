//! Latchkey's user interface and the typed server functions it calls.
//!
//! Built twice: with `csr` into the browser bundles (portal and console, see
//! `frontend/`), and with `ssr` into the server, where the same `#[server]` functions run
//! their bodies against `latchkey-core`.

pub mod api;
pub mod captcha;
pub mod codec;
pub mod components;
pub mod console;
pub mod error;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod portal;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use error::ApiError;
