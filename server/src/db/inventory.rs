//! Devices in the inventory: bulk registration in batched transactions, auto-registration,
//! and the queries behind `/inventory/managedObjects` and `/identity/externalIds`.
//!
//! Every row is written whole or not at all: a batch of rows is one transaction, conflicts are
//! found before anything is written, and a crash loses at most the uncommitted batch.

use std::collections::HashMap;

use anchorage_common::bulk::DeviceEntry;
use anchorage_common::device::device_user_name;
use serde_json::{Map, Value, json};
use sqlx::QueryBuilder;

use super::{Db, Ex, Tx};

/// A valid row with its password already hashed (BASIC devices).
pub struct Prepared<'a> {
    pub entry: &'a DeviceEntry,
    pub password_hash: Option<String>,
    /// With `ENROLLMENT_OTP`: the new device request that lets it enroll (written with the row).
    pub enrollment: Option<super::ca::RequestRow>,
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    Failed(String),
}

/// The fragments a registration row sets on its managed object.
fn fragments_of(e: &DeviceEntry) -> Map<String, Value> {
    let mut f = e.properties.clone();
    if let Some(iccid) = &e.iccid {
        f.insert("c8y_Mobile".into(), json!({ "iccid": iccid }));
    }
    if e.shell {
        f.insert("c8y_SupportedOperations".into(), json!(["c8y_Command"]));
    }
    if let Some(path) = &e.path {
        f.insert("anchorage_GroupPath".into(), json!(path));
    }
    f
}

fn external_ids_of(e: &DeviceEntry) -> Vec<(String, String)> {
    let mut ids = vec![(e.id_type.clone(), e.id.clone())];
    for x in &e.external_ids {
        if !ids.contains(x) {
            ids.push(x.clone());
        }
    }
    ids
}

/// Rows per multi-row INSERT (SQLite binds at most 32,766 parameters per statement,
/// PostgreSQL 65,535).
const INSERT_CHUNK: usize = 500;

/// Starts a transaction that reads `tenant`'s devices and then writes them: registrations in a
/// tenant run one after the other, on every instance ([`Db::begin_serialized`]).
///
/// On PostgreSQL its statements are planned with their values each time: a generic plan made
/// while the tables were small (a fresh installation, the start of a large import) would keep
/// scanning whole tables as one import grows them, before any ANALYZE (100,000 rows took
/// 160 s instead of seconds). Elsewhere generic plans stay: the token endpoint's read would
/// cost more to plan than to run.
pub(crate) async fn begin_registration(db: &Db, tenant: &str) -> sqlx::Result<Tx> {
    let mut tx = db.begin_serialized(&format!("inventory/{tenant}")).await?;
    if let Tx::Postgres(t) = &mut tx {
        sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut **t).await?;
    }
    Ok(tx)
}

