//! Which store the `database` setting names, and opening it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::postgres::{PgDatabase, PgStore};
use super::sqlite::SqliteStore;
use super::Store;
use crate::error::StoreError;

/// The database the `database` setting names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file: `sqlite://PATH` (`sqlite:///abs/path`), `sqlite:PATH`, or — still
    /// accepted, but deprecated — a bare path (`bare`).
    Sqlite { path: PathBuf, bare: bool },
    /// A PostgreSQL database that any number of servers may share:
    /// `postgres://USER:PASSWORD@HOST:PORT/NAME` (or `postgresql://…`).
    Postgres(PgDatabase),
}

impl Database {
    /// Reads the setting; an unknown scheme is refused with a message that names it.
    pub fn parse(setting: &str) -> Result<Self, StoreError> {
        if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
            return Ok(Database::Postgres(PgDatabase::new(setting)?));
        }
        let (path, bare) = match setting
            .strip_prefix("sqlite://")
            .or_else(|| setting.strip_prefix("sqlite:"))
        {
            Some(rest) => (rest, false),
            None => match setting.split_once("://") {
                Some((scheme, _)) => {
                    return Err(StoreError::Url(format!(
                        "unknown scheme `{scheme}://` (expected sqlite://PATH or postgres://…)"
                    )))
                }
                None => (setting, true),
            },
        };
        if path.trim().is_empty() {
            return Err(StoreError::Url(
                "name a database, e.g. sqlite://data/latchkey.sqlite3".to_owned(),
            ));
        }
        Ok(Database::Sqlite {
            path: PathBuf::from(path),
            bare,
        })
    }

    /// The database file, for a database that is one (files such as the generated
    /// secret key and the demo mailbox live next to it).
    pub fn file(&self) -> Option<&Path> {
        match self {
            Database::Sqlite { path, .. } => Some(path),
            Database::Postgres(_) => None,
        }
    }

    /// Whether several servers may share it (and must then share their secret key).
    pub fn is_shared(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

/// The setting as it may be shown: a PostgreSQL password replaced by `***`.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite { path, .. } => write!(f, "sqlite://{}", path.display()),
            Database::Postgres(pg) => pg.fmt(f),
        }
    }
}

/// Opens the store, applying pending migrations.
pub async fn open(database: &Database) -> Result<Arc<dyn Store>, StoreError> {
    match database {
        Database::Sqlite { path, bare } => {
            if *bare {
                tracing::warn!(
                    "setting `database` to a bare path is deprecated: write sqlite://{}",
                    path.display()
                );
            }
            Ok(Arc::new(SqliteStore::open(path).await?))
        }
        Database::Postgres(pg) => Ok(Arc::new(PgStore::open(pg).await?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_settings_name_a_file_or_are_refused() {
        let file = |s: &str| Database::parse(s).map(|d| d.file().map(Path::to_path_buf));
        assert_eq!(
            file("sqlite://data/latchkey.sqlite3").unwrap(),
            Some(PathBuf::from("data/latchkey.sqlite3"))
        );
        assert_eq!(
            file("sqlite:///var/lib/latchkey/db").unwrap(),
            Some(PathBuf::from("/var/lib/latchkey/db"))
        );
        assert_eq!(
            Database::parse("data/x.db").unwrap(),
            Database::Sqlite {
                path: PathBuf::from("data/x.db"),
                bare: true
            }
        );
        let err = Database::parse("mysql://db.example.org/latchkey").unwrap_err();
        assert!(err.to_string().contains("`database`"), "{err}");
        assert!(Database::parse("sqlite://").is_err());
        assert!(Database::parse("").is_err());
    }

    #[test]
    fn postgres_urls_are_shared_databases_shown_without_their_password() {
        for url in [
            "postgres://latchkey:s3cret@db.example.org:5432/latchkey",
            "postgresql://latchkey:s3cret@db.example.org/latchkey?sslmode=require",
        ] {
            let db = Database::parse(url).unwrap();
            assert!(db.is_shared());
            assert_eq!(db.file(), None);
            let shown = format!("{db} {db:?}");
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("latchkey:***@db.example.org"), "{shown}");
        }
        let db = Database::parse("postgres://db.example.org/latchkey").unwrap();
        assert_eq!(db.to_string(), "postgres://db.example.org/latchkey");
        let err = Database::parse("postgres://db.example.org:notaport/x").unwrap_err();
        assert!(err.to_string().contains("`database`"), "{err}");
        assert!(!Database::parse("sqlite://x.db").unwrap().is_shared());
    }
}
