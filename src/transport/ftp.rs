//! FTP and FTPS (explicit TLS, `AUTH TLS`) for file distribution, on suppaftp.
//!
//! suppaftp's synchronous client is used on purpose: every host already runs on its own
//! blocking worker thread (ssh2 is blocking too), so blocking sockets move bytes with no
//! runtime hops and no `block_on` per call; a 1 GiB loopback upload measured the same as
//! `curl -T` (scripts/bench/transfer-speed). TLS goes through native-tls on the system
//! OpenSSL that ssh2 already links.
//!
//! Per-host variables (host or group vars):
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `ftp_port` | control port | 21 |
//! | `ftp_user`, `ftp_password` | login | the host's SSH `user`; no password (the SSH password is never sent in clear over FTP) |
//! | `ftp_passive` | passive data connections (false: active) | true |
//! | `ftps` | `explicit` for AUTH TLS (also `true`), `false`/`none` for plain | plain |
//! | `ftps_ca_file` | trust this CA (PEM) in addition to the system's | |
//! | `ftps_verify` | `false` skips certificate verification (explicitly insecure) | true |
//!
//! Transfers are binary (TYPE I); resume uses REST; rename uses RNFR/RNTO. A passive-mode
//! reply is trusted for its port only: the data connection goes to the control
//! connection's address (a server, or whoever tampers with its replies, cannot point it
//! at another machine). Plain FTP with a password warns once per run: the password
//! crosses the network in clear.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use suppaftp::native_tls::{Certificate, TlsConnector};
use suppaftp::types::FileType;
use suppaftp::{FtpError, NativeTlsConnector, NativeTlsFtpStream, Status};

use super::copy::{CopySite, IoHooks, Pump, FTP_CHUNK_BYTES};
use super::settings::{bool_var, settings_error, ConnectionSettings};
use super::TransportError;
use crate::secret::Secret;
use crate::value::Vars;
use crate::value::{bool_of, show};

pub const DEFAULT_FTP_PORT: u16 = 21;

const FTP_HOOKS: IoHooks<'static> = IoHooks {
    chunk: FTP_CHUNK_BYTES,
    ssh: None,
};

/// Variables this module reads.
pub const FTP_VARS: &[&str] = &[
    "ftp_port",
    "ftp_user",
    "ftp_password",
    "ftp_passive",
    "ftps",
    "ftps_ca_file",
    "ftps_verify",
];

/// TLS for FTPS.
#[derive(Debug, Clone)]
pub struct FtpTls {
    /// A CA certificate (PEM) trusted in addition to the system's.
    pub ca_file: Option<PathBuf>,
    /// False: accept any certificate (only when asked for explicitly).
    pub verify: bool,
}

/// How to reach one host over FTP.
#[derive(Debug, Clone)]
pub struct FtpSettings {
    pub host_name: String,
    pub address: String,
    pub port: u16,
    pub user: String,
    pub password: Option<Secret>,
    pub passive: bool,
    /// `Some`: explicit FTPS.
    pub tls: Option<FtpTls>,
    pub connect_timeout: Duration,
    /// A control reply or a data block that takes longer than this fails the transfer.
    pub io_timeout: Duration,
}

fn text(host: &str, vars: &Vars, name: &str) -> Result<Option<String>, TransportError> {
    match vars.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(settings_error(host, name, "expected a string")),
    }
}