/// Registers one batch of rows in one transaction. `claimed` carries the external ids taken
/// by earlier batches of the same upload. New devices are written with multi-row INSERTs;
/// re-uploaded ones are updated row by row. `audit`, when given, is appended in the same
/// transaction (the upload's first record, committed with its first rows).
pub async fn register_batch(
    db: &Db,
    tenant: &str,
    rows: &[Prepared<'_>],
    claimed: &mut HashMap<(String, String), String>,
    now: &str,
    audit: Option<&super::audit::NewRecord<'_>>,
) -> sqlx::Result<Vec<Outcome>> {
    // Take the tenant's write lock first, so the reads below cannot go stale.
    let mut tx = begin_registration(db, tenant).await?;
    let users: Vec<String> = rows.iter().map(|r| device_user_name(&r.entry.id)).collect();
    let wanted: Vec<(String, String)> = rows.iter().flat_map(|r| external_ids_of(r.entry)).collect();
    // Existing device users of this batch, and their managed objects; external ids of this
    // batch that already belong to a managed object.
    let existing: HashMap<String, Option<i64>> = existing_users(&mut tx, tenant, &users).await?.into_iter().collect();
    let taken: HashMap<(String, String), i64> =
        taken_ids(&mut tx, tenant, &wanted).await?.into_iter().map(|(t, v, mo)| ((t, v), mo)).collect();

    // Decide every row before writing anything.
    let mut outcomes = Vec::with_capacity(rows.len());
    let mut created: Vec<New<'_>> = Vec::new();
    for (row, user) in rows.iter().zip(&users) {
        let e = row.entry;
        let own_mo = existing.get(user).copied().flatten();
        let ids = external_ids_of(e);
        let conflict = ids.iter().find_map(|pair| {
            let in_db = taken.get(pair).is_some_and(|mo| Some(*mo) != own_mo);
            let in_upload = claimed.get(pair).is_some_and(|owner| owner != &e.id);
            (in_db || in_upload)
                .then(|| format!("the external id {}/{} already belongs to another device", pair.0, pair.1))
        });
        if let Some(reason) = conflict {
            outcomes.push(Outcome::Failed(reason));
            continue;
        }
        for pair in &ids {
            claimed.insert(pair.clone(), e.id.clone());
        }
        let fragments = Value::Object(fragments_of(e)).to_string();
        match (existing.contains_key(user), own_mo) {
            (true, Some(mo)) => {
                outcomes.push(Outcome::Updated);
                update_device(&mut tx, tenant, row, user, mo, &ids, &fragments, now).await?;
            }
            (true, None) => {
                // A device user without a managed object: give it one, then update it.
                let mo = insert_object(&mut tx, tenant, e, user, &fragments, now).await?;
                outcomes.push(Outcome::Updated);
                update_device(&mut tx, tenant, row, user, mo, &ids, &fragments, now).await?;
            }
            (false, _) => {
                outcomes.push(Outcome::Created);
                created.push(New { row, user, ids, fragments });
            }
        }
    }
    insert_new(&mut tx, tenant, &created, now).await?;
    for (row, outcome) in rows.iter().zip(&outcomes) {
        if let (Some(request), false) = (&row.enrollment, matches!(outcome, Outcome::Failed(_))) {
            super::ca::insert_request(&mut tx, tenant, request, true).await?;
        }
    }
    if let Some(record) = audit {
        super::audit::insert(&mut tx, record).await?;
    }
    tx.commit().await?;
    debug_assert_eq!(outcomes.len(), rows.len());
    Ok(outcomes)
}

/// A decided row that makes a new device.
struct New<'r> {
    row: &'r Prepared<'r>,
    user: &'r str,
    ids: Vec<(String, String)>,
    fragments: String,
}

// The batch's reads and inserts. On PostgreSQL each is one statement with one array per
// column (`= ANY`, `UNNEST`), parsed and planned once whatever the batch's size; a multi-row
// VALUES list of thousands of parameters cost PostgreSQL more in parsing and planning than in
// writing (a 100,000-row import took 11 s, 2.5 s with arrays). SQLite has no arrays: there
// they are chunked multi-row statements, which it runs in microseconds.

/// The device users among `users`, with their managed objects.
async fn existing_users(tx: &mut Tx, tenant: &str, users: &[String]) -> sqlx::Result<Vec<(String, Option<i64>)>> {
    if let Tx::Postgres(t) = tx {
        return sqlx::query_as(
            "SELECT user_name, managed_object_id FROM device_users WHERE tenant_id = $1 AND user_name = ANY($2)",
        )
        .bind(tenant)
        .bind(users)
        .fetch_all(&mut **t)
        .await;
    }
    let mut found = Vec::new();
    with_conn!(&mut *tx, |c| {
        for chunk in users.chunks(INSERT_CHUNK) {
            let mut q =
                QueryBuilder::<DB>::new("SELECT user_name, managed_object_id FROM device_users WHERE tenant_id = ");
            q.push_bind(tenant).push(" AND user_name IN (");
            let mut sep = q.separated(", ");
            for u in chunk {
                sep.push_bind(u);
            }
            q.push(")");
            found.extend(q.build_query_as::<(String, Option<i64>)>().fetch_all(&mut *c).await?);
        }
    });
    Ok(found)
}

