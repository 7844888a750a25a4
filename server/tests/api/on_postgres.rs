//! The lockout, lock-mail link, self-service, mail (outbox), console, helpdesk, support
//! and required-action tests again, each on a new database of a throwaway PostgreSQL cluster:
//! the same files, whose
//! `super::harness` is this module's `harness`, which starts every server on PostgreSQL
//! (a test that starts its own `latchkey` process on an SQLite file stays on SQLite).
//! Loading each file a second time is the point (clippy's `duplicate_mod` would have one
//! copy).
#![allow(clippy::duplicate_mod)]

mod harness {
    pub use crate::harness::*;
    use latchkey_server::Config;

    pub async fn spawn_app() -> TestApp {
        spawn_app_on(Backend::Postgres, |_| {}).await
    }

    pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        spawn_app_on(Backend::Postgres, configure).await
    }

    pub async fn spawn_app_without_demo() -> TestApp {
        spawn_app_without_demo_on(Backend::Postgres).await
    }
}

#[path = "console.rs"]
mod console;
#[path = "helpdesk.rs"]
mod helpdesk;
#[path = "lockmail.rs"]
mod lockmail;
#[path = "lockout.rs"]
mod lockout;
#[path = "mail.rs"]
mod mail;
#[path = "required.rs"]
mod required;
#[path = "selfservice.rs"]
mod selfservice;
#[path = "support.rs"]
mod support;
