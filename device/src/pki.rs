//! Test PKIs: a root CA, an optional intermediate, and device certificates whose CN is the
//! device id, in memory ([`generate`]) or written to a directory ([`Pki::write`]) as PEM,
//! PKCS#12 and the platform's bulk-registration CSV.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};

use crate::files::{write_private, write_public};
use crate::identity::Identity;

/// The key algorithm of generated certificates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum KeyType {
    /// ECDSA on P-256 with SHA-256.
    #[default]
    P256,
    /// ECDSA on P-384 with SHA-384.
    P384,
    /// RSA 2048 with PKCS#1 v1.5 SHA-256.
    Rsa2048,
}

impl KeyType {
    fn algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            Self::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Self::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            Self::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        }
    }

    /// A new key pair of this type.
    pub fn generate(self) -> anyhow::Result<KeyPair> {
        KeyPair::generate_for(self.algorithm()).context("generating a key pair")
    }
}

/// What to make.
#[derive(Debug, Clone)]
pub struct PkiOptions {
    /// CN of the root CA.
    pub root_cn: String,
    /// CN of the intermediate CA, when there is one (devices are then issued by it).
    pub intermediate_cn: Option<String>,
    /// How many device certificates.
    pub devices: usize,
    /// Device ids are `<prefix><n>`, n zero-padded to 4 digits and counting from 1.
    pub prefix: String,
    /// Validity of the device certificates in days (the CAs outlive them).
    pub days: u32,
    /// Key algorithm of every certificate.
    pub key_type: KeyType,
    /// Start of validity (an hour is taken off for clock skew).
    pub now: OffsetDateTime,
}

impl Default for PkiOptions {
    fn default() -> Self {
        Self {
            root_cn: "anchorage test root".into(),
            intermediate_cn: None,
            devices: 1,
            prefix: "dev-".into(),
            days: 365,
            key_type: KeyType::P256,
            now: OffsetDateTime::now_utc(),
        }
    }
}

/// A CA certificate with its key.
pub struct CaMaterial {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its key, PEM (PKCS#8).
    pub key_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A device certificate with its key and chain.
pub struct DeviceMaterial {
    /// The device id (the certificate's CN).
    pub id: String,
    /// The device certificate alone, PEM.
    pub cert_pem: String,
    /// The intermediate's PEM when there is one (empty otherwise).
    pub intermediate_pem: String,
    /// The key, PEM (PKCS#8).
    pub key_pem: String,
    key_der: Vec<u8>,
}

impl DeviceMaterial {
    /// Leaf then intermediate, PEM: what `<id>.pem` holds and what the device sends in TLS.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.cert_pem, self.intermediate_pem)
    }

    /// The TLS client identity (leaf and intermediate in the handshake).
    pub fn identity(&self) -> anyhow::Result<Identity> {
        Identity::from_pem(self.chain_pem().as_bytes(), self.key_pem.as_bytes())
    }

    /// A PKCS#12 store with the key and the chain (leaf, then the intermediate), encrypted with
    /// PBES2 (AES-256-CBC, PBKDF2-HMAC-SHA-256) and an HMAC-SHA-256 MAC.
    pub fn pkcs12(&self, password: &str) -> anyhow::Result<Vec<u8>> {
        let mut certs = Vec::new();
        for der in crate::identity::certificates_from_pem(self.chain_pem().as_bytes())? {
            certs.push(p12_keystore::Certificate::from_der(&der).map_err(|e| anyhow::anyhow!("{e}"))?);
        }
        let key = p12_keystore::PrivateKey::from_der(&self.key_der).map_err(|e| anyhow::anyhow!("{e}"))?;
        let chain = p12_keystore::PrivateKeyChain::new(self.id.as_bytes(), key, certs);
        let mut store = p12_keystore::KeyStore::new();
        store.add_entry(&self.id, p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
        store.writer(password).write().map_err(|e| anyhow::anyhow!("writing the PKCS#12 store of {}: {e}", self.id))
    }
}

/// A generated PKI.
pub struct Pki {
    /// The root CA.
    pub root: CaMaterial,
    /// The intermediate CA, when asked for.
    pub intermediate: Option<CaMaterial>,
    /// The devices, in id order.
    pub devices: Vec<DeviceMaterial>,
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "anchorage test PKI");
    dn.push(DnType::CommonName, cn);
    dn
}

fn ca_params(cn: &str, path_len: Option<u8>, now: OffsetDateTime, days: i64) -> anyhow::Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name = name(cn);
    p.is_ca = IsCa::Ca(path_len.map_or(BasicConstraints::Unconstrained, BasicConstraints::Constrained));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(days);
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

/// The id of device number `n` (from 1): `dev-0001`.
pub fn device_id(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:04}")
}

