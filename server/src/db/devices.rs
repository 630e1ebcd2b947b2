//! Queries for device users and the tokens issued to them.

use anchorage_common::options::{DEVICE_TOKEN_LIFESPAN, OAUTH_INTERNAL};

use super::trusted_certificates::AnchorRow;
use super::{Db, Ex, Tx};

/// A device user and its current token.
#[derive(Debug, Clone)]
pub struct DeviceState {
    pub auth_type: String,
    /// Whether the device may get tokens (an admin can disable it).
    pub enabled: bool,
    /// The newest unrevoked token still valid at the time asked, if any: its id and the token
    /// sealed with the secret key.
    pub token: Option<(String, String)>,
    pub issued_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The fingerprint of the certificate that token was issued for.
    pub token_cert_fingerprint: Option<String>,
}

/// A device token as stored: its SHA-256, never the token itself.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub jti: String,
    pub tenant_id: String,
    pub user_name: String,
    pub token_hash: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
    /// The serial of the certificate it was issued for is in the tenant's revocation list,
    /// and the tenant's offline check is on.
    pub certificate_revoked: bool,
}

/// A candidate tenant's revocation switches, and whether the device certificate is in its list.
#[derive(Debug, Clone, Default)]
pub struct Revocation {
    pub offline: bool,
    pub online: bool,
    pub online_fail_open: bool,
    /// The revocation date of the device certificate's serial in the tenant's list.
    pub revoked_at: Option<String>,
}

/// A trusted certificate that may anchor a device's chain, read together with what the token
/// endpoint needs from that certificate's tenant: the device user's state, the token lifespan
/// option and the revocation switches and entry.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub anchor: AnchorRow,
    /// The device user in the anchor's tenant; `None` when not registered there.
    pub device: Option<DeviceState>,
    /// The tenant's stored `oauth.internal` / `device-token.lifespan.seconds`, if set.
    pub lifespan: Option<String>,
    pub revocation: Revocation,
}

#[derive(sqlx::FromRow)]
struct CandidateRow {
    #[sqlx(flatten)]
    anchor: AnchorRow,
    auth_type: Option<String>,
    device_enabled: Option<bool>,
    jti: Option<String>,
    token_sealed: Option<String>,
    issued_at: Option<i64>,
    expires_at: Option<i64>,
    token_cert_fingerprint: Option<String>,
    lifespan: Option<String>,
    crl_offline: Option<String>,
    crl_online: Option<String>,
    crl_fail_open: Option<String>,
    revoked_at: Option<String>,
}

/// What the token endpoint looks up.
pub struct CandidateQuery<'a> {
    /// DER names of the issuers in the presented chain.
    pub subjects: &'a [Vec<u8>],
    /// The device user named after the leaf's CN.
    pub user_name: &'a str,
    /// The leaf's serial, normalized hex.
    pub serial_hex: &'a str,
    /// Only this tenant's trusted certificates (the chain doctor), or every tenant's.
    pub tenant: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

