//! Support requests (seed 003; issue 14, items 4–6).
//!
//! A locked-out person who cannot help themselves fills in the portal's *Contact
//! support* form: full name, registered email address, a description, the captcha. The
//! answer on screen is the same whether or not the address is registered (no
//! enumeration); only a registered address gets the confirmation mail, and only then is
//! the request tied to an account. Latchkey opens requests itself when an account
//! reaches its organisation's cap of self-service unlocks, and when a lock mail's *This
//! wasn't me* link is followed (suspicious: first in the queue).
//!
//! Support agents (*work support queue*) see their organisation's queue with each
//! request's age counted in working hours, open a request, see the registered accounts
//! with its address, unlock them through the helpdesk's Unlock dialog (which applies the
//! helpdesk policy), reply and resolve. The person is emailed at unlock and at
//! resolution, and when an agent writes to them — always at the registered address.

use std::net::IpAddr;

use latchkey_types::support::{
    RequestOrigin, RequestStatus, SelfUnlockCap, SupportDetail, SupportEvent, SupportQueue,
    SupportReceived, SupportRow,
};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::account::{self, search_key, Account, AccountId, AccountStatus, Email};
use crate::audit::{Action, AuditEvent, Caller, Outcome, Subject};
use crate::authz::{self, Permission, Target};
use crate::error::{CoreError, Invalid};
use crate::factor::captcha;
use crate::organisation::OrganisationId;
use crate::outbox::{Notification, Recipient, SupportStatus};
use crate::service::Latchkey;
use crate::settings::Channel;
pub use crate::settings::{SupportSettings, WorkingHours};
use crate::store::{Read, Tx};
use crate::throttle::{retry_after, Quota};

/// The longest description the form takes, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 2000;
/// The longest reply an agent writes, in characters.
pub const REPLY_MAX_CHARS: usize = 4000;
/// The most requests a queue page lists.
const QUEUE_LIMIT: u32 = 200;

/// A stored request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportRequest {
    pub id: i64,
    pub organisation: OrganisationId,
    pub origin: RequestOrigin,
    pub status: RequestStatus,
    pub suspicious: bool,
    pub full_name: String,
    /// As given (parsed: trimmed, domain in lower case).
    pub email: String,
    /// The registered account the address belonged to when the request came in.
    pub account: Option<AccountId>,
    pub description: String,
    pub client: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub resolved_at: Option<OffsetDateTime>,
}

impl SupportRequest {
    /// How the person's mails and the console name it.
    pub fn reference(&self) -> String {
        reference(self.id)
    }
}

/// `SR-<number>`.
pub fn reference(id: i64) -> String {
    format!("SR-{id}")
}

/// The number in a reference (`SR-12`, `sr-12` or `12`).
pub fn parse_reference(field: &'static str, input: &str) -> Result<i64, Invalid> {
    let s = input.trim();
    let digits = s
        .strip_prefix("SR-")
        .or_else(|| s.strip_prefix("sr-"))
        .unwrap_or(s);
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Invalid::new(field, "Give a request's reference, such as SR-12."))
}

/// A request to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub organisation: OrganisationId,
    pub origin: RequestOrigin,
    pub suspicious: bool,
    pub full_name: String,
    pub email: String,
    pub account: Option<AccountId>,
    pub description: String,
    pub client: Option<String>,
    pub created_at: OffsetDateTime,
}

/// Something that happened to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestEvent {
    pub at: OffsetDateTime,
    pub operator: Option<AccountId>,
    /// The agent's `STORE\username` at the time.
    pub by_name: Option<String>,
    /// The request's status after it.
    pub status: RequestStatus,
    pub message: Option<String>,
    pub emailed: bool,
}

impl SupportSettings {
    /// The form's limit for one address (registered or not).
    fn per_address(&self) -> Quota {
        Quota::per(self.per_address_per_day, Duration::days(1))
    }

    /// The form's limit for one client address.
    fn per_client(&self) -> Quota {
        Quota::per(self.per_client_per_hour, Duration::hours(1))
    }
}

/// What the form sends.
#[derive(Debug, Clone)]
pub struct SupportForm {
    pub full_name: String,
    pub email: String,
    pub description: String,
    pub captcha: captcha::Solution,
}

/// A checked form.
struct CheckedForm {
    full_name: String,
    email: Email,
    description: String,
}

