//! Latchkey's domain: organisations, identity stores, accounts, the lockout policy,
//! passwords, email notifications (the outbox) and the persistence store.
//!
//! Nothing here knows about HTTP or the browser. Time comes in through [`clock::Clock`]
//! and randomness through the callers, so that every rule can be tested without
//! sleeping or guessing.

pub mod account;
pub mod audit;
pub mod clock;
pub mod code;
pub mod demo;
pub mod enrolment;
pub mod error;
pub mod factor;
pub mod flow;
pub mod keys;
pub mod lockout;
pub mod organisation;
pub mod outbox;
pub mod password;
pub mod random;
pub mod selfservice;
pub mod service;
pub mod session;
pub mod settings;
pub mod signin;
pub mod store;
pub mod throttle;
pub mod token;

pub use error::{CoreError, FlowError, Invalid};
pub use service::Latchkey;
