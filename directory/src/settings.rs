//! How Latchkey reaches one directory: the `[[directories]]` entries of the server's
//! configuration. Validation names the setting, so start-up stops with a message an
//! administrator can act on.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// Which directory product a store is: the lock, unlock and reset semantics differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    /// OpenLDAP with the ppolicy overlay.
    Ldap,
    /// Microsoft Active Directory (or a Samba domain controller).
    ActiveDirectory,
}

impl DirectoryKind {
    /// The store kind Latchkey records for a store of this kind.
    pub fn store_kind(self) -> latchkey_types::StoreKind {
        match self {
            Self::Ldap => latchkey_types::StoreKind::Ldap,
            Self::ActiveDirectory => latchkey_types::StoreKind::ActiveDirectory,
        }
    }
}

/// Which attribute holds what Latchkey shows and keys on. The stable id is what linked
/// accounts are keyed by (never the DN, which changes when an entry moves).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMap {
    pub username: String,
    pub display_name: String,
    pub mail: String,
    pub stable_id: String,
}

impl AttributeMap {
    /// The usual attributes of each kind.
    pub fn default_for(kind: DirectoryKind) -> Self {
        let (username, display_name, stable_id) = match kind {
            DirectoryKind::Ldap => ("uid", "cn", "entryUUID"),
            DirectoryKind::ActiveDirectory => ("sAMAccountName", "displayName", "objectGUID"),
        };
        Self {
            username: username.to_owned(),
            display_name: display_name.to_owned(),
            mail: "mail".to_owned(),
            stable_id: stable_id.to_owned(),
        }
    }
}

/// One directory identity store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySettings {
    /// The identity store's name (1 to 64 letters, digits and hyphens, kept upper
    /// case), as the console shows it and as usernames may be qualified with.
    pub name: String,
    pub kind: DirectoryKind,
    /// The organisation (its slug) whose store this is; unset: the oldest one.
    #[serde(default)]
    pub organisation: Option<String>,
    /// Unqualified usernames resolve to the store with the lowest value that has them.
    #[serde(default = "default_priority")]
    pub priority: i64,
    /// `ldaps://host[:port]`, or `ldap://host[:port]` with `starttls = true`. Plain
    /// `ldap://` without StartTLS is accepted only to a loopback address.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS (required unless the host is
    /// loopback).
    #[serde(default)]
    pub starttls: bool,
    /// PEM file of the certificate authorities to trust instead of the system's.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// The service account Latchkey binds as to search, unlock and reset.
    pub bind_dn: String,
    /// Its password, for code that has it in hand (tests). Configuration never holds
    /// it: not read from a file, never serialized, never logged (`Debug` redacts it).
    #[serde(skip)]
    pub bind_password: Option<SecretString>,
    /// The name of the environment variable holding the bind password, e.g.
    /// `CORP_AD_BIND_PASSWORD` (not starting with `LATCHKEY_`, which is the
    /// configuration's own prefix): the secret comes from the environment only.
    #[serde(default)]
    pub bind_password_env: Option<String>,
    /// Where accounts are searched (the whole subtree).
    pub base_dn: String,
    /// Which entries are accounts, e.g. `(objectClass=inetOrgPerson)`.
    #[serde(default)]
    pub user_filter: Option<String>,
    #[serde(default)]
    pub attributes: Option<AttributeMap>,
    /// Longest wait to connect, in milliseconds.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Longest wait for one operation's answer, in milliseconds.
    #[serde(default = "default_operation_timeout_ms")]
    pub operation_timeout_ms: u64,
    /// Entries asked for per page of a search (the paged results control).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Most entries one search returns.
    #[serde(default = "default_max_results")]
    pub max_results: u32,
}

fn default_priority() -> i64 {
    100
}
fn default_connect_timeout_ms() -> u64 {
    5_000
}
fn default_operation_timeout_ms() -> u64 {
    10_000
}
fn default_page_size() -> u32 {
    500
}
fn default_max_results() -> u32 {
    1_000
}

