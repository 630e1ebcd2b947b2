//! The audit log: append and read. The table's triggers refuse any change or deletion.

use sqlx::QueryBuilder;

use super::{Db, Ex};

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

/// Appends a record. Any executor: `&Db`, or a transaction the record commits with.
pub async fn insert(ex: impl Into<Ex<'_>>, r: &NewRecord<'_>) -> sqlx::Result<()> {
    with_conn!(ex.into(), |c| {
        sqlx::query(
            "INSERT INTO audit_records (tenant_id, type, activity, text, time, \"user\", severity, client_address, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        .execute(c)
        .await?;
    });
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
    /// Leaves out the login records (`UserAuthentication`) of this user: an operator hides
    /// their own logins.
    pub hide_logins_of: Option<String>,
}

/// The record type of logins and logouts.
const LOGINS: &str = "UserAuthentication";

fn push_filter<'a, B: sqlx::Database>(q: &mut QueryBuilder<'a, B>, tenant: &'a str, f: &'a Filter)
where
    &'a str: sqlx::Encode<'a, B> + sqlx::Type<B>,
{
    q.push(" WHERE tenant_id = ").push_bind(tenant);
    if let Some(t) = f.r#type.as_deref() {
        q.push(" AND type = ").push_bind(t);
    }
    if let Some(u) = f.user.as_deref() {
        q.push(" AND \"user\" = ").push_bind(u);
    }
    if let Some(d) = f.date_from.as_deref() {
        q.push(" AND time >= ").push_bind(d);
    }
    if let Some(d) = f.date_to.as_deref() {
        q.push(" AND time <= ").push_bind(d);
    }
    if let Some(u) = f.hide_logins_of.as_deref() {
        // COALESCE: a record without a user is not this user's (and NOT (… NULL) would drop it).
        q.push(" AND NOT (type = ").push_bind(LOGINS).push(" AND COALESCE(\"user\", '') = ").push_bind(u).push(")");
    }
}

const COLUMNS: &str = "id, type, activity, text, time, \"user\", severity, client_address, details";

pub async fn page(db: &Db, tenant: &str, f: &Filter, limit: u32, offset: u64) -> sqlx::Result<Vec<AuditRow>> {
    with_conn!(db, |c| {
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM audit_records"));
        push_filter(&mut q, tenant, f);
        q.push(if f.newest_first { " ORDER BY time DESC, id DESC" } else { " ORDER BY time, id" });
        q.push(" LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
        q.build_query_as().fetch_all(c).await
    })
}

pub async fn count(db: &Db, tenant: &str, f: &Filter) -> sqlx::Result<u64> {
    let n: i64 = with_conn!(db, |c| {
        let mut q = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM audit_records");
        push_filter(&mut q, tenant, f);
        q.build_query_scalar().fetch_one(c).await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}

pub async fn find(db: &Db, tenant: &str, id: i64) -> sqlx::Result<Option<AuditRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_records WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant)
            .bind(id)
            .fetch_optional(c)
            .await
    })
}

/// Rows deleted per transaction by the retention, so that it never holds the write lock long.
const PURGE_BATCH: i64 = 5000;

/// Deletes `tenant`'s records older than `cutoff` (the retention), in batches of
/// [`PURGE_BATCH`], one transaction each; returns how many. Each transaction puts the marker
/// row into `audit_purge` first (the table's trigger refuses a deletion without it; being a
/// write, it also takes SQLite's write lock at once) and removes it before it commits.
pub async fn delete_before(db: &Db, tenant: &str, cutoff: &str) -> sqlx::Result<u64> {
    let mut deleted = 0;
    loop {
        let mut tx = db.begin().await?;
        let done = with_conn!(&mut tx, |c| {
            sqlx::query("INSERT INTO audit_purge (id) VALUES (1)").execute(&mut *c).await?;
            let done = sqlx::query(
                "DELETE FROM audit_records WHERE id IN \
                 (SELECT id FROM audit_records WHERE tenant_id = $1 AND time < $2 ORDER BY time LIMIT $3)",
            )
            .bind(tenant)
            .bind(cutoff)
            .bind(PURGE_BATCH)
            .execute(&mut *c)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM audit_purge").execute(&mut *c).await?;
            done
        });
        tx.commit().await?;
        deleted += done;
        if done < PURGE_BATCH as u64 {
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
     AND (CAST($1 AS TEXT) IS NULL OR json_extract(details, '$.device') = $1) \
     AND (CAST($2 AS TEXT) IS NULL OR json_extract(details, '$.trustedCertificateFingerprint') = $2)";

/// The newest refused token requests matching `f` (each record may stand for several, see its
/// `details.count`).
pub async fn refusals(db: &Db, f: &RefusalFilter<'_>, r#type: &str, limit: u32) -> sqlx::Result<Vec<AuditRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM audit_records \
             WHERE tenant_id = $3 AND type = $4 AND {REFUSED} ORDER BY time DESC, id DESC LIMIT $5"
        ))
        .bind(f.device)
        .bind(f.trusted_certificate)
        .bind(f.tenant)
        .bind(r#type)
        .bind(i64::from(limit))
        .fetch_all(c)
        .await
    })
}

/// Refused token requests matching `f` since `since` (platform time text), per reason code:
/// a record counts once, plus the repeats its `details.count` holds.
pub async fn refusal_counts(
    db: &Db,
    f: &RefusalFilter<'_>,
    r#type: &str,
    since: &str,
) -> sqlx::Result<Vec<(Option<String>, i64)>> {
    with_conn!(db, |c| {
        sqlx::query_as(&format!(
            "SELECT json_extract(details, '$.reason') AS reason, \
                    CAST(SUM(CASE WHEN json_extract(details, '$.firstTime') IS NULL THEN 1 \
                             ELSE COALESCE(CAST(json_extract(details, '$.count') AS BIGINT), 0) END) AS BIGINT) AS n \
             FROM audit_records WHERE tenant_id = $3 AND type = $4 AND time >= $5 AND {REFUSED} \
             GROUP BY reason ORDER BY n DESC"
        ))
        .bind(f.device)
        .bind(f.trusted_certificate)
        .bind(f.tenant)
        .bind(r#type)
        .bind(since)
        .fetch_all(c)
        .await
    })
}
