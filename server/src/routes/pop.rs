//! Proof of possession (PoP) of a trusted certificate's private key, as the platform serves it
//! under `/tenant/tenants/{tenantId}/trusted-certificates-pop/{fingerprint}`:
//!
//! - `POST …/verification-code` generates a code (base64 of [`pop::CODE_RANDOM_BYTES`] random
//!   bytes, usable for [`pop::CODE_TTL_SECONDS`]), replacing any earlier one;
//! - `POST …/pop` with `{"proofOfPossessionSignedVerificationCode": "<base64>"}` checks a
//!   signature of the code's exact bytes with the stored certificate's public key (RSA PKCS #1
//!   v1.5 with SHA-256, ECDSA with SHA-256 and a DER signature on P-256, P-384 or P-521,
//!   Ed25519) and marks the proof valid;
//! - `POST …/confirmed` marks it valid without a signature (an admin's override, audited).
//!
//! Statuses: a signature that does not verify, or cannot be read, is 400 (the platform's
//! "signed verification code is not correct"); an expired code, no code generated yet, or a key
//! anchorage cannot check is 422 (the platform's "proof of possession was not confirmed"); an
//! unknown fingerprint is 404. Every answer that succeeds is the full certificate.
//!
//! Also here: the tenant option `configuration/trusted-certificates.pop.required.enabled`,
//! which the create and update handlers consult before a certificate becomes ENABLED.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::post;
use axum::{Extension, Json};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use anchorage_common::api::{ProofOfPossession, TrustedCertificate};
use anchorage_common::pop::{self, EcCurve, KeyKind, SignatureError};
use anchorage_common::{options, timefmt};

use crate::audit;
use crate::auth::AuthUser;
use crate::db::trusted_certificates::{self as queries, CertificateRow};
use crate::error::AppError;
use crate::extract::{ApiJson, BaseUrl, ClientAddress};
use crate::routes::trusted_certificates::{RESOURCE, audit_text, normalize, not_found, own_tenant, to_wire};
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(
            Method::POST,
            "/tenant/tenants/{tenant_id}/trusted-certificates-pop/{fingerprint}/verification-code",
            Access::Admin,
            post(generate_code),
        ),
        Endpoint::new(
            Method::POST,
            "/tenant/tenants/{tenant_id}/trusted-certificates-pop/{fingerprint}/pop",
            Access::Admin,
            post(prove),
        ),
        Endpoint::new(
            Method::POST,
            "/tenant/tenants/{tenant_id}/trusted-certificates-pop/{fingerprint}/confirmed",
            Access::Admin,
            post(confirm),
        ),
    ]
}

/// Whether the tenant requires a valid proof of possession before a certificate is ENABLED
/// (`configuration/trusted-certificates.pop.required.enabled` is `true`).
pub(crate) async fn required(state: &AppState, tenant: &str) -> Result<bool, AppError> {
    let value = crate::db::options::get(&state.db, tenant, options::CONFIGURATION, options::POP_REQUIRED).await?;
    Ok(options::switch_on(value.as_deref()))
}

/// The 422 for enabling a certificate whose proof of possession is not complete while
/// [`required`]; `new` for an upload with status ENABLED.
pub(crate) fn enable_refused(fingerprint: &str, new: bool) -> AppError {
    AppError::unprocessable(RESOURCE, pop::enable_refused_message(fingerprint, new))
}

/// A fresh verification code: base64 of [`pop::CODE_RANDOM_BYTES`] random bytes.
fn new_code() -> Result<String, AppError> {
    let mut bytes = [0u8; pop::CODE_RANDOM_BYTES];
    aws_lc_rs::rand::fill(&mut bytes).map_err(AppError::internal)?;
    Ok(STANDARD.encode(bytes))
}

async fn find(state: &AppState, tenant: &str, fingerprint: &str) -> Result<CertificateRow, AppError> {
    queries::find(&state.db, tenant, fingerprint).await?.ok_or_else(|| not_found(fingerprint))
}

/// What every endpoint here starts with: `tenant_id` must be the caller's own tenant, and
/// `fingerprint` (normalised) one of its certificates; 404 otherwise. The normalised
/// fingerprint and the certificate.
async fn own_certificate(
    state: &AppState,
    user: &AuthUser,
    tenant_id: &str,
    fingerprint: &str,
) -> Result<(String, CertificateRow), AppError> {
    own_tenant(user, tenant_id)?;
    let fingerprint = normalize(fingerprint);
    let row = find(state, tenant_id, &fingerprint).await?;
    Ok((fingerprint, row))
}

/// One audit record about a certificate's proof of possession.
async fn record(
    state: &AppState,
    user: &AuthUser,
    address: Option<&str>,
    row: &CertificateRow,
    activity: &str,
    what: &str,
    warning: bool,
) -> Result<(), AppError> {
    let text = audit_text(what, &user.tenant, &row.fingerprint, &row.subject, "");
    let mut event = audit::Event::info(audit::types::TENANT, activity, text, Some(&user.user_name))
        .from_address(address)
        .with_details(serde_json::json!({"fingerprint": row.fingerprint, "name": row.name}));
    if warning {
        event = event.warning();
    }
    audit::record(state, &user.tenant, event).await
}

