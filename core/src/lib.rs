//! Latchkey's domain: organisations, identity stores, accounts, the lockout policy,
//! passwords, email notifications (the outbox) and the persistence store.
//!
//! Nothing here knows about HTTP or the browser. Time comes in through [`clock::Clock`]
//! and randomness through the callers, so that every rule can be tested without
//! sleeping or guessing.

pub mod account;
pub mod audit;
pub mod clock;
pub mod demo;
pub mod error;
pub mod lockout;
pub mod organisation;
pub mod outbox;
pub mod password;
pub mod random;
pub mod service;
pub mod session;
pub mod settings;
pub mod signin;
pub mod store;

pub use error::{CoreError, Invalid};
pub use service::Latchkey;
