//! Settings from the server's configuration that the domain's rules depend on, with
//! their defaults (the server's configuration starts from these, so each default is
//! written once).

pub use latchkey_types::Channel;
use latchkey_types::{Branding, HelpDesk};
use time::Duration;

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
