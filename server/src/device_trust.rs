//! Does a device's certificate chain to a trusted certificate that is enabled *now*, and is it
//! not revoked? One function, [`decide`], answers for both the token endpoint and the chain
//! doctor (`verify-cert-chain`), so the doctor's answer is what a device would get.
//!
//! Inputs: the device certificate first (for the token endpoint the TLS client certificate,
//! whose key the handshake proved the device holds), the intermediates it sent, and optionally
//! the `X-Ssl-Cert-Chain` header ([`presented`]). The candidate anchors are looked up by the
//! issuer names in the chain (an indexed query, so 10,000 uploaded CAs cost no more than one),
//! together with each candidate tenant's revocation switches and whether the device
//! certificate's serial is in that tenant's revocation list.
//!
//! Order of the checks, each refusal with a [`Reason`]:
//! 1. what was presented (a certificate; the header's first certificate is the TLS one);
//! 2. the tenant's revocation list, if its offline check is on — checked first, as on the
//!    platform;
//! 3. the path, verified with rustls-webpki for client authentication at the server's clock,
//!    to an enabled, in-date trusted certificate;
//! 4. the CRLs at the distribution points of the path, if the anchor tenant's online check is
//!    on ([`crate::crl_online`]);
//! 5. the device: its id (the certificate's CN) and its registration ([`Admission`]).

use anchorage_common::cert::CertificateInfo;
use anchorage_common::device::{check_device_id, device_user_name};
use anchorage_common::refusal::Reason;
use rustls::pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::FromDer as _;

use crate::crl_online::Verdict;
use crate::db::devices::{Candidate, DeviceState};
use crate::db::trusted_certificates::AnchorRow;
use crate::error::AppError;
use crate::state::AppState;

/// Most certificates accepted in `X-Ssl-Cert-Chain` (the platform's cloud limit is 10).
pub const MAX_CHAIN: usize = 10;

/// Why a chain is refused: the status (400 unreadable, 401 untrusted or revoked, 422 a valid
/// chain whose device cannot get a token), the reason code, and the message for the device
/// (no secrets). What is known of the request is kept for the audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: Reason,
    pub message: String,
}

impl Refusal {
    fn unreadable(reason: Reason, message: impl Into<String>) -> Self {
        Self { status: 400, reason, message: message.into() }
    }
    fn untrusted(reason: Reason, message: impl Into<String>) -> Self {
        Self { status: 401, reason, message: message.into() }
    }
    fn unprocessable(reason: Reason, message: impl Into<String>) -> Self {
        Self { status: 422, reason, message: format!("The verification was not successful: {}", message.into()) }
    }

    /// The error the API answers with, in `resource`'s envelope.
    pub fn into_error(self, resource: &'static str) -> AppError {
        let status = axum::http::StatusCode::from_u16(self.status).unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
        let resource = if self.status == 401 { "security" } else { resource };
        AppError::Device { status, resource, message: self.message, reason: self.reason }
    }
}

/// Reads a chain header: PEM certificates with line breaks replaced by spaces (the device's
/// `X-Ssl-Cert-Chain`, whose certificates follow each other, or the doctor's
/// `X-Cumulocity-Client-Cert-Chain`, separated by `,`).
pub fn parse_chain_header(name: &str, value: &str, max: usize) -> Result<Vec<Vec<u8>>, Refusal> {
    let ders = anchorage_common::pem::decode_certificates(&value.replace(',', " "))
        .map_err(|e| Refusal::unreadable(Reason::UnreadableChain, format!("The {name} header cannot be read: {e}.")))?;
    if ders.len() > max {
        return Err(Refusal::unreadable(
            Reason::UnreadableChain,
            format!("The {name} header holds {} certificates; at most {max} are accepted.", ders.len()),
        ));
    }
    Ok(ders)
}

fn issuer_name(der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::certificate::X509Certificate::from_der(der).ok().map(|(_, c)| c.issuer().as_raw().to_vec())
}