/// The trusted certificates (of any tenant, or of `q.tenant`, enabled or not) whose subject is
/// one of `q.subjects` (DER names), each with the device user `q.user_name` of its tenant and
/// that user's newest unrevoked token valid at `q.now`, the tenant's token lifespan, its
/// revocation switches and the revocation entry of the leaf's serial: the token endpoint's
/// reads in one round trip. Every join is a primary-key or index look-up, so the cost grows
/// neither with the number of CAs nor with the number of revoked serials.
pub async fn candidates(ex: impl Into<Ex<'_>>, q: &CandidateQuery<'_>) -> sqlx::Result<Vec<Candidate>> {
    use anchorage_common::options::{CONFIGURATION, CRL_OFFLINE_CHECK, CRL_ONLINE_CHECK, CRL_ONLINE_FAIL_OPEN};
    if q.subjects.is_empty() {
        return Ok(Vec::new());
    }
    // $1-$10 below; the subjects follow.
    let marks = (0..q.subjects.len()).map(|i| format!("${}", i + 11)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT c.tenant_id, c.fingerprint, c.name, c.status, c.auto_registration_enabled, c.der, c.not_after, \
                u.auth_type, u.enabled AS device_enabled, t.jti, t.token_sealed, t.issued_at, t.expires_at, \
                t.cert_fingerprint AS token_cert_fingerprint, o.value AS lifespan, \
                coff.value AS crl_offline, conl.value AS crl_online, cfo.value AS crl_fail_open, \
                r.revocation_date AS revoked_at \
         FROM trusted_certificates c \
         LEFT JOIN device_users u ON u.tenant_id = c.tenant_id AND u.user_name = $1 \
         LEFT JOIN device_tokens t ON t.jti = ( \
             SELECT jti FROM device_tokens WHERE tenant_id = u.tenant_id AND user_name = u.user_name \
             AND revoked = FALSE AND expires_at > $2 AND issued_at <= $2 ORDER BY issued_at DESC LIMIT 1) \
         LEFT JOIN tenant_options o ON o.tenant_id = c.tenant_id AND o.category = $3 AND o.key = $4 \
         LEFT JOIN tenant_options coff ON coff.tenant_id = c.tenant_id AND coff.category = $5 AND coff.key = $6 \
         LEFT JOIN tenant_options conl ON conl.tenant_id = c.tenant_id AND conl.category = $5 AND conl.key = $7 \
         LEFT JOIN tenant_options cfo ON cfo.tenant_id = c.tenant_id AND cfo.category = $5 AND cfo.key = $8 \
         LEFT JOIN crl_entries r ON r.tenant_id = c.tenant_id AND r.serial_hex = $9 \
         WHERE c.subject_der IN ({marks}) AND (CAST($10 AS TEXT) IS NULL OR c.tenant_id = $10) ORDER BY c.id"
    );
    let rows: Vec<CandidateRow> = with_conn!(ex.into(), |c| {
        let mut query = sqlx::query_as::<_, CandidateRow>(&sql)
            .bind(q.user_name)
            .bind(q.now)
            .bind(OAUTH_INTERNAL)
            .bind(DEVICE_TOKEN_LIFESPAN)
            .bind(CONFIGURATION)
            .bind(CRL_OFFLINE_CHECK)
            .bind(CRL_ONLINE_CHECK)
            .bind(CRL_ONLINE_FAIL_OPEN)
            .bind(q.serial_hex)
            .bind(q.tenant);
        for s in q.subjects {
            query = query.bind(s);
        }
        query.fetch_all(c).await?
    });
    let on = |v: &Option<String>| anchorage_common::options::switch_on(v.as_deref());
    Ok(rows
        .into_iter()
        .map(|r| Candidate {
            revocation: Revocation {
                offline: on(&r.crl_offline),
                online: on(&r.crl_online),
                online_fail_open: on(&r.crl_fail_open),
                revoked_at: r.revoked_at,
            },
            anchor: r.anchor,
            device: r.auth_type.map(|auth_type| DeviceState {
                auth_type,
                enabled: r.device_enabled.unwrap_or(true),
                token: r.jti.zip(r.token_sealed),
                issued_at: r.issued_at,
                expires_at: r.expires_at,
                token_cert_fingerprint: r.token_cert_fingerprint,
            }),
            lifespan: r.lifespan,
        })
        .collect())
}

/// A token by its id, and whether the certificate it was issued for has been revoked since
/// (its serial in the tenant's list, with the offline check on): revocation takes effect at
/// the token's next use.
pub async fn token(db: &Db, jti: &str) -> sqlx::Result<Option<TokenRow>> {
    use anchorage_common::options::{CONFIGURATION, CRL_OFFLINE_CHECK};
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT t.jti, t.tenant_id, t.user_name, t.token_hash, t.issued_at, t.expires_at, t.revoked, \
                    (r.serial_hex IS NOT NULL AND COALESCE(lower(trim(o.value)), '') = 'true') AS certificate_revoked \
             FROM device_tokens t \
             LEFT JOIN crl_entries r ON r.tenant_id = t.tenant_id AND r.serial_hex = t.cert_serial_hex \
             LEFT JOIN tenant_options o ON o.tenant_id = t.tenant_id AND o.category = $1 AND o.key = $2 \
             WHERE t.jti = $3",
        )
        .bind(CONFIGURATION)
        .bind(CRL_OFFLINE_CHECK)
        .bind(jti)
        .fetch_optional(c)
        .await
    })
}

/// What the device presented when it got a token.
pub struct Issue<'a> {
    pub tenant: &'a str,
    pub user_name: &'a str,
    pub jti: &'a str,
    /// SHA-256 of the token (hex).
    pub token_hash: &'a str,
    /// The token sealed with the secret key.
    pub token_sealed: &'a str,
    pub issued_at: i64,
    pub expires_at: i64,
    pub now_text: &'a str,
    pub cert_serial: &'a str,
    pub cert_fingerprint: &'a str,
    pub ca_fingerprint: &'a str,
    /// The device certificate, kept among the device's provisioned certificates.
    pub certificate: &'a anchorage_common::CertificateInfo,
}

