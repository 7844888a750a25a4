//! Settings from the server's configuration that the domain's rules depend on, with
//! their defaults (the server's configuration starts from these, so each default is
//! written once).

pub use latchkey_types::Channel;
use latchkey_types::{Branding, HelpDesk};
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset, Weekday};

/// What the portal shows before anyone identifies themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalSettings {
    pub product_name: String,
    pub channels: Vec<Channel>,
    /// How to reach a person when self-service cannot help.
    pub help_desk: HelpDesk,
    /// The organisation's name and logo for the header and the installed app.
    pub branding: Branding,
}

/// The self-service rules, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfServiceSettings {
    /// A flow must be finished within this time of starting.
    pub flow_lifetime: Duration,
    /// Wrong answers allowed at one step before the flow fails.
    pub attempts_per_step: u32,
    /// The captcha's difficulty: the largest secret number (about half as many hashes,
    /// on average, to solve).
    pub captcha_max_number: u64,
    /// Failed self-service authentications for one account (within `failure_window`)
    /// before self-service is blocked for it.
    pub max_failures: u32,
    pub failure_window: Duration,
    /// How long self-service stays blocked (and the account locked with reason
    /// "Self-service failures").
    pub block_duration: Duration,
    /// The shortest new password accepted.
    pub min_password_chars: usize,
    /// How long an emailed code is valid.
    pub code_lifetime: Duration,
    /// Wrong tries a single emailed code allows.
    pub code_max_tries: u32,
    /// The shortest wait between two emailed codes in one attempt ("Send a new code").
    pub code_resend_after: Duration,
    /// Every self-service answer is sent at this long after the request arrived.
    pub response_time: std::time::Duration,
}

impl Default for SelfServiceSettings {
    fn default() -> Self {
        Self {
            flow_lifetime: Duration::minutes(10),
            attempts_per_step: 3,
            captcha_max_number: 250_000,
            max_failures: 5,
            failure_window: Duration::minutes(15),
            block_duration: Duration::minutes(30),
            min_password_chars: 12,
            code_lifetime: Duration::minutes(10),
            code_max_tries: 5,
            code_resend_after: Duration::seconds(60),
            response_time: std::time::Duration::from_millis(600),
        }
    }
}

/// When support works: these days, from `opens` to `closes`, at `offset` from UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub opens: Time,
    pub closes: Time,
    pub offset: UtcOffset,
}

impl Default for WorkingHours {
    /// Seed 003: Monday to Friday, 9 am to 5 pm.
    fn default() -> Self {
        use Weekday::*;
        Self {
            days: vec![Monday, Tuesday, Wednesday, Thursday, Friday],
            opens: Time::from_hms(9, 0, 0).unwrap_or(Time::MIDNIGHT),
            closes: Time::from_hms(17, 0, 0).unwrap_or(Time::MIDNIGHT),
            offset: UtcOffset::UTC,
        }
    }
}

impl WorkingHours {
    /// As the portal and the mails say it: `Monday to Friday, 9:00–17:00 (UTC)`.
    pub fn describe(&self) -> String {
        let mut days: Vec<Weekday> = self.days.clone();
        days.sort_by_key(|d| d.number_days_from_monday());
        days.dedup();
        let consecutive = days
            .windows(2)
            .all(|w| w[1].number_days_from_monday() == w[0].number_days_from_monday() + 1);
        let day_text = match days.as_slice() {
            [] => "No day".to_owned(),
            [one] => one.to_string(),
            [first, .., last] if consecutive && days.len() > 2 => format!("{first} to {last}"),
            [rest @ .., last] => format!(
                "{} and {last}",
                rest.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let offset = if self.offset == UtcOffset::UTC {
            "UTC".to_owned()
        } else {
            let (h, m, _) = self.offset.as_hms();
            format!(
                "UTC{}{:02}:{:02}",
                if self.offset.is_negative() { '-' } else { '+' },
                h.unsigned_abs(),
                m.unsigned_abs()
            )
        };
        format!(
            "{day_text}, {}:{:02}–{}:{:02} ({offset})",
            self.opens.hour(),
            self.opens.minute(),
            self.closes.hour(),
            self.closes.minute()
        )
    }

    /// The working time between `from` and `to`: how old a request is by the clock
    /// support keeps (a request sent on Friday evening is not two days old on Monday
    /// morning). Counts at most ten years of days.
    pub fn working_time(&self, from: OffsetDateTime, to: OffsetDateTime) -> Duration {
        if to <= from || self.closes <= self.opens {
            return Duration::ZERO;
        }
        let from = from.to_offset(self.offset);
        let to = to.to_offset(self.offset);
        let mut total = Duration::ZERO;
        let mut day: Date = from.date();
        for _ in 0..3660 {
            if day > to.date() {
                break;
            }
            if self.days.contains(&day.weekday()) {
                let open = day.with_time(self.opens).assume_offset(self.offset);
                let close = day.with_time(self.closes).assume_offset(self.offset);
                let start = open.max(from);
                let end = close.min(to);
                if end > start {
                    total += end - start;
                }
            }
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        total
    }
}

/// The support rules from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportSettings {
    pub hours: WorkingHours,
    /// Contact support requests a day for one address (registered or not).
    pub per_address_per_day: u32,
    /// Contact support requests an hour from one client address.
    pub per_client_per_hour: u32,
}

impl Default for SupportSettings {
    fn default() -> Self {
        Self {
            hours: WorkingHours::default(),
            per_address_per_day: 3,
            per_client_per_hour: 5,
        }
    }
}
