//! Queries for the offline certificate revocation list (`crl_entries`) and each tenant's CRL
//! signer (`crl_signers`).
//!
//! Serials are stored in the normal form of `anchorage_common::crl` (lowercase hex, no colons
//! or leading zeros), revocation dates in the platform's format (UTC, so the text orders as
//! the time does).

use anchorage_common::crl::Revocation;
use anchorage_common::timefmt;

use super::{Db, Ex};

/// Most entries one tenant's list may hold. An addition that would take the list beyond it is
/// refused whole (docs/decisions.md, "Certificate revocation list"): the CRL of a million
/// entries is about 35 MB, and building and signing it takes a few hundred MB for a moment.
pub const MAX_ENTRIES_PER_TENANT: u64 = 1_000_000;

/// Rows read per query by [`each_entry`].
const CHUNK: i64 = 10_000;

/// One listed entry.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EntryRow {
    pub serial_hex: String,
    /// The platform's format (`2023-01-11T16:12:36.288Z`).
    pub revocation_date: String,
}

/// What an addition did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// `added` entries were new; the others were listed already (or repeated in the request)
    /// and stay as they were.
    Done { added: u64 },
    /// Nothing was stored: the list would have held `would_hold` entries, more than
    /// [`MAX_ENTRIES_PER_TENANT`].
    OverCap { would_hold: u64 },
}

/// Adds `entries` to `tenant`'s list, all in one transaction. A serial already listed keeps
/// its entry (its revocation date does not change); a serial repeated in `entries` is added
/// with its first occurrence. When the list would then hold more than
/// [`MAX_ENTRIES_PER_TENANT`] entries, nothing is stored. An addition that adds an entry takes
/// a CRL number (see [`crl_number`]).
pub async fn insert(db: &Db, tenant: &str, entries: &[Revocation], now: &str) -> sqlx::Result<Added> {
    // The tenant's additions run one after the other on every instance, so that the count
    // below sees every other addition to the list whole or not at all.
    let mut tx = db.begin_serialized(&format!("crl_entries/{tenant}")).await?;
    let (added, n) = with_conn!(&mut tx, |c| {
        let mut added = 0u64;
        for e in entries {
            added += sqlx::query(
                "INSERT INTO crl_entries (tenant_id, serial_hex, revocation_date, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, serial_hex) DO NOTHING",
            )
            .bind(tenant)
            .bind(&e.serial_hex)
            .bind(timefmt::platform(e.revocation_date))
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected();
        }
        let mut n = 0;
        if added > 0 {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crl_entries WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_one(&mut *c)
                .await?;
            n = u64::try_from(count).unwrap_or(0);
            if n <= MAX_ENTRIES_PER_TENANT {
                changed(&mut *c, tenant).await?;
            }
        }
        (added, n)
    });
    if n > MAX_ENTRIES_PER_TENANT {
        tx.rollback().await?;
        return Ok(Added::OverCap { would_hold: n });
    }
    tx.commit().await?;
    Ok(Added::Done { added })
}

/// The revocation date of `serial_hex` (normal form) in `tenant`'s list, if it is listed: one
/// primary-key seek. Any executor: `&Db`, a transaction, or one of the token endpoint's own
/// connections (`Reader::connection`).
pub async fn revoked(ex: impl Into<Ex<'_>>, tenant: &str, serial_hex: &str) -> sqlx::Result<Option<String>> {
    with_conn!(ex.into(), |c| {
        sqlx::query_scalar("SELECT revocation_date FROM crl_entries WHERE tenant_id = $1 AND serial_hex = $2")
            .bind(tenant)
            .bind(serial_hex)
            .fetch_optional(c)
            .await
    })
}

/// One page of `tenant`'s entries whose serial contains `query` (normalized; empty: all), in
/// the order of the serials as text.
pub async fn page(db: &Db, tenant: &str, query: &str, limit: u32, offset: u64) -> sqlx::Result<Vec<EntryRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT serial_hex, revocation_date FROM crl_entries WHERE tenant_id = $1 AND instr(serial_hex, $2) > 0 \
             ORDER BY serial_hex LIMIT $3 OFFSET $4",
        )
        .bind(tenant)
        .bind(query)
        .bind(i64::from(limit))
        .bind(i64::try_from(offset).unwrap_or(i64::MAX))
        .fetch_all(c)
        .await
    })
}

