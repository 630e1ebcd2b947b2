//! `anchorage check-db`: is every row whole? After a crash (a `kill -9`, a power cut) each write
//! of anchorage is either all there or not at all, because each is one transaction; this check
//! says so for a given database, for operators and for the kill tests (issue 17).
//!
//! What it checks, on both backends:
//! - the database's own consistency: SQLite's `integrity_check` and `foreign_key_check`;
//! - every device user linked to a managed object has that managed object (a device) and its
//!   `c8y_Serial` external id pointing to it, and every device managed object has its device
//!   user (a device user without a managed object is whole: the platform's
//!   `DELETE /inventory/managedObjects/{id}` without `withDeviceUser` leaves it so);
//! - every device token, provisioned certificate and new device request belongs to a tenant
//!   and (tokens, provisioned certificates) to an existing device user;
//! - every trusted certificate's fingerprint is the SHA-1 of its stored DER, and the DER parses;
//! - every tenant has at least one admin user, and every password hash (users, BASIC devices) is
//!   a whole argon2 string;
//! - the device-token lifespan option, where set, passes the rule the API applies
//!   (`anchorage_common::options::parse_lifespan`).

use anchorage_common::options::{DEVICE_TOKEN_LIFESPAN, parse_lifespan};

use super::{Backend, Db};

/// One problem found: what is wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(pub String);

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A query whose rows (one text column) are each a problem, and how to say it.
struct Rule {
    what: &'static str,
    sql: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        what: "device user without its device managed object",
        sql: "SELECT u.tenant_id || '/' || u.user_name FROM device_users u \
              WHERE u.managed_object_id IS NOT NULL AND NOT EXISTS \
              (SELECT 1 FROM managed_objects m WHERE m.id = u.managed_object_id AND m.tenant_id = u.tenant_id \
               AND m.is_device = TRUE)",
    },
    Rule {
        what: "device user without its c8y_Serial external id",
        sql: "SELECT u.tenant_id || '/' || u.user_name FROM device_users u \
              WHERE u.managed_object_id IS NOT NULL AND NOT EXISTS \
              (SELECT 1 FROM external_ids x WHERE x.tenant_id = u.tenant_id AND x.type = 'c8y_Serial' \
               AND x.external_id = u.device_id AND x.managed_object_id = u.managed_object_id)",
    },
    Rule {
        what: "device managed object without its device user",
        sql: "SELECT m.tenant_id || '/' || CAST(m.id AS TEXT) FROM managed_objects m \
              WHERE m.is_device = TRUE AND m.owner IS NOT NULL AND NOT EXISTS \
              (SELECT 1 FROM device_users u WHERE u.tenant_id = m.tenant_id AND u.managed_object_id = m.id)",
    },
    Rule {
        what: "external id pointing to no managed object",
        sql: "SELECT x.tenant_id || '/' || x.type || '/' || x.external_id FROM external_ids x WHERE NOT EXISTS \
              (SELECT 1 FROM managed_objects m WHERE m.id = x.managed_object_id)",
    },
    Rule {
        what: "device token of no device user",
        sql: "SELECT t.jti FROM device_tokens t WHERE NOT EXISTS \
              (SELECT 1 FROM device_users u WHERE u.tenant_id = t.tenant_id AND u.user_name = t.user_name)",
    },
    Rule {
        what: "provisioned certificate of no device user",
        sql: "SELECT p.tenant_id || '/' || p.user_name || '/' || p.fingerprint FROM provisioned_certificates p \
              WHERE NOT EXISTS \
              (SELECT 1 FROM device_users u WHERE u.tenant_id = p.tenant_id AND u.user_name = p.user_name)",
    },
    Rule {
        what: "user whose password hash is not a whole argon2 hash",
        sql: "SELECT u.tenant_id || '/' || u.user_name FROM users u \
              WHERE u.password_hash NOT LIKE '$argon2%' OR u.password_hash NOT LIKE '%$%$%$%$%'",
    },
    Rule {
        what: "device user whose password hash is not a whole argon2 hash",
        sql: "SELECT u.tenant_id || '/' || u.user_name FROM device_users u WHERE u.password_hash IS NOT NULL \
              AND (u.password_hash NOT LIKE '$argon2%' OR u.password_hash NOT LIKE '%$%$%$%$%')",
    },
    Rule {
        what: "tenant without an admin user",
        sql: "SELECT t.id FROM tenants t WHERE NOT EXISTS \
              (SELECT 1 FROM users u WHERE u.tenant_id = t.id AND u.role = 'admin')",
    },
];

/// At most this many rows are reported per rule (the count is always given).
const SHOWN: usize = 20;

/// Checks `db` and returns every problem found (none: every row is whole).
pub async fn check(db: &Db) -> sqlx::Result<Vec<Problem>> {
    let mut problems = Vec::new();
    if db.backend() == Backend::Sqlite {
        with_conn!(db, |c| {
            let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut *c).await?;
            if integrity != ["ok"] {
                problems.extend(integrity.into_iter().map(|r| Problem(format!("SQLite integrity check: {r}"))));
            }
            let broken: Vec<(String,)> =
                sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&mut *c).await?;
            problems.extend(broken.into_iter().map(|(t,)| Problem(format!("SQLite foreign key check: a row of {t}"))));
        });
    }
    for rule in RULES {
        let rows: Vec<String> = with_conn!(db, |c| sqlx::query_scalar(rule.sql).fetch_all(c).await?);
        push(&mut problems, rule.what, rows);
    }
    let certificates: Vec<(String, String, Vec<u8>)> = with_conn!(db, |c| {
        sqlx::query_as("SELECT tenant_id, fingerprint, der FROM trusted_certificates").fetch_all(c).await?
    });
    let mut bad = Vec::new();
    for (tenant, fingerprint, der) in certificates {
        match anchorage_common::cert::inspect(&der, time::OffsetDateTime::now_utc()) {
            Ok(i) if i.info.fingerprint == fingerprint => {}
            Ok(i) => bad.push(format!("{tenant}/{fingerprint} (its DER's SHA-1 is {})", i.info.fingerprint)),
            Err(_) => bad.push(format!("{tenant}/{fingerprint} (its DER does not parse)")),
        }
    }
    push(&mut problems, "trusted certificate not whole", bad);
    let lifespans: Vec<(String, String)> = with_conn!(db, |c| {
        sqlx::query_as("SELECT tenant_id, value FROM tenant_options WHERE category = 'oauth.internal' AND key = $1")
            .bind(DEVICE_TOKEN_LIFESPAN)
            .fetch_all(c)
            .await?
    });
    let bad: Vec<String> = lifespans
        .into_iter()
        .filter_map(|(tenant, value)| parse_lifespan(&value).err().map(|e| format!("{tenant}: {value:?} ({e})")))
        .collect();
    push(&mut problems, "device-token lifespan option the API would refuse", bad);
    Ok(problems)
}

fn push(problems: &mut Vec<Problem>, what: &str, rows: Vec<String>) {
    let n = rows.len();
    for row in rows.iter().take(SHOWN) {
        problems.push(Problem(format!("{what}: {row}")));
    }
    if n > SHOWN {
        problems.push(Problem(format!("{what}: … {} more", n - SHOWN)));
    }
}
