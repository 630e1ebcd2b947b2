//! Queries for certificate expiry alarms: the certificates that expire before a cutoff (trusted
//! certificates, and each device's current certificate), and the `alarms` rows, one per
//! tenant, type and certificate (see `crate::alarms` for how they are kept up to date).

use sqlx::QueryBuilder;

use super::Db;

/// An ENABLED trusted certificate of the tenant that expires before the cutoff.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExpiringCa {
    pub fingerprint: String,
    pub name: String,
    pub subject: String,
    pub not_after: String,
    pub der: Vec<u8>,
}

/// Trusted certificates of `tenant` whose `notAfter` is at or before `cutoff` (platform
/// time text). Only ENABLED ones: a disabled certificate authenticates nobody.
pub async fn expiring_cas(db: &Db, tenant: &str, cutoff: &str) -> sqlx::Result<Vec<ExpiringCa>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT fingerprint, name, subject, not_after, der FROM trusted_certificates \
             WHERE tenant_id = $1 AND status = 'ENABLED' AND not_after <= $2 ORDER BY not_after, fingerprint",
        )
        .bind(tenant)
        .bind(cutoff)
        .fetch_all(c)
        .await
    })
}

/// A device's current certificate that expires before the cutoff.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExpiringDeviceCert {
    pub device_id: String,
    pub managed_object_id: Option<i64>,
    pub device_name: Option<String>,
    pub fingerprint: String,
    pub serial_hex: Option<String>,
    pub subject: Option<String>,
    pub not_after: String,
}

/// A device's current certificate is the later-expiring of the one it last presented for a
/// token and the newest one the tenant CA issued it (an older one is replaced). This returns
/// those of `tenant` whose `notAfter` is at or before `cutoff`; a certificate that is both may
/// come twice (the caller keeps one per fingerprint).
pub async fn expiring_device_certificates(
    db: &Db,
    tenant: &str,
    cutoff: &str,
) -> sqlx::Result<Vec<ExpiringDeviceCert>> {
    // The newest certificate the tenant CA issued a device (of a device that is still
    // registered: a deleted device's certificates raise nothing, and their alarms clear).
    const NEWEST_ISSUED: &str = "NOT EXISTS (SELECT 1 FROM issued_certificates n \
         WHERE n.tenant_id = i.tenant_id AND n.device_id = i.device_id AND n.id > i.id)";
    with_conn!(db, |c| {
        let presented: Vec<ExpiringDeviceCert> = sqlx::query_as(&format!(
            "SELECT d.device_id, d.managed_object_id, m.name AS device_name, d.last_cert_fingerprint AS fingerprint, \
                    p.serial_hex, p.subject, d.last_cert_not_after AS not_after \
             FROM device_users d \
             LEFT JOIN managed_objects m ON m.id = d.managed_object_id \
             LEFT JOIN provisioned_certificates p ON p.tenant_id = d.tenant_id AND p.user_name = d.user_name \
                                                 AND p.fingerprint = d.last_cert_fingerprint \
             WHERE d.tenant_id = $1 AND d.last_cert_not_after <= $2 AND d.last_cert_fingerprint IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM issued_certificates i \
                               WHERE i.tenant_id = d.tenant_id AND i.device_id = d.device_id \
                                 AND i.not_after > d.last_cert_not_after AND {NEWEST_ISSUED}) \
             ORDER BY d.last_cert_not_after, d.device_id"
        ))
        .bind(tenant)
        .bind(cutoff)
        .fetch_all(&mut *c)
        .await?;
        let issued: Vec<ExpiringDeviceCert> = sqlx::query_as(&format!(
            "SELECT i.device_id, d.managed_object_id, m.name AS device_name, i.fingerprint, i.serial_hex, \
                    CAST(NULL AS TEXT) AS subject, i.not_after \
             FROM issued_certificates i \
             JOIN device_users d ON d.tenant_id = i.tenant_id AND d.device_id = i.device_id \
             LEFT JOIN managed_objects m ON m.id = d.managed_object_id \
             WHERE i.tenant_id = $1 AND i.not_after <= $2 AND {NEWEST_ISSUED} \
               AND NOT EXISTS (SELECT 1 FROM device_users u \
                               WHERE u.tenant_id = i.tenant_id AND u.device_id = i.device_id \
                                 AND u.last_cert_not_after > i.not_after) \
             ORDER BY i.not_after, i.device_id"
        ))
        .bind(tenant)
        .bind(cutoff)
        .fetch_all(&mut *c)
        .await?;
        Ok::<_, sqlx::Error>(presented.into_iter().chain(issued).collect())
    })
}

