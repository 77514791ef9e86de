//! The SFTP backend: bytes, stats, folders, renames and removals on one SFTP channel,
//! opened on first use and kept for the whole transfer (each open is several round trips:
//! channel, subsystem, version exchange). What SFTP cannot do, checksums above all, is
//! asked of the host's other side: its shell ([`ShellFiles`]) or its CLI
//! ([`DeviceFiles`]).

use std::io::{Read, Write};
use std::time::Instant;

use super::device::DeviceFiles;
use super::digest::Algo;
use super::paths::folder_or_cwd;
use super::remote::{CopyVerdict, RemoteFiles, RemoteSize};
use super::shell::ShellFiles;
use super::TransferFailure;
use crate::actions::Verify;
use crate::transport::copy::Pump;
use crate::transport::sftp::Sftp;

/// Who answers beside the SFTP channel.
pub(super) enum CommandSide<'c> {
    Shell(ShellFiles<'c>),
    Device(DeviceFiles<'c>),
}

impl CommandSide<'_> {
    fn files(&mut self) -> &mut dyn RemoteFiles {
        match self {
            CommandSide::Shell(shell) => shell,
            CommandSide::Device(device) => device,
        }
    }

    fn files_ref(&self) -> &dyn RemoteFiles {
        match self {
            CommandSide::Shell(shell) => shell,
            CommandSide::Device(device) => device,
        }
    }
}

pub(super) struct SftpFiles<'c> {
    commands: CommandSide<'c>,
    channel: Option<Sftp>,
}

impl<'c> SftpFiles<'c> {
    pub(super) fn new(commands: CommandSide<'c>) -> SftpFiles<'c> {
        SftpFiles {
            commands,
            channel: None,
        }
    }

    fn channel(&mut self) -> Result<&Sftp, TransferFailure> {
        let channel = match self.channel.take() {
            Some(channel) => channel,
            None => {
                let conn = match &self.commands {
                    CommandSide::Shell(shell) => shell.connection(),
                    CommandSide::Device(device) => device.connection(),
                };
                Sftp::open(super::ssh_of(conn)?)?
            }
        };
        Ok(self.channel.insert(channel))
    }
}

impl RemoteFiles for SftpFiles<'_> {
    fn algo(&self, verify: Verify) -> Option<Algo> {
        self.commands.files_ref().algo(verify)
    }

    fn size(&mut self, path: &str) -> Result<RemoteSize, TransferFailure> {
        Ok(match self.channel()?.stat(path)? {
            Some(st) if st.is_dir => RemoteSize::Dir,
            Some(st) if st.is_special => {
                return Err(TransferFailure::Message(format!(
                    "{path} is not a regular file (a device, FIFO or socket); transfers \
                     take regular files"
                )))
            }
            Some(st) => RemoteSize::Known(st.size),
            None => RemoteSize::Absent,
        })
    }

    fn free_space(&mut self, dest: &str) -> Option<u64> {
        if let CommandSide::Shell(_) = self.commands {
            let dir = folder_or_cwd(dest);
            // statvfs answers on the channel already open; `df` needs an exec channel and a
            // login shell, which can take far longer (a slow .bashrc).
            if let Some(free) = self.channel().ok()?.free_space(dir) {
                return Some(free);
            }
        }
        self.commands.files().free_space(dest)
    }

    fn digest(
        &mut self,
        path: &str,
        algo: Algo,
        deadline: Instant,
    ) -> Result<Option<String>, TransferFailure> {
        self.commands.files().digest(path, algo, deadline)
    }

    fn mkdirs(&mut self, dir: &str) -> Result<(), TransferFailure> {
        Ok(self.channel()?.mkdirs(dir)?)
    }

    fn remove(&mut self, path: &str) -> Result<(), TransferFailure> {
        Ok(self.channel()?.remove(path)?)
    }

    /// A destination that was absent takes a plain SFTP rename: atomic (it refuses to
    /// replace a file that appeared since, and the fallback takes over), and it saves an
    /// exec channel and a login shell. Replacing goes through the shell's `mv`, which is
    /// atomic where SFTP v3 is not; a device has only SFTP's.
    fn rename(
        &mut self,
        tmp: &str,
        dest: &str,
        deadline: Instant,
        dest_absent: bool,
    ) -> Result<(), TransferFailure> {
        if dest_absent && self.channel()?.rename_new(tmp, dest).is_ok() {
            return Ok(());
        }
        match &mut self.commands {
            CommandSide::Shell(shell) => shell.rename(tmp, dest, deadline, dest_absent),
            CommandSide::Device(_) => Ok(self.channel()?.rename(tmp, dest)?),
        }
    }

    fn can_resume(&self) -> bool {
        true
    }

    fn send(
        &mut self,
        src: &mut dyn Read,
        _size: u64,
        path: &str,
        offset: u64,
        mode: Option<u32>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure> {
        Ok(self.channel()?.upload(src, path, offset, mode, pump)?)
    }

    fn fetch(
        &mut self,
        path: &str,
        dst: &mut dyn Write,
        offset: u64,
        limit: Option<u64>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransferFailure> {
        Ok(self.channel()?.download(path, dst, offset, limit, pump)?)
    }

    fn set_mode(&mut self, path: &str, mode: u32) -> Result<(), TransferFailure> {
        Ok(self.channel()?.chmod(path, mode)?)
    }

    /// A new file checked by size needs no exec at all (stat and rename on the channel).
    fn prefers_combined_finish(&self, algo: Option<Algo>, dest_absent: bool) -> bool {
        matches!(self.commands, CommandSide::Shell(_)) && (algo.is_some() || !dest_absent)
    }

    fn verify_and_rename(
        &mut self,
        tmp: &str,
        dest: &str,
        size: u64,
        expect: Option<&str>,
        algo: Option<Algo>,
        deadline: Instant,
    ) -> Result<CopyVerdict, TransferFailure> {
        self.commands
            .files()
            .verify_and_rename(tmp, dest, size, expect, algo, deadline)
    }
}
