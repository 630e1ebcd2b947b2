//! EST as the device speaks it (RFC 7030 subset, the platform's `/.well-known/est/*`, paths and
//! media types from [`anchorage_common::est`]): certificate signing requests made with rcgen,
//! `simpleenroll` with HTTP Basic `<external id>:<one-time password>`, `simplereenroll` over
//! mutual TLS with the current certificate, and the PKCS#7 certs-only answer read by common's
//! [`anchorage_common::pkcs7::certificates`] and checked against the request.
//!
//! Files are not touched here: [`crate::enroll`] and [`crate::reenroll`] put the answer in place.

use std::sync::Arc;
use std::time::Duration;

use anchorage_common::CertificateInfo;
use anchorage_common::est::{self, PKCS10_MEDIA_TYPE, SIMPLE_ENROLL_PATH, SIMPLE_REENROLL_PATH};
use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::ClientConfig;

use crate::http::{self, Endpoint, RequestError};

/// The environment variable the one-time password can come from (so it is not in the process
/// list).
pub const OTP_ENV: &str = "ANCHORAGE_DEVICE_OTP";

/// Why no certificate came back.
#[derive(Debug, thiserror::Error)]
pub enum EstError {
    /// The server answered with an error status; `message` is its envelope's message.
    #[error("the server refused: {status} {}: {message}", http::reason(*status))]
    Refused { status: u16, message: String },
    /// A 200 that is not a readable PKCS#7 certs-only.
    #[error("the server's answer is not a certificate: {0}")]
    BadAnswer(String),
    /// No answer (connection, TLS, timeout).
    #[error(transparent)]
    Request(#[from] RequestError),
}

/// An EST client for one server: the API (enrollment, any TLS or none) or the device listener
/// (re-enrollment, with the device's certificate in `tls`). One connection a request.
#[derive(Clone)]
pub struct EstClient {
    endpoint: Endpoint,
    tls: Arc<ClientConfig>,
    timeout: Duration,
}

impl std::fmt::Debug for EstClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EstClient").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

impl EstClient {
    /// A client for `endpoint` using `tls` for `https` (presenting the client certificate it
    /// holds, if any).
    pub fn new(endpoint: Endpoint, tls: Arc<ClientConfig>) -> Self {
        Self { endpoint, tls, timeout: Duration::from_secs(60) }
    }

    /// The server's address.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Changes the time allowed for one whole request (default 60 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `simpleenroll`: the certificates of the answer to `csr_der`, authenticated by the
    /// device's external id and one-time password.
    pub async fn simple_enroll(&self, device_id: &str, otp: &str, csr_der: &[u8]) -> Result<Vec<Vec<u8>>, EstError> {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{device_id}:{otp}"));
        self.post(SIMPLE_ENROLL_PATH, Some(&format!("Basic {basic}")), csr_der).await
    }

    /// `simplereenroll`: the certificates of the answer to `csr_der`, authenticated by the
    /// client certificate of the TLS configuration (mutual TLS on the device listener).
    pub async fn simple_reenroll(&self, csr_der: &[u8]) -> Result<Vec<Vec<u8>>, EstError> {
        self.post(SIMPLE_REENROLL_PATH, None, csr_der).await
    }

    async fn post(&self, path: &str, authorization: Option<&str>, csr_der: &[u8]) -> Result<Vec<Vec<u8>>, EstError> {
        let mut headers = vec![("content-type", PKCS10_MEDIA_TYPE), ("content-transfer-encoding", "base64")];
        if let Some(a) = authorization {
            headers.push(("authorization", a));
        }
        let body = Bytes::from(csr_body(csr_der));
        let res = http::send(&self.endpoint, Some(&self.tls), hyper::Method::POST, path, &headers, body, self.timeout)
            .await?;
        if res.status != 200 {
            return Err(EstError::Refused { status: res.status, message: http::error_message(&res.body) });
        }
        read_certs_only(&res.body).map_err(EstError::BadAnswer)
    }
}

/// An EST request body: the DER CSR in base64, in lines of 64 characters.
pub fn csr_body(der: &[u8]) -> String {
    anchorage_common::pem::base64_lines(der)
}

/// The certificates (DER) of an EST answer: base64 (line breaks allowed) of a PKCS#7
/// certs-only, read by common's reader.
pub fn read_certs_only(body: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "it is not base64 text".to_string())?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("it is not base64 ({e})"))?;
    let certificates = anchorage_common::pkcs7::certificates(&der)?;
    if certificates.is_empty() {
        return Err("the PKCS#7 answer holds no certificate".into());
    }
    Ok(certificates)
}

