//! The operations on one directory, over `ldap3` with rustls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ldap3::controls::{Control, ControlType, MakeCritical, PagedResults, RelaxRules};
use ldap3::exop::PasswordModify;
use ldap3::{
    ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, LdapError, Mod, Scope, SearchEntry,
};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use crate::lock::{self, AdLockoutDuration, LockState};
use crate::settings::{AttributeMap, DirectoryKind, DirectorySettings, Transport};

/// What went wrong talking to a directory. Each names the directory (the store's name),
/// so the operator knows which one to look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("the directory {directory} could not be reached: {detail}")]
    Unreachable { directory: String, detail: String },
    #[error("the directory {directory} did not answer in time")]
    TimedOut { directory: String },
    /// The directory answered with an error (result code and its text).
    #[error("the directory {directory} refused the request: {message} (LDAP result {code})")]
    Refused {
        directory: String,
        code: u32,
        message: String,
    },
    /// The account is not in the directory (or not one the user filter admits).
    #[error("the directory {directory} has no such account")]
    NoSuchAccount { directory: String },
    /// The settings cannot work (a CA file that cannot be read, a missing password).
    #[error("the directory {directory} is misconfigured: {detail}")]
    Misconfigured { directory: String, detail: String },
}

impl DirectoryError {
    /// The directory's name, as the operator sees it.
    pub fn directory(&self) -> &str {
        match self {
            Self::Unreachable { directory, .. }
            | Self::TimedOut { directory }
            | Self::Refused { directory, .. }
            | Self::NoSuchAccount { directory }
            | Self::Misconfigured { directory, .. } => directory,
        }
    }
}

/// The answer of a bind as the user, in Latchkey's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindOutcome {
    /// The password is right and the account may sign in.
    Success,
    /// The password is right but must be changed before anything else (OpenLDAP
    /// `pwdReset`; AD "data 773").
    MustChange,
    /// Wrong password, or no such user: the same answer for both.
    BadCredentials,
    /// The account is locked (OpenLDAP's ppolicy; AD "data 775").
    Locked,
    /// The password has expired (ppolicy; AD "data 532").
    Expired,
    /// The account is disabled (AD "data 533").
    Disabled,
}

/// An account as the directory holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryAccount {
    /// `entryUUID` / `objectGUID` as text: what links and enrolments are keyed by.
    pub stable_id: String,
    /// Where the entry is now (it may move; never keyed by).
    pub dn: String,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub lock: LockState,
    /// A reset asked for a new password at the next sign-in.
    pub must_change_password: bool,
}

/// A search of the accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Usernames starting with this (escaped, never a filter of its own).
    pub username_prefix: Option<String>,
    /// *Only include locked users*: decided by the directory's filter.
    pub only_locked: bool,
}

/// One configured directory.
#[derive(Debug, Clone)]
pub struct Directory {
    settings: DirectorySettings,
    attributes: AttributeMap,
    filter: String,
    password: SecretString,
    /// Our own rustls configuration (ring, verified roots): never a process-wide default.
    tls: Arc<rustls::ClientConfig>,
}

