//! Queries for device users and the tokens issued to them.

use super::Db;

/// A device user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceUserRow {
    pub tenant_id: String,
    pub user_name: String,
    pub device_id: String,
    pub auth_type: String,
    pub registered_by: String,
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

pub async fn find_user(db: &Db, tenant: &str, user_name: &str) -> sqlx::Result<Option<DeviceUserRow>> {
    sqlx::query_as(
        "SELECT tenant_id, user_name, device_id, auth_type, registered_by FROM device_users WHERE tenant_id = ? AND user_name = ?",
    )
    .bind(tenant)
    .bind(user_name)
    .fetch_optional(db)
    .await
}

/// The newest unrevoked token of a device user that is still valid at `now` (unix seconds).
pub async fn current_token(db: &Db, tenant: &str, user_name: &str, now: i64) -> sqlx::Result<Option<TokenRow>> {
    sqlx::query_as(
        "SELECT jti, token, issued_at, expires_at, revoked FROM device_tokens \
         WHERE tenant_id = ? AND user_name = ? AND revoked = 0 AND expires_at > ? AND issued_at <= ? \
         ORDER BY issued_at DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(user_name)
    .bind(now)
    .bind(now)
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
    let mut tx = db.begin().await?;
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
pub async fn record_use<'e, E: sqlx::SqliteExecutor<'e>>(executor: E, t: &Issue<'_>) -> sqlx::Result<()> {
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
