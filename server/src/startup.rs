//! Building and running the server: open the database, seed demo data if asked, bind,
//! start the outbox workers, serve until told to stop, then stop the workers and close
//! the database cleanly.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use latchkey_app::ssr::{DemoMailbox, ServerState};
use latchkey_core::audit::Caller;
use latchkey_core::clock::{Clock, SystemClock};
use latchkey_core::directory::Directories;
use latchkey_core::keys::MasterKey;
use latchkey_core::outbox::worker::Mailer;
use latchkey_core::outbox::Templates;
use latchkey_core::password::PasswordHasher;
use latchkey_core::random::{OsRandom, Random};
use latchkey_core::settings::PortalSettings;
use latchkey_core::store::{self, Database, ServingLock, Store, StoreError};
use latchkey_core::{CoreError, Latchkey, Parts};
use latchkey_directory::Directory;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{decode_key, Config};
use crate::http::{self, HttpState};
use crate::mail::{self, MailError};
use crate::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid setting `base_url`: {0}")]
    BaseUrl(String),
    #[error("invalid setting `database`: {0}")]
    Database(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid setting `argon2`: {0}")]
    Hasher(String),
    #[error(transparent)]
    Mail(#[from] MailError),
    #[error("mail templates: {0}")]
    Templates(String),
    #[error("seeding demo data failed: {0}")]
    Demo(#[from] CoreError),
    #[error("secret key: {0}")]
    SecretKey(String),
    /// A configured directory store that cannot be set up (named in the message).
    #[error("{0}")]
    Directory(String),
    #[error("server error: {0}")]
    Serve(#[from] std::io::Error),
}

/// Start-up choices that are not configuration.
#[derive(Clone)]
pub struct AppOptions {
    /// Seed the demo organisation and users (once).
    pub demo: bool,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            demo: false,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        }
    }
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Arc<dyn Store>,
    core: Latchkey,
    /// The configured directory stores' connectors.
    directories: Vec<Arc<Directory>>,
    mailer: Mailer,
    mail_workers: u32,
    /// How long stopping waits for a mail being sent (the SMTP timeout, and a little).
    mail_grace: std::time::Duration,
    /// `metrics.listen`, bound: serves only `/metrics`.
    metrics_listener: Option<TcpListener>,
    metrics: Arc<Metrics>,
    /// Held while serving an SQLite database, so that `latchkey restore` refuses to
    /// replace it under this server.
    _serving: Option<ServingLock>,
}

impl Application {
    /// Binds `config.listen` and builds everything.
    pub async fn build(config: &Config, options: AppOptions) -> Result<Self, StartError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        Self::build_with_listener(config, options, listener).await
    }

    /// Builds on an already bound listener (the test harness binds port 0 first, so it
    /// knows the port before it writes `base_url`).
    pub async fn build_with_listener(
        config: &Config,
        options: AppOptions,
        listener: TcpListener,
    ) -> Result<Self, StartError> {
        let base_url = config.base_url().map_err(StartError::BaseUrl)?;
        let serving = match config.database() {
            Ok(Database::Sqlite { path, .. }) => Some(ServingLock::shared(&path)?),
            _ => None,
        };
        let (core, shared_store, keys) = domain(config, &options).await?;
        if options.demo && core.seed_demo().await? {
            tracing::info!("seeded the demo organisation; README lists its users");
        }
        let directories = register_directories(config, &core).await?;
        let core = core.with_directories(Directories::new(
            directories
                .iter()
                .map(|d| {
                    Arc::new(crate::directories::Connector(Arc::clone(d)))
                        as Arc<dyn latchkey_core::directory::DirectoryConnector>
                })
                .collect(),
        ));
        let https = base_url.scheme() == "https";
        let templates = Templates::new(&config.product_name, base_url.as_str())
            .map_err(|e| StartError::Templates(e.to_string()))?;
        let mail = mail::transports(config)?;
        tracing::info!("mail goes to {}", mail.description);
        let mailer = Mailer::new(
            Arc::clone(&shared_store),
            mail.transport,
            Arc::new(templates),
            Arc::clone(&options.clock),
            Arc::clone(&options.random),
            keys.clone(),
            config
                .outbox
                .settings(base_url.host_str().unwrap_or("localhost")),
        );
        // Only a demo shows mail in a web page, and only mail that never left the machine.
        let demo_mailbox = options
            .demo
            .then_some(mail.mailbox)
            .flatten()
            .map(|m| m as Arc<dyn DemoMailbox>);
        if demo_mailbox.is_some() {
            let base = base_url.as_str().trim_end_matches('/');
            tracing::info!("demo mode: read the mail sent at {base}/console/demo-mailbox");
        }
        let server = ServerState {
            core,
            settings: Arc::new(PortalSettings {
                product_name: config.product_name.clone(),
                channels: config.channels.clone(),
                help_desk: config.help_desk.clone(),
                branding: config.organisation.clone(),
            }),
            https,
            demo_mailbox,
        };
        let core = server.core.clone();
        let metrics = Arc::new(
            Metrics::new(
                Arc::clone(&shared_store),
                core.hasher().clone(),
                config.metrics.token.clone(),
            )
            .await?,
        );
        let observer: Arc<dyn latchkey_core::outbox::worker::DeliveryObserver> = metrics.clone();
        let mailer = mailer.observed_by(observer);
        let metrics_listener = match config.metrics.listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Bind { addr, source })?,
            ),
            None => None,
        };
        let state = HttpState {
            server,
            origin: base_url.origin().ascii_serialization().into(),
            https,
            trusted_proxies: config.trusted_proxies.clone().into(),
            logo_origin: config.logo_origin().map(Into::into),
        };
        Ok(Self {
            listener,
            router: http::router(state, Arc::clone(&metrics)),
            metrics_listener,
            metrics,
            store: shared_store,
            core,
            directories,
            mailer,
            mail_workers: config.outbox.workers,
            mail_grace: std::time::Duration::from_secs(u64::from(config.smtp.timeout_secs) + 5),
            _serving: serving,
        })
    }

    /// The configured directory stores, registered and ready to connect.
    pub fn directories(&self) -> &[Arc<Directory>] {
        &self.directories
    }

    /// The store, for tests that look below the HTTP layer.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// The domain service the server runs, for tests and commands below the HTTP layer.
    pub fn core(&self) -> &Latchkey {
        &self.core
    }

    pub fn local_addr(&self) -> Result<SocketAddr, std::io::Error> {
        self.listener.local_addr()
    }

    /// Where `/metrics` is served on its own (`metrics.listen`), if it is.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Serves until `shutdown` completes and lets requests in flight finish; then stops
    /// the outbox workers (a mail being sent is finished, the rest of a worker's batch
    /// handed back) and closes the database. Mail still in the outbox is sent at the
    /// next start.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let (stop, stopped) = watch::channel(false);
        let mut workers = JoinSet::new();
        for _ in 0..self.mail_workers {
            workers.spawn(self.mailer.clone().run(stopped.clone()));
        }
        let mut metrics_server = None;
        if let Some(listener) = self.metrics_listener {
            let page = axum::Router::new()
                .route("/metrics", axum::routing::get(crate::metrics::open))
                .with_state(Arc::clone(&self.metrics));
            let mut stopping = stopped.clone();
            metrics_server = Some(tokio::spawn(async move {
                let _ = axum::serve(listener, page)
                    .with_graceful_shutdown(async move {
                        let _ = stopping.changed().await;
                    })
                    .await;
            }));
        }
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await;
        let _ = stop.send(true);
        if let Some(server) = metrics_server {
            let _ = server.await;
        }
        let drained = tokio::time::timeout(self.mail_grace, async {
            while workers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            // Their claims lapse by themselves: the mail is sent after the next start.
            tracing::warn!("outbox workers did not stop in time; their mail will be retried");
            workers.abort_all();
        }
        self.store.close().await;
        served?;
        Ok(())
    }
}

