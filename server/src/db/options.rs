//! Queries for tenant options (values stored as text, as the platform keeps them).

use super::{Db, Ex};

/// One stored option.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OptionRow {
    pub category: String,
    pub key: String,
    pub value: String,
}

/// One page of options, ordered by category and key.
pub async fn page(db: &Db, tenant: &str, limit: u32, offset: u64) -> sqlx::Result<Vec<OptionRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT category, key, value FROM tenant_options WHERE tenant_id = $1 ORDER BY category, key LIMIT $2 OFFSET $3",
        )
        .bind(tenant)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(c)
        .await
    })
}

pub async fn count(db: &Db, tenant: &str) -> sqlx::Result<u64> {
    let n: i64 = with_conn!(db, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM tenant_options WHERE tenant_id = $1").bind(tenant).fetch_one(c).await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Every option of a category.
pub async fn category(db: &Db, tenant: &str, category: &str) -> sqlx::Result<Vec<OptionRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT category, key, value FROM tenant_options WHERE tenant_id = $1 AND category = $2 ORDER BY key",
        )
        .bind(tenant)
        .bind(category)
        .fetch_all(c)
        .await
    })
}

/// The value of one option.
pub async fn get(ex: impl Into<Ex<'_>>, tenant: &str, category: &str, key: &str) -> sqlx::Result<Option<String>> {
    with_conn!(ex.into(), |c| {
        sqlx::query_scalar("SELECT value FROM tenant_options WHERE tenant_id = $1 AND category = $2 AND key = $3")
            .bind(tenant)
            .bind(category)
            .bind(key)
            .fetch_optional(c)
            .await
    })
}

/// Creates or replaces an option.
pub async fn upsert(
    ex: impl Into<Ex<'_>>,
    tenant: &str,
    category: &str,
    key: &str,
    value: &str,
    now: &str,
) -> sqlx::Result<()> {
    with_conn!(ex.into(), |c| {
        sqlx::query(
            "INSERT INTO tenant_options (tenant_id, category, key, value, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, category, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(category)
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// Deletes an option; returns whether it existed.
pub async fn delete(ex: impl Into<Ex<'_>>, tenant: &str, category: &str, key: &str) -> sqlx::Result<bool> {
    let deleted = with_conn!(ex.into(), |c| {
        sqlx::query("DELETE FROM tenant_options WHERE tenant_id = $1 AND category = $2 AND key = $3")
            .bind(tenant)
            .bind(category)
            .bind(key)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(deleted == 1)
}

/// Every tenant with its value of one option, if set.
pub async fn all_tenants_value(db: &Db, category: &str, key: &str) -> sqlx::Result<Vec<(String, Option<String>)>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT t.id, o.value FROM tenants t \
             LEFT JOIN tenant_options o ON o.tenant_id = t.id AND o.category = $1 AND o.key = $2",
        )
        .bind(category)
        .bind(key)
        .fetch_all(c)
        .await
    })
}

/// Every option of every tenant whose key starts with `prefix` and whose value does not start
/// with `except`: `(tenant, category, key, value)`.
pub async fn with_key_prefix(
    db: &Db,
    prefix: &str,
    except: &str,
) -> sqlx::Result<Vec<(String, String, String, String)>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT tenant_id, category, key, value FROM tenant_options \
             WHERE substr(key, 1, length($1)) = $1 AND substr(value, 1, length($2)) <> $2",
        )
        .bind(prefix)
        .bind(except)
        .fetch_all(c)
        .await
    })
}
