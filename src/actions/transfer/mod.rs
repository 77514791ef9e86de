//! `upload` and `download`: one file between this machine and a host over SFTP, SCP, FTP or
//! FTPS, and the rules that make bulk distribution safe:
//!
//! - idempotent: the target already has the same file (size, then checksum): ok, nothing sent;
//! - verified: the checksum is computed on the target (sha256sum/md5sum on shell hosts, the
//!   platform's checksum command on devices, size or a read-back over FTP) and compared; a
//!   mismatch fails the host and removes the bad copy;
//! - atomic: written to `.NAME.netorch-part` beside the destination, verified, then renamed
//!   into place (an `mv -f` on shell hosts, SFTP/FTP rename otherwise). SCP to a device cannot
//!   rename: the file is written in place and verified before success, and the result says so;
//! - resumable: a partial temporary file left by an interrupted SFTP or FTP transfer is
//!   continued on retry (`resume: true`); a resumed copy that fails verification is sent
//!   again from the start once;
//! - pre-flight: free space is checked first where the target can tell (`df`, the profile's
//!   `free_space` command, SFTP statvfs) and the task fails early with the figures;
//! - safe downloads: with `root`, the file can never land outside it (`..`, absolute paths,
//!   symlinks refused).
//!
//! Layout: `args.rs` holds the two actions' arguments and their entries in the action
//! table; this file is the copy's entry (protocol choice, timeouts, opening the backend,
//! turning a failure into a result); `remote.rs` is what a backend can do, with one
//! implementation per backend (`sftp.rs`, `shell.rs`, `device.rs`, `ftp.rs`); `upload.rs`
//! and `download.rs` are the two directions' steps; `digest.rs` the checksums and the
//! verification of a copy; `paths.rs` the path helpers.

mod args;
pub(crate) use args::mode as file_mode;
mod device;
mod digest;
mod download;
mod ftp;
mod paths;
mod remote;
mod sftp;
mod shell;
mod upload;

use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::ActionCtx;
use crate::device::profile::{ProfileSet, Session};
use crate::device::Connection;
use crate::report::{Status, TaskResult};
use crate::transport::settings::transfer_timeout_var;
use crate::transport::TransportError;
use crate::value::Vars;

pub use args::{Download, Protocol, TransferArgs, Upload, Verify};
pub use device::parse_bytes_free;
pub use digest::{local_digest, Algo};
pub use paths::{safe_join, PART_SUFFIX};
pub use shell::parse_df;

use device::DeviceFiles;
use ftp::FtpFiles;
use remote::RemoteFiles;
use sftp::{CommandSide, SftpFiles};
use shell::ShellFiles;

/// A transfer's own timeout when neither the task nor the host sets one (`timeout:` on the
/// task, `transfer_timeout` on the host). Separate from command timeouts: a 1 GiB image over
/// a slow WAN link takes a while.
pub const DEFAULT_TRANSFER_TIMEOUT_SECS: u64 = 3600;
/// How often progress is reported per host.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Progress of one host's transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub finished: bool,
}

/// What the executor gives a transfer besides the connection.
pub struct TransferEnv<'a> {
    /// Find an upload's local source (relative to the playbook's folder, then the project's).
    pub resolve_src: &'a dyn Fn(&str) -> Option<PathBuf>,
    /// Receives progress (throttled).
    pub progress: Option<&'a dyn Fn(Progress)>,
}

/// The protocol a task will use on this host: the task's `protocol`, else the host's
/// `transport` variable when it names a file protocol, else SFTP for shell hosts and SCP
/// for devices (which seldom run an SFTP server).
pub fn protocol_for(args: &TransferArgs, vars: &Vars, profiles: &ProfileSet) -> Protocol {
    if let Some(p) = args.protocol {
        return p;
    }
    let named = vars
        .get("transport")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_ascii_lowercase());
    match named.as_deref() {
        Some("sftp") => return Protocol::Sftp,
        Some("scp") => return Protocol::Scp,
        Some("ftp") => return Protocol::Ftp,
        Some("ftps") => return Protocol::Ftps,
        _ => {}
    }
    match profiles
        .get(&crate::inventory::resolve_platform(vars))
        .map(|p| p.session)
    {
        Some(Session::Pty) => Protocol::Scp,
        _ => Protocol::Sftp,
    }
}

/// True when the protocol rides on the host's SSH session.
pub fn needs_ssh(p: Protocol) -> bool {
    matches!(p, Protocol::Sftp | Protocol::Scp)
}

pub fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Sftp => "sftp",
        Protocol::Scp => "scp",
        Protocol::Ftp => "ftp",
        Protocol::Ftps => "ftps",
    }
}

