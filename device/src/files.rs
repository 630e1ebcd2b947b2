//! File writing with the care secrets need: owner-only modes, and atomic replacement so a
//! reader never sees half a token.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

fn open_new(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    options.open(path)
}

/// Replaces `path` with `bytes` atomically: writes a temporary file (mode 0600) in the same
/// directory, flushes it to disk, renames it over `path`, then flushes the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().with_context(|| format!("{} is not a file name", path.display()))?;
    let temp =
        dir.join(format!(".{}.{}.{:08x}.tmp", name.to_string_lossy(), std::process::id(), rand::random::<u32>()));
    let result = (|| -> std::io::Result<()> {
        let mut f = open_new(&temp, 0o600)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&temp, path)?;
        // The rename itself is durable only once the directory is flushed.
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

/// Writes a new file readable by its owner only (private keys, PKCS#12 stores); refuses to
/// overwrite an existing one.
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = open_new(path, 0o600).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes).with_context(|| format!("writing {}", path.display()))
}

/// Writes a new public file (certificates, CSV); refuses to overwrite an existing one.
pub fn write_public(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut f = open_new(path, 0o644).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("token");
        write_atomic(&path, b"one").expect("first");
        write_atomic(&path, b"two").expect("second");
        assert_eq!(std::fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn private_files_are_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("k.key");
        write_private(&path, b"secret").expect("write");
        assert!(write_private(&path, b"again").is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
    }
}
