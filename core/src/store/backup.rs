//! Online backup and restore of the embedded SQLite database.
//!
//! A backup is taken while servers keep writing: `VACUUM INTO` copies one read snapshot,
//! so the copy holds exactly the transactions committed before it began — never half of
//! one. It is then checked as a restore would check it (SQLite's `integrity_check` and
//! the audit log's hash chain), opened read-only so that checking cannot change it.
//!
//! A serving process holds a shared lock on `<database>.lock` ([`ServingLock`]); restore
//! takes the same lock exclusively and refuses while any server holds it, so a database
//! is never replaced under a running server. (PostgreSQL has its own tools: `pg_dump` and
//! `pg_restore`, see README.)

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Connection, SqliteConnection};

use super::sqlite::SqliteStore;
use super::{Read, Store, StoreError};
use crate::audit::{verify_chain, ChainCursor};
use crate::service::AuditVerification;

/// Audit records read per round trip when checking a copy.
const AUDIT_PAGE: u32 = 1000;

/// What checking a database file found; it is fit to restore only when both are good.
#[derive(Debug)]
pub struct Checked {
    /// SQLite's `integrity_check`: empty when it answered "ok", else its findings.
    pub integrity_problems: Vec<String>,
    pub audit: AuditVerification,
}

impl Checked {
    pub fn is_sound(&self) -> bool {
        self.integrity_problems.is_empty() && matches!(self.audit, AuditVerification::Intact { .. })
    }

    /// One line for the operator.
    pub fn summary(&self) -> String {
        let integrity = if self.integrity_problems.is_empty() {
            "integrity check ok".to_owned()
        } else {
            format!(
                "integrity check FAILED: {}",
                self.integrity_problems.join("; ")
            )
        };
        let audit = match &self.audit {
            AuditVerification::Intact { records } => {
                format!("audit log intact: {records} records verified")
            }
            AuditVerification::Broken(broken) => format!("audit log BROKEN: {broken}"),
        };
        format!("{integrity}; {audit}")
    }
}

/// Copies the live database at `source` into the new file `target` (which must not
/// exist) while servers keep using it, and makes the copy durable.
pub async fn backup_sqlite(source: &Path, target: &Path) -> Result<(), StoreError> {
    if !source.is_file() {
        return Err(StoreError::Backup(format!(
            "there is no database at {}",
            source.display()
        )));
    }
    if target.exists() {
        return Err(StoreError::Backup(format!(
            "{} already exists; name a new file",
            target.display()
        )));
    }
    let mut conn = read_only(source).await?;
    let into = target
        .to_str()
        .ok_or_else(|| StoreError::Backup(format!("{} is not a UTF-8 path", target.display())))?;
    sqlx::query("VACUUM INTO ?")
        .bind(into)
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    // VACUUM INTO writes without syncing; a backup that a power cut can undo is none.
    File::open(target)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(target, e))?;
    Ok(())
}

/// Checks the database file at `path` without changing it.
pub async fn check_sqlite(path: &Path) -> Result<Checked, StoreError> {
    if !path.is_file() {
        return Err(StoreError::Backup(format!(
            "there is no database at {}",
            path.display()
        )));
    }
    let mut conn = read_only(path).await?;
    let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    conn.close().await?;
    let integrity_problems = rows
        .into_iter()
        .map(|(line,)| line)
        .filter(|line| line != "ok")
        .collect();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(read_only_options(path)?)
        .await
        .map_err(|e| open_error(path, e))?;
    let store = SqliteStore::from_pool(pool);
    let audit = verify_stored_chain(store.read().await?.as_mut()).await;
    store.close().await;
    Ok(Checked {
        integrity_problems,
        audit: audit?,
    })
}

