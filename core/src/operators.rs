//! Operators: who they are in the console, and giving or taking their roles. A global
//! administrator may grant any role anywhere; whoever manages the users of an
//! organisation may grant its roles but *global administrator*.

use latchkey_types::console::OperatorView;
use latchkey_types::Role;
use secrecy::SecretString;
use serde_json::json;

use crate::account::{
    new_public_id, parse_display_name, Account, AccountName, AccountStatus, Email, NewAccount,
    Username,
};
use crate::audit::{Action, Caller, Operator, Outcome, Subject};
use crate::authz::{self, permissions, Permission, Target};
use crate::error::{CoreError, Invalid};
use crate::organisation::{IdentityStore, Organisation, StoreKind};
use crate::password::check_new_password;
use crate::service::Latchkey;
use crate::store::Tx;

/// A new operator account (the command line's `operator add`).
pub struct NewOperator {
    /// The organisation's short name.
    pub organisation: String,
    /// `STORE\username`, or a username in the organisation's first identity store.
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub password: SecretString,
    pub roles: Vec<Role>,
}

impl Latchkey {
    /// What the console shows about the signed-in operator.
    pub async fn operator_view(&self, operator: &Operator) -> Result<OperatorView, CoreError> {
        let mut read = self.read().await?;
        let account = read
            .account(operator.account)
            .await?
            .ok_or(CoreError::NotFound)?;
        let organisation = read
            .organisation(operator.organisation)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        let mut granted: Vec<Permission> = operator
            .roles
            .iter()
            .flat_map(|r| permissions(*r).iter().copied())
            .collect();
        granted.sort();
        granted.dedup();
        Ok(OperatorView {
            username: operator.username.clone(),
            display_name: account.display_name,
            organisation,
            roles: operator.roles.clone(),
            permissions: granted,
            everywhere: operator.roles.contains(&Role::GlobalAdministrator),
        })
    }

    /// The roles an account holds (what its own console sign-in shows it).
    pub async fn roles_of(&self, account: &Account) -> Result<Vec<Role>, CoreError> {
        Ok(self.read().await?.roles_of(account.id).await?)
    }

    /// Every operator the caller may manage, with their roles.
    pub async fn operators(&self, caller: &Caller) -> Result<Vec<(Account, Vec<Role>)>, CoreError> {
        let reach = authz::reach(&caller.actor, Permission::ManageUsers)?;
        Ok(self.read().await?.operators(reach.organisation()).await?)
    }

