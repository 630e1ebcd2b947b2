//! Test PKIs: a root CA, an optional intermediate, and device certificates whose CN is the
//! device id, in memory ([`generate`]) or written to a directory ([`Pki::write`]) as PEM,
//! PKCS#12 and the platform's bulk-registration CSV.

use std::path::{Path, PathBuf};

use anchorage_common::bulk::{self, AuthType, Column, Severity};
use anchorage_common::device::check_device_id;
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

    /// The type of `key`, when it is one of these.
    pub fn of(key: &KeyPair) -> Option<Self> {
        [Self::P256, Self::P384, Self::Rsa2048].into_iter().find(|t| key.algorithm() == t.algorithm())
    }
}

/// What to make.
#[derive(Debug, Clone)]
pub struct PkiOptions {
    /// CN of the root CA.
    pub root_cn: String,
    /// CN of the intermediate CA, when there is one (devices are then issued by it).
    pub intermediate_cn: Option<String>,
    /// How many device certificates (at most [`bulk::MAX_ROWS`], the rows one bulk file takes).
    pub devices: usize,
    /// Device ids are `<prefix><n>`, n zero-padded to 4 digits and counting from 1.
    pub prefix: String,
    /// Validity of the device certificates in days (the CAs outlive them).
    pub days: u32,
    /// Key algorithm of every certificate.
    pub key_type: KeyType,
    /// Start of validity (an hour is taken off for clock skew).
    pub now: OffsetDateTime,
    /// A CRL distribution point (an `http://` URL) written into every device certificate, for
    /// the online revocation check.
    pub crl_url: Option<String>,
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
            crl_url: None,
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

/// Checks a device id (the certificate's CN, the CSV's `ID`) with common's rule, the one the
/// server applies to bulk rows and certificates.
fn checked_id(id: &str) -> anyhow::Result<&str> {
    check_device_id(id).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(id)
}

/// Refuses more devices than one bulk-registration file may hold (common's limit).
fn check_row_count(devices: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        devices <= bulk::MAX_ROWS,
        "{devices} devices: one bulk-registration file holds at most {} rows",
        bulk::MAX_ROWS
    );
    Ok(())
}

