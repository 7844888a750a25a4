//! The OpenAPI description of the server functions (`docs/openapi.json`, printed by
//! `latchkey openapi`), made from the Rust types themselves: each function's path comes
//! from its server function (`ServerFn::PATH`), its answer from its return type, its input
//! from its arguments and every schema from the wire types' `utoipa` derives. Only the
//! server's build has this module (feature `openapi`): the browser bundles never carry it.
//!
//! The table below is checked by the compiler: an entry's fields must be exactly the
//! function's arguments, with their types. The server checks that every registered
//! server function has an entry (`latchkey openapi` refuses otherwise, and a test says
//! so), so a new server function cannot be left out.

use std::any::TypeId;

use serde_json::{json, Map, Value};
use server_fn::ServerFn;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::error::ApiError;

/// An error kind a server function may answer, named as on the wire (`kind`). Every
/// [`ApiError`] but `network` (which only the browser raises) is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Invalid,
    RateLimited,
    Busy,
    Unauthenticated,
    Forbidden,
    NotFound,
    ActionRequired,
    ResecureBlocked,
    UnlockRefused,
    DirectoryUnavailable,
    FlowEnded,
    OutOfOrder,
    CrossSite,
    Internal,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Invalid,
        Kind::RateLimited,
        Kind::Busy,
        Kind::Unauthenticated,
        Kind::Forbidden,
        Kind::NotFound,
        Kind::ActionRequired,
        Kind::ResecureBlocked,
        Kind::UnlockRefused,
        Kind::DirectoryUnavailable,
        Kind::FlowEnded,
        Kind::OutOfOrder,
        Kind::CrossSite,
        Kind::Internal,
    ];

    /// A value of this kind: its wire name and status come from it.
    pub fn sample(self) -> ApiError {
        match self {
            Kind::Invalid => ApiError::invalid("field", "message"),
            Kind::RateLimited => ApiError::RateLimited {
                retry_after_secs: 1,
            },
            Kind::Busy => ApiError::Busy {
                retry_after_secs: 1,
            },
            Kind::Unauthenticated => ApiError::Unauthenticated,
            Kind::Forbidden => ApiError::Forbidden,
            Kind::NotFound => ApiError::NotFound,
            Kind::ActionRequired => ApiError::ActionRequired {
                action: latchkey_types::RequiredAction::AcceptAup,
            },
            Kind::ResecureBlocked => ApiError::ResecureBlocked {
                reason: latchkey_types::console::ResecureBlock::Locked,
            },
            Kind::UnlockRefused => ApiError::UnlockRefused {
                reason: latchkey_types::console::UnlockRefusal::NotVerified,
            },
            Kind::DirectoryUnavailable => ApiError::DirectoryUnavailable {
                directory: String::new(),
                message: String::new(),
            },
            Kind::FlowEnded => ApiError::FlowEnded {
                message: String::new(),
            },
            Kind::OutOfOrder => ApiError::OutOfOrder,
            Kind::CrossSite => ApiError::CrossSite,
            Kind::Internal => ApiError::Internal,
        }
    }

    /// The kind of `e`; `None` for `network`. Exhaustive, so a new [`ApiError`] variant
    /// must be given a kind here.
    pub fn of(e: &ApiError) -> Option<Kind> {
        Some(match e {
            ApiError::Invalid { .. } => Kind::Invalid,
            ApiError::RateLimited { .. } => Kind::RateLimited,
            ApiError::Busy { .. } => Kind::Busy,
            ApiError::Unauthenticated => Kind::Unauthenticated,
            ApiError::Forbidden => Kind::Forbidden,
            ApiError::NotFound => Kind::NotFound,
            ApiError::ActionRequired { .. } => Kind::ActionRequired,
            ApiError::ResecureBlocked { .. } => Kind::ResecureBlocked,
            ApiError::UnlockRefused { .. } => Kind::UnlockRefused,
            ApiError::DirectoryUnavailable { .. } => Kind::DirectoryUnavailable,
            ApiError::FlowEnded { .. } => Kind::FlowEnded,
            ApiError::OutOfOrder => Kind::OutOfOrder,
            ApiError::CrossSite => Kind::CrossSite,
            ApiError::Internal => Kind::Internal,
            ApiError::Network => return None,
        })
    }

    /// The `kind` on the wire.
    pub fn name(self) -> String {
        serde_json::to_value(self.sample())
            .ok()
            .and_then(|v| v.get("kind").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default()
    }

    pub fn status(self) -> u16 {
        self.sample().http_status()
    }
}

