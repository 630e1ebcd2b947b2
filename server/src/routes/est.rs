//! EST enrollment (RFC 7030 subset, the platform's §6.2), served on both listeners:
//!
//! * `POST /.well-known/est/simpleenroll`: Basic `<external id>:<one-time password>` (a tenant
//!   prefix `<tenant>/` is allowed) and a CSR (`application/pkcs10`, base64 DER) → 200, the
//!   device certificate as base64 PKCS#7 certs-only. The password is consumed, the device is
//!   registered for certificate authentication, in one transaction with the record of the
//!   certificate: a failure anywhere leaves the password usable.
//! * `POST /.well-known/est/simplereenroll`: the device authenticated by its current
//!   certificate over the device listener's mutual TLS (checked exactly as for a token:
//!   trusted, in date, not revoked, registered), or by its access token (`Bearer`) → a new
//!   certificate for a CSR with the same subject (a new key is allowed). Nothing happens to the
//!   old certificate: it stays valid, so a device that lost the answer asks again. Once the
//!   new one has got a token, the tenant may have the earlier ones revoked
//!   ([`revoke_replaced`], option `configuration` / `certificate-authority.reenroll.revoke-previous.enabled`).
//! * `GET /.well-known/est/cacerts`: the tenant's CA certificates (the current one first).
//!
//! Every certificate issued is audited with its serial; wrong passwords count against the
//! login throttle of `<tenant>/est:<id>` and the client's address.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use anchorage_common::est::{self, CACERTS_PATH, SIMPLE_ENROLL_PATH, SIMPLE_REENROLL_PATH};
use anchorage_common::refusal::Reason;

use crate::audit;
use crate::auth;
use crate::ca;
use crate::db;
use crate::device_trust;
use crate::error::AppError;
use crate::extract::ClientAddress;
use crate::limiter;
use crate::routes::new_device_requests::otp_hash;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;
use crate::tls::PeerCertificates;

const RESOURCE: &str = "est";
const CA_RESOURCE: &str = "certificate-authority";

pub fn endpoints() -> Vec<Endpoint> {
    // Authenticated by the one-time password, the device's certificate or token, or public.
    vec![
        Endpoint::new(Method::POST, SIMPLE_ENROLL_PATH, Access::Public, post(simple_enroll)),
        Endpoint::new(Method::POST, SIMPLE_REENROLL_PATH, Access::Public, post(simple_reenroll)),
        Endpoint::new(Method::GET, CACERTS_PATH, Access::Public, get(cacerts)),
    ]
}

/// How a certificate was asked for: with a one-time password (its hash, and the request it
/// consumes), or by the certificate with this fingerprint.
#[derive(Debug, Clone, Copy)]
enum How<'a> {
    Enroll(&'a str, &'a db::ca::RequestRow),
    Reenroll(&'a str),
}

impl How<'_> {
    fn as_str(self) -> &'static str {
        match self {
            How::Enroll(..) => "ENROLL",
            How::Reenroll(_) => "REENROLL",
        }
    }
}

/// The PKCS#7 answer: base64 in lines of 64, as EST sends it.
fn certs_only_response(certificates: &[&[u8]]) -> Response {
    let body = anchorage_common::pem::base64_lines(&anchorage_common::pkcs7::certs_only(certificates));
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(est::CERTS_ONLY_MEDIA_TYPE));
    h.insert("content-transfer-encoding", HeaderValue::from_static("base64"));
    res
}

/// The request must carry a CSR as `application/pkcs10`.
fn check_media_type(headers: &HeaderMap) -> Result<(), AppError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(est::PKCS10_MEDIA_TYPE));
    if ok {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType {
            message: "EST requests carry a certificate signing request as Content-Type: application/pkcs10 \
                      (base64 of the DER CSR)."
                .into(),
        })
    }
}

