//! SSH sessions on the ssh2 crate (libssh2): connect with timeouts, algorithm preferences,
//! host-key checking, authentication with several credential sets, jump hosts, exec
//! channels and PTY shells for the device layer.
//!
//! Sessions are blocking: the executor runs each host in `spawn_blocking`. Every blocking
//! call is bounded with libssh2's own session timeout (set from the remaining time before
//! each call), never by polling with sleeps.
//!
//! Credential sets are grouped by user: OpenSSH servers drop a connection whose client
//! changes user between attempts, so each group gets a fresh connection (through the whole
//! jump chain when there is one).

use std::io::Read;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ssh2::{ErrorCode, KeyboardInteractivePrompt, MethodType, Prompt, Session};

use super::jump::{spawn_relay, HopStream};
use super::known_hosts::{self, Target};
use super::settings::{
    AuthMethod, ConnectionSettings, Credential, HostKeyChecking, LEGACY_CIPHERS, LEGACY_HOSTKEYS,
    LEGACY_KEX, LEGACY_MACS, MODERN_CIPHERS, MODERN_HOSTKEYS, MODERN_KEX, MODERN_MACS,
};
use super::TransportError;

/// libssh2 error codes this module tells apart.
const LIBSSH2_ERROR_KEX_FAILURE: i32 = -5;
const LIBSSH2_ERROR_TIMEOUT: i32 = -9;
const LIBSSH2_ERROR_METHOD_NONE: i32 = -33;

/// A terminal wide enough that devices never wrap long lines.
pub const DEFAULT_PTY_COLS: u32 = 511;
pub const DEFAULT_PTY_ROWS: u32 = 24;

/// Receives (host, message) lines for `-v` output.
pub type VerboseHook = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Options from the command line that apply to every host.
#[derive(Clone, Default)]
pub struct SshOptions {
    /// `--host-key-checking`, overriding the inventory.
    pub host_key_checking: Option<HostKeyChecking>,
    /// Called with (host, message) for verbose connection progress (`-v`).
    pub verbose: Option<VerboseHook>,
}

impl std::fmt::Debug for SshOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshOptions")
            .field("host_key_checking", &self.host_key_checking)
            .field("verbose", &self.verbose.is_some())
            .finish()
    }
}

impl SshOptions {
    fn log(&self, host: &str, msg: impl FnOnce() -> String) {
        if let Some(v) = &self.verbose {
            v(host, &msg());
        }
    }
}

/// What a command run on an exec channel produced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    pub exit_status: i32,
}

/// An authenticated SSH connection to one host, reused by every task of the run.
pub struct SshSession {
    // Field order is drop order: the session goes before the keepalive thread's channel, so
    // the thread wakes to find it gone.
    session: Session,
    host: String,
    addr: String,
    credential: String,
    warnings: Vec<String>,
    command_timeout: Duration,
    abort: AbortHandle,
    _keepalive: Option<mpsc::Sender<()>>,
}

/// Cuts a session from outside: see [`SshSession::abort_handle`].
#[derive(Clone)]
pub struct AbortHandle(Arc<HopStream>);

impl std::fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AbortHandle")
    }
}

impl AbortHandle {
    /// Shut the socket down in both directions; errors (already closed) do not matter.
    pub fn abort(&self) {
        let _ = match &*self.0 {
            HopStream::Tcp(t) => t.shutdown(std::net::Shutdown::Both),
            HopStream::Unix(u) => u.shutdown(std::net::Shutdown::Both),
        };
    }
}

impl std::fmt::Debug for SshSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshSession")
            .field("host", &self.host)
            .field("addr", &self.addr)
            .field("credential", &self.credential)
            .finish()
    }
}

/// One place to connect to: a bastion or the target.
#[derive(Debug, Clone)]
struct Endpoint {
    /// Name used in messages: the inventory name for the target, `user@host:port` for a
    /// bastion.
    name: String,
    address: String,
    port: u16,
    /// A bastion's own `user@`, replacing the credentials' users.
    user: Option<String>,
}

impl Endpoint {
    fn addr(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]:{}", self.address, self.port)
        } else {
            format!("{}:{}", self.address, self.port)
        }
    }
}

