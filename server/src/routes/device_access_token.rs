//! `POST /devicecontrol/deviceAccessToken`: a device authenticated by its certificate over
//! mutual TLS gets a JWT whose lifetime is the tenant's `device-token.lifespan.seconds`.
//!
//! Renewal: a device asking again before half of its current token's lifetime has passed gets
//! that same token; at or after half-life it gets a new one.

use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::routing::post;
use axum::{Extension, Json};
use serde_json::json;

use anchorage_common::options::{DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS, parse_lifespan};
use anchorage_common::refusal::Reason;
use anchorage_common::token::{Claims, DeviceAccessToken, renewal_due};

use crate::audit;
use crate::db;
use crate::device_trust;
use crate::error::AppError;
use crate::extract::ClientAddress;
use crate::routes::{Access, Endpoint};
use crate::state::AppState;
use crate::tls::PeerCertificates;
use crate::tokens::{AUDIENCE, random_id};

const RESOURCE: &str = "devicecontrol";

pub fn endpoints() -> Vec<Endpoint> {
    // Authenticated by the device's TLS client certificate, not by credentials.
    vec![Endpoint::new(Method::POST, "/devicecontrol/deviceAccessToken", Access::Public, post(issue_device_token))]
}

/// What the audit record of a request names: the device certificate and the CA that anchored
/// it, as far as they are known, and why it was refused.
type Context = device_trust::Context;

