//! Queries for trusted certificates.

use anchorage_common::api::{CertificateChanges, CertificateStatus, CertificateUpload};

use super::{Db, Ex};

/// A stored trusted certificate, with the fields the platform computes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertificateRow {
    pub fingerprint: String,
    pub name: String,
    pub status: String,
    pub auto_registration_enabled: bool,
    pub der: Vec<u8>,
    pub serial_number: String,
    pub version: i64,
    pub algorithm_name: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    /// The proof-of-possession code to sign, once generated.
    pub pop_code: Option<String>,
    /// Until when `pop_code` can be used (the platform's date format).
    pub pop_code_usable_until: Option<String>,
    /// Whether possession of the private key was proven (or confirmed by an admin).
    pub pop_valid: bool,
    /// Whether it is a CA of the tenant's own (`tenant_cas`), whose key anchorage holds.
    pub tenant_ca: bool,
}

const COLUMNS: &str = "fingerprint, name, status, auto_registration_enabled, der, serial_number, version, \
                       algorithm_name, subject, issuer, not_before, not_after, pop_code, pop_code_usable_until, \
                       pop_valid, \
                       EXISTS (SELECT 1 FROM tenant_cas WHERE certificate_id = trusted_certificates.id) AS tenant_ca";

/// One page of `tenant`'s certificates in upload order; with `only_tenant_ca`, of its own CAs.
pub async fn page(
    db: &Db,
    tenant: &str,
    limit: u32,
    offset: u64,
    only_tenant_ca: bool,
) -> sqlx::Result<Vec<CertificateRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM trusted_certificates WHERE tenant_id = $1 {} ORDER BY id LIMIT $2 OFFSET $3",
        if only_tenant_ca { ONLY_TENANT_CA } else { "" }
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

/// The condition that keeps a tenant's own CAs.
const ONLY_TENANT_CA: &str = "AND id IN (SELECT certificate_id FROM tenant_cas)";

