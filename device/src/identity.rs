//! Who the device is and whom it trusts: the client certificate chain and key (PEM or
//! PKCS#12 files), the server's trust roots, and the rustls client configuration built from
//! them. Also the `X-Ssl-Cert-Chain` header value.

use std::path::Path;
use std::sync::Arc;

use anchorage_common::pem;
use anyhow::Context as _;
use rustls::client::Resumption;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ClientConfig, RootCertStore};

/// The crypto provider every TLS configuration here uses (aws-lc-rs, as the server does).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A client certificate chain (leaf first) and its private key. `Debug` never shows the key.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity").field("certificates", &self.chain.len()).field("key", &"***").finish()
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self { chain: self.chain.clone(), key: self.key.clone_key() }
    }
}

impl Identity {
    /// An identity from a chain (leaf first) and a key.
    pub fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> anyhow::Result<Self> {
        anyhow::ensure!(!chain.is_empty(), "the client identity has no certificate");
        Ok(Self { chain, key })
    }

    /// PEM certificates (leaf first, then any intermediates) and a PEM key (PKCS#8, SEC1 or
    /// PKCS#1).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Self> {
        let chain = certificates_from_pem(cert_pem)?;
        let key =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| anyhow::anyhow!("no readable private key: {e}"))?;
        Self::new(chain, key)
    }

    /// [`Identity::from_pem`] from files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<Self> {
        let cert_pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        let key_pem = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
        let chain = certificates_from_pem(&cert_pem)
            .with_context(|| format!("reading certificates from {}", cert.display()))?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| anyhow::anyhow!("reading the private key {}: {e}", key.display()))?;
        Self::new(chain, key)
    }

    /// The first private key of a PKCS#12 store and the certificate chain that goes with it.
    pub fn from_pkcs12(der: &[u8], password: &str) -> anyhow::Result<Self> {
        let store = p12_keystore::KeyStore::from_pkcs12(der, password, p12_keystore::Pkcs12ImportPolicy::Strict)
            .map_err(|e| anyhow::anyhow!("cannot open the PKCS#12 store (wrong password?): {e}"))?;
        let (_, chain) =
            store.private_key_chain().context("the PKCS#12 store holds no private key with its certificate")?;
        let certs = chain.certs().iter().map(|c| CertificateDer::from(c.as_der().to_vec())).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec()));
        Self::new(certs, key)
    }

    /// [`Identity::from_pkcs12`] from a file.
    pub fn from_pkcs12_file(path: &Path, password: &str) -> anyhow::Result<Self> {
        let der = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_pkcs12(&der, password).with_context(|| format!("reading {}", path.display()))
    }

    /// The device certificate.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }

    /// The whole chain sent in the TLS handshake, leaf first.
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// Checks that the key is the private half of the device certificate's public key (rustls
    /// compares the key's SubjectPublicKeyInfo with the certificate's).
    pub fn check_key_matches(&self) -> anyhow::Result<()> {
        let key = provider()
            .key_provider
            .load_private_key(self.key.clone_key())
            .map_err(|e| anyhow::anyhow!("the private key cannot be used: {e}"))?;
        match rustls::sign::CertifiedKey::new(self.chain.clone(), key).keys_match() {
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
            Err(rustls::Error::InconsistentKeys(_)) => {
                anyhow::bail!("the private key does not belong to the certificate")
            }
            Err(e) => anyhow::bail!("the certificate cannot be read: {e}"),
        }
    }
}

/// Every certificate in a PEM text (or one bare base64 DER certificate), in order: read by
/// common's decoder ([`anchorage_common::pem::decode_certificates_beside_key`]: the one the
/// server reads uploads and `X-Ssl-Cert-Chain` with, so both sides accept the same inputs, with
/// a private key in the same file skipped, as curl and OpenSSL do).
pub fn certificates_from_pem(pem: &[u8]) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let text = std::str::from_utf8(pem).map_err(|_| anyhow::anyhow!("unreadable PEM: the text is not UTF-8"))?;
    let certs = pem::decode_certificates_beside_key(text).map_err(|e| anyhow::anyhow!("unreadable PEM: {e}"))?;
    Ok(certs.into_iter().map(CertificateDer::from).collect())
}

/// Trust roots from a PEM file of CA certificates.
pub fn roots_from_pem_file(path: &Path) -> anyhow::Result<RootCertStore> {
    let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    roots_from_pem(&pem).with_context(|| format!("reading CA certificates from {}", path.display()))
}

/// Trust roots from PEM CA certificates.
pub fn roots_from_pem(pem: &[u8]) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in certificates_from_pem(pem)? {
        roots.add(cert).context("an unusable CA certificate")?;
    }
    Ok(roots)
}

/// The public web roots (Mozilla's list, built in), for a server with a publicly trusted
/// certificate.
pub fn web_roots() -> RootCertStore {
    RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() }
}

