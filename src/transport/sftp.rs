//! SFTP over a host's existing SSH session (libssh2's SFTP): streamed, pipelined uploads and
//! downloads with resume offsets, stat, mkdirs, chmod, rename and remove.
//!
//! Every remote failure is a [`TransportError::Remote`] naming the host, the path and what
//! was being done, with the SFTP status in words ("permission denied", "no space left").

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Instant;

use ssh2::{ErrorCode, FileStat, OpenFlags, OpenType, RenameFlags};

use super::copy::{CopySite, IoHooks, Pump};
use super::ssh::{set_deadline, SshSession};
use super::TransportError;

/// SFTP status codes (draft-ietf-secsh-filexfer-02 and later) netorch tells apart.
const FX_NO_SUCH_FILE: i32 = 2;
const FX_PERMISSION_DENIED: i32 = 3;
const FX_FAILURE: i32 = 4;
const FX_NO_SPACE: i32 = 14;
const FX_QUOTA: i32 = 15;
const FX_FILE_ALREADY_EXISTS: i32 = 11;

/// What a remote stat says about a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteStat {
    pub size: u64,
    pub is_dir: bool,
    /// Neither a regular file nor a folder (a device, FIFO or socket): its size means
    /// nothing and reading it may never end.
    pub is_special: bool,
    pub mode: Option<u32>,
}

/// An SFTP channel on a host's session.
/// Owns what it needs (the session handle is shared, not borrowed) so a transfer can keep
/// one SFTP channel open across its stat, upload, verify and rename instead of opening a
/// channel per step.
pub struct Sftp {
    session: ssh2::Session,
    host: String,
    timeout: std::time::Duration,
    sftp: ssh2::Sftp,
}

impl std::fmt::Debug for Sftp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sftp").field("host", &self.host).finish()
    }
}

/// An ssh2 error during a file operation, in words.
pub(crate) fn remote_err(host: &str, op: &str, path: &str, e: &ssh2::Error) -> TransportError {
    let reason = match e.code() {
        ErrorCode::SFTP(FX_NO_SUCH_FILE) => "no such file or folder".to_string(),
        ErrorCode::SFTP(FX_PERMISSION_DENIED) => "permission denied".to_string(),
        ErrorCode::SFTP(FX_NO_SPACE) => "no space left on the device".to_string(),
        ErrorCode::SFTP(FX_QUOTA) => "quota exceeded".to_string(),
        ErrorCode::SFTP(FX_FILE_ALREADY_EXISTS) => "the file already exists".to_string(),
        ErrorCode::SFTP(FX_FAILURE) => {
            "the server refused (SFTP failure: often a full disk or a read-only filesystem)"
                .to_string()
        }
        ErrorCode::Session(-9) => "timed out".to_string(),
        _ => e.message().to_string(),
    };
    TransportError::Remote {
        host: host.to_string(),
        op: op.to_string(),
        path: path.to_string(),
        reason,
    }
}

fn io_remote(host: &str, op: &str, path: &str, e: &std::io::Error) -> TransportError {
    TransportError::Remote {
        host: host.to_string(),
        op: op.to_string(),
        path: path.to_string(),
        reason: io_reason(e),
    }
}

fn io_reason(e: &std::io::Error) -> String {
    // ssh2's io::Error wraps the ssh2::Error; keep its words.
    let text = e.to_string();
    if text.contains("SFTP(4)") || text.contains("failure") {
        format!("{text} (often a full disk or a read-only filesystem)")
    } else {
        text
    }
}

impl Sftp {
    /// Open the SFTP subsystem on `ssh`'s session.
    pub fn open(ssh: &SshSession) -> Result<Sftp, TransportError> {
        set_deadline(ssh.session(), Instant::now() + ssh.command_timeout());
        let sftp = ssh.session().sftp().map_err(|e| TransportError::Session {
            host: ssh.host().to_string(),
            what: "starting SFTP".into(),
            reason: format!(
                "{} (the server may not offer the sftp subsystem; try protocol: scp)",
                e.message()
            ),
        })?;
        Ok(Sftp {
            session: ssh.session().clone(),
            host: ssh.host().to_string(),
            timeout: ssh.command_timeout(),
            sftp,
        })
    }

    fn host(&self) -> &str {
        &self.host
    }

    fn short_deadline(&self) {
        set_deadline(&self.session, Instant::now() + self.timeout);
    }

    /// `None` when nothing is at `path`.
    pub fn stat(&self, path: &str) -> Result<Option<RemoteStat>, TransportError> {
        self.short_deadline();
        match self.sftp.stat(Path::new(path)) {
            Ok(st) => Ok(Some(RemoteStat {
                size: st.size.unwrap_or(0),
                is_dir: st.is_dir(),
                is_special: !st.is_dir() && !st.is_file(),
                mode: st.perm.map(|p| p & 0o7777),
            })),
            Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => Ok(None),
            Err(e) => Err(remote_err(self.host(), "stat", path, &e)),
        }
    }

