//! The tenant's own certificate authority: making it, renewing it, opening its sealed key, and
//! signing device certificates from CSRs (EST, `routes::est`). The rules (validity, renewal
//! window, the CSR's CN) are `anchorage_common::est`'s; this module holds the cryptography.
//!
//! The CA's key is generated here (ECDSA P-256 by default, RSA 2048 or 3072 by
//! `--tenant-ca-key`), serialised as PKCS#8 and sealed with the server's secret key
//! ([`crate::secrets`]), bound to the tenant and the key's public half: the database alone
//! never holds it in clear, and no API returns it.

use anchorage_common::est;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use sha2::Digest as _;
use time::{OffsetDateTime, UtcOffset};
use x509_parser::prelude::FromDer as _;

/// The key of a new tenant CA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyAlgorithm {
    #[value(name = "p256")]
    P256,
    #[value(name = "rsa2048")]
    Rsa2048,
    #[value(name = "rsa3072")]
    Rsa3072,
}

impl KeyAlgorithm {
    /// As stored and shown.
    pub fn label(self) -> &'static str {
        match self {
            KeyAlgorithm::P256 => "P-256",
            KeyAlgorithm::Rsa2048 => "RSA-2048",
            KeyAlgorithm::Rsa3072 => "RSA-3072",
        }
    }

    fn is_rsa(label: &str) -> bool {
        label.starts_with("RSA")
    }

    /// A new key pair.
    pub fn generate(self) -> anyhow::Result<KeyPair> {
        let size = match self {
            KeyAlgorithm::P256 => return Ok(KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?),
            KeyAlgorithm::Rsa2048 => aws_lc_rs::rsa::KeySize::Rsa2048,
            KeyAlgorithm::Rsa3072 => aws_lc_rs::rsa::KeySize::Rsa3072,
        };
        use aws_lc_rs::encoding::AsDer as _;
        let pair = aws_lc_rs::rsa::KeyPair::generate(size).map_err(|_| anyhow::anyhow!("generating an RSA key"))?;
        let der = pair.as_der().map_err(|_| anyhow::anyhow!("encoding an RSA key"))?;
        Ok(KeyPair::from_pkcs8_der_and_sign_algo(&der.as_ref().into(), &rcgen::PKCS_RSA_SHA256)?)
    }
}

/// How new CAs are made (`--tenant-ca-*`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub key: KeyAlgorithm,
    pub validity: time::Duration,
    pub country: String,
    pub organization: String,
}

/// What a CA's sealed key is bound to: its tenant and the SHA-256 of its public key (which a
/// renewal keeps), so a sealed key cannot be moved to another row.
pub fn key_context(tenant: &str, public_key_der: &[u8]) -> String {
    format!("tenant_cas/{tenant}/{}", hex::encode(sha2::Sha256::digest(public_key_der)))
}

/// [`key_context`] of the CA certificate `ca_der`.
pub fn ca_key_context(tenant: &str, ca_der: &[u8]) -> anyhow::Result<String> {
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(ca_der)?;
    Ok(key_context(tenant, cert.public_key().raw))
}

/// A random positive 16-byte serial.
fn random_serial() -> SerialNumber {
    let mut serial: [u8; 16] = rand::random();
    serial[0] = (serial[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&serial)
}

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(UtcOffset::UTC);
    t.replace_nanosecond(0).unwrap_or(t)
}

/// A new self-signed CA certificate (DER) for `tenant`: subject `C=<country>, O=<organization>,
/// CN=<tenant>`, valid from `now` for the configured days.
pub fn make_ca(tenant: &str, settings: &Settings, key: &KeyPair, now: OffsetDateTime) -> anyhow::Result<Vec<u8>> {
    // The platform's CA name, byte for byte (thin-edge's test vector of a real CA-issued
    // certificate): C, O, CN in this order, as PrintableStrings. openssl prints it
    // `C = United States, O = Cumulocity, CN = <tenant>`; the API (Java's order, last first)
    // `CN=<tenant>, O=Cumulocity, C=United States`.
    let mut dn = DistinguishedName::new();
    for (ty, value) in [
        (DnType::CountryName, settings.country.as_str()),
        (DnType::OrganizationName, settings.organization.as_str()),
        (DnType::CommonName, tenant),
    ] {
        match rcgen::string::PrintableString::try_from(value) {
            Ok(printable) => dn.push(ty, rcgen::DnValue::PrintableString(printable)),
            // A configured name PrintableString cannot hold (`&`, `ü`, …).
            Err(_) => dn.push(ty, value),
        }
    }
    Ok(ca_params(dn, now, settings.validity).self_signed(key)?.der().to_vec())
}

