//! Path helpers for transfers: the folder and file parts of remote paths (POSIX paths and
//! device paths such as `flash:/fw.bin` or `bootflash:x`), the temporary name an upload is
//! written under, and the check that keeps a download inside its folder.

use std::path::{Component, Path, PathBuf};

/// Suffix of the temporary file written beside the destination.
pub const PART_SUFFIX: &str = ".netorch-part";

/// The folder part of a remote path (`/a/b/c` -> `/a/b`, `flash:/x` -> `flash:/`,
/// `flash:x` -> `flash:`, `x` -> ``).
pub(super) fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => {
            let p = &path[..i];
            if p.ends_with(':') && path[..=i].ends_with(":/") {
                &path[..=i]
            } else {
                p
            }
        }
        None => match path.find(':') {
            Some(i) => &path[..=i],
            None => "",
        },
    }
}

/// The folder holding `path` as a command wants it: `.` when the path names none.
pub(super) fn folder_or_cwd(path: &str) -> &str {
    match parent_of(path) {
        "" => ".",
        dir => dir,
    }
}

/// The file name of a remote path, after any folder or device prefix.
pub(super) fn base_name(path: &str) -> &str {
    let p = path.trim_end_matches('/');
    let after_colon = p.rsplit_once(':').map_or(p, |(_, b)| b);
    after_colon.rsplit('/').next().unwrap_or(after_colon)
}

/// The temporary name beside `dest`.
pub(super) fn part_name(dest: &str) -> String {
    let parent = parent_of(dest);
    let name = base_name(dest);
    let sep = if parent.is_empty() || parent.ends_with('/') || parent.ends_with(':') {
        ""
    } else {
        "/"
    };
    format!("{parent}{sep}.{name}{PART_SUFFIX}")
}

/// Check that `rel` (relative) stays inside `root`: no absolute path, no `..`, and no
/// symlink among the parts that already exist.
pub fn safe_join(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let rel_path = Path::new(rel);
    let mut out = root.to_path_buf();
    for c in rel_path.components() {
        match c {
            Component::Normal(p) => {
                out.push(p);
                if let Ok(m) = std::fs::symlink_metadata(&out) {
                    if m.file_type().is_symlink() {
                        return Err(format!(
                            "{} is a symbolic link; refusing to write through it",
                            out.display()
                        ));
                    }
                }
            }
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "`{rel}` climbs out of {} with `..`",
                    root.display()
                ))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "`{rel}` is an absolute path; it must stay inside {}",
                    root.display()
                ))
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parent_of("/a/b/c"), "/a/b");
        assert_eq!(parent_of("/c"), "/");
        assert_eq!(parent_of("flash:/fw.bin"), "flash:/");
        assert_eq!(parent_of("flash:fw.bin"), "flash:");
        assert_eq!(parent_of("fw.bin"), "");
        assert_eq!(folder_or_cwd("fw.bin"), ".");
        assert_eq!(folder_or_cwd("/a/b"), "/a");
        assert_eq!(base_name("flash:/fw.bin"), "fw.bin");
        assert_eq!(base_name("bootflash:x"), "x");
        assert_eq!(part_name("/tmp/x/fw.bin"), "/tmp/x/.fw.bin.netorch-part");
        assert_eq!(part_name("fw.bin"), ".fw.bin.netorch-part");
    }

    #[test]
    fn safe_join_refuses_escapes() {
        let d = tempfile::tempdir().unwrap();
        assert!(safe_join(d.path(), "a/b.bin").is_ok());
        assert!(safe_join(d.path(), "../x").unwrap_err().contains(".."));
        assert!(safe_join(d.path(), "/etc/passwd")
            .unwrap_err()
            .contains("absolute"));
        std::os::unix::fs::symlink("/tmp", d.path().join("link")).unwrap();
        assert!(safe_join(d.path(), "link/x")
            .unwrap_err()
            .contains("symbolic link"));
    }
}