/// The external ids among `wanted` that belong to a managed object, with it.
async fn taken_ids(tx: &mut Tx, tenant: &str, wanted: &[(String, String)]) -> sqlx::Result<Vec<(String, String, i64)>> {
    if let Tx::Postgres(t) = tx {
        let (types, values): (Vec<&str>, Vec<&str>) = wanted.iter().map(|(t, v)| (t.as_str(), v.as_str())).unzip();
        return sqlx::query_as(
            // LATERAL: one primary-key probe per id, never a scan of the growing table.
            "SELECT w.type, w.external_id, x.managed_object_id \
             FROM UNNEST($2::text[], $3::text[]) AS w(type, external_id) \
             CROSS JOIN LATERAL (SELECT e.managed_object_id FROM external_ids e \
                                 WHERE e.tenant_id = $1 AND e.type = w.type AND e.external_id = w.external_id) x",
        )
        .bind(tenant)
        .bind(types)
        .bind(values)
        .fetch_all(&mut **t)
        .await;
    }
    let mut found = Vec::new();
    with_conn!(&mut *tx, |c| {
        for chunk in wanted.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<DB>::new(
                "SELECT type, external_id, managed_object_id FROM external_ids WHERE tenant_id = ",
            );
            q.push_bind(tenant).push(" AND (type, external_id) IN (VALUES ");
            let mut sep = q.separated(", ");
            for (t, v) in chunk {
                sep.push("(")
                    .push_bind_unseparated(t)
                    .push_unseparated(", ")
                    .push_bind_unseparated(v)
                    .push_unseparated(")");
            }
            q.push(")");
            found.extend(q.build_query_as::<(String, String, i64)>().fetch_all(&mut *c).await?);
        }
    });
    Ok(found)
}

