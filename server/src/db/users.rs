//! Console users: lookup, creation and changes. Passwords are stored only as argon2 hashes.

use super::{Db, Ex, Tx};

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
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = $1 AND user_name = $2");
    with_conn!(db, |c| sqlx::query_as(&sql).bind(tenant).bind(user_name).fetch_optional(c).await)
}

/// A page of `tenant`'s users by name.
pub async fn page(db: &Db, tenant: &str, limit: u32, offset: u64) -> sqlx::Result<Vec<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY user_name LIMIT $2 OFFSET $3");
    with_conn!(db, |c| {
        sqlx::query_as(&sql)
            .bind(tenant)
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(c)
            .await
    })
}

/// How many users `tenant` has.
pub async fn count(db: &Db, tenant: &str) -> sqlx::Result<i64> {
    with_conn!(db, |c| sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(c)
        .await)
}

/// How many admins (enabled or not) `tenant` has.
pub async fn count_admins(db: &Db, tenant: &str) -> sqlx::Result<i64> {
    with_conn!(db, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND role = 'admin'")
            .bind(tenant)
            .fetch_one(c)
            .await
    })
}

/// How many enabled admins `tenant` has other than `except`.
pub async fn other_enabled_admins(db: &Db, tenant: &str, except: &str) -> sqlx::Result<i64> {
    with_conn!(db, |c| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND role = 'admin' AND enabled = TRUE AND user_name != $2",
        )
        .bind(tenant)
        .bind(except)
        .fetch_one(c)
        .await
    })
}

/// Creates a user with an already computed password hash. A taken name is a unique violation.
pub async fn insert(ex: impl Into<Ex<'_>>, row: &UserRow, now: &str) -> sqlx::Result<()> {
    with_conn!(ex.into(), |c| {
        sqlx::query(
            "INSERT INTO users (tenant_id, user_name, password_hash, role, enabled, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&row.tenant_id)
        .bind(&row.user_name)
        .bind(&row.password_hash)
        .bind(&row.role)
        .bind(row.enabled)
        .bind(now)
        .execute(c)
        .await?;
    });
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

/// The transaction in which one tenant's users change: the changes of one tenant's users take
/// turns on every instance ([`Db::begin_serialized`]).
pub async fn begin(db: &Db, tenant: &str) -> sqlx::Result<Tx> {
    db.begin_serialized(&format!("users/{tenant}")).await
}

/// [`update_in`] in a transaction of its own, committed when done.
pub async fn update(
    db: &Db,
    tenant: &str,
    user_name: &str,
    password_hash: Option<&str>,
    role: Option<&str>,
    enabled: Option<bool>,
    now: &str,
) -> sqlx::Result<Updated> {
    let mut tx = begin(db, tenant).await?;
    let outcome = update_in(&mut tx, tenant, user_name, password_hash, role, enabled, now).await?;
    // Not found or refused: dropped, the transaction is rolled back.
    if outcome == Updated::Done {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// Changes what is given, in `tx` (from [`begin`]); a new password or a disabled account also
/// ends the user's sessions. The tenant must keep an enabled admin: checked inside the write
/// transaction, so two concurrent changes cannot both remove "the other" admin. The caller
/// commits only on [`Updated::Done`].
pub async fn update_in(
    tx: &mut Tx,
    tenant: &str,
    user_name: &str,
    password_hash: Option<&str>,
    role: Option<&str>,
    enabled: Option<bool>,
    now: &str,
) -> sqlx::Result<Updated> {
    let outcome = with_conn!(tx, |c| {
        let changed = sqlx::query(
            "UPDATE users SET password_hash = COALESCE($1, password_hash), role = COALESCE($2, role), \
             enabled = COALESCE($3, enabled), \
             password_changed_at = CASE WHEN CAST($1 AS TEXT) IS NULL THEN password_changed_at ELSE $4 END \
             WHERE tenant_id = $5 AND user_name = $6",
        )
        .bind(password_hash)
        .bind(role)
        .bind(enabled)
        .bind(now)
        .bind(tenant)
        .bind(user_name)
        .execute(&mut *c)
        .await?
        .rows_affected();
        let removes_admin = role.is_some_and(|r| r != "admin") || enabled == Some(false);
        if changed == 0 {
            Updated::NotFound
        } else if removes_admin
            && sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM users WHERE tenant_id = $1 AND role = 'admin' AND enabled = TRUE",
            )
            .bind(tenant)
            .fetch_one(&mut *c)
            .await?
                == 0
        {
            Updated::LastAdmin
        } else {
            if password_hash.is_some() || enabled == Some(false) {
                sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_name = $2")
                    .bind(tenant)
                    .bind(user_name)
                    .execute(&mut *c)
                    .await?;
            }
            Updated::Done
        }
    });
    Ok(outcome)
}

/// Sets the user's own new password and ends their other sessions (all but `keep`, the session
/// the change was made in, if any), in `tx` (from [`begin`]; the caller commits); `false` when
/// the user is gone.
pub async fn change_own_password(
    tx: &mut Tx,
    tenant: &str,
    user_name: &str,
    password_hash: &str,
    keep: Option<&str>,
    now: &str,
) -> sqlx::Result<bool> {
    let changed = with_conn!(tx, |c| {
        let changed = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE tenant_id = $3 AND user_name = $4",
        )
        .bind(password_hash)
        .bind(now)
        .bind(tenant)
        .bind(user_name)
        .execute(&mut *c)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM sessions WHERE tenant_id = $1 AND user_name = $2 AND id_hash != COALESCE(CAST($3 AS TEXT), '')",
        )
        .bind(tenant)
        .bind(user_name)
        .bind(keep)
        .execute(&mut *c)
        .await?;
        changed
    });
    Ok(changed > 0)
}
