//! Transports: bytes and files over the wire.
//!
//! - [`settings`]: a host's connection settings, read from its inventory variables.
//! - [`ssh`]: SSH sessions on the ssh2 crate (connect, host keys, auth, jump hosts, exec,
//!   PTY shells for the device layer).
//! - [`sftp`], [`scp`], [`ftp`]: file transfer (SFTP and SCP over the host's SSH session,
//!   FTP/FTPS on their own connection), all streaming through [`copy::Pump`].
//! - [`http`]: device HTTP APIs (eAPI, NX-API, RESTCONF) on a blocking keep-alive client.
//! - [`netconf`]: NETCONF over the SSH `netconf` subsystem (framing, hello, RPCs).
//! - [`capture`]: output kept from a peer, capped at `max_output` (head and tail).
//! - `known_hosts`, `jump`, `probe`: host-key checking, the bastion relay, and reading the
//!   server's algorithm offer when negotiation fails.

pub mod capture;
pub mod copy;
pub mod ftp;
pub mod http;
mod jump;
mod known_hosts;
pub mod netconf;
mod probe;
pub mod scp;
pub mod settings;
pub mod sftp;
pub mod ssh;
pub mod telnet;

pub use settings::default_known_hosts_file;
pub use settings::{AuthMethod, ConnectionSettings, Credential, HostKeyChecking, JumpHost};
pub use ssh::{ExecOutput, SshOptions, SshSession};

/// Why talking to a host failed. Every variant names the host (inventory name) and, once a
/// connection is attempted, the address it went to. Secrets never appear here.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// An SSH-only operation (SCP, SFTP, exec) on a host reached another way.
    #[error("{host}: {what} needs an SSH connection, but the host connects over {kind}\n hint: use `protocol: ftp` for files, or `connection: ssh` if the device has SSH")]
    NeedsSsh {
        host: String,
        what: String,
        kind: String,
    },

    /// A connection variable has a bad value.
    #[error("host {host}: variable `{var}`: {reason}")]
    Settings {
        host: String,
        var: String,
        reason: String,
    },

    #[error("{host}: cannot resolve `{target}`: {reason}")]
    Resolve {
        host: String,
        target: String,
        reason: String,
    },

    #[error("{host} ({addr}): connection refused (is {service} running on that port?)")]
    Refused {
        host: String,
        addr: String,
        /// What should have answered: `SSH`, `telnet`.
        service: &'static str,
    },

    #[error("{host} ({addr}): connect timed out after {secs:.1}s")]
    ConnectTimeout {
        host: String,
        addr: String,
        secs: f64,
    },

    #[error("{host} ({addr}): no route to host ({reason})")]
    NoRoute {
        host: String,
        addr: String,
        reason: String,
    },

    #[error("{host} ({addr}): connect failed: {reason}")]
    Connect {
        host: String,
        addr: String,
        reason: String,
    },

    #[error("{host} ({addr}): SSH handshake timed out after {secs:.1}s (the port answers but does not speak SSH in time)")]
    HandshakeTimeout {
        host: String,
        addr: String,
        secs: f64,
    },

    #[error("{host} ({addr}): SSH handshake failed: {reason}")]
    Handshake {
        host: String,
        addr: String,
        reason: String,
    },

    /// No algorithm in common. `offered` is what the server announced, when it could be read.
    #[error("{host} ({addr}): no common SSH algorithms ({reason}){}\n hint: old devices need legacy algorithms: set `ssh_legacy: true` or name them, e.g. `ssh_kex: [diffie-hellman-group14-sha1]`", offered_text(.offered))]
    Negotiation {
        host: String,
        addr: String,
        reason: String,
        offered: Vec<(String, String)>,
    },

    #[error("{host} ({addr}): HOST KEY MISMATCH: the server's {} key is {} but {} says {}; refusing to connect (possible man-in-the-middle; if the device was really replaced, remove the old entry: ssh-keygen -R '{}' -f {})", .key.key_type, .key.got, .key.file, .key.expected, .key.known_name, .key.file)]
    HostKeyMismatch {
        host: String,
        addr: String,
        key: Box<HostKeyInfo>,
    },

    #[error("{host} ({addr}): the server's {key_type} key {got} is REVOKED ({file} line {line}: @revoked); refusing to connect")]
    HostKeyRevoked {
        host: String,
        addr: String,
        key_type: String,
        got: String,
        file: String,
        line: usize,
    },

    #[error("{host} ({addr}): unknown host key ({} {}), not in {}; with strict host key checking netorch refuses unknown keys\n hint: set `host_key_checking: accept-new` (or --host-key-checking accept-new) to record it on first use, or add it yourself: ssh-keyscan -p {} {} >> {}", .key.key_type, .key.got, .key.file, .key.port, .key.address, .key.file)]
    UnknownHostKey {
        host: String,
        addr: String,
        key: Box<HostKeyInfo>,
    },

    #[error("{host}: known_hosts file {file}: {reason}")]
    KnownHostsFile {
        host: String,
        file: String,
        reason: String,
    },

    #[error("{host} ({addr}): authentication failed; tried {}{}", tried.join(", "), server_methods.as_ref().map(|m| format!("; the server accepts: {m}")).unwrap_or_default())]
    AuthFailed {
        host: String,
        addr: String,
        /// `user: method (why)` for each attempt; never a password.
        tried: Vec<String>,
        server_methods: Option<String>,
    },

    /// The connection through a bastion failed; `source` says how.
    #[error("{host}: via jump host {jump}: {source}")]
    Jump {
        host: String,
        jump: String,
        #[source]
        source: Box<TransportError>,
    },

    /// A command or read did not finish in time; `partial` is what arrived before.
    #[error("{host}: {what} timed out after {secs:.1}s{}", if partial.is_empty() { String::new() } else { format!("; output so far:\n{}", capture::excerpt(partial)) })]
    Timeout {
        host: String,
        what: String,
        secs: f64,
        partial: String,
    },

    /// The session broke while in use (dropped by the peer, protocol error).
    #[error("{host}: {what}: {reason}")]
    Session {
        host: String,
        what: String,
        reason: String,
    },

    /// A file operation the server refused (permission, missing folder, full disk).
    #[error("{host}: cannot {op} {path}: {reason}")]
    Remote {
        host: String,
        op: String,
        path: String,
        reason: String,
    },

    /// The local side of a transfer failed (reading the source, writing a download).
    #[error("{host}: local file: {reason}")]
    Local { host: String, reason: String },

    /// FTP or FTPS: `unreachable` when the server could not be reached or logged into.
    #[error("{host} ({addr}): FTP: {what}: {reason}")]
    Ftp {
        host: String,
        addr: String,
        what: String,
        reason: String,
        unreachable: bool,
    },
}