    /// Create `dir` and its missing parents (like `mkdir -p`).
    pub fn mkdirs(&self, dir: &str) -> Result<(), TransportError> {
        let mut prefix = String::new();
        if dir.starts_with('/') {
            prefix.push('/');
        }
        for part in dir.split('/').filter(|p| !p.is_empty() && *p != ".") {
            if !prefix.is_empty() && !prefix.ends_with('/') {
                prefix.push('/');
            }
            prefix.push_str(part);
            match self.stat(&prefix)? {
                Some(st) if st.is_dir => continue,
                Some(_) => {
                    return Err(TransportError::Remote {
                        host: self.host().to_string(),
                        op: "create folder".into(),
                        path: prefix,
                        reason: "a file is in the way".into(),
                    })
                }
                None => {
                    self.short_deadline();
                    if let Err(e) = self.sftp.mkdir(Path::new(&prefix), 0o755) {
                        // Another worker may have made it meanwhile.
                        if !matches!(self.stat(&prefix), Ok(Some(st)) if st.is_dir) {
                            return Err(remote_err(self.host(), "create folder", &prefix, &e));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Write `src` to `remote`, starting at byte `offset` of the remote file (resume: the
    /// caller has already skipped `offset` bytes of `src`). Creates or truncates when
    /// `offset` is 0. Returns the bytes sent.
    pub fn upload(
        &self,
        src: &mut dyn Read,
        remote: &str,
        offset: u64,
        mode: Option<u32>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransportError> {
        self.short_deadline();
        let mut flags = OpenFlags::WRITE | OpenFlags::CREATE;
        if offset == 0 {
            flags |= OpenFlags::TRUNCATE;
        }
        let perm = mode.unwrap_or(0o644) as i32;
        let mut file = self
            .sftp
            .open_mode(Path::new(remote), flags, perm, OpenType::File)
            .map_err(|e| remote_err(self.host(), "open for writing", remote, &e))?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| io_remote(self.host(), "seek", remote, &e))?;
        }
        let site = CopySite::starting(self.host(), "write", remote, false, pump);
        let sent = pump
            .copy(src, &mut file, None, IoHooks::ssh(&self.session))
            .map_err(|e| e.at(&site, io_reason))?;
        self.short_deadline();
        if let Some(m) = mode {
            let st = FileStat {
                size: None,
                uid: None,
                gid: None,
                perm: Some(m),
                atime: None,
                mtime: None,
            };
            file.setstat(st)
                .map_err(|e| remote_err(self.host(), "set the mode of", remote, &e))?;
        }
        // Closing reports a failed final write (e.g. the disk filled on the last block).
        file.close()
            .map_err(|e| remote_err(self.host(), "close", remote, &e))?;
        Ok(sent)
    }

    /// Read `remote` from byte `offset` into `dst`. Returns the bytes read.
    pub fn download(
        &self,
        remote: &str,
        dst: &mut dyn Write,
        offset: u64,
        limit: Option<u64>,
        pump: &mut Pump<'_>,
    ) -> Result<u64, TransportError> {
        self.short_deadline();
        let mut file = self
            .sftp
            .open(Path::new(remote))
            .map_err(|e| remote_err(self.host(), "open", remote, &e))?;
        if offset > 0 {
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| io_remote(self.host(), "seek", remote, &e))?;
        }
        let site = CopySite::starting(self.host(), "read", remote, true, pump);
        let got = pump
            .copy(&mut file, dst, limit, IoHooks::ssh(&self.session))
            .map_err(|e| e.at(&site, io_reason))?;
        Ok(got)
    }

    /// Rename `from` to `to`, replacing `to`. Servers that speak SFTP v3 (OpenSSH) refuse
    /// to rename over an existing file; then `to` is removed first (the caller prefers an
    /// atomic `mv` on an exec channel when the host has a shell).
    pub fn rename(&self, from: &str, to: &str) -> Result<(), TransportError> {
        self.short_deadline();
        let flags = RenameFlags::OVERWRITE | RenameFlags::ATOMIC | RenameFlags::NATIVE;
        match self
            .sftp
            .rename(Path::new(from), Path::new(to), Some(flags))
        {
            Ok(()) => Ok(()),
            Err(first) => {
                if self.stat(to)?.is_some() {
                    self.remove(to)?;
                    self.short_deadline();
                    self.sftp
                        .rename(Path::new(from), Path::new(to), Some(flags))
                        .map_err(|e| remote_err(self.host(), "rename into", to, &e))
                } else {
                    Err(remote_err(self.host(), "rename into", to, &first))
                }
            }
        }
    }

    /// Rename `from` to `to` only if nothing is at `to` (SFTP v3 semantics: the server
    /// refuses to replace), which makes it atomic without the extension OpenSSH needs for
    /// replacing renames.
    pub fn rename_new(&self, from: &str, to: &str) -> Result<(), TransportError> {
        self.short_deadline();
        self.sftp
            .rename(Path::new(from), Path::new(to), Some(RenameFlags::ATOMIC))
            .map_err(|e| remote_err(self.host(), "rename into", to, &e))
    }

    pub fn chmod(&self, path: &str, mode: u32) -> Result<(), TransportError> {
        self.short_deadline();
        let st = FileStat {
            size: None,
            uid: None,
            gid: None,
            perm: Some(mode),
            atime: None,
            mtime: None,
        };
        self.sftp
            .setstat(Path::new(path), st)
            .map_err(|e| remote_err(self.host(), "set the mode of", path, &e))
    }

    /// Remove a file; a file already gone is fine.
    pub fn remove(&self, path: &str) -> Result<(), TransportError> {
        self.short_deadline();
        match self.sftp.unlink(Path::new(path)) {
            Ok(()) => Ok(()),
            Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => Ok(()),
            Err(e) => Err(remote_err(self.host(), "remove", path, &e)),
        }
    }

    /// Free bytes on the filesystem holding `dir` (OpenSSH's statvfs extension); `None`
    /// when the server cannot tell.
    pub fn free_space(&self, dir: &str) -> Option<u64> {
        self.short_deadline();
        let mut f = self.sftp.opendir(Path::new(dir)).ok()?;
        let st = f.statvfs().ok()?;
        Some(st.f_bavail.saturating_mul(st.f_frsize))
    }
}
