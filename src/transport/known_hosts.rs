//! Host-key checking against an OpenSSH known_hosts file (plain and hashed entries, through
//! libssh2's matcher), recording new keys for `accept-new`, and fingerprints for messages.
//!
//! The file is fed to libssh2 one line at a time: its own file reader stops at the first
//! line it cannot parse (a key type it does not know, a `@cert-authority` marker), which
//! would silently hide every entry after it.
//!
//! libssh2 knows neither marker, so netorch reads them itself: a key on a `@revoked` line
//! that may apply to the host is refused in every mode but `off` (accept-new included);
//! `@cert-authority` lines are not supported (host certificates are not checked) and a
//! line that may apply is reported, so nobody believes their CA protects the connection.

use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};
use ssh2::{CheckResult, HostKeyType, KnownHostFileKind, Session};

use super::settings::HostKeyChecking;
use super::{HostKeyInfo, TransportError};

/// `SHA256:base64` as OpenSSH prints it.
pub fn fingerprint(key: &[u8]) -> String {
    let digest = Sha256::digest(key);
    format!(
        "SHA256:{}",
        data_encoding::BASE64_NOPAD.encode(digest.as_slice())
    )
}

pub fn key_type_name(t: HostKeyType) -> &'static str {
    match t {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

/// The name a key is recorded under: `host` on port 22, `[host]:port` otherwise.
pub fn known_name(address: &str, port: u16) -> String {
    if port == 22 {
        address.to_string()
    } else {
        format!("[{address}]:{port}")
    }
}

/// Whether a known_hosts line could be about `name` (`[addr]:port` or `addr`): hashed
/// entries and patterns always could; a plain entry only if it names the host. Parsing only
/// these keeps a 1,000-device run from parsing a 1,000-line file 1,000 times over.
fn may_match(line: &str, name: &str, address: &str) -> bool {
    let hosts = match line.strip_prefix('@') {
        // `@cert-authority` / `@revoked` markers: the hosts are the second field.
        Some(rest) => rest.split_whitespace().nth(1).unwrap_or(""),
        None => line.split_whitespace().next().unwrap_or(""),
    };
    hosts.starts_with('|')
        || hosts.contains(['*', '?'])
        || hosts
            .split(',')
            .map(|h| h.trim_start_matches('!'))
            .any(|h| h == name || h == address)
}

/// A known_hosts file indexed by host name, so that a connection looks at the lines that
/// may be about its host instead of the whole file: at 10,000 devices the scans per
/// connection made checking cost 0.8 ms of CPU per host (8 s per run), more than the SSH
/// handshake itself.
struct Indexed {
    text: String,
    /// Each line's byte range in `text` (trimmed), by 0-based line number.
    spans: Vec<(usize, usize)>,
    /// Plain entries by every name they list.
    by_name: std::collections::HashMap<String, Vec<u32>>,
    /// Hashed entries and patterns: they may be about any host.
    anyone: Vec<u32>,
    /// `@revoked` / `@cert-authority` lines.
    marker_lines: Vec<u32>,
}

impl Indexed {
    fn new(text: String) -> Indexed {
        let mut ix = Indexed {
            spans: Vec::new(),
            by_name: std::collections::HashMap::new(),
            anyone: Vec::new(),
            marker_lines: Vec::new(),
            text: String::new(),
        };
        let base = text.as_ptr() as usize;
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            let start = l.as_ptr() as usize - base;
            ix.spans.push((start, start + l.len()));
            let n = i as u32;
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let hosts = match l.strip_prefix('@') {
                Some(rest) => {
                    ix.marker_lines.push(n);
                    rest.split_whitespace().nth(1).unwrap_or("")
                }
                None => l.split_whitespace().next().unwrap_or(""),
            };
            if hosts.starts_with('|') || hosts.contains(['*', '?']) {
                ix.anyone.push(n);
                continue;
            }
            for h in hosts.split(',').map(|h| h.trim_start_matches('!')) {
                let v = ix.by_name.entry(h.to_string()).or_default();
                if v.last() != Some(&n) {
                    v.push(n);
                }
            }
        }
        ix.text = text;
        ix
    }

    fn line(&self, n: u32) -> &str {
        let (a, b) = self.spans[n as usize];
        &self.text[a..b]
    }

    /// The lines that may be about `name` or `address`, in file order (1-based numbers).
    fn candidates(&self, name: &str, address: &str) -> Vec<(usize, &str)> {
        let mut ns: Vec<u32> = self.anyone.clone();
        for key in [name, address] {
            ns.extend(self.by_name.get(key).into_iter().flatten());
        }
        ns.sort_unstable();
        ns.dedup();
        ns.into_iter()
            .map(|n| (n as usize + 1, self.line(n)))
            .filter(|(_, l)| !l.starts_with('@'))
            .collect()
    }

    fn markers(&self) -> impl Iterator<Item = (usize, &str)> {
        self.marker_lines
            .iter()
            .map(|n| (*n as usize + 1, self.line(*n)))
    }
}

