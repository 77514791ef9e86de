//! SSH algorithm preference lists: the modern ones offered by default, what `ssh_legacy`
//! adds for old network gear, and the `ssh_kex` / `ssh_hostkeys` / `ssh_ciphers` /
//! `ssh_macs` variables that replace or extend them.

use super::reader::Reader;
use super::TransportError;

/// Modern algorithms offered by default (all supported by libssh2 1.11). Legacy ones are
/// only offered when a host asks for them (`ssh_legacy: true` or the `ssh_*` lists).
pub const MODERN_KEX: &[&str] = &[
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
];
pub const MODERN_HOSTKEYS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
];
/// AES-128-GCM first: with AES-NI it is the cheapest cipher for both ends (10 rounds to
/// AES-256's 14, MAC built in), and on a bulk transfer the device or sshd decrypting is the
/// bottleneck. chacha20-poly1305 is left out: libssh2's is portable C, several times slower.
pub const MODERN_CIPHERS: &[&str] = &[
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
];
pub const MODERN_MACS: &[&str] = &[
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
];
/// What `ssh_legacy: true` adds after the modern lists: what old IOS, ASA and NX-OS
/// releases need.
pub const LEGACY_KEX: &[&str] = &[
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group1-sha1",
];
pub const LEGACY_HOSTKEYS: &[&str] = &["ssh-rsa", "ssh-dss"];
pub const LEGACY_CIPHERS: &[&str] = &["aes256-cbc", "aes192-cbc", "aes128-cbc", "3des-cbc"];
pub const LEGACY_MACS: &[&str] = &["hmac-sha1", "hmac-sha1-96", "hmac-md5"];

/// Algorithm preference lists, in the order offered to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Algorithms {
    pub kex: Vec<String>,
    pub hostkeys: Vec<String>,
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
}

impl Default for Algorithms {
    fn default() -> Self {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        Algorithms {
            kex: v(MODERN_KEX),
            hostkeys: v(MODERN_HOSTKEYS),
            ciphers: v(MODERN_CIPHERS),
            macs: v(MODERN_MACS),
        }
    }
}

/// An algorithm list variable: plain names replace the default list; when every entry
/// starts with `+` they are appended to it (OpenSSH's convention).
pub(super) fn algorithm_list(
    r: &Reader<'_>,
    name: &'static str,
    current: &mut Vec<String>,
) -> Result<(), TransportError> {
    let Some(items) = r.list(name)? else {
        return Ok(());
    };
    if items.iter().all(|i| i.starts_with('+')) {
        for i in items {
            let n = i.trim_start_matches('+').trim().to_string();
            if !n.is_empty() && !current.contains(&n) {
                current.push(n);
            }
        }
    } else if let Some(bad) = items.iter().find(|i| i.starts_with('+')) {
        return Err(r.err(
            name,
            format!("`{bad}`: either prefix every entry with + (append to the defaults) or none (replace them)"),
        ));
    } else {
        *current = items;
    }
    Ok(())
}
