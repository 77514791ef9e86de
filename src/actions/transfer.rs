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

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use md5::Md5;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::ActionCtx;
use crate::actions::{Protocol, TransferArgs, Verify};
use crate::device::profile::{ProfileSet, Session};
use crate::executor::connection::{device_failure, Connection};
use crate::report::{Status, TaskResult};
use crate::transport::copy::Pump;
use crate::transport::ftp::{FtpClient, FtpSettings};
use crate::transport::settings::{transfer_timeout_var, ConnectionSettings};
use crate::transport::sftp::Sftp;
use crate::transport::{scp, TransportError};
use crate::value::Vars;

/// A transfer's own timeout when neither the task nor the host sets one (`timeout:` on the
/// task, `transfer_timeout` on the host). Separate from command timeouts: a 1 GiB image over
/// a slow WAN link takes a while.
pub const DEFAULT_TRANSFER_TIMEOUT_SECS: u64 = 3600;
/// Suffix of the temporary file written beside the destination.
pub const PART_SUFFIX: &str = ".netorch-part";
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

/// Which checksum a comparison uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Sha256,
    Md5,
}

impl Algo {
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "sha256",
            Algo::Md5 => "md5",
        }
    }
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
    let platform = vars
        .get("platform")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            vars.get("ansible_network_os")
                .and_then(Value::as_str)
                .map(crate::transport::settings::platform_from_network_os)
        })
        .unwrap_or_else(|| "linux".into());
    match profiles.get(&platform).map(|p| p.session) {
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
struct Job<'a> {
    host: String,
    args: &'a TransferArgs,
    protocol: Protocol,
    deadline: Instant,
    check: bool,
    env: &'a TransferEnv<'a>,
}

