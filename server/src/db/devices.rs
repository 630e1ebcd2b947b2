//! Queries for device users and the tokens issued to them.

use super::Db;

/// A device user and its current token, read in one query.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceState {
    pub auth_type: String,
    /// The newest unrevoked token still valid at the time asked, if any.
    pub token: Option<String>,
    pub issued_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// A device token as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub jti: String,
    pub token: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
}

/// The device user `user_name` of `tenant` with its newest unrevoked token valid at `now`
/// (unix seconds): one round trip on the token endpoint's hot path.
pub async fn state(db: &Db, tenant: &str, user_name: &str, now: i64) -> sqlx::Result<Option<DeviceState>> {
    sqlx::query_as(
        "SELECT u.auth_type, t.token, t.issued_at, t.expires_at FROM device_users u \
         LEFT JOIN device_tokens t ON t.jti = ( \
             SELECT jti FROM device_tokens WHERE tenant_id = u.tenant_id AND user_name = u.user_name \
             AND revoked = 0 AND expires_at > ? AND issued_at <= ? ORDER BY issued_at DESC LIMIT 1) \
         WHERE u.tenant_id = ? AND u.user_name = ?",
    )
    .bind(now)
    .bind(now)
    .bind(tenant)
    .bind(user_name)
    .fetch_optional(db)
    .await
}

/// A token by its id.
pub async fn token(db: &Db, jti: &str) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as("SELECT jti, token, issued_at, expires_at, revoked FROM device_tokens WHERE jti = ?")
        .bind(jti)
        .fetch_optional(db)
        .await
}

/// What the device presented when it got a token.
pub struct Issue<'a> {
    pub tenant: &'a str,
    pub user_name: &'a str,
    pub jti: &'a str,
    pub token: &'a str,
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
    sqlx::query("INSERT INTO device_tokens (jti, tenant_id, user_name, token, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(t.jti)
        .bind(t.tenant)
        .bind(t.user_name)
        .bind(t.token)
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
    let done = sqlx::query("UPDATE device_tokens SET revoked = 1 WHERE jti = ? AND revoked = 0").bind(jti).execute(db).await?;
    Ok(done.rows_affected() == 1)
}
