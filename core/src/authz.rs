//! Who may do what to whom: the one place that decides it.
//!
//! An operator holds roles in their own organisation; each role is a fixed set of
//! permissions. A *global administrator* acts in every organisation; every other role
//! only in the operator's own. Acting outside one's organisation is answered exactly like
//! acting on something that does not exist ([`Denied::NotFound`]), so an operator cannot
//! learn what other organisations hold by trying ids. Latchkey itself (a command-line
//! action, a background job) may do anything; people who are not operators nothing.

pub use latchkey_types::{Permission, Role};

use crate::audit::Actor;
pub use crate::error::Denied;
use crate::organisation::OrganisationId;

/// The permissions each role carries.
pub fn permissions(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        Role::GlobalAdministrator => &[
            Unlock,
            UnlockAnyAccount,
            ResetMfa,
            Resecure,
            ManageUsers,
            ManagePolicy,
            WorkSupportQueue,
            ReadHistory,
        ],
        Role::LocalAdministrator => &[
            Unlock,
            UnlockAnyAccount,
            ResetMfa,
            Resecure,
            ManageUsers,
            ManagePolicy,
            ReadHistory,
        ],
        Role::HelpdeskOperator => &[Unlock, ReadHistory],
        Role::SupportAgent => &[Unlock, WorkSupportQueue, ReadHistory],
    }
}

/// What an action is done to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Something that belongs to one organisation: an account, its history, its mail, a
    /// support request, the organisation's own policy.
    Organisation(OrganisationId),
    /// A setting shared by every organisation (the self-service flows).
    Everywhere,
}

/// Where an actor may use a permission: what a listing shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Everywhere,
    Organisation(OrganisationId),
}

impl Reach {
    /// The one organisation a listing is limited to, if any.
    pub fn organisation(self) -> Option<OrganisationId> {
        match self {
            Reach::Everywhere => None,
            Reach::Organisation(org) => Some(org),
        }
    }
}

/// Where `actor` may use `permission`, or why nowhere.
pub fn reach(actor: &Actor, permission: Permission) -> Result<Reach, Denied> {
    match actor {
        Actor::System(_) => Ok(Reach::Everywhere),
        Actor::Operator(operator) => {
            check(
                actor,
                permission,
                Target::Organisation(operator.organisation),
            )?;
            Ok(if operator.roles.contains(&Role::GlobalAdministrator) {
                Reach::Everywhere
            } else {
                Reach::Organisation(operator.organisation)
            })
        }
        Actor::Anonymous | Actor::Account { .. } => Err(Denied::Forbidden),
    }
}