/// New devices: their managed objects, then external ids and device users.
async fn insert_new(tx: &mut Tx, tenant: &str, created: &[New<'_>], now: &str) -> sqlx::Result<()> {
    if created.is_empty() {
        return Ok(());
    }
    let name = |n: &New<'_>| n.row.entry.name.clone().unwrap_or_else(|| n.row.entry.id.clone());
    let kind = |n: &New<'_>| n.row.entry.device_type.clone().unwrap_or_else(|| "c8y_Device".into());
    if let Tx::Postgres(t) = tx {
        let owners: Vec<&str> = created.iter().map(|n| n.user).collect();
        let ids: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
            "INSERT INTO managed_objects (tenant_id, name, type, is_device, owner, fragments, creation_time, last_updated) \
             SELECT $1, n, t, TRUE, o, f, $2, $2 FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[]) AS u(n, t, o, f) \
             RETURNING owner, id",
        )
        .bind(tenant)
        .bind(now)
        .bind(created.iter().map(name).collect::<Vec<_>>())
        .bind(created.iter().map(kind).collect::<Vec<_>>())
        .bind(&owners)
        .bind(created.iter().map(|n| n.fragments.as_str()).collect::<Vec<_>>())
        .fetch_all(&mut **t)
        .await?
        .into_iter()
        .collect();
        let mo_of = |n: &New<'_>| ids.get(n.user).copied().ok_or(sqlx::Error::RowNotFound);
        let mut pairs: (Vec<&str>, Vec<&str>, Vec<i64>) = Default::default();
        for n in created {
            let mo = mo_of(n)?;
            for (ty, v) in &n.ids {
                pairs.0.push(ty);
                pairs.1.push(v);
                pairs.2.push(mo);
            }
        }
        sqlx::query(
            "INSERT INTO external_ids (tenant_id, type, external_id, managed_object_id) \
             SELECT $1, t, v, m FROM UNNEST($2::text[], $3::text[], $4::bigint[]) AS u(t, v, m) ON CONFLICT DO NOTHING",
        )
        .bind(tenant)
        .bind(pairs.0)
        .bind(pairs.1)
        .bind(pairs.2)
        .execute(&mut **t)
        .await?;
        sqlx::query(
            "INSERT INTO device_users (tenant_id, user_name, device_id, auth_type, password_hash, registered_by, \
                                       created_at, managed_object_id) \
             SELECT $1, u, d, a, p, 'BULK', $2, m \
             FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[]) AS x(u, d, a, p, m)",
        )
        .bind(tenant)
        .bind(now)
        .bind(&owners)
        .bind(created.iter().map(|n| n.row.entry.id.as_str()).collect::<Vec<_>>())
        .bind(created.iter().map(|n| n.row.entry.auth_type.as_str()).collect::<Vec<_>>())
        .bind(created.iter().map(|n| n.row.password_hash.as_deref()).collect::<Vec<_>>())
        .bind(created.iter().map(mo_of).collect::<sqlx::Result<Vec<_>>>()?)
        .execute(&mut **t)
        .await?;
        return Ok(());
    }
    with_conn!(&mut *tx, |c| {
        for chunk in created.chunks(INSERT_CHUNK) {
            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO managed_objects (tenant_id, name, type, is_device, owner, fragments, creation_time, last_updated) ",
            );
            q.push_values(chunk, |mut b, n| {
                b.push_bind(tenant)
                    .push_bind(name(n))
                    .push_bind(kind(n))
                    .push_bind(true)
                    .push_bind(n.user)
                    .push_bind(&n.fragments)
                    .push_bind(now)
                    .push_bind(now);
            });
            q.build().execute(&mut *c).await?;

            let mut q = QueryBuilder::<DB>::new("SELECT owner, MAX(id) FROM managed_objects WHERE tenant_id = ");
            q.push_bind(tenant).push(" AND owner IN (");
            let mut sep = q.separated(", ");
            for n in chunk {
                sep.push_bind(n.user);
            }
            q.push(") GROUP BY owner");
            let ids: HashMap<String, i64> =
                q.build_query_as::<(String, i64)>().fetch_all(&mut *c).await?.into_iter().collect();
            let mo_of = |n: &New<'_>| ids.get(n.user).copied().ok_or(sqlx::Error::RowNotFound);

            let pairs: Vec<(i64, &(String, String))> = chunk
                .iter()
                .map(|n| mo_of(n).map(|mo| n.ids.iter().map(move |p| (mo, p))))
                .collect::<sqlx::Result<Vec<_>>>()?
                .into_iter()
                .flatten()
                .collect();
            for part in pairs.chunks(INSERT_CHUNK) {
                let mut q = QueryBuilder::<DB>::new(
                    "INSERT INTO external_ids (tenant_id, type, external_id, managed_object_id) ",
                );
                q.push_values(part, |mut b, (mo, (t, v))| {
                    b.push_bind(tenant).push_bind(t).push_bind(v).push_bind(*mo);
                });
                q.push(" ON CONFLICT DO NOTHING");
                q.build().execute(&mut *c).await?;
            }

            let mut q = QueryBuilder::<DB>::new(
                "INSERT INTO device_users (tenant_id, user_name, device_id, auth_type, password_hash, registered_by, created_at, managed_object_id) ",
            );
            let with_mo: Vec<(&New<'_>, i64)> =
                chunk.iter().map(|n| mo_of(n).map(|mo| (n, mo))).collect::<sqlx::Result<_>>()?;
            q.push_values(&with_mo, |mut b, (n, mo)| {
                b.push_bind(tenant)
                    .push_bind(n.user)
                    .push_bind(&n.row.entry.id)
                    .push_bind(n.row.entry.auth_type.as_str())
                    .push_bind(&n.row.password_hash)
                    .push_bind("BULK")
                    .push_bind(now)
                    .push_bind(*mo);
            });
            q.build().execute(&mut *c).await?;
        }
    });
    Ok(())
}

async fn insert_object(
    ex: impl Into<Ex<'_>>,
    tenant: &str,
    e: &DeviceEntry,
    user: &str,
    fragments: &str,
    now: &str,
) -> sqlx::Result<i64> {
    with_conn!(ex.into(), |c| {
        sqlx::query_scalar(
            "INSERT INTO managed_objects (tenant_id, name, type, is_device, owner, fragments, creation_time, last_updated) \
             VALUES ($1, $2, $3, TRUE, $4, $5, $6, $6) RETURNING id",
        )
        .bind(tenant)
        .bind(e.name.as_deref().unwrap_or(&e.id))
        .bind(e.device_type.as_deref().unwrap_or("c8y_Device"))
        .bind(user)
        .bind(fragments)
        .bind(now)
        .fetch_one(c)
        .await
    })
}