/// Registers each configured directory as an identity store (once; later starts find
/// it) and makes its connector. A directory that is down does not stop the start: it is
/// logged now, and each request that needs it gets an error naming it.
async fn register_directories(
    config: &Config,
    core: &Latchkey,
) -> Result<Vec<Arc<Directory>>, StartError> {
    let mut out = Vec::new();
    for (i, settings) in config.directories.iter().enumerate() {
        let setting = |what: &str| format!("invalid setting `directories[{i}].{what}`");
        let store = core
            .register_directory_store(
                &Caller::system("configuration"),
                settings.organisation.as_deref(),
                &settings.name,
                settings.kind.store_kind(),
                settings.priority,
            )
            .await
            .map_err(|e| match e {
                CoreError::Invalid(invalid) => StartError::Directory(format!(
                    "{}: {}",
                    setting(if invalid.field == "organisation" {
                        "organisation"
                    } else {
                        "name"
                    }),
                    invalid.message
                )),
                other => StartError::Demo(other),
            })?;
        let directory = Directory::new(settings.clone())
            .map_err(|e| StartError::Directory(format!("{}: {e}", setting("name"))))?;
        tracing::info!(store = %store.name, kind = ?settings.kind, url = %settings.url, "directory store");
        let directory = Arc::new(directory);
        let probe = Arc::clone(&directory);
        tokio::spawn(async move {
            if let Err(e) = probe.check().await {
                tracing::warn!("{e}");
            }
        });
        out.push(directory);
    }
    Ok(out)
}

