//! The device listener's TLS: its server certificate (given, or a local CA and a `localhost`
//! certificate made at first start), and a client-certificate verifier that only checks that
//! the device holds the key of the leaf it presents.
//!
//! Whether that certificate chains to an *enabled* trusted certificate is decided per request
//! by `device_trust`, against the database, so enabling, disabling or deleting a CA takes
//! effect on the next handshake with no restart and in every instance sharing the database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName as TlsName, ServerConfig, SignatureScheme};
use time::{Duration, OffsetDateTime};

use crate::config::Config;

/// The device listener's TLS configuration, and where its local CA is (when anchorage made it).
pub struct DeviceTls {
    pub server_config: Arc<ServerConfig>,
    pub local_ca: Option<PathBuf>,
}

/// Requests a client certificate and checks only the proof of possession of its key (the
/// handshake signature); chain validation happens per request.
#[derive(Debug)]
pub struct PossessionOnlyVerifier {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PossessionOnlyVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        // Bearer calls on this port need no certificate; the token endpoint refuses without one.
        false
    }
    fn root_hint_subjects(&self) -> &[TlsName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the device listener's TLS configuration from `--tls-cert`/`--tls-key`, or from the
/// local CA under `<data-dir>/tls`, made on first start.
pub fn load_or_create(config: &Config, now: OffsetDateTime) -> anyhow::Result<DeviceTls> {
    let (chain, key, local_ca) = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => (read_chain(cert)?, read_key(key)?, None),
        (None, None) => {
            let dir = config.data_dir.join("tls");
            ensure_local_pki(&dir, now)?;
            (read_chain(&dir.join("server.pem"))?, read_key(&dir.join("server-key.pem"))?, Some(dir.join("ca.pem")))
        }
        _ => anyhow::bail!("--tls-cert and --tls-key go together"),
    };
    let provider = provider();
    let verifier = Arc::new(PossessionOnlyVerifier { algorithms: provider.signature_verification_algorithms });
    let mut server_config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .context("the device listener's certificate and key do not match")?;
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // No TLS 1.3 session tickets: every token is issued on a full handshake, a fresh proof
    // that the device holds its key. A device reconnects about once per half token lifetime
    // (150 s at the least), so at fleet scale a bounded session cache would rarely still hold
    // it; tickets cost a write and a cached session per connection for nothing.
    server_config.send_tls13_tickets = 0;
    Ok(DeviceTls { server_config: Arc::new(server_config), local_ca })
}

fn read_chain(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let chain = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", path.display()))?;
    anyhow::ensure!(!chain.is_empty(), "no certificate in {}", path.display());
    Ok(chain)
}

fn read_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    PrivateKeyDer::from_pem_file(path).with_context(|| format!("reading the private key {}", path.display()))
}

/// Makes `ca.pem`/`ca-key.pem` (10 years) if missing, and `server.pem`/`server-key.pem` for
/// `localhost`, `127.0.0.1` and `::1` (13 months) if missing or within 30 days of expiry.
fn ensure_local_pki(dir: &Path, now: OffsetDateTime) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let (ca_path, ca_key_path) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
    if !ca_path.is_file() || !ca_key_path.is_file() {
        let key = KeyPair::generate().context("generating the local CA key")?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "anchorage");
        dn.push(DnType::CommonName, "anchorage local CA");
        p.distinguished_name = dn;
        p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = now - Duration::hours(1);
        p.not_after = now + Duration::days(3650);
        let cert = p.self_signed(&key)?;
        crate::secrets::write_private(&ca_key_path, &key.serialize_pem())?;
        std::fs::write(&ca_path, cert.pem())?;
        let _ = std::fs::remove_file(dir.join("server.pem"));
    }
    let server_path = dir.join("server.pem");
    let fresh = std::fs::read_to_string(&server_path)
        .ok()
        .and_then(|pem| anchorage_common::pem::decode_certificates(&pem).ok())
        .and_then(|ders| ders.into_iter().next())
        .and_then(|der| anchorage_common::cert::inspect(&der, now).ok())
        .is_some_and(|i| i.info.not_after > now + Duration::days(30));
    if !fresh {
        let ca_key = KeyPair::from_pem(&std::fs::read_to_string(&ca_key_path)?).context("reading the local CA key")?;
        let issuer =
            Issuer::from_ca_cert_pem(&std::fs::read_to_string(&ca_path)?, ca_key).context("reading the local CA")?;
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(vec!["localhost".to_string()])?;
        p.subject_alt_names.push(SanType::IpAddress([127, 0, 0, 1].into()));
        p.subject_alt_names.push(SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()));
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, "localhost");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.not_before = now - Duration::hours(1);
        p.not_after = now + Duration::days(395);
        let cert = p.signed_by(&key, &issuer)?;
        crate::secrets::write_private(&dir.join("server-key.pem"), &key.serialize_pem())?;
        std::fs::write(&server_path, cert.pem())?;
    }
    Ok(())
}

/// The certificates a client presented in the TLS handshake (leaf first); empty when none.
/// Put into each request's extensions by the device listener.
#[derive(Debug, Clone, Default)]
pub struct PeerCertificates(pub Arc<Vec<CertificateDer<'static>>>);