async fn issue_device_token(
    State(state): State<AppState>,
    peer: Option<Extension<PeerCertificates>>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> Result<Json<DeviceAccessToken>, AppError> {
    // Only the device listener serves tokens: a request on the plain API listener cannot carry
    // a client certificate, and must not cost an audit record.
    let Some(Extension(PeerCertificates(chain))) = peer else {
        return Err(AppError::not_found(
            RESOURCE,
            "POST /devicecontrol/deviceAccessToken is served on the device listener (mutual TLS) only.",
        ));
    };
    let mut context = Context::default();
    let leaf = chain.first().and_then(|c| anchorage_common::cert::inspect(c, state.clock.now()).ok()).map(|i| i.info);
    let result = issue(&state, &chain, leaf.as_ref(), &headers, &mut context).await;
    // Every token issued and every refusal is audited; a token returned again is not new.
    let details = |result: &str, reason: Option<Reason>| {
        let mut map = audit::certificate_details(leaf.as_ref());
        map.insert("result".into(), json!(result));
        map.insert("reason".into(), json!(reason));
        map.insert("device".into(), json!(context.device_user));
        map.insert("trustedCertificateFingerprint".into(), json!(context.ca_fingerprint));
        serde_json::Value::Object(map)
    };
    let tenant = context.tenant.clone().unwrap_or_else(|| state.config.tenant.clone());
    let user = context.device_user.as_deref();
    match result {
        Ok(Issued { token, new }) => {
            if new {
                let text = format!("Device token issued to '{}'.", user.unwrap_or("?"));
                let event = audit::Event::info(audit::types::DEVICE_ACCESS_TOKEN, "Device token issued", text, user)
                    .from_address(address.as_deref())
                    .with_details(details("ISSUED", None));
                audit::record(&state, &tenant, event).await?;
            }
            Ok(Json(DeviceAccessToken { access_token: token }))
        }
        // The server's own failures (a full disk included) are not the device's refusals.
        Err(e @ (AppError::Internal(_) | AppError::InsufficientStorage)) => Err(e),
        Err(e) => {
            let reason = match &e {
                AppError::Device { reason, .. } => Some(*reason),
                _ => None,
            };
            // A refusal: within the address's budget it is answered and recorded as it is; beyond,
            // 429 and one aggregated record for all of them.
            let (e, text, reason) = match state.refusals.over_budget(address.as_deref(), state.clock.now()) {
                None => {
                    let text = format!("Device token refused: {e}");
                    (e, text, reason)
                }
                Some(retry_after_seconds) => (
                    AppError::TooManyRequests {
                        message: format!(
                            "Too many refused token requests from this address; try again in {retry_after_seconds} s."
                        ),
                        retry_after_seconds,
                    },
                    "Device token requests refused: too many refusals from this address.".to_string(),
                    Some(Reason::TooManyRefusals),
                ),
            };
            let event = audit::Event::info(audit::types::DEVICE_ACCESS_TOKEN, "Device token refused", text, user)
                .warning()
                .from_address(address.as_deref())
                .with_details(details("REFUSED", reason));
            state.refusals.record(&state, audit::Refusal { tenant: &tenant, event }).await?;
            Err(e)
        }
    }
}

/// A token for the device, and whether it was issued by this request.
struct Issued {
    token: String,
    new: bool,
}

async fn issue(
    state: &AppState,
    chain: &[rustls::pki_types::CertificateDer<'static>],
    leaf: Option<&anchorage_common::CertificateInfo>,
    headers: &HeaderMap,
    context: &mut Context,
) -> Result<Issued, AppError> {
    let header_chain = match headers.get("x-ssl-cert-chain") {
        None => None,
        Some(v) => {
            let text = v.to_str().map_err(|_| AppError::Device {
                status: axum::http::StatusCode::BAD_REQUEST,
                resource: RESOURCE,
                message: "The X-Ssl-Cert-Chain header is not ASCII text.".into(),
                reason: Reason::UnreadableChain,
            })?;
            if text.trim().is_empty() {
                None
            } else {
                Some(
                    device_trust::parse_chain_header("X-Ssl-Cert-Chain", text, device_trust::MAX_CHAIN)
                        .map_err(|r| r.into_error(RESOURCE))?,
                )
            }
        }
    };
    let now = state.clock.now();
    let now_s = now.unix_timestamp();
    let refused = |r: device_trust::Refusal| {
        tracing::info!(reason = %r.reason, message = %audit::clip(&r.message, audit::MAX_FIELD_CHARS), "device token refused");
        r.into_error(RESOURCE)
    };
    let request = device_trust::Request { chain, leaf, header_chain, tenant: None };
    let decision = device_trust::decide(state, request, now, context).await?.map_err(refused)?;
    if let Some(why) = &decision.revocation_unknown {
        tracing::warn!(why = %audit::clip(why, audit::MAX_FIELD_CHARS), "online revocation check failed; the tenant fails open");
    }
    let admission = decision.admission.map_err(refused)?;
    let db::devices::Candidate { anchor, device, lifespan, .. } = decision.candidate;
    let Some(leaf) = leaf else {
        return Err(AppError::internal(anyhow::anyhow!("a trusted chain without a parsed leaf")));
    };
    let tenant = anchor.tenant_id.as_str();
    let device_trust::Admission { device_id, user_name, auto_register } = admission;
    if auto_register {
        db::inventory::auto_register(&state.db, tenant, &device_id, &state.now_text()).await?;
        tracing::info!(tenant, device = %device_id, ca = %anchor.fingerprint, "device auto-registered");
    }

    // The current token again before its half-life, if it was issued for this very certificate
    // (a device with a new certificate gets a token tied to that one).
    if let Some(db::devices::DeviceState {
        token: Some((jti, sealed)),
        issued_at: Some(iat),
        expires_at: Some(exp),
        token_cert_fingerprint,
        ..
    }) = device
        && !renewal_due(iat, exp, now_s)
        // (A token from before tokens were tied to certificates is not handed out again.)
        && token_cert_fingerprint.as_deref().is_some_and(|f| f == leaf.fingerprint)
    {
        match state.secrets.open(&sealed, &crate::secrets::token_context(&jti)).map(String::from_utf8) {
            Ok(Ok(token)) => return Ok(Issued { token, new: false }),
            // Sealed under another key (the key file was replaced): a new token instead.
            _ => {
                tracing::warn!(device = %device_id, "the current token cannot be opened with this secret key; issuing a new one")
            }
        }
    }
    // Read with the candidates, in this request: the lifespan in force at issue time.
    let lifespan = lifespan.as_deref().map(parse_lifespan).transpose().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "stored device-token lifespan is invalid; using the default");
        None
    });
    let lifespan = i64::try_from(lifespan.unwrap_or(DEFAULT_DEVICE_TOKEN_LIFESPAN_SECONDS)).unwrap_or(3600);
    let claims = Claims {
        sub: user_name.clone(),
        ten: tenant.to_string(),
        iss: state.tokens.issuer().to_string(),
        aud: AUDIENCE.to_string(),
        iat: now_s,
        nbf: now_s,
        exp: now_s + lifespan,
        jti: random_id(),
        xsrf_token: random_id(),
        tfa: false,
    };
    let token = state.tokens.sign(&claims)?;
    let stored = db::devices::store_token(
        &state.db,
        &db::devices::Issue {
            tenant,
            user_name: &user_name,
            jti: &claims.jti,
            token_hash: &crate::auth::token_digest(&token),
            token_sealed: &state.secrets.seal(token.as_bytes(), &crate::secrets::token_context(&claims.jti))?,
            issued_at: claims.iat,
            expires_at: claims.exp,
            now_text: &state.now_text(),
            cert_serial: &leaf.serial_number,
            cert_fingerprint: &leaf.fingerprint,
            ca_fingerprint: &anchor.fingerprint,
            certificate: leaf,
        },
    )
    .await?;
    // (Disabled after this request read the device: no token.)
    let db::devices::Stored::Token { new_certificate } = stored else {
        return Err(refused(device_trust::disabled(&device_id)));
    };
    if new_certificate {
        // A certificate of the tenant's CA used for the first time: recorded, and the ones it
        // replaced revoked if the tenant asks for it.
        crate::routes::est::revoke_replaced(state, tenant, &leaf.fingerprint).await?;
        // The platform's audit text (§6.3).
        let text = format!("Provisioned certificate stored in user object: '{user_name}'");
        let details = json!({
            "certificateSerialNumberInHex": leaf.serial_hex,
            "certificateFingerprint": leaf.fingerprint,
            "certificateSubject": leaf.subject,
        });
        let event = audit::Event::info(
            audit::types::PROVISIONED_CERTIFICATE,
            "Provisioned certificate stored",
            text,
            Some(&user_name),
        )
        .with_details(details);
        audit::record(state, tenant, event).await?;
    }
    tracing::info!(tenant, device = %device_id, serial = %leaf.serial_number, ca = %anchor.fingerprint, lifespan, "device token issued");
    Ok(Issued { token, new: true })
}
