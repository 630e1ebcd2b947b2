//! `anchorage migrate-db`: copies every table of an embedded (SQLite) installation into an
//! empty PostgreSQL database, in one transaction, and checks the row counts before it commits.
//!
//! The tables are copied in an order that satisfies their foreign keys; [`TABLES`] must name
//! every table of the PostgreSQL schema (a table added by a later migration and not listed
//! here stops the copy before anything is written). Values are read from SQLite by the type
//! the PostgreSQL column has: BIGINT, BOOLEAN (SQLite's 0/1), TEXT or BYTEA.

use std::fmt::Write as _;

use anyhow::{Context as _, bail};
use sqlx::{PgPool, QueryBuilder, Row as _};

use super::Db;

/// Every table, parents before children.
pub const TABLES: &[&str] = &[
    "tenants",
    "users",
    "trusted_certificates",
    "tenant_options",
    "signing_keys",
    "managed_objects",
    "device_users",
    "device_tokens",
    "external_ids",
    "sessions",
    "audit_records",
    "audit_purge",
    "crl_entries",
    "crl_signers",
    "crl_builds",
    "provisioned_certificates",
    "login_failures",
    "tenant_cas",
    "new_device_requests",
    "issued_certificates",
    "alarms",
];

/// Tables whose `id` is an identity column: their sequence continues after the copied ids.
const IDENTITY_TABLES: &[&str] =
    &["trusted_certificates", "managed_objects", "audit_records", "issued_certificates", "alarms"];

/// Rows per INSERT (PostgreSQL takes at most 65,535 parameters in one statement).
const BATCH_ROWS: usize = 500;

/// What was copied: each table with its row count.
#[derive(Debug, Default)]
pub struct Report {
    pub tables: Vec<(String, u64)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (table, n) in &self.tables {
            writeln!(f, "  {table:<26} {n:>10} rows")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
}

/// Copies `from` (SQLite) into `to` (PostgreSQL, empty). Both are opened by the caller, so
/// both have every migration of this build applied.
pub async fn copy(from: &Db, to: &Db) -> anyhow::Result<Report> {
    let (Db::Sqlite(src), Db::Postgres(dst)) = (from, to) else {
        bail!("migrate-db copies an SQLite database (--from sqlite://…) into a PostgreSQL one (--to postgres://…)");
    };
    check_table_list(dst).await?;
    let mut not_empty = Vec::new();
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\"")).fetch_one(dst).await?;
        if n > 0 {
            not_empty.push(format!("{table} ({n} rows)"));
        }
    }
    if !not_empty.is_empty() {
        bail!("the target database is not empty: {}; migrate-db copies only into an empty one", not_empty.join(", "));
    }
    // One read transaction on one connection: every table as of one moment, even if an
    // embedded instance still wrote (it should be stopped).
    let mut read = src.begin().await?;
    let mut tx = dst.begin().await?;
    let mut report = Report::default();
    for table in TABLES {
        let columns = columns(dst, table).await?;
        let copied =
            copy_table(&mut read, &mut tx, table, &columns).await.with_context(|| format!("copying {table}"))?;
        let source: i64 =
            sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\"")).fetch_one(&mut *read).await?;
        let target: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\"")).fetch_one(&mut *tx).await?;
        if source != target || u64::try_from(source).ok() != Some(copied) {
            bail!("{table}: {source} rows in the source, {copied} read, {target} in the target; nothing was written");
        }
        report.tables.push(((*table).to_owned(), copied));
    }
    for table in IDENTITY_TABLES {
        // Past every id SQLite ever gave (AUTOINCREMENT never reuses the ids of deleted rows).
        let given: Option<i64> = sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = $1")
            .bind(table)
            .fetch_optional(&mut *read)
            .await?;
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
             GREATEST(COALESCE((SELECT MAX(id) FROM \"{table}\"), 0), $1) + 1, false)"
        ))
        .bind(given.unwrap_or(0))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// Fails when the PostgreSQL schema has a table [`TABLES`] does not name, or the reverse.
async fn check_table_list(dst: &PgPool) -> anyhow::Result<()> {
    let present: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(dst)
    .await?;
    let unknown: Vec<&str> = present.iter().map(String::as_str).filter(|t| !TABLES.contains(t)).collect();
    let missing: Vec<&str> = TABLES.iter().copied().filter(|t| !present.iter().any(|p| p == t)).collect();
    if !unknown.is_empty() || !missing.is_empty() {
        bail!(
            "the copy's table list does not match the schema (not copied: {unknown:?}; not in the schema: {missing:?})"
        );
    }
    Ok(())
}

/// The columns of `table` in the PostgreSQL schema, in order, with the kind of value each holds.
async fn columns(dst: &PgPool, table: &str) -> anyhow::Result<Vec<(String, Kind)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(dst)
    .await?;
    rows.into_iter()
        .map(|(name, ty)| {
            let kind = match ty.as_str() {
                "bigint" | "integer" | "smallint" => Kind::Int,
                "boolean" => Kind::Bool,
                "text" | "character varying" => Kind::Text,
                "bytea" => Kind::Bytes,
                other => bail!("{table}.{name}: no copy for the column type {other}"),
            };
            Ok((name, kind))
        })
        .collect()
}

/// Copies one table in batches; returns how many rows were read.
async fn copy_table(
    src: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    table: &str,
    columns: &[(String, Kind)],
) -> anyhow::Result<u64> {
    let mut list = String::new();
    for (i, (name, _)) in columns.iter().enumerate() {
        let _ = write!(list, "{}\"{name}\"", if i > 0 { ", " } else { "" });
    }
    let select = format!("SELECT {list} FROM \"{table}\" ORDER BY rowid LIMIT $1 OFFSET $2");
    let select = if table == "crl_entries" {
        // A WITHOUT ROWID table: its primary key orders it.
        format!("SELECT {list} FROM \"{table}\" ORDER BY tenant_id, serial_hex LIMIT $1 OFFSET $2")
    } else {
        select
    };
    let mut copied = 0u64;
    loop {
        let rows = sqlx::query(&select)
            .bind(i64::try_from(BATCH_ROWS).unwrap_or(500))
            .bind(i64::try_from(copied).unwrap_or(i64::MAX))
            .fetch_all(&mut **src)
            .await?;
        if rows.is_empty() {
            return Ok(copied);
        }
        let mut insert = QueryBuilder::<sqlx::Postgres>::new(format!("INSERT INTO \"{table}\" ({list}) "));
        let mut failed = None;
        insert.push_values(&rows, |mut b, row| {
            for (i, (name, kind)) in columns.iter().enumerate() {
                let bound = match kind {
                    Kind::Int => row.try_get::<Option<i64>, _>(i).map(|v| {
                        b.push_bind(v);
                    }),
                    Kind::Bool => row.try_get::<Option<bool>, _>(i).map(|v| {
                        b.push_bind(v);
                    }),
                    Kind::Text => row.try_get::<Option<String>, _>(i).map(|v| {
                        b.push_bind(v);
                    }),
                    Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i).map(|v| {
                        b.push_bind(v);
                    }),
                };
                if let Err(e) = bound {
                    failed.get_or_insert_with(|| format!("{table}.{name}: {e}"));
                    b.push_bind(None::<i64>);
                }
            }
        });
        if let Some(e) = failed {
            bail!("reading {e}");
        }
        // Identity columns are GENERATED BY DEFAULT: the copied ids are kept as they are.
        insert.build().execute(&mut **tx).await?;
        copied += rows.len() as u64;
    }
}
