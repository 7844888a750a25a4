//! The audit log's vocabulary: what was done, where from, and how it ended.

use serde::{Deserialize, Serialize};
use strum::{EnumIter, EnumString, IntoStaticStr};

use crate::flow::Channel;
use crate::text_form;

/// What was attempted.
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
pub enum Action {
    SignIn,
    SignOut,
    Unlock,
    Lock,
    RevokeSessions,
    SelfServiceStart,
    SelfServiceIdentify,
    SelfServiceStep,
    /// A new emailed code was asked for at a self-service step.
    SelfServiceResendCode,
    /// A self-service step was switched to an alternative factor.
    SelfServiceSwitchFactor,
    ResetPassword,
    EnrolSecurityQuestions,
    EnrolAuthenticator,
    /// A recovery email address was proposed (code sent), confirmed or removed.
    EnrolRecoveryEmail,
    /// A mail could not be delivered after every attempt (see `outbox`).
    NotificationFailed,
    /// An operator sent a failed mail again.
    NotificationResent,
    /// A channel's authentication flow was changed.
    SetAuthFlow,
    /// An organisation's lockout policy was changed.
    SetLockoutPolicy,
    /// An operator created a user.
    CreateUser,
    /// An operator changed a user's name or address.
    UpdateUser,
    /// An operator disabled or enabled a user.
    SetUserStatus,
    /// A role was granted to, or revoked from, an operator.
    GrantRole,
    RevokeRole,
    /// An organisation was created (command line).
    CreateOrganisation,
    /// A directory identity store (LDAP, Active Directory) named in the configuration
    /// was registered at start-up.
    RegisterIdentityStore,
    /// A question of a catalogue was added, or taken out of use or back.
    EditQuestionCatalogue,
    /// An operator downloaded the history (the filter is in the details).
    ExportHistory,
    /// An operator reset a user's authenticator (MFA) secret.
    ResetMfa,
    /// An operator resecured an account (each effect is in the details).
    Resecure,
    /// A session passed device authorization (the code mailed after an MFA reset).
    DeviceAuthorization,
    /// A signed-in person changed their password (a required action or by choice).
    ChangePassword,
    /// A person accepted their organisation's acceptable use policy.
    AcceptAup,
    /// A person confirmed or changed their name, contact address and phone.
    UpdateProfile,
    /// An operator changed an organisation's acceptable use policy.
    SetAup,
    /// An operator checked a caller's identity with one of their factors (the helpdesk's
    /// Authenticate page); the factor and outcome are in the details, never the answer.
    VerifyCaller,
    /// An operator changed a role's helpdesk mode (restricted or unrestricted).
    SetHelpdeskMode,
    /// An operator linked an account to another person's accounts, or unlinked it.
    LinkAccount,
    UnlinkAccount,
    /// A lock mail's "This was me" link was followed: an unlock flow was opened with the
    /// email step satisfied (or the link was refused: used, expired or unknown).
    LockLinkUnlock,
    /// A lock mail's "This wasn't me" link was followed: the account was kept locked,
    /// signed out everywhere and set to choose a new password. Suspicious (the details
    /// say so); the support queue reads these.
    ReportedNotMe,
    /// A support request came in through the portal's form (or Latchkey opened one).
    SubmitSupportRequest,
    /// An agent replied to a support request, or changed its status.
    UpdateSupportRequest,
    /// An operator changed an organisation's cap on self-service unlocks.
    SetSelfUnlockCap,
}

/// Where an audited action came from: a portal channel, the console, or Latchkey itself.
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
pub enum AuditChannel {
    Web,
    Mobile,
    Desktop,
    Console,
    System,
}

impl From<Channel> for AuditChannel {
    fn from(c: Channel) -> Self {
        match c {
            Channel::Web => AuditChannel::Web,
            Channel::Mobile => AuditChannel::Mobile,
            Channel::Desktop => AuditChannel::Desktop,
        }
    }
}

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
pub enum Outcome {
    Success,
    Failure,
    /// Asked of a directory identity store, answer not yet recorded: a write to a
    /// directory is recorded before it is made, outside any transaction, and its outcome
    /// is the next record of the same action and subject (none if the server stopped in
    /// between — never a success it cannot vouch for).
    Pending,
}

text_form!(Action, AuditChannel, Outcome);
