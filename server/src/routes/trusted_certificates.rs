//! Trusted certificates, as the platform serves them under
//! `/tenant/tenants/{tenantId}/trusted-certificates`: list, create, bulk create, get, update,
//! delete. Every certificate is checked by the rules in `anchorage_common::cert`.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json};

use anchorage_common::api::{
    BulkNewTrustedCertificates, CertificateDeviceCount, CertificateStatus, CertificateUpload, MAX_BULK_CERTIFICATES,
    NewTrustedCertificate, TrustedCertificate, TrustedCertificateCollection, UpdateTrustedCertificate, UploadError,
};
use anchorage_common::pem;

use crate::audit;
use crate::auth::AuthUser;
use crate::db;
use crate::db::trusted_certificates::{self as queries, CertificateRow};
use crate::error::{AppError, is_unique_violation};
use crate::extract::{ApiJson, BaseUrl, ClientAddress, Paging};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub(crate) const RESOURCE: &str = "tenant";

pub fn endpoints() -> Vec<Endpoint> {
    const ALL: &str = "/tenant/tenants/{tenant_id}/trusted-certificates";
    const ONE: &str = "/tenant/tenants/{tenant_id}/trusted-certificates/{fingerprint}";
    vec![
        Endpoint::new(Method::GET, ALL, Access::Read, get(list_certificates)),
        Endpoint::new(Method::POST, ALL, Access::Admin, post(create_certificate)),
        Endpoint::new(
            Method::POST,
            "/tenant/tenants/{tenant_id}/trusted-certificates/bulk",
            Access::Admin,
            post(create_certificates_bulk),
        ),
        Endpoint::new(Method::GET, ONE, Access::Read, get(get_certificate)),
        Endpoint::new(Method::PUT, ONE, Access::Admin, put(update_certificate)),
        Endpoint::new(Method::DELETE, ONE, Access::Admin, delete(delete_certificate)),
        // anchorage's own: what disabling or deleting the certificate would affect.
        Endpoint::new(
            Method::GET,
            "/tenant/tenants/{tenant_id}/trusted-certificates/{fingerprint}/devices/count",
            Access::Read,
            get(count_devices),
        ),
    ]
}

/// The caller may only address its own tenant; any other id is "not found".
pub(crate) fn own_tenant(user: &AuthUser, tenant_id: &str) -> Result<(), AppError> {
    if user.tenant == tenant_id {
        Ok(())
    } else {
        Err(AppError::not_found(RESOURCE, format!("Tenant with id {tenant_id} not found.")))
    }
}

/// Whether the caller is an admin (who sees proof-of-possession codes).
fn is_admin(user: &AuthUser) -> bool {
    user.role() == Some(anchorage_common::users::UserRole::Admin)
}

fn collection_url(base: &str, tenant: &str) -> String {
    format!("{base}/tenant/tenants/{tenant}/trusted-certificates")
}

/// The certificate as the API shows it. The proof-of-possession code and its expiry are shown
/// only with `show_code` (to admins); `proofOfPossessionValid` to everyone.
pub(crate) fn to_wire(row: CertificateRow, base: &str, tenant: &str, show_code: bool) -> TrustedCertificate {
    TrustedCertificate {
        self_url: format!("{}/{}", collection_url(base, tenant), row.fingerprint),
        name: row.name,
        cert_in_pem_format: pem::to_single_line_base64(&row.der),
        fingerprint: row.fingerprint,
        status: CertificateStatus::parse(&row.status).unwrap_or(CertificateStatus::Disabled),
        auto_registration_enabled: row.auto_registration_enabled,
        serial_number: row.serial_number,
        version: u32::try_from(row.version).unwrap_or_default(),
        algorithm_name: row.algorithm_name,
        subject: row.subject,
        issuer: row.issuer,
        not_before: row.not_before,
        not_after: row.not_after,
        proof_of_possession_valid: row.pop_valid,
        proof_of_possession_unsigned_verification_code: row.pop_code.filter(|_| show_code),
        proof_of_possession_verification_code_usable_until: row.pop_code_usable_until.filter(|_| show_code),
        tenant_certificate_authority: row.tenant_ca,
    }
}

