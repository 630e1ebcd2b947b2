//! The offline certificate revocation list, as the platform serves it under
//! `/tenant/trusted-certificates/settings/crl` (tenant from the credentials):
//!
//! * `PUT` adds entries, from JSON `{"crls":[{"serialNumberInHex","revocationDate"}]}` or from a
//!   CSV file (multipart part `file`), all or nothing, checked by `anchorage_common::crl`;
//!   204. A serial already listed keeps its entry. Entries are never removed through the API
//!   (the platform's rule); the command line can (`anchorage crl remove`).
//! * `GET` with `Accept: application/pkix-crl` answers the DER CRL of every entry, signed by
//!   the tenant's CRL signer ([`crl_signer`]); with any other `Accept`, a page of the entries as
//!   JSON ([`RevokedSerials`]) for the console. A CRL is built by one request at a time in the
//!   process, stored in the database for every instance, and served again while the list is
//!   unchanged and it is younger than [`CRL_REUSE`] ([`CrlCache`], [`shared`]).
//! * `GET …/crl/signer` answers the signer's certificate (PEM), to verify the CRL with.
//!
//! Decisions (signer, `nextUpdate`, caps, duplicates): docs/decisions.md, "Certificate
//! revocation list".

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Extension, Json};
use serde::Deserialize;
use time::{Duration, OffsetDateTime, UtcOffset};

use anchorage_common::crl::{
    self, CrlEntries, CsvError, MAX_CSV_BYTES, MAX_JSON_ENTRIES, Revocation, RevokedSerial, RevokedSerials,
};
use anchorage_common::timefmt;

use crate::audit;
use crate::auth::AuthUser;
use crate::db::{self, crl::Added};
use crate::error::AppError;
use crate::extract::{ApiJson, ApiQuery, BaseUrl, ClientAddress, Paging};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

const RESOURCE: &str = "tenant";
/// The path of the list.
pub const PATH: &str = "/tenant/trusted-certificates/settings/crl";
/// The path of the signer's certificate.
pub const SIGNER_PATH: &str = "/tenant/trusted-certificates/settings/crl/signer";
/// Media type of the DER CRL.
pub const CRL_MEDIA_TYPE: &str = "application/pkix-crl";
/// Media type of the signer's certificate.
pub const PEM_MEDIA_TYPE: &str = "application/x-pem-file";
/// A downloaded CRL's `nextUpdate` is this long after its `thisUpdate` (the download time).
pub const CRL_VALIDITY: Duration = Duration::hours(24);
/// A built CRL is served again for this long at most while the list does not change; its
/// `nextUpdate` is [`CRL_VALIDITY`] after it was built, so a served copy is always valid.
pub const CRL_REUSE: Duration = Duration::hours(1);
/// Most tenants whose last CRL is kept.
const CACHED_CRLS: usize = 64;
/// Most bytes of kept CRLs in all (a CRL of a million entries is about 35 MB).
const CACHED_CRL_BYTES: usize = 256 * 1024 * 1024;
/// A CRL signer's certificate is valid this long from when it is made.
pub const SIGNER_VALIDITY: Duration = Duration::days(3653);
/// Most serials named in an addition's audit record.
const AUDITED_SERIALS: usize = 20;

pub fn endpoints() -> Vec<Endpoint> {
    // The CSV limit plus room for the multipart framing (a JSON body of 5000 entries is smaller).
    let limit = DefaultBodyLimit::max(MAX_CSV_BYTES + 64 * 1024);
    vec![
        Endpoint::new(Method::PUT, PATH, Access::Admin, put(add_entries).layer(limit)),
        Endpoint::new(Method::GET, PATH, Access::Read, get(download_or_list)),
        Endpoint::new(Method::GET, SIGNER_PATH, Access::Read, get(signer_certificate)),
    ]
}

/// Where the entries of an addition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Json,
    File,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Json => "JSON",
            Source::File => "file",
        }
    }
}