/// The known_hosts file, read and indexed once per change of the file rather than once per
/// connection (accept-new rewrites it, which changes its length or mtime).
fn read_cached(file: &Path) -> std::io::Result<std::sync::Arc<Indexed>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Cache =
        Mutex<HashMap<std::path::PathBuf, (Option<std::time::SystemTime>, u64, Arc<Indexed>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let meta = match std::fs::metadata(file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Arc::new(Indexed::new(String::new())))
        }
        Err(e) => return Err(e),
    };
    let stamp = (meta.modified().ok(), meta.len());
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(c) = cache.lock() {
        if let Some((m, l, ix)) = c.get(file) {
            if (*m, *l) == stamp {
                return Ok(Arc::clone(ix));
            }
        }
    }
    let ix = Arc::new(Indexed::new(std::fs::read_to_string(file)?));
    if let Ok(mut c) = cache.lock() {
        c.insert(file.to_path_buf(), (stamp.0, stamp.1, Arc::clone(&ix)));
    }
    Ok(ix)
}

/// Where a connection is checked: which host and endpoint, for messages.
pub struct Target<'a> {
    pub host: &'a str,
    pub addr: &'a str,
    pub address: &'a str,
    pub port: u16,
}

/// Check the session's host key. `Ok(Some(warning))` when checking is off.
pub fn check(
    session: &Session,
    t: &Target<'_>,
    mode: HostKeyChecking,
    file: &Path,
) -> Result<Option<String>, TransportError> {
    let Some((key, kind)) = session.host_key() else {
        return Err(TransportError::Handshake {
            host: t.host.into(),
            addr: t.addr.into(),
            reason: "the server sent no host key".into(),
        });
    };
    let got = fingerprint(key);
    let key_type = key_type_name(kind).to_string();
    if mode == HostKeyChecking::Off {
        return Ok(Some(format!(
            "{} ({}): host key checking is off; accepted {key_type} key {got} without verifying it",
            t.host, t.addr
        )));
    }
    let file_err = |reason: String| TransportError::KnownHostsFile {
        host: t.host.into(),
        file: file.display().to_string(),
        reason,
    };
    let known = read_cached(file).map_err(|e| file_err(e.to_string()))?;
    let name = known_name(t.address, t.port);
    match markers_in(known.markers(), &name, t.address, key) {
        Marker::Revoked(line) => {
            return Err(TransportError::HostKeyRevoked {
                host: t.host.into(),
                addr: t.addr.into(),
                key_type,
                got,
                file: file.display().to_string(),
                line,
            })
        }
        Marker::CertAuthority(line) => tracing::warn!(
            host = t.host,
            "{} line {line}: @cert-authority is not supported (netorch does not check host \
             certificates); the host's own key is checked against the plain entries instead",
            file.display()
        ),
        Marker::None => {}
    }
    let mut kh = session
        .known_hosts()
        .map_err(|e| file_err(format!("libssh2: {e}")))?;
    for (_, l) in known.candidates(&name, t.address) {
        // Lines libssh2 cannot parse are skipped, not fatal (see the module doc).
        let _ = kh.read_str(l, KnownHostFileKind::OpenSSH);
    }
    let info = |expected: String| HostKeyInfo {
        key_type: key_type.clone(),
        got: got.clone(),
        expected,
        file: file.display().to_string(),
        known_name: known_name(t.address, t.port),
        address: t.address.to_string(),
        port: t.port,
    };
    match kh.check_port(t.address, t.port, key) {
        CheckResult::Match => Ok(None),
        CheckResult::Mismatch => {
            let expected = find_expected(session, &known.text, t.address, t.port, key)
                .map(|(fp, line)| format!("{fp} (line {line})"))
                .unwrap_or_else(|| "another key".into());
            Err(TransportError::HostKeyMismatch {
                host: t.host.into(),
                addr: t.addr.into(),
                key: Box::new(info(expected)),
            })
        }
        CheckResult::NotFound if mode == HostKeyChecking::AcceptNew => {
            record(file, t.address, t.port, kind, key)
                .map_err(|e| file_err(format!("cannot record the new key: {e}")))?;
            tracing::info!(
                host = t.host,
                "recorded new host key {key_type} {got} in {}",
                file.display()
            );
            Ok(None)
        }
        CheckResult::NotFound => Err(TransportError::UnknownHostKey {
            host: t.host.into(),
            addr: t.addr.into(),
            key: Box::new(info(String::new())),
        }),
        CheckResult::Failure => Err(file_err("libssh2 could not check the key".into())),
    }
}

