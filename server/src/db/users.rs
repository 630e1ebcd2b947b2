//! Console users: lookup, creation and changes. Passwords are stored only as argon2 hashes.

use super::Db;

/// A stored user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub tenant_id: String,
    pub user_name: String,
    pub password_hash: String,
    pub role: String,
    pub enabled: bool,
    pub password_changed_at: Option<String>,
}

const COLUMNS: &str = "tenant_id, user_name, password_hash, role, enabled, password_changed_at";

/// The user `user_name` of `tenant`, if any.
pub async fn find(db: &Db, tenant: &str, user_name: &str) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ? AND user_name = ?"))
        .bind(tenant)
        .bind(user_name)
        .fetch_optional(db)
        .await
}

/// A page of `tenant`'s users by name.
pub async fn page(db: &Db, tenant: &str, limit: u32, offset: u64) -> sqlx::Result<Vec<UserRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE tenant_id = ? ORDER BY user_name LIMIT ? OFFSET ?"))
        .bind(tenant)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(db)
        .await
}

/// How many users `tenant` has.
pub async fn count(db: &Db, tenant: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = ?").bind(tenant).fetch_one(db).await
}

/// How many admins (enabled or not) `tenant` has.
pub async fn count_admins(db: &Db, tenant: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = ? AND role = 'admin'")
        .bind(tenant)
        .fetch_one(db)
        .await
}

/// How many enabled admins `tenant` has other than `except`.
pub async fn other_enabled_admins(db: &Db, tenant: &str, except: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM users WHERE tenant_id = ? AND role = 'admin' AND enabled = 1 AND user_name != ?",
    )
    .bind(tenant)
    .bind(except)
    .fetch_one(db)
    .await
}

/// Creates a user with an already computed password hash. A taken name is a unique violation.
pub async fn insert(db: &Db, row: &UserRow, now: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (tenant_id, user_name, password_hash, role, enabled, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&row.tenant_id)
    .bind(&row.user_name)
    .bind(&row.password_hash)
    .bind(&row.role)
    .bind(row.enabled)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// What [`update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Updated {
    /// Changed (or nothing to change).
    Done,
    /// No such user.
    NotFound,
    /// Refused, nothing changed: the tenant would have no enabled admin left.
    LastAdmin,
}

/// Changes what is given; a new password or a disabled account also ends the user's sessions.
/// The tenant must keep an enabled admin: checked inside the write transaction, so two
/// concurrent changes cannot both remove "the other" admin.
pub async fn update(
    db: &Db,
    tenant: &str,
    user_name: &str,
    password_hash: Option<&str>,
    role: Option<&str>,
    enabled: Option<bool>,
    now: &str,
) -> sqlx::Result<Updated> {
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = COALESCE(?, password_hash), role = COALESCE(?, role), enabled = COALESCE(?, enabled), \
         password_changed_at = CASE WHEN ? IS NULL THEN password_changed_at ELSE ? END WHERE tenant_id = ? AND user_name = ?",
    )
    .bind(password_hash)
    .bind(role)
    .bind(enabled)
    .bind(password_hash)
    .bind(now)
    .bind(tenant)
    .bind(user_name)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(Updated::NotFound);
    }
    if role.is_some_and(|r| r != "admin") || enabled == Some(false) {
        let admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = ? AND role = 'admin' AND enabled = 1")
                .bind(tenant)
                .fetch_one(&mut *tx)
                .await?;
        if admins == 0 {
            tx.rollback().await?;
            return Ok(Updated::LastAdmin);
        }
    }
    if password_hash.is_some() || enabled == Some(false) {
        sqlx::query("DELETE FROM sessions WHERE tenant_id = ? AND user_name = ?")
            .bind(tenant)
            .bind(user_name)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(Updated::Done)
}