/// A CA certificate's parameters: CA with path length 0 (it signs device certificates only),
/// key usages certificate and CRL signing, a random serial.
fn ca_params(dn: DistinguishedName, now: OffsetDateTime, validity: time::Duration) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params.serial_number = Some(random_serial());
    params.not_before = utc(now);
    params.not_after = utc(now) + validity;
    params
}

/// The renewal of CA certificate `der`: the same subject (byte for byte, so the certificates
/// it issued still chain) and key, a new serial, valid from `now` for `validity`.
pub fn renew_ca(der: &[u8], key: &KeyPair, now: OffsetDateTime, validity: time::Duration) -> anyhow::Result<Vec<u8>> {
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)?;
    let dn = anchorage_common::dn::to_rcgen(cert.subject().as_raw())
        .map_err(|e| anyhow::anyhow!("the CA's subject: {e}"))?;
    let renewed = ca_params(dn, now, validity).self_signed(key)?.der().to_vec();
    anyhow::ensure!(subject_der(&renewed)? == subject_der(der)?, "the renewed CA's subject would differ");
    Ok(renewed)
}

/// The subject (DER) of certificate `der`.
pub fn subject_der(der: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)?;
    Ok(cert.subject().as_raw().to_vec())
}

/// Opens a CA's sealed key (stored with [`key_context`]) as an issuer of certificates.
pub fn issuer(
    secrets: &crate::secrets::SecretBox,
    tenant: &str,
    ca_der: &[u8],
    sealed_key: &str,
    key_algorithm: &str,
) -> anyhow::Result<Issuer<'static, KeyPair>> {
    let pkcs8 = secrets.open(sealed_key, &ca_key_context(tenant, ca_der)?)?;
    let key = if KeyAlgorithm::is_rsa(key_algorithm) {
        KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.as_slice().into(), &rcgen::PKCS_RSA_SHA256)?
    } else {
        KeyPair::try_from(pkcs8.as_slice())?
    };
    Ok(Issuer::from_ca_cert_der(&ca_der.into(), key)?)
}

/// A CSR the server accepted: its signature verified, its key of a kind devices can use.
pub struct VerifiedCsr {
    /// The subject, DER (copied into the certificate as it is).
    pub subject_der: Vec<u8>,
    pub common_name: Option<String>,
    /// The subject as the platform writes names.
    pub subject: String,
    /// The SubjectPublicKeyInfo, DER.
    pub public_key_der: Vec<u8>,
}

