//! `latchkey copy-to`: every table of an SQLite database into a new, empty PostgreSQL
//! database, in one PostgreSQL transaction, read from one SQLite snapshot; then checked:
//! the same number of rows in every table, and an intact audit chain that ends in the
//! same record. Generic over the schema — tables, their order (foreign keys first) and
//! their columns come from the two catalogues — so a new migration needs nothing here,
//! only its PostgreSQL twin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sqlx::{Connection, Postgres, QueryBuilder, Row, SqliteConnection};

use super::postgres::{PgDatabase, PgStore};
use super::sqlite::SqliteStore;
use super::{Store, StoreError};
use crate::audit::{verify_chain, ChainCursor};

/// What was copied: each table with its rows, and the audit records verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub tables: Vec<(String, u64)>,
    pub audit_records: u64,
}

/// Rows read and written per statement.
const BATCH: i64 = 500;

fn refused(message: String) -> StoreError {
    StoreError::Copy(message)
}

/// `name` as an SQL identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Copies the SQLite database at `from` (migrated first) into `to` (migrated, and
/// refused unless it holds no organisation and no audit record yet).
pub async fn copy_sqlite_to_postgres(from: &Path, to: &PgDatabase) -> Result<Copied, StoreError> {
    if !from.is_file() {
        return Err(refused(format!("{} does not exist", from.display())));
    }
    let source = SqliteStore::open(from).await?;
    let target = PgStore::open(to).await?;
    let copied = copy(&source, &target, to).await;
    source.close().await;
    target.close().await;
    copied
}

async fn copy(
    source: &SqliteStore,
    target: &PgStore,
    to: &PgDatabase,
) -> Result<Copied, StoreError> {
    let mut conn = source.pool().acquire().await?;
    // One snapshot of the source, whatever else writes to it meanwhile.
    let mut src = conn.begin().await?;
    let versions = |rows: Vec<i64>| rows.into_iter().collect::<BTreeSet<i64>>();
    let sqlite_versions = versions(
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
            .fetch_all(&mut *src)
            .await?,
    );
    let pg_versions = versions(
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
            .fetch_all(target.pool())
            .await?,
    );
    if sqlite_versions != pg_versions {
        return Err(refused(format!(
            "the two databases are at different migrations (SQLite {sqlite_versions:?}, \
             PostgreSQL {pg_versions:?}): a PostgreSQL twin is missing"
        )));
    }
    let held: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM organisations) + (SELECT count(*) FROM audit_log)",
    )
    .fetch_one(target.pool())
    .await?;
    if held > 0 {
        return Err(refused(format!(
            "{to} already holds data: copy into a new, empty database"
        )));
    }

    let tables = tables_in_order(&mut src).await?;
    let mut pg = target.pool().begin().await?;
    // Rows the migrations put there (the default authentication flows) make way for the
    // copied ones; the audit log is empty (checked above) and refuses deletes.
    for table in tables.iter().rev().filter(|t| *t != "audit_log") {
        sqlx::query(&format!("DELETE FROM {}", quoted(table)))
            .execute(&mut *pg)
            .await?;
    }
    let mut counts = Vec::new();
    for table in &tables {
        let columns = columns(&mut src, &mut pg, table).await?;
        let rows = copy_table(&mut src, &mut pg, table, &columns).await?;
        restart_identities(&mut pg, table).await?;
        counts.push((table.clone(), rows));
    }
    pg.commit().await?;

    for (table, rows) in &counts {
        let there: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quoted(table)))
            .fetch_one(target.pool())
            .await?;
        if u64::try_from(there).ok() != Some(*rows) {
            return Err(refused(format!(
                "table {table}: {rows} rows read but {there} in PostgreSQL"
            )));
        }
    }
    let source_head: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *src)
            .await?;
    src.rollback().await?;
    let audit_records = verify_audit(target, source_head.as_deref()).await?;
    Ok(Copied {
        tables: counts,
        audit_records,
    })
}

/// The source's tables, each after the tables its foreign keys point to.
async fn tables_in_order(src: &mut SqliteConnection) -> Result<Vec<String>, StoreError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *src)
    .await?;
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in &names {
        let parents: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)")
                .bind(name)
                .fetch_all(&mut *src)
                .await?;
        let parents = parents.into_iter().filter(|p| p != name).collect();
        needs.insert(name.clone(), parents);
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let ready: Vec<String> = needs
            .iter()
            .filter(|(name, parents)| {
                !ordered.contains(name) && parents.iter().all(|p| ordered.contains(p))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if ready.is_empty() {
            return Err(refused("the tables' foreign keys form a circle".to_owned()));
        }
        ordered.extend(ready);
    }
    Ok(ordered)
}

/// A column's PostgreSQL type, which decides how its SQLite value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Text,
    Bytes,
    Boolean,
}

