//! Operators set policies: each organisation's lockout rule, and the self-service
//! authentication flow of each channel. Every change is validated, checked against the
//! caller's permissions, and audited with the value it replaced.

use latchkey_types::console::{AupView, CatalogueEntry, LockoutPolicyView};
use latchkey_types::{FactorKind, FlowScope};
use serde_json::json;
use time::Duration;

use crate::audit::{Action, Caller, Outcome};
use crate::auth_flow::validate_auth_flow;
use crate::authz::{self, Permission, Target};
use crate::credentials::CUSTOM_QUESTION_CHARS;
use crate::error::{CoreError, Invalid};
use crate::lockout::{LockDuration, LockoutPolicy};
use crate::organisation::{Organisation, OrganisationId};
use crate::service::Latchkey;

/// A lockout policy in the console's words.
pub fn policy_view(org: &Organisation, policy: &LockoutPolicy) -> LockoutPolicyView {
    LockoutPolicyView {
        organisation: org.slug.clone(),
        organisation_name: org.name.clone(),
        failed_attempts: policy.threshold,
        window_minutes: u32::try_from(policy.window.whole_minutes()).unwrap_or(0),
        lock_minutes: match policy.duration {
            LockDuration::Temporary(d) => Some(u32::try_from(d.whole_minutes()).unwrap_or(0)),
            LockDuration::UntilUnlocked => None,
        },
    }
}

/// The policy an editor sent (validated by [`LockoutPolicy::validate`]).
pub fn policy_of(view: &LockoutPolicyView) -> LockoutPolicy {
    LockoutPolicy {
        threshold: view.failed_attempts,
        window: Duration::minutes(i64::from(view.window_minutes)),
        duration: view.lock_minutes.map_or(LockDuration::UntilUnlocked, |m| {
            LockDuration::Temporary(Duration::minutes(i64::from(m)))
        }),
    }
}