/// The platform's audit text for a trusted certificate (`… on '<tenant>'.` plus its details).
pub(crate) fn audit_text(what: &str, tenant: &str, fingerprint: &str, subject: &str, extra: &str) -> String {
    format!(
        "Trusted certificate {what} '{tenant}'. Certificate fingerprint: '{fingerprint}'.\n Certificate subject name: '{subject}'.\n{extra}"
    )
}

/// Records the upload in `tx`: the audit record is committed with the certificate or not at all.
async fn audit_added(
    tx: &mut db::Tx,
    now: &str,
    user: &AuthUser,
    address: Option<&str>,
    up: &CertificateUpload,
) -> Result<(), AppError> {
    let i = &up.info;
    let text =
        audit_text("added to", &user.tenant, &i.fingerprint, &i.subject, &format!(" Status='{}'", up.status.as_str()));
    let event = audit::Event::info(audit::types::TENANT, "Trusted certificate added", text, Some(&user.user_name))
        .from_address(address)
        .with_details(serde_json::json!({"fingerprint": i.fingerprint, "name": up.name, "autoRegistrationEnabled": up.auto_registration_enabled}));
    audit::record_in(tx, &user.tenant, now, event).await
}

pub(crate) fn not_found(fingerprint: &str) -> AppError {
    AppError::not_found(RESOURCE, format!("Cannot find certificate with fingerprint {fingerprint}."))
}

fn duplicate(fingerprint: &str) -> AppError {
    AppError::conflict(
        RESOURCE,
        format!(
            "Cannot add certificate - certificate with {fingerprint} fingerprint already exists. : \
             Certificate with {fingerprint} fingerprint already exists."
        ),
    )
}

fn upload_error(e: UploadError) -> AppError {
    AppError::unprocessable(RESOURCE, e.to_string())
}

/// Fingerprints in paths are compared in lowercase, as the platform prints them.
pub(crate) fn normalize(fingerprint: &str) -> String {
    fingerprint.trim().to_ascii_lowercase()
}