/// A connected, authenticated session plus what the next hop needs to relay through it.
struct Connected {
    session: Session,
    sock: HopStream,
    credential: String,
}

struct Ctx<'a> {
    settings: &'a ConnectionSettings,
    opts: &'a SshOptions,
    mode: HostKeyChecking,
    warnings: Vec<String>,
}

impl SshSession {
    /// Connect, check the host key and authenticate, through the jump hosts if any.
    pub fn connect(
        settings: &ConnectionSettings,
        opts: &SshOptions,
    ) -> Result<SshSession, TransportError> {
        let mut chain: Vec<Endpoint> = settings
            .jumps
            .iter()
            .map(|j| Endpoint {
                name: j.to_string(),
                address: j.host.clone(),
                port: j.port,
                user: j.user.clone(),
            })
            .collect();
        chain.push(Endpoint {
            name: settings.host_name.clone(),
            address: settings.address.clone(),
            port: settings.port,
            user: None,
        });
        let mut ctx = Ctx {
            settings,
            opts,
            mode: opts.host_key_checking.unwrap_or(settings.host_key_checking),
            warnings: Vec::new(),
        };
        let c = connect_chain(&mut ctx, &chain)?;
        // A clone of the session's socket, kept so the executor can cut a hung session
        // from outside (host_timeout) and free the blocked thread at once.
        let abort = AbortHandle(Arc::new(c.sock));
        let keepalive = settings.keepalive_interval.and_then(|iv| {
            let secs = u32::try_from(iv.as_secs()).unwrap_or(u32::MAX).max(2);
            c.session.set_keepalive(true, secs);
            start_keepalive(c.session.clone(), Duration::from_secs(u64::from(secs)))
        });
        opts.log(&settings.host_name, || {
            format!(
                "authenticated as {} ({})",
                c.credential,
                settings.endpoint()
            )
        });
        Ok(SshSession {
            session: c.session,
            host: settings.host_name.clone(),
            addr: settings.endpoint(),
            credential: c.credential,
            warnings: ctx.warnings,
            command_timeout: settings.command_timeout,
            abort,
            _keepalive: keepalive,
        })
    }

    /// A handle that shuts the session's socket down from another thread: every blocked
    /// read or write on the session then fails at once.
    pub fn abort_handle(&self) -> AbortHandle {
        self.abort.clone()
    }

    /// The inventory name of the host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `address:port` connected to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Which credential set authenticated (a label, never a secret), for verbose output.
    pub fn credential_used(&self) -> &str {
        &self.credential
    }

    /// Things the report should show (e.g. host key checking was off).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The host's default per-command timeout.
    pub fn command_timeout(&self) -> Duration {
        self.command_timeout
    }

    /// The underlying ssh2 session, for SFTP/SCP and the device channel.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Run `cmd` on an exec channel and collect stdout, stderr and the exit status.
    ///
    /// stdout is read to its end before stderr: libssh2 grows the channel window while
    /// stdout is read and queues stderr data meanwhile, so a command that writes lots of
    /// stderr cannot stall it (no deadlock).
    pub fn exec(&self, cmd: &str, timeout: Duration) -> Result<ExecOutput, TransportError> {
        let deadline = Instant::now() + timeout;
        let what = format!("command `{cmd}`");
        set_deadline(&self.session, deadline);
        let mut ch = self
            .session
            .channel_session()
            .map_err(|e| self.session_err(&what, e))?;
        ch.exec(cmd).map_err(|e| self.session_err(&what, e))?;
        let mut stdout = Vec::new();
        self.read_until_eof(
            &mut ch.stream(0),
            &mut stdout,
            deadline,
            timeout,
            &what,
            None,
        )?;
        let mut stderr = Vec::new();
        self.read_until_eof(
            &mut ch.stderr(),
            &mut stderr,
            deadline,
            timeout,
            &what,
            Some(&stdout),
        )?;
        set_deadline(&self.session, deadline);
        let _ = ch.wait_close();
        let exit_status = ch.exit_status().map_err(|e| self.session_err(&what, e))?;
        Ok(ExecOutput {
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            exit_status,
        })
    }