/// A stored alarm.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlarmRow {
    pub id: i64,
    pub r#type: String,
    pub fingerprint: String,
    pub serial_hex: String,
    pub not_after: String,
    pub source_id: String,
    pub source_name: Option<String>,
    pub device_id: Option<String>,
    pub severity: String,
    pub status: String,
    pub cleared_by: Option<String>,
    pub text: String,
    pub count: i64,
    pub creation_time: String,
    pub first_occurrence_time: String,
    pub time: String,
    pub last_updated: String,
}

const COLUMNS: &str = "id, type, fingerprint, serial_hex, not_after, source_id, source_name, device_id, severity, \
     status, cleared_by, text, count, creation_time, first_occurrence_time, time, last_updated";

/// Every alarm of `tenant` (bounded by its certificates, see `crate::alarms`).
pub async fn all(db: &Db, tenant: &str) -> sqlx::Result<Vec<AlarmRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM alarms WHERE tenant_id = $1 ORDER BY id"))
            .bind(tenant)
            .fetch_all(c)
            .await
    })
}

/// Adds an alarm unless one of its tenant, type and certificate exists (another evaluation
/// made it meanwhile).
pub async fn insert(db: &Db, tenant: &str, a: &AlarmRow) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query(
            "INSERT INTO alarms (tenant_id, type, fingerprint, serial_hex, not_after, source_id, source_name, device_id, \
                                 severity, status, cleared_by, text, count, creation_time, first_occurrence_time, time, \
                                 last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (tenant_id, type, fingerprint) DO NOTHING",
        )
        .bind(tenant)
        .bind(&a.r#type)
        .bind(&a.fingerprint)
        .bind(&a.serial_hex)
        .bind(&a.not_after)
        .bind(&a.source_id)
        .bind(&a.source_name)
        .bind(&a.device_id)
        .bind(&a.severity)
        .bind(&a.status)
        .bind(&a.cleared_by)
        .bind(&a.text)
        .bind(a.count)
        .bind(&a.creation_time)
        .bind(&a.first_occurrence_time)
        .bind(&a.time)
        .bind(&a.last_updated)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// Writes an alarm's changing fields, if it is still as `before` was read (an evaluation
/// running at the same time wrote it first otherwise: then nothing is written).
pub async fn update(db: &Db, tenant: &str, before: &AlarmRow, a: &AlarmRow) -> sqlx::Result<bool> {
    let n = with_conn!(db, |c| {
        sqlx::query(
            "UPDATE alarms SET serial_hex = $1, not_after = $2, source_id = $3, source_name = $4, device_id = $5, \
                               severity = $6, status = $7, cleared_by = $8, text = $9, count = $10, time = $11, \
                               last_updated = $12 \
             WHERE tenant_id = $13 AND id = $14 AND status = $15 AND severity = $16 AND count = $17 AND text = $18",
        )
        .bind(&a.serial_hex)
        .bind(&a.not_after)
        .bind(&a.source_id)
        .bind(&a.source_name)
        .bind(&a.device_id)
        .bind(&a.severity)
        .bind(&a.status)
        .bind(&a.cleared_by)
        .bind(&a.text)
        .bind(a.count)
        .bind(&a.time)
        .bind(&a.last_updated)
        .bind(tenant)
        .bind(before.id)
        .bind(&before.status)
        .bind(&before.severity)
        .bind(before.count)
        .bind(&before.text)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Deletes alarms of `tenant` by id (cleared ones whose certificate is gone, after a while).
pub async fn delete(db: &Db, tenant: &str, ids: &[i64]) -> sqlx::Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let n = with_conn!(db, |c| {
        let mut q = QueryBuilder::<DB>::new("DELETE FROM alarms WHERE tenant_id = ");
        q.push_bind(tenant).push(" AND id IN (");
        let mut list = q.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        q.push(")");
        q.build().execute(c).await?.rows_affected()
    });
    Ok(n)
}

/// Sets an alarm's status (a user's acknowledgement or clearing); `cleared_by` is `USER` when
/// cleared, else none. Returns the alarm as it is now, or `None` when it does not exist.
pub async fn set_status(
    db: &Db,
    tenant: &str,
    id: i64,
    status: &str,
    cleared_by: Option<&str>,
    now: &str,
) -> sqlx::Result<Option<AlarmRow>> {
    with_conn!(db, |c| {
        sqlx::query(
            "UPDATE alarms SET status = $1, cleared_by = $2, last_updated = $3 \
             WHERE tenant_id = $4 AND id = $5 AND status <> $1",
        )
        .bind(status)
        .bind(cleared_by)
        .bind(now)
        .bind(tenant)
        .bind(id)
        .execute(&mut *c)
        .await?;
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM alarms WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut *c)
            .await
    })
}

/// One alarm of `tenant`.
pub async fn find(db: &Db, tenant: &str, id: i64) -> sqlx::Result<Option<AlarmRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM alarms WHERE tenant_id = $1 AND id = $2"))
            .bind(tenant)
            .bind(id)
            .fetch_optional(c)
            .await
    })
}

