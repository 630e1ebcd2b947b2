//! A device's key and certificate files (`--key`, `--cert`), replaced together, and the
//! previous pair kept beside them (`<key>.previous`, `<cert>.previous`) until a new one has
//! worked.
//!
//! Two files cannot be renamed in one step, so a replacement is a sequence, and a process that
//! dies (or is stopped) at any point leaves one of a few states on disk. Every file is written
//! whole (temporary file, fsync, rename: [`crate::files`]), so each file holds either its old or
//! its new content, and a *pair* is **usable** when both files are there, readable, and the key
//! is the certificate's ([`Pair::from_pem`]).
//!
//! Re-enrollment ([`crate::reenroll`]) does:
//!
//! 1. copy the current pair to `.previous` (key, then certificate);
//! 2. write the new pair over the current one (both staged first, then the certificate renamed,
//!    then the key);
//! 3. ask for a device token with the new pair: it works → remove `.previous` (certificate,
//!    then key); the server refuses it → put the previous pair back (step 2 with it), then
//!    remove `.previous`; no answer → leave everything for the next run to decide.
//!
//! [`decide`] is the recovery rule a run applies first, from what it finds:
//!
//! | `.previous` pair | current pair | what happened                        | recovery                  |
//! |------------------|--------------|--------------------------------------|---------------------------|
//! | none             | any          | nothing unfinished                   | nothing                   |
//! | incomplete       | usable       | died in step 1, or removing it in 3  | remove `.previous`        |
//! | usable, the same as the current pair | usable | died between steps 1 and 2 | remove `.previous` |
//! | usable           | usable       | died in step 2 keeping the key, after it, or no answer in 3 | ask the server (below) |
//! | usable           | not usable   | died in step 2 or while putting it back | put the previous pair back |
//! | incomplete       | not usable   | not made by this sequence             | stop: a person must look  |
//!
//! "Ask the server" is step 3 with whatever the current pair is: a token → it stays (and
//! `.previous` goes); a refusal → the previous pair is put back; no answer → nothing changes
//! and the run reports it. This is safe because the server keeps an earlier certificate valid
//! until a later one has got a token (only then may it revoke the earlier ones): the previous
//! pair is only ever put back for a new certificate that did not get one.

use std::path::{Path, PathBuf};

use anchorage_common::CertificateInfo;
use anyhow::Context as _;

use crate::files;
use crate::identity::Identity;

/// The mode of a private key file.
pub const KEY_MODE: u32 = 0o600;
/// The mode of a certificate file.
pub const CERT_MODE: u32 = 0o644;
/// What is appended to a file name for the pair kept until a new one has worked.
pub const PREVIOUS_SUFFIX: &str = ".previous";

/// Where a device's key and certificate are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairPaths {
    key: PathBuf,
    cert: PathBuf,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl PairPaths {
    /// The key at `key`, the certificate at `cert` (two different files).
    pub fn new(key: impl Into<PathBuf>, cert: impl Into<PathBuf>) -> anyhow::Result<Self> {
        let (key, cert) = (key.into(), cert.into());
        anyhow::ensure!(key != cert, "the key and the certificate must be two files (both are {})", key.display());
        Ok(Self { key, cert })
    }

    /// The private key file.
    pub fn key(&self) -> &Path {
        &self.key
    }

    /// The certificate file.
    pub fn cert(&self) -> &Path {
        &self.cert
    }

    /// `<key>.previous`.
    pub fn previous_key(&self) -> PathBuf {
        with_suffix(&self.key, PREVIOUS_SUFFIX)
    }

    /// `<cert>.previous`.
    pub fn previous_cert(&self) -> PathBuf {
        with_suffix(&self.cert, PREVIOUS_SUFFIX)
    }

    /// Which of the four files exist.
    pub fn existing(&self) -> Vec<PathBuf> {
        [self.key.clone(), self.cert.clone(), self.previous_key(), self.previous_cert()]
            .into_iter()
            .filter(|p| p.symlink_metadata().is_ok())
            .collect()
    }
}

/// A key and the certificate it belongs to (PEM, as read or to be written). `Debug` never
/// shows the key.
#[derive(Clone)]
pub struct Pair {
    key_pem: Vec<u8>,
    cert_pem: Vec<u8>,
    identity: Identity,
    certificate: CertificateInfo,
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair").field("subject", &self.certificate.subject).finish_non_exhaustive()
    }
}

impl Pair {
    /// A usable pair: a readable key and certificate (intermediates may follow it) that go
    /// together.
    pub fn from_pem(key_pem: Vec<u8>, cert_pem: Vec<u8>) -> anyhow::Result<Self> {
        let identity = Identity::from_pem(&cert_pem, &key_pem)?;
        identity.check_key_matches()?;
        let certificate = anchorage_common::cert::inspect(identity.leaf(), time::OffsetDateTime::now_utc())
            .map_err(|e| anyhow::anyhow!("the certificate cannot be read: {e}"))?
            .info;
        Ok(Self { key_pem, cert_pem, identity, certificate })
    }

