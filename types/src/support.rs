//! Support requests (seed 003, issue 14 items 4–6): the portal's public *Contact
//! support* form, and the support agents' queue in the console.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::console::UserRow;
use crate::text_form;

/// Where a support request stands in the queue.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestStatus {
    /// Nobody has worked on it yet.
    New,
    InProgress,
    /// An agent replied and waits for the person.
    WaitingForUser,
    Resolved,
}

text_form!(RequestStatus);

impl RequestStatus {
    /// Every status, in the queue's order.
    pub const ALL: [RequestStatus; 4] = [
        RequestStatus::New,
        RequestStatus::InProgress,
        RequestStatus::WaitingForUser,
        RequestStatus::Resolved,
    ];

    /// Still for an agent to finish.
    pub fn is_open(self) -> bool {
        self != RequestStatus::Resolved
    }
}

/// How a support request came to be.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestOrigin {
    /// The portal's *Contact support* form.
    Form,
    /// The account reached its organisation's cap of self-service unlocks: the portal
    /// opened the request instead of unlocking once more.
    SelfUnlockCap,
    /// *This wasn't me* in a lock mail: someone else may be trying the account.
    NotMe,
}

text_form!(RequestOrigin);

/// What the portal answers to every accepted form, registered address or not.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportReceived {
    /// When support replies, e.g. `Monday to Friday, 9:00–17:00 (UTC)`.
    pub working_hours: String,
}

/// A request's line in the agents' queue.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportRow {
    /// `SR-<number>`, as the person's mails name it.
    pub reference: String,
    pub status: RequestStatus,
    pub origin: RequestOrigin,
    /// Someone other than the account's owner may be at work: shown first.
    pub suspicious: bool,
    pub full_name: String,
    pub email: String,
    /// The registered account the address belongs to (`STORE\username`), if any.
    pub matched: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Seconds of working hours since the request came in (until it was resolved).
    pub working_age_secs: i64,
}

/// The queue: the requests with the chosen status (open ones by default), suspicious
/// first, then the oldest.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportQueue {
    pub rows: Vec<SupportRow>,
    /// How many requests have each status.
    pub counts: Vec<(RequestStatus, u32)>,
    /// The working hours the ages count, e.g. `Monday to Friday, 9:00–17:00 (UTC)`.
    pub working_hours: String,
}

/// What happened to a request, oldest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportEvent {
    /// Unix seconds.
    pub at: i64,
    /// The agent (`STORE\username`), or none for the person or Latchkey.
    pub by: Option<String>,
    /// The status after this event.
    pub status: RequestStatus,
    /// What was written: the person's description, an agent's reply, or a note of what
    /// Latchkey did (an unlock). Plain text; the console shows it as text, never HTML.
    pub message: Option<String>,
    /// The person was emailed about it.
    pub emailed: bool,
}

/// One request, as an agent opens it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportDetail {
    pub row: SupportRow,
    pub description: String,
    /// The client address the form came from (none for requests Latchkey opened).
    pub client: Option<String>,
    /// The registered accounts with this address that the agent may see.
    pub accounts: Vec<UserRow>,
    pub events: Vec<SupportEvent>,
}

/// An organisation's cap on self-service unlocks: more than `max_unlocks` of one account
/// within `period_hours` opens a support request instead.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfUnlockCap {
    pub max_unlocks: u32,
    pub period_hours: u32,
}

impl Default for SelfUnlockCap {
    fn default() -> Self {
        Self {
            max_unlocks: 3,
            period_hours: 24,
        }
    }
}