impl Directory {
    /// Checks the settings and reads what they name (the bind password from the
    /// environment when `bind_password_env` is set, the CA file). Connects to nothing.
    pub fn new(settings: DirectorySettings) -> Result<Self, DirectoryError> {
        let misconfigured = |detail: String| DirectoryError::Misconfigured {
            directory: settings.name.clone(),
            detail,
        };
        settings
            .validate("directory")
            .map_err(|e| misconfigured(e.to_string()))?;
        let password = match (&settings.bind_password, &settings.bind_password_env) {
            (Some(p), _) => p.clone(),
            (None, Some(var)) => SecretString::from(std::env::var(var).map_err(|_| {
                misconfigured(format!(
                    "the environment variable {var} (bind_password_env) is not set"
                ))
            })?),
            (None, None) => return Err(misconfigured("no bind_password".to_owned())),
        };
        let tls = match &settings.tls_ca_file {
            None => system_tls_config()
                .map_err(|e| misconfigured(format!("the system's certificate authorities: {e}")))?,
            Some(path) => tls_config(path)
                .map_err(|e| misconfigured(format!("tls_ca_file {}: {e}", path.display())))?,
        };
        Ok(Self {
            attributes: settings.attribute_map(),
            filter: settings.filter(),
            settings,
            password,
            tls,
        })
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn kind(&self) -> DirectoryKind {
        self.settings.kind
    }

    /// Checks that the service account can bind (start-up, health).
    pub async fn check(&self) -> Result<(), DirectoryError> {
        let mut ldap = self.service().await?;
        self.finish(&mut ldap).await;
        Ok(())
    }

    /// The account with this username, if the directory has it.
    pub async fn find_by_username(
        &self,
        username: &str,
        now: OffsetDateTime,
    ) -> Result<Option<DirectoryAccount>, DirectoryError> {
        let filter = format!(
            "(&{}({}={}))",
            self.filter,
            self.attributes.username,
            ldap_escape(username)
        );
        self.find_one(&filter, now).await
    }

    /// The account with this stable id (`entryUUID`, or `objectGUID` as text).
    pub async fn find_by_stable_id(
        &self,
        stable_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<DirectoryAccount>, DirectoryError> {
        let value = match self.settings.kind {
            DirectoryKind::Ldap => ldap_escape(stable_id).into_owned(),
            DirectoryKind::ActiveDirectory => match guid_filter_value(stable_id) {
                Some(v) => v,
                None => return Ok(None),
            },
        };
        let filter = format!(
            "(&{}({}={}))",
            self.filter, self.attributes.stable_id, value
        );
        self.find_one(&filter, now).await
    }

    /// Accounts matching `query`, through the paged results control (a page of
    /// `page_size` at a time, at most `max_results`), sorted by username.
    pub async fn search(
        &self,
        query: &SearchQuery,
        now: OffsetDateTime,
    ) -> Result<Vec<DirectoryAccount>, DirectoryError> {
        let mut ldap = self.service().await?;
        let result = self.search_with(&mut ldap, query, now).await;
        self.finish(&mut ldap).await;
        let mut accounts = result?;
        accounts.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(accounts)
    }

    /// Clears the lock. OpenLDAP: removes `pwdAccountLockedTime` **and** `pwdFailureTime`
    /// (with the Relax Rules control), or the old failures would re-lock on one typo.
    /// AD: `lockoutTime: 0` (which also clears `badPwdCount`). Safe to repeat: unlocking
    /// an unlocked account changes nothing and succeeds.
    pub async fn unlock(&self, stable_id: &str, now: OffsetDateTime) -> Result<(), DirectoryError> {
        let account = self.require(stable_id, now).await?;
        let mut ldap = self.service().await?;
        let result = self.unlock_dn(&mut ldap, &account.dn).await;
        self.finish(&mut ldap).await;
        result
    }

    /// Sets a new password (which also unlocks). With `must_change` the user must choose
    /// another at the next sign-in. OpenLDAP: the Password Modify extended operation,
    /// then `pwdReset` set or removed. AD: `unicodePwd` (only over TLS) and `pwdLastSet`
    /// (0: must change; -1: now), then `lockoutTime: 0`.
    pub async fn reset_password(
        &self,
        stable_id: &str,
        new_password: &SecretString,
        must_change: bool,
        now: OffsetDateTime,
    ) -> Result<(), DirectoryError> {
        let account = self.require(stable_id, now).await?;
        let mut ldap = self.service().await?;
        let result = self
            .reset_dn(&mut ldap, &account.dn, new_password, must_change)
            .await;
        self.finish(&mut ldap).await;
        result
    }

    /// Binds as the user with `password` and says what the directory answered. An
    /// unknown username answers [`BindOutcome::BadCredentials`], like a wrong password.
    pub async fn bind_as_user(
        &self,
        username: &str,
        password: &SecretString,
        now: OffsetDateTime,
    ) -> Result<BindOutcome, DirectoryError> {
        if password.expose_secret().is_empty() {
            // An empty password is an unauthenticated bind: it would "succeed".
            return Ok(BindOutcome::BadCredentials);
        }
        let Some(account) = self.find_by_username(username, now).await? else {
            return Ok(BindOutcome::BadCredentials);
        };
        let mut ldap = self.connect().await?;
        let bind = match self.settings.kind {
            DirectoryKind::Ldap => {
                ldap.with_controls(ppolicy_request())
                    .simple_bind(&account.dn, password.expose_secret())
                    .await
            }
            DirectoryKind::ActiveDirectory => {
                ldap.simple_bind(&account.dn, password.expose_secret())
                    .await
            }
        };
        let result = self.timed(std::future::ready(bind)).await;
        self.finish(&mut ldap).await;
        let result = result?;
        let outcome = match self.settings.kind {
            DirectoryKind::Ldap => openldap_bind_outcome(&result),
            DirectoryKind::ActiveDirectory => ad_bind_outcome(&result),
        };
        // OpenLDAP says "locked" in its answer only with `olcPPolicyUseLockout`; without
        // it a locked account answers like a wrong password, and the lock state read
        // just before the bind tells them apart.
        Ok(match outcome {
            BindOutcome::BadCredentials if account.lock.is_locked() => BindOutcome::Locked,
            other => other,
        })
    }

    // ---- connection ---------------------------------------------------------------

    fn unreachable(&self, detail: impl ToString) -> DirectoryError {
        DirectoryError::Unreachable {
            directory: self.settings.name.clone(),
            detail: detail.to_string(),
        }
    }

    fn timed_out(&self) -> DirectoryError {
        DirectoryError::TimedOut {
            directory: self.settings.name.clone(),
        }
    }

    fn refused(&self, code: u32, message: &str) -> DirectoryError {
        let message = if message.is_empty() {
            result_name(code).to_owned()
        } else {
            message.to_owned()
        };
        DirectoryError::Refused {
            directory: self.settings.name.clone(),
            code,
            message,
        }
    }

    fn map_ldap_error(&self, e: LdapError) -> DirectoryError {
        match e {
            LdapError::Timeout { .. } => self.timed_out(),
            LdapError::LdapResult { result } => self.refused(result.rc, &result.text),
            other => self.unreachable(other),
        }
    }

    /// Runs one operation under the operation timeout, mapping every error.
    async fn timed<T>(
        &self,
        op: impl std::future::Future<Output = Result<T, LdapError>>,
    ) -> Result<T, DirectoryError> {
        match tokio::time::timeout(self.settings.operation_timeout(), op).await {
            Err(_) => Err(self.timed_out()),
            Ok(r) => r.map_err(|e| self.map_ldap_error(e)),
        }
    }

    /// A new connection, TLS established, not bound.
    async fn connect(&self) -> Result<Ldap, DirectoryError> {
        let transport =
            self.settings
                .transport()
                .map_err(|(s, m)| DirectoryError::Misconfigured {
                    directory: self.settings.name.clone(),
                    detail: format!("{s} {m}"),
                })?;
        let mut conn_settings = LdapConnSettings::new()
            .set_conn_timeout(self.settings.connect_timeout())
            .set_starttls(transport == Transport::StartTls);
        conn_settings = conn_settings.set_config(Arc::clone(&self.tls));
        // The whole connect (TCP, TLS, StartTLS) under the connect timeout: a server
        // that accepts and never answers would otherwise hold the request.
        let connect = LdapConnAsync::with_settings(conn_settings, &self.settings.url);
        let (conn, mut ldap) =
            match tokio::time::timeout(self.settings.connect_timeout(), connect).await {
                Err(_) => return Err(self.timed_out()),
                Ok(Err(LdapError::Timeout { .. })) => return Err(self.timed_out()),
                Ok(Err(e)) => return Err(self.unreachable(e)),
                Ok(Ok(c)) => c,
            };
        let name = self.settings.name.clone();
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(directory = %name, error = %e, "directory connection ended");
            }
        });
        ldap.with_timeout(self.settings.operation_timeout());
        Ok(ldap)
    }

    /// A connection bound as the service account.
    async fn service(&self) -> Result<Ldap, DirectoryError> {
        let mut ldap = self.connect().await?;
        let bound = self
            .timed(ldap.simple_bind(&self.settings.bind_dn, self.password.expose_secret()))
            .await;
        match bound {
            Ok(r) if r.rc == 0 => Ok(ldap),
            Ok(r) => {
                self.finish(&mut ldap).await;
                Err(self.refused(
                    r.rc,
                    &format!(
                        "the service account {} cannot bind: {}",
                        self.settings.bind_dn, r.text
                    ),
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// Unbinds, ignoring errors: the connection is finished either way.
    async fn finish(&self, ldap: &mut Ldap) {
        let _ = tokio::time::timeout(Duration::from_millis(500), ldap.unbind()).await;
    }

    // ---- reading ------------------------------------------------------------------

    fn attribute_list(&self) -> Vec<String> {
        let mut attrs = vec![
            self.attributes.username.clone(),
            self.attributes.display_name.clone(),
            self.attributes.mail.clone(),
            self.attributes.stable_id.clone(),
        ];
        match self.settings.kind {
            DirectoryKind::Ldap => {
                attrs.extend(["pwdAccountLockedTime".to_owned(), "pwdReset".to_owned()])
            }
            DirectoryKind::ActiveDirectory => {
                attrs.extend(["lockoutTime".to_owned(), "pwdLastSet".to_owned()])
            }
        }
        attrs
    }

    async fn find_one(
        &self,
        filter: &str,
        now: OffsetDateTime,
    ) -> Result<Option<DirectoryAccount>, DirectoryError> {
        let mut ldap = self.service().await?;
        let result = async {
            let duration = self.ad_lockout_duration(&mut ldap).await?;
            let ldap3::SearchResult(entries, res) = self
                .timed(ldap.search(
                    &self.settings.base_dn,
                    Scope::Subtree,
                    filter,
                    self.attribute_list(),
                ))
                .await?;
            if res.rc != 0 && res.rc != 4 {
                return Err(self.refused(res.rc, &res.text));
            }
            Ok(parsed(entries)
                .next()
                .and_then(|e| self.account(e, duration, now)))
        }
        .await;
        self.finish(&mut ldap).await;
        result
    }

    async fn require(
        &self,
        stable_id: &str,
        now: OffsetDateTime,
    ) -> Result<DirectoryAccount, DirectoryError> {
        self.find_by_stable_id(stable_id, now)
            .await?
            .ok_or_else(|| DirectoryError::NoSuchAccount {
                directory: self.settings.name.clone(),
            })
    }

    /// AD's domain-wide `lockoutDuration`, read from the naming context's root entry.
    async fn ad_lockout_duration(
        &self,
        ldap: &mut Ldap,
    ) -> Result<AdLockoutDuration, DirectoryError> {
        if self.settings.kind != DirectoryKind::ActiveDirectory {
            return Ok(AdLockoutDuration::Forever);
        }
        let root = self
            .timed(ldap.search(
                "",
                Scope::Base,
                "(objectClass=*)",
                vec!["defaultNamingContext"],
            ))
            .await?;
        let ldap3::SearchResult(entries, _) = root;
        let naming = parsed(entries)
            .next()
            .and_then(|e| first(&e.attrs, "defaultNamingContext"))
            .ok_or_else(|| self.refused(32, "no defaultNamingContext in the root DSE"))?;
        let ldap3::SearchResult(entries, _) = self
            .timed(ldap.search(
                &naming,
                Scope::Base,
                "(objectClass=*)",
                vec!["lockoutDuration"],
            ))
            .await?;
        let value = parsed(entries)
            .next()
            .and_then(|e| first(&e.attrs, "lockoutDuration"))
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(i64::MIN);
        Ok(AdLockoutDuration::from_attribute(value))
    }

    async fn search_with(
        &self,
        ldap: &mut Ldap,
        query: &SearchQuery,
        now: OffsetDateTime,
    ) -> Result<Vec<DirectoryAccount>, DirectoryError> {
        let duration = self.ad_lockout_duration(ldap).await?;
        let mut filter = format!("(&{}", self.filter);
        if let Some(prefix) = query.username_prefix.as_deref().filter(|p| !p.is_empty()) {
            filter.push_str(&format!(
                "({}={}*)",
                self.attributes.username,
                ldap_escape(prefix)
            ));
        }
        if query.only_locked {
            match self.settings.kind {
                DirectoryKind::Ldap => filter.push_str("(pwdAccountLockedTime=*)"),
                DirectoryKind::ActiveDirectory => {
                    filter.push_str(&format!(
                        "(lockoutTime>={})",
                        duration.locked_since_at_least(now)
                    ));
                }
            }
        }
        filter.push(')');
        let max = self.settings.max_results as usize;
        let mut accounts = Vec::new();
        let mut cookie = Vec::new();
        loop {
            let page = PagedResults {
                size: i32::try_from(self.settings.page_size).unwrap_or(500),
                cookie: cookie.clone(),
            };
            let result = self
                .timed(ldap.with_controls(page).search(
                    &self.settings.base_dn,
                    Scope::Subtree,
                    &filter,
                    self.attribute_list(),
                ))
                .await?;
            let ldap3::SearchResult(entries, res) = result;
            if res.rc != 0 {
                return Err(self.refused(res.rc, &res.text));
            }
            for entry in parsed(entries) {
                if let Some(account) = self.account(entry, duration, now) {
                    // The filter decided; the same rule double-checks each entry.
                    if !query.only_locked || account.lock.is_locked() {
                        accounts.push(account);
                    }
                }
            }
            cookie = res
                .ctrls
                .iter()
                .find_map(|Control(kind, raw)| match kind {
                    Some(ControlType::PagedResults) => {
                        // ldap3's parser panics on a malformed value: a broken
                        // directory ends the paging instead of the request.
                        std::panic::catch_unwind(|| raw.parse::<PagedResults>().cookie).ok()
                    }
                    _ => None,
                })
                .unwrap_or_default();
            if cookie.is_empty() || accounts.len() >= max {
                break;
            }
        }
        accounts.truncate(max);
        Ok(accounts)
    }

    fn account(
        &self,
        entry: SearchEntry,
        duration: AdLockoutDuration,
        now: OffsetDateTime,
    ) -> Option<DirectoryAccount> {
        let a = &self.attributes;
        let stable_id = match self.settings.kind {
            DirectoryKind::ActiveDirectory if a.stable_id.eq_ignore_ascii_case("objectGUID") => {
                entry
                    .bin_attrs
                    .get(&a.stable_id)
                    .and_then(|v| v.first())
                    .and_then(|b| guid_text(b))?
            }
            _ => first(&entry.attrs, &a.stable_id)?,
        };
        let (lock, must_change) = match self.settings.kind {
            DirectoryKind::Ldap => (
                lock::openldap(first(&entry.attrs, "pwdAccountLockedTime").as_deref()),
                first(&entry.attrs, "pwdReset").is_some_and(|v| v.eq_ignore_ascii_case("TRUE")),
            ),
            DirectoryKind::ActiveDirectory => (
                lock::active_directory(
                    first(&entry.attrs, "lockoutTime").and_then(|v| v.parse().ok()),
                    duration,
                    now,
                ),
                first(&entry.attrs, "pwdLastSet").as_deref() == Some("0"),
            ),
        };
        Some(DirectoryAccount {
            stable_id,
            username: first(&entry.attrs, &a.username)?,
            display_name: first(&entry.attrs, &a.display_name).unwrap_or_default(),
            email: first(&entry.attrs, &a.mail).unwrap_or_default(),
            dn: entry.dn,
            lock,
            must_change_password: must_change,
        })
    }

    // ---- writing ------------------------------------------------------------------

    async fn unlock_dn(&self, ldap: &mut Ldap, dn: &str) -> Result<(), DirectoryError> {
        match self.settings.kind {
            DirectoryKind::Ldap => {
                // Deleting all values of an attribute the entry lacks answers 16
                // (noSuchAttribute): one attribute at a time, 16 counts as done.
                for attr in ["pwdAccountLockedTime", "pwdFailureTime"] {
                    let del = Mod::Delete(attr, std::collections::HashSet::new());
                    let r = self
                        .timed(
                            ldap.with_controls(RelaxRules.critical())
                                .modify(dn, vec![del]),
                        )
                        .await?;
                    if r.rc != 0 && r.rc != 16 {
                        return Err(self.refused(r.rc, &r.text));
                    }
                }
                Ok(())
            }
            DirectoryKind::ActiveDirectory => {
                let m = Mod::Replace("lockoutTime", std::collections::HashSet::from(["0"]));
                let r = self.timed(ldap.modify(dn, vec![m])).await?;
                ok(self, r.rc, &r.text)
            }
        }
    }

    async fn reset_dn(
        &self,
        ldap: &mut Ldap,
        dn: &str,
        new_password: &SecretString,
        must_change: bool,
    ) -> Result<(), DirectoryError> {
        match self.settings.kind {
            DirectoryKind::Ldap => {
                let exop = PasswordModify {
                    user_id: Some(dn),
                    old_pass: None,
                    new_pass: Some(new_password.expose_secret()),
                };
                let r = self.timed(ldap.extended(exop)).await?;
                ok(self, r.1.rc, &r.1.text)?;
                // ppolicy sets pwdReset itself when an administrator resets (pwdMustChange);
                // say exactly what was asked either way.
                let m = if must_change {
                    Mod::Replace("pwdReset", std::collections::HashSet::from(["TRUE"]))
                } else {
                    Mod::Delete("pwdReset", std::collections::HashSet::new())
                };
                let r = self
                    .timed(
                        ldap.with_controls(RelaxRules.critical())
                            .modify(dn, vec![m]),
                    )
                    .await?;
                if r.rc != 0 && r.rc != 16 {
                    return Err(self.refused(r.rc, &r.text));
                }
                // Old failures go with the old password.
                self.unlock_dn(ldap, dn).await
            }
            DirectoryKind::ActiveDirectory => {
                let quoted = format!("\"{}\"", new_password.expose_secret());
                let utf16: Vec<u8> = quoted.encode_utf16().flat_map(u16::to_le_bytes).collect();
                let pwd = Mod::Replace(
                    b"unicodePwd".to_vec(),
                    std::collections::HashSet::from([utf16]),
                );
                let last_set = Mod::Replace(
                    b"pwdLastSet".to_vec(),
                    std::collections::HashSet::from([if must_change {
                        b"0".to_vec()
                    } else {
                        b"-1".to_vec()
                    }]),
                );
                let r = self.timed(ldap.modify(dn, vec![pwd, last_set])).await?;
                ok(self, r.rc, &r.text)?;
                self.unlock_dn(ldap, dn).await
            }
        }
    }
}

/// The entries of a search: referrals and intermediate messages skipped (Active
/// Directory answers a search of the domain's root with referrals to its DNS
/// partitions), and an entry ldap3 cannot parse (its parser panics) dropped rather than
/// the request.
fn parsed(entries: Vec<ldap3::ResultEntry>) -> impl Iterator<Item = SearchEntry> {
    entries
        .into_iter()
        .filter(|e| !e.is_ref() && !e.is_intermediate())
        .filter_map(|e| std::panic::catch_unwind(move || SearchEntry::construct(e)).ok())
}

fn ok(d: &Directory, rc: u32, text: &str) -> Result<(), DirectoryError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(d.refused(rc, text))
    }
}

fn first(attrs: &HashMap<String, Vec<String>>, name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first().cloned())
}

/// Trusts the certificate authorities in the PEM file `path`, and only those.
fn tls_config(path: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| e.to_string())?;
    for cert in certs {
        roots
            .add(cert.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    if roots.is_empty() {
        return Err("holds no certificate".to_owned());
    }
    client_config(roots)
}

/// Trusts the operating system's certificate authorities.
fn system_tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(match found.errors.first() {
            Some(e) => e.to_string(),
            None => "none found".to_owned(),
        });
    }
    client_config(roots)
}

