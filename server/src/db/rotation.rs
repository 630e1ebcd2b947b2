//! The sealed values of the database, read and rewritten in one transaction: what
//! `anchorage rotate-secret-key` ([`crate::secrets::rotate`]) re-seals under a new key.

use super::{Db, Tx};

/// Every sealed value: where it is (the table and the row's key, for the update) and what it is
/// bound to (the row's identity, from which the caller builds the sealing context).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealed {
    /// `signing_keys.private_key` of `kid` (stored as bytes of the sealed text).
    SigningKey { kid: String, sealed: String },
    /// A `credentials.*` tenant option.
    Option { tenant: String, category: String, key: String, sealed: String },
    /// `device_tokens.token_sealed` of `jti`.
    DeviceToken { jti: String, sealed: String },
    /// `crl_signers.private_key` of `tenant`.
    CrlSigner { tenant: String, sealed: String },
    /// `tenant_cas.private_key` of the CA `certificate_id` (DER `der`) of `tenant`.
    TenantCa { certificate_id: i64, tenant: String, der: Vec<u8>, sealed: String },
}

/// Takes the lock every rotation takes, in a transaction that [`all`] and [`update`] use.
pub async fn begin(db: &Db) -> sqlx::Result<Tx> {
    db.begin_serialized("secret-key-rotation").await
}

/// Every sealed value of the database (values not sealed, as an older version kept some, are
/// skipped: the server seals them at its next start).
pub async fn all(tx: &mut Tx, sealed_prefix: &str) -> sqlx::Result<Vec<Sealed>> {
    let is_sealed = |s: &str| s.starts_with(sealed_prefix);
    let mut out = Vec::new();
    with_conn!(&mut *tx, |c| {
        let keys: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT kid, private_key FROM signing_keys").fetch_all(&mut *c).await?;
        for (kid, bytes) in keys {
            if let Ok(sealed) = String::from_utf8(bytes)
                && is_sealed(&sealed)
            {
                out.push(Sealed::SigningKey { kid, sealed });
            }
        }
        // Only `credentials.*` values are sealed (another option may hold any text, also one
        // that looks sealed).
        let options: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT tenant_id, category, key, value FROM tenant_options WHERE substr(value, 1, length($1)) = $1 \
             AND substr(key, 1, length($2)) = $2",
        )
        .bind(sealed_prefix)
        .bind(anchorage_common::options::SECRET_KEY_PREFIX)
        .fetch_all(&mut *c)
        .await?;
        out.extend(options.into_iter().map(|(tenant, category, key, sealed)| Sealed::Option {
            tenant,
            category,
            key,
            sealed,
        }));
        let tokens: Vec<(String, String)> =
            sqlx::query_as("SELECT jti, token_sealed FROM device_tokens WHERE token_sealed IS NOT NULL")
                .fetch_all(&mut *c)
                .await?;
        out.extend(
            tokens.into_iter().filter(|(_, s)| is_sealed(s)).map(|(jti, sealed)| Sealed::DeviceToken { jti, sealed }),
        );
        let signers: Vec<(String, String)> =
            sqlx::query_as("SELECT tenant_id, private_key FROM crl_signers").fetch_all(&mut *c).await?;
        out.extend(signers.into_iter().map(|(tenant, sealed)| Sealed::CrlSigner { tenant, sealed }));
        let cas: Vec<(i64, String, Vec<u8>, String)> = sqlx::query_as(
            "SELECT c.certificate_id, c.tenant_id, t.der, c.private_key FROM tenant_cas c \
             JOIN trusted_certificates t ON t.id = c.certificate_id",
        )
        .fetch_all(&mut *c)
        .await?;
        out.extend(cas.into_iter().map(|(certificate_id, tenant, der, sealed)| Sealed::TenantCa {
            certificate_id,
            tenant,
            der,
            sealed,
        }));
    });
    Ok(out)
}

/// Writes `value` (re-sealed) where `at` was read from.
pub async fn update(tx: &mut Tx, at: &Sealed, value: &str) -> sqlx::Result<()> {
    with_conn!(&mut *tx, |c| {
        match at {
            Sealed::SigningKey { kid, .. } => {
                sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
                    .bind(value.as_bytes())
                    .bind(kid)
                    .execute(&mut *c)
                    .await?;
            }
            Sealed::Option { tenant, category, key, .. } => {
                sqlx::query("UPDATE tenant_options SET value = $1 WHERE tenant_id = $2 AND category = $3 AND key = $4")
                    .bind(value)
                    .bind(tenant)
                    .bind(category)
                    .bind(key)
                    .execute(&mut *c)
                    .await?;
            }
            Sealed::DeviceToken { jti, .. } => {
                sqlx::query("UPDATE device_tokens SET token_sealed = $1 WHERE jti = $2")
                    .bind(value)
                    .bind(jti)
                    .execute(&mut *c)
                    .await?;
            }
            Sealed::CrlSigner { tenant, .. } => {
                sqlx::query("UPDATE crl_signers SET private_key = $1 WHERE tenant_id = $2")
                    .bind(value)
                    .bind(tenant)
                    .execute(&mut *c)
                    .await?;
            }
            Sealed::TenantCa { certificate_id, .. } => {
                sqlx::query("UPDATE tenant_cas SET private_key = $1 WHERE certificate_id = $2")
                    .bind(value)
                    .bind(certificate_id)
                    .execute(&mut *c)
                    .await?;
            }
        }
    });
    Ok(())
}

/// The new device requests whose one-time password was hashed with the key being replaced:
/// `(tenant, device id)`. Their passwords stop matching (a keyed hash cannot be re-keyed).
pub async fn one_time_passwords(tx: &mut Tx) -> sqlx::Result<Vec<(String, String)>> {
    with_conn!(&mut *tx, |c| {
        sqlx::query_as("SELECT tenant_id, device_id FROM new_device_requests WHERE otp_hash IS NOT NULL ORDER BY 1, 2")
            .fetch_all(c)
            .await
    })
}
