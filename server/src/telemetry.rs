//! Logging with `tracing`: JSON lines when the output is not a terminal (a service
//! manager, a container, a file), human-readable on a terminal, or as configured. Every
//! line a request causes carries its `request_id` (the `request` span, see
//! `http::router`), also sent back in the `x-request-id` response header.

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global subscriber. `RUST_LOG`, when set, wins over the configured filter.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    // `try_init` fails only if a subscriber exists already (tests); that one is kept.
    let json = match config.format {
        LogFormat::Human => false,
        LogFormat::Json => true,
        LogFormat::Auto => !std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