async fn add_entries(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    req: Request,
) -> Result<StatusCode, AppError> {
    let now = state.clock.now();
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    let (entries, source) = if multipart {
        let multipart = Multipart::from_request(req, &state).await.map_err(|e| {
            AppError::bad_request(RESOURCE, format!("The multipart body cannot be read: {}", e.body_text()))
        })?;
        (read_file(multipart, now).await?, Source::File)
    } else {
        let ApiJson(body) = ApiJson::<CrlEntries>::from_request(req, &state).await?;
        (check_json(body, now)?, Source::Json)
    };
    let added = match db::crl::insert(&state.db, &user.tenant, &entries, &state.now_text()).await? {
        Added::Done { added } => added,
        Added::OverCap { would_hold } => {
            return Err(AppError::unprocessable(
                RESOURCE,
                format!(
                    "The certificate revocation list can hold at most {} entries; with these it would hold {would_hold}. \
                     Nothing was added.",
                    db::crl::MAX_ENTRIES_PER_TENANT
                ),
            ));
        }
    };
    tracing::info!(
        tenant = %user.tenant, user = %user.user_name, entries = entries.len(), added, source = source.as_str(),
        "CRL entries added"
    );
    audit_added(&state, &user, address.as_deref(), &entries, added, source).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The entries of a JSON body, checked in order; the first wrong one refuses the request.
fn check_json(body: CrlEntries, now: OffsetDateTime) -> Result<Vec<Revocation>, AppError> {
    if body.crls.is_empty() {
        return Err(AppError::unprocessable(
            RESOURCE,
            "The request has no entries: send {\"crls\":[{\"serialNumberInHex\":\"…\"}]} with at least one entry.",
        ));
    }
    if body.crls.len() > MAX_JSON_ENTRIES {
        return Err(AppError::unprocessable(
            RESOURCE,
            format!(
                "At most {MAX_JSON_ENTRIES} entries can be added per request; this one has {}. Send them in parts.",
                body.crls.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(body.crls.len());
    for (i, entry) in body.crls.iter().enumerate() {
        let Some(serial) = entry.serial_number_in_hex.as_deref() else {
            return Err(AppError::unprocessable(
                RESOURCE,
                format!("Invalid entry crls[{i}]: serialNumberInHex is missing."),
            ));
        };
        let serial_hex = crl::normalize_serial(serial)
            .map_err(|m| AppError::unprocessable(RESOURCE, format!("Invalid entry crls[{i}]: {m}.")))?;
        // The platform's message, exactly (its UI translates it).
        let revocation_date = crl::parse_revocation_date(entry.revocation_date.as_deref(), now)
            .map_err(|e| AppError::bad_request(RESOURCE, e.to_string()))?;
        out.push(Revocation { serial_hex, revocation_date });
    }
    Ok(out)
}

/// The entries of the multipart part `file` (CSV), all or nothing.
async fn read_file(mut multipart: Multipart, now: OffsetDateTime) -> Result<Vec<Revocation>, AppError> {
    let too_large = || {
        AppError::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            RESOURCE,
            format!("The CRL file is larger than {} MiB.", MAX_CSV_BYTES / (1024 * 1024)),
        )
    };
    let multipart_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            AppError::bad_request(RESOURCE, format!("The multipart body cannot be read: {}", e.body_text()))
        }
    };
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() == Some("file") {
            file = Some(field.bytes().await.map_err(multipart_error)?);
            break;
        }
    }
    let bytes =
        file.ok_or_else(|| AppError::unprocessable(RESOURCE, "The multipart body has no part named 'file'."))?;
    if bytes.len() > MAX_CSV_BYTES {
        return Err(too_large());
    }
    // Serials and dates are ASCII: bytes that are not UTF-8 can only make a row wrong, which the
    // parser then names.
    let text = String::from_utf8_lossy(&bytes);
    crl::parse_csv(&text, now).map_err(|e| match e {
        CsvError::NoEntries | CsvError::TooManyRows | CsvError::Row { .. } => {
            AppError::unprocessable(RESOURCE, format!("Cannot read the CRL file: {e}. Nothing was added."))
        }
    })
}

async fn audit_added(
    state: &AppState,
    user: &AuthUser,
    address: Option<&str>,
    entries: &[Revocation],
    added: u64,
    source: Source,
) -> Result<(), AppError> {
    let serials: Vec<&str> = entries.iter().take(AUDITED_SERIALS).map(|e| e.serial_hex.as_str()).collect();
    let more = if entries.len() > serials.len() {
        format!(" and {} more", entries.len() - serials.len())
    } else {
        String::new()
    };
    let kept = (entries.len() as u64).saturating_sub(added);
    let text = format!(
        "Certificate revocation list of '{}': {} entries sent ({}), {added} added, {kept} already listed. Serials: {}{more}.",
        user.tenant,
        entries.len(),
        source.as_str(),
        serials.join(", "),
    );
    let event =
        audit::Event::info(audit::types::TENANT, "Certificate revocation list updated", text, Some(&user.user_name))
            .from_address(address)
            .with_details(serde_json::json!({
                "source": source.as_str(), "entries": entries.len(), "added": added, "alreadyListed": kept,
                "serials": serials,
            }));
    audit::record(state, &user.tenant, event).await
}

/// Query parameters of the JSON list besides paging.
#[derive(Debug, Deserialize)]
struct ListQuery {
    /// A part of the serials sought (hex, colons and case ignored).
    query: Option<String>,
}

async fn download_or_list(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    headers: HeaderMap,
    BaseUrl(base): BaseUrl,
    paging: Paging,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, AppError> {
    let wants_crl = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains(CRL_MEDIA_TYPE));
    if wants_crl {
        let der = crl_der(&state, &user.tenant).await?;
        let mut res = der.into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(CRL_MEDIA_TYPE));
        res.headers_mut()
            .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"anchorage.crl\""));
        return Ok(res);
    }
    let query = crl::normalize_serial_query(q.query.as_deref().unwrap_or_default())
        .map_err(|m| AppError::unprocessable(RESOURCE, format!("Invalid query: {m}.")))?;
    let rows = db::crl::page(&state.db, &user.tenant, &query, paging.page_size, paging.offset()).await?;
    let total = if paging.needs_total() { Some(db::crl::count(&state.db, &user.tenant, &query).await?) } else { None };
    let links = paging.links(&format!("{base}{PATH}"), &[("query", Some(query.as_str()))], rows.len(), total);
    Ok(Json(RevokedSerials {
        crls: rows
            .into_iter()
            .map(|r| RevokedSerial { serial_number_in_hex: r.serial_hex, revocation_date: r.revocation_date })
            .collect(),
        statistics: Some(paging.statistics(total)),
        self_url: Some(links.self_url),
        next: links.next,
        prev: links.prev,
    })
    .into_response())
}