    /// Creates an organisation with its first identity store (the command line, for a new
    /// install).
    pub async fn create_organisation(
        &self,
        caller: &Caller,
        slug: &str,
        name: &str,
        store: &str,
    ) -> Result<Organisation, CoreError> {
        authz::check(&caller.actor, Permission::ManageUsers, Target::Everywhere)?;
        let slug = slug.trim();
        let slug_ok = (1..=40).contains(&slug.len())
            && slug
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug_ok {
            return Err(Invalid::new(
                "slug",
                "Use 1 to 40 lower-case letters, digits and hyphens, e.g. example-health.",
            )
            .into());
        }
        let name = parse_display_name("name", name)?;
        let store = store.trim().to_uppercase();
        let store_ok = (1..=64).contains(&store.len())
            && store
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !store_ok {
            return Err(Invalid::new(
                "store",
                "Name the identity store with 1 to 64 letters, digits and hyphens, e.g. EXAMPLE.",
            )
            .into());
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let taken = |what| Invalid::new(what, "That name is taken.");
        let org = tx
            .create_organisation(slug, &name, now)
            .await
            .map_err(|_| taken("slug"))?;
        let priority = 10 * (1 + i64::try_from(tx.identity_stores(None).await?.len()).unwrap_or(0));
        tx.create_identity_store(org.id, &store, StoreKind::Builtin, priority, now)
            .await
            .map_err(|_| taken("store"))?;
        for text in crate::credentials::DEFAULT_CATALOGUE {
            tx.add_catalogue_question(org.id, text, now).await?;
        }
        let details = json!({ "slug": org.slug, "name": org.name, "store": store });
        let event = caller.event(Action::CreateOrganisation, None, Outcome::Success, details);
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Makes sure the configured directory store `name` of `kind` exists in the
    /// organisation `slug` (the oldest organisation when `None`): created with an audit
    /// record the first time, left alone when it is there already (every start-up calls
    /// this). A name taken by a store of another kind or organisation is refused, naming
    /// the setting. The directory keeps the accounts; this only names the store.
    pub async fn register_directory_store(
        &self,
        caller: &Caller,
        slug: Option<&str>,
        name: &str,
        kind: StoreKind,
        priority: i64,
    ) -> Result<IdentityStore, CoreError> {
        authz::check(&caller.actor, Permission::ManageUsers, Target::Everywhere)?;
        if kind == StoreKind::Builtin {
            return Err(Invalid::new(
                "kind",
                "Only a directory store (ldap, active_directory) is registered here.",
            )
            .into());
        }
        let name = name.trim().to_uppercase();
        let name_ok = (1..=64).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !name_ok {
            return Err(Invalid::new(
                "name",
                "Name the identity store with 1 to 64 letters, digits and hyphens, e.g. CORP-AD.",
            )
            .into());
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let org = match slug {
            Some(slug) => tx.organisation_by_slug(slug.trim()).await?,
            None => match tx.default_organisation().await? {
                Some(id) => tx.organisation(id).await?,
                None => None,
            },
        }
        .ok_or_else(|| Invalid::new("organisation", "There is no such organisation."))?;
        if let Some(existing) = tx
            .identity_stores(None)
            .await?
            .into_iter()
            .find(|s| s.name == name)
        {
            return if existing.kind == kind && existing.organisation_id == org.id {
                Ok(existing)
            } else {
                Err(Invalid::new("name", "Another identity store has this name already.").into())
            };
        }
        let store = tx
            .create_identity_store(org.id, &name, kind, priority, now)
            .await
            .map_err(|_| Invalid::new("name", "That name is taken."))?;
        let details = json!({ "organisation": org.slug, "store": store.name, "kind": kind });
        let event = caller.event(
            Action::RegisterIdentityStore,
            None,
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(store)
    }

    /// Creates an operator: an account with a password the operator chose (there is no
    /// default password anywhere) and its roles, in one transaction.
    pub async fn add_operator(
        &self,
        caller: &Caller,
        new: NewOperator,
    ) -> Result<Account, CoreError> {
        let name = AccountName::parse("username", &new.name)?;
        let display_name = parse_display_name("display_name", &new.display_name)?;
        let email = Email::parse("email", &new.email)?;
        if new.roles.is_empty() {
            return Err(Invalid::new("role", "Give the operator at least one role.").into());
        }
        check_new_password(
            "password",
            &new.password,
            self.self_service.min_password_chars,
            &[name.username.as_str(), &display_name, email.as_str()],
        )?;
        let hash = self.hasher.hash(&new.password).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let org = tx
            .organisation_by_slug(new.organisation.trim())
            .await?
            .ok_or_else(|| Invalid::new("organisation", "There is no such organisation."))?;
        // Operators are Latchkey's own accounts: never in a directory store.
        let stores = tx.identity_stores(Some(org.id)).await?;
        let mut builtin = stores.into_iter().filter(|s| s.kind == StoreKind::Builtin);
        let store = match &name.store {
            Some(wanted) => builtin.find(|s| &s.name == wanted),
            None => builtin.next(),
        }
        .ok_or_else(|| Invalid::new("username", "The organisation has no such identity store."))?;
        let account = NewAccount {
            public_id: new_public_id(self.random.as_ref()),
            store_id: store.id,
            username: Username::parse("username", name.username.as_str())?,
            display_name,
            email,
            status: AccountStatus::Active,
            password_hash: Some(hash),
        };
        let (id, _) = tx
            .create_account(&account, None, now)
            .await
            .map_err(|_| Invalid::new("username", "That username is taken."))?;
        let created = tx.account(id).await?.ok_or(CoreError::NotFound)?;
        let details = json!({ "store": store.name, "email": created.email.as_str() });
        let event = caller.event(
            Action::CreateUser,
            Some(Subject::account(&created)),
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        self.change_roles(tx.as_mut(), caller, &created, &new.roles, true, now)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Grants (`grant`) or revokes roles of the account `name`.
    pub async fn set_roles(
        &self,
        caller: &Caller,
        name: &str,
        roles: &[Role],
        grant: bool,
    ) -> Result<Vec<Role>, CoreError> {
        let name = AccountName::parse("username", name)?;
        if roles.is_empty() {
            return Err(Invalid::new("role", "Name at least one role.").into());
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let account = tx
            .account_by_name(&name)
            .await?
            .ok_or_else(|| Invalid::new("username", "There is no such account."))?;
        self.change_roles(tx.as_mut(), caller, &account, roles, grant, now)
            .await?;
        let now_held = tx.roles_of(account.id).await?;
        tx.commit().await?;
        Ok(now_held)
    }

    async fn change_roles(
        &self,
        tx: &mut dyn Tx,
        caller: &Caller,
        account: &Account,
        roles: &[Role],
        grant: bool,
        now: time::OffsetDateTime,
    ) -> Result<(), CoreError> {
        for role in roles {
            let target = if *role == Role::GlobalAdministrator {
                Target::Everywhere
            } else {
                Target::Organisation(account.organisation_id)
            };
            authz::check(&caller.actor, Permission::ManageUsers, target)?;
            let changed = if grant {
                tx.grant_role(account.id, *role, &caller.actor.label(), now)
                    .await?
            } else {
                tx.revoke_role(account.id, *role).await?
            };
            let action = if grant {
                Action::GrantRole
            } else {
                Action::RevokeRole
            };
            let details = json!({ "role": role.as_str(), "changed": changed });
            let event = caller.event(
                action,
                Some(Subject::account(account)),
                Outcome::Success,
                details,
            );
            tx.append_audit(&event, now).await?;
        }
        Ok(())
    }
}