/// How many of `tenant`'s entries have a serial containing `query` (empty: all).
pub async fn count(db: &Db, tenant: &str, query: &str) -> sqlx::Result<u64> {
    let n: i64 = with_conn!(db, |c| {
        sqlx::query_scalar("SELECT COUNT(*) FROM crl_entries WHERE tenant_id = $1 AND instr(serial_hex, $2) > 0")
            .bind(tenant)
            .bind(query)
            .fetch_one(c)
            .await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Hands every entry of `tenant` to `each`, in the order of the serials as text, for the CRL.
/// Reads [`CHUNK`] rows at a time (the whole list is never held as rows), all in one read
/// transaction (on PostgreSQL a REPEATABLE READ one), so `each` sees one state of the list.
/// The first error of `each` ends it.
pub async fn each_entry<E>(db: &Db, tenant: &str, mut each: impl FnMut(EntryRow) -> Result<(), E>) -> Result<(), E>
where
    E: From<sqlx::Error>,
{
    let mut tx = db.begin().await?;
    with_conn!(&mut tx, |c| {
        if PG {
            // One snapshot for every query of the transaction, not one per query.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *c).await?;
        }
        // Every stored serial is longer than "" (zero is "0").
        let mut after = String::new();
        loop {
            let rows: Vec<EntryRow> = sqlx::query_as(
                "SELECT serial_hex, revocation_date FROM crl_entries WHERE tenant_id = $1 AND serial_hex > $2 \
                 ORDER BY serial_hex LIMIT $3",
            )
            .bind(tenant)
            .bind(&after)
            .bind(CHUNK)
            .fetch_all(&mut *c)
            .await?;
            let more = i64::try_from(rows.len()).is_ok_and(|n| n == CHUNK);
            if let Some(last) = rows.last() {
                after.clone_from(&last.serial_hex);
            }
            for row in rows {
                each(row)?;
            }
            if !more {
                break;
            }
        }
    });
    tx.rollback().await?;
    Ok(())
}

/// Removes `serial_hex` from `tenant`'s list; its revocation date if it was listed. A removal
/// takes a CRL number (see [`crl_number`]).
pub async fn remove(db: &Db, tenant: &str, serial_hex: &str) -> sqlx::Result<Option<String>> {
    let mut tx = db.begin().await?;
    let date = with_conn!(&mut tx, |c| {
        let date: Option<String> = sqlx::query_scalar(
            "DELETE FROM crl_entries WHERE tenant_id = $1 AND serial_hex = $2 RETURNING revocation_date",
        )
        .bind(tenant)
        .bind(serial_hex)
        .fetch_optional(&mut *c)
        .await?;
        if date.is_some() {
            changed(&mut *c, tenant).await?;
        }
        date
    });
    tx.commit().await?;
    Ok(date)
}

/// Marks `tenant`'s list changed: takes a CRL number, so the CRL last built is no longer
/// current (a tenant without a signer has built no CRL: nothing to do).
async fn changed(ex: impl Into<Ex<'_>>, tenant: &str) -> sqlx::Result<()> {
    with_conn!(ex.into(), |c| {
        sqlx::query("UPDATE crl_signers SET crl_number = crl_number + 1 WHERE tenant_id = $1")
            .bind(tenant)
            .execute(c)
            .await?;
    });
    Ok(())
}

/// The certificate that signs the CRL of the tenant of `crl_signers s` at `$2` (the platform's
/// date format): its current tenant CA while enabled and in date, else its own signer
/// (`routes::crl::crl_signer` decides the same way).
const SIGNER_CERTIFICATE: &str = "COALESCE((SELECT t.der FROM tenant_cas a JOIN trusted_certificates t \
     ON t.id = a.certificate_id WHERE a.tenant_id = s.tenant_id AND a.is_current = TRUE AND t.status = 'ENABLED' \
     AND t.not_after > $2), s.certificate)";

/// A tenant's CRL signer as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignerRow {
    /// The self-signed certificate, DER.
    pub certificate: Vec<u8>,
    /// The PKCS#8 private key, sealed (`secrets::SecretBox`).
    pub private_key: String,
}

/// `tenant`'s CRL signer, once made.
pub async fn signer(db: &Db, tenant: &str) -> sqlx::Result<Option<SignerRow>> {
    with_conn!(db, |c| {
        sqlx::query_as("SELECT certificate, private_key FROM crl_signers WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(c)
            .await
    })
}

/// Stores `tenant`'s CRL signer unless it has one already (two first requests may race); the
/// caller then reads back whichever was stored.
pub async fn insert_signer_first(db: &Db, tenant: &str, row: &SignerRow, now: &str) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query(
            "INSERT INTO crl_signers (tenant_id, certificate, private_key, crl_number, created_at) VALUES ($1, $2, $3, 0, $4) \
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(&row.certificate)
        .bind(&row.private_key)
        .bind(now)
        .execute(c)
        .await?;
    });
    Ok(())
}

/// The number of the next CRL `tenant`'s signer issues (1, 2, …), counted in the database so
/// it grows across restarts and instances; None when the tenant has no signer.
///
/// Every change to the list takes a number too ([`insert`], [`remove`]), so the counter tells
/// whether a CRL is current: a CRL numbered `n` holds the list as it is while [`crl_number`]
/// is still `n`. CRL numbers therefore grow with gaps (RFC 5280 §5.2.3 asks for a
/// monotonically increasing number, not consecutive ones).
pub async fn next_crl_number(db: &Db, tenant: &str) -> sqlx::Result<Option<i64>> {
    with_conn!(db, |c| {
        sqlx::query_scalar(
            "UPDATE crl_signers SET crl_number = crl_number + 1 WHERE tenant_id = $1 RETURNING crl_number",
        )
        .bind(tenant)
        .fetch_optional(c)
        .await
    })
}

/// The last number `tenant`'s signer took (by a CRL or a change to the list, see
/// [`next_crl_number`]) and the signer's certificate; None when the tenant has no signer. One
/// primary-key seek.
pub async fn crl_number(db: &Db, tenant: &str, now: &str) -> sqlx::Result<Option<(i64, Vec<u8>)>> {
    let sql = format!("SELECT crl_number, {SIGNER_CERTIFICATE} FROM crl_signers s WHERE tenant_id = $1");
    with_conn!(db, |c| sqlx::query_as(&sql).bind(tenant).bind(now).fetch_optional(c).await)
}

/// A signed CRL as stored for every instance.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BuildRow {
    pub crl_number: i64,
    /// The signer's certificate (DER) it was signed with.
    pub signer: Vec<u8>,
    /// Unix seconds.
    pub built_at: i64,
    pub der: Vec<u8>,
}