async fn signer_certificate(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
) -> Result<Response, AppError> {
    let signer = crl_signer(&state, &user.tenant).await?;
    let mut res = anchorage_common::pem::to_pem(&signer.certificate_der).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PEM_MEDIA_TYPE));
    Ok(res)
}

/// Who signs a tenant's CRL: its certificate (DER) and the issuer to sign with.
pub struct CrlSigner {
    pub certificate_der: Vec<u8>,
    pub issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

/// What a CRL signer's sealed private key is bound to.
pub(crate) fn signer_key_context(tenant: &str) -> String {
    format!("crl_signers/{tenant}")
}

/// The signer of `tenant`'s CRL: its current tenant CA while enabled (relying parties that
/// trust the CA can verify the CRL with it); else a signer of its own, made at first use and
/// kept in the database, its private key sealed with the server's secret key: a self-signed
/// certificate `CN=<tenant> CRL signer, O=anchorage` (key usage cRLSign, ECDSA P-256, 10
/// years). The signer's row is made either way: it holds the CRL counter.
pub async fn crl_signer(state: &AppState, tenant: &str) -> Result<CrlSigner, AppError> {
    let row = match db::crl::signer(&state.db, tenant).await? {
        Some(row) => row,
        None => {
            let made = make_signer(state, tenant)?;
            db::crl::insert_signer_first(&state.db, tenant, &made, &state.now_text()).await?;
            tracing::info!(tenant, "made the tenant's CRL signer");
            db::crl::signer(&state.db, tenant)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("no CRL signer")))?
        }
    };
    let now = state.clock.now();
    let in_date = |der: &[u8]| crate::ca::ca_not_after(der).is_ok_and(|end| end > now);
    if let Some(authority) =
        db::ca::current(&state.db, tenant).await?.filter(|c| c.status == "ENABLED" && in_date(&c.der))
    {
        match crate::ca::issuer(
            &state.secrets,
            tenant,
            &authority.der,
            &authority.private_key,
            &authority.key_algorithm,
        ) {
            Ok(issuer) => return Ok(CrlSigner { certificate_der: authority.der, issuer }),
            // The CRL still gets signed, by the tenant's own signer.
            Err(e) => tracing::error!(tenant, error = format!("{e:#}"), "the tenant CA's key does not open"),
        }
    }
    let key_der = state.secrets.open(&row.private_key, &signer_key_context(tenant)).map_err(AppError::internal)?;
    let key = rcgen::KeyPair::try_from(key_der.as_slice()).map_err(AppError::internal)?;
    let issuer =
        rcgen::Issuer::from_ca_cert_der(&row.certificate.as_slice().into(), key).map_err(AppError::internal)?;
    Ok(CrlSigner { certificate_der: row.certificate, issuer })
}