/// The body's CSR, verified, whose CN is `device_id`.
fn read_csr(body: &[u8], device_id: &str) -> Result<ca::VerifiedCsr, AppError> {
    let der = est::decode_csr(body).map_err(|e| AppError::bad_request(RESOURCE, format!("{}.", capitalize(&e))))?;
    let csr = ca::verify_csr(&der).map_err(|e| AppError::bad_request(RESOURCE, e))?;
    est::check_csr_common_name(csr.common_name.as_deref(), device_id)
        .map_err(|e| AppError::unprocessable(RESOURCE, e))?;
    Ok(csr)
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn no_request() -> AppError {
    AppError::Unauthorized { message: est::MESSAGE_NO_REQUEST.into(), xbasic: false }
}

fn no_request_for(xbasic: bool) -> AppError {
    AppError::Unauthorized { message: est::MESSAGE_NO_REQUEST.into(), xbasic }
}

fn ca_unusable() -> AppError {
    AppError::unprocessable(CA_RESOURCE, est::MESSAGE_CA_UNUSABLE)
}

async fn simple_enroll(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let xbasic = auth::wants_xbasic(&headers);
    let Some((tenant_prefix, device_id, otp)) = auth::basic_credentials(&headers) else {
        return Err(AppError::Unauthorized {
            message: "EST enrollment needs HTTP Basic authentication with <external id>:<one-time password>.".into(),
            xbasic,
        });
    };
    let tenant = state.config.tenant.clone();
    check_media_type(&headers)?;
    let now = state.clock.now();
    let keys = limiter::keys(&tenant, &format!("est:{device_id}"), address.as_deref());
    state.limiter.admit(&keys, now).await?;
    let hash = otp_hash(&state, &tenant, &device_id, &otp);
    let request = if tenant_prefix.as_deref().is_none_or(|t| t == tenant) {
        db::ca::request(&state.db, &tenant, &device_id).await?
    } else {
        None
    };
    let matches = request.as_ref().and_then(|r| r.otp_hash.as_deref()).is_some_and(|h| auth::same_secret(h, &hash));
    if !matches {
        // Counted by the gate; the same answer for an unknown id, a wrong and a used password.
        let shown = audit::clip(&device_id, audit::MAX_FIELD_CHARS);
        tracing::info!(tenant, device = %shown, client = address.as_deref().unwrap_or("-"), "EST enrollment refused");
        let event = audit::Event::info(
            audit::types::TENANT_CERTIFICATE_AUTHORITY,
            "EST enrollment refused",
            format!("EST enrollment refused for device '{shown}': no request with this one-time password."),
            None,
        )
        .warning()
        .from_address(address.as_deref())
        .with_details(json!({"deviceId": shown}));
        state.refusals.record(&state, audit::Refusal { tenant: &tenant, event }).await?;
        return Err(no_request_for(xbasic));
    }
    state.limiter.succeeded(&keys).await;
    if let Some(expired) = request
        .as_ref()
        .and_then(|r| r.otp_expires_at)
        .filter(|t| *t <= now.unix_timestamp())
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
    {
        return Err(AppError::Unauthorized {
            message: format!(
                "The one-time password of device '{device_id}' expired on {}; ask the administrator for a new one.",
                anchorage_common::timefmt::platform(expired)
            ),
            xbasic,
        });
    }
    let csr = read_csr(&body, &device_id)?;
    let Some(request) = request else { return Err(no_request_for(xbasic)) };
    let signed = issue(&state, &tenant, &device_id, &csr, How::Enroll(&hash, &request), address.as_deref()).await?;
    Ok(certs_only_response(&[&signed.der]))
}

async fn simple_reenroll(
    State(state): State<AppState>,
    peer: Option<axum::Extension<PeerCertificates>>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    check_media_type(&headers)?;
    let now = state.clock.now();
    // The current certificate: the TLS client certificate, or the certificate of the tenant CA
    // the access token was obtained with. Either is checked as for a token request.
    let chain = match peer.map(|axum::Extension(PeerCertificates(chain))| chain).filter(|c| !c.is_empty()) {
        Some(chain) => chain,
        None => token_certificate(&state, &headers).await?,
    };
    let leaf = anchorage_common::cert::inspect(&chain[0], now).ok().map(|i| i.info);
    let mut context = device_trust::Context::default();
    let request = device_trust::Request { chain: &chain, leaf: leaf.as_ref(), header_chain: None, tenant: None };
    let decided = device_trust::decide(&state, request, now, &mut context).await?;
    let mut admitted = decided.and_then(|d| d.admission.map(|a| (d.candidate.anchor.tenant_id, a)));
    // The tenant's revocation list always counts here, whatever its switch for tokens: a
    // revoked certificate must not turn into a fresh one.
    if let (Ok((tenant, _)), Some(leaf)) = (&admitted, &leaf)
        && let Some(date) = db::crl::revoked(&state.db, tenant, &leaf.serial_hex).await?
    {
        admitted = Err(device_trust::Refusal {
            status: 401,
            reason: Reason::Revoked,
            message: format!(
                "The device certificate is not trusted: it is in the tenant's revocation list since {date}."
            ),
        });
    }
    let (tenant, admission) = match admitted {
        Ok(a) => a,
        Err(refusal) => {
            let tenant = context.tenant.clone().unwrap_or_else(|| state.config.tenant.clone());
            let event = audit::Event::info(
                audit::types::TENANT_CERTIFICATE_AUTHORITY,
                "EST re-enrollment refused",
                format!("EST re-enrollment refused: {}", refusal.message),
                context.device_user.as_deref(),
            )
            .warning()
            .from_address(address.as_deref())
            .with_details(json!({
                "reason": refusal.reason,
                "certificateSerialNumberInHex": leaf.as_ref().map(|l| &l.serial_hex),
                "certificateSubject": leaf.as_ref().map(|l| &l.subject),
            }));
            state.refusals.record(&state, audit::Refusal { tenant: &tenant, event }).await?;
            return Err(refusal.into_error(RESOURCE));
        }
    };
    let Some(current) = leaf else {
        return Err(AppError::internal(anyhow::anyhow!("a trusted chain without a parsed leaf")));
    };
    let device_id = admission.device_id;
    let csr = read_csr(&body, &device_id)?;
    if csr.subject != current.subject {
        return Err(AppError::unprocessable(
            RESOURCE,
            format!(
                "The certificate signing request's subject '{}' is not the current certificate's '{}'.",
                csr.subject, current.subject
            ),
        ));
    }
    if admission.auto_register {
        db::inventory::auto_register(&state.db, &tenant, &device_id, &state.now_text()).await?;
    }
    // A retry (the device lost the answer): the certificate issued for this request, again.
    if let Some(again) = db::ca::issued(&state.db, &tenant, &device_id).await?.into_iter().next().filter(|r| {
        r.parent.as_deref() == Some(current.fingerprint.as_str())
            && r.first_used_at.is_none()
            && ca::public_key_der(&r.der).is_ok_and(|k| k == csr.public_key_der)
            && anchorage_common::timefmt::parse(&r.not_after).is_some_and(|end| end > now)
    }) {
        tracing::info!(tenant, device = %device_id, serial = %again.serial_hex, "re-enrollment retried: the same certificate again");
        return Ok(certs_only_response(&[&again.der]));
    }
    let day_ago = (now - time::Duration::days(1)).unix_timestamp_nanos() / 1_000_000;
    let recent =
        db::ca::reenrollments_since(&state.db, &tenant, &device_id, i64::try_from(day_ago).unwrap_or(0)).await?;
    if recent >= db::ca::MAX_REENROLLMENTS_PER_DAY {
        return Err(AppError::TooManyRequests {
            message: format!(
                "Device '{device_id}' got {recent} certificates by re-enrollment in the last 24 hours, the most it may; \
                 try again later."
            ),
            retry_after_seconds: 3600,
        });
    }
    let signed =
        issue(&state, &tenant, &device_id, &csr, How::Reenroll(&current.fingerprint), address.as_deref()).await?;
    Ok(certs_only_response(&[&signed.der]))
}

/// The certificate an access token (`Authorization: Bearer`) was obtained with, if the tenant
/// CA issued it (anchorage keeps those): re-enrollment with a token is re-enrollment with that
/// certificate, checked the same way.
async fn token_certificate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<std::sync::Arc<Vec<rustls::pki_types::CertificateDer<'static>>>, AppError> {
    let unauthorized = |message: String| AppError::Unauthorized { message, xbasic: false };
    let Some(token) = auth::bearer_token(headers).filter(|t| t.contains('.')) else {
        return Err(unauthorized(
            "EST re-enrollment needs the device's current certificate (mutual TLS on the device listener) \
             or its access token (Authorization: Bearer)."
                .into(),
        ));
    };
    let user = auth::verify_device_token(state, token).await?.map_err(unauthorized)?;
    let auth::Principal::Device { token_id } = &user.principal else {
        return Err(unauthorized("EST re-enrollment needs a device's access token.".into()));
    };
    let issued = match db::ca::token_certificate(&state.db, token_id).await? {
        Some(fingerprint) => db::ca::issued_by_fingerprint(&state.db, &user.tenant, &fingerprint).await?,
        None => None,
    };
    let Some(issued) = issued else {
        return Err(AppError::Device {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            resource: RESOURCE,
            message: "This access token was obtained with a certificate the tenant CA did not issue: re-enroll over \
                      mutual TLS with the current certificate."
                .into(),
            reason: Reason::InvalidChain,
        });
    };
    Ok(std::sync::Arc::new(vec![rustls::pki_types::CertificateDer::from(issued.der)]))
}