/// `tenant`'s last stored CRL if it has `number`: the one any instance built for the list as it
/// is now.
pub async fn build(db: &Db, tenant: &str, number: i64) -> sqlx::Result<Option<BuildRow>> {
    with_conn!(db, |c| {
        sqlx::query_as(
            "SELECT crl_number, signer, built_at, der FROM crl_builds WHERE tenant_id = $1 AND crl_number = $2",
        )
        .bind(tenant)
        .bind(number)
        .fetch_optional(c)
        .await
    })
}

/// Stores `tenant`'s newly built CRL, unless one with a higher number is stored already (two
/// instances building at once).
pub async fn store_build(db: &Db, tenant: &str, row: &BuildRow) -> sqlx::Result<()> {
    with_conn!(db, |c| {
        sqlx::query(
            "INSERT INTO crl_builds (tenant_id, crl_number, signer, built_at, der) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id) DO UPDATE SET crl_number = excluded.crl_number, signer = excluded.signer, \
             built_at = excluded.built_at, der = excluded.der WHERE excluded.crl_number > crl_builds.crl_number",
        )
        .bind(tenant)
        .bind(row.crl_number)
        .bind(&row.signer)
        .bind(row.built_at)
        .bind(&row.der)
        .execute(c)
        .await?;
    });
    Ok(())
}