    fn read_until_eof(
        &self,
        r: &mut impl Read,
        out: &mut Vec<u8>,
        deadline: Instant,
        timeout: Duration,
        what: &str,
        stdout_if_stderr: Option<&[u8]>,
    ) -> Result<(), TransportError> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if !set_deadline(&self.session, deadline) {
                return Err(self.timeout_err(what, timeout, stdout_if_stderr.unwrap_or(out)));
            }
            match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(self.timeout_err(what, timeout, stdout_if_stderr.unwrap_or(out)));
                }
                Err(e) => {
                    return Err(TransportError::Session {
                        host: self.host.clone(),
                        what: what.to_string(),
                        reason: format!("connection lost: {e}"),
                    })
                }
            }
        }
    }

    fn timeout_err(&self, what: &str, timeout: Duration, partial: &[u8]) -> TransportError {
        TransportError::Timeout {
            host: self.host.clone(),
            what: what.to_string(),
            secs: timeout.as_secs_f64(),
            partial: String::from_utf8_lossy(partial).into_owned(),
        }
    }

    fn session_err(&self, what: &str, e: ssh2::Error) -> TransportError {
        if e.code() == ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) {
            return self.timeout_err(what, Duration::ZERO, &[]);
        }
        TransportError::Session {
            host: self.host.clone(),
            what: what.to_string(),
            reason: e.message().to_string(),
        }
    }

    /// Open an interactive shell on a PTY (`vt100`, `cols` x `rows`) for the device layer.
    pub fn open_shell(&self, cols: u32, rows: u32) -> Result<ssh2::Channel, TransportError> {
        let what = "opening a shell";
        set_deadline(&self.session, Instant::now() + self.command_timeout);
        let mut ch = self
            .session
            .channel_session()
            .map_err(|e| self.session_err(what, e))?;
        ch.request_pty("vt100", None, Some((cols, rows, 0, 0)))
            .map_err(|e| self.session_err("requesting a PTY", e))?;
        ch.shell().map_err(|e| self.session_err(what, e))?;
        Ok(ch)
    }

    /// Send a keepalive now (also done in the background at `keepalive_interval`); an
    /// error means the connection is gone.
    pub fn keepalive(&self) -> Result<(), TransportError> {
        set_deadline(&self.session, Instant::now() + self.command_timeout);
        self.session
            .keepalive_send()
            .map(|_| ())
            .map_err(|e| self.session_err("keepalive", e))
    }
}

impl Drop for SshSession {
    fn drop(&mut self) {
        // A polite goodbye, bounded: a dead peer must not hold up the run.
        self.session.set_timeout(1000);
        let _ = self.session.disconnect(None, "netorch done", None);
    }
}

/// Set the session timeout to the time left; false when none is left. libssh2 treats 0 as
/// "no timeout", so the minimum is 1 ms.
pub(crate) fn set_deadline(session: &Session, deadline: Instant) -> bool {
    let left = deadline.saturating_duration_since(Instant::now());
    let ms = u32::try_from(left.as_millis()).unwrap_or(u32::MAX).max(1);
    session.set_timeout(ms);
    !left.is_zero()
}

/// Background keepalives: idle connections survive NAT and firewall timeouts between tasks.
/// The thread ends when the returned sender is dropped (with the session).
fn start_keepalive(session: Session, every: Duration) -> Option<mpsc::Sender<()>> {
    let (tx, rx) = mpsc::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("netorch-keepalive".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                if session.keepalive_send().is_err() {
                    break;
                }
            }
        });
    spawned.ok().map(|_| tx)
}

