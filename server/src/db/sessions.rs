//! Browser and API sessions. Only a SHA-256 of each session token is stored.

use super::Db;

/// A stored session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub tenant_id: String,
    pub user_name: String,
    pub xsrf_token: String,
    pub last_seen: i64,
    pub expires_at: i64,
}

pub async fn insert(db: &Db, s: &SessionRow, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, tenant_id, user_name, xsrf_token, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&s.id_hash)
    .bind(&s.tenant_id)
    .bind(&s.user_name)
    .bind(&s.xsrf_token)
    .bind(now)
    .bind(now)
    .bind(s.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, id_hash: &str) -> sqlx::Result<Option<SessionRow>> {
    sqlx::query_as(
        "SELECT id_hash, tenant_id, user_name, xsrf_token, last_seen, expires_at FROM sessions WHERE id_hash = ?",
    )
    .bind(id_hash)
    .fetch_optional(db)
    .await
}

pub async fn touch(db: &Db, id_hash: &str, now: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE sessions SET last_seen = ? WHERE id_hash = ?").bind(now).bind(id_hash).execute(db).await?;
    Ok(())
}

pub async fn delete(db: &Db, id_hash: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = ?").bind(id_hash).execute(db).await?;
    Ok(())
}

/// Drops every session past its limits (called now and then, on login).
pub async fn delete_expired(db: &Db, now: i64, idle_seconds: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= ? OR last_seen + ? <= ?")
        .bind(now)
        .bind(idle_seconds)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