/// The chain a device presented: its certificate (`leaf` is its inspection), the intermediates
/// from TLS and from `X-Ssl-Cert-Chain`, and the names of their issuers, by which the
/// candidate trusted certificates are looked up.
pub struct Presented<'a> {
    leaf_der: &'a CertificateDer<'static>,
    pub leaf: &'a CertificateInfo,
    intermediates: Vec<CertificateDer<'static>>,
    /// DER names, sorted, without duplicates.
    pub issuers: Vec<Vec<u8>>,
}

/// Reads what the device presented: the client certificate and the intermediates sent with
/// it (`chain`, leaf first; `leaf` is the leaf's inspection, made once by the caller), and the
/// `X-Ssl-Cert-Chain` header's certificates, whose first must be the client certificate.
pub fn presented<'a>(
    chain: &'a [CertificateDer<'static>],
    leaf: Option<&'a CertificateInfo>,
    header_chain: Option<Vec<Vec<u8>>>,
) -> Result<Presented<'a>, Refusal> {
    let Some(leaf_der) = chain.first() else {
        return Err(Refusal::untrusted(
            Reason::NoClientCertificate,
            "No client certificate was presented: call this endpoint over mutual TLS with the device certificate.",
        ));
    };
    if chain.len() > MAX_CHAIN {
        return Err(Refusal::unreadable(
            Reason::UnreadableChain,
            format!("The chain holds {} certificates; at most {MAX_CHAIN} are accepted.", chain.len()),
        ));
    }
    let mut intermediates: Vec<CertificateDer<'static>> = chain.get(1..).unwrap_or_default().to_vec();
    if let Some(header) = header_chain {
        if header.first().map(Vec::as_slice) != Some(leaf_der.as_ref()) {
            return Err(Refusal::untrusted(
                Reason::HeaderChainMismatch,
                "The first certificate in X-Ssl-Cert-Chain is not the certificate the device authenticated with.",
            ));
        }
        for der in header.into_iter().skip(1) {
            if intermediates.len() < MAX_CHAIN && !intermediates.iter().any(|c| c.as_ref() == der.as_slice()) {
                intermediates.push(CertificateDer::from(der));
            }
        }
    }
    let Some(leaf) = leaf else {
        return Err(Refusal::untrusted(Reason::UnreadableCertificate, "The device certificate cannot be parsed."));
    };
    let mut issuers: Vec<Vec<u8>> = std::iter::once(leaf.issuer_der.clone())
        .chain(intermediates.iter().filter_map(|c| issuer_name(c.as_ref())))
        .collect();
    issuers.sort();
    issuers.dedup();
    Ok(Presented { leaf_der, leaf, intermediates, issuers })
}

/// The anchor that verified a chain, and the path (leaf first, anchor last) as DER.
pub struct Anchored {
    pub index: usize,
    pub path: Vec<Vec<u8>>,
}

/// Which of `candidates` (the trusted certificates stored now whose subject is one of
/// `presented.issuers`, in upload order) anchors the chain: the first that is enabled, in date
/// and verifies it for client authentication at `now`.
/// On a refusal, the index of the candidate it concerns, if one does (a disabled or expired
/// anchor, or the only candidate).
///
/// `revoked[i]` is the date since which the device certificate's serial is in the revocation
/// list of candidate `i`'s tenant (with its offline check on). It is acted on only for a
/// candidate that verifies the chain — before its status and dates are looked at, so
/// revocation is reported first — never on a name match alone: a stranger's self-made
/// certificate naming another tenant's CA learns nothing of that tenant's list.
pub fn anchor(
    presented: &Presented<'_>,
    candidates: &[&AnchorRow],
    revoked: &[Option<&str>],
    now: OffsetDateTime,
) -> Result<Anchored, (Refusal, Option<usize>)> {
    anchor_for_usage(presented, candidates, revoked, now, KeyUsage::client_auth())
}

