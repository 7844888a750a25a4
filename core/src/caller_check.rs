//! The helpdesk's rules as values (seed 004): each role's mode and its default, an
//! operator's mode, an operator's check of a caller as stored, and when an unlock must
//! be refused. The use cases that apply them are in `crate::helpdesk`.

use latchkey_types::console::CallerCheckView;
pub use latchkey_types::console::{HelpdeskMode, UnlockRefusal};
use serde::{Deserialize, Serialize};
use serde_json::json;
use strum::{EnumString, IntoEnumIterator, IntoStaticStr};
use time::{Duration, OffsetDateTime};

use crate::account::{Account, AccountId, PersonId};
use crate::audit::{Actor, Caller};
use crate::authz::{self, Permission, Role, Target};
use latchkey_types::{FactorKind, Prompt};

/// How long a passed check lets its operator unlock the person: long enough to read
/// the Unlock page and press the button, short enough that a check is about this call.
pub const CHECK_VALID_FOR: Duration = Duration::minutes(10);

/// A role's mode where its organisation has set none: administrators unlock freely,
/// the helpdesk and support verify the caller first.
pub fn default_mode(role: Role) -> HelpdeskMode {
    match role {
        Role::GlobalAdministrator | Role::LocalAdministrator => HelpdeskMode::Unrestricted,
        Role::HelpdeskOperator | Role::SupportAgent => HelpdeskMode::Restricted,
    }
}

/// The roles that unlock, each with its mode in an organisation whose settings are `set`.
pub fn modes_of(set: &[(Role, HelpdeskMode)]) -> Vec<(Role, HelpdeskMode)> {
    Role::iter()
        .filter(|r| authz::permissions(*r).contains(&Permission::Unlock))
        .map(|r| (r, mode_of_role(set, r)))
        .collect()
}

/// The actor's mode in an organisation whose settings are `set`: unrestricted if any of
/// their roles that may unlock is. Latchkey itself (the command line) is unrestricted.
pub fn mode_of(actor: &Actor, set: &[(Role, HelpdeskMode)]) -> HelpdeskMode {
    let Actor::Operator(operator) = actor else {
        return HelpdeskMode::Unrestricted;
    };
    let modes = modes_of(set);
    let free = operator.roles.iter().any(|role| {
        modes
            .iter()
            .any(|(r, m)| r == role && *m == HelpdeskMode::Unrestricted)
    });
    if free {
        HelpdeskMode::Unrestricted
    } else {
        HelpdeskMode::Restricted
    }
}

/// Where a check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumString, IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CheckState {
    /// Waiting for the caller's answer.
    Asking,
    Passed,
    /// Attempts spent, code expired, or the person's self-service blocked.
    Failed,
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// An operator's check of a caller, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerCheck {
    /// Opaque: what the console names the check by.
    pub public_id: String,
    pub operator: AccountId,
    /// The account whose factors were asked.
    pub account: AccountId,
    /// Whom a pass verifies: every account of the person may then be unlocked.
    pub person: PersonId,
    pub factor: FactorKind,
    pub prompt: Prompt,
    /// The factor's private state (which questions, which emailed code).
    pub kept: serde_json::Value,
    pub state: CheckState,
    /// Wrong answers so far.
    pub attempts: u32,
    pub created_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
}

impl CallerCheck {
    pub fn view(&self) -> Option<CallerCheckView> {
        let at = self.decided_at?;
        Some(CallerCheckView {
            factor: self.factor,
            at: at.unix_timestamp(),
            valid_until: (at + CHECK_VALID_FOR).unix_timestamp(),
        })
    }

    /// What an unlock's audit record says of it.
    pub fn evidence(&self) -> serde_json::Value {
        json!({
            "check": self.public_id,
            "factor": self.factor.as_str(),
            "outcome": self.state.as_str(),
            "at": self.decided_at.map(OffsetDateTime::unix_timestamp),
        })
    }
}

pub fn mode_of_role(set: &[(Role, HelpdeskMode)], role: Role) -> HelpdeskMode {
    set.iter()
        .find(|(r, _)| *r == role)
        .map_or_else(|| default_mode(role), |(_, m)| *m)
}

/// Why `caller` may not unlock `account` now, if they may not: the rule of seed 004.
pub fn refusal(
    caller: &Caller,
    account: &Account,
    mode: HelpdeskMode,
    factors: &[FactorKind],
    verified: bool,
) -> Option<UnlockRefusal> {
    if !matches!(caller.actor, Actor::Operator(_)) {
        return None;
    }
    let unlock_any = authz::check(
        &caller.actor,
        Permission::UnlockAnyAccount,
        Target::Organisation(account.organisation_id),
    )
    .is_ok();
    match mode {
        _ if factors.is_empty() && !verified => {
            (mode == HelpdeskMode::Restricted || !unlock_any).then_some(UnlockRefusal::Unenrolled)
        }
        HelpdeskMode::Restricted if !verified => Some(UnlockRefusal::NotVerified),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Operator;
    use crate::organisation::OrganisationId;

    fn operator(roles: &[Role]) -> Actor {
        Actor::Operator(Operator {
            account: AccountId(7),
            username: "EXAMPLE\\olive".into(),
            organisation: OrganisationId(1),
            roles: roles.to_vec(),
        })
    }

    #[test]
    fn administrators_are_unrestricted_and_the_helpdesk_restricted_by_default() {
        assert_eq!(
            mode_of(&operator(&[Role::LocalAdministrator]), &[]),
            HelpdeskMode::Unrestricted
        );
        assert_eq!(
            mode_of(&operator(&[Role::HelpdeskOperator]), &[]),
            HelpdeskMode::Restricted
        );
        let set = [(Role::HelpdeskOperator, HelpdeskMode::Unrestricted)];
        assert_eq!(
            mode_of(&operator(&[Role::HelpdeskOperator]), &set),
            HelpdeskMode::Unrestricted
        );
        // Any unrestricted role makes the operator unrestricted.
        let set = [(Role::LocalAdministrator, HelpdeskMode::Restricted)];
        assert_eq!(
            mode_of(
                &operator(&[Role::LocalAdministrator, Role::SupportAgent]),
                &set
            ),
            HelpdeskMode::Restricted
        );
        assert_eq!(
            mode_of(&Actor::System("command line"), &set),
            HelpdeskMode::Unrestricted
        );
    }
}
