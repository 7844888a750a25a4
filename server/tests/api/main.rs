//! Integration tests: each starts the real server on a random port with a fresh
//! database (see `harness`) and talks HTTP to it, as a browser or an attacker would.
//! One test binary with modules, so it links once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

mod audit;
mod backup;
mod bad_input;
mod console;
mod copy_to;
mod crash;
mod directories;
mod enrolment;
mod health;
mod helpdesk;
mod lockmail;
mod lockout;
mod logs;
mod mail;
mod memory;
mod metrics;
mod openapi;
mod portal;
mod required;
mod security;
mod selfservice;
mod sessions;
mod signin;
mod support;
mod three_servers;

mod on_postgres;
