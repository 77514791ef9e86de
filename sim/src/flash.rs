//! Each device's `flash:` filesystem, kept in memory, and the CLI commands that look at it:
//! `dir flash:` (files and free space), the platform checksum commands (`verify /md5 X` on
//! IOS and EOS, `show file X md5sum` on NX-OS, `show md5 file X` on IOS-XR) and
//! `delete [/force] X`.
//!
//! Files up to [`KEEP_CONTENT_BYTES`] keep their bytes (so `scp -f` can send them back);
//! bigger ones keep only their size and digests, so a 1 GiB image pushed to 50 simulated
//! devices costs no memory. The filesystem is per device and lasts as long as the process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use md5::{Digest, Md5};
use sha2::Sha256;

/// Content larger than this is not kept (only size and digests).
pub const KEEP_CONTENT_BYTES: u64 = 64 * 1024 * 1024;
/// What `dir` reports as the filesystem's size.
pub const FLASH_TOTAL_BYTES: u64 = 11_353_194_496;
/// Free at start (the factory files and reserved space take the rest).
pub const FLASH_FREE_BYTES: u64 = 8_532_901_888;

/// One stored file.
#[derive(Debug, Clone)]
pub struct FlashFile {
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    /// `None` when the file was too big to keep.
    pub content: Option<Arc<Vec<u8>>>,
}

type Store = Mutex<HashMap<String, BTreeMap<String, FlashFile>>>;

fn store() -> &'static Store {
    static S: OnceLock<Store> = OnceLock::new();
    S.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock() -> std::sync::MutexGuard<'static, HashMap<String, BTreeMap<String, FlashFile>>> {
    match store().lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// `flash:/a.bin`, `flash:a.bin` and `/a.bin` all name `flash:/a.bin`; `None` for what is
/// not a file path on a device filesystem.
pub fn normalize(path: &str) -> Option<String> {
    let path = path.trim();
    let (fs, rest) = match path.split_once(':') {
        Some((fs, rest)) if !fs.is_empty() && fs.chars().all(|c| c.is_ascii_alphanumeric()) => {
            (fs.to_ascii_lowercase(), rest)
        }
        Some(_) => return None,
        None => ("flash".to_string(), path),
    };
    let rest = rest.trim_start_matches('/');
    if rest.is_empty() || rest.split('/').any(|p| p == ".." || p.is_empty()) {
        return None;
    }
    Some(format!("{fs}:/{rest}"))
}

/// Streaming digests of an incoming file.
pub struct Incoming {
    md5: Md5,
    sha: Sha256,
    size: u64,
    content: Option<Vec<u8>>,
}