fn client_config(roots: rustls::RootCertStore) -> Result<Arc<rustls::ClientConfig>, String> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The password policy request control (draft-behera-ldap-password-policy): with it,
/// ppolicy says why a bind failed (locked, expired) and that a password must change.
const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";

fn ppolicy_request() -> ldap3::controls::RawControl {
    ldap3::controls::RawControl {
        ctype: PPOLICY_OID.to_owned(),
        crit: false,
        val: None,
    }
}

/// The ppolicy response's error, if any: `[1] ENUMERATED` inside the control's sequence
/// (0 passwordExpired, 1 accountLocked, 2 changeAfterReset).
fn ppolicy_error(result: &ldap3::LdapResult) -> Option<u8> {
    let Control(_, raw) = result
        .ctrls
        .iter()
        .find(|Control(_, raw)| raw.ctype == PPOLICY_OID)?;
    let val = raw.val.as_deref()?;
    // SEQUENCE { [0] warning OPTIONAL, [1] error OPTIONAL }: walk the elements.
    let (&tag, rest) = val.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (&len, mut rest) = rest.split_first()?;
    if len & 0x80 != 0 {
        return None;
    }
    while let [t, l, body @ ..] = rest {
        let l = usize::from(*l);
        let value = body.get(..l)?;
        if *t == 0x81 {
            return value.last().copied();
        }
        rest = body.get(l..)?;
    }
    None
}