/// Reads a DER CSR and verifies its signature (proof that the requester holds the key).
/// Accepted keys: ECDSA P-256 and P-384, RSA of 2048 bits or more, Ed25519 (what the device
/// listener verifies).
pub fn verify_csr(der: &[u8]) -> Result<VerifiedCsr, String> {
    use x509_parser::public_key::PublicKey;
    let (rest, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(der)
        .map_err(|e| format!("The certificate signing request cannot be read: {e}."))?;
    if !rest.is_empty() {
        return Err("The certificate signing request has data after its end.".into());
    }
    let info = &csr.certification_request_info;
    match info.subject_pki.parsed() {
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() >= 2048 => {}
        Ok(PublicKey::RSA(rsa)) => {
            return Err(format!(
                "The certificate signing request has a {}-bit RSA key; at least 2048 bits are needed.",
                rsa.key_size()
            ));
        }
        Ok(PublicKey::EC(_)) => {
            let curve = info.subject_pki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
            let ok = curve.is_some_and(|c| {
                c == x509_parser::oid_registry::OID_EC_P256 || c == x509_parser::oid_registry::OID_NIST_EC_P384
            });
            if !ok {
                return Err(
                    "The certificate signing request has an EC key on a curve other than P-256 or P-384.".into()
                );
            }
        }
        Ok(PublicKey::Unknown(_))
            if info.subject_pki.algorithm.algorithm == x509_parser::oid_registry::OID_SIG_ED25519 => {}
        _ => return Err("The certificate signing request's key is not ECDSA (P-256, P-384), RSA or Ed25519.".into()),
    }
    anchorage_common::dn::to_rcgen(info.subject.as_raw())
        .map_err(|e| format!("The certificate signing request's subject cannot be used: {e}."))?;
    csr.verify_signature().map_err(|_| {
        "The certificate signing request's signature is not valid (it must be signed with the key it carries)."
            .to_string()
    })?;
    Ok(VerifiedCsr {
        subject_der: info.subject.as_raw().to_vec(),
        common_name: anchorage_common::dn::common_name(&info.subject),
        subject: anchorage_common::dn::java_string(&info.subject),
        public_key_der: info.subject_pki.raw.to_vec(),
    })
}

/// A device certificate just signed.
pub struct Signed {
    pub der: Vec<u8>,
    pub info: anchorage_common::CertificateInfo,
}

/// Signs a device certificate for `csr` with `issuer`: the CSR's subject, its key, valid
/// `not_before`..`not_after` ([`est::device_validity`]), end entity, key usage digital
/// signature, extended key usage TLS client authentication, a random serial.
pub fn sign_device(
    csr: &VerifiedCsr,
    issuer: &Issuer<'_, KeyPair>,
    (not_before, not_after): (OffsetDateTime, OffsetDateTime),
) -> anyhow::Result<Signed> {
    let mut params = CertificateParams::default();
    params.distinguished_name = anchorage_common::dn::to_rcgen(&csr.subject_der).map_err(|e| anyhow::anyhow!("{e}"))?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(random_serial());
    params.not_before = utc(not_before);
    params.not_after = utc(not_after);
    let key = rcgen::SubjectPublicKeyInfo::from_der(&csr.public_key_der)?;
    let der = params.signed_by(&key, issuer)?.der().to_vec();
    let info = anchorage_common::cert::inspect(&der, not_before)
        .map_err(|e| anyhow::anyhow!("reading the signed certificate: {e}"))?
        .info;
    Ok(Signed { der, info })
}

/// The SubjectPublicKeyInfo (DER) of certificate `der`.
pub fn public_key_der(der: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)?;
    Ok(cert.public_key().raw.to_vec())
}

/// When CA certificate `der` ends.
pub fn ca_not_after(der: &[u8]) -> anyhow::Result<OffsetDateTime> {
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)?;
    Ok(cert.validity().not_after.to_datetime())
}