/// How many certificates `tenant` has (with `only_tenant_ca`, own CAs).
pub async fn count(db: &Db, tenant: &str, only_tenant_ca: bool) -> sqlx::Result<u64> {
    let sql = format!(
        "SELECT COUNT(*) FROM trusted_certificates WHERE tenant_id = $1 {}",
        if only_tenant_ca { ONLY_TENANT_CA } else { "" }
    );
    let n: i64 = with_conn!(db, |c| sqlx::query_scalar(&sql).bind(tenant).fetch_one(c).await?);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// How many device users of `tenant` last got a token through the trusted certificate
/// `fingerprint` (`device_users.last_ca_fingerprint`).
pub async fn devices_through(db: &Db, tenant: &str, fingerprint: &str) -> sqlx::Result<u64> {
    let n: i64 = with_conn!(db, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM device_users WHERE tenant_id = $1 AND last_ca_fingerprint = $2")
            .bind(tenant)
            .bind(fingerprint)
            .fetch_one(c)
            .await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The certificate with `fingerprint` in `tenant`.
pub async fn find(ex: impl Into<Ex<'_>>, tenant: &str, fingerprint: &str) -> sqlx::Result<Option<CertificateRow>> {
    let sql = format!("SELECT {COLUMNS} FROM trusted_certificates WHERE tenant_id = $1 AND fingerprint = $2");
    with_conn!(ex.into(), |c| sqlx::query_as(&sql).bind(tenant).bind(fingerprint).fetch_optional(c).await)
}

/// Inserts a checked upload. A fingerprint that exists anywhere fails with a unique violation.
pub async fn insert(ex: impl Into<Ex<'_>>, tenant: &str, up: &CertificateUpload, now: &str) -> sqlx::Result<()> {
    let i = &up.info;
    with_conn!(ex.into(), |c| {
        sqlx::query(
            "INSERT INTO trusted_certificates (tenant_id, fingerprint, name, status, auto_registration_enabled, der, \
             serial_number, version, algorithm_name, subject, issuer, not_before, not_after, subject_der, \
             subject_key_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
        )
        .bind(tenant)
        .bind(&i.fingerprint)
        .bind(&up.name)
        .bind(up.status.as_str())
        .bind(up.auto_registration_enabled)
        .bind(&i.der)
        .bind(&i.serial_number)
        .bind(i64::from(i.version))
        .bind(&i.algorithm_name)
        .bind(&i.subject)
        .bind(&i.issuer)
        .bind(i.not_before_text())
        .bind(i.not_after_text())
        .bind(&i.subject_der)
        .bind(&i.subject_key_id)
        .bind(now)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// Applies a partial update in one statement; returns whether the certificate exists.
pub async fn update(
    ex: impl Into<Ex<'_>>,
    tenant: &str,
    fingerprint: &str,
    c: &CertificateChanges,
    now: &str,
) -> sqlx::Result<bool> {
    let changes = c;
    let updated = with_conn!(ex.into(), |c| {
        sqlx::query(
            "UPDATE trusted_certificates SET name = COALESCE($1, name), status = COALESCE($2, status), \
             auto_registration_enabled = COALESCE($3, auto_registration_enabled), updated_at = $4 \
             WHERE tenant_id = $5 AND fingerprint = $6",
        )
        .bind(changes.name.as_deref())
        .bind(changes.status.map(CertificateStatus::as_str))
        .bind(changes.auto_registration_enabled)
        .bind(now)
        .bind(tenant)
        .bind(fingerprint)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(updated == 1)
}

/// Stores a new proof-of-possession code for the certificate, replacing any earlier one;
/// returns whether the certificate exists.
pub async fn set_pop_code(
    db: &Db,
    tenant: &str,
    fingerprint: &str,
    code: &str,
    usable_until: &str,
    now: &str,
) -> sqlx::Result<bool> {
    let updated = with_conn!(db, |c| {
        sqlx::query(
            "UPDATE trusted_certificates SET pop_code = $1, pop_code_usable_until = $2, updated_at = $3 \
             WHERE tenant_id = $4 AND fingerprint = $5",
        )
        .bind(code)
        .bind(usable_until)
        .bind(now)
        .bind(tenant)
        .bind(fingerprint)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(updated == 1)
}

/// Marks the certificate's proof of possession valid and drops its code (used once). With
/// `code` given, only while that code is still the stored one (a code regenerated meanwhile
/// wins); returns whether a row was changed.
pub async fn set_pop_valid(
    db: &Db,
    tenant: &str,
    fingerprint: &str,
    code: Option<&str>,
    now: &str,
) -> sqlx::Result<bool> {
    let updated = with_conn!(db, |c| {
        sqlx::query(
            "UPDATE trusted_certificates SET pop_valid = TRUE, pop_code = NULL, pop_code_usable_until = NULL, \
             updated_at = $1 WHERE tenant_id = $2 AND fingerprint = $3 AND (CAST($4 AS TEXT) IS NULL OR pop_code = $4)",
        )
        .bind(now)
        .bind(tenant)
        .bind(fingerprint)
        .bind(code)
        .execute(c)
        .await?
        .rows_affected()
    });
    Ok(updated == 1)
}

/// Deletes a certificate; returns whether it existed.
pub async fn delete(ex: impl Into<Ex<'_>>, tenant: &str, fingerprint: &str) -> sqlx::Result<bool> {
    let deleted = with_conn!(ex.into(), |c| {
        sqlx::query("DELETE FROM trusted_certificates WHERE tenant_id = $1 AND fingerprint = $2")
            .bind(tenant)
            .bind(fingerprint)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(deleted == 1)
}

/// A trusted certificate considered as an anchor for a device chain.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnchorRow {
    pub tenant_id: String,
    pub fingerprint: String,
    pub name: String,
    pub status: String,
    pub auto_registration_enabled: bool,
    pub der: Vec<u8>,
    pub not_after: String,
}
