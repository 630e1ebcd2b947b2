//! Console users: lookup and creation. Passwords are stored only as argon2 hashes.

use super::Db;

/// A stored user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub tenant_id: String,
    pub user_name: String,
    pub password_hash: String,
    pub role: String,
}

/// The user `user_name` of `tenant`, if any.
pub async fn find(db: &Db, tenant: &str, user_name: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as("SELECT tenant_id, user_name, password_hash, role FROM users WHERE tenant_id = ? AND user_name = ?")
        .bind(tenant)
        .bind(user_name)
        .fetch_optional(db)
        .await
}

/// How many users `tenant` has.
pub async fn count(db: &Db, tenant: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = ?").bind(tenant).fetch_one(db).await
}

/// Creates a user with an already computed password hash.
pub async fn insert(db: &Db, row: &UserRow, now: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO users (tenant_id, user_name, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)")
        .bind(&row.tenant_id)
        .bind(&row.user_name)
        .bind(&row.password_hash)
        .bind(&row.role)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
