//! Configuration: defaults that need no file, overlaid by an optional TOML file
//! (`--config`), overlaid by `LATCHKEY_*` environment variables (nested keys with `__`,
//! e.g. `LATCHKEY_ARGON2__MEMORY_KIB`), overlaid by command-line flags.
//! An invalid configuration stops start-up with a message that names the setting.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use latchkey_core::keys::KEY_BYTES;
use latchkey_core::outbox::worker::MailerSettings;
use latchkey_core::outbox::RetryPolicy;
use latchkey_core::password::Argon2Settings;
use latchkey_core::session::SessionSettings;
use latchkey_core::settings::{Channel, SelfServiceSettings};
use latchkey_core::store::{Database, PgDatabase};
use latchkey_core::support::{SupportSettings, WorkingHours};
use latchkey_core::throttle::ClientLimitSettings;
use latchkey_directory::DirectorySettings;
use latchkey_types::{Branding, HelpDesk};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use time::Duration;
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The address people use to reach Latchkey. Every link the server builds (in
    /// email, for instance) starts with it, and only requests from this origin may
    /// change anything. Never derived from the request's Host header.
    pub base_url: String,
    /// The database: `sqlite://PATH` (created, with its directory, on first start), or
    /// `postgres://USER:PASSWORD@HOST/NAME`, which several servers may share. A bare
    /// file path is still accepted, with a warning. Shown without its password.
    pub database: DatabaseUrl,
    /// How this process uses a PostgreSQL `database` (ignored for SQLite).
    pub postgres: PostgresConfig,
    /// Shown in page headings, titles and email.
    pub product_name: String,
    /// The channels the portal is offered on.
    pub channels: Vec<Channel>,
    /// How a locked-out person reaches a human: shown in the footer, on every failure,
    /// on the rate-limited page and prominently on the kiosk page.
    pub help_desk: HelpDesk,
    /// The organisation's name and logo, in the header and the installed app's name.
    pub organisation: Branding,
    pub log: LogConfig,
    pub argon2: Argon2Settings,
    pub password_pool: PoolConfig,
    pub session: SessionConfig,
    pub self_service: SelfServiceConfig,
    pub client_limits: ClientLimitsConfig,
    /// Support requests: support's working hours (said on the Contact support page and
    /// counted by the queue's ages) and the limits on the form.
    pub support: SupportConfig,
    /// The master key (32 bytes, base64) from which the keys for captcha signatures,
    /// decoys, one-time codes and authenticator encryption are derived. When unset, a key
    /// is generated once into `secret.key` next to the database. Never logged.
    #[serde(skip_serializing)]
    pub secret_key: Option<SecretString>,
    /// Peers whose `X-Forwarded-For` header is believed (reverse proxies). Everyone
    /// else's client address is the socket's peer address.
    pub trusted_proxies: Vec<IpAddr>,
    pub smtp: SmtpConfig,
    pub outbox: OutboxConfig,
    /// Where mail goes without an SMTP server (one `.eml` file per message). Unset:
    /// `mailbox/` next to an SQLite database, or in the working directory.
    pub mailbox_dir: Option<PathBuf>,
    /// Directory identity stores (`[[directories]]`: OpenLDAP with ppolicy, Active
    /// Directory), each registered as an identity store at start-up. Their bind
    /// passwords come from the environment (`bind_password_env`).
    pub directories: Vec<DirectorySettings>,
    /// Prometheus metrics (`GET /metrics`); off unless configured.
    pub metrics: MetricsConfig,
}

/// Where `GET /metrics` is served: on an address of its own (for the scraper's network
/// only), and/or on the main listener to callers with the bearer token. Neither set: not
/// served at all. See `server/src/metrics.rs`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// e.g. `127.0.0.1:9464`: a listener that serves only `/metrics`, without a token.
    pub listen: Option<SocketAddr>,
    /// A bearer token (at least 32 characters) that opens `/metrics` on the main
    /// listener. Better in the environment: `LATCHKEY_METRICS__TOKEN`. Never logged.
    #[serde(serialize_with = "never_serialize")]
    pub token: Option<SecretString>,
}

/// The `database` setting as configured. It may hold a password, so `Debug` shows it
/// the way [`Database`]'s `Display` does: without it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for DatabaseUrl {
    fn from(url: String) -> Self {
        Self(url)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match Database::parse(&self.0) {
            Ok(database) => write!(f, "{database:?}"),
            Err(_) => f.write_str("(invalid)"),
        }
    }
}

/// A PostgreSQL database's connection pool, per server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PostgresConfig {
    /// Connections this process opens at most (every server its own).
    pub pool_size: u32,
    /// Longest a statement may run, waiting for a lock included, before it fails.
    pub statement_timeout_ms: u64,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            pool_size: PgDatabase::DEFAULT_POOL_SIZE,
            statement_timeout_ms: u64::try_from(PgDatabase::DEFAULT_STATEMENT_TIMEOUT.as_millis())
                .unwrap_or(10_000),
        }
    }
}

/// The mail server Latchkey sends through. With no `host`, mail goes to the mailbox
/// folder next to the database instead (one `.eml` file per message).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Host name or address of the SMTP server; empty: no server.
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Sign in to the server with this user name (and `password`); empty: no sign-in.
    pub username: String,
    /// Never written anywhere: not serialized, not logged (`Debug` shows it redacted).
    #[serde(serialize_with = "never_serialize")]
    pub password: Option<SecretString>,
    /// The sender, e.g. `Example Health account help <unlock@example.org>`.
    pub from: String,
    /// Longest wait for the server to answer (connecting, each command).
    pub timeout_secs: u32,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 587,
            tls: SmtpTls::Starttls,
            username: String::new(),
            password: None,
            from: "Latchkey <latchkey@localhost>".to_owned(),
            timeout_secs: 20,
        }
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same machine or a test server.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    Starttls,
    /// TLS from the first byte, "SMTPS" (usually port 465).
    Tls,
}