fn openldap_bind_outcome(result: &ldap3::LdapResult) -> BindOutcome {
    match (result.rc, ppolicy_error(result)) {
        (0, Some(2)) => BindOutcome::MustChange,
        (0, _) => BindOutcome::Success,
        (_, Some(1)) => BindOutcome::Locked,
        (_, Some(0)) => BindOutcome::Expired,
        (_, Some(2)) => BindOutcome::MustChange,
        _ => BindOutcome::BadCredentials,
    }
}

/// AD puts the reason of a failed bind in the text: `…, data 775, …`.
fn ad_bind_outcome(result: &ldap3::LdapResult) -> BindOutcome {
    if result.rc == 0 {
        return BindOutcome::Success;
    }
    let data = result
        .text
        .split("data ")
        .nth(1)
        .map(|s| s.split([',', ' ']).next().unwrap_or_default());
    match data {
        Some("775") => BindOutcome::Locked,
        Some("773") => BindOutcome::MustChange,
        Some("532") => BindOutcome::Expired,
        Some("533") => BindOutcome::Disabled,
        _ => BindOutcome::BadCredentials,
    }
}

/// `objectGUID` as the usual text (the first three groups little-endian).
fn guid_text(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    ))
}

/// The filter value matching a GUID's text: its 16 bytes, each `\xx`.
fn guid_filter_value(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let byte = |i: usize| hex.get(i * 2..i * 2 + 2);
    let order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    order
        .iter()
        .map(|&i| byte(i).map(|b| format!("\\{b}")))
        .collect()
}

