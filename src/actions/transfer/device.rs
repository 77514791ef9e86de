//! The network-device backend: a device's CLI over SSH, with bytes by SCP. What a device
//! can do besides receiving a file is data in its platform profile: the checksum command
//! (`verify /md5 {path}`) and the pattern that finds the sum in its output, the delete
//! command, and the free-space command (`dir {filesystem}`). SCP to a device cannot stat or
//! rename, so uploads are written in place and verified by checksum. Also the command side
//! of SFTP to a device.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use super::digest::Algo;
use super::remote::{scp_send, RemoteFiles, RemoteSize};
use super::TransferFailure;
use crate::actions::device_failure;
use crate::actions::Verify;
use crate::device::Connection;
use crate::transport::copy::Pump;
use crate::transport::scp;

pub(super) struct DeviceFiles<'c> {
    conn: &'c mut Connection,
}

impl<'c> DeviceFiles<'c> {
    pub(super) fn new(conn: &'c mut Connection) -> DeviceFiles<'c> {
        DeviceFiles { conn }
    }

    pub(super) fn connection(&self) -> &Connection {
        self.conn
    }

    fn command_timeout(&self) -> Duration {
        self.conn.command_timeout()
    }
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

/// Whether a device's complaint about a file command means the file is not there (as
/// opposed to the command not being understood).
fn says_file_missing(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "no such file",
        "does not exist",
        "could not resolve",
        "cannot find",
        "can't find",
        "error opening",
        "file not found",
        "path not found",
    ]
    .iter()
    .any(|p| t.contains(p))
}

impl RemoteFiles for DeviceFiles<'_> {
    /// Whatever the task asked for, the device computes what its command computes.
    fn algo(&self, verify: Verify) -> Option<Algo> {
        Algo::wanted(verify)?;
        let profile = self.conn.profile();
        let cmd = profile.checksum.as_deref()?;
        profile.checksum_pattern.as_ref()?;
        Some(Algo::of_command(cmd))
    }

    fn size(&mut self, _path: &str) -> Result<RemoteSize, TransferFailure> {
        Ok(RemoteSize::Unknown)
    }

    fn free_space(&mut self, dest: &str) -> Option<u64> {
        let cmd = self.conn.profile().free_space.clone()?;
        let filesystem = match dest.find(':') {
            Some(i) => &dest[..=i],
            None => "",
        };
        let cmd = cmd
            .replace("{filesystem}", filesystem)
            .replace("{path}", dest);
        let timeout = self.command_timeout();
        let resp = self.conn.run_command(cmd.trim(), timeout).ok()?;
        if resp.failed.is_some() {
            return None;
        }
        parse_bytes_free(&resp.output)
    }

    fn digest(
        &mut self,
        path: &str,
        _algo: Algo,
        deadline: Instant,
    ) -> Result<Option<String>, TransferFailure> {
        let profile = self.conn.profile();
        let (Some(cmd), Some(pattern)) =
            (profile.checksum.clone(), profile.checksum_pattern.clone())
        else {
            return Ok(None);
        };
        let cmd = cmd.replace("{path}", path);
        let timeout = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1));
        let output = match self.conn.run_command(&cmd, timeout) {
            Ok(resp) => match resp.failed {
                Some(why) if says_file_missing(&why) || says_file_missing(&resp.output) => {
                    return Ok(None)
                }
                // The device refused the command itself (not in its CLI, a syntax it does
                // not take): its own words, not a "no such file" that sends users looking
                // for a file that is there.
                Some(why) => {
                    return Err(TransferFailure::Message(format!(
                        "the device refused its checksum command `{cmd}`: {why}"
                    )))
                }
                None => resp.output,
            },
            // The CLI session may have been closed by the device's idle timeout while a
            // long transfer ran on the SSH session: ask on an exec channel.
            Err(e) => match self.conn.ssh("exec").map(|s| s.exec(&cmd, timeout)) {
                Ok(Ok(out)) => out.stdout,
                _ => return Err(TransferFailure::Device(device_failure(&e))),
            },
        };
        Ok(pattern
            .captures(&output)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_ascii_lowercase()))
    }

    /// Device filesystems: folders are made on the device if needed.
    fn mkdirs(&mut self, _dir: &str) -> Result<(), TransferFailure> {
        Ok(())
    }

    /// The profile's delete command, which must not ask for confirmation.
    fn remove(&mut self, path: &str) -> Result<(), TransferFailure> {
        let Some(cmd) = self.conn.profile().delete.clone() else {
            return Err(TransferFailure::Message(format!(
                "platform `{}` has no delete command",
                self.conn.profile().name
            )));
        };
        let cmd = cmd.replace("{path}", path);
        let timeout = self.command_timeout();
        match self.conn.run_command(&cmd, timeout) {
            Ok(resp) => match resp.failed {
                None => Ok(()),
                Some(f) => Err(TransferFailure::Message(format!("`{cmd}` failed: {f}"))),
            },
            Err(e) => Err(TransferFailure::Device(device_failure(&e))),
        }
    }

    fn can_rename(&self) -> bool {
        false
    }

    fn rename(
        &mut self,
        _tmp: &str,
        _dest: &str,
        _deadline: Instant,
        _dest_absent: bool,
    ) -> Result<(), TransferFailure> {
        Ok(())
    }

    fn send(
        &mut self,
        src: &mut dyn Read,
        size: u64,
        path: &str,
        _offset: u64,
        mode: Option<u32>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure> {
        scp_send(super::ssh_of(self.conn)?, src, size, path, mode, pump)
    }

    fn fetch(
        &mut self,
        path: &str,
        dst: &mut dyn Write,
        _offset: u64,
        // SCP announces the size itself and reads exactly that much.
        _limit: Option<u64>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure> {
        Ok(scp::download(super::ssh_of(self.conn)?, path, dst, pump)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_told_from_a_refused_command() {
        assert!(says_file_missing(
            "%Error opening flash:/x.bin (No such file or directory)"
        ));
        assert!(says_file_missing(
            "error: could not resolve file: /var/tmp/x"
        ));
        assert!(!says_file_missing("unknown command."));
        assert!(!says_file_missing(
            "% Invalid input detected at '^' marker."
        ));
    }

    #[test]
    fn free_space_parser() {
        let ios = "Directory of flash:/\n    1  -rw-  1234  <no date>  x.bin\n\n16777216 bytes total (15000000 bytes free)\n";
        assert_eq!(parse_bytes_free(ios), Some(15_000_000));
        assert_eq!(parse_bytes_free("nothing"), None);
    }
}
