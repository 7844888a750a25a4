//! The server functions, grouped by who calls them, and the types they exchange.
//! Every function is POSTed as JSON to `/api/<endpoint>`; `docs/API.md` lists them.

pub mod auth;
pub mod console;
pub mod demo;
pub mod enrolment;
pub mod lockmail;
pub mod portal;
pub mod required;
pub mod selfservice;
pub mod support;