impl FtpSettings {
    /// Read the `ftp_*` variables; the address, user, password and timeouts default to the
    /// host's SSH settings. `force_tls`: the task asked for `protocol: ftps`.
    pub fn from_vars(
        ssh: &ConnectionSettings,
        vars: &Vars,
        force_tls: bool,
    ) -> Result<FtpSettings, TransportError> {
        let host = ssh.host_name.as_str();
        let port = match vars.get("ftp_port") {
            None | Some(Value::Null) => DEFAULT_FTP_PORT,
            Some(v) => {
                let n = match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                match n.and_then(|n| u16::try_from(n).ok()).filter(|p| *p > 0) {
                    Some(p) => p,
                    None => {
                        return Err(settings_error(
                            host,
                            "ftp_port",
                            format!("expected a port number (1-65535), got {}", show(v)),
                        ))
                    }
                }
            }
        };
        let cred = ssh.credentials.first();
        let user = match text(host, vars, "ftp_user")? {
            Some(u) => u,
            None => cred
                .map(|c| c.user.clone())
                .unwrap_or_else(|| "anonymous".into()),
        };
        // Never the SSH password: FTP may send it in clear, and it is another service's.
        let password = text(host, vars, "ftp_password")?.map(Secret::new);
        let passive = bool_var(host, "ftp_passive", vars)?.unwrap_or(true);
        let explicit =
            match vars.get("ftps") {
                None | Some(Value::Null) => false,
                Some(v) => match (
                    bool_of(v),
                    v.as_str().map(|s| s.trim().to_ascii_lowercase()),
                ) {
                    (Some(b), _) => b,
                    (None, Some(s)) if s == "explicit" => true,
                    (None, Some(s)) if s == "none" || s.is_empty() => false,
                    (None, Some(s)) if s == "implicit" => return Err(settings_error(
                        host,
                        "ftps",
                        "implicit FTPS (port 990) is deprecated and not supported; use `explicit`",
                    )),
                    _ => {
                        return Err(settings_error(
                            host,
                            "ftps",
                            format!("expected `explicit` or false, got {}", show(v)),
                        ))
                    }
                },
            };
        let tls = (explicit || force_tls)
            .then(|| -> Result<FtpTls, TransportError> {
                Ok(FtpTls {
                    ca_file: text(host, vars, "ftps_ca_file")?.map(PathBuf::from),
                    verify: bool_var(host, "ftps_verify", vars)?.unwrap_or(true),
                })
            })
            .transpose()?;
        Ok(FtpSettings {
            host_name: host.to_string(),
            address: ssh.address.clone(),
            port,
            user,
            password,
            passive,
            tls,
            connect_timeout: ssh.connect_timeout,
            io_timeout: ssh.command_timeout,
        })
    }

    pub fn endpoint(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]:{}", self.address, self.port)
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }
}

/// One warning per run (process) about passwords sent over plain FTP, not one per host.
fn warn_plain_ftp_once(host: &str) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "{host}: logging in over plain FTP sends the password in clear (set `ftps: explicit` \
             to protect it); this is said once per run"
        );
    }
}

/// A logged-in FTP(S) control connection, binary mode.
pub struct FtpClient {
    ftp: NativeTlsFtpStream,
    host: String,
    addr: String,
}

impl std::fmt::Debug for FtpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FtpClient")
            .field("host", &self.host)
            .field("addr", &self.addr)
            .finish()
    }
}

fn reason_of(e: &FtpError) -> String {
    match e {
        FtpError::UnexpectedResponse(r) => {
            let body = String::from_utf8_lossy(&r.body).trim().to_string();
            if body.is_empty() {
                format!("the server answered {:?}", r.status)
            } else {
                body
            }
        }
        other => other.to_string(),
    }
}

fn data_connection_lost(e: &std::io::Error) -> String {
    format!("data connection lost: {e}")
}

fn status_of(e: &FtpError) -> Option<Status> {
    match e {
        FtpError::UnexpectedResponse(r) => Some(r.status),
        _ => None,
    }
}

/// True when the data connection has nothing more to give (the server closed it).
fn at_end(stream: &mut impl std::io::Read) -> bool {
    let mut probe = [0u8; 1];
    matches!(stream.read(&mut probe), Ok(0))
}

