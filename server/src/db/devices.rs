//! Queries for device users and the tokens issued to them.

use anchorage_common::options::{DEVICE_TOKEN_LIFESPAN, OAUTH_INTERNAL};

use super::Db;
use super::trusted_certificates::AnchorRow;

/// A device user and its current token.
#[derive(Debug, Clone)]
pub struct DeviceState {
    pub auth_type: String,
    /// The newest unrevoked token still valid at the time asked, if any: its id and the token
    /// sealed with the secret key.
    pub token: Option<(String, String)>,
    pub issued_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The fingerprint of the certificate that token was issued for.
    pub token_cert_fingerprint: Option<String>,
}

/// A device token as stored: its SHA-256, never the token itself.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub jti: String,
    pub tenant_id: String,
    pub user_name: String,
    pub token_hash: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
    /// The serial of the certificate it was issued for is in the tenant's revocation list,
    /// and the tenant's offline check is on.
    pub certificate_revoked: bool,
}

/// A candidate tenant's revocation switches, and whether the device certificate is in its list.
#[derive(Debug, Clone, Default)]
pub struct Revocation {
    pub offline: bool,
    pub online: bool,
    pub online_fail_open: bool,
    /// The revocation date of the device certificate's serial in the tenant's list.
    pub revoked_at: Option<String>,
}

/// A trusted certificate that may anchor a device's chain, read together with what the token
/// endpoint needs from that certificate's tenant: the device user's state, the token lifespan
/// option and the revocation switches and entry.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub anchor: AnchorRow,
    /// The device user in the anchor's tenant; `None` when not registered there.
    pub device: Option<DeviceState>,
    /// The tenant's stored `oauth.internal` / `device-token.lifespan.seconds`, if set.
    pub lifespan: Option<String>,
    pub revocation: Revocation,
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    #[sqlx(flatten)]
    anchor: AnchorRow,
    auth_type: Option<String>,
    jti: Option<String>,
    token_sealed: Option<String>,
    issued_at: Option<i64>,
    expires_at: Option<i64>,
    token_cert_fingerprint: Option<String>,
    lifespan: Option<String>,
    crl_offline: Option<String>,
    crl_online: Option<String>,
    crl_fail_open: Option<String>,
    revoked_at: Option<String>,
}

/// What the token endpoint looks up.
pub struct CandidateQuery<'a> {
    /// DER names of the issuers in the presented chain.
    pub subjects: &'a [Vec<u8>],
    /// The device user named after the leaf's CN.
    pub user_name: &'a str,
    /// The leaf's serial, normalized hex.
    pub serial_hex: &'a str,
    /// Only this tenant's trusted certificates (the chain doctor), or every tenant's.
    pub tenant: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

/// The trusted certificates (of any tenant, or of `q.tenant`, enabled or not) whose subject is
/// one of `q.subjects` (DER names), each with the device user `q.user_name` of its tenant and
/// that user's newest unrevoked token valid at `q.now`, the tenant's token lifespan, its
/// revocation switches and the revocation entry of the leaf's serial: the token endpoint's
/// reads in one round trip. Every join is a primary-key or index look-up, so the cost grows
/// neither with the number of CAs nor with the number of revoked serials.
pub async fn candidates(db: &mut sqlx::SqliteConnection, q: &CandidateQuery<'_>) -> sqlx::Result<Vec<Candidate>> {
    use anchorage_common::options::{CONFIGURATION, CRL_OFFLINE_CHECK, CRL_ONLINE_CHECK, CRL_ONLINE_FAIL_OPEN};
    if q.subjects.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; q.subjects.len()].join(", ");
    let sql = format!(
        "SELECT c.tenant_id, c.fingerprint, c.name, c.status, c.auto_registration_enabled, c.der, c.not_after, \
                u.auth_type, t.jti, t.token_sealed, t.issued_at, t.expires_at, \
                t.cert_fingerprint AS token_cert_fingerprint, o.value AS lifespan, \
                off.value AS crl_offline, onl.value AS crl_online, fo.value AS crl_fail_open, \
                r.revocation_date AS revoked_at \
         FROM trusted_certificates c \
         LEFT JOIN device_users u ON u.tenant_id = c.tenant_id AND u.user_name = ? \
         LEFT JOIN device_tokens t ON t.jti = ( \
             SELECT jti FROM device_tokens WHERE tenant_id = u.tenant_id AND user_name = u.user_name \
             AND revoked = 0 AND expires_at > ? AND issued_at <= ? ORDER BY issued_at DESC LIMIT 1) \
         LEFT JOIN tenant_options o ON o.tenant_id = c.tenant_id AND o.category = ? AND o.key = ? \
         LEFT JOIN tenant_options off ON off.tenant_id = c.tenant_id AND off.category = ? AND off.key = ? \
         LEFT JOIN tenant_options onl ON onl.tenant_id = c.tenant_id AND onl.category = ? AND onl.key = ? \
         LEFT JOIN tenant_options fo ON fo.tenant_id = c.tenant_id AND fo.category = ? AND fo.key = ? \
         LEFT JOIN crl_entries r ON r.tenant_id = c.tenant_id AND r.serial_hex = ? \
         WHERE c.subject_der IN ({marks}) AND (? IS NULL OR c.tenant_id = ?) ORDER BY c.id"
    );
    let mut query = sqlx::query_as::<_, CandidateRow>(&sql)
        .bind(q.user_name)
        .bind(q.now)
        .bind(q.now)
        .bind(OAUTH_INTERNAL)
        .bind(DEVICE_TOKEN_LIFESPAN);
    for key in [CRL_OFFLINE_CHECK, CRL_ONLINE_CHECK, CRL_ONLINE_FAIL_OPEN] {
        query = query.bind(CONFIGURATION).bind(key);
    }
    query = query.bind(q.serial_hex);
    for s in q.subjects {
        query = query.bind(s);
    }
    let rows = query.bind(q.tenant).bind(q.tenant).fetch_all(db).await?;
    let on = |v: &Option<String>| anchorage_common::options::switch_on(v.as_deref());
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            revocation: Revocation {
                offline: on(&r.crl_offline),
                online: on(&r.crl_online),
                online_fail_open: on(&r.crl_fail_open),
                revoked_at: r.revoked_at,
            },
            anchor: r.anchor,
            device: r.auth_type.map(|auth_type| DeviceState {
                auth_type,
                token: r.jti.zip(r.token_sealed),
                issued_at: r.issued_at,
                expires_at: r.expires_at,
                token_cert_fingerprint: r.token_cert_fingerprint,
            }),
            lifespan: r.lifespan,
        })
        .collect())
}