/// The CSR (DER) of a first enrollment: subject `CN=<device id>`, signed with `key`.
pub fn enrollment_request(device_id: &str, key: &KeyPair) -> anyhow::Result<Vec<u8>> {
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, device_id);
    request(subject, key)
}

/// The CSR (DER) of a re-enrollment: the subject of the current certificate (its DER,
/// [`CertificateInfo::subject_der`]) as it is, signed with `key`. The server refuses any other
/// subject; the request is checked here with common's reading of it first.
pub fn reenrollment_request(current: &CertificateInfo, key: &KeyPair) -> anyhow::Result<Vec<u8>> {
    let subject = distinguished_name(&current.subject_der)
        .map_err(|e| anyhow::anyhow!("the current certificate's subject '{}' {e}", current.subject))?;
    let der = request(subject, key)?;
    let asked = est::csr_subject(&der).map_err(|e| anyhow::anyhow!(e))?;
    anyhow::ensure!(
        asked.subject == current.subject,
        "the request's subject '{}' is not the current certificate's '{}'",
        asked.subject,
        current.subject
    );
    Ok(der)
}

fn request(subject: DistinguishedName, key: &KeyPair) -> anyhow::Result<Vec<u8>> {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject;
    let csr = params.serialize_request(key).context("making the certificate signing request")?;
    Ok(csr.der().to_vec())
}

/// The certificate of an EST answer issued for `key` (the one whose public key is `key`'s), with
/// what common reads from it.
pub fn issued_for(certificates: &[Vec<u8>], key: &KeyPair) -> Result<(Vec<u8>, CertificateInfo), String> {
    let ours = certificates.iter().find(|der| {
        anchorage_common::pop::certificate_key(der).is_ok_and(|k| k.public_key.as_slice() == key.public_key_raw())
    });
    let Some(der) = ours else {
        return Err(format!(
            "the server's answer holds no certificate for the key sent ({} certificate(s))",
            certificates.len()
        ));
    };
    let inspection = anchorage_common::cert::inspect(der, time::OffsetDateTime::now_utc())
        .map_err(|e| format!("the issued certificate cannot be read: {e}"))?;
    Ok((der.clone(), inspection.info))
}

/// Checks a certificate from `simpleenroll`: its CN is the device id.
pub fn check_enrolled(info: &CertificateInfo, device_id: &str) -> Result<(), String> {
    match info.common_name.as_deref() {
        Some(cn) if cn == device_id => Ok(()),
        other => Err(format!(
            "the issued certificate's common name is {}, not the device id '{device_id}'",
            other.map_or_else(|| "missing".to_string(), |cn| format!("'{cn}'"))
        )),
    }
}

/// Checks a certificate from `simplereenroll`: the subject of the one it replaces.
pub fn check_reenrolled(info: &CertificateInfo, current: &CertificateInfo) -> Result<(), String> {
    if info.subject != current.subject {
        return Err(format!(
            "the issued certificate's subject '{}' is not the current certificate's '{}'",
            info.subject, current.subject
        ));
    }
    Ok(())
}

