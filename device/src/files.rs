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
    write_atomic_mode(path, bytes, 0o600)
}

/// [`write_atomic`] with the new file's `mode` (0644 for a certificate).
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    stage(path, bytes, mode)?.commit()
}

/// The directory `path` is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Flushes a directory, so the renames and removals in it are durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// A file written in full and flushed to disk beside its destination, but not in place yet:
/// [`Staged::commit`] renames it over the destination; dropping it uncommitted removes it. Two
/// staged files make a pair of replacements whose slow part (writing) is done before either
/// destination changes.
#[derive(Debug)]
pub struct Staged {
    temp: PathBuf,
    path: PathBuf,
    committed: bool,
}

/// Writes `bytes` to a new temporary file (with `mode`) in the directory of `path`, flushed to
/// disk, ready to replace `path`.
pub fn stage(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<Staged> {
    let dir = parent_dir(path);
    let name = path.file_name().with_context(|| format!("{} is not a file name", path.display()))?;
    let temp =
        dir.join(format!(".{}.{}.{:08x}.tmp", name.to_string_lossy(), std::process::id(), rand::random::<u32>()));
    let staged = Staged { temp, path: path.to_path_buf(), committed: false };
    let written = (|| -> std::io::Result<()> {
        let mut f = open_new(&staged.temp, mode)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    // On failure, dropping `staged` removes the temporary file.
    written.with_context(|| format!("writing {}", path.display()))?;
    Ok(staged)
}

impl Staged {
    /// The file this one replaces.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the staged file over its destination and flushes the directory.
    pub fn commit(mut self) -> anyhow::Result<()> {
        let result = std::fs::rename(&self.temp, &self.path).and_then(|()| {
            self.committed = true;
            // The rename itself is durable only once the directory is flushed.
            sync_dir(&parent_dir(&self.path))
        });
        result.with_context(|| format!("writing {}", self.path.display()))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// Removes `path` if it is there (and flushes its directory); `Ok(false)` when it was not.
pub fn remove_if_present(path: &Path) -> anyhow::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            sync_dir(&parent_dir(path)).with_context(|| format!("removing {}", path.display()))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
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
    fn a_staged_file_replaces_only_when_committed() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("device.crt");
        std::fs::write(&path, b"old").expect("old");
        let dropped = stage(&path, b"never", 0o644).expect("stage");
        assert_eq!(dropped.path(), path);
        drop(dropped);
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        stage(&path, b"new", 0o644).expect("stage").commit().expect("commit");
        assert_eq!(std::fs::read(&path).expect("read"), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode & !0o022, 0o644 & !0o022, "{mode:o}");
        }
        assert!(remove_if_present(&path).expect("remove"));
        assert!(!remove_if_present(&path).expect("again"));
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
