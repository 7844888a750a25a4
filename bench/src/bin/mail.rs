//! `make bench` (second part): mails per second that the outbox workers deliver to a
//! local SMTP server (aiosmtpd from `.venv/`, writing a Maildir), through the same
//! transport, templates, claims and outcome records as the server. It measures
//! Latchkey's side plus a local SMTP exchange; a real mail server's latency is not in it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_core::account::Email;
use latchkey_core::clock::{Clock, SystemClock};
use latchkey_core::keys::MasterKey;
use latchkey_core::outbox::worker::Mailer;
use latchkey_core::outbox::{DeliveryStatus, Notification, Outgoing, Recipient, Templates};
use latchkey_core::random::OsRandom;
use latchkey_core::store::{self as stores};
use latchkey_server::config::{Config, SmtpTls};
use latchkey_server::mail;

const MAILS: usize = 2000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    let mut sink = Command::new(&python)
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(dir.path().join("maildir"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e} (run `make test-tools`)", python.display()))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..100 {
        if TcpStream::connect(addr).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = measure(dir.path(), port).await;
    let _ = sink.kill();
    let _ = sink.wait();
    result
}

async fn measure(dir: &Path, port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config {
        database: format!("sqlite://{}", dir.join("bench.sqlite3").display()).into(),
        ..Config::default()
    };
    config.smtp.host = "127.0.0.1".into();
    config.smtp.port = port;
    config.smtp.tls = SmtpTls::None;
    let store = stores::open(&config.database()?).await?;
    let clock = Arc::new(SystemClock);
    let keys = MasterKey::generate(&OsRandom).derive();
    let mut tx = store.begin().await?;
    let org = tx
        .create_organisation("bench", "Bench Health", clock.now())
        .await?;
    tx.commit().await?;
    let to = Recipient {
        email: Email::parse("email", "bob@example.org")?,
        name: "Bob Brennan".into(),
        account_id: None,
        username: Some("BENCH\\bob".into()),
    };
    println!("{MAILS} 'account locked' mails to aiosmtpd on loopback, SQLite outbox");
    for workers in [1_u32, 2, 4] {
        let mut tx = store.begin().await?;
        for _ in 0..MAILS {
            let n = Notification::AccountLocked {
                until: None,
                links: None,
            };
            let mail = Outgoing::new(to.clone(), org.id, n, &keys, &OsRandom);
            tx.enqueue_notification(&mail, clock.now()).await?;
        }
        tx.commit().await?;
        config.outbox.workers = workers;
        let transport = mail::transports(&config)?.transport;
        let mailer = Mailer::new(
            store.clone(),
            transport,
            Arc::new(Templates::new("Latchkey", "http://127.0.0.1:8080")?),
            clock.clone(),
            Arc::new(OsRandom),
            keys.clone(),
            config.outbox.settings("127.0.0.1"),
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let start = Instant::now();
        let tasks: Vec<_> = (0..workers)
            .map(|_| tokio::spawn(mailer.clone().run(stopped.clone())))
            .collect();
        while !store
            .read()
            .await?
            .notifications(None, Some(DeliveryStatus::Pending), 1)
            .await?
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        stop.send(true)?;
        for t in tasks {
            t.await?;
        }
        let failed = store
            .read()
            .await?
            .notifications(None, Some(DeliveryStatus::Failed), 1)
            .await?;
        println!(
            "{workers} worker(s): {:7.1} mails/s ({MAILS} in {elapsed:.2} s){}",
            MAILS as f64 / elapsed,
            if failed.is_empty() {
                ""
            } else {
                "  SOME FAILED"
            }
        );
    }
    store.close().await;
    Ok(())
}