fn check_form(form: &SupportForm) -> Result<CheckedForm, Invalid> {
    let full_name = account::parse_display_name("full_name", &form.full_name)?;
    let email = Email::parse("email", &form.email)?;
    let description = check_text(
        "description",
        &form.description,
        DESCRIPTION_MAX_CHARS,
        "Describe the problem in a few words.",
    )?;
    Ok(CheckedForm {
        full_name,
        email,
        description,
    })
}

/// Plain text of at most `max` characters, not empty; line breaks and tabs are kept,
/// other control characters refused.
fn check_text(
    field: &'static str,
    input: &str,
    max: usize,
    empty: &str,
) -> Result<String, Invalid> {
    let s = input.trim();
    if s.is_empty() {
        return Err(Invalid::new(field, empty));
    }
    if s.chars().count() > max {
        return Err(Invalid::new(
            field,
            format!("Write at most {max} characters."),
        ));
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Invalid::new(
            field,
            "Remove the control characters from the text.",
        ));
    }
    Ok(s.replace("\r\n", "\n"))
}

/// The mail's words for a queue status.
fn mail_status(status: RequestStatus) -> SupportStatus {
    match status {
        RequestStatus::New => SupportStatus::Received,
        RequestStatus::InProgress | RequestStatus::WaitingForUser => SupportStatus::InProgress,
        RequestStatus::Resolved => SupportStatus::Resolved,
    }
}

impl Latchkey {
    /// A captcha challenge for the *Contact support* form.
    pub async fn support_captcha(&self, client: IpAddr) -> Result<captcha::Challenge, CoreError> {
        self.count_request(client).await?;
        Ok(captcha::issue(
            &self.keys,
            self.random.as_ref(),
            self.clock.now(),
            self.self_service.captcha_max_number,
        ))
    }

