//! Email notifications through an outbox.
//!
//! A use case that wants to tell someone something writes an [`Outgoing`] mail to the
//! outbox inside the transaction that does the thing
//! ([`crate::store::OutboxWrite::enqueue_notification`]): the mail is then exactly as
//! durable as the action,
//! and a mail server that is down can delay it but never lose it or fail the action.
//! A background [`Mailer`] claims due rows, renders them from the embedded
//! [`templates`], hands them to a [`Transport`] (SMTP or a folder on disk, in the
//! server) and records the outcome, retrying with [`backoff`] until the configured
//! number of attempts is spent.
//!
//! Delivery is at-least-once: a row keeps one Message-ID for all its attempts, so a
//! duplicate after an unknown outcome (the server took the mail, the answer was lost) is
//! recognisable as the same message.

pub mod backoff;
mod resend;
pub mod templates;
pub mod worker;

pub use backoff::RetryPolicy;
pub use templates::{RenderError, RenderedMail, Templates};

use std::fmt;

use async_trait::async_trait;
pub use latchkey_types::{CodePurpose, DeliveryStatus};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::{Account, AccountId, Email};
use crate::audit::Subject;
use crate::keys::Keys;
use crate::organisation::OrganisationId;
use crate::random::Random;
use crate::settings::Channel;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NotificationId(pub i64);

impl fmt::Display for NotificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whom a notification goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub email: Email,
    /// How the mail greets them.
    pub name: String,
    /// The account the mail is about, if any (a support request may have none).
    pub account_id: Option<AccountId>,
    /// That account's `STORE\username`, named in the mail so the person knows which one.
    pub username: Option<String>,
}

impl Recipient {
    /// The owner of `account`, at its registered address.
    pub fn owner_of(account: &Account) -> Self {
        Self {
            email: account.email.clone(),
            name: account.display_name.clone(),
            account_id: Some(account.id),
            username: Some(account.qualified_name()),
        }
    }
}

/// Who did something to an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DoneBy {
    /// The person themselves, through the self-service portal on this channel.
    SelfService { channel: Channel },
    /// A help-desk operator, administrator or support agent, by display name.
    Operator { name: String },
}

/// One notification of every variant (two where a field takes very different values):
/// for tests of whatever stores or renders them.
pub fn examples() -> Vec<Notification> {
    let expires_at = time::macros::datetime!(2026-01-05 09:10 UTC);
    vec![
        Notification::AccountLocked {
            until: None,
            links: None,
        },
        Notification::AccountLocked {
            until: Some(time::macros::datetime!(2026-01-05 09:30 UTC)),
            links: Some(Code::new(format!("{} {}", "u".repeat(43), "n".repeat(43)))),
        },
        Notification::AccountUnlocked {
            by: DoneBy::SelfService {
                channel: Channel::Mobile,
            },
            advise_password_reset: false,
        },
        Notification::AccountUnlocked {
            by: DoneBy::Operator {
                name: "Dana Desk".into(),
            },
            advise_password_reset: true,
        },
        Notification::PasswordReset {
            by: DoneBy::SelfService {
                channel: Channel::Web,
            },
        },
        Notification::AccountResecured {
            operator: "Ada Admin".into(),
        },
        Notification::MfaReset {
            operator: "Ada Admin".into(),
        },
        Notification::DeviceAuthorizationCode {
            code: Code::new("731904"),
            expires_at,
        },
        Notification::OneTimeCode {
            code: Code::new("483920"),
            expires_at,
            purpose: CodePurpose::PasswordReset,
        },
        Notification::SelfServiceBlocked {
            until: time::macros::datetime!(2026-01-05 09:30 UTC),
            channel: Channel::Mobile,
            links: None,
        },
        Notification::RecoveryEmailSet {
            address: "bob.private@example.net".into(),
        },
        Notification::SupportRequestUpdate {
            reference: "SR-1042".into(),
            status: SupportStatus::Resolved,
            message: Some("<script>alert(1)</script> & done".into()),
        },
    ]
}

/// Where a support request ("my account is locked") stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportStatus {
    Received,
    InProgress,
    Resolved,
    Closed,
}

/// A one-time code that a mail delivers. Never printed; in the outbox row only sealed
/// (see [`Outgoing`]), and only until the mail is sent.
#[derive(Clone)]
pub struct Code(SecretString);