impl FtpClient {
    /// Connect, upgrade to TLS when asked, log in, switch to binary.
    pub fn connect(s: &FtpSettings) -> Result<FtpClient, TransportError> {
        let addr = s.endpoint();
        let fail = |what: &str, reason: String, unreachable: bool| TransportError::Ftp {
            host: s.host_name.clone(),
            addr: addr.clone(),
            what: what.to_string(),
            reason,
            unreachable,
        };
        let sock: SocketAddr = (s.address.as_str(), s.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| fail("connect", format!("cannot resolve `{}`", s.address), true))?;
        let tcp = TcpStream::connect_timeout(&sock, s.connect_timeout).map_err(|e| {
            let reason = match e.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused (is an FTP server listening on that port?)".to_string()
                }
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => format!(
                    "connect timed out after {:.1}s",
                    s.connect_timeout.as_secs_f64()
                ),
                _ => e.to_string(),
            };
            fail("connect", reason, true)
        })?;
        let _ = tcp.set_read_timeout(Some(s.io_timeout));
        let _ = tcp.set_write_timeout(Some(s.io_timeout));
        let _ = tcp.set_nodelay(true);
        let mut ftp = NativeTlsFtpStream::connect_with_stream(tcp)
            .map_err(|e| fail("greeting", reason_of(&e), true))?;
        let (ct, io) = (s.connect_timeout, s.io_timeout);
        let control_ip = sock.ip();
        ftp = ftp.passive_stream_builder(move |addr| {
            let addr = SocketAddr::new(control_ip, addr.port());
            let t = TcpStream::connect_timeout(&addr, ct).map_err(FtpError::ConnectionError)?;
            let _ = t.set_read_timeout(Some(io));
            let _ = t.set_write_timeout(Some(io));
            Ok(t)
        });
        if !s.passive {
            ftp = ftp.active_mode(s.io_timeout);
        }
        if let Some(tls) = &s.tls {
            let mut b = TlsConnector::builder();
            if let Some(ca) = &tls.ca_file {
                let pem = std::fs::read(ca).map_err(|e| {
                    fail(
                        "TLS",
                        format!("cannot read the CA file {}: {e}", ca.display()),
                        true,
                    )
                })?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    fail(
                        "TLS",
                        format!("the CA file {} is not a PEM certificate: {e}", ca.display()),
                        true,
                    )
                })?;
                b.add_root_certificate(cert);
            }
            if !tls.verify {
                b.danger_accept_invalid_certs(true);
                b.danger_accept_invalid_hostnames(true);
            }
            let connector = b.build().map_err(|e| fail("TLS", e.to_string(), true))?;
            ftp = ftp
                .into_secure(NativeTlsConnector::from(connector), &s.address)
                .map_err(|e| {
                    let mut r = reason_of(&e);
                    if r.contains("certificate") {
                        r.push_str(
                            "\n hint: trust the server's CA with `ftps_ca_file: ca.pem`, or skip verification (insecure) with `ftps_verify: false`",
                        );
                    }
                    fail("TLS", r, true)
                })?;
        }
        if s.tls.is_none() && s.password.as_ref().is_some_and(|p| !p.is_empty()) {
            warn_plain_ftp_once(&s.host_name);
        }
        let password = s
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        ftp.login(s.user.as_str(), password.as_str()).map_err(|e| {
            fail(
                "login",
                format!("login as `{}` refused: {}", s.user, reason_of(&e)),
                true,
            )
        })?;
        ftp.transfer_type(FileType::Binary)
            .map_err(|e| fail("TYPE I", reason_of(&e), false))?;
        Ok(FtpClient {
            ftp,
            host: s.host_name.clone(),
            addr,
        })
    }

    fn remote(&self, op: &str, path: &str, e: &FtpError) -> TransportError {
        let mut reason = reason_of(e);
        match status_of(e) {
            Some(Status::FileUnavailable) if reason.to_ascii_lowercase().contains("permission") => {
            }
            Some(Status::FileUnavailable) => {
                reason = format!("{reason} (no such file, or permission denied)")
            }
            Some(Status::ExceededStorage) | Some(Status::RequestFileActionIgnored) => {
                reason = format!("{reason} (no space left on the device)")
            }
            _ => {}
        }
        TransportError::Remote {
            host: self.host.clone(),
            op: op.to_string(),
            path: path.to_string(),
            reason,
        }
    }

    /// The size of `path` (SIZE); `None` when it does not exist.
    pub fn size(&mut self, path: &str) -> Result<Option<u64>, TransportError> {
        match self.ftp.size(path) {
            Ok(n) => Ok(Some(n as u64)),
            Err(FtpError::UnexpectedResponse(r)) if r.status == Status::FileUnavailable => Ok(None),
            Err(e) => Err(self.remote("size", path, &e)),
        }
    }

    /// Create `dir` and its missing parents.
    pub fn mkdirs(&mut self, dir: &str) -> Result<(), TransportError> {
        let mut prefix = String::new();
        if dir.starts_with('/') {
            prefix.push('/');
        }
        for part in dir.split('/').filter(|p| !p.is_empty() && *p != ".") {
            if !prefix.is_empty() && !prefix.ends_with('/') {
                prefix.push('/');
            }
            prefix.push_str(part);
            // MKD on an existing folder fails with 550: only a real problem if the folder
            // still is not there (CWD into it fails).
            if let Err(e) = self.ftp.mkdir(&prefix) {
                let pwd = self.ftp.pwd().unwrap_or_else(|_| "/".into());
                if self.ftp.cwd(&prefix).is_err() {
                    return Err(self.remote("create folder", &prefix, &e));
                }
                let _ = self.ftp.cwd(&pwd);
            }
        }
        Ok(())
    }

    /// STOR `src` to `remote`, resuming at `offset` (REST) when it is not 0.
    pub fn upload(
        &mut self,
        src: &mut dyn Read,
        remote: &str,
        offset: u64,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransportError> {
        if offset > 0 {
            let off = usize::try_from(offset).unwrap_or(usize::MAX);
            let _ = self.ftp.resume_transfer(off);
        }
        let mut stream = self
            .ftp
            .put_with_stream(remote)
            .map_err(|e| self.remote("store", remote, &e))?;
        let site = CopySite::starting(&self.host, "store", remote, false, pump);
        let res = pump.copy(src, &mut stream, None, FTP_HOOKS);
        match res {
            Ok(n) => {
                stream
                    .finish()
                    .map_err(|e| self.remote("store", remote, &e))?;
                Ok(n)
            }
            Err(e) => {
                drop(stream);
                Err(e.at(&site, data_connection_lost))
            }
        }
    }

    /// RETR `remote` from `offset` into `dst`.
    pub fn download(
        &mut self,
        remote: &str,
        dst: &mut dyn Write,
        offset: u64,
        limit: Option<u64>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransportError> {
        if offset > 0 {
            let off = usize::try_from(offset).unwrap_or(usize::MAX);
            let _ = self.ftp.resume_transfer(off);
        }
        let mut stream = self
            .ftp
            .retr_as_stream(remote)
            .map_err(|e| self.remote("retrieve", remote, &e))?;
        let site = CopySite::starting(&self.host, "retrieve", remote, true, pump);
        match pump.copy(&mut stream, dst, limit, FTP_HOOKS) {
            Ok(n) if limit.is_some_and(|l| n >= l) && !at_end(&mut stream) => {
                // More than the size the server gave (a file that keeps growing): the
                // transfer is aborted, not read until the deadline.
                let _ = self.ftp.abort(stream);
                Ok(n)
            }
            Ok(n) => {
                stream
                    .finish()
                    .map_err(|e| self.remote("retrieve", remote, &e))?;
                Ok(n)
            }
            Err(e) => {
                drop(stream);
                Err(e.at(&site, data_connection_lost))
            }
        }
    }

    /// RNFR/RNTO. Most servers replace an existing target; when one refuses, the target is
    /// removed and the rename tried again.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), TransportError> {
        match self.ftp.rename(from, to) {
            Ok(()) => Ok(()),
            Err(first) => {
                if matches!(self.size(to), Ok(Some(_))) {
                    self.remove(to)?;
                    self.ftp
                        .rename(from, to)
                        .map_err(|e| self.remote("rename into", to, &e))
                } else {
                    Err(self.remote("rename into", to, &first))
                }
            }
        }
    }

    /// DELE; a file already gone is fine.
    pub fn remove(&mut self, path: &str) -> Result<(), TransportError> {
        match self.ftp.rm(path) {
            Ok(()) => Ok(()),
            Err(e) => {
                if matches!(self.size(path), Ok(None)) {
                    Ok(())
                } else {
                    Err(self.remote("remove", path, &e))
                }
            }
        }
    }

    /// Say goodbye (QUIT); errors do not matter any more.
    pub fn quit(mut self) {
        let _ = self.ftp.quit();
    }
}