/// Decides whether `actor` may use `permission` on `target`. The organisation is checked
/// before the permission, so that something out of reach is `NotFound` whatever the
/// actor's roles.
pub fn check(actor: &Actor, permission: Permission, target: Target) -> Result<(), Denied> {
    let operator = match actor {
        Actor::System(_) => return Ok(()),
        Actor::Operator(operator) => operator,
        Actor::Anonymous | Actor::Account { .. } => return Err(Denied::Forbidden),
    };
    let global = operator.roles.contains(&Role::GlobalAdministrator);
    match target {
        Target::Organisation(org) if !global && org != operator.organisation => {
            return Err(Denied::NotFound)
        }
        Target::Everywhere if !global => return Err(Denied::Forbidden),
        _ => {}
    }
    let allowed = operator
        .roles
        .iter()
        .any(|role| permissions(*role).contains(&permission));
    if allowed {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

/// Whether `actor` may change an account that holds `target_roles` (edit it, disable it,
/// end its sessions, reset its factors). A global administrator may change anyone; any
/// other operator only accounts whose every role is weaker than their own strongest —
/// else a local administrator could change a global administrator's address, reset
/// that password through self-service and sign in as them. Unlocking is not a change of
/// this kind: it only gives an account back to its owner.
pub fn outranks(actor: &Actor, target_roles: &[Role]) -> Result<(), Denied> {
    let operator = match actor {
        Actor::System(_) => return Ok(()),
        Actor::Operator(operator) => operator,
        Actor::Anonymous | Actor::Account { .. } => return Err(Denied::Forbidden),
    };
    // `Role`'s order is the most powerful first.
    let Some(strongest) = operator.roles.iter().min() else {
        return Err(Denied::Forbidden);
    };
    if *strongest == Role::GlobalAdministrator || target_roles.iter().all(|r| r > strongest) {
        Ok(())
    } else {
        Err(Denied::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountId;
    use crate::audit::Operator;
    use strum::IntoEnumIterator;

    const HOME: OrganisationId = OrganisationId(1);
    const OTHER: OrganisationId = OrganisationId(2);

    fn operator(roles: &[Role]) -> Actor {
        Actor::Operator(Operator {
            account: AccountId(7),
            username: "EXAMPLE\\olive".into(),
            organisation: HOME,
            roles: roles.to_vec(),
        })
    }

    #[test]
    fn another_organisation_is_not_found_whatever_the_permission() {
        for role in [
            Role::LocalAdministrator,
            Role::HelpdeskOperator,
            Role::SupportAgent,
        ] {
            for p in Permission::iter() {
                assert_eq!(
                    check(&operator(&[role]), p, Target::Organisation(OTHER)),
                    Err(Denied::NotFound),
                    "{role:?} {p:?}"
                );
            }
        }
    }

    #[test]
    fn within_the_organisation_the_roles_decide() {
        let helpdesk = operator(&[Role::HelpdeskOperator]);
        let home = Target::Organisation(HOME);
        assert_eq!(check(&helpdesk, Permission::Unlock, home), Ok(()));
        assert_eq!(
            check(&helpdesk, Permission::Resecure, home),
            Err(Denied::Forbidden)
        );
        let both = operator(&[Role::HelpdeskOperator, Role::SupportAgent]);
        assert_eq!(check(&both, Permission::WorkSupportQueue, home), Ok(()));
        let local = operator(&[Role::LocalAdministrator]);
        assert_eq!(check(&local, Permission::ManagePolicy, home), Ok(()));
        assert_eq!(
            check(&local, Permission::ManagePolicy, Target::Everywhere),
            Err(Denied::Forbidden),
            "shared settings are the global administrators'"
        );
        assert_eq!(
            check(&operator(&[]), Permission::Unlock, home),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn listings_reach_the_own_organisation_or_everywhere() {
        assert_eq!(
            reach(
                &operator(&[Role::HelpdeskOperator]),
                Permission::ReadHistory
            ),
            Ok(Reach::Organisation(HOME))
        );
        assert_eq!(
            reach(
                &operator(&[Role::GlobalAdministrator]),
                Permission::ReadHistory
            ),
            Ok(Reach::Everywhere)
        );
        assert_eq!(
            reach(
                &operator(&[Role::HelpdeskOperator]),
                Permission::ManageUsers
            ),
            Err(Denied::Forbidden)
        );
    }

    #[test]
    fn global_administrators_act_everywhere_and_latchkey_itself_may_do_anything() {
        let global = operator(&[Role::GlobalAdministrator]);
        for p in Permission::iter() {
            assert_eq!(check(&global, p, Target::Organisation(OTHER)), Ok(()));
            assert_eq!(check(&global, p, Target::Everywhere), Ok(()));
            assert_eq!(
                check(&Actor::System("command line"), p, Target::Everywhere),
                Ok(())
            );
            assert_eq!(
                check(&Actor::Anonymous, p, Target::Organisation(HOME)),
                Err(Denied::Forbidden)
            );
        }
    }

    #[test]
    fn only_a_stronger_operator_changes_an_operator() {
        use Role::*;
        let global = operator(&[GlobalAdministrator]);
        let local = operator(&[LocalAdministrator]);
        let helpdesk = operator(&[HelpdeskOperator, SupportAgent]);
        assert_eq!(outranks(&global, &[GlobalAdministrator]), Ok(()));
        assert_eq!(outranks(&local, &[]), Ok(()));
        assert_eq!(outranks(&local, &[HelpdeskOperator]), Ok(()));
        assert_eq!(
            outranks(&local, &[GlobalAdministrator]),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            outranks(&local, &[LocalAdministrator]),
            Err(Denied::Forbidden)
        );
        assert_eq!(
            outranks(&local, &[SupportAgent, LocalAdministrator]),
            Err(Denied::Forbidden)
        );
        assert_eq!(outranks(&helpdesk, &[SupportAgent]), Ok(()));
        assert_eq!(
            outranks(&helpdesk, &[HelpdeskOperator]),
            Err(Denied::Forbidden)
        );
        assert_eq!(outranks(&helpdesk, &[]), Ok(()));
    }
}
