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
    with_conn!(db, |c| {
        sqlx::query(
            "INSERT INTO sessions (id_hash, tenant_id, user_name, xsrf_token, created_at, last_seen, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(&s.id_hash)
        .bind(&s.tenant_id)
        .bind(&s.user_name)
        .bind(&s.xsrf_token)
        .bind(now)
        .bind(s.expires_at)
        .execute(c)
        .await?;
    });
    Ok(())
}

pub async fn find(db: &Db, id_hash: &str) -> sqlx::Result<Option<SessionRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT id_hash, tenant_id, user_name, xsrf_token, last_seen, expires_at FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(c)
        .await
    })
}

pub async fn touch(db: &Db, id_hash: &str, now: i64) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2").bind(now).bind(id_hash).execute(c).await?;
    });
    Ok(())
}

pub async fn delete(db: &Db, id_hash: &str) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(c).await?;
    });
    Ok(())
}

/// Drops every session past its limits (called now and then, on login).
pub async fn delete_expired(db: &Db, now: i64, idle_seconds: i64) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen + $2 <= $1")
            .bind(now)
            .bind(idle_seconds)
            .execute(c)
            .await?;
    });
    Ok(())
}
