//! The contract every directory connector keeps, as code, against a real server (after
//! `store-tests`): `directory_conformance_tests!(fixture)` makes one test per group, and
//! both kinds — OpenLDAP with ppolicy and Active Directory (a Samba domain controller) —
//! run the same groups on throwaway servers ([`server::Throwaway`]).
//!
//! What it holds a connector to, as a user or an operator would see it: wrong binds lock
//! the account and the directory shows it locked; an unlock lets the right password in
//! and one typo afterwards does not lock again (the old failures are gone); a reset's new
//! password binds and a required change is reported; *Only include locked users* finds
//! exactly the locked accounts through paged results; a directory that is down, silent
//! or refusing is a typed error naming it, never a panic or a hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod server;

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use latchkey_directory::{
    BindOutcome, Directory, DirectoryError, DirectoryKind, DirectorySettings, LockCause, LockState,
    SearchQuery,
};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Mod};
use secrecy::SecretString;
use time::OffsetDateTime;

pub use server::Throwaway;

/// A directory kind on its throwaway server: the connector's settings and an
/// administrator's hands to make test accounts.
pub struct Fixture {
    pub kind: DirectoryKind,
    pub server: &'static Throwaway,
}

/// OpenLDAP: StartTLS to the throwaway slapd, as the `manage`-level service account.
pub fn openldap() -> Fixture {
    Fixture {
        kind: DirectoryKind::Ldap,
        server: Throwaway::openldap(),
    }
}

/// Active Directory: LDAPS to the throwaway Samba DC, as the domain's Administrator.
pub fn active_directory() -> Fixture {
    Fixture {
        kind: DirectoryKind::ActiveDirectory,
        server: Throwaway::samba_ad(),
    }
}

pub const PASSWORD: &str = "Corr3ct-horse";

impl Fixture {
    /// The connector's settings for this server.
    pub fn settings(&self) -> DirectorySettings {
        let mut s = match self.kind {
            DirectoryKind::Ldap => {
                let mut s = DirectorySettings::new(
                    "CORP-LDAP",
                    self.kind,
                    &self.server.url,
                    "cn=latchkey,ou=services,dc=lk,dc=test",
                    "ou=people,dc=lk,dc=test",
                );
                s.starttls = true;
                s.bind_password = Some(SecretString::from("latchkey-service"));
                s
            }
            DirectoryKind::ActiveDirectory => {
                let mut s = DirectorySettings::new(
                    "CORP-AD",
                    self.kind,
                    &self.server.url,
                    &self.server.admin_dn,
                    "CN=Users,DC=lk,DC=test",
                );
                s.bind_password = Some(SecretString::from(self.server.admin_password.clone()));
                s
            }
        };
        s.tls_ca_file = Some(self.server.ca_file.clone());
        s
    }

    pub fn directory(&self) -> Directory {
        Directory::new(self.settings()).unwrap()
    }

