//! What a transfer needs from the other side, whatever the backend: the [`RemoteFiles`]
//! trait, with one implementation per backend (`sftp.rs`, `shell.rs`, `device.rs`,
//! `ftp.rs`), and the small types its answers come in.
//!
//! Backends differ in what they can do at all (SCP to a device can neither stat nor rename;
//! FTP has no checksum command), so the trait says so through its answers (`Unknown` sizes,
//! `None` free space, `can_rename`) and the upload and download steps decide from those,
//! never from which backend they hold.

use std::io::{Read, Write};
use std::time::Instant;

use super::digest::Algo;
use super::TransferFailure;
use crate::actions::Verify;
use crate::transport::copy::Pump;
use crate::transport::scp;
use crate::transport::ssh::SshSession;

/// What a remote stat found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RemoteSize {
    Known(u64),
    Absent,
    Dir,
    /// The target cannot stat (SCP to a device): go by checksum.
    Unknown,
}

/// Whether a copy on the target turned out right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CopyVerdict {
    /// The copy matches; `size_checked` says whether its size could be read (SCP to a
    /// device cannot), which the result reports as what was verified.
    Sound { size_checked: bool },
    /// The copy is wrong, and why (sizes or checksums, in words).
    Bad(String),
}

/// Send over SCP, the byte mover of the shell and device backends. SCP cannot resume, so
/// there is no offset; the file gets the task's mode, else 0644.
pub(super) fn scp_send(
    session: &SshSession,
    src: &mut dyn Read,
    size: u64,
    path: &str,
    mode: Option<u32>,
    pump: &mut Pump<'_>,
) -> Result<u64, TransferFailure> {
    Ok(scp::upload(
        session,
        src,
        size,
        path,
        mode.unwrap_or(0o644),
        pump,
    )?)
}

/// The file operations of one backend on one host, for one transfer.
pub(super) trait RemoteFiles {
    /// The checksum this backend can compute, given what the task asked for.
    fn algo(&self, verify: Verify) -> Option<Algo>;

    /// The size of a remote file; `Err` only for real failures.
    fn size(&mut self, path: &str) -> Result<RemoteSize, TransferFailure>;

    /// `size`, plus the free bytes beside `path` when a backend gets both in one round
    /// trip (then `free_space` need not be asked).
    fn size_and_free(&mut self, path: &str) -> Result<(RemoteSize, Option<u64>), TransferFailure> {
        Ok((self.size(path)?, None))
    }

    /// Free bytes where `dest` goes; `None` when the target cannot tell.
    fn free_space(&mut self, dest: &str) -> Option<u64>;

    /// The checksum of a remote file; `None` when it does not exist (or the target could
    /// not read it).
    fn digest(
        &mut self,
        path: &str,
        algo: Algo,
        deadline: Instant,
    ) -> Result<Option<String>, TransferFailure>;

    /// True when `digest` reads the whole file back over the wire (FTP), so it is worth
    /// skipping where a size will do.
    fn digest_reads_back(&self) -> bool {
        false
    }

    /// Create `dir` (not empty) and its missing parents.
    fn mkdirs(&mut self, dir: &str) -> Result<(), TransferFailure>;

    fn remove(&mut self, path: &str) -> Result<(), TransferFailure>;

    /// False when the backend cannot rename (SCP to a device): uploads are then written in
    /// place and verified there.
    fn can_rename(&self) -> bool {
        true
    }

    /// Move `tmp` onto `dest`, atomically where the target allows. Bounded by the
    /// transfer's deadline (at least the command timeout): a busy host that took the
    /// whole file must not fail it on the last step.
    /// `dest_absent`: nothing was at `dest` when the transfer started.
    fn rename(
        &mut self,
        tmp: &str,
        dest: &str,
        deadline: Instant,
        dest_absent: bool,
    ) -> Result<(), TransferFailure>;

    /// True when a partial file can be continued at an offset (SFTP, FTP).
    fn can_resume(&self) -> bool {
        false
    }

    /// Write `src` (`size` bytes in all) to `path` from byte `offset` (the caller has
    /// skipped `offset` bytes of `src` already), with permission bits `mode` where the
    /// backend can set them. Returns the bytes sent.
    fn send(
        &mut self,
        src: &mut dyn Read,
        size: u64,
        path: &str,
        offset: u64,
        mode: Option<u32>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure>;

    /// Read `path` from byte `offset` into `dst`, at most `limit` bytes (what the server
    /// said is left: a file that keeps growing must not be read until the deadline).
    /// Returns the bytes received.
    fn fetch(
        &mut self,
        path: &str,
        dst: &mut dyn Write,
        offset: u64,
        limit: Option<u64>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure>;

    /// Give a file that was already up to date the task's mode, where the backend can do
    /// so without a shell (SFTP); elsewhere the mode is only set on files it sends.
    fn set_mode(&mut self, _path: &str, _mode: u32) -> Result<(), TransferFailure> {
        Ok(())
    }

    /// True when `verify_and_rename` is the cheaper way to finish an upload checked with
    /// `algo` (a shell host checks and renames in one exec instead of up to three).
    fn prefers_combined_finish(&self, _algo: Option<Algo>, _dest_absent: bool) -> bool {
        false
    }

    /// Check `tmp`'s size (and checksum when `expect` is given), then move it onto `dest`;
    /// a wrong copy is removed there and then. `Sound` means it is in place.
    fn verify_and_rename(
        &mut self,
        _tmp: &str,
        _dest: &str,
        _size: u64,
        _expect: Option<&str>,
        _algo: Option<Algo>,
        _deadline: Instant,
    ) -> Result<CopyVerdict, TransferFailure> {
        Ok(CopyVerdict::Bad("internal: not a shell host".into()))
    }

    /// End the session when the backend owns one (FTP); errors do not matter any more.
    fn close(self: Box<Self>) {}
}
