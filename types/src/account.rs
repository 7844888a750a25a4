//! Accounts and identity stores: the states the console shows.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumIter, EnumString, IntoStaticStr};

use crate::text_form;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AccountStatus {
    Active,
    Disabled,
    Deleted,
}

/// Why an account is locked — the console's **Lock Reason**. Its text form is the words
/// operators read (and the store keeps); its JSON form is snake case.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    Display,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LockReason {
    /// Too many failed sign-ins.
    #[strum(serialize = "Failures")]
    Failures,
    /// Locked by an administrator.
    #[strum(serialize = "Administrative")]
    Administrative,
    /// Too many failed self-service authentications.
    #[strum(serialize = "Self-service failures")]
    SelfServiceFailures,
}

/// How an identity store keeps its accounts. Only Latchkey's own store exists today;
/// a directory kind (LDAP) adds a variant here and a connector that knows how to clear
/// the directory's own lockout attributes.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StoreKind {
    Builtin,
    /// OpenLDAP with the ppolicy overlay (`latchkey-directory`).
    Ldap,
    /// Active Directory or a Samba domain controller (`latchkey-directory`).
    ActiveDirectory,
}

/// Where a session may be used: the portal and the console never share one.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumString,
    IntoStaticStr,
    EnumIter,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Audience {
    Portal,
    Console,
}

text_form!(AccountStatus, LockReason, StoreKind, Audience);

/// What a person must do after signing in before anything else is usable, in the order
/// they are asked (issue 13). The server refuses every other call with
/// `action_required` naming the first pending one.
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
pub enum RequiredAction {
    /// Type the code mailed to the registered address (after an MFA reset).
    DeviceAuthorization,
    /// Scan a new authenticator secret and confirm it with a code.
    NewAuthenticator,
    /// Replace a temporary password.
    ChangePassword,
    /// Accept the organisation's acceptable use policy.
    AcceptAup,
    /// Confirm name, contact address and phone.
    UpdateProfile,
    /// Choose new security questions and answers.
    SecurityQuestions,
}

text_form!(RequiredAction);