/// A new signer for `tenant`, its key sealed.
fn make_signer(state: &AppState, tenant: &str) -> Result<db::crl::SignerRow, AppError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(AppError::internal)?;
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, format!("{tenant} CRL signer"));
    dn.push(rcgen::DnType::OrganizationName, "anchorage");
    params.distinguished_name = dn;
    params.key_usages = vec![rcgen::KeyUsagePurpose::CrlSign];
    params.is_ca = rcgen::IsCa::NoCa;
    let mut serial: [u8; 16] = rand::random();
    serial[0] = (serial[0] & 0x7f) | 0x40;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    let now = state.clock.now().to_offset(UtcOffset::UTC);
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + SIGNER_VALIDITY;
    let cert = params.self_signed(&key).map_err(AppError::internal)?;
    let private_key =
        state.secrets.seal(&key.serialize_der(), &signer_key_context(tenant)).map_err(AppError::internal)?;
    Ok(db::crl::SignerRow { certificate: cert.der().to_vec(), private_key })
}

/// The CRLs of the process: the last one built for each tenant, and the lock that lets one
/// build run at a time. Held in [`AppState`] (`crl_downloads`).
///
/// A kept CRL is served while it is current — the tenant's CRL counter
/// ([`db::crl::crl_number`], which every change to the list moves, also one made by another
/// process such as `anchorage crl remove`) still holds its number and its signer is the
/// tenant's — and younger than [`CRL_REUSE`]. At most [`CACHED_CRLS`] tenants and
/// [`CACHED_CRL_BYTES`] in all; the oldest goes first.
#[derive(Default)]
pub struct CrlCache {
    built: Mutex<HashMap<String, BuiltCrl>>,
    /// Held by the build under way (in a task of its own, so a client that goes away does not
    /// release it before the build ends).
    building: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A signed CRL as kept.
struct BuiltCrl {
    number: i64,
    /// The signer's certificate (DER) when it was built.
    signer: Vec<u8>,
    built_at: OffsetDateTime,
    der: Bytes,
}

impl CrlCache {
    /// `tenant`'s kept CRL if it is current at `now` (`latest`: the tenant's CRL counter and
    /// signer).
    fn current(&self, tenant: &str, latest: Option<&(i64, Vec<u8>)>, now: OffsetDateTime) -> Option<Bytes> {
        let (number, signer) = latest?;
        let built = self.lock();
        let crl = built.get(tenant)?;
        let age = now - crl.built_at;
        (crl.number == *number && crl.signer == *signer && !age.is_negative() && age < CRL_REUSE)
            .then(|| crl.der.clone())
    }