impl Code {
    pub fn new(code: impl Into<String>) -> Self {
        Self(SecretString::from(code.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// A code that was wiped from the outbox (the mail was sent or failed).
    pub fn is_wiped(&self) -> bool {
        self.expose().is_empty()
    }
}

impl Default for Code {
    /// The wiped code: what a notification read back without its secret holds.
    fn default() -> Self {
        Self::new(String::new())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(..)")
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Code {}

/// Everything Latchkey emails people about. Each variant has two templates,
/// `templates/<kind>.txt` (which also holds the subject) and `templates/<kind>.html`.
///
/// The variant is stored as JSON in the outbox row; a [`Code`] is never part of that
/// JSON but is sealed into a separate column that is wiped once the mail is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// The account was locked after too many failed sign-ins; `until` ends a temporary lock.
    AccountLocked {
        #[serde(with = "time::serde::timestamp::option")]
        until: Option<OffsetDateTime>,
        /// The tokens of the mail's two links, "This was me" and "This wasn't me", as
        /// `<unlock> <not_me>` (see `crate::lock_link`). A secret like a code: only a
        /// marker enters the stored payload, the tokens are sealed beside it.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "links_marker"
        )]
        links: Option<Code>,
    },
    AccountUnlocked {
        by: DoneBy,
        /// The operator asks the person to change their password soon.
        advise_password_reset: bool,
    },
    PasswordReset {
        by: DoneBy,
    },
    /// An administrator reset the password, the security answers and the sessions.
    AccountResecured {
        operator: String,
    },
    /// An administrator reset the authenticator (MFA) secret.
    MfaReset {
        operator: String,
    },
    /// The code asked for at the next sign-in after an MFA reset.
    DeviceAuthorizationCode {
        #[serde(skip)]
        code: Code,
        #[serde(with = "time::serde::timestamp")]
        expires_at: OffsetDateTime,
    },
    OneTimeCode {
        #[serde(skip)]
        code: Code,
        #[serde(with = "time::serde::timestamp")]
        expires_at: OffsetDateTime,
        purpose: CodePurpose,
    },
    /// Too many wrong self-service answers: self-service is paused (and the account
    /// locked) until `until`. Someone may be guessing.
    SelfServiceBlocked {
        #[serde(with = "time::serde::timestamp")]
        until: OffsetDateTime,
        channel: Channel,
        /// The token of the mail's *This wasn't me* link (see `crate::lock_link`): sealed
        /// like a code, only a marker in the stored payload.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "links_marker"
        )]
        links: Option<Code>,
    },
    /// A recovery address was confirmed; self-service codes go there from now on. Sent to
    /// the registered address, so a stranger's address cannot be added unnoticed.
    RecoveryEmailSet {
        address: String,
    },
    SupportRequestUpdate {
        /// The request's reference, as the person was given it.
        reference: String,
        status: SupportStatus,
        /// What the support agent wrote, if anything. Plain text.
        message: Option<String>,
    },
}

impl Notification {
    /// The variant's name: the template name and the outbox's `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Notification::AccountLocked { .. } => "account_locked",
            Notification::AccountUnlocked { .. } => "account_unlocked",
            Notification::PasswordReset { .. } => "password_reset",
            Notification::AccountResecured { .. } => "account_resecured",
            Notification::MfaReset { .. } => "mfa_reset",
            Notification::DeviceAuthorizationCode { .. } => "device_authorization_code",
            Notification::OneTimeCode { .. } => "one_time_code",
            Notification::SelfServiceBlocked { .. } => "self_service_blocked",
            Notification::RecoveryEmailSet { .. } => "recovery_email_set",
            Notification::SupportRequestUpdate { .. } => "support_request_update",
        }
    }

    /// The secret this mail delivers, if any.
    pub fn code(&self) -> Option<&Code> {
        match self {
            Notification::DeviceAuthorizationCode { code, .. }
            | Notification::OneTimeCode { code, .. } => Some(code),
            Notification::AccountLocked { links, .. }
            | Notification::SelfServiceBlocked { links, .. } => links.as_ref(),
            _ => None,
        }
    }

    /// Whether the mail exists to deliver its secret (a code): without it, it cannot be
    /// sent. A lock mail's links are a convenience: once wiped (the mail failed and is
    /// sent again), it goes without them, with the portal's usual links.
    pub fn secret_required(&self) -> bool {
        matches!(
            self,
            Notification::DeviceAuthorizationCode { .. } | Notification::OneTimeCode { .. }
        )
    }

    /// When the code this mail delivers stops working: sending it later is pointless
    /// and would only confuse the person who asked for it.
    pub fn code_expires_at(&self) -> Option<OffsetDateTime> {
        match self {
            Notification::DeviceAuthorizationCode { expires_at, .. }
            | Notification::OneTimeCode { expires_at, .. } => Some(*expires_at),
            _ => None,
        }
    }

    /// The facts to store: JSON without the secret.
    pub fn payload(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }

    /// Rebuilds a notification from its stored payload, without its code (see
    /// [`Notification::with_code`]).
    pub fn from_stored(payload: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(payload)
    }

    /// The notification carrying `code`, if it is one that carries a code.
    pub fn with_code(mut self, code: Code) -> Self {
        if let Some(slot) = self.code_mut() {
            *slot = code;
        }
        self
    }

    fn code_mut(&mut self) -> Option<&mut Code> {
        match self {
            Notification::DeviceAuthorizationCode { code, .. }
            | Notification::OneTimeCode { code, .. } => Some(code),
            Notification::AccountLocked { links, .. }
            | Notification::SelfServiceBlocked { links, .. } => links.as_mut(),
            _ => None,
        }
    }
}