/// The transfer's timeout: the task's, else the host's `transfer_timeout`, else the default.
/// An unreadable `transfer_timeout` is an error even when the task sets its own: it is a
/// mistake in the inventory either way.
pub fn transfer_timeout(
    args: &TransferArgs,
    task_timeout: Option<Duration>,
    host: &str,
    vars: &Vars,
) -> Result<Duration, TransportError> {
    let host_timeout = transfer_timeout_var(host, vars)?;
    Ok(args
        .timeout
        .or(task_timeout)
        .or(host_timeout)
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(DEFAULT_TRANSFER_TIMEOUT_SECS)))
}

/// Everything an upload or download needs, resolved.
struct TransferJob<'a> {
    host: String,
    args: &'a TransferArgs,
    protocol: Protocol,
    deadline: Instant,
    check: bool,
    env: &'a TransferEnv<'a>,
}

/// A result with the standard data fields.
fn task_result(status: Status, msg: impl Into<String>, data: Value) -> TaskResult {
    let mut result = TaskResult::new(status).with_msg(msg);
    result.data = data;
    result
}

fn transport_failure(e: &TransportError) -> TaskResult {
    if e.is_unreachable() {
        TaskResult::unreachable(e.to_string())
    } else {
        TaskResult::failed(e.to_string())
    }
}

/// Run `upload` (`is_upload`) or `download`. `conn` is the host's SSH connection (absent for
/// FTP, which connects on its own).
#[allow(clippy::too_many_arguments)]
pub fn run(
    conn: Option<&mut Connection>,
    ctx: &ActionCtx<'_>,
    args: &TransferArgs,
    protocol: Protocol,
    is_upload: bool,
    task_timeout: Option<Duration>,
    env: &TransferEnv<'_>,
) -> TaskResult {
    let src = match ctx.render_line(&args.src, "src") {
        Ok(s) => s,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let dest = match ctx.render_line(&args.dest, "dest") {
        Ok(s) => s,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let root = match &args.root {
        Some(r) => match ctx.render_line(r, "root") {
            Ok(s) => Some(s),
            Err(e) => return TaskResult::failed(e.to_string()),
        },
        None => None,
    };
    let timeout = match transfer_timeout(args, task_timeout, ctx.host, ctx.vars) {
        Ok(t) => t,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let job = TransferJob {
        host: ctx.host.to_string(),
        args,
        protocol,
        deadline: Instant::now() + timeout,
        check: ctx.check_mode,
        env,
    };
    let mut remote = match open_backend(conn, ctx, protocol) {
        Ok(remote) => remote,
        Err(result) => return result,
    };
    let outcome = if is_upload {
        upload::upload(&job, remote.as_mut(), &src, &dest)
    } else {
        download::download(&job, remote.as_mut(), &src, &dest, root.as_deref())
    };
    remote.close();
    outcome.unwrap_or_else(TransferFailure::into_result)
}

/// The backend for `protocol`: SFTP or SCP on the host's SSH connection, with its shell or
/// its device CLI beside (the connection knows which), or a new FTP connection.
fn open_backend<'c>(
    conn: Option<&'c mut Connection>,
    ctx: &ActionCtx<'_>,
    protocol: Protocol,
) -> Result<Box<dyn RemoteFiles + 'c>, TaskResult> {
    match protocol {
        Protocol::Sftp | Protocol::Scp => {
            let Some(conn) = conn else {
                return Err(TaskResult::failed(
                    "internal: no SSH connection for SFTP/SCP",
                ));
            };
            let commands = if conn.is_cli() {
                CommandSide::Device(DeviceFiles::new(conn))
            } else {
                CommandSide::Shell(ShellFiles::new(conn))
            };
            Ok(match (protocol, commands) {
                (Protocol::Sftp, commands) => Box::new(SftpFiles::new(commands)),
                (_, CommandSide::Shell(shell)) => Box::new(shell),
                (_, CommandSide::Device(device)) => Box::new(device),
            })
        }
        Protocol::Ftp | Protocol::Ftps => Ok(Box::new(FtpFiles::connect(
            ctx,
            protocol == Protocol::Ftps,
        )?)),
    }
}

/// Why a transfer failed.
/// The SSH session a file protocol runs on; a telnet or API host has none.
fn ssh_of(
    conn: &crate::device::Connection,
) -> Result<&crate::transport::SshSession, TransferFailure> {
    conn.ssh("file transfer over SCP or SFTP")
        .map_err(TransferFailure::Transport)
}

enum TransferFailure {
    Transport(TransportError),
    /// Already a result (a device error, with its partial output).
    Device(TaskResult),
    /// The reason in words.
    Message(String),
}

impl TransferFailure {
    /// A one-line reason, for a message about a side step (the main failure is reported
    /// through `into_result`).
    fn reason(&self) -> String {
        match self {
            TransferFailure::Transport(e) => e.to_string(),
            TransferFailure::Device(result) => result
                .msg
                .clone()
                .unwrap_or_else(|| "the device failed".into()),
            TransferFailure::Message(m) => m.clone(),
        }
    }

    fn into_result(self) -> TaskResult {
        match self {
            TransferFailure::Transport(e) => transport_failure(&e),
            TransferFailure::Device(result) => result,
            TransferFailure::Message(m) => TaskResult::failed(m),
        }
    }
}

impl From<TransportError> for TransferFailure {
    fn from(e: TransportError) -> Self {
        TransferFailure::Transport(e)
    }
}

/// Throttled progress reporting for one transfer (cells: the pump's callback and the
/// final report share it).
struct Meter<'a> {
    sink: Option<&'a dyn Fn(Progress)>,
    done: Cell<u64>,
    total: u64,
    last: Cell<Instant>,
}