/// Makes a PKI in memory.
pub fn generate(options: &PkiOptions) -> anyhow::Result<Pki> {
    anyhow::ensure!(options.days >= 1, "--days must be at least 1");
    check_row_count(options.devices)?;
    // Every id is checked before any key is made.
    let ids: Vec<String> = (1..=options.devices).map(|n| device_id(&options.prefix, n)).collect();
    for id in &ids {
        checked_id(id)?;
    }
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
    for id in ids {
        let key = options.key_type.generate()?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name = name(&id);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = now - Duration::hours(1);
        p.not_after = now + Duration::days(days);
        p.use_authority_key_identifier_extension = true;
        if let Some(url) = &options.crl_url {
            p.crl_distribution_points = vec![rcgen::CrlDistributionPoint { uris: vec![url.clone()] }];
        }
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

/// The type of the registered devices.
pub const DEVICE_TYPE: &str = "c8y_Device";

/// A CSV cell, quoted as common's templates quote them (`"` doubled inside).
fn quoted(cell: &str) -> String {
    format!("\"{}\"", cell.replace('"', "\"\""))
}

/// The bulk-registration CSV of certificate devices, one a line, in common's format: the header,
/// columns and separator of its certificate template ([`bulk::templates::CERTIFICATES`]: `ID`,
/// `AUTH_TYPE`, `CREDENTIALS`, `TYPE`, `NAME`, `;`), every cell quoted; `AUTH_TYPE` is
/// `CERTIFICATES`, `CREDENTIALS` empty, `TYPE` [`DEVICE_TYPE`] and `NAME` the id.
///
/// Refuses an id common's rule refuses, and more than [`bulk::MAX_ROWS`] rows.
pub fn devices_csv<'a>(ids: impl IntoIterator<Item = &'a str>) -> anyhow::Result<String> {
    let template = bulk::parse(bulk::templates::CERTIFICATES.as_bytes())
        .map_err(|e| anyhow::anyhow!("common's certificate template: {e}"))?;
    let separator = template.separator.to_string();
    let mut csv = template.header.iter().map(|h| quoted(h)).collect::<Vec<_>>().join(&separator);
    csv.push('\n');
    let mut rows = 0;
    for id in ids {
        rows += 1;
        check_row_count(rows)?;
        let id = checked_id(id)?;
        let cells: Vec<String> = template
            .columns
            .iter()
            .map(|c| match c {
                Column::Id | Column::Name => quoted(id),
                Column::AuthType => quoted(AuthType::Certificates.as_str()),
                Column::Type => quoted(DEVICE_TYPE),
                _ => quoted(""),
            })
            .collect();
        csv.push_str(&cells.join(&separator));
        csv.push('\n');
    }
    Ok(csv)
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
        write_public(&csv, devices_csv(self.devices.iter().map(|d| d.id.as_str()))?.as_bytes())?;
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
    // Read with common's parser, as the server reads it: ids are checked by its rule (no `/`).
    let file = bulk::parse(csv.as_bytes()).map_err(|e| anyhow::anyhow!("{}/devices.csv: {e}", dir.display()))?;
    if let Some(issue) = file.issues.iter().find(|i| i.severity == Severity::Error) {
        anyhow::bail!("{}/devices.csv, line {}: {}", dir.display(), issue.line, issue.message);
    }
    let mut devices = Vec::new();
    for entry in file.entries() {
        let id = entry.id;
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
            devices_csv(["a", "b"]).expect("csv"),
            "\"ID\";\"AUTH_TYPE\";\"CREDENTIALS\";\"TYPE\";\"NAME\"\n\
             \"a\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"a\"\n\
             \"b\";\"CERTIFICATES\";\"\";\"c8y_Device\";\"b\"\n"
        );
    }

    #[test]
    fn the_csv_is_what_commons_parser_registers() {
        // Ids with the characters common allows but a separator or quote would break.
        let ids = ["dev-0001", "semi;colon", "quo\"te", "comma,x"];
        let csv = devices_csv(ids).expect("csv");
        let file = bulk::parse(csv.as_bytes()).expect("parses");
        assert!(file.issues.is_empty(), "{:?}", file.issues);
        let entries: Vec<_> = file.entries().collect();
        assert_eq!(entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ids);
        for e in &entries {
            assert_eq!(e.auth_type, AuthType::Certificates);
            assert_eq!((e.credentials.as_deref(), e.device_type.as_deref()), (None, Some(DEVICE_TYPE)));
            assert_eq!(e.name.as_deref(), Some(e.id.as_str()));
        }
    }

    #[test]
    fn ids_and_row_counts_follow_commons_rules() {
        for bad in ["a b", "a/b", "a+b", "a$b", "d:1", ""] {
            let err = devices_csv([bad]).expect_err(bad);
            assert!(err.to_string().contains("device id"), "{bad:?}: {err}");
        }
        let err = generate(&PkiOptions { prefix: "dev/".into(), ..PkiOptions::default() }).err().expect("refused");
        assert!(err.to_string().contains("'/'"), "{err}");
        let long = "x".repeat(anchorage_common::device::MAX_DEVICE_ID_CHARS);
        assert!(generate(&PkiOptions { prefix: long, devices: 1, ..PkiOptions::default() }).is_err());
        // One row more than a bulk file takes is refused before any key is made.
        let ids: Vec<String> = (1..=bulk::MAX_ROWS + 1).map(|n| device_id("d", n)).collect();
        let err = devices_csv(ids.iter().map(String::as_str)).expect_err("too many");
        assert!(err.to_string().contains(&bulk::MAX_ROWS.to_string()), "{err}");
        let err =
            generate(&PkiOptions { devices: bulk::MAX_ROWS + 1, ..PkiOptions::default() }).err().expect("refused");
        assert!(err.to_string().contains("at most"), "{err}");
        assert!(devices_csv(ids[..bulk::MAX_ROWS].iter().map(String::as_str)).is_ok());
    }

    #[test]
    fn every_key_type_is_generated_and_signs() {
        for key_type in [KeyType::P256, KeyType::P384, KeyType::Rsa2048] {
            let pki = generate(&PkiOptions { key_type, devices: 1, ..PkiOptions::default() }).expect("pki");
            let key = KeyPair::from_pem(&pki.devices[0].key_pem).expect("key");
            assert_eq!(KeyType::of(&key), Some(key_type), "{key_type:?}");
            pki.devices[0].identity().expect("identity");
        }
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
