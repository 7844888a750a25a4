//! Latchkey's connector to directory identity stores: OpenLDAP with the ppolicy overlay
//! (`ldap`) and Active Directory (`active_directory`). The directory is the source of
//! truth for its accounts: lock state is read from it, unlock and reset are written to
//! it, and signing in is a bind as the user.
//!
//! This crate is apart from `core` (which may use no network client) and never reaches
//! the Wasm bundles. Every operation opens its own connection (connect timeout, TLS or
//! StartTLS, bind as the service account), does one thing under the operation timeout
//! and closes it: no connection outlives a request, and a directory that is down costs
//! one timeout, never a hung request. Every failure is a [`DirectoryError`] naming the
//! directory — never a panic.

mod client;
pub mod lock;
mod settings;

pub use client::{BindOutcome, Directory, DirectoryAccount, DirectoryError, SearchQuery};
pub use lock::{LockCause, LockState};
pub use settings::{AttributeMap, DirectoryKind, DirectorySettings, SettingsError, Transport};