/// Signs `csr` for `device_id` with `tenant`'s current CA, and records it with its audit record
/// in one transaction: for an enrollment (with the one-time password's hash), consuming the
/// request and registering the device in the same transaction.
async fn issue(
    state: &AppState,
    tenant: &str,
    device_id: &str,
    csr: &ca::VerifiedCsr,
    how: How<'_>,
    address: Option<&str>,
) -> Result<ca::Signed, AppError> {
    let now = state.clock.now();
    let Some(authority) = db::ca::current(&state.db, tenant).await?.filter(|c| c.status == "ENABLED") else {
        return Err(ca_unusable());
    };
    let ca_end = ca::ca_not_after(&authority.der).map_err(AppError::internal)?;
    let validity = ca::device_validity(now, ca_end).ok_or_else(ca_unusable)?;
    let issuer = ca::issuer(&state.secrets, tenant, &authority.der, &authority.private_key, &authority.key_algorithm)
        .map_err(|e| {
        tracing::error!(tenant, error = format!("{e:#}"), "the tenant CA's key does not open");
        AppError::refused(StatusCode::INTERNAL_SERVER_ERROR, CA_RESOURCE, "Failed to retrieve tenant keypair")
    })?;
    if ca::subject_der(&authority.der).is_ok_and(|s| s == csr.subject_der) {
        return Err(AppError::unprocessable(
            RESOURCE,
            "The certificate signing request's subject is the CA's own; a device certificate needs another name.",
        ));
    }
    let signed = ca::sign_device(csr, &issuer, validity).map_err(AppError::internal)?;
    let now_text = state.now_text();
    let row = db::ca::IssuedRow {
        id: 0,
        serial_hex: signed.info.serial_hex.clone(),
        device_id: device_id.to_string(),
        fingerprint: signed.info.fingerprint.clone(),
        ca_id: authority.certificate_id,
        ca_fingerprint: authority.fingerprint.clone(),
        not_before: signed.info.not_before_text(),
        not_after: signed.info.not_after_text(),
        der: signed.der.clone(),
        parent: match how {
            How::Reenroll(parent) => Some(parent.to_string()),
            How::Enroll(..) => None,
        },
        how: how.as_str().to_string(),
        issued_at: i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
        first_used_at: None,
    };
    let mut tx = db::inventory::begin_registration(&state.db, tenant).await?;
    if let How::Enroll(hash, request) = how {
        if !db::ca::delete_request(&mut tx, tenant, device_id, Some(hash)).await? {
            // Used by a parallel enrollment a moment ago.
            return Err(no_request());
        }
        // The device as its request describes it (the platform's `name` and `type`).
        let described = Some((request.name.as_deref(), request.device_type.as_deref()));
        match db::inventory::register_certificate_device(&mut tx, tenant, device_id, described, &now_text).await? {
            Some(auth_type) if auth_type != "CERTIFICATES" => {
                return Err(AppError::unprocessable(
                    RESOURCE,
                    format!(
                        "Device '{device_id}' is registered for password authentication; it cannot enroll for a \
                         certificate."
                    ),
                ));
            }
            _ => {}
        }
    }
    db::ca::insert_issued(&mut tx, tenant, &row).await?;
    let (activity, text) = match how {
        How::Enroll(..) => {
            ("Tenant certificate authority (CA) signed certificate for device", est::signed_audit_text(device_id))
        }
        How::Reenroll(_) => {
            ("Tenant certificate authority (CA) re-signed certificate for device", est::resigned_audit_text(device_id))
        }
    };
    let user = anchorage_common::device::device_user_name(device_id);
    let event = audit::Event::info(audit::types::TENANT_CERTIFICATE_AUTHORITY, activity, text, Some(&user))
        .from_address(address)
        .with_details(json!({
            "deviceId": device_id,
            "certificateSerialNumberInHex": signed.info.serial_hex,
            "certificateFingerprint": signed.info.fingerprint,
            "notAfter": signed.info.not_after_text(),
            "caFingerprint": authority.fingerprint,
            "replaces": row.parent,
        }));
    // In the transaction: a certificate is issued if and only if it is audited.
    audit::record_in(&mut tx, tenant, &now_text, event).await?;
    tx.commit().await?;
    tracing::info!(tenant, device = %device_id, serial = %signed.info.serial_hex, how = how.as_str(), "certificate issued");
    Ok(signed)
}