fn connect_chain(ctx: &mut Ctx<'_>, chain: &[Endpoint]) -> Result<Connected, TransportError> {
    let Some((target, bastions)) = chain.split_last() else {
        return Err(TransportError::Settings {
            host: ctx.settings.host_name.clone(),
            var: "host".into(),
            reason: "nothing to connect to".into(),
        });
    };
    // Credential sets, with the bastion's user when it names one, grouped by user.
    let creds: Vec<Credential> = ctx
        .settings
        .credentials
        .iter()
        .map(|c| {
            let mut c = c.clone();
            if let Some(u) = &target.user {
                c.user = u.clone();
                c.label = format!("{} ({u})", c.label);
            }
            c
        })
        .collect();
    let mut groups: Vec<Vec<&Credential>> = Vec::new();
    for c in &creds {
        match groups.iter_mut().find(|g| g[0].user == c.user) {
            Some(g) => g.push(c),
            None => groups.push(vec![c]),
        }
    }
    if groups.is_empty() {
        return Err(TransportError::Settings {
            host: ctx.settings.host_name.clone(),
            var: "user".into(),
            reason: "no credentials to log in with".into(),
        });
    }

    let mut tried = Vec::new();
    let mut server_methods = None;
    for group in groups {
        let (sock, sockaddr) = if bastions.is_empty() {
            let (tcp, a) = tcp_connect(ctx, target)?;
            (HopStream::Tcp(tcp), Some(a))
        } else {
            (tunnel(ctx, bastions, target)?, None)
        };
        let relay_sock = sock.try_clone().map_err(|e| TransportError::Connect {
            host: target.name.clone(),
            addr: target.addr(),
            reason: e.to_string(),
        })?;
        let session = handshake(ctx, target, sock, sockaddr)?;
        let user = group[0].user.clone();
        if let Some(label) = authenticate(
            ctx,
            &session,
            target,
            &user,
            &group,
            &mut tried,
            &mut server_methods,
        ) {
            return Ok(Connected {
                session,
                sock: relay_sock,
                credential: label,
            });
        }
    }
    Err(TransportError::AuthFailed {
        host: target.name.clone(),
        addr: target.addr(),
        tried,
        server_methods,
    })
}

/// Connect through the bastions (recursively) and return a socket that reaches `target`.
fn tunnel(
    ctx: &mut Ctx<'_>,
    bastions: &[Endpoint],
    target: &Endpoint,
) -> Result<HopStream, TransportError> {
    let Some(last) = bastions.last() else {
        return Err(TransportError::Settings {
            host: ctx.settings.host_name.clone(),
            var: "ssh_jump".into(),
            reason: "no bastion".into(),
        });
    };
    let host = ctx.settings.host_name.clone();
    let wrap = |e: TransportError| match e {
        e @ TransportError::Jump { .. } => e,
        e => TransportError::Jump {
            host: host.clone(),
            jump: last.name.clone(),
            source: Box::new(e),
        },
    };
    let bastion = connect_chain(ctx, bastions).map_err(wrap)?;
    ctx.opts.log(&host, || {
        format!(
            "via jump host {} as {}: opening a tunnel to {}",
            last.name,
            bastion.credential,
            target.addr()
        )
    });
    set_deadline(
        &bastion.session,
        Instant::now() + ctx.settings.connect_timeout,
    );
    let channel = bastion
        .session
        .channel_direct_tcpip(&target.address, target.port, None)
        .map_err(|e| {
            wrap(TransportError::Connect {
                host: last.name.clone(),
                addr: last.addr(),
                reason: format!(
                    "the bastion could not open a tunnel to {}: {}",
                    target.addr(),
                    e.message()
                ),
            })
        })?;
    let (inner, outer) = UnixStream::pair().map_err(|e| {
        wrap(TransportError::Connect {
            host: last.name.clone(),
            addr: last.addr(),
            reason: format!("socketpair: {e}"),
        })
    })?;
    spawn_relay(
        bastion.session,
        channel,
        bastion.sock,
        outer,
        last.name.clone(),
        ctx.settings.keepalive_interval,
    )
    .map_err(|e| {
        wrap(TransportError::Connect {
            host: last.name.clone(),
            addr: last.addr(),
            reason: format!("relay thread: {e}"),
        })
    })?;
    Ok(HopStream::Unix(inner))
}

