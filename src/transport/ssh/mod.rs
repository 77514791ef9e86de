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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ssh2::{ErrorCode, KeyboardInteractivePrompt, MethodType, Prompt, Session};

use super::capture::Capped;
use super::jump::{spawn_relay, HopStream};
use super::known_hosts::{self, Target};
use super::settings::{
    AuthMethod, ConnectionSettings, Credential, HostKeyChecking, LEGACY_CIPHERS, LEGACY_HOSTKEYS,
    LEGACY_KEX, LEGACY_MACS, MODERN_CIPHERS, MODERN_HOSTKEYS, MODERN_KEX, MODERN_MACS,
};
use super::TransportError;

mod auth;
mod connect;

use auth::authenticate;
use connect::connect_chain;

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
    /// The host's `max_output`, and the cap in force for the current task.
    default_max_output: u64,
    max_output: AtomicU64,
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
    /// A handle on a plain TCP session (telnet): `stream` is a clone of its socket.
    pub fn from_tcp(stream: std::net::TcpStream) -> AbortHandle {
        AbortHandle(Arc::new(HopStream::Tcp(stream)))
    }

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
    /// A jump host: authenticated with the host's jump credentials, not its own.
    bastion: bool,
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
                bastion: true,
            })
            .collect();
        chain.push(Endpoint {
            name: settings.host_name.clone(),
            address: settings.address.clone(),
            port: settings.port,
            user: None,
            bastion: false,
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
            default_max_output: settings.max_output,
            max_output: AtomicU64::new(settings.max_output),
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

    /// The most output a command keeps (stdout and stderr each): the task's `max_output`
    /// if one was set with [`SshSession::set_max_output`], else the host's.
    pub fn max_output(&self) -> u64 {
        self.max_output.load(Ordering::Relaxed)
    }

    /// The cap for the commands of one task; `None`: the host's `max_output`.
    pub fn set_max_output(&self, cap: Option<u64>) {
        self.max_output
            .store(cap.unwrap_or(self.default_max_output), Ordering::Relaxed);
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
            .map_err(|e| self.session_err(&what, timeout, e))?;
        ch.exec(cmd)
            .map_err(|e| self.session_err(&what, timeout, e))?;
        let cap = self.max_output();
        let mut stdout = Capped::new(cap);
        self.read_until_eof(
            &mut ch.stream(0),
            &mut stdout,
            deadline,
            timeout,
            &what,
            None,
        )?;
        let mut stderr = Capped::new(cap);
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
        let exit_status = ch
            .exit_status()
            .map_err(|e| self.session_err(&what, timeout, e))?;
        Ok(ExecOutput {
            stdout: stdout.text(),
            stderr: stderr.text(),
            exit_status,
        })
    }

    fn read_until_eof(
        &self,
        r: &mut impl Read,
        out: &mut Capped,
        deadline: Instant,
        timeout: Duration,
        what: &str,
        stdout_if_stderr: Option<&Capped>,
    ) -> Result<(), TransportError> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if !set_deadline(&self.session, deadline) {
                return Err(self.timeout_err(what, timeout, stdout_if_stderr.unwrap_or(out)));
            }
            match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    out.extend(&buf[..n]);
                }
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

    fn timeout_err(&self, what: &str, timeout: Duration, partial: &Capped) -> TransportError {
        TransportError::Timeout {
            host: self.host.clone(),
            what: what.to_string(),
            secs: timeout.as_secs_f64(),
            partial: partial.text(),
        }
    }

    /// `limit`: the time the step had (a libssh2 timeout means it all passed).
    fn session_err(&self, what: &str, limit: Duration, e: ssh2::Error) -> TransportError {
        if e.code() == ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) {
            return self.timeout_err(what, limit, &Capped::new(0));
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
            .map_err(|e| self.session_err(what, self.command_timeout, e))?;
        ch.request_pty("vt100", None, Some((cols, rows, 0, 0)))
            .map_err(|e| self.session_err("requesting a PTY", self.command_timeout, e))?;
        ch.shell()
            .map_err(|e| self.session_err(what, self.command_timeout, e))?;
        Ok(ch)
    }

    /// Open a channel on an SSH subsystem (`netconf`): no PTY, the peer speaks a protocol.
    pub fn open_subsystem(&self, name: &str) -> Result<ssh2::Channel, TransportError> {
        let what = format!("opening the `{name}` subsystem");
        set_deadline(&self.session, Instant::now() + self.command_timeout);
        let mut ch = self
            .session
            .channel_session()
            .map_err(|e| self.session_err(&what, self.command_timeout, e))?;
        ch.subsystem(name)
            .map_err(|e| self.session_err(&what, self.command_timeout, e))?;
        Ok(ch)
    }

    /// Send a keepalive now (also done in the background at `keepalive_interval`); an
    /// error means the connection is gone.
    pub fn keepalive(&self) -> Result<(), TransportError> {
        set_deadline(&self.session, Instant::now() + self.command_timeout);
        self.session
            .keepalive_send()
            .map(|_| ())
            .map_err(|e| self.session_err("keepalive", self.command_timeout, e))
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