/// The secret never leaves the process through serialization.
fn never_serialize<S: Serializer>(_: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

/// The background delivery of the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Delivery tasks in this process (each holds one SMTP connection at a time).
    pub workers: u32,
    /// How often an idle worker looks for mail to send, in milliseconds.
    pub poll_interval_ms: u64,
    /// Attempts per mail, the first included, before it is marked failed.
    pub max_attempts: u32,
    /// Delay after the first failed attempt; it doubles each time (with jitter).
    pub first_retry_secs: u32,
    /// Longest delay between two attempts.
    pub max_retry_secs: u32,
    /// Mails a worker takes at a time.
    pub batch_size: u32,
    /// How long a worker's hold on its batch lasts; after that (a crashed worker)
    /// another worker sends the mail. At least `batch_size × smtp.timeout_secs`.
    pub claim_secs: u32,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        let retry = RetryPolicy::default();
        Self {
            workers: 2,
            poll_interval_ms: 1000,
            max_attempts: retry.max_attempts,
            first_retry_secs: u32::try_from(retry.first_delay.whole_seconds()).unwrap_or(30),
            max_retry_secs: u32::try_from(retry.max_delay.whole_seconds()).unwrap_or(3600),
            batch_size: 10,
            claim_secs: 600,
        }
    }
}

impl OutboxConfig {
    /// The worker's settings; Message-IDs end with `message_id_domain`.
    pub fn settings(&self, message_id_domain: &str) -> MailerSettings {
        MailerSettings {
            retry: RetryPolicy {
                max_attempts: self.max_attempts,
                first_delay: Duration::seconds(i64::from(self.first_retry_secs)),
                max_delay: Duration::seconds(i64::from(self.max_retry_secs)),
            },
            claim_for: Duration::seconds(i64::from(self.claim_secs)),
            batch_size: self.batch_size,
            poll_interval: std::time::Duration::from_millis(self.poll_interval_ms),
            message_id_domain: message_id_domain.to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `latchkey_server=debug,info`;
    /// `RUST_LOG`, when set, wins.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Auto,
            filter: "info".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when standard output is not a terminal, human-readable when it is.
    Auto,
    Human,
    Json,
}

/// The bounded pool that runs Argon2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolConfig {
    /// Hashes computed at once; 0 means one per CPU core.
    pub workers: usize,
    /// Hashes allowed to wait; beyond this, callers get "busy, retry" (HTTP 503).
    pub queue: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            workers: 0,
            queue: 64,
        }
    }
}

impl PoolConfig {
    pub fn effective_workers(&self) -> usize {
        if self.workers > 0 {
            self.workers
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }
}

/// Server-side sessions (see `docs/SECURITY.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session ends after this many minutes without a request.
    pub idle_timeout_minutes: u32,
    /// A session ends this many minutes after sign-in, however active.
    pub absolute_timeout_minutes: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 30,
            absolute_timeout_minutes: 12 * 60,
        }
    }
}

impl SessionConfig {
    pub fn settings(&self) -> SessionSettings {
        SessionSettings {
            idle_timeout: Duration::minutes(i64::from(self.idle_timeout_minutes)),
            absolute_timeout: Duration::minutes(i64::from(self.absolute_timeout_minutes)),
        }
    }
}

/// Self-service (see `docs/SECURITY.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SelfServiceConfig {
    /// A self-service attempt must be finished within this many minutes.
    pub flow_minutes: u32,
    /// Wrong answers allowed at one step.
    pub attempts_per_step: u32,
    /// Captcha difficulty: the largest secret number (the browser tries half as many
    /// hashes on average).
    pub captcha_max_number: u64,
    /// Failed answers for one account before self-service is blocked for it.
    pub max_failures: u32,
    pub failure_window_minutes: u32,
    /// How long self-service stays blocked (the account is locked with reason
    /// "Self-service failures" for as long).
    pub block_minutes: u32,
    /// The shortest new password.
    pub min_password_chars: u32,
    /// How long an emailed one-time code is valid.
    pub code_minutes: u32,
    /// The shortest wait before "Send a new code" sends another, in seconds.
    pub code_resend_seconds: u32,
    /// Every self-service answer is sent this many milliseconds after its request
    /// arrived, whatever path it took.
    pub response_time_ms: u32,
}

/// Whole minutes of a duration, as configuration writes them.
fn minutes(d: Duration) -> u32 {
    u32::try_from(d.whole_minutes()).unwrap_or(u32::MAX)
}

/// The defaults are the domain's (`SelfServiceSettings::default`), in configuration's units.
impl Default for SelfServiceConfig {
    fn default() -> Self {
        let d = SelfServiceSettings::default();
        Self {
            flow_minutes: minutes(d.flow_lifetime),
            attempts_per_step: d.attempts_per_step,
            captcha_max_number: d.captcha_max_number,
            max_failures: d.max_failures,
            failure_window_minutes: minutes(d.failure_window),
            block_minutes: minutes(d.block_duration),
            min_password_chars: u32::try_from(d.min_password_chars).unwrap_or(u32::MAX),
            code_minutes: minutes(d.code_lifetime),
            code_resend_seconds: u32::try_from(d.code_resend_after.whole_seconds())
                .unwrap_or(u32::MAX),
            response_time_ms: u32::try_from(d.response_time.as_millis()).unwrap_or(u32::MAX),
        }
    }
}