/// A token by its id, and whether the certificate it was issued for has been revoked since
/// (its serial in the tenant's list, with the offline check on): revocation takes effect at
/// the token's next use.
pub async fn token(db: &Db, jti: &str) -> sqlx::Result<Option<TokenRow>> {
    use anchorage_common::options::{CONFIGURATION, CRL_OFFLINE_CHECK};
    sqlx::query_as(
        "SELECT t.jti, t.tenant_id, t.user_name, t.token_hash, t.issued_at, t.expires_at, t.revoked, \
                (r.serial_hex IS NOT NULL AND lower(trim(o.value)) = 'true') AS certificate_revoked \
         FROM device_tokens t \
         LEFT JOIN crl_entries r ON r.tenant_id = t.tenant_id AND r.serial_hex = t.cert_serial_hex \
         LEFT JOIN tenant_options o ON o.tenant_id = t.tenant_id AND o.category = ? AND o.key = ? \
         WHERE t.jti = ?",
    )
    .bind(CONFIGURATION)
    .bind(CRL_OFFLINE_CHECK)
    .bind(jti)
    .fetch_optional(db)
    .await
}

/// What the device presented when it got a token.
pub struct Issue<'a> {
    pub tenant: &'a str,
    pub user_name: &'a str,
    pub jti: &'a str,
    /// SHA-256 of the token (hex).
    pub token_hash: &'a str,
    /// The token sealed with the secret key.
    pub token_sealed: &'a str,
    pub issued_at: i64,
    pub expires_at: i64,
    pub now_text: &'a str,
    pub cert_serial: &'a str,
    pub cert_fingerprint: &'a str,
    pub ca_fingerprint: &'a str,
    /// The device certificate, kept among the device's provisioned certificates.
    pub certificate: &'a anchorage_common::CertificateInfo,
}

/// How many certificates a device's provisioned certificates keep (the platform keeps 5).
pub const PROVISIONED_KEPT: i64 = 5;

/// Stores a new token, drops the user's expired ones, and records what the device used — in
/// one transaction.
/// Returns whether the device certificate is new among the device's provisioned certificates.
pub async fn store_token(db: &Db, t: &Issue<'_>) -> sqlx::Result<bool> {
    // IMMEDIATE: concurrent first requests wait for the write lock instead of failing.
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM device_tokens WHERE tenant_id = ? AND user_name = ? AND expires_at <= ?")
        .bind(t.tenant)
        .bind(t.user_name)
        .bind(t.issued_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO device_tokens (jti, tenant_id, user_name, token_hash, token_sealed, issued_at, expires_at, \
                                    cert_serial_hex, cert_fingerprint) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.jti)
    .bind(t.tenant)
    .bind(t.user_name)
    .bind(t.token_hash)
    .bind(t.token_sealed)
    .bind(t.issued_at)
    .bind(t.expires_at)
    .bind(&t.certificate.serial_hex)
    .bind(&t.certificate.fingerprint)
    .execute(&mut *tx)
    .await?;
    record_use(&mut *tx, t).await?;
    let new = record_provisioned(&mut tx, t).await?;
    tx.commit().await?;
    Ok(new)
}