/// Updates a re-uploaded device: credentials, name, type, merged fragments, new external ids.
#[expect(clippy::too_many_arguments, reason = "one statement group, called from one place")]
async fn update_device(
    ex: impl Into<Ex<'_>>,
    tenant: &str,
    row: &Prepared<'_>,
    user: &str,
    mo: i64,
    ids: &[(String, String)],
    fragments: &str,
    now: &str,
) -> sqlx::Result<()> {
    let e = row.entry;
    with_conn!(ex.into(), |c| {
        sqlx::query(
            "UPDATE managed_objects SET name = COALESCE($1, name), type = COALESCE($2, type), \
             fragments = json_patch(fragments, $3), last_updated = $4 WHERE id = $5",
        )
        .bind(&e.name)
        .bind(&e.device_type)
        .bind(fragments)
        .bind(now)
        .bind(mo)
        .execute(&mut *c)
        .await?;
        for (t, v) in ids {
            sqlx::query(
                "INSERT INTO external_ids (tenant_id, type, external_id, managed_object_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(t)
            .bind(v)
            .bind(mo)
            .execute(&mut *c)
            .await?;
        }
        sqlx::query(
            "UPDATE device_users SET auth_type = $1, password_hash = $2, managed_object_id = $3 \
             WHERE tenant_id = $4 AND user_name = $5",
        )
        .bind(e.auth_type.as_str())
        .bind(&row.password_hash)
        .bind(mo)
        .bind(tenant)
        .bind(user)
        .execute(&mut *c)
        .await?;
    });
    Ok(())
}

/// Creates the device user of an auto-registered device with its managed object and its
/// `c8y_Serial` external id, unless it exists (concurrent first calls are fine).
pub async fn auto_register(db: &Db, tenant: &str, device_id: &str, now: &str) -> sqlx::Result<()> {
    let mut tx = begin_registration(db, tenant).await?;
    register_certificate_device(&mut tx, tenant, device_id, None, now).await?;
    tx.commit().await
}

/// Registers device `device_id` for certificate authentication (device user, managed object,
/// `c8y_Serial` external id) unless its device user exists; returns the existing user's
/// authentication type (`CERTIFICATES`, `BASIC`), or None when it was registered now. The
/// managed object is named `name` and typed `device_type` when given (a new device request's),
/// else the id and `c8y_Device`. Run in a transaction of [`begin_registration`].
pub async fn register_certificate_device(
    tx: &mut Tx,
    tenant: &str,
    device_id: &str,
    name_and_type: Option<(Option<&str>, Option<&str>)>,
    now: &str,
) -> sqlx::Result<Option<String>> {
    let (name, device_type) = name_and_type.unwrap_or_default();
    let (name, device_type) = (name.unwrap_or(device_id), device_type.unwrap_or("c8y_Device"));
    let user = device_user_name(device_id);
    let existing = with_conn!(&mut *tx, |c| {
        let existing: Option<String> =
            sqlx::query_scalar("SELECT auth_type FROM device_users WHERE tenant_id = $1 AND user_name = $2")
                .bind(tenant)
                .bind(&user)
                .fetch_optional(&mut *c)
                .await?;
        if existing.is_none() {
            let mo: i64 = sqlx::query_scalar(
                "INSERT INTO managed_objects (tenant_id, name, type, is_device, owner, fragments, creation_time, last_updated) \
                 VALUES ($1, $2, $5, TRUE, $3, '{}', $4, $4) RETURNING id",
            )
            .bind(tenant)
            .bind(name)
            .bind(&user)
            .bind(now)
            .bind(device_type)
            .fetch_one(&mut *c)
            .await?;
            sqlx::query(
                "INSERT INTO external_ids (tenant_id, type, external_id, managed_object_id) VALUES ($1, 'c8y_Serial', $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(device_id)
            .bind(mo)
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "INSERT INTO device_users (tenant_id, user_name, device_id, auth_type, registered_by, created_at, managed_object_id) \
                 VALUES ($1, $2, $3, 'CERTIFICATES', 'AUTO_REGISTRATION', $4, $5)",
            )
            .bind(tenant)
            .bind(&user)
            .bind(device_id)
            .bind(now)
            .bind(mo)
            .execute(&mut *c)
            .await?;
        }
        existing
    });
    Ok(existing)
}

/// A device managed object with its registration.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceObjectRow {
    pub id: i64,
    pub name: Option<String>,
    pub r#type: Option<String>,
    pub owner: Option<String>,
    pub fragments: String,
    pub creation_time: String,
    pub last_updated: String,
    pub device_id: Option<String>,
    pub auth_type: Option<String>,
    pub registered_by: Option<String>,
    pub last_token_at: Option<String>,
    pub last_cert_serial: Option<String>,
    pub last_cert_fingerprint: Option<String>,
    /// Whether the device user may get tokens (`None` without a device user).
    pub enabled: Option<bool>,
    /// The trusted certificate that anchored the device's last token: fingerprint, and name
    /// while it is still trusted.
    pub last_ca_fingerprint: Option<String>,
    pub last_ca_name: Option<String>,
    /// The certificate last used, from the device's provisioned certificates: serial in hex
    /// and end of validity.
    pub last_cert_serial_hex: Option<String>,
    pub last_cert_not_after: Option<String>,
}