    /// Keeps `crl` as `tenant`'s, making room (oldest first).
    fn keep(&self, tenant: &str, crl: BuiltCrl) {
        let mut built = self.lock();
        built.remove(tenant);
        if crl.der.len() > CACHED_CRL_BYTES {
            return;
        }
        let full = |built: &HashMap<String, BuiltCrl>| {
            built.len() >= CACHED_CRLS
                || built.values().map(|c| c.der.len()).sum::<usize>().saturating_add(crl.der.len()) > CACHED_CRL_BYTES
        };
        while full(&built) {
            let Some(oldest) = built.iter().min_by_key(|(_, c)| c.built_at).map(|(t, _)| t.clone()) else { break };
            built.remove(&oldest);
        }
        built.insert(tenant.to_owned(), crl);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, BuiltCrl>> {
        self.built.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `tenant`'s CRL (DER): every entry, `thisUpdate` when it was built, `nextUpdate`
/// [`CRL_VALIDITY`] later. The kept one while it is current ([`CrlCache`]); else a new one with
/// the next CRL number, built by one request at a time.
pub async fn crl_der(state: &AppState, tenant: &str) -> Result<Bytes, AppError> {
    let latest = db::crl::crl_number(&state.db, tenant, &state.now_text()).await?;
    if let Some(der) = state.crl_downloads.current(tenant, latest.as_ref(), state.clock.now()) {
        return Ok(der);
    }
    if let Some(der) = shared(state, tenant, latest.as_ref()).await? {
        return Ok(der);
    }
    // In a task of its own: the build finishes (and is kept) even if this request goes away,
    // and no second build starts meanwhile.
    let (state, tenant) = (state.clone(), tenant.to_owned());
    tokio::spawn(async move { build_and_keep(&state, &tenant).await }).await.map_err(AppError::internal)?
}

/// Builds, signs and keeps `tenant`'s CRL, one build at a time; a request that waited for the
/// lock takes the CRL the build before it kept, when that is current.
async fn build_and_keep(state: &AppState, tenant: &str) -> Result<Bytes, AppError> {
    let cache = &state.crl_downloads;
    let _building = std::sync::Arc::clone(&cache.building).lock_owned().await;
    let latest = db::crl::crl_number(&state.db, tenant, &state.now_text()).await?;
    if let Some(der) = cache.current(tenant, latest.as_ref(), state.clock.now()) {
        return Ok(der);
    }
    if let Some(der) = shared(state, tenant, latest.as_ref()).await? {
        return Ok(der);
    }
    let signer = crl_signer(state, tenant).await?;
    let number = db::crl::next_crl_number(&state.db, tenant)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the CRL signer has gone")))?;
    // Read after the number is taken: a change the CRL misses takes a later number, so the CRL
    // is not current any more once such a change is made.
    let mut revoked_certs = Vec::new();
    db::crl::each_entry(&state.db, tenant, |row| {
        revoked_certs.push(revoked_cert(&row)?);
        Ok::<_, AppError>(())
    })
    .await?;
    let now = state.clock.now();
    let certificate = signer.certificate_der.clone();
    let der = tokio::task::spawn_blocking(move || build_crl(&signer, number, revoked_certs, now))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    tracing::info!(tenant, number, bytes = der.len(), "built the tenant's CRL");
    let stored = db::crl::BuildRow {
        crl_number: number,
        signer: certificate.clone(),
        built_at: now.unix_timestamp(),
        der: der.to_vec(),
    };
    db::crl::store_build(&state.db, tenant, &stored).await?;
    cache.keep(tenant, BuiltCrl { number, signer: certificate, built_at: now, der: der.clone() });
    Ok(der)
}

/// The CRL stored in the database for the list as it is now (`latest`: the tenant's CRL
/// counter and signer), if it is younger than [`CRL_REUSE`]: built by this instance or
/// another. Several instances behind a load balancer serve one CRL this way; each building its
/// own would take a new number, making the others' out of date, and every download would
/// rebuild. Kept in memory too.
async fn shared(state: &AppState, tenant: &str, latest: Option<&(i64, Vec<u8>)>) -> Result<Option<Bytes>, AppError> {
    let Some((number, signer)) = latest else { return Ok(None) };
    let Some(row) = db::crl::build(&state.db, tenant, *number).await? else { return Ok(None) };
    let Ok(built_at) = OffsetDateTime::from_unix_timestamp(row.built_at) else { return Ok(None) };
    let age = state.clock.now() - built_at;
    if row.signer != *signer || age.is_negative() || age >= CRL_REUSE {
        return Ok(None);
    }
    let der = Bytes::from(row.der);
    state.crl_downloads.keep(tenant, BuiltCrl { number: *number, signer: row.signer, built_at, der: der.clone() });
    Ok(Some(der))
}

/// A stored entry as the CRL lists it.
fn revoked_cert(row: &db::crl::EntryRow) -> Result<rcgen::RevokedCertParams, AppError> {
    Ok(rcgen::RevokedCertParams {
        serial_number: rcgen::SerialNumber::from_slice(&serial_bytes(&row.serial_hex).map_err(AppError::internal)?),
        revocation_time: stored_date(&row.revocation_date).map_err(AppError::internal)?,
        reason_code: None,
        invalidity_date: None,
    })
}

/// Signs a CRL of `revoked_certs`, which it consumes (their memory is freed before the DER is
/// handed on).
fn build_crl(
    signer: &CrlSigner,
    number: i64,
    revoked_certs: Vec<rcgen::RevokedCertParams>,
    now: OffsetDateTime,
) -> anyhow::Result<Bytes> {
    let this_update = now.to_offset(UtcOffset::UTC);
    anyhow::ensure!((1..=9998).contains(&this_update.year()), "the server's clock is out of range");
    let params = rcgen::CertificateRevocationListParams {
        this_update,
        next_update: this_update + CRL_VALIDITY,
        crl_number: rcgen::SerialNumber::from_slice(&number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(&signer.issuer)?;
    drop(params);
    // The DER as it is, without a copy.
    Ok(Bytes::from_owner(rustls::pki_types::CertificateRevocationListDer::from(crl)))
}

/// A stored serial (normal form) as bytes.
fn serial_bytes(serial_hex: &str) -> anyhow::Result<Vec<u8>> {
    let even = if serial_hex.len() % 2 == 1 { format!("0{serial_hex}") } else { serial_hex.to_owned() };
    hex::decode(&even).map_err(|_| anyhow::anyhow!("a stored serial is not hex: {serial_hex}"))
}

/// A stored revocation date, in UTC and in the years a CRL can hold.
fn stored_date(text: &str) -> anyhow::Result<OffsetDateTime> {
    timefmt::parse(text)
        .map(|d| d.to_offset(UtcOffset::UTC))
        .filter(|d| (0..=9999).contains(&d.year()))
        .ok_or_else(|| anyhow::anyhow!("a stored revocation date is unreadable: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_serials_become_their_bytes() {
        assert_eq!(serial_bytes("0").unwrap(), vec![0]);
        assert_eq!(serial_bytes("abc").unwrap(), vec![0x0a, 0xbc]);
        assert_eq!(serial_bytes("8f01").unwrap(), vec![0x8f, 0x01]);
        assert!(serial_bytes("zz").is_err());
    }

    #[test]
    fn stored_dates_are_read_in_utc() {
        let d = stored_date("2023-01-11T16:12:36.288Z").unwrap();
        assert_eq!(d.offset(), UtcOffset::UTC);
        assert!(stored_date("yesterday").is_err());
    }
}