/// A DER `Name` as rcgen's [`DistinguishedName`], attribute by attribute in order and with
/// each value's string type ([`anchorage_common::dn::to_rcgen`]), so that the request's subject
/// is the certificate's.
pub fn distinguished_name(name_der: &[u8]) -> Result<DistinguishedName, String> {
    anchorage_common::dn::to_rcgen(name_der).map_err(|e| format!("cannot be put in a request: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::DnValue;
    use rcgen::string::PrintableString;

    fn certificate(dn: DistinguishedName) -> (CertificateInfo, KeyPair) {
        let key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.distinguished_name = dn;
        let cert = p.self_signed(&key).expect("cert");
        let info = anchorage_common::cert::inspect(cert.der(), time::OffsetDateTime::now_utc()).expect("inspect").info;
        (info, key)
    }

    #[test]
    fn a_reenrollment_request_repeats_the_subject_with_its_string_types() {
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, DnValue::PrintableString(PrintableString::try_from("DE").expect("printable")));
        dn.push(DnType::OrganizationName, "Thin Edge");
        dn.push(DnType::OrganizationalUnitName, DnValue::Utf8String("Test Device".into()));
        dn.push(
            DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]),
            DnValue::Ia5String("a@b.c".try_into().expect("ia5")),
        );
        dn.push(DnType::CommonName, "tedge-ü-01");
        let (current, _) = certificate(dn);
        let key = KeyPair::generate().expect("key");
        let der = reenrollment_request(&current, &key).expect("request");
        let asked = est::csr_subject(&der).expect("subject");
        assert_eq!(asked.subject, current.subject);
        assert_eq!(asked.common_name.as_deref(), Some("tedge-ü-01"));
        // Byte for byte, the certificate's name.
        let rebuilt = distinguished_name(&current.subject_der).expect("dn");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
        p.distinguished_name = rebuilt;
        let again = p.self_signed(&key).expect("cert");
        let info = anchorage_common::cert::inspect(again.der(), time::OffsetDateTime::now_utc()).expect("i").info;
        assert_eq!(info.subject_der, current.subject_der);
    }

    #[test]
    fn names_rcgen_cannot_write_are_refused_in_words() {
        // Two OUs: SEQUENCE { SET { SEQ { OU, "a" } }, SET { SEQ { OU, "b" } } }.
        let ou = |v: u8| [0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x01, v];
        let der = [&[0x30, 0x18][..], &ou(b'a'), &ou(b'b')].concat();
        let e = distinguished_name(&der).expect_err("repeated");
        assert!(e.contains("the attribute OU appears twice"), "{e}");
        assert!(distinguished_name(&der[..der.len() - 1]).is_err());
        assert!(distinguished_name(&[]).is_err());
        let one = distinguished_name(&[&[0x30, 0x0c][..], &ou(b'a')].concat()).expect("one OU");
        assert!(one.get(&DnType::OrganizationalUnitName).is_some());
    }

    #[test]
    fn answers_are_base64_pkcs7_and_the_certificate_is_the_one_for_the_key() {
        let (info, key) = certificate({
            let mut dn = DistinguishedName::new();
            dn.push(DnType::CommonName, "dev-1");
            dn
        });
        let (other, _) = certificate(DistinguishedName::new());
        let p7 = anchorage_common::pkcs7::certs_only(&[&other.der, &info.der]);
        let body = csr_body(&p7);
        assert!(body.lines().all(|l| l.len() <= 64));
        let certs = read_certs_only(body.as_bytes()).expect("answer");
        assert_eq!(certs.len(), 2);
        let (der, found) = issued_for(&certs, &key).expect("ours");
        assert_eq!(der, info.der);
        check_enrolled(&found, "dev-1").expect("cn");
        assert!(check_enrolled(&found, "dev-2").expect_err("other").contains("'dev-1', not the device id 'dev-2'"));
        assert!(issued_for(&certs[..1], &key).is_err());
        assert!(read_certs_only(b"<html>").is_err());
        assert!(read_certs_only(b"").is_err());
    }

    #[test]
    fn the_enrollment_request_names_the_device() {
        let key = KeyPair::generate().expect("key");
        let der = enrollment_request("dev-0001", &key).expect("csr");
        let body = csr_body(&der);
        assert_eq!(est::decode_csr(body.as_bytes()).expect("the server's reading"), der);
        let s = est::csr_subject(&der).expect("subject");
        assert_eq!((s.common_name.as_deref(), s.subject.as_str()), (Some("dev-0001"), "CN=dev-0001"));
    }
}