/// The device, its user, the CA of its last token and the certificate it used: each join a
/// primary-key (or unique) look-up.
const DEVICE_FROM: &str = "FROM managed_objects m \
     LEFT JOIN device_users u ON u.tenant_id = m.tenant_id AND u.user_name = m.owner \
     LEFT JOIN trusted_certificates ca ON ca.fingerprint = u.last_ca_fingerprint AND ca.tenant_id = u.tenant_id \
     LEFT JOIN provisioned_certificates p ON p.tenant_id = u.tenant_id AND p.user_name = u.user_name \
                                         AND p.fingerprint = u.last_cert_fingerprint";

const DEVICE_COLUMNS: &str = "SELECT m.id, m.name, m.type, m.owner, m.fragments, m.creation_time, m.last_updated, \
     u.device_id, u.auth_type, u.registered_by, u.last_token_at, u.last_cert_serial, u.last_cert_fingerprint, \
     u.enabled, u.last_ca_fingerprint, ca.name AS last_ca_name, p.serial_hex AS last_cert_serial_hex, \
     p.not_after AS last_cert_not_after ";

/// The hex digits of a serial or fingerprint as people paste them (`0A:1B`, `0a 1b`, `0A1B`),
/// in lower case without separators, or None when `text` is not hex.
fn hex_query(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| !matches!(c, ':' | ' ' | '-')).map(|c| c.to_ascii_lowercase()).collect();
    (!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(hex)
}

fn like_pattern(text: &str) -> String {
    format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

fn push_filter<'a, B: sqlx::Database>(
    q: &mut QueryBuilder<'a, B>,
    tenant: &'a str,
    text: Option<&'a str>,
    device_type: Option<&'a str>,
) where
    &'a str: sqlx::Encode<'a, B> + sqlx::Type<B>,
    String: sqlx::Encode<'a, B> + sqlx::Type<B>,
{
    q.push(" WHERE m.tenant_id = ").push_bind(tenant).push(" AND m.is_device = TRUE");
    if let Some(t) = device_type {
        q.push(" AND m.type = ").push_bind(t);
    }
    if let Some(text) = text {
        // Case-insensitive for ASCII letters on both backends, as SQLite's LIKE is: the pattern
        // is lowered here, the columns by lower(), which folds ASCII only under SQLite and under
        // PostgreSQL's COLLATE "C" alike (a lower() of the parameter would follow the database's
        // locale on PostgreSQL).
        let like = like_pattern(&text.to_ascii_lowercase());
        q.push(" AND (lower(m.name) LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\' OR lower(u.device_id) LIKE ")
            .push_bind(like.clone())
            .push(" ESCAPE '\\' OR u.last_cert_serial LIKE ")
            .push_bind(like);
        // A serial in hex (leading zeros are not kept) or a fingerprint, with or without colons.
        if let Some(hex) = hex_query(text) {
            let significant = hex.trim_start_matches('0');
            let serial = like_pattern(if significant.is_empty() { "0" } else { significant });
            q.push(" ESCAPE '\\' OR u.last_cert_fingerprint LIKE ")
                .push_bind(like_pattern(&hex))
                .push(" ESCAPE '\\' OR p.serial_hex LIKE ")
                .push_bind(serial);
        }
        q.push(" ESCAPE '\\')");
    }
}

