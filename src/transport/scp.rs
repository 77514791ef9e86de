//! SCP over a host's existing SSH session (libssh2's `scp -t` / `scp -f`), for targets that
//! speak nothing else: most network devices, with paths such as `flash:/fw.bin`,
//! `bootflash:x`, `disk0:x`.
//!
//! SCP has no rename, stat or resume: the caller verifies with the platform's checksum
//! command before declaring success.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use super::copy::{CopySite, IoHooks, Pump};
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

/// A failed read or write on the SCP channel: the session or the peer went away.
fn lost(e: &std::io::Error) -> String {
    format!("connection lost: {e}")
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
    let site = CopySite::starting(host, "send", remote, false, pump);
    let sent = pump
        .copy(src, &mut ch, Some(size), IoHooks::ssh(&session))
        .map_err(|e| e.at(&site, lost))?;
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
    let site = CopySite::starting(host, "receive", remote, true, pump);
    let got = pump
        .copy(&mut ch, dst, Some(size), IoHooks::ssh(&session))
        .map_err(|e| e.at(&site, lost))?;
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
