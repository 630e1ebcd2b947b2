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
}

/// A trusted certificate that may anchor a device's chain, read together with what the token
/// endpoint needs from that certificate's tenant: the device user's state and the token
/// lifespan option.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub anchor: AnchorRow,
    /// The device user in the anchor's tenant; `None` when not registered there.
    pub device: Option<DeviceState>,
    /// The tenant's stored `oauth.internal` / `device-token.lifespan.seconds`, if set.
    pub lifespan: Option<String>,
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
    lifespan: Option<String>,
}

/// The trusted certificates (of any tenant, enabled or not) whose subject is one of `subjects`
/// (DER names), each with the device user `user_name` of its tenant and that user's newest
/// unrevoked token valid at `now` (unix seconds), and the tenant's token lifespan: the token
/// endpoint's reads in one round trip. Uses the subject index, so the cost does not grow with
/// the number of CAs.
pub async fn candidates(
    db: &mut sqlx::SqliteConnection,
    subjects: &[Vec<u8>],
    user_name: &str,
    now: i64,
) -> sqlx::Result<Vec<Candidate>> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; subjects.len()].join(", ");
    let sql = format!(
        "SELECT c.tenant_id, c.fingerprint, c.name, c.status, c.auto_registration_enabled, c.der, c.not_after, \
                u.auth_type, t.jti, t.token_sealed, t.issued_at, t.expires_at, o.value AS lifespan \
         FROM trusted_certificates c \
         LEFT JOIN device_users u ON u.tenant_id = c.tenant_id AND u.user_name = ? \
         LEFT JOIN device_tokens t ON t.jti = ( \
             SELECT jti FROM device_tokens WHERE tenant_id = u.tenant_id AND user_name = u.user_name \
             AND revoked = 0 AND expires_at > ? AND issued_at <= ? ORDER BY issued_at DESC LIMIT 1) \
         LEFT JOIN tenant_options o ON o.tenant_id = c.tenant_id AND o.category = ? AND o.key = ? \
         WHERE c.subject_der IN ({marks}) ORDER BY c.id"
    );
    let mut q = sqlx::query_as::<_, CandidateRow>(&sql)
        .bind(user_name)
        .bind(now)
        .bind(now)
        .bind(OAUTH_INTERNAL)
        .bind(DEVICE_TOKEN_LIFESPAN);
    for s in subjects {
        q = q.bind(s);
    }
    let rows = q.fetch_all(db).await?;
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            anchor: r.anchor,
            device: r.auth_type.map(|auth_type| DeviceState {
                auth_type,
                token: r.jti.zip(r.token_sealed),
                issued_at: r.issued_at,
                expires_at: r.expires_at,
            }),
            lifespan: r.lifespan,
        })
        .collect())
}

/// A token by its id.
pub async fn token(db: &Db, jti: &str) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(
        "SELECT jti, tenant_id, user_name, token_hash, issued_at, expires_at, revoked FROM device_tokens WHERE jti = ?",
    )
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
}

/// Stores a new token, drops the user's expired ones, and records what the device used — in
/// one transaction.
pub async fn store_token(db: &Db, t: &Issue<'_>) -> sqlx::Result<()> {
    // IMMEDIATE: concurrent first requests wait for the write lock instead of failing.
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM device_tokens WHERE tenant_id = ? AND user_name = ? AND expires_at <= ?")
        .bind(t.tenant)
        .bind(t.user_name)
        .bind(t.issued_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO device_tokens (jti, tenant_id, user_name, token_hash, token_sealed, issued_at, expires_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.jti)
    .bind(t.tenant)
    .bind(t.user_name)
    .bind(t.token_hash)
    .bind(t.token_sealed)
    .bind(t.issued_at)
    .bind(t.expires_at)
    .execute(&mut *tx)
    .await?;
    record_use(&mut *tx, t).await?;
    tx.commit().await
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