/// The table's columns, which must be the same on both sides.
async fn columns(
    src: &mut SqliteConnection,
    pg: &mut sqlx::PgConnection,
    table: &str,
) -> Result<Vec<(String, Kind)>, StoreError> {
    let pg_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *pg)
    .await?;
    if pg_columns.is_empty() {
        return Err(refused(format!(
            "table {table} has no PostgreSQL twin (core/migrations/postgres/)"
        )));
    }
    let sqlite_columns: BTreeSet<String> =
        sqlx::query_scalar::<_, String>("SELECT name FROM pragma_table_info(?)")
            .bind(table)
            .fetch_all(&mut *src)
            .await?
            .into_iter()
            .collect();
    let pg_names: BTreeSet<String> = pg_columns.iter().map(|(n, _)| n.clone()).collect();
    if sqlite_columns != pg_names {
        return Err(refused(format!(
            "table {table} has other columns on PostgreSQL ({pg_names:?}) than on SQLite \
             ({sqlite_columns:?})"
        )));
    }
    pg_columns
        .into_iter()
        .map(|(name, ty)| {
            let kind = match ty.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Integer,
                "text" | "character varying" => Kind::Text,
                "bytea" => Kind::Bytes,
                "boolean" => Kind::Boolean,
                other => {
                    return Err(refused(format!(
                        "table {table}, column {name}: type {other} cannot be copied"
                    )))
                }
            };
            Ok((name, kind))
        })
        .collect()
}

/// One value on its way from SQLite to PostgreSQL.
enum Value {
    Integer(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    Boolean(Option<bool>),
}

/// Copies `table` in batches ordered by rowid; answers how many rows.
async fn copy_table(
    src: &mut SqliteConnection,
    pg: &mut sqlx::PgConnection,
    table: &str,
    columns: &[(String, Kind)],
) -> Result<u64, StoreError> {
    let list = columns
        .iter()
        .map(|(name, _)| quoted(name))
        .collect::<Vec<_>>()
        .join(", ");
    let select = format!(
        "SELECT rowid AS latchkey_rowid, {list} FROM {} WHERE rowid > ? ORDER BY rowid LIMIT ?",
        quoted(table)
    );
    let (mut after, mut copied) = (i64::MIN, 0u64);
    loop {
        let rows = sqlx::query(&select)
            .bind(after)
            .bind(BATCH)
            .fetch_all(&mut *src)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(copied);
        };
        after = last.try_get("latchkey_rowid")?;
        let mut values = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut record = Vec::with_capacity(columns.len());
            for (name, kind) in columns {
                let name = name.as_str();
                record.push(match kind {
                    Kind::Integer => Value::Integer(row.try_get(name)?),
                    Kind::Text => Value::Text(row.try_get(name)?),
                    Kind::Bytes => Value::Bytes(row.try_get(name)?),
                    Kind::Boolean => {
                        Value::Boolean(row.try_get::<Option<i64>, _>(name)?.map(|v| v != 0))
                    }
                });
            }
            values.push(record);
        }
        let mut insert: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("INSERT INTO {} ({list}) ", quoted(table)));
        insert.push_values(values, |mut b, record| {
            for value in record {
                match value {
                    Value::Integer(v) => b.push_bind(v),
                    Value::Text(v) => b.push_bind(v),
                    Value::Bytes(v) => b.push_bind(v),
                    Value::Boolean(v) => b.push_bind(v),
                };
            }
        });
        let done = insert.build().execute(&mut *pg).await?;
        copied += done.rows_affected();
    }
}

/// Identity columns continue after the highest copied value.
async fn restart_identities(pg: &mut sqlx::PgConnection, table: &str) -> Result<(), StoreError> {
    let identities: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::TEXT FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'",
    )
    .bind(table)
    .fetch_all(&mut *pg)
    .await?;
    for column in identities {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), max_id)
             FROM (SELECT MAX({}) AS max_id FROM {}) m WHERE max_id IS NOT NULL",
            quoted(&column),
            quoted(table)
        );
        sqlx::query(&sql)
            .bind(quoted(table))
            .bind(&column)
            .fetch_optional(&mut *pg)
            .await?;
    }
    Ok(())
}

/// Walks the copied audit log's chain; it must be intact and end where the source's did.
async fn verify_audit(target: &PgStore, source_head: Option<&str>) -> Result<u64, StoreError> {
    let mut read = target.read().await?;
    let mut cursor = ChainCursor::default();
    let mut head = None;
    loop {
        let page = read.audit_records(cursor.last_seq, 1000).await?;
        let Some(last) = page.last() else {
            break;
        };
        head = Some(last.hash.clone());
        verify_chain(&mut cursor, &page)
            .map_err(|broken| refused(format!("the copied audit log is broken: {broken}")))?;
    }
    if head.as_deref() != source_head {
        return Err(refused(
            "the copied audit log does not end with the source's last record".to_owned(),
        ));
    }
    Ok(cursor.checked)
}