fn tcp_connect(ctx: &Ctx<'_>, t: &Endpoint) -> Result<(TcpStream, SocketAddr), TransportError> {
    let timeout = ctx.settings.connect_timeout;
    let addrs: Vec<SocketAddr> = (t.address.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| TransportError::Resolve {
            host: t.name.clone(),
            target: t.address.clone(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(TransportError::Resolve {
            host: t.name.clone(),
            target: t.address.clone(),
            reason: "no addresses".into(),
        });
    }
    let mut last = None;
    for a in addrs {
        ctx.opts.log(&t.name, || format!("connecting to {a}"));
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                // Device CLIs are request/response with small writes: Nagle only adds delay.
                let _ = s.set_nodelay(true);
                return Ok((s, a));
            }
            Err(e) => last = Some((a, e)),
        }
    }
    let (a, e) = last.ok_or_else(|| TransportError::Resolve {
        host: t.name.clone(),
        target: t.address.clone(),
        reason: "no addresses".into(),
    })?;
    let (host, addr) = (t.name.clone(), a.to_string());
    use std::io::ErrorKind as K;
    Err(match e.kind() {
        K::ConnectionRefused => TransportError::Refused { host, addr },
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
    })
}

/// Apply the algorithm preferences: names libssh2 does not support are dropped from the
/// built-in lists, and are an error when the user named them.
fn apply_prefs(ctx: &Ctx<'_>, session: &Session) -> Result<(), TransportError> {
    let a = &ctx.settings.algorithms;
    // (variable, wanted names, libssh2 method types, the built-in lists the names may come from)
    type PrefList<'a> = (
        &'a str,
        &'a Vec<String>,
        &'a [MethodType],
        [&'a [&'a str]; 2],
    );
    let lists: [PrefList<'_>; 4] = [
        (
            "ssh_kex",
            &a.kex,
            &[MethodType::Kex],
            [MODERN_KEX, LEGACY_KEX],
        ),
        (
            "ssh_hostkeys",
            &a.hostkeys,
            &[MethodType::HostKey],
            [MODERN_HOSTKEYS, LEGACY_HOSTKEYS],
        ),
        (
            "ssh_ciphers",
            &a.ciphers,
            &[MethodType::CryptCs, MethodType::CryptSc],
            [MODERN_CIPHERS, LEGACY_CIPHERS],
        ),
        (
            "ssh_macs",
            &a.macs,
            &[MethodType::MacCs, MethodType::MacSc],
            [MODERN_MACS, LEGACY_MACS],
        ),
    ];
    for (var, wanted, types, builtin) in lists {
        let supported = session.supported_algs(types[0]).unwrap_or_default();
        let mut keep = Vec::new();
        for w in wanted {
            if supported.iter().any(|s| s == w) {
                keep.push(w.as_str());
            } else if !builtin.iter().any(|l| l.contains(&w.as_str())) {
                return Err(TransportError::Settings {
                    host: ctx.settings.host_name.clone(),
                    var: var.into(),
                    reason: format!(
                        "`{w}` is not supported; supported: {}",
                        supported.join(", ")
                    ),
                });
            }
        }
        if keep.is_empty() {
            return Err(TransportError::Settings {
                host: ctx.settings.host_name.clone(),
                var: var.into(),
                reason: format!(
                    "none of the names are supported; supported: {}",
                    supported.join(", ")
                ),
            });
        }
        let pref = keep.join(",");
        for t in types {
            session
                .method_pref(*t, &pref)
                .map_err(|e| TransportError::Settings {
                    host: ctx.settings.host_name.clone(),
                    var: var.into(),
                    reason: e.message().to_string(),
                })?;
        }
    }
    Ok(())
}

fn handshake(
    ctx: &mut Ctx<'_>,
    t: &Endpoint,
    sock: HopStream,
    sockaddr: Option<SocketAddr>,
) -> Result<Session, TransportError> {
    let host = t.name.clone();
    let addr = t.addr();
    let mut session = Session::new().map_err(|e| TransportError::Handshake {
        host: host.clone(),
        addr: addr.clone(),
        reason: e.message().to_string(),
    })?;
    apply_prefs(ctx, &session)?;
    session.set_tcp_stream(sock);
    let timeout = ctx.settings.connect_timeout;
    set_deadline(&session, Instant::now() + timeout);
    if let Err(e) = session.handshake() {
        return Err(match e.code() {
            ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) => TransportError::HandshakeTimeout {
                host,
                addr,
                secs: timeout.as_secs_f64(),
            },
            ErrorCode::Session(LIBSSH2_ERROR_KEX_FAILURE | LIBSSH2_ERROR_METHOD_NONE) => {
                let offered = sockaddr
                    .and_then(|a| super::probe::server_offer(a, timeout))
                    .unwrap_or_default();
                let mut reason = e.message().to_string();
                if let Some(gap) = build_gap(&session, &offered) {
                    reason.push_str("; ");
                    reason.push_str(&gap);
                }
                TransportError::Negotiation {
                    host,
                    addr,
                    reason,
                    offered,
                }
            }
            _ => TransportError::Handshake {
                host,
                addr,
                reason: e.message().to_string(),
            },
        });
    }
    ctx.opts.log(&t.name, || {
        format!(
            "handshake done: kex {}, host key {}, cipher {}",
            session.methods(MethodType::Kex).unwrap_or("?"),
            session.methods(MethodType::HostKey).unwrap_or("?"),
            session.methods(MethodType::CryptCs).unwrap_or("?")
        )
    });
    let target = Target {
        host: &t.name,
        addr: &addr,
        address: &t.address,
        port: t.port,
    };
    if let Some(w) =
        known_hosts::check(&session, &target, ctx.mode, &ctx.settings.known_hosts_file)?
    {
        if !ctx.warnings.contains(&w) {
            ctx.warnings.push(w);
        }
    }
    Ok(session)
}