/// What every server function may answer: refused input, a request from another site,
/// a fault on the server (the general errors of `docs/API.md`).
const GENERAL: [Kind; 3] = [Kind::Invalid, Kind::CrossSite, Kind::Internal];

/// Which session cookie a function needs (it answers `unauthenticated` without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Portal,
    Console,
}

/// One server function, described.
pub struct Endpoint {
    /// `/api/<endpoint>`, from the server function.
    pub path: &'static str,
    /// The group it is listed under (`docs/API.md`'s sections).
    pub tag: &'static str,
    /// The JSON object of its arguments.
    pub input: Value,
    /// Its answer.
    pub output: Value,
    /// The error kinds it may answer besides the general ones.
    pub errors: Vec<Kind>,
    /// The schemas `input` and `output` refer to.
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

impl Endpoint {
    /// `endpoint` in `/api/<endpoint>`.
    pub fn name(&self) -> &'static str {
        self.path.strip_prefix("/api/").unwrap_or(self.path)
    }

    /// The session it needs: one that can answer `unauthenticated`.
    pub fn audience(&self) -> Option<Audience> {
        if !self.errors.contains(&Kind::Unauthenticated) {
            None
        } else if self.tag == "console" {
            Some(Audience::Console)
        } else {
            Some(Audience::Portal)
        }
    }
}

fn to_value(schema: RefOr<Schema>) -> Value {
    serde_json::to_value(schema).unwrap_or(Value::Null)
}

/// The schema of a server function's answer: `()` is JSON `null`; a type of ours (not a
/// primitive, an `Option` or a `Vec`) is also a component, referred to by name.
fn output_schema<T: ToSchema + 'static>(schemas: &mut Vec<(String, RefOr<Schema>)>) -> Value {
    if TypeId::of::<T>() == TypeId::of::<()>() {
        return json!({ "type": "null" });
    }
    if std::any::type_name::<T>().starts_with("latchkey_") {
        schemas.push((T::name().into_owned(), T::schema()));
    }
    T::schemas(schemas);
    to_value(<T as PartialSchema>::schema())
}

/// The schema of a named wire type (`$ref`), with the schemas it refers to.
fn named<T: ToSchema>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
}

/// `endpoints! { tag: path::To::ArgsStruct { arg: Type, … } [extra error kinds]; … }`:
/// the argument struct is the one `#[server]` makes of the function (`sign_in` →
/// `SignIn`); its path and answer come from it.
macro_rules! endpoints {
    ($( $tag:literal : $args:path { $($field:ident : $ty:ty),* $(,)? } [$($kind:ident),* $(,)?] ; )*) => {
        /// Every server function, described (in the order of `docs/API.md`).
        pub fn endpoints() -> Vec<Endpoint> {
            vec![$({
                /// The arguments, as the request's JSON object.
                #[derive(utoipa::ToSchema)]
                #[serde(deny_unknown_fields)]
                #[allow(dead_code)]
                struct Input { $($field: $ty),* }

                /// The compiler's check that the table matches the function: exactly
                /// its arguments, with their types.
                #[allow(dead_code)]
                fn same_arguments(args: $args) -> Input {
                    let $args { $($field),* } = args;
                    Input { $($field),* }
                }

                let mut schemas = Vec::new();
                <Input as utoipa::ToSchema>::schemas(&mut schemas);
                Endpoint {
                    path: <$args as ServerFn>::PATH,
                    tag: $tag,
                    input: to_value(<Input as PartialSchema>::schema()),
                    output: output_schema::< <$args as ServerFn>::Output >(&mut schemas),
                    errors: vec![$(Kind::$kind),*],
                    schemas,
                }
            }),*]
        }
    };
}