/// Filters of the alarm list; empty lists do not filter.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub statuses: Vec<String>,
    pub severities: Vec<String>,
    pub types: Vec<String>,
    pub source: Option<String>,
    /// `resolved=true`: CLEARED only; `false`: all but CLEARED.
    pub resolved: Option<bool>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
}

fn push_filter<'a, B: sqlx::Database>(q: &mut QueryBuilder<'a, B>, tenant: &'a str, f: &'a Filter)
where
    &'a str: sqlx::Encode<'a, B> + sqlx::Type<B>,
{
    q.push(" WHERE tenant_id = ").push_bind(tenant);
    for (column, values) in [("status", &f.statuses), ("severity", &f.severities), ("type", &f.types)] {
        if !values.is_empty() {
            q.push(format!(" AND {column} IN ("));
            let mut list = q.separated(", ");
            for v in values {
                list.push_bind(v.as_str());
            }
            q.push(")");
        }
    }
    if let Some(s) = f.source.as_deref() {
        q.push(" AND source_id = ").push_bind(s);
    }
    match f.resolved {
        Some(true) => {
            q.push(" AND status = 'CLEARED'");
        }
        Some(false) => {
            q.push(" AND status <> 'CLEARED'");
        }
        None => {}
    }
    if let Some(d) = f.date_from.as_deref() {
        q.push(" AND time >= ").push_bind(d);
    }
    if let Some(d) = f.date_to.as_deref() {
        q.push(" AND time <= ").push_bind(d);
    }
}

/// One page of alarms matching `f`, the newest first (as the platform lists them).
pub async fn page(db: &Db, tenant: &str, f: &Filter, limit: u32, offset: u64) -> sqlx::Result<Vec<AlarmRow>> {
    with_conn!(db, |c| {
        let mut q = QueryBuilder::<DB>::new(format!("SELECT {COLUMNS} FROM alarms"));
        push_filter(&mut q, tenant, f);
        q.push(" ORDER BY time DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
        q.build_query_as().fetch_all(c).await
    })
}

/// How many alarms match `f`.
pub async fn count(db: &Db, tenant: &str, f: &Filter) -> sqlx::Result<u64> {
    let n: i64 = with_conn!(db, |c| {
        let mut q = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM alarms");
        push_filter(&mut q, tenant, f);
        q.build_query_scalar().fetch_one(c).await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}