/// A result with the standard data fields.
fn result(status: Status, msg: impl Into<String>, data: Value) -> TaskResult {
    let mut r = TaskResult::new(status).with_msg(msg);
    r.data = data;
    r
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
    let src = match ctx.render(&args.src, "src") {
        Ok(s) => s,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let dest = match ctx.render(&args.dest, "dest") {
        Ok(s) => s,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let root = match &args.root {
        Some(r) => match ctx.render(r, "root") {
            Ok(s) => Some(s),
            Err(e) => return TaskResult::failed(e.to_string()),
        },
        None => None,
    };
    let timeout = match transfer_timeout(args, task_timeout, ctx.host, ctx.vars) {
        Ok(t) => t,
        Err(e) => return TaskResult::failed(e.to_string()),
    };
    let job = Job {
        host: ctx.host.to_string(),
        args,
        protocol,
        deadline: Instant::now() + timeout,
        check: ctx.check_mode,
        env,
    };
    let mut target = match Target::open(conn, ctx, protocol) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let r = if is_upload {
        upload(&job, &mut target, &src, &dest)
    } else {
        download(&job, &mut target, &src, &dest, root.as_deref())
    };
    target.close();
    match r {
        Ok(r) => r,
        Err(Fail::Transport(e)) => transport_failure(&e),
        Err(Fail::Device(r)) => r,
        Err(Fail::Msg(m)) => TaskResult::failed(m),
    }
}

/// Why a transfer failed.
enum Fail {
    Transport(TransportError),
    /// Already a result (a device error, with its partial output).
    Device(TaskResult),
    Msg(String),
}

impl Fail {
    /// A one-line reason, for a message about a side step (the main failure is reported
    /// through `Fail` itself).
    fn reason(&self) -> String {
        match self {
            Fail::Transport(e) => e.to_string(),
            Fail::Device(r) => r.msg.clone().unwrap_or_else(|| "the device failed".into()),
            Fail::Msg(m) => m.clone(),
        }
    }
}

impl From<TransportError> for Fail {
    fn from(e: TransportError) -> Self {
        Fail::Transport(e)
    }
}

/// The other side: an SSH connection (SFTP/SCP, checksums on its exec channel or CLI) or an
/// FTP client.
enum Target<'c> {
    Ssh {
        conn: &'c mut Connection,
        sftp: bool,
        /// The SFTP channel, opened on first use and kept for the whole transfer: each
        /// open is several round trips (channel, subsystem, version exchange).
        handle: Option<Sftp>,
    },
    Ftp(Box<FtpClient>),
}

impl<'c> Target<'c> {
    fn open(
        conn: Option<&'c mut Connection>,
        ctx: &ActionCtx<'_>,
        protocol: Protocol,
    ) -> Result<Target<'c>, TaskResult> {
        match protocol {
            Protocol::Sftp | Protocol::Scp => match conn {
                Some(conn) => Ok(Target::Ssh {
                    conn,
                    sftp: protocol == Protocol::Sftp,
                    handle: None,
                }),
                None => Err(TaskResult::failed(
                    "internal: no SSH connection for SFTP/SCP",
                )),
            },
            Protocol::Ftp | Protocol::Ftps => {
                let ssh = ConnectionSettings::from_vars(ctx.host, ctx.vars)
                    .map_err(|e| TaskResult::failed(e.to_string()))?;
                let s = FtpSettings::from_vars(&ssh, ctx.vars, protocol == Protocol::Ftps)
                    .map_err(|e| TaskResult::failed(e.to_string()))?;
                FtpClient::connect(&s)
                    .map(|c| Target::Ftp(Box::new(c)))
                    .map_err(|e| transport_failure(&e))
            }
        }
    }

    fn close(self) {
        if let Target::Ftp(c) = self {
            c.quit();
        }
    }

    /// Shell host (exec channel): checksums with sha256sum/md5sum, `mv -f`, `df`.
    fn shell(&self) -> bool {
        matches!(self, Target::Ssh { conn, .. } if !conn.is_cli())
    }

    /// The checksum this target can compute, given what the task asked for.
    fn algo(&self, verify: Verify) -> Option<Algo> {
        let wanted = match verify {
            Verify::Sha256 => Algo::Sha256,
            Verify::Md5 => Algo::Md5,
            Verify::Size | Verify::None => return None,
        };
        match self {
            _ if self.shell() => Some(wanted),
            Target::Ssh { conn, .. } => {
                let p = conn.profile();
                let cmd = p.checksum.as_deref()?;
                p.checksum_pattern.as_ref()?;
                Some(if cmd.contains("sha256") || cmd.contains("sha-256") {
                    Algo::Sha256
                } else {
                    Algo::Md5
                })
            }
            // Over FTP a checksum means reading the file back.
            Target::Ftp(_) => Some(wanted),
        }
    }

    /// The size of a remote file, `None` when absent; `Err` only for real failures.
    /// SCP to a device cannot stat: `Ok(Some(None))`-like "unknown" is `Unknown`.
    fn size(&mut self, path: &str) -> Result<RemoteSize, Fail> {
        match self {
            Target::Ssh {
                conn,
                sftp: true,
                handle,
            } => {
                let s = sftp_of(conn, handle)?;
                Ok(match s.stat(path)? {
                    Some(st) if st.is_dir => RemoteSize::Dir,
                    Some(st) => RemoteSize::Known(st.size),
                    None => RemoteSize::Absent,
                })
            }
            Target::Ssh {
                conn, sftp: false, ..
            } if !conn.is_cli() => {
                let q = quote(path);
                let out = conn.session().exec(
                    &format!("stat -L -c '%s %F' -- {q}"),
                    conn.session().command_timeout(),
                )?;
                if out.exit_status != 0 {
                    return Ok(RemoteSize::Absent);
                }
                let line = out.stdout.trim();
                if line.contains("directory") {
                    return Ok(RemoteSize::Dir);
                }
                Ok(line
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .map_or(RemoteSize::Unknown, RemoteSize::Known))
            }
            Target::Ssh { .. } => Ok(RemoteSize::Unknown),
            Target::Ftp(c) => Ok(match c.size(path)? {
                Some(n) => RemoteSize::Known(n),
                None => RemoteSize::Absent,
            }),
        }
    }

    /// `size`, plus the free bytes beside `path` when they came with it for free: on a shell
    /// host reached over SCP both are asked in one exec.
    fn size_and_free(&mut self, path: &str) -> Result<(RemoteSize, Option<u64>), Fail> {
        let shell = self.shell();
        let Target::Ssh {
            conn, sftp: false, ..
        } = self
        else {
            return Ok((self.size(path)?, None));
        };
        if !shell {
            return Ok((self.size(path)?, None));
        }
        let dir = parent_of(path);
        let dir = if dir.is_empty() { "." } else { dir };
        const MARK: &str = "--netorch-df--";
        let out = conn.session().exec(
            &format!(
                "stat -L -c '%s %F' -- {} 2>/dev/null; echo {MARK}; df -Pk -- {}",
                quote(path),
                quote(dir)
            ),
            conn.session().command_timeout(),
        )?;
        let (stat, df) = out.stdout.split_once(MARK).unwrap_or((&out.stdout, ""));
        let line = stat.trim();
        let size = if line.is_empty() {
            RemoteSize::Absent
        } else if line.contains("directory") {
            RemoteSize::Dir
        } else {
            line.split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .map_or(RemoteSize::Unknown, RemoteSize::Known)
        };
        Ok((size, parse_df(df)))
    }

    /// The checksum of a remote file; `None` when it does not exist (or the device could
    /// not read it).
    fn digest(
        &mut self,
        path: &str,
        algo: Algo,
        deadline: Instant,
    ) -> Result<Option<String>, Fail> {
        let shell = self.shell();
        match self {
            Target::Ssh { conn, .. } if shell => {
                let tool = match algo {
                    Algo::Sha256 => "sha256sum",
                    Algo::Md5 => "md5sum",
                };
                let left = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_secs(1));
                let out = conn
                    .session()
                    .exec(&format!("{tool} -- {}", quote(path)), left)?;
                if out.exit_status != 0 {
                    return Ok(None);
                }
                Ok(first_hex(&out.stdout, algo))
            }
            Target::Ssh { conn, .. } => {
                let p = conn.profile();
                let (Some(cmd), Some(re)) = (p.checksum.clone(), p.checksum_pattern.clone()) else {
                    return Ok(None);
                };
                let cmd = cmd.replace("{path}", path);
                let t = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_secs(1));
                let output = match conn.run_command(&cmd, t) {
                    Ok(resp) if resp.failed.is_some() => return Ok(None),
                    Ok(resp) => resp.output,
                    // The CLI session may have been closed by the device's idle timeout
                    // while a long transfer ran on the SSH session: ask on an exec channel.
                    Err(e) => match conn.session().exec(&cmd, t) {
                        Ok(out) => out.stdout,
                        Err(_) => return Err(Fail::Device(device_failure(&e))),
                    },
                };
                Ok(re
                    .captures(&output)
                    .and_then(|c| c.get(1))
                    .map(|m| m.as_str().to_ascii_lowercase()))
            }
            Target::Ftp(c) => {
                // A read-back: stream the file through the hash.
                let mut h = Hasher::new(algo);
                let mut pump = Pump {
                    progress: None,
                    bandwidth: None,
                    deadline,
                };
                match c.download(path, &mut h, 0, &mut pump) {
                    Ok(_) => Ok(Some(h.finish())),
                    Err(TransportError::Remote { reason, .. })
                        if reason.contains("no such file") =>
                    {
                        Ok(None)
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    fn remove(&mut self, path: &str) -> Result<(), Fail> {
        let shell = self.shell();
        match self {
            Target::Ssh {
                conn,
                sftp: true,
                handle,
            } => Ok(sftp_of(conn, handle)?.remove(path)?),
            Target::Ssh { conn, .. } if shell => {
                conn.session().exec(
                    &format!("rm -f -- {}", quote(path)),
                    conn.session().command_timeout(),
                )?;
                Ok(())
            }
            // A device: the profile's delete command, which must not ask.
            Target::Ssh { conn, .. } => {
                let Some(cmd) = conn.profile().delete.clone() else {
                    return Err(Fail::Msg(format!(
                        "platform `{}` has no delete command",
                        conn.profile().name
                    )));
                };
                let cmd = cmd.replace("{path}", path);
                match conn.run_command(&cmd, conn.session().command_timeout()) {
                    Ok(resp) => match resp.failed {
                        None => Ok(()),
                        Some(f) => Err(Fail::Msg(format!("`{cmd}` failed: {f}"))),
                    },
                    Err(e) => Err(Fail::Device(device_failure(&e))),
                }
            }
            Target::Ftp(c) => Ok(c.remove(path)?),
        }
    }

    /// Move `tmp` onto `dest`, atomically where the target allows.
    /// Bounded by the transfer's deadline (at least the command timeout): a busy host that
    /// took the whole file must not fail it on the last step.
    /// `dest_absent`: nothing was at `dest` when the transfer started; then a plain SFTP
    /// rename is atomic (it refuses to replace a file that appeared since, and the shell's
    /// `mv` takes over), and it saves an exec channel and a login shell.
    fn rename(
        &mut self,
        tmp: &str,
        dest: &str,
        deadline: Instant,
        dest_absent: bool,
    ) -> Result<(), Fail> {
        let shell = self.shell();
        let host = self.host_name();
        if let Target::Ssh {
            conn,
            sftp: true,
            handle,
        } = self
        {
            if dest_absent && sftp_of(conn, handle)?.rename_new(tmp, dest).is_ok() {
                return Ok(());
            }
        }
        match self {
            Target::Ssh { conn, .. } if shell => {
                // rename(2) replaces the target atomically; SFTP v3 cannot.
                let left = until_left(deadline, conn);
                let out = conn
                    .session()
                    .exec(&format!("mv -f -- {} {}", quote(tmp), quote(dest)), left)?;
                if out.exit_status != 0 {
                    return Err(Fail::Transport(TransportError::Remote {
                        host,
                        op: "rename into".into(),
                        path: dest.to_string(),
                        reason: out.stderr.trim().to_string(),
                    }));
                }
                Ok(())
            }
            Target::Ssh {
                conn,
                sftp: true,
                handle,
            } => Ok(sftp_of(conn, handle)?.rename(tmp, dest)?),
            Target::Ssh { .. } => Ok(()),
            Target::Ftp(c) => Ok(c.rename(tmp, dest)?),
        }
    }

    /// On a shell host, in one exec: check `tmp`'s size (and checksum when `expect` is
    /// given), then `mv` it onto `dest`; a wrong copy is removed there and then.
    /// `Ok(Err(why))`: the copy was wrong.
    fn verify_and_rename_shell(
        &mut self,
        tmp: &str,
        dest: &str,
        size: u64,
        expect: Option<&str>,
        algo: Option<Algo>,
        deadline: Instant,
    ) -> Result<Result<(), String>, Fail> {
        let host = self.host_name();
        let Target::Ssh { conn, .. } = self else {
            return Ok(Err("internal: not a shell host".into()));
        };
        let (t, d) = (quote(tmp), quote(dest));
        // Exit codes 90-94 say which step failed; stdout carries what was measured.
        // `wc -c`, not GNU `stat -c`: BSD and BusyBox hosts have it too.
        let mut script = format!(
            "[ -f {t} ] || exit 90; s=$(wc -c < {t} | tr -d ' '); echo \"size $s\"; \
             [ \"$s\" = {size} ] || {{ rm -f -- {t}; exit 91; }}; "
        );
        if let (Some(a), Some(want)) = (algo, expect) {
            let tool = match a {
                Algo::Sha256 => "sha256sum",
                Algo::Md5 => "md5sum",
            };
            script.push_str(&format!(
                "h=$({tool} -- {t}) || exit 92; echo \"sum $h\"; \
                 [ \"${{h%% *}}\" = {} ] || {{ rm -f -- {t}; exit 93; }}; ",
                quote(want)
            ));
        }
        script.push_str(&format!("mv -f -- {t} {d} || exit 94"));
        let left = until_left(deadline, conn);
        // Through sh: the login shell may not be a POSIX one (fish, csh).
        let out = conn
            .session()
            .exec(&format!("sh -c {}", quote(&script)), left)?;
        let field = |key: &str| {
            out.stdout
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
                .unwrap_or_default()
        };
        let name = algo.map_or("checksum", |a| a.name());
        Ok(match out.exit_status {
            0 => Ok(()),
            90 => Err(format!(
                "the copy is not on the target (or not a file): {}",
                out.stderr.trim()
            )),
            91 => Err(format!(
                "size on the target is {} bytes, expected {size}",
                field("size ")
            )),
            92 => Err(format!(
                "the target could not compute the {name} of the file: {}",
                out.stderr.trim()
            )),
            93 => Err(format!(
                "{name} on the target is {}, expected {}",
                field("sum "),
                expect.unwrap_or("")
            )),
            _ => {
                return Err(Fail::Transport(TransportError::Remote {
                    host,
                    op: "rename into".into(),
                    path: dest.to_string(),
                    reason: out.stderr.trim().to_string(),
                }))
            }
        })
    }

    fn host_name(&self) -> String {
        match self {
            Target::Ssh { conn, .. } => conn.session().host().to_string(),
            Target::Ftp(c) => format!("{c:?}"),
        }
    }

    fn mkdirs(&mut self, dir: &str) -> Result<(), Fail> {
        if dir.is_empty() {
            return Ok(());
        }
        let shell = self.shell();
        match self {
            Target::Ssh {
                conn,
                sftp: true,
                handle,
            } => Ok(sftp_of(conn, handle)?.mkdirs(dir)?),
            Target::Ssh { conn, .. } if shell => {
                let out = conn.session().exec(
                    &format!("mkdir -p -- {}", quote(dir)),
                    conn.session().command_timeout(),
                )?;
                if out.exit_status != 0 {
                    return Err(Fail::Msg(format!(
                        "{}: cannot create folder {dir}: {}",
                        conn.session().host(),
                        out.stderr.trim()
                    )));
                }
                Ok(())
            }
            // Device filesystems: folders are made on the device if needed.
            Target::Ssh { .. } => Ok(()),
            Target::Ftp(c) => Ok(c.mkdirs(dir)?),
        }
    }

    /// Free bytes where `dest` goes; `None` when the target cannot tell.
    fn free_space(&mut self, dest: &str) -> Option<u64> {
        let shell = self.shell();
        match self {
            Target::Ssh { conn, sftp, handle } if shell => {
                let dir = parent_of(dest);
                let dir = if dir.is_empty() { "." } else { dir };
                // Over SFTP, statvfs answers on the channel already open; `df` needs an exec
                // channel and a login shell, which can take far longer (a slow .bashrc).
                if *sftp {
                    if let Some(free) = sftp_of(conn, handle).ok()?.free_space(dir) {
                        return Some(free);
                    }
                }
                let out = conn
                    .session()
                    .exec(
                        &format!("df -Pk -- {}", quote(dir)),
                        conn.session().command_timeout(),
                    )
                    .ok()?;
                if out.exit_status != 0 {
                    return None;
                }
                parse_df(&out.stdout)
            }
            Target::Ssh { conn, .. } => {
                let cmd = conn.profile().free_space.clone()?;
                let fs = match dest.find(':') {
                    Some(i) => &dest[..=i],
                    None => "",
                };
                let cmd = cmd.replace("{filesystem}", fs).replace("{path}", dest);
                let resp = conn
                    .run_command(cmd.trim(), conn.session().command_timeout())
                    .ok()?;
                if resp.failed.is_some() {
                    return None;
                }
                parse_bytes_free(&resp.output)
            }
            Target::Ftp(_) => None,
        }
    }
}

/// `conn`'s SFTP channel for this transfer, opened on first use.
fn sftp_of<'h>(conn: &Connection, handle: &'h mut Option<Sftp>) -> Result<&'h Sftp, Fail> {
    if handle.is_none() {
        *handle = Some(Sftp::open(conn.session())?);
    }
    handle
        .as_ref()
        .ok_or_else(|| Fail::Msg("internal: the SFTP channel vanished".into()))
}

/// Time left for a last step of a transfer: up to its deadline, but at least the command
/// timeout (a busy host that took the whole file must not fail it on the rename).
fn until_left(deadline: Instant, conn: &Connection) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(conn.session().command_timeout())
}

