//! `enroll`: a device's first certificate, for its external id and the one-time password the
//! administrator made (EST `simpleenroll`).
//!
//! A fresh key (ECDSA P-256 unless asked otherwise) signs a request for `CN=<device id>`; the
//! answer's certificate must be for that key and name the device. Only then are the key (0600)
//! and the certificate (PEM) written, both staged in full before either is renamed into place
//! ([`crate::pair::install`]). Existing files are refused before the password is spent, unless
//! `force` is set.

use anchorage_common::CertificateInfo;
use anchorage_common::device::check_device_id;
use anchorage_common::est::check_otp;
use anyhow::Context as _;

use crate::est::{self, EstClient};
use crate::pair::{self, Pair, PairPaths};
use crate::pki::KeyType;

/// What to enroll, and where the pair goes.
#[derive(Clone)]
pub struct EnrollOptions {
    /// The device's external id (the certificate's CN).
    pub device_id: String,
    /// The one-time password.
    pub otp: String,
    /// The new key's type.
    pub key_type: KeyType,
    /// Where the key and certificate are written.
    pub paths: PairPaths,
    /// Replace existing files (and remove `.previous` files of the pair replaced).
    pub force: bool,
}

impl std::fmt::Debug for EnrollOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollOptions")
            .field("device_id", &self.device_id)
            .field("otp", &"***")
            .field("key_type", &self.key_type)
            .field("paths", &self.paths)
            .field("force", &self.force)
            .finish()
    }
}

/// Refuses existing files unless `force`.
fn refuse_existing(paths: &PairPaths, force: bool) -> anyhow::Result<()> {
    let existing = paths.existing();
    if force || existing.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = existing.iter().map(|p| p.display().to_string()).collect();
    anyhow::bail!("{} already exist(s); give --force to replace the device's key and certificate", names.join(", "))
}

/// Enrolls with `client` (the API, or any listener serving EST) and writes the pair. Returns
/// the certificate written.
pub async fn enroll(client: &EstClient, options: &EnrollOptions) -> anyhow::Result<CertificateInfo> {
    let id = options.device_id.as_str();
    check_device_id(id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
    check_otp(&options.otp).map_err(|e| anyhow::anyhow!("--otp: {e}"))?;
    refuse_existing(&options.paths, options.force)?;
    // Before the password is spent: both files can be written where they go.
    for path in [options.paths.key(), options.paths.cert()] {
        drop(crate::files::stage(path, b"", pair::KEY_MODE)?);
    }

    let key = options.key_type.generate()?;
    let csr = est::enrollment_request(id, &key)?;
    let certificates = client
        .simple_enroll(id, &options.otp, &csr)
        .await
        .with_context(|| format!("enrolling '{id}' at {}", client.endpoint().url()))?;
    let (der, info) = est::issued_for(&certificates, &key).map_err(anyhow::Error::msg)?;
    est::check_enrolled(&info, id).map_err(anyhow::Error::msg)?;

    let new = Pair::from_pem(key.serialize_pem().into_bytes(), anchorage_common::pem::to_pem(&der).into_bytes())?;
    let cert_existed = options.paths.cert().exists();
    if let Err(e) = pair::install(&options.paths, new.key_pem(), new.cert_pem()) {
        // Never a certificate without its key from this run (one that was there stays).
        if !cert_existed && !options.paths.key().exists() {
            let _ = crate::files::remove_if_present(options.paths.cert());
        }
        return Err(e);
    }
    if options.force {
        // `.previous` files belonged to the pair just replaced: a later re-enrollment must not
        // put them back.
        pair::discard_previous(&options.paths)?;
    }
    Ok(info)
}