async fn list_certificates(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    Path(tenant_id): Path<String>,
    BaseUrl(base): BaseUrl,
    paging: Paging,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<TrustedCertificateCollection>, AppError> {
    own_tenant(&user, &tenant_id)?;
    // `certificateAuthority=true`: the tenant's own CAs only.
    let only_tenant_ca = query.as_deref().is_some_and(|q| q.split('&').any(|kv| kv == "certificateAuthority=true"));
    let rows = queries::page(&state.db, &tenant_id, paging.page_size, paging.offset(), only_tenant_ca).await?;
    let total =
        if paging.needs_total() { Some(queries::count(&state.db, &tenant_id, only_tenant_ca).await?) } else { None };
    let url = collection_url(&base, &tenant_id);
    let links = paging.links(&url, &[("certificateAuthority", only_tenant_ca.then_some("true"))], rows.len(), total);
    Ok(Json(TrustedCertificateCollection {
        statistics: Some(paging.statistics(total)),
        self_url: Some(links.self_url),
        next: links.next,
        prev: links.prev,
        certificates: rows.into_iter().map(|r| to_wire(r, &base, &tenant_id, is_admin(&user))).collect(),
    }))
}

async fn create_certificate(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path(tenant_id): Path<String>,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<NewTrustedCertificate>,
) -> Result<Response, AppError> {
    own_tenant(&user, &tenant_id)?;
    let upload = body.check(state.clock.now()).map_err(upload_error)?;
    if upload.status == CertificateStatus::Enabled && crate::routes::pop::required(&state, &tenant_id).await? {
        return Err(crate::routes::pop::enable_refused(&upload.info.fingerprint, true));
    }
    // The certificate and its audit record: one transaction.
    let now = state.now_text();
    let mut tx = state.db.begin().await?;
    match queries::insert(&mut tx, &tenant_id, &upload, &now).await {
        Ok(()) => {}
        Err(e) if is_unique_violation(&e) => return Err(duplicate(&upload.info.fingerprint)),
        Err(e) => return Err(e.into()),
    }
    audit_added(&mut tx, &now, &user, address.as_deref(), &upload).await?;
    let row = queries::find(&mut tx, &tenant_id, &upload.info.fingerprint)
        .await?
        .ok_or_else(|| not_found(&upload.info.fingerprint))?;
    tx.commit().await?;
    tracing::info!(tenant = %tenant_id, user = %user.user_name, fingerprint = %upload.info.fingerprint, "trusted certificate added");
    let cert = to_wire(row, &base, &tenant_id, true);
    Ok((StatusCode::CREATED, [(header::LOCATION, cert.self_url.clone())], Json(cert)).into_response())
}

async fn create_certificates_bulk(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path(tenant_id): Path<String>,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<BulkNewTrustedCertificates>,
) -> Result<(StatusCode, Json<TrustedCertificateCollection>), AppError> {
    own_tenant(&user, &tenant_id)?;
    if body.certificates.is_empty() {
        return Err(AppError::unprocessable(RESOURCE, "certificates must hold at least one certificate"));
    }
    if body.certificates.len() > MAX_BULK_CERTIFICATES {
        return Err(AppError::unprocessable(
            RESOURCE,
            format!("at most {MAX_BULK_CERTIFICATES} certificates per request"),
        ));
    }
    let now = state.clock.now();
    let uploads: Vec<CertificateUpload> = body
        .certificates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.check(now).map_err(|e| {
                AppError::unprocessable(RESOURCE, format!("Certificate {} of {}: {e}", i + 1, body.certificates.len()))
            })
        })
        .collect::<Result<_, _>>()?;
    if let Some((i, up)) = uploads.iter().enumerate().find(|(_, u)| u.status == CertificateStatus::Enabled)
        && crate::routes::pop::required(&state, &tenant_id).await?
    {
        let message = anchorage_common::pop::enable_refused_message(&up.info.fingerprint, true);
        return Err(AppError::unprocessable(
            RESOURCE,
            format!("Certificate {} of {}: {message}", i + 1, uploads.len()),
        ));
    }
    // All or nothing: one transaction; the first duplicate (in the request or stored) aborts it.
    let stamp = state.now_text();
    let mut tx = state.db.begin().await?;
    for up in &uploads {
        match queries::insert(&mut tx, &tenant_id, up, &stamp).await {
            Ok(()) => {}
            Err(e) if is_unique_violation(&e) => return Err(duplicate(&up.info.fingerprint)),
            Err(e) => return Err(e.into()),
        }
    }
    let mut created = Vec::with_capacity(uploads.len());
    for up in &uploads {
        let row = queries::find(&mut tx, &tenant_id, &up.info.fingerprint)
            .await?
            .ok_or_else(|| not_found(&up.info.fingerprint))?;
        created.push(to_wire(row, &base, &tenant_id, true));
        audit_added(&mut tx, &stamp, &user, address.as_deref(), up).await?;
    }
    tx.commit().await?;
    tracing::info!(tenant = %tenant_id, user = %user.user_name, count = created.len(), "trusted certificates added in bulk");
    Ok((
        StatusCode::CREATED,
        Json(TrustedCertificateCollection {
            certificates: created,
            statistics: None,
            self_url: None,
            next: None,
            prev: None,
        }),
    ))
}