/// [`anchor`] for another extended key usage than client authentication: only for the
/// x509-limbo harness (`server/tests/limbo.rs`), whose cases are written for servers.
pub fn anchor_for_usage(
    presented: &Presented<'_>,
    candidates: &[&AnchorRow],
    revoked: &[Option<&str>],
    now: OffsetDateTime,
    usage: KeyUsage,
) -> Result<Anchored, (Refusal, Option<usize>)> {
    let leaf = presented.leaf;
    if candidates.is_empty() {
        return Err((
            Refusal::untrusted(
                Reason::UnknownIssuer,
                format!(
                    "The device certificate is not trusted: no trusted certificate issued it or its chain (issuer: {}). \
                 Upload the issuing CA, or send the intermediates in X-Ssl-Cert-Chain.",
                    leaf.issuer
                ),
            ),
            None,
        ));
    }
    let only = (candidates.len() == 1).then_some(0);
    let time =
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(u64::try_from(now.unix_timestamp()).unwrap_or(0)));
    let end_entity = match EndEntityCert::try_from(presented.leaf_der) {
        Ok(e) => e,
        Err(e) => {
            let (reason, text) = describe(&e, leaf);
            return Err((Refusal::untrusted(reason, format!("The device certificate is invalid: {text}.")), only));
        }
    };
    let mut last_error: Option<(Reason, String, usize)> = None;
    let mut disabled_match = None;
    for (index, anchor) in candidates.iter().enumerate() {
        let Ok(ta) =
            webpki::anchor_from_trusted_cert(&CertificateDer::from(anchor.der.as_slice())).map(|t| t.to_owned())
        else {
            continue;
        };
        let anchors = [ta];
        let result = end_entity.verify_for_usage(
            verification_algorithms(),
            &anchors,
            &presented.intermediates,
            time,
            usage,
            None,
            None,
        );
        if result.is_ok()
            && let Some(Some(since)) = revoked.get(index)
        {
            return Err((
                Refusal::untrusted(
                    Reason::Revoked,
                    format!(
                        "The device certificate was revoked: serial {} is in the revocation list since {since}.",
                        leaf.serial_hex
                    ),
                ),
                Some(index),
            ));
        }
        match result {
            Ok(_) if anchor.status != "ENABLED" => disabled_match = Some((index, anchor)),
            Ok(_) if anchorage_common::timefmt::parse(&anchor.not_after).is_some_and(|t| t < now) => {
                last_error = Some((
                    Reason::CaExpired,
                    format!(
                        "the trusted certificate '{}' that anchors it expired on {}",
                        anchor.name, anchor.not_after
                    ),
                    index,
                ));
            }
            Ok(verified) => {
                let path = std::iter::once(presented.leaf_der.as_ref().to_vec())
                    .chain(verified.intermediate_certificates().map(|c| c.der().as_ref().to_vec()))
                    .chain(std::iter::once(anchor.der.clone()))
                    .collect();
                return Ok(Anchored { index, path });
            }
            Err(e) => {
                let (reason, text) = describe(&e, leaf);
                last_error = Some((reason, text, index));
            }
        }
    }
    Err(match (disabled_match, last_error) {
        (Some((index, a)), _) => (
            Refusal::untrusted(
                Reason::CaDisabled,
                format!(
                    "The device certificate is not trusted: the trusted certificate '{}' that issued its chain is \
                     disabled.",
                    a.name
                ),
            ),
            Some(index),
        ),
        (None, Some((reason, e, index))) => (
            Refusal::untrusted(reason, format!("The device certificate is not trusted: {e}.")),
            if reason == Reason::CaExpired { Some(index) } else { only },
        ),
        (None, None) => (Refusal::untrusted(Reason::UnknownIssuer, "The device certificate is not trusted."), only),
    })
}

/// The signature algorithms of the TLS crypto provider (aws-lc-rs), so chains are verified with
/// the same implementation as the handshake.
fn verification_algorithms() -> &'static [&'static dyn rustls::pki_types::SignatureVerificationAlgorithm] {
    rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms.all
}