async fn generate_code(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path((tenant_id, fingerprint)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
) -> Result<Json<TrustedCertificate>, AppError> {
    let (fingerprint, _) = own_certificate(&state, &user, &tenant_id, &fingerprint).await?;
    let code = new_code()?;
    let usable_until = timefmt::platform(state.clock.now() + time::Duration::seconds(pop::CODE_TTL_SECONDS));
    if !queries::set_pop_code(&state.db, &tenant_id, &fingerprint, &code, &usable_until, &state.now_text()).await? {
        return Err(not_found(&fingerprint));
    }
    let row = find(&state, &tenant_id, &fingerprint).await?;
    tracing::info!(tenant = %tenant_id, user = %user.user_name, fingerprint = %fingerprint, "proof of possession code generated");
    record(
        &state,
        &user,
        address.as_deref(),
        &row,
        "Trusted certificate proof of possession code generated",
        "proof of possession verification code generated on",
        false,
    )
    .await?;
    Ok(Json(to_wire(row, &base, &tenant_id, true)))
}

async fn prove(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path((tenant_id, fingerprint)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
    ApiJson(body): ApiJson<ProofOfPossession>,
) -> Result<Json<TrustedCertificate>, AppError> {
    let (fingerprint, row) = own_certificate(&state, &user, &tenant_id, &fingerprint).await?;
    let text = match &body.proof_of_possession_signed_verification_code {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(_) => {
            return Err(AppError::unprocessable(
                RESOURCE,
                format!("{} must be a string: the base64 signature of the verification code", pop::SIGNED_CODE_FIELD),
            ));
        }
        None => {
            return Err(AppError::unprocessable(
                RESOURCE,
                format!("{} is required: the base64 signature of the verification code", pop::SIGNED_CODE_FIELD),
            ));
        }
    };
    let (Some(code), Some(until)) = (row.pop_code.clone(), row.pop_code_usable_until.as_deref()) else {
        return Err(AppError::unprocessable(RESOURCE, pop::no_code_message(&tenant_id, &fingerprint)));
    };
    // A stored date that cannot be read counts as expired: a new code is one click away.
    if timefmt::parse(until).is_none_or(|until| state.clock.now() > until) {
        refused(&state, &user, address.as_deref(), &row, "expired").await?;
        return Err(AppError::unprocessable(RESOURCE, pop::expired_code_message(&tenant_id, &fingerprint)));
    }
    let signature =
        pop::read_signature(text).map_err(|e: SignatureError| AppError::bad_request(RESOURCE, e.to_string()))?;
    let key = pop::certificate_key(&row.der).map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    let algorithm: &'static dyn VerificationAlgorithm = match key.kind {
        KeyKind::Rsa => &signature::RSA_PKCS1_2048_8192_SHA256,
        KeyKind::Ecdsa(EcCurve::P256) => &signature::ECDSA_P256_SHA256_ASN1,
        KeyKind::Ecdsa(EcCurve::P384) => &signature::ECDSA_P384_SHA256_ASN1,
        KeyKind::Ecdsa(EcCurve::P521) => &signature::ECDSA_P521_SHA256_ASN1,
        KeyKind::Ed25519 => &signature::ED25519,
        KeyKind::Unsupported => {
            return Err(AppError::unprocessable(RESOURCE, pop::unsupported_key_message(&fingerprint)));
        }
    };
    let verified = UnparsedPublicKey::new(algorithm, &key.public_key).verify(code.as_bytes(), &signature).is_ok();
    // Only while the code signed is still the stored one (not regenerated meanwhile).
    if !verified || !queries::set_pop_valid(&state.db, &tenant_id, &fingerprint, Some(&code), &state.now_text()).await?
    {
        refused(&state, &user, address.as_deref(), &row, "wrong").await?;
        return Err(AppError::bad_request(RESOURCE, pop::wrong_code_message(&tenant_id, &fingerprint)));
    }
    let row = find(&state, &tenant_id, &fingerprint).await?;
    tracing::info!(tenant = %tenant_id, user = %user.user_name, fingerprint = %fingerprint, "proof of possession verified");
    record(
        &state,
        &user,
        address.as_deref(),
        &row,
        "Trusted certificate proof of possession verified",
        "proof of possession verified on",
        false,
    )
    .await?;
    Ok(Json(to_wire(row, &base, &tenant_id, true)))
}

/// Records a refused proof (`why`: `expired` or `wrong`) as a warning.
async fn refused(
    state: &AppState,
    user: &AuthUser,
    address: Option<&str>,
    row: &CertificateRow,
    why: &str,
) -> Result<(), AppError> {
    let what = match why {
        "expired" => "proof of possession refused (verification code expired) on",
        _ => "proof of possession refused (wrong signed verification code) on",
    };
    record(state, user, address, row, "Trusted certificate proof of possession refused", what, true).await
}

async fn confirm(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    ClientAddress(address): ClientAddress,
    Path((tenant_id, fingerprint)): Path<(String, String)>,
    BaseUrl(base): BaseUrl,
) -> Result<Json<TrustedCertificate>, AppError> {
    let (fingerprint, _) = own_certificate(&state, &user, &tenant_id, &fingerprint).await?;
    if !queries::set_pop_valid(&state.db, &tenant_id, &fingerprint, None, &state.now_text()).await? {
        return Err(not_found(&fingerprint));
    }
    let row = find(&state, &tenant_id, &fingerprint).await?;
    tracing::warn!(tenant = %tenant_id, user = %user.user_name, fingerprint = %fingerprint, "proof of possession confirmed without a signature");
    let text = audit_text(
        "proof of possession confirmed without a signature (override) on",
        &tenant_id,
        &fingerprint,
        &row.subject,
        "",
    );
    let event = audit::Event::info(
        audit::types::TENANT,
        "Trusted certificate proof of possession confirmed",
        text,
        Some(&user.user_name),
    )
    .warning()
    .from_address(address.as_deref())
    .with_details(serde_json::json!({"fingerprint": fingerprint, "name": row.name, "override": true}));
    audit::record(&state, &tenant_id, event).await?;
    Ok(Json(to_wire(row, &base, &tenant_id, true)))
}
