//! The audit log: append and read. The table's triggers refuse any change or deletion.

use sqlx::{QueryBuilder, Sqlite};

use super::Db;

/// A stored audit record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub r#type: String,
    pub activity: String,
    pub text: String,
    pub time: String,
    pub user: Option<String>,
    pub severity: String,
    pub client_address: Option<String>,
    pub details: Option<String>,
}

/// A record to append.
pub struct NewRecord<'a> {
    pub tenant: &'a str,
    pub r#type: &'a str,
    pub activity: &'a str,
    pub text: &'a str,
    pub time: &'a str,
    pub user: Option<&'a str>,
    pub severity: &'a str,
    pub client_address: Option<&'a str>,
    pub details: Option<&'a str>,
}

pub async fn insert<'e, E: sqlx::SqliteExecutor<'e>>(executor: E, r: &NewRecord<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_records (tenant_id, type, activity, text, time, user, severity, client_address, details) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.tenant)
    .bind(r.r#type)
    .bind(r.activity)
    .bind(r.text)
    .bind(r.time)
    .bind(r.user)
    .bind(r.severity)
    .bind(r.client_address)
    .bind(r.details)
    .execute(executor)
    .await?;
    Ok(())
}

/// Filters of the audit list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub r#type: Option<String>,
    pub user: Option<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    pub newest_first: bool,
}

fn push_filter<'a>(q: &mut QueryBuilder<'a, Sqlite>, tenant: &'a str, f: &'a Filter) {
    q.push(" WHERE tenant_id = ").push_bind(tenant);
    if let Some(t) = &f.r#type {
        q.push(" AND type = ").push_bind(t);
    }
    if let Some(u) = &f.user {
        q.push(" AND user = ").push_bind(u);
    }
    if let Some(d) = &f.date_from {
        q.push(" AND time >= ").push_bind(d);
    }
    if let Some(d) = &f.date_to {
        q.push(" AND time <= ").push_bind(d);
    }
}

pub async fn page(db: &Db, tenant: &str, f: &Filter, limit: u32, offset: u64) -> sqlx::Result<Vec<AuditRow>> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT id, type, activity, text, time, user, severity, client_address, details FROM audit_records",
    );
    push_filter(&mut q, tenant, f);
    q.push(if f.newest_first { " ORDER BY time DESC, id DESC" } else { " ORDER BY time, id" });
    q.push(" LIMIT ").push_bind(i64::from(limit)).push(" OFFSET ").push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
    q.build_query_as().fetch_all(db).await
}

pub async fn count(db: &Db, tenant: &str, f: &Filter) -> sqlx::Result<u64> {
    let mut q = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM audit_records");
    push_filter(&mut q, tenant, f);
    let n: i64 = q.build_query_scalar().fetch_one(db).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub async fn find(db: &Db, tenant: &str, id: i64) -> sqlx::Result<Option<AuditRow>> {
    sqlx::query_as("SELECT id, type, activity, text, time, user, severity, client_address, details FROM audit_records WHERE tenant_id = ? AND id = ?")
        .bind(tenant)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Rows deleted per transaction by the retention, so that it never holds the write lock long.
const PURGE_BATCH: i64 = 5000;

/// Deletes `tenant`'s records older than `cutoff` (the retention), in batches of
/// [`PURGE_BATCH`], one transaction each; returns how many.
pub async fn delete_before(db: &Db, tenant: &str, cutoff: &str) -> sqlx::Result<u64> {
    let mut deleted = 0;
    loop {
        let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("INSERT INTO audit_purge (id) VALUES (1)").execute(&mut *tx).await?;
        let done = sqlx::query(
            "DELETE FROM audit_records WHERE id IN \
             (SELECT id FROM audit_records WHERE tenant_id = ? AND time < ? ORDER BY time LIMIT ?)",
        )
        .bind(tenant)
        .bind(cutoff)
        .bind(PURGE_BATCH)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM audit_purge").execute(&mut *tx).await?;
        tx.commit().await?;
        deleted += done.rows_affected();
        if done.rows_affected() < PURGE_BATCH as u64 {
            return Ok(deleted);
        }
    }
}

/// Which refused token requests to read: of one device user, or anchored by one trusted
/// certificate, or all.
pub struct RefusalFilter<'a> {
    pub tenant: &'a str,
    pub device: Option<&'a str>,
    pub trusted_certificate: Option<&'a str>,
}

const REFUSED: &str = "json_extract(details, '$.result') = 'REFUSED' \
     AND (?1 IS NULL OR json_extract(details, '$.device') = ?1) \
     AND (?2 IS NULL OR json_extract(details, '$.trustedCertificateFingerprint') = ?2)";

/// The newest refused token requests matching `f` (each record may stand for several, see its
/// `details.count`).
pub async fn refusals(db: &Db, f: &RefusalFilter<'_>, r#type: &str, limit: u32) -> sqlx::Result<Vec<AuditRow>> {
    sqlx::query_as(&format!(
        "SELECT id, type, activity, text, time, user, severity, client_address, details FROM audit_records \
         WHERE tenant_id = ?3 AND type = ?4 AND {REFUSED} ORDER BY time DESC, id DESC LIMIT ?5"
    ))
    .bind(f.device)
    .bind(f.trusted_certificate)
    .bind(f.tenant)
    .bind(r#type)
    .bind(i64::from(limit))
    .fetch_all(db)
    .await
}

/// Refused token requests matching `f` since `since` (platform time text), per reason code:
/// a record counts once, plus the repeats its `details.count` holds.
pub async fn refusal_counts(
    db: &Db,
    f: &RefusalFilter<'_>,
    r#type: &str,
    since: &str,
) -> sqlx::Result<Vec<(Option<String>, i64)>> {
    sqlx::query_as(&format!(
        "SELECT json_extract(details, '$.reason') AS reason, \
                SUM(CASE WHEN json_extract(details, '$.firstTime') IS NULL THEN 1 \
                         ELSE COALESCE(json_extract(details, '$.count'), 0) END) AS n \
         FROM audit_records WHERE tenant_id = ?3 AND type = ?4 AND time >= ?5 AND {REFUSED} \
         GROUP BY reason ORDER BY n DESC"
    ))
    .bind(f.device)
    .bind(f.trusted_certificate)
    .bind(f.tenant)
    .bind(r#type)
    .bind(since)
    .fetch_all(db)
    .await
}