    /// [`Pair::from_pem`] from files.
    pub fn read(key: &Path, cert: &Path) -> anyhow::Result<Self> {
        let key_pem = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
        let cert_pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        Self::from_pem(key_pem, cert_pem).with_context(|| format!("{} and {}", cert.display(), key.display()))
    }

    /// The key, PEM.
    pub fn key_pem(&self) -> &[u8] {
        &self.key_pem
    }

    /// The certificate file's content, PEM.
    pub fn cert_pem(&self) -> &[u8] {
        &self.cert_pem
    }

    /// The TLS client identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// What common reads from the device certificate.
    pub fn certificate(&self) -> &CertificateInfo {
        &self.certificate
    }
}

/// What one pair of files holds.
#[derive(Debug)]
pub enum Slot {
    /// Neither file.
    Missing,
    /// One file only, or files that are unreadable or do not go together: why.
    Broken(String),
    /// A usable pair.
    Usable(Box<Pair>),
}

impl Slot {
    /// The pair, when usable.
    pub fn usable(&self) -> Option<&Pair> {
        match self {
            Slot::Usable(p) => Some(p),
            _ => None,
        }
    }
}

fn read_optional(path: &Path) -> anyhow::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Reads the pair at `key` and `cert`. A file that cannot be read for another reason than
/// being absent (permissions, a directory) is an error: no decision is made on it.
pub fn read_slot(key: &Path, cert: &Path) -> anyhow::Result<Slot> {
    Ok(match (read_optional(key)?, read_optional(cert)?) {
        (None, None) => Slot::Missing,
        (Some(_), None) => Slot::Broken(format!("{} is missing", cert.display())),
        (None, Some(_)) => Slot::Broken(format!("{} is missing", key.display())),
        (Some(k), Some(c)) => match Pair::from_pem(k, c) {
            Ok(pair) => Slot::Usable(Box::new(pair)),
            Err(e) => Slot::Broken(format!("{} and {}: {e:#}", cert.display(), key.display())),
        },
    })
}

/// The recovery a run applies before anything else ([`decide`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// No `.previous` files: nothing was left unfinished.
    Nothing,
    /// An incomplete `.previous` pair beside a usable current one: remove it.
    DiscardPrevious,
    /// Both pairs usable: ask the server whether the current one works (a token); keep it if so,
    /// put the previous one back if it is refused, change nothing without an answer.
    AskServer,
    /// The current pair is not usable, the previous one is: put it back.
    RestorePrevious,
    /// Neither pair is usable: touch nothing, a person must look (why).
    Stuck(String),
}

/// The recovery rule (see the module documentation): from the current pair and the
/// `.previous` one, what to do.
pub fn decide(current: &Slot, previous: &Slot) -> Recovery {
    match (current, previous) {
        (_, Slot::Missing) => Recovery::Nothing,
        (Slot::Usable(_), Slot::Broken(_)) => Recovery::DiscardPrevious,
        (Slot::Usable(c), Slot::Usable(p)) if c.key_pem == p.key_pem && c.cert_pem == p.cert_pem => {
            Recovery::DiscardPrevious
        }
        (Slot::Usable(_), Slot::Usable(_)) => Recovery::AskServer,
        (_, Slot::Usable(_)) => Recovery::RestorePrevious,
        (Slot::Missing, Slot::Broken(why)) => {
            Recovery::Stuck(format!("the key and certificate are missing, and {why}"))
        }
        (Slot::Broken(now), Slot::Broken(before)) => Recovery::Stuck(format!("{now}; and {before}")),
    }
}

/// Writes `key_pem` and `cert_pem` over the pair at `paths`: both are written to temporary
/// files first, then the certificate is renamed into place, then the key (a key is never left
/// without its certificate).
pub fn install(paths: &PairPaths, key_pem: &[u8], cert_pem: &[u8]) -> anyhow::Result<()> {
    let key = files::stage(paths.key(), key_pem, KEY_MODE)?;
    let cert = files::stage(paths.cert(), cert_pem, CERT_MODE)?;
    cert.commit()?;
    key.commit().with_context(|| format!("the new certificate is in {}, but not its key", paths.cert().display()))
}

/// Step 1: copies `current` to the `.previous` files (key, then certificate).
pub fn back_up(paths: &PairPaths, current: &Pair) -> anyhow::Result<()> {
    files::write_atomic_mode(&paths.previous_key(), current.key_pem(), KEY_MODE)?;
    files::write_atomic_mode(&paths.previous_cert(), current.cert_pem(), CERT_MODE)
}

/// Removes the `.previous` files (certificate, then key).
pub fn discard_previous(paths: &PairPaths) -> anyhow::Result<()> {
    files::remove_if_present(&paths.previous_cert())?;
    files::remove_if_present(&paths.previous_key())?;
    Ok(())
}

