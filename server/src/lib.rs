//! Latchkey's server: configuration, the HTTP router, static hosting of the browser
//! bundles, the server-function endpoint and the command line. Thin by design: the rules
//! live in `latchkey-core`, the server functions in `latchkey-app`.

pub mod cli;
pub mod config;
pub mod directories;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod openapi;
pub mod startup;
pub mod telemetry;

pub use config::Config;
pub use startup::{AppOptions, Application};