/// When the server only offers algorithms this libssh2 build does not have at all (SHA-1
/// key exchange, hmac-sha1, ssh-rsa with SHA-1 and 3DES are compiled out of libssh2 unless
/// enabled at build time), say so: no inventory setting can fix that.
fn build_gap(session: &Session, offered: &[(String, String)]) -> Option<String> {
    let mut gaps = Vec::new();
    for (category, list) in offered {
        let t = match category.split(' ').next().unwrap_or("") {
            "kex" => MethodType::Kex,
            "host" => MethodType::HostKey,
            "ciphers" => MethodType::CryptCs,
            "macs" => MethodType::MacCs,
            _ => continue,
        };
        if category.starts_with("macs")
            && offered
                .iter()
                .any(|(c, l)| c.starts_with("ciphers") && l.contains("gcm@openssh.com"))
        {
            // AEAD ciphers need no MAC; a MAC gap alone does not block them.
            continue;
        }
        let supported = session.supported_algs(t).unwrap_or_default();
        let names: Vec<&str> = list
            .split(',')
            .filter(|n| !n.is_empty() && !n.contains("kex-strict") && *n != "ext-info-s")
            .collect();
        if !names.is_empty() && !names.iter().any(|n| supported.contains(n)) {
            gaps.push(format!("{category} ({})", names.join(", ")));
        }
    }
    if gaps.is_empty() {
        return None;
    }
    Some(format!(
        "this netorch build's libssh2 supports none of the server's {}; they are compiled out of libssh2 (rebuild with CFLAGS=\"-DLIBSSH2_KEX_SHA1_ENABLE -DLIBSSH2_HMAC_SHA1_ENABLE -DLIBSSH2_RSA_SHA1_ENABLE -DLIBSSH2_3DES_ENABLE -DLIBSSH2_DSA_ENABLE\")",
        gaps.join(" or ")
    ))
}

/// Answers keyboard-interactive prompts: the password for anything that does not echo or
/// asks for a password, an empty line otherwise.
struct PasswordPrompter<'a>(&'a str);

impl KeyboardInteractivePrompt for PasswordPrompter<'_> {
    fn prompt<'b>(
        &mut self,
        _user: &str,
        _instructions: &str,
        prompts: &[Prompt<'b>],
    ) -> Vec<String> {
        prompts
            .iter()
            .map(|p| {
                if !p.echo || p.text.to_ascii_lowercase().contains("password") {
                    self.0.to_string()
                } else {
                    String::new()
                }
            })
            .collect()
    }
}