    /// A connection bound as the directory's administrator.
    async fn admin(&self) -> Ldap {
        let tls = tls_config(&self.server.ca_file);
        let settings = LdapConnSettings::new()
            .set_config(tls)
            .set_starttls(self.kind == DirectoryKind::Ldap);
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &self.server.url)
            .await
            .unwrap();
        ldap3::drive!(conn);
        ldap.simple_bind(&self.server.admin_dn, &self.server.admin_password)
            .await
            .unwrap()
            .success()
            .unwrap();
        ldap
    }

    /// Makes an account `name` with [`PASSWORD`].
    pub async fn create_user(&self, name: &str) {
        let mut ldap = self.admin().await;
        let mail = format!("{name}@lk.test");
        match self.kind {
            DirectoryKind::Ldap => {
                let dn = format!("uid={name},ou=people,dc=lk,dc=test");
                let display = format!("User {name}");
                ldap.add(
                    &dn,
                    vec![
                        ("objectClass", HashSet::from(["inetOrgPerson"])),
                        ("uid", HashSet::from([name])),
                        ("cn", HashSet::from([display.as_str()])),
                        ("sn", HashSet::from([name])),
                        ("mail", HashSet::from([mail.as_str()])),
                        ("userPassword", HashSet::from([PASSWORD])),
                    ],
                )
                .await
                .unwrap()
                .success()
                .unwrap();
            }
            DirectoryKind::ActiveDirectory => {
                let dn = format!("CN={name},CN=Users,DC=lk,DC=test");
                let pwd: Vec<u8> = format!("\"{PASSWORD}\"")
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect();
                let upn = format!("{name}@lk.test");
                let display = format!("User {name}");
                let b = |s: &str| s.as_bytes().to_vec();
                ldap.add(
                    &dn,
                    vec![
                        (b("objectClass"), HashSet::from([b("user")])),
                        (b("sAMAccountName"), HashSet::from([b(name)])),
                        (b("userPrincipalName"), HashSet::from([b(&upn)])),
                        (b("displayName"), HashSet::from([b(&display)])),
                        (b("mail"), HashSet::from([b(&mail)])),
                        (b("unicodePwd"), HashSet::from([pwd])),
                        (b("userAccountControl"), HashSet::from([b("512")])),
                    ],
                )
                .await
                .unwrap()
                .success()
                .unwrap();
            }
        }
        let _ = ldap.unbind().await;
    }

    /// OpenLDAP's administrative lock, as an administrator sets it.
    pub async fn admin_lock(&self, name: &str) {
        let mut ldap = self.admin().await;
        let dn = format!("uid={name},ou=people,dc=lk,dc=test");
        ldap.modify(
            &dn,
            vec![Mod::Replace(
                "pwdAccountLockedTime",
                HashSet::from(["000001010000Z"]),
            )],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
        let _ = ldap.unbind().await;
    }
}

fn tls_config(ca: &std::path::Path) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

