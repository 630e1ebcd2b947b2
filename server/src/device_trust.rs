//! Does a device's certificate chain to a trusted certificate that is enabled *now*?
//!
//! Inputs: the TLS client certificate (the handshake proved the device holds its key), the
//! intermediates it sent in TLS, and optionally the `X-Ssl-Cert-Chain` header. Candidate
//! anchors are looked up by the issuer names in the chain (an indexed query, so 10,000 uploaded
//! CAs cost no more than one), then the path is verified with rustls-webpki for client
//! authentication at the server's clock.

use anchorage_common::cert::CertificateInfo;
use rustls::pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::FromDer as _;

use crate::db::trusted_certificates::{AnchorRow, by_subjects};
use crate::db::Db;

/// Most certificates accepted in `X-Ssl-Cert-Chain` (the platform's cloud limit is 10).
pub const MAX_CHAIN: usize = 10;

/// Why a device is refused; `Display` is the message for the device (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// The chain header cannot be read (400).
    #[error("{0}")]
    BadHeader(String),
    /// No or an untrusted chain (401).
    #[error("{0}")]
    Untrusted(String),
}

/// A verified device certificate and the trusted certificate that anchored it.
#[derive(Debug, Clone)]
pub struct Verified {
    pub leaf: CertificateInfo,
    pub anchor: AnchorRow,
}

/// Reads `X-Ssl-Cert-Chain`: PEM certificates with line breaks replaced by spaces.
pub fn parse_chain_header(value: &str) -> Result<Vec<Vec<u8>>, TrustError> {
    let ders = anchorage_common::pem::decode_certificates(value)
        .map_err(|e| TrustError::BadHeader(format!("The X-Ssl-Cert-Chain header cannot be read: {e}.")))?;
    if ders.len() > MAX_CHAIN {
        return Err(TrustError::BadHeader(format!("The X-Ssl-Cert-Chain header holds {} certificates; at most {MAX_CHAIN} are accepted.", ders.len())));
    }
    Ok(ders)
}

fn issuer_name(der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::certificate::X509Certificate::from_der(der).ok().map(|(_, c)| c.issuer().as_raw().to_vec())
}

/// Verifies the device's chain against the trusted certificates stored now.
/// `leaf` is the inspection of `tls_chain[0]`, made once by the caller.
pub async fn verify(
    db: &Db,
    tls_chain: &[CertificateDer<'static>],
    leaf: Option<&CertificateInfo>,
    header_chain: Option<Vec<Vec<u8>>>,
    now: OffsetDateTime,
) -> Result<Result<Verified, TrustError>, sqlx::Error> {
    let Some(leaf_der) = tls_chain.first() else {
        return Ok(Err(TrustError::Untrusted(
            "No client certificate was presented: call this endpoint over mutual TLS with the device certificate.".into(),
        )));
    };
    let mut intermediates: Vec<CertificateDer<'static>> = tls_chain[1..].to_vec();
    if let Some(header) = header_chain {
        if header.first().map(Vec::as_slice) != Some(leaf_der.as_ref()) {
            return Ok(Err(TrustError::Untrusted(
                "The first certificate in X-Ssl-Cert-Chain is not the certificate the device authenticated with.".into(),
            )));
        }
        for der in header.into_iter().skip(1) {
            if !intermediates.iter().any(|c| c.as_ref() == der.as_slice()) {
                intermediates.push(CertificateDer::from(der));
            }
        }
    }
    let Some(leaf) = leaf.cloned() else {
        return Ok(Err(TrustError::Untrusted("The device certificate cannot be parsed.".into())));
    };
    let mut subjects: Vec<Vec<u8>> = std::iter::once(leaf_der.as_ref()).chain(intermediates.iter().map(|c| c.as_ref())).filter_map(issuer_name).collect();
    subjects.sort();
    subjects.dedup();
    let candidates = by_subjects(db, &subjects).await?;
    if candidates.is_empty() {
        return Ok(Err(TrustError::Untrusted(format!(
            "The device certificate is not trusted: no trusted certificate issued it or its chain (issuer: {}). \
             Upload the issuing CA, or send the intermediates in X-Ssl-Cert-Chain.",
            leaf.issuer
        ))));
    }
    let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(u64::try_from(now.unix_timestamp()).unwrap_or(0)));
    let end_entity = match EndEntityCert::try_from(leaf_der) {
        Ok(e) => e,
        Err(e) => return Ok(Err(TrustError::Untrusted(format!("The device certificate is invalid: {}.", describe(&e, &leaf))))),
    };
    let mut last_error = None;
    let mut disabled_match = None;
    for anchor in &candidates {
        let Ok(ta) = webpki::anchor_from_trusted_cert(&CertificateDer::from(anchor.der.as_slice())).map(|t| t.to_owned()) else { continue };
        let anchors = [ta];
        let result = end_entity
            .verify_for_usage(verification_algorithms(), &anchors, &intermediates, time, KeyUsage::client_auth(), None, None)
            .map(|_| ());
        match result {
            Ok(_) if anchor.status != "ENABLED" => disabled_match = Some(anchor),
            Ok(_) if anchorage_common::timefmt::parse(&anchor.not_after).is_some_and(|t| t < now) => {
                last_error = Some(format!("the trusted certificate '{}' that anchors it expired on {}", anchor.name, anchor.not_after));
            }
            Ok(_) => return Ok(Ok(Verified { leaf, anchor: anchor.clone() })),
            Err(e) => last_error = Some(describe(&e, &leaf)),
        }
    }
    let message = match (disabled_match, last_error) {
        (Some(a), _) => format!("The device certificate is not trusted: the trusted certificate '{}' that issued its chain is disabled.", a.name),
        (None, Some(e)) => format!("The device certificate is not trusted: {e}."),
        (None, None) => "The device certificate is not trusted.".to_string(),
    };
    Ok(Err(TrustError::Untrusted(message)))
}

/// The signature algorithms of the TLS crypto provider (aws-lc-rs), so chains are verified with
/// the same implementation as the handshake.
fn verification_algorithms() -> &'static [&'static dyn rustls::pki_types::SignatureVerificationAlgorithm] {
    rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms.all
}

/// webpki's verdict in words for a device operator.
fn describe(e: &webpki::Error, leaf: &CertificateInfo) -> String {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => format!("a certificate in the chain has expired (the device certificate is valid until {})", leaf.not_after_text()),
        E::CertNotValidYet { .. } => format!("a certificate in the chain is not valid yet (the device certificate is valid from {})", leaf.not_before_text()),
        E::UnknownIssuer => format!("its chain does not lead to a trusted certificate (issuer: {}); send the intermediates in X-Ssl-Cert-Chain", leaf.issuer),
        E::CaUsedAsEndEntity => "the device certificate is a CA certificate, not a device certificate".into(),
        E::EndEntityUsedAsCa => "a certificate in the chain that signs another is not a CA (BasicConstraints CA:false)".into(),
        E::InvalidSignatureForPublicKey => "a signature in the chain does not verify".into(),
        E::RequiredEkuNotFoundContext(_) => "the device certificate's extended key usage does not allow client authentication".into(),
        E::UnsupportedCriticalExtension => "a certificate in the chain has an unsupported critical extension".into(),
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded | E::MaximumSignatureChecksExceeded => "the chain is too long".into(),
        E::PathLenConstraintViolated => "the chain violates a path-length constraint".into(),
        E::NameConstraintViolation => "the chain violates a name constraint".into(),
        other => format!("its chain is invalid ({other:?})"),
    }
}