impl Latchkey {
    /// An organisation the caller may manage policy in, by its short name.
    pub async fn policy_organisation(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<Organisation, CoreError> {
        let org = self
            .read()
            .await?
            .organisation_by_slug(slug)
            .await?
            .ok_or(CoreError::NotFound)?;
        authz::check(
            &caller.actor,
            Permission::ManagePolicy,
            Target::Organisation(org.id),
        )?;
        Ok(org)
    }

    /// An organisation's question catalogue, in use or not.
    pub async fn question_catalogue(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<Vec<CatalogueEntry>, CoreError> {
        let org = self.policy_organisation(caller, slug).await?;
        let entries = self.read().await?.catalogue_entries(org.id).await?;
        Ok(entries
            .into_iter()
            .map(|(q, active)| CatalogueEntry {
                id: q.id,
                text: q.text,
                active,
            })
            .collect())
    }

    /// Adds a question to an organisation's catalogue.
    pub async fn add_catalogue_question(
        &self,
        caller: &Caller,
        slug: &str,
        text: &str,
    ) -> Result<(), CoreError> {
        let org = self.policy_organisation(caller, slug).await?;
        let text = text.trim();
        let n = text.chars().count();
        if n < CUSTOM_QUESTION_CHARS.0
            || n > CUSTOM_QUESTION_CHARS.1
            || text.chars().any(char::is_control)
        {
            return Err(Invalid::new(
                "text",
                format!(
                    "Write a question of {} to {} characters.",
                    CUSTOM_QUESTION_CHARS.0, CUSTOM_QUESTION_CHARS.1
                ),
            )
            .into());
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let id = tx
            .add_catalogue_question(org.id, text, now)
            .await
            .map_err(|_| Invalid::new("text", "The catalogue has this question already."))?;
        let details = json!({ "organisation": org.slug, "added": id, "text": text });
        let event = caller.event(
            Action::EditQuestionCatalogue,
            None,
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a catalogue question out of use (people who chose it keep their answer, and
    /// are still asked it), or back into use.
    pub async fn set_catalogue_question_active(
        &self,
        caller: &Caller,
        slug: &str,
        question: i64,
        active: bool,
    ) -> Result<(), CoreError> {
        let org = self.policy_organisation(caller, slug).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if !tx.set_question_active(org.id, question, active).await? {
            return Err(CoreError::NotFound);
        }
        let details = json!({ "organisation": org.slug, "question": question, "active": active });
        let event = caller.event(
            Action::EditQuestionCatalogue,
            None,
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The organisations the caller may manage policy in, oldest first.
    pub async fn organisations(&self, caller: &Caller) -> Result<Vec<Organisation>, CoreError> {
        let reach = authz::reach(&caller.actor, Permission::ManagePolicy)?;
        let all = self.read().await?.organisations().await?;
        Ok(all
            .into_iter()
            .filter(|o| reach.organisation().is_none_or(|only| only == o.id))
            .collect())
    }

    /// Each organisation's lockout policy, as far as the caller may manage it.
    pub async fn lockout_policies(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(Organisation, LockoutPolicy)>, CoreError> {
        let organisations = self.organisations(caller).await?;
        let mut read = self.read().await?;
        let mut out = Vec::new();
        for org in organisations {
            let policy = read.lockout_policy(org.id).await?;
            out.push((org, policy));
        }
        Ok(out)
    }

    /// Changes an organisation's lockout policy, recording who did it and what it was
    /// before. Accounts already locked keep their lock; the new policy counts from the
    /// next failed attempt.
    pub async fn set_lockout_policy(
        &self,
        caller: &Caller,
        organisation: OrganisationId,
        policy: &LockoutPolicy,
    ) -> Result<(), CoreError> {
        authz::check(
            &caller.actor,
            Permission::ManagePolicy,
            Target::Organisation(organisation),
        )?;
        policy.validate()?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let org = tx
            .organisations()
            .await?
            .into_iter()
            .find(|o| o.id == organisation)
            .ok_or(CoreError::NotFound)?;
        let before = tx.lockout_policy(org.id).await?;
        tx.set_lockout_policy(org.id, policy).await?;
        let minutes = |p: &LockoutPolicy| match p.duration {
            LockDuration::Temporary(d) => Some(d.whole_minutes()),
            LockDuration::UntilUnlocked => None,
        };
        let details = json!({
            "organisation": org.slug,
            "failed_attempts": policy.threshold,
            "window_minutes": policy.window.whole_minutes(),
            "lock_minutes": minutes(policy),
            "before": before.to_string(),
        });
        let event = caller.event(Action::SetLockoutPolicy, None, Outcome::Success, details);
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every configured authentication flow: its scope and factors, `all` first.
    pub async fn auth_flows(
        &self,
        caller: &Caller,
    ) -> Result<Vec<(FlowScope, Vec<FactorKind>)>, CoreError> {
        authz::reach(&caller.actor, Permission::ManagePolicy)?;
        Ok(self.read().await?.auth_flows().await?)
    }

    /// Sets the authentication flow for one channel, or (`all`) one flow for every
    /// channel, replacing the per-channel ones. Flows are shared by every organisation, so
    /// only a global administrator (or Latchkey itself) may.
    pub async fn set_auth_flow(
        &self,
        caller: &Caller,
        scope: FlowScope,
        factors: &[FactorKind],
    ) -> Result<(), CoreError> {
        authz::check(&caller.actor, Permission::ManagePolicy, Target::Everywhere)?;
        validate_auth_flow(factors)?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before = tx.auth_flows().await?;
        tx.set_auth_flow(scope, factors, now).await?;
        let names = |f: &[FactorKind]| f.iter().map(|f| f.as_str()).collect::<Vec<_>>();
        let details = json!({
            "scope": scope.as_str(),
            "factors": names(factors),
            "before": before
                .iter()
                .map(|(s, f)| (s.as_str(), names(f)))
                .collect::<std::collections::BTreeMap<_, _>>(),
        });
        let event = caller.event(Action::SetAuthFlow, None, Outcome::Success, details);
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Longest acceptable use policy, in characters.
pub const AUP_MAX_CHARS: usize = 20_000;

impl Latchkey {
    /// An organisation's acceptable use policy, for its editor.
    pub async fn aup_view(&self, caller: &Caller, slug: &str) -> Result<AupView, CoreError> {
        let org = self.policy_organisation(caller, slug).await?;
        let aup = self.read().await?.aup(org.id).await?;
        Ok(AupView {
            organisation: org.slug,
            version: aup.version,
            text: aup.text,
            updated_at: aup.updated_at.map(|t| t.unix_timestamp()),
        })
    }

    /// A new text of the organisation's acceptable use policy: a new version, which
    /// everyone accepts at their next sign-in. Answers the version. Audited with the
    /// version it replaced.
    pub async fn set_aup(&self, caller: &Caller, slug: &str, text: &str) -> Result<i64, CoreError> {
        let org = self.policy_organisation(caller, slug).await?;
        let text = text.trim();
        let n = text.chars().count();
        if n == 0 || n > AUP_MAX_CHARS {
            return Err(Invalid::new(
                "text",
                format!("Write the policy in 1 to {AUP_MAX_CHARS} characters."),
            )
            .into());
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(
                Invalid::new("text", "Remove the control characters from the text.").into(),
            );
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before = tx.aup(org.id).await?;
        let version = tx.set_aup(org.id, text, now).await?;
        let details = json!({
            "organisation": org.slug,
            "before": { "version": before.version, "chars": before.text.chars().count() },
            "after": { "version": version, "chars": n },
        });
        let event = caller.event(Action::SetAup, None, Outcome::Success, details);
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(version)
    }
}