/// Try every credential of one user with every configured method the server offers.
/// Returns the label of the set that worked.
fn authenticate(
    ctx: &Ctx<'_>,
    session: &Session,
    t: &Endpoint,
    user: &str,
    group: &[&Credential],
    tried: &mut Vec<String>,
    server_methods: &mut Option<String>,
) -> Option<String> {
    let offered = match session.auth_methods(user) {
        Ok(m) => m.to_string(),
        Err(_) if session.authenticated() => return group.first().map(|c| c.label.clone()),
        Err(e) => {
            tried.push(format!("{user}: (server closed: {})", e.message()));
            return None;
        }
    };
    if session.authenticated() {
        return group.first().map(|c| c.label.clone());
    }
    *server_methods = Some(offered.clone());
    let tried_before = tried.len();
    let offers = |m: AuthMethod| offered.split(',').any(|o| o.trim() == m.protocol_name());
    let mut agent_tried = false;
    for cred in group {
        for &m in &ctx.settings.auth_methods {
            if !offers(m) {
                continue;
            }
            let outcome: Option<Result<(), String>> = match m {
                AuthMethod::Agent => {
                    let socket = ctx
                        .settings
                        .agent_socket
                        .clone()
                        .or_else(|| std::env::var_os("SSH_AUTH_SOCK").map(Into::into));
                    match socket {
                        Some(sock) if !agent_tried => {
                            agent_tried = true;
                            Some(agent_auth(session, user, &sock))
                        }
                        _ => None,
                    }
                }
                AuthMethod::PublicKey => cred.private_key_file.as_ref().map(|k| {
                    key_auth(
                        session,
                        user,
                        k,
                        cred.private_key_passphrase.as_ref().map(|p| p.expose()),
                    )
                }),
                AuthMethod::KeyboardInteractive => cred.password.as_ref().map(|p| {
                    session
                        .userauth_keyboard_interactive(user, &mut PasswordPrompter(p.expose()))
                        .map_err(|e| e.message().to_string())
                }),
                AuthMethod::Password => cred.password.as_ref().map(|p| {
                    session
                        .userauth_password(user, p.expose())
                        .map_err(|e| e.message().to_string())
                }),
            };
            let Some(outcome) = outcome else { continue };
            let what = match m {
                AuthMethod::Agent => format!("{user}: agent"),
                AuthMethod::PublicKey => format!(
                    "{user}: publickey {}",
                    cred.private_key_file
                        .as_deref()
                        .map(Path::display)
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                ),
                _ => format!("{user}: {}", m.as_str()),
            };
            match outcome {
                Ok(()) if session.authenticated() => {
                    ctx.opts.log(&t.name, || format!("{what}: accepted"));
                    return Some(cred.label.clone());
                }
                Ok(()) => tried.push(format!("{what} (partial success; more factors required)")),
                Err(why) => {
                    ctx.opts
                        .log(&t.name, || format!("{what}: rejected ({why})"));
                    tried.push(format!("{what} (rejected)"));
                }
            }
        }
    }
    if tried.len() == tried_before {
        let mut have = Vec::new();
        if group.iter().any(|c| c.password.is_some()) {
            have.push("a password");
        }
        if group.iter().any(|c| c.private_key_file.is_some()) {
            have.push("a key file");
        }
        let have = if have.is_empty() {
            "no password, key file or agent".to_string()
        } else {
            format!(
                "have {}; allowed auth_methods: {}",
                have.join(" and "),
                ctx.settings
                    .auth_methods
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        tried.push(format!("{user}: nothing the server accepts ({have})"));
    }
    None
}

fn agent_auth(session: &Session, user: &str, socket: &Path) -> Result<(), String> {
    let mut agent = session.agent().map_err(|e| e.message().to_string())?;
    agent
        .set_identity_path(socket)
        .map_err(|e| format!("agent socket {}: {}", socket.display(), e.message()))?;
    agent
        .connect()
        .map_err(|e| format!("agent: {}", e.message()))?;
    agent
        .list_identities()
        .map_err(|e| format!("agent: {}", e.message()))?;
    let ids = agent.identities().map_err(|e| e.message().to_string())?;
    for id in &ids {
        if agent.userauth(user, id).is_ok() {
            let _ = agent.disconnect();
            return Ok(());
        }
    }
    let _ = agent.disconnect();
    Err(format!(
        "none of the agent's {} keys was accepted",
        ids.len()
    ))
}

fn key_auth(
    session: &Session,
    user: &str,
    key: &Path,
    passphrase: Option<&str>,
) -> Result<(), String> {
    if !key.exists() {
        return Err(format!("key file {} not found", key.display()));
    }
    session
        .userauth_pubkey_file(user, None, key, passphrase)
        .map_err(|e| e.message().to_string())
}
