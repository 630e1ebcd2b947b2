//! Queries for the tenant's own certificate authority ([`tenant_cas`]), the new device requests
//! that carry EST one-time passwords, and the certificates the CA issued.
//!
//! [`tenant_cas`]: ../../../migrations/sqlite/0012_tenant_ca_est.sql

use anchorage_common::api::CertificateUpload;

use super::{Db, Ex, Tx};

/// A tenant CA: its trusted certificate and its sealed key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaRow {
    pub certificate_id: i64,
    pub fingerprint: String,
    pub status: String,
    pub der: Vec<u8>,
    pub not_after: String,
    /// PKCS#8, sealed ([`crate::secrets::SecretBox`]).
    pub private_key: String,
    pub key_algorithm: String,
    pub is_current: bool,
}

const CA_COLUMNS: &str = "t.id AS certificate_id, t.fingerprint, t.status, t.der, t.not_after, c.private_key, \
                          c.key_algorithm, c.is_current";

/// `tenant`'s current CA (the one that signs), if it has one.
pub async fn current(ex: impl Into<Ex<'_>>, tenant: &str) -> sqlx::Result<Option<CaRow>> {
    let sql = format!(
        "SELECT {CA_COLUMNS} FROM tenant_cas c JOIN trusted_certificates t ON t.id = c.certificate_id \
         WHERE c.tenant_id = $1 AND c.is_current = TRUE"
    );
    with_conn!(ex.into(), |c| sqlx::query_as(&sql).bind(tenant).fetch_optional(c).await)
}

/// Every CA of `tenant`, the current one first, then the newest.
pub async fn all(ex: impl Into<Ex<'_>>, tenant: &str) -> sqlx::Result<Vec<CaRow>> {
    let sql = format!(
        "SELECT {CA_COLUMNS} FROM tenant_cas c JOIN trusted_certificates t ON t.id = c.certificate_id \
         WHERE c.tenant_id = $1 ORDER BY c.is_current DESC, t.id DESC"
    );
    with_conn!(ex.into(), |c| sqlx::query_as(&sql).bind(tenant).fetch_all(c).await)
}