/// What a remote stat found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RemoteSize {
    Known(u64),
    Absent,
    Dir,
    /// The target cannot stat (SCP to a device): go by checksum.
    Unknown,
}

/// Single-quote for a POSIX shell.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn first_hex(text: &str, algo: Algo) -> Option<String> {
    let len = match algo {
        Algo::Sha256 => 64,
        Algo::Md5 => 32,
    };
    text.split_whitespace()
        .next()
        .map(|t| t.trim_start_matches('\\').to_ascii_lowercase())
        .filter(|t| t.len() == len && t.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `df -Pk` output: the "Available" column (KiB) of the last line, in bytes.
pub fn parse_df(text: &str) -> Option<u64> {
    let line = text.lines().rfind(|l| !l.trim().is_empty())?;
    let avail: u64 = line.split_whitespace().nth(3)?.parse().ok()?;
    Some(avail.saturating_mul(1024))
}

/// `dir flash:` output on IOS, EOS, NX-OS, XR: `... (123456 bytes free)` or
/// `123456 bytes free`.
pub fn parse_bytes_free(text: &str) -> Option<u64> {
    let re = regex::Regex::new(r"(?i)\(?\s*(\d+)\s+bytes\s+(?:free|available)").ok()?;
    re.captures_iter(text)
        .last()
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse().ok())
}

