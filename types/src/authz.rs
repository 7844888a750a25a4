//! Operators' roles and the permissions they carry (seeds 001–004). Which role holds
//! which permission, and whether an operator may act on an organisation, is decided on
//! the server (`latchkey_core::authz`); these are the names both sides use.

use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::text_form;

/// Something an operator may be allowed to do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Permission {
    /// Unlock an account whose owner has been verified (or need not be).
    Unlock,
    /// *Unlock any account*: also accounts with no factor to verify the caller with.
    UnlockAnyAccount,
    /// Reset a user's authenticator (MFA) secret.
    ResetMfa,
    /// *Resecure* an account: temporary password, AUP, secrets, sessions.
    Resecure,
    /// Create, edit, disable and link users.
    ManageUsers,
    /// Lockout policy, authentication flows, the question catalogue.
    ManagePolicy,
    /// Work the support queue ("my account is locked" requests).
    WorkSupportQueue,
    /// Read the audit history.
    ReadHistory,
}

/// A role an operator holds in their organisation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    /// Everything, in every organisation.
    GlobalAdministrator,
    /// The users and policies of their own organisation.
    LocalAdministrator,
    /// Unlocks callers' accounts after verifying them.
    HelpdeskOperator,
    /// Works the queue of support requests.
    SupportAgent,
}

text_form!(Permission, Role);
