//! The JWT signing key, made once and shared through the database.

use super::Db;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub private_key: Vec<u8>,
    pub public_x: String,
    pub public_y: String,
}

/// Every signing key, oldest first.
pub async fn all(db: &Db) -> sqlx::Result<Vec<SigningKeyRow>> {
    sqlx::query_as("SELECT kid, private_key, public_x, public_y FROM signing_keys ORDER BY created_at, kid")
        .fetch_all(db)
        .await
}

/// Stores a key unless one exists already (several instances may start at once); the caller
/// then reads back whichever won.
pub async fn insert_first(db: &Db, row: &SigningKeyRow, now: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, algorithm, private_key, public_x, public_y, created_at) \
         SELECT ?, 'ES256', ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
    )
    .bind(&row.kid)
    .bind(&row.private_key)
    .bind(&row.public_x)
    .bind(&row.public_y)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces a key's stored private key (sealing a key kept in clear by an older version).
pub async fn set_private_key(db: &Db, kid: &str, private_key: &[u8]) -> sqlx::Result<()> {
    sqlx::query("UPDATE signing_keys SET private_key = ? WHERE kid = ?")
        .bind(private_key)
        .bind(kid)
        .execute(db)
        .await?;
    Ok(())
}
