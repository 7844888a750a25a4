//! The one error type every server function returns. It crosses the wire as JSON, so the
//! browser gets the same typed value the server produced; the server maps each variant
//! to an HTTP status once, in [`ApiError::http_status`].

use serde::{Deserialize, Deserializer, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::codec::InputError;

// Deserialized by hand (see the `Deserialize` impl below), in the same JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ApiError {
    /// Input that was refused; `field` names the form field, `message` says how to fix it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// Too many requests from this client address (often a whole office behind one).
    #[error("Too many requests from your network. Please wait {retry_after_secs} seconds and try again.")]
    RateLimited { retry_after_secs: u64 },
    /// The server is saturated (e.g. password checks); retrying shortly will work.
    #[error("The service is busy right now. Please try again in a few seconds.")]
    Busy { retry_after_secs: u64 },
    #[error("Please sign in to continue.")]
    Unauthenticated,
    #[error("You do not have permission to do that.")]
    Forbidden,
    #[error("That was not found.")]
    NotFound,
    /// The signed-in person must first do `action` (a required action at sign-in).
    #[error("Please finish what your account needs first.")]
    ActionRequired {
        action: latchkey_types::RequiredAction,
    },
    /// The account cannot be resecured now; `reason` says why.
    #[error("This account cannot be resecured now.")]
    ResecureBlocked {
        reason: latchkey_types::console::ResecureBlock,
    },
    /// An operator may not unlock this account now (the helpdesk policy); `reason` says why.
    #[error("{}", unlock_refusal_sentence(*.reason))]
    UnlockRefused {
        reason: latchkey_types::console::UnlockRefusal,
    },
    /// A directory identity store could not do it (unreachable, timed out, refused);
    /// `message` names the directory. Nothing was recorded as done.
    #[error("{message}")]
    DirectoryUnavailable { directory: String, message: String },
    /// A self-service attempt that has expired or already ended.
    #[error("{message}")]
    FlowEnded { message: String },
    /// A request for a step other than the one the attempt is at.
    #[error("That step is not the current one. Please continue from where you are.")]
    OutOfOrder,
    /// The request did not come from this site (cross-site request forgery protection).
    #[error("This request was refused because it did not come from this site. Reload the page and try again.")]
    CrossSite,
    #[error("Something went wrong on our side. Please try again later.")]
    Internal,
    /// The browser could not reach the server (raised only on the client).
    #[error("Could not reach the server. Check your connection and try again.")]
    Network,
}

/// Why an unlock was refused, in the console's words.
pub fn unlock_refusal_sentence(reason: latchkey_types::console::UnlockRefusal) -> &'static str {
    use latchkey_types::console::UnlockRefusal as R;
    match reason {
        R::NotVerified => "Verify the caller first: your role unlocks in restricted mode.",
        R::Unenrolled => {
            "This user is enrolled with nothing to verify them by. Only an operator whose role \
             has Unlock any account and is unrestricted can unlock them."
        }
        R::VerificationBlocked => {
            "Too many wrong answers: this user's self-service, and so verifying them, is \
             blocked for now."
        }
    }
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status this error is sent with.
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::Invalid { .. } => 400,
            ApiError::Unauthenticated => 401,
            ApiError::Forbidden | ApiError::CrossSite => 403,
            ApiError::NotFound => 404,
            ApiError::OutOfOrder
            | ApiError::ActionRequired { .. }
            | ApiError::ResecureBlocked { .. }
            | ApiError::UnlockRefused { .. } => 409,
            ApiError::FlowEnded { .. } => 410,
            ApiError::RateLimited { .. } => 429,
            ApiError::Internal => 500,
            ApiError::Network | ApiError::DirectoryUnavailable { .. } => 502,
            ApiError::Busy { .. } => 503,
        }
    }

    /// Seconds for a `Retry-After` header, where waiting is the remedy.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs } | ApiError::Busy { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// The form field this error is about, if any, so the page can mark that field.
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// The JSON form of every variant at once: `kind` and whichever fields it has.
#[derive(Deserialize)]
struct WireError {
    kind: String,
    field: Option<String>,
    message: Option<String>,
    retry_after_secs: Option<u64>,
    action: Option<latchkey_types::RequiredAction>,
    reason: Option<String>,
    directory: Option<String>,
}

const KINDS: &[&str] = &[
    "invalid",
    "rate_limited",
    "busy",
    "unauthenticated",
    "forbidden",
    "not_found",
    "action_required",
    "resecure_blocked",
    "unlock_refused",
    "directory_unavailable",
    "flow_ended",
    "out_of_order",
    "cross_site",
    "internal",
    "network",
];