/// What the `@` marker lines of a known_hosts file say about a host and its key.
#[derive(Debug, PartialEq, Eq)]
enum Marker {
    None,
    /// The key is on a `@revoked` line (1-based) that may apply to the host.
    Revoked(usize),
    /// A `@cert-authority` line (1-based) may apply to the host.
    CertAuthority(usize),
}

#[cfg(test)]
fn markers(text: &str, name: &str, address: &str, key: &[u8]) -> Marker {
    markers_in(Indexed::new(text.to_string()).markers(), name, address, key)
}

/// What the `@` lines (number, text) say about the host and its key.
fn markers_in<'a>(
    lines: impl Iterator<Item = (usize, &'a str)>,
    name: &str,
    address: &str,
    key: &[u8],
) -> Marker {
    let mut ca = None;
    for (lineno, l) in lines {
        let Some(rest) = l.strip_prefix('@') else {
            continue;
        };
        if !may_match(l, name, address) {
            continue;
        }
        let mut fields = rest.split_whitespace();
        match (fields.next(), fields.next(), fields.next(), fields.next()) {
            (Some("revoked"), Some(_hosts), Some(_kind), Some(blob)) => {
                let revoked = data_encoding::BASE64
                    .decode(blob.as_bytes())
                    .is_ok_and(|b| b == key);
                if revoked {
                    return Marker::Revoked(lineno);
                }
            }
            (Some("cert-authority"), ..) => {
                ca.get_or_insert(lineno);
            }
            _ => {}
        }
    }
    ca.map_or(Marker::None, Marker::CertAuthority)
}

/// The fingerprint and line number of the entry that disagrees with `key`: each line is
/// checked alone, which also finds hashed entries without re-implementing their HMAC.
fn find_expected(
    session: &Session,
    text: &str,
    address: &str,
    port: u16,
    key: &[u8],
) -> Option<(String, usize)> {
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Ok(mut one) = session.known_hosts() else {
            return None;
        };
        if one.read_str(l, KnownHostFileKind::OpenSSH).is_err() {
            continue;
        }
        if let CheckResult::Mismatch = one.check_port(address, port, key) {
            let b64 = l.split_whitespace().find(|f| f.starts_with("AAAA"))?;
            let raw = data_encoding::BASE64.decode(b64.as_bytes()).ok()?;
            return Some((fingerprint(&raw), i + 1));
        }
    }
    None
}

/// Append `name keytype base64` to the file, creating it (and its directory) if missing.
fn record(
    file: &Path,
    address: &str,
    port: u16,
    kind: HostKeyType,
    key: &[u8],
) -> std::io::Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::create_dir_all(dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
    }
    let needs_newline = std::fs::read(file)
        .map(|b| !b.is_empty() && !b.ends_with(b"\n"))
        .unwrap_or(false);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    let line = format!(
        "{}{} {} {}\n",
        if needs_newline { "\n" } else { "" },
        known_name(address, port),
        key_type_name(kind),
        data_encoding::BASE64.encode(key)
    );
    f.write_all(line.as_bytes())
}

#[cfg(test)]
mod filter_tests {
    use super::may_match;