/// A setting that is wrong, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid setting `{setting}`: {message}")]
pub struct SettingsError {
    pub setting: String,
    pub message: String,
}

/// How the connection is protected, decided from the URL and `starttls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Ldaps,
    StartTls,
    /// Plain text, only ever to a loopback address (a test server, a local proxy).
    PlainLoopback,
}

impl DirectorySettings {
    /// A store of `kind` with the usual defaults, for code and tests.
    pub fn new(name: &str, kind: DirectoryKind, url: &str, bind_dn: &str, base_dn: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            organisation: None,
            priority: default_priority(),
            url: url.to_owned(),
            starttls: false,
            tls_ca_file: None,
            bind_dn: bind_dn.to_owned(),
            bind_password: None,
            bind_password_env: None,
            base_dn: base_dn.to_owned(),
            user_filter: None,
            attributes: None,
            connect_timeout_ms: default_connect_timeout_ms(),
            operation_timeout_ms: default_operation_timeout_ms(),
            page_size: default_page_size(),
            max_results: default_max_results(),
        }
    }

    /// `prefix` names the entry in error messages, e.g. `directories[0]`.
    pub fn validate(&self, prefix: &str) -> Result<(), SettingsError> {
        let invalid = |setting: &str, message: &str| SettingsError {
            setting: format!("{prefix}.{setting}"),
            message: message.to_owned(),
        };
        let name = self.name.trim();
        if !(1..=64).contains(&name.len())
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(invalid(
                "name",
                "must be 1 to 64 letters, digits and hyphens, e.g. CORP-AD",
            ));
        }
        self.transport().map_err(|m| invalid(m.0, m.1))?;
        if self.bind_dn.trim().is_empty() {
            return Err(invalid(
                "bind_dn",
                "must name the service account, e.g. cn=latchkey,ou=services,dc=example,dc=org",
            ));
        }
        if self.base_dn.trim().is_empty() {
            return Err(invalid(
                "base_dn",
                "must name where accounts are, e.g. ou=people,dc=example,dc=org",
            ));
        }
        if let Some(filter) = &self.user_filter {
            if ldap3::parse_filter(filter).is_err() {
                return Err(invalid(
                    "user_filter",
                    "is not an LDAP filter, e.g. (objectClass=inetOrgPerson)",
                ));
            }
        }
        if let Some(map) = &self.attributes {
            for (field, value) in [
                ("attributes.username", &map.username),
                ("attributes.display_name", &map.display_name),
                ("attributes.mail", &map.mail),
                ("attributes.stable_id", &map.stable_id),
            ] {
                if value.is_empty()
                    || !value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ';')
                {
                    return Err(invalid(field, "must be an attribute name"));
                }
            }
        }
        if !(100..=120_000).contains(&self.connect_timeout_ms) {
            return Err(invalid("connect_timeout_ms", "must be 100 to 120000"));
        }
        if !(100..=300_000).contains(&self.operation_timeout_ms) {
            return Err(invalid("operation_timeout_ms", "must be 100 to 300000"));
        }
        if !(1..=10_000).contains(&self.page_size) {
            return Err(invalid("page_size", "must be 1 to 10000"));
        }
        if !(1..=100_000).contains(&self.max_results) {
            return Err(invalid("max_results", "must be 1 to 100000"));
        }
        if self.bind_password.is_none() {
            match self.bind_password_env.as_deref() {
                None => {
                    return Err(invalid(
                        "bind_password_env",
                        "is required: name the environment variable that holds the service account's password",
                    ))
                }
                Some(var) if std::env::var_os(var).is_none_or(|v| v.is_empty()) => {
                    return Err(invalid(
                        "bind_password_env",
                        &format!("names the environment variable {var}, which is not set"),
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The protection of the connection, or the setting that is wrong and why.
    pub fn transport(&self) -> Result<Transport, (&'static str, &'static str)> {
        let url = Url::parse(&self.url).map_err(|_| {
            (
                "url",
                "must be an ldaps:// or ldap:// URL, e.g. ldaps://dc1.example.org",
            )
        })?;
        let host = url.host_str().unwrap_or_default();
        if host.is_empty()
            || !url.path().trim_start_matches('/').is_empty()
            || url.query().is_some()
        {
            return Err((
                "url",
                "must be ldaps://host[:port] or ldap://host[:port], without a path",
            ));
        }
        match (url.scheme(), self.starttls) {
            ("ldaps", false) => Ok(Transport::Ldaps),
            ("ldaps", true) => Err((
                "starttls",
                "is only for ldap:// URLs (ldaps:// is TLS already)",
            )),
            ("ldap", true) => Ok(Transport::StartTls),
            ("ldap", false) if is_loopback(host) => Ok(Transport::PlainLoopback),
            ("ldap", false) => Err((
                "url",
                "plain ldap:// sends passwords in clear text: use ldaps://, or set starttls = true",
            )),
            _ => Err((
                "url",
                "must be an ldaps:// or ldap:// URL, e.g. ldaps://dc1.example.org",
            )),
        }
    }

    pub fn attribute_map(&self) -> AttributeMap {
        self.attributes
            .clone()
            .unwrap_or_else(|| AttributeMap::default_for(self.kind))
    }

    pub fn filter(&self) -> String {
        self.user_filter.clone().unwrap_or_else(|| {
            match self.kind {
                DirectoryKind::Ldap => "(objectClass=inetOrgPerson)",
                DirectoryKind::ActiveDirectory => "(&(objectCategory=person)(objectClass=user))",
            }
            .to_owned()
        })
    }

    pub fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    pub fn operation_timeout(&self) -> Duration {
        Duration::from_millis(self.operation_timeout_ms)
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(url: &str, starttls: bool) -> Result<(), SettingsError> {
        let mut s = DirectorySettings::new("CORP", DirectoryKind::Ldap, url, "cn=svc", "dc=x");
        s.starttls = starttls;
        s.bind_password = Some(SecretString::from("pw"));
        s.validate("directories[0]")
    }

    #[test]
    fn plain_ldap_only_to_loopback() {
        assert!(ok("ldaps://dc.example.org", false).is_ok());
        assert!(ok("ldap://dc.example.org", true).is_ok());
        assert!(ok("ldap://127.0.0.1:3890", false).is_ok());
        assert!(ok("ldap://localhost", false).is_ok());
        let e = ok("ldap://dc.example.org", false).unwrap_err();
        assert_eq!(e.setting, "directories[0].url");
        assert!(e.message.contains("clear text"));
        assert_eq!(
            ok("ldaps://dc.example.org", true).unwrap_err().setting,
            "directories[0].starttls"
        );
        assert_eq!(
            ok("http://dc.example.org", false).unwrap_err().setting,
            "directories[0].url"
        );
        assert_eq!(
            ok("ldaps://dc.example.org/dc=x", false)
                .unwrap_err()
                .setting,
            "directories[0].url"
        );
    }

    #[test]
    fn a_missing_password_and_a_bad_filter_are_named() {
        let mut s =
            DirectorySettings::new("CORP", DirectoryKind::Ldap, "ldaps://dc", "cn=svc", "dc=x");
        assert_eq!(s.validate("d").unwrap_err().setting, "d.bind_password_env");
        s.bind_password_env = Some("LATCHKEY_TEST_SURELY_UNSET_VARIABLE".to_owned());
        let e = s.validate("d").unwrap_err();
        assert_eq!(e.setting, "d.bind_password_env");
        assert!(e.message.contains("LATCHKEY_TEST_SURELY_UNSET_VARIABLE"));
        s.bind_password = Some(SecretString::from("pw"));
        s.name = "Corp AD".to_owned();
        assert_eq!(s.validate("d").unwrap_err().setting, "d.name");
        s.name = "CORP".to_owned();
        s.user_filter = Some("objectClass=person(".to_owned());
        assert_eq!(s.validate("d").unwrap_err().setting, "d.user_filter");
    }
}