/// webpki's verdict as a reason and in words for a device operator.
fn describe(e: &webpki::Error, leaf: &CertificateInfo) -> (Reason, String) {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => (
            Reason::Expired,
            format!(
                "a certificate in the chain has expired (the device certificate is valid until {})",
                leaf.not_after_text()
            ),
        ),
        E::CertNotValidYet { .. } => (
            Reason::NotYetValid,
            format!(
                "a certificate in the chain is not valid yet (the device certificate is valid from {})",
                leaf.not_before_text()
            ),
        ),
        E::UnknownIssuer => (
            Reason::UnknownIssuer,
            format!(
                "its chain does not lead to a trusted certificate (issuer: {}); send the intermediates in X-Ssl-Cert-Chain",
                leaf.issuer
            ),
        ),
        E::CaUsedAsEndEntity => {
            (Reason::NotACa, "the device certificate is a CA certificate, not a device certificate".into())
        }
        E::EndEntityUsedAsCa => (
            Reason::NotACa,
            "a certificate in the chain that signs another is not a CA (BasicConstraints CA:false)".into(),
        ),
        E::InvalidSignatureForPublicKey | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            (Reason::BadSignature, "a signature in the chain does not verify".into())
        }
        E::RequiredEkuNotFoundContext(_) => (
            Reason::KeyUsage,
            "the device certificate's extended key usage does not allow client authentication".into(),
        ),
        E::UnsupportedCriticalExtension => {
            (Reason::InvalidChain, "a certificate in the chain has an unsupported critical extension".into())
        }
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded | E::MaximumSignatureChecksExceeded => {
            (Reason::InvalidChain, "the chain is too long".into())
        }
        E::PathLenConstraintViolated => (Reason::InvalidChain, "the chain violates a path-length constraint".into()),
        E::NameConstraintViolation => (Reason::InvalidChain, "the chain violates a name constraint".into()),
        other => (Reason::InvalidChain, format!("its chain is invalid ({other:?})")),
    }
}

/// A chain to check: the certificates (leaf first), an optional header chain, and, for the
/// chain doctor, the only tenant whose trusted certificates may anchor it.
pub struct Request<'a> {
    pub chain: &'a [CertificateDer<'static>],
    /// The leaf's inspection, made once by the caller (`None` when it cannot be parsed).
    pub leaf: Option<&'a CertificateInfo>,
    pub header_chain: Option<Vec<Vec<u8>>>,
    pub tenant: Option<&'a str>,
}

/// What [`decide`] learnt, for the audit record of the request, also when it refuses.
#[derive(Debug, Default, Clone)]
pub struct Context {
    pub tenant: Option<String>,
    pub ca_fingerprint: Option<String>,
    pub device_user: Option<String>,
}

/// A trusted chain.
pub struct Decision {
    /// The trusted certificate that anchors the chain, read with the device's state in its
    /// tenant and the tenant's token lifespan.
    pub candidate: Candidate,
    /// Whether the device can get a token: its id and registration.
    pub admission: Result<Admission, Refusal>,
    /// The online check could not tell and the tenant fails open: why, for the log.
    pub revocation_unknown: Option<String>,
}

/// A device that may get a token.
pub struct Admission {
    pub device_id: String,
    pub user_name: String,
    /// Not registered yet: registered by the token endpoint (the CA has auto-registration on).
    pub auto_register: bool,
}