/// A lock mail's links in the stored payload: `"links": true` says the mail carries
/// links (sealed beside the payload); read back, they are wiped until unsealed.
mod links_marker {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Code;

    pub fn serialize<S: Serializer>(links: &Option<Code>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(links.is_some())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Code>, D::Error> {
        Ok(bool::deserialize(d)?.then(Code::default))
    }
}

/// An outbox row as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: NotificationId,
    pub organisation_id: OrganisationId,
    pub organisation_name: String,
    pub recipient: Recipient,
    /// Always without its code (see `sealed_code`).
    pub notification: Notification,
    /// Whether the row still holds a code (it is wiped once sent or failed).
    pub holds_secret: bool,
    /// The code, sealed under the outbox key; read only when claiming for delivery.
    pub sealed_code: Option<Vec<u8>>,
    /// The local part of the Message-ID, the same for every attempt.
    pub message_key: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
}

impl OutboxEntry {
    /// Whom the mail is about, as the audit log names them.
    pub fn audit_subject(&self) -> Subject {
        Subject {
            account: self.recipient.account_id,
            name: self
                .recipient
                .username
                .clone()
                .unwrap_or_else(|| self.recipient.email.as_str().to_owned()),
        }
    }
}

/// A mail on its way into the outbox: whom it is for, in which organisation, what it
/// says, and the code it carries — already sealed, so that neither the table, nor the
/// database's write-ahead log, nor a backup ever holds the code in clear.
#[derive(Debug, Clone)]
pub struct Outgoing {
    to: Recipient,
    organisation: OrganisationId,
    notification: Notification,
    sealed_code: Option<Vec<u8>>,
}

impl Outgoing {
    pub fn new(
        to: Recipient,
        organisation: OrganisationId,
        notification: Notification,
        keys: &Keys,
        random: &dyn Random,
    ) -> Self {
        let sealed_code = notification
            .code()
            .map(|code| keys.seal_outbox_code(random, code.expose()));
        Self {
            to,
            organisation,
            notification,
            sealed_code,
        }
    }

    pub fn to(&self) -> &Recipient {
        &self.to
    }

    pub fn organisation(&self) -> OrganisationId {
        self.organisation
    }

    pub fn notification(&self) -> &Notification {
        &self.notification
    }

    /// The code this mail delivers, sealed under the outbox key.
    pub fn sealed_code(&self) -> Option<&[u8]> {
        self.sealed_code.as_deref()
    }
}

/// A worker's hold on the rows it is delivering. Random per batch; the claim lapses at
/// `until`, after which another worker may take the rows (a crashed worker's mail is
/// retried, not lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub token: String,
    pub until: OffsetDateTime,
}

/// What an attempt came to, as recorded on the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    Sent,
    /// Try again at `at`.
    Retry {
        at: OffsetDateTime,
        error: String,
    },
    /// Give up; the row is kept as failed.
    Failed {
        error: String,
    },
}

/// A rendered mail ready for a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// `<key@host>`: the same for every attempt at this row.
    pub message_id: String,
    /// When the event happened; the mail's `Date` (also the same for every attempt).
    pub date: OffsetDateTime,
    pub to: Recipient,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a transport did not deliver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Try again later (connection refused, timeout, a 4xx or 5xx answer...).
    #[error("{0}")]
    Temporary(String),
    /// This mail can never be sent as it is (e.g. an address the transport cannot
    /// express); retrying would not help.
    #[error("{0}")]
    Rejected(String),
}

/// Where rendered mail goes: an SMTP server, or a folder on disk (see the server).
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Hands over one mail. `Ok` means the other side took responsibility for it.
    async fn send(&self, mail: &OutgoingMail) -> Result<(), TransportError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_code_never_enters_the_stored_payload() {
        let n = Notification::OneTimeCode {
            code: Code::new("483920"),
            expires_at: datetime!(2026-01-05 09:10 UTC),
            purpose: CodePurpose::Unlock,
        };
        let payload = n.payload().unwrap();
        assert!(!payload.contains("483920"), "{payload}");
        assert!(format!("{n:?}").contains("Code(..)"));
        assert!(!format!("{n:?}").contains("483920"));
        let wiped = Notification::from_stored(&payload).unwrap();
        assert!(wiped.code().is_some_and(Code::is_wiped));
        assert_eq!(wiped.with_code(Code::new("483920")), n);
    }

    #[test]
    fn every_variant_round_trips_through_its_payload() {
        for n in templates::tests::samples() {
            let mut back = Notification::from_stored(&n.payload().unwrap()).unwrap();
            if let Some(code) = n.code() {
                back = back.with_code(code.clone());
            }
            assert_eq!(back, n);
        }
    }
}
