//! The console: what operators sign in with, search, see and change (seeds 001–004).
//! Every id that appears in a console URL is opaque (random), never a row number.

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::account::{AccountStatus, LockReason, RequiredAction};
use crate::audit::{Action, AuditChannel, Outcome};
use crate::authz::{Permission, Role};
use crate::flow::{FactorKind, FlowScope};
use crate::outbox::DeliveryStatus;
use crate::text_form;

/// The signed-in operator, as the console shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorView {
    /// `STORE\username`.
    pub username: String,
    pub display_name: String,
    pub organisation: String,
    pub roles: Vec<Role>,
    /// What the roles allow, so the console shows only what can be done.
    pub permissions: Vec<Permission>,
    /// Whether the operator acts in every organisation (a global administrator).
    pub everywhere: bool,
}

/// What a console sign-in came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConsoleSignInReply {
    SignedIn {
        operator: OperatorView,
    },
    /// The password is right and the operator has an authenticator: send it again with
    /// the code it shows.
    CodeRequired,
    /// Wrong username, password or code — deliberately not saying which.
    Refused,
    /// The password was right but the account is locked; `until` ends a temporary lock.
    Locked {
        until: Option<i64>,
    },
    /// The password was right, but the account holds no role in the console.
    NotAnOperator,
}

/// How the users grid is sorted.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum UserSort {
    /// By `STORE\username`, A to Z.
    #[default]
    Username,
    /// The most recently locked first (locked accounts only).
    LockedDate,
}

text_form!(UserSort);

/// A search of the users grid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserQuery {
    /// The start of a username, an email address or a name, any case; empty: everyone.
    pub text: String,
    /// *Only include locked users*.
    pub only_locked: bool,
    /// An organisation's short name (a global administrator's filter).
    pub organisation: Option<String>,
    /// An identity store's name.
    pub store: Option<String>,
    pub status: Option<AccountStatus>,
    pub sort: UserSort,
    /// Where the previous page ended (its `next`).
    pub after: Option<String>,
}

/// A row of the users grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRow {
    /// Opaque: what the user page's URL names the account by.
    pub id: String,
    /// `STORE\username`.
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub organisation: String,
    pub status: AccountStatus,
    /// Locked now (a temporary lock that has run out is not a lock).
    pub locked: bool,
    /// **Locked Date**, Unix seconds.
    pub locked_date: Option<i64>,
    /// **Lock Reason**.
    pub lock_reason: Option<LockReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserPage {
    pub rows: Vec<UserRow>,
    /// Pass as `after` for the next page; none at the end.
    pub next: Option<String>,
    /// Directory identity stores that could not be searched, each in a sentence naming
    /// it (their accounts are missing from `rows`; the rest is there).
    #[serde(default)]
    pub directory_errors: Vec<String>,
}

/// A live session of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// Opaque: what revoking it names it by.
    pub id: String,
    /// `portal` or `console`.
    pub audience: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub client: Option<String>,
}

/// An audit record as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub subject: Option<String>,
    pub action: String,
    pub channel: String,
    pub client: Option<String>,
    pub outcome: String,
    /// The record's facts, as JSON text.
    pub details: String,
}

/// The user page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserDetail {
    pub user: UserRow,
    /// Directory identity stores that could not say whether the user or a linked
    /// account is locked, each in a sentence naming it (those rows show not locked).
    #[serde(default)]
    pub directory_errors: Vec<String>,
    pub store: String,
    /// When a temporary lock ends.
    pub lock_expires: Option<i64>,
    /// **Unlocked by** and when.
    pub unlocked_by: Option<String>,
    pub unlocked_at: Option<i64>,
    /// Failed sign-ins counted towards the lock now.
    pub failed_attempts: u32,
    pub last_password_change: Option<i64>,
    pub security_questions: usize,
    pub authenticator: bool,
    pub sessions: Vec<SessionView>,
    /// The same person's accounts in other identity stores.
    pub linked: Vec<UserRow>,
    /// The newest audit records about the account.
    pub history: Vec<AuditEntry>,
    /// What the user must do at their next sign-in, in order.
    pub required_actions: Vec<RequiredAction>,
    /// Why *Resecure* is not possible now, if it is not.
    pub resecure_blocked: Option<ResecureBlock>,
    /// The failed sign-ins that led to the lock in force, newest first.
    pub failed_sign_ins: Vec<FailedSignIn>,
}