/// How many certificates a device's provisioned certificates keep (the platform keeps 5).
pub const PROVISIONED_KEPT: i64 = 5;

/// What [`store_token`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The token is stored; `new_certificate`: the device certificate is new among the
    /// device's provisioned certificates.
    Token { new_certificate: bool },
    /// Nothing is stored: an administrator disabled the device meanwhile (after the request
    /// read it enabled).
    Disabled,
}

/// Stores a new token, drops the user's expired ones, and records what the device used — in
/// one transaction, and only while the device user is enabled: a device disabled while its
/// request was being decided gets no token (disabling revokes the tokens it finds; this one
/// would not have been among them).
pub async fn store_token(db: &Db, t: &Issue<'_>) -> sqlx::Result<Stored> {
    // The first statement writes: on SQLite the transaction takes the write lock there (so
    // concurrent first requests wait for it instead of failing, as with BEGIN IMMEDIATE); on
    // PostgreSQL the update of the device user's row (`record_use`) makes a concurrent request
    // for the same device wait, so it sees this one's provisioned certificate.
    let mut tx = db.begin().await?;
    let new = with_conn!(&mut tx, |c| {
        sqlx::query("DELETE FROM device_tokens WHERE tenant_id = $1 AND user_name = $2 AND expires_at <= $3")
            .bind(t.tenant)
            .bind(t.user_name)
            .bind(t.issued_at)
            .execute(&mut *c)
            .await?;
        sqlx::query(
            "INSERT INTO device_tokens (jti, tenant_id, user_name, token_hash, token_sealed, issued_at, expires_at, \
                                        cert_serial_hex, cert_fingerprint) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(t.jti)
        .bind(t.tenant)
        .bind(t.user_name)
        .bind(t.token_hash)
        .bind(t.token_sealed)
        .bind(t.issued_at)
        .bind(t.expires_at)
        .bind(&t.certificate.serial_hex)
        .bind(&t.certificate.fingerprint)
        .execute(&mut *c)
        .await?;
        // Conditional on `enabled`: on PostgreSQL this waits for a concurrent disable's row
        // lock and then sees its value; on SQLite the write lock is held already.
        let disabled = !record_use(&mut *c, t).await?
            && sqlx::query_scalar::<_, bool>(
                "SELECT enabled FROM device_users WHERE tenant_id = $1 AND user_name = $2",
            )
            .bind(t.tenant)
            .bind(t.user_name)
            .fetch_optional(&mut *c)
            .await?
                == Some(false);
        if disabled { None } else { Some(record_provisioned(&mut *c, t).await?) }
    });
    match new {
        Some(new_certificate) => {
            tx.commit().await?;
            Ok(Stored::Token { new_certificate })
        }
        None => {
            tx.rollback().await?;
            Ok(Stored::Disabled)
        }
    }
}

/// Keeps the device certificate among the device's provisioned certificates: the last
/// [`PROVISIONED_KEPT`] it used for a new token. Returns whether it was not kept already.
async fn record_provisioned(ex: impl Into<Ex<'_>>, t: &Issue<'_>) -> sqlx::Result<bool> {
    let cert = t.certificate;
    let known: bool = with_conn!(ex.into(), |c| {
        let known: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM provisioned_certificates \
                            WHERE tenant_id = $1 AND user_name = $2 AND fingerprint = $3)",
        )
        .bind(t.tenant)
        .bind(t.user_name)
        .bind(&cert.fingerprint)
        .fetch_one(&mut *c)
        .await?;
        sqlx::query(
            "INSERT INTO provisioned_certificates (tenant_id, user_name, fingerprint, serial_number, serial_hex, \
                                                   subject, issuer, not_before, not_after, first_used_at, \
                                                   last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (tenant_id, user_name, fingerprint) DO UPDATE SET last_used_at = excluded.last_used_at",
        )
        .bind(t.tenant)
        .bind(t.user_name)
        .bind(&cert.fingerprint)
        .bind(&cert.serial_number)
        .bind(&cert.serial_hex)
        .bind(&cert.subject)
        .bind(&cert.issuer)
        .bind(cert.not_before_text())
        .bind(cert.not_after_text())
        .bind(t.now_text)
        .execute(&mut *c)
        .await?;
        sqlx::query(
            "DELETE FROM provisioned_certificates WHERE tenant_id = $1 AND user_name = $2 AND fingerprint NOT IN ( \
                 SELECT fingerprint FROM provisioned_certificates WHERE tenant_id = $1 AND user_name = $2 \
                 ORDER BY last_used_at DESC, fingerprint LIMIT $3)",
        )
        .bind(t.tenant)
        .bind(t.user_name)
        .bind(PROVISIONED_KEPT)
        .execute(&mut *c)
        .await?;
        known
    });
    Ok(!known)
}