impl SelfServiceConfig {
    pub fn settings(&self) -> SelfServiceSettings {
        let d = SelfServiceSettings::default();
        SelfServiceSettings {
            flow_lifetime: Duration::minutes(i64::from(self.flow_minutes)),
            attempts_per_step: self.attempts_per_step,
            captcha_max_number: self.captcha_max_number,
            max_failures: self.max_failures,
            failure_window: Duration::minutes(i64::from(self.failure_window_minutes)),
            block_duration: Duration::minutes(i64::from(self.block_minutes)),
            min_password_chars: self.min_password_chars as usize,
            code_lifetime: Duration::minutes(i64::from(self.code_minutes)),
            code_max_tries: d.code_max_tries,
            code_resend_after: Duration::seconds(i64::from(self.code_resend_seconds)),
            response_time: std::time::Duration::from_millis(u64::from(self.response_time_ms)),
        }
    }
}

/// Limits per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClientLimitsConfig {
    /// Sign-in and self-service requests per minute from one address.
    pub requests_per_minute: u32,
    /// Failed authentications per hour from one address.
    pub failures_per_hour: u32,
}

impl Default for ClientLimitsConfig {
    fn default() -> Self {
        let d = ClientLimitSettings::default();
        Self {
            requests_per_minute: d.requests_per_minute,
            failures_per_hour: d.failures_per_hour,
        }
    }
}

impl ClientLimitsConfig {
    pub fn settings(&self) -> ClientLimitSettings {
        ClientLimitSettings {
            requests_per_minute: self.requests_per_minute,
            failures_per_hour: self.failures_per_hour,
        }
    }
}

/// Support's working hours and the Contact support form's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupportConfig {
    /// The days support works, e.g. `["monday", "tuesday", "wednesday", "thursday",
    /// "friday"]`.
    pub days: Vec<String>,
    /// When support opens and closes on those days, `HH:MM`.
    pub opens: String,
    pub closes: String,
    /// Support's time zone as an offset from UTC, e.g. `+01:00`.
    pub utc_offset: String,
    /// Requests a day for one email address, registered or not.
    pub per_address_per_day: u32,
    /// Requests an hour from one client address.
    pub per_client_per_hour: u32,
}

impl Default for SupportConfig {
    fn default() -> Self {
        Self {
            days: ["monday", "tuesday", "wednesday", "thursday", "friday"]
                .map(str::to_owned)
                .to_vec(),
            opens: "09:00".to_owned(),
            closes: "17:00".to_owned(),
            utc_offset: "+00:00".to_owned(),
            per_address_per_day: 3,
            per_client_per_hour: 5,
        }
    }
}