/// The folder part of a remote path (`/a/b/c` -> `/a/b`, `flash:/x` -> `flash:`, `x` -> ``).
fn parent_of(path: &str) -> &str {
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

fn base_name(path: &str) -> &str {
    let p = path.trim_end_matches('/');
    let after_colon = p.rsplit_once(':').map_or(p, |(_, b)| b);
    after_colon.rsplit('/').next().unwrap_or(after_colon)
}

/// The temporary name beside `dest`.
fn part_name(dest: &str) -> String {
    let parent = parent_of(dest);
    let name = base_name(dest);
    let sep = if parent.is_empty() || parent.ends_with('/') || parent.ends_with(':') {
        ""
    } else {
        "/"
    };
    format!("{parent}{sep}.{name}{PART_SUFFIX}")
}

/// Streaming hash over sha256 or md5.
enum Hasher {
    Sha256(Sha256),
    Md5(Md5),
}

impl Hasher {
    fn new(a: Algo) -> Hasher {
        match a {
            Algo::Sha256 => Hasher::Sha256(Sha256::new()),
            Algo::Md5 => Hasher::Md5(Md5::new()),
        }
    }

    fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => data_encoding::HEXLOWER.encode(&h.finalize()),
            Hasher::Md5(h) => data_encoding::HEXLOWER.encode(&h.finalize()),
        }
    }
}

