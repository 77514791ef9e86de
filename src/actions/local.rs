//! What the local file tasks (`copy` with `content`, `lineinfile`, `file`) share: one lock
//! per path, so that many hosts writing one report file (`lineinfile` with
//! `delegate_to: localhost`, the classic pattern) never lose each other's lines, and writes
//! that are atomic and report `changed` only when the content or the mode changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use super::ActionCtx;
use crate::report::{Status, TaskResult};

/// Hold the returned guard's lock while reading, changing and writing `path`.
pub fn lock_path(path: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    // The same file reached by two spellings (`./r.txt`, `r.txt`) must share one lock.
    // Lexical, not canonical: the folder may not exist until the first writer creates it,
    // and the key must not change when it does.
    let key = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let locks = LOCKS.get_or_init(Default::default);
    let mut map = locks.lock().unwrap_or_else(|p| p.into_inner());
    Arc::clone(map.entry(key).or_default())
}

/// Render a path argument (one line) for this host.
pub fn render_path(ctx: &ActionCtx<'_>, s: &str, what: &str) -> Result<PathBuf, TaskResult> {
    ctx.render_line(s, what)
        .map(PathBuf::from)
        .map_err(|e| TaskResult::failed(e.to_string()))
}

/// Write `text` to `path` unless it already holds exactly that, then apply `mode`; the
/// result is `changed` when either changed. New files get 0644 unless `mode` says
/// otherwise (the temporary file they start as is private).
pub fn write_file(
    ctx: &ActionCtx<'_>,
    path: &Path,
    before: Option<&[u8]>,
    text: &[u8],
    mode: Option<u32>,
) -> TaskResult {
    let mut changed = before != Some(text);
    let old_mode = current_mode(path);
    if !changed && mode.is_some() && mode != old_mode {
        changed = true;
    }
    let mut r = TaskResult::new(if changed { Status::Changed } else { Status::Ok });
    r.data = serde_json::json!({ "dest": path.display().to_string(), "size": text.len() });
    if ctx.diff && before != Some(text) {
        let d = super::config_lines::unified_diff(
            &String::from_utf8_lossy(before.unwrap_or_default()),
            &String::from_utf8_lossy(text),
            &format!("{} (before)", path.display()),
            &format!("{} (after)", path.display()),
        );
        if !d.is_empty() {
            r.diff = Some(d);
        }
    }
    if ctx.check_mode || !changed {
        return r;
    }
    if before != Some(text) {
        if let Err(e) = crate::fs::write_atomic(path, text) {
            return TaskResult::failed(format!("cannot write {}: {e}", path.display()));
        }
    }
    let want = mode.or(old_mode).unwrap_or(0o644);
    if let Err(e) = set_mode(path, want) {
        return TaskResult::failed(format!("cannot set the mode of {}: {e}", path.display()));
    }
    r
}

/// The permission bits of `path`, if it exists.
pub fn current_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

pub fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}