fn now() -> OffsetDateTime {
    // The directories lock on their own clocks; the connector compares AD's lock with
    // the real time, as the server would.
    #[allow(clippy::disallowed_methods)]
    OffsetDateTime::now_utc()
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// A name no other test of this process uses (AD's sAMAccountName: at most 20).
fn name(tag: &str) -> String {
    format!("{tag}{:05}", server::random() % 100_000)
}

/// Three wrong passwords: the test policies lock at three.
async fn lock_by_wrong_binds(d: &Directory, user: &str) {
    for i in 0..3 {
        let outcome = d
            .bind_as_user(user, &secret("wrong-password"), now())
            .await
            .unwrap();
        assert!(
            matches!(outcome, BindOutcome::BadCredentials | BindOutcome::Locked),
            "wrong bind {i}: {outcome:?}"
        );
    }
}

/// Wrong binds lock; the directory shows it; an operator's unlock lets the right
/// password in; one typo afterwards does not lock again; unlocking twice is fine.
pub async fn lock_and_unlock(fx: Fixture) {
    let d = fx.directory();
    let user = name("lock");
    fx.create_user(&user).await;
    assert_eq!(
        d.bind_as_user(&user, &secret(PASSWORD), now())
            .await
            .unwrap(),
        BindOutcome::Success
    );
    let before = d.find_by_username(&user, now()).await.unwrap().unwrap();
    assert_eq!(before.lock, LockState::Unlocked);
    assert_eq!(before.username, user);
    assert_eq!(before.email, format!("{user}@lk.test"));
    assert_eq!(before.display_name, format!("User {user}"));

    lock_by_wrong_binds(&d, &user).await;
    assert_eq!(
        d.bind_as_user(&user, &secret(PASSWORD), now())
            .await
            .unwrap(),
        BindOutcome::Locked
    );
    let locked = d.find_by_username(&user, now()).await.unwrap().unwrap();
    assert!(
        matches!(
            locked.lock,
            LockState::Locked {
                cause: LockCause::Failures,
                since: Some(_),
                ..
            }
        ),
        "{:?}",
        locked.lock
    );
    // Found again by its stable id, which is what links are keyed by.
    assert_eq!(locked.stable_id, before.stable_id);
    let by_id = d
        .find_by_stable_id(&before.stable_id, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id.username, user);

    d.unlock(&before.stable_id, now()).await.unwrap();
    assert_eq!(
        d.find_by_username(&user, now())
            .await
            .unwrap()
            .unwrap()
            .lock,
        LockState::Unlocked
    );
    // One typo after the unlock: still not locked (the old failures were cleared).
    assert_eq!(
        d.bind_as_user(&user, &secret("one-typo"), now())
            .await
            .unwrap(),
        BindOutcome::BadCredentials
    );
    assert_eq!(
        d.bind_as_user(&user, &secret(PASSWORD), now())
            .await
            .unwrap(),
        BindOutcome::Success
    );
    assert_eq!(
        d.find_by_username(&user, now())
            .await
            .unwrap()
            .unwrap()
            .lock,
        LockState::Unlocked
    );
    // Unlocking an unlocked account is safe to repeat.
    d.unlock(&before.stable_id, now()).await.unwrap();
}

/// A reset's new password binds (and unlocks); a required change is what the bind
/// answers; the old password no longer works; without the requirement it just binds.
pub async fn reset_password(fx: Fixture) {
    let d = fx.directory();
    let user = name("reset");
    fx.create_user(&user).await;
    let id = d
        .find_by_username(&user, now())
        .await
        .unwrap()
        .unwrap()
        .stable_id;
    lock_by_wrong_binds(&d, &user).await;

    d.reset_password(&id, &secret("N3w-password-1"), true, now())
        .await
        .unwrap();
    let account = d.find_by_username(&user, now()).await.unwrap().unwrap();
    assert_eq!(account.lock, LockState::Unlocked);
    assert!(account.must_change_password);
    assert_eq!(
        d.bind_as_user(&user, &secret("N3w-password-1"), now())
            .await
            .unwrap(),
        BindOutcome::MustChange
    );
    assert_eq!(
        d.bind_as_user(&user, &secret(PASSWORD), now())
            .await
            .unwrap(),
        BindOutcome::BadCredentials
    );

    d.reset_password(&id, &secret("N3w-password-2"), false, now())
        .await
        .unwrap();
    assert!(
        !d.find_by_username(&user, now())
            .await
            .unwrap()
            .unwrap()
            .must_change_password
    );
    assert_eq!(
        d.bind_as_user(&user, &secret("N3w-password-2"), now())
            .await
            .unwrap(),
        BindOutcome::Success
    );
}

/// *Only include locked users* is the directory's filter: exactly the locked accounts,
/// over several pages of the paged results control (the test OpenLDAP returns at most 3
/// entries to an unpaged search).
pub async fn only_locked_search_pages(fx: Fixture) {
    let mut settings = fx.settings();
    settings.page_size = 2;
    let d = Directory::new(settings).unwrap();
    let prefix = name("pg");
    let users: Vec<String> = (0..5).map(|i| format!("{prefix}{i}")).collect();
    for u in &users {
        fx.create_user(u).await;
    }
    for u in &users[..4] {
        lock_by_wrong_binds(&d, u).await;
    }
    let query = |only_locked| SearchQuery {
        username_prefix: Some(prefix.clone()),
        only_locked,
    };
    let locked: Vec<String> = d
        .search(&query(true), now())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(locked, users[..4].to_vec());
    let all = d.search(&query(false), now()).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all.iter().filter(|a| a.lock.is_locked()).count(), 4);

    d.unlock(&all[0].stable_id, now()).await.unwrap();
    let locked = d.search(&query(true), now()).await.unwrap();
    assert_eq!(locked.len(), 3);
    // A prefix is a value, never a filter of its own.
    let injected = SearchQuery {
        username_prefix: Some("*)(uid=*".to_owned()),
        only_locked: false,
    };
    assert!(d.search(&injected, now()).await.unwrap().is_empty());
}