/// After a certificate's first token: if the tenant CA issued it by re-enrollment and the
/// tenant asks for it, the certificates it replaced are revoked — the one that asked for it,
/// and the one that asked for that one, and so on (a re-enrollment made meanwhile from another
/// certificate of the device is not in that line, and is not revoked). Called by the token
/// endpoint with a certificate it saw for the first time. The revocations are written before
/// the use is recorded, so a failure in between only repeats them (a serial already listed
/// keeps its entry).
pub async fn revoke_replaced(state: &AppState, tenant: &str, fingerprint: &str) -> Result<(), AppError> {
    use anchorage_common::options::{CONFIGURATION, REENROLL_REVOKES_PREVIOUS, switch_on};
    let Some(first) = db::ca::issued_by_fingerprint(&state.db, tenant, fingerprint).await? else {
        return Ok(());
    };
    if first.first_used_at.is_some() {
        return Ok(());
    }
    let on = db::options::get(&state.db, tenant, CONFIGURATION, REENROLL_REVOKES_PREVIOUS).await?;
    let mut replaced = Vec::new();
    if switch_on(on.as_deref()) {
        let mut parent = first.parent.clone();
        // The line of certificates that asked for this one (bounded: the kept rows of a device).
        while let Some(p) = parent.take().filter(|_| replaced.len() < 200) {
            let Some(row) = db::ca::issued_by_fingerprint(&state.db, tenant, &p).await? else { break };
            parent = row.parent.clone();
            replaced.push(row);
        }
    }
    if !replaced.is_empty() {
        let entries: Vec<anchorage_common::crl::Revocation> = replaced
            .iter()
            .filter_map(|r| anchorage_common::crl::normalize_serial(&r.serial_hex).ok())
            .map(|serial_hex| anchorage_common::crl::Revocation { serial_hex, revocation_date: state.clock.now() })
            .collect();
        let serials: Vec<&str> = entries.iter().map(|r| r.serial_hex.as_str()).collect();
        db::crl::insert(&state.db, tenant, &entries, &state.now_text()).await?;
        tracing::info!(tenant, device = %first.device_id, revoked = ?serials, "replaced certificates revoked");
        let event = audit::Event::info(
            audit::types::TENANT_CERTIFICATE_AUTHORITY,
            "Replaced certificates revoked",
            format!(
                "Certificates of device '{}' replaced by re-enrollment revoked: {}.",
                first.device_id,
                serials.join(", ")
            ),
            None,
        )
        .with_details(json!({"deviceId": first.device_id, "serialNumbersInHex": serials}));
        audit::record(state, tenant, event).await?;
    }
    db::ca::mark_used(&state.db, tenant, fingerprint, &state.now_text()).await?;
    Ok(())
}

/// `GET /.well-known/est/cacerts`: the tenant's CA certificates, the current one first.
async fn cacerts(State(state): State<AppState>) -> Result<Response, AppError> {
    let all = db::ca::all(&state.db, &state.config.tenant).await?;
    let ders: Vec<&[u8]> = all.iter().filter(|c| c.status == "ENABLED").map(|c| c.der.as_slice()).collect();
    if ders.is_empty() {
        return Err(AppError::not_found(CA_RESOURCE, est::MESSAGE_CA_UNUSABLE));
    }
    Ok(certs_only_response(&ders))
}