impl SupportConfig {
    /// The settings, or the setting that is wrong and why.
    pub fn settings(&self) -> Result<SupportSettings, (&'static str, String)> {
        let clock = |setting: &'static str, text: &str| {
            let parsed = text.split_once(':').and_then(|(h, m)| {
                let (h, m) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
                (m < 60 && h <= 24 && !(h == 24 && m > 0) && text.len() == 5).then_some((h, m))
            });
            match parsed {
                Some((24, 0)) => Ok(time::Time::MIDNIGHT - time::Duration::SECOND),
                Some((h, m)) => time::Time::from_hms(h, m, 0).map_err(|e| (setting, e.to_string())),
                None => Err((setting, "must be a time of day such as 09:00".to_owned())),
            }
        };
        let opens = clock("support.opens", &self.opens)?;
        let closes = clock("support.closes", &self.closes)?;
        if closes <= opens {
            return Err(("support.closes", "must be after support.opens".to_owned()));
        }
        let mut days = Vec::new();
        for day in &self.days {
            use time::Weekday::*;
            let d = match day.to_lowercase().as_str() {
                "monday" => Monday,
                "tuesday" => Tuesday,
                "wednesday" => Wednesday,
                "thursday" => Thursday,
                "friday" => Friday,
                "saturday" => Saturday,
                "sunday" => Sunday,
                _ => {
                    return Err((
                        "support.days",
                        format!("{day:?} is not a day of the week (monday … sunday)"),
                    ))
                }
            };
            days.push(d);
        }
        if days.is_empty() {
            return Err(("support.days", "name at least one day".to_owned()));
        }
        let bad_offset = || {
            (
                "support.utc_offset",
                "must be an offset such as +01:00 or -05:00".to_owned(),
            )
        };
        let (sign, rest) = match self.utc_offset.split_at_checked(1) {
            Some(("+", rest)) => (1i8, rest),
            Some(("-", rest)) => (-1i8, rest),
            _ => return Err(bad_offset()),
        };
        let (h, m) = rest
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<i8>().ok()?, m.parse::<i8>().ok()?)))
            .filter(|(h, m)| rest.len() == 5 && (0..=14).contains(h) && (0..60).contains(m))
            .ok_or_else(bad_offset)?;
        let offset = time::UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad_offset())?;
        if self.per_address_per_day == 0 {
            return Err((
                "support.per_address_per_day",
                "must be at least 1".to_owned(),
            ));
        }
        if self.per_client_per_hour == 0 {
            return Err((
                "support.per_client_per_hour",
                "must be at least 1".to_owned(),
            ));
        }
        Ok(SupportSettings {
            hours: WorkingHours {
                days,
                opens,
                closes,
                offset,
            },
            per_address_per_day: self.per_address_per_day,
            per_client_per_hour: self.per_client_per_hour,
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: "http://127.0.0.1:8080".to_owned(),
            database: DatabaseUrl("sqlite://data/latchkey.sqlite3".to_owned()),
            postgres: PostgresConfig::default(),
            product_name: "Latchkey".to_owned(),
            channels: Channel::ALL.to_vec(),
            help_desk: HelpDesk::default(),
            organisation: Branding::default(),
            log: LogConfig::default(),
            argon2: Argon2Settings::default(),
            password_pool: PoolConfig::default(),
            session: SessionConfig::default(),
            self_service: SelfServiceConfig::default(),
            client_limits: ClientLimitsConfig::default(),
            support: SupportConfig::default(),
            secret_key: None,
            trusted_proxies: Vec::new(),
            smtp: SmtpConfig::default(),
            outbox: OutboxConfig::default(),
            mailbox_dir: None,
            directories: Vec::new(),
            metrics: MetricsConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid setting `{setting}`: {message}")]
    Invalid { setting: String, message: String },
}

/// Values from the command line, applied over everything else.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// The base URL when none is configured: this machine at the listening port, so that
/// `latchkey serve --listen 127.0.0.1:9000` works in a browser on the same machine. A
/// server reachable from elsewhere must set `base_url`.
fn local_url(listen: SocketAddr) -> String {
    if listen.ip().is_unspecified() {
        format!("http://127.0.0.1:{}", listen.port())
    } else {
        format!("http://{listen}")
    }
}

impl Config {
    /// Loads defaults, then `file` (if given), then the environment, then `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        Self::load_from(file, Env::prefixed("LATCHKEY_").split("__"), overrides)
    }

    fn load_from(
        file: Option<&Path>,
        env: Env,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut given = Figment::new();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            given = given.merge(Toml::file(path));
        }
        let given = given.merge(env).merge(Serialized::defaults(overrides));
        let base_url_given = given.find_value("base_url").is_ok();
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(given)
            .extract()
            .map_err(describe)?;
        if !base_url_given {
            config.base_url = local_url(config.listen);
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &str, message: String| ConfigError::Invalid {
            setting: setting.to_owned(),
            message,
        };
        self.base_url().map_err(|m| invalid("base_url", m))?;
        if self.product_name.trim().is_empty() || self.product_name.chars().count() > 60 {
            return Err(invalid(
                "product_name",
                "must be 1 to 60 characters".to_owned(),
            ));
        }
        if self.channels.is_empty() {
            return Err(invalid(
                "channels",
                "enable at least one channel".to_owned(),
            ));
        }
        self.argon2.validate().map_err(|m| invalid("argon2", m))?;
        if self.password_pool.queue > 100_000 {
            return Err(invalid(
                "password_pool.queue",
                "must be at most 100000".to_owned(),
            ));
        }
        let s = &self.session;
        if s.idle_timeout_minutes == 0 {
            return Err(invalid(
                "session.idle_timeout_minutes",
                "must be at least 1".to_owned(),
            ));
        }
        if s.absolute_timeout_minutes < s.idle_timeout_minutes {
            return Err(invalid(
                "session.absolute_timeout_minutes",
                "must be at least session.idle_timeout_minutes".to_owned(),
            ));
        }
        let ss = &self.self_service;
        let positive = [
            ("self_service.flow_minutes", u64::from(ss.flow_minutes)),
            (
                "self_service.attempts_per_step",
                u64::from(ss.attempts_per_step),
            ),
            ("self_service.max_failures", u64::from(ss.max_failures)),
            (
                "self_service.failure_window_minutes",
                u64::from(ss.failure_window_minutes),
            ),
            ("self_service.block_minutes", u64::from(ss.block_minutes)),
            ("self_service.code_minutes", u64::from(ss.code_minutes)),
            (
                "client_limits.requests_per_minute",
                u64::from(self.client_limits.requests_per_minute),
            ),
            (
                "client_limits.failures_per_hour",
                u64::from(self.client_limits.failures_per_hour),
            ),
        ];
        for (setting, value) in positive {
            if value == 0 {
                return Err(invalid(setting, "must be at least 1".to_owned()));
            }
        }
        if let Err((setting, message)) = self.support.settings() {
            return Err(invalid(setting, message));
        }
        if !(1_000..=100_000_000).contains(&ss.captcha_max_number) {
            return Err(invalid(
                "self_service.captcha_max_number",
                "must be between 1000 and 100000000".to_owned(),
            ));
        }
        if !(8..=128).contains(&ss.min_password_chars) {
            return Err(invalid(
                "self_service.min_password_chars",
                "must be between 8 and 128".to_owned(),
            ));
        }
        if ss.code_resend_seconds == 0
            || ss.code_resend_seconds > ss.code_minutes.saturating_mul(60)
        {
            return Err(invalid(
                "self_service.code_resend_seconds",
                "must be at least 1 and at most self_service.code_minutes × 60".to_owned(),
            ));
        }
        if ss.response_time_ms > 10_000 {
            return Err(invalid(
                "self_service.response_time_ms",
                "must be at most 10000".to_owned(),
            ));
        }
        if let Some(key) = &self.secret_key {
            decode_key(key.expose_secret()).map_err(|m| invalid("secret_key", m))?;
        }
        if let Some(token) = &self.metrics.token {
            if token.expose_secret().chars().count() < 32 {
                return Err(invalid(
                    "metrics.token",
                    "must be at least 32 characters (e.g. `openssl rand -base64 32`)".to_owned(),
                ));
            }
        }
        if self.metrics.listen.is_some() && self.metrics.listen == Some(self.listen) {
            return Err(invalid(
                "metrics.listen",
                "must differ from `listen` (use `metrics.token` to serve /metrics there)"
                    .to_owned(),
            ));
        }
        let database = self.database().map_err(|m| invalid("database", m))?;
        if database.is_shared() && self.secret_key.is_none() {
            return Err(invalid(
                "secret_key",
                "is required with a PostgreSQL `database`: every server on one database must \
                 derive the same keys, so give each the same key (e.g. from \
                 `openssl rand -base64 32`) instead of letting each generate its own"
                    .to_owned(),
            ));
        }
        if !(1..=1000).contains(&self.postgres.pool_size) {
            return Err(invalid(
                "postgres.pool_size",
                "must be 1 to 1000".to_owned(),
            ));
        }
        if !(100..=3_600_000).contains(&self.postgres.statement_timeout_ms) {
            return Err(invalid(
                "postgres.statement_timeout_ms",
                "must be 100 to 3600000".to_owned(),
            ));
        }
        self.validate_portal_text()?;
        self.validate_directories()?;
        self.validate_mail()
    }

    /// Each directory's own checks (named `directories[i].…`), and names that differ.
    fn validate_directories(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::BTreeSet::new();
        for (i, directory) in self.directories.iter().enumerate() {
            let prefix = format!("directories[{i}]");
            directory
                .validate(&prefix)
                .map_err(|e| ConfigError::Invalid {
                    setting: e.setting,
                    message: e.message,
                })?;
            if !names.insert(directory.name.trim().to_uppercase()) {
                return Err(ConfigError::Invalid {
                    setting: format!("{prefix}.name"),
                    message: "is the name of another directory".to_owned(),
                });
            }
        }
        Ok(())
    }

    /// The help desk and branding are shown to everyone: short, printable, and links
    /// that cannot run script.
    fn validate_portal_text(&self) -> Result<(), ConfigError> {
        let invalid = |setting: &str, message: &str| ConfigError::Invalid {
            setting: setting.to_owned(),
            message: message.to_owned(),
        };
        let h = &self.help_desk;
        let o = &self.organisation;
        let texts = [
            ("help_desk.phone", &h.phone, 40),
            ("help_desk.hours", &h.hours, 100),
            ("help_desk.url", &h.url, 300),
            ("help_desk.text", &h.text, 300),
            ("organisation.name", &o.name, 60),
            ("organisation.logo_url", &o.logo_url, 300),
        ];
        for (setting, value, max) in texts {
            if let Some(v) = value {
                if v.trim().is_empty() || v.chars().count() > max || v.chars().any(char::is_control)
                {
                    return Err(invalid(
                        setting,
                        &format!("must be 1 to {max} printable characters (leave it out instead of empty)"),
                    ));
                }
            }
        }
        if let Some(phone) = &h.phone {
            if !phone
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c))
            {
                return Err(invalid(
                    "help_desk.phone",
                    "may hold only digits, spaces and + - ( ) .",
                ));
            }
        }
        if let Some(url) = &h.url {
            if !Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                return Err(invalid(
                    "help_desk.url",
                    "must be an http or https URL, e.g. https://help.example.org/",
                ));
            }
        }
        if let Some(logo) = &o.logo_url {
            let on_this_server = logo.starts_with('/') && !logo.starts_with("//");
            if !on_this_server && self.logo_origin().is_none() {
                return Err(invalid(
                    "organisation.logo_url",
                    "must be a path on this server (/…) or an https URL",
                ));
            }
        }
        Ok(())
    }

    /// The origin the logo is loaded from, when it is on another site (the pages' CSP
    /// then allows images from there, and only from there).
    pub fn logo_origin(&self) -> Option<String> {
        let url = Url::parse(self.organisation.logo_url.as_deref()?).ok()?;
        (url.scheme() == "https").then(|| url.origin().ascii_serialization())
    }

    fn validate_mail(&self) -> Result<(), ConfigError> {
        let check = |ok: bool, setting: &str, message: &str| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError::Invalid {
                    setting: setting.to_owned(),
                    message: message.to_owned(),
                })
            }
        };
        let (smtp, outbox) = (&self.smtp, &self.outbox);
        let host = smtp.host.trim();
        check(
            host.len() <= 253 && !host.chars().any(char::is_whitespace),
            "smtp.host",
            "must be a host name or address, e.g. smtp.example.org",
        )?;
        check(smtp.port > 0, "smtp.port", "must be 1 to 65535")?;
        check(
            parse_sender(&smtp.from).is_ok(),
            "smtp.from",
            "must be an address such as `Account help <unlock@example.org>`",
        )?;
        check(
            smtp.username.is_empty() == smtp.password.is_none(),
            "smtp.password",
            "set both smtp.username and smtp.password, or neither",
        )?;
        let loopback =
            host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        check(
            smtp.tls != SmtpTls::None || smtp.username.is_empty() || loopback,
            "smtp.tls",
            "must be starttls or tls when signing in to a server on another machine \
             (the password would travel unencrypted)",
        )?;
        check(
            (1..=300).contains(&smtp.timeout_secs),
            "smtp.timeout_secs",
            "must be 1 to 300",
        )?;
        check(
            (1..=16).contains(&outbox.workers),
            "outbox.workers",
            "must be 1 to 16",
        )?;
        check(
            (10..=60_000).contains(&outbox.poll_interval_ms),
            "outbox.poll_interval_ms",
            "must be 10 to 60000",
        )?;
        check(
            (1..=100).contains(&outbox.max_attempts),
            "outbox.max_attempts",
            "must be 1 to 100",
        )?;
        check(
            outbox.first_retry_secs >= 1,
            "outbox.first_retry_secs",
            "must be at least 1",
        )?;
        check(
            outbox.max_retry_secs >= outbox.first_retry_secs,
            "outbox.max_retry_secs",
            "must be at least outbox.first_retry_secs",
        )?;
        check(
            (1..=1000).contains(&outbox.batch_size),
            "outbox.batch_size",
            "must be 1 to 1000",
        )?;
        check(
            u64::from(outbox.claim_secs)
                >= u64::from(outbox.batch_size) * u64::from(smtp.timeout_secs),
            "outbox.claim_secs",
            "must be at least outbox.batch_size × smtp.timeout_secs, or a slow batch could be sent twice",
        )
    }

    /// Whether mail goes to an SMTP server (else to the mailbox folder).
    pub fn smtp_configured(&self) -> bool {
        !self.smtp.host.trim().is_empty()
    }

    /// The database the `database` setting names (for PostgreSQL, with the `postgres`
    /// settings).
    pub fn database(&self) -> Result<Database, String> {
        let database = Database::parse(self.database.as_str()).map_err(|e| match e {
            latchkey_core::store::StoreError::Url(m) => m,
            other => other.to_string(),
        })?;
        Ok(match database {
            Database::Postgres(mut pg) => {
                pg.pool_size = self.postgres.pool_size;
                pg.statement_timeout =
                    std::time::Duration::from_millis(self.postgres.statement_timeout_ms);
                Database::Postgres(pg)
            }
            other => other,
        })
    }

    /// The folder beside the database file, where files that go with it live (the
    /// generated secret key, the mailbox); the working directory for a database that is
    /// not a file.
    pub fn data_dir(&self) -> PathBuf {
        self.database()
            .ok()
            .and_then(|d| d.file().and_then(Path::parent).map(Path::to_path_buf))
            .unwrap_or_default()
    }

    /// Where mail goes without an SMTP server: the `mailbox_dir` setting, or else
    /// `mailbox/` next to the database (so `--ephemeral` keeps it in its temporary
    /// directory).
    pub fn mailbox_dir(&self) -> PathBuf {
        self.mailbox_dir
            .clone()
            .unwrap_or_else(|| self.data_dir().join("mailbox"))
    }

    /// The validated base URL, without a trailing slash.
    pub fn base_url(&self) -> Result<Url, String> {
        let url = Url::parse(self.base_url.trim_end_matches('/'))
            .map_err(|e| format!("{e} (expected e.g. https://unlock.example.org)"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("must start with http:// or https://".to_owned());
        }
        if url.host().is_none() {
            return Err("must name a host".to_owned());
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err("must not contain a query, fragment or credentials".to_owned());
        }
        Ok(url)
    }
}