/// A TLS client configuration presenting `identity`, trusting `roots`, speaking HTTP/1.1.
/// Without `resumption` every connection makes a full handshake.
pub fn client_config(
    identity: &Identity,
    roots: Arc<RootCertStore>,
    resumption: bool,
) -> anyhow::Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
        .context("the client certificate and key do not go together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if !resumption {
        config.resumption = Resumption::disabled();
    }
    Ok(Arc::new(config))
}

/// A TLS client configuration without a client certificate (enrollment with a one-time
/// password), trusting `roots`, speaking HTTP/1.1.
pub fn anonymous_client_config(roots: Arc<RootCertStore>) -> anyhow::Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// One certificate as PEM (common's [`pem::to_pem`]) with its line breaks replaced by spaces.
fn pem_on_one_line(der: &[u8]) -> String {
    pem::to_pem(der).trim_end().replace('\n', " ")
}

/// The `X-Ssl-Cert-Chain` value for `identity` from the PEM certificates in `chain_pem`:
/// leaf first, then intermediates, line breaks replaced by spaces. When the file does not
/// start with the device certificate, it is put in front.
pub fn chain_header(identity: &Identity, chain_pem: &[u8]) -> anyhow::Result<String> {
    let mut certs = certificates_from_pem(chain_pem)?;
    if certs.first().map(|c| c.as_ref()) != Some(identity.leaf().as_ref()) {
        certs.retain(|c| c.as_ref() != identity.leaf().as_ref());
        certs.insert(0, identity.leaf().clone());
    }
    Ok(certs.iter().map(|c| pem_on_one_line(c)).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(cn: &str) -> (String, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut p = rcgen::CertificateParams::new(vec![]).expect("params");
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        (p.self_signed(&key).expect("cert").pem(), key)
    }

    #[test]
    fn the_chain_header_puts_the_leaf_first_on_one_line() {
        let (leaf, key) = cert("leaf");
        let (other, _) = cert("intermediate");
        let id = Identity::from_pem(leaf.as_bytes(), key.serialize_pem().as_bytes()).expect("identity");
        let without_leaf = chain_header(&id, other.as_bytes()).expect("header");
        let with_leaf = chain_header(&id, format!("{leaf}{other}").as_bytes()).expect("header");
        assert_eq!(without_leaf, with_leaf);
        assert!(!with_leaf.contains('\n'));
        assert_eq!(with_leaf.matches("-----BEGIN CERTIFICATE-----").count(), 2);
        let normalised: String = leaf.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(with_leaf.starts_with(&normalised), "{with_leaf}");
        // The server's own reader accepts it as it is.
        let decoded = pem::decode_certificates(&with_leaf).expect("the header form");
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[0].as_slice(), id.leaf().as_ref());
    }

    #[test]
    fn certificates_read_as_the_server_reads_them() {
        let (leaf, key) = cert("leaf");
        let der = certificates_from_pem(leaf.as_bytes()).expect("pem");
        assert_eq!(der.len(), 1);
        // CRLF, the header form and bare base64 DER: what common's decoder accepts.
        assert_eq!(certificates_from_pem(leaf.replace('\n', "\r\n").as_bytes()).expect("crlf"), der);
        assert_eq!(certificates_from_pem(leaf.replace('\n', " ").as_bytes()).expect("one line"), der);
        assert_eq!(certificates_from_pem(pem::to_single_line_base64(&der[0]).as_bytes()).expect("base64"), der);
        // A key beside the certificate is skipped (as curl reads such a file); a key alone, nothing,
        // or not UTF-8 is refused.
        let both = format!("{}{leaf}", key.serialize_pem());
        assert_eq!(certificates_from_pem(both.as_bytes()).expect("key and certificate"), der);
        let err = certificates_from_pem(key.serialize_pem().as_bytes()).expect_err("a key alone");
        assert!(err.to_string().contains("no certificate"), "{err}");
        assert!(certificates_from_pem(b"  \n").is_err());
        assert!(certificates_from_pem(b"\xff\xfe").is_err());
    }

    #[test]
    fn a_key_matches_its_certificate_only() {
        let (leaf, key) = cert("leaf");
        let (_, other) = cert("other");
        Identity::from_pem(leaf.as_bytes(), key.serialize_pem().as_bytes())
            .expect("identity")
            .check_key_matches()
            .expect("its key");
        let wrong = Identity::from_pem(leaf.as_bytes(), other.serialize_pem().as_bytes()).expect("identity");
        let err = wrong.check_key_matches().expect_err("another key");
        assert!(err.to_string().contains("does not belong"), "{err}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let (leaf, key) = cert("leaf");
        let id = Identity::from_pem(leaf.as_bytes(), key.serialize_pem().as_bytes()).expect("identity");
        assert_eq!(format!("{id:?}"), "Identity { certificates: 1, key: \"***\" }");
    }
}