impl<'a> Meter<'a> {
    fn new(sink: Option<&'a dyn Fn(Progress)>, done: u64, total: u64) -> Meter<'a> {
        Meter {
            sink,
            done: Cell::new(done),
            total,
            last: Cell::new(Instant::now()),
        }
    }

    fn add(&self, n: u64) {
        self.done.set(self.done.get() + n);
        if let Some(s) = self.sink {
            if self.last.get().elapsed() >= PROGRESS_EVERY {
                self.last.set(Instant::now());
                s(Progress {
                    done: self.done.get(),
                    total: self.total,
                    finished: false,
                });
            }
        }
    }

    fn finish(&self) {
        if let Some(s) = self.sink {
            s(Progress {
                done: self.done.get(),
                total: self.total,
                finished: true,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Verify;
    use serde_json::json;

    fn args(protocol: Option<Protocol>) -> TransferArgs {
        TransferArgs {
            src: "a".into(),
            dest: "b".into(),
            protocol,
            verify: Verify::Sha256,
            mode: None,
            mkdirs: false,
            resume: false,
            bandwidth: None,
            timeout: None,
            root: None,
        }
    }

    #[test]
    fn protocol_defaults_follow_task_then_host_then_platform() {
        let profiles = ProfileSet::builtin();
        let vars = |v: Value| v.as_object().cloned().unwrap_or_default();
        let ios = vars(json!({"platform": "cisco_ios"}));
        let linux = vars(json!({}));
        let ftp_host = vars(json!({"platform": "cisco_ios", "transport": "ftps"}));
        let nos = vars(json!({"ansible_network_os": "cisco.nxos.nxos"}));
        assert_eq!(protocol_for(&args(None), &ios, &profiles), Protocol::Scp);
        assert_eq!(protocol_for(&args(None), &linux, &profiles), Protocol::Sftp);
        assert_eq!(
            protocol_for(&args(None), &ftp_host, &profiles),
            Protocol::Ftps
        );
        assert_eq!(protocol_for(&args(None), &nos, &profiles), Protocol::Scp);
        assert_eq!(
            protocol_for(&args(Some(Protocol::Ftp)), &ios, &profiles),
            Protocol::Ftp
        );
        assert!(!needs_ssh(Protocol::Ftps) && needs_ssh(Protocol::Scp));
    }

    #[test]
    fn transfer_timeout_order() {
        let v = json!({"transfer_timeout": "2m"})
            .as_object()
            .cloned()
            .unwrap();
        let none = Vars::new();
        let mut a = args(None);
        let t = |a: &TransferArgs, task: Option<Duration>, v: &Vars| {
            transfer_timeout(a, task, "r1", v).unwrap()
        };
        assert_eq!(t(&a, None, &none), Duration::from_secs(3600));
        assert_eq!(t(&a, None, &v), Duration::from_secs(120));
        assert_eq!(
            t(&a, Some(Duration::from_secs(7)), &v),
            Duration::from_secs(7)
        );
        a.timeout = Some(Duration::from_secs(3));
        assert_eq!(
            t(&a, Some(Duration::from_secs(7)), &v),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn transfer_timeout_in_hours_is_honoured() {
        // The old reader knew no `h` and silently fell back to the default hour.
        let v = json!({"transfer_timeout": "2h"})
            .as_object()
            .cloned()
            .unwrap();
        let got = transfer_timeout(&args(None), None, "r1", &v).unwrap();
        assert_eq!(got, Duration::from_secs(7200));
    }

    #[test]
    fn unreadable_transfer_timeout_names_the_variable() {
        let v = json!({"transfer_timeout": "a while"})
            .as_object()
            .cloned()
            .unwrap();
        let e = transfer_timeout(&args(None), None, "r1", &v)
            .unwrap_err()
            .to_string();
        assert!(e.contains("r1") && e.contains("`transfer_timeout`"), "{e}");
    }
}
