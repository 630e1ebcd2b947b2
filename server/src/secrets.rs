//! Secrets at rest: the values the database must not hold in clear (the JWT signing key,
//! `credentials.*` tenant options, device tokens kept for re-delivery) are sealed with
//! AES-256-GCM under a key kept outside the database, in `--secret-key-file` (default
//! `<data-dir>/secret.key`, made at first start, mode 0600). Whoever reads the database alone
//! learns none of them. Back the key file up with the database: without it the sealed values
//! cannot be opened (docs/decisions.md, "Secrets at rest").

use std::path::Path;

use anyhow::Context as _;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// What a sealed value starts with (followed by base64 of nonce and ciphertext).
pub const SEALED_PREFIX: &str = "sealed:v1:";

/// The key that seals and opens secrets at rest.
pub struct SecretBox {
    key: LessSafeKey,
    /// For [`SecretBox::mac`]: derived from the same key file.
    mac: aws_lc_rs::hmac::Key,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

impl SecretBox {
    /// Reads the key file (64 hex digits), or makes it (mode 0600, in a folder made 0700 if
    /// missing) when it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            // Its folder too (the data directory, which on PostgreSQL nothing else makes).
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
                crate::db::private_dir(dir)?;
            }
            let key: [u8; 32] = rand::random();
            if create_durably(path, &format!("{}\n", hex::encode(key)))? {
                tracing::info!(file = %path.display(), "made the secret key (back it up with the database)");
            }
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading the secret key {}", path.display()))?;
        let bytes = hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .with_context(|| format!("{} must hold 64 hexadecimal digits (a 256-bit key)", path.display()))?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| anyhow::anyhow!("invalid secret key"))?;
        // A key of its own for MACs, so no value is both sealed and MACed under one key.
        let derived =
            aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, bytes), b"anchorage/mac/v1");
        let mac = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, derived.as_ref());
        Ok(Self { key: LessSafeKey::new(key), mac })
    }

    /// Seals `plain`; `context` (e.g. the row's id) is bound to it, so a sealed value cannot be
    /// moved to another row.
    pub fn seal(&self, plain: &[u8], context: &str) -> anyhow::Result<String> {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut data = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(context.as_bytes()),
                &mut data,
            )
            .map_err(|_| anyhow::anyhow!("sealing a secret"))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// A keyed hash (HMAC-SHA256, hex) of `value` bound to `context`: what is stored of a secret
    /// that only has to be recognised (a one-time password). Whoever reads the database alone
    /// cannot test guesses against it.
    pub fn mac(&self, context: &str, value: &[u8]) -> String {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&self.mac);
        ctx.update(context.as_bytes());
        ctx.update(&[0]);
        ctx.update(value);
        hex::encode(ctx.sign().as_ref())
    }

    /// Opens a value made by [`SecretBox::seal`] with the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> anyhow::Result<Vec<u8>> {
        let b64 = sealed.strip_prefix(SEALED_PREFIX).context("not a sealed value")?;
        let mut data = STANDARD.decode(b64).context("a sealed value is not base64")?;
        anyhow::ensure!(data.len() >= NONCE_LEN, "a sealed value is too short");
        let nonce = Nonce::try_assume_unique_for_key(&data[..NONCE_LEN]).map_err(|_| anyhow::anyhow!("nonce"))?;
        let mut body = data.split_off(NONCE_LEN);
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| anyhow::anyhow!("a sealed value does not open with this secret key (another key file?)"))?;
        Ok(plain.to_vec())
    }
}

/// What a device token's sealed copy is bound to.
pub fn token_context(jti: &str) -> String {
    format!("device_tokens/{jti}")
}

/// What a `credentials.*` option's sealed value is bound to.
pub fn option_context(tenant: &str, category: &str, key: &str) -> String {
    format!("tenant_options/{tenant}/{category}/{key}")
}

/// Seals what an older version kept in clear: device tokens (hashed and sealed) and
/// `credentials.*` option values.
pub async fn seal_legacy_rows(db: &crate::db::Db, secrets: &SecretBox) -> anyhow::Result<()> {
    let tokens = crate::db::devices::unsealed_tokens(db).await?;
    for (jti, token) in &tokens {
        let sealed = secrets.seal(token.as_bytes(), &token_context(jti))?;
        crate::db::devices::seal_token(db, jti, &crate::auth::token_digest(token), &sealed).await?;
    }
    let options =
        crate::db::options::with_key_prefix(db, anchorage_common::options::SECRET_KEY_PREFIX, SEALED_PREFIX).await?;
    let now = anchorage_common::timefmt::platform(time::OffsetDateTime::now_utc());
    for (tenant, category, key, value) in &options {
        let sealed = secrets.seal(value.as_bytes(), &option_context(tenant, category, key))?;
        crate::db::options::upsert(db, tenant, category, key, &sealed, &now).await?;
    }
    if !tokens.is_empty() || !options.is_empty() {
        tracing::info!(
            tokens = tokens.len(),
            options = options.len(),
            "sealed secrets kept in clear by an older version"
        );
    }
    Ok(())
}