    #[test]
    fn only_lines_that_could_name_the_host() {
        let name = "[127.0.0.1]:2201";
        assert!(may_match(
            "[127.0.0.1]:2201 ssh-ed25519 AAAA",
            name,
            "127.0.0.1"
        ));
        assert!(may_match(
            "a,[127.0.0.1]:2201 ssh-ed25519 AAAA",
            name,
            "127.0.0.1"
        ));
        assert!(!may_match(
            "[127.0.0.1]:2202 ssh-ed25519 AAAA",
            name,
            "127.0.0.1"
        ));
        assert!(may_match(
            "|1|abc=|def= ssh-ed25519 AAAA",
            name,
            "127.0.0.1"
        ));
        assert!(may_match("10.* ssh-rsa AAAA", name, "127.0.0.1"));
        assert!(may_match(
            "@revoked [127.0.0.1]:2201 ssh-ed25519 AAAA",
            name,
            "127.0.0.1"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_gives_the_lines_that_may_be_about_a_host() {
        let text = "# comment\n\
r1 ssh-ed25519 AAAA1\n\
  [10.0.0.2]:2222,r2 ssh-ed25519 AAAA2  \n\
|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAA3\n\
10.0.0.* ssh-rsa AAAA4\n\
@revoked r1 ssh-ed25519 AAAA5\n\
!r3,r4 ssh-ed25519 AAAA6\n";
        let ix = Indexed::new(text.to_string());
        let got = |name: &str, addr: &str| -> Vec<usize> {
            ix.candidates(name, addr)
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(got("r1", "r1"), [2, 4, 5]);
        assert_eq!(got("[10.0.0.2]:2222", "10.0.0.2"), [3, 4, 5]);
        assert_eq!(got("r3", "r3"), [4, 5, 7]);
        assert_eq!(got("zz", "zz"), [4, 5]);
        assert_eq!(
            ix.candidates("r2", "r2")[0].1,
            "[10.0.0.2]:2222,r2 ssh-ed25519 AAAA2"
        );
        let m: Vec<usize> = ix.markers().map(|(n, _)| n).collect();
        assert_eq!(m, [6]);
    }

    #[test]
    fn revoked_and_cert_authority_markers() {
        let key = b"the-host-key-blob";
        let b64 = data_encoding::BASE64.encode(key);
        let other = data_encoding::BASE64.encode(b"another-key");
        let text = format!(
            "# comment\n@cert-authority *.example.net ssh-ed25519 {other}\n\
             @revoked [10.0.0.1]:2222 ssh-ed25519 {b64}\n10.0.0.9 ssh-ed25519 {b64}\n"
        );
        assert_eq!(
            markers(&text, "[10.0.0.1]:2222", "10.0.0.1", key),
            Marker::Revoked(3)
        );
        // Another host's revocation does not apply; another key is not revoked.
        assert_eq!(
            markers(&text, "[10.0.0.2]:2222", "10.0.0.2", key),
            Marker::CertAuthority(2)
        );
        assert_eq!(
            markers(&text, "[10.0.0.1]:2222", "10.0.0.1", b"another-key"),
            Marker::CertAuthority(2)
        );
        assert_eq!(
            markers("10.0.0.1 ssh-ed25519 AAAA\n", "10.0.0.1", "10.0.0.1", key),
            Marker::None
        );
        // A revocation for any host (a pattern) applies to every host.
        let any = format!("@revoked * ssh-ed25519 {b64}\n");
        assert_eq!(markers(&any, "r9", "r9", key), Marker::Revoked(1));
    }

    #[test]
    fn fingerprint_matches_openssh() {
        // ssh-keygen -lf on this key prints SHA256:Q7... ; computed independently with
        // `echo AAAA... | base64 -d | sha256sum | xxd -r -p | base64`.
        let key = data_encoding::BASE64
            .decode(b"AAAAC3NzaC1lZDI1NTE5AAAAIDQ5F6eDhbeIHe1U3cQ8K1R3yYwG7hBGu0hVgSSMeJ9H")
            .unwrap();
        let fp = fingerprint(&key);
        assert!(fp.starts_with("SHA256:"));
        assert_eq!(fp.len(), "SHA256:".len() + 43);
        assert!(!fp.ends_with('='));
    }

    #[test]
    fn known_name_brackets_non_default_ports() {
        assert_eq!(known_name("10.0.0.1", 22), "10.0.0.1");
        assert_eq!(known_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }
}