/// Unknown accounts: a bind answers like a wrong password; an unknown stable id is
/// found nowhere and cannot be unlocked.
pub async fn unknown_accounts(fx: Fixture) {
    let d = fx.directory();
    assert_eq!(
        d.bind_as_user("nobody-here", &secret(PASSWORD), now())
            .await
            .unwrap(),
        BindOutcome::BadCredentials
    );
    let user = name("empty");
    fx.create_user(&user).await;
    // An empty password would be an unauthenticated bind that "succeeds".
    assert_eq!(
        d.bind_as_user(&user, &secret(""), now()).await.unwrap(),
        BindOutcome::BadCredentials
    );
    let unknown = match fx.kind {
        DirectoryKind::Ldap => "00000000-0000-0000-0000-000000000000",
        DirectoryKind::ActiveDirectory => "00000000-0000-0000-0000-000000000001",
    };
    assert!(d.find_by_stable_id(unknown, now()).await.unwrap().is_none());
    assert!(d.find_by_stable_id("*", now()).await.unwrap().is_none());
    let e = d.unlock(unknown, now()).await.unwrap_err();
    assert!(matches!(e, DirectoryError::NoSuchAccount { .. }), "{e:?}");

    // The base may be the directory's root (AD may then answer with referrals to its
    // partitions too, which are not accounts).
    let mut root = fx.settings();
    root.base_dn = match fx.kind {
        DirectoryKind::Ldap => "dc=lk,dc=test",
        DirectoryKind::ActiveDirectory => "DC=lk,DC=test",
    }
    .to_owned();
    let from_root = Directory::new(root).unwrap();
    let found = from_root
        .find_by_username(&user, now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.username, user);
}

/// A directory that is down, silent, or refuses the service account: a typed error that
/// names it, within the configured timeouts.
pub async fn failures_name_the_directory(fx: Fixture) {
    // Nothing listens on a port just freed.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let scheme = if fx.kind == DirectoryKind::Ldap {
        "ldap"
    } else {
        "ldaps"
    };
    let mut down = fx.settings();
    down.url = format!("{scheme}://127.0.0.1:{closed}");
    let e = Directory::new(down)
        .unwrap()
        .find_by_username("x", now())
        .await
        .unwrap_err();
    assert!(matches!(e, DirectoryError::Unreachable { .. }), "{e:?}");
    assert_eq!(e.directory(), fx.settings().name);
    assert!(e.to_string().contains(&fx.settings().name));

    // A server that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut slow = fx.settings();
    slow.url = format!(
        "{scheme}://127.0.0.1:{}",
        silent.local_addr().unwrap().port()
    );
    slow.connect_timeout_ms = 300;
    slow.operation_timeout_ms = 300;
    let started = std::time::Instant::now();
    let e = Directory::new(slow)
        .unwrap()
        .unlock("00000000-0000-0000-0000-000000000001", now())
        .await
        .unwrap_err();
    assert!(matches!(e, DirectoryError::TimedOut { .. }), "{e:?}");
    assert_eq!(e.directory(), fx.settings().name);
    // Bounded by the timeouts, not by the operating system's.
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(silent);

    // The service account's password is wrong.
    let mut refused = fx.settings();
    refused.bind_password = Some(secret("not-the-password"));
    let e = Directory::new(refused)
        .unwrap()
        .search(&SearchQuery::default(), now())
        .await
        .unwrap_err();
    assert!(
        matches!(e, DirectoryError::Refused { code: 49, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains(&fx.settings().name));
}

/// OpenLDAP only: the administrative lock value is shown as such, and unlocks too.
pub async fn administrative_lock(fx: Fixture) {
    if fx.kind != DirectoryKind::Ldap {
        return;
    }
    let d = fx.directory();
    let user = name("admin");
    fx.create_user(&user).await;
    fx.admin_lock(&user).await;
    let account = d.find_by_username(&user, now()).await.unwrap().unwrap();
    assert_eq!(
        account.lock,
        LockState::Locked {
            cause: LockCause::Administrative,
            since: None,
            until: None
        }
    );
    assert_eq!(
        d.bind_as_user(&user, &secret(PASSWORD), now())
            .await
            .unwrap(),
        BindOutcome::Locked
    );
    d.unlock(&account.stable_id, now()).await.unwrap();
    assert_eq!(
        d.bind_as_user(&user, &secret(PASSWORD), now())
            .await
            .unwrap(),
        BindOutcome::Success
    );
}

/// One `#[tokio::test]` per group against the fixture `$fixture` (a function answering
/// [`Fixture`]) makes.
#[macro_export]
macro_rules! directory_conformance_tests {
    ($fixture:path) => {
        $crate::directory_conformance_tests!(@group $fixture, lock_and_unlock, reset_password,
            only_locked_search_pages, unknown_accounts, failures_name_the_directory,
            administrative_lock);
    };
    (@group $fixture:path, $($group:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $group() {
            $crate::$group($fixture()).await;
        }
    )*};
}
