//! SCP over a host's existing SSH session (libssh2's `scp -t` / `scp -f`), for targets that
//! speak nothing else: most network devices, with paths such as `flash:/fw.bin`,
//! `bootflash:x`, `disk0:x`.
//!
//! SCP has no rename, stat or resume: the caller verifies with the platform's checksum
//! command before declaring success.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use super::copy::{IoHooks, Pump, PumpError, SSH_CHUNK_BYTES};
use super::sftp::deadline_err;
use super::ssh::{set_deadline, SshSession};
use super::TransportError;

fn scp_err(host: &str, op: &str, path: &str, e: &ssh2::Error) -> TransportError {
    scp_msg_err(host, op, path, e.message())
}

fn scp_msg_err(host: &str, op: &str, path: &str, msg: &str) -> TransportError {
    let msg = msg.trim();
    let mut reason = msg.to_string();
    let lower = msg.to_ascii_lowercase();
    if lower.contains("permission denied") {
        reason = format!("permission denied ({msg})");
    } else if lower.contains("no such file") {
        reason = format!("no such file or folder ({msg})");
    } else if lower.contains("no space") || lower.contains("disk full") {
        reason = format!("no space left on the device ({msg})");
    }
    TransportError::Remote {
        host: host.to_string(),
        op: op.to_string(),
        path: path.to_string(),
        reason,
    }
}

fn pump_err(
    host: &str,
    e: PumpError,
    op: &str,
    path: &str,
    deadline: Instant,
    started: Instant,
    remote_is_reader: bool,
) -> TransportError {
    match e {
        PumpError::Deadline => deadline_err(
            host,
            &format!("transfer of {path}"),
            deadline.saturating_duration_since(started).as_secs_f64(),
        ),
        PumpError::Read(e) if remote_is_reader => TransportError::Remote {
            host: host.to_string(),
            op: op.to_string(),
            path: path.to_string(),
            reason: format!("connection lost: {e}"),
        },
        PumpError::Write(e) if !remote_is_reader => TransportError::Remote {
            host: host.to_string(),
            op: op.to_string(),
            path: path.to_string(),
            reason: format!("connection lost: {e}"),
        },
        PumpError::Read(e) | PumpError::Write(e) => TransportError::Local {
            host: host.to_string(),
            reason: e.to_string(),
        },
    }
}

/// Send `size` bytes of `src` to `remote` with permission bits `mode`.
pub fn upload(
    ssh: &SshSession,
    src: &mut dyn Read,
    size: u64,
    remote: &str,
    mode: u32,
    pump: &mut Pump<'_>,
) -> Result<u64, TransportError> {
    let host = ssh.host();
    let session = ssh.session().clone();
    set_deadline(&session, Instant::now() + ssh.command_timeout());
    let mut ch = session
        .scp_send(Path::new(remote), (mode & 0o777) as i32, size, None)
        .map_err(|e| scp_err(host, "send", remote, &e))?;
    let before = {
        let s = session.clone();
        move |d: Instant| {
            set_deadline(&s, d);
        }
    };
    let started = Instant::now();
    let sent = pump
        .copy(
            src,
            &mut ch,
            Some(size),
            IoHooks {
                chunk: SSH_CHUNK_BYTES,
                before_io: Some(&before),
                retry_timeouts: true,
            },
        )
        .map_err(|e| pump_err(host, e, "send", remote, pump.deadline, started, false))?;
    if sent != size {
        return Err(TransportError::Local {
            host: host.to_string(),
            reason: format!("the file changed while it was sent ({sent} of {size} bytes)"),
        });
    }
    set_deadline(&session, Instant::now() + ssh.command_timeout());
    let what = format!("finishing the SCP upload of {remote}");
    let lost = |e: ssh2::Error| TransportError::Session {
        host: host.to_string(),
        what: what.clone(),
        reason: e.message().to_string(),
    };
    ch.send_eof().map_err(lost)?;
    // What the remote end said after the data: an OpenSSH sink reports a write error
    // (full disk) here as `\x01scp: ...`.
    let mut tail = Vec::new();
    let _ = ch.read_to_end(&mut tail);
    let mut err_text = Vec::new();
    let _ = ch.stderr().read_to_end(&mut err_text);
    let _ = ch.wait_eof();
    let _ = ch.close();
    let _ = ch.wait_close();
    let status = ch.exit_status().unwrap_or(0);
    let said = String::from_utf8_lossy(&tail)
        .trim_matches(|c: char| c.is_control() || c.is_whitespace())
        .to_string();
    let err_text = String::from_utf8_lossy(&err_text).trim().to_string();
    if said.to_ascii_lowercase().contains("scp:")
        || (status != 0 && (!said.is_empty() || !err_text.is_empty()))
    {
        let msg = if said.is_empty() { err_text } else { said };
        return Err(scp_msg_err(host, "send", remote, &msg));
    }
    Ok(sent)
}