/// A page of devices, optionally filtered by text (name or id) and type.
pub async fn devices(
    db: &Db,
    tenant: &str,
    text: Option<&str>,
    device_type: Option<&str>,
    limit: u32,
    offset: u64,
) -> sqlx::Result<Vec<DeviceObjectRow>> {
    with_conn!(db, |c| {
        let mut q = QueryBuilder::<DB>::new(DEVICE_COLUMNS);
        q.push(DEVICE_FROM);
        push_filter(&mut q, tenant, text, device_type);
        q.push(" ORDER BY m.id LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(i64::try_from(offset).unwrap_or(i64::MAX));
        q.build_query_as().fetch_all(c).await
    })
}

/// How many devices match.
pub async fn count_devices(db: &Db, tenant: &str, text: Option<&str>, device_type: Option<&str>) -> sqlx::Result<u64> {
    let n: i64 = with_conn!(db, |c| {
        let mut q = QueryBuilder::<DB>::new("SELECT COUNT(*) ");
        q.push(DEVICE_FROM);
        push_filter(&mut q, tenant, text, device_type);
        q.build_query_scalar().fetch_one(c).await?
    });
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One device managed object.
pub async fn device(db: &Db, tenant: &str, id: i64) -> sqlx::Result<Option<DeviceObjectRow>> {
    with_conn!(db, |c| {
        let mut q = QueryBuilder::<DB>::new(DEVICE_COLUMNS);
        q.push(DEVICE_FROM);
        q.push(" WHERE m.tenant_id = ").push_bind(tenant).push(" AND m.id = ").push_bind(id);
        q.build_query_as().fetch_optional(c).await
    })
}

/// The managed object an external id points to.
pub async fn by_external_id(db: &Db, tenant: &str, id_type: &str, value: &str) -> sqlx::Result<Option<i64>> {
    with_conn!(db, |c| {
        sqlx::query_scalar(
            "SELECT managed_object_id FROM external_ids WHERE tenant_id = $1 AND type = $2 AND external_id = $3",
        )
        .bind(tenant)
        .bind(id_type)
        .bind(value)
        .fetch_optional(c)
        .await
    })
}

/// What [`delete_device`] removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The device user removed with it (its credentials, tokens and provisioned certificates).
    pub user_name: Option<String>,
}

/// Deletes device `id` of `tenant`: its managed object and external ids, and with
/// `with_device_user` its device user too (credentials, tokens, provisioned certificates), as
/// the platform's `DELETE /inventory/managedObjects/{id}?withDeviceUser=true` does; without
/// it the device user stays, without a managed object. Returns None when there is no such
/// device. In `tx`, which the caller takes with [`begin_registration`] (the tenant's
/// registration lock: a bulk import in progress cannot re-link a half-deleted device) and
/// commits, with the deletion's audit record.
pub async fn delete_device(
    tx: &mut Tx,
    tenant: &str,
    id: i64,
    with_device_user: bool,
) -> sqlx::Result<Option<Deleted>> {
    let deleted = with_conn!(tx, |c| {
        let owner: Option<Option<String>> = sqlx::query_scalar(
            "SELECT owner FROM managed_objects WHERE tenant_id = $1 AND id = $2 AND is_device = TRUE",
        )
        .bind(tenant)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
        match owner {
            None => None,
            Some(owner) => {
                let mut removed_user = None;
                if let Some(user) = owner.as_deref() {
                    if with_device_user {
                        // Tokens and provisioned certificates go with it (ON DELETE CASCADE on
                        // both backends).
                        let n = sqlx::query("DELETE FROM device_users WHERE tenant_id = $1 AND user_name = $2")
                            .bind(tenant)
                            .bind(user)
                            .execute(&mut *c)
                            .await?
                            .rows_affected();
                        removed_user = (n > 0).then(|| user.to_string());
                    } else {
                        sqlx::query(
                            "UPDATE device_users SET managed_object_id = NULL \
                             WHERE tenant_id = $1 AND user_name = $2 AND managed_object_id = $3",
                        )
                        .bind(tenant)
                        .bind(user)
                        .bind(id)
                        .execute(&mut *c)
                        .await?;
                    }
                }
                sqlx::query("DELETE FROM external_ids WHERE tenant_id = $1 AND managed_object_id = $2")
                    .bind(tenant)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                sqlx::query("DELETE FROM managed_objects WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
                Some(Deleted { user_name: removed_user })
            }
        }
    });
    Ok(deleted)
}