/// Decides whether a chain is trusted (steps 1–4 of the module's list) and whether its device
/// may get a token (step 5). Reads only: registering and issuing are the caller's. The outer
/// error is the server's (the database), the inner one the chain's.
pub async fn decide(
    state: &AppState,
    request: Request<'_>,
    now: OffsetDateTime,
    context: &mut Context,
) -> Result<Result<Decision, Refusal>, AppError> {
    let presented = match presented(request.chain, request.leaf, request.header_chain) {
        Ok(p) => p,
        Err(r) => return Ok(Err(r)),
    };
    let leaf = presented.leaf;
    let user_name = leaf.common_name.as_deref().map(device_user_name).unwrap_or_default();
    let mut candidates = {
        let query = crate::db::devices::CandidateQuery {
            subjects: &presented.issuers,
            user_name: &user_name,
            serial_hex: &leaf.serial_hex,
            tenant: request.tenant,
            now: now.unix_timestamp(),
        };
        let mut reader = state.readers.acquire().await?;
        match crate::db::devices::candidates(reader.connection()?, &query).await {
            Ok(c) => c,
            Err(e) => {
                reader.discard();
                return Err(e.into());
            }
        }
    };
    // Revocation first (in `anchor`): the device certificate's serial in the list of the tenant
    // of a candidate that verifies the chain.
    let revoked: Vec<Option<&str>> =
        candidates.iter().map(|c| c.revocation.revoked_at.as_deref().filter(|_| c.revocation.offline)).collect();
    let anchored = match anchor(&presented, &candidates.iter().map(|c| &c.anchor).collect::<Vec<_>>(), &revoked, now) {
        Ok(a) => a,
        Err((refusal, concerned)) => {
            if let Some(c) = concerned.and_then(|i| candidates.get(i)) {
                context.tenant = Some(c.anchor.tenant_id.clone());
                context.ca_fingerprint = Some(c.anchor.fingerprint.clone());
                if leaf.common_name.is_some() {
                    context.device_user = Some(user_name.clone());
                }
            }
            return Ok(Err(refusal));
        }
    };
    drop(revoked);
    let candidate = candidates.swap_remove(anchored.index);
    context.tenant = Some(candidate.anchor.tenant_id.clone());
    context.ca_fingerprint = Some(candidate.anchor.fingerprint.clone());
    if leaf.common_name.is_some() {
        context.device_user = Some(user_name.clone());
    }
    let mut revocation_unknown = None;
    if candidate.revocation.online {
        let path: Vec<&[u8]> = anchored.path.iter().map(Vec::as_slice).collect();
        match state.crl_online.check(&path, now).await {
            Verdict::Good => {}
            v @ Verdict::Revoked { .. } => {
                // Tokens issued for this certificate before its CRL listed it stop too.
                crate::db::devices::revoke_for_certificate(&state.db, &candidate.anchor.tenant_id, &leaf.fingerprint)
                    .await?;
                return Ok(Err(Refusal::untrusted(
                    Reason::Revoked,
                    format!("The device certificate is not trusted: {v}."),
                )));
            }
            v @ Verdict::Unknown { .. } if candidate.revocation.online_fail_open => {
                revocation_unknown = Some(v.to_string());
            }
            v @ Verdict::Unknown { .. } => {
                return Ok(Err(Refusal::untrusted(
                    Reason::RevocationUnknown,
                    format!("The revocation status of the device certificate cannot be checked: {v}."),
                )));
            }
        }
    }
    let admission = admit(leaf, &user_name, &candidate.anchor, candidate.device.as_ref());
    Ok(Ok(Decision { candidate, admission, revocation_unknown }))
}

/// The refusal of a device an administrator disabled (`PUT /inventory/managedObjects/{id}/user`).
pub fn disabled(device_id: &str) -> Refusal {
    Refusal::untrusted(
        Reason::DeviceDisabled,
        format!("device '{device_id}' is disabled: an administrator of its tenant must enable it again."),
    )
}

/// Step 5: the device id and the registration in the anchor's tenant.
fn admit(
    leaf: &CertificateInfo,
    user_name: &str,
    anchor: &AnchorRow,
    device: Option<&DeviceState>,
) -> Result<Admission, Refusal> {
    let device_id = leaf.common_name.clone().ok_or_else(|| {
        Refusal::unprocessable(
            Reason::InvalidDeviceId,
            "the device certificate has no common name (CN); its CN is the device id.",
        )
    })?;
    check_device_id(&device_id).map_err(|e| Refusal::unprocessable(Reason::InvalidDeviceId, format!("{e}.")))?;
    let auto_register = match device {
        Some(u) if u.auth_type != "CERTIFICATES" => {
            return Err(Refusal::unprocessable(
                Reason::PasswordDevice,
                format!("device '{device_id}' is registered for password authentication, not certificates."),
            ));
        }
        Some(u) if !u.enabled => return Err(disabled(&device_id)),
        Some(_) => false,
        None if anchor.auto_registration_enabled => true,
        None => {
            return Err(Refusal::unprocessable(
                Reason::NotRegistered,
                format!(
                    "device '{device_id}' is not registered, and auto-registration is off for the trusted certificate \
                     '{}'. Register the device in bulk with AUTH_TYPE=CERTIFICATES, or enable auto-registration.",
                    anchor.name
                ),
            ));
        }
    };
    Ok(Admission { device_id, user_name: user_name.to_string(), auto_register })
}