/// What `anchorage rotate-secret-key` did.
#[derive(Debug, Default)]
pub struct Rotation {
    /// Values re-sealed, by kind.
    pub signing_keys: usize,
    pub options: usize,
    pub device_tokens: usize,
    pub crl_signers: usize,
    pub tenant_cas: usize,
    /// Where the replaced key was kept (it opens backups made before the rotation).
    pub previous_key: std::path::PathBuf,
    /// New device requests whose one-time password no longer matches: `(tenant, device id)`.
    pub stale_one_time_passwords: Vec<(String, String)>,
    /// Whether this run finished a rotation an earlier run had committed but not put in place.
    pub finished_earlier: bool,
}

/// The sealing context of a stored sealed value, and the value.
fn context_of(s: &crate::db::rotation::Sealed) -> anyhow::Result<(String, &str)> {
    use crate::db::rotation::Sealed;
    Ok(match s {
        Sealed::SigningKey { kid, sealed } => (crate::tokens::key_context(kid), sealed),
        Sealed::Option { tenant, category, key, sealed } => (option_context(tenant, category, key), sealed),
        Sealed::DeviceToken { jti, sealed } => (token_context(jti), sealed),
        Sealed::CrlSigner { tenant, sealed } => (crate::routes::crl::signer_key_context(tenant), sealed),
        Sealed::TenantCa { tenant, der, sealed, .. } => (crate::ca::ca_key_context(tenant, der)?, sealed),
    })
}

/// `path` with `suffix` appended to its file name.
fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

/// Replaces the secret key file at `path` by a new key, re-sealing every sealed value of `db`
/// under it in one transaction (all or nothing). Every instance on the database must be stopped
/// first, and started again with the new file.
///
/// The order makes a crash at any point recoverable: the new key is written to `<path>.new`
/// (durably) before the database changes; once the transaction has committed, the old key gets
/// a second name, `<path>.old-<unix time>`, and `<path>.new` is renamed over `<path>` (one
/// atomic step: there is always a key file at `<path>`). A run that finds `<path>.new` opens
/// every sealed value with both keys: all open with the new one (an earlier run committed) →
/// only the renames are left; all with the old one (it did not) → `<path>.new` is put aside as
/// `<path>.new.abandoned-<unix time>` and the rotation starts over; a mix → nothing is touched
/// and the run stops, saying so (an instance kept running with the old key wrote meanwhile). No
/// key file is ever deleted.
///
/// One-time passwords of EST enrollment are stored as keyed hashes: they cannot be re-keyed, and
/// stop matching; they are reported so that new ones can be set.
pub async fn rotate(db: &crate::db::Db, path: &Path) -> anyhow::Result<Rotation> {
    anyhow::ensure!(path.exists(), "there is no secret key file at {}", path.display());
    let old = SecretBox::load_or_create(path)?;
    let new_path = with_suffix(path, ".new");
    let mut report = Rotation::default();
    if new_path.exists() {
        let pending = SecretBox::load_or_create(&new_path)?;
        let (mut under_old, mut under_new) = (0usize, 0usize);
        let mut tx = crate::db::rotation::begin(db).await?;
        for s in crate::db::rotation::all(&mut tx, SEALED_PREFIX).await? {
            let (context, sealed) = context_of(&s)?;
            match (old.open(sealed, &context).is_ok(), pending.open(sealed, &context).is_ok()) {
                (true, _) => under_old += 1,
                (false, true) => under_new += 1,
                (false, false) => {
                    anyhow::bail!("{context} opens with neither {} nor {}", path.display(), new_path.display())
                }
            }
        }
        drop(tx);
        match (under_old, under_new) {
            (0, n) if n > 0 => {
                report.finished_earlier = true;
                report.previous_key = put_in_place(path, &new_path)?;
                return Ok(report);
            }
            (_, 0) => {
                let aside = with_suffix(&new_path, &format!(".abandoned-{}", unix_now()));
                std::fs::rename(&new_path, &aside).with_context(|| format!("putting {} aside", new_path.display()))?;
            }
            (o, n) => anyhow::bail!(
                "{o} sealed values open with {} and {n} with {}: an instance kept running during an earlier rotation. \
                 Stop every instance; then move {} over {} if the values it holds matter more, or delete it, and run \
                 this again",
                path.display(),
                new_path.display(),
                new_path.display(),
                path.display()
            ),
        }
    }
    let key: [u8; 32] = rand::random();
    anyhow::ensure!(
        create_durably(&new_path, &format!("{}\n", hex::encode(key)))?,
        "{} appeared meanwhile",
        new_path.display()
    );
    let new = SecretBox::from_bytes(&key)?;

    let mut tx = crate::db::rotation::begin(db).await?;
    for s in crate::db::rotation::all(&mut tx, SEALED_PREFIX).await? {
        use crate::db::rotation::Sealed;
        let (context, sealed) = context_of(&s)?;
        let plain = old.open(sealed, &context).with_context(|| format!("opening {context} with the current key"))?;
        crate::db::rotation::update(&mut tx, &s, &new.seal(&plain, &context)?).await?;
        match s {
            Sealed::SigningKey { .. } => report.signing_keys += 1,
            Sealed::Option { .. } => report.options += 1,
            Sealed::DeviceToken { .. } => report.device_tokens += 1,
            Sealed::CrlSigner { .. } => report.crl_signers += 1,
            Sealed::TenantCa { .. } => report.tenant_cas += 1,
        }
    }
    report.stale_one_time_passwords = crate::db::rotation::one_time_passwords(&mut tx).await?;
    tx.commit().await?;
    report.previous_key = put_in_place(path, &new_path)?;
    Ok(report)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// The last step of a rotation: a second name for the old key, then the new one renamed over
/// `path` (atomic: `path` never goes missing).
fn put_in_place(path: &Path, new_path: &Path) -> anyhow::Result<std::path::PathBuf> {
    let stamp = unix_now();
    // Never over an earlier old key (two rotations in one second).
    let previous = (0..)
        .map(|n: u32| with_suffix(path, &if n == 0 { format!(".old-{stamp}") } else { format!(".old-{stamp}-{n}") }))
        .find(|p| !p.exists())
        .unwrap_or_else(|| with_suffix(path, ".old"));
    std::fs::hard_link(path, &previous)
        .with_context(|| format!("keeping {} as {}", path.display(), previous.display()))?;
    std::fs::rename(new_path, path).with_context(|| format!("putting {} in place", new_path.display()))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(previous)
}

/// Whether a stored value is sealed.
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(SEALED_PREFIX)
}