/// The validity of a device certificate issued now by a CA ending at `ca_not_after`, or None
/// when the CA cannot sign (ended).
pub fn device_validity(now: OffsetDateTime, ca_not_after: OffsetDateTime) -> Option<(OffsetDateTime, OffsetDateTime)> {
    est::device_validity(now, ca_not_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(key: KeyAlgorithm) -> Settings {
        Settings {
            key,
            validity: est::CA_VALIDITY,
            country: est::DEFAULT_CA_COUNTRY.into(),
            organization: est::DEFAULT_CA_ORGANIZATION.into(),
        }
    }

    fn csr(cn: &str, alg: &'static rcgen::SignatureAlgorithm) -> (Vec<u8>, KeyPair) {
        let key = KeyPair::generate_for(alg).expect("key");
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::OrganizationName, "Cumulocity");
        params.distinguished_name.push(DnType::CommonName, cn);
        (params.serialize_request(&key).expect("csr").der().to_vec(), key)
    }

    #[test]
    fn a_ca_signs_device_certificates_that_chain_after_renewal() {
        let now = OffsetDateTime::now_utc();
        let key = KeyAlgorithm::P256.generate().expect("key");
        let ca = make_ca("t100", &settings(KeyAlgorithm::P256), &key, now).expect("ca");
        let info = anchorage_common::cert::inspect(&ca, now).expect("inspect").info;
        assert_eq!(info.subject, "CN=t100, O=Cumulocity, C=United States");
        let attrs = anchorage_common::dn::single_valued_attributes(&info.subject_der).expect("attributes");
        let order: Vec<(&str, u32)> = attrs.iter().map(|a| (a.label.as_str(), a.tag)).collect();
        assert_eq!(order, [("C", 19), ("O", 19), ("CN", 19)], "the platform's DER: PrintableStrings, C first");
        assert!(info.days_left(now) >= 1094);
        let secrets = crate::secrets::SecretBox::from_bytes(&[7; 32]).expect("box");
        let sealed = secrets.seal(&key.serialize_der(), &ca_key_context("t100", &ca).expect("ctx")).expect("seal");
        let issuer = issuer(&secrets, "t100", &ca, &sealed, "P-256").expect("issuer");
        assert!(super::issuer(&secrets, "t200", &ca, &sealed, "P-256").is_err(), "bound to its tenant");

        let (der, _) = csr("device-01", &rcgen::PKCS_ECDSA_P256_SHA256);
        let verified = verify_csr(&der).expect("verified");
        assert_eq!(verified.common_name.as_deref(), Some("device-01"));
        let validity = device_validity(now, ca_not_after(&ca).expect("end")).expect("valid");
        let signed = sign_device(&verified, &issuer, validity).expect("signed");
        assert_eq!(signed.info.subject, "O=Cumulocity, CN=device-01", "the CSR's subject as it is");
        assert_eq!(signed.info.issuer, "CN=t100, O=Cumulocity, C=United States");

        // The renewal keeps subject and key: the device certificate verifies against it.
        let renewed = renew_ca(&ca, &key, now + time::Duration::days(400), est::CA_VALIDITY).expect("renewed");
        assert_ne!(renewed, ca);
        assert_eq!(subject_der(&renewed).expect("s"), subject_der(&ca).expect("s"));
        let (_, device) = x509_parser::certificate::X509Certificate::from_der(&signed.der).expect("device");
        let (_, renewed_cert) = x509_parser::certificate::X509Certificate::from_der(&renewed).expect("renewed");
        device.verify_signature(Some(renewed_cert.public_key())).expect("chains to the renewed CA");
    }

    #[test]
    fn rsa_cas() {
        let now = OffsetDateTime::now_utc();
        let key = KeyAlgorithm::Rsa2048.generate().expect("key");
        let ca = make_ca("t1", &settings(KeyAlgorithm::Rsa2048), &key, now).expect("ca");
        let info = anchorage_common::cert::inspect(&ca, now).expect("inspect").info;
        assert_eq!(info.algorithm_name, "SHA256withRSA");
        let secrets = crate::secrets::SecretBox::from_bytes(&[7; 32]).expect("box");
        let sealed = secrets.seal(&key.serialize_der(), &ca_key_context("t1", &ca).expect("ctx")).expect("seal");
        let issuer = issuer(&secrets, "t1", &ca, &sealed, "RSA-2048").expect("issuer");
        let (der, _) = csr("d", &rcgen::PKCS_ED25519);
        let signed = sign_device(&verify_csr(&der).expect("ok"), &issuer, (now, now + time::Duration::days(1)));
        assert!(signed.is_ok());
    }

    #[test]
    fn csrs_that_are_refused() {
        let (mut der, _) = csr("device-01", &rcgen::PKCS_ECDSA_P256_SHA256);
        let last = der.len() - 1;
        der[last] ^= 1;
        let e = verify_csr(&der).err().expect("bad signature");
        assert!(e.contains("signature is not valid"), "{e}");
        assert!(verify_csr(b"garbage").is_err());
    }
}