async fn get_certificate(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    Path((tenant_id, fingerprint)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
) -> Result<Json<TrustedCertificate>, AppError> {
    own_tenant(&user, &tenant_id)?;
    let fingerprint = normalize(&fingerprint);
    let row = queries::find(&state.db, &tenant_id, &fingerprint).await?.ok_or_else(|| not_found(&fingerprint))?;
    Ok(Json(to_wire(row, &base, &tenant_id, is_admin(&user))))
}

/// `GET …/trusted-certificates/{fingerprint}/devices/count` (anchorage's own): how many
/// devices last got a token through the certificate, so the console can state what disabling
/// or deleting it would do. 404 when the tenant has no such certificate.
async fn count_devices(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    Path((tenant_id, fingerprint)): Path<(String, String)>,
) -> Result<Json<CertificateDeviceCount>, AppError> {
    own_tenant(&user, &tenant_id)?;
    let fingerprint = normalize(&fingerprint);
    queries::find(&state.db, &tenant_id, &fingerprint).await?.ok_or_else(|| not_found(&fingerprint))?;
    let count = queries::devices_through(&state.db, &tenant_id, &fingerprint).await?;
    Ok(Json(CertificateDeviceCount { count }))
}

async fn update_certificate(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path((tenant_id, fingerprint)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<UpdateTrustedCertificate>,
) -> Result<Json<TrustedCertificate>, AppError> {
    own_tenant(&user, &tenant_id)?;
    let fingerprint = normalize(&fingerprint);
    let changes = body.check().map_err(|m| AppError::unprocessable(RESOURCE, m))?;
    let before = queries::find(&state.db, &tenant_id, &fingerprint).await?.ok_or_else(|| not_found(&fingerprint))?;
    // Enabling needs a valid proof of possession while the tenant requires one; a certificate
    // that is ENABLED already stays so.
    if changes.status == Some(CertificateStatus::Enabled)
        && before.status != CertificateStatus::Enabled.as_str()
        && !before.pop_valid
        && crate::routes::pop::required(&state, &tenant_id).await?
    {
        return Err(crate::routes::pop::enable_refused(&fingerprint, false));
    }
    // The change and its audit record: one transaction.
    let now = state.now_text();
    let mut tx = state.db.begin().await?;
    if !queries::update(&mut tx, &tenant_id, &fingerprint, &changes, &now).await? {
        return Err(not_found(&fingerprint));
    }
    let row = queries::find(&mut tx, &tenant_id, &fingerprint).await?.ok_or_else(|| not_found(&fingerprint))?;
    // One record per request, naming what changed (nothing changed: nothing to record).
    let mut changed: Vec<(&str, String)> = Vec::new();
    if before.status != row.status {
        let activity =
            if row.status == "ENABLED" { "Trusted certificate enabled" } else { "Trusted certificate disabled" };
        changed.push((activity, format!(" Status='{}'", row.status)));
    }
    if before.name != row.name {
        changed.push(("Trusted certificate renamed", format!(" Name='{}'", row.name)));
    }
    if before.auto_registration_enabled != row.auto_registration_enabled {
        let activity = if row.auto_registration_enabled {
            "Trusted certificate auto-registration enabled"
        } else {
            "Trusted certificate auto-registration disabled"
        };
        changed.push((activity, format!(" AutoRegistration='{}'", row.auto_registration_enabled)));
    }
    if !changed.is_empty() {
        tracing::info!(tenant = %tenant_id, user = %user.user_name, fingerprint = %fingerprint, ?changes, "trusted certificate updated");
        let activity = if changed.len() == 1 { changed[0].0 } else { "Trusted certificate updated" };
        let extra: String = changed.iter().map(|(_, e)| e.as_str()).collect();
        let text = audit_text("updated on", &tenant_id, &fingerprint, &row.subject, &extra);
        let event = audit::Event::info(audit::types::TENANT, activity, text, Some(&user.user_name))
            .from_address(address.as_deref())
            .with_details(serde_json::json!({"fingerprint": fingerprint, "name": row.name}));
        audit::record_in(&mut tx, &tenant_id, &now, event).await?;
    }
    tx.commit().await?;
    Ok(Json(to_wire(row, &base, &tenant_id, true)))
}

async fn delete_certificate(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path((tenant_id, fingerprint)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    own_tenant(&user, &tenant_id)?;
    let fingerprint = normalize(&fingerprint);
    let row = queries::find(&state.db, &tenant_id, &fingerprint).await?.ok_or_else(|| not_found(&fingerprint))?;
    let now = state.now_text();
    let mut tx = state.db.begin().await?;
    if !queries::delete(&mut tx, &tenant_id, &fingerprint).await? {
        return Err(not_found(&fingerprint));
    }
    let text = audit_text("deleted from", &tenant_id, &fingerprint, &row.subject, "");
    let event = audit::Event::info(audit::types::TENANT, "Trusted certificate deleted", text, Some(&user.user_name))
        .from_address(address.as_deref())
        .with_details(serde_json::json!({"fingerprint": fingerprint, "name": row.name}));
    audit::record_in(&mut tx, &tenant_id, &now, event).await?;
    tx.commit().await?;
    tracing::info!(tenant = %tenant_id, user = %user.user_name, fingerprint = %fingerprint, "trusted certificate deleted");
    Ok(StatusCode::NO_CONTENT)
}