/// Walks the audit log's hash chain from its first record.
pub async fn verify_stored_chain(read: &mut dyn Read) -> Result<AuditVerification, StoreError> {
    let mut cursor = ChainCursor::default();
    loop {
        let page = read.audit_records(cursor.last_seq, AUDIT_PAGE).await?;
        if page.is_empty() {
            return Ok(AuditVerification::Intact {
                records: cursor.checked,
            });
        }
        if let Err(broken) = verify_chain(&mut cursor, &page) {
            return Ok(AuditVerification::Broken(broken));
        }
    }
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub checked: Checked,
    /// Where the database that was replaced now is (none if there was none).
    pub replaced: Option<PathBuf>,
}

/// Replaces the database at `database` with the backup at `backup`, after checking the
/// backup; refuses while a server uses the database. The replaced database is kept,
/// whole (its write-ahead log folded in), at `<database>.before-restore-<stamp>`.
pub async fn restore_sqlite(
    backup: &Path,
    database: &Path,
    stamp: &str,
) -> Result<Restored, StoreError> {
    let checked = check_sqlite(backup).await?;
    if !checked.is_sound() {
        return Err(StoreError::Backup(format!(
            "{} is not fit to restore: {}",
            backup.display(),
            checked.summary()
        )));
    }
    let _exclusive = ServingLock::exclusive(database)?;
    let replaced = if database.exists() {
        fold_write_ahead_log(database).await?;
        let kept = sibling(database, &format!(".before-restore-{stamp}"));
        if kept.exists() {
            return Err(StoreError::Backup(format!(
                "{} already exists; move it away first",
                kept.display()
            )));
        }
        std::fs::rename(database, &kept).map_err(|e| io(database, e))?;
        Some(kept)
    } else {
        None
    };
    // Any log or shared memory left now belongs to the replaced file: a log applied to
    // the restored one would corrupt it.
    for suffix in ["-wal", "-shm"] {
        let stale = sibling(database, suffix);
        match std::fs::remove_file(&stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&stale, e)),
            _ => {}
        }
    }
    let partial = sibling(database, ".restoring");
    std::fs::copy(backup, &partial).map_err(|e| io(&partial, e))?;
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io(&partial, e))?;
    std::fs::rename(&partial, database).map_err(|e| io(database, e))?;
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io(dir, e))?;
    }
    Ok(Restored { checked, replaced })
}

/// The lock a serving process holds on `<database>.lock` for as long as it serves.
#[derive(Debug)]
pub struct ServingLock {
    _file: File,
}

impl ServingLock {
    /// Taken by each server at start; refused only while a restore holds it.
    pub fn shared(database: &Path) -> Result<Self, StoreError> {
        let (path, file) = Self::open(database)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::Backup(format!(
                "{} is being restored (lock {}); start the server when the restore is done",
                database.display(),
                path.display()
            ))),
            Err(TryLockError::Error(e)) => Err(io(&path, e)),
        }
    }

    /// Taken by a restore; refused while any server holds the shared lock.
    pub fn exclusive(database: &Path) -> Result<Self, StoreError> {
        let (path, file) = Self::open(database)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(StoreError::InUse(database.display().to_string())),
            Err(TryLockError::Error(e)) => Err(io(&path, e)),
        }
    }

    fn open(database: &Path) -> Result<(PathBuf, File), StoreError> {
        let path = sibling(database, ".lock");
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        Ok((path, file))
    }
}

/// Writes the database's write-ahead log into the file itself, so the file alone is
/// the whole database.
async fn fold_write_ahead_log(database: &Path) -> Result<(), StoreError> {
    let options = SqliteConnectOptions::from_str("sqlite:")?.filename(database);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| open_error(database, e))?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

fn read_only_options(path: &Path) -> Result<SqliteConnectOptions, StoreError> {
    Ok(SqliteConnectOptions::from_str("sqlite:")?
        .filename(path)
        .read_only(true)
        .create_if_missing(false))
}

async fn read_only(path: &Path) -> Result<SqliteConnection, StoreError> {
    SqliteConnection::connect_with(&read_only_options(path)?)
        .await
        .map_err(|e| open_error(path, e))
}

/// `path` with `suffix` appended to its file name.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn open_error(path: &Path, e: sqlx::Error) -> StoreError {
    StoreError::Open {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Backup(format!("{}: {e}", path.display()))
}
