//! `POST /tenant/trusted-certificates/verify-cert-chain`: the chain doctor. An admin or reader
//! sends a device's chain (multipart part `file`, at most 10 certificates, or the header
//! `X-Cumulocity-Client-Cert-Chain`, PEM certificates separated by `,`, at most 5) and gets the
//! answer a device presenting it would get: [`device_trust::decide`] decides both, against the
//! caller's tenant's trusted certificates only.
//!
//! 200 `{"successfullyValidated": true, "tenantId": …}` for a trusted chain, plus anchorage's
//! extension: the anchoring trusted certificate, the device user, and whether a token would be
//! issued (and if not, the reason); 400 for an unreadable chain; 401 with the reason code for
//! an untrusted or revoked one (revocation is checked first). Nothing is written: the doctor
//! registers no device and records no refusal.

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::post;
use axum::{Extension, Json};
use rustls::pki_types::CertificateDer;

use anchorage_common::chain::{AnchorRef, VerifyChainAnswer, device_first};
use anchorage_common::refusal::Reason;

use crate::auth::AuthUser;
use crate::device_trust::{self, Refusal};
use crate::error::AppError;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;

const RESOURCE: &str = "tenant";
/// Most certificates in the uploaded file (the platform's limit).
pub const MAX_FILE_CERTIFICATES: usize = 10;
/// Most certificates in `X-Cumulocity-Client-Cert-Chain` (the platform's limit).
pub const MAX_HEADER_CERTIFICATES: usize = 5;
/// Largest uploaded chain file.
const MAX_FILE_BYTES: usize = 256 * 1024;

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(
        Method::POST,
        "/tenant/trusted-certificates/verify-cert-chain",
        Access::Read,
        post(verify_cert_chain).layer(DefaultBodyLimit::max(MAX_FILE_BYTES + 16 * 1024)),
    )]
}

fn unreadable(message: impl Into<String>) -> AppError {
    AppError::Device {
        status: StatusCode::BAD_REQUEST,
        resource: RESOURCE,
        message: message.into(),
        reason: Reason::UnreadableChain,
    }
}

async fn verify_cert_chain(
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Json<VerifyChainAnswer>, AppError> {
    let mut tenant = headers.get("x-cumulocity-tenantid").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut file = None;
    if let Ok(mut multipart) = multipart {
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("file") => file = Some(field.bytes().await.map_err(multipart_error)?),
                Some("tenantId") => tenant = Some(field.text().await.map_err(multipart_error)?.trim().to_string()),
                _ => {}
            }
        }
    }
    if let Some(t) = tenant.as_deref().filter(|t| !t.is_empty())
        && t != user.tenant
    {
        return Err(AppError::not_found(RESOURCE, format!("Tenant with id {} not found.", crate::audit::clip(t, 64))));
    }
    // The file takes precedence over the header, as on the platform.
    let ders = match (file, headers.get("x-cumulocity-client-cert-chain")) {
        (Some(bytes), _) => {
            let ders = anchorage_common::chain::decode_any(&bytes)
                .map_err(|e| unreadable(format!("The chain file cannot be read: {e}.")))?;
            if ders.len() > MAX_FILE_CERTIFICATES {
                return Err(unreadable(format!(
                    "The chain file holds {} certificates; at most {MAX_FILE_CERTIFICATES} are accepted.",
                    ders.len()
                )));
            }
            ders
        }
        (None, Some(value)) => {
            let text = value
                .to_str()
                .map_err(|_| unreadable("The X-Cumulocity-Client-Cert-Chain header is not ASCII text."))?;
            device_trust::parse_chain_header("X-Cumulocity-Client-Cert-Chain", text, MAX_HEADER_CERTIFICATES)
                .map_err(|r| r.into_error(RESOURCE))?
        }
        (None, None) => {
            return Err(unreadable(
                "Send the chain as multipart/form-data with a part named 'file', or in the X-Cumulocity-Client-Cert-Chain header.",
            ));
        }
    };
    if ders.is_empty() {
        return Err(unreadable("The chain holds no certificate."));
    }
    let now = state.clock.now();
    // The device certificate first, as build_path (the console's doctor) finds it.
    let chain: Vec<CertificateDer<'static>> = device_first(ders).into_iter().map(CertificateDer::from).collect();
    let leaf = chain.first().and_then(|c| anchorage_common::cert::inspect(c, now).ok()).map(|i| i.info);
    let request =
        device_trust::Request { chain: &chain, leaf: leaf.as_ref(), header_chain: None, tenant: Some(&user.tenant) };
    let mut context = device_trust::Context::default();
    let decision = device_trust::decide(&state, request, now, &mut context).await?.map_err(|r: Refusal| {
        // A chain that is not trusted is this endpoint's 401 with the reason, whatever the step.
        r.into_error(RESOURCE)
    })?;
    let (token_would_be_issued, reason, message) = match &decision.admission {
        Ok(_) => (true, None, None),
        Err(r) => (false, Some(r.reason), Some(r.message.clone())),
    };
    Ok(Json(VerifyChainAnswer {
        successfully_validated: true,
        tenant_id: decision.candidate.anchor.tenant_id.clone(),
        trusted_certificate: Some(AnchorRef {
            fingerprint: decision.candidate.anchor.fingerprint.clone(),
            name: decision.candidate.anchor.name.clone(),
        }),
        device_user: context.device_user,
        token_would_be_issued,
        reason,
        message,
        revocation_warning: decision.revocation_unknown,
    }))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge { limit: MAX_FILE_BYTES }
    } else {
        unreadable(format!("The multipart body cannot be read: {}", e.body_text()))
    }
}