/// Why an account cannot be resecured now (seed 002): the button is disabled with the
/// reason, and the server refuses the same cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ResecureBlock {
    /// The user has not accepted the acceptable use policy on their account.
    AupNotAccepted,
    /// The account is disabled or deleted.
    NotActive,
    /// The account is locked.
    Locked,
}

/// A resecure as the operator confirms it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResecureForm {
    /// The temporary password: typed, or from *Generate password*.
    pub temporary_password: String,
    /// *Require password change at next logon* (checked by default).
    pub require_change: bool,
}

/// An organisation's acceptable use policy, as the console edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AupView {
    /// The organisation's slug.
    pub organisation: String,
    /// 0: the organisation has no policy.
    pub version: i64,
    pub text: String,
    pub updated_at: Option<i64>,
}

/// A new user, or the new values of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserForm {
    /// The identity store (`EXAMPLE`); only when creating.
    pub store: String,
    /// Only when creating.
    pub username: String,
    pub display_name: String,
    pub email: String,
}

/// What the history page filters by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryFilter {
    /// Part of the actor's name (`STORE\user`, `anonymous`, `system:…`), any case.
    pub actor: Option<String>,
    /// Part of the subject's name, any case.
    pub subject: Option<String>,
    pub action: Option<Action>,
    pub channel: Option<AuditChannel>,
    pub outcome: Option<Outcome>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryPage {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; none at the end.
    pub next: Option<i64>,
}

/// `latchkey audit verify`, as the history page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ChainState {
    Intact { records: u64 },
    Broken { seq: i64, reason: String },
}

/// One bar of a chart: the start of its period (Unix seconds) and its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    pub start: i64,
    pub count: u32,
}

/// The lock activity dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Activity {
    /// Locks per hour over the last seven days, oldest first (168 bars).
    pub locks_per_hour: Vec<Bucket>,
    /// Unlocks per day over the last seven days, by the person themselves.
    pub self_service_unlocks: Vec<Bucket>,
    /// … and by an operator.
    pub operator_unlocks: Vec<Bucket>,
    /// The client addresses behind the most failed sign-ins in the last seven days.
    pub top_failed_clients: Vec<ClientCount>,
    /// Accounts locked now.
    pub locked_now: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientCount {
    pub client: String,
    pub failures: u32,
}

/// An organisation's lockout policy, in the words of the *Password Rule* screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LockoutPolicyView {
    /// The organisation's short name.
    pub organisation: String,
    pub organisation_name: String,
    /// *Failed attempts before automatic lock*; 0 never locks.
    pub failed_attempts: u32,
    pub window_minutes: u32,
    /// A temporary lock of this many minutes; none: until unlocked.
    pub lock_minutes: Option<u32>,
}

/// An authentication flow: its scope and factors, in order, and the factors some steps
/// may be answered with instead ("Use security questions instead").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthFlowView {
    pub scope: FlowScope,
    pub factors: Vec<FactorKind>,
    /// Sent back as read when the steps change (minus those that no longer fit), so
    /// saving the steps never drops them; none when absent.
    #[serde(default)]
    pub alternatives: Vec<FactorAlternative>,
}

/// `instead` may answer the step that asks `factor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactorAlternative {
    pub factor: FactorKind,
    pub instead: FactorKind,
}

/// A question of an organisation's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CatalogueEntry {
    pub id: i64,
    pub text: String,
    /// Inactive questions are no longer offered; answers already given keep working.
    pub active: bool,
}

/// A mail in the outbox, as operators see it: never its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailView {
    /// Opaque: what resending it names it by.
    pub id: String,
    pub kind: String,
    pub to: String,
    pub organisation: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at: i64,
    pub last_error: Option<String>,
    /// A failed mail that can be sent again (one whose code was wiped cannot).
    pub can_resend: bool,
}