/// Receive `remote` into `dst`; returns the bytes received.
pub fn download(
    ssh: &SshSession,
    remote: &str,
    dst: &mut dyn Write,
    pump: &mut Pump<'_>,
) -> Result<u64, TransportError> {
    let host = ssh.host();
    let session = ssh.session().clone();
    set_deadline(&session, Instant::now() + ssh.command_timeout());
    let (mut ch, stat) = session
        .scp_recv(Path::new(remote))
        .map_err(|e| scp_err(host, "receive", remote, &e))?;
    let size = stat.size();
    let before = {
        let s = session.clone();
        move |d: Instant| {
            set_deadline(&s, d);
        }
    };
    let started = Instant::now();
    let got = pump
        .copy(
            &mut ch,
            dst,
            Some(size),
            IoHooks {
                chunk: SSH_CHUNK_BYTES,
                before_io: Some(&before),
                retry_timeouts: true,
            },
        )
        .map_err(|e| pump_err(host, e, "receive", remote, pump.deadline, started, true))?;
    if got != size {
        return Err(TransportError::Remote {
            host: host.to_string(),
            op: "receive".into(),
            path: remote.to_string(),
            reason: format!("the connection ended after {got} of {size} bytes"),
        });
    }
    set_deadline(&session, Instant::now() + ssh.command_timeout());
    let _ = ch.send_eof();
    let _ = ch.wait_eof();
    let _ = ch.close();
    let _ = ch.wait_close();
    Ok(got)
}

/// Run `cmd` on an exec channel until it ends or `deadline` passes, for commands that may
/// run long (a checksum of a 1 GiB image, a rename on a busy box). A blocking libssh2 wait
/// longer than the keepalive interval returns "timed out waiting on socket" although
/// nothing is wrong; such reads are repeated until the real deadline.
pub fn exec_long(
    ssh: &SshSession,
    cmd: &str,
    deadline: Instant,
) -> Result<super::ExecOutput, TransportError> {
    let host = ssh.host();
    let session = ssh.session().clone();
    let what = format!("command `{cmd}`");
    let started = Instant::now();
    let lost = |e: ssh2::Error| TransportError::Session {
        host: host.to_string(),
        what: what.clone(),
        reason: e.message().to_string(),
    };
    set_deadline(&session, deadline);
    let mut ch = session.channel_session().map_err(lost)?;
    ch.exec(cmd).map_err(lost)?;
    let read_all = |r: &mut dyn Read, out: &mut Vec<u8>| -> Result<(), TransportError> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            if !set_deadline(&session, deadline) {
                return Err(deadline_err(
                    host,
                    &what,
                    deadline.saturating_duration_since(started).as_secs_f64(),
                ));
            }
            match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                    ) => {}
                Err(e) => {
                    return Err(TransportError::Session {
                        host: host.to_string(),
                        what: what.clone(),
                        reason: format!("connection lost: {e}"),
                    })
                }
            }
        }
    };
    let mut stdout = Vec::new();
    read_all(&mut ch.stream(0), &mut stdout)?;
    let mut stderr = Vec::new();
    read_all(&mut ch.stderr(), &mut stderr)?;
    set_deadline(&session, Instant::now() + ssh.command_timeout());
    let _ = ch.wait_close();
    let exit_status = ch.exit_status().unwrap_or(-1);
    Ok(super::ExecOutput {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        exit_status,
    })
}