/// Parses the configured sender, e.g. `Account help <unlock@example.org>`.
pub fn parse_sender(from: &str) -> Result<lettre::message::Mailbox, String> {
    from.trim()
        .parse::<lettre::message::Mailbox>()
        .map_err(|e| e.to_string())
}

/// A master key as configured: base64 of exactly 32 bytes.
pub fn decode_key(text: &str) -> Result<[u8; KEY_BYTES], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| "must be base64 (e.g. from `openssl rand -base64 32`)".to_owned())?;
    bytes
        .try_into()
        .map_err(|_| format!("must decode to exactly {KEY_BYTES} bytes"))
}

/// Turns figment's error into one that names the setting and where its value came from.
fn describe(e: figment::Error) -> ConfigError {
    let setting = if e.path.is_empty() {
        "(file)".to_owned()
    } else {
        e.path.join(".")
    };
    let source = e
        .metadata
        .as_ref()
        .map(|m| format!(" (from {})", m.name))
        .unwrap_or_default();
    ConfigError::Invalid {
        setting,
        message: format!("{}{source}", e.kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prefix no real environment has, so tests see only defaults and their file.
    fn env() -> Env {
        Env::prefixed("LATCHKEY_TEST_NEVER_SET_").split("__")
    }

    fn load_toml(toml: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latchkey.toml");
        std::fs::write(&path, toml).unwrap();
        Config::load_from(Some(&path), env(), &Overrides::default())
    }

    #[test]
    fn defaults_need_no_file() {
        let c = Config::load_from(None, env(), &Overrides::default()).unwrap();
        assert_eq!(c.listen, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(c.database.as_str(), "sqlite://data/latchkey.sqlite3");
        assert_eq!(c.argon2.memory_kib, 19 * 1024);
    }

    #[test]
    fn without_a_base_url_links_point_at_the_listening_port_on_this_machine() {
        let on = |listen: &str| {
            let overrides = Overrides {
                listen: Some(listen.parse().unwrap()),
                ..Overrides::default()
            };
            Config::load_from(None, env(), &overrides).unwrap().base_url
        };
        assert_eq!(on("127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(on("0.0.0.0:9000"), "http://127.0.0.1:9000");
        assert_eq!(on("[::1]:9000"), "http://[::1]:9000");
        // A configured base URL always wins.
        let c = load_toml("listen = \"127.0.0.1:9000\"\nbase_url = \"https://unlock.example.org\"")
            .unwrap();
        assert_eq!(c.base_url, "https://unlock.example.org");
    }

    #[test]
    fn support_hours_load_and_are_described_as_configured() {
        let c = load_toml(
            "[support]\ndays = [\"Monday\", \"tuesday\", \"saturday\"]\nopens = \"08:30\"\n\
             closes = \"24:00\"\nutc_offset = \"-05:00\"\nper_client_per_hour = 2\n",
        )
        .unwrap();
        let s = c.support.settings().unwrap();
        assert_eq!(
            s.hours.describe(),
            "Monday, Tuesday and Saturday, 8:30–23:59 (UTC-05:00)"
        );
        assert_eq!(s.per_client_per_hour, 2);
        assert_eq!(
            Config::default()
                .support
                .settings()
                .unwrap()
                .hours
                .describe(),
            "Monday to Friday, 9:00–17:00 (UTC)"
        );
    }

    #[test]
    fn the_help_desk_and_organisation_load_and_a_foreign_logo_is_allowed_by_origin() {
        let c = load_toml(
            "[help_desk]\nphone = \"+44 20 7946 0000\"\nhours = \"Mon–Fri 8–18\"\n\
             url = \"https://help.example.org/\"\n\
             [organisation]\nname = \"Example Health\"\nlogo_url = \"https://cdn.example.org/logo.svg\"\n",
        )
        .unwrap();
        assert_eq!(c.help_desk.phone.as_deref(), Some("+44 20 7946 0000"));
        assert_eq!(c.help_desk.text, None);
        assert_eq!(c.organisation.name.as_deref(), Some("Example Health"));
        assert_eq!(c.logo_origin().as_deref(), Some("https://cdn.example.org"));
        let local = load_toml("[organisation]\nlogo_url = \"/icons/icon.svg\"\n").unwrap();
        assert_eq!(local.logo_origin(), None);
        assert!(Config::default().help_desk.is_empty());
    }

    #[test]
    fn a_file_overrides_defaults() {
        let c = load_toml("base_url = \"https://unlock.example.org/\"\n[argon2]\niterations = 3\n")
            .unwrap();
        assert_eq!(
            c.base_url().unwrap().as_str(),
            "https://unlock.example.org/"
        );
        assert_eq!(c.argon2.iterations, 3);
        assert_eq!(c.argon2.memory_kib, 19 * 1024);
    }

    #[test]
    fn errors_name_the_setting() {
        for (toml, setting) in [
            ("listen = \"nowhere\"", "listen"),
            ("base_url = \"ftp://x\"", "base_url"),
            ("base_url = \"not a url\"", "base_url"),
            ("channels = []", "channels"),
            ("channels = [\"fax\"]", "channels"),
            ("database = \"postgres-ish://x\"", "database"),
            (
                "database = \"postgres://db.example.org:port/latchkey\"",
                "database",
            ),
            ("database = \"postgres://db.example.org/latchkey\"", "secret_key"),
            ("[postgres]\npool_size = 0", "postgres.pool_size"),
            ("[metrics]\ntoken = \"short\"", "metrics.token"),
            (
                "listen = \"127.0.0.1:9000\"\n[metrics]\nlisten = \"127.0.0.1:9000\"",
                "metrics.listen",
            ),
            (
                "[postgres]\nstatement_timeout_ms = 10",
                "postgres.statement_timeout_ms",
            ),
            ("database = \"sqlite://\"", "database"),
            ("colour = \"blue\"", "colour"),
            ("[argon2]\nmemory_kib = 1", "argon2"),
            ("[log]\nformat = \"xml\"", "log.format"),
            (
                "[session]\nidle_timeout_minutes = 0",
                "session.idle_timeout_minutes",
            ),
            (
                "[session]\nabsolute_timeout_minutes = 5",
                "session.absolute_timeout_minutes",
            ),
            ("[smtp]\nhost = \"smtp example\"", "smtp.host"),
            ("[smtp]\nport = 0", "smtp.port"),
            ("[smtp]\nport = 70000", "smtp.port"),
            ("[smtp]\ntls = \"ssl\"", "smtp.tls"),
            ("[smtp]\nfrom = \"not an address\"", "smtp.from"),
            ("[smtp]\nusername = \"latchkey\"", "smtp.password"),
            ("[smtp]\npassword = \"s3cret\"", "smtp.password"),
            (
                "[smtp]\nhost = \"smtp.example.org\"\ntls = \"none\"\nusername = \"u\"\npassword = \"p\"",
                "smtp.tls",
            ),
            ("[smtp]\ntimeout_secs = 0", "smtp.timeout_secs"),
            ("[outbox]\nworkers = 0", "outbox.workers"),
            ("[outbox]\npoll_interval_ms = 1", "outbox.poll_interval_ms"),
            ("[outbox]\nmax_attempts = 0", "outbox.max_attempts"),
            ("[outbox]\nfirst_retry_secs = 0", "outbox.first_retry_secs"),
            (
                "[outbox]\nfirst_retry_secs = 60\nmax_retry_secs = 30",
                "outbox.max_retry_secs",
            ),
            ("[outbox]\nbatch_size = 0", "outbox.batch_size"),
            ("[outbox]\nclaim_secs = 10", "outbox.claim_secs"),
            ("[help_desk]\nphone = \"call us\"", "help_desk.phone"),
            ("[help_desk]\nphone = \"\"", "help_desk.phone"),
            ("[help_desk]\nurl = \"javascript:alert(1)\"", "help_desk.url"),
            ("[help_desk]\nfax = \"1\"", "help_desk"),
            ("[support]\nopens = \"9am\"", "support.opens"),
            ("[support]\ncloses = \"08:00\"", "support.closes"),
            ("[support]\ndays = [\"caturday\"]", "support.days"),
            ("[support]\ndays = []", "support.days"),
            ("[support]\nutc_offset = \"CET\"", "support.utc_offset"),
            ("[support]\nper_address_per_day = 0", "support.per_address_per_day"),
            ("[help_desk]\ntext = \"a\\u0007b\"", "help_desk.text"),
            ("[organisation]\nlogo_url = \"http://cdn.example.org/l.png\"", "organisation.logo_url"),
            ("[organisation]\nlogo_url = \"//cdn.example.org/l.png\"", "organisation.logo_url"),
            ("[organisation]\nname = \"\"", "organisation.name"),
            (
                "[self_service]\ncode_resend_seconds = 0",
                "self_service.code_resend_seconds",
            ),
            (
                "[self_service]\ncode_minutes = 1\ncode_resend_seconds = 61",
                "self_service.code_resend_seconds",
            ),
            // A directory: plain text only to loopback; names that are store names; the
            // password only from the environment (PATH is always set).
            (
                &directory("url = \"ldap://dc.example.org\"\nbind_password_env = \"PATH\""),
                "directories[0].url",
            ),
            (
                &directory("url = \"ldaps://dc.example.org\"\nbind_password_env = \"PATH\"\nstarttls = true"),
                "directories[0].starttls",
            ),
            (
                &directory("url = \"ldaps://dc.example.org\""),
                "directories[0].bind_password_env",
            ),
            (
                &directory("url = \"ldaps://dc.example.org\"\nbind_password_env = \"PATH\"\noperation_timeout_ms = 5"),
                "directories[0].operation_timeout_ms",
            ),
            (
                &format!(
                    "{}\n{}",
                    directory("url = \"ldaps://a.example.org\"\nbind_password_env = \"PATH\""),
                    directory("url = \"ldaps://b.example.org\"\nbind_password_env = \"PATH\"")
                ),
                "directories[1].name",
            ),
            (
                &directory("url = \"ldaps://dc.example.org\"\nbind_password = \"in-a-file\""),
                "directories",
            ),
        ] {
            match load_toml(toml) {
                Err(ConfigError::Invalid { setting: s, .. }) => {
                    assert!(
                        s.starts_with(setting),
                        "{toml}: named {s}, expected {setting}"
                    )
                }
                other => panic!("{toml}: expected an invalid-setting error, got {other:?}"),
            }
        }
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature
    fn environment_overrides_file_and_names_bad_values() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "latchkey.toml",
                "product_name = \"From file\"\nlisten = \"127.0.0.1:1\"",
            )?;
            jail.set_env("LATCHKEY_LISTEN", "127.0.0.1:9999");
            jail.set_env("LATCHKEY_ARGON2__ITERATIONS", "4");
            let c = Config::load(Some(Path::new("latchkey.toml")), &Overrides::default())
                .map_err(|e| e.to_string())?;
            assert_eq!(c.listen.port(), 9999);
            assert_eq!(c.argon2.iterations, 4);
            assert_eq!(c.product_name, "From file");
            jail.set_env("LATCHKEY_PASSWORD_POOL__QUEUE", "lots");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("password_pool.queue"), "{err}");
            assert!(
                err.contains("LATCHKEY_"),
                "says where the value came from: {err}"
            );
            Ok(())
        });
    }

    /// A `[[directories]]` entry with `rest` added.
    fn directory(rest: &str) -> String {
        format!(
            "[[directories]]\nname = \"CORP\"\nkind = \"ldap\"\nbind_dn = \"cn=latchkey,dc=example,dc=org\"\n\
             base_dn = \"ou=people,dc=example,dc=org\"\n{rest}\n"
        )
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature
    fn a_directory_takes_its_password_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "latchkey.toml",
                "[[directories]]\nname = \"CORP-AD\"\nkind = \"active_directory\"\n\
                 url = \"ldaps://dc1.example.org\"\n\
                 bind_dn = \"CN=latchkey,CN=Users,DC=example,DC=org\"\n\
                 bind_password_env = \"CORP_AD_BIND_PASSWORD\"\n\
                 base_dn = \"CN=Users,DC=example,DC=org\"\noperation_timeout_ms = 3000\n",
            )?;
            let file = Some(Path::new("latchkey.toml"));
            let err = Config::load(file, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("directories[0].bind_password_env")
                    && err.contains("CORP_AD_BIND_PASSWORD"),
                "{err}"
            );
            jail.set_env("CORP_AD_BIND_PASSWORD", "s3cret-bind");
            let c = Config::load(file, &Overrides::default()).map_err(|e| e.to_string())?;
            let d = &c.directories[0];
            assert_eq!(d.kind, latchkey_directory::DirectoryKind::ActiveDirectory);
            assert_eq!((d.operation_timeout_ms, d.priority), (3000, 100));
            // The connector is made from it (nothing is contacted yet).
            let connector =
                latchkey_directory::Directory::new(d.clone()).map_err(|e| e.to_string())?;
            assert_eq!(connector.name(), "CORP-AD");
            Ok(())
        });
    }

    #[test]
    fn smtp_settings_load_and_the_password_never_shows() {
        let c = load_toml(
            "[smtp]\nhost = \"smtp.example.org\"\nport = 465\ntls = \"tls\"\n\
             username = \"latchkey\"\npassword = \"hunter2-very-secret\"\n\
             from = \"Account help <unlock@example.org>\"",
        )
        .unwrap();
        assert!(c.smtp_configured());
        assert_eq!((c.smtp.port, c.smtp.tls), (465, SmtpTls::Tls));
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        let serialized = serde_json::to_string(&c).unwrap();
        assert!(!serialized.contains("hunter2"), "{serialized}");
    }

    #[test]
    fn without_smtp_mail_goes_next_to_the_database() {
        let c = Config::load_from(None, env(), &Overrides::default()).unwrap();
        assert!(!c.smtp_configured());
        assert_eq!(c.mailbox_dir(), PathBuf::from("data/mailbox"));
    }

    #[test]
    fn postgres_needs_the_shared_key_and_never_shows_its_password() {
        let c = load_toml(
            "database = \"postgres://latchkey:hunter2-very-secret@db.example.org/latchkey\"\n\
             secret_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"\n\
             mailbox_dir = \"/var/spool/latchkey\"\n\
             [postgres]\npool_size = 25\nstatement_timeout_ms = 2500",
        )
        .unwrap();
        match c.database().unwrap() {
            Database::Postgres(pg) => {
                assert_eq!(pg.pool_size, 25);
                assert_eq!(pg.statement_timeout, std::time::Duration::from_millis(2500));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(c.mailbox_dir(), PathBuf::from("/var/spool/latchkey"));
        let shown = format!("{c:?} {}", c.database().unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("latchkey:***@db.example.org"), "{shown}");
    }

    #[test]
    fn command_line_wins() {
        let overrides = Overrides {
            listen: Some(SocketAddr::from(([0, 0, 0, 0], 9000))),
            database: None,
        };
        let c = Config::load_from(None, env(), &overrides).unwrap();
        assert_eq!(c.listen.port(), 9000);
    }
}