/// Keeps the device certificate among the device's provisioned certificates: the last
/// [`PROVISIONED_KEPT`] it used for a new token. Returns whether it was not kept already.
async fn record_provisioned(tx: &mut sqlx::SqliteConnection, t: &Issue<'_>) -> sqlx::Result<bool> {
    let c = t.certificate;
    let known: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM provisioned_certificates WHERE tenant_id = ? AND user_name = ? AND fingerprint = ?",
    )
    .bind(t.tenant)
    .bind(t.user_name)
    .bind(&c.fingerprint)
    .fetch_optional(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO provisioned_certificates (tenant_id, user_name, fingerprint, serial_number, serial_hex, subject, \
                                               issuer, not_before, not_after, first_used_at, last_used_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (tenant_id, user_name, fingerprint) DO UPDATE SET last_used_at = excluded.last_used_at",
    )
    .bind(t.tenant)
    .bind(t.user_name)
    .bind(&c.fingerprint)
    .bind(&c.serial_number)
    .bind(&c.serial_hex)
    .bind(&c.subject)
    .bind(&c.issuer)
    .bind(c.not_before_text())
    .bind(c.not_after_text())
    .bind(t.now_text)
    .bind(t.now_text)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM provisioned_certificates WHERE tenant_id = ? AND user_name = ? AND fingerprint NOT IN ( \
             SELECT fingerprint FROM provisioned_certificates WHERE tenant_id = ? AND user_name = ? \
             ORDER BY last_used_at DESC, fingerprint LIMIT ?)",
    )
    .bind(t.tenant)
    .bind(t.user_name)
    .bind(t.tenant)
    .bind(t.user_name)
    .bind(PROVISIONED_KEPT)
    .execute(&mut *tx)
    .await?;
    Ok(known.is_none())
}

/// A certificate a device used for a token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProvisionedRow {
    pub fingerprint: String,
    pub serial_number: String,
    pub serial_hex: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub first_used_at: String,
    pub last_used_at: String,
}

/// The device's provisioned certificates, the most recently used first.
pub async fn provisioned(db: &Db, tenant: &str, user_name: &str) -> sqlx::Result<Vec<ProvisionedRow>> {
    sqlx::query_as(
        "SELECT fingerprint, serial_number, serial_hex, subject, issuer, not_before, not_after, first_used_at, \
                last_used_at \
         FROM provisioned_certificates WHERE tenant_id = ? AND user_name = ? ORDER BY last_used_at DESC, fingerprint",
    )
    .bind(tenant)
    .bind(user_name)
    .fetch_all(db)
    .await
}

/// A device user: its external id and how it authenticates.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceUserRow {
    pub user_name: String,
    pub device_id: String,
    pub auth_type: String,
    pub created_at: String,
}

/// A device user of `tenant` by name.
pub async fn device_user(db: &Db, tenant: &str, user_name: &str) -> sqlx::Result<Option<DeviceUserRow>> {
    sqlx::query_as(
        "SELECT user_name, device_id, auth_type, created_at FROM device_users WHERE tenant_id = ? AND user_name = ?",
    )
    .bind(tenant)
    .bind(user_name)
    .fetch_optional(db)
    .await
}

/// Records the certificate a device last authenticated with.
async fn record_use<'e, E: sqlx::SqliteExecutor<'e>>(executor: E, t: &Issue<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE device_users SET last_token_at = ?, last_cert_serial = ?, last_cert_fingerprint = ?, last_ca_fingerprint = ? \
         WHERE tenant_id = ? AND user_name = ?",
    )
    .bind(t.now_text)
    .bind(t.cert_serial)
    .bind(t.cert_fingerprint)
    .bind(t.ca_fingerprint)
    .bind(t.tenant)
    .bind(t.user_name)
    .execute(executor)
    .await?;
    Ok(())
}

/// Revokes every token of `tenant` issued for the certificate `fingerprint` (its CRL lists it).
pub async fn revoke_for_certificate(db: &Db, tenant: &str, fingerprint: &str) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "UPDATE device_tokens SET revoked = 1 WHERE tenant_id = ? AND cert_fingerprint = ? AND revoked = 0",
    )
    .bind(tenant)
    .bind(fingerprint)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Revokes a token; returns whether it existed unrevoked.
pub async fn revoke(db: &Db, jti: &str) -> sqlx::Result<bool> {
    let done =
        sqlx::query("UPDATE device_tokens SET revoked = 1 WHERE jti = ? AND revoked = 0").bind(jti).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Tokens stored in clear by an older version: `(jti, token)`.
pub async fn unsealed_tokens(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT jti, token_sealed FROM device_tokens WHERE token_hash IS NULL").fetch_all(db).await
}

/// Replaces a token kept in clear by its hash and its sealed form.
pub async fn seal_token(db: &Db, jti: &str, hash: &str, sealed: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE device_tokens SET token_hash = ?, token_sealed = ? WHERE jti = ? AND token_hash IS NULL")
        .bind(hash)
        .bind(sealed)
        .bind(jti)
        .execute(db)
        .await?;
    Ok(())
}