/// The domain service as configuration describes it, on its store (opened, migrated),
/// with the keys it derived; for the server and for operator commands alike.
pub async fn domain(
    config: &Config,
    options: &AppOptions,
) -> Result<(Latchkey, Arc<dyn Store>, latchkey_core::keys::Keys), StartError> {
    let database = config.database().map_err(StartError::Database)?;
    let store = store::open(&database).await?;
    let hasher = PasswordHasher::new(
        config.argon2,
        config.password_pool.effective_workers(),
        config.password_pool.queue,
    )
    .map_err(|e| StartError::Hasher(e.to_string()))?;
    let keys = master_key(config, options.random.as_ref())?.derive();
    let core = Latchkey::new(Parts {
        store: Arc::clone(&store),
        hasher,
        clock: Arc::clone(&options.clock),
        random: Arc::clone(&options.random),
        keys: keys.clone(),
        sessions: config.session.settings(),
        self_service: config.self_service.settings(),
        client_limits: config.client_limits.settings(),
        // Checked when the configuration was loaded.
        support: config.support.settings().unwrap_or_default(),
    });
    Ok((core, store, keys))
}

/// The configured master key, or the one in `secret.key` next to the database,
/// generated on first start (readable by this user only).
fn master_key(config: &Config, random: &dyn Random) -> Result<MasterKey, StartError> {
    use secrecy::ExposeSecret;
    if let Some(key) = &config.secret_key {
        let bytes = decode_key(key.expose_secret()).map_err(StartError::SecretKey)?;
        return Ok(MasterKey::from_bytes(bytes));
    }
    let path = config.data_dir().join("secret.key");
    let describe = |e: std::io::Error| StartError::SecretKey(format!("{}: {e}", path.display()));
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let bytes = decode_key(&text)
                .map_err(|m| StartError::SecretKey(format!("{}: {m}", path.display())))?;
            Ok(MasterKey::from_bytes(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate(random);
            let text = base64::engine::general_purpose::STANDARD.encode(key.as_bytes());
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(describe)?;
            std::io::Write::write_all(&mut file, format!("{text}\n").as_bytes())
                .map_err(describe)?;
            tracing::info!(path = %path.display(), "generated a new secret key; back it up with the database");
            Ok(key)
        }
        Err(e) => Err(describe(e)),
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