/// The details of a host-key refusal.
#[derive(Debug, Clone)]
pub struct HostKeyInfo {
    /// e.g. `ssh-ed25519`.
    pub key_type: String,
    /// The server's key, `SHA256:...`.
    pub got: String,
    /// The recorded key and its line, for a mismatch.
    pub expected: String,
    pub file: String,
    /// The name the key is recorded under (`[host]:port`).
    pub known_name: String,
    pub address: String,
    pub port: u16,
}

fn offered_text(offered: &[(String, String)]) -> String {
    if offered.is_empty() {
        return String::new();
    }
    let mut s = String::from("; the server offers:");
    for (k, v) in offered {
        s.push_str(&format!("\n   {k}: {v}"));
    }
    s
}

impl TransportError {
    /// True when the host could not be reached or logged into (exit code 3 territory), as
    /// opposed to a session that broke or timed out later.
    pub fn is_unreachable(&self) -> bool {
        match self {
            TransportError::Timeout { .. }
            | TransportError::Session { .. }
            | TransportError::Remote { .. }
            | TransportError::Local { .. } => false,
            TransportError::Ftp { unreachable, .. } => *unreachable,
            TransportError::Jump { source, .. } => source.is_unreachable(),
            _ => true,
        }
    }
}

/// The error for a TCP connect that failed on every address, the same for every transport
/// that dials devices itself (`service` names what should have answered).
pub(crate) fn connect_failure(
    host: String,
    addr: std::net::SocketAddr,
    e: &std::io::Error,
    timeout: std::time::Duration,
    service: &'static str,
) -> TransportError {
    let addr = addr.to_string();
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => TransportError::Refused {
            host,
            addr,
            service,
        },
        K::TimedOut | K::WouldBlock => TransportError::ConnectTimeout {
            host,
            addr,
            secs: timeout.as_secs_f64(),
        },
        K::HostUnreachable | K::NetworkUnreachable => TransportError::NoRoute {
            host,
            addr,
            reason: e.to_string(),
        },
        _ => TransportError::Connect {
            host,
            addr,
            reason: e.to_string(),
        },
    }
}
