//! What the benchmarks share: the real server, started in-process.

use latchkey_server::{AppOptions, Application, Config};
use tokio::net::TcpListener;

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The real server with the demo data and a fresh database, on a loopback port, with
/// the per-client limits lifted (every request here comes from one address).
pub struct Server {
    pub base: String,
    pub config: Config,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(configure: impl FnOnce(&mut Config)) -> BenchResult<Self> {
        let dir = tempfile::tempdir()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let base = format!("http://{addr}");
        let mut config = Config {
            listen: addr,
            base_url: base.clone(),
            database: format!("sqlite://{}", dir.path().join("bench.sqlite3").display()).into(),
            ..Config::default()
        };
        config.client_limits.requests_per_minute = u32::MAX;
        config.client_limits.failures_per_hour = u32::MAX;
        configure(&mut config);
        let options = AppOptions {
            demo: true,
            ..AppOptions::default()
        };
        let app = Application::build_with_listener(&config, options, listener).await?;
        tokio::spawn(app.run(std::future::pending()));
        Ok(Self {
            base,
            config,
            _dir: dir,
        })
    }
}
