//! The tenant's own certificate authority, as the platform serves it (§6.1):
//!
//! * `POST /certificate-authority`: makes the tenant's CA (201, a TrustedCertificate with
//!   `tenantCertificateAuthority: true`, ENABLED, auto-registration on); 409 if it has one.
//! * `POST /certificate-authority/renew`: the same key and subject with new dates (200), once
//!   less than 24 months are left; else 422.
//! * `POST /certificate-authority/rollover` (anchorage's): a new CA with a new key signs from now
//!   on; the earlier one stays trusted until deleted, so devices it certified keep working
//!   until they have renewed (docs/decisions.md, "The tenant's CA and EST").
//!
//! The CA is read through the trusted certificates (`?certificateAuthority=true`) and deleted
//! like any of them, which deletes its key.

use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json};

use anchorage_common::api::{CertificateStatus, CertificateUpload};
use anchorage_common::est;

use crate::audit;
use crate::auth::AuthUser;
use crate::ca;
use crate::db;
use crate::error::AppError;
use crate::extract::{BaseUrl, ClientAddress};
use crate::routes::trusted_certificates::to_wire;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

const RESOURCE: &str = "certificate-authority";
use audit::types::TENANT_CERTIFICATE_AUTHORITY as AUDIT_TYPE;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/certificate-authority", Access::Admin, post(create)),
        Endpoint::new(Method::POST, "/certificate-authority/renew", Access::Admin, post(renew)),
        Endpoint::new(Method::POST, "/certificate-authority/rollover", Access::Admin, post(rollover)),
    ]
}

/// The lock under which a tenant's CAs change.
fn lock(tenant: &str) -> String {
    format!("tenant_cas/{tenant}")
}

async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    BaseUrl(base): BaseUrl,
) -> Result<Response, AppError> {
    make(&state, &user, address.as_deref(), &base, false).await
}

async fn rollover(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    BaseUrl(base): BaseUrl,
) -> Result<Response, AppError> {
    make(&state, &user, address.as_deref(), &base, true).await
}

/// Makes the tenant's CA; with `rollover`, one that replaces the current CA as the signer.
async fn make(
    state: &AppState,
    user: &AuthUser,
    address: Option<&str>,
    base: &str,
    rollover: bool,
) -> Result<Response, AppError> {
    let tenant = user.tenant.as_str();
    let settings = state.config.tenant_ca_settings();
    // Key generation (RSA takes a while) before any lock is taken.
    let (key, der) = tokio::task::spawn_blocking({
        let (tenant, settings, now) = (tenant.to_string(), settings.clone(), state.clock.now());
        move || -> anyhow::Result<_> {
            let key = settings.key.generate()?;
            let der = ca::make_ca(&tenant, &settings, &key, now)?;
            Ok((key, der))
        }
    })
    .await
    .map_err(|e| AppError::internal(anyhow::anyhow!("making the CA: {e}")))?
    .map_err(AppError::internal)?;
    let info = anchorage_common::cert::inspect(&der, state.clock.now())
        .map_err(|e| AppError::internal(anyhow::anyhow!("reading the new CA: {e}")))?
        .info;
    let context = ca::ca_key_context(tenant, &der).map_err(AppError::internal)?;
    let sealed = state.secrets.seal(&key.serialize_der(), &context).map_err(AppError::internal)?;
    let upload = CertificateUpload {
        name: format!("{tenant} certificate authority"),
        status: CertificateStatus::Enabled,
        auto_registration_enabled: true,
        info,
    };
    let mut tx = state.db.begin_serialized(&lock(tenant)).await?;
    let current = db::ca::current(&mut tx, tenant).await?;
    match (&current, rollover) {
        (Some(_), false) => {
            return Err(AppError::conflict(
                RESOURCE,
                format!(
                    "Certificate Authority already exists for tenant {tenant}. Renew it, or roll over to a new one with \
                     POST /certificate-authority/rollover."
                ),
            ));
        }
        (None, true) => {
            return Err(AppError::not_found(
                RESOURCE,
                format!("Certificate Authority is not found for tenant {tenant}; create one first."),
            ));
        }
        (Some(_), true) => {
            db::ca::retire_current(&mut tx, tenant).await?;
        }
        (None, false) => {}
    }
    db::ca::insert(&mut tx, tenant, &upload, &sealed, settings.key.label(), &state.now_text()).await?;
    tx.commit().await?;
    let fingerprint = &upload.info.fingerprint;
    tracing::info!(tenant, user = %user.user_name, fingerprint = %fingerprint, rollover, "tenant CA made");
    let (activity, text) = if rollover {
        (
            "Tenant certificate authority(CA) rolled over",
            format!(
                "Tenant certificate authority(CA) rolled over on '{tenant}': the new CA signs; the previous one, '{}', stays trusted until deleted.",
                current.as_ref().map(|c| c.fingerprint.as_str()).unwrap_or_default()
            ),
        )
    } else {
        ("Tenant certificate authority(CA) created", format!("Tenant certificate authority(CA) created on '{tenant}'"))
    };
    let event = audit::Event::info(AUDIT_TYPE, activity, text, Some(&user.user_name))
        .from_address(address)
        .with_details(serde_json::json!({
            "fingerprint": fingerprint,
            "keyAlgorithm": settings.key.label(),
            "notAfter": upload.info.not_after_text(),
            "previousFingerprint": current.as_ref().map(|c| &c.fingerprint),
        }));
    audit::record(state, tenant, event).await?;
    let row = db::trusted_certificates::find(&state.db, tenant, fingerprint)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the new CA is not stored")))?;
    let cert = to_wire(row, base, tenant, true);
    Ok((StatusCode::CREATED, [(header::LOCATION, cert.self_url.clone())], Json(cert)).into_response())
}

