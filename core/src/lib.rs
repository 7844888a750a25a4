//! Latchkey's domain: organisations, identity stores, accounts, the lockout policy,
//! passwords, self-service flows and factors, sessions, the audit log, email
//! notifications (the outbox), permissions and the persistence store.
//!
//! Nothing here knows about HTTP or the browser. Time comes in through [`clock::Clock`]
//! and randomness through [`random::Random`], so that every rule can be tested without
//! sleeping or guessing. The modules form layers without a circle (`make lint` checks):
//! values and pure rules at the bottom, the store traits above them, factors and use
//! cases (methods on [`Latchkey`]) on top — see `docs/ARCHITECTURE.md`.

// Values and pure rules.
pub mod account;
pub mod audit;
pub mod auth_flow;
pub mod authz;
pub mod caller_check;
pub mod clock;
pub mod code;
pub mod credentials;
pub mod directory;
pub mod error;
pub mod flow;
pub mod keys;
pub mod lockout;
pub mod organisation;
pub mod outbox;
pub mod password;
pub mod random;
pub mod session;
pub mod settings;
pub mod throttle;
pub mod token;

// Persistence.
pub mod store;

// Factors and use cases.
mod client_limits;
pub mod demo;
mod directory_users;
pub mod enrolment;
pub mod factor;
pub mod helpdesk;
pub mod history;
pub mod lock_link;
pub mod operators;
pub mod policy;
pub mod required;
pub mod selfservice;
pub mod service;
pub mod signin;
pub mod support;
pub mod users;

pub use error::{CoreError, FlowError, Invalid};
pub use service::{Latchkey, Parts};