endpoints! {
    "portal": crate::api::portal::FetchPortalInfo {} [];
    "sign-in": crate::api::auth::SignIn { username: String, password: String } [RateLimited, Busy];
    "sign-in": crate::api::auth::CurrentAccount {} [];
    "sign-in": crate::api::auth::SignOut {} [];

    "self-service": crate::api::selfservice::FlowStart {
        action: latchkey_types::FlowAction,
        channel: latchkey_types::Channel,
    } [RateLimited];
    "self-service": crate::api::selfservice::FlowIdentify { flow_id: String, username: String }
        [RateLimited, Busy, OutOfOrder, FlowEnded];
    "self-service": crate::api::selfservice::FlowAnswer {
        flow_id: String,
        step: usize,
        answer: latchkey_types::Answer,
    } [RateLimited, Busy, OutOfOrder, FlowEnded];
    "self-service": crate::api::selfservice::FlowResend { flow_id: String, step: usize }
        [RateLimited, Busy, OutOfOrder, FlowEnded];
    "self-service": crate::api::selfservice::FlowSwitch {
        flow_id: String,
        step: usize,
        factor: latchkey_types::FactorKind,
    } [RateLimited, Busy, OutOfOrder, FlowEnded];
    "self-service": crate::api::selfservice::FlowPassword {
        flow_id: String,
        password: String,
        confirm: String,
    } [RateLimited, Busy, OutOfOrder, FlowEnded];
    "self-service": crate::api::selfservice::FlowStatus { flow_id: String } [FlowEnded];
    "self-service": crate::api::lockmail::LockLinkUnlock {
        token: String,
        channel: latchkey_types::Channel,
    } [Invalid, RateLimited, FlowEnded];
    "self-service": crate::api::lockmail::LockLinkNotMe { token: String }
        [Invalid, RateLimited, FlowEnded];
    "self-service": crate::api::support::SupportCaptcha {} [RateLimited];
    "self-service": crate::api::support::SupportRequest {
        full_name: String,
        email: String,
        description: String,
        captcha: latchkey_types::CaptchaSolution,
    } [Invalid, RateLimited, NotFound];

    "enrolment": crate::api::enrolment::SecurityQuestions {} [Unauthenticated, ActionRequired];
    "enrolment": crate::api::enrolment::EnrolSecurityQuestions {
        questions: Vec<crate::api::enrolment::QuestionAnswer>,
    } [Unauthenticated, ActionRequired, Busy];
    "enrolment": crate::api::enrolment::AuthenticatorBegin {} [Unauthenticated, ActionRequired];
    "enrolment": crate::api::enrolment::AuthenticatorConfirm { code: String }
        [Unauthenticated, ActionRequired];
    "enrolment": crate::api::enrolment::RecoveryEmailBegin { address: String }
        [Unauthenticated, ActionRequired, RateLimited];
    "enrolment": crate::api::enrolment::RecoveryEmailConfirm { code: String }
        [Unauthenticated, ActionRequired, RateLimited];
    "enrolment": crate::api::enrolment::RecoveryEmailRemove {} [Unauthenticated, ActionRequired];

    "required-actions": crate::api::required::RequiredActions {} [Unauthenticated];
    "required-actions": crate::api::required::DeviceAuthorize { code: String }
        [Unauthenticated, Forbidden, ActionRequired, RateLimited];
    "required-actions": crate::api::required::ChangePassword {
        current: String,
        password: String,
        confirm: String,
    } [Unauthenticated, Forbidden, ActionRequired, Busy];
    "required-actions": crate::api::required::FetchAupText {} [Unauthenticated, ActionRequired];
    "required-actions": crate::api::required::AcceptAup { version: i64 }
        [Unauthenticated, Forbidden, ActionRequired];
    "required-actions": crate::api::required::FetchProfile {} [Unauthenticated, ActionRequired];
    "required-actions": crate::api::required::UpdateProfile {
        profile: crate::api::required::Profile,
    } [Unauthenticated, Forbidden, ActionRequired];

    "demo": crate::api::demo::FetchDemoMailbox {} [NotFound];
    "demo": crate::api::demo::FetchDemoMail { id: String } [NotFound];

    "console": crate::api::console::ConsoleSignIn {
        username: String,
        password: String,
        code: Option<String>,
    } [RateLimited, Busy];
    "console": crate::api::console::ConsoleMe {} [];
    "console": crate::api::console::ConsoleSignOut {} [];
    "console": crate::api::console::ConsoleOrganisations {} [Unauthenticated, Forbidden];
    "console": crate::api::console::users::UsersSearch {
        query: latchkey_types::console::UserQuery,
    } [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::users::FetchUserDetail { id: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::users::UserUnlock { id: String, advise_reset: bool }
        [Unauthenticated, Forbidden, NotFound, UnlockRefused, DirectoryUnavailable];
    "console": crate::api::console::users::UserLink { id: String, account: String }
        [Unauthenticated, Forbidden, NotFound, DirectoryUnavailable];
    "console": crate::api::console::users::UserUnlink { id: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::helpdesk::FetchUnlockPlan { id: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::helpdesk::CallerCheckStart {
        id: String,
        factor: latchkey_types::FactorKind,
    } [Unauthenticated, Forbidden, NotFound, UnlockRefused];
    "console": crate::api::console::helpdesk::CallerCheckAnswer {
        check: String,
        answer: latchkey_types::Answer,
    } [Unauthenticated, Forbidden, NotFound, Busy];
    "console": crate::api::console::helpdesk::UsersUnlock { ids: Vec<String>, advise_reset: bool }
        [Unauthenticated, Forbidden];
    "console": crate::api::console::helpdesk::HelpdeskPolicy { organisation: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::helpdesk::HelpdeskModeSet {
        organisation: String,
        role: latchkey_types::Role,
        mode: latchkey_types::console::HelpdeskMode,
    } [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::support::FetchSupportQueue {
        status: Option<latchkey_types::support::RequestStatus>,
    } [Unauthenticated, Forbidden];
    "console": crate::api::console::support::SupportRequestGet { reference: String }
        [Invalid, Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::support::SupportRequestUpdate {
        reference: String,
        status: latchkey_types::support::RequestStatus,
        message: Option<String>,
    } [Invalid, Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::support::FetchSelfUnlockCap { organisation: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::support::SelfUnlockCapSet {
        organisation: String,
        cap: latchkey_types::support::SelfUnlockCap,
    } [Invalid, Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::users::UserCreate { user: latchkey_types::console::UserForm }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::users::UserUpdate {
        id: String,
        user: latchkey_types::console::UserForm,
    } [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::users::UserSetStatus {
        id: String,
        status: latchkey_types::AccountStatus,
    } [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::users::UserRevokeSession { id: String, session: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::users::UserResetMfa { id: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::users::GeneratePassword {} [Unauthenticated, Forbidden];
    "console": crate::api::console::users::UserResecure {
        id: String,
        resecure: latchkey_types::console::ResecureForm,
    } [Unauthenticated, Forbidden, NotFound, ResecureBlocked, Busy];
    "console": crate::api::console::history::History {
        filter: latchkey_types::console::HistoryFilter,
        before: Option<i64>,
    } [Unauthenticated, Forbidden];
    "console": crate::api::console::history::FetchChainState {} [Unauthenticated, Forbidden];
    "console": crate::api::console::history::FetchActivity {} [Unauthenticated, Forbidden];
    "console": crate::api::console::policy::LockoutPolicies {} [Unauthenticated, Forbidden];
    "console": crate::api::console::policy::LockoutPolicySet {
        policy: latchkey_types::console::LockoutPolicyView,
    } [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::policy::AuthFlows {} [Unauthenticated, Forbidden];
    "console": crate::api::console::policy::AuthFlowSet {
        flow: latchkey_types::console::AuthFlowView,
    } [Unauthenticated, Forbidden];
    "console": crate::api::console::policy::Catalogue { organisation: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::policy::CatalogueAdd { organisation: String, text: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::policy::CatalogueSetActive {
        organisation: String,
        id: i64,
        active: bool,
    } [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::policy::Aup { organisation: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::policy::AupSet { organisation: String, text: String }
        [Unauthenticated, Forbidden, NotFound];
    "console": crate::api::console::mail::Mail {} [Unauthenticated, Forbidden];
    "console": crate::api::console::mail::MailResend { id: String }
        [Unauthenticated, Forbidden, NotFound];
}

/// The error schemas of `kinds`, taken from [`ApiError`]'s own schema (one per `kind`).
fn error_schema(all_errors: &Value, kinds: &[Kind]) -> Value {
    let names: Vec<String> = kinds.iter().map(|k| k.name()).collect();
    let items: Vec<Value> = all_errors
        .get("oneOf")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter(|item| {
                    item.pointer("/properties/kind/enum/0")
                        .and_then(Value::as_str)
                        .is_some_and(|k| names.iter().any(|n| n == k))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    match <[Value; 1]>::try_from(items) {
        Ok([one]) => one,
        Err(items) => json!({ "oneOf": items }),
    }
}

fn operation(e: &Endpoint, all_errors: &Value) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".to_owned(),
        json!({
            "description": "The function's answer.",
            "content": { "application/json": { "schema": e.output } },
        }),
    );
    let mut kinds: Vec<Kind> = GENERAL.iter().chain(&e.errors).copied().collect();
    kinds.sort();
    kinds.dedup();
    let mut statuses: Vec<u16> = kinds.iter().map(|k| k.status()).collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let these: Vec<Kind> = kinds
            .iter()
            .copied()
            .filter(|k| k.status() == status)
            .collect();
        let names: Vec<String> = these.iter().map(|k| format!("`{}`", k.name())).collect();
        let mut response = json!({
            "description": format!("An error: {}.", names.join(" or ")),
            "content": { "application/json": { "schema": error_schema(all_errors, &these) } },
        });
        if these
            .iter()
            .any(|k| k.sample().retry_after_secs().is_some())
        {
            response["headers"] = json!({
                "Retry-After": {
                    "description": "Seconds to wait before trying again.",
                    "schema": { "type": "integer", "minimum": 0 },
                },
            });
        }
        responses.insert(status.to_string(), response);
    }
    responses.insert(
        "413".to_owned(),
        json!({
            "description": "The request body is over 64 KiB.",
            "content": { "text/plain": { "schema": { "type": "string" } } },
        }),
    );
    let mut op = json!({
        "operationId": e.name(),
        "tags": [e.tag],
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": e.input } },
        },
        "responses": responses,
    });
    match e.audience() {
        Some(Audience::Portal) => op["security"] = json!([{ "portal_session": [] }]),
        Some(Audience::Console) => op["security"] = json!([{ "console_session": [] }]),
        None => {}
    }
    op
}

const DESCRIPTION: &str = "Latchkey's server functions: each is `POST /api/<endpoint>` with \
a JSON object of exactly the listed fields (an unknown or missing field, a wrong type, invalid \
JSON or trailing data is refused with 400 `invalid`, naming the field) and answers JSON. Every \
request must carry an `Origin` header equal to the configured `base_url`'s origin (otherwise \
403 `cross_site`). Functions marked with a session need the portal's (`latchkey_session`) or \
the console's (`latchkey_console`) cookie; without it they answer 401 `unauthenticated`. \
Every answer has `Cache-Control: no-store`. The prose reference is docs/API.md; this file is \
generated by `latchkey openapi` (`make openapi`) from the Rust types.";

/// Replaces every schema inside `value` that is a component's whole schema by a `$ref` to
/// that component (utoipa writes a type's schema out in full where it is used directly).
fn refer(value: &mut Value, components: &[(String, Value)], is_root: bool) {
    if !is_root {
        if let Some((name, _)) = components.iter().find(|(_, schema)| schema == value) {
            *value = json!({ "$ref": format!("#/components/schemas/{name}") });
            return;
        }
    }
    match value {
        Value::Object(map) => map.values_mut().for_each(|v| refer(v, components, false)),
        Value::Array(items) => items.iter_mut().for_each(|v| refer(v, components, false)),
        _ => {}
    }
}

/// The whole description, as JSON (OpenAPI 3.1).
pub fn document() -> Value {
    let endpoints = endpoints();
    let all_errors = to_value(<ApiError as PartialSchema>::schema());
    let mut schemas: Vec<(String, RefOr<Schema>)> = Vec::new();
    named::<ApiError>(&mut schemas);
    let mut paths = Map::new();
    for e in &endpoints {
        schemas.extend(e.schemas.iter().cloned());
        paths.insert(
            e.path.to_owned(),
            json!({ "post": operation(e, &all_errors) }),
        );
    }
    let mut components: Vec<(String, Value)> = Kind::ALL
        .iter()
        .map(|k| (format!("{k:?}Error"), error_schema(&all_errors, &[*k])))
        .collect();
    for (name, schema) in schemas {
        if components.iter().all(|(n, _)| *n != name) {
            components.push((name, to_value(schema)));
        }
    }
    let mut paths = Value::Object(paths);
    refer(&mut paths, &components, false);
    let originals = components.clone();
    for (_, schema) in &mut components {
        refer(schema, &originals, true);
    }
    let components: Map<String, Value> = components.into_iter().collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Latchkey",
            "version": env!("CARGO_PKG_VERSION"),
            "description": DESCRIPTION,
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        },
        "servers": [{ "url": "http://127.0.0.1:8080", "description": "`make run`" }],
        "tags": [
            { "name": "portal", "description": "What the portal shows before anyone identifies themselves." },
            { "name": "sign-in", "description": "Signing in and out." },
            { "name": "self-service", "description": "Unlock my account, reset my password." },
            { "name": "enrolment", "description": "A signed-in person's own factors." },
            { "name": "required-actions", "description": "What must be done after signing in." },
            { "name": "demo", "description": "The demo mailbox (`--demo` only)." },
            { "name": "console", "description": "The operators' console." },
        ],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "portal_session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "latchkey_session",
                    "description": "A portal session (`sign_in`); `__Host-latchkey_session` behind https.",
                },
                "console_session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "latchkey_console",
                    "description": "A console session (`console_sign_in`); `__Host-latchkey_console` behind https.",
                },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_error_kind_has_its_own_name_and_round_trips() {
        for k in Kind::ALL {
            assert_eq!(Kind::of(&k.sample()), Some(k));
            assert!(!k.name().is_empty());
        }
        assert_eq!(Kind::of(&ApiError::Network), None);
    }

    #[test]
    fn each_endpoint_is_described_once_with_an_object_input() {
        let endpoints = endpoints();
        let mut paths: Vec<_> = endpoints.iter().map(|e| e.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), endpoints.len());
        for e in &endpoints {
            assert!(e.path.starts_with("/api/"), "{}", e.path);
            assert_eq!(e.input["type"], "object", "{}", e.path);
            assert_eq!(e.input["additionalProperties"], false, "{}", e.path);
        }
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for (i, _) in text.match_indices("\"$ref\":\"#/components/schemas/") {
            let rest = &text[i + "\"$ref\":\"#/components/schemas/".len()..];
            let name = &rest[..rest.find('"').unwrap()];
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "{name} is referred to but not described"
            );
        }
    }
}