async fn renew(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    BaseUrl(base): BaseUrl,
) -> Result<Response, AppError> {
    let tenant = user.tenant.as_str();
    let now = state.clock.now();
    let refused = || AppError::unprocessable(RESOURCE, est::renewal_refused(tenant));
    let mut tx = state.db.begin_serialized(&lock(tenant)).await?;
    let Some(current) = db::ca::current(&mut tx, tenant).await? else {
        return Err(refused());
    };
    let not_after = ca::ca_not_after(&current.der).map_err(AppError::internal)?;
    if !est::ca_renewal_allowed(not_after, now) {
        let days = (not_after - now).whole_days();
        tracing::info!(tenant, days, "CA renewal refused: not within 24 months of its end");
        let event = audit::Event::info(
            AUDIT_TYPE,
            "Tenant certificate authority(CA) renewal refused",
            format!(
                "The CA certificate has not been refreshed. It may either still have sufficient remaining validity \
                 ({days} days left; it can be renewed once fewer than {} are left) or not exist.",
                est::CA_RENEWAL_WINDOW.whole_days()
            ),
            Some(&user.user_name),
        )
        .from_address(address.as_deref());
        drop(tx);
        audit::record(&state, tenant, event).await?;
        return Err(refused());
    }
    let issuer = ca::issuer(&state.secrets, tenant, &current.der, &current.private_key, &current.key_algorithm)
        .map_err(AppError::internal)?;
    let validity = state.config.tenant_ca_settings().validity;
    let renewed = ca::renew_ca(&current.der, issuer.key(), now, validity).map_err(AppError::internal)?;
    let info = anchorage_common::cert::inspect(&renewed, now)
        .map_err(|e| AppError::internal(anyhow::anyhow!("reading the renewed CA: {e}")))?
        .info;
    db::ca::renew(&mut tx, current.certificate_id, &info, &state.now_text()).await?;
    tx.commit().await?;
    tracing::info!(tenant, fingerprint = %info.fingerprint, "tenant CA renewed");
    let event = audit::Event::info(
        AUDIT_TYPE,
        "Tenant certificate authority(CA) renewed",
        format!("Tenant certificate authority(CA) was renewed for Tenant: '{tenant}'"),
        Some(&user.user_name),
    )
    .from_address(address.as_deref())
    .with_details(serde_json::json!({
        "previousFingerprint": current.fingerprint,
        "fingerprint": info.fingerprint,
        "notAfter": info.not_after_text(),
    }));
    audit::record(&state, tenant, event).await?;
    let row = db::trusted_certificates::find(&state.db, tenant, &info.fingerprint)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the renewed CA is not stored")))?;
    Ok(Json(to_wire(row, &base, tenant, true)).into_response())
}