/// Puts `previous` (read from the `.previous` files) back as the current pair, then removes
/// the `.previous` files.
pub fn restore_previous(paths: &PairPaths, previous: &Pair) -> anyhow::Result<()> {
    install(paths, previous.key_pem(), previous.cert_pem())?;
    discard_previous(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pem_pair(cn: &str) -> (Vec<u8>, Vec<u8>) {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut p = rcgen::CertificateParams::new(vec![]).expect("params");
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        (key.serialize_pem().into_bytes(), p.self_signed(&key).expect("cert").pem().into_bytes())
    }

    /// Another certificate for the key `key_pem`.
    fn pem_pair_for(key_pem: &[u8], cn: &str) -> Vec<u8> {
        let key = rcgen::KeyPair::from_pem(std::str::from_utf8(key_pem).expect("utf-8")).expect("key");
        let mut p = rcgen::CertificateParams::new(vec![]).expect("params");
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p.self_signed(&key).expect("cert").pem().into_bytes()
    }

    fn slots(dir: &Path) -> (PairPaths, Slot, Slot) {
        let paths = PairPaths::new(dir.join("device.key"), dir.join("device.crt")).expect("paths");
        let current = read_slot(paths.key(), paths.cert()).expect("current");
        let previous = read_slot(&paths.previous_key(), &paths.previous_cert()).expect("previous");
        (paths, current, previous)
    }

    #[test]
    fn every_state_the_sequence_leaves_has_its_recovery() {
        let dir = tempfile::tempdir().expect("tmp");
        let paths = PairPaths::new(dir.path().join("device.key"), dir.path().join("device.crt")).expect("paths");
        let (old_key, old_cert) = pem_pair("dev");
        let (new_key, new_cert) = pem_pair("dev");
        let put = |p: &Path, b: &[u8]| std::fs::write(p, b).expect("write");
        let clear = || {
            for p in paths.existing() {
                std::fs::remove_file(p).expect("rm");
            }
        };
        let decided = || {
            let (_, current, previous) = slots(dir.path());
            decide(&current, &previous)
        };

        // Nothing unfinished (whatever the current pair).
        assert_eq!(decided(), Recovery::Nothing);
        put(paths.key(), &old_key);
        put(paths.cert(), &old_cert);
        assert_eq!(decided(), Recovery::Nothing);
        // Step 1 cut short: the key copied, not the certificate.
        put(&paths.previous_key(), &old_key);
        assert_eq!(decided(), Recovery::DiscardPrevious);
        // Step 1 done, step 2 not begun: the copy is the current pair.
        put(&paths.previous_cert(), &old_cert);
        assert_eq!(decided(), Recovery::DiscardPrevious);
        // Step 2 keeping the key, cut short or not: ask.
        put(paths.cert(), &pem_pair_for(&old_key, "dev"));
        assert_eq!(decided(), Recovery::AskServer);
        // Step 2 cut short: the new certificate beside the old key.
        put(paths.cert(), &new_cert);
        assert_eq!(decided(), Recovery::RestorePrevious);
        // Step 2 done: ask.
        put(paths.key(), &new_key);
        assert_eq!(decided(), Recovery::AskServer);
        // Removing .previous cut short (either order).
        std::fs::remove_file(paths.previous_cert()).expect("rm");
        assert_eq!(decided(), Recovery::DiscardPrevious);
        // Putting the previous pair back cut short: its certificate, not yet its key.
        put(&paths.previous_cert(), &old_cert);
        put(paths.cert(), &old_cert);
        assert_eq!(decided(), Recovery::RestorePrevious);
        // A current pair gone entirely.
        clear();
        put(&paths.previous_key(), &old_key);
        put(&paths.previous_cert(), &old_cert);
        assert_eq!(decided(), Recovery::RestorePrevious);
        // Nothing usable anywhere: stop.
        std::fs::remove_file(paths.previous_cert()).expect("rm");
        assert!(matches!(decided(), Recovery::Stuck(why) if why.contains("missing")));
        put(paths.key(), b"not a key");
        put(paths.cert(), &old_cert);
        assert!(matches!(decided(), Recovery::Stuck(_)));
    }

    #[test]
    fn install_back_up_restore_and_discard() {
        let dir = tempfile::tempdir().expect("tmp");
        let paths = PairPaths::new(dir.path().join("device.key"), dir.path().join("device.crt")).expect("paths");
        let (old_key, old_cert) = pem_pair("dev");
        let (new_key, new_cert) = pem_pair("dev");
        install(&paths, &old_key, &old_cert).expect("install");
        let old = Pair::read(paths.key(), paths.cert()).expect("old pair");
        back_up(&paths, &old).expect("back up");
        install(&paths, &new_key, &new_cert).expect("install new");
        assert_eq!(std::fs::read(paths.key()).expect("key"), new_key);
        let (_, _, previous) = slots(dir.path());
        restore_previous(&paths, previous.usable().expect("previous")).expect("restore");
        assert_eq!(std::fs::read(paths.key()).expect("key"), old_key);
        assert_eq!(std::fs::read(paths.cert()).expect("cert"), old_cert);
        assert_eq!(paths.existing(), [paths.key().to_path_buf(), paths.cert().to_path_buf()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(paths.key()).expect("meta").permissions().mode() & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names.len(), 2, "no temporary files: {names:?}");
        assert!(PairPaths::new("a", "a").is_err());
        let e = Pair::from_pem(new_key, old_cert).expect_err("mismatch");
        assert!(format!("{e:#}").contains("does not belong"), "{e:#}");
    }
}