/// Reads the form `#[serde(tag = "kind")]` writes through one flat struct: the derived
/// internally tagged deserializer buffered the value and had a deserializer per variant,
/// the largest function in every browser bundle (issue 16).
impl<'de> Deserialize<'de> for ApiError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::value::StrDeserializer;
        use serde::de::Error;
        fn need<T, E: Error>(value: Option<T>, name: &'static str) -> Result<T, E> {
            value.ok_or_else(|| E::missing_field(name))
        }
        fn reason<'a, T: Deserialize<'a>, E: Error>(value: Option<&'a str>) -> Result<T, E> {
            T::deserialize(StrDeserializer::<E>::new(need(value, "reason")?))
        }
        let w = WireError::deserialize(deserializer)?;
        Ok(match w.kind.as_str() {
            "invalid" => ApiError::Invalid {
                field: need(w.field, "field")?,
                message: need(w.message, "message")?,
            },
            "rate_limited" => ApiError::RateLimited {
                retry_after_secs: need(w.retry_after_secs, "retry_after_secs")?,
            },
            "busy" => ApiError::Busy {
                retry_after_secs: need(w.retry_after_secs, "retry_after_secs")?,
            },
            "unauthenticated" => ApiError::Unauthenticated,
            "forbidden" => ApiError::Forbidden,
            "not_found" => ApiError::NotFound,
            "action_required" => ApiError::ActionRequired {
                action: need(w.action, "action")?,
            },
            "resecure_blocked" => ApiError::ResecureBlocked {
                reason: reason(w.reason.as_deref())?,
            },
            "unlock_refused" => ApiError::UnlockRefused {
                reason: reason(w.reason.as_deref())?,
            },
            "directory_unavailable" => ApiError::DirectoryUnavailable {
                directory: need(w.directory, "directory")?,
                message: need(w.message, "message")?,
            },
            "flow_ended" => ApiError::FlowEnded {
                message: need(w.message, "message")?,
            },
            "out_of_order" => ApiError::OutOfOrder,
            "cross_site" => ApiError::CrossSite,
            "internal" => ApiError::Internal,
            "network" => ApiError::Network,
            other => return Err(D::Error::unknown_variant(other, KINDS)),
        })
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Deserialization(message) | ServerFnErrorErr::Args(message) => {
                match InputError::from_message(&message) {
                    Some(InputError { field, message }) => ApiError::Invalid { field, message },
                    None => ApiError::invalid("body", "The request could not be read."),
                }
            }
            ServerFnErrorErr::MissingArg(field) => {
                ApiError::invalid(field, "This field is required.")
            }
            ServerFnErrorErr::Request(_) => ApiError::Network,
            _ => ApiError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_as_tagged_json() {
        let e = ApiError::invalid("username", "Enter your username.");
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"invalid","field":"username","message":"Enter your username."}"#
        );
        assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), e);
    }

    #[test]
    fn every_variant_round_trips_and_bad_forms_are_refused() {
        use latchkey_types::console::{ResecureBlock, UnlockRefusal};
        let all = [
            ApiError::invalid("username", "Enter your username."),
            ApiError::RateLimited {
                retry_after_secs: 7,
            },
            ApiError::Busy {
                retry_after_secs: 2,
            },
            ApiError::Unauthenticated,
            ApiError::Forbidden,
            ApiError::NotFound,
            ApiError::ActionRequired {
                action: latchkey_types::RequiredAction::ChangePassword,
            },
            ApiError::ResecureBlocked {
                reason: ResecureBlock::AupNotAccepted,
            },
            ApiError::UnlockRefused {
                reason: UnlockRefusal::VerificationBlocked,
            },
            ApiError::FlowEnded {
                message: "Start again.".into(),
            },
            ApiError::OutOfOrder,
            ApiError::CrossSite,
            ApiError::DirectoryUnavailable {
                directory: "CORP".into(),
                message: "The directory CORP did not answer.".into(),
            },
            ApiError::Internal,
            ApiError::Network,
        ];
        assert_eq!(all.len(), KINDS.len());
        for e in all {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(
                serde_json::from_str::<ApiError>(&json).unwrap(),
                e,
                "{json}"
            );
        }
        for bad in [
            r#"{"kind":"invalid","field":"x"}"#,
            r#"{"kind":"busy"}"#,
            r#"{"kind":"unlock_refused","reason":"nope"}"#,
            r#"{"kind":"no_such_kind"}"#,
            r#"{"field":"x","message":"y"}"#,
        ] {
            assert!(serde_json::from_str::<ApiError>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn codec_messages_become_field_errors() {
        let e = ApiError::from_server_fn_error(ServerFnErrorErr::Deserialization(
            InputError::new("password", "Unknown field.").to_string(),
        ));
        assert_eq!(e.field(), Some("password"));
        assert_eq!(e.http_status(), 400);
    }
}
