//! Throwaway directory servers for the tests: `scripts/throwaway-openldap.sh` and
//! `scripts/throwaway-samba-ad.sh`, started once per test process and shared by its
//! tests (each test makes accounts of its own). A script stops its server and deletes
//! its files as soon as its standard input closes, which happens when this process ends,
//! however it ends: nothing is left running.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

pub struct Throwaway {
    /// `ldap://127.0.0.1:PORT` or `ldaps://127.x.y.z`.
    pub url: String,
    /// The CA that signed the server's certificate.
    pub ca_file: PathBuf,
    /// The directory's administrator (creates and locks the test accounts).
    pub admin_dn: String,
    pub admin_password: String,
    _child: Mutex<Child>,
    /// Held open: the script stops the server when it closes.
    _stdin: Mutex<Option<ChildStdin>>,
}

impl Throwaway {
    /// The OpenLDAP server this process shares, started on first use.
    pub fn openldap() -> &'static Throwaway {
        static SHARED: OnceLock<Throwaway> = OnceLock::new();
        SHARED.get_or_init(|| {
            Self::start("throwaway-openldap.sh", || {
                TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .map(|a| a.port().to_string())
                    .unwrap()
            })
        })
    }

    /// The Samba AD domain controller this process shares, started on first use, on a
    /// loopback address of its own (its LDAP ports are fixed).
    pub fn samba_ad() -> &'static Throwaway {
        static SHARED: OnceLock<Throwaway> = OnceLock::new();
        SHARED.get_or_init(|| {
            Self::start("throwaway-samba-ad.sh", || {
                let r = random();
                format!(
                    "127.{}.{}.{}",
                    100 + r % 100,
                    (r >> 8) % 250 + 1,
                    (r >> 16) % 250 + 1
                )
            })
        })
    }

    fn start(script: &str, arg: impl Fn() -> String) -> Throwaway {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts")
            .join(script);
        let mut last_error = String::new();
        // Another process may take the port or address first; a new one is tried then.
        for _ in 0..3 {
            let mut command = Command::new(&script);
            command
                .arg(arg())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            // Its own process group: a Ctrl-C to the tests reaches it only through its
            // standard input closing.
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            let mut child = command.spawn().unwrap();
            let stdin = child.stdin.take();
            let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
                .lines()
                .take(4)
                .map_while(Result::ok)
                .collect();
            let field = |prefix: &str| {
                lines
                    .iter()
                    .find_map(|l| l.strip_prefix(prefix))
                    .map(str::to_owned)
            };
            if let (Some(url), Some(ca), Some(admin), Some(password)) = (
                lines.first().cloned(),
                field("ca: "),
                field("admin: "),
                field("admin password: "),
            ) {
                return Throwaway {
                    url,
                    ca_file: PathBuf::from(ca),
                    admin_dn: admin,
                    admin_password: password,
                    _child: Mutex::new(child),
                    _stdin: Mutex::new(stdin),
                };
            }
            drop(stdin);
            let out = child.wait_with_output().unwrap();
            last_error = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!(
            "the throwaway directory ({}) did not start:\n{last_error}",
            script.display()
        );
    }
}

/// A random number without a dependency: std's per-process hash keys.
pub(crate) fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(u64::from(std::process::id()));
    h.finish()
}