impl Write for Hasher {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Hasher::Sha256(h) => h.update(b),
            Hasher::Md5(h) => h.update(b),
        }
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Hashes what passes through it: the local checksum is computed while the file is
/// sent instead of in a second pass over it (and it is the checksum of what was sent).
struct HashingReader<R> {
    inner: R,
    hasher: Option<Hasher>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            let _ = h.write(&buf[..n]);
        }
        Ok(n)
    }
}

/// The checksum of a local file, streamed.
pub fn local_digest(path: &Path, algo: Algo) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = Hasher::new(algo);
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.write_all(&buf[..n])?;
    }
    Ok(h.finish())
}

/// Throttled progress reporting for one transfer (cells: the pump's callback and the
/// final report share it).
struct Meter<'a> {
    sink: Option<&'a dyn Fn(Progress)>,
    done: std::cell::Cell<u64>,
    total: u64,
    last: std::cell::Cell<Instant>,
}

impl<'a> Meter<'a> {
    fn new(sink: Option<&'a dyn Fn(Progress)>, done: u64, total: u64) -> Meter<'a> {
        Meter {
            sink,
            done: std::cell::Cell::new(done),
            total,
            last: std::cell::Cell::new(Instant::now()),
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

fn upload(job: &Job<'_>, t: &mut Target<'_>, src: &str, dest: &str) -> Result<TaskResult, Fail> {
    let local = (job.env.resolve_src)(src)
        .ok_or_else(|| Fail::Msg(format!("src `{src}`: no such local file")))?;
    let meta = std::fs::metadata(&local)
        .map_err(|e| Fail::Msg(format!("src {}: {e}", local.display())))?;
    if !meta.is_file() {
        return Err(Fail::Msg(format!("src {} is not a file", local.display())));
    }
    let size = meta.len();
    let algo = t.algo(job.args.verify);
    let proto = protocol_name(job.protocol);

    // A dest that is a folder (or ends with `/`) gets the source's name.
    let mut dest = dest.to_string();
    let src_name = local
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // One stat serves both the folder check and the idempotence check below.
    // On a shell host over SCP, that stat also brings the free space (one exec, one login
    // shell, instead of two).
    let mut known = None;
    let mut prefetched_free = None;
    if dest.ends_with('/') {
        dest.push_str(&src_name);
    } else {
        match t.size_and_free(&dest)? {
            (RemoteSize::Dir, _) => dest = format!("{dest}/{src_name}"),
            (other, free) => {
                known = Some(other);
                prefetched_free = free;
            }
        }
    }
    let mut data = json!({
        "src": local.display().to_string(),
        "dest": dest,
        "protocol": proto,
        "size": size,
    });

    // Idempotence: same size, then same checksum.
    let existing = match known {
        Some(k) => k,
        None => {
            let (k, free) = t.size_and_free(&dest)?;
            prefetched_free = free;
            k
        }
    };
    let mut local_sum: Option<String> = None;
    let same = match (existing, algo) {
        (RemoteSize::Absent | RemoteSize::Dir, _) => false,
        (RemoteSize::Known(n), _) if n != size => false,
        (RemoteSize::Known(_), None) => true,
        (_, Some(a)) => {
            let l = local_digest(&local, a)
                .map_err(|e| Fail::Msg(format!("src {}: {e}", local.display())))?;
            let r = t.digest(&dest, a, job.deadline)?;
            let same = r.as_deref() == Some(l.as_str());
            local_sum = Some(l);
            same
        }
        (RemoteSize::Unknown, None) => false,
    };
    if let (Some(a), Some(sum)) = (algo, &local_sum) {
        data[a.name()] = Value::from(sum.clone());
    }
    if same {
        if let (Some(m), false) = (job.args.mode, job.check) {
            if let Target::Ssh {
                conn,
                sftp: true,
                handle,
            } = t
            {
                sftp_of(conn, handle)?.chmod(&dest, m)?;
            }
        }
        data["sent_bytes"] = Value::from(0);
        return Ok(result(
            Status::Ok,
            format!("{dest} is already up to date"),
            data,
        ));
    }
    if job.check {
        return Ok(result(
            Status::Changed,
            format!(
                "would send {} ({size} bytes) to {dest} over {proto}",
                local.display()
            ),
            data,
        ));
    }

    // Pre-flight: room for it?
    let atomic = !matches!(t, Target::Ssh { sftp: false, .. }) || t.shell();
    let tmp = if atomic {
        part_name(&dest)
    } else {
        dest.clone()
    };
    let resumable = job.args.resume && matches!(t, Target::Ssh { sftp: true, .. } | Target::Ftp(_));
    let mut offset = 0;
    if resumable {
        if let RemoteSize::Known(n) = t.size(&tmp)? {
            if n <= size {
                offset = n;
            }
        }
    }
    if job.args.mkdirs {
        t.mkdirs(parent_of(&dest).trim_end_matches(':'))?;
    }
    let free = match prefetched_free {
        Some(f) => Some(f),
        None => t.free_space(&dest),
    };
    if let Some(free) = free {
        let need = size - offset;
        if free < need {
            return Err(Fail::Msg(format!(
                "{}: not enough space for {dest}: {need} bytes to send, {free} bytes free",
                job.host
            )));
        }
        data["free_bytes"] = Value::from(free);
    }

    // A shell host checks size and checksum and renames in one exec (one login shell
    // instead of up to three), removing the copy itself when it is wrong. Over SFTP, a new
    // file checked by size needs no exec at all (stat and rename on the SFTP channel).
    let over_sftp = matches!(t, Target::Ssh { sftp: true, .. });
    let one_exec = t.shell()
        && job.args.verify != Verify::None
        && (algo.is_some() || !over_sftp || existing != RemoteSize::Absent);
    if one_exec {
        let mut sent = send(job, t, &local, size, &tmp, offset, algo, &mut local_sum)?;
        let expect = match algo {
            Some(a) => Some(match &local_sum {
                Some(s) => s.clone(),
                None => {
                    let s = local_digest(&local, a)
                        .map_err(|e| Fail::Msg(format!("src {}: {e}", local.display())))?;
                    local_sum = Some(s.clone());
                    s
                }
            }),
            None => None,
        };
        let mut resumed_from = offset;
        let mut checked =
            t.verify_and_rename_shell(&tmp, &dest, size, expect.as_deref(), algo, job.deadline)?;
        if checked.is_err() && offset > 0 {
            // The partial file came from something else: start over once.
            sent += send(job, t, &local, size, &tmp, 0, algo, &mut local_sum)?;
            resumed_from = 0;
            checked = t.verify_and_rename_shell(
                &tmp,
                &dest,
                size,
                expect.as_deref(),
                algo,
                job.deadline,
            )?;
        }
        if let Err(why) = checked {
            return Err(Fail::Msg(format!(
                "{}: verification of {dest} failed: {why}; the bad copy was removed",
                job.host
            )));
        }
        return Ok(uploaded(
            job,
            &local,
            &dest,
            size,
            sent,
            resumed_from,
            algo,
            &local_sum,
            true,
            atomic,
            data,
        ));
    }
    let mut sent_total = 0;
    let mut resumed_from = offset;
    // Whether the verification could read the copy's size (SCP to a device cannot).
    let mut size_known = false;
    for attempt in 0..2 {
        let sent = send(job, t, &local, size, &tmp, offset, algo, &mut local_sum)?;
        sent_total += sent;
        // Verify before the file takes the destination's name.
        match verify(job, t, &local, &tmp, size, algo, &mut local_sum)? {
            Ok(checked) => {
                size_known = checked;
                break;
            }
            Err(why) => {
                let removed = t.remove(&tmp);
                if offset > 0 && attempt == 0 {
                    // The partial file came from something else: start over.
                    offset = 0;
                    resumed_from = 0;
                    continue;
                }
                let where_ = match (atomic, removed) {
                    (true, _) => "the bad copy was removed".to_string(),
                    (false, Ok(())) => {
                        format!("the bad copy at {dest} was deleted from the device")
                    }
                    (false, Err(e)) => {
                        format!(
                            "{dest} on the device is bad and was not deleted ({}); remove or replace it",
                            e.reason()
                        )
                    }
                };
                return Err(Fail::Msg(format!(
                    "{}: verification of {dest} failed: {why}; {where_}",
                    job.host
                )));
            }
        }
    }
    if atomic {
        t.rename(&tmp, &dest, job.deadline, existing == RemoteSize::Absent)?;
    }
    Ok(uploaded(
        job,
        &local,
        &dest,
        size,
        sent_total,
        resumed_from,
        algo,
        &local_sum,
        size_known,
        atomic,
        data,
    ))
}

/// The result of a finished upload.
#[allow(clippy::too_many_arguments)]
fn uploaded(
    job: &Job<'_>,
    local: &Path,
    dest: &str,
    size: u64,
    sent_total: u64,
    resumed_from: u64,
    algo: Option<Algo>,
    local_sum: &Option<String>,
    size_known: bool,
    atomic: bool,
    mut data: Value,
) -> TaskResult {
    let proto = protocol_name(job.protocol);
    data["sent_bytes"] = Value::from(sent_total);
    if resumed_from > 0 {
        data["resumed_from"] = Value::from(resumed_from);
    }
    if let (Some(a), Some(sum)) = (algo, local_sum) {
        data[a.name()] = Value::from(sum.clone());
    }
    data["verified"] = Value::from(match algo {
        Some(a) => a.name(),
        None if job.args.verify == Verify::None => "none",
        None if size_known => "size",
        // SCP to a device without a checksum command: nothing could be checked.
        None => "none (the target can tell neither size nor checksum)",
    });
    let mut msg = format!(
        "sent {} to {dest} ({size} bytes over {proto}",
        local.display()
    );
    if resumed_from > 0 {
        msg.push_str(&format!(", resumed at byte {resumed_from}"));
    }
    msg.push(')');
    if !atomic {
        msg.push_str("; the target cannot rename, so the file was written in place and verified");
        data["atomic"] = Value::from(false);
    }
    result(Status::Changed, msg, data)
}

/// Send the local file from `offset` to `remote`.
/// With `hash` (and from byte 0) the file's checksum is computed on the way and stored in
/// `local_sum` when it is still unknown.
#[allow(clippy::too_many_arguments)] // the upload's state, threaded through its steps
fn send(
    job: &Job<'_>,
    t: &mut Target<'_>,
    local: &Path,
    size: u64,
    remote: &str,
    offset: u64,
    hash: Option<Algo>,
    local_sum: &mut Option<String>,
) -> Result<u64, Fail> {
    let mut file =
        File::open(local).map_err(|e| Fail::Msg(format!("src {}: {e}", local.display())))?;
    if offset > 0 {
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Fail::Msg(format!("src {}: {e}", local.display())))?;
    }
    let hasher = match hash {
        Some(a) if offset == 0 && local_sum.is_none() => Some(Hasher::new(a)),
        _ => None,
    };
    let mut f = HashingReader {
        inner: file,
        hasher,
    };
    let meter = Meter::new(job.env.progress, offset, size);
    let mut cb = |n: u64| meter.add(n);
    let mut pump = Pump {
        progress: Some(&mut cb),
        bandwidth: job.args.bandwidth,
        deadline: job.deadline,
    };
    let mode = job.args.mode;
    let sent = match t {
        Target::Ssh {
            conn,
            sftp: true,
            handle,
        } => sftp_of(conn, handle)?.upload(&mut f, remote, offset, mode, &mut pump)?,
        Target::Ssh {
            conn, sftp: false, ..
        } => scp::upload(
            conn.session(),
            &mut f,
            size,
            remote,
            mode.unwrap_or(0o644),
            &mut pump,
        )?,
        Target::Ftp(c) => c.upload(&mut f, remote, offset, &mut pump)?,
    };
    meter.finish();
    if let Some(h) = f.hasher.take() {
        *local_sum = Some(h.finish());
    }
    if mode.is_some() && t.shell() {
        if let (
            Target::Ssh {
                conn, sftp: false, ..
            },
            Some(m),
        ) = (&mut *t, mode)
        {
            let _ = conn.session().exec(
                &format!("chmod {m:o} -- {}", quote(remote)),
                conn.session().command_timeout(),
            );
        }
    }
    Ok(sent)
}

/// `Ok(Err(why))`: the copy is wrong; `Ok(Ok(true))` when its size could be checked.
fn verify(
    job: &Job<'_>,
    t: &mut Target<'_>,
    local: &Path,
    remote: &str,
    size: u64,
    algo: Option<Algo>,
    local_sum: &mut Option<String>,
) -> Result<Result<bool, String>, Fail> {
    if job.args.verify == Verify::None {
        return Ok(Ok(false));
    }
    let mut size_known = false;
    if let RemoteSize::Known(n) = t.size(remote)? {
        size_known = true;
        if n != size {
            return Ok(Err(format!(
                "size on the target is {n} bytes, expected {size}"
            )));
        }
    }
    let Some(a) = algo else {
        return Ok(Ok(size_known));
    };
    let l = match local_sum {
        Some(s) => s.clone(),
        None => {
            let s = local_digest(local, a)
                .map_err(|e| Fail::Msg(format!("src {}: {e}", local.display())))?;
            *local_sum = Some(s.clone());
            s
        }
    };
    match t.digest(remote, a, job.deadline + Duration::from_secs(60))? {
        Some(r) if r == l => Ok(Ok(size_known)),
        Some(r) => Ok(Err(format!(
            "{} on the target is {r}, expected {l}",
            a.name()
        ))),
        None => Ok(Err(format!(
            "the target could not compute the {} of the file",
            a.name()
        ))),
    }
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

fn download(
    job: &Job<'_>,
    t: &mut Target<'_>,
    src: &str,
    dest: &str,
    root: Option<&str>,
) -> Result<TaskResult, Fail> {
    let name = base_name(src).to_string();
    if name.is_empty() || name == ".." || name == "." {
        return Err(Fail::Msg(format!("src `{src}` does not name a file")));
    }
    let dest_is_dir = dest.ends_with('/') || dest == "." || Path::new(dest).is_dir();
    let local: PathBuf = match root {
        Some(root) => {
            let root_path = Path::new(root);
            if root_path.components().any(|c| c == Component::ParentDir) {
                return Err(Fail::Msg(format!(
                    "refused: the download folder `{root}` contains `..`"
                )));
            }
            let rel = if dest_is_dir {
                format!("{}/{name}", dest.trim_end_matches('/'))
            } else {
                dest.to_string()
            };
            safe_join(root_path, &rel).map_err(|e| Fail::Msg(format!("refused: {e}")))?
        }
        None if dest_is_dir => Path::new(dest).join(&name),
        None => PathBuf::from(dest),
    };
    let proto = protocol_name(job.protocol);
    let algo = t.algo(job.args.verify);
    let remote_size = match t.size(src)? {
        RemoteSize::Absent => {
            return Err(Fail::Msg(format!(
                "{}: {src}: no such file on the host",
                job.host
            )))
        }
        RemoteSize::Dir => {
            return Err(Fail::Msg(format!(
                "{}: {src} is a folder; download takes one file",
                job.host
            )))
        }
        RemoteSize::Known(n) => Some(n),
        RemoteSize::Unknown => None,
    };
    let mut data = json!({
        "src": src,
        "dest": local.display().to_string(),
        "protocol": proto,
    });
    if let Some(n) = remote_size {
        data["size"] = Value::from(n);
    }
    // Over FTP a checksum is a read-back: compare by size there unless asked otherwise.
    let remote_sum = match (algo, &*t) {
        (Some(a), Target::Ssh { .. }) => t.digest(src, a, job.deadline)?,
        _ => None,
    };
    if let (Some(a), Some(s)) = (algo, &remote_sum) {
        data[a.name()] = Value::from(s.clone());
    }
    if remote_size.is_none() && algo.is_some() && remote_sum.is_none() {
        // A device over SCP: its checksum command is the only way to see the file.
        return Err(Fail::Msg(format!(
            "{}: {src}: no such file on the device (its checksum command found none)",
            job.host
        )));
    }
    // Up to date already?
    if let Ok(m) = std::fs::metadata(&local) {
        let same_size = remote_size.is_none_or(|n| n == m.len());
        let same = same_size
            && match (algo, &remote_sum) {
                (Some(a), Some(r)) => local_digest(&local, a).ok().as_deref() == Some(r.as_str()),
                _ => remote_size.is_some(),
            };
        if same {
            return Ok(result(
                Status::Ok,
                format!("{} is already up to date", local.display()),
                data,
            ));
        }
    }
    if job.check {
        return Ok(result(
            Status::Changed,
            format!("would fetch {src} into {}", local.display()),
            data,
        ));
    }
    let parent = local.parent().map(Path::to_path_buf).unwrap_or_default();
    if !parent.as_os_str().is_empty() {
        std::fs::create_dir_all(&parent)
            .map_err(|e| Fail::Msg(format!("cannot create {}: {e}", parent.display())))?;
    }
    let part = parent.join(format!(
        ".{}{PART_SUFFIX}",
        local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    if let Ok(m) = std::fs::symlink_metadata(&part) {
        if m.file_type().is_symlink() {
            return Err(Fail::Msg(format!(
                "refused: {} is a symbolic link",
                part.display()
            )));
        }
    }
    let resumable = job.args.resume && matches!(t, Target::Ssh { sftp: true, .. } | Target::Ftp(_));
    let mut offset = 0;
    if resumable {
        if let (Ok(m), Some(n)) = (std::fs::metadata(&part), remote_size) {
            if m.len() <= n {
                offset = m.len();
            }
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(offset == 0)
        .open(&part)
        .map_err(|e| Fail::Msg(format!("cannot write {}: {e}", part.display())))?;
    if offset > 0 {
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Fail::Msg(format!("cannot write {}: {e}", part.display())))?;
    }
    let meter = Meter::new(job.env.progress, offset, remote_size.unwrap_or(0));
    let mut cb = |n: u64| meter.add(n);
    let mut pump = Pump {
        progress: Some(&mut cb),
        bandwidth: job.args.bandwidth,
        deadline: job.deadline,
    };
    // The pump's buffer is large already: write straight to the file.
    let w = &mut f;
    let got = match t {
        Target::Ssh {
            conn,
            sftp: true,
            handle,
        } => sftp_of(conn, handle)?.download(src, w, offset, &mut pump)?,
        Target::Ssh {
            conn, sftp: false, ..
        } => scp::download(conn.session(), src, w, &mut pump)?,
        Target::Ftp(c) => c.download(src, w, offset, &mut pump)?,
    };
    meter.finish();
    let _ = f.sync_all();
    drop(f);
    // Verify the local copy before it takes the final name.
    let total = offset + got;
    if let Some(n) = remote_size {
        if total != n && job.args.verify != Verify::None {
            let _ = std::fs::remove_file(&part);
            return Err(Fail::Msg(format!(
                "{}: {src}: received {total} bytes, the host says {n}",
                job.host
            )));
        }
    }
    if let (Some(a), Some(r)) = (algo, &remote_sum) {
        let l =
            local_digest(&part, a).map_err(|e| Fail::Msg(format!("{}: {e}", part.display())))?;
        if &l != r {
            let _ = std::fs::remove_file(&part);
            return Err(Fail::Msg(format!(
                "{}: verification of {src} failed: {} here is {l}, the host says {r}; the bad copy was removed",
                job.host,
                a.name()
            )));
        }
    }
    if let Some(m) = job.args.mode {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&part, std::fs::Permissions::from_mode(m));
    }
    std::fs::rename(&part, &local)
        .map_err(|e| Fail::Msg(format!("cannot move {} into place: {e}", part.display())))?;
    data["received_bytes"] = Value::from(got);
    if offset > 0 {
        data["resumed_from"] = Value::from(offset);
    }
    Ok(result(
        Status::Changed,
        format!(
            "fetched {src} into {} ({total} bytes over {proto})",
            local.display()
        ),
        data,
    ))
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
        assert_eq!(base_name("flash:/fw.bin"), "fw.bin");
        assert_eq!(base_name("bootflash:x"), "x");
        assert_eq!(part_name("/tmp/x/fw.bin"), "/tmp/x/.fw.bin.netorch-part");
        assert_eq!(part_name("fw.bin"), ".fw.bin.netorch-part");
    }

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

    #[test]
    fn free_space_parsers() {
        let df = "Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda1 100 50 42 50% /\n";
        assert_eq!(parse_df(df), Some(42 * 1024));
        let ios = "Directory of flash:/\n    1  -rw-  1234  <no date>  x.bin\n\n16777216 bytes total (15000000 bytes free)\n";
        assert_eq!(parse_bytes_free(ios), Some(15_000_000));
        assert_eq!(parse_bytes_free("nothing"), None);
    }

    #[test]
    fn digests_and_quoting() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"abc").unwrap();
        assert_eq!(
            local_digest(&p, Algo::Md5).unwrap(),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            local_digest(&p, Algo::Sha256).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(
            first_hex(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  f\n",
                Algo::Sha256
            )
            .as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
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