/// How operators of a role unlock accounts (seed 004's helpdesk policy).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum HelpdeskMode {
    /// The operator verifies the caller with one of their enrolled factors first.
    Restricted,
    /// The operator may unlock without verifying the caller.
    Unrestricted,
}

text_form!(HelpdeskMode);

/// One role's helpdesk mode in one organisation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelpdeskRoleMode {
    pub role: Role,
    pub mode: HelpdeskMode,
}

/// An organisation's helpdesk policy: the mode of every role that may unlock.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpdeskPolicyView {
    /// The organisation's short name.
    pub organisation: String,
    pub roles: Vec<HelpdeskRoleMode>,
}

/// A passed check of a caller's identity by an operator.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerCheckView {
    pub factor: FactorKind,
    /// When it passed, Unix seconds; it counts for a few minutes.
    pub at: i64,
    /// Until when an unlock may cite it, Unix seconds.
    pub valid_until: i64,
}

/// Why an operator may not unlock a user now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlockRefusal {
    /// Restricted mode: verify the caller first (no passed check by this operator in the
    /// last few minutes).
    NotVerified,
    /// The user is enrolled with no factor to verify them by: only an operator whose role
    /// has *Unlock any account* and is unrestricted may unlock them.
    Unenrolled,
    /// The user's self-service is blocked after too many wrong answers, which is also
    /// when the helpdesk may not ask again.
    VerificationBlocked,
}

/// What the *Unlock account* dialog needs (seed 004: the Authenticate and Unlock pages).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockPlan {
    pub user: UserRow,
    /// The identity store the user resides in.
    pub store: String,
    pub last_password_change: Option<i64>,
    /// The caller's mode for the user's organisation.
    pub mode: HelpdeskMode,
    /// The factors the user is enrolled with: what the Authenticate page offers.
    pub factors: Vec<FactorKind>,
    /// A fresh passed check of this user by this operator.
    pub verified: Option<CallerCheckView>,
    /// Why *Unlock* would be refused now, if it would.
    pub refused: Option<UnlockRefusal>,
    /// Until when verifying is blocked (too many wrong answers), Unix seconds.
    pub verification_blocked_until: Option<i64>,
    /// The same person's accounts in other identity stores, within the caller's reach.
    pub linked: Vec<UserRow>,
    /// The failed sign-ins that led to the lock, newest first.
    pub failed_sign_ins: Vec<FailedSignIn>,
    /// Directory identity stores that could not say whether the user or a linked
    /// account is locked, each in a sentence naming it (those rows show not locked).
    #[serde(default)]
    pub directory_errors: Vec<String>,
}

/// What the Authenticate page asks the caller, once a check has started.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerCheckStarted {
    /// Opaque: what the answer names the check by.
    pub check: String,
    pub prompt: crate::flow::Prompt,
    /// Wrong answers this check allows.
    pub attempts_left: u32,
}

/// What an answer to a caller check came to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum CallerCheckReply {
    Passed {
        verified: CallerCheckView,
    },
    /// Wrong; the same check may be answered again.
    Wrong {
        attempts_left: u32,
    },
    /// This check can no longer pass (attempts spent, code expired, or the user's
    /// self-service is now blocked until `blocked_until`): start another, or stop.
    Failed {
        blocked_until: Option<i64>,
    },
}

/// What unlocking one account came to, on the Unlock page.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum StoreUnlockOutcome {
    Unlocked {
        emailed: bool,
    },
    /// It was not locked (any more).
    NotLocked,
    /// Refused or failed; `message` says why in plain words.
    Failed {
        message: String,
    },
}

/// One account's line in the Unlock page's result.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreUnlock {
    pub id: String,
    /// `STORE\username`.
    pub username: String,
    pub store: String,
    pub outcome: StoreUnlockOutcome,
}

/// A failed sign-in behind a lock (issue 14: where the bad attempts came from).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedSignIn {
    pub at: i64,
    /// The channel it came through (`web`, `console`, …).
    pub channel: String,
    pub client: Option<String>,
    /// How many other names sign-ins from the same address failed on within half an
    /// hour either side — unknown names included. Many: someone is spraying passwords.
    pub other_names: u32,
}