/// A certificate a device used for a token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProvisionedRow {
    pub fingerprint: String,
    pub serial_number: String,
    pub serial_hex: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: String,
    pub not_after: String,
    pub first_used_at: String,
    pub last_used_at: String,
}

/// The device's provisioned certificates, the most recently used first.
pub async fn provisioned(db: &Db, tenant: &str, user_name: &str) -> sqlx::Result<Vec<ProvisionedRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT fingerprint, serial_number, serial_hex, subject, issuer, not_before, not_after, first_used_at, \
                    last_used_at \
             FROM provisioned_certificates WHERE tenant_id = $1 AND user_name = $2 \
             ORDER BY last_used_at DESC, fingerprint",
        )
        .bind(tenant)
        .bind(user_name)
        .fetch_all(c)
        .await
    })
}

/// A device user: its external id and how it authenticates.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceUserRow {
    pub user_name: String,
    pub device_id: String,
    pub auth_type: String,
    pub created_at: String,
}

/// A device user of `tenant` by name.
pub async fn device_user(db: &Db, tenant: &str, user_name: &str) -> sqlx::Result<Option<DeviceUserRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT user_name, device_id, auth_type, created_at FROM device_users WHERE tenant_id = $1 AND user_name = $2",
        )
        .bind(tenant)
        .bind(user_name)
        .fetch_optional(c)
        .await
    })
}

/// The device ids among `ids` that `tenant` has a device user for (bulk registration's "already
/// registered"), in no particular order. Asked in chunks, so the list may be long.
pub async fn existing_device_ids(db: &Db, tenant: &str, ids: &[String]) -> sqlx::Result<Vec<String>> {
    let users: Vec<String> = ids.iter().map(|id| anchorage_common::device::device_user_name(id)).collect();
    let mut found = Vec::new();
    with_conn!(db, |c| {
        for chunk in users.chunks(500) {
            let mut q = sqlx::QueryBuilder::<DB>::new("SELECT device_id FROM device_users WHERE tenant_id = ");
            q.push_bind(tenant).push(" AND user_name IN (");
            let mut sep = q.separated(", ");
            for u in chunk {
                sep.push_bind(u);
            }
            q.push(")");
            found.extend(q.build_query_scalar::<String>().fetch_all(&mut *c).await?);
        }
    });
    Ok(found)
}

/// Records the certificate a device last authenticated with.
async fn record_use(ex: impl Into<Ex<'_>>, t: &Issue<'_>) -> sqlx::Result<bool> {
    with_conn!(ex.into(), |c| {
        sqlx::query(
            "UPDATE device_users SET last_token_at = $1, last_cert_serial = $2, last_cert_fingerprint = $3, \
                                     last_ca_fingerprint = $4, last_cert_not_after = $7 \
             WHERE tenant_id = $5 AND user_name = $6 AND enabled = TRUE",
        )
        .bind(t.now_text)
        .bind(t.cert_serial)
        .bind(t.cert_fingerprint)
        .bind(t.ca_fingerprint)
        .bind(t.tenant)
        .bind(t.user_name)
        .bind(t.certificate.not_after_text())
        .execute(c)
        .await
        .map(|r| r.rows_affected() > 0)
    })
}

/// Revokes every token of `tenant` issued for the certificate `fingerprint` (its CRL lists it).
pub async fn revoke_for_certificate(db: &Db, tenant: &str, fingerprint: &str) -> sqlx::Result<u64> {
    with_conn!(db, |c| {
        Ok(sqlx::query(
            "UPDATE device_tokens SET revoked = TRUE \
             WHERE tenant_id = $1 AND cert_fingerprint = $2 AND revoked = FALSE",
        )
        .bind(tenant)
        .bind(fingerprint)
        .execute(c)
        .await?
        .rows_affected())
    })
}

/// Revokes a token; returns whether it existed unrevoked.
pub async fn revoke(db: &Db, jti: &str) -> sqlx::Result<bool> {
    let revoked = with_conn!(db, |c| {
        sqlx::query("UPDATE device_tokens SET revoked = TRUE WHERE jti = $1 AND revoked = FALSE")
            .bind(jti)
            .execute(c)
            .await?
            .rows_affected()
    });
    Ok(revoked == 1)
}