/// Stores a new CA of `tenant` as its current one: the trusted certificate (checked upload)
/// and the key. The caller holds the tenant's CA lock and has made any earlier CA not current.
pub async fn insert(
    tx: &mut Tx,
    tenant: &str,
    up: &CertificateUpload,
    sealed_key: &str,
    key_algorithm: &str,
    now: &str,
) -> sqlx::Result<()> {
    super::trusted_certificates::insert(&mut *tx, tenant, up, now).await?;
    with_conn!(&mut *tx, |c| {
        sqlx::query(
            "INSERT INTO tenant_cas (certificate_id, tenant_id, private_key, key_algorithm, is_current, created_at) \
             SELECT id, $1, $2, $3, TRUE, $4 FROM trusted_certificates WHERE tenant_id = $1 AND fingerprint = $5",
        )
        .bind(tenant)
        .bind(sealed_key)
        .bind(key_algorithm)
        .bind(now)
        .bind(&up.info.fingerprint)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// Makes `tenant`'s current CA an earlier one (it stays trusted), before a rollover.
pub async fn retire_current(tx: &mut Tx, tenant: &str) -> sqlx::Result<u64> {
    Ok(with_conn!(&mut *tx, |c| {
        sqlx::query("UPDATE tenant_cas SET is_current = FALSE WHERE tenant_id = $1 AND is_current = TRUE")
            .bind(tenant)
            .execute(c)
            .await?
            .rows_affected()
    }))
}

/// Replaces the certificate of CA `certificate_id` by its renewal (same subject and key).
pub async fn renew(
    tx: &mut Tx,
    certificate_id: i64,
    info: &anchorage_common::CertificateInfo,
    now: &str,
) -> sqlx::Result<()> {
    with_conn!(&mut *tx, |c| {
        sqlx::query(
            "UPDATE trusted_certificates SET fingerprint = $1, der = $2, serial_number = $3, not_before = $4, \
             not_after = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(&info.fingerprint)
        .bind(&info.der)
        .bind(&info.serial_number)
        .bind(info.not_before_text())
        .bind(info.not_after_text())
        .bind(now)
        .bind(certificate_id)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// A new device request as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub device_id: String,
    pub status: String,
    pub device_type: Option<String>,
    pub name: Option<String>,
    pub group_id: Option<String>,
    pub otp_hash: Option<String>,
    /// Unix seconds.
    pub otp_expires_at: Option<i64>,
    pub owner: String,
    pub created_at: String,
}

const REQUEST_COLUMNS: &str =
    "device_id, status, device_type, name, group_id, otp_hash, otp_expires_at, owner, created_at";

/// Stores a request. With `replace`, one with the same id is replaced (bulk registration sets
/// a new password); without, it fails with a unique violation.
pub async fn insert_request(ex: impl Into<Ex<'_>>, tenant: &str, r: &RequestRow, replace: bool) -> sqlx::Result<()> {
    let on_conflict = if replace {
        " ON CONFLICT (tenant_id, device_id) DO UPDATE SET status = excluded.status, \
         device_type = excluded.device_type, name = excluded.name, group_id = excluded.group_id, \
         otp_hash = excluded.otp_hash, otp_expires_at = excluded.otp_expires_at, owner = excluded.owner, \
         created_at = excluded.created_at"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO new_device_requests (tenant_id, {REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)\
         {on_conflict}"
    );
    with_conn!(ex.into(), |c| {
        sqlx::query(&sql)
            .bind(tenant)
            .bind(&r.device_id)
            .bind(&r.status)
            .bind(&r.device_type)
            .bind(&r.name)
            .bind(&r.group_id)
            .bind(&r.otp_hash)
            .bind(r.otp_expires_at)
            .bind(&r.owner)
            .bind(&r.created_at)
            .execute(c)
            .await?;
    });
    Ok(())
}

/// One page of `tenant`'s requests, oldest first.
pub async fn requests(db: &Db, tenant: &str, limit: u32, offset: u64) -> sqlx::Result<Vec<RequestRow>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM new_device_requests WHERE tenant_id = $1 ORDER BY created_at, device_id \
         LIMIT $2 OFFSET $3"
    );
    with_conn!(db, |c| {
        sqlx::query_as(&sql)
            .bind(tenant)
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(c)
            .await
    })
}

/// How many requests `tenant` has.
pub async fn count_requests(db: &Db, tenant: &str) -> sqlx::Result<u64> {
    let n: i64 = with_conn!(db, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM new_device_requests WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(c)
            .await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The request for device `id`.
pub async fn request(ex: impl Into<Ex<'_>>, tenant: &str, id: &str) -> sqlx::Result<Option<RequestRow>> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM new_device_requests WHERE tenant_id = $1 AND device_id = $2");
    with_conn!(ex.into(), |c| sqlx::query_as(&sql).bind(tenant).bind(id).fetch_optional(c).await)
}

/// Deletes the request for device `id`; with `otp_hash`, only while it still carries that
/// password (so two enrollments with one password cannot both consume it). Returns whether
/// it was deleted.
pub async fn delete_request(
    ex: impl Into<Ex<'_>>,
    tenant: &str,
    id: &str,
    otp_hash: Option<&str>,
) -> sqlx::Result<bool> {
    let n = with_conn!(ex.into(), |c| {
        sqlx::query(
            "DELETE FROM new_device_requests WHERE tenant_id = $1 AND device_id = $2 \
             AND (CAST($3 AS TEXT) IS NULL OR otp_hash = $3)",
        )
        .bind(tenant)
        .bind(id)
        .bind(otp_hash)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// A certificate the tenant CA issued.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssuedRow {
    /// The order of issue (0 for a row not stored yet).
    pub id: i64,
    pub serial_hex: String,
    pub device_id: String,
    pub fingerprint: String,
    pub ca_id: i64,
    pub ca_fingerprint: String,
    pub not_before: String,
    pub not_after: String,
    /// The certificate (DER).
    pub der: Vec<u8>,
    /// With `REENROLL`: the fingerprint of the certificate that asked for it.
    pub parent: Option<String>,
    /// `ENROLL` or `REENROLL`.
    pub how: String,
    /// Unix milliseconds.
    pub issued_at: i64,
    pub first_used_at: Option<String>,
}

const ISSUED_COLUMNS: &str = "id, serial_hex, device_id, fingerprint, ca_id, ca_fingerprint, not_before, not_after, der, \
                              parent, how, issued_at, first_used_at";

/// Certificates kept per device: the newest (older ones stay valid; they are only no longer
/// listed). With at most [`MAX_REENROLLMENTS_PER_DAY`] a day, that is at least ten days of a
/// device re-enrolling as fast as it may.
pub const ISSUED_KEPT_PER_DEVICE: i64 = 100;
/// Most certificates re-enrollment issues one device in 24 hours (a device renews once in
/// months; a few retries of a lost answer are re-delivered, not issued again).
pub const MAX_REENROLLMENTS_PER_DAY: u64 = 10;

/// Records an issued certificate and forgets the device's oldest beyond
/// [`ISSUED_KEPT_PER_DEVICE`]. A serial issued before fails with a unique violation.
pub async fn insert_issued(ex: impl Into<Ex<'_>>, tenant: &str, r: &IssuedRow) -> sqlx::Result<()> {
    with_conn!(ex.into(), |c| {
        sqlx::query(&format!(
            "INSERT INTO issued_certificates (tenant_id, {}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            &ISSUED_COLUMNS["id, ".len()..]
        ))
        .bind(tenant)
        .bind(&r.serial_hex)
        .bind(&r.device_id)
        .bind(&r.fingerprint)
        .bind(r.ca_id)
        .bind(&r.ca_fingerprint)
        .bind(&r.not_before)
        .bind(&r.not_after)
        .bind(&r.der)
        .bind(&r.parent)
        .bind(&r.how)
        .bind(r.issued_at)
        .bind(&r.first_used_at)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "DELETE FROM issued_certificates WHERE tenant_id = $1 AND device_id = $2 AND id NOT IN \
             (SELECT id FROM issued_certificates WHERE tenant_id = $1 AND device_id = $2 ORDER BY id DESC LIMIT $3)",
        )
        .bind(tenant)
        .bind(&r.device_id)
        .bind(ISSUED_KEPT_PER_DEVICE)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// The certificates issued to device `id`, newest first.
pub async fn issued(db: &Db, tenant: &str, device_id: &str) -> sqlx::Result<Vec<IssuedRow>> {
    let sql = format!(
        "SELECT {ISSUED_COLUMNS} FROM issued_certificates WHERE tenant_id = $1 AND device_id = $2 \
         ORDER BY id DESC"
    );
    with_conn!(db, |c| sqlx::query_as(&sql).bind(tenant).bind(device_id).fetch_all(c).await)
}

/// The issued certificate with `fingerprint` in `tenant`, if the tenant CA issued it.
pub async fn issued_by_fingerprint(
    ex: impl Into<Ex<'_>>,
    tenant: &str,
    fingerprint: &str,
) -> sqlx::Result<Option<IssuedRow>> {
    let sql = format!("SELECT {ISSUED_COLUMNS} FROM issued_certificates WHERE tenant_id = $1 AND fingerprint = $2");
    with_conn!(ex.into(), |c| sqlx::query_as(&sql).bind(tenant).bind(fingerprint).fetch_optional(c).await)
}

/// Records the first use (a token) of the issued certificate with `fingerprint`.
pub async fn mark_used(db: &Db, tenant: &str, fingerprint: &str, now: &str) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query(
            "UPDATE issued_certificates SET first_used_at = $1 WHERE tenant_id = $2 AND fingerprint = $3 \
             AND first_used_at IS NULL",
        )
        .bind(now)
        .bind(tenant)
        .bind(fingerprint)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// How many certificates re-enrollment issued device `device_id` since `since_ms` (unix ms).
pub async fn reenrollments_since(db: &Db, tenant: &str, device_id: &str, since_ms: i64) -> sqlx::Result<u64> {
    let n: i64 = with_conn!(db, |c| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM issued_certificates WHERE tenant_id = $1 AND device_id = $2 AND how = 'REENROLL' \
             AND issued_at >= $3",
        )
        .bind(tenant)
        .bind(device_id)
        .bind(since_ms)
        .fetch_one(c)
        .await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The certificate a device's token was issued for (its fingerprint).
pub async fn token_certificate(db: &Db, jti: &str) -> sqlx::Result<Option<String>> {
    let found: Option<Option<String>> = with_conn!(db, |c| {
        sqlx::query_scalar("SELECT cert_fingerprint FROM device_tokens WHERE jti = $1")
            .bind(jti)
            .fetch_optional(c)
            .await?
    });
    Ok(found.flatten())
}