/// Makes a PKI in memory.
pub fn generate(options: &PkiOptions) -> anyhow::Result<Pki> {
    anyhow::ensure!(options.days >= 1, "--days must be at least 1");
    let (now, days) = (options.now, i64::from(options.days));
    // The CAs outlive the devices they sign.
    let ca_days = (days + 30).max(3650);
    let root_key = options.key_type.generate()?;
    let root_params = ca_params(&options.root_cn, None, now, ca_days)?;
    let root_cert = root_params.self_signed(&root_key).context("signing the root")?;
    let root = CaMaterial {
        cert_pem: root_cert.pem(),
        key_pem: root_key.serialize_pem(),
        issuer: Issuer::new(root_params, root_key),
    };
    let intermediate = match &options.intermediate_cn {
        Some(cn) => {
            let key = options.key_type.generate()?;
            let params = ca_params(cn, Some(0), now, ca_days - 1)?;
            let cert = params.signed_by(&key, &root.issuer).context("signing the intermediate")?;
            Some(CaMaterial { cert_pem: cert.pem(), key_pem: key.serialize_pem(), issuer: Issuer::new(params, key) })
        }
        None => None,
    };
    let signer = intermediate.as_ref().unwrap_or(&root);
    let intermediate_pem = intermediate.as_ref().map(|i| i.cert_pem.clone()).unwrap_or_default();
    let mut devices = Vec::with_capacity(options.devices);
    for n in 1..=options.devices {
        let id = device_id(&options.prefix, n);
        anyhow::ensure!(
            !id.contains([':', '/', '+', '$']) && !id.contains(char::is_whitespace),
            "device id {id:?}: no whitespace, ':', '/', '+' or '$'"
        );
        let key = options.key_type.generate()?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name = name(&id);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = now - Duration::hours(1);
        p.not_after = now + Duration::days(days);
        p.use_authority_key_identifier_extension = true;
        let cert = p.signed_by(&key, &signer.issuer).with_context(|| format!("signing {id}"))?;
        devices.push(DeviceMaterial {
            id,
            cert_pem: cert.pem(),
            intermediate_pem: intermediate_pem.clone(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        });
    }
    Ok(Pki { root, intermediate, devices })
}

/// The bulk-registration CSV: `ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME`, one certificate device a
/// line.
pub fn devices_csv<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut csv = String::from("ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\n");
    for id in ids {
        csv.push_str(&format!("{id};CERTIFICATES;;c8y_Device;{id}\n"));
    }
    csv
}

/// Where [`Pki::write`] put things.
#[derive(Debug, Clone)]
pub struct Written {
    /// `root.pem`.
    pub root: PathBuf,
    /// `intermediate.pem`, when there is one.
    pub intermediate: Option<PathBuf>,
    /// `devices.csv`.
    pub csv: PathBuf,
    /// The device ids.
    pub ids: Vec<String>,
}

impl Pki {
    /// Writes `root.pem`/`root.key`, `intermediate.pem`/`intermediate.key` (when there is one),
    /// per device `<id>.pem` (leaf, then intermediate), `<id>.key` and `<id>.p12`, and
    /// `devices.csv` into `dir` (created if missing). Keys and stores are mode 0600; existing
    /// files are never overwritten.
    pub fn write(&self, dir: &Path, p12_password: &str) -> anyhow::Result<Written> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let root = dir.join("root.pem");
        write_public(&root, self.root.cert_pem.as_bytes())?;
        write_private(&dir.join("root.key"), self.root.key_pem.as_bytes())?;
        let intermediate = match &self.intermediate {
            Some(i) => {
                let path = dir.join("intermediate.pem");
                write_public(&path, i.cert_pem.as_bytes())?;
                write_private(&dir.join("intermediate.key"), i.key_pem.as_bytes())?;
                Some(path)
            }
            None => None,
        };
        for d in &self.devices {
            write_public(&dir.join(format!("{}.pem", d.id)), d.chain_pem().as_bytes())?;
            write_private(&dir.join(format!("{}.key", d.id)), d.key_pem.as_bytes())?;
            write_private(&dir.join(format!("{}.p12", d.id)), &d.pkcs12(p12_password)?)?;
        }
        let csv = dir.join("devices.csv");
        write_public(&csv, devices_csv(self.devices.iter().map(|d| d.id.as_str())).as_bytes())?;
        Ok(Written { root, intermediate, csv, ids: self.devices.iter().map(|d| d.id.clone()).collect() })
    }
}

/// A PKI directory made by `pki`, read back: the root and each device's identity (from
/// `devices.csv`, `<id>.pem` and `<id>.key`).
pub struct PkiDir {
    /// `root.pem`.
    pub root_pem: String,
    /// The devices' ids and identities.
    pub devices: Vec<(String, Identity)>,
}

/// Reads a directory written by [`Pki::write`].
pub fn read_dir(dir: &Path) -> anyhow::Result<PkiDir> {
    let root_pem =
        std::fs::read_to_string(dir.join("root.pem")).with_context(|| format!("reading {}/root.pem", dir.display()))?;
    let csv = std::fs::read_to_string(dir.join("devices.csv"))
        .with_context(|| format!("reading {}/devices.csv", dir.display()))?;
    let mut devices = Vec::new();
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let id = line.split(';').next().unwrap_or_default().trim_matches('"').to_string();
        let identity = Identity::from_pem_files(&dir.join(format!("{id}.pem")), &dir.join(format!("{id}.key")))?;
        devices.push((id, identity));
    }
    anyhow::ensure!(!devices.is_empty(), "{}/devices.csv lists no device", dir.display());
    Ok(PkiDir { root_pem, devices })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_csv_follow_the_platform_format() {
        assert_eq!(device_id("dev-", 1), "dev-0001");
        assert_eq!(device_id("x", 12345), "x12345");
        assert_eq!(
            devices_csv(["a", "b"]),
            "ID;AUTH_TYPE;CREDENTIALS;TYPE;NAME\na;CERTIFICATES;;c8y_Device;a\nb;CERTIFICATES;;c8y_Device;b\n"
        );
    }

    #[test]
    fn pkcs12_stores_read_back_with_their_chain() {
        let pki = generate(&PkiOptions { intermediate_cn: Some("mid".into()), devices: 1, ..PkiOptions::default() })
            .expect("pki");
        let d = &pki.devices[0];
        let p12 = d.pkcs12("pw-1").expect("p12");
        let id = Identity::from_pkcs12(&p12, "pw-1").expect("reads");
        assert_eq!(id.chain().len(), 2);
        assert_eq!(id.leaf().as_ref(), d.identity().expect("identity").leaf().as_ref());
        assert!(Identity::from_pkcs12(&p12, "wrong").is_err());
    }
}