/// Creates `path` with `text`, readable by its owner only, on disk before it is visible (a
/// temporary file written and synced, then linked into place, and the folder synced): a crash
/// never leaves an empty or half-written key, and when two starts race, the first one's file
/// stays and both use it. Returns whether this call made it.
fn create_durably(path: &Path, text: &str) -> anyhow::Result<bool> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    write_private(&tmp, text)?;
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).with_context(|| format!("syncing {}", tmp.display()))?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_in_a_missing_folder_which_only_its_owner_may_open() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("data/secret.key");
        let first = SecretBox::load_or_create(&path).expect("made");
        let again = SecretBox::load_or_create(&path).expect("read");
        let sealed = first.seal(b"x", "c").expect("seal");
        assert_eq!(again.open(&sealed, "c").expect("opens"), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode(&dir.path().join("data")), 0o700);
            assert_eq!(mode(&path), 0o600);
        }
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let a = SecretBox::from_bytes(&[7; 32]).expect("key");
        let b = SecretBox::from_bytes(&[8; 32]).expect("key");
        let sealed = a.seal(b"the signing key", "signing_keys/k1").expect("seal");
        assert!(is_sealed(&sealed) && !sealed.contains("signing"));
        assert_ne!(sealed, a.seal(b"the signing key", "signing_keys/k1").expect("seal"), "a fresh nonce each time");
        assert_eq!(a.open(&sealed, "signing_keys/k1").expect("open"), b"the signing key");
        assert!(a.open(&sealed, "signing_keys/k2").is_err(), "bound to its row");
        assert!(b.open(&sealed, "signing_keys/k1").is_err(), "another key");
        assert!(a.open("plain", "x").is_err());
    }

    #[test]
    fn the_key_file_is_made_once_and_private() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("secret.key");
        let first = SecretBox::load_or_create(&path).expect("made");
        let sealed = first.seal(b"x", "c").expect("seal");
        let again = SecretBox::load_or_create(&path).expect("read");
        assert_eq!(again.open(&sealed, "c").expect("open"), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "short").expect("write");
        assert!(SecretBox::load_or_create(&path).is_err());
    }
}
