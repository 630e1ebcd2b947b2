//! Does a device's certificate chain to a trusted certificate that is enabled *now*?
//!
//! Inputs: the TLS client certificate (the handshake proved the device holds its key), the
//! intermediates it sent in TLS, and optionally the `X-Ssl-Cert-Chain` header ([`presented`]).
//! The caller looks up the candidate anchors by the issuer names in the chain (an indexed
//! query, so 10,000 uploaded CAs cost no more than one), then [`anchor`] verifies the path with
//! rustls-webpki for client authentication at the server's clock.

use anchorage_common::cert::CertificateInfo;
use rustls::pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::FromDer as _;

use crate::db::trusted_certificates::AnchorRow;

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

/// Reads `X-Ssl-Cert-Chain`: PEM certificates with line breaks replaced by spaces.
pub fn parse_chain_header(value: &str) -> Result<Vec<Vec<u8>>, TrustError> {
    let ders = anchorage_common::pem::decode_certificates(value)
        .map_err(|e| TrustError::BadHeader(format!("The X-Ssl-Cert-Chain header cannot be read: {e}.")))?;
    if ders.len() > MAX_CHAIN {
        return Err(TrustError::BadHeader(format!(
            "The X-Ssl-Cert-Chain header holds {} certificates; at most {MAX_CHAIN} are accepted.",
            ders.len()
        )));
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

/// Reads what the device presented: the TLS client certificate (`leaf` is its inspection,
/// made once by the caller), the intermediates it sent in TLS, and the `X-Ssl-Cert-Chain`
/// header's certificates, whose first must be the TLS client certificate.
pub fn presented<'a>(
    tls_chain: &'a [CertificateDer<'static>],
    leaf: Option<&'a CertificateInfo>,
    header_chain: Option<Vec<Vec<u8>>>,
) -> Result<Presented<'a>, TrustError> {
    let Some(leaf_der) = tls_chain.first() else {
        return Err(TrustError::Untrusted(
            "No client certificate was presented: call this endpoint over mutual TLS with the device certificate."
                .into(),
        ));
    };
    let mut intermediates: Vec<CertificateDer<'static>> = tls_chain[1..].to_vec();
    if let Some(header) = header_chain {
        if header.first().map(Vec::as_slice) != Some(leaf_der.as_ref()) {
            return Err(TrustError::Untrusted(
                "The first certificate in X-Ssl-Cert-Chain is not the certificate the device authenticated with."
                    .into(),
            ));
        }
        for der in header.into_iter().skip(1) {
            if !intermediates.iter().any(|c| c.as_ref() == der.as_slice()) {
                intermediates.push(CertificateDer::from(der));
            }
        }
    }
    let Some(leaf) = leaf else {
        return Err(TrustError::Untrusted("The device certificate cannot be parsed.".into()));
    };
    let mut issuers: Vec<Vec<u8>> = std::iter::once(leaf.issuer_der.clone())
        .chain(intermediates.iter().filter_map(|c| issuer_name(c.as_ref())))
        .collect();
    issuers.sort();
    issuers.dedup();
    Ok(Presented { leaf_der, leaf, intermediates, issuers })
}

/// Which of `candidates` (the trusted certificates stored now whose subject is one of
/// `presented.issuers`, in upload order) anchors the chain: the first that is enabled, in date
/// and verifies it for client authentication at `now`. Returns its index.
pub fn anchor(presented: &Presented<'_>, candidates: &[&AnchorRow], now: OffsetDateTime) -> Result<usize, TrustError> {
    let leaf = presented.leaf;
    if candidates.is_empty() {
        return Err(TrustError::Untrusted(format!(
            "The device certificate is not trusted: no trusted certificate issued it or its chain (issuer: {}). \
             Upload the issuing CA, or send the intermediates in X-Ssl-Cert-Chain.",
            leaf.issuer
        )));
    }
    let time =
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(u64::try_from(now.unix_timestamp()).unwrap_or(0)));
    let end_entity = match EndEntityCert::try_from(presented.leaf_der) {
        Ok(e) => e,
        Err(e) => {
            return Err(TrustError::Untrusted(format!("The device certificate is invalid: {}.", describe(&e, leaf))));
        }
    };
    let mut last_error = None;
    let mut disabled_match = None;
    for (index, anchor) in candidates.iter().enumerate() {
        let Ok(ta) =
            webpki::anchor_from_trusted_cert(&CertificateDer::from(anchor.der.as_slice())).map(|t| t.to_owned())
        else {
            continue;
        };
        let anchors = [ta];
        let result = end_entity
            .verify_for_usage(
                verification_algorithms(),
                &anchors,
                &presented.intermediates,
                time,
                KeyUsage::client_auth(),
                None,
                None,
            )
            .map(|_| ());
        match result {
            Ok(_) if anchor.status != "ENABLED" => disabled_match = Some(anchor),
            Ok(_) if anchorage_common::timefmt::parse(&anchor.not_after).is_some_and(|t| t < now) => {
                last_error = Some(format!(
                    "the trusted certificate '{}' that anchors it expired on {}",
                    anchor.name, anchor.not_after
                ));
            }
            Ok(_) => return Ok(index),
            Err(e) => last_error = Some(describe(&e, leaf)),
        }
    }
    let message = match (disabled_match, last_error) {
        (Some(a), _) => format!(
            "The device certificate is not trusted: the trusted certificate '{}' that issued its chain is disabled.",
            a.name
        ),
        (None, Some(e)) => format!("The device certificate is not trusted: {e}."),
        (None, None) => "The device certificate is not trusted.".to_string(),
    };
    Err(TrustError::Untrusted(message))
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
        E::CertExpired { .. } => format!(
            "a certificate in the chain has expired (the device certificate is valid until {})",
            leaf.not_after_text()
        ),
        E::CertNotValidYet { .. } => format!(
            "a certificate in the chain is not valid yet (the device certificate is valid from {})",
            leaf.not_before_text()
        ),
        E::UnknownIssuer => format!(
            "its chain does not lead to a trusted certificate (issuer: {}); send the intermediates in X-Ssl-Cert-Chain",
            leaf.issuer
        ),
        E::CaUsedAsEndEntity => "the device certificate is a CA certificate, not a device certificate".into(),
        E::EndEntityUsedAsCa => {
            "a certificate in the chain that signs another is not a CA (BasicConstraints CA:false)".into()
        }
        E::InvalidSignatureForPublicKey => "a signature in the chain does not verify".into(),
        E::RequiredEkuNotFoundContext(_) => {
            "the device certificate's extended key usage does not allow client authentication".into()
        }
        E::UnsupportedCriticalExtension => "a certificate in the chain has an unsupported critical extension".into(),
        E::MaximumPathDepthExceeded | E::MaximumPathBuildCallsExceeded | E::MaximumSignatureChecksExceeded => {
            "the chain is too long".into()
        }
        E::PathLenConstraintViolated => "the chain violates a path-length constraint".into(),
        E::NameConstraintViolation => "the chain violates a name constraint".into(),
        other => format!("its chain is invalid ({other:?})"),
    }
}
