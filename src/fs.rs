//! Local file writes shared by actions, the CLI and the daemon.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` so readers see the old file or the whole new one, never a part:
/// a temporary file beside the destination (same file system, so the rename is atomic),
/// synced, then renamed over it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, true)
}

/// As [`write_atomic`], without waiting for the disk: for copies that can be made again
/// from elsewhere (the backup store's working tree, rebuilt from git at the next run), where
/// one fsync per file made a 10,000-device commit take seconds.
pub fn write_replacing_unsynced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, false)
}

/// As [`write_atomic`], for a document written as it is made (a 10,000-host report is
/// hundreds of megabytes; it never has to be whole in memory): `write` fills the temporary
/// file, which replaces `path` only when `write` succeeds.
pub fn write_atomic_with<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut tmp = temp_beside(path)?;
    let value = {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        let value = write(&mut out)?;
        out.flush()?;
        value
    };
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(value)
}

fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    tempfile::NamedTempFile::new_in(&dir)
}

fn write_replacing(path: &Path, bytes: &[u8], sync: bool) -> std::io::Result<()> {
    let mut tmp = temp_beside(path)?;
    tmp.write_all(bytes)?;
    if sync {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