impl Incoming {
    pub fn new(expected: u64) -> Incoming {
        Incoming {
            md5: Md5::new(),
            sha: Sha256::new(),
            size: 0,
            content: (expected <= KEEP_CONTENT_BYTES)
                .then(|| Vec::with_capacity(usize::try_from(expected).unwrap_or(0))),
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.md5.update(data);
        self.sha.update(data);
        self.size += data.len() as u64;
        if let Some(c) = &mut self.content {
            c.extend_from_slice(data);
        }
    }

    pub fn finish(self) -> FlashFile {
        FlashFile {
            size: self.size,
            md5: hex(&self.md5.finalize()),
            sha256: hex(&self.sha.finalize()),
            content: self.content.map(Arc::new),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Free bytes on `device`'s flash now.
pub fn free(device: &str) -> u64 {
    let used: u64 = lock()
        .get(device)
        .map(|m| m.values().map(|f| f.size).sum())
        .unwrap_or(0);
    FLASH_FREE_BYTES.saturating_sub(used)
}

pub fn put(device: &str, path: &str, file: FlashFile) {
    lock()
        .entry(device.to_string())
        .or_default()
        .insert(path.to_string(), file);
}

pub fn get(device: &str, path: &str) -> Option<FlashFile> {
    lock().get(device).and_then(|m| m.get(path)).cloned()
}

/// `(name, size)` of the files in folder `fs` (e.g. `flash:`).
pub fn list(device: &str, fs: &str) -> Vec<(String, u64)> {
    let prefix = format!("{}/", fs.trim_end_matches('/').to_ascii_lowercase());
    lock()
        .get(device)
        .map(|m| {
            m.iter()
                .filter_map(|(p, f)| p.strip_prefix(&prefix).map(|n| (n.to_string(), f.size)))
                .collect()
        })
        .unwrap_or_default()
}

pub fn remove(device: &str, path: &str) -> bool {
    lock()
        .get_mut(device)
        .is_some_and(|m| m.remove(path).is_some())
}

/// Answers the flash commands; `None` for any other command (the vendor CLI handles it).
pub fn command(device: &str, line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["verify", "/md5", path] => Some(checksum(device, path, |f, p| {
            format!(
                ".......................Done!\nverify /md5 ({p}) = {}",
                f.md5
            )
        })),
        ["show", "file", path, "md5sum"] => Some(checksum(device, path, |f, _| f.md5.clone())),
        ["show", "md5", "file", path] => Some(checksum(device, path, |f, _| f.md5.clone())),
        ["dir"] => Some(dir(device, "flash:")),
        ["dir", fs] if fs.ends_with(':') || fs.ends_with(":/") => {
            Some(dir(device, fs.trim_end_matches('/')))
        }
        ["delete", "/force", path] | ["delete", path] => {
            let Some(p) = normalize(path) else {
                return Some(format!("%Error deleting {path} (Invalid argument)"));
            };
            Some(if remove(device, &p) {
                String::new()
            } else {
                format!("%Error deleting {p} (No such file or directory)")
            })
        }
        _ => None,
    }
}

fn checksum(device: &str, path: &str, show: impl Fn(&FlashFile, &str) -> String) -> String {
    match normalize(path).and_then(|p| get(device, &p).map(|f| (f, p))) {
        Some((f, p)) => show(&f, &p),
        None => format!("%Error opening {path} (No such file or directory)"),
    }
}

fn dir(device: &str, fs: &str) -> String {
    let fs = fs.to_ascii_lowercase();
    let mut out = format!(
        "Directory of {fs}/\n\n   12  -rw-        2097  Nov 25 2026 09:00:00 +00:00  vlan.dat\n   13  -rw-       45678  Nov 25 2026 09:00:00 +00:00  packages.conf\n"
    );
    let prefix = format!("{fs}/");
    if let Some(files) = lock().get(device) {
        for (i, (path, f)) in files.iter().enumerate() {
            if let Some(name) = path.strip_prefix(&prefix) {
                out.push_str(&format!(
                    "   {:>2}  -rw-  {:>10}  Nov 25 2026 09:00:00 +00:00  {name}\n",
                    20 + i,
                    f.size
                ));
            }
        }
    }
    out.push_str(&format!(
        "\n{FLASH_TOTAL_BYTES} bytes total ({} bytes free)",
        free(device)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize() {
        assert_eq!(normalize("flash:/a.bin").as_deref(), Some("flash:/a.bin"));
        assert_eq!(normalize("flash:a.bin").as_deref(), Some("flash:/a.bin"));
        assert_eq!(
            normalize("bootflash:x/y").as_deref(),
            Some("bootflash:/x/y")
        );
        assert_eq!(normalize("flash:../x"), None);
        assert_eq!(normalize("flash:"), None);
    }

    #[test]
    fn store_checksum_dir_delete() {
        let mut inc = Incoming::new(5);
        inc.push(b"hel");
        inc.push(b"lo");
        put("unit-dev", "flash:/h.txt", inc.finish());
        let v = command("unit-dev", "verify /md5 flash:h.txt").unwrap();
        assert!(v.ends_with("= 5d41402abc4b2a76b9719d911017c592"), "{v}");
        let d = command("unit-dev", "dir flash:").unwrap();
        assert!(d.contains("h.txt"), "{d}");
        assert!(
            d.contains(&format!("({} bytes free)", FLASH_FREE_BYTES - 5)),
            "{d}"
        );
        assert_eq!(
            command("unit-dev", "delete /force flash:/h.txt").unwrap(),
            ""
        );
        assert!(command("unit-dev", "verify /md5 flash:h.txt")
            .unwrap()
            .contains("No such file"));
        assert!(command("unit-dev", "show version").is_none());
    }
}