fn result_name(code: u32) -> &'static str {
    match code {
        8 => "strongerAuthRequired",
        16 => "noSuchAttribute",
        19 => "constraintViolation",
        32 => "noSuchObject",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        53 => "unwillingToPerform",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_ca_file_is_named_before_anything_connects() {
        let mut settings = crate::DirectorySettings::new(
            "CORP",
            DirectoryKind::Ldap,
            "ldaps://dc.example.org",
            "cn=svc",
            "dc=x",
        );
        settings.bind_password = Some(SecretString::from("pw"));
        settings.tls_ca_file = Some("/nonexistent/ca.pem".into());
        let e = Directory::new(settings.clone()).unwrap_err();
        assert!(matches!(e, DirectoryError::Misconfigured { .. }), "{e:?}");
        assert!(
            e.to_string().contains("CORP") && e.to_string().contains("tls_ca_file"),
            "{e}"
        );
        let empty =
            std::env::temp_dir().join(format!("latchkey-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "").unwrap();
        settings.tls_ca_file = Some(empty.clone());
        let e = Directory::new(settings).unwrap_err();
        std::fs::remove_file(&empty).unwrap();
        assert!(e.to_string().contains("holds no certificate"), "{e}");
    }

    #[test]
    fn guid_text_and_filter_agree() {
        let bytes: Vec<u8> = (0u8..16).collect();
        let text = guid_text(&bytes).unwrap();
        assert_eq!(text, "03020100-0504-0706-0809-0a0b0c0d0e0f");
        assert_eq!(
            guid_filter_value(&text).unwrap(),
            "\\00\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f"
        );
        assert_eq!(guid_filter_value("*)(uid=*"), None);
    }

    #[test]
    fn ad_bind_answers_are_typed() {
        let r = |text: &str| ldap3::LdapResult {
            rc: 49,
            matched: String::new(),
            text: text.to_owned(),
            refs: vec![],
            ctrls: vec![],
        };
        assert_eq!(ad_bind_outcome(&r("80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 775, v4563")), BindOutcome::Locked);
        assert_eq!(
            ad_bind_outcome(&r("… data 773, v4563")),
            BindOutcome::MustChange
        );
        assert_eq!(
            ad_bind_outcome(&r("… data 52e, v4563")),
            BindOutcome::BadCredentials
        );
    }
}