/// Tokens stored in clear by an older version: `(jti, token)`.
pub async fn unsealed_tokens(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    with_conn!(db, |c| {
        sqlx::query_as("SELECT jti, token_sealed FROM device_tokens WHERE token_hash IS NULL").fetch_all(c).await
    })
}

/// Replaces a token kept in clear by its hash and its sealed form.
pub async fn seal_token(db: &Db, jti: &str, hash: &str, sealed: &str) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query(
            "UPDATE device_tokens SET token_hash = $1, token_sealed = $2 WHERE jti = $3 AND token_hash IS NULL",
        )
        .bind(hash)
        .bind(sealed)
        .bind(jti)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// Enables or disables a device user; disabling also revokes its tokens, so it is refused at
/// once and not only at its next token request. Returns whether the user exists. In `tx`; the
/// caller commits (with the change's audit record).
pub async fn set_enabled(tx: &mut Tx, tenant: &str, user_name: &str, enabled: bool) -> sqlx::Result<bool> {
    let found = with_conn!(tx, |c| {
        let n = sqlx::query("UPDATE device_users SET enabled = $1 WHERE tenant_id = $2 AND user_name = $3")
            .bind(enabled)
            .bind(tenant)
            .bind(user_name)
            .execute(&mut *c)
            .await?
            .rows_affected();
        if n == 1 && !enabled {
            sqlx::query(
                "UPDATE device_tokens SET revoked = TRUE WHERE tenant_id = $1 AND user_name = $2 AND revoked = FALSE",
            )
            .bind(tenant)
            .bind(user_name)
            .execute(&mut *c)
            .await?;
        }
        n == 1
    });
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{Location, PoolSizes, ensure_tenant, inventory, open};

    /// The window between a token request reading the device (enabled) and storing its token:
    /// a disable committed in it wins, and nothing of the token is written.
    #[tokio::test]
    async fn no_token_is_stored_for_a_device_disabled_after_the_request_read_it() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = open(&Location::Sqlite(dir.path().join("t.db")), PoolSizes::default()).await.expect("database");
        let now = "2026-01-01T00:00:00.000Z";
        ensure_tenant(&db, "t1", now).await.expect("tenant");
        inventory::auto_register(&db, "t1", "race-1", now).await.expect("registered");
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::new()).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, "race-1");
        let der = params.self_signed(&key).expect("certificate").der().to_vec();
        let info = anchorage_common::cert::inspect(&der, time::OffsetDateTime::now_utc()).expect("inspected").info;
        let user = anchorage_common::device::device_user_name("race-1");
        let issue = |jti: &'static str| Issue {
            tenant: "t1",
            user_name: &user,
            jti,
            token_hash: "h",
            token_sealed: "s",
            issued_at: 100,
            expires_at: 4000,
            now_text: now,
            cert_serial: &info.serial_number,
            cert_fingerprint: &info.fingerprint,
            ca_fingerprint: "ca",
            certificate: &info,
        };
        let mut tx = db.begin().await.expect("begin");
        assert!(set_enabled(&mut tx, "t1", &user, false).await.expect("disabled"));
        tx.commit().await.expect("commit");
        assert_eq!(store_token(&db, &issue("j1")).await.expect("stored"), Stored::Disabled);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM device_tokens").await, 0);
        let used = count(&db, "SELECT COUNT(*) FROM device_users WHERE last_token_at IS NOT NULL").await;
        let provisioned = count(&db, "SELECT COUNT(*) FROM provisioned_certificates").await;
        assert_eq!((used, provisioned), (0, 0), "nothing of the refused token is written");

        let mut tx = db.begin().await.expect("begin");
        assert!(set_enabled(&mut tx, "t1", &user, true).await.expect("enabled"));
        tx.commit().await.expect("commit");
        assert_eq!(store_token(&db, &issue("j2")).await.expect("stored"), Stored::Token { new_certificate: true });
        assert_eq!(count(&db, "SELECT COUNT(*) FROM device_tokens").await, 1);
    }

    async fn count(db: &Db, sql: &'static str) -> i64 {
        async fn run(db: &Db, sql: &'static str) -> sqlx::Result<i64> {
            with_conn!(db, |c| sqlx::query_scalar(sql).fetch_one(c).await)
        }
        run(db, sql).await.expect("count")
    }
}
