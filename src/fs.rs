//! Local file writes shared by actions, the CLI and the daemon.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `bytes` to `path` so readers see the old file or the whole new one, never a part:
/// a temporary file beside the destination (same file system, so the rename is atomic),
/// synced, then renamed over it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