    /// The portal's *Contact support* form. The answer is the same whether or not the
    /// address is registered; a registered one gets the confirmation mail.
    pub async fn submit_support_request(
        &self,
        form: &SupportForm,
        client: IpAddr,
    ) -> Result<SupportReceived, CoreError> {
        self.count_request(client).await?;
        let checked = check_form(form)?;
        let now = self.clock.now();
        let expires = match captcha::check(&self.keys, &form.captcha, now) {
            // A stateless challenge: its expiry must be one this server could have
            // issued (digits moved from the number into the salt push it far out).
            Ok(expires) if expires <= now + captcha::LIFETIME => Some(expires),
            _ => None,
        };
        let mut tx = self.store.begin().await?;
        let spent = match expires {
            Some(expires) => tx.spend_captcha(&form.captcha.signature, expires).await?,
            None => false,
        };
        if !spent {
            self.count_failure_in(tx.as_mut(), client, now).await?;
            let event = AuditEvent::anonymous(
                Channel::Web,
                Action::SubmitSupportRequest,
                None,
                client,
                Outcome::Failure,
                json!({ "reason": "captcha" }),
            );
            tx.append_audit(&event, now).await?;
            tx.commit().await?;
            return Err(Invalid::new(
                "captcha",
                "The check that you are a person did not pass. Try again.",
            )
            .into());
        }
        let address_key = format!("support:address:{}", search_key(checked.email.as_str()));
        let client_key = format!("support:client:{client}");
        let limited = match tx
            .take_quota(&client_key, &self.support.per_client(), now)
            .await?
        {
            Err(wait) => Some(wait),
            Ok(()) => tx
                .take_quota(&address_key, &self.support.per_address(), now)
                .await?
                .err(),
        };
        if let Some(wait) = limited {
            let event = AuditEvent::anonymous(
                Channel::Web,
                Action::SubmitSupportRequest,
                None,
                client,
                Outcome::Failure,
                json!({ "reason": "rate_limited" }),
            );
            tx.append_audit(&event, now).await?;
            tx.commit().await?;
            return Err(retry_after(wait));
        }
        let matched = registered_account(tx.as_mut(), &checked.email).await?;
        let organisation = match &matched {
            Some(a) => a.organisation_id,
            None => tx
                .default_organisation()
                .await?
                .ok_or(CoreError::NotFound)?,
        };
        let new = NewRequest {
            organisation,
            origin: RequestOrigin::Form,
            suspicious: false,
            full_name: checked.full_name,
            email: checked.email.as_str().to_owned(),
            account: matched.as_ref().map(|a| a.id),
            description: checked.description,
            client: Some(client.to_string()),
            created_at: now,
        };
        let id = self
            .open_request(tx.as_mut(), &new, matched.as_ref(), None)
            .await?;
        let event = AuditEvent::anonymous(
            Channel::Web,
            Action::SubmitSupportRequest,
            matched.as_ref().map(Subject::account),
            client,
            Outcome::Success,
            json!({
                "reference": reference(id),
                "origin": RequestOrigin::Form.as_str(),
                "registered": matched.is_some(),
            }),
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(SupportReceived {
            working_hours: self.support.hours.describe(),
        })
    }

    /// Stores `new` and, if it is about a registered account, mails its owner the
    /// reference with `why` (what Latchkey did, if it opened the request); answers the
    /// request's number.
    pub(crate) async fn open_request(
        &self,
        tx: &mut dyn Tx,
        new: &NewRequest,
        account: Option<&Account>,
        why: Option<&str>,
    ) -> Result<i64, CoreError> {
        let id = tx.create_support_request(new).await?;
        if let Some(account) = account {
            let hours = format!(
                "We reply during working hours: {}.",
                self.support.hours.describe()
            );
            let mail = Notification::SupportRequestUpdate {
                reference: reference(id),
                status: SupportStatus::Received,
                message: Some(match why {
                    Some(why) => format!("{why}\n\n{hours}"),
                    None => hours,
                }),
            };
            let mail = self.outgoing(Recipient::owner_of(account), account.organisation_id, mail);
            tx.enqueue_notification(&mail, new.created_at).await?;
        }
        Ok(id)
    }

    /// The support queue: requests with `status` (every open one: `None`).
    pub async fn support_queue(
        &self,
        caller: &Caller,
        status: Option<RequestStatus>,
    ) -> Result<SupportQueue, CoreError> {
        let reach = authz::reach(&caller.actor, Permission::WorkSupportQueue)?;
        let org = reach.organisation();
        let statuses: Vec<RequestStatus> = match status {
            Some(s) => vec![s],
            None => RequestStatus::ALL
                .into_iter()
                .filter(|s| s.is_open())
                .collect(),
        };
        let now = self.clock.now();
        let mut read = self.read().await?;
        let requests = read.support_queue(org, &statuses, QUEUE_LIMIT).await?;
        let mut rows = Vec::with_capacity(requests.len());
        for r in &requests {
            rows.push(self.support_row(read.as_mut(), r, now).await?);
        }
        let counts = read.support_counts(org).await?;
        Ok(SupportQueue {
            rows,
            counts: RequestStatus::ALL
                .into_iter()
                .map(|s| {
                    let n = counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
                    (s, n)
                })
                .collect(),
            working_hours: self.support.hours.describe(),
        })
    }

    async fn support_row(
        &self,
        read: &mut dyn Read,
        r: &SupportRequest,
        now: OffsetDateTime,
    ) -> Result<SupportRow, CoreError> {
        let matched = match r.account {
            Some(id) => read.account(id).await?.map(|a| a.qualified_name()),
            None => None,
        };
        let until = r.resolved_at.unwrap_or(now);
        Ok(SupportRow {
            reference: r.reference(),
            status: r.status,
            origin: r.origin,
            suspicious: r.suspicious,
            full_name: r.full_name.clone(),
            email: r.email.clone(),
            matched,
            created_at: r.created_at.unix_timestamp(),
            working_age_secs: self
                .support
                .hours
                .working_time(r.created_at, until)
                .whole_seconds(),
        })
    }

    /// A request the caller may work on: one of their organisation's.
    async fn reachable_request(
        &self,
        read: &mut dyn Read,
        caller: &Caller,
        reference_text: &str,
    ) -> Result<SupportRequest, CoreError> {
        let id = parse_reference("reference", reference_text)?;
        let request = read.support_request(id).await?.ok_or(CoreError::NotFound)?;
        authz::check(
            &caller.actor,
            Permission::WorkSupportQueue,
            Target::Organisation(request.organisation),
        )?;
        Ok(request)
    }

    /// One request, as an agent opens it: the accounts its address is registered to
    /// (within the agent's organisation) and what happened so far.
    pub async fn support_detail(
        &self,
        caller: &Caller,
        reference_text: &str,
    ) -> Result<SupportDetail, CoreError> {
        let now = self.clock.now();
        let mut read = self.read().await?;
        let request = self
            .reachable_request(read.as_mut(), caller, reference_text)
            .await?;
        let row = self.support_row(read.as_mut(), &request, now).await?;
        let names = crate::users::organisation_names(read.as_mut()).await?;
        let mut accounts = Vec::new();
        for a in read
            .accounts_with_email(&search_key(&request.email))
            .await?
        {
            if a.organisation_id == request.organisation {
                accounts.push(crate::users::row(&a, &names, now));
            }
        }
        let events = read
            .support_events(request.id)
            .await?
            .into_iter()
            .map(|e| SupportEvent {
                at: e.at.unix_timestamp(),
                by: e.by_name,
                status: e.status,
                message: e.message,
                emailed: e.emailed,
            })
            .collect();
        Ok(SupportDetail {
            row,
            description: request.description,
            client: request.client,
            accounts,
            events,
        })
    }

    /// An agent moves a request to `status`, with an optional message to the person. The
    /// person is emailed (at the registered address only) when there is a message and
    /// when the request is resolved.
    pub async fn update_support_request(
        &self,
        caller: &Caller,
        reference_text: &str,
        status: RequestStatus,
        message: Option<&str>,
    ) -> Result<(), CoreError> {
        let message = match message.map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => Some(check_text(
                "message",
                m,
                REPLY_MAX_CHARS,
                "Write a message.",
            )?),
            None => None,
        };
        if status == RequestStatus::New {
            return Err(Invalid::new("status", "A request cannot be made new again.").into());
        }
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let request = self
            .reachable_request(tx.as_mut(), caller, reference_text)
            .await?;
        let account = match request.account {
            Some(id) => tx
                .account(id)
                .await?
                .filter(|a| a.status != AccountStatus::Deleted),
            None => None,
        };
        let mail_worthy = message.is_some() || status == RequestStatus::Resolved;
        let emailed = mail_worthy && account.is_some();
        if let (true, Some(a)) = (emailed, &account) {
            let mail = Notification::SupportRequestUpdate {
                reference: request.reference(),
                status: mail_status(status),
                message: message.clone(),
            };
            let mail = self.outgoing(Recipient::owner_of(a), a.organisation_id, mail);
            tx.enqueue_notification(&mail, now).await?;
        }
        let (operator, by_name) = operator_of(tx.as_mut(), caller).await?;
        tx.record_support_event(
            request.id,
            &RequestEvent {
                at: now,
                operator,
                by_name,
                status,
                message: message.clone(),
                emailed,
            },
        )
        .await?;
        let details = json!({
            "reference": request.reference(),
            "from": request.status.as_str(),
            "to": status.as_str(),
            "replied": message.is_some(),
            "emailed": emailed,
        });
        let subject = account.as_ref().map(Subject::account);
        let event = caller.event(
            Action::UpdateSupportRequest,
            subject,
            Outcome::Success,
            details,
        );
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// After an operator unlocked `account` (inside that unlock's transaction): notes it
    /// on every open request about the account, which moves on from *new*.
    pub(crate) async fn note_unlock_on_requests(
        &self,
        tx: &mut dyn Tx,
        caller: &Caller,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let open = tx.open_requests_about(account.id).await?;
        if open.is_empty() {
            return Ok(());
        }
        let (operator, by_name) = operator_of(tx, caller).await?;
        for id in open {
            let Some(request) = tx.support_request(id).await? else {
                continue;
            };
            let status = match request.status {
                RequestStatus::New => RequestStatus::InProgress,
                other => other,
            };
            tx.record_support_event(
                id,
                &RequestEvent {
                    at: now,
                    operator,
                    by_name: by_name.clone(),
                    status,
                    message: Some(format!("Unlocked {}.", account.qualified_name())),
                    // The unlock's own mail tells the person.
                    emailed: true,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// The organisation `slug`'s cap on self-service unlocks.
    pub async fn self_unlock_cap(
        &self,
        caller: &Caller,
        slug: &str,
    ) -> Result<SelfUnlockCap, CoreError> {
        let org = self.policy_organisation(caller, slug).await?;
        Ok(self
            .read()
            .await?
            .self_unlock_cap(org.id)
            .await?
            .unwrap_or_default())
    }

    /// Sets the organisation `slug`'s cap; audited.
    pub async fn set_self_unlock_cap(
        &self,
        caller: &Caller,
        slug: &str,
        cap: SelfUnlockCap,
    ) -> Result<(), CoreError> {
        if !(1..=100).contains(&cap.max_unlocks) {
            return Err(Invalid::new("max_unlocks", "Allow from 1 to 100 unlocks.").into());
        }
        if !(1..=24 * 90).contains(&cap.period_hours) {
            return Err(Invalid::new(
                "period_hours",
                "Give a period from 1 hour to 90 days (2160 hours).",
            )
            .into());
        }
        let org = self.policy_organisation(caller, slug).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let before = tx.self_unlock_cap(org.id).await?.unwrap_or_default();
        tx.set_self_unlock_cap(org.id, cap, now).await?;
        let details = json!({
            "organisation": org.slug,
            "from": { "max_unlocks": before.max_unlocks, "period_hours": before.period_hours },
            "to": { "max_unlocks": cap.max_unlocks, "period_hours": cap.period_hours },
        });
        let event = caller.event(Action::SetSelfUnlockCap, None, Outcome::Success, details);
        tx.append_audit(&event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inside a self-service unlock's transaction (the account's row read under its
    /// lock): whether this unlock goes over the organisation's cap. If so, answers the
    /// reference of the request opened for it — one per account while it is open, however
    /// many flows arrive at once.
    pub(crate) async fn self_unlock_capped(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        channel_text: &str,
        now: OffsetDateTime,
    ) -> Result<Option<String>, CoreError> {
        let cap = tx
            .self_unlock_cap(account.organisation_id)
            .await?
            .unwrap_or_default();
        let since = now - Duration::hours(i64::from(cap.period_hours));
        let used = tx.self_unlocks_since(account.id, since).await?;
        if used < cap.max_unlocks {
            return Ok(None);
        }
        let description = format!(
            "{} was unlocked by self-service {used} times in the last {} hours, the most \
             the organisation allows; this unlock ({channel_text}) was not done. Check \
             with the person why the account keeps locking before unlocking it.",
            account.qualified_name(),
            cap.period_hours
        );
        let why = format!(
            "Your account was unlocked by self-service {used} times in {} hours, the most \
             allowed, so it was not unlocked again. A support agent will look at why it keeps \
             locking and unlock it for you.",
            cap.period_hours
        );
        let opened = self
            .open_request_for(
                tx,
                account,
                RequestOrigin::SelfUnlockCap,
                description,
                &why,
                now,
            )
            .await?;
        Ok(Some(opened))
    }

    /// *This wasn't me* (inside its transaction): a suspicious request for `account`,
    /// first in the queue; one per account while it is open.
    pub(crate) async fn open_not_me_request(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        now: OffsetDateTime,
    ) -> Result<String, CoreError> {
        let description = format!(
            "The owner of {} followed the \"This wasn't me\" link of the mail that said it \
             was locked (or that self-service was paused): the failed sign-ins or wrong \
             answers were not theirs. The account stays locked, its sessions were ended and \
             it must choose a new password at its next sign-in. See where the failed \
             attempts came from on the user's page.",
            account.qualified_name()
        );
        let why = "You told us that the failed attempts on your account were not yours. Your \
                   account stays locked and must get a new password; a support agent will \
                   contact you to unlock it.";
        self.open_request_for(tx, account, RequestOrigin::NotMe, description, why, now)
            .await
    }

    /// A request Latchkey opens for `account` (for `origin`: only *This wasn't me* ones
    /// are suspicious), pre-filled from the account and mailed to its owner with `why` —
    /// unless one for the same origin is still open, whose reference it answers instead.
    async fn open_request_for(
        &self,
        tx: &mut dyn Tx,
        account: &Account,
        origin: RequestOrigin,
        description: String,
        why: &str,
        now: OffsetDateTime,
    ) -> Result<String, CoreError> {
        if let Some(open) = tx.open_request_of(account.id, origin).await? {
            return Ok(reference(open));
        }
        let new = NewRequest {
            organisation: account.organisation_id,
            origin,
            suspicious: origin == RequestOrigin::NotMe,
            full_name: account.display_name.clone(),
            email: account.email.as_str().to_owned(),
            account: Some(account.id),
            description,
            client: None,
            created_at: now,
        };
        let id = self
            .open_request(tx, &new, Some(account), Some(why))
            .await?;
        Ok(reference(id))
    }
}

/// The operator behind `caller` and their `STORE\username` now, as an event records them.
async fn operator_of(
    tx: &mut dyn Tx,
    caller: &Caller,
) -> Result<(Option<AccountId>, Option<String>), CoreError> {
    let operator = caller.actor.account_id();
    let name = match operator {
        Some(id) => tx.account(id).await?.map(|a| a.qualified_name()),
        None => None,
    };
    Ok((operator, name))
}

/// The active account registered with `email`, if one is: the one in the first identity
/// store by priority.
async fn registered_account(tx: &mut dyn Tx, email: &Email) -> Result<Option<Account>, CoreError> {
    let accounts = tx.accounts_with_email(&search_key(email.as_str())).await?;
    Ok(accounts
        .into_iter()
        .find(|a| a.status == AccountStatus::Active))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::{Time, UtcOffset, Weekday};

    #[test]
    fn working_time_counts_only_working_hours() {
        let h = WorkingHours::default();
        for (from, to, hours, what) in [
            (
                datetime!(2026-12-04 16:00 UTC),
                datetime!(2026-12-07 10:00 UTC),
                2,
                "Friday 16:00 to Monday 10:00",
            ),
            (
                datetime!(2026-12-05 08:00 UTC),
                datetime!(2026-12-06 20:00 UTC),
                0,
                "a weekend",
            ),
            (
                datetime!(2026-12-08 07:00 UTC),
                datetime!(2026-12-08 19:30 UTC),
                8,
                "a whole Tuesday",
            ),
            (
                datetime!(2026-12-07 00:00 UTC),
                datetime!(2026-12-14 00:00 UTC),
                40,
                "a week",
            ),
            (
                datetime!(2026-12-08 12:00 UTC),
                datetime!(2026-12-08 11:00 UTC),
                0,
                "backwards",
            ),
        ] {
            assert_eq!(h.working_time(from, to), Duration::hours(hours), "{what}");
        }
    }

    #[test]
    fn working_time_follows_the_offset() {
        let h = WorkingHours {
            offset: UtcOffset::from_hms(2, 0, 0).unwrap(),
            ..WorkingHours::default()
        };
        // 09:00 local is 07:00 UTC.
        assert_eq!(
            h.working_time(
                datetime!(2026-12-08 06:00 UTC),
                datetime!(2026-12-08 08:00 UTC)
            ),
            Duration::hours(1)
        );
        assert_eq!(h.describe(), "Monday to Friday, 9:00–17:00 (UTC+02:00)");
    }

    #[test]
    fn hours_are_described_in_words() {
        assert_eq!(
            WorkingHours::default().describe(),
            "Monday to Friday, 9:00–17:00 (UTC)"
        );
        let odd = WorkingHours {
            days: vec![Weekday::Friday, Weekday::Monday, Weekday::Wednesday],
            opens: Time::from_hms(8, 30, 0).unwrap(),
            ..WorkingHours::default()
        };
        assert_eq!(
            odd.describe(),
            "Monday, Wednesday and Friday, 8:30–17:00 (UTC)"
        );
    }

    #[test]
    fn references_parse_with_or_without_the_prefix() {
        assert_eq!(parse_reference("r", "SR-12"), Ok(12));
        assert_eq!(parse_reference("r", " sr-7 "), Ok(7));
        assert_eq!(parse_reference("r", "42"), Ok(42));
        for bad in ["", "SR-", "SR-0", "SR--1", "SR-x", "<b>"] {
            assert_eq!(parse_reference("r", bad).unwrap_err().field, "r", "{bad}");
        }
    }

    #[test]
    fn the_form_names_the_field_that_is_wrong() {
        let form = |name: &str, email: &str, description: &str| SupportForm {
            full_name: name.into(),
            email: email.into(),
            description: description.into(),
            captcha: captcha::Solution {
                algorithm: String::new(),
                challenge: String::new(),
                number: 0,
                salt: String::new(),
                signature: String::new(),
            },
        };
        let field = |f: SupportForm| check_form(&f).err().map(|e| e.field.into_owned());
        assert_eq!(
            field(form("", "a@example.org", "locked")).as_deref(),
            Some("full_name")
        );
        assert_eq!(
            field(form("Ann", "nope", "locked")).as_deref(),
            Some("email")
        );
        assert_eq!(
            field(form("Ann", "a@example.org", "  ")).as_deref(),
            Some("description")
        );
        let long = "x".repeat(DESCRIPTION_MAX_CHARS + 1);
        assert_eq!(
            field(form("Ann", "a@example.org", &long)).as_deref(),
            Some("description")
        );
        assert_eq!(
            field(form("Ann", "a@example.org", "bell\u{7}")).as_deref(),
            Some("description")
        );
        assert_eq!(
            field(form("Ann", "a@example.org", "<b>locked</b>\r\nplease")).as_deref(),
            None
        );
    }
}
