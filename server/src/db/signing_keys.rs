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
    with_conn!(db, |c| {
        sqlx::query_as("SELECT kid, private_key, public_x, public_y FROM signing_keys ORDER BY created_at, kid")
            .fetch_all(c)
            .await
    })
}

/// Stores a key unless one exists already (several instances may start at once); the caller
/// then reads back whichever won. On PostgreSQL the table is locked for the statement's
/// transaction, so that two instances cannot both find it empty (SQLite's single writer does
/// that already).
pub async fn insert_first(db: &Db, row: &SigningKeyRow, now: &str) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    with_conn!(&mut tx, |c| {
        if PG {
            sqlx::query("LOCK TABLE signing_keys IN EXCLUSIVE MODE").execute(&mut *c).await?;
        }
        sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_x, public_y, created_at) \
             SELECT $1, 'ES256', $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM signing_keys)",
        )
        .bind(&row.kid)
        .bind(&row.private_key)
        .bind(&row.public_x)
        .bind(&row.public_y)
        .bind(now)
        .execute(&mut *c)
        .await?;
    });
    tx.commit().await?;
    Ok(())
}

/// Replaces a key's stored private key (sealing a key kept in clear by an older version).
pub async fn set_private_key(db: &Db, kid: &str, private_key: &[u8]) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
            .bind(private_key)
            .bind(kid)
            .execute(c)
            .await?;
    });
    Ok(())
}
